/*
 * dispatch — one signal to every plugin it names, and the batch over their
 * ledgers: for each plugin, its state and the pause, then its
 * on_signal_received (registry), then what the verdict asks of the engine
 * (open, close, reverse), with one result per plugin; and the group commit's
 * transactions over every plugin ledger. The only module that calls both the
 * registry and the engine; the journal is its caller.
 */
#ifndef ZEPIX_DISPATCH_H
#define ZEPIX_DISPATCH_H

#include <stddef.h>
#include <stdint.h>
#include "registry.h"
#include "signal.h"

struct app;

struct dsp_result {
    char plugin[64];
    const char *status;             /* executed | rejected | handled | skipped | failed */
    int64_t trade_id;               /* 0 = none */
    char reason[200];
};

/* Dispatch a journaled signal to every plugin it names (all when plugin is "")
 * in id order; fills up to max results, returns their count. */
size_t dsp_all(struct app *a, const sig_parsed *s, int64_t signal_id, const char *source, struct dsp_result *res,
               size_t max);
/* The same in steps (the journal's exactly-once dispatch): once per signal,
 * then once per plugin it goes to. Inside a batch a plugin whose ledger
 * transaction could not begin gets "failed" without its hook being called. */
void dsp_signal_begin(struct app *a, const sig_parsed *s);
void dsp_one(struct app *a, struct plugin *p, const sig_parsed *s, int64_t signal_id, const char *source,
             struct dsp_result *r);

/* Batch transactions over every plugin ledger and every shadow's (the
 * journal's group commit; the shadows' commit last).
 * begin: a ledger whose BEGIN fails gets batch_failed at once. */
void dsp_batch_begin(struct app *a);
/* Commit every ledger; returns how many failed (their plugins get batch_failed
 * and batch_err: those trades are gone). ZEPIX_TEST_CRASH_AT=after_ledger_commit:N
 * (a test hook) raises SIGKILL after the N-th commit. */
int dsp_batch_commit(struct app *a);
/* Rebuild the open positions and realised profit from the ledgers (after a
 * failed batch: what is not on disk did not happen). */
void dsp_resync(struct app *a);

#endif
