/*
 * telegram — see telegram.h. The client owns: the poll (exactly one getUpdates
 * in flight, or a timer waiting to send the next), the send queue (a FIFO of
 * Bot API calls, started by one pump timer under the rate limits) and the
 * per-call contexts handed to curlev.
 *
 * Rate limits (core.telegram.org/bots/faq): at most one message per second per
 * chat and 30 per second overall. Messages of one chat leave in order, one at a
 * time; calls without a chat (answerCallbackQuery, setMyCommands) only count
 * against the overall limit.
 *
 * Never blocks: all I/O goes through curlev, all waiting through ev_timers.
 * Never logs a URL or the token.
 */
#include "telegram.h"
#include "tg_html.h"
#include "log.h"
#include "sbuf.h"

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BACKOFF_MIN 1.0         /* seconds */
#define BACKOFF_MAX 30.0        /* getUpdates and getMe */
#define AUTH_BACKOFF TG_WAIT_CAP /* after a 401: the token will not fix itself soon */
#define CHAT_INTERVAL 1.0       /* seconds between two messages to one chat */
#define GLOBAL_PER_SEC 30
#define SEND_TIMEOUT_MS 30000L

struct tg_msg {                 /* one queued Bot API call */
    struct tg_msg *next;
    char method[24];
    int64_t chat_id;            /* per-chat limit and order when != 0 */
    json_object *params;        /* owned */
    int in_flight;
    int plain_done;             /* resent once as plain text already */
    int tries;                  /* failed tries so far */
    double not_before;          /* ev_now() before which this call is not retried */
    void *photo;                /* sendPhoto: the PNG, owned; params become form fields */
    size_t photo_len;
    char filename[64];          /* sendDocument: photo is the document, sent as this file */
};

struct tg_call {                /* curlev's ud; outlives the client when orphaned */
    struct tg_client *tg;       /* NULL once tg_free() orphaned it */
    struct tg_msg *msg;         /* NULL for getUpdates and getMe */
    int getme;
    struct tg_call *next, *prev;
};

struct tg_chat {
    int64_t id;
    double next_ok;             /* ev_now() before which nothing goes to this chat */
    unsigned pass;              /* pump pass that saw this chat's first message */
};

struct tg_client {
    struct ev_loop *loop;
    cev *curl;
    char *url_prefix;           /* api_base + "/bot" + token + "/": a secret */
    int poll_timeout_s;
    int64_t offset;
    int64_t poll_offset;        /* the offset the getUpdates in flight was sent */
    double poll_started;        /* ev_now() when it was started */
    tg_update_fn on_update;
    tg_sent_fn on_sent;
    tg_ready_fn on_ready;
    tg_restart_fn on_restart;
    void *ud;
    int started, stopped, poll_in_flight, ready;
    double poll_backoff;
    ev_timer poll_timer, pump_timer;
    struct tg_msg *head;
    size_t qlen;
    struct tg_chat *chats;
    size_t n_chats;
    double sent_at[GLOBAL_PER_SEC];     /* ring of the last send start times */
    size_t sent_i;                      /* the oldest entry */
    double send_pause_until;
    unsigned pass;
    struct tg_call *calls;
};

/* ---- answers ---------------------------------------------------------------- */

enum answer_kind { A_OK, A_RETRY, A_RATE, A_AUTH, A_BAD, A_DROP };

struct answer {
    enum answer_kind kind;
    json_object *root;          /* owned */
    json_object *result;        /* borrowed from root */
    int retry_after;            /* seconds, from parameters.retry_after */
    char desc[256];
};

