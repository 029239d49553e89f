/*
 * tp_ok — the registry tests' well-behaved plugin. tp_v2, tp_ok2 and tp_initfail
 * are this same file (a symlink, so make rebuilds them all when it changes) with
 * their own build.c, which sets:
 *
 *   tp_id       its id ("tp_ok"; must equal the directory it is installed in)
 *   tp_version  its version ("1.0.0")
 *   tp_init_rc  what init returns (0)
 *
 * Behaviour, chosen by the signal's comment:
 *   "reject"  ZX_REJECT, reason "told to reject"
 *   "double"  lot_multiplier = 2.0, ZX_ACCEPT
 *   "self"    places its own order (same side and symbol, 0.03 lot), ZX_HANDLED
 *   "stats"   ZX_REJECT with its counters in the reason (how the tests observe it)
 *   anything else: ZX_ACCEPT
 *
 * Config (plugins.<id>), for the tests of edge cases:
 *   "trades_in_init" (bool)     init asks for its open trades (api->open_trades)
 *   "order_in_init" (bool)      init places a 0.01 EURUSD buy
 *   "close_on_shutdown" (bool)  shutdown closes its open trades
 *   "log_on_shutdown" (bool)    shutdown logs "<id> <version> shutdown after N signal(s)"
 * (shutdown makes no API call by default: see test_registry's known bugs).
 *
 * Misbehaviour detectors, logged at ERROR so tests can grep the log:
 *   "hook re-entered"       a hook ran while another of ours was running
 *   "hook after shutdown"   a hook ran after shutdown() (per-copy global flag)
 *   "foreign state"         a hook got a state that this build did not create
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "zepix_plugin.h"

/* From build.c, beside this file. */
extern const char tp_id[], tp_version[];
extern const int tp_init_rc;
#define TP_ID tp_id
#define TP_VERSION tp_version

typedef struct tp_state {
    const void *self;           /* &g_def of the build that made it */
    zx_host *host;
    const zx_api *api;
    int in_hook;
    int close_on_shutdown, log_on_shutdown;
    int enabled, disabled, signals, orders, positions, closed, dailies;
} tp_state;

/* Globals are per dlopen'ed copy: the old and the new build each have theirs. */
static int g_shut;
static zx_host *g_host;
static const zx_api *g_api;
static const zx_plugin_def g_def;

/* Enter a hook: 0 when the hook may use st, -1 when it must not touch it. */
static int enter(tp_state *st, const char *hook)
{
    if (g_shut) {
        g_api->log(g_host, ZX_LOG_ERROR, "%s %s: hook after shutdown", TP_ID, hook);
        return -1;
    }
    if (!st || st->self != (const void *)&g_def) {
        g_api->log(g_host, ZX_LOG_ERROR, "%s %s %s: foreign state %p", TP_ID, TP_VERSION, hook,
                   (void *)st);
        return -1;
    }
    if (st->in_hook)
        st->api->log(st->host, ZX_LOG_ERROR, "%s %s: hook re-entered", TP_ID, hook);
    st->in_hook++;
    return 0;
}

static void leave(tp_state *st) { st->in_hook--; }

static int tp_init(zx_host *host, const zx_api *api, void **state)
{
    g_host = host;
    g_api = api;
    if (tp_init_rc != 0) {
        api->log(host, ZX_LOG_ERROR, "%s %s init fails on purpose", TP_ID, TP_VERSION);
        return tp_init_rc;
    }
    tp_state *st = calloc(1, sizeof *st);
    if (!st)
        return -1;
    st->self = &g_def;
    st->host = host;
    st->api = api;
    st->close_on_shutdown = api->config_bool(host, "close_on_shutdown", 0);
    st->log_on_shutdown = api->config_bool(host, "log_on_shutdown", 0);
    *state = st;
    api->log(host, ZX_LOG_INFO, "%s %s init", TP_ID, TP_VERSION);
    if (api->config_bool(host, "trades_in_init", 0)) {
        zx_position pos[16];
        api->log(host, ZX_LOG_INFO, "%s %s open trades at init: %d", TP_ID, TP_VERSION,
                 api->open_trades(host, pos, 16));
    }
    if (api->config_bool(host, "order_in_init", 0)) {
        zx_order_req req = {.side = ZX_BUY, .symbol = "EURUSD", .lot = 0.01, .comment = "from init"};
        char err[200] = "";
        zx_order o;
        int rc = api->place_order(host, &req, &o, err, sizeof err);
        api->log(host, ZX_LOG_INFO, "%s %s order from init: %d %s", TP_ID, TP_VERSION, rc, err);
    }
    return 0;
}

