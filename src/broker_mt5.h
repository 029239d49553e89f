/*
 * broker_mt5 — the MetaTrader 5 bridge behind struct broker (SPEC section 10).
 * MQL5 cannot accept connections, so the terminal's Expert Advisor
 * (scripts/mt5/ZepixBridge.mq5) long-polls POST /mt5/poll. An asynchronous
 * broker (broker.h): submit() queues a request in data/zepix.db
 * (mt5_requests) and wakes the held poll; every answer carries every request
 * still pending (the EA dedupes by request_id) until its result arrives; a
 * result is applied once (the pending -> done state change is the guard) and
 * handed to the engine, with the positions and closed deals of each poll
 * (eng_broker_result, eng_broker_sync) and its quotes (eng_on_quote).
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

struct app;

/* A new MT5 bridge, or NULL with the reason in err. Registers POST /mt5/poll
 * (call before the listener starts). a is borrowed and must outlive the
 * broker. b->ops->destroy(b->self) frees everything, b included. */
struct broker *mt5_new(struct app *a, char *err, size_t errlen);

/* 1 when b is the MT5 bridge, else 0. */
int mt5_is(const struct broker *b);

/* Record a quote (POST /price also feeds it; the terminal's quotes win). */
int mt5_set_quote(struct broker *b, const char *symbol, double bid, double ask);

/* The daemon is stopping: answer a held poll now. */
void mt5_quiesce(struct broker *b);

/* The comment of the order for trade_id of plugin: "zx:<plugin>:<trade id>",
 * or, when that exceeds the 31 characters MT5 keeps, "zx:<plugin prefix>~<4
 * hex digits of the plugin id's hash>:<trade id>". out: >= 32 bytes. */
void mt5_comment(const char *plugin, int64_t trade_id, char *out, size_t len);

/* The shape of a poll body (json-c object): 0, or -1 with the field named in
 * err (arrays that are not arrays, items that are not objects, a time field
 * outside 2000..2100). Pure: no state, no I/O (tests/fuzz/fuzz_mt5_poll.c). */
struct json_object;
int mt5_check_poll(struct json_object *body, char *err, size_t errlen);

/* One plain-text line for /status: terminal online or offline, the account. */
void mt5_describe(const struct broker *b, char *out, size_t len);

#endif
