/*
 * signal.c — the signal grammar of SPEC section 5: the text form
 * "[PLUGIN|all] ACTION SYMBOL [key=value ...]" and the webhook's JSON object.
 *
 * Both forms feed the same field setters, so a rule holds for both or neither.
 * Pure: no I/O, no allocation that outlives a call (the json-c tree lives only
 * inside sig_parse_json), safe on any bytes; fuzzed by tests/fuzz/fuzz_signal.c.
 *
 * Errors read "<field>: <reason>" (for example "sl: must be below price for a
 * buy"). An error never contains the secret: every message is built in a
 * local buffer and scrubbed of every secret value in the input before it is
 * copied out. On failure *out is zeroed except out->secret, which holds the
 * first well-formed secret found, so the webhook can answer 401 before it
 * explains a 400 to a caller it has not authenticated.
 */
#include "signal.h"

#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#define SIG_MSG_MAX 256     /* an error message, before it is copied to err */
#define SIG_MAX_TOKENS 32   /* words in a text signal */
#define SIG_SHOW_MAX 32     /* bytes of user input quoted in a message */
#define SIG_PART_MIN 8      /* bytes of a secret in a row that withhold a message */
#define SIG_NUM_MAX 64      /* bytes of a number's text */
#define SIG_JSON_DEPTH 3    /* json-c's count: room for a value nested in a field,
                             * which then gets a field-named error; deeper input
                             * stops the parser */
#define SIG_WITHHELD "invalid signal (details withheld: they would reveal the secret)"

/* The fields, in the order of SPEC section 5; bit i of a "seen" mask is field i. */
enum sig_field {
    SIG_F_SECRET, SIG_F_PLUGIN, SIG_F_ACTION, SIG_F_SYMBOL, SIG_F_PRICE,
    SIG_F_SL, SIG_F_TP, SIG_F_LOT, SIG_F_ID, SIG_F_COMMENT, SIG_F_SL_PIPS, SIG_F_TP_PIPS,
    SIG_F_RISK, SIG_F_ENTRY, SIG_F_EXPIRY_S, SIG_F_COUNT
};

static const char *const sig_field_names[SIG_F_COUNT] = {
    "secret", "plugin", "action", "symbol", "price", "sl", "tp", "lot", "id", "comment",
    "sl_pips", "tp_pips", "risk", "entry", "expiry_s"
};

/* The action words of the text and JSON forms, listed in messages. */
#define SIG_ACTIONS "buy, sell, long, short, close, close_long, close_short, close_all, " \
                    "buy_limit, buy_stop, sell_limit, sell_stop, cancel"


/* A word of a text signal. key/val are set when the word has an '='; a
 * quoted value (key="a b") is the text between the quotes. */
typedef struct sig_token {
    const char *p;
    size_t n;
    const char *key, *val;
    size_t key_n, val_n;
    int has_eq;
    int quote_err;          /* 1 = no closing quote, 2 = text after it */
} sig_token;

/* ---- small helpers (ASCII only: the locale must not change the grammar) ---- */

static int sig_is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

static char sig_lower(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

static char sig_upper(char c)
{
    return (c >= 'a' && c <= 'z') ? (char)(c - 'a' + 'A') : c;
}

static int sig_is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Case-insensitive: does the span p[0..n) spell the NUL-terminated word w? */
static int sig_ieq(const char *p, size_t n, const char *w)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (w[i] == '\0' || sig_lower(p[i]) != sig_lower(w[i]))
            return 0;
    return w[n] == '\0';
}

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static int sig_fail(char *msg, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, SIG_MSG_MAX, fmt, ap);
    va_end(ap);
    return -1;
}

/* User input made safe to quote in a message: at most SIG_SHOW_MAX bytes,
 * anything but printable ASCII shown as '?', "..." when cut. */
static const char *sig_show(char *dst, const char *p, size_t n)
{
    size_t i, k = n < SIG_SHOW_MAX ? n : SIG_SHOW_MAX;

    for (i = 0; i < k; i++) {
        unsigned char c = (unsigned char)p[i];
        dst[i] = (c < 0x20 || c >= 0x7f || c == '\'') ? '?' : (char)c;
    }
    if (k < n) {
        memcpy(dst + k, "...", 3);
        k += 3;
    }
    dst[k] = '\0';
    return dst;
}

static int sig_field_lookup(const char *p, size_t n)
{
    int f;

    for (f = 0; f < SIG_F_COUNT; f++)
        if (sig_ieq(p, n, sig_field_names[f]))
            return f;
    return -1;
}

/* ---- secret scrubbing ---- */

/* Does msg hold SIG_PART_MIN or more consecutive bytes of the secret s[0..n)?
 * (A quote of the input is cut at SIG_SHOW_MAX bytes: a cut secret would slip
 * past a search for the whole of it.) */
static int sig_shares_part(const char *msg, size_t len, const char *s, size_t n)
{
    if (n < SIG_PART_MIN || len < SIG_PART_MIN)
        return 0;
    for (size_t i = 0; i + SIG_PART_MIN <= n; i++)
        if (memmem(msg, len, s + i, SIG_PART_MIN) != NULL)
            return 1;
    return 0;
}

/* Pass 0 replaces each occurrence of the secret s[0..n) in msg by "***".
 * Pass 1 withholds a message that still contains it (a secret made of '*'),
 * or any SIG_PART_MIN bytes of it in a row,
 * pass 2 empties one that still does (a secret inside SIG_WITHHELD). */
static void sig_scrub_one(char *msg, int pass, const char *s, size_t n)
{
    char tmp[SIG_MSG_MAX];
    size_t len = strlen(msg), i = 0, o = 0;

    if (n == 0)
        return;
    if (pass == 1 && sig_shares_part(msg, len, s, n)) {
        snprintf(msg, SIG_MSG_MAX, "%s", SIG_WITHHELD);
        return;
    }
    if (n > len)
        return;
    if (pass > 0) {
        if (memmem(msg, len, s, n) != NULL)
            snprintf(msg, SIG_MSG_MAX, "%s", pass == 1 ? SIG_WITHHELD : "");
        return;
    }
    while (i < len && o + 1 < sizeof tmp) {
        if (len - i >= n && memcmp(msg + i, s, n) == 0) {
            size_t k;
            for (k = 0; k < 3 && o + 1 < sizeof tmp; k++)
                tmp[o++] = '*';
            i += n;
        } else {
            tmp[o++] = msg[i++];
        }
    }
    tmp[o] = '\0';
    memcpy(msg, tmp, o + 1);
}

