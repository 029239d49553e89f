/*
 * report — the performance figures of a period, per plugin and in total, and
 * the two ways they are shown: an HTML table (the daily report, /daily,
 * /stats) and an equity-curve chart (the daily report, /chart). Everything
 * that shows performance goes through rpt_fill(), so the numbers always agree
 * with each other and with the performance rows the daily reset writes.
 *
 * Per plugin the figures are ldg_stats() over its CLOSED trades with exit_ms in
 * [from_ms, to_ms). The totals are the same arithmetic (rpt_rollup) over every
 * plugin's closed trades merged by exit time, so the total max drawdown is the
 * drawdown of the combined realised equity curve, not a sum of drawdowns.
 *
 * Reads the plugins' databases with short indexed queries on the loop thread;
 * renders in memory. Never touches the network.
 */
#ifndef ZEPIX_REPORT_H
#define ZEPIX_REPORT_H

#include <stddef.h>
#include <stdint.h>
#include "ledger.h"

struct app;
struct config;
struct sbuf;

enum rpt_period { RPT_TODAY, RPT_WEEK, RPT_MONTH, RPT_ALL };

/* One closed trade on the curve: when it closed and what it made. */
struct rpt_point {
    int64_t t_ms;
    double profit;
};

/* A plugin to report on (borrowed). */
struct rpt_src {
    const char *id;
    ledger *ldg;
};

struct rpt_row {
    char id[64];
    struct ldg_stats st;
};

struct rpt {
    int64_t from_ms, to_ms;         /* the period, [from, to) */
    struct rpt_row *rows;           /* one per plugin, in the order given */
    size_t n_rows;
    struct ldg_stats total;
    struct rpt_point *pts;          /* every closed trade of the period, by time */
    size_t n_pts;
};

/* Fill r (owned by the caller, rpt_free) for the sources over [from_ms, to_ms).
 * 0, or -1 with err (r is then empty). */
int rpt_fill(struct rpt *r, const struct rpt_src *src, size_t n, int64_t from_ms, int64_t to_ms,
             char *err, size_t errlen);
/* The same for the daemon's plugins that have a database: all of them, or only
 * plugin only_id when it is not NULL. */
int rpt_fill_app(struct rpt *r, struct app *a, const char *only_id, int64_t from_ms, int64_t to_ms,
                 char *err, size_t errlen);
void rpt_free(struct rpt *r);

/* ldg_stats' arithmetic over points in order: a trade is a win when it made
 * money, a loss when it lost, neither at zero; max drawdown is the largest fall
 * of the cumulative profit from its running peak (which starts at 0). */
void rpt_rollup(const struct rpt_point *pts, size_t n, struct ldg_stats *out);

/* The report as Telegram HTML: a bold title, an optional note (plain text,
 * may hold newlines), and a monospace table at most 34 characters wide — per
 * plugin trades, wins/losses, win rate, then profit and max drawdown — with a
 * totals line when there is more than one plugin. Every value escaped. */
void rpt_render(const struct rpt *r, const char *title, const char *note, struct sbuf *out);

/* The photo caption for the chart: title and total profit (HTML, short). */
void rpt_caption(const struct rpt *r, const char *title, struct sbuf *out);

/* The equity curve of r (cumulative realised profit over the period) as PNG;
 * axis times are shown in zone tz. *png is malloc'ed (caller frees). 0 or -1. */
int rpt_chart(const struct rpt *r, const char *title, const char *tz, unsigned char **png, size_t *len,
              char *err, size_t errlen);

/* Command arguments "[ID] [today|week|month|all]" in either order; period
 * defaults to today. id is "" when none was given. 0, or -1 with a reason. */
int rpt_parse_args(const char *args, char *id, size_t idlen, enum rpt_period *per, char *err, size_t errlen);

/* The interval of a period ending now, by trading days: today = since the most
 * recent reset, week = the last 7 trading days (today and the 6 before),
 * month = the last 30, all = everything. to_ms is just after now. label gets a
 * short name ("today", "last 7 days", ...). 0 or -1. */
int rpt_period_range(const struct config *cfg, enum rpt_period per, int64_t now_ms, int64_t *from_ms,
                     int64_t *to_ms, char *label, size_t labellen);

/* For /stats and /chart: fill r for plugin id (every plugin when id is "")
 * over the period per ending at now_ms. title gets "passthru, today" or "All
 * plugins, last 7 days", note "since 2026-03-09 03:35 IST" ("" for all time),
 * both plain text. 0, or -1 with err, a sentence for the operator. */
int rpt_query(struct app *a, const char *id, enum rpt_period per, int64_t now_ms, struct rpt *r, char *title,
              size_t tlen, char *note, size_t nlen, char *err, size_t errlen);

#endif
