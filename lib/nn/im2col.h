/* Patch matrix for convolution as GEMM: row m = (b*out_h + oy)*out_w + ox,
 * column k = (ky*k_w + kx)*in_c + ci, matching the HWIO weight as a K x N
 * matrix. Padding positions are zeros. */
#ifndef RP_NN_IM2COL_H
#define RP_NN_IM2COL_H

#include "nn/conv2d.h"

/* col [batch*out_h*out_w, k_h*k_w*in_c] from x [batch, in_h, in_w, in_c]. */
void rp_im2col(const rp_conv2d_shape *s, const float *x, float *col);

/* dx (overwritten) = scatter-add of dcol rows back to the input positions they were copied from. */
void rp_col2im(const rp_conv2d_shape *s, const float *dcol, float *dx);

#endif
