/* test_report — the figures behind the daily report, /daily and /stats, on
 * hand-worked trade sets in real plugin ledgers: wins, losses, break-even,
 * drawdown from the running peak (which starts at zero), the period bounds,
 * totals whose drawdown is that of the merged curve, the same arithmetic for
 * rows and totals; the phone-sized HTML table; argument parsing; periods
 * counted in trading days. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <time.h>
#include "config.h"
#include "ledger.h"
#include "report.h"
#include "sbuf.h"
#include "testutil.h"

#define T0 1773000000000LL      /* 2026-03-08 20:00 UTC, milliseconds */
#define MIN_MS 60000LL

struct fx {
    char dir[64];
    ledger *a, *b;
};

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof *f);
    char err[256];
    assert_non_null(f);
    assert_non_null(tu_tmpdir(f->dir, sizeof f->dir));
    assert_int_equal(ldg_open(f->dir, "alpha", &f->a, err, sizeof err), 0);
    assert_int_equal(ldg_open(f->dir, "beta", &f->b, err, sizeof err), 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    ldg_close(f->a);
    ldg_close(f->b);
    tu_rmdir(f->dir);
    free(f);
    return 0;
}

/* A trade opened a minute before exit_ms and closed at exit_ms with money. */
static int64_t closed(ledger *l, int64_t exit_ms, double money)
{
    char err[256];
    struct ldg_trade t = {.side = ZX_BUY, .lot = 0.1, .entry = 1.1, .entry_ms = exit_ms - MIN_MS};
    snprintf(t.symbol, sizeof t.symbol, "EURUSD");
    assert_int_equal(ldg_insert_open(l, &t, err, sizeof err), 0);
    assert_int_equal(ldg_record_close(l, t.id, 0.1, 1.1, 0, money, exit_ms, "tp", err, sizeof err), 0);
    return t.id;
}

static void open_trade(ledger *l, int64_t entry_ms)
{
    char err[256];
    struct ldg_trade t = {.side = ZX_SELL, .lot = 0.2, .entry = 1.2, .entry_ms = entry_ms};
    snprintf(t.symbol, sizeof t.symbol, "EURUSD");
    assert_int_equal(ldg_insert_open(l, &t, err, sizeof err), 0);
}

static void fill(struct rpt *r, struct fx *f, int both, int64_t from, int64_t to)
{
    char err[256];
    struct rpt_src src[2] = {{"alpha", f->a}, {"beta", f->b}};
    assert_int_equal(rpt_fill(r, src, both ? 2 : 1, from, to, err, sizeof err), 0);
}

static void assert_stats(const struct ldg_stats *s, int trades, int wins, int losses, double rate, double profit,
                         double dd)
{
    assert_int_equal(s->trades, trades);
    assert_int_equal(s->wins, wins);
    assert_int_equal(s->losses, losses);
    assert_true(fabs(s->win_rate - rate) < 1e-9);
    assert_true(fabs(s->profit - profit) < 1e-9);
    assert_true(fabs(s->max_drawdown - dd) < 1e-9);
}

/* ---- arithmetic ------------------------------------------------------------------- */

static void test_wins_losses_break_even_and_drawdown_by_hand(void **state)
{
    struct fx *f = *state;
    struct rpt r;
    /* +100, -30, 0, -50, +20: equity 100, 70, 70, 20, 40. Peak 100, lowest
     * after it 20: max drawdown 80. Break-even is neither a win nor a loss,
     * but is a trade: 2 wins of 5 = 40%. */
    double p[] = {100, -30, 0, -50, 20};
    for (int i = 0; i < 5; i++)
        closed(f->a, T0 + i * MIN_MS, p[i]);
    fill(&r, f, 0, T0, T0 + 60 * MIN_MS);
    assert_int_equal(r.n_rows, 1);
    assert_stats(&r.rows[0].st, 5, 2, 2, 40.0, 40.0, 80.0);
    assert_stats(&r.total, 5, 2, 2, 40.0, 40.0, 80.0);
    assert_int_equal(r.n_pts, 5);
    rpt_free(&r);
}

