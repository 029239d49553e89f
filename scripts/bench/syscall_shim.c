/*
 * syscall_shim.c — an LD_PRELOAD library for bench.py --only attribution: it
 * records, with CLOCK_MONOTONIC times, every fdatasync/fsync (with its fd) and
 * every socket read/write and every SQLite WAL checkpoint call of the daemon
 * into memory, and writes them to
 * $SHIM_OUT when the process exits. bench.py then attributes each webhook
 * request's time (first read of the request -> write of its answer) to the
 * fsyncs that ran inside it. A few tens of nanoseconds per call: the daemon's
 * latency is unchanged within noise, unlike strace or perf trace.
 *
 *   cc -O2 -shared -fPIC -o build/bench/syscall_shim.so scripts/bench/syscall_shim.c -ldl
 *
 * Never linked into zepix; a measuring tool only.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

enum { K_SYNC = 0, K_READ = 1, K_WRITE = 2, K_CKPT = 3 };

struct rec {
    long long t0, t1;
    int kind, fd;
    long n;
};

#define MAXREC 4000000L
static struct rec *recs;
static long nrec;

static long long now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void add(long long t0, int kind, int fd, long n)
{
    if (!recs)
        recs = malloc(sizeof *recs * MAXREC);
    if (recs && nrec < MAXREC)
        recs[nrec++] = (struct rec){t0, now_ns(), kind, fd, n};
}

#define NEXT(name) static __typeof__(name) *next; if (!next) next = (__typeof__(name) *)dlsym(RTLD_NEXT, #name)

int fdatasync(int fd)
{
    NEXT(fdatasync);
    long long t = now_ns();
    int r = next(fd);
    add(t, K_SYNC, fd, r);
    return r;
}

int fsync(int fd)
{
    NEXT(fsync);
    long long t = now_ns();
    int r = next(fd);
    add(t, K_SYNC, fd, r);
    return r;
}

ssize_t recv(int fd, void *b, size_t n, int fl)
{
    NEXT(recv);
    long long t = now_ns();
    ssize_t r = next(fd, b, n, fl);
    if (r > 0)
        add(t, K_READ, fd, r);
    return r;
}

ssize_t recvfrom(int fd, void *b, size_t n, int fl, struct sockaddr *a, socklen_t *al)
{
    NEXT(recvfrom);
    long long t = now_ns();
    ssize_t r = next(fd, b, n, fl, a, al);
    if (r > 0)
        add(t, K_READ, fd, r);
    return r;
}

ssize_t send(int fd, const void *b, size_t n, int fl)
{
    NEXT(send);
    long long t = now_ns();
    ssize_t r = next(fd, b, n, fl);
    add(t, K_WRITE, fd, r);
    return r;
}

ssize_t sendmsg(int fd, const struct msghdr *m, int fl)
{
    NEXT(sendmsg);
    long long t = now_ns();
    ssize_t r = next(fd, m, fl);
    add(t, K_WRITE, fd, r);
    return r;
}

ssize_t writev(int fd, const struct iovec *v, int c)
{
    NEXT(writev);
    long long t = now_ns();
    ssize_t r = next(fd, v, c);
    add(t, K_WRITE, fd, r);
    return r;
}

/* SQLite's checkpoint call (libsqlite3 is a shared library of zepix, so its
 * symbol can be interposed too): n = frames in the WAL when it was called. */
typedef struct sqlite3 sqlite3;
int sqlite3_wal_checkpoint_v2(sqlite3 *db, const char *name, int mode, int *log, int *ckpt)
{
    NEXT(sqlite3_wal_checkpoint_v2);
    int mylog = -1, myckpt = -1;
    long long t = now_ns();
    int r = next(db, name, mode, log ? log : &mylog, ckpt ? ckpt : &myckpt);
    add(t, K_CKPT, -1, log ? *log : mylog);
    return r;
}

__attribute__((destructor)) static void dump(void)
{
    const char *path = getenv("SHIM_OUT");
    if (!path || !recs)
        return;
    FILE *o = fopen(path, "w");
    if (!o)
        return;
    for (long i = 0; i < nrec; i++)
        fprintf(o, "%lld %lld %d %d %ld\n", recs[i].t0, recs[i].t1, recs[i].kind, recs[i].fd, recs[i].n);
    fclose(o);
}
