/*
 * api — see api.h.
 */
#include "api.h"
#include "app.h"
#include "engine.h"
#include "export.h"
#include "journal.h"
#include "log.h"
#include "metrics.h"
#include "risk.h"
#include "report.h"
#include "webhook.h"

#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define API_TRADES_DEFAULT 100
#define API_TRADES_MAX 1000
#define API_JOURNAL_DEFAULT 10
#define API_JOURNAL_MAX 500
#define API_POS_MAX 1024

static const char *const period_names[] = {"today", "week", "month", "all"};

/* ---- answers ---- */

static void reply(http_req *req, json_object *o)
{
    if (!o) {
        http_reply_error(req, 500, "out of memory");
        return;
    }
    json_object_object_add(o, "ok", json_object_new_boolean(1));
    http_reply_json(req, 200, json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
                                                                    JSON_C_TO_STRING_NOSLASHESCAPE));
    json_object_put(o);
}

static void add_str(json_object *o, const char *k, const char *v) { json_object_object_add(o, k, json_object_new_string(v)); }
static void add_int(json_object *o, const char *k, int64_t v) { json_object_object_add(o, k, json_object_new_int64(v)); }
static void add_num(json_object *o, const char *k, double v) { json_object_object_add(o, k, json_object_new_double(v)); }
static void add_bool(json_object *o, const char *k, int v) { json_object_object_add(o, k, json_object_new_boolean(v)); }

/* ---- authentication and parameters ---- */

/* 1 when the request carries "Bearer <api.token>" (scheme case-insensitive). */
static int authorized(struct app *a, http_req *req)
{
    const char *h = http_req_header(req, "Authorization");
    if (!h || strncasecmp(h, "Bearer ", 7) != 0)
        return 0;
    h += 7;
    while (*h == ' ')
        h++;
    return webhook_secret_equal(h, a->cfg.api.token);
}

struct params {
    const char *const *allowed;
    char bad[64];
};

static int check_param(void *ud, const char *name, const char *value)
{
    struct params *p = ud;
    (void)value;
    for (const char *const *k = p->allowed; *k; k++)
        if (strcmp(*k, name) == 0)
            return 0;
    snprintf(p->bad, sizeof p->bad, "%.60s", name);
    return 1;
}

/* Authenticate, then refuse a parameter the endpoint does not take. 0 = go on. */
static int begin(struct app *a, http_req *req, const char *const *allowed, const char *list)
{
    if (!authorized(a, req)) {
        LOG_I("api", "401 from %s for %s", http_req_ip(req), http_req_path(req));
        http_reply_error(req, 401, "missing or bad bearer token");
        return -1;
    }
    struct params p = {allowed, ""};
    if (http_req_query_each(req, check_param, &p)) {
        char msg[200];
        snprintf(msg, sizeof msg, "%s: unknown parameter (parameters: %s)", p.bad, list[0] ? list : "none");
        http_reply_error(req, 400, msg);
        return -1;
    }
    return 0;
}

/* An integer parameter in [lo, hi]; *out = def when absent. 0, or -1 after a 400. */
static int int_param(http_req *req, const char *name, long long lo, long long hi, long long def, long long *out)
{
    const char *v = http_req_query(req, name);
    char *end, msg[160];
    *out = def;
    if (!v)
        return 0;
    errno = 0;
    long long n = strtoll(v, &end, 10);
    if (!*v || *end || errno || n < lo || n > hi) {
        snprintf(msg, sizeof msg, "%s: expected an integer %lld..%lld, got \"%.40s\"", name, lo, hi, v);
        http_reply_error(req, 400, msg);
        return -1;
    }
    *out = n;
    return 0;
}

/* The plugin named by ?plugin= (required or not); NULL with *failed after a 400. */
static struct plugin *plugin_param(struct app *a, http_req *req, int required, int *failed)
{
    const char *v = http_req_query(req, "plugin");
    char msg[160];
    *failed = 0;
    if (!v && !required)
        return NULL;
    struct plugin *p = v ? reg_find(&a->reg, v) : NULL;
    if (!p) {
        if (v)
            snprintf(msg, sizeof msg, "plugin: unknown plugin \"%.64s\"", v);
        else
            snprintf(msg, sizeof msg, "plugin: required");
        http_reply_error(req, 400, msg);
        *failed = 1;
    }
    return p;
}

