/* test_chat — the chat layer's pure parts: command parsing (@botname, case),
 * the command table, the Telegram HTML splitter (line boundaries, size limit,
 * tags and entities never broken, open elements closed and reopened, UTF-8
 * never cut), HTML to plain text for the console, notification coalescing. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <ctype.h>
#include "commands.h"
#include "console.h"
#include "sbuf.h"
#include "telegram.h"
#include "tg_html.h"

/* ---- helpers ---------------------------------------------------------------- */

static int utf8_valid(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        int n = *p < 0x80 ? 0 : (*p & 0xE0) == 0xC0 ? 1 : (*p & 0xF0) == 0xE0 ? 2 : (*p & 0xF8) == 0xF0 ? 3 : -1;
        if (n < 0)
            return 0;
        p++;
        while (n--)
            if ((*p++ & 0xC0) != 0x80)
                return 0;
    }
    return 1;
}

/* Telegram's HTML rules, as far as the splitter can break them: every tag
 * closed in order, every '&' a whole known entity, no stray '<'. */
static int html_well_formed(const char *s)
{
    char stack[16][16];
    int depth = 0;
    for (const char *p = s; *p;) {
        if (*p == '<') {
            const char *gt = strchr(p, '>');
            if (!gt)
                return 0;
            int closing = p[1] == '/';
            const char *n = p + 1 + closing;
            size_t len = strcspn(n, " >");
            char name[16];
            if (len == 0 || len >= sizeof name)
                return 0;
            memcpy(name, n, len);
            name[len] = '\0';
            if (closing) {
                if (depth == 0 || strcmp(stack[depth - 1], name) != 0)
                    return 0;
                depth--;
            } else {
                if (depth == 16)
                    return 0;
                strcpy(stack[depth++], name);
            }
            p = gt + 1;
        } else if (*p == '&') {
            static const char *const ok[] = {"&amp;", "&lt;", "&gt;", "&quot;"};
            size_t k, len = 0;
            for (k = 0; k < 4; k++)
                if (strncmp(p, ok[k], strlen(ok[k])) == 0)
                    len = strlen(ok[k]);
            if (!len && p[1] == '#') {
                const char *q = p + 2;
                while (isalnum((unsigned char)*q))
                    q++;
                if (*q == ';')
                    len = (size_t)(q - p) + 1;
            }
            if (!len)
                return 0;
            p += len;
        } else if (*p == '>') {
            return 0;
        } else {
            p++;
        }
    }
    return depth == 0;
}

static char *plain_of(const char *html)
{
    struct sbuf b;
    sbuf_init(&b);
    tg_html_to_plain(html, &b);
    char *s = strdup(sbuf_str(&b));
    sbuf_free(&b);
    return s;
}

/* Split, check every chunk, and check that no visible text was lost. */
static void split_and_check(const char *html, size_t limit, struct tg_chunks *ch)
{
    assert_int_equal(tg_split(html, limit, ch), 0);
    assert_true(ch->n >= 1);
    struct sbuf all;
    sbuf_init(&all);
    for (size_t i = 0; i < ch->n; i++) {
        assert_true(strlen(ch->v[i]) <= limit);
        assert_true(utf8_valid(ch->v[i]));
        if (!html_well_formed(ch->v[i]))
            fail_msg("chunk %zu is not well-formed HTML: %.200s", i, ch->v[i]);
        tg_html_to_plain(ch->v[i], &all);
    }
    char *want = plain_of(html);
    assert_string_equal(sbuf_str(&all), want);
    free(want);
    sbuf_free(&all);
}

/* ---- command parsing ---------------------------------------------------------- */

static void test_parse_plain_command(void **st)
{
    char name[64];
    const char *args;
    size_t n;
    (void)st;
    assert_int_equal(chat_parse_command("/help", name, sizeof name, &args, &n), 0);
    assert_string_equal(name, "help");
    assert_int_equal(n, 0);
}

