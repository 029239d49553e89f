/*
 * metrics — see metrics.h. Label sets are few (sources x outcomes, plugins x
 * results), so they live in small arrays searched linearly.
 */
#include "metrics.h"
#include "app.h"
#include "chat.h"
#include "engine.h"
#include "registry.h"
#include "risk.h"
#include "sbuf.h"

#include <stdlib.h>
#include <string.h>

#define POS_MAX 1024            /* open trades looked at per plugin for the floating profit */

#define NBUCKETS 12
static const double bounds[NBUCKETS] = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
                                        0.01, 0.025, 0.05, 0.1, 0.25, 1.0};

struct counter {
    char a[64], b[24];
    unsigned long long n;
};

struct histo {
    unsigned long long bucket[NBUCKETS], count;
    double sum;
};

struct metrics {
    struct counter *sig, *ord;
    size_t nsig, nord;
    struct histo webhook, hook;
    unsigned long long tg_ok, tg_fail;
    int64_t last_signal_ms;     /* wall clock of the last journaled signal, 0 = none */
};

static struct metrics *M(struct app *a)
{
    if (!a->metrics)
        a->metrics = calloc(1, sizeof(struct metrics));
    return a->metrics;
}

static void bump(struct counter **v, size_t *n, const char *x, const char *y)
{
    for (size_t i = 0; i < *n; i++)
        if (strcmp((*v)[i].a, x) == 0 && strcmp((*v)[i].b, y) == 0) {
            (*v)[i].n++;
            return;
        }
    struct counter *nv = realloc(*v, (*n + 1) * sizeof *nv);
    if (!nv)
        return;
    *v = nv;
    memset(&nv[*n], 0, sizeof nv[*n]);
    snprintf(nv[*n].a, sizeof nv[*n].a, "%s", x);
    snprintf(nv[*n].b, sizeof nv[*n].b, "%s", y);
    nv[(*n)++].n = 1;
}

static void observe(struct histo *h, double s)
{
    for (int i = 0; i < NBUCKETS; i++)
        if (s <= bounds[i])
            h->bucket[i]++;
    h->count++;
    h->sum += s;
}

void metrics_signal(struct app *a, const char *source, const char *outcome)
{
    struct metrics *m = M(a);
    if (!m)
        return;
    bump(&m->sig, &m->nsig, source, outcome);
    if (strcmp(outcome, "journaled") == 0)
        m->last_signal_ms = app_now_ms();
}

void metrics_order(struct app *a, const char *plugin, int ok)
{
    struct metrics *m = M(a);
    if (m)
        bump(&m->ord, &m->nord, plugin, ok ? "filled" : "failed");
}

void metrics_webhook_latency(struct app *a, double s)
{
    struct metrics *m = M(a);
    if (m)
        observe(&m->webhook, s);
}

void metrics_hook_latency(struct app *a, double s)
{
    struct metrics *m = M(a);
    if (m)
        observe(&m->hook, s);
}

void metrics_tg_send(struct app *a, int ok)
{
    struct metrics *m = M(a);
    if (m)
        *(ok ? &m->tg_ok : &m->tg_fail) += 1;
}

static void render_histo(struct sbuf *o, const char *name, const char *help, const struct histo *h)
{
    sbuf_printf(o, "# HELP %s %s\n# TYPE %s histogram\n", name, help, name);
    for (int i = 0; i < NBUCKETS; i++)
        sbuf_printf(o, "%s_bucket{le=\"%g\"} %llu\n", name, bounds[i], h->bucket[i]);
    sbuf_printf(o, "%s_bucket{le=\"+Inf\"} %llu\n%s_sum %.6f\n%s_count %llu\n", name, h->count, name,
                h->sum, name, h->count);
}

/* One plugin's open trades and their floating profit (trades without a quote
 * yet count as open with no profit). */
static void plugin_positions(struct app *a, struct plugin *p, zx_position *pos, int *n, double *floating)
{
    *n = 0;
    *floating = 0;
    if (!a->eng || !pos || p->st == PLG_FAILED)
        return;
    int k = eng_positions(a->eng, p, pos, POS_MAX);
    for (int i = 0; i < k; i++)
        *floating += pos[i].current_price > 0 ? pos[i].profit_money : 0;
    *n = k > 0 ? k : 0;
}

int metrics_plugin_paused(struct app *a, const struct plugin *p)
{
    return a->paused || (a->risk && (risk_paused(a->risk, "") || risk_paused(a->risk, p->id)));
}

/* What an operator alerts on: liveness of the terminal and of the signal
 * flow, the pause, the chat backlog, and per plugin its state, open trades
 * and floating profit. Plugin ids are [a-z0-9_] (cfg_valid_plugin_id), so
 * they need no escaping as label values. */