/* ---- endpoints ---- */

static void plugin_counts(struct app *a, struct plugin *p, int *n, double *floating)
{
    static zx_position pos[API_POS_MAX];         /* loop thread only */
    *n = 0;
    *floating = 0;
    if (!a->eng || p->st == PLG_FAILED)
        return;
    int k = eng_positions(a->eng, p, pos, API_POS_MAX);
    for (int i = 0; i < k; i++)
        *floating += pos[i].current_price > 0 ? pos[i].profit_money : 0;
    *n = k > 0 ? k : 0;
}

static void on_status(void *ud, http_req *req)
{
    static const char *const none[] = {NULL};
    struct app *a = ud;
    if (begin(a, req, none, ""))
        return;
    json_object *o = json_object_new_object(), *pl = json_object_new_object(), *acc;
    char started[32];
    double bal, eq;
    int online = eng_broker_online(a->eng);
    ldg_format_time(a->started_ms, started, sizeof started);
    add_str(o, "version", ZEPIX_VERSION);
    add_int(o, "uptime_s", (int64_t)(ev_now(a->loop) - a->started_mono));
    add_str(o, "started_at", started);
    add_str(o, "broker", eng_broker_kind(a->eng));
    json_object_object_add(o, "terminal_online", online < 0 ? NULL : json_object_new_boolean(online));
    add_bool(o, "paused", a->paused);
    json_object_object_add(o, "risk_paused", a->risk && risk_paused(a->risk, "")
                           ? json_object_new_string(risk_paused(a->risk, "")) : NULL);
    add_int(o, "open_trades", (int64_t)eng_open_count(a->eng));
    /* "Today" as /status: the UTC day. */
    add_int(o, "signals_today_utc", jrn_count_since(a, app_now_ms() / 86400000 * 86400000));
    if (eng_account(a->eng, &bal, &eq) == 0 && (acc = json_object_new_object())) {
        add_num(acc, "balance", bal);
        add_num(acc, "equity", eq);
        json_object_object_add(o, "account", acc);
    }
    for (int st = PLG_LOADED; st <= PLG_FAILED; st++)
        add_int(pl, reg_state_name((enum plg_state)st), (int64_t)reg_count_state(&a->reg, (enum plg_state)st));
    add_int(pl, "total", (int64_t)a->reg.n);
    json_object_object_add(o, "plugins", pl);
    reply(req, o);
}

static void on_plugins(void *ud, http_req *req)
{
    static const char *const none[] = {NULL};
    struct app *a = ud;
    if (begin(a, req, none, ""))
        return;
    json_object *o = json_object_new_object(), *arr = json_object_new_array();
    for (size_t i = 0; i < a->reg.n; i++) {
        struct plugin *p = a->reg.v[i];
        json_object *e = json_object_new_object();
        int n;
        double fl;
        plugin_counts(a, p, &n, &fl);
        add_str(e, "id", p->id);
        json_object_object_add(e, "name", p->def && p->def->name ? json_object_new_string(p->def->name) : NULL);
        json_object_object_add(e, "version", p->def && p->def->version ? json_object_new_string(p->def->version) : NULL);
        add_str(e, "state", reg_state_name(p->st));
        json_object_object_add(e, "reason", p->st == PLG_FAILED ? json_object_new_string(p->reason) : NULL);
        add_bool(e, "paused", metrics_plugin_paused(a, p));
        json_object_object_add(e, "risk_paused", a->risk && risk_paused(a->risk, p->id)
                               ? json_object_new_string(risk_paused(a->risk, p->id)) : NULL);
        add_int(e, "open_trades", n);
        add_num(e, "floating_profit", fl);
        json_object_array_add(arr, e);
    }
    json_object_object_add(o, "plugins", arr);
    reply(req, o);
}

