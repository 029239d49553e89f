/*
 * ptest_mock.h — a mock zx_api for plugin unit tests (tests/ptest_<id>.c).
 *
 * Include it in exactly one test file, which is linked with the plugin's own
 * .c files. The mock is a tiny in-memory host: symbols with quotes and pip
 * values, an account, the plugin's config as a key/value table, a clock, and a
 * list of open trades that place_order / close_trade / modify_trade really
 * change, so a test can drive several hooks in a row. Every call is recorded
 * (orders, closes, modifies, notify texts, log lines) for the assertions.
 *
 * Everything is static inline: unused helpers cost nothing and raise no
 * -Wunused-function. Set PTEST_VERBOSE=1 to see the plugin's log lines.
 */
#ifndef PTEST_MOCK_H
#define PTEST_MOCK_H

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "zepix_plugin.h"

struct zx_host { int tag; };            /* opaque to plugins; the mock's handle */

#define MOCK_MAX 64
#define MOCK_TEXT 256
/* 2024-01-02 10:00:00 UTC in milliseconds. */
#define MOCK_T0_MS 1704189600000LL

typedef struct mock_symbol {
    char name[32];
    double bid, ask;
    int has_quote;
    double pip_size, pip_value;         /* pip value per 1.0 lot, account money */
} mock_symbol;

typedef enum { MOCK_NUM, MOCK_STR, MOCK_BOOL } mock_kind;

typedef struct mock_cfg_entry {
    char key[48];
    mock_kind kind;
    double num;
    char str[MOCK_TEXT];
} mock_cfg_entry;

typedef struct mock_close { int64_t trade_id; double lot; } mock_close;
typedef struct mock_modify { int64_t trade_id; double sl, tp; } mock_modify;

typedef struct mock_world {
    struct zx_host host;
    zx_api api;
    mock_symbol syms[8];
    int nsyms;
    mock_cfg_entry cfg[48];
    int ncfg;
    double balance, equity;
    int account_ok;
    int64_t now_ms;
    sqlite3 *db;                        /* what api->db returns (NULL by default) */
    zx_position open[MOCK_MAX];         /* the plugin's open trades */
    int nopen;
    int64_t next_trade_id;
    zx_order placed[MOCK_MAX];
    int nplaced;
    mock_close closes[MOCK_MAX];
    int ncloses;
    mock_modify modifies[MOCK_MAX];
    int nmodifies;
    char notes[16][MOCK_TEXT];
    int nnotes;
    char last_log[512];
    int nlogs, nwarnings;               /* nwarnings: WARN and ERROR lines */
    int ncalls;                         /* every API call, log included */
    int bad_handle;                     /* calls with a handle that is not ours */
    int fail_place, fail_close, fail_modify, fail_open_trades;
} mock_world;

static mock_world g_mock;

static inline int mock_enter(zx_host *h)
{
    g_mock.ncalls++;
    if (h != &g_mock.host) {
        g_mock.bad_handle++;
        return -1;
    }
    return 0;
}

static inline void mock_err(char *err, size_t len, const char *msg)
{
    if (err != NULL && len > 0)
        snprintf(err, len, "%s", msg);
}

static inline mock_symbol *mock_sym(const char *name)
{
    for (int i = 0; i < g_mock.nsyms; i++)
        if (strcmp(g_mock.syms[i].name, name) == 0)
            return &g_mock.syms[i];
    return NULL;
}

static inline zx_position *mock_find_open(int64_t trade_id)
{
    for (int i = 0; i < g_mock.nopen; i++)
        if (g_mock.open[i].trade_id == trade_id)
            return &g_mock.open[i];
    return NULL;
}

/* ---- the zx_api members ---- */

