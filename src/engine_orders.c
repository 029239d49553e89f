/*
 * engine_orders — see engine_orders.h.
 */
#include "engine_orders.h"
#include "engine_int.h"
#include "clock.h"
#include "log.h"
#include "sbuf.h"
#include "signal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ORD_RESTORE_MAX 256         /* working orders of one plugin watched after a restart */

static int add_ord(struct engine *e, const char *plugin, const struct ldg_order *o)
{
    if (e->nord == e->ordcap) {
        size_t cap = e->ordcap ? e->ordcap * 2 : 16;
        struct eord *n = realloc(e->ord, cap * sizeof *n);
        if (!n)
            return -1;
        e->ord = n;
        e->ordcap = cap;
    }
    struct eord *x = &e->ord[e->nord++];
    memset(x, 0, sizeof *x);
    snprintf(x->plugin, sizeof x->plugin, "%s", plugin);
    x->o = *o;
    return 0;
}

static struct eord *find_ord(struct engine *e, const char *plugin, int64_t id)
{
    for (size_t i = 0; i < e->nord; i++)
        if (e->ord[i].o.id == id && strcmp(e->ord[i].plugin, plugin) == 0)
            return &e->ord[i];
    return NULL;
}

static void del_ord(struct engine *e, struct eord *x)
{
    *x = e->ord[--e->nord];
}

/* "buy_limit 0.10 EURUSD at 1.08000" */
static void describe(const struct ldg_order *o, char *out, size_t len)
{
    const char *t = ldg_order_type_name(o->type);
    snprintf(out, len, "%s %.2f %s at %.5f", t ? t : "?", o->lot, o->symbol, o->entry);
}

/* Has the quote reached the entry? */
static int reached(const struct ldg_order *o, double bid, double ask)
{
    switch (o->type) {
    case ZX_BUY_LIMIT:  return ask <= o->entry;
    case ZX_BUY_STOP:   return ask >= o->entry;
    case ZX_SELL_LIMIT: return bid >= o->entry;
    case ZX_SELL_STOP:  return bid <= o->entry;
    default:            return 0;
    }
}

/* End working order x of p as state (cancelled, expired, rejected); x is
 * removed from the book. kind: the note's type ("trades", or NULL = always). */
static int end_order(struct engine *e, struct plugin *p, struct eord *x, const char *state, const char *reason,
                     const char *kind, char *err, size_t errlen)
{
    char what[120], note[400];
    describe(&x->o, what, sizeof what);
    int rc = p->ldg ? ldg_order_finish(p->ldg, x->o.id, state, 0, reason, clk_now_ms()) : -1;
    if (rc < 0) {
        snprintf(err, errlen, "order #%lld: the ledger cannot record it %s: %s", (long long)x->o.id, state,
                 p->ldg ? sqlite3_errmsg(ldg_db(p->ldg)) : "no ledger");
        LOG_E("engine", "%s: %s", p->id, err);
        return -1;
    }
    LOG_I("engine", "%s order #%lld %s %s%s%s", p->id, (long long)x->o.id, what, state, reason[0] ? ": " : "",
          reason);
    snprintf(note, sizeof note, "%s order #%lld %s %s%s%.*s", p->id, (long long)x->o.id, what, state,
             reason[0] ? ": " : "", (int)sbuf_utf8_prefix(reason, 200), reason);
    del_ord(e, x);
    e->ev.note(e->ev.ud, kind, note);
    return 0;
}

