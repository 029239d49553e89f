/*
 * quotes — see quotes.h.
 */
#include "quotes.h"
#include "sbuf.h"
#include "signal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define QT_SYMBOL_MAX 32            /* 31 characters + NUL (SPEC section 5) */
#define QT_INITIAL_SLOTS 64         /* a power of two */

struct qt_slot {
    char symbol[QT_SYMBOL_MAX];     /* "" = free slot */
    uint32_t hash;
    double bid, ask;
    int64_t time_ms;                /* as given by the caller */
};

struct quotes {
    struct qt_slot *slots;          /* owned; n_slots is a power of two */
    size_t n_slots, n_used;
};

static uint32_t qt_hash(const char *s)
{
    uint32_t h = 2166136261u;       /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

/* The slot holding symbol, or the free slot where it would go. slots has at
 * least one free slot (load <= 1/2), so the probe ends. */
static struct qt_slot *qt_slot(struct qt_slot *slots, size_t n_slots, const char *symbol, uint32_t h)
{
    size_t mask = n_slots - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
        struct qt_slot *q = &slots[i];
        if (!q->symbol[0] || (q->hash == h && strcmp(q->symbol, symbol) == 0))
            return q;
    }
}

struct quotes *qt_new(void)
{
    struct quotes *q = calloc(1, sizeof *q);
    if (!q || !(q->slots = calloc(QT_INITIAL_SLOTS, sizeof *q->slots))) {
        free(q);
        return NULL;
    }
    q->n_slots = QT_INITIAL_SLOTS;
    return q;
}

void qt_free(struct quotes *q)
{
    if (!q)
        return;
    free(q->slots);
    free(q);
}

static int qt_grow(struct quotes *q)
{
    size_t n = q->n_slots * 2;
    struct qt_slot *slots = calloc(n, sizeof *slots);
    if (!slots)
        return -1;
    for (size_t i = 0; i < q->n_slots; i++)
        if (q->slots[i].symbol[0])
            *qt_slot(slots, n, q->slots[i].symbol, q->slots[i].hash) = q->slots[i];
    free(q->slots);
    q->slots = slots;
    q->n_slots = n;
    return 0;
}

int qt_check(const char *symbol, double bid, double ask, char *err, size_t errlen)
{
    char dummy[8];
    if (!err) {
        err = dummy;
        errlen = sizeof dummy;
    }
    if (!sig_symbol_valid(symbol)) {
        const char *shown = symbol ? symbol : "(none)";
        snprintf(err, errlen, "symbol: expected 1..31 characters A-Z a-z 0-9 . _, got \"%.*s\"",
                 (int)sbuf_utf8_prefix(shown, 40), shown);
        return -1;
    }
    if (!isfinite(bid) || !isfinite(ask)) {
        snprintf(err, errlen, "bid/ask: expected finite numbers, got bid %.10g ask %.10g", bid, ask);
        return -1;
    }
    if (!(bid > 0)) {
        snprintf(err, errlen, "bid/ask: bid must be > 0, got %.10g", bid);
        return -1;
    }
    if (ask < bid) {
        snprintf(err, errlen, "bid/ask: ask %.10g is below bid %.10g", ask, bid);
        return -1;
    }
    return 0;
}

int qt_set(struct quotes *q, const char *symbol, double bid, double ask, int64_t time_ms, char *err,
           size_t errlen)
{
    if (qt_check(symbol, bid, ask, err, errlen))
        return -1;
    uint32_t h = qt_hash(symbol);
    struct qt_slot *s = qt_slot(q->slots, q->n_slots, symbol, h);
    if (!s->symbol[0]) {
        if ((q->n_used + 1) * 2 > q->n_slots) {
            if (qt_grow(q) != 0) {
                if (err)
                    snprintf(err, errlen, "quote table: out of memory");
                return -1;
            }
            s = qt_slot(q->slots, q->n_slots, symbol, h);
        }
        snprintf(s->symbol, sizeof s->symbol, "%s", symbol);
        s->hash = h;
        q->n_used++;
    }
    s->bid = bid;
    s->ask = ask;
    s->time_ms = time_ms;
    return 0;
}

int qt_get(const struct quotes *q, const char *symbol, double *bid, double *ask, int64_t *time_ms)
{
    if (!q || !sig_symbol_valid(symbol))
        return -1;
    const struct qt_slot *s = qt_slot(q->slots, q->n_slots, symbol, qt_hash(symbol));
    if (!s->symbol[0])
        return -1;
    if (bid)
        *bid = s->bid;
    if (ask)
        *ask = s->ask;
    if (time_ms)
        *time_ms = s->time_ms;
    return 0;
}
