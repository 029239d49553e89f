/*
 * log — see log.h. Secrets live in a small fixed table: zepix has a handful.
 */
#include "log.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define LOG_MAX_SECRETS 16
#define LOG_LINE_MAX 4096

static enum lg_level g_level = LG_INFO;
static char *g_secrets[LOG_MAX_SECRETS];
static size_t g_nsecrets;

void log_set_level(enum lg_level level) { g_level = level; }
enum lg_level log_get_level(void) { return g_level; }

int log_parse_level(const char *name, enum lg_level *out)
{
    static const char *const names[] = {"debug", "info", "warn", "error"};
    for (int i = 0; i < 4; i++)
        if (strcmp(name, names[i]) == 0) {
            *out = (enum lg_level)i;
            return 0;
        }
    return -1;
}

void log_add_secret(const char *secret)
{
    /* Very short strings would redact ordinary words; they are no secret anyway. */
    if (!secret || strlen(secret) < 4 || g_nsecrets == LOG_MAX_SECRETS)
        return;
    for (size_t i = 0; i < g_nsecrets; i++)
        if (strcmp(g_secrets[i], secret) == 0)
            return;
    char *copy = strdup(secret);
    if (copy)
        g_secrets[g_nsecrets++] = copy;
}

void log_clear_secrets(void)
{
    for (size_t i = 0; i < g_nsecrets; i++)
        free(g_secrets[i]);
    g_nsecrets = 0;
}

/* Length of a Bot API token ("<digits>:<35ish url-safe chars>") at p, or 0. */
static size_t token_shape_len(const char *p)
{
    size_t i = 0;
    while (isdigit((unsigned char)p[i]))
        i++;
    if (i < 3 || p[i] != ':')
        return 0;
    size_t j = i + 1;
    while (isalnum((unsigned char)p[j]) || p[j] == '_' || p[j] == '-')
        j++;
    return j - (i + 1) >= 20 ? j : 0;
}

size_t log_redact(const char *in, char *out, size_t outlen)
{
    size_t o = 0;
    if (outlen == 0)
        return 0;
    for (const char *p = in; *p;) {
        size_t skip = 0;
        for (size_t i = 0; i < g_nsecrets && !skip; i++) {
            size_t n = strlen(g_secrets[i]);
            if (strncmp(p, g_secrets[i], n) == 0)
                skip = n;
        }
        /* A token starts a word, or follows "bot" as in the Bot API's URLs. */
        if (!skip && (p == in || !isalnum((unsigned char)p[-1]) ||
                      (p - in >= 3 && strncmp(p - 3, "bot", 3) == 0)))
            skip = token_shape_len(p);
        if (skip) {
            for (const char *r = "***"; *r && o + 1 < outlen; r++)
                out[o++] = *r;
            p += skip;
        } else {
            if (o + 1 < outlen)
                out[o++] = *p;
            p++;
        }
    }
    out[o] = '\0';
    return o;
}

void log_msg(enum lg_level level, const char *module, const char *fmt, ...)
{
    static const char *const tags[] = {"DEBUG", "INFO", "WARN", "ERROR"};
    if (level < g_level)
        return;
    char raw[LOG_LINE_MAX], clean[LOG_LINE_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(raw, sizeof raw, fmt, ap);
    va_end(ap);
    log_redact(raw, clean, sizeof clean);

    struct timespec ts;
    struct tm tm;
    char when[32];
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", &tm);
    fprintf(stderr, "%s.%03ldZ %-5s %s: %s\n", when, ts.tv_nsec / 1000000L, tags[level],
            module, clean);
}
