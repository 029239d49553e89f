/*
 * registry — see registry.h.
 */
#include "registry.h"
#include "app.h"
#include "log.h"
#include "sbuf.h"
#include "chat.h"
#include "engine.h"
#include "notify.h"
#include "plugin_def.h"
#include "plugin_proc.h"
#include "service_api.h"
#include "store.h"

#include <ctype.h>
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define HOST_MAGIC 0x7a787068u      /* "zxph" */

enum { EV_ORDER, EV_POSITION };

struct reg_event {
    int kind;
    char plugin[64];
    int shadow;                     /* for the shadow of plugin */
    zx_order order;
    zx_position pos;
    char close_reason[32];
    struct reg_event *next;
};

static struct registry *g_reg;      /* one registry per process: API calls find it here */

const char *reg_state_name(enum plg_state st)
{
    static const char *const names[] = {"loaded", "enabled", "disabled", "failed"};
    return names[st];
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Plugin directory names, sorted; *out owned by the caller (free each and the array). */
static int discover(const char *dir, char ***out, size_t *n, char *err, size_t errlen)
{
    DIR *d = opendir(dir);
    char **v = NULL;
    size_t cnt = 0;
    struct dirent *e;
    *out = NULL;
    *n = 0;
    if (!d) {
        snprintf(err, errlen, "plugin_system.plugin_dir %s: %s", dir, strerror(errno));
        return -1;
    }
    while ((e = readdir(d))) {
        char path[1200];
        struct stat st;
        if (e->d_name[0] == '.' || e->d_name[0] == '_')
            continue;
        snprintf(path, sizeof path, "%s/%s/plugin.so", dir, e->d_name);
        if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
            continue;
        char **nv = realloc(v, (cnt + 1) * sizeof *v);
        if (!nv)
            break;
        v = nv;
        if (!(v[cnt] = strdup(e->d_name)))
            break;
        cnt++;
    }
    closedir(d);
    if (cnt)
        qsort(v, cnt, sizeof *v, by_name);
    *out = v;
    *n = cnt;
    return 0;
}

/* Copy src to a fresh private file under cache_dir; the caller unlinks it. */
static int private_copy(const char *src, const char *cache_dir, const char *id, uint64_t gen,
                        char *dst, size_t dstlen, char *err, size_t errlen)
{
    char buf[65536];
    int in = -1, out = -1;
    snprintf(dst, dstlen, "%s/%s-%ld-%llu.so", cache_dir, id, (long)getpid(), (unsigned long long)gen);
    if ((in = open(src, O_RDONLY | O_CLOEXEC)) < 0) {
        snprintf(err, errlen, "cannot read %s: %s", src, strerror(errno));
        goto fail;
    }
    if ((out = open(dst, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0700)) < 0) {
        snprintf(err, errlen, "cannot write %s: %s", dst, strerror(errno));
        goto fail;
    }
    for (;;) {
        ssize_t r = read(in, buf, sizeof buf);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            snprintf(err, errlen, "reading %s: %s", src, strerror(errno));
            goto fail;
        }
        if (r == 0)
            break;
        if (write(out, buf, (size_t)r) != r) {
            snprintf(err, errlen, "writing %s: %s", dst, strerror(errno));
            goto fail;
        }
    }
    close(in);
    if (close(out) != 0) {
        snprintf(err, errlen, "writing %s: %s", dst, strerror(errno));
        unlink(dst);
        return -1;
    }
    return 0;
fail:
    if (in >= 0)
        close(in);
    if (out >= 0) {
        close(out);
        unlink(dst);
    }
    return -1;
}

/* Done with a private copy: keep it as keep_as (the live build's copy,
 * replaced atomically), or remove it (mapped already: nothing is lost). */
static void settle_copy(const char *copy, const char *keep_as)
{
    if (keep_as && rename(copy, keep_as) == 0)
        return;
    if (keep_as)
        LOG_W("registry", "cannot keep the live build as %s: %s", keep_as, strerror(errno));
    unlink(copy);
}

/* dlopen a private copy (copy, for the caller to settle; "" when none was
 * made) of the build src and validate its definition. */
static int load_build(const char *src, const char *id, const char *cache_dir, uint64_t gen, char *copy,
                      size_t copylen, void **dl_out, const zx_plugin_def **def_out, char *err, size_t errlen)
{
    const zx_plugin_def *def;
    void *dl;
    *dl_out = NULL;
    *def_out = NULL;
    if (private_copy(src, cache_dir, id, gen, copy, copylen, err, errlen)) {
        copy[0] = '\0';
        return -1;
    }
    dl = dlopen(copy, RTLD_NOW | RTLD_LOCAL);
    if (!dl) {
        const char *e = dlerror();
        snprintf(err, errlen, "cannot load plugin.so: %s", e ? e : "unknown error");
        return -1;
    }
    if (pdef_entry(dl, id, &def, err, errlen))
        goto fail;
    *dl_out = dl;
    *def_out = def;
    return 0;
fail:
    dlclose(dl);
    return -1;
}

static zx_host *new_host(struct registry *r, struct plugin *p)
{
    zx_host *h = calloc(1, sizeof *h);
    if (!h)
        return NULL;
    h->magic = HOST_MAGIC;
    h->live = 1;
    h->p = p;
    h->next_all = r->all_hosts;
    r->all_hosts = h;
    return h;
}

struct app *reg_app(void) { return g_reg ? g_reg->app : NULL; }

