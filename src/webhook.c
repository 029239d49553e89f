/*
 * webhook — see webhook.h.
 */
#include "webhook.h"
#include "app.h"
#include "engine.h"
#include "intake.h"
#include "preview.h"
#include "jnum.h"
#include "journal.h"
#include "jsonbody.h"
#include "log.h"
#include "metrics.h"
#include "sbuf.h"
#include "signal.h"

#include <ctype.h>
#include <json-c/json.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int webhook_secret_equal(const char *given, const char *expected)
{
    size_t gl = strlen(given), el = strlen(expected), n = gl > el ? gl : el;
    unsigned char diff = (unsigned char)(gl != el);
    for (size_t i = 0; i < n; i++) {
        unsigned char g = i < gl ? (unsigned char)given[i] : 0;
        unsigned char e = i < el ? (unsigned char)expected[i] : 0;
        diff |= g ^ e;
    }
    return diff == 0;
}

static int authorized(struct app *a, const char *given)
{
    return !a->cfg.webhook.secret[0] || webhook_secret_equal(given, a->cfg.webhook.secret);
}

struct pending {
    struct app *a;
    http_req *req;
};

static void on_journaled(void *ud, int status, const char *json)
{
    struct pending *p = ud;
    metrics_webhook_latency(p->a, http_req_age_ms(p->req) / 1000.0);
    http_reply_json(p->req, status, json);
    free(p);
}

static void refuse(struct app *a, http_req *req, int status, const char *outcome, const char *msg)
{
    metrics_signal(a, "webhook", outcome);
    metrics_webhook_latency(a, http_req_age_ms(req) / 1000.0);
    LOG_I("webhook", "%d from %s: %s", status, http_req_ip(req), msg);
    http_reply_error(req, status, msg);
}

static void on_signal(void *ud, http_req *req)
{
    struct app *a = ud;
    size_t len;
    const char *body = http_req_body(req, &len);
    char err[300], raw[20000];
    sig_parsed s;
    int pine = sig_is_pine(body, len, a->cfg.webhook.secret);
    int rc = pine ? sig_parse_pine(body, len, &s, err, sizeof err) : sig_parse_body(body, len, &s, err, sizeof err);
    /* Authenticate before explaining anything about the body. */
    if (!authorized(a, s.secret)) {
        /* An unreadable body hides its secret: say so, it is the usual cause,
         * but not how it failed: that error may quote the body, secret and all. */
        if (rc && !s.secret[0]) {
            size_t i = len >= 3 && memcmp(body, "\xEF\xBB\xBF", 3) == 0 ? 3 : 0;
            while (i < len && isspace((unsigned char)body[i]))
                i++;
            refuse(a, req, 401, "unauthorized", i < len && body[i] == '{'
                   ? "missing secret (invalid JSON, or no secret field)"
                   : "missing secret (no secret= in the text)");
        } else {
            refuse(a, req, 401, "unauthorized", "bad secret");
        }
        return;
    }
    if (rc) {
        refuse(a, req, 400, "invalid", err);
        return;
    }
    if (intake_check(a, &s, err, sizeof err)) {
        refuse(a, req, 400, "invalid", err);
        return;
    }
    struct pending *p = malloc(sizeof *p);
    if (!p) {
        refuse(a, req, 503, "failed", "out of memory");
        return;
    }
    p->a = a;
    p->req = req;
    if (pine) {     /* its first field is the secret */
        const char *c = memchr(body, ',', len);
        snprintf(raw, sizeof raw, "***%.*s", (int)(len - (size_t)(c - body)), c);
    } else {
        sig_redact_body(body, len, raw, sizeof raw);    /* the secret never reaches the journal */
    }
    if (jrn_submit(a, &s, "webhook", raw, on_journaled, p, err, sizeof err)) {
        free(p);
        refuse(a, req, 503, "failed", err);
        return;
    }
    http_suspend(req);
}

/* POST /preview (SPEC 12): the webhook's body and authentication, a dry run
 * (preview.h) instead of the journal; answered at once, nothing kept. */
