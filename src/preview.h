/*
 * preview — a dry run of a signal (SPEC 12 /preview, POST /preview): each
 * targeted plugin's build runs in a throwaway sandbox (a zepix-plugin-host child
 * of its own, on a copy of its database in a temporary directory, with a stub
 * API whose orders, closes, modifies and notifications are only recorded), its
 * on_signal_received decides, and the host's lot rules and risk checks say what
 * they would do. Nothing is placed, journaled, or written to the real
 * databases; the live plugin is not touched.
 *
 * The sandbox runs the build on disk (plugin_dir/<id>/plugin.so): the live one,
 * unless it was rebuilt since the last (re)load. Like a hook call in isolation
 * "process", each plugin's run holds the loop for at most its init deadline
 * plus one hook deadline (plugin_system.hook_timeout_ms).
 */
#ifndef ZEPIX_PREVIEW_H
#define ZEPIX_PREVIEW_H

#include <stddef.h>
#include "signal.h"

struct app;

struct prv_result {
    char plugin[64];
    char verdict[16];           /* accept | reject | handled | skipped | failed */
    char reason[200];
    double lot, sl, tp;         /* what the host would send (accept) */
    char risk[220];             /* "ok" or the risk check's refusal */
    char orders[300];           /* what the plugin itself asked for (handled) */
};

/* Run s (already through intake_check) for every plugin it targets, up to max;
 * returns the count, or -1 with err. */
int prv_run(struct app *a, const sig_parsed *s, struct prv_result *out, size_t max, char *err, size_t errlen);

/* /replay (SPEC 12): the last n journaled signals that reached plugin p, oldest
 * first, through the build on disk in one throwaway sandbox (a copy of its
 * database, the stub API; a quote is the signal's own price where the journal
 * has one, else the live quote; the open trades are those the ledger had open
 * when the signal came). Each decision that differs from the recorded one
 * (verdict, or the lot/SL/TP of an executed trade) goes to fn; *compared and
 * *same count. Signals the plugin did not decide (skipped) are not compared.
 * 0, or -1 with err. Holds the loop as /preview does, one hook per signal. */
struct prv_diff {
    int64_t signal_id;
    char what[64];              /* "buy EURUSD" */
    char was[16], now[16];      /* accept | reject | handled */
    char reason[200];           /* the new build's */
    int figures;                /* the verdicts agree, the trade's figures do not */
    double was_lot, was_sl, was_tp, lot, sl, tp;
};
typedef void (*prv_diff_fn)(void *ud, const struct prv_diff *d);
struct plugin;
int prv_replay(struct app *a, struct plugin *p, int n, prv_diff_fn fn, void *ud, int *compared, int *same,
               char *err, size_t errlen);

#endif
