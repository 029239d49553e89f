/*
 * engine — see engine.h.
 */
#include "engine.h"
#include "app.h"
#include "broker_mt5.h"
#include "broker_paper.h"
#include "chat.h"
#include "log.h"
#include "sbuf.h"
#include "metrics.h"
#include "notify.h"
#include "pnl.h"
#include "risk.h"
#include "scheduler.h"

#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SHORT_GRACE_MS 60000        /* a partial close at the broker without its deal, guessed after this */

struct epos {                       /* one open trade, mirrored from its ledger row */
    char plugin[64];
    int64_t trade_id, ticket;
    char symbol[32];
    zx_action side;
    double lot, entry, sl, tp;
    int64_t open_ms;
    double last_price;              /* 0 until a quote valued it */
    /* Asynchronous brokers: */
    int pending;                    /* sent, no fill yet (ticket 0, entry an estimate) */
    int closing;                    /* a close request is on its way */
    char close_reason[16];          /* of that close */
    double term_profit;             /* the broker's last reported profit; NAN = none */
    int64_t short_since_ms;         /* the broker's position has fewer lots since (0 = not) */
};

struct engine {
    struct broker *brk;
    struct epos *pos;
    size_t npos, cap;
    double realized;                /* sum of closed trades' money, all plugins */
    struct plugin *cur;             /* plugin whose on_signal_received runs */
    int64_t cur_signal;
    int64_t cur_first_trade;
    int in_batch;
};

static struct engine *E(struct app *a) { return a->eng; }

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

static void value(struct app *a, const struct epos *p, double price, double *pips, double *money)
{
    struct cfg_symbol s = cfg_symbol_get(&a->cfg, p->symbol);
    double f;
    pnl_conversion(p->symbol, price, quote_mid, E(a), &f);
    *pips = pnl_pips(&s, p->side, p->entry, price);
    *money = pnl_money(&s, p->side, p->entry, price, p->lot, f);
}

static struct epos *find_ticket(struct engine *e, int64_t ticket)
{
    for (size_t i = 0; i < e->npos; i++)
        if (ticket > 0 && e->pos[i].ticket == ticket && !e->pos[i].pending)
            return &e->pos[i];
    return NULL;
}

static struct epos *find_pos(struct engine *e, const char *plugin, int64_t trade_id)
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

static void del_pos(struct engine *e, struct epos *p)
{
    *p = e->pos[--e->npos];
}

static void to_position(const struct epos *p, zx_position *out)
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

static void update_floating(struct app *a)
{
    struct engine *e = E(a);
    double floating = 0, pips, money;
    if (!paper_is(e->brk))
        return;
    for (size_t i = 0; i < e->npos; i++)
        if (e->pos[i].last_price > 0) {
            value(a, &e->pos[i], e->pos[i].last_price, &pips, &money);
            floating += money;
        }
    paper_set_floating(e->brk, floating);
}

int eng_init(struct app *a, char *err, size_t errlen)
{
    struct engine *e = calloc(1, sizeof *e);
    if (!e) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    a->eng = e;
    if (strcmp(a->cfg.broker.kind, "mt5") == 0)
        e->brk = mt5_new(a, err, errlen);
    else
        e->brk = paper_new(&a->cfg, err, errlen);
    return e->brk ? 0 : -1;
}

static int is_async(struct engine *e) { return e->brk->ops->async; }

void eng_quiesce(struct app *a)
{
    if (E(a) && E(a)->brk)
        mt5_quiesce(E(a)->brk);
}

int eng_broker_describe(struct app *a, char *out, size_t len)
{
    if (!mt5_is(E(a)->brk))
        return -1;
    mt5_describe(E(a)->brk, out, len);
    return 0;
}

int eng_broker_online(struct app *a)
{
    char err[160];
    struct broker *b = a->eng ? E(a)->brk : NULL;
    if (!mt5_is(b))
        return -1;
    return !(b->ops->ready && b->ops->ready(b->self, err, sizeof err));
}

void eng_adopt(struct app *a, struct plugin *p)
{
    struct engine *e = E(a);
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
    paper_set_realized(e->brk, e->realized);
    if (n > 0)
        LOG_I("engine", "%s: %d open trade(s) restored", p->id, n);
}

void eng_free(struct app *a)
{
    struct engine *e = E(a);
    if (!e)
        return;
    if (e->brk)
        e->brk->ops->destroy(e->brk->self);     /* frees e->brk too */
    free(e->pos);
    free(e);
    a->eng = NULL;
}

const char *eng_broker_kind(struct app *a) { return E(a)->brk->ops->kind; }
int eng_broker_async(struct app *a) { return is_async(E(a)); }
size_t eng_open_count(struct app *a) { return E(a)->npos; }

