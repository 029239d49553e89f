/*
 * plugin_def — the one rule for a plugin's definition (SPEC section 8,
 * LOADING): what zx_plugin_entry() returned must exist, speak this host's ABI,
 * carry the id of its directory and a name and version. Used by the registry
 * (isolation "none", --list-plugins) and by the plugin host (isolation
 * "process", plugin_host_main.c), so that both refuse the same builds with the
 * same words. Pure: no I/O, no state; links with nothing but sbuf
 * and libdl.
 */
#ifndef ZEPIX_PLUGIN_DEF_H
#define ZEPIX_PLUGIN_DEF_H

#include <stddef.h>
#include "zepix_plugin.h"

/* The definition of the loaded build dl (its zx_plugin_entry()), checked by
 * pdef_check: 0 with *out set, or -1 with the reason in err (*out NULL). */
int pdef_entry(void *dl, const char *id, const zx_plugin_def **out, char *err, size_t errlen);

/* 0 when def may be initialised as plugin id; else -1 with the reason in err
 * (the field it is about named). def may be NULL (entry returned NULL). */
int pdef_check(const zx_plugin_def *def, const char *id, char *err, size_t errlen);

#endif
