/* test_config — every validation rule of the configuration gives its error. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include "config.h"

#include <stdio.h>

static char err[1024];

/* Parse json; expect failure whose message contains every fragment given. */
static void expect_error(const char *json, const char *frag1, const char *frag2)
{
    struct config c;
    err[0] = '\0';
    int rc = cfg_parse("t.json", json, &c, err, sizeof err);
    if (rc == 0)
        cfg_free(&c);
    assert_int_equal(rc, -1);
    assert_non_null(strstr(err, "t.json"));
    if (!strstr(err, frag1) || (frag2 && !strstr(err, frag2)))
        fail_msg("error \"%s\" lacks \"%s\" / \"%s\"", err, frag1, frag2 ? frag2 : "");
}

static void test_empty_object_gives_defaults(void **st)
{
    (void)st;
    struct config c;
    assert_int_equal(cfg_parse("t.json", "{}", &c, err, sizeof err), 0);
    assert_string_equal(c.webhook.host, "127.0.0.1");
    assert_int_equal(c.webhook.port, 8080);
    assert_string_equal(c.webhook.path, "/webhook");
    assert_int_equal(c.webhook.max_body_bytes, 16384);
    assert_int_equal(c.telegram.poll_timeout_s, 50);
    assert_string_equal(c.broker.kind, "paper");
    assert_true(c.broker.paper_balance == 10000);
    assert_int_equal(c.daily_reset.seconds, 3 * 3600 + 35 * 60);
    assert_string_equal(c.daily_reset.timezone, "Asia/Kolkata");
    assert_int_equal(c.console.enabled, 1);
    cfg_free(&c);
}

static void test_shipped_configs_are_valid(void **st)
{
    (void)st;
    const char *files[] = {"config/zepix.json", "config/zepix.example.json"};
    for (int i = 0; i < 2; i++) {
        struct config c;
        if (cfg_load(files[i], &c, err, sizeof err) != 0)
            fail_msg("%s", err);
        cfg_free(&c);
    }
}

static void test_shadow_section_sets_the_shadows_paper_balance(void **st)
{
    (void)st;
    struct config c;
    assert_int_equal(cfg_parse("t.json", "{}", &c, err, sizeof err), 0);
    assert_true(c.shadow.paper_balance == 0);       /* 0 = broker.paper.balance */
    cfg_free(&c);
    assert_int_equal(cfg_parse("t.json", "{\"shadow\":{\"paper_balance\":2500}}", &c, err, sizeof err), 0);
    assert_true(c.shadow.paper_balance == 2500);
    cfg_free(&c);
    expect_error("{\"shadow\":{\"paper_balance\":-1}}", "shadow.paper_balance", NULL);
    expect_error("{\"shadow\":{\"balance\":1}}", "shadow.balance: unknown key", NULL);
    expect_error("{\"shadow\":[]}", "shadow", NULL);
}

static void test_api_section_off_by_default_and_its_token_checked(void **st)
{
    (void)st;
    struct config c;
    assert_int_equal(cfg_parse("t.json", "{}", &c, err, sizeof err), 0);
    assert_int_equal(c.api.enabled, 0);
    cfg_free(&c);
    expect_error("{\"api\":{\"enabled\":true}}", "api.token", "at least 16");
    expect_error("{\"api\":{\"enabled\":true,\"token\":\"s3cr3t\"}}", "api.token", NULL);
    assert_null(strstr(err, "s3cr3t"));
    expect_error("{\"api\":{\"enable\":true}}", "api.enable: unknown key", NULL);
    expect_error("{\"api\":{\"enabled\":1}}", "api.enabled", NULL);
    setenv("ZEPIX_API_TOKEN", "from-env-0123456789", 1);
    assert_int_equal(cfg_parse("t.json", "{\"api\":{\"enabled\":true}}", &c, err, sizeof err), 0);
    unsetenv("ZEPIX_API_TOKEN");
    assert_string_equal(c.api.token, "from-env-0123456789");
    cfg_free(&c);
    /* The configuration make install puts in /etc/zepix, its plugin_dir
     * pointed at the checkout's plugins (plugins.<id> must exist there). */
    FILE *f = fopen("scripts/systemd/zepix.json", "rb");
    char buf[8192], *at;
    assert_non_null(f);
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    assert_non_null(at = strstr(buf, "@PREFIX@/lib/zepix/plugins"));
    memcpy(at, "plugins\"", 8);
    memmove(at + 8, at + strlen("@PREFIX@/lib/zepix/plugins\""), strlen(at + strlen("@PREFIX@/lib/zepix/plugins\"")) + 1);
    if (cfg_parse("zepix.json", buf, &c, err, sizeof err) != 0)
        fail_msg("%s", err);
    assert_int_equal(c.console.enabled, 0);
    cfg_free(&c);
}