static inline int mock_place_order(zx_host *h, const zx_order_req *req, zx_order *out,
                                   char *err, size_t errlen)
{
    if (mock_enter(h) != 0 || g_mock.fail_place || g_mock.nopen == MOCK_MAX ||
        g_mock.nplaced == MOCK_MAX) {
        mock_err(err, errlen, "mock: order refused");
        return -1;
    }
    mock_symbol *s = mock_sym(req->symbol);
    zx_order o;
    memset(&o, 0, sizeof o);
    o.trade_id = g_mock.next_trade_id++;
    o.order_id = 1000 + o.trade_id;
    o.side = req->side;
    snprintf(o.symbol, sizeof o.symbol, "%s", req->symbol);
    o.lot = req->lot;
    o.price = s != NULL && s->has_quote ? (req->side == ZX_BUY ? s->ask : s->bid) : 0;
    o.sl = req->sl;
    o.tp = req->tp;
    o.time_ms = g_mock.now_ms;
    g_mock.placed[g_mock.nplaced++] = o;
    zx_position *p = &g_mock.open[g_mock.nopen++];
    memset(p, 0, sizeof *p);
    p->trade_id = o.trade_id;
    p->order_id = o.order_id;
    p->side = o.side;
    memcpy(p->symbol, o.symbol, sizeof p->symbol);
    p->lot = o.lot;
    p->entry_price = p->current_price = o.price;
    p->sl = o.sl;
    p->tp = o.tp;
    p->open_time_ms = o.time_ms;
    p->close_reason = "";
    if (out != NULL)
        *out = o;
    return 0;
}

static inline int mock_close_trade(zx_host *h, int64_t trade_id, double lot, char *err,
                                   size_t errlen)
{
    if (mock_enter(h) != 0) {
        mock_err(err, errlen, "mock: bad handle");
        return -1;
    }
    zx_position *p = mock_find_open(trade_id);
    if (p == NULL || g_mock.fail_close || g_mock.ncloses == MOCK_MAX) {
        mock_err(err, errlen, p == NULL ? "mock: no such open trade" : "mock: close refused");
        return -1;
    }
    g_mock.closes[g_mock.ncloses++] = (mock_close){ trade_id, lot };
    if (lot <= 0 || lot >= p->lot - 1e-9)
        *p = g_mock.open[--g_mock.nopen];
    else
        p->lot -= lot;
    return 0;
}

static inline int mock_modify_trade(zx_host *h, int64_t trade_id, double sl, double tp,
                                    char *err, size_t errlen)
{
    if (mock_enter(h) != 0) {
        mock_err(err, errlen, "mock: bad handle");
        return -1;
    }
    zx_position *p = mock_find_open(trade_id);
    if (p == NULL || g_mock.fail_modify || g_mock.nmodifies == MOCK_MAX) {
        mock_err(err, errlen, p == NULL ? "mock: no such open trade" : "mock: modify refused");
        return -1;
    }
    g_mock.modifies[g_mock.nmodifies++] = (mock_modify){ trade_id, sl, tp };
    if (sl >= 0)
        p->sl = sl;
    if (tp >= 0)
        p->tp = tp;
    return 0;
}

static inline int mock_open_trades(zx_host *h, zx_position *out, int max)
{
    if (mock_enter(h) != 0 || g_mock.fail_open_trades)
        return -1;
    int n = g_mock.nopen < max ? g_mock.nopen : max;
    memcpy(out, g_mock.open, (size_t)n * sizeof *out);
    return n;
}

static inline int mock_quote(zx_host *h, const char *symbol, double *bid, double *ask)
{
    mock_symbol *s = mock_sym(symbol);
    if (mock_enter(h) != 0 || s == NULL || !s->has_quote)
        return -1;
    *bid = s->bid;
    *ask = s->ask;
    return 0;
}

static inline int mock_notify(zx_host *h, const char *text)
{
    if (mock_enter(h) != 0)
        return -1;
    if (g_mock.nnotes < 16)
        snprintf(g_mock.notes[g_mock.nnotes++], MOCK_TEXT, "%s", text);
    return 0;
}

static inline sqlite3 *mock_db(zx_host *h)
{
    return mock_enter(h) == 0 ? g_mock.db : NULL;
}

static inline mock_cfg_entry *mock_cfg_find(const char *key, mock_kind kind)
{
    for (int i = 0; i < g_mock.ncfg; i++)
        if (strcmp(g_mock.cfg[i].key, key) == 0)
            return g_mock.cfg[i].kind == kind ? &g_mock.cfg[i] : NULL;
    return NULL;
}

