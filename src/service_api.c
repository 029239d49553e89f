/*
 * service_api — see service_api.h. Every function resolves the handle first;
 * nothing here trusts a pointer the plugin hands over without that check.
 */
#include "service_api.h"
#include "app.h"
#include "chat.h"
#include "engine.h"
#include "log.h"
#include "notify.h"
#include "sbuf.h"
#include "registry.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define CHECK(h, call, fail_value)                              \
    struct plugin *p = reg_check_host(NULL, (h), (call));       \
    if (!p)                                                     \
        return fail_value;                                      \
    struct app *a = reg_app();                                  \
    struct engine *eng = p->eng ? p->eng : a->eng;              \
    (void)eng /* a shadow trades on an engine of its own (shadow.h) */

static void set_err(char *err, size_t errlen, const char *msg)
{
    if (err && errlen)
        snprintf(err, errlen, "%s", msg);
}

static int api_place_order(zx_host *h, const zx_order_req *req, zx_order *out, char *err, size_t errlen)
{
    CHECK(h, "place_order", (set_err(err, errlen, "invalid host handle"), -1));
    if (!req) {
        set_err(err, errlen, "no order request");
        return -1;
    }
    zx_order tmp;
    return eng_open(eng, p, req, out ? out : &tmp, err, errlen);
}

static int api_close_trade(zx_host *h, int64_t trade_id, double lot, char *err, size_t errlen)
{
    CHECK(h, "close_trade", (set_err(err, errlen, "invalid host handle"), -1));
    return eng_close(eng, p, trade_id, lot, "plugin", err, errlen);
}

static int api_modify_trade(zx_host *h, int64_t trade_id, double sl, double tp, char *err, size_t errlen)
{
    CHECK(h, "modify_trade", (set_err(err, errlen, "invalid host handle"), -1));
    return eng_modify(eng, p, trade_id, sl, tp, err, errlen);
}

static int api_open_trades(zx_host *h, zx_position *out, int max)
{
    CHECK(h, "open_trades", -1);
    if (!out || max <= 0)
        return 0;
    return eng_positions(eng, p, out, max);
}

static int api_quote(zx_host *h, const char *symbol, double *bid, double *ask)
{
    CHECK(h, "quote", -1);
    double b, k;
    if (!symbol || eng_quote(eng, symbol, &b, &k))
        return -1;
    if (bid)
        *bid = b;
    if (ask)
        *ask = k;
    return 0;
}

static int api_notify(zx_host *h, const char *text)
{
    CHECK(h, "notify", -1);
    char msg[1200];
    if (!text)
        return -1;
    snprintf(msg, sizeof msg, "%s[%s] %.*s", p->is_shadow ? "👻 shadow " : "", p->id,
             (int)sbuf_utf8_prefix(text, 1000), text);
    if (p->is_shadow)
        notify_send(a, "shadow", msg);      /* marked, and muted by /mute shadow */
    else
        chat_notify(a, msg);
    return 0;
}

static sqlite3 *api_db(zx_host *h)
{
    CHECK(h, "db", NULL);
    (void)a;
    return p->ldg ? ldg_db(p->ldg) : NULL;
}

static json_object *cfg_value(struct plugin *p, const char *key)
{
    json_object *v;
    if (!p->cfg || !key || !json_object_object_get_ex(p->cfg, key, &v))
        return NULL;
    return v;
}

static const char *api_config_string(zx_host *h, const char *key, const char *def)
{
    CHECK(h, "config_string", def);
    (void)a;
    json_object *v = cfg_value(p, key);
    return v && json_object_is_type(v, json_type_string) ? json_object_get_string(v) : def;
}

static double api_config_number(zx_host *h, const char *key, double def)
{
    CHECK(h, "config_number", def);
    (void)a;
    json_object *v = cfg_value(p, key);
    return v && (json_object_is_type(v, json_type_double) || json_object_is_type(v, json_type_int))
               ? json_object_get_double(v) : def;
}

static int api_config_bool(zx_host *h, const char *key, int def)
{
    CHECK(h, "config_bool", def);
    (void)a;
    json_object *v = cfg_value(p, key);
    return v && json_object_is_type(v, json_type_boolean) ? json_object_get_boolean(v) : def;
}

static void api_log(zx_host *h, int level, const char *fmt, ...)
{
    CHECK(h, "log", );
    (void)a;
    char msg[1024], mod[80];
    va_list ap;
    if (!fmt)
        return;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (level < ZX_LOG_DEBUG || level > ZX_LOG_ERROR)
        level = ZX_LOG_INFO;
    snprintf(mod, sizeof mod, "plugin %s", p->id);
    log_msg((enum lg_level)level, mod, "%s", msg);
    if (level >= ZX_LOG_WARN)
        snprintf(p->last_warn, sizeof p->last_warn, "%.*s", (int)sbuf_utf8_prefix(msg, 199), msg);
}

static int64_t api_now_ms(zx_host *h)
{
    (void)h;
    return app_now_ms();
}

static int api_account(zx_host *h, double *balance, double *equity)
{
    CHECK(h, "account", -1);
    double b, e;
    if (eng_account(eng, &b, &e))
        return -1;
    if (balance)
        *balance = b;
    if (equity)
        *equity = e;
    return 0;
}

static int api_symbol_info(zx_host *h, const char *symbol, double *pip_size, double *pip_value)
{
    CHECK(h, "symbol_info", -1);
    double ps, pv;
    if (!symbol || eng_symbol_info(eng, symbol, &ps, &pv))
        return -1;
    if (pip_size)
        *pip_size = ps;
    if (pip_value)
        *pip_value = pv;
    return 0;
}

/* Appended to ABI 1 (zepix_plugin.h, "ABI evolution"): the hooks of events
 * that zx_plugin_def has no member for. The registry keeps them per build. */
static int api_register_hook(zx_host *h, int event, zx_hook_fn fn)
{
    char err[160];
    CHECK(h, "register_hook", -1);
    (void)a;
    if (reg_register_hook(h, event, fn, err, sizeof err)) {
        LOG_W("registry", "plugin %s: %s", p->id, err);
        return -1;
    }
    return 0;
}

void svc_fill_api(zx_api *api)
{
    memset(api, 0, sizeof *api);
    api->abi_version = ZX_PLUGIN_ABI_VERSION;
    api->size = sizeof *api;
    api->place_order = api_place_order;
    api->close_trade = api_close_trade;
    api->modify_trade = api_modify_trade;
    api->open_trades = api_open_trades;
    api->quote = api_quote;
    api->notify = api_notify;
    api->db = api_db;
    api->config_string = api_config_string;
    api->config_number = api_config_number;
    api->config_bool = api_config_bool;
    api->log = api_log;
    api->now_ms = api_now_ms;
    api->account = api_account;
    api->symbol_info = api_symbol_info;
    api->register_hook = api_register_hook;
}
