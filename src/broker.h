/*
 * broker — the interface every broker implements: the paper broker
 * (synchronous: place/close/modify fill at once) and the MetaTrader 5 bridge
 * (asynchronous: submit queues a request, the terminal's result arrives later
 * and the broker hands it back through the struct broker_sink its owner gave
 * it, which app.c points at engine_async.h). The engine calls it; nothing else
 * does (plugins reach it only through the service API). No broker is called by
 * name from the engine: what differs between brokers is in broker_ops.
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

/* One request to an asynchronous broker. tag is "zx:<plugin>:<trade id>"
 * ("zx:<plugin>:o<order id>" for a working order's pending and cancel). */
struct broker_request {
    const char *op;             /* "open" | "close" | "modify" | "pending" | "cancel" */
    const char *plugin;
    int64_t trade_id;           /* pending, cancel: the working order's id */
    const char *symbol;
    zx_action side;             /* open: the order's side; close/modify: the position's */
    double volume;              /* open, close: lots */
    double sl, tp;              /* open, modify: 0 = none */
    int64_t ticket;             /* close, modify: the broker's position; cancel: its order (0 = not known) */
    zx_action type;             /* pending: ZX_BUY_LIMIT ... ZX_SELL_STOP */
    double price;               /* pending: the entry */
    int64_t expiry_ms;          /* pending: 0 = good till cancelled */
};

/* A working (pending) order an asynchronous broker reports (its magic is
 * zepix's). Strings are borrowed for the duration of the call. */
struct broker_order {
    int64_t ticket;
    char symbol[32];
    zx_action type;             /* ZX_BUY_LIMIT ... ZX_SELL_STOP; 0 = another kind */
    double volume, price, sl, tp;
    int64_t expiration_ms;      /* the terminal expires it then (UTC); 0 = it does not */
    char comment[64];
};

/* What an asynchronous broker reports back (engine.h, eng_broker_result and
 * eng_broker_sync). Strings are borrowed for the duration of the call. */
struct broker_result {
    const char *op, *plugin;    /* of the request */
    int64_t trade_id;
    int ok;
    int64_t ticket;             /* open: the position's ticket */
    double price, volume;       /* fill or close price; lots filled or closed */
    double profit;              /* close: money from the broker; NAN = not given */
    double sl, tp;              /* modify: the levels requested */
    const char *error;          /* !ok: the broker's reason */
    int deal_applied;           /* close: its deal was applied already (from a closed-deal report) */
};

struct broker_position {        /* an open position as the broker sees it */
    int64_t ticket;
    char symbol[32];
    zx_action side;
    double volume, price_open, sl, tp, profit;
    char comment[64];           /* "zx:<plugin>:<trade id>" for ours (broker_mt5.h, mt5_comment) */
    /* The trade an open request of ours made this position for (matched by the
     * broker: comment, magic and symbol); plugin "" = none known. */
    char plugin[64];
    int64_t trade_id;
};

struct broker_closed {          /* a (partly) closed position */
    int64_t ticket;
    double price, profit;       /* close price; money from the broker */
    double volume;              /* lots closed; 0 = all of it */
    int64_t time_ms;            /* 0 = now */
    char reason[16];            /* "sl", "tp", "terminal" ... */
};

struct broker_ops {
    const char *kind;           /* "paper", "mt5" */
    /* 0: place/close/modify fill at once. 1: they are not used; submit queues
     * a request and the outcome arrives later (engine.h, eng_broker_result). */
    int async;
    /* Can orders be taken now? 0, or -1 with the reason ("terminal offline").
     * NULL = always. */
    int (*ready)(void *self, char *err, size_t errlen);
    /* Asynchronous brokers: queue rq; 0 with *request_id set, or -1 with err. */
    int (*submit)(void *self, const struct broker_request *rq, int64_t *request_id, char *err,
                  size_t errlen);
    int (*place)(void *self, const char *symbol, zx_action side, double lot, double sl, double tp,
                 const char *comment, struct broker_fill *out, char *err, size_t errlen);
    /* Close lot lots of the position ticket (side is the position's side). */
    int (*close)(void *self, int64_t ticket, const char *symbol, zx_action side, double lot,
                 struct broker_fill *out, char *err, size_t errlen);
    int (*modify)(void *self, int64_t ticket, double sl, double tp, char *err, size_t errlen);
    /* Last known quote; -1 when none. time_ms may be NULL. */
    int (*quote)(void *self, const char *symbol, double *bid, double *ask, int64_t *time_ms);
    /* A quote arrived (POST /price, the terminal's poll): keep it for quote().
     * 0, or -1 with the reason ("bid/ask: ..."). */
    int (*set_quote)(void *self, const char *symbol, double bid, double ask, int64_t time_ms, char *err,
                     size_t errlen);
    /* Optional (NULL = no): make a quote from a signal's price when none is
     * known yet; 1 made, 0 one existed, -1 bad price. */
    int (*quote_from_price)(void *self, const char *symbol, double price, int64_t time_ms);
    /* Optional: the engine's running totals of closed (realized) and open
     * (floating) money, for a broker whose account() is computed (paper). */
    void (*set_pnl)(void *self, double realized, double floating);
    /* Optional (NULL = the broker has no connection, as paper): one line about
     * the connection for /status. */
    void (*describe)(void *self, char *out, size_t len);
    /* Optional: the daemon is stopping; answer what is held (a held poll). */
    void (*quiesce)(void *self);
    /* Balance and equity in the account currency; -1 when unknown. */
    int (*account)(void *self, double *balance, double *equity);
    /* Frees everything, the struct broker included (it lives inside self). */
    void (*destroy)(void *self);
};

/* How an asynchronous broker reports back, filled by its owner (app.c points
 * it at the engine, engine_async.h). Every member is set; strings and arrays
 * are borrowed for the duration of the call. */
struct broker_sink {
    void *ud;
    /* The result of one request, applied once by the broker. */
    void (*result)(void *ud, const struct broker_result *r);
    /* Closed deals and open positions of one report (npos < 0: no list). */
    void (*sync)(void *ud, const struct broker_position *pos, int npos, const struct broker_closed *closed,
                 int nclosed);
    /* The broker's working orders of one report (after sync; norders < 0:
     * no list was reported), with its open positions (a filled order is the
     * position of the same ticket). */
    void (*orders)(void *ud, const struct broker_order *ord, int norders, const struct broker_position *pos,
                   int npos);
    /* 1 when ticket belongs to a trade the engine watches. */
    int (*knows_ticket)(void *ud, int64_t ticket);
    /* A quote the terminal reported: 0, or -1 with the reason. */
    int (*quote)(void *ud, const char *symbol, double bid, double ask, char *err, size_t errlen);
    /* A line for the admins (terminal offline, a refused login ...). */
    void (*note)(void *ud, const char *text);
};

struct broker {
    const struct broker_ops *ops;
    void *self;                 /* owned: ops->destroy frees it */
};

#endif
