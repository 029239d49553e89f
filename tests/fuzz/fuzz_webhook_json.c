/*
 * fuzz_webhook_json.c — libFuzzer target for the webhook's JSON body: what
 * POST /webhook does with it before the journal (src/webhook.c on_signal):
 * sig_parse_body()/sig_parse_json() (src/signal.c), the secret check
 * (webhook_secret_equal) and log_redact() of the raw body that is journaled.
 *
 * Structure-aware: LLVMFuzzerCustomMutator parses the input with json-c and,
 * half of the time, rewrites it the way TradingView alerts go wrong: numbers
 * quoted or not, huge or non-finite numbers, empty placeholders, unicode and
 * escaped strings, nested junk, keys in other cases, duplicated keys, the
 * right secret (often, so the authenticated path is reached). The other half
 * is libFuzzer's byte-level mutation, so broken JSON is covered too.
 *
 * Invariants (abort = a finding):
 *   1. both parsers return 0 or -1; a success holds only valid, terminated,
 *      finite, non-negative fields that obey sl < price < tp (buy) and the
 *      reverse (sell); a failure leaves a terminated message, a zeroed result
 *      except a terminated secret, and never quotes that secret;
 *   2. sig_parse_body() on a body whose first non-blank byte is '{' is
 *      sig_parse_json(), byte for byte;
 *   3. an accepted JSON body, re-serialised by json-c (compact and pretty),
 *      parses to the same signal: whitespace and escapes are not meaning;
 *   4. the webhook's journal copy: when a body authenticates, the redacted raw
 *      text (log_redact, as on_signal stores it) must not contain the secret
 *      and must not authenticate when parsed again.
 *
 * Known bug (reported, not fixed here; see tests/fuzz/README.md): invariant 4
 * fails when the JSON string of the secret uses escapes ("te\u0073t"), because
 * log_redact() only removes the literal secret. Such inputs are counted and
 * reported at exit instead of aborting; set ZX_FUZZ_STRICT=1 to abort on them.
 *
 * Built by `make fuzz` (clang -fsanitize=fuzzer,address,undefined, linked with
 * every src .c file but main.c).
 */
#include <json-c/json.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "signal.h"
#include "webhook.h"

#define SECRET "fz-Secret_0123"

#define CHECK(cond) do { \
        if (!(cond)) { \
            fprintf(stderr, "fuzz_webhook_json: invariant failed: %s (line %d)\n", #cond, __LINE__); \
            abort(); \
        } \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);
size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size, unsigned seed);
size_t LLVMFuzzerMutate(uint8_t *data, size_t size, size_t max_size);
const char *__ubsan_default_options(void);

/* Undefined behaviour is a finding, not a warning. */
const char *__ubsan_default_options(void)
{
    return "halt_on_error=1:print_stacktrace=1";
}

static unsigned long g_escaped_secret_leaks;
static int g_strict;

static void report(void)
{
    if (g_escaped_secret_leaks)
        fprintf(stderr, "fuzz_webhook_json: KNOWN BUG hit %lu times: an escaped JSON secret "
                "survives log_redact() into the journal's raw text (webhook.c on_signal)\n",
                g_escaped_secret_leaks);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    log_add_secret(SECRET);         /* as app_init does with webhook.secret */
    log_set_level(LG_ERROR);
    /* The known bugs are fixed: strict unless ZX_FUZZ_STRICT=0. */
    g_strict = !(getenv("ZX_FUZZ_STRICT") && strcmp(getenv("ZX_FUZZ_STRICT"), "0") == 0);
    atexit(report);
    return 0;
}

/* ---- invariant 1 ------------------------------------------------------------------ */

static int terminated(const char *s, size_t n)
{
    return memchr(s, '\0', n) != NULL;
}

static int only(const char *s, const char *allowed)
{
    return strspn(s, allowed) == strlen(s);
}

static void check_num(double v)
{
    CHECK(isfinite(v));
    CHECK(v >= 0 && !signbit(v));
}

