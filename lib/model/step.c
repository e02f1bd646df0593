/* Supervised gradient, training step and prediction over shards. */
#include "model/model_internal.h"
#include "model/optimizer_internal.h"
#include "core/error_internal.h"
#include "core/finite.h"
#include "core/simd.h"
#include "nn/batchnorm.h"
#include "nn/blas_threads.h"
#include "nn/gemm.h"
#include "nn/loss.h"

#include <math.h>

/* nn's reduction enum mirrors the public one. */
_Static_assert((int)RP_REDUCE_SUM == REPTILE_REDUCTION_SUM &&
                   (int)RP_REDUCE_MEAN == REPTILE_REDUCTION_MEAN,
               "rp_reduction and reptile_reduction disagree");

typedef struct step_job {
    reptile_model *m;
    int bn_mode;
    int backward;
    int keras_clip;
    float grad_scale;   /* 1 for sum, 1/batch for mean */
} step_job;

static void run_shard(void *ctx, int s)
{
    step_job *job = ctx;
    reptile_model *m = job->m;
    rp_shard *sh = &m->shards[s];
    rp_model_forward_shard(m, sh, job->bn_mode);
    if (!job->backward)
        return;
    const int classes = reptile_model_num_outputs(m);
    sh->loss = rp_softmax_xent(sh->n, classes, rp_model_logits(m, sh), sh->labels, RP_REDUCE_SUM,
                               job->keras_clip, NULL, sh->dlogits);
    if (job->grad_scale != 1.0f)
        for (size_t i = 0; i < (size_t)sh->n * (size_t)classes; ++i)
            sh->dlogits[i] *= job->grad_scale;
    rp_model_backward_shard(m, sh, job->bn_mode);
}

/* Splits the batch over the shards: shard s gets a contiguous slice, the
 * first ones floor(batch / shards) images. */
static int assign_shards(reptile_model *m, const float *x, const int32_t *labels, int batch,
                         int bn_mode)
{
    int shards = rp_model_shard_count(batch, bn_mode);
    size_t image = (size_t)m->in_h * m->in_w * m->in_c;
    int start = 0;
    for (int s = 0; s < shards; ++s) {
        int n = rp_model_shard_size(batch, shards, s);
        rp_shard *sh = &m->shards[s];
        sh->x = x + (size_t)start * image;
        sh->labels = labels ? labels + start : NULL;
        sh->n = n;
        start += n;
    }
    return shards;
}

/* Every GEMM of a model runs here, with OpenBLAS held at one thread: the
 * bits must not depend on how the process configured OpenBLAS. */
static void run_shards(reptile_model *m, int shards, step_job *job)
{
    rp_blas_pin_enter();
    rp_pool_run(m->pool, shards, run_shard, job);
    rp_blas_pin_leave();
}

static int check_call(reptile_model *m, const float *x, int batch, int bn_mode, const char *what)
{
    if (!m || !x)
        return rp_error(REPTILE_EINVAL, "%s: NULL argument", what);
    if (batch < 1 || batch > (1 << 20))
        return rp_error(REPTILE_EINVAL, "%s: batch must be in 1..%d, got %d", what, 1 << 20, batch);
    if (bn_mode != REPTILE_BN_BATCH && bn_mode != REPTILE_BN_MOVING && bn_mode != REPTILE_BN_FROZEN)
        return rp_error(REPTILE_EINVAL,
                        "%s: BatchNorm mode must be REPTILE_BN_BATCH (0), _MOVING (1) or _FROZEN "
                        "(2), got %d",
                        what, bn_mode);
    int rc = rp_gemm_check();
    if (rc == 0)
        rc = rp_simd_check();
    if (rc == 0)
        rc = rp_model_finalise(m);
    if (rc == 0)
        rc = rp_model_reserve(m, batch, bn_mode);
    return rc;
}

int reptile_model_set_loss(reptile_model *m, int reduction, int keras_clip)
{
    if (!m)
        return rp_error(REPTILE_EINVAL, "reptile_model_set_loss: model is NULL");
    if (reduction != REPTILE_REDUCTION_SUM && reduction != REPTILE_REDUCTION_MEAN)
        return rp_error(REPTILE_EINVAL,
                        "reptile_model_set_loss: reduction must be REPTILE_REDUCTION_SUM (0) or "
                        "REPTILE_REDUCTION_MEAN (1), got %d",
                        reduction);
    if (keras_clip != 0 && keras_clip != 1)
        return rp_error(REPTILE_EINVAL, "reptile_model_set_loss: keras_clip must be 0 or 1, got %d",
                        keras_clip);
    m->reduction = reduction;
    m->keras_clip = keras_clip;
    return 0;
}

