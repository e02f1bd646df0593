#include "nn/conv2d_direct.h"

#include <string.h>

#if defined(__GNUC__)
#  define RP_INLINE static inline __attribute__((always_inline))
#else
#  define RP_INLINE static inline
#endif

/* The bodies take out_c as an argument and are force-inlined; the callers
 * pass the literal 64 for the common width so the compiler sees a constant
 * trip count, unrolls the channel loop and keeps rows in registers. */

RP_INLINE void fwd_body(const rp_conv2d_shape *s, const float *restrict x, const float *restrict w,
                        const float *restrict bias, float *restrict y, const int N)
{
    const int C = s->in_c;
    for (int b = 0; b < s->batch; ++b) {
        const float *xb = x + (size_t)b * s->in_h * s->in_w * C;
        for (int oy = 0; oy < s->out_h; ++oy) {
            for (int ox = 0; ox < s->out_w; ++ox) {
                float *restrict yr = y + (((size_t)b * s->out_h + oy) * s->out_w + ox) * N;
                for (int co = 0; co < N; ++co)
                    yr[co] = bias ? bias[co] : 0.0f;
                for (int ky = 0; ky < s->k_h; ++ky) {
                    const int iy = oy * s->stride_h - s->pad_top + ky;
                    if (iy < 0 || iy >= s->in_h)
                        continue;
                    for (int kx = 0; kx < s->k_w; ++kx) {
                        const int ix = ox * s->stride_w - s->pad_left + kx;
                        if (ix < 0 || ix >= s->in_w)
                            continue;
                        const float *xp = xb + ((size_t)iy * s->in_w + ix) * C;
                        const float *wp = w + (size_t)(ky * s->k_w + kx) * C * N;
                        for (int ci = 0; ci < C; ++ci) {
                            const float xv = xp[ci];
                            for (int co = 0; co < N; ++co)
                                yr[co] += xv * wp[(size_t)ci * N + co];
                        }
                    }
                }
            }
        }
    }
}

RP_INLINE void dw_body(const rp_conv2d_shape *s, const float *restrict x, const float *restrict dy,
                       float *restrict dw, const int N)
{
    const int C = s->in_c;
    memset(dw, 0, (size_t)s->k_h * s->k_w * C * N * sizeof *dw);
    for (int b = 0; b < s->batch; ++b) {
        const float *xb = x + (size_t)b * s->in_h * s->in_w * C;
        for (int oy = 0; oy < s->out_h; ++oy) {
            for (int ox = 0; ox < s->out_w; ++ox) {
                const float *restrict dr = dy + (((size_t)b * s->out_h + oy) * s->out_w + ox) * N;
                for (int ky = 0; ky < s->k_h; ++ky) {
                    const int iy = oy * s->stride_h - s->pad_top + ky;
                    if (iy < 0 || iy >= s->in_h)
                        continue;
                    for (int kx = 0; kx < s->k_w; ++kx) {
                        const int ix = ox * s->stride_w - s->pad_left + kx;
                        if (ix < 0 || ix >= s->in_w)
                            continue;
                        const float *xp = xb + ((size_t)iy * s->in_w + ix) * C;
                        float *wp = dw + (size_t)(ky * s->k_w + kx) * C * N;
                        for (int ci = 0; ci < C; ++ci) {
                            const float xv = xp[ci];
                            for (int co = 0; co < N; ++co)
                                wp[(size_t)ci * N + co] += xv * dr[co];
                        }
                    }
                }
            }
        }
    }
}

/* Dot product over out_c in 16 independent lanes: vectorises without
 * reassociation flags (the lane order is fixed, so results are deterministic). */
RP_INLINE float dot_lanes(const float *restrict a, const float *restrict b, const int n)
{
    float acc[16] = {0};
    int i = 0;
    for (; i + 16 <= n; i += 16)
        for (int l = 0; l < 16; ++l)
            acc[l] += a[i + l] * b[i + l];
    float t = 0.0f;
    for (; i < n; ++i)
        t += a[i] * b[i];
    for (int l = 0; l < 16; ++l)
        t += acc[l];
    return t;
}

RP_INLINE void dx_body(const rp_conv2d_shape *s, const float *restrict w, const float *restrict dy,
                       float *restrict dx, const int N)
{
    const int C = s->in_c;
    memset(dx, 0, (size_t)s->batch * s->in_h * s->in_w * C * sizeof *dx);
    for (int b = 0; b < s->batch; ++b) {
        float *xb = dx + (size_t)b * s->in_h * s->in_w * C;
        for (int oy = 0; oy < s->out_h; ++oy) {
            for (int ox = 0; ox < s->out_w; ++ox) {
                const float *dr = dy + (((size_t)b * s->out_h + oy) * s->out_w + ox) * N;
                for (int ky = 0; ky < s->k_h; ++ky) {
                    const int iy = oy * s->stride_h - s->pad_top + ky;
                    if (iy < 0 || iy >= s->in_h)
                        continue;
                    for (int kx = 0; kx < s->k_w; ++kx) {
                        const int ix = ox * s->stride_w - s->pad_left + kx;
                        if (ix < 0 || ix >= s->in_w)
                            continue;
                        float *xp = xb + ((size_t)iy * s->in_w + ix) * C;
                        const float *wp = w + (size_t)(ky * s->k_w + kx) * C * N;
                        for (int ci = 0; ci < C; ++ci)
                            xp[ci] += dot_lanes(dr, wp + (size_t)ci * N, N);
                    }
                }
            }
        }
    }
}

void rp_conv2d_direct_forward(const rp_conv2d_shape *s, const float *x, const float *w, const float *bias, float *y)
{
    if (s->out_c == 64)
        fwd_body(s, x, w, bias, y, 64);
    else
        fwd_body(s, x, w, bias, y, s->out_c);
}

void rp_conv2d_direct_dw(const rp_conv2d_shape *s, const float *x, const float *dy, float *dw)
{
    if (s->out_c == 64)
        dw_body(s, x, dy, dw, 64);
    else
        dw_body(s, x, dy, dw, s->out_c);
}

void rp_conv2d_direct_dx(const rp_conv2d_shape *s, const float *w, const float *dy, float *dx)
{
    if (s->out_c == 64)
        dx_body(s, w, dy, dx, 64);
    else
        dx_body(s, w, dy, dx, s->out_c);
}
