/*
 * test_signal.c — the signal grammar (SPEC section 5): text and JSON forms,
 * every validation rule with its field-named error, and the secret never
 * appearing in an error.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "signal.h"

static sig_parsed P;
static char E[256];

static int text(const char *s)
{
    return sig_parse_text(s, strlen(s), &P, E, sizeof E);
}

static int json(const char *s)
{
    return sig_parse_json(s, strlen(s), &P, E, sizeof E);
}

static int body(const char *s)
{
    return sig_parse_body(s, strlen(s), &P, E, sizeof E);
}

#define assert_ok(call, s) do { \
        if ((call)(s) != 0) \
            fail_msg("'%s' was rejected: %s", (s), E); \
    } while (0)

#define assert_err(call, s, needle) do { \
        if ((call)(s) != -1) \
            fail_msg("'%s' was accepted", (s)); \
        if (strstr(E, (needle)) == NULL) \
            fail_msg("'%s' -> '%s', expected it to contain '%s'", (s), E, (needle)); \
    } while (0)

/* ---- text form: positions ---- */

static void test_text_minimal_buy_is_parsed(void **state)
{
    (void)state;
    assert_ok(text, "buy EURUSD");
    assert_int_equal(P.action, ZX_BUY);
    assert_string_equal(P.symbol, "EURUSD");
    assert_string_equal(P.plugin, "");
    assert_true(P.price == 0 && P.sl == 0 && P.tp == 0 && P.lot == 0);
    assert_string_equal(P.id, "");
    assert_string_equal(P.comment, "");
    assert_string_equal(P.secret, "");
    assert_string_equal(E, "");
}

static void test_text_every_field_is_parsed(void **state)
{
    (void)state;
    assert_ok(text, "combined_v3 sell GBPUSD price=1.2650 sl=1.2700 tp=1.2550 lot=0.25 "
              "id=tv-42:a.b_c comment=breakout secret=hunter2");
    assert_string_equal(P.plugin, "combined_v3");
    assert_int_equal(P.action, ZX_SELL);
    assert_string_equal(P.symbol, "GBPUSD");
    assert_true(P.price == 1.2650);
    assert_true(P.sl == 1.2700);
    assert_true(P.tp == 1.2550);
    assert_true(P.lot == 0.25);
    assert_string_equal(P.id, "tv-42:a.b_c");
    assert_string_equal(P.comment, "breakout");
    assert_string_equal(P.secret, "hunter2");
}

static void test_text_all_means_every_plugin(void **state)
{
    (void)state;
    assert_ok(text, "all buy EURUSD");
    assert_string_equal(P.plugin, "");
    assert_ok(text, "ALL buy EURUSD");
    assert_string_equal(P.plugin, "");
}

static void test_text_plugin_is_lowercased(void **state)
{
    (void)state;
    assert_ok(text, "Combined_V3 buy EURUSD");
    assert_string_equal(P.plugin, "combined_v3");
}

static void test_invalid_plugin_id_is_rejected(void **state)
{
    (void)state;
    assert_err(text, "combined-v3 buy EURUSD", "plugin: invalid id 'combined-v3'");
    assert_err(text, "plug.in buy EURUSD", "plugin:");
}

static void test_plugin_id_length_limit(void **state)
{
    char buf[200];

    (void)state;
    memset(buf, 'p', 63);
    strcpy(buf + 63, " buy EURUSD");
    assert_ok(text, buf);
    assert_int_equal(strlen(P.plugin), 63);
    memset(buf, 'p', 64);
    strcpy(buf + 64, " buy EURUSD");
    assert_err(text, buf, "plugin:");
}

static void test_action_words_are_case_insensitive(void **state)
{
    (void)state;
    assert_ok(text, "BUY EURUSD");
    assert_int_equal(P.action, ZX_BUY);
    assert_ok(text, "Sell EURUSD");
    assert_int_equal(P.action, ZX_SELL);
    assert_ok(text, "CLOSE_Long EURUSD");
    assert_int_equal(P.action, ZX_CLOSE_LONG);
}

static void test_long_means_buy_and_short_means_sell(void **state)
{
    (void)state;
    assert_ok(text, "long EURUSD");
    assert_int_equal(P.action, ZX_BUY);
    assert_ok(text, "short EURUSD");
    assert_int_equal(P.action, ZX_SELL);
}

static void test_close_actions_are_parsed(void **state)
{
    (void)state;
    assert_ok(text, "close EURUSD");
    assert_int_equal(P.action, ZX_CLOSE);
    assert_ok(text, "close_long EURUSD");
    assert_int_equal(P.action, ZX_CLOSE_LONG);
    assert_ok(text, "close_short EURUSD");
    assert_int_equal(P.action, ZX_CLOSE_SHORT);
}

static void test_unknown_action_is_named(void **state)
{
    (void)state;
    assert_err(text, "bye EURUSD", "action: unknown action 'bye'");
    assert_err(text, "bye EURUSD sl=1", "action: unknown action 'bye'");
}

static void test_unknown_action_after_plugin_is_named(void **state)
{
    (void)state;
    assert_err(text, "combined_v3 byu EURUSD", "action: unknown action 'byu'");
}

static void test_empty_text_is_rejected(void **state)
{
    (void)state;
    assert_err(text, "", "signal: empty");
    assert_err(text, "  \t\r\n ", "signal: empty");
}

static void test_missing_action_is_reported(void **state)
{
    (void)state;
    assert_err(text, "sl=1 buy EURUSD", "action: missing");
}

static void test_missing_symbol_is_reported(void **state)
{
    (void)state;
    assert_err(text, "buy", "symbol: missing");
    assert_err(text, "combined_v3 buy", "symbol: missing");
    assert_err(text, "buy sl=1.0", "symbol: missing");
}

/* ---- symbols ---- */

static void test_exchange_prefix_is_dropped(void **state)
{
    (void)state;
    assert_ok(text, "buy FX:EURUSD");
    assert_string_equal(P.symbol, "EURUSD");
    assert_ok(text, "buy OANDA:XAUUSD");
    assert_string_equal(P.symbol, "XAUUSD");
    assert_ok(text, "buy A:B:btcusdt.p");
    assert_string_equal(P.symbol, "BTCUSDT.P");
}

static void test_symbol_is_uppercased(void **state)
{
    (void)state;
    assert_ok(text, "buy eurusd");
    assert_string_equal(P.symbol, "EURUSD");
    assert_ok(text, "buy us_30.cash");
    assert_string_equal(P.symbol, "US_30.CASH");
}

static void test_symbol_with_bad_character_is_rejected(void **state)
{
    (void)state;
    assert_err(text, "buy EUR/USD", "symbol: invalid 'EUR/USD'");
    assert_err(text, "buy EUR-USD", "symbol:");
    assert_err(json, "{\"action\":\"buy\",\"symbol\":\"EUR USD\"}", "symbol:");
    assert_err(json, "{\"action\":\"buy\",\"symbol\":\"EUR\\u00e9\"}", "symbol:");
}

static void test_symbol_length_limit(void **state)
{
    (void)state;
    assert_ok(text, "buy ABCDEFGHIJKLMNOPQRSTUVWXYZ01234");
    assert_int_equal(strlen(P.symbol), 31);
    assert_err(text, "buy ABCDEFGHIJKLMNOPQRSTUVWXYZ012345", "symbol:");
    /* the limit applies after the prefix is dropped */
    assert_ok(text, "buy SOMEVERYLONGEXCHANGENAME:ABCDEFGHIJKLMNOPQRSTUVWXYZ01234");
}

static void test_empty_symbol_after_prefix_is_rejected(void **state)
{
    (void)state;
    assert_err(text, "buy FX:", "symbol: invalid 'FX:'");
}

