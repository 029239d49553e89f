/*
 * /reload_plugin ID — hot reload (SPEC section 8): the new build is loaded and
 * initialised beside the old one and swapped in only if that worked. Replies
 * old -> new version and the milliseconds taken. Loads a local file; never
 * touches the network.
 */
#include "app.h"
#include "args.h"
#include "chat.h"
#include "commands.h"
#include "registry.h"
#include "sbuf.h"

#include <stdio.h>

void cmd_reload_plugin(struct cmd_ctx *c)
{
    char err[300], old_v[32], new_v[32];
    double ms = 0;
    struct plugin *p = cmd_only_plugin(c);
    if (!p)
        return;
    if (reg_reload(&c->app->reg, p, old_v, new_v, sizeof old_v, &ms, err, sizeof err)) {
        sbuf_htmlf(c->out, "❌ Reload of %s refused; %s keeps running.\nReason: %s", p->id,
                   p->def ? p->def->version : "nothing", err);
        return;
    }
    sbuf_htmlf(c->out, "🔄 %s reloaded: %s → %s in %.1f ms (%s).", p->id, old_v, new_v, ms,
               reg_state_name(p->st));
}