static void trade_row(void *ud, sqlite3_stmt *row)
{
    json_object *arr = ud, *t = json_object_new_object();
    for (size_t i = 0; i < exp_n_columns; i++) {
        int c = (int)i;
        json_object *v = NULL;
        if (sqlite3_column_type(row, c) != SQLITE_NULL) {
            switch (exp_columns[i].kind) {
            case EXP_INT: v = json_object_new_int64(sqlite3_column_int64(row, c)); break;
            case EXP_REAL: v = json_object_new_double(sqlite3_column_double(row, c)); break;
            case EXP_TEXT: v = json_object_new_string((const char *)sqlite3_column_text(row, c)); break;
            }
        }
        json_object_object_add(t, exp_columns[i].name, v);
    }
    json_object_array_add(arr, t);
}

static void on_trades(void *ud, http_req *req)
{
    static const char *const keys[] = {"plugin", "since", "limit", NULL};
    struct app *a = ud;
    long long since, limit;
    int failed;
    char err[256];
    if (begin(a, req, keys, "plugin, since, limit"))
        return;
    struct plugin *p = plugin_param(a, req, 1, &failed);
    if (failed || int_param(req, "since", 0, 253402300799LL, 0, &since) ||
        int_param(req, "limit", 1, API_TRADES_MAX, API_TRADES_DEFAULT, &limit))
        return;
    json_object *o = json_object_new_object(), *arr = json_object_new_array();
    int n = p->ldg ? exp_each_trade(ldg_db(p->ldg), since * 1000, 0, 0, (int)limit + 1, trade_row, arr, err,
                                    sizeof err) : 0;
    if (n < 0) {
        json_object_put(arr);
        json_object_put(o);
        http_reply_error(req, 500, err);
        return;
    }
    /* One row more than asked tells whether there are more. */
    if (n > limit)
        json_object_array_del_idx(arr, (size_t)limit, 1);
    add_str(o, "plugin", p->id);
    add_bool(o, "more", n > limit);
    json_object_object_add(o, "trades", arr);
    reply(req, o);
}

static json_object *stats_json(const char *id, const struct ldg_stats *s)
{
    json_object *e = json_object_new_object();
    if (id)
        add_str(e, "plugin", id);
    add_int(e, "trades", s->trades);
    add_int(e, "wins", s->wins);
    add_int(e, "losses", s->losses);
    add_num(e, "win_rate", s->win_rate);
    add_num(e, "profit", s->profit);
    add_num(e, "max_drawdown", s->max_drawdown);
    return e;
}

static void on_stats(void *ud, http_req *req)
{
    static const char *const keys[] = {"plugin", "period", NULL};
    struct app *a = ud;
    int failed;
    enum rpt_period per = RPT_TODAY;
    char title[128], note[96], err[256], from[32];
    struct rpt r;
    if (begin(a, req, keys, "plugin, period"))
        return;
    struct plugin *p = plugin_param(a, req, 0, &failed);
    if (failed)
        return;
    const char *pv = http_req_query(req, "period");
    if (pv) {
        size_t k = 0;
        while (k < 4 && strcmp(pv, period_names[k]) != 0)
            k++;
        if (k == 4) {
            char msg[160];
            snprintf(msg, sizeof msg, "period: expected today, week, month or all, got \"%.40s\"", pv);
            http_reply_error(req, 400, msg);
            return;
        }
        per = (enum rpt_period)k;
    }
    if (rpt_query(a, p ? p->id : "", per, app_now_ms(), &r, title, sizeof title, note, sizeof note, err,
                  sizeof err)) {
        http_reply_error(req, 500, err);
        return;
    }
    json_object *o = json_object_new_object(), *arr = json_object_new_array();
    add_str(o, "period", period_names[per]);
    ldg_format_time(r.from_ms, from, sizeof from);
    json_object_object_add(o, "from", per == RPT_ALL ? NULL : json_object_new_string(from));
    for (size_t i = 0; i < r.n_rows; i++)
        json_object_array_add(arr, stats_json(r.rows[i].id, &r.rows[i].st));
    json_object_object_add(o, "plugins", arr);
    json_object_object_add(o, "total", stats_json(NULL, &r.total));
    rpt_free(&r);
    reply(req, o);
}

