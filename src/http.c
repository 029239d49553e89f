/*
 * http — see http.h.
 *
 * Request life: MHD calls on_access first with *con_cls NULL (headers read), then
 * with body chunks, then once with no data (body complete): that is when the
 * route's handler runs. A suspended request is resumed by http_reply(); MHD then
 * calls on_access once more and the stored answer is queued. on_completed frees.
 */
#include "http.h"
#include "log.h"

#include <arpa/inet.h>
#include <json-c/json.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* One open connection (MHD's socket context), for admission and the deadline. */
struct http_conn {
    struct in6_addr addr;       /* IPv4 as v4-mapped */
    struct MHD_Connection *c;
    double t;                   /* monotonic s: since when the client owes us a request (or must take an answer) */
    int ours;                   /* 1 while a handler has the request (runs, or is suspended): no deadline */
    int cut;                    /* shut down past its deadline, not yet closed by MHD */
    struct http_conn *next, *prev;
};

struct http_req {
    http_server *srv;
    struct http_conn *hc;       /* its connection; NULL if MHD gave none */
    struct MHD_Connection *conn;
    const struct http_route *route;
    char method[8];
    char path[256];
    char ip[INET6_ADDRSTRLEN];
    char *body;
    size_t len, cap;
    size_t limit;               /* body limit of the path's route, bytes */
    int too_large, suspended, answered, queued;
    int close;                  /* answer with Connection: close */
    int status;
    char ctype[64];
    char *reply;
    size_t reply_len;
    double t0;                  /* monotonic seconds at arrival */
    http_req *next_susp, *prev_susp;
};

struct http_server {
    struct ev_loop *loop;
    struct MHD_Daemon *d;
    ev_io io;
    ev_timer timer;
    ev_prepare prep;
    struct http_opts o;
    int draining;
    size_t n_suspended;
    http_req *suspended;        /* list of suspended requests */
    struct in6_addr *allowed;   /* webhook.allowed_ips; none = any address */
    size_t n_allowed;
    struct http_conn *conns;    /* every open connection */
    unsigned n_conns;
    ev_timer sweep;             /* the request deadline, checked every SWEEP_S */
    unsigned refused_ip, refused_limit, cut;   /* since the last admission log line */
    double logged;              /* monotonic s of that line */
};

#define SWEEP_S 0.5             /* seconds between deadline checks */
#define REFUSAL_LOG_S 10.0      /* at most one admission summary per this many seconds */

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* IPv4 and v4-mapped IPv6 compare equal. 0, or -1 for another family. */
static int addr_of(const struct sockaddr *sa, struct in6_addr *out)
{
    memset(out, 0, sizeof *out);
    if (sa->sa_family == AF_INET) {
        out->s6_addr[10] = out->s6_addr[11] = 0xff;
        memcpy(&out->s6_addr[12], &((const struct sockaddr_in *)(const void *)sa)->sin_addr, 4);
        return 0;
    }
    if (sa->sa_family == AF_INET6) {
        *out = ((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;
        return 0;
    }
    return -1;
}

static int addr_parse(const char *text, struct in6_addr *out)
{
    struct in_addr v4;
    memset(out, 0, sizeof *out);
    if (inet_pton(AF_INET, text, &v4) == 1) {
        out->s6_addr[10] = out->s6_addr[11] = 0xff;
        memcpy(&out->s6_addr[12], &v4, 4);
        return 0;
    }
    return inet_pton(AF_INET6, text, out) == 1 ? 0 : -1;
}

/* Admission, before MHD reads a byte (MHD's accept policy callback):
 *  - an address not in webhook.allowed_ips (when set) is closed at once;
 *  - an address holds at most per_ip_connections scaled by the share of slots
 *    still free (fair share): mine < per_ip * free / max. The fuller the house,
 *    the less each address may add; k greedy addresses level off near
 *    per_ip / (1 + k * per_ip / max) each, so with the defaults (512, 64) ten
 *    addresses hold about 290 and leave a newcomer about 28: a handful of
 *    addresses cannot fill the house. */
static enum MHD_Result on_accept(void *cls, const struct sockaddr *sa, socklen_t salen)
{
    http_server *s = cls;
    struct in6_addr a;
    unsigned mine = 0;
    (void)salen;
    if (addr_of(sa, &a))
        return MHD_NO;
    if (s->n_allowed) {
        size_t i = 0;
        while (i < s->n_allowed && memcmp(&s->allowed[i], &a, sizeof a) != 0)
            i++;
        if (i == s->n_allowed) {
            s->refused_ip++;
            return MHD_NO;
        }
    }
    for (const struct http_conn *c = s->conns; c; c = c->next)
        mine += memcmp(&c->addr, &a, sizeof a) == 0;
    unsigned long long n = s->o.max_connections, free_slots = s->n_conns < n ? n - s->n_conns : 0;
    if (mine >= s->o.per_ip_connections || (unsigned long long)mine * n >= s->o.per_ip_connections * free_slots) {
        s->refused_limit++;
        return MHD_NO;
    }
    return MHD_YES;
}

static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
                          enum MHD_ConnectionNotificationCode code)
{
    http_server *s = cls;
    struct http_conn *hc = *socket_context;
    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
        if (!(hc = calloc(1, sizeof *hc)))
            return;             /* untracked: MHD's own limits still hold */
        if (ci && ci->client_addr)
            addr_of(ci->client_addr, &hc->addr);
        hc->c = c;
        hc->t = mono_s();
        hc->next = s->conns;
        if (s->conns)
            s->conns->prev = hc;
        s->conns = hc;
        s->n_conns++;
        *socket_context = hc;
    } else if (hc) {
        if (hc->prev)
            hc->prev->next = hc->next;
        else
            s->conns = hc->next;
        if (hc->next)
            hc->next->prev = hc->prev;
        s->n_conns--;
        free(hc);
        *socket_context = NULL;
    }
}

