/*
 * price_action_v6/plugin.c — "Price Action V6": takes a buy/sell only when the
 * recent ticks of the symbol confirm its direction, inside a UTC trading
 * session, with a global cap on open trades, fixed-fractional sizing, a default
 * SL and a TP at a reward:risk multiple. Optionally closes trades held too long.
 *
 * Ticks are mid prices (bid+ask)/2 sampled from api->quote on every signal and
 * on every position update, kept per symbol in pa6_logic's ring. All mutable
 * data lives in the pa6_state allocated by init (hot reload runs two builds).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "zepix_plugin.h"
#include "pa6_logic.h"

#define PA6_MAX_SYMBOLS 32
#define PA6_SCAN_MAX 128            /* open trades looked at per signal */
#define PA6_RETRY_MS 10000          /* pause after a failed max-hold close */

typedef struct pa6_state {
    zx_host *host;
    const zx_api *api;
    int confirm_ticks;              /* 0 = no confirmation */
    int session_start, session_end; /* minutes UTC; -1 = always */
    char session_text[32];          /* "08:00-17:00" for reasons */
    int max_open_trades;            /* 0 = no cap */
    double sl_pips, rr_ratio;       /* default SL; TP = rr_ratio * SL (0 = no TP) */
    double max_hold_minutes;        /* 0 = off */
    pa6_size_cfg size;
    int64_t hold_retry_after_ms;    /* no max-hold close before this */
    pa6_ring rings[PA6_MAX_SYMBOLS];
} pa6_state;

static const char *pa6_side(zx_action a)
{
    return a == ZX_BUY ? "BUY" : "SELL";
}

/* The ring of a symbol; a new or the least recently sampled slot if unseen. */
static pa6_ring *pa6_ring_for(pa6_state *st, const char *symbol)
{
    pa6_ring *oldest = &st->rings[0];
    for (int i = 0; i < PA6_MAX_SYMBOLS; i++) {
        pa6_ring *r = &st->rings[i];
        if (strcmp(r->symbol, symbol) == 0)
            return r;
        if (r->symbol[0] == '\0' || (oldest->symbol[0] != '\0' && r->last_ms < oldest->last_ms))
            oldest = r;
    }
    memset(oldest, 0, sizeof *oldest);
    snprintf(oldest->symbol, sizeof oldest->symbol, "%s", symbol);
    return oldest;
}

/* Sample the current mid of symbol (fallback: a signal's price). */
static pa6_ring *pa6_sample(pa6_state *st, const char *symbol, double fallback)
{
    double bid, ask, mid = fallback;
    if (st->api->quote(st->host, symbol, &bid, &ask) == 0 && bid > 0 && ask > 0)
        mid = (bid + ask) / 2;
    pa6_ring *r = pa6_ring_for(st, symbol);
    r->last_ms = st->api->now_ms(st->host);
    pa6_ring_push(r, mid);
    return r;
}

static int pa6_num(const pa6_state *st, const char *key, double def, double min, double max,
                   double *out)
{
    double v = st->api->config_number(st->host, key, def);
    if (!isfinite(v) || v < min || v > max) {
        st->api->log(st->host, ZX_LOG_ERROR, "config %s must be in [%g, %g], got %g", key, min,
                     max, v);
        return -1;
    }
    *out = v;
    return 0;
}

static int pa6_load_session(pa6_state *st)
{
    const char *a = st->api->config_string(st->host, "session_start", "");
    const char *b = st->api->config_string(st->host, "session_end", "");
    a = a != NULL ? a : "";
    b = b != NULL ? b : "";
    st->session_start = st->session_end = -1;
    if (a[0] == '\0' && b[0] == '\0')
        return 0;
    st->session_start = pa6_parse_hhmm(a);
    st->session_end = pa6_parse_hhmm(b);
    if (st->session_start < 0 || st->session_end < 0 || st->session_start == st->session_end) {
        st->api->log(st->host, ZX_LOG_ERROR, "config session_start/session_end must be two "
                     "different \"HH:MM\" times (UTC) or both empty, got \"%s\"/\"%s\"", a, b);
        return -1;
    }
    snprintf(st->session_text, sizeof st->session_text, "%s-%s", a, b);
    return 0;
}

