/*
 * ptest_price_action_v6.c — unit tests of plugins/price_action_v6 against the
 * mock host in ptest_mock.h: tick ring and confirmation, session window,
 * max_open_trades, fixed-fractional sizing with default SL and rr TP, max hold.
 *
 * Market unless a test says otherwise: EURUSD, pip 0.0001, pip value 10 per
 * lot, spread 0.0002; balance 10000; clock 2024-01-02 10:00 UTC.
 * Expected figures are worked out by hand in the comments.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "ptest_mock.h"
#include "pa6_logic.h"

static const zx_plugin_def *g_def;
static void *g_state;

static int setup(void **unused)
{
    (void)unused;
    mock_reset();
    mock_symbol_set("EURUSD", 1.1000, 1.1002, 0.0001, 10);
    mock_symbol_set("GBPUSD", 1.2500, 1.2502, 0.0001, 10);
    mock_symbol_set("USDJPY", 150.00, 150.02, 0.01, 6.5);
    g_def = zx_plugin_entry();
    g_state = NULL;
    return 0;
}

static int teardown(void **unused)
{
    (void)unused;
    if (g_state != NULL)
        g_def->shutdown(g_state);
    g_state = NULL;
    assert_int_equal(g_mock.bad_handle, 0);
    return 0;
}

static void start(void)
{
    assert_int_equal(mock_init(g_def, &g_state), 0);
    mock_clear_records();
}

/* Quote bid, bid + 2 pips on EURUSD, then deliver a signal. */
static zx_verdict deliver_at(zx_action action, double bid, zx_signal *sig, char *reason,
                             size_t len)
{
    mock_quote_set("EURUSD", bid, bid + 0.0002);
    *sig = mock_signal(action, "EURUSD");
    reason[0] = '\0';
    return g_def->on_signal_received(g_state, sig, reason, len);
}

/* ---- pure helpers ---- */

static void test_def_names_the_plugin(void **unused)
{
    (void)unused;
    assert_int_equal(g_def->abi_version, ZX_PLUGIN_ABI_VERSION);
    assert_string_equal(g_def->id, "price_action_v6");
    assert_string_equal(g_def->version, "6.0.0");
    assert_string_equal(g_def->author, "Zepix Team");
}

static void test_ring_run_counts_consecutive_moves(void **unused)
{
    (void)unused;
    pa6_ring r;
    memset(&r, 0, sizeof r);
    assert_int_equal(pa6_ring_run(&r), 0);
    pa6_ring_push(&r, 1.0);
    assert_int_equal(pa6_ring_run(&r), 0);          /* one sample: no move */
    pa6_ring_push(&r, 2.0);
    pa6_ring_push(&r, 2.0);                         /* equal: not a tick */
    pa6_ring_push(&r, 3.0);
    pa6_ring_push(&r, 4.0);
    assert_int_equal(r.count, 4);
    assert_int_equal(pa6_ring_run(&r), 3);          /* 1 < 2 < 3 < 4 */
    pa6_ring_push(&r, 3.5);
    assert_int_equal(pa6_ring_run(&r), -1);
    pa6_ring_push(&r, 3.0);
    assert_int_equal(pa6_ring_run(&r), -2);
    pa6_ring_push(&r, 0);                           /* ignored */
    assert_int_equal(pa6_ring_run(&r), -2);
    /* 40 rising pushes wrap the 32-slot ring: the run is 31 (32 samples). */
    for (int i = 1; i <= 40; i++)
        pa6_ring_push(&r, 10.0 + i);
    assert_int_equal(r.count, PA6_RING_SIZE);
    assert_int_equal(pa6_ring_run(&r), PA6_RING_SIZE - 1);
    assert_near(pa6_ring_last(&r), 50.0);
}

static void test_session_parse_and_window(void **unused)
{
    (void)unused;
    assert_int_equal(pa6_parse_hhmm("08:00"), 480);
    assert_int_equal(pa6_parse_hhmm("8:30"), 510);
    assert_int_equal(pa6_parse_hhmm("23:59"), 1439);
    assert_int_equal(pa6_parse_hhmm("24:00"), -1);
    assert_int_equal(pa6_parse_hhmm("12:60"), -1);
    assert_int_equal(pa6_parse_hhmm("12:5"), -1);
    assert_int_equal(pa6_parse_hhmm("ab"), -1);
    assert_int_equal(pa6_parse_hhmm(""), -1);
    int64_t t10 = MOCK_T0_MS;                       /* 10:00 UTC */
    int64_t t17 = MOCK_T0_MS + 7 * 3600000LL;       /* 17:00 UTC */
    int64_t t23 = MOCK_T0_MS + 13 * 3600000LL;      /* 23:00 UTC */
    assert_true(pa6_in_session(-1, -1, t10));
    assert_true(pa6_in_session(480, 1020, t10));    /* 08:00-17:00 */
    assert_false(pa6_in_session(480, 1020, t17));   /* end is exclusive */
    assert_true(pa6_in_session(1320, 360, t23));    /* 22:00-06:00 wraps */
    assert_false(pa6_in_session(1320, 360, t10));
}

