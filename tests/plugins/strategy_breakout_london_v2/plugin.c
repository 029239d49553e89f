/*
 * strategy_breakout_london_v2 — passthru under a long id (27 characters): its
 * MT5 comment "zx:<id>:<trade id>" would exceed the 31 characters MT5 keeps
 * (tests/integration/test_mt5_ea.py). Accepts every signal unchanged.
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
    .id = "strategy_breakout_london_v2",
    .name = "Pass-through, long id",
    .version = "1.0.0",
    .author = "zepix tests",
    .init = init,
};

ZX_EXPORT const zx_plugin_def *zx_plugin_entry(void) { return &def; }
