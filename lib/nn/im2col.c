#include "nn/im2col.h"
#include "core/simd.h"

#include <string.h>

void rp_im2col(const rp_conv2d_shape *s, const float *restrict x, float *restrict col)
{
    const int C = s->in_c;
    const size_t row_len = (size_t)s->k_h * s->k_w * C;
    const size_t tap = (size_t)C * sizeof(float);
    float *dst = col;
    for (int b = 0; b < s->batch; ++b) {
        const float *xb = x + (size_t)b * s->in_h * s->in_w * C;
        for (int oy = 0; oy < s->out_h; ++oy) {
            for (int ox = 0; ox < s->out_w; ++ox, dst += row_len) {
                float *d = dst;
                for (int ky = 0; ky < s->k_h; ++ky) {
                    const int iy = oy * s->stride_h - s->pad_top + ky;
                    if (iy < 0 || iy >= s->in_h) {
                        memset(d, 0, tap * s->k_w);
                        d += (size_t)s->k_w * C;
                        continue;
                    }
                    /* One kernel row is k_w runs of in_c floats; where no
                     * column falls in the padding it is one contiguous run. */
                    const int ix0 = ox * s->stride_w - s->pad_left;
                    if (ix0 >= 0 && ix0 + s->k_w <= s->in_w) {
                        memcpy(d, xb + ((size_t)iy * s->in_w + ix0) * C, tap * s->k_w);
                        d += (size_t)s->k_w * C;
                        continue;
                    }
                    for (int kx = 0; kx < s->k_w; ++kx, d += C) {
                        const int ix = ix0 + kx;
                        if (ix < 0 || ix >= s->in_w)
                            memset(d, 0, tap);
                        else
                            memcpy(d, xb + ((size_t)iy * s->in_w + ix) * C, tap);
                    }
                }
            }
        }
    }
}

RP_SIMD_LOOP void col2im_loop(const rp_conv2d_shape *s, const float *restrict dcol,
                              float *restrict dx)
{
    const int C = s->in_c;
    const size_t row_len = (size_t)s->k_h * s->k_w * C;
    memset(dx, 0, (size_t)s->batch * s->in_h * s->in_w * C * sizeof *dx);
    const float *src = dcol;
    for (int b = 0; b < s->batch; ++b) {
        float *xb = dx + (size_t)b * s->in_h * s->in_w * C;
        for (int oy = 0; oy < s->out_h; ++oy) {
            for (int ox = 0; ox < s->out_w; ++ox, src += row_len) {
                const float *d = src;
                for (int ky = 0; ky < s->k_h; ++ky) {
                    const int iy = oy * s->stride_h - s->pad_top + ky;
                    for (int kx = 0; kx < s->k_w; ++kx, d += C) {
                        const int ix = ox * s->stride_w - s->pad_left + kx;
                        if (iy < 0 || iy >= s->in_h || ix < 0 || ix >= s->in_w)
                            continue;
                        float *o = xb + ((size_t)iy * s->in_w + ix) * C;
                        for (int c = 0; c < C; ++c)
                            o[c] += d[c];
                    }
                }
            }
        }
    }
}

RP_SIMD_VARIANTS(col2im, (const rp_conv2d_shape *s, const float *restrict dcol, float *restrict dx),
                 (s, dcol, dx))

void rp_col2im(const rp_conv2d_shape *s, const float *restrict dcol, float *restrict dx)
{
    RP_SIMD_CALL(col2im, (s, dcol, dx));
}
