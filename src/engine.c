/*
 * engine — see engine.h.
 */
#include "engine.h"
#include "engine_int.h"
#include "engine_orders.h"
#include "clock.h"
#include "log.h"
#include "pnl.h"
#include "risk.h"
#include "sbuf.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Down to the symbol's volume step, with a little slack for binary fractions. */
static double round_lot(const struct cfg_symbol *s, double lot)
{
    double step = s->volume_step > 0 ? s->volume_step : 0.01;
    return floor(lot / step + 1e-6) * step;
}

static int quote_mid(void *ud, const char *symbol, double *mid)
{
    struct engine *e = ud;
    double b, k;
    if (e->brk->ops->quote(e->brk->self, symbol, &b, &k, NULL))
        return -1;
    *mid = (b + k) / 2;
    return 0;
}

static void value(struct engine *e, const struct epos *p, double price, double *pips, double *money)
{
    struct cfg_symbol s = cfg_symbol_get(e->cfg, p->symbol);
    double f;
    pnl_conversion(p->symbol, price, quote_mid, e, &f);
    *pips = pnl_pips(&s, p->side, p->entry, price);
    *money = pnl_money(&s, p->side, p->entry, price, p->lot, f);
}

struct epos *engi_find_ticket(struct engine *e, int64_t ticket)
{
    for (size_t i = 0; i < e->npos; i++)
        if (ticket > 0 && e->pos[i].ticket == ticket && !e->pos[i].pending)
            return &e->pos[i];
    return NULL;
}

struct epos *engi_find_pos(struct engine *e, const char *plugin, int64_t trade_id)
{
    for (size_t i = 0; i < e->npos; i++)
        if (e->pos[i].trade_id == trade_id && strcmp(e->pos[i].plugin, plugin) == 0)
            return &e->pos[i];
    return NULL;
}

static int add_pos(struct engine *e, const struct epos *p)
{
    if (e->npos == e->cap) {
        size_t cap = e->cap ? e->cap * 2 : 64;
        struct epos *n = realloc(e->pos, cap * sizeof *n);
        if (!n)
            return -1;
        e->pos = n;
        e->cap = cap;
    }
    e->pos[e->npos++] = *p;
    return 0;
}

int engi_add_pos(struct engine *e, const struct epos *p)
{
    return add_pos(e, p);
}

void engi_del_pos(struct engine *e, struct epos *p)
{
    *p = e->pos[--e->npos];
}

void engi_to_position(const struct epos *p, zx_position *out)
{
    memset(out, 0, sizeof *out);
    out->trade_id = p->trade_id;
    out->order_id = p->ticket;
    out->side = p->side;
    snprintf(out->symbol, sizeof out->symbol, "%s", p->symbol);
    out->lot = p->lot;
    out->entry_price = p->entry;
    out->sl = p->sl;
    out->tp = p->tp;
    out->open_time_ms = p->open_ms;
    out->close_reason = "";
}

/* A broker whose account is computed (paper) gets the running totals. */
static void update_floating(struct engine *e)
{
    double floating = 0, pips, money;
    if (!e->brk->ops->set_pnl)
        return;
    for (size_t i = 0; i < e->npos; i++)
        if (e->pos[i].last_price > 0) {
            value(e, &e->pos[i], e->pos[i].last_price, &pips, &money);
            floating += money;
        }
    e->brk->ops->set_pnl(e->brk->self, e->realized, floating);
}

struct engine *eng_new(const struct config *cfg, struct broker *brk, struct risk *risk,
                       const struct eng_events *ev, char *err, size_t errlen)
{
    struct engine *e = brk ? calloc(1, sizeof *e) : NULL;
    if (!e) {
        snprintf(err, errlen, brk ? "out of memory" : "no broker");
        if (brk)
            brk->ops->destroy(brk->self);
        return NULL;
    }
    e->cfg = cfg;
    e->brk = brk;
    e->risk = risk;
    e->ev = *ev;
    return e;
}

static int is_async(struct engine *e) { return e->brk->ops->async; }

void eng_quiesce(struct engine *e)
{
    if (e && e->brk->ops->quiesce)
        e->brk->ops->quiesce(e->brk->self);
}

