/* test_pnl — pips, money, pip value and currency conversion, worked by hand. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <string.h>
#include "pnl.h"

#define NEAR(a, b, tol) assert_true(fabs((a) - (b)) <= (tol))

static struct cfg_symbol sym(const char *name, double pip, double contract)
{
    struct cfg_symbol s;
    memset(&s, 0, sizeof s);
    snprintf(s.name, sizeof s.name, "%s", name);
    s.pip_size = pip;
    s.contract_size = contract;
    return s;
}

/* A quote table for the conversion callback: pairs and mids, NULL-terminated. */
struct fake_quotes {
    const char *pair[4];
    double mid[4];
    int calls;
};

static int fake_quote(void *ud, const char *symbol, double *mid)
{
    struct fake_quotes *f = ud;
    f->calls++;
    for (int i = 0; i < 4 && f->pair[i]; i++)
        if (strcmp(f->pair[i], symbol) == 0) {
            *mid = f->mid[i];
            return 0;
        }
    return -1;
}

static void test_eurusd_buy_gains_25_pips_and_125_dollars(void **st)
{
    (void)st;
    struct cfg_symbol s = sym("EURUSD", 0.0001, 100000);
    double f = 0;
    assert_int_equal(pnl_conversion("EURUSD", 1.10250, NULL, NULL, &f), 0);
    assert_true(f == 1);
    /* (1.10250 - 1.10000) / 0.0001 = 25 pips */
    NEAR(pnl_pips(&s, ZX_BUY, 1.10000, 1.10250), 25, 1e-6);
    /* 0.0025 x 0.5 lot x 100000 x 1 = $125 */
    NEAR(pnl_money(&s, ZX_BUY, 1.10000, 1.10250, 0.5, f), 125, 1e-6);
}

static void test_eurusd_sell_of_the_same_move_loses(void **st)
{
    (void)st;
    struct cfg_symbol s = sym("EURUSD", 0.0001, 100000);
    /* (1.10000 - 1.10250) / 0.0001 = -25 pips; -0.0025 x 0.5 x 100000 = -$125 */
    NEAR(pnl_pips(&s, ZX_SELL, 1.10000, 1.10250), -25, 1e-6);
    NEAR(pnl_money(&s, ZX_SELL, 1.10000, 1.10250, 0.5, 1), -125, 1e-6);
    /* and a sell that falls gains */
    NEAR(pnl_pips(&s, ZX_SELL, 1.10250, 1.10000), 25, 1e-6);
}

static void test_usdjpy_converts_by_dividing_by_the_close(void **st)
{
    (void)st;
    struct cfg_symbol s = sym("USDJPY", 0.01, 100000);
    double f = 0;
    /* base USD: exact, factor 1 / 150.50 */
    assert_int_equal(pnl_conversion("USDJPY", 150.50, NULL, NULL, &f), 0);
    NEAR(f, 1 / 150.50, 1e-15);
    /* (150.50 - 150.00) / 0.01 = 50 pips */
    NEAR(pnl_pips(&s, ZX_BUY, 150.00, 150.50), 50, 1e-6);
    /* 0.50 x 1 lot x 100000 = 50000 JPY; 50000 / 150.50 = 332.2259... USD */
    NEAR(pnl_money(&s, ZX_BUY, 150.00, 150.50, 1, f), 332.23, 0.01);
}

static void test_gold_uses_its_own_pip_and_contract(void **st)
{
    (void)st;
    struct cfg_symbol s = sym("XAUUSD", 0.1, 100);
    double f = 0;
    assert_int_equal(pnl_conversion("XAUUSD", 2010, NULL, NULL, &f), 0);
    assert_true(f == 1);
    /* (2010.0 - 2000.0) / 0.1 = 100 pips; 10.0 x 1 lot x 100 oz = $1000 */
    NEAR(pnl_pips(&s, ZX_BUY, 2000.0, 2010.0), 100, 1e-6);
    NEAR(pnl_money(&s, ZX_BUY, 2000.0, 2010.0, 1, f), 1000, 1e-6);
    /* a pip is 0.1 x 100 = $10 per lot */
    NEAR(pnl_pip_value(&s, f), 10, 1e-9);
}

static void test_cross_converts_through_a_quote_usd_pair(void **st)
{
    (void)st;
    struct fake_quotes q = {.pair = {"GBPUSD"}, .mid = {1.25}};
    double f = 0;
    assert_int_equal(pnl_conversion("EURGBP", 0.85, fake_quote, &q, &f), 0);
    NEAR(f, 1.25, 1e-15);
    /* EURGBP buy 0.85000 -> 0.85200, 1 lot: 0.002 x 100000 = 200 GBP x 1.25 = $250 */
    struct cfg_symbol s = sym("EURGBP", 0.0001, 100000);
    NEAR(pnl_money(&s, ZX_BUY, 0.85, 0.852, 1, f), 250, 1e-6);
}

