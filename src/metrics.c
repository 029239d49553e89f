/*
 * metrics — see metrics.h. Label sets are few (sources x outcomes, plugins x
 * results), so they live in small arrays searched linearly.
 */
#include "metrics.h"
#include "app.h"
#include "engine.h"
#include "sbuf.h"

#include <stdlib.h>
#include <string.h>

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
    if (m)
        bump(&m->sig, &m->nsig, source, outcome);
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
                   "zepix_open_trades %zu\n", a->eng ? eng_open_count(a) : (size_t)0);
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
