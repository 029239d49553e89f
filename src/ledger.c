/*
 * ledger — see ledger.h.
 */
#include "ledger.h"
#include "store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *const ledger_migrations[] = {
    /* 1: the SPEC tables with our extra columns */
    "CREATE TABLE trades (id INTEGER PRIMARY KEY, order_id INTEGER, symbol TEXT, direction TEXT,"
    "  lot_size REAL, entry_price REAL, sl_price REAL, tp_price REAL, entry_time TIMESTAMP,"
    "  exit_time TIMESTAMP, profit_pips REAL, profit_dollars REAL, status TEXT,"
    "  signal_id INTEGER, parent_id INTEGER, exit_price REAL, close_reason TEXT, comment TEXT,"
    "  entry_ms INTEGER, exit_ms INTEGER);"
    "CREATE INDEX trades_open ON trades(status) WHERE status <> 'CLOSED';"
    "CREATE INDEX trades_signal ON trades(signal_id);"
    "CREATE INDEX trades_exit ON trades(exit_ms) WHERE status = 'CLOSED';"
    "CREATE INDEX trades_entry ON trades(entry_ms);"
    "CREATE TABLE performance (date TEXT PRIMARY KEY, total_trades INTEGER, win_count INTEGER,"
    "  loss_count INTEGER, total_profit REAL, max_drawdown REAL);",
    /* 2: asynchronous brokers (mt5): NULL or 'filled' = the broker filled it;
     * 'pending' = sent, no result yet (order_id NULL, entry_price an estimate);
     * 'rejected' = the broker refused it (status CLOSED, profit 0, not a trade
     * in the statistics). */
    "ALTER TABLE trades ADD COLUMN broker_state TEXT;",
    /* 3: the per-plugin exactly-once record (journal.c): one row per signal
     * dispatched to this plugin, written in the same transaction as the
     * signal's trades, so its presence proves that this plugin's part of the
     * signal committed (whatever the verdict), its absence that it did not. */
    ("CREATE TABLE signal_outcomes (signal_id INTEGER PRIMARY KEY, status TEXT NOT NULL,"
     "  trade_id INTEGER, reason TEXT, recorded_ms INTEGER NOT NULL);"),
    /* 4: working (pending) orders, SPEC 12 buy_limit ... cancel. A table of
     * their own: trades stay what /stats, /daily and the reports count. An
     * order is 'working' until it is 'filled' (trade_id = the trade it
     * became), 'cancelled', 'expired' or 'rejected' (reason says why).
     * expiry_ms 0 = good till cancelled. With an asynchronous broker
     * broker_state is 'pending' until the terminal placed it (ticket = its
     * order ticket), then 'placed'. */
    ("CREATE TABLE orders (id INTEGER PRIMARY KEY, symbol TEXT NOT NULL, type TEXT NOT NULL,"
     "  lot_size REAL NOT NULL, entry_price REAL NOT NULL, sl_price REAL, tp_price REAL,"
     "  expiry_ms INTEGER NOT NULL DEFAULT 0, state TEXT NOT NULL DEFAULT 'working', trade_id INTEGER,"
     "  signal_id INTEGER, ticket INTEGER, comment TEXT, broker_state TEXT, reason TEXT,"
     "  created_ms INTEGER NOT NULL, done_ms INTEGER);"
     "CREATE INDEX orders_working ON orders(state) WHERE state = 'working';"),
};

enum { S_INSERT, S_GET, S_SHRINK, S_CLOSE_ALL, S_INSERT_PART, S_SLTP, S_OPEN, S_LAST, S_SIGNAL,
       S_REALIZED, S_STATS, S_PERF, S_OPENED_SINCE, S_FILL, S_REJECT, S_PUT_OUTCOME, S_GET_OUTCOME,
       S_ORD_INSERT, S_ORD_GET, S_ORD_WORKING, S_ORD_FINISH, S_ORD_PLACED, S_ORD_LAST, S_COUNT };

#define ORD_COLS "id, symbol, type, lot_size, entry_price, sl_price, tp_price, expiry_ms, state," \
                 " trade_id, signal_id, ticket, comment, broker_state, reason, created_ms, done_ms"