/* ---- keys ---- */

static void test_key_names_are_case_insensitive(void **state)
{
    (void)state;
    assert_ok(text, "buy EURUSD PRICE=1.1 Sl=1.0 tP=1.2 LOT=2 ID=x COMMENT=c SECRET=s");
    assert_true(P.price == 1.1 && P.sl == 1.0 && P.tp == 1.2 && P.lot == 2);
    assert_string_equal(P.id, "x");
    assert_string_equal(P.comment, "c");
    assert_string_equal(P.secret, "s");
}

static void test_unknown_key_is_named(void **state)
{
    (void)state;
    assert_err(text, "buy EURUSD stoploss=1.0", "stoploss: unknown key");
    assert_err(text, "buy EURUSD symbol=EURUSD", "symbol: unknown key");
}

static void test_duplicate_key_is_rejected(void **state)
{
    (void)state;
    assert_err(text, "buy EURUSD sl=1.0 sl=1.1", "sl: given twice");
    assert_err(text, "buy EURUSD sl=1.0 SL=1.1", "sl: given twice");
    assert_err(text, "buy EURUSD comment=a comment=b", "comment: given twice");
}

static void test_word_without_equals_after_symbol_is_rejected(void **state)
{
    (void)state;
    assert_err(text, "buy EURUSD 1.08", "word 3: expected key=value");
    assert_err(text, "x buy EURUSD lot=1 extra", "word 5: expected key=value");
}

static void test_empty_key_is_rejected(void **state)
{
    (void)state;
    assert_err(text, "buy EURUSD =5", "word 3: empty key");
}

static void test_comment_runs_to_end_of_token(void **state)
{
    (void)state;
    assert_ok(text, "buy EURUSD comment=a=b,c:d lot=1");
    assert_string_equal(P.comment, "a=b,c:d");
    assert_true(P.lot == 1);
}

static void test_quoted_comment_keeps_spaces(void **state)
{
    (void)state;
    assert_ok(text, "buy EURUSD comment=\"two  words\" lot=1");
    assert_string_equal(P.comment, "two  words");
    assert_true(P.lot == 1);
    assert_ok(text, "buy EURUSD comment=\"\"");
    assert_string_equal(P.comment, "");
    assert_ok(text, "buy EURUSD sl=\"1.05\"");
    assert_true(P.sl == 1.05);
}

static void test_unterminated_quote_is_rejected(void **state)
{
    (void)state;
    assert_err(text, "buy EURUSD comment=\"two words", "comment: no closing quote");
}

static void test_text_after_closing_quote_is_rejected(void **state)
{
    (void)state;
    assert_err(text, "buy EURUSD comment=\"two words\"x", "comment: text after the closing quote");
}

static void test_comment_length_limit(void **state)
{
    char buf[400];

    (void)state;
    snprintf(buf, sizeof buf, "buy EURUSD comment=%0255d", 0);
    assert_ok(text, buf);
    assert_int_equal(strlen(P.comment), 255);
    snprintf(buf, sizeof buf, "buy EURUSD comment=%0256d", 0);
    assert_err(text, buf, "comment: longer than 255 bytes");
}

static void test_comment_with_control_character_is_rejected(void **state)
{
    (void)state;
    assert_err(text, "buy EURUSD comment=\"a\tb\"", "comment: control character");
    assert_err(text, "buy EURUSD comment=a\x7f", "comment: control character");
    assert_err(json, "{\"action\":\"buy\",\"symbol\":\"X\",\"comment\":\"a\\nb\"}",
               "comment: control character");
}

static void test_comment_allows_utf8(void **state)
{
    (void)state;
    assert_ok(json, "{\"action\":\"buy\",\"symbol\":\"X\",\"comment\":\"caf\\u00e9 \xe2\x82\xac\"}");
    assert_string_equal(P.comment, "caf\xc3\xa9 \xe2\x82\xac");
}

/* ---- numbers ---- */

static void test_not_a_number_is_named(void **state)
{
    (void)state;
    assert_err(text, "buy EURUSD sl=abc", "sl: not a number: 'abc'");
    assert_err(text, "buy EURUSD price=1,08", "price: not a number: '1,08'");
    assert_err(text, "buy EURUSD lot=1x", "lot: not a number");
    assert_err(text, "buy EURUSD tp=\" 1.2\"", "tp: not a number");
}

static void test_negative_number_is_rejected(void **state)
{
    (void)state;
    assert_err(text, "buy EURUSD lot=-1", "lot: must not be negative");
    assert_err(text, "buy EURUSD price=-0.5", "price: must not be negative");
    assert_err(json, "{\"action\":\"buy\",\"symbol\":\"X\",\"tp\":-1}", "tp: must not be negative");
}

static void test_negative_zero_becomes_zero(void **state)
{
    (void)state;
    assert_ok(text, "buy EURUSD lot=-0");
    assert_true(P.lot == 0 && !signbit(P.lot));
}

static void test_infinite_or_nan_number_is_rejected(void **state)
{
    (void)state;
    assert_err(text, "buy EURUSD sl=inf", "sl: must be finite");
    assert_err(text, "buy EURUSD sl=nan", "sl: must be finite");
    assert_err(text, "buy EURUSD price=1e999", "price: must be finite");
    assert_err(json, "{\"action\":\"buy\",\"symbol\":\"X\",\"lot\":NaN}", "lot: must be finite");
    assert_err(json, "{\"action\":\"buy\",\"symbol\":\"X\",\"lot\":1e999}", "lot: must be finite");
}

static void test_empty_number_in_text_is_rejected(void **state)
{
    (void)state;
    assert_err(text, "buy EURUSD sl=", "sl: empty value");
}

static void test_overlong_number_is_rejected(void **state)
{
    char buf[200];

    (void)state;
    snprintf(buf, sizeof buf, "buy EURUSD lot=1.%0100d", 0);
    assert_err(text, buf, "lot: not a number");
}

/* ---- levels ---- */

static void test_valid_buy_and_sell_levels_are_accepted(void **state)
{
    (void)state;
    assert_ok(text, "buy EURUSD price=1.08 sl=1.07 tp=1.10");
    assert_ok(text, "sell EURUSD price=1.08 sl=1.10 tp=1.07");
    assert_ok(text, "buy EURUSD price=1.08 sl=1.07");
    assert_ok(text, "sell EURUSD price=1.08 tp=1.07");
}

static void test_sl_above_price_for_buy_is_rejected(void **state)
{
    (void)state;
    assert_err(text, "buy EURUSD price=1.08 sl=1.09", "sl: must be below price for a buy");
    assert_err(text, "buy EURUSD price=1.08 sl=1.08", "sl: must be below price for a buy");
}

static void test_tp_below_price_for_buy_is_rejected(void **state)
{
    (void)state;
    assert_err(text, "buy EURUSD price=1.08 tp=1.07", "tp: must be above price for a buy");
}

static void test_sl_below_price_for_sell_is_rejected(void **state)
{
    (void)state;
    assert_err(text, "sell EURUSD price=1.08 sl=1.07", "sl: must be above price for a sell");
}

static void test_tp_above_price_for_sell_is_rejected(void **state)
{
    (void)state;
    assert_err(text, "sell EURUSD price=1.08 tp=1.09", "tp: must be below price for a sell");
}

static void test_levels_are_checked_in_json_too(void **state)
{
    (void)state;
    assert_err(json, "{\"action\":\"buy\",\"symbol\":\"X\",\"price\":\"1.08\",\"sl\":\"1.09\"}",
               "sl: must be below price for a buy");
}

