/*
 * chart — see chart.h. One cairo image surface per chart, destroyed before
 * returning; the PNG goes through cairo_surface_write_to_png_stream into a
 * growable buffer.
 */
#include "chart.h"

#include <cairo.h>
#include <fontconfig/fontconfig.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FONT "DejaVu Sans"      /* fontconfig falls back to any sans when absent */
#define TITLE_PX 34
#define LABEL_PX 26
#define PAD 24

struct png_buf {
    unsigned char *p;
    size_t len, cap;
    int failed;
};

static cairo_status_t png_write(void *closure, const unsigned char *data, unsigned int n)
{
    struct png_buf *b = closure;
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 16384;
        while (cap < b->len + n)
            cap *= 2;
        unsigned char *p = realloc(b->p, cap);
        if (!p) {
            b->failed = 1;
            return CAIRO_STATUS_WRITE_ERROR;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, data, n);
    b->len += n;
    return CAIRO_STATUS_SUCCESS;
}

struct frame {
    double px0, px1, py0, py1;  /* the plot area in pixels */
    double x0, x1, y0, y1;      /* the data range it shows */
};

static double map_x(const struct frame *f, double x)
{
    if (x < f->x0)
        x = f->x0;
    if (x > f->x1)
        x = f->x1;
    return f->px0 + (x - f->x0) / (f->x1 - f->x0) * (f->px1 - f->px0);
}

static double map_y(const struct frame *f, double y)
{
    return f->py1 - (y - f->y0) / (f->y1 - f->y0) * (f->py1 - f->py0);
}

static void font(cairo_t *cr, double px, int bold)
{
    cairo_select_font_face(cr, FONT, CAIRO_FONT_SLANT_NORMAL, bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL);
    cairo_set_font_size(cr, px);
}

static double text_width(cairo_t *cr, const char *s)
{
    cairo_text_extents_t e;
    cairo_text_extents(cr, s, &e);
    return e.x_advance;
}

/* Text with its baseline at y; align 0 left, 1 right, 0.5 centred at x. */
static void text_at(cairo_t *cr, double x, double y, double align, const char *s)
{
    cairo_move_to(cr, x - align * text_width(cr, s), y);
    cairo_show_text(cr, s);
}

static void money(char *out, size_t len, double v)
{
    if (fabs(v) < 0.005)
        snprintf(out, len, "0");
    else
        snprintf(out, len, "%+.2f", v);
}

/* The realised curve as steps: flat until a trade closes, then a jump. */
static void curve_path(cairo_t *cr, const struct frame *f, const struct chart_point *pts, size_t n)
{
    double y = 0;
    cairo_move_to(cr, map_x(f, f->x0), map_y(f, 0));
    for (size_t i = 0; i < n; i++) {
        cairo_line_to(cr, map_x(f, pts[i].x), map_y(f, y));
        y = pts[i].y;
        cairo_line_to(cr, map_x(f, pts[i].x), map_y(f, y));
    }
    cairo_line_to(cr, map_x(f, f->x1), map_y(f, y));
}

static void shade(cairo_t *cr, const struct frame *f, const struct chart_point *pts, size_t n,
                  double top, double bottom, double r, double g, double b)
{
    cairo_save(cr);
    cairo_rectangle(cr, f->px0, top, f->px1 - f->px0, bottom - top);
    cairo_clip(cr);
    curve_path(cr, f, pts, n);
    cairo_line_to(cr, map_x(f, f->x1), map_y(f, 0));
    cairo_close_path(cr);
    cairo_set_source_rgba(cr, r, g, b, 0.20);
    cairo_fill(cr);
    cairo_restore(cr);
}

static void y_label(cairo_t *cr, const struct frame *f, double v, double *used, size_t *n_used)
{
    char s[48];
    double py = map_y(f, v);
    for (size_t i = 0; i < *n_used; i++)
        if (fabs(used[i] - py) < LABEL_PX + 4)
            return;             /* would overlap a label already drawn */
    used[(*n_used)++] = py;
    money(s, sizeof s, v);
    cairo_set_source_rgb(cr, 0.25, 0.25, 0.25);
    text_at(cr, f->px0 - 12, py + LABEL_PX * 0.35, 1, s);
}