int rp_model_gradient(reptile_model *m, const float *x, const int32_t *labels, int batch,
                      int bn_mode, float *loss, const float **grad)
{
    int rc = check_call(m, x, batch, bn_mode, "train step");
    if (rc)
        return rc;
    const int classes = reptile_model_num_outputs(m);
    for (int i = 0; i < batch; ++i)
        if (labels[i] < 0 || labels[i] >= classes)
            return rp_error(REPTILE_EINVAL, "train step: label %d of image %d is outside 0..%d",
                            labels[i], i, classes - 1);
    const int mean = m->reduction == REPTILE_REDUCTION_MEAN;
    step_job job = {m, bn_mode, 1, m->keras_clip, mean ? 1.0f / (float)batch : 1.0f};
    int shards = assign_shards(m, x, labels, batch, bn_mode);
    run_shards(m, shards, &job);

    /* Sum shard gradients and losses in shard order: thread-count independent. */
    double total = 0.0;
    if (shards == 1) {
        *grad = m->shards[0].param_grad; /* a batch-5 step: a copy was 5% of it */
        total = m->shards[0].loss;
    } else {
        *grad = m->grad;
        const float *restrict g0 = m->shards[0].param_grad, *restrict g1 = m->shards[1].param_grad;
        float *restrict out = m->grad;
        for (size_t i = 0; i < m->n_params; ++i) /* one pass for the first two */
            out[i] = g0[i] + g1[i];
        for (int s = 2; s < shards; ++s) {
            const float *restrict gs = m->shards[s].param_grad;
            for (size_t i = 0; i < m->n_params; ++i)
                out[i] += gs[i];
        }
        for (int s = 0; s < shards; ++s)
            total += m->shards[s].loss;
    }
    if (mean)
        total /= batch;
    if (loss)
        *loss = (float)total;
    if (!isfinite(total))
        return rp_error(REPTILE_EDIVERGED, "train step: loss is %g; parameters left unchanged",
                        total);
    return 0;
}

/* Batch-statistics steps move the BatchNorm moving averages (Keras). */
static void update_moving_stats(reptile_model *m)
{
    const rp_shard *sh = &m->shards[0];
    for (int l = 0; l < m->n_layers; ++l) {
        const rp_layer *ly = &m->layers[l];
        if (ly->kind != RP_LAYER_BATCHNORM)
            continue;
        rp_batchnorm_update_moving(ly->out_c, ly->momentum, sh->bn_mean[l], sh->bn_invstd[l],
                                   ly->eps, m->state + ly->state_offset,
                                   m->state + ly->state_offset + ly->out_c);
    }
}

int reptile_model_train_step(reptile_model *m, reptile_optimizer *opt, const float *x,
                             const int32_t *labels, int batch, int bn_mode, float *loss)
{
    if (!opt || !labels)
        return rp_error(REPTILE_EINVAL, "reptile_model_train_step: NULL optimizer or labels");
    const float *grad = NULL;
    int rc = rp_model_gradient(m, x, labels, batch, bn_mode, loss, &grad);
    if (rc)
        return rc;
    if ((rc = rp_optimizer_apply(opt, m->params, grad, m->n_params)) != 0)
        return rc;
    if (bn_mode == REPTILE_BN_BATCH)
        update_moving_stats(m);
    return 0;
}

int reptile_model_predict(reptile_model *m, const float *x, int batch, int bn_mode, float *probs)
{
    int rc = check_call(m, x, batch, bn_mode, "reptile_model_predict");
    if (rc)
        return rc;
    if (!probs)
        return rp_error(REPTILE_EINVAL, "reptile_model_predict: probs is NULL");
    step_job job = {m, bn_mode, 0, 0, 1.0f};
    int shards = assign_shards(m, x, NULL, batch, bn_mode);
    run_shards(m, shards, &job);
    const int classes = reptile_model_num_outputs(m);
    float *out = probs;
    for (int s = 0; s < shards; ++s) {
        const rp_shard *sh = &m->shards[s];
        rp_softmax_rows(sh->n, classes, rp_model_logits(m, sh), out);
        out += (size_t)sh->n * classes;
    }
    if (!rp_all_finite(probs, (size_t)batch * classes))
        return rp_error(REPTILE_EDIVERGED, "reptile_model_predict: output holds NaN or Inf");
    return 0;
}
