/*
 * test_confirm — the two-step commands (bot_commands/confirm.c) and the
 * notification mutes (src/notify.c) on a real host database: a confirmation
 * runs its command once, only for the user who asked, only before it expires;
 * a cancel runs nothing; a mute survives a reopen of the database.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app.h"
#include "commands.h"
#include "notify.h"
#include "sbuf.h"
#include "store.h"

static char dir[64];
static struct app A;
static struct sbuf out;

static int setup(void **st)
{
    char err[256];
    (void)st;
    snprintf(dir, sizeof dir, "/tmp/zepix-tconfirm-XXXXXX");
    assert_non_null(mkdtemp(dir));
    memset(&A, 0, sizeof A);
    assert_int_equal(cfg_parse("t.json", "{}", &A.cfg, err, sizeof err), 0);
    assert_int_equal(store_host_open(dir, &A.db, err, sizeof err), 0);
    sbuf_init(&out);
    return 0;
}

static int teardown(void **st)
{
    char cmd[128];
    (void)st;
    store_close(A.db);
    cfg_free(&A.cfg);
    sbuf_free(&out);
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* Run "/name args" as user; the reply in out, the markup in *markup. */
static void run(const char *name, const char *args, int64_t user, char *markup, size_t mlen)
{
    struct cmd_ctx c = {.app = &A, .source = "telegram", .chat_id = -5, .user_id = user, .args = args,
                        .out = &out, .cmd = cmd_find(name, strlen(name))};
    assert_non_null(c.cmd);
    sbuf_reset(&out);
    c.cmd->run(&c);
    if (markup)
        snprintf(markup, mlen, "%s", c.markup);
}

/* The token of the last question's Confirm button. */
static void token_of(const char *markup, char tok[17])
{
    const char *p = strstr(markup, "cmd:/confirm ");
    assert_non_null(p);
    memcpy(tok, p + 13, 16);
    tok[16] = '\0';
}

static void ask(const char *line_args, int64_t user, char tok[17])
{
    char markup[2048];
    struct cmd_ctx c = {.app = &A, .source = "telegram", .chat_id = -5, .user_id = user, .args = line_args,
                        .out = &out, .cmd = cmd_find("mute", 4)};
    sbuf_reset(&out);
    assert_int_equal(cmd_confirm_ask(&c, "Mute it?"), 0);
    snprintf(markup, sizeof markup, "%s", c.markup);
    assert_non_null(strstr(sbuf_str(&out), "Mute it?"));
    token_of(markup, tok);
}

static void test_a_confirmation_runs_once_for_the_asker_only(void **st)
{
    char tok[17];
    (void)st;
    ask("rejects", 222, tok);
    assert_false(notify_muted(&A, "rejects"));            /* nothing before the confirmation */
    run("confirm", tok, 333, NULL, 0);
    assert_non_null(strstr(sbuf_str(&out), "Only the admin who asked"));
    assert_false(notify_muted(&A, "rejects"));
    run("confirm", tok, 222, NULL, 0);
    assert_true(notify_muted(&A, "rejects"));
    notify_set_muted(&A, "rejects", 0);
    run("confirm", tok, 222, NULL, 0);
    assert_non_null(strstr(sbuf_str(&out), "Already done"));
    assert_false(notify_muted(&A, "rejects"));            /* not run twice */
}

static void test_cancel_runs_nothing_and_an_expired_token_is_refused(void **st)
{
    char tok[17], args[40];
    (void)st;
    ask("trades", 222, tok);
    snprintf(args, sizeof args, "%s cancel", tok);
    run("confirm", args, 222, NULL, 0);
    assert_non_null(strstr(sbuf_str(&out), "Cancelled"));
    run("confirm", tok, 222, NULL, 0);
    assert_non_null(strstr(sbuf_str(&out), "Already cancelled"));
    assert_false(notify_muted(&A, "trades"));
    /* a token whose 60 s have passed */
    assert_int_equal(store_kv_set(A.db, "confirm:0123456789abcdef", "1 222 pending /mute trades"), 0);
    run("confirm", "0123456789abcdef", 222, NULL, 0);
    assert_non_null(strstr(sbuf_str(&out), "expired"));
    assert_false(notify_muted(&A, "trades"));
    run("confirm", "fedcba9876543210", 222, NULL, 0);
    assert_non_null(strstr(sbuf_str(&out), "Unknown confirmation"));
    run("confirm", "not-a-token", 222, NULL, 0);
    assert_non_null(strstr(sbuf_str(&out), "Usage: /confirm"));
}

static void test_mutes_are_kinds_and_survive_a_reopen(void **st)
{
    char err[256];
    (void)st;
    assert_true(notify_kind_valid("reports"));
    assert_false(notify_kind_valid("everything"));
    run("mute", "reports", 0, NULL, 0);
    assert_true(notify_muted(&A, "reports"));
    run("mute", "bogus", 0, NULL, 0);
    assert_non_null(strstr(sbuf_str(&out), "TYPE is one of"));
    store_close(A.db);
    assert_int_equal(store_host_open(dir, &A.db, err, sizeof err), 0);
    assert_true(notify_muted(&A, "reports"));
    run("unmute", "reports", 0, NULL, 0);
    assert_false(notify_muted(&A, "reports"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_a_confirmation_runs_once_for_the_asker_only, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cancel_runs_nothing_and_an_expired_token_is_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mutes_are_kinds_and_survive_a_reopen, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