static void test_swapped_sl_and_tp_without_price_are_rejected(void **state)
{
    (void)state;
    assert_ok(text, "buy EURUSD sl=1.09");
    assert_ok(text, "buy EURUSD sl=1.07 tp=1.09");
    assert_err(text, "buy EURUSD sl=1.09 tp=1.07", "sl: must be below tp for a buy");
    assert_err(text, "sell EURUSD sl=1.07 tp=1.09", "sl: must be above tp for a sell");
}

static void test_close_does_not_check_levels(void **state)
{
    (void)state;
    assert_ok(text, "close EURUSD price=1.08 sl=1.09 tp=1.07");
}

/* ---- id, secret ---- */

static void test_id_is_accepted(void **state)
{
    (void)state;
    assert_ok(text, "buy EURUSD id=AZaz09._:-");
    assert_string_equal(P.id, "AZaz09._:-");
}

static void test_id_with_bad_character_is_rejected(void **state)
{
    (void)state;
    assert_err(text, "buy EURUSD id=a\x01b", "id: byte 2 is a control character or not UTF-8");
    assert_err(json, "{\"action\":\"buy\",\"symbol\":\"X\",\"id\":\"a\\u0007\"}", "id: byte 2");
    assert_err(json, "{\"action\":\"buy\",\"symbol\":\"X\",\"id\":\"\\u0085\"}", "id: byte 1");
    assert_err(text, "buy EURUSD id=\xc3", "id: byte 1");               /* cut character */
    assert_err(text, "buy EURUSD id=\xc0\xaf", "id: byte 1");           /* overlong '/' */
    assert_err(text, "buy EURUSD id=\xed\xa0\x80", "id: byte 1");       /* surrogate */
    assert_err(text, "buy EURUSD id=", "id: empty");
}

/* SPEC 12: TradingView's {{strategy.order.id}} holds spaces ("Long Entry"). */
static void test_id_is_any_printable_utf8(void **state)
{
    (void)state;
    assert_ok(text, "buy EURUSD id=\"Long Entry 1\"");
    assert_string_equal(P.id, "Long Entry 1");
    assert_ok(json, "{\"action\":\"buy\",\"symbol\":\"X\",\"id\":\"Long Entry\"}");
    assert_string_equal(P.id, "Long Entry");
    assert_ok(text, "buy EURUSD id=a/b#\xc3\xa9\xe2\x82\xac\xf0\x9f\x9a\x80");
    assert_string_equal(P.id, "a/b#\xc3\xa9\xe2\x82\xac\xf0\x9f\x9a\x80");
}

static void test_id_length_limit(void **state)
{
    char buf[200];

    (void)state;
    snprintf(buf, sizeof buf, "buy EURUSD id=%0128d", 1);
    assert_ok(text, buf);
    assert_int_equal(strlen(P.id), 128);
    snprintf(buf, sizeof buf, "buy EURUSD id=%0129d", 1);
    assert_err(text, buf, "id: longer than 128");
}

static void test_secret_length_limit(void **state)
{
    char buf[400];

    (void)state;
    snprintf(buf, sizeof buf, "buy EURUSD secret=%0255d", 7);
    assert_ok(text, buf);
    assert_int_equal(strlen(P.secret), 255);
    snprintf(buf, sizeof buf, "buy EURUSD secret=%0256d", 7);
    assert_err(text, buf, "secret: longer than 255 bytes");
    assert_null(strstr(E, "0000007"));
}

static void test_error_never_contains_secret(void **state)
{
    (void)state;
    /* the secret is echoed by no message, even when it equals a quoted value */
    assert_err(text, "EURUSDX buy EUR/USD secret=EUR/USD", "symbol: invalid");
    assert_null(strstr(E, "EUR/USD"));
    assert_err(text, "buy EURUSD sl=hunter2 secret=hunter2", "sl: not a number");
    assert_null(strstr(E, "hunter2"));
    assert_err(text, "buy EURUSD secret=\"hunter 2\" secret=x", "secret: given twice");
    assert_null(strstr(E, "hunter 2"));
    assert_err(json, "{\"secret\":\"abc\",\"action\":\"abc\",\"symbol\":\"X\"}", "action: unknown");
    assert_null(strstr(E, "abc"));
    assert_err(json, "{\"action\":\"buy\",\"symbol\":\"X\",\"sl\":\"s3cr3t\",\"Secret\":\"s3cr3t\"}",
               "sl: not a number");
    assert_null(strstr(E, "s3cr3t"));
    /* a one-letter secret still never shows, even in fixed wording */
    assert_int_equal(text("buy EURUSD secret=e tp=x"), -1);
    assert_null(strstr(E, "e"));
    assert_int_equal(text("buy EURUSD secret=* tp=*"), -1);
    assert_null(strstr(E, "*"));
}

static void test_failure_keeps_only_the_secret(void **state)
{
    (void)state;
    assert_int_equal(text("combined_v3 buy EURUSD lot=2 sl=x secret=pw"), -1);
    assert_string_equal(P.secret, "pw");
    assert_string_equal(P.plugin, "");
    assert_string_equal(P.symbol, "");
    assert_int_equal(P.action, 0);
    assert_true(P.lot == 0);
    assert_int_equal(json("{\"secret\":\"pw\",\"action\":\"buy\",\"symbol\":\"X\",\"nope\":1}"), -1);
    assert_string_equal(P.secret, "pw");
    assert_int_equal(P.action, 0);
}

/* ---- limits and calling conventions ---- */

static void test_too_many_tokens_are_rejected(void **state)
{
    char buf[1000] = "p buy EURUSD lot=1 id=a";
    int i;

    (void)state;
    for (i = 0; i < 27; i++)
        strcat(buf, " comment=c");
    assert_err(text, buf, "comment: given twice");       /* 32 words: parsed */
    strcat(buf, " lot=1");
    assert_err(text, buf, "signal: more than 32 words");
}

static void test_text_respects_len(void **state)
{
    static const char buf[] = "buy EURUSD lot=1.5 garbage";

    (void)state;
    assert_int_equal(sig_parse_text(buf, 18, &P, E, sizeof E), 0);
    assert_true(P.lot == 1.5);
    assert_int_equal(sig_parse_text(buf, 16, &P, E, sizeof E), 0);
    assert_true(P.lot == 1);
}

static void test_json_respects_len(void **state)
{
    static const char buf[] = "{\"action\":\"buy\",\"symbol\":\"X\"}{{{garbage";

    (void)state;
    assert_int_equal(sig_parse_json(buf, 29, &P, E, sizeof E), 0);
    assert_string_equal(P.symbol, "X");
    assert_int_equal(sig_parse_json(buf, 28, &P, E, sizeof E), -1);
    assert_non_null(strstr(E, "body: invalid JSON: unexpected end"));
}

static void test_nul_byte_in_text_is_rejected(void **state)
{
    static const char buf[] = "buy EUR\0USD";

    (void)state;
    assert_int_equal(sig_parse_text(buf, sizeof buf - 1, &P, E, sizeof E), -1);
    assert_non_null(strstr(E, "symbol:"));
}

static void test_err_may_be_null(void **state)
{
    (void)state;
    assert_int_equal(sig_parse_text("bye X", 5, &P, NULL, 0), -1);
    assert_int_equal(sig_parse_json("[", 1, &P, NULL, 100), -1);
    assert_int_equal(sig_parse_body("buy X", 5, &P, NULL, 0), 0);
}

static void test_err_is_truncated_and_terminated(void **state)
{
    char small[8];

    (void)state;
    memset(small, 'z', sizeof small);
    assert_int_equal(sig_parse_text("buy EURUSD sl=abc", 17, &P, small, sizeof small), -1);
    assert_string_equal(small, "sl: not");
}