static const char *const sql[S_COUNT] = {
    [S_INSERT] = "INSERT INTO trades (order_id, symbol, direction, lot_size, entry_price, sl_price,"
                  " tp_price, entry_time, status, signal_id, comment, entry_ms, broker_state)"
                 " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 'OPEN', ?9, ?10, ?11, ?12)",
    [S_GET] = "SELECT id, order_id, signal_id, parent_id, symbol, direction, lot_size, entry_price,"
              " sl_price, tp_price, exit_price, profit_pips, profit_dollars, entry_ms, exit_ms,"
               " status, close_reason, comment, broker_state FROM trades WHERE id = ?1",
    [S_SHRINK] = "UPDATE trades SET lot_size = ?2, status = 'PARTIAL' WHERE id = ?1",
    [S_CLOSE_ALL] = "UPDATE trades SET status = 'CLOSED', exit_price = ?2, profit_pips = ?3,"
                    " profit_dollars = ?4, exit_time = ?5, exit_ms = ?6, close_reason = ?7"
                    " WHERE id = ?1 AND status <> 'CLOSED'",
    [S_INSERT_PART] = "INSERT INTO trades (order_id, symbol, direction, lot_size, entry_price,"
                      " sl_price, tp_price, entry_time, status, signal_id, parent_id, comment,"
                      " entry_ms, exit_price, profit_pips, profit_dollars, exit_time, exit_ms,"
                      " close_reason) SELECT order_id, symbol, direction, ?2, entry_price, sl_price,"
                      " tp_price, entry_time, 'CLOSED', signal_id, id, comment, entry_ms, ?3, ?4, ?5,"
                      " ?6, ?7, ?8 FROM trades WHERE id = ?1",
    [S_SLTP] = "UPDATE trades SET sl_price = ?2, tp_price = ?3 WHERE id = ?1 AND status <> 'CLOSED'",
    [S_OPEN] = "SELECT id, order_id, signal_id, parent_id, symbol, direction, lot_size, entry_price,"
               " sl_price, tp_price, exit_price, profit_pips, profit_dollars, entry_ms, exit_ms,"
                " status, close_reason, comment, broker_state FROM trades WHERE status <> 'CLOSED' ORDER BY id",
    [S_LAST] = "SELECT id, order_id, signal_id, parent_id, symbol, direction, lot_size, entry_price,"
               " sl_price, tp_price, exit_price, profit_pips, profit_dollars, entry_ms, exit_ms,"
                " status, close_reason, comment, broker_state FROM trades ORDER BY id DESC LIMIT ?1",
    [S_SIGNAL] = "SELECT count(*) FROM trades WHERE signal_id = ?1",
    [S_REALIZED] = "SELECT coalesce(sum(profit_dollars), 0) FROM trades WHERE status = 'CLOSED'",
    [S_STATS] = "SELECT profit_dollars FROM trades WHERE status = 'CLOSED' AND exit_ms >= ?1"
                " AND exit_ms < ?2 AND coalesce(broker_state, '') <> 'rejected' ORDER BY exit_ms, id",
    [S_OPENED_SINCE] = "SELECT count(*) FROM trades WHERE entry_ms >= ?1 AND parent_id IS NULL"
                       " AND coalesce(broker_state, '') <> 'rejected'",
    [S_FILL] = "UPDATE trades SET order_id = ?2, entry_price = ?3, lot_size = ?4, broker_state = 'filled'"
               " WHERE id = ?1 AND broker_state = 'pending'",
    [S_REJECT] = "UPDATE trades SET status = 'CLOSED', broker_state = 'rejected', close_reason = ?2,"
                 " profit_pips = 0, profit_dollars = 0, exit_time = ?3, exit_ms = ?4"
                 " WHERE id = ?1 AND broker_state = 'pending'",
    [S_PUT_OUTCOME] = "INSERT OR REPLACE INTO signal_outcomes (signal_id, status, trade_id, reason,"
                      " recorded_ms) VALUES (?1, ?2, ?3, ?4, ?5)",
    [S_GET_OUTCOME] = "SELECT status, coalesce(trade_id, 0), coalesce(reason, '') FROM signal_outcomes"
                      " WHERE signal_id = ?1",
    [S_ORD_INSERT] = "INSERT INTO orders (symbol, type, lot_size, entry_price, sl_price, tp_price, expiry_ms,"
                     " signal_id, comment, broker_state, created_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9,"
                     " ?10, ?11)",
    [S_ORD_GET] = "SELECT " ORD_COLS " FROM orders WHERE id = ?1",
    [S_ORD_WORKING] = "SELECT " ORD_COLS " FROM orders WHERE state = 'working' ORDER BY id",
    [S_ORD_FINISH] = "UPDATE orders SET state = ?2, trade_id = ?3, reason = ?4, done_ms = ?5"
                     " WHERE id = ?1 AND state = 'working'",
    [S_ORD_PLACED] = "UPDATE orders SET ticket = ?2, broker_state = 'placed' WHERE id = ?1 AND state = 'working'",
    [S_ORD_LAST] = "SELECT " ORD_COLS " FROM orders ORDER BY id DESC LIMIT ?1",
    [S_PERF] = "INSERT OR REPLACE INTO performance (date, total_trades, win_count, loss_count,"
               " total_profit, max_drawdown) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
};