int eng_place_pending(struct engine *e, struct plugin *p, const struct eng_pending_req *req, struct ldg_order *out,
                      char *err, size_t errlen)
{
    const char *type = ldg_order_type_name(req->type);
    if (e->ev.may_open(e->ev.ud, p, err, errlen))
        return -1;
    if (!type) {
        snprintf(err, errlen, "action: a pending order is buy_limit, buy_stop, sell_limit or sell_stop");
        return -1;
    }
    if (!req->symbol[0] || memchr(req->symbol, '\0', sizeof req->symbol) == NULL) {
        snprintf(err, errlen, "symbol: missing");
        return -1;
    }
    if (!isfinite(req->lot) || req->lot <= 0 || !isfinite(req->entry) || req->entry <= 0 || !isfinite(req->sl) ||
        req->sl < 0 || !isfinite(req->tp) || req->tp < 0 || req->expiry_ms < 0) {
        snprintf(err, errlen, "lot, entry, sl and tp must be finite; lot and entry > 0, sl and tp >= 0");
        return -1;
    }
    int buy = sig_side(req->type) == ZX_BUY;
    if (req->sl > 0 && (buy ? req->sl >= req->entry : req->sl <= req->entry)) {
        snprintf(err, errlen, "sl: %.5f must be %s the entry %.5f of a %s", req->sl, buy ? "below" : "above",
                 req->entry, type);
        return -1;
    }
    if (req->tp > 0 && (buy ? req->tp <= req->entry : req->tp >= req->entry)) {
        snprintf(err, errlen, "tp: %.5f must be %s the entry %.5f of a %s", req->tp, buy ? "above" : "below",
                 req->entry, type);
        return -1;
    }
    int async = e->brk->ops->async;
    struct cfg_symbol sym = cfg_symbol_get(e->cfg, req->symbol);
    double lot = eng_order_lot(e, p, req->symbol, req->lot);
    if (lot < sym.min_lot - 1e-9 || !(lot > 0)) {
        snprintf(err, errlen, "lot %.4f is below %s's min_lot %g", req->lot, sym.name, sym.min_lot);
        return -1;
    }
    if (engi_risk_order(e, p, req->symbol, lot, err, errlen) ||
        (async && e->brk->ops->ready && e->brk->ops->ready(e->brk->self, err, errlen))) {
        e->ev.order_result(e->ev.ud, p->id, 0);
        return -1;
    }
    struct ldg_order o = {.type = req->type, .lot = lot, .entry = req->entry, .sl = req->sl, .tp = req->tp,
                          .expiry_ms = req->expiry_ms, .signal_id = e->cur == p ? e->cur_signal : 0,
                          .created_ms = clk_now_ms()};
    char e2[256];
    snprintf(o.symbol, sizeof o.symbol, "%s", req->symbol);
    snprintf(o.comment, sizeof o.comment, "%s", req->comment ? req->comment : "");
    if (async)
        snprintf(o.broker_state, sizeof o.broker_state, "pending");
    if (ldg_order_insert(p->ldg, &o, e2, sizeof e2)) {
        snprintf(err, errlen, "could not record the order (%s); nothing was placed", e2);
        return -1;
    }
    if (async) {
        struct broker_request rq = {.op = "pending", .plugin = p->id, .trade_id = o.id, .symbol = o.symbol,
                                    .side = sig_side(o.type), .volume = lot, .sl = o.sl, .tp = o.tp, .type = o.type,
                                    .price = o.entry, .expiry_ms = o.expiry_ms};
        int64_t rid;
        if (e->brk->ops->submit(e->brk->self, &rq, &rid, err, errlen)) {
            char why[200];
            snprintf(why, sizeof why, "rejected: %.*s", (int)sbuf_utf8_prefix(err, 180), err);
            ldg_order_finish(p->ldg, o.id, "rejected", 0, why, clk_now_ms());
            e->ev.order_result(e->ev.ud, p->id, 0);
            return -1;
        }
        e->ev.order_result(e->ev.ud, p->id, 1);
    }
    if (add_ord(e, p->id, &o))
        LOG_E("engine", "out of memory: %s order #%lld is not watched", p->id, (long long)o.id);
    char what[120], until[64] = "", note[300];
    describe(&o, what, sizeof what);
    if (o.expiry_ms) {
        char t[32];
        ldg_format_time(o.expiry_ms, t, sizeof t);
        snprintf(until, sizeof until, " (expires %s UTC)", t);
    }
    snprintf(note, sizeof note, "%s order #%lld %s %s%s", p->id, (long long)o.id, what,
             async ? "sent to the terminal" : "working", until);
    LOG_I("engine", "%s", note);
    e->ev.note(e->ev.ud, "trades", note);
    if (out)
        *out = o;
    return 0;
}

