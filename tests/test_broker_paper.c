/* test_broker_paper — the paper broker fills at its quotes, refuses what it cannot price. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "broker_paper.h"

#define NEAR(a, b) assert_true(fabs((a) - (b)) <= 1e-12)

static char err[512];
static struct config cfg;       /* large: static, not on the stack */

/* balance 10000, spread 2 pips, XAUUSD configured with pip 0.1. */
static int setup(void **st)
{
    memset(&cfg, 0, sizeof cfg);
    snprintf(cfg.broker.kind, sizeof cfg.broker.kind, "paper");
    cfg.broker.paper_balance = 10000;
    cfg.broker.paper_spread_pips = 2;
    snprintf(cfg.symbols[0].name, sizeof cfg.symbols[0].name, "XAUUSD");
    cfg.symbols[0].pip_size = 0.1;
    cfg.symbols[0].contract_size = 100;
    cfg.n_symbols = 1;
    struct broker *b = paper_new(&cfg, err, sizeof err);
    if (!b)
        return -1;
    *st = b;
    return 0;
}

static int teardown(void **st)
{
    struct broker *b = *st;
    b->ops->destroy(b->self);
    return 0;
}

/* Expect rc -1 and an err containing frag. */
static void expect_refused(int rc, const char *frag)
{
    assert_int_equal(rc, -1);
    if (!strstr(err, frag))
        fail_msg("error \"%s\" lacks \"%s\"", err, frag);
}

static int place(struct broker *b, const char *symbol, zx_action side, double lot, double sl,
                 double tp, struct broker_fill *f)
{
    err[0] = '\0';
    return b->ops->place(b->self, symbol, side, lot, sl, tp, "t", f, err, sizeof err);
}

static void test_new_broker_is_paper(void **st)
{
    struct broker *b = *st;
    assert_true(paper_is(b));
    assert_string_equal(b->ops->kind, "paper");
    assert_false(paper_is(NULL));
    struct broker other = {.ops = NULL, .self = NULL};
    assert_false(paper_is(&other));
    /* The paper_* calls refuse a broker that is not theirs. */
    assert_int_equal(paper_set_quote(&other, "EURUSD", 1, 1, 0, err, sizeof err), -1);
    assert_int_equal(paper_quote_from_price(&other, "EURUSD", 1, 0), -1);
    paper_set_realized(&other, 1);
    paper_set_floating(&other, 1);
    assert_null(paper_new(NULL, err, sizeof err));
}

static void test_order_without_a_quote_fails_naming_the_symbol(void **st)
{
    struct broker *b = *st;
    struct broker_fill f;
    expect_refused(place(b, "EURUSD", ZX_BUY, 0.1, 0, 0, &f), "no quote for EURUSD");
    assert_non_null(strstr(err, "POST /price"));
    assert_int_equal(b->ops->quote(b->self, "EURUSD", NULL, NULL, NULL), -1);
}

static void test_buy_fills_at_ask_and_sell_at_bid(void **st)
{
    struct broker *b = *st;
    struct broker_fill f;
    assert_int_equal(paper_set_quote(b, "EURUSD", 1.10000, 1.10020, 1000, err, sizeof err), 0);
    assert_int_equal(place(b, "EURUSD", ZX_BUY, 0.5, 0, 0, &f), 0);
    assert_true(f.price == 1.10020);
    assert_true(f.lot == 0.5);
    assert_true(f.ticket > 0);
    assert_int_equal(place(b, "EURUSD", ZX_SELL, 0.25, 0, 0, &f), 0);
    assert_true(f.price == 1.10000);
    assert_true(f.lot == 0.25);

    double bid = 0, ask = 0;
    int64_t t = 0;
    assert_int_equal(b->ops->quote(b->self, "EURUSD", &bid, &ask, &t), 0);
    assert_true(bid == 1.10000 && ask == 1.10020);
    assert_int_equal(t, 1000);
    assert_int_equal(b->ops->quote(b->self, "EURUSD", &bid, &ask, NULL), 0);
}

static void test_close_of_a_buy_fills_at_bid_and_of_a_sell_at_ask(void **st)
{
    struct broker *b = *st;
    struct broker_fill f;
    assert_int_equal(paper_set_quote(b, "EURUSD", 1.10250, 1.10270, 2000, err, sizeof err), 0);
    assert_int_equal(b->ops->close(b->self, 42, "EURUSD", ZX_BUY, 0.5, &f, err, sizeof err), 0);
    assert_int_equal(f.ticket, 42);
    assert_true(f.price == 1.10250);
    assert_true(f.lot == 0.5);
    assert_int_equal(b->ops->close(b->self, 43, "EURUSD", ZX_SELL, 0.1, &f, err, sizeof err), 0);
    assert_true(f.price == 1.10270);

    expect_refused(b->ops->close(b->self, 44, "GBPUSD", ZX_BUY, 0.1, &f, err, sizeof err),
                   "no quote for GBPUSD");
    expect_refused(b->ops->close(b->self, 42, "EURUSD", ZX_BUY, 0, &f, err, sizeof err), "lot");
    expect_refused(b->ops->close(b->self, 42, "EURUSD", ZX_CLOSE, 1, &f, err, sizeof err), "side");
}