size_t eng_open_count_of(struct app *a, const char *plugin_id)
{
    size_t n = 0;
    if (!E(a))
        return 0;
    for (size_t i = 0; i < E(a)->npos; i++)
        n += strcmp(E(a)->pos[i].plugin, plugin_id) == 0;
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

static double floating_of(struct app *a, const struct epos *ep)
{
    double pips, money;
    if (isfinite(ep->term_profit))
        return ep->term_profit;
    if (ep->pending || !(ep->last_price > 0))
        return 0;
    value(a, ep, ep->last_price, &pips, &money);
    return money;
}

/* Figures of plugin p (every plugin when NULL) on symbol, for the trading day
 * that began at day_from. */
static void risk_figures_of(struct app *a, struct plugin *p, const char *symbol, int64_t day_from,
                            struct risk_figures *f)
{
    struct engine *e = E(a);
    double mine = 0, all = 0, balance = 0, equity = 0;
    memset(f, 0, sizeof *f);
    for (size_t i = 0; i < e->npos; i++) {
        const struct epos *ep = &e->pos[i];
        if (p && strcmp(ep->plugin, p->id) != 0)
            continue;
        f->open_trades++;
        if (symbol && strcmp(ep->symbol, symbol) == 0)
            f->symbol_lots += ep->lot;
        f->day_pnl += floating_of(a, ep);
    }
    /* Today's realised profit: the scope's, and the account's (the balance
     * when the day began is today's balance less it, for the % limits). */
    for (size_t i = 0; i < a->reg.n; i++) {
        struct plugin *q = a->reg.v[i];
        struct ldg_stats st;
        if (q->ldg && ldg_stats(q->ldg, day_from, app_now_ms() + 1, &st) == 0) {
            all += st.profit;
            if (!p || q == p)
                mine += st.profit;
        }
    }
    f->day_pnl += mine;
    if (e->brk->ops->account(e->brk->self, &balance, &equity) == 0)
        f->day_start_balance = balance - all;
}

static int64_t trading_day_from(struct app *a)
{
    int64_t at = 0, day;
    if (sched_prev_reset(a->cfg.daily_reset.timezone, a->cfg.daily_reset.seconds, app_now_ms(), &at, &day))
        return 0;
    return at;
}

/* Every order a plugin causes passes here (SPEC 12): the account's limits, then
 * the plugin's. */
static int risk_order(struct app *a, struct plugin *p, const char *symbol, double lot, char *err, size_t errlen)
{
    const struct cfg_risk_limits *acct = &a->cfg.risk.account, *own = risk_plugin_limits(&a->cfg, p->id);
    int64_t from = trading_day_from(a);
    struct risk_figures f;
    int tripped = 0, rc = 0;
    if (!a->risk) {             /* never in the daemon (app_init fails without it) */
        snprintf(err, errlen, "risk: the money guard is not running");
        return risk_any(acct) || risk_any(own) ? -1 : 0;
    }
    risk_set_day(a->risk, from);
    if (risk_any(acct) || risk_paused(a->risk, "")) {
        risk_figures_of(a, NULL, symbol, from, &f);
        rc = risk_check(a->risk, "", acct, &f, lot, &tripped, err, errlen);
        if (tripped) {
            char note[400];
            snprintf(note, sizeof note, "🛑 %.*s (no plugin opens trades)", (int)sbuf_utf8_prefix(err, 300), err);
            chat_notify(a, note);
        }
    }
    if (rc == 0 && (risk_any(own) || risk_paused(a->risk, p->id))) {
        risk_figures_of(a, p, symbol, from, &f);
        rc = risk_check(a->risk, p->id, own, &f, lot, &tripped, err, errlen);
        if (tripped) {
            char note[400];
            snprintf(note, sizeof note, "🛑 %s: %.*s", p->id, (int)sbuf_utf8_prefix(err, 300), err);
            chat_notify(a, note);
        }
    }
    if (rc)
        LOG_I("engine", "%s: %.2f %s refused: %s", p->id, lot, symbol, err);
    return rc;
}

int eng_risk_figures(struct app *a, struct plugin *p, const char *symbol, struct risk_figures *f)
{
    int64_t from = trading_day_from(a);
    if (a->risk)
        risk_set_day(a->risk, from);
    risk_figures_of(a, p, symbol, from, f);
    return 0;
}

double eng_order_lot(struct app *a, struct plugin *p, const char *symbol, double lot)
{
    struct cfg_symbol sym = cfg_symbol_get(&a->cfg, symbol);
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

/* Asynchronous broker: record the trade as pending and send the order; the
 * fill (ticket, price, lots) and on_order_placed come with the result. */
static int open_async(struct app *a, struct plugin *p, const zx_order_req *req, double lot,
                      const char *comment, zx_order *out, char *err, size_t errlen)
{
    struct engine *e = E(a);
    double bid, ask, est = 0;
    char e2[256];
    if (e->brk->ops->quote(e->brk->self, req->symbol, &bid, &ask, NULL) == 0)
        est = req->side == ZX_BUY ? ask : bid;
    struct ldg_trade t = {.side = req->side, .lot = lot, .entry = est, .sl = req->sl, .tp = req->tp,
                          .entry_ms = app_now_ms(), .signal_id = e->cur == p ? e->cur_signal : 0};
    snprintf(t.symbol, sizeof t.symbol, "%s", req->symbol);
    snprintf(t.comment, sizeof t.comment, "%s", comment);
    snprintf(t.broker_state, sizeof t.broker_state, "pending");
    if (ldg_insert_open(p->ldg, &t, e2, sizeof e2)) {
        snprintf(err, errlen, "could not record the trade (%s); nothing was sent", e2);
        metrics_order(a, p->id, 0);
        return -1;
    }
    struct broker_request rq = {.op = "open", .plugin = p->id, .trade_id = t.id, .symbol = req->symbol,
                                .side = req->side, .volume = lot, .sl = req->sl, .tp = req->tp};
    int64_t rid;
    if (e->brk->ops->submit(e->brk->self, &rq, &rid, err, errlen)) {
        char why[200];
        snprintf(why, sizeof why, "rejected: %.*s", (int)sbuf_utf8_prefix(err, 180), err);
        ldg_reject(p->ldg, t.id, why, app_now_ms());
        metrics_order(a, p->id, 0);
        return -1;
    }
    struct epos ep = {.trade_id = t.id, .side = req->side, .lot = lot, .entry = est, .sl = req->sl,
                      .tp = req->tp, .open_ms = t.entry_ms, .pending = 1, .term_profit = NAN};
    snprintf(ep.plugin, sizeof ep.plugin, "%s", p->id);
    snprintf(ep.symbol, sizeof ep.symbol, "%s", req->symbol);
    if (add_pos(e, &ep))
        LOG_E("engine", "out of memory: trade %s#%lld is not watched", p->id, (long long)t.id);
    memset(out, 0, sizeof *out);
    out->trade_id = t.id;
    out->signal_id = t.signal_id;
    out->side = req->side;
    snprintf(out->symbol, sizeof out->symbol, "%s", req->symbol);
    out->lot = lot;
    out->price = est;
    out->sl = req->sl;
    out->tp = req->tp;
    out->time_ms = t.entry_ms;
    if (e->cur == p && !e->cur_first_trade)
        e->cur_first_trade = t.id;
    metrics_order(a, p->id, 1);
    LOG_I("engine", "%s #%lld %s %.2f %s sent to the %s broker (request %lld)", p->id, (long long)t.id,
          req->side == ZX_BUY ? "BUY" : "SELL", lot, req->symbol, e->brk->ops->kind, (long long)rid);
    return 0;
}

int eng_open(struct app *a, struct plugin *p, const zx_order_req *req, zx_order *out, char *err,
             size_t errlen)
{
    struct engine *e = E(a);
    struct broker_fill fill;
    char e2[256];
    if (p->st != PLG_ENABLED) {
        snprintf(err, errlen, "%s is %s: it cannot open trades", p->id, reg_state_name(p->st));
        return -1;
    }
    if (a->paused) {
        snprintf(err, errlen, "trading is paused (/resume to open trades again)");
        return -1;
    }
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
    struct cfg_symbol sym = cfg_symbol_get(&a->cfg, req->symbol);
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
    if (risk_order(a, p, req->symbol, lot, err, errlen)) {
        metrics_order(a, p->id, 0);
        return -1;
    }
    char comment[128];
    snprintf(comment, sizeof comment, "%s", req->comment ? req->comment : "");
    if (e->brk->ops->ready && e->brk->ops->ready(e->brk->self, err, errlen)) {
        metrics_order(a, p->id, 0);
        return -1;
    }
    if (is_async(e))
        return open_async(a, p, req, lot, comment, out, err, errlen);
    if (e->brk->ops->place(e->brk->self, req->symbol, req->side, lot, req->sl, req->tp, comment, &fill,
                           err, errlen)) {
        metrics_order(a, p->id, 0);
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
        metrics_order(a, p->id, 0);
        return -1;
    }
    struct epos ep = {.trade_id = t.id, .ticket = fill.ticket, .side = req->side, .lot = fill.lot,
                      .entry = fill.price, .sl = req->sl, .tp = req->tp, .open_ms = fill.time_ms, .term_profit = NAN};
    snprintf(ep.plugin, sizeof ep.plugin, "%s", p->id);
    snprintf(ep.symbol, sizeof ep.symbol, "%s", req->symbol);
    if (add_pos(e, &ep))
        LOG_E("engine", "out of memory: trade %s#%lld is not watched for SL/TP", p->id, (long long)t.id);
    memset(out, 0, sizeof *out);
    out->trade_id = t.id;
    out->order_id = fill.ticket;
    out->signal_id = t.signal_id;
    out->side = req->side;
    snprintf(out->symbol, sizeof out->symbol, "%s", req->symbol);
    out->lot = fill.lot;
    out->price = fill.price;
    out->sl = req->sl;
    out->tp = req->tp;
    out->time_ms = fill.time_ms;
    if (e->cur == p && !e->cur_first_trade)
        e->cur_first_trade = t.id;
    metrics_order(a, p->id, 1);
    char note[200];
    snprintf(note, sizeof note, "%s opened #%lld %s %.2f %s at %.5f", p->id, (long long)t.id,
             req->side == ZX_BUY ? "BUY" : "SELL", fill.lot, req->symbol, fill.price);
    notify_send(a, "trades", note);     /* logs it too */
    reg_post_order(&a->reg, p, out);
    return 0;
}

/* Record the close of qty lots (all when qty <= 0 or within half a hundredth
 * of the position) at price; money NAN = compute it. ep may be freed. */
static int record_close(struct app *a, struct plugin *p, struct epos *ep, double qty, double price,
                        double money, int64_t time_ms, const char *reason, char *err, size_t errlen)
{
    struct engine *e = E(a);
    double pips, computed;
    int full = qty <= 0 || qty >= ep->lot - 0.005;
    if (full)
        qty = ep->lot;
    struct epos part = *ep;
    part.lot = qty;
    value(a, &part, price, &pips, &computed);
    if (!isfinite(money))
        money = computed;
    if (ldg_record_close(p->ldg, ep->trade_id, full ? 0 : qty, price, pips, money, time_ms, reason, err,
                         errlen)) {
        LOG_E("engine", "%s: trade #%lld closed at the broker but not recorded: %s", p->id,
              (long long)ep->trade_id, err);
        return -1;
    }
    e->realized += money;
    if (paper_is(e->brk))
        paper_set_realized(e->brk, e->realized);
    zx_position pos;
    to_position(&part, &pos);
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
        del_pos(e, ep);
    } else {
        ep->lot -= qty;
        ep->term_profit = NAN;
    }
    update_floating(a);
    reg_post_position(&a->reg, p, &pos);
    notify_send(a, "trades", note);
    return 0;
}

/* Asynchronous broker: send the close; the result records it. */
static int close_async(struct app *a, struct plugin *p, struct epos *ep, double qty, const char *reason,
                       char *err, size_t errlen)
{
    struct engine *e = E(a);
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
static int close_pos(struct app *a, struct plugin *p, struct epos *ep, double lot, const char *reason,
                     char *err, size_t errlen)
{
    struct engine *e = E(a);
    struct broker_fill fill;
    int full = lot <= 0 || lot >= ep->lot - 0.005;
    struct cfg_symbol sym = cfg_symbol_get(&a->cfg, ep->symbol);
    double qty = full ? ep->lot : round_lot(&sym, lot);
    if (!full && (qty < sym.min_lot - 1e-9 || ep->lot - qty < sym.min_lot - 1e-9)) {
        snprintf(err, errlen, "lot: a partial close needs at least %g lot and must leave %g", sym.min_lot,
                 sym.min_lot);
        return -1;
    }
    if (is_async(e))
        return close_async(a, p, ep, qty, reason, err, errlen);
    if (e->brk->ops->close(e->brk->self, ep->ticket, ep->symbol, ep->side, qty, &fill, err, errlen))
        return -1;
    return record_close(a, p, ep, full ? 0 : qty, fill.price, NAN, fill.time_ms, reason, err, errlen);
}

int eng_close(struct app *a, struct plugin *p, int64_t trade_id, double lot, const char *reason,
              char *err, size_t errlen)
{
    struct epos *ep = find_pos(E(a), p->id, trade_id);
    if (!ep) {
        snprintf(err, errlen, "trade %lld is not an open trade of %s", (long long)trade_id, p->id);
        return -1;
    }
    if (!isfinite(lot) || lot < 0) {
        snprintf(err, errlen, "lot: must be 0 (all) or a positive number");
        return -1;
    }
    return close_pos(a, p, ep, lot, reason, err, errlen);
}

int eng_modify(struct app *a, struct plugin *p, int64_t trade_id, double sl, double tp, char *err,
               size_t errlen)
{
    struct engine *e = E(a);
    struct epos *ep = find_pos(e, p->id, trade_id);
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

int eng_positions(struct app *a, struct plugin *p, zx_position *out, int max)
{
    struct engine *e = E(a);
    int n = 0;
    for (size_t i = 0; i < e->npos && n < max; i++) {
        struct epos *ep = &e->pos[i];
        if (p && strcmp(ep->plugin, p->id) != 0)
            continue;
        to_position(ep, &out[n]);
        double bid, ask;
        if (!ep->pending && e->brk->ops->quote(e->brk->self, ep->symbol, &bid, &ask, NULL) == 0) {
            out[n].current_price = ep->side == ZX_BUY ? bid : ask;
            value(a, ep, out[n].current_price, &out[n].profit_pips, &out[n].profit_money);
        }
        n++;
    }
    return n;
}

int eng_on_quote(struct app *a, const char *symbol, double bid, double ask, char *err, size_t errlen)
{
    struct engine *e = E(a);
    if (paper_is(e->brk) && paper_set_quote(e->brk, symbol, bid, ask, app_now_ms(), err, errlen))
        return -1;
    if (mt5_is(e->brk) && mt5_set_quote(e->brk, symbol, bid, ask)) {
        snprintf(err, errlen, "bid/ask: need bid > 0 and ask >= bid");
        return -1;
    }
    /* Closing reorders the cache: walk a snapshot of the affected trades. */
    size_t n = 0;
    struct { char plugin[64]; int64_t id; } *todo = malloc((e->npos ? e->npos : 1) * sizeof *todo);
    if (!todo)
        return 0;
    for (size_t i = 0; i < e->npos; i++)
        if (strcmp(e->pos[i].symbol, symbol) == 0) {
            memcpy(todo[n].plugin, e->pos[i].plugin, sizeof todo[n].plugin);
            todo[n++].id = e->pos[i].trade_id;
        }
    for (size_t i = 0; i < n; i++) {
        struct epos *ep = find_pos(e, todo[i].plugin, todo[i].id);
        struct plugin *p = reg_find(&a->reg, todo[i].plugin);
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
            if (close_pos(a, p, ep, 0, hit, e2, sizeof e2))
                LOG_E("engine", "%s: %s close of #%lld failed: %s", p->id, hit, (long long)todo[i].id, e2);
            continue;
        }
        if (px == ep->last_price)
            continue;
        ep->last_price = px;
        zx_position pos;
        to_position(ep, &pos);
        pos.current_price = px;
        value(a, ep, px, &pos.profit_pips, &pos.profit_money);
        reg_post_position(&a->reg, p, &pos);
    }
    free(todo);
    update_floating(a);
    return 0;
}

int eng_quote(struct app *a, const char *symbol, double *bid, double *ask)
{
    struct engine *e = E(a);
    return e->brk->ops->quote(e->brk->self, symbol, bid, ask, NULL);
}

int eng_pip_value(struct app *a, const char *symbol, double price, double *pip_value)
{
    struct cfg_symbol s = cfg_symbol_get(&a->cfg, symbol);
    double f;
    int rc = pnl_conversion(symbol, price, quote_mid, E(a), &f);
    *pip_value = pnl_pip_value(&s, f);
    return rc == 0 && *pip_value > 0 ? 0 : -1;
}

int eng_symbol_info(struct app *a, const char *symbol, double *pip_size, double *pip_value)
{
    struct cfg_symbol s = cfg_symbol_get(&a->cfg, symbol);
    double mid, f;
    if (quote_mid(E(a), symbol, &mid))
        return -1;
    pnl_conversion(symbol, mid, quote_mid, E(a), &f);
    *pip_size = s.pip_size;
    *pip_value = pnl_pip_value(&s, f);
    return 0;
}

int eng_account(struct app *a, double *balance, double *equity)
{
    struct engine *e = E(a);
    return e->brk->ops->account(e->brk->self, balance, equity);
}

void eng_batch_begin(struct app *a)
{
    for (size_t i = 0; i < a->reg.n; i++) {
        struct plugin *p = a->reg.v[i];
        p->batch_failed = 0;
        p->batch_err[0] = '\0';
        if (p->ldg && ldg_begin(p->ldg)) {
            /* Without a transaction its writes would commit one by one: the
             * journal dispatches nothing to it in this batch (eng_dispatch_one). */
            snprintf(p->batch_err, sizeof p->batch_err, "cannot begin a transaction: %s",
                     sqlite3_errmsg(ldg_db(p->ldg)));
            LOG_E("engine", "%s: %s", p->id, p->batch_err);
            p->batch_failed = 1;
        }
    }
    E(a)->in_batch = 1;
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

int eng_batch_commit(struct app *a)
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
            LOG_E("engine", "%s: committing trades failed: %s", p->id, p->batch_err);
            p->batch_failed = 1;
            failed++;
            continue;
        }
        if (++committed == crash_after_commit())
            raise(SIGKILL);
    }
    E(a)->in_batch = 0;
    return failed;
}

