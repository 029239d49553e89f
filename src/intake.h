/*
 * intake — what a parsed signal must pass after the grammar (signal.c) and
 * before the journal, on every path that takes signals (the webhook, /signal):
 * the named plugin exists; the symbol gets the spelling the operator
 * configured for the broker; an opening signal names a symbol whose pip and
 * contract sizes are known (configured, or a currency pair); its sl_pips /
 * tp_pips become prices and its stops are on the right side of, and not absurdly
 * far from, the price it is expected to fill at (webhook.max_stop_distance_pct).
 *
 * A refusal is a bad signal (400 on the webhook) whose reason names the field.
 * Reads the configuration, the registry and the broker's last quote; never
 * blocks.
 */
#ifndef ZEPIX_INTAKE_H
#define ZEPIX_INTAKE_H

#include <stddef.h>
#include "signal.h"

struct app;

/* May rewrite s->symbol (the configured spelling), s->sl and s->tp (from the
 * pip distances). 0, or -1 with the reason in err. */
int intake_check(struct app *a, sig_parsed *s, char *err, size_t errlen);

#endif
