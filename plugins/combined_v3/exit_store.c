/*
 * exit_store.c — the partial-close flags of combined_v3 in its own database.
 * The only file of the plugin that touches SQLite, and only through the
 * handle api->db() returns (never stored: fetched per use by the caller).
 */
#include <stdio.h>
#include <stdlib.h>
#include <sqlite3.h>

#include "exit_store.h"

/* Resolved against the host's libsqlite3 at dlopen time; NULL where the
 * process has none (the plugin's unit tests), which turns persistence off. */
#pragma weak sqlite3_exec
#pragma weak sqlite3_free

static int cv3_store_exec(sqlite3 *db, const char *sql,
                          int (*cb)(void *, int, char **, char **), void *ctx,
                          char *err, size_t errlen)
{
    char *msg = NULL;
    if (db == NULL || sqlite3_exec == NULL) {
        snprintf(err, errlen, "no database");
        return -1;
    }
    if (sqlite3_exec(db, sql, cb, ctx, &msg) != SQLITE_OK) {
        snprintf(err, errlen, "%s", msg != NULL ? msg : "sqlite error");
        if (msg != NULL && sqlite3_free != NULL)
            sqlite3_free(msg);
        return -1;
    }
    return 0;
}

int cv3_store_open(sqlite3 *db, char *err, size_t errlen)
{
    if (sqlite3_exec == NULL) {
        snprintf(err, errlen, "sqlite3 not available in this process");
        return -1;
    }
    return cv3_store_exec(db,
                          "CREATE TABLE IF NOT EXISTS cv3_partial_done ("
                          "trade_id INTEGER PRIMARY KEY, done_ms INTEGER)",
                          NULL, NULL, err, errlen);
}

struct cv3_store_load_ctx {
    void (*fn)(void *ctx, int64_t trade_id);
    void *ctx;
};

static int cv3_store_load_row(void *p, int ncol, char **vals, char **names)
{
    struct cv3_store_load_ctx *lc = p;
    (void)names;
    if (ncol >= 1 && vals[0] != NULL)
        lc->fn(lc->ctx, (int64_t)strtoll(vals[0], NULL, 10));
    return 0;
}

int cv3_store_load(sqlite3 *db, void (*fn)(void *ctx, int64_t trade_id), void *ctx)
{
    char err[128];
    struct cv3_store_load_ctx lc = { fn, ctx };
    return cv3_store_exec(db, "SELECT trade_id FROM cv3_partial_done", cv3_store_load_row,
                          &lc, err, sizeof err);
}

/* trade_id and now_ms are integers printed by us: no injection possible. */
int cv3_store_mark(sqlite3 *db, int64_t trade_id, int64_t now_ms, char *err, size_t errlen)
{
    char sql[128];
    snprintf(sql, sizeof sql,
             "INSERT OR REPLACE INTO cv3_partial_done (trade_id, done_ms) VALUES (%lld, %lld)",
             (long long)trade_id, (long long)now_ms);
    return cv3_store_exec(db, sql, NULL, NULL, err, errlen);
}

int cv3_store_forget(sqlite3 *db, int64_t trade_id, char *err, size_t errlen)
{
    char sql[96];
    snprintf(sql, sizeof sql, "DELETE FROM cv3_partial_done WHERE trade_id = %lld",
             (long long)trade_id);
    return cv3_store_exec(db, sql, NULL, NULL, err, errlen);
}
