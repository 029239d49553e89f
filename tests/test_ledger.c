/* test_ledger — a batch is all or nothing; the per-signal outcome record;
 * a lock held by another connection fails a write fast. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>
#include <time.h>

#include "ledger.h"
#include "testutil.h"

static char dir[64];

static int setup(void **st)
{
    (void)st;
    return tu_tmpdir(dir, sizeof dir) ? 0 : -1;
}

static int teardown(void **st)
{
    (void)st;
    tu_rmdir(dir);
    return 0;
}

static ledger *open_ledger(const char *id)
{
    ledger *l;
    char err[256];
    assert_int_equal(ldg_open(dir, id, &l, err, sizeof err), 0);
    return l;
}

static int insert(ledger *l, int64_t signal_id)
{
    struct ldg_trade t = {.side = ZX_BUY, .lot = 0.01, .entry = 1.1, .entry_ms = 1000, .signal_id = signal_id};
    char err[256];
    snprintf(t.symbol, sizeof t.symbol, "EURUSD");
    return ldg_insert_open(l, &t, err, sizeof err);
}

static int rows(ledger *l)
{
    sqlite3_stmt *s;
    assert_int_equal(sqlite3_prepare_v2(ldg_db(l), "SELECT count(*) FROM trades", -1, &s, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(s), SQLITE_ROW);
    int n = sqlite3_column_int(s, 0);
    sqlite3_finalize(s);
    return n;
}

static sqlite3 *lock_writes(const char *id)
{
    char path[128];
    sqlite3 *db;
    snprintf(path, sizeof path, "%s/zepix_%s.db", dir, id);
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
    return db;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void test_a_failed_write_rolls_back_the_whole_batch(void **st)
{
    (void)st;
    ledger *l = open_ledger("batchfail");
    char err[256] = "";
    assert_int_equal(ldg_begin(l), 0);
    assert_int_equal(insert(l, 1), 0);          /* before the lock: fine */
    assert_int_equal(ldg_commit(l, err, sizeof err), 0);
    sqlite3 *other = lock_writes("batchfail");
    assert_int_equal(ldg_begin(l), 0);
    double t0 = now_s();
    assert_int_equal(insert(l, 2), -1);         /* locked */
    assert_true(now_s() - t0 < 0.5);            /* the busy timeout is milliseconds, not 2 s */
    assert_true(ldg_batch_failed(l));
    sqlite3_exec(other, "ROLLBACK", NULL, NULL, NULL);
    sqlite3_close(other);
    /* The lock is gone, but this batch already lost a write: nothing of it commits. */
    assert_int_equal(insert(l, 3), -1);
    assert_int_equal(ldg_put_outcome(l, 3, "executed", 0, "", 1000), -1);
    assert_int_equal(ldg_commit(l, err, sizeof err), -1);
    assert_non_null(strstr(err, "locked"));
    assert_int_equal(rows(l), 1);
    /* The next batch is a fresh one. */
    assert_int_equal(ldg_begin(l), 0);
    assert_int_equal(insert(l, 4), 0);
    assert_int_equal(ldg_commit(l, err, sizeof err), 0);
    assert_int_equal(rows(l), 2);
    ldg_close(l);
}

static void test_a_nested_rollback_fails_the_batch_instead_of_ending_it(void **st)
{
    (void)st;
    ledger *l = open_ledger("nested");
    char err[256] = "";
    assert_int_equal(ldg_begin(l), 0);
    assert_int_equal(insert(l, 1), 0);
    assert_int_equal(ldg_begin(l), 0);          /* as ldg_record_close does */
    ldg_rollback(l);                            /* ... when one of its writes fails */
    /* Before: that ROLLBACK ended the batch and this write committed on its own. */
    assert_int_equal(insert(l, 2), -1);
    assert_int_equal(ldg_commit(l, err, sizeof err), -1);
    assert_int_equal(rows(l), 0);
    ldg_close(l);
}

