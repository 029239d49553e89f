/*
 * console — the local chat on a terminal: command lines from stdin, replies and
 * notifications as plain text on stdout. Started only when console.enabled and
 * stdin is a terminal; at end of input it stops and the daemon runs on.
 *
 * Never blocks the loop: stdin is read only when libev reports it readable, one
 * read() per event, and lines are accumulated in a fixed buffer.
 */
#ifndef ZEPIX_CONSOLE_H
#define ZEPIX_CONSOLE_H

#include <stddef.h>
#include <stdio.h>
#include <ev.h>

struct sbuf;
struct console;

#define CONSOLE_LINE_MAX 4096   /* bytes per command line, newline excluded */

/* One complete, trimmed, non-empty line (NUL-terminated, borrowed). */
typedef void (*console_line_fn)(void *ud, const char *line);

/* Watch fd (STDIN_FILENO in the daemon) on loop and print to out (stdout).
 * Prints the hint "zepix console: type /help". NULL with err. */
struct console *console_new(struct ev_loop *loop, int fd, FILE *out, console_line_fn fn, void *ud,
                            char *err, size_t errlen);
/* Stop reading (daemon stopping or end of input); printing still works. */
void console_stop(struct console *c);
void console_free(struct console *c);
/* Print Telegram HTML as plain text, followed by a newline. */
void console_print(struct console *c, const char *html);

/* Telegram HTML to terminal text: tags removed (the lines of a <pre> block
 * stay as they are), entities decoded, exactly one trailing newline. */
void console_plain(const char *html, struct sbuf *out);

#endif
