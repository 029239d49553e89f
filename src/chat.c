/*
 * chat — the operator's control plane (SPEC section 7): struct chat_state owns
 * the Telegram client (when telegram.token is set), the console (when enabled
 * and stdin is a terminal) and the router that turns a command line into a run
 * of one entry of the command table (bot_commands/commands.c), then sends the
 * reply back where the command came from. Notifications are coalesced here.
 *
 * Never blocks the loop: Telegram is asynchronous (telegram.c), the console
 * reads only when readable (console.c), commands must not block (commands.h).
 *
 * Exactly-once commands. The offset (last handled update_id + 1) is written to
 * the host database (kv "telegram.<bot id>.offset") right after each update is
 * handled, and the next getUpdates sends it, which confirms the update to
 * Telegram; at start getMe says which bot the token is and that bot's offset is
 * loaded, so a restart neither skips nor repeats confirmed updates, and another
 * bot (a new token, same data dir) starts from its own offset. Update ids are
 * only unique per bot and per run of the server's numbering: the idempotency key
 * of a command is "tg:<bot id>:<update_id>", and when the server's ids restart
 * (an answer below the offset we sent) an epoch kept in "telegram.<bot id>.epoch"
 * is raised and the keys become "tg:<bot id>.<epoch>:<update_id>", so a new
 * command is never taken for an old one. The one window left is a crash after a command ran and before its
 * offset was written: that update comes again and runs a second time. That is
 * harmless because every command with a side effect is idempotent: /pause,
 * /resume, /enable_plugin, /disable_plugin set a state (setting it again
 * changes nothing); /signal passes the update id to the journal as the
 * signal's idempotency key, so the second run is answered as a duplicate; /close
 * of a trade that is already closed is refused; /reload_plugin loads whatever
 * build is on disk, so running it twice ends in the same state. Everything
 * else only reads. (A reply queued but not yet sent at a crash is lost: at
 * most once for answers, exactly once in effect for commands.)
 * Unauthorized updates advance the offset too, so they are never seen again.
 *
 * Authorization (SPEC sections 7 and 12): the chat must be in
 * telegram.admin_chat_ids; in a group (negative chat id) the sender must be an
 * admin user too, and a button press always needs one. An admin user is a
 * telegram.admin_user_ids entry or the id of a private admin chat (which is the
 * user's id). Anything else gets no answer and is logged.
 *
 * Notifications raised before Telegram is up (a plugin failing at start) are
 * kept and sent once it is.
 */
#include "chat.h"
#include "app.h"
#include "commands.h"
#include "console.h"
#include "log.h"
#include "metrics.h"
#include "sbuf.h"
#include "store.h"
#include "telegram.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define NOTIFY_MAX 20           /* notifications joined into one message */
#define NOTIFY_WINDOW 2.0       /* seconds a notification waits for company */
#define LEGACY_OFFSET_KEY "telegram.offset"  /* before offsets were per bot */
#define BOT_KEY "telegram.bot_id"                /* the bot of the last start */

struct cmd_pending {
    struct chat_state *cs;      /* NULL once the chat layer is freed */
    char source[16];
    int64_t chat_id;
    struct cmd_pending *next, *prev;
};

struct chat_state {
    struct app *app;
    struct tg_client *tg;
    struct console *con;
    int stopping;
    int64_t bot_id, epoch;              /* from getMe; the update-id epoch of that bot */
    struct cmd_pending *pending;        /* deferred replies, for orphaning at free */
    ev_timer notify_timer;
    char *notes[NOTIFY_MAX];
    size_t n_notes, more_notes;
};

/* ---- parsing and routing ----------------------------------------------------- */

int chat_parse_command(const char *text, char *name, size_t namelen, const char **args, size_t *args_len)
{
    const char *p = text;
    size_t k = 0;
    while (*p == ' ' || *p == '\t')
        p++;
    if (*p != '/' || namelen == 0)
        return -1;
    p++;
    /* A name longer than the buffer is cut short: it cannot match the table
     * (names have at most 32 characters) and is reported as unknown. */
    for (; *p && !isspace((unsigned char)*p) && *p != '@'; p++)
        if (k + 1 < namelen)
            name[k++] = (char)tolower((unsigned char)*p);
    name[k] = '\0';
    name[sbuf_utf8_complete(name, k)] = '\0';
    if (*p == '@')              /* "/cmd@botname": the bot's own name, ignored */
        while (*p && !isspace((unsigned char)*p))
            p++;
    while (isspace((unsigned char)*p))
        p++;
    size_t n = strlen(p);
    while (n && isspace((unsigned char)p[n - 1]))
        n--;
    *args = p;
    *args_len = n;
    return 0;
}

