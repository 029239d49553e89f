/*
 * /disable_plugin ID — stop a plugin from taking signals: call its hook and
 * persist the state. Its open trades stay open and keep their SL/TP. Never
 * blocks beyond one local SQLite write.
 */
#include "app.h"
#include "args.h"
#include "commands.h"
#include "registry.h"
#include "sbuf.h"

void cmd_disable_plugin(struct cmd_ctx *c)
{
    char err[300];
    struct plugin *p = cmd_only_plugin(c);
    if (!p)
        return;
    if (reg_disable(&c->app->reg, p, err, sizeof err)) {
        sbuf_puts(c->out, "❌ ");
        sbuf_html(c->out, err);
        return;
    }
    sbuf_htmlf(c->out, "⏹ %s disabled (persisted). Its open trades stay open; /positions %s", p->id, p->id);
}
