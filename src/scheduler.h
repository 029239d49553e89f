/*
 * scheduler — the daily reset of SPEC section 11: an ev_periodic whose
 * reschedule callback computes the next daily_reset.time in the IANA
 * daily_reset.timezone, and the reset itself (performance rows, the plugins'
 * on_daily_reset, one report with a chart to every admin chat). The last
 * completed reset instant is kept in the host database, kv "daily_reset.last_ms",
 * so a reset missed while zepix was down runs once at the next start.
 *
 * Trading days. The reset instants cut time into trading days. A trading day is
 * labelled with the local calendar date (YYYY-MM-DD, in the zone) on which it
 * STARTED: with the default 03:35 Asia/Kolkata, the day 2026-03-09 runs from
 * 2026-03-09 03:35 to 2026-03-10 03:35 IST, and the reset at 2026-03-10 03:35
 * closes (reports) 2026-03-09. A trade belongs to the day in which it closed
 * (exit_ms in [start, end)).
 *
 * Daylight saving. The reset of local date D is the first instant whose local
 * wall-clock time is at or after D + daily_reset.time:
 *  - a time that does not exist that day (spring forward) resets at the first
 *    valid instant after it (02:30 in New York on 2026-03-08 -> 03:00 EDT);
 *  - a time that occurs twice (fall back) resets once, at its first occurrence
 *    (01:30 in New York on 2026-11-01 -> 01:30 EDT, never again at 01:30 EST).
 * Such a day is 23 or 25 hours long; every other day is 24.
 *
 * Time-zone arithmetic uses the C library's zone database (localtime_r with
 * TZ set to the zone, restored afterwards, all inside one call of this module).
 * That is safe because the daemon is single-threaded and nothing else reads
 * local time (logs and ledgers are UTC). It reads only the small zone file
 * under /usr/share/zoneinfo; never blocks the loop on anything else.
 *
 * Catch-up at start (sched_start): no kv "daily_reset.last_ms" at all (first run
 * ever) records the most recent reset instant and reports nothing. Otherwise
 * every trading day that ended after last_ms is closed (performance rows and
 * on_daily_reset per day, oldest first, at most SCHED_CATCHUP_MAX days) and ONE
 * report covers them all. The same code runs when the periodic fires.
 *
 * Never twice. last_ms is written after the performance rows and hooks of every
 * due day, and before the report is queued. A crash between the rows and the kv
 * write runs those days again at the next start: the rows are rewritten with
 * the same figures (INSERT OR REPLACE by date) and on_daily_reset is called
 * again. A crash after the kv write loses the report (at most once), never
 * repeats it.
 */
#ifndef ZEPIX_SCHEDULER_H
#define ZEPIX_SCHEDULER_H

#include <stddef.h>
#include <stdint.h>

struct app;
struct scheduler;

#define SCHED_LAST_KEY "daily_reset.last_ms"
#define SCHED_CATCHUP_MAX 31    /* days closed after a long downtime (the newest ones) */

/* Start the periodic on a->loop and run a reset missed while zepix was down.
 * Sets a->sched. 0, or -1 with err. */
int sched_start(struct app *a, char *err, size_t errlen);
void sched_free(struct app *a);

/* ---- pure time arithmetic (also used by report.c and the tests) ---------------- */

/* A trading day: its label, its local date as days since 1970-01-01, and its
 * interval [from_ms, to_ms) between two reset instants. */
struct sched_day {
    int64_t day;
    int64_t from_ms, to_ms;
    char date[11];
};

/* The reset instant of local date day (days since 1970-01-01) at secs seconds
 * after local midnight in zone tz. 0, or -1 (unknown zone). */
int sched_reset_instant(const char *tz, int secs, int64_t day, int64_t *out_ms);
/* The most recent reset instant at or before t_ms, and the local date it
 * belongs to (the day it starts). */
int sched_prev_reset(const char *tz, int secs, int64_t t_ms, int64_t *at_ms, int64_t *day);
/* The first reset instant strictly after t_ms, and its local date. */
int sched_next_reset(const char *tz, int secs, int64_t t_ms, int64_t *at_ms, int64_t *day);
/* The trading day that contains t_ms (from_ms <= t_ms < to_ms). */
int sched_day_of(const char *tz, int secs, int64_t t_ms, struct sched_day *out);
/* The trading days that ended after last_ms and at or before now_ms, oldest
 * first; at most max of them (the newest). Returns the count, or -1. */
int sched_days_due(const char *tz, int secs, int64_t last_ms, int64_t now_ms,
                   struct sched_day *out, int max);

/* "YYYY-MM-DD" of a day number. */
void sched_date_label(int64_t day, char out[11]);
/* Local "YYYY-MM-DD HH:MM ZONE" (the zone's abbreviation) of t_ms in tz. */
void sched_format_local(const char *tz, int64_t t_ms, char *out, size_t len);

#endif
