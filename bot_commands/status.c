/*
 * /status — uptime, broker, webhook address, plugins, today's activity and the
 * pause flag (SPEC section 7). Reads in-memory state only; never blocks.
 */
#include "app.h"
#include "commands.h"
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
    sbuf_puts(c->out, "\nWebhook: <code>http://");
    sbuf_html(c->out, cfg->webhook.listen);
    sbuf_html(c->out, cfg->webhook.path);
    sbuf_puts(c->out, "</code>\n");
    /* TODO(registry): "Plugins: N enabled / M loaded" once the registry lands. */
    sbuf_puts(c->out, "Plugins: (not available yet)\n");
    /* TODO(journal): "Today: N signals, M trades" once the journal lands. */
    sbuf_puts(c->out, "Today: (not available yet)\n");
    sbuf_puts(c->out, a->paused ? "Trading: <b>PAUSED</b> (no new trades; /resume)"
                                : "Trading: active");
}