static void test_out_is_reset_at_entry(void **state)
{
    (void)state;
    assert_ok(text, "p sell EURUSD lot=3 id=a comment=b secret=c");
    assert_ok(text, "buy GBPUSD");
    assert_string_equal(P.plugin, "");
    assert_true(P.lot == 0);
    assert_string_equal(P.id, "");
    assert_string_equal(P.comment, "");
    assert_string_equal(P.secret, "");
    assert_ok(json, "{\"action\":\"buy\",\"symbol\":\"X\"}");
    assert_string_equal(P.symbol, "X");
}

static void test_null_arguments_are_rejected(void **state)
{
    (void)state;
    assert_int_equal(sig_parse_text(NULL, 3, &P, E, sizeof E), -1);
    assert_int_equal(sig_parse_json("{}", 2, NULL, E, sizeof E), -1);
    assert_int_equal(sig_parse_body(NULL, 0, &P, E, sizeof E), -1);
    assert_non_null(strstr(E, "signal: empty"));
}

/* ---- JSON form ---- */

static void test_json_every_field_is_parsed(void **state)
{
    (void)state;
    assert_ok(json, "{\"secret\":\"s\",\"plugin\":\"Combined_V3\",\"action\":\"SELL\","
              "\"symbol\":\"fx:gbpusd\",\"price\":1.265,\"sl\":1.27,\"tp\":1.255,\"lot\":1,"
              "\"id\":\"abc-1\",\"comment\":\"two words\"}");
    assert_string_equal(P.secret, "s");
    assert_string_equal(P.plugin, "combined_v3");
    assert_int_equal(P.action, ZX_SELL);
    assert_string_equal(P.symbol, "GBPUSD");
    assert_true(P.price == 1.265 && P.sl == 1.27 && P.tp == 1.255 && P.lot == 1);
    assert_string_equal(P.id, "abc-1");
    assert_string_equal(P.comment, "two words");
}

static void test_quoted_numbers_are_accepted(void **state)
{
    (void)state;
    assert_ok(json, "{\"action\":\"buy\",\"symbol\":\"EURUSD\",\"price\":\"1.0825\","
              "\"sl\":\"1.0800\",\"tp\":\"1.0900\",\"lot\":\"0.1\"}");
    assert_true(P.price == 1.0825 && P.sl == 1.08 && P.tp == 1.09 && P.lot == 0.1);
}

static void test_quoted_number_that_is_not_a_number_is_named(void **state)
{
    (void)state;
    assert_err(json, "{\"action\":\"buy\",\"symbol\":\"X\",\"tp\":\"{{plot_0}}\"}",
               "tp: not a number: '{{plot_0}}'");
}

/* SPEC 12: an unfilled placeholder ("sl":"") must not open a trade without its stop. */
static void test_empty_string_number_is_an_error_naming_the_field(void **state)
{
    (void)state;
    assert_err(json, "{\"action\":\"buy\",\"symbol\":\"X\",\"sl\":\"\"}", "sl: empty value");
    assert_err(json, "{\"action\":\"buy\",\"symbol\":\"X\",\"price\":\"\"}", "price: empty value");
    assert_err(json, "{\"action\":\"buy\",\"symbol\":\"X\",\"tp_pips\":\"\"}", "tp_pips: empty value");
    assert_err(text, "buy X lot=", "lot: empty value");
}

static void test_pip_distances_are_parsed_and_exclusive_with_prices(void **state)
{
    (void)state;
    assert_ok(text, "buy EURUSD sl_pips=20 tp_pips=40.5");
    assert_true(P.sl_pips == 20 && P.tp_pips == 40.5 && P.sl == 0 && P.tp == 0);
    assert_ok(json, "{\"action\":\"sell\",\"symbol\":\"X\",\"sl_pips\":\"15\",\"tp_pips\":30}");
    assert_true(P.sl_pips == 15 && P.tp_pips == 30);
    assert_err(text, "buy EURUSD sl=1.09 sl_pips=20", "sl_pips: give sl");
    assert_err(text, "buy EURUSD tp=1.2 tp_pips=20", "tp_pips: give tp");
    assert_err(text, "buy EURUSD sl_pips=-3", "sl_pips: must not be negative");
}

static void test_pineconnector_lines_are_read_in_its_syntax(void **state)
{
    char err[256];
    (void)state;
    const char *l = "s3cret,buy,EURUSD,risk=1,sl=20,tp=40";
    assert_true(sig_is_pine(l, strlen(l), "s3cret"));
    assert_false(sig_is_pine(l, strlen(l), "s3cre"));
    assert_false(sig_is_pine(l, strlen(l), ""));
    assert_false(sig_is_pine("buy EURUSD", 10, "s3cret"));
    assert_int_equal(sig_parse_pine(l, strlen(l), &P, err, sizeof err), 0);
    assert_true(P.action == ZX_BUY && P.risk == 1 && P.sl_pips == 20 && P.tp_pips == 40 && P.sl == 0);
    assert_string_equal(P.symbol, "EURUSD");
    assert_string_equal(P.secret, "s3cret");
    l = "s3cret , closeshortsell , GBPJPY , vol_lots=0.3 , comment=\"a, b\"";
    assert_int_equal(sig_parse_pine(l, strlen(l), &P, err, sizeof err), 0);
    assert_true(P.action == ZX_SELL && P.reverse == 1 && P.lot == 0.3);
    assert_string_equal(P.comment, "a, b");
    l = "s3cret,closelong,US30.Cash";
    assert_int_equal(sig_parse_pine(l, strlen(l), &P, err, sizeof err), 0);
    assert_true(P.action == ZX_CLOSE_LONG);
    /* refused, naming why; the secret never quoted */
    l = "s3cret,newsltplong,EURUSD,sl=10";
    assert_int_equal(sig_parse_pine(l, strlen(l), &P, err, sizeof err), -1);
    assert_non_null(strstr(err, "newsltplong is not supported: use /modify"));
    l = "s3cret,buy,EURUSD,risk=1,sl=20,betrigger=10";
    assert_int_equal(sig_parse_pine(l, strlen(l), &P, err, sizeof err), -1);
    assert_non_null(strstr(err, "betrigger: PineConnector key not supported"));
    l = "s3cret,fly,EURUSD";
    assert_int_equal(sig_parse_pine(l, strlen(l), &P, err, sizeof err), -1);
    assert_null(strstr(err, "s3cret"));
    assert_string_equal(P.secret, "s3cret");
}

static void test_close_all_risk_and_the_any_symbol(void **state)
{
    (void)state;
    assert_ok(text, "close_all *");
    assert_true(P.action == SIG_CLOSE_ALL);
    assert_string_equal(P.symbol, "*");
    assert_string_equal(sig_action_name(P.action), "close_all");
    assert_ok(json, "{\"plugin\":\"a\",\"action\":\"close_all\",\"symbol\":\"EURUSD\"}");
    assert_err(text, "buy *", "symbol: * (any symbol) goes with close_all only");
    assert_ok(text, "buy EURUSD risk=1.5 sl_pips=20");
    assert_true(P.risk == 1.5);
    assert_err(text, "buy EURUSD risk=1 lot=0.1", "risk: give lot or risk");
    assert_err(text, "buy EURUSD risk=101 sl_pips=20", "risk: a percentage");
}

