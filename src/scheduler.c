/*
 * scheduler — see scheduler.h. Owns the ev_periodic of the daily reset and
 * the zone arithmetic behind it; the figures and the report come from
 * report.c, so a reset, /daily and /stats always agree.
 */
#include "scheduler.h"
#include "notify.h"
#include "app.h"
#include "chat.h"
#include "log.h"
#include "report.h"
#include "sbuf.h"
#include "shadow.h"
#include "store.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#define DAY_S 86400
#define NEAR_S (16 * 3600)      /* offsets are sampled this far either side */
#define FIRE_SLACK_MS 1000      /* a periodic firing a hair early still sees its reset */

struct scheduler {
    struct app *app;
    ev_periodic timer;
    ev_timer check;             /* monotonic: a wall-clock jump forward cannot hide a reset */
};

/* Seconds between the monotonic checks. libev reschedules the periodic after a
 * jump of the wall clock from the new time, so a jump forward past the reset
 * would wait for the next day's; this check runs the due days within a minute.
 * A jump backward finds nothing due: the last reset done is persisted. */
#define CHECK_S 60.

/* ---- calendar -------------------------------------------------------------------- */

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/* Days since 1970-01-01 to y-m-d and back (proleptic Gregorian; H. Hinnant). */
static void civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
    z += 719468;
    int64_t era = floor_div(z, 146097);
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

void sched_date_label(int64_t day, char out[11])
{
    int64_t y;
    int m, d;
    char tmp[48];
    civil_from_days(day, &y, &m, &d);
    if (y < 0 || y > 9999)
        y = 0;                  /* not a date anyone trades on */
    snprintf(tmp, sizeof tmp, "%04d-%02d-%02d", (int)y, m, d);
    memcpy(out, tmp, 10);
    out[10] = '\0';
}

/* ---- the zone, for the length of one call ------------------------------------------ */

struct zone_scope {
    char *saved;                /* the previous TZ, NULL when it was unset */
    int had;
};

/* Switch the C library to zone tz. Single-threaded use only (see scheduler.h);
 * every zone_enter is paired with zone_leave in the same function. */
static int zone_enter(const char *tz, struct zone_scope *z)
{
    char path[512];
    struct stat st;
    const char *dir = getenv("TZDIR");
    memset(z, 0, sizeof *z);
    /* An unknown name would silently mean UTC to the C library: refuse it. */
    if (!tz || !tz[0] || tz[0] == '/' || strstr(tz, "..") ||
        (size_t)snprintf(path, sizeof path, "%s/%s", dir && dir[0] ? dir : "/usr/share/zoneinfo", tz) >=
            sizeof path ||
        stat(path, &st) != 0 || !S_ISREG(st.st_mode))
        return -1;
    const char *old = getenv("TZ");
    if (old && !(z->saved = strdup(old)))
        return -1;
    z->had = old != NULL;
    if (setenv("TZ", tz, 1)) {
        free(z->saved);
        z->saved = NULL;
        return -1;
    }
    tzset();
    return 0;
}

static void zone_leave(struct zone_scope *z)
{
    if (z->had)
        setenv("TZ", z->saved, 1);
    else
        unsetenv("TZ");
    tzset();
    free(z->saved);
    z->saved = NULL;
}

/* Seconds east of UTC at instant t (inside a zone scope). */
static int64_t off_at(int64_t t)
{
    time_t tt = (time_t)t;
    struct tm tm;
    return localtime_r(&tt, &tm) ? (int64_t)tm.tm_gmtoff : 0;
}

/* Local wall-clock time of t as seconds since 1970-01-01 00:00 local. */
static int64_t wall_at(int64_t t) { return t + off_at(t); }

/*
 * The first instant whose wall-clock time is at or after w (inside a scope).
 * Each offset in force near w gives a candidate t = w - offset, valid when the
 * zone really uses that offset at t; the earliest valid one wins (a repeated
 * time: its first occurrence). No valid candidate means w falls in a gap: the
 * answer is the transition, found by bisection between the two candidates
 * (the wall clock rises monotonically across a single transition).
 */