static void test_unknown_top_level_key_is_rejected(void **st)
{
    (void)st;
    expect_error("{\"webhok\":{}}", "webhok: unknown key", "webhook");
}

static void test_typo_in_nested_key_is_named(void **st)
{
    (void)st;
    expect_error("{\"webhook\":{\"secrett\":\"x\"}}", "webhook.secrett: unknown key", NULL);
    expect_error("{\"broker\":{\"paper\":{\"balence\":1}}}", "broker.paper.balence", NULL);
}

static void test_plugin_object_keys_belong_to_the_plugin(void **st)
{
    (void)st;
    struct config c;
    assert_int_equal(cfg_parse("t.json", "{\"plugins\":{\"p1\":{\"enabled\":true,\"anything\":[1]}}}",
                               &c, err, sizeof err), 0);
    assert_non_null(cfg_plugin(&c, "p1"));
    assert_int_equal(cfg_plugin_enabled(&c, "p1"), 1);
    assert_int_equal(cfg_plugin_enabled(&c, "p2"), 0);
    cfg_free(&c);
    expect_error("{\"plugins\":{\"p1\":{\"enabled\":\"yes\"}}}", "plugins.p1.enabled", "true or false");
    expect_error("{\"plugins\":{\"Bad-Id\":{}}}", "plugins.Bad-Id", "plugin id");
    expect_error("{\"plugins\":{\"p1\":{\"max_lot_size\":-1}}}", "plugins.p1.max_lot_size", NULL);
}

static void test_wrong_types_name_the_expectation(void **st)
{
    (void)st;
    expect_error("{\"webhook\":{\"max_body_bytes\":\"big\"}}", "webhook.max_body_bytes", "integer");
    expect_error("{\"webhook\":{\"max_body_bytes\":10}}", "webhook.max_body_bytes", "64..");
    expect_error("{\"telegram\":{\"admin_chat_ids\":[\"me\"]}}", "telegram.admin_chat_ids", "integer");
    expect_error("{\"console\":{\"enabled\":1}}", "console.enabled", "true or false");
    expect_error("{\"telegram\":[]}", "telegram", "object");
    expect_error("[1,2]", "top level", "object");
}

static void test_invalid_json_is_reported(void **st)
{
    (void)st;
    expect_error("{\"webhook\": {", "not valid JSON", NULL);
    /* where it stopped, as line:column */
    expect_error("{\n  \"webhook\": {\n    \"path\": \"/x\"\n    \"secret\": \"\"\n  }\n}", "t.json:4:", "not valid JSON");
    expect_error("{\"webhook\": {}} x", "t.json:1:", "not valid JSON");
}

static void test_listen_address_is_validated(void **st)
{
    (void)st;
    struct config c;
    expect_error("{\"webhook\":{\"listen\":\"localhost:80\"}}", "webhook.listen", "numeric");
    expect_error("{\"webhook\":{\"listen\":\"127.0.0.1\"}}", "webhook.listen", NULL);
    expect_error("{\"webhook\":{\"listen\":\"127.0.0.1:99999\"}}", "webhook.listen", NULL);
    assert_int_equal(cfg_parse("t.json", "{\"webhook\":{\"listen\":\"[::1]:9000\"}}", &c, err, sizeof err), 0);
    assert_string_equal(c.webhook.host, "::1");
    assert_int_equal(c.webhook.port, 9000);
    cfg_free(&c);
}

static void test_public_listen_requires_a_secret(void **st)
{
    (void)st;
    struct config c;
    expect_error("{\"webhook\":{\"listen\":\"0.0.0.0:8080\"}}", "webhook.secret", "required");
    assert_int_equal(cfg_parse("t.json", "{\"webhook\":{\"listen\":\"0.0.0.0:8080\",\"secret\":\"s3cr3t\"}}",
                               &c, err, sizeof err), 0);
    cfg_free(&c);
}

static void test_token_requires_admins(void **st)
{
    (void)st;
    expect_error("{\"telegram\":{\"token\":\"1:abc\"}}", "telegram.admin_chat_ids", "at least one");
}

