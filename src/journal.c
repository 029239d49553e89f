/*
 * journal — see journal.h.
 */
#include "journal.h"
#include "app.h"
#include "chat.h"
#include "dispatch.h"
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
#include <time.h>

#define MAX_RESULTS 64
/* Dispatch time one loop iteration may spend (milliseconds, monotonic): what
 * does not fit is answered 202 and goes on in the next iterations. Requests that
 * arrive meanwhile wait at most one slice (plus one hook's overrun) before they
 * are journaled, and one more before their answer: about 1.2 s in the worst
 * case with the default 200 ms hook deadline, well under TradingView's 3 s. */
#define SLICE_MS 400

enum { Q_FIND, Q_INSERT, Q_DONE, Q_RESULT, Q_COUNT_SINCE, Q_TARGET, Q_TARGETS, Q_N };

static const char *const sql[Q_N] = {
    [Q_FIND] = "SELECT id, state, response, coalesce(action, ''), coalesce(symbol, '') FROM signals"
               " WHERE source = ?1 AND ext_id = ?2",
    [Q_INSERT] = "INSERT INTO signals (source, ext_id, received_ms, raw, plugin, action, symbol, price,"
                 " sl, tp, lot, comment) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
    [Q_DONE] = "UPDATE signals SET state = ?2, response = ?3, finished_ms = ?4 WHERE id = ?1",
    [Q_RESULT] = "INSERT OR REPLACE INTO signal_results (signal_id, plugin, status, trade_id, reason)"
                 " VALUES (?1, ?2, ?3, ?4, ?5)",
    [Q_COUNT_SINCE] = "SELECT count(*) FROM signals WHERE received_ms >= ?1",
    [Q_TARGET] = "INSERT OR IGNORE INTO signal_results (signal_id, plugin, status) VALUES (?1, ?2, 'pending')",
    [Q_TARGETS] = "SELECT plugin FROM signal_results WHERE signal_id = ?1 ORDER BY plugin",
};

struct jentry {
    sig_parsed s;
    char source[16];
    char *raw;
    jrn_done_fn fn;                 /* NULL once answered (202, or recovered at start) */
    void *ud;
    int64_t id;
    int dup_of;                     /* index of the same signal earlier in this batch, or -1 */
    int resume;                     /* journaled before, not complete: run only the missing parts */
    char *answer;                   /* JSON to send (owned) */
    int status;
    struct dsp_result *res;         /* one per plugin it goes to (owned); status NULL = not run yet */
    size_t nres, next;              /* targets; the first not run */
    int prepared;                   /* res holds the targets */
    int ran;                        /* parts run by this process (not read back from a ledger) */
    int lost;                       /* a part could not be recorded: state 'partial' */
    uint64_t fresh;                 /* bit k: res[k] ran in the current batch */
};

struct journal {
    struct app *a;
    sqlite3_stmt *st[Q_N];
    struct jentry *q;
    size_t n, cap;
    struct jentry *bq;              /* backlog: answered 202, dispatch goes on (FIFO) */
    size_t bn, bcap;
    ev_prepare flush;
    ev_idle checkpoint;             /* WAL checkpoints once the answers are out */
    ev_idle more;                   /* keeps the loop from sleeping while the backlog waits */
};

static struct journal *J(struct app *a) { return a->jrn; }

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

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

static int exec_ok(sqlite3 *db, const char *what)
{
    if (sqlite3_exec(db, what, NULL, NULL, NULL) == SQLITE_OK)
        return 0;
    LOG_E("journal", "%s: %s", what, sqlite3_errmsg(db));
    return -1;
}

/* End the host transaction after a failure (unless SQLite already did). */
static void host_rollback(sqlite3 *db)
{
    if (!sqlite3_get_autocommit(db))
        exec_ok(db, "ROLLBACK");
}

/* The outcome statuses, as the static strings struct dsp_result carries. */
static const char *status_of(const char *s)
{
    static const char *const known[] = {"executed", "rejected", "handled", "skipped", "failed"};
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (strcmp(s, known[i]) == 0)
            return known[i];
    return "failed";
}