void eng_resync(struct app *a)
{
    struct engine *e = E(a);
    e->npos = 0;
    e->realized = 0;
    for (size_t i = 0; i < a->reg.n; i++)
        if (a->reg.v[i]->ldg)
            eng_adopt(a, a->reg.v[i]);
    update_floating(a);
    LOG_W("engine", "positions rebuilt from the ledgers: %zu open", e->npos);
}

static void result(struct eng_result *r, struct plugin *p, const char *status, int64_t trade, const char *why)
{
    memset(r, 0, sizeof *r);
    snprintf(r->plugin, sizeof r->plugin, "%s", p->id);
    r->status = status;
    r->trade_id = trade;
    snprintf(r->reason, sizeof r->reason, "%.*s", (int)sbuf_utf8_prefix(why ? why : "", 199), why ? why : "");
}

static void execute_close(struct app *a, struct plugin *p, const zx_signal *zs, struct eng_result *r)
{
    struct engine *e = E(a);
    int closed = 0, failed = 0;
    int64_t first = 0;
    char err[256] = "";
    for (size_t i = 0; i < e->npos;) {
        struct epos *ep = &e->pos[i];
        int match = strcmp(ep->plugin, p->id) == 0 &&
                    (zs->action == SIG_CLOSE_ALL ||
                     (strcmp(ep->symbol, zs->symbol) == 0 &&
                      (zs->action == ZX_CLOSE || (zs->action == ZX_CLOSE_LONG && ep->side == ZX_BUY) ||
                       (zs->action == ZX_CLOSE_SHORT && ep->side == ZX_SELL))));
        if (!match) {
            i++;
            continue;
        }
        int64_t id = ep->trade_id;
        if (close_pos(a, p, ep, 0, "signal", err, sizeof err)) {
            failed++;
            i++;
            continue;
        }
        if (!first)
            first = id;
        closed++;
        /* A close sent to an asynchronous broker leaves the entry: go on. Otherwise
         * ep was replaced by the last entry: look at index i again. */
        if (i < e->npos && e->pos[i].trade_id == id && strcmp(e->pos[i].plugin, p->id) == 0)
            i++;
    }
    char why[200];
    if (failed)
        snprintf(why, sizeof why, "closed %d, %d failed: %.*s", closed, failed,
                 (int)sbuf_utf8_prefix(err, 150), err);
    else if (closed && is_async(e))
        snprintf(why, sizeof why, "close sent for %d trade%s", closed, closed == 1 ? "" : "s");
    else if (closed)
        snprintf(why, sizeof why, "closed %d trade%s", closed, closed == 1 ? "" : "s");
    else if (zs->action == SIG_CLOSE_ALL)
        snprintf(why, sizeof why, "no open trades to close");
    else
        snprintf(why, sizeof why, "no open %s trades to close", zs->symbol);
    result(r, p, failed ? "failed" : closed ? "executed" : "skipped", first, why);
}

