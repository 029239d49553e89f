/* test_curlev — the curl multi glue against a local HTTP server (the listener
 * module) on the same loop: completion, POST bodies, multipart, timeouts,
 * refused connections, size limit, cancellation. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include "curlev.h"
#include "http.h"
#include "testutil.h"

struct got {
    int done, code, cancelled, calls;
    long status;
    char body[4096];
    char error[256];
};

static void on_done(void *ud, const struct cev_result *r)
{
    struct got *g = ud;
    g->done = 1;
    g->calls++;
    g->code = r->curl_code;
    g->status = r->status;
    g->cancelled = r->cancelled;
    snprintf(g->body, sizeof g->body, "%s", r->body);
    snprintf(g->error, sizeof g->error, "%s", r->error);
}

static void h_echo(void *ud, http_req *req)
{
    size_t n;
    const char *b = http_req_body(req, &n);
    const char *ct = http_req_header(req, "Content-Type");
    char out[4096];
    (void)ud;
    snprintf(out, sizeof out, "%s|%.*s", ct ? ct : "-", (int)n, b);
    http_reply(req, 200, "text/plain", out, strlen(out));
}

static void h_big(void *ud, http_req *req)
{
    static char big[100000];
    (void)ud;
    memset(big, 'b', sizeof big);
    http_reply(req, 200, "text/plain", big, sizeof big);
}

static void h_never(void *ud, http_req *req)
{
    (void)ud;
    http_suspend(req);      /* answered by http_stop at teardown */
}

static const struct http_route routes[] = {
    {"POST", "/echo", h_echo, NULL, 0},
    {"GET", "/big", h_big, NULL, 0},
    {"GET", "/never", h_never, NULL, 0},
};

struct fx {
    struct ev_loop *loop;
    http_server *srv;
    cev *c;
    char base[64];
};

static int setup(void **st)
{
    static struct fx f;
    char err[256];
    f.loop = ev_loop_new(EVFLAG_AUTO);
    struct http_opts o = {.host = "127.0.0.1", .port = 0, .max_body = 65536, .max_connections = 64,
                          .per_ip_connections = 32, .timeout_s = 5, .routes = routes, .n_routes = 3};
    f.srv = http_start(f.loop, &o, err, sizeof err);
    assert_non_null(f.srv);
    snprintf(f.base, sizeof f.base, "http://127.0.0.1:%d", http_port(f.srv));
    *st = &f;
    return 0;
}

static int teardown(void **st)
{
    struct fx *f = *st;
    http_stop(f->srv);
    ev_loop_destroy(f->loop);
    return 0;
}

static int per_test_setup(void **st)
{
    struct fx *f = *st;
    char err[256];
    f->c = cev_new(f->loop, err, sizeof err);
    return f->c ? 0 : -1;
}

static int per_test_teardown(void **st)
{
    struct fx *f = *st;
    cev_free(f->c);
    return 0;
}

static void start(struct fx *f, struct cev_request *rq, const char *path, struct got *g)
{
    char url[256], err[256];
    snprintf(url, sizeof url, "%s%s", f->base, path);
    rq->url = url;
    memset(g, 0, sizeof *g);
    assert_int_equal(cev_start(f->c, rq, on_done, g, err, sizeof err), 0);
    assert_int_equal(g->done, 0);       /* never completes inside cev_start */
}

static void test_post_json_round_trip(void **st)
{
    struct fx *f = *st;
    struct got g;
    struct cev_request rq = {.method = "POST", .body = "{\"a\":1}", .body_len = 7};
    start(f, &rq, "/echo", &g);
    assert_true(tu_run_until(f->loop, &g.done, 5.0));
    assert_int_equal(g.code, 0);
    assert_int_equal(g.status, 200);
    assert_string_equal(g.body, "application/json|{\"a\":1}");
    assert_int_equal(g.calls, 1);
}

