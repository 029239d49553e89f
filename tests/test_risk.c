/*
 * test_risk — the money guard's judgement (src/risk.c) on figures given to it:
 * each limit refuses with a "risk:" reason naming the limit and the figure; the
 * loss and drawdown limits pause the scope, persisted for that trading day, and
 * a new day or risk_clear (/resume) ends the pause.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "risk.h"

static char err[300];
static struct config cfg;

static sqlite3 *db_new(void)
{
    sqlite3 *db;
    assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "CREATE TABLE kv (key TEXT PRIMARY KEY, value TEXT NOT NULL)", NULL, NULL,
                                  NULL), SQLITE_OK);
    return db;
}

static int check(struct risk *r, const char *scope, const struct cfg_risk_limits *l, struct risk_figures f,
                 double lot, int *tripped)
{
    err[0] = '\0';
    return risk_check(r, scope, l, &f, lot, tripped, err, sizeof err);
}

static void expect_refused(int rc, const char *frag)
{
    assert_int_equal(rc, -1);
    assert_non_null(strstr(err, "risk: "));
    if (!strstr(err, frag))
        fail_msg("error \"%s\" lacks \"%s\"", err, frag);
}

static void test_each_order_limit_names_itself_and_its_figure(void **st)
{
    (void)st;
    sqlite3 *db = db_new();
    struct risk *r = risk_new(db, &cfg);
    risk_set_day(r, 1000);
    int t;
    struct cfg_risk_limits l = {.max_lot = 1.0, .max_open_trades = 2, .max_lots_per_symbol = 1.5};
    struct risk_figures f = {.open_trades = 1, .symbol_lots = 1.0, .day_start_balance = 10000};
    assert_int_equal(check(r, "p", &l, f, 0.5, &t), 0);
    expect_refused(check(r, "p", &l, f, 1.2, &t), "plugin max_lot 1.00 (this order 1.20 lots)");
    assert_int_equal(t, 0);
    expect_refused(check(r, "p", &l, f, 0.6, &t), "max_lots_per_symbol 1.50 (1.00 open + 0.60)");
    f.open_trades = 2;
    expect_refused(check(r, "", &l, f, 0.1, &t), "account max_open_trades 2 reached (2 open)");
    assert_int_equal(t, 0);
    assert_null(risk_paused(r, "p"));   /* order limits refuse, they do not pause */
    risk_free(r);
    sqlite3_close(db);
}

static void test_daily_loss_pauses_the_scope_for_the_day_persisted(void **st)
{
    (void)st;
    sqlite3 *db = db_new();
    struct risk *r = risk_new(db, &cfg);
    risk_set_day(r, 1000);
    int t;
    struct cfg_risk_limits l = {.max_daily_loss = 100};
    struct risk_figures f = {.day_pnl = -99.99, .day_start_balance = 10000};
    assert_int_equal(check(r, "p", &l, f, 0.1, &t), 0);
    f.day_pnl = -100;
    expect_refused(check(r, "p", &l, f, 0.1, &t), "plugin max_daily_loss 100.00 reached (today -100.00)");
    assert_int_equal(t, 1);
    assert_non_null(risk_paused(r, "p"));
    assert_null(risk_paused(r, "q"));
    /* paused: refused whatever the figures, and told only once */
    f.day_pnl = 50;
    expect_refused(check(r, "p", &l, f, 0.1, &t), "opening paused until the next daily reset or /resume");
    assert_int_equal(t, 0);
    /* a restart on the same day keeps it */
    risk_free(r);
    r = risk_new(db, &cfg);
    risk_set_day(r, 1000);
    assert_non_null(risk_paused(r, "p"));
    /* the next trading day ends it */
    risk_set_day(r, 2000);
    assert_null(risk_paused(r, "p"));
    assert_int_equal(check(r, "p", &l, f, 0.1, &t), 0);
    risk_free(r);
    sqlite3_close(db);
}

static void test_resume_clears_every_pause_also_on_disk(void **st)
{
    (void)st;
    sqlite3 *db = db_new();
    struct risk *r = risk_new(db, &cfg);
    risk_set_day(r, 1000);
    int t;
    struct cfg_risk_limits l = {.max_daily_loss_pct = 2};
    struct risk_figures f = {.day_pnl = -250, .day_start_balance = 10000};
    expect_refused(check(r, "", &l, f, 0.1, &t), "account max_daily_loss_pct 2% reached (today -250.00, 2.50% of");
    risk_clear(r);
    assert_null(risk_paused(r, ""));
    risk_free(r);
    r = risk_new(db, &cfg);
    risk_set_day(r, 1000);
    assert_null(risk_paused(r, ""));
    risk_free(r);
    sqlite3_close(db);
}

static void test_drawdown_is_measured_from_todays_peak(void **st)
{
    (void)st;
    struct risk *r = risk_new(NULL, &cfg);
    risk_set_day(r, 1000);
    int t;
    struct cfg_risk_limits l = {.max_drawdown_pct = 1};
    struct risk_figures f = {.day_pnl = 500, .day_start_balance = 10000};
    assert_int_equal(check(r, "", &l, f, 0.1, &t), 0);       /* peak equity 10500 */
    f.day_pnl = 400;                                          /* 0.95% below the peak */
    assert_int_equal(check(r, "", &l, f, 0.1, &t), 0);
    f.day_pnl = 395;                                          /* 105 / 10500 = 1.0% */
    expect_refused(check(r, "", &l, f, 0.1, &t), "max_drawdown_pct 1% reached");
    assert_int_equal(t, 1);
    risk_free(r);
}

static void test_per_plugin_limits_are_found_by_id(void **st)
{
    (void)st;
    struct config c;
    char e[256];
    assert_int_equal(cfg_parse("t.json", "{\"risk\":{\"max_open_trades\":3,\"per_plugin\":{\"a\":{\"max_lot\":0.5}}}}",
                               &c, e, sizeof e), 0);
    assert_int_equal(c.risk.account.max_open_trades, 3);
    assert_true(risk_plugin_limits(&c, "a")->max_lot == 0.5);
    assert_false(risk_any(risk_plugin_limits(&c, "b")));
    cfg_free(&c);
    assert_int_equal(cfg_parse("t.json", "{\"risk\":{\"max_loss\":3}}", &c, e, sizeof e), -1);
    assert_non_null(strstr(e, "risk.max_loss"));
    assert_int_equal(cfg_parse("t.json", "{\"risk\":{\"per_plugin\":{\"a\":{\"per_plugin\":{}}}}}", &c, e, sizeof e), -1);
    assert_non_null(strstr(e, "risk.per_plugin.a"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_each_order_limit_names_itself_and_its_figure),
        cmocka_unit_test(test_daily_loss_pauses_the_scope_for_the_day_persisted),
        cmocka_unit_test(test_resume_clears_every_pause_also_on_disk),
        cmocka_unit_test(test_drawdown_is_measured_from_todays_peak),
        cmocka_unit_test(test_per_plugin_limits_are_found_by_id),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
