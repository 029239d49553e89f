/*
 * signal — the one grammar for trading signals (SPEC section 5), shared by the
 * webhook (text and JSON bodies) and the /signal chat command.
 *
 * Pure functions: no I/O, no allocation that outlives a call, safe on any input
 * (fuzzed by tests/fuzz/fuzz_signal.c). Every validation failure writes a reason
 * that names the field. Whether a named plugin exists is the caller's check.
 */
#ifndef ZEPIX_SIGNAL_H
#define ZEPIX_SIGNAL_H

#include <stddef.h>
#include "zepix_plugin.h"

#define SIG_PLUGIN_MAX 63
#define SIG_ID_MAX 64
#define SIG_COMMENT_MAX 255
#define SIG_SECRET_MAX 255

typedef struct sig_parsed {
    char plugin[SIG_PLUGIN_MAX + 1];   /* "" = every enabled plugin ("all" maps to "") */
    zx_action action;
    char symbol[32];                   /* [A-Z0-9._]{1,31}, prefix "FX:" dropped */
    double price, sl, tp, lot;         /* 0 = not given; never negative, always finite */
    char id[SIG_ID_MAX + 1];           /* "" = no idempotency key */
    char comment[SIG_COMMENT_MAX + 1];
    char secret[SIG_SECRET_MAX + 1];   /* "" = none given */
} sig_parsed;

/* Parse the text grammar: [PLUGIN|all] ACTION SYMBOL [key=value ...].
 * Returns 0, or -1 with a reason naming the field in err. */
int sig_parse_text(const char *text, size_t len, sig_parsed *out, char *err, size_t errlen);

/* Parse a JSON object body with the fields of SPEC section 5. */
int sig_parse_json(const char *body, size_t len, sig_parsed *out, char *err, size_t errlen);

/* JSON when the first non-blank byte is '{', the text grammar otherwise. */
int sig_parse_body(const char *body, size_t len, sig_parsed *out, char *err, size_t errlen);

/* A copy of a webhook body fit to keep: a JSON body re-serialised without any
 * key spelling "secret" (any case, any escapes), a text body with every
 * secret= value replaced by ***. Always NUL-terminates out. 0, or -1. */
int sig_redact_body(const char *body, size_t len, char *out, size_t outlen);

/* "buy", "sell", "close", "close_long", "close_short" ("?" otherwise). */
const char *sig_action_name(zx_action a);

/* Parse an action word (case-insensitive; long = buy, short = sell). -1 if none. */
int sig_action_parse(const char *word, zx_action *out);

#endif
