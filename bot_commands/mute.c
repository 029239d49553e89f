/*
 * /mute TYPE — silence one kind of notification (SPEC 12):
 * trades, rejects, failures or reports (src/notify.h); persisted in the host
 * database. Muted notes are still logged. Never blocks (one kv write).
 */
#include "app.h"
#include "args.h"
#include "commands.h"
#include "notify.h"
#include "sbuf.h"

void cmd_mute(struct cmd_ctx *c)
{
    char w[2][CMD_WORD_MAX];
    if (cmd_words(c->args, w, 1) != 1 || !notify_kind_valid(w[0])) {
        sbuf_puts(c->out, "TYPE is one of: trades, rejects, failures, reports. ");
        cmd_usage(c);
        return;
    }
    if (notify_set_muted(c->app, w[0], 1)) {
        sbuf_puts(c->out, "❌ could not save it (see the log).");
        return;
    }
    sbuf_htmlf(c->out, "🔇 %s notifications muted (/unmute %s to get them again).", w[0], w[0]);
}
