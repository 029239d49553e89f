/*
 * _template/plugin.c — the smallest complete zepix plugin: copy this directory
 * to plugins/<your_id>/, set TPL_ID to <your_id>, rename the tpl_ prefix, and
 * fill in the hooks you need (every hook is optional; delete the others and
 * leave their member out of the def).
 *
 * What it does: counts signals, rejects a buy/sell while the current spread is
 * wider than the config value `max_spread_pips` (0 = no limit), and logs every
 * hook so you can watch the lifecycle in the daemon's log.
 *
 * Rules (see README.md): include only zepix_plugin.h and libc/libm headers;
 * reach the world only through the zx_api table; never block in a hook (they
 * run on the host's event-loop thread); keep all mutable data in the state
 * struct allocated by init — never in globals, because during a hot reload the
 * old and the new build run side by side in the same process.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "zepix_plugin.h"

#define TPL_ID "_template"      /* must equal the directory name */

/* Everything the plugin remembers between hooks. Allocated by init, freed by
 * shutdown; the host hands it back as `state` to every hook. */
typedef struct tpl_state {
    zx_host *host;              /* our handle: pass it to every api call */
    const zx_api *api;          /* the host's service table, valid until shutdown */
    double max_spread_pips;     /* config: 0 = no spread filter */
    long signals_seen;          /* since init (lost on reload: in memory only) */
} tpl_state;

/* Called once after loading (also for a hot reload, beside the old build).
 * Read and validate config here; return 0, or -1 to fail the load (the plugin
 * is then shown as `failed` and, on a reload, the old build keeps running). */
static int tpl_init(zx_host *host, const zx_api *api, void **state)
{
    /* A member newer than ABI version 1 would be checked the same way. */
    if (!ZX_API_HAS(api, symbol_info)) {
        api->log(host, ZX_LOG_ERROR, "host too old: zx_api has no symbol_info");
        return -1;
    }

    tpl_state *st = calloc(1, sizeof *st);
    if (st == NULL) {
        api->log(host, ZX_LOG_ERROR, "out of memory");
        return -1;
    }
    st->host = host;
    st->api = api;
    st->max_spread_pips = api->config_number(host, "max_spread_pips", 0.0);
    if (st->max_spread_pips < 0) {
        api->log(host, ZX_LOG_ERROR, "config max_spread_pips must be >= 0, got %g",
                 st->max_spread_pips);
        free(st);
        return -1;
    }
    api->log(host, ZX_LOG_INFO, "initialised (max_spread_pips=%g)", st->max_spread_pips);
    *state = st;
    return 0;
}

/* Called once before unloading (daemon exit, or after a successful reload). */
static void tpl_shutdown(void *state)
{
    tpl_state *st = state;
    st->api->log(st->host, ZX_LOG_INFO, "shutting down after %ld signal(s)", st->signals_seen);
    free(st);
}

/* Every signal addressed to this plugin (or to all) while it is enabled.
 * Return ZX_REJECT with a reason, ZX_ACCEPT to let the host execute the
 * (possibly modified) signal, or ZX_HANDLED after placing/closing orders
 * yourself with api->place_order / api->close_trade. */
static zx_verdict tpl_on_signal_received(void *state, zx_signal *sig, char *reason,
                                         size_t reason_len)
{
    tpl_state *st = state;
    st->signals_seen++;
    st->api->log(st->host, ZX_LOG_INFO, "signal #%lld action=%d %s price=%g sl=%g tp=%g lot=%g",
                 (long long)sig->id, (int)sig->action, sig->symbol, sig->price, sig->sl,
                 sig->tp, sig->lot);

    if (sig->action != ZX_BUY && sig->action != ZX_SELL)
        return ZX_ACCEPT;                       /* closes: let the host close our trades */

    if (st->max_spread_pips > 0) {
        double bid, ask, pip_size, pip_value;
        if (st->api->quote(st->host, sig->symbol, &bid, &ask) == 0 &&
            st->api->symbol_info(st->host, sig->symbol, &pip_size, &pip_value) == 0 &&
            pip_size > 0) {
            double spread_pips = (ask - bid) / pip_size;
            if (spread_pips > st->max_spread_pips) {
                snprintf(reason, reason_len, "spread %.1f pips > max_spread_pips %.1f",
                         spread_pips, st->max_spread_pips);
                return ZX_REJECT;
            }
        }
    }
    /* Example of changing the signal: sig->lot_multiplier = 2.0; sig->sl = ...; */
    return ZX_ACCEPT;
}

/* After every fill of one of this plugin's orders (host- or plugin-placed). */
static void tpl_on_order_placed(void *state, const zx_order *order)
{
    tpl_state *st = state;
    st->api->log(st->host, ZX_LOG_INFO, "filled trade %lld: %s %g %s at %g",
                 (long long)order->trade_id, order->side == ZX_BUY ? "BUY" : "SELL",
                 order->lot, order->symbol, order->price);
}

/* For each open trade of this plugin on every quote that moves it, and once
 * more with closed=1 when it closes. Never call the API for a closed update. */
static void tpl_on_position_update(void *state, const zx_position *pos)
{
    tpl_state *st = state;
    if (pos->closed)
        st->api->log(st->host, ZX_LOG_INFO, "trade %lld closed (%s): %.1f pips, %.2f",
                     (long long)pos->trade_id, pos->close_reason, pos->profit_pips,
                     pos->profit_money);
    /* Open updates can be frequent: log at debug level only. */
    else
        st->api->log(st->host, ZX_LOG_DEBUG, "trade %lld at %g: %.1f pips",
                     (long long)pos->trade_id, pos->current_price, pos->profit_pips);
}

/* Once a day at daily_reset.time, with the figures of the day that ended. */
static void tpl_on_daily_reset(void *state, const zx_daily *day)
{
    tpl_state *st = state;
    st->api->log(st->host, ZX_LOG_INFO, "day %s: %d trade(s), profit %.2f",
                 day->date, day->total_trades, day->total_profit);
}

/* The operator enabled / disabled the plugin (also around a hot reload). */
static void tpl_on_plugin_enabled(void *state)
{
    tpl_state *st = state;
    st->api->log(st->host, ZX_LOG_INFO, "enabled");
}

static void tpl_on_plugin_disabled(void *state)
{
    tpl_state *st = state;
    st->api->log(st->host, ZX_LOG_INFO, "disabled");
}

static const zx_plugin_def tpl_def = {
    .abi_version = ZX_PLUGIN_ABI_VERSION,
    .id = TPL_ID,
    .name = "Plugin Template",
    .version = "1.0.0",
    .author = "Zepix Team",
    .init = tpl_init,
    .shutdown = tpl_shutdown,
    .on_signal_received = tpl_on_signal_received,
    .on_order_placed = tpl_on_order_placed,
    .on_position_update = tpl_on_position_update,
    .on_daily_reset = tpl_on_daily_reset,
    .on_plugin_enabled = tpl_on_plugin_enabled,
    .on_plugin_disabled = tpl_on_plugin_disabled,
};

/* The one exported symbol (ZX_EXPORT in the header; everything else is hidden
 * when built with -fvisibility=hidden). */
const zx_plugin_def *zx_plugin_entry(void)
{
    return &tpl_def;
}
