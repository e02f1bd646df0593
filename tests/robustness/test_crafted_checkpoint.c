/* Training states with well-formed, correctly checksummed but invalid
 * optimizer state: NaN, Inf or negative Adam moments, a NaN SGD velocity,
 * step counts out of range. reptile_meta_resume must refuse them with
 * REPTILE_EFORMAT naming what is wrong, and change nothing. The files are
 * made by reptile_meta_save itself after poking the in-memory state, so
 * every other part of them is valid. */
#include "testutil.h"
#include "synthetic.h"

#include "meta/meta_internal.h"
#include "model/model_internal.h"
#include "model/optimizer_internal.h"
#include "reptile/reptile.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

enum { SLOTS = 2 };

static char tmpdir[64];
static char path[128];
static reptile_dataset *ds;

static void setup(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/rp-crafted-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
    snprintf(path, sizeof path, "%s/state.safetensors", tmpdir);
    ds = rp_test_synthetic_set(3, 1.0f);
    ck_assert_msg(ds != NULL, "synthetic data set: %s", reptile_error_last());
}

static void teardown(void)
{
    unlink(path);
    rmdir(tmpdir);
    reptile_dataset_free(ds);
}

static reptile_meta_options options(int optimizer, float momentum)
{
    reptile_meta_options o;
    ck_assert_int_eq(reptile_meta_options_preset(&o, REPTILE_META_OPTIONS_VERSION, "keras-tutorial"), 0);
    o.train_shots = 5;
    o.inner_batch = 10;
    o.inner_iters = 2;
    o.meta_iters = 10;
    o.eval_interval = 0;
    o.optimizer = optimizer;
    o.momentum = momentum;
    o.optimizer_state = REPTILE_STATE_CARRY;
    o.meta_batch = SLOTS;
    return o;
}

/* A meta-learner over its own small model, trained `iters` iterations so
 * that its weights and optimizer state are not the initial ones. */
typedef struct learner {
    reptile_model *model;
    reptile_meta *meta;
} learner;

static learner make_learner(const reptile_meta_options *o, uint64_t seed, int iters)
{
    learner l = {NULL, NULL};
    ck_assert_int_eq(reptile_model_new(&l.model, RP_SYN_SIDE, RP_SYN_SIDE, 1), 0);
    ck_assert_int_eq(reptile_model_add_conv2d(l.model, 4, 3, 3, 2, 2, REPTILE_PADDING_SAME), 0);
    ck_assert_int_eq(reptile_model_add_relu(l.model), 0);
    ck_assert_int_eq(reptile_model_add_flatten(l.model), 0);
    ck_assert_int_eq(reptile_model_add_dense(l.model, o->ways), 0);
    ck_assert_int_eq(reptile_model_init(l.model, seed), 0);
    ck_assert_int_eq(reptile_meta_new(&l.meta, l.model, o), 0);
    ck_assert_msg(reptile_meta_train(l.meta, ds, NULL, iters) == 0, "%s", reptile_error_last());
    return l;
}

static void free_learner(learner *l)
{
    reptile_meta_free(l->meta);
    reptile_model_free(l->model);
}

/* Everything reptile_meta_resume may replace, copied. */
typedef struct snapshot {
    float *params;
    int iteration;
    int64_t steps[SLOTS];
    size_t n[SLOTS];
    float *m[SLOTS], *v[SLOTS];
} snapshot;

static float *copy_or_null(const float *x, size_t n)
{
    if (!x)
        return NULL;
    float *c = malloc(n * sizeof *c);
    ck_assert_ptr_nonnull(c);
    memcpy(c, x, n * sizeof *c);
    return c;
}

static snapshot take_snapshot(const learner *l)
{
    snapshot s;
    s.params = copy_or_null(l->model->params, l->model->n_params);
    s.iteration = reptile_meta_iteration(l->meta);
    for (int t = 0; t < SLOTS; ++t) {
        const reptile_optimizer *o = l->meta->slots[t].opt;
        s.steps[t] = o->steps;
        s.n[t] = o->n;
        s.m[t] = copy_or_null(o->m, o->n);
        s.v[t] = copy_or_null(o->v, o->n);
    }
    return s;
}

static void assert_same_buffer(const float *want, const float *have, size_t n, const char *what)
{
    ck_assert_msg((want == NULL) == (have == NULL), "%s appeared or disappeared", what);
    if (want)
        ck_assert_msg(memcmp(want, have, n * sizeof *want) == 0, "%s changed", what);
}

static void assert_unchanged(const learner *l, const snapshot *s)
{
    assert_same_buffer(s->params, l->model->params, l->model->n_params, "the parameters");
    ck_assert_int_eq(reptile_meta_iteration(l->meta), s->iteration);
    for (int t = 0; t < SLOTS; ++t) {
        const reptile_optimizer *o = l->meta->slots[t].opt;
        ck_assert_uint_eq(o->n, s->n[t]);
        ck_assert_int_eq(o->steps, s->steps[t]);
        assert_same_buffer(s->m[t], o->m, o->n, "an optimizer's m");
        assert_same_buffer(s->v[t], o->v, o->n, "an optimizer's v");
    }
}

static void free_snapshot(snapshot *s)
{
    free(s->params);
    for (int t = 0; t < SLOTS; ++t) {
        free(s->m[t]);
        free(s->v[t]);
    }
}

