/* PNG pictures with cairo: see plot.h. */
#include "plot.h"

#include "smooth.h"

#include <stdio.h>

#ifndef EX_HAVE_CAIRO

int ex_plot_available(void)
{
    return 0;
}

static int no_cairo(char *err, size_t err_size)
{
    snprintf(err, err_size, "this program was built without cairo, so it cannot draw PNG "
                            "pictures (install libcairo2-dev and rebuild)");
    return -1;
}

int ex_plot_curve(const char *path, const double *train, const double *test, size_t n,
                  size_t window, const char *title, char *err, size_t err_size)
{
    (void)path, (void)train, (void)test, (void)n, (void)window, (void)title;
    return no_cairo(err, err_size);
}

int ex_plot_images(const char *path, const float *images, int count, int cols, int h, int w,
                   int c, int scale, const char *const *titles, char *err, size_t err_size)
{
    (void)path, (void)images, (void)count, (void)cols, (void)h, (void)w, (void)c, (void)scale;
    (void)titles;
    return no_cairo(err, err_size);
}

#else /* EX_HAVE_CAIRO */

#include <cairo.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define FONT "DejaVu Sans"

int ex_plot_available(void)
{
    return 1;
}

static int finish(cairo_surface_t *surface, cairo_t *cr, const char *path, char *err,
                  size_t err_size)
{
    cairo_status_t st = cairo_status(cr);
    int e = 0;
    if (st == CAIRO_STATUS_SUCCESS) {
        errno = 0;
        st = cairo_surface_write_to_png(surface, path);
        e = errno; /* cairo's status only says "write error"; errno says why */
    }
    cairo_destroy(cr);
    cairo_surface_destroy(surface);
    if (st != CAIRO_STATUS_SUCCESS) {
        const char *why = st == CAIRO_STATUS_WRITE_ERROR && e ? strerror(e)
                                                              : cairo_status_to_string(st);
        snprintf(err, err_size, "%s", why);
        return -1;
    }
    return 0;
}

/* Text centred on x with its baseline at y (align: 0 left, 0.5 centre, 1 right). */
static void text_at(cairo_t *cr, double x, double y, double align, const char *s)
{
    cairo_text_extents_t ext;
    cairo_text_extents(cr, s, &ext);
    cairo_move_to(cr, x - align * ext.x_advance, y);
    cairo_show_text(cr, s);
}

/* A "nice" tick step (1, 2, 2.5 or 5 times a power of ten) giving about
 * `target` intervals over `range`. */
static double nice_step(double range, int target)
{
    double raw = range / target;
    double mag = pow(10.0, floor(log10(raw)));
    double f = raw / mag;
    double nice = f <= 1.0 ? 1.0 : f <= 2.0 ? 2.0 : f <= 2.5 ? 2.5 : f <= 5.0 ? 5.0 : 10.0;
    return nice * mag;
}

static int step_decimals(double step)
{
    int d = 0;
    while (d < 6 && fabs(step * pow(10.0, d) - round(step * pow(10.0, d))) > 1e-6)
        d++;
    return d;
}

