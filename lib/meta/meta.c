/* Reptile meta-learner: lifecycle, the meta-iteration and the training loop. */
#include "meta/meta_internal.h"
#include "meta/option_table.h"
#include "model/model_internal.h"
#include "model/optimizer_internal.h"
#include "core/error_internal.h"
#include "core/finite.h"
#include "core/simd.h"

#include "nn/gemm.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int new_optimizer(const reptile_meta_options *o, reptile_optimizer **out)
{
    return o->optimizer == REPTILE_OPTIMIZER_ADAM
               ? reptile_optimizer_new_adam(out, o->lr, o->beta1, o->beta2, o->adam_eps)
               : reptile_optimizer_new_sgd(out, o->lr, o->momentum);
}

static void free_slot(rp_slot *s)
{
    reptile_model_free(s->model);
    reptile_optimizer_free(s->opt);
    reptile_optimizer_free(s->eval_opt);
    rp_episode_free(&s->train_ep);
    rp_episode_free(&s->eval_ep);
    rp_task_buffers_free(&s->task);
    free(s->before_last);
    free(s->tail_x);
    free(s->tail_y);
    free(s->tail_idx);
}

/* Episode shape for a task. Step-counted loops (the reference
 * implementation) draw enough reshuffled epochs and cut full batches
 * across epoch boundaries; see rp_meta_fit_episode. */
rp_episode_config rp_meta_episode_config(const reptile_meta_options *o, int ways, int shots,
                                         int queries, int batch, int iters)
{
    rp_episode_config c;
    c.ways = ways;
    c.support_shots = shots;
    c.query_shots = queries;
    c.batch_size = batch;
    c.with_replacement = o->with_replacement;
    if (o->iters_are_steps) {
        long need = (long)iters * batch;
        long support = (long)ways * shots;
        c.repetitions = (int)((need + support - 1) / support);
    } else {
        c.repetitions = iters;
    }
    if (c.repetitions < 1)
        c.repetitions = 1;
    return c;
}

rp_episode_config rp_meta_eval_episode_config(const reptile_meta_options *o, int ways, int shots)
{
    return rp_meta_episode_config(o, ways, shots, 1, o->eval_batch,
                                  o->eval_iters > 0 ? o->eval_iters : 1);
}

static int init_slot(reptile_meta *meta, rp_slot *s)
{
    const reptile_meta_options *o = &meta->opts;
    int rc = rp_model_clone(&s->model, meta->model);
    if (rc == 0) /* the task's objective */
        rc = reptile_model_set_loss(s->model, o->reduction, o->keras_clip);
    if (rc == 0)
        rc = new_optimizer(o, &s->opt);
    if (rc == 0)
        rc = new_optimizer(o, &s->eval_opt);
    if (rc == 0) {
        rp_episode_config c = rp_meta_episode_config(o, o->ways, o->train_shots, 0,
                                                     o->inner_batch, o->inner_iters);
        rc = rp_episode_init(&s->train_ep, &c);
    }
    if (rc == 0) {
        rp_episode_config c = rp_meta_eval_episode_config(o, o->ways, o->eval_shots);
        rc = rp_episode_init(&s->eval_ep, &c);
    }
    if (rc == 0) /* a training task's support set (evaluation reserves its own) */
        rc = rp_task_buffers_reserve(&s->task, s->model, o->ways * o->train_shots, 1,
                                     o->inner_batch);
    if (rc == 0 && o->algorithm == REPTILE_ALGORITHM_FOMAML) {
        const size_t img = meta->image_floats, tail = (size_t)o->ways * o->foml_tail;
        s->before_last = malloc((meta->n_params + meta->n_state) * sizeof *s->before_last);
        s->tail_x = malloc((tail ? tail : 1) * img * sizeof *s->tail_x);
        s->tail_y = malloc((tail ? tail : 1) * sizeof *s->tail_y);
        s->tail_idx = malloc((tail ? tail : 1) * sizeof *s->tail_idx);
        if (!s->before_last || !s->tail_x || !s->tail_y || !s->tail_idx)
            rc = rp_error(REPTILE_ENOMEM, "meta-learner: out of memory for FOMAML's buffers");
    }
    if (rc == 0) {
        /* The workspace for the largest batch this slot runs: an inner
         * step, a fine-tuning step, a query with its support set, FOMAML's
         * tail; sized now so that steady-state steps never allocate. */
        int largest = o->inner_batch;
        if (o->eval_batch > largest)
            largest = o->eval_batch;
        if (o->ways * o->eval_shots + 1 > largest)
            largest = o->ways * o->eval_shots + 1;
        if (o->ways * o->foml_tail > largest)
            largest = o->ways * o->foml_tail;
        rc = rp_model_reserve(s->model, largest, o->bn_mode);
    }
    return rc;
}

