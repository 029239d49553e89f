/*
 * tp_abi1 — an ABI 1 plugin built against zepix_plugin_abi1.h, the header as
 * it was before zx_api grew register_hook: it knows nothing of the mechanism,
 * its zx_api is the shorter one. The host must keep loading it, pass it a
 * table whose old members sit where they always did, and deliver its
 * zx_plugin_def hooks as before.
 *
 * "stats" (signal comment): ZX_REJECT with
 *   "size_ok=S symbol_info=RC pip=P dailies=D enabled=E"
 * where S is 1 when the host's api->size covers this plugin's whole zx_api
 * (checked in init), and RC/P what api->symbol_info, the last member of the
 * old table, answers for EURUSD now.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "zepix_plugin_abi1.h"

typedef struct a1_state {
    zx_host *host;
    const zx_api *api;
    int size_ok, dailies, enabled;
} a1_state;

static int a1_init(zx_host *host, const zx_api *api, void **state)
{
    a1_state *st = calloc(1, sizeof *st);
    if (!st)
        return -1;
    st->host = host;
    st->api = api;
    st->size_ok = api->abi_version == ZX_PLUGIN_ABI_VERSION && api->size >= sizeof(zx_api);
    *state = st;
    return 0;
}

static void a1_shutdown(void *state) { free(state); }

static zx_verdict a1_on_signal(void *state, zx_signal *sig, char *reason, size_t reason_len)
{
    a1_state *st = state;
    double pip = 0, pv = 0;
    if (strcmp(sig->comment, "stats") != 0)
        return ZX_ACCEPT;
    int rc = st->api->symbol_info(st->host, "EURUSD", &pip, &pv);
    snprintf(reason, reason_len, "size_ok=%d symbol_info=%d pip=%g value=%g dailies=%d enabled=%d", st->size_ok, rc,
             pip, pv, st->dailies, st->enabled);
    return ZX_REJECT;
}

static void a1_on_daily(void *state, const zx_daily *day)
{
    a1_state *st = state;
    (void)day;
    st->dailies++;
}

static void a1_on_enabled(void *state)
{
    a1_state *st = state;
    st->enabled++;
}

static const zx_plugin_def g_def = {
    .abi_version = ZX_PLUGIN_ABI_VERSION,
    .id = "tp_abi1",
    .name = "ABI 1 as first built",
    .version = "1.0.0",
    .author = "zepix tests",
    .init = a1_init,
    .shutdown = a1_shutdown,
    .on_signal_received = a1_on_signal,
    .on_daily_reset = a1_on_daily,
    .on_plugin_enabled = a1_on_enabled,
};

ZX_EXPORT const zx_plugin_def *zx_plugin_entry(void) { return &g_def; }