static void test_cross_converts_through_a_usd_quote_pair(void **st)
{
    (void)st;
    /* EURCHF with only USDCHF 0.80 known: 1 CHF = 1 / 0.80 = 1.25 USD */
    struct fake_quotes q = {.pair = {"USDCHF"}, .mid = {0.80}};
    double f = 0;
    assert_int_equal(pnl_conversion("EURCHF", 0.95, fake_quote, &q, &f), 0);
    NEAR(f, 1.25, 1e-12);
}

static void test_cross_without_a_quote_is_approximate(void **st)
{
    (void)st;
    struct fake_quotes q = {.pair = {"AUDUSD"}, .mid = {0.66}};
    double f = 0;
    assert_int_equal(pnl_conversion("EURGBP", 0.85, fake_quote, &q, &f), 1);
    assert_true(f == 1);
    assert_int_equal(q.calls, 2);   /* asked GBPUSD, then USDGBP */
    f = 0;
    assert_int_equal(pnl_conversion("EURGBP", 0.85, NULL, NULL, &f), 1);
    assert_true(f == 1);
}

static void test_unusable_callback_mids_are_ignored(void **st)
{
    (void)st;
    struct fake_quotes q = {.pair = {"GBPUSD", "USDGBP"}, .mid = {0, NAN}};
    double f = 0;
    assert_int_equal(pnl_conversion("EURGBP", 0.85, fake_quote, &q, &f), 1);
    assert_true(f == 1);
}

static void test_pip_value_per_lot(void **st)
{
    (void)st;
    struct cfg_symbol eu = sym("EURUSD", 0.0001, 100000);
    struct cfg_symbol uj = sym("USDJPY", 0.01, 100000);
    double f = 0;
    /* 0.0001 x 100000 x 1 = $10 */
    NEAR(pnl_pip_value(&eu, 1), 10, 1e-9);
    /* 0.01 x 100000 = 1000 JPY / 150 = $6.67 */
    assert_int_equal(pnl_conversion("USDJPY", 150, NULL, NULL, &f), 0);
    NEAR(pnl_pip_value(&uj, f), 6.67, 0.01);
}

static void test_symbol_suffix_keeps_the_pair(void **st)
{
    (void)st;
    double f = 0;
    assert_int_equal(pnl_conversion("EURUSD.m", 1.1, NULL, NULL, &f), 0);
    assert_true(f == 1);
    assert_int_equal(pnl_conversion("USDJPY_x", 200, NULL, NULL, &f), 0);
    NEAR(f, 0.005, 1e-15);
}

static void test_degenerate_symbols_do_not_crash(void **st)
{
    (void)st;
    struct fake_quotes q = {.pair = {NULL}};
    const char *names[] = {"US30", "NAS100", "GER40", "X", "", "US500", "123456", "EU"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        double f = 0;
        assert_int_equal(pnl_conversion(names[i], 35000, fake_quote, &q, &f), 1);
        assert_true(f == 1);
    }
    double f = 0;
    assert_int_equal(pnl_conversion(NULL, 1, NULL, NULL, &f), 1);
    assert_true(f == 1);
    assert_int_equal(pnl_conversion("EURUSD", 1, NULL, NULL, NULL), 0);
    /* USD-based with a useless price: no division by zero, approximate */
    assert_int_equal(pnl_conversion("USDJPY", 0, NULL, NULL, &f), 1);
    assert_true(f == 1);

    /* An index with its configured pip still counts pips and money. */
    struct cfg_symbol us30 = sym("US30", 1, 1);
    NEAR(pnl_pips(&us30, ZX_BUY, 35000, 35100), 100, 1e-9);
    NEAR(pnl_money(&us30, ZX_BUY, 35000, 35100, 2, 1), 200, 1e-9);
    /* No pip size, no symbol, no side: 0, never inf or NaN. */
    struct cfg_symbol bad = sym("BAD", 0, 0);
    assert_true(pnl_pips(&bad, ZX_BUY, 1, 2) == 0);
    assert_true(pnl_pips(NULL, ZX_BUY, 1, 2) == 0);
    assert_true(pnl_money(NULL, ZX_BUY, 1, 2, 1, 1) == 0);
    assert_true(pnl_pip_value(NULL, 1) == 0);
    assert_true(pnl_pips(&us30, ZX_CLOSE, 1, 2) == 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_eurusd_buy_gains_25_pips_and_125_dollars),
        cmocka_unit_test(test_eurusd_sell_of_the_same_move_loses),
        cmocka_unit_test(test_usdjpy_converts_by_dividing_by_the_close),
        cmocka_unit_test(test_gold_uses_its_own_pip_and_contract),
        cmocka_unit_test(test_cross_converts_through_a_quote_usd_pair),
        cmocka_unit_test(test_cross_converts_through_a_usd_quote_pair),
        cmocka_unit_test(test_cross_without_a_quote_is_approximate),
        cmocka_unit_test(test_unusable_callback_mids_are_ignored),
        cmocka_unit_test(test_pip_value_per_lot),
        cmocka_unit_test(test_symbol_suffix_keeps_the_pair),
        cmocka_unit_test(test_degenerate_symbols_do_not_crash),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
