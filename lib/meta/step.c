/* One Reptile meta-iteration and the training loop around it. */
#include "meta/meta_internal.h"
#include "model/model_internal.h"
#include "core/clock.h"
#include "core/error_internal.h"
#include "core/finite.h"

#include <string.h>

typedef struct train_ctx {
    const reptile_dataset *ds;
} train_ctx;

/* Global index of local task t: workers' tasks tile 0..world*meta_batch-1. */
static uint64_t global_task(const reptile_meta *meta, int t)
{
    return (uint64_t)meta->opts.rank * (uint64_t)meta->opts.meta_batch + (uint64_t)t;
}

/* Steps [first, first + count) of training task t on slot t's copy of the
 * weights; the first segment draws the task and starts its inner loop. */
static void train_segment(reptile_meta *meta, int t, int first, int count, void *ctx)
{
    const train_ctx *c = ctx;
    rp_slot *slot = &meta->slots[t];
    if (first == 0) {
        rp_rng_init(&slot->rng, meta->opts.seed, (uint64_t)meta->iteration,
                    ((uint64_t)RP_DOMAIN_TRAIN << 32) | global_task(meta, t));
        int rc = rp_episode_draw(&slot->train_ep, c->ds, &slot->rng);
        if (rc) {
            rp_slot_fail(slot, rc);
            return;
        }
        rp_meta_load_slot(meta, slot);
        if (meta->opts.optimizer_state == REPTILE_STATE_RESET)
            reptile_optimizer_reset(slot->opt);
        /* REPTILE_STATE_CHAIN: slot 0's state goes on from the last task. */
        rp_meta_task_begin(meta, slot, c->ds);
    }
    if (slot->err.code) /* an earlier segment failed: the task is over */
        return;
    int rc = rp_meta_task_steps(meta, slot, count);
    if (rc)
        rp_slot_fail(slot, rc);
}

static float meta_step_at(const reptile_meta_options *o, int iteration)
{
    double frac = (double)iteration / (double)o->meta_iters;
    if (frac > 1.0)
        frac = 1.0;
    return (float)(o->meta_step + frac * (o->meta_step_final - o->meta_step));
}

/* acc = sum over local tasks (in task order) of the adapted parameters,
 * then of the adapted state, into one contiguous buffer. */
static void sum_tasks(reptile_meta *meta, float *restrict acc)
{
    const size_t np = meta->n_params, ns = meta->n_state;
    for (int t = 0; t < meta->opts.meta_batch; ++t) {
        const float *params = reptile_model_params(meta->slots[t].model);
        const float *state = rp_model_state_data(meta->slots[t].model);
        if (t == 0) {
            memcpy(acc, params, np * sizeof *acc);
            memcpy(acc + np, state, ns * sizeof *acc);
            continue;
        }
        for (size_t i = 0; i < np; ++i)
            acc[i] += params[i];
        for (size_t i = 0; i < ns; ++i)
            acc[np + i] += state[i];
    }
}

/* w <- w + eps * (sum / tasks - w), into acc; with one task exactly the
 * tutorial's old + (new - old) * eps. */
static void interpolate(const float *restrict w, float *restrict acc, size_t n, int tasks, float eps)
{
    if (tasks == 1) {
        for (size_t i = 0; i < n; ++i)
            acc[i] = w[i] + (acc[i] - w[i]) * eps;
    } else {
        const float inv = 1.0f / (float)tasks;
        for (size_t i = 0; i < n; ++i)
            acc[i] = w[i] + (acc[i] * inv - w[i]) * eps;
    }
}

