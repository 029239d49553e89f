/*
 * /journal [N] [ID] — "why didn't it trade?": the last N signals (default 10,
 * at most 50) from the journal, newest first: time (UTC), source, action,
 * symbol, and per plugin its outcome with the reason. With ID, only the
 * signals that reached that plugin. One indexed query on the host database.
 */
#include "app.h"
#include "args.h"
#include "commands.h"
#include "journal.h"
#include "ledger.h"
#include "registry.h"
#include "sbuf.h"

#include <stdlib.h>
#include <string.h>

struct jctx {
    struct cmd_ctx *c;
    int64_t last;
};

static void row(void *ud, const struct jrn_row *r)
{
    struct jctx *j = ud;
    if (r->id != j->last) {
        char t[32];
        ldg_format_time(r->received_ms, t, sizeof t);
        sbuf_htmlf(j->c->out, "\n#%lld %s %s: %s %s", (long long)r->id, t + 5, r->source, r->action, r->symbol);
        if (strcmp(r->state, "done") != 0)
            sbuf_htmlf(j->c->out, " [%s]", r->state);
        sbuf_puts(j->c->out, "\n");
        j->last = r->id;
    }
    if (!r->plugin[0]) {
        sbuf_puts(j->c->out, "  no plugin took it\n");
        return;
    }
    sbuf_htmlf(j->c->out, "  %s: %s", r->plugin, r->status);
    if (r->trade_id)
        sbuf_printf(j->c->out, " #%lld", (long long)r->trade_id);
    if (r->reason[0])
        sbuf_htmlf(j->c->out, " (%s)", r->reason);
    sbuf_puts(j->c->out, "\n");
}

void cmd_journal(struct cmd_ctx *c)
{
    char w[3][CMD_WORD_MAX], *end;
    int nw = cmd_words(c->args, w, 2), n = 10;
    const char *id = NULL;
    if (nw > 2) {
        cmd_usage(c);
        return;
    }
    for (int i = 0; i < nw; i++) {
        long v = strtol(w[i], &end, 10);
        if (!*end && v > 0 && v <= 50) {
            n = (int)v;
        } else if (!*end) {
            sbuf_puts(c->out, "N must be 1..50. ");
            cmd_usage(c);
            return;
        } else if (!id && cmd_plugin(c, w[i])) {
            id = w[i];
        } else {
            return;     /* cmd_plugin said why */
        }
    }
    struct jctx j = {c, 0};
    sbuf_puts(c->out, "<b>Journal</b>");
    sbuf_htmlf(c->out, ", last %d signal%s%s%s\n", n, n == 1 ? "" : "s", id ? " of " : "", id ? id : "");
    sbuf_puts(c->out, "<pre>");
    int rows = jrn_recent(c->app, n, id, row, &j);
    if (rows == 0)
        sbuf_puts(c->out, "\nno signals yet\n");
    sbuf_puts(c->out, "</pre>");
    if (rows < 0)
        sbuf_puts(c->out, "The journal could not be read (see the log).");
}
