/*
 * /plugins — each plugin: id, name, version, state (enabled, disabled, failed:
 * reason), with buttons to enable/disable and reload it. In-memory; never blocks.
 */
#include "app.h"
#include "commands.h"
#include "registry.h"
#include "sbuf.h"

#include <stdio.h>
#include <string.h>

void cmd_plugins(struct cmd_ctx *c)
{
    struct registry *r = &c->app->reg;
    if (c->args[0]) {
        cmd_usage(c);
        return;
    }
    if (r->n == 0) {
        sbuf_printf(c->out, "No plugins found in <code>");
        sbuf_html(c->out, c->app->cfg.plugin_system.plugin_dir);
        sbuf_puts(c->out, "</code>.");
        return;
    }
    sbuf_printf(c->out, "<b>Plugins</b>: %zu enabled of %zu\n<pre>", reg_count_state(r, PLG_ENABLED), r->n);
    for (size_t i = 0; i < r->n; i++) {
        struct plugin *p = r->v[i];
        sbuf_htmlf(c->out, "%-16s %-8s %s\n", p->id, p->def ? p->def->version : "-", reg_state_name(p->st));
    }
    sbuf_puts(c->out, "</pre>");
    for (size_t i = 0; i < r->n; i++) {
        struct plugin *p = r->v[i];
        if (p->def && strcmp(p->def->name, p->id) != 0)
            sbuf_htmlf(c->out, "%s: %s\n", p->id, p->def->name);
        if (p->st == PLG_FAILED)
            sbuf_htmlf(c->out, "⚠️ %s failed: %s\n", p->id, p->reason);
    }
    for (size_t i = 0; i < r->n; i++) {
        struct plugin *p = r->v[i];
        char toggle[96], reload[96], l1[96], l2[96];
        if (strlen(p->id) > 40)     /* callback data is limited to 64 bytes */
            continue;
        int on = p->st == PLG_ENABLED;
        snprintf(l1, sizeof l1, "%s %s", on ? "Disable" : "Enable", p->id);
        snprintf(toggle, sizeof toggle, "/%s %s", on ? "disable_plugin" : "enable_plugin", p->id);
        snprintf(l2, sizeof l2, "Reload %s", p->id);
        snprintf(reload, sizeof reload, "/reload_plugin %s", p->id);
        const char *labels[] = {l1, l2}, *lines[] = {toggle, reload};
        cmd_buttons(c, labels, lines, 2);
    }
}
