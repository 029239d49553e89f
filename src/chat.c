/*
 * chat — placeholder until the Telegram client lands: nothing to start.
 */
#include "chat.h"
#include "app.h"
#include "log.h"

int chat_app_start(struct app *a, char *err, size_t errlen)
{
    (void)err;
    (void)errlen;
    a->chat = NULL;
    return 0;
}

void chat_app_stop(struct app *a) { (void)a; }
void chat_app_free(struct app *a) { a->chat = NULL; }

void chat_notify(struct app *a, const char *text)
{
    (void)a;
    LOG_I("notify", "%s", text);
}
