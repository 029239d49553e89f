/*
 * engine — executes trades for plugins and keeps the open positions: opening
 * (lot rules, pause, broker fill, trade row, on_order_placed), closing (broker,
 * trade row with pips and money, on_position_update), SL/TP changes, quotes
 * (SL/TP hits and on_position_update for every trade a quote moves), and the
 * dispatch of one signal over the plugins with a result per plugin.
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
#include "registry.h"
#include "signal.h"

struct app;
struct engine;

/* The lot cap of a plugin whose config has no max_lot_size (an explicit 0
 * turns the cap off). A missing or misspelt key must not mean "no limit". */
#define ENG_DEFAULT_MAX_LOT 1.0

struct eng_result {
    char plugin[64];
    const char *status;             /* executed | rejected | handled | skipped | failed */
    int64_t trade_id;               /* 0 = none */
    char reason[200];
};

int eng_init(struct app *a, char *err, size_t errlen);     /* sets a->eng; before reg_init */
/* Take over a plugin's open trades and realised profit from its ledger (once,
 * when its database is opened). */
void eng_adopt(struct app *a, struct plugin *p);
void eng_free(struct app *a);

/* Dispatch a journaled signal to every plugin it names (all when plugin is "")
 * in id order; fills up to max results, returns their count. */
size_t eng_dispatch(struct app *a, const sig_parsed *s, int64_t signal_id, const char *source,
                    struct eng_result *res, size_t max);

int eng_open(struct app *a, struct plugin *p, const zx_order_req *req, zx_order *out, char *err,
             size_t errlen);
int eng_close(struct app *a, struct plugin *p, int64_t trade_id, double lot, const char *reason,
              char *err, size_t errlen);
int eng_modify(struct app *a, struct plugin *p, int64_t trade_id, double sl, double tp, char *err,
               size_t errlen);
/* Open trades of p (all plugins when p is NULL) valued at the last quote. */
int eng_positions(struct app *a, struct plugin *p, zx_position *out, int max);
size_t eng_open_count(struct app *a);
size_t eng_open_count_of(struct app *a, const char *plugin_id);
/* Today's risk figures of plugin p (the account when NULL), for /risk. */
struct risk_figures;
int eng_risk_figures(struct app *a, struct plugin *p, const char *symbol, struct risk_figures *f);
/* The lot eng_open would send for a requested lot: capped by the plugin's
 * max_lot_size and the symbol's max_lot, rounded down to its volume step. */
double eng_order_lot(struct app *a, struct plugin *p, const char *symbol, double lot);
/* The plugin's default_lot (0.01). */
double eng_default_lot(struct plugin *p);

/* A quote arrived (POST /price, the MT5 bridge): SL/TP and position updates. */
int eng_on_quote(struct app *a, const char *symbol, double bid, double ask, char *err, size_t errlen);
int eng_quote(struct app *a, const char *symbol, double *bid, double *ask);
/* The money one pip of one lot of symbol is worth at price, in the account
 * currency. -1 when a conversion quote is missing (a cross pair). */
int eng_pip_value(struct app *a, const char *symbol, double price, double *pip_value);
int eng_symbol_info(struct app *a, const char *symbol, double *pip_size, double *pip_value);
int eng_account(struct app *a, double *balance, double *equity);
const char *eng_broker_kind(struct app *a);
/* 1 when the broker is asynchronous (mt5): eng_open records the trade as
 * pending and returns once the order is sent; eng_close and eng_modify return
 * once the request is sent. The terminal's result completes them later. */
int eng_broker_async(struct app *a);
/* A line about the broker's connection for /status; -1 when there is none. */
int eng_broker_describe(struct app *a, char *out, size_t len);
/* The daemon is stopping: let the broker answer what it holds. */
void eng_quiesce(struct app *a);

/* Asynchronous brokers report back (broker_mt5.c):
 * eng_broker_result: the result of one request, applied once by the broker.
 *   open ok: the pending trade gets the ticket, fill price and lots, then
 *   on_order_placed; open failed: the trade is CLOSED "rejected: <error>",
 *   profit 0. close: recorded with the broker's price and profit. modify: the
 *   SL/TP requested become the trade's.
 * eng_broker_sync: the broker's closed positions (closed with its price and
 *   profit; volume < lot is a partial close) and its open positions (npos < 0:
 *   no list was reported; a filled trade missing from the list is closed with
 *   the last quote and the broker's last profit; SL/TP and volume follow the
 *   broker's). */
void eng_broker_result(struct app *a, const struct broker_result *r);
/* 1 when ticket is the broker's ticket of a trade the engine watches (filled,
 * or pending with that ticket known), else 0. */
int eng_knows_ticket(struct app *a, int64_t ticket);
void eng_broker_sync(struct app *a, const struct broker_position *pos, int npos,
                     const struct broker_closed *closed, int nclosed);

/* Batch transactions over every plugin ledger (the journal's group commit). */
void eng_batch_begin(struct app *a);
/* Commit every ledger; returns how many failed (their plugins get batch_failed
 * and batch_err: those trades are gone). */
int eng_batch_commit(struct app *a);
/* Rebuild the open positions and realised profit from the ledgers (after a
 * failed batch: what is not on disk did not happen). */
void eng_resync(struct app *a);

#endif
