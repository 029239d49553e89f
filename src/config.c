/*
 * config — see config.h. One validator per section; each reads only the keys
 * it knows and rejects the rest, so a typo'd safety setting is an error, never
 * a silent default.
 */
#include "config.h"
#include "signal.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

struct vctx {
    const char *file;
    char *err;
    size_t errlen;
};

__attribute__((format(printf, 3, 4)))
static int fail(struct vctx *v, const char *key, const char *fmt, ...)
{
    char msg[384];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (v->err)
        snprintf(v->err, v->errlen, "%s: %s: %s", v->file, key, msg);
    return -1;
}

/* A short rendering of a JSON value for error messages. */
static const char *shown(json_object *o)
{
    const char *s = o ? json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN) : "null";
    return strlen(s) > 60 ? "(a long value)" : s;
}

static int only_keys(struct vctx *v, const char *path, json_object *obj,
                     const char *const *allowed)
{
    json_object_object_foreach(obj, key, val) {
        (void)val;
        int ok = 0;
        for (const char *const *a = allowed; *a && !ok; a++)
            ok = strcmp(*a, key) == 0;
        if (!ok) {
            char full[256];
            snprintf(full, sizeof full, "%s%s%s", path, *path ? "." : "", key);
            char expect[512] = "";
            size_t n = 0;
            for (const char *const *a = allowed; *a; a++)
                n += (size_t)snprintf(expect + n, n < sizeof expect ? sizeof expect - n : 0,
                                      "%s%s", a == allowed ? "" : ", ", *a);
            return fail(v, full, "unknown key (expected one of: %s)", expect);
        }
    }
    return 0;
}

static int section(struct vctx *v, json_object *root, const char *key, json_object **out)
{
    *out = NULL;
    json_object *o;
    if (!json_object_object_get_ex(root, key, &o))
        return 0;
    if (!json_object_is_type(o, json_type_object))
        return fail(v, key, "expected an object, got %s", shown(o));
    *out = o;
    return 0;
}

static int get_str(struct vctx *v, json_object *obj, const char *path, const char *key,
                   char *dst, size_t dstlen)
{
    json_object *o;
    char full[256];
    if (!obj || !json_object_object_get_ex(obj, key, &o))
        return 0;
    snprintf(full, sizeof full, "%s.%s", path, key);
    if (!json_object_is_type(o, json_type_string))
        return fail(v, full, "expected a string, got %s", shown(o));
    const char *s = json_object_get_string(o);
    if (strlen(s) >= dstlen)
        return fail(v, full, "expected at most %zu characters", dstlen - 1);
    memcpy(dst, s, strlen(s) + 1);
    return 0;
}

static int get_bool(struct vctx *v, json_object *obj, const char *path, const char *key, int *dst)
{
    json_object *o;
    char full[256];
    if (!obj || !json_object_object_get_ex(obj, key, &o))
        return 0;
    snprintf(full, sizeof full, "%s.%s", path, key);
    if (!json_object_is_type(o, json_type_boolean))
        return fail(v, full, "expected true or false, got %s", shown(o));
    *dst = json_object_get_boolean(o);
    return 0;
}

static int get_num(struct vctx *v, json_object *obj, const char *path, const char *key,
                   double lo, double hi, double *dst)
{
    json_object *o;
    char full[256];
    if (!obj || !json_object_object_get_ex(obj, key, &o))
        return 0;
    snprintf(full, sizeof full, "%s.%s", path, key);
    if (!json_object_is_type(o, json_type_double) && !json_object_is_type(o, json_type_int))
        return fail(v, full, "expected a number %g..%g, got %s", lo, hi, shown(o));
    double d = json_object_get_double(o);
    if (!isfinite(d) || d < lo || d > hi)
        return fail(v, full, "expected a number %g..%g, got %s", lo, hi, shown(o));
    *dst = d;
    return 0;
}

static int get_int(struct vctx *v, json_object *obj, const char *path, const char *key,
                   long lo, long hi, long *dst)
{
    json_object *o;
    char full[256];
    if (!obj || !json_object_object_get_ex(obj, key, &o))
        return 0;
    snprintf(full, sizeof full, "%s.%s", path, key);
    if (!json_object_is_type(o, json_type_int))
        return fail(v, full, "expected an integer %ld..%ld, got %s", lo, hi, shown(o));
    int64_t i = json_object_get_int64(o);
    if (i < lo || i > hi)
        return fail(v, full, "expected an integer %ld..%ld, got %s", lo, hi, shown(o));
    *dst = (long)i;
    return 0;
}

