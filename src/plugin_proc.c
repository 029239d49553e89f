/*
 * plugin_proc — see plugin_proc.h.
 */
#include "plugin_proc.h"
#include "log.h"
#include "plugin_wire.h"

#include <ev.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_TRADES 256          /* open_trades answered per request */

/* The child's limits (set between fork and exec). */
#define CHILD_NOFILE 64                         /* descriptors */
#define CHILD_AS ((rlim_t)1 << 30)              /* bytes of address space: 1 GiB */

/* Its stdout/stderr, logged line by line with its id: at most OUT_BURST lines
 * at once, OUT_RATE per second after that; past the budget the pipe is not read
 * for OUT_PAUSE seconds and what piled up meanwhile is dropped (counted). */
#define OUT_LINE 400            /* bytes of one logged line; longer ones are cut */
#define OUT_BURST 50.0
#define OUT_RATE 10.0           /* lines per second */
#define OUT_PAUSE 1.0           /* seconds */
#define OUT_READ 4096           /* bytes read per loop wake-up */

struct pproc {
    pid_t pid;
    int fd;
    int out_fd;                     /* read end of the child's stdout/stderr pipe */
    int failed;
    int timeout_ms;
    uint32_t events;                /* W_INIT_DONE's: the events it registered hooks for */
    zx_host *host;
    const zx_api *api;
    zx_plugin_def def;
    char id[64], name[128], version[64], author[128];
    char cause[300];
    struct ev_loop *loop;           /* pp_watch: the idle watch, when set */
    ev_io idle;
    ev_io out_io;
    ev_timer out_pause;
    double out_tokens, out_last;    /* line budget; ev_now of its last refill */
    size_t out_dropped;             /* bytes dropped during the current pause */
    size_t out_len;
    char out_line[OUT_LINE + 1];    /* the unfinished line */
    char tag[80];                   /* "plugin <id>": the log module of its output */
    pp_idle_cb cb;
    void *cb_data;
    struct wbuf w;
    uint8_t in[WIRE_MAX];
};

/* Stand-ins that only say "this hook exists": the registry calls pp_* instead. */
static void stub_shutdown(void *s) { (void)s; }
static zx_verdict stub_signal(void *s, zx_signal *g, char *r, size_t n)
{
    (void)s; (void)g; (void)r; (void)n;
    return ZX_REJECT;
}
static void stub_order(void *s, const zx_order *o) { (void)s; (void)o; }
static void stub_position(void *s, const zx_position *p) { (void)s; (void)p; }
static void stub_daily(void *s, const zx_daily *d) { (void)s; (void)d; }
static void stub_void(void *s) { (void)s; }

const zx_plugin_def *pp_def(const struct pproc *pp) { return &pp->def; }
const char *pp_cause(const struct pproc *pp) { return pp->cause; }
pid_t pp_pid(const struct pproc *pp) { return pp->pid; }
uint32_t pp_events(const struct pproc *pp) { return pp->events; }

int pp_host_path(char *out, size_t len)
{
    /* Beside the daemon (build/), one up (build/tests/), and the installed
     * layout: $PREFIX/bin/zepix with $PREFIX/lib/zepix/zepix-plugin-host. */
    static const char *const rel[] = {"zepix-plugin-host", "../zepix-plugin-host",
                                      "../lib/zepix/zepix-plugin-host"};
    char self[PATH_MAX];
    const char *env = getenv("ZEPIX_PLUGIN_HOST");
    if (env && *env) {
        snprintf(out, len, "%s", env);
        return access(out, X_OK);
    }
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0)
        return -1;
    self[n] = '\0';
    char *slash = strrchr(self, '/');
    if (!slash)
        return -1;
    *slash = '\0';
    for (size_t i = 0; i < sizeof rel / sizeof rel[0]; i++)
        if ((size_t)snprintf(out, len, "%s/%s", self, rel[i]) < len && access(out, X_OK) == 0)
            return 0;
    return -1;
}

/* ---- the child's stdout/stderr ------------------------------------------------ */