static void execute_accept(struct app *a, struct plugin *p, const zx_signal *zs, const sig_parsed *s,
                           struct eng_result *r)
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
    double lot = zs->lot > 0 ? zs->lot : plugin_number(p, "default_lot", 0.01);
    zx_order_req req = {.side = zs->action, .lot = lot * zs->lot_multiplier, .sl = zs->sl, .tp = zs->tp,
                        .comment = zs->comment};
    memcpy(req.symbol, zs->symbol, sizeof req.symbol);
    zx_order o;
    if (eng_open(a, p, &req, &o, err, sizeof err)) {
        result(r, p, "failed", 0, err);
        return;
    }
    /* Say what was done where it differs from what was asked. */
    char note[200] = "";
    int n = 0;
    if (is_async(E(a)))
        n = snprintf(note, sizeof note, "sent to the terminal, %.2f lot", o.lot);
    else
        n = snprintf(note, sizeof note, "filled at %.10g, the %s%s", o.price, zs->action == ZX_BUY ? "ask" : "bid",
                     zs->price > 0 && fabs(o.price - zs->price) > 1e-9 ? " of the last quote (not the signal's price)"
                                                                      : "");
    double cap = plugin_number(p, "max_lot_size", ENG_DEFAULT_MAX_LOT);
    if (n > 0 && (size_t)n < sizeof note && cap > 0 && req.lot > cap + 1e-9)
        n += snprintf(note + n, sizeof note - (size_t)n, "; lot capped at max_lot_size %.2f (asked %.2f)", cap,
                      req.lot);
    if (n > 0 && (size_t)n < sizeof note && s->sizing[0] && zs->lot == s->lot)
        snprintf(note + n, sizeof note - (size_t)n, "; %.*s", (int)sbuf_utf8_prefix(s->sizing, 150), s->sizing);
    result(r, p, "executed", o.trade_id, note);
}

