/*
 * commands — the command table (SPEC section 7, in its order) and the small
 * helpers every command shares. Pure table lookups and string building: never
 * blocks, never touches the network.
 */
#include "commands.h"
#include "sbuf.h"

#include <json-c/json.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

const struct bot_command bot_commands[] = {
    {"start", "", "welcome and the command list", cmd_start},
    {"help", "", "the command list", cmd_help},
    {"status", "", "uptime, broker, webhook, plugins, today's activity, paused or not", cmd_status},
    {"plugins", "", "each plugin: id, name, version, state", cmd_plugins},
    {"enable_plugin", "ID", "enable a plugin (persisted)", cmd_enable_plugin},
    {"disable_plugin", "ID", "disable a plugin (persisted)", cmd_disable_plugin},
    {"reload_plugin", "ID", "hot-reload a plugin's new build", cmd_reload_plugin},
    {"stats", "[ID] [today|week|month|all]", "performance: trades, win rate, profit, drawdown", cmd_stats},
    {"trades", "ID [N]", "the last N (default 10) trades of a plugin", cmd_trades},
    {"positions", "[ID]", "open trades with price and floating profit", cmd_positions},
    {"signal", "[PLUGIN|all] ACTION SYMBOL [key=value ...]", "inject a signal by hand", cmd_signal},
    {"close", "ID TRADE_ID|all [lot=X|pct=P]", "close one or all open trades of a plugin, or part of one", cmd_close},
    {"modify", "ID TRADE_ID [sl=PRICE] [tp=PRICE]", "move a trade's stop loss / take profit", cmd_modify},
    {"pause", "", "stop opening new trades (closing still works)", cmd_pause},
    {"resume", "", "resume opening new trades", cmd_resume},
    {"risk", "", "the risk limits in force and today's use", cmd_risk},
    {"journal", "[N] [ID]", "the last N signals and what each plugin did with them", cmd_journal},
    {"preview", "[PLUGIN|all] ACTION SYMBOL [key=value ...]", "dry run: what each plugin would do with a signal", cmd_preview},
    {"replay", "ID [N]", "the last N journaled signals through the plugin's build on disk: what differs", cmd_replay},
    {"shadow", "ID", "run the plugin's build on disk beside the live one, on paper", cmd_shadow},
    {"promote", "ID", "make the shadow's build the live one (hot reload)", cmd_promote},
    {"unshadow", "ID", "end the plugin's shadow", cmd_unshadow},
    {"mute", "TYPE", "silence a notification type: trades, rejects, failures, reports, shadow", cmd_mute},
    {"unmute", "TYPE", "send a muted notification type again", cmd_unmute},
    {"panic", "", "pause and close every open trade of every plugin (asks first)", cmd_panic},
    {"confirm", "TOKEN [cancel]", "confirm or cancel a dangerous command (its buttons do it)", cmd_confirm},
    {"daily", "", "today's report so far", cmd_daily},
    {"chart", "[ID] [today|week|month|all]", "equity curve as a picture", cmd_chart},   /* not in SPEC 7 */
    {"export", "ID [today|week|month|all]", "the plugin's trades of the period as a CSV document", cmd_export},
};
const size_t bot_commands_count = sizeof bot_commands / sizeof bot_commands[0];

const struct bot_command *cmd_find(const char *name, size_t len)
{
    for (size_t i = 0; i < bot_commands_count; i++)
        if (strlen(bot_commands[i].name) == len && strncasecmp(bot_commands[i].name, name, len) == 0)
            return &bot_commands[i];
    return NULL;
}

void cmd_usage(struct cmd_ctx *c)
{
    const struct bot_command *cmd = c->cmd;
    if (!cmd) {
        sbuf_puts(c->out, "Usage: see /help");
        return;
    }
    sbuf_puts(c->out, "Usage: /");
    sbuf_puts(c->out, cmd->name);
    if (cmd->args[0]) {
        sbuf_puts(c->out, " <code>");
        sbuf_html(c->out, cmd->args);
        sbuf_puts(c->out, "</code>");
    }
}