int ex_plot_curve(const char *path, const double *train, const double *test, size_t n,
                  size_t window, const char *title, char *err, size_t err_size)
{
    const int W = 900, H = 600;
    const double left = 80, right = 30, top = 56, bottom = 64;
    const double pw = W - left - right, ph = H - top - bottom;
    size_t len = ex_smooth_length(n, window);
    double *ty = NULL, *ry = NULL;

    if (len > 0) {
        ty = malloc(len * sizeof *ty);
        ry = malloc(len * sizeof *ry);
        if (!ty || !ry || ex_smooth_hamming(test, n, window, ty) != len ||
            ex_smooth_hamming(train, n, window, ry) != len) {
            free(ty);
            free(ry);
            snprintf(err, err_size, "out of memory smoothing the learning curve");
            return -1;
        }
    }

    /* Axis ranges: x over the point indices, y over the data with a 5% margin
     * (matplotlib's autoscaling). */
    double xmin = len > 1 ? 0.0 : -0.5, xmax = len > 1 ? (double)(len - 1) : 0.5;
    double ymin = 1e300, ymax = -1e300;
    for (size_t i = 0; i < len; i++) {
        ymin = fmin(ymin, fmin(ty[i], ry[i]));
        ymax = fmax(ymax, fmax(ty[i], ry[i]));
    }
    if (len == 0) {
        ymin = 0.0;
        ymax = 1.0;
    }
    if (ymax - ymin < 1e-9) {
        ymin -= 0.05;
        ymax += 0.05;
    }
    double ypad = 0.05 * (ymax - ymin), xpad = 0.05 * (xmax - xmin);
    ymin -= ypad;
    ymax += ypad;
    xmin -= xpad;
    xmax += xpad;

    cairo_surface_t *surface = cairo_image_surface_create(CAIRO_FORMAT_RGB24, W, H);
    cairo_t *cr = cairo_create(surface);
    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_paint(cr);
    cairo_select_font_face(cr, FONT, CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);

#define PX(v) (left + ((v) - xmin) / (xmax - xmin) * pw)
#define PY(v) (top + ph - ((v) - ymin) / (ymax - ymin) * ph)

    /* Grid and tick labels. */
    char label[64];
    cairo_set_font_size(cr, 13);
    double xs = nice_step(xmax - xmin, 8), ys = nice_step(ymax - ymin, 6);
    if (xs < 1.0)
        xs = 1.0; /* x is a point index */
    int xd = step_decimals(xs), yd = step_decimals(ys);
    cairo_set_line_width(cr, 1.0);
    for (double v = ceil(xmin / xs) * xs; v <= xmax + 1e-9; v += xs) {
        double x = floor(PX(v)) + 0.5;
        cairo_set_source_rgb(cr, 0.88, 0.88, 0.88);
        cairo_move_to(cr, x, top);
        cairo_line_to(cr, x, top + ph);
        cairo_stroke(cr);
        cairo_set_source_rgb(cr, 0, 0, 0);
        cairo_move_to(cr, x, top + ph);
        cairo_line_to(cr, x, top + ph + 5);
        cairo_stroke(cr);
        snprintf(label, sizeof label, "%.*f", xd, fabs(v) < xs * 1e-6 ? 0.0 : v);
        text_at(cr, x, top + ph + 20, 0.5, label);
    }
    for (double v = ceil(ymin / ys) * ys; v <= ymax + 1e-9; v += ys) {
        double y = floor(PY(v)) + 0.5;
        cairo_set_source_rgb(cr, 0.88, 0.88, 0.88);
        cairo_move_to(cr, left, y);
        cairo_line_to(cr, left + pw, y);
        cairo_stroke(cr);
        cairo_set_source_rgb(cr, 0, 0, 0);
        cairo_move_to(cr, left - 5, y);
        cairo_line_to(cr, left, y);
        cairo_stroke(cr);
        snprintf(label, sizeof label, "%.*f", yd, fabs(v) < ys * 1e-6 ? 0.0 : v);
        text_at(cr, left - 8, y + 4.5, 1.0, label);
    }

    /* The two curves, matplotlib's first two colours, clipped to the axes. */
    static const double colour[2][3] = {{0.122, 0.467, 0.706}, {1.0, 0.498, 0.055}};
    const double *series[2] = {ty, ry};
    cairo_save(cr);
    cairo_rectangle(cr, left, top, pw, ph);
    cairo_clip(cr);
    cairo_set_line_width(cr, 1.6);
    cairo_set_line_join(cr, CAIRO_LINE_JOIN_ROUND);
    for (int s = 0; s < 2; s++) {
        if (len == 0)
            break;
        cairo_set_source_rgb(cr, colour[s][0], colour[s][1], colour[s][2]);
        cairo_move_to(cr, PX(0.0), PY(series[s][0]));
        for (size_t i = 1; i < len; i++)
            cairo_line_to(cr, PX((double)i), PY(series[s][i]));
        cairo_stroke(cr);
        if (len == 1) { /* a lone point: a dot, or it would not show */
            cairo_arc(cr, PX(0.0), PY(series[s][0]), 3.5, 0, 6.2831853);
            cairo_fill(cr);
        }
    }
    cairo_restore(cr);

    /* Frame. */
    cairo_set_source_rgb(cr, 0, 0, 0);
    cairo_set_line_width(cr, 1.0);
    cairo_rectangle(cr, left + 0.5, top + 0.5, pw - 1, ph - 1);
    cairo_stroke(cr);

    /* Legend (lower right: accuracies rise). */
    const char *names[2] = {"test", "train"};
    double lw = 96, lh = 50, lx = left + pw - lw - 12, ly = top + ph - lh - 12;
    cairo_set_source_rgba(cr, 1, 1, 1, 0.85);
    cairo_rectangle(cr, lx, ly, lw, lh);
    cairo_fill_preserve(cr);
    cairo_set_source_rgb(cr, 0.8, 0.8, 0.8);
    cairo_stroke(cr);
    for (int s = 0; s < 2; s++) {
        double y = ly + 16 + 20 * s;
        cairo_set_source_rgb(cr, colour[s][0], colour[s][1], colour[s][2]);
        cairo_set_line_width(cr, 2.0);
        cairo_move_to(cr, lx + 10, y);
        cairo_line_to(cr, lx + 40, y);
        cairo_stroke(cr);
        cairo_set_source_rgb(cr, 0, 0, 0);
        text_at(cr, lx + 48, y + 4.5, 0.0, names[s]);
    }

    /* Title and axis labels. */
    cairo_set_font_size(cr, 16);
    text_at(cr, left + pw / 2, top - 20, 0.5, title ? title : "");
    cairo_set_font_size(cr, 14);
    text_at(cr, left + pw / 2, H - 18, 0.5, "meta-iteration");
    cairo_save(cr);
    cairo_move_to(cr, 0, 0);
    cairo_translate(cr, 24, top + ph / 2);
    cairo_rotate(cr, -1.57079632679489662);
    text_at(cr, 0, 0, 0.5, "accuracy");
    cairo_restore(cr);
#undef PX
#undef PY

    free(ty);
    free(ry);
    return finish(surface, cr, path, err, err_size);
}

