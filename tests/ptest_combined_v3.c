/*
 * ptest_combined_v3.c — unit tests of plugins/combined_v3 against the mock
 * host in ptest_mock.h: risk sizing, default stops, the one-position rule,
 * reversal, symbol filter, break-even, partial close and trailing stop.
 *
 * Market used throughout unless a test says otherwise: EURUSD, pip 0.0001,
 * pip value 10 per lot, bid 1.1000 / ask 1.1002; balance 10000.
 * Every expected figure is worked out by hand in a comment next to it.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>
#include <sqlite3.h>

#include "ptest_mock.h"
#include "entry_logic.h"
#include "exit_logic.h"

/* The Makefile does not link libsqlite3 into plugin tests, so the database
 * test runs only when it is linked by hand (add -lsqlite3); else it skips. */
#pragma weak sqlite3_open
#pragma weak sqlite3_close
#pragma weak sqlite3_exec


static const zx_plugin_def *g_def;
static void *g_state;

static int setup(void **unused)
{
    (void)unused;
    mock_reset();
    mock_symbol_set("EURUSD", 1.1000, 1.1002, 0.0001, 10);
    mock_symbol_set("GBPUSD", 1.2500, 1.2502, 0.0001, 10);
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
    assert_non_null(g_state);
    mock_clear_records();
}

static zx_verdict deliver(zx_signal *sig, char *reason, size_t len)
{
    reason[0] = '\0';
    return g_def->on_signal_received(g_state, sig, reason, len);
}

static void update(int64_t trade_id, double price)
{
    zx_position pos = mock_update_for(trade_id, price);
    g_def->on_position_update(g_state, &pos);
}

/* ---- definition and pure helpers ---- */

static void test_def_names_the_plugin(void **unused)
{
    (void)unused;
    assert_int_equal(g_def->abi_version, ZX_PLUGIN_ABI_VERSION);
    assert_string_equal(g_def->id, "combined_v3");
    assert_string_equal(g_def->name, "Combined V3 Logic");
    assert_string_equal(g_def->version, "3.0.0");
    assert_string_equal(g_def->author, "Zepix Team");
    assert_non_null(g_def->on_signal_received);
    assert_non_null(g_def->on_position_update);
}

static void test_round_down_and_symbol_list(void **unused)
{
    (void)unused;
    /* 0.3 / 0.01 is 29.999999999999996 in binary: must still give 0.30. */
    assert_near(cv3_entry_round_down(0.3, 0.01), 0.30);
    assert_near(cv3_entry_round_down(0.5789, 0.01), 0.57);
    assert_near(cv3_entry_round_down(0.009, 0.01), 0.0);
    assert_true(cv3_entry_symbol_allowed("", "EURUSD"));
    assert_true(cv3_entry_symbol_allowed(" , ", "EURUSD"));
    assert_true(cv3_entry_symbol_allowed(" eurusd , GBPUSD", "EURUSD"));
    assert_true(cv3_entry_symbol_allowed("EURUSD,GBPUSD", "GBPUSD"));
    assert_false(cv3_entry_symbol_allowed("EURUSD,GBPUSD", "USDJPY"));
    assert_false(cv3_entry_symbol_allowed("EURUSD", "EURUSDX"));
}

/* ---- entry: sizing and stops ---- */

static void test_risk_lot_balance_10000_risk_1pct_sl_20_pips_is_0_50(void **unused)
{
    (void)unused;
    mock_cfg_num("risk_percentage", 1.0);
    start();
    /* risk 10000 * 1% = 100; SL 1.1000 - 1.0980 = 20 pips; 20 * 10 = 200 per lot;
     * 100 / 200 = 0.50 lot. */
    zx_signal sig = mock_signal(ZX_BUY, "EURUSD");
    sig.price = 1.1000;
    sig.sl = 1.0980;
    char reason[256];
    assert_int_equal(deliver(&sig, reason, sizeof reason), ZX_ACCEPT);
    assert_near(sig.lot, 0.50);
    assert_near(sig.sl, 1.0980);
    assert_near(sig.tp, 0);
    assert_int_equal(g_mock.ncloses + g_mock.nplaced, 0);
}

