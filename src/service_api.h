/*
 * service_api — the zx_api table handed to every plugin's init(): each call
 * checks the caller's host handle (stale or foreign handles are refused and
 * logged) and then acts only on that plugin's own trades, database and config.
 * Orders go through the engine, never to the broker directly.
 */
#ifndef ZEPIX_SERVICE_API_H
#define ZEPIX_SERVICE_API_H

#include "zepix_plugin.h"

/* Fill the table (abi_version, size and every member). */
void svc_fill_api(zx_api *api);

#endif