/* "HOST:PORT" or "[V6]:PORT" with a numeric address. */
static int parse_listen(struct vctx *v, struct config *c)
{
    const char *s = c->webhook.listen, *colon;
    char host[64];
    size_t hl;
    if (s[0] == '[') {
        const char *close = strchr(s, ']');
        if (!close || close[1] != ':')
            goto bad;
        hl = (size_t)(close - s - 1);
        if (hl >= sizeof host)
            goto bad;
        memcpy(host, s + 1, hl);
        colon = close + 1;
    } else {
        colon = strrchr(s, ':');
        if (!colon)
            goto bad;
        hl = (size_t)(colon - s);
        if (hl >= sizeof host)
            goto bad;
        memcpy(host, s, hl);
    }
    host[hl] = '\0';
    unsigned char buf[16];
    if (inet_pton(AF_INET, host, buf) != 1 && inet_pton(AF_INET6, host, buf) != 1)
        goto bad;
    char *end;
    errno = 0;
    long port = strtol(colon + 1, &end, 10);
    if (errno || *end || end == colon + 1 || port < 0 || port > 65535)
        goto bad;
    memcpy(c->webhook.host, host, hl + 1);
    c->webhook.port = (int)port;
    return 0;
bad:
    return fail(v, "webhook.listen", "expected \"ADDRESS:PORT\" with a numeric address "
                "(\"127.0.0.1:8080\", \"[::1]:8080\"), got \"%s\"", s);
}

static int is_loopback(const char *host)
{
    return strncmp(host, "127.", 4) == 0 || strcmp(host, "::1") == 0;
}

/* telegram.<key>: an array of at most CFG_MAX_ADMINS non-zero integer ids. */
static int id_list(struct vctx *v, json_object *t, const char *key, const char *what, int64_t *out, size_t *n_out)
{
    json_object *ids;
    char field[48];
    snprintf(field, sizeof field, "telegram.%s", key);
    if (!json_object_object_get_ex(t, key, &ids))
        return 0;
    if (!json_object_is_type(ids, json_type_array))
        return fail(v, field, "expected an array of %s, got %s", what, shown(ids));
    size_t n = json_object_array_length(ids);
    if (n > CFG_MAX_ADMINS)
        return fail(v, field, "expected at most %d %s", CFG_MAX_ADMINS, what);
    for (size_t i = 0; i < n; i++) {
        json_object *e = json_object_array_get_idx(ids, i);
        if (!json_object_is_type(e, json_type_int) || json_object_get_int64(e) == 0)
            return fail(v, field, "expected integer %s, got %s", what, shown(e));
        out[(*n_out)++] = json_object_get_int64(e);
    }
    return 0;
}

static int v_telegram(struct vctx *v, json_object *root, struct config *c)
{
    static const char *const keys[] = {"token", "api_base", "admin_chat_ids", "admin_user_ids",
                                       "poll_timeout_s", NULL};
    json_object *t;
    long timeout = c->telegram.poll_timeout_s;
    if (section(v, root, "telegram", &t))
        return -1;
    if (!t)
        return 0;
    if (only_keys(v, "telegram", t, keys) ||
        get_str(v, t, "telegram", "token", c->telegram.token, sizeof c->telegram.token) ||
        get_str(v, t, "telegram", "api_base", c->telegram.api_base, sizeof c->telegram.api_base) ||
        get_int(v, t, "telegram", "poll_timeout_s", 0, 600, &timeout))
        return -1;
    c->telegram.poll_timeout_s = (int)timeout;
    if (strncmp(c->telegram.api_base, "https://", 8) && strncmp(c->telegram.api_base, "http://", 7))
        return fail(v, "telegram.api_base", "expected an http:// or https:// URL, got \"%s\"",
                    c->telegram.api_base);
    if (id_list(v, t, "admin_chat_ids", "chat ids", c->telegram.admin_chat_ids, &c->telegram.n_admins) ||
        id_list(v, t, "admin_user_ids", "user ids", c->telegram.admin_user_ids, &c->telegram.n_admin_users))
        return -1;
    return 0;
}

