/* reptile_meta: options and presets, the meta-step arithmetic, thread-count
 * invariance, divergence guard, evaluation, and learning on a synthetic
 * few-shot problem. */
#include "testutil.h"
#include "synthetic.h"
#include "core/rng.h"
#include "data/sampler.h"
#include "meta/meta_internal.h"
#include "model/model_internal.h"
#include "reptile/reptile.h"

#include <math.h>
#include <pthread.h>
#include <string.h>

enum { SIDE = RP_SYN_SIDE };

static reptile_dataset *synthetic_set_scaled(uint64_t seed, float scale)
{
    reptile_dataset *ds = rp_test_synthetic_set(seed, scale);
    ck_assert_msg(ds != NULL, "synthetic data set: %s", reptile_error_last());
    return ds;
}

static reptile_dataset *synthetic_set(uint64_t seed) { return synthetic_set_scaled(seed, 1.0f); }

static reptile_model *small_net(uint64_t seed)
{
    reptile_model *m = NULL;
    ck_assert_int_eq(reptile_model_new(&m, SIDE, SIDE, 1), 0);
    ck_assert_int_eq(reptile_model_add_conv2d(m, 8, 3, 3, 2, 2, REPTILE_PADDING_SAME), 0);
    ck_assert_int_eq(reptile_model_add_batchnorm(m, 1e-3f, 0.99f), 0);
    ck_assert_int_eq(reptile_model_add_relu(m), 0);
    ck_assert_int_eq(reptile_model_add_conv2d(m, 8, 3, 3, 2, 2, REPTILE_PADDING_SAME), 0);
    ck_assert_int_eq(reptile_model_add_batchnorm(m, 1e-3f, 0.99f), 0);
    ck_assert_int_eq(reptile_model_add_relu(m), 0);
    ck_assert_int_eq(reptile_model_add_flatten(m), 0);
    ck_assert_int_eq(reptile_model_add_dense(m, 5), 0);
    ck_assert_int_eq(reptile_model_init(m, seed), 0);
    return m;
}

static reptile_meta_options small_options(void)
{
    reptile_meta_options o;
    ck_assert_int_eq(reptile_meta_options_preset(&o, REPTILE_META_OPTIONS_VERSION, "keras-tutorial"), 0);
    o.train_shots = 5;
    o.inner_batch = 10;
    o.inner_iters = 2;
    o.eval_shots = 3;
    o.eval_batch = 15;
    o.eval_iters = 2;
    o.meta_iters = 100;
    o.lr = 0.01f;
    return o;
}

/* The defaults are the reference semantics (paper-omniglot-5way); 0.1's
 * defaults, the tutorial as coded, are the keras-tutorial preset, field for
 * field. */
