/*
 * registry — the plugin lifecycle of SPEC section 8: DISCOVERY (directories of
 * plugin_dir not starting with '_' that hold plugin.so), LOADING (dlopen of a
 * private copy, RTLD_NOW | RTLD_LOCAL, the zx_plugin_entry symbol, ABI and id
 * checks), INITIALIZATION (the plugin's own database and config, init()),
 * RUNNING (hooks, in id order), SHUTDOWN (shutdown(), database closed, dlclose).
 * Hot reload loads and initialises the new build beside the old one and swaps
 * only when that succeeded.
 *
 * Host handles (zx_host) are never freed while the daemon runs: a plugin that
 * keeps a stale handle after a reload is refused and logged, never crashes us.
 * Order and position hooks raised while a plugin's hook is running are queued
 * and delivered when the outermost hook returns, so a plugin is never re-entered.
 *
 * Runs on the loop thread. With plugin_system.isolation "none" a plugin runs in
 * this process: a crash in its code is not contained. With "process" (the default) each
 * plugin runs in a confined child (plugin_proc.h): p->proc is set, p->dl and
 * p->state are NULL, p->def is a stand-in naming the plugin's hooks, and every
 * hook goes over the socket. A child that crashes, hangs past hook_timeout_ms
 * or breaks the protocol is killed and its plugin marked failed with the cause
 * (admin chats told); its trades stay in its ledger; enable or reload starts it
 * again.
 *
 * Both isolations are one table of hook calls, struct plugin_ops (registry.c:
 * inproc_ops and child_ops): the lifecycle code never asks which one a
 * plugin runs in. Every state change goes through one setter that logs
 * "plugin <id>: <old> -> <new> (<why>)".
 */
#ifndef ZEPIX_REGISTRY_H
#define ZEPIX_REGISTRY_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <json-c/json.h>
#include "ledger.h"
#include "zepix_plugin.h"

struct app;

enum plg_state { PLG_LOADED, PLG_ENABLED, PLG_DISABLED, PLG_FAILED };

struct plugin;
struct engine;
struct plugin_ops;
struct pproc;

#define REG_EVENT_MAX ZX_EVENT_DAILY_RESET    /* the highest ZX_EVENT_* this host delivers */

/* One per build (a reload issues a new one): the hooks registered through
 * api->register_hook belong to the build that registered them. */
struct zx_host {
    uint32_t magic;
    int live;                       /* 0 once its plugin build is unloaded */
    struct plugin *p;               /* valid only while live */
    struct zx_host *next_all;       /* every handle ever issued */
    int in_init;                    /* its init runs: register_hook is accepted ("none") */
    uint32_t events;                /* bit e set: a hook is registered for event e */
    zx_hook_fn fn[REG_EVENT_MAX + 1];   /* "none": the registered functions */
};

struct plugin {
    char id[64];
    char last_warn[200];            /* its last warning or error through the API (a failed
                                     * init's reason) */
    char dir[600];
    const struct plugin_ops *ops;   /* how its build is reached (in process, in its child);
                                     * NULL when not loaded */
    void *dl;                       /* NULL when not loaded (and in "process" mode) */
    struct pproc *proc;             /* "process" mode: its child, NULL when not running */
    const zx_plugin_def *def;       /* NULL when not loaded */
    void *state;                    /* the plugin's own, from init */
    zx_host *host;
    ledger *ldg;                    /* its database; survives reloads */
    json_object *cfg;               /* plugins.<id>, borrowed from the config (may be NULL) */
    enum plg_state st;              /* changed by registry.c's set_state() only (logged) */
    char reason[256];               /* why it failed */
    int batch_failed;               /* its trades of the last batch were not committed */
    char batch_err[160];
    int64_t loaded_ms;
    /* Shadows (SPEC 12 "Shadow", shadow.h): a shadow is a second record of the
     * same id, loaded from the build that was on disk at /shadow, trading on an
     * engine and paper broker of its own; it is in no list but its live one's. */
    int is_shadow;
    struct plugin *live;            /* is_shadow: its live plugin (borrowed) */
    struct plugin *shadow;          /* live: its shadow (owned by the registry), NULL = none */
    struct engine *eng;             /* the engine it trades on; NULL = the daemon's (app->eng) */
    int pinned;                     /* live: a restart loads the kept copy of the live build */
};

struct reg_event;

