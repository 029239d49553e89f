/*
 * test_export — the RFC 4180 writer and the trade rows of src/export.c: fields
 * with commas, quotes, CR and LF survive a round trip through a strict RFC 4180
 * reader (below); the period keeps trades opened or closed in it; the
 * read-only handle reads a ledger another handle writes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "export.h"
#include "ledger.h"
#include "sbuf.h"
#include "testutil.h"

#define MAXF 32
#define MAXR 16

/* A strict RFC 4180 reader: records end in CRLF, a quoted field may hold
 * anything with quotes doubled. Returns the number of records, -1 on a
 * violation. fields[r][f] are malloc'ed. */
static int parse(const char *s, char *fields[MAXR][MAXF], int nf[MAXR])
{
    int r = 0;
    while (*s) {
        if (r == MAXR)
            return -1;
        nf[r] = 0;
        for (;;) {
            struct sbuf f;
            sbuf_init(&f);
            if (*s == '"') {
                for (s++;; s++) {
                    if (!*s)
                        return -1;
                    if (*s == '"' && s[1] == '"')
                        sbuf_add(&f, s++, 1);
                    else if (*s == '"')
                        break;
                    else
                        sbuf_add(&f, s, 1);
                }
                s++;
            } else {
                for (; *s && *s != ',' && *s != '\r'; s++) {
                    if (*s == '"' || *s == '\n')
                        return -1;
                    sbuf_add(&f, s, 1);
                }
            }
            if (nf[r] == MAXF)
                return -1;
            fields[r][nf[r]++] = strdup(sbuf_str(&f));
            sbuf_free(&f);
            if (*s == ',') {
                s++;
                continue;
            }
            if (s[0] == '\r' && s[1] == '\n') {
                s += 2;
                break;
            }
            return -1;
        }
        r++;
    }
    return r;
}

static void free_fields(char *fields[MAXR][MAXF], const int nf[MAXR], int n)
{
    for (int r = 0; r < n; r++)
        for (int f = 0; f < nf[r]; f++)
            free(fields[r][f]);
}

static void test_csv_field_quotes_only_what_rfc4180_requires(void **state)
{
    (void)state;
    static const struct { const char *in, *out; } cases[] = {
        {"plain", "plain"}, {"", ""}, {"a,b", "\"a,b\""}, {"say \"hi\"", "\"say \"\"hi\"\"\""},
        {"two\r\nlines", "\"two\r\nlines\""}, {"lf\nonly", "\"lf\nonly\""}, {"\"", "\"\"\"\""},
        {"semi;colon 'x'", "semi;colon 'x'"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct sbuf b;
        sbuf_init(&b);
        exp_csv_field(&b, cases[i].in);
        assert_string_equal(sbuf_str(&b), cases[i].out);
        sbuf_free(&b);
    }
}

static int64_t add_trade(ledger *l, const char *comment, int64_t entry_ms)
{
    char err[256];
    struct ldg_trade t;
    memset(&t, 0, sizeof t);
    snprintf(t.symbol, sizeof t.symbol, "EURUSD");
    t.side = ZX_BUY;
    t.lot = 0.1;
    t.entry = 1.1;
    t.entry_ms = entry_ms;
    snprintf(t.status, sizeof t.status, "OPEN");
    snprintf(t.comment, sizeof t.comment, "%s", comment);
    assert_int_equal(ldg_insert_open(l, &t, err, sizeof err), 0);
    return t.id;
}

static void test_trades_csv_round_trips_hostile_text_and_keeps_the_period(void **state)
{
    (void)state;
    char dir[64], err[256];
    ledger *l;
    sqlite3 *ro;
    static const char *const hostile[] = {"a, b", "q \"x\" q", "cr\r\nlf", "lf\nonly", ",\",\r\n"};
    const int64_t day = 86400000, t0 = 1700000000000;
    assert_non_null(tu_tmpdir(dir, sizeof dir));
    assert_int_equal(ldg_open(dir, "px", &l, err, sizeof err), 0);
    for (size_t i = 0; i < 5; i++)
        add_trade(l, hostile[i], t0 + (int64_t)i);
    int64_t old = add_trade(l, "before the period", t0 - 3 * day);
    /* Opened before the period and closed in it: it belongs to it. */
    int64_t closed = add_trade(l, "closed in the period", t0 - 2 * day);
    assert_int_equal(ldg_record_close(l, closed, 1, 1.2, 100, 100, t0 + 10, "tp, hit", err, sizeof err), 0);
    add_trade(l, "after the period", t0 + day);

    assert_int_equal(exp_open_readonly(dir, "px", &ro, err, sizeof err), 0);
    struct sbuf b;
    sbuf_init(&b);
    assert_int_equal(exp_trades_csv(ro, t0 - day, t0 + day / 2, &b, err, sizeof err), 6);
    char *fields[MAXR][MAXF];
    int nf[MAXR];
    int n = parse(sbuf_str(&b), fields, nf);
    assert_int_equal(n, 7);                             /* the header and 6 trades */
    assert_int_equal(nf[0], (int)exp_n_columns);
    int ci = -1, ri = -1, ii = -1;
    for (int f = 0; f < nf[0]; f++) {
        assert_string_equal(fields[0][f], exp_columns[f].name);
        if (strcmp(fields[0][f], "comment") == 0)
            ci = f;
        if (strcmp(fields[0][f], "close_reason") == 0)
            ri = f;
        if (strcmp(fields[0][f], "id") == 0)
            ii = f;
    }
    assert_true(ci >= 0 && ri >= 0 && ii >= 0);
    for (int r = 1; r < n; r++)
        assert_int_equal(nf[r], (int)exp_n_columns);
    for (int r = 1; r <= 5; r++)
        assert_string_equal(fields[r][ci], hostile[r - 1]);
    assert_int_equal(strtoll(fields[6][ii], NULL, 10), closed);
    assert_string_equal(fields[6][ri], "tp, hit");
    for (int r = 1; r < n; r++)
        assert_int_not_equal(strtoll(fields[r][ii], NULL, 10), old);
    free_fields(fields, nf, n);
    sbuf_free(&b);

    /* The read-only handle refuses writes. */
    assert_int_not_equal(sqlite3_exec(ro, "DELETE FROM trades", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(ro);
    ldg_close(l);
    assert_int_equal(exp_open_readonly(dir, "missing", &ro, err, sizeof err), -1);
    assert_non_null(strstr(err, "zepix_missing.db"));
    tu_rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_csv_field_quotes_only_what_rfc4180_requires),
        cmocka_unit_test(test_trades_csv_round_trips_hostile_text_and_keeps_the_period),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
