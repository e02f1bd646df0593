/* Resizing that matches TensorFlow's kernels (tf.image.resize, TF 2.x):
 *
 * bilinear (ResizeBilinear, half_pixel_centers=True):
 *   in = (out + 0.5) * (in_size / out_size) - 0.5
 *   lo = max(floor(in), 0), hi = min(ceil(in), in_size - 1), l = in - floor(in)
 *   top = tl + (tr - tl) * lx; bottom = bl + (br - bl) * lx;
 *   value = top + (bottom - top) * ly            (same float operations)
 * nearest (ResizeNearestNeighbor, half_pixel_centers=True):
 *   src = min(floor((out + 0.5) * scale), in_size - 1)
 * area (ResizeArea): each output pixel averages the input box
 *   [out * scale, (out + 1) * scale) with fractional coverage at its edges.
 * Everything is separable: a horizontal pass over every input row into
 * plan->tmp, then a vertical pass. */
#include "data/resize.h"

#include "core/error_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void rp_resize_plan_init(rp_resize_plan *plan) { memset(plan, 0, sizeof *plan); }

void rp_resize_plan_free(rp_resize_plan *plan)
{
    if (!plan)
        return;
    free(plan->block);
    memset(plan, 0, sizeof *plan);
}

/* Number of area taps for one axis (upper bound). */
static size_t area_taps(int in, int out)
{
    float scale = (float)in / (float)out;
    return (size_t)out * ((size_t)ceilf(scale) + 2);
}

static void build_axis(rp_axis *a, int in, int out, int filter)
{
    float scale = (float)in / (float)out;
    if (filter == RP_FILTER_BILINEAR) {
        for (int i = 0; i < out; ++i) {
            float src = ((float)i + 0.5f) * scale - 0.5f;
            float f = floorf(src);
            int lo = (int)f;
            int hi = (int)ceilf(src);
            a->lo[i] = lo < 0 ? 0 : lo;
            a->hi[i] = hi > in - 1 ? in - 1 : hi;
            a->lerp[i] = src - f;
        }
    } else if (filter == RP_FILTER_NEAREST) {
        for (int i = 0; i < out; ++i) {
            int s = (int)floorf(((float)i + 0.5f) * scale);
            if (s > in - 1)
                s = in - 1;
            if (s < 0)
                s = 0;
            a->lo[i] = s;
        }
    } else {
        int off = 0;
        for (int i = 0; i < out; ++i) {
            float s0 = (float)i * scale, s1 = (float)(i + 1) * scale;
            int first = (int)floorf(s0);
            int last = (int)ceilf(s1); /* exclusive */
            if (last > in)
                last = in;
            if (first >= last)
                first = last - 1;
            a->start[i] = first;
            a->count[i] = last - first;
            a->woff[i] = off;
            float total = 0.0f;
            for (int j = first; j < last; ++j) {
                float lo = (float)j > s0 ? (float)j : s0;
                float hi = (float)(j + 1) < s1 ? (float)(j + 1) : s1;
                float wgt = hi - lo;
                if (wgt < 0.0f)
                    wgt = 0.0f;
                a->w[off + (j - first)] = wgt;
                total += wgt;
            }
            /* Normalise so that a constant image stays constant. */
            for (int j = 0; j < last - first; ++j)
                a->w[off + j] /= total;
            off += last - first;
        }
    }
}

