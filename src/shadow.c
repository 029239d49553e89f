/*
 * shadow — see shadow.h.
 */
#include "shadow.h"
#include "app.h"
#include "broker_paper.h"
#include "engine.h"
#include "ledger.h"
#include "log.h"
#include "notify.h"
#include "registry.h"
#include "report.h"
#include "sbuf.h"
#include "store.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

/* ---- the shadow engine's events: ud is the live plugin ---- */

static struct plugin *sev_find(void *ud, const char *id)
{
    struct plugin *p = ud;
    return strcmp(p->id, id) == 0 ? p->shadow : NULL;
}

static struct plugin *sev_plugin_at(void *ud, size_t i)
{
    struct plugin *p = ud;
    return i == 0 ? p->shadow : NULL;
}

static int sev_may_open(void *ud, struct plugin *sh, char *err, size_t errlen)
{
    struct app *a = reg_app();
    (void)ud;
    if (sh->st != PLG_ENABLED) {
        snprintf(err, errlen, "the shadow of %s is %s: it cannot open trades", sh->id, reg_state_name(sh->st));
        return -1;
    }
    if (a && a->paused) {
        snprintf(err, errlen, "trading is paused (/resume to open trades again)");
        return -1;
    }
    return 0;
}

static int64_t sev_day_from(void *ud)
{
    (void)ud;
    return reg_app() ? app_day_from(reg_app()) : 0;
}

static void sev_order_placed(void *ud, struct plugin *sh, const zx_order *o)
{
    (void)ud;
    reg_post_order(&reg_app()->reg, sh, o);
}

static void sev_position_update(void *ud, struct plugin *sh, const zx_position *pos)
{
    (void)ud;
    reg_post_position(&reg_app()->reg, sh, pos);
}

static void sev_order_result(void *ud, const char *plugin_id, int ok)
{
    (void)ud, (void)plugin_id, (void)ok;    /* the metrics count live orders only */
}

/* Every line of a shadow is marked and of type "shadow". */
static void sev_note(void *ud, const char *kind, const char *text)
{
    char note[600];
    (void)ud, (void)kind;
    snprintf(note, sizeof note, "👻 shadow: %.*s", (int)sbuf_utf8_prefix(text, 560), text);
    notify_send(reg_app(), "shadow", note);
}

/* ---- persistence ---- */

static void key_of(const char *id, char *key, size_t len)
{
    snprintf(key, len, "shadow:%s", id);
}

/* 0 with the counts when id is shadowed (persisted), else -1. */
static int load_counts(struct app *a, const char *id, int64_t *since, int64_t *signals, int64_t *differ)
{
    char key[96], v[96];
    long long s0, n, d;
    key_of(id, key, sizeof key);
    if (store_kv_get(a->db, key, v, sizeof v) || sscanf(v, "%lld %lld %lld", &s0, &n, &d) != 3)
        return -1;
    *since = s0;
    *signals = n;
    *differ = d;
    return 0;
}

static int save_counts(struct app *a, const char *id, int64_t since, int64_t signals, int64_t differ)
{
    char key[96], v[96];
    key_of(id, key, sizeof key);
    snprintf(v, sizeof v, "%" PRId64 " %" PRId64 " %" PRId64, since, signals, differ);
    return store_kv_set(a->db, key, v);
}

static int forget(struct app *a, const char *id)
{
    char key[96];
    key_of(id, key, sizeof key);
    return store_kv_set(a->db, key, "");
}

/* ---- start, stop, promote ---- */

static struct engine *new_engine(struct app *a, struct plugin *p, char *err, size_t errlen)
{
    struct broker *b = paper_new(&a->cfg, err, errlen);
    if (!b)
        return NULL;
    if (a->cfg.shadow.paper_balance > 0)
        paper_set_balance(b, a->cfg.shadow.paper_balance);
    struct eng_events ev = {.ud = p, .find = sev_find, .plugin_at = sev_plugin_at, .may_open = sev_may_open,
                            .day_from = sev_day_from, .order_placed = sev_order_placed,
                            .position_update = sev_position_update, .order_result = sev_order_result,
                            .note = sev_note};
    /* No money guard: a shadow's losses must not pause the live plugin. */
    return eng_new(&a->cfg, b, NULL, &ev, err, errlen);
}

