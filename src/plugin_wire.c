/*
 * plugin_wire — see plugin_wire.h.
 */
#include "plugin_wire.h"
#include "sbuf.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

int64_t wire_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void wb_reset(struct wbuf *w)
{
    w->n = 5;
    w->over = 0;
}

static void put(struct wbuf *w, const void *p, size_t n)
{
    if (w->over || n > sizeof w->b - w->n) {
        w->over = 1;
        return;
    }
    memcpy(w->b + w->n, p, n);
    w->n += n;
}

void wb_u8(struct wbuf *w, uint8_t v) { put(w, &v, sizeof v); }
void wb_i32(struct wbuf *w, int32_t v) { put(w, &v, sizeof v); }
void wb_u32(struct wbuf *w, uint32_t v) { put(w, &v, sizeof v); }
void wb_i64(struct wbuf *w, int64_t v) { put(w, &v, sizeof v); }
void wb_f64(struct wbuf *w, double v) { put(w, &v, sizeof v); }

void wb_str(struct wbuf *w, const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n > WIRE_MAX) {
        w->over = 1;
        return;
    }
    wb_u32(w, (uint32_t)n);
    put(w, s ? s : "", n);
}

void rb_init(struct rbuf *r, const void *p, size_t n)
{
    r->p = p;
    r->n = n;
    r->off = 0;
    r->bad = 0;
}

static int take(struct rbuf *r, void *dst, size_t n)
{
    if (r->bad || n > r->n - r->off) {
        r->bad = 1;
        memset(dst, 0, n);
        return -1;
    }
    memcpy(dst, r->p + r->off, n);
    r->off += n;
    return 0;
}

uint8_t rb_u8(struct rbuf *r) { uint8_t v; take(r, &v, sizeof v); return v; }
int32_t rb_i32(struct rbuf *r) { int32_t v; take(r, &v, sizeof v); return v; }
uint32_t rb_u32(struct rbuf *r) { uint32_t v; take(r, &v, sizeof v); return v; }
int64_t rb_i64(struct rbuf *r) { int64_t v; take(r, &v, sizeof v); return v; }
double rb_f64(struct rbuf *r) { double v; take(r, &v, sizeof v); return v; }

void rb_str(struct rbuf *r, char *dst, size_t dstlen)
{
    uint32_t n = rb_u32(r);
    if (dstlen)
        dst[0] = '\0';
    if (r->bad || n > r->n - r->off) {
        r->bad = 1;
        return;
    }
    if (dstlen) {
        size_t c = n < dstlen - 1 ? n : dstlen - 1;
        memcpy(dst, r->p + r->off, c);
        dst[c] = '\0';
        for (size_t i = 0; i < c; i++)     /* a string stops at its first NUL */
            if (!dst[i])
                break;
        dst[sbuf_utf8_complete(dst, strlen(dst))] = '\0';  /* a cut is never inside a character */
    }
    r->off += n;
}

static int send_all(int fd, const void *p, size_t n)
{
    const uint8_t *b = p;
    while (n) {
        ssize_t k = send(fd, b, n, MSG_NOSIGNAL);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return -1;
        b += k;
        n -= (size_t)k;
    }
    return 0;
}

int wire_send(int fd, uint8_t type, struct wbuf *w)
{
    uint32_t len;
    if (w->over || w->n < 5)
        return -1;
    len = (uint32_t)(w->n - 5);
    memcpy(w->b, &len, 4);
    w->b[4] = type;
    return send_all(fd, w->b, w->n);
}

/* A waiter with a deadline (the controller, which blocks the loop for the
 * hook anyway) retries a non-blocking recv this many times, some tens of
 * microseconds, before it sleeps in poll(): a quick answer then costs one
 * wakeup (the child's) instead of two. Measured on the development machine:
 * p99 of a signal hook round trip about 35 us with 400, 65-85 us with none. */
#ifndef WIRE_SPINS
#define WIRE_SPINS 400
#endif

/* Read exactly n bytes before the deadline. Data already there is read without
 * a poll() first: the payload usually arrives with its header. */
static int recv_all(int fd, int64_t deadline, uint8_t *p, size_t n)
{
    int spins = deadline >= 0 ? WIRE_SPINS : 0;
    while (n) {
        ssize_t k = recv(fd, p, n, MSG_DONTWAIT);
        if (k > 0) {
            p += k;
            n -= (size_t)k;
            continue;
        }
        if (k == 0)
            return WR_EOF;
        if (errno == EINTR)
            continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK)
            return WR_EOF;
        if (spins > 0) {        /* the answer is often microseconds away: no sleep yet */
            spins--;
            continue;
        }
        int wait = -1;
        if (deadline >= 0) {
            int64_t left = deadline - wire_mono_ms();
            if (left <= 0)
                return WR_TIMEOUT;
            wait = left > 1000000 ? 1000000 : (int)left;
        }
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        if (poll(&pfd, 1, wait) < 0 && errno != EINTR)
            return WR_EOF;
    }
    return WR_OK;
}