int rp_resize_plan_prepare(rp_resize_plan *plan, int in_h, int in_w, int out_h, int out_w,
                           int channels, int filter)
{
    if (in_h <= 0 || in_w <= 0 || out_h <= 0 || out_w <= 0 || channels <= 0)
        return rp_error(REPTILE_EINVAL, "resize: sizes must be positive (%dx%dx%d -> %dx%d)", in_h,
                        in_w, channels, out_h, out_w);
    if (filter != RP_FILTER_BILINEAR && filter != RP_FILTER_AREA && filter != RP_FILTER_NEAREST)
        return rp_error(REPTILE_EINVAL, "resize: unknown filter %d", filter);
    if (plan->block && plan->in_h == in_h && plan->in_w == in_w && plan->out_h == out_h &&
        plan->out_w == out_w && plan->channels == channels && plan->filter == filter)
        return 0;
    size_t xt = area_taps(in_w, out_w), yt = area_taps(in_h, out_h);
    size_t n_i32 = 5 * (size_t)out_w + 5 * (size_t)out_h;
    size_t n_f32 = (size_t)out_w + (size_t)out_h + xt + yt + (size_t)in_h * (size_t)out_w * (size_t)channels;
    void *block = malloc(n_i32 * sizeof(int32_t) + n_f32 * sizeof(float));
    if (!block)
        return rp_error(REPTILE_ENOMEM, "resize: out of memory for a %dx%d -> %dx%d plan", in_h, in_w,
                        out_h, out_w);
    free(plan->block);
    plan->block = block;
    int32_t *ip = (int32_t *)block;
    float *fp = (float *)(ip + n_i32);
    rp_axis *axes[2] = {&plan->x, &plan->y};
    int outs[2] = {out_w, out_h};
    size_t taps[2] = {xt, yt};
    for (int k = 0; k < 2; ++k) {
        rp_axis *a = axes[k];
        a->lo = ip; ip += outs[k];
        a->hi = ip; ip += outs[k];
        a->start = ip; ip += outs[k];
        a->count = ip; ip += outs[k];
        a->woff = ip; ip += outs[k];
        a->lerp = fp; fp += outs[k];
        a->w = fp; fp += taps[k];
    }
    plan->tmp = fp;
    plan->in_h = in_h;
    plan->in_w = in_w;
    plan->out_h = out_h;
    plan->out_w = out_w;
    plan->channels = channels;
    plan->filter = filter;
    build_axis(&plan->x, in_w, out_w, filter);
    build_axis(&plan->y, in_h, out_h, filter);
    return 0;
}

static void run_bilinear(const rp_resize_plan *p, const float *in, size_t stride, float *out)
{
    const int c = p->channels, ow = p->out_w;
    const int32_t *xlo = p->x.lo, *xhi = p->x.hi;
    const float *xl = p->x.lerp;
    /* Only rows some output row reads need the horizontal pass. */
    int prev = -1;
    for (int oy = 0; oy < p->out_h; ++oy) {
        int rows[2] = {p->y.lo[oy], p->y.hi[oy]};
        for (int k = 0; k < 2; ++k) {
            int r = rows[k];
            if (r <= prev)
                continue;
            prev = r;
            const float *src = in + (size_t)r * stride;
            float *dst = p->tmp + (size_t)r * ow * c;
            for (int ox = 0; ox < ow; ++ox) {
                const float *a = src + (size_t)xlo[ox] * c, *b = src + (size_t)xhi[ox] * c;
                for (int ch = 0; ch < c; ++ch)
                    dst[ox * c + ch] = a[ch] + (b[ch] - a[ch]) * xl[ox];
            }
        }
    }
    const size_t rowlen = (size_t)ow * c;
    for (int oy = 0; oy < p->out_h; ++oy) {
        const float *top = p->tmp + (size_t)p->y.lo[oy] * rowlen;
        const float *bot = p->tmp + (size_t)p->y.hi[oy] * rowlen;
        const float l = p->y.lerp[oy];
        float *dst = out + (size_t)oy * rowlen;
        for (size_t i = 0; i < rowlen; ++i)
            dst[i] = top[i] + (bot[i] - top[i]) * l;
    }
}