struct ledger {
    sqlite3 *db;
    sqlite3_stmt *st[S_COUNT];
    int depth;                          /* batch nesting */
    int failed;                         /* a write of the open batch failed: it rolls back whole */
    char ferr[160];                     /* why */
};

/* The plugin's handle may not reach other files. */
static int deny_attach(void *ud, int action, const char *a, const char *b, const char *c, const char *d)
{
    (void)ud;
    (void)a;
    (void)b;
    (void)c;
    (void)d;
    return action == SQLITE_ATTACH || action == SQLITE_DETACH ? SQLITE_DENY : SQLITE_OK;
}

void ldg_format_time(int64_t ms, char *out, size_t len)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, len, "%Y-%m-%d %H:%M:%S", &tm);
}

int ldg_open(const char *data_dir, const char *plugin_id, ledger **out, char *err, size_t errlen)
{
    char path[1024], e[512];
    ledger *l = calloc(1, sizeof *l);
    *out = NULL;
    if (!l) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    snprintf(path, sizeof path, "%s/zepix_%s.db", data_dir, plugin_id);
    if (store_open(path, &l->db, err, errlen))
        goto fail;
    sqlite3_db_config(l->db, SQLITE_DBCONFIG_ENABLE_LOAD_EXTENSION, 0, (int *)NULL);
    sqlite3_limit(l->db, SQLITE_LIMIT_ATTACHED, 0);
    if (store_migrate(l->db, ledger_migrations,
                      (int)(sizeof ledger_migrations / sizeof ledger_migrations[0]), e, sizeof e)) {
        snprintf(err, errlen, "%s: %s", path, e);
        goto fail;
    }
    sqlite3_set_authorizer(l->db, deny_attach, NULL);
    for (int i = 0; i < S_COUNT; i++)
        if (sqlite3_prepare_v3(l->db, sql[i], -1, SQLITE_PREPARE_PERSISTENT, &l->st[i], NULL) != SQLITE_OK) {
            snprintf(err, errlen, "%s: %s", path, sqlite3_errmsg(l->db));
            goto fail;
        }
    *out = l;
    return 0;
fail:
    ldg_close(l);
    return -1;
}

void ldg_close(ledger *l)
{
    if (!l)
        return;
    for (int i = 0; i < S_COUNT; i++)
        sqlite3_finalize(l->st[i]);
    if (l->depth)
        sqlite3_exec(l->db, "ROLLBACK", NULL, NULL, NULL);
    store_close(l->db);
    free(l);
}

sqlite3 *ldg_db(ledger *l) { return l->db; }

