/*
 * zepix_plugin.h — the zepix plugin ABI. The only header a plugin includes.
 *
 * A plugin is a shared object (plugins/<id>/plugin.so) that exports exactly one
 * symbol, zx_plugin_entry(), returning a static zx_plugin_def. The host checks
 * abi_version and id, then calls init() with its service API table (zx_api) and
 * a host handle (zx_host *) that identifies the plugin in every API call.
 *
 * Rules for plugin authors (the host enforces what it can):
 *  - Reach the world only through zx_api: no broker, no other plugin's data, no
 *    global config. Keep no host pointer across calls except your zx_host * and
 *    the zx_api table; every pointer a hook receives is valid only during the call.
 *  - Hooks run on the host's single event-loop thread: never block (no sleep, no
 *    network I/O, no long SQLite scans).
 *  - Prices, lots, sl and tp are plain doubles; 0 means "not given".
 *  - Times are milliseconds since the Unix epoch (UTC).
 *  - Build: cc -shared -fPIC -I plugins -o plugins/ID/plugin.so (the .c files of plugins/ID)
 *  - Isolation "process" (the default): the plugin runs in a process of its own,
 *    and every zx_api call is a request to the daemon. It is killed, and marked
 *    failed, when it crashes, when a hook takes longer than
 *    plugin_system.hook_timeout_ms (200 ms by default), or when it calls what a
 *    strategy has no business with: exec, fork, threads, sockets, open() of any
 *    file (use api->db(), already open), signals to other processes, changes
 *    to the file system. Do the work in init and the hooks, not in ELF
 *    constructors. The same plugin.so also runs unconfined with "none".
 *
 * ABI evolution: zx_api begins with abi_version and size. The host may append
 * members; use ZX_API_HAS(api, member) before calling a member newer than the
 * version you were written for. A change to an existing member bumps
 * ZX_PLUGIN_ABI_VERSION, and the host refuses plugins built for another version.
 *
 * Why appending to zx_api keeps ABI 1: the table is the host's (allocated and
 * filled by the host, passed to init as a const pointer), and a plugin only
 * reads it. A plugin built against an older header reads only the members it
 * knows, all at the offsets they always had; the members after them are never
 * touched. A plugin built against a newer header on an older host finds
 * api->size smaller than the end of the new member, and ZX_API_HAS says no
 * (it reads the member only when size covers it). zx_plugin_def, by contrast,
 * is the plugin's and has no size: the host cannot tell how long a plugin's
 * copy is, so no hook is ever added to it. New events come by registration
 * instead (api->register_hook, below, as Mosquitto's
 * mosquitto_callback_register): a host that lacks the member or does not know
 * the event says so, and the plugin carries on without it.
 */
#ifndef ZEPIX_PLUGIN_H
#define ZEPIX_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define ZX_PLUGIN_ABI_VERSION 1

typedef struct zx_host zx_host;                 /* opaque, one per loaded plugin */
typedef struct sqlite3 sqlite3;                 /* from <sqlite3.h> */

typedef enum { ZX_REJECT = 0, ZX_ACCEPT = 1, ZX_HANDLED = 2 } zx_verdict;
/* Pending orders (appended within ABI 1, SPEC 12): the order waits at
 * zx_signal.price (the entry) until the quote reaches it. A limit buys below /
 * sells above the market, a stop buys above / sells below it. A plugin written
 * before these existed sees an action it does not know: the template,
 * combined_v3 and price_action_v6 of that time accept any action but buy and
 * sell untouched (as a close), so the host's own checks (lot rules, risk) are
 * all that applies to such an order. Check the action before treating a
 * signal as an entry. */
typedef enum { ZX_BUY = 1, ZX_SELL, ZX_CLOSE, ZX_CLOSE_LONG, ZX_CLOSE_SHORT,
               ZX_BUY_LIMIT, ZX_BUY_STOP, ZX_SELL_LIMIT, ZX_SELL_STOP } zx_action;

