/*
 * exit_logic.h — combined_v3's management of open trades on position updates:
 * break-even, one partial profit booking per trade, trailing stop.
 *
 * cv3_exit_plan_for is pure: given the config, a position update and what we
 * remember about the trade, it says what to do. cv3_exit_on_update carries the
 * plan out through the API and keeps the per-trade memo (in memory, and the
 * partial-close flag also in the plugin's database when sqlite3 is reachable,
 * so a hot reload or restart does not book the same partial twice).
 */
#ifndef CV3_EXIT_LOGIC_H
#define CV3_EXIT_LOGIC_H

#include <stddef.h>
#include <stdint.h>
#include "zepix_plugin.h"

typedef struct cv3_exit_cfg {
    double breakeven_after_pips;    /* profit that arms break-even; 0 = off */
    double breakeven_offset_pips;   /* SL goes to entry + this (buy), entry - this (sell) */
    double partial_close_at_pips;   /* profit that books the partial; 0 = off */
    double partial_close_fraction;  /* of the current lot, in (0, 1) */
    double trailing_start_pips;     /* profit that starts trailing; 0 = off */
    double trailing_distance_pips;  /* SL kept this far behind current_price */
    double trailing_step_pips;      /* smallest trailing move worth a modify; 0 = any */
    double min_lot, lot_step;       /* to split a lot for the partial close */
    int notify_exits;               /* tell the operator about break-even / partial */
} cv3_exit_cfg;

/* What we remember about one open trade, keyed by trade_id. */
typedef struct cv3_memo {
    int64_t trade_id;
    int partial_done;               /* booked, or found too small to split: never again */
    int partial_failures;           /* failed close_trade attempts so far */
    double last_sl;                 /* the last SL we set, 0 = none yet */
} cv3_memo;

/* One update's decisions; all zero = nothing to do. */
typedef struct cv3_exit_plan {
    double close_lot;               /* > 0: partial close of this many lots */
    int partial_skip;               /* the partial is due but the lot cannot be split */
    double new_sl;                  /* > 0: move the SL here (always a tightening) */
    const char *sl_why;             /* "break-even" or "trailing" */
} cv3_exit_plan;

/* Pure. memo may be NULL (nothing remembered). Nothing is planned for a closed
 * update or when pip_size <= 0. */
void cv3_exit_plan_for(const cv3_exit_cfg *cfg, const zx_position *pos, double pip_size,
                       const cv3_memo *memo, cv3_exit_plan *plan);

/* The exit manager of one plugin instance. Owns rows (freed by cv3_exit_close). */
typedef struct cv3_exit {
    zx_host *host;
    const zx_api *api;
    cv3_exit_cfg cfg;
    cv3_memo *rows;
    size_t n, cap;
    int persist;                    /* 1: partial flags also live in the database */
} cv3_exit;

/* Set up ex and load remembered partial closes from the database when there is
 * one. Returns 0, -1 on out-of-memory. */
int cv3_exit_open(cv3_exit *ex, zx_host *h, const zx_api *api, const cv3_exit_cfg *cfg);
void cv3_exit_close(cv3_exit *ex);

/* on_position_update: manage an open trade, forget a closed one (no API call). */
void cv3_exit_on_update(cv3_exit *ex, const zx_position *pos);

/* Forget trades that are no longer open (missed close updates, e.g. across a
 * reload). Cheap; called on the daily reset. */
void cv3_exit_prune(cv3_exit *ex);

/* The memo of a trade, NULL when none. Valid until the next cv3_exit_* call. */
cv3_memo *cv3_exit_find(cv3_exit *ex, int64_t trade_id);

#endif
