/* Keras initialisers, the tutorial's Omniglot network and the paper's
 * Mini-ImageNet network. */
#include "model/model_internal.h"
#include "core/error_internal.h"
#include "core/rng.h"

#include <math.h>
#include <string.h>

/* Glorot (Xavier) uniform: U(-limit, limit), limit = sqrt(6 / (fan_in + fan_out)). */
static void glorot_uniform(rp_rng *rng, float *w, size_t n, double fan_in, double fan_out)
{
    float limit = (float)sqrt(6.0 / (fan_in + fan_out));
    for (size_t i = 0; i < n; ++i)
        w[i] = (2.0f * rp_rng_float(rng) - 1.0f) * limit;
}

int reptile_model_init(reptile_model *m, uint64_t seed)
{
    if (!m)
        return rp_error(REPTILE_EINVAL, "reptile_model_init: model is NULL");
    int rc = rp_model_finalise(m);
    if (rc)
        return rc;
    memset(m->params, 0, m->n_params * sizeof *m->params);
    for (int i = 0; i < m->n_layers; ++i) {
        const rp_layer *l = &m->layers[i];
        float *p = m->params + l->param_offset;
        rp_rng rng;
        /* One stream per layer: adding a layer does not reshuffle the others. */
        rp_rng_init(&rng, seed, 0x696e6974u /* "init" */, (uint64_t)i);
        switch (l->kind) {
        case RP_LAYER_CONV2D: {
            double rf = (double)l->conv.k_h * l->conv.k_w;
            glorot_uniform(&rng, p, (size_t)(rf * l->in_c * l->out_c), rf * l->in_c,
                           rf * l->out_c);
            break;
        }
        case RP_LAYER_DENSE:
            glorot_uniform(&rng, p, (size_t)l->in_c * l->out_c, l->in_c, l->out_c);
            break;
        case RP_LAYER_BATCHNORM:
            for (int c = 0; c < l->out_c; ++c) {
                p[c] = 1.0f;                                   /* gamma */
                m->state[l->state_offset + (size_t)c] = 0.0f;  /* moving mean */
                m->state[l->state_offset + (size_t)(l->out_c + c)] = 1.0f; /* moving variance */
            }
            break;
        default:
            break;
        }
    }
    return 0;
}

/* The four-block networks of the tutorial and the paper: input side x side
 * x channels -> 4 x [Conv2D(filters, 3x3, conv_stride, same) ->
 * BatchNorm(1e-3, 0.99) -> (MaxPool(2x2, stride 2, same) when pool) ->
 * ReLU] -> Flatten -> Dense(classes), initialised from seed. */
static int new_four_block_net(reptile_model **out, const char *what, int classes, uint64_t seed,
                              int side, int channels, int filters, int conv_stride, int pool)
{
    if (!out)
        return rp_error(REPTILE_EINVAL, "%s: out is NULL", what);
    *out = NULL;
    if (classes < 2 || classes > 4096)
        return rp_error(REPTILE_EINVAL, "%s: classes must be in 2..4096, got %d", what, classes);
    reptile_model *m;
    int rc = reptile_model_new(&m, side, side, channels);
    for (int block = 0; rc == 0 && block < 4; ++block) {
        rc = reptile_model_add_conv2d(m, filters, 3, 3, conv_stride, conv_stride,
                                      REPTILE_PADDING_SAME);
        if (rc == 0)
            rc = reptile_model_add_batchnorm(m, 1e-3f, 0.99f);
        if (rc == 0 && pool)
            rc = reptile_model_add_maxpool2d(m, 2, 2, 2, 2, REPTILE_PADDING_SAME);
        if (rc == 0)
            rc = reptile_model_add_relu(m);
    }
    if (rc == 0)
        rc = reptile_model_add_flatten(m);
    if (rc == 0)
        rc = reptile_model_add_dense(m, classes);
    if (rc == 0)
        rc = reptile_model_init(m, seed);
    if (rc) {
        reptile_model_free(m);
        return rc;
    }
    *out = m;
    return 0;
}

int reptile_model_new_omniglot(reptile_model **out, int classes, uint64_t seed)
{
    return new_four_block_net(out, "reptile_model_new_omniglot", classes, seed, 28, 1, 64, 2, 0);
}

/* The reference implementation's MiniImageNetModel (openai/supervised-
 * reptile, models.py): BatchNorm, then the pool, then the ReLU. */
int reptile_model_new_miniimagenet(reptile_model **out, int classes, uint64_t seed)
{
    return new_four_block_net(out, "reptile_model_new_miniimagenet", classes, seed, 84, 3, 32, 1,
                              1);
}

int reptile_model_with_outputs(reptile_model **out, const reptile_model *src, int outputs,
                               uint64_t seed)
{
    if (!out)
        return rp_error(REPTILE_EINVAL, "reptile_model_with_outputs: out is NULL");
    *out = NULL;
    if (!src || outputs < 1 || outputs > (1 << 20))
        return rp_error(REPTILE_EINVAL,
                        "reptile_model_with_outputs: need a model and outputs in 1..%d, got %d",
                        1 << 20, outputs);
    int rc = rp_model_finalise((reptile_model *)src);
    if (rc)
        return rc;
    reptile_model *m = rp_model_alloc_like(src);
    if (!m)
        return rp_error(REPTILE_ENOMEM, "reptile_model_with_outputs: out of memory");
    /* The last layer is dense (finalise checked) and its parameters come last. */
    const int last = m->n_layers - 1;
    rp_layer *d = &m->layers[last];
    d->out_c = outputs;
    d->param_count = (size_t)d->in_c * outputs + (size_t)outputs;
    m->n_params = d->param_offset + d->param_count;
    if ((rc = rp_model_finalise(m)) != 0) {
        reptile_model_free(m);
        return rc;
    }
    memcpy(m->params, src->params, d->param_offset * sizeof *m->params);
    memcpy(m->state, src->state, src->n_state * sizeof *m->state);
    /* The new layer as reptile_model_init() would draw it: Glorot kernel, zero bias. */
    rp_rng rng;
    rp_rng_init(&rng, seed, 0x696e6974u /* "init" */, (uint64_t)last);
    float *p = m->params + d->param_offset;
    glorot_uniform(&rng, p, (size_t)d->in_c * outputs, d->in_c, outputs);
    memset(p + (size_t)d->in_c * outputs, 0, (size_t)outputs * sizeof *p);
    *out = m;
    return 0;
}