static void test_max_lot_size_caps_the_risk_lot(void **unused)
{
    (void)unused;
    mock_cfg_num("risk_percentage", 1.0);
    mock_cfg_num("max_lot_size", 0.3);
    start();
    zx_signal sig = mock_signal(ZX_BUY, "EURUSD");
    sig.price = 1.1000;
    sig.sl = 1.0980;            /* 0.50 as above, capped to 0.30 */
    char reason[256];
    assert_int_equal(deliver(&sig, reason, sizeof reason), ZX_ACCEPT);
    assert_near(sig.lot, 0.30);
}

static void test_risk_lot_rounds_down_to_lot_step(void **unused)
{
    (void)unused;
    mock_cfg_num("risk_percentage", 1.0);
    start();
    /* SL 30 pips: 100 / (30 * 10) = 0.3333 -> 0.33 (never up to 0.34). */
    zx_signal sig = mock_signal(ZX_SELL, "EURUSD");
    sig.price = 1.1000;
    sig.sl = 1.1030;
    char reason[256];
    assert_int_equal(deliver(&sig, reason, sizeof reason), ZX_ACCEPT);
    assert_near(sig.lot, 0.33);
}

static void test_risk_too_small_for_min_lot_is_rejected(void **unused)
{
    (void)unused;
    mock_cfg_num("risk_percentage", 1.0);
    g_mock.balance = 100;
    start();
    /* 100 * 1% = 1; 1 / (20 * 10) = 0.005 lot < min_lot 0.01. */
    zx_signal sig = mock_signal(ZX_BUY, "EURUSD");
    sig.price = 1.1000;
    sig.sl = 1.0980;
    char reason[256];
    assert_int_equal(deliver(&sig, reason, sizeof reason), ZX_REJECT);
    assert_non_null(strstr(reason, "risk too small for min lot"));
}

static void test_default_stops_from_the_quote(void **unused)
{
    (void)unused;
    mock_cfg_num("risk_percentage", 1.0);
    mock_cfg_num("default_sl_pips", 20);
    mock_cfg_num("default_tp_pips", 40);
    start();
    char reason[256];
    /* Buy without price: entry = ask 1.1002; sl 1.1002 - 0.0020 = 1.0982;
     * tp 1.1002 + 0.0040 = 1.1042; lot 100 / (20 * 10) = 0.50. */
    zx_signal buy = mock_signal(ZX_BUY, "EURUSD");
    assert_int_equal(deliver(&buy, reason, sizeof reason), ZX_ACCEPT);
    assert_near(buy.sl, 1.0982);
    assert_near(buy.tp, 1.1042);
    assert_near(buy.lot, 0.50);
    /* Sell on GBPUSD: entry = bid 1.2500; sl 1.2520; tp 1.2460. */
    zx_signal sell = mock_signal(ZX_SELL, "GBPUSD");
    assert_int_equal(deliver(&sell, reason, sizeof reason), ZX_ACCEPT);
    assert_near(sell.sl, 1.2520);
    assert_near(sell.tp, 1.2460);
}

static void test_given_stops_are_kept(void **unused)
{
    (void)unused;
    mock_cfg_num("default_sl_pips", 20);
    mock_cfg_num("default_tp_pips", 40);
    start();
    zx_signal sig = mock_signal(ZX_BUY, "EURUSD");
    sig.sl = 1.0950;
    sig.tp = 1.1100;
    char reason[256];
    assert_int_equal(deliver(&sig, reason, sizeof reason), ZX_ACCEPT);
    assert_near(sig.sl, 1.0950);
    assert_near(sig.tp, 1.1100);
}

