/*
 * /status — uptime, broker, webhook address, plugins, today's activity and the
 * pause flag (SPEC section 7). Reads in-memory state only; never blocks.
 */
#include "app.h"
#include "commands.h"
#include "engine.h"
#include "journal.h"
#include "registry.h"
#include "sbuf.h"

#include <inttypes.h>
#include <string.h>

static void uptime(struct sbuf *out, int64_t s)
{
    if (s >= 86400)
        sbuf_printf(out, "%" PRId64 "d ", s / 86400);
    if (s >= 3600)
        sbuf_printf(out, "%" PRId64 "h ", s / 3600 % 24);
    if (s >= 60)
        sbuf_printf(out, "%" PRId64 "m ", s / 60 % 60);
    sbuf_printf(out, "%" PRId64 "s", s % 60);
}

void cmd_status(struct cmd_ctx *c)
{
    struct app *a = c->app;
    const struct config *cfg = &a->cfg;
    int64_t up = (int64_t)(ev_now(a->loop) - a->started_mono);

    sbuf_printf(c->out, "<b>zepix %s</b>\n", ZEPIX_VERSION);
    sbuf_puts(c->out, "Uptime: ");
    uptime(c->out, up < 0 ? 0 : up);
    sbuf_puts(c->out, "\nBroker: ");
    sbuf_html(c->out, cfg->broker.kind);
    char line[200];
    if (eng_broker_describe(a->eng, line, sizeof line) == 0) {
        sbuf_puts(c->out, "\n");
        sbuf_html(c->out, line);
    }
    sbuf_puts(c->out, "\nWebhook: <code>http://");
    sbuf_html(c->out, cfg->webhook.listen);
    sbuf_html(c->out, cfg->webhook.path);
    sbuf_puts(c->out, "</code>\n");
    struct registry *r = &a->reg;
    sbuf_printf(c->out, "Plugins: %zu enabled / %zu loaded", reg_count_state(r, PLG_ENABLED),
                r->n - reg_count_state(r, PLG_FAILED));
    if (reg_count_state(r, PLG_FAILED))
        sbuf_printf(c->out, ", <b>%zu failed</b> (/plugins)", reg_count_state(r, PLG_FAILED));
    /* "Today" is the UTC day: the daily reset has its own report (/daily). */
    int64_t midnight = app_now_ms() / 86400000 * 86400000;
    int64_t trades = 0;
    for (size_t i = 0; i < r->n; i++) {
        int n = r->v[i]->ldg ? ldg_count_opened_since(r->v[i]->ldg, midnight) : 0;
        trades += n > 0 ? n : 0;
    }
    sbuf_printf(c->out, "\nToday (UTC): %lld signals, %lld trades opened, %zu open now\n",
                (long long)jrn_count_since(a, midnight), (long long)trades, eng_open_count(a->eng));
    double bal, eq;
    if (eng_account(a->eng, &bal, &eq) == 0)
        sbuf_printf(c->out, "Account: balance %.2f, equity %.2f\n", bal, eq);
    sbuf_puts(c->out, a->paused ? "Trading: <b>PAUSED</b> (no new trades; /resume)"
                                : "Trading: active");
}
