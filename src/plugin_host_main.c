/*
 * zepix-plugin-host — one plugin in a process of its own (isolation "process").
 * Started by plugin_proc.c with the protocol socket as fd 3; see plugin_wire.h
 * for the frames.
 *
 * Order of events, so that the plugin's code runs confined:
 *   1. read W_INIT (plugin.so path, id, data_dir, the plugin's config JSON);
 *   2. open the plugin's own database exactly as the in-process host does
 *      (ldg_open: ATTACH denied, extension loading off), temp_store in memory,
 *      and touch it once so SQLite has every file it needs (-wal, -shm) open;
 *   3. seccomp stage 1 (below): no exec, no new process or thread, no ptrace,
 *      no sockets, no signals to other processes, no mounts, namespaces,
 *      modules, bpf, keyrings, or changes to the file system; no descriptor
 *      owner or async signal (F_SETOWN, F_SETSIG, O_ASYNC, FIOSETOWN, ...),
 *      no TIOCSTI, no ftruncate of fds 0-3, no fchmod/fchown, no new limits;
 *      and, as a filter of its own, every ioctl but FIONREAD fails (ENOTTY);
 *   4. dlopen(plugin.so) — its ELF constructors, if any, run here: under
 *      stage 1 but still able to open() files for reading (dlopen needs it);
 *   5. seccomp stage 2: open/openat/openat2/creat kill the process too; from
 *      here on the plugin reaches no file but the descriptors it was given;
 *   6. the ABI and id checks, init() with a zx_api whose calls are requests to
 *      the controller, and then the hook loop until W_SHUTDOWN or EOF.
 *
 * Why the database is opened before the filter rather than by path rules:
 * seccomp cannot read a path argument, and Landlock is not everywhere; opening
 * first and forbidding open() afterwards needs nothing of the kernel beyond
 * seccomp and leaves the plugin exactly the one database api->db() returns.
 *
 * The filter is a deny list (default allow) rather than an allow list: SQLite,
 * malloc and libm use a varying set of harmless calls; the dangerous ones are
 * few and named. Other architectures' system call tables (i386, x32) are
 * handled by libseccomp's bad-arch action (kill) and by adding x32 to the
 * filter so its numbers are denied as well.
 */
#include "ledger.h"
#include "plugin_def.h"
#include "store.h"
#include "plugin_wire.h"
#include "zepix_plugin.h"

#include <dlfcn.h>
#include <errno.h>
#include <json-c/json.h>
#include <seccomp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <fcntl.h>
#include <linux/sockios.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <unistd.h>

#define FD 3

struct zx_host { int magic; };
static struct zx_host g_host = {0x7a786368};    /* the one handle this process hands out */

static json_object *g_cfg;
static ledger *g_ldg;
static struct wbuf g_w;
static uint8_t g_in[WIRE_MAX];
static const char *g_id = "?";

static void die(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3), noreturn));
static void die(int code, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "zepix-plugin-host %s: ", g_id);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    _exit(code);
}

static void send_or_die(uint8_t type)
{
    if (wire_send(FD, type, &g_w))
        _exit(0);               /* the controller is gone */
}

/* Send the request in g_w and wait for its W_RESULT: rc and err filled. */
static int request(uint8_t type, struct rbuf *r, char *err, size_t errlen)
{
    uint8_t t;
    size_t len;
    send_or_die(type);
    int rc = wire_recv(FD, -1, &t, g_in, &len);
    if (rc == WR_EOF)
        _exit(0);
    if (rc != WR_OK || t != W_RESULT)
        die(3, "protocol: expected a result, got frame type %u", t);
    rb_init(r, g_in, len);
    rc = rb_i32(r);
    char e[256];
    rb_str(r, e, sizeof e);
    if (err && errlen)
        snprintf(err, errlen, "%s", e);
    return rc;
}

