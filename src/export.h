/*
 * export — a plugin's trades as rows, for the CSV export (/export, zepix
 * --export) and the read API (/api/v1/trades): one query over the trades table
 * of a ledger, one column table both writers follow, and the RFC 4180 CSV
 * writer (fields with a comma, quote, CR or LF quoted, quotes doubled, CRLF line
 * ends, a header line).
 *
 * A trade belongs to a period when it was opened or closed in [from_ms, to_ms).
 * Works on any sqlite3 handle of a ledger: the daemon's own (loop thread, short
 * indexed query) or a read-only one opened by exp_open_readonly beside a
 * running daemon. Never touches the network.
 */
#ifndef ZEPIX_EXPORT_H
#define ZEPIX_EXPORT_H

#include <stddef.h>
#include <stdint.h>
#include <sqlite3.h>

struct sbuf;

enum exp_kind { EXP_INT, EXP_REAL, EXP_TEXT };

struct exp_column {
    const char *name;           /* the CSV header and the JSON key */
    enum exp_kind kind;
};

/* The exported columns, in order; a NULL value is an empty CSV field / JSON null. */
extern const struct exp_column exp_columns[];
extern const size_t exp_n_columns;

/* Call fn for each trade of [from_ms, to_ms) (to_ms 0 = no end) with id >
 * after_id, by id, at most limit rows (0 = no limit). The statement's column i
 * is exp_columns[i]. Returns the number of rows, or -1 with err. */
int exp_each_trade(sqlite3 *db, int64_t from_ms, int64_t to_ms, int64_t after_id, int limit,
                   void (*fn)(void *ud, sqlite3_stmt *row), void *ud, char *err, size_t errlen);

/* One CSV field, quoted when RFC 4180 requires it. */
void exp_csv_field(struct sbuf *out, const char *s);

/* The CSV document: the header line, then one line per trade. Returns the
 * number of trades, or -1 with err. */
int exp_trades_csv(sqlite3 *db, int64_t from_ms, int64_t to_ms, struct sbuf *out, char *err, size_t errlen);

/* Open data_dir/zepix_<id>.db read-only (never created, never migrated, a busy
 * timeout for a daemon's writes). 0, or -1 with err. */
int exp_open_readonly(const char *data_dir, const char *plugin_id, sqlite3 **db, char *err, size_t errlen);

#endif
