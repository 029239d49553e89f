/*
 * testutil — small helpers shared by the cmocka tests: run a libev loop until a
 * condition holds (or a deadline passes), temporary directories.
 */
#ifndef ZEPIX_TESTUTIL_H
#define ZEPIX_TESTUTIL_H

#include <ev.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void tu_deadline_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
    (void)w;
    (void)revents;
    ev_break(loop, EVBREAK_ONE);
}

static void tu_check_cb(struct ev_loop *loop, ev_check *w, int revents)
{
    int *flag = w->data;
    (void)revents;
    if (*flag)
        ev_break(loop, EVBREAK_ONE);
}

/* Run loop until *flag is non-zero or seconds pass; returns *flag. */
static inline int tu_run_until(struct ev_loop *loop, int *flag, double seconds)
{
    ev_timer t;
    ev_check c;
    ev_timer_init(&t, tu_deadline_cb, seconds, 0.);
    ev_check_init(&c, tu_check_cb);
    c.data = flag;
    ev_timer_start(loop, &t);
    ev_check_start(loop, &c);
    while (!*flag && ev_is_active(&t))
        ev_run(loop, EVRUN_ONCE);
    ev_timer_stop(loop, &t);
    ev_check_stop(loop, &c);
    return *flag;
}

/* mkdtemp under /tmp; the caller removes it with tu_rmdir. */
static inline char *tu_tmpdir(char *buf, size_t len)
{
    snprintf(buf, len, "/tmp/zepix-test-XXXXXX");
    return mkdtemp(buf);
}

static inline void tu_rmdir(const char *dir)
{
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
}

#endif
