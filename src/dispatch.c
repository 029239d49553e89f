/*
 * dispatch — see dispatch.h.
 */
#include "dispatch.h"
#include "app.h"
#include "engine.h"
#include "engine_orders.h"
#include "clock.h"
#include "log.h"
#include "metrics.h"
#include "notify.h"
#include "sbuf.h"
#include "shadow.h"

#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The engine p trades on: its shadow engine, or the daemon's. */
static struct engine *eng_of(struct app *a, struct plugin *p)
{
    return p->eng ? p->eng : a->eng;
}

static void result(struct dsp_result *r, struct plugin *p, const char *status, int64_t trade, const char *why)
{
    memset(r, 0, sizeof *r);
    snprintf(r->plugin, sizeof r->plugin, "%s", p->id);
    r->status = status;
    r->trade_id = trade;
    snprintf(r->reason, sizeof r->reason, "%.*s", (int)sbuf_utf8_prefix(why ? why : "", 199), why ? why : "");
}

static void execute_close(struct app *a, struct plugin *p, const zx_signal *zs, struct dsp_result *r)
{
    int closed, failed;
    int64_t first;
    char err[256] = "";
    eng_close_where(eng_of(a, p), p, zs->action, zs->symbol, "signal", &closed, &failed, &first, err, sizeof err);
    char why[200];
    if (failed)
        snprintf(why, sizeof why, "closed %d, %d failed: %.*s", closed, failed,
                 (int)sbuf_utf8_prefix(err, 150), err);
    else if (closed && eng_broker_async(eng_of(a, p)))
        snprintf(why, sizeof why, "close sent for %d trade%s", closed, closed == 1 ? "" : "s");
    else if (closed)
        snprintf(why, sizeof why, "closed %d trade%s", closed, closed == 1 ? "" : "s");
    else if (zs->action == SIG_CLOSE_ALL)
        snprintf(why, sizeof why, "no open trades to close");
    else
        snprintf(why, sizeof why, "no open %s trades to close", zs->symbol);
    result(r, p, failed ? "failed" : closed ? "executed" : "skipped", first, why);
}

/* cancel, cancel_long, cancel_short: the plugin's working orders on the symbol. */
static void execute_cancel(struct app *a, struct plugin *p, const sig_parsed *s, struct dsp_result *r)
{
    int cancelled, failed;
    char err[256] = "", why[200];
    eng_cancel_where(eng_of(a, p), p, s->action, s->symbol, "signal", &cancelled, &failed, err, sizeof err);
    if (failed)
        snprintf(why, sizeof why, "cancelled %d, %d failed: %.*s", cancelled, failed,
                 (int)sbuf_utf8_prefix(err, 150), err);
    else if (cancelled && eng_broker_async(eng_of(a, p)))
        snprintf(why, sizeof why, "cancel sent for %d working order%s", cancelled, cancelled == 1 ? "" : "s");
    else if (cancelled)
        snprintf(why, sizeof why, "cancelled %d working order%s", cancelled, cancelled == 1 ? "" : "s");
    else
        snprintf(why, sizeof why, "no working %s%s orders to cancel", s->action == SIG_CANCEL_LONG ? "buy "
                 : s->action == SIG_CANCEL_SHORT ? "sell " : "", s->symbol);
    result(r, p, failed ? "failed" : cancelled ? "executed" : "skipped", 0, why);
}

/* An accepted pending action: a working order at the signal's entry. */
static void execute_pending(struct app *a, struct plugin *p, const zx_signal *zs, const sig_parsed *s,
                            struct dsp_result *r)
{
    char err[256];
    double lot = zs->lot > 0 ? zs->lot : eng_default_lot(p);
    struct eng_pending_req req = {.type = zs->action, .lot = lot * zs->lot_multiplier, .entry = s->entry,
                                  .sl = zs->sl, .tp = zs->tp, .comment = zs->comment,
                                  .expiry_ms = s->expiry_s > 0 ? clk_now_ms() + (int64_t)s->expiry_s * 1000 : 0};
    memcpy(req.symbol, zs->symbol, sizeof req.symbol);
    struct ldg_order o;
    if (eng_place_pending(eng_of(a, p), p, &req, &o, err, sizeof err)) {
        result(r, p, "failed", 0, err);
        return;
    }
    char note[200], until[48] = "";
    if (o.expiry_ms) {
        char t[32];
        ldg_format_time(o.expiry_ms, t, sizeof t);
        snprintf(until, sizeof until, " (expires %s UTC)", t);
    }
    int n = snprintf(note, sizeof note, "%s %.2f %s at %.5f %s as order #%lld%s", ldg_order_type_name(o.type),
                     o.lot, o.symbol, o.entry, eng_broker_async(eng_of(a, p)) ? "sent to the terminal" : "working",
                     (long long)o.id, until);
    double cap = eng_max_lot(p);
    if (n > 0 && (size_t)n < sizeof note && cap > 0 && req.lot > cap + 1e-9)
        n += snprintf(note + n, sizeof note - (size_t)n, "; lot capped at max_lot_size %.2f (asked %.2f)", cap,
                      req.lot);
    if (n > 0 && (size_t)n < sizeof note && s->sizing[0] && zs->lot == s->lot)
        snprintf(note + n, sizeof note - (size_t)n, "; %.*s", (int)sbuf_utf8_prefix(s->sizing, 100), s->sizing);
    result(r, p, "executed", 0, note);
}

