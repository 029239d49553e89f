/*
 * passthru — a test plugin that accepts every signal unchanged (the host
 * executes it with the signal's lot or default_lot). Used by the signal-path
 * integration tests and by make bench.
 */
#include "zepix_plugin.h"

static int init(zx_host *host, const zx_api *api, void **state)
{
    (void)host;
    (void)api;
    *state = NULL;
    return 0;
}

static const zx_plugin_def def = {
    .abi_version = ZX_PLUGIN_ABI_VERSION,
    .id = "passthru",
    .name = "Pass-through",
    .version = "1.0.0",
    .author = "zepix tests",
    .init = init,
};

ZX_EXPORT const zx_plugin_def *zx_plugin_entry(void) { return &def; }
