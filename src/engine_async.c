/*
 * engine_async — see engine_async.h.
 */
#include "engine_async.h"
#include "engine_int.h"
#include "engine_orders.h"
#include "clock.h"
#include "log.h"
#include "sbuf.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SHORT_GRACE_MS 60000        /* a partial close at the broker without its deal, guessed after this */


static void open_result(struct engine *e, struct plugin *p, struct epos *ep, const struct broker_result *r)
{
    char note[400];
    if (r->ok && r->ticket > 0 && r->price > 0) {
        double lot = r->volume > 0 ? r->volume : ep->lot;
        if (ldg_fill(p->ldg, ep->trade_id, r->ticket, r->price, lot) < 0)
            LOG_E("engine", "%s: the fill of #%lld is not recorded: %s", p->id, (long long)ep->trade_id,
                  sqlite3_errmsg(ldg_db(p->ldg)));
        ep->pending = 0;
        ep->ticket = r->ticket;
        ep->entry = r->price;
        ep->lot = lot;
        zx_order o = {.trade_id = ep->trade_id, .order_id = r->ticket, .side = ep->side, .lot = lot,
                      .price = r->price, .sl = ep->sl, .tp = ep->tp, .time_ms = clk_now_ms()};
        snprintf(o.symbol, sizeof o.symbol, "%s", ep->symbol);
        struct ldg_trade t;
        if (ldg_get(p->ldg, ep->trade_id, &t) == 0)
            o.signal_id = t.signal_id;
        snprintf(note, sizeof note, "%s opened #%lld %s %.2f %s at %.5f (ticket %lld)", p->id,
                 (long long)ep->trade_id, ep->side == ZX_BUY ? "BUY" : "SELL", lot, ep->symbol, r->price,
                 (long long)r->ticket);
        e->ev.note(e->ev.ud, NULL, note);
        e->ev.order_placed(e->ev.ud, p, &o);
        return;
    }
    if (r->ok && r->ticket > 0) {
        /* Executed, but the terminal had no fill price yet: the position with
         * this ticket fills it (fill_from_positions). Never "rejected". */
        LOG_W("engine", "%s #%lld executed as ticket %lld without a price: filled from the positions", p->id,
              (long long)ep->trade_id, (long long)r->ticket);
        ep->ticket = r->ticket;
        return;
    }
    char why[200];
    const char *msg = r->ok ? "no ticket or price in the result" : r->error;
    snprintf(why, sizeof why, "rejected: %.*s", (int)sbuf_utf8_prefix(msg, 180), msg);
    if (ldg_reject(p->ldg, ep->trade_id, why, clk_now_ms()) < 0)
        LOG_E("engine", "%s: the rejection of #%lld is not recorded: %s", p->id, (long long)ep->trade_id,
              sqlite3_errmsg(ldg_db(p->ldg)));
    zx_position pos;
    engi_to_position(ep, &pos);
    pos.closed = 1;
    pos.close_reason = "rejected";
    snprintf(note, sizeof note, "%s order #%lld %s %.2f %s %s", p->id, (long long)ep->trade_id,
             ep->side == ZX_BUY ? "BUY" : "SELL", ep->lot, ep->symbol, why);
    engi_del_pos(e, ep);
    e->ev.position_update(e->ev.ud, p, &pos);
    e->ev.note(e->ev.ud, NULL, note);
}

void eng_broker_result(struct engine *e, const struct broker_result *r)
{
    if (strcmp(r->op, "pending") == 0 || strcmp(r->op, "cancel") == 0) {
        engi_orders_result(e, r);       /* a working order's (engine_orders.c) */
        return;
    }
    struct plugin *p = e->ev.find(e->ev.ud, r->plugin);
    struct epos *ep = p ? engi_find_pos(e, p->id, r->trade_id) : NULL;
    char note[400], err[256];
    if (!p || !p->ldg || !ep) {
        LOG_W("engine", "result of %s for %s #%lld: no such open trade, ignored", r->op, r->plugin,
              (long long)r->trade_id);
        return;
    }
    if (strcmp(r->op, "open") == 0) {
        if (ep->pending)
            open_result(e, p, ep, r);
        return;
    }
    if (ep->pending)
        return;
    if (strcmp(r->op, "close") == 0) {
        char reason[16];
        sbuf_fmt(reason, sizeof reason, "%s", ep->close_reason[0] ? ep->close_reason : "manual");
        ep->closing = 0;
        ep->close_reason[0] = '\0';
        if (r->ok && r->deal_applied) {
            LOG_I("engine", "%s #%lld: the close's deal was applied from the closed deals already", p->id,
                  (long long)r->trade_id);
            return;
        }
        if (r->ok && r->price > 0) {
            engi_record_close(e, p, ep, r->volume, r->price, r->profit, clk_now_ms(), reason, err, sizeof err);
            return;
        }
        snprintf(note, sizeof note, "%s: the close of #%lld failed in the terminal: %.*s", p->id,
                 (long long)r->trade_id, (int)sbuf_utf8_prefix(r->ok ? "no price in the result" : r->error, 200),
                 r->ok ? "no price in the result" : r->error);
        e->ev.note(e->ev.ud, NULL, note);
    } else if (strcmp(r->op, "modify") == 0) {
        if (r->ok) {
            if (ldg_update_sltp(p->ldg, ep->trade_id, r->sl, r->tp))
                LOG_E("engine", "%s: SL/TP of #%lld not recorded: %s", p->id, (long long)ep->trade_id,
                      sqlite3_errmsg(ldg_db(p->ldg)));
            ep->sl = r->sl;
            ep->tp = r->tp;
            return;
        }
        snprintf(note, sizeof note, "%s: the SL/TP change of #%lld failed in the terminal: %.*s", p->id,
                 (long long)r->trade_id, (int)sbuf_utf8_prefix(r->error, 200), r->error);
        e->ev.note(e->ev.ud, NULL, note);
    }
}

