/*
 * jnum — the one "number or numeric string" reader for JSON members sent by
 * programs that quote numbers (TradingView alerts, the MT5 EA): a JSON number,
 * or a string that strtod reads whole ("1.0825" yes; "1.08x", "" no). What
 * range is acceptable (finite, positive) is the caller's rule, not this one.
 * Pure: no state; the json_object is borrowed.
 */
#ifndef ZEPIX_JNUM_H
#define ZEPIX_JNUM_H

#include <json-c/json.h>

/* 0 with *out set when v is a JSON number or a numeric string (the value may
 * be inf or nan: "1e999", "nan"); -1 (and *out 0) otherwise: NULL, null,
 * another type, or a string that is not all number. */
int jnum_get(json_object *v, double *out);

/* The member key of o by jnum_get: 0, or -1 when absent or not a number. */
int jnum_member(json_object *o, const char *key, double *out);

#endif
