/*
 * slow — a test plugin whose on_signal_received takes 150 ms (under the 200 ms
 * hook deadline) and then accepts: the answer-budget tests send it a burst.
 */
#include <time.h>

#include "zepix_plugin.h"

static int init(zx_host *host, const zx_api *api, void **state)
{
    (void)host;
    (void)api;
    *state = NULL;
    return 0;
}

static zx_verdict on_signal(void *state, zx_signal *sig, char *reason, size_t reason_len)
{
    struct timespec ts = {0, 150 * 1000 * 1000};
    (void)state;
    (void)sig;
    (void)reason;
    (void)reason_len;
    while (nanosleep(&ts, &ts) != 0)
        ;
    return ZX_ACCEPT;
}

static const zx_plugin_def def = {
    .abi_version = ZX_PLUGIN_ABI_VERSION,
    .id = "slow",
    .name = "Slow",
    .version = "1.0.0",
    .author = "zepix tests",
    .init = init,
    .on_signal_received = on_signal,
};

ZX_EXPORT const zx_plugin_def *zx_plugin_entry(void) { return &def; }
