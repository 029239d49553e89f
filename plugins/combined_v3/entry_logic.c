/*
 * entry_logic.c — combined_v3's entry side: symbol filter, one-position rule,
 * reversal on an opposite signal, default stops and risk-based sizing.
 *
 * Invariant: a ZX_REJECT leaves no side effect behind — everything that can
 * refuse (filter, position rule, stops, sizing) runs before the first
 * close_trade. The only exception is a close that fails half way through a
 * reversal; the reason then says which trade is still open.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "entry_logic.h"

#define CV3_SCAN_MAX 128        /* open trades looked at per signal */
#define CV3_EPS 1e-9

static const char *cv3_side_name(zx_action side)
{
    return side == ZX_BUY ? "BUY" : "SELL";
}

int cv3_entry_symbol_allowed(const char *list, const char *symbol)
{
    if (list == NULL)
        return 1;
    size_t symlen = strlen(symbol);
    int any = 0;
    const char *p = list;
    while (*p != '\0') {
        while (*p == ',' || *p == ' ' || *p == '\t')
            p++;
        const char *start = p;
        while (*p != '\0' && *p != ',')
            p++;
        const char *end = p;
        while (end > start && (end[-1] == ' ' || end[-1] == '\t'))
            end--;
        if (end > start) {
            any = 1;
            if ((size_t)(end - start) == symlen && strncasecmp(start, symbol, symlen) == 0)
                return 1;
        }
    }
    return !any;                /* a list of only blanks and commas means "all" */
}

double cv3_entry_round_down(double lot, double step)
{
    if (step <= 0)
        return lot;
    double n = floor(lot / step + CV3_EPS);
    return round(n * step * 1e8) / 1e8;     /* 0.5 rather than 0.50000000000000011 */
}

int cv3_entry_risk_lot(const cv3_entry_cfg *cfg, double balance, double sl_pips,
                       double pip_value_per_lot, double *lot, char *err, size_t errlen)
{
    if (cfg->risk_percentage <= 0 || balance <= 0 || sl_pips <= 0 || pip_value_per_lot <= 0) {
        snprintf(err, errlen, "risk sizing needs risk_percentage, balance, sl and pip value > 0");
        return -1;
    }
    double risk_money = balance * cfg->risk_percentage / 100.0;
    double raw = risk_money / (sl_pips * pip_value_per_lot);
    double rounded = cv3_entry_round_down(raw, cfg->lot_step);
    if (rounded <= 0 || rounded < cfg->min_lot - CV3_EPS) {
        snprintf(err, errlen, "risk too small for min lot (%.2f risked over %.1f pips = %.4f lot < %g)",
                 risk_money, sl_pips, raw, cfg->min_lot);
        return -1;
    }
    if (cfg->max_lot_size > 0 && rounded > cfg->max_lot_size)
        rounded = cfg->max_lot_size;
    *lot = rounded;
    return 0;
}

void cv3_entry_default_stops(const cv3_entry_cfg *cfg, zx_action side, double entry,
                             double pip_size, double *sl, double *tp)
{
    if (entry <= 0 || pip_size <= 0)
        return;
    double dir = side == ZX_BUY ? 1.0 : -1.0;
    if (*sl == 0 && cfg->default_sl_pips > 0)
        *sl = entry - dir * cfg->default_sl_pips * pip_size;
    if (*tp == 0 && cfg->default_tp_pips > 0)
        *tp = entry + dir * cfg->default_tp_pips * pip_size;
}

cv3_entry_kind cv3_entry_decide(const cv3_entry_cfg *cfg, zx_action side, const char *symbol,
                                int same, int opposite, char *reason, size_t reason_len)
{
    if (same > 0 && !cfg->pyramiding) {
        snprintf(reason, reason_len, "already holding %d %s trade(s) on %s (pyramiding off)",
                 same, cv3_side_name(side), symbol);
        return CV3_ENTRY_REJECT;
    }
    if (same > 0 && same >= cfg->max_positions_per_symbol) {
        snprintf(reason, reason_len, "max_positions_per_symbol (%d) reached on %s",
                 cfg->max_positions_per_symbol, symbol);
        return CV3_ENTRY_REJECT;
    }
    if (opposite > 0)
        return cfg->reverse_on_opposite ? CV3_ENTRY_CLOSE_THEN_OPEN : CV3_ENTRY_CLOSE_ONLY;
    return CV3_ENTRY_OPEN;
}

/* The price a new trade would open at: the signal's, else ask for a buy and
 * bid for a sell; 0 when neither is known. */
static double cv3_entry_price(zx_host *h, const zx_api *api, const zx_signal *sig)
{
    double bid, ask;
    if (sig->price > 0)
        return sig->price;
    if (api->quote(h, sig->symbol, &bid, &ask) == 0)
        return sig->action == ZX_BUY ? ask : bid;
    return 0;
}

/* Stops on the wrong side of the entry would fill and stop out at once. */
static int cv3_entry_check_stops(const zx_signal *sig, double entry, char *reason, size_t len)
{
    double dir = sig->action == ZX_BUY ? 1.0 : -1.0;
    if (entry <= 0)
        return 0;
    if (sig->sl > 0 && dir * (entry - sig->sl) <= 0) {
        snprintf(reason, len, "sl %g is not %s the entry %g", sig->sl,
                 sig->action == ZX_BUY ? "below" : "above", entry);
        return -1;
    }
    if (sig->tp > 0 && dir * (sig->tp - entry) <= 0) {
        snprintf(reason, len, "tp %g is not %s the entry %g", sig->tp,
                 sig->action == ZX_BUY ? "above" : "below", entry);
        return -1;
    }
    return 0;
}

