/* Forward and backward passes of one shard through the layer list. */
#include "model/model_internal.h"
#include "nn/activation.h"
#include "nn/batchnorm.h"
#include "nn/dense.h"

const float *rp_model_logits(const reptile_model *m, const rp_shard *sh)
{
    return sh->act[m->n_layers - 1];
}

/* A BatchNorm layer whose ReLU is fused into it: the ReLU layer after it
 * does nothing of its own (lib/nn/batchnorm.h; a pass over the activations
 * fewer each way). */
static int relu_fused_into_bn(const reptile_model *m, int l)
{
    return m->layers[l].kind == RP_LAYER_BATCHNORM && l + 1 < m->n_layers &&
           m->layers[l + 1].kind == RP_LAYER_RELU;
}

void rp_model_forward_shard(reptile_model *m, rp_shard *sh, int bn_mode)
{
    const float *in = sh->x;
    const int n = sh->n;
    for (int l = 0; l < m->n_layers; ++l) {
        rp_layer *ly = &m->layers[l];
        const float *p = m->params + ly->param_offset;
        float *out = sh->act[l];
        const int rows = n * ly->out_h * ly->out_w;
        switch (ly->kind) {
        case RP_LAYER_CONV2D: {
            rp_conv2d_shape s = ly->conv;
            s.batch = n;
            size_t kernel = (size_t)s.k_h * s.k_w * s.in_c * s.out_c;
            rp_conv2d_forward(&s, in, p, p + kernel, out, sh->conv_ws[l]);
            break;
        }
        case RP_LAYER_BATCHNORM: {
            const float *gamma = p, *beta = p + ly->out_c;
            const int relu = relu_fused_into_bn(m, l);
            if (relu) /* straight into the ReLU's output; layer l's stays unwritten */
                out = sh->act[l + 1];
            if (bn_mode == REPTILE_BN_BATCH)
                rp_batchnorm_forward_train(rows, ly->out_c, ly->eps, in, gamma, beta, out,
                                           sh->bn_mean[l], sh->bn_invstd[l], relu);
            else
                rp_batchnorm_forward_infer(rows, ly->out_c, ly->eps, in, gamma, beta,
                                           m->state + ly->state_offset,
                                           m->state + ly->state_offset + ly->out_c, out, relu);
            l += relu; /* the ReLU is done */
            break;
        }
        case RP_LAYER_MAXPOOL: {
            rp_maxpool_shape s = ly->maxpool;
            s.batch = n;
            rp_maxpool_forward(&s, in, out, sh->pool_argmax[l]);
            break;
        }
        case RP_LAYER_RELU:
            rp_relu_forward((size_t)rows * ly->out_c, in, out);
            break;
        case RP_LAYER_FLATTEN:
            if (out != in) /* only when flatten is the first layer */
                for (size_t i = 0; i < (size_t)n * ly->out_c; ++i)
                    out[i] = in[i];
            break;
        case RP_LAYER_DENSE:
            rp_dense_forward(n, ly->in_c, ly->out_c, in, p, p + (size_t)ly->in_c * ly->out_c, out);
            break;
        }
        in = out;
    }
}

void rp_model_backward_shard(reptile_model *m, rp_shard *sh, int bn_mode)
{
    const int n = sh->n;
    float *dy = sh->dlogits;
    const float *relu_y = NULL; /* a fused ReLU's output, for the BatchNorm below it */
    for (int l = m->n_layers - 1; l >= 0; --l) {
        rp_layer *ly = &m->layers[l];
        const float *in = l > 0 ? sh->act[l - 1] : sh->x;
        const float *p = m->params + ly->param_offset;
        float *g = sh->param_grad + ly->param_offset;
        float *dx = dy == sh->grad_a ? sh->grad_b : sh->grad_a;
        const int rows = n * ly->out_h * ly->out_w;
        switch (ly->kind) {
        case RP_LAYER_CONV2D: {
            rp_conv2d_shape s = ly->conv;
            s.batch = n;
            size_t kernel = (size_t)s.k_h * s.k_w * s.in_c * s.out_c;
            rp_conv2d_backward(&s, in, p, dy, l > 0 ? dx : NULL, g, g + kernel, sh->conv_ws[l]);
            break;
        }
        case RP_LAYER_BATCHNORM:
            if (bn_mode == REPTILE_BN_BATCH)
                rp_batchnorm_backward_train(rows, ly->out_c, in, dy, relu_y, p, sh->bn_mean[l],
                                            sh->bn_invstd[l], dx, g, g + ly->out_c);
            else
                rp_batchnorm_backward_infer(rows, ly->out_c, ly->eps, in, dy, relu_y, p,
                                            m->state + ly->state_offset,
                                            m->state + ly->state_offset + ly->out_c, dx, g,
                                            g + ly->out_c);
            relu_y = NULL;
            break;
        case RP_LAYER_MAXPOOL:
            if (l > 0) { /* a first layer's input gradient is never needed */
                rp_maxpool_shape s = ly->maxpool;
                s.batch = n;
                rp_maxpool_backward(&s, sh->pool_argmax[l], dy, dx);
            }
            break;
        case RP_LAYER_RELU:
            if (l > 0 && relu_fused_into_bn(m, l - 1))
                relu_y = sh->act[l]; /* applied by the BatchNorm below */
            else /* in place: the gradient buffer is reused */
                rp_relu_backward((size_t)rows * ly->out_c, sh->act[l], dy, dy);
            dx = dy;
            break;
        case RP_LAYER_FLATTEN:
            dx = dy;
            break;
        case RP_LAYER_DENSE:
            rp_dense_backward(n, ly->in_c, ly->out_c, in, p, dy, l > 0 ? dx : NULL, g,
                              g + (size_t)ly->in_c * ly->out_c);
            break;
        }
        dy = dx;
    }
}