/* The quote reached x's entry: open its trade as a market order at the quote,
 * and end the order filled, in one ledger transaction. A plugin that may not
 * open now (paused, disabled) keeps its order working. */
static void fill(struct engine *e, struct plugin *p, struct eord *x)
{
    char err[256], reason[300];
    if (e->ev.may_open(e->ev.ud, p, err, sizeof err)) {
        LOG_D("engine", "%s order #%lld reached its entry but waits: %s", p->id, (long long)x->o.id, err);
        return;
    }
    struct ldg_order o = x->o;
    zx_order_req req = {.side = sig_side(o.type), .lot = o.lot, .sl = o.sl, .tp = o.tp, .comment = o.comment};
    snprintf(req.symbol, sizeof req.symbol, "%s", o.symbol);
    struct plugin *cur = e->cur;
    int64_t cur_signal = e->cur_signal, cur_first = e->cur_first_trade;
    zx_order filled;
    if (ldg_begin(p->ldg)) {
        LOG_E("engine", "%s order #%lld: cannot begin a transaction: %s", p->id, (long long)o.id,
              sqlite3_errmsg(ldg_db(p->ldg)));
        return;
    }
    e->cur = p;                         /* the trade carries the order's signal */
    e->cur_signal = o.signal_id;
    e->cur_first_trade = 0;
    int rc = eng_open(e, p, &req, &filled, err, sizeof err);
    e->cur = cur;
    e->cur_signal = cur_signal;
    e->cur_first_trade = cur_first;
    if (rc == 0) {
        if (ldg_order_finish(p->ldg, o.id, "filled", filled.trade_id, "", clk_now_ms()) < 0)
            LOG_E("engine", "%s order #%lld: the fill is not recorded: %s", p->id, (long long)o.id,
                  sqlite3_errmsg(ldg_db(p->ldg)));
        if (ldg_commit(p->ldg, err, sizeof err)) {
            LOG_E("engine", "%s order #%lld: committing its fill failed (%s): the book is rebuilt", p->id,
                  (long long)o.id, err);
            eng_resync(e);
            return;
        }
        if ((x = find_ord(e, p->id, o.id)))
            del_ord(e, x);
        LOG_I("engine", "%s order #%lld filled as trade #%lld at %.5f", p->id, (long long)o.id,
              (long long)filled.trade_id, filled.price);
        return;
    }
    snprintf(reason, sizeof reason, "not filled at its entry: %s", err);
    if ((x = find_ord(e, p->id, o.id)))
        end_order(e, p, x, "rejected", reason, NULL, err, sizeof err);
    if (ldg_commit(p->ldg, err, sizeof err))
        LOG_E("engine", "%s order #%lld: committing its rejection failed: %s", p->id, (long long)o.id, err);
}

static void expire(struct engine *e, struct plugin *p, struct eord *x)
{
    char err[256];
    end_order(e, p, x, "expired", "", "trades", err, sizeof err);
}

/* Asynchronous broker: ask the terminal to delete x; its result ends the order
 * as end_as ("cancelled", "expired"). */
static int send_cancel(struct engine *e, struct plugin *p, struct eord *x, const char *end_as, const char *reason,
                       char *err, size_t errlen)
{
    int64_t rid;
    if (e->brk->ops->ready && e->brk->ops->ready(e->brk->self, err, errlen))
        return -1;
    struct broker_request rq = {.op = "cancel", .plugin = p->id, .trade_id = x->o.id, .symbol = x->o.symbol,
                                .side = sig_side(x->o.type), .volume = x->o.lot, .type = x->o.type,
                                .price = x->o.entry, .ticket = x->o.ticket};
    if (e->brk->ops->submit(e->brk->self, &rq, &rid, err, errlen))
        return -1;
    x->cancelling = 1;
    snprintf(x->end_as, sizeof x->end_as, "%s", end_as);
    snprintf(x->end_reason, sizeof x->end_reason, "%s", reason);
    LOG_I("engine", "%s order #%lld: cancel sent to the terminal (request %lld, %s)", p->id, (long long)x->o.id,
          (long long)rid, end_as);
    return 0;
}

