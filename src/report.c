/*
 * report — see report.h.
 */
#include "report.h"
#include "app.h"
#include "chart.h"
#include "config.h"
#include "registry.h"
#include "sbuf.h"
#include "scheduler.h"

#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define DAY_MS 86400000LL

/* Exactly the rows ldg_stats() reads, in its order. */
static const char *const POINTS_SQL =
    "SELECT exit_ms, profit_dollars FROM trades WHERE status = 'CLOSED' AND exit_ms >= ?1"
    " AND exit_ms < ?2 ORDER BY exit_ms, id";

void rpt_rollup(const struct rpt_point *pts, size_t n, struct ldg_stats *out)
{
    double equity = 0, peak = 0;
    memset(out, 0, sizeof *out);
    for (size_t i = 0; i < n; i++)
        ldg_stats_add(out, pts[i].profit, &equity, &peak);
}

/* ---- filling ---------------------------------------------------------------------- */

struct tagged {                 /* a point and where it came from, for a stable merge */
    struct rpt_point pt;
    size_t src, seq;
};

static int cmp_tagged(const void *a, const void *b)
{
    const struct tagged *x = a, *y = b;
    if (x->pt.t_ms != y->pt.t_ms)
        return x->pt.t_ms < y->pt.t_ms ? -1 : 1;
    if (x->src != y->src)
        return x->src < y->src ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Append the closed trades of one plugin to *v. 0 or -1 (sqlite's message in err). */
static int load_points(ledger *l, size_t src, int64_t from_ms, int64_t to_ms, struct tagged **v, size_t *n,
                       size_t *cap, char *err, size_t errlen)
{
    sqlite3 *db = ldg_db(l);
    sqlite3_stmt *s;
    int rc;
    size_t seq = 0;
    if (sqlite3_prepare_v2(db, POINTS_SQL, -1, &s, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "%s", sqlite3_errmsg(db));
        return -1;
    }
    sqlite3_bind_int64(s, 1, from_ms);
    sqlite3_bind_int64(s, 2, to_ms);
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        if (*n == *cap) {
            size_t nc = *cap ? *cap * 2 : 64;
            struct tagged *nv = realloc(*v, nc * sizeof *nv);
            if (!nv) {
                snprintf(err, errlen, "out of memory");
                sqlite3_finalize(s);
                return -1;
            }
            *v = nv;
            *cap = nc;
        }
        (*v)[(*n)++] = (struct tagged){{sqlite3_column_int64(s, 0), sqlite3_column_double(s, 1)}, src, seq++};
    }
    if (rc != SQLITE_DONE)
        snprintf(err, errlen, "%s", sqlite3_errmsg(db));
    sqlite3_finalize(s);
    return rc == SQLITE_DONE ? 0 : -1;
}

int rpt_fill(struct rpt *r, const struct rpt_src *src, size_t n, int64_t from_ms, int64_t to_ms,
             char *err, size_t errlen)
{
    struct tagged *v = NULL;
    size_t nv = 0, cap = 0;
    char e[256];
    memset(r, 0, sizeof *r);
    r->from_ms = from_ms;
    r->to_ms = to_ms;
    if (n && !(r->rows = calloc(n, sizeof *r->rows))) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        struct rpt_row *row = &r->rows[i];
        snprintf(row->id, sizeof row->id, "%s", src[i].id);
        r->n_rows++;
        if (ldg_stats(src[i].ldg, from_ms, to_ms, &row->st)) {
            snprintf(err, errlen, "%s: cannot read its trades: %s", src[i].id, sqlite3_errmsg(ldg_db(src[i].ldg)));
            goto fail;
        }
        if (load_points(src[i].ldg, i, from_ms, to_ms, &v, &nv, &cap, e, sizeof e)) {
            snprintf(err, errlen, "%s: cannot read its trades: %s", src[i].id, e);
            goto fail;
        }
    }
    if (nv) {
        qsort(v, nv, sizeof *v, cmp_tagged);
        if (!(r->pts = malloc(nv * sizeof *r->pts))) {
            snprintf(err, errlen, "out of memory");
            goto fail;
        }
        for (size_t i = 0; i < nv; i++)
            r->pts[i] = v[i].pt;
        r->n_pts = nv;
    }
    free(v);
    rpt_rollup(r->pts, r->n_pts, &r->total);
    return 0;
fail:
    free(v);
    rpt_free(r);
    return -1;
}

