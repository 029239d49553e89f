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
#include "shadow.h"

void cmd_stats(struct cmd_ctx *c)
{
    char title[128], note[96];
    struct rpt r;
    if (cmd_report(c, &r, title, sizeof title, note, sizeof note))
        return;
    rpt_render(&r, title, note, c->out);
    char id[64] = "", err[128];
    enum rpt_period per;
    if (rpt_parse_args(c->args, id, sizeof id, &per, err, sizeof err) == 0)
        shd_render(c->app, id, r.from_ms, r.to_ms, c->out);    /* live and shadow side by side (SPEC 12) */
    rpt_free(&r);
}