static void test_many_concurrent_requests_all_complete(void **st)
{
    struct fx *f = *st;
    enum { N = 20 };
    static struct got g[N];
    char bodies[N][16];
    for (int i = 0; i < N; i++) {
        snprintf(bodies[i], sizeof bodies[i], "n=%d", i);
        struct cev_request rq = {.method = "POST", .content_type = "text/plain", .body = bodies[i],
                                 .body_len = strlen(bodies[i])};
        start(f, &rq, "/echo", &g[i]);
    }
    int all = 0;
    for (int spins = 0; spins < 500 && !all; spins++) {
        int never = 0;
        tu_run_until(f->loop, &never, 0.01);
        all = 1;
        for (int i = 0; i < N; i++)
            all &= g[i].done;
    }
    assert_true(all);
    for (int i = 0; i < N; i++) {
        char want[32];
        snprintf(want, sizeof want, "text/plain|n=%d", i);
        assert_string_equal(g[i].body, want);
    }
    assert_int_equal(cev_active(f->c), 0);
}

static void test_multipart_parts_are_sent(void **st)
{
    struct fx *f = *st;
    struct got g;
    struct cev_part parts[] = {{.name = "chat_id", .data = "42", .len = 2},
                               {.name = "photo", .data = "PNGDATA", .len = 7, .filename = "c.png",
                                .type = "image/png"}};
    struct cev_request rq = {.method = "POST", .parts = parts, .n_parts = 2};
    start(f, &rq, "/echo", &g);
    assert_true(tu_run_until(f->loop, &g.done, 5.0));
    assert_non_null(strstr(g.body, "multipart/form-data"));
    assert_non_null(strstr(g.body, "name=\"photo\"; filename=\"c.png\""));
    assert_non_null(strstr(g.body, "PNGDATA"));
}

static void test_timeout_is_reported(void **st)
{
    struct fx *f = *st;
    struct got g;
    struct cev_request rq = {.method = "GET", .timeout_ms = 300};
    start(f, &rq, "/never", &g);
    assert_true(tu_run_until(f->loop, &g.done, 5.0));
    assert_int_equal(g.code, 28);       /* CURLE_OPERATION_TIMEDOUT */
    assert_int_equal(g.status, 0);
    assert_true(strlen(g.error) > 0);
}

static void test_refused_connection_is_reported(void **st)
{
    struct fx *f = *st;
    struct got g;
    char err[256];
    /* A port nobody listens on: bind, note it, close. */
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET};
    socklen_t al = sizeof a;
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    getsockname(fd, (struct sockaddr *)&a, &al);
    close(fd);
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/x", ntohs(a.sin_port));
    struct cev_request rq = {.method = "GET", .url = url};
    memset(&g, 0, sizeof g);
    assert_int_equal(cev_start(f->c, &rq, on_done, &g, err, sizeof err), 0);
    assert_true(tu_run_until(f->loop, &g.done, 5.0));
    assert_int_equal(g.code, 7);        /* CURLE_COULDNT_CONNECT */
}

static void test_oversized_response_fails(void **st)
{
    struct fx *f = *st;
    struct got g;
    struct cev_request rq = {.method = "GET", .max_response = 1000};
    start(f, &rq, "/big", &g);
    assert_true(tu_run_until(f->loop, &g.done, 5.0));
    assert_int_not_equal(g.code, 0);
    assert_string_equal(g.error, "response too large");
}

static void test_free_cancels_in_flight_transfers(void **st)
{
    struct fx *f = *st;
    struct got g;
    int never = 0;
    struct cev_request rq = {.method = "GET", .timeout_ms = 10000};
    start(f, &rq, "/never", &g);
    tu_run_until(f->loop, &never, 0.1);
    cev_free(f->c);
    assert_int_equal(g.calls, 1);
    assert_int_equal(g.cancelled, 1);
    char err[64];
    f->c = cev_new(f->loop, err, sizeof err);   /* for per_test_teardown */
    assert_non_null(f->c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_post_json_round_trip, per_test_setup, per_test_teardown),
        cmocka_unit_test_setup_teardown(test_many_concurrent_requests_all_complete, per_test_setup, per_test_teardown),
        cmocka_unit_test_setup_teardown(test_multipart_parts_are_sent, per_test_setup, per_test_teardown),
        cmocka_unit_test_setup_teardown(test_timeout_is_reported, per_test_setup, per_test_teardown),
        cmocka_unit_test_setup_teardown(test_refused_connection_is_reported, per_test_setup, per_test_teardown),
        cmocka_unit_test_setup_teardown(test_oversized_response_fails, per_test_setup, per_test_teardown),
        cmocka_unit_test_setup_teardown(test_free_cancels_in_flight_transfers, per_test_setup, per_test_teardown),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
