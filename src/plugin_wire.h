/*
 * plugin_wire — the framed protocol between the controller and a plugin host
 * process (isolation "process"; see plugin_proc.h). Both ends are built from
 * this tree, so numbers travel in host byte order.
 *
 * A frame is { u32 len; u8 type; u8 payload[len] } with len <= WIRE_MAX. A
 * payload is a sequence of fields: u8, i32, u32, i64, f64 (8 bytes each for
 * i64/f64) and strings (u32 length, then the bytes, no NUL). A reader checks
 * every length against what is left; any mismatch is a protocol violation.
 *
 * Controller -> host: W_INIT, the hooks (W_SIGNAL ... W_SHUTDOWN, and W_EVENT
 * for the hooks registered through api->register_hook), W_RESULT
 * (the answer to an API request). Host -> controller: W_INIT_DONE and W_DONE
 * (a hook's answer), W_VERDICT (on_signal_received's), and the API requests
 * W_R_* sent while a hook (or init) runs; each request gets exactly one
 * W_RESULT. Nothing else is ever in flight: the exchange is synchronous.
 */
#ifndef ZEPIX_PLUGIN_WIRE_H
#define ZEPIX_PLUGIN_WIRE_H

#include <stddef.h>
#include <stdint.h>

#define WIRE_MAX 65536u

enum wire_type {
    /* controller -> host */
    W_INIT = 1,         /* str so_path, str id, str data_dir, str config_json */
    W_SIGNAL,           /* signal fields (wire_put_signal) */
    W_ORDER,            /* order fields */
    W_POSITION,         /* position fields, str close_reason */
    W_DAILY,            /* daily fields */
    W_ENABLED,
    W_DISABLED,
    W_SHUTDOWN,
    W_RESULT,           /* i32 rc, str err, then the request's own outputs */
    W_EVENT,            /* u32 event (ZX_EVENT_*), then its payload: ZX_EVENT_DAILY_RESET daily fields */
    /* host -> controller */
    W_INIT_DONE = 32,   /* i32 rc, str err, str name, str version, str author, u32 hooks,
                         * u32 events (bit e: a hook registered for ZX_EVENT e) */
    W_DONE,             /* a void hook returned */
    W_VERDICT,          /* i32 verdict, f64 lot, sl, tp, lot_multiplier, str reason */
    W_R_PLACE = 64,     /* i32 side, str symbol, f64 lot, sl, tp, u8 has_comment, str comment */
    W_R_CLOSE,          /* i64 trade_id, f64 lot */
    W_R_MODIFY,         /* i64 trade_id, f64 sl, f64 tp */
    W_R_OPEN_TRADES,    /* i32 max */
    W_R_QUOTE,          /* str symbol */
    W_R_NOTIFY,         /* str text */
    W_R_LOG,            /* i32 level, str text (no answer: a log line never waits) */
    W_R_NOW,
    W_R_ACCOUNT,
    W_R_SYMBOL_INFO,    /* str symbol */
};

/* Hook bits of W_INIT_DONE: which hooks the plugin defines. */
enum { WH_SIGNAL = 1, WH_ORDER = 2, WH_POSITION = 4, WH_DAILY = 8, WH_ENABLED = 16,
       WH_DISABLED = 32, WH_SHUTDOWN = 64 };

/* A frame being built: b holds the 5-byte header, then the payload, so that a
 * frame leaves in one send() (one wakeup of the peer, not two). */
struct wbuf {
    uint8_t b[5 + WIRE_MAX];
    size_t n;           /* bytes used in b, header included */
    int over;           /* something did not fit */
};

struct rbuf {
    const uint8_t *p;
    size_t n, off;
    int bad;            /* a read ran past the end */
};

void wb_reset(struct wbuf *w);
void wb_u8(struct wbuf *w, uint8_t v);
void wb_i32(struct wbuf *w, int32_t v);
void wb_u32(struct wbuf *w, uint32_t v);
void wb_i64(struct wbuf *w, int64_t v);
void wb_f64(struct wbuf *w, double v);
void wb_str(struct wbuf *w, const char *s);     /* NULL is sent as "" */

void rb_init(struct rbuf *r, const void *p, size_t n);
uint8_t rb_u8(struct rbuf *r);
int32_t rb_i32(struct rbuf *r);
uint32_t rb_u32(struct rbuf *r);
int64_t rb_i64(struct rbuf *r);
double rb_f64(struct rbuf *r);
/* Copy a string into dst (truncated to dstlen - 1, NUL-terminated). */
void rb_str(struct rbuf *r, char *dst, size_t dstlen);

/* Send w as one frame of type (writes its header; MSG_NOSIGNAL: a dead peer
 * is an error, never SIGPIPE). 0, or -1 (peer gone, or w->over). */
int wire_send(int fd, uint8_t type, struct wbuf *w);

/* Receive one frame into buf (WIRE_MAX bytes). deadline: CLOCK_MONOTONIC
 * milliseconds, or < 0 to wait forever. Returns WR_OK with *type and *len set,
 * or one of the failures. */
enum { WR_OK = 0, WR_EOF = -1, WR_TIMEOUT = -2, WR_TOOBIG = -3 };
int wire_recv(int fd, int64_t deadline, uint8_t *type, uint8_t *buf, size_t *len);

int64_t wire_mono_ms(void);

/* The ABI structs on the wire. Strings a get fills point into the given buffers. */
#include "zepix_plugin.h"
void wire_put_signal(struct wbuf *w, const zx_signal *s);
void wire_get_signal(struct rbuf *r, zx_signal *s, char *source, size_t slen, char *comment, size_t clen);
void wire_put_order(struct wbuf *w, const zx_order *o);
void wire_get_order(struct rbuf *r, zx_order *o);
void wire_put_position(struct wbuf *w, const zx_position *p);
void wire_get_position(struct rbuf *r, zx_position *p, char *reason, size_t rlen);
void wire_put_daily(struct wbuf *w, const zx_daily *d);
void wire_get_daily(struct rbuf *r, zx_daily *d);

#endif
