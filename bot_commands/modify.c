/*
 * /modify ID TRADE_ID [sl=PRICE] [tp=PRICE] — move the stop loss and/or take
 * profit of an open trade (0 removes it). With the MT5 bridge the change is sent
 * to the terminal. Never blocks.
 */
#include "app.h"
#include "args.h"
#include "commands.h"
#include "engine.h"
#include "registry.h"
#include "sbuf.h"

#include <math.h>
#include <stdlib.h>
#include <strings.h>

static int level(const char *word, const char *key, double *out)
{
    size_t n = strlen(key);
    char *end;
    if (strncasecmp(word, key, n) != 0)
        return 0;
    *out = strtod(word + n, &end);
    return (*end || end == word + n || !isfinite(*out) || *out < 0) ? -1 : 1;
}

void cmd_modify(struct cmd_ctx *c)
{
    char w[5][CMD_WORD_MAX], err[256], *end;
    double sl = -1, tp = -1;    /* negative: keep */
    int n = cmd_words(c->args, w, 4);
    if (n < 3 || n > 4) {
        cmd_usage(c);
        return;
    }
    long long id = strtoll(w[1], &end, 10);
    if (*end || id <= 0) {
        sbuf_puts(c->out, "TRADE_ID must be a trade number. ");
        cmd_usage(c);
        return;
    }
    for (int i = 2; i < n; i++) {
        int rs = level(w[i], "sl=", &sl), rt = rs ? 0 : level(w[i], "tp=", &tp);
        if (rs < 0 || rt < 0 || (!rs && !rt)) {
            sbuf_htmlf(c->out, "Not understood: %s (sl=PRICE or tp=PRICE, 0 removes). ", w[i]);
            cmd_usage(c);
            return;
        }
    }
    struct plugin *p = cmd_plugin(c, w[0]);
    if (!p)
        return;
    if (eng_modify(c->app->eng, p, (int64_t)id, sl, tp, err, sizeof err)) {
        sbuf_puts(c->out, "❌ ");
        sbuf_html(c->out, err);
        return;
    }
    sbuf_htmlf(c->out, "✅ #%lld:", id);
    if (sl >= 0)
        sbuf_htmlf(c->out, " sl %s", sl > 0 ? "" : "removed");
    if (sl > 0)
        sbuf_htmlf(c->out, "%.5g", sl);
    if (tp >= 0)
        sbuf_htmlf(c->out, " tp %s", tp > 0 ? "" : "removed");
    if (tp > 0)
        sbuf_htmlf(c->out, "%.5g", tp);
}
