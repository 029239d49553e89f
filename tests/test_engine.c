/* test_engine — the engine alone: the position book and order operations
 * (engine.c) and what an asynchronous broker reports later (engine_async.c),
 * on the paper broker and on a fake asynchronous broker of this file's own,
 * with the events table filled here instead of by app.c.
 *
 * The Makefile links this test with an explicit object list and only SQLite,
 * json-c and libev (ENGINE_OBJS): a chat, HTTP, metrics or MT5 call added to
 * the engine stops it from linking. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "broker_paper.h"
#include "engine.h"
#include "engine_async.h"
#include "engine_orders.h"
#include "clock.h"
#include "signal.h"
#include "ledger.h"
#include "quotes.h"
#include "risk.h"
#include "store.h"

/* ---- a fake asynchronous broker: submit() records, results come from the test ---- */

struct fake_async {
    struct broker base;
    struct quotes *qt;
    int offline;
    int64_t next_rid;
    struct broker_request last;     /* strings point at last_* below */
    char last_op[16], last_plugin[64], last_symbol[32];
    int submitted;
};

static int fa_ready(void *self, char *err, size_t errlen)
{
    struct fake_async *f = self;
    if (!f->offline)
        return 0;
    snprintf(err, errlen, "terminal offline: test");
    return -1;
}

static int fa_submit(void *self, const struct broker_request *rq, int64_t *rid, char *err, size_t errlen)
{
    struct fake_async *f = self;
    (void)err, (void)errlen;
    f->last = *rq;
    snprintf(f->last_op, sizeof f->last_op, "%s", rq->op);
    snprintf(f->last_plugin, sizeof f->last_plugin, "%s", rq->plugin);
    snprintf(f->last_symbol, sizeof f->last_symbol, "%s", rq->symbol);
    f->last.op = f->last_op;
    f->last.plugin = f->last_plugin;
    f->last.symbol = f->last_symbol;
    f->submitted++;
    *rid = ++f->next_rid;
    return 0;
}

static int fa_quote(void *self, const char *symbol, double *bid, double *ask, int64_t *t)
{
    struct fake_async *f = self;
    return qt_get(f->qt, symbol, bid, ask, t);
}

static int fa_set_quote(void *self, const char *symbol, double bid, double ask, int64_t t, char *err, size_t errlen)
{
    struct fake_async *f = self;
    return qt_set(f->qt, symbol, bid, ask, t, err, errlen);
}

static int fa_account(void *self, double *balance, double *equity)
{
    (void)self;
    *balance = 5000;
    *equity = 5000;
    return 0;
}

static void fa_describe(void *self, char *out, size_t len)
{
    struct fake_async *f = self;
    snprintf(out, len, "fake terminal %s", f->offline ? "offline" : "online");
}

static void fa_destroy(void *self)
{
    struct fake_async *f = self;
    qt_free(f->qt);
    free(f);
}

static const struct broker_ops fa_ops = {
    .kind = "fake", .async = 1, .ready = fa_ready, .submit = fa_submit, .quote = fa_quote,
    .set_quote = fa_set_quote, .account = fa_account, .describe = fa_describe, .destroy = fa_destroy,
};

static struct fake_async *fa_new(void)
{
    struct fake_async *f = calloc(1, sizeof *f);
    assert_non_null(f);
    f->qt = qt_new();
    assert_non_null(f->qt);
    f->base.ops = &fa_ops;
    f->base.self = f;
    return f;
}

/* ---- the fixture: plugins, ledgers and the events table ---- */

#define NPLUG 2

struct fx {
    char dir[64];
    struct config cfg;
    sqlite3 *db;
    struct risk *risk;
    struct plugin plug[NPLUG];
    struct engine *e;
    struct fake_async *fa;          /* NULL on the paper broker */
    int placed, updates, closed_updates, refused_orders, sent_orders;
    zx_order last_order;
    zx_position last_pos;
    char last_close_reason[32];
    char notes[4096];
    int deny;                       /* may_open refuses */
};

static struct plugin *ev_find(void *ud, const char *id)
{
    struct fx *f = ud;
    for (int i = 0; i < NPLUG; i++)
        if (strcmp(f->plug[i].id, id) == 0)
            return &f->plug[i];
    return NULL;
}

static struct plugin *ev_at(void *ud, size_t i)
{
    struct fx *f = ud;
    return i < NPLUG ? &f->plug[i] : NULL;
}

static int ev_may_open(void *ud, struct plugin *p, char *err, size_t errlen)
{
    struct fx *f = ud;
    if (!f->deny)
        return 0;
    snprintf(err, errlen, "%s may not open (test)", p->id);
    return -1;
}

static int64_t ev_day_from(void *ud)
{
    (void)ud;
    return 0;
}

static void ev_placed(void *ud, struct plugin *p, const zx_order *o)
{
    struct fx *f = ud;
    (void)p;
    f->placed++;
    f->last_order = *o;
}

static void ev_update(void *ud, struct plugin *p, const zx_position *pos)
{
    struct fx *f = ud;
    (void)p;
    f->updates++;
    f->last_pos = *pos;
    if (pos->closed) {
        f->closed_updates++;
        snprintf(f->last_close_reason, sizeof f->last_close_reason, "%s", pos->close_reason);
    }
}

static void ev_result(void *ud, const char *id, int ok)
{
    struct fx *f = ud;
    (void)id;
    if (ok)
        f->sent_orders++;
    else
        f->refused_orders++;
}

static void ev_note(void *ud, const char *kind, const char *text)
{
    struct fx *f = ud;
    size_t n = strlen(f->notes);
    snprintf(f->notes + n, sizeof f->notes - n, "[%s] %s\n", kind ? kind : "admins", text);
}

static const char *CONFIG =
    "{\"plugin_system\": {\"plugin_dir\": \"plugins\", \"data_dir\": \"%s\"},"
    " \"broker\": {\"kind\": \"paper\", \"paper\": {\"balance\": 10000, \"spread_pips\": 0}},"
    " \"risk\": {\"max_open_trades\": %d},"
    " \"symbols\": {\"EURUSD\": {\"pip_size\": 0.0001, \"contract_size\": 100000, \"volume_step\": 0.01,"
    " \"min_lot\": 0.01, \"max_lot\": 50}}}";