int wire_recv(int fd, int64_t deadline, uint8_t *type, uint8_t *buf, size_t *len)
{
    uint8_t hdr[5];
    uint32_t n;
    int rc = recv_all(fd, deadline, hdr, sizeof hdr);
    if (rc)
        return rc;
    memcpy(&n, hdr, 4);
    if (n > WIRE_MAX)
        return WR_TOOBIG;
    *type = hdr[4];
    *len = n;
    return n ? recv_all(fd, deadline, buf, n) : WR_OK;
}

void wire_put_signal(struct wbuf *w, const zx_signal *s)
{
    wb_i64(w, s->id);
    wb_str(w, s->source);
    wb_i32(w, (int32_t)s->action);
    wb_str(w, s->symbol);
    wb_f64(w, s->price);
    wb_f64(w, s->sl);
    wb_f64(w, s->tp);
    wb_f64(w, s->lot);
    wb_f64(w, s->lot_multiplier);
    wb_str(w, s->comment);
}

void wire_get_signal(struct rbuf *r, zx_signal *s, char *source, size_t slen, char *comment, size_t clen)
{
    memset(s, 0, sizeof *s);
    s->id = rb_i64(r);
    rb_str(r, source, slen);
    s->source = source;
    s->action = (zx_action)rb_i32(r);
    rb_str(r, s->symbol, sizeof s->symbol);
    s->price = rb_f64(r);
    s->sl = rb_f64(r);
    s->tp = rb_f64(r);
    s->lot = rb_f64(r);
    s->lot_multiplier = rb_f64(r);
    rb_str(r, comment, clen);
    s->comment = comment;
}

void wire_put_order(struct wbuf *w, const zx_order *o)
{
    wb_i64(w, o->trade_id);
    wb_i64(w, o->order_id);
    wb_i64(w, o->signal_id);
    wb_i32(w, (int32_t)o->side);
    wb_str(w, o->symbol);
    wb_f64(w, o->lot);
    wb_f64(w, o->price);
    wb_f64(w, o->sl);
    wb_f64(w, o->tp);
    wb_i64(w, o->time_ms);
}

void wire_get_order(struct rbuf *r, zx_order *o)
{
    memset(o, 0, sizeof *o);
    o->trade_id = rb_i64(r);
    o->order_id = rb_i64(r);
    o->signal_id = rb_i64(r);
    o->side = (zx_action)rb_i32(r);
    rb_str(r, o->symbol, sizeof o->symbol);
    o->lot = rb_f64(r);
    o->price = rb_f64(r);
    o->sl = rb_f64(r);
    o->tp = rb_f64(r);
    o->time_ms = rb_i64(r);
}

void wire_put_position(struct wbuf *w, const zx_position *p)
{
    wb_i64(w, p->trade_id);
    wb_i64(w, p->order_id);
    wb_i32(w, (int32_t)p->side);
    wb_str(w, p->symbol);
    wb_f64(w, p->lot);
    wb_f64(w, p->entry_price);
    wb_f64(w, p->sl);
    wb_f64(w, p->tp);
    wb_f64(w, p->current_price);
    wb_f64(w, p->profit_pips);
    wb_f64(w, p->profit_money);
    wb_i64(w, p->open_time_ms);
    wb_i32(w, p->closed);
    wb_str(w, p->close_reason);
}

void wire_get_position(struct rbuf *r, zx_position *p, char *reason, size_t rlen)
{
    memset(p, 0, sizeof *p);
    p->trade_id = rb_i64(r);
    p->order_id = rb_i64(r);
    p->side = (zx_action)rb_i32(r);
    rb_str(r, p->symbol, sizeof p->symbol);
    p->lot = rb_f64(r);
    p->entry_price = rb_f64(r);
    p->sl = rb_f64(r);
    p->tp = rb_f64(r);
    p->current_price = rb_f64(r);
    p->profit_pips = rb_f64(r);
    p->profit_money = rb_f64(r);
    p->open_time_ms = rb_i64(r);
    p->closed = rb_i32(r);
    rb_str(r, reason, rlen);
    p->close_reason = reason;
}

void wire_put_daily(struct wbuf *w, const zx_daily *d)
{
    wb_str(w, d->date);
    wb_i32(w, d->total_trades);
    wb_i32(w, d->win_count);
    wb_i32(w, d->loss_count);
    wb_f64(w, d->win_rate);
    wb_f64(w, d->total_profit);
    wb_f64(w, d->max_drawdown);
}

void wire_get_daily(struct rbuf *r, zx_daily *d)
{
    memset(d, 0, sizeof *d);
    rb_str(r, d->date, sizeof d->date);
    d->total_trades = rb_i32(r);
    d->win_count = rb_i32(r);
    d->loss_count = rb_i32(r);
    d->win_rate = rb_f64(r);
    d->total_profit = rb_f64(r);
    d->max_drawdown = rb_f64(r);
}
