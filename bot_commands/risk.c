/*
 * /risk — the host's risk limits in force (SPEC 12 `risk`, per account and per
 * plugin) and today's use of each: open trades, today's profit (realised plus
 * floating), and whether a limit has paused opening. Reads the engine's
 * positions and today's closed trades of each ledger (indexed); never blocks.
 */
#include "app.h"
#include "commands.h"
#include "engine.h"
#include "registry.h"
#include "risk.h"
#include "sbuf.h"

static void limits(struct cmd_ctx *c, const struct cfg_risk_limits *l, const struct risk_figures *f)
{
    double base = f->day_start_balance;
    if (l->max_daily_loss > 0)
        sbuf_printf(c->out, "  max_daily_loss %.2f: today %+.2f\n", l->max_daily_loss, f->day_pnl);
    if (l->max_daily_loss_pct > 0)
        sbuf_printf(c->out, "  max_daily_loss_pct %g%%: today %+.2f%%\n", l->max_daily_loss_pct,
                    base > 0 ? f->day_pnl / base * 100 : 0.0);
    if (l->max_drawdown_pct > 0)
        sbuf_printf(c->out, "  max_drawdown_pct %g%% (from today's peak)\n", l->max_drawdown_pct);
    if (l->max_open_trades > 0)
        sbuf_printf(c->out, "  max_open_trades %d: %d open\n", l->max_open_trades, f->open_trades);
    if (l->max_lot > 0)
        sbuf_printf(c->out, "  max_lot %.2f per order\n", l->max_lot);
    if (l->max_lots_per_symbol > 0)
        sbuf_printf(c->out, "  max_lots_per_symbol %.2f\n", l->max_lots_per_symbol);
}

static void scope(struct cmd_ctx *c, struct plugin *p, const struct cfg_risk_limits *l)
{
    struct risk_figures f;
    eng_risk_figures(c->app->eng, p, NULL, &f);
    const char *paused = risk_paused(c->app->risk, p ? p->id : "");
    sbuf_htmlf(c->out, "%s: today %+.2f, %d open\n", p ? p->id : "account", f.day_pnl, f.open_trades);
    if (paused)
        sbuf_htmlf(c->out, "  🛑 opening paused: %s\n", paused);
    if (risk_any(l))
        limits(c, l, &f);
    else
        sbuf_puts(c->out, "  no limits set\n");
}

void cmd_risk(struct cmd_ctx *c)
{
    const struct config *cfg = &c->app->cfg;
    if (c->args[0]) {
        cmd_usage(c);
        return;
    }
    sbuf_puts(c->out, "<b>Risk limits</b> (0 = off; a loss limit pauses opening until the next daily "
                      "reset or /resume)\n<pre>");
    scope(c, NULL, &cfg->risk.account);
    for (size_t i = 0; i < c->app->reg.n; i++) {
        struct plugin *p = c->app->reg.v[i];
        const struct cfg_risk_limits *l = risk_plugin_limits(cfg, p->id);
        if (risk_any(l) || risk_paused(c->app->risk, p->id))
            scope(c, p, l);
    }
    sbuf_puts(c->out, "</pre>");
}
