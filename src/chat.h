/*
 * chat — the operator's control plane: the Telegram Bot API client and the
 * console feed one command router; replies go back to where the command came
 * from. app.c calls only the three functions below; everything else about chat
 * (telegram.c, console.c, bot_commands/) hangs off struct chat_state.
 */
#ifndef ZEPIX_CHAT_H
#define ZEPIX_CHAT_H

#include <stddef.h>
#include <stdint.h>

struct app;
struct chat_state;

/* Start Telegram polling (when a token is set) and the console (when enabled
 * and stdin is a terminal). 0, or -1 with err. Sets a->chat. */
int chat_app_start(struct app *a, char *err, size_t errlen);
/* Stop taking new commands (the daemon is stopping). */
void chat_app_stop(struct app *a);
/* Replies and notifications not yet sent (the stop waits for them, briefly). */
size_t chat_pending(struct app *a);
/* Release everything; a->chat becomes NULL. */
void chat_app_free(struct app *a);

/* Push a notification to every admin chat (and the console), plain text; the
 * chat layer escapes, rate-limits and coalesces. */
void chat_notify(struct app *a, const char *text);

#endif
