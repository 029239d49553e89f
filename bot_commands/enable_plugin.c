/*
 * /enable_plugin ID — enable a plugin (a failed one is loaded again), call its
 * hook, persist the state. Never blocks beyond one local SQLite write (and a
 * dlopen of a local file when a failed plugin is loaded again).
 */
#include "app.h"
#include "args.h"
#include "commands.h"
#include "registry.h"
#include "sbuf.h"

void cmd_enable_plugin(struct cmd_ctx *c)
{
    char err[300];
    struct plugin *p = cmd_only_plugin(c);
    if (!p)
        return;
    if (reg_enable(&c->app->reg, p, err, sizeof err)) {
        sbuf_puts(c->out, "❌ ");
        sbuf_html(c->out, err);
        return;
    }
    sbuf_htmlf(c->out, "✅ %s %s enabled (persisted).", p->id, p->def ? p->def->version : "");
}
