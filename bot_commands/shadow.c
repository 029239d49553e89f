/*
 * /shadow ID — run the plugin's build on disk beside the live one (SPEC 12
 * "Shadow", shadow.h): every signal and quote, its own paper broker and
 * database, marked notifications; /stats ID shows both. Loads a local file;
 * never touches the network.
 */
#include "app.h"
#include "args.h"
#include "commands.h"
#include "registry.h"
#include "sbuf.h"
#include "shadow.h"

void cmd_shadow(struct cmd_ctx *c)
{
    char err[400];
    struct plugin *p = cmd_only_plugin(c);
    if (!p)
        return;
    if (shd_start(c->app, p, 0, err, sizeof err)) {
        sbuf_htmlf(c->out, "❌ no shadow for %s: %s", p->id, err);
        return;
    }
    sbuf_htmlf(c->out, "👻 %s: the build on disk (%s) runs as a shadow beside the live %s: every signal and quote, "
               "its orders on a paper broker of its own, its trades in zepix_%s.shadow.db. /stats %s compares them; "
               "/promote %s makes it live, /unshadow %s ends it. A restart keeps the live build live and the "
               "shadow running.", p->id, p->shadow->def ? p->shadow->def->version : "?",
               p->def ? p->def->version : "(not loaded)", p->id, p->id, p->id, p->id);
}