static void tp_shutdown(void *state)
{
    tp_state *st = state;
    if (st->close_on_shutdown) {
        zx_position pos[16];
        int n = st->api->open_trades(st->host, pos, 16);
        for (int i = 0; i < n; i++) {
            char err[200] = "";
            if (st->api->close_trade(st->host, pos[i].trade_id, 0, err, sizeof err))
                st->api->log(st->host, ZX_LOG_WARN, "close of %lld on shutdown: %s",
                             (long long)pos[i].trade_id, err);
        }
    }
    if (st->log_on_shutdown)
        st->api->log(st->host, ZX_LOG_INFO, "%s %s shutdown after %d signal(s)", TP_ID, TP_VERSION,
                     st->signals);
    g_shut = 1;
    free(st);
}

static zx_verdict tp_on_signal_received(void *state, zx_signal *sig, char *reason, size_t reason_len)
{
    tp_state *st = state;
    zx_verdict v = ZX_ACCEPT;
    if (enter(st, "on_signal_received"))
        return ZX_REJECT;
    st->signals++;
    if (strcmp(sig->comment, "reject") == 0) {
        snprintf(reason, reason_len, "told to reject");
        v = ZX_REJECT;
    } else if (strcmp(sig->comment, "double") == 0) {
        sig->lot_multiplier = 2.0;
    } else if (strcmp(sig->comment, "self") == 0) {
        zx_order_req req = {.side = sig->action, .lot = 0.03, .comment = "self"};
        zx_order o;
        char err[200] = "";
        memcpy(req.symbol, sig->symbol, sizeof req.symbol);
        if (st->api->place_order(st->host, &req, &o, err, sizeof err)) {
            snprintf(reason, reason_len, "own order failed: %s", err);
            v = ZX_REJECT;
        } else {
            snprintf(reason, reason_len, "placed trade %lld", (long long)o.trade_id);
            v = ZX_HANDLED;
        }
    } else if (strcmp(sig->comment, "stats") == 0) {
        snprintf(reason, reason_len,
                 "version=%s enabled=%d disabled=%d signals=%d orders=%d positions=%d closed=%d",
                 TP_VERSION, st->enabled, st->disabled, st->signals, st->orders, st->positions,
                 st->closed);
        v = ZX_REJECT;
    }
    leave(st);
    return v;
}

static void tp_on_order_placed(void *state, const zx_order *order)
{
    tp_state *st = state;
    if (enter(st, "on_order_placed"))
        return;
    st->orders++;
    st->api->log(st->host, ZX_LOG_DEBUG, "%s order %lld", TP_ID, (long long)order->trade_id);
    leave(st);
}

static void tp_on_position_update(void *state, const zx_position *pos)
{
    tp_state *st = state;
    if (enter(st, "on_position_update"))
        return;
    st->positions++;
    st->closed += pos->closed;
    leave(st);
}

static void tp_on_daily_reset(void *state, const zx_daily *day)
{
    tp_state *st = state;
    (void)day;
    if (enter(st, "on_daily_reset"))
        return;
    st->dailies++;
    leave(st);
}

static void tp_on_plugin_enabled(void *state)
{
    tp_state *st = state;
    if (enter(st, "on_plugin_enabled"))
        return;
    st->enabled++;
    leave(st);
}

static void tp_on_plugin_disabled(void *state)
{
    tp_state *st = state;
    if (enter(st, "on_plugin_disabled"))
        return;
    st->disabled++;
    leave(st);
}

static const zx_plugin_def g_def = {
    .abi_version = ZX_PLUGIN_ABI_VERSION,
    .id = TP_ID,
    .name = "registry test plugin",
    .version = TP_VERSION,
    .author = "zepix tests",
    .init = tp_init,
    .shutdown = tp_shutdown,
    .on_signal_received = tp_on_signal_received,
    .on_order_placed = tp_on_order_placed,
    .on_position_update = tp_on_position_update,
    .on_daily_reset = tp_on_daily_reset,
    .on_plugin_enabled = tp_on_plugin_enabled,
    .on_plugin_disabled = tp_on_plugin_disabled,
};

const zx_plugin_def *zx_plugin_entry(void) { return &g_def; }