static void test_drawdown_counts_from_zero_when_the_day_opens_with_losses(void **state)
{
    struct fx *f = *state;
    struct rpt r;
    /* -10, -20, +5: equity -10, -30, -25; the peak is the start (0): DD 30. */
    closed(f->a, T0 + 1 * MIN_MS, -10);
    closed(f->a, T0 + 2 * MIN_MS, -20);
    closed(f->a, T0 + 3 * MIN_MS, 5);
    fill(&r, f, 0, T0, T0 + 60 * MIN_MS);
    assert_stats(&r.rows[0].st, 3, 1, 2, 100.0 / 3, -25.0, 30.0);
    rpt_free(&r);
    /* Only winners: no drawdown at all. */
    fill(&r, f, 0, T0 + 3 * MIN_MS, T0 + 60 * MIN_MS);
    assert_stats(&r.rows[0].st, 1, 1, 0, 100.0, 5.0, 0.0);
    rpt_free(&r);
}

static void test_period_includes_its_start_excludes_its_end_and_skips_open_trades(void **state)
{
    struct fx *f = *state;
    struct rpt r;
    closed(f->a, T0 - 1, 1000);             /* the day before */
    closed(f->a, T0, 10);                   /* exactly at the reset: this day */
    closed(f->a, T0 + 30 * MIN_MS, -4);
    closed(f->a, T0 + 60 * MIN_MS, 500);    /* exactly at the next reset: the next day */
    open_trade(f->a, T0 + 5 * MIN_MS);
    fill(&r, f, 0, T0, T0 + 60 * MIN_MS);
    assert_stats(&r.rows[0].st, 2, 1, 1, 50.0, 6.0, 4.0);
    rpt_free(&r);
    /* An empty period: zeros, win rate 0, not a division by zero. */
    fill(&r, f, 1, T0 + 100 * MIN_MS, T0 + 200 * MIN_MS);
    assert_stats(&r.rows[0].st, 0, 0, 0, 0, 0, 0);
    assert_stats(&r.total, 0, 0, 0, 0, 0, 0);
    assert_int_equal(r.n_pts, 0);
    rpt_free(&r);
}

static void test_total_drawdown_is_that_of_the_merged_curve_not_a_sum(void **state)
{
    struct fx *f = *state;
    struct rpt r;
    /* alpha +100 @1, -80 @4 (DD 80); beta -50 @2, +60 @3 (DD 50).
     * Merged: +100, -50, +60, -80 -> 100, 50, 110, 30: peak 110, DD 80. */
    closed(f->a, T0 + 1 * MIN_MS, 100);
    closed(f->b, T0 + 2 * MIN_MS, -50);
    closed(f->b, T0 + 3 * MIN_MS, 60);
    closed(f->a, T0 + 4 * MIN_MS, -80);
    fill(&r, f, 1, T0, T0 + 60 * MIN_MS);
    assert_int_equal(r.n_rows, 2);
    assert_string_equal(r.rows[0].id, "alpha");
    assert_stats(&r.rows[0].st, 2, 1, 1, 50.0, 20.0, 80.0);
    assert_stats(&r.rows[1].st, 2, 1, 1, 50.0, 10.0, 50.0);
    assert_stats(&r.total, 4, 2, 2, 50.0, 30.0, 80.0);
    /* The curve is in exit order across plugins. */
    assert_int_equal(r.n_pts, 4);
    assert_true(r.pts[1].profit == -50 && r.pts[2].profit == 60);
    rpt_free(&r);
}

static void test_rows_and_rollup_use_the_same_arithmetic(void **state)
{
    struct fx *f = *state;
    struct rpt r;
    unsigned seed = 12345;
    /* 300 pseudo-random trades, some at the same millisecond. */
    for (int i = 0; i < 300; i++) {
        seed = seed * 1103515245u + 12345u;
        double money = (double)((int)(seed >> 8) % 20001 - 10000) / 100.0;
        closed(f->a, T0 + (i / 3) * 1000, (seed >> 4) % 7 == 0 ? 0 : money);
    }
    fill(&r, f, 0, T0, T0 + 3600 * 1000);
    struct ldg_stats direct;
    assert_int_equal(ldg_stats(f->a, T0, T0 + 3600 * 1000, &direct), 0);
    assert_memory_equal(&r.rows[0].st, &direct, sizeof direct);
    assert_memory_equal(&r.total, &direct, sizeof direct);     /* one plugin: total = its row, bit for bit */
    rpt_free(&r);
}

