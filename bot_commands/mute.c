/*
 * /mute TYPE — silence one kind of notification (SPEC 12):
 * trades, rejects, failures or reports (src/notify.h); persisted in the host
 * database. Muted notes are still logged. Never blocks (one kv write).
 */
#include "args.h"
#include "commands.h"

void cmd_mute(struct cmd_ctx *c)
{
    cmd_set_mute(c, 1);
}
