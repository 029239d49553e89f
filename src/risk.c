/*
 * risk — see risk.h.
 */
#include "risk.h"
#include "log.h"
#include "store.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RISK_SCOPES 64

struct risk_scope {
    char id[64];                /* "" = the account */
    int paused;
    char why[200];
    double peak;                /* highest day_pnl seen today */
    int have_peak;
};

struct risk {
    sqlite3 *db;
    const struct config *cfg;
    int64_t day_from;
    struct risk_scope s[RISK_SCOPES];
    size_t n;
};

static const struct cfg_risk_limits no_limits;

const struct cfg_risk_limits *risk_plugin_limits(const struct config *cfg, const char *id)
{
    for (size_t i = 0; i < cfg->risk.n_per_plugin; i++)
        if (strcmp(cfg->risk.per_plugin[i].id, id) == 0)
            return &cfg->risk.per_plugin[i].limits;
    return &no_limits;
}

int risk_any(const struct cfg_risk_limits *l)
{
    return l->max_daily_loss > 0 || l->max_daily_loss_pct > 0 || l->max_drawdown_pct > 0 ||
           l->max_open_trades > 0 || l->max_lot > 0 || l->max_lots_per_symbol > 0;
}

static void kv_key(const char *scope, char *out, size_t len)
{
    snprintf(out, len, "risk_pause:%s", scope[0] ? scope : "*");
}

static struct risk_scope *scope_of(struct risk *r, const char *id)
{
    for (size_t i = 0; i < r->n; i++)
        if (strcmp(r->s[i].id, id) == 0)
            return &r->s[i];
    if (r->n == RISK_SCOPES)
        return NULL;
    struct risk_scope *s = &r->s[r->n++];
    memset(s, 0, sizeof *s);
    snprintf(s->id, sizeof s->id, "%s", id);
    /* A pause persisted earlier today still holds. */
    char key[96], v[256];
    int64_t day = 0;
    int off = 0;
    kv_key(id, key, sizeof key);
    if (r->db && store_kv_get(r->db, key, v, sizeof v) == 0 && sscanf(v, "%" SCNd64 " %n", &day, &off) == 1 &&
        day == r->day_from && day != 0) {
        s->paused = 1;
        snprintf(s->why, sizeof s->why, "%s", v + off);
    }
    return s;
}

struct risk *risk_new(sqlite3 *db, const struct config *cfg)
{
    struct risk *r = calloc(1, sizeof *r);
    if (r) {
        r->db = db;
        r->cfg = cfg;
    }
    return r;
}

void risk_free(struct risk *r)
{
    free(r);
}

void risk_set_day(struct risk *r, int64_t day_from_ms)
{
    if (day_from_ms == r->day_from)
        return;
    if (r->day_from && r->n)
        LOG_I("risk", "a new trading day: risk pauses and drawdown peaks start again");
    r->day_from = day_from_ms;
    r->n = 0;                   /* reloaded per scope from the kv, for this day */
}

const char *risk_paused(struct risk *r, const char *scope)
{
    struct risk_scope *s = scope_of(r, scope);
    return s && s->paused ? s->why : NULL;
}

void risk_clear(struct risk *r)
{
    for (size_t i = 0; i < r->n; i++)
        if (r->s[i].paused) {
            char key[96];
            kv_key(r->s[i].id, key, sizeof key);
            if (r->db && store_kv_set(r->db, key, "0"))
                LOG_W("risk", "cannot clear %s in the host database", key);
            LOG_I("risk", "%s: risk pause ended by /resume", r->s[i].id[0] ? r->s[i].id : "account");
        }
    /* Scopes not loaded yet may have a pause on disk: clear every known key. */
    if (r->db && sqlite3_exec(r->db, "UPDATE kv SET value = '0' WHERE key LIKE 'risk_pause:%'", NULL, NULL,
                              NULL) != SQLITE_OK)
        LOG_W("risk", "cannot clear the risk pauses in the host database: %s", sqlite3_errmsg(r->db));
    r->n = 0;
}

static int trip(struct risk *r, struct risk_scope *s, int *tripped, const char *why)
{
    char key[96], v[260];
    s->paused = 1;
    snprintf(s->why, sizeof s->why, "%s", why);
    kv_key(s->id, key, sizeof key);
    snprintf(v, sizeof v, "%" PRId64 " %s", r->day_from, why);
    if (r->db && store_kv_set(r->db, key, v))
        LOG_W("risk", "cannot persist %s: the pause holds until a restart only", key);
    LOG_W("risk", "%s: opening paused until the next daily reset or /resume: %s",
          s->id[0] ? s->id : "account", why);
    *tripped = 1;
    return -1;
}

int risk_check(struct risk *r, const char *scope, const struct cfg_risk_limits *l, const struct risk_figures *f,
               double lot, int *tripped, char *err, size_t errlen)
{
    const char *who = scope[0] ? "plugin" : "account";
    char why[200];
    *tripped = 0;
    struct risk_scope *s = scope_of(r, scope);
    if (!s) {
        snprintf(err, errlen, "risk: too many scopes to track");
        return -1;
    }
    if (!s->have_peak || f->day_pnl > s->peak) {
        s->peak = f->day_pnl;
        s->have_peak = 1;
    }
    if (s->paused) {
        snprintf(err, errlen, "risk: %s opening paused until the next daily reset or /resume (%s)", who, s->why);
        return -1;
    }
    if (l->max_lot > 0 && lot > l->max_lot + 1e-9) {
        snprintf(err, errlen, "risk: %s max_lot %.2f (this order %.2f lots)", who, l->max_lot, lot);
        return -1;
    }
    if (l->max_open_trades > 0 && f->open_trades >= l->max_open_trades) {
        snprintf(err, errlen, "risk: %s max_open_trades %d reached (%d open)", who, l->max_open_trades,
                 f->open_trades);
        return -1;
    }
    if (l->max_lots_per_symbol > 0 && f->symbol_lots + lot > l->max_lots_per_symbol + 1e-9) {
        snprintf(err, errlen, "risk: %s max_lots_per_symbol %.2f (%.2f open + %.2f)", who,
                 l->max_lots_per_symbol, f->symbol_lots, lot);
        return -1;
    }
    double base = f->day_start_balance;
    if (l->max_daily_loss > 0 && -f->day_pnl >= l->max_daily_loss) {
        snprintf(why, sizeof why, "%s max_daily_loss %.2f reached (today %+.2f)", who, l->max_daily_loss,
                 f->day_pnl);
    } else if (l->max_daily_loss_pct > 0 && base > 0 && -f->day_pnl / base * 100 >= l->max_daily_loss_pct) {
        snprintf(why, sizeof why, "%s max_daily_loss_pct %g%% reached (today %+.2f, %.2f%% of %.2f)", who,
                 l->max_daily_loss_pct, f->day_pnl, -f->day_pnl / base * 100, base);
    } else if (l->max_drawdown_pct > 0 && base > 0 &&
               (s->peak - f->day_pnl) / (base + s->peak) * 100 >= l->max_drawdown_pct) {
        snprintf(why, sizeof why, "%s max_drawdown_pct %g%% reached (%.2f%% below today's peak equity %.2f)", who,
                 l->max_drawdown_pct, (s->peak - f->day_pnl) / (base + s->peak) * 100, base + s->peak);
    } else {
        return 0;
    }
    trip(r, s, tripped, why);
    snprintf(err, errlen, "risk: %s; opening paused until the next daily reset or /resume", why);
    return -1;
}