static int64_t instant_of_wall(int64_t w)
{
    int64_t offs[3] = {off_at(w - NEAR_S), off_at(w), off_at(w + NEAR_S)};
    int64_t best = 0, lo, hi, omin = offs[0], omax = offs[0];
    int found = 0;
    for (int i = 0; i < 3; i++) {
        int64_t t = w - offs[i];
        if (wall_at(t) == w && (!found || t < best)) {
            best = t;
            found = 1;
        }
        omin = offs[i] < omin ? offs[i] : omin;
        omax = offs[i] > omax ? offs[i] : omax;
    }
    if (found)
        return best;
    lo = w - omax;              /* wall(lo) < w */
    hi = w - omin;              /* wall(hi) >= w */
    if (wall_at(hi) < w)
        return hi;              /* not a plain gap (cannot happen with real zones) */
    while (hi - lo > 1) {
        int64_t mid = lo + (hi - lo) / 2;
        if (wall_at(mid) >= w)
            hi = mid;
        else
            lo = mid;
    }
    return hi;
}

static int64_t reset_s(int secs, int64_t day)
{
    return instant_of_wall(day * DAY_S + secs);
}

int sched_reset_instant(const char *tz, int secs, int64_t day, int64_t *out_ms)
{
    struct zone_scope z;
    if (secs < 0 || secs >= DAY_S || zone_enter(tz, &z))
        return -1;
    *out_ms = reset_s(secs, day) * 1000;
    zone_leave(&z);
    return 0;
}

/* dir < 0: the latest reset at or before t_ms; dir > 0: the first after it. */
static int find_reset(const char *tz, int secs, int64_t t_ms, int dir, int64_t *at_ms, int64_t *day)
{
    struct zone_scope z;
    if (secs < 0 || secs >= DAY_S || zone_enter(tz, &z))
        return -1;
    int64_t t = floor_div(t_ms, 1000);
    int64_t d0 = floor_div(wall_at(t), DAY_S);
    int found = 0;
    /* The reset of the local date of t, or of a neighbour; two days more on
     * either side only matter for zones that skipped a whole calendar day. */
    for (int64_t k = -3; k <= 3; k++) {
        int64_t r = reset_s(secs, d0 + k) * 1000;
        int ok = dir < 0 ? r <= t_ms : r > t_ms;
        if (ok && (!found || (dir < 0 ? r > *at_ms : r < *at_ms))) {
            *at_ms = r;
            *day = d0 + k;
            found = 1;
        }
    }
    zone_leave(&z);
    return found ? 0 : -1;
}

int sched_prev_reset(const char *tz, int secs, int64_t t_ms, int64_t *at_ms, int64_t *day)
{
    return find_reset(tz, secs, t_ms, -1, at_ms, day);
}

int sched_next_reset(const char *tz, int secs, int64_t t_ms, int64_t *at_ms, int64_t *day)
{
    return find_reset(tz, secs, t_ms, 1, at_ms, day);
}

int sched_day_of(const char *tz, int secs, int64_t t_ms, struct sched_day *out)
{
    int64_t nday;
    if (sched_prev_reset(tz, secs, t_ms, &out->from_ms, &out->day) ||
        sched_next_reset(tz, secs, t_ms, &out->to_ms, &nday))
        return -1;
    sched_date_label(out->day, out->date);
    return 0;
}

int sched_days_due(const char *tz, int secs, int64_t last_ms, int64_t now_ms,
                   struct sched_day *out, int max)
{
    int64_t end_ms, end_day;
    int n = 0;
    if (max <= 0 || sched_prev_reset(tz, secs, now_ms, &end_ms, &end_day))
        return max <= 0 ? 0 : -1;
    /* Walk back from the newest reset; each one closes the day before it. */
    while (n < max && end_ms > last_ms) {
        struct sched_day *d = &out[n];
        int64_t from_ms;
        if (sched_reset_instant(tz, secs, end_day - 1, &from_ms))
            return -1;
        d->day = end_day - 1;
        d->from_ms = from_ms;
        d->to_ms = end_ms;
        sched_date_label(d->day, d->date);
        n++;
        end_ms = from_ms;
        end_day--;
    }
    for (int i = 0; i < n / 2; i++) {     /* oldest first */
        struct sched_day t = out[i];
        out[i] = out[n - 1 - i];
        out[n - 1 - i] = t;
    }
    return n;
}