int eng_broker_describe(struct engine *e, char *out, size_t len)
{
    if (!e->brk->ops->describe)
        return -1;
    e->brk->ops->describe(e->brk->self, out, len);
    return 0;
}

int eng_broker_online(struct engine *e)
{
    char err[160];
    if (!e || !e->brk->ops->describe)
        return -1;
    return !(e->brk->ops->ready && e->brk->ops->ready(e->brk->self, err, sizeof err));
}

void eng_adopt(struct engine *e, struct plugin *p)
{
    struct ldg_trade t[256];
    e->realized += ldg_realized(p->ldg);
    int n = ldg_open_trades(p->ldg, t, 256);
    if (n == 256)
        LOG_W("engine", "%s has more than 256 open trades; only 256 are watched", p->id);
    for (int j = 0; j < n; j++) {
        struct epos ep = {.trade_id = t[j].id, .ticket = t[j].order_id, .side = t[j].side,
                          .lot = t[j].lot, .entry = t[j].entry, .sl = t[j].sl, .tp = t[j].tp,
                          .open_ms = t[j].entry_ms, .term_profit = NAN,
                          .pending = strcmp(t[j].broker_state, "pending") == 0};
        snprintf(ep.plugin, sizeof ep.plugin, "%s", p->id);
        snprintf(ep.symbol, sizeof ep.symbol, "%s", t[j].symbol);
        if (add_pos(e, &ep))
            LOG_E("engine", "out of memory: %s trade #%lld is not watched", p->id, (long long)t[j].id);
    }
    update_floating(e);
    if (n > 0)
        LOG_I("engine", "%s: %d open trade(s) restored", p->id, n);
    engi_orders_adopt(e, p);
}

void eng_free(struct engine *e)
{
    if (!e)
        return;
    if (e->brk)
        e->brk->ops->destroy(e->brk->self);     /* frees e->brk too */
    free(e->pos);
    free(e->ord);
    free(e);
}

const char *eng_broker_kind(struct engine *e) { return e->brk->ops->kind; }
int eng_broker_async(struct engine *e) { return is_async(e); }
size_t eng_open_count(struct engine *e) { return e->npos; }

size_t eng_open_count_of(struct engine *e, const char *plugin_id)
{
    size_t n = 0;
    if (!e)
        return 0;
    for (size_t i = 0; i < e->npos; i++)
        n += strcmp(e->pos[i].plugin, plugin_id) == 0;
    return n;
}

static double plugin_number(struct plugin *p, const char *key, double def)
{
    json_object *v;
    if (p->cfg && json_object_object_get_ex(p->cfg, key, &v) &&
        (json_object_is_type(v, json_type_double) || json_object_is_type(v, json_type_int)))
        return json_object_get_double(v);
    return def;
}

/* ---- the money guard (risk.h): the figures it judges ---- */

static double floating_of(struct engine *e, const struct epos *ep)
{
    double pips, money;
    if (isfinite(ep->term_profit))
        return ep->term_profit;
    if (ep->pending || !(ep->last_price > 0))
        return 0;
    value(e, ep, ep->last_price, &pips, &money);
    return money;
}

/* Figures of plugin p (every plugin when NULL) on symbol, for the trading day
 * that began at day_from. */
static void risk_figures_of(struct engine *e, struct plugin *p, const char *symbol, int64_t day_from,
                            struct risk_figures *f)
{
    double mine = 0, all = 0, balance = 0, equity = 0;
    memset(f, 0, sizeof *f);
    for (size_t i = 0; i < e->npos; i++) {
        const struct epos *ep = &e->pos[i];
        if (p && strcmp(ep->plugin, p->id) != 0)
            continue;
        f->open_trades++;
        if (symbol && strcmp(ep->symbol, symbol) == 0)
            f->symbol_lots += ep->lot;
        f->day_pnl += floating_of(e, ep);
    }
    /* Today's realised profit: the scope's, and the account's (the balance
     * when the day began is today's balance less it, for the % limits). */
    struct plugin *q;
    for (size_t i = 0; (q = e->ev.plugin_at(e->ev.ud, i)); i++) {
        struct ldg_stats st;
        if (q->ldg && ldg_stats(q->ldg, day_from, clk_now_ms() + 1, &st) == 0) {
            all += st.profit;
            if (!p || q == p)
                mine += st.profit;
        }
    }
    f->day_pnl += mine;
    if (e->brk->ops->account(e->brk->self, &balance, &equity) == 0)
        f->day_start_balance = balance - all;
}