int eng_knows_ticket(struct engine *e, int64_t ticket)
{
    for (size_t i = 0; i < e->npos; i++)
        if (ticket > 0 && e->pos[i].ticket == ticket)
            return 1;
    return 0;
}

static const struct broker_position *find_bpos(const struct broker_position *pos, int n, int64_t ticket)
{
    for (int i = 0; i < n; i++)
        if (pos[i].ticket == ticket)
            return &pos[i];
    return NULL;
}

/* The price a position would close at now: the quote, else the last one seen. */
static double close_price(struct engine *e, const struct epos *ep)
{
    double bid, ask;
    if (e->brk->ops->quote(e->brk->self, ep->symbol, &bid, &ask, NULL) == 0)
        return ep->side == ZX_BUY ? bid : ask;
    return ep->last_price > 0 ? ep->last_price : ep->entry;
}

/* A pending trade whose result never came (or came without a price), but
 * whose position is there (matched by the broker from its open request:
 * comment, magic, symbol; or by the ticket of that result): fill it. */
static void fill_from_positions(struct engine *e, const struct broker_position *pos, int npos)
{
    for (int i = 0; i < npos; i++) {
        struct epos *ep = pos[i].plugin[0] ? engi_find_pos(e, pos[i].plugin, pos[i].trade_id) : NULL;
        struct epos *other = engi_find_ticket(e, pos[i].ticket);
        for (size_t k = 0; !ep && k < e->npos; k++)
            if (e->pos[k].pending && e->pos[k].ticket > 0 && e->pos[k].ticket == pos[i].ticket)
                ep = &e->pos[k];    /* executed without a price: this is its position */
        if (!ep || !ep->pending || other)
            continue;
        char plugin[64];
        int64_t id = ep->trade_id;
        snprintf(plugin, sizeof plugin, "%s", ep->plugin);
        struct plugin *p = e->ev.find(e->ev.ud, plugin);
        if (!p)
            continue;
        struct broker_result r = {.op = "open", .plugin = plugin, .trade_id = id, .ok = 1,
                                  .ticket = pos[i].ticket, .price = pos[i].price_open,
                                  .volume = pos[i].volume, .profit = NAN};
        LOG_W("engine", "%s #%lld filled from the terminal's positions (its result was not seen)", plugin,
              (long long)id);
        open_result(e, p, ep, &r);
    }
}

static int is_filled(const struct epos *ep, const void *unused)
{
    (void)unused;
    return !ep->pending && ep->ticket > 0;
}

void eng_broker_sync(struct engine *e, const struct broker_position *pos, int npos,
                     const struct broker_closed *closed, int nclosed)
{
    char err[256];
    for (int i = 0; i < nclosed; i++) {
        struct epos *ep = engi_find_ticket(e, closed[i].ticket);
        struct plugin *p = ep ? e->ev.find(e->ev.ud, ep->plugin) : NULL;
        if (!p || !p->ldg)
            continue;
        engi_record_close(e, p, ep, closed[i].volume, closed[i].price, closed[i].profit,
                     closed[i].time_ms ? closed[i].time_ms : clk_now_ms(), closed[i].reason, err, sizeof err);
    }
    if (npos < 0)
        return;
    fill_from_positions(e, pos, npos);
    /* Closing reorders the cache: walk a snapshot of the filled trades. */
    size_t n;
    struct engi_key *todo = engi_snapshot(e, is_filled, NULL, &n);
    if (!todo)
        return;
    for (size_t i = 0; i < n; i++) {
        struct epos *ep = engi_find_pos(e, todo[i].plugin, todo[i].id);
        struct plugin *p = e->ev.find(e->ev.ud, todo[i].plugin);
        if (!ep || !p || !p->ldg)
            continue;
        const struct broker_position *bp = find_bpos(pos, npos, ep->ticket);
        if (!bp && ep->closing)
            continue;               /* our close is on its way: its result books it */
        if (!bp) {                  /* gone: closed at the terminal */
            engi_record_close(e, p, ep, 0, close_price(e, ep), ep->term_profit, clk_now_ms(), "terminal", err,
                         sizeof err);
            continue;
        }
        ep->term_profit = bp->profit;
        if (fabs(bp->sl - ep->sl) > 1e-9 || fabs(bp->tp - ep->tp) > 1e-9) {
            if (ldg_update_sltp(p->ldg, ep->trade_id, bp->sl, bp->tp) == 0) {
                ep->sl = bp->sl;
                ep->tp = bp->tp;
            }
        }
        /* Partly closed: its deal (closed[] or a close result) books it. Only a
         * deal still missing after SHORT_GRACE_MS is guessed at the quote. */
        if (bp->volume > 0 && bp->volume < ep->lot - 0.005 && !ep->closing) {
            int64_t now = clk_now_ms();
            if (!ep->short_since_ms)
                ep->short_since_ms = now;
            else if (now - ep->short_since_ms >= SHORT_GRACE_MS)
                engi_record_close(e, p, ep, ep->lot - bp->volume, close_price(e, ep), NAN, now, "terminal", err,
                             sizeof err);
        } else {
            ep->short_since_ms = 0;
        }
    }
    free(todo);
}