static int own(zx_host *h, const char *call)
{
    if (h == &g_host)
        return 1;
    fprintf(stderr, "zepix-plugin-host %s: %s refused: unknown host handle %p\n", g_id, call, (void *)h);
    return 0;
}

static void set_err(char *err, size_t errlen, const char *m)
{
    if (err && errlen)
        snprintf(err, errlen, "%s", m);
}

static int c_place_order(zx_host *h, const zx_order_req *req, zx_order *out, char *err, size_t errlen)
{
    struct rbuf r;
    zx_order o;
    if (!own(h, "place_order")) {
        set_err(err, errlen, "invalid host handle");
        return -1;
    }
    if (!req) {
        set_err(err, errlen, "no order request");
        return -1;
    }
    wb_reset(&g_w);
    wb_i32(&g_w, (int32_t)req->side);
    wb_str(&g_w, req->symbol);      /* symbol is an array: strnlen-safe below */
    wb_f64(&g_w, req->lot);
    wb_f64(&g_w, req->sl);
    wb_f64(&g_w, req->tp);
    wb_u8(&g_w, req->comment != NULL);
    wb_str(&g_w, req->comment);
    int rc = request(W_R_PLACE, &r, err, errlen);
    wire_get_order(&r, &o);
    if (out)
        *out = o;
    return rc;
}

static int c_close_trade(zx_host *h, int64_t id, double lot, char *err, size_t errlen)
{
    struct rbuf r;
    if (!own(h, "close_trade")) {
        set_err(err, errlen, "invalid host handle");
        return -1;
    }
    wb_reset(&g_w);
    wb_i64(&g_w, id);
    wb_f64(&g_w, lot);
    return request(W_R_CLOSE, &r, err, errlen);
}

static int c_modify_trade(zx_host *h, int64_t id, double sl, double tp, char *err, size_t errlen)
{
    struct rbuf r;
    if (!own(h, "modify_trade")) {
        set_err(err, errlen, "invalid host handle");
        return -1;
    }
    wb_reset(&g_w);
    wb_i64(&g_w, id);
    wb_f64(&g_w, sl);
    wb_f64(&g_w, tp);
    return request(W_R_MODIFY, &r, err, errlen);
}

static int c_open_trades(zx_host *h, zx_position *out, int max)
{
    static char reasons[256][32];
    struct rbuf r;
    if (!own(h, "open_trades"))
        return -1;
    if (!out || max <= 0)
        return 0;
    wb_reset(&g_w);
    wb_i32(&g_w, max > 256 ? 256 : max);
    int rc = request(W_R_OPEN_TRADES, &r, NULL, 0);
    for (int i = 0; i < rc && i < max && i < 256; i++)
        wire_get_position(&r, &out[i], reasons[i], sizeof reasons[i]);
    return rc;
}

static int c_pair(uint8_t type, zx_host *h, const char *call, const char *symbol, double *a, double *b)
{
    struct rbuf r;
    if (!own(h, call) || !symbol)
        return -1;
    wb_reset(&g_w);
    wb_str(&g_w, symbol);
    int rc = request(type, &r, NULL, 0);
    double x = rb_f64(&r), y = rb_f64(&r);
    if (rc == 0) {
        if (a)
            *a = x;
        if (b)
            *b = y;
    }
    return rc;
}

static int c_quote(zx_host *h, const char *symbol, double *bid, double *ask)
{
    return c_pair(W_R_QUOTE, h, "quote", symbol, bid, ask);
}

static int c_symbol_info(zx_host *h, const char *symbol, double *ps, double *pv)
{
    return c_pair(W_R_SYMBOL_INFO, h, "symbol_info", symbol, ps, pv);
}

static int c_notify(zx_host *h, const char *text)
{
    struct rbuf r;
    if (!own(h, "notify") || !text)
        return -1;
    wb_reset(&g_w);
    wb_str(&g_w, text);
    return request(W_R_NOTIFY, &r, NULL, 0);
}

