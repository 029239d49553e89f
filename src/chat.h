/*
 * chat — the operator's control plane: the Telegram Bot API client and the
 * console feed one command router; replies go back to where the command came
 * from. app.c calls only the lifecycle functions below; everything else about chat
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

/* One message (Telegram HTML, split when long) to every admin chat and the
 * console, sent as it is: not coalesced with notifications. */
void chat_broadcast(struct app *a, const char *html);

/* SPEC 12 safe mode: a plugin that failed (failed=1) or was disabled with
 * n_open open trades: one message to the admins with the buttons Close them /
 * Restart the plugin / Leave them. */
void chat_orphans(struct app *a, const char *plugin_id, int failed, size_t n_open);
/* A PNG (len bytes, copied) with a caption (Telegram HTML, at most 1024
 * characters of text) to every admin chat; the console gets the caption. */
void chat_broadcast_photo(struct app *a, const void *png, size_t len, const char *caption_html);

#endif
