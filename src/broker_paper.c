/*
 * broker_paper — the simulated broker (see broker_paper.h). It owns a quote
 * table (quotes.h) and the ticket counter. Positions, SL/TP checks and profit belong to the engine.
 *
 * Tickets: each order gets max(previous ticket + 1, wall clock in ms). Tickets
 * therefore increase strictly within a run, and stay unique across restarts as
 * long as the wall clock does not step back and a run does not place orders
 * faster, on average, than one per millisecond (the counter runs ahead of the
 * clock only during such bursts, and falls back onto it afterwards).
 *
 * Never blocks; no I/O; never frees or keeps a caller's pointer.
 */
#include "broker_paper.h"
#include "clock.h"
#include "quotes.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct paper {
    struct broker base;             /* first: base.self points back here */
    const struct config *cfg;       /* borrowed */
    struct quotes *qt;              /* owned: the last quote of every symbol */
    int64_t last_ticket;
    double balance;                 /* the starting balance: broker.paper_balance unless set */
    double realized;                /* account money of closed trades */
    double floating;                /* account money of open positions */
};

static void paper_fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void paper_fail(char *err, size_t errlen, const char *fmt, ...)
{
    if (!err || errlen == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

static int paper_check_symbol(const char *s, char *err, size_t errlen)
{
    return qt_check(s, 1, 1, err, errlen);
}

/* The last quote of symbol, or -1 with the reason. */
static int paper_need_quote(struct paper *p, const char *symbol, double *bid, double *ask, char *err,
                            size_t errlen)
{
    if (qt_get(p->qt, symbol, bid, ask, NULL) == 0)
        return 0;
    paper_fail(err, errlen, "no quote for %s yet: send one to POST /price or put price= in the "
               "signal", symbol);
    return -1;
}

/* ---- argument checks shared by the operations ---- */

static int paper_check_side(zx_action side, char *err, size_t errlen)
{
    if (side == ZX_BUY || side == ZX_SELL)
        return 0;
    paper_fail(err, errlen, "side: expected buy or sell, got %d", (int)side);
    return -1;
}

static int paper_check_lot(double lot, char *err, size_t errlen)
{
    if (isfinite(lot) && lot > 0)
        return 0;
    paper_fail(err, errlen, "lot: expected a finite number > 0, got %.10g", lot);
    return -1;
}

/* sl/tp: finite and >= 0 (0 = none). */
static int paper_check_level(const char *name, double v, char *err, size_t errlen)
{
    if (isfinite(v) && v >= 0)
        return 0;
    paper_fail(err, errlen, "%s: expected a finite number >= 0 (0 = none), got %.10g", name, v);
    return -1;
}

/* A buy needs sl < fill < tp, a sell tp < fill < sl, for the levels given. */
static int paper_check_levels_vs_fill(zx_action side, double fill, double sl, double tp, char *err,
                                      size_t errlen)
{
    int buy = side == ZX_BUY;
    const char *what = buy ? "buy fill price" : "sell fill price";
    const char *at = buy ? "ask" : "bid";
    if (sl > 0 && (buy ? !(sl < fill) : !(sl > fill))) {
        paper_fail(err, errlen, "sl: %.10g must be %s the %s %.10g (the %s)", sl,
                   buy ? "below" : "above", what, fill, at);
        return -1;
    }
    if (tp > 0 && (buy ? !(tp > fill) : !(tp < fill))) {
        paper_fail(err, errlen, "tp: %.10g must be %s the %s %.10g (the %s)", tp,
                   buy ? "above" : "below", what, fill, at);
        return -1;
    }
    return 0;
}

/* ---- the broker_ops ---- */

static int paper_place(void *self, const char *symbol, zx_action side, double lot, double sl,
                       double tp, const char *comment, struct broker_fill *out, char *err,
                       size_t errlen)
{
    struct paper *p = self;
    (void)comment;              /* nothing to carry it to */
    if (paper_check_symbol(symbol, err, errlen) || paper_check_side(side, err, errlen) ||
        paper_check_lot(lot, err, errlen) || paper_check_level("sl", sl, err, errlen) ||
        paper_check_level("tp", tp, err, errlen))
        return -1;
    double bid, ask;
    if (paper_need_quote(p, symbol, &bid, &ask, err, errlen))
        return -1;
    double fill = side == ZX_BUY ? ask : bid;
    if (paper_check_levels_vs_fill(side, fill, sl, tp, err, errlen))
        return -1;

    int64_t now = clk_now_ms();
    p->last_ticket = now > p->last_ticket ? now : p->last_ticket + 1;
    if (out) {
        out->ticket = p->last_ticket;
        out->price = fill;
        out->lot = lot;
        out->time_ms = now;
    }
    return 0;
}

static int paper_close(void *self, int64_t ticket, const char *symbol, zx_action side, double lot,
                       struct broker_fill *out, char *err, size_t errlen)
{
    struct paper *p = self;
    if (paper_check_symbol(symbol, err, errlen) || paper_check_side(side, err, errlen) ||
        paper_check_lot(lot, err, errlen))
        return -1;
    double bid, ask;
    if (qt_get(p->qt, symbol, &bid, &ask, NULL)) {
        paper_fail(err, errlen, "no quote for %s: cannot price the close of ticket %lld; send one "
                   "to POST /price", symbol, (long long)ticket);
        return -1;
    }
    if (out) {
        out->ticket = ticket;
        out->price = side == ZX_BUY ? bid : ask;
        out->lot = lot;
        out->time_ms = clk_now_ms();
    }
    return 0;
}

/* The engine keeps sl/tp and checks them on quotes; here only the values. */
static int paper_modify(void *self, int64_t ticket, double sl, double tp, char *err, size_t errlen)
{
    (void)self;
    if (ticket <= 0) {
        paper_fail(err, errlen, "ticket: expected a positive ticket, got %lld", (long long)ticket);
        return -1;
    }
    if (paper_check_level("sl", sl, err, errlen) || paper_check_level("tp", tp, err, errlen))
        return -1;
    return 0;
}

static int paper_quote(void *self, const char *symbol, double *bid, double *ask, int64_t *time_ms)
{
    const struct paper *p = self;
    return qt_get(p->qt, symbol, bid, ask, time_ms);
}

static int paper_op_set_quote(void *self, const char *symbol, double bid, double ask, int64_t time_ms, char *err,
                              size_t errlen)
{
    struct paper *p = self;
    return qt_set(p->qt, symbol, bid, ask, time_ms, err, errlen);
}

static int paper_op_quote_from_price(void *self, const char *symbol, double price, int64_t time_ms)
{
    struct paper *p = self;
    return paper_quote_from_price(&p->base, symbol, price, time_ms);
}

static void paper_set_pnl(void *self, double realized, double floating)
{
    struct paper *p = self;
    p->realized = realized;
    p->floating = floating;
}

static int paper_account(void *self, double *balance, double *equity)
{
    const struct paper *p = self;
    double bal = p->balance + p->realized;
    if (balance)
        *balance = bal;
    if (equity)
        *equity = bal + p->floating;
    return 0;
}

static void paper_destroy(void *self)
{
    struct paper *p = self;
    if (!p)
        return;
    qt_free(p->qt);
    free(p);
}

static const struct broker_ops paper_ops = {
    .kind = "paper",
    .place = paper_place,
    .close = paper_close,
    .modify = paper_modify,
    .quote = paper_quote,
    .set_quote = paper_op_set_quote,
    .quote_from_price = paper_op_quote_from_price,
    .set_pnl = paper_set_pnl,
    .account = paper_account,
    .destroy = paper_destroy,
};

/* ---- the public API ---- */

struct broker *paper_new(const struct config *cfg, char *err, size_t errlen)
{
    if (!cfg) {
        paper_fail(err, errlen, "paper broker: no configuration");
        return NULL;
    }
    struct paper *p = calloc(1, sizeof *p);
    if (!p || !(p->qt = qt_new())) {
        free(p);
        paper_fail(err, errlen, "paper broker: out of memory");
        return NULL;
    }
    p->cfg = cfg;
    p->balance = cfg->broker.paper_balance;
    p->last_ticket = clk_now_ms() - 1;    /* the first ticket is the clock */
    p->base.ops = &paper_ops;
    p->base.self = p;
    return &p->base;
}

int paper_is(const struct broker *b)
{
    return b && b->ops == &paper_ops && b->self;
}

static struct paper *paper_of(struct broker *b)
{
    return paper_is(b) ? b->self : NULL;
}

int paper_set_quote(struct broker *b, const char *symbol, double bid, double ask, int64_t time_ms,
                    char *err, size_t errlen)
{
    struct paper *p = paper_of(b);
    if (!p) {
        paper_fail(err, errlen, "not a paper broker");
        return -1;
    }
    return qt_set(p->qt, symbol, bid, ask, time_ms, err, errlen);
}

int paper_quote_from_price(struct broker *b, const char *symbol, double price, int64_t time_ms)
{
    struct paper *p = paper_of(b);
    if (!p || qt_check(symbol, 1, 1, NULL, 0) || !isfinite(price) || !(price > 0))
        return -1;
    if (qt_get(p->qt, symbol, NULL, NULL, NULL) == 0)
        return 0;
    struct cfg_symbol s = cfg_symbol_get(p->cfg, symbol);
    double half = p->cfg->broker.paper_spread_pips * s.pip_size / 2;
    if (!isfinite(half) || half < 0 || !(price - half > 0))
        return -1;
    return qt_set(p->qt, symbol, price - half, price + half, time_ms, NULL, 0) == 0 ? 1 : -1;
}

void paper_set_realized(struct broker *b, double realized)
{
    struct paper *p = paper_of(b);
    if (p)
        p->realized = realized;
}

void paper_set_balance(struct broker *b, double balance)
{
    struct paper *p = paper_of(b);
    if (p && isfinite(balance) && balance > 0)
        p->balance = balance;
}

void paper_set_floating(struct broker *b, double floating)
{
    struct paper *p = paper_of(b);
    if (p)
        p->floating = floating;
}