/* Sort one transfer's outcome; every answer the Bot API gives is JSON. */
static void classify(const struct cev_result *r, struct answer *a)
{
    json_object *ok, *v, *p;
    memset(a, 0, sizeof *a);
    if (r->curl_code) {
        a->kind = A_RETRY;
        snprintf(a->desc, sizeof a->desc, "%s", r->error);
        return;
    }
    json_tokener *tok = json_tokener_new();
    if (tok) {
        a->root = json_tokener_parse_ex(tok, r->body, (int)r->body_len);
        if (json_tokener_get_error(tok) != json_tokener_success) {
            json_object_put(a->root);
            a->root = NULL;
        }
        json_tokener_free(tok);
    }
    if (!a->root || !json_object_is_type(a->root, json_type_object) ||
        !json_object_object_get_ex(a->root, "ok", &ok)) {
        a->kind = A_RETRY;
        snprintf(a->desc, sizeof a->desc, "HTTP %ld with an answer that is not Bot API JSON", r->status);
        return;
    }
    if (json_object_object_get_ex(a->root, "description", &v) && json_object_get_string(v))
        snprintf(a->desc, sizeof a->desc, "%s", json_object_get_string(v));
    else
        snprintf(a->desc, sizeof a->desc, "HTTP %ld", r->status);
    if (json_object_object_get_ex(a->root, "parameters", &p) &&
        json_object_object_get_ex(p, "retry_after", &v))
        a->retry_after = json_object_get_int(v);
    if (json_object_get_boolean(ok) && r->status == 200) {
        json_object_object_get_ex(a->root, "result", &a->result);
        a->kind = A_OK;
    } else if (r->status == 401) {
        a->kind = A_AUTH;
    } else if (r->status == 429) {
        a->kind = A_RATE;
        if (a->retry_after < 1)
            a->retry_after = 1;
    } else if (r->status == 400) {
        a->kind = A_BAD;
    } else if (r->status >= 500 || r->status == 409 || r->status < 400) {
        a->kind = A_RETRY;      /* server trouble, or another poller: try again later */
    } else {
        a->kind = A_DROP;       /* 403 blocked by the user, 404, ...: retrying cannot help */
    }
}

static double next_backoff(double cur)
{
    return cur * 2 > BACKOFF_MAX ? BACKOFF_MAX : cur * 2;
}

/* A server's wait (retry_after, seconds) within [1, TG_WAIT_CAP]; *capped
 * says whether it asked for more. */
static double cap_wait(double s, int *capped)
{
    *capped = s > TG_WAIT_CAP;
    return s < 1 ? 1 : s > TG_WAIT_CAP ? TG_WAIT_CAP : s;
}

/* ---- transfers ---------------------------------------------------------------- */

static void on_done(void *ud, const struct cev_result *r);

static int start_call(struct tg_client *tg, const char *method, json_object *params, struct tg_msg *m,
                      long timeout_ms)
{
    int getme = strcmp(method, "getMe") == 0;
    char url[1024], err[128];
    struct tg_call *call = calloc(1, sizeof *call);
    if (!call || (size_t)snprintf(url, sizeof url, "%s%s", tg->url_prefix, method) >= sizeof url) {
        free(call);
        LOG_E("telegram", "%s: cannot build the request", method);
        return -1;
    }
    size_t len;
    const char *body = json_object_to_json_string_length(
        params, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len);
    struct cev_request rq = {.method = "POST", .url = url, .body = body, .body_len = len,
                             .timeout_ms = timeout_ms};
    /* sendPhoto (tg_send_photo): multipart/form-data, one field per parameter
     * plus the PNG as a file part (curlev copies every part). */
    struct cev_part parts[8];
    size_t n_parts = 0;
    if (m && m->photo) {
        json_object_object_foreach(params, key, val) {
            if (n_parts + 1 < sizeof parts / sizeof parts[0]) {
                const char *v = json_object_get_string(val);
                parts[n_parts++] = (struct cev_part){.name = key, .data = v, .len = strlen(v)};
            }
        }
        if (m->filename[0])
            parts[n_parts++] = (struct cev_part){.name = "document", .data = m->photo, .len = m->photo_len,
                                                 .filename = m->filename, .type = "text/csv"};
        else
            parts[n_parts++] = (struct cev_part){.name = "photo", .data = m->photo, .len = m->photo_len,
                                                 .filename = "chart.png", .type = "image/png"};
        rq.body = NULL;
        rq.body_len = 0;
        rq.parts = parts;
        rq.n_parts = n_parts;
    }
    call->tg = tg;
    call->msg = m;
    call->getme = getme;
    if (cev_start(tg->curl, &rq, on_done, call, err, sizeof err)) {
        LOG_E("telegram", "%s: %s", method, err);
        free(call);
        return -1;
    }
    call->next = tg->calls;
    if (tg->calls)
        tg->calls->prev = call;
    tg->calls = call;
    return 0;
}