START_TEST(defaults_are_the_reference_and_keras_tutorial_is_0_1)
{
    reptile_meta_options o, paper;
    ck_assert_int_eq(reptile_meta_options_init(&o, REPTILE_META_OPTIONS_VERSION), 0);
    ck_assert_uint_eq(o.version, REPTILE_META_OPTIONS_VERSION);
    ck_assert_int_eq(reptile_meta_options_preset(&paper, REPTILE_META_OPTIONS_VERSION, "paper-omniglot-5way"), 0);
    ck_assert_int_eq(memcmp(&o, &paper, sizeof o), 0);
    ck_assert_int_eq(o.optimizer, REPTILE_OPTIMIZER_ADAM);
    ck_assert_int_eq(o.reduction, REPTILE_REDUCTION_MEAN);
    ck_assert_int_eq(o.bn_mode, REPTILE_BN_BATCH);
    ck_assert_int_eq(o.with_replacement, 0);
    ck_assert_int_eq(o.keras_clip, 0);
    ck_assert_int_eq(o.optimizer_state, REPTILE_STATE_CARRY);
    ck_assert_int_eq(o.iters_are_steps, 1);
    ck_assert_int_eq(reptile_meta_options_validate(&o), 0);

    ck_assert_int_eq(reptile_meta_options_preset(&o, REPTILE_META_OPTIONS_VERSION, "keras-tutorial"), 0);
    ck_assert_int_eq(o.ways, 5);
    ck_assert_int_eq(o.train_shots, 20);
    ck_assert_int_eq(o.inner_batch, 25);
    ck_assert_int_eq(o.inner_iters, 4);
    ck_assert_int_eq(o.meta_batch, 1);
    ck_assert_int_eq(o.meta_iters, 2000);
    ck_assert_float_eq(o.meta_step, 0.25f);
    ck_assert_float_eq(o.meta_step_final, 0.0f);
    ck_assert_int_eq(o.optimizer, REPTILE_OPTIMIZER_SGD);
    ck_assert_float_eq(o.lr, 0.003f);
    ck_assert_float_eq(o.momentum, 0.0f);
    ck_assert_float_eq(o.beta1, 0.9f);
    ck_assert_float_eq(o.beta2, 0.999f);
    ck_assert_float_eq(o.adam_eps, 1e-8f);
    ck_assert_int_eq(o.optimizer_state, REPTILE_STATE_RESET);
    ck_assert_int_eq(o.reduction, REPTILE_REDUCTION_SUM);
    ck_assert_int_eq(o.keras_clip, 1);
    ck_assert_int_eq(o.bn_mode, REPTILE_BN_FROZEN);
    ck_assert_int_eq(o.with_replacement, 1);
    ck_assert_int_eq(o.eval_shots, 5);
    ck_assert_int_eq(o.eval_batch, 25);
    ck_assert_int_eq(o.eval_iters, 5);
    ck_assert_int_eq(o.iters_are_steps, 0);
    ck_assert_int_eq(o.eval_mode, REPTILE_EVAL_NON_TRANSDUCTIVE);
    ck_assert_int_eq(o.keras_argmax, 0);
    ck_assert_int_eq(o.eval_interval, 1);
    ck_assert_uint_eq(o.seed, 1);
    ck_assert_int_eq(o.threads, 1);
    ck_assert_int_eq(o.rank, 0);
    ck_assert_int_eq(o.world_size, 1);
    ck_assert_int_eq(reptile_meta_options_validate(&o), 0);
}
END_TEST

START_TEST(presets_and_their_errors)
{
    reptile_meta_options o;
    ck_assert_int_eq(reptile_meta_options_preset(&o, REPTILE_META_OPTIONS_VERSION, "paper-omniglot-5way"), 0);
    ck_assert_int_eq(o.optimizer, REPTILE_OPTIMIZER_ADAM);
    ck_assert_float_eq(o.beta1, 0.0f);
    ck_assert_int_eq(o.meta_batch, 5);
    ck_assert_float_eq(o.meta_step, 1.0f);
    ck_assert_int_eq(o.bn_mode, REPTILE_BN_BATCH);
    ck_assert_int_eq(o.meta_iters, 100000);
    ck_assert_int_eq(reptile_meta_options_validate(&o), 0);
    ck_assert_int_eq(reptile_meta_options_preset(&o, REPTILE_META_OPTIONS_VERSION, "paper-omniglot-20way"), 0);
    ck_assert_int_eq(o.ways, 20);
    ck_assert_float_eq(o.lr, 5e-4f);
    /* run_miniimagenet.py's 5-shot command: --train-shots 15 --inner-batch 10
     * --inner-iters 8 --meta-batch 5 --meta-step 1 --meta-step-final 0
     * --meta-iters 100000 --learning-rate 0.001 --eval-batch 15 --eval-iters 50. */
    ck_assert_int_eq(reptile_meta_options_preset(&o, REPTILE_META_OPTIONS_VERSION, "paper-miniimagenet-5way"), 0);
    ck_assert_int_eq(o.ways, 5);
    ck_assert_int_eq(o.train_shots, 15);
    ck_assert_int_eq(o.inner_batch, 10);
    ck_assert_int_eq(o.inner_iters, 8);
    ck_assert_int_eq(o.iters_are_steps, 1);
    ck_assert_int_eq(o.meta_batch, 5);
    ck_assert_float_eq(o.meta_step, 1.0f);
    ck_assert_float_eq(o.meta_step_final, 0.0f);
    ck_assert_int_eq(o.meta_iters, 100000);
    ck_assert_int_eq(o.optimizer, REPTILE_OPTIMIZER_ADAM);
    ck_assert_float_eq(o.lr, 1e-3f);
    ck_assert_float_eq(o.beta1, 0.0f);
    ck_assert_int_eq(o.optimizer_state, REPTILE_STATE_CARRY);
    ck_assert_int_eq(o.bn_mode, REPTILE_BN_BATCH);
    ck_assert_int_eq(o.eval_batch, 15);
    ck_assert_int_eq(o.eval_iters, 50);
    ck_assert_int_eq(reptile_meta_options_validate(&o), 0);
    ck_assert_int_eq(reptile_meta_options_preset(&o, REPTILE_META_OPTIONS_VERSION, "reference-tutorial"), 0);
    ck_assert_int_eq(o.with_replacement, 0);
    ck_assert_int_eq(o.bn_mode, REPTILE_BN_BATCH);
    ck_assert_int_eq(reptile_meta_options_preset(&o, REPTILE_META_OPTIONS_VERSION, "maml"), REPTILE_ENOTFOUND);
    ck_assert_ptr_nonnull(strstr(reptile_error_last(), "keras-tutorial"));
    ck_assert_int_eq(reptile_meta_options_init(&o, 0), REPTILE_EVERSION);
    ck_assert_int_eq(reptile_meta_options_init(&o, REPTILE_META_OPTIONS_VERSION + 1), REPTILE_EVERSION);
    ck_assert_int_eq(reptile_meta_options_init(NULL, REPTILE_META_OPTIONS_VERSION), REPTILE_EINVAL);
}
END_TEST

