#include "omninet.h"
#include "nn/activation.h"
#include "nn/batchnorm.h"
#include "nn/dense.h"
#include "nn/loss.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BN_EPS 1e-3f
#define BN_MOMENTUM 0.99f

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static float *falloc(size_t n)
{
    /* 64-byte aligned: whole cache lines, AVX-512 friendly. */
    size_t bytes = ((n ? n : 1) * sizeof(float) + 63) & ~(size_t)63;
    float *p = aligned_alloc(64, bytes);
    if (p)
        memset(p, 0, bytes);
    return p;
}

static size_t act_size(const rp_conv2d_shape *s)
{
    return (size_t)s->batch * s->out_h * s->out_w * s->out_c;
}

int omninet_init(omninet *n, int batch, int ways)
{
    memset(n, 0, sizeof *n);
    n->batch = batch;
    n->ways = ways;
    int hw = 28, cin = 1;
    size_t np = 0, maxact = 0;
    for (int l = 0; l < ON_LAYERS; ++l) {
        rp_conv2d_shape s = {.batch = batch, .in_h = hw, .in_w = hw, .in_c = cin, .out_c = ON_CH, .k_h = 3,
                             .k_w = 3, .stride_h = 2, .stride_w = 2, .pad_same = 1};
        if (rp_conv2d_resolve(&s) != 0)
            return -1;
        n->conv[l] = s;
        np += (size_t)9 * cin * ON_CH + 3 * ON_CH;
        maxact = act_size(&s) > maxact ? act_size(&s) : maxact;
        hw = s.out_h;
        cin = ON_CH;
    }
    const int flat = hw * hw * ON_CH;
    np += (size_t)flat * ways + ways;
    n->nparams = np;
    n->params = falloc(np);
    n->grads = falloc(np);
    float *p = n->params, *g = n->grads;
    for (int l = 0; l < ON_LAYERS; ++l) {
        size_t nk = (size_t)9 * n->conv[l].in_c * ON_CH;
        n->k[l] = p; n->gk[l] = g; p += nk; g += nk;
        n->b[l] = p; n->gb[l] = g; p += ON_CH; g += ON_CH;
        n->gamma[l] = p; n->ggamma[l] = g; p += ON_CH; g += ON_CH;
        n->beta[l] = p; n->gbeta[l] = g; p += ON_CH; g += ON_CH;
        n->moving_mean[l] = falloc(ON_CH);
        n->moving_var[l] = falloc(ON_CH);
        n->a[l] = falloc(act_size(&n->conv[l]));
        n->h[l] = falloc(act_size(&n->conv[l]));
        n->ws[l] = falloc(rp_conv2d_workspace_floats(&n->conv[l]));
        n->mean[l] = falloc(ON_CH);
        n->invstd[l] = falloc(ON_CH);
        if (!n->moving_mean[l] || !n->moving_var[l] || !n->a[l] || !n->h[l] || !n->ws[l] || !n->mean[l] ||
            !n->invstd[l])
            return -1;
        for (int c = 0; c < ON_CH; ++c) {
            n->gamma[l][c] = 1.0f;
            n->moving_var[l][c] = 1.0f;
        }
    }
    n->dk = p; n->gdk = g; p += (size_t)flat * ways; g += (size_t)flat * ways;
    n->db = p; n->gdb = g;
    n->logits = falloc((size_t)batch * ways);
    n->dlogits = falloc((size_t)batch * ways);
    n->g_h = falloc(maxact);
    n->g_h2 = falloc(maxact);
    n->g_a = falloc(maxact);
    if (!n->params || !n->grads || !n->logits || !n->dlogits || !n->g_h || !n->g_h2 || !n->g_a)
        return -1;
    return 0;
}

void omninet_free(omninet *n)
{
    free(n->params);
    free(n->grads);
    for (int l = 0; l < ON_LAYERS; ++l) {
        free(n->moving_mean[l]); free(n->moving_var[l]); free(n->a[l]); free(n->h[l]);
        free(n->ws[l]); free(n->mean[l]); free(n->invstd[l]);
    }
    free(n->logits); free(n->dlogits); free(n->g_h); free(n->g_h2); free(n->g_a);
    memset(n, 0, sizeof *n);
}

