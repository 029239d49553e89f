/*
 * tp_hostile — a plugin that misbehaves on request, for the isolation tests
 * (test_registry's "hostile plugins"). Never install it in a real plugins/.
 *
 * The attack is named by the signal's comment (in on_signal_received) or by
 * the config key "init_attack" (in init, only while the file named by config
 * "arm_file" exists, so a test can disarm it and enable the plugin again):
 *   "segv"        writes through a NULL pointer
 *   "abort"       abort()
 *   "loop"        never returns
 *   "system"      system(config "system_cmd"); rejects with "system=<rc>"
 *   "open_other"  open(config "other_db", O_RDONLY); rejects with "opened=<fd>"
 *   "fork_bomb"   forks until it cannot (never run in isolation "none")
 *   "garbage"     writes a frame header of 4 GiB onto fd 3, the protocol
 *                 socket of isolation "process" (never run in "none")
 *   "short_verdict" writes a verdict frame with an empty payload onto fd 3
 *                 (a well-formed header, a malformed answer; never in "none")
 *   "kill_parent" kill(getppid(), SIGKILL) (never run in "none")
 *   "exit"        exit(3)
 *   "die_later"   arms a 30 ms timer whose SIGALRM ends the process between
 *                 hooks; rejects with "armed" (never run in "none")
 *   "buy"         places a 0.01 EURUSD buy, ZX_HANDLED (an open trade to keep)
 *   anything else: ZX_ACCEPT
 */
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include "zepix_plugin.h"

typedef struct {
    zx_host *host;
    const zx_api *api;
} hs;

/* Returns a verdict; reason gets what the attack observed when it survives. */
static zx_verdict attack(hs *st, const char *what, char *reason, size_t len)
{
    if (strcmp(what, "segv") == 0) {
        *(volatile int *)(uintptr_t)0 = 1;
    } else if (strcmp(what, "abort") == 0) {
        abort();
    } else if (strcmp(what, "loop") == 0) {
        for (volatile unsigned long i = 0;; i++)
            ;
    } else if (strcmp(what, "system") == 0) {
        int rc = system(st->api->config_string(st->host, "system_cmd", "true"));
        snprintf(reason, len, "system=%d", rc);
        return ZX_REJECT;
    } else if (strcmp(what, "open_other") == 0) {
        int fd = open(st->api->config_string(st->host, "other_db", "/dev/null"), O_RDONLY);
        snprintf(reason, len, "opened=%d", fd);
        if (fd >= 0)
            close(fd);
        return ZX_REJECT;
    } else if (strcmp(what, "fork_bomb") == 0) {
        for (int i = 0; i < 64; i++)
            if (fork() < 0)
                break;
        snprintf(reason, len, "forked");
        return ZX_REJECT;
    } else if (strcmp(what, "garbage") == 0) {
        static const unsigned char junk[] = {0xff, 0xff, 0xff, 0xff, 0x07, 'j', 'u', 'n', 'k'};
        if (write(3, junk, sizeof junk) < 0)
            snprintf(reason, len, "write failed");
        return ZX_REJECT;
    } else if (strcmp(what, "short_verdict") == 0) {
        static const unsigned char v[] = {0, 0, 0, 0, 34};     /* len 0, W_VERDICT */
        if (write(3, v, sizeof v) < 0)
            snprintf(reason, len, "write failed");
        return ZX_REJECT;
    } else if (strcmp(what, "kill_parent") == 0) {
        kill(getppid(), SIGKILL);
    } else if (strcmp(what, "die_later") == 0) {
        struct itimerval t = {.it_value = {.tv_sec = 0, .tv_usec = 30000}};
        setitimer(ITIMER_REAL, &t, NULL);
        snprintf(reason, len, "armed");
        return ZX_REJECT;
    } else if (strcmp(what, "exit") == 0) {
        exit(3);
    } else if (strcmp(what, "buy") == 0) {
        zx_order_req req = {.side = ZX_BUY, .symbol = "EURUSD", .lot = 0.01};
        char err[128];
        if (st->api->place_order(st->host, &req, NULL, err, sizeof err)) {
            snprintf(reason, len, "%s", err);
            return ZX_REJECT;
        }
        return ZX_HANDLED;
    }
    return ZX_ACCEPT;
}

static int h_init(zx_host *host, const zx_api *api, void **state)
{
    static hs st;
    char reason[64];
    st.host = host;
    st.api = api;
    *state = &st;
    if (access(api->config_string(host, "arm_file", "/nonexistent"), F_OK) == 0)
        attack(&st, api->config_string(host, "init_attack", ""), reason, sizeof reason);
    return 0;
}

static zx_verdict h_signal(void *state, zx_signal *sig, char *reason, size_t len)
{
    return attack(state, sig->comment, reason, len);
}

static const zx_plugin_def g_def = {
    .abi_version = ZX_PLUGIN_ABI_VERSION,
    .id = "tp_hostile",
    .name = "Hostile test plugin",
    .version = "6.6.6",
    .author = "tests",
    .init = h_init,
    .on_signal_received = h_signal,
};

ZX_EXPORT const zx_plugin_def *zx_plugin_entry(void) { return &g_def; }