int shd_start(struct app *a, struct plugin *p, int restore, char *err, size_t errlen)
{
    int64_t since = 0, n = 0, d = 0;
    if (p->is_shadow || p->shadow) {
        snprintf(err, errlen, "%s has a shadow already (/unshadow %s or /promote %s)", p->id, p->id, p->id);
        return -1;
    }
    if (restore)
        load_counts(a, p->id, &since, &n, &d);
    struct engine *e = new_engine(a, p, err, errlen);
    if (!e)
        return -1;
    if (reg_shadow_start(&a->reg, p, e, restore, err, errlen)) {
        eng_free(e);
        return -1;
    }
    if (!restore)
        since = app_now_ms();
    if (save_counts(a, p->id, since, n, d)) {
        snprintf(err, errlen, "cannot persist the shadow: %s", sqlite3_errmsg(a->db));
        reg_shadow_stop(&a->reg, p);
        eng_free(e);
        return -1;
    }
    return 0;
}

/* Unload p's shadow and free its engine; persisted state is the caller's. */
static void drop(struct app *a, struct plugin *p)
{
    struct engine *e = p->shadow ? p->shadow->eng : NULL;
    reg_shadow_stop(&a->reg, p);
    eng_free(e);
}

int shd_stop(struct app *a, struct plugin *p, char *err, size_t errlen)
{
    if (!p->shadow) {
        snprintf(err, errlen, "%s has no shadow", p->id);
        return -1;
    }
    if (forget(a, p->id)) {
        snprintf(err, errlen, "cannot persist the change: %s", sqlite3_errmsg(a->db));
        return -1;
    }
    drop(a, p);
    return 0;
}

int shd_promote(struct app *a, struct plugin *p, char *old_v, char *new_v, size_t vlen, double *ms, char *err,
                size_t errlen)
{
    if (!p->shadow) {
        snprintf(err, errlen, "%s has no shadow (/shadow %s first)", p->id, p->id);
        return -1;
    }
    if (reg_promote(&a->reg, p, old_v, new_v, vlen, ms, err, errlen))
        return -1;
    if (forget(a, p->id))
        LOG_E("shadow", "%s: cannot persist the end of the shadow: %s", p->id, sqlite3_errmsg(a->db));
    drop(a, p);
    return 0;
}

void shd_restore(struct app *a)
{
    for (size_t i = 0; i < a->reg.n; i++) {
        struct plugin *p = a->reg.v[i];
        int64_t since, n, d;
        char err[300];
        if (load_counts(a, p->id, &since, &n, &d))
            continue;
        if (shd_start(a, p, 1, err, sizeof err)) {
            char note[500];
            LOG_E("shadow", "%s: the shadow did not come back: %s", p->id, err);
            snprintf(note, sizeof note, "👻 the shadow of %s did not come back after the restart: %.*s (/shadow %s "
                     "to start it again)", p->id, (int)sbuf_utf8_prefix(err, 300), err, p->id);
            notify_send(a, "shadow", note);
        } else {
            LOG_I("shadow", "%s: shadow restored (%lld signals, %lld decided differently)", p->id, (long long)n,
                  (long long)d);
        }
    }
}

void shd_shutdown(struct app *a)
{
    for (size_t i = 0; i < a->reg.n; i++)
        if (a->reg.v[i]->shadow)
            drop(a, a->reg.v[i]);
}

/* ---- comparing decisions ---- */

/* 1 when the two opened trades differ in lot, SL or TP. */
static int trades_differ(struct plugin *p, const struct dsp_result *lr, const struct dsp_result *sr)
{
    struct ldg_trade lt, st;
    if (!lr->trade_id || !sr->trade_id)
        return lr->trade_id != sr->trade_id;
    if (ldg_get(p->ldg, lr->trade_id, &lt) || ldg_get(p->shadow->ldg, sr->trade_id, &st))
        return 0;
    return fabs(lt.lot - st.lot) > 1e-9 || fabs(lt.sl - st.sl) > 1e-9 || fabs(lt.tp - st.tp) > 1e-9 ||
           lt.side != st.side;
}

