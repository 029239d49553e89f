/*
 * commands — the ONE table of chat commands (SPEC section 7) and the context a
 * command runs in. The table feeds the router (src/chat.c), /help and
 * setMyCommands; each command lives in its own file, bot_commands/<name>.c.
 *
 * A command runs on the loop thread and must never block it: it reads state,
 * changes state, or starts asynchronous work and answers later through
 * cmd_defer()/cmd_finish(). Replies are Telegram HTML: every dynamic value goes
 * through sbuf_html()/sbuf_htmlf(). The router converts HTML to plain text for
 * the console and splits long replies for Telegram.
 */
#ifndef ZEPIX_COMMANDS_H
#define ZEPIX_COMMANDS_H

#include <stddef.h>
#include <stdint.h>

struct app;
struct sbuf;
struct chat_state;
struct cmd_pending;

struct cmd_ctx {
    struct app *app;
    const char *source;         /* "telegram" | "console" */
    int64_t chat_id;            /* 0 for the console */
    int64_t user_id;            /* who sent it (from.id; the chat id in a private chat); 0 for the console */
    int confirmed;              /* run by /confirm (cmd_confirm_ask was answered) */
    int64_t update_id;          /* Telegram update id; 0 for the console */
    const char *update_key;     /* its idempotency key "tg:<bot>:<update_id>" (chat.c); NULL for the console */
    const char *args;           /* trimmed text after the command, "" when none */
    struct sbuf *out;           /* the reply, Telegram HTML; escape every dynamic value */
    char markup[2048];          /* optional reply_markup JSON (inline_keyboard), "" = none */
    struct chat_state *chat;
    /* Router's bookkeeping, not for commands: */
    const struct bot_command *cmd;
    struct cmd_pending *pending;    /* set by cmd_defer() */
};

struct bot_command {
    const char *name;           /* without '/', [a-z0-9_], at most 32 characters */
    const char *args;           /* usage of arguments, e.g. "ID [N]"; "" when none */
    const char *help;           /* one line; also the setMyCommands description */
    void (*run)(struct cmd_ctx *c);
};

/* The table, in the order of SPEC section 7. */
extern const struct bot_command bot_commands[];
extern const size_t bot_commands_count;

/* The command called name (len bytes, case-insensitive), or NULL. */
const struct bot_command *cmd_find(const char *name, size_t len);

/* Write "Usage: /name args" for the running command into c->out. */
void cmd_usage(struct cmd_ctx *c);

/* Append an inline keyboard with one row of buttons to c->markup; each button
 * runs the command line in lines[i] ("/resume") when pressed. labels and lines
 * are plain text (JSON-escaped here). 0, or -1 when it does not fit. */
int cmd_buttons(struct cmd_ctx *c, const char *const *labels, const char *const *lines, size_t n);

/*
 * Asynchronous replies (implemented by the router, src/chat.c).
 *
 * cmd_defer(c): the reply is NOT sent when run() returns; whatever is in c->out
 * is discarded. The returned handle remembers where to answer (source, chat).
 * cmd_finish(p, html, markup): send html (Telegram HTML, may be long; markup may
 * be NULL) to that chat later, then free p. Safe after the chat layer stopped or
 * was freed: the reply is then dropped and p is still freed. Call it exactly
 * once per handle, on the loop thread.
 */
struct cmd_pending *cmd_defer(struct cmd_ctx *c);
void cmd_finish(struct cmd_pending *p, const char *html, const char *markup);

/* Reply with a photo (src/chat.c): len bytes of PNG (copied) with a caption
 * (Telegram HTML, at most 1024 characters of text), queued at once, so it
 * arrives before the text reply in c->out (if any). The console gets the
 * caption and a note. */
void cmd_reply_photo(struct cmd_ctx *c, const void *png, size_t len, const char *caption_html);

/* Reply with a document (src/chat.c) the same way: len bytes (copied) sent as
 * the file filename with a short caption (HTML); the console gets the caption
 * and a note. */
void cmd_reply_document(struct cmd_ctx *c, const void *data, size_t len, const char *filename,
                        const char *caption_html);

/*
 * Router helpers (src/chat.c), exposed for tests.
 *
 * chat_parse_command: text "/Cmd@botname  args" -> name "cmd" (lower-cased,
 * NUL-terminated, the @botname suffix dropped) and *args pointing at the trimmed
 * rest inside text (trailing blanks are not removed: use args_len). Returns 0,
 * -1 when text is not a command (does not start with '/', empty or too long name).
 */
int chat_parse_command(const char *text, char *name, size_t namelen, const char **args,
                       size_t *args_len);

/* The coalesced notification message: texts[0..n-1] escaped, one per line, and
 * "... and N more" when more > 0. */
void chat_notify_format(struct sbuf *out, const char *const *texts, size_t n, size_t more);

/* Each command's run function, one per file. */
void cmd_start(struct cmd_ctx *c);
void cmd_help(struct cmd_ctx *c);
void cmd_status(struct cmd_ctx *c);
void cmd_plugins(struct cmd_ctx *c);
void cmd_enable_plugin(struct cmd_ctx *c);
void cmd_disable_plugin(struct cmd_ctx *c);
void cmd_reload_plugin(struct cmd_ctx *c);
void cmd_stats(struct cmd_ctx *c);
void cmd_trades(struct cmd_ctx *c);
void cmd_positions(struct cmd_ctx *c);
void cmd_signal(struct cmd_ctx *c);
void cmd_close(struct cmd_ctx *c);
void cmd_modify(struct cmd_ctx *c);
void cmd_pause(struct cmd_ctx *c);
void cmd_resume(struct cmd_ctx *c);
void cmd_risk(struct cmd_ctx *c);
void cmd_journal(struct cmd_ctx *c);
void cmd_panic(struct cmd_ctx *c);
void cmd_mute(struct cmd_ctx *c);
void cmd_preview(struct cmd_ctx *c);
void cmd_replay(struct cmd_ctx *c);
void cmd_shadow(struct cmd_ctx *c);
void cmd_promote(struct cmd_ctx *c);
void cmd_unshadow(struct cmd_ctx *c);
void cmd_unmute(struct cmd_ctx *c);
void cmd_confirm(struct cmd_ctx *c);

/* A dangerous command not yet confirmed asks first (bot_commands/confirm.c):
 * its line is kept for 60 s under a token, the reply gets question_html and
 * Confirm / Cancel buttons; /confirm runs it once, for this user only, with
 * c->confirmed set. 0, or -1 (said in c->out). */
int cmd_confirm_ask(struct cmd_ctx *c, const char *question_html);
void cmd_daily(struct cmd_ctx *c);
void cmd_chart(struct cmd_ctx *c);
void cmd_export(struct cmd_ctx *c);

/* The command list of /help and /start, grouped, one line per command. */
void cmd_write_help(struct sbuf *out);

#endif