/* The last n signals, newest first, each with its outcome per plugin. */
static int journal_json(sqlite3 *db, int n, json_object *arr, char *err, size_t errlen)
{
    static const char *const cols[] = {"id", "source", "ext_id", "received_ms", "plugin", "action", "symbol",
                                       "price", "sl", "tp", "lot", "comment", "state", "finished_ms"};
    sqlite3_stmt *s = NULL, *r = NULL;
    int rc = -1, step;
    if (sqlite3_prepare_v2(db, "SELECT id, source, ext_id, received_ms, plugin, action, symbol, price, sl, tp,"
                               " lot, comment, state, finished_ms FROM signals ORDER BY id DESC LIMIT ?1",
                           -1, &s, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db, "SELECT plugin, status, trade_id, reason FROM signal_results"
                               " WHERE signal_id = ?1 ORDER BY plugin", -1, &r, NULL) != SQLITE_OK ||
        sqlite3_bind_int(s, 1, n) != SQLITE_OK)
        goto fail;
    while ((step = sqlite3_step(s)) == SQLITE_ROW) {
        json_object *e = json_object_new_object(), *res = json_object_new_array();
        for (int c = 0; c < (int)(sizeof cols / sizeof cols[0]); c++) {
            json_object *v = NULL;
            switch (sqlite3_column_type(s, c)) {
            case SQLITE_INTEGER: v = json_object_new_int64(sqlite3_column_int64(s, c)); break;
            case SQLITE_FLOAT: v = json_object_new_double(sqlite3_column_double(s, c)); break;
            case SQLITE_TEXT: v = json_object_new_string((const char *)sqlite3_column_text(s, c)); break;
            default: break;
            }
            json_object_object_add(e, cols[c], v);
        }
        json_object_array_add(arr, e);
        sqlite3_reset(r);
        if (sqlite3_bind_int64(r, 1, sqlite3_column_int64(s, 0)) != SQLITE_OK)
            goto fail;
        while ((step = sqlite3_step(r)) == SQLITE_ROW) {
            json_object *x = json_object_new_object();
            add_str(x, "plugin", (const char *)sqlite3_column_text(r, 0));
            add_str(x, "status", (const char *)sqlite3_column_text(r, 1));
            json_object_object_add(x, "trade_id", sqlite3_column_type(r, 2) == SQLITE_NULL ? NULL
                                   : json_object_new_int64(sqlite3_column_int64(r, 2)));
            json_object_object_add(x, "reason", sqlite3_column_type(r, 3) == SQLITE_NULL ? NULL
                                   : json_object_new_string((const char *)sqlite3_column_text(r, 3)));
            json_object_array_add(res, x);
        }
        json_object_object_add(e, "results", res);
        if (step != SQLITE_DONE)
            goto fail;
    }
    if (step == SQLITE_DONE)
        rc = 0;
fail:
    if (rc)
        snprintf(err, errlen, "cannot read the journal: %s", sqlite3_errmsg(db));
    sqlite3_finalize(s);
    sqlite3_finalize(r);
    return rc;
}

static void on_journal(void *ud, http_req *req)
{
    static const char *const keys[] = {"n", NULL};
    struct app *a = ud;
    long long n;
    char err[256];
    if (begin(a, req, keys, "n") || int_param(req, "n", 1, API_JOURNAL_MAX, API_JOURNAL_DEFAULT, &n))
        return;
    json_object *o = json_object_new_object(), *arr = json_object_new_array();
    if (journal_json(a->db, (int)n, arr, err, sizeof err)) {
        json_object_put(arr);
        json_object_put(o);
        http_reply_error(req, 500, err);
        return;
    }
    json_object_object_add(o, "signals", arr);
    reply(req, o);
}

int api_register(struct app *a)
{
    if (!a->cfg.api.enabled)
        return 0;
    if (app_add_route(a, "GET", "/api/v1/status", on_status, a) ||
        app_add_route(a, "GET", "/api/v1/plugins", on_plugins, a) ||
        app_add_route(a, "GET", "/api/v1/trades", on_trades, a) ||
        app_add_route(a, "GET", "/api/v1/stats", on_stats, a) ||
        app_add_route(a, "GET", "/api/v1/journal", on_journal, a))
        return -1;
    return 0;
}
