/*
 * plugin_proc — the controller side of isolation "process": one plugin in a
 * child process of its own (fork + exec of zepix-plugin-host, see
 * plugin_host_main.c), spoken to over a socketpair with the frames of
 * plugin_wire.h.
 *
 * Every call is synchronous: the controller sends the hook and waits for its
 * answer with poll() up to timeout_ms, serving the API requests the plugin
 * makes meanwhile (through the in-process zx_api table with the plugin's
 * zx_host, so every check of service_api.c applies). The wait blocks the event
 * loop for at most timeout_ms, the bound a slow hook has in "none" mode too.
 *
 * The child gets exactly these descriptors: 0 /dev/null, 1 and 2 one pipe whose
 * lines the loop logs as "plugin <id>: ..." (control characters replaced,
 * rate-limited: a flood is dropped and counted, never read faster than the
 * budget), 3 the protocol socket; it opens its own database. Everything else
 * is closed before exec, and RLIMIT_NOFILE (64), RLIMIT_AS (1 GiB; not in
 * sanitizer builds) and RLIMIT_CORE (0) are set.
 *
 * A child that dies, overruns its deadline or breaks the protocol is killed
 * (SIGKILL) and reaped; the call returns -1 and pp_cause() says what happened.
 * A failed pproc answers every later call with -1; pp_free() it.
 */
#ifndef ZEPIX_PLUGIN_PROC_H
#define ZEPIX_PLUGIN_PROC_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "zepix_plugin.h"

struct pproc;

/* Start the host for dir/plugin.so, wait for its init (serving its API
 * requests with api and host). On success *out holds the running plugin and
 * pp_def() a definition whose id/name/version/author are the plugin's and
 * whose hooks are non-NULL exactly where the plugin has them (never call them:
 * call pp_* instead). On failure err says why (init failed, load refused, or
 * the child's fate) and nothing is left running. db_name: the child's database
 * is data_dir/zepix_<db_name>.db (NULL = id; "<id>.shadow" for a shadow). */
int pp_start(const char *host_bin, const char *so_path, const char *id, const char *db_name, const char *data_dir,
             const char *config_json, int timeout_ms, zx_host *host, const zx_api *api,
             struct pproc **out, char *err, size_t errlen);

const zx_plugin_def *pp_def(const struct pproc *pp);
const char *pp_cause(const struct pproc *pp);      /* "" unless failed */
pid_t pp_pid(const struct pproc *pp);

/* The hooks: 0, or -1 when the child failed (it is dead now). */
int pp_signal(struct pproc *pp, zx_signal *sig, zx_verdict *v, char *reason, size_t reason_len);
int pp_order(struct pproc *pp, const zx_order *o);
int pp_position(struct pproc *pp, const zx_position *pos);
int pp_daily(struct pproc *pp, const zx_daily *d);
int pp_enabled(struct pproc *pp);
int pp_disabled(struct pproc *pp);
/* The hook the plugin registered for event (api->register_hook in its init),
 * with that event's payload (ZX_EVENT_DAILY_RESET: a zx_daily). pp_events():
 * bit e set when it registered one for event e. */
int pp_event(struct pproc *pp, int event, const void *payload);
uint32_t pp_events(const struct pproc *pp);

/* Shut the plugin down (its shutdown hook, within the deadline) and reap the
 * child; then free. A failed pproc is just freed. */
void pp_stop(struct pproc *pp);
void pp_free(struct pproc *pp);

/* Watch the socket on loop while no call is in progress: a child that dies
 * between hooks (or sends a frame nobody asked for) is killed, reaped and the
 * pproc failed at once, then cb(pp, data) runs so the owner can react (and
 * pp_free it). Without a watch such a death is noticed at the next call. */
struct ev_loop;
typedef void (*pp_idle_cb)(struct pproc *pp, void *data);
void pp_watch(struct pproc *pp, struct ev_loop *loop, pp_idle_cb cb, void *data);

/* The plugin host binary: $ZEPIX_PLUGIN_HOST, else zepix-plugin-host beside
 * this executable, one directory up (tests run from build/tests), or in
 * ../lib/zepix/ (the layout of make install). */
int pp_host_path(char *out, size_t len);

#endif
