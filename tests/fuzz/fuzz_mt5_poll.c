/*
 * fuzz_mt5_poll.c — libFuzzer target for the MT5 bridge's POST /mt5/poll JSON
 * body (SPEC section 10): the json-c parse exactly as on_poll() does it
 * (src/broker_mt5.c), the shape and time-range check mt5_check_poll(), and the
 * arithmetic on_poll then does with what passed (closed[].time * 1000, issue
 * #14's signed overflow), plus mt5_comment() on the strings of the body.
 *
 * Invariants (abort = a finding):
 *   1. mt5_check_poll returns 0 or -1; on -1 err is terminated, non-empty and
 *      starts with the name of a top-level field ("body", "account", "quotes",
 *      "positions", "closed", "results");
 *   2. on 0 every item of the four arrays is an object and every time field is
 *      absent or within 2000..2100, so the millisecond conversion cannot overflow;
 *   3. mt5_comment() of any string (as a plugin id) and any trade id fits in 31
 *      characters and starts with "zx:".
 *
 * Built by `make fuzz` (clang -fsanitize=fuzzer,address,undefined).
 */
#include <json-c/json.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker_mt5.h"

#define CHECK(cond) do { \
        if (!(cond)) { \
            fprintf(stderr, "fuzz_mt5_poll: invariant failed: %s (line %d)\n", #cond, __LINE__); \
            abort(); \
        } \
    } while (0)

static const char *const arrays[] = {"quotes", "positions", "closed", "results"};

static void comments(json_object *o, int depth)
{
    if (!o || depth > 4)
        return;
    if (json_object_is_type(o, json_type_string)) {
        char c[32];
        const char *s = json_object_get_string(o);
        mt5_comment(s, (int64_t)json_object_get_string_len(o) * 7919, c, sizeof c);
        CHECK(strlen(c) <= 31 && strncmp(c, "zx:", 3) == 0);
        return;
    }
    if (json_object_is_type(o, json_type_array)) {
        for (size_t i = 0; i < json_object_array_length(o) && i < 8; i++)
            comments(json_object_array_get_idx(o, i), depth + 1);
    } else if (json_object_is_type(o, json_type_object)) {
        json_object_object_foreach(o, k, v) {
            (void)k;
            comments(v, depth + 1);
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 1 << 16)
        return 0;
    json_object *o = NULL;
    struct json_tokener *tok = json_tokener_new();
    if (!tok)
        return 0;
    o = json_tokener_parse_ex(tok, (const char *)data, (int)size);
    if (json_tokener_get_error(tok) != json_tokener_success) {
        json_object_put(o);
        o = NULL;
    }
    json_tokener_free(tok);
    char err[300];
    memset(err, 'x', sizeof err);
    int rc = mt5_check_poll(o, err, sizeof err);
    CHECK(rc == 0 || rc == -1);
    if (rc) {
        CHECK(memchr(err, '\0', sizeof err) != NULL && err[0]);
        int named = strncmp(err, "body", 4) == 0 || strncmp(err, "account", 7) == 0;
        for (size_t k = 0; k < 4; k++)
            named |= strncmp(err, arrays[k], strlen(arrays[k])) == 0;
        CHECK(named);
    } else {
        for (size_t k = 0; k < 4; k++) {
            json_object *a, *t;
            if (!json_object_object_get_ex(o, arrays[k], &a))
                continue;
            for (size_t i = 0; i < json_object_array_length(a); i++) {
                json_object *e = json_object_array_get_idx(a, i);
                CHECK(json_object_is_type(e, json_type_object));
                if (json_object_object_get_ex(e, "time", &t) && !json_object_is_type(t, json_type_null)) {
                    double d = json_object_is_type(t, json_type_string) ? strtod(json_object_get_string(t), NULL)
                                                                         : json_object_get_double(t);
                    CHECK(isfinite(d) && d >= 946684800.0 && d <= 4102444800.0);
                    int64_t ms = (int64_t)d * 1000;     /* what read_closed() does */
                    CHECK(ms > 0);
                }
            }
        }
    }
    comments(o, 0);
    json_object_put(o);
    return 0;
}
