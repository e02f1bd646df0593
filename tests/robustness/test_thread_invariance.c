/* Results do not depend on threads: for every preset, meta-training and
 * evaluation give the same bits whatever the library's thread count (1, 2,
 * 3, 8) and whatever OpenBLAS's own thread count the caller left (1 or 2), and
 * the caller's OpenBLAS setting is back in place after every call.
 *
 * Issue 11: 0.1 pinned OpenBLAS to one thread only when the meta-learner ran
 * more than one thread of its own, so `--threads 1` trained with OpenBLAS's
 * threaded SGEMM and rounded differently. The GEMM path is chosen once per
 * process, so meson runs this program once per path (REPTILE_GEMM=blas and
 * =native); the network is wide enough that OpenBLAS really splits its
 * GEMMs over two threads. */
#include "testutil.h"
#include "synthetic.h"
#include "nn/blas_threads.h"
#include "nn/gemm.h"
#include "rp_config.h"
#include "reptile/reptile.h"

#include <string.h>

#if RP_HAVE_OPENBLAS_THREADS
#include <cblas.h>
#endif

static const char *const presets[] = {"keras-tutorial", "reference-tutorial",
                                      "paper-omniglot-5way", "paper-omniglot-20way"};
enum { N_PRESETS = sizeof presets / sizeof presets[0], EVAL_TASKS = 20 };

/* The caller's OpenBLAS thread count, as a program would set it; what
 * OpenBLAS then reports (a serial OpenBLAS stays at 1 whatever is set). */
static int set_caller_blas_threads(int n)
{
#if RP_HAVE_OPENBLAS_THREADS
    openblas_set_num_threads(n);
#endif
    return rp_blas_threads();
}

/* 8x8 input, 48 filters at full resolution: conv2's GEMM is 640 x 432 x 48
 * at batch 10, far above OpenBLAS's single-thread threshold. */
static reptile_model *wide_net(int classes)
{
    reptile_model *m = NULL;
    ck_assert_int_eq(reptile_model_new(&m, RP_SYN_SIDE, RP_SYN_SIDE, 1), 0);
    ck_assert_int_eq(reptile_model_add_conv2d(m, 48, 3, 3, 1, 1, REPTILE_PADDING_SAME), 0);
    ck_assert_int_eq(reptile_model_add_batchnorm(m, 1e-3f, 0.99f), 0);
    ck_assert_int_eq(reptile_model_add_relu(m), 0);
    ck_assert_int_eq(reptile_model_add_conv2d(m, 48, 3, 3, 2, 2, REPTILE_PADDING_SAME), 0);
    ck_assert_int_eq(reptile_model_add_batchnorm(m, 1e-3f, 0.99f), 0);
    ck_assert_int_eq(reptile_model_add_relu(m), 0);
    ck_assert_int_eq(reptile_model_add_flatten(m), 0);
    ck_assert_int_eq(reptile_model_add_dense(m, classes), 0);
    ck_assert_int_eq(reptile_model_init(m, 7), 0);
    return m;
}

typedef struct outcome {
    float *params;
    double eval_mean;
    float task_acc;
    int32_t task_pred[20];
} outcome;

/* Three meta-iterations (with the per-iteration evaluations), then 20
 * evaluation tasks and one indexed task, under the given thread counts. */
static void run(const char *preset, int threads, int blas_threads, outcome *out)
{
    reptile_meta_options o;
    ck_assert_int_eq(reptile_meta_options_preset(&o, REPTILE_META_OPTIONS_VERSION, preset), 0);
    o.threads = threads;
    o.meta_iters = 10;
    o.eval_interval = 1;
    o.eval_iters = o.iters_are_steps ? 8 : 2; /* the presets' 50 steps add time, not coverage */
    o.train_shots = o.train_shots > 10 ? 10 : o.train_shots;
    reptile_dataset *ds = rp_test_synthetic_set(5, 1.0f);
    ck_assert_ptr_nonnull(ds);
    reptile_model *m = wide_net(o.ways);
    reptile_meta *meta = NULL;
    blas_threads = set_caller_blas_threads(blas_threads);
    ck_assert_msg(reptile_meta_new(&meta, m, &o) == 0, "%s", reptile_error_last());
    ck_assert_msg(reptile_meta_train(meta, ds, ds, 3) == 0, "%s", reptile_error_last());
    ck_assert_int_eq(rp_blas_threads(), blas_threads); /* the caller's setting is back */
    ck_assert_msg(reptile_meta_evaluate(meta, ds, EVAL_TASKS, 0, 0, &out->eval_mean, NULL) == 0,
                  "%s", reptile_error_last());
    ck_assert_msg(reptile_meta_evaluate_task(meta, ds, 3, &out->task_acc, NULL, out->task_pred,
                                             NULL) == 0,
                  "%s", reptile_error_last());
    ck_assert_int_eq(rp_blas_threads(), blas_threads);
    size_t n = reptile_model_num_params(m);
    out->params = malloc(n * sizeof *out->params);
    ck_assert_ptr_nonnull(out->params);
    memcpy(out->params, reptile_model_params(m), n * sizeof *out->params);
    reptile_meta_free(meta);
    reptile_model_free(m);
    reptile_dataset_free(ds);
}

