/*
 * preview — see preview.h.
 */
#include "preview.h"
#include "app.h"
#include "engine.h"
#include "log.h"
#include "sbuf.h"
#include "plugin_proc.h"
#include "journal.h"
#include "registry.h"
#include "risk.h"

#include <ftw.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The one preview running (previews are synchronous, on the loop thread). */
static struct {
    struct app *a;
    struct plugin *p;
    struct prv_result *r;
    int64_t next_id;
} cur;

static void note_order(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void note_order(const char *fmt, ...)
{
    size_t n = strlen(cur.r->orders);
    va_list ap;
    if (n + 2 >= sizeof cur.r->orders)
        return;
    if (n)
        cur.r->orders[n++] = ';', cur.r->orders[n++] = ' ';
    va_start(ap, fmt);
    vsnprintf(cur.r->orders + n, sizeof cur.r->orders - n, fmt, ap);
    va_end(ap);
}

/* ---- the stub API: reads go to the live plugin's handle, writes are recorded ---- */

static int s_place(zx_host *h, const zx_order_req *q, zx_order *out, char *err, size_t errlen)
{
    (void)h, (void)err, (void)errlen;
    note_order("%s %.2f %s sl %g tp %g", q->side == ZX_BUY ? "buy" : "sell", q->lot, q->symbol, q->sl, q->tp);
    if (out) {
        memset(out, 0, sizeof *out);
        out->trade_id = --cur.next_id;          /* negative: never a real trade */
        out->side = q->side;
        snprintf(out->symbol, sizeof out->symbol, "%s", q->symbol);
        out->lot = q->lot;
        out->sl = q->sl;
        out->tp = q->tp;
        eng_quote(cur.a->eng, q->symbol, &out->price, &out->price);
    }
    return 0;
}

static int s_close(zx_host *h, int64_t id, double lot, char *err, size_t errlen)
{
    (void)h, (void)err, (void)errlen;
    note_order("close #%lld%s", (long long)id, lot > 0 ? " (part)" : "");
    return 0;
}

static int s_modify(zx_host *h, int64_t id, double sl, double tp, char *err, size_t errlen)
{
    (void)h, (void)err, (void)errlen;
    note_order("modify #%lld sl %g tp %g", (long long)id, sl, tp);
    return 0;
}

static int s_notify(zx_host *h, const char *text)
{
    (void)h;
    LOG_D("preview", "%s would notify: %.*s", cur.p->id, (int)sbuf_utf8_prefix(text, 200), text);
    return 0;
}

static int s_open_trades(zx_host *h, zx_position *out, int max)
{
    (void)h;
    return cur.a->reg.api.open_trades(cur.p->host, out, max);
}

static int s_quote(zx_host *h, const char *symbol, double *bid, double *ask)
{
    (void)h;
    return cur.a->reg.api.quote(cur.p->host, symbol, bid, ask);
}

static void s_log(zx_host *h, int level, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    (void)h;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    LOG_D("preview", "%s (preview, level %d): %s", cur.p->id, level, msg);
}

static int s_account(zx_host *h, double *balance, double *equity)
{
    (void)h;
    return cur.a->reg.api.account(cur.p->host, balance, equity);
}

static int s_symbol_info(zx_host *h, const char *symbol, double *pip_size, double *pip_value)
{
    (void)h;
    return cur.a->reg.api.symbol_info(cur.p->host, symbol, pip_size, pip_value);
}

static zx_api stub_api(struct app *a)
{
    zx_api api = a->reg.api;      /* config, now, db: served in the child or harmless */
    api.place_order = s_place;
    api.close_trade = s_close;
    api.modify_trade = s_modify;
    api.notify = s_notify;
    api.open_trades = s_open_trades;
    api.quote = s_quote;
    api.log = s_log;
    api.account = s_account;
    api.symbol_info = s_symbol_info;
    return api;
}

/* ---- the throwaway data dir ---- */

static int copy_db(sqlite3 *src, const char *path, char *err, size_t errlen)
{
    sqlite3 *dst = NULL;
    int rc = sqlite3_open_v2(path, &dst, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_backup *b = sqlite3_backup_init(dst, "main", src, "main");
        rc = b ? sqlite3_backup_step(b, -1) : sqlite3_errcode(dst);
        if (b && sqlite3_backup_finish(b) != SQLITE_OK && rc == SQLITE_DONE)
            rc = sqlite3_errcode(dst);
    }
    if (rc != SQLITE_DONE && rc != SQLITE_OK)
        snprintf(err, errlen, "cannot copy the plugin's database: %s", dst ? sqlite3_errmsg(dst) : "out of memory");
    sqlite3_close(dst);
    return rc == SQLITE_DONE || rc == SQLITE_OK ? 0 : -1;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

static void one(struct app *a, struct plugin *p, const sig_parsed *s, struct prv_result *r)
{
    char tmp[] = "/tmp/zepix-preview-XXXXXX", path[700], so[700], err[300] = "";
    struct registry *reg = &a->reg;
    struct pproc *pp = NULL;
    if (p->st != PLG_ENABLED || !p->ldg) {
        snprintf(r->verdict, sizeof r->verdict, "skipped");
        snprintf(r->reason, sizeof r->reason, "plugin %s", reg_state_name(p->st));
        return;
    }
    if (!reg->host_bin[0] || !mkdtemp(tmp)) {
        snprintf(r->verdict, sizeof r->verdict, "failed");
        snprintf(r->reason, sizeof r->reason, "no sandbox: %s", reg->host_bin[0] ? "mkdtemp failed" :
                 "zepix-plugin-host not found");
        return;
    }
    snprintf(path, sizeof path, "%s/zepix_%s.db", tmp, p->id);
    snprintf(so, sizeof so, "%s/plugin.so", p->dir);
    zx_api api = stub_api(a);
    cur.a = a;
    cur.p = p;
    cur.r = r;
    const char *cfg = p->cfg ? json_object_to_json_string_ext(p->cfg, JSON_C_TO_STRING_PLAIN) : "{}";
    if (copy_db(ldg_db(p->ldg), path, err, sizeof err) ||
        pp_start(reg->host_bin, so, p->id, NULL, tmp, cfg, reg->hook_ms, p->host, &api, &pp, err, sizeof err)) {
        snprintf(r->verdict, sizeof r->verdict, "failed");
        snprintf(r->reason, sizeof r->reason, "%.*s", (int)sbuf_utf8_prefix(err, 190), err);
        goto out;
    }
    zx_signal zs = {.id = 0, .source = "preview", .action = s->action,
                    .price = sig_is_pending(s->action) ? s->entry : s->price, .sl = s->sl,
                    .tp = s->tp, .lot = s->lot, .lot_multiplier = 1.0, .comment = s->comment};
    memcpy(zs.symbol, s->symbol, sizeof zs.symbol);
    zx_verdict v = ZX_ACCEPT;
    char reason[200] = "";
    if (pp_def(pp)->on_signal_received && pp_signal(pp, &zs, &v, reason, sizeof reason)) {
        snprintf(r->verdict, sizeof r->verdict, "failed");
        snprintf(r->reason, sizeof r->reason, "the plugin failed: %.*s", (int)sbuf_utf8_prefix(pp_cause(pp), 170), pp_cause(pp));
        goto out;
    }
    snprintf(r->reason, sizeof r->reason, "%s", reason);
    if (v == ZX_REJECT) {
        snprintf(r->verdict, sizeof r->verdict, "reject");
        goto out;
    }
    if (v == ZX_HANDLED) {
        snprintf(r->verdict, sizeof r->verdict, "handled");
        goto out;
    }
    snprintf(r->verdict, sizeof r->verdict, "accept");
    if (!sig_side(s->action))
        goto out;           /* a close: the host closes the plugin's trades on the symbol */
    double want = (zs.lot > 0 ? zs.lot : eng_default_lot(p)) * zs.lot_multiplier;
    r->lot = eng_order_lot(a->eng, p, s->symbol, want);
    r->sl = zs.sl;
    r->tp = zs.tp;
    /* The risk checks on a throwaway state: they may say "no", never pause. */
    struct risk *dry = risk_new(NULL, &a->cfg);
    struct risk_figures f;
    int tripped;
    const char *paused_acct = risk_paused(a->risk, ""), *paused_own = risk_paused(a->risk, p->id);
    snprintf(r->risk, sizeof r->risk, "ok");
    if (a->paused)
        snprintf(r->risk, sizeof r->risk, "trading is paused (/resume)");
    else if (paused_acct || paused_own)
        snprintf(r->risk, sizeof r->risk, "risk: opening paused (%.*s)", (int)sbuf_utf8_prefix(paused_acct ? paused_acct : paused_own, 180), paused_acct ? paused_acct : paused_own);
    else if (dry) {
        eng_risk_figures(a->eng, NULL, s->symbol, &f);
        if (risk_check(dry, "", &a->cfg.risk.account, &f, r->lot, &tripped, err, sizeof err) == 0) {
            eng_risk_figures(a->eng, p, s->symbol, &f);
            if (risk_check(dry, p->id, risk_plugin_limits(&a->cfg, p->id), &f, r->lot, &tripped, err, sizeof err))
                snprintf(r->risk, sizeof r->risk, "%.*s", (int)sbuf_utf8_prefix(err, 210), err);
        } else {
            snprintf(r->risk, sizeof r->risk, "%.*s", (int)sbuf_utf8_prefix(err, 210), err);
        }
    }
    risk_free(dry);
out:
    pp_stop(pp);            /* its shutdown hook, reaped, freed */
    nftw(tmp, rm_one, 8, FTW_DEPTH | FTW_PHYS);
    memset(&cur, 0, sizeof cur);
}

int prv_run(struct app *a, const sig_parsed *s, struct prv_result *out, size_t max, char *err, size_t errlen)
{
    size_t n = 0;
    (void)err, (void)errlen;
    for (size_t i = 0; i < a->reg.n && n < max; i++) {
        struct plugin *p = a->reg.v[i];
        if (s->plugin[0] && strcmp(s->plugin, p->id) != 0)
            continue;
        memset(&out[n], 0, sizeof out[n]);
        snprintf(out[n].plugin, sizeof out[n].plugin, "%s", p->id);
        one(a, p, s, &out[n]);
        n++;
    }
    return (int)n;
}

/* ---- /replay: the journal through the build on disk ---- */

#define RPL_MAX 200

struct rpl_sig {
    int64_t id, at_ms, trade_id;
    char action[16], symbol[32], status[16], comment[256];
    double price, sl, tp, lot;
};

static struct {
    struct rpl_sig *v;
    int n;
    const struct rpl_sig *now;      /* the signal being replayed */
} rpl;

static void rpl_row(void *ud, const struct jrn_row *r)
{
    (void)ud;
    if (rpl.n == RPL_MAX || !r->plugin[0])
        return;
    struct rpl_sig *x = &rpl.v[rpl.n++];
    memset(x, 0, sizeof *x);
    x->id = r->id;
    x->at_ms = r->received_ms;
    x->trade_id = r->trade_id;
    snprintf(x->action, sizeof x->action, "%s", r->action);
    snprintf(x->symbol, sizeof x->symbol, "%s", r->symbol);
    snprintf(x->status, sizeof x->status, "%s", r->status);
    snprintf(x->comment, sizeof x->comment, "%s", r->comment);
    x->price = r->price, x->sl = r->sl, x->tp = r->tp, x->lot = r->lot;
}

/* The quote as recorded: the signal's own price where it had one. */
static int r_quote(zx_host *h, const char *symbol, double *bid, double *ask)
{
    if (rpl.now && rpl.now->price > 0 && strcmp(symbol, rpl.now->symbol) == 0) {
        *bid = *ask = rpl.now->price;
        return 0;
    }
    return s_quote(h, symbol, bid, ask);
}

/* The plugin's trades open when the signal came, from its ledger. */
static int r_open_trades(zx_host *h, zx_position *out, int max)
{
    static struct ldg_trade t[500];
    (void)h;
    int n = ldg_last_trades(cur.p->ldg, t, 500), k = 0;
    for (int i = n - 1; i >= 0 && k < max; i--) {
        if (t[i].entry_ms > rpl.now->at_ms || (t[i].exit_ms && t[i].exit_ms <= rpl.now->at_ms) ||
            strcmp(t[i].broker_state, "rejected") == 0)
            continue;
        memset(&out[k], 0, sizeof out[k]);
        out[k].trade_id = t[i].id;
        out[k].order_id = t[i].order_id;
        out[k].side = t[i].side;
        snprintf(out[k].symbol, sizeof out[k].symbol, "%s", t[i].symbol);
        out[k].lot = t[i].lot, out[k].entry_price = t[i].entry, out[k].sl = t[i].sl, out[k].tp = t[i].tp;
        out[k].open_time_ms = t[i].entry_ms;
        k++;
    }
    return k;
}

static const char *rec_verdict(const char *status)
{
    if (strcmp(status, "executed") == 0 || strcmp(status, "failed") == 0)
        return "accept";
    if (strcmp(status, "rejected") == 0)
        return "reject";
    if (strcmp(status, "handled") == 0)
        return "handled";
    return NULL;                /* skipped: the plugin did not decide */
}

int prv_replay(struct app *a, struct plugin *p, int n, prv_diff_fn fn, void *ud, int *compared, int *same,
               char *err, size_t errlen)
{
    char tmp[] = "/tmp/zepix-replay-XXXXXX", path[700], so[700];
    struct registry *reg = &a->reg;
    struct pproc *pp = NULL;
    struct prv_result scratch;
    int rc = -1;
    *compared = *same = 0;
    if (!p->ldg || !reg->host_bin[0]) {
        snprintf(err, errlen, "%s", p->ldg ? "zepix-plugin-host not found" : "the plugin has no database");
        return -1;
    }
    if (!(rpl.v = calloc(RPL_MAX, sizeof *rpl.v)) || !mkdtemp(tmp)) {
        snprintf(err, errlen, "out of memory or no temporary directory");
        free(rpl.v);
        rpl.v = NULL;
        return -1;
    }
    rpl.n = 0;
    if (jrn_recent(a, n > RPL_MAX ? RPL_MAX : n, p->id, rpl_row, NULL) < 0) {
        snprintf(err, errlen, "the journal could not be read");
        goto out;
    }
    snprintf(path, sizeof path, "%s/zepix_%s.db", tmp, p->id);
    snprintf(so, sizeof so, "%s/plugin.so", p->dir);
    zx_api api = stub_api(a);
    api.quote = r_quote;
    api.open_trades = r_open_trades;
    memset(&scratch, 0, sizeof scratch);
    cur.a = a;
    cur.p = p;
    cur.r = &scratch;
    const char *cfg = p->cfg ? json_object_to_json_string_ext(p->cfg, JSON_C_TO_STRING_PLAIN) : "{}";
    if (copy_db(ldg_db(p->ldg), path, err, errlen) ||
        pp_start(reg->host_bin, so, p->id, NULL, tmp, cfg, reg->hook_ms, p->host, &api, &pp, err, errlen))
        goto out;
    for (int i = rpl.n - 1; i >= 0; i--) {          /* oldest first, as they came */
        const struct rpl_sig *x = &rpl.v[i];
        const char *was = rec_verdict(x->status);
        zx_action act;
        /* Host actions never reach a hook; a pending action's entry is not in the journal's columns. */
        if (!was || sig_action_parse(x->action, &act) || act == SIG_CLOSE_ALL || sig_is_cancel(act) ||
            sig_is_pending(act))
            continue;
        rpl.now = x;
        zx_signal zs = {.id = x->id, .source = "replay", .action = act, .price = x->price, .sl = x->sl,
                        .tp = x->tp, .lot = x->lot, .lot_multiplier = 1.0, .comment = x->comment};
        snprintf(zs.symbol, sizeof zs.symbol, "%s", x->symbol);
        zx_verdict v = ZX_ACCEPT;
        char reason[200] = "";
        if (pp_def(pp)->on_signal_received && pp_signal(pp, &zs, &v, reason, sizeof reason)) {
            snprintf(err, errlen, "the build failed on signal #%lld: %.*s", (long long)x->id, (int)sbuf_utf8_prefix(pp_cause(pp), 150), pp_cause(pp));
            goto out;
        }
        struct prv_diff d = {.signal_id = x->id};
        snprintf(d.what, sizeof d.what, "%s %s", x->action, x->symbol);
        snprintf(d.was, sizeof d.was, "%s", was);
        snprintf(d.now, sizeof d.now, "%s", v == ZX_REJECT ? "reject" : v == ZX_HANDLED ? "handled" : "accept");
        snprintf(d.reason, sizeof d.reason, "%s", reason);
        int differs = strcmp(d.was, d.now) != 0;
        struct ldg_trade t;
        if (!differs && v == ZX_ACCEPT && (act == ZX_BUY || act == ZX_SELL) && x->trade_id &&
            ldg_get(p->ldg, x->trade_id, &t) == 0) {
            double lot = eng_order_lot(a->eng, p, x->symbol, (zs.lot > 0 ? zs.lot : eng_default_lot(p)) * zs.lot_multiplier);
            d.was_lot = t.lot, d.was_sl = t.sl, d.was_tp = t.tp;
            d.lot = lot, d.sl = zs.sl, d.tp = zs.tp;
            differs = fabs(lot - t.lot) > 1e-9 || fabs(zs.sl - t.sl) > 1e-9 || fabs(zs.tp - t.tp) > 1e-9;
            d.figures = differs;
        }
        (*compared)++;
        if (differs)
            fn(ud, &d);
        else
            (*same)++;
    }
    rc = 0;
out:
    rpl.now = NULL;
    pp_stop(pp);
    nftw(tmp, rm_one, 8, FTW_DEPTH | FTW_PHYS);
    memset(&cur, 0, sizeof cur);
    free(rpl.v);
    rpl.v = NULL;
    return rc;
}