/* Take one line from the budget: 1 when it may be logged now. */
static int out_budget(struct pproc *pp)
{
    double now = (double)wire_mono_ms() / 1000.0;
    pp->out_tokens += (now - pp->out_last) * OUT_RATE;
    if (pp->out_tokens > OUT_BURST)
        pp->out_tokens = OUT_BURST;
    pp->out_last = now;
    if (pp->out_tokens < 1.0)
        return 0;
    pp->out_tokens -= 1.0;
    return 1;
}

static void out_emit(struct pproc *pp)
{
    int cut = pp->out_len > OUT_LINE;
    if (cut)
        pp->out_len = OUT_LINE;
    pp->out_line[pp->out_len] = '\0';
    LOG_I(pp->tag, "%s%s", pp->out_line, cut ? " [cut]" : "");
    pp->out_len = 0;
}

/* Split into lines and log them; control characters become '?' so a plugin
 * cannot end a line early or colour the terminal. Returns the bytes used: less
 * than n when the budget ran out (the rest is the caller's to drop). */
static size_t out_feed(struct pproc *pp, const char *b, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)b[i];
        if (c == '\n') {
            if (pp->out_len && !out_budget(pp))
                return i;
            if (pp->out_len)
                out_emit(pp);
            continue;
        }
        if (pp->out_len < OUT_LINE)
            pp->out_line[pp->out_len] = (c < 0x20 && c != '\t') || c == 0x7f ? '?' : (char)c;
        if (pp->out_len <= OUT_LINE)
            pp->out_len++;          /* OUT_LINE + 1 marks a cut line */
    }
    return n;
}

/* Read and drop what is in the pipe, at most max bytes. */
static void out_discard(struct pproc *pp, size_t max)
{
    char buf[OUT_READ];
    ssize_t k;
    for (size_t got = 0; got < max && (k = read(pp->out_fd, buf, sizeof buf)) > 0; got += (size_t)k)
        pp->out_dropped += (size_t)k;
    pp->out_len = 0;
}

static void out_report_dropped(struct pproc *pp)
{
    if (pp->out_dropped)
        LOG_W(pp->tag, "%zu bytes of output dropped (over %.0f lines/s)", pp->out_dropped, OUT_RATE);
    pp->out_dropped = 0;
}

static void out_resume(struct ev_loop *loop, ev_timer *t, int revents)
{
    struct pproc *pp = t->data;
    (void)revents;
    out_discard(pp, 16 * OUT_READ);
    out_report_dropped(pp);
    ev_io_start(loop, &pp->out_io);
}