void eng_signal_begin(struct app *a, const sig_parsed *s)
{
    struct engine *e = E(a);
    if (s->price > 0 && paper_is(e->brk))
        paper_quote_from_price(e->brk, s->symbol, s->price, app_now_ms());
}

void eng_dispatch_one(struct app *a, struct plugin *p, const sig_parsed *s, int64_t signal_id,
                      const char *source, struct eng_result *r)
{
    struct engine *e = E(a);
    int opening = s->action == ZX_BUY || s->action == ZX_SELL;
    if (e->in_batch && p->batch_failed) {
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
        e->cur = p;
        e->cur_signal = signal_id;
        execute_close(a, p, &zs, r);
        e->cur = NULL;
        e->cur_signal = 0;
        return;
    }
    char reversed[200] = "";
    if (s->reverse && opening) {    /* closelongbuy / closeshortsell: the other side first */
        zx_signal zc = {.id = signal_id, .source = source,
                        .action = s->action == ZX_BUY ? ZX_CLOSE_SHORT : ZX_CLOSE_LONG};
        memcpy(zc.symbol, s->symbol, sizeof zc.symbol);
        e->cur = p;
        e->cur_signal = signal_id;
        execute_close(a, p, &zc, r);
        e->cur = NULL;
        e->cur_signal = 0;
        if (strcmp(r->status, "failed") == 0)
            return;           /* never open the new side while the old one is still open */
        snprintf(reversed, sizeof reversed, "%.*s", (int)sbuf_utf8_prefix(r->reason, 150), r->reason);
    }
    zx_signal zs = {.id = signal_id, .source = source, .action = s->action, .price = s->price,
                    .sl = s->sl, .tp = s->tp, .lot = s->lot, .lot_multiplier = 1.0,
                    .comment = s->comment};
    memcpy(zs.symbol, s->symbol, sizeof zs.symbol);
    char reason[200] = "";
    e->cur = p;
    e->cur_signal = signal_id;
    e->cur_first_trade = 0;
    double t0 = ev_time();
    zx_verdict v = reg_call_signal(&a->reg, p, &zs, reason, sizeof reason);
    metrics_hook_latency(a, ev_time() - t0);
    /* The hook may not change what the signal is. */
    memcpy(zs.symbol, s->symbol, sizeof zs.symbol);
    zs.action = s->action;
    if (v == ZX_REJECT)
        result(r, p, "rejected", 0, reason[0] ? reason : "rejected by the plugin");
    else if (v == ZX_HANDLED)
        result(r, p, "handled", e->cur_first_trade, reason);
    else
        execute_accept(a, p, &zs, s, r);
    e->cur = NULL;
    e->cur_signal = 0;
    /* "Why didn't it trade" reaches the chat (SPEC 12 rejects); a disabled
     * plugin skipped by a signal to all is the operator's choice, not news. */
    if (strcmp(r->status, "executed") != 0 && strcmp(r->status, "handled") != 0 &&
        (s->plugin[0] || p->st != PLG_DISABLED)) {
        char note[400];
        snprintf(note, sizeof note, "🚫 %s %s %s %s: %.*s", p->id, r->status, sig_action_name(s->action),
                 s->symbol, (int)sbuf_utf8_prefix(r->reason, 200), r->reason);
        notify_send(a, "rejects", note);
    }
    if (reversed[0]) {
        char both[sizeof r->reason];
        snprintf(both, sizeof both, "%.*s, then %.*s", (int)sbuf_utf8_prefix(reversed, 90), reversed, (int)sbuf_utf8_prefix(r->reason[0] ? r->reason : r->status, 100), r->reason[0] ? r->reason : r->status);
        snprintf(r->reason, sizeof r->reason, "%s", both);
    }
}

