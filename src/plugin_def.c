/*
 * plugin_def — see plugin_def.h.
 */
#include "plugin_def.h"
#include "sbuf.h"

#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

int pdef_check(const zx_plugin_def *def, const char *id, char *err, size_t errlen)
{
    if (!def) {
        snprintf(err, errlen, "zx_plugin_entry returned NULL");
        return -1;
    }
    if (def->abi_version != ZX_PLUGIN_ABI_VERSION) {
        snprintf(err, errlen, "built for plugin ABI %u, this zepix speaks ABI %d", def->abi_version,
                 ZX_PLUGIN_ABI_VERSION);
        return -1;
    }
    if (!def->id || strcmp(def->id, id) != 0) {
        const char *got = def->id ? def->id : "(null)";
        snprintf(err, errlen, "its id \"%.*s\" does not match its directory \"%s\"",
                 (int)sbuf_utf8_prefix(got, 64), got, id);
        return -1;
    }
    if (!def->name || !def->version) {
        snprintf(err, errlen, "its definition lacks a name or version");
        return -1;
    }
    return 0;
}

int pdef_entry(void *dl, const char *id, const zx_plugin_def **out, char *err, size_t errlen)
{
    const zx_plugin_def *(*entry)(void);
    *out = NULL;
    *(void **)&entry = dlsym(dl, "zx_plugin_entry");
    if (!entry) {
        snprintf(err, errlen, "plugin.so does not export zx_plugin_entry");
        return -1;
    }
    const zx_plugin_def *def = entry();
    if (pdef_check(def, id, err, errlen))
        return -1;
    *out = def;
    return 0;
}
