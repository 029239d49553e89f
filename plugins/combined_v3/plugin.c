/*
 * combined_v3/plugin.c — "Combined V3 Logic": the plugin definition, config
 * loading and validation, and the hooks that dispatch to entry_logic.c (signals)
 * and exit_logic.c (position updates).
 *
 * All mutable data lives in the cv3_state that init allocates: the old and the
 * new build of this plugin run side by side during a hot reload.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "zepix_plugin.h"
#include "entry_logic.h"
#include "exit_logic.h"

typedef struct cv3_state {
    zx_host *host;
    const zx_api *api;
    char *allowed_symbols;          /* our copy of the config string */
    cv3_entry_cfg entry;
    cv3_exit exit;
    long signals, accepted, rejected;   /* since init */
} cv3_state;

/* Read a number, check min <= value <= max; -1 (logged) otherwise. */
static int cv3_num(const cv3_state *st, const char *key, double def, double min, double max,
                   double *out)
{
    double v = st->api->config_number(st->host, key, def);
    if (!isfinite(v) || v < min || v > max) {
        st->api->log(st->host, ZX_LOG_ERROR, "config %s must be in [%g, %g], got %g", key, min,
                     max, v);
        return -1;
    }
    *out = v;
    return 0;
}

static int cv3_load_config(cv3_state *st)
{
    cv3_entry_cfg *en = &st->entry;
    cv3_exit_cfg ex;
    double max_pos = 0;
    const double big = 1e9;
    memset(&ex, 0, sizeof ex);

    const char *syms = st->api->config_string(st->host, "allowed_symbols", "");
    st->allowed_symbols = strdup(syms != NULL ? syms : "");
    if (st->allowed_symbols == NULL)
        return -1;
    en->allowed_symbols = st->allowed_symbols;

    if (cv3_num(st, "default_lot", 0.01, 1e-6, big, &en->default_lot) ||
        cv3_num(st, "max_lot_size", 0, 0, big, &en->max_lot_size) ||
        cv3_num(st, "min_lot", 0.01, 1e-6, big, &en->min_lot) ||
        cv3_num(st, "lot_step", 0.01, 1e-6, big, &en->lot_step) ||
        cv3_num(st, "risk_percentage", 1.0, 0, 100, &en->risk_percentage) ||
        cv3_num(st, "default_sl_pips", 0, 0, big, &en->default_sl_pips) ||
        cv3_num(st, "default_tp_pips", 0, 0, big, &en->default_tp_pips) ||
        cv3_num(st, "max_positions_per_symbol", 3, 1, 1000, &max_pos) ||
        cv3_num(st, "breakeven_after_pips", 0, 0, big, &ex.breakeven_after_pips) ||
        cv3_num(st, "breakeven_offset_pips", 0, 0, big, &ex.breakeven_offset_pips) ||
        cv3_num(st, "partial_close_at_pips", 0, 0, big, &ex.partial_close_at_pips) ||
        cv3_num(st, "partial_close_fraction", 0.5, 0, 0.999, &ex.partial_close_fraction) ||
        cv3_num(st, "trailing_start_pips", 0, 0, big, &ex.trailing_start_pips) ||
        cv3_num(st, "trailing_distance_pips", 0, 0, big, &ex.trailing_distance_pips) ||
        cv3_num(st, "trailing_step_pips", 0, 0, big, &ex.trailing_step_pips))
        return -1;
    en->max_positions_per_symbol = (int)max_pos;
    en->pyramiding = st->api->config_bool(st->host, "pyramiding", 0);
    en->reverse_on_opposite = st->api->config_bool(st->host, "reverse_on_opposite", 1);
    ex.notify_exits = st->api->config_bool(st->host, "notify_exits", 1);
    ex.min_lot = en->min_lot;
    ex.lot_step = en->lot_step;

    if (ex.trailing_start_pips > 0 && ex.trailing_distance_pips <= 0) {
        st->api->log(st->host, ZX_LOG_ERROR,
                     "config trailing_distance_pips must be > 0 when trailing_start_pips is set");
        return -1;
    }
    if (en->max_lot_size > 0 && en->max_lot_size < en->min_lot) {
        st->api->log(st->host, ZX_LOG_ERROR, "config max_lot_size %g is below min_lot %g",
                     en->max_lot_size, en->min_lot);
        return -1;
    }
    if (ex.breakeven_after_pips > 0 && ex.breakeven_offset_pips >= ex.breakeven_after_pips)
        st->api->log(st->host, ZX_LOG_WARN, "breakeven_offset_pips >= breakeven_after_pips: "
                     "break-even waits until profit exceeds the offset");
    return cv3_exit_open(&st->exit, st->host, st->api, &ex);
}

