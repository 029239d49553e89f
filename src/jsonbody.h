/*
 * jsonbody — an HTTP request body read as one JSON object, the one rule for
 * the routes that take JSON (POST /price, POST /mt5/poll): the whole body is
 * one JSON value (nothing but it, no trailing bytes), and that value is an
 * object. Owns nothing it is given.
 */
#ifndef ZEPIX_JSONBODY_H
#define ZEPIX_JSONBODY_H

#include <stddef.h>
#include <json-c/json.h>

/* The object body[0..len) holds, owned by the caller (json_object_put), or
 * NULL when it is not exactly one JSON object (or memory ran out). */
json_object *jbody_object(const char *body, size_t len);

#endif