static void out_cb(struct ev_loop *loop, ev_io *w, int revents)
{
    struct pproc *pp = w->data;
    char buf[OUT_READ];
    (void)revents;
    ssize_t k = read(pp->out_fd, buf, sizeof buf);
    if (k < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    if (k <= 0) {                   /* closed: the child is gone or going */
        ev_io_stop(loop, w);
        return;
    }
    size_t used = out_feed(pp, buf, (size_t)k);
    if (used == (size_t)k)
        return;
    /* Over budget: stop reading for a while; what piles up meanwhile is dropped
     * (the child's writes fail with EAGAIN once the pipe is full). */
    pp->out_dropped += (size_t)k - used;
    pp->out_len = 0;
    ev_io_stop(loop, w);
    ev_timer_set(&pp->out_pause, OUT_PAUSE, 0.);
    ev_timer_start(loop, &pp->out_pause);
}

/* The child is dead: log what it wrote last (within the budget), close the pipe. */
static void out_close(struct pproc *pp)
{
    char buf[OUT_READ];
    ssize_t k;
    if (pp->out_fd < 0)
        return;
    if (pp->loop) {
        ev_io_stop(pp->loop, &pp->out_io);
        ev_timer_stop(pp->loop, &pp->out_pause);
    }
    for (int i = 0; i < 16 && (k = read(pp->out_fd, buf, sizeof buf)) > 0; i++) {
        size_t used = out_feed(pp, buf, (size_t)k);
        pp->out_dropped += (size_t)k - used;
        if (used < (size_t)k)
            break;
    }
    if (pp->out_len && pp->out_len <= OUT_LINE + 1 && out_budget(pp))
        out_emit(pp);
    out_report_dropped(pp);
    close(pp->out_fd);
    pp->out_fd = -1;
}

/* Kill (if still running) and reap the child; describe what became of it. */
static void reap(struct pproc *pp, int was_eof, const char *during)
{
    int st = 0;
    pid_t r;
    char what[200];
    if (pp->loop && ev_is_active(&pp->idle))
        ev_io_stop(pp->loop, &pp->idle);
    if (pp->fd >= 0)
        close(pp->fd);
    pp->fd = -1;
    if (pp->pid <= 0) {
        out_close(pp);
        return;
    }
    kill(pp->pid, SIGKILL);
    while ((r = waitpid(pp->pid, &st, 0)) < 0 && errno == EINTR)
        ;
    pp->pid = 0;
    out_close(pp);
    if (!was_eof || !during)
        return;
    if (r < 0)
        snprintf(what, sizeof what, "its process ended (status unknown)");
    else if (WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL)
        snprintf(what, sizeof what, "closed its protocol socket");
    else if (WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS)
        snprintf(what, sizeof what, "made a forbidden system call (killed by the seccomp filter, SIGSYS)");
    else if (WIFSIGNALED(st))
        snprintf(what, sizeof what, "crashed with SIG%s (%s)",
                 sigabbrev_np(WTERMSIG(st)) ? sigabbrev_np(WTERMSIG(st)) : "?", strsignal(WTERMSIG(st)));
    else
        snprintf(what, sizeof what, "exited with status %d", WEXITSTATUS(st));
    snprintf(pp->cause, sizeof pp->cause, "%s during %s", what, during);
}

static int fail(struct pproc *pp, int was_eof, const char *during, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int fail(struct pproc *pp, int was_eof, const char *during, const char *fmt, ...)
{
    if (fmt) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(pp->cause, sizeof pp->cause, fmt, ap);
        va_end(ap);
    }
    reap(pp, was_eof, during);
    pp->failed = 1;
    LOG_W("plugin_proc", "plugin %s: %s", pp->id, pp->cause);
    return -1;
}

/* Answer one API request of the child. 0, or -1 on a malformed request. */
static int serve(struct pproc *pp, uint8_t type, struct rbuf *r)
{
    char err[256] = "", text[4096];
    struct wbuf *w = &pp->w;
    int rc = -1;
    wb_reset(w);
    switch (type) {
    case W_R_PLACE: {
        zx_order_req req;
        zx_order o;
        int has_comment;
        memset(&req, 0, sizeof req);
        memset(&o, 0, sizeof o);
        req.side = (zx_action)rb_i32(r);
        rb_str(r, req.symbol, sizeof req.symbol);
        req.lot = rb_f64(r);
        req.sl = rb_f64(r);
        req.tp = rb_f64(r);
        has_comment = rb_u8(r);
        rb_str(r, text, sizeof text);
        req.comment = has_comment ? text : NULL;
        if (r->bad)
            return -1;
        rc = pp->api->place_order(pp->host, &req, &o, err, sizeof err);
        wb_i32(w, rc);
        wb_str(w, err);
        wire_put_order(w, &o);
        break;
    }
    case W_R_CLOSE: {
        int64_t id = rb_i64(r);
        double lot = rb_f64(r);
        if (r->bad)
            return -1;
        rc = pp->api->close_trade(pp->host, id, lot, err, sizeof err);
        wb_i32(w, rc);
        wb_str(w, err);
        break;
    }
    case W_R_MODIFY: {
        int64_t id = rb_i64(r);
        double sl = rb_f64(r), tp = rb_f64(r);
        if (r->bad)
            return -1;
        rc = pp->api->modify_trade(pp->host, id, sl, tp, err, sizeof err);
        wb_i32(w, rc);
        wb_str(w, err);
        break;
    }
    case W_R_OPEN_TRADES: {
        int max = rb_i32(r);
        zx_position *v;
        if (r->bad)
            return -1;
        if (max > MAX_TRADES)
            max = MAX_TRADES;
        if (max < 1)
            max = 1;
        v = calloc((size_t)max, sizeof *v);
        rc = v ? pp->api->open_trades(pp->host, v, max) : -1;
        wb_i32(w, rc);
        wb_str(w, "");
        for (int i = 0; i < rc; i++)
            wire_put_position(w, &v[i]);
        free(v);
        break;
    }
    case W_R_QUOTE:
    case W_R_SYMBOL_INFO: {
        double a = 0, b = 0;
        rb_str(r, text, 64);
        if (r->bad)
            return -1;
        rc = type == W_R_QUOTE ? pp->api->quote(pp->host, text, &a, &b)
                               : pp->api->symbol_info(pp->host, text, &a, &b);
        wb_i32(w, rc);
        wb_str(w, "");
        wb_f64(w, a);
        wb_f64(w, b);
        break;
    }
    case W_R_NOTIFY:
        rb_str(r, text, sizeof text);
        if (r->bad)
            return -1;
        rc = pp->api->notify(pp->host, text);
        wb_i32(w, rc);
        wb_str(w, "");
        break;
    case W_R_LOG: {
        int level = rb_i32(r);
        rb_str(r, text, sizeof text);
        if (r->bad)
            return -1;
        pp->api->log(pp->host, level, "%s", text);
        return 0;                   /* no answer */
    }
    case W_R_NOW:
        wb_i32(w, 0);
        wb_str(w, "");
        wb_i64(w, pp->api->now_ms(pp->host));
        break;
    case W_R_ACCOUNT: {
        double b = 0, e = 0;
        rc = pp->api->account(pp->host, &b, &e);
        wb_i32(w, rc);
        wb_str(w, "");
        wb_f64(w, b);
        wb_f64(w, e);
        break;
    }
    default:
        return -1;
    }
    if (pp->failed)                 /* cannot happen today: the API never calls back here */
        return 0;
    if (wire_send(pp->fd, W_RESULT, w))
        return -2;
    return 0;
}

/* Send a frame (already in pp->w) and wait for the answer `want`, serving
 * requests meanwhile. 0 with *reply over the answer, or -1 (child failed). */
static int call(struct pproc *pp, uint8_t type, uint8_t want, const char *during, int timeout_ms,
                struct rbuf *reply)
{
    if (pp->failed)
        return -1;
    if (wire_send(pp->fd, type, &pp->w))
        return fail(pp, 1, during, NULL);
    int64_t deadline = wire_mono_ms() + timeout_ms;
    for (;;) {
        uint8_t t = 0;
        size_t len = 0;
        int rc = wire_recv(pp->fd, deadline, &t, pp->in, &len);
        if (rc == WR_TIMEOUT)
            return fail(pp, 0, during, "did not answer %s within %d ms (killed)", during, timeout_ms);
        if (rc == WR_EOF)
            return fail(pp, 1, during, NULL);
        if (rc == WR_TOOBIG)
            return fail(pp, 0, during, "protocol violation during %s: oversized frame (killed)", during);
        if (t == want) {
            rb_init(reply, pp->in, len);
            return 0;
        }
        struct rbuf r;
        rb_init(&r, pp->in, len);
        if (t < W_R_PLACE)
            return fail(pp, 0, during, "protocol violation during %s: unexpected frame type %u (killed)",
                        during, t);
        rc = serve(pp, t, &r);
        if (rc == -2)
            return fail(pp, 1, during, NULL);
        if (rc < 0)
            return fail(pp, 0, during, "protocol violation during %s: bad request type %u (killed)",
                        during, t);
    }
}

/* A reply that does not parse is a protocol violation. */
static int check_reply(struct pproc *pp, struct rbuf *r, const char *during)
{
    if (!r->bad && r->off == r->n)
        return 0;
    return fail(pp, 0, during, "protocol violation during %s: malformed answer (killed)", during);
}

/* Sanitizer builds reserve terabytes of address space for their shadow
 * memory: RLIMIT_AS would stop the child before main. */
#if defined(__SANITIZE_ADDRESS__)
#define CHILD_LIMIT_AS 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CHILD_LIMIT_AS 0
#endif
#endif
#ifndef CHILD_LIMIT_AS
#define CHILD_LIMIT_AS 1
#endif

/* Lower a limit to want (never above the hard limit there is). 0 or -1. */
static int lower_limit(int resource, rlim_t want)
{
    struct rlimit rl;
    if (getrlimit(resource, &rl))
        return -1;
    if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < want)
        want = rl.rlim_max;
    rl.rlim_cur = rl.rlim_max = want;
    return setrlimit(resource, &rl);
}

