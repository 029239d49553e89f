/*
 * exit_logic.c — combined_v3's position-update management: break-even, one
 * partial profit booking per trade, trailing stop (SL only ever tightens).
 *
 * Never calls the API for a closed update. Never holds a cv3_memo pointer
 * across an API call: the host may deliver another update (e.g. the close of
 * the trade) from inside close_trade, which can change the table.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "entry_logic.h"
#include "exit_logic.h"
#include "exit_store.h"

#define CV3_EPS 1e-9
#define CV3_PARTIAL_MAX_FAILURES 3  /* then give up on that trade's partial */

void cv3_exit_plan_for(const cv3_exit_cfg *cfg, const zx_position *pos, double pip_size,
                       const cv3_memo *memo, cv3_exit_plan *plan)
{
    memset(plan, 0, sizeof *plan);
    if (pos->closed || pip_size <= 0)
        return;
    double dir = pos->side == ZX_BUY ? 1.0 : -1.0;

    if (cfg->partial_close_at_pips > 0 && cfg->partial_close_fraction > 0 &&
        (memo == NULL || !memo->partial_done) &&
        pos->profit_pips >= cfg->partial_close_at_pips - CV3_EPS) {
        double part = cv3_entry_round_down(pos->lot * cfg->partial_close_fraction, cfg->lot_step);
        if (part > 0 && part >= cfg->min_lot - CV3_EPS && pos->lot - part >= cfg->min_lot - CV3_EPS)
            plan->close_lot = part;
        else
            plan->partial_skip = 1;
    }

    /* The tightest SL that break-even and trailing ask for. A candidate must lie
     * strictly on the safe side of current_price, or it would stop out at once. */
    double cand = 0;
    const char *why = NULL;
    if (cfg->breakeven_after_pips > 0 &&
        pos->profit_pips >= cfg->breakeven_after_pips - CV3_EPS) {
        double c = pos->entry_price + dir * cfg->breakeven_offset_pips * pip_size;
        if (dir * (pos->current_price - c) > 0) {
            cand = c;
            why = "break-even";
        }
    }
    if (cfg->trailing_start_pips > 0 && cfg->trailing_distance_pips > 0 &&
        pos->profit_pips >= cfg->trailing_start_pips - CV3_EPS) {
        double c = pos->current_price - dir * cfg->trailing_distance_pips * pip_size;
        if (c > 0 && (cand == 0 || dir * (c - cand) > 0)) {
            cand = c;
            why = "trailing";
        }
    }
    if (cand <= 0)
        return;

    /* Compare with the tighter of the broker's SL and the last one we set
     * (the update may predate our modify). */
    double ref = pos->sl;
    if (memo != NULL && memo->last_sl > 0 && (ref <= 0 || dir * (memo->last_sl - ref) > 0))
        ref = memo->last_sl;
    double min_move = pip_size * 0.01;      /* ignore float noise */
    if (strcmp(why, "trailing") == 0 && cfg->trailing_step_pips > 0)
        min_move = cfg->trailing_step_pips * pip_size;
    if (ref <= 0 || dir * (cand - ref) >= min_move - CV3_EPS * pip_size) {
        plan->new_sl = cand;
        plan->sl_why = why;
    }
}

cv3_memo *cv3_exit_find(cv3_exit *ex, int64_t trade_id)
{
    for (size_t i = 0; i < ex->n; i++)
        if (ex->rows[i].trade_id == trade_id)
            return &ex->rows[i];
    return NULL;
}

/* Find or add; NULL only when out of memory. */
static cv3_memo *cv3_exit_get(cv3_exit *ex, int64_t trade_id)
{
    cv3_memo *m = cv3_exit_find(ex, trade_id);
    if (m != NULL)
        return m;
    if (ex->n == ex->cap) {
        size_t cap = ex->cap ? ex->cap * 2 : 16;
        cv3_memo *rows = realloc(ex->rows, cap * sizeof *rows);
        if (rows == NULL)
            return NULL;
        ex->rows = rows;
        ex->cap = cap;
    }
    m = &ex->rows[ex->n++];
    memset(m, 0, sizeof *m);
    m->trade_id = trade_id;
    return m;
}

static void cv3_exit_forget(cv3_exit *ex, int64_t trade_id)
{
    cv3_memo *m = cv3_exit_find(ex, trade_id);
    if (m == NULL)
        return;
    int had_partial = m->partial_done;
    *m = ex->rows[--ex->n];                 /* order does not matter */
    char err[160];
    if (had_partial && ex->persist &&
        cv3_store_forget(ex->api->db(ex->host), trade_id, err, sizeof err) != 0)
        ex->api->log(ex->host, ZX_LOG_WARN, "forget trade %lld: %s", (long long)trade_id, err);
}

static void cv3_exit_load_row(void *ctx, int64_t trade_id)
{
    cv3_exit *ex = ctx;
    cv3_memo *m = cv3_exit_get(ex, trade_id);
    if (m != NULL)
        m->partial_done = 1;
}

int cv3_exit_open(cv3_exit *ex, zx_host *h, const zx_api *api, const cv3_exit_cfg *cfg)
{
    char err[160];
    memset(ex, 0, sizeof *ex);
    ex->host = h;
    ex->api = api;
    ex->cfg = *cfg;
    if (cv3_store_open(api->db(h), err, sizeof err) == 0) {
        ex->persist = 1;
        if (cv3_store_load(api->db(h), cv3_exit_load_row, ex) != 0)
            api->log(h, ZX_LOG_WARN, "could not load cv3_partial_done");
        api->log(h, ZX_LOG_INFO, "partial-close memo persisted (%zu open trade(s) remembered)",
                 ex->n);
    } else {
        api->log(h, ZX_LOG_INFO, "partial-close memo in memory only: %s", err);
    }
    return 0;
}

