/*
 * exit_store.h — combined_v3's one table in its own database (data/zepix_combined_v3.db):
 *
 *   CREATE TABLE cv3_partial_done (trade_id INTEGER PRIMARY KEY, done_ms INTEGER);
 *
 * A row means "the partial profit booking of this open trade is done". Rows
 * are deleted when the trade closes. Single-row statements only: cheap enough
 * for the event loop.
 *
 * The plugin is not linked against libsqlite3; it uses the host's copy through
 * weak references. When the process has no sqlite3 (unit tests) or the host
 * gives no database, cv3_store_open fails and the plugin remembers in memory.
 */
#ifndef CV3_EXIT_STORE_H
#define CV3_EXIT_STORE_H

#include <stddef.h>
#include <stdint.h>
#include "zepix_plugin.h"

/* Create the table if needed. 0 = the store is usable, -1 = memory only
 * (reason in err). */
int cv3_store_open(sqlite3 *db, char *err, size_t errlen);

/* Call fn for each remembered trade_id. Returns 0 or -1. */
int cv3_store_load(sqlite3 *db, void (*fn)(void *ctx, int64_t trade_id), void *ctx);

/* Remember / forget one trade. Return 0 or -1 (reason in err). */
int cv3_store_mark(sqlite3 *db, int64_t trade_id, int64_t now_ms, char *err, size_t errlen);
int cv3_store_forget(sqlite3 *db, int64_t trade_id, char *err, size_t errlen);

#endif