size_t eng_dispatch(struct app *a, const sig_parsed *s, int64_t signal_id, const char *source,
                    struct eng_result *res, size_t max)
{
    size_t n = 0;
    eng_signal_begin(a, s);
    for (size_t i = 0; i < a->reg.n && n < max; i++) {
        struct plugin *p = a->reg.v[i];
        if (s->plugin[0] && strcmp(s->plugin, p->id) != 0)
            continue;
        eng_dispatch_one(a, p, s, signal_id, source, &res[n++]);
    }
    return n;
}

/* ---- asynchronous brokers report back ---- */

static void open_result(struct app *a, struct plugin *p, struct epos *ep, const struct broker_result *r)
{
    struct engine *e = E(a);
    char note[400];
    if (r->ok && r->ticket > 0 && r->price > 0) {
        double lot = r->volume > 0 ? r->volume : ep->lot;
        if (ldg_fill(p->ldg, ep->trade_id, r->ticket, r->price, lot) < 0)
            LOG_E("engine", "%s: the fill of #%lld is not recorded: %s", p->id, (long long)ep->trade_id,
                  sqlite3_errmsg(ldg_db(p->ldg)));
        ep->pending = 0;
        ep->ticket = r->ticket;
        ep->entry = r->price;
        ep->lot = lot;
        zx_order o = {.trade_id = ep->trade_id, .order_id = r->ticket, .side = ep->side, .lot = lot,
                      .price = r->price, .sl = ep->sl, .tp = ep->tp, .time_ms = app_now_ms()};
        snprintf(o.symbol, sizeof o.symbol, "%s", ep->symbol);
        struct ldg_trade t;
        if (ldg_get(p->ldg, ep->trade_id, &t) == 0)
            o.signal_id = t.signal_id;
        snprintf(note, sizeof note, "%s opened #%lld %s %.2f %s at %.5f (ticket %lld)", p->id,
                 (long long)ep->trade_id, ep->side == ZX_BUY ? "BUY" : "SELL", lot, ep->symbol, r->price,
                 (long long)r->ticket);
        chat_notify(a, note);
        reg_post_order(&a->reg, p, &o);
        return;
    }
    if (r->ok && r->ticket > 0) {
        /* Executed, but the terminal had no fill price yet: the position with
         * this ticket fills it (fill_from_positions). Never "rejected". */
        LOG_W("engine", "%s #%lld executed as ticket %lld without a price: filled from the positions", p->id,
              (long long)ep->trade_id, (long long)r->ticket);
        ep->ticket = r->ticket;
        return;
    }
    char why[200];
    const char *msg = r->ok ? "no ticket or price in the result" : r->error;
    snprintf(why, sizeof why, "rejected: %.*s", (int)sbuf_utf8_prefix(msg, 180), msg);
    if (ldg_reject(p->ldg, ep->trade_id, why, app_now_ms()) < 0)
        LOG_E("engine", "%s: the rejection of #%lld is not recorded: %s", p->id, (long long)ep->trade_id,
              sqlite3_errmsg(ldg_db(p->ldg)));
    zx_position pos;
    to_position(ep, &pos);
    pos.closed = 1;
    pos.close_reason = "rejected";
    snprintf(note, sizeof note, "%s order #%lld %s %.2f %s %s", p->id, (long long)ep->trade_id,
             ep->side == ZX_BUY ? "BUY" : "SELL", ep->lot, ep->symbol, why);
    del_pos(e, ep);
    reg_post_position(&a->reg, p, &pos);
    chat_notify(a, note);
}