static int pa6_load_config(pa6_state *st)
{
    double confirm = 0, max_open = 0;
    const double big = 1e9;
    if (pa6_num(st, "confirm_ticks", 3, 0, PA6_RING_SIZE - 1, &confirm) ||
        pa6_num(st, "max_open_trades", 3, 0, PA6_SCAN_MAX - 1, &max_open) ||
        pa6_num(st, "fraction_percent", 1.0, 0.001, 100, &st->size.fraction_percent) ||
        pa6_num(st, "sl_pips", 20, 0.1, big, &st->sl_pips) ||
        pa6_num(st, "rr_ratio", 2.0, 0, 100, &st->rr_ratio) ||
        pa6_num(st, "min_lot", 0.01, 1e-6, big, &st->size.min_lot) ||
        pa6_num(st, "lot_step", 0.01, 1e-6, big, &st->size.lot_step) ||
        pa6_num(st, "max_lot_size", 0, 0, big, &st->size.max_lot_size) ||
        pa6_num(st, "max_hold_minutes", 0, 0, big, &st->max_hold_minutes))
        return -1;
    st->confirm_ticks = (int)confirm;
    st->max_open_trades = (int)max_open;
    return pa6_load_session(st);
}

static int pa6_init(zx_host *host, const zx_api *api, void **state)
{
    if (!ZX_API_HAS(api, symbol_info)) {
        api->log(host, ZX_LOG_ERROR, "host too old: zx_api has no symbol_info");
        return -1;
    }
    pa6_state *st = calloc(1, sizeof *st);
    if (st == NULL)
        return -1;
    st->host = host;
    st->api = api;
    if (pa6_load_config(st) != 0) {
        free(st);
        return -1;
    }
    api->log(host, ZX_LOG_INFO, "ready: confirm %d tick(s), session %s, max_open_trades %d, "
             "risk %g%%, sl %g pips, rr %g", st->confirm_ticks,
             st->session_start < 0 ? "always" : st->session_text, st->max_open_trades,
             st->size.fraction_percent, st->sl_pips, st->rr_ratio);
    *state = st;
    return 0;
}

static void pa6_shutdown(void *state)
{
    pa6_state *st = state;
    st->api->log(st->host, ZX_LOG_INFO, "shutdown");
    free(st);
}

/* Session, trade count, position on the symbol, confirmation. */
static int pa6_check_gates(pa6_state *st, const zx_signal *sig, const pa6_ring *r,
                           char *reason, size_t len)
{
    int64_t now = st->api->now_ms(st->host);
    if (!pa6_in_session(st->session_start, st->session_end, now)) {
        int m = (int)((now / 60000) % 1440);
        snprintf(reason, len, "outside the trading session %s UTC (now %02d:%02d)",
                 st->session_text, m / 60, m % 60);
        return -1;
    }
    zx_position open[PA6_SCAN_MAX];
    int n = st->api->open_trades(st->host, open, PA6_SCAN_MAX);
    if (n < 0) {
        snprintf(reason, len, "cannot list open trades");
        return -1;
    }
    if (st->max_open_trades > 0 && n >= st->max_open_trades) {
        snprintf(reason, len, "max_open_trades (%d) reached", st->max_open_trades);
        return -1;
    }
    for (int i = 0; i < n; i++) {
        if (strcmp(open[i].symbol, sig->symbol) == 0) {
            snprintf(reason, len, "already holding a %s on %s", pa6_side(open[i].side),
                     sig->symbol);
            return -1;
        }
    }
    int run = pa6_ring_run(r);
    int want = sig->action == ZX_BUY ? 1 : -1;
    if (st->confirm_ticks > 0 && run * want < st->confirm_ticks) {
        snprintf(reason, len, "not confirmed by price action (need %d %s tick(s), last moves: %d %s)",
                 st->confirm_ticks, want > 0 ? "rising" : "falling", run < 0 ? -run : run,
                 run > 0 ? "up" : run < 0 ? "down" : "-");
        return -1;
    }
    return 0;
}

/* Entry price, stops and lot into sig. */
static int pa6_plan(pa6_state *st, zx_signal *sig, char *reason, size_t len)
{
    double bid, ask, pip_size, pip_value, balance, equity;
    double entry = sig->price;
    if (entry <= 0 && st->api->quote(st->host, sig->symbol, &bid, &ask) == 0)
        entry = sig->action == ZX_BUY ? ask : bid;
    if (entry <= 0) {
        snprintf(reason, len, "no price known for %s", sig->symbol);
        return -1;
    }
    if (st->api->symbol_info(st->host, sig->symbol, &pip_size, &pip_value) != 0 || pip_size <= 0) {
        snprintf(reason, len, "no pip data for %s", sig->symbol);
        return -1;
    }
    double dir = sig->action == ZX_BUY ? 1.0 : -1.0;
    double sl_pips = st->sl_pips;
    if (sig->sl > 0) {
        sl_pips = dir * (entry - sig->sl) / pip_size;
        if (sl_pips <= 0) {
            snprintf(reason, len, "sl %g is not %s the entry %g", sig->sl,
                     dir > 0 ? "below" : "above", entry);
            return -1;
        }
    } else {
        sig->sl = entry - dir * sl_pips * pip_size;
    }
    if (sig->tp == 0 && st->rr_ratio > 0)
        sig->tp = entry + dir * st->rr_ratio * sl_pips * pip_size;
    if (sig->lot > 0)
        return 0;                   /* an explicit lot= wins; the host still caps it */
    if (st->api->account(st->host, &balance, &equity) != 0 || balance <= 0) {
        snprintf(reason, len, "account balance unknown: cannot size the trade");
        return -1;
    }
    return pa6_fixed_fractional_lot(&st->size, balance, sl_pips, pip_value, &sig->lot, reason, len);
}