static int v_webhook(struct vctx *v, json_object *root, struct config *c)
{
    static const char *const keys[] = {"listen", "path", "secret", "allowed_ips", "max_body_bytes",
                                       "max_connections", "per_ip_connections", "read_timeout_s",
                                       "max_stop_distance_pct", NULL};
    json_object *w, *ips;
    long body = (long)c->webhook.max_body_bytes, conns = c->webhook.max_connections,
         perip = c->webhook.per_ip_connections, rto = c->webhook.read_timeout_s;
    if (section(v, root, "webhook", &w))
        return -1;
    if (w && (only_keys(v, "webhook", w, keys) ||
              get_str(v, w, "webhook", "listen", c->webhook.listen, sizeof c->webhook.listen) ||
              get_str(v, w, "webhook", "path", c->webhook.path, sizeof c->webhook.path) ||
              get_str(v, w, "webhook", "secret", c->webhook.secret, sizeof c->webhook.secret) ||
              get_int(v, w, "webhook", "max_body_bytes", 64, 1048576, &body) ||
              get_int(v, w, "webhook", "max_connections", 4, 10000, &conns) ||
              get_int(v, w, "webhook", "per_ip_connections", 1, 10000, &perip) ||
              get_int(v, w, "webhook", "read_timeout_s", 1, 600, &rto) ||
              get_num(v, w, "webhook", "max_stop_distance_pct", 0, 100, &c->webhook.max_stop_distance_pct)))
        return -1;
    c->webhook.max_body_bytes = (size_t)body;
    c->webhook.max_connections = (unsigned)conns;
    c->webhook.per_ip_connections = (unsigned)perip;
    c->webhook.read_timeout_s = (unsigned)rto;
    if (c->webhook.path[0] != '/' || strchr(c->webhook.path, '?'))
        return fail(v, "webhook.path", "expected a path starting with '/', got \"%s\"", c->webhook.path);
    if (w && json_object_object_get_ex(w, "allowed_ips", &ips)) {
        if (!json_object_is_type(ips, json_type_array))
            return fail(v, "webhook.allowed_ips", "expected an array of IP addresses, got %s", shown(ips));
        size_t n = json_object_array_length(ips);
        if (n > CFG_MAX_IPS)
            return fail(v, "webhook.allowed_ips", "expected at most %d addresses", CFG_MAX_IPS);
        for (size_t i = 0; i < n; i++) {
            json_object *e = json_object_array_get_idx(ips, i);
            unsigned char buf[16];
            const char *s = json_object_get_string(e);
            if (!json_object_is_type(e, json_type_string) || strlen(s) >= 64 ||
                (inet_pton(AF_INET, s, buf) != 1 && inet_pton(AF_INET6, s, buf) != 1))
                return fail(v, "webhook.allowed_ips", "expected IP address strings, got %s", shown(e));
            snprintf(c->webhook.allowed_ips[c->webhook.n_allowed_ips++], 64, "%s", s);
        }
    }
    return parse_listen(v, c);
}

static int v_plugin_system(struct vctx *v, json_object *root, struct config *c)
{
    static const char *const keys[] = {"plugin_dir", "data_dir", "isolation", "hook_timeout_ms", NULL};
    json_object *p;
    long hook_ms = c->plugin_system.hook_timeout_ms;
    if (section(v, root, "plugin_system", &p))
        return -1;
    if (p && (only_keys(v, "plugin_system", p, keys) ||
              get_str(v, p, "plugin_system", "plugin_dir", c->plugin_system.plugin_dir,
                      sizeof c->plugin_system.plugin_dir) ||
              get_str(v, p, "plugin_system", "data_dir", c->plugin_system.data_dir,
                      sizeof c->plugin_system.data_dir) ||
              get_str(v, p, "plugin_system", "isolation", c->plugin_system.isolation,
                      sizeof c->plugin_system.isolation) ||
              get_int(v, p, "plugin_system", "hook_timeout_ms", 10, 60000, &hook_ms)))
        return -1;
    c->plugin_system.hook_timeout_ms = (int)hook_ms;
    if (strcmp(c->plugin_system.isolation, "none") != 0 && strcmp(c->plugin_system.isolation, "process") != 0)
        return fail(v, "plugin_system.isolation", "expected \"process\" or \"none\", got \"%s\"",
                    c->plugin_system.isolation);
    if (!c->plugin_system.plugin_dir[0] || !c->plugin_system.data_dir[0])
        return fail(v, "plugin_system", "plugin_dir and data_dir must not be empty");
    return 0;
}

int cfg_valid_plugin_id(const char *id)
{
    size_t n = strlen(id);
    if (n == 0 || n > 63)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!(islower((unsigned char)id[i]) || isdigit((unsigned char)id[i]) || id[i] == '_'))
            return 0;
    return 1;
}

static int v_plugins(struct vctx *v, json_object *root, struct config *c)
{
    json_object *p;
    if (section(v, root, "plugins", &p))
        return -1;
    if (!p)
        return 0;
    json_object_object_foreach(p, id, val) {
        char full[128];
        snprintf(full, sizeof full, "plugins.%s", id);
        if (!cfg_valid_plugin_id(id))
            return fail(v, full, "expected a plugin id of [a-z0-9_], 1..63 characters");
        if (!json_object_is_type(val, json_type_object))
            return fail(v, full, "expected an object, got %s", shown(val));
        int en = 0;
        if (get_bool(v, val, full, "enabled", &en))
            return -1;
        double d = 0;
        if (get_num(v, val, full, "max_lot_size", 0, 1000, &d) ||
            get_num(v, val, full, "default_lot", 0, 1000, &d))
            return -1;
    }
    c->plugins = json_object_get(p);
    return 0;
}