static void execute_accept(struct app *a, struct plugin *p, const zx_signal *zs, const sig_parsed *s,
                           struct dsp_result *r)
{
    if (zs->action == SIG_CLOSE_ALL || zs->action == ZX_CLOSE || zs->action == ZX_CLOSE_LONG || zs->action == ZX_CLOSE_SHORT) {
        execute_close(a, p, zs, r);
        return;
    }
    char err[256];
    if (!isfinite(zs->lot) || zs->lot < 0 || !isfinite(zs->lot_multiplier) || zs->lot_multiplier <= 0 ||
        !isfinite(zs->sl) || zs->sl < 0 || !isfinite(zs->tp) || zs->tp < 0) {
        result(r, p, "failed", 0, "the plugin left an invalid lot, lot_multiplier, sl or tp");
        return;
    }
    if (sig_is_pending(zs->action)) {
        execute_pending(a, p, zs, s, r);
        return;
    }
    double lot = zs->lot > 0 ? zs->lot : eng_default_lot(p);
    zx_order_req req = {.side = zs->action, .lot = lot * zs->lot_multiplier, .sl = zs->sl, .tp = zs->tp,
                        .comment = zs->comment};
    memcpy(req.symbol, zs->symbol, sizeof req.symbol);
    zx_order o;
    if (eng_open(eng_of(a, p), p, &req, &o, err, sizeof err)) {
        result(r, p, "failed", 0, err);
        return;
    }
    /* Say what was done where it differs from what was asked. */
    char note[200] = "";
    int n = 0;
    if (eng_broker_async(eng_of(a, p)))
        n = snprintf(note, sizeof note, "sent to the terminal, %.2f lot", o.lot);
    else
        n = snprintf(note, sizeof note, "filled at %.10g, the %s%s", o.price, zs->action == ZX_BUY ? "ask" : "bid",
                     zs->price > 0 && fabs(o.price - zs->price) > 1e-9 ? " of the last quote (not the signal's price)"
                                                                      : "");
    double cap = eng_max_lot(p);
    if (n > 0 && (size_t)n < sizeof note && cap > 0 && req.lot > cap + 1e-9)
        n += snprintf(note + n, sizeof note - (size_t)n, "; lot capped at max_lot_size %.2f (asked %.2f)", cap,
                      req.lot);
    if (n > 0 && (size_t)n < sizeof note && s->sizing[0] && zs->lot == s->lot)
        snprintf(note + n, sizeof note - (size_t)n, "; %.*s", (int)sbuf_utf8_prefix(s->sizing, 150), s->sizing);
    result(r, p, "executed", o.trade_id, note);
}

void dsp_signal_begin(struct app *a, const sig_parsed *s)
{
    eng_signal_price(a->eng, s->symbol, s->price);
    for (size_t i = 0; i < a->reg.n; i++)   /* the shadows' paper brokers see the same price */
        if (a->reg.v[i]->shadow)
            eng_signal_price(a->reg.v[i]->shadow->eng, s->symbol, s->price);
}

