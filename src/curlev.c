/*
 * curlev — see curlev.h.
 */
#include "curlev.h"
#include "log.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct cev {
    struct ev_loop *loop;
    CURLM *multi;
    ev_timer timer;
    int still_running;
    size_t active;
    struct xfer *xfers;         /* in flight, for cev_free */
};

struct xfer {
    cev *c;
    CURL *easy;
    curl_mime *mime;
    struct curl_slist *headers;
    char *req_body;
    char *buf;
    size_t len, cap, max;
    int overflow;
    char errbuf[CURL_ERROR_SIZE];
    cev_done_fn fn;
    void *ud;
    struct xfer *next, *prev;
};

struct sockw {                  /* one per socket curl asks us to watch */
    ev_io io;
    cev *c;
    curl_socket_t fd;
};

static void finish(struct xfer *x, CURLcode code, int cancelled)
{
    struct cev_result r;
    long status = 0;
    double total = 0;
    curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_getinfo(x->easy, CURLINFO_TOTAL_TIME, &total);
    if (x->overflow && code == CURLE_OK)
        code = CURLE_WRITE_ERROR;
    memset(&r, 0, sizeof r);
    r.curl_code = (int)code;
    r.status = code == CURLE_OK ? status : 0;
    r.body = x->buf ? x->buf : "";
    r.body_len = x->len;
    r.error = code == CURLE_OK ? ""
              : x->overflow ? "response too large"
              : x->errbuf[0] ? x->errbuf : curl_easy_strerror(code);
    r.cancelled = cancelled;
    r.total_ms = total * 1000.0;
    curl_multi_remove_handle(x->c->multi, x->easy);
    x->c->active--;
    if (x->prev)
        x->prev->next = x->next;
    else
        x->c->xfers = x->next;
    if (x->next)
        x->next->prev = x->prev;
    x->fn(x->ud, &r);
    curl_easy_cleanup(x->easy);
    curl_mime_free(x->mime);
    curl_slist_free_all(x->headers);
    free(x->req_body);
    free(x->buf);
    free(x);
}

static void check_done(cev *c)
{
    CURLMsg *m;
    int left;
    while ((m = curl_multi_info_read(c->multi, &left))) {
        if (m->msg != CURLMSG_DONE)
            continue;
        struct xfer *x = NULL;
        curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&x);
        finish(x, m->data.result, 0);
    }
}

static void on_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
    cev *c = w->data;
    (void)loop;
    (void)revents;
    curl_multi_socket_action(c->multi, CURL_SOCKET_TIMEOUT, 0, &c->still_running);
    check_done(c);
}

static void on_sock(struct ev_loop *loop, ev_io *w, int revents)
{
    struct sockw *sw = (struct sockw *)w;
    cev *c = sw->c;
    (void)loop;
    int action = (revents & EV_READ ? CURL_CSELECT_IN : 0) | (revents & EV_WRITE ? CURL_CSELECT_OUT : 0);
    curl_multi_socket_action(c->multi, sw->fd, action, &c->still_running);
    /* The timer is curl's to arm and disarm (timer_cb): a completion callback
     * may already have started the next transfer. */
    check_done(c);
}

static int sock_cb(CURL *e, curl_socket_t s, int what, void *cbp, void *sockp)
{
    cev *c = cbp;
    struct sockw *sw = sockp;
    (void)e;
    if (what == CURL_POLL_REMOVE) {
        if (sw) {
            ev_io_stop(c->loop, &sw->io);
            free(sw);
            curl_multi_assign(c->multi, s, NULL);
        }
        return 0;
    }
    int kind = (what & CURL_POLL_IN ? EV_READ : 0) | (what & CURL_POLL_OUT ? EV_WRITE : 0);
    if (!sw) {
        sw = calloc(1, sizeof *sw);
        if (!sw)
            return -1;
        sw->c = c;
        sw->fd = s;
        curl_multi_assign(c->multi, s, sw);
    } else {
        ev_io_stop(c->loop, &sw->io);
    }
    ev_io_init(&sw->io, on_sock, s, kind);
    ev_io_start(c->loop, &sw->io);
    return 0;
}

static int timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
    cev *c = userp;
    (void)multi;
    ev_timer_stop(c->loop, &c->timer);
    if (timeout_ms >= 0) {
        /* 0 means "as soon as possible": still go through the loop, never recurse. */
        ev_timer_set(&c->timer, (double)timeout_ms / 1000.0, 0.);
        ev_timer_start(c->loop, &c->timer);
    }
    return 0;
}