enum { ZX_LOG_DEBUG = 0, ZX_LOG_INFO = 1, ZX_LOG_WARN = 2, ZX_LOG_ERROR = 3 };

/* A trading signal as a plugin sees it in on_signal_received. The plugin may
 * change lot, sl, tp and lot_multiplier in place before returning ZX_ACCEPT. */
typedef struct zx_signal {
    int64_t id;                 /* the host's journal id of this signal */
    const char *source;         /* "webhook", "telegram", "console" */
    zx_action action;
    char symbol[32];            /* upper case, exchange prefix dropped */
    double price, sl, tp, lot;  /* 0 = not given; a pending action's price is its entry */
    double lot_multiplier;      /* 1.0 unless a plugin changes it */
    const char *comment;        /* never NULL, may be "" */
} zx_signal;

/* An order a plugin places itself (place_order). side is ZX_BUY or ZX_SELL. */
typedef struct zx_order_req {
    zx_action side;
    char symbol[32];
    double lot;                 /* > 0, capped by the plugin's max_lot_size */
    double sl, tp;              /* 0 = none */
    const char *comment;        /* may be NULL */
} zx_order_req;

/* A filled order (on_order_placed, and place_order's result). */
typedef struct zx_order {
    int64_t trade_id;           /* row id in the plugin's trades table */
    int64_t order_id;           /* the broker's ticket */
    int64_t signal_id;          /* journal id of the signal behind it, 0 if none */
    zx_action side;             /* ZX_BUY or ZX_SELL */
    char symbol[32];
    double lot, price, sl, tp;
    int64_t time_ms;
} zx_order;

/* An open (or just closed) trade with its current valuation. */
typedef struct zx_position {
    int64_t trade_id;
    int64_t order_id;
    zx_action side;             /* ZX_BUY or ZX_SELL */
    char symbol[32];
    double lot, entry_price, sl, tp;
    double current_price;       /* the price the trade would close at now */
    double profit_pips, profit_money;
    int64_t open_time_ms;
    int closed;                 /* 1 when this update reports the close */
    const char *close_reason;   /* "sl", "tp", "manual", "signal", ... or "" */
} zx_position;

/* The figures of the day that just ended, for on_daily_reset. */
typedef struct zx_daily {
    char date[11];              /* YYYY-MM-DD in the daily_reset timezone */
    int total_trades, win_count, loss_count;
    double win_rate;            /* percent, 0..100 */
    double total_profit, max_drawdown;
} zx_daily;

/* Events a plugin registers a hook for with api->register_hook (after
 * ZX_API_HAS(api, register_hook)); each says the type its function has. The
 * function is passed cast to zx_hook_fn and called as its own type. Its state
 * argument is what init stored in *state. Delivered like the hooks of
 * zx_plugin_def: on the host's loop thread, to enabled plugins, never while
 * another hook of the same plugin runs, in both isolations. */
enum {
    /* void fn(void *state, const zx_daily *day): the day's figures at the
     * daily reset, after on_daily_reset (a plugin uses one or the other). */
    ZX_EVENT_DAILY_RESET = 1,
};
typedef void (*zx_hook_fn)(void);
typedef void (*zx_daily_reset_fn)(void *state, const zx_daily *day);

/* The service API. Every call takes the plugin's own zx_host *; a stale or
 * foreign handle is refused (returns -1 / NULL / default) and logged.
 * Functions returning int return 0 (or a count) on success, -1 on failure
 * with a readable reason in err when err is not NULL. */
