/*
 * broker_paper — the simulated broker (see broker_paper.h). It owns the quote
 * table (one entry per symbol, open addressing with linear probing, grown at
 * half load, so a lookup is O(1) for thousands of symbols) and the ticket
 * counter. Positions, SL/TP checks and profit belong to the engine.
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
#include "sbuf.h"
#include "signal.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define PAPER_SYMBOL_MAX 32         /* 31 characters + NUL (SPEC section 5) */
#define PAPER_INITIAL_SLOTS 64      /* a power of two */

struct paper_quote {
    char symbol[PAPER_SYMBOL_MAX];  /* "" = free slot */
    uint32_t hash;
    double bid, ask;
    int64_t time_ms;                /* as given by the caller */
};

struct paper {
    struct broker base;             /* first: base.self points back here */
    const struct config *cfg;       /* borrowed */
    struct paper_quote *slots;      /* owned; n_slots is a power of two */
    size_t n_slots, n_used;
    int64_t last_ticket;
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

static int64_t paper_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- symbols and the quote table ---- */

static int paper_symbol_ok(const char *s)
{
    return sig_symbol_valid(s);
}

static int paper_check_symbol(const char *s, char *err, size_t errlen)
{
    if (paper_symbol_ok(s))
        return 0;
    const char *shown = s ? s : "(none)";
    paper_fail(err, errlen, "symbol: expected 1..31 characters A-Z a-z 0-9 . _, got \"%.*s\"",
               (int)sbuf_utf8_prefix(shown, 40), shown);
    return -1;
}

static uint32_t paper_hash(const char *s)
{
    uint32_t h = 2166136261u;       /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

/* The slot holding symbol, or the free slot where it would go. slots has at
 * least one free slot (load <= 1/2), so the probe ends. */
static struct paper_quote *paper_slot(struct paper_quote *slots, size_t n_slots, const char *symbol,
                                      uint32_t h)
{
    size_t mask = n_slots - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
        struct paper_quote *q = &slots[i];
        if (!q->symbol[0] || (q->hash == h && strcmp(q->symbol, symbol) == 0))
            return q;
    }
}

static struct paper_quote *paper_find(struct paper *p, const char *symbol)
{
    if (!paper_symbol_ok(symbol))
        return NULL;
    struct paper_quote *q = paper_slot(p->slots, p->n_slots, symbol, paper_hash(symbol));
    return q->symbol[0] ? q : NULL;
}

static int paper_grow(struct paper *p)
{
    size_t n = p->n_slots * 2;
    struct paper_quote *slots = calloc(n, sizeof *slots);
    if (!slots)
        return -1;
    for (size_t i = 0; i < p->n_slots; i++)
        if (p->slots[i].symbol[0])
            *paper_slot(slots, n, p->slots[i].symbol, p->slots[i].hash) = p->slots[i];
    free(p->slots);
    p->slots = slots;
    p->n_slots = n;
    return 0;
}

/* Store a quote already validated. 0, or -1 when memory ran out. */
static int paper_store(struct paper *p, const char *symbol, double bid, double ask, int64_t time_ms)
{
    uint32_t h = paper_hash(symbol);
    struct paper_quote *q = paper_slot(p->slots, p->n_slots, symbol, h);
    if (!q->symbol[0]) {
        if ((p->n_used + 1) * 2 > p->n_slots) {
            if (paper_grow(p) != 0)
                return -1;
            q = paper_slot(p->slots, p->n_slots, symbol, h);
        }
        snprintf(q->symbol, sizeof q->symbol, "%s", symbol);
        q->hash = h;
        p->n_used++;
    }
    q->bid = bid;
    q->ask = ask;
    q->time_ms = time_ms;
    return 0;
}

static struct paper_quote *paper_need_quote(struct paper *p, const char *symbol, char *err,
                                            size_t errlen)
{
    struct paper_quote *q = paper_find(p, symbol);
    if (!q)
        paper_fail(err, errlen, "no quote for %s yet: send one to POST /price or put price= in the "
                   "signal", symbol);
    return q;
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
    struct paper_quote *q = paper_need_quote(p, symbol, err, errlen);
    if (!q)
        return -1;
    double fill = side == ZX_BUY ? q->ask : q->bid;
    if (paper_check_levels_vs_fill(side, fill, sl, tp, err, errlen))
        return -1;

    int64_t now = paper_now_ms();
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
    struct paper_quote *q = paper_find(p, symbol);
    if (!q) {
        paper_fail(err, errlen, "no quote for %s: cannot price the close of ticket %lld; send one "
                   "to POST /price", symbol, (long long)ticket);
        return -1;
    }
    if (out) {
        out->ticket = ticket;
        out->price = side == ZX_BUY ? q->bid : q->ask;
        out->lot = lot;
        out->time_ms = paper_now_ms();
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
    const struct paper_quote *q = paper_find(self, symbol);
    if (!q)
        return -1;
    if (bid)
        *bid = q->bid;
    if (ask)
        *ask = q->ask;
    if (time_ms)
        *time_ms = q->time_ms;
    return 0;
}

static int paper_account(void *self, double *balance, double *equity)
{
    const struct paper *p = self;
    double bal = p->cfg->broker.paper_balance + p->realized;
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
    free(p->slots);
    free(p);
}

static const struct broker_ops paper_ops = {
    .kind = "paper",
    .place = paper_place,
    .close = paper_close,
    .modify = paper_modify,
    .quote = paper_quote,
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
    if (!p || !(p->slots = calloc(PAPER_INITIAL_SLOTS, sizeof *p->slots))) {
        free(p);
        paper_fail(err, errlen, "paper broker: out of memory");
        return NULL;
    }
    p->n_slots = PAPER_INITIAL_SLOTS;
    p->cfg = cfg;
    p->last_ticket = paper_now_ms() - 1;    /* the first ticket is the clock */
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
    if (paper_check_symbol(symbol, err, errlen))
        return -1;
    if (!isfinite(bid) || !isfinite(ask)) {
        paper_fail(err, errlen, "bid/ask: expected finite numbers, got bid %.10g ask %.10g", bid, ask);
        return -1;
    }
    if (!(bid > 0)) {
        paper_fail(err, errlen, "bid/ask: bid must be > 0, got %.10g", bid);
        return -1;
    }
    if (ask < bid) {
        paper_fail(err, errlen, "bid/ask: ask %.10g is below bid %.10g", ask, bid);
        return -1;
    }
    if (paper_store(p, symbol, bid, ask, time_ms) != 0) {
        paper_fail(err, errlen, "quote table: out of memory");
        return -1;
    }
    return 0;
}

int paper_quote_from_price(struct broker *b, const char *symbol, double price, int64_t time_ms)
{
    struct paper *p = paper_of(b);
    if (!p || !paper_symbol_ok(symbol) || !isfinite(price) || !(price > 0))
        return -1;
    if (paper_find(p, symbol))
        return 0;
    struct cfg_symbol s = cfg_symbol_get(p->cfg, symbol);
    double half = p->cfg->broker.paper_spread_pips * s.pip_size / 2;
    if (!isfinite(half) || half < 0 || !(price - half > 0))
        return -1;
    return paper_store(p, symbol, price - half, price + half, time_ms) == 0 ? 1 : -1;
}

void paper_set_realized(struct broker *b, double realized)
{
    struct paper *p = paper_of(b);
    if (p)
        p->realized = realized;
}

void paper_set_floating(struct broker *b, double floating)
{
    struct paper *p = paper_of(b);
    if (p)
        p->floating = floating;
}