/* In the child between fork and exec: exactly the descriptors it is meant to
 * have (0 /dev/null, 1 and 2 the output pipe, 3 the protocol socket; it opens
 * its database itself), its limits, then the plugin host. Never returns. */
static void child_exec(const char *host_bin, const char *id, int sock, int out) __attribute__((noreturn));
static void child_exec(const char *host_bin, const char *id, int sock, int out)
{
    sigset_t all;
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    sigemptyset(&all);
    sigprocmask(SIG_SETMASK, &all, NULL);
    /* Stopping is the daemon's job: it shuts each plugin down through its
     * hook. A terminal's Ctrl-C (the foreground process group) and
     * systemd's SIGTERM to the whole cgroup must not kill plugins first:
     * the child leaves the daemon's process group and ignores both
     * (ignored dispositions survive exec). */
    setpgid(0, 0);
    signal(SIGINT, SIG_IGN);
    signal(SIGTERM, SIG_IGN);
    signal(SIGHUP, SIG_IGN);
    signal(SIGQUIT, SIG_IGN);
    /* Above 3 first, so that no dup2 below overwrites a descriptor still needed. */
    int s = fcntl(sock, F_DUPFD, 10), o = fcntl(out, F_DUPFD, 10);
    int null = open("/dev/null", O_RDONLY);   /* not the operator's console */
    if (s < 0 || o < 0 || null < 0 || dup2(null, 0) != 0 || dup2(o, 1) != 1 || dup2(o, 2) != 2 ||
        dup2(s, 3) != 3)
        _exit(126);
    /* Everything else stays behind: the daemon's log, sockets, databases. */
    if (close_range(4, ~0U, 0)) {
        struct rlimit rl;
        rlim_t max = getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < 1 << 20 ? rl.rlim_cur : 1 << 20;
        for (rlim_t fd = 4; fd < max; fd++)
            close((int)fd);
    }
    /* Sanitizer builds (make asan): a crash must end as the crash itself, not
     * as the sanitizer's report trying to fork a symbolizer (SIGSYS). */
    setenv("ASAN_OPTIONS", "handle_segv=0:handle_abort=0:handle_sigbus=0:handle_sigfpe=0:"
           "handle_sigill=0:detect_leaks=0:symbolize=0", 1);
    setenv("UBSAN_OPTIONS", "symbolize=0:print_stacktrace=0", 1);
    /* No core files (a plugin crashing in a loop writes none), few descriptors,
     * bounded memory. The filter keeps it from raising them again. */
    if (lower_limit(RLIMIT_CORE, 0) || lower_limit(RLIMIT_NOFILE, CHILD_NOFILE) ||
        (CHILD_LIMIT_AS && lower_limit(RLIMIT_AS, CHILD_AS)))
        _exit(126);
    char *const argv[] = {(char *)"zepix-plugin-host", (char *)id, NULL};
    execv(host_bin, argv);
    _exit(127);
}