static int step_row_done(struct journal *j, sqlite3_stmt *s)
{
    int rc = sqlite3_step(s);
    sqlite3_reset(s);
    if (rc != SQLITE_DONE) {
        LOG_E("journal", "cannot journal a signal: %s", sqlite3_errmsg(j->a->db));
        return -1;
    }
    return 0;
}

/* A signal seen before under this id. Done (or queued): answered with its
 * first answer. Received or partial (a part missing): resumed, when it is the
 * same signal. */
static void seen_before(struct jentry *e, sqlite3_stmt *f)
{
    const char *state = (const char *)sqlite3_column_text(f, 1);
    const char *resp = (const char *)sqlite3_column_text(f, 2);
    if (state && (strcmp(state, "received") == 0 || strcmp(state, "partial") == 0)) {
        if (strcmp((const char *)sqlite3_column_text(f, 3), sig_action_name(e->s.action)) ||
            strcmp((const char *)sqlite3_column_text(f, 4), e->s.symbol)) {
            e->status = 409;
            e->answer = error_json("id: already used by a different signal (another action or symbol); "
                                   "not executed");
            return;
        }
        e->id = sqlite3_column_int64(f, 0);
        e->resume = 1;
        return;
    }
    e->status = state && strcmp(state, "queued") == 0 ? 202 : 200;
    e->answer = as_duplicate(resp);
}

/* Phase 1: make each new signal durable with the plugins it goes to, find
 * duplicates. Returns -1 when the batch could not be committed (every new
 * entry then gets 503). */
static int journal_batch(struct journal *j, struct jentry *q, size_t n)
{
    struct app *a = j->a;
    sqlite3 *db = a->db;
    int64_t now = app_now_ms();
    /* A short busy timeout (store.c): a database locked by another process
     * fails here within milliseconds, answered 503. */
    if (exec_ok(db, "BEGIN IMMEDIATE"))
        return -1;
    for (size_t i = 0; i < n; i++) {
        struct jentry *e = &q[i];
        e->dup_of = -1;
        if (e->s.id[0]) {
            for (size_t k = 0; k < i && e->dup_of < 0; k++)
                if ((q[k].id || q[k].answer) && strcmp(q[k].source, e->source) == 0 &&
                    strcmp(q[k].s.id, e->s.id) == 0)
                    e->dup_of = (int)k;
            if (e->dup_of >= 0)
                continue;
            sqlite3_stmt *f = stmt(j, Q_FIND);
            sqlite3_bind_text(f, 1, e->source, -1, SQLITE_STATIC);
            sqlite3_bind_text(f, 2, e->s.id, -1, SQLITE_STATIC);
            int rc = sqlite3_step(f);
            if (rc == SQLITE_ROW)
                seen_before(e, f);
            sqlite3_reset(f);
            if (rc == SQLITE_ROW)
                continue;
            if (rc != SQLITE_DONE) {
                LOG_E("journal", "cannot look up a signal id: %s", sqlite3_errmsg(db));
                goto fail;
            }
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
        if (step_row_done(j, s))
            goto fail;
        e->id = sqlite3_last_insert_rowid(db);
        /* The plugins it goes to: recovery completes exactly these. */
        for (size_t k = 0; k < a->reg.n; k++) {
            if (e->s.plugin[0] && strcmp(e->s.plugin, a->reg.v[k]->id) != 0)
                continue;
            sqlite3_stmt *t = stmt(j, Q_TARGET);
            sqlite3_bind_int64(t, 1, e->id);
            sqlite3_bind_text(t, 2, a->reg.v[k]->id, -1, SQLITE_STATIC);
            if (step_row_done(j, t))
                goto fail;
        }
    }
    if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
        LOG_E("journal", "cannot commit the journal: %s", sqlite3_errmsg(db));
        goto fail;
    }
    return 0;
fail:
    host_rollback(db);
    for (size_t i = 0; i < n; i++)      /* nothing of this batch is journaled */
        if (!q[i].answer) {
            q[i].id = 0;
            q[i].resume = 0;
        }
    return -1;
}