static void unlink_call(struct tg_call *call)
{
    struct tg_client *tg = call->tg;
    if (!tg)
        return;
    if (call->prev)
        call->prev->next = call->next;
    else
        tg->calls = call->next;
    if (call->next)
        call->next->prev = call->prev;
}

/* ---- polling ------------------------------------------------------------------ */

static void poll_now(struct tg_client *tg);

static void poll_later(struct tg_client *tg, double seconds)
{
    ev_timer_stop(tg->loop, &tg->poll_timer);
    ev_timer_set(&tg->poll_timer, seconds, 0.);
    ev_timer_start(tg->loop, &tg->poll_timer);
}

static void on_poll_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
    (void)loop;
    (void)revents;
    poll_now(w->data);
}

static void poll_failed(struct tg_client *tg, const char *method, const char *why)
{
    LOG_W("telegram", "%s failed: %s; retrying in %.0f s", method, why, tg->poll_backoff);
    poll_later(tg, tg->poll_backoff);
    tg->poll_backoff = next_backoff(tg->poll_backoff);
}

/* Who the bot is: asked once at start, before the first getUpdates, so that the
 * offset (and whatever the owner keys on the bot) belongs to this bot. */
static void getme_now(struct tg_client *tg)
{
    json_object *p = json_object_new_object();
    int rc = p ? start_call(tg, "getMe", p, NULL, 15000L) : -1;
    json_object_put(p);
    if (rc)
        poll_failed(tg, "getMe", "cannot start the request");
    else
        tg->poll_in_flight = 1;
}

static void poll_now(struct tg_client *tg)
{
    if (tg->stopped || tg->poll_in_flight)
        return;
    if (!tg->ready) {
        getme_now(tg);
        return;
    }
    json_object *p = json_object_new_object(), *allowed = json_object_new_array();
    if (!p || !allowed) {
        json_object_put(p);
        json_object_put(allowed);
        poll_failed(tg, "getUpdates", "out of memory");
        return;
    }
    if (tg->offset > 0)
        json_object_object_add(p, "offset", json_object_new_int64(tg->offset));
    json_object_object_add(p, "timeout", json_object_new_int(tg->poll_timeout_s));
    json_object_array_add(allowed, json_object_new_string("message"));
    json_object_array_add(allowed, json_object_new_string("callback_query"));
    json_object_object_add(p, "allowed_updates", allowed);
    int rc = start_call(tg, "getUpdates", p, NULL, (tg->poll_timeout_s + 15) * 1000L);
    json_object_put(p);
    if (rc) {
        poll_failed(tg, "getUpdates", "cannot start the request");
        return;
    }
    tg->poll_in_flight = 1;
    tg->poll_offset = tg->offset;
    tg->poll_started = ev_now(tg->loop);
}

/* Hand the updates of one answer to the owner; the number handled. */
static size_t handle_updates(struct tg_client *tg, json_object *result)
{
    size_t n = json_object_is_type(result, json_type_array) ? json_object_array_length(result) : 0, done = 0;
    int64_t sent = tg->poll_offset;
    for (size_t i = 0; i < n && !tg->stopped; i++) {
        json_object *u = json_object_array_get_idx(result, i), *id;
        if (!json_object_object_get_ex(u, "update_id", &id) || !json_object_is_type(id, json_type_int))
            continue;
        int64_t uid = json_object_get_int64(id);
        if (uid < 0 || uid == INT64_MAX) {   /* json-c clamps larger ids: no next offset */
            LOG_W("telegram", "ignored an update with an impossible update_id");
            continue;
        }
        /* A server honouring the offset never answers below it: this one lost
         * it (its ids restarted). Dropping these would drop new commands. */
        if (sent > 0 && uid < sent) {
            LOG_W("telegram", "update %" PRId64 " is below the offset %" PRId64
                  " just sent: the server's update ids restarted; handling it and the next as new",
                  uid, sent);
            if (tg->on_restart)
                tg->on_restart(tg->ud, sent, uid);
            sent = 0;
            tg->offset = uid;
        }
        if (uid < tg->offset)
            continue;           /* already handled (the same answer repeated it) */
        tg->offset = uid + 1;
        tg->on_update(tg->ud, uid, u);
        done++;
    }
    return done;
}