int reptile_meta_new(reptile_meta **out, reptile_model *model, const reptile_meta_options *caller)
{
    if (!out)
        return rp_error(REPTILE_EINVAL, "reptile_meta_new: out is NULL");
    *out = NULL;
    if (!model)
        return rp_error(REPTILE_EINVAL, "reptile_meta_new: model is NULL");
    /* A caller's older struct version gets the defaults for the newer fields. */
    reptile_meta_options full;
    const reptile_meta_options *opts = &full;
    int rc = rp_meta_options_resolve(&full, caller);
    if (rc == 0)
        rc = rp_gemm_check();
    if (rc == 0)
        rc = rp_simd_check();
    if (rc)
        return rc;
    if ((rc = rp_model_finalise(model)) != 0)
        return rc;
    if (reptile_model_num_outputs(model) < opts->ways)
        return rp_error(REPTILE_ESHAPE, "reptile_meta_new: the model has %d outputs but tasks are %d-way",
                        reptile_model_num_outputs(model), opts->ways);
    reptile_meta *meta = calloc(1, sizeof *meta);
    if (!meta)
        return rp_error(REPTILE_ENOMEM, "reptile_meta_new: out of memory");
    meta->opts = *opts;
    meta->model = model;
    reptile_model_input_shape(model, &meta->in_h, &meta->in_w, &meta->in_c);
    meta->image_floats = (size_t)meta->in_h * meta->in_w * meta->in_c;
    meta->n_params = reptile_model_num_params(model);
    meta->n_state = reptile_model_num_state(model);
    /* One slot per task of a meta-batch. Batches on moving statistics are
     * split over the threads inside a slot, so more slots would only cost
     * memory; batch statistics cannot be split, so then extra slots let
     * independent tasks (evaluations) use the threads instead. */
    meta->n_slots = opts->meta_batch;
    if (opts->bn_mode == REPTILE_BN_BATCH && opts->threads > meta->n_slots)
        meta->n_slots = opts->threads;
    meta->slots = calloc((size_t)meta->n_slots, sizeof *meta->slots);
    /* Parameters then state, contiguous: one allreduce covers both. */
    meta->accum = malloc((meta->n_params + meta->n_state) * sizeof *meta->accum);
    meta->plan = malloc((size_t)RP_CHAIN_PLAN_MAX(meta->n_slots, opts->threads) *
                        sizeof *meta->plan);
    meta->steps_done = calloc((size_t)meta->n_slots, sizeof *meta->steps_done);
    if (!meta->slots || !meta->accum || !meta->plan || !meta->steps_done)
        rc = rp_error(REPTILE_ENOMEM, "reptile_meta_new: out of memory");
    if (rc == 0)
        rc = rp_pool_new(&meta->pool, opts->threads);
    for (int s = 0; rc == 0 && s < meta->n_slots; ++s)
        rc = init_slot(meta, &meta->slots[s]);
    if (rc) {
        reptile_meta_free(meta);
        return rc;
    }
    rp_model_set_pool(meta->slots[0].model, meta->pool);
    *out = meta;
    return 0;
}

void reptile_meta_free(reptile_meta *meta)
{
    if (!meta)
        return;
    if (meta->slots)
        for (int s = 0; s < meta->n_slots; ++s)
            free_slot(&meta->slots[s]);
    free(meta->slots);
    rp_pool_free(meta->pool);
    free(meta->accum);
    free(meta->plan);
    free((void *)meta->steps_done);
    free(meta);
}

const reptile_meta_options *reptile_meta_get_options(const reptile_meta *meta)
{
    return meta ? &meta->opts : NULL;
}

int reptile_meta_iteration(const reptile_meta *meta) { return meta ? meta->iteration : 0; }

int rp_meta_check_images(const reptile_meta *meta, const reptile_dataset *ds, const char *what)
{
    int h = 0, w = 0, c = 0;
    reptile_dataset_image_shape(ds, &h, &w, &c);
    if (h != meta->in_h || w != meta->in_w || c != meta->in_c)
        return rp_error(REPTILE_ESHAPE, "%s: data set images are %dx%dx%d, the model takes %dx%dx%d",
                        what, h, w, c, meta->in_h, meta->in_w, meta->in_c);
    return 0;
}

void rp_slot_fail(rp_slot *slot, int rc)
{
    rp_error_save(&slot->err, rc);
}

typedef struct slot_job {
    reptile_meta *meta;
    rp_slot_fn fn;
    void *ctx;
} slot_job;

static void run_slot_item(void *ctx, int i)
{
    slot_job *job = ctx;
    job->fn(job->meta, i, job->ctx);
}

int rp_meta_run_slots(reptile_meta *meta, int n, rp_slot_fn fn, void *ctx)
{
    for (int s = 0; s < n; ++s)
        meta->slots[s].err.code = 0;
    if (n == 1) {
        fn(meta, 0, ctx); /* slot 0 splits its batches over the pool */
    } else {
        /* Tasks in parallel: each slot runs its shards in its own thread. */
        rp_model_set_pool(meta->slots[0].model, NULL);
        slot_job job = {meta, fn, ctx};
        rp_pool_run(meta->pool, n, run_slot_item, &job);
        rp_model_set_pool(meta->slots[0].model, meta->pool);
    }
    return rp_meta_slot_failure(meta, n);
}

int rp_meta_slot_failure(reptile_meta *meta, int n)
{
    for (int s = 0; s < n; ++s)
        if (meta->slots[s].err.code)
            return rp_error_raise(&meta->slots[s].err);
    return 0;
}

void rp_meta_load_slot(reptile_meta *meta, rp_slot *slot)
{
    /* Same architecture by construction: the copy cannot fail. */
    (void)reptile_model_copy(slot->model, meta->model);
}