static void test_without_sl_the_lot_is_default_lot(void **unused)
{
    (void)unused;
    mock_cfg_num("risk_percentage", 1.0);
    mock_cfg_num("default_lot", 0.02);
    start();
    zx_signal sig = mock_signal(ZX_BUY, "EURUSD");
    char reason[256];
    assert_int_equal(deliver(&sig, reason, sizeof reason), ZX_ACCEPT);
    assert_near(sig.lot, 0.02);
    assert_near(sig.sl, 0);
}

static void test_unknown_balance_falls_back_to_default_lot(void **unused)
{
    (void)unused;
    mock_cfg_num("risk_percentage", 1.0);
    g_mock.account_ok = 0;
    start();
    zx_signal sig = mock_signal(ZX_BUY, "EURUSD");
    sig.sl = 1.0980;
    char reason[256];
    assert_int_equal(deliver(&sig, reason, sizeof reason), ZX_ACCEPT);
    assert_near(sig.lot, 0.01);
}

static void test_explicit_lot_wins_over_risk_sizing(void **unused)
{
    (void)unused;
    mock_cfg_num("risk_percentage", 1.0);
    start();
    zx_signal sig = mock_signal(ZX_BUY, "EURUSD");
    sig.price = 1.1000;
    sig.sl = 1.0980;
    sig.lot = 0.07;
    char reason[256];
    assert_int_equal(deliver(&sig, reason, sizeof reason), ZX_ACCEPT);
    assert_near(sig.lot, 0.07);
}

static void test_sl_on_the_wrong_side_is_rejected(void **unused)
{
    (void)unused;
    start();
    zx_signal sig = mock_signal(ZX_BUY, "EURUSD");
    sig.sl = 1.1010;            /* above the ask 1.1002 */
    char reason[256];
    assert_int_equal(deliver(&sig, reason, sizeof reason), ZX_REJECT);
    assert_non_null(strstr(reason, "sl"));
}

/* ---- entry: position rules ---- */

static void test_symbol_outside_allowed_symbols_is_rejected(void **unused)
{
    (void)unused;
    mock_cfg_str("allowed_symbols", "EURUSD, USDJPY");
    start();
    char reason[256];
    zx_signal sig = mock_signal(ZX_BUY, "GBPUSD");
    assert_int_equal(deliver(&sig, reason, sizeof reason), ZX_REJECT);
    assert_non_null(strstr(reason, "allowed_symbols"));
    sig = mock_signal(ZX_BUY, "EURUSD");
    assert_int_equal(deliver(&sig, reason, sizeof reason), ZX_ACCEPT);
}

static void test_same_direction_while_holding_is_rejected(void **unused)
{
    (void)unused;
    start();
    mock_add_open(ZX_BUY, "EURUSD", 0.1, 1.1000, 0, 0);
    char reason[256];
    zx_signal sig = mock_signal(ZX_BUY, "EURUSD");
    assert_int_equal(deliver(&sig, reason, sizeof reason), ZX_REJECT);
    assert_non_null(strstr(reason, "already holding"));
    /* Another symbol is free. */
    sig = mock_signal(ZX_BUY, "GBPUSD");
    assert_int_equal(deliver(&sig, reason, sizeof reason), ZX_ACCEPT);
    assert_int_equal(g_mock.ncloses, 0);
}

static void test_pyramiding_allows_up_to_max_positions(void **unused)
{
    (void)unused;
    mock_cfg_bool("pyramiding", 1);
    mock_cfg_num("max_positions_per_symbol", 2);
    start();
    char reason[256];
    mock_add_open(ZX_BUY, "EURUSD", 0.1, 1.1000, 0, 0);
    zx_signal sig = mock_signal(ZX_BUY, "EURUSD");
    assert_int_equal(deliver(&sig, reason, sizeof reason), ZX_ACCEPT);     /* 1 < 2 */
    mock_add_open(ZX_BUY, "EURUSD", 0.1, 1.1001, 0, 0);
    sig = mock_signal(ZX_BUY, "EURUSD");
    assert_int_equal(deliver(&sig, reason, sizeof reason), ZX_REJECT);     /* 2 = 2 */
    assert_non_null(strstr(reason, "max_positions_per_symbol"));
}