static zx_verdict pa6_on_signal_received(void *state, zx_signal *sig, char *reason,
                                         size_t reason_len)
{
    pa6_state *st = state;
    pa6_ring *r = pa6_sample(st, sig->symbol, sig->price);
    if (sig->action != ZX_BUY && sig->action != ZX_SELL)
        return ZX_ACCEPT;           /* closes: the host closes our trades, any time */
    if (pa6_check_gates(st, sig, r, reason, reason_len) != 0 ||
        pa6_plan(st, sig, reason, reason_len) != 0) {
        st->api->log(st->host, ZX_LOG_INFO, "reject %s %s: %s", pa6_side(sig->action),
                     sig->symbol, reason);
        return ZX_REJECT;
    }
    st->api->log(st->host, ZX_LOG_INFO, "accept %s %s lot %g sl %g tp %g", pa6_side(sig->action),
                 sig->symbol, sig->lot, sig->sl, sig->tp);
    return ZX_ACCEPT;
}

static void pa6_on_order_placed(void *state, const zx_order *o)
{
    pa6_state *st = state;
    st->api->log(st->host, ZX_LOG_INFO, "trade %lld: %s %g %s at %g", (long long)o->trade_id,
                 pa6_side(o->side), o->lot, o->symbol, o->price);
}

static void pa6_on_position_update(void *state, const zx_position *pos)
{
    pa6_state *st = state;
    if (pos->closed)
        return;                     /* nothing to sample or manage any more */
    pa6_sample(st, pos->symbol, 0);
    if (st->max_hold_minutes <= 0)
        return;
    int64_t now = st->api->now_ms(st->host);
    if (now < st->hold_retry_after_ms ||
        (double)(now - pos->open_time_ms) < st->max_hold_minutes * 60000.0)
        return;
    char err[160];
    if (st->api->close_trade(st->host, pos->trade_id, 0, err, sizeof err) == 0) {
        st->api->log(st->host, ZX_LOG_INFO, "closed trade %lld after max_hold_minutes %g",
                     (long long)pos->trade_id, st->max_hold_minutes);
    } else {
        st->hold_retry_after_ms = now + PA6_RETRY_MS;
        st->api->log(st->host, ZX_LOG_WARN, "max-hold close of trade %lld failed: %s",
                     (long long)pos->trade_id, err);
    }
}

static void pa6_on_daily_reset(void *state, const zx_daily *day)
{
    pa6_state *st = state;
    st->api->log(st->host, ZX_LOG_INFO, "day %s: %d trade(s), win rate %.0f%%, profit %.2f",
                 day->date, day->total_trades, day->win_rate, day->total_profit);
}

static void pa6_on_plugin_enabled(void *state)
{
    pa6_state *st = state;
    st->api->log(st->host, ZX_LOG_INFO, "enabled");
}

static void pa6_on_plugin_disabled(void *state)
{
    pa6_state *st = state;
    st->api->log(st->host, ZX_LOG_INFO, "disabled");
}

static const zx_plugin_def pa6_def = {
    .abi_version = ZX_PLUGIN_ABI_VERSION,
    .id = "price_action_v6",
    .name = "Price Action V6",
    .version = "6.0.0",
    .author = "Zepix Team",
    .init = pa6_init,
    .shutdown = pa6_shutdown,
    .on_signal_received = pa6_on_signal_received,
    .on_order_placed = pa6_on_order_placed,
    .on_position_update = pa6_on_position_update,
    .on_daily_reset = pa6_on_daily_reset,
    .on_plugin_enabled = pa6_on_plugin_enabled,
    .on_plugin_disabled = pa6_on_plugin_disabled,
};

const zx_plugin_def *zx_plugin_entry(void)
{
    return &pa6_def;
}
