/*
 * /daily — today's report so far (SPEC section 7): the trading day that began
 * at the last daily reset, in exactly the format of the report the reset sends
 * (report.c). Short indexed reads; never blocks.
 */
#include "app.h"
#include "commands.h"
#include "report.h"
#include "sbuf.h"
#include "scheduler.h"
#include "shadow.h"

#include <stdio.h>

void cmd_daily(struct cmd_ctx *c)
{
    const char *tz = c->app->cfg.daily_reset.timezone;
    char title[64], note[128], from[48], err[256];
    struct sched_day d;
    struct rpt r;
    int64_t now = app_now_ms();
    if (c->args[0]) {
        cmd_usage(c);
        return;
    }
    if (sched_day_of(tz, c->app->cfg.daily_reset.seconds, now, &d)) {
        sbuf_puts(c->out, "Cannot compute the trading day in ");
        sbuf_html(c->out, tz);
        return;
    }
    if (rpt_fill_app(&r, c->app, NULL, d.from_ms, now + 1, err, sizeof err)) {
        sbuf_puts(c->out, "Cannot read the figures: ");
        sbuf_html(c->out, err);
        return;
    }
    snprintf(title, sizeof title, "Daily report %s (so far)", d.date);
    sched_format_local(tz, d.from_ms, from, sizeof from);
    snprintf(note, sizeof note, "since %s", from);
    rpt_render(&r, title, note, c->out);
    shd_render(c->app, NULL, d.from_ms, now + 1, c->out);
    rpt_free(&r);
}
