/*
 * tg_html — see tg_html.h.
 */
#include "tg_html.h"
#include "sbuf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SPLIT_DEPTH 16

struct open_tag {
    size_t off, len;            /* the opening tag's text in the source */
    char name[16];
};

struct tag_stack {
    struct open_tag t[SPLIT_DEPTH];
    size_t depth;
    size_t closers;             /* bytes of "</name>" to close every open tag */
};

/* The end of the token at s[i]: a whole tag, a whole entity, or one UTF-8
 * character; a chunk is only ever cut between two tokens. */
static size_t token_end(const char *s, size_t i, size_t n)
{
    unsigned char c = (unsigned char)s[i];
    if (c == '<') {
        const char *gt = memchr(s + i, '>', n - i);
        return gt ? (size_t)(gt - s) + 1 : i + 1;
    }
    if (c == '&') {
        size_t j = i + 1;
        while (j < n && j - i <= 10 && (s[j] == '#' || (s[j] >= '0' && s[j] <= '9') ||
                                        ((s[j] | 0x20) >= 'a' && (s[j] | 0x20) <= 'z')))
            j++;
        return j < n && s[j] == ';' && j > i + 1 ? j + 1 : i + 1;
    }
    size_t len = c < 0xC0 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4, j = i + 1;
    while (j < i + len && j < n && ((unsigned char)s[j] & 0xC0) == 0x80)
        j++;
    return j;
}

static void tag_name(const char *s, size_t i, size_t e, char *name, size_t namelen)
{
    size_t k = 0;
    while (i < e && s[i] != '>' && s[i] != ' ' && s[i] != '\t' && s[i] != '\n' && k + 1 < namelen)
        name[k++] = (char)((s[i] >= 'A' && s[i] <= 'Z') ? s[i] + 32 : s[i]), i++;
    name[k] = '\0';
}

/* Apply the token s[i..e) to the stack of open elements. */
static void tag_apply(struct tag_stack *st, const char *s, size_t i, size_t e)
{
    char name[16];
    if (s[i] != '<' || e - i < 3 || s[e - 1] != '>')
        return;
    if (s[i + 1] == '/') {
        tag_name(s, i + 2, e, name, sizeof name);
        for (size_t k = st->depth; k-- > 0;)
            if (strcmp(st->t[k].name, name) == 0) {
                while (st->depth > k)
                    st->closers -= 3 + strlen(st->t[--st->depth].name);
                break;
            }
        return;
    }
    if (st->depth == SPLIT_DEPTH)
        return;
    struct open_tag *t = &st->t[st->depth++];
    t->off = i;
    t->len = e - i;
    tag_name(s, i + 1, e, t->name, sizeof t->name);
    st->closers += 3 + strlen(t->name);
}

