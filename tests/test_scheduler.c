/* test_scheduler — the daily reset's time arithmetic: reset instants in zones
 * without DST (Asia/Kolkata) and with it, across the 2026 transitions of
 * America/New_York, Europe/London and Australia/Sydney (a time that does not
 * exist fires at the first valid instant after it; a time that occurs twice
 * fires once), day labels, and the catch-up rule (a missed reset is due once,
 * never twice). Expected UTC instants are worked out by hand in the comments. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "scheduler.h"

#define H 3600
#define MIN 60
#define HOUR_MS 3600000LL
#define DAY_MS 86400000LL

/* Milliseconds of a UTC date-time. */
static int64_t utc(int y, int mo, int d, int h, int mi, int s)
{
    struct tm tm = {.tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d, .tm_hour = h, .tm_min = mi, .tm_sec = s};
    return (int64_t)timegm(&tm) * 1000;
}

/* Days since 1970-01-01 of a date. */
static int64_t day_of(int y, int mo, int d) { return utc(y, mo, d, 0, 0, 0) / DAY_MS; }

static int64_t reset_of(const char *tz, int secs, int y, int mo, int d)
{
    int64_t ms = -1;
    assert_int_equal(sched_reset_instant(tz, secs, day_of(y, mo, d), &ms), 0);
    return ms;
}

static int64_t next_after(const char *tz, int secs, int64_t t, int64_t *day)
{
    int64_t at = -1, dd;
    assert_int_equal(sched_next_reset(tz, secs, t, &at, day ? day : &dd), 0);
    return at;
}

static int64_t prev_at(const char *tz, int secs, int64_t t, int64_t *day)
{
    int64_t at = -1, dd;
    assert_int_equal(sched_prev_reset(tz, secs, t, &at, day ? day : &dd), 0);
    return at;
}

/* ---- a zone without DST ------------------------------------------------------ */

static void test_kolkata_0335_is_2205_utc_the_evening_before(void **state)
{
    (void)state;
    /* IST = UTC+5:30: 2026-03-09 03:35 IST = 2026-03-08 22:05 UTC. */
    assert_int_equal(reset_of("Asia/Kolkata", 3 * H + 35 * MIN, 2026, 3, 9), utc(2026, 3, 8, 22, 5, 0));
    /* Every day is 24 hours long. */
    for (int d = 1; d < 28; d++)
        assert_int_equal(reset_of("Asia/Kolkata", 3 * H + 35 * MIN, 2026, 2, d + 1) -
                             reset_of("Asia/Kolkata", 3 * H + 35 * MIN, 2026, 2, d),
                         DAY_MS);
}

static void test_prev_and_next_around_the_reset_instant(void **state)
{
    (void)state;
    const char *tz = "Asia/Kolkata";
    int secs = 3 * H + 35 * MIN;
    int64_t r = utc(2026, 3, 8, 22, 5, 0), day;     /* 2026-03-09 03:35 IST */
    assert_int_equal(next_after(tz, secs, r - 1, &day), r);
    assert_int_equal(day, day_of(2026, 3, 9));
    assert_int_equal(next_after(tz, secs, r, NULL), r + DAY_MS);   /* strictly after */
    assert_int_equal(prev_at(tz, secs, r, &day), r);                /* at or before */
    assert_int_equal(day, day_of(2026, 3, 9));
    assert_int_equal(prev_at(tz, secs, r - 1, &day), r - DAY_MS);
    assert_int_equal(day, day_of(2026, 3, 8));
    /* 01:00 IST on 2026-03-09 is still in the trading day that began 03-08. */
    assert_int_equal(prev_at(tz, secs, utc(2026, 3, 8, 19, 30, 0), &day), r - DAY_MS);
}

