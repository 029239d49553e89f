/*
 * /help — the command list, grouped, one line per command (from the table in
 * commands.c, so it can never miss a command). Never blocks.
 */
#include "commands.h"
#include "sbuf.h"

void cmd_help(struct cmd_ctx *c)
{
    cmd_write_help(c->out);
}
