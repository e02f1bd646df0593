/* Output size and padding of a sliding window along one axis, shared by
 * conv2d and max-pooling so that both pad exactly as TensorFlow does. */
#ifndef RP_NN_WINDOW_H
#define RP_NN_WINDOW_H

/* "same" (same = 1): out = ceil(in / stride), total padding
 * max((out - 1) * stride + k - in, 0), of which total / 2 before (top/left)
 * and the odd extra one after (bottom/right). "valid" (same = 0): no padding,
 * out = (in - k) / stride + 1. Sizes must be > 0. Returns 0, or -1 when a
 * valid window does not fit (k > in). */
static inline int rp_window_extent(int in, int k, int stride, int same, int *out, int *pad_before)
{
    if (same) {
        *out = (in + stride - 1) / stride;
        int total = (*out - 1) * stride + k - in;
        *pad_before = total > 0 ? total / 2 : 0;
        return 0;
    }
    if (k > in)
        return -1;
    *out = (in - k) / stride + 1;
    *pad_before = 0;
    return 0;
}

#endif
