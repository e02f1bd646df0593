/* Direct convolution (no patch matrix) for layers with few input channels,
 * where im2col would build a K-thin matrix (K = 9 for the first Omniglot
 * layer) on which GEMM runs far below peak. Loops keep out_c innermost and
 * contiguous so they vectorise. */
#ifndef RP_NN_CONV2D_DIRECT_H
#define RP_NN_CONV2D_DIRECT_H

#include "nn/conv2d.h"

void rp_conv2d_direct_forward(const rp_conv2d_shape *s, const float *x, const float *w, const float *bias, float *y);
/* dw overwritten. */
void rp_conv2d_direct_dw(const rp_conv2d_shape *s, const float *x, const float *dy, float *dw);
/* dx overwritten. */
void rp_conv2d_direct_dx(const rp_conv2d_shape *s, const float *w, const float *dy, float *dx);

#endif
