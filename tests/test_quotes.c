/* test_quotes — the brokers' one quote table (quotes.c) and the one reader of
 * a JSON request body (jsonbody.c). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "jsonbody.h"
#include "quotes.h"

static void quotes_are_kept_replaced_and_grow(void **st)
{
    struct quotes *q = qt_new();
    double b, a;
    int64_t t;
    char sym[16], err[128];
    (void)st;
    assert_non_null(q);
    assert_int_equal(qt_get(q, "EURUSD", &b, &a, &t), -1);
    assert_int_equal(qt_set(q, "EURUSD", 1.1, 1.1002, 5, err, sizeof err), 0);
    assert_int_equal(qt_set(q, "EURUSD", 1.2, 1.2002, 6, err, sizeof err), 0);
    assert_int_equal(qt_get(q, "EURUSD", &b, &a, &t), 0);
    assert_true(b == 1.2 && a == 1.2002 && t == 6);
    for (int i = 0; i < 1000; i++) {            /* past several doublings of the table */
        snprintf(sym, sizeof sym, "S%d", i);
        assert_int_equal(qt_set(q, sym, 1 + i, 2 + i, i, err, sizeof err), 0);
    }
    for (int i = 0; i < 1000; i++) {
        snprintf(sym, sizeof sym, "S%d", i);
        assert_int_equal(qt_get(q, sym, &b, NULL, NULL), 0);
        assert_true(b == 1 + i);
    }
    assert_int_equal(qt_get(q, "EURUSD", &b, NULL, NULL), 0);
    assert_true(b == 1.2);
    qt_free(q);
}

static void bad_quotes_are_refused_naming_the_field(void **st)
{
    struct quotes *q = qt_new();
    char err[128];
    (void)st;
    assert_int_equal(qt_set(q, "EURUSD", 1.2, 1.1, 0, err, sizeof err), -1);
    assert_string_equal(err, "bid/ask: ask 1.1 is below bid 1.2");
    assert_int_equal(qt_set(q, "EURUSD", 0, 1.1, 0, err, sizeof err), -1);
    assert_string_equal(err, "bid/ask: bid must be > 0, got 0");
    assert_int_equal(qt_set(q, "EURUSD", NAN, 1.1, 0, err, sizeof err), -1);
    assert_true(strncmp(err, "bid/ask: expected finite numbers", 32) == 0);
    assert_int_equal(qt_set(q, "EUR USD", 1, 1, 0, err, sizeof err), -1);
    assert_true(strncmp(err, "symbol:", 7) == 0);
    assert_int_equal(qt_set(q, "EURUSD", 1, 0.5, 0, NULL, 0), -1);   /* err may be NULL */
    assert_int_equal(qt_get(q, "EURUSD", NULL, NULL, NULL), -1);     /* nothing was kept */
    qt_free(q);
}

static void a_body_is_exactly_one_json_object(void **st)
{
    (void)st;
    const char *ok = "{\"secret\":\"s\",\"bid\":1}";
    json_object *o = jbody_object(ok, strlen(ok));
    assert_non_null(o);
    json_object_put(o);
    const char *bad[] = {"", "[]", "1", "{\"a\":1} trailing", "{\"a\":1}{\"b\":2}", "{\"a\":", "null"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_null(jbody_object(bad[i], strlen(bad[i])));
    /* The length given counts, not a NUL: a body cut inside an object is not one. */
    assert_null(jbody_object(ok, 5));
    assert_null(jbody_object(NULL, 0));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(quotes_are_kept_replaced_and_grow),
        cmocka_unit_test(bad_quotes_are_refused_naming_the_field),
        cmocka_unit_test(a_body_is_exactly_one_json_object),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