/* The whole-request deadline: a connection whose client has owed us its
 * request (or has not taken its answer) for read_timeout_s is shut down,
 * however it trickles bytes; MHD's own timeout is idle time only. MHD then
 * sees the end of the stream and closes it. */
static void on_sweep(struct ev_loop *loop, ev_timer *w, int revents)
{
    http_server *s = w->data;
    double now = mono_s();
    (void)loop;
    (void)revents;
    int cut = 0;
    for (struct http_conn *c = s->conns; c; c = c->next) {
        if (c->ours || c->cut || now - c->t < (double)s->o.timeout_s)
            continue;
        const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c->c, MHD_CONNECTION_INFO_CONNECTION_FD);
        if (ci && shutdown(ci->connect_fd, SHUT_RDWR) == 0) {
            c->cut = 1;
            s->cut++;
            cut = 1;
        }
    }
    if (cut)
        ev_feed_event(s->loop, &s->io, EV_READ);
    if ((s->refused_ip || s->refused_limit || s->cut) && now - s->logged >= REFUSAL_LOG_S) {
        s->logged = now;
        LOG_I("http", "connections refused: %u (address not allowed), %u (per-address limit or fair share); "
              "%u closed at the %u s request deadline; %u open", s->refused_ip, s->refused_limit, s->cut,
              s->o.timeout_s, s->n_conns);
        s->refused_ip = s->refused_limit = s->cut = 0;
    }
}

static void susp_unlink(http_req *r)
{
    http_server *s = r->srv;
    if (r->prev_susp)
        r->prev_susp->next_susp = r->next_susp;
    else
        s->suspended = r->next_susp;
    if (r->next_susp)
        r->next_susp->prev_susp = r->prev_susp;
    r->next_susp = r->prev_susp = NULL;
    s->n_suspended--;
}

static enum MHD_Result queue_answer(http_req *r)
{
    struct MHD_Response *resp = MHD_create_response_from_buffer(
        r->reply_len, r->reply ? r->reply : (void *)"", MHD_RESPMEM_MUST_COPY);
    if (!resp)
        return MHD_NO;
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, r->ctype);
    if (r->status == 405 && r->route)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, r->route->method);
    if (r->srv->draining || r->close)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
    enum MHD_Result rc = MHD_queue_response(r->conn, (unsigned)r->status, resp);
    MHD_destroy_response(resp);
    r->queued = 1;
    if (r->hc) {                /* the client's turn: take the answer, send the next request */
        r->hc->ours = 0;
        r->hc->t = mono_s();
    }
    return rc;
}

void http_reply(http_req *r, int status, const char *content_type, const char *body, size_t len)
{
    if (r->answered) {
        LOG_W("http", "second answer to %s %s ignored", r->method, r->path);
        return;
    }
    r->answered = 1;
    r->status = status;
    snprintf(r->ctype, sizeof r->ctype, "%s", content_type);
    r->reply = malloc(len + 1);
    if (r->reply) {
        memcpy(r->reply, body, len);
        r->reply[len] = '\0';
        r->reply_len = len;
    } else {
        r->status = 500;
        r->reply_len = 0;
    }
    if (r->suspended) {
        r->suspended = 0;
        susp_unlink(r);
        MHD_resume_connection(r->conn);
        /* MHD notices the resume on its next run; make that this iteration. */
        ev_feed_event(r->srv->loop, &r->srv->io, EV_READ);
    }
}