static inline const char *mock_config_string(zx_host *h, const char *key, const char *def)
{
    mock_cfg_entry *e = mock_cfg_find(key, MOCK_STR);
    return mock_enter(h) == 0 && e != NULL ? e->str : def;
}

static inline double mock_config_number(zx_host *h, const char *key, double def)
{
    mock_cfg_entry *e = mock_cfg_find(key, MOCK_NUM);
    return mock_enter(h) == 0 && e != NULL ? e->num : def;
}

static inline int mock_config_bool(zx_host *h, const char *key, int def)
{
    mock_cfg_entry *e = mock_cfg_find(key, MOCK_BOOL);
    return mock_enter(h) == 0 && e != NULL ? (int)e->num : def;
}

#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
static inline void mock_log(zx_host *h, int level, const char *fmt, ...)
{
    va_list ap;
    mock_enter(h);
    va_start(ap, fmt);
    vsnprintf(g_mock.last_log, sizeof g_mock.last_log, fmt, ap);
    va_end(ap);
    g_mock.nlogs++;
    if (level >= ZX_LOG_WARN)
        g_mock.nwarnings++;
    if (getenv("PTEST_VERBOSE") != NULL)
        fprintf(stderr, "  [plugin %d] %s\n", level, g_mock.last_log);
}

static inline int64_t mock_now_ms(zx_host *h)
{
    mock_enter(h);
    return g_mock.now_ms;
}

static inline int mock_account(zx_host *h, double *balance, double *equity)
{
    if (mock_enter(h) != 0 || !g_mock.account_ok)
        return -1;
    *balance = g_mock.balance;
    *equity = g_mock.equity;
    return 0;
}

static inline int mock_symbol_info(zx_host *h, const char *symbol, double *pip_size,
                                   double *pip_value_per_lot)
{
    mock_symbol *s = mock_sym(symbol);
    if (mock_enter(h) != 0 || s == NULL)
        return -1;
    *pip_size = s->pip_size;
    *pip_value_per_lot = s->pip_value;
    return 0;
}

/* ---- set-up helpers ---- */

/* A fresh world: balance/equity 10000, clock at MOCK_T0_MS, no symbols, no config. */
static inline void mock_reset(void)
{
    memset(&g_mock, 0, sizeof g_mock);
    g_mock.api = (zx_api){
        .abi_version = ZX_PLUGIN_ABI_VERSION, .size = sizeof(zx_api),
        .place_order = mock_place_order, .close_trade = mock_close_trade,
        .modify_trade = mock_modify_trade, .open_trades = mock_open_trades,
        .quote = mock_quote, .notify = mock_notify, .db = mock_db,
        .config_string = mock_config_string, .config_number = mock_config_number,
        .config_bool = mock_config_bool, .log = mock_log, .now_ms = mock_now_ms,
        .account = mock_account, .symbol_info = mock_symbol_info,
    };
    g_mock.balance = g_mock.equity = 10000;
    g_mock.account_ok = 1;
    g_mock.now_ms = MOCK_T0_MS;
    g_mock.next_trade_id = 1;
}

/* Add or replace a symbol; bid/ask 0 = no quote known. */
static inline void mock_symbol_set(const char *name, double bid, double ask, double pip_size,
                                   double pip_value)
{
    mock_symbol *s = mock_sym(name);
    if (s == NULL && g_mock.nsyms < 8)
        s = &g_mock.syms[g_mock.nsyms++];
    if (s == NULL)
        return;
    snprintf(s->name, sizeof s->name, "%s", name);
    s->bid = bid;
    s->ask = ask;
    s->has_quote = bid > 0 && ask > 0;
    s->pip_size = pip_size;
    s->pip_value = pip_value;
}

static inline void mock_quote_set(const char *name, double bid, double ask)
{
    mock_symbol *s = mock_sym(name);
    if (s != NULL) {
        s->bid = bid;
        s->ask = ask;
        s->has_quote = bid > 0 && ask > 0;
    }
}