/* Every order a plugin causes passes here (SPEC 12): the account's limits, then
 * the plugin's. */
static int risk_order(struct engine *e, struct plugin *p, const char *symbol, double lot, char *err, size_t errlen)
{
    const struct cfg_risk_limits *acct = &e->cfg->risk.account, *own = risk_plugin_limits(e->cfg, p->id);
    int64_t from = e->ev.day_from(e->ev.ud);
    struct risk_figures f;
    int tripped = 0, rc = 0;
    if (!e->risk)               /* a shadow's engine (shadow.h): no money guard */
        return 0;
    risk_set_day(e->risk, from);
    if (risk_any(acct) || risk_paused(e->risk, "")) {
        risk_figures_of(e, NULL, symbol, from, &f);
        rc = risk_check(e->risk, "", acct, &f, lot, &tripped, err, errlen);
        if (tripped) {
            char note[400];
            snprintf(note, sizeof note, "🛑 %.*s (no plugin opens trades)", (int)sbuf_utf8_prefix(err, 300), err);
            e->ev.note(e->ev.ud, NULL, note);
        }
    }
    if (rc == 0 && (risk_any(own) || risk_paused(e->risk, p->id))) {
        risk_figures_of(e, p, symbol, from, &f);
        rc = risk_check(e->risk, p->id, own, &f, lot, &tripped, err, errlen);
        if (tripped) {
            char note[400];
            snprintf(note, sizeof note, "🛑 %s: %.*s", p->id, (int)sbuf_utf8_prefix(err, 300), err);
            e->ev.note(e->ev.ud, NULL, note);
        }
    }
    if (rc)
        LOG_I("engine", "%s: %.2f %s refused: %s", p->id, lot, symbol, err);
    return rc;
}

int engi_risk_order(struct engine *e, struct plugin *p, const char *symbol, double lot, char *err, size_t errlen)
{
    return risk_order(e, p, symbol, lot, err, errlen);
}

int eng_risk_figures(struct engine *e, struct plugin *p, const char *symbol, struct risk_figures *f)
{
    int64_t from = e->ev.day_from(e->ev.ud);
    if (e->risk)
        risk_set_day(e->risk, from);
    risk_figures_of(e, p, symbol, from, f);
    return 0;
}

double eng_order_lot(struct engine *e, struct plugin *p, const char *symbol, double lot)
{
    struct cfg_symbol sym = cfg_symbol_get(e->cfg, symbol);
    double cap = plugin_number(p, "max_lot_size", ENG_DEFAULT_MAX_LOT);
    if (cap > 0 && lot > cap)
        lot = cap;
    if (sym.max_lot > 0 && lot > sym.max_lot)
        lot = sym.max_lot;
    return round_lot(&sym, lot);
}

double eng_default_lot(struct plugin *p)
{
    return plugin_number(p, "default_lot", 0.01);
}

/* A trade recorded in p's ledger as t goes into the book (pending: sent to an
 * asynchronous broker, not filled yet), and *out says what was opened. */
static void book_open(struct engine *e, struct plugin *p, const struct ldg_trade *t, int pending, zx_order *out)
{
    struct epos ep = {.trade_id = t->id, .ticket = t->order_id, .side = t->side, .lot = t->lot,
                      .entry = t->entry, .sl = t->sl, .tp = t->tp, .open_ms = t->entry_ms, .pending = pending,
                      .term_profit = NAN};
    snprintf(ep.plugin, sizeof ep.plugin, "%s", p->id);
    snprintf(ep.symbol, sizeof ep.symbol, "%s", t->symbol);
    if (add_pos(e, &ep))
        LOG_E("engine", "out of memory: trade %s#%lld is not watched", p->id, (long long)t->id);
    memset(out, 0, sizeof *out);
    out->trade_id = t->id;
    out->order_id = t->order_id;
    out->signal_id = t->signal_id;
    out->side = t->side;
    snprintf(out->symbol, sizeof out->symbol, "%s", t->symbol);
    out->lot = t->lot;
    out->price = t->entry;
    out->sl = t->sl;
    out->tp = t->tp;
    out->time_ms = t->entry_ms;
    if (e->cur == p && !e->cur_first_trade)
        e->cur_first_trade = t->id;
}