static void test_fixed_fractional_lot(void **unused)
{
    (void)unused;
    pa6_size_cfg cfg = { .fraction_percent = 1.0, .min_lot = 0.01, .lot_step = 0.01 };
    double lot = 0;
    char err[160];
    /* 10000 * 1% = 100; 100 / (20 * 10) = 0.50. */
    assert_int_equal(pa6_fixed_fractional_lot(&cfg, 10000, 20, 10, &lot, err, sizeof err), 0);
    assert_near(lot, 0.50);
    /* USDJPY pip value 6.5: 100 / (20 * 6.5) = 0.769 -> 0.76. */
    assert_int_equal(pa6_fixed_fractional_lot(&cfg, 10000, 20, 6.5, &lot, err, sizeof err), 0);
    assert_near(lot, 0.76);
    cfg.max_lot_size = 0.3;                         /* caps 0.50 at 0.30 */
    assert_int_equal(pa6_fixed_fractional_lot(&cfg, 10000, 20, 10, &lot, err, sizeof err), 0);
    assert_near(lot, 0.30);
    /* 100 * 1% = 1; 1 / 200 = 0.005 < 0.01. */
    assert_int_equal(pa6_fixed_fractional_lot(&cfg, 100, 20, 10, &lot, err, sizeof err), -1);
    assert_non_null(strstr(err, "min lot"));
}

/* ---- confirmation ---- */

static void test_buy_needs_three_rising_ticks(void **unused)
{
    (void)unused;
    start();
    zx_signal sig;
    char reason[256];
    /* mids 1.1001, 1.1002, 1.1003: 0, 1, 2 rises -> rejected while building. */
    assert_int_equal(deliver_at(ZX_BUY, 1.1000, &sig, reason, sizeof reason), ZX_REJECT);
    assert_non_null(strstr(reason, "not confirmed by price action"));
    assert_int_equal(deliver_at(ZX_BUY, 1.1001, &sig, reason, sizeof reason), ZX_REJECT);
    assert_int_equal(deliver_at(ZX_BUY, 1.1002, &sig, reason, sizeof reason), ZX_REJECT);
    assert_non_null(strstr(reason, "2 up"));
    /* mid 1.1004: third rise -> accepted. */
    assert_int_equal(deliver_at(ZX_BUY, 1.1003, &sig, reason, sizeof reason), ZX_ACCEPT);
    /* A sell on the same rising ticks is not confirmed. */
    zx_signal sell = mock_signal(ZX_SELL, "EURUSD");
    assert_int_equal(g_def->on_signal_received(g_state, &sell, reason, sizeof reason), ZX_REJECT);
    assert_non_null(strstr(reason, "falling"));
}

static void test_sell_needs_three_falling_ticks(void **unused)
{
    (void)unused;
    start();
    zx_signal sig;
    char reason[256];
    deliver_at(ZX_SELL, 1.1010, &sig, reason, sizeof reason);
    deliver_at(ZX_SELL, 1.1008, &sig, reason, sizeof reason);
    deliver_at(ZX_SELL, 1.1009, &sig, reason, sizeof reason);  /* a rise breaks the run */
    deliver_at(ZX_SELL, 1.1007, &sig, reason, sizeof reason);
    assert_int_equal(deliver_at(ZX_SELL, 1.1005, &sig, reason, sizeof reason), ZX_REJECT);
    assert_non_null(strstr(reason, "2 down"));
    assert_int_equal(deliver_at(ZX_SELL, 1.1004, &sig, reason, sizeof reason), ZX_ACCEPT);
}

static void test_confirm_ticks_is_configurable_and_zero_turns_it_off(void **unused)
{
    (void)unused;
    mock_cfg_num("confirm_ticks", 0);
    start();
    zx_signal sig;
    char reason[256];
    assert_int_equal(deliver_at(ZX_BUY, 1.1000, &sig, reason, sizeof reason), ZX_ACCEPT);
}