static void test_day_label_is_the_local_date_the_day_started(void **state)
{
    (void)state;
    struct sched_day d;
    /* 2026-03-09 12:00 IST = 06:30 UTC: the day 2026-03-09 03:35 -> 03-10 03:35. */
    assert_int_equal(sched_day_of("Asia/Kolkata", 3 * H + 35 * MIN, utc(2026, 3, 9, 6, 30, 0), &d), 0);
    assert_string_equal(d.date, "2026-03-09");
    assert_int_equal(d.from_ms, utc(2026, 3, 8, 22, 5, 0));
    assert_int_equal(d.to_ms, utc(2026, 3, 9, 22, 5, 0));
    /* 2026-03-10 02:00 IST (before the reset) still belongs to 2026-03-09. */
    assert_int_equal(sched_day_of("Asia/Kolkata", 3 * H + 35 * MIN, utc(2026, 3, 9, 20, 30, 0), &d), 0);
    assert_string_equal(d.date, "2026-03-09");
    /* A reset late in the evening: 2026-03-09 23:00 UTC+5:30 starts day 03-09. */
    assert_int_equal(sched_day_of("Asia/Kolkata", 23 * H, utc(2026, 3, 9, 18, 0, 0), &d), 0);
    assert_string_equal(d.date, "2026-03-09");
    char label[11];
    sched_date_label(day_of(2024, 2, 29), label);
    assert_string_equal(label, "2024-02-29");
    sched_date_label(0, label);
    assert_string_equal(label, "1970-01-01");
}

/* ---- America/New_York, 2026 ---------------------------------------------------- */
/* DST starts 2026-03-08 02:00 EST (07:00 UTC) -> 03:00 EDT; ends 2026-11-01
 * 02:00 EDT (06:00 UTC) -> 01:00 EST. EST = UTC-5, EDT = UTC-4. */

static void test_new_york_spring_forward_gap_fires_at_the_first_valid_instant(void **state)
{
    (void)state;
    const char *tz = "America/New_York";
    /* 02:30 does not exist on 2026-03-08: 03:00 EDT = 07:00 UTC. */
    assert_int_equal(reset_of(tz, 2 * H + 30 * MIN, 2026, 3, 8), utc(2026, 3, 8, 7, 0, 0));
    /* The days around it still reset at 02:30 local. */
    assert_int_equal(reset_of(tz, 2 * H + 30 * MIN, 2026, 3, 7), utc(2026, 3, 7, 7, 30, 0));  /* EST */
    assert_int_equal(reset_of(tz, 2 * H + 30 * MIN, 2026, 3, 9), utc(2026, 3, 9, 6, 30, 0));  /* EDT */
    /* The periodic's view: after 03-07's reset the next is the gap instant. */
    assert_int_equal(next_after(tz, 2 * H + 30 * MIN, utc(2026, 3, 7, 7, 30, 0), NULL), utc(2026, 3, 8, 7, 0, 0));
    /* 01:30 still exists that day (EST): 06:30 UTC. */
    assert_int_equal(reset_of(tz, 1 * H + 30 * MIN, 2026, 3, 8), utc(2026, 3, 8, 6, 30, 0));
}

static void test_new_york_fall_back_repeated_time_fires_once(void **state)
{
    (void)state;
    const char *tz = "America/New_York";
    int secs = 1 * H + 30 * MIN;
    int64_t day;
    /* 01:30 happens twice on 2026-11-01: 01:30 EDT (05:30 UTC) and 01:30 EST
     * (06:30 UTC). The reset is the first. */
    int64_t first = utc(2026, 11, 1, 5, 30, 0);
    assert_int_equal(reset_of(tz, secs, 2026, 11, 1), first);
    /* After it, the next reset is the NEXT day's 01:30 EST = 11-02 06:30 UTC,
     * not the second 01:30 an hour later. */
    assert_int_equal(next_after(tz, secs, first, &day), utc(2026, 11, 2, 6, 30, 0));
    assert_int_equal(day, day_of(2026, 11, 2));
    /* During the second 01:30-02:00 (EST) the latest reset is still the first. */
    assert_int_equal(prev_at(tz, secs, utc(2026, 11, 1, 6, 45, 0), &day), first);
    assert_int_equal(day, day_of(2026, 11, 1));
}