static pid_t spawn(const char *host_bin, const char *id, int *fd_out, int *out_fd, char *err, size_t errlen)
{
    int sv[2], po[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv)) {
        snprintf(err, errlen, "socketpair: %s", strerror(errno));
        return -1;
    }
    /* Both ends non-blocking: the loop never waits on the child's output, and
     * a child whose output is not being read loses it (EAGAIN), not its time. */
    if (pipe2(po, O_CLOEXEC | O_NONBLOCK)) {
        snprintf(err, errlen, "pipe: %s", strerror(errno));
        close(sv[0]);
        close(sv[1]);
        return -1;
    }
    pid_t pid = fork();
    if (pid < 0) {
        snprintf(err, errlen, "fork: %s", strerror(errno));
        close(sv[0]);
        close(sv[1]);
        close(po[0]);
        close(po[1]);
        return -1;
    }
    if (pid == 0)
        child_exec(host_bin, id, sv[1], po[1]);
    close(sv[1]);
    close(po[1]);
    *fd_out = sv[0];
    *out_fd = po[0];
    return pid;
}

static void idle_cb(struct ev_loop *loop, ev_io *w, int revents)
{
    struct pproc *pp = w->data;
    char c;
    (void)revents;
    ssize_t k = recv(pp->fd, &c, 1, MSG_DONTWAIT | MSG_PEEK);
    if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        return;
    ev_io_stop(loop, w);
    if (k > 0)
        fail(pp, 0, "idle", "protocol violation: a frame while no hook was running (killed)");
    else
        fail(pp, 1, "idle time between hooks", NULL);
    if (pp->cb)
        pp->cb(pp, pp->cb_data);
}

