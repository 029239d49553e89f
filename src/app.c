/*
 * app — see app.h.
 */
#include "app.h"
#include "api.h"
#include "chart.h"
#include "chat.h"
#include "clock.h"
#include "broker_mt5.h"
#include "broker_paper.h"
#include "engine.h"
#include "engine_orders.h"
#include "engine_async.h"
#include "journal.h"
#include "metrics.h"
#include "notify.h"
#include "risk.h"
#include "scheduler.h"
#include "shadow.h"
#include "webhook.h"
#include "log.h"
#include "store.h"

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

int64_t app_now_ms(void) { return clk_now_ms(); }

int app_add_route(struct app *a, const char *method, const char *path, http_handler fn, void *ud)
{
    return app_add_route_limit(a, method, path, fn, ud, 0);
}

int app_add_route_limit(struct app *a, const char *method, const char *path, http_handler fn, void *ud,
                        size_t max_body)
{
    if (a->n_routes == APP_MAX_ROUTES)
        return -1;
    a->routes[a->n_routes++] = (struct http_route){method, path, fn, ud, max_body};
    return 0;
}

/* ---- the trading core's upward calls (engine.h eng_events, broker.h
 * broker_sink): the one place that ties the engine to the registry, the
 * chats, the metrics and the daily reset ---- */

static struct plugin *ev_find(void *ud, const char *id)
{
    struct app *a = ud;
    return reg_find(&a->reg, id);
}

static struct plugin *ev_plugin_at(void *ud, size_t i)
{
    struct app *a = ud;
    return i < a->reg.n ? a->reg.v[i] : NULL;
}

static int ev_may_open(void *ud, struct plugin *p, char *err, size_t errlen)
{
    struct app *a = ud;
    if (p->st != PLG_ENABLED) {
        snprintf(err, errlen, "%s is %s: it cannot open trades", p->id, reg_state_name(p->st));
        return -1;
    }
    if (a->paused) {
        snprintf(err, errlen, "trading is paused (/resume to open trades again)");
        return -1;
    }
    return 0;
}

int64_t app_day_from(struct app *a)
{
    int64_t at = 0, day;
    if (sched_prev_reset(a->cfg.daily_reset.timezone, a->cfg.daily_reset.seconds, app_now_ms(), &at, &day))
        return 0;
    return at;
}

static int64_t ev_day_from(void *ud)
{
    return app_day_from(ud);
}

int app_on_quote(struct app *a, const char *symbol, double bid, double ask, char *err, size_t errlen)
{
    if (eng_on_quote(a->eng, symbol, bid, ask, err, errlen))
        return -1;
    shd_quote(a, symbol, bid, ask);
    return 0;
}

static void ev_order_placed(void *ud, struct plugin *p, const zx_order *o)
{
    struct app *a = ud;
    reg_post_order(&a->reg, p, o);
}

static void ev_position_update(void *ud, struct plugin *p, const zx_position *pos)
{
    struct app *a = ud;
    reg_post_position(&a->reg, p, pos);
}

static void ev_order_result(void *ud, const char *plugin_id, int ok)
{
    metrics_order(ud, plugin_id, ok);
}

static void ev_note(void *ud, const char *kind, const char *text)
{
    if (kind)
        notify_send(ud, kind, text);    /* logs it too */
    else
        chat_notify(ud, text);
}

static void sink_result(void *ud, const struct broker_result *r)
{
    struct app *a = ud;
    eng_broker_result(a->eng, r);
}

static void sink_sync(void *ud, const struct broker_position *pos, int npos, const struct broker_closed *closed,
                      int nclosed)
{
    struct app *a = ud;
    eng_broker_sync(a->eng, pos, npos, closed, nclosed);
}

static void sink_orders(void *ud, const struct broker_order *ord, int nord, const struct broker_position *pos, int npos)
{
    struct app *a = ud;
    eng_broker_orders(a->eng, ord, nord, pos, npos);
}