static void test_new_york_days_are_23_and_25_hours_across_transitions(void **state)
{
    (void)state;
    const char *tz = "America/New_York";
    int secs = 3 * H + 35 * MIN;
    /* 03-07 03:35 EST = 08:35 UTC; 03-08 03:35 EDT = 07:35 UTC: 23 hours. */
    assert_int_equal(reset_of(tz, secs, 2026, 3, 7), utc(2026, 3, 7, 8, 35, 0));
    assert_int_equal(reset_of(tz, secs, 2026, 3, 8), utc(2026, 3, 8, 7, 35, 0));
    assert_int_equal(reset_of(tz, secs, 2026, 3, 8) - reset_of(tz, secs, 2026, 3, 7), 23 * HOUR_MS);
    /* 10-31 03:35 EDT = 07:35 UTC; 11-01 03:35 EST = 08:35 UTC: 25 hours. */
    assert_int_equal(reset_of(tz, secs, 2026, 10, 31), utc(2026, 10, 31, 7, 35, 0));
    assert_int_equal(reset_of(tz, secs, 2026, 11, 1), utc(2026, 11, 1, 8, 35, 0));
    struct sched_day d;
    assert_int_equal(sched_day_of(tz, secs, utc(2026, 11, 1, 1, 0, 0), &d), 0);   /* 10-31 21:00 EDT */
    assert_string_equal(d.date, "2026-10-31");
    assert_int_equal(d.to_ms - d.from_ms, 25 * HOUR_MS);
}

/* ---- Europe/London, 2026 ---------------------------------------------------------- */
/* BST starts 2026-03-29 01:00 GMT (01:00 UTC) -> 02:00 BST; ends 2026-10-25
 * 02:00 BST (01:00 UTC) -> 01:00 GMT. GMT = UTC, BST = UTC+1. */

static void test_london_spring_gap_and_autumn_repeat(void **state)
{
    (void)state;
    const char *tz = "Europe/London";
    int secs = 1 * H + 30 * MIN;
    /* 01:30 does not exist on 03-29: 02:00 BST = 01:00 UTC. */
    assert_int_equal(reset_of(tz, secs, 2026, 3, 29), utc(2026, 3, 29, 1, 0, 0));
    assert_int_equal(reset_of(tz, secs, 2026, 3, 28), utc(2026, 3, 28, 1, 30, 0));   /* GMT */
    assert_int_equal(reset_of(tz, secs, 2026, 3, 30), utc(2026, 3, 30, 0, 30, 0));   /* BST */
    /* 01:30 twice on 10-25: 01:30 BST = 00:30 UTC first, 01:30 GMT = 01:30 UTC. */
    int64_t first = utc(2026, 10, 25, 0, 30, 0);
    assert_int_equal(reset_of(tz, secs, 2026, 10, 25), first);
    assert_int_equal(next_after(tz, secs, first, NULL), utc(2026, 10, 26, 1, 30, 0));
    /* Midnight resets are plain: 00:00 BST on 03-30 = 03-29 23:00 UTC. */
    assert_int_equal(reset_of(tz, 0, 2026, 3, 30), utc(2026, 3, 29, 23, 0, 0));
    /* 10-24 03:35 BST = 02:35 UTC; 10-25 03:35 GMT = 03:35 UTC: 25 hours. */
    assert_int_equal(reset_of(tz, 3 * H + 35 * MIN, 2026, 10, 25) - reset_of(tz, 3 * H + 35 * MIN, 2026, 10, 24),
                     25 * HOUR_MS);
}

/* ---- Australia/Sydney, 2026 (southern hemisphere) ----------------------------------- */
/* AEDT (UTC+11) ends 2026-04-05 03:00 -> 02:00 AEST (UTC+10), at 04-04 16:00 UTC;
 * AEDT starts 2026-10-04 02:00 AEST -> 03:00 AEDT, at 10-03 16:00 UTC. */

static void test_sydney_transitions_fire_once_and_after_the_gap(void **state)
{
    (void)state;
    const char *tz = "Australia/Sydney";
    int secs = 2 * H + 30 * MIN;
    /* 02:30 twice on 04-05: first 02:30 AEDT = 04-04 15:30 UTC. */
    assert_int_equal(reset_of(tz, secs, 2026, 4, 5), utc(2026, 4, 4, 15, 30, 0));
    assert_int_equal(next_after(tz, secs, utc(2026, 4, 4, 15, 30, 0), NULL), utc(2026, 4, 5, 16, 30, 0));
    /* 02:30 missing on 10-04: 03:00 AEDT = 10-03 16:00 UTC. */
    assert_int_equal(reset_of(tz, secs, 2026, 10, 4), utc(2026, 10, 3, 16, 0, 0));
}

/* ---- catch-up ------------------------------------------------------------------------ */