void shd_compare(struct app *a, struct plugin *p, const sig_parsed *s, int64_t signal_id,
                 const struct dsp_result *lr, const struct dsp_result *sr)
{
    int64_t since, n, d;
    if (!p->shadow || load_counts(a, p->id, &since, &n, &d))
        return;
    int differ = strcmp(lr->status, sr->status) != 0 ||
                 (strcmp(lr->status, "executed") == 0 && (s->action == ZX_BUY || s->action == ZX_SELL) &&
                  trades_differ(p, lr, sr));
    n++;
    d += differ;
    if (save_counts(a, p->id, since, n, d))
        LOG_E("shadow", "%s: cannot count signal %lld: %s", p->id, (long long)signal_id, sqlite3_errmsg(a->db));
    if (differ)
        LOG_I("shadow", "%s signal %lld: live %s, shadow %s (%s)", p->id, (long long)signal_id, lr->status,
              sr->status, sr->reason);
}

void shd_quote(struct app *a, const char *symbol, double bid, double ask)
{
    for (size_t i = 0; i < a->reg.n; i++) {
        struct plugin *sh = a->reg.v[i]->shadow;
        char err[200];
        if (sh && sh->eng && eng_on_quote(sh->eng, symbol, bid, ask, err, sizeof err))
            LOG_W("shadow", "%s: quote %s: %s", sh->id, symbol, err);
    }
}

void shd_same_quote(struct app *a, struct plugin *p, const char *symbol)
{
    double bid, ask, sb, sa;
    char err[200];
    struct plugin *sh = p->shadow;
    if (!sh || !sh->eng || eng_quote(a->eng, symbol, &bid, &ask))
        return;
    if (eng_quote(sh->eng, symbol, &sb, &sa) == 0 && sb == bid && sa == ask)
        return;
    if (eng_on_quote(sh->eng, symbol, bid, ask, err, sizeof err))
        LOG_W("shadow", "%s: quote %s: %s", sh->id, symbol, err);
}

int shd_counts(struct app *a, const char *id, int64_t *since_ms, int64_t *signals, int64_t *differ)
{
    struct plugin *p = reg_find(&a->reg, id);
    if (!p || !p->shadow)
        return -1;
    return load_counts(a, id, since_ms, signals, differ);
}

/* ---- side by side ---- */

static void row(struct sbuf *out, const char *name, const struct ldg_stats *st)
{
    sbuf_htmlf(out, "%-7s %6d %5.1f %9.2f %7.2f\n", name, st->trades, st->win_rate, st->profit, st->max_drawdown);
}

void shd_render(struct app *a, const char *only_id, int64_t from_ms, int64_t to_ms, struct sbuf *out)
{
    for (size_t i = 0; i < a->reg.n; i++) {
        struct plugin *p = a->reg.v[i];
        int64_t since, n, d;
        char err[200], when[32];
        struct rpt r;
        if (!p->shadow || (only_id && only_id[0] && strcmp(only_id, p->id) != 0) || !p->ldg || !p->shadow->ldg)
            continue;
        struct rpt_src src[2] = {{"live", p->ldg}, {"shadow", p->shadow->ldg}};
        if (rpt_fill(&r, src, 2, from_ms, to_ms, err, sizeof err)) {
            sbuf_puts(out, "\n👻 ");
            sbuf_html(out, p->id);
            sbuf_puts(out, ": cannot read the shadow's figures: ");
            sbuf_html(out, err);
            continue;
        }
        sbuf_puts(out, "\n\n👻 <b>");
        sbuf_htmlf(out, "%s: live %s vs shadow %s", p->id, p->def ? p->def->version : "-",
                   p->shadow->def ? p->shadow->def->version : "(failed)");
        sbuf_puts(out, "</b>\n<pre>");
        sbuf_htmlf(out, "%-7s %6s %5s %9s %7s\n", "", "trades", "win%", "profit", "max DD");
        row(out, "live", &r.rows[0].st);
        row(out, "shadow", &r.rows[1].st);
        sbuf_puts(out, "</pre>");
        if (load_counts(a, p->id, &since, &n, &d) == 0) {
            ldg_format_time(since, when, sizeof when);
            sbuf_htmlf(out, "decided differently: %lld of %lld signals since %s UTC", (long long)d, (long long)n,
                       when);
        }
        rpt_free(&r);
    }
}