static int sink_knows_ticket(void *ud, int64_t ticket)
{
    struct app *a = ud;
    return eng_knows_ticket(a->eng, ticket);
}

static int sink_quote(void *ud, const char *symbol, double bid, double ask, char *err, size_t errlen)
{
    return app_on_quote(ud, symbol, bid, ask, err, errlen);
}

static void sink_note(void *ud, const char *text)
{
    chat_notify(ud, text);
}

/* Working orders expire on time, also without quotes (engine_orders.h). */
static void on_orders_tick(struct ev_loop *loop, ev_timer *w, int revents)
{
    struct app *a = w->data;
    (void)loop;
    (void)revents;
    eng_orders_tick(a->eng);
    for (size_t i = 0; i < a->reg.n; i++)   /* the shadows' own paper engines */
        if (a->reg.v[i]->shadow)
            eng_orders_tick(a->reg.v[i]->shadow->eng);
}

int app_core_start(struct app *a, char *err, size_t errlen)
{
    struct broker *brk;
    if (strcmp(a->cfg.broker.kind, "mt5") == 0) {
        struct broker_sink sink = {.ud = a, .result = sink_result, .sync = sink_sync, .orders = sink_orders,
                                   .knows_ticket = sink_knows_ticket, .quote = sink_quote, .note = sink_note};
        if (!(brk = mt5_new(a->loop, a->db, &a->cfg, &sink, err, errlen)))
            return -1;
        if (app_add_route_limit(a, "POST", "/mt5/poll", mt5_on_poll, brk->self, MT5_MAX_BODY)) {
            snprintf(err, errlen, "mt5 bridge: too many routes");
            brk->ops->destroy(brk->self);
            return -1;
        }
    } else if (!(brk = paper_new(&a->cfg, err, errlen))) {
        return -1;
    }
    struct eng_events ev = {.ud = a, .find = ev_find, .plugin_at = ev_plugin_at, .may_open = ev_may_open,
                            .day_from = ev_day_from, .order_placed = ev_order_placed,
                            .position_update = ev_position_update, .order_result = ev_order_result,
                            .note = ev_note};
    a->eng = eng_new(&a->cfg, brk, a->risk, &ev, err, errlen);
    if (!a->eng)
        return -1;
    ev_timer_init(&a->orders_tick, on_orders_tick, 1., 1.);
    a->orders_tick.data = a;
    ev_timer_start(a->loop, &a->orders_tick);
    return 0;
}

static void on_healthz(void *ud, http_req *req)
{
    struct app *a = ud;
    char body[128];
    snprintf(body, sizeof body, "{\"ok\":true,\"uptime_s\":%lld,\"plugins_enabled\":%d}",
             (long long)(ev_now(a->loop) - a->started_mono), (int)reg_count_state(&a->reg, PLG_ENABLED));
    http_reply_json(req, 200, body);
}

int app_set_paused(struct app *a, int paused)
{
    if (store_kv_set(a->db, "paused", paused ? "1" : "0")) {
        LOG_E("app", "cannot persist the pause flag: %s", sqlite3_errmsg(a->db));
        return -1;
    }
    a->paused = paused;
    LOG_I("app", "trading %s", paused ? "paused" : "resumed");
    return 0;
}

static void on_stop_tick(struct ev_loop *loop, ev_timer *w, int revents)
{
    struct app *a = w->data;
    (void)revents;
    /* In-flight requests (suspended for a group commit) and queued chat
     * replies finish first, within the 2-second promise. */
    if ((http_pending(a->http) == 0 && chat_pending(a) == 0) || ev_now(loop) >= a->stop_deadline) {
        if (chat_pending(a))
            LOG_W("app", "%zu chat message(s) not sent before the stop deadline", chat_pending(a));
        ev_timer_stop(loop, w);
        ev_break(loop, EVBREAK_ALL);
    }
}

