/* Implicit-GEMM convolution on the AVX-512 path: the GEMM reads a
 * zero-bordered copy of the input in place through offset tables
 * (rp_sgemm_indexed) instead of an im2col patch matrix up to k_h * k_w times
 * the input's size. The input gradient is summed per input pixel over the
 * kernel taps that reach it (input pixels grouped by those taps, one K
 * block per tap, in col2im's order), for any stride: no patch-matrix
 * gradient, no col2im, no product with the border; only layers with
 * out_c past one K block or kernels wider than 32 take dy w^T and col2im.
 * Forward and weight-gradient products with the zero border are skipped
 * where a pixel's taps fall outside the input (conv2d_border.h). Results
 * are bitwise those of im2col + rp_sgemm + col2im on the same path (up to
 * the sign of an exact zero). */
#ifndef RP_NN_CONV2D_IMPLICIT_H
#define RP_NN_CONV2D_IMPLICIT_H

#include "nn/conv2d.h"

/* 1 when s runs here: the AVX-512 GEMM is in use. */
int rp_conv2d_uses_implicit(const rp_conv2d_shape *s);

/* Forgets the tables cached in ws (conv2d_border.h): call when ws is
 * (re)assigned to a layer, before its first forward. */
void rp_conv2d_implicit_forget(const rp_conv2d_shape *s, float *ws);

/* Workspace floats (offset tables, bordered input and dy, reordered weights). */
size_t rp_conv2d_implicit_workspace_floats(const rp_conv2d_shape *s);

void rp_conv2d_implicit_forward(const rp_conv2d_shape *s, const float *x, const float *w,
                                const float *bias, float *y, float *ws);

/* dw overwritten; dx (may be NULL) overwritten. ws as left by the forward on
 * the same x. */
void rp_conv2d_implicit_backward(const rp_conv2d_shape *s, const float *w, const float *dy,
                                 float *dx, float *dw, float *ws);

#endif
