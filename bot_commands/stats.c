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
    char title[128], note[96];
    struct rpt r;
    if (cmd_report(c, &r, title, sizeof title, note, sizeof note))
        return;
    rpt_render(&r, title, note, c->out);
    rpt_free(&r);
}