void eng_broker_result(struct app *a, const struct broker_result *r)
{
    struct engine *e = E(a);
    struct plugin *p = reg_find(&a->reg, r->plugin);
    struct epos *ep = p ? find_pos(e, p->id, r->trade_id) : NULL;
    char note[400], err[256];
    if (!p || !p->ldg || !ep) {
        LOG_W("engine", "result of %s for %s #%lld: no such open trade, ignored", r->op, r->plugin,
              (long long)r->trade_id);
        return;
    }
    if (strcmp(r->op, "open") == 0) {
        if (ep->pending)
            open_result(a, p, ep, r);
        return;
    }
    if (ep->pending)
        return;
    if (strcmp(r->op, "close") == 0) {
        char reason[16];
        sbuf_fmt(reason, sizeof reason, "%s", ep->close_reason[0] ? ep->close_reason : "manual");
        ep->closing = 0;
        ep->close_reason[0] = '\0';
        if (r->ok && r->deal_applied) {
            LOG_I("engine", "%s #%lld: the close's deal was applied from the closed deals already", p->id,
                  (long long)r->trade_id);
            return;
        }
        if (r->ok && r->price > 0) {
            record_close(a, p, ep, r->volume, r->price, r->profit, app_now_ms(), reason, err, sizeof err);
            return;
        }
        snprintf(note, sizeof note, "%s: the close of #%lld failed in the terminal: %.*s", p->id,
                 (long long)r->trade_id, (int)sbuf_utf8_prefix(r->ok ? "no price in the result" : r->error, 200),
                 r->ok ? "no price in the result" : r->error);
        chat_notify(a, note);
    } else if (strcmp(r->op, "modify") == 0) {
        if (r->ok) {
            if (ldg_update_sltp(p->ldg, ep->trade_id, r->sl, r->tp))
                LOG_E("engine", "%s: SL/TP of #%lld not recorded: %s", p->id, (long long)ep->trade_id,
                      sqlite3_errmsg(ldg_db(p->ldg)));
            ep->sl = r->sl;
            ep->tp = r->tp;
            return;
        }
        snprintf(note, sizeof note, "%s: the SL/TP change of #%lld failed in the terminal: %.*s", p->id,
                 (long long)r->trade_id, (int)sbuf_utf8_prefix(r->error, 200), r->error);
        chat_notify(a, note);
    }
}

