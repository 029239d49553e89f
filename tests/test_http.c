/* test_http — the listener over real HTTP on loopback, driven by the same libev
 * loop as the client (curlev): routes, 404/405/413, limits, timeouts, suspend. */
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
    int done;
    int code;
    long status;
    char body[8192];
};

static void on_done(void *ud, const struct cev_result *r)
{
    struct got *g = ud;
    g->done = 1;
    g->code = r->curl_code;
    g->status = r->status;
    snprintf(g->body, sizeof g->body, "%s", r->body);
}

static void h_hello(void *ud, http_req *req)
{
    (void)ud;
    http_reply_json(req, 200, "{\"ok\":true,\"hello\":1}");
}

static void h_echo(void *ud, http_req *req)
{
    size_t n;
    const char *b = http_req_body(req, &n);
    (void)ud;
    http_reply(req, 200, "text/plain", b, n);
}

static http_req *g_parked;
static void h_park(void *ud, http_req *req)
{
    (void)ud;
    g_parked = req;
    http_suspend(req);
}

static const struct http_route routes[] = {
    {"GET", "/hello", h_hello, NULL, 0},
    {"POST", "/echo", h_echo, NULL, 0},
    {"POST", "/park", h_park, NULL, 0},
    {"POST", "/bulk", h_echo, NULL, 8192},     /* its own, larger body limit */
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
    struct http_opts o = {.host = "127.0.0.1", .port = 0, .max_body = 1024, .max_connections = 64,
                          .per_ip_connections = 8, .timeout_s = 1, .routes = routes, .n_routes = 4};
    f.srv = http_start(f.loop, &o, err, sizeof err);
    assert_non_null(f.srv);
    f.c = cev_new(f.loop, err, sizeof err);
    assert_non_null(f.c);
    snprintf(f.base, sizeof f.base, "http://127.0.0.1:%d", http_port(f.srv));
    *st = &f;
    return 0;
}

static int teardown(void **st)
{
    struct fx *f = *st;
    cev_free(f->c);
    http_stop(f->srv);
    ev_loop_destroy(f->loop);
    return 0;
}

static void request(struct fx *f, const char *method, const char *path, const char *body, size_t len,
                    struct got *g)
{
    char url[256], err[256];
    snprintf(url, sizeof url, "%s%s", f->base, path);
    struct cev_request rq = {.method = method, .url = url, .body = body, .body_len = len, .timeout_ms = 5000};
    memset(g, 0, sizeof *g);
    assert_int_equal(cev_start(f->c, &rq, on_done, g, err, sizeof err), 0);
    assert_true(tu_run_until(f->loop, &g->done, 5.0));
}

static void test_route_answers_json(void **st)
{
    struct got g;
    request(*st, "GET", "/hello", NULL, 0, &g);
    assert_int_equal(g.code, 0);
    assert_int_equal(g.status, 200);
    assert_string_equal(g.body, "{\"ok\":true,\"hello\":1}");
}

static void test_unknown_path_is_404_json(void **st)
{
    struct got g;
    request(*st, "GET", "/nope", NULL, 0, &g);
    assert_int_equal(g.status, 404);
    assert_non_null(strstr(g.body, "\"ok\":false"));
}

static void test_wrong_method_is_405(void **st)
{
    struct got g;
    request(*st, "POST", "/hello", "x", 1, &g);
    assert_int_equal(g.status, 405);
    request(*st, "GET", "/echo", NULL, 0, &g);
    assert_int_equal(g.status, 405);
}

static void test_body_is_delivered_whole(void **st)
{
    struct got g;
    char body[1000];
    for (size_t i = 0; i < sizeof body; i++)
        body[i] = (char)('a' + i % 26);
    request(*st, "POST", "/echo", body, sizeof body, &g);
    assert_int_equal(g.status, 200);
    assert_int_equal(strlen(g.body), sizeof body);
    assert_memory_equal(g.body, body, sizeof body);
}