void pp_watch(struct pproc *pp, struct ev_loop *loop, pp_idle_cb cb, void *data)
{
    if (!loop || pp->failed)
        return;
    pp->loop = loop;
    pp->cb = cb;
    pp->cb_data = data;
    ev_io_init(&pp->idle, idle_cb, pp->fd, EV_READ);
    pp->idle.data = pp;
    ev_io_start(loop, &pp->idle);
    if (pp->out_fd >= 0) {
        ev_io_init(&pp->out_io, out_cb, pp->out_fd, EV_READ);
        pp->out_io.data = pp;
        ev_init(&pp->out_pause, out_resume);
        pp->out_pause.data = pp;
        ev_io_start(loop, &pp->out_io);
    }
}

int pp_start(const char *host_bin, const char *so_path, const char *id, const char *db_name, const char *data_dir,
             const char *config_json, int timeout_ms, zx_host *host, const zx_api *api,
             struct pproc **out, char *err, size_t errlen)
{
    struct pproc *pp = calloc(1, sizeof *pp);
    struct rbuf r;
    *out = NULL;
    if (!pp) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    pp->fd = -1;
    pp->out_fd = -1;
    pp->out_tokens = OUT_BURST;
    pp->out_last = (double)wire_mono_ms() / 1000.0;
    pp->host = host;
    pp->api = api;
    pp->timeout_ms = timeout_ms;
    snprintf(pp->id, sizeof pp->id, "%s", id);
    snprintf(pp->tag, sizeof pp->tag, "plugin %s", id);
    if ((pp->pid = spawn(host_bin, id, &pp->fd, &pp->out_fd, err, errlen)) < 0) {
        free(pp);
        return -1;
    }
    wb_reset(&pp->w);
    wb_str(&pp->w, so_path);
    wb_str(&pp->w, id);
    wb_str(&pp->w, data_dir);
    wb_str(&pp->w, config_json ? config_json : "{}");
    wb_str(&pp->w, db_name ? db_name : id);
    /* Loading the .so and opening its database may take longer than a hook. */
    int init_ms = timeout_ms * 10 < 2000 ? 2000 : timeout_ms * 10;
    if (call(pp, W_INIT, W_INIT_DONE, "init", init_ms, &r)) {
        snprintf(err, errlen, "%s", pp->cause);
        free(pp);
        return -1;
    }
    int rc = rb_i32(&r);
    char why[256];
    rb_str(&r, why, sizeof why);
    rb_str(&r, pp->name, sizeof pp->name);
    rb_str(&r, pp->version, sizeof pp->version);
    rb_str(&r, pp->author, sizeof pp->author);
    uint32_t hooks = rb_u32(&r);
    pp->events = rb_u32(&r);
    if (check_reply(pp, &r, "init")) {
        snprintf(err, errlen, "%s", pp->cause);
        free(pp);
        return -1;
    }
    if (rc != 0) {
        snprintf(err, errlen, "%s", why);
        reap(pp, 0, NULL);
        free(pp);
        return -1;
    }
    pp->def.abi_version = ZX_PLUGIN_ABI_VERSION;
    pp->def.id = pp->id;
    pp->def.name = pp->name;
    pp->def.version = pp->version;
    pp->def.author = pp->author;
    pp->def.shutdown = hooks & WH_SHUTDOWN ? stub_shutdown : NULL;
    pp->def.on_signal_received = hooks & WH_SIGNAL ? stub_signal : NULL;
    pp->def.on_order_placed = hooks & WH_ORDER ? stub_order : NULL;
    pp->def.on_position_update = hooks & WH_POSITION ? stub_position : NULL;
    pp->def.on_daily_reset = hooks & WH_DAILY ? stub_daily : NULL;
    pp->def.on_plugin_enabled = hooks & WH_ENABLED ? stub_void : NULL;
    pp->def.on_plugin_disabled = hooks & WH_DISABLED ? stub_void : NULL;
    *out = pp;
    return 0;
}

