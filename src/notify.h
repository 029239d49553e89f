/*
 * notify — notification kinds over chat_notify (SPEC 12 /mute): "trades"
 * (opened, closed), "rejects" (signals rejected, skipped or failed),
 * "failures" (a plugin failed) and "reports" (the daily report). A muted kind
 * is still logged, never sent; the mute is persisted in the host database (kv
 * "mute:<kind>"). Rejects are rate-limited (NOTIFY_REJECTS_PER_MIN a minute;
 * the next one sent says how many were held back). Risk-limit, recovery and
 * terminal notes are not muteable: they always go out through chat_notify.
 */
#ifndef ZEPIX_NOTIFY_H
#define ZEPIX_NOTIFY_H

struct app;

#define NOTIFY_REJECTS_PER_MIN 10

/* The kinds, for /mute's usage line: "trades, rejects, failures, reports, shadow". */
extern const char *const notify_kinds[];
/* 1 when kind is one of them. */
int notify_kind_valid(const char *kind);
/* 1 when kind is muted. */
int notify_muted(struct app *a, const char *kind);
/* Persist the mute flag; 0, or -1 (the database write failed). */
int notify_set_muted(struct app *a, const char *kind, int muted);
/* chat_notify(text) unless kind is muted (or, for rejects, over the rate). */
void notify_send(struct app *a, const char *kind, const char *text);

#endif