static int v_broker(struct vctx *v, json_object *root, struct config *c)
{
    static const char *const keys[] = {"kind", "paper", "mt5", NULL};
    static const char *const pkeys[] = {"balance", "spread_pips", NULL};
    static const char *const mkeys[] = {"secret", "poll_hold_ms", "stale_after_s", "login", "magic_base", NULL};
    json_object *b, *p = NULL, *m = NULL;
    long hold = c->broker.mt5_poll_hold_ms, stale = c->broker.mt5_stale_after_s;
    long login = (long)c->broker.mt5_login, magic = c->broker.mt5_magic_base;
    if (section(v, root, "broker", &b))
        return -1;
    if (!b)
        return 0;
    if (only_keys(v, "broker", b, keys) ||
        get_str(v, b, "broker", "kind", c->broker.kind, sizeof c->broker.kind) ||
        section(v, b, "paper", &p) || section(v, b, "mt5", &m))
        return -1;
    if (p && (only_keys(v, "broker.paper", p, pkeys) ||
              get_num(v, p, "broker.paper", "balance", 0, 1e12, &c->broker.paper_balance) ||
              get_num(v, p, "broker.paper", "spread_pips", 0, 1000, &c->broker.paper_spread_pips)))
        return -1;
    if (m && (only_keys(v, "broker.mt5", m, mkeys) ||
              get_str(v, m, "broker.mt5", "secret", c->broker.mt5_secret, sizeof c->broker.mt5_secret) ||
              get_int(v, m, "broker.mt5", "poll_hold_ms", 0, 60000, &hold) ||
              get_int(v, m, "broker.mt5", "stale_after_s", 1, 3600, &stale) ||
              get_int(v, m, "broker.mt5", "login", 0, 9000000000000000000L, &login) ||
              get_int(v, m, "broker.mt5", "magic_base", 1, 2000000000L, &magic)))
        return -1;
    c->broker.mt5_login = login;
    c->broker.mt5_magic_base = magic;
    c->broker.mt5_poll_hold_ms = (int)hold;
    c->broker.mt5_stale_after_s = (int)stale;
    if (strcmp(c->broker.kind, "paper") != 0 && strcmp(c->broker.kind, "mt5") != 0)
        return fail(v, "broker.kind", "expected \"paper\" or \"mt5\", got \"%s\"", c->broker.kind);
    if (hold >= stale * 1000)
        return fail(v, "broker.mt5.poll_hold_ms", "expected less than stale_after_s (%ld s), or a held poll "
                    "makes the terminal look offline, got %ld", stale, hold);
    if (strcmp(c->broker.kind, "mt5") == 0 && !c->broker.mt5_secret[0])
        return fail(v, "broker.mt5.secret", "expected a non-empty secret (the EA's InpSecret) when "
                    "broker.kind is \"mt5\"");
    return 0;
}

static int v_symbols(struct vctx *v, json_object *root, struct config *c)
{
    static const char *const keys[] = {"pip_size", "contract_size", "volume_step", "min_lot", "max_lot",
                                       "aliases", "broker_symbol", NULL};
    json_object *s;
    if (section(v, root, "symbols", &s))
        return -1;
    if (!s)
        return 0;
    json_object_object_foreach(s, name, val) {
        char full[96];
        snprintf(full, sizeof full, "symbols.%s", name);
        if (!sig_symbol_valid(name))
            return fail(v, full, "expected a symbol of [A-Za-z0-9._], 1..31 characters");
        struct cfg_symbol seen;
        if (cfg_symbol_find(c, name, &seen) == 1)
            return fail(v, full, "expected one entry per symbol, whatever its case (also \"%s\")", seen.name);
        if (!json_object_is_type(val, json_type_object))
            return fail(v, full, "expected an object, got %s", shown(val));
        if (c->n_symbols == CFG_MAX_SYMBOLS)
            return fail(v, "symbols", "expected at most %d symbols", CFG_MAX_SYMBOLS);
        struct cfg_symbol sym = cfg_symbol_get(NULL, name);
        snprintf(sym.name, sizeof sym.name, "%s", name);
        json_object *al;
        if (only_keys(v, full, val, keys) ||
            get_num(v, val, full, "pip_size", 1e-9, 1e6, &sym.pip_size) ||
            get_num(v, val, full, "contract_size", 1e-9, 1e12, &sym.contract_size) ||
            get_num(v, val, full, "volume_step", 1e-6, 1e6, &sym.volume_step) ||
            get_num(v, val, full, "min_lot", 1e-6, 1e6, &sym.min_lot) ||
            get_num(v, val, full, "max_lot", 0, 1e6, &sym.max_lot))
            return -1;
        if (get_str(v, val, full, "broker_symbol", sym.broker_symbol, sizeof sym.broker_symbol))
            return -1;
        if (sym.broker_symbol[0] && !sig_symbol_valid(sym.broker_symbol))
            return fail(v, full, "expected broker_symbol of [A-Za-z0-9._], 1..31 characters, got \"%s\"",
                        sym.broker_symbol);
        if (sym.max_lot > 0 && sym.max_lot < sym.min_lot)
            return fail(v, full, "expected max_lot (%g) at least min_lot (%g)", sym.max_lot, sym.min_lot);
        if (json_object_object_get_ex(val, "aliases", &al)) {
            char ap[128];
            snprintf(ap, sizeof ap, "%s.aliases", full);
            if (!json_object_is_type(al, json_type_array) || json_object_array_length(al) > CFG_MAX_ALIASES)
                return fail(v, ap, "expected an array of at most %d symbol names", CFG_MAX_ALIASES);
            for (size_t k = 0; k < json_object_array_length(al); k++) {
                json_object *e = json_object_array_get_idx(al, k);
                struct cfg_symbol other;
                const char *an = json_object_get_string(e);
                if (!json_object_is_type(e, json_type_string) || !sig_symbol_valid(an))
                    return fail(v, ap, "expected symbol names of [A-Za-z0-9._], got %s", shown(e));
                if (cfg_symbol_find(c, an, &other) == 1 || strcasecmp(an, name) == 0)
                    return fail(v, ap, "\"%s\" already names %s", an, other.name[0] ? other.name : name);
                snprintf(sym.aliases[sym.n_aliases++], 32, "%s", an);
            }
        }
        c->symbols[c->n_symbols++] = sym;
    }
    return 0;
}

