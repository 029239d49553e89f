/*
 * /resume — open new trades again; persisted like /pause. Idempotent. Never
 * blocks (one local SQLite write).
 */
#include "app.h"
#include "commands.h"
#include "risk.h"
#include "sbuf.h"

void cmd_resume(struct cmd_ctx *c)
{
    static const char *const labels[] = {"Pause"}, *const lines[] = {"/pause"};
    if (c->args[0]) {
        cmd_usage(c);
        return;
    }
    risk_clear(c->app->risk);   /* a risk limit's pause ends too (SPEC 12) */
    if (!c->app->paused) {
        sbuf_puts(c->out, "Trading is not paused; any risk-limit pause is lifted.");
        return;
    }
    if (app_set_paused(c->app, 0)) {
        sbuf_puts(c->out, "Could not resume: the flag could not be saved (see the log).");
        return;
    }
    sbuf_puts(c->out, "▶️ <b>Trading resumed</b>: new trades may open.");
    cmd_buttons(c, labels, lines, 1);
}