static void test_stops_are_resolved_against_the_reference_price(void **state)
{
    char err[256];
    (void)state;
    /* pips from the fill: buy below / above, sell the other way */
    assert_ok(text, "buy EURUSD sl_pips=20 tp_pips=40");
    assert_int_equal(sig_resolve_stops(&P, 1.1000, 0.0001, 20, err, sizeof err), 0);
    assert_true(fabs(P.sl - 1.0980) < 1e-12 && fabs(P.tp - 1.1040) < 1e-12);
    assert_ok(text, "sell USDJPY sl_pips=25");
    assert_int_equal(sig_resolve_stops(&P, 150.00, 0.01, 20, err, sizeof err), 0);
    assert_true(fabs(P.sl - 150.25) < 1e-9 && P.tp == 0);
    /* pips typed as a price: refused naming the field, pointing at sl_pips */
    assert_ok(text, "sell EURUSD price=1.08512 sl=20");
    assert_int_equal(sig_resolve_stops(&P, 1.08512, 0.0001, 20, err, sizeof err), -1);
    assert_non_null(strstr(err, "sl: 20 is "));
    assert_non_null(strstr(err, "sl_pips"));
    assert_ok(text, "buy EURUSD price=1.1 tp=2");
    assert_int_equal(sig_resolve_stops(&P, 1.1, 0.0001, 20, err, sizeof err), -1);
    assert_non_null(strstr(err, "tp: 2 is"));
    /* 0 turns the distance limit off; the side is still checked against the fill */
    assert_ok(text, "buy EURUSD price=1.1 tp=2");
    assert_int_equal(sig_resolve_stops(&P, 1.1, 0.0001, 0, err, sizeof err), 0);
    assert_ok(text, "buy EURUSD sl=1.2");
    assert_int_equal(sig_resolve_stops(&P, 1.1, 0.0001, 20, err, sizeof err), -1);
    assert_non_null(strstr(err, "sl: 1.2 must be below the price 1.1"));
    /* nothing to measure pips from */
    assert_ok(text, "buy EURUSD sl_pips=20");
    assert_int_equal(sig_resolve_stops(&P, 0, 0.0001, 20, err, sizeof err), -1);
    assert_non_null(strstr(err, "sl_pips: no price is known for EURUSD"));
    /* closes are never refused for their stops */
    assert_ok(text, "close EURUSD");
    assert_int_equal(sig_resolve_stops(&P, 0, 0, 20, err, sizeof err), 0);
}

static void test_json_null_means_not_given(void **state)
{
    (void)state;
    assert_ok(json, "{\"action\":\"buy\",\"symbol\":\"X\",\"plugin\":null,\"sl\":null,"
              "\"id\":null,\"comment\":null,\"secret\":null}");
    assert_string_equal(P.plugin, "");
    assert_true(P.sl == 0);
}

static void test_unknown_json_field_is_named(void **state)
{
    (void)state;
    assert_err(json, "{\"action\":\"buy\",\"symbol\":\"X\",\"stoploss\":1.0}",
               "stoploss: unknown field");
}

static void test_json_field_names_are_case_insensitive(void **state)
{
    (void)state;
    assert_ok(json, "{\"Action\":\"buy\",\"SYMBOL\":\"X\",\"Sl\":1}");
    assert_true(P.sl == 1);
    assert_err(json, "{\"action\":\"buy\",\"symbol\":\"X\",\"sl\":1,\"SL\":2}", "sl: given twice");
}

static void test_json_missing_action_and_symbol_are_reported(void **state)
{
    (void)state;
    assert_err(json, "{\"symbol\":\"X\"}", "action: missing");
    assert_err(json, "{\"action\":\"\",\"symbol\":\"X\"}", "action: missing");
    assert_err(json, "{\"action\":\"buy\"}", "symbol: missing");
    assert_err(json, "{\"action\":\"buy\",\"symbol\":null}", "symbol: missing");
    assert_err(json, "{}", "action: missing");
}

static void test_json_unknown_action_is_named(void **state)
{
    (void)state;
    assert_err(json, "{\"action\":\"purchase\",\"symbol\":\"X\"}", "action: unknown action 'purchase'");
    assert_err(json, "{\"action\":\"buy\\u0000x\",\"symbol\":\"X\"}", "action: contains a NUL");
}

static void test_json_plugin_all_and_invalid(void **state)
{
    (void)state;
    assert_ok(json, "{\"plugin\":\"all\",\"action\":\"buy\",\"symbol\":\"X\"}");
    assert_string_equal(P.plugin, "");
    assert_ok(json, "{\"plugin\":\"\",\"action\":\"buy\",\"symbol\":\"X\"}");
    assert_string_equal(P.plugin, "");
    assert_err(json, "{\"plugin\":\"a b\",\"action\":\"buy\",\"symbol\":\"X\"}", "plugin: invalid id");
    assert_err(json, "{\"plugin\":3,\"action\":\"buy\",\"symbol\":\"X\"}", "plugin: must be a string");
}

static void test_json_id_may_be_an_integer(void **state)
{
    (void)state;
    assert_ok(json, "{\"action\":\"buy\",\"symbol\":\"X\",\"id\":1700000000123}");
    assert_string_equal(P.id, "1700000000123");
    assert_ok(json, "{\"action\":\"buy\",\"symbol\":\"X\",\"id\":-5}");
    assert_string_equal(P.id, "-5");
    assert_ok(json, "{\"action\":\"buy\",\"symbol\":\"X\",\"id\":18446744073709551614}");
    assert_string_equal(P.id, "18446744073709551614");
}

static void test_json_id_of_other_type_is_rejected(void **state)
{
    (void)state;
    assert_err(json, "{\"action\":\"buy\",\"symbol\":\"X\",\"id\":1.5}", "id: must be a string or an integer");
    assert_err(json, "{\"action\":\"buy\",\"symbol\":\"X\",\"id\":true}", "id: must be a string or an integer");
    assert_err(json, "{\"action\":\"buy\",\"symbol\":\"X\",\"id\":99999999999999999999999}",
               "id: integer out of range");
    assert_err(json, "{\"action\":\"buy\",\"symbol\":\"X\",\"id\":\"\"}", "id: empty");
}

static void test_json_number_of_wrong_type_is_rejected(void **state)
{
    (void)state;
    assert_err(json, "{\"action\":\"buy\",\"symbol\":\"X\",\"lot\":true}",
               "lot: must be a number or a numeric string");
}

static void test_json_string_field_of_wrong_type_is_rejected(void **state)
{
    (void)state;
    assert_err(json, "{\"action\":1,\"symbol\":\"X\"}", "action: must be a string");
    assert_err(json, "{\"action\":\"buy\",\"symbol\":\"X\",\"secret\":1234}", "secret: must be a string");
    assert_null(strstr(E, "1234"));
    assert_err(json, "{\"action\":\"buy\",\"symbol\":\"X\",\"comment\":false}", "comment: must be a string");
}

static void test_json_nested_value_is_rejected(void **state)
{
    (void)state;
    assert_err(json, "{\"action\":\"buy\",\"symbol\":\"X\",\"sl\":{\"price\":1}}",
               "sl: must be a single value, not an object");
    assert_err(json, "{\"action\":\"buy\",\"symbol\":[\"X\"]}", "symbol: must be a single value, not an array");
    assert_err(json, "{\"action\":\"buy\",\"symbol\":\"X\",\"sl\":{\"a\":{\"b\":{}}}}",
               "body: invalid JSON at byte 45: nesting too deep");
}

static void test_invalid_json_is_reported(void **state)
{
    (void)state;
    assert_err(json, "{\"action\":\"buy\",}", "body: invalid JSON at byte 17: ");
    assert_err(json, "{\"action\" \"buy\"}", "body: invalid JSON at byte 11: ");
    assert_err(json, "{\"action\":\"buy\"", "body: invalid JSON: unexpected end");
}

static void test_data_after_json_object_is_rejected(void **state)
{
    (void)state;
    assert_err(json, "{\"action\":\"buy\",\"symbol\":\"X\"} x", "body: invalid JSON");
    assert_err(json, "{\"action\":\"buy\",\"symbol\":\"X\"}{}", "body: invalid JSON");
    assert_ok(json, "  {\"action\":\"buy\",\"symbol\":\"X\"} \r\n");
}