static int v_risk_limits(struct vctx *v, json_object *o, const char *path, struct cfg_risk_limits *l, int top)
{
    static const char *const keys[] = {"max_daily_loss", "max_daily_loss_pct", "max_drawdown_pct",
                                       "max_open_trades", "max_lot", "max_lots_per_symbol", "per_plugin", NULL};
    long trades = 0;
    if (only_keys(v, path, o, keys) ||
        get_num(v, o, path, "max_daily_loss", 0, 1e12, &l->max_daily_loss) ||
        get_num(v, o, path, "max_daily_loss_pct", 0, 100, &l->max_daily_loss_pct) ||
        get_num(v, o, path, "max_drawdown_pct", 0, 100, &l->max_drawdown_pct) ||
        get_int(v, o, path, "max_open_trades", 0, 100000, &trades) ||
        get_num(v, o, path, "max_lot", 0, 1e6, &l->max_lot) ||
        get_num(v, o, path, "max_lots_per_symbol", 0, 1e6, &l->max_lots_per_symbol))
        return -1;
    l->max_open_trades = (int)trades;
    if (!top && json_object_object_get_ex(o, "per_plugin", NULL))
        return fail(v, path, "per_plugin belongs to the top level of risk only");
    return 0;
}

static int v_risk(struct vctx *v, json_object *root, struct config *c)
{
    json_object *r, *pp = NULL;
    if (section(v, root, "risk", &r))
        return -1;
    if (!r)
        return 0;
    if (v_risk_limits(v, r, "risk", &c->risk.account, 1) || section(v, r, "per_plugin", &pp))
        return -1;
    if (!pp)
        return 0;
    json_object_object_foreach(pp, id, val) {
        char full[128];
        snprintf(full, sizeof full, "risk.per_plugin.%s", id);
        if (!cfg_valid_plugin_id(id))
            return fail(v, full, "expected a plugin id of [a-z0-9_], 1..63 characters");
        if (!json_object_is_type(val, json_type_object))
            return fail(v, full, "expected an object, got %s", shown(val));
        if (c->risk.n_per_plugin == CFG_MAX_RISK_PLUGINS)
            return fail(v, "risk.per_plugin", "expected at most %d plugins", CFG_MAX_RISK_PLUGINS);
        snprintf(c->risk.per_plugin[c->risk.n_per_plugin].id, 64, "%s", id);
        if (v_risk_limits(v, val, full, &c->risk.per_plugin[c->risk.n_per_plugin].limits, 0))
            return -1;
        c->risk.n_per_plugin++;
    }
    return 0;
}

