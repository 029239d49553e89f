/*
 * ledger — one plugin's own database, data/zepix_<id>.db: the trades and
 * performance tables of SPEC section 9 (plus columns of our own), opened with
 * ATTACH and extension loading disabled so the plugin's handle reaches no other
 * file. The host writes every trade of every order it places for the plugin.
 *
 * Trades: status OPEN, PARTIAL (partly closed, still open) or CLOSED. A partial
 * close writes the closed part as its own CLOSED row (parent_id = the trade) and
 * shrinks the open trade's lot_size. Times are UTC text ("YYYY-MM-DD HH:MM:SS")
 * in the SPEC columns and milliseconds in entry_ms/exit_ms.
 *
 * With an asynchronous broker (mt5) a trade is written when its order is sent
 * (broker_state 'pending', order_id NULL) and filled or rejected when the
 * terminal's result arrives.
 *
 * Prepared statements, short indexed queries; runs on the loop thread.
 */
#ifndef ZEPIX_LEDGER_H
#define ZEPIX_LEDGER_H

#include <stddef.h>
#include <stdint.h>
#include <sqlite3.h>
#include "zepix_plugin.h"

typedef struct ledger ledger;

struct ldg_trade {
    int64_t id, order_id, signal_id, parent_id;
    char symbol[32];
    zx_action side;                     /* ZX_BUY / ZX_SELL */
    double lot, entry, sl, tp;
    double exit, pips, money;           /* when closed */
    int64_t entry_ms, exit_ms;
    char status[8];                     /* OPEN | PARTIAL | CLOSED */
    char close_reason[96];
    char comment[128];
    char broker_state[12];              /* "" (= filled) | pending | filled | rejected */
};

struct ldg_stats {
    int trades, wins, losses;           /* closed rows in the period; break-even is neither */
    double win_rate;                    /* percent of trades */
    double profit;                      /* sum of profit_dollars */
    double max_drawdown;                /* largest peak-to-trough fall of realised profit, >= 0 */
};

/* Open data_dir/zepix_<id>.db with the restrictions and the current schema. */
int ldg_open(const char *data_dir, const char *plugin_id, ledger **out, char *err, size_t errlen);
void ldg_close(ledger *l);
sqlite3 *ldg_db(ledger *l);             /* owned by the ledger */

/* A batch transaction (nestable): writes between begin and commit are one
 * transaction. Outside a batch each write commits on its own. A batch is all
 * or nothing: once one write in it fails (or a nested level rolls back), every
 * later write is refused and the outermost commit rolls back and returns -1
 * with the first failure's reason. */
int ldg_begin(ledger *l);
int ldg_commit(ledger *l, char *err, size_t errlen);   /* err may be NULL */
void ldg_rollback(ledger *l);
int ldg_batch_failed(ledger *l);        /* 1 when the open batch will roll back */

/* The exactly-once record of one signal for this plugin (table signal_outcomes):
 * written inside the batch with the signal's trades. get: 0 found, 1 none, -1. */
int ldg_put_outcome(ledger *l, int64_t signal_id, const char *status, int64_t trade_id, const char *reason,
                    int64_t ms);
int ldg_get_outcome(ledger *l, int64_t signal_id, char *status, size_t slen, int64_t *trade_id, char *reason,
                    size_t rlen);

int ldg_insert_open(ledger *l, struct ldg_trade *t, char *err, size_t errlen);  /* fills t->id */
/* Close lot lots of trade id (all of it when lot >= its lot_size). */
int ldg_record_close(ledger *l, int64_t id, double lot, double exit, double pips, double money,
                     int64_t exit_ms, const char *reason, char *err, size_t errlen);
int ldg_update_sltp(ledger *l, int64_t id, double sl, double tp);
/* Asynchronous brokers. Fill a pending trade with the broker's ticket, price and
 * lots; reject one (CLOSED, profit 0, close_reason = reason). 0 done, 1 the
 * trade was not pending (already applied), -1 error. */
int ldg_fill(ledger *l, int64_t id, int64_t ticket, double price, double lot);
int ldg_reject(ledger *l, int64_t id, const char *reason, int64_t ms);
int ldg_get(ledger *l, int64_t id, struct ldg_trade *t);           /* 0, 1 not found, -1 */
int ldg_open_trades(ledger *l, struct ldg_trade *out, int max);     /* count, -1 */
int ldg_last_trades(ledger *l, struct ldg_trade *out, int n);       /* newest first */
int ldg_count_for_signal(ledger *l, int64_t signal_id);            /* trades of that signal, -1 */
int ldg_count_opened_since(ledger *l, int64_t since_ms);           /* trades opened since, -1 */
double ldg_realized(ledger *l);                                     /* sum over closed rows */
int ldg_stats(ledger *l, int64_t from_ms, int64_t to_ms, struct ldg_stats *out);
/* Fold one closed trade's profit into s, in exit order; *equity and *peak (both
 * 0 at the start) carry the realised curve for the drawdown. The one place the
 * arithmetic of /stats, /daily and the reset lives. */
void ldg_stats_add(struct ldg_stats *s, double profit, double *equity, double *peak);
int ldg_put_performance(ledger *l, const char *date, const struct ldg_stats *s);

void ldg_format_time(int64_t ms, char *out, size_t len);           /* UTC "YYYY-MM-DD HH:MM:SS" */

/* Working (pending) orders, table orders (SPEC 12; docs/architecture.md). An
 * order is working until it is filled (it became trade trade_id), cancelled,
 * expired or rejected; only a working order changes state, once. */
struct ldg_order {
    int64_t id, trade_id, signal_id, ticket;
    char symbol[32];
    zx_action type;                     /* ZX_BUY_LIMIT, ZX_BUY_STOP, ZX_SELL_LIMIT, ZX_SELL_STOP */
    double lot, entry, sl, tp;
    int64_t expiry_ms;                  /* 0 = good till cancelled */
    int64_t created_ms, done_ms;
    char state[12];                     /* working | filled | cancelled | expired | rejected */
    char broker_state[12];              /* "" | pending (sent, not placed yet) | placed */
    char reason[96];
    char comment[128];
};
/* "buy_limit" ... "sell_stop", NULL for another action. */
const char *ldg_order_type_name(zx_action type);
int ldg_order_insert(ledger *l, struct ldg_order *o, char *err, size_t errlen);   /* fills o->id, state */
int ldg_order_get(ledger *l, int64_t id, struct ldg_order *o);                  /* 0, 1 not found, -1 */
int ldg_working_orders(ledger *l, struct ldg_order *out, int max);              /* oldest first; count, -1 */
int ldg_last_orders(ledger *l, struct ldg_order *out, int n);                   /* newest first; count, -1 */
/* A working order ends: state filled (trade_id its trade), cancelled, expired
 * or rejected. 0 done, 1 it was not working (ended already), -1 error. */
int ldg_order_finish(ledger *l, int64_t id, const char *state, int64_t trade_id, const char *reason, int64_t ms);
/* An asynchronous broker placed it as its order ticket. 0, 1 not working, -1. */
int ldg_order_placed(ledger *l, int64_t id, int64_t ticket);

#endif
