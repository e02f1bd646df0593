/* Every entry point that takes a data set and a model compares their image
 * shapes before touching memory (issue 11: a 28x28x3 or 32x32x1 set with a
 * 28x28x1 model overflowed a heap buffer in rp_dataset_gather through
 * reptile_meta_step and reptile_meta_train; a smaller one trained on
 * garbage). Run under ASan in CI: an overflow fails there even if the
 * return code were right. */
#include "testutil.h"
#include "synthetic.h"
#include "reptile/reptile.h"

#include <stdio.h>
#include <string.h>

enum { SIDE = RP_SYN_SIDE, CLASSES = 6, PER_CLASS = 12 };

/* A set of CLASSES x PER_CLASS images of h x w x c. */
static reptile_dataset *set_of_shape(int h, int w, int c)
{
    const int n = CLASSES * PER_CLASS;
    float *x = calloc((size_t)n * h * w * c, sizeof *x);
    int32_t *y = malloc((size_t)n * sizeof *y);
    ck_assert(x && y);
    for (int i = 0; i < n; ++i)
        y[i] = i / PER_CLASS;
    reptile_dataset *ds = NULL;
    ck_assert_int_eq(reptile_dataset_from_memory(&ds, x, y, n, h, w, c), 0);
    free(x);
    free(y);
    return ds;
}

static reptile_model *net(void)
{
    reptile_model *m = NULL;
    ck_assert_int_eq(reptile_model_new(&m, SIDE, SIDE, 1), 0);
    ck_assert_int_eq(reptile_model_add_conv2d(m, 4, 3, 3, 2, 2, REPTILE_PADDING_SAME), 0);
    ck_assert_int_eq(reptile_model_add_relu(m), 0);
    ck_assert_int_eq(reptile_model_add_flatten(m), 0);
    ck_assert_int_eq(reptile_model_add_dense(m, 5), 0);
    ck_assert_int_eq(reptile_model_init(m, 1), 0);
    return m;
}

static reptile_meta *meta_for(reptile_model *m)
{
    reptile_meta_options o;
    ck_assert_int_eq(reptile_meta_options_preset(&o, REPTILE_META_OPTIONS_VERSION, "keras-tutorial"), 0);
    o.train_shots = 5;
    o.inner_batch = 10;
    o.eval_batch = 10;
    o.threads = 2;
    reptile_meta *meta = NULL;
    ck_assert_int_eq(reptile_meta_new(&meta, m, &o), 0);
    return meta;
}

static const int bad_shapes[][3] = {
    {SIDE, SIDE, 3},         /* more channels */
    {SIDE + 4, SIDE + 4, 1}, /* larger images */
    {SIDE / 2, SIDE / 2, 1}, /* smaller: would train on garbage */
    {SIDE, SIDE + 1, 1},     /* same count of rows, not of columns */
};
enum { N_BAD = sizeof bad_shapes / sizeof bad_shapes[0] };

static void expect_shape_error(int rc, const char *names)
{
    ck_assert_int_eq(rc, REPTILE_ESHAPE);
    const char *msg = reptile_error_last();
    ck_assert_msg(strstr(msg, names) != NULL, "message '%s' does not name '%s'", msg, names);
    char want[64];
    snprintf(want, sizeof want, "the model takes %dx%dx1", SIDE, SIDE);
    ck_assert_msg(strstr(msg, want) != NULL, "message '%s' lacks '%s'", msg, want);
}

/* Each call fails with REPTILE_ESHAPE, leaves the weights alone and the
 * meta-learner usable. */
START_TEST(wrong_image_shape_is_refused_everywhere)
{
    const int *shape = bad_shapes[_i];
    reptile_dataset *bad = set_of_shape(shape[0], shape[1], shape[2]);
    reptile_dataset *good = rp_test_synthetic_set(2, 1.0f);
    reptile_model *m = net();
    reptile_meta *meta = meta_for(m);
    const size_t n = reptile_model_num_params(m);
    float *before = malloc(n * sizeof *before);
    memcpy(before, reptile_model_params(m), n * sizeof *before);

    expect_shape_error(reptile_meta_step(meta, bad), "reptile_meta_step: train set");
    expect_shape_error(reptile_meta_train(meta, bad, good, 2), "reptile_meta_train: train set");
    expect_shape_error(reptile_meta_train(meta, good, bad, 2), "reptile_meta_train: test set");
    float acc;
    expect_shape_error(reptile_meta_evaluate_task(meta, bad, 0, &acc, NULL, NULL, NULL),
                       "reptile_meta_evaluate_task");
    double mean;
    expect_shape_error(reptile_meta_evaluate(meta, bad, 3, 0, 0, &mean, NULL),
                       "reptile_meta_evaluate");
    ck_assert_mem_eq(before, reptile_model_params(m), n * sizeof *before);
    ck_assert_int_eq(reptile_meta_iteration(meta), 0);

    /* Still usable with the right data. */
    ck_assert_int_eq(reptile_meta_train(meta, good, good, 2), 0);
    ck_assert_int_eq(reptile_meta_iteration(meta), 2);
    free(before);
    reptile_meta_free(meta);
    reptile_model_free(m);
    reptile_dataset_free(good);
    reptile_dataset_free(bad);
}
END_TEST

static Suite *shape_suite(void)
{
    Suite *s = suite_create("shapes");
    TCase *tc = tcase_create("meta");
    tcase_add_loop_test(tc, wrong_image_shape_is_refused_everywhere, 0, N_BAD);
    suite_add_tcase(s, tc);
    return s;
}

RP_TEST_MAIN(shape_suite)
