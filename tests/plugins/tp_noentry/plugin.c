/* tp_noentry — a shared object without the zx_plugin_entry symbol. */
#include "zepix_plugin.h"

static const zx_plugin_def def = {
    .abi_version = ZX_PLUGIN_ABI_VERSION,
    .id = "tp_ok",
    .name = "no entry",
    .version = "0.0.1",
};

ZX_EXPORT const zx_plugin_def *zx_plugin_entry_typo(void);
const zx_plugin_def *zx_plugin_entry_typo(void) { return &def; }
