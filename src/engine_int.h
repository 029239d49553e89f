/*
 * engine_int — what engine.c, engine_async.c and engine_orders.c share and
 * nobody else sees: the engine's state and the position book's primitives. Not
 * an interface: include it only from those files.
 */
#ifndef ZEPIX_ENGINE_INT_H
#define ZEPIX_ENGINE_INT_H

#include "engine.h"
#include "ledger.h"

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

struct eord {                       /* one working order, mirrored from its ledger row */
    char plugin[64];
    struct ldg_order o;
    /* Asynchronous brokers: */
    int cancelling;                 /* a cancel request is on its way */
    int term_expiry;                /* the terminal expires it itself (its last report) */
    char end_as[12];                /* what its success makes the order: cancelled | expired */
    char end_reason[32];
};

struct engine {
    const struct config *cfg;       /* borrowed */
    struct broker *brk;             /* owned */
    struct risk *risk;              /* borrowed */
    struct eng_events ev;
    struct epos *pos;
    size_t npos, cap;
    double realized;                /* sum of closed trades' money, all plugins */
    struct plugin *cur;             /* plugin whose hook runs (eng_scope_begin) */
    int64_t cur_signal;
    int64_t cur_first_trade;
    struct eord *ord;               /* working orders (engine_orders.c) */
    size_t nord, ordcap;
};

/* The money guard of every order (SPEC 12): the account's limits, then p's. */
int engi_risk_order(struct engine *e, struct plugin *p, const char *symbol, double lot, char *err, size_t errlen);

struct epos *engi_find_pos(struct engine *e, const char *plugin, int64_t trade_id);
/* The filled trade with the broker's ticket, or NULL. */
struct epos *engi_find_ticket(struct engine *e, int64_t ticket);
int engi_add_pos(struct engine *e, const struct epos *p);    /* 0, -1 out of memory */
void engi_del_pos(struct engine *e, struct epos *p);
void engi_to_position(const struct epos *p, zx_position *out);
/* Record the close of qty lots of ep (all when qty <= 0 or within half a
 * hundredth of the position) at price; money NAN = compute it. ep may be freed. */
int engi_record_close(struct engine *e, struct plugin *p, struct epos *ep, double qty, double price, double money,
                      int64_t time_ms, const char *reason, char *err, size_t errlen);
/* A snapshot of the trades pick() selects, as (plugin, id) pairs: closing
 * reorders the cache, so loops that close walk this. Caller frees; NULL when
 * memory ran out (*n = 0). */
struct engi_key {
    char plugin[64];
    int64_t id;
};
struct engi_key *engi_snapshot(struct engine *e, int (*pick)(const struct epos *, const void *), const void *arg,
                               size_t *n);

#endif
