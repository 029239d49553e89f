/* test_store — open helper settings, migrations, key/value. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "store.h"
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

static void pragma_text(sqlite3 *db, const char *sql, char *out, size_t len)
{
    sqlite3_stmt *s;
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(s), SQLITE_ROW);
    snprintf(out, len, "%s", (const char *)sqlite3_column_text(s, 0));
    sqlite3_finalize(s);
}

static void test_open_sets_wal_and_full_sync(void **st)
{
    (void)st;
    char path[128], err[256], v[32];
    sqlite3 *db;
    snprintf(path, sizeof path, "%s/a.db", dir);
    assert_int_equal(store_open(path, &db, err, sizeof err), 0);
    pragma_text(db, "PRAGMA journal_mode", v, sizeof v);
    assert_string_equal(v, "wal");
    pragma_text(db, "PRAGMA synchronous", v, sizeof v);
    assert_string_equal(v, "2");    /* FULL */
    pragma_text(db, "PRAGMA foreign_keys", v, sizeof v);
    assert_string_equal(v, "1");
    sqlite3_close(db);
}

static void test_migrations_run_once_in_order(void **st)
{
    (void)st;
    static const char *const m[] = {
        "CREATE TABLE t (a INTEGER)",
        "ALTER TABLE t ADD COLUMN b TEXT",
    };
    char path[128], err[256];
    sqlite3 *db;
    snprintf(path, sizeof path, "%s/m.db", dir);
    assert_int_equal(store_open(path, &db, err, sizeof err), 0);
    assert_int_equal(store_schema_version(db), 0);
    assert_int_equal(store_migrate(db, m, 1, err, sizeof err), 0);
    assert_int_equal(store_schema_version(db), 1);
    assert_int_equal(store_migrate(db, m, 2, err, sizeof err), 0);
    assert_int_equal(store_schema_version(db), 2);
    assert_int_equal(store_migrate(db, m, 2, err, sizeof err), 0);   /* nothing to do */
    assert_int_equal(store_exec(db, "INSERT INTO t (a, b) VALUES (1, 'x')", err, sizeof err), 0);
    /* A database from a newer zepix is refused, not downgraded. */
    assert_int_equal(store_migrate(db, m, 1, err, sizeof err), -1);
    assert_non_null(strstr(err, "newer"));
    sqlite3_close(db);
}

static void test_failed_migration_rolls_back(void **st)
{
    (void)st;
    static const char *const m[] = {"CREATE TABLE u (a); CREATE TABLE u (b)"};
    char path[128], err[256];
    sqlite3 *db;
    snprintf(path, sizeof path, "%s/f.db", dir);
    assert_int_equal(store_open(path, &db, err, sizeof err), 0);
    assert_int_equal(store_migrate(db, m, 1, err, sizeof err), -1);
    assert_non_null(strstr(err, "migration 1"));
    assert_int_equal(store_schema_version(db), 0);
    assert_int_equal(store_exec(db, "SELECT * FROM u", err, sizeof err), -1);   /* rolled back */
    sqlite3_close(db);
}

static void test_host_db_has_journal_tables_and_kv(void **st)
{
    (void)st;
    char err[256], v[64];
    sqlite3 *db;
    int64_t i;
    char sub[96];
    snprintf(sub, sizeof sub, "%s/data", dir);
    assert_int_equal(store_host_open(sub, &db, err, sizeof err), 0);
    assert_int_equal(store_exec(db, "SELECT id, source, ext_id, raw, state, response FROM signals", err, sizeof err), 0);
    assert_int_equal(store_exec(db, "SELECT signal_id, plugin, status FROM signal_results", err, sizeof err), 0);
    assert_int_equal(store_exec(db, "SELECT plugin_id, enabled FROM plugin_state", err, sizeof err), 0);
    assert_int_equal(store_kv_get(db, "nope", v, sizeof v), 1);
    assert_int_equal(store_kv_set(db, "k", "v1"), 0);
    assert_int_equal(store_kv_set(db, "k", "v2"), 0);
    assert_int_equal(store_kv_get(db, "k", v, sizeof v), 0);
    assert_string_equal(v, "v2");
    assert_int_equal(store_kv_set_i64(db, "offset", 1234567890123LL), 0);
    assert_int_equal(store_kv_get_i64(db, "offset", &i), 0);
    assert_true(i == 1234567890123LL);
    sqlite3_close(db);
    /* Reopening keeps data and does not re-run migrations. */
    assert_int_equal(store_host_open(sub, &db, err, sizeof err), 0);
    assert_int_equal(store_kv_get(db, "k", v, sizeof v), 0);
    assert_string_equal(v, "v2");
    sqlite3_close(db);
}

static void test_same_source_and_id_is_unique(void **st)
{
    (void)st;
    char err[256], sub[96];
    sqlite3 *db;
    snprintf(sub, sizeof sub, "%s/u", dir);
    assert_int_equal(store_host_open(sub, &db, err, sizeof err), 0);
    const char *ins = "INSERT INTO signals (source, ext_id, received_ms, raw) VALUES ('webhook', 'a1', 1, 'x')";
    assert_int_equal(store_exec(db, ins, err, sizeof err), 0);
    assert_int_equal(store_exec(db, ins, err, sizeof err), -1);
    assert_int_equal(store_exec(db, "INSERT INTO signals (source, ext_id, received_ms, raw)"
                                    " VALUES ('telegram', 'a1', 1, 'x')", err, sizeof err), 0);
    sqlite3_close(db);
}

static void test_unwritable_dir_is_a_clear_error(void **st)
{
    (void)st;
    char err[256];
    sqlite3 *db;
    assert_int_equal(store_host_open("/proc/zepix-cannot-exist", &db, err, sizeof err), -1);
    assert_non_null(strstr(err, "/proc/zepix-cannot-exist"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_open_sets_wal_and_full_sync),
        cmocka_unit_test(test_migrations_run_once_in_order),
        cmocka_unit_test(test_failed_migration_rolls_back),
        cmocka_unit_test(test_host_db_has_journal_tables_and_kv),
        cmocka_unit_test(test_same_source_and_id_is_unique),
        cmocka_unit_test(test_unwritable_dir_is_a_clear_error),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
