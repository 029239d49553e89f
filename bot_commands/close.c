/*
 * /close ID TRADE_ID|all — close one or every open trade of a plugin at the
 * broker (closing works while paused). Closing a trade that is no longer open
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

static void close_one(struct cmd_ctx *c, struct plugin *p, int64_t id, int *ok)
{
    char err[256];
    if (eng_close(c->app, p, id, 0, "manual", err, sizeof err)) {
        sbuf_htmlf(c->out, "❌ #%lld: %s\n", (long long)id, err);
        return;
    }
    if (eng_broker_async(c->app))
        sbuf_htmlf(c->out, "✅ #%lld close sent to the terminal\n", (long long)id);
    else
        sbuf_htmlf(c->out, "✅ #%lld closed\n", (long long)id);
    (*ok)++;
}

void cmd_close(struct cmd_ctx *c)
{
    char w[3][CMD_WORD_MAX], *end;
    int ok = 0;
    if (cmd_words(c->args, w, 2) != 2) {
        cmd_usage(c);
        return;
    }
    struct plugin *p = cmd_plugin(c, w[0]);
    if (!p)
        return;
    if (strcmp(w[1], "all") == 0) {
        zx_position *pos = calloc(CLOSE_MAX, sizeof *pos);
        if (!pos) {
            sbuf_puts(c->out, "Out of memory.");
            return;
        }
        int n = eng_positions(c->app, p, pos, CLOSE_MAX);
        if (n == 0)
            sbuf_htmlf(c->out, "%s has no open trades.", p->id);
        for (int i = 0; i < n; i++)
            close_one(c, p, pos[i].trade_id, &ok);
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
    close_one(c, p, (int64_t)id, &ok);
}