START_TEST(out_of_range_options_are_rejected_by_name)
{
    reptile_meta_options o = small_options();
    o.ways = 1;
    ck_assert_int_eq(reptile_meta_options_validate(&o), REPTILE_EINVAL);
    ck_assert_ptr_nonnull(strstr(reptile_error_last(), "ways"));
    o = small_options();
    o.lr = -1.0f;
    ck_assert_int_eq(reptile_meta_options_validate(&o), REPTILE_EINVAL);
    ck_assert_ptr_nonnull(strstr(reptile_error_last(), "lr"));
    o = small_options();
    o.meta_step = 1.5f;
    ck_assert_int_eq(reptile_meta_options_validate(&o), REPTILE_EINVAL);
    ck_assert_ptr_nonnull(strstr(reptile_error_last(), "meta_step"));
    o = small_options();
    o.threads = 0;
    ck_assert_int_eq(reptile_meta_options_validate(&o), REPTILE_EINVAL);
    ck_assert_ptr_nonnull(strstr(reptile_error_last(), "threads"));
    o = small_options();
    o.bn_mode = 7;
    ck_assert_int_eq(reptile_meta_options_validate(&o), REPTILE_EINVAL);
    o = small_options();
    o.version = 99;
    ck_assert_int_eq(reptile_meta_options_validate(&o), REPTILE_EVERSION);
    /* A model with fewer outputs than ways is refused at creation. */
    o = small_options();
    o.ways = 6;
    reptile_model *m = small_net(1);
    reptile_meta *meta = NULL;
    ck_assert_int_eq(reptile_meta_new(&meta, m, &o), REPTILE_ESHAPE);
    ck_assert_ptr_null(meta);
    reptile_model_free(m);
    reptile_meta_free(NULL);
}
END_TEST

/* With meta step 1 and meta-batch 1, a Reptile iteration is exactly plain
 * SGD on that iteration's task: redo the task by hand and compare bits. */