static void test_position_updates_feed_the_ticks(void **unused)
{
    (void)unused;
    start();
    int64_t id = mock_add_open(ZX_BUY, "EURUSD", 0.1, 1.0990, 0, 0);
    double bids[] = { 1.1000, 1.1001, 1.1002 };
    for (int i = 0; i < 3; i++) {
        mock_quote_set("EURUSD", bids[i], bids[i] + 0.0002);
        zx_position pos = mock_update_for(id, bids[i]);
        g_def->on_position_update(g_state, &pos);
        g_def->on_position_update(g_state, &pos);   /* a second trade's update: same tick */
    }
    zx_position pos = mock_update_for(id, 1.1002);
    g_mock.nopen = 0;                               /* the trade closes */
    pos.closed = 1;
    g_def->on_position_update(g_state, &pos);
    zx_signal sig;
    char reason[256];
    /* ticks 1.1001, 1.1002, 1.1003 from updates + 1.1004 now: 3 rises. */
    assert_int_equal(deliver_at(ZX_BUY, 1.1003, &sig, reason, sizeof reason), ZX_ACCEPT);
}

/* ---- gates ---- */

static void test_session_window_rejects_outside_and_lets_closes_through(void **unused)
{
    (void)unused;
    mock_cfg_num("confirm_ticks", 0);
    mock_cfg_str("session_start", "12:00");
    mock_cfg_str("session_end", "16:30");
    start();
    zx_signal sig;
    char reason[256];
    assert_int_equal(deliver_at(ZX_BUY, 1.1000, &sig, reason, sizeof reason), ZX_REJECT);
    assert_non_null(strstr(reason, "outside the trading session 12:00-16:30 UTC (now 10:00)"));
    assert_int_equal(deliver_at(ZX_CLOSE, 1.1000, &sig, reason, sizeof reason), ZX_ACCEPT);
    g_mock.now_ms = MOCK_T0_MS + 2 * 3600000LL;     /* 12:00: inside */
    assert_int_equal(deliver_at(ZX_BUY, 1.1000, &sig, reason, sizeof reason), ZX_ACCEPT);
    g_mock.now_ms = MOCK_T0_MS + 6 * 3600000LL + 30 * 60000LL;     /* 16:30: end */
    assert_int_equal(deliver_at(ZX_BUY, 1.1000, &sig, reason, sizeof reason), ZX_REJECT);
}

static void test_max_open_trades_counts_every_symbol(void **unused)
{
    (void)unused;
    mock_cfg_num("confirm_ticks", 0);
    mock_cfg_num("max_open_trades", 2);
    start();
    zx_signal sig;
    char reason[256];
    mock_add_open(ZX_BUY, "GBPUSD", 0.1, 1.2500, 0, 0);
    assert_int_equal(deliver_at(ZX_BUY, 1.1000, &sig, reason, sizeof reason), ZX_ACCEPT);
    mock_add_open(ZX_SELL, "USDJPY", 0.1, 150.00, 0, 0);
    assert_int_equal(deliver_at(ZX_BUY, 1.1000, &sig, reason, sizeof reason), ZX_REJECT);
    assert_non_null(strstr(reason, "max_open_trades (2) reached"));
}

static void test_one_trade_per_symbol(void **unused)
{
    (void)unused;
    mock_cfg_num("confirm_ticks", 0);
    start();
    mock_add_open(ZX_SELL, "EURUSD", 0.1, 1.1000, 0, 0);
    zx_signal sig;
    char reason[256];
    assert_int_equal(deliver_at(ZX_BUY, 1.1000, &sig, reason, sizeof reason), ZX_REJECT);
    assert_non_null(strstr(reason, "already holding a SELL on EURUSD"));
    assert_int_equal(g_mock.ncloses, 0);
}

/* ---- sizing and stops ---- */

static void test_default_sl_rr_tp_and_lot(void **unused)
{
    (void)unused;
    mock_cfg_num("confirm_ticks", 0);
    start();
    zx_signal sig;
    char reason[256];
    /* Buy at ask 1.1002: sl 20 pips = 1.0982, tp 2 x 20 = 40 pips = 1.1042,
     * lot 10000 * 1% / (20 * 10) = 0.50. */
    assert_int_equal(deliver_at(ZX_BUY, 1.1000, &sig, reason, sizeof reason), ZX_ACCEPT);
    assert_near(sig.sl, 1.0982);
    assert_near(sig.tp, 1.1042);
    assert_near(sig.lot, 0.50);
    /* Sell at bid 1.1000: sl 1.1020, tp 1.0960. */
    assert_int_equal(deliver_at(ZX_SELL, 1.1000, &sig, reason, sizeof reason), ZX_ACCEPT);
    assert_near(sig.sl, 1.1020);
    assert_near(sig.tp, 1.0960);
}

