/*
 * /trades ID [N] — the last N (default 10, at most 50) trades of a plugin,
 * newest first, from its ledger. One indexed query; never blocks.
 */
#include "app.h"
#include "args.h"
#include "commands.h"
#include "ledger.h"
#include "registry.h"
#include "sbuf.h"

#include <stdlib.h>
#include <string.h>

#define TRADES_MAX 50

void cmd_trades(struct cmd_ctx *c)
{
    char w[3][CMD_WORD_MAX], *end;
    int nw = cmd_words(c->args, w, 2), n = 10;
    if (nw < 1 || nw > 2) {
        cmd_usage(c);
        return;
    }
    if (nw == 2) {
        long v = strtol(w[1], &end, 10);
        if (*end || v < 1 || v > TRADES_MAX) {
            sbuf_printf(c->out, "N must be a number from 1 to %d. ", TRADES_MAX);
            cmd_usage(c);
            return;
        }
        n = (int)v;
    }
    struct plugin *p = cmd_plugin(c, w[0]);
    if (!p)
        return;
    struct ldg_trade t[TRADES_MAX];
    int got = p->ldg ? ldg_last_trades(p->ldg, t, n) : 0;
    if (got < 0) {
        sbuf_puts(c->out, "Could not read the trades (see the log).");
        return;
    }
    if (got == 0) {
        sbuf_htmlf(c->out, "%s has no trades yet.", p->id);
        return;
    }
    sbuf_htmlf(c->out, "Last %d trade%s of %s\n", got, got == 1 ? "" : "s", p->id);
    sbuf_puts(c->out, "<pre>");
    for (int i = 0; i < got; i++) {
        char when[32];
        ldg_format_time(t[i].entry_ms, when, sizeof when);
        sbuf_htmlf(c->out, "#%-4lld %-4s %5.2f %-7s @%.5g %s\n", (long long)t[i].id,
                   t[i].side == ZX_BUY ? "BUY" : "SELL", t[i].lot, t[i].symbol, t[i].entry, when + 5);
        if (strcmp(t[i].status, "CLOSED") == 0)
            sbuf_htmlf(c->out, "      closed @%.5g %s %+.1fp %+.2f\n", t[i].exit, t[i].close_reason,
                       t[i].pips, t[i].money);
        else
            sbuf_htmlf(c->out, "      %s sl %.5g tp %.5g\n", t[i].status, t[i].sl, t[i].tp);
    }
    sbuf_puts(c->out, "</pre>");
}