/* Asynchronous broker: record the trade as pending and send the order; the
 * fill (ticket, price, lots) and on_order_placed come with the result. */
static int open_async(struct engine *e, struct plugin *p, const zx_order_req *req, double lot,
                      const char *comment, zx_order *out, char *err, size_t errlen)
{
    double bid, ask, est = 0;
    char e2[256];
    if (e->brk->ops->quote(e->brk->self, req->symbol, &bid, &ask, NULL) == 0)
        est = req->side == ZX_BUY ? ask : bid;
    struct ldg_trade t = {.side = req->side, .lot = lot, .entry = est, .sl = req->sl, .tp = req->tp,
                          .entry_ms = clk_now_ms(), .signal_id = e->cur == p ? e->cur_signal : 0};
    snprintf(t.symbol, sizeof t.symbol, "%s", req->symbol);
    snprintf(t.comment, sizeof t.comment, "%s", comment);
    snprintf(t.broker_state, sizeof t.broker_state, "pending");
    if (ldg_insert_open(p->ldg, &t, e2, sizeof e2)) {
        snprintf(err, errlen, "could not record the trade (%s); nothing was sent", e2);
        e->ev.order_result(e->ev.ud, p->id, 0);
        return -1;
    }
    struct broker_request rq = {.op = "open", .plugin = p->id, .trade_id = t.id, .symbol = req->symbol,
                                .side = req->side, .volume = lot, .sl = req->sl, .tp = req->tp};
    int64_t rid;
    if (e->brk->ops->submit(e->brk->self, &rq, &rid, err, errlen)) {
        char why[200];
        snprintf(why, sizeof why, "rejected: %.*s", (int)sbuf_utf8_prefix(err, 180), err);
        ldg_reject(p->ldg, t.id, why, clk_now_ms());
        e->ev.order_result(e->ev.ud, p->id, 0);
        return -1;
    }
    book_open(e, p, &t, 1, out);
    e->ev.order_result(e->ev.ud, p->id, 1);
    LOG_I("engine", "%s #%lld %s %.2f %s sent to the %s broker (request %lld)", p->id, (long long)t.id,
          req->side == ZX_BUY ? "BUY" : "SELL", lot, req->symbol, e->brk->ops->kind, (long long)rid);
    return 0;
}