/* Copy the message out; err may be NULL, errlen may be 0. */
static void sig_put_err(char *err, size_t errlen, const char *msg)
{
    if (err != NULL && errlen > 0)
        snprintf(err, errlen, "%s", msg);
}

/* Keep the first well-formed secret in an otherwise zeroed *out. */
static void sig_reset_keep_secret(sig_parsed *out, const char *s, size_t n)
{
    memset(out, 0, sizeof *out);
    if (s != NULL && n <= SIG_SECRET_MAX && memchr(s, '\0', n) == NULL) {
        memcpy(out->secret, s, n);
        out->secret[n] = '\0';
    }
}

/* ---- field setters, shared by the text and JSON forms ---- */

static int sig_set_plugin(sig_parsed *out, const char *p, size_t n, char *msg)
{
    char show[SIG_SHOW_MAX + 4];
    size_t i;

    if (n == 0 || sig_ieq(p, n, "all")) {
        out->plugin[0] = '\0';
        return 0;
    }
    for (i = 0; i < n && i < SIG_PLUGIN_MAX; i++) {
        char c = sig_lower(p[i]);
        if (!((c >= 'a' && c <= 'z') || sig_is_digit(c) || c == '_'))
            break;
        out->plugin[i] = c;
    }
    if (i != n) {
        out->plugin[0] = '\0';
        return sig_fail(msg, "plugin: invalid id '%s' (1 to %d of a-z 0-9 _)",
                        sig_show(show, p, n), SIG_PLUGIN_MAX);
    }
    out->plugin[n] = '\0';
    return 0;
}

static int sig_action_span(const char *p, size_t n, zx_action *out)
{
    static const struct { const char *word; zx_action action; } words[] = {
        { "buy", ZX_BUY }, { "long", ZX_BUY }, { "sell", ZX_SELL },
        { "short", ZX_SELL }, { "close", ZX_CLOSE },
        { "close_long", ZX_CLOSE_LONG }, { "close_short", ZX_CLOSE_SHORT },
        { "close_all", SIG_CLOSE_ALL },
        { "buy_limit", ZX_BUY_LIMIT }, { "buy_stop", ZX_BUY_STOP },
        { "sell_limit", ZX_SELL_LIMIT }, { "sell_stop", ZX_SELL_STOP },
        { "cancel", SIG_CANCEL },
    };
    size_t i;

    for (i = 0; i < sizeof words / sizeof words[0]; i++) {
        if (sig_ieq(p, n, words[i].word)) {
            if (out != NULL)
                *out = words[i].action;
            return 0;
        }
    }
    return -1;
}

static int sig_set_action(sig_parsed *out, const char *p, size_t n, char *msg)
{
    char show[SIG_SHOW_MAX + 4];

    if (n == 0)
        return 0;           /* reported as "action: missing" at the end */
    if (sig_action_span(p, n, &out->action) != 0)
        return sig_fail(msg, "action: unknown action '%s' (" SIG_ACTIONS ")", sig_show(show, p, n));
    return 0;
}

/* The characters of a symbol: [A-Za-z0-9._]. */
static int sig_symbol_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || sig_is_digit(c) || c == '.' || c == '_';
}

int sig_symbol_valid(const char *s)
{
    size_t n = 0;

    for (; s != NULL && s[n]; n++)
        if (n == SIG_SYMBOL_MAX || !sig_symbol_char(s[n]))
            return 0;
    return n > 0;
}

/* Drop an exchange prefix ("FX:EURUSD"), upper-case, then sig_symbol_valid
 * (upper-cased, its [A-Za-z0-9._] is [A-Z0-9._]). */
int sig_symbol_norm(const char *p, size_t n, char out[SIG_SYMBOL_MAX + 1])
{
    const char *s = p;
    size_t i, k;

    for (i = 0; i < n; i++)
        if (p[i] == ':')
            s = p + i + 1;
    k = n - (size_t)(s - p);
    if (k > SIG_SYMBOL_MAX || memchr(s, '\0', k) != NULL) {
        out[0] = '\0';
        return -1;
    }
    for (i = 0; i < k; i++)
        out[i] = sig_upper(s[i]);
    out[k] = '\0';
    if (!sig_symbol_valid(out)) {
        out[0] = '\0';
        return -1;
    }
    return 0;
}

static int sig_set_symbol(sig_parsed *out, const char *p, size_t n, char *msg)
{
    char show[SIG_SHOW_MAX + 4];

    if (n == 0)
        return 0;           /* reported as "symbol: missing" at the end */
    if (n == 1 && p[0] == '*') {
        memcpy(out->symbol, "*", 2);    /* any symbol: close_all only (sig_check) */
        return 0;
    }
    if (sig_symbol_norm(p, n, out->symbol) != 0)
        return sig_fail(msg, "symbol: invalid '%s' (1 to %d of A-Z 0-9 . _ after "
                        "the exchange prefix)", sig_show(show, p, n), SIG_SYMBOL_MAX);
    return 0;
}

static int sig_set_number_value(const char *name, double v, double *dst, char *msg)
{
    if (!isfinite(v))
        return sig_fail(msg, "%s: must be finite", name);
    if (v < 0)
        return sig_fail(msg, "%s: must not be negative", name);
    /* Fields where 0 cannot mean "not given": an entry of 0 or an expiry of 0
     * seconds is a mistake, not an absence. */
    if (strcmp(name, "entry") == 0 && !(v > 0))
        return sig_fail(msg, "entry: must be above 0 (the price the pending order waits for)");
    if (strcmp(name, "expiry_s") == 0 && (v != floor(v) || v < 1 || v > SIG_EXPIRY_MAX_S))
        return sig_fail(msg, "expiry_s: must be a whole number of seconds from 1 to %d (366 days), got %.10g",
                        SIG_EXPIRY_MAX_S, v);
    *dst = v + 0.0;         /* -0 becomes +0 */
    return 0;
}

/* strtod on the whole value: "1.0825" yes, "1.08x", " 1", "" no. */
static int sig_set_number_text(const char *name, const char *p, size_t n, double *dst,
                               char *msg)
{
    char show[SIG_SHOW_MAX + 4], buf[SIG_NUM_MAX];
    char *end;
    double v;

    if (n == 0)
        return sig_fail(msg, "%s: empty value", name);
    if (n >= sizeof buf || sig_is_blank(p[0]) || memchr(p, '\0', n) != NULL)
        return sig_fail(msg, "%s: not a number: '%s'", name, sig_show(show, p, n));
    memcpy(buf, p, n);
    buf[n] = '\0';
    v = strtod(buf, &end);
    if (end != buf + n)
        return sig_fail(msg, "%s: not a number: '%s'", name, sig_show(show, p, n));
    return sig_set_number_value(name, v, dst, msg);
}

