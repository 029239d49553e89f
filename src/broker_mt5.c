/*
 * broker_mt5 — see broker_mt5.h. The wire format (SPEC section 10):
 *
 *   POST /mt5/poll {"secret","account":{...},"quotes":[...],"positions":[...],
 *                   "closed":[...],"results":[...]}
 *   -> {"requests":[{"request_id","op","symbol","side","volume","sl","tp",
 *                    "ticket","magic","comment"}]}
 *
 * Extensions the EA may send (optional, documented in docs/commands.md):
 * results[].profit and results[].deal (money and deal ticket of a close),
 * closed[].deal (the closing deal's ticket: a deal is applied once, also when
 * it is the deal of a close result), closed[].volume (lots closed; 0 or
 * absent = all), closed[].reason.
 *
 * Ownership: the poll body's json-c objects are freed before the handler
 * returns; the held request belongs to the listener (http.h) and is kept only
 * until its http_reply.
 */
#include "broker_mt5.h"
#include "signal.h"
#include "clock.h"
#include "jnum.h"
#include "jsonbody.h"
#include "log.h"
#include "quotes.h"
#include "sbuf.h"
#include "webhook.h"

#include <ctype.h>
#include <json-c/json.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MT5_MAGIC_SPAN 100000       /* magic = broker.mt5.magic_base + FNV-1a(plugin id) % span */
#define MT5_COMMENT_MAX 31          /* MT5 keeps 31 characters of an order's comment */
#define MT5_TIME_MIN 946684800LL    /* 2000-01-01: a poll's time fields lie in 2000..2100 */
#define MT5_TIME_MAX 4102444800LL   /* 2100-01-01 */
#define MT5_MAX_REQUESTS 100        /* per answer; the rest go in the next one */
#define MT5_MAX_ITEMS 1000          /* positions or closed deals read per poll */

enum { M_INSERT, M_PENDING, M_FIND, M_DONE, M_DEAL, M_DEAL_HAS, M_OPENS, M_KV_GET, M_KV_SET, M_N };

static const char *const msql[M_N] = {
    [M_INSERT] = "INSERT INTO mt5_requests (plugin, trade_id, op, payload, created_ms)"
                 " VALUES (?1, ?2, ?3, ?4, ?5)",
    [M_PENDING] = "SELECT request_id, payload FROM mt5_requests WHERE state = 'pending'"
                  " ORDER BY request_id LIMIT ?1",
    [M_FIND] = "SELECT plugin, trade_id, op, payload FROM mt5_requests"
               " WHERE request_id = ?1 AND state = 'pending'",
    [M_DONE] = "UPDATE mt5_requests SET state = 'done', result = ?2, done_ms = ?3"
               " WHERE request_id = ?1 AND state = 'pending'",
    [M_DEAL] = "INSERT OR IGNORE INTO mt5_deals (deal, ticket, applied_ms) VALUES (?1, ?2, ?3)",
    [M_DEAL_HAS] = "SELECT 1 FROM mt5_deals WHERE deal = ?1",
    [M_OPENS] = "SELECT plugin, trade_id, payload FROM mt5_requests WHERE state = 'pending' AND op = 'open'"
                " ORDER BY request_id LIMIT 1000",
    [M_KV_GET] = "SELECT value FROM kv WHERE key = ?1",
    [M_KV_SET] = "INSERT OR REPLACE INTO kv (key, value) VALUES (?1, ?2)",
};

struct mt5 {
    struct broker base;             /* first: base.self points back here */
    struct ev_loop *loop;           /* borrowed */
    sqlite3 *db;                    /* borrowed: the host database */
    const struct config *cfg;       /* borrowed */
    struct broker_sink sink;        /* where results, positions and quotes go */
    int stopping;                   /* quiesce() was called: polls are not held */
    sqlite3_stmt *st[M_N];
    struct quotes *qt;              /* owned */
    int have_account;
    int64_t login;
    double balance, equity;
    char currency[16];
    int online;                     /* a poll within stale_after_s */
    int told_offline;               /* the admins were told; tell them when it is back */
    double last_poll;               /* ev_now of the last poll, 0 = none yet */
    ev_timer stale;                 /* fires stale_after_s after the last poll */
    http_req *held;                 /* the held poll, or NULL */
    ev_timer hold;                  /* poll_hold_ms */
    ev_timer wake;                  /* 0 s: answer the held poll after this iteration's commits */
    char db_id[24];                 /* this database's id: request ids are namespaced by it */
    int64_t expect_login;           /* the account polls must come from; 0 = the first seen */
    int64_t told_login;             /* a refused login the admins were told about */
    int64_t told_orphan[64];        /* positions with zepix's magic but no trade, told once */
    size_t n_told_orphan;
};

static const char *broker_name(struct mt5 *m, const char *symbol, char *buf, size_t len);


static const struct broker_ops mt5_ops;

static sqlite3_stmt *mstmt(struct mt5 *m, int i)
{
    sqlite3_reset(m->st[i]);
    sqlite3_clear_bindings(m->st[i]);
    return m->st[i];
}

int mt5_is(const struct broker *b) { return b && b->ops == &mt5_ops; }