void http_reply_json(http_req *r, int status, const char *json)
{
    http_reply(r, status, "application/json", json, strlen(json));
}

void http_reply_error(http_req *r, int status, const char *msg)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "ok", json_object_new_boolean(0));
    json_object_object_add(o, "error", json_object_new_string(msg));
    http_reply_json(r, status, json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
    json_object_put(o);
}

void http_suspend(http_req *r)
{
    if (r->suspended || r->answered)
        return;
    http_server *s = r->srv;
    r->suspended = 1;
    r->next_susp = s->suspended;
    r->prev_susp = NULL;
    if (s->suspended)
        s->suspended->prev_susp = r;
    s->suspended = r;
    s->n_suspended++;
    MHD_suspend_connection(r->conn);
}

const char *http_req_method(const http_req *r) { return r->method; }
const char *http_req_path(const http_req *r) { return r->path; }
const char *http_req_ip(const http_req *r) { return r->ip; }
double http_req_age_ms(const http_req *r) { return (mono_s() - r->t0) * 1000.0; }

const char *http_req_body(const http_req *r, size_t *len)
{
    if (len)
        *len = r->len;
    return r->body ? r->body : "";
}

const char *http_req_header(const http_req *r, const char *name)
{
    return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

const char *http_req_query(const http_req *r, const char *name)
{
    return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, name);
}

struct query_walk {
    int (*fn)(void *ud, const char *name, const char *value);
    void *ud;
    int stopped;
};

static enum MHD_Result query_one(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
    struct query_walk *w = cls;
    (void)kind;
    if (w->fn(w->ud, key, value)) {
        w->stopped = 1;
        return MHD_NO;
    }
    return MHD_YES;
}

int http_req_query_each(const http_req *r, int (*fn)(void *ud, const char *name, const char *value), void *ud)
{
    struct query_walk w = {fn, ud, 0};
    MHD_get_connection_values(r->conn, MHD_GET_ARGUMENT_KIND, query_one, &w);
    return w.stopped;
}

static void peer_ip(struct MHD_Connection *c, char *out, size_t outlen)
{
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    snprintf(out, outlen, "?");
    if (!ci || !ci->client_addr)
        return;
    const struct sockaddr *sa = ci->client_addr;
    if (sa->sa_family == AF_INET) {
        inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, out, (socklen_t)outlen);
    } else if (sa->sa_family == AF_INET6) {
        const struct in6_addr *a = &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;
        if (IN6_IS_ADDR_V4MAPPED(a))
            inet_ntop(AF_INET, &a->s6_addr[12], out, (socklen_t)outlen);
        else
            inet_ntop(AF_INET6, a, out, (socklen_t)outlen);
    }
}

static const struct http_route *find_route(const http_server *s, const char *method,
                                           const char *path, int *path_known)
{
    *path_known = 0;
    for (size_t i = 0; i < s->o.n_routes; i++) {
        const struct http_route *rt = &s->o.routes[i];
        if (strcmp(rt->path, path) != 0)
            continue;
        *path_known = 1;
        if (strcmp(rt->method, method) == 0)
            return rt;
    }
    return NULL;
}

static const struct http_route *route_for_path(const http_server *s, const char *path)
{
    for (size_t i = 0; i < s->o.n_routes; i++)
        if (strcmp(s->o.routes[i].path, path) == 0)
            return &s->o.routes[i];
    return NULL;
}

struct framing {
    int n_length, n_encoding, bad_length;
};

static enum MHD_Result count_framing(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
    struct framing *f = cls;
    (void)kind;
    if (strcasecmp(key, MHD_HTTP_HEADER_CONTENT_LENGTH) == 0) {
        f->n_length++;
        if (!value || !*value || strspn(value, "0123456789") != strlen(value))
            f->bad_length = 1;
    } else if (strcasecmp(key, MHD_HTTP_HEADER_TRANSFER_ENCODING) == 0) {
        f->n_encoding++;
    }
    return MHD_YES;
}

/* A body whose length two headers could tell differently is refused (400):
 * a proxy in front may pick the other one and hide a second request in it
 * (request smuggling). libmicrohttpd 0.9.75 accepts both forms. NULL if fine. */