void cv3_exit_close(cv3_exit *ex)
{
    free(ex->rows);
    ex->rows = NULL;
    ex->n = ex->cap = 0;
}

static void cv3_exit_mark_partial(cv3_exit *ex, int64_t trade_id)
{
    char err[160];
    cv3_memo *m = cv3_exit_find(ex, trade_id);
    if (m == NULL)
        return;                             /* closed meanwhile */
    m->partial_done = 1;
    if (ex->persist && cv3_store_mark(ex->api->db(ex->host), trade_id,
                                      ex->api->now_ms(ex->host), err, sizeof err) != 0)
        ex->api->log(ex->host, ZX_LOG_WARN, "remember partial of trade %lld: %s",
                     (long long)trade_id, err);
}

static void cv3_exit_do_partial(cv3_exit *ex, const zx_position *pos, double lot)
{
    char err[160], msg[256];
    if (ex->api->close_trade(ex->host, pos->trade_id, lot, err, sizeof err) == 0) {
        cv3_exit_mark_partial(ex, pos->trade_id);
        snprintf(msg, sizeof msg, "%s trade %lld: booked %g of %g lot at %.1f pips",
                 pos->symbol, (long long)pos->trade_id, lot, pos->lot, pos->profit_pips);
        ex->api->log(ex->host, ZX_LOG_INFO, "%s", msg);
        if (ex->cfg.notify_exits)
            ex->api->notify(ex->host, msg);
        return;
    }
    ex->api->log(ex->host, ZX_LOG_WARN, "partial close of trade %lld failed: %s",
                 (long long)pos->trade_id, err);
    cv3_memo *m = cv3_exit_find(ex, pos->trade_id);
    if (m != NULL && ++m->partial_failures >= CV3_PARTIAL_MAX_FAILURES) {
        cv3_exit_mark_partial(ex, pos->trade_id);
        snprintf(msg, sizeof msg, "%s trade %lld: partial close failed %d times, giving up: %s",
                 pos->symbol, (long long)pos->trade_id, CV3_PARTIAL_MAX_FAILURES, err);
        ex->api->notify(ex->host, msg);
    }
}

static void cv3_exit_do_sl(cv3_exit *ex, const zx_position *pos, double sl, const char *why)
{
    char err[160], msg[256];
    if (ex->api->modify_trade(ex->host, pos->trade_id, sl, -1, err, sizeof err) != 0) {
        ex->api->log(ex->host, ZX_LOG_WARN, "%s SL %g for trade %lld refused: %s", why, sl,
                     (long long)pos->trade_id, err);
        return;
    }
    cv3_memo *m = cv3_exit_find(ex, pos->trade_id);
    if (m != NULL)
        m->last_sl = sl;
    snprintf(msg, sizeof msg, "%s trade %lld: %s SL %g -> %g", pos->symbol,
             (long long)pos->trade_id, why, pos->sl, sl);
    /* Trailing moves often: log at debug; break-even happens once. */
    int once = strcmp(why, "break-even") == 0;
    ex->api->log(ex->host, once ? ZX_LOG_INFO : ZX_LOG_DEBUG, "%s", msg);
    if (once && ex->cfg.notify_exits)
        ex->api->notify(ex->host, msg);
}

void cv3_exit_on_update(cv3_exit *ex, const zx_position *pos)
{
    if (pos->closed) {
        cv3_exit_forget(ex, pos->trade_id);
        return;
    }
    double pip_size = 0, pip_value = 0;
    if (ex->api->symbol_info(ex->host, pos->symbol, &pip_size, &pip_value) != 0 || pip_size <= 0)
        return;

    /* The row must exist before close_trade so a done partial is never forgotten. */
    cv3_memo *m = cv3_exit_get(ex, pos->trade_id);
    if (m == NULL) {
        ex->api->log(ex->host, ZX_LOG_ERROR, "out of memory tracking trade %lld",
                     (long long)pos->trade_id);
        return;
    }
    cv3_exit_plan plan;
    cv3_exit_plan_for(&ex->cfg, pos, pip_size, m, &plan);

    if (plan.close_lot > 0) {
        cv3_exit_do_partial(ex, pos, plan.close_lot);
    } else if (plan.partial_skip) {
        ex->api->log(ex->host, ZX_LOG_INFO, "trade %lld: lot %g too small to split, no partial",
                     (long long)pos->trade_id, pos->lot);
        cv3_exit_mark_partial(ex, pos->trade_id);
    }
    if (plan.new_sl > 0 && cv3_exit_find(ex, pos->trade_id) != NULL)
        cv3_exit_do_sl(ex, pos, plan.new_sl, plan.sl_why);
}

void cv3_exit_prune(cv3_exit *ex)
{
    enum { MAX = 256 };
    zx_position *open = malloc(MAX * sizeof *open);
    if (open == NULL)
        return;
    int n = ex->api->open_trades(ex->host, open, MAX);
    if (n >= 0 && n < MAX) {                /* n == MAX: maybe more, do not guess */
        size_t i = 0;
        while (i < ex->n) {
            int64_t id = ex->rows[i].trade_id;
            int found = 0;
            for (int k = 0; k < n && !found; k++)
                found = open[k].trade_id == id;
            if (found)
                i++;
            else
                cv3_exit_forget(ex, id);    /* moves the last row into slot i */
        }
    }
    free(open);
}
