/*
 * /promote ID — the shadow's build becomes the live one by hot reload (SPEC
 * section 8 rules: loaded beside the old one, swapped between two signals, so
 * no signal is lost or doubled) and the shadow ends (SPEC 12 "Shadow").
 */
#include "app.h"
#include "args.h"
#include "commands.h"
#include "registry.h"
#include "sbuf.h"
#include "shadow.h"

void cmd_promote(struct cmd_ctx *c)
{
    char err[400], old_v[32], new_v[32];
    double ms = 0;
    int64_t since, n = 0, d = 0;
    struct plugin *p = cmd_only_plugin(c);
    if (!p)
        return;
    int counted = shd_counts(c->app, p->id, &since, &n, &d) == 0;
    if (shd_promote(c->app, p, old_v, new_v, sizeof old_v, &ms, err, sizeof err)) {
        sbuf_htmlf(c->out, "❌ %s not promoted; the live %s keeps running: %s", p->id,
                   p->def ? p->def->version : "(not loaded)", err);
        return;
    }
    sbuf_htmlf(c->out, "🚀 %s promoted: %s → %s in %.1f ms (%s); the shadow ended", p->id, old_v, new_v, ms,
               reg_state_name(p->st));
    if (counted)
        sbuf_htmlf(c->out, " after %lld signals, %lld decided differently", (long long)n, (long long)d);
    sbuf_puts(c->out, ". A restart keeps this build live.");
}
