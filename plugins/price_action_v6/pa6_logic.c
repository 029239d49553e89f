/*
 * pa6_logic.c — price_action_v6's pure helpers: price ring and trend run,
 * session window, fixed-fractional sizing. See pa6_logic.h for contracts.
 */
#include <ctype.h>
#include <math.h>
#include <stdio.h>

#include "pa6_logic.h"

#define PA6_EPS 1e-9

void pa6_ring_push(pa6_ring *r, double mid)
{
    if (!(mid > 0) || !isfinite(mid))
        return;
    if (r->count > 0 && pa6_ring_last(r) == mid)
        return;
    r->v[r->head] = mid;
    r->head = (r->head + 1) % PA6_RING_SIZE;
    if (r->count < PA6_RING_SIZE)
        r->count++;
}

/* The i-th newest sample (0 = newest); i < count. */
static double pa6_ring_at(const pa6_ring *r, int i)
{
    return r->v[(r->head - 1 - i + 2 * PA6_RING_SIZE) % PA6_RING_SIZE];
}

double pa6_ring_last(const pa6_ring *r)
{
    return r->count > 0 ? pa6_ring_at(r, 0) : 0;
}

int pa6_ring_run(const pa6_ring *r)
{
    if (r->count < 2)
        return 0;
    int up = pa6_ring_at(r, 0) > pa6_ring_at(r, 1);
    int run = 0;
    for (int i = 0; i + 1 < r->count; i++) {
        double newer = pa6_ring_at(r, i), older = pa6_ring_at(r, i + 1);
        if (up ? newer > older : newer < older)
            run++;
        else
            break;
    }
    return up ? run : -run;
}

int pa6_parse_hhmm(const char *s)
{
    int h = 0, m = 0, digits = 0;
    while (isdigit((unsigned char)*s) && digits < 2) {
        h = h * 10 + (*s++ - '0');
        digits++;
    }
    if (digits == 0 || *s++ != ':')
        return -1;
    if (!isdigit((unsigned char)s[0]) || !isdigit((unsigned char)s[1]) || s[2] != '\0')
        return -1;
    m = (s[0] - '0') * 10 + (s[1] - '0');
    if (h > 23 || m > 59)
        return -1;
    return h * 60 + m;
}

int pa6_in_session(int start_min, int end_min, int64_t now_ms)
{
    if (start_min < 0)
        return 1;
    int64_t day_ms = 24LL * 60 * 60 * 1000;
    int now_min = (int)((((now_ms % day_ms) + day_ms) % day_ms) / 60000);
    if (start_min < end_min)
        return now_min >= start_min && now_min < end_min;
    return now_min >= start_min || now_min < end_min;     /* wraps midnight */
}

double pa6_round_down(double lot, double step)
{
    if (step <= 0)
        return lot;
    double n = floor(lot / step + PA6_EPS);
    return round(n * step * 1e8) / 1e8;
}

int pa6_fixed_fractional_lot(const pa6_size_cfg *cfg, double balance, double sl_pips,
                             double pip_value_per_lot, double *lot, char *err, size_t errlen)
{
    if (cfg->fraction_percent <= 0 || balance <= 0 || sl_pips <= 0 || pip_value_per_lot <= 0) {
        snprintf(err, errlen, "sizing needs fraction_percent, balance, sl and pip value > 0");
        return -1;
    }
    double risk = balance * cfg->fraction_percent / 100.0;
    double raw = risk / (sl_pips * pip_value_per_lot);
    double rounded = pa6_round_down(raw, cfg->lot_step);
    if (rounded <= 0 || rounded < cfg->min_lot - PA6_EPS) {
        snprintf(err, errlen, "risk too small for min lot (%.2f over %.1f pips = %.4f lot < %g)",
                 risk, sl_pips, raw, cfg->min_lot);
        return -1;
    }
    if (cfg->max_lot_size > 0 && rounded > cfg->max_lot_size)
        rounded = cfg->max_lot_size;
    *lot = rounded;
    return 0;
}
