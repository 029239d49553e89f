/*
 * /signal ... — a signal typed in chat, with the grammar of SPEC section 5, on
 * the same path as a webhook signal: journaled (source "telegram" or
 * "console"), dispatched, answered when committed. From Telegram the update id
 * is the signal's id unless one is given, so a command redelivered after a
 * crash is a duplicate, never a second trade. The reply is deferred until the
 * journal's group commit; nothing here blocks.
 */
#include "app.h"
#include "commands.h"
#include "intake.h"
#include "journal.h"
#include "registry.h"
#include "sbuf.h"
#include "signal.h"

#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

static void on_done(void *ud, int status, const char *json)
{
    struct cmd_pending *p = ud;
    struct sbuf out;
    json_object *o = json_tokener_parse(json), *v, *res;
    sbuf_init(&out);
    if ((status != 200 && status != 202) || !o || !json_object_object_get_ex(o, "results", &res)) {
        sbuf_puts(&out, "❌ ");
        sbuf_html(&out, o && json_object_object_get_ex(o, "error", &v) ? json_object_get_string(v) : json);
    } else {
        int dup = json_object_object_get_ex(o, "duplicate", &v) && json_object_get_boolean(v);
        json_object_object_get_ex(o, "signal_id", &v);
        sbuf_printf(&out, "Signal #%lld%s\n", (long long)json_object_get_int64(v), dup ? " (duplicate: not run again)" : "");
        size_t n = json_object_array_length(res);
        if (n == 0)
            sbuf_puts(&out, "No plugin took it.");
        for (size_t i = 0; i < n; i++) {
            json_object *r = json_object_array_get_idx(res, i), *x;
            const char *plugin = json_object_object_get_ex(r, "plugin", &x) ? json_object_get_string(x) : "?";
            const char *st = json_object_object_get_ex(r, "status", &x) ? json_object_get_string(x) : "?";
            sbuf_htmlf(&out, "%s: %s", plugin, st);
            if (json_object_object_get_ex(r, "trade_id", &x))
                sbuf_printf(&out, " #%lld", (long long)json_object_get_int64(x));
            if (json_object_object_get_ex(r, "reason", &x))
                sbuf_htmlf(&out, " (%s)", json_object_get_string(x));
            sbuf_puts(&out, "\n");
        }
    }
    cmd_finish(p, sbuf_str(&out), NULL);
    sbuf_free(&out);
    json_object_put(o);
}

void cmd_signal(struct cmd_ctx *c)
{
    sig_parsed s;
    char err[300], raw[600];
    if (!c->args[0]) {
        cmd_usage(c);
        return;
    }
    if (sig_parse_text(c->args, strlen(c->args), &s, err, sizeof err)) {
        sbuf_puts(c->out, "❌ ");
        sbuf_html(c->out, err);
        sbuf_puts(c->out, "\n");
        cmd_usage(c);
        return;
    }
    if (intake_check(c->app, &s, err, sizeof err)) {
        sbuf_htmlf(c->out, "❌ %s", err);
        if (s.plugin[0] && !reg_find(&c->app->reg, s.plugin))
            sbuf_puts(c->out, ". /plugins lists them.");
        return;
    }
    if (!s.id[0] && c->update_key)
        snprintf(s.id, sizeof s.id, "%s", c->update_key);
    char kept[580];
    sig_redact_body(c->args, strlen(c->args), kept, sizeof kept);  /* no secret= in the journal */
    snprintf(raw, sizeof raw, "/signal %s", kept);
    struct cmd_pending *p = cmd_defer(c);
    if (!p) {
        sbuf_puts(c->out, "❌ out of memory; the signal was not executed.");
        return;
    }
    if (jrn_submit(c->app, &s, c->source, raw, on_done, p, err, sizeof err)) {
        struct sbuf msg;
        sbuf_init(&msg);
        sbuf_htmlf(&msg, "❌ %s; the signal was not executed.", err);
        cmd_finish(p, sbuf_str(&msg), NULL);
        sbuf_free(&msg);
    }
}