static void test_parse_botname_case_and_args(void **st)
{
    char name[64];
    const char *args;
    size_t n;
    (void)st;
    assert_int_equal(chat_parse_command("/Trades@zepix_test_bot   combined_v3  5  ", name, sizeof name, &args, &n), 0);
    assert_string_equal(name, "trades");
    assert_int_equal(n, strlen("combined_v3  5"));
    assert_memory_equal(args, "combined_v3  5", n);
    assert_int_equal(chat_parse_command("/PAUSE", name, sizeof name, &args, &n), 0);
    assert_string_equal(name, "pause");
    assert_int_equal(chat_parse_command("  /status\n", name, sizeof name, &args, &n), 0);
    assert_string_equal(name, "status");
    assert_int_equal(n, 0);
}

static void test_parse_rejects_text_without_slash(void **st)
{
    char name[64];
    const char *args;
    size_t n;
    (void)st;
    assert_int_equal(chat_parse_command("hello", name, sizeof name, &args, &n), -1);
    assert_int_equal(chat_parse_command("", name, sizeof name, &args, &n), -1);
    assert_int_equal(chat_parse_command("help /x", name, sizeof name, &args, &n), -1);
}

static void test_parse_overlong_name_is_cut_and_unknown(void **st)
{
    char name[8];
    const char *args;
    size_t n;
    (void)st;
    assert_int_equal(chat_parse_command("/statusstatusstatus x", name, sizeof name, &args, &n), 0);
    assert_string_equal(name, "statuss");
    assert_null(cmd_find(name, strlen(name)));
    assert_memory_equal(args, "x", 1);
}

static void test_unknown_command_is_not_found(void **st)
{
    (void)st;
    assert_null(cmd_find("frobnicate", 10));
    assert_null(cmd_find("", 0));
    assert_non_null(cmd_find("HeLp", 4));
    assert_string_equal(cmd_find("ENABLE_PLUGIN", 13)->name, "enable_plugin");
}

static void test_table_lists_spec_commands_in_order(void **st)
{
    static const char *const spec[] = {"start", "help", "status", "plugins", "enable_plugin",
        "disable_plugin", "reload_plugin", "stats", "trades", "positions", "signal", "close",
        "modify", "pause", "resume", "risk", "journal", "preview", "replay", "shadow", "promote", "unshadow", "mute", "unmute", "panic", "confirm", "daily", "chart", "export"};
    (void)st;
    assert_int_equal(bot_commands_count, sizeof spec / sizeof spec[0]);
    for (size_t i = 0; i < bot_commands_count; i++) {
        const struct bot_command *c = &bot_commands[i];
        assert_string_equal(c->name, spec[i]);
        assert_non_null(c->run);
        assert_non_null(c->args);
        assert_true(strlen(c->name) <= 32 && strspn(c->name, "abcdefghijklmnopqrstuvwxyz0123456789_") == strlen(c->name));
        assert_true(c->help[0] && strlen(c->help) <= 256 && !strchr(c->help, '\n'));
    }
}

static void test_help_lists_every_command_once(void **st)
{
    struct sbuf b;
    (void)st;
    sbuf_init(&b);
    cmd_write_help(&b);
    assert_true(html_well_formed(sbuf_str(&b)));
    for (size_t i = 0; i < bot_commands_count; i++) {
        char needle[64];
        snprintf(needle, sizeof needle, "\n/%s ", bot_commands[i].name);
        const char *hit = strstr(sbuf_str(&b), needle);
        assert_non_null(hit);
        assert_null(strstr(hit + 1, needle));
    }
    sbuf_free(&b);
}

static void test_usage_line_comes_from_the_table(void **st)
{
    struct sbuf b;
    struct cmd_ctx c = {.out = &b, .cmd = cmd_find("trades", 6)};
    (void)st;
    sbuf_init(&b);
    cmd_usage(&c);
    assert_string_equal(sbuf_str(&b), "Usage: /trades <code>ID [N]</code>");
    sbuf_free(&b);
}

static void test_buttons_build_inline_keyboard(void **st)
{
    static const char *const labels[] = {"Resume \"now\""}, *const lines[] = {"/resume"};
    struct cmd_ctx c = {.markup = ""};
    (void)st;
    assert_int_equal(cmd_buttons(&c, labels, lines, 1), 0);
    assert_string_equal(c.markup,
                        "{\"inline_keyboard\":[[{\"text\":\"Resume \\\"now\\\"\",\"callback_data\":\"cmd:/resume\"}]]}");
    assert_int_equal(cmd_buttons(&c, labels, lines, 1), 0);     /* a second row */
    assert_non_null(strstr(c.markup, "}],[{"));
}

