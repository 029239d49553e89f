/*
 * /export ID [today|week|month|all] — the plugin's trades of the period
 * (default today, the periods of /stats; a trade opened or closed in it) as a
 * CSV document (RFC 4180, src/export.c), sent with sendDocument. One indexed
 * query on the loop thread; the upload is queued. Never blocks.
 */
#include "app.h"
#include "args.h"
#include "commands.h"
#include "export.h"
#include "ledger.h"
#include "registry.h"
#include "report.h"
#include "sbuf.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

void cmd_export(struct cmd_ctx *c)
{
    static const char *const names[] = {"today", "week", "month", "all"};
    char id[64], err[256], label[64], file[128], day[16];
    enum rpt_period per;
    int64_t from, to, now = app_now_ms();
    if (rpt_parse_args(c->args, id, sizeof id, &per, err, sizeof err) || !id[0]) {
        cmd_usage(c);
        return;
    }
    struct plugin *p = cmd_plugin(c, id);
    if (!p)
        return;
    if (!p->ldg) {
        sbuf_htmlf(c->out, "%s has no database (it %s).", p->id,
                   p->st == PLG_FAILED ? "failed to load" : "was never loaded");
        return;
    }
    if (rpt_period_range(&c->app->cfg, per, now, &from, &to, label, sizeof label)) {
        sbuf_puts(c->out, "Cannot compute the period (see the log).");
        return;
    }
    struct sbuf csv;
    sbuf_init(&csv);
    int n = exp_trades_csv(ldg_db(p->ldg), from, to, &csv, err, sizeof err);
    if (n < 0) {
        sbuf_puts(c->out, "Cannot export: ");
        sbuf_html(c->out, err);
        sbuf_free(&csv);
        return;
    }
    time_t t = (time_t)(now / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(day, sizeof day, "%Y%m%d", &tm);
    snprintf(file, sizeof file, "zepix_%s_%s_%s.csv", p->id, names[per], day);
    struct sbuf cap;
    sbuf_init(&cap);
    sbuf_htmlf(&cap, "%s, %s: %d trade%s", p->id, label, n, n == 1 ? "" : "s");
    cmd_reply_document(c, sbuf_str(&csv), csv.len, file, sbuf_str(&cap));
    sbuf_free(&cap);
    sbuf_free(&csv);
}
