/* ReLU forward/backward: plain loops the compiler vectorises (no branches),
 * in a version per vector width (core/simd.h). */
#include "nn/activation.h"
#include "core/simd.h"

RP_SIMD_LOOP void relu_forward_loop(size_t n, const float *x, float *y)
{
    /* x may alias y (in place), so no restrict here; the loop still
     * vectorises because each element is read before it is written. */
    for (size_t i = 0; i < n; ++i)
        y[i] = x[i] > 0.0f ? x[i] : 0.0f;
}

RP_SIMD_LOOP void relu_backward_loop(size_t n, const float *y, const float *dy, float *dx)
{
    /* Uses the output: y > 0 exactly where x > 0, so no input copy is kept. */
    for (size_t i = 0; i < n; ++i) {
        /* Both loads unconditional: a conditional load of dy stops the
         * vectoriser on targets without masked loads (SSE2, AVX2). */
        const float g = dy[i];
        dx[i] = y[i] > 0.0f ? g : 0.0f;
    }
}

RP_SIMD_VARIANTS(relu_forward, (size_t n, const float *x, float *y), (n, x, y))
RP_SIMD_VARIANTS(relu_backward, (size_t n, const float *y, const float *dy, float *dx),
                 (n, y, dy, dx))

void rp_relu_forward(size_t n, const float *x, float *y)
{
    RP_SIMD_CALL(relu_forward, (n, x, y));
}

void rp_relu_backward(size_t n, const float *y, const float *dy, float *dx)
{
    RP_SIMD_CALL(relu_backward, (n, y, dy, dx));
}