static void getme_done(struct tg_client *tg, struct answer *a)
{
    json_object *v;
    const char *user = "";
    int64_t bot_id = 0;
    if (json_object_object_get_ex(a->result, "id", &v) && json_object_is_type(v, json_type_int))
        bot_id = json_object_get_int64(v);
    if (bot_id <= 0) {
        poll_failed(tg, "getMe", "the answer has no bot id");
        return;
    }
    if (json_object_object_get_ex(a->result, "username", &v) && json_object_is_type(v, json_type_string))
        user = json_object_get_string(v);
    tg->ready = 1;
    tg->poll_backoff = BACKOFF_MIN;
    if (tg->on_ready)
        tg->offset = tg->on_ready(tg->ud, bot_id, user);
    poll_later(tg, 0.);
}

static void poll_done(struct tg_client *tg, const struct cev_result *r, int getme)
{
    struct answer a;
    const char *method = getme ? "getMe" : "getUpdates";
    int capped;
    tg->poll_in_flight = 0;
    if (r->cancelled || tg->stopped)
        return;                 /* its updates stay unconfirmed: handled after a restart */
    classify(r, &a);
    switch (a.kind) {
    case A_OK:
        if (getme) {
            getme_done(tg, &a);
            break;
        }
        tg->poll_backoff = BACKOFF_MIN;
        if (handle_updates(tg, a.result)) {
            poll_later(tg, 0.);
        } else {                /* empty: however fast the server answered, do not spin */
            double floor = tg->poll_timeout_s > 0 ? TG_POLL_FLOOR : 1.0;
            double wait = tg->poll_started + floor - ev_now(tg->loop);
            poll_later(tg, wait > 0 ? wait : 0.);
        }
        break;
    case A_AUTH:
        LOG_E("telegram", "Telegram token rejected (401 %s): check telegram.token; retrying in %.0f s",
              a.desc, AUTH_BACKOFF);
        poll_later(tg, AUTH_BACKOFF);
        break;
    case A_RATE: {
        double wait = cap_wait(a.retry_after, &capped);
        LOG_W("telegram", "%s rate limited; retrying in %.0f s%s", method, wait,
              capped ? " (the server asked for more; capped)" : "");
        poll_later(tg, wait);
        break;
    }
    default:
        poll_failed(tg, method, a.desc);
        break;
    }
    json_object_put(a.root);
}

/* ---- the send queue ----------------------------------------------------------- */

static void pump(struct tg_client *tg);

/* Transfers are started from our own timers, never from inside a curlev
 * completion callback (which is where most sends and polls are decided):
 * curlev may stop its timer after the callback returns when it believes
 * nothing is running, which would stall a transfer added from within. */
static void pump_soon(struct tg_client *tg)
{
    ev_timer_stop(tg->loop, &tg->pump_timer);
    ev_timer_set(&tg->pump_timer, 0., 0.);
    ev_timer_start(tg->loop, &tg->pump_timer);
}

static void on_pump_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
    (void)loop;
    (void)revents;
    pump(w->data);
}

static void msg_free(struct tg_msg *m)
{
    if (m) {
        json_object_put(m->params);
        free(m->photo);
        free(m);
    }
}

/* Take m off the queue: it was delivered (ok = 1) or is given up (0). */
static void msg_remove(struct tg_client *tg, struct tg_msg *m, int ok)
{
    for (struct tg_msg **pp = &tg->head; *pp; pp = &(*pp)->next)
        if (*pp == m) {
            *pp = m->next;
            tg->qlen--;
            if (tg->on_sent)
                tg->on_sent(tg->ud, m->method, ok);
            msg_free(m);
            return;
        }
}

static struct tg_chat *chat_get(struct tg_client *tg, int64_t id)
{
    for (size_t i = 0; i < tg->n_chats; i++)
        if (tg->chats[i].id == id)
            return &tg->chats[i];
    struct tg_chat *n = realloc(tg->chats, (tg->n_chats + 1) * sizeof *n);
    if (!n)
        return NULL;
    tg->chats = n;
    n[tg->n_chats] = (struct tg_chat){.id = id};
    return &n[tg->n_chats++];
}