START_TEST(same_bits_for_every_thread_count)
{
    const char *preset = presets[_i];
    const int ways = strstr(preset, "20way") ? 20 : 5;
    reptile_model *probe = wide_net(ways);
    const size_t n = reptile_model_num_params(probe);
    reptile_model_free(probe);

    outcome ref;
    run(preset, 1, 1, &ref);
    const int lib_threads[] = {1, 2, 3, 8};
    const int blas_threads[] = {1, 2};
    for (int b = 0; b < 2; ++b) {
        for (int t = 0; t < 4; ++t) {
            if (b == 0 && t == 0)
                continue;
            outcome got;
            run(preset, lib_threads[t], blas_threads[b], &got);
            ck_assert_msg(memcmp(ref.params, got.params, n * sizeof *got.params) == 0,
                          "%s on the %s path: weights differ with %d library and %d OpenBLAS "
                          "threads",
                          preset, rp_sgemm_path(), lib_threads[t], blas_threads[b]);
            ck_assert_msg(ref.eval_mean == got.eval_mean && ref.task_acc == got.task_acc &&
                              memcmp(ref.task_pred, got.task_pred, ways * sizeof(int32_t)) == 0,
                          "%s on the %s path: evaluation differs with %d library and %d OpenBLAS "
                          "threads (%.6f vs %.6f)",
                          preset, rp_sgemm_path(), lib_threads[t], blas_threads[b],
                          ref.eval_mean, got.eval_mean);
            free(got.params);
        }
    }
    free(ref.params);
    set_caller_blas_threads(1);
}
END_TEST

/* A model used on its own (no meta-learner) pins and restores as well. */
START_TEST(model_calls_restore_the_callers_blas_threads)
{
    reptile_optimizer *opt = NULL;
    ck_assert_int_eq(reptile_optimizer_new_sgd(&opt, 0.01f, 0.0f), 0);
    float x[10 * RP_SYN_SIDE * RP_SYN_SIDE], probs[10 * 5], first[10 * 5];
    int32_t y[10];
    for (int i = 0; i < 10 * RP_SYN_SIDE * RP_SYN_SIDE; ++i)
        x[i] = (float)((i * 37) % 11) / 11.0f;
    for (int i = 0; i < 10; ++i)
        y[i] = i % 5;
    for (int want = 2; want >= 1; --want) {
        const int b = set_caller_blas_threads(want);
        reptile_model *c = wide_net(5);
        ck_assert_int_eq(reptile_model_train_step(c, opt, x, y, 10, REPTILE_BN_BATCH, NULL), 0);
        ck_assert_int_eq(reptile_model_predict(c, x, 10, REPTILE_BN_BATCH, probs), 0);
        ck_assert_int_eq(rp_blas_threads(), b);
        if (want == 2)
            memcpy(first, probs, sizeof first);
        else
            ck_assert_mem_eq(first, probs, sizeof first);
        reptile_model_free(c);
        reptile_optimizer_reset(opt);
    }
    reptile_optimizer_free(opt);
}
END_TEST

static Suite *thread_suite(void)
{
    Suite *s = suite_create("thread-invariance");
    TCase *tc = tcase_create("presets");
    tcase_set_timeout(tc, 240);
    tcase_add_loop_test(tc, same_bits_for_every_thread_count, 0, N_PRESETS);
    tcase_add_test(tc, model_calls_restore_the_callers_blas_threads);
    suite_add_tcase(s, tc);
    return s;
}

RP_TEST_MAIN(thread_suite)