static sqlite3 *c_db(zx_host *h)
{
    return own(h, "db") && g_ldg ? ldg_db(g_ldg) : NULL;
}

static json_object *cfg_value(const char *key)
{
    json_object *v;
    if (!g_cfg || !key || !json_object_object_get_ex(g_cfg, key, &v))
        return NULL;
    return v;
}

static const char *c_config_string(zx_host *h, const char *key, const char *def)
{
    json_object *v = own(h, "config_string") ? cfg_value(key) : NULL;
    return v && json_object_is_type(v, json_type_string) ? json_object_get_string(v) : def;
}

static double c_config_number(zx_host *h, const char *key, double def)
{
    json_object *v = own(h, "config_number") ? cfg_value(key) : NULL;
    return v && (json_object_is_type(v, json_type_double) || json_object_is_type(v, json_type_int))
               ? json_object_get_double(v) : def;
}

static int c_config_bool(zx_host *h, const char *key, int def)
{
    json_object *v = own(h, "config_bool") ? cfg_value(key) : NULL;
    return v && json_object_is_type(v, json_type_boolean) ? json_object_get_boolean(v) : def;
}

/* The plugin's last warning or error: a failed init says why in it. */
static char g_last_warn[200];

static void c_log(zx_host *h, int level, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    if (!own(h, "log") || !fmt)
        return;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (level >= ZX_LOG_WARN)
        snprintf(g_last_warn, sizeof g_last_warn, "%.199s", msg);
    wb_reset(&g_w);
    wb_i32(&g_w, level);
    wb_str(&g_w, msg);
    send_or_die(W_R_LOG);       /* no answer */
}

static int64_t c_now_ms(zx_host *h)
{
    struct rbuf r;
    (void)h;
    wb_reset(&g_w);
    request(W_R_NOW, &r, NULL, 0);
    return rb_i64(&r);
}

static int c_account(zx_host *h, double *balance, double *equity)
{
    struct rbuf r;
    if (!own(h, "account"))
        return -1;
    wb_reset(&g_w);
    int rc = request(W_R_ACCOUNT, &r, NULL, 0);
    double b = rb_f64(&r), e = rb_f64(&r);
    if (rc == 0) {
        if (balance)
            *balance = b;
        if (equity)
            *equity = e;
    }
    return rc;
}

/* api->register_hook: accepted during init only; the controller learns which
 * events have a hook from W_INIT_DONE. The events this host delivers are
 * 1..HOST_EVENT_MAX (registry.h's REG_EVENT_MAX, the same list). */
#define HOST_EVENT_MAX ZX_EVENT_DAILY_RESET
static int g_in_init;
static zx_hook_fn g_hooks[HOST_EVENT_MAX + 1];
static uint32_t g_events;

static int c_register_hook(zx_host *h, int event, zx_hook_fn fn)
{
    const char *why = NULL;
    if (!own(h, "register_hook"))
        return -1;
    if (event < 1 || event > HOST_EVENT_MAX)
        why = "unknown event";
    else if (!fn)
        why = "no function";
    else if (!g_in_init)
        why = "only during init";
    if (why) {
        c_log(h, ZX_LOG_WARN, "register_hook: %s (event %d)", why, event);
        return -1;
    }
    g_hooks[event] = fn;
    g_events |= 1u << event;
    return 0;
}

static const zx_api g_api = {
    .abi_version = ZX_PLUGIN_ABI_VERSION,
    .size = sizeof(zx_api),
    .place_order = c_place_order,
    .close_trade = c_close_trade,
    .modify_trade = c_modify_trade,
    .open_trades = c_open_trades,
    .quote = c_quote,
    .notify = c_notify,
    .db = c_db,
    .config_string = c_config_string,
    .config_number = c_config_number,
    .config_bool = c_config_bool,
    .log = c_log,
    .now_ms = c_now_ms,
    .account = c_account,
    .symbol_info = c_symbol_info,
    .register_hook = c_register_hook,
};

