/*
 * /chart [ID] [today|week|month|all] — the equity curve (cumulative realised
 * profit) of a plugin or of all of them as a picture, over the period of
 * /stats (default today) and from its figures (report.c), drawn by chart.c,
 * sent with sendPhoto. Rendering takes a few milliseconds of CPU in memory;
 * the upload is queued. Never blocks.
 */
#include "app.h"
#include "args.h"
#include "commands.h"
#include "report.h"
#include "sbuf.h"

#include <stdlib.h>

void cmd_chart(struct cmd_ctx *c)
{
    char title[128], note[96], err[256];
    unsigned char *png = NULL;
    size_t len = 0;
    struct rpt r;
    struct sbuf cap;
    if (cmd_report(c, &r, title, sizeof title, note, sizeof note))
        return;
    if (rpt_chart(&r, title, c->app->cfg.daily_reset.timezone, &png, &len, err, sizeof err)) {
        sbuf_puts(c->out, "Cannot draw the chart: ");
        sbuf_html(c->out, err);
        rpt_free(&r);
        return;
    }
    sbuf_init(&cap);
    rpt_caption(&r, title, &cap);
    if (note[0]) {
        sbuf_puts(&cap, "\n");
        sbuf_html(&cap, note);
    }
    cmd_reply_photo(c, png, len, sbuf_str(&cap));
    sbuf_free(&cap);
    free(png);
    rpt_free(&r);
}