/* Resuming `victim` from `path` fails with REPTILE_EFORMAT, a message
 * holding `needle`, and leaves the victim as it was. */
static void expect_refused(const learner *victim, const char *needle, const char *what)
{
    snapshot before = take_snapshot(victim);
    int rc = reptile_meta_resume(victim->meta, path);
    ck_assert_msg(rc == REPTILE_EFORMAT, "%s: resume returned %d (%s), expected REPTILE_EFORMAT",
                  what, rc, reptile_error_last());
    ck_assert_msg(strstr(reptile_error_last(), needle) != NULL,
                  "%s: message \"%s\" does not name %s", what, reptile_error_last(), needle);
    ck_assert_msg(strstr(reptile_error_last(), path) != NULL, "%s: message \"%s\" does not name the file",
                  what, reptile_error_last());
    assert_unchanged(victim, &before);
    free_snapshot(&before);
}

/* Saves `src` with element i of slot t's moment `which` set to `value`
 * (the in-memory state is restored afterwards). */
static void save_with_moment(const learner *src, int t, const char *which, size_t i, float value)
{
    reptile_optimizer *o = src->meta->slots[t].opt;
    float *x = strcmp(which, "m") == 0 ? o->m : o->v;
    ck_assert_ptr_nonnull(x);
    ck_assert_uint_lt(i, o->n);
    float keep = x[i];
    x[i] = value;
    int rc = reptile_meta_save(src->meta, path);
    x[i] = keep;
    ck_assert_msg(rc == 0, "save: %s", reptile_error_last());
}

typedef struct moment_case {
    int slot;
    const char *which;
    int at_end; /* element n-1 instead of `index` */
    size_t index;
    float value;
} moment_case;

static const moment_case adam_cases[] = {
    {0, "v", 0, 7, NAN},  {1, "v", 0, 0, -1.0f},    {0, "v", 1, 0, INFINITY},
    {1, "m", 0, 3, NAN},  {0, "m", 1, 0, -INFINITY},
};

/* Loop index: one of adam_cases. */
START_TEST(adam_moments_must_be_finite_and_v_non_negative)
{
    reptile_meta_options o = options(REPTILE_OPTIMIZER_ADAM, 0.0f);
    learner src = make_learner(&o, 21, 2), victim = make_learner(&o, 99, 1);
    const moment_case *c = &adam_cases[_i];
    size_t i = c->at_end ? src.meta->slots[c->slot].opt->n - 1 : c->index;
    save_with_moment(&src, c->slot, c->which, i, c->value);
    char tensor[64], what[128];
    snprintf(tensor, sizeof tensor, "\"meta.slots.%d.optimizer.%s\"", c->slot, c->which);
    snprintf(what, sizeof what, "%s[%zu] = %g", tensor, i, (double)c->value);
    expect_refused(&victim, tensor, what);
    /* The same state untouched resumes: the failure came from the poke. */
    ck_assert_int_eq(reptile_meta_save(src.meta, path), 0);
    ck_assert_msg(reptile_meta_resume(victim.meta, path) == 0, "%s", reptile_error_last());
    ck_assert_int_eq(reptile_meta_iteration(victim.meta), 2);
    free_learner(&src);
    free_learner(&victim);
}
END_TEST

START_TEST(sgd_velocity_must_be_finite)
{
    reptile_meta_options o = options(REPTILE_OPTIMIZER_SGD, 0.9f);
    learner src = make_learner(&o, 21, 2), victim = make_learner(&o, 99, 1);
    save_with_moment(&src, 1, "m", 11, NAN);
    expect_refused(&victim, "\"meta.slots.1.optimizer.m\"", "SGD velocity NaN");
    save_with_moment(&src, 0, "m", 0, INFINITY);
    expect_refused(&victim, "\"meta.slots.0.optimizer.m\"", "SGD velocity +inf");
    free_learner(&src);
    free_learner(&victim);
}
END_TEST

/* Adam's step count: negative, or so large that the next step overflows. */
static const int64_t bad_steps[] = {-1, INT64_MAX, (int64_t)1 << 60};

/* Loop index: one of bad_steps. */
START_TEST(adam_step_count_must_be_in_range)
{
    reptile_meta_options o = options(REPTILE_OPTIMIZER_ADAM, 0.0f);
    learner src = make_learner(&o, 21, 2), victim = make_learner(&o, 99, 1);
    reptile_optimizer *opt = src.meta->slots[1].opt;
    opt->steps = bad_steps[_i];
    ck_assert_int_eq(reptile_meta_save(src.meta, path), 0);
    char what[64];
    snprintf(what, sizeof what, "slot 1 steps = %lld", (long long)bad_steps[_i]);
    expect_refused(&victim, "slots[1].steps", what);
    free_learner(&src);
    free_learner(&victim);
}
END_TEST

static Suite *crafted_checkpoint_suite(void)
{
    Suite *s = suite_create("crafted-checkpoint");
    TCase *tc = tcase_create("crafted-checkpoint");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, adam_moments_must_be_finite_and_v_non_negative, 0,
                        (int)(sizeof adam_cases / sizeof adam_cases[0]));
    tcase_add_test(tc, sgd_velocity_must_be_finite);
    tcase_add_loop_test(tc, adam_step_count_must_be_in_range, 0,
                        (int)(sizeof bad_steps / sizeof bad_steps[0]));
    suite_add_tcase(s, tc);
    return s;
}

RP_TEST_MAIN(crafted_checkpoint_suite)
