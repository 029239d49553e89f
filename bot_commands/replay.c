/*
 * /replay ID [N] — the last N (default 50, at most 200) journaled signals that
 * reached plugin ID, run through the plugin's build on disk (not the loaded
 * one) in a throwaway sandbox (src/preview.h): how many decisions match the
 * recorded ones, and each difference (signal, recorded -> new verdict, or the
 * lot/SL/TP). Nothing is placed or journaled. Holds the loop for the sandbox's
 * init and one hook per signal, as hook calls do.
 */
#include "app.h"
#include "args.h"
#include "commands.h"
#include "preview.h"
#include "registry.h"
#include "sbuf.h"

#include <stdlib.h>

static void diff(void *ud, const struct prv_diff *d)
{
    struct sbuf *out = ud;
    sbuf_htmlf(out, "\n#%lld %s: ", (long long)d->signal_id, d->what);
    if (d->figures)
        sbuf_htmlf(out, "lot %.2f → %.2f, sl %g → %g, tp %g → %g", d->was_lot, d->lot, d->was_sl, d->sl, d->was_tp,
                   d->tp);
    else
        sbuf_htmlf(out, "%s → %s%s%s%s", d->was, d->now, d->reason[0] ? " (" : "", d->reason, d->reason[0] ? ")" : "");
}

void cmd_replay(struct cmd_ctx *c)
{
    char w[3][CMD_WORD_MAX], *end, err[300];
    int nw = cmd_words(c->args, w, 2), n = 50, compared, same;
    if (nw < 1 || nw > 2) {
        cmd_usage(c);
        return;
    }
    struct plugin *p = cmd_plugin(c, w[0]);
    if (!p)
        return;
    if (nw == 2 && ((n = (int)strtol(w[1], &end, 10)) < 1 || n > 200 || *end)) {
        sbuf_puts(c->out, "N must be 1..200. ");
        cmd_usage(c);
        return;
    }
    struct sbuf diffs;
    sbuf_init(&diffs);
    if (prv_replay(c->app, p, n, diff, &diffs, &compared, &same, err, sizeof err)) {
        sbuf_htmlf(c->out, "❌ replay of %s: %s", p->id, err);
        sbuf_free(&diffs);
        return;
    }
    sbuf_puts(c->out, "🔁 <b>Replay</b> ");
    sbuf_htmlf(c->out, "of %s's build on disk over its last %d signal%s: %d of %d decisions match the recorded "
               "ones (nothing placed, nothing journaled)", p->id, n, n == 1 ? "" : "s", same, compared);
    if (diffs.len)
        sbuf_puts(c->out, sbuf_str(&diffs));
    sbuf_free(&diffs);
}