static void test_price_quote_applies_the_spread(void **st)
{
    struct broker *b = *st;
    double bid, ask;
    /* 2 pips x 0.0001 = 0.0002 wide: 1.1 - 0.0001 = 1.0999, 1.1 + 0.0001 = 1.1001 */
    assert_int_equal(paper_quote_from_price(b, "EURUSD", 1.1, 5), 1);
    assert_int_equal(b->ops->quote(b->self, "EURUSD", &bid, &ask, NULL), 0);
    NEAR(bid, 1.0999);
    NEAR(ask, 1.1001);
    /* JPY pair defaults to pip 0.01: 150 -/+ 0.01 */
    assert_int_equal(paper_quote_from_price(b, "USDJPY", 150, 5), 1);
    assert_int_equal(b->ops->quote(b->self, "USDJPY", &bid, &ask, NULL), 0);
    NEAR(bid, 149.99);
    NEAR(ask, 150.01);
    /* a configured pip: XAUUSD 0.1 -> 2000 -/+ 0.1 */
    assert_int_equal(paper_quote_from_price(b, "XAUUSD", 2000, 5), 1);
    assert_int_equal(b->ops->quote(b->self, "XAUUSD", &bid, &ask, NULL), 0);
    NEAR(bid, 1999.9);
    NEAR(ask, 2000.1);
    /* bad prices set nothing */
    assert_int_equal(paper_quote_from_price(b, "GBPUSD", 0, 5), -1);
    assert_int_equal(paper_quote_from_price(b, "GBPUSD", NAN, 5), -1);
    assert_int_equal(paper_quote_from_price(b, "GBPUSD", INFINITY, 5), -1);
    assert_int_equal(paper_quote_from_price(b, "GBPUSD", 0.00005, 5), -1);  /* bid would be <= 0 */
    assert_int_equal(b->ops->quote(b->self, "GBPUSD", NULL, NULL, NULL), -1);
}

static void test_price_quote_never_overwrites_a_known_quote(void **st)
{
    struct broker *b = *st;
    double bid, ask;
    int64_t t;
    assert_int_equal(paper_set_quote(b, "EURUSD", 1.2000, 1.2003, 7, err, sizeof err), 0);
    assert_int_equal(paper_quote_from_price(b, "EURUSD", 1.1, 8), 0);
    assert_int_equal(b->ops->quote(b->self, "EURUSD", &bid, &ask, &t), 0);
    assert_true(bid == 1.2000 && ask == 1.2003);
    assert_int_equal(t, 7);
    /* the first price quote also stays until a real quote replaces it */
    assert_int_equal(paper_quote_from_price(b, "AUDUSD", 0.66, 1), 1);
    assert_int_equal(paper_quote_from_price(b, "AUDUSD", 0.70, 2), 0);
    assert_int_equal(b->ops->quote(b->self, "AUDUSD", &bid, &ask, NULL), 0);
    NEAR((bid + ask) / 2, 0.66);
    assert_int_equal(paper_set_quote(b, "AUDUSD", 0.7, 0.7, 3, err, sizeof err), 0);
    assert_int_equal(b->ops->quote(b->self, "AUDUSD", &bid, &ask, NULL), 0);
    assert_true(bid == 0.7 && ask == 0.7);
}

