/*
 * journal — see journal.h.
 */
#include "journal.h"
#include "app.h"
#include "chat.h"
#include "engine.h"
#include "log.h"
#include "sbuf.h"
#include "metrics.h"
#include "registry.h"
#include "store.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_RESULTS 64

enum { Q_FIND, Q_INSERT, Q_DONE, Q_RESULT, Q_COUNT_SINCE, Q_N };

static const char *const sql[Q_N] = {
    [Q_FIND] = "SELECT id, state, response FROM signals WHERE source = ?1 AND ext_id = ?2",
    [Q_INSERT] = "INSERT INTO signals (source, ext_id, received_ms, raw, plugin, action, symbol, price,"
                 " sl, tp, lot, comment) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
    [Q_DONE] = "UPDATE signals SET state = ?2, response = ?3, finished_ms = ?4 WHERE id = ?1",
    [Q_RESULT] = "INSERT OR REPLACE INTO signal_results (signal_id, plugin, status, trade_id, reason)"
                 " VALUES (?1, ?2, ?3, ?4, ?5)",
    [Q_COUNT_SINCE] = "SELECT count(*) FROM signals WHERE received_ms >= ?1",
};

struct jentry {
    sig_parsed s;
    char source[16];
    char *raw;
    jrn_done_fn fn;
    void *ud;
    int64_t id;
    int dup_of;                     /* index of the same signal earlier in this batch, or -1 */
    char *answer;                   /* JSON to send (owned) */
    int status;
    struct eng_result *res;         /* outcome per plugin (owned), for a failed batch */
    size_t nres;
};

struct journal {
    struct app *a;
    sqlite3_stmt *st[Q_N];
    struct jentry *q;
    size_t n, cap;
    ev_prepare flush;
    ev_idle checkpoint;             /* WAL checkpoints once the answers are out */
};

static struct journal *J(struct app *a) { return a->jrn; }

static sqlite3_stmt *stmt(struct journal *j, int i)
{
    sqlite3_reset(j->st[i]);
    sqlite3_clear_bindings(j->st[i]);
    return j->st[i];
}

static char *dup_str(const char *s) { return strdup(s ? s : ""); }

static char *error_json(const char *msg)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "ok", json_object_new_boolean(0));
    json_object_object_add(o, "error", json_object_new_string(msg));
    char *s = dup_str(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
    json_object_put(o);
    return s;
}

/* The stored first answer with "duplicate": true. */
static char *as_duplicate(const char *first)
{
    json_object *o = json_tokener_parse(first ? first : "");
    if (!o || !json_object_is_type(o, json_type_object)) {
        json_object_put(o);
        return error_json("duplicate of a signal whose answer was not recorded");
    }
    json_object_object_add(o, "duplicate", json_object_new_boolean(1));
    char *s = dup_str(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
    json_object_put(o);
    return s;
}

static void bind_num(sqlite3_stmt *s, int i, double v)
{
    if (v > 0)
        sqlite3_bind_double(s, i, v);
}

/* Phase 1: make each new signal durable, find duplicates. Returns -1 when the
 * batch could not be committed (every new entry then gets 503). */
static int journal_batch(struct journal *j)
{
    sqlite3 *db = j->a->db;
    int64_t now = app_now_ms();
    if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
        return -1;
    for (size_t i = 0; i < j->n; i++) {
        struct jentry *e = &j->q[i];
        e->dup_of = -1;
        if (e->s.id[0]) {
            for (size_t k = 0; k < i && e->dup_of < 0; k++)
                if (j->q[k].id && strcmp(j->q[k].source, e->source) == 0 && strcmp(j->q[k].s.id, e->s.id) == 0)
                    e->dup_of = (int)k;
            if (e->dup_of >= 0)
                continue;
            sqlite3_stmt *f = stmt(j, Q_FIND);
            sqlite3_bind_text(f, 1, e->source, -1, SQLITE_STATIC);
            sqlite3_bind_text(f, 2, e->s.id, -1, SQLITE_STATIC);
            if (sqlite3_step(f) == SQLITE_ROW) {
                e->status = 200;
                e->answer = as_duplicate((const char *)sqlite3_column_text(f, 2));
                sqlite3_reset(f);
                continue;
            }
            sqlite3_reset(f);
        }
        sqlite3_stmt *s = stmt(j, Q_INSERT);
        sqlite3_bind_text(s, 1, e->source, -1, SQLITE_STATIC);
        if (e->s.id[0])
            sqlite3_bind_text(s, 2, e->s.id, -1, SQLITE_STATIC);
        sqlite3_bind_int64(s, 3, now);
        sqlite3_bind_text(s, 4, e->raw, -1, SQLITE_STATIC);
        if (e->s.plugin[0])
            sqlite3_bind_text(s, 5, e->s.plugin, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 6, sig_action_name(e->s.action), -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 7, e->s.symbol, -1, SQLITE_STATIC);
        bind_num(s, 8, e->s.price);
        bind_num(s, 9, e->s.sl);
        bind_num(s, 10, e->s.tp);
        bind_num(s, 11, e->s.lot);
        sqlite3_bind_text(s, 12, e->s.comment, -1, SQLITE_STATIC);
        if (sqlite3_step(s) != SQLITE_DONE) {
            LOG_E("journal", "cannot journal a signal: %s", sqlite3_errmsg(db));
            sqlite3_reset(s);
            sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
            return -1;
        }
        sqlite3_reset(s);
        e->id = sqlite3_last_insert_rowid(db);
    }
    if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
        LOG_E("journal", "cannot commit the journal: %s", sqlite3_errmsg(db));
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
        return -1;
    }
    return 0;
}

