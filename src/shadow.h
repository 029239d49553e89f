/*
 * shadow — SPEC 12 "Shadow", the daemon's part: a plugin's build on disk runs
 * beside the live version, on every signal and quote the live one gets, with
 * its orders on a paper broker of its own (an engine of its own: its trades
 * never reach the real broker and never count toward the live risk limits),
 * its trades in data/zepix_<id>.shadow.db, its notifications marked 👻 and of
 * type "shadow" (/mute shadow). The registry loads and unloads the shadow's
 * build (registry.h, reg_shadow_*); this module owns the shadow's engine, the
 * "decided differently" counts, what survives a restart (kv "shadow:<id>":
 * "<since ms> <signals> <differ>") and the live/shadow figures side by side.
 *
 * A shadow is not guarded by the money guard (risk): its figures are its own,
 * and its trading day's pauses would be the live plugin's. Its paper account
 * starts at shadow.paper_balance (config; 0 = broker.paper.balance). Loop thread only; never blocks beyond the
 * registry's hook deadlines.
 */
#ifndef ZEPIX_SHADOW_H
#define ZEPIX_SHADOW_H

#include <stddef.h>
#include <stdint.h>
#include "dispatch.h"

struct app;
struct plugin;
struct sbuf;

/* /shadow ID: load plugin_dir/<id>/plugin.so as p's shadow (restore = 1: the
 * copy kept from before a restart, counts kept). 0, or -1 with err. */
int shd_start(struct app *a, struct plugin *p, int restore, char *err, size_t errlen);
/* /unshadow ID: end p's shadow (its database stays). 0, or -1 with err. */
int shd_stop(struct app *a, struct plugin *p, char *err, size_t errlen);
/* /promote ID: the shadow's build becomes the live one by hot reload (section
 * 8: no signal is lost or doubled across it), then the shadow ends. The
 * versions and the time taken as reg_reload. 0, or -1 with err. */
int shd_promote(struct app *a, struct plugin *p, char *old_v, char *new_v, size_t vlen, double *ms, char *err,
                size_t errlen);

/* At start, after the plugins are up: every shadow persisted comes back. */
void shd_restore(struct app *a);
/* At stop, before the registry shuts down: shadows unloaded, their engines
 * freed; what is persisted stays for the next start. */
void shd_shutdown(struct app *a);

/* Dispatch (dispatch.c): p's shadow decided sr where p decided lr on signal
 * s. Different: another status, or an opened trade of another side, lot, SL
 * or TP. */
void shd_compare(struct app *a, struct plugin *p, const sig_parsed *s, int64_t signal_id,
                 const struct dsp_result *lr, const struct dsp_result *sr);
/* A quote reached the live engine: the shadows' engines get it too. */
void shd_quote(struct app *a, const char *symbol, double bid, double ask);

/* Before a signal reaches p's shadow: its engine gets the live engine's
 * quote of symbol when it differs (a shadow started after the last quote). */
void shd_same_quote(struct app *a, struct plugin *p, const char *symbol);
/* How often p's shadow decided differently: since (ms), signals, differ. 0, or
 * -1 when p has no shadow. */
int shd_counts(struct app *a, const char *id, int64_t *since_ms, int64_t *signals, int64_t *differ);
/* The shadowed plugins (only only_id when not NULL): live and shadow side by
 * side over [from_ms, to_ms) (trades, win rate, profit, max drawdown) and the
 * decided-differently count, as Telegram HTML appended to out; nothing when no
 * plugin in scope has a shadow. */
void shd_render(struct app *a, const char *only_id, int64_t from_ms, int64_t to_ms, struct sbuf *out);

#endif
