/*
 * chart — an equity curve drawn with cairo into a PNG in memory, sized and
 * lettered to be read on a phone (Telegram shows photos up to 1280 px wide):
 * white background, a title, the curve as steps (realised profit changes only
 * when a trade closes), green/red shading above/below zero, the zero line,
 * labels for the highest and lowest value and the final one, and the start and
 * end of the period under the axis. No data draws a "No closed trades" image.
 *
 * Pure CPU work in memory (a few milliseconds); never touches a file or the
 * network.
 */
#ifndef ZEPIX_CHART_H
#define ZEPIX_CHART_H

#include <stddef.h>

struct chart_point {
    double x;                   /* any unit, increasing (zepix: milliseconds) */
    double y;                   /* the cumulative value after this point */
};

struct chart_opts {
    int width, height;          /* pixels; 0 = CHART_WIDTH x CHART_HEIGHT */
    const char *title;          /* plain text, may be NULL */
    const char *x_from, *x_to;  /* labels under the left and right end, may be NULL */
    double x0, x1;              /* the x range shown; the curve starts at (x0, 0) */
};

#define CHART_WIDTH 1000
#define CHART_HEIGHT 600

/* Draw pts[0..n) and encode it as PNG. *png is malloc'ed, *len its size (the
 * caller frees). 0, or -1 with err. */
int chart_equity_png(const struct chart_opts *o, const struct chart_point *pts, size_t n,
                     unsigned char **png, size_t *len, char *err, size_t errlen);

/* Release cairo's and fontconfig's process-wide caches (font faces, the
 * loaded font configuration), so a sanitizer or valgrind sees a clean exit.
 * Call once at exit, after the last chart; a later chart would reload them. */
void chart_cleanup(void);

#endif