/* Take params and photo (also on failure); a filename makes photo a document. */
static int enqueue_file(struct tg_client *tg, const char *method, int64_t chat_id, json_object *params,
                        void *photo, size_t photo_len, const char *filename)
{
    struct tg_msg *m = NULL;
    if (!params || tg->qlen >= TG_QUEUE_MAX || !(m = calloc(1, sizeof *m))) {
        LOG_W("telegram", "%s to chat %" PRId64 " dropped: %s", method, chat_id,
              params && tg->qlen >= TG_QUEUE_MAX ? "send queue full" : "out of memory");
        json_object_put(params);
        free(photo);
        return -1;
    }
    snprintf(m->method, sizeof m->method, "%s", method);
    m->chat_id = chat_id;
    m->params = params;
    m->photo = photo;
    m->photo_len = photo_len;
    snprintf(m->filename, sizeof m->filename, "%s", filename ? filename : "");
    struct tg_msg **pp = &tg->head;
    while (*pp)
        pp = &(*pp)->next;
    *pp = m;
    tg->qlen++;
    if (tg->started)
        pump_soon(tg);
    return 0;
}

static int enqueue_photo(struct tg_client *tg, const char *method, int64_t chat_id, json_object *params,
                         void *photo, size_t photo_len)
{
    return enqueue_file(tg, method, chat_id, params, photo, photo_len, NULL);
}

/* Take params (also on failure). */
static int enqueue(struct tg_client *tg, const char *method, int64_t chat_id, json_object *params)
{
    return enqueue_photo(tg, method, chat_id, params, NULL, 0);
}

static void pump(struct tg_client *tg)
{
    double now = ev_now(tg->loop), wake = 0;
    ev_timer_stop(tg->loop, &tg->pump_timer);
    if (now < tg->send_pause_until) {
        wake = tg->send_pause_until;
        goto arm;
    }
    tg->pass++;
    for (struct tg_msg *m = tg->head; m; m = m->next) {
        if (m->not_before > now) {  /* backing off: the chat's later messages go first */
            if (!wake || m->not_before < wake)
                wake = m->not_before;
            continue;
        }
        struct tg_chat *ch = m->chat_id ? chat_get(tg, m->chat_id) : NULL;
        if (ch && ch->pass == tg->pass)
            continue;           /* an earlier message to this chat goes first */
        if (ch)
            ch->pass = tg->pass;
        if (m->in_flight)
            continue;
        if (ch && ch->next_ok > now) {
            if (!wake || ch->next_ok < wake)
                wake = ch->next_ok;
            continue;
        }
        double oldest = tg->sent_at[tg->sent_i];
        if (oldest > now - 1.0) {   /* 30 calls in the last second already */
            if (!wake || oldest + 1.0 < wake)
                wake = oldest + 1.0;
            break;
        }
        if (start_call(tg, m->method, m->params, m, SEND_TIMEOUT_MS)) {
            m->not_before = now + 1.0;
            if (!wake || m->not_before < wake)
                wake = m->not_before;
            continue;
        }
        m->in_flight = 1;
        tg->sent_at[tg->sent_i] = now;
        tg->sent_i = (tg->sent_i + 1) % GLOBAL_PER_SEC;
        if (ch)
            ch->next_ok = now + CHAT_INTERVAL;
    }
arm:
    if (wake) {
        double d = wake - now;
        ev_timer_set(&tg->pump_timer, d < 0.001 ? 0.001 : d, 0.);
        ev_timer_start(tg->loop, &tg->pump_timer);
    }
}

/* A 400 "can't parse entities": send the same chunk (or photo caption) once
 * more as plain text. */
static int make_plain(struct tg_msg *m)
{
    json_object *text, *mode;
    const char *key = m->photo ? "caption" : "text";
    if (m->plain_done || !json_object_object_get_ex(m->params, "parse_mode", &mode) ||
        !json_object_object_get_ex(m->params, key, &text))
        return -1;
    struct sbuf b;
    sbuf_init(&b);
    tg_html_to_plain(json_object_get_string(text), &b);
    json_object_object_add(m->params, key, json_object_new_string_len(sbuf_str(&b), (int)b.len));
    json_object_object_del(m->params, "parse_mode");
    sbuf_free(&b);
    m->plain_done = 1;
    return 0;
}

/* answerCallbackQuery (a button's spinner stops by itself) and setMyCommands
 * (the phone's menu) are nice to have: fewer tries, and never in the way. */
