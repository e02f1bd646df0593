/* Adaptation (reptile/adapt.h): the public path and the meta-learner's
 * evaluation are one path (bitwise the same probabilities for the same
 * task, every preset, also from a saved file), the public task sampler
 * draws the evaluation's tasks, one learner serves many threads with the
 * results of one, and bad input is refused with a message. */
#include "testutil.h"
#include "synthetic.h"
#include "meta/meta_internal.h"
#include "reptile/reptile.h"

#include <malloc.h>
#include <pthread.h>
#include <string.h>
#include <unistd.h>

enum { SIDE = RP_SYN_SIDE, IMG = SIDE * SIDE };

static reptile_model *small_net(int outputs, uint64_t seed)
{
    reptile_model *m = rp_test_small_net(outputs, seed);
    ck_assert_msg(m != NULL, "small network: %s", reptile_error_last());
    return m;
}

/* A preset scaled to the synthetic set (40 classes of 12 images). */
static reptile_meta_options preset(const char *name)
{
    reptile_meta_options o;
    ck_assert_int_eq(reptile_meta_options_preset(&o, REPTILE_META_OPTIONS_VERSION, name), 0);
    if (o.train_shots > 5) {
        o.train_shots = 5;
        o.inner_batch = 10;
        o.inner_iters = o.iters_are_steps ? 4 : 2;
    }
    o.eval_shots = 3;
    o.eval_iters = o.iters_are_steps ? 7 : 2;
    o.eval_batch = o.ways == 20 ? 10 : 4; /* partial last batches in epoch mode */
    o.threads = 2;
    return o;
}

typedef struct trained {
    reptile_dataset *ds;
    reptile_model *model;
    reptile_meta *meta;
    reptile_meta_options o;
} trained;

static trained train(const char *name, int iterations)
{
    trained t;
    t.o = preset(name);
    t.ds = rp_test_synthetic_set(3, 1.0f);
    ck_assert_ptr_nonnull(t.ds);
    t.model = small_net(t.o.ways, 5);
    ck_assert_int_eq(reptile_meta_new(&t.meta, t.model, &t.o), 0);
    for (int i = 0; i < iterations; ++i)
        ck_assert_int_eq(reptile_meta_step(t.meta, t.ds), 0);
    return t;
}

static void trained_free(trained *t)
{
    reptile_meta_free(t->meta);
    reptile_model_free(t->model);
    reptile_dataset_free(t->ds);
}

/* Task `index` as the public path sees it: sampled, adapted, predicted. */
static void adapt_task(const reptile_learner *l, const reptile_dataset *ds,
                       const reptile_meta_options *o, uint64_t index, float *probs,
                       int32_t *query_labels)
{
    const int ns = o->ways * o->eval_shots;
    float *support = malloc((size_t)ns * IMG * sizeof *support);
    float *queries = malloc((size_t)o->ways * IMG * sizeof *queries);
    int32_t *labels = malloc((size_t)ns * sizeof *labels);
    reptile_task_options to = REPTILE_TASK_OPTIONS_INIT;
    to.ways = o->ways;
    to.shots = o->eval_shots;
    to.queries = 1;
    to.with_replacement = o->with_replacement;
    to.seed = o->seed;
    uint64_t seed = 0;
    ck_assert_int_eq(reptile_dataset_sample_task(ds, &to, index, support, labels, queries,
                                                 query_labels, NULL, &seed), 0);
    reptile_adapted *a = NULL;
    ck_assert_msg(reptile_learner_adapt(l, &a, support, labels, ns, o->ways, seed) == 0, "%s",
                  reptile_error_last());
    const int mode = o->eval_mode == REPTILE_EVAL_TRANSDUCTIVE ? REPTILE_PREDICT_TRANSDUCTIVE
                                                              : REPTILE_PREDICT_WITH_SUPPORT;
    ck_assert_int_eq(reptile_adapted_predict(a, queries, o->ways, mode, probs), 0);
    reptile_adapted_free(a);
    free(support);
    free(queries);
    free(labels);
}

static void same_as_evaluation(trained *t, const reptile_learner *l, const char *what)
{
    const int w = t->o.ways;
    float *probs = malloc((size_t)w * w * sizeof *probs);
    for (uint64_t i = 0; i < 6; ++i) {
        float acc;
        int32_t want_labels[20], labels[20], predictions[20];
        ck_assert_int_eq(reptile_meta_evaluate_task(t->meta, t->ds, i, &acc, want_labels,
                                                    predictions, NULL), 0);
        adapt_task(l, t->ds, &t->o, i, probs, labels);
        ck_assert_mem_eq(labels, want_labels, (size_t)w * sizeof *labels);
        /* The evaluation's probabilities are still in slot 0's buffers. */
        ck_assert_msg(memcmp(probs, t->meta->slots[0].task.probs, (size_t)w * w * sizeof *probs) == 0,
                      "%s: task %d: the adapted model's probabilities differ from evaluation's",
                      what, (int)i);
        int correct = 0;
        for (int q = 0; q < w; ++q) {
            int best = 0;
            for (int k = 1; k < w; ++k)
                best = probs[q * w + k] > probs[q * w + best] ? k : best;
            ck_assert_int_eq(best, predictions[q]);
            correct += best == labels[q];
        }
        ck_assert_float_eq(acc, (float)correct / (float)w);
    }
    free(probs);
}