struct plugin *reg_check_host(struct registry *r, zx_host *h, const char *call)
{
    if (!r)
        r = g_reg;
    for (size_t i = 0; r && i < r->n; i++) {
        if (r->v[i]->host == h && h->live)
            return r->v[i];
        if (r->v[i]->shadow && r->v[i]->shadow->host == h && h->live)
            return r->v[i]->shadow;
    }
    int known = 0;
    for (zx_host *x = r ? r->all_hosts : NULL; x && !known; x = x->next_all)
        known = x == h;
    LOG_W("registry", "%s refused: %s host handle %p", call,
          known ? "stale (its plugin build was unloaded)" : "unknown", (void *)h);
    return NULL;
}

static void drain(struct registry *r);

#define HOOK_BEGIN(r) ((r)->depth++)
#define HOOK_END(r) do { if (--(r)->depth == 0) drain(r); } while (0)

static void fail_plugin(struct plugin *p, const char *why);

/* The one place p->st changes (as curl's mstate()): every transition is logged
 * with the old state, the new one and why. */
static void set_state(struct plugin *p, enum plg_state st, const char *why)
{
    if (p->st != st)
        LOG_I("registry", "plugin %s: %s -> %s (%s)", p->id, reg_state_name(p->st), reg_state_name(st), why);
    p->st = st;
}

static const char *cache_dir(struct registry *r, char *buf, size_t len)
{
    snprintf(buf, len, "%s/.plugin-cache", r->app->cfg.plugin_system.data_dir);
    mkdir(buf, 0700);
    return buf;
}

/* A build being brought up: the fields of struct plugin it fills once it is
 * in place (nothing of the plugin changes while it starts). */
struct build {
    const char *src;                /* the build file (private-copied before it is loaded) */
    const char *keep_as;            /* where its copy is kept once it runs (a live build), NULL = nowhere */
    const struct plugin_ops *ops;
    void *dl;                       /* "none": the dlopen'ed private copy */
    const zx_plugin_def *def;
    zx_host *host;
    void *state;                    /* "none": init's state */
    struct pproc *proc;             /* "process": the child */
};

/*
 * How the registry reaches a build: in this process (isolation "none") or in
 * its child (isolation "process", plugin_proc.h). The registry calls hooks
 * only through p->ops, and only the ones p->def says exist. A hook returns 0,
 * or -1 when the build failed during it (its child crashed, hung or broke the
 * protocol): the plugin is then PLG_FAILED with the cause and its build is
 * gone (p->def NULL). start loads and initialises a build into *b; stop runs
 * its shutdown hook and releases it.
 */
struct plugin_ops {
    const char *where;              /* for the "loaded" log line */
    int (*start)(struct registry *r, struct plugin *p, struct build *b, char *err, size_t errlen);
    void (*stop)(struct plugin *p);
    int (*signal)(struct plugin *p, zx_signal *sig, zx_verdict *v, char *reason, size_t reason_len);
    int (*order)(struct plugin *p, const zx_order *o);
    int (*position)(struct plugin *p, const zx_position *pos);
    int (*daily)(struct plugin *p, const zx_daily *d);
    int (*enabled)(struct plugin *p);
    int (*disabled)(struct plugin *p);
    int (*event)(struct plugin *p, int event, const void *payload);    /* registered hooks */
};

/* ---- isolation "none": the build in this process ------------------------------- */

static int ip_start(struct registry *r, struct plugin *p, struct build *b, char *err, size_t errlen)
{
    char cdir[600], copy[700];
    if (load_build(b->src, p->id, cache_dir(r, cdir, sizeof cdir), ++r->gen, copy, sizeof copy, &b->dl, &b->def, err,
                   errlen)) {
        if (copy[0])
            unlink(copy);
        return -1;
    }
    if (!(b->host = new_host(r, p))) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    if (b->def->init) {
        /* The handle must resolve during init: make it current for the call. */
        zx_host *old_host = p->host;
        const zx_plugin_def *old_def = p->def;
        p->host = b->host;
        p->def = b->def;
        p->last_warn[0] = '\0';
        HOOK_BEGIN(r);
        b->host->in_init = 1;
        int rc = b->def->init(b->host, &r->api, &b->state);
        b->host->in_init = 0;
        HOOK_END(r);
        p->host = old_host;
        p->def = old_def;
        if (rc != 0) {
            snprintf(err, errlen, "init failed (returned %d)%s%.*s", rc, p->last_warn[0] ? ": " : "", (int)sbuf_utf8_prefix(p->last_warn, 200), p->last_warn);
            goto fail;
        }
    }
    settle_copy(copy, b->keep_as);
    return 0;
fail:
    unlink(copy);
    if (b->host)
        b->host->live = 0;
    b->host = NULL;
    dlclose(b->dl);
    b->dl = NULL;
    return -1;
}

static void ip_stop(struct plugin *p)
{
    if (p->def->shutdown)
        p->def->shutdown(p->state);
    dlclose(p->dl);
    p->dl = NULL;
}

static int ip_signal(struct plugin *p, zx_signal *sig, zx_verdict *v, char *reason, size_t reason_len)
{
    *v = p->def->on_signal_received(p->state, sig, reason, reason_len);
    return 0;
}

static int ip_order(struct plugin *p, const zx_order *o)
{
    p->def->on_order_placed(p->state, o);
    return 0;
}

static int ip_position(struct plugin *p, const zx_position *pos)
{
    p->def->on_position_update(p->state, pos);
    return 0;
}

static int ip_daily(struct plugin *p, const zx_daily *d)
{
    p->def->on_daily_reset(p->state, d);
    return 0;
}

static int ip_enabled(struct plugin *p)
{
    p->def->on_plugin_enabled(p->state);
    return 0;
}

static int ip_disabled(struct plugin *p)
{
    p->def->on_plugin_disabled(p->state);
    return 0;
}

