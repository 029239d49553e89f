/*
 * curlev — libcurl's multi socket interface driven by the libev loop (the
 * pattern of curl's docs/examples/evhiperfifo.c): CURLMOPT_SOCKETFUNCTION keeps
 * one ev_io per socket, CURLMOPT_TIMERFUNCTION one ev_timer, both feed
 * curl_multi_socket_action, finished transfers are collected with
 * curl_multi_info_read and handed to their completion callback.
 *
 * A small async request API for the Telegram client and the MT5 bridge. Never
 * blocks the loop: name resolution runs in curl's resolver, I/O is non-blocking.
 */
#ifndef ZEPIX_CURLEV_H
#define ZEPIX_CURLEV_H

#include <stddef.h>
#include <ev.h>

typedef struct cev cev;

struct cev_result {
    int curl_code;              /* CURLcode; 0 = a response arrived */
    long status;                /* HTTP status, 0 when none */
    const char *body;           /* NUL-terminated; valid only during the callback */
    size_t body_len;
    const char *error;          /* readable reason when curl_code != 0 ("" otherwise) */
    int cancelled;              /* 1 when cev_free() aborted the transfer */
    double total_ms;
};

typedef void (*cev_done_fn)(void *ud, const struct cev_result *res);

struct cev_part {               /* one multipart/form-data field */
    const char *name;
    const char *data;           /* copied */
    size_t len;
    const char *filename;       /* non-NULL: sent as a file part */
    const char *type;           /* content type, may be NULL */
};

struct cev_request {
    const char *method;         /* "GET" or "POST" */
    const char *url;            /* copied; may contain a secret: never logged as is */
    const char *content_type;   /* for body; default application/json */
    const char *body;           /* copied; NULL = none */
    size_t body_len;
    const struct cev_part *parts;   /* multipart body instead of body (n_parts > 0) */
    size_t n_parts;
    long timeout_ms;            /* whole transfer; 0 = 30000 */
    long max_response;          /* bytes; 0 = 4 MiB; larger answers fail */
};

cev *cev_new(struct ev_loop *loop, char *err, size_t errlen);
/* Abort every transfer (callbacks run with cancelled = 1), then free. */
void cev_free(cev *c);

/* Start a transfer; fn(ud, result) runs exactly once, later, on the loop thread
 * (never from inside cev_start). Returns 0, or -1 with err (fn is not called). */
int cev_start(cev *c, const struct cev_request *req, cev_done_fn fn, void *ud,
              char *err, size_t errlen);

size_t cev_active(const cev *c);

#endif