static void test_daily_reset_time_and_zone(void **st)
{
    (void)st;
    struct config c;
    assert_int_equal(cfg_parse("t.json", "{\"daily_reset\":{\"time\":\"23:59:30\",\"timezone\":\"Europe/London\"}}",
                               &c, err, sizeof err), 0);
    assert_int_equal(c.daily_reset.seconds, 23 * 3600 + 59 * 60 + 30);
    cfg_free(&c);
    expect_error("{\"daily_reset\":{\"time\":\"24:00\"}}", "daily_reset.time", "HH:MM");
    expect_error("{\"daily_reset\":{\"time\":\"3:35\"}}", "daily_reset.time", NULL);
    expect_error("{\"daily_reset\":{\"timezone\":\"Mars/Olympus\"}}", "daily_reset.timezone", "IANA");
    expect_error("{\"daily_reset\":{\"timezone\":\"../../etc/passwd\"}}", "daily_reset.timezone", NULL);
}

static void test_environment_overrides_secrets(void **st)
{
    (void)st;
    struct config c;
    setenv("ZEPIX_WEBHOOK_SECRET", "from-env", 1);
    setenv("ZEPIX_TELEGRAM_TOKEN", "42:from-env-token", 1);
    assert_int_equal(cfg_parse("t.json", "{\"webhook\":{\"secret\":\"file\"},"
                               "\"telegram\":{\"admin_chat_ids\":[1]}}", &c, err, sizeof err), 0);
    assert_string_equal(c.webhook.secret, "from-env");
    assert_string_equal(c.telegram.token, "42:from-env-token");
    cfg_free(&c);
    unsetenv("ZEPIX_WEBHOOK_SECRET");
    unsetenv("ZEPIX_TELEGRAM_TOKEN");
}

static void test_symbols_and_defaults(void **st)
{
    (void)st;
    struct config c;
    assert_int_equal(cfg_parse("t.json", "{\"symbols\":{\"XAUUSD\":{\"pip_size\":0.1,\"contract_size\":100}}}",
                               &c, err, sizeof err), 0);
    struct cfg_symbol s = cfg_symbol_get(&c, "XAUUSD");
    assert_true(s.pip_size == 0.1 && s.contract_size == 100);
    s = cfg_symbol_get(&c, "USDJPY");
    assert_true(s.pip_size == 0.01 && s.contract_size == 100000);
    s = cfg_symbol_get(&c, "GBPUSD");
    assert_true(s.pip_size == 0.0001);
    /* configured, a currency pair with defaults, or unknown (gold must be configured) */
    assert_int_equal(cfg_symbol_find(&c, "xauusd", &s), 1);
    assert_string_equal(s.name, "XAUUSD");
    assert_int_equal(cfg_symbol_find(&c, "EURUSD", &s), 0);
    assert_int_equal(cfg_symbol_find(&c, "EURUSD.m", &s), 0);
    assert_int_equal(cfg_symbol_find(&c, "XAGUSD", &s), -1);
    assert_int_equal(cfg_symbol_find(&c, "US30", &s), -1);
    assert_int_equal(cfg_symbol_find(&c, "BTCUSD", &s), -1);
    cfg_free(&c);
    /* the case the operator wrote is the broker's spelling, found whatever the case */
    assert_int_equal(cfg_parse("t.json", "{\"symbols\":{\"EURUSD.pro\":{\"pip_size\":0.0001}}}", &c, err,
                               sizeof err), 0);
    assert_string_equal(cfg_symbol_get(&c, "EURUSD.PRO").name, "EURUSD.pro");
    cfg_free(&c);
    expect_error("{\"symbols\":{\"EURUSD\":{},\"eurusd\":{}}}", "symbols.eurusd", "one entry per symbol");
    /* aliases name the symbol too (GOLD -> XAUUSD); lot rules per symbol */
    assert_int_equal(cfg_parse("t.json", "{\"symbols\":{\"XAUUSD\":{\"pip_size\":0.1,\"contract_size\":100,"
                               "\"aliases\":[\"GOLD\",\"xau\"],\"volume_step\":0.1,\"min_lot\":0.1,\"max_lot\":50}}}",
                               &c, err, sizeof err), 0);
    assert_int_equal(cfg_symbol_find(&c, "gold", &s), 1);
    assert_string_equal(s.name, "XAUUSD");
    assert_true(s.volume_step == 0.1 && s.min_lot == 0.1 && s.max_lot == 50);
    assert_int_equal(cfg_symbol_find(&c, "XAU", &s), 1);
    cfg_free(&c);
    assert_true(cfg_symbol_get(NULL, "EURUSD").volume_step == 0.01 && cfg_symbol_get(NULL, "EURUSD").min_lot == 0.01);
    expect_error("{\"symbols\":{\"XAUUSD\":{\"aliases\":[\"GOLD\"]},\"GOLD\":{}}}", "symbols.GOLD",
                 "one entry per symbol");
    expect_error("{\"symbols\":{\"XAUUSD\":{\"min_lot\":1,\"max_lot\":0.5}}}", "symbols.XAUUSD", "max_lot");
    expect_error("{\"symbols\":{\"EUR/USD\":{}}}", "symbols.EUR/USD", NULL);
    expect_error("{\"symbols\":{\"EURUSD\":{\"pip_size\":0}}}", "symbols.EURUSD.pip_size", NULL);
}