static void test_signal_sl_sets_risk_and_tp(void **unused)
{
    (void)unused;
    mock_cfg_num("confirm_ticks", 0);
    mock_cfg_num("fraction_percent", 2.0);
    mock_cfg_num("rr_ratio", 1.5);
    start();
    zx_signal sig = mock_signal(ZX_BUY, "EURUSD");
    sig.price = 1.1000;
    sig.sl = 1.0975;            /* 25 pips */
    char reason[256];
    /* lot 10000 * 2% / (25 * 10) = 0.80; tp 1.1000 + 1.5 x 25 pips = 1.10375. */
    assert_int_equal(g_def->on_signal_received(g_state, &sig, reason, sizeof reason), ZX_ACCEPT);
    assert_near(sig.lot, 0.80);
    assert_near(sig.tp, 1.10375);
    assert_near(sig.sl, 1.0975);
}

static void test_sizing_rejects_with_clear_reasons(void **unused)
{
    (void)unused;
    mock_cfg_num("confirm_ticks", 0);
    mock_cfg_num("max_lot_size", 0.3);
    start();
    zx_signal sig;
    char reason[256];
    assert_int_equal(deliver_at(ZX_BUY, 1.1000, &sig, reason, sizeof reason), ZX_ACCEPT);
    assert_near(sig.lot, 0.30);                     /* 0.50 capped */
    g_mock.balance = 100;                           /* 1 / 200 = 0.005 */
    assert_int_equal(deliver_at(ZX_BUY, 1.1000, &sig, reason, sizeof reason), ZX_REJECT);
    assert_non_null(strstr(reason, "risk too small for min lot"));
    g_mock.account_ok = 0;
    assert_int_equal(deliver_at(ZX_BUY, 1.1000, &sig, reason, sizeof reason), ZX_REJECT);
    assert_non_null(strstr(reason, "balance unknown"));
    sig = mock_signal(ZX_BUY, "XAUUSD");            /* no quote, no pip data */
    assert_int_equal(g_def->on_signal_received(g_state, &sig, reason, sizeof reason), ZX_REJECT);
    assert_non_null(strstr(reason, "no price"));
}

/* ---- exits ---- */

static void test_max_hold_closes_old_trades_only(void **unused)
{
    (void)unused;
    mock_cfg_num("max_hold_minutes", 60);
    start();
    int64_t id = mock_add_open(ZX_BUY, "EURUSD", 0.1, 1.1000, 0, 0);   /* opened at T0 */
    g_mock.now_ms = MOCK_T0_MS + 59 * 60000LL;
    zx_position pos = mock_update_for(id, 1.1005);
    g_def->on_position_update(g_state, &pos);
    assert_int_equal(g_mock.ncloses, 0);
    g_mock.now_ms = MOCK_T0_MS + 60 * 60000LL;
    pos = mock_update_for(id, 1.1006);
    g_def->on_position_update(g_state, &pos);
    assert_int_equal(g_mock.ncloses, 1);
    assert_int_equal(g_mock.closes[0].trade_id, id);
    pos.closed = 1;                                 /* the close update: no API call */
    int before = g_mock.ncalls;
    g_def->on_position_update(g_state, &pos);
    assert_int_equal(g_mock.ncalls, before);
}

static void test_invalid_config_fails_init(void **unused)
{
    (void)unused;
    mock_cfg_str("session_start", "25:00");
    mock_cfg_str("session_end", "17:00");
    assert_int_equal(mock_init(g_def, &g_state), -1);
    setup(NULL);
    mock_cfg_str("session_start", "08:00");         /* end missing */
    assert_int_equal(mock_init(g_def, &g_state), -1);
    setup(NULL);
    mock_cfg_num("confirm_ticks", 40);              /* more than the ring holds */
    assert_int_equal(mock_init(g_def, &g_state), -1);
    setup(NULL);
    mock_cfg_num("sl_pips", 0);
    assert_int_equal(mock_init(g_def, &g_state), -1);
    g_state = NULL;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
        T(test_def_names_the_plugin),
        T(test_ring_run_counts_consecutive_moves),
        T(test_session_parse_and_window),
        T(test_fixed_fractional_lot),
        T(test_buy_needs_three_rising_ticks),
        T(test_sell_needs_three_falling_ticks),
        T(test_confirm_ticks_is_configurable_and_zero_turns_it_off),
        T(test_position_updates_feed_the_ticks),
        T(test_session_window_rejects_outside_and_lets_closes_through),
        T(test_max_open_trades_counts_every_symbol),
        T(test_one_trade_per_symbol),
        T(test_default_sl_rr_tp_and_lot),
        T(test_signal_sl_sets_risk_and_tp),
        T(test_sizing_rejects_with_clear_reasons),
        T(test_max_hold_closes_old_trades_only),
        T(test_invalid_config_fails_init),
#undef T
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