static const char *const presets[] = {"keras-tutorial", "reference-tutorial",
                                      "paper-omniglot-5way", "paper-omniglot-20way"};

/* For each preset: adapting to evaluation task i through the public API
 * gives bitwise the probabilities reptile_meta_evaluate_task() computes,
 * from the meta-learner and from its saved training state. */
START_TEST(adapt_equals_evaluation)
{
    trained t = train(presets[_i], 3);
    reptile_learner *l = NULL;
    ck_assert_int_eq(reptile_learner_from_meta(&l, t.meta), 0);
    ck_assert_int_eq(reptile_learner_has_saved_state(l),
                     t.o.optimizer_state == REPTILE_STATE_CARRY);
    same_as_evaluation(&t, l, "from the meta-learner");
    reptile_learner_free(l);

    char path[] = "/tmp/reptile-adapt-XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    close(fd);
    ck_assert_int_eq(reptile_meta_save(t.meta, path), 0);
    ck_assert_msg(reptile_learner_load(&l, path) == 0, "%s", reptile_error_last());
    same_as_evaluation(&t, l, "from the saved file");
    reptile_learner_free(l);
    unlink(path);
    trained_free(&t);
}
END_TEST

/* A model file (kind "model", the 0.1 format: weights only) loads as a
 * learner with the documented defaults: reptile_meta_options_init()'s
 * settings, no saved optimizer state; it adapts and predicts. */
START_TEST(model_file_loads_with_default_settings)
{
    trained t = train("keras-tutorial", 1);
    char path[] = "/tmp/reptile-adapt-model-XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    close(fd);
    ck_assert_int_eq(reptile_model_save(t.model, path), 0);
    reptile_learner *l = NULL;
    ck_assert_msg(reptile_learner_load(&l, path) == 0, "%s", reptile_error_last());
    reptile_meta_options d;
    ck_assert_int_eq(reptile_meta_options_init(&d, REPTILE_META_OPTIONS_VERSION), 0);
    const reptile_meta_options *o = reptile_learner_options(l);
    ck_assert_int_eq(o->eval_iters, d.eval_iters);
    ck_assert_int_eq(o->eval_batch, d.eval_batch);
    ck_assert_int_eq(o->optimizer, d.optimizer);
    ck_assert_int_eq(o->bn_mode, d.bn_mode);
    ck_assert_int_eq(reptile_learner_has_saved_state(l), 0);
    ck_assert_mem_eq(reptile_model_params(reptile_learner_model(l)), reptile_model_params(t.model),
                     reptile_model_num_params(t.model) * sizeof(float));
    float probs[5 * 5];
    int32_t labels[5];
    adapt_task(l, t.ds, o, 0, probs, labels);
    reptile_learner_free(l);
    unlink(path);
    trained_free(&t);
}
END_TEST

/* Other hyperparameters keep the carried optimizer state; another
 * optimizer drops it. A learner from the same settings adapts bitwise as
 * the original. */
START_TEST(with_options_keeps_a_state_that_fits)
{
    trained t = train("paper-omniglot-5way", 2);
    reptile_learner *l = NULL, *same = NULL, *more = NULL, *sgd = NULL;
    ck_assert_int_eq(reptile_learner_from_meta(&l, t.meta), 0);
    reptile_meta_options o = *reptile_learner_options(l);
    ck_assert_int_eq(reptile_learner_with_options(&same, l, &o), 0);
    ck_assert_int_eq(reptile_learner_has_saved_state(same), 1);
    o.eval_iters += 3;
    ck_assert_int_eq(reptile_learner_with_options(&more, l, &o), 0);
    ck_assert_int_eq(reptile_learner_has_saved_state(more), 1);
    ck_assert_int_eq(reptile_learner_options(more)->eval_iters, o.eval_iters);
    ck_assert_int_eq(reptile_meta_options_set(&o, "optimizer", "sgd"), 0);
    ck_assert_int_eq(reptile_learner_with_options(&sgd, l, &o), 0);
    ck_assert_int_eq(reptile_learner_has_saved_state(sgd), 0);
    float a[25], b[25];
    int32_t labels[5];
    adapt_task(l, t.ds, &t.o, 1, a, labels);
    adapt_task(same, t.ds, &t.o, 1, b, labels);
    ck_assert_mem_eq(a, b, sizeof a);
    o.eval_iters = -1;
    reptile_learner *bad = l;
    ck_assert_int_eq(reptile_learner_with_options(&bad, l, &o), REPTILE_EINVAL);
    ck_assert_ptr_null(bad);
    reptile_learner_free(l);
    reptile_learner_free(same);
    reptile_learner_free(more);
    reptile_learner_free(sgd);
    trained_free(&t);
}
END_TEST

