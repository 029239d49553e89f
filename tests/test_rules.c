/*
 * test_rules — the rules that have one home each (issue 16, item 5): the
 * plugin-definition checks (plugin_def.h, shared by the registry and the
 * plugin host), the number-or-numeric-string reader (jnum.h) and the symbol
 * rule (signal.h's sig_symbol_valid / sig_symbol_norm, also the config's).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <string.h>
#include "jnum.h"
#include "plugin_def.h"
#include "signal.h"

#define assert_contains(hay, needle) assert_non_null(strstr((hay), (needle)))

static zx_plugin_def good_def(void)
{
    zx_plugin_def d;
    memset(&d, 0, sizeof d);
    d.abi_version = ZX_PLUGIN_ABI_VERSION;
    d.id = "tp_ok";
    d.name = "Test";
    d.version = "1.0.0";
    return d;
}

static void test_pdef_accepts_a_complete_definition(void **st)
{
    (void)st;
    char err[256] = "";
    zx_plugin_def d = good_def();
    assert_int_equal(pdef_check(&d, "tp_ok", err, sizeof err), 0);
}

static void test_pdef_refuses_each_broken_field_naming_it(void **st)
{
    (void)st;
    char err[256];
    zx_plugin_def d = good_def();
    assert_int_equal(pdef_check(NULL, "tp_ok", err, sizeof err), -1);
    assert_contains(err, "returned NULL");
    d.abi_version = 999;
    assert_int_equal(pdef_check(&d, "tp_ok", err, sizeof err), -1);
    assert_contains(err, "ABI 999");
    d = good_def();
    d.id = "someone_else";
    assert_int_equal(pdef_check(&d, "tp_ok", err, sizeof err), -1);
    assert_contains(err, "\"someone_else\" does not match its directory \"tp_ok\"");
    d.id = NULL;
    assert_int_equal(pdef_check(&d, "tp_ok", err, sizeof err), -1);
    assert_contains(err, "(null)");
    d = good_def();
    d.version = NULL;
    assert_int_equal(pdef_check(&d, "tp_ok", err, sizeof err), -1);
    assert_contains(err, "name or version");
    d = good_def();
    d.name = NULL;
    assert_int_equal(pdef_check(&d, "tp_ok", err, sizeof err), -1);
}

static double read_x(const char *json, int *rc)
{
    json_object *o = json_tokener_parse(json);
    double v = -1;
    *rc = jnum_member(o, "x", &v);
    json_object_put(o);
    return v;
}

static void test_jnum_reads_numbers_and_numeric_strings(void **st)
{
    (void)st;
    int rc;
    assert_true(read_x("{\"x\": 1.5}", &rc) == 1.5 && rc == 0);
    assert_true(read_x("{\"x\": 7}", &rc) == 7.0 && rc == 0);
    assert_true(read_x("{\"x\": \"1.0825\"}", &rc) == 1.0825 && rc == 0);
    assert_true(read_x("{\"x\": \"-2e3\"}", &rc) == -2000.0 && rc == 0);
    assert_true(isinf(read_x("{\"x\": \"1e999\"}", &rc)) && rc == 0);  /* range is the caller's */
}

static void test_jnum_refuses_what_is_not_all_number(void **st)
{
    (void)st;
    int rc;
    const char *bad[] = {"{\"x\": \"1.08x\"}", "{\"x\": \"\"}", "{\"x\": \"abc\"}", "{\"x\": null}",
                         "{\"x\": true}", "{\"x\": [1]}", "{\"x\": {}}", "{\"y\": 1}",
                         "{\"x\": \"1\\u00002\"}"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        double v = read_x(bad[i], &rc);
        if (rc != -1 || v != 0)
            fail_msg("%s: rc %d, value %g", bad[i], rc, v);
    }
    double v = 5;
    assert_int_equal(jnum_get(NULL, &v), -1);
    assert_true(v == 0);
}

static void test_symbol_rule_valid(void **st)
{
    (void)st;
    assert_true(sig_symbol_valid("EURUSD"));
    assert_true(sig_symbol_valid("EURUSD.pro"));
    assert_true(sig_symbol_valid("US_30"));
    assert_true(sig_symbol_valid("1234567890123456789012345678901"));      /* 31 */
    assert_false(sig_symbol_valid("12345678901234567890123456789012"));    /* 32 */
    assert_false(sig_symbol_valid(""));
    assert_false(sig_symbol_valid(NULL));
    assert_false(sig_symbol_valid("EUR/USD"));
    assert_false(sig_symbol_valid("FX:EURUSD"));
    assert_false(sig_symbol_valid("EUR USD"));
}

static void test_symbol_rule_norm(void **st)
{
    (void)st;
    char out[SIG_SYMBOL_MAX + 1];
    assert_int_equal(sig_symbol_norm("fx:eurusd", 9, out), 0);
    assert_string_equal(out, "EURUSD");
    assert_int_equal(sig_symbol_norm("OANDA:XAU_USD.x", 15, out), 0);
    assert_string_equal(out, "XAU_USD.X");
    assert_int_equal(sig_symbol_norm("EURUSDX", 6, out), 0);          /* n bytes only */
    assert_string_equal(out, "EURUSD");
    assert_int_equal(sig_symbol_norm("1234567890123456789012345678901", 31, out), 0);
    assert_int_equal(sig_symbol_norm("12345678901234567890123456789012", 32, out), -1);
    assert_string_equal(out, "");
    assert_int_equal(sig_symbol_norm("FX:", 3, out), -1);
    assert_int_equal(sig_symbol_norm("EUR-USD", 7, out), -1);
    assert_string_equal(out, "");
    assert_int_equal(sig_symbol_norm("EUR\0USD", 7, out), -1);
    assert_string_equal(out, "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pdef_accepts_a_complete_definition),
        cmocka_unit_test(test_pdef_refuses_each_broken_field_naming_it),
        cmocka_unit_test(test_jnum_reads_numbers_and_numeric_strings),
        cmocka_unit_test(test_jnum_refuses_what_is_not_all_number),
        cmocka_unit_test(test_symbol_rule_valid),
        cmocka_unit_test(test_symbol_rule_norm),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
