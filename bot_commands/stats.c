/*
 * /stats [ID] [today|week|month|all] — trades, wins, losses, win rate, profit
 * and max drawdown per plugin and in total (SPEC section 7), from report.c, the
 * code behind the daily report. The period defaults to today (since the last
 * daily reset). Short indexed reads; never blocks.
 */
#include "app.h"
#include "args.h"
#include "commands.h"
#include "report.h"
#include "sbuf.h"

void cmd_stats(struct cmd_ctx *c)
{
    char id[64], title[128], note[96], err[256];
    enum rpt_period per;
    struct rpt r;
    if (rpt_parse_args(c->args, id, sizeof id, &per, err, sizeof err)) {
        cmd_usage(c);
        return;
    }
    if (id[0] && !cmd_plugin(c, id))
        return;
    if (rpt_query(c->app, id, per, app_now_ms(), &r, title, sizeof title, note, sizeof note, err, sizeof err)) {
        sbuf_html(c->out, err);
        return;
    }
    rpt_render(&r, title, note, c->out);
    rpt_free(&r);
}