void sched_format_local(const char *tz, int64_t t_ms, char *out, size_t len)
{
    struct zone_scope z;
    struct tm tm;
    time_t tt = (time_t)floor_div(t_ms, 1000);
    if (len == 0)
        return;
    out[0] = '\0';
    if (zone_enter(tz, &z))
        return;
    if (localtime_r(&tt, &tm))
        strftime(out, len, "%Y-%m-%d %H:%M %Z", &tm);
    zone_leave(&z);
}

/* ---- the reset ----------------------------------------------------------------------- */

/* Close one trading day: every plugin's performance row, then the hooks. */
static void close_day(struct app *a, const struct sched_day *d)
{
    struct registry *r = &a->reg;
    for (size_t k = 0; k < 2 * r->n; k++) {     /* every plugin, then every shadow (SPEC 12) */
        struct plugin *p = k < r->n ? r->v[k] : r->v[k - r->n]->shadow;
        struct ldg_stats st;
        if (!p || !p->ldg)
            continue;
        if (ldg_stats(p->ldg, d->from_ms, d->to_ms, &st) || ldg_put_performance(p->ldg, d->date, &st)) {
            LOG_E("sched", "%s: cannot write the performance row of %s: %s", p->id, d->date,
                  sqlite3_errmsg(ldg_db(p->ldg)));
            continue;
        }
        zx_daily z = {.total_trades = st.trades, .win_count = st.wins, .loss_count = st.losses,
                      .win_rate = st.win_rate, .total_profit = st.profit, .max_drawdown = st.max_drawdown};
        snprintf(z.date, sizeof z.date, "%s", d->date);
        reg_call_daily(r, p, &z);   /* enabled plugins only */
    }
}

/* The report of the closed days [days[0].from, days[n-1].to) to every admin chat. */
static void send_report(struct app *a, const struct sched_day *days, int n, int late)
{
    const char *tz = a->cfg.daily_reset.timezone;
    char title[96], note[192], from[48], to[48], err[256];
    struct rpt rp;
    struct sbuf html, cap;
    if (n == 1)
        snprintf(title, sizeof title, "Daily report %s", days[0].date);
    else
        snprintf(title, sizeof title, "Daily report %s … %s (%d days)", days[0].date, days[n - 1].date, n);
    sched_format_local(tz, days[0].from_ms, from, sizeof from);
    sched_format_local(tz, days[n - 1].to_ms, to, sizeof to);
    snprintf(note, sizeof note, "%s → %s%s", from, to,
             late ? "\nSent late: zepix was not running at the reset." : "");
    if (rpt_fill_app(&rp, a, NULL, days[0].from_ms, days[n - 1].to_ms, err, sizeof err)) {
        LOG_E("sched", "daily report: %s", err);
        chat_broadcast(a, "Daily report: the figures could not be read; see the log.");
        return;
    }
    LOG_I("sched", "%s: %d trades, %d won, %d lost, profit %+.2f, max drawdown %.2f", title, rp.total.trades,
          rp.total.wins, rp.total.losses, rp.total.profit, rp.total.max_drawdown);
    if (notify_muted(a, "reports")) {
        LOG_I("sched", "%s not sent: reports are muted (/unmute reports)", title);
        rpt_free(&rp);
        return;
    }
    sbuf_init(&html);
    sbuf_init(&cap);
    rpt_render(&rp, title, note, &html);
    shd_render(a, NULL, days[0].from_ms, days[n - 1].to_ms, &html);     /* live and shadow side by side */
    chat_broadcast(a, sbuf_str(&html));
    unsigned char *png = NULL;
    size_t png_len = 0;
    if (rpt_chart(&rp, title, tz, &png, &png_len, err, sizeof err) == 0) {
        rpt_caption(&rp, title, &cap);
        chat_broadcast_photo(a, png, png_len, sbuf_str(&cap));
    } else {
        LOG_E("sched", "daily report chart: %s", err);
    }
    free(png);
    sbuf_free(&cap);
    sbuf_free(&html);
    rpt_free(&rp);
}

