/*
 * /close ID TRADE_ID|all [lot=X|pct=P] — close one or every open trade of a
 * plugin at the broker (closing works while paused), or part of one trade:
 * lot=X lots or pct=P percent of it (rounded down to the symbol's step). Closing a trade that is no longer open
 * is refused, so a repeated command closes nothing twice. Never blocks.
 */
#include "app.h"
#include "args.h"
#include "commands.h"
#include "engine.h"
#include "registry.h"
#include "sbuf.h"

#include <stdlib.h>
#include <string.h>

#define CLOSE_MAX 200

static void close_one(struct cmd_ctx *c, struct plugin *p, int64_t id, double lot, int *ok)
{
    char err[256], part[48] = "";
    if (eng_close(c->app->eng, p, id, lot, "manual", err, sizeof err)) {
        sbuf_htmlf(c->out, "❌ #%lld: %s\n", (long long)id, err);
        return;
    }
    if (lot > 0)
        snprintf(part, sizeof part, " (%.2f lot)", lot);
    if (eng_broker_async(c->app->eng))
        sbuf_htmlf(c->out, "✅ #%lld%s close sent to the terminal\n", (long long)id, part);
    else
        sbuf_htmlf(c->out, "✅ #%lld%s closed\n", (long long)id, part);
    (*ok)++;
}

/* lot=X or pct=P (SPEC 12 partial close) of trade id: the lots to close, 0 =
 * all; -1 with the reason in c->out. */
static double part_of(struct cmd_ctx *c, struct plugin *p, int64_t id, const char *arg)
{
    char *end;
    double v;
    if (strncmp(arg, "lot=", 4) == 0 || strncmp(arg, "pct=", 4) == 0) {
        v = strtod(arg + 4, &end);
        if (*end || !(v > 0) || (arg[0] == 'p' && v > 100)) {
            sbuf_htmlf(c->out, "❌ %s: expected a number %s. ", arg, arg[0] == 'p' ? "0..100" : "above 0");
            cmd_usage(c);
            return -1;
        }
        if (arg[0] == 'l')
            return v;
        zx_position pos[CLOSE_MAX];
        int n = eng_positions(c->app->eng, p, pos, CLOSE_MAX);
        for (int i = 0; i < n; i++)
            if (pos[i].trade_id == id)
                return v >= 100 ? 0 : pos[i].lot * v / 100;
        sbuf_htmlf(c->out, "❌ #%lld is not an open trade of %s.", (long long)id, p->id);
        return -1;
    }
    cmd_usage(c);
    return -1;
}

void cmd_close(struct cmd_ctx *c)
{
    char w[3][CMD_WORD_MAX], *end;
    int ok = 0;
    int nw = cmd_words(c->args, w, 3);
    if (nw != 2 && nw != 3) {
        cmd_usage(c);
        return;
    }
    struct plugin *p = cmd_plugin(c, w[0]);
    if (!p)
        return;
    if (strcmp(w[1], "all") == 0 && nw == 2) {
        zx_position *pos = calloc(CLOSE_MAX, sizeof *pos);
        if (!pos) {
            sbuf_puts(c->out, "Out of memory.");
            return;
        }
        int n = eng_positions(c->app->eng, p, pos, CLOSE_MAX);
        if (n == 0)
            sbuf_htmlf(c->out, "%s has no open trades.", p->id);
        if (n > 0 && !c->confirmed) {   /* SPEC 12: closing many asks first */
            struct sbuf q;
            sbuf_init(&q);
            sbuf_htmlf(&q, "Close all %d open trade%s of %s?", n, n == 1 ? "" : "s", p->id);
            cmd_confirm_ask(c, sbuf_str(&q));
            sbuf_free(&q);
            free(pos);
            return;
        }
        for (int i = 0; i < n; i++)
            close_one(c, p, pos[i].trade_id, 0, &ok);
        if (n > 0)
            sbuf_printf(c->out, "%d of %d closed.", ok, n);
        free(pos);
        return;
    }
    long long id = strtoll(w[1], &end, 10);
    if (*end || id <= 0) {
        sbuf_puts(c->out, "TRADE_ID must be a trade number or <code>all</code>. ");
        cmd_usage(c);
        return;
    }
    double lot = nw == 3 ? part_of(c, p, (int64_t)id, w[2]) : 0;
    if (lot >= 0)
        close_one(c, p, (int64_t)id, lot, &ok);
}