static void test_body_over_limit_is_413(void **st)
{
    struct got g;
    static char body[5000];
    memset(body, 'x', sizeof body);
    request(*st, "POST", "/echo", body, sizeof body, &g);
    assert_int_equal(g.status, 413);
    assert_non_null(strstr(g.body, "1024"));
    request(*st, "POST", "/echo", body, 1025, &g);
    assert_int_equal(g.status, 413);
    request(*st, "POST", "/echo", body, 1024, &g);
    assert_int_equal(g.status, 200);
}

static void test_a_route_may_have_its_own_body_limit(void **st)
{
    struct got g;
    static char body[9000];
    memset(body, 'y', sizeof body);
    request(*st, "POST", "/bulk", body, 5000, &g);      /* over the server's 1024 */
    assert_int_equal(g.status, 200);
    assert_int_equal(strlen(g.body), 5000);
    request(*st, "POST", "/bulk", body, sizeof body, &g);
    assert_int_equal(g.status, 413);
    assert_non_null(strstr(g.body, "8192"));
    request(*st, "POST", "/echo", body, 5000, &g);      /* the others keep the server's */
    assert_int_equal(g.status, 413);
}

static void test_suspended_request_is_answered_later(void **st)
{
    struct fx *f = *st;
    struct got g;
    char url[256], err[256];
    int never = 0;
    snprintf(url, sizeof url, "%s/park", f->base);
    struct cev_request rq = {.method = "POST", .url = url, .body = "1", .body_len = 1, .timeout_ms = 5000};
    memset(&g, 0, sizeof g);
    g_parked = NULL;
    assert_int_equal(cev_start(f->c, &rq, on_done, &g, err, sizeof err), 0);
    tu_run_until(f->loop, &never, 0.3);
    assert_non_null(g_parked);
    assert_int_equal(g.done, 0);
    assert_int_equal(http_pending(f->srv), 1);
    http_reply_json(g_parked, 202, "{\"ok\":true,\"later\":1}");
    assert_true(tu_run_until(f->loop, &g.done, 5.0));
    assert_int_equal(g.status, 202);
    assert_string_equal(g.body, "{\"ok\":true,\"later\":1}");
    assert_int_equal(http_pending(f->srv), 0);
}

static void test_draining_answers_503(void **st)
{
    struct fx *f = *st;
    struct got g;
    http_set_draining(f->srv, 1);
    request(f, "GET", "/hello", NULL, 0, &g);
    http_set_draining(f->srv, 0);
    assert_int_equal(g.status, 503);
    assert_non_null(strstr(g.body, "shutting down"));
}

static int raw_connect(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
    return fd;
}

static void test_per_ip_limit_refuses_extra_connections(void **st)
{
    struct fx *f = *st;
    int fds[8], never = 0;
    for (int i = 0; i < 8; i++) {
        fds[i] = raw_connect(http_port(f->srv));
        assert_int_equal(write(fds[i], "GET /hello HTTP/1.1\r\n", 21), 21);   /* and stall */
    }
    tu_run_until(f->loop, &never, 0.2);
    struct got g;
    request(f, "GET", "/hello", NULL, 0, &g);
    assert_int_not_equal(g.status, 200);    /* the ninth connection from this IP is dropped */
    for (int i = 0; i < 8; i++)
        close(fds[i]);
    tu_run_until(f->loop, &never, 0.2);
    request(f, "GET", "/hello", NULL, 0, &g);
    assert_int_equal(g.status, 200);
}

struct eof_watch {
    ev_io io;
    int closed;
};

static void on_readable(struct ev_loop *loop, ev_io *w, int revents)
{
    struct eof_watch *e = (struct eof_watch *)w;
    char buf[512];
    (void)revents;
    ssize_t n = read(w->fd, buf, sizeof buf);
    if (n <= 0) {
        e->closed = 1;
        ev_io_stop(loop, w);
    }
}

static void test_slow_client_is_timed_out(void **st)
{
    struct fx *f = *st;
    int fd = raw_connect(http_port(f->srv));
    assert_int_equal(write(fd, "POST /echo HTTP/1.1\r\nHost: x\r\n", 30), 30);
    struct eof_watch e = {.closed = 0};
    ev_io_init(&e.io, on_readable, fd, EV_READ);
    ev_io_start(f->loop, &e.io);
    assert_true(tu_run_until(f->loop, &e.closed, 4.0));    /* timeout_s = 1 */
    ev_io_stop(f->loop, &e.io);
    close(fd);
    struct got g;
    request(f, "GET", "/hello", NULL, 0, &g);       /* the loop served others meanwhile */
    assert_int_equal(g.status, 200);
}