START_TEST(meta_step_one_equals_sgd_on_the_task)
{
    reptile_dataset *ds = synthetic_set(1);
    reptile_model *m = small_net(3), *ref = small_net(3);
    reptile_meta_options o = small_options();
    o.meta_step = o.meta_step_final = 1.0f;
    o.bn_mode = REPTILE_BN_FROZEN;
    reptile_meta *meta = NULL;
    ck_assert_int_eq(reptile_meta_new(&meta, m, &o), 0);
    ck_assert_int_eq(reptile_meta_step(meta, ds), 0);
    ck_assert_int_eq(reptile_meta_iteration(meta), 1);

    rp_episode ep;
    rp_episode_config cfg = {o.ways, o.train_shots, 0, o.inner_batch, o.inner_iters, o.with_replacement};
    ck_assert_int_eq(rp_episode_init(&ep, &cfg), 0);
    rp_rng rng;
    rp_rng_init(&rng, o.seed, 0, (uint64_t)RP_DOMAIN_TRAIN << 32);
    ck_assert_int_eq(rp_episode_sample(&ep, ds, &rng), 0);
    reptile_optimizer *sgd = NULL;
    ck_assert_int_eq(reptile_optimizer_new_sgd(&sgd, o.lr, 0.0f), 0);
    ck_assert_int_eq(reptile_model_set_loss(ref, o.reduction, o.keras_clip), 0);
    float x[25 * SIDE * SIDE];
    int32_t y[25], idx[25];
    for (int b = 0; b < ep.n_batches; ++b) {
        int n = rp_episode_batch_len(&ep, b);
        for (int i = 0; i < n; ++i) {
            int pos = ep.order[ep.batch_start[b] + i];
            y[i] = ep.support_label[pos];
            idx[i] = ep.support_image[pos];
        }
        rp_dataset_gather(ds, idx, n, x);
        ck_assert_int_eq(reptile_model_train_step(ref, sgd, x, y, n, REPTILE_BN_FROZEN, NULL), 0);
    }
    /* Equal up to the rounding of old + (new - old) * 1 (one ulp or two). */
    const float *got = reptile_model_params(m), *want = reptile_model_params(ref);
    for (size_t i = 0; i < reptile_model_num_params(m); ++i)
        ck_assert_float_eq_tol(got[i], want[i], 4e-7f * fmaxf(1.0f, fabsf(want[i])));
    rp_episode_free(&ep);
    reptile_optimizer_free(sgd);
    reptile_meta_free(meta);
    reptile_model_free(m);
    reptile_model_free(ref);
    reptile_dataset_free(ds);
}
END_TEST

/* With meta step eps the weights move to old + (new - old) * eps. */
START_TEST(meta_step_interpolates_by_eps)
{
    reptile_dataset *ds = synthetic_set(2);
    reptile_model *full = small_net(5), *part = small_net(5);
    size_t n = reptile_model_num_params(full);
    float *old = malloc(n * sizeof *old);
    memcpy(old, reptile_model_params(full), n * sizeof *old);
    reptile_meta_options o = small_options();
    o.meta_step = o.meta_step_final = 1.0f;
    reptile_meta *a = NULL, *b = NULL;
    ck_assert_int_eq(reptile_meta_new(&a, full, &o), 0);
    o.meta_step = o.meta_step_final = 0.3f;
    ck_assert_int_eq(reptile_meta_new(&b, part, &o), 0);
    ck_assert_int_eq(reptile_meta_step(a, ds), 0);
    ck_assert_int_eq(reptile_meta_step(b, ds), 0);
    const float *new_w = reptile_model_params(full), *got = reptile_model_params(part);
    for (size_t i = 0; i < n; ++i)
        ck_assert_float_eq(got[i], old[i] + (new_w[i] - old[i]) * 0.3f);
    free(old);
    reptile_meta_free(a);
    reptile_meta_free(b);
    reptile_model_free(full);
    reptile_model_free(part);
    reptile_dataset_free(ds);
}
END_TEST

/* Four meta-iterations on the synthetic set, then 5 evaluation tasks;
 * the meta-weights into out, slot 0's inner optimizer steps into *steps. */
static void train_state(int threads, int bn_mode, int meta_batch, int optimizer,
                        int iters_are_steps, int state, float *out, double *eval_mean,
                        int64_t *steps)
{
    reptile_dataset *ds = synthetic_set(3);
    reptile_model *m = small_net(11);
    reptile_meta_options o = small_options();
    o.threads = threads;
    o.bn_mode = bn_mode;
    o.meta_batch = meta_batch;
    o.optimizer = optimizer;
    o.optimizer_state = state;
    o.iters_are_steps = iters_are_steps;
    o.eval_interval = 2;
    reptile_meta *meta = NULL;
    ck_assert_int_eq(reptile_meta_new(&meta, m, &o), 0);
    ck_assert_int_eq(reptile_meta_train(meta, ds, ds, 4), 0);
    ck_assert_int_eq(reptile_meta_evaluate(meta, ds, 5, 0, 0, eval_mean, NULL), 0);
    memcpy(out, reptile_model_params(m), reptile_model_num_params(m) * sizeof *out);
    if (steps)
        *steps = rp_optimizer_state_of(meta->slots[0].opt).steps;
    reptile_meta_free(meta);
    reptile_model_free(m);
    reptile_dataset_free(ds);
}

static void train_with_threads(int threads, int bn_mode, int meta_batch, int optimizer,
                               int iters_are_steps, float *out, double *eval_mean)
{
    train_state(threads, bn_mode, meta_batch, optimizer, iters_are_steps, REPTILE_STATE_CARRY,
                out, eval_mean, NULL);
}

