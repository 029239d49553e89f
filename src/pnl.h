/*
 * pnl — profit arithmetic: pips and money of a trade, and the money value of a
 * pip, from a symbol's pip size and contract size. Pure functions.
 *
 * Money is in the account currency (USD). The quote currency of a 6-letter
 * pair is its last three letters: XXXUSD is already in USD; USDXXX converts by
 * dividing by the price; a cross (EURGBP) converts through a GBPUSD or USDGBP
 * quote when one is known (the lookup callback), else it stays in the quote
 * currency and pnl_conversion returns 1 (reported as approximate).
 */
#ifndef ZEPIX_PNL_H
#define ZEPIX_PNL_H

#include "config.h"
#include "zepix_plugin.h"

/* Mid price of a symbol if known: 0 and *mid set, else -1. */
typedef int (*pnl_quote_fn)(void *ud, const char *symbol, double *mid);

/* Factor that turns money in the symbol's quote currency into account money at
 * price (the closing price). Returns 0 exact, 1 approximate (no conversion). */
int pnl_conversion(const char *symbol, double price, pnl_quote_fn q, void *ud, double *factor);

/* Pips gained (negative = lost) moving from entry to exit on side. */
double pnl_pips(const struct cfg_symbol *s, zx_action side, double entry, double exit);

/* Money gained in the account currency: (exit-entry) x lot x contract x factor. */
double pnl_money(const struct cfg_symbol *s, zx_action side, double entry, double exit, double lot,
                 double factor);

/* Money value of one pip for 1.0 lot, in the account currency. */
double pnl_pip_value(const struct cfg_symbol *s, double factor);

#endif