/* Sets sig->lot unless the signal named one. Returns -1 (reason written) when
 * risk sizing applies and the risk buys less than min_lot. */
static int cv3_entry_size(const cv3_entry_cfg *cfg, zx_host *h, const zx_api *api,
                          zx_signal *sig, double entry, double pip_size, double pip_value,
                          char *reason, size_t len)
{
    double balance = 0, equity = 0;
    if (sig->lot > 0)
        return 0;               /* an explicit lot= wins; the host still caps it */
    sig->lot = cfg->default_lot;
    if (cfg->risk_percentage <= 0)
        return 0;
    if (sig->sl <= 0 || entry <= 0 || pip_size <= 0 || pip_value <= 0) {
        api->log(h, ZX_LOG_INFO, "%s: no sl/price/pip info, default_lot %g", sig->symbol,
                 cfg->default_lot);
        return 0;
    }
    if (api->account(h, &balance, &equity) != 0 || balance <= 0) {
        api->log(h, ZX_LOG_WARN, "account balance unknown, default_lot %g", cfg->default_lot);
        return 0;
    }
    double sl_pips = fabs(entry - sig->sl) / pip_size;
    return cv3_entry_risk_lot(cfg, balance, sl_pips, pip_value, &sig->lot, reason, len);
}

/* Close every trade on sig->symbol opposite to sig->action. */
static int cv3_entry_close_opposite(zx_host *h, const zx_api *api, const zx_signal *sig,
                                    const zx_position *open, int n, char *reason, size_t len)
{
    char err[160];
    for (int i = 0; i < n; i++) {
        if (strcmp(open[i].symbol, sig->symbol) != 0 || open[i].side == sig->action)
            continue;
        if (api->close_trade(h, open[i].trade_id, 0, err, sizeof err) != 0) {
            snprintf(reason, len, "could not close %s trade %lld on %s: %s",
                     cv3_side_name(open[i].side), (long long)open[i].trade_id, sig->symbol, err);
            return -1;
        }
        api->log(h, ZX_LOG_INFO, "closed %s trade %lld on %s for an opposite signal",
                 cv3_side_name(open[i].side), (long long)open[i].trade_id, sig->symbol);
    }
    return 0;
}

zx_verdict cv3_entry_on_signal(const cv3_entry_cfg *cfg, zx_host *h, const zx_api *api,
                               zx_signal *sig, char *reason, size_t reason_len)
{
    /* close / close_long / close_short: the host closes our trades on the symbol. */
    if (sig->action != ZX_BUY && sig->action != ZX_SELL)
        return ZX_ACCEPT;

    if (!cv3_entry_symbol_allowed(cfg->allowed_symbols, sig->symbol)) {
        snprintf(reason, reason_len, "symbol %s is not in allowed_symbols", sig->symbol);
        return ZX_REJECT;
    }

    zx_position open[CV3_SCAN_MAX];
    int n = api->open_trades(h, open, CV3_SCAN_MAX);
    if (n < 0) {
        snprintf(reason, reason_len, "cannot list open trades");
        return ZX_REJECT;
    }
    int same = 0, opposite = 0;
    for (int i = 0; i < n; i++) {
        if (strcmp(open[i].symbol, sig->symbol) != 0)
            continue;
        if (open[i].side == sig->action)
            same++;
        else
            opposite++;
    }
    cv3_entry_kind kind = cv3_entry_decide(cfg, sig->action, sig->symbol, same, opposite,
                                           reason, reason_len);
    if (kind == CV3_ENTRY_REJECT)
        return ZX_REJECT;

    double entry = 0;
    if (kind != CV3_ENTRY_CLOSE_ONLY) {
        double pip_size = 0, pip_value = 0;
        if (api->symbol_info(h, sig->symbol, &pip_size, &pip_value) != 0)
            pip_size = pip_value = 0;
        entry = cv3_entry_price(h, api, sig);
        cv3_entry_default_stops(cfg, sig->action, entry, pip_size, &sig->sl, &sig->tp);
        if (cv3_entry_check_stops(sig, entry, reason, reason_len) != 0 ||
            cv3_entry_size(cfg, h, api, sig, entry, pip_size, pip_value, reason, reason_len) != 0)
            return ZX_REJECT;
    }

    if (kind == CV3_ENTRY_CLOSE_THEN_OPEN || kind == CV3_ENTRY_CLOSE_ONLY) {
        if (cv3_entry_close_opposite(h, api, sig, open, n, reason, reason_len) != 0)
            return ZX_REJECT;
        if (kind == CV3_ENTRY_CLOSE_ONLY) {
            snprintf(reason, reason_len, "closed %d %s trade(s) on %s; reverse_on_opposite is off",
                     opposite, cv3_side_name(sig->action == ZX_BUY ? ZX_SELL : ZX_BUY),
                     sig->symbol);
            return ZX_HANDLED;
        }
    }
    api->log(h, ZX_LOG_INFO, "accept %s %s lot=%g sl=%g tp=%g (entry %g)",
             cv3_side_name(sig->action), sig->symbol, sig->lot, sig->sl, sig->tp, entry);
    return ZX_ACCEPT;
}
