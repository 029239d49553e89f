/* test_log — secrets never reach a log line. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>
#include "log.h"

static void test_registered_secret_is_redacted(void **st)
{
    (void)st;
    char out[256];
    log_add_secret("hunter2-secret");
    log_redact("secret=hunter2-secret&x=1 and again hunter2-secret", out, sizeof out);
    assert_string_equal(out, "secret=***&x=1 and again ***");
    log_clear_secrets();
    log_redact("hunter2-secret", out, sizeof out);
    assert_string_equal(out, "hunter2-secret");
}

static void test_bot_token_in_url_is_redacted_without_registration(void **st)
{
    (void)st;
    char out[256];
    log_redact("POST https://api.telegram.org/bot123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw/getUpdates failed",
               out, sizeof out);
    assert_string_equal(out, "POST https://api.telegram.org/bot***/getUpdates failed");
}

static void test_short_strings_are_not_treated_as_secrets(void **st)
{
    (void)st;
    char out[64];
    log_add_secret("ab");
    log_redact("abc ab", out, sizeof out);
    assert_string_equal(out, "abc ab");
    log_clear_secrets();
}

static void test_redaction_truncates_safely(void **st)
{
    (void)st;
    char out[8];
    log_add_secret("topsecret");
    log_redact("xx topsecret yy", out, sizeof out);
    assert_int_equal(strlen(out), 7);
    assert_null(strstr(out, "top"));
    log_clear_secrets();
}

static void test_levels_parse(void **st)
{
    (void)st;
    enum lg_level l;
    assert_int_equal(log_parse_level("warn", &l), 0);
    assert_int_equal(l, LG_WARN);
    assert_int_equal(log_parse_level("loud", &l), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_registered_secret_is_redacted),
        cmocka_unit_test(test_bot_token_in_url_is_redacted_without_registration),
        cmocka_unit_test(test_short_strings_are_not_treated_as_secrets),
        cmocka_unit_test(test_redaction_truncates_safely),
        cmocka_unit_test(test_levels_parse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
