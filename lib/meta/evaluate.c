/* Few-shot evaluation: fine-tune on a task's support set, classify its
 * queries, and aggregate accuracies over many tasks. */
#include "meta/meta_internal.h"
#include "model/model_internal.h"
#include "model/optimizer_internal.h"
#include "core/error_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int argmax(const float *v, int n, int stride)
{
    int best = 0;
    for (int i = 1; i < n; ++i)
        if (v[(size_t)i * stride] > v[(size_t)best * stride])
            best = i;
    return best;
}

/* Class probabilities of the queries, as the BatchNorm mode and the
 * evaluation mode say, into slot->probs (one row per query). */
static int classify_queries(reptile_meta *meta, rp_slot *slot, const reptile_dataset *ds,
                            const rp_episode *ep)
{
    const int bn = meta->opts.bn_mode;
    const int outputs = reptile_model_num_outputs(slot->model);
    const size_t img = meta->image_floats;
    if (bn != REPTILE_BN_BATCH || meta->opts.eval_mode == REPTILE_EVAL_TRANSDUCTIVE) {
        /* Per-image results do not depend on the batch (moving statistics),
         * or the paper's transductive setting: all queries in one batch. */
        rp_dataset_gather(ds, ep->query_image, ep->n_query, slot->x);
        return reptile_model_predict(slot->model, slot->x, ep->n_query, bn, slot->probs);
    }
    /* Non-transductive: each query with the whole support set, so the
     * BatchNorm statistics come from support + 1 image. */
    const int n = ep->n_support + 1;
    rp_dataset_gather(ds, ep->support_image, ep->n_support, slot->x);
    float *row = slot->probs + (size_t)ep->n_query * outputs; /* scratch past the query rows */
    for (int q = 0; q < ep->n_query; ++q) {
        rp_dataset_gather(ds, &ep->query_image[q], 1, slot->x + (size_t)ep->n_support * img);
        int rc = reptile_model_predict(slot->model, slot->x, n, bn, row);
        if (rc)
            return rc;
        memcpy(slot->probs + (size_t)q * outputs, row + (size_t)ep->n_support * outputs,
               (size_t)outputs * sizeof *row);
    }
    return 0;
}

static int reshape_eval_episode(reptile_meta *meta, rp_slot *slot, int ways, int shots)
{
    if (slot->eval_ep.cfg.ways == ways && slot->eval_ep.cfg.support_shots == shots)
        return 0;
    rp_episode_config c = rp_meta_eval_episode_config(&meta->opts, ways, shots);
    rp_episode fresh;
    int rc = rp_episode_init(&fresh, &c);
    if (rc)
        return rc;
    rp_episode_free(&slot->eval_ep);
    slot->eval_ep = fresh;
    return 0;
}

int rp_meta_eval_task(reptile_meta *meta, int s, const reptile_dataset *ds, rp_rng *rng, int ways,
                      int shots, int keras_argmax, float *accuracy, int32_t *labels,
                      int32_t *predictions, float *images)
{
    rp_slot *slot = &meta->slots[s];
    int outputs = reptile_model_num_outputs(slot->model);
    int rc = reshape_eval_episode(meta, slot, ways, shots);
    if (rc == 0)
        rc = rp_slot_reserve(meta, slot, ways * shots + ways + 1);
    if (rc == 0)
        rc = rp_model_reserve(slot->model, ways * shots + ways + 1, meta->opts.bn_mode);
    if (rc == 0)
        rc = rp_episode_sample(&slot->eval_ep, ds, rng);
    if (rc)
        return rc;
    const rp_episode *ep = &slot->eval_ep;
    rp_meta_load_slot(meta, slot);
    /* Fine-tuning uses its own optimizer: fresh, or a copy of the carried
     * state of slot 0 (the same whatever slot or thread runs the task), so
     * evaluation never disturbs training. */
    if (meta->opts.optimizer_state == REPTILE_STATE_CARRY)
        rc = rp_optimizer_copy_state(slot->eval_opt, meta->slots[0].opt);
    else
        reptile_optimizer_reset(slot->eval_opt);
    if (rc == 0 && meta->opts.eval_iters > 0)
        rc = rp_meta_fit_episode(meta, slot, slot->eval_opt, ds, ep, meta->opts.eval_iters);
    if (rc == 0)
        rc = classify_queries(meta, slot, ds, ep);
    if (rc)
        return rc;
    int correct = 0;
    const float *probs = slot->probs;
    if (keras_argmax) {
        /* The tutorial's tf.argmax(preds) reduces over axis 0: for each
         * class k, which query scores highest; compared with query k's label. */
        for (int k = 0; k < ep->n_query && k < outputs; ++k)
            correct += argmax(probs + k, ep->n_query, outputs) == ep->query_label[k];
    } else {
        for (int q = 0; q < ep->n_query; ++q)
            correct += argmax(probs + (size_t)q * outputs, outputs, 1) == ep->query_label[q];
    }
    *accuracy = (float)correct / (float)ep->n_query;
    for (int q = 0; q < ep->n_query; ++q) {
        if (labels)
            labels[q] = ep->query_label[q];
        if (predictions)
            predictions[q] = argmax(probs + (size_t)q * outputs, outputs, 1);
    }
    if (images)
        rp_dataset_gather(ds, ep->query_image, ep->n_query, images);
    return 0;
}

