/*
 * webhook — the HTTP routes of the signal path (SPEC section 6): POST
 * {webhook.path} (a TradingView alert, JSON or text), POST /price (a quote),
 * GET /metrics. Authentication by the shared secret, compared in constant time;
 * allowed_ips; every refusal a JSON error with its status. Accepted signals go
 * to the journal and are answered when it has committed and dispatched them.
 */
#ifndef ZEPIX_WEBHOOK_H
#define ZEPIX_WEBHOOK_H

#include <stddef.h>

struct app;

/* Register the routes with the app (before the listener starts). */
int webhook_register(struct app *a);

/* Constant-time equality of two NUL-terminated strings (time depends only on
 * the length of the longer one). */
int webhook_secret_equal(const char *given, const char *expected);

#endif