static void draw(cairo_t *cr, const struct chart_opts *o, int w, int h, const struct chart_point *pts, size_t n)
{
    struct frame f;
    double ymin = 0, ymax = 0, used[4];
    size_t n_used = 0;
    char s[48];

    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_paint(cr);

    for (size_t i = 0; i < n; i++) {
        ymin = pts[i].y < ymin ? pts[i].y : ymin;
        ymax = pts[i].y > ymax ? pts[i].y : ymax;
    }
    if (ymax - ymin < 1e-9)
        ymin = -1, ymax = 1;
    double pad = (ymax - ymin) * 0.08;
    f.y0 = ymin - pad;
    f.y1 = ymax + pad;
    f.x0 = o->x0;
    f.x1 = o->x1 > o->x0 ? o->x1 : o->x0 + 1;

    /* The left gutter fits the widest value label. */
    font(cr, LABEL_PX, 0);
    double gutter = text_width(cr, "0");
    money(s, sizeof s, ymax);
    gutter = fmax(gutter, text_width(cr, s));
    money(s, sizeof s, ymin);
    gutter = fmax(gutter, text_width(cr, s));
    f.px0 = PAD + gutter + 12;
    f.px1 = w - PAD - 8;
    f.py0 = PAD + TITLE_PX + 28;
    f.py1 = h - PAD - LABEL_PX - 18;

    if (o->title && o->title[0]) {
        font(cr, TITLE_PX, 1);
        cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
        text_at(cr, PAD, PAD + TITLE_PX, 0, o->title);
    }

    /* Frame, and dashed guides at the highest and lowest value. */
    cairo_set_line_width(cr, 1.5);
    cairo_set_source_rgb(cr, 0.82, 0.82, 0.82);
    cairo_rectangle(cr, f.px0, f.py0, f.px1 - f.px0, f.py1 - f.py0);
    cairo_stroke(cr);
    if (n) {
        double dash = 8;
        cairo_set_dash(cr, &dash, 1, 0);
        for (int k = 0; k < 2; k++) {
            double v = k ? ymin : ymax;
            if (fabs(v) < 1e-9)
                continue;
            cairo_move_to(cr, f.px0, map_y(&f, v));
            cairo_line_to(cr, f.px1, map_y(&f, v));
            cairo_stroke(cr);
        }
        cairo_set_dash(cr, NULL, 0, 0);
    }

    double zy = map_y(&f, 0);
    if (n) {
        shade(cr, &f, pts, n, f.py0, zy, 0.10, 0.65, 0.25);
        shade(cr, &f, pts, n, zy, f.py1, 0.85, 0.15, 0.15);
    }
    cairo_set_source_rgb(cr, 0.45, 0.45, 0.45);
    cairo_set_line_width(cr, 2);
    cairo_move_to(cr, f.px0, zy);
    cairo_line_to(cr, f.px1, zy);
    cairo_stroke(cr);

    font(cr, LABEL_PX, 0);
    y_label(cr, &f, 0, used, &n_used);
    if (n) {
        y_label(cr, &f, ymax, used, &n_used);
        y_label(cr, &f, ymin, used, &n_used);

        cairo_set_source_rgb(cr, 0.12, 0.33, 0.75);
        cairo_set_line_width(cr, 4);
        cairo_set_line_join(cr, CAIRO_LINE_JOIN_ROUND);
        cairo_set_line_cap(cr, CAIRO_LINE_CAP_ROUND);
        curve_path(cr, &f, pts, n);
        cairo_stroke(cr);

        /* The final value at the right end, above the line (below near the top). */
        double last = pts[n - 1].y, ly = map_y(&f, last);
        cairo_arc(cr, f.px1, ly, 6, 0, 2 * M_PI);
        cairo_fill(cr);
        money(s, sizeof s, last);
        font(cr, LABEL_PX, 1);
        text_at(cr, f.px1 - 12, ly - 14 < f.py0 + LABEL_PX ? ly + LABEL_PX + 10 : ly - 14, 1, s);
    } else {
        font(cr, TITLE_PX, 0);
        cairo_set_source_rgb(cr, 0.5, 0.5, 0.5);
        text_at(cr, (f.px0 + f.px1) / 2, (f.py0 + f.py1) / 2 - 20, 0.5, "No closed trades");
    }

    font(cr, LABEL_PX, 0);
    cairo_set_source_rgb(cr, 0.25, 0.25, 0.25);
    if (o->x_from && o->x_from[0])
        text_at(cr, f.px0, h - PAD, 0, o->x_from);
    if (o->x_to && o->x_to[0])
        text_at(cr, f.px1, h - PAD, 1, o->x_to);
}

void chart_cleanup(void)
{
    cairo_debug_reset_static_data();
    FcFini();
}

int chart_equity_png(const struct chart_opts *o, const struct chart_point *pts, size_t n,
                     unsigned char **png, size_t *len, char *err, size_t errlen)
{
    int w = o->width > 0 ? o->width : CHART_WIDTH, h = o->height > 0 ? o->height : CHART_HEIGHT;
    struct png_buf b = {0};
    cairo_surface_t *sf = NULL;
    cairo_t *cr = NULL;
    cairo_status_t st;
    *png = NULL;
    *len = 0;
    if (w < 200 || h < 150 || w > 4096 || h > 4096) {
        snprintf(err, errlen, "chart size %dx%d out of range", w, h);
        return -1;
    }
    sf = cairo_image_surface_create(CAIRO_FORMAT_RGB24, w, h);
    if ((st = cairo_surface_status(sf)) != CAIRO_STATUS_SUCCESS)
        goto fail;
    cr = cairo_create(sf);
    if ((st = cairo_status(cr)) != CAIRO_STATUS_SUCCESS)
        goto fail;
    draw(cr, o, w, h, pts, n);
    if ((st = cairo_status(cr)) != CAIRO_STATUS_SUCCESS)
        goto fail;
    cairo_surface_flush(sf);
    if ((st = cairo_surface_write_to_png_stream(sf, png_write, &b)) != CAIRO_STATUS_SUCCESS)
        goto fail;
    cairo_destroy(cr);
    cairo_surface_destroy(sf);
    *png = b.p;
    *len = b.len;
    return 0;
fail:
    snprintf(err, errlen, "chart: %s", b.failed ? "out of memory" : cairo_status_to_string(st));
    if (cr)
        cairo_destroy(cr);
    cairo_surface_destroy(sf);
    free(b.p);
    return -1;
}
