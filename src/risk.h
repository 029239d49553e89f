/*
 * risk — the host's money guard (SPEC 12 `risk`): limits per account and per
 * plugin checked before every order a plugin causes (its signal, its own
 * place_order, a chat command), whatever the plugin decided. A refusal's reason
 * starts with "risk:" and names the limit and the figure. Reaching a daily loss
 * or drawdown limit pauses opening for that scope (one plugin, or the account)
 * until the next daily reset or /resume; the pause is persisted in the host
 * database (kv "risk_pause:<scope>", with the trading day it belongs to) so a
 * restart keeps it, and a new trading day ends it by itself.
 *
 * The figures (open trades, lots, today's realised plus floating profit,
 * balances) are the caller's (engine.c): this module only judges them. The
 * drawdown is the fall of the scope's equity from its highest value since the
 * trading day began, sampled at every check. Runs on the loop; one SQLite write
 * when a limit trips.
 */
#ifndef ZEPIX_RISK_H
#define ZEPIX_RISK_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>
#include "config.h"

/* One scope's figures at the moment of an order. */
struct risk_figures {
    int open_trades;            /* open now, before this order */
    double symbol_lots;         /* lots open on the order's symbol */
    double day_pnl;             /* realised today + floating, account currency */
    double day_start_balance;   /* balance when the trading day began (for the % limits) */
};

struct risk;

/* db: the host database (borrowed). cfg: borrowed for the risk's lifetime. */
struct risk *risk_new(sqlite3 *db, const struct config *cfg);
void risk_free(struct risk *r);

/* The trading day now_ms belongs to starts at day_from_ms: a pause from an
 * earlier day is over, drawdown peaks start again. */
void risk_set_day(struct risk *r, int64_t day_from_ms);

/* May an order of lot lots open in scope (a plugin id, or "" for the account)?
 * 0 yes; -1 no, with "risk: ..." in err. *tripped is set to 1 when this check
 * paused the scope (the caller tells the admins, once). */
int risk_check(struct risk *r, const char *scope, const struct cfg_risk_limits *l, const struct risk_figures *f,
               double lot, int *tripped, char *err, size_t errlen);

/* The scope's pause reason, or NULL when it may open. */
const char *risk_paused(struct risk *r, const char *scope);
/* /resume: every risk pause ends (persisted). */
void risk_clear(struct risk *r);

/* The limits for plugin id: its risk.per_plugin entry, or all-zero (off). */
const struct cfg_risk_limits *risk_plugin_limits(const struct config *cfg, const char *id);
/* 1 when any limit of l is set. */
int risk_any(const struct cfg_risk_limits *l);

#endif