static void test_opposite_signal_closes_then_reverses(void **unused)
{
    (void)unused;
    start();
    int64_t eu = mock_add_open(ZX_SELL, "EURUSD", 0.2, 1.1050, 0, 0);
    int64_t gu = mock_add_open(ZX_SELL, "GBPUSD", 0.2, 1.2550, 0, 0);
    char reason[256];
    zx_signal sig = mock_signal(ZX_BUY, "EURUSD");
    assert_int_equal(deliver(&sig, reason, sizeof reason), ZX_ACCEPT);
    assert_int_equal(g_mock.ncloses, 1);
    assert_int_equal(g_mock.closes[0].trade_id, eu);
    assert_near(g_mock.closes[0].lot, 0);      /* the whole trade */
    assert_null(mock_find_open(eu));
    assert_non_null(mock_find_open(gu));                     /* other symbol untouched */
    assert_int_equal(g_mock.nplaced, 0);                     /* the host opens the buy */
}

static void test_opposite_without_reverse_only_closes(void **unused)
{
    (void)unused;
    mock_cfg_bool("reverse_on_opposite", 0);
    start();
    int64_t a = mock_add_open(ZX_BUY, "EURUSD", 0.1, 1.1000, 0, 0);
    int64_t b = mock_add_open(ZX_BUY, "EURUSD", 0.1, 1.1010, 0, 0);
    char reason[256];
    zx_signal sig = mock_signal(ZX_SELL, "EURUSD");
    assert_int_equal(deliver(&sig, reason, sizeof reason), ZX_HANDLED);
    assert_int_equal(g_mock.ncloses, 2);
    assert_null(mock_find_open(a));
    assert_null(mock_find_open(b));
    assert_int_equal(g_mock.nplaced, 0);
}

static void test_failed_close_of_the_opposite_rejects(void **unused)
{
    (void)unused;
    start();
    mock_add_open(ZX_SELL, "EURUSD", 0.2, 1.1050, 0, 0);
    g_mock.fail_close = 1;
    char reason[256];
    zx_signal sig = mock_signal(ZX_BUY, "EURUSD");
    assert_int_equal(deliver(&sig, reason, sizeof reason), ZX_REJECT);
    assert_non_null(strstr(reason, "could not close"));
}

static void test_close_actions_are_left_to_the_host(void **unused)
{
    (void)unused;
    mock_cfg_str("allowed_symbols", "GBPUSD");
    start();
    mock_add_open(ZX_BUY, "EURUSD", 0.1, 1.1000, 0, 0);
    char reason[256];
    zx_action acts[] = { ZX_CLOSE, ZX_CLOSE_LONG, ZX_CLOSE_SHORT };
    for (size_t i = 0; i < sizeof acts / sizeof acts[0]; i++) {
        zx_signal sig = mock_signal(acts[i], "EURUSD");
        assert_int_equal(deliver(&sig, reason, sizeof reason), ZX_ACCEPT);
    }
    assert_int_equal(g_mock.ncloses, 0);
}

/* ---- exit management ---- */