typedef struct worker {
    const reptile_learner *l;
    const trained *t;
    int first, count;
    float *probs; /* count tasks x ways x ways */
} worker;

static void *work(void *arg)
{
    worker *w = arg;
    const int ways = w->t->o.ways;
    int32_t labels[20];
    for (int i = 0; i < w->count; ++i)
        adapt_task(w->l, w->t->ds, &w->t->o, (uint64_t)(w->first + i),
                   w->probs + (size_t)i * ways * ways, labels);
    return NULL;
}

/* One learner, 8 threads x 20 tasks at once: bitwise the results of one
 * thread doing the 160 tasks in order. */
START_TEST(one_learner_many_threads)
{
    enum { THREADS = 8, PER = 20 };
    trained t = train("paper-omniglot-5way", 2);
    reptile_learner *l = NULL;
    ck_assert_int_eq(reptile_learner_from_meta(&l, t.meta), 0);
    const size_t per_task = (size_t)t.o.ways * t.o.ways;
    float *serial = malloc(THREADS * PER * per_task * sizeof *serial);
    float *parallel = malloc(THREADS * PER * per_task * sizeof *parallel);
    worker all = {l, &t, 0, THREADS * PER, serial};
    work(&all);
    pthread_t tid[THREADS];
    worker w[THREADS];
    for (int i = 0; i < THREADS; ++i) {
        w[i] = (worker){l, &t, i * PER, PER, parallel + (size_t)i * PER * per_task};
        ck_assert_int_eq(pthread_create(&tid[i], NULL, work, &w[i]), 0);
    }
    for (int i = 0; i < THREADS; ++i)
        pthread_join(tid[i], NULL);
    ck_assert_mem_eq(serial, parallel, THREADS * PER * per_task * sizeof *serial);
    free(serial);
    free(parallel);
    reptile_learner_free(l);
    trained_free(&t);
}
END_TEST

START_TEST(bad_input_is_refused)
{
    trained t = train("keras-tutorial", 1);
    reptile_learner *l = NULL;
    ck_assert_int_eq(reptile_learner_from_meta(&l, t.meta), 0);
    float support[4 * IMG] = {0}, probs[10];
    int32_t labels[4] = {0, 1, 0, 1}, bad[4] = {0, 1, 2, 5};
    reptile_adapted *a = (reptile_adapted *)&t; /* must be reset to NULL on failure */
    ck_assert_int_eq(reptile_learner_adapt(l, &a, support, bad, 4, 5, 1), REPTILE_EINVAL);
    ck_assert_ptr_null(a);
    ck_assert_str_eq(reptile_error_last(),
                     "reptile_learner_adapt: label 5 of support image 3 is outside 0..4");
    ck_assert_int_eq(reptile_learner_adapt(l, &a, support, labels, 4, 6, 1), REPTILE_EINVAL);
    ck_assert_int_eq(reptile_learner_adapt(l, &a, support, labels, 0, 2, 1), REPTILE_EINVAL);
    ck_assert_int_eq(reptile_learner_adapt(l, &a, NULL, labels, 4, 2, 1), REPTILE_EINVAL);
    ck_assert_int_eq(reptile_learner_adapt(NULL, &a, support, labels, 4, 2, 1), REPTILE_EINVAL);
    ck_assert_int_eq(reptile_learner_adapt(l, &a, support, labels, 4, 2, 1), 0);
    ck_assert_int_eq(reptile_adapted_ways(a), 2);
    ck_assert_int_eq(reptile_adapted_predict(a, support, 1, 7, probs), REPTILE_EINVAL);
    ck_assert_int_eq(reptile_adapted_predict(a, support, 0, 0, probs), REPTILE_EINVAL);
    ck_assert_int_eq(reptile_adapted_predict(a, support, 1, REPTILE_PREDICT_WITH_SUPPORT, probs), 0);
    reptile_adapted_free(a);
    reptile_adapted_free(NULL);
    reptile_learner_free(l);
    reptile_learner_free(NULL);
    ck_assert_int_eq(reptile_learner_load(&l, "/nonexistent/model.safetensors"), REPTILE_ENOTFOUND);
    ck_assert_ptr_null(l);

    reptile_task_options to = REPTILE_TASK_OPTIONS_INIT;
    to.ways = 41; /* the synthetic set has 40 classes */
    float *big = malloc((size_t)41 * 5 * IMG * sizeof *big);
    ck_assert_int_eq(reptile_dataset_sample_task(t.ds, &to, 0, big, NULL, big, NULL, NULL, NULL),
                     REPTILE_EDATA);
    to.ways = 0;
    ck_assert_int_eq(reptile_dataset_sample_task(t.ds, &to, 0, big, NULL, big, NULL, NULL, NULL),
                     REPTILE_EINVAL);
    to.ways = 5;
    to.version = 9;
    ck_assert_int_eq(reptile_dataset_sample_task(t.ds, &to, 0, big, NULL, big, NULL, NULL, NULL),
                     REPTILE_EVERSION);
    free(big);
    trained_free(&t);
}
END_TEST