int pp_signal(struct pproc *pp, zx_signal *sig, zx_verdict *v, char *reason, size_t reason_len)
{
    struct rbuf r;
    wb_reset(&pp->w);
    wire_put_signal(&pp->w, sig);
    if (call(pp, W_SIGNAL, W_VERDICT, "on_signal_received", pp->timeout_ms, &r))
        return -1;
    *v = (zx_verdict)rb_i32(&r);
    sig->lot = rb_f64(&r);
    sig->sl = rb_f64(&r);
    sig->tp = rb_f64(&r);
    sig->lot_multiplier = rb_f64(&r);
    rb_str(&r, reason, reason_len);
    return check_reply(pp, &r, "on_signal_received");
}

static int void_hook(struct pproc *pp, uint8_t type, const char *during)
{
    struct rbuf r;
    if (call(pp, type, W_DONE, during, pp->timeout_ms, &r))
        return -1;
    return check_reply(pp, &r, during);
}

int pp_order(struct pproc *pp, const zx_order *o)
{
    wb_reset(&pp->w);
    wire_put_order(&pp->w, o);
    return void_hook(pp, W_ORDER, "on_order_placed");
}

int pp_position(struct pproc *pp, const zx_position *pos)
{
    wb_reset(&pp->w);
    wire_put_position(&pp->w, pos);
    return void_hook(pp, W_POSITION, "on_position_update");
}

int pp_daily(struct pproc *pp, const zx_daily *d)
{
    wb_reset(&pp->w);
    wire_put_daily(&pp->w, d);
    return void_hook(pp, W_DAILY, "on_daily_reset");
}

int pp_enabled(struct pproc *pp)
{
    wb_reset(&pp->w);
    return void_hook(pp, W_ENABLED, "on_plugin_enabled");
}

int pp_disabled(struct pproc *pp)
{
    wb_reset(&pp->w);
    return void_hook(pp, W_DISABLED, "on_plugin_disabled");
}

int pp_event(struct pproc *pp, int event, const void *payload)
{
    wb_reset(&pp->w);
    wb_u32(&pp->w, (uint32_t)event);
    switch (event) {
    case ZX_EVENT_DAILY_RESET:
        wire_put_daily(&pp->w, payload);
        return void_hook(pp, W_EVENT, "the ZX_EVENT_DAILY_RESET hook");
    default:
        return 0;               /* nothing the child could have registered */
    }
}

void pp_stop(struct pproc *pp)
{
    if (!pp)
        return;
    if (!pp->failed) {
        wb_reset(&pp->w);
        if (void_hook(pp, W_SHUTDOWN, "shutdown") == 0)
            reap(pp, 0, NULL);      /* it exits on its own; SIGKILL makes sure */
    }
    pp_free(pp);
}

void pp_free(struct pproc *pp)
{
    if (!pp)
        return;
    reap(pp, 0, NULL);
    free(pp);
}