static void check_thread_invariance(int bn_mode, int meta_batch, int optimizer)
{
    reptile_model *probe = small_net(1);
    size_t n = reptile_model_num_params(probe);
    reptile_model_free(probe);
    float *one = malloc(n * sizeof *one), *two = malloc(n * sizeof *two);
    double e1, e2;
    train_with_threads(1, bn_mode, meta_batch, optimizer, 0, one, &e1);
    train_with_threads(2, bn_mode, meta_batch, optimizer, 0, two, &e2);
    ck_assert_mem_eq(one, two, n * sizeof *one);
    ck_assert_double_eq(e1, e2);
    free(one);
    free(two);
}

START_TEST(one_and_two_threads_give_identical_weights_frozen_bn)
{
    check_thread_invariance(REPTILE_BN_FROZEN, 1, REPTILE_OPTIMIZER_SGD);
}
END_TEST

START_TEST(one_and_two_threads_give_identical_weights_batch_bn_adam)
{
    check_thread_invariance(REPTILE_BN_BATCH, 3, REPTILE_OPTIMIZER_ADAM);
}
END_TEST

/* A meta-batch that the threads do not divide is cut at step boundaries
 * (lib/meta/task_schedule.c): a task's steps move between threads, and
 * the bits must not. */
START_TEST(tasks_cut_over_threads_give_identical_weights)
{
    reptile_model *probe = small_net(1);
    size_t n = reptile_model_num_params(probe);
    reptile_model_free(probe);
    float *one = malloc(n * sizeof *one), *many = malloc(n * sizeof *many);
    const int meta_batches[] = {5, 7};
    for (int steps = 0; steps <= 1; ++steps) /* epochs, and steps cut across reshuffles */
        for (int b = 0; b < 2; ++b) {
            double e1, em;
            train_with_threads(1, REPTILE_BN_BATCH, meta_batches[b], REPTILE_OPTIMIZER_ADAM, steps,
                               one, &e1);
            for (int threads = 2; threads <= 4; ++threads) {
                train_with_threads(threads, REPTILE_BN_BATCH, meta_batches[b],
                                   REPTILE_OPTIMIZER_ADAM, steps, many, &em);
                ck_assert_msg(memcmp(one, many, n * sizeof *one) == 0,
                              "meta_batch %d, iters_are_steps %d: weights differ with 1 and %d "
                              "threads",
                              meta_batches[b], steps, threads);
                ck_assert_double_eq(e1, em);
            }
        }
    free(one);
    free(many);
}
END_TEST

/* REPTILE_STATE_CHAIN: one Adam state goes through every task in turn, as
 * the reference's single AdamOptimizer. With one task a meta-batch it is
 * the carried state exactly; with three, slot 0's state has taken every
 * task's steps, the weights differ from one state per slot, and they do
 * not depend on the thread count. */
START_TEST(chained_state_goes_through_every_task)
{
    reptile_model *probe = small_net(1);
    size_t n = reptile_model_num_params(probe);
    reptile_model_free(probe);
    float *carry = malloc(n * sizeof *carry), *chain = malloc(n * sizeof *chain);
    float *chain2 = malloc(n * sizeof *chain2);
    double e_carry, e_chain, e_chain2;
    int64_t s_carry, s_chain, s_chain2;
    train_state(2, REPTILE_BN_BATCH, 1, REPTILE_OPTIMIZER_ADAM, 1, REPTILE_STATE_CARRY, carry,
                &e_carry, &s_carry);
    train_state(2, REPTILE_BN_BATCH, 1, REPTILE_OPTIMIZER_ADAM, 1, REPTILE_STATE_CHAIN, chain,
                &e_chain, &s_chain);
    ck_assert_mem_eq(carry, chain, n * sizeof *carry);
    ck_assert_double_eq(e_carry, e_chain);
    ck_assert_int_eq(s_carry, s_chain);

    const int steps = small_options().inner_iters; /* iters_are_steps: steps a task */
    train_state(1, REPTILE_BN_BATCH, 3, REPTILE_OPTIMIZER_ADAM, 1, REPTILE_STATE_CARRY, carry,
                &e_carry, &s_carry);
    train_state(1, REPTILE_BN_BATCH, 3, REPTILE_OPTIMIZER_ADAM, 1, REPTILE_STATE_CHAIN, chain,
                &e_chain, &s_chain);
    train_state(2, REPTILE_BN_BATCH, 3, REPTILE_OPTIMIZER_ADAM, 1, REPTILE_STATE_CHAIN, chain2,
                &e_chain2, &s_chain2);
    ck_assert_int_eq(s_carry, 4 * steps);     /* slot 0: its own task of 4 iterations */
    ck_assert_int_eq(s_chain, 4 * 3 * steps); /* every task's steps */
    ck_assert_msg(memcmp(carry, chain, n * sizeof *carry) != 0,
                  "a chained state trains as one state per slot");
    ck_assert_mem_eq(chain, chain2, n * sizeof *chain);
    ck_assert_double_eq(e_chain, e_chain2);
    ck_assert_int_eq(s_chain, s_chain2);
    free(carry);
    free(chain);
    free(chain2);
}
END_TEST

