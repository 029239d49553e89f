/*
 * engine — the position book and the order operations: opening (lot rules,
 * the money guard, broker fill, trade row, the order-placed event), closing
 * (broker, trade row with pips and money, the position event), SL/TP changes
 * and quotes (SL/TP hits and a position event for every trade a quote moves).
 * What an asynchronous broker reports later is engine_async.h; one signal to
 * every plugin is dispatch.h.
 *
 * Layering: the engine knows the brokers only through broker_ops (broker.h)
 * and its owner only through struct eng_events, which the owner (app.c) fills:
 * it includes no chat, HTTP, metrics or broker module, and tests/test_engine.c
 * links it with SQLite, json-c and libev only.
 *
 * The position cache mirrors the OPEN/PARTIAL rows of every plugin's ledger; it
 * is rebuilt from them at start, so nothing lives only in memory.
 * Runs on the loop thread; broker calls never block.
 */
#ifndef ZEPIX_ENGINE_H
#define ZEPIX_ENGINE_H

#include <stddef.h>
#include <stdint.h>
#include "broker.h"
#include "config.h"
#include "registry.h"
#include "signal.h"

struct engine;
struct risk;
struct risk_figures;

/* The lot cap of a plugin whose config has no max_lot_size (an explicit 0
 * turns the cap off). A missing or misspelt key must not mean "no limit". */
#define ENG_DEFAULT_MAX_LOT 1.0

/* What the engine needs of its owner and tells it; every member is set. The
 * plugins are the owner's (borrowed for the duration of a call). */
struct eng_events {
    void *ud;
    /* The plugin with this id, or NULL. */
    struct plugin *(*find)(void *ud, const char *plugin_id);
    /* The i-th plugin (any order, stable during a call), NULL past the last. */
    struct plugin *(*plugin_at)(void *ud, size_t i);
    /* May p open a trade now (its state, trading paused)? 0, or -1 with the
     * reason in err. */
    int (*may_open)(void *ud, struct plugin *p, char *err, size_t errlen);
    /* When the current trading day began (ms; the daily reset), 0 = unknown. */
    int64_t (*day_from)(void *ud);
    /* A trade was opened (filled): the plugin's on_order_placed. */
    void (*order_placed)(void *ud, struct plugin *p, const zx_order *o);
    /* A trade moved or closed: the plugin's on_position_update. */
    void (*position_update)(void *ud, struct plugin *p, const zx_position *pos);
    /* An order of plugin_id was sent (ok 1) or refused (ok 0), for metrics. */
    void (*order_result)(void *ud, const char *plugin_id, int ok);
    /* A line for the chats: kind "trades" (muteable, SPEC 12), or NULL for one
     * the admins always get. Logged by the owner. */
    void (*note)(void *ud, const char *kind, const char *text);
};

/* A new engine trading on brk (owned from now on, also when NULL is returned:
 * eng_free destroys it). cfg (symbols, risk) and risk (the money guard) are
 * borrowed and must outlive the engine; risk NULL = no money guard (a shadow's
 * engine, shadow.h). *ev is copied. NULL with err. */
struct engine *eng_new(const struct config *cfg, struct broker *brk, struct risk *risk,
                       const struct eng_events *ev, char *err, size_t errlen);
void eng_free(struct engine *e);
/* Take over a plugin's open trades and realised profit from its ledger (once,
 * when its database is opened). */
void eng_adopt(struct engine *e, struct plugin *p);
/* Rebuild the open positions and realised profit from every plugin's ledger
 * (after a failed batch: what is not on disk did not happen). */
void eng_resync(struct engine *e);

/* Trades p opens while its hook runs for signal_id carry that signal id. */
void eng_scope_begin(struct engine *e, struct plugin *p, int64_t signal_id);
/* The scope ends; returns the first trade p opened in it (0 = none). */
int64_t eng_scope_end(struct engine *e);

int eng_open(struct engine *e, struct plugin *p, const zx_order_req *req, zx_order *out, char *err,
             size_t errlen);
int eng_close(struct engine *e, struct plugin *p, int64_t trade_id, double lot, const char *reason,
              char *err, size_t errlen);
/* Close p's open trades that action names on symbol: ZX_CLOSE (all on
 * symbol), ZX_CLOSE_LONG, ZX_CLOSE_SHORT, SIG_CLOSE_ALL (every symbol).
 * Counts what closed (or was sent) and failed; *first = the first closed trade;
 * err = the last failure. */
void eng_close_where(struct engine *e, struct plugin *p, zx_action action, const char *symbol, const char *reason,
                     int *closed, int *failed, int64_t *first, char *err, size_t errlen);
int eng_modify(struct engine *e, struct plugin *p, int64_t trade_id, double sl, double tp, char *err,
               size_t errlen);
/* Open trades of p (all plugins when p is NULL) valued at the last quote. */
int eng_positions(struct engine *e, struct plugin *p, zx_position *out, int max);
size_t eng_open_count(struct engine *e);
size_t eng_open_count_of(struct engine *e, const char *plugin_id);
/* Today's risk figures of plugin p (the account when NULL), for /risk. */
int eng_risk_figures(struct engine *e, struct plugin *p, const char *symbol, struct risk_figures *f);
/* The lot eng_open would send for a requested lot: capped by the plugin's
 * max_lot_size and the symbol's max_lot, rounded down to its volume step. */
double eng_order_lot(struct engine *e, struct plugin *p, const char *symbol, double lot);
/* The plugin's default_lot (0.01) and max_lot_size (ENG_DEFAULT_MAX_LOT; 0 = no cap). */
double eng_default_lot(struct plugin *p);
double eng_max_lot(struct plugin *p);

/* A quote arrived (POST /price, the MT5 bridge): kept by the broker, then
 * SL/TP and position updates. 0, or -1 with the reason ("bid/ask: ..."). */
int eng_on_quote(struct engine *e, const char *symbol, double bid, double ask, char *err, size_t errlen);
/* A signal's price makes a quote for symbol when the broker has none (paper). */
void eng_signal_price(struct engine *e, const char *symbol, double price);
int eng_quote(struct engine *e, const char *symbol, double *bid, double *ask);
/* The money one pip of one lot of symbol is worth at price, in the account
 * currency. -1 when a conversion quote is missing (a cross pair). */
int eng_pip_value(struct engine *e, const char *symbol, double price, double *pip_value);
int eng_symbol_info(struct engine *e, const char *symbol, double *pip_size, double *pip_value);
int eng_account(struct engine *e, double *balance, double *equity);
const char *eng_broker_kind(struct engine *e);
/* 1 when the broker is asynchronous (mt5): eng_open records the trade as
 * pending and returns once the order is sent; eng_close and eng_modify return
 * once the request is sent. The broker's result completes them later
 * (engine_async.h). */
int eng_broker_async(struct engine *e);
/* A line about the broker's connection for /status; -1 when there is none. */
int eng_broker_describe(struct engine *e, char *out, size_t len);
/* 1 when the broker's terminal is online, 0 when offline (MT5: no poll for
 * stale_after_s); -1 when the broker has no connection (paper). */
int eng_broker_online(struct engine *e);
/* The daemon is stopping: let the broker answer what it holds. */
void eng_quiesce(struct engine *e);

#endif
