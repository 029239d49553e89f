/*
 * /start — the first thing a new operator sees: a one-line welcome and the
 * command list. Never blocks.
 */
#include "app.h"
#include "commands.h"
#include "sbuf.h"

void cmd_start(struct cmd_ctx *c)
{
    sbuf_printf(c->out, "<b>zepix %s</b> — trading controller. Commands:\n\n", ZEPIX_VERSION);
    cmd_write_help(c->out);
}