START_TEST(divergence_stops_with_the_last_good_weights)
{
    /* Huge pixels and a huge step overflow the activations within steps. */
    reptile_dataset *ds = synthetic_set_scaled(4, 1e18f);
    reptile_model *m = small_net(2);
    size_t n = reptile_model_num_params(m);
    reptile_meta_options o = small_options();
    o.lr = 900.0f;
    o.keras_clip = 0;
    o.eval_interval = 0;
    reptile_meta *meta = NULL;
    ck_assert_int_eq(reptile_meta_new(&meta, m, &o), 0);
    float *before = malloc(n * sizeof *before);
    int rc = 0;
    for (int i = 0; i < 50 && rc == 0; ++i) {
        memcpy(before, reptile_model_params(m), n * sizeof *before);
        rc = reptile_meta_step(meta, ds);
    }
    ck_assert_int_eq(rc, REPTILE_EDIVERGED);
    ck_assert_ptr_nonnull(strstr(reptile_error_last(), "meta-iteration"));
    ck_assert_mem_eq(before, reptile_model_params(m), n * sizeof *before);
    free(before);
    reptile_meta_free(meta);
    reptile_model_free(m);
    reptile_dataset_free(ds);
}
END_TEST

START_TEST(evaluation_is_deterministic_and_restores_weights)
{
    reptile_dataset *ds = synthetic_set(5);
    reptile_model *m = small_net(4);
    size_t n = reptile_model_num_params(m);
    reptile_meta_options o = small_options();
    reptile_meta *meta = NULL;
    ck_assert_int_eq(reptile_meta_new(&meta, m, &o), 0);
    float *before = malloc(n * sizeof *before);
    memcpy(before, reptile_model_params(m), n * sizeof *before);
    float acc1, acc2, images[5 * SIDE * SIDE];
    int32_t labels[5], preds[5];
    ck_assert_int_eq(reptile_meta_evaluate_task(meta, ds, 17, &acc1, labels, preds, images), 0);
    ck_assert_int_eq(reptile_meta_evaluate_task(meta, ds, 17, &acc2, NULL, NULL, NULL), 0);
    ck_assert_float_eq(acc1, acc2);
    int correct = 0;
    for (int q = 0; q < 5; ++q) {
        ck_assert_int_eq(labels[q], q); /* one query per class, in label order */
        ck_assert_int_ge(preds[q], 0);
        ck_assert_int_lt(preds[q], 5);
        correct += preds[q] == labels[q];
    }
    ck_assert_float_eq(acc1, correct / 5.0f);
    ck_assert_mem_eq(before, reptile_model_params(m), n * sizeof *before);
    double mean, ci;
    ck_assert_int_eq(reptile_meta_evaluate(meta, ds, 20, 0, 0, &mean, &ci), 0);
    ck_assert(mean >= 0.0 && mean <= 1.0 && ci >= 0.0 && ci < 0.5);
    ck_assert_int_eq(reptile_meta_evaluate(meta, ds, 0, 0, 0, &mean, &ci), REPTILE_EINVAL);
    ck_assert_int_eq(reptile_meta_evaluate(meta, ds, 5, 6, 0, &mean, &ci), REPTILE_EINVAL);
    free(before);
    reptile_meta_free(meta);
    reptile_model_free(m);
    reptile_dataset_free(ds);
}
END_TEST

