/*
 * store — see store.h.
 */
#include "store.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

/* The host schema, oldest first. Never edit a released entry: append one. */
static const char *const host_migrations[] = {
    /* 1: key/value, plugin state, the signal journal and its per-plugin outcomes */
    "CREATE TABLE kv (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
    "CREATE TABLE plugin_state (plugin_id TEXT PRIMARY KEY, enabled INTEGER NOT NULL,"
    "  updated_ms INTEGER NOT NULL);"
    "CREATE TABLE signals (id INTEGER PRIMARY KEY, source TEXT NOT NULL, ext_id TEXT,"
    "  received_ms INTEGER NOT NULL, raw TEXT NOT NULL, plugin TEXT, action TEXT, symbol TEXT,"
    "  price REAL, sl REAL, tp REAL, lot REAL, comment TEXT,"
    "  state TEXT NOT NULL DEFAULT 'received',"     /* received | done | failed */
    "  finished_ms INTEGER, response TEXT);"
    "CREATE UNIQUE INDEX signals_source_ext ON signals(source, ext_id) WHERE ext_id IS NOT NULL;"
    "CREATE INDEX signals_state ON signals(state) WHERE state = 'received';"
    "CREATE TABLE signal_results (signal_id INTEGER NOT NULL REFERENCES signals(id),"
    "  plugin TEXT NOT NULL, status TEXT NOT NULL, trade_id INTEGER, reason TEXT,"
    "  PRIMARY KEY (signal_id, plugin));",
    /* 2: the MT5 bridge (broker_mt5.c). A request is pending until its result
     * is applied (once: the state change is the guard); mt5_deals remembers the
     * closing deals already applied. */
    "CREATE TABLE mt5_requests (request_id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  plugin TEXT NOT NULL, trade_id INTEGER NOT NULL, op TEXT NOT NULL, payload TEXT NOT NULL,"
    "  state TEXT NOT NULL DEFAULT 'pending',"       /* pending | done */
    "  created_ms INTEGER NOT NULL, result TEXT, done_ms INTEGER);"
    "CREATE INDEX mt5_requests_pending ON mt5_requests(state) WHERE state = 'pending';"
    "CREATE TABLE mt5_deals (deal INTEGER PRIMARY KEY, ticket INTEGER, applied_ms INTEGER);",
    /* 3: signals answered 202 whose dispatch goes on later (journal.c); a
     * restart finishes them, so they are found by index. signals.state gains
     * 'queued' and 'partial' (a plugin's part is missing; a resend completes it). */
    "CREATE INDEX signals_queued ON signals(state) WHERE state = 'queued';",
    /* 4: /journal ID and /replay ID read one plugin's signals, newest first,
     * without scanning every outcome. */
    "CREATE INDEX signal_results_plugin ON signal_results(plugin, signal_id);",
};

/* Checkpoints out of the commit path. SQLite's auto-checkpoint runs inside the
 * COMMIT that crosses 1000 WAL frames: a copy of pages and an fsync of the main
 * file inside a signal's answer time. Instead the WAL hook only notes the
 * database, and store_checkpoint_run() (the journal's idle watcher, after the
 * answers are out) does a passive checkpoint. A WAL that still reaches
 * CKPT_FORCE frames (a loop that never idles, as under sustained load) is checkpointed at once, as before. */
#define CKPT_NOTE 1000
#define CKPT_FORCE 2000
#define CKPT_MAX 64

static sqlite3 *g_due[CKPT_MAX];
static size_t g_ndue;

static int wal_hook(void *ud, sqlite3 *db, const char *name, int frames)
{
    (void)ud;
    if (frames >= CKPT_FORCE) {
        sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
        return SQLITE_OK;
    }
    if (frames >= CKPT_NOTE) {
        for (size_t i = 0; i < g_ndue; i++)
            if (g_due[i] == db)
                return SQLITE_OK;
        if (g_ndue < CKPT_MAX)
            g_due[g_ndue++] = db;
    }
    return SQLITE_OK;
}

size_t store_checkpoint_due(void) { return g_ndue; }

void store_checkpoint_run(void)
{
    while (g_ndue > 0) {
        sqlite3 *db = g_due[--g_ndue];
        sqlite3_wal_checkpoint_v2(db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
    }
}

void store_close(sqlite3 *db)
{
    for (size_t i = 0; i < g_ndue; i++)
        if (g_due[i] == db) {
            g_due[i] = g_due[--g_ndue];
            break;
        }
    sqlite3_close(db);
}

int store_exec(sqlite3 *db, const char *sql, char *err, size_t errlen)
{
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        if (err)
            snprintf(err, errlen, "%s", msg ? msg : sqlite3_errmsg(db));
        sqlite3_free(msg);
        return -1;
    }
    return 0;
}

