/*
 * app — the daemon's wiring: one libev loop, the configuration, the host
 * database, the HTTP listener and its route table, the curl glue, and the
 * orderly shutdown on SIGINT/SIGTERM (stop accepting, finish in-flight work,
 * shut plugins down, close databases, exit 0 within 2 seconds).
 *
 * struct app owns everything it points to; app_free() releases it in reverse.
 */
#ifndef ZEPIX_APP_H
#define ZEPIX_APP_H

#include <ev.h>
#include <sqlite3.h>
#include <stdint.h>
#include "config.h"
#include "curlev.h"
#include "http.h"
#include "registry.h"

#define APP_MAX_ROUTES 16
#define ZEPIX_VERSION "0.1.0"

struct app {
    struct ev_loop *loop;
    struct config cfg;
    sqlite3 *db;                        /* data/zepix.db */
    http_server *http;
    cev *curl;
    struct chat_state *chat;            /* Telegram + console, owned (chat.c) */
    struct registry reg;                /* plugins */
    struct engine *eng;                 /* trades and the broker (engine.c), wired in app.c */
    struct journal *jrn;                /* the signal journal (journal.c) */
    struct metrics *metrics;            /* counters (metrics.c) */
    struct scheduler *sched;            /* the daily reset (scheduler.c) */
    struct http_route routes[APP_MAX_ROUTES];
    size_t n_routes;
    double started_mono;                /* ev_now at start, seconds */
    int64_t started_ms;                 /* wall clock at start */
    ev_signal sigint, sigterm;
    ev_timer stop_timer;
    ev_timer orders_tick;               /* 1 s: working orders expire (engine_orders.h) */
    double stop_deadline;
    int stopping;
    int exit_code;
    int paused;                         /* no new trades open; persisted in kv "paused" */
    int in_batch;                       /* a group commit's ledger transactions are open (dispatch.c) */
    struct risk *risk;                  /* the money guard (risk.h) */
    int lock_fd;                        /* <data_dir>/zepix.lock, flock()ed; -1 = none */
};

/* Load config, open storage, start the listener. 0, or -1 with err; *exit_code
 * tells the CLI status (2 configuration, 1 runtime). */
int app_init(struct app *a, const char *config_path, int *exit_code, char *err, size_t errlen);
/* Run the loop until a signal stops it; returns the process exit status. */
int app_run(struct app *a);
void app_free(struct app *a);

/* Add a route before app_init starts the listener (called from app_init). */
int app_add_route(struct app *a, const char *method, const char *path, http_handler fn, void *ud);
/* The same with its own body limit (bytes) instead of webhook.max_body_bytes. */
int app_add_route_limit(struct app *a, const char *method, const char *path, http_handler fn, void *ud,
                        size_t max_body);

/* The broker broker.kind names and the engine trading on it (a->eng), wired
 * to the registry, the chats, the metrics and the daily reset; the MT5 bridge's
 * route. Called by app_init after the host database is open (a->db, a->risk);
 * 0, or -1 with err. */
int app_core_start(struct app *a, char *err, size_t errlen);

/* When the current trading day began (the last daily reset), ms; 0 unknown. */
int64_t app_day_from(struct app *a);
/* A quote for the live engine and every shadow's (POST /price, the terminal).
 * 0, or -1 with the reason. */
int app_on_quote(struct app *a, const char *symbol, double bid, double ask, char *err, size_t errlen);

/* Begin the orderly stop (signal handler, tests). */
void app_stop(struct app *a);

int64_t app_now_ms(void);

/* Pause or resume opening new trades (closing always works); persisted. 0/-1. */
int app_set_paused(struct app *a, int paused);

#endif
