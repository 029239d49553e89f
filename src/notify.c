/*
 * notify — see notify.h.
 */
#include "notify.h"
#include "app.h"
#include "chat.h"
#include "log.h"
#include "sbuf.h"
#include "store.h"

#include <stdio.h>
#include <string.h>

const char *const notify_kinds[] = {"trades", "rejects", "failures", "reports", "shadow", NULL};

/* The rejects' rate, per minute of the wall clock (one process, one loop). */
static int64_t rej_minute;
static int rej_sent, rej_held;

int notify_kind_valid(const char *kind)
{
    for (int i = 0; notify_kinds[i]; i++)
        if (strcmp(kind, notify_kinds[i]) == 0)
            return 1;
    return 0;
}

int notify_muted(struct app *a, const char *kind)
{
    char key[32], v[8];
    snprintf(key, sizeof key, "mute:%s", kind);
    return a->db && store_kv_get(a->db, key, v, sizeof v) == 0 && strcmp(v, "1") == 0;
}

int notify_set_muted(struct app *a, const char *kind, int muted)
{
    char key[32];
    snprintf(key, sizeof key, "mute:%s", kind);
    if (store_kv_set(a->db, key, muted ? "1" : "0"))
        return -1;
    LOG_I("notify", "%s notifications %s", kind, muted ? "muted" : "unmuted");
    return 0;
}

void notify_send(struct app *a, const char *kind, const char *text)
{
    if (notify_muted(a, kind)) {
        LOG_I("notify", "(%s muted) %s", kind, text);
        return;
    }
    if (strcmp(kind, "rejects") == 0) {
        int64_t minute = app_now_ms() / 60000;
        if (minute != rej_minute) {
            rej_minute = minute;
            rej_sent = 0;
        }
        if (rej_sent >= NOTIFY_REJECTS_PER_MIN) {
            rej_held++;
            LOG_I("notify", "(rejects over %d a minute, held) %s", NOTIFY_REJECTS_PER_MIN, text);
            return;
        }
        rej_sent++;
        if (rej_held) {
            char more[600];
            snprintf(more, sizeof more, "%.*s (and %d more held back: /journal)", (int)sbuf_utf8_prefix(text, 500), text, rej_held);
            rej_held = 0;
            chat_notify(a, more);
            return;
        }
    }
    chat_notify(a, text);
}
