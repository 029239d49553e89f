/*
 * jnum — see jnum.h.
 */
#include "jnum.h"

#include <stdlib.h>

int jnum_get(json_object *v, double *out)
{
    *out = 0;
    if (json_object_is_type(v, json_type_double) || json_object_is_type(v, json_type_int)) {
        *out = json_object_get_double(v);
        return 0;
    }
    if (json_object_is_type(v, json_type_string)) {
        const char *s = json_object_get_string(v);
        char *end;
        double d = strtod(s, &end);
        if (end == s || *end || (size_t)(end - s) != (size_t)json_object_get_string_len(v))
            return -1;
        *out = d;
        return 0;
    }
    return -1;
}

int jnum_member(json_object *o, const char *key, double *out)
{
    json_object *v;
    *out = 0;
    if (!o || !json_object_object_get_ex(o, key, &v))
        return -1;
    return jnum_get(v, out);
}