static int count_progress(const reptile_progress *p, void *user)
{
    int *calls = user;
    ++*calls;
    ck_assert_int_eq(p->iteration, *calls);
    ck_assert(p->meta_step > 0.0f && p->elapsed_s >= 0.0);
    return *calls == 3; /* stop after three */
}

START_TEST(progress_callback_reports_and_can_stop)
{
    reptile_dataset *ds = synthetic_set(6);
    reptile_model *m = small_net(4);
    reptile_meta_options o = small_options();
    int calls = 0;
    o.progress = count_progress;
    o.progress_user = &calls;
    reptile_meta *meta = NULL;
    ck_assert_int_eq(reptile_meta_new(&meta, m, &o), 0);
    ck_assert_int_eq(reptile_meta_train(meta, ds, ds, 10), 0);
    ck_assert_int_eq(calls, 3);
    ck_assert_int_eq(reptile_meta_iteration(meta), 3);
    reptile_meta_free(meta);
    reptile_model_free(m);
    reptile_dataset_free(ds);
}
END_TEST

/* Meta-training lifts 5-way 3-shot accuracy (tasks are fresh draws of
 * classes under fresh labels) well above the untrained network's and
 * chance (0.2): measured 0.43 -> 0.86 here. */
START_TEST(meta_training_learns_to_learn)
{
    reptile_dataset *ds = synthetic_set(7);
    reptile_model *m = small_net(8);
    reptile_meta_options o = small_options();
    o.bn_mode = REPTILE_BN_FROZEN;
    o.with_replacement = 0;
    o.meta_iters = 300;
    o.meta_step = 1.0f;
    o.eval_iters = 5;
    o.lr = 0.005f;
    o.inner_iters = 4;
    o.keras_clip = 0;
    o.eval_interval = 0;
    o.threads = 2;
    reptile_meta *meta = NULL;
    ck_assert_int_eq(reptile_meta_new(&meta, m, &o), 0);
    double before, after, ci;
    ck_assert_int_eq(reptile_meta_evaluate(meta, ds, 200, 0, 0, &before, &ci), 0);
    ck_assert_int_eq(reptile_meta_train(meta, ds, NULL, 300), 0);
    ck_assert_int_eq(reptile_meta_evaluate(meta, ds, 200, 0, 0, &after, &ci), 0);
    ck_assert_msg(after > before + 0.2 && after > 0.6,
                  "accuracy before %.3f after %.3f (+- %.3f)", before, after, ci);
    reptile_meta_free(meta);
    reptile_model_free(m);
    reptile_dataset_free(ds);
}
END_TEST

/* Two in-process workers joined by a barrier-based allreduce stand in for
 * two MPI ranks. */
typedef struct fake_world {
    pthread_barrier_t barrier;
    float *bufs[2];
    float *sum;
} fake_world;

typedef struct fake_rank {
    fake_world *world;
    int rank;
    reptile_meta_options opts;
    float *weights_out;
    int rc;
} fake_rank;

static int fake_allreduce(float *data, size_t n, void *user)
{
    fake_rank *r = user;
    fake_world *w = r->world;
    w->bufs[r->rank] = data;
    pthread_barrier_wait(&w->barrier);
    if (r->rank == 0)
        for (size_t i = 0; i < n; ++i)
            w->sum[i] = w->bufs[0][i] + w->bufs[1][i];
    pthread_barrier_wait(&w->barrier);
    memcpy(data, w->sum, n * sizeof *data);
    pthread_barrier_wait(&w->barrier);
    return 0;
}

static void *run_rank(void *arg)
{
    fake_rank *r = arg;
    reptile_dataset *ds = synthetic_set(9);
    reptile_model *m = small_net(21);
    reptile_meta *meta = NULL;
    r->opts.allreduce_user = r;
    r->rc = reptile_meta_new(&meta, m, &r->opts);
    for (int i = 0; r->rc == 0 && i < 3; ++i)
        r->rc = reptile_meta_step(meta, ds);
    memcpy(r->weights_out, reptile_model_params(m), reptile_model_num_params(m) * sizeof(float));
    reptile_meta_free(meta);
    reptile_model_free(m);
    reptile_dataset_free(ds);
    return NULL;
}

/* Two workers with meta-batch 2 each equal one process with meta-batch 4:
 * the same tasks (global task indices), the same mean. Only the summation
 * order differs ((t0 + t1) + (t2 + t3) against ((t0 + t1) + t2) + t3), so
 * the weights agree to float rounding, not bitwise. */