static int v_daily_reset(struct vctx *v, json_object *root, struct config *c)
{
    static const char *const keys[] = {"time", "timezone", NULL};
    json_object *d;
    if (section(v, root, "daily_reset", &d))
        return -1;
    if (d && (only_keys(v, "daily_reset", d, keys) ||
              get_str(v, d, "daily_reset", "time", c->daily_reset.time, sizeof c->daily_reset.time) ||
              get_str(v, d, "daily_reset", "timezone", c->daily_reset.timezone,
                      sizeof c->daily_reset.timezone)))
        return -1;
    int h, m, s = 0, n = 0;
    const char *t = c->daily_reset.time;
    if (!((sscanf(t, "%2d:%2d:%2d%n", &h, &m, &s, &n) == 3 && n == 8 && strlen(t) == 8) ||
          (sscanf(t, "%2d:%2d%n", &h, &m, &n) == 2 && n == 5 && strlen(t) == 5)) ||
        h > 23 || m > 59 || s > 59 || h < 0 || m < 0 || s < 0)
        return fail(v, "daily_reset.time", "expected \"HH:MM\" or \"HH:MM:SS\", got \"%s\"", t);
    c->daily_reset.seconds = h * 3600 + m * 60 + s;
    const char *tz = c->daily_reset.timezone;
    char zpath[160];
    struct stat st;
    snprintf(zpath, sizeof zpath, "/usr/share/zoneinfo/%s", tz);
    if (!tz[0] || strstr(tz, "..") || tz[0] == '/' || stat(zpath, &st) != 0 || !S_ISREG(st.st_mode))
        return fail(v, "daily_reset.timezone", "expected an IANA time zone such as "
                    "\"Asia/Kolkata\" (see /usr/share/zoneinfo), got \"%s\"", tz);
    return 0;
}

/* shadow: {"paper_balance": N} (SPEC 12 lists the key; its one setting). */
static int v_shadow(struct vctx *v, json_object *root, struct config *c)
{
    static const char *const keys[] = {"paper_balance", NULL};
    json_object *o;
    if (section(v, root, "shadow", &o))
        return -1;
    return o && (only_keys(v, "shadow", o, keys) ||
                 get_num(v, o, "shadow", "paper_balance", 0, 1e12, &c->shadow.paper_balance)) ? -1 : 0;
}

#define CFG_API_TOKEN_MIN 16

static int v_api(struct vctx *v, json_object *root, struct config *c)
{
    static const char *const keys[] = {"enabled", "token", NULL};
    json_object *o;
    if (section(v, root, "api", &o))
        return -1;
    return o && (only_keys(v, "api", o, keys) || get_bool(v, o, "api", "enabled", &c->api.enabled) ||
                 get_str(v, o, "api", "token", c->api.token, sizeof c->api.token)) ? -1 : 0;
}

/* After the environment overrides: an enabled API needs a token worth the name. */
static int check_api(struct vctx *v, const struct config *c)
{
    if (c->api.enabled && strlen(c->api.token) < CFG_API_TOKEN_MIN)
        return fail(v, "api.token", "expected at least %d characters when api.enabled is true "
                    "(or set ZEPIX_API_TOKEN), got %zu", CFG_API_TOKEN_MIN, strlen(c->api.token));
    return 0;
}

static void defaults(struct config *c)
{
    memset(c, 0, sizeof *c);
    snprintf(c->log_level, sizeof c->log_level, "info");
    snprintf(c->telegram.api_base, sizeof c->telegram.api_base, "https://api.telegram.org");
    c->telegram.poll_timeout_s = 50;
    c->console.enabled = 1;
    snprintf(c->webhook.listen, sizeof c->webhook.listen, "127.0.0.1:8080");
    snprintf(c->webhook.path, sizeof c->webhook.path, "/webhook");
    c->webhook.max_body_bytes = 16384;
    c->webhook.max_connections = 512;
    c->webhook.per_ip_connections = 64;
    c->webhook.read_timeout_s = 10;
    c->webhook.max_stop_distance_pct = 20;
    snprintf(c->plugin_system.plugin_dir, sizeof c->plugin_system.plugin_dir, "plugins");
    snprintf(c->plugin_system.data_dir, sizeof c->plugin_system.data_dir, "data");
    snprintf(c->plugin_system.isolation, sizeof c->plugin_system.isolation, "process");
    c->plugin_system.hook_timeout_ms = 200;
    snprintf(c->broker.kind, sizeof c->broker.kind, "paper");
    c->broker.paper_balance = 10000;
    c->broker.mt5_poll_hold_ms = 1000;
    c->broker.mt5_stale_after_s = 10;
    c->broker.mt5_magic_base = 7700000;
    snprintf(c->daily_reset.time, sizeof c->daily_reset.time, "03:35");
    snprintf(c->daily_reset.timezone, sizeof c->daily_reset.timezone, "Asia/Kolkata");
}

static int env_override(struct vctx *v, const char *var, const char *key, char *dst, size_t len)
{
    const char *e = getenv(var);
    if (!e || !*e)
        return 0;
    if (strlen(e) >= len)
        return fail(v, key, "the value from %s is longer than %zu characters", var, len - 1);
    memcpy(dst, e, strlen(e) + 1);
    return 0;
}