static int max_tries(const struct tg_msg *m)
{
    return strcmp(m->method, "answerCallbackQuery") == 0 || strcmp(m->method, "setMyCommands") == 0 ||
                   strcmp(m->method, "setChatMenuButton") == 0
               ? TG_MINOR_TRIES : TG_SEND_TRIES;
}

/* A photo that cannot be sent: its caption as a text message instead, so the
 * words reach the chat. 0, or -1 (nothing to send, or out of memory). */
static int photo_to_text(struct tg_msg *m)
{
    json_object *cap, *mode, *p = json_object_new_object();
    const char *text = json_object_object_get_ex(m->params, "caption", &cap) ? json_object_get_string(cap) : "";
    int html = json_object_object_get_ex(m->params, "parse_mode", &mode);
    if (!p)
        return -1;
    json_object_object_add(p, "chat_id", json_object_new_int64(m->chat_id));
    json_object_object_add(p, "text", 
                           json_object_new_string(text[0] ? text : "(a chart that could not be sent)"));
    if (html && text[0])
        json_object_object_add(p, "parse_mode", json_object_new_string("HTML"));
    json_object_put(m->params);
    m->params = p;
    free(m->photo);
    m->photo = NULL;
    m->photo_len = 0;
    snprintf(m->method, sizeof m->method, "sendMessage");
    m->tries = 0;
    m->not_before = 0;
    m->plain_done = 0;
    return 0;
}

/* Give m up for good (logged); a photo becomes its caption. */
static void give_up(struct tg_client *tg, struct tg_msg *m, const char *why)
{
    if (m->photo && photo_to_text(m) == 0) {
        LOG_W("telegram", "sendPhoto to chat %" PRId64 " given up: %s; its caption goes as a text message",
              m->chat_id, why);
        return;
    }
    LOG_W("telegram", "%s to chat %" PRId64 " dropped: %s", m->method, m->chat_id, why);
    msg_remove(tg, m, 0);
}

/* A transient failure of m (kind A_RETRY or A_RATE): back off m alone, or give
 * it up after its last try. */
static void retry_later(struct tg_client *tg, struct tg_msg *m, const struct answer *a, double now)
{
    char why[320];
    int capped = 0;
    if (++m->tries >= max_tries(m)) {
        snprintf(why, sizeof why, "%s (try %d of %d)", a->desc, m->tries, max_tries(m));
        give_up(tg, m, why);
        return;
    }
    double backoff = BACKOFF_MIN * (double)(1u << (m->tries - 1)), wait = backoff;
    if (a->kind == A_RATE || a->retry_after > backoff)
        wait = cap_wait(a->retry_after, &capped);
    m->not_before = now + wait;
    LOG_W("telegram", "%s to chat %" PRId64 " failed (try %d of %d): %s; retrying in %.0f s%s", m->method,
          m->chat_id, m->tries, max_tries(m), a->desc, wait,
          capped ? " (the server asked for more; capped)" : "");
    if (a->kind == A_RATE && m->chat_id) {
        struct tg_chat *ch = chat_get(tg, m->chat_id);  /* flood control holds the whole chat */
        if (ch && ch->next_ok < m->not_before)
            ch->next_ok = m->not_before;
    }
}

static void send_done(struct tg_client *tg, struct tg_msg *m, const struct cev_result *r)
{
    struct answer a;
    double now = ev_now(tg->loop);
    m->in_flight = 0;
    if (r->cancelled) {
        msg_remove(tg, m, 0);
        return;
    }
    classify(r, &a);
    switch (a.kind) {
    case A_OK:
        msg_remove(tg, m, 1);
        break;
    case A_RATE:
    case A_RETRY:
        retry_later(tg, m, &a, now);
        break;
    case A_AUTH:
        /* Every call would fail alike: pause them all (not a try of this one). */
        LOG_E("telegram", "Telegram token rejected (401 %s): check telegram.token; sending paused %.0f s",
              a.desc, AUTH_BACKOFF);
        tg->send_pause_until = now + AUTH_BACKOFF;
        break;
    case A_BAD:
        if (strstr(a.desc, "can't parse entities") && make_plain(m) == 0) {
            LOG_W("telegram", "%s to chat %" PRId64 ": %s; resending as plain text", m->method,
                  m->chat_id, a.desc);
            break;
        }
        /* fall through */
    case A_DROP:
        give_up(tg, m, a.desc);
        break;
    }
    json_object_put(a.root);
    pump_soon(tg);
}