static int check_task_shape(reptile_meta *meta, const reptile_dataset *ds, int *ways, int *shots,
                            const char *what)
{
    if (!meta || !ds)
        return rp_error(REPTILE_EINVAL, "%s: NULL argument", what);
    if (*ways == 0)
        *ways = meta->opts.ways;
    if (*shots == 0)
        *shots = meta->opts.eval_shots;
    int outputs = reptile_model_num_outputs(meta->model);
    if (*ways < 2 || *ways > outputs)
        return rp_error(REPTILE_EINVAL, "%s: ways must be in 2..%d (the model's outputs), got %d",
                        what, outputs, *ways);
    if (*shots < 1 || *shots > 10000)
        return rp_error(REPTILE_EINVAL, "%s: shots must be in 1..10000, got %d", what, *shots);
    return rp_meta_check_images(meta, ds, what);
}

int reptile_meta_evaluate_task(reptile_meta *meta, const reptile_dataset *ds, uint64_t task_index,
                               float *accuracy, int32_t *labels, int32_t *predictions,
                               float *images)
{
    int ways = 0, shots = 0;
    int rc = check_task_shape(meta, ds, &ways, &shots, "reptile_meta_evaluate_task");
    if (rc)
        return rc;
    if (!accuracy)
        return rp_error(REPTILE_EINVAL, "reptile_meta_evaluate_task: accuracy is NULL");
    rp_rng rng;
    rp_rng_init(&rng, meta->opts.seed, task_index, (uint64_t)RP_DOMAIN_EVAL << 32);
    rc = rp_meta_eval_task(meta, 0, ds, &rng, ways, shots, meta->opts.keras_argmax, accuracy,
                           labels, predictions, images);
    return rc ? rp_error_wrap(rc, "evaluation task %llu", (unsigned long long)task_index) : 0;
}

typedef struct many_ctx {
    const reptile_dataset *ds;
    int ways, shots;
    int first;       /* task index of slot 0 */
    float *acc;      /* per task */
} many_ctx;

static void eval_indexed(reptile_meta *meta, int s, void *ctx)
{
    many_ctx *c = ctx;
    rp_rng rng;
    rp_rng_init(&rng, meta->opts.seed, (uint64_t)(c->first + s), (uint64_t)RP_DOMAIN_EVAL << 32);
    /* Argmax per image whatever keras_argmax says: this is the real score. */
    int rc = rp_meta_eval_task(meta, s, c->ds, &rng, c->ways, c->shots, 0, &c->acc[c->first + s],
                               NULL, NULL, NULL);
    if (rc)
        rp_slot_fail(&meta->slots[s], rc);
}

int reptile_meta_evaluate(reptile_meta *meta, const reptile_dataset *ds, int tasks, int ways,
                          int shots, double *mean, double *ci95)
{
    int rc = check_task_shape(meta, ds, &ways, &shots, "reptile_meta_evaluate");
    if (rc)
        return rc;
    if (tasks < 1 || tasks > 100000000)
        return rp_error(REPTILE_EINVAL, "reptile_meta_evaluate: tasks must be >= 1, got %d", tasks);
    if (!mean)
        return rp_error(REPTILE_EINVAL, "reptile_meta_evaluate: mean is NULL");
    float *acc = malloc((size_t)tasks * sizeof *acc);
    if (!acc)
        return rp_error(REPTILE_ENOMEM, "reptile_meta_evaluate: out of memory");
    many_ctx c = {ds, ways, shots, 0, acc};
    int group = meta->opts.threads < meta->n_slots ? meta->opts.threads : meta->n_slots;
    for (c.first = 0; c.first < tasks && rc == 0; c.first += group) {
        int n = tasks - c.first < group ? tasks - c.first : group;
        rc = rp_meta_run_slots(meta, n, eval_indexed, &c);
    }
    if (rc == 0) {
        double sum = 0.0, sq = 0.0;
        for (int t = 0; t < tasks; ++t)
            sum += acc[t];
        double mu = sum / tasks;
        for (int t = 0; t < tasks; ++t)
            sq += (acc[t] - mu) * (acc[t] - mu);
        double sd = tasks > 1 ? sqrt(sq / (tasks - 1)) : 0.0;
        *mean = mu;
        if (ci95)
            *ci95 = 1.96 * sd / sqrt((double)tasks);
    }
    free(acc);
    return rc;
}