static void cv3_free(cv3_state *st)
{
    cv3_exit_close(&st->exit);
    free(st->allowed_symbols);
    free(st);
}

static int cv3_init(zx_host *host, const zx_api *api, void **state)
{
    if (!ZX_API_HAS(api, symbol_info)) {
        api->log(host, ZX_LOG_ERROR, "host too old: zx_api has no symbol_info");
        return -1;
    }
    cv3_state *st = calloc(1, sizeof *st);
    if (st == NULL)
        return -1;
    st->host = host;
    st->api = api;
    if (cv3_load_config(st) != 0) {
        cv3_free(st);
        return -1;
    }
    api->log(host, ZX_LOG_INFO,
             "ready: risk %g%%, default_lot %g, max_lot %g, sl/tp %g/%g pips, pyramiding %s, "
             "reverse %s, symbols [%s]",
             st->entry.risk_percentage, st->entry.default_lot, st->entry.max_lot_size,
             st->entry.default_sl_pips, st->entry.default_tp_pips,
             st->entry.pyramiding ? "on" : "off", st->entry.reverse_on_opposite ? "on" : "off",
             st->allowed_symbols[0] ? st->allowed_symbols : "all");
    *state = st;
    return 0;
}

static void cv3_shutdown(void *state)
{
    cv3_state *st = state;
    st->api->log(st->host, ZX_LOG_INFO, "shutdown: %ld signal(s), %ld accepted, %ld rejected",
                 st->signals, st->accepted, st->rejected);
    cv3_free(st);
}

static zx_verdict cv3_on_signal_received(void *state, zx_signal *sig, char *reason,
                                         size_t reason_len)
{
    cv3_state *st = state;
    st->signals++;
    zx_verdict v = cv3_entry_on_signal(&st->entry, st->host, st->api, sig, reason, reason_len);
    if (v == ZX_REJECT) {
        st->rejected++;
        st->api->log(st->host, ZX_LOG_INFO, "reject %s: %s", sig->symbol, reason);
    } else {
        st->accepted++;
    }
    return v;
}

static void cv3_on_order_placed(void *state, const zx_order *o)
{
    cv3_state *st = state;
    st->api->log(st->host, ZX_LOG_INFO, "trade %lld: %s %g %s at %g sl %g tp %g",
                 (long long)o->trade_id, o->side == ZX_BUY ? "BUY" : "SELL", o->lot, o->symbol,
                 o->price, o->sl, o->tp);
}

static void cv3_on_position_update(void *state, const zx_position *pos)
{
    cv3_state *st = state;
    cv3_exit_on_update(&st->exit, pos);
}

static void cv3_on_daily_reset(void *state, const zx_daily *day)
{
    cv3_state *st = state;
    st->api->log(st->host, ZX_LOG_INFO, "day %s: %d trade(s), %d won, profit %.2f",
                 day->date, day->total_trades, day->win_count, day->total_profit);
    cv3_exit_prune(&st->exit);
}

static void cv3_on_plugin_enabled(void *state)
{
    cv3_state *st = state;
    st->api->log(st->host, ZX_LOG_INFO, "enabled");
}

static void cv3_on_plugin_disabled(void *state)
{
    cv3_state *st = state;
    st->api->log(st->host, ZX_LOG_INFO, "disabled");
}

static const zx_plugin_def cv3_def = {
    .abi_version = ZX_PLUGIN_ABI_VERSION,
    .id = "combined_v3",
    .name = "Combined V3 Logic",
    .version = "3.0.0",
    .author = "Zepix Team",
    .init = cv3_init,
    .shutdown = cv3_shutdown,
    .on_signal_received = cv3_on_signal_received,
    .on_order_placed = cv3_on_order_placed,
    .on_position_update = cv3_on_position_update,
    .on_daily_reset = cv3_on_daily_reset,
    .on_plugin_enabled = cv3_on_plugin_enabled,
    .on_plugin_disabled = cv3_on_plugin_disabled,
};

const zx_plugin_def *zx_plugin_entry(void)
{
    return &cv3_def;
}
