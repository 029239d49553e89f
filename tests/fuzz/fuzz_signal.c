/*
 * fuzz_signal.c — libFuzzer target for the signal grammar (src/signal.c).
 *
 * Feeds the raw bytes (not NUL-terminated, so ASan sees any over-read) to
 * sig_parse_text, sig_parse_json and sig_parse_body and aborts when an
 * invariant breaks: a success holds only valid fields, a failure leaves a
 * terminated message without the secret, body dispatch agrees with the form
 * it picks, and a parsed signal written back as text parses to the same thing.
 *
 *   clang -fsanitize=fuzzer,address,undefined -Isrc -Iplugins \
 *       -o fuzz_signal tests/fuzz/fuzz_signal.c src/signal.c $(pkg-config --cflags --libs json-c)
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "signal.h"

#define CHECK(cond) do { \
        if (!(cond)) { \
            fprintf(stderr, "fuzz_signal: invariant failed: %s (line %d)\n", #cond, __LINE__); \
            abort(); \
        } \
    } while (0)

typedef int (*parse_fn)(const char *, size_t, sig_parsed *, char *, size_t);

static int terminated(const char *s, size_t size)
{
    return memchr(s, '\0', size) != NULL;
}

static int all_of(const char *s, const char *allowed)
{
    return strspn(s, allowed) == strlen(s);
}

static void check_number(double v)
{
    CHECK(isfinite(v));
    CHECK(v >= 0);
    CHECK(!signbit(v));
}

static void check_ok(const sig_parsed *p, const char *err)
{
    size_t i;

    CHECK(err[0] == '\0');
    CHECK(terminated(p->plugin, sizeof p->plugin));
    CHECK(all_of(p->plugin, "abcdefghijklmnopqrstuvwxyz0123456789_"));
    CHECK(p->action >= ZX_BUY && p->action <= ZX_CLOSE_SHORT);
    CHECK(terminated(p->symbol, sizeof p->symbol));
    CHECK(strlen(p->symbol) >= 1);
    CHECK(all_of(p->symbol, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._"));
    check_number(p->price);
    check_number(p->sl);
    check_number(p->tp);
    check_number(p->lot);
    CHECK(terminated(p->id, sizeof p->id));
    CHECK(all_of(p->id, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._:-"));
    CHECK(terminated(p->comment, sizeof p->comment));
    for (i = 0; p->comment[i] != '\0'; i++)
        CHECK((unsigned char)p->comment[i] >= 0x20 && (unsigned char)p->comment[i] != 0x7f);
    CHECK(terminated(p->secret, sizeof p->secret));
    if (p->action == ZX_BUY && p->price > 0) {
        CHECK(p->sl == 0 || p->sl < p->price);
        CHECK(p->tp == 0 || p->tp > p->price);
    }
    if (p->action == ZX_SELL && p->price > 0) {
        CHECK(p->sl == 0 || p->sl > p->price);
        CHECK(p->tp == 0 || p->tp < p->price);
    }
}

static void check_failed(const sig_parsed *p, const char *err, size_t errlen)
{
    sig_parsed zero;

    CHECK(terminated(err, errlen));
    CHECK(terminated(p->secret, sizeof p->secret));
    if (p->secret[0] != '\0')
        CHECK(strstr(err, p->secret) == NULL);
    /* everything but the secret is zeroed */
    memset(&zero, 0, sizeof zero);
    memcpy(zero.secret, p->secret, sizeof zero.secret);
    CHECK(memcmp(&zero, p, sizeof zero) == 0);
}

/* Parse with a full and a tiny error buffer; both must agree. */
static int run(parse_fn fn, const char *data, size_t size, sig_parsed *p, char *err,
               size_t errlen)
{
    sig_parsed again;
    char small[5];
    int rc = fn(data, size, p, err, errlen);

    CHECK(rc == 0 || rc == -1);
    if (rc == 0)
        check_ok(p, err);
    else
        check_failed(p, err, errlen);
    memset(small, 'x', sizeof small);
    CHECK(fn(data, size, &again, small, sizeof small) == rc);
    CHECK(terminated(small, sizeof small));
    CHECK(strncmp(small, err, strlen(small)) == 0);
    CHECK(memcmp(&again, p, sizeof again) == 0);
    CHECK(fn(data, size, &again, NULL, 0) == rc);
    return rc;
}

static int is_action_word(const char *s)
{
    zx_action a;

    return sig_action_parse(s, &a) == 0;
}

static size_t put(char *buf, size_t off, size_t cap, const char *fmt, const char *k,
                  const char *v)
{
    int n = snprintf(buf + off, off < cap ? cap - off : 0, fmt, k, v);
    return off + (n > 0 ? (size_t)n : 0);
}

/* Write a parsed signal back as text; it must parse to the same signal. */
static void check_round_trip(const sig_parsed *p)
{
    char buf[2048], num[64], err[256];
    sig_parsed q;
    size_t off = 0;
    const char *keys[4] = { "price", "sl", "tp", "lot" };
    const double vals[4] = { p->price, p->sl, p->tp, p->lot };
    int i;

    if (is_action_word(p->plugin) || strchr(p->comment, '"') || strchr(p->secret, '"'))
        return;             /* not expressible in the text form */
    if (p->plugin[0] != '\0')
        off = put(buf, off, sizeof buf, "%s%s ", p->plugin, "");
    off = put(buf, off, sizeof buf, "%s %s", sig_action_name(p->action), p->symbol);
    for (i = 0; i < 4; i++) {
        if (vals[i] != 0) {
            snprintf(num, sizeof num, "%.17g", vals[i]);
            off = put(buf, off, sizeof buf, " %s=%s", keys[i], num);
        }
    }
    if (p->id[0] != '\0')
        off = put(buf, off, sizeof buf, " %s=%s", "id", p->id);
    if (p->comment[0] != '\0')
        off = put(buf, off, sizeof buf, " %s=\"%s\"", "comment", p->comment);
    if (p->secret[0] != '\0')
        off = put(buf, off, sizeof buf, " %s=\"%s\"", "secret", p->secret);
    CHECK(off < sizeof buf);
    if (sig_parse_text(buf, off, &q, err, sizeof err) != 0) {
        fprintf(stderr, "round trip of '%s' failed: %s\n", buf, err);
        abort();
    }
    CHECK(memcmp(p, &q, sizeof q) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data;
    sig_parsed t, j, b;
    char et[256], ej[256], eb[256];
    int rt, rj, rb;
    size_t i = 0;

    rt = run(sig_parse_text, s, size, &t, et, sizeof et);
    rj = run(sig_parse_json, s, size, &j, ej, sizeof ej);
    rb = run(sig_parse_body, s, size, &b, eb, sizeof eb);

    /* body picks JSON exactly when the first non-blank byte is '{' */
    while (i < size && strchr(" \t\r\n\v\f", s[i]) != NULL && s[i] != '\0')
        i++;
    if (i < size && s[i] == '{') {
        CHECK(rb == rj && memcmp(&b, &j, sizeof b) == 0 && strcmp(eb, ej) == 0);
    } else {
        CHECK(rb == rt && memcmp(&b, &t, sizeof b) == 0 && strcmp(eb, et) == 0);
        CHECK(rj == -1);
    }
    if (rt == 0)
        check_round_trip(&t);
    if (rj == 0)
        check_round_trip(&j);
    return 0;
}
