/* test_chart — the equity-curve PNG: a real PNG of the requested size (the
 * signature and the IHDR chunk), a different curve gives a different picture,
 * no data gives a "no closed trades" image rather than a crash, flat and
 * single-point curves draw, a silly size is refused with a reason. Set
 * ZEPIX_CHART_OUT=dir to keep the images for a look. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "chart.h"

static const unsigned char PNG_SIG[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Render, check the PNG header and size, and hand the bytes back. */
static unsigned char *render(const struct chart_opts *o, const struct chart_point *pts, size_t n, size_t *len,
                             const char *keep_as)
{
    unsigned char *png = NULL;
    char err[256] = "";
    assert_int_equal(chart_equity_png(o, pts, n, &png, len, err, sizeof err), 0);
    assert_non_null(png);
    assert_true(*len > 33);
    assert_memory_equal(png, PNG_SIG, 8);
    assert_int_equal(be32(png + 8), 13);                  /* IHDR is the first chunk */
    assert_memory_equal(png + 12, "IHDR", 4);
    assert_int_equal(be32(png + 16), o->width ? (uint32_t)o->width : CHART_WIDTH);
    assert_int_equal(be32(png + 20), o->height ? (uint32_t)o->height : CHART_HEIGHT);
    const char *dir = getenv("ZEPIX_CHART_OUT");
    if (dir && keep_as) {
        char path[512];
        snprintf(path, sizeof path, "%s/%s.png", dir, keep_as);
        FILE *f = fopen(path, "wb");
        if (f) {
            fwrite(png, 1, *len, f);
            fclose(f);
        }
    }
    return png;
}

static const struct chart_point CURVE[] = {
    {1000, 120.5}, {2000, 80}, {2500, 80}, {4000, -35.25}, {6000, 60}, {8000, 210.75},
};

static void test_chart_is_a_png_of_the_default_size(void **state)
{
    (void)state;
    size_t len;
    struct chart_opts o = {.title = "Daily report 2026-03-09", .x_from = "2026-03-09 03:35 IST",
                           .x_to = "2026-03-10 03:35 IST", .x0 = 0, .x1 = 10000};
    free(render(&o, CURVE, 6, &len, "curve"));
}

static void test_chart_honours_a_requested_size(void **state)
{
    (void)state;
    size_t len;
    struct chart_opts o = {.width = 640, .height = 360, .title = "small", .x0 = 0, .x1 = 10000};
    free(render(&o, CURVE, 6, &len, NULL));
}

static void test_a_different_curve_draws_a_different_picture(void **state)
{
    (void)state;
    size_t l1, l2, l3;
    struct chart_opts o = {.title = "t", .x0 = 0, .x1 = 10000};
    struct chart_point other[6];
    memcpy(other, CURVE, sizeof other);
    other[3].y = -90;
    unsigned char *a = render(&o, CURVE, 6, &l1, NULL), *b = render(&o, other, 6, &l2, NULL);
    unsigned char *c = render(&o, CURVE, 6, &l3, NULL);
    assert_true(l1 != l2 || memcmp(a, b, l1) != 0);
    assert_int_equal(l1, l3);                               /* and the same curve the same one */
    assert_memory_equal(a, c, l1);
    free(a);
    free(b);
    free(c);
}

static void test_no_data_draws_a_no_trades_image_not_a_crash(void **state)
{
    (void)state;
    size_t l0, l1;
    struct chart_opts o = {.title = "Daily report 2026-03-09", .x_from = "from", .x_to = "to", .x0 = 0, .x1 = 0};
    unsigned char *empty = render(&o, NULL, 0, &l0, "empty");
    o.x1 = 10000;
    unsigned char *full = render(&o, CURVE, 6, &l1, NULL);
    assert_true(l0 != l1 || memcmp(empty, full, l0) != 0);
    free(empty);
    free(full);
}

static void test_flat_and_single_point_curves_draw(void **state)
{
    (void)state;
    size_t len;
    struct chart_point flat[] = {{100, 0}, {200, 0}};       /* two break-even trades */
    struct chart_point one[] = {{500, -42}};
    struct chart_opts o = {.title = NULL, .x0 = 0, .x1 = 1000};
    free(render(&o, flat, 2, &len, "flat"));
    free(render(&o, one, 1, &len, "one_loss"));
    struct chart_point outside[] = {{-50, 10}, {5000, 20}};  /* clamped to the range */
    free(render(&o, outside, 2, &len, NULL));
}

static void test_a_silly_size_is_refused_with_a_reason(void **state)
{
    (void)state;
    unsigned char *png = (unsigned char *)"x";
    size_t len = 7;
    char err[128] = "";
    struct chart_opts o = {.width = 100000, .height = 10, .x0 = 0, .x1 = 1};
    assert_int_equal(chart_equity_png(&o, CURVE, 6, &png, &len, err, sizeof err), -1);
    assert_null(png);
    assert_int_equal(len, 0);
    assert_non_null(strstr(err, "size"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_chart_is_a_png_of_the_default_size),
        cmocka_unit_test(test_chart_honours_a_requested_size),
        cmocka_unit_test(test_a_different_curve_draws_a_different_picture),
        cmocka_unit_test(test_no_data_draws_a_no_trades_image_not_a_crash),
        cmocka_unit_test(test_flat_and_single_point_curves_draw),
        cmocka_unit_test(test_a_silly_size_is_refused_with_a_reason),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    chart_cleanup();
    return rc;
}
