/*
 * /positions [ID] — open trades (of one plugin or all) with the current price
 * and floating profit, from the engine's in-memory positions, then the working
 * (pending) orders when there are any. Never blocks.
 */
#include "app.h"
#include "args.h"
#include "commands.h"
#include "engine.h"
#include "engine_orders.h"
#include "registry.h"
#include "sbuf.h"

#include <stdio.h>
#include <stdlib.h>

#define POS_MAX 100

/* One plugin's open trades; adds their floating profit to *total. */
static int list(struct cmd_ctx *c, struct plugin *p, zx_position *pos, double *total)
{
    int n = eng_positions(c->app->eng, p, pos, POS_MAX);
    if (n <= 0)
        return 0;
    if (p->st == PLG_ENABLED)
        sbuf_htmlf(c->out, "%s\n", p->id);
    else    /* SPEC 12 safe mode: nobody manages these (break-even, trailing) */
        sbuf_htmlf(c->out, "%s ⚠️ %s: its trades are not managed (broker SL/TP stay)\n", p->id,
                   reg_state_name(p->st));
    for (int i = 0; i < n; i++) {
        sbuf_htmlf(c->out, " #%-4lld %-4s %5.2f %-7s @%.5g\n", (long long)pos[i].trade_id,
                   pos[i].side == ZX_BUY ? "BUY" : "SELL", pos[i].lot, pos[i].symbol, pos[i].entry_price);
        char sl[32] = "none", tp[32] = "none";
        if (pos[i].sl > 0)
            snprintf(sl, sizeof sl, "%.5g", pos[i].sl);
        if (pos[i].tp > 0)
            snprintf(tp, sizeof tp, "%.5g", pos[i].tp);
        sbuf_htmlf(c->out, "       sl %s tp %s\n", sl, tp);
        if (pos[i].current_price > 0) {
            sbuf_htmlf(c->out, "       now %.5g %+.1fp %+.2f\n", pos[i].current_price, pos[i].profit_pips,
                       pos[i].profit_money);
            *total += pos[i].profit_money;
        } else {
            sbuf_puts(c->out, "       no quote yet\n");
        }
    }
    return n;
}

/* The working orders (of one plugin or all), after the trades. */
static void orders(struct cmd_ctx *c, struct plugin *only)
{
    struct ldg_order *o = calloc(POS_MAX, sizeof *o);
    const char *ids[POS_MAX];
    int n = o ? eng_orders(c->app->eng, only, o, ids, POS_MAX) : 0;
    if (n > 0) {
        sbuf_printf(c->out, "\n<b>%d working order%s</b>\n<pre>", n, n == 1 ? "" : "s");
        for (int i = 0; i < n; i++) {
            char until[40] = "good till cancelled";
            if (o[i].expiry_ms) {
                char t[32];
                ldg_format_time(o[i].expiry_ms, t, sizeof t);
                snprintf(until, sizeof until, "expires %.19s", t);
            }
            sbuf_htmlf(c->out, "%s order #%lld %s %.2f %s @%.5g\n       sl %.5g tp %.5g, %s\n", ids[i],
                       (long long)o[i].id, ldg_order_type_name(o[i].type), o[i].lot, o[i].symbol, o[i].entry,
                       o[i].sl, o[i].tp, until);
        }
        sbuf_puts(c->out, "</pre>");
    }
    free(o);
}

void cmd_positions(struct cmd_ctx *c)
{
    char w[2][CMD_WORD_MAX];
    int nw = cmd_words(c->args, w, 1), n = 0;
    struct plugin *only = NULL;
    double total = 0;
    if (nw > 1) {
        cmd_usage(c);
        return;
    }
    if (nw == 1 && !(only = cmd_plugin(c, w[0])))
        return;
    zx_position *pos = calloc(POS_MAX, sizeof *pos);
    if (!pos) {
        sbuf_puts(c->out, "Out of memory.");
        return;
    }
    struct sbuf body;
    sbuf_init(&body);
    struct sbuf *out = c->out;
    c->out = &body;
    for (size_t i = 0; i < c->app->reg.n; i++)
        if (!only || c->app->reg.v[i] == only)
            n += list(c, c->app->reg.v[i], pos, &total);
    c->out = out;
    if (n == 0) {
        sbuf_puts(c->out, only ? "No open trades for this plugin." : "No open trades.");
    } else {
        sbuf_printf(c->out, "<b>%d open trade%s</b>, floating %+.2f\n<pre>", n, n == 1 ? "" : "s", total);
        sbuf_puts(c->out, sbuf_str(&body));
        sbuf_puts(c->out, "</pre>");
    }
    sbuf_free(&body);
    free(pos);
    orders(c, only);
}