static char *results_json(int64_t id, const struct eng_result *r, size_t n)
{
    json_object *o = json_object_new_object(), *arr = json_object_new_array();
    json_object_object_add(o, "ok", json_object_new_boolean(1));
    json_object_object_add(o, "signal_id", json_object_new_int64(id));
    json_object_object_add(o, "duplicate", json_object_new_boolean(0));
    for (size_t i = 0; i < n; i++) {
        json_object *x = json_object_new_object();
        json_object_object_add(x, "plugin", json_object_new_string(r[i].plugin));
        json_object_object_add(x, "status", json_object_new_string(r[i].status));
        if (r[i].trade_id)
            json_object_object_add(x, "trade_id", json_object_new_int64(r[i].trade_id));
        if (r[i].reason[0])
            json_object_object_add(x, "reason", json_object_new_string(r[i].reason));
        json_object_array_add(arr, x);
    }
    json_object_object_add(o, "results", arr);
    char *s = dup_str(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
    json_object_put(o);
    return s;
}

static void record_outcome(struct journal *j, int64_t id, const char *state, const char *answer,
                           const struct eng_result *r, size_t n)
{
    sqlite3_stmt *s = stmt(j, Q_DONE);
    sqlite3_bind_int64(s, 1, id);
    sqlite3_bind_text(s, 2, state, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 3, answer, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 4, app_now_ms());
    if (sqlite3_step(s) != SQLITE_DONE)
        LOG_E("journal", "cannot record signal %lld: %s", (long long)id, sqlite3_errmsg(j->a->db));
    sqlite3_reset(s);
    for (size_t i = 0; i < n; i++) {
        s = stmt(j, Q_RESULT);
        sqlite3_bind_int64(s, 1, id);
        sqlite3_bind_text(s, 2, r[i].plugin, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 3, r[i].status, -1, SQLITE_STATIC);
        if (r[i].trade_id)
            sqlite3_bind_int64(s, 4, r[i].trade_id);
        if (r[i].reason[0])
            sqlite3_bind_text(s, 5, r[i].reason, -1, SQLITE_STATIC);
        if (sqlite3_step(s) != SQLITE_DONE)
            LOG_E("journal", "cannot record a result of %lld: %s", (long long)id, sqlite3_errmsg(j->a->db));
        sqlite3_reset(s);
    }
}

/* Trades of plugins whose ledger did not commit did not happen: say so in
 * every answer of the batch, drop their terminal requests, rebuild positions. */
static void batch_not_recorded(struct journal *j, int64_t first_request)
{
    struct app *a = j->a;
    char note[400];
    eng_resync(a);
    for (size_t k = 0; k < a->reg.n; k++) {
        struct plugin *p = a->reg.v[k];
        sqlite3_stmt *d;
        if (!p->batch_failed)
            continue;
        if (sqlite3_prepare_v2(a->db, "DELETE FROM mt5_requests WHERE plugin = ?1 AND request_id > ?2",
                               -1, &d, NULL) == SQLITE_OK) {
            sqlite3_bind_text(d, 1, p->id, -1, SQLITE_STATIC);
            sqlite3_bind_int64(d, 2, first_request);
            sqlite3_step(d);
            sqlite3_finalize(d);
        }
        snprintf(note, sizeof note, "⚠️ %s: trades of the last signals could not be saved (%.*s); "
                 "they were not executed. Check the disk.", p->id, (int)sbuf_utf8_prefix(p->batch_err, 150),
                 p->batch_err);
        chat_notify(a, note);
    }
    for (size_t i = 0; i < j->n; i++) {
        struct jentry *e = &j->q[i];
        int changed = 0;
        for (size_t k = 0; k < e->nres; k++) {
            struct plugin *p = reg_find(&a->reg, e->res[k].plugin);
            if (!p || !p->batch_failed || (strcmp(e->res[k].status, "executed") && strcmp(e->res[k].status, "handled")))
                continue;
            e->res[k].status = "failed";
            e->res[k].trade_id = 0;
            snprintf(e->res[k].reason, sizeof e->res[k].reason, "the trade could not be saved (%.*s); "
                     "not executed", (int)sbuf_utf8_prefix(p->batch_err, 120), p->batch_err);
            changed = 1;
        }
        if (changed) {
            free(e->answer);
            e->answer = results_json(e->id, e->res, e->nres);
            record_outcome(j, e->id, "done", e->answer, e->res, e->nres);
        }
    }
}

static int64_t last_request_id(sqlite3 *db)
{
    sqlite3_stmt *s;
    int64_t v = 0;
    if (sqlite3_prepare_v2(db, "SELECT coalesce(max(request_id), 0) FROM mt5_requests", -1, &s, NULL) == SQLITE_OK) {
        if (sqlite3_step(s) == SQLITE_ROW)
            v = sqlite3_column_int64(s, 0);
        sqlite3_finalize(s);
    }
    return v;
}

/* Phase 2: dispatch the new signals, record trades and outcomes together. */
static void execute_batch(struct journal *j)
{
    struct app *a = j->a;
    struct eng_result r[MAX_RESULTS];
    int64_t first_request = last_request_id(a->db);
    eng_batch_begin(a);
    sqlite3_exec(a->db, "PRAGMA synchronous=NORMAL", NULL, NULL, NULL);
    sqlite3_exec(a->db, "BEGIN", NULL, NULL, NULL);
    for (size_t i = 0; i < j->n; i++) {
        struct jentry *e = &j->q[i];
        if (e->answer || e->dup_of >= 0)
            continue;
        size_t n = eng_dispatch(a, &e->s, e->id, e->source, r, MAX_RESULTS);
        e->answer = results_json(e->id, r, n);
        e->status = 200;
        if ((e->res = malloc(n * sizeof *r + 1))) {
            memcpy(e->res, r, n * sizeof *r);
            e->nres = n;
        }
        record_outcome(j, e->id, "done", e->answer, r, n);
    }
    /* Trades first: a crash between the two commits is found by recovery. */
    if (eng_batch_commit(a) > 0)
        batch_not_recorded(j, first_request);
    /* The outcome commit skips its own fsync: the next journal commit (FULL)
     * syncs the same WAL. Losing it (power cut, not kill -9) leaves these
     * signals "received" with their trades in the ledgers, which recovery
     * finishes at the next start. The 2xx still follows two durable commits. */
    if (sqlite3_exec(a->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
        /* The trades are saved; recovery completes these signals at the next start. */
        LOG_E("journal", "cannot commit signal outcomes: %s", sqlite3_errmsg(a->db));
        sqlite3_exec(a->db, "ROLLBACK", NULL, NULL, NULL);
    }
    sqlite3_exec(a->db, "PRAGMA synchronous=FULL", NULL, NULL, NULL);
}

static void flush(struct journal *j)
{
    if (journal_batch(j)) {
        for (size_t i = 0; i < j->n; i++)
            if (!j->q[i].answer) {
                j->q[i].status = 503;
                j->q[i].answer = error_json("the signal journal is unavailable; the signal was not executed");
            }
    } else {
        execute_batch(j);
    }
    /* Answer in arrival order; a batch-internal duplicate gets its first's answer. */
    size_t n = j->n;
    j->n = 0;       /* answers may submit again (console, tests): start a fresh queue */
    struct jentry *q = j->q;
    j->q = NULL;
    j->cap = 0;
    for (size_t i = 0; i < n; i++) {
        struct jentry *e = &q[i];
        if (e->dup_of >= 0) {
            e->status = q[e->dup_of].status;
            e->answer = e->status == 200 ? as_duplicate(q[e->dup_of].answer) : dup_str(q[e->dup_of].answer);
        }
        int duplicate = e->dup_of >= 0 || (e->answer && !e->id && e->status == 200);
        metrics_signal(j->a, e->source, e->status != 200 ? "failed" : duplicate ? "duplicate" : "journaled");
        e->fn(e->ud, e->status, e->answer ? e->answer : "{\"ok\":false,\"error\":\"out of memory\"}");
    }
    for (size_t i = 0; i < n; i++) {
        free(q[i].raw);
        free(q[i].answer);
        free(q[i].res);
    }
    free(q);
}

static void on_idle(struct ev_loop *loop, ev_idle *w, int revents)
{
    (void)revents;
    store_checkpoint_run();
    ev_idle_stop(loop, w);
}

static void on_prepare(struct ev_loop *loop, ev_prepare *w, int revents)
{
    struct journal *j = w->data;
    (void)revents;
    if (j->n)
        flush(j);
    if (store_checkpoint_due() && !ev_is_active(&j->checkpoint))
        ev_idle_start(loop, &j->checkpoint);
}

int jrn_submit(struct app *a, const sig_parsed *s, const char *source, const char *raw,
               jrn_done_fn fn, void *ud, char *err, size_t errlen)
{
    struct journal *j = J(a);
    if (j->n == j->cap) {
        size_t cap = j->cap ? j->cap * 2 : 64;
        struct jentry *nq = realloc(j->q, cap * sizeof *nq);
        if (!nq) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        j->q = nq;
        j->cap = cap;
    }
    struct jentry *e = &j->q[j->n];
    memset(e, 0, sizeof *e);
    e->s = *s;
    memset(e->s.secret, 0, sizeof e->s.secret);
    snprintf(e->source, sizeof e->source, "%s", source);
    if (!(e->raw = strdup(raw ? raw : ""))) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    e->fn = fn;
    e->ud = ud;
    e->dup_of = -1;
    j->n++;
    return 0;
}

size_t jrn_queued(struct app *a) { return J(a) ? J(a)->n : 0; }

int64_t jrn_count_since(struct app *a, int64_t since_ms)
{
    sqlite3_stmt *s = stmt(J(a), Q_COUNT_SINCE);
    sqlite3_bind_int64(s, 1, since_ms);
    int64_t n = sqlite3_step(s) == SQLITE_ROW ? sqlite3_column_int64(s, 0) : -1;
    sqlite3_reset(s);
    return n;
}

/* Signals left "received" by a crash: finished from the trade ledgers, never re-run. */
static void recover(struct journal *j)
{
    struct app *a = j->a;
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(a->db, "SELECT id, source, coalesce(ext_id, '') FROM signals"
                           " WHERE state = 'received' ORDER BY id", -1, &s, NULL) != SQLITE_OK)
        return;
    while (sqlite3_step(s) == SQLITE_ROW) {
        int64_t id = sqlite3_column_int64(s, 0);
        char source[16], ext[SIG_ID_MAX + 1], note[300];
        snprintf(source, sizeof source, "%s", (const char *)sqlite3_column_text(s, 1));
        snprintf(ext, sizeof ext, "%s", (const char *)sqlite3_column_text(s, 2));
        struct eng_result r[MAX_RESULTS];
        size_t n = 0;
        for (size_t i = 0; i < a->reg.n && n < MAX_RESULTS; i++) {
            struct plugin *p = a->reg.v[i];
            int c = p->ldg ? ldg_count_for_signal(p->ldg, id) : 0;
            if (c > 0) {
                memset(&r[n], 0, sizeof r[n]);
                snprintf(r[n].plugin, sizeof r[n].plugin, "%s", p->id);
                r[n].status = "executed";
                snprintf(r[n].reason, sizeof r[n].reason, "recovered after a restart: %d trade(s)", c);
                n++;
            }
        }
        char *answer;
        if (n) {
            answer = results_json(id, r, n);
            record_outcome(j, id, "done", answer, r, n);
            snprintf(note, sizeof note, "Signal #%lld (%s) was interrupted by a restart after it "
                     "executed; its trades are recorded.", (long long)id, source);
        } else {
            answer = error_json("interrupted by a restart before execution; not executed");
            record_outcome(j, id, "failed", answer, NULL, 0);
            /* Release the id: the sender never got a 2xx and may resend it. */
            sqlite3_stmt *u;
            if (sqlite3_prepare_v2(a->db, "UPDATE signals SET ext_id = NULL WHERE id = ?1", -1, &u,
                                   NULL) == SQLITE_OK) {
                sqlite3_bind_int64(u, 1, id);
                sqlite3_step(u);
                sqlite3_finalize(u);
            }
            snprintf(note, sizeof note, "Signal #%lld (%s%s%s) was interrupted by a restart before "
                     "execution and was NOT executed; resend it if it still applies.", (long long)id,
                     source, ext[0] ? ", id " : "", ext);
        }
        free(answer);
        LOG_W("journal", "%s", note);
        chat_notify(a, note);
    }
    sqlite3_finalize(s);
}

int jrn_init(struct app *a, char *err, size_t errlen)
{
    struct journal *j = calloc(1, sizeof *j);
    if (!j) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    a->jrn = j;
    j->a = a;
    for (int i = 0; i < Q_N; i++)
        if (sqlite3_prepare_v3(a->db, sql[i], -1, SQLITE_PREPARE_PERSISTENT, &j->st[i], NULL) != SQLITE_OK) {
            snprintf(err, errlen, "journal: %s", sqlite3_errmsg(a->db));
            return -1;
        }
    recover(j);
    ev_idle_init(&j->checkpoint, on_idle);
    ev_prepare_init(&j->flush, on_prepare);
    j->flush.data = j;
    ev_prepare_start(a->loop, &j->flush);
    ev_unref(a->loop);
    return 0;
}

void jrn_free(struct app *a)
{
    struct journal *j = J(a);
    if (!j)
        return;
    for (size_t i = 0; i < j->n; i++) {
        j->q[i].fn(j->q[i].ud, 503, "{\"ok\":false,\"error\":\"shutting down; the signal was not executed\"}");
        free(j->q[i].raw);
    }
    free(j->q);
    if (ev_is_active(&j->flush)) {
        ev_ref(a->loop);
        ev_prepare_stop(a->loop, &j->flush);
    }
    ev_idle_stop(a->loop, &j->checkpoint);
    for (int i = 0; i < Q_N; i++)
        sqlite3_finalize(j->st[i]);
    free(j);
    a->jrn = NULL;
}

int jrn_recent(struct app *a, int n, const char *plugin, jrn_row_fn fn, void *ud)
{
    /* Newest first; one plugin's signals are those with a result for it. Both
     * use the primary keys (signals.id, signal_results(signal_id, plugin)). */
    static const char *const q =
        "SELECT s.id, s.received_ms, s.source, coalesce(s.action, ''), coalesce(s.symbol, ''), s.state,"
        " coalesce(r.plugin, ''), coalesce(r.status, ''), coalesce(r.reason, ''), coalesce(r.trade_id, 0),"
        " coalesce(s.price, 0), coalesce(s.sl, 0), coalesce(s.tp, 0), coalesce(s.lot, 0), coalesce(s.comment, '')"
        " FROM (SELECT * FROM signals WHERE ?2 = '' OR id IN"
        "        (SELECT signal_id FROM signal_results WHERE plugin = ?2)"
        "       ORDER BY id DESC LIMIT ?1) s"
        " LEFT JOIN signal_results r ON r.signal_id = s.id AND (?2 = '' OR r.plugin = ?2)"
        " ORDER BY s.id DESC, r.plugin";
    sqlite3_stmt *st;
    int rows = 0, rc;
    if (sqlite3_prepare_v2(a->db, q, -1, &st, NULL) != SQLITE_OK)
        return -1;
    sqlite3_bind_int(st, 1, n);
    sqlite3_bind_text(st, 2, plugin ? plugin : "", -1, SQLITE_STATIC);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct jrn_row r = {
            .id = sqlite3_column_int64(st, 0), .received_ms = sqlite3_column_int64(st, 1),
            .source = (const char *)sqlite3_column_text(st, 2), .action = (const char *)sqlite3_column_text(st, 3),
            .symbol = (const char *)sqlite3_column_text(st, 4), .state = (const char *)sqlite3_column_text(st, 5),
            .plugin = (const char *)sqlite3_column_text(st, 6), .status = (const char *)sqlite3_column_text(st, 7),
            .reason = (const char *)sqlite3_column_text(st, 8), .trade_id = sqlite3_column_int64(st, 9),
            .price = sqlite3_column_double(st, 10), .sl = sqlite3_column_double(st, 11),
            .tp = sqlite3_column_double(st, 12), .lot = sqlite3_column_double(st, 13),
            .comment = (const char *)sqlite3_column_text(st, 14)};
        fn(ud, &r);
        rows++;
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? rows : -1;
}