static void test_breakeven_moves_sl_exactly_to_entry_plus_offset(void **unused)
{
    (void)unused;
    mock_cfg_num("breakeven_after_pips", 15);
    mock_cfg_num("breakeven_offset_pips", 2);
    start();
    int64_t id = mock_add_open(ZX_BUY, "EURUSD", 0.1, 1.1000, 1.0980, 0);
    update(id, 1.1010);                             /* 10 pips: not yet */
    assert_int_equal(g_mock.nmodifies, 0);
    update(id, 1.1015);                             /* 15 pips: SL 1.1000 + 0.0002 */
    assert_int_equal(g_mock.nmodifies, 1);
    assert_near(g_mock.modifies[0].sl, 1.1002);
    assert_true(g_mock.modifies[0].tp < 0);         /* tp kept */
    update(id, 1.1030);                             /* already there: no new call */
    update(id, 1.1016);
    assert_int_equal(g_mock.nmodifies, 1);
    assert_int_equal(g_mock.nnotes, 1);             /* notify_exits defaults to on */

    /* Sell mirrored: entry 1.1000, 15 pips = ask 1.0985; SL 1.1000 - 0.0002. */
    int64_t s = mock_add_open(ZX_SELL, "EURUSD", 0.1, 1.1000, 1.1020, 0);
    update(s, 1.0985);
    assert_int_equal(g_mock.nmodifies, 2);
    assert_near(g_mock.modifies[1].sl, 1.0998);
}

static void test_partial_close_happens_once(void **unused)
{
    (void)unused;
    mock_cfg_num("partial_close_at_pips", 20);
    mock_cfg_num("partial_close_fraction", 0.5);
    start();
    int64_t id = mock_add_open(ZX_BUY, "EURUSD", 0.10, 1.1000, 1.0980, 0);
    update(id, 1.1019);                             /* 19 pips: not yet */
    assert_int_equal(g_mock.ncloses, 0);
    update(id, 1.1020);                             /* 20 pips: 0.10 * 0.5 = 0.05 */
    assert_int_equal(g_mock.ncloses, 1);
    assert_int_equal(g_mock.closes[0].trade_id, id);
    assert_near(g_mock.closes[0].lot, 0.05);
    assert_near(mock_find_open(id)->lot, 0.05);
    update(id, 1.1030);                             /* 30 pips on 0.05: done already */
    update(id, 1.1020);
    assert_int_equal(g_mock.ncloses, 1);
}

static void test_partial_close_skipped_when_lot_cannot_be_split(void **unused)
{
    (void)unused;
    mock_cfg_num("partial_close_at_pips", 20);
    start();
    /* 0.01 * 0.5 = 0.005 -> 0.00 after rounding: below min_lot, nothing booked. */
    int64_t id = mock_add_open(ZX_BUY, "EURUSD", 0.01, 1.1000, 0, 0);
    update(id, 1.1025);
    update(id, 1.1030);
    assert_int_equal(g_mock.ncloses, 0);
}

static void test_partial_close_retries_then_gives_up(void **unused)
{
    (void)unused;
    mock_cfg_num("partial_close_at_pips", 20);
    start();
    int64_t id = mock_add_open(ZX_BUY, "EURUSD", 0.10, 1.1000, 0, 0);
    g_mock.fail_close = 1;
    int before = g_mock.ncalls;
    for (int i = 0; i < 5; i++)
        update(id, 1.1025);
    assert_true(g_mock.ncalls > before);
    assert_int_equal(g_mock.nnotes, 1);             /* "giving up" after 3 failures */
    assert_non_null(strstr(g_mock.notes[0], "giving up"));
    g_mock.fail_close = 0;
    update(id, 1.1025);
    assert_int_equal(g_mock.ncloses, 0);            /* never again for this trade */
}

