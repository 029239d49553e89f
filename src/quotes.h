/*
 * quotes — the last quote of every symbol, the one table both brokers keep
 * (broker_paper, broker_mt5): open addressing with linear probing, grown at
 * half load, so a lookup is O(1) for thousands of symbols.
 *
 * A quote is valid when bid and ask are finite, bid > 0 and ask >= bid, and
 * the symbol is 1..31 characters of the signal grammar (sig_symbol_valid).
 * Never blocks; no I/O; copies what it keeps, never keeps a caller's pointer.
 */
#ifndef ZEPIX_QUOTES_H
#define ZEPIX_QUOTES_H

#include <stddef.h>
#include <stdint.h>

struct quotes;

/* An empty table, or NULL when memory ran out. Freed with qt_free. */
struct quotes *qt_new(void);
void qt_free(struct quotes *q);

/* Check a quote: 0, or -1 with the reason in err ("symbol: ..." or
 * "bid/ask: ..."); err may be NULL. */
int qt_check(const char *symbol, double bid, double ask, char *err, size_t errlen);
/* Keep the quote of symbol (replaces an earlier one) after qt_check. 0, or -1
 * with the reason in err. */
int qt_set(struct quotes *q, const char *symbol, double bid, double ask, int64_t time_ms, char *err,
           size_t errlen);
/* The last quote of symbol: 0, or -1 when none. Any out pointer may be NULL. */
int qt_get(const struct quotes *q, const char *symbol, double *bid, double *ask, int64_t *time_ms);

#endif