/* The answer: every plugin's outcome ("queued" for parts still to run). */
static char *results_json(const struct jentry *e, int duplicate, int queued, int recovered)
{
    json_object *o = json_object_new_object(), *arr = json_object_new_array();
    json_object_object_add(o, "ok", json_object_new_boolean(1));
    json_object_object_add(o, "signal_id", json_object_new_int64(e->id));
    json_object_object_add(o, "duplicate", json_object_new_boolean(duplicate));
    if (queued)
        json_object_object_add(o, "queued", json_object_new_boolean(1));
    if (recovered)
        json_object_object_add(o, "recovered", json_object_new_boolean(1));
    for (size_t i = 0; i < e->nres; i++) {
        const struct dsp_result *r = &e->res[i];
        json_object *x = json_object_new_object();
        json_object_object_add(x, "plugin", json_object_new_string(r->plugin));
        json_object_object_add(x, "status", json_object_new_string(r->status ? r->status : "queued"));
        if (r->trade_id)
            json_object_object_add(x, "trade_id", json_object_new_int64(r->trade_id));
        if (r->status && r->reason[0])
            json_object_object_add(x, "reason", json_object_new_string(r->reason));
        json_object_array_add(arr, x);
    }
    json_object_object_add(o, "results", arr);
    char *s = dup_str(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
    json_object_put(o);
    return s;
}

/* Inside the host transaction: the signal's state and its outcome per plugin
 * (parts not run yet keep their row). -1 when a statement failed. */
static int record_outcome(struct journal *j, int64_t id, const char *state, const char *answer,
                          const struct dsp_result *r, size_t n)
{
    int bad = 0;
    sqlite3_stmt *s = stmt(j, Q_DONE);
    sqlite3_bind_int64(s, 1, id);
    sqlite3_bind_text(s, 2, state, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 3, answer, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 4, app_now_ms());
    if (sqlite3_step(s) != SQLITE_DONE) {
        LOG_E("journal", "cannot record signal %lld: %s", (long long)id, sqlite3_errmsg(j->a->db));
        bad = 1;
    }
    sqlite3_reset(s);
    for (size_t i = 0; i < n; i++) {
        if (!r[i].status)
            continue;
        s = stmt(j, Q_RESULT);
        sqlite3_bind_int64(s, 1, id);
        sqlite3_bind_text(s, 2, r[i].plugin, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 3, r[i].status, -1, SQLITE_STATIC);
        if (r[i].trade_id)
            sqlite3_bind_int64(s, 4, r[i].trade_id);
        if (r[i].reason[0])
            sqlite3_bind_text(s, 5, r[i].reason, -1, SQLITE_STATIC);
        if (sqlite3_step(s) != SQLITE_DONE) {
            LOG_E("journal", "cannot record a result of %lld: %s", (long long)id, sqlite3_errmsg(j->a->db));
            bad = 1;
        }
        sqlite3_reset(s);
    }
    return bad ? -1 : 0;
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

static void set_result(struct dsp_result *r, const char *status, int64_t trade_id, const char *reason)
{
    r->status = status;
    r->trade_id = trade_id;
    snprintf(r->reason, sizeof r->reason, "%s", reason ? reason : "");
}

/* The plugins a signal goes to, into e->res: those journaled with it (a
 * resumed or recovered signal), else the registry's (all, or the one named). */
static int prepare_targets(struct journal *j, struct jentry *e)
{
    struct app *a = j->a;
    size_t n = 0;
    if (!(e->res = calloc(MAX_RESULTS, sizeof *e->res)))
        return -1;
    if (e->resume) {
        sqlite3_stmt *s = stmt(j, Q_TARGETS);
        sqlite3_bind_int64(s, 1, e->id);
        while (n < MAX_RESULTS && sqlite3_step(s) == SQLITE_ROW)
            snprintf(e->res[n++].plugin, sizeof e->res[0].plugin, "%s", (const char *)sqlite3_column_text(s, 0));
        sqlite3_reset(s);
    }
    if (n == 0)
        for (size_t k = 0; k < a->reg.n && n < MAX_RESULTS; k++)
            if (!e->s.plugin[0] || strcmp(e->s.plugin, a->reg.v[k]->id) == 0)
                snprintf(e->res[n++].plugin, sizeof e->res[0].plugin, "%s", a->reg.v[k]->id);
    e->nres = n;
    e->next = 0;
    e->prepared = 1;
    return 0;
}

/* This plugin's part already committed? Its ledger says (the outcome row, or
 * for a ledger of an older zepix a trade with the signal's id). */
static int part_committed(struct plugin *p, int64_t id, struct dsp_result *r)
{
    char status[16], reason[sizeof r->reason];
    int64_t trade = 0;
    if (!p->ldg)
        return 0;
    if (ldg_get_outcome(p->ldg, id, status, sizeof status, &trade, reason, sizeof reason) == 0) {
        set_result(r, status_of(status), trade, reason);
        return 1;
    }
    int c = ldg_count_for_signal(p->ldg, id);
    if (c > 0) {
        snprintf(reason, sizeof reason, "recovered after a restart: %d trade(s)", c);
        set_result(r, "executed", 0, reason);
        return 1;
    }
    return 0;
}

/* Run e's parts from e->next on; returns 1 when the slice ran out first. */
static int run_entry(struct journal *j, struct jentry *e, int64_t stop_at)
{
    struct app *a = j->a;
    if (!e->prepared && prepare_targets(j, e)) {
        LOG_E("journal", "out of memory: signal %lld not dispatched", (long long)e->id);
        return 0;
    }
    int begun = 0;
    for (; e->next < e->nres; e->next++) {
        struct dsp_result *r = &e->res[e->next];
        struct plugin *p = reg_find(&a->reg, r->plugin);
        if (!p) {
            set_result(r, "skipped", 0, "plugin not loaded");
            continue;
        }
        if (e->resume && part_committed(p, e->id, r))
            continue;               /* never run a committed part again */
        if (mono_ms() >= stop_at)
            return 1;
        if (!begun++)
            dsp_signal_begin(a, &e->s);
        dsp_one(a, p, &e->s, e->id, e->source, r);
        e->fresh |= 1ull << e->next;
        e->ran++;
        /* With its trades in the same transaction: the proof that this part
         * committed. A failure here fails the plugin's whole batch. */
        if (p->ldg && !p->batch_failed &&
            ldg_put_outcome(p->ldg, e->id, r->status, r->trade_id, r->reason, app_now_ms()))
            LOG_E("journal", "%s: cannot record the outcome of signal %lld", p->id, (long long)e->id);
    }
    return 0;
}

/* Parts of plugins whose ledger did not commit did not happen: say so in the
 * answers (a resend runs them again), drop their terminal requests, rebuild
 * positions. */
static void batch_not_recorded(struct journal *j, struct jentry **run, size_t nrun, int64_t first_request)
{
    struct app *a = j->a;
    char note[400];
    dsp_resync(a);
    for (size_t k = 0; k < a->reg.n; k++) {
        struct plugin *p = a->reg.v[k];
        sqlite3_stmt *d;
        if (!p->batch_failed)
            continue;
        if (sqlite3_prepare_v2(a->db, "DELETE FROM mt5_requests WHERE plugin = ?1 AND request_id > ?2",
                               -1, &d, NULL) == SQLITE_OK) {
            sqlite3_bind_text(d, 1, p->id, -1, SQLITE_STATIC);
            sqlite3_bind_int64(d, 2, first_request);
            if (sqlite3_step(d) != SQLITE_DONE)
                LOG_E("journal", "cannot drop the terminal requests of %s: %s", p->id, sqlite3_errmsg(a->db));
            sqlite3_finalize(d);
        }
        snprintf(note, sizeof note, "⚠️ %s: trades of the last signals could not be saved (%.150s); "
                 "they were not executed. Resend them (same id) to retry. Check the disk.", p->id, p->batch_err);
        chat_notify(a, note);
    }
    for (size_t i = 0; i < nrun; i++) {
        struct jentry *e = run[i];
        for (size_t k = 0; k < e->nres; k++) {
            struct plugin *p;
            if (!(e->fresh & (1ull << k)) || !(p = reg_find(&a->reg, e->res[k].plugin)) || !p->batch_failed)
                continue;
            e->lost = 1;
            if (strcmp(e->res[k].status, "executed") && strcmp(e->res[k].status, "handled"))
                continue;
            e->res[k].status = "failed";
            e->res[k].trade_id = 0;
            snprintf(e->res[k].reason, sizeof e->res[k].reason, "the trade could not be saved (%.100s); "
                     "not executed; a resend retries it", p->batch_err);
        }
    }
}

/* A signal answered 202 is complete: tell the admins what it did. */
static void notify_async(struct journal *j, const struct jentry *e)
{
    char note[600];
    size_t used = (size_t)snprintf(note, sizeof note, "Signal #%lld (%s%s%s, answered 202) finished:",
                                   (long long)e->id, e->source, e->s.id[0] ? ", id " : "", e->s.id);
    for (size_t k = 0; k < e->nres && used < sizeof note; k++)
        used += (size_t)snprintf(note + used, sizeof note - used, " %s %s%s%.80s%s;", e->res[k].plugin,
                                 e->res[k].status, e->res[k].reason[0] ? " (" : "", e->res[k].reason,
                                 e->res[k].reason[0] ? ")" : "");
    chat_notify(j->a, note);
}

static int backlog_push(struct journal *j, const struct jentry *e)
{
    if (j->bn == j->bcap) {
        size_t cap = j->bcap ? j->bcap * 2 : 16;
        struct jentry *nb = realloc(j->bq, cap * sizeof *nb);
        if (!nb)
            return -1;
        j->bq = nb;
        j->bcap = cap;
    }
    j->bq[j->bn++] = *e;
    return 0;
}

static void entry_free(struct jentry *e)
{
    free(e->raw);
    free(e->answer);
    free(e->res);
    e->raw = e->answer = NULL;
    e->res = NULL;
}

/* Make the host's last commit durable now (a 202 promises the rest will run,
 * also after a power cut): one small FULL commit syncs the WAL. */
static void sync_host(struct journal *j)
{
    if (store_kv_set_i64(j->a->db, "journal_queued_ms", app_now_ms()))
        LOG_E("journal", "cannot sync the journal: %s", sqlite3_errmsg(j->a->db));
}

/* Phase 2: dispatch the backlog, then the new signals, until the slice runs
 * out; record trades (ledgers) and outcomes (host) together. */
static void execute_batch(struct journal *j, struct jentry *q, size_t n)
{
    struct app *a = j->a;
    int64_t stop_at = mono_ms() + SLICE_MS;
    int64_t first_request = last_request_id(a->db);
    size_t nb = j->bn, nrun = 0;
    struct jentry **run = malloc((nb + n + 1) * sizeof *run);
    if (!run) {
        for (size_t i = 0; i < n; i++)
            if (!q[i].answer && q[i].dup_of < 0) {
                q[i].status = 503;
                q[i].answer = error_json("out of memory; the signal was not executed");
            }
        return;
    }
    dsp_batch_begin(a);
    int host_tx = exec_ok(a->db, "PRAGMA synchronous=NORMAL") == 0 && exec_ok(a->db, "BEGIN") == 0;
    if (!host_tx) {
        /* Outcomes could not commit with their trades: run nothing. Resent, or
         * at the next start, these signals are found unfinished. */
        dsp_batch_commit(a);        /* nothing was written */
        exec_ok(a->db, "PRAGMA synchronous=FULL");
        for (size_t i = 0; i < n; i++)
            if (!q[i].answer && q[i].dup_of < 0) {
                q[i].status = 503;
                q[i].answer = error_json("the signal journal is unavailable; the signal was not executed");
            }
        free(run);
        return;
    }
    int out = 0;
    for (size_t i = 0; i < nb; i++) {
        j->bq[i].fresh = 0;
        if (!out)
            out = run_entry(j, &j->bq[i], stop_at);
        run[nrun++] = &j->bq[i];
    }
    for (size_t i = 0; i < n; i++) {
        struct jentry *e = &q[i];
        if (e->answer || e->dup_of >= 0)
            continue;
        /* Its plugins are known even when it waits: the 202 lists them. */
        if (!e->prepared && prepare_targets(j, e)) {
            e->status = 503;
            e->answer = error_json("out of memory; the signal was not executed");
            continue;
        }
        if (!out)
            out = run_entry(j, e, stop_at);
        run[nrun++] = e;
    }
    /* Trades first: a crash between the commits is found by recovery. */
    if (dsp_batch_commit(a) > 0)
        batch_not_recorded(j, run, nrun, first_request);
    int deferred = 0, bad = 0;
    for (size_t i = 0; i < nrun; i++) {
        struct jentry *e = run[i];
        int complete = e->prepared && e->next >= e->nres;
        free(e->answer);
        if (complete) {
            e->answer = results_json(e, e->resume && e->ran == 0, 0, 0);
            bad |= record_outcome(j, e->id, e->lost ? "partial" : "done", e->answer, e->res, e->nres);
            e->status = 200;
        } else {
            e->answer = results_json(e, 0, 1, 0);
            bad |= record_outcome(j, e->id, "queued", e->answer, e->res, e->nres);
            e->status = 202;
            deferred = 1;
        }
    }
    /* The outcome commit skips its own fsync: the next journal commit (FULL)
     * syncs the same WAL. Losing it (power cut, not kill -9) leaves these
     * signals "received" with their trades in the ledgers, which recovery
     * finishes at the next start. */
    if (bad || sqlite3_exec(a->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
        /* The trades are saved; recovery (or a resend) completes these signals. */
        LOG_E("journal", "cannot commit signal outcomes: %s", sqlite3_errmsg(a->db));
        host_rollback(a->db);
    }
    exec_ok(a->db, "PRAGMA synchronous=FULL");
    if (deferred)
        sync_host(j);
    /* The backlog: finished entries leave (in order), unfinished stay first. */
    size_t keep = 0;
    for (size_t i = 0; i < nb; i++) {
        struct jentry *e = &j->bq[i];
        if (e->status == 200) {
            notify_async(j, e);
            entry_free(e);
        } else {
            j->bq[keep++] = *e;
        }
    }
    if (j->bn > nb)
        memmove(j->bq + keep, j->bq + nb, (j->bn - nb) * sizeof *j->bq);
    j->bn = keep + (j->bn - nb);
    free(run);
}

/* New entries answered 202 join the backlog (after the answer is sent). */
static void defer_new(struct journal *j, struct jentry *e)
{
    struct jentry b = *e;
    b.fn = NULL;
    b.ud = NULL;
    b.answer = NULL;
    if (backlog_push(j, &b)) {
        LOG_E("journal", "out of memory: signal %lld stays queued until the next start", (long long)e->id);
        return;
    }
    e->raw = NULL;              /* moved */
    e->res = NULL;
}

static void flush(struct journal *j)
{
    size_t n = j->n;
    struct jentry *q = j->q;
    j->n = 0;       /* answers may submit again (console, tests): start a fresh queue */
    j->q = NULL;
    j->cap = 0;
    if (n && journal_batch(j, q, n)) {
        for (size_t i = 0; i < n; i++)
            if (!q[i].answer) {
                q[i].status = 503;
                q[i].answer = error_json("the signal journal is unavailable; the signal was not executed");
            }
    } else {
        execute_batch(j, q, n);
    }
    /* Answer in arrival order; a batch-internal duplicate gets its first's answer. */
    for (size_t i = 0; i < n; i++) {
        struct jentry *e = &q[i];
        if (e->dup_of >= 0) {
            e->status = q[e->dup_of].status;
            e->answer = e->status == 200 || e->status == 202 ? as_duplicate(q[e->dup_of].answer)
                                                             : dup_str(q[e->dup_of].answer);
        }
        int duplicate = e->dup_of >= 0 || (e->answer && !e->id && (e->status == 200 || e->status == 202)) ||
                        (e->resume && e->ran == 0 && e->status == 200);
        metrics_signal(j->a, e->source, e->status >= 300 ? "failed" : duplicate ? "duplicate" : "journaled");
        e->fn(e->ud, e->status, e->answer ? e->answer : "{\"ok\":false,\"error\":\"out of memory\"}");
    }
    for (size_t i = 0; i < n; i++) {
        if (q[i].status == 202 && q[i].dup_of < 0 && q[i].prepared)
            defer_new(j, &q[i]);
        entry_free(&q[i]);
    }
    free(q);
    if (j->bn && !ev_is_active(&j->more))
        ev_idle_start(j->a->loop, &j->more);
    else if (!j->bn && ev_is_active(&j->more))
        ev_idle_stop(j->a->loop, &j->more);
}

static void on_idle(struct ev_loop *loop, ev_idle *w, int revents)
{
    (void)revents;
    store_checkpoint_run();
    ev_idle_stop(loop, w);
}

static void on_more(struct ev_loop *loop, ev_idle *w, int revents)
{
    (void)loop;
    (void)w;
    (void)revents;          /* the prepare watcher runs the backlog */
}

static void on_prepare(struct ev_loop *loop, ev_prepare *w, int revents)
{
    struct journal *j = w->data;
    (void)revents;
    if (j->n || j->bn)
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

static void release_id(struct app *a, int64_t id)
{
    sqlite3_stmt *u;
    if (sqlite3_prepare_v2(a->db, "UPDATE signals SET ext_id = NULL WHERE id = ?1", -1, &u, NULL) != SQLITE_OK) {
        LOG_E("journal", "cannot release the id of signal %lld: %s", (long long)id, sqlite3_errmsg(a->db));
        return;
    }
    sqlite3_bind_int64(u, 1, id);
    if (sqlite3_step(u) != SQLITE_DONE)
        LOG_E("journal", "cannot release the id of signal %lld: %s", (long long)id, sqlite3_errmsg(a->db));
    sqlite3_finalize(u);
}

/* One signal left "received" by a crash (never answered): each plugin's part
 * is decided from its ledger. All committed: done. None: failed, id released
 * (the sender never got a 2xx and may resend). Some: partial, the id kept: a
 * resend runs only the missing parts. Nothing is run here. */
static void recover_received(struct journal *j, int64_t id, const char *source, const char *ext,
                             const char *plugin)
{
    struct app *a = j->a;
    struct jentry e = {.id = id, .resume = 1};
    char note[700], done[300] = "", missing[300] = "";
    size_t nd = 0, nm = 0, committed = 0, lost = 0;
    snprintf(e.s.plugin, sizeof e.s.plugin, "%s", plugin);
    if (prepare_targets(j, &e))
        return;
    for (size_t k = 0; k < e.nres; k++) {
        struct dsp_result *r = &e.res[k];
        struct plugin *p = reg_find(&a->reg, r->plugin);
        if (!p || !p->ldg) {
            set_result(r, "skipped", 0, "plugin not loaded");
        } else if (part_committed(p, id, r)) {
            committed++;
            nd += (size_t)snprintf(done + nd, nd < sizeof done ? sizeof done - nd : 0, "%s%s %s",
                                   nd ? ", " : "", r->plugin, r->status);
        } else {
            lost++;
            set_result(r, "failed", 0, "interrupted by a restart: not executed; a resend (same id) runs it");
            nm += (size_t)snprintf(missing + nm, nm < sizeof missing ? sizeof missing - nm : 0, "%s%s",
                                   nm ? ", " : "", r->plugin);
        }
    }
    char *answer;
    if (committed && !lost) {
        answer = results_json(&e, 0, 0, 1);
        record_outcome(j, id, "done", answer, e.res, e.nres);
        snprintf(note, sizeof note, "Signal #%lld (%s) was interrupted by a restart after it "
                 "executed; its trades are recorded (%.250s).", (long long)id, source, done);
    } else if (committed) {
        answer = results_json(&e, 0, 0, 1);
        record_outcome(j, id, "partial", answer, e.res, e.nres);
        snprintf(note, sizeof note, "⚠️ Signal #%lld (%s%s%s) was interrupted by a restart: recorded for %.200s; "
                 "NOT executed for %.200s. %s", (long long)id, source, ext[0] ? ", id " : "", ext, done, missing,
                 ext[0] ? "Resend it (same id) to complete it if it still applies."
                        : "It has no id: it cannot be completed by a resend.");
    } else {
        answer = error_json("interrupted by a restart before execution; not executed");
        for (size_t k = 0; k < e.nres; k++)
            set_result(&e.res[k], "failed", 0, "interrupted by a restart before execution; not executed");
        record_outcome(j, id, "failed", answer, e.res, e.nres);
        release_id(a, id);
        snprintf(note, sizeof note, "Signal #%lld (%s%s%s) was interrupted by a restart before "
                 "execution and was NOT executed; resend it if it still applies.", (long long)id,
                 source, ext[0] ? ", id " : "", ext);
    }
    free(answer);
    free(e.res);
    LOG_W("journal", "%s", note);
    chat_notify(a, note);
}

/* One signal answered 202 whose dispatch a restart interrupted: its sender
 * will not resend, so it is finished now (missing parts only), from the backlog. */
static void recover_queued(struct journal *j, sqlite3_stmt *s)
{
    struct jentry e = {.id = sqlite3_column_int64(s, 0), .resume = 1, .dup_of = -1, .status = 202};
    const char *t;
    snprintf(e.source, sizeof e.source, "%s", (const char *)sqlite3_column_text(s, 1));
    snprintf(e.s.id, sizeof e.s.id, "%s", (const char *)sqlite3_column_text(s, 2));
    snprintf(e.s.plugin, sizeof e.s.plugin, "%s", (const char *)sqlite3_column_text(s, 3));
    /* The action column holds sig_action_name(): map it back exactly. Known
     * gap: PineConnector's "close the other side first" (reverse) is not in
     * the journal's columns; such a signal finished here only opens. */
    static const zx_action actions[] = {ZX_BUY, ZX_SELL, ZX_CLOSE, ZX_CLOSE_LONG, ZX_CLOSE_SHORT, SIG_CLOSE_ALL};
    int known = 0;
    t = (const char *)sqlite3_column_text(s, 4);
    for (size_t i = 0; t && i < sizeof actions / sizeof actions[0] && !known; i++)
        if (strcmp(t, sig_action_name(actions[i])) == 0) {
            e.s.action = actions[i];
            known = 1;
        }
    if (!known) {
        LOG_E("journal", "signal #%lld: unknown action '%s'; not finished", (long long)e.id, t ? t : "");
        return;
    }
    snprintf(e.s.symbol, sizeof e.s.symbol, "%s", (const char *)sqlite3_column_text(s, 5));
    e.s.price = sqlite3_column_double(s, 6);
    e.s.sl = sqlite3_column_double(s, 7);
    e.s.tp = sqlite3_column_double(s, 8);
    e.s.lot = sqlite3_column_double(s, 9);
    snprintf(e.s.comment, sizeof e.s.comment, "%s", (const char *)sqlite3_column_text(s, 10));
    if (!(e.raw = strdup("")) || backlog_push(j, &e)) {
        free(e.raw);
        LOG_E("journal", "out of memory: signal %lld stays queued", (long long)e.id);
        return;
    }
    LOG_W("journal", "signal #%lld was answered 202 before a restart: finishing it now", (long long)e.id);
}

static void recover(struct journal *j)
{
    struct app *a = j->a;
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(a->db, "SELECT id, source, coalesce(ext_id, ''), coalesce(plugin, '') FROM signals"
                           " WHERE state = 'received' ORDER BY id", -1, &s, NULL) != SQLITE_OK) {
        LOG_E("journal", "recovery: %s", sqlite3_errmsg(a->db));
        return;
    }
    while (sqlite3_step(s) == SQLITE_ROW) {
        char source[16], ext[SIG_ID_MAX + 1], plugin[SIG_PLUGIN_MAX + 1];
        snprintf(source, sizeof source, "%s", (const char *)sqlite3_column_text(s, 1));
        snprintf(ext, sizeof ext, "%s", (const char *)sqlite3_column_text(s, 2));
        snprintf(plugin, sizeof plugin, "%s", (const char *)sqlite3_column_text(s, 3));
        recover_received(j, sqlite3_column_int64(s, 0), source, ext, plugin);
    }
    sqlite3_finalize(s);
    if (sqlite3_prepare_v2(a->db, "SELECT id, source, coalesce(ext_id, ''), coalesce(plugin, ''), action,"
                           " coalesce(symbol, ''), coalesce(price, 0), coalesce(sl, 0), coalesce(tp, 0),"
                           " coalesce(lot, 0), coalesce(comment, '') FROM signals WHERE state = 'queued'"
                           " ORDER BY id", -1, &s, NULL) != SQLITE_OK) {
        LOG_E("journal", "recovery: %s", sqlite3_errmsg(a->db));
        return;
    }
    while (sqlite3_step(s) == SQLITE_ROW)
        recover_queued(j, s);
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
    ev_idle_init(&j->more, on_more);
    recover(j);
    if (j->bn)
        ev_idle_start(a->loop, &j->more);
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
    /* Unfinished 202 signals stay 'queued': the next start finishes them. */
    for (size_t i = 0; i < j->bn; i++)
        entry_free(&j->bq[i]);
    free(j->bq);
    ev_idle_stop(a->loop, &j->more);
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