static size_t write_cb(char *ptr, size_t size, size_t nmemb, void *ud)
{
    struct xfer *x = ud;
    size_t n = size * nmemb;
    if (x->overflow || x->len + n > x->max) {
        x->overflow = 1;
        return 0;   /* aborts the transfer with CURLE_WRITE_ERROR */
    }
    if (x->len + n + 1 > x->cap) {
        size_t cap = x->cap ? x->cap : 4096;
        while (cap < x->len + n + 1)
            cap *= 2;
        char *nb = realloc(x->buf, cap);
        if (!nb)
            return 0;
        x->buf = nb;
        x->cap = cap;
    }
    memcpy(x->buf + x->len, ptr, n);
    x->len += n;
    x->buf[x->len] = '\0';
    return n;
}

cev *cev_new(struct ev_loop *loop, char *err, size_t errlen)
{
    static int global_done;
    if (!global_done) {
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
            snprintf(err, errlen, "curl_global_init failed");
            return NULL;
        }
        global_done = 1;
    }
    cev *c = calloc(1, sizeof *c);
    if (!c || !(c->multi = curl_multi_init())) {
        snprintf(err, errlen, "cannot create a curl multi handle");
        free(c);
        return NULL;
    }
    c->loop = loop;
    ev_init(&c->timer, on_timer);
    c->timer.data = c;
    curl_multi_setopt(c->multi, CURLMOPT_SOCKETFUNCTION, sock_cb);
    curl_multi_setopt(c->multi, CURLMOPT_SOCKETDATA, c);
    curl_multi_setopt(c->multi, CURLMOPT_TIMERFUNCTION, timer_cb);
    curl_multi_setopt(c->multi, CURLMOPT_TIMERDATA, c);
    return c;
}

int cev_start(cev *c, const struct cev_request *req, cev_done_fn fn, void *ud, char *err, size_t errlen)
{
    struct xfer *x = calloc(1, sizeof *x);
    if (!x || !(x->easy = curl_easy_init())) {
        snprintf(err, errlen, "out of memory");
        free(x);
        return -1;
    }
    x->c = c;
    x->fn = fn;
    x->ud = ud;
    x->max = req->max_response > 0 ? (size_t)req->max_response : 4u << 20;
    CURL *e = x->easy;
    curl_easy_setopt(e, CURLOPT_URL, req->url);
    curl_easy_setopt(e, CURLOPT_PRIVATE, (char *)x);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, x->errbuf);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, write_cb);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, x);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, req->timeout_ms > 0 ? req->timeout_ms : 30000L);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_USERAGENT, "zepix/0.1");
    curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
    if (req->n_parts) {
        x->mime = curl_mime_init(e);
        for (size_t i = 0; i < req->n_parts; i++) {
            const struct cev_part *p = &req->parts[i];
            curl_mimepart *mp = curl_mime_addpart(x->mime);
            curl_mime_name(mp, p->name);
            curl_mime_data(mp, p->data, p->len);
            if (p->filename)
                curl_mime_filename(mp, p->filename);
            if (p->type)
                curl_mime_type(mp, p->type);
        }
        curl_easy_setopt(e, CURLOPT_MIMEPOST, x->mime);
    } else if (req->body || strcmp(req->method, "POST") == 0) {
        char ct[128];
        x->req_body = malloc(req->body_len + 1);
        if (!x->req_body)
            goto fail;
        if (req->body_len)
            memcpy(x->req_body, req->body, req->body_len);
        x->req_body[req->body_len] = '\0';
        snprintf(ct, sizeof ct, "Content-Type: %s",
                 req->content_type ? req->content_type : "application/json");
        x->headers = curl_slist_append(NULL, ct);
        x->headers = curl_slist_append(x->headers, "Expect:");
        curl_easy_setopt(e, CURLOPT_HTTPHEADER, x->headers);
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, x->req_body);
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
    }
    if (curl_multi_add_handle(c->multi, e) != CURLM_OK)
        goto fail;
    c->active++;
    x->next = c->xfers;
    if (c->xfers)
        c->xfers->prev = x;
    c->xfers = x;
    return 0;
fail:
    snprintf(err, errlen, "cannot start the request");
    curl_easy_cleanup(e);
    curl_mime_free(x->mime);
    curl_slist_free_all(x->headers);
    free(x->req_body);
    free(x);
    return -1;
}

size_t cev_active(const cev *c) { return c->active; }

void cev_free(cev *c)
{
    if (!c)
        return;
    while (c->xfers)
        finish(c->xfers, CURLE_ABORTED_BY_CALLBACK, 1);
    ev_timer_stop(c->loop, &c->timer);
    curl_multi_cleanup(c->multi);
    free(c);
}
