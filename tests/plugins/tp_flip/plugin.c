/*
 * tp_flip — two builds of one plugin (id "tp_flip") that decide differently,
 * for /replay: this build (1.0.0) accepts buys and rejects sells; tp_flip2
 * (2.0.0, this file with FLIP 1) rejects buys, accepts sells, sizes 0.02, and
 * dies on a signal with comment=crash (a shadow that crashes, test_shadow.py).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "zepix_plugin.h"

#ifndef FLIP
#define FLIP 0
#endif

static int init(zx_host *h, const zx_api *api, void **state)
{
    (void)h, (void)api;
    *state = NULL;
    return 0;
}

static zx_verdict on_signal(void *state, zx_signal *s, char *reason, size_t n)
{
    (void)state;
    if (FLIP && s->comment && strcmp(s->comment, "crash") == 0)
        abort();
    if (s->action == (FLIP ? ZX_BUY : ZX_SELL)) {
        snprintf(reason, n, "build %d takes no %s", FLIP + 1, FLIP ? "buys" : "sells");
        return ZX_REJECT;
    }
    if (FLIP && (s->action == ZX_BUY || s->action == ZX_SELL))
        s->lot = 0.02;
    return ZX_ACCEPT;
}

static const zx_plugin_def def = {
    .abi_version = ZX_PLUGIN_ABI_VERSION,
    .id = "tp_flip",
    .name = "Flip test plugin",
    .version = FLIP ? "2.0.0" : "1.0.0",
    .author = "zepix tests",
    .init = init,
    .on_signal_received = on_signal,
};

__attribute__((visibility("default"))) const zx_plugin_def *zx_plugin_entry(void)
{
    return &def;
}