static void on_done(void *ud, const struct cev_result *r)
{
    struct tg_call *call = ud;
    struct tg_client *tg = call->tg;
    struct tg_msg *m = call->msg;
    int getme = call->getme;
    unlink_call(call);
    free(call);
    if (!tg)
        return;                 /* the client is gone; nothing to do */
    if (m)
        send_done(tg, m, r);
    else
        poll_done(tg, r, getme);
}

/* ---- public API ---------------------------------------------------------------- */

struct tg_client *tg_new(struct ev_loop *loop, cev *c, const struct tg_opts *o, char *err, size_t errlen)
{
    struct tg_client *tg = calloc(1, sizeof *tg);
    if (!tg || asprintf(&tg->url_prefix, "%s/bot%s/", o->api_base, o->token) < 0) {
        snprintf(err, errlen, "out of memory");
        free(tg);
        return NULL;
    }
    tg->loop = loop;
    tg->curl = c;
    tg->poll_timeout_s = o->poll_timeout_s;
    tg->offset = o->offset;
    tg->on_update = o->on_update;
    tg->on_sent = o->on_sent;
    tg->on_ready = o->on_ready;
    tg->on_restart = o->on_restart;
    tg->ready = !o->on_ready;
    tg->ud = o->ud;
    tg->poll_backoff = BACKOFF_MIN;
    for (size_t i = 0; i < GLOBAL_PER_SEC; i++)
        tg->sent_at[i] = -1e9;
    ev_init(&tg->poll_timer, on_poll_timer);
    ev_init(&tg->pump_timer, on_pump_timer);
    tg->poll_timer.data = tg->pump_timer.data = tg;
    return tg;
}

void tg_start(struct tg_client *tg)
{
    tg->started = 1;
    poll_now(tg);
    pump(tg);
}

void tg_stop(struct tg_client *tg)
{
    tg->stopped = 1;
    ev_timer_stop(tg->loop, &tg->poll_timer);
}

void tg_free(struct tg_client *tg)
{
    if (!tg)
        return;
    for (struct tg_call *call = tg->calls; call; call = call->next) {
        call->tg = NULL;
        call->msg = NULL;
    }
    while (tg->head) {
        struct tg_msg *m = tg->head;
        tg->head = m->next;
        msg_free(m);
    }
    ev_timer_stop(tg->loop, &tg->poll_timer);
    ev_timer_stop(tg->loop, &tg->pump_timer);
    free(tg->chats);
    free(tg->url_prefix);
    free(tg);
}

size_t tg_queue_len(const struct tg_client *tg) { return tg->qlen; }

static json_object *markup_parse(const char *markup)
{
    if (!markup || !markup[0])
        return NULL;
    json_tokener *tok = json_tokener_new();
    json_object *o = tok ? json_tokener_parse_ex(tok, markup, (int)strlen(markup)) : NULL;
    if (tok && json_tokener_get_error(tok) != json_tokener_success) {
        json_object_put(o);
        o = NULL;
    }
    json_tokener_free(tok);
    if (!o || !json_object_is_type(o, json_type_object)) {
        LOG_W("telegram", "reply markup is not a JSON object; sent without it");
        json_object_put(o);
        return NULL;
    }
    return o;
}

static json_object *text_params(int64_t chat_id, const char *html, json_object *markup)
{
    json_object *p = json_object_new_object();
    if (!p) {
        json_object_put(markup);
        return NULL;
    }
    json_object_object_add(p, "chat_id", json_object_new_int64(chat_id));
    json_object_object_add(p, "text", json_object_new_string(html));
    json_object_object_add(p, "parse_mode", json_object_new_string("HTML"));
    if (markup)
        json_object_object_add(p, "reply_markup", markup);
    return p;
}

