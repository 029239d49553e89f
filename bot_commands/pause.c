/*
 * /pause — stop opening new trades; closing still works. The flag is persisted
 * by app_set_paused (kv "paused"), so it survives a restart. Idempotent: pausing
 * a paused daemon changes nothing. Never blocks (one local SQLite write).
 */
#include "app.h"
#include "commands.h"
#include "sbuf.h"

void cmd_pause(struct cmd_ctx *c)
{
    static const char *const labels[] = {"Resume"}, *const lines[] = {"/resume"};
    if (c->args[0]) {
        cmd_usage(c);
        return;
    }
    if (c->app->paused) {
        sbuf_puts(c->out, "Trading is already paused. /resume to resume.");
        return;
    }
    if (app_set_paused(c->app, 1)) {
        sbuf_puts(c->out, "Could not pause: the flag could not be saved (see the log).");
        return;
    }
    sbuf_puts(c->out, "⏸ <b>Trading paused</b>: no new trades will open; closing still works.");
    cmd_buttons(c, labels, lines, 1);
}