/* ---- seccomp ------------------------------------------------------------------ */

static int deny(scmp_filter_ctx ctx, int nr)
{
    if (nr < 0)
        return 0;               /* not on this architecture */
    return seccomp_rule_add(ctx, SCMP_ACT_KILL_PROCESS, nr, 0);
}

#define DENY(name) deny(ctx, SCMP_SYS(name))

/* Kill on nr when its first argument compares op with v (SCMP_A0 spelled out:
 * clang warns about the fields that macro leaves out). */
static int deny_a0(scmp_filter_ctx ctx, int nr, enum scmp_compare op, scmp_datum_t v)
{
    struct scmp_arg_cmp c = {.arg = 0, .op = op, .datum_a = v, .datum_b = 0};
    return seccomp_rule_add_array(ctx, SCMP_ACT_KILL_PROCESS, nr, 1, &c);
}

/* Kill on nr when its argument arg, cut to 32 bits (the kernel reads a command
 * or a descriptor as an unsigned int: high bits must not slip past), is v. */
static int deny_eq32(scmp_filter_ctx ctx, int nr, unsigned arg, scmp_datum_t v)
{
    struct scmp_arg_cmp c = {.arg = arg, .op = SCMP_CMP_MASKED_EQ, .datum_a = 0xffffffffu, .datum_b = v};
    if (nr < 0)
        return 0;
    return seccomp_rule_add_array(ctx, SCMP_ACT_KILL_PROCESS, nr, 1, &c);
}

/* The owner and async-signal doors of a descriptor: with F_SETOWN (or
 * FIOSETOWN/SIOCSPGRP) naming the daemon, F_SETSIG 9 and O_ASYNC on the
 * protocol socket, the kernel would send the daemon SIGKILL on its next write.
 * TIOCSTI and TIOCLINUX type into a terminal. All kill the plugin. */
static int deny_signal_doors(scmp_filter_ctx ctx)
{
    static const unsigned long fcntl_cmds[] = {F_SETOWN, F_SETOWN_EX, F_SETSIG, F_SETLEASE, F_NOTIFY};
    static const unsigned long ioctl_cmds[] = {FIOSETOWN, SIOCSPGRP, FIOASYNC, TIOCSTI, TIOCLINUX};
    int rc = 0;
    for (size_t i = 0; i < sizeof fcntl_cmds / sizeof fcntl_cmds[0]; i++)
        rc |= deny_eq32(ctx, SCMP_SYS(fcntl), 1, fcntl_cmds[i]) | deny_eq32(ctx, SCMP_SYS(fcntl64), 1, fcntl_cmds[i]);
    for (size_t i = 0; i < sizeof ioctl_cmds / sizeof ioctl_cmds[0]; i++)
        rc |= deny_eq32(ctx, SCMP_SYS(ioctl), 1, ioctl_cmds[i]);
    /* F_SETFL with O_ASYNC among the flags */
    struct scmp_arg_cmp setfl[2] = {
        {.arg = 1, .op = SCMP_CMP_MASKED_EQ, .datum_a = 0xffffffffu, .datum_b = F_SETFL},
        {.arg = 2, .op = SCMP_CMP_MASKED_EQ, .datum_a = O_ASYNC, .datum_b = O_ASYNC},
    };
    rc |= seccomp_rule_add_array(ctx, SCMP_ACT_KILL_PROCESS, SCMP_SYS(fcntl), 2, setfl);
    if (SCMP_SYS(fcntl64) >= 0)
        rc |= seccomp_rule_add_array(ctx, SCMP_ACT_KILL_PROCESS, SCMP_SYS(fcntl64), 2, setfl);
    /* Inherited descriptors (0-3) are not truncated; no descriptor changes mode
     * or owner (SQLite does either only when it creates a file: never here). */
    for (scmp_datum_t fd = 0; fd <= 3; fd++)
        rc |= deny_eq32(ctx, SCMP_SYS(ftruncate), 0, fd);
    rc |= DENY(fchmod) | DENY(fchown);
    /* Its limits (RLIMIT_AS, _NOFILE, _CORE, set by plugin_proc.c) stay. */
    struct scmp_arg_cmp newlim = {.arg = 2, .op = SCMP_CMP_NE, .datum_a = 0, .datum_b = 0};
    rc |= seccomp_rule_add_array(ctx, SCMP_ACT_KILL_PROCESS, SCMP_SYS(prlimit64), 1, &newlim);
    rc |= DENY(setrlimit);
    return rc;
}