static void run_nearest(const rp_resize_plan *p, const float *in, size_t stride, float *out)
{
    const int c = p->channels;
    for (int oy = 0; oy < p->out_h; ++oy) {
        const float *src = in + (size_t)p->y.lo[oy] * stride;
        float *dst = out + (size_t)oy * p->out_w * c;
        for (int ox = 0; ox < p->out_w; ++ox)
            for (int ch = 0; ch < c; ++ch)
                dst[ox * c + ch] = src[(size_t)p->x.lo[ox] * c + ch];
    }
}

static void run_area(const rp_resize_plan *p, const float *in, size_t stride, float *out)
{
    const int c = p->channels, ow = p->out_w;
    const size_t rowlen = (size_t)ow * c;
    for (int r = 0; r < p->in_h; ++r) {
        const float *src = in + (size_t)r * stride;
        float *dst = p->tmp + (size_t)r * rowlen;
        for (int ox = 0; ox < ow; ++ox) {
            const float *w = p->x.w + p->x.woff[ox];
            const float *s = src + (size_t)p->x.start[ox] * c;
            for (int ch = 0; ch < c; ++ch) {
                float acc = 0.0f;
                for (int j = 0; j < p->x.count[ox]; ++j)
                    acc += w[j] * s[(size_t)j * c + ch];
                dst[ox * c + ch] = acc;
            }
        }
    }
    for (int oy = 0; oy < p->out_h; ++oy) {
        float *dst = out + (size_t)oy * rowlen;
        const float *w = p->y.w + p->y.woff[oy];
        const float *s = p->tmp + (size_t)p->y.start[oy] * rowlen;
        for (size_t i = 0; i < rowlen; ++i)
            dst[i] = 0.0f;
        for (int j = 0; j < p->y.count[oy]; ++j) {
            const float *sr = s + (size_t)j * rowlen;
            for (size_t i = 0; i < rowlen; ++i)
                dst[i] += w[j] * sr[i];
        }
    }
}

void rp_resize_run_strided(rp_resize_plan *plan, const float *in, size_t stride, float *out)
{
    if (plan->in_h == plan->out_h && plan->in_w == plan->out_w) {
        const size_t row = (size_t)plan->in_w * plan->channels;
        for (int y = 0; y < plan->in_h; ++y)
            memcpy(out + (size_t)y * row, in + (size_t)y * stride, sizeof(float) * row);
        return;
    }
    switch (plan->filter) {
    case RP_FILTER_NEAREST: run_nearest(plan, in, stride, out); break;
    case RP_FILTER_AREA: run_area(plan, in, stride, out); break;
    default: run_bilinear(plan, in, stride, out); break;
    }
}

void rp_resize_run(rp_resize_plan *plan, const float *in, float *out)
{
    rp_resize_run_strided(plan, in, (size_t)plan->in_w * plan->channels, out);
}

void rp_center_crop(int in_h, int in_w, int out_h, int out_w, int *y0, int *x0, int *crop_h, int *crop_w)
{
    int64_t ch = in_h, cw = in_w;
    if ((int64_t)in_w * out_h >= (int64_t)in_h * out_w)
        cw = (int64_t)in_h * out_w / out_h; /* wider than the output: full height */
    else
        ch = (int64_t)in_w * out_h / out_w; /* taller: full width */
    if (cw < 1)
        cw = 1;
    if (ch < 1)
        ch = 1;
    *crop_h = (int)ch;
    *crop_w = (int)cw;
    *y0 = (in_h - (int)ch) / 2;
    *x0 = (in_w - (int)cw) / 2;
}

int rp_resize(const float *in, int in_h, int in_w, int channels, float *out, int out_h, int out_w,
              int filter)
{
    if (!in || !out)
        return rp_error(REPTILE_EINVAL, "resize: NULL image");
    rp_resize_plan plan;
    rp_resize_plan_init(&plan);
    int rc = rp_resize_plan_prepare(&plan, in_h, in_w, out_h, out_w, channels, filter);
    if (rc == 0)
        rp_resize_run(&plan, in, out);
    rp_resize_plan_free(&plan);
    return rc;
}