/* Length of the UTF-8 character at p[0..n) if it is well formed (shortest
 * form, no surrogate, at most U+10FFFF) and printable (no C0/C1 control, no
 * DEL), else 0. */
static size_t sig_utf8_printable(const unsigned char *p, size_t n)
{
    unsigned c = p[0], cp;
    size_t len, i;

    if (c < 0x80)
        return (c >= 0x20 && c != 0x7f) ? 1 : 0;
    if (c >= 0xc2 && c <= 0xdf) {
        len = 2;
        cp = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
        len = 3;
        cp = c & 0x0f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4;
        cp = c & 0x07;
    } else {
        return 0;
    }
    if (len > n)
        return 0;
    for (i = 1; i < len; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (p[i] & 0x3f);
    }
    if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
        (cp >= 0xd800 && cp <= 0xdfff) || (cp >= 0x80 && cp < 0xa0))
        return 0;
    return len;
}

/* SPEC 12: 1..128 bytes of printable UTF-8 ("Long Entry 1" included). */
static int sig_set_id(sig_parsed *out, const char *p, size_t n, char *msg)
{
    size_t i, k;

    if (n == 0)
        return sig_fail(msg, "id: empty (1 to %d bytes)", SIG_ID_MAX);
    if (n > SIG_ID_MAX)
        return sig_fail(msg, "id: longer than %d bytes", SIG_ID_MAX);
    for (i = 0; i < n; i += k) {
        k = sig_utf8_printable((const unsigned char *)p + i, n - i);
        if (k == 0)
            return sig_fail(msg, "id: byte %zu is a control character or not UTF-8 "
                            "(an id is printable UTF-8 text)", i + 1);
    }
    memcpy(out->id, p, n);
    out->id[n] = '\0';
    return 0;
}

static int sig_set_comment(sig_parsed *out, const char *p, size_t n, char *msg)
{
    size_t i;

    if (n > SIG_COMMENT_MAX)
        return sig_fail(msg, "comment: longer than %d bytes", SIG_COMMENT_MAX);
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c < 0x20 || c == 0x7f)
            return sig_fail(msg, "comment: control character at byte %zu", i + 1);
    }
    memcpy(out->comment, p, n);
    out->comment[n] = '\0';
    return 0;
}

static int sig_set_secret(sig_parsed *out, const char *p, size_t n, char *msg)
{
    if (n > SIG_SECRET_MAX)
        return sig_fail(msg, "secret: longer than %d bytes", SIG_SECRET_MAX);
    if (memchr(p, '\0', n) != NULL)
        return sig_fail(msg, "secret: contains a NUL byte");
    memcpy(out->secret, p, n);
    out->secret[n] = '\0';
    return 0;
}

static double *sig_number_slot(sig_parsed *out, int f)
{
    switch (f) {
    case SIG_F_PRICE:   return &out->price;
    case SIG_F_SL:      return &out->sl;
    case SIG_F_TP:      return &out->tp;
    case SIG_F_LOT:     return &out->lot;
    case SIG_F_SL_PIPS: return &out->sl_pips;
    case SIG_F_TP_PIPS: return &out->tp_pips;
    case SIG_F_RISK:    return &out->risk;
    case SIG_F_ENTRY:   return &out->entry;
    case SIG_F_EXPIRY_S: return &out->expiry_s;
    default:            return NULL;
    }
}

/* A field given as text. An empty number is an error in both forms (SPEC 12):
 * it is an unfilled TradingView placeholder, and reading it as "not given"
 * would open a trade without the stop the alert meant to set. */
static int sig_set_field(sig_parsed *out, int f, const char *p, size_t n, char *msg)
{
    switch (f) {
    case SIG_F_SECRET:  return sig_set_secret(out, p, n, msg);
    case SIG_F_PLUGIN:  return sig_set_plugin(out, p, n, msg);
    case SIG_F_ACTION:  return sig_set_action(out, p, n, msg);
    case SIG_F_SYMBOL:  return sig_set_symbol(out, p, n, msg);
    case SIG_F_ID:      return sig_set_id(out, p, n, msg);
    case SIG_F_COMMENT: return sig_set_comment(out, p, n, msg);
    default:
        break;
    }
    if (n == 0)
        return sig_fail(msg, "%s: empty value (an unfilled alert placeholder?)", sig_field_names[f]);
    return sig_set_number_text(sig_field_names[f], p, n, sig_number_slot(out, f), msg);
}


/* A pending order: its entry, and its stops on the losing / winning side of
 * the entry (the price it fills at). Whether the entry is on the right side of
 * the quote is intake.c's check (the quote is not the grammar's). */
static int sig_check_pending(const sig_parsed *s, char *msg)
{
    const char *name = sig_action_name(s->action);
    int buy = sig_side(s->action) == ZX_BUY;
    if (!(s->entry > 0) && !(s->entry_pips > 0))
        return sig_fail(msg, "entry: required for %s (the price the order waits for)", name);
    if (s->entry > 0 && s->entry_pips > 0)
        return sig_fail(msg, "entry: give entry (a price) or price= (pips from the quote), not both");
    if (!(s->entry > 0))
        return 0;               /* in pips: intake.c checks the stops once it knows the entry */
    if (s->sl > 0 && (buy ? !(s->sl < s->entry) : !(s->sl > s->entry)))
        return sig_fail(msg, "sl: must be %s the entry for a %s (sl %.10g, entry %.10g)", buy ? "below" : "above",
                        name, s->sl, s->entry);
    if (s->tp > 0 && (buy ? !(s->tp > s->entry) : !(s->tp < s->entry)))
        return sig_fail(msg, "tp: must be %s the entry for a %s (tp %.10g, entry %.10g)", buy ? "above" : "below",
                        name, s->tp, s->entry);
    return 0;
}