/* A default-allow filter that also covers x32's numbers on x86_64 (other
 * architectures are killed by libseccomp's bad-arch action); *rc is set to -1
 * when x32 cannot be added. NULL when out of memory. */
static scmp_filter_ctx new_filter(int *rc)
{
    scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
#if defined(__x86_64__)
    if (ctx && seccomp_arch_add(ctx, SCMP_ARCH_X32) < 0 && errno != EEXIST)
        *rc = -1;
#endif
    return ctx;
}

/* A filter of its own (the kernel applies the strictest answer of all filters,
 * so the kills above still win): every ioctl but FIONREAD fails with ENOTTY,
 * as it would on a descriptor that is no terminal. libseccomp takes one
 * comparison per argument and rule, hence "below" and "above". */
static int ioctl_allow_list(void)
{
    int rc = 0;
    scmp_filter_ctx ctx = new_filter(&rc);
    if (!ctx)
        return -1;
    struct scmp_arg_cmp below = {.arg = 1, .op = SCMP_CMP_LT, .datum_a = FIONREAD, .datum_b = 0};
    struct scmp_arg_cmp above = {.arg = 1, .op = SCMP_CMP_GT, .datum_a = FIONREAD, .datum_b = 0};
    rc |= seccomp_rule_add_array(ctx, SCMP_ACT_ERRNO(ENOTTY), SCMP_SYS(ioctl), 1, &below);
    rc |= seccomp_rule_add_array(ctx, SCMP_ACT_ERRNO(ENOTTY), SCMP_SYS(ioctl), 1, &above);
    if (rc == 0)
        rc = seccomp_load(ctx);
    seccomp_release(ctx);
    return rc ? -1 : 0;
}