/* One plugin (live, or a shadow on its own engine). */
static void dispatch_to(struct app *a, struct plugin *p, const sig_parsed *s, int64_t signal_id,
                        const char *source, struct dsp_result *r)
{
    struct engine *e = eng_of(a, p);
    int opening = sig_side(s->action) != 0;     /* buy, sell and the pending orders */
    if (a->in_batch && p->batch_failed) {
        char why[200];
        snprintf(why, sizeof why, "its trade ledger cannot be written (%.*s); not executed",
                 (int)sbuf_utf8_prefix(p->batch_err, 140), p->batch_err);
        result(r, p, "failed", 0, why);
        return;
    }
    if (p->st == PLG_FAILED) {
        char why[300];
        snprintf(why, sizeof why, "plugin failed: %.*s", (int)sbuf_utf8_prefix(p->reason, 180), p->reason);
        result(r, p, "skipped", 0, why);
        return;
    }
    if (p->st != PLG_ENABLED) {
        result(r, p, "skipped", 0, "plugin disabled");
        return;
    }
    if (opening && a->paused) {
        result(r, p, "skipped", 0, "trading paused");
        return;
    }
    if (s->action == SIG_CLOSE_ALL) {   /* a host action: no plugin hook (ABI 1 has none) */
        zx_signal zs = {.id = signal_id, .source = source, .action = s->action};
        eng_scope_begin(e, p, signal_id);
        execute_close(a, p, &zs, r);
        eng_scope_end(e);
        return;
    }
    if (sig_is_cancel(s->action)) {     /* a host action too: cancelling never needs a plugin's consent */
        execute_cancel(a, p, s, r);
        return;
    }
    char reversed[200] = "";
    if (s->reverse && (s->action == ZX_BUY || s->action == ZX_SELL)) {    /* closelongbuy / closeshortsell: the other side first */
        zx_signal zc = {.id = signal_id, .source = source,
                        .action = s->action == ZX_BUY ? ZX_CLOSE_SHORT : ZX_CLOSE_LONG};
        memcpy(zc.symbol, s->symbol, sizeof zc.symbol);
        eng_scope_begin(e, p, signal_id);
        execute_close(a, p, &zc, r);
        eng_scope_end(e);
        if (strcmp(r->status, "failed") == 0)
            return;           /* never open the new side while the old one is still open */
        snprintf(reversed, sizeof reversed, "%.*s", (int)sbuf_utf8_prefix(r->reason, 150), r->reason);
    }
    /* A pending action's price is its entry (zepix_plugin.h). */
    double price = sig_is_pending(s->action) ? s->entry : s->price;
    zx_signal zs = {.id = signal_id, .source = source, .action = s->action, .price = price,
                    .sl = s->sl, .tp = s->tp, .lot = s->lot, .lot_multiplier = 1.0,
                    .comment = s->comment};
    memcpy(zs.symbol, s->symbol, sizeof zs.symbol);
    char reason[200] = "";
    eng_scope_begin(e, p, signal_id);
    double t0 = ev_time();
    zx_verdict v = reg_call_signal(&a->reg, p, &zs, reason, sizeof reason);
    if (!p->is_shadow)
        metrics_hook_latency(a, ev_time() - t0);
    /* The hook may not change what the signal is. */
    memcpy(zs.symbol, s->symbol, sizeof zs.symbol);
    zs.action = s->action;
    zs.price = price;
    int64_t first = eng_scope_end(e);
    if (v == ZX_REJECT) {
        result(r, p, "rejected", 0, reason[0] ? reason : "rejected by the plugin");
    } else if (v == ZX_HANDLED) {
        result(r, p, "handled", first, reason);
    } else {
        eng_scope_begin(e, p, signal_id);
        execute_accept(a, p, &zs, s, r);
        eng_scope_end(e);
    }
    /* "Why didn't it trade" reaches the chat (SPEC 12 rejects); a disabled
     * plugin skipped by a signal to all is the operator's choice, not news. */
    if (strcmp(r->status, "executed") != 0 && strcmp(r->status, "handled") != 0 &&
        (s->plugin[0] || p->st != PLG_DISABLED)) {
        char note[400];
        snprintf(note, sizeof note, "%s%s %s %s %s: %.*s", p->is_shadow ? "👻 shadow of " : "🚫 ", p->id, r->status,
                 sig_action_name(s->action), s->symbol, (int)sbuf_utf8_prefix(r->reason, 200), r->reason);
        notify_send(a, p->is_shadow ? "shadow" : "rejects", note);
    }
    if (reversed[0]) {
        char both[sizeof r->reason];
        snprintf(both, sizeof both, "%.*s, then %.*s", (int)sbuf_utf8_prefix(reversed, 90), reversed, (int)sbuf_utf8_prefix(r->reason[0] ? r->reason : r->status, 100), r->reason[0] ? r->reason : r->status);
        snprintf(r->reason, sizeof r->reason, "%s", both);
    }
}