int cfg_parse(const char *name, const char *json, struct config *cfg, char *err, size_t errlen)
{
    static const char *const keys[] = {"telegram", "console", "webhook", "plugin_system", "plugins",
                                       "broker", "symbols", "daily_reset", "log", "risk", "api", "shadow", NULL};
    static const char *const ckeys[] = {"enabled", NULL};
    static const char *const lkeys[] = {"level", NULL};
    struct vctx v = {name, err, errlen};
    json_object *console, *log;
    enum json_tokener_error jerr;
    if (err && errlen)
        err[0] = '\0';
    defaults(cfg);
    snprintf(cfg->path, sizeof cfg->path, "%s", name);

    json_object *root = NULL;
    size_t end = 0, len = strlen(json);
    json_tokener *tok = len <= INT_MAX ? json_tokener_new() : NULL;
    if (tok) {
        root = json_tokener_parse_ex(tok, json, (int)len);
        jerr = json_tokener_get_error(tok);
        end = json_tokener_get_parse_end(tok);
        json_tokener_free(tok);
    } else {
        jerr = json_tokener_error_size;
    }
    if (jerr == json_tokener_success && json[end + strspn(json + end, " \t\r\n")] != '\0') {
        json_object_put(root);
        root = NULL;
        jerr = json_tokener_error_parse_unexpected;
    }
    if (!root || jerr != json_tokener_success) {
        /* line:column of where the parser stopped, as an editor counts them */
        int line = 1, col = 1;
        for (size_t i = 0; i < end && json[i]; i++, col++)
            if (json[i] == '\n') {
                line++;
                col = 0;
            }
        if (err)
            snprintf(err, errlen, "%s:%d:%d: not valid JSON: %s", name, line, col,
                     jerr == json_tokener_continue ? "unexpected end of input" : json_tokener_error_desc(jerr));
        json_object_put(root);
        return -1;
    }
    if (!json_object_is_type(root, json_type_object)) {
        fail(&v, "(top level)", "expected a JSON object");
        goto fail;
    }
    if (only_keys(&v, "", root, keys) || v_telegram(&v, root, cfg) ||
        section(&v, root, "console", &console) ||
        (console && (only_keys(&v, "console", console, ckeys) ||
                     get_bool(&v, console, "console", "enabled", &cfg->console.enabled))) ||
        section(&v, root, "log", &log) ||
        (log && (only_keys(&v, "log", log, lkeys) ||
                 get_str(&v, log, "log", "level", cfg->log_level, sizeof cfg->log_level))) ||
        v_webhook(&v, root, cfg) || v_plugin_system(&v, root, cfg) || v_plugins(&v, root, cfg) ||
        v_broker(&v, root, cfg) || v_symbols(&v, root, cfg) || v_daily_reset(&v, root, cfg) ||
        v_risk(&v, root, cfg) || v_api(&v, root, cfg) || v_shadow(&v, root, cfg))
        goto fail;
    if (strcmp(cfg->log_level, "debug") && strcmp(cfg->log_level, "info") &&
        strcmp(cfg->log_level, "warn") && strcmp(cfg->log_level, "error")) {
        fail(&v, "log.level", "expected \"debug\", \"info\", \"warn\" or \"error\", got \"%s\"",
             cfg->log_level);
        goto fail;
    }
    if (env_override(&v, "ZEPIX_TELEGRAM_TOKEN", "telegram.token", cfg->telegram.token,
                     sizeof cfg->telegram.token) ||
        env_override(&v, "ZEPIX_WEBHOOK_SECRET", "webhook.secret", cfg->webhook.secret,
                     sizeof cfg->webhook.secret) ||
        env_override(&v, "ZEPIX_API_TOKEN", "api.token", cfg->api.token, sizeof cfg->api.token) ||
        check_api(&v, cfg))
        goto fail;
    /* An unauthenticated webhook is tolerable only where nobody else can reach it. */
    if (!cfg->webhook.secret[0] && !is_loopback(cfg->webhook.host)) {
        fail(&v, "webhook.secret", "required when webhook.listen is not a loopback address");
        goto fail;
    }
    if (cfg->telegram.token[0] && cfg->telegram.n_admins == 0) {
        fail(&v, "telegram.admin_chat_ids", "expected at least one chat id when a token is set");
        goto fail;
    }
    json_object_put(root);
    return 0;
fail:
    json_object_put(root);
    cfg_free(cfg);
    return -1;
}

/* SPEC 12: plugins.<id> must name a plugin directory. A typo ("combinedv3")
 * would otherwise leave the real plugin on its defaults, without the caps the
 * operator meant to set. */
static int check_plugin_dir(const struct config *c, const char *key, const char *id, char *err, size_t errlen)
{
    char dir[1100];
    struct stat st;
    snprintf(dir, sizeof dir, "%s/%s", c->plugin_system.plugin_dir, id);
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        snprintf(err, errlen, "%s: %s.%s: no such plugin (no directory %s); the plugin "
                 "directories are the plugins that exist (--list-plugins shows them)", c->path, key, id, dir);
        return -1;
    }
    return 0;
}