static uint32_t fnv1a(const char *s)
{
    uint32_t h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

static int64_t magic_of(const struct mt5 *m, const char *plugin)
{
    return m->cfg->broker.mt5_magic_base + fnv1a(plugin) % MT5_MAGIC_SPAN;
}

/* "zx:<plugin>:<id>", id the text of a trade id (or "o<order id>"). */
static void comment_of(const char *plugin, const char *id, char *out, size_t len)
{
    char cut[MT5_COMMENT_MAX + 1];
    int n = (int)strlen(id);
    if (3 + strlen(plugin) + 1 + (size_t)n <= MT5_COMMENT_MAX) {
        snprintf(out, len, "zx:%s:%s", plugin, id);
        return;
    }
    /* "zx:" + a prefix of the id + "~" + 4 hex digits of the whole id + ":" + trade id */
    int keep = MT5_COMMENT_MAX - 3 - 1 - 4 - 1 - n;
    if (keep < 1)
        keep = 1;
    snprintf(cut, sizeof cut, "%.*s", keep, plugin);
    snprintf(out, len, "zx:%s~%04x:%s", cut, (unsigned)(fnv1a(plugin) & 0xffff), id);
    if (strlen(out) > MT5_COMMENT_MAX)
        out[MT5_COMMENT_MAX] = '\0';
}

void mt5_comment(const char *plugin, int64_t trade_id, char *out, size_t len)
{
    char id[24];
    snprintf(id, sizeof id, "%lld", (long long)trade_id);
    comment_of(plugin, id, out, len);
}

void mt5_order_comment(const char *plugin, int64_t order_id, char *out, size_t len)
{
    char id[24];
    snprintf(id, sizeof id, "o%lld", (long long)order_id);
    comment_of(plugin, id, out, len);
}

static int is_order_op(const char *op)
{
    return strcmp(op, "pending") == 0 || strcmp(op, "cancel") == 0;
}

static const char *order_type_name(zx_action t)
{
    return t == ZX_BUY_LIMIT ? "buy_limit" : t == ZX_BUY_STOP ? "buy_stop" : t == ZX_SELL_LIMIT ? "sell_limit"
         : t == ZX_SELL_STOP ? "sell_stop" : "";
}

/* A working order's request fields (SPEC 12; docs/commands.md): its type,
 * entry price and expiry in UTC seconds (0 = good till cancelled). */
static void encode_order(json_object *o, const struct broker_request *rq)
{
    json_object_object_add(o, "type", json_object_new_string(order_type_name(rq->type)));
    json_object_object_add(o, "price", json_object_new_double(rq->price));
    json_object_object_add(o, "expiry", json_object_new_int64(rq->expiry_ms > 0 ? (rq->expiry_ms + 999) / 1000 : 0));
}

static int kv_get(struct mt5 *m, const char *key, char *out, size_t len)
{
    sqlite3_stmt *s = mstmt(m, M_KV_GET);
    sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW)
        snprintf(out, len, "%s", (const char *)sqlite3_column_text(s, 0));
    sqlite3_reset(s);
    return rc == SQLITE_ROW ? 0 : -1;
}

static int kv_set(struct mt5 *m, const char *key, const char *value)
{
    sqlite3_stmt *s = mstmt(m, M_KV_SET);
    sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, value, -1, SQLITE_STATIC);
    int rc = sqlite3_step(s);
    sqlite3_reset(s);
    return rc == SQLITE_DONE ? 0 : -1;
}

/* ---- quotes and account ---- */

static int mt5_quote(void *self, const char *symbol, double *bid, double *ask, int64_t *time_ms)
{
    struct mt5 *m = self;
    return qt_get(m->qt, symbol, bid, ask, time_ms);
}

static int mt5_set_quote(void *self, const char *symbol, double bid, double ask, int64_t time_ms, char *err,
                         size_t errlen)
{
    struct mt5 *m = self;
    return qt_set(m->qt, symbol, bid, ask, time_ms, err, errlen);
}

static int mt5_account(void *self, double *balance, double *equity)
{
    struct mt5 *m = self;
    if (!m->have_account)
        return -1;
    *balance = m->balance;
    *equity = m->equity;
    return 0;
}

static void mt5_describe(void *self, char *out, size_t len)
{
    const struct mt5 *m = self;
    double ago = m->last_poll > 0 ? ev_now(m->loop) - m->last_poll : -1;
    if (!m->online && ago < 0)
        snprintf(out, len, "MT5 terminal: OFFLINE (no poll since the start)");
    else if (!m->online)
        snprintf(out, len, "MT5 terminal: OFFLINE (no poll for %.0f s)", ago);
    else if (m->have_account)
        snprintf(out, len, "MT5 terminal: online (last poll %.1f s ago), account %lld %s", ago,
                 (long long)m->login, m->currency);
    else
        snprintf(out, len, "MT5 terminal: online (last poll %.1f s ago)", ago);
}

/* ---- liveness ---- */

static int mt5_ready(void *self, char *err, size_t errlen)
{
    struct mt5 *m = self;
    if (m->online)
        return 0;
    if (m->last_poll > 0)
        snprintf(err, errlen, "terminal offline: no poll from the MT5 terminal for %.0f s",
                 ev_now(m->loop) - m->last_poll);
    else
        snprintf(err, errlen, "terminal offline: the MT5 terminal has not polled since the start");
    return -1;
}

