/*
 * pa6_logic.h — the pure parts of price_action_v6: a ring of recent mid
 * prices per symbol and its trend, the UTC session window, fixed-fractional
 * sizing. No API calls, no globals: everything here is unit-tested directly.
 */
#ifndef PA6_LOGIC_H
#define PA6_LOGIC_H

#include <stddef.h>
#include <stdint.h>

#define PA6_RING_SIZE 32            /* samples kept per symbol */

/* The last PA6_RING_SIZE distinct mid prices of one symbol, oldest first
 * from (head - count). A sample equal to the previous one is not a tick and
 * is not stored, so several updates of the same quote count once. */
typedef struct pa6_ring {
    char symbol[32];                /* "" = free slot */
    double v[PA6_RING_SIZE];
    int head;                       /* index of the next write */
    int count;
    int64_t last_ms;                /* when last sampled, for eviction */
} pa6_ring;

/* Store mid unless it is <= 0 or equal to the newest sample. */
void pa6_ring_push(pa6_ring *r, double mid);

/* The newest sample, or 0 when there is none. */
double pa6_ring_last(const pa6_ring *r);

/* How the latest samples move: +k when each of the last k samples is above
 * the one before it (and the one before those is not), -k when each is below;
 * 0 with fewer than two samples. */
int pa6_ring_run(const pa6_ring *r);

/* "HH:MM" (24 h, H or HH) to minutes after midnight; -1 when malformed. */
int pa6_parse_hhmm(const char *s);

/* 1 when now_ms (UTC) falls in [start, end) minutes of the day; the window may
 * wrap midnight (start > end). start < 0 means "always". */
int pa6_in_session(int start_min, int end_min, int64_t now_ms);

typedef struct pa6_size_cfg {
    double fraction_percent;        /* % of balance risked per trade */
    double min_lot, lot_step;
    double max_lot_size;            /* 0 = no cap */
} pa6_size_cfg;

/* lot rounded down to a multiple of step (binary-noise safe). */
double pa6_round_down(double lot, double step);

/* Fixed-fractional lot: balance * fraction% / (sl_pips * pip_value_per_lot),
 * rounded down to lot_step, capped at max_lot_size. 0, or -1 with a reason
 * when it comes out below min_lot or an input is not positive. */
int pa6_fixed_fractional_lot(const pa6_size_cfg *cfg, double balance, double sl_pips,
                             double pip_value_per_lot, double *lot, char *err, size_t errlen);

#endif