int eng_open(struct engine *e, struct plugin *p, const zx_order_req *req, zx_order *out, char *err,
             size_t errlen)
{
    struct broker_fill fill;
    char e2[256];
    if (e->ev.may_open(e->ev.ud, p, err, errlen))
        return -1;
    if (req->side != ZX_BUY && req->side != ZX_SELL) {
        snprintf(err, errlen, "side: must be buy or sell");
        return -1;
    }
    if (!req->symbol[0] || memchr(req->symbol, '\0', sizeof req->symbol) == NULL) {
        snprintf(err, errlen, "symbol: missing");
        return -1;
    }
    if (!isfinite(req->lot) || req->lot <= 0 || !isfinite(req->sl) || req->sl < 0 ||
        !isfinite(req->tp) || req->tp < 0) {
        snprintf(err, errlen, "lot, sl and tp must be finite; lot > 0, sl and tp >= 0");
        return -1;
    }
    struct cfg_symbol sym = cfg_symbol_get(e->cfg, req->symbol);
    double lot = req->lot, cap = plugin_number(p, "max_lot_size", ENG_DEFAULT_MAX_LOT);
    if (cap > 0 && lot > cap)
        lot = cap;
    if (sym.max_lot > 0 && lot > sym.max_lot)
        lot = sym.max_lot;      /* the broker's limit for the symbol */
    lot = round_lot(&sym, lot);
    if (lot < sym.min_lot - 1e-9) {
        snprintf(err, errlen, "lot %.4f is below %s's min_lot %g", req->lot, sym.name, sym.min_lot);
        return -1;
    }
    if (risk_order(e, p, req->symbol, lot, err, errlen)) {
        e->ev.order_result(e->ev.ud, p->id, 0);
        return -1;
    }
    char comment[128];
    snprintf(comment, sizeof comment, "%s", req->comment ? req->comment : "");
    if (e->brk->ops->ready && e->brk->ops->ready(e->brk->self, err, errlen)) {
        e->ev.order_result(e->ev.ud, p->id, 0);
        return -1;
    }
    if (is_async(e))
        return open_async(e, p, req, lot, comment, out, err, errlen);
    if (e->brk->ops->place(e->brk->self, req->symbol, req->side, lot, req->sl, req->tp, comment, &fill,
                           err, errlen)) {
        e->ev.order_result(e->ev.ud, p->id, 0);
        return -1;
    }
    struct ldg_trade t = {.order_id = fill.ticket, .side = req->side, .lot = fill.lot,
                          .entry = fill.price, .sl = req->sl, .tp = req->tp, .entry_ms = fill.time_ms,
                          .signal_id = e->cur == p ? e->cur_signal : 0};
    snprintf(t.symbol, sizeof t.symbol, "%s", req->symbol);
    snprintf(t.comment, sizeof t.comment, "%s", comment);
    if (ldg_insert_open(p->ldg, &t, e2, sizeof e2)) {
        /* A fill we cannot record must not stay open unseen: reverse it. */
        struct broker_fill undo;
        char e3[128];
        int undone = e->brk->ops->close(e->brk->self, fill.ticket, req->symbol, req->side, fill.lot, &undo,
                                        e3, sizeof e3) == 0;
        snprintf(err, errlen, "could not record the trade (%s); the order was %s", e2,
                 undone ? "reversed" : "NOT reversed: check the broker");
        LOG_E("engine", "%s: %s", p->id, err);
        e->ev.order_result(e->ev.ud, p->id, 0);
        return -1;
    }
    book_open(e, p, &t, 0, out);
    e->ev.order_result(e->ev.ud, p->id, 1);
    char note[200];
    snprintf(note, sizeof note, "%s opened #%lld %s %.2f %s at %.5f", p->id, (long long)t.id,
             req->side == ZX_BUY ? "BUY" : "SELL", fill.lot, req->symbol, fill.price);
    e->ev.note(e->ev.ud, "trades", note);
    e->ev.order_placed(e->ev.ud, p, out);
    return 0;
}

int engi_record_close(struct engine *e, struct plugin *p, struct epos *ep, double qty, double price, double money,
                      int64_t time_ms, const char *reason, char *err, size_t errlen)
{
    double pips, computed;
    int full = qty <= 0 || qty >= ep->lot - 0.005;
    if (full)
        qty = ep->lot;
    struct epos part = *ep;
    part.lot = qty;
    value(e, &part, price, &pips, &computed);
    if (!isfinite(money))
        money = computed;
    if (ldg_record_close(p->ldg, ep->trade_id, full ? 0 : qty, price, pips, money, time_ms, reason, err,
                         errlen)) {
        LOG_E("engine", "%s: trade #%lld closed at the broker but not recorded: %s", p->id,
              (long long)ep->trade_id, err);
        return -1;
    }
    e->realized += money;
    zx_position pos;
    engi_to_position(&part, &pos);
    pos.current_price = price;
    pos.profit_pips = pips;
    pos.profit_money = money;
    pos.closed = 1;
    pos.close_reason = reason;
    LOG_I("engine", "%s closed #%lld %.2f %s at %.5f (%s): %.1f pips, %.2f", p->id,
          (long long)ep->trade_id, qty, ep->symbol, price, reason, pips, money);
    char note[200];
    snprintf(note, sizeof note, "%s closed #%lld %s %.2f %s (%s): %+.2f", p->id, (long long)ep->trade_id,
             ep->side == ZX_BUY ? "BUY" : "SELL", qty, ep->symbol, reason, money);
    if (full) {
        engi_del_pos(e, ep);
    } else {
        ep->lot -= qty;
        ep->term_profit = NAN;
    }
    update_floating(e);
    e->ev.position_update(e->ev.ud, p, &pos);
    e->ev.note(e->ev.ud, "trades", note);
    return 0;
}