static void on_stale(struct ev_loop *loop, ev_timer *w, int revents)
{
    struct mt5 *m = w->data;
    (void)loop;
    (void)revents;
    m->online = 0;
    if (!m->told_offline) {
        char note[200];
        m->told_offline = 1;
        snprintf(note, sizeof note, "MT5 terminal offline: no poll for %d s; orders fail until it is back",
                 m->cfg->broker.mt5_stale_after_s);
        m->sink.note(m->sink.ud, note);
    }
}

static void alive(struct mt5 *m)
{
    m->last_poll = ev_now(m->loop);
    ev_timer_again(m->loop, &m->stale);
    if (m->online)
        return;
    m->online = 1;
    if (m->told_offline) {
        m->told_offline = 0;
        m->sink.note(m->sink.ud, "MT5 terminal back online: orders go through again");
    } else {
        LOG_I("mt5", "terminal connected");
    }
}

/* ---- requests and the held poll ---- */

/* The answer: every pending request, oldest first. */
static void answer(struct mt5 *m, http_req *req)
{
    struct sbuf b;
    sqlite3_stmt *s = mstmt(m, M_PENDING);
    int n = 0, rc;
    sbuf_init(&b);
    sbuf_printf(&b, "{\"db\":\"%s\",\"login\":%lld,\"magic_base\":%ld,\"magic_span\":%d,\"requests\":[",
                m->db_id, (long long)m->expect_login, m->cfg->broker.mt5_magic_base, MT5_MAGIC_SPAN);
    sqlite3_bind_int(s, 1, MT5_MAX_REQUESTS);
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        const char *payload = (const char *)sqlite3_column_text(s, 1);
        if (!payload || payload[0] != '{')
            continue;
        sbuf_printf(&b, "%s{\"request_id\":%lld,%s", n++ ? "," : "", (long long)sqlite3_column_int64(s, 0),
                    payload + 1);
    }
    if (rc != SQLITE_DONE)
        LOG_E("mt5", "reading pending requests: %s", sqlite3_errmsg(m->db));
    sqlite3_reset(s);
    sbuf_puts(&b, "]}");
    if (n)
        LOG_D("mt5", "poll answered with %d request(s)", n);
    if (sbuf_failed(&b))
        http_reply_error(req, 503, "out of memory");
    else
        http_reply_json(req, 200, sbuf_str(&b));
    sbuf_free(&b);
}

static void release(struct mt5 *m)
{
    http_req *r = m->held;
    if (!r)
        return;
    m->held = NULL;
    ev_timer_stop(m->loop, &m->hold);
    ev_timer_stop(m->loop, &m->wake);
    answer(m, r);
}

static void on_release(struct ev_loop *loop, ev_timer *w, int revents)
{
    (void)loop;
    (void)revents;
    release(w->data);
}

static void mt5_quiesce(void *self)
{
    struct mt5 *m = self;
    m->stopping = 1;            /* polls from now on are answered at once */
    release(m);
}

