/*
 * broker_mt5 — the MetaTrader 5 bridge behind struct broker (SPEC section 10).
 * MQL5 cannot accept connections, so the terminal's Expert Advisor
 * (scripts/mt5/ZepixBridge.mq5) long-polls POST /mt5/poll. An asynchronous
 * broker (broker.h): submit() queues a request in data/zepix.db
 * (mt5_requests) and wakes the held poll; every answer carries every request
 * still pending (the EA dedupes by request_id) until its result arrives; a
 * result is applied once (the pending -> done state change is the guard) and
 * handed to the broker sink (broker.h; app.c points it at the engine), with the
 * positions and closed deals of each poll and its quotes.
 *
 * Liveness: no poll for broker.mt5.stale_after_s makes the terminal offline:
 * ready() fails with "terminal offline", the admin chats are told once, and
 * told again when a poll arrives.
 *
 * Never blocks the loop: one held poll at most (a suspended HTTP request), ev
 * timers for the hold and the liveness, short indexed statements on the host
 * database. Loop thread only.
 */
#ifndef ZEPIX_BROKER_MT5_H
#define ZEPIX_BROKER_MT5_H

#include <stddef.h>
#include <stdint.h>
#include "broker.h"

#include <ev.h>
#include <sqlite3.h>
#include "config.h"
#include "http.h"

/* Bytes of one poll: a poll carries every open position and quote, so
 * webhook.max_body_bytes (sized for one alert) would refuse a busy terminal. */
#define MT5_MAX_BODY (1024 * 1024)

/* A new MT5 bridge, or NULL with the reason in err. loop, db (the host
 * database: mt5_requests, mt5_deals, kv) and cfg are borrowed and must outlive
 * the broker; *sink is copied. b->ops->destroy(b->self) frees everything, b
 * included. The owner registers POST /mt5/poll with mt5_on_poll and b->self
 * (limit MT5_MAX_BODY) before the listener starts. */
struct broker *mt5_new(struct ev_loop *loop, sqlite3 *db, const struct config *cfg, const struct broker_sink *sink,
                       char *err, size_t errlen);

/* The handler of POST /mt5/poll; ud is the bridge's b->self. */
void mt5_on_poll(void *ud, http_req *req);

/* 1 when b is the MT5 bridge, else 0. */
int mt5_is(const struct broker *b);

/* The comment of the order for trade_id of plugin: "zx:<plugin>:<trade id>",
 * or, when that exceeds the 31 characters MT5 keeps, "zx:<plugin prefix>~<4
 * hex digits of the plugin id's hash>:<trade id>". out: >= 32 bytes. */
void mt5_comment(const char *plugin, int64_t trade_id, char *out, size_t len);
/* The comment of a working order's requests ("pending", "cancel") and so of
 * the position it fills into: the same with "o<order id>" for the trade id. */
void mt5_order_comment(const char *plugin, int64_t order_id, char *out, size_t len);

/* The shape of a poll body (json-c object): 0, or -1 with the field named in
 * err (arrays that are not arrays, items that are not objects, a time field
 * outside 2000..2100). Pure: no state, no I/O (tests/fuzz/fuzz_mt5_poll.c). */
struct json_object;
int mt5_check_poll(struct json_object *body, char *err, size_t errlen);

#endif