/* Asynchronous broker: send the close; the result records it. */
static int close_async(struct engine *e, struct plugin *p, struct epos *ep, double qty, const char *reason,
                       char *err, size_t errlen)
{
    int64_t rid;
    if (ep->pending) {
        snprintf(err, errlen, "trade %lld is not filled yet (waiting for the terminal)", (long long)ep->trade_id);
        return -1;
    }
    if (ep->closing) {
        snprintf(err, errlen, "a close of trade %lld is already on its way to the terminal",
                 (long long)ep->trade_id);
        return -1;
    }
    if (e->brk->ops->ready && e->brk->ops->ready(e->brk->self, err, errlen))
        return -1;
    struct broker_request rq = {.op = "close", .plugin = p->id, .trade_id = ep->trade_id, .symbol = ep->symbol,
                                .side = ep->side, .volume = qty, .ticket = ep->ticket};
    if (e->brk->ops->submit(e->brk->self, &rq, &rid, err, errlen))
        return -1;
    ep->closing = 1;
    sbuf_fmt(ep->close_reason, sizeof ep->close_reason, "%s", reason);
    return 0;
}

/* Close (part of) a cached position at the broker and in the ledger (an
 * asynchronous broker: send the close; ep then stays until the result). */
static int close_pos(struct engine *e, struct plugin *p, struct epos *ep, double lot, const char *reason,
                     char *err, size_t errlen)
{
    struct broker_fill fill;
    int full = lot <= 0 || lot >= ep->lot - 0.005;
    struct cfg_symbol sym = cfg_symbol_get(e->cfg, ep->symbol);
    double qty = full ? ep->lot : round_lot(&sym, lot);
    if (!full && (qty < sym.min_lot - 1e-9 || ep->lot - qty < sym.min_lot - 1e-9)) {
        snprintf(err, errlen, "lot: a partial close needs at least %g lot and must leave %g", sym.min_lot,
                 sym.min_lot);
        return -1;
    }
    if (is_async(e))
        return close_async(e, p, ep, qty, reason, err, errlen);
    if (e->brk->ops->close(e->brk->self, ep->ticket, ep->symbol, ep->side, qty, &fill, err, errlen))
        return -1;
    return engi_record_close(e, p, ep, full ? 0 : qty, fill.price, NAN, fill.time_ms, reason, err, errlen);
}

int eng_close(struct engine *e, struct plugin *p, int64_t trade_id, double lot, const char *reason,
              char *err, size_t errlen)
{
    struct epos *ep = engi_find_pos(e, p->id, trade_id);
    if (!ep) {
        snprintf(err, errlen, "trade %lld is not an open trade of %s", (long long)trade_id, p->id);
        return -1;
    }
    if (!isfinite(lot) || lot < 0) {
        snprintf(err, errlen, "lot: must be 0 (all) or a positive number");
        return -1;
    }
    return close_pos(e, p, ep, lot, reason, err, errlen);
}