int reptile_meta_step(reptile_meta *meta, const reptile_dataset *train)
{
    if (!meta || !train)
        return rp_error(REPTILE_EINVAL, "reptile_meta_step: NULL argument");
    int rc = rp_meta_check_images(meta, train, "reptile_meta_step: train set");
    if (rc)
        return rc;
    train_ctx ctx = {train};
    rc = rp_meta_run_tasks(meta, meta->opts.meta_batch, rp_meta_task_step_count(&meta->opts),
                           train_segment, &ctx);
    if (rc)
        return rp_error_wrap(rc, "meta-iteration %d", meta->iteration);
    const size_t np = meta->n_params, ns = meta->n_state;
    sum_tasks(meta, meta->accum);
    if (meta->opts.world_size > 1 &&
        meta->opts.allreduce(meta->accum, np + ns, meta->opts.allreduce_user) != 0)
        return rp_error(REPTILE_EIO, "meta-iteration %d: the allreduce across %d workers failed",
                        meta->iteration, meta->opts.world_size);
    const int tasks = meta->opts.meta_batch * meta->opts.world_size;
    const float eps = meta_step_at(&meta->opts, meta->iteration);
    interpolate(reptile_model_params(meta->model), meta->accum, np, tasks, eps);
    interpolate(rp_model_state_data(meta->model), meta->accum + np, ns, tasks, eps);
    /* Checked before anything is written: a divergent step keeps the weights. */
    if (!rp_all_finite(meta->accum, np + ns))
        return rp_error(REPTILE_EDIVERGED,
                        "meta-iteration %d produced NaN or Inf weights; the last good weights are kept",
                        meta->iteration);
    rp_model_write_weights(meta->model, meta->accum);
    meta->iteration++;
    return 0;
}

typedef struct eval_pair_ctx {
    const reptile_dataset *ds[2];
    uint64_t domain[2];
    int iteration;
} eval_pair_ctx;

static void eval_split(reptile_meta *meta, int s, void *ctx)
{
    eval_pair_ctx *c = ctx;
    rp_rng rng;
    rp_rng_init(&rng, meta->opts.seed, (uint64_t)c->iteration, c->domain[s] << 32);
    int rc = rp_meta_eval_task(meta, s, c->ds[s], &rng, meta->opts.ways, meta->opts.eval_shots,
                               meta->opts.keras_argmax, &meta->slots[s].accuracy, NULL, NULL, NULL);
    if (rc)
        rp_slot_fail(&meta->slots[s], rc);
}

int reptile_meta_train(reptile_meta *meta, const reptile_dataset *train,
                       const reptile_dataset *test, int iterations)
{
    if (!meta || !train)
        return rp_error(REPTILE_EINVAL, "reptile_meta_train: NULL meta-learner or train set");
    if (iterations < 0)
        return rp_error(REPTILE_EINVAL, "reptile_meta_train: iterations must be >= 0, got %d",
                        iterations);
    int rc = rp_meta_check_images(meta, train, "reptile_meta_train: train set");
    if (rc == 0 && test)
        rc = rp_meta_check_images(meta, test, "reptile_meta_train: test set");
    if (rc)
        return rc;
    const double start = rp_now_s();
    const int end = meta->iteration + iterations;
    for (int k = 0; k < iterations; ++k) {
        const int iter = meta->iteration;
        const float eps = meta_step_at(&meta->opts, iter);
        if ((rc = reptile_meta_step(meta, train)) != 0)
            return rc;
        reptile_progress p = {iter + 1, end, eps, 0, 0.0f, 0.0f, 0.0};
        int interval = meta->opts.eval_interval;
        if (interval > 0 && iter % interval == 0) {
            /* The train-split and test-split tasks start from the same
             * weights and are independent: run them side by side. */
            eval_pair_ctx c = {{train, test}, {RP_DOMAIN_EVAL_TRAIN, RP_DOMAIN_EVAL_TEST}, iter};
            int n = test ? 2 : 1;
            if (n > meta->n_slots)
                n = meta->n_slots;
            if ((rc = rp_meta_run_slots(meta, n, eval_split, &c)) != 0)
                return rp_error_wrap(rc, "evaluation at meta-iteration %d", iter);
            if (test && n == 1) {
                eval_pair_ctx c2 = {{test, NULL}, {RP_DOMAIN_EVAL_TEST, 0}, iter};
                float train_acc = meta->slots[0].accuracy;
                if ((rc = rp_meta_run_slots(meta, 1, eval_split, &c2)) != 0)
                    return rp_error_wrap(rc, "evaluation at meta-iteration %d", iter);
                p.test_accuracy = meta->slots[0].accuracy;
                p.train_accuracy = train_acc;
            } else {
                p.train_accuracy = meta->slots[0].accuracy;
                p.test_accuracy = test ? meta->slots[1].accuracy : 0.0f;
            }
            p.evaluated = 1;
        }
        p.elapsed_s = rp_now_s() - start;
        if (meta->opts.progress && meta->opts.progress(&p, meta->opts.progress_user) != 0)
            break;
    }
    return 0;
}