static void test_missed_reset_is_due_once_then_never_again(void **state)
{
    (void)state;
    const char *tz = "Asia/Kolkata";
    int secs = 3 * H + 35 * MIN;
    struct sched_day d[SCHED_CATCHUP_MAX];
    int64_t r0 = utc(2026, 3, 8, 22, 5, 0), r1 = r0 + DAY_MS;   /* 03-09 and 03-10 03:35 IST */
    /* Down across r1, started 5 s after it: exactly the day 03-09 is due. */
    assert_int_equal(sched_days_due(tz, secs, r0, r1 + 5000, d, SCHED_CATCHUP_MAX), 1);
    assert_string_equal(d[0].date, "2026-03-09");
    assert_int_equal(d[0].from_ms, r0);
    assert_int_equal(d[0].to_ms, r1);
    /* Once last_ms = r1 is recorded, nothing is due any more, all day long. */
    assert_int_equal(sched_days_due(tz, secs, r1, r1 + 5000, d, SCHED_CATCHUP_MAX), 0);
    assert_int_equal(sched_days_due(tz, secs, r1, r1 + DAY_MS - 1, d, SCHED_CATCHUP_MAX), 0);
    /* Before the reset instant nothing is due either. */
    assert_int_equal(sched_days_due(tz, secs, r0, r1 - 1, d, SCHED_CATCHUP_MAX), 0);
    /* At the instant itself (the periodic firing) the day is due. */
    assert_int_equal(sched_days_due(tz, secs, r0, r1, d, SCHED_CATCHUP_MAX), 1);
}

/* The clock as the scheduler's minute check sees it (injected): a jump forward
 * past the reset closes that day at the next check; a jump back across a reset
 * already done closes nothing again, also when the clock passes it a second time. */
static void test_clock_jumps_close_a_day_once(void **state)
{
    (void)state;
    const char *tz = "Asia/Kolkata";
    int secs = 3 * H + 35 * MIN;
    struct sched_day d[SCHED_CATCHUP_MAX];
    int64_t r0 = utc(2026, 3, 8, 22, 5, 0), r1 = r0 + DAY_MS, last = r0;
    int64_t clock[] = {r1 - 3600000, r1 - 60000, r1 + 5 * 3600000LL /* jump forward */,
                       r1 + 5 * 3600000LL + 60000, r1 - 2 * 3600000LL /* jump back */, r1 - 60000, r1,
                       r1 + 60000, r1 + DAY_MS - 1};
    int closed = 0;
    for (size_t i = 0; i < sizeof clock / sizeof clock[0]; i++) {
        int n = sched_days_due(tz, secs, last, clock[i], d, SCHED_CATCHUP_MAX);
        assert_true(n >= 0);
        if (n > 0) {
            assert_int_equal(n, 1);
            assert_string_equal(d[0].date, "2026-03-09");
            assert_int_equal(i, 2);                 /* at the first check after the jump */
            last = d[n - 1].to_ms;
            closed += n;
        }
    }
    assert_int_equal(closed, 1);
}

static void test_long_downtime_closes_each_missed_day_oldest_first(void **state)
{
    (void)state;
    const char *tz = "Asia/Kolkata";
    int secs = 3 * H + 35 * MIN;
    struct sched_day d[SCHED_CATCHUP_MAX];
    int64_t r1 = utc(2026, 3, 9, 22, 5, 0);                       /* 03-10 03:35 IST */
    assert_int_equal(sched_days_due(tz, secs, r1 - 3 * DAY_MS, r1 + 1000, d, SCHED_CATCHUP_MAX), 3);
    assert_string_equal(d[0].date, "2026-03-07");
    assert_string_equal(d[1].date, "2026-03-08");
    assert_string_equal(d[2].date, "2026-03-09");
    assert_int_equal(d[0].to_ms, d[1].from_ms);
    assert_int_equal(d[1].to_ms, d[2].from_ms);
    assert_int_equal(d[2].to_ms, r1);
    /* Down for 100 days: the newest SCHED_CATCHUP_MAX days only. */
    int n = sched_days_due(tz, secs, r1 - 100 * DAY_MS, r1 + 1000, d, SCHED_CATCHUP_MAX);
    assert_int_equal(n, SCHED_CATCHUP_MAX);
    assert_string_equal(d[n - 1].date, "2026-03-09");
    assert_string_equal(d[0].date, "2026-02-07");              /* 03-09 minus 30 days */
}

