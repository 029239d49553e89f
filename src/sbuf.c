/*
 * sbuf — see sbuf.h.
 */
#include "sbuf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void sbuf_init(struct sbuf *b) { memset(b, 0, sizeof *b); }

void sbuf_free(struct sbuf *b)
{
    free(b->s);
    memset(b, 0, sizeof *b);
}

void sbuf_reset(struct sbuf *b)
{
    b->len = 0;
    if (b->s)
        b->s[0] = '\0';
}

const char *sbuf_str(const struct sbuf *b) { return b->s ? b->s : ""; }
int sbuf_failed(const struct sbuf *b) { return b->failed; }

static int reserve(struct sbuf *b, size_t extra)
{
    if (b->failed)
        return -1;
    if (b->len + extra + 1 <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + extra + 1)
        cap *= 2;
    char *n = realloc(b->s, cap);
    if (!n) {
        b->failed = 1;
        return -1;
    }
    b->s = n;
    b->cap = cap;
    return 0;
}

void sbuf_add(struct sbuf *b, const char *s, size_t n)
{
    if (reserve(b, n))
        return;
    memcpy(b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = '\0';
}

void sbuf_puts(struct sbuf *b, const char *s) { sbuf_add(b, s, strlen(s)); }

static void vprintf_into(struct sbuf *b, const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0 || reserve(b, (size_t)n))
        return;
    vsnprintf(b->s + b->len, (size_t)n + 1, fmt, ap);
    b->len += (size_t)n;
}

void sbuf_printf(struct sbuf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vprintf_into(b, fmt, ap);
    va_end(ap);
}

void sbuf_html(struct sbuf *b, const char *s)
{
    for (const char *p = s; *p; p++) {
        switch (*p) {
        case '&': sbuf_add(b, "&amp;", 5); break;
        case '<': sbuf_add(b, "&lt;", 4); break;
        case '>': sbuf_add(b, "&gt;", 4); break;
        case '"': sbuf_add(b, "&quot;", 6); break;
        default: sbuf_add(b, p, 1);
        }
    }
}

void sbuf_htmlf(struct sbuf *b, const char *fmt, ...)
{
    struct sbuf tmp;
    va_list ap;
    sbuf_init(&tmp);
    va_start(ap, fmt);
    vprintf_into(&tmp, fmt, ap);
    va_end(ap);
    sbuf_html(b, sbuf_str(&tmp));
    if (tmp.failed)
        b->failed = 1;
    sbuf_free(&tmp);
}

/* The bytes of the character led by c (1 for ASCII and for stray bytes). */
static size_t utf8_len(unsigned char c)
{
    return c >= 0xF0 && c < 0xF8 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
}

size_t sbuf_utf8_complete(const char *s, size_t n)
{
    /* Find the last lead byte (at most 3 continuation bytes back). */
    for (size_t back = 1; back <= 4 && back <= n; back++) {
        unsigned char c = (unsigned char)s[n - back];
        if ((c & 0xC0) == 0x80)
            continue;           /* a continuation byte: keep looking for its lead */
        return (c & 0x80) && utf8_len(c) > back ? n - back : n;
    }
    return n;                   /* only continuation bytes: nothing to complete */
}

size_t sbuf_utf8_prefix(const char *s, size_t max)
{
    size_t n = strnlen(s, max + 1);
    if (n <= max)
        return n;
    /* s[max] exists: a cut there is inside a character when it continues one. */
    return (((unsigned char)s[max] & 0xC0) == 0x80) ? sbuf_utf8_complete(s, max) : max;
}

int sbuf_fmt(char *dst, size_t dstlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(dst, dstlen, fmt, ap);
    va_end(ap);
    if (n >= 0 && dstlen && (size_t)n >= dstlen)
        dst[sbuf_utf8_complete(dst, dstlen - 1)] = '\0';
    return n;
}
