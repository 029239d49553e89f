/*
 * args — see args.h.
 */
#include "args.h"
#include "app.h"
#include "commands.h"
#include "notify.h"
#include "registry.h"
#include "report.h"
#include "sbuf.h"

#include <ctype.h>
#include <string.h>

int cmd_words(const char *args, char words[][CMD_WORD_MAX], int max)
{
    int n = 0;
    const char *p = args;
    for (;;) {
        while (isspace((unsigned char)*p))
            p++;
        if (!*p)
            return n;
        if (n == max)
            return max + 1;
        size_t k = 0;
        while (*p && !isspace((unsigned char)*p)) {
            if (k + 1 < CMD_WORD_MAX)
                words[n][k++] = *p;
            p++;
        }
        words[n++][k] = '\0';
    }
}

struct plugin *cmd_plugin(struct cmd_ctx *c, const char *id)
{
    struct plugin *p = reg_find(&c->app->reg, id);
    if (!p) {
        sbuf_puts(c->out, "Unknown plugin <code>");
        sbuf_html(c->out, id);
        sbuf_puts(c->out, "</code>. /plugins lists them.");
    }
    return p;
}

struct plugin *cmd_only_plugin(struct cmd_ctx *c)
{
    char w[2][CMD_WORD_MAX];
    if (cmd_words(c->args, w, 1) != 1) {
        cmd_usage(c);
        return NULL;
    }
    return cmd_plugin(c, w[0]);
}

int cmd_report(struct cmd_ctx *c, struct rpt *r, char *title, size_t tlen, char *note, size_t nlen)
{
    char id[64], err[256];
    enum rpt_period per;
    if (rpt_parse_args(c->args, id, sizeof id, &per, err, sizeof err)) {
        cmd_usage(c);
        return -1;
    }
    if (id[0] && !reg_find(&c->app->reg, id)) {
        sbuf_puts(c->out, "Unknown plugin <code>");
        sbuf_html(c->out, id);
        sbuf_puts(c->out, "</code>, and not a period either (periods: today, week, month, all). "
                          "/plugins lists the plugins.");
        return -1;
    }
    if (rpt_query(c->app, id, per, app_now_ms(), r, title, tlen, note, nlen, err, sizeof err)) {
        sbuf_html(c->out, err);
        return -1;
    }
    return 0;
}

void cmd_set_mute(struct cmd_ctx *c, int muted)
{
    char w[2][CMD_WORD_MAX];
    if (cmd_words(c->args, w, 1) != 1 || !notify_kind_valid(w[0])) {
        sbuf_puts(c->out, "TYPE is one of: trades, rejects, failures, reports, shadow. ");
        cmd_usage(c);
        return;
    }
    if (notify_set_muted(c->app, w[0], muted)) {
        sbuf_puts(c->out, "❌ could not save it (see the log).");
        return;
    }
    if (muted)
        sbuf_htmlf(c->out, "🔇 %s notifications muted (/unmute %s to get them again).", w[0], w[0]);
    else
        sbuf_htmlf(c->out, "🔔 %s notifications sent again (/mute %s to silence them).", w[0], w[0]);
}