static void check_ok(const sig_parsed *p)
{
    CHECK(terminated(p->plugin, sizeof p->plugin));
    CHECK(only(p->plugin, "abcdefghijklmnopqrstuvwxyz0123456789_"));
    CHECK(strcmp(p->plugin, "all") != 0);
    CHECK(p->action >= ZX_BUY && p->action <= ZX_CLOSE_SHORT);
    CHECK(terminated(p->symbol, sizeof p->symbol));
    CHECK(p->symbol[0] != '\0');
    CHECK(only(p->symbol, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._"));
    check_num(p->price);
    check_num(p->sl);
    check_num(p->tp);
    check_num(p->lot);
    CHECK(terminated(p->id, sizeof p->id));
    CHECK(only(p->id, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._:-"));
    CHECK(terminated(p->comment, sizeof p->comment));
    for (const char *c = p->comment; *c; c++)
        CHECK((unsigned char)*c >= 0x20 && (unsigned char)*c != 0x7f);
    CHECK(terminated(p->secret, sizeof p->secret));
    if (p->action == ZX_BUY) {
        if (p->price > 0 && p->sl > 0)
            CHECK(p->sl < p->price);
        if (p->price > 0 && p->tp > 0)
            CHECK(p->tp > p->price);
    } else if (p->action == ZX_SELL) {
        if (p->price > 0 && p->sl > 0)
            CHECK(p->sl > p->price);
        if (p->price > 0 && p->tp > 0)
            CHECK(p->tp < p->price);
    }
}

static void check_failed(const sig_parsed *p, const char *err, size_t errlen)
{
    sig_parsed z;

    CHECK(terminated(err, errlen));
    CHECK(err[0] != '\0');
    CHECK(terminated(p->secret, sizeof p->secret));
    if (p->secret[0])
        CHECK(strstr(err, p->secret) == NULL);
    memset(&z, 0, sizeof z);
    memcpy(z.secret, p->secret, sizeof z.secret);
    CHECK(memcmp(&z, p, sizeof z) == 0);
}

typedef int (*parse_fn)(const char *, size_t, sig_parsed *, char *, size_t);

static int parse(parse_fn fn, const char *s, size_t n, sig_parsed *p, char *err, size_t errlen)
{
    int rc = fn(s, n, p, err, errlen);

    CHECK(rc == 0 || rc == -1);
    if (rc == 0)
        check_ok(p);
    else
        check_failed(p, err, errlen);
    return rc;
}

/* ---- invariant 3 ------------------------------------------------------------------ */

static void check_reserialised(const char *body, size_t size, const sig_parsed *orig)
{
    static const int flags[] = {
        JSON_C_TO_STRING_PLAIN,
        JSON_C_TO_STRING_PRETTY,
        JSON_C_TO_STRING_SPACED | JSON_C_TO_STRING_NOSLASHESCAPE,
    };
    json_tokener *tok = json_tokener_new();
    json_object *o;
    char err[256];
    sig_parsed again;

    CHECK(tok != NULL);
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
    o = json_tokener_parse_ex(tok, body, (int)size);
    CHECK(json_tokener_get_error(tok) == json_tokener_success);  /* it was accepted */
    json_tokener_free(tok);
    for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++) {
        size_t n;
        const char *s = json_object_to_json_string_length(o, flags[i], &n);
        int rc = sig_parse_json(s, n, &again, err, sizeof err);
        if (rc != 0 || memcmp(&again, orig, sizeof again) != 0) {
            fprintf(stderr, "re-serialised body parses differently (rc %d: %s):\n%s\n", rc, err, s);
            abort();
        }
    }
    json_object_put(o);
}

/* ---- invariant 4: the journal copy --------------------------------------------------- */

static int body_has_backslash_in_secret_string(const char *body, size_t size)
{
    /* The known bug needs an escape sequence somewhere in the body. */
    return memchr(body, '\\', size) != NULL;
}

static void check_journal_copy(const char *body, size_t size)
{
    static char raw[20000];         /* webhook.c: char raw[20000]; log_redact(body, raw, ...) */
    char *nul = malloc(size + 1);   /* the listener's body is NUL-terminated */
    sig_parsed s, again;
    char err[300];

    CHECK(nul != NULL);
    memcpy(nul, body, size);
    nul[size] = '\0';
    log_redact(nul, raw, sizeof raw);
    CHECK(terminated(raw, sizeof raw));
    int leaked = strstr(raw, SECRET) != NULL;
    if (!leaked && sig_parse_body(raw, strlen(raw), &again, err, sizeof err) == 0 &&
        webhook_secret_equal(again.secret, SECRET))
        leaked = 2;
    if (!leaked && sig_parse_body(raw, strlen(raw), &s, err, sizeof err) != 0 && s.secret[0] &&
        webhook_secret_equal(s.secret, SECRET))
        leaked = 3;                 /* the failure path keeps the secret too */
    if (leaked) {
        if (!g_strict && leaked > 1 && body_has_backslash_in_secret_string(body, size)) {
            g_escaped_secret_leaks++;
        } else {
            fprintf(stderr, "journal copy still carries the secret (%d):\n%s\n", leaked, raw);
            abort();
        }
    }
    free(nul);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *body = (const char *)data;  /* not NUL-terminated: ASan sees over-reads */
    sig_parsed j, b;
    char ej[300], eb[300];
    size_t i = 0;

    int rj = parse(sig_parse_json, body, size, &j, ej, sizeof ej);
    int rb = parse(sig_parse_body, body, size, &b, eb, sizeof eb);

    while (i < size && strchr(" \t\r\n\v\f", body[i]) && body[i] != '\0')
        i++;
    if (i < size && body[i] == '{')
        CHECK(rb == rj && memcmp(&b, &j, sizeof b) == 0 && strcmp(eb, ej) == 0);
    else
        CHECK(rj == -1);

    if (rj == 0)
        check_reserialised(body, size, &j);

    /* The webhook journals only what authenticated and parsed. */
    if (rb == 0 && webhook_secret_equal(b.secret, SECRET) && memchr(body, '\0', size) == NULL)
        check_journal_copy(body, size);
    return 0;
}

/* ---- the structure-aware mutator --------------------------------------------------------- */

static unsigned g_rng;

static unsigned rnd(unsigned n)
{
    g_rng = g_rng * 1103515245u + 12345u;
    return n ? (g_rng >> 8) % n : 0;
}

static const char *const g_keys[] = {
    "secret", "plugin", "action", "symbol", "price", "sl", "tp", "lot", "id", "comment",
    "Secret", "ACTION", "Symbol", "SL", "Tp", "stoploss", "ticker", "", "secret\u00e9",
};

/* A value as JSON text; many of them are what TradingView placeholders become. */
static const char *const g_values[] = {
    "\"buy\"", "\"SELL\"", "\"long\"", "\"Short\"", "\"close\"", "\"close_long\"",
    "\"close_short\"", "\"hold\"", "\"{{strategy.order.action}}\"",
    "\"EURUSD\"", "\"FX:eurusd\"", "\"BINANCE:BTCUSDT.P\"", "\"OANDA:XAU_USD\"", "\"::\"",
    "\"EUR/USD\"", "\"\\u20acUSD\"", "\"\\u0045URUSD\"", "\"ABCDEFGHIJKLMNOPQRSTUVWXYZ012345\"",
    "\"1.0825\"", "\"1.08\"", "\"2031.45\"", "\"\"", "\" 1\"", "\"1 \"", "\"1e308\"",
    "\"1e309\"", "\"-0\"", "\"-1\"", "\"NaN\"", "\"inf\"", "\"0x1p3\"", "\"1,5\"", "\"{{close}}\"",
    "1.0825", "0", "-0", "-0.0", "1e308", "1e309", "-1e-320", "4.9e-324", "123456789012345678901234567890",
    "9223372036854775807", "9223372036854775808", "-9223372036854775808",
    "18446744073709551615", "18446744073709551616", "1.7976931348623157e308",
    "\"tv-1\"", "\"id:1-2.3_4\"", "\"id with space\"", "12345", "-5",
    "\"caf\\u00e9 \\ud83d\\ude00\"", "\"\\ud800\"", "\"a\\u0000b\"", "\"tab\\there\"", "\"\\\"q\\\"\"",
    "\"combined_v3\"", "\"all\"", "\"ALL\"", "\"Price_Action_V6\"", "\"no-such\"",
    "\"" SECRET "\"", "\"" SECRET "\"", "\"" SECRET "\"", "\"fz-\\u0053ecret_0123\"",
    "\"fz-Secret_0123\\/\"", "\"wrong\"",
    "null", "true", "false", "[]", "{}", "[1,\"2\"]", "{\"a\":{\"b\":[1]}}", "[[[[[[1]]]]]]",
    "{\"price\":1.1}",
};

static void set_field(json_object *o, const char *key)
{
    const char *v = g_values[rnd(sizeof g_values / sizeof g_values[0])];
    json_object *val = json_tokener_parse(v);   /* NULL for "null": fine */

    json_object_object_add(o, key, val);
}

/* Parse data as a JSON object (lenient, so half-broken seeds still count). */
static json_object *load(const uint8_t *data, size_t size)
{
    json_tokener *tok = json_tokener_new();
    json_object *o;

    if (!tok)
        return NULL;
    o = json_tokener_parse_ex(tok, (const char *)data, (int)size);
    if (json_tokener_get_error(tok) != json_tokener_success || !json_object_is_type(o, json_type_object)) {
        json_object_put(o);
        o = NULL;
    }
    json_tokener_free(tok);
    return o;
}

static size_t emit(uint8_t *data, size_t max_size, const char *s, size_t n)
{
    if (n > max_size)
        return 0;
    memcpy(data, s, n);
    return n;
}

size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size, unsigned seed)
{
    json_object *o;
    size_t out = 0;

    g_rng = seed;
    if (rnd(2) == 0 || !(o = load(data, size)))
        return LLVMFuzzerMutate(data, size, max_size);

    unsigned op = rnd(8), nkeys = (unsigned)(sizeof g_keys / sizeof g_keys[0]);
    switch (op) {
    case 0: case 1: case 2:         /* a field gets another value (often a known field) */
        set_field(o, g_keys[rnd(op == 0 ? nkeys : 10)]);
        break;
    case 3: {                       /* a field goes away */
        int n = json_object_object_length(o), k = n ? (int)rnd((unsigned)n) : 0;
        json_object_object_foreach(o, key, val) {
            (void)val;
            if (k-- == 0) {
                json_object_object_del(o, key);
                break;
            }
        }
        break;
    }
    case 4:                         /* the right secret, so the journal path runs */
        json_object_object_add(o, "secret", json_object_new_string(SECRET));
        break;
    case 5: {                       /* nested junk around a field's value */
        json_object_object_foreach(o, key, val) {
            if (rnd(3) == 0) {
                json_object *arr = json_object_new_array();
                json_object_array_add(arr, json_object_get(val));
                json_object_object_add(o, key, arr);
                break;
            }
        }
        break;
    }
    default:
        break;
    }

    size_t n;
    const char *s = json_object_to_json_string_length(
        o, rnd(3) == 0 ? JSON_C_TO_STRING_PRETTY : JSON_C_TO_STRING_PLAIN, &n);
    if (op == 6 && n >= 2 && s[n - 1] == '}') {
        /* a duplicated key, textually (json-c would keep only one) */
        char buf[4096];
        const char *k = g_keys[rnd(10)], *v = g_values[rnd(sizeof g_values / sizeof g_values[0])];
        int m = snprintf(buf, sizeof buf, "%.*s%s\"%s\":%s}", (int)(n - 1), s, n > 2 ? "," : "", k, v);
        if (m > 0 && (size_t)m < sizeof buf)
            out = emit(data, max_size, buf, (size_t)m);
    } else if (op == 7 && n < 3000) {
        /* junk or whitespace around the object */
        static const char *const pre[] = { "", " \n\t", "\xef\xbb\xbf", "x", "[" };
        static const char *const post[] = { "", "\r\n", " trailing", "}", "\0" };
        char buf[4096];
        unsigned a = rnd(5), b = rnd(5);
        size_t pl = strlen(pre[a]), ql = b == 4 ? 1 : strlen(post[b]);
        memcpy(buf, pre[a], pl);
        memcpy(buf + pl, s, n);
        memcpy(buf + pl + n, post[b], ql);
        out = emit(data, max_size, buf, pl + n + ql);
    } else {
        out = emit(data, max_size, s, n);
    }
    json_object_put(o);
    return out ? out : LLVMFuzzerMutate(data, size, max_size);
}