static int ip_event(struct plugin *p, int event, const void *payload)
{
    zx_hook_fn fn = p->host->fn[event];
    switch (event) {
    case ZX_EVENT_DAILY_RESET:
        ((zx_daily_reset_fn)fn)(p->state, payload);
        break;
    }
    return 0;
}

static const struct plugin_ops inproc_ops = {
    .where = "", .start = ip_start, .stop = ip_stop, .signal = ip_signal, .order = ip_order,
    .position = ip_position, .daily = ip_daily, .enabled = ip_enabled, .disabled = ip_disabled,
    .event = ip_event,
};

int reg_register_hook(zx_host *h, int event, zx_hook_fn fn, char *err, size_t errlen)
{
    if (event < 1 || event > REG_EVENT_MAX) {
        snprintf(err, errlen, "register_hook: unknown event %d (this zepix knows 1..%d)", event, REG_EVENT_MAX);
        return -1;
    }
    if (!fn) {
        snprintf(err, errlen, "register_hook: no function for event %d", event);
        return -1;
    }
    if (!h->in_init) {
        snprintf(err, errlen, "register_hook: only during init");
        return -1;
    }
    h->fn[event] = fn;
    h->events |= 1u << event;
    return 0;
}

/* ---- isolation "process": the build in its child -------------------------------- */

/* Its child failed (and is dead): the build is gone, the plugin is failed with
 * the cause; its ledger and open trades stay. -1, for the hooks to return. */
static int proc_fault(struct plugin *p)
{
    char why[320];
    snprintf(why, sizeof why, "%s", pp_cause(p->proc));
    pp_free(p->proc);
    p->proc = NULL;
    if (p->host)
        p->host->live = 0;
    p->host = NULL;
    p->def = NULL;
    p->ops = NULL;
    p->state = NULL;
    fail_plugin(p, why);
    return -1;
}

/* pp_watch: its child died (or spoke) between hooks. */
static void proc_idle_fault(struct pproc *pp, void *data)
{
    struct plugin *p = data;
    if (p->proc == pp)
        proc_fault(p);
}

static int ch_start(struct registry *r, struct plugin *p, struct build *b, char *err, size_t errlen)
{
    char so[700];
    if (!r->host_bin[0]) {
        snprintf(err, errlen, "isolation \"process\": the plugin host zepix-plugin-host was not found"
                 " beside the daemon (set ZEPIX_PLUGIN_HOST)");
        return -1;
    }
    if (!(b->host = new_host(r, p))) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    /* A private copy, as in-process loading does: the child maps it, and a new
     * build copied over plugin.so in place (cp, an editor) cannot change the
     * pages under the running plugin (that was a SIGSEGV). */
    char cdir[600], db[80];
    if (private_copy(b->src, cache_dir(r, cdir, sizeof cdir), p->id, ++r->gen, so, sizeof so, err, errlen)) {
        b->host->live = 0;
        b->host = NULL;
        return -1;
    }
    const char *cfg = p->cfg ? json_object_to_json_string_ext(p->cfg, JSON_C_TO_STRING_PLAIN) : "{}";
    /* API requests during init must resolve the new handle: make it current. */
    zx_host *old_host = p->host;
    p->host = b->host;
    HOOK_BEGIN(r);
    snprintf(db, sizeof db, "%s%s", p->id, p->is_shadow ? ".shadow" : "");
    int rc = pp_start(r->host_bin, so, p->id, db, r->app->cfg.plugin_system.data_dir, cfg, r->hook_ms, b->host,
                      &r->api, &b->proc, err, errlen);
    HOOK_END(r);
    settle_copy(so, rc == 0 ? b->keep_as : NULL);  /* mapped by the child now (or it failed) */
    p->host = old_host;
    if (rc) {
        b->host->live = 0;
        b->host = NULL;
        return -1;
    }
    b->def = pp_def(b->proc);
    b->host->events = pp_events(b->proc);
    pp_watch(b->proc, r->app->loop, proc_idle_fault, p);
    return 0;
}

static void ch_stop(struct plugin *p)
{
    pp_stop(p->proc);       /* its shutdown hook in the child, then the child is reaped */
    p->proc = NULL;
}

static int ch_signal(struct plugin *p, zx_signal *sig, zx_verdict *v, char *reason, size_t reason_len)
{
    return pp_signal(p->proc, sig, v, reason, reason_len) ? proc_fault(p) : 0;
}

static int ch_order(struct plugin *p, const zx_order *o) { return pp_order(p->proc, o) ? proc_fault(p) : 0; }

static int ch_position(struct plugin *p, const zx_position *pos)
{
    return pp_position(p->proc, pos) ? proc_fault(p) : 0;
}

static int ch_daily(struct plugin *p, const zx_daily *d) { return pp_daily(p->proc, d) ? proc_fault(p) : 0; }
static int ch_enabled(struct plugin *p) { return pp_enabled(p->proc) ? proc_fault(p) : 0; }
static int ch_disabled(struct plugin *p) { return pp_disabled(p->proc) ? proc_fault(p) : 0; }

static int ch_event(struct plugin *p, int event, const void *payload)
{
    return pp_event(p->proc, event, payload) ? proc_fault(p) : 0;
}

static const struct plugin_ops child_ops = {
    .where = " (own process)", .start = ch_start, .stop = ch_stop, .signal = ch_signal, .order = ch_order,
    .position = ch_position, .daily = ch_daily, .enabled = ch_enabled, .disabled = ch_disabled,
    .event = ch_event,
};

/* The hook registered for event by p's current build, if any, delivered. */
static void call_event(struct plugin *p, int event, const void *payload)
{
    if (p->def && p->host && (p->host->events & (1u << event)))
        p->ops->event(p, event, payload);
}

/* ---- the lifecycle, through p->ops ------------------------------------------------ */

