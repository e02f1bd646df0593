/* 2-D max-pooling, NHWC, batch first, float32, with TensorFlow's "same" and
 * "valid" padding (nn/window.h). Padded cells never win: they act as -inf,
 * and every "same" window holds at least one real cell.
 *
 * Ties: the first maximum in row-major window order (top row first, left to
 * right) wins and alone receives the gradient, as TensorFlow's CPU kernel
 * and PyTorch do. A NaN wins over any number, so it reaches the output.
 *
 * The forward pass records, for each output, where its maximum came from;
 * the backward pass only scatters through that record. Kernels never
 * allocate. */
#ifndef RP_NN_MAXPOOL_H
#define RP_NN_MAXPOOL_H

#include <stddef.h>
#include <stdint.h>

typedef struct rp_maxpool_shape {
    int batch, in_h, in_w, channels;   /* input NHWC; the output has as many channels */
    int pool_h, pool_w, stride_h, stride_w;
    int pad_same;                       /* 1: TensorFlow "same"; 0: "valid" */
    /* filled by rp_maxpool_resolve: */
    int out_h, out_w, pad_top, pad_left;
} rp_maxpool_shape;

/* Validates (sizes > 0, pad_same 0 or 1, a valid window fits, tensors
 * within int range) and fills the derived fields; returns 0 or
 * REPTILE_EINVAL / REPTILE_ESHAPE via rp_error. */
int rp_maxpool_resolve(rp_maxpool_shape *s);

/* Outputs per call: batch * out_h * out_w * channels (the size of y and of
 * argmax). */
size_t rp_maxpool_outputs(const rp_maxpool_shape *s);

/* y[n, oy, ox, c] = max over the window of x[n, :, :, c]. argmax (as many
 * entries as y) receives, for each output, the input pixel iy * in_w + ix
 * of its image that won (< 2^24 for inputs up to 4096x4096). */
void rp_maxpool_forward(const rp_maxpool_shape *s, const float *x, float *y, int32_t *argmax);

/* dx (batch * in_h * in_w * channels) is OVERWRITTEN: each dy goes to the
 * input its forward call's argmax names; inputs that won no window get 0,
 * inputs that won several (stride < pool) the sum. */
void rp_maxpool_backward(const rp_maxpool_shape *s, const int32_t *argmax, const float *dy, float *dx);

#endif