static int stage1(pid_t self)
{
    int rc = 0;
    scmp_filter_ctx ctx = new_filter(&rc);
    if (!ctx)
        return -1;
    rc |= DENY(execve) | DENY(execveat) | DENY(fork) | DENY(vfork) | DENY(clone) | DENY(clone3);
    rc |= DENY(ptrace) | DENY(process_vm_readv) | DENY(process_vm_writev) | DENY(kcmp) | DENY(pidfd_open) |
          DENY(pidfd_getfd) | DENY(pidfd_send_signal);
    rc |= DENY(socket) | DENY(socketpair) | DENY(connect) | DENY(bind) | DENY(listen) | DENY(accept) |
          DENY(accept4) | DENY(sendmsg) | DENY(recvmsg) | DENY(sendmmsg) | DENY(recvmmsg);
    rc |= DENY(mount) | DENY(umount2) | DENY(pivot_root) | DENY(chroot) | DENY(unshare) | DENY(setns) |
          DENY(mount_setattr) | DENY(open_tree) | DENY(move_mount) | DENY(fsopen) | DENY(fsmount) |
          DENY(fsconfig) | DENY(fspick);
    rc |= DENY(init_module) | DENY(finit_module) | DENY(delete_module) | DENY(kexec_load) |
          DENY(kexec_file_load) | DENY(bpf) | DENY(perf_event_open) | DENY(userfaultfd) |
          DENY(io_uring_setup) | DENY(io_uring_enter) | DENY(io_uring_register) | DENY(keyctl) |
          DENY(add_key) | DENY(request_key) | DENY(reboot) | DENY(swapon) | DENY(swapoff) |
          DENY(personality) | DENY(setuid) | DENY(setgid) | DENY(setreuid) |
          DENY(setregid) | DENY(setresuid) | DENY(setresgid) | DENY(setgroups) | DENY(settimeofday) |
          DENY(clock_settime) | DENY(adjtimex) | DENY(sethostname) | DENY(setdomainname) | DENY(acct) |
          DENY(quotactl) | DENY(iopl) | DENY(ioperm) | DENY(name_to_handle_at) | DENY(open_by_handle_at) |
          DENY(memfd_create) | DENY(inotify_init) | DENY(inotify_init1) | DENY(fanotify_init);
    /* The file system as it is: no new names, no changed ones. */
    rc |= DENY(unlink) | DENY(unlinkat) | DENY(rename) | DENY(renameat) | DENY(renameat2) | DENY(link) |
          DENY(linkat) | DENY(symlink) | DENY(symlinkat) | DENY(mkdir) | DENY(mkdirat) | DENY(rmdir) |
          DENY(mknod) | DENY(mknodat) | DENY(chmod) | DENY(fchmodat) | DENY(chown) | DENY(lchown) |
          DENY(fchownat) | DENY(truncate) | DENY(chdir) | DENY(utimensat) | DENY(utimes) | DENY(utime);
    /* Signals: only to itself (abort() and raise() use tgkill on their own pid). */
    rc |= deny_a0(ctx, SCMP_SYS(kill), SCMP_CMP_NE, (scmp_datum_t)self);
    rc |= deny_a0(ctx, SCMP_SYS(tgkill), SCMP_CMP_NE, (scmp_datum_t)self);
    rc |= deny_a0(ctx, SCMP_SYS(tkill), SCMP_CMP_NE, (scmp_datum_t)self);
    rc |= DENY(rt_sigqueueinfo) | DENY(rt_tgsigqueueinfo);
    /* Nothing that reaches another process's limits, priority or memory. */
    rc |= deny_a0(ctx, SCMP_SYS(prlimit64), SCMP_CMP_NE, 0) | DENY(setpriority) | DENY(ioprio_set) |
          DENY(sched_setaffinity) | DENY(sched_setscheduler) | DENY(sched_setparam) | DENY(sched_setattr) |
          DENY(migrate_pages) | DENY(move_pages) | DENY(process_madvise) | DENY(get_robust_list) |
          DENY(capset) | DENY(setpgid) | DENY(setsid);
    /* Its death signal stays SIGKILL: no prctl that could undo PR_SET_PDEATHSIG. */
    rc |= deny_a0(ctx, SCMP_SYS(prctl), SCMP_CMP_EQ, (scmp_datum_t)PR_SET_PDEATHSIG);
    rc |= deny_signal_doors(ctx);
    if (rc == 0)
        rc = seccomp_load(ctx);
    seccomp_release(ctx);
    if (rc == 0)
        rc = ioctl_allow_list();
    return rc ? -1 : 0;
}

static int stage2(void)
{
    int rc = 0;
    scmp_filter_ctx ctx = new_filter(&rc);
    if (!ctx)
        return -1;
    rc |= DENY(open) | DENY(openat) | DENY(openat2) | DENY(creat) | DENY(seccomp);
    if (rc == 0)
        rc = seccomp_load(ctx);
    seccomp_release(ctx);
    return rc ? -1 : 0;
}

/* ---- main --------------------------------------------------------------------- */