int rpt_fill_app(struct rpt *r, struct app *a, const char *only_id, int64_t from_ms, int64_t to_ms,
                 char *err, size_t errlen)
{
    struct registry *reg = &a->reg;
    struct rpt_src *src = reg->n ? calloc(reg->n, sizeof *src) : NULL;
    size_t n = 0;
    if (reg->n && !src) {
        memset(r, 0, sizeof *r);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < reg->n; i++) {
        struct plugin *p = reg->v[i];
        if (p->ldg && (!only_id || strcmp(only_id, p->id) == 0))
            src[n++] = (struct rpt_src){p->id, p->ldg};
    }
    int rc = rpt_fill(r, src, n, from_ms, to_ms, err, errlen);
    free(src);
    return rc;
}

void rpt_free(struct rpt *r)
{
    free(r->rows);
    free(r->pts);
    memset(r, 0, sizeof *r);
}

/* ---- the table ------------------------------------------------------------------------- */

/*
 * 34 columns, two lines per plugin, so it fits a phone in portrait:
 *   plugin          trades    W/L win%
 *                   profit     max DD
 */
#define ID_W 15

static void put_line(struct sbuf *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put_line(struct sbuf *out, const char *fmt, ...)
{
    char line[160];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    sbuf_html(out, line);
    sbuf_puts(out, "\n");
}

static void put_row(struct sbuf *out, const char *id, const struct ldg_stats *st)
{
    char name[ID_W + 1], wl[32], rate[16], profit[32], dd[32];
    if (strlen(id) > ID_W)
        snprintf(name, sizeof name, "%.*s~", ID_W - 1, id);
    else
        snprintf(name, sizeof name, "%s", id);
    snprintf(wl, sizeof wl, "%d/%d", st->wins, st->losses);
    if (st->trades)
        snprintf(rate, sizeof rate, "%.0f%%", st->win_rate);
    else
        snprintf(rate, sizeof rate, "-");
    snprintf(profit, sizeof profit, "%+.2f", st->profit);
    snprintf(dd, sizeof dd, "%.2f", st->max_drawdown);
    put_line(out, "%-*s %6d %6s %4s", ID_W, name, st->trades, wl, rate);
    put_line(out, "%22s %11s", profit, dd);
    int flat = st->trades - st->wins - st->losses;
    if (flat > 0)   /* closed at break-even: neither a win nor a loss */
        put_line(out, "%22d flat", flat);
}

void rpt_render(const struct rpt *r, const char *title, const char *note, struct sbuf *out)
{
    static const char rule[] = "----------------------------------";
    sbuf_puts(out, "<b>");
    sbuf_html(out, title);
    sbuf_puts(out, "</b>\n");
    if (note && note[0]) {
        sbuf_html(out, note);
        sbuf_puts(out, "\n");
    }
    if (!r->n_rows) {
        sbuf_puts(out, "No plugin has a database yet.");
        return;
    }
    sbuf_puts(out, "<pre>");
    put_line(out, "%-*s %6s %6s %4s", ID_W, "plugin", "trades", "W/L", "win%");
    put_line(out, "%22s %11s", "profit", "max DD");
    put_line(out, "%s", rule);
    for (size_t i = 0; i < r->n_rows; i++)
        put_row(out, r->rows[i].id, &r->rows[i].st);
    if (r->n_rows > 1) {
        put_line(out, "%s", rule);
        put_row(out, "TOTAL", &r->total);
    }
    if (out->len && out->s[out->len - 1] == '\n')   /* no blank line at the end of the block */
        out->s[--out->len] = '\0';
    sbuf_puts(out, "</pre>");
}

void rpt_caption(const struct rpt *r, const char *title, struct sbuf *out)
{
    sbuf_puts(out, "<b>");
    sbuf_html(out, title);
    sbuf_puts(out, "</b>\n");
    sbuf_htmlf(out, "%d trade%s, profit %+.2f, max drawdown %.2f", r->total.trades,
               r->total.trades == 1 ? "" : "s", r->total.profit, r->total.max_drawdown);
}

/* ---- the chart ------------------------------------------------------------------------- */

int rpt_chart(const struct rpt *r, const char *title, const char *tz, unsigned char **png, size_t *len,
              char *err, size_t errlen)
{
    struct chart_point *cp = r->n_pts ? malloc(r->n_pts * sizeof *cp) : NULL;
    char from[48], to[48];
    double y = 0;
    if (r->n_pts && !cp) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < r->n_pts; i++) {
        y += r->pts[i].profit;
        cp[i] = (struct chart_point){(double)r->pts[i].t_ms, y};
    }
    /* "all" starts at 0: show from the first trade (or the last day) instead. */
    int64_t x0 = r->from_ms, x1 = r->to_ms;
    if (x0 <= 0)
        x0 = r->n_pts ? r->pts[0].t_ms : x1 - DAY_MS;
    sched_format_local(tz, x0, from, sizeof from);
    sched_format_local(tz, x1, to, sizeof to);
    struct chart_opts o = {.title = title, .x_from = from, .x_to = to, .x0 = (double)x0, .x1 = (double)x1};
    int rc = chart_equity_png(&o, cp, r->n_pts, png, len, err, errlen);
    free(cp);
    return rc;
}

