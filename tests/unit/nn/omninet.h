/* The tutorial's Omniglot network chained directly from the lib/nn kernels
 * (no model code): 4 x [conv 3x3/64 stride 2 same -> BatchNorm -> ReLU] ->
 * flatten -> dense(ways) -> softmax cross-entropy (sum). Shared by the golden
 * test (correctness) and reptile-bench (speed), so the benchmark times
 * exactly the chain the fixture validates. */
#ifndef RP_TEST_OMNINET_H
#define RP_TEST_OMNINET_H

#include "nn/conv2d.h"

#include <stddef.h>
#include <stdint.h>

enum { ON_LAYERS = 4, ON_CH = 64, ON_STAGES = 6 }; /* stages: conv0..3 (+BN+ReLU), dense, loss */

typedef struct omninet {
    int batch, ways;
    rp_conv2d_shape conv[ON_LAYERS];
    /* One parameter buffer and one gradient buffer (same layout): per layer
     * kernel, bias, gamma, beta; then dense kernel [256, ways], bias. */
    size_t nparams;
    float *params, *grads;
    float *k[ON_LAYERS], *b[ON_LAYERS], *gamma[ON_LAYERS], *beta[ON_LAYERS], *dk, *db;
    float *gk[ON_LAYERS], *gb[ON_LAYERS], *ggamma[ON_LAYERS], *gbeta[ON_LAYERS], *gdk, *gdb;
    float *moving_mean[ON_LAYERS], *moving_var[ON_LAYERS];
    /* Activations: a = conv output (BN input), h = relu(BN(a)); scratch. */
    float *a[ON_LAYERS], *h[ON_LAYERS], *ws[ON_LAYERS];
    float *mean[ON_LAYERS], *invstd[ON_LAYERS];
    float *logits, *dlogits, *g_h, *g_a; /* g_h/g_a: gradient buffers of the largest activation */
    float *g_h2;
    /* Seconds per stage, accumulated when timing != 0. */
    int timing;
    double t_fwd[ON_STAGES], t_bwd[ON_STAGES];
} omninet;

int omninet_init(omninet *n, int batch, int ways);
void omninet_free(omninet *n);

/* Forward + backward of one batch x [batch, 28, 28, 1]; fills n->grads and
 * returns the summed loss. bn_train: 1 batch statistics (also updates the
 * moving statistics, Keras momentum 0.99), 0 moving statistics (the
 * tutorial as coded). dx (may be NULL): gradient of the input. */
float omninet_step(omninet *n, const float *x, const int32_t *labels, int bn_train, float *dx);

/* params -= lr * grads over the single buffer. */
void omninet_sgd(omninet *n, float lr);

/* Forward multiply-adds per image (convs + dense), for FLOP accounting. */
double omninet_macs_per_image(const omninet *n);

#endif
