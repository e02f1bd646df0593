/* First-order MAML (algorithm = fomaml, with and without foml_tail): the
 * meta-update equals the task's last inner step computed by hand, results
 * do not depend on the thread count, it learns on the synthetic problem,
 * and its settings are validated and saved. */
#include "testutil.h"
#include "synthetic.h"
#include "core/rng.h"
#include "data/sampler.h"
#include "model/finetune.h"
#include "reptile/reptile.h"

#include <math.h>
#include <string.h>
#include <unistd.h>

enum { SIDE = RP_SYN_SIDE, IMG = SIDE * SIDE };

static reptile_model *small_net(uint64_t seed)
{
    reptile_model *m = rp_test_small_net(5, seed);
    ck_assert_msg(m != NULL, "small network: %s", reptile_error_last());
    return m;
}

static reptile_meta_options fomaml_options(int tail)
{
    reptile_meta_options o;
    ck_assert_int_eq(reptile_meta_options_preset(&o, REPTILE_META_OPTIONS_VERSION, "keras-tutorial"), 0);
    ck_assert_int_eq(reptile_meta_options_set(&o, "algorithm", "fomaml"), 0);
    o.foml_tail = tail;
    o.train_shots = 5;
    o.inner_batch = 10;
    o.inner_iters = 3;
    o.eval_shots = 3;
    o.eval_batch = 15;
    o.eval_iters = 2;
    o.meta_iters = 100;
    o.lr = 0.01f;
    o.keras_clip = 0;
    o.with_replacement = 0;
    o.bn_mode = REPTILE_BN_FROZEN;
    return o;
}

/* With meta step 1 and one task, FOMAML moves the weights by exactly the
 * task's last inner step (the difference of the weights across it),
 * recomputed here from the same task and order through the public model
 * API. foml_tail = 1 makes the last step a separate batch of one image per
 * class, held out of the other steps. */
START_TEST(update_is_the_last_inner_step)
{
    const int tail = _i;
    reptile_dataset *ds = rp_test_synthetic_set(1, 1.0f);
    reptile_model *m = small_net(3), *ref = small_net(3);
    const size_t np = reptile_model_num_params(m);
    float *w0 = malloc(np * sizeof *w0), *before = malloc(np * sizeof *before);
    memcpy(w0, reptile_model_params(m), np * sizeof *w0);
    reptile_meta_options o = fomaml_options(tail);
    o.meta_step = o.meta_step_final = 1.0f;
    reptile_meta *meta = NULL;
    ck_assert_int_eq(reptile_meta_new(&meta, m, &o), 0);
    ck_assert_int_eq(reptile_meta_step(meta, ds), 0);

    /* The task: its draw, then batches continuing the same stream. */
    rp_episode ep;
    rp_episode_config cfg = {o.ways, o.train_shots, 0, o.inner_batch, o.inner_iters, 0};
    ck_assert_int_eq(rp_episode_init(&ep, &cfg), 0);
    rp_rng rng;
    rp_rng_init(&rng, o.seed, 0, (uint64_t)RP_DOMAIN_TRAIN << 32);
    ck_assert_int_eq(rp_episode_draw(&ep, ds, &rng), 0);
    const int ns = ep.n_support;
    float *x = malloc((size_t)ns * IMG * sizeof *x), *xb = malloc((size_t)ns * IMG * sizeof *xb);
    float *tail_x = malloc((size_t)o.ways * IMG * sizeof *tail_x);
    int32_t y[64], yb[64], order[64], idx[64], tail_y[8], tail_idx[8];
    int n = 0, k = 0;
    for (int l = 0; l < o.ways; ++l)
        for (int r = 0; r < o.train_shots; ++r) {
            if (r < tail) {
                tail_idx[k] = ep.support_image[l * o.train_shots + r];
                tail_y[k++] = l;
            } else {
                idx[n] = ep.support_image[l * o.train_shots + r];
                y[n++] = l;
            }
        }
    rp_dataset_gather(ds, idx, n, x);
    rp_dataset_gather(ds, tail_idx, k, tail_x);
    reptile_optimizer *sgd = NULL;
    ck_assert_int_eq(reptile_optimizer_new_sgd(&sgd, o.lr, 0.0f), 0);
    ck_assert_int_eq(reptile_model_set_loss(ref, o.reduction, o.keras_clip), 0);
    /* Epochs of batches: all but the last step first. */
    rp_finetune_config c = {o.inner_iters - (tail ? 1 : 0), 0, o.inner_batch, o.bn_mode};
    float *snapshot = malloc((np + reptile_model_num_state(ref)) * sizeof *snapshot);
    ck_assert_int_eq(rp_finetune(ref, sgd, &c, x, y, n, &rng, xb, yb, order,
                                 tail ? NULL : snapshot), 0);
    if (tail) {
        memcpy(snapshot, reptile_model_params(ref), np * sizeof *snapshot);
        ck_assert_int_eq(reptile_model_train_step(ref, sgd, tail_x, tail_y, k, o.bn_mode, NULL), 0);
    }
    memcpy(before, snapshot, np * sizeof *before);
    const float *got = reptile_model_params(m), *after = reptile_model_params(ref);
    double moved = 0.0;
    for (size_t i = 0; i < np; ++i) {
        const float want = w0[i] + (after[i] - before[i]);
        ck_assert_float_eq_tol(got[i], want, 4e-7f * fmaxf(1.0f, fabsf(want)));
        moved += fabs(after[i] - before[i]);
    }
    ck_assert_msg(moved > 1e-4, "the last step moved nothing (%g): the test would be vacuous", moved);
    rp_episode_free(&ep);
    reptile_optimizer_free(sgd);
    free(x);
    free(xb);
    free(tail_x);
    free(snapshot);
    free(w0);
    free(before);
    reptile_meta_free(meta);
    reptile_model_free(m);
    reptile_model_free(ref);
    reptile_dataset_free(ds);
}
END_TEST