void dsp_one(struct app *a, struct plugin *p, const sig_parsed *s, int64_t signal_id, const char *source,
             struct dsp_result *r)
{
    /* The shadow gets the signals the live plugin gets (SPEC 12). */
    int to_shadow = p->shadow && p->st == PLG_ENABLED && !(a->in_batch && p->batch_failed);
    dispatch_to(a, p, s, signal_id, source, r);
    if (to_shadow && p->shadow) {
        struct plugin *sh = p->shadow;
        struct dsp_result sr;
        char status[16], reason[sizeof sr.reason];
        int64_t trade;
        /* Its ledger is not in the batch: its part of a signal resent after a
         * crash (the live part rolled back) ran already. Once only. */
        if (sh->ldg && ldg_get_outcome(sh->ldg, signal_id, status, sizeof status, &trade, reason, sizeof reason) == 0)
            return;
        shd_same_quote(a, p, s->symbol);
        dispatch_to(a, sh, s, signal_id, source, &sr);
        if (p->shadow == sh && sh->ldg &&
            ldg_put_outcome(sh->ldg, signal_id, sr.status, sr.trade_id, sr.reason, app_now_ms()))
            LOG_E("dispatch", "the shadow of %s: cannot record the outcome of signal %lld", p->id,
                  (long long)signal_id);
        shd_compare(a, p, s, signal_id, r, &sr);
    }
}

size_t dsp_all(struct app *a, const sig_parsed *s, int64_t signal_id, const char *source,
                    struct dsp_result *res, size_t max)
{
    size_t n = 0;
    dsp_signal_begin(a, s);
    for (size_t i = 0; i < a->reg.n && n < max; i++) {
        struct plugin *p = a->reg.v[i];
        if (s->plugin[0] && strcmp(s->plugin, p->id) != 0)
            continue;
        dsp_one(a, p, s, signal_id, source, &res[n++]);
    }
    return n;
}

void dsp_batch_begin(struct app *a)
{
    for (size_t i = 0; i < a->reg.n; i++) {
        struct plugin *p = a->reg.v[i];
        p->batch_failed = 0;
        p->batch_err[0] = '\0';
        if (p->ldg && ldg_begin(p->ldg)) {
            /* Without a transaction its writes would commit one by one: the
             * journal dispatches nothing to it in this batch (dsp_one). */
            snprintf(p->batch_err, sizeof p->batch_err, "cannot begin a transaction: %s",
                     sqlite3_errmsg(ldg_db(p->ldg)));
            LOG_E("dispatch", "%s: %s", p->id, p->batch_err);
            p->batch_failed = 1;
        }
        /* Its shadow's ledger too: a crash before the commits must not leave
         * the shadow's trades of signals the journal says did not run (a
         * resend would trade them again). */
        struct plugin *sh = p->shadow;
        if (sh && sh->ldg) {
            sh->batch_failed = 0;
            sh->batch_err[0] = '\0';
            if (ldg_begin(sh->ldg)) {
                snprintf(sh->batch_err, sizeof sh->batch_err, "cannot begin a transaction: %s",
                         sqlite3_errmsg(ldg_db(sh->ldg)));
                LOG_E("dispatch", "the shadow of %s: %s", p->id, sh->batch_err);
                sh->batch_failed = 1;
            }
        }
    }
    a->in_batch = 1;
}

/* Test hook (documented in docs/architecture.md): ZEPIX_TEST_CRASH_AT=after_ledger_commit:N
 * raises SIGKILL right after the N-th ledger commit of a batch, so a test can
 * stop the daemon between two plugins' commits deterministically. */
static int crash_after_commit(void)
{
    static int n = -1;
    if (n < 0) {
        const char *v = getenv("ZEPIX_TEST_CRASH_AT");
        n = 0;
        if (v && strncmp(v, "after_ledger_commit:", 20) == 0)
            n = atoi(v + 20);
    }
    return n;
}

int dsp_batch_commit(struct app *a)
{
    int failed = 0, committed = 0;
    for (size_t i = 0; i < a->reg.n; i++) {
        struct plugin *p = a->reg.v[i];
        if (!p->ldg)
            continue;
        if (p->batch_failed) {
            failed++;
            continue;
        }
        if (ldg_commit(p->ldg, p->batch_err, sizeof p->batch_err)) {
            LOG_E("dispatch", "%s: committing trades failed: %s", p->id, p->batch_err);
            p->batch_failed = 1;
            failed++;
            continue;
        }
        if (++committed == crash_after_commit())
            raise(SIGKILL);
    }
    /* The shadows' last: a crash between loses a signal for a shadow, never
     * doubles one. Their failures are not the journal's (the live parts are
     * recorded). */
    for (size_t i = 0; i < a->reg.n; i++) {
        struct plugin *sh = a->reg.v[i]->shadow;
        if (!sh || !sh->ldg || sh->batch_failed)
            continue;
        if (ldg_commit(sh->ldg, sh->batch_err, sizeof sh->batch_err)) {
            LOG_E("dispatch", "the shadow of %s: committing trades failed: %s", sh->id, sh->batch_err);
            eng_resync(sh->eng);
        }
    }
    a->in_batch = 0;
    return failed;
}


void dsp_resync(struct app *a)
{
    eng_resync(a->eng);
}