/* The rules across fields, once every field is in. */
static int sig_check(const sig_parsed *s, char *msg)
{
    if (s->action == 0)
        return sig_fail(msg, "action: missing");
    if (s->symbol[0] == '\0')
        return sig_fail(msg, "symbol: missing");
    if (strcmp(s->symbol, "*") == 0 && s->action != SIG_CLOSE_ALL)
        return sig_fail(msg, "symbol: * (any symbol) goes with close_all only");
    if (s->risk > 0 && s->lot > 0)
        return sig_fail(msg, "risk: give lot or risk (the host sizes the lot from it), not both");
    if (s->risk > 100)
        return sig_fail(msg, "risk: a percentage of the balance, at most 100");
    if (s->sl > 0 && s->sl_pips > 0)
        return sig_fail(msg, "sl_pips: give sl (a price) or sl_pips (a distance), not both");
    if (s->tp > 0 && s->tp_pips > 0)
        return sig_fail(msg, "tp_pips: give tp (a price) or tp_pips (a distance), not both");
    if (sig_is_pending(s->action))
        return sig_check_pending(s, msg);
    if (s->entry > 0 || s->entry_pips > 0)
        return sig_fail(msg, "entry: only for a pending order (buy_limit, buy_stop, sell_limit, sell_stop), "
                        "not %s", sig_action_name(s->action));
    if (s->expiry_s > 0)
        return sig_fail(msg, "expiry_s: only for a pending order (buy_limit, buy_stop, sell_limit, sell_stop), "
                        "not %s", sig_action_name(s->action));
    if (s->action == ZX_BUY) {
        if (s->price > 0 && s->sl > 0 && !(s->sl < s->price))
            return sig_fail(msg, "sl: must be below price for a buy (sl %.10g, price %.10g)",
                            s->sl, s->price);
        if (s->price > 0 && s->tp > 0 && !(s->tp > s->price))
            return sig_fail(msg, "tp: must be above price for a buy (tp %.10g, price %.10g)",
                            s->tp, s->price);
        if (s->sl > 0 && s->tp > 0 && !(s->sl < s->tp))
            return sig_fail(msg, "sl: must be below tp for a buy (sl %.10g, tp %.10g)",
                            s->sl, s->tp);
    } else if (s->action == ZX_SELL) {
        if (s->price > 0 && s->sl > 0 && !(s->sl > s->price))
            return sig_fail(msg, "sl: must be above price for a sell (sl %.10g, price %.10g)",
                            s->sl, s->price);
        if (s->price > 0 && s->tp > 0 && !(s->tp < s->price))
            return sig_fail(msg, "tp: must be below price for a sell (tp %.10g, price %.10g)",
                            s->tp, s->price);
        if (s->sl > 0 && s->tp > 0 && !(s->sl > s->tp))
            return sig_fail(msg, "sl: must be above tp for a sell (sl %.10g, tp %.10g)",
                            s->sl, s->tp);
    }
    return 0;
}

/* ---- text form ---- */

/* The next word of s[0..len) from *pos; 0 at the end. */
static int sig_next_token(const char *s, size_t len, size_t *pos, sig_token *t)
{
    size_t i = *pos, start;

    while (i < len && sig_is_blank(s[i]))
        i++;
    if (i >= len) {
        *pos = len;
        return 0;
    }
    memset(t, 0, sizeof *t);
    start = i;
    while (i < len && !sig_is_blank(s[i]) && s[i] != '=')
        i++;
    if (i < len && s[i] == '=') {
        t->has_eq = 1;
        t->key = s + start;
        t->key_n = i - start;
        i++;
        if (i < len && s[i] == '"') {
            const char *q = memchr(s + i + 1, '"', len - i - 1);
            t->val = s + i + 1;
            if (q == NULL) {
                t->val_n = len - i - 1;
                t->quote_err = 1;
                i = len;
            } else {
                t->val_n = (size_t)(q - t->val);
                i = (size_t)(q - s) + 1;
                if (i < len && !sig_is_blank(s[i])) {
                    t->quote_err = 2;
                    while (i < len && !sig_is_blank(s[i]))
                        i++;
                }
            }
        } else {
            t->val = s + i;
            while (i < len && !sig_is_blank(s[i]))
                i++;
            t->val_n = (size_t)(s + i - t->val);
        }
    }
    t->p = s + start;
    t->n = i - start;
    *pos = i;
    return 1;
}

static int sig_is_secret_token(const sig_token *t)
{
    return t->has_eq && sig_ieq(t->key, t->key_n, "secret");
}

/* Scrub every secret= value of the text from msg, then keep the first
 * well-formed one in a zeroed *out. */
static void sig_text_failed(const char *text, size_t len, sig_parsed *out, char *msg)
{
    sig_token t;
    size_t pos;
    int pass, kept = 0;

    for (pass = 0; pass < 3; pass++) {
        pos = 0;
        while (sig_next_token(text, len, &pos, &t))
            if (sig_is_secret_token(&t))
                sig_scrub_one(msg, pass, t.val, t.val_n);
    }
    memset(out, 0, sizeof *out);
    pos = 0;
    while (!kept && sig_next_token(text, len, &pos, &t)) {
        if (sig_is_secret_token(&t)) {
            if (t.quote_err == 0)
                sig_reset_keep_secret(out, t.val, t.val_n);
            kept = 1;
        }
    }
}

/* A key=value word after the symbol; word is its 1-based position. */
static int sig_text_key(sig_parsed *out, const sig_token *t, int word, unsigned *seen,
                        char *msg)
{
    char show[SIG_SHOW_MAX + 4];
    int f;
    const char *name;

    if (!t->has_eq)
        return sig_fail(msg, "word %d: expected key=value after the symbol", word);
    if (t->key_n == 0)
        return sig_fail(msg, "word %d: empty key before '='", word);
    f = sig_field_lookup(t->key, t->key_n);
    if (f < 0 || f == SIG_F_PLUGIN || f == SIG_F_ACTION || f == SIG_F_SYMBOL)
        return sig_fail(msg, "%s: unknown key (keys: price sl tp sl_pips tp_pips lot risk entry expiry_s id "
                        "comment secret)",
                        sig_show(show, t->key, t->key_n));
    name = sig_field_names[f];
    if (t->quote_err == 1)
        return sig_fail(msg, "%s: no closing quote", name);
    if (t->quote_err == 2)
        return sig_fail(msg, "%s: text after the closing quote", name);
    if (*seen & (1u << f))
        return sig_fail(msg, "%s: given twice", name);
    *seen |= 1u << f;
    return sig_set_field(out, f, t->val, t->val_n, msg);
}

