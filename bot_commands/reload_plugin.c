/*
 * /reload_plugin — placeholder until its module lands (SPEC section 7). Never blocks.
 */
#include "commands.h"
#include "sbuf.h"

void cmd_reload_plugin(struct cmd_ctx *c)
{
    sbuf_puts(c->out, "<b>/reload_plugin</b> is not available yet");
}