static void test_begin_inside_a_transaction_fails(void **st)
{
    (void)st;
    ledger *l = open_ledger("begin");
    /* A plugin in isolation "none" holds this handle (api->db) and may leave a
     * transaction open: the host's BEGIN then fails and must be seen. */
    assert_int_equal(sqlite3_exec(ldg_db(l), "BEGIN", NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(ldg_begin(l), -1);
    assert_false(ldg_batch_failed(l));
    sqlite3_exec(ldg_db(l), "ROLLBACK", NULL, NULL, NULL);
    assert_int_equal(ldg_begin(l), 0);
    assert_int_equal(ldg_commit(l, NULL, 0), 0);
    ldg_close(l);
}

static void test_outcome_commits_and_rolls_back_with_its_trades(void **st)
{
    (void)st;
    ledger *l = open_ledger("outcome");
    char status[16], reason[200];
    int64_t trade = 0;
    assert_int_equal(ldg_get_outcome(l, 7, status, sizeof status, &trade, reason, sizeof reason), 1);
    assert_int_equal(ldg_begin(l), 0);
    assert_int_equal(insert(l, 7), 0);
    assert_int_equal(ldg_put_outcome(l, 7, "executed", 1, "", 1000), 0);
    ldg_rollback(l);
    assert_int_equal(ldg_get_outcome(l, 7, status, sizeof status, &trade, reason, sizeof reason), 1);
    assert_int_equal(rows(l), 0);
    assert_int_equal(ldg_begin(l), 0);
    assert_int_equal(insert(l, 7), 0);
    assert_int_equal(ldg_put_outcome(l, 7, "rejected", 0, "told to reject", 1000), 0);
    assert_int_equal(ldg_commit(l, NULL, 0), 0);
    assert_int_equal(ldg_get_outcome(l, 7, status, sizeof status, &trade, reason, sizeof reason), 0);
    assert_string_equal(status, "rejected");
    assert_string_equal(reason, "told to reject");
    assert_int_equal(trade, 0);
    ldg_close(l);
}

static void test_working_orders_end_once_and_leave_the_trades_alone(void **state)
{
    (void)state;
    ledger *l = open_ledger("orders");
    char err[256];
    struct ldg_order o = {.type = ZX_BUY_LIMIT, .lot = 0.1, .entry = 1.08, .sl = 1.078, .expiry_ms = 5000,
                          .signal_id = 9, .created_ms = 1000};
    snprintf(o.symbol, sizeof o.symbol, "EURUSD");
    assert_int_equal(ldg_order_insert(l, &o, err, sizeof err), 0);
    assert_true(o.id > 0);
    struct ldg_order bad = {.type = ZX_BUY, .lot = 0.1, .entry = 1.08};
    assert_int_equal(ldg_order_insert(l, &bad, err, sizeof err), -1);
    struct ldg_order o2 = {.type = ZX_SELL_STOP, .lot = 0.2, .entry = 1.07, .created_ms = 1001};
    snprintf(o2.symbol, sizeof o2.symbol, "EURUSD");
    assert_int_equal(ldg_order_insert(l, &o2, err, sizeof err), 0);

    struct ldg_order w[8];
    assert_int_equal(ldg_working_orders(l, w, 8), 2);
    assert_true(w[0].id == o.id && w[0].type == ZX_BUY_LIMIT && w[0].entry == 1.08 && w[0].sl == 1.078 &&
                w[0].tp == 0 && w[0].expiry_ms == 5000 && w[0].signal_id == 9);
    assert_string_equal(w[0].state, "working");
    assert_true(w[1].type == ZX_SELL_STOP && w[1].expiry_ms == 0);
    assert_int_equal(rows(l), 0);                   /* no trade row for a working order */

    assert_int_equal(ldg_order_finish(l, o.id, "filled", 42, "", 2000), 0);
    assert_int_equal(ldg_order_finish(l, o.id, "cancelled", 0, "too late", 2001), 1);  /* once */
    assert_int_equal(ldg_order_finish(l, o2.id, "nonsense", 0, "", 2001), -1);
    assert_int_equal(ldg_order_finish(l, o2.id, "expired", 0, "expiry_s reached", 2002), 0);
    assert_int_equal(ldg_working_orders(l, w, 8), 0);
    struct ldg_order g;
    assert_int_equal(ldg_order_get(l, o.id, &g), 0);
    assert_string_equal(g.state, "filled");
    assert_true(g.trade_id == 42 && g.done_ms == 2000);
    assert_int_equal(ldg_order_get(l, o2.id, &g), 0);
    assert_string_equal(g.state, "expired");
    assert_string_equal(g.reason, "expiry_s reached");
    assert_int_equal(ldg_last_orders(l, w, 1), 1);
    assert_int_equal(w[0].id, o2.id);
    assert_int_equal(ldg_order_placed(l, o2.id, 77), 1);  /* not working any more */
    ldg_close(l);
    /* reopened: the migration is not run twice, the rows are there */
    l = open_ledger("orders");
    assert_int_equal(ldg_last_orders(l, w, 8), 2);
    ldg_close(l);
}


int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_a_failed_write_rolls_back_the_whole_batch),
        cmocka_unit_test(test_a_nested_rollback_fails_the_batch_instead_of_ending_it),
        cmocka_unit_test(test_begin_inside_a_transaction_fails),
        cmocka_unit_test(test_outcome_commits_and_rolls_back_with_its_trades),
        cmocka_unit_test(test_working_orders_end_once_and_leave_the_trades_alone),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
