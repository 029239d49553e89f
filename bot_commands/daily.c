/*
 * /daily — placeholder until its module lands (SPEC section 7). Never blocks.
 */
#include "commands.h"
#include "sbuf.h"

void cmd_daily(struct cmd_ctx *c)
{
    sbuf_puts(c->out, "<b>/daily</b> is not available yet");
}
