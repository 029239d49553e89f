/*
 * tp_events — the registry tests' plugin of the growing ABI: it defines no
 * on_daily_reset in its zx_plugin_def and registers ZX_EVENT_DAILY_RESET
 * through api->register_hook in init instead (when ZX_API_HAS says the host
 * has it). init also tries an unknown event and a NULL function, which must
 * be refused.
 *
 * Signal comments:
 *   "stats"  ZX_REJECT with "has=H unknown=U null=N daily=D resets=R last=DATE trades=T"
 *   "late"   ZX_REJECT with "late=RC": register_hook called outside init
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "zepix_plugin.h"

typedef struct ev_state {
    zx_host *host;
    const zx_api *api;
    int has, rc_unknown, rc_null, rc_daily;
    int resets, trades;
    char last[11];
} ev_state;

static void ev_on_daily(void *state, const zx_daily *day)
{
    ev_state *st = state;
    st->resets++;
    st->trades = day->total_trades;
    snprintf(st->last, sizeof st->last, "%s", day->date);
}

static int ev_init(zx_host *host, const zx_api *api, void **state)
{
    ev_state *st = calloc(1, sizeof *st);
    if (!st)
        return -1;
    st->host = host;
    st->api = api;
    st->rc_unknown = st->rc_null = st->rc_daily = 99;
    st->has = ZX_API_HAS(api, register_hook);
    snprintf(st->last, sizeof st->last, "-");
    if (st->has) {
        st->rc_unknown = api->register_hook(host, 999, (zx_hook_fn)ev_on_daily);
        st->rc_null = api->register_hook(host, ZX_EVENT_DAILY_RESET, NULL);
        st->rc_daily = api->register_hook(host, ZX_EVENT_DAILY_RESET, (zx_hook_fn)ev_on_daily);
    }
    *state = st;
    return 0;
}

static void ev_shutdown(void *state) { free(state); }

static zx_verdict ev_on_signal(void *state, zx_signal *sig, char *reason, size_t reason_len)
{
    ev_state *st = state;
    if (strcmp(sig->comment, "stats") == 0) {
        snprintf(reason, reason_len, "has=%d unknown=%d null=%d daily=%d resets=%d last=%s trades=%d", st->has,
                 st->rc_unknown, st->rc_null, st->rc_daily, st->resets, st->last, st->trades);
        return ZX_REJECT;
    }
    if (strcmp(sig->comment, "late") == 0) {
        snprintf(reason, reason_len, "late=%d",
                 st->api->register_hook(st->host, ZX_EVENT_DAILY_RESET, (zx_hook_fn)ev_on_daily));
        return ZX_REJECT;
    }
    return ZX_ACCEPT;
}

static const zx_plugin_def g_def = {
    .abi_version = ZX_PLUGIN_ABI_VERSION,
    .id = "tp_events",
    .name = "Registered events",
    .version = "1.0.0",
    .author = "zepix tests",
    .init = ev_init,
    .shutdown = ev_shutdown,
    .on_signal_received = ev_on_signal,
};

ZX_EXPORT const zx_plugin_def *zx_plugin_entry(void) { return &g_def; }