static void test_invalid_quotes_are_refused(void **st)
{
    struct broker *b = *st;
    const double bad[][2] = {
        {1.1002, 1.1000},       /* bid > ask */
        {-1.1, 1.1},            /* negative */
        {0, 1.1},               /* zero bid */
        {-2, -1},
        {NAN, 1.1},
        {1.1, NAN},
        {INFINITY, INFINITY},
        {1.1, INFINITY},
        {-INFINITY, 1.1},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = '\0';
        expect_refused(paper_set_quote(b, "EURUSD", bad[i][0], bad[i][1], 1, err, sizeof err),
                       "bid/ask: ");
    }
    assert_int_equal(b->ops->quote(b->self, "EURUSD", NULL, NULL, NULL), -1);
    /* A bad symbol is named as such. */
    expect_refused(paper_set_quote(b, "", 1, 1, 1, err, sizeof err), "symbol");
    expect_refused(paper_set_quote(b, NULL, 1, 1, 1, err, sizeof err), "symbol");
    expect_refused(paper_set_quote(b, "EUR/USD", 1, 1, 1, err, sizeof err), "symbol");
    /* The broker's own spelling is kept (SPEC 12): "EURUSD.pro" is its own symbol. */
    assert_int_equal(paper_set_quote(b, "EURUSD.pro", 1.1, 1.1002, 1, err, sizeof err), 0);
    assert_int_equal(b->ops->quote(b->self, "EURUSD.PRO", NULL, NULL, NULL), -1);
    expect_refused(paper_set_quote(b, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456", 1, 1, 1, err, sizeof err),
                   "symbol");
    /* 31 characters is the longest accepted. */
    assert_int_equal(paper_set_quote(b, "ABCDEFGHIJKLMNOPQRSTUVWXYZ01234", 1, 1, 1, err, sizeof err), 0);
}

static void test_stops_on_the_wrong_side_of_the_fill_are_refused(void **st)
{
    struct broker *b = *st;
    struct broker_fill f;
    /* bid 1.1000, ask 1.1002: a buy fills at 1.1002, a sell at 1.1000 */
    assert_int_equal(paper_set_quote(b, "EURUSD", 1.1000, 1.1002, 1, err, sizeof err), 0);
    expect_refused(place(b, "EURUSD", ZX_BUY, 1, 1.1010, 0, &f), "sl: 1.101 must be below");
    expect_refused(place(b, "EURUSD", ZX_BUY, 1, 1.1002, 0, &f), "sl:");      /* at the fill */
    expect_refused(place(b, "EURUSD", ZX_BUY, 1, 0, 1.0990, &f), "tp: 1.099 must be above");
    expect_refused(place(b, "EURUSD", ZX_BUY, 1, 0, 1.1001, &f), "tp:");      /* above bid, below ask */
    expect_refused(place(b, "EURUSD", ZX_SELL, 1, 1.0990, 0, &f), "sl: 1.099 must be above");
    expect_refused(place(b, "EURUSD", ZX_SELL, 1, 0, 1.1010, &f), "tp: 1.101 must be below");
    expect_refused(place(b, "EURUSD", ZX_BUY, 1, -1, 0, &f), "sl:");
    expect_refused(place(b, "EURUSD", ZX_BUY, 1, 0, NAN, &f), "tp:");
    /* the right sides pass */
    assert_int_equal(place(b, "EURUSD", ZX_BUY, 1, 1.0950, 1.1050, &f), 0);
    assert_int_equal(place(b, "EURUSD", ZX_BUY, 1, 1.1001, 0, &f), 0);   /* below the ask */
    assert_int_equal(place(b, "EURUSD", ZX_SELL, 1, 1.1050, 1.0950, &f), 0);
}

static void test_bad_lots_and_sides_are_refused(void **st)
{
    struct broker *b = *st;
    struct broker_fill f;
    assert_int_equal(paper_set_quote(b, "EURUSD", 1.1000, 1.1002, 1, err, sizeof err), 0);
    expect_refused(place(b, "EURUSD", ZX_BUY, 0, 0, 0, &f), "lot:");
    expect_refused(place(b, "EURUSD", ZX_BUY, -0.1, 0, 0, &f), "lot:");
    expect_refused(place(b, "EURUSD", ZX_BUY, NAN, 0, 0, &f), "lot:");
    expect_refused(place(b, "EURUSD", ZX_BUY, INFINITY, 0, 0, &f), "lot:");
    expect_refused(place(b, "EURUSD", ZX_CLOSE_LONG, 1, 0, 0, &f), "side:");
    expect_refused(place(b, "bad symbol", ZX_BUY, 1, 0, 0, &f), "symbol:");
}

static void test_tickets_are_unique_increasing_and_start_at_the_clock(void **st)
{
    struct broker *b = *st;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    int64_t before = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    struct broker_fill f;
    assert_int_equal(paper_set_quote(b, "EURUSD", 1.1000, 1.1002, 1, err, sizeof err), 0);
    int64_t prev = 0;
    /* far more orders than milliseconds pass: the counter must run ahead of the clock */
    for (int i = 0; i < 200; i++) {
        assert_int_equal(place(b, "EURUSD", i % 2 ? ZX_SELL : ZX_BUY, 0.01, 0, 0, &f), 0);
        if (i == 0)
            assert_true(f.ticket >= before);
        else
            assert_true(f.ticket > prev);
        prev = f.ticket;
    }
    /* a second broker (a restart) starts above the first one's last ticket
     * once the clock has caught up: sleep the lead off, then compare. */
    int64_t wait_ms = prev - before + 2;
    struct timespec d = {.tv_sec = wait_ms / 1000, .tv_nsec = (long)(wait_ms % 1000) * 1000000};
    nanosleep(&d, NULL);
    struct broker *b2 = paper_new(&cfg, err, sizeof err);
    assert_non_null(b2);
    assert_int_equal(paper_set_quote(b2, "EURUSD", 1.1000, 1.1002, 1, err, sizeof err), 0);
    assert_int_equal(place(b2, "EURUSD", ZX_BUY, 0.01, 0, 0, &f), 0);
    assert_true(f.ticket > prev);
    b2->ops->destroy(b2->self);
}

static void test_account_follows_realized_and_floating(void **st)
{
    struct broker *b = *st;
    double bal = 0, eq = 0;
    assert_int_equal(b->ops->account(b->self, &bal, &eq), 0);
    assert_true(bal == 10000 && eq == 10000);
    /* +250 closed: balance 10250; -50 open: equity 10250 - 50 = 10200 */
    paper_set_realized(b, 250);
    assert_int_equal(b->ops->account(b->self, &bal, &eq), 0);
    assert_true(bal == 10250 && eq == 10250);
    paper_set_floating(b, -50);
    assert_int_equal(b->ops->account(b->self, &bal, &eq), 0);
    assert_true(bal == 10250 && eq == 10200);
    /* the realized total is replaced, not added: -100 gives 9900, equity 9850 */
    paper_set_realized(b, -100);
    assert_int_equal(b->ops->account(b->self, &bal, &eq), 0);
    assert_true(bal == 9900 && eq == 9850);
    /* a shadow's account starts elsewhere (shadow.paper_balance); junk is ignored */
    paper_set_balance(b, 2000);
    paper_set_balance(b, -5);
    paper_set_balance(b, NAN);
    assert_int_equal(b->ops->account(b->self, &bal, &eq), 0);
    assert_true(bal == 1900 && eq == 1850);
}

static void test_modify_checks_only_the_values(void **st)
{
    struct broker *b = *st;
    assert_int_equal(b->ops->modify(b->self, 7, 1.09, 1.11, err, sizeof err), 0);
    assert_int_equal(b->ops->modify(b->self, 7, 0, 0, err, sizeof err), 0);
    expect_refused(b->ops->modify(b->self, 7, -1, 0, err, sizeof err), "sl:");
    expect_refused(b->ops->modify(b->self, 7, 0, NAN, err, sizeof err), "tp:");
    expect_refused(b->ops->modify(b->self, 7, INFINITY, 0, err, sizeof err), "sl:");
    expect_refused(b->ops->modify(b->self, 0, 1, 2, err, sizeof err), "ticket:");
}

static void test_ten_thousand_symbols_keep_their_own_quotes(void **st)
{
    struct broker *b = *st;
    char name[32];
    for (int i = 0; i < 10000; i++) {
        snprintf(name, sizeof name, "SYM%05d", i);
        double px = 1 + i / 100000.0;
        assert_int_equal(paper_set_quote(b, name, px, px + 0.0002, i, err, sizeof err), 0);
    }
    /* overwrite every tenth, then check all */
    for (int i = 0; i < 10000; i += 10) {
        snprintf(name, sizeof name, "SYM%05d", i);
        assert_int_equal(paper_set_quote(b, name, 5, 6, -i, err, sizeof err), 0);
    }
    for (int i = 0; i < 10000; i++) {
        double bid, ask;
        int64_t t;
        snprintf(name, sizeof name, "SYM%05d", i);
        assert_int_equal(b->ops->quote(b->self, name, &bid, &ask, &t), 0);
        if (i % 10 == 0) {
            assert_true(bid == 5 && ask == 6);
            assert_int_equal(t, -i);
        } else {
            double px = 1 + i / 100000.0;
            assert_true(bid == px && ask == px + 0.0002);
            assert_int_equal(t, i);
        }
    }
    assert_int_equal(b->ops->quote(b->self, "SYM10000", NULL, NULL, NULL), -1);
    assert_int_equal(b->ops->quote(b->self, "SYM0000", NULL, NULL, NULL), -1);
    assert_int_equal(b->ops->quote(b->self, NULL, NULL, NULL, NULL), -1);
    assert_int_equal(paper_quote_from_price(b, "SYM04321", 9, 0), 0);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_new_broker_is_paper),
        T(test_order_without_a_quote_fails_naming_the_symbol),
        T(test_buy_fills_at_ask_and_sell_at_bid),
        T(test_close_of_a_buy_fills_at_bid_and_of_a_sell_at_ask),
        T(test_price_quote_applies_the_spread),
        T(test_price_quote_never_overwrites_a_known_quote),
        T(test_invalid_quotes_are_refused),
        T(test_stops_on_the_wrong_side_of_the_fill_are_refused),
        T(test_bad_lots_and_sides_are_refused),
        T(test_tickets_are_unique_increasing_and_start_at_the_clock),
        T(test_account_follows_realized_and_floating),
        T(test_modify_checks_only_the_values),
        T(test_ten_thousand_symbols_keep_their_own_quotes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