/* Close every day that ended after the last completed reset (see scheduler.h). */
static void run_due(struct scheduler *s, int64_t now_ms, int late)
{
    struct app *a = s->app;
    const char *tz = a->cfg.daily_reset.timezone;
    int secs = a->cfg.daily_reset.seconds;
    struct sched_day days[SCHED_CATCHUP_MAX];
    int64_t last;
    int rc = store_kv_get_i64(a->db, SCHED_LAST_KEY, &last);
    if (rc < 0) {
        LOG_E("sched", "cannot read %s: %s", SCHED_LAST_KEY, sqlite3_errmsg(a->db));
        return;
    }
    if (rc == 1) {              /* first run ever: start counting from here */
        int64_t at, day;
        char when[48];
        if (sched_prev_reset(tz, secs, now_ms, &at, &day))
            return;
        if (store_kv_set_i64(a->db, SCHED_LAST_KEY, at)) {
            LOG_E("sched", "cannot persist %s: %s", SCHED_LAST_KEY, sqlite3_errmsg(a->db));
            return;
        }
        sched_format_local(tz, at, when, sizeof when);
        LOG_I("sched", "first start: daily resets counted from %s", when);
        return;
    }
    int n = sched_days_due(tz, secs, last, now_ms, days, SCHED_CATCHUP_MAX);
    if (n < 0) {
        LOG_E("sched", "daily reset: cannot compute the reset times in %s", tz);
        return;
    }
    if (n == 0)
        return;
    LOG_I("sched", "daily reset: closing %s%s%s%s", days[0].date, n > 1 ? " .. " : "",
          n > 1 ? days[n - 1].date : "", late ? " (missed while zepix was down)" : "");
    for (int i = 0; i < n; i++)
        close_day(a, &days[i]);
    if (store_kv_set_i64(a->db, SCHED_LAST_KEY, days[n - 1].to_ms))
        LOG_E("sched", "cannot persist %s: %s", SCHED_LAST_KEY, sqlite3_errmsg(a->db));
    send_report(a, days, n, late);
}

static void on_reset(struct ev_loop *loop, ev_periodic *w, int revents)
{
    (void)loop;
    (void)revents;
    run_due(w->data, app_now_ms() + FIRE_SLACK_MS, 0);
}

static void on_check(struct ev_loop *loop, ev_timer *w, int revents)
{
    (void)loop;
    (void)revents;
    run_due(w->data, app_now_ms(), 0);
}

/* libev asks for the next firing time after now (seconds). Must not touch the
 * loop: pure zone arithmetic. */
static ev_tstamp next_reset_at(ev_periodic *w, ev_tstamp now)
{
    struct scheduler *s = w->data;
    int64_t at, day;
    if (sched_next_reset(s->app->cfg.daily_reset.timezone, s->app->cfg.daily_reset.seconds,
                         (int64_t)(now * 1000), &at, &day))
        return now + 3600;      /* cannot happen with a validated zone; try again later */
    return at / 1000.0 > now ? at / 1000.0 : now + 1;
}

int sched_start(struct app *a, char *err, size_t errlen)
{
    struct scheduler *s = calloc(1, sizeof *s);
    int64_t at, day;
    char when[48];
    if (!s) {
        snprintf(err, errlen, "scheduler: out of memory");
        return -1;
    }
    if (sched_next_reset(a->cfg.daily_reset.timezone, a->cfg.daily_reset.seconds, app_now_ms(), &at, &day)) {
        snprintf(err, errlen, "daily_reset.timezone %s: cannot compute reset times", a->cfg.daily_reset.timezone);
        free(s);
        return -1;
    }
    s->app = a;
    a->sched = s;
    run_due(s, app_now_ms(), 1);
    ev_periodic_init(&s->timer, on_reset, 0., 0., next_reset_at);
    s->timer.data = s;
    ev_periodic_start(a->loop, &s->timer);
    ev_timer_init(&s->check, on_check, CHECK_S, CHECK_S);
    s->check.data = s;
    ev_timer_start(a->loop, &s->check);
    ev_unref(a->loop);          /* the check alone keeps no loop running */
    sched_format_local(a->cfg.daily_reset.timezone, at, when, sizeof when);
    LOG_I("sched", "next daily reset at %s", when);
    return 0;
}

void sched_free(struct app *a)
{
    struct scheduler *s = a->sched;
    if (!s)
        return;
    ev_periodic_stop(a->loop, &s->timer);
    if (ev_is_active(&s->check)) {
        ev_ref(a->loop);
        ev_timer_stop(a->loop, &s->check);
    }
    free(s);
    a->sched = NULL;
}
