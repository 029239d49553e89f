/*
 * sbuf — a growable string for building replies, JSON-free text and SQL-free
 * reports, with Telegram-HTML escaping. Owns its buffer (sbuf_free).
 * On allocation failure the buffer stops growing and sbuf_failed() is true;
 * the text stays NUL-terminated, so a reply is truncated, never corrupt.
 */
#ifndef ZEPIX_SBUF_H
#define ZEPIX_SBUF_H

#include <stddef.h>

struct sbuf {
    char *s;        /* always NUL-terminated once anything was added ("" before) */
    size_t len, cap;
    int failed;
};

void sbuf_init(struct sbuf *b);
void sbuf_free(struct sbuf *b);
void sbuf_reset(struct sbuf *b);
const char *sbuf_str(const struct sbuf *b);
void sbuf_add(struct sbuf *b, const char *s, size_t n);
void sbuf_puts(struct sbuf *b, const char *s);
void sbuf_printf(struct sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Append s with & < > " escaped for Telegram HTML. */
void sbuf_html(struct sbuf *b, const char *s);
/* Escaped printf: the formatted text is escaped as a whole. */
void sbuf_htmlf(struct sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int sbuf_failed(const struct sbuf *b);

/*
 * UTF-8-safe cutting: the one home of the rule "text is never cut inside a
 * character" (Telegram refuses a whole message over one broken character).
 * Every place that shortens text uses these.
 */
/* n minus a character cut short at the end of s[0..n) (0..3 bytes dropped). */
size_t sbuf_utf8_complete(const char *s, size_t n);
/* The bytes of the longest prefix of s (NUL-terminated) of at most max bytes
 * that does not end inside a character: for "%.*s". */
size_t sbuf_utf8_prefix(const char *s, size_t max);
/* snprintf into dst; when the text does not fit it is cut before a whole
 * character. Returns what snprintf returns. */
int sbuf_fmt(char *dst, size_t dstlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