START_TEST(two_workers_equal_one_process_with_twice_the_meta_batch)
{
    reptile_model *probe = small_net(21);
    size_t n = reptile_model_num_params(probe);
    float *single = malloc(n * sizeof *single), *w0 = malloc(n * sizeof *w0), *w1 = malloc(n * sizeof *w1);
    {
        reptile_dataset *ds = synthetic_set(9);
        reptile_meta_options o = small_options();
        o.meta_batch = 4;
        o.bn_mode = REPTILE_BN_BATCH;
        reptile_meta *meta = NULL;
        ck_assert_int_eq(reptile_meta_new(&meta, probe, &o), 0);
        for (int i = 0; i < 3; ++i)
            ck_assert_int_eq(reptile_meta_step(meta, ds), 0);
        memcpy(single, reptile_model_params(probe), n * sizeof *single);
        reptile_meta_free(meta);
        reptile_dataset_free(ds);
    }
    fake_world world;
    world.sum = malloc((n + 4096) * sizeof *world.sum);
    pthread_barrier_init(&world.barrier, NULL, 2);
    fake_rank ranks[2];
    pthread_t tid[2];
    for (int r = 0; r < 2; ++r) {
        ranks[r].world = &world;
        ranks[r].rank = r;
        ranks[r].opts = small_options();
        ranks[r].opts.meta_batch = 2;
        ranks[r].opts.bn_mode = REPTILE_BN_BATCH;
        ranks[r].opts.rank = r;
        ranks[r].opts.world_size = 2;
        ranks[r].opts.allreduce = fake_allreduce;
        ranks[r].weights_out = r == 0 ? w0 : w1;
        ck_assert_int_eq(pthread_create(&tid[r], NULL, run_rank, &ranks[r]), 0);
    }
    for (int r = 0; r < 2; ++r)
        pthread_join(tid[r], NULL);
    ck_assert_int_eq(ranks[0].rc, 0);
    ck_assert_int_eq(ranks[1].rc, 0);
    ck_assert_mem_eq(w0, w1, n * sizeof *w0); /* every worker holds the same weights */
    for (size_t i = 0; i < n; ++i)
        ck_assert_float_eq_tol(w0[i], single[i], 1e-5f * fmaxf(1.0f, fabsf(single[i])));
    reptile_meta_options bad = small_options();
    bad.world_size = 2;
    ck_assert_int_eq(reptile_meta_options_validate(&bad), REPTILE_EINVAL);
    ck_assert_ptr_nonnull(strstr(reptile_error_last(), "allreduce"));
    bad.allreduce = fake_allreduce;
    bad.rank = 2;
    ck_assert_int_eq(reptile_meta_options_validate(&bad), REPTILE_EINVAL);
    pthread_barrier_destroy(&world.barrier);
    free(world.sum);
    free(single);
    free(w0);
    free(w1);
    reptile_model_free(probe);
}
END_TEST

static Suite *meta_suite(void)
{
    Suite *s = suite_create("meta");
    TCase *tc = tcase_create("meta");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, defaults_are_the_reference_and_keras_tutorial_is_0_1);
    tcase_add_test(tc, presets_and_their_errors);
    tcase_add_test(tc, out_of_range_options_are_rejected_by_name);
    tcase_add_test(tc, meta_step_one_equals_sgd_on_the_task);
    tcase_add_test(tc, meta_step_interpolates_by_eps);
    tcase_add_test(tc, one_and_two_threads_give_identical_weights_frozen_bn);
    tcase_add_test(tc, one_and_two_threads_give_identical_weights_batch_bn_adam);
    tcase_add_test(tc, tasks_cut_over_threads_give_identical_weights);
    tcase_add_test(tc, chained_state_goes_through_every_task);
    tcase_add_test(tc, divergence_stops_with_the_last_good_weights);
    tcase_add_test(tc, evaluation_is_deterministic_and_restores_weights);
    tcase_add_test(tc, progress_callback_reports_and_can_stop);
    tcase_add_test(tc, meta_training_learns_to_learn);
    tcase_add_test(tc, two_workers_equal_one_process_with_twice_the_meta_batch);
    suite_add_tcase(s, tc);
    return s;
}

RP_TEST_MAIN(meta_suite)