/* ---- the table ------------------------------------------------------------------------ */

static size_t utf8_len(const char *s, size_t n)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        k += ((unsigned char)s[i] & 0xC0) != 0x80;
    return k;
}

static void test_table_fits_a_phone_and_escapes_every_value(void **state)
{
    struct fx *f = *state;
    struct rpt r;
    struct sbuf b;
    closed(f->a, T0 + 1 * MIN_MS, 100);
    closed(f->a, T0 + 2 * MIN_MS, -30);
    closed(f->b, T0 + 3 * MIN_MS, 0);
    fill(&r, f, 1, T0, T0 + 60 * MIN_MS);
    snprintf(r.rows[1].id, sizeof r.rows[1].id, "a_very_long_plugin_id_that_overflows");
    sbuf_init(&b);
    rpt_render(&r, "Daily <report> & co", "2026-03-09 03:35 IST → 2026-03-10 03:35 IST", &b);
    const char *s = sbuf_str(&b);
    assert_non_null(strstr(s, "<b>Daily &lt;report&gt; &amp; co</b>\n"));
    const char *pre = strstr(s, "<pre>"), *end = strstr(s, "</pre>");
    assert_non_null(pre);
    assert_non_null(end);
    assert_string_equal(end, "</pre>");
    /* Every line of the table is at most 34 characters. */
    for (const char *p = pre + 5; p < end;) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
        assert_true(utf8_len(p, n) <= 34);
        p += n + 1;
    }
    assert_non_null(strstr(s, "alpha                2    1/1  50%\n"));
    assert_non_null(strstr(s, "                +70.00       30.00\n"));   /* +100, -30 */
    assert_non_null(strstr(s, "a_very_long_pl~      1    0/0   0%\n"));
    assert_non_null(strstr(s, "TOTAL                3    1/1  33%\n"));
    sbuf_free(&b);
    rpt_free(&r);
}

static void test_one_plugin_has_no_totals_line_and_no_plugin_says_so(void **state)
{
    struct fx *f = *state;
    struct rpt r;
    struct sbuf b;
    char err[64];
    fill(&r, f, 0, T0, T0 + 1);
    sbuf_init(&b);
    rpt_render(&r, "Stats", NULL, &b);
    assert_null(strstr(sbuf_str(&b), "TOTAL"));
    assert_non_null(strstr(sbuf_str(&b), "alpha                0    0/0    -\n"));
    sbuf_free(&b);
    rpt_free(&r);
    assert_int_equal(rpt_fill(&r, NULL, 0, T0, T0 + 1, err, sizeof err), 0);
    sbuf_init(&b);
    rpt_render(&r, "Stats", NULL, &b);
    assert_string_equal(sbuf_str(&b), "<b>Stats</b>\nNo plugin has a database yet.");
    sbuf_free(&b);
    rpt_free(&r);
}

/* ---- arguments and periods ---------------------------------------------------------------- */

