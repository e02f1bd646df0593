/* Convolution dispatch: shape resolution, workspace sizing, and the choice
 * between im2col + one GEMM over the whole batch and the direct kernels. */
#include "nn/conv2d.h"
#include "nn/colsum.h"
#include "nn/conv2d_direct.h"
#include "nn/conv2d_implicit.h"
#include "nn/im2col.h"
#include "nn/window.h"
#include "core/error_internal.h"

#include "nn/gemm.h"
#include <limits.h>
#include <string.h>

/* Up to this many input channels the patch matrix is too thin (K = k_h*k_w*in_c)
 * for GEMM to beat the direct loops; measured in docs/performance.md. */
#ifndef RP_CONV2D_DIRECT_MAX_IN_C
#define RP_CONV2D_DIRECT_MAX_IN_C 4
#endif

int rp_conv2d_resolve(rp_conv2d_shape *s)
{
    if (!s)
        return rp_error(REPTILE_EINVAL, "conv2d: shape is NULL");
    if (s->batch <= 0 || s->in_h <= 0 || s->in_w <= 0 || s->in_c <= 0 || s->out_c <= 0)
        return rp_error(REPTILE_EINVAL, "conv2d: sizes must be > 0, got batch %d input %dx%dx%d out_c %d",
                        s->batch, s->in_h, s->in_w, s->in_c, s->out_c);
    if (s->k_h <= 0 || s->k_w <= 0 || s->stride_h <= 0 || s->stride_w <= 0)
        return rp_error(REPTILE_EINVAL, "conv2d: kernel %dx%d and stride %dx%d must be > 0",
                        s->k_h, s->k_w, s->stride_h, s->stride_w);
    if (s->pad_same != 0 && s->pad_same != 1)
        return rp_error(REPTILE_EINVAL, "conv2d: pad_same must be 0 or 1, got %d", s->pad_same);
    if (rp_window_extent(s->in_h, s->k_h, s->stride_h, s->pad_same, &s->out_h, &s->pad_top) ||
        rp_window_extent(s->in_w, s->k_w, s->stride_w, s->pad_same, &s->out_w, &s->pad_left))
        return rp_error(REPTILE_ESHAPE, "conv2d: %dx%d kernel does not fit a %dx%d input with valid padding",
                        s->k_h, s->k_w, s->in_h, s->in_w);
    /* GEMM dimensions are int: keep M*K and M*N within range. */
    long long m = (long long)s->batch * s->out_h * s->out_w;
    long long k = (long long)s->k_h * s->k_w * s->in_c;
    long long in = (long long)s->batch * s->in_h * s->in_w * s->in_c;
    if (m * k > INT_MAX || m * s->out_c > INT_MAX || k * s->out_c > INT_MAX || in > INT_MAX)
        return rp_error(REPTILE_ESHAPE, "conv2d: tensors too large (%lld x %lld patch matrix)", m, k);
    return REPTILE_OK;
}

int rp_conv2d_uses_direct(const rp_conv2d_shape *s)
{
    /* With the AVX-512 GEMM even K = 9 patch matrices beat the direct loops. */
    return s->in_c <= RP_CONV2D_DIRECT_MAX_IN_C && strcmp(rp_sgemm_path(), "openblas") == 0;
}

static size_t col_floats(const rp_conv2d_shape *s)
{
    return (size_t)s->batch * s->out_h * s->out_w * ((size_t)s->k_h * s->k_w * s->in_c);
}

size_t rp_conv2d_workspace_floats(const rp_conv2d_shape *s)
{
    /* The patch matrix, kept from forward for dW, then overwritten by its
     * own gradient once dW is done (halves the workspace). */
    if (rp_conv2d_uses_direct(s))
        return 0;
    return rp_conv2d_uses_implicit(s) ? rp_conv2d_implicit_workspace_floats(s) : col_floats(s);
}

void rp_conv2d_workspace_forget(const rp_conv2d_shape *s, float *ws)
{
    if (!rp_conv2d_uses_direct(s) && rp_conv2d_uses_implicit(s))
        rp_conv2d_implicit_forget(s, ws);
}

void rp_conv2d_forward(const rp_conv2d_shape *s, const float *x, const float *w, const float *bias, float *y, float *ws)
{
    if (rp_conv2d_uses_direct(s)) {
        rp_conv2d_direct_forward(s, x, w, bias, y);
        return;
    }
    if (rp_conv2d_uses_implicit(s)) {
        rp_conv2d_implicit_forward(s, x, w, bias, y, ws);
        return;
    }
    const int M = s->batch * s->out_h * s->out_w;
    const int K = s->k_h * s->k_w * s->in_c;
    const int N = s->out_c;
    rp_im2col(s, x, ws);
    rp_sgemm_bias(M, N, K, ws, K, w, N, bias, y, N);
}

void rp_conv2d_backward(const rp_conv2d_shape *s, const float *x, const float *w, const float *dy, float *dx, float *dw,
                        float *db, float *ws)
{
    const int M = s->batch * s->out_h * s->out_w;
    const int K = s->k_h * s->k_w * s->in_c;
    const int N = s->out_c;
    if (db)
        rp_colsum((size_t)M, N, dy, db);
    if (s->no_input_grad) /* every path: its workspace was sized without dx */
        dx = NULL;
    if (rp_conv2d_uses_direct(s)) {
        rp_conv2d_direct_dw(s, x, dy, dw);
        if (dx)
            rp_conv2d_direct_dx(s, w, dy, dx);
        return;
    }
    if (rp_conv2d_uses_implicit(s)) {
        rp_conv2d_implicit_backward(s, w, dy, dx, dw, ws);
        return;
    }
    /* ws[0, M*K) still holds forward's patch matrix of this x. */
    rp_sgemm(1, 0, K, N, M, 1.0f, ws, K, dy, N, 0.0f, dw, N);
    if (dx) {
        float *dcol = ws; /* the patch matrix is no longer needed */
        rp_sgemm(0, 1, M, K, N, 1.0f, dy, N, w, N, 0.0f, dcol, K);
        rp_col2im(s, dcol, dx);
    }
}