void app_stop(struct app *a)
{
    if (a->stopping)
        return;
    a->stopping = 1;
    LOG_I("app", "stopping: no new webhooks, finishing in-flight work");
    http_set_draining(a->http, 1);
    eng_quiesce(a->eng);        /* a held MT5 poll is answered now */
    chat_app_stop(a);
    a->stop_deadline = ev_now(a->loop) + 1.5;
    ev_timer_init(&a->stop_timer, on_stop_tick, 0., 0.01);
    a->stop_timer.data = a;
    ev_timer_start(a->loop, &a->stop_timer);
}

static void on_signal(struct ev_loop *loop, ev_signal *w, int revents)
{
    (void)loop;
    (void)revents;
    LOG_I("app", "signal %d received", w->signum);
    app_stop(w->data);
}

/* SPEC 12: one daemon per data dir. flock() on <data_dir>/zepix.lock, held
 * until exit (the kernel drops it with the process, also after kill -9); the
 * file holds the holder's pid for the message. Before any database is opened. */
static int lock_data_dir(struct app *a, char *err, size_t errlen)
{
    const char *dir = a->cfg.plugin_system.data_dir;
    char path[600], pid[32] = "";
    if (mkdir(dir, 0750) != 0 && errno != EEXIST) {
        snprintf(err, errlen, "plugin_system.data_dir %s: cannot create: %s", dir, strerror(errno));
        return -1;
    }
    snprintf(path, sizeof path, "%s/zepix.lock", dir);
    a->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0640);
    if (a->lock_fd < 0) {
        snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        return -1;
    }
    if (flock(a->lock_fd, LOCK_EX | LOCK_NB) != 0) {
        ssize_t n = pread(a->lock_fd, pid, sizeof pid - 1, 0);
        pid[n > 0 ? n : 0] = '\0';
        pid[strcspn(pid, "\n")] = '\0';
        snprintf(err, errlen, "data dir %s is in use by another zepix%s%s%s (%s is locked); one daemon per "
                 "data dir", dir, pid[0] ? " (pid " : "", pid, pid[0] ? ")" : "", path);
        close(a->lock_fd);
        a->lock_fd = -1;
        return -1;
    }
    snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
    if (ftruncate(a->lock_fd, 0) != 0 || pwrite(a->lock_fd, pid, strlen(pid), 0) < 0)
        LOG_W("app", "%s: cannot write the pid: %s", path, strerror(errno));
    return 0;
}

