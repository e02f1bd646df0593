/* Batch normalisation per channel over rows = batch*h*w; x is [rows, channels]
 * (an NHWC tensor viewed as a matrix). Training mode uses batch statistics with
 * the biased variance (as Keras); inference mode uses moving statistics.
 *
 * A ReLU that follows BatchNorm can be fused into it, bit for bit what the
 * two layers give one after the other: the forward passes take relu = 1 and
 * write max(y, 0); the backward passes take the ReLU's output as relu_y
 * (NULL: no ReLU) and use dy only where relu_y > 0, as rp_relu_backward. */
#ifndef RP_NN_BATCHNORM_H
#define RP_NN_BATCHNORM_H

/* Batch statistics, biased variance; saves mean and 1/sqrt(var+eps) per channel for backward. */
void rp_batchnorm_forward_train(int rows, int channels, float eps, const float *x,
                                const float *gamma, const float *beta, float *y,
                                float *batch_mean, float *batch_invstd, int relu);

/* Keras: moving = moving*momentum + batch*(1-momentum), batch variance biased = 1/invstd^2 - eps. */
void rp_batchnorm_update_moving(int channels, float momentum, const float *batch_mean, const float *batch_invstd, float eps,
                                float *moving_mean, float *moving_var);

void rp_batchnorm_forward_infer(int rows, int channels, float eps, const float *x,
                                const float *gamma, const float *beta, const float *moving_mean,
                                const float *moving_var, float *y, int relu);

/* dx may be NULL; dgamma/dbeta overwritten. */
void rp_batchnorm_backward_train(int rows, int channels, const float *x, const float *dy,
                                 const float *relu_y, const float *gamma,
                                 const float *batch_mean, const float *batch_invstd, float *dx,
                                 float *dgamma, float *dbeta);

/* dx may be NULL; dgamma/dbeta overwritten. */
void rp_batchnorm_backward_infer(int rows, int channels, float eps, const float *x,
                                 const float *dy, const float *relu_y, const float *gamma,
                                 const float *moving_mean, const float *moving_var, float *dx,
                                 float *dgamma, float *dbeta);

#endif
