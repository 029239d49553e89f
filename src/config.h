/*
 * config — the daemon's configuration (SPEC section 4): read one JSON file with
 * json-c, validate every key, reject unknown keys (except inside plugins.<id>,
 * which belongs to that plugin), apply the secret environment overrides.
 *
 * Errors name the file, the key path and what was expected:
 *   config/zepix.json: webhook.max_body_bytes: expected an integer 1..1048576, got "x"
 * Ownership: a struct config owns every string and the plugins json object;
 * cfg_free() releases them.
 */
#ifndef ZEPIX_CONFIG_H
#define ZEPIX_CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include <json-c/json.h>

#define CFG_MAX_ADMINS 32
#define CFG_MAX_IPS 64
#define CFG_MAX_SYMBOLS 256

#define CFG_MAX_ALIASES 4

struct cfg_symbol {
    char name[32];
    double pip_size;        /* price units per pip */
    double contract_size;   /* units of base currency per 1.0 lot */
    double volume_step;     /* lots are rounded down to this (0.01) */
    double min_lot;         /* smallest order (0.01) */
    double max_lot;         /* largest order, 0 = none */
    char aliases[CFG_MAX_ALIASES][32];  /* other names alerts may use ("GOLD") */
    char broker_symbol[32];             /* the MT5 terminal's name ("XAUUSD.m"); "" = name */
    size_t n_aliases;
};

/* SPEC 12 risk limits of one scope; 0 = off. */
struct cfg_risk_limits {
    double max_daily_loss;                  /* account currency */
    double max_daily_loss_pct;              /* of the balance when the trading day began */
    double max_drawdown_pct;                /* fall from today's peak equity */
    int max_open_trades;
    double max_lot;                         /* one order */
    double max_lots_per_symbol;             /* open lots on one symbol, this order included */
};

#define CFG_MAX_RISK_PLUGINS 64

struct config {
    char path[512];                         /* the file this came from */
    char log_level[8];

    struct {
        char token[256];                    /* "" = Telegram off */
        char api_base[256];
        int64_t admin_chat_ids[CFG_MAX_ADMINS];
        size_t n_admins;
        int64_t admin_user_ids[CFG_MAX_ADMINS];  /* SPEC 12: who may command in a group, press buttons */
        size_t n_admin_users;
        int poll_timeout_s;
    } telegram;

    struct { int enabled; } console;

    struct {
        char listen[128];                   /* as written, "HOST:PORT" */
        char host[64];                      /* parsed: IPv4/IPv6 literal */
        int port;
        char path[128];
        char secret[256];
        char allowed_ips[CFG_MAX_IPS][64];
        size_t n_allowed_ips;
        size_t max_body_bytes;
        unsigned max_connections;
        unsigned per_ip_connections;
        unsigned read_timeout_s;
        double max_stop_distance_pct;       /* an SL/TP further from the price is refused; 0 = off */
    } webhook;

    struct {
        char plugin_dir[512];
        char data_dir[512];
        char isolation[16];                 /* "process" (default) | "none" (see plugin_proc.h) */
        int hook_timeout_ms;                /* "process": a hook's deadline (10..60000, 200) */
    } plugin_system;

    json_object *plugins;                   /* owned: { "<id>": {...} } */

    struct {                                /* shadows (SPEC 12, shadow.h) */
        double paper_balance;               /* a shadow's paper account; 0 = broker.paper.balance */
    } shadow;

    struct {                                /* the read API (src/api.c), off by default */
        int enabled;
        char token[256];                    /* the bearer token; ZEPIX_API_TOKEN overrides */
    } api;

    struct {
        char kind[16];                      /* "paper" | "mt5" */
        double paper_balance;
        double paper_spread_pips;
        char mt5_secret[256];
        int mt5_poll_hold_ms;
        int mt5_stale_after_s;
        int64_t mt5_login;                  /* the account the EA must be on; 0 = the first seen */
        long mt5_magic_base;                /* zepix's magics: base .. base + 99999 */
    } broker;

    struct {
        struct cfg_risk_limits account;
        struct { char id[64]; struct cfg_risk_limits limits; } per_plugin[CFG_MAX_RISK_PLUGINS];
        size_t n_per_plugin;
    } risk;

    struct cfg_symbol symbols[CFG_MAX_SYMBOLS];
    size_t n_symbols;

    struct {
        int seconds;                        /* seconds after local midnight */
        char time[16];                      /* as written */
        char timezone[64];
    } daily_reset;
};

/* Load and validate path into *cfg (zeroed first). Returns 0, or -1 with the
 * reason in err. On failure *cfg holds nothing that needs freeing. */
int cfg_load(const char *path, struct config *cfg, char *err, size_t errlen);

/* The same from a JSON string already in memory (name is used in errors). */
int cfg_parse(const char *name, const char *json, struct config *cfg, char *err, size_t errlen);

void cfg_free(struct config *cfg);

/* plugins.<id> (borrowed, owned by cfg), or NULL. */
json_object *cfg_plugin(const struct config *cfg, const char *id);

/* The initial enabled flag of plugins.<id> (0 when absent). */
int cfg_plugin_enabled(const struct config *cfg, const char *id);

/* Symbol settings, looked up whatever the case ("eurusd.pro" finds the
 * configured "EURUSD.pro"; out->name is then the configured spelling, which
 * the broker is sent). Returns 1 when configured; 0 for an unconfigured
 * currency pair, which gets the defaults pip 0.0001 (JPY-quoted 0.01) and
 * contract 100000; -1 for anything else (gold, indices, crypto), which gets
 * the same defaults but must not be traded on them. cfg may be NULL. */
int cfg_symbol_find(const struct config *cfg, const char *name, struct cfg_symbol *out);
/* cfg_symbol_find's settings, whatever it returned. */
struct cfg_symbol cfg_symbol_get(const struct config *cfg, const char *name);

int cfg_is_admin(const struct config *cfg, int64_t chat_id);
/* user_id is listed in telegram.admin_user_ids. */
int cfg_is_admin_user(const struct config *cfg, int64_t user_id);

/* A plugin id: [a-z0-9_], 1..63 characters (also its directory's name). */
int cfg_valid_plugin_id(const char *id);

#endif