static void test_missed_days_across_dst_have_their_real_lengths(void **state)
{
    (void)state;
    struct sched_day d[4];
    const char *tz = "America/New_York";
    int secs = 3 * H + 35 * MIN;
    /* last = 03-07 03:35 EST, now = 03-09 04:00 EDT: days 03-07 (23 h) and 03-08 (24 h). */
    int n = sched_days_due(tz, secs, utc(2026, 3, 7, 8, 35, 0), utc(2026, 3, 9, 8, 0, 0), d, 4);
    assert_int_equal(n, 2);
    assert_string_equal(d[0].date, "2026-03-07");
    assert_int_equal(d[0].to_ms - d[0].from_ms, 23 * HOUR_MS);
    assert_string_equal(d[1].date, "2026-03-08");
    assert_int_equal(d[1].to_ms - d[1].from_ms, 24 * HOUR_MS);
}

/* ---- hygiene ----------------------------------------------------------------------------- */

static void test_unknown_zone_is_refused_not_taken_for_utc(void **state)
{
    (void)state;
    int64_t ms, day;
    assert_int_equal(sched_reset_instant("Mars/Olympus_Mons", 0, 0, &ms), -1);
    assert_int_equal(sched_prev_reset("../etc/passwd", 0, 0, &ms, &day), -1);
    assert_int_equal(sched_next_reset("", 0, 0, &ms, &day), -1);
    assert_int_equal(sched_reset_instant("UTC", 86400, 0, &ms), -1);     /* secs out of range */
}

static void test_the_process_time_zone_is_left_as_it_was(void **state)
{
    (void)state;
    int64_t ms;
    setenv("TZ", "America/New_York", 1);
    tzset();
    assert_int_equal(sched_reset_instant("Asia/Kolkata", 0, day_of(2026, 1, 1), &ms), 0);
    assert_string_equal(getenv("TZ"), "America/New_York");
    time_t t = 1767225600;      /* 2026-01-01 00:00 UTC = 2025-12-31 19:00 EST */
    struct tm tm;
    localtime_r(&t, &tm);
    assert_int_equal(tm.tm_hour, 19);
    unsetenv("TZ");
    tzset();
    assert_int_equal(sched_reset_instant("Asia/Kolkata", 0, day_of(2026, 1, 1), &ms), 0);
    assert_null(getenv("TZ"));
}

static void test_local_time_is_formatted_in_the_zone(void **state)
{
    (void)state;
    char s[48];
    sched_format_local("Asia/Kolkata", utc(2026, 3, 8, 22, 5, 0), s, sizeof s);
    assert_string_equal(s, "2026-03-09 03:35 IST");
    sched_format_local("America/New_York", utc(2026, 11, 1, 5, 30, 0), s, sizeof s);
    assert_string_equal(s, "2026-11-01 01:30 EDT");
    sched_format_local("America/New_York", utc(2026, 11, 1, 6, 30, 0), s, sizeof s);
    assert_string_equal(s, "2026-11-01 01:30 EST");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kolkata_0335_is_2205_utc_the_evening_before),
        cmocka_unit_test(test_prev_and_next_around_the_reset_instant),
        cmocka_unit_test(test_day_label_is_the_local_date_the_day_started),
        cmocka_unit_test(test_new_york_spring_forward_gap_fires_at_the_first_valid_instant),
        cmocka_unit_test(test_new_york_fall_back_repeated_time_fires_once),
        cmocka_unit_test(test_new_york_days_are_23_and_25_hours_across_transitions),
        cmocka_unit_test(test_london_spring_gap_and_autumn_repeat),
        cmocka_unit_test(test_sydney_transitions_fire_once_and_after_the_gap),
        cmocka_unit_test(test_missed_reset_is_due_once_then_never_again),
        cmocka_unit_test(test_clock_jumps_close_a_day_once),
        cmocka_unit_test(test_long_downtime_closes_each_missed_day_oldest_first),
        cmocka_unit_test(test_missed_days_across_dst_have_their_real_lengths),
        cmocka_unit_test(test_unknown_zone_is_refused_not_taken_for_utc),
        cmocka_unit_test(test_the_process_time_zone_is_left_as_it_was),
        cmocka_unit_test(test_local_time_is_formatted_in_the_zone),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
