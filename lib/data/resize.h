/* Image resizing as tf.image.resize (antialias=False, half-pixel centres).
 *
 * A plan holds the per-axis tables for one (input size, output size, filter)
 * and a scratch row buffer; rp_resize_plan_prepare() rebuilds them only when
 * the sizes change, so resizing many equal-sized images allocates once. */
#ifndef RP_DATA_RESIZE_H
#define RP_DATA_RESIZE_H

#include <stddef.h>
#include <stdint.h>

enum { RP_FILTER_BILINEAR = 0, RP_FILTER_AREA = 1, RP_FILTER_NEAREST = 2 };

typedef struct rp_axis {
    int32_t *lo, *hi;   /* bilinear: the two source indices; nearest: lo only */
    float *lerp;        /* bilinear weight of hi */
    int32_t *start, *count, *woff; /* area: source span and weight offsets */
    float *w;           /* area weights */
} rp_axis;

typedef struct rp_resize_plan {
    int in_h, in_w, out_h, out_w, channels, filter;
    rp_axis x, y;
    float *tmp;          /* in_h * out_w * channels */
    void *block;         /* one allocation behind all tables */
} rp_resize_plan;

void rp_resize_plan_init(rp_resize_plan *plan);
void rp_resize_plan_free(rp_resize_plan *plan);

/* (Re)build the tables if any parameter differs. Errors: EINVAL, ENOMEM. */
int rp_resize_plan_prepare(rp_resize_plan *plan, int in_h, int in_w, int out_h, int out_w,
                           int channels, int filter);

/* Resize in (in_h x in_w x channels) to out (out_h x out_w x channels) with
 * a prepared plan. When the sizes are equal the pixels are copied unchanged. */
void rp_resize_run(rp_resize_plan *plan, const float *in, float *out);

/* The same, reading input row y at in + y * stride floats (stride >=
 * in_w * channels): a region of a larger image, as the centre crop. */
void rp_resize_run_strided(rp_resize_plan *plan, const float *in, size_t stride, float *out);

/* The centre crop of an in_h x in_w image for an out_h x out_w output: the
 * largest region of the output's aspect ratio, its other side rounded
 * down (crop_w = floor(in_h * out_w / out_h) when the image is at least as
 * wide as the output, else crop_h = floor(in_w * out_h / out_w); never
 * below 1). The region starts at y0 = floor((in_h - crop_h) / 2),
 * x0 = floor((in_w - crop_w) / 2): when an odd number of rows or columns
 * is cut, the extra one is cut at the bottom or right (as
 * tf.image.resize_with_crop_or_pad). */
void rp_center_crop(int in_h, int in_w, int out_h, int out_w, int *y0, int *x0, int *crop_h, int *crop_w);

/* One-shot convenience (allocates a temporary plan). */
int rp_resize(const float *in, int in_h, int in_w, int channels, float *out, int out_h, int out_w,
              int filter);

#endif