float omninet_step(omninet *n, const float *x, const int32_t *labels, int bn_train, float *dx)
{
    double t0 = n->timing ? now() : 0, t1;
    const float *in = x;
    for (int l = 0; l < ON_LAYERS; ++l) {
        const rp_conv2d_shape *s = &n->conv[l];
        const int rows = s->batch * s->out_h * s->out_w;
        rp_conv2d_forward(s, in, n->k[l], n->b[l], n->a[l], n->ws[l]);
        if (bn_train) {
            rp_batchnorm_forward_train(rows, ON_CH, BN_EPS, n->a[l], n->gamma[l], n->beta[l], n->h[l], n->mean[l],
                                       n->invstd[l]);
            rp_batchnorm_update_moving(ON_CH, BN_MOMENTUM, n->mean[l], n->invstd[l], BN_EPS, n->moving_mean[l],
                                       n->moving_var[l]);
        } else {
            rp_batchnorm_forward_infer(rows, ON_CH, BN_EPS, n->a[l], n->gamma[l], n->beta[l], n->moving_mean[l],
                                       n->moving_var[l], n->h[l]);
        }
        rp_relu_forward((size_t)rows * ON_CH, n->h[l], n->h[l]);
        in = n->h[l];
        if (n->timing) { t1 = now(); n->t_fwd[l] += t1 - t0; t0 = t1; }
    }
    /* NHWC flatten is the identity on the buffer: [batch, 2*2*64]. */
    const int flat = n->conv[3].out_h * n->conv[3].out_w * ON_CH;
    rp_dense_forward(n->batch, flat, n->ways, in, n->dk, n->db, n->logits);
    if (n->timing) { t1 = now(); n->t_fwd[4] += t1 - t0; t0 = t1; }
    float loss = rp_softmax_xent(n->batch, n->ways, n->logits, labels, RP_REDUCE_SUM, 0, NULL, n->dlogits);
    if (n->timing) { t1 = now(); n->t_fwd[5] += t1 - t0; t0 = t1; }

    /* Backward. g_h holds d(loss)/d(h[l]); g_a d(loss)/d(a[l]). */
    rp_dense_backward(n->batch, flat, n->ways, in, n->dk, n->dlogits, n->g_h, n->gdk, n->gdb);
    if (n->timing) { t1 = now(); n->t_bwd[4] += t1 - t0; t0 = t1; }
    float *gh = n->g_h, *gnext = n->g_h2;
    for (int l = ON_LAYERS - 1; l >= 0; --l) {
        const rp_conv2d_shape *s = &n->conv[l];
        const int rows = s->batch * s->out_h * s->out_w;
        rp_relu_backward((size_t)rows * ON_CH, n->h[l], gh, gh);
        if (bn_train)
            rp_batchnorm_backward_train(rows, ON_CH, n->a[l], gh, n->gamma[l], n->mean[l], n->invstd[l], n->g_a,
                                        n->ggamma[l], n->gbeta[l]);
        else
            rp_batchnorm_backward_infer(rows, ON_CH, BN_EPS, n->a[l], gh, n->gamma[l], n->moving_mean[l],
                                        n->moving_var[l], n->g_a, n->ggamma[l], n->gbeta[l]);
        const float *lin = l > 0 ? n->h[l - 1] : x;
        float *gin = l > 0 ? gnext : dx;
        rp_conv2d_backward(s, lin, n->k[l], n->g_a, gin, n->gk[l], n->gb[l], n->ws[l]);
        float *t = gh; gh = gnext; gnext = t;
        if (n->timing) { t1 = now(); n->t_bwd[l] += t1 - t0; t0 = t1; }
    }
    return loss;
}

void omninet_sgd(omninet *n, float lr)
{
    float *restrict p = n->params;
    const float *restrict g = n->grads;
    for (size_t i = 0; i < n->nparams; ++i)
        p[i] -= lr * g[i];
}

double omninet_macs_per_image(const omninet *n)
{
    double macs = 0;
    for (int l = 0; l < ON_LAYERS; ++l) {
        const rp_conv2d_shape *s = &n->conv[l];
        macs += (double)s->out_h * s->out_w * s->k_h * s->k_w * s->in_c * s->out_c;
    }
    return macs + (double)n->conv[3].out_h * n->conv[3].out_w * ON_CH * n->ways;
}
