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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_a_failed_write_rolls_back_the_whole_batch),
        cmocka_unit_test(test_a_nested_rollback_fails_the_batch_instead_of_ending_it),
        cmocka_unit_test(test_begin_inside_a_transaction_fails),
        cmocka_unit_test(test_outcome_commits_and_rolls_back_with_its_trades),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
