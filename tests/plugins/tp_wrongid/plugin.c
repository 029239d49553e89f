/* tp_wrongid — a good plugin whose id does not match its directory. */
#include "zepix_plugin.h"

static const zx_plugin_def def = {
    .abi_version = ZX_PLUGIN_ABI_VERSION,
    .id = "someone_else",
    .name = "wrong id",
    .version = "1.0.0",
};

const zx_plugin_def *zx_plugin_entry(void) { return &def; }