static void test_unbuilt_modes_are_refused_clearly(void **st)
{
    (void)st;
    expect_error("{\"broker\":{\"kind\":\"ib\"}}", "broker.kind", "paper");
    expect_error("{\"plugin_system\":{\"isolation\":\"vm\"}}", "plugin_system.isolation", "process");
}

static void test_isolation_process_and_its_hook_deadline(void **st)
{
    struct config c;
    (void)st;
    assert_int_equal(cfg_parse("t.json", "{}", &c, err, sizeof err), 0);
    assert_int_equal(c.plugin_system.hook_timeout_ms, 200);
    cfg_free(&c);
    assert_int_equal(cfg_parse("t.json", "{\"plugin_system\":{\"isolation\":\"process\","
                               "\"hook_timeout_ms\":50}}", &c, err, sizeof err), 0);
    assert_string_equal(c.plugin_system.isolation, "process");
    assert_int_equal(c.plugin_system.hook_timeout_ms, 50);
    cfg_free(&c);
    expect_error("{\"plugin_system\":{\"hook_timeout_ms\":0}}", "plugin_system.hook_timeout_ms", NULL);
    expect_error("{\"plugin_system\":{\"hook_timeout_ms\":1.5}}", "plugin_system.hook_timeout_ms", NULL);
}

static void test_mt5_needs_a_secret_and_a_hold_below_the_stale_time(void **st)
{
    struct config c;
    (void)st;
    expect_error("{\"broker\":{\"kind\":\"mt5\"}}", "broker.mt5.secret", NULL);
    expect_error("{\"broker\":{\"kind\":\"mt5\",\"mt5\":{\"secret\":\"s\",\"poll_hold_ms\":5000,"
                 "\"stale_after_s\":5}}}", "broker.mt5.poll_hold_ms", "stale_after_s");
    assert_int_equal(cfg_parse("t.json", "{\"broker\":{\"kind\":\"mt5\",\"mt5\":{\"secret\":\"s\"}}}", &c,
                               err, sizeof err), 0);
    assert_string_equal(c.broker.kind, "mt5");
    assert_int_equal(c.broker.mt5_poll_hold_ms, 1000);
    assert_int_equal(c.broker.mt5_stale_after_s, 10);
    cfg_free(&c);
}

static void test_missing_file_is_named(void **st)
{
    (void)st;
    struct config c;
    assert_int_equal(cfg_load("/nonexistent/zepix.json", &c, err, sizeof err), -1);
    assert_non_null(strstr(err, "/nonexistent/zepix.json: cannot open"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty_object_gives_defaults),
        cmocka_unit_test(test_shipped_configs_are_valid),
        cmocka_unit_test(test_unknown_top_level_key_is_rejected),
        cmocka_unit_test(test_typo_in_nested_key_is_named),
        cmocka_unit_test(test_plugin_object_keys_belong_to_the_plugin),
        cmocka_unit_test(test_wrong_types_name_the_expectation),
        cmocka_unit_test(test_invalid_json_is_reported),
        cmocka_unit_test(test_listen_address_is_validated),
        cmocka_unit_test(test_public_listen_requires_a_secret),
        cmocka_unit_test(test_token_requires_admins),
        cmocka_unit_test(test_daily_reset_time_and_zone),
        cmocka_unit_test(test_environment_overrides_secrets),
        cmocka_unit_test(test_symbols_and_defaults),
        cmocka_unit_test(test_unbuilt_modes_are_refused_clearly),
        cmocka_unit_test(test_isolation_process_and_its_hook_deadline),
        cmocka_unit_test(test_mt5_needs_a_secret_and_a_hold_below_the_stale_time),
        cmocka_unit_test(test_missing_file_is_named),
        cmocka_unit_test(test_api_section_off_by_default_and_its_token_checked),
        cmocka_unit_test(test_shadow_section_sets_the_shadows_paper_balance),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