static void fx_engine(struct fx *f, int async)
{
    char err[256];
    struct eng_events ev = {.ud = f, .find = ev_find, .plugin_at = ev_at, .may_open = ev_may_open,
                            .day_from = ev_day_from, .order_placed = ev_placed, .position_update = ev_update,
                            .order_result = ev_result, .note = ev_note};
    struct broker *b;
    if (async) {
        f->fa = fa_new();
        b = &f->fa->base;
    } else {
        f->fa = NULL;
        b = paper_new(&f->cfg, err, sizeof err);
        assert_non_null(b);
    }
    f->e = eng_new(&f->cfg, b, f->risk, &ev, err, sizeof err);
    assert_non_null(f->e);
    for (int i = 0; i < NPLUG; i++)
        eng_adopt(f->e, &f->plug[i]);
}

static struct fx *fx_up(int async, int max_open)
{
    struct fx *f = calloc(1, sizeof *f);
    char json[2048], err[256];
    assert_non_null(f);
    snprintf(f->dir, sizeof f->dir, "/tmp/zx-test-engine-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(json, sizeof json, CONFIG, f->dir, max_open);
    assert_int_equal(cfg_parse("test.json", json, &f->cfg, err, sizeof err), 0);
    assert_int_equal(store_host_open(f->dir, &f->db, err, sizeof err), 0);
    f->risk = risk_new(f->db, &f->cfg);
    assert_non_null(f->risk);
    const char *ids[NPLUG] = {"alpha", "beta"};
    for (int i = 0; i < NPLUG; i++) {
        snprintf(f->plug[i].id, sizeof f->plug[i].id, "%s", ids[i]);
        f->plug[i].st = PLG_ENABLED;
        assert_int_equal(ldg_open(f->dir, ids[i], &f->plug[i].ldg, err, sizeof err), 0);
    }
    fx_engine(f, async);
    return f;
}

static void fx_down(struct fx *f)
{
    char cmd[128];
    eng_free(f->e);
    for (int i = 0; i < NPLUG; i++)
        ldg_close(f->plug[i].ldg);
    risk_free(f->risk);
    store_close(f->db);
    cfg_free(&f->cfg);
    snprintf(cmd, sizeof cmd, "rm -rf %s", f->dir);
    assert_int_equal(system(cmd), 0);
    free(f);
}

static int open_trade(struct fx *f, struct plugin *p, zx_action side, double lot, double sl, double tp,
                      zx_order *o, char *err, size_t errlen)
{
    zx_order_req rq = {.side = side, .lot = lot, .sl = sl, .tp = tp, .comment = "t"};
    snprintf(rq.symbol, sizeof rq.symbol, "EURUSD");
    return eng_open(f->e, p, &rq, o, err, errlen);
}

static void quote(struct fx *f, double bid, double ask)
{
    char err[128];
    assert_int_equal(eng_on_quote(f->e, "EURUSD", bid, ask, err, sizeof err), 0);
}

/* ---- paper: opening and closing ---- */

static void open_and_close_record_money_and_tell(void **st)
{
    struct fx *f = fx_up(0, 0);
    struct plugin *p = &f->plug[0];
    zx_order o;
    char err[256];
    (void)st;
    assert_int_equal(open_trade(f, p, ZX_BUY, 0.1, 0, 0, &o, err, sizeof err), -1);
    assert_non_null(strstr(err, "no quote for EURUSD"));
    assert_int_equal(f->refused_orders, 1);
    quote(f, 1.1000, 1.1002);
    assert_int_equal(open_trade(f, p, ZX_BUY, 0.1, 0, 0, &o, err, sizeof err), 0);
    assert_true(o.trade_id > 0 && o.order_id > 0);
    assert_true(fabs(o.price - 1.1002) < 1e-9);     /* a buy fills at the ask */
    assert_int_equal(f->placed, 1);
    assert_int_equal(f->last_order.trade_id, o.trade_id);
    assert_non_null(strstr(f->notes, "[trades] alpha opened #"));
    assert_int_equal(eng_open_count(f->e), 1);
    assert_int_equal(eng_open_count_of(f->e, "alpha"), 1);
    assert_int_equal(eng_open_count_of(f->e, "beta"), 0);

    quote(f, 1.1012, 1.1014);                       /* +10 pips at the bid */
    assert_int_equal(eng_close(f->e, p, o.trade_id, 0, "manual", err, sizeof err), 0);
    struct ldg_trade t;
    assert_int_equal(ldg_get(p->ldg, o.trade_id, &t), 0);
    assert_string_equal(t.status, "CLOSED");
    assert_true(fabs(t.pips - 10) < 1e-6);
    assert_true(fabs(t.money - 10) < 1e-6);         /* 0.1 lot x 100000 x 0.0010 */
    assert_int_equal(f->closed_updates, 1);
    assert_string_equal(f->last_close_reason, "manual");
    double bal, eq;
    assert_int_equal(eng_account(f->e, &bal, &eq), 0);
    assert_true(fabs(bal - 10010) < 1e-6);          /* the realised total reached the paper account */
    assert_int_equal(eng_open_count(f->e), 0);
    assert_int_equal(eng_close(f->e, p, o.trade_id, 0, "manual", err, sizeof err), -1);
    assert_non_null(strstr(err, "is not an open trade of alpha"));
    fx_down(f);
}

static void lot_rules_and_the_gate(void **st)
{
    struct fx *f = fx_up(0, 0);
    struct plugin *p = &f->plug[0];
    zx_order o;
    char err[256];
    (void)st;
    quote(f, 1.1000, 1.1000);
    assert_true(fabs(eng_order_lot(f->e, p, "EURUSD", 7.777) - ENG_DEFAULT_MAX_LOT) < 1e-9);
    assert_true(fabs(eng_order_lot(f->e, p, "EURUSD", 0.129) - 0.12) < 1e-9);
    assert_int_equal(open_trade(f, p, ZX_BUY, 3, 0, 0, &o, err, sizeof err), 0);
    assert_true(fabs(o.lot - 1.0) < 1e-9);          /* capped at max_lot_size's default */
    assert_int_equal(open_trade(f, p, ZX_BUY, 0.004, 0, 0, &o, err, sizeof err), -1);
    assert_non_null(strstr(err, "below EURUSD's min_lot"));
    assert_int_equal(open_trade(f, p, ZX_BUY, NAN, 0, 0, &o, err, sizeof err), -1);
    assert_int_equal(open_trade(f, p, ZX_CLOSE, 0.1, 0, 0, &o, err, sizeof err), -1);
    assert_string_equal(err, "side: must be buy or sell");
    f->deny = 1;
    assert_int_equal(open_trade(f, p, ZX_BUY, 0.1, 0, 0, &o, err, sizeof err), -1);
    assert_string_equal(err, "alpha may not open (test)");
    assert_int_equal(eng_open_count(f->e), 1);
    fx_down(f);
}

static void the_money_guard_refuses_past_a_limit(void **st)
{
    struct fx *f = fx_up(0, 1);                     /* risk.max_open_trades 1 */
    zx_order o;
    char err[256];
    (void)st;
    quote(f, 1.1000, 1.1000);
    assert_int_equal(open_trade(f, &f->plug[0], ZX_BUY, 0.1, 0, 0, &o, err, sizeof err), 0);
    assert_int_equal(open_trade(f, &f->plug[1], ZX_BUY, 0.1, 0, 0, &o, err, sizeof err), -1);
    assert_true(strncmp(err, "risk:", 5) == 0);
    assert_int_equal(eng_open_count(f->e), 1);
    fx_down(f);
}

static void no_money_guard_for_a_shadows_engine(void **st)
{
    struct fx *f = fx_up(0, 1);                     /* risk.max_open_trades 1, but no guard given */
    zx_order o;
    char err[256];
    (void)st;
    eng_free(f->e);
    struct risk *saved = f->risk;
    f->risk = NULL;
    fx_engine(f, 0);
    f->risk = saved;
    quote(f, 1.1000, 1.1000);
    assert_int_equal(open_trade(f, &f->plug[0], ZX_BUY, 0.1, 0, 0, &o, err, sizeof err), 0);
    assert_int_equal(open_trade(f, &f->plug[1], ZX_BUY, 0.1, 0, 0, &o, err, sizeof err), 0);
    assert_int_equal(eng_open_count(f->e), 2);
    fx_down(f);
}

static void partial_close_leaves_the_rest(void **st)
{
    struct fx *f = fx_up(0, 0);
    struct plugin *p = &f->plug[0];
    zx_order o;
    zx_position pos[4];
    char err[256];
    (void)st;
    quote(f, 1.1000, 1.1000);
    assert_int_equal(open_trade(f, p, ZX_SELL, 0.3, 0, 0, &o, err, sizeof err), 0);
    assert_int_equal(eng_close(f->e, p, o.trade_id, 0.1, "manual", err, sizeof err), 0);
    assert_int_equal(eng_positions(f->e, p, pos, 4), 1);
    assert_true(fabs(pos[0].lot - 0.2) < 1e-9);
    assert_int_equal(eng_close(f->e, p, o.trade_id, 0.005, "manual", err, sizeof err), -1);
    assert_non_null(strstr(err, "a partial close needs at least 0.01 lot"));
    assert_int_equal(eng_close(f->e, p, o.trade_id, -1, "manual", err, sizeof err), -1);
    assert_int_equal(eng_close(f->e, p, o.trade_id, 0, "manual", err, sizeof err), 0);
    assert_int_equal(eng_positions(f->e, p, pos, 4), 0);
    assert_int_equal(f->closed_updates, 2);
    fx_down(f);
}

static void quotes_hit_sl_and_tp_and_move_positions(void **st)
{
    struct fx *f = fx_up(0, 0);
    struct plugin *p = &f->plug[0];
    zx_order b, s;
    char err[256];
    (void)st;
    quote(f, 1.1000, 1.1000);
    assert_int_equal(open_trade(f, p, ZX_BUY, 0.1, 1.0950, 1.1100, &b, err, sizeof err), 0);
    assert_int_equal(open_trade(f, p, ZX_SELL, 0.1, 1.1050, 1.0990, &s, err, sizeof err), 0);
    assert_int_equal(open_trade(f, p, ZX_BUY, 0.1, 1.1001, 0, &b, err, sizeof err), -1);
    assert_non_null(strstr(err, "sl:"));            /* the paper broker checks the side */
    int before = f->updates;
    quote(f, 1.1010, 1.1010);                       /* neither hit: both move */
    assert_int_equal(f->updates, before + 2);
    assert_int_equal(f->closed_updates, 0);
    quote(f, 1.0985, 1.0985);                       /* the sell's tp */
    assert_int_equal(f->closed_updates, 1);
    assert_string_equal(f->last_close_reason, "tp");
    quote(f, 1.0940, 1.0940);                       /* the buy's sl */
    assert_int_equal(f->closed_updates, 2);
    assert_string_equal(f->last_close_reason, "sl");
    assert_int_equal(eng_open_count(f->e), 0);
    assert_int_equal(eng_on_quote(f->e, "EURUSD", 1.2, 1.1, err, sizeof err), -1);
    assert_true(strncmp(err, "bid/ask:", 8) == 0);
    fx_down(f);
}

static void modify_checks_the_side_and_records(void **st)
{
    struct fx *f = fx_up(0, 0);
    struct plugin *p = &f->plug[0];
    zx_order o;
    struct ldg_trade t;
    char err[256];
    (void)st;
    quote(f, 1.1000, 1.1000);
    assert_int_equal(open_trade(f, p, ZX_BUY, 0.1, 0, 0, &o, err, sizeof err), 0);
    assert_int_equal(eng_modify(f->e, p, o.trade_id, 1.1005, -1, err, sizeof err), -1);
    assert_non_null(strstr(err, "wrong side"));
    assert_int_equal(eng_modify(f->e, p, o.trade_id, 1.0900, 1.1200, err, sizeof err), 0);
    assert_int_equal(ldg_get(p->ldg, o.trade_id, &t), 0);
    assert_true(fabs(t.sl - 1.09) < 1e-9 && fabs(t.tp - 1.12) < 1e-9);
    fx_down(f);
}

static void close_where_and_the_signal_scope(void **st)
{
    struct fx *f = fx_up(0, 0);
    struct plugin *p = &f->plug[0], *q = &f->plug[1];
    zx_order o;
    struct ldg_trade t;
    char err[256] = "";
    int closed, failed;
    int64_t first;
    (void)st;
    quote(f, 1.1000, 1.1000);
    eng_scope_begin(f->e, p, 42);
    assert_int_equal(open_trade(f, p, ZX_BUY, 0.1, 0, 0, &o, err, sizeof err), 0);
    int64_t buy = o.trade_id;
    assert_int_equal(open_trade(f, q, ZX_BUY, 0.1, 0, 0, &o, err, sizeof err), 0);   /* not in p's scope */
    assert_int_equal(eng_scope_end(f->e), buy);
    assert_int_equal(ldg_get(p->ldg, buy, &t), 0);
    assert_int_equal(t.signal_id, 42);
    assert_int_equal(ldg_get(q->ldg, o.trade_id, &t), 0);
    assert_int_equal(t.signal_id, 0);
    assert_int_equal(open_trade(f, p, ZX_SELL, 0.1, 0, 0, &o, err, sizeof err), 0);
    eng_close_where(f->e, p, ZX_CLOSE_LONG, "EURUSD", "signal", &closed, &failed, &first, err, sizeof err);
    assert_int_equal(closed, 1);
    assert_int_equal(failed, 0);
    assert_int_equal(first, buy);
    assert_int_equal(eng_open_count_of(f->e, "alpha"), 1);     /* the sell stays */
    assert_int_equal(eng_open_count_of(f->e, "beta"), 1);      /* another plugin's buy stays */
    eng_close_where(f->e, p, SIG_CLOSE_ALL, "*", "signal", &closed, &failed, &first, err, sizeof err);
    assert_int_equal(closed, 1);
    assert_int_equal(eng_open_count_of(f->e, "alpha"), 0);
    fx_down(f);
}

static void a_restart_rebuilds_the_book_from_the_ledgers(void **st)
{
    struct fx *f = fx_up(0, 0);
    zx_order o;
    char err[256];
    (void)st;
    quote(f, 1.1000, 1.1000);
    assert_int_equal(open_trade(f, &f->plug[0], ZX_BUY, 0.1, 0, 0, &o, err, sizeof err), 0);
    assert_int_equal(open_trade(f, &f->plug[1], ZX_SELL, 0.2, 0, 0, &o, err, sizeof err), 0);
    eng_free(f->e);
    fx_engine(f, 0);                                /* a new engine adopts both ledgers */
    assert_int_equal(eng_open_count(f->e), 2);
    eng_resync(f->e);
    assert_int_equal(eng_open_count(f->e), 2);
    assert_int_equal(eng_broker_describe(f->e, err, sizeof err), -1);   /* paper: no connection */
    assert_int_equal(eng_broker_online(f->e), -1);
    fx_down(f);
}

/* ---- the asynchronous fill model ---- */

static void async_open_fills_with_the_result(void **st)
{
    struct fx *f = fx_up(1, 0);
    struct plugin *p = &f->plug[0];
    zx_order o;
    struct ldg_trade t;
    char err[256];
    (void)st;
    assert_int_equal(eng_broker_async(f->e), 1);
    assert_int_equal(eng_broker_online(f->e), 1);
    f->fa->offline = 1;
    assert_int_equal(eng_broker_online(f->e), 0);
    assert_int_equal(open_trade(f, p, ZX_BUY, 0.1, 0, 0, &o, err, sizeof err), -1);
    assert_non_null(strstr(err, "terminal offline"));
    assert_int_equal(f->fa->submitted, 0);
    f->fa->offline = 0;
    quote(f, 1.2000, 1.2002);
    assert_int_equal(open_trade(f, p, ZX_BUY, 0.1, 0, 0, &o, err, sizeof err), 0);
    assert_int_equal(f->fa->submitted, 1);
    assert_string_equal(f->fa->last.op, "open");
    assert_int_equal(f->fa->last.trade_id, o.trade_id);
    assert_int_equal(f->placed, 0);                 /* on_order_placed waits for the fill */
    assert_int_equal(ldg_get(p->ldg, o.trade_id, &t), 0);
    assert_string_equal(t.broker_state, "pending");
    assert_int_equal(eng_close(f->e, p, o.trade_id, 0, "manual", err, sizeof err), -1);
    assert_non_null(strstr(err, "not filled yet"));

    struct broker_result r = {.op = "open", .plugin = "alpha", .trade_id = o.trade_id, .ok = 1, .ticket = 777,
                              .price = 1.2003, .volume = 0.1, .profit = NAN};
    eng_broker_result(f->e, &r);
    assert_int_equal(f->placed, 1);
    assert_int_equal(f->last_order.order_id, 777);
    assert_int_equal(eng_knows_ticket(f->e, 777), 1);
    assert_int_equal(eng_knows_ticket(f->e, 778), 0);
    assert_int_equal(ldg_get(p->ldg, o.trade_id, &t), 0);
    assert_true(fabs(t.entry - 1.2003) < 1e-9);
    assert_int_equal(t.order_id, 777);
    eng_broker_result(f->e, &r);                    /* the same result again changes nothing */
    assert_int_equal(f->placed, 1);

    assert_int_equal(eng_close(f->e, p, o.trade_id, 0, "manual", err, sizeof err), 0);
    assert_string_equal(f->fa->last.op, "close");
    assert_int_equal(f->fa->last.ticket, 777);
    assert_int_equal(eng_close(f->e, p, o.trade_id, 0, "manual", err, sizeof err), -1);
    assert_non_null(strstr(err, "already on its way"));
    struct broker_result c = {.op = "close", .plugin = "alpha", .trade_id = o.trade_id, .ok = 1,
                              .price = 1.2013, .volume = 0.1, .profit = 99.5};
    eng_broker_result(f->e, &c);
    assert_int_equal(ldg_get(p->ldg, o.trade_id, &t), 0);
    assert_string_equal(t.status, "CLOSED");
    assert_true(fabs(t.money - 99.5) < 1e-9);       /* the broker's money, not the computed one */
    assert_string_equal(t.close_reason, "manual");
    fx_down(f);
}

static void async_rejection_closes_the_pending_trade(void **st)
{
    struct fx *f = fx_up(1, 0);
    struct plugin *p = &f->plug[0];
    zx_order o;
    struct ldg_trade t;
    char err[256];
    (void)st;
    assert_int_equal(open_trade(f, p, ZX_SELL, 0.1, 0, 0, &o, err, sizeof err), 0);
    struct broker_result r = {.op = "open", .plugin = "alpha", .trade_id = o.trade_id, .ok = 0,
                              .error = "10019 no money", .profit = NAN};
    eng_broker_result(f->e, &r);
    assert_int_equal(ldg_get(p->ldg, o.trade_id, &t), 0);
    assert_string_equal(t.status, "CLOSED");
    assert_non_null(strstr(t.close_reason, "rejected: 10019 no money"));
    assert_int_equal(f->closed_updates, 1);
    assert_string_equal(f->last_close_reason, "rejected");
    assert_non_null(strstr(f->notes, "[admins] alpha order #"));
    assert_int_equal(eng_open_count(f->e), 0);
    /* An executed result without a price is not a rejection: the position fills it. */
    assert_int_equal(open_trade(f, p, ZX_BUY, 0.1, 0, 0, &o, err, sizeof err), 0);
    struct broker_result np = {.op = "open", .plugin = "alpha", .trade_id = o.trade_id, .ok = 1, .ticket = 55,
                               .profit = NAN};
    eng_broker_result(f->e, &np);
    assert_int_equal(ldg_get(p->ldg, o.trade_id, &t), 0);
    assert_string_equal(t.status, "OPEN");
    struct broker_position bp = {.ticket = 55, .side = ZX_BUY, .volume = 0.1, .price_open = 1.3, .profit = 1};
    snprintf(bp.symbol, sizeof bp.symbol, "EURUSD");
    eng_broker_sync(f->e, &bp, 1, NULL, 0);
    assert_int_equal(f->placed, 1);
    assert_int_equal(ldg_get(p->ldg, o.trade_id, &t), 0);
    assert_true(fabs(t.entry - 1.3) < 1e-9);
    fx_down(f);
}

/* ---- reconciliation with the broker's report ---- */

static int64_t filled(struct fx *f, struct plugin *p, zx_action side, double lot, int64_t ticket, double price)
{
    zx_order o;
    char err[256];
    assert_int_equal(open_trade(f, p, side, lot, 0, 0, &o, err, sizeof err), 0);
    struct broker_result r = {.op = "open", .plugin = p->id, .trade_id = o.trade_id, .ok = 1, .ticket = ticket,
                              .price = price, .volume = lot, .profit = NAN};
    eng_broker_result(f->e, &r);
    return o.trade_id;
}

static void sync_books_deals_follows_levels_and_closes_what_is_gone(void **st)
{
    struct fx *f = fx_up(1, 0);
    struct plugin *p = &f->plug[0];
    struct ldg_trade t;
    (void)st;
    quote(f, 1.1000, 1.1000);
    int64_t a = filled(f, p, ZX_BUY, 0.3, 101, 1.1000);
    int64_t b = filled(f, p, ZX_SELL, 0.1, 102, 1.1000);
    int64_t c = filled(f, p, ZX_BUY, 0.1, 103, 1.1000);

    /* A deal closing 0.1 of a: a partial close at the broker's price and profit. */
    struct broker_closed cl = {.ticket = 101, .price = 1.1010, .profit = 10, .volume = 0.1};
    snprintf(cl.reason, sizeof cl.reason, "terminal");
    struct broker_position pos[2] = {{.ticket = 101, .side = ZX_BUY, .volume = 0.2, .price_open = 1.1,
                                      .sl = 1.09, .tp = 0, .profit = 4},
                                     {.ticket = 102, .side = ZX_SELL, .volume = 0.1, .price_open = 1.1,
                                      .profit = -2}};
    snprintf(pos[0].symbol, sizeof pos[0].symbol, "EURUSD");
    snprintf(pos[1].symbol, sizeof pos[1].symbol, "EURUSD");
    eng_broker_sync(f->e, pos, 2, &cl, 1);
    assert_int_equal(ldg_get(p->ldg, a, &t), 0);
    assert_string_equal(t.status, "PARTIAL");
    assert_true(fabs(t.lot - 0.2) < 1e-9);
    assert_true(fabs(t.sl - 1.09) < 1e-9);          /* the terminal's SL became the trade's */
    /* c is not in the list: closed at the terminal, at the last quote. */
    assert_int_equal(ldg_get(p->ldg, c, &t), 0);
    assert_string_equal(t.status, "CLOSED");
    assert_string_equal(t.close_reason, "terminal");
    assert_int_equal(ldg_get(p->ldg, b, &t), 0);
    assert_string_equal(t.status, "OPEN");
    /* No list (a terminal not to be trusted): nothing is closed for being missing. */
    eng_broker_sync(f->e, NULL, -1, NULL, 0);
    assert_int_equal(ldg_get(p->ldg, b, &t), 0);
    assert_string_equal(t.status, "OPEN");
    /* b gone with its last reported profit. */
    eng_broker_sync(f->e, pos, 1, NULL, 0);
    assert_int_equal(ldg_get(p->ldg, b, &t), 0);
    assert_string_equal(t.status, "CLOSED");
    assert_true(fabs(t.money - -2) < 1e-9);
    assert_int_equal(eng_open_count(f->e), 1);
    fx_down(f);
}

static void a_pending_trade_fills_from_its_position(void **st)
{
    struct fx *f = fx_up(1, 0);
    struct plugin *p = &f->plug[1];
    zx_order o;
    struct ldg_trade t;
    char err[256];
    (void)st;
    assert_int_equal(open_trade(f, p, ZX_BUY, 0.1, 0, 0, &o, err, sizeof err), 0);
    /* The result was lost (a restart), but the broker matched the position to the request. */
    struct broker_position bp = {.ticket = 900, .side = ZX_BUY, .volume = 0.1, .price_open = 1.25, .profit = 0,
                                 .trade_id = o.trade_id};
    snprintf(bp.symbol, sizeof bp.symbol, "EURUSD");
    snprintf(bp.plugin, sizeof bp.plugin, "beta");
    eng_broker_sync(f->e, &bp, 1, NULL, 0);
    assert_int_equal(ldg_get(p->ldg, o.trade_id, &t), 0);
    assert_int_equal(t.order_id, 900);
    assert_true(fabs(t.entry - 1.25) < 1e-9);
    assert_int_equal(f->placed, 1);
    assert_int_equal(eng_knows_ticket(f->e, 900), 1);
    /* A result for a trade nobody has is ignored. */
    struct broker_result r = {.op = "close", .plugin = "nobody", .trade_id = 1, .ok = 1, .price = 1, .profit = NAN};
    eng_broker_result(f->e, &r);
    assert_int_equal(eng_open_count(f->e), 1);
    fx_down(f);
}

/* ---- working (pending) orders ---- */

static int place(struct fx *f, struct plugin *p, zx_action type, double lot, double entry, double sl, int64_t expiry_ms,
                 struct ldg_order *o, char *err, size_t errlen)
{
    struct eng_pending_req rq = {.type = type, .lot = lot, .entry = entry, .sl = sl, .expiry_ms = expiry_ms,
                                 .comment = "po"};
    snprintf(rq.symbol, sizeof rq.symbol, "EURUSD");
    return eng_place_pending(f->e, p, &rq, o, err, errlen);
}

static void working_orders_fill_when_the_quote_reaches_their_entry(void **st)
{
    struct fx *f = fx_up(0, 0);
    struct plugin *p = &f->plug[0];
    struct ldg_order bl, bs, sl, ss, g;
    struct ldg_trade t;
    char err[256];
    (void)st;
    quote(f, 1.1000, 1.1002);
    eng_scope_begin(f->e, p, 77);
    assert_int_equal(place(f, p, ZX_BUY_LIMIT, 0.129, 1.0990, 1.0970, 0, &bl, err, sizeof err), 0);
    eng_scope_end(f->e);
    assert_true(fabs(bl.lot - 0.12) < 1e-9 && bl.signal_id == 77);     /* lot rules of an open */
    assert_int_equal(place(f, p, ZX_BUY_STOP, 0.1, 1.1010, 0, 0, &bs, err, sizeof err), 0);
    assert_int_equal(place(f, p, ZX_SELL_LIMIT, 0.1, 1.1010, 0, 0, &sl, err, sizeof err), 0);
    assert_int_equal(place(f, p, ZX_SELL_STOP, 0.1, 1.0990, 0, 0, &ss, err, sizeof err), 0);
    assert_int_equal(eng_order_count(f->e), 4);
    assert_int_equal(eng_open_count(f->e), 0);
    assert_int_equal(f->placed, 0);
    assert_non_null(strstr(f->notes, "[trades] alpha order #1 buy_limit 0.12 EURUSD at 1.09900 working"));
    quote(f, 1.0995, 1.0997);                       /* nothing reached */
    assert_int_equal(eng_order_count(f->e), 4);
    quote(f, 1.0988, 1.0990);                       /* buy_limit: ask <= entry; sell_stop: bid <= entry */
    assert_int_equal(eng_order_count(f->e), 2);
    assert_int_equal(eng_open_count(f->e), 2);
    assert_int_equal(f->placed, 2);
    assert_int_equal(ldg_order_get(p->ldg, bl.id, &g), 0);
    assert_string_equal(g.state, "filled");
    assert_int_equal(ldg_get(p->ldg, g.trade_id, &t), 0);
    assert_true(t.side == ZX_BUY && fabs(t.entry - 1.0990) < 1e-9 && fabs(t.sl - 1.0970) < 1e-9 &&
                t.signal_id == 77 && fabs(t.lot - 0.12) < 1e-9);
    assert_int_equal(ldg_order_get(p->ldg, ss.id, &g), 0);
    assert_string_equal(g.state, "filled");
    assert_int_equal(ldg_get(p->ldg, g.trade_id, &t), 0);
    assert_true(t.side == ZX_SELL && fabs(t.entry - 1.0988) < 1e-9);   /* a sell fills at the bid */
    quote(f, 1.1010, 1.1012);                       /* buy_stop: ask >= entry; sell_limit: bid >= entry */
    assert_int_equal(eng_order_count(f->e), 0);
    assert_int_equal(f->placed, 4);
    assert_int_equal(ldg_order_get(p->ldg, bs.id, &g), 0);
    assert_string_equal(g.state, "filled");
    assert_int_equal(ldg_order_get(p->ldg, sl.id, &g), 0);
    assert_string_equal(g.state, "filled");
    fx_down(f);
}

static void working_orders_are_checked_when_placed_and_when_filled(void **st)
{
    struct fx *f = fx_up(0, 1);                     /* risk: max_open_trades 1 */
    struct plugin *p = &f->plug[0];
    struct ldg_order o, o2, g;
    zx_order t;
    char err[256];
    (void)st;
    quote(f, 1.1000, 1.1002);
    assert_int_equal(place(f, p, ZX_BUY_LIMIT, 0.004, 1.0990, 0, 0, &o, err, sizeof err), -1);
    assert_non_null(strstr(err, "below EURUSD's min_lot"));
    assert_int_equal(place(f, p, ZX_BUY_LIMIT, 0.1, 1.0990, 1.0995, 0, &o, err, sizeof err), -1);
    assert_non_null(strstr(err, "sl: 1.09950 must be below the entry 1.09900 of a buy_limit"));
    assert_int_equal(place(f, p, ZX_BUY, 0.1, 1.0990, 0, 0, &o, err, sizeof err), -1);
    f->deny = 1;
    assert_int_equal(place(f, p, ZX_BUY_LIMIT, 0.1, 1.0990, 0, 0, &o, err, sizeof err), -1);
    assert_non_null(strstr(err, "may not open"));
    f->deny = 0;
    assert_int_equal(place(f, p, ZX_BUY_LIMIT, 0.1, 1.0990, 0, 0, &o, err, sizeof err), 0);
    assert_int_equal(place(f, p, ZX_SELL_STOP, 0.1, 1.0980, 0, 0, &o2, err, sizeof err), 0);
    /* paused when the entry is reached: the order waits */
    f->deny = 1;
    quote(f, 1.0985, 1.0987);
    assert_int_equal(eng_order_count(f->e), 2);
    assert_int_equal(eng_open_count(f->e), 0);
    f->deny = 0;
    quote(f, 1.0986, 1.0988);
    assert_int_equal(eng_open_count(f->e), 1);
    assert_int_equal(eng_order_count(f->e), 1);
    /* the money guard at the fill: max_open_trades 1 rejects the second */
    quote(f, 1.0978, 1.0980);
    assert_int_equal(eng_order_count(f->e), 0);
    assert_int_equal(eng_open_count(f->e), 1);
    assert_int_equal(ldg_order_get(p->ldg, o2.id, &g), 0);
    assert_string_equal(g.state, "rejected");
    assert_non_null(strstr(g.reason, "not filled at its entry: risk:"));
    assert_non_null(strstr(f->notes, "[admins] alpha order #2 sell_stop 0.10 EURUSD at 1.09800 rejected"));
    (void)t;
    fx_down(f);
}

static void working_orders_expire_cancel_and_survive_a_restart(void **st)
{
    struct fx *f = fx_up(0, 0);
    struct plugin *a = &f->plug[0], *b = &f->plug[1];
    struct ldg_order o1, o2, o3, o4, g;
    int n, failed;
    char err[256];
    (void)st;
    quote(f, 1.1000, 1.1002);
    int64_t past = clk_now_ms() - 1;
    assert_int_equal(place(f, a, ZX_BUY_LIMIT, 0.1, 1.0990, 0, past, &o1, err, sizeof err), 0);
    assert_int_equal(place(f, a, ZX_SELL_LIMIT, 0.1, 1.1010, 0, 0, &o3, err, sizeof err), 0);
    assert_int_equal(place(f, b, ZX_BUY_LIMIT, 0.1, 1.0990, 0, 0, &o4, err, sizeof err), 0);
    /* a quote that reaches an expired order's entry expires it, never fills it */
    quote(f, 1.0988, 1.0990);
    assert_int_equal(ldg_order_get(a->ldg, o1.id, &g), 0);
    assert_string_equal(g.state, "expired");
    assert_int_equal(eng_open_count_of(f->e, "alpha"), 0);
    assert_int_equal(eng_open_count_of(f->e, "beta"), 1);  /* beta's order filled */
    assert_int_equal(place(f, a, ZX_BUY_STOP, 0.1, 1.1010, 0, past, &o2, err, sizeof err), 0);
    assert_int_equal(eng_order_count(f->e), 2);
    eng_orders_tick(f->e);                                /* the timer: without a quote */
    assert_int_equal(ldg_order_get(a->ldg, o2.id, &g), 0);
    assert_string_equal(g.state, "expired");
    assert_non_null(strstr(f->notes, "buy_stop 0.10 EURUSD at 1.10100 expired"));
    /* restart: the working order is watched again */
    assert_int_equal(eng_order_count(f->e), 1);
    eng_free(f->e);
    fx_engine(f, 0);
    assert_int_equal(eng_order_count(f->e), 1);
    eng_resync(f->e);
    assert_int_equal(eng_order_count(f->e), 1);
    struct ldg_order list[4];
    const char *ids[4];
    assert_int_equal(eng_orders(f->e, NULL, list, ids, 4), 1);
    assert_string_equal(ids[0], "alpha");
    assert_int_equal(list[0].id, o3.id);
    /* cancel_long leaves the sell; cancel takes it */
    eng_cancel_where(f->e, a, SIG_CANCEL_LONG, "EURUSD", "signal", &n, &failed, err, sizeof err);
    assert_true(n == 0 && failed == 0);
    eng_cancel_where(f->e, b, SIG_CANCEL, "EURUSD", "signal", &n, &failed, err, sizeof err);
    assert_true(n == 0 && failed == 0);                   /* another plugin's: untouched */
    eng_cancel_where(f->e, a, SIG_CANCEL_SHORT, "EURUSD", "signal", &n, &failed, err, sizeof err);
    assert_true(n == 1 && failed == 0);
    assert_int_equal(ldg_order_get(a->ldg, o3.id, &g), 0);
    assert_string_equal(g.state, "cancelled");
    assert_int_equal(eng_order_count(f->e), 0);
    fx_down(f);
}

static void async_result(struct fx *f, const char *op, int64_t id, int ok, int64_t ticket, const char *error)
{
    struct broker_result r = {.op = op, .plugin = "alpha", .trade_id = id, .ok = ok, .ticket = ticket,
                              .profit = NAN, .error = error ? error : ""};
    eng_broker_result(f->e, &r);
}

static void async_working_orders_go_to_the_terminal_and_fill_from_its_positions(void **st)
{
    struct fx *f = fx_up(1, 0);
    struct plugin *p = &f->plug[0];
    struct ldg_order o, g;
    struct ldg_trade t;
    int n, failed;
    char err[256];
    (void)st;
    quote(f, 1.1000, 1.1002);
    eng_scope_begin(f->e, p, 31);
    assert_int_equal(place(f, p, ZX_BUY_LIMIT, 0.1, 1.0990, 1.0970, 0, &o, err, sizeof err), 0);
    eng_scope_end(f->e);
    assert_string_equal(f->fa->last_op, "pending");
    assert_true(f->fa->last.trade_id == o.id && f->fa->last.type == ZX_BUY_LIMIT && f->fa->last.price == 1.0990 &&
                f->fa->last.side == ZX_BUY && f->fa->last.sl == 1.0970);
    assert_string_equal(o.broker_state, "pending");
    quote(f, 1.0980, 1.0982);                       /* the terminal triggers it, not the engine */
    assert_int_equal(eng_open_count(f->e), 0);
    struct broker_order bo = {.ticket = 700, .type = ZX_BUY_LIMIT, .volume = 0.1, .price = 1.0990};
    struct broker_position bp = {.ticket = 700, .side = ZX_BUY, .volume = 0.1, .price_open = 1.0989, .sl = 1.097,
                                 .profit = -1};
    eng_broker_orders(f->e, &bo, 1, &bp, 1);        /* a position before the ticket is known: not ours yet */
    assert_int_equal(eng_open_count(f->e), 0);
    async_result(f, "pending", o.id, 1, 700, NULL);
    assert_int_equal(ldg_order_get(p->ldg, o.id, &g), 0);
    assert_true(g.ticket == 700);
    assert_string_equal(g.broker_state, "placed");
    eng_broker_orders(f->e, &bo, 1, NULL, 0);       /* still working */
    assert_int_equal(eng_order_count(f->e), 1);
    eng_broker_orders(f->e, NULL, 0, &bp, 1);       /* its position: the fill */
    assert_int_equal(eng_order_count(f->e), 0);
    assert_int_equal(eng_open_count(f->e), 1);
    assert_int_equal(f->placed, 1);
    assert_true(eng_knows_ticket(f->e, 700));
    assert_int_equal(ldg_order_get(p->ldg, o.id, &g), 0);
    assert_string_equal(g.state, "filled");
    assert_int_equal(ldg_get(p->ldg, g.trade_id, &t), 0);
    assert_true(t.order_id == 700 && fabs(t.entry - 1.0989) < 1e-9 && t.signal_id == 31 && t.side == ZX_BUY);
    assert_string_equal(t.broker_state, "filled");
    /* deleted in the terminal: gone from its orders, no position */
    assert_int_equal(place(f, p, ZX_SELL_LIMIT, 0.1, 1.1010, 0, 0, &o, err, sizeof err), 0);
    async_result(f, "pending", o.id, 1, 701, NULL);
    eng_broker_orders(f->e, NULL, -1, &bp, 1);      /* no list: nothing is concluded */
    assert_int_equal(eng_order_count(f->e), 1);
    eng_broker_orders(f->e, NULL, 0, &bp, 1);
    assert_int_equal(ldg_order_get(p->ldg, o.id, &g), 0);
    assert_string_equal(g.state, "cancelled");
    assert_string_equal(g.reason, "deleted in the terminal");
    /* refused by the terminal */
    assert_int_equal(place(f, p, ZX_SELL_STOP, 0.1, 1.0970, 0, 0, &o, err, sizeof err), 0);
    async_result(f, "pending", o.id, 0, 0, "10015 Invalid price");
    assert_int_equal(ldg_order_get(p->ldg, o.id, &g), 0);
    assert_string_equal(g.state, "rejected");
    assert_string_equal(g.reason, "rejected: 10015 Invalid price");
    /* the expiry: the daemon asks the terminal to delete it */
    assert_int_equal(place(f, p, ZX_BUY_STOP, 0.1, 1.1010, 0, clk_now_ms() - 1, &o, err, sizeof err), 0);
    async_result(f, "pending", o.id, 1, 703, NULL);
    eng_orders_tick(f->e);
    assert_string_equal(f->fa->last_op, "cancel");
    assert_true(f->fa->last.ticket == 703 && f->fa->last.trade_id == o.id);
    int sent = f->fa->submitted;
    eng_orders_tick(f->e);                          /* once */
    assert_int_equal(f->fa->submitted, sent);
    async_result(f, "cancel", o.id, 1, 703, NULL);
    assert_int_equal(ldg_order_get(p->ldg, o.id, &g), 0);
    assert_string_equal(g.state, "expired");
    /* cancel: sent; a failed cancel leaves it working; its success ends it */
    assert_int_equal(place(f, p, ZX_BUY_STOP, 0.1, 1.1010, 0, 0, &o, err, sizeof err), 0);
    async_result(f, "pending", o.id, 1, 704, NULL);
    eng_cancel_where(f->e, p, SIG_CANCEL, "EURUSD", "signal", &n, &failed, err, sizeof err);
    assert_true(n == 1 && failed == 0);
    assert_string_equal(f->fa->last_op, "cancel");
    async_result(f, "cancel", o.id, 0, 704, "filled already");
    assert_int_equal(eng_order_count(f->e), 1);
    assert_non_null(strstr(f->notes, "the cancel of order #5 failed in the terminal: filled already"));
    eng_cancel_where(f->e, p, SIG_CANCEL, "EURUSD", "signal", &n, &failed, err, sizeof err);
    async_result(f, "cancel", o.id, 1, 704, NULL);
    assert_int_equal(ldg_order_get(p->ldg, o.id, &g), 0);
    assert_string_equal(g.state, "cancelled");
    assert_int_equal(eng_order_count(f->e), 0);
    /* offline: refused before anything is written */
    f->fa->offline = 1;
    assert_int_equal(place(f, p, ZX_BUY_STOP, 0.1, 1.1010, 0, 0, &o, err, sizeof err), -1);
    assert_non_null(strstr(err, "terminal offline"));
    fx_down(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(open_and_close_record_money_and_tell),
        cmocka_unit_test(lot_rules_and_the_gate),
        cmocka_unit_test(the_money_guard_refuses_past_a_limit),
        cmocka_unit_test(no_money_guard_for_a_shadows_engine),
        cmocka_unit_test(partial_close_leaves_the_rest),
        cmocka_unit_test(quotes_hit_sl_and_tp_and_move_positions),
        cmocka_unit_test(modify_checks_the_side_and_records),
        cmocka_unit_test(close_where_and_the_signal_scope),
        cmocka_unit_test(a_restart_rebuilds_the_book_from_the_ledgers),
        cmocka_unit_test(async_open_fills_with_the_result),
        cmocka_unit_test(async_rejection_closes_the_pending_trade),
        cmocka_unit_test(sync_books_deals_follows_levels_and_closes_what_is_gone),
        cmocka_unit_test(a_pending_trade_fills_from_its_position),
        cmocka_unit_test(working_orders_fill_when_the_quote_reaches_their_entry),
        cmocka_unit_test(working_orders_are_checked_when_placed_and_when_filled),
        cmocka_unit_test(working_orders_expire_cancel_and_survive_a_restart),
        cmocka_unit_test(async_working_orders_go_to_the_terminal_and_fill_from_its_positions),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