int eng_modify(struct engine *e, struct plugin *p, int64_t trade_id, double sl, double tp, char *err,
               size_t errlen)
{
    struct epos *ep = engi_find_pos(e, p->id, trade_id);
    if (!ep) {
        snprintf(err, errlen, "trade %lld is not an open trade of %s", (long long)trade_id, p->id);
        return -1;
    }
    if (!isfinite(sl) || !isfinite(tp)) {
        snprintf(err, errlen, "sl and tp must be finite");
        return -1;
    }
    double nsl = sl < 0 ? ep->sl : sl, ntp = tp < 0 ? ep->tp : tp;
    double bid, ask;
    if (e->brk->ops->quote(e->brk->self, ep->symbol, &bid, &ask, NULL) == 0) {
        double px = ep->side == ZX_BUY ? bid : ask;
        int bad_sl = nsl > 0 && (ep->side == ZX_BUY ? nsl >= px : nsl <= px);
        int bad_tp = ntp > 0 && (ep->side == ZX_BUY ? ntp <= px : ntp >= px);
        if (bad_sl || bad_tp) {
            snprintf(err, errlen, "%s: %.5f is on the wrong side of the price %.5f for a %s",
                     bad_sl ? "sl" : "tp", bad_sl ? nsl : ntp, px, ep->side == ZX_BUY ? "buy" : "sell");
            return -1;
        }
    }
    if (is_async(e)) {
        int64_t rid;
        if (ep->pending) {
            snprintf(err, errlen, "trade %lld is not filled yet (waiting for the terminal)", (long long)trade_id);
            return -1;
        }
        if (e->brk->ops->ready && e->brk->ops->ready(e->brk->self, err, errlen))
            return -1;
        struct broker_request rq = {.op = "modify", .plugin = p->id, .trade_id = trade_id, .symbol = ep->symbol,
                                    .side = ep->side, .sl = nsl, .tp = ntp, .ticket = ep->ticket};
        return e->brk->ops->submit(e->brk->self, &rq, &rid, err, errlen);   /* applied with the result */
    }
    if (e->brk->ops->modify(e->brk->self, ep->ticket, nsl, ntp, err, errlen))
        return -1;
    if (ldg_update_sltp(p->ldg, trade_id, nsl, ntp)) {
        snprintf(err, errlen, "could not record the change: %s", sqlite3_errmsg(ldg_db(p->ldg)));
        return -1;
    }
    ep->sl = nsl;
    ep->tp = ntp;
    return 0;
}

int eng_positions(struct engine *e, struct plugin *p, zx_position *out, int max)
{
    int n = 0;
    for (size_t i = 0; i < e->npos && n < max; i++) {
        struct epos *ep = &e->pos[i];
        if (p && strcmp(ep->plugin, p->id) != 0)
            continue;
        engi_to_position(ep, &out[n]);
        double bid, ask;
        if (!ep->pending && e->brk->ops->quote(e->brk->self, ep->symbol, &bid, &ask, NULL) == 0) {
            out[n].current_price = ep->side == ZX_BUY ? bid : ask;
            value(e, ep, out[n].current_price, &out[n].profit_pips, &out[n].profit_money);
        }
        n++;
    }
    return n;
}

static int on_symbol(const struct epos *ep, const void *symbol)
{
    return strcmp(ep->symbol, symbol) == 0;
}

int eng_on_quote(struct engine *e, const char *symbol, double bid, double ask, char *err, size_t errlen)
{
    if (e->brk->ops->set_quote(e->brk->self, symbol, bid, ask, clk_now_ms(), err, errlen))
        return -1;
    engi_orders_quote(e, symbol, bid, ask);     /* working orders first: a fill is then a position */
    /* Closing reorders the cache: walk a snapshot of the affected trades. */
    size_t n;
    struct engi_key *todo = engi_snapshot(e, on_symbol, symbol, &n);
    if (!todo)
        return 0;
    for (size_t i = 0; i < n; i++) {
        struct epos *ep = engi_find_pos(e, todo[i].plugin, todo[i].id);
        struct plugin *p = e->ev.find(e->ev.ud, todo[i].plugin);
        if (!ep || !p || ep->pending)
            continue;
        double px = ep->side == ZX_BUY ? bid : ask;
        const char *hit = NULL;
        /* An asynchronous broker holds the SL/TP itself and reports the close. */
        if (is_async(e))
            hit = NULL;
        else if (ep->sl > 0 && (ep->side == ZX_BUY ? px <= ep->sl : px >= ep->sl))
            hit = "sl";
        else if (ep->tp > 0 && (ep->side == ZX_BUY ? px >= ep->tp : px <= ep->tp))
            hit = "tp";
        if (hit) {
            char e2[256];
            if (close_pos(e, p, ep, 0, hit, e2, sizeof e2))
                LOG_E("engine", "%s: %s close of #%lld failed: %s", p->id, hit, (long long)todo[i].id, e2);
            continue;
        }
        if (px == ep->last_price)
            continue;
        ep->last_price = px;
        zx_position pos;
        engi_to_position(ep, &pos);
        pos.current_price = px;
        value(e, ep, px, &pos.profit_pips, &pos.profit_money);
        e->ev.position_update(e->ev.ud, p, &pos);
    }
    free(todo);
    update_floating(e);
    return 0;
}

int eng_quote(struct engine *e, const char *symbol, double *bid, double *ask)
{
    return e->brk->ops->quote(e->brk->self, symbol, bid, ask, NULL);
}

