/*
 * tp_attach — tries to reach another database file through its own handle:
 * init runs ATTACH DATABASE '<plugins.tp_attach.attach_path>' AS x on api->db()
 * and every signal is rejected with the reason "attach=<rc>" (0 would mean the
 * host let it through). sqlite3_exec is not declared by zepix_plugin.h and a
 * plugin does not link SQLite: the symbol resolves from the host process.
 */
#include <stdio.h>

#include "zepix_plugin.h"

int sqlite3_exec(sqlite3 *db, const char *sql, int (*cb)(void *, int, char **, char **), void *arg,
                 char **errmsg);

static int g_rc = -1;

static int ta_init(zx_host *host, const zx_api *api, void **state)
{
    char sql[700];
    const char *path = api->config_string(host, "attach_path", ":memory:");
    snprintf(sql, sizeof sql, "ATTACH DATABASE '%.600s' AS x", path);
    g_rc = sqlite3_exec(api->db(host), sql, NULL, NULL, NULL);
    api->log(host, ZX_LOG_INFO, "tp_attach: ATTACH returned %d", g_rc);
    *state = NULL;
    return 0;
}

static zx_verdict ta_on_signal_received(void *state, zx_signal *sig, char *reason, size_t reason_len)
{
    (void)state;
    (void)sig;
    snprintf(reason, reason_len, "attach=%d", g_rc);
    return ZX_REJECT;
}

static const zx_plugin_def def = {
    .abi_version = ZX_PLUGIN_ABI_VERSION,
    .id = "tp_attach",
    .name = "attach attempt",
    .version = "1.0.0",
    .init = ta_init,
    .on_signal_received = ta_on_signal_received,
};

const zx_plugin_def *zx_plugin_entry(void) { return &def; }