/* ---- the splitter ----------------------------------------------------------- */

static void test_split_short_text_is_one_chunk(void **st)
{
    struct tg_chunks ch;
    (void)st;
    assert_int_equal(tg_split("<b>hi</b> &amp; bye", 4000, &ch), 0);
    assert_int_equal(ch.n, 1);
    assert_string_equal(ch.v[0], "<b>hi</b> &amp; bye");
    tg_chunks_free(&ch);
}

static void test_split_cuts_at_line_boundaries(void **st)
{
    struct sbuf b;
    struct tg_chunks ch;
    (void)st;
    sbuf_init(&b);
    for (int i = 0; i < 500; i++)
        sbuf_printf(&b, "line %03d: <b>%d</b> &lt;ok&gt;\n", i, i * 7);
    split_and_check(sbuf_str(&b), 4000, &ch);
    assert_true(ch.n >= 2);
    for (size_t i = 0; i < ch.n; i++) {
        size_t len = strlen(ch.v[i]);
        assert_true(len <= 4000);
        assert_true(ch.v[i][len - 1] == '\n');              /* a whole line, nothing open */
        assert_memory_equal(ch.v[i], "line ", 5);
    }
    tg_chunks_free(&ch);
    sbuf_free(&b);
}

static void test_split_reopens_pre_at_each_chunk(void **st)
{
    struct sbuf b;
    struct tg_chunks ch;
    (void)st;
    sbuf_init(&b);
    sbuf_puts(&b, "<b>Trades</b>\n<pre>");
    for (int i = 0; i < 300; i++)
        sbuf_printf(&b, "%5d EURUSD BUY  0.10 1.08%03d  +%d.5\n", i, i, i);
    sbuf_puts(&b, "</pre>\ntotal");
    split_and_check(sbuf_str(&b), 1000, &ch);
    assert_true(ch.n >= 4);
    for (size_t i = 1; i + 1 < ch.n; i++) {
        assert_memory_equal(ch.v[i], "<pre>", 5);
        size_t len = strlen(ch.v[i]);
        assert_string_equal(ch.v[i] + len - 6, "</pre>");
    }
    assert_memory_equal(ch.v[0], "<b>Trades</b>\n<pre>", 19);
    assert_non_null(strstr(ch.v[ch.n - 1], "total"));
    tg_chunks_free(&ch);
    sbuf_free(&b);
}

static void test_split_nested_elements_and_attributes(void **st)
{
    struct sbuf b;
    struct tg_chunks ch;
    (void)st;
    sbuf_init(&b);
    sbuf_puts(&b, "<b>bold <i>both <a href=\"https://example.com/?a=1&amp;b=2\">");
    for (int i = 0; i < 400; i++)
        sbuf_puts(&b, "link text &amp; more\n");
    sbuf_puts(&b, "</a></i></b>");
    split_and_check(sbuf_str(&b), 700, &ch);
    assert_true(ch.n >= 10);
    for (size_t i = 1; i < ch.n; i++)
        assert_memory_equal(ch.v[i], "<b><i><a href=", 14);
    tg_chunks_free(&ch);
    sbuf_free(&b);
}

static void test_split_single_long_line_at_spaces(void **st)
{
    struct sbuf b;
    struct tg_chunks ch;
    (void)st;
    sbuf_init(&b);
    sbuf_puts(&b, "<code>");
    for (int i = 0; i < 3000; i++)
        sbuf_puts(&b, "word&amp;s ");
    sbuf_puts(&b, "</code>");
    split_and_check(sbuf_str(&b), 4000, &ch);
    assert_true(ch.n >= 8);
    for (size_t i = 0; i + 1 < ch.n; i++) {
        size_t len = strlen(ch.v[i]);
        assert_string_equal(ch.v[i] + len - 8, " </code>");     /* cut after a space */
    }
    tg_chunks_free(&ch);
    sbuf_free(&b);
}

