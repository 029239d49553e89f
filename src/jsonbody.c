/*
 * jsonbody — see jsonbody.h.
 */
#include "jsonbody.h"

#include <limits.h>

json_object *jbody_object(const char *body, size_t len)
{
    json_object *o = NULL;
    if (!body || len > INT_MAX)
        return NULL;
    struct json_tokener *tok = json_tokener_new();
    if (!tok)
        return NULL;
    o = json_tokener_parse_ex(tok, body, (int)len);
    if (json_tokener_get_error(tok) != json_tokener_success || json_tokener_get_parse_end(tok) < len ||
        !json_object_is_type(o, json_type_object)) {
        json_object_put(o);
        o = NULL;
    }
    json_tokener_free(tok);
    return o;
}