static void reply(struct chat_state *cs, const char *source, int64_t chat_id, const char *html,
                  const char *markup)
{
    if (!html[0])
        return;
    if (strcmp(source, "console") == 0) {
        if (cs->con)
            console_print(cs->con, html);
    } else if (cs->tg) {
        tg_send(cs->tg, chat_id, html, markup);
    }
}

static void run_line(struct chat_state *cs, const char *source, int64_t chat_id, int64_t user_id,
                     int64_t update_id, const char *text)
{
    char name[64], *args = NULL, key[64];
    const char *a;
    size_t alen;
    struct sbuf out;
    sbuf_init(&out);
    if (chat_parse_command(text, name, sizeof name, &a, &alen)) {
        reply(cs, source, chat_id, "Commands start with /. Try /help", NULL);
        return;
    }
    const struct bot_command *cmd = cmd_find(name, strlen(name));
    if (!cmd) {
        sbuf_puts(&out, "Unknown command /");
        sbuf_html(&out, name);
        sbuf_puts(&out, ". Try /help");
        reply(cs, source, chat_id, sbuf_str(&out), NULL);
        goto done;
    }
    if (!(args = strndup(a, alen))) {
        reply(cs, source, chat_id, "Out of memory, try again.", NULL);
        goto done;
    }
    if (cs->epoch)
        snprintf(key, sizeof key, "tg:%" PRId64 ".%" PRId64 ":%" PRId64, cs->bot_id, cs->epoch, update_id);
    else
        snprintf(key, sizeof key, "tg:%" PRId64 ":%" PRId64, cs->bot_id, update_id);
    struct cmd_ctx c = {.app = cs->app, .source = source, .chat_id = chat_id,
                        .user_id = user_id ? user_id : chat_id, .update_id = update_id,
                        .update_key = update_id ? key : NULL, .args = args, .out = &out, .chat = cs,
                        .cmd = cmd};
    LOG_I("chat", "%s chat %" PRId64 ": /%s", source, chat_id, cmd->name);
    cmd->run(&c);
    if (!c.pending)
        reply(cs, source, chat_id, sbuf_str(&out), c.markup);
done:
    free(args);
    sbuf_free(&out);
}

struct cmd_pending *cmd_defer(struct cmd_ctx *c)
{
    if (c->pending)
        return c->pending;
    struct cmd_pending *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;            /* the router then sends c->out as usual */
    struct chat_state *cs = c->chat;
    p->cs = cs;
    snprintf(p->source, sizeof p->source, "%s", c->source);
    p->chat_id = c->chat_id;
    if (cs) {
        p->next = cs->pending;
        if (cs->pending)
            cs->pending->prev = p;
        cs->pending = p;
    }
    c->pending = p;
    return p;
}

void cmd_finish(struct cmd_pending *p, const char *html, const char *markup)
{
    if (!p)
        return;
    struct chat_state *cs = p->cs;
    if (cs) {
        if (p->prev)
            p->prev->next = p->next;
        else
            cs->pending = p->next;
        if (p->next)
            p->next->prev = p->prev;
        reply(cs, p->source, p->chat_id, html ? html : "", markup);
    }
    free(p);
}

/* ---- Telegram updates ----------------------------------------------------------- */

static int get_i64(json_object *o, const char *k1, const char *k2, int64_t *out)
{
    json_object *v;
    if (!json_object_object_get_ex(o, k1, &v) || (k2 && !json_object_object_get_ex(v, k2, &v)) ||
        !json_object_is_type(v, json_type_int))
        return -1;
    *out = json_object_get_int64(v);
    return 0;
}

static const char *get_str(json_object *o, const char *key)
{
    json_object *v;
    return json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_string)
               ? json_object_get_string(v) : NULL;
}

/* An admin user: listed in telegram.admin_user_ids, or the owner of a private
 * admin chat (a private chat's id is its user's id). */