static void test_non_object_json_is_rejected(void **state)
{
    (void)state;
    assert_err(json, "[1,2]", "body: must be a JSON object");
    assert_err(json, "\"buy X\"", "body: must be a JSON object");
    assert_err(json, "42", "body: must be a JSON object");
    assert_err(json, "", "body: empty");
}

static void test_tradingview_alert_is_parsed(void **state)
{
    (void)state;
    assert_ok(json, "{\n  \"secret\": \"tv-secret\",\n  \"plugin\": \"combined_v3\",\n"
              "  \"action\": \"buy\",\n  \"symbol\": \"OANDA:XAUUSD\",\n"
              "  \"price\": \"2031.45\",\n  \"sl\": \"2025.00\",\n  \"tp\": null,\n"
              "  \"lot\": 0.5,\n  \"id\": \"1700000000000\",\n"
              "  \"comment\": \"TV alert: EMA cross\"\n}\n");
    assert_string_equal(P.symbol, "XAUUSD");
    assert_true(P.price == 2031.45 && P.sl == 2025.00 && P.tp == 0 && P.lot == 0.5);
    assert_string_equal(P.comment, "TV alert: EMA cross");
}

/* ---- body dispatch ---- */

static void test_body_starting_with_brace_is_json(void **state)
{
    (void)state;
    assert_ok(body, " \n{\"action\":\"buy\",\"symbol\":\"X\"}");
    assert_string_equal(P.symbol, "X");
    assert_err(body, "{\"action\":\"buy\",\"symbol\":\"X\",\"bogus\":1}", "bogus: unknown field");
}

static void test_body_without_brace_is_text(void **state)
{
    (void)state;
    assert_ok(body, "  buy FX:EURUSD secret=s\n");
    assert_string_equal(P.symbol, "EURUSD");
    assert_string_equal(P.secret, "s");
    assert_err(body, "buy EURUSD bogus=1", "bogus: unknown key");
    assert_err(body, "", "signal: empty");
}

/* ---- action helpers ---- */

static void test_action_name_round_trips(void **state)
{
    zx_action a;
    int i;

    (void)state;
    for (i = ZX_BUY; i <= ZX_CLOSE_SHORT; i++) {
        assert_int_equal(sig_action_parse(sig_action_name((zx_action)i), &a), 0);
        assert_int_equal(a, i);
    }
    assert_string_equal(sig_action_name((zx_action)0), "?");
    assert_string_equal(sig_action_name((zx_action)99), "?");
}

static void test_action_parse_rejects_unknown_words(void **state)
{
    zx_action a = ZX_CLOSE;

    (void)state;
    assert_int_equal(sig_action_parse("purchase", &a), -1);
    assert_int_equal(sig_action_parse("", &a), -1);
    assert_int_equal(sig_action_parse("buyx", &a), -1);
    assert_int_equal(sig_action_parse(NULL, &a), -1);
    assert_int_equal(a, ZX_CLOSE);
    assert_int_equal(sig_action_parse("Short", &a), 0);
    assert_int_equal(a, ZX_SELL);
}

static void test_duplicated_json_key_is_refused_not_half_read(void **state)
{
    static const char body[] = "{\"action\":\"buy\",\"symbol\":\"EURUSD\",\"action\":\"sell\"}";
    sig_parsed s;
    char err[256];
    (void)state;
    assert_int_equal(sig_parse_json(body, strlen(body), &s, err, sizeof err), -1);
    assert_non_null(strstr(err, "action: given twice"));
}

static void test_escaped_duplicate_key_is_refused(void **state)
{
    /* "\u0061ction" is "action": json-c decodes it and keeps the last (a SELL) */
    static const char body[] = "{\"action\":\"buy\",\"symbol\":\"EURUSD\",\"\\u0061ction\":\"sell\"}";
    static const char nested[] = "{\"action\":\"buy\",\"symbol\":\"EURUSD\",\"comment\":\"{\\\"action\\\":1}\"}";
    sig_parsed s;
    char err[256];
    (void)state;
    assert_int_equal(sig_parse_json(body, strlen(body), &s, err, sizeof err), -1);
    assert_non_null(strstr(err, "action: given twice"));
    assert_int_equal(sig_parse_body(body, strlen(body), &s, err, sizeof err), -1);
    assert_non_null(strstr(err, "action: given twice"));
    assert_int_equal(sig_parse_json(nested, strlen(nested), &s, err, sizeof err), 0);
    assert_int_equal(s.action, ZX_BUY);
}

static void test_json_body_after_a_byte_order_mark_is_json(void **state)
{
    static const char body[] = "\xEF\xBB\xBF{\"secret\":\"s3cr3t-s3cr3t-s3cr3t\",\"action\":\"buy\",\"symbol\":\"EURUSD\"}";
    sig_parsed s;
    char err[256], raw[512];
    (void)state;
    assert_int_equal(sig_parse_body(body, strlen(body), &s, err, sizeof err), 0);
    assert_string_equal(s.secret, "s3cr3t-s3cr3t-s3cr3t");
    assert_int_equal(s.action, ZX_BUY);
    assert_string_equal(s.symbol, "EURUSD");
    assert_int_equal(sig_redact_body(body, strlen(body), raw, sizeof raw), 0);
    assert_null(strstr(raw, "s3cr3t"));
    assert_non_null(strstr(raw, "EURUSD"));
}

/* No 8 bytes of the secret in a row in the message, even where a quote of the
 * input is cut short (the cut piece is no whole secret for a plain search). */
static void test_error_never_quotes_part_of_the_secret(void **state)
{
    static const char secret[] = "Zq7Lw2Xv9Kp4Rt6Yb1Nm3Hc8Jd5Gf0SaUe2Wi4Oo";
    char body[256], err[256];
    sig_parsed s;
    (void)state;
    snprintf(body, sizeof body, "{\"secret\":\"%s\",\"%s\":1,\"action\":\"buy\",\"symbol\":\"EURUSD\"}", secret, secret);
    assert_int_equal(sig_parse_json(body, strlen(body), &s, err, sizeof err), -1);
    for (size_t i = 0; i + 8 <= strlen(secret); i++)
        assert_null(memmem(err, strlen(err), secret + i, 8));
    assert_non_null(strstr(err, "withheld"));
    assert_string_equal(s.secret, secret);      /* the webhook still tells 400 from 401 */
}

static void test_key_inside_a_string_value_is_not_a_duplicate(void **state)
{
    static const char body[] = "{\"action\":\"buy\",\"symbol\":\"EURUSD\","
                               "\"comment\":\"say \\\"action\\\": now\"}";
    sig_parsed s;
    char err[256];
    (void)state;
    assert_int_equal(sig_parse_json(body, strlen(body), &s, err, sizeof err), 0);
    assert_string_equal(s.comment, "say \"action\": now");
}

static void test_redacted_json_body_has_no_secret_in_any_spelling(void **state)
{
    static const char body[] = "{\"secret\":\"te\\u0073t\",\"action\":\"buy\",\"symbol\":\"EURUSD\"}";
    char out[256];
    (void)state;
    assert_int_equal(sig_redact_body(body, strlen(body), out, sizeof out), 0);
    assert_null(strstr(out, "secret"));
    assert_null(strstr(out, "u0073"));
    assert_non_null(strstr(out, "\"action\":\"buy\""));
}

