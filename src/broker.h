/*
 * broker — the interface every broker implements: the paper broker now, the
 * MetaTrader 5 bridge later. The engine calls it; nothing else does (plugins
 * reach it only through the service API).
 *
 * Conventions: side is ZX_BUY or ZX_SELL; lots are > 0; prices are > 0; sl/tp
 * 0 = none. A buy opens at the ask and closes at the bid; a sell the reverse.
 * Every call runs on the loop thread and must not block.
 */
#ifndef ZEPIX_BROKER_H
#define ZEPIX_BROKER_H

#include <stddef.h>
#include <stdint.h>
#include "zepix_plugin.h"

struct broker_fill {
    int64_t ticket;             /* the broker's id for the position */
    double price;               /* fill price */
    double lot;                 /* lots filled */
    int64_t time_ms;
};

struct broker_ops {
    const char *kind;           /* "paper", "mt5" */
    int (*place)(void *self, const char *symbol, zx_action side, double lot, double sl, double tp,
                 const char *comment, struct broker_fill *out, char *err, size_t errlen);
    /* Close lot lots of the position ticket (side is the position's side). */
    int (*close)(void *self, int64_t ticket, const char *symbol, zx_action side, double lot,
                 struct broker_fill *out, char *err, size_t errlen);
    int (*modify)(void *self, int64_t ticket, double sl, double tp, char *err, size_t errlen);
    /* Last known quote; -1 when none. time_ms may be NULL. */
    int (*quote)(void *self, const char *symbol, double *bid, double *ask, int64_t *time_ms);
    /* Balance and equity in the account currency; -1 when unknown. */
    int (*account)(void *self, double *balance, double *equity);
    /* Frees everything, the struct broker included (it lives inside self). */
    void (*destroy)(void *self);
};

struct broker {
    const struct broker_ops *ops;
    void *self;                 /* owned: ops->destroy frees it */
};

#endif
