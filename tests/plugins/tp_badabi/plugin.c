/* tp_badabi — id "tp_ok" built for a plugin ABI the host does not speak. */
#include "zepix_plugin.h"

static const zx_plugin_def def = {
    .abi_version = 999,
    .id = "tp_ok",
    .name = "wrong ABI",
    .version = "9.9.9",
};

const zx_plugin_def *zx_plugin_entry(void) { return &def; }