int ldg_begin(ledger *l)
{
    if (l->depth++ > 0)
        return 0;
    l->failed = 0;
    if (sqlite3_exec(l->db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK) {
        l->depth = 0;
        return -1;
    }
    return 0;
}

/* End the outermost transaction with ROLLBACK unless SQLite already did
 * (it rolls back by itself after some errors: SQLITE_FULL, IOERR, NOMEM). */
static int rollback_now(ledger *l)
{
    l->depth = 0;
    l->failed = 0;
    if (sqlite3_get_autocommit(l->db))
        return 0;
    return sqlite3_exec(l->db, "ROLLBACK", NULL, NULL, NULL) == SQLITE_OK ? 0 : -1;
}

int ldg_commit(ledger *l, char *err, size_t errlen)
{
    if (l->depth == 0)
        return 0;
    if (l->depth > 1) {             /* a failure inside was reported by its write */
        l->depth--;
        return 0;
    }
    if (l->failed) {
        /* A batch in which one write failed is not committed in part. */
        if (err)
            snprintf(err, errlen, "%s", l->ferr);
        rollback_now(l);
        return -1;
    }
    if (sqlite3_exec(l->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
        /* The reason first: ROLLBACK replaces sqlite's error message. */
        if (err)
            snprintf(err, errlen, "%s", sqlite3_errmsg(l->db));
        if (rollback_now(l) && err)
            snprintf(err + strlen(err), errlen - strlen(err), "; ROLLBACK failed too: %s",
                     sqlite3_errmsg(l->db));
        return -1;
    }
    l->depth = 0;
    return 0;
}

void ldg_rollback(ledger *l)
{
    if (l->depth == 0)
        return;
    if (l->depth > 1) {             /* inside a batch: the whole batch rolls back at its end */
        l->depth--;
        if (!l->failed) {
            l->failed = 1;
            snprintf(l->ferr, sizeof l->ferr, "a write of this batch was rolled back");
        }
        return;
    }
    rollback_now(l);
}

int ldg_batch_failed(ledger *l) { return l->depth > 0 && l->failed; }

static sqlite3_stmt *stmt(ledger *l, int i)
{
    sqlite3_reset(l->st[i]);
    sqlite3_clear_bindings(l->st[i]);
    return l->st[i];
}

/* Every write goes through here. Inside a batch the first failure marks the
 * batch failed (it is rolled back whole at its commit) and refuses the writes
 * after it: SQLite may have rolled the transaction back already, and a later
 * write would then commit on its own. */
static int step_done(ledger *l, sqlite3_stmt *s, char *err, size_t errlen)
{
    if (l->depth > 0 && l->failed) {
        sqlite3_reset(s);
        if (err)
            snprintf(err, errlen, "trade ledger: %s", l->ferr);
        return -1;
    }
    int rc = sqlite3_step(s);
    sqlite3_reset(s);
    if (rc != SQLITE_DONE) {
        if (l->depth > 0 && !l->failed) {
            l->failed = 1;
            snprintf(l->ferr, sizeof l->ferr, "%s", sqlite3_errmsg(l->db));
        }
        if (err)
            snprintf(err, errlen, "trade ledger: %s", sqlite3_errmsg(l->db));
        return -1;
    }
    return 0;
}

static void bind_opt(sqlite3_stmt *s, int i, double v)
{
    if (v > 0)
        sqlite3_bind_double(s, i, v);
    else
        sqlite3_bind_null(s, i);
}

int ldg_insert_open(ledger *l, struct ldg_trade *t, char *err, size_t errlen)
{
    char when[32];
    sqlite3_stmt *s = stmt(l, S_INSERT);
    ldg_format_time(t->entry_ms, when, sizeof when);
    if (t->order_id)
        sqlite3_bind_int64(s, 1, t->order_id);
    sqlite3_bind_text(s, 2, t->symbol, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(s, 3, t->side == ZX_SELL ? "SELL" : "BUY", -1, SQLITE_STATIC);
    sqlite3_bind_double(s, 4, t->lot);
    sqlite3_bind_double(s, 5, t->entry);
    bind_opt(s, 6, t->sl);
    bind_opt(s, 7, t->tp);
    sqlite3_bind_text(s, 8, when, -1, SQLITE_TRANSIENT);
    if (t->signal_id)
        sqlite3_bind_int64(s, 9, t->signal_id);
    sqlite3_bind_text(s, 10, t->comment, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(s, 11, t->entry_ms);
    if (t->broker_state[0])
        sqlite3_bind_text(s, 12, t->broker_state, -1, SQLITE_TRANSIENT);
    if (step_done(l, s, err, errlen))
        return -1;
    t->id = sqlite3_last_insert_rowid(l->db);
    snprintf(t->status, sizeof t->status, "OPEN");
    return 0;
}

static const char *col_text(sqlite3_stmt *s, int i)
{
    const unsigned char *t = sqlite3_column_text(s, i);
    return t ? (const char *)t : "";
}

static void row_to_trade(sqlite3_stmt *s, struct ldg_trade *t)
{
    memset(t, 0, sizeof *t);
    t->id = sqlite3_column_int64(s, 0);
    t->order_id = sqlite3_column_int64(s, 1);
    t->signal_id = sqlite3_column_int64(s, 2);
    t->parent_id = sqlite3_column_int64(s, 3);
    snprintf(t->symbol, sizeof t->symbol, "%s", col_text(s, 4));
    const unsigned char *dir = sqlite3_column_text(s, 5);
    t->side = dir && strcmp((const char *)dir, "SELL") == 0 ? ZX_SELL : ZX_BUY;
    t->lot = sqlite3_column_double(s, 6);
    t->entry = sqlite3_column_double(s, 7);
    t->sl = sqlite3_column_double(s, 8);
    t->tp = sqlite3_column_double(s, 9);
    t->exit = sqlite3_column_double(s, 10);
    t->pips = sqlite3_column_double(s, 11);
    t->money = sqlite3_column_double(s, 12);
    t->entry_ms = sqlite3_column_int64(s, 13);
    t->exit_ms = sqlite3_column_int64(s, 14);
    snprintf(t->status, sizeof t->status, "%s", col_text(s, 15));
    snprintf(t->close_reason, sizeof t->close_reason, "%s",
             col_text(s, 16));
    snprintf(t->comment, sizeof t->comment, "%s", col_text(s, 17));
    snprintf(t->broker_state, sizeof t->broker_state, "%s", col_text(s, 18));
}

int ldg_get(ledger *l, int64_t id, struct ldg_trade *t)
{
    sqlite3_stmt *s = stmt(l, S_GET);
    sqlite3_bind_int64(s, 1, id);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW)
        row_to_trade(s, t);
    sqlite3_reset(s);
    return rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? 1 : -1;
}

int ldg_record_close(ledger *l, int64_t id, double lot, double exit, double pips, double money,
                     int64_t exit_ms, const char *reason, char *err, size_t errlen)
{
    struct ldg_trade t;
    char when[32];
    int rc = ldg_get(l, id, &t);
    if (rc != 0 || strcmp(t.status, "CLOSED") == 0) {
        snprintf(err, errlen, "trade %lld is not open", (long long)id);
        return -1;
    }
    ldg_format_time(exit_ms, when, sizeof when);
    /* A remainder under a hundredth of a lot is no position: close it all. */
    int partial = lot > 0 && t.lot - lot >= 0.005;
    if (ldg_begin(l))
        goto fail_db;
    if (partial) {
        sqlite3_stmt *s = stmt(l, S_INSERT_PART);
        sqlite3_bind_int64(s, 1, id);
        sqlite3_bind_double(s, 2, lot);
        sqlite3_bind_double(s, 3, exit);
        sqlite3_bind_double(s, 4, pips);
        sqlite3_bind_double(s, 5, money);
        sqlite3_bind_text(s, 6, when, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(s, 7, exit_ms);
        sqlite3_bind_text(s, 8, reason, -1, SQLITE_TRANSIENT);
        if (step_done(l, s, err, errlen))
            goto fail;
        s = stmt(l, S_SHRINK);
        sqlite3_bind_int64(s, 1, id);
        sqlite3_bind_double(s, 2, t.lot - lot);
        if (step_done(l, s, err, errlen))
            goto fail;
    } else {
        sqlite3_stmt *s = stmt(l, S_CLOSE_ALL);
        sqlite3_bind_int64(s, 1, id);
        sqlite3_bind_double(s, 2, exit);
        sqlite3_bind_double(s, 3, pips);
        sqlite3_bind_double(s, 4, money);
        sqlite3_bind_text(s, 5, when, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(s, 6, exit_ms);
        sqlite3_bind_text(s, 7, reason, -1, SQLITE_TRANSIENT);
        if (step_done(l, s, err, errlen))
            goto fail;
    }
    if (ldg_commit(l, err, errlen))
        goto fail;
    return 0;
fail:
    ldg_rollback(l);
    return -1;
fail_db:
    snprintf(err, errlen, "trade ledger: %s", sqlite3_errmsg(l->db));
    ldg_rollback(l);
    return -1;
}

int ldg_fill(ledger *l, int64_t id, int64_t ticket, double price, double lot)
{
    sqlite3_stmt *s = stmt(l, S_FILL);
    sqlite3_bind_int64(s, 1, id);
    sqlite3_bind_int64(s, 2, ticket);
    sqlite3_bind_double(s, 3, price);
    sqlite3_bind_double(s, 4, lot);
    if (step_done(l, s, NULL, 0))
        return -1;
    return sqlite3_changes(l->db) == 1 ? 0 : 1;
}

int ldg_reject(ledger *l, int64_t id, const char *reason, int64_t ms)
{
    char when[32];
    sqlite3_stmt *s = stmt(l, S_REJECT);
    ldg_format_time(ms, when, sizeof when);
    sqlite3_bind_int64(s, 1, id);
    sqlite3_bind_text(s, 2, reason, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(s, 3, when, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(s, 4, ms);
    if (step_done(l, s, NULL, 0))
        return -1;
    return sqlite3_changes(l->db) == 1 ? 0 : 1;
}

int ldg_update_sltp(ledger *l, int64_t id, double sl, double tp)
{
    sqlite3_stmt *s = stmt(l, S_SLTP);
    sqlite3_bind_int64(s, 1, id);
    bind_opt(s, 2, sl);
    bind_opt(s, 3, tp);
    return step_done(l, s, NULL, 0);
}

static int collect(ledger *l, sqlite3_stmt *s, struct ldg_trade *out, int max)
{
    int n = 0, rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW && n < max)
        row_to_trade(s, &out[n++]);
    sqlite3_reset(s);
    (void)l;
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? n : -1;
}

int ldg_open_trades(ledger *l, struct ldg_trade *out, int max)
{
    return collect(l, stmt(l, S_OPEN), out, max);
}

int ldg_last_trades(ledger *l, struct ldg_trade *out, int n)
{
    sqlite3_stmt *s = stmt(l, S_LAST);
    sqlite3_bind_int(s, 1, n);
    return collect(l, s, out, n);
}

int ldg_count_for_signal(ledger *l, int64_t signal_id)
{
    sqlite3_stmt *s = stmt(l, S_SIGNAL);
    sqlite3_bind_int64(s, 1, signal_id);
    int n = sqlite3_step(s) == SQLITE_ROW ? sqlite3_column_int(s, 0) : -1;
    sqlite3_reset(s);
    return n;
}

int ldg_put_outcome(ledger *l, int64_t signal_id, const char *status, int64_t trade_id, const char *reason,
                    int64_t ms)
{
    sqlite3_stmt *s = stmt(l, S_PUT_OUTCOME);
    sqlite3_bind_int64(s, 1, signal_id);
    sqlite3_bind_text(s, 2, status, -1, SQLITE_TRANSIENT);
    if (trade_id)
        sqlite3_bind_int64(s, 3, trade_id);
    if (reason && reason[0])
        sqlite3_bind_text(s, 4, reason, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(s, 5, ms);
    return step_done(l, s, NULL, 0);
}

int ldg_get_outcome(ledger *l, int64_t signal_id, char *status, size_t slen, int64_t *trade_id, char *reason,
                    size_t rlen)
{
    sqlite3_stmt *s = stmt(l, S_GET_OUTCOME);
    sqlite3_bind_int64(s, 1, signal_id);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        snprintf(status, slen, "%s", col_text(s, 0));
        *trade_id = sqlite3_column_int64(s, 1);
        snprintf(reason, rlen, "%s", col_text(s, 2));
    }
    sqlite3_reset(s);
    return rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? 1 : -1;
}

int ldg_count_opened_since(ledger *l, int64_t since_ms)
{
    sqlite3_stmt *s = stmt(l, S_OPENED_SINCE);
    sqlite3_bind_int64(s, 1, since_ms);
    int n = sqlite3_step(s) == SQLITE_ROW ? sqlite3_column_int(s, 0) : -1;
    sqlite3_reset(s);
    return n;
}

double ldg_realized(ledger *l)
{
    sqlite3_stmt *s = stmt(l, S_REALIZED);
    double v = sqlite3_step(s) == SQLITE_ROW ? sqlite3_column_double(s, 0) : 0;
    sqlite3_reset(s);
    return v;
}

void ldg_stats_add(struct ldg_stats *s, double profit, double *equity, double *peak)
{
    s->trades++;
    if (profit > 0)
        s->wins++;
    else if (profit < 0)
        s->losses++;
    s->profit += profit;
    *equity += profit;
    if (*equity > *peak)
        *peak = *equity;
    if (*peak - *equity > s->max_drawdown)
        s->max_drawdown = *peak - *equity;
    s->win_rate = 100.0 * s->wins / s->trades;
}

int ldg_stats(ledger *l, int64_t from_ms, int64_t to_ms, struct ldg_stats *out)
{
    sqlite3_stmt *s = stmt(l, S_STATS);
    double equity = 0, peak = 0;
    int rc;
    memset(out, 0, sizeof *out);
    sqlite3_bind_int64(s, 1, from_ms);
    sqlite3_bind_int64(s, 2, to_ms);
    while ((rc = sqlite3_step(s)) == SQLITE_ROW)
        ldg_stats_add(out, sqlite3_column_double(s, 0), &equity, &peak);
    sqlite3_reset(s);
    return rc == SQLITE_DONE ? 0 : -1;
}

int ldg_put_performance(ledger *l, const char *date, const struct ldg_stats *st)
{
    sqlite3_stmt *s = stmt(l, S_PERF);
    sqlite3_bind_text(s, 1, date, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int(s, 2, st->trades);
    sqlite3_bind_int(s, 3, st->wins);
    sqlite3_bind_int(s, 4, st->losses);
    sqlite3_bind_double(s, 5, st->profit);
    sqlite3_bind_double(s, 6, st->max_drawdown);
    return step_done(l, s, NULL, 0);
}

/* ---- working orders (migration 4) ---- */

static const struct { zx_action type; const char *name; } ord_types[] = {
    {ZX_BUY_LIMIT, "buy_limit"}, {ZX_BUY_STOP, "buy_stop"}, {ZX_SELL_LIMIT, "sell_limit"}, {ZX_SELL_STOP, "sell_stop"},
};

const char *ldg_order_type_name(zx_action type)
{
    for (size_t i = 0; i < sizeof ord_types / sizeof ord_types[0]; i++)
        if (ord_types[i].type == type)
            return ord_types[i].name;
    return NULL;
}

static zx_action ord_type_of(const char *name)
{
    for (size_t i = 0; i < sizeof ord_types / sizeof ord_types[0]; i++)
        if (strcmp(ord_types[i].name, name) == 0)
            return ord_types[i].type;
    return 0;
}

int ldg_order_insert(ledger *l, struct ldg_order *o, char *err, size_t errlen)
{
    const char *type = ldg_order_type_name(o->type);
    if (!type || !(o->lot > 0) || !(o->entry > 0) || o->expiry_ms < 0) {
        snprintf(err, errlen, "order: needs a pending type, lot > 0 and entry > 0");
        return -1;
    }
    sqlite3_stmt *s = stmt(l, S_ORD_INSERT);
    sqlite3_bind_text(s, 1, o->symbol, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(s, 2, type, -1, SQLITE_STATIC);
    sqlite3_bind_double(s, 3, o->lot);
    sqlite3_bind_double(s, 4, o->entry);
    bind_opt(s, 5, o->sl);
    bind_opt(s, 6, o->tp);
    sqlite3_bind_int64(s, 7, o->expiry_ms);
    if (o->signal_id)
        sqlite3_bind_int64(s, 8, o->signal_id);
    sqlite3_bind_text(s, 9, o->comment, -1, SQLITE_TRANSIENT);
    if (o->broker_state[0])
        sqlite3_bind_text(s, 10, o->broker_state, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(s, 11, o->created_ms);
    if (step_done(l, s, err, errlen))
        return -1;
    o->id = sqlite3_last_insert_rowid(l->db);
    snprintf(o->state, sizeof o->state, "working");
    return 0;
}

static void row_to_order(sqlite3_stmt *s, struct ldg_order *o)
{
    memset(o, 0, sizeof *o);
    o->id = sqlite3_column_int64(s, 0);
    snprintf(o->symbol, sizeof o->symbol, "%s", col_text(s, 1));
    o->type = ord_type_of(col_text(s, 2));
    o->lot = sqlite3_column_double(s, 3);
    o->entry = sqlite3_column_double(s, 4);
    o->sl = sqlite3_column_double(s, 5);
    o->tp = sqlite3_column_double(s, 6);
    o->expiry_ms = sqlite3_column_int64(s, 7);
    snprintf(o->state, sizeof o->state, "%s", col_text(s, 8));
    o->trade_id = sqlite3_column_int64(s, 9);
    o->signal_id = sqlite3_column_int64(s, 10);
    o->ticket = sqlite3_column_int64(s, 11);
    snprintf(o->comment, sizeof o->comment, "%s", col_text(s, 12));
    snprintf(o->broker_state, sizeof o->broker_state, "%s", col_text(s, 13));
    snprintf(o->reason, sizeof o->reason, "%s", col_text(s, 14));
    o->created_ms = sqlite3_column_int64(s, 15);
    o->done_ms = sqlite3_column_int64(s, 16);
}

int ldg_order_get(ledger *l, int64_t id, struct ldg_order *o)
{
    sqlite3_stmt *s = stmt(l, S_ORD_GET);
    sqlite3_bind_int64(s, 1, id);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW)
        row_to_order(s, o);
    sqlite3_reset(s);
    return rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? 1 : -1;
}

static int collect_orders(sqlite3_stmt *s, struct ldg_order *out, int max)
{
    int n = 0, rc = SQLITE_DONE;
    while (n < max && (rc = sqlite3_step(s)) == SQLITE_ROW)
        row_to_order(s, &out[n++]);
    if (n == max)
        rc = SQLITE_DONE;
    sqlite3_reset(s);
    return rc == SQLITE_DONE ? n : -1;
}

int ldg_working_orders(ledger *l, struct ldg_order *out, int max)
{
    return collect_orders(stmt(l, S_ORD_WORKING), out, max);
}

int ldg_last_orders(ledger *l, struct ldg_order *out, int n)
{
    sqlite3_stmt *s = stmt(l, S_ORD_LAST);
    sqlite3_bind_int(s, 1, n);
    return collect_orders(s, out, n);
}

int ldg_order_finish(ledger *l, int64_t id, const char *state, int64_t trade_id, const char *reason, int64_t ms)
{
    if (strcmp(state, "filled") && strcmp(state, "cancelled") && strcmp(state, "expired") &&
        strcmp(state, "rejected"))
        return -1;
    sqlite3_stmt *s = stmt(l, S_ORD_FINISH);
    sqlite3_bind_int64(s, 1, id);
    sqlite3_bind_text(s, 2, state, -1, SQLITE_TRANSIENT);
    if (trade_id)
        sqlite3_bind_int64(s, 3, trade_id);
    if (reason && reason[0])
        sqlite3_bind_text(s, 4, reason, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(s, 5, ms);
    if (step_done(l, s, NULL, 0))
        return -1;
    return sqlite3_changes(l->db) == 1 ? 0 : 1;
}

int ldg_order_placed(ledger *l, int64_t id, int64_t ticket)
{
    sqlite3_stmt *s = stmt(l, S_ORD_PLACED);
    sqlite3_bind_int64(s, 1, id);
    sqlite3_bind_int64(s, 2, ticket);
    if (step_done(l, s, NULL, 0))
        return -1;
    return sqlite3_changes(l->db) == 1 ? 0 : 1;
}