/* ---- command arguments and periods ---------------------------------------------------- */

static const struct { const char *name; enum rpt_period per; const char *label; } periods[] = {
    {"today", RPT_TODAY, "today"},
    {"week", RPT_WEEK, "last 7 days"},
    {"month", RPT_MONTH, "last 30 days"},
    {"all", RPT_ALL, "all time"},
};

int rpt_parse_args(const char *args, char *id, size_t idlen, enum rpt_period *per, char *err, size_t errlen)
{
    int have_per = 0;
    const char *p = args ? args : "";
    id[0] = '\0';
    *per = RPT_TODAY;
    while (*p) {
        while (isspace((unsigned char)*p))
            p++;
        if (!*p)
            break;
        const char *e = p;
        while (*e && !isspace((unsigned char)*e))
            e++;
        size_t n = (size_t)(e - p), k;
        for (k = 0; k < sizeof periods / sizeof periods[0]; k++)
            if (strlen(periods[k].name) == n && strncasecmp(p, periods[k].name, n) == 0)
                break;
        if (k < sizeof periods / sizeof periods[0] && !have_per) {
            *per = periods[k].per;
            have_per = 1;
        } else if (k == sizeof periods / sizeof periods[0] && !id[0] && n < idlen) {
            memcpy(id, p, n);
            id[n] = '\0';
        } else {
            snprintf(err, errlen, "%s", n >= idlen ? "plugin id too long" : "too many arguments");
            return -1;
        }
        p = e;
    }
    return 0;
}

int rpt_period_range(const struct config *cfg, enum rpt_period per, int64_t now_ms, int64_t *from_ms,
                     int64_t *to_ms, char *label, size_t labellen)
{
    const char *tz = cfg->daily_reset.timezone;
    int secs = cfg->daily_reset.seconds;
    int64_t at, day;
    for (size_t k = 0; k < sizeof periods / sizeof periods[0]; k++)
        if (periods[k].per == per)
            snprintf(label, labellen, "%s", periods[k].label);
    *to_ms = now_ms + 1;
    if (sched_prev_reset(tz, secs, now_ms, &at, &day))
        return -1;
    switch (per) {
    case RPT_TODAY:
        *from_ms = at;
        return 0;
    case RPT_WEEK:
        return sched_reset_instant(tz, secs, day - 6, from_ms);
    case RPT_MONTH:
        return sched_reset_instant(tz, secs, day - 29, from_ms);
    case RPT_ALL:
        *from_ms = 0;
        return 0;
    }
    return -1;
}

int rpt_query(struct app *a, const char *id, enum rpt_period per, int64_t now_ms, struct rpt *r, char *title,
              size_t tlen, char *note, size_t nlen, char *err, size_t errlen)
{
    char label[32], from[48], e[256];
    int64_t from_ms, to_ms;
    memset(r, 0, sizeof *r);
    if (rpt_period_range(&a->cfg, per, now_ms, &from_ms, &to_ms, label, sizeof label)) {
        snprintf(err, errlen, "Cannot compute the period in %s.", a->cfg.daily_reset.timezone);
        return -1;
    }
    if (rpt_fill_app(r, a, id[0] ? id : NULL, from_ms, to_ms, e, sizeof e)) {
        snprintf(err, errlen, "Cannot read the figures: %s", e);
        return -1;
    }
    snprintf(title, tlen, "%s, %s", id[0] ? id : "All plugins", label);
    if (per == RPT_ALL) {
        note[0] = '\0';
    } else {
        sched_format_local(a->cfg.daily_reset.timezone, from_ms, from, sizeof from);
        snprintf(note, nlen, "since %s", from);
    }
    return 0;
}
