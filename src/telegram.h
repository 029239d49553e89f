/*
 * telegram — a Telegram Bot API client on curlev: getUpdates long polling (one
 * request in flight at a time), and a rate-limited send queue for sendMessage,
 * sendPhoto, editMessageText, answerCallbackQuery and setMyCommands.
 *
 * Never blocks the loop: every call is an asynchronous curlev transfer, every
 * wait is an ev_timer. At start it asks getMe who the bot is (tg_ready_fn) and
 * only then polls. Survives network errors, 5xx and garbage answers with
 * exponential backoff, honours 429 retry_after, and backs off when the token is
 * rejected (401); no wait is ever longer than TG_WAIT_CAP, and each is logged.
 *
 * Delivery rules: each queued call fails alone. A transient failure (network,
 * 5xx, garbage, 429) backs off that one call (1 s doubling, or retry_after);
 * the other chats and the later messages of the same chat keep going. After
 * TG_SEND_TRIES tries (TG_MINOR_TRIES for answerCallbackQuery and
 * setMyCommands), or at once on a 4xx other than 429, the call is given up with
 * a log line; a photo given up is sent as a text message of its caption.
 * getUpdates answered empty is repeated at most every TG_POLL_FLOOR seconds.
 *
 * The token is part of every URL (api_base + "/bot" + token + "/" + method):
 * no URL and no token is ever logged by this module.
 *
 * The HTML helpers it cuts messages with (tg_split, tg_html_to_plain) are
 * tg_html.h's.
 */
#ifndef ZEPIX_TELEGRAM_H
#define ZEPIX_TELEGRAM_H

#include <stddef.h>
#include <stdint.h>
#include <ev.h>
#include <json-c/json.h>
#include "curlev.h"

struct sbuf;
struct tg_client;

#define TG_QUEUE_MAX 1000       /* queued calls; beyond that new sends are dropped (logged) */
#define TG_WAIT_CAP 60.0        /* seconds: the longest wait of any kind (retry_after, backoff) */
#define TG_SEND_TRIES 4         /* tries of a message before it is given up */
#define TG_MINOR_TRIES 3        /* tries of answerCallbackQuery, setMyCommands */
#define TG_POLL_FLOOR 0.3       /* seconds between two getUpdates when the last came back empty */

/* Called for each update, in update_id order, after the client advanced its
 * in-memory offset; the handler persists update_id + 1 when it is done. The
 * update object is borrowed (valid during the call). */
typedef void (*tg_update_fn)(void *ud, int64_t update_id, json_object *update);
/* Called once per queued call when it is done: ok = 1 delivered, 0 dropped. */
typedef void (*tg_sent_fn)(void *ud, const char *method, int ok);
/* Called once getMe answered: the bot's id and username (borrowed). Returns the
 * offset to poll from (last handled update_id + 1 of this bot, 0 = none). */
typedef int64_t (*tg_ready_fn)(void *ud, int64_t bot_id, const char *username);
/* Called when the server answered with an update below the offset it was sent:
 * it no longer knows that offset (its update ids restarted). The update and
 * those after it are then handled as new. */
typedef void (*tg_restart_fn)(void *ud, int64_t offset_sent, int64_t update_id);

struct tg_opts {
    const char *api_base;       /* "https://api.telegram.org" */
    const char *token;
    int poll_timeout_s;         /* getUpdates timeout; the transfer gets 15 s more */
    int64_t offset;             /* first offset when on_ready is NULL, 0 = none */
    tg_update_fn on_update;
    tg_sent_fn on_sent;         /* may be NULL */
    tg_ready_fn on_ready;       /* may be NULL: then no getMe, polling starts at once */
    tg_restart_fn on_restart;   /* may be NULL */
    void *ud;
};

/* A client bound to loop and the curl glue c (both outlive it). NULL with err. */
struct tg_client *tg_new(struct ev_loop *loop, cev *c, const struct tg_opts *o, char *err, size_t errlen);
/* getMe (when on_ready is set), then long polling; sends start at once. */
void tg_start(struct tg_client *tg);
/* Stop polling: no new getUpdates, and the answer of one in flight is ignored
 * (its updates stay unconfirmed and come again after a restart). Queued sends
 * keep going while the loop runs. */
void tg_stop(struct tg_client *tg);
/* Free everything; transfers still in flight are orphaned and ignored when
 * curlev completes or cancels them. */
void tg_free(struct tg_client *tg);

/* Queue html (Telegram HTML; split into chunks of at most TG_CHUNK_MAX bytes)
 * for chat_id; markup (reply_markup JSON, may be NULL or "") goes with the last
 * chunk. 0, or -1 when nothing could be queued (logged). */
int tg_send(struct tg_client *tg, int64_t chat_id, const char *html, const char *markup);
/* sendPhoto (multipart/form-data through libcurl's mime API): len bytes of
 * PNG (copied) to chat_id with caption_html (Telegram HTML; a caption over
 * TG_CAPTION_MAX characters of visible text goes as plain text, cut to fit).
 * Queued and rate-limited like messages. 0, or -1 when nothing was queued. */
#define TG_CAPTION_MAX 1024
int tg_send_photo(struct tg_client *tg, int64_t chat_id, const void *png, size_t len, const char *caption_html);
/* sendDocument, the same way: len bytes (copied) sent as the file filename
 * (text/csv), with a short caption (Telegram HTML, well under 1024 characters). */
int tg_send_document(struct tg_client *tg, int64_t chat_id, const void *data, size_t len, const char *filename,
                     const char *caption_html);
/* editMessageText of one of our messages (text at most TG_CHUNK_MAX bytes). */
int tg_edit(struct tg_client *tg, int64_t chat_id, int64_t message_id, const char *html, const char *markup);
/* answerCallbackQuery; text may be NULL (just stops the button's spinner). */
int tg_answer_callback(struct tg_client *tg, const char *query_id, const char *text);
/* setMyCommands; commands is a JSON array of {command, description}, taken. */
int tg_set_commands(struct tg_client *tg, json_object *commands);

/* Calls queued or in flight (for tests and /metrics). */
size_t tg_queue_len(const struct tg_client *tg);

#endif