static void test_arguments_take_an_id_and_a_period_in_either_order(void **state)
{
    (void)state;
    char id[64], err[64];
    enum rpt_period p;
    assert_int_equal(rpt_parse_args("", id, sizeof id, &p, err, sizeof err), 0);
    assert_string_equal(id, "");
    assert_int_equal(p, RPT_TODAY);
    assert_int_equal(rpt_parse_args("week", id, sizeof id, &p, err, sizeof err), 0);
    assert_int_equal(p, RPT_WEEK);
    assert_int_equal(rpt_parse_args("combined_v3", id, sizeof id, &p, err, sizeof err), 0);
    assert_string_equal(id, "combined_v3");
    assert_int_equal(p, RPT_TODAY);
    assert_int_equal(rpt_parse_args("  ALL  combined_v3 ", id, sizeof id, &p, err, sizeof err), 0);
    assert_string_equal(id, "combined_v3");
    assert_int_equal(p, RPT_ALL);
    assert_int_equal(rpt_parse_args("x month", id, sizeof id, &p, err, sizeof err), 0);
    assert_int_equal(p, RPT_MONTH);
    assert_int_equal(rpt_parse_args("a b", id, sizeof id, &p, err, sizeof err), -1);
    assert_int_equal(rpt_parse_args("week month", id, sizeof id, &p, err, sizeof err), -1);
    assert_int_equal(rpt_parse_args("a week x", id, sizeof id, &p, err, sizeof err), -1);
    char small[4];
    assert_int_equal(rpt_parse_args("toolong", small, sizeof small, &p, err, sizeof err), -1);
}

static void test_periods_are_counted_in_trading_days(void **state)
{
    (void)state;
    struct config cfg;
    memset(&cfg, 0, sizeof cfg);
    snprintf(cfg.daily_reset.timezone, sizeof cfg.daily_reset.timezone, "Asia/Kolkata");
    cfg.daily_reset.seconds = 3 * 3600 + 35 * 60;
    /* now = 2026-03-10 10:00 IST = 04:30 UTC. Today began 03-10 03:35 IST
     * (03-09 22:05 UTC); the week 03-04 03:35 IST (03-03 22:05 UTC); the month
     * 02-09 03:35 IST (02-08 22:05 UTC). */
    struct tm tm = {.tm_year = 126, .tm_mon = 2, .tm_mday = 10, .tm_hour = 4, .tm_min = 30};
    int64_t now = (int64_t)timegm(&tm) * 1000, from, to;
    char label[32];
    struct tm t1 = {.tm_year = 126, .tm_mon = 2, .tm_mday = 9, .tm_hour = 22, .tm_min = 5};
    struct tm t7 = {.tm_year = 126, .tm_mon = 2, .tm_mday = 3, .tm_hour = 22, .tm_min = 5};
    struct tm t30 = {.tm_year = 126, .tm_mon = 1, .tm_mday = 8, .tm_hour = 22, .tm_min = 5};
    assert_int_equal(rpt_period_range(&cfg, RPT_TODAY, now, &from, &to, label, sizeof label), 0);
    assert_int_equal(from, (int64_t)timegm(&t1) * 1000);
    assert_int_equal(to, now + 1);
    assert_string_equal(label, "today");
    assert_int_equal(rpt_period_range(&cfg, RPT_WEEK, now, &from, &to, label, sizeof label), 0);
    assert_int_equal(from, (int64_t)timegm(&t7) * 1000);
    assert_string_equal(label, "last 7 days");
    assert_int_equal(rpt_period_range(&cfg, RPT_MONTH, now, &from, &to, label, sizeof label), 0);
    assert_int_equal(from, (int64_t)timegm(&t30) * 1000);
    assert_int_equal(rpt_period_range(&cfg, RPT_ALL, now, &from, &to, label, sizeof label), 0);
    assert_int_equal(from, 0);
    assert_string_equal(label, "all time");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_wins_losses_break_even_and_drawdown_by_hand, setup, teardown),
        cmocka_unit_test_setup_teardown(test_drawdown_counts_from_zero_when_the_day_opens_with_losses, setup, teardown),
        cmocka_unit_test_setup_teardown(test_period_includes_its_start_excludes_its_end_and_skips_open_trades, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_total_drawdown_is_that_of_the_merged_curve_not_a_sum, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rows_and_rollup_use_the_same_arithmetic, setup, teardown),
        cmocka_unit_test_setup_teardown(test_table_fits_a_phone_and_escapes_every_value, setup, teardown),
        cmocka_unit_test_setup_teardown(test_one_plugin_has_no_totals_line_and_no_plugin_says_so, setup, teardown),
        cmocka_unit_test(test_arguments_take_an_id_and_a_period_in_either_order),
        cmocka_unit_test(test_periods_are_counted_in_trading_days),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
