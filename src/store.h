/*
 * store — SQLite helpers shared by the host database (data/zepix.db) and the
 * plugin databases: open with WAL, synchronous=FULL, a short busy timeout; run
 * numbered migrations recorded in schema_version; a small key/value table.
 *
 * synchronous=FULL: a 2xx to a webhook promises the signal is durable. In WAL
 * mode FULL adds one fsync of the WAL per commit, which the journal's group
 * commit amortises over every signal of a loop iteration; NORMAL would survive
 * kill -9 but could lose the last commits on power loss.
 *
 * Every function here runs on the loop thread and touches only local files;
 * callers keep statements short (indexed lookups, one transaction per batch).
 */
#ifndef ZEPIX_STORE_H
#define ZEPIX_STORE_H

#include <stddef.h>
#include <stdint.h>
#include <sqlite3.h>

/* How long a statement waits for another connection's lock (milliseconds). */
#define STORE_BUSY_MS 5

/* Open (creating) path. On success *out is owned by the caller (sqlite3_close). */
int store_open(const char *path, sqlite3 **out, char *err, size_t errlen);

/* Apply migrations[version..n-1], each in its own transaction, and record the
 * version in schema_version. migrations[i] brings the schema to version i+1. */
int store_migrate(sqlite3 *db, const char *const *migrations, int n, char *err, size_t errlen);

/* The version recorded in schema_version (0 for a new database), -1 on error. */
int store_schema_version(sqlite3 *db);

/* Close a database opened with store_open (forgets a pending checkpoint). */
void store_close(sqlite3 *db);

/* Databases whose WAL passed 1000 frames since their last checkpoint, and a
 * passive checkpoint of each: run them when the loop is idle, not in a commit. */
size_t store_checkpoint_due(void);
void store_checkpoint_run(void);

/* Run SQL without results; on failure err holds sqlite's message. */
int store_exec(sqlite3 *db, const char *sql, char *err, size_t errlen);

/* Key/value table (kv) of the host database. get: 0 found, 1 absent, -1 error. */
int store_kv_get(sqlite3 *db, const char *key, char *out, size_t outlen);
int store_kv_set(sqlite3 *db, const char *key, const char *value);
int store_kv_get_i64(sqlite3 *db, const char *key, int64_t *out);   /* 0, 1 absent, -1 */
int store_kv_set_i64(sqlite3 *db, const char *key, int64_t value);

/* Open data_dir/zepix.db and bring it to the current host schema. */
int store_host_open(const char *data_dir, sqlite3 **out, char *err, size_t errlen);

/* mkdir -p for one level (the data directory). */
int store_ensure_dir(const char *dir, char *err, size_t errlen);

#endif
