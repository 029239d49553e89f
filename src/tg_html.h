/*
 * tg_html — Telegram's HTML subset as pure functions: cutting a message into
 * chunks Telegram accepts (tg_split) and the plain text of a message
 * (tg_html_to_plain). No I/O, no state: used by the Telegram client (telegram.c),
 * the console (console.c) and the tests. The prefix is tg_ for the callers'
 * sake (these lived in telegram.c); every tg_ name declared here is this module's.
 */
#ifndef ZEPIX_TG_HTML_H
#define ZEPIX_TG_HTML_H

#include <stddef.h>

struct sbuf;

#define TG_CHUNK_MAX 4000       /* bytes of HTML per message: safely under 4096 characters */

/*
 * tg_split: cut html into chunks of at most limit bytes each, preferably at line
 * boundaries, else at a space, else between two characters; never inside a tag,
 * an entity or a UTF-8 sequence. An element open at a cut (<pre>, <code>, <b>,
 * <i>, any tag) is closed at the chunk's end and reopened at the next chunk's
 * start. Chunks without visible text are dropped. 0, or -1 (out of memory).
 */
struct tg_chunks {
    char **v;
    size_t n;
};
int tg_split(const char *html, size_t limit, struct tg_chunks *out);
void tg_chunks_free(struct tg_chunks *c);

/* Telegram HTML to plain text: tags removed, &lt; &gt; &amp; &quot; &#N; &#xH;
 * decoded (unknown entities kept as written). Appends to out. */
void tg_html_to_plain(const char *html, struct sbuf *out);

#endif