static int admin_user(const struct config *cfg, int64_t user_id)
{
    return (user_id > 0 && cfg_is_admin(cfg, user_id)) || cfg_is_admin_user(cfg, user_id);
}

/* May this update run? The chat must be an admin chat; in a group the sender,
 * and for a button the presser, must be an admin user. user_id 0 = unknown. */
static int authorized(struct chat_state *cs, int64_t chat_id, int64_t user_id, int button)
{
    const struct config *cfg = &cs->app->cfg;
    if (!cfg_is_admin(cfg, chat_id)) {
        LOG_W("chat", "ignored update from unauthorized chat %" PRId64, chat_id);
        return 0;
    }
    if ((chat_id < 0 || button) && !admin_user(cfg, user_id)) {
        LOG_W("chat", "ignored %s from user %" PRId64 " in chat %" PRId64 ": not an admin user "
              "(telegram.admin_user_ids)", button ? "a button press" : "a command", user_id, chat_id);
        return 0;
    }
    return 1;
}

static void on_message(struct chat_state *cs, int64_t update_id, json_object *msg)
{
    int64_t chat_id, user_id = 0;
    const char *text = get_str(msg, "text");
    if (get_i64(msg, "chat", "id", &chat_id))
        return;
    get_i64(msg, "from", "id", &user_id);
    if (!authorized(cs, chat_id, user_id, 0))
        return;
    if (!text) {
        reply(cs, "telegram", chat_id, "Only text commands are understood. Try /help", NULL);
        return;
    }
    run_line(cs, "telegram", chat_id, user_id, update_id, text);
}

static void on_callback(struct chat_state *cs, int64_t update_id, json_object *q)
{
    json_object *msg;
    int64_t chat_id, user_id = 0;
    const char *id = get_str(q, "id"), *data = get_str(q, "data");
    get_i64(q, "from", "id", &user_id);
    /* The chat of the message that carries the button; an inline-mode button has
     * none, and then the user (a private chat has the user's id). */
    if (json_object_object_get_ex(q, "message", &msg) ? get_i64(msg, "chat", "id", &chat_id)
                                                       : get_i64(q, "from", "id", &chat_id))
        return;
    if (!authorized(cs, chat_id, user_id, 1) || !id)
        return;
    if (data && strncmp(data, "cmd:", 4) == 0) {
        run_line(cs, "telegram", chat_id, user_id, update_id, data + 4);
        tg_answer_callback(cs->tg, id, NULL);
    } else {
        tg_answer_callback(cs->tg, id, "This button is not supported.");
    }
}

static void bot_key(char *key, size_t len, int64_t bot_id, const char *what)
{
    snprintf(key, len, "telegram.%" PRId64 ".%s", bot_id, what);
}

static void on_update(void *ud, int64_t update_id, json_object *u)
{
    struct chat_state *cs = ud;
    json_object *v;
    if (json_object_object_get_ex(u, "message", &v))
        on_message(cs, update_id, v);
    else if (json_object_object_get_ex(u, "callback_query", &v))
        on_callback(cs, update_id, v);
    /* Handled: confirm it (see the header comment on exactly-once). */
    char key[64];
    bot_key(key, sizeof key, cs->bot_id, "offset");
    if (store_kv_set_i64(cs->app->db, key, update_id + 1))
        LOG_E("chat", "cannot persist %s: %s", key, sqlite3_errmsg(cs->app->db));
}