static int sig_text(const char *text, size_t len, sig_parsed *out, char *msg)
{
    char show[SIG_SHOW_MAX + 4];
    sig_token tok[SIG_MAX_TOKENS], extra;
    size_t pos = 0;
    int n = 0, i = 0;
    unsigned seen = 0;

    while (n < SIG_MAX_TOKENS && sig_next_token(text, len, &pos, &tok[n]))
        n++;
    if (sig_next_token(text, len, &pos, &extra))
        return sig_fail(msg, "signal: more than %d words", SIG_MAX_TOKENS);
    if (n == 0)
        return sig_fail(msg, "signal: empty (expected [PLUGIN|all] ACTION SYMBOL [key=value ...])");

    /* [PLUGIN|all] ACTION: a first word that is an action means no plugin. */
    if (!tok[0].has_eq && sig_action_span(tok[0].p, tok[0].n, &out->action) == 0) {
        i = 1;
    } else if (!tok[0].has_eq && n > 1 && !tok[1].has_eq &&
               sig_action_span(tok[1].p, tok[1].n, &out->action) == 0) {
        if (sig_set_plugin(out, tok[0].p, tok[0].n, msg) != 0)
            return -1;
        i = 2;
    } else if (tok[0].has_eq) {
        return sig_fail(msg, "action: missing");
    } else {
        /* Neither word is an action: blame the one in the action's place,
         * guessing "PLUGIN ACTION SYMBOL" when three plain words lead. */
        int w = (n > 2 && !tok[1].has_eq && !tok[2].has_eq) ? 1 : 0;
        return sig_fail(msg, "action: unknown action '%s' (" SIG_ACTIONS ")", sig_show(show, tok[w].p, tok[w].n));
    }
    if (i >= n || tok[i].has_eq)
        return sig_fail(msg, "symbol: missing");
    if (sig_set_symbol(out, tok[i].p, tok[i].n, msg) != 0)
        return -1;
    for (i++; i < n; i++)
        if (sig_text_key(out, &tok[i], i + 1, &seen, msg) != 0)
            return -1;
    return sig_check(out, msg);
}

/* ---- JSON form ---- */

static const char *sig_json_kind(enum json_type t)
{
    switch (t) {
    case json_type_object:  return "an object";
    case json_type_array:   return "an array";
    case json_type_boolean: return "a boolean";
    case json_type_double:
    case json_type_int:     return "a number";
    case json_type_string:  return "a string";
    default:                return "null";
    }
}

/* An integer id as its decimal text. */
static int sig_json_int_id(sig_parsed *out, json_object *v, char *msg)
{
    char buf[32];
    int64_t i = json_object_get_int64(v);

    if (i < 0) {
        if (i == INT64_MIN)
            return sig_fail(msg, "id: integer out of range");
        snprintf(buf, sizeof buf, "%" PRId64, i);
    } else {
        uint64_t u = json_object_get_uint64(v);
        if (u == UINT64_MAX)
            return sig_fail(msg, "id: integer out of range");
        snprintf(buf, sizeof buf, "%" PRIu64, u);
    }
    return sig_set_id(out, buf, strlen(buf), msg);
}

static int sig_json_field(sig_parsed *out, int f, json_object *v, char *msg)
{
    const char *name = sig_field_names[f];
    enum json_type t = json_object_get_type(v);
    double *num = sig_number_slot(out, f);
    const char *s;
    size_t n;

    if (t == json_type_null)
        return 0;           /* not given */
    if (t == json_type_object || t == json_type_array)
        return sig_fail(msg, "%s: must be a single value, not %s", name, sig_json_kind(t));
    if (num != NULL && (t == json_type_int || t == json_type_double))
        return sig_set_number_value(name, json_object_get_double(v), num, msg);
    if (f == SIG_F_ID && t == json_type_int)
        return sig_json_int_id(out, v, msg);
    if (t != json_type_string) {
        if (num != NULL)
            return sig_fail(msg, "%s: must be a number or a numeric string, not %s",
                            name, sig_json_kind(t));
        if (f == SIG_F_ID)
            return sig_fail(msg, "id: must be a string or an integer, not %s",
                            sig_json_kind(t));
        return sig_fail(msg, "%s: must be a string, not %s", name, sig_json_kind(t));
    }
    s = json_object_get_string(v);
    n = (size_t)json_object_get_string_len(v);
    if (memchr(s, '\0', n) != NULL)
        return sig_fail(msg, "%s: contains a NUL character", name);
    return sig_set_field(out, f, s, n, msg);
}

/* Scrub every string "secret" field (any case) from msg, then keep the first
 * well-formed one in a zeroed *out. */
static void sig_json_failed(json_object *obj, sig_parsed *out, char *msg)
{
    struct json_object_iterator it, end;
    int pass, kept = 0;

    memset(out, 0, sizeof *out);
    if (obj == NULL)
        return;
    for (pass = 0; pass < 4; pass++) {
        it = json_object_iter_begin(obj);
        end = json_object_iter_end(obj);
        for (; !json_object_iter_equal(&it, &end); json_object_iter_next(&it)) {
            const char *key = json_object_iter_peek_name(&it);
            json_object *v = json_object_iter_peek_value(&it);
            const char *s;
            size_t n;

            if (!sig_ieq(key, strlen(key), "secret") || !json_object_is_type(v, json_type_string))
                continue;
            s = json_object_get_string(v);
            n = (size_t)json_object_get_string_len(v);
            if (pass < 3) {
                sig_scrub_one(msg, pass, s, n);
            } else if (!kept) {
                sig_reset_keep_secret(out, s, n);
                kept = 1;
            }
        }
    }
}

/* Parse body into a json-c object; the caller puts it. */
static json_object *sig_json_load(const char *body, size_t len, char *msg)
{
    json_tokener *tok;
    json_object *obj;
    enum json_tokener_error jerr;
    size_t i = 0, end;

    while (i < len && sig_is_blank(body[i]))
        i++;
    if (i == len) {
        sig_fail(msg, "body: empty");
        return NULL;
    }
    if (body[i] != '{') {
        sig_fail(msg, "body: must be a JSON object");
        return NULL;
    }
    if (len > INT_MAX) {
        sig_fail(msg, "body: too large");
        return NULL;
    }
    if (memchr(body, '\0', len) != NULL) {
        sig_fail(msg, "body: invalid JSON: contains a NUL byte");
        return NULL;
    }
    tok = json_tokener_new_ex(SIG_JSON_DEPTH);
    if (tok == NULL) {
        sig_fail(msg, "body: out of memory");
        return NULL;
    }
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
    obj = json_tokener_parse_ex(tok, body, (int)len);
    jerr = json_tokener_get_error(tok);
    end = json_tokener_get_parse_end(tok);
    json_tokener_free(tok);
    if (jerr == json_tokener_continue) {
        sig_fail(msg, "body: invalid JSON: unexpected end of input");
    } else if (jerr != json_tokener_success) {
        sig_fail(msg, "body: invalid JSON at byte %zu: %s", end + 1, json_tokener_error_desc(jerr));
    } else {
        while (end < len && sig_is_blank(body[end]))
            end++;
        if (end < len)
            sig_fail(msg, "body: invalid JSON: data after the object");
        else if (!json_object_is_type(obj, json_type_object))
            sig_fail(msg, "body: must be a JSON object");
        else
            return obj;
    }
    json_object_put(obj);
    return NULL;
}