static int has_visible_text(const char *html)
{
    struct sbuf b;
    int vis = 0;
    sbuf_init(&b);
    tg_html_to_plain(html, &b);
    for (const char *p = sbuf_str(&b); *p && !vis; p++)
        vis = !(*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r');
    sbuf_free(&b);
    return vis;
}

/* The end of the next chunk starting at pos: everything that fits, cut after
 * the last newline, else after the last space, else after the last token. */
static size_t find_cut(const char *s, size_t pos, size_t n, const struct tag_stack *at, size_t limit)
{
    struct tag_stack sim = *at;
    size_t prefix = 0, j = pos, cut_line = 0, cut_space = 0, cut_any = 0;
    for (size_t k = 0; k < at->depth; k++)
        prefix += at->t[k].len;
    while (j < n) {
        size_t e = token_end(s, j, n);
        tag_apply(&sim, s, j, e);
        if (prefix + (e - pos) + sim.closers > limit)
            break;
        cut_any = e;
        if (s[j] == '\n')
            cut_line = e;
        else if (s[j] == ' ')
            cut_space = e;
        j = e;
    }
    if (j >= n)
        return n;
    if (cut_line)
        return cut_line;
    if (cut_space)
        return cut_space;
    return cut_any ? cut_any : token_end(s, pos, n);   /* always make progress */
}

int tg_split(const char *html, size_t limit, struct tg_chunks *out)
{
    size_t n = strlen(html), pos = 0;
    struct tag_stack st = {.depth = 0};
    struct sbuf b;
    memset(out, 0, sizeof *out);
    sbuf_init(&b);
    while (pos < n) {
        size_t cut = find_cut(html, pos, n, &st, limit);
        sbuf_reset(&b);
        for (size_t k = 0; k < st.depth; k++)
            sbuf_add(&b, html + st.t[k].off, st.t[k].len);
        sbuf_add(&b, html + pos, cut - pos);
        for (size_t j = pos; j < cut;) {
            size_t e = token_end(html, j, cut);
            tag_apply(&st, html, j, e);
            j = e;
        }
        for (size_t k = st.depth; k-- > 0;)
            sbuf_printf(&b, "</%s>", st.t[k].name);
        pos = cut;
        if (sbuf_failed(&b))
            goto fail;
        if (!has_visible_text(sbuf_str(&b)))
            continue;
        char **v = realloc(out->v, (out->n + 1) * sizeof *v);
        if (!v || !(v[out->n] = strdup(sbuf_str(&b)))) {
            if (v)
                out->v = v;
            goto fail;
        }
        out->v = v;
        out->n++;
    }
    sbuf_free(&b);
    return 0;
fail:
    sbuf_free(&b);
    tg_chunks_free(out);
    return -1;
}

void tg_chunks_free(struct tg_chunks *c)
{
    for (size_t i = 0; i < c->n; i++)
        free(c->v[i]);
    free(c->v);
    memset(c, 0, sizeof *c);
}

static void put_utf8(struct sbuf *out, unsigned long cp)
{
    char u[4];
    size_t n;
    if (cp < 0x80)
        u[0] = (char)cp, n = 1;
    else if (cp < 0x800)
        u[0] = (char)(0xC0 | cp >> 6), u[1] = (char)(0x80 | (cp & 0x3F)), n = 2;
    else if (cp < 0x10000)
        u[0] = (char)(0xE0 | cp >> 12), u[1] = (char)(0x80 | (cp >> 6 & 0x3F)),
        u[2] = (char)(0x80 | (cp & 0x3F)), n = 3;
    else
        u[0] = (char)(0xF0 | cp >> 18), u[1] = (char)(0x80 | (cp >> 12 & 0x3F)),
        u[2] = (char)(0x80 | (cp >> 6 & 0x3F)), u[3] = (char)(0x80 | (cp & 0x3F)), n = 4;
    sbuf_add(out, u, n);
}

/* Decode the entity s[i..e) (as found by token_end) into out; 0, or -1 when
 * it is not one Telegram knows. */
static int put_entity(struct sbuf *out, const char *s, size_t i, size_t e)
{
    static const struct { const char *name; char c; } named[] = {
        {"&lt;", '<'}, {"&gt;", '>'}, {"&amp;", '&'}, {"&quot;", '"'}};
    for (size_t k = 0; k < 4; k++)
        if (strlen(named[k].name) == e - i && strncmp(s + i, named[k].name, e - i) == 0) {
            sbuf_add(out, &named[k].c, 1);
            return 0;
        }
    if (e - i < 4 || s[i + 1] != '#')
        return -1;
    char *end;
    int hex = s[i + 2] == 'x' || s[i + 2] == 'X';
    unsigned long cp = strtoul(s + i + 2 + hex, &end, hex ? 16 : 10);
    if (end != s + e - 1 || cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return -1;
    put_utf8(out, cp);
    return 0;
}

void tg_html_to_plain(const char *html, struct sbuf *out)
{
    size_t n = strlen(html);
    for (size_t i = 0; i < n;) {
        size_t e = token_end(html, i, n);
        if (html[i] == '<' && html[e - 1] == '>' && e - i >= 3)
            ;                   /* a tag: dropped */
        else if (html[i] != '&' || e - i == 1 || put_entity(out, html, i, e))
            sbuf_add(out, html + i, e - i);
        i = e;
    }
}
