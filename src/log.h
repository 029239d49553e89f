/*
 * log — leveled, timestamped log lines to stderr, with secret redaction.
 *
 * Every line passes through log_redact(): registered secrets (the Bot API token,
 * the webhook secret, ...) and anything shaped like a Bot API token in a URL
 * ("bot123456:ABC...") are replaced by "***" before the line is written, so a
 * secret cannot reach the log even through a curl error message or a URL.
 * Never blocks on anything but the stderr write.
 */
#ifndef ZEPIX_LOG_H
#define ZEPIX_LOG_H

#include <stddef.h>

enum lg_level { LG_DEBUG = 0, LG_INFO = 1, LG_WARN = 2, LG_ERROR = 3 };

void log_set_level(enum lg_level level);
enum lg_level log_get_level(void);
/* "debug" | "info" | "warn" | "error" -> 0, else -1. */
int log_parse_level(const char *name, enum lg_level *out);

/* Register a secret to redact (copied; empty or short strings are ignored). */
void log_add_secret(const char *secret);
void log_clear_secrets(void);

/* Copy in to out with every secret replaced by "***". Always NUL-terminates;
 * returns the length written. */
size_t log_redact(const char *in, char *out, size_t outlen);

void log_msg(enum lg_level level, const char *module, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define LOG_D(mod, ...) log_msg(LG_DEBUG, mod, __VA_ARGS__)
#define LOG_I(mod, ...) log_msg(LG_INFO, mod, __VA_ARGS__)
#define LOG_W(mod, ...) log_msg(LG_WARN, mod, __VA_ARGS__)
#define LOG_E(mod, ...) log_msg(LG_ERROR, mod, __VA_ARGS__)

#endif