static const char *ambiguous_framing(struct MHD_Connection *conn)
{
    struct framing f = {0, 0, 0};
    MHD_get_connection_values(conn, MHD_HEADER_KIND, count_framing, &f);
    if (f.n_length && f.n_encoding)
        return "bad request: both Content-Length and Transfer-Encoding";
    if (f.n_length > 1)
        return "bad request: more than one Content-Length";
    if (f.n_encoding > 1)
        return "bad request: more than one Transfer-Encoding";
    if (f.bad_length)
        return "bad request: Content-Length is not a number";
    return NULL;
}

static enum MHD_Result on_access(void *cls, struct MHD_Connection *conn, const char *url,
                                 const char *method, const char *version, const char *upload,
                                 size_t *upload_size, void **con_cls)
{
    http_server *s = cls;
    http_req *r = *con_cls;
    (void)version;

    if (!r) {
        r = calloc(1, sizeof *r);
        if (!r)
            return MHD_NO;
        r->srv = s;
        r->conn = conn;
        r->t0 = mono_s();
        snprintf(r->method, sizeof r->method, "%s", method);
        snprintf(r->path, sizeof r->path, "%s", url);
        peer_ip(conn, r->ip, sizeof r->ip);
        const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
        r->hc = ci ? ci->socket_context : NULL;
        *con_cls = r;
        const char *why = ambiguous_framing(conn);
        if (why) {
            LOG_I("http", "400 from %s: %s", r->ip, why);
            r->close = 1;       /* the rest of the stream is not read as a request */
            http_reply_error(r, 400, why);
            return queue_answer(r);
        }
        const struct http_route *rt = route_for_path(s, url);
        r->limit = rt && rt->max_body ? rt->max_body : s->o.max_body;
        const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
                                                     MHD_HTTP_HEADER_CONTENT_LENGTH);
        if (cl && strtoull(cl, NULL, 10) > r->limit)
            r->too_large = 1;
        return MHD_YES;
    }
    if (r->queued)
        return MHD_YES;
    if (*upload_size) {
        size_t n = *upload_size;
        *upload_size = 0;
        if (r->too_large || r->len + n > r->limit) {
            r->too_large = 1;   /* keep reading and discarding; answer 413 at the end */
            return MHD_YES;
        }
        if (r->len + n + 1 > r->cap) {
            size_t cap = r->cap ? r->cap * 2 : 1024;
            while (cap < r->len + n + 1)
                cap *= 2;
            char *nb = realloc(r->body, cap);
            if (!nb)
                return MHD_NO;
            r->body = nb;
            r->cap = cap;
        }
        memcpy(r->body + r->len, upload, n);
        r->len += n;
        r->body[r->len] = '\0';
        return MHD_YES;
    }
    if (r->answered)                    /* resumed after http_reply */
        return queue_answer(r);
    if (r->suspended)
        return MHD_YES;

    int known;
    if (r->hc)
        r->hc->ours = 1;        /* the request is whole: ours until answered */
    r->route = find_route(s, method, url, &known);
    if (s->draining) {
        http_reply_error(r, 503, "shutting down");
    } else if (!r->route && known) {
        r->route = route_for_path(s, url);
        http_reply_error(r, 405, "method not allowed");
    } else if (!r->route) {
        http_reply_error(r, 404, "not found");
    } else if (r->too_large) {
        char msg[96];
        snprintf(msg, sizeof msg, "body larger than %zu bytes", r->limit);
        http_reply_error(r, 413, msg);
    } else {
        r->route->fn(r->route->ud, r);
    }
    if (r->answered)
        return queue_answer(r);
    if (!r->suspended) {
        LOG_E("http", "handler for %s %s neither answered nor suspended", method, url);
        http_reply_error(r, 500, "internal error");
        return queue_answer(r);
    }
    return MHD_YES;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    http_req *r = *con_cls;
    (void)cls;
    (void)conn;
    (void)toe;
    if (!r)
        return;
    if (r->suspended)
        susp_unlink(r);
    free(r->body);
    free(r->reply);
    free(r);
    *con_cls = NULL;
}

static void arm_timer(http_server *s)
{
    MHD_UNSIGNED_LONG_LONG ms;
    ev_timer_stop(s->loop, &s->timer);
    if (MHD_get_timeout(s->d, &ms) == MHD_YES) {
        ev_timer_set(&s->timer, (double)ms / 1000.0, 0.);
        ev_timer_start(s->loop, &s->timer);
    }
}

static void run_mhd(http_server *s)
{
    if (MHD_run(s->d) != MHD_YES)
        LOG_W("http", "MHD_run failed");
    arm_timer(s);
}

