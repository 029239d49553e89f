/*
 * engine_orders — the working (pending) orders of the engine's book (SPEC 12
 * buy_limit, buy_stop, sell_limit, sell_stop, cancel): per plugin, persisted in
 * its ledger's orders table and restored at start like the open trades.
 *
 * An order is placed with the lot rules and the money guard of an open
 * (eng_open). With the paper broker it is checked again when it fills: the
 * money guard refusing then rejects it; a paused or disabled plugin's order
 * waits (stays working) and is tried again on the next quote. (An MT5 terminal
 * fills it by itself: only the placement is checked.)
 *
 * Synchronous broker (paper): the engine watches the quotes. A working order
 * fills when the quote reaches its entry -- buy_limit: ask <= entry; buy_stop:
 * ask >= entry; sell_limit: bid >= entry; sell_stop: bid <= entry -- as a market
 * order at that quote (eng_open: on_order_placed, the "trades" note), and the
 * order becomes 'filled' with the trade's id, in one ledger transaction. It
 * expires at its expiry (checked on every quote of its symbol, before a fill,
 * and on eng_orders_tick).
 *
 * Asynchronous broker (mt5): the order is written with broker_state 'pending'
 * and sent as a "pending" request; its result places it ('placed', the
 * terminal's order ticket) or rejects it. The terminal triggers and expires it.
 * A report's position with the order's ticket is its fill (hedging: the
 * position's ticket is the order's): the trade is written filled from the
 * position, with on_order_placed. An order gone from the report's working
 * orders without a position was deleted in the terminal (cancelled) or expired
 * there. cancel and the expiry (when the terminal cannot expire it: the 1 s
 * tick) send a "cancel" request; its result ends the order.
 *
 * Plugins (ABI 1) hear of a fill through on_order_placed only: cancels and
 * expiries have no hook. Loop thread only; never blocks.
 */
#ifndef ZEPIX_ENGINE_ORDERS_H
#define ZEPIX_ENGINE_ORDERS_H

#include <stddef.h>
#include <stdint.h>
#include "engine.h"
#include "ledger.h"

/* What a pending order asks for. type: ZX_BUY_LIMIT ... ZX_SELL_STOP; lot as
 * requested (capped and rounded like eng_open); entry > 0; sl/tp 0 = none;
 * expiry_ms 0 = good till cancelled; comment may be NULL. */
struct eng_pending_req {
    zx_action type;
    char symbol[32];
    double lot, entry, sl, tp;
    int64_t expiry_ms;
    const char *comment;
};

/* Place a working order for p; *out (if not NULL) is its ledger row. The
 * signal id is the scope's (eng_scope_begin). 0, or -1 with the reason. */
int eng_place_pending(struct engine *e, struct plugin *p, const struct eng_pending_req *req, struct ldg_order *out,
                      char *err, size_t errlen);
/* Cancel p's working orders that action names on symbol: SIG_CANCEL (all),
 * SIG_CANCEL_LONG (buy_limit, buy_stop), SIG_CANCEL_SHORT (sell_limit,
 * sell_stop). Counts what was cancelled and what failed; err = the last failure. */
void eng_cancel_where(struct engine *e, struct plugin *p, zx_action action, const char *symbol, const char *reason,
                      int *cancelled, int *failed, char *err, size_t errlen);
/* p's working orders (every plugin's when p is NULL), oldest first; count.
 * plugin_ids (may be NULL) gets each order's plugin id (borrowed from the book,
 * valid until the book changes). */
int eng_orders(struct engine *e, struct plugin *p, struct ldg_order *out, const char **plugin_ids, int max);
size_t eng_order_count(struct engine *e);
/* Expire what is due (the owner calls it about once a second). */
void eng_orders_tick(struct engine *e);

/* An asynchronous broker's report of its working orders and positions
 * (broker_sink.orders; npos < 0 or norders < 0: no list). */
void eng_broker_orders(struct engine *e, const struct broker_order *ord, int norders, const struct broker_position *pos,
                       int npos);

/* engine.c's and engine_async.c's hooks (not for other callers): a quote
 * arrived (kept already); p's ledger was adopted; the book is rebuilt; the
 * result of a "pending" or "cancel" request. */
void engi_orders_result(struct engine *e, const struct broker_result *r);
void engi_orders_quote(struct engine *e, const char *symbol, double bid, double ask);
void engi_orders_adopt(struct engine *e, struct plugin *p);
void engi_orders_reset(struct engine *e);

#endif