static void render_operator(struct app *a, struct metrics *m, struct sbuf *o)
{
    static const enum plg_state states[] = {PLG_LOADED, PLG_ENABLED, PLG_DISABLED, PLG_FAILED};
    int online = a->eng ? eng_broker_online(a->eng) : -1;
    sbuf_printf(o, "# HELP zepix_start_time_seconds When the daemon started (Unix time).\n"
                   "# TYPE zepix_start_time_seconds gauge\nzepix_start_time_seconds %.3f\n",
                (double)a->started_ms / 1000.0);
    sbuf_printf(o, "# HELP zepix_last_signal_timestamp_seconds When the last signal was journaled "
                   "(Unix time; 0 = none since the start).\n"
                   "# TYPE zepix_last_signal_timestamp_seconds gauge\n"
                   "zepix_last_signal_timestamp_seconds %.3f\n", (double)m->last_signal_ms / 1000.0);
    if (online >= 0)
        sbuf_printf(o, "# HELP zepix_mt5_terminal_online 1 while the MT5 terminal polls, 0 when it is offline.\n"
                       "# TYPE zepix_mt5_terminal_online gauge\nzepix_mt5_terminal_online %d\n", online);
    sbuf_printf(o, "# HELP zepix_trading_paused 1 while opening new trades is paused (/pause), else 0.\n"
                   "# TYPE zepix_trading_paused gauge\nzepix_trading_paused %d\n", a->paused ? 1 : 0);
    sbuf_printf(o, "# HELP zepix_risk_paused 1 while an account risk limit (risk.max_daily_loss...) pauses "
                   "opening, else 0.\n# TYPE zepix_risk_paused gauge\nzepix_risk_paused %d\n",
                a->risk && risk_paused(a->risk, "") ? 1 : 0);
    sbuf_printf(o, "# HELP zepix_telegram_queue_depth Chat messages waiting to be sent (and notifications "
                   "being joined).\n# TYPE zepix_telegram_queue_depth gauge\nzepix_telegram_queue_depth %zu\n",
                chat_pending(a));
    zx_position *pos = calloc(POS_MAX, sizeof *pos);
    struct sbuf st, open, fl, pa;
    sbuf_init(&st);
    sbuf_init(&open);
    sbuf_init(&fl);
    sbuf_init(&pa);
    for (size_t i = 0; i < a->reg.n; i++) {
        struct plugin *p = a->reg.v[i];
        int n;
        double floating;
        for (size_t k = 0; k < sizeof states / sizeof states[0]; k++)
            sbuf_printf(&st, "zepix_plugin_state{plugin=\"%s\",state=\"%s\"} %d\n", p->id,
                        reg_state_name(states[k]), p->st == states[k]);
        plugin_positions(a, p, pos, &n, &floating);
        sbuf_printf(&open, "zepix_plugin_open_trades{plugin=\"%s\"} %d\n", p->id, n);
        sbuf_printf(&fl, "zepix_plugin_floating_profit{plugin=\"%s\"} %.2f\n", p->id, floating);
        sbuf_printf(&pa, "zepix_plugin_paused{plugin=\"%s\"} %d\n", p->id, metrics_plugin_paused(a, p));
    }
    free(pos);
    sbuf_puts(o, "# HELP zepix_plugin_state 1 for the plugin's current state, 0 for the others.\n"
                 "# TYPE zepix_plugin_state gauge\n");
    sbuf_puts(o, sbuf_str(&st));
    sbuf_puts(o, "# HELP zepix_plugin_open_trades Open trades of the plugin.\n"
                 "# TYPE zepix_plugin_open_trades gauge\n");
    sbuf_puts(o, sbuf_str(&open));
    sbuf_puts(o, "# HELP zepix_plugin_floating_profit Floating profit of the plugin's open trades, in the "
                 "account currency.\n# TYPE zepix_plugin_floating_profit gauge\n");
    sbuf_puts(o, sbuf_str(&fl));
    sbuf_puts(o, "# HELP zepix_plugin_paused 1 while the plugin may not open trades (/pause, an account or its "
                 "own risk limit).\n"
                 "# TYPE zepix_plugin_paused gauge\n");
    sbuf_puts(o, sbuf_str(&pa));
    sbuf_free(&st);
    sbuf_free(&open);
    sbuf_free(&fl);
    sbuf_free(&pa);
}

void metrics_render(struct app *a, struct sbuf *o)
{
    struct metrics *m = M(a);
    if (!m)
        return;
    sbuf_puts(o, "# HELP zepix_signals_total Signals received, by source and outcome.\n"
                 "# TYPE zepix_signals_total counter\n");
    for (size_t i = 0; i < m->nsig; i++)
        sbuf_printf(o, "zepix_signals_total{source=\"%s\",outcome=\"%s\"} %llu\n", m->sig[i].a,
                    m->sig[i].b, m->sig[i].n);
    sbuf_puts(o, "# HELP zepix_orders_total Orders placed for plugins, by result.\n"
                 "# TYPE zepix_orders_total counter\n");
    for (size_t i = 0; i < m->nord; i++)
        sbuf_printf(o, "zepix_orders_total{plugin=\"%s\",result=\"%s\"} %llu\n", m->ord[i].a,
                    m->ord[i].b, m->ord[i].n);
    render_histo(o, "zepix_webhook_latency_seconds", "From request to answer of POST webhook.", &m->webhook);
    render_histo(o, "zepix_hook_latency_seconds", "Time spent in on_signal_received.", &m->hook);
    sbuf_printf(o, "# HELP zepix_telegram_sends_total Bot API messages sent, by result.\n"
                   "# TYPE zepix_telegram_sends_total counter\n"
                   "zepix_telegram_sends_total{result=\"ok\"} %llu\n"
                   "zepix_telegram_sends_total{result=\"failed\"} %llu\n", m->tg_ok, m->tg_fail);
    sbuf_printf(o, "# HELP zepix_open_trades Open trades across plugins.\n# TYPE zepix_open_trades gauge\n"
                   "zepix_open_trades %zu\n", a->eng ? eng_open_count(a->eng) : (size_t)0);
    render_operator(a, m, o);
}

void metrics_free(struct app *a)
{
    struct metrics *m = a->metrics;
    if (!m)
        return;
    free(m->sig);
    free(m->ord);
    free(m);
    a->metrics = NULL;
}
