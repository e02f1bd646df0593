/* Elementwise activations. */
#ifndef RP_NN_ACTIVATION_H
#define RP_NN_ACTIVATION_H

#include <stddef.h>

/* y = max(x, 0); in place allowed (x == y). */
void rp_relu_forward(size_t n, const float *x, float *y);

/* Uses the relu OUTPUT y: dx = y > 0 ? dy : 0; in place allowed (dy == dx). */
void rp_relu_backward(size_t n, const float *y, const float *dy, float *dx);

#endif