static void test_redacted_text_body_hides_secret_values(void **state)
{
    static const char body[] = "combined_v3 buy EURUSD secret=hunter22 price=1.1 SECRET=\"a b\" id=x";
    char out[256];
    (void)state;
    assert_int_equal(sig_redact_body(body, strlen(body), out, sizeof out), 0);
    assert_string_equal(out, "combined_v3 buy EURUSD secret=*** price=1.1 secret=*** id=x");
}

static void test_pending_actions_need_an_entry_and_take_an_expiry(void **state)
{
    (void)state;
    assert_ok(text, "buy_limit EURUSD entry=1.0800 sl=1.0780 tp=1.0840 expiry_s=3600");
    assert_true(P.action == ZX_BUY_LIMIT && P.entry == 1.08 && P.expiry_s == 3600 && P.sl == 1.078);
    assert_ok(text, "combined_v3 SELL_STOP EURUSD entry=1.07 lot=0.2");
    assert_true(P.action == ZX_SELL_STOP && P.entry == 1.07 && P.expiry_s == 0);
    assert_string_equal(P.plugin, "combined_v3");
    assert_ok(json, "{\"action\":\"buy_stop\",\"symbol\":\"FX:EURUSD\",\"entry\":\"1.09\",\"expiry_s\":60}");
    assert_true(P.action == ZX_BUY_STOP && P.entry == 1.09 && P.expiry_s == 60);
    assert_ok(json, "{\"action\":\"sell_limit\",\"symbol\":\"EURUSD\",\"entry\":1.1,\"sl_pips\":20}");
    assert_true(P.action == ZX_SELL_LIMIT && P.sl_pips == 20);
    /* each failure names its field */
    assert_err(text, "buy_limit EURUSD", "entry: required for buy_limit");
    assert_err(json, "{\"action\":\"sell_stop\",\"symbol\":\"EURUSD\"}", "entry: required for sell_stop");
    assert_err(text, "buy_limit EURUSD entry=0", "entry: must be above 0");
    assert_err(json, "{\"action\":\"buy_limit\",\"symbol\":\"EURUSD\",\"entry\":0}", "entry: must be above 0");
    assert_err(text, "buy_limit EURUSD entry=", "entry: empty value");
    assert_err(text, "buy_limit EURUSD entry=-1.08", "entry: must not be negative");
    assert_err(text, "buy_limit EURUSD entry=1.08 expiry_s=0", "expiry_s: must be a whole number");
    assert_err(text, "buy_limit EURUSD entry=1.08 expiry_s=1.5", "expiry_s: must be a whole number");
    assert_err(json, "{\"action\":\"buy_limit\",\"symbol\":\"EURUSD\",\"entry\":1.08,\"expiry_s\":99999999}",
               "expiry_s: must be a whole number of seconds from 1 to 31622400");
    assert_err(text, "buy EURUSD entry=1.08", "entry: only for a pending order");
    assert_err(text, "close EURUSD expiry_s=60", "expiry_s: only for a pending order");
    assert_err(text, "buy_limit EURUSD entry=1.08 sl=1.09", "sl: must be below the entry for a buy_limit");
    assert_err(text, "buy_stop EURUSD entry=1.08 tp=1.07", "tp: must be above the entry for a buy_stop");
    assert_err(text, "sell_limit EURUSD entry=1.08 sl=1.07", "sl: must be above the entry for a sell_limit");
    assert_err(text, "sell_stop EURUSD entry=1.08 tp=1.09", "tp: must be below the entry for a sell_stop");
    assert_err(text, "buy_limit EURUSD entry=1.08 lot=1 risk=1", "risk: give lot or risk");
    assert_err(text, "buy_limit EURUSD entry=1.08 entry=1.07", "entry: given twice");
    assert_err(text, "buy_limt EURUSD entry=1.08", "buy_limit, buy_stop, sell_limit, sell_stop, cancel");
    /* names, sides */
    assert_string_equal(sig_action_name(ZX_SELL_LIMIT), "sell_limit");
    assert_string_equal(sig_action_name(SIG_CANCEL_SHORT), "cancel_short");
    assert_true(sig_side(ZX_BUY_STOP) == ZX_BUY && sig_side(ZX_SELL_LIMIT) == ZX_SELL && sig_side(ZX_CLOSE) == 0);
    assert_true(sig_is_pending(ZX_SELL_STOP) && !sig_is_pending(ZX_SELL) && sig_is_cancel(SIG_CANCEL));
}

static void test_cancel_names_a_symbol(void **state)
{
    (void)state;
    assert_ok(text, "cancel EURUSD");
    assert_true(P.action == SIG_CANCEL);
    assert_ok(json, "{\"plugin\":\"p1\",\"action\":\"Cancel\",\"symbol\":\"EURUSD\"}");
    assert_true(P.action == SIG_CANCEL);
    assert_err(text, "cancel", "symbol: missing");
    assert_err(text, "cancel *", "symbol: * (any symbol) goes with close_all only");
    assert_err(text, "cancel EURUSD entry=1.08", "entry: only for a pending order");
}

static void test_pending_stops_are_measured_from_the_entry(void **state)
{
    char err[256];
    (void)state;
    assert_ok(text, "buy_limit EURUSD entry=1.0800 sl_pips=20 tp_pips=40");
    assert_int_equal(sig_resolve_stops(&P, P.entry, 0.0001, 20, err, sizeof err), 0);
    assert_true(fabs(P.sl - 1.0780) < 1e-9 && fabs(P.tp - 1.0840) < 1e-9);
    assert_ok(text, "sell_stop EURUSD entry=1.0800 sl_pips=20");
    assert_int_equal(sig_resolve_stops(&P, P.entry, 0.0001, 20, err, sizeof err), 0);
    assert_true(fabs(P.sl - 1.0820) < 1e-9);
    assert_ok(text, "sell_stop EURUSD entry=1.0800 sl=20");
    assert_int_equal(sig_resolve_stops(&P, P.entry, 0.0001, 20, err, sizeof err), -1);
    assert_non_null(strstr(err, "sl: 20 is"));
}