static void test_split_entities_without_spaces(void **st)
{
    struct sbuf b;
    struct tg_chunks ch;
    (void)st;
    sbuf_init(&b);
    for (int i = 0; i < 3000; i++)
        sbuf_puts(&b, i % 3 ? "&lt;" : "&#x1F600;");
    split_and_check(sbuf_str(&b), 4000, &ch);
    assert_true(ch.n >= 4);
    tg_chunks_free(&ch);
    sbuf_free(&b);
}

static void test_split_never_cuts_utf8(void **st)
{
    struct sbuf b;
    struct tg_chunks ch;
    (void)st;
    sbuf_init(&b);
    for (int i = 0; i < 3000; i++)
        sbuf_puts(&b, i % 2 ? "€" : "😀");                  /* 3 and 4 bytes, no spaces */
    split_and_check(sbuf_str(&b), 4000, &ch);
    assert_true(ch.n >= 3);
    for (size_t i = 0; i + 1 < ch.n; i++)
        assert_true(strlen(ch.v[i]) > 3990);                  /* full but never over */
    tg_chunks_free(&ch);
    sbuf_free(&b);
}

static void test_split_drops_chunks_without_text(void **st)
{
    struct tg_chunks ch;
    (void)st;
    assert_int_equal(tg_split("\n\n   \n", 4000, &ch), 0);
    assert_int_equal(ch.n, 0);
    tg_chunks_free(&ch);
}

/* ---- plain text ---------------------------------------------------------------- */

static void test_html_to_plain_strips_and_decodes(void **st)
{
    char *p = plain_of("<b>a</b> &lt;x&gt; &amp; &quot;q&quot; &#65;&#x42;&#x20AC; &nbsp; &bogus <i>é</i>");
    (void)st;
    assert_string_equal(p, "a <x> & \"q\" AB€ &nbsp; &bogus é");
    free(p);
}

static void test_console_plain_keeps_pre_lines(void **st)
{
    struct sbuf b;
    (void)st;
    sbuf_init(&b);
    console_plain("<b>Trades</b>\n<pre>id  lot\n1   0.10\n2   &lt;1&gt;</pre>\n\n", &b);
    assert_string_equal(sbuf_str(&b), "Trades\nid  lot\n1   0.10\n2   <1>\n");
    sbuf_free(&b);
}

/* ---- notifications ------------------------------------------------------------- */

static void test_notify_format_escapes_and_counts_the_rest(void **st)
{
    static const char *const t[] = {"order <1> filled", "SL hit & closed", "x"};
    struct sbuf b;
    (void)st;
    sbuf_init(&b);
    chat_notify_format(&b, t, 1, 0);
    assert_string_equal(sbuf_str(&b), "order &lt;1&gt; filled");
    sbuf_reset(&b);
    chat_notify_format(&b, t, 3, 7);
    assert_string_equal(sbuf_str(&b), "order &lt;1&gt; filled\nSL hit &amp; closed\nx\n... and 7 more");
    sbuf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_plain_command),
        cmocka_unit_test(test_parse_botname_case_and_args),
        cmocka_unit_test(test_parse_rejects_text_without_slash),
        cmocka_unit_test(test_parse_overlong_name_is_cut_and_unknown),
        cmocka_unit_test(test_unknown_command_is_not_found),
        cmocka_unit_test(test_table_lists_spec_commands_in_order),
        cmocka_unit_test(test_help_lists_every_command_once),
        cmocka_unit_test(test_usage_line_comes_from_the_table),
        cmocka_unit_test(test_buttons_build_inline_keyboard),
        cmocka_unit_test(test_split_short_text_is_one_chunk),
        cmocka_unit_test(test_split_cuts_at_line_boundaries),
        cmocka_unit_test(test_split_reopens_pre_at_each_chunk),
        cmocka_unit_test(test_split_nested_elements_and_attributes),
        cmocka_unit_test(test_split_single_long_line_at_spaces),
        cmocka_unit_test(test_split_entities_without_spaces),
        cmocka_unit_test(test_split_never_cuts_utf8),
        cmocka_unit_test(test_split_drops_chunks_without_text),
        cmocka_unit_test(test_html_to_plain_strips_and_decodes),
        cmocka_unit_test(test_console_plain_keeps_pre_lines),
        cmocka_unit_test(test_notify_format_escapes_and_counts_the_rest),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
