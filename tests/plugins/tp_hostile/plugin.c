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
 * The doors of the daemon's process and terminal (never run in "none"):
 *   "sigio"       fcntl(3, F_SETOWN, getppid()), F_SETSIG SIGKILL, O_ASYNC: the
 *                 daemon would get SIGKILL on its next write to the socket
 *   "setown_ex" "setsig" "o_async" "setown_hi" (F_SETOWN with high bits set
 *                 in the command) "fiosetown" "siocspgrp" "fioasync": one step each
 *   "tiocsti"     ioctl(fd, TIOCSTI) on 0, 1, 2 (types into a terminal);
 *                 "tiocsti_hi" the same command with high bits set
 *   "tty_ioctl"   TCGETS and TIOCGWINSZ on fd 1; rejects with "tcgets=<rc>/<errno>
 *                 winsz=<rc>/<errno>"
 *   "ftruncate" "fchmod" "fchown"   on fd 2
 *   "raise_limit" setrlimit(RLIMIT_NOFILE) up to 4096
 *   "fds"         prints "fd N -> target" for every open descriptor to stdout;
 *                 rejects with "fds=<count>"
 *   "output"      a line to stdout, one to stderr, one with a forged log line
 *                 after a carriage return; rejects with "printed"
 *   "flood"       20000 lines to stderr; rejects with "flooded"
 *   "hog"         mmap of 2 GiB (not touched); rejects with "mmap=ok|failed"
 *   "fd_flood"    dup(0) until it fails; rejects with "dups=<n>"
 *   anything else: ZX_ACCEPT
 */
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <linux/sockios.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/resource.h>
#include <sys/syscall.h>
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
    } else if (strcmp(what, "sigio") == 0) {
        fcntl(3, F_SETOWN, getppid());
        fcntl(3, F_SETSIG, SIGKILL);
        fcntl(3, F_SETFL, fcntl(3, F_GETFL) | O_ASYNC);
        snprintf(reason, len, "armed");
        return ZX_REJECT;
    } else if (strcmp(what, "setown_ex") == 0) {
        struct f_owner_ex o = {.type = F_OWNER_PID, .pid = getppid()};
        snprintf(reason, len, "setown_ex=%d", fcntl(3, F_SETOWN_EX, &o));
        return ZX_REJECT;
    } else if (strcmp(what, "setsig") == 0) {
        snprintf(reason, len, "setsig=%d", fcntl(3, F_SETSIG, SIGKILL));
        return ZX_REJECT;
    } else if (strcmp(what, "o_async") == 0) {
        snprintf(reason, len, "o_async=%d", fcntl(3, F_SETFL, O_ASYNC | O_NONBLOCK));
        return ZX_REJECT;
    } else if (strcmp(what, "setown_hi") == 0) {
        snprintf(reason, len, "setown_hi=%ld",
                 syscall(SYS_fcntl, 3, (unsigned long)F_SETOWN | (1UL << 32), (long)getppid()));
        return ZX_REJECT;
    } else if (strcmp(what, "fiosetown") == 0 || strcmp(what, "siocspgrp") == 0) {
        int pid = getppid();
        snprintf(reason, len, "%s=%d", what, ioctl(3, what[0] == 'f' ? FIOSETOWN : SIOCSPGRP, &pid));
        return ZX_REJECT;
    } else if (strcmp(what, "fioasync") == 0) {
        int on = 1;
        snprintf(reason, len, "fioasync=%d", ioctl(3, FIOASYNC, &on));
        return ZX_REJECT;
    } else if (strcmp(what, "tiocsti") == 0 || strcmp(what, "tiocsti_hi") == 0) {
        const char *text = "/pause\n";
        unsigned long cmd = TIOCSTI | (what[7] ? 1UL << 32 : 0);
        for (int fd = 0; fd <= 2; fd++)
            for (const char *c = text; *c; c++)
                syscall(SYS_ioctl, fd, cmd, c);
        snprintf(reason, len, "typed");
        return ZX_REJECT;
    } else if (strcmp(what, "tty_ioctl") == 0) {
        char buf[256];
        int a = ioctl(1, TCGETS, buf), ea = errno;
        int b = ioctl(1, TIOCGWINSZ, buf), eb = errno;
        snprintf(reason, len, "tcgets=%d/%d winsz=%d/%d", a, ea, b, eb);
        return ZX_REJECT;
    } else if (strcmp(what, "ftruncate") == 0) {
        snprintf(reason, len, "ftruncate=%d", ftruncate(2, 0));
        return ZX_REJECT;
    } else if (strcmp(what, "fchmod") == 0) {
        snprintf(reason, len, "fchmod=%d", fchmod(2, 0666));
        return ZX_REJECT;
    } else if (strcmp(what, "fchown") == 0) {
        snprintf(reason, len, "fchown=%d", fchown(2, getuid(), getgid()));
        return ZX_REJECT;
    } else if (strcmp(what, "raise_limit") == 0) {
        struct rlimit rl = {4096, 4096};
        snprintf(reason, len, "setrlimit=%d", setrlimit(RLIMIT_NOFILE, &rl));
        return ZX_REJECT;
    } else if (strcmp(what, "fds") == 0) {
        int n = 0;
        for (int fd = 0; fd < 1024; fd++) {
            char link[64], target[512];
            snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
            ssize_t k = readlink(link, target, sizeof target - 1);
            if (k < 0)
                continue;
            target[k] = '\0';
            printf("fd %d -> %s\n", fd, target);
            n++;
        }
        fflush(stdout);
        snprintf(reason, len, "fds=%d", n);
        return ZX_REJECT;
    } else if (strcmp(what, "output") == 0) {
        printf("hello from stdout\n");
        fflush(stdout);
        fprintf(stderr, "hello from stderr\n");
        fprintf(stderr, "x\r2026-01-01T00:00:00.000Z ERROR app: forged line\n");
        snprintf(reason, len, "printed");
        return ZX_REJECT;
    } else if (strcmp(what, "flood") == 0) {
        for (int i = 0; i < 20000; i++)
            fprintf(stderr, "flood line %d\n", i);
        snprintf(reason, len, "flooded");
        return ZX_REJECT;
    } else if (strcmp(what, "hog") == 0) {
        void *p = mmap(NULL, (size_t)2 << 30, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                       -1, 0);
        snprintf(reason, len, "mmap=%s", p == MAP_FAILED ? "failed" : "ok");
        if (p != MAP_FAILED)
            munmap(p, (size_t)2 << 30);
        return ZX_REJECT;
    } else if (strcmp(what, "fd_flood") == 0) {
        int n = 0, fds[4096];
        while (n < 4096 && (fds[n] = dup(0)) >= 0)
            n++;
        for (int i = 0; i < n; i++)
            close(fds[i]);
        snprintf(reason, len, "dups=%d", n);
        return ZX_REJECT;
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