static void on_preview(void *ud, http_req *req)
{
    struct app *a = ud;
    size_t len;
    const char *body = http_req_body(req, &len);
    char err[300];
    sig_parsed s;
    static struct prv_result res[64];
    int pine = sig_is_pine(body, len, a->cfg.webhook.secret);
    int rc = pine ? sig_parse_pine(body, len, &s, err, sizeof err) : sig_parse_body(body, len, &s, err, sizeof err);
    if (!authorized(a, s.secret)) {
        http_reply_error(req, 401, "bad secret");
        return;
    }
    if (rc || intake_check(a, &s, err, sizeof err)) {
        http_reply_error(req, 400, err);
        return;
    }
    int n = prv_run(a, &s, res, sizeof res / sizeof res[0], err, sizeof err);
    json_object *o = json_object_new_object(), *arr = json_object_new_array();
    json_object_object_add(o, "ok", json_object_new_boolean(n >= 0));
    json_object_object_add(o, "preview", json_object_new_boolean(1));
    for (int i = 0; i < n; i++) {
        json_object *x = json_object_new_object();
        json_object_object_add(x, "plugin", json_object_new_string(res[i].plugin));
        json_object_object_add(x, "verdict", json_object_new_string(res[i].verdict));
        if (res[i].reason[0])
            json_object_object_add(x, "reason", json_object_new_string(res[i].reason));
        if (res[i].lot > 0) {
            json_object_object_add(x, "lot", json_object_new_double(res[i].lot));
            json_object_object_add(x, "sl", json_object_new_double(res[i].sl));
            json_object_object_add(x, "tp", json_object_new_double(res[i].tp));
            json_object_object_add(x, "risk", json_object_new_string(res[i].risk));
        }
        if (res[i].orders[0])
            json_object_object_add(x, "orders", json_object_new_string(res[i].orders));
        json_object_array_add(arr, x);
    }
    json_object_object_add(o, "results", arr);
    if (s.sizing[0])
        json_object_object_add(o, "sizing", json_object_new_string(s.sizing));
    http_reply_json(req, 200, json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
    json_object_put(o);
}

/* Read a quote field: JSON number or numeric string; 0 when absent. */
static int quote_num(json_object *o, const char *key, double *out, char *err, size_t errlen)
{
    json_object *v;
    *out = 0;
    if (!json_object_object_get_ex(o, key, &v) || json_object_is_type(v, json_type_null))
        return 0;
    if (jnum_get(v, out)) {
        snprintf(err, errlen, "%s: not a number", key);
        return -1;
    }
    if (!isfinite(*out) || *out <= 0) {
        snprintf(err, errlen, "%s: must be a positive finite number", key);
        return -1;
    }
    return 0;
}

/* The quote's symbol by the signal grammar's rule, in the configured spelling. */
static int quote_symbol(struct app *a, json_object *o, char *out, size_t outlen, char *err, size_t errlen)
{
    json_object *v;
    char sym[SIG_SYMBOL_MAX + 1];
    if (!json_object_object_get_ex(o, "symbol", &v) || !json_object_is_type(v, json_type_string)) {
        snprintf(err, errlen, "symbol: missing");
        return -1;
    }
    if (sig_symbol_norm(json_object_get_string(v), (size_t)json_object_get_string_len(v), sym)) {
        snprintf(err, errlen, "symbol: must match [A-Z0-9._]{1,31} after the exchange prefix");
        return -1;
    }
    snprintf(out, outlen, "%s", cfg_symbol_get(&a->cfg, sym).name);
    return 0;
}

static void on_price(void *ud, http_req *req)
{
    struct app *a = ud;
    size_t len;
    const char *body = http_req_body(req, &len);
    char err[256], sym[32];
    double bid, ask, price;
    json_object *o = jbody_object(body, len), *sec = NULL;
    if (!o) {
        http_reply_error(req, a->cfg.webhook.secret[0] ? 401 : 400, "body: expected a JSON object");
        return;
    }
    json_object_object_get_ex(o, "secret", &sec);
    if (!authorized(a, sec && json_object_is_type(sec, json_type_string) ? json_object_get_string(sec) : "")) {
        json_object_put(o);
        http_reply_error(req, 401, "bad secret");
        return;
    }
    json_object_object_foreach(o, key, val) {
        (void)val;
        if (strcmp(key, "secret") && strcmp(key, "symbol") && strcmp(key, "bid") && strcmp(key, "ask") &&
            strcmp(key, "price")) {
            snprintf(err, sizeof err, "%.*s: unknown field (fields: secret, symbol, bid, ask, price)",
                     (int)sbuf_utf8_prefix(key, 40), key);
            goto bad;
        }
    }
    if (quote_symbol(a, o, sym, sizeof sym, err, sizeof err) || quote_num(o, "bid", &bid, err, sizeof err) ||
        quote_num(o, "ask", &ask, err, sizeof err) || quote_num(o, "price", &price, err, sizeof err))
        goto bad;
    if (price > 0 && !bid && !ask) {
        bid = ask = price;
    } else if (!bid || !ask) {
        snprintf(err, sizeof err, "bid/ask: give both, or price");
        goto bad;
    }
    if (app_on_quote(a, sym, bid, ask, err, sizeof err))
        goto bad;
    json_object_put(o);
    char out[200];
    snprintf(out, sizeof out, "{\"ok\":true,\"symbol\":\"%s\",\"bid\":%.10g,\"ask\":%.10g}", sym, bid, ask);
    http_reply_json(req, 200, out);
    return;
bad:
    json_object_put(o);
    http_reply_error(req, 400, err);
}

static void on_metrics(void *ud, http_req *req)
{
    struct app *a = ud;
    struct sbuf b;
    sbuf_init(&b);
    metrics_render(a, &b);
    http_reply(req, 200, "text/plain; version=0.0.4", sbuf_str(&b), b.len);
    sbuf_free(&b);
}

int webhook_register(struct app *a)
{
    if (app_add_route(a, "POST", a->cfg.webhook.path, on_signal, a) ||
        app_add_route(a, "POST", "/price", on_price, a) ||
        app_add_route(a, "POST", "/preview", on_preview, a) ||
        app_add_route(a, "GET", "/metrics", on_metrics, a))
        return -1;
    return 0;
}