static inline mock_cfg_entry *mock_cfg_slot(const char *key, mock_kind kind)
{
    mock_cfg_entry *e = NULL;
    for (int i = 0; i < g_mock.ncfg && e == NULL; i++)
        if (strcmp(g_mock.cfg[i].key, key) == 0)
            e = &g_mock.cfg[i];
    if (e == NULL && g_mock.ncfg < 48)
        e = &g_mock.cfg[g_mock.ncfg++];
    if (e != NULL) {
        memset(e, 0, sizeof *e);
        snprintf(e->key, sizeof e->key, "%s", key);
        e->kind = kind;
    }
    return e;
}

static inline void mock_cfg_num(const char *key, double v)
{
    mock_cfg_entry *e = mock_cfg_slot(key, MOCK_NUM);
    if (e != NULL)
        e->num = v;
}

static inline void mock_cfg_str(const char *key, const char *v)
{
    mock_cfg_entry *e = mock_cfg_slot(key, MOCK_STR);
    if (e != NULL)
        snprintf(e->str, sizeof e->str, "%s", v);
}

static inline void mock_cfg_bool(const char *key, int v)
{
    mock_cfg_entry *e = mock_cfg_slot(key, MOCK_BOOL);
    if (e != NULL)
        e->num = v ? 1 : 0;
}

/* An open trade as if the host had executed an accepted signal; returns its id. */
static inline int64_t mock_add_open(zx_action side, const char *symbol, double lot,
                                    double entry, double sl, double tp)
{
    if (g_mock.nopen == MOCK_MAX)
        return -1;
    zx_position *p = &g_mock.open[g_mock.nopen++];
    memset(p, 0, sizeof *p);
    p->trade_id = g_mock.next_trade_id++;
    p->order_id = 1000 + p->trade_id;
    p->side = side;
    snprintf(p->symbol, sizeof p->symbol, "%s", symbol);
    p->lot = lot;
    p->entry_price = p->current_price = entry;
    p->sl = sl;
    p->tp = tp;
    p->open_time_ms = g_mock.now_ms;
    p->close_reason = "";
    return p->trade_id;
}

/* The update the host would send for open trade trade_id at close price
 * `price` (bid for a buy, ask for a sell), valued with the symbol's pip data. */
static inline zx_position mock_update_for(int64_t trade_id, double price)
{
    zx_position pos;
    memset(&pos, 0, sizeof pos);
    zx_position *p = mock_find_open(trade_id);
    if (p == NULL)
        return pos;
    p->current_price = price;
    pos = *p;
    mock_symbol *s = mock_sym(p->symbol);
    double dir = p->side == ZX_BUY ? 1.0 : -1.0;
    if (s != NULL && s->pip_size > 0) {
        pos.profit_pips = dir * (price - p->entry_price) / s->pip_size;
        pos.profit_money = pos.profit_pips * s->pip_value * p->lot;
    }
    return pos;
}

/* A signal as the host hands it over: lot_multiplier 1, comment "". */
static inline zx_signal mock_signal(zx_action action, const char *symbol)
{
    zx_signal sig;
    memset(&sig, 0, sizeof sig);
    sig.id = 1;
    sig.source = "console";
    sig.action = action;
    snprintf(sig.symbol, sizeof sig.symbol, "%s", symbol);
    sig.lot_multiplier = 1.0;
    sig.comment = "";
    return sig;
}

/* Run def->init against the mock; returns its result. */
static inline int mock_init(const zx_plugin_def *def, void **state)
{
    *state = NULL;
    return def->init(&g_mock.host, &g_mock.api, state);
}

/* Forget recorded calls (the world stays as it is). */
static inline void mock_clear_records(void)
{
    g_mock.nplaced = g_mock.ncloses = g_mock.nmodifies = g_mock.nnotes = 0;
    g_mock.ncalls = g_mock.nlogs = g_mock.nwarnings = 0;
}

/* assert_near(a, b): doubles equal within 1e-9 (cmocka 1.1 compares floats
 * only in single precision). Needs <cmocka.h> included before this header. */
#if defined(fail_msg)
#define assert_near(a, b) do { \
        double a_ = (a), b_ = (b), d_ = a_ - b_; \
        if (d_ > 1e-9 || d_ < -1e-9) \
            fail_msg("%s = %.10g, expected %.10g", #a, a_, b_); \
    } while (0)
#endif

#endif