struct registry {
    struct app *app;
    struct plugin **v;              /* sorted by id */
    size_t n;
    zx_host *all_hosts;
    zx_api api;
    int depth;                      /* hook nesting */
    struct reg_event *q_head, *q_tail;
    uint64_t gen;
    int isolated;                   /* plugin_system.isolation is "process" */
    int hook_ms;                    /* plugin_system.hook_timeout_ms */
    char host_bin[1024];            /* zepix-plugin-host, "" when not found */
};

/* Discover, load, initialise, restore persisted states. Plugins that fail are
 * kept as PLG_FAILED with a reason; only a broken plugin directory is an error. */
int reg_init(struct registry *r, struct app *a, char *err, size_t errlen);
void reg_shutdown(struct registry *r);

struct plugin *reg_find(struct registry *r, const char *id);
/* A plugin directory that appeared after the start (plugin_dir/<id>/plugin.so):
 * added to the registry and brought up, disabled unless a state was persisted
 * for it. NULL with the reason in err when there is no such build; otherwise
 * the plugin, whose state says whether it loaded (err: why not). */
struct plugin *reg_add_new(struct registry *r, const char *id, char *err, size_t errlen);
size_t reg_count_state(const struct registry *r, enum plg_state st);
const char *reg_state_name(enum plg_state st);

/* Change state, call the hook, persist. 0, or -1 with a reason. Enabling a
 * failed plugin loads it again. */
int reg_enable(struct registry *r, struct plugin *p, char *err, size_t errlen);
int reg_disable(struct registry *r, struct plugin *p, char *err, size_t errlen);

/* Hot reload (SPEC section 8). On success old_v/new_v hold the versions and
 * *ms the time taken; on failure the old build keeps running and err says why. */
int reg_reload(struct registry *r, struct plugin *p, char *old_v, char *new_v, size_t vlen,
               double *ms, char *err, size_t errlen);

/* Shadows (SPEC 12). The registry keeps two copies of builds in
 * <data_dir>/.plugin-cache: <id>.live.so, written whenever a live build loads
 * (the build that is live, whatever happens to plugin.so since), and
 * <id>.shadow.so, the build on disk when /shadow was given.
 * reg_shadow_start: copy plugin_dir/<id>/plugin.so to <id>.shadow.so (restore
 * = 1: use the copy kept from before a restart), pin the live build (a restart
 * loads <id>.live.so while pinned), and load it as p's shadow trading on eng
 * (owned by the caller; the shadow's ledger is zepix_<id>.shadow.db).
 * reg_shadow_stop: unload and forget p's shadow (its ledger file stays).
 * reg_promote: hot-reload p from <id>.shadow.so (section 8 rules); the shadow
 * itself is the caller's to stop. A reload (reg_reload) loads plugin.so and
 * unpins. 0, or -1 with err. */
int reg_shadow_start(struct registry *r, struct plugin *p, struct engine *eng, int restore, char *err,
                     size_t errlen);
void reg_shadow_stop(struct registry *r, struct plugin *p);
int reg_promote(struct registry *r, struct plugin *p, char *old_v, char *new_v, size_t vlen, double *ms,
                char *err, size_t errlen);
/* 1 when plugin_dir/<id>/plugin.so differs from the build p runs, 0 same, -1 unknown. */
int reg_disk_differs(struct registry *r, struct plugin *p);

/* Hooks. The signal hook is direct; the others are deferred while a hook runs. */
zx_verdict reg_call_signal(struct registry *r, struct plugin *p, zx_signal *sig, char *reason,
                           size_t reason_len);
void reg_post_order(struct registry *r, struct plugin *p, const zx_order *o);
void reg_post_position(struct registry *r, struct plugin *p, const zx_position *pos);
void reg_call_daily(struct registry *r, struct plugin *p, const zx_daily *d);

/* api->register_hook of a plugin in this process (service_api.c): 0, or -1
 * with the reason in err (unknown event, NULL fn, not during init). */
int reg_register_hook(zx_host *h, int event, zx_hook_fn fn, char *err, size_t errlen);

/* The daemon of the process's registry (service API calls act on it). */
struct app *reg_app(void);

/* The live plugin behind a handle, or NULL (stale or foreign: logged). */
struct plugin *reg_check_host(struct registry *r, zx_host *h, const char *call);

/* --list-plugins / --check-config: discover and load (no init), print one line
 * per plugin. Returns the number of plugins that failed to load. */
int reg_list(const char *plugin_dir, const char *data_dir, json_object *plugins_cfg, FILE *out);

#endif
