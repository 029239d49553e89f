/*
 * /unshadow ID — end the plugin's shadow (SPEC 12 "Shadow"); the live build
 * runs on untouched, the shadow's database stays on disk.
 */
#include "app.h"
#include "args.h"
#include "commands.h"
#include "registry.h"
#include "sbuf.h"
#include "shadow.h"

void cmd_unshadow(struct cmd_ctx *c)
{
    char err[300];
    int64_t since, n = 0, d = 0;
    struct plugin *p = cmd_only_plugin(c);
    if (!p)
        return;
    int counted = shd_counts(c->app, p->id, &since, &n, &d) == 0;
    if (shd_stop(c->app, p, err, sizeof err)) {
        sbuf_htmlf(c->out, "❌ %s", err);
        return;
    }
    sbuf_htmlf(c->out, "👻 the shadow of %s ended", p->id);
    if (counted)
        sbuf_htmlf(c->out, " after %lld signals, %lld decided differently", (long long)n, (long long)d);
    sbuf_htmlf(c->out, "; the live %s runs on (its trades stay in zepix_%s.shadow.db).",
               p->def ? p->def->version : "(not loaded)", p->id);
}