static void call_enabled(struct registry *r, struct plugin *p)
{
    if (p->def && p->def->on_plugin_enabled) {
        HOOK_BEGIN(r);
        p->ops->enabled(p);
        HOOK_END(r);
    }
}

static void call_disabled(struct registry *r, struct plugin *p)
{
    if (p->def && p->def->on_plugin_disabled) {
        HOOK_BEGIN(r);
        p->ops->disabled(p);
        HOOK_END(r);
    }
}

/* Shut a build down. Hooks it raises while shutting down are not delivered to
 * it (its state is gone); the caller drains them to whatever build is current. */
static void unload(struct registry *r, struct plugin *p)
{
    r->depth++;
    if (p->ops && p->def)
        p->ops->stop(p);
    if (p->host)
        p->host->live = 0;
    p->host = NULL;
    p->state = NULL;
    p->def = NULL;
    p->ops = NULL;
    r->depth--;
}

/* The kept copy of p's live (or shadow) build: <data_dir>/.plugin-cache/<id>.<kind>.so */
static const char *kept_build(struct registry *r, const char *id, const char *kind, char *buf, size_t len)
{
    char cdir[600];
    snprintf(buf, len, "%s/%s.%s.so", cache_dir(r, cdir, sizeof cdir), id, kind);
    return buf;
}

/* Load and initialise a build into *b, in this process or in a child as the
 * isolation says; nothing of p changes on failure. src: the build file (NULL =
 * the one p loads: its shadow's copy, the pinned live copy, or
 * plugin_dir/<id>/plugin.so). A live build that starts is kept as <id>.live.so. */
static int start_build(struct registry *r, struct plugin *p, const char *src, struct build *b, char *err,
                       size_t errlen)
{
    char disk[700], keep[700];
    memset(b, 0, sizeof *b);
    if (!src && p->is_shadow)
        src = kept_build(r, p->id, "shadow", disk, sizeof disk);
    else if (!src && p->pinned)
        src = kept_build(r, p->id, "live", disk, sizeof disk);
    else if (!src)
        src = (snprintf(disk, sizeof disk, "%s/plugin.so", p->dir), disk);
    b->src = src;
    b->keep_as = p->is_shadow ? NULL : kept_build(r, p->id, "live", keep, sizeof keep);
    b->ops = r->isolated ? &child_ops : &inproc_ops;
    int rc = b->ops->start(r, p, b, err, errlen);
    b->src = b->keep_as = NULL;     /* pointed into this frame */
    return rc;
}

/* Put a started build in place of whatever p had (already unloaded). */
static void put_build(struct plugin *p, const struct build *b, enum plg_state st, const char *why)
{
    p->ops = b->ops;
    p->dl = b->dl;
    p->def = b->def;
    p->host = b->host;
    p->state = b->state;
    p->proc = b->proc;
    p->reason[0] = '\0';
    p->loaded_ms = app_now_ms();
    set_state(p, st, why);
}

static int persisted_enabled(struct registry *r, const char *id, int def)
{
    sqlite3_stmt *s;
    int v = def;
    if (sqlite3_prepare_v2(r->app->db, "SELECT enabled FROM plugin_state WHERE plugin_id = ?1", -1, &s,
                           NULL) != SQLITE_OK)
        return def;
    sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
    if (sqlite3_step(s) == SQLITE_ROW)
        v = sqlite3_column_int(s, 0);
    sqlite3_finalize(s);
    return v;
}

static int persist_enabled(struct registry *r, const char *id, int en)
{
    sqlite3_stmt *s;
    int rc = -1;
    if (sqlite3_prepare_v2(r->app->db, "INSERT INTO plugin_state (plugin_id, enabled, updated_ms)"
                           " VALUES (?1, ?2, ?3) ON CONFLICT(plugin_id) DO UPDATE SET"
                           " enabled = excluded.enabled, updated_ms = excluded.updated_ms",
                           -1, &s, NULL) != SQLITE_OK)
        return -1;
    sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_int(s, 2, en);
    sqlite3_bind_int64(s, 3, app_now_ms());
    rc = sqlite3_step(s) == SQLITE_DONE ? 0 : -1;
    sqlite3_finalize(s);
    return rc;
}

static void fail_plugin(struct plugin *p, const char *why)
{
    char note[400];
    set_state(p, PLG_FAILED, why);
    sbuf_fmt(p->reason, sizeof p->reason, "%s", why);
    if (p->is_shadow) {         /* the live plugin is not touched (SPEC 12) */
        LOG_E("registry", "shadow of %s failed: %s", p->id, why);
        snprintf(note, sizeof note, "👻 shadow of %s failed: %.*s (the live %s runs on; /unshadow %s)", p->id,
                 (int)sbuf_utf8_prefix(why, 250), why, p->id, p->id);
        if (g_reg && g_reg->app)
            notify_send(g_reg->app, "shadow", note);
        return;
    }
    LOG_E("registry", "plugin %s failed: %s", p->id, why);
    snprintf(note, sizeof note, "⚠️ plugin %s failed: %.*s", p->id, (int)sbuf_utf8_prefix(why, 300), why);
    if (g_reg && g_reg->app) {
        notify_send(g_reg->app, "failures", note);
        size_t n = eng_open_count_of(g_reg->app->eng, p->id);
        if (n)
            chat_orphans(g_reg->app, p->id, 1, n);
    }
}