/* getMe answered: this bot's offset and epoch; a changed bot is said. */
static int64_t on_ready(void *ud, int64_t bot_id, const char *username)
{
    struct chat_state *cs = ud;
    sqlite3 *db = cs->app->db;
    char key[64];
    int64_t prev = 0, offset = 0, epoch = 0;
    int had_prev = store_kv_get_i64(db, BOT_KEY, &prev) == 0;
    cs->bot_id = bot_id;
    bot_key(key, sizeof key, bot_id, "offset");
    int known = store_kv_get_i64(db, key, &offset) == 0;
    if (!known && !had_prev && store_kv_get_i64(db, LEGACY_OFFSET_KEY, &offset) == 0) {
        /* Written by a version that kept one offset: it was this bot's. */
        LOG_I("chat", "update offset %" PRId64 " (kept without a bot id) taken as bot %" PRId64 "'s",
              offset, bot_id);
        if (store_kv_set_i64(db, key, offset))
            LOG_E("chat", "cannot persist %s: %s", key, sqlite3_errmsg(db));
    } else if (had_prev && prev != bot_id) {
        LOG_W("chat", "the Telegram bot changed: bot %" PRId64 " last time, now bot %" PRId64
              " (@%s); its own update offset (%" PRId64 ") is used and old command keys do not apply",
              prev, bot_id, username, offset);
    }
    bot_key(key, sizeof key, bot_id, "epoch");
    if (store_kv_get_i64(db, key, &epoch) == 0)
        cs->epoch = epoch;
    if (store_kv_set_i64(db, BOT_KEY, bot_id))
        LOG_E("chat", "cannot persist %s: %s", BOT_KEY, sqlite3_errmsg(db));
    LOG_I("chat", "Telegram bot %" PRId64 " (@%s): update offset %" PRId64, bot_id, username, offset);
    return offset;
}

/* The server's update ids restarted: a new epoch, so that the keys of the new
 * commands cannot meet those of the old ones in the journal. */
static void on_restart(void *ud, int64_t offset_sent, int64_t update_id)
{
    struct chat_state *cs = ud;
    char key[64];
    cs->epoch++;
    bot_key(key, sizeof key, cs->bot_id, "epoch");
    if (store_kv_set_i64(cs->app->db, key, cs->epoch))
        LOG_E("chat", "cannot persist %s: %s", key, sqlite3_errmsg(cs->app->db));
    LOG_W("chat", "Telegram update ids restarted (offset %" PRId64 " sent, update %" PRId64
          " came): command keys now use epoch %" PRId64, offset_sent, update_id, cs->epoch);
}

static void on_sent(void *ud, const char *method, int ok)
{
    struct chat_state *cs = ud;
    (void)method;
    metrics_tg_send(cs->app, ok);
}

static void on_console_line(void *ud, const char *line)
{
    struct chat_state *cs = ud;
    if (!cs->stopping)
        run_line(cs, "console", 0, 0, 0, line);
}

/* ---- notifications ----------------------------------------------------------- */

void chat_notify_format(struct sbuf *out, const char *const *texts, size_t n, size_t more)
{
    for (size_t i = 0; i < n; i++) {
        sbuf_html(out, texts[i]);
        if (i + 1 < n)
            sbuf_puts(out, "\n");
    }
    if (more)
        sbuf_printf(out, "\n... and %zu more", more);
}

static void notify_flush(struct chat_state *cs)
{
    struct sbuf b;
    if (!cs->n_notes || !cs->tg)
        return;                 /* Telegram not up yet: kept for chat_app_start() */
    sbuf_init(&b);
    chat_notify_format(&b, (const char *const *)cs->notes, cs->n_notes, cs->more_notes);
    for (size_t i = 0; cs->tg && i < cs->app->cfg.telegram.n_admins; i++)
        tg_send(cs->tg, cs->app->cfg.telegram.admin_chat_ids[i], sbuf_str(&b), NULL);
    sbuf_free(&b);
    for (size_t i = 0; i < cs->n_notes; i++)
        free(cs->notes[i]);
    cs->n_notes = cs->more_notes = 0;
}

static void on_notify_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
    (void)loop;
    (void)revents;
    notify_flush(w->data);
}

/* The chat layer's state, created on first use: chat_notify() may come
 * before chat_app_start() (plugins are loaded first). NULL without memory. */
static struct chat_state *state_get(struct app *a)
{
    if (a->chat)
        return a->chat;
    struct chat_state *cs = calloc(1, sizeof *cs);
    if (!cs)
        return NULL;
    cs->app = a;
    ev_init(&cs->notify_timer, on_notify_timer);
    cs->notify_timer.data = cs;
    a->chat = cs;
    return cs;
}

