/* Few-shot evaluation: fine-tune on a task's support set, classify its
 * queries, and aggregate accuracies over many tasks. */
#include "meta/meta_internal.h"
#include "model/model_internal.h"
#include "model/optimizer_internal.h"
#include "core/error_internal.h"

#include <math.h>
#include <stdatomic.h>
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

/* The fine-tuning settings of evaluation, from the options. */
rp_finetune_config rp_meta_finetune_config(const reptile_meta_options *o)
{
    rp_finetune_config c = {o->eval_iters, o->iters_are_steps, o->eval_batch, o->bn_mode};
    return c;
}

int rp_meta_eval_task(reptile_meta *meta, int s, const reptile_dataset *ds, rp_rng *rng, int ways,
                      int shots, int keras_argmax, float *accuracy, int32_t *labels,
                      int32_t *predictions, float *images)
{
    rp_slot *slot = &meta->slots[s];
    const reptile_meta_options *o = &meta->opts;
    const int outputs = reptile_model_num_outputs(slot->model);
    int rc = reshape_eval_episode(meta, slot, ways, shots);
    if (rc == 0)
        rc = rp_episode_draw(&slot->eval_ep, ds, rng);
    if (rc)
        return rc;
    /* The task ends its stream with the seed of its fine-tuning order, as
     * reptile_dataset_sample_task() hands it to a caller of the public
     * adaptation path: the two give the same probabilities. */
    const uint64_t adapt_seed = rp_rng_u64(rng);
    const rp_episode *ep = &slot->eval_ep;
    const int ns = ep->n_support, nq = ep->n_query;
    rp_task_buffers *t = &slot->task;
    rc = rp_task_buffers_reserve(t, slot->model, ns, nq, o->eval_batch);
    int largest = ns + 1 > nq ? ns + 1 : nq; /* the batches predicted and trained */
    if (o->eval_batch > largest)
        largest = o->eval_batch;
    if (rc == 0)
        rc = rp_model_reserve(slot->model, largest, o->bn_mode);
    if (rc)
        return rc;
    rp_dataset_gather(ds, ep->support_image, ns, t->support);
    memcpy(t->support_y, ep->support_label, (size_t)ns * sizeof *t->support_y);
    rp_dataset_gather(ds, ep->query_image, nq, t->queries);
    rp_meta_load_slot(meta, slot);
    /* Fine-tuning uses its own optimizer: fresh, or a copy of the carried
     * state of slot 0 (the same whatever slot or thread runs the task), so
     * evaluation never disturbs training. */
    const rp_finetune_config cfg = rp_meta_finetune_config(o);
    const reptile_optimizer *saved =
        rp_meta_state_carried(o) ? meta->slots[0].opt : NULL;
    rc = rp_finetune_task(slot->model, slot->eval_opt, saved, &cfg, t, ns, adapt_seed);
    if (rc == 0)
        rc = rp_predict_queries(slot->model, o->bn_mode, o->eval_mode == REPTILE_EVAL_TRANSDUCTIVE,
                                t->support, ns, t->queries, nq, t->probs, t->x, t->row);
    if (rc)
        return rc;
    int correct = 0;
    const float *probs = t->probs;
    if (keras_argmax) {
        /* The tutorial's tf.argmax(preds) reduces over axis 0: for each
         * class k, which query scores highest; compared with query k's label. */
        for (int k = 0; k < nq && k < outputs; ++k)
            correct += argmax(probs + k, nq, outputs) == ep->query_label[k];
    } else {
        for (int q = 0; q < nq; ++q)
            correct += argmax(probs + (size_t)q * outputs, outputs, 1) == ep->query_label[q];
    }
    *accuracy = (float)correct / (float)nq;
    for (int q = 0; q < nq; ++q) {
        if (labels)
            labels[q] = ep->query_label[q];
        if (predictions)
            predictions[q] = argmax(probs + (size_t)q * outputs, outputs, 1);
    }
    if (images)
        memcpy(images, t->queries, (size_t)nq * meta->image_floats * sizeof *images);
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
    int ways, shots, tasks;
    atomic_int next; /* the next task index to take */
    float *acc;      /* per task */
    int *failed;     /* per slot: the task that failed there, or tasks */
} many_ctx;

/* One slot's share: the next task until none is left. Threads take tasks
 * as they finish, without a join per round, so a slow task (or a busy
 * core) holds up no one. A task's result depends only on its index. */
static void eval_tasks(reptile_meta *meta, int s, void *ctx)
{
    many_ctx *c = ctx;
    for (;;) {
        const int t = atomic_fetch_add_explicit(&c->next, 1, memory_order_relaxed);
        if (t >= c->tasks)
            return;
        rp_rng rng;
        rp_rng_init(&rng, meta->opts.seed, (uint64_t)t, (uint64_t)RP_DOMAIN_EVAL << 32);
        /* Argmax per image whatever keras_argmax says: this is the real score. */
        int rc = rp_meta_eval_task(meta, s, c->ds, &rng, c->ways, c->shots, 0, &c->acc[t], NULL,
                                   NULL, NULL);
        if (rc) {
            rp_slot_fail(&meta->slots[s], rp_error_wrap(rc, "evaluation task %d", t));
            c->failed[s] = t;
            /* Stop the others. Every task below t was taken already and
             * runs to its end, so the lowest failing task is always seen. */
            atomic_store_explicit(&c->next, c->tasks, memory_order_relaxed);
            return;
        }
    }
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
    int slots = meta->opts.threads < meta->n_slots ? meta->opts.threads : meta->n_slots;
    if (slots > tasks)
        slots = tasks;
    int *failed = malloc((size_t)slots * sizeof *failed);
    if (!failed) {
        free(acc);
        return rp_error(REPTILE_ENOMEM, "reptile_meta_evaluate: out of memory");
    }
    for (int i = 0; i < slots; ++i)
        failed[i] = tasks;
    many_ctx c = {ds, ways, shots, tasks, 0, acc, failed};
    rc = rp_meta_run_slots(meta, slots, eval_tasks, &c);
    if (rc) { /* the lowest failing task's error, whatever the timing */
        int first = 0;
        for (int i = 1; i < slots; ++i)
            if (failed[i] < failed[first])
                first = i;
        rc = rp_error_raise(&meta->slots[first].err);
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
    free(failed);
    free(acc);
    return rc;
}
