/*
 * metrics — counters and histograms for GET /metrics in the Prometheus text
 * format: signals by source and outcome, orders by plugin and result, webhook
 * latency, plugin hook latency, Telegram sends, open trades. Counting is a few
 * array lookups on the loop thread; nothing here allocates per event after the
 * first occurrence of a label set.
 */
#ifndef ZEPIX_METRICS_H
#define ZEPIX_METRICS_H

struct app;
struct plugin;
struct sbuf;

void metrics_signal(struct app *a, const char *source, const char *outcome);
void metrics_order(struct app *a, const char *plugin, int ok);
void metrics_webhook_latency(struct app *a, double seconds);
void metrics_hook_latency(struct app *a, double seconds);
void metrics_tg_send(struct app *a, int ok);
/* 1 while plugin p may not open trades: /pause, or an account or its own risk
 * pause (also the read API's answer). */
int metrics_plugin_paused(struct app *a, const struct plugin *p);
/* The whole exposition. */
void metrics_render(struct app *a, struct sbuf *out);
void metrics_free(struct app *a);

#endif