static void init_done(int rc, const char *err, const zx_plugin_def *def)
{
    uint32_t hooks = 0;
    wb_reset(&g_w);
    wb_i32(&g_w, rc);
    wb_str(&g_w, err);
    wb_str(&g_w, def ? def->name : "");
    wb_str(&g_w, def ? def->version : "");
    wb_str(&g_w, def ? def->author : "");
    if (def) {
        hooks |= def->on_signal_received ? WH_SIGNAL : 0;
        hooks |= def->on_order_placed ? WH_ORDER : 0;
        hooks |= def->on_position_update ? WH_POSITION : 0;
        hooks |= def->on_daily_reset ? WH_DAILY : 0;
        hooks |= def->on_plugin_enabled ? WH_ENABLED : 0;
        hooks |= def->on_plugin_disabled ? WH_DISABLED : 0;
        hooks |= def->shutdown ? WH_SHUTDOWN : 0;
    }
    wb_u32(&g_w, hooks);
    wb_u32(&g_w, def ? g_events : 0);
    send_or_die(W_INIT_DONE);
}

static void refuse(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void refuse(const char *fmt, ...)
{
    char err[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, sizeof err, fmt, ap);
    va_end(ap);
    init_done(-1, err, NULL);
    _exit(0);
}

/* What libc and SQLite would open() lazily, later, under stage 2 (where open()
 * kills):
 *  - SQLite seeds its PRNG from /dev/urandom on the first write that needs it
 *    (a WAL header's salt when the log restarts);
 *  - the unix VFS fsyncs the directory of a WAL file it opened with O_CREAT at
 *    that file's first sync (a commit, under synchronous=FULL), opening the
 *    directory to do it: one committed write now does that sync;
 *  - glibc reads /etc/localtime at the first localtime().
 * Doing all three before the filter is what lets a plugin write in init. */
static int prefetch_lazy_files(sqlite3 *db, char *err, size_t errlen)
{
    unsigned char seed[16];
    sqlite3_stmt *st = NULL;
    int v = 0;
    char sql[64];
    sqlite3_randomness((int)sizeof seed, seed);   /* N > 0 seeds; N == 0 would reset */
    if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK ||
        sqlite3_step(st) != SQLITE_ROW) {
        snprintf(err, errlen, "%s", sqlite3_errmsg(db));
        sqlite3_finalize(st);
        return -1;
    }
    v = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    snprintf(sql, sizeof sql, "PRAGMA user_version = %d", v);   /* the same value: a write, a sync */
    sqlite3_busy_timeout(db, 1000);     /* a child may wait for the host's batch; the loop never does */
    int rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
    sqlite3_busy_timeout(db, STORE_BUSY_MS);
    if (rc != SQLITE_OK) {
        snprintf(err, errlen, "%s", sqlite3_errmsg(db));
        return -1;
    }
    tzset();
    time_t now = time(NULL);
    struct tm tm;
    localtime_r(&now, &tm);
    return 0;
}