static int mt5_submit(void *self, const struct broker_request *rq, int64_t *request_id, char *err,
                      size_t errlen)
{
    struct mt5 *m = self;
    char comment[MT5_COMMENT_MAX + 1];
    if (is_order_op(rq->op))
        mt5_order_comment(rq->plugin, rq->trade_id, comment, sizeof comment);
    else
        mt5_comment(rq->plugin, rq->trade_id, comment, sizeof comment);
    json_object *o = json_object_new_object();
    if (!o) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    json_object_object_add(o, "op", json_object_new_string(rq->op));
    char bname[32];
    json_object_object_add(o, "symbol", json_object_new_string(broker_name(m, rq->symbol, bname, sizeof bname)));
    json_object_object_add(o, "side", json_object_new_string(rq->side == ZX_SELL ? "sell" : "buy"));
    json_object_object_add(o, "volume", json_object_new_double(rq->volume));
    json_object_object_add(o, "sl", json_object_new_double(rq->sl));
    json_object_object_add(o, "tp", json_object_new_double(rq->tp));
    json_object_object_add(o, "ticket", json_object_new_int64(rq->ticket));
    json_object_object_add(o, "magic", json_object_new_int64(magic_of(m, rq->plugin)));
    json_object_object_add(o, "comment", json_object_new_string(comment));
    if (is_order_op(rq->op))
        encode_order(o, rq);
    const char *payload = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
    sqlite3_stmt *s = mstmt(m, M_INSERT);
    sqlite3_bind_text(s, 1, rq->plugin, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(s, 2, rq->trade_id);
    sqlite3_bind_text(s, 3, rq->op, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(s, 4, payload, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(s, 5, clk_now_ms());
    int rc = sqlite3_step(s);
    sqlite3_reset(s);
    json_object_put(o);
    if (rc != SQLITE_DONE) {
        snprintf(err, errlen, "cannot queue the request for the terminal: %s", sqlite3_errmsg(m->db));
        return -1;
    }
    *request_id = sqlite3_last_insert_rowid(m->db);
    LOG_I("mt5", "request %lld queued: %s %s #%lld", (long long)*request_id, rq->op, rq->plugin,
          (long long)rq->trade_id);
    /* Not released here: the signal's trades and this request commit at the
     * end of this loop iteration (journal.c); the held poll goes right after. */
    if (m->held && !ev_is_active(&m->wake))
        ev_timer_start(m->loop, &m->wake);
    return 0;
}

/* ---- reading a poll ---- */

static json_object *member(json_object *o, const char *key, json_type type)
{
    json_object *v;
    if (!o || !json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, type))
        return NULL;
    return v;
}

/* A number (or numeric string) member; def when absent or unreadable. */
static double num(json_object *o, const char *key, double def)
{
    double d;
    return o && jnum_member(o, key, &d) == 0 && isfinite(d) ? d : def;
}

static int64_t inum(json_object *o, const char *key)
{
    json_object *v;
    if (!o || !json_object_object_get_ex(o, key, &v))
        return 0;
    if (json_object_is_type(v, json_type_int))
        return json_object_get_int64(v);
    if (json_object_is_type(v, json_type_string))
        return strtoll(json_object_get_string(v), NULL, 10);
    return (int64_t)num(o, key, 0);
}

static const char *str(json_object *o, const char *key)
{
    json_object *v = member(o, key, json_type_string);
    return v ? json_object_get_string(v) : "";
}

/* Upper-cased, exchange prefix dropped, [A-Z0-9._]{1,31}; 0 or -1. */
/* The zepix symbol of a name the terminal reported: a configured symbol whose
 * broker_symbol it is, else the signal grammar's rule in the configured
 * spelling (the one symbol rule, signal.h). */
static int symbol_of(struct mt5 *m, const char *s, char *out, size_t outlen)
{
    char sym[SIG_SYMBOL_MAX + 1];
    for (size_t i = 0; i < m->cfg->n_symbols; i++)
        if (m->cfg->symbols[i].broker_symbol[0] && strcmp(m->cfg->symbols[i].broker_symbol, s) == 0) {
            snprintf(out, outlen, "%s", m->cfg->symbols[i].name);
            return 0;
        }
    if (sig_symbol_norm(s, strlen(s), sym) != 0 || strlen(sym) >= outlen)
        return -1;
    snprintf(out, outlen, "%s", cfg_symbol_get(m->cfg, sym).name);
    return 0;
}

/* The name the terminal knows a zepix symbol by (symbols.<S>.broker_symbol). */
static const char *broker_name(struct mt5 *m, const char *symbol, char *buf, size_t len)
{
    struct cfg_symbol cs = cfg_symbol_get(m->cfg, symbol);
    snprintf(buf, len, "%s", cs.broker_symbol[0] ? cs.broker_symbol : symbol);
    return buf;
}

static void read_account(struct mt5 *m, json_object *acc)
{
    if (!acc)
        return;
    double bal = num(acc, "balance", NAN), eq = num(acc, "equity", NAN);
    if (!isfinite(bal) || !isfinite(eq))
        return;
    m->have_account = 1;
    m->balance = bal;
    m->equity = eq;
    m->login = inum(acc, "login");
    snprintf(m->currency, sizeof m->currency, "%s", str(acc, "currency"));
}

static void read_quotes(struct mt5 *m, json_object *quotes)
{
    size_t n = quotes ? json_object_array_length(quotes) : 0;
    for (size_t i = 0; i < n; i++) {
        json_object *q = json_object_array_get_idx(quotes, i);
        char sym[32], err[200];
        double bid = num(q, "bid", 0), ask = num(q, "ask", 0);
        if (symbol_of(m, str(q, "symbol"), sym, sizeof sym) || qt_check(sym, bid, ask, NULL, 0)) {
            LOG_W("mt5", "quote %zu ignored: needs a symbol, bid > 0 and ask >= bid", i);
            continue;
        }
        if (m->sink.quote(m->sink.ud, sym, bid, ask, err, sizeof err))
            LOG_W("mt5", "quote %s: %s", sym, err);
    }
}

/* Apply each result whose request is still pending, exactly once. */
static void read_results(struct mt5 *m, json_object *results)
{
    size_t n = results ? json_object_array_length(results) : 0;
    for (size_t i = 0; i < n; i++) {
        json_object *r = json_object_array_get_idx(results, i);
        int64_t id = inum(r, "request_id");
        if (strcmp(str(r, "db"), m->db_id) != 0) {
            /* A result for another zepix database's request of the same number. */
            LOG_W("mt5", "result %zu (request %lld) ignored: its db \"%.*s\" is not this database's %s", i,
                  (long long)id, (int)sbuf_utf8_prefix(str(r, "db"), 40), str(r, "db"), m->db_id);
            continue;
        }
        sqlite3_stmt *s = mstmt(m, M_FIND);
        sqlite3_bind_int64(s, 1, id);
        if (sqlite3_step(s) != SQLITE_ROW) {
            sqlite3_reset(s);
            LOG_D("mt5", "result of request %lld: already applied or unknown, ignored", (long long)id);
            continue;
        }
        char plugin[64], op[16], *payload = strdup((const char *)sqlite3_column_text(s, 3));
        snprintf(plugin, sizeof plugin, "%s", (const char *)sqlite3_column_text(s, 0));
        int64_t trade_id = sqlite3_column_int64(s, 1);
        snprintf(op, sizeof op, "%s", (const char *)sqlite3_column_text(s, 2));
        sqlite3_reset(s);
        s = mstmt(m, M_DONE);
        sqlite3_bind_int64(s, 1, id);
        sqlite3_bind_text(s, 2, json_object_to_json_string_ext(r, JSON_C_TO_STRING_PLAIN), -1,
                          SQLITE_TRANSIENT);
        sqlite3_bind_int64(s, 3, clk_now_ms());
        int rc = sqlite3_step(s);
        sqlite3_reset(s);
        if (rc != SQLITE_DONE || sqlite3_changes(m->db) != 1) {
            LOG_E("mt5", "result of request %lld not applied: %s", (long long)id, sqlite3_errmsg(m->db));
            free(payload);
            continue;
        }
        int deal_applied = 0;
        if (strcmp(op, "close") == 0 && inum(r, "deal") > 0) {
            /* Its deal may come again in closed[]: it is this close, applied here
             * (or, when closed[] brought it first, applied there already). */
            sqlite3_stmt *d = mstmt(m, M_DEAL);
            sqlite3_bind_int64(d, 1, inum(r, "deal"));
            sqlite3_bind_int64(d, 2, inum(r, "ticket"));
            sqlite3_bind_int64(d, 3, clk_now_ms());
            int drc = sqlite3_step(d);
            sqlite3_reset(d);
            deal_applied = drc == SQLITE_DONE && sqlite3_changes(m->db) == 0;
        }
        json_object *pl = payload ? json_tokener_parse(payload) : NULL, *ok = member(r, "ok", json_type_boolean);
        struct broker_result br = {
            .op = op, .plugin = plugin, .trade_id = trade_id, .ok = ok && json_object_get_boolean(ok),
            .ticket = inum(r, "ticket"), .price = num(r, "price", 0), .volume = num(r, "volume", 0),
            .profit = num(r, "profit", NAN), .sl = num(pl, "sl", 0), .tp = num(pl, "tp", 0),
            .error = str(r, "error"), .deal_applied = deal_applied,
        };
        if (!br.error[0] && !br.ok)
            br.error = "no reason given";
        LOG_I("mt5", "result of request %lld (%s %s #%lld): %s%s", (long long)id, op, plugin,
              (long long)trade_id, br.ok ? "ok" : "failed: ", br.ok ? "" : br.error);
        m->sink.result(m->sink.ud, &br);
        json_object_put(pl);
        free(payload);
    }
}

static int read_closed(struct mt5 *m, json_object *arr, struct broker_closed *out, int max)
{
    int n = 0;
    size_t len = arr ? json_object_array_length(arr) : 0;
    for (size_t i = 0; i < len && n < max; i++) {
        json_object *c = json_object_array_get_idx(arr, i);
        int64_t deal = inum(c, "deal");
        if (deal > 0) {             /* the same closing deal reported again: applied already */
            sqlite3_stmt *s = mstmt(m, M_DEAL);
            sqlite3_bind_int64(s, 1, deal);
            sqlite3_bind_int64(s, 2, inum(c, "ticket"));
            sqlite3_bind_int64(s, 3, clk_now_ms());
            int rc = sqlite3_step(s);
            sqlite3_reset(s);
            if (rc != SQLITE_DONE || sqlite3_changes(m->db) != 1)
                continue;
        }
        struct broker_closed *bc = &out[n];
        memset(bc, 0, sizeof *bc);
        bc->ticket = inum(c, "ticket");
        bc->price = num(c, "price_close", 0);
        bc->profit = num(c, "profit", NAN);
        bc->volume = num(c, "volume", 0);
        /* seconds, UTC; mt5_check_poll() kept it in 2000..2100 (0 = absent: now) */
        double t = num(c, "time", 0);
        bc->time_ms = t >= MT5_TIME_MIN && t <= MT5_TIME_MAX ? (int64_t)t * 1000 : 0;
        snprintf(bc->reason, sizeof bc->reason, "%s", str(c, "reason")[0] ? str(c, "reason") : "terminal");
        if (bc->ticket > 0 && bc->price > 0)
            n++;
    }
    return n;
}

/* The pending open request whose comment, magic and symbol are this
 * position's: the trade it was opened for. */
static void match_open(struct mt5 *m, struct broker_position *bp, int64_t magic)
{
    sqlite3_stmt *s = mstmt(m, M_OPENS);
    while (bp->comment[0] && sqlite3_step(s) == SQLITE_ROW) {
        json_object *pl = json_tokener_parse((const char *)sqlite3_column_text(s, 2));
        char bname[32];
        int same = pl && strcmp(str(pl, "comment"), bp->comment) == 0 && inum(pl, "magic") == magic &&
                   strcmp(str(pl, "symbol"), broker_name(m, bp->symbol, bname, sizeof bname)) == 0;
        json_object_put(pl);
        if (same) {
            snprintf(bp->plugin, sizeof bp->plugin, "%s", (const char *)sqlite3_column_text(s, 0));
            bp->trade_id = sqlite3_column_int64(s, 1);
            break;
        }
    }
    sqlite3_reset(s);
}

static int read_positions(struct mt5 *m, json_object *arr, struct broker_position *out, int max)
{
    int n = 0;
    size_t len = json_object_array_length(arr);
    for (size_t i = 0; i < len && n < max; i++) {
        json_object *p = json_object_array_get_idx(arr, i);
        struct broker_position *bp = &out[n];
        memset(bp, 0, sizeof *bp);
        bp->ticket = inum(p, "ticket");
        if (symbol_of(m, str(p, "symbol"), bp->symbol, sizeof bp->symbol))
            bp->symbol[0] = '\0';
        bp->side = strcmp(str(p, "type"), "sell") == 0 ? ZX_SELL : ZX_BUY;
        bp->volume = num(p, "volume", 0);
        bp->price_open = num(p, "price_open", 0);
        bp->sl = num(p, "sl", 0);
        bp->tp = num(p, "tp", 0);
        bp->profit = num(p, "profit", NAN);
        snprintf(bp->comment, sizeof bp->comment, "%s", str(p, "comment"));
        if (bp->ticket > 0) {
            match_open(m, bp, inum(p, "magic"));
            n++;
        }
    }
    return n;
}

/* A position the EA reports as zepix's (its magic) that no trade watches: an
 * order run twice, or a trade zepix closed while it stayed open. The admins
 * are told once per ticket; zepix does not touch it. */
static void orphan(struct mt5 *m, const struct broker_position *bp)
{
    if (m->sink.knows_ticket(m->sink.ud, bp->ticket) || bp->plugin[0])
        return;
    for (size_t i = 0; i < m->n_told_orphan; i++)
        if (m->told_orphan[i] == bp->ticket)
            return;
    size_t cap = sizeof m->told_orphan / sizeof m->told_orphan[0];
    if (m->n_told_orphan < cap)
        m->told_orphan[m->n_told_orphan++] = bp->ticket;
    else
        m->told_orphan[(size_t)bp->ticket % cap] = bp->ticket;     /* bounded: may tell again */
    char note[300];
    snprintf(note, sizeof note, "MT5 position %lld (%s %.2f %s, comment \"%.*s\") has zepix's magic but no zepix "
             "trade: check it in the terminal; zepix does not manage it", (long long)bp->ticket,
             bp->side == ZX_SELL ? "SELL" : "BUY", bp->volume, bp->symbol, (int)sbuf_utf8_prefix(bp->comment, 40),
             bp->comment);
    m->sink.note(m->sink.ud, note);
}

static zx_action order_type_of(const char *t)
{
    return strcmp(t, "buy_limit") == 0 ? ZX_BUY_LIMIT : strcmp(t, "buy_stop") == 0 ? ZX_BUY_STOP
         : strcmp(t, "sell_limit") == 0 ? ZX_SELL_LIMIT : strcmp(t, "sell_stop") == 0 ? ZX_SELL_STOP : 0;
}

/* The working orders of a trusted poll (orders[]: ticket, symbol, type,
 * volume, price, sl, tp, magic, comment) to the sink, with its positions. No
 * list, or a cut one, is -1: it says nothing about what is gone. */
static void read_orders(struct mt5 *m, json_object *body, int trusted, const struct broker_position *pos, int npos)
{
    json_object *arr = member(body, "orders", json_type_array);
    size_t len = arr ? json_object_array_length(arr) : 0;
    struct broker_order *ord = calloc(len ? len : 1, sizeof *ord);
    int n = 0;
    if (!ord) {
        LOG_E("mt5", "out of memory: working orders of this poll not reconciled");
        return;
    }
    for (size_t i = 0; i < len && len <= MT5_MAX_ITEMS; i++) {
        json_object *o = json_object_array_get_idx(arr, i);
        struct broker_order *bo = &ord[n];
        bo->ticket = inum(o, "ticket");
        if (symbol_of(m, str(o, "symbol"), bo->symbol, sizeof bo->symbol))
            bo->symbol[0] = '\0';
        bo->type = order_type_of(str(o, "type"));
        bo->volume = num(o, "volume", 0);
        bo->price = num(o, "price", 0);
        bo->sl = num(o, "sl", 0);
        bo->tp = num(o, "tp", 0);
        double exp = num(o, "expiration", 0);     /* UTC seconds; 0 = good till cancelled */
        bo->expiration_ms = exp >= MT5_TIME_MIN && exp <= MT5_TIME_MAX ? (int64_t)exp * 1000 : 0;
        snprintf(bo->comment, sizeof bo->comment, "%s", str(o, "comment"));
        if (bo->ticket > 0)
            n++;
    }
    if (!arr || !trusted || len > MT5_MAX_ITEMS)
        n = -1;
    m->sink.orders(m->sink.ud, ord, n, pos, npos);
    free(ord);
}

/* trusted: the positions are the whole truth of the expected account. */
static void read_trades(struct mt5 *m, json_object *body, int trusted)
{
    json_object *parr = member(body, "positions", json_type_array);
    json_object *carr = member(body, "closed", json_type_array);
    struct broker_position *pos = calloc(MT5_MAX_ITEMS, sizeof *pos);
    struct broker_closed *closed = calloc(MT5_MAX_ITEMS, sizeof *closed);
    if (pos && closed) {
        int nc = read_closed(m, carr, closed, MT5_MAX_ITEMS);
        int np = parr && trusted ? read_positions(m, parr, pos, MT5_MAX_ITEMS) : -1;
        if (np >= 0 && json_object_array_length(parr) > MT5_MAX_ITEMS)
            np = -1;                /* a cut list says nothing about what is missing */
        m->sink.sync(m->sink.ud, pos, np, closed, nc);
        read_orders(m, body, trusted, pos, np);
        for (int i = 0; i < np; i++)
            orphan(m, &pos[i]);
    } else {
        LOG_E("mt5", "out of memory: positions of this poll not reconciled");
    }
    free(pos);
    free(closed);
}

/* A time field: absent, or seconds since 1970 in 2000..2100. */
static int check_time(json_object *o, const char *arr, size_t i, const char *key, char *err, size_t errlen)
{
    json_object *v;
    if (!json_object_object_get_ex(o, key, &v) || json_object_is_type(v, json_type_null))
        return 0;
    double t = num(o, key, NAN);
    if (isfinite(t) && t >= MT5_TIME_MIN && t <= MT5_TIME_MAX)
        return 0;
    const char *got = json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN);
    snprintf(err, errlen, "%s[%zu].%s: expected UTC seconds since 1970 between %lld (2000) and %lld (2100), got %.*s",
             arr, i, key, MT5_TIME_MIN, MT5_TIME_MAX, (int)sbuf_utf8_prefix(got, 40), got);
    return -1;
}

int mt5_check_poll(json_object *body, char *err, size_t errlen)
{
    static const char *const arrays[] = {"quotes", "positions", "closed", "results", "orders"};
    json_object *v;
    if (!body || !json_object_is_type(body, json_type_object)) {
        snprintf(err, errlen, "body: expected a JSON object");
        return -1;
    }
    if (json_object_object_get_ex(body, "account", &v) && !json_object_is_type(v, json_type_object)) {
        snprintf(err, errlen, "account: expected an object");
        return -1;
    }
    for (size_t k = 0; k < sizeof arrays / sizeof arrays[0]; k++) {
        if (!json_object_object_get_ex(body, arrays[k], &v))
            continue;
        if (!json_object_is_type(v, json_type_array)) {
            snprintf(err, errlen, "%s: expected an array", arrays[k]);
            return -1;
        }
        size_t n = json_object_array_length(v);
        for (size_t i = 0; i < n; i++) {
            json_object *e = json_object_array_get_idx(v, i);
            if (!json_object_is_type(e, json_type_object)) {
                snprintf(err, errlen, "%s[%zu]: expected an object", arrays[k], i);
                return -1;
            }
            if (check_time(e, arrays[k], i, "time", err, errlen))
                return -1;
        }
    }
    return 0;
}

/* The account of a poll against the one zepix trades on: 0 = it is that
 * account (learnt from the first poll unless broker.mt5.login is set), -1 =
 * another one (answered 409, the admins told once per login). *trusted = the
 * positions can be believed (connected, logged in). */
static int check_login(struct mt5 *m, json_object *acc, http_req *req, int *trusted)
{
    json_object *c = member(acc, "connected", json_type_boolean);
    int64_t login = inum(acc, "login");
    *trusted = acc && login > 0 && (!c || json_object_get_boolean(c));
    if (login <= 0)
        return 0;                   /* not logged in: nothing to compare, positions unknown */
    if (m->expect_login == 0) {
        char v[32];
        snprintf(v, sizeof v, "%lld", (long long)login);
        if (kv_set(m, "mt5.login", v) == 0) {
            m->expect_login = login;
            LOG_I("mt5", "trading on MT5 account %lld from now on (broker.mt5.login pins it)", (long long)login);
        }
        return 0;
    }
    if (login == m->expect_login)
        return 0;
    char msg[300];
    snprintf(msg, sizeof msg, "account.login %lld is not the account zepix trades on (%lld): log the terminal in to "
             "%lld, or set broker.mt5.login and restart zepix", (long long)login, (long long)m->expect_login,
             (long long)m->expect_login);
    if (m->told_login != login) {
        char note[400];
        m->told_login = login;
        snprintf(note, sizeof note, "MT5 terminal refused: %s. Orders fail until it is back on %lld.", msg,
                 (long long)m->expect_login);
        m->sink.note(m->sink.ud, note);
    }
    LOG_W("mt5", "poll from %s refused: %s", http_req_ip(req), msg);
    http_reply_error(req, 409, msg);
    return -1;
}

void mt5_on_poll(void *ud, http_req *req)
{
    struct mt5 *m = ud;
    size_t len;
    const char *body = http_req_body(req, &len);
    json_object *o = jbody_object(body, len);
    if (!o) {
        http_reply_error(req, 401, "body: expected a JSON object with the secret");
        return;
    }
    if (!webhook_secret_equal(str(o, "secret"), m->cfg->broker.mt5_secret)) {
        json_object_put(o);
        LOG_W("mt5", "poll from %s refused: bad secret", http_req_ip(req));
        http_reply_error(req, 401, "bad secret");
        return;
    }
    char err[300];
    int trusted;
    if (mt5_check_poll(o, err, sizeof err)) {
        json_object_put(o);
        LOG_W("mt5", "poll from %s refused: %s", http_req_ip(req), err);
        http_reply_error(req, 400, err);
        return;
    }
    if (check_login(m, member(o, "account", json_type_object), req, &trusted)) {
        json_object_put(o);
        return;
    }
    alive(m);
    m->told_login = 0;
    read_account(m, member(o, "account", json_type_object));
    read_quotes(m, member(o, "quotes", json_type_array));
    read_results(m, member(o, "results", json_type_array));  /* fills before positions */
    read_trades(m, o, trusted);
    json_object_put(o);

    /* One held poll at most: a new one means the EA gave up on the old. */
    if (m->held) {
        http_req *old = m->held;
        m->held = NULL;
        ev_timer_stop(m->loop, &m->hold);
        ev_timer_stop(m->loop, &m->wake);
        answer(m, old);
    }
    sqlite3_stmt *s = mstmt(m, M_PENDING);
    sqlite3_bind_int(s, 1, 1);
    int pending = sqlite3_step(s) == SQLITE_ROW;
    sqlite3_reset(s);
    if (pending || m->cfg->broker.mt5_poll_hold_ms <= 0 || m->stopping) {
        answer(m, req);
        return;
    }
    m->held = req;
    http_suspend(req);
    ev_timer_set(&m->hold, m->cfg->broker.mt5_poll_hold_ms / 1000.0, 0.);
    ev_timer_start(m->loop, &m->hold);
}

/* ---- the broker_ops ---- */

static int mt5_not_sync(void *self, char *err, size_t errlen)
{
    (void)self;
    snprintf(err, errlen, "the mt5 broker is asynchronous: requests go through submit");
    return -1;
}

static int mt5_place(void *self, const char *symbol, zx_action side, double lot, double sl, double tp,
                     const char *comment, struct broker_fill *out, char *err, size_t errlen)
{
    (void)symbol, (void)side, (void)lot, (void)sl, (void)tp, (void)comment, (void)out;
    return mt5_not_sync(self, err, errlen);
}

static int mt5_close(void *self, int64_t ticket, const char *symbol, zx_action side, double lot,
                     struct broker_fill *out, char *err, size_t errlen)
{
    (void)ticket, (void)symbol, (void)side, (void)lot, (void)out;
    return mt5_not_sync(self, err, errlen);
}

static int mt5_modify(void *self, int64_t ticket, double sl, double tp, char *err, size_t errlen)
{
    (void)ticket, (void)sl, (void)tp;
    return mt5_not_sync(self, err, errlen);
}

static void mt5_destroy(void *self)
{
    struct mt5 *m = self;
    if (!m)
        return;
    /* A held request belongs to the listener, which answers it when it stops. */
    if (m->loop) {
        ev_timer_stop(m->loop, &m->stale);
        ev_timer_stop(m->loop, &m->hold);
        ev_timer_stop(m->loop, &m->wake);
    }
    for (int i = 0; i < M_N; i++)
        sqlite3_finalize(m->st[i]);
    qt_free(m->qt);
    free(m);
}

static const struct broker_ops mt5_ops = {
    .kind = "mt5",
    .async = 1,
    .ready = mt5_ready,
    .submit = mt5_submit,
    .place = mt5_place,
    .close = mt5_close,
    .modify = mt5_modify,
    .quote = mt5_quote,
    .set_quote = mt5_set_quote,
    .describe = mt5_describe,
    .quiesce = mt5_quiesce,
    .account = mt5_account,
    .destroy = mt5_destroy,
};

struct broker *mt5_new(struct ev_loop *loop, sqlite3 *db, const struct config *cfg, const struct broker_sink *sink,
                       char *err, size_t errlen)
{
    struct mt5 *m = calloc(1, sizeof *m);
    if (!m) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    m->loop = loop;
    m->db = db;
    m->cfg = cfg;
    m->sink = *sink;
    if (!(m->qt = qt_new())) {
        snprintf(err, errlen, "out of memory");
        free(m);
        return NULL;
    }
    m->base.ops = &mt5_ops;
    m->base.self = m;
    for (int i = 0; i < M_N; i++)
        if (sqlite3_prepare_v3(db, msql[i], -1, SQLITE_PREPARE_PERSISTENT, &m->st[i], NULL) != SQLITE_OK) {
            snprintf(err, errlen, "mt5 bridge: %s", sqlite3_errmsg(db));
            mt5_destroy(m);
            return NULL;
        }
    /* This database's id (request ids restart with a new one) and the account. */
    if (kv_get(m, "mt5.db_id", m->db_id, sizeof m->db_id)) {
        sqlite3_stmt *r = NULL;
        if (sqlite3_prepare_v2(db, "SELECT lower(hex(randomblob(8)))", -1, &r, NULL) == SQLITE_OK &&
            sqlite3_step(r) == SQLITE_ROW)
            snprintf(m->db_id, sizeof m->db_id, "%s", (const char *)sqlite3_column_text(r, 0));
        sqlite3_finalize(r);
        if (!m->db_id[0] || kv_set(m, "mt5.db_id", m->db_id)) {
            snprintf(err, errlen, "mt5 bridge: cannot store the database id: %s", sqlite3_errmsg(db));
            mt5_destroy(m);
            return NULL;
        }
    }
    char login[32];
    m->expect_login = cfg->broker.mt5_login;
    if (!m->expect_login && kv_get(m, "mt5.login", login, sizeof login) == 0)
        m->expect_login = strtoll(login, NULL, 10);
    ev_init(&m->stale, on_stale);
    m->stale.repeat = cfg->broker.mt5_stale_after_s;
    m->stale.data = m;
    ev_timer_again(loop, &m->stale);
    ev_init(&m->hold, on_release);
    m->hold.data = m;
    ev_timer_init(&m->wake, on_release, 0., 0.);
    m->wake.data = m;
    LOG_I("mt5", "waiting for the terminal's polls on POST /mt5/poll (hold %d ms, offline after %d s)",
          cfg->broker.mt5_poll_hold_ms, cfg->broker.mt5_stale_after_s);
    return &m->base;
}
