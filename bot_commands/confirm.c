/*
 * /confirm TOKEN [cancel] — the second step of a dangerous command (SPEC 12:
 * /panic, /close ID all). Such a command, run without confirmation, calls
 * cmd_confirm_ask(): the command line is kept in the host database under a
 * random token for 60 seconds, and the reply carries Confirm / Cancel buttons
 * that send /confirm TOKEN (the console types it). /confirm runs the kept line
 * once: only for the admin who asked, only within the 60 s, never twice (the
 * token is marked used before the command runs, so a second press or a press
 * after a restart is answered "already done"). Never blocks (one kv read and
 * write on the host database).
 */
#include "app.h"
#include "args.h"
#include "commands.h"
#include "log.h"
#include "sbuf.h"
#include "store.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#define CONFIRM_TTL_MS 60000

static int new_token(char out[17])
{
    unsigned char b[8];
    if (getrandom(b, sizeof b, GRND_NONBLOCK) != (ssize_t)sizeof b)
        return -1;
    for (int i = 0; i < 8; i++)
        snprintf(out + 2 * i, 3, "%02x", b[i]);
    return 0;
}

int cmd_confirm_ask(struct cmd_ctx *c, const char *question_html)
{
    char token[17], key[32], value[600], line[80];
    if (new_token(token)) {
        sbuf_puts(c->out, "❌ cannot make a confirmation token; nothing was done.");
        return -1;
    }
    snprintf(key, sizeof key, "confirm:%s", token);
    snprintf(value, sizeof value, "%" PRId64 " %" PRId64 " pending /%s %.*s", app_now_ms() + CONFIRM_TTL_MS,
             c->user_id, c->cmd->name, (int)sbuf_utf8_prefix(c->args, 400), c->args);
    if (store_kv_set(c->app->db, key, value)) {
        sbuf_puts(c->out, "❌ cannot keep the confirmation (see the log); nothing was done.");
        return -1;
    }
    sbuf_puts(c->out, question_html);
    snprintf(line, sizeof line, "/confirm %s", token);
    sbuf_htmlf(c->out, "\nConfirm within 60 s (%s), or cancel.", line);
    char cancel[80];
    snprintf(cancel, sizeof cancel, "/confirm %s cancel", token);
    const char *labels[] = {"✅ Confirm", "✖️ Cancel"}, *lines[] = {line, cancel};
    cmd_buttons(c, labels, lines, 2);
    return 0;
}

void cmd_confirm(struct cmd_ctx *c)
{
    char w[3][CMD_WORD_MAX], key[96], value[600];
    int nw = cmd_words(c->args, w, 2);
    int64_t expires, asker;
    int off = 0;
    char state[16];
    if (nw < 1 || nw > 2 || (nw == 2 && strcmp(w[1], "cancel") != 0) || strlen(w[0]) != 16 ||
        strspn(w[0], "0123456789abcdef") != 16) {
        cmd_usage(c);
        return;
    }
    snprintf(key, sizeof key, "confirm:%s", w[0]);
    if (store_kv_get(c->app->db, key, value, sizeof value) != 0 ||
        sscanf(value, "%" SCNd64 " %" SCNd64 " %15s %n", &expires, &asker, state, &off) != 3 || !off) {
        sbuf_puts(c->out, "Unknown confirmation: nothing was done.");
        return;
    }
    if (asker != c->user_id) {
        LOG_W("chat", "confirmation %s pressed by %" PRId64 ", asked by %" PRId64 ": ignored", w[0], c->user_id,
              asker);
        sbuf_puts(c->out, "Only the admin who asked can confirm this.");
        return;
    }
    if (strcmp(state, "pending") != 0) {
        sbuf_htmlf(c->out, "Already %s: nothing was done again.", state);
        return;
    }
    if (app_now_ms() > expires) {
        sbuf_puts(c->out, "This confirmation expired (60 s): nothing was done. Ask again.");
        return;
    }
    const char *line = value + off;
    char kept[600];
    snprintf(kept, sizeof kept, "%" PRId64 " %" PRId64 " %s %s", expires, asker, nw == 2 ? "cancelled" : "done",
             line);
    if (store_kv_set(c->app->db, key, kept)) {   /* used before it runs: never twice */
        sbuf_puts(c->out, "❌ cannot mark the confirmation used (see the log); nothing was done.");
        return;
    }
    if (nw == 2) {
        sbuf_puts(c->out, "Cancelled: nothing was done.");
        return;
    }
    /* Run the kept command line, marked confirmed. */
    const char *name = line + 1, *sp = strchr(name, ' ');
    size_t nl = sp ? (size_t)(sp - name) : strlen(name);
    const struct bot_command *cmd = cmd_find(name, nl);
    if (!cmd) {
        sbuf_puts(c->out, "❌ the confirmed command no longer exists.");
        return;
    }
    LOG_I("chat", "confirmed by %" PRId64 ": %s", c->user_id, line);
    const struct bot_command *self = c->cmd;
    const char *args = c->args;
    c->cmd = cmd;
    c->args = sp ? sp + 1 : "";
    c->confirmed = 1;
    cmd->run(c);
    c->confirmed = 0;
    c->cmd = self;
    c->args = args;
}