void chat_notify(struct app *a, const char *text)
{
    LOG_I("notify", "%s", text);
    if (!a->chat && !a->cfg.telegram.token[0])
        return;                 /* no Telegram, and no console yet: the log has it */
    struct chat_state *cs = state_get(a);
    if (!cs)
        return;
    if (cs->con) {              /* a terminal does not flood: print at once */
        struct sbuf b;
        sbuf_init(&b);
        sbuf_html(&b, text);
        console_print(cs->con, sbuf_str(&b));
        sbuf_free(&b);
    }
    if (!cs->tg && !a->cfg.telegram.token[0])
        return;
    /* Telegram: everything within NOTIFY_WINDOW of the first joins one message
     * (before Telegram is up, everything waits for it). */
    if (cs->n_notes < NOTIFY_MAX && (cs->notes[cs->n_notes] = strdup(text)))
        cs->n_notes++;
    else
        cs->more_notes++;
    if (cs->tg && !ev_is_active(&cs->notify_timer)) {
        ev_timer_set(&cs->notify_timer, NOTIFY_WINDOW, 0.);
        ev_timer_start(a->loop, &cs->notify_timer);
    }
}

/* ---- broadcasts and photos (daily reset report) -------------------------------- */

void chat_broadcast(struct app *a, const char *html)
{
    struct chat_state *cs = a->chat;
    if (!cs || !html[0])
        return;
    if (cs->con)
        console_print(cs->con, html);
    for (size_t i = 0; cs->tg && i < cs->app->cfg.telegram.n_admins; i++)
        tg_send(cs->tg, cs->app->cfg.telegram.admin_chat_ids[i], html, NULL);
}

void chat_orphans(struct app *a, const char *plugin_id, int failed, size_t n_open)
{
    struct chat_state *cs = a->chat;
    char close[96], restart[96], leave[96];
    struct sbuf html;
    if (!cs)
        return;
    struct cmd_ctx c = {.app = a};
    snprintf(close, sizeof close, "/close %s all", plugin_id);
    snprintf(restart, sizeof restart, failed ? "/reload_plugin %s" : "/enable_plugin %s", plugin_id);
    snprintf(leave, sizeof leave, "/positions %s", plugin_id);
    const char *labels[] = {"Close them", "Restart the plugin", "Leave them"}, *lines[] = {close, restart, leave};
    cmd_buttons(&c, labels, lines, 3);      /* a long id may not fit: then the text alone */
    sbuf_init(&html);
    sbuf_htmlf(&html, "⚠️ %s is %s with %zu open trade%s: nothing manages them now (its break-even and "
               "trailing logic); the broker's SL/TP stay in force. Close them, restart the plugin, or leave "
               "them? (%s · %s · %s)", plugin_id, failed ? "failed" : "disabled", n_open, n_open == 1 ? "" : "s",
               close, restart, leave);
    LOG_W("chat", "%s %s with %zu open trade(s): admins asked what to do", plugin_id,
          failed ? "failed" : "disabled", n_open);
    if (cs->con)
        console_print(cs->con, sbuf_str(&html));
    for (size_t i = 0; cs->tg && i < a->cfg.telegram.n_admins; i++)
        tg_send(cs->tg, a->cfg.telegram.admin_chat_ids[i], sbuf_str(&html), c.markup[0] ? c.markup : NULL);
    sbuf_free(&html);
}

/* A terminal cannot show the picture: its caption and a note instead. */
static void console_photo(struct chat_state *cs, size_t len, const char *caption_html)
{
    struct sbuf b;
    sbuf_init(&b);
    sbuf_puts(&b, caption_html);
    sbuf_printf(&b, "\n(chart: a %zu-byte PNG, shown in Telegram only)", len);
    console_print(cs->con, sbuf_str(&b));
    sbuf_free(&b);
}

void chat_broadcast_photo(struct app *a, const void *png, size_t len, const char *caption_html)
{
    struct chat_state *cs = a->chat;
    if (!cs)
        return;
    if (cs->con)
        console_photo(cs, len, caption_html);
    for (size_t i = 0; cs->tg && i < cs->app->cfg.telegram.n_admins; i++)
        tg_send_photo(cs->tg, cs->app->cfg.telegram.admin_chat_ids[i], png, len, caption_html);
}

void cmd_reply_photo(struct cmd_ctx *c, const void *png, size_t len, const char *caption_html)
{
    struct chat_state *cs = c->chat;
    if (!cs)
        return;
    if (strcmp(c->source, "console") == 0) {
        if (cs->con)
            console_photo(cs, len, caption_html);
    } else if (cs->tg) {
        tg_send_photo(cs->tg, c->chat_id, png, len, caption_html);
    }
}

