/*
 * console — see console.h.
 *
 * stdin is not switched to O_NONBLOCK: on a terminal that flag belongs to the
 * open file description shared with the shell, which would inherit it after
 * zepix exits (or is killed). Reading once per readiness event never blocks:
 * a terminal that reported readable returns what it has.
 *
 * SIGTTIN is ignored: a daemon sent to the background (zepix &, Ctrl-Z + bg)
 * would otherwise be stopped by the terminal when it reads; with the signal
 * ignored the read fails with EIO, the console stops and zepix runs on.
 */
#include "console.h"
#include "log.h"
#include "sbuf.h"
#include "tg_html.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct console {
    struct ev_loop *loop;
    int fd;
    pid_t fg_before;            /* the terminal's foreground group we took over; 0 = none */
    ev_io io;
    FILE *out;
    console_line_fn fn;
    void *ud;
    char line[CONSOLE_LINE_MAX + 1];
    size_t len;
    int overlong;               /* discarding the rest of a line that was too long */
};

void console_plain(const char *html, struct sbuf *out)
{
    size_t start = out->len;
    tg_html_to_plain(html, out);
    while (out->len > start && (out->s[out->len - 1] == '\n' || out->s[out->len - 1] == ' '))
        out->s[--out->len] = '\0';
    sbuf_add(out, "\n", 1);
}

void console_print(struct console *c, const char *html)
{
    struct sbuf b;
    sbuf_init(&b);
    console_plain(html, &b);
    /* A terminal write; it could wait only if the operator froze the terminal. */
    fwrite(sbuf_str(&b), 1, b.len, c->out);
    fflush(c->out);
    sbuf_free(&b);
}

static void dispatch(struct console *c)
{
    char *s = c->line, *e = c->line + c->len;
    *e = '\0';
    while (*s == ' ' || *s == '\t')
        s++;
    while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
        *--e = '\0';
    if (*s)
        c->fn(c->ud, s);
}

static void feed(struct console *c, const char *buf, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (buf[i] == '\n') {
            if (c->overlong) {
                console_print(c, "Line too long (max 4096 bytes), ignored.");
                c->overlong = 0;
            } else {
                dispatch(c);
            }
            c->len = 0;
        } else if (!c->overlong) {
            if (c->len == CONSOLE_LINE_MAX)
                c->overlong = 1;
            else
                c->line[c->len++] = buf[i];
        }
    }
}

static void on_stdin(struct ev_loop *loop, ev_io *w, int revents)
{
    struct console *c = w->data;
    char buf[4096];
    (void)loop;
    (void)revents;
    ssize_t n = read(w->fd, buf, sizeof buf);
    if (n < 0 && (errno == EINTR || errno == EAGAIN))
        return;
    if (n <= 0) {
        if (n < 0)
            LOG_W("console", "reading stdin: %s", strerror(errno));
        if (c->len && !c->overlong)
            dispatch(c);        /* a last line without its newline */
        c->len = 0;
        LOG_I("console", "end of input: the console stops, zepix runs on");
        console_stop(c);
        return;
    }
    feed(c, buf, (size_t)n);
}

/* Under `make run` (or any parent that waits in the same process group), a
 * Ctrl-C on the terminal reaches the parent too, which then reports the
 * interrupt however cleanly zepix stops. A console that owns the terminal is
 * the foreground job, as a shell makes one: its own process group, made the
 * terminal's foreground group, given back at the end. Only when zepix is in
 * the foreground already: one started in the background never takes it. */
static void take_foreground(struct console *c)
{
    pid_t fg = tcgetpgrp(c->fd);
    if (fg < 0 || fg != getpgrp() || getpid() == getpgrp())
        return;                 /* background, or already a group of its own */
    if (setpgid(0, 0) != 0)
        return;
    struct sigaction ign = {.sa_handler = SIG_IGN}, old;
    sigemptyset(&ign.sa_mask);
    sigaction(SIGTTOU, &ign, &old);     /* tcsetpgrp from a background group */
    if (tcsetpgrp(c->fd, getpgrp()) == 0)
        c->fg_before = fg;
    else
        setpgid(0, fg);         /* back where it was */
    sigaction(SIGTTOU, &old, NULL);
}

static void give_foreground_back(struct console *c)
{
    if (!c->fg_before)
        return;
    struct sigaction ign = {.sa_handler = SIG_IGN}, old;
    sigemptyset(&ign.sa_mask);
    sigaction(SIGTTOU, &ign, &old);
    if (tcgetpgrp(c->fd) == getpgrp())
        tcsetpgrp(c->fd, c->fg_before);
    sigaction(SIGTTOU, &old, NULL);
    c->fg_before = 0;
}

struct console *console_new(struct ev_loop *loop, int fd, FILE *out, console_line_fn fn, void *ud,
                            char *err, size_t errlen)
{
    struct console *c = calloc(1, sizeof *c);
    if (!c) {
        snprintf(err, errlen, "console: out of memory");
        return NULL;
    }
    c->loop = loop;
    c->fd = fd;
    c->out = out;
    c->fn = fn;
    c->ud = ud;
    struct sigaction sa = {.sa_handler = SIG_IGN};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTTIN, &sa, NULL);
    take_foreground(c);
    ev_io_init(&c->io, on_stdin, fd, EV_READ);
    c->io.data = c;
    ev_io_start(loop, &c->io);
    fputs("zepix console: type /help\n", c->out);
    fflush(c->out);
    return c;
}

void console_stop(struct console *c)
{
    if (c)
        ev_io_stop(c->loop, &c->io);
}

void console_free(struct console *c)
{
    if (!c)
        return;
    console_stop(c);
    give_foreground_back(c);
    free(c);
}