/* How many keys of the object body spell field f (any case), each key read
 * the way json-c reads it (escapes decoded: "\u0061ction" is "action"). json-c
 * keeps the last of duplicated keys silently; a body that says "action" twice
 * must be refused, not half-read. Only the top-level object's keys count: the
 * lexer tracks nesting outside strings, and a string followed by ':' at depth
 * 1 is a key, handed whole (quotes included) to json-c to decode. */
static int sig_key_count(const char *body, size_t len, int f)
{
    const char *name = sig_field_names[f];
    int count = 0, depth = 0;
    json_tokener *tok = json_tokener_new();
    if (tok == NULL)
        return 2;               /* cannot tell: refuse rather than half-read */
    for (size_t i = 0; i < len; i++) {
        if (body[i] == '{' || body[i] == '[') {
            depth++;
            continue;
        }
        if (body[i] == '}' || body[i] == ']') {
            depth--;
            continue;
        }
        if (body[i] != '"')
            continue;
        size_t start = i++;
        while (i < len && body[i] != '"')
            i += body[i] == '\\' ? 2 : 1;
        if (i >= len)
            break;
        size_t k = i + 1;
        while (k < len && sig_is_blank(body[k]))
            k++;
        if (depth != 1 || k >= len || body[k] != ':')
            continue;
        json_tokener_reset(tok);
        json_object *key = json_tokener_parse_ex(tok, body + start, (int)(i + 1 - start));
        if (key == NULL)        /* a bare string is complete only at its end */
            key = json_tokener_parse_ex(tok, "", -1);
        if (key != NULL && json_object_is_type(key, json_type_string) &&
            sig_ieq(json_object_get_string(key), (size_t)json_object_get_string_len(key), name))
            count++;
        json_object_put(key);
    }
    json_tokener_free(tok);
    return count;
}

static int sig_json(json_object *obj, const char *body, size_t len, sig_parsed *out, char *msg)
{
    char show[SIG_SHOW_MAX + 4];
    struct json_object_iterator it = json_object_iter_begin(obj);
    struct json_object_iterator end = json_object_iter_end(obj);
    unsigned seen = 0;

    for (; !json_object_iter_equal(&it, &end); json_object_iter_next(&it)) {
        const char *key = json_object_iter_peek_name(&it);
        size_t kn = strlen(key);
        int f = sig_field_lookup(key, kn);

        if (f < 0)
            return sig_fail(msg, "%s: unknown field (fields: secret plugin action symbol price sl tp "
                            "sl_pips tp_pips lot risk entry expiry_s id comment)", sig_show(show, key, kn));
        if ((seen & (1u << f)) || sig_key_count(body, len, f) > 1)
            return sig_fail(msg, "%s: given twice", sig_field_names[f]);
        seen |= 1u << f;
        if (sig_json_field(out, f, json_object_iter_peek_value(&it), msg) != 0)
            return -1;
    }
    return sig_check(out, msg);
}

/* ---- public ---- */

/* A UTF-8 byte-order mark (some clients send one before JSON) is no part of
 * the body: without this a JSON body would be read as text. */
static void sig_skip_bom(const char **body, size_t *len)
{
    if (*body != NULL && *len >= 3 && memcmp(*body, "\xEF\xBB\xBF", 3) == 0) {
        *body += 3;
        *len -= 3;
    }
}


int sig_parse_text(const char *text, size_t len, sig_parsed *out, char *err, size_t errlen)
{
    char msg[SIG_MSG_MAX] = "";

    if (out == NULL || (text == NULL && len > 0)) {
        sig_put_err(err, errlen, "signal: no input or no output");
        return -1;
    }
    memset(out, 0, sizeof *out);
    if (text == NULL)
        text = "";
    if (sig_text(text, len, out, msg) == 0) {
        sig_put_err(err, errlen, "");
        return 0;
    }
    sig_text_failed(text, len, out, msg);
    sig_put_err(err, errlen, msg);
    return -1;
}

int sig_parse_json(const char *body, size_t len, sig_parsed *out, char *err, size_t errlen)
{
    char msg[SIG_MSG_MAX] = "";
    json_object *obj;
    int rc = -1;

    if (out == NULL || (body == NULL && len > 0)) {
        sig_put_err(err, errlen, "body: no input or no output");
        return -1;
    }
    sig_skip_bom(&body, &len);
    memset(out, 0, sizeof *out);
    obj = sig_json_load(body != NULL ? body : "", len, msg);
    if (obj != NULL)
        rc = sig_json(obj, body, len, out, msg);
    if (rc != 0)
        sig_json_failed(obj, out, msg);
    json_object_put(obj);
    sig_put_err(err, errlen, rc == 0 ? "" : msg);
    return rc;
}

int sig_parse_body(const char *body, size_t len, sig_parsed *out, char *err, size_t errlen)
{
    size_t i = 0;

    sig_skip_bom(&body, &len);
    while (body != NULL && i < len && sig_is_blank(body[i]))
        i++;
    if (body != NULL && i < len && body[i] == '{')
        return sig_parse_json(body, len, out, err, errlen);
    return sig_parse_text(body, len, out, err, errlen);
}

static int sig_stop_ok(const char *name, double v, double ref, int below, double max_pct, char *msg)
{
    if (v <= 0)
        return 0;
    if (below ? !(v < ref) : !(v > ref))
        return sig_fail(msg, "%s: %.10g must be %s the price %.10g", name, v,
                        below ? "below" : "above", ref);
    double pct = fabs(v - ref) / ref * 100.0;
    if (max_pct > 0 && pct > max_pct)
        return sig_fail(msg, "%s: %.10g is %.0f%% away from the price %.10g (limit %g%%, "
                        "webhook.max_stop_distance_pct); for a distance use %s_pips", name, v, pct,
                        ref, max_pct, name);
    return 0;
}