static void train(int threads, int tail, int bn_mode, float *out, size_t n)
{
    reptile_dataset *ds = rp_test_synthetic_set(2, 1.0f);
    reptile_model *m = small_net(4);
    reptile_meta_options o = fomaml_options(tail);
    o.meta_batch = 3;
    o.bn_mode = bn_mode;
    o.threads = threads;
    reptile_meta *meta = NULL;
    ck_assert_int_eq(reptile_meta_new(&meta, m, &o), 0);
    for (int i = 0; i < 3; ++i)
        ck_assert_int_eq(reptile_meta_step(meta, ds), 0);
    memcpy(out, reptile_model_params(m), n * sizeof *out);
    reptile_meta_free(meta);
    reptile_model_free(m);
    reptile_dataset_free(ds);
}

START_TEST(one_and_two_threads_agree_bitwise)
{
    reptile_model *m = small_net(4);
    const size_t n = reptile_model_num_params(m);
    reptile_model_free(m);
    float *one = malloc(n * sizeof *one), *two = malloc(n * sizeof *two);
    for (int tail = 0; tail <= 2; tail += 2)
        for (int bn = REPTILE_BN_BATCH; bn <= REPTILE_BN_FROZEN; bn += 2) {
            train(1, tail, bn, one, n);
            /* 2 threads cut one of the 3 tasks mid-way (the tail step in its
             * later part); 3 run them whole. */
            for (int threads = 2; threads <= 3; ++threads) {
                train(threads, tail, bn, two, n);
                ck_assert_msg(memcmp(one, two, n * sizeof *one) == 0,
                              "tail %d, bn_mode %d: weights differ with 1 and %d threads", tail,
                              bn, threads);
            }
        }
    free(one);
    free(two);
}
END_TEST

START_TEST(fomaml_learns)
{
    reptile_dataset *ds = rp_test_synthetic_set(7, 1.0f);
    reptile_model *m = small_net(8);
    reptile_meta_options o = fomaml_options(_i);
    o.meta_iters = 300;
    o.meta_step = 1.0f;
    o.eval_iters = 5;
    o.lr = 0.005f;
    o.inner_iters = 4;
    o.eval_interval = 0;
    o.threads = 2;
    reptile_meta *meta = NULL;
    ck_assert_int_eq(reptile_meta_new(&meta, m, &o), 0);
    double before, after, ci;
    ck_assert_int_eq(reptile_meta_evaluate(meta, ds, 200, 0, 0, &before, &ci), 0);
    ck_assert_int_eq(reptile_meta_train(meta, ds, NULL, 300), 0);
    ck_assert_int_eq(reptile_meta_evaluate(meta, ds, 200, 0, 0, &after, &ci), 0);
    ck_assert_msg(after > before + 0.15 && after > 0.5, "tail %d: accuracy before %.3f after %.3f",
                  _i, before, after);
    reptile_meta_free(meta);
    reptile_model_free(m);
    reptile_dataset_free(ds);
}
END_TEST

START_TEST(settings_are_checked_and_saved)
{
    reptile_meta_options o = fomaml_options(4);
    ck_assert_int_eq(reptile_meta_options_validate(&o), 0);
    o.foml_tail = 5; /* = train_shots: nothing left for the inner loop */
    ck_assert_int_eq(reptile_meta_options_validate(&o), REPTILE_EINVAL);
    ck_assert_str_eq(reptile_error_last(), "foml_tail must be below train_shots (5): the inner "
                                           "loop needs images, got 5");
    o.foml_tail = 1;
    o.algorithm = REPTILE_ALGORITHM_REPTILE;
    ck_assert_int_eq(reptile_meta_options_validate(&o), REPTILE_EINVAL);
    o.algorithm = REPTILE_ALGORITHM_FOMAML;

    reptile_dataset *ds = rp_test_synthetic_set(2, 1.0f);
    reptile_model *m = small_net(4);
    reptile_meta *meta = NULL;
    ck_assert_int_eq(reptile_meta_new(&meta, m, &o), 0);
    ck_assert_int_eq(reptile_meta_step(meta, ds), 0);
    char path[] = "/tmp/reptile-fomaml-XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    close(fd);
    ck_assert_int_eq(reptile_meta_save(meta, path), 0);
    reptile_meta_options back;
    ck_assert_int_eq(reptile_meta_load_options(&back, REPTILE_META_OPTIONS_VERSION, path), 0);
    ck_assert_int_eq(back.algorithm, REPTILE_ALGORITHM_FOMAML);
    ck_assert_int_eq(back.foml_tail, 1);
    unlink(path);
    reptile_meta_free(meta);
    reptile_model_free(m);
    reptile_dataset_free(ds);
}
END_TEST

static Suite *fomaml_suite(void)
{
    Suite *s = suite_create("meta-fomaml");
    TCase *tc = tcase_create("fomaml");
    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, update_is_the_last_inner_step, 0, 2);
    tcase_add_test(tc, one_and_two_threads_agree_bitwise);
    tcase_add_loop_test(tc, fomaml_learns, 0, 2);
    tcase_add_test(tc, settings_are_checked_and_saved);
    suite_add_tcase(s, tc);
    return s;
}

RP_TEST_MAIN(fomaml_suite)