int app_init(struct app *a, const char *config_path, int *exit_code, char *err, size_t errlen)
{
    memset(a, 0, sizeof *a);
    a->lock_fd = -1;
    *exit_code = 2;
    if (cfg_load(config_path, &a->cfg, err, errlen))
        return -1;
    enum lg_level lvl;
    if (log_parse_level(a->cfg.log_level, &lvl) == 0)
        log_set_level(lvl);
    log_add_secret(a->cfg.telegram.token);
    log_add_secret(a->cfg.webhook.secret);
    log_add_secret(a->cfg.broker.mt5_secret);
    log_add_secret(a->cfg.api.token);

    *exit_code = 1;
    a->loop = ev_default_loop(EVFLAG_AUTO);
    if (!a->loop) {
        snprintf(err, errlen, "cannot create the event loop");
        return -1;
    }
    a->started_mono = ev_now(a->loop);
    a->started_ms = app_now_ms();
    if (lock_data_dir(a, err, errlen))
        return -1;
    if (store_host_open(a->cfg.plugin_system.data_dir, &a->db, err, errlen))
        return -1;
    if (!(a->risk = risk_new(a->db, &a->cfg))) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    char v[8];
    a->paused = store_kv_get(a->db, "paused", v, sizeof v) == 0 && strcmp(v, "1") == 0;
    if (!(a->curl = cev_new(a->loop, err, errlen)))
        return -1;

    if (app_core_start(a, err, errlen))
        return -1;

    /* The listener is bound before any plugin starts: a daemon that cannot
     * have its port must fail before it runs plugin code on the databases. */
    app_add_route(a, "GET", "/healthz", on_healthz, a);
    if (webhook_register(a) || api_register(a)) {
        snprintf(err, errlen, "webhook.path %s: conflicts with another route", a->cfg.webhook.path);
        *exit_code = 2;
        return -1;
    }

    const char *ips[CFG_MAX_IPS];
    for (size_t i = 0; i < a->cfg.webhook.n_allowed_ips; i++)
        ips[i] = a->cfg.webhook.allowed_ips[i];
    struct http_opts ho = {
        .host = a->cfg.webhook.host,
        .port = a->cfg.webhook.port,
        .max_body = a->cfg.webhook.max_body_bytes,
        .max_connections = a->cfg.webhook.max_connections,
        .per_ip_connections = a->cfg.webhook.per_ip_connections,
        .timeout_s = a->cfg.webhook.read_timeout_s,
        .allowed_ips = ips,
        .n_allowed_ips = a->cfg.webhook.n_allowed_ips,
        .routes = a->routes,
        .n_routes = a->n_routes,
    };
    char e[256];
    if (!(a->http = http_start(a->loop, &ho, e, sizeof e))) {
        snprintf(err, errlen, "webhook.listen %s: %s", a->cfg.webhook.listen, e);
        return -1;
    }
    LOG_I("app", "listening on %s%s%s:%d", strchr(a->cfg.webhook.host, ':') ? "[" : "",
          a->cfg.webhook.host, strchr(a->cfg.webhook.host, ':') ? "]" : "", http_port(a->http));

    if (reg_init(&a->reg, a, err, errlen) || jrn_init(a, err, errlen))
        return -1;
    shd_restore(a);             /* shadows survive a restart (SPEC 12) */

    if (chat_app_start(a, err, errlen))
        return -1;
    if (sched_start(a, err, errlen))    /* last: a missed reset reports through chat */
        return -1;

    ev_signal_init(&a->sigint, on_signal, SIGINT);
    ev_signal_init(&a->sigterm, on_signal, SIGTERM);
    a->sigint.data = a->sigterm.data = a;
    ev_signal_start(a->loop, &a->sigint);
    ev_signal_start(a->loop, &a->sigterm);
    *exit_code = 0;
    return 0;
}

int app_run(struct app *a)
{
    LOG_I("app", "zepix %s running (broker %s, data in %s)", ZEPIX_VERSION, a->cfg.broker.kind,
          a->cfg.plugin_system.data_dir);
    ev_run(a->loop, 0);
    return a->exit_code;
}

void app_free(struct app *a)
{
    sched_free(a);
    chat_app_free(a);
    jrn_free(a);                /* answers what is still queued (503) */
    if (a->http)
        http_stop(a->http);
    if (a->reg.app) {
        shd_shutdown(a);        /* the shadows' builds and engines; they come back at the next start */
        reg_shutdown(&a->reg);
    }  /* every plugin's shutdown() (may use the API), databases closed */
    if (a->loop)
        ev_timer_stop(a->loop, &a->orders_tick);
    eng_free(a->eng);
    a->eng = NULL;
    metrics_free(a);
    if (a->curl)
        cev_free(a->curl);
    if (a->loop) {
        ev_signal_stop(a->loop, &a->sigint);
        ev_signal_stop(a->loop, &a->sigterm);
    }
    risk_free(a->risk);
    if (a->db)
        store_close(a->db);
    if (a->lock_fd >= 0)
        close(a->lock_fd);      /* the lock goes with it; the file stays */
    cfg_free(&a->cfg);
    chart_cleanup();            /* cairo's and fontconfig's caches (daily reset, /chart) */
    log_clear_secrets();
    memset(a, 0, sizeof *a);
}
