/*
 * export — see export.h.
 */
#include "export.h"
#include "sbuf.h"

#include <stdio.h>
#include <string.h>

#define EXP_MAX_ROWS 1000000    /* a CSV of more trades is cut (Telegram takes 50 MB) */

const struct exp_column exp_columns[] = {
    {"id", EXP_INT},          {"order_id", EXP_INT},     {"signal_id", EXP_INT},
    {"parent_id", EXP_INT},   {"symbol", EXP_TEXT},      {"direction", EXP_TEXT},
    {"lot_size", EXP_REAL},   {"entry_price", EXP_REAL}, {"sl_price", EXP_REAL},
    {"tp_price", EXP_REAL},   {"entry_time", EXP_TEXT},  {"exit_time", EXP_TEXT},
    {"exit_price", EXP_REAL}, {"profit_pips", EXP_REAL}, {"profit_dollars", EXP_REAL},
    {"status", EXP_TEXT},     {"close_reason", EXP_TEXT}, {"comment", EXP_TEXT},
    {"broker_state", EXP_TEXT},
};
const size_t exp_n_columns = sizeof exp_columns / sizeof exp_columns[0];

int exp_each_trade(sqlite3 *db, int64_t from_ms, int64_t to_ms, int64_t after_id, int limit,
                   void (*fn)(void *ud, sqlite3_stmt *row), void *ud, char *err, size_t errlen)
{
    struct sbuf q;
    sqlite3_stmt *st = NULL;
    int n = 0, rc;
    sbuf_init(&q);
    sbuf_puts(&q, "SELECT ");
    for (size_t i = 0; i < exp_n_columns; i++)
        sbuf_printf(&q, "%s%s", i ? ", " : "", exp_columns[i].name);
    sbuf_puts(&q, " FROM trades WHERE id > ?3 AND ((entry_ms >= ?1 AND entry_ms < ?2)"
                  " OR (exit_ms >= ?1 AND exit_ms < ?2)) ORDER BY id LIMIT ?4");
    if (sbuf_failed(&q) || sqlite3_prepare_v2(db, sbuf_str(&q), -1, &st, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "cannot read the trades: %s", sqlite3_errmsg(db));
        goto fail;
    }
    if (sqlite3_bind_int64(st, 1, from_ms) != SQLITE_OK ||
        sqlite3_bind_int64(st, 2, to_ms > 0 ? to_ms : INT64_MAX) != SQLITE_OK ||
        sqlite3_bind_int64(st, 3, after_id) != SQLITE_OK ||
        sqlite3_bind_int(st, 4, limit > 0 ? limit : EXP_MAX_ROWS) != SQLITE_OK) {
        snprintf(err, errlen, "cannot read the trades: %s", sqlite3_errmsg(db));
        goto fail;
    }
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        fn(ud, st);
        n++;
    }
    if (rc != SQLITE_DONE) {
        snprintf(err, errlen, "cannot read the trades: %s", sqlite3_errmsg(db));
        goto fail;
    }
    sqlite3_finalize(st);
    sbuf_free(&q);
    return n;
fail:
    sqlite3_finalize(st);
    sbuf_free(&q);
    return -1;
}

void exp_csv_field(struct sbuf *out, const char *s)
{
    if (!strpbrk(s, ",\"\r\n")) {
        sbuf_puts(out, s);
        return;
    }
    sbuf_puts(out, "\"");
    for (const char *q; (q = strchr(s, '"')); s = q + 1) {
        sbuf_add(out, s, (size_t)(q - s));
        sbuf_puts(out, "\"\"");
    }
    sbuf_puts(out, s);
    sbuf_puts(out, "\"");
}

static void csv_row(void *ud, sqlite3_stmt *row)
{
    struct sbuf *out = ud;
    for (size_t i = 0; i < exp_n_columns; i++) {
        int c = (int)i;
        if (i)
            sbuf_puts(out, ",");
        if (sqlite3_column_type(row, c) == SQLITE_NULL)
            continue;
        switch (exp_columns[i].kind) {
        case EXP_INT: sbuf_printf(out, "%lld", (long long)sqlite3_column_int64(row, c)); break;
        case EXP_REAL: sbuf_printf(out, "%.10g", sqlite3_column_double(row, c)); break;
        case EXP_TEXT: exp_csv_field(out, (const char *)sqlite3_column_text(row, c)); break;
        }
    }
    sbuf_puts(out, "\r\n");
}

int exp_trades_csv(sqlite3 *db, int64_t from_ms, int64_t to_ms, struct sbuf *out, char *err, size_t errlen)
{
    for (size_t i = 0; i < exp_n_columns; i++)
        sbuf_printf(out, "%s%s", i ? "," : "", exp_columns[i].name);
    sbuf_puts(out, "\r\n");
    int n = exp_each_trade(db, from_ms, to_ms, 0, 0, csv_row, out, err, errlen);
    if (n >= 0 && sbuf_failed(out)) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    return n;
}

int exp_open_readonly(const char *data_dir, const char *plugin_id, sqlite3 **db, char *err, size_t errlen)
{
    char path[1100];
    *db = NULL;
    snprintf(path, sizeof path, "%s/zepix_%s.db", data_dir, plugin_id);
    if (sqlite3_open_v2(path, db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "%s: cannot open: %s", path, *db ? sqlite3_errmsg(*db) : "out of memory");
        sqlite3_close(*db);
        *db = NULL;
        return -1;
    }
    sqlite3_busy_timeout(*db, 2000);
    sqlite3_limit(*db, SQLITE_LIMIT_ATTACHED, 0);
    return 0;
}