int store_open(const char *path, sqlite3 **out, char *err, size_t errlen)
{
    sqlite3 *db = NULL;
    *out = NULL;
    int rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                             SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        snprintf(err, errlen, "%s: %s", path, db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
        goto fail;
    }
    /* A lock held by another process (a plugin's own connection, the sqlite3
     * CLI, a lock on the -shm bytes) must not stall the loop: wait a few
     * milliseconds, then the write fails (a plugin's part is then not recorded
     * and a resend retries it; the journal answers 503). */
    sqlite3_busy_timeout(db, STORE_BUSY_MS);
    char e[256];
    if (store_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;",
                   e, sizeof e)) {
        snprintf(err, errlen, "%s: %s", path, e);
        goto fail;
    }
    sqlite3_wal_hook(db, wal_hook, NULL);     /* replaces the auto-checkpoint */
    *out = db;
    return 0;
fail:
    sqlite3_close(db);
    return -1;
}

int store_schema_version(sqlite3 *db)
{
    sqlite3_stmt *st = NULL;
    int v = -1;
    if (store_exec(db, "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)", NULL, 0))
        return -1;
    if (sqlite3_prepare_v2(db, "SELECT coalesce(max(version), 0) FROM schema_version", -1, &st, NULL) ==
            SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return v;
}

int store_migrate(sqlite3 *db, const char *const *migrations, int n, char *err, size_t errlen)
{
    int v = store_schema_version(db);
    char e[512], sql[64];
    if (v < 0) {
        snprintf(err, errlen, "reading schema_version: %s", sqlite3_errmsg(db));
        return -1;
    }
    if (v > n) {
        snprintf(err, errlen, "database schema version %d is newer than this zepix (%d)", v, n);
        return -1;
    }
    for (; v < n; v++) {
        snprintf(sql, sizeof sql, "INSERT INTO schema_version VALUES (%d)", v + 1);
        if (store_exec(db, "BEGIN IMMEDIATE", e, sizeof e) ||
            store_exec(db, migrations[v], e, sizeof e) || store_exec(db, sql, e, sizeof e)) {
            store_exec(db, "ROLLBACK", NULL, 0);
            snprintf(err, errlen, "migration %d: %s", v + 1, e);
            return -1;
        }
        if (store_exec(db, "COMMIT", e, sizeof e)) {
            store_exec(db, "ROLLBACK", NULL, 0);
            snprintf(err, errlen, "migration %d: %s", v + 1, e);
            return -1;
        }
    }
    return 0;
}

int store_kv_get(sqlite3 *db, const char *key, char *out, size_t outlen)
{
    sqlite3_stmt *st = NULL;
    int rc = -1;
    if (sqlite3_prepare_v2(db, "SELECT value FROM kv WHERE key = ?1", -1, &st, NULL) != SQLITE_OK)
        return -1;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    int s = sqlite3_step(st);
    if (s == SQLITE_ROW) {
        snprintf(out, outlen, "%s", (const char *)sqlite3_column_text(st, 0));
        rc = 0;
    } else if (s == SQLITE_DONE) {
        rc = 1;
    }
    sqlite3_finalize(st);
    return rc;
}

int store_kv_set(sqlite3 *db, const char *key, const char *value)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, "INSERT INTO kv (key, value) VALUES (?1, ?2)"
                           " ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                           -1, &st, NULL) != SQLITE_OK)
        return -1;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, value, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
    sqlite3_finalize(st);
    return rc;
}

int store_kv_get_i64(sqlite3 *db, const char *key, int64_t *out)
{
    char buf[32];
    int rc = store_kv_get(db, key, buf, sizeof buf);
    if (rc == 0 && sscanf(buf, "%ld", out) != 1)
        return -1;
    return rc;
}

int store_kv_set_i64(sqlite3 *db, const char *key, int64_t value)
{
    char buf[32];
    snprintf(buf, sizeof buf, "%ld", (long)value);
    return store_kv_set(db, key, buf);
}

int store_ensure_dir(const char *dir, char *err, size_t errlen)
{
    struct stat st;
    if (stat(dir, &st) == 0) {
        if (S_ISDIR(st.st_mode))
            return 0;
        snprintf(err, errlen, "%s: exists and is not a directory", dir);
        return -1;
    }
    if (mkdir(dir, 0750) != 0 && errno != EEXIST) {
        snprintf(err, errlen, "%s: cannot create: %s", dir, strerror(errno));
        return -1;
    }
    return 0;
}

int store_host_open(const char *data_dir, sqlite3 **out, char *err, size_t errlen)
{
    char path[1024], e[512];
    if (store_ensure_dir(data_dir, err, errlen))
        return -1;
    snprintf(path, sizeof path, "%s/zepix.db", data_dir);
    if (store_open(path, out, err, errlen))
        return -1;
    if (store_migrate(*out, host_migrations,
                      (int)(sizeof host_migrations / sizeof host_migrations[0]), e, sizeof e)) {
        snprintf(err, errlen, "%s: %s", path, e);
        store_close(*out);
        *out = NULL;
        return -1;
    }
    return 0;
}