static int check_plugin_dirs(const struct config *c, char *err, size_t errlen)
{
    for (size_t i = 0; i < c->risk.n_per_plugin; i++)
        if (check_plugin_dir(c, "risk.per_plugin", c->risk.per_plugin[i].id, err, errlen))
            return -1;
    if (!c->plugins)
        return 0;
    json_object_object_foreach(c->plugins, id, val) {
        (void)val;
        if (check_plugin_dir(c, "plugins", id, err, errlen))
            return -1;
    }
    return 0;
}

int cfg_load(const char *path, struct config *cfg, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        memset(cfg, 0, sizeof *cfg);
        snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        return -1;
    }
    char *buf = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (cap - len < 4096) {
            if (cap > (1u << 22)) {
                snprintf(err, errlen, "%s: larger than 4 MiB", path);
                goto fail;
            }
            char *nb = realloc(buf, cap + 65536);
            if (!nb) {
                snprintf(err, errlen, "%s: out of memory", path);
                goto fail;
            }
            buf = nb;
            cap += 65536;
        }
        size_t n = fread(buf + len, 1, cap - len - 1, f);
        len += n;
        if (n == 0)
            break;
    }
    if (ferror(f)) {
        snprintf(err, errlen, "%s: read error: %s", path, strerror(errno));
        goto fail;
    }
    buf[len] = '\0';
    fclose(f);
    int rc = cfg_parse(path, buf, cfg, err, errlen);
    free(buf);
    if (rc == 0 && (rc = check_plugin_dirs(cfg, err, errlen)) != 0)
        cfg_free(cfg);
    return rc;
fail:
    free(buf);
    fclose(f);
    memset(cfg, 0, sizeof *cfg);
    return -1;
}

void cfg_free(struct config *cfg)
{
    if (cfg->plugins)
        json_object_put(cfg->plugins);
    cfg->plugins = NULL;
}

json_object *cfg_plugin(const struct config *cfg, const char *id)
{
    json_object *o;
    if (cfg->plugins && json_object_object_get_ex(cfg->plugins, id, &o))
        return o;
    return NULL;
}

int cfg_plugin_enabled(const struct config *cfg, const char *id)
{
    json_object *p = cfg_plugin(cfg, id), *e;
    return p && json_object_object_get_ex(p, "enabled", &e) && json_object_get_boolean(e);
}

/* A currency pair's defaults are safe only for currencies: XAUUSD (gold) or
 * BTCUSD have six letters too, but a 100000 contract would value 0.01 lot of
 * gold at a thousand times its size. */
static int is_fx_pair(const char *name)
{
    static const char *const ccy[] = {"USD", "EUR", "GBP", "JPY", "CHF", "AUD", "NZD", "CAD", "SEK",
                                      "NOK", "DKK", "SGD", "HKD", "ZAR", "MXN", "TRY", "PLN", "CNH",
                                      "HUF", "CZK", NULL};
    int found = 0;
    size_t n = strlen(name);
    if (n != 6 && !(n > 7 && name[6] == '.'))   /* EURUSD, EURUSD.m */
        return 0;
    for (int half = 0; half < 2; half++)
        for (int i = 0; ccy[i]; i++)
            if (strncasecmp(name + 3 * half, ccy[i], 3) == 0) {
                found++;
                break;
            }
    return found == 2;
}

int cfg_symbol_find(const struct config *cfg, const char *name, struct cfg_symbol *out)
{
    memset(out, 0, sizeof *out);
    snprintf(out->name, sizeof out->name, "%s", name);
    for (size_t i = 0; cfg && i < cfg->n_symbols; i++) {
        int hit = strcasecmp(cfg->symbols[i].name, name) == 0;
        for (size_t k = 0; !hit && k < cfg->symbols[i].n_aliases; k++)
            hit = strcasecmp(cfg->symbols[i].aliases[k], name) == 0;
        if (hit) {
            *out = cfg->symbols[i];
            return 1;
        }
    }
    out->volume_step = 0.01;
    out->min_lot = 0.01;
    size_t n = strlen(name);
    out->pip_size = (n >= 6 && strncasecmp(name + 3, "JPY", 3) == 0) ? 0.01 : 0.0001;
    out->contract_size = 100000;
    return is_fx_pair(name) ? 0 : -1;
}

struct cfg_symbol cfg_symbol_get(const struct config *cfg, const char *name)
{
    struct cfg_symbol s;
    cfg_symbol_find(cfg, name, &s);
    return s;
}

int cfg_is_admin(const struct config *cfg, int64_t chat_id)
{
    for (size_t i = 0; i < cfg->telegram.n_admins; i++)
        if (cfg->telegram.admin_chat_ids[i] == chat_id)
            return 1;
    return 0;
}

int cfg_is_admin_user(const struct config *cfg, int64_t user_id)
{
    for (size_t i = 0; i < cfg->telegram.n_admin_users; i++)
        if (cfg->telegram.admin_user_ids[i] == user_id)
            return 1;
    return 0;
}