static void test_pineconnector_pending_orders_take_price_in_pips(void **state)
{
    char err[256];
    (void)state;
    const char *l = "s3cret,buylimit,EURUSD,price=10,sl=20,tp=40,risk=1";
    assert_int_equal(sig_parse_pine(l, strlen(l), &P, err, sizeof err), 0);
    assert_true(P.action == ZX_BUY_LIMIT && P.entry_pips == 10 && P.entry == 0 && P.sl_pips == 20 &&
                P.tp_pips == 40 && P.risk == 1);
    l = "s3cret,sellstop,EURUSD,price=15,vol_lots=0.1,expiry_s=600";
    assert_int_equal(sig_parse_pine(l, strlen(l), &P, err, sizeof err), 0);
    assert_true(P.action == ZX_SELL_STOP && P.entry_pips == 15 && P.expiry_s == 600 && P.lot == 0.1);
    l = "s3cret,buystop,EURUSD,entry=1.09,vol_lots=0.1";
    assert_int_equal(sig_parse_pine(l, strlen(l), &P, err, sizeof err), 0);
    assert_true(P.action == ZX_BUY_STOP && P.entry == 1.09);
    l = "s3cret,selllimit,EURUSD";
    assert_int_equal(sig_parse_pine(l, strlen(l), &P, err, sizeof err), -1);
    assert_non_null(strstr(err, "entry: required for sell_limit"));
    l = "s3cret,buylimit,EURUSD,price=10,entry=1.08";
    assert_int_equal(sig_parse_pine(l, strlen(l), &P, err, sizeof err), -1);
    assert_non_null(strstr(err, "entry: give entry (a price) or price= (pips from the quote), not both"));
    l = "s3cret,buylimit,EURUSD,price=,risk=1";
    assert_int_equal(sig_parse_pine(l, strlen(l), &P, err, sizeof err), -1);
    assert_non_null(strstr(err, "price: empty value"));
    l = "s3cret,buy,EURUSD,price=10";
    assert_int_equal(sig_parse_pine(l, strlen(l), &P, err, sizeof err), -1);
    assert_non_null(strstr(err, "price: PineConnector's price= is a pending order's entry"));
    l = "s3cret,cancellong,EURUSD";
    assert_int_equal(sig_parse_pine(l, strlen(l), &P, err, sizeof err), 0);
    assert_true(P.action == SIG_CANCEL_LONG);
    l = "s3cret,cancelshort,EURUSD";
    assert_int_equal(sig_parse_pine(l, strlen(l), &P, err, sizeof err), 0);
    assert_true(P.action == SIG_CANCEL_SHORT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_duplicated_json_key_is_refused_not_half_read),
        cmocka_unit_test(test_escaped_duplicate_key_is_refused),
        cmocka_unit_test(test_json_body_after_a_byte_order_mark_is_json),
        cmocka_unit_test(test_error_never_quotes_part_of_the_secret),
        cmocka_unit_test(test_key_inside_a_string_value_is_not_a_duplicate),
        cmocka_unit_test(test_redacted_json_body_has_no_secret_in_any_spelling),
        cmocka_unit_test(test_redacted_text_body_hides_secret_values),
        cmocka_unit_test(test_text_minimal_buy_is_parsed),
        cmocka_unit_test(test_text_every_field_is_parsed),
        cmocka_unit_test(test_text_all_means_every_plugin),
        cmocka_unit_test(test_text_plugin_is_lowercased),
        cmocka_unit_test(test_invalid_plugin_id_is_rejected),
        cmocka_unit_test(test_plugin_id_length_limit),
        cmocka_unit_test(test_action_words_are_case_insensitive),
        cmocka_unit_test(test_long_means_buy_and_short_means_sell),
        cmocka_unit_test(test_close_actions_are_parsed),
        cmocka_unit_test(test_unknown_action_is_named),
        cmocka_unit_test(test_unknown_action_after_plugin_is_named),
        cmocka_unit_test(test_empty_text_is_rejected),
        cmocka_unit_test(test_missing_action_is_reported),
        cmocka_unit_test(test_missing_symbol_is_reported),
        cmocka_unit_test(test_exchange_prefix_is_dropped),
        cmocka_unit_test(test_symbol_is_uppercased),
        cmocka_unit_test(test_symbol_with_bad_character_is_rejected),
        cmocka_unit_test(test_symbol_length_limit),
        cmocka_unit_test(test_empty_symbol_after_prefix_is_rejected),
        cmocka_unit_test(test_key_names_are_case_insensitive),
        cmocka_unit_test(test_unknown_key_is_named),
        cmocka_unit_test(test_duplicate_key_is_rejected),
        cmocka_unit_test(test_word_without_equals_after_symbol_is_rejected),
        cmocka_unit_test(test_empty_key_is_rejected),
        cmocka_unit_test(test_comment_runs_to_end_of_token),
        cmocka_unit_test(test_quoted_comment_keeps_spaces),
        cmocka_unit_test(test_unterminated_quote_is_rejected),
        cmocka_unit_test(test_text_after_closing_quote_is_rejected),
        cmocka_unit_test(test_comment_length_limit),
        cmocka_unit_test(test_comment_with_control_character_is_rejected),
        cmocka_unit_test(test_comment_allows_utf8),
        cmocka_unit_test(test_not_a_number_is_named),
        cmocka_unit_test(test_negative_number_is_rejected),
        cmocka_unit_test(test_negative_zero_becomes_zero),
        cmocka_unit_test(test_infinite_or_nan_number_is_rejected),
        cmocka_unit_test(test_empty_number_in_text_is_rejected),
        cmocka_unit_test(test_overlong_number_is_rejected),
        cmocka_unit_test(test_valid_buy_and_sell_levels_are_accepted),
        cmocka_unit_test(test_sl_above_price_for_buy_is_rejected),
        cmocka_unit_test(test_tp_below_price_for_buy_is_rejected),
        cmocka_unit_test(test_sl_below_price_for_sell_is_rejected),
        cmocka_unit_test(test_tp_above_price_for_sell_is_rejected),
        cmocka_unit_test(test_levels_are_checked_in_json_too),
        cmocka_unit_test(test_swapped_sl_and_tp_without_price_are_rejected),
        cmocka_unit_test(test_close_does_not_check_levels),
        cmocka_unit_test(test_id_is_accepted),
        cmocka_unit_test(test_id_with_bad_character_is_rejected),
        cmocka_unit_test(test_id_length_limit),
        cmocka_unit_test(test_secret_length_limit),
        cmocka_unit_test(test_error_never_contains_secret),
        cmocka_unit_test(test_failure_keeps_only_the_secret),
        cmocka_unit_test(test_too_many_tokens_are_rejected),
        cmocka_unit_test(test_text_respects_len),
        cmocka_unit_test(test_json_respects_len),
        cmocka_unit_test(test_nul_byte_in_text_is_rejected),
        cmocka_unit_test(test_err_may_be_null),
        cmocka_unit_test(test_err_is_truncated_and_terminated),
        cmocka_unit_test(test_out_is_reset_at_entry),
        cmocka_unit_test(test_null_arguments_are_rejected),
        cmocka_unit_test(test_json_every_field_is_parsed),
        cmocka_unit_test(test_quoted_numbers_are_accepted),
        cmocka_unit_test(test_quoted_number_that_is_not_a_number_is_named),
        cmocka_unit_test(test_empty_string_number_is_an_error_naming_the_field),
        cmocka_unit_test(test_pip_distances_are_parsed_and_exclusive_with_prices),
        cmocka_unit_test(test_stops_are_resolved_against_the_reference_price),
        cmocka_unit_test(test_close_all_risk_and_the_any_symbol),
        cmocka_unit_test(test_pineconnector_lines_are_read_in_its_syntax),
        cmocka_unit_test(test_pending_actions_need_an_entry_and_take_an_expiry),
        cmocka_unit_test(test_cancel_names_a_symbol),
        cmocka_unit_test(test_pending_stops_are_measured_from_the_entry),
        cmocka_unit_test(test_pineconnector_pending_orders_take_price_in_pips),
        cmocka_unit_test(test_id_is_any_printable_utf8),
        cmocka_unit_test(test_json_null_means_not_given),
        cmocka_unit_test(test_unknown_json_field_is_named),
        cmocka_unit_test(test_json_field_names_are_case_insensitive),
        cmocka_unit_test(test_json_missing_action_and_symbol_are_reported),
        cmocka_unit_test(test_json_unknown_action_is_named),
        cmocka_unit_test(test_json_plugin_all_and_invalid),
        cmocka_unit_test(test_json_id_may_be_an_integer),
        cmocka_unit_test(test_json_id_of_other_type_is_rejected),
        cmocka_unit_test(test_json_number_of_wrong_type_is_rejected),
        cmocka_unit_test(test_json_string_field_of_wrong_type_is_rejected),
        cmocka_unit_test(test_json_nested_value_is_rejected),
        cmocka_unit_test(test_invalid_json_is_reported),
        cmocka_unit_test(test_data_after_json_object_is_rejected),
        cmocka_unit_test(test_non_object_json_is_rejected),
        cmocka_unit_test(test_tradingview_alert_is_parsed),
        cmocka_unit_test(test_body_starting_with_brace_is_json),
        cmocka_unit_test(test_body_without_brace_is_text),
        cmocka_unit_test(test_action_name_round_trips),
        cmocka_unit_test(test_action_parse_rejects_unknown_words),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