/* Bring a discovered (or failed) plugin up to its wanted state. */
static int bring_up(struct registry *r, struct plugin *p, int want_enabled, char *err, size_t errlen)
{
    struct build b;
    if (!cfg_valid_plugin_id(p->id)) {
        snprintf(err, errlen, "directory name is not a plugin id ([a-z0-9_], 1..63 characters)");
        fail_plugin(p, err);
        return -1;
    }
    if (!p->ldg) {
        if (ldg_open(r->app->cfg.plugin_system.data_dir, p->id, &p->ldg, err, errlen)) {
            fail_plugin(p, err);
            return -1;
        }
        eng_adopt(r->app->eng, p);   /* its open trades, before its init can ask for them */
    }
    /* Hooks raised by init wait until the build is in place. */
    r->depth++;
    if (start_build(r, p, NULL, &b, err, errlen)) {
        r->depth--;
        fail_plugin(p, err);
        drain(r);
        return -1;
    }
    put_build(p, &b, want_enabled ? PLG_ENABLED : PLG_DISABLED, "loaded");
    LOG_I("registry", "plugin %s %s loaded, %s%s", p->id, b.def->version, reg_state_name(p->st), b.ops->where);
    if (want_enabled)
        call_enabled(r, p);
    r->depth--;
    drain(r);
    if (p->st == PLG_FAILED) {      /* its child died in on_plugin_enabled */
        sbuf_fmt(err, errlen, "%s", p->reason);
        return -1;
    }
    return 0;
}

int reg_init(struct registry *r, struct app *a, char *err, size_t errlen)
{
    char **ids;
    size_t n;
    memset(r, 0, sizeof *r);
    r->app = a;
    g_reg = r;
    svc_fill_api(&r->api);
    r->isolated = strcmp(a->cfg.plugin_system.isolation, "process") == 0;
    r->hook_ms = a->cfg.plugin_system.hook_timeout_ms > 0 ? a->cfg.plugin_system.hook_timeout_ms : 200;
    if (pp_host_path(r->host_bin, sizeof r->host_bin))     /* also /preview's sandbox */
        r->host_bin[0] = '\0';
    if (discover(a->cfg.plugin_system.plugin_dir, &ids, &n, err, errlen))
        return -1;
    r->v = calloc(n ? n : 1, sizeof *r->v);
    for (size_t i = 0; i < n; i++) {
        struct plugin *p = calloc(1, sizeof *p);
        if (!r->v || !p) {
            free(p);
            snprintf(err, errlen, "out of memory");
            break;
        }
        snprintf(p->id, sizeof p->id, "%s", ids[i]);
        snprintf(p->dir, sizeof p->dir, "%s/%s", a->cfg.plugin_system.plugin_dir, ids[i]);
        p->cfg = cfg_plugin(&a->cfg, p->id);
        char key[80], v[8];
        snprintf(key, sizeof key, "pin:%s", p->id);
        p->pinned = store_kv_get(a->db, key, v, sizeof v) == 0 && strcmp(v, "1") == 0;
        r->v[r->n++] = p;
        char e[256];
        bring_up(r, p, persisted_enabled(r, p->id, cfg_plugin_enabled(&a->cfg, p->id)), e, sizeof e);
    }
    for (size_t i = 0; i < n; i++)
        free(ids[i]);
    free(ids);
    return r->v ? 0 : -1;
}

struct plugin *reg_add_new(struct registry *r, const char *id, char *err, size_t errlen)
{
    char path[1200];
    struct stat st;
    const char *dir = r->app->cfg.plugin_system.plugin_dir;
    if (reg_find(r, id)) {
        snprintf(err, errlen, "%s is already known", id);
        return NULL;
    }
    if (!cfg_valid_plugin_id(id) || id[0] == '_') {
        snprintf(err, errlen, "'%.*s' is not a plugin id ([a-z0-9_], 1..63, not starting with _)", (int)sbuf_utf8_prefix(id, 64), id);
        return NULL;
    }
    snprintf(path, sizeof path, "%s/%s/plugin.so", dir, id);
    if (stat(path, &st) != 0 || !S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "no plugin %s: %s does not exist (build it with make)", id, path);
        return NULL;
    }
    struct plugin *p = calloc(1, sizeof *p), **nv = realloc(r->v, (r->n + 1) * sizeof *r->v);
    if (nv)
        r->v = nv;
    if (!p || !nv) {
        free(p);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    snprintf(p->id, sizeof p->id, "%s", id);
    snprintf(p->dir, sizeof p->dir, "%s/%s", dir, id);
    p->cfg = cfg_plugin(&r->app->cfg, p->id);
    size_t at = r->n;                   /* keep r->v sorted for reg_find */
    while (at > 0 && strcmp(r->v[at - 1]->id, id) > 0) {
        r->v[at] = r->v[at - 1];
        at--;
    }
    r->v[at] = p;
    r->n++;
    LOG_I("registry", "new plugin directory %s found", p->dir);
    /* Not in the config at start (that would have been a config error unless
     * its directory existed): disabled unless a state was persisted. */
    bring_up(r, p, persisted_enabled(r, p->id, cfg_plugin_enabled(&r->app->cfg, p->id)), err, errlen);
    return p;
}

void reg_shutdown(struct registry *r)
{
    /* Every build shuts down while every plugin record still exists: a
     * shutdown hook may call the API, which looks the others up. */
    r->depth++;
    for (size_t i = 0; i < r->n; i++) {
        if (r->v[i]->shadow)
            unload(r, r->v[i]->shadow);
        unload(r, r->v[i]);
    }
    for (size_t i = 0; i < r->n; i++) {
        if (r->v[i]->shadow) {
            ldg_close(r->v[i]->shadow->ldg);
            free(r->v[i]->shadow);
        }
        ldg_close(r->v[i]->ldg);
        free(r->v[i]);
    }
    free(r->v);
    while (r->q_head) {     /* raised during shutdown: nobody left to hear them */
        struct reg_event *e = r->q_head;
        r->q_head = e->next;
        free(e);
    }
    while (r->all_hosts) {
        zx_host *h = r->all_hosts;
        r->all_hosts = h->next_all;
        free(h);
    }
    if (g_reg == r)
        g_reg = NULL;
    memset(r, 0, sizeof *r);
}