/* A snapshot of the (plugin, id) keys of the orders on symbol (NULL = all):
 * a fill or an end reorders the book. Caller frees; NULL when memory ran out. */
static struct engi_key *snapshot(struct engine *e, const char *symbol, size_t *n)
{
    struct engi_key *v = malloc((e->nord ? e->nord : 1) * sizeof *v);
    *n = 0;
    if (!v)
        return NULL;
    for (size_t i = 0; i < e->nord; i++)
        if (!symbol || strcmp(e->ord[i].o.symbol, symbol) == 0) {
            memcpy(v[*n].plugin, e->ord[i].plugin, sizeof v[*n].plugin);
            v[(*n)++].id = e->ord[i].o.id;
        }
    return v;
}

void engi_orders_quote(struct engine *e, const char *symbol, double bid, double ask)
{
    if (e->brk->ops->async || e->nord == 0)
        return;
    size_t n;
    struct engi_key *todo = snapshot(e, symbol, &n);
    if (!todo)
        return;
    int64_t now = clk_now_ms();
    for (size_t i = 0; i < n; i++) {
        struct plugin *p = e->ev.find(e->ev.ud, todo[i].plugin);
        struct eord *x = p ? find_ord(e, todo[i].plugin, todo[i].id) : NULL;
        if (!x || !p->ldg)
            continue;
        if (x->o.expiry_ms && now >= x->o.expiry_ms)
            expire(e, p, x);            /* expired first: a late quote never fills it */
        else if (reached(&x->o, bid, ask))
            fill(e, p, x);
    }
    free(todo);
}

void eng_orders_tick(struct engine *e)
{
    if (!e || e->nord == 0)
        return;
    size_t n;
    struct engi_key *todo = snapshot(e, NULL, &n);
    if (!todo)
        return;
    int64_t now = clk_now_ms();
    for (size_t i = 0; i < n; i++) {
        struct plugin *p = e->ev.find(e->ev.ud, todo[i].plugin);
        struct eord *x = p ? find_ord(e, todo[i].plugin, todo[i].id) : NULL;
        if (!x || !p->ldg || !x->o.expiry_ms || now < x->o.expiry_ms)
            continue;
        char err[256];
        if (!e->brk->ops->async)
            expire(e, p, x);
        else if (x->term_expiry)
            continue;               /* the terminal's own expiry: its report ends it */
        else if (!x->cancelling && send_cancel(e, p, x, "expired", "", err, sizeof err))
            LOG_D("engine", "%s order #%lld: expiry cancel not sent yet: %s", p->id, (long long)x->o.id, err);
    }
    free(todo);
}

void eng_cancel_where(struct engine *e, struct plugin *p, zx_action action, const char *symbol, const char *reason,
                      int *cancelled, int *failed, char *err, size_t errlen)
{
    *cancelled = *failed = 0;
    for (size_t i = 0; i < e->nord;) {
        struct eord *x = &e->ord[i];
        zx_action side = sig_side(x->o.type);
        int match = strcmp(x->plugin, p->id) == 0 && strcmp(x->o.symbol, symbol) == 0 &&
                    (action == SIG_CANCEL || (action == SIG_CANCEL_LONG && side == ZX_BUY) ||
                     (action == SIG_CANCEL_SHORT && side == ZX_SELL));
        if (!match) {
            i++;
            continue;
        }
        if (e->brk->ops->async) {   /* the cancel's result ends it; x stays */
            if (!x->cancelling && send_cancel(e, p, x, "cancelled", reason, err, errlen))
                (*failed)++;
            else
                (*cancelled)++;
            i++;
            continue;
        }
        if (end_order(e, p, x, "cancelled", reason, "trades", err, errlen)) {
            (*failed)++;
            i++;
            continue;
        }
        (*cancelled)++;             /* x was replaced by the last entry: look at i again */
    }
}

int eng_orders(struct engine *e, struct plugin *p, struct ldg_order *out, const char **plugin_ids, int max)
{
    int n = 0;
    for (size_t i = 0; i < e->nord && n < max; i++) {
        if (p && strcmp(e->ord[i].plugin, p->id) != 0)
            continue;
        if (plugin_ids)
            plugin_ids[n] = e->ord[i].plugin;
        out[n++] = e->ord[i].o;
    }
    return n;
}

