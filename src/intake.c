/*
 * intake — see intake.h.
 */
#include "intake.h"
#include "app.h"
#include "config.h"
#include "engine.h"
#include "registry.h"

#include <stdio.h>
#include <string.h>

int intake_check(struct app *a, sig_parsed *s, char *err, size_t errlen)
{
    if (s->plugin[0] && !reg_find(&a->reg, s->plugin)) {
        snprintf(err, errlen, "plugin: unknown plugin '%s'", s->plugin);
        return -1;
    }
    struct cfg_symbol sym;
    int known = cfg_symbol_find(&a->cfg, s->symbol, &sym);
    snprintf(s->symbol, sizeof s->symbol, "%s", sym.name);
    if (s->action != ZX_BUY && s->action != ZX_SELL)
        return 0;               /* a close must never be refused for want of metadata */
    if (known < 0) {
        snprintf(err, errlen, "symbol: %s is not configured: its pip size and contract size are "
                 "unknown (add it under \"symbols\" in the config)", s->symbol);
        return -1;
    }
    /* The reference price is the fill the order is expected to get: the last
     * quote's ask for a buy, bid for a sell, else the signal's price (which the
     * paper broker then takes as the quote). */
    double bid = 0, ask = 0, ref = s->price;
    if (eng_quote(a, s->symbol, &bid, &ask) == 0 && bid > 0 && ask > 0)
        ref = s->action == ZX_BUY ? ask : bid;
    return sig_resolve_stops(s, ref, sym.pip_size, a->cfg.webhook.max_stop_distance_pct, err, errlen);
}