int eng_pip_value(struct engine *e, const char *symbol, double price, double *pip_value)
{
    struct cfg_symbol s = cfg_symbol_get(e->cfg, symbol);
    double f;
    int rc = pnl_conversion(symbol, price, quote_mid, e, &f);
    *pip_value = pnl_pip_value(&s, f);
    return rc == 0 && *pip_value > 0 ? 0 : -1;
}

int eng_symbol_info(struct engine *e, const char *symbol, double *pip_size, double *pip_value)
{
    struct cfg_symbol s = cfg_symbol_get(e->cfg, symbol);
    double mid, f;
    if (quote_mid(e, symbol, &mid))
        return -1;
    pnl_conversion(symbol, mid, quote_mid, e, &f);
    *pip_size = s.pip_size;
    *pip_value = pnl_pip_value(&s, f);
    return 0;
}

int eng_account(struct engine *e, double *balance, double *equity)
{
    return e->brk->ops->account(e->brk->self, balance, equity);
}


struct engi_key *engi_snapshot(struct engine *e, int (*pick)(const struct epos *, const void *), const void *arg,
                               size_t *n)
{
    struct engi_key *v = malloc((e->npos ? e->npos : 1) * sizeof *v);
    *n = 0;
    if (!v)
        return NULL;
    for (size_t i = 0; i < e->npos; i++)
        if (pick(&e->pos[i], arg)) {
            memcpy(v[*n].plugin, e->pos[i].plugin, sizeof v[*n].plugin);
            v[(*n)++].id = e->pos[i].trade_id;
        }
    return v;
}

void eng_scope_begin(struct engine *e, struct plugin *p, int64_t signal_id)
{
    e->cur = p;
    e->cur_signal = signal_id;
    e->cur_first_trade = 0;
}

int64_t eng_scope_end(struct engine *e)
{
    int64_t first = e->cur_first_trade;
    e->cur = NULL;
    e->cur_signal = 0;
    e->cur_first_trade = 0;
    return first;
}

void eng_close_where(struct engine *e, struct plugin *p, zx_action action, const char *symbol, const char *reason,
                     int *closed, int *failed, int64_t *first, char *err, size_t errlen)
{
    *closed = *failed = 0;
    *first = 0;
    for (size_t i = 0; i < e->npos;) {
        struct epos *ep = &e->pos[i];
        int match = strcmp(ep->plugin, p->id) == 0 &&
                    (action == SIG_CLOSE_ALL ||
                     (strcmp(ep->symbol, symbol) == 0 &&
                      (action == ZX_CLOSE || (action == ZX_CLOSE_LONG && ep->side == ZX_BUY) ||
                       (action == ZX_CLOSE_SHORT && ep->side == ZX_SELL))));
        if (!match) {
            i++;
            continue;
        }
        int64_t id = ep->trade_id;
        if (close_pos(e, p, ep, 0, reason, err, errlen)) {
            (*failed)++;
            i++;
            continue;
        }
        if (!*first)
            *first = id;
        (*closed)++;
        /* A close sent to an asynchronous broker leaves the entry: go on. Otherwise
         * ep was replaced by the last entry: look at index i again. */
        if (i < e->npos && e->pos[i].trade_id == id && strcmp(e->pos[i].plugin, p->id) == 0)
            i++;
    }
}

void eng_signal_price(struct engine *e, const char *symbol, double price)
{
    if (price > 0 && e->brk->ops->quote_from_price)
        e->brk->ops->quote_from_price(e->brk->self, symbol, price, clk_now_ms());
}

double eng_max_lot(struct plugin *p)
{
    return plugin_number(p, "max_lot_size", ENG_DEFAULT_MAX_LOT);
}

void eng_resync(struct engine *e)
{
    struct plugin *p;
    e->npos = 0;
    e->realized = 0;
    engi_orders_reset(e);
    for (size_t i = 0; (p = e->ev.plugin_at(e->ev.ud, i)); i++)
        if (p->ldg)
            eng_adopt(e, p);
    update_floating(e);
    LOG_W("engine", "positions rebuilt from the ledgers: %zu open", e->npos);
}
