/*
 * sltp — a test plugin that accepts every signal unchanged, except one whose
 * comment is "sltp:<trade id>:<sl>:<tp>": it moves that trade's SL/TP through
 * the service API (modify_trade) and answers handled. Used by the MT5 bridge
 * integration tests (SL/TP changed by a plugin reach the terminal).
 */
#include "zepix_plugin.h"

#include <stdio.h>
#include <string.h>

struct sltp_state {
    zx_host *host;
    const zx_api *api;
};

static struct sltp_state st;

static int init(zx_host *host, const zx_api *api, void **state)
{
    st.host = host;
    st.api = api;
    *state = &st;
    return 0;
}

static zx_verdict on_signal(void *state, zx_signal *sig, char *reason, size_t reason_len)
{
    struct sltp_state *s = state;
    long long id;
    double sl, tp;
    if (!sig->comment || sscanf(sig->comment, "sltp:%lld:%lf:%lf", &id, &sl, &tp) != 3)
        return ZX_ACCEPT;
    if (s->api->modify_trade(s->host, id, sl, tp, reason, reason_len) != 0)
        return ZX_REJECT;
    snprintf(reason, reason_len, "sl/tp of #%lld sent", id);
    return ZX_HANDLED;
}

static const zx_plugin_def def = {
    .abi_version = ZX_PLUGIN_ABI_VERSION,
    .id = "sltp",
    .name = "SL/TP mover",
    .version = "1.0.0",
    .author = "zepix tests",
    .init = init,
    .on_signal_received = on_signal,
};

ZX_EXPORT const zx_plugin_def *zx_plugin_entry(void) { return &def; }
