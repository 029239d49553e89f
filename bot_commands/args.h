/*
 * args — argument helpers shared by the chat commands: split the argument text
 * into words, resolve a plugin id with a readable error. Pure; never blocks.
 */
#ifndef ZEPIX_CMD_ARGS_H
#define ZEPIX_CMD_ARGS_H

#include <stddef.h>

struct cmd_ctx;
struct plugin;

#define CMD_WORD_MAX 64

/* Split c->args at blanks into up to max words (each cut at CMD_WORD_MAX-1
 * bytes); returns the number of words, or max + 1 when there were more. */
int cmd_words(const char *args, char words[][CMD_WORD_MAX], int max);

/* The plugin named id, or NULL after writing "Unknown plugin ..." to c->out. */
struct plugin *cmd_plugin(struct cmd_ctx *c, const char *id);

/* For commands taking exactly "ID": the plugin, or NULL after writing the
 * usage line or "Unknown plugin ..." to c->out. */
struct plugin *cmd_only_plugin(struct cmd_ctx *c);

struct rpt;

/* For /stats, /chart: parse "[ID] [period]", check the plugin, query the
 * figures into r (title/note buffers as rpt_query). 0, or -1 after writing the
 * usage line or the error to c->out. */
int cmd_report(struct cmd_ctx *c, struct rpt *r, char *title, size_t tlen, char *note, size_t nlen);

/* /mute and /unmute: TYPE from c->args, persisted (src/notify.h). */
void cmd_set_mute(struct cmd_ctx *c, int muted);

#endif
