/*
 * /disable_plugin — placeholder until its module lands (SPEC section 7). Never blocks.
 */
#include "commands.h"
#include "sbuf.h"

void cmd_disable_plugin(struct cmd_ctx *c)
{
    sbuf_puts(c->out, "<b>/disable_plugin</b> is not available yet");
}