int eng_knows_ticket(struct app *a, int64_t ticket)
{
    struct engine *e = E(a);
    for (size_t i = 0; i < e->npos; i++)
        if (ticket > 0 && e->pos[i].ticket == ticket)
            return 1;
    return 0;
}

static const struct broker_position *find_bpos(const struct broker_position *pos, int n, int64_t ticket)
{
    for (int i = 0; i < n; i++)
        if (pos[i].ticket == ticket)
            return &pos[i];
    return NULL;
}

/* The price a position would close at now: the quote, else the last one seen. */
static double close_price(struct engine *e, const struct epos *ep)
{
    double bid, ask;
    if (e->brk->ops->quote(e->brk->self, ep->symbol, &bid, &ask, NULL) == 0)
        return ep->side == ZX_BUY ? bid : ask;
    return ep->last_price > 0 ? ep->last_price : ep->entry;
}

/* A pending trade whose result never came (or came without a price), but
 * whose position is there (matched by the broker from its open request:
 * comment, magic, symbol; or by the ticket of that result): fill it. */
static void fill_from_positions(struct app *a, const struct broker_position *pos, int npos)
{
    struct engine *e = E(a);
    for (int i = 0; i < npos; i++) {
        struct epos *ep = pos[i].plugin[0] ? find_pos(e, pos[i].plugin, pos[i].trade_id) : NULL;
        struct epos *other = find_ticket(e, pos[i].ticket);
        for (size_t k = 0; !ep && k < e->npos; k++)
            if (e->pos[k].pending && e->pos[k].ticket > 0 && e->pos[k].ticket == pos[i].ticket)
                ep = &e->pos[k];    /* executed without a price: this is its position */
        if (!ep || !ep->pending || other)
            continue;
        char plugin[64];
        int64_t id = ep->trade_id;
        snprintf(plugin, sizeof plugin, "%s", ep->plugin);
        struct plugin *p = reg_find(&a->reg, plugin);
        if (!p)
            continue;
        struct broker_result r = {.op = "open", .plugin = plugin, .trade_id = id, .ok = 1,
                                  .ticket = pos[i].ticket, .price = pos[i].price_open,
                                  .volume = pos[i].volume, .profit = NAN};
        LOG_W("engine", "%s #%lld filled from the terminal's positions (its result was not seen)", plugin,
              (long long)id);
        open_result(a, p, ep, &r);
    }
}

void eng_broker_sync(struct app *a, const struct broker_position *pos, int npos,
                     const struct broker_closed *closed, int nclosed)
{
    struct engine *e = E(a);
    char err[256];
    for (int i = 0; i < nclosed; i++) {
        struct epos *ep = find_ticket(e, closed[i].ticket);
        struct plugin *p = ep ? reg_find(&a->reg, ep->plugin) : NULL;
        if (!p || !p->ldg)
            continue;
        record_close(a, p, ep, closed[i].volume, closed[i].price, closed[i].profit,
                     closed[i].time_ms ? closed[i].time_ms : app_now_ms(), closed[i].reason, err, sizeof err);
    }
    if (npos < 0)
        return;
    fill_from_positions(a, pos, npos);
    /* Closing reorders the cache: walk a snapshot of the filled trades. */
    size_t n = 0;
    struct { char plugin[64]; int64_t id; } *todo = malloc((e->npos ? e->npos : 1) * sizeof *todo);
    if (!todo)
        return;
    for (size_t i = 0; i < e->npos; i++)
        if (!e->pos[i].pending && e->pos[i].ticket > 0) {
            memcpy(todo[n].plugin, e->pos[i].plugin, sizeof todo[n].plugin);
            todo[n++].id = e->pos[i].trade_id;
        }
    for (size_t i = 0; i < n; i++) {
        struct epos *ep = find_pos(e, todo[i].plugin, todo[i].id);
        struct plugin *p = reg_find(&a->reg, todo[i].plugin);
        if (!ep || !p || !p->ldg)
            continue;
        const struct broker_position *bp = find_bpos(pos, npos, ep->ticket);
        if (!bp && ep->closing)
            continue;               /* our close is on its way: its result books it */
        if (!bp) {                  /* gone: closed at the terminal */
            record_close(a, p, ep, 0, close_price(e, ep), ep->term_profit, app_now_ms(), "terminal", err,
                         sizeof err);
            continue;
        }
        ep->term_profit = bp->profit;
        if (fabs(bp->sl - ep->sl) > 1e-9 || fabs(bp->tp - ep->tp) > 1e-9) {
            if (ldg_update_sltp(p->ldg, ep->trade_id, bp->sl, bp->tp) == 0) {
                ep->sl = bp->sl;
                ep->tp = bp->tp;
            }
        }
        /* Partly closed: its deal (closed[] or a close result) books it. Only a
         * deal still missing after SHORT_GRACE_MS is guessed at the quote. */
        if (bp->volume > 0 && bp->volume < ep->lot - 0.005 && !ep->closing) {
            int64_t now = app_now_ms();
            if (!ep->short_since_ms)
                ep->short_since_ms = now;
            else if (now - ep->short_since_ms >= SHORT_GRACE_MS)
                record_close(a, p, ep, ep->lot - bp->volume, close_price(e, ep), NAN, now, "terminal", err,
                             sizeof err);
        } else {
            ep->short_since_ms = 0;
        }
    }
    free(todo);
}