int tg_send(struct tg_client *tg, int64_t chat_id, const char *html, const char *markup)
{
    struct tg_chunks ch;
    int rc = 0;
    if (tg_split(html, TG_CHUNK_MAX, &ch)) {
        LOG_E("telegram", "sendMessage to chat %" PRId64 " dropped: out of memory", chat_id);
        return -1;
    }
    for (size_t i = 0; i < ch.n; i++) {
        json_object *mk = i + 1 == ch.n ? markup_parse(markup) : NULL;
        if (enqueue(tg, "sendMessage", chat_id, text_params(chat_id, ch.v[i], mk)))
            rc = -1;
    }
    tg_chunks_free(&ch);
    return rc;
}

int tg_edit(struct tg_client *tg, int64_t chat_id, int64_t message_id, const char *html, const char *markup)
{
    json_object *p = text_params(chat_id, html, markup_parse(markup));
    if (p)
        json_object_object_add(p, "message_id", json_object_new_int64(message_id));
    return enqueue(tg, "editMessageText", chat_id, p);
}

int tg_answer_callback(struct tg_client *tg, const char *query_id, const char *text)
{
    json_object *p = json_object_new_object();
    if (p) {
        json_object_object_add(p, "callback_query_id", json_object_new_string(query_id));
        if (text && text[0])
            json_object_object_add(p, "text", json_object_new_string(text));
    }
    return enqueue(tg, "answerCallbackQuery", 0, p);
}

/* UTF-8 characters in s (Telegram counts UTF-16 units; the same below U+10000). */
static size_t utf8_chars(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

int tg_send_photo(struct tg_client *tg, int64_t chat_id, const void *png, size_t len, const char *caption_html)
{
    json_object *p = json_object_new_object();
    void *copy = len ? malloc(len) : NULL;
    struct sbuf plain;
    if (!p || !copy) {
        json_object_put(p);
        free(copy);
        LOG_E("telegram", "sendPhoto to chat %" PRId64 " dropped: %s", chat_id, len ? "out of memory" : "no photo");
        return -1;
    }
    memcpy(copy, png, len);
    json_object_object_add(p, "chat_id", json_object_new_int64(chat_id));
    sbuf_init(&plain);
    tg_html_to_plain(caption_html ? caption_html : "", &plain);
    if (utf8_chars(sbuf_str(&plain)) <= TG_CAPTION_MAX) {
        if (caption_html && caption_html[0]) {
            json_object_object_add(p, "caption", json_object_new_string(caption_html));
            json_object_object_add(p, "parse_mode", json_object_new_string("HTML"));
        }
    } else {                    /* too long for HTML: plain text, cut on a character */
        size_t k = 0, chars = 0;
        const char *s = sbuf_str(&plain);
        while (s[k] && chars < TG_CAPTION_MAX - 1) {
            k++;
            while (((unsigned char)s[k] & 0xC0) == 0x80)
                k++;
            chars++;
        }
        plain.s[k] = '\0';
        plain.len = k;
        sbuf_puts(&plain, "…");
        json_object_object_add(p, "caption", json_object_new_string(sbuf_str(&plain)));
    }
    sbuf_free(&plain);
    return enqueue_photo(tg, "sendPhoto", chat_id, p, copy, len);
}

int tg_send_document(struct tg_client *tg, int64_t chat_id, const void *data, size_t len, const char *filename,
                     const char *caption_html)
{
    json_object *p = json_object_new_object();
    void *copy = len ? malloc(len) : NULL;
    if (!p || !copy || !filename || !filename[0]) {
        json_object_put(p);
        free(copy);
        LOG_E("telegram", "sendDocument to chat %" PRId64 " dropped: %s", chat_id,
              len ? "out of memory" : "empty document");
        return -1;
    }
    memcpy(copy, data, len);
    json_object_object_add(p, "chat_id", json_object_new_int64(chat_id));
    if (caption_html && caption_html[0]) {     /* short by contract (telegram.h) */
        json_object_object_add(p, "caption", json_object_new_string(caption_html));
        json_object_object_add(p, "parse_mode", json_object_new_string("HTML"));
    }
    return enqueue_file(tg, "sendDocument", chat_id, p, copy, len, filename);
}

int tg_set_commands(struct tg_client *tg, json_object *commands)
{
    json_object *p = json_object_new_object();
    if (!p) {
        json_object_put(commands);
        return enqueue(tg, "setMyCommands", 0, NULL);
    }
    json_object_object_add(p, "commands", commands);
    return enqueue(tg, "setMyCommands", 0, p);
}