static void on_io(struct ev_loop *loop, ev_io *w, int revents)
{
    (void)loop;
    (void)revents;
    run_mhd(w->data);
}

static void on_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
    (void)loop;
    (void)revents;
    run_mhd(w->data);
}

/* Before the loop sleeps: MHD's timeout may have changed since its last run. */
static void on_prepare(struct ev_loop *loop, ev_prepare *w, int revents)
{
    (void)loop;
    (void)revents;
    arm_timer(w->data);
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    char msg[512];
    (void)cls;
    vsnprintf(msg, sizeof msg, fmt, ap);
    size_t n = strlen(msg);
    while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
        msg[--n] = '\0';
    LOG_D("http", "mhd: %s", msg);
}

http_server *http_start(struct ev_loop *loop, const struct http_opts *o, char *err, size_t errlen)
{
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    unsigned flags = MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
    struct sockaddr_in *v4 = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&ss;
    if (inet_pton(AF_INET, o->host, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons((uint16_t)o->port);
    } else if (inet_pton(AF_INET6, o->host, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons((uint16_t)o->port);
        flags |= MHD_USE_IPv6;
    } else {
        snprintf(err, errlen, "listen address \"%s\" is not numeric", o->host);
        return NULL;
    }
    http_server *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    s->loop = loop;
    s->o = *o;
    if (o->n_allowed_ips && !(s->allowed = calloc(o->n_allowed_ips, sizeof *s->allowed))) {
        snprintf(err, errlen, "out of memory");
        free(s);
        return NULL;
    }
    for (size_t i = 0; i < o->n_allowed_ips; i++) {
        if (addr_parse(o->allowed_ips[i], &s->allowed[s->n_allowed++])) {
            snprintf(err, errlen, "allowed address \"%s\" is not an IP address", o->allowed_ips[i]);
            free(s->allowed);
            free(s);
            return NULL;
        }
    }
    s->d = MHD_start_daemon(flags, (uint16_t)o->port, on_accept, s, on_access, s,
                            MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
                            MHD_OPTION_CONNECTION_LIMIT, o->max_connections,
                            MHD_OPTION_NOTIFY_CONNECTION, on_connection, s,
                            MHD_OPTION_CONNECTION_TIMEOUT, o->timeout_s,
                            MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)64 * 1024,
                            MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
                            MHD_OPTION_EXTERNAL_LOGGER, mhd_log, s,
                            MHD_OPTION_LISTEN_BACKLOG_SIZE, 512u,
                            MHD_OPTION_END);
    if (!s->d) {
        snprintf(err, errlen, "cannot listen on %s port %d (in use, or not an address of this host)",
                 o->host, o->port);
        free(s->allowed);
        free(s);
        return NULL;
    }
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_EPOLL_FD);
    if (!di) {
        snprintf(err, errlen, "libmicrohttpd has no epoll support");
        MHD_stop_daemon(s->d);
        free(s->allowed);
        free(s);
        return NULL;
    }
    ev_io_init(&s->io, on_io, di->epoll_fd, EV_READ);
    s->io.data = s;
    ev_io_start(loop, &s->io);
    ev_init(&s->timer, on_timer);
    s->timer.data = s;
    ev_prepare_init(&s->prep, on_prepare);
    s->prep.data = s;
    ev_prepare_start(loop, &s->prep);
    ev_unref(loop);     /* the prepare watcher alone must not keep the loop alive */
    ev_timer_init(&s->sweep, on_sweep, SWEEP_S, SWEEP_S);
    s->sweep.data = s;
    ev_timer_start(loop, &s->sweep);
    ev_unref(loop);     /* nor the sweep */
    run_mhd(s);
    return s;
}

int http_port(const http_server *s)
{
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
    return di ? di->port : -1;
}

void http_set_draining(http_server *s, int on) { s->draining = on; }
size_t http_pending(const http_server *s) { return s->n_suspended; }

void http_stop(http_server *s)
{
    if (!s)
        return;
    s->draining = 1;
    while (s->suspended)
        http_reply_error(s->suspended, 503, "shutting down");
    /* Let resumed connections send their answers before the daemon goes. */
    for (int i = 0; i < 4; i++)
        MHD_run(s->d);
    ev_io_stop(s->loop, &s->io);
    ev_timer_stop(s->loop, &s->timer);
    ev_ref(s->loop);
    ev_prepare_stop(s->loop, &s->prep);
    ev_ref(s->loop);
    ev_timer_stop(s->loop, &s->sweep);
    MHD_stop_daemon(s->d);
    free(s->allowed);
    free(s);
}