int main(int argc, char **argv)
{
    static char so_path[1200], id[64], data_dir[1024], cfg_json[WIRE_MAX], db_name[80];
    struct rbuf r;
    uint8_t t;
    size_t len;
    char err[512];
    if (argc > 1)
        g_id = argv[1];
    if (wire_recv(FD, -1, &t, g_in, &len) != WR_OK || t != W_INIT)
        die(2, "no init frame on fd %d", FD);
    rb_init(&r, g_in, len);
    rb_str(&r, so_path, sizeof so_path);
    rb_str(&r, id, sizeof id);
    rb_str(&r, data_dir, sizeof data_dir);
    rb_str(&r, cfg_json, sizeof cfg_json);
    rb_str(&r, db_name, sizeof db_name);    /* <id>, or <id>.shadow for a shadow (SPEC 12) */
    if (r.bad)
        die(2, "malformed init frame");
    g_id = id;
    g_cfg = json_tokener_parse(cfg_json);

    /* 2. its database, and nothing else, before the filter */
    if (ldg_open(data_dir, db_name, &g_ldg, err, sizeof err))
        refuse("%s", err);
    if (sqlite3_exec(ldg_db(g_ldg), "PRAGMA temp_store = MEMORY; SELECT count(*) FROM trades;", NULL, NULL,
                     NULL) != SQLITE_OK)
        refuse("its database: %s", sqlite3_errmsg(ldg_db(g_ldg)));
    if (prefetch_lazy_files(ldg_db(g_ldg), err, sizeof err))
        refuse("its database: %s", err);

    /* 3.-5. confinement around the load */
    if (stage1(getpid()))
        refuse("cannot install the seccomp filter");
    void *dl = dlopen(so_path, RTLD_NOW | RTLD_LOCAL);
    if (stage2())
        refuse("cannot install the seccomp filter");
    if (!dl) {
        const char *e = dlerror();
        refuse("cannot load plugin.so: %s", e ? e : "unknown error");
    }

    /* 6. the checks of plugin_def.h (the registry's too), then init */
    const zx_plugin_def *def;
    if (pdef_entry(dl, id, &def, err, sizeof err))
        refuse("%s", err);
    void *state = NULL;
    if (def->init) {
        g_in_init = 1;
        int rc = def->init(&g_host, &g_api, &state);
        g_in_init = 0;
        if (rc != 0)
            refuse("init failed (returned %d)%s%s", rc, g_last_warn[0] ? ": " : "", g_last_warn);
    }
    init_done(0, "", def);

    for (;;) {
        char source[64], comment[4096], reason[256];
        int rc = wire_recv(FD, -1, &t, g_in, &len);
        if (rc == WR_EOF)
            _exit(0);
        if (rc != WR_OK)
            die(3, "protocol: bad frame from the controller");
        rb_init(&r, g_in, len);
        wb_reset(&g_w);
        switch (t) {
        case W_SIGNAL: {
            zx_signal s;
            zx_verdict v = ZX_ACCEPT;
            wire_get_signal(&r, &s, source, sizeof source, comment, sizeof comment);
            reason[0] = '\0';
            if (def->on_signal_received)
                v = def->on_signal_received(state, &s, reason, sizeof reason);
            reason[sizeof reason - 1] = '\0';
            wb_reset(&g_w);
            wb_i32(&g_w, (int32_t)v);
            wb_f64(&g_w, s.lot);
            wb_f64(&g_w, s.sl);
            wb_f64(&g_w, s.tp);
            wb_f64(&g_w, s.lot_multiplier);
            wb_str(&g_w, reason);
            send_or_die(W_VERDICT);
            continue;
        }
        case W_ORDER: {
            zx_order o;
            wire_get_order(&r, &o);
            if (def->on_order_placed)
                def->on_order_placed(state, &o);
            break;
        }
        case W_POSITION: {
            zx_position p;
            wire_get_position(&r, &p, reason, sizeof reason);
            if (def->on_position_update)
                def->on_position_update(state, &p);
            break;
        }
        case W_DAILY: {
            zx_daily d;
            wire_get_daily(&r, &d);
            if (def->on_daily_reset)
                def->on_daily_reset(state, &d);
            break;
        }
        case W_EVENT: {
            uint32_t ev = rb_u32(&r);
            if (r.bad || ev < 1 || ev > HOST_EVENT_MAX || !g_hooks[ev])
                die(3, "protocol: an event without a hook (%u)", ev);
            if (ev == ZX_EVENT_DAILY_RESET) {
                zx_daily d;
                wire_get_daily(&r, &d);
                ((zx_daily_reset_fn)g_hooks[ev])(state, &d);
            }
            break;
        }
        case W_ENABLED:
            if (def->on_plugin_enabled)
                def->on_plugin_enabled(state);
            break;
        case W_DISABLED:
            if (def->on_plugin_disabled)
                def->on_plugin_disabled(state);
            break;
        case W_SHUTDOWN:
            if (def->shutdown)
                def->shutdown(state);
            wb_reset(&g_w);
            send_or_die(W_DONE);
            fflush(NULL);
            _exit(0);
        default:
            die(3, "protocol: unexpected frame type %u", t);
        }
        wb_reset(&g_w);
        send_or_die(W_DONE);
    }
}