int cmd_buttons(struct cmd_ctx *c, const char *const *labels, const char *const *lines, size_t n)
{
    json_object *root = NULL, *rows, *row = json_object_new_array();
    int rc = -1;
    if (!row)
        return -1;
    if (c->markup[0]) {
        root = json_tokener_parse(c->markup);
        if (!root || !json_object_object_get_ex(root, "inline_keyboard", &rows) ||
            !json_object_is_type(rows, json_type_array))
            goto fail;
    } else {
        if (!(root = json_object_new_object()) || !(rows = json_object_new_array()) ||
            json_object_object_add(root, "inline_keyboard", rows))
            goto fail;
    }
    for (size_t i = 0; i < n; i++) {
        char data[80];
        json_object *b = json_object_new_object();
        /* callback_data is at most 64 bytes (Bot API). */
        if (!b || (size_t)snprintf(data, sizeof data, "cmd:%s", lines[i]) > 64 ||
            json_object_array_add(row, b)) {
            json_object_put(b);
            goto fail;
        }
        json_object_object_add(b, "text", json_object_new_string(labels[i]));
        json_object_object_add(b, "callback_data", json_object_new_string(data));
    }
    if (json_object_array_add(rows, row))
        goto fail;
    row = NULL;
    const char *s = json_object_to_json_string_ext(root, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
    if (strlen(s) >= sizeof c->markup)
        goto fail;
    snprintf(c->markup, sizeof c->markup, "%s", s);
    rc = 0;
fail:
    json_object_put(row);
    json_object_put(root);
    return rc;
}

/* Help groups: a command the map does not know lands in "Other", so a new table
 * entry always shows up in /help. */
static const struct { const char *name, *group; } help_groups[] = {
    {"start", "General"}, {"help", "General"}, {"status", "General"},
    {"plugins", "Plugins"}, {"enable_plugin", "Plugins"}, {"disable_plugin", "Plugins"},
    {"reload_plugin", "Plugins"},
    {"stats", "Reports"}, {"trades", "Reports"}, {"positions", "Reports"}, {"daily", "Reports"},
    {"chart", "Reports"}, {"export", "Reports"},
    {"signal", "Trading"}, {"close", "Trading"}, {"modify", "Trading"}, {"pause", "Trading"},
    {"resume", "Trading"}, {"risk", "Trading"}, {"journal", "Reports"}, {"panic", "Trading"}, {"preview", "Trading"}, {"replay", "Plugins"}, {"shadow", "Plugins"}, {"promote", "Plugins"}, {"unshadow", "Plugins"}, {"mute", "General"}, {"unmute", "General"}, {"confirm", "Other"},
};
static const char *const group_order[] = {"General", "Plugins", "Reports", "Trading", "Other"};

static const char *group_of(const char *name)
{
    for (size_t i = 0; i < sizeof help_groups / sizeof help_groups[0]; i++)
        if (strcmp(help_groups[i].name, name) == 0)
            return help_groups[i].group;
    return "Other";
}

void cmd_write_help(struct sbuf *out)
{
    int first = 1;
    for (size_t g = 0; g < sizeof group_order / sizeof group_order[0]; g++) {
        int any = 0;
        for (size_t i = 0; i < bot_commands_count; i++) {
            const struct bot_command *cmd = &bot_commands[i];
            if (strcmp(group_of(cmd->name), group_order[g]) != 0)
                continue;
            if (!any) {
                sbuf_printf(out, "%s<b>%s</b>\n", first ? "" : "\n", group_order[g]);
                any = 1;
                first = 0;
            }
            /* "/name ARGS  help": the command stays tappable in Telegram, the
             * arguments are monospace, and the line reads well in a terminal. */
            sbuf_printf(out, "/%s", cmd->name);
            if (cmd->args[0]) {
                sbuf_puts(out, " <code>");
                sbuf_html(out, cmd->args);
                sbuf_puts(out, "</code>");
            }
            sbuf_puts(out, " — ");
            sbuf_html(out, cmd->help);
            sbuf_puts(out, "\n");
        }
    }
}
