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
#define SIG_SYMBOL_MAX 31
#define SIG_ID_MAX 128                     /* bytes of printable UTF-8 (SPEC 12) */
#define SIG_COMMENT_MAX 255
#define SIG_SECRET_MAX 255

/* close_all (SPEC 12): every open trade of the plugin(s), any symbol. A host
 * action: plugins (ABI 1) never see it; the host closes their trades and the
 * closes reach them as position updates. */
#define SIG_CLOSE_ALL ((zx_action)100)
/* cancel (SPEC 12): the plugin's working (pending) orders on the symbol; also
 * a host action. PineConnector's cancellong / cancelshort cancel only the
 * buy / sell ones (no word of the text grammar). */
#define SIG_CANCEL ((zx_action)101)
#define SIG_CANCEL_LONG ((zx_action)102)
#define SIG_CANCEL_SHORT ((zx_action)103)
#define SIG_EXPIRY_MAX_S 31622400          /* expiry_s: at most 366 days */

typedef struct sig_parsed {
    char plugin[SIG_PLUGIN_MAX + 1];   /* "" = every enabled plugin ("all" maps to "") */
    zx_action action;
    char symbol[SIG_SYMBOL_MAX + 1];   /* [A-Z0-9._]{1,31}, prefix "FX:" dropped; intake.c
                                        * then gives it the configured spelling */
    double price, sl, tp, lot;         /* 0 = not given; never negative, always finite */
    double sl_pips, tp_pips;           /* distances from the fill in pips; 0 = not given;
                                        * never given together with sl / tp */
    double risk;                       /* percent of the balance lost at the stop; the host
                                        * sizes the lot (intake.c); never with lot */
    double entry;                      /* pending actions: the price the order waits for
                                        * (> 0; required unless entry_pips); 0 otherwise */
    double entry_pips;                 /* PineConnector's price=: the entry as pips from the
                                        * quote (intake.c makes it entry); never with entry */
    double expiry_s;                   /* pending actions: cancelled after this many seconds
                                        * (a whole number 1..SIG_EXPIRY_MAX_S); 0 = never */
    int reverse;                       /* PineConnector's closelongbuy/closeshortsell: close
                                        * the opposite side first */
    char sizing[200];                  /* how intake.c sized the lot from risk ("" = not) */
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

/* PineConnector lines (SPEC 12): is body "SECRET,command,symbol,..." with this
 * secret (never "" ) as its first field? Then sig_parse_pine reads it: sl= and
 * tp= in pips, risk= in % of the balance, vol_lots= a lot, closelongbuy /
 * closeshortsell reverse, buylimit / buystop / selllimit / sellstop with
 * price= in pips from the quote (entry_pips), cancellong / cancelshort. The secret is kept in
 * out->secret and never quoted in err. */
int sig_is_pine(const char *body, size_t len, const char *secret);
int sig_parse_pine(const char *text, size_t len, sig_parsed *out, char *err, size_t errlen);

/* A copy of a webhook body fit to keep: a JSON body re-serialised without any
 * key spelling "secret" (any case, any escapes), a text body with every
 * secret= value replaced by ***. Always NUL-terminates out. 0, or -1. */
int sig_redact_body(const char *body, size_t len, char *out, size_t outlen);

/* The stops of an opening signal against its reference price ref (the price
 * it is expected to fill at, a pending order's entry; 0 = unknown): sl_pips / tp_pips become sl / tp
 * (pip_size: the symbol's), then sl and tp must be on the losing / winning side
 * of ref and within max_pct percent of it (0 = no distance limit): an SL of
 * "20" on EURUSD at 1.085 is pips typed as a price and is refused naming the
 * field, with a hint to use sl_pips. Closing actions pass untouched. 0, or -1
 * with a reason naming the field. */
int sig_resolve_stops(sig_parsed *s, double ref, double pip_size, double max_pct, char *err,
                      size_t errlen);

/* The one symbol rule. sig_symbol_norm: p[0..n) without an exchange prefix
 * ("FX:EURUSD"), upper-cased, [A-Z0-9._]{1,31}; 0, or -1 (out is ""). The
 * configured spelling of a symbol may use lower case ("EURUSD.pro", the
 * broker's name): sig_symbol_valid accepts [A-Za-z0-9._]{1,31}. */
int sig_symbol_norm(const char *p, size_t n, char out[SIG_SYMBOL_MAX + 1]);
int sig_symbol_valid(const char *s);

/* "buy", "sell", "close", "close_long", "close_short", "close_all", "buy_limit",
 * "buy_stop", "sell_limit", "sell_stop", "cancel", "cancel_long", "cancel_short"
 * ("?" otherwise). */
const char *sig_action_name(zx_action a);

/* 1 for buy_limit, buy_stop, sell_limit, sell_stop. */
int sig_is_pending(zx_action a);
/* 1 for cancel, cancel_long, cancel_short. */
int sig_is_cancel(zx_action a);
/* The side an action opens: ZX_BUY for buy and the buy pending orders, ZX_SELL
 * for sell and the sell ones, 0 for the rest. */
zx_action sig_side(zx_action a);

/* Parse an action word (case-insensitive; long = buy, short = sell). -1 if none. */
int sig_action_parse(const char *word, zx_action *out);

#endif