typedef struct zx_api {
    uint32_t abi_version;       /* ZX_PLUGIN_ABI_VERSION of the host */
    size_t size;                /* sizeof(zx_api) in the host */

    /* Open a market order for this plugin. On success *out (if not NULL) holds
     * the fill and the trade is recorded in the plugin's trades table. With
     * the mt5 broker the order is only sent: out->order_id is 0 and price an
     * estimate; on_order_placed brings the fill. close_trade and modify_trade
     * likewise send a request; on_position_update reports the close. */
    int (*place_order)(zx_host *h, const zx_order_req *req, zx_order *out,
                       char *err, size_t errlen);
    /* Close an open trade of this plugin; lot 0 = the whole trade, else a
     * partial close of that many lots (the trade becomes PARTIAL). */
    int (*close_trade)(zx_host *h, int64_t trade_id, double lot, char *err, size_t errlen);
    /* Move SL/TP of an open trade of this plugin; a negative value keeps it. */
    int (*modify_trade)(zx_host *h, int64_t trade_id, double sl, double tp,
                        char *err, size_t errlen);
    /* This plugin's open trades, up to max of them; returns the count or -1. */
    int (*open_trades)(zx_host *h, zx_position *out, int max);
    /* The last known quote of a symbol; -1 when none is known. */
    int (*quote)(zx_host *h, const char *symbol, double *bid, double *ask);
    /* A message to the admin chats, tagged with the plugin id (plain text). */
    int (*notify)(zx_host *h, const char *text);
    /* The plugin's own database (data/zepix_<id>.db); owned by the host. */
    sqlite3 *(*db)(zx_host *h);
    /* The plugin's own config object (plugins.<id>); def when absent or of
     * another type. The returned string is owned by the host, valid until
     * the plugin is shut down. */
    const char *(*config_string)(zx_host *h, const char *key, const char *def);
    double (*config_number)(zx_host *h, const char *key, double def);
    int (*config_bool)(zx_host *h, const char *key, int def);
    void (*log)(zx_host *h, int level, const char *fmt, ...)
#if defined(__GNUC__)
        __attribute__((format(printf, 3, 4)))
#endif
        ;
    int64_t (*now_ms)(zx_host *h);
    /* The broker account in its currency; -1 when unknown (terminal offline). */
    int (*account)(zx_host *h, double *balance, double *equity);
    /* A symbol's pip size and the money one pip is worth for 1.0 lot at the
     * current quote (account currency); -1 when the symbol is unknown. */
    int (*symbol_info)(zx_host *h, const char *symbol, double *pip_size,
                       double *pip_value_per_lot);

    /* ---- appended after the first ABI 1 hosts: check ZX_API_HAS(api, m) ---- */

    /* Call fn at event (ZX_EVENT_*) from now on. Only from init (the hooks a
     * build has are known when it is up); a second call for an event replaces
     * the first. 0, or -1 (logged) for an event this host does not know, a
     * NULL fn, or a call outside init. */
    int (*register_hook)(zx_host *h, int event, zx_hook_fn fn);
} zx_api;

/* True when the host's table has member m (for plugins written for a newer host). */
#define ZX_API_HAS(api, m) \
    ((api)->size >= offsetof(zx_api, m) + sizeof(((zx_api *)0)->m) && (api)->m != NULL)

typedef struct zx_plugin_def {
    uint32_t abi_version;       /* ZX_PLUGIN_ABI_VERSION */
    const char *id, *name, *version, *author;   /* id = the directory name */
    int  (*init)(zx_host *host, const zx_api *api, void **state);   /* 0 = ok */
    void (*shutdown)(void *state);
    zx_verdict (*on_signal_received)(void *state, zx_signal *sig, char *reason, size_t reason_len);
    void (*on_order_placed)(void *state, const zx_order *order);
    void (*on_position_update)(void *state, const zx_position *pos);
    void (*on_daily_reset)(void *state, const zx_daily *day);
    void (*on_plugin_enabled)(void *state);
    void (*on_plugin_disabled)(void *state);
} zx_plugin_def;

#if defined(__GNUC__)
#define ZX_EXPORT __attribute__((visibility("default")))
#else
#define ZX_EXPORT
#endif

ZX_EXPORT const zx_plugin_def *zx_plugin_entry(void);     /* the one exported symbol */

#ifdef __cplusplus
}
#endif
#endif /* ZEPIX_PLUGIN_H */
