/* Max-pooling forward and backward (nn/maxpool.h).
 *
 * Why the forward pass stores the winners instead of the backward pass
 * finding them again: backward is then one pass over dy (a scatter), where
 * recomputing would reread every window of the input, pool_h * pool_w
 * values and comparisons per output (4x dy for the 2x2 pools of the
 * Mini-ImageNet network), only to find the same answer. The record costs
 * one int32 written per output in forward and a workspace the size of the
 * layer's output, small next to the convolution workspaces beside it.
 * Measured on the first Mini-ImageNet pool (84x84x32, batch 10, one core
 * of a loaded 2-core AVX-512 machine): forward 0.81 ms storing vs 0.70 ms
 * not, backward 0.52 ms vs 1.52 ms recomputing; a training step's
 * forward + backward 1.3 vs 2.2 ms. Predictions pay the 15% forward cost
 * for nothing, but a pool's forward is ~1-10% of the convolution's before
 * it, and training dominates. */
#include "nn/maxpool.h"
#include "nn/window.h"
#include "core/error_internal.h"

#include <limits.h>
#include <string.h>

int rp_maxpool_resolve(rp_maxpool_shape *s)
{
    if (!s)
        return rp_error(REPTILE_EINVAL, "maxpool: shape is NULL");
    if (s->batch <= 0 || s->in_h <= 0 || s->in_w <= 0 || s->channels <= 0)
        return rp_error(REPTILE_EINVAL, "maxpool: sizes must be > 0, got batch %d input %dx%dx%d",
                        s->batch, s->in_h, s->in_w, s->channels);
    if (s->pool_h <= 0 || s->pool_w <= 0 || s->stride_h <= 0 || s->stride_w <= 0)
        return rp_error(REPTILE_EINVAL, "maxpool: pool %dx%d and stride %dx%d must be > 0",
                        s->pool_h, s->pool_w, s->stride_h, s->stride_w);
    if (s->pad_same != 0 && s->pad_same != 1)
        return rp_error(REPTILE_EINVAL, "maxpool: pad_same must be 0 or 1, got %d", s->pad_same);
    if (rp_window_extent(s->in_h, s->pool_h, s->stride_h, s->pad_same, &s->out_h, &s->pad_top) ||
        rp_window_extent(s->in_w, s->pool_w, s->stride_w, s->pad_same, &s->out_w, &s->pad_left))
        return rp_error(REPTILE_ESHAPE, "maxpool: %dx%d pool does not fit a %dx%d input with valid "
                        "padding", s->pool_h, s->pool_w, s->in_h, s->in_w);
    /* Pixel indices are int32 and the kernels index images with int. */
    if ((long long)s->in_h * s->in_w > INT32_MAX ||
        (long long)s->batch * s->in_h * s->in_w * s->channels > INT_MAX)
        return rp_error(REPTILE_ESHAPE, "maxpool: tensors too large (batch %d, input %dx%dx%d)",
                        s->batch, s->in_h, s->in_w, s->channels);
    return REPTILE_OK;
}

size_t rp_maxpool_outputs(const rp_maxpool_shape *s)
{
    return (size_t)s->batch * s->out_h * s->out_w * s->channels;
}

/* First and one-past-last input index of window o along an axis, clipped
 * to the real cells (the padding is never read). */
static inline void window(int o, int stride, int pad, int pool, int in, int *lo, int *hi)
{
    int start = o * stride - pad;
    *lo = start > 0 ? start : 0;
    *hi = start + pool < in ? start + pool : in;
}

void rp_maxpool_forward(const rp_maxpool_shape *s, const float *x, float *y, int32_t *argmax)
{
    const int C = s->channels;
    for (int n = 0; n < s->batch; ++n) {
        const float *xn = x + (size_t)n * s->in_h * s->in_w * C;
        for (int oy = 0; oy < s->out_h; ++oy) {
            int y0, y1;
            window(oy, s->stride_h, s->pad_top, s->pool_h, s->in_h, &y0, &y1);
            for (int ox = 0; ox < s->out_w; ++ox) {
                int x0, x1;
                window(ox, s->stride_w, s->pad_left, s->pool_w, s->in_w, &x0, &x1);
                const size_t o = (((size_t)n * s->out_h + oy) * s->out_w + ox) * C;
                float *restrict yo = y + o;
                int32_t *restrict ao = argmax + o;
                /* The window's first real cell starts as the maximum; later
                 * cells replace it only when strictly greater (the first of
                 * equal maxima stays), or NaN. Channels innermost: the
                 * compare-and-select runs across them in vector lanes. */
                const int32_t first = y0 * s->in_w + x0;
                const float *restrict xf = xn + (size_t)first * C;
                for (int c = 0; c < C; ++c) {
                    yo[c] = xf[c];
                    ao[c] = first;
                }
                for (int iy = y0; iy < y1; ++iy)
                    for (int ix = iy == y0 ? x0 + 1 : x0; ix < x1; ++ix) {
                        const int32_t pix = iy * s->in_w + ix;
                        const float *restrict xp = xn + (size_t)pix * C;
                        for (int c = 0; c < C; ++c) {
                            const float v = xp[c];
                            const int win = v > yo[c] || v != v;
                            yo[c] = win ? v : yo[c];
                            ao[c] = win ? pix : ao[c];
                        }
                    }
            }
        }
    }
}

void rp_maxpool_backward(const rp_maxpool_shape *s, const int32_t *argmax, const float *dy, float *dx)
{
    const int C = s->channels;
    const size_t image_in = (size_t)s->in_h * s->in_w * C;
    const size_t image_out = (size_t)s->out_h * s->out_w * C;
    memset(dx, 0, (size_t)s->batch * image_in * sizeof *dx);
    for (int n = 0; n < s->batch; ++n) {
        float *dxn = dx + (size_t)n * image_in;
        const float *dyn = dy + (size_t)n * image_out;
        const int32_t *an = argmax + (size_t)n * image_out;
        for (size_t p = 0; p < image_out; p += (size_t)C)
            for (int c = 0; c < C; ++c)
                dxn[(size_t)an[p + c] * C + c] += dyn[p + c];
    }
}
