/*
 * /reload_plugin ID — hot reload (SPEC section 8): the new build is loaded and
 * initialised beside the old one and swapped in only if that worked. Replies
 * old -> new version and the milliseconds taken. Loads a local file; never
 * touches the network. An id that is not known yet is looked for in plugin_dir
 * (a plugin directory dropped in without a restart). When the build on disk
 * differed from the running one, the reply points at /replay and /shadow.
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
    char err[300] = "", old_v[32], new_v[32], w[2][CMD_WORD_MAX];
    double ms = 0;
    if (cmd_words(c->args, w, 1) != 1) {
        cmd_usage(c);
        return;
    }
    struct plugin *p = reg_find(&c->app->reg, w[0]);
    if (!p) {
        /* A plugin directory dropped in after the start is discovered here. */
        if (!(p = reg_add_new(&c->app->reg, w[0], err, sizeof err))) {
            sbuf_htmlf(c->out, "❌ Unknown plugin %s: %s. /plugins lists the known ones.", w[0], err);
            return;
        }
        if (p->st == PLG_FAILED)
            sbuf_htmlf(c->out, "❌ New plugin %s found but it failed to load: %s", p->id, p->reason);
        else
            sbuf_htmlf(c->out, "🆕 New plugin %s %s loaded (%s).%s", p->id, p->def->version,
                       reg_state_name(p->st), p->st == PLG_ENABLED ? "" : " /enable_plugin to start it.");
        return;
    }
    int differs = p->def ? reg_disk_differs(&c->app->reg, p) : -1;
    if (reg_reload(&c->app->reg, p, old_v, new_v, sizeof old_v, &ms, err, sizeof err)) {
        sbuf_htmlf(c->out, "❌ Reload of %s refused; %s keeps running.\nReason: %s", p->id,
                   p->def ? p->def->version : "nothing", err);
        return;
    }
    sbuf_htmlf(c->out, "🔄 %s reloaded: %s → %s in %.1f ms (%s).", p->id, old_v, new_v, ms,
               reg_state_name(p->st));
    if (differs == 1)   /* SPEC 12: a changed build went live without a trial */
        sbuf_htmlf(c->out, "\nThe build on disk differed from the one that was running. Next time, /replay %s "
                   "runs the journal through a new build and /shadow %s trades it on paper first.", p->id, p->id);
}
