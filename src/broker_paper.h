/*
 * broker_paper — the simulated broker behind struct broker (broker.h, SPEC
 * section 10). It keeps the last quote of every symbol and fills market orders
 * at it: a buy opens at the ask and closes at the bid, a sell the reverse. It
 * does not track positions: the engine stores them, checks SL/TP when quotes
 * arrive, computes pips and money (pnl.h) and tells the broker the running
 * totals (paper_set_realized, paper_set_floating) so account() can answer.
 *
 * Never blocks; no I/O. Loop thread only.
 */
#ifndef ZEPIX_BROKER_PAPER_H
#define ZEPIX_BROKER_PAPER_H

#include <stddef.h>
#include <stdint.h>
#include "broker.h"
#include "config.h"

/* A new paper broker, or NULL with the reason in err. cfg is borrowed and must
 * outlive the broker (broker.paper_balance, broker.paper_spread_pips, symbols).
 * b->ops->destroy(b->self) frees everything, b included: do not free(b). */
struct broker *paper_new(const struct config *cfg, char *err, size_t errlen);

/* Record the quote of symbol (replaces any earlier one). bid > 0, ask >= bid,
 * both finite; symbol 1..31 characters. 0, or -1 with the reason in err
 * ("bid/ask: ..." for a bad price). */
int paper_set_quote(struct broker *b, const char *symbol, double bid, double ask, int64_t time_ms,
                    char *err, size_t errlen);

/* Make a quote from a signal's price, only when no quote is known for symbol:
 * bid = price - spread/2, ask = price + spread/2, spread =
 * broker.paper_spread_pips x the symbol's pip size. Returns 1 when it set a
 * quote, 0 when one already existed (left untouched), -1 when price is not
 * finite and > 0, the spread would make bid <= 0, the symbol is invalid, b is
 * not a paper broker or memory ran out. */
int paper_quote_from_price(struct broker *b, const char *symbol, double price, int64_t time_ms);

/* Realized profit of all closed trades, in account money: balance =
 * broker.paper_balance + realized. The engine sums its closed trades at start
 * and calls this again with the new total after every close. */
void paper_set_realized(struct broker *b, double realized);

/* Floating profit of the open positions: equity = balance + floating. */
void paper_set_floating(struct broker *b, double floating);

/* The account's starting balance instead of broker.paper_balance (a shadow's
 * paper account, config shadow.paper_balance); > 0. */
void paper_set_balance(struct broker *b, double balance);

/* 1 when b is a paper broker (the paper_* calls above need one), else 0. */
int paper_is(const struct broker *b);

#endif
