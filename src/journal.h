/*
 * journal — the signal journal in data/zepix.db: every accepted signal from every
 * source with its raw text (secrets removed), parsed fields, source, time and
 * the outcome per plugin. Exactly-once execution:
 *
 *  - Group commit: signals submitted during one loop iteration are inserted in
 *    one transaction (one fsync) before any of them is dispatched; then they are
 *    dispatched, their trades and outcomes committed, and only then answered.
 *    A 2xx therefore means journaled, executed and recorded.
 *  - Same source + id = the same signal: answered with the first answer, marked
 *    duplicate, never dispatched again (a unique index, so also across restarts).
 *  - Found "received" but unfinished at start (a crash between the two commits):
 *    if any plugin recorded a trade for it, it is marked done (executed);
 *    otherwise it is marked failed, never re-run, and its id is released so the
 *    sender may resend it. The admin chats are told either way.
 *
 * Runs on the loop thread (an ev_prepare watcher flushes each iteration).
 */
#ifndef ZEPIX_JOURNAL_H
#define ZEPIX_JOURNAL_H

#include <stddef.h>
#include <stdint.h>
#include "signal.h"

struct app;

/* The answer: http-like status (200, 503) and the JSON body (borrowed: valid
 * only during the call). */
typedef void (*jrn_done_fn)(void *ud, int status, const char *json);

int jrn_init(struct app *a, char *err, size_t errlen);     /* sets a->jrn, runs recovery */
/* Answer everything still queued with 503 and free. */
void jrn_free(struct app *a);

/* Queue a validated signal. raw is the text to keep (copied; the caller has
 * removed secrets). fn runs later, exactly once, from the loop. */
int jrn_submit(struct app *a, const sig_parsed *s, const char *source, const char *raw,
               jrn_done_fn fn, void *ud, char *err, size_t errlen);

size_t jrn_queued(struct app *a);

/* One signal's outcome for one plugin, for /journal (borrowed strings, valid
 * during the callback; plugin "" when the signal reached no plugin). */
struct jrn_row {
    int64_t id, received_ms, trade_id;
    const char *source, *action, *symbol, *state, *plugin, *status, *reason, *comment;
    double price, sl, tp, lot;
};
typedef void (*jrn_row_fn)(void *ud, const struct jrn_row *r);
/* The last n signals (those that reached plugin, when not NULL/""), newest
 * first, one row per plugin outcome. Returns the rows, or -1. */
int jrn_recent(struct app *a, int n, const char *plugin, jrn_row_fn fn, void *ud);
/* Signals journaled since local midnight UTC of today (for /status). */
int64_t jrn_count_since(struct app *a, int64_t since_ms);

#endif
