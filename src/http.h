/*
 * http — the HTTP listener: libmicrohttpd with no thread of its own, driven by
 * the libev loop through MHD's epoll fd (an ev_io) and MHD_get_timeout (an
 * ev_timer). Owns admission at accept (allowed addresses, per-address limit and
 * fair share), the whole-request deadline, refusal of ambiguous framing, the
 * body limit (413), route lookup (404/405) and JSON error answers.
 *
 * Routes come from one table given at start; a handler answers with http_reply()
 * before it returns, or calls http_suspend() and answers later from the loop
 * (group commit, long polls). A request is owned by the listener: the handler
 * may keep the pointer only while it is suspended, until its http_reply().
 * Never blocks the loop.
 */
#ifndef ZEPIX_HTTP_H
#define ZEPIX_HTTP_H

#include <stddef.h>
#include <ev.h>

typedef struct http_server http_server;
typedef struct http_req http_req;

typedef void (*http_handler)(void *ud, http_req *req);

struct http_route {
    const char *method;         /* "GET", "POST" */
    const char *path;           /* exact match */
    http_handler fn;
    void *ud;
    size_t max_body;            /* bytes; 0 = the server's max_body */
};

struct http_opts {
    const char *host;           /* numeric IPv4/IPv6 address */
    int port;                   /* 0 = any free port (see http_port) */
    size_t max_body;            /* bytes; larger bodies get 413 */
    unsigned max_connections;
    unsigned per_ip_connections;   /* and never more than the slots still free */
    unsigned timeout_s;         /* a request must arrive whole (and an answer be taken) within it */
    const char *const *allowed_ips;    /* numeric addresses; others are closed at accept */
    size_t n_allowed_ips;              /* 0: any address */
    const struct http_route *routes;   /* borrowed; must outlive the server */
    size_t n_routes;
};

http_server *http_start(struct ev_loop *loop, const struct http_opts *o, char *err, size_t errlen);
/* Answer every suspended request with 503 and stop; frees the server. */
void http_stop(http_server *s);
int http_port(const http_server *s);
/* While draining, new requests get 503 {"ok":false,"error":"shutting down"}. */
void http_set_draining(http_server *s, int on);
/* Requests suspended and not yet answered. */
size_t http_pending(const http_server *s);

const char *http_req_method(const http_req *r);
const char *http_req_path(const http_req *r);
const char *http_req_body(const http_req *r, size_t *len);   /* NUL-terminated */
const char *http_req_header(const http_req *r, const char *name);   /* NULL if absent */
const char *http_req_ip(const http_req *r);                  /* peer address text */
/* A query-string argument ("?plugin=x"), decoded; NULL if absent, "" if empty. */
const char *http_req_query(const http_req *r, const char *name);
/* Call fn for each query-string argument (value NULL for "?flag"); stops and
 * returns 1 when fn returns non-zero, else 0. */
int http_req_query_each(const http_req *r, int (*fn)(void *ud, const char *name, const char *value), void *ud);
double http_req_age_ms(const http_req *r);                   /* since the request arrived */

/* Answer (copies body). Valid once per request, from the handler or later for a
 * suspended request. */
void http_reply(http_req *r, int status, const char *content_type, const char *body, size_t len);
void http_reply_json(http_req *r, int status, const char *json);
/* {"ok":false,"error":"<msg>"} with msg JSON-escaped. */
void http_reply_error(http_req *r, int status, const char *msg);
/* Keep the request open; answer later with http_reply (from the loop thread). */
void http_suspend(http_req *r);

#endif