size_t eng_order_count(struct engine *e)
{
    return e ? e->nord : 0;
}

void engi_orders_adopt(struct engine *e, struct plugin *p)
{
    struct ldg_order *o = calloc(ORD_RESTORE_MAX, sizeof *o);
    int n = o && p->ldg ? ldg_working_orders(p->ldg, o, ORD_RESTORE_MAX) : -1;
    if (n < 0)
        LOG_E("engine", "%s: working orders not restored (%s)", p->id, o ? "ledger error" : "out of memory");
    if (n == ORD_RESTORE_MAX)
        LOG_W("engine", "%s has more than %d working orders; only %d are watched", p->id, ORD_RESTORE_MAX,
              ORD_RESTORE_MAX);
    for (int i = 0; i < n; i++)
        if (add_ord(e, p->id, &o[i]))
            LOG_E("engine", "out of memory: %s order #%lld is not watched", p->id, (long long)o[i].id);
    if (n > 0)
        LOG_I("engine", "%s: %d working order(s) restored", p->id, n);
    free(o);
}

void engi_orders_reset(struct engine *e)
{
    e->nord = 0;
}

/* ---- asynchronous brokers ---- */

void engi_orders_result(struct engine *e, const struct broker_result *r)
{
    struct plugin *p = e->ev.find(e->ev.ud, r->plugin);
    struct eord *x = p ? find_ord(e, p->id, r->trade_id) : NULL;
    char err[256], why[200], note[300];
    if (!x || !p->ldg) {
        LOG_W("engine", "result of %s for %s order #%lld: no such working order, ignored", r->op, r->plugin,
              (long long)r->trade_id);
        return;
    }
    if (strcmp(r->op, "pending") == 0) {
        if (r->ok && r->ticket > 0) {
            if (ldg_order_placed(p->ldg, x->o.id, r->ticket) < 0)
                LOG_E("engine", "%s order #%lld: its ticket is not recorded: %s", p->id, (long long)x->o.id,
                      sqlite3_errmsg(ldg_db(p->ldg)));
            x->o.ticket = r->ticket;
            snprintf(x->o.broker_state, sizeof x->o.broker_state, "placed");
            LOG_I("engine", "%s order #%lld placed in the terminal as order %lld", p->id, (long long)x->o.id,
                  (long long)r->ticket);
            return;
        }
        const char *msg = r->ok ? "no ticket in the result" : r->error;
        snprintf(why, sizeof why, "rejected: %.*s", (int)sbuf_utf8_prefix(msg, 180), msg);
        end_order(e, p, x, "rejected", why, NULL, err, sizeof err);
        return;
    }
    /* cancel */
    x->cancelling = 0;
    if (r->ok) {
        char as[12], reason[32];
        snprintf(as, sizeof as, "%s", x->end_as[0] ? x->end_as : "cancelled");
        snprintf(reason, sizeof reason, "%s", x->end_reason);
        end_order(e, p, x, as, reason, "trades", err, sizeof err);
        return;
    }
    snprintf(note, sizeof note, "%s: the cancel of order #%lld failed in the terminal: %.*s", p->id,
             (long long)x->o.id, (int)sbuf_utf8_prefix(r->error, 200), r->error);
    e->ev.note(e->ev.ud, NULL, note);
}

/* The position bp is x's fill: the trade, written filled, and the order
 * 'filled', in one ledger transaction; then on_order_placed. */
