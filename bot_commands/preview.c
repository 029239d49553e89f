/*
 * /preview ... — a signal (the grammar of SPEC section 5) run through the
 * plugins' on_signal_received in throwaway sandboxes (src/preview.h): each
 * plugin's verdict, reason, lot, SL/TP and what the risk checks would say.
 * Nothing is placed or journaled. Each plugin's run holds the loop for at most
 * its init and one hook deadline (as a hook call does).
 */
#include "app.h"
#include "commands.h"
#include "intake.h"
#include "preview.h"
#include "sbuf.h"
#include "signal.h"

#include <string.h>

#define PRV_MAX 64

void cmd_preview(struct cmd_ctx *c)
{
    sig_parsed s;
    char err[300];
    static struct prv_result res[PRV_MAX];
    if (!c->args[0]) {
        cmd_usage(c);
        return;
    }
    if (sig_parse_text(c->args, strlen(c->args), &s, err, sizeof err) || intake_check(c->app, &s, err, sizeof err)) {
        sbuf_htmlf(c->out, "❌ %s (nothing was run)", err);
        return;
    }
    int n = prv_run(c->app, &s, res, PRV_MAX, err, sizeof err);
    sbuf_puts(c->out, "🔍 <b>Preview</b> ");
    sbuf_htmlf(c->out, "of %s %s (nothing placed, nothing journaled)\n", sig_action_name(s.action), s.symbol);
    if (n <= 0)
        sbuf_puts(c->out, n < 0 ? "The preview could not run." : "No plugin would get it.");
    for (int i = 0; i < n; i++) {
        const struct prv_result *r = &res[i];
        sbuf_puts(c->out, "\n<b>");
        sbuf_html(c->out, r->plugin);
        sbuf_puts(c->out, "</b>");
        sbuf_htmlf(c->out, ": %s", r->verdict);
        if (r->reason[0])
            sbuf_htmlf(c->out, " (%s)", r->reason);
        if (strcmp(r->verdict, "accept") == 0 && r->lot > 0)
            sbuf_htmlf(c->out, "\n  lot %.2f, sl %g, tp %g; risk check: %s", r->lot, r->sl, r->tp, r->risk);
        if (r->orders[0])
            sbuf_htmlf(c->out, "\n  it would ask: %s", r->orders);
    }
    if (s.sizing[0])
        sbuf_htmlf(c->out, "\n%s", s.sizing);
}
