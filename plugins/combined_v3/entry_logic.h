/*
 * entry_logic.h — combined_v3's entry side: which signals to take, with what
 * stops and what lot.
 *
 * The cv3_entry_* helpers above cv3_entry_on_signal are pure (no API calls, no
 * globals) so tests can prove the arithmetic directly. cv3_entry_on_signal is
 * the orchestration for on_signal_received and talks to the host through the
 * zx_api table; it never blocks.
 */
#ifndef CV3_ENTRY_LOGIC_H
#define CV3_ENTRY_LOGIC_H

#include <stddef.h>
#include "zepix_plugin.h"

/* The entry half of the plugin config, read once by init. */
typedef struct cv3_entry_cfg {
    double default_lot;             /* lot when risk sizing cannot apply */
    double max_lot_size;            /* 0 = no cap */
    double min_lot, lot_step;       /* broker volume rules */
    double risk_percentage;         /* % of balance risked per trade; 0 = off */
    double default_sl_pips;         /* 0 = none */
    double default_tp_pips;         /* 0 = none */
    int pyramiding;                 /* 1 = allow more than one trade per direction */
    int max_positions_per_symbol;   /* with pyramiding: same-direction limit */
    int reverse_on_opposite;        /* after closing the opposite trades, open */
    const char *allowed_symbols;    /* comma list, "" = all; owned by the state */
} cv3_entry_cfg;

/* What to do with a buy/sell given the open trades on its symbol. */
typedef enum {
    CV3_ENTRY_OPEN,                 /* nothing in the way: open */
    CV3_ENTRY_REJECT,               /* reason written */
    CV3_ENTRY_CLOSE_THEN_OPEN,      /* close the opposite trades, then open */
    CV3_ENTRY_CLOSE_ONLY            /* close the opposite trades, do not open */
} cv3_entry_kind;

/* 1 when symbol is in the comma-separated list (case-insensitive, blanks
 * around names ignored) or the list is NULL/empty; else 0. */
int cv3_entry_symbol_allowed(const char *list, const char *symbol);

/* lot rounded down to a multiple of step (step <= 0: unchanged), immune to
 * binary noise such as 0.3 / 0.01 = 29.999999999999996. */
double cv3_entry_round_down(double lot, double step);

/* Risk-based lot: balance * risk% / (sl_pips * pip_value_per_lot), rounded
 * down to lot_step, capped at max_lot_size. Returns 0 with *lot set, or -1
 * with a reason when the result is below min_lot or an input is unusable. */
int cv3_entry_risk_lot(const cv3_entry_cfg *cfg, double balance, double sl_pips,
                       double pip_value_per_lot, double *lot, char *err, size_t errlen);

/* Fill *sl / *tp that are 0 from default_sl_pips / default_tp_pips around
 * entry (below for a buy, above for a sell, the other way for tp). */
void cv3_entry_default_stops(const cv3_entry_cfg *cfg, zx_action side, double entry,
                             double pip_size, double *sl, double *tp);

/* The position rule: same = open trades on the symbol in the signal's
 * direction, opposite = the others. */
cv3_entry_kind cv3_entry_decide(const cv3_entry_cfg *cfg, zx_action side, const char *symbol,
                                int same, int opposite, char *reason, size_t reason_len);

/* on_signal_received for combined_v3 (see README.md for the behaviour). */
zx_verdict cv3_entry_on_signal(const cv3_entry_cfg *cfg, zx_host *h, const zx_api *api,
                               zx_signal *sig, char *reason, size_t reason_len);

#endif