static void fill_from_position(struct engine *e, struct plugin *p, struct eord *x, const struct broker_position *bp)
{
    struct ldg_order o = x->o;
    char err[256], note[300];
    int64_t now = clk_now_ms();
    struct ldg_trade t = {.order_id = bp->ticket, .side = sig_side(o.type), .lot = bp->volume, .entry = bp->price_open,
                          .sl = bp->sl, .tp = bp->tp, .entry_ms = now, .signal_id = o.signal_id};
    snprintf(t.symbol, sizeof t.symbol, "%s", o.symbol);
    snprintf(t.comment, sizeof t.comment, "%s", o.comment);
    snprintf(t.broker_state, sizeof t.broker_state, "filled");
    if (ldg_begin(p->ldg)) {
        LOG_E("engine", "%s order #%lld: cannot begin a transaction: %s", p->id, (long long)o.id,
              sqlite3_errmsg(ldg_db(p->ldg)));
        return;
    }
    if (ldg_insert_open(p->ldg, &t, err, sizeof err) == 0 &&
        ldg_order_finish(p->ldg, o.id, "filled", t.id, "", now) < 0)
        snprintf(err, sizeof err, "%s", sqlite3_errmsg(ldg_db(p->ldg)));
    if (ldg_commit(p->ldg, err, sizeof err)) {
        LOG_E("engine", "%s order #%lld: its fill (position %lld) is not recorded (%s); tried again on the next report",
              p->id, (long long)o.id, (long long)bp->ticket, err);
        return;
    }
    struct epos ep = {.trade_id = t.id, .ticket = bp->ticket, .side = t.side, .lot = t.lot, .entry = t.entry,
                      .sl = t.sl, .tp = t.tp, .open_ms = now, .term_profit = bp->profit};
    snprintf(ep.plugin, sizeof ep.plugin, "%s", p->id);
    snprintf(ep.symbol, sizeof ep.symbol, "%s", o.symbol);
    if (engi_add_pos(e, &ep))
        LOG_E("engine", "out of memory: trade %s#%lld is not watched", p->id, (long long)t.id);
    del_ord(e, x);
    zx_order z = {.trade_id = t.id, .order_id = bp->ticket, .signal_id = o.signal_id, .side = t.side, .lot = t.lot,
                  .price = t.entry, .sl = t.sl, .tp = t.tp, .time_ms = now};
    snprintf(z.symbol, sizeof z.symbol, "%s", o.symbol);
    snprintf(note, sizeof note, "%s opened #%lld %s %.2f %s at %.5f (ticket %lld) from order #%lld", p->id,
             (long long)t.id, t.side == ZX_BUY ? "BUY" : "SELL", t.lot, o.symbol, t.entry, (long long)bp->ticket,
             (long long)o.id);
    LOG_I("engine", "%s", note);
    e->ev.note(e->ev.ud, NULL, note);
    e->ev.order_placed(e->ev.ud, p, &z);
}

void eng_broker_orders(struct engine *e, const struct broker_order *ord, int norders, const struct broker_position *pos,
                       int npos)
{
    if (npos < 0 || e->nord == 0)
        return;                     /* an untrusted report says nothing about what is gone */
    size_t n;
    struct engi_key *todo = snapshot(e, NULL, &n);
    if (!todo)
        return;
    int64_t now = clk_now_ms();
    for (size_t i = 0; i < n; i++) {
        struct plugin *p = e->ev.find(e->ev.ud, todo[i].plugin);
        struct eord *x = p ? find_ord(e, todo[i].plugin, todo[i].id) : NULL;
        if (!x || !p->ldg || x->o.ticket <= 0)
            continue;               /* not placed yet: its result comes first */
        const struct broker_position *bp = NULL;
        for (int k = 0; k < npos && !bp; k++)
            if (pos[k].ticket == x->o.ticket)
                bp = &pos[k];
        if (bp) {
            fill_from_position(e, p, x, bp);
            continue;
        }
        if (norders < 0 || x->cancelling)
            continue;               /* a cancel on its way: its result ends it */
        const struct broker_order *bo = NULL;
        for (int k = 0; k < norders && !bo; k++)
            if (ord[k].ticket == x->o.ticket)
                bo = &ord[k];
        if (bo) {
            x->term_expiry = bo->expiration_ms > 0;
            continue;
        }
        char err[256];
        int expired = x->o.expiry_ms && now >= x->o.expiry_ms;
        end_order(e, p, x, expired ? "expired" : "cancelled", expired ? "in the terminal" : "deleted in the terminal",
                  NULL, err, sizeof err);
    }
    free(todo);
}
