/*
 * /panic — stop everything (SPEC 12): asks for confirmation first (buttons,
 * 60 s, bot_commands/confirm.c); on Confirm it pauses trading (persisted), then
 * closes every open trade of every plugin, and reports what closed and what
 * failed. Closing goes to the broker without waiting (an MT5 close is sent;
 * its result comes later); never blocks.
 */
#include "app.h"
#include "commands.h"
#include "engine.h"
#include "registry.h"
#include "sbuf.h"

#include <stdlib.h>

#define PANIC_MAX 1000

void cmd_panic(struct cmd_ctx *c)
{
    if (c->args[0]) {
        cmd_usage(c);
        return;
    }
    size_t open = eng_open_count(c->app->eng);
    if (!c->confirmed) {
        struct sbuf q;
        sbuf_init(&q);
        sbuf_printf(&q, "🚨 <b>Panic</b>: pause trading and close all %zu open trade%s of every plugin?", open,
                    open == 1 ? "" : "s");
        cmd_confirm_ask(c, sbuf_str(&q));
        sbuf_free(&q);
        return;
    }
    int paused = app_set_paused(c->app, 1) == 0;
    sbuf_printf(c->out, "🚨 <b>Panic</b>: trading %s.\n", paused ? "paused" : "NOT paused (the flag could not be saved)");
    zx_position *pos = calloc(PANIC_MAX, sizeof *pos);
    if (!pos) {
        sbuf_puts(c->out, "Out of memory: nothing was closed. Use /close ID all.");
        return;
    }
    int closed = 0, failed = 0;
    for (size_t i = 0; i < c->app->reg.n; i++) {
        struct plugin *p = c->app->reg.v[i];
        int n = eng_positions(c->app->eng, p, pos, PANIC_MAX);
        for (int k = 0; k < n; k++) {
            char err[256];
            if (eng_close(c->app->eng, p, pos[k].trade_id, 0, "panic", err, sizeof err)) {
                sbuf_htmlf(c->out, "❌ %s #%lld %s: %s\n", p->id, (long long)pos[k].trade_id, pos[k].symbol, err);
                failed++;
            } else {
                sbuf_htmlf(c->out, "✅ %s #%lld %s %s\n", p->id, (long long)pos[k].trade_id, pos[k].symbol,
                           eng_broker_async(c->app->eng) ? "close sent" : "closed");
                closed++;
            }
        }
    }
    free(pos);
    sbuf_printf(c->out, "%d closed, %d failed. /resume to trade again.", closed, failed);
}