static void test_trailing_stop_only_tightens(void **unused)
{
    (void)unused;
    mock_cfg_num("trailing_start_pips", 20);
    mock_cfg_num("trailing_distance_pips", 10);
    start();
    int64_t id = mock_add_open(ZX_BUY, "EURUSD", 0.1, 1.1000, 1.0980, 0);
    update(id, 1.1015);                             /* 15 pips: not started */
    assert_int_equal(g_mock.nmodifies, 0);
    update(id, 1.1020);                             /* 20 pips: SL 1.1020 - 0.0010 */
    assert_int_equal(g_mock.nmodifies, 1);
    assert_near(g_mock.modifies[0].sl, 1.1010);
    update(id, 1.1030);                             /* SL 1.1020 */
    assert_int_equal(g_mock.nmodifies, 2);
    assert_near(g_mock.modifies[1].sl, 1.1020);
    update(id, 1.1025);                             /* pull-back: 1.1015 would loosen */
    assert_int_equal(g_mock.nmodifies, 2);
    assert_near(mock_find_open(id)->sl, 1.1020);

    /* Sell: entry 1.1000, ask 1.0970 = 30 pips; SL 1.0970 + 0.0010 = 1.0980. */
    int64_t s = mock_add_open(ZX_SELL, "EURUSD", 0.1, 1.1000, 1.1020, 0);
    update(s, 1.0970);
    assert_int_equal(g_mock.nmodifies, 3);
    assert_near(g_mock.modifies[2].sl, 1.0980);
    update(s, 1.0975);                              /* 1.0985 would loosen */
    assert_int_equal(g_mock.nmodifies, 3);
}

static void test_trailing_step_holds_back_small_moves(void **unused)
{
    (void)unused;
    mock_cfg_num("trailing_start_pips", 20);
    mock_cfg_num("trailing_distance_pips", 10);
    mock_cfg_num("trailing_step_pips", 5);
    start();
    int64_t id = mock_add_open(ZX_BUY, "EURUSD", 0.1, 1.1000, 1.0980, 0);
    update(id, 1.1020);                             /* SL 1.1010 */
    update(id, 1.1023);                             /* 1.1013: a 3-pip move < 5 */
    assert_int_equal(g_mock.nmodifies, 1);
    update(id, 1.1026);                             /* 1.1016: 6 pips >= 5 */
    assert_int_equal(g_mock.nmodifies, 2);
    assert_near(g_mock.modifies[1].sl, 1.1016);
}

static void test_breakeven_and_trailing_take_the_tighter(void **unused)
{
    (void)unused;
    mock_cfg_num("breakeven_after_pips", 10);
    mock_cfg_num("breakeven_offset_pips", 1);
    mock_cfg_num("trailing_start_pips", 10);
    mock_cfg_num("trailing_distance_pips", 5);
    start();
    int64_t id = mock_add_open(ZX_BUY, "EURUSD", 0.1, 1.1000, 1.0980, 0);
    /* 12 pips: break-even 1.1001, trailing 1.1012 - 0.0005 = 1.1007 -> 1.1007. */
    update(id, 1.1012);
    assert_int_equal(g_mock.nmodifies, 1);
    assert_near(g_mock.modifies[0].sl, 1.1007);
}

static void test_closed_update_makes_no_api_call(void **unused)
{
    (void)unused;
    mock_cfg_num("breakeven_after_pips", 5);
    mock_cfg_num("partial_close_at_pips", 5);
    mock_cfg_num("trailing_start_pips", 5);
    mock_cfg_num("trailing_distance_pips", 2);
    start();
    int64_t id = mock_add_open(ZX_BUY, "EURUSD", 0.1, 1.1000, 1.0980, 0);
    zx_position pos = mock_update_for(id, 1.1050);  /* 50 pips, everything due */
    pos.closed = 1;
    pos.close_reason = "tp";
    int before = g_mock.ncalls;
    g_def->on_position_update(g_state, &pos);
    assert_int_equal(g_mock.ncalls, before);
}

static void test_invalid_config_fails_init(void **unused)
{
    (void)unused;
    mock_cfg_num("trailing_start_pips", 20);        /* without a distance */
    assert_int_equal(mock_init(g_def, &g_state), -1);
    setup(NULL);
    mock_cfg_num("partial_close_fraction", 1.5);
    assert_int_equal(mock_init(g_def, &g_state), -1);
    setup(NULL);
    mock_cfg_num("risk_percentage", -1);
    assert_int_equal(mock_init(g_def, &g_state), -1);
    assert_true(g_mock.nwarnings > 0);
    g_state = NULL;
}