int sig_resolve_stops(sig_parsed *s, double ref, double pip_size, double max_pct, char *err,
                      size_t errlen)
{
    char msg[SIG_MSG_MAX] = "";
    int buy = sig_side(s->action) == ZX_BUY, rc = 0;

    if (!sig_side(s->action))
        return 0;
    if ((s->sl_pips > 0 || s->tp_pips > 0) && !(ref > 0)) {
        rc = sig_fail(msg, "%s: no price is known for %s to measure the distance from (give price= "
                      "or send a quote first)", s->sl_pips > 0 ? "sl_pips" : "tp_pips", s->symbol);
    } else if ((s->sl_pips > 0 || s->tp_pips > 0) && !(pip_size > 0)) {
        rc = sig_fail(msg, "%s: the pip size of %s is unknown", s->sl_pips > 0 ? "sl_pips" : "tp_pips",
                      s->symbol);
    } else {
        if (s->sl_pips > 0)
            s->sl = buy ? ref - s->sl_pips * pip_size : ref + s->sl_pips * pip_size;
        if (s->tp_pips > 0)
            s->tp = buy ? ref + s->tp_pips * pip_size : ref - s->tp_pips * pip_size;
        if (s->sl_pips > 0 && !(s->sl > 0))
            rc = sig_fail(msg, "sl_pips: %.10g pips from %.10g is below zero", s->sl_pips, ref);
        else if (s->tp_pips > 0 && !(s->tp > 0))
            rc = sig_fail(msg, "tp_pips: %.10g pips from %.10g is below zero", s->tp_pips, ref);
        else if (ref > 0)
            rc = sig_stop_ok("sl", s->sl, ref, buy, max_pct, msg) ||
                 sig_stop_ok("tp", s->tp, ref, !buy, max_pct, msg) ? -1 : 0;
    }
    sig_put_err(err, errlen, msg);
    return rc;
}

const char *sig_action_name(zx_action a)
{
    if (a == SIG_CLOSE_ALL)
        return "close_all";
    if (a == SIG_CANCEL)
        return "cancel";
    if (a == SIG_CANCEL_LONG)
        return "cancel_long";
    if (a == SIG_CANCEL_SHORT)
        return "cancel_short";
    switch (a) {
    case ZX_BUY:         return "buy";
    case ZX_SELL:        return "sell";
    case ZX_CLOSE:       return "close";
    case ZX_CLOSE_LONG:  return "close_long";
    case ZX_CLOSE_SHORT: return "close_short";
    case ZX_BUY_LIMIT:   return "buy_limit";
    case ZX_BUY_STOP:    return "buy_stop";
    case ZX_SELL_LIMIT:  return "sell_limit";
    case ZX_SELL_STOP:   return "sell_stop";
    default:             return "?";
    }
}

int sig_is_pending(zx_action a)
{
    return a == ZX_BUY_LIMIT || a == ZX_BUY_STOP || a == ZX_SELL_LIMIT || a == ZX_SELL_STOP;
}

int sig_is_cancel(zx_action a)
{
    return a == SIG_CANCEL || a == SIG_CANCEL_LONG || a == SIG_CANCEL_SHORT;
}

zx_action sig_side(zx_action a)
{
    if (a == ZX_BUY || a == ZX_BUY_LIMIT || a == ZX_BUY_STOP)
        return ZX_BUY;
    if (a == ZX_SELL || a == ZX_SELL_LIMIT || a == ZX_SELL_STOP)
        return ZX_SELL;
    return 0;
}

int sig_action_parse(const char *word, zx_action *out)
{
    if (word == NULL)
        return -1;
    return sig_action_span(word, strlen(word), out);
}

/* ---- redaction ---- */

int sig_redact_body(const char *body, size_t len, char *out, size_t outlen)
{
    size_t i = 0, o = 0;
    if (outlen == 0)
        return -1;
    sig_skip_bom(&body, &len);
    while (i < len && sig_is_blank(body[i]))
        i++;
    if (i < len && body[i] == '{') {
        char msg[SIG_MSG_MAX];
        json_object *obj = sig_json_load(body, len, msg);
        if (!obj) {
            snprintf(out, outlen, "(unparsable JSON body, %zu bytes, not kept)", len);
            return 0;
        }
        /* Every key spelling "secret", whatever its case or escapes. */
        for (int again = 1; again;) {
            again = 0;
            json_object_object_foreach(obj, key, val) {
                (void)val;
                if (sig_ieq(key, strlen(key), "secret")) {
                    json_object_object_del(obj, key);
                    again = 1;
                    break;
                }
            }
        }
        snprintf(out, outlen, "%s", json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PLAIN));
        json_object_put(obj);
        return 0;
    }
    /* Text: the value of every secret= word becomes ***. */
    for (i = 0; i < len && o + 1 < outlen;) {
        int word_start = i == 0 || sig_is_blank(body[i - 1]);
        if (word_start && len - i >= 7 && sig_ieq(body + i, 7, "secret=")) {
            for (const char *r = "secret=***"; *r && o + 1 < outlen; r++)
                out[o++] = *r;
            i += 7;
            if (i < len && body[i] == '"') {
                for (i++; i < len && body[i] != '"'; i++)
                    ;
                i++;
            } else {
                while (i < len && !sig_is_blank(body[i]))
                    i++;
            }
            continue;
        }
        out[o++] = body[i] == '\0' ? '?' : body[i];
        i++;
    }
    out[o] = '\0';
    return 0;
}

/* ---- PineConnector lines (SPEC 12) ---- */

/* PineConnector's command words and what they become. */
static const struct {
    const char *word;
    zx_action action;
    int reverse;                /* close the opposite side first */
    const char *refused;        /* not supported: why */
} sig_pine_cmds[] = {
    {"buy", ZX_BUY, 0, NULL},               {"long", ZX_BUY, 0, NULL},
    {"bull", ZX_BUY, 0, NULL},              {"bullish", ZX_BUY, 0, NULL},
    {"sell", ZX_SELL, 0, NULL},             {"short", ZX_SELL, 0, NULL},
    {"bear", ZX_SELL, 0, NULL},             {"bearish", ZX_SELL, 0, NULL},
    {"closelong", ZX_CLOSE_LONG, 0, NULL},  {"closeshort", ZX_CLOSE_SHORT, 0, NULL},
    {"closeall", ZX_CLOSE, 0, NULL},
    {"closelongbuy", ZX_BUY, 1, NULL},      {"closeshortsell", ZX_SELL, 1, NULL},
    {"buylimit", ZX_BUY_LIMIT, 0, NULL},    {"buystop", ZX_BUY_STOP, 0, NULL},
    {"selllimit", ZX_SELL_LIMIT, 0, NULL},  {"sellstop", ZX_SELL_STOP, 0, NULL},
    {"cancellong", SIG_CANCEL_LONG, 0, NULL}, {"cancelshort", SIG_CANCEL_SHORT, 0, NULL},
    {"newsltplong", 0, 0, "use /modify to move a trade's SL/TP"},
    {"newsltpshort", 0, 0, "use /modify to move a trade's SL/TP"},
    {"eaon", 0, 0, "use /resume"},          {"eaoff", 0, 0, "use /pause"},
};