struct plugin *reg_find(struct registry *r, const char *id)
{
    size_t lo = 0, hi = r->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = strcmp(r->v[mid]->id, id);
        if (c == 0)
            return r->v[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

size_t reg_count_state(const struct registry *r, enum plg_state st)
{
    size_t n = 0;
    for (size_t i = 0; i < r->n; i++)
        n += r->v[i]->st == st;
    return n;
}

int reg_enable(struct registry *r, struct plugin *p, char *err, size_t errlen)
{
    if (p->st == PLG_ENABLED) {
        snprintf(err, errlen, "%s is already enabled", p->id);
        return -1;
    }
    if (persist_enabled(r, p->id, 1)) {
        snprintf(err, errlen, "cannot persist the state: %s", sqlite3_errmsg(r->app->db));
        return -1;
    }
    if (p->st == PLG_FAILED || !p->def)
        return bring_up(r, p, 1, err, errlen);
    set_state(p, PLG_ENABLED, "enabled");
    call_enabled(r, p);
    LOG_I("registry", "plugin %s enabled", p->id);
    return 0;
}

int reg_disable(struct registry *r, struct plugin *p, char *err, size_t errlen)
{
    if (p->st == PLG_DISABLED) {
        snprintf(err, errlen, "%s is already disabled", p->id);
        return -1;
    }
    if (persist_enabled(r, p->id, 0)) {
        snprintf(err, errlen, "cannot persist the state: %s", sqlite3_errmsg(r->app->db));
        return -1;
    }
    if (p->st == PLG_ENABLED)
        call_disabled(r, p);
    if (p->st != PLG_FAILED)
        set_state(p, PLG_DISABLED, "disabled");
    LOG_I("registry", "plugin %s disabled", p->id);
    size_t n = eng_open_count_of(r->app->eng, p->id);
    if (n)
        chat_orphans(r->app, p->id, p->st == PLG_FAILED, n);
    return 0;
}

static double mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

static int set_pinned(struct registry *r, struct plugin *p, int on)
{
    char key[80];
    snprintf(key, sizeof key, "pin:%s", p->id);
    if (store_kv_set(r->app->db, key, on ? "1" : "0")) {
        LOG_E("registry", "cannot persist the pin of %s: %s", p->id, sqlite3_errmsg(r->app->db));
        return -1;
    }
    p->pinned = on;
    return 0;
}

/* Hot reload from the build src (section 8): the new build starts beside the
 * old one, then they swap; on failure the old one keeps running. */
static int reload_from(struct registry *r, struct plugin *p, const char *src, char *old_v, char *new_v, size_t vlen,
                       double *ms, char *err, size_t errlen)
{
    double t0 = mono_ms();
    struct build b;
    sbuf_fmt(old_v, vlen, "%s", p->def ? p->def->version : "(not loaded)");
    /* Hooks raised by the new init or the old shutdown wait for the swap. */
    r->depth++;
    if (start_build(r, p, src, &b, err, errlen)) {
        r->depth--;
        drain(r);
        LOG_W("registry", "reload of %s refused, %s keeps running: %s", p->id, old_v, err);
        return -1;
    }
    int was_enabled = p->st == PLG_ENABLED;
    if (was_enabled)
        call_disabled(r, p);
    unload(r, p);
    put_build(p, &b, was_enabled ? PLG_ENABLED : PLG_DISABLED, "reloaded");
    if (was_enabled)
        call_enabled(r, p);
    r->depth--;
    drain(r);
    sbuf_fmt(new_v, vlen, "%s", b.def->version);
    *ms = mono_ms() - t0;
    LOG_I("registry", "plugin %s reloaded %s -> %s in %.2f ms", p->id, old_v, new_v, *ms);
    return 0;
}

int reg_reload(struct registry *r, struct plugin *p, char *old_v, char *new_v, size_t vlen,
               double *ms, char *err, size_t errlen)
{
    char disk[700];
    snprintf(disk, sizeof disk, "%s/plugin.so", p->dir);
    if (!p->def) {      /* failed or never loaded: a reload is a fresh start, from plugin.so */
        double t0 = mono_ms();
        int want = persisted_enabled(r, p->id, cfg_plugin_enabled(&r->app->cfg, p->id));
        sbuf_fmt(old_v, vlen, "(not loaded)");
        if (p->pinned && set_pinned(r, p, 0)) {
            snprintf(err, errlen, "cannot persist the state: %s", sqlite3_errmsg(r->app->db));
            return -1;
        }
        if (bring_up(r, p, want, err, errlen))
            return -1;
        sbuf_fmt(new_v, vlen, "%s", p->def->version);
        *ms = mono_ms() - t0;
        return 0;
    }
    if (reload_from(r, p, disk, old_v, new_v, vlen, ms, err, errlen))
        return -1;
    if (p->pinned)
        set_pinned(r, p, 0);   /* the build on disk is the live one now */
    return 0;
}

int reg_promote(struct registry *r, struct plugin *p, char *old_v, char *new_v, size_t vlen, double *ms,
                char *err, size_t errlen)
{
    char src[700];
    if (!p->shadow) {
        snprintf(err, errlen, "%s has no shadow (/shadow %s first)", p->id, p->id);
        return -1;
    }
    if (!p->def) {
        snprintf(err, errlen, "%s is not loaded (%s): /reload_plugin %s first", p->id, reg_state_name(p->st), p->id);
        return -1;
    }
    if (reload_from(r, p, kept_build(r, p->id, "shadow", src, sizeof src), old_v, new_v, vlen, ms, err, errlen))
        return -1;
    set_pinned(r, p, 1);        /* a restart loads the promoted build, whatever is on disk */
    return 0;
}

/* Copy src over dst atomically (a private copy renamed into place). */
static int keep_copy(struct registry *r, const char *src, const char *id, const char *dst, char *err, size_t errlen)
{
    char cdir[600], tmp[700];
    if (private_copy(src, cache_dir(r, cdir, sizeof cdir), id, ++r->gen, tmp, sizeof tmp, err, errlen))
        return -1;
    if (rename(tmp, dst) != 0) {
        snprintf(err, errlen, "cannot write %s: %s", dst, strerror(errno));
        unlink(tmp);
        return -1;
    }
    return 0;
}

int reg_shadow_start(struct registry *r, struct plugin *p, struct engine *eng, int restore, char *err,
                     size_t errlen)
{
    char disk[700], kept[700], live[700], db[80];
    struct stat st;
    struct build b;
    if (p->is_shadow || p->shadow) {
        snprintf(err, errlen, "%s has a shadow already (/unshadow %s or /promote %s)", p->id, p->id, p->id);
        return -1;
    }
    snprintf(disk, sizeof disk, "%s/plugin.so", p->dir);
    kept_build(r, p->id, "shadow", kept, sizeof kept);
    if (!restore && keep_copy(r, disk, p->id, kept, err, errlen))
        return -1;
    if (restore && stat(kept, &st) != 0) {
        snprintf(err, errlen, "the shadow's build %s is gone: %s", kept, strerror(errno));
        return -1;
    }
    /* The live build must survive a restart as it is: it is kept as
     * <id>.live.so whenever it loads; pin it. */
    if (!p->pinned && p->def) {
        if (stat(kept_build(r, p->id, "live", live, sizeof live), &st) != 0) {
            snprintf(err, errlen, "the live build's copy %s is missing: /reload_plugin %s first", live, p->id);
            return -1;
        }
        if (set_pinned(r, p, 1)) {
            snprintf(err, errlen, "cannot persist the state: %s", sqlite3_errmsg(r->app->db));
            return -1;
        }
    }
    struct plugin *sh = calloc(1, sizeof *sh);
    if (!sh) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    snprintf(sh->id, sizeof sh->id, "%s", p->id);
    snprintf(sh->dir, sizeof sh->dir, "%s", p->dir);
    sh->cfg = p->cfg;
    sh->is_shadow = 1;
    sh->live = p;
    sh->eng = eng;
    snprintf(db, sizeof db, "%s.shadow", p->id);
    if (ldg_open(r->app->cfg.plugin_system.data_dir, db, &sh->ldg, err, errlen)) {
        free(sh);
        return -1;
    }
    p->shadow = sh;             /* before init: its API calls must resolve */
    eng_adopt(eng, sh);         /* its open trades, from an earlier run */
    r->depth++;
    if (start_build(r, sh, NULL, &b, err, errlen)) {
        r->depth--;
        p->shadow = NULL;
        drain(r);
        ldg_close(sh->ldg);
        free(sh);
        return -1;
    }
    put_build(sh, &b, PLG_ENABLED, "shadow loaded");
    call_enabled(r, sh);
    r->depth--;
    drain(r);
    LOG_I("registry", "plugin %s: shadow %s loaded beside the live %s%s", p->id, b.def->version,
          p->def ? p->def->version : "(not loaded)", b.ops->where);
    return 0;
}

void reg_shadow_stop(struct registry *r, struct plugin *p)
{
    struct plugin *sh = p->shadow;
    if (!sh)
        return;
    unload(r, sh);
    p->shadow = NULL;
    drain(r);
    ldg_close(sh->ldg);
    free(sh);
    LOG_I("registry", "plugin %s: shadow ended", p->id);
}

/* 1 when the files differ in size or bytes, 0 same, -1 unreadable. */
static int files_differ(const char *a, const char *b)
{
    char x[65536], y[65536];
    int fa = open(a, O_RDONLY | O_CLOEXEC), fb = open(b, O_RDONLY | O_CLOEXEC), rc = -1;
    if (fa < 0 || fb < 0)
        goto done;
    for (;;) {
        ssize_t na = read(fa, x, sizeof x), nb = read(fb, y, sizeof y);
        if (na < 0 || nb < 0)
            goto done;
        if (na != nb || memcmp(x, y, (size_t)na) != 0) {
            rc = 1;
            goto done;
        }
        if (na == 0) {
            rc = 0;
            goto done;
        }
    }
done:
    if (fa >= 0)
        close(fa);
    if (fb >= 0)
        close(fb);
    return rc;
}

int reg_disk_differs(struct registry *r, struct plugin *p)
{
    char disk[700], live[700];
    snprintf(disk, sizeof disk, "%s/plugin.so", p->dir);
    return files_differ(disk, kept_build(r, p->id, "live", live, sizeof live));
}

zx_verdict reg_call_signal(struct registry *r, struct plugin *p, zx_signal *sig, char *reason,
                           size_t reason_len)
{
    if (!p->def->on_signal_received)
        return ZX_ACCEPT;
    zx_verdict v;
    HOOK_BEGIN(r);
    if (p->ops->signal(p, sig, &v, reason, reason_len)) {
        sbuf_fmt(reason, reason_len, "plugin failed: %s", p->reason);
        v = ZX_REJECT;
    }
    HOOK_END(r);
    reason[reason_len - 1] = '\0';
    if (v != ZX_REJECT && v != ZX_ACCEPT && v != ZX_HANDLED) {
        snprintf(reason, reason_len, "plugin returned an invalid verdict %d", (int)v);
        return ZX_REJECT;
    }
    return v;
}

static void enqueue(struct registry *r, struct reg_event *e)
{
    if (r->q_tail)
        r->q_tail->next = e;
    else
        r->q_head = e;
    r->q_tail = e;
    if (r->depth == 0)
        drain(r);
}

void reg_post_order(struct registry *r, struct plugin *p, const zx_order *o)
{
    struct reg_event *e = calloc(1, sizeof *e);
    if (!e)
        return;
    e->kind = EV_ORDER;
    snprintf(e->plugin, sizeof e->plugin, "%s", p->id);
    e->shadow = p->is_shadow;
    e->order = *o;
    enqueue(r, e);
}

void reg_post_position(struct registry *r, struct plugin *p, const zx_position *pos)
{
    struct reg_event *e = calloc(1, sizeof *e);
    if (!e)
        return;
    e->kind = EV_POSITION;
    snprintf(e->plugin, sizeof e->plugin, "%s", p->id);
    e->shadow = p->is_shadow;
    e->pos = *pos;
    sbuf_fmt(e->close_reason, sizeof e->close_reason, "%s", pos->close_reason ? pos->close_reason : "");
    e->pos.close_reason = NULL;
    enqueue(r, e);
}

/* Deliver queued hooks to enabled plugins, in order; a hook may queue more. */
static void drain(struct registry *r)
{
    while (r->q_head && r->depth == 0) {
        struct reg_event *e = r->q_head;
        r->q_head = e->next;
        if (!r->q_head)
            r->q_tail = NULL;
        struct plugin *p = reg_find(r, e->plugin);
        if (p && e->shadow)
            p = p->shadow;
        if (p && p->st == PLG_ENABLED && p->def) {
            r->depth++;
            if (e->kind == EV_ORDER && p->def->on_order_placed) {
                p->ops->order(p, &e->order);
            } else if (e->kind == EV_POSITION && p->def->on_position_update) {
                e->pos.close_reason = e->close_reason;
                p->ops->position(p, &e->pos);
            }
            r->depth--;
        }
        free(e);
    }
}

void reg_call_daily(struct registry *r, struct plugin *p, const zx_daily *d)
{
    if (p->st != PLG_ENABLED || !p->def)
        return;
    HOOK_BEGIN(r);
    if (p->def->on_daily_reset)
        p->ops->daily(p, d);
    call_event(p, ZX_EVENT_DAILY_RESET, d);     /* skipped when the child just died */
    HOOK_END(r);
}

/* The persisted state of id in data_dir/zepix.db (read-only): 1, 0, or -1 unknown. */
static int saved_state(const char *data_dir, const char *id)
{
    char path[1100];
    sqlite3 *db = NULL;
    sqlite3_stmt *s = NULL;
    int v = -1;
    snprintf(path, sizeof path, "%s/zepix.db", data_dir);
    if (access(path, R_OK) != 0 || sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
        goto done;
    if (sqlite3_prepare_v2(db, "SELECT enabled FROM plugin_state WHERE plugin_id = ?1", -1, &s, NULL) == SQLITE_OK) {
        sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
        if (sqlite3_step(s) == SQLITE_ROW)
            v = sqlite3_column_int(s, 0);
    }
done:
    sqlite3_finalize(s);
    sqlite3_close(db);
    return v;
}

int reg_list(const char *plugin_dir, const char *data_dir, json_object *plugins_cfg, FILE *out)
{
    char **ids, err[512], cdir[600];
    size_t n;
    int failed = 0;
    if (discover(plugin_dir, &ids, &n, err, sizeof err)) {
        fprintf(out, "%s\n", err);
        return -1;
    }
    snprintf(cdir, sizeof cdir, "%s", data_dir);
    mkdir(cdir, 0750);
    snprintf(cdir, sizeof cdir, "%s/.plugin-cache", data_dir);
    mkdir(cdir, 0700);
    fprintf(out, "%-20s %-28s %-10s %-4s %s\n", "ID", "NAME", "VERSION", "ABI", "STATE");
    for (size_t i = 0; i < n; i++) {
        void *dl = NULL;
        const zx_plugin_def *def = NULL;
        char dir[1200], src[1300], copy[700];
        json_object *pc = NULL, *en = NULL;
        snprintf(dir, sizeof dir, "%s/%s", plugin_dir, ids[i]);
        if (!cfg_valid_plugin_id(ids[i])) {
            fprintf(out, "%-20s %-28s %-10s %-4s failed: directory name is not a plugin id\n", ids[i], "-", "-", "-");
            failed++;
        } else if (snprintf(src, sizeof src, "%s/plugin.so", dir),
                   load_build(src, ids[i], cdir, (uint64_t)i, copy, sizeof copy, &dl, &def, err, sizeof err)) {
            if (copy[0])
                unlink(copy);
            fprintf(out, "%-20s %-28s %-10s %-4s failed: %s\n", ids[i], "-", "-", "-", err);
            failed++;
        } else {
            unlink(copy);
            int enabled = plugins_cfg && json_object_object_get_ex(plugins_cfg, ids[i], &pc) &&
                          json_object_object_get_ex(pc, "enabled", &en) && json_object_get_boolean(en);
            int chat = saved_state(data_dir, ids[i]);   /* a state set from chat wins */
            fprintf(out, "%-20s %-28.28s %-10.10s %-4u %s (%s)\n", ids[i], def->name, def->version,
                    def->abi_version, (chat >= 0 ? chat : enabled) ? "enabled" : "disabled",
                    chat >= 0 ? "set from chat" : "config");
            dlclose(dl);
        }
        free(ids[i]);
    }
    free(ids);
    if (n == 0)
        fprintf(out, "(no plugins in %s)\n", plugin_dir);
    return failed;
}