static void test_port_in_use_is_a_clear_error(void **st)
{
    struct fx *f = *st;
    char err[256] = "";
    struct http_opts o = {.host = "127.0.0.1", .port = http_port(f->srv), .max_body = 10,
                          .max_connections = 4, .per_ip_connections = 4, .timeout_s = 1,
                          .routes = routes, .n_routes = 1};
    assert_null(http_start(f->loop, &o, err, sizeof err));
    assert_non_null(strstr(err, "cannot listen"));
}

static void test_allowed_address_that_is_no_address_is_a_clear_error(void **st)
{
    struct fx *f = *st;
    char err[256] = "";
    static const char *const ips[] = {"127.0.0.1", "10.0.0.300"};
    struct http_opts o = {.host = "127.0.0.1", .port = 0, .max_body = 10, .max_connections = 4,
                          .per_ip_connections = 4, .timeout_s = 1, .allowed_ips = ips, .n_allowed_ips = 2,
                          .routes = routes, .n_routes = 1};
    assert_null(http_start(f->loop, &o, err, sizeof err));
    assert_non_null(strstr(err, "10.0.0.300"));
}

/* A TCP connection from source address src to the server on port. */
static int connect_from(const char *src, int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in me = {.sin_family = AF_INET}, a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, src, &me.sin_addr);
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    assert_int_equal(bind(fd, (struct sockaddr *)&me, sizeof me), 0);
    assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
    return fd;
}

static void test_only_allowed_addresses_get_past_accept(void **st)
{
    struct fx *f = *st;
    char err[256] = "";
    static const char *const ips[] = {"::ffff:127.0.0.3"};     /* v4-mapped spelling matches too */
    struct http_opts o = {.host = "127.0.0.1", .port = 0, .max_body = 64, .max_connections = 8,
                          .per_ip_connections = 4, .timeout_s = 2, .allowed_ips = ips, .n_allowed_ips = 1,
                          .routes = routes, .n_routes = 1};
    http_server *s = http_start(f->loop, &o, err, sizeof err);
    assert_non_null(s);
    const char *req = "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n";
    struct eof_watch e = {.closed = 0};
    int fd = connect_from("127.0.0.2", http_port(s));
    assert_int_equal(write(fd, req, strlen(req)), (ssize_t)strlen(req));
    ev_io_init(&e.io, on_readable, fd, EV_READ);
    ev_io_start(f->loop, &e.io);
    assert_true(tu_run_until(f->loop, &e.closed, 2.0));        /* closed, nothing answered */
    ev_io_stop(f->loop, &e.io);
    close(fd);
    fd = connect_from("127.0.0.3", http_port(s));
    assert_int_equal(write(fd, req, strlen(req)), (ssize_t)strlen(req));
    int never = 0;
    tu_run_until(f->loop, &never, 0.3);
    char buf[256] = "";
    assert_true(read(fd, buf, sizeof buf - 1) > 0);
    assert_non_null(strstr(buf, "200 OK"));
    close(fd);
    http_stop(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_route_answers_json),
        cmocka_unit_test(test_unknown_path_is_404_json),
        cmocka_unit_test(test_wrong_method_is_405),
        cmocka_unit_test(test_body_is_delivered_whole),
        cmocka_unit_test(test_body_over_limit_is_413),
        cmocka_unit_test(test_a_route_may_have_its_own_body_limit),
        cmocka_unit_test(test_suspended_request_is_answered_later),
        cmocka_unit_test(test_draining_answers_503),
        cmocka_unit_test(test_per_ip_limit_refuses_extra_connections),
        cmocka_unit_test(test_slow_client_is_timed_out),
        cmocka_unit_test(test_port_in_use_is_a_clear_error),
        cmocka_unit_test(test_allowed_address_that_is_no_address_is_a_clear_error),
        cmocka_unit_test(test_only_allowed_addresses_get_past_accept),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