/* A server holds adapted tasks between requests: each keeps its weights,
 * not the ~10 MB workspace of the Omniglot network for 26 images (0.2.0
 * held it: 13 MB a task), and the results do not change. glibc's
 * allocation count is the measure (not under ASan, which has its own). */
START_TEST(held_tasks_keep_no_workspace)
{
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
    return;
#else
    enum { HELD = 8, WAYS = 5, SHOTS = 5, NS = WAYS * SHOTS, PX = 28 * 28 };
    reptile_model *m = NULL;
    ck_assert_int_eq(reptile_model_new_omniglot(&m, WAYS, 3), 0);
    reptile_meta_options o;
    ck_assert_int_eq(reptile_meta_options_init(&o, REPTILE_META_OPTIONS_VERSION), 0);
    o.eval_iters = 2;
    reptile_learner *l = NULL;
    ck_assert_int_eq(reptile_learner_new(&l, m, &o), 0);
    float *support = malloc((size_t)NS * PX * sizeof *support);
    float probs[HELD][WAYS * WAYS], again[WAYS * WAYS];
    int32_t labels[NS];
    rp_rng rng;
    rp_rng_init(&rng, 7, 0, 0);
    for (size_t i = 0; i < (size_t)NS * PX; ++i)
        support[i] = rp_rng_float(&rng);
    for (int i = 0; i < NS; ++i)
        labels[i] = i % WAYS;
    reptile_adapted *a[HELD];
    /* This thread's spare workspace exists after the first task. */
    ck_assert_int_eq(reptile_learner_adapt(l, &a[0], support, labels, NS, WAYS, 99), 0);
    ck_assert_int_eq(reptile_adapted_predict(a[0], support, WAYS, REPTILE_PREDICT_WITH_SUPPORT,
                                             again),
                     0);
    reptile_adapted_free(a[0]);
    size_t before = mallinfo2().uordblks;
    for (int t = 0; t < HELD; ++t) {
        ck_assert_int_eq(reptile_learner_adapt(l, &a[t], support, labels, NS, WAYS, 99 + t), 0);
        ck_assert_int_eq(reptile_adapted_predict(a[t], support, WAYS,
                                                 REPTILE_PREDICT_WITH_SUPPORT, probs[t]),
                         0);
    }
    size_t per_task = (mallinfo2().uordblks - before) / HELD;
    /* Weights, gradient and state (3 x 113k floats), the support set and
     * the prediction scratch: about 1.6 MB. */
    ck_assert_msg(per_task < 3u << 20, "a held adapted task keeps %zu KB", per_task >> 10);
    /* Predicting again from a held task (its workspace sized anew) gives
     * the same probabilities. */
    for (int t = 0; t < HELD; ++t) {
        ck_assert_int_eq(reptile_adapted_predict(a[t], support, WAYS,
                                                 REPTILE_PREDICT_WITH_SUPPORT, again),
                         0);
        ck_assert_mem_eq(again, probs[t], sizeof again);
        reptile_adapted_free(a[t]);
    }
    free(support);
    reptile_learner_free(l);
    reptile_model_free(m);
#endif
}
END_TEST

static Suite *adapt_suite(void)
{
    Suite *s = suite_create("meta-adapt");
    TCase *tc = tcase_create("adapt");
    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, adapt_equals_evaluation, 0, 4);
    tcase_add_test(tc, one_learner_many_threads);
    tcase_add_test(tc, model_file_loads_with_default_settings);
    tcase_add_test(tc, with_options_keeps_a_state_that_fits);
    tcase_add_test(tc, bad_input_is_refused);
    tcase_add_test(tc, held_tasks_keep_no_workspace);
    suite_add_tcase(s, tc);
    return s;
}

RP_TEST_MAIN(adapt_suite)