/* The next comma-separated field of s[0..len) from *pos, blanks trimmed; a
 * value in double quotes may hold commas. 0 at the end. */
static int sig_pine_field(const char *s, size_t len, size_t *pos, const char **p, size_t *n)
{
    size_t i = *pos, start, end;
    int quoted = 0;

    if (i > len)
        return 0;
    while (i < len && sig_is_blank(s[i]))
        i++;
    start = i;
    while (i < len && (quoted || s[i] != ',')) {
        if (s[i] == '"')
            quoted = !quoted;
        i++;
    }
    end = i;
    while (end > start && sig_is_blank(s[end - 1]))
        end--;
    *p = s + start;
    *n = end - start;
    *pos = i + 1;
    return 1;
}

static int sig_pine(const char *text, size_t len, sig_parsed *out, char *msg)
{
    char show[SIG_SHOW_MAX + 4], word[32];
    const char *p;
    size_t n, pos = 0, i;
    int field = 0;
    unsigned seen = 0;

    while (sig_pine_field(text, len, &pos, &p, &n)) {
        field++;
        if (field == 1) {
            if (sig_set_secret(out, p, n, msg) != 0)
                return -1;
            continue;
        }
        if (field == 2) {
            for (i = 0; i < sizeof sig_pine_cmds / sizeof sig_pine_cmds[0]; i++)
                if (sig_ieq(p, n, sig_pine_cmds[i].word))
                    break;
            if (i == sizeof sig_pine_cmds / sizeof sig_pine_cmds[0])
                return sig_fail(msg, "action: unknown PineConnector command '%s'", sig_show(show, p, n));
            if (sig_pine_cmds[i].refused)
                return sig_fail(msg, "action: PineConnector's %s is not supported: %s", sig_pine_cmds[i].word,
                                sig_pine_cmds[i].refused);
            out->action = sig_pine_cmds[i].action;
            out->reverse = sig_pine_cmds[i].reverse;
            continue;
        }
        if (field == 3) {
            if (n == 0)
                return sig_fail(msg, "symbol: missing");
            if (sig_set_symbol(out, p, n, msg) != 0)
                return -1;
            continue;
        }
        const char *eq = memchr(p, '=', n);
        if (n == 0)
            continue;               /* "buy,EURUSD,,risk=1" */
        if (!eq)
            return sig_fail(msg, "field %d: expected key=value, got '%s'", field, sig_show(show, p, n));
        size_t kn = (size_t)(eq - p), vn = n - kn - 1;
        const char *v = eq + 1;
        if (vn >= 2 && v[0] == '"' && v[vn - 1] == '"') {
            v++;
            vn -= 2;
        }
        /* PineConnector's keys: sl= and tp= are pips from the fill (the setting
         * it recommends), risk= is % of the balance lost at the stop, vol_lots=
         * a lot, price= a pending order's entry in pips from the quote (the
         * setting it recommends); zepix's own names work too. */
        int f;
        if (sig_ieq(p, kn, "price")) {
            if (!sig_is_pending(out->action))
                return sig_fail(msg, "price: PineConnector's price= is a pending order's entry (buylimit, buystop, "
                                "selllimit, sellstop)");
            if (seen & (1u << SIG_F_PRICE))
                return sig_fail(msg, "price: given twice");
            seen |= 1u << SIG_F_PRICE;
            if (vn == 0)
                return sig_fail(msg, "price: empty value (an unfilled alert placeholder?)");
            if (sig_set_number_text("price", v, vn, &out->entry_pips, msg) != 0)
                return -1;
            if (!(out->entry_pips > 0))
                return sig_fail(msg, "price: must be above 0 (pips from the current price)");
            continue;
        }
        if (sig_ieq(p, kn, "sl"))
            f = SIG_F_SL_PIPS;
        else if (sig_ieq(p, kn, "tp"))
            f = SIG_F_TP_PIPS;
        else if (sig_ieq(p, kn, "vol_lots"))
            f = SIG_F_LOT;
        else if (sig_ieq(p, kn, "risk") || sig_ieq(p, kn, "sl_pips") || sig_ieq(p, kn, "tp_pips") ||
                 sig_ieq(p, kn, "comment") || sig_ieq(p, kn, "id") || sig_ieq(p, kn, "plugin") ||
                 sig_ieq(p, kn, "secret") || sig_ieq(p, kn, "entry") || sig_ieq(p, kn, "expiry_s"))
            f = sig_field_lookup(p, kn);
        else
            return sig_fail(msg, "%s: PineConnector key not supported by zepix (see docs/tradingview.md)",
                            sig_show(show, p, kn < sizeof word ? kn : sizeof word - 1));
        if (seen & (1u << f))
            return sig_fail(msg, "%s: given twice", sig_field_names[f]);
        seen |= 1u << f;
        if (f == SIG_F_SECRET)
            continue;               /* the first field is the secret */
        if (sig_set_field(out, f, v, vn, msg) != 0)
            return -1;
    }
    if (field < 2)
        return sig_fail(msg, "action: missing (LicenseID,Command,Symbol,...)");
    return sig_check(out, msg);
}

int sig_is_pine(const char *body, size_t len, const char *secret)
{
    const char *p;
    size_t n, pos = 0;
    size_t sl = secret ? strlen(secret) : 0;

    if (sl == 0 || !memchr(body, ',', len) || !sig_pine_field(body, len, &pos, &p, &n))
        return 0;
    /* constant time in the secret's length: the secret is compared, not searched */
    unsigned char diff = (unsigned char)(n != sl);
    for (size_t i = 0; i < sl; i++)
        diff |= (unsigned char)((i < n ? p[i] : 0) ^ secret[i]);
    return diff == 0;
}

int sig_parse_pine(const char *text, size_t len, sig_parsed *out, char *err, size_t errlen)
{
    char msg[SIG_MSG_MAX] = "";

    memset(out, 0, sizeof *out);
    if (text == NULL)
        text = "";
    if (sig_pine(text, len, out, msg) == 0) {
        sig_put_err(err, errlen, "");
        return 0;
    }
    /* the first field is the secret: keep it for the 401 check, never quote it */
    const char *p;
    size_t n, pos = 0;
    sig_pine_field(text, len, &pos, &p, &n);
    sig_scrub_one(msg, 0, p, n);
    sig_scrub_one(msg, 1, p, n);
    sig_reset_keep_secret(out, p, n);
    sig_put_err(err, errlen, msg);
    return -1;
}
