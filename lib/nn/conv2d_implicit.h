/* Implicit-GEMM convolution on the AVX-512 path: the GEMM reads a
 * zero-bordered copy of the input in place through offset tables
 * (rp_sgemm_indexed) instead of an im2col patch matrix up to k_h * k_w times
 * the input's size. For stride-1 layers (the Mini-ImageNet network's 3x3
 * "same" convolutions) the input gradient is the transposed convolution of
 * a zero-bordered dy, summed per kernel tap in col2im's order; strided
 * layers (Omniglot's) take it through a patch-matrix gradient and col2im
 * in the workspace the bordered input held. Products with the zero border
 * are skipped where a pixel's taps fall outside the input
 * (conv2d_border.h). Results are bitwise those of
 * im2col + rp_sgemm + col2im on the same path (up to the sign of an exact
 * zero). */
#ifndef RP_NN_CONV2D_IMPLICIT_H
#define RP_NN_CONV2D_IMPLICIT_H

#include "nn/conv2d.h"

/* 1 when s runs here: the AVX-512 GEMM is in use and, for stride 1, out_c
 * fits one K block of the input-gradient product. */
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
