/* 2-D convolution, NHWC input, HWIO weights (Keras layout), float32.
 *
 * Forward and backward go through im2col over the whole batch and one
 * cblas_sgemm per product; a direct kernel replaces im2col where the patch
 * matrix is too thin to pay for itself (few input channels, e.g. the first
 * Omniglot layer with K = 3*3*1). Kernels never allocate: the caller passes a
 * workspace of rp_conv2d_workspace_floats() floats. */
#ifndef RP_NN_CONV2D_H
#define RP_NN_CONV2D_H

#include <stddef.h>

typedef struct rp_conv2d_shape {
    int batch, in_h, in_w, in_c;   /* input NHWC */
    int out_c, k_h, k_w, stride_h, stride_w;
    int pad_same;                   /* 1: TensorFlow "same" (out = ceil(in/stride), pad_total = max((out-1)*stride + k - in, 0), pad_top = pad_total/2, the extra row/col at bottom/right); 0: "valid" (out = (in - k)/stride + 1) */
    int no_input_grad;              /* 1: a first layer: backward computes no dx (ignores it) and the workspace has no room for it */
    /* filled by rp_conv2d_resolve: */
    int out_h, out_w, pad_top, pad_left;
} rp_conv2d_shape;

/* Validates (>0 sizes, kernel fits for valid), fills the derived fields;
 * returns 0 or REPTILE_EINVAL/REPTILE_ESHAPE via rp_error. */
int rp_conv2d_resolve(rp_conv2d_shape *s);

/* Scratch floats needed by forward+backward for s->batch images
 * (0 when the direct path is used for both passes). */
size_t rp_conv2d_workspace_floats(const rp_conv2d_shape *s);

/* Call when ws is (re)assigned to a layer: the implicit GEMM caches tables
 * in its workspace keyed by shape, and a reused buffer may hold another
 * layer's with a matching key. */
void rp_conv2d_workspace_forget(const rp_conv2d_shape *s, float *ws);

/* 1 when s runs through the direct (no im2col) kernels, 0 for im2col + GEMM. */
int rp_conv2d_uses_direct(const rp_conv2d_shape *s);

/* weights HWIO like Keras: w[((ky*k_w + kx)*in_c + ci)*out_c + co]; bias [out_c] (may be NULL = no bias).
   y: [batch, out_h, out_w, out_c]. ws: workspace of rp_conv2d_workspace_floats floats; forward may leave the im2col matrix in ws for backward to reuse. */
void rp_conv2d_forward(const rp_conv2d_shape *s, const float *x, const float *w, const float *bias, float *y, float *ws);

/* Gradients: dw [k_h*k_w*in_c*out_c] and db [out_c] are OVERWRITTEN (not accumulated); db may be NULL; dx may be NULL (skip input gradient, e.g. first layer) else overwritten.
   ws must be the same workspace passed to the forward call on the same x; backward consumes it
   (the patch matrix is overwritten by its gradient), so call forward again before another backward. */
void rp_conv2d_backward(const rp_conv2d_shape *s, const float *x, const float *w, const float *dy, float *dx, float *dw, float *db, float *ws);

#endif