void cmd_reply_document(struct cmd_ctx *c, const void *data, size_t len, const char *filename,
                        const char *caption_html)
{
    struct chat_state *cs = c->chat;
    if (!cs)
        return;
    if (strcmp(c->source, "console") == 0) {
        if (cs->con) {
            struct sbuf b;
            sbuf_init(&b);
            sbuf_puts(&b, caption_html);
            sbuf_printf(&b, "\n(document %s, %zu bytes, sent in Telegram only)", filename, len);
            console_print(cs->con, sbuf_str(&b));
            sbuf_free(&b);
        }
    } else if (cs->tg) {
        tg_send_document(cs->tg, c->chat_id, data, len, filename, caption_html);
    }
}

/* ---- lifecycle ----------------------------------------------------------------- */

static int start_telegram(struct chat_state *cs, char *err, size_t errlen)
{
    struct app *a = cs->app;
    struct tg_opts o = {.api_base = a->cfg.telegram.api_base, .token = a->cfg.telegram.token,
                        .poll_timeout_s = a->cfg.telegram.poll_timeout_s, .on_update = on_update,
                        .on_sent = on_sent, .on_ready = on_ready, .on_restart = on_restart, .ud = cs};
    if (!(cs->tg = tg_new(a->loop, a->curl, &o, err, errlen)))
        return -1;
    /* The phone's command menu, from the one table. */
    json_object *list = json_object_new_array();
    for (size_t i = 0; list && i < bot_commands_count; i++) {
        json_object *c = json_object_new_object();
        if (!c || json_object_array_add(list, c)) {
            json_object_put(c);
            break;
        }
        json_object_object_add(c, "command", json_object_new_string(bot_commands[i].name));
        json_object_object_add(c, "description", json_object_new_string(bot_commands[i].help));
    }
    tg_set_commands(cs->tg, list);
    tg_start(cs->tg);
    LOG_I("chat", "Telegram on: %zu admin chat(s), %zu admin user(s)", a->cfg.telegram.n_admins,
          a->cfg.telegram.n_admin_users);
    if (cs->n_notes || cs->more_notes) {       /* raised before Telegram was up */
        LOG_I("chat", "sending %zu notification(s) raised at start", cs->n_notes + cs->more_notes);
        ev_timer_stop(a->loop, &cs->notify_timer);
        ev_timer_set(&cs->notify_timer, 0., 0.);
        ev_timer_start(a->loop, &cs->notify_timer);
    }
    return 0;
}

int chat_app_start(struct app *a, char *err, size_t errlen)
{
    struct chat_state *cs = state_get(a);
    if (!cs) {
        snprintf(err, errlen, "chat: out of memory");
        return -1;
    }
    if (a->cfg.telegram.token[0] && start_telegram(cs, err, errlen))
        goto fail;
    if (a->cfg.console.enabled && isatty(STDIN_FILENO) &&
        !(cs->con = console_new(a->loop, STDIN_FILENO, stdout, on_console_line, cs, err, errlen)))
        goto fail;
    return 0;
fail:
    chat_app_free(a);
    return -1;
}

void chat_app_stop(struct app *a)
{
    struct chat_state *cs = a->chat;
    if (!cs)
        return;
    cs->stopping = 1;
    if (cs->tg)
        tg_stop(cs->tg);
    console_stop(cs->con);
    /* Send what is waiting to be coalesced now: the stop waits for the queue. */
    if (ev_is_active(&cs->notify_timer)) {
        ev_timer_stop(a->loop, &cs->notify_timer);
        notify_flush(cs);
    }
}

size_t chat_pending(struct app *a)
{
    struct chat_state *cs = a->chat;
    if (!cs)
        return 0;
    return cs->n_notes + (cs->tg ? tg_queue_len(cs->tg) : 0);
}

void chat_app_free(struct app *a)
{
    struct chat_state *cs = a->chat;
    if (!cs)
        return;
    for (struct cmd_pending *p = cs->pending; p; p = p->next)
        p->cs = NULL;
    ev_timer_stop(a->loop, &cs->notify_timer);
    for (size_t i = 0; i < cs->n_notes; i++)
        free(cs->notes[i]);
    tg_free(cs->tg);
    console_free(cs->con);
    free(cs);
    a->chat = NULL;
}