static void test_daily_reset_prunes_and_keeps_working(void **unused)
{
    (void)unused;
    mock_cfg_num("partial_close_at_pips", 20);
    start();
    int64_t id = mock_add_open(ZX_BUY, "EURUSD", 0.10, 1.1000, 0, 0);
    update(id, 1.1020);
    assert_int_equal(g_mock.ncloses, 1);
    zx_daily day = { .date = "2024-01-02", .total_trades = 1 };
    g_def->on_daily_reset(g_state, &day);
    update(id, 1.1020);                             /* still open: memo kept */
    assert_int_equal(g_mock.ncloses, 1);
}

static int count_row(void *ctx, int ncol, char **vals, char **names)
{
    (void)names;
    if (ncol == 1 && vals[0] != NULL)
        *(int *)ctx = atoi(vals[0]);
    return 0;
}

static int partial_rows(sqlite3 *db)
{
    int n = -1;
    sqlite3_exec(db, "SELECT count(*) FROM cv3_partial_done", count_row, &n, NULL);
    return n;
}

static void test_partial_memo_survives_a_reload_with_a_database(void **unused)
{
    (void)unused;
    sqlite3 *db = NULL;
    if (sqlite3_open == NULL || sqlite3_exec == NULL)
        skip();
    assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
    g_mock.db = db;
    mock_cfg_num("partial_close_at_pips", 20);
    start();
    int64_t id = mock_add_open(ZX_BUY, "EURUSD", 0.10, 1.1000, 0, 0);
    update(id, 1.1020);                             /* books 0.05 */
    assert_int_equal(g_mock.ncloses, 1);
    assert_int_equal(partial_rows(db), 1);

    g_def->shutdown(g_state);                       /* a reload: fresh memory */
    start();
    update(id, 1.1025);
    assert_int_equal(g_mock.ncloses, 0);            /* remembered from the table */

    zx_position pos = mock_update_for(id, 1.1025);
    pos.closed = 1;
    g_def->on_position_update(g_state, &pos);
    assert_int_equal(partial_rows(db), 0);          /* forgotten with the trade */
    g_def->shutdown(g_state);
    g_state = NULL;
    sqlite3_close(db);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
        T(test_def_names_the_plugin),
        T(test_round_down_and_symbol_list),
        T(test_risk_lot_balance_10000_risk_1pct_sl_20_pips_is_0_50),
        T(test_max_lot_size_caps_the_risk_lot),
        T(test_risk_lot_rounds_down_to_lot_step),
        T(test_risk_too_small_for_min_lot_is_rejected),
        T(test_default_stops_from_the_quote),
        T(test_given_stops_are_kept),
        T(test_without_sl_the_lot_is_default_lot),
        T(test_unknown_balance_falls_back_to_default_lot),
        T(test_explicit_lot_wins_over_risk_sizing),
        T(test_sl_on_the_wrong_side_is_rejected),
        T(test_symbol_outside_allowed_symbols_is_rejected),
        T(test_same_direction_while_holding_is_rejected),
        T(test_pyramiding_allows_up_to_max_positions),
        T(test_opposite_signal_closes_then_reverses),
        T(test_opposite_without_reverse_only_closes),
        T(test_failed_close_of_the_opposite_rejects),
        T(test_close_actions_are_left_to_the_host),
        T(test_breakeven_moves_sl_exactly_to_entry_plus_offset),
        T(test_partial_close_happens_once),
        T(test_partial_close_skipped_when_lot_cannot_be_split),
        T(test_partial_close_retries_then_gives_up),
        T(test_trailing_stop_only_tightens),
        T(test_trailing_step_holds_back_small_moves),
        T(test_breakeven_and_trailing_take_the_tighter),
        T(test_closed_update_makes_no_api_call),
        T(test_invalid_config_fails_init),
        T(test_daily_reset_prunes_and_keeps_working),
        T(test_partial_memo_survives_a_reload_with_a_database),
#undef T
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
