/*
 * test_sbuf — the UTF-8-safe cutting helpers (sbuf_utf8_complete,
 * sbuf_utf8_prefix, sbuf_fmt): text shortened anywhere never ends inside a
 * character, because Telegram refuses a whole message over one.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>
#include "sbuf.h"

/* Valid UTF-8 throughout (every lead byte followed by its continuation bytes). */
static int valid_utf8(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        size_t n = *p < 0x80 ? 1 : *p >= 0xF0 ? 4 : *p >= 0xE0 ? 3 : *p >= 0xC0 ? 2 : 0;
        if (!n)
            return 0;
        for (size_t i = 1; i < n; i++)
            if ((p[i] & 0xC0) != 0x80)
                return 0;
        p += n;
    }
    return 1;
}

static void test_complete_drops_a_character_cut_short(void **st)
{
    (void)st;
    const char *euro = "a\xE2\x82\xAC";          /* "a€" */
    assert_int_equal(sbuf_utf8_complete(euro, 4), 4);
    assert_int_equal(sbuf_utf8_complete(euro, 3), 1);
    assert_int_equal(sbuf_utf8_complete(euro, 2), 1);
    assert_int_equal(sbuf_utf8_complete(euro, 1), 1);
    assert_int_equal(sbuf_utf8_complete("\xF0\x9F\x93\x88", 4), 4);   /* 📈 */
    assert_int_equal(sbuf_utf8_complete("\xF0\x9F\x93\x88", 3), 0);
    assert_int_equal(sbuf_utf8_complete("abc", 3), 3);
}

static void test_prefix_never_ends_inside_a_character(void **st)
{
    (void)st;
    char s[64];
    snprintf(s, sizeof s, "%s", "é€📈x");     /* 2 + 3 + 4 + 1 bytes */
    size_t expect[] = {0, 0, 2, 2, 2, 5, 5, 5, 5, 9, 10, 10};
    for (size_t max = 0; max < sizeof expect / sizeof expect[0]; max++)
        assert_int_equal(sbuf_utf8_prefix(s, max), expect[max]);
}

static void test_fmt_cuts_before_a_whole_character(void **st)
{
    (void)st;
    char out[8];
    int n = sbuf_fmt(out, sizeof out, "[%s]", "ab€€");     /* 1+2+6+1 = 10 bytes */
    assert_int_equal(n, 10);
    assert_string_equal(out, "[ab€");       /* "[ab€" + 2 bytes of € would be cut */
    assert_true(valid_utf8(out));
    sbuf_fmt(out, sizeof out, "%s", "abc");
    assert_string_equal(out, "abc");
}

/* Every cut of a notification-like text at every length stays valid. */
static void test_every_cut_of_mixed_text_is_valid(void **st)
{
    (void)st;
    const char *text = "passthru opened #1 BUY 0.10 EURUSD @ 1.08500 → ✅ 📈 ünïcödé";
    char out[96];
    for (size_t max = 0; max <= strlen(text); max++) {
        snprintf(out, sizeof out, "%.*s", (int)sbuf_utf8_prefix(text, max), text);
        assert_true(valid_utf8(out));
        assert_true(strlen(out) <= max);
        assert_true(strlen(out) + 3 >= max || max > strlen(text));
        sbuf_fmt(out, max + 1, "%s", text);
        assert_true(valid_utf8(out));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_complete_drops_a_character_cut_short),
        cmocka_unit_test(test_prefix_never_ends_inside_a_character),
        cmocka_unit_test(test_fmt_cuts_before_a_whole_character),
        cmocka_unit_test(test_every_cut_of_mixed_text_is_valid),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
