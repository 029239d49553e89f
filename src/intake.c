/*
 * intake — see intake.h.
 */
#include "intake.h"
#include "app.h"
#include "config.h"
#include "engine.h"
#include "registry.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* SPEC 12 `risk`: the lot that loses risk % of the balance at the stop, down to
 * the symbol's volume step, at most its max_lot. Below min_lot is refused
 * rather than raised: raising it would risk more than the alert asked. */
static int size_from_risk(struct app *a, sig_parsed *s, const struct cfg_symbol *sym, double ref, char *err,
                          size_t errlen)
{
    double balance = 0, equity = 0, pip_value = 0;
    if (!(s->sl > 0)) {
        snprintf(err, errlen, "risk: needs sl or sl_pips (the lot is sized from the stop distance)");
        return -1;
    }
    if (!(ref > 0)) {
        snprintf(err, errlen, "risk: no price is known for %s (give price= or send a quote first)", s->symbol);
        return -1;
    }
    if (eng_account(a->eng, &balance, &equity) || !(balance > 0)) {
        snprintf(err, errlen, "risk: the account balance is not known yet");
        return -1;
    }
    if (eng_pip_value(a->eng, s->symbol, ref, &pip_value)) {
        snprintf(err, errlen, "risk: cannot value a pip of %s in the account currency (no conversion quote)",
                 s->symbol);
        return -1;
    }
    double pips = fabs(ref - s->sl) / sym->pip_size, money = balance * s->risk / 100;
    double raw = money / (pips * pip_value), step = sym->volume_step > 0 ? sym->volume_step : 0.01;
    double lot = floor(raw / step + 1e-6) * step;
    const char *clamp = "";
    if (sym->max_lot > 0 && lot > sym->max_lot) {
        lot = sym->max_lot;
        clamp = ", at the symbol's max_lot";
    }
    if (lot < sym->min_lot - 1e-9) {
        snprintf(err, errlen, "risk: %g%% of %.2f with a %.1f-pip stop is %.4f lot, below %s's min_lot %g", s->risk,
                 balance, pips, raw, s->symbol, sym->min_lot);
        return -1;
    }
    s->lot = lot;
    snprintf(s->sizing, sizeof s->sizing, "lot %.2f from risk %g%% of %.2f with a %.1f-pip stop (%.4f, rounded "
             "down to %g%s)", lot, s->risk, balance, pips, raw, step, clamp);
    return 0;
}

/* A pending order's entry: PineConnector's price= (pips from the quote)
 * becomes a price, and the entry must lie where the order waits for the market
 * -- a limit buys below the ask and sells above the bid, a stop buys above the
 * ask and sells below the bid -- and not absurdly far from it
 * (webhook.max_stop_distance_pct). With no quote known the signal's price
 * stands in for it; with neither, only price= needs one. */
static int pending_entry(struct app *a, sig_parsed *s, const struct cfg_symbol *sym, char *err, size_t errlen)
{
    const char *name = sig_action_name(s->action);
    int buy = sig_side(s->action) == ZX_BUY;
    int limit = s->action == ZX_BUY_LIMIT || s->action == ZX_SELL_LIMIT;
    int below = buy == limit;           /* buy_limit and sell_stop wait below the market */
    double bid = 0, ask = 0, max_pct = a->cfg.webhook.max_stop_distance_pct;
    int have = eng_quote(a->eng, s->symbol, &bid, &ask) == 0 && bid > 0 && ask > 0;
    if (!have && s->price > 0) {
        bid = ask = s->price;
        have = 1;
    }
    double ref = buy ? ask : bid;
    const char *at = have && s->price > 0 && bid == ask && bid == s->price ? "price" : buy ? "ask" : "bid";
    if (s->entry_pips > 0) {
        if (!have) {
            snprintf(err, errlen, "price: PineConnector's price= is pips from the current price, and no price is "
                     "known for %s yet (send a quote first)", s->symbol);
            return -1;
        }
        double d = s->entry_pips * sym->pip_size;
        s->entry = below ? ref - d : ref + d;
        if (!(s->entry > 0)) {
            snprintf(err, errlen, "price: %g pips below the %s %.10g is below zero", s->entry_pips, at, ref);
            return -1;
        }
        s->entry_pips = 0;
    }
    if (!have)
        return 0;
    if (below ? !(s->entry < ref) : !(s->entry > ref)) {
        snprintf(err, errlen, "entry: %.10g must be %s the %s %.10g for a %s (it would fill at once%s)", s->entry,
                 below ? "below" : "above", at, ref, name,
                 limit ? (buy ? "; a buy above the market is a buy_stop" : "; a sell below the market is a sell_stop")
                       : (buy ? "; a buy below the market is a buy_limit" : "; a sell above the market is a sell_limit"));
        return -1;
    }
    double pct = fabs(s->entry - ref) / ref * 100.0;
    if (max_pct > 0 && pct > max_pct) {
        snprintf(err, errlen, "entry: %.10g is %.0f%% away from the %s %.10g (limit %g%%, "
                 "webhook.max_stop_distance_pct)", s->entry, pct, at, ref, max_pct);
        return -1;
    }
    return 0;
}

int intake_check(struct app *a, sig_parsed *s, char *err, size_t errlen)
{
    if (s->plugin[0] && !reg_find(&a->reg, s->plugin)) {
        snprintf(err, errlen, "plugin: unknown plugin '%s'", s->plugin);
        return -1;
    }
    struct cfg_symbol sym;
    int known = cfg_symbol_find(&a->cfg, s->symbol, &sym);
    snprintf(s->symbol, sizeof s->symbol, "%s", sym.name);
    if (!sig_side(s->action))
        return 0;               /* a close or a cancel must never be refused for want of metadata */
    if (known < 0) {
        snprintf(err, errlen, "symbol: %s is not configured: its pip size and contract size are "
                 "unknown (add it under \"symbols\" in the config)", s->symbol);
        return -1;
    }
    /* The reference price is the fill the order is expected to get: the last
     * quote's ask for a buy, bid for a sell, else the signal's price (which the
     * paper broker then takes as the quote). */
    double bid = 0, ask = 0, ref = s->price;
    if (eng_quote(a->eng, s->symbol, &bid, &ask) == 0 && bid > 0 && ask > 0)
        ref = s->action == ZX_BUY ? ask : bid;
    if (sig_is_pending(s->action)) {
        /* A pending order fills at its entry: the stops and the risk are
         * measured from there. */
        if (pending_entry(a, s, &sym, err, errlen))
            return -1;
        ref = s->entry;
    }
    if (sig_resolve_stops(s, ref, sym.pip_size, a->cfg.webhook.max_stop_distance_pct, err, errlen))
        return -1;
    return s->risk > 0 ? size_from_risk(a, s, &sym, ref, err, errlen) : 0;
}
