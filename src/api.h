/*
 * api — the read-only JSON API for dashboards and scripts, on the webhook's
 * listener (so under its connection limits and read timeout):
 *
 *   GET /api/v1/status                       uptime, broker, terminal, pause, counts
 *   GET /api/v1/plugins                      each plugin: state, open trades, floating profit
 *   GET /api/v1/trades?plugin=ID[&since=S][&limit=N]   trades opened or closed since S (Unix s)
 *   GET /api/v1/stats[?plugin=ID][&period=P] the figures of /stats
 *   GET /api/v1/journal[?n=N]                the last N journaled signals with their outcomes
 *
 * Off unless api.enabled (the routes do not exist: 404). Every request needs
 * "Authorization: Bearer <api.token>", compared in constant time; the token is
 * never logged (log.c redacts it). An unknown or bad query parameter is a 400
 * naming it. Answers {"ok":true,...} or {"ok":false,"error":"..."}, built with
 * json-c. Reads only: short indexed queries on the loop thread; never blocks.
 */
#ifndef ZEPIX_API_H
#define ZEPIX_API_H

struct app;

/* Add the routes when api.enabled (before the listener starts). 0, or -1 when
 * the route table is full. */
int api_register(struct app *a);

#endif
