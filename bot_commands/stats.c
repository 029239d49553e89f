/*
 * /stats — placeholder until its module lands (SPEC section 7). Never blocks.
 */
#include "commands.h"
#include "sbuf.h"

void cmd_stats(struct cmd_ctx *c)
{
    sbuf_puts(c->out, "<b>/stats</b> is not available yet");
}