int ex_plot_images(const char *path, const float *images, int count, int cols, int h, int w,
                   int c, int scale, const char *const *titles, char *err, size_t err_size)
{
    if (count < 1 || cols < 1 || h < 1 || w < 1 || c < 1 || scale < 1) {
        snprintf(err, err_size, "no images to draw");
        return -1;
    }
    int rows = (count + cols - 1) / cols;
    int has_titles = 0;
    for (int i = 0; titles && i < count; i++)
        has_titles |= titles[i] != NULL;
    const int pad = 16, title_h = has_titles ? 26 : 0;
    int iw = w * scale, ih = h * scale;
    int cell_w = iw + 2 * pad, cell_h = ih + title_h + pad;
    /* Room for the titles when they are wider than the images. */
    cairo_surface_t *probe = cairo_image_surface_create(CAIRO_FORMAT_RGB24, 1, 1);
    cairo_t *pc = cairo_create(probe);
    cairo_select_font_face(pc, FONT, CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
    cairo_set_font_size(pc, 15);
    for (int i = 0; has_titles && i < count; i++) {
        if (!titles[i])
            continue;
        cairo_text_extents_t ext;
        cairo_text_extents(pc, titles[i], &ext);
        /* A title over the middle column may spill into its neighbours. */
        int need = (int)ceil(ext.x_advance) + 28;
        if (cols > 1 && count > cols)
            need = need / 3;
        if (need > cell_w)
            cell_w = need;
    }
    cairo_destroy(pc);
    cairo_surface_destroy(probe);

    int W = cols * cell_w + pad, H = rows * cell_h + pad;
    cairo_surface_t *surface = cairo_image_surface_create(CAIRO_FORMAT_RGB24, W, H);
    cairo_surface_t *img = cairo_image_surface_create(CAIRO_FORMAT_RGB24, w, h);
    cairo_t *cr = cairo_create(surface);
    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_paint(cr);
    cairo_select_font_face(cr, FONT, CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
    cairo_set_font_size(cr, 15);

    size_t per = (size_t)h * (size_t)w * (size_t)c;
    for (int k = 0; k < count && cairo_surface_status(img) == CAIRO_STATUS_SUCCESS; k++) {
        const float *src = images + (size_t)k * per;
        cairo_surface_flush(img);
        unsigned char *data = cairo_image_surface_get_data(img);
        int stride = cairo_image_surface_get_stride(img);
        for (int y = 0; y < h; y++) {
            uint32_t *row = (uint32_t *)(void *)(data + (size_t)y * (size_t)stride);
            for (int x = 0; x < w; x++) {
                const float *p = src + ((size_t)y * (size_t)w + (size_t)x) * (size_t)c;
                float v[3];
                for (int ch = 0; ch < 3; ch++) {
                    float f = p[c >= 3 ? ch : 0];
                    f = f < 0.f ? 0.f : f > 1.f ? 1.f : f;
                    v[ch] = f;
                }
                uint32_t r = (uint32_t)lrintf(v[0] * 255.f), g = (uint32_t)lrintf(v[1] * 255.f),
                         b = (uint32_t)lrintf(v[2] * 255.f);
                row[x] = (r << 16) | (g << 8) | b;
            }
        }
        cairo_surface_mark_dirty(img);

        int col = k % cols, rowi = k / cols;
        double cx = pad + col * cell_w + (cell_w - iw) / 2.0;
        double cy = pad + rowi * cell_h + title_h;
        cairo_save(cr);
        cairo_translate(cr, cx, cy);
        cairo_scale(cr, scale, scale);
        cairo_set_source_surface(cr, img, 0, 0);
        cairo_pattern_set_filter(cairo_get_source(cr), CAIRO_FILTER_NEAREST);
        cairo_rectangle(cr, 0, 0, w, h);
        cairo_fill(cr);
        cairo_restore(cr);
        cairo_set_source_rgb(cr, 0, 0, 0);
        cairo_set_line_width(cr, 1.0);
        cairo_rectangle(cr, cx - 0.5, cy - 0.5, iw + 1, ih + 1);
        cairo_stroke(cr);
        if (titles && titles[k])
            text_at(cr, cx + iw / 2.0, cy - 9, 0.5, titles[k]);
    }
    cairo_status_t ist = cairo_surface_status(img);
    cairo_surface_destroy(img);
    if (ist != CAIRO_STATUS_SUCCESS) {
        cairo_destroy(cr);
        cairo_surface_destroy(surface);
        snprintf(err, err_size, "cairo: %s", cairo_status_to_string(ist));
        return -1;
    }
    return finish(surface, cr, path, err, err_size);
}

#endif /* EX_HAVE_CAIRO */
