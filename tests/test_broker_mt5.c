/* test_broker_mt5 — the MT5 bridge's pure parts: the order comment that must
 * fit MT5's 31 characters, and the shape and time-range check of a poll body. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <json-c/json.h>
#include <stdio.h>
#include <string.h>
#include "broker_mt5.h"

static void comment_short_ids_keep_the_spec_form(void **st)
{
    char c[32];
    (void)st;
    mt5_comment("passthru", 17, c, sizeof c);
    assert_string_equal(c, "zx:passthru:17");
}

static void comment_long_ids_fit_31_characters_and_stay_distinct(void **st)
{
    char a[32], b[32], d[32];
    (void)st;
    /* "zx:strategy_breakout_london_v2:1" is 32 characters: MT5 would cut it. */
    mt5_comment("strategy_breakout_london_v2", 1, a, sizeof a);
    assert_true(strlen(a) <= 31);
    assert_true(strncmp(a, "zx:strategy_", 12) == 0);
    assert_string_equal(a + strlen(a) - 2, ":1");
    mt5_comment("strategy_breakout_london_v3", 1, b, sizeof b);
    assert_string_not_equal(a, b);
    mt5_comment("strategy_breakout_london_v2", 9223372036854775807LL, d, sizeof d);
    assert_true(strlen(d) <= 31);
}

static int check(const char *body, char *err, size_t len)
{
    json_object *o = json_tokener_parse(body);
    int rc = mt5_check_poll(o, err, len);
    json_object_put(o);
    return rc;
}

static void poll_time_fields_are_range_checked(void **st)
{
    char err[300];
    (void)st;
    assert_int_equal(check("{\"closed\":[{\"ticket\":1,\"time\":1764600000}]}", err, sizeof err), 0);
    assert_int_equal(check("{\"closed\":[{\"ticket\":1}]}", err, sizeof err), 0);
    /* issue #14: t * 1000 overflowed for a huge time */
    assert_int_equal(check("{\"closed\":[{\"ticket\":1,\"time\":1},{\"ticket\":2,\"time\":9223372036854775807}]}",
                           err, sizeof err), -1);
    assert_non_null(strstr(err, "closed[0].time"));
    assert_int_equal(check("{\"closed\":[{\"time\":1764600000},{\"time\":9223372036854775807}]}", err, sizeof err), -1);
    assert_non_null(strstr(err, "closed[1].time"));
    assert_int_equal(check("{\"closed\":[{\"time\":-5}]}", err, sizeof err), -1);
    assert_int_equal(check("{\"closed\":[{\"time\":\"soon\"}]}", err, sizeof err), -1);
    assert_int_equal(check("{\"positions\":[{\"time\":1e300}]}", err, sizeof err), -1);
    assert_non_null(strstr(err, "positions[0].time"));
}

static void poll_shapes_are_checked(void **st)
{
    char err[300];
    (void)st;
    assert_int_equal(check("{\"positions\":{}}", err, sizeof err), -1);
    assert_string_equal(err, "positions: expected an array");
    assert_int_equal(check("{\"results\":[1]}", err, sizeof err), -1);
    assert_string_equal(err, "results[0]: expected an object");
    assert_int_equal(check("{\"account\":[]}", err, sizeof err), -1);
    assert_int_equal(check("[]", err, sizeof err), -1);
    assert_int_equal(check("{\"quotes\":[],\"positions\":[],\"closed\":[],\"results\":[]}", err, sizeof err), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(comment_short_ids_keep_the_spec_form),
        cmocka_unit_test(comment_long_ids_fit_31_characters_and_stay_distinct),
        cmocka_unit_test(poll_time_fields_are_range_checked),
        cmocka_unit_test(poll_shapes_are_checked),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
