/* The paper-miniimagenet-5way preset on reptile_model_new_miniimagenet(),
 * end to end through the public API, on a generated colour set
 * (tests/colour_set.h: PNG and JPEG photographs of coloured shapes in
 * Mini-ImageNet's folder layout): the set loads as 84x84 RGB, a short
 * fixed-seed meta-training run learns (accuracy clearly above chance, and
 * above the untrained network's), and the weights do not depend on the
 * thread count. */
#include "testutil.h"
#include "colour_set.h"
#include "reptile/reptile.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { TRAIN_CLASSES = 30, TEST_CLASSES = 10, PER_CLASS = 16, SIDE = 84 };

static char root[256];
static reptile_dataset *train_set, *test_set;

static void open_split(const char *split, reptile_dataset **out, int classes)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", root, split);
    reptile_image_options img;
    ck_assert_int_eq(reptile_image_options_init(&img, REPTILE_IMAGE_OPTIONS_VERSION), 0);
    img.height = img.width = SIDE;
    img.channels = 3;
    img.threads = 2;
    ck_assert_msg(reptile_dataset_open_folder(out, path, &img) == 0, "%s: %s", path,
                  reptile_error_last());
    ck_assert_int_eq(reptile_dataset_num_classes(*out), classes);
    ck_assert_int_eq(reptile_dataset_num_images(*out), classes * PER_CLASS);
}

/* Written and opened once for the whole suite (in the runner's process). */
static void setup(void)
{
    const char *base = getenv("TMPDIR");
    snprintf(root, sizeof root, "%s/rp-colour-XXXXXX", base && *base ? base : "/tmp");
    ck_assert_ptr_nonnull(mkdtemp(root));
    ck_assert_int_eq(
        rp_test_colour_set_write_splits(root, TRAIN_CLASSES, TEST_CLASSES, PER_CLASS, 7), 0);
    open_split("train", &train_set, TRAIN_CLASSES);
    open_split("test", &test_set, TEST_CLASSES);
}

static void teardown(void)
{
    reptile_dataset_free(train_set);
    reptile_dataset_free(test_set);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    ck_assert_int_eq(system(cmd), 0);
}

/* The preset with a short schedule (the meta step anneals over it) and a
 * short fine-tuning (3 steps instead of 50), so that the suite runs in
 * about a minute and the initialisation's worth shows: after 50 steps an
 * untrained network already scores ~0.5 on this set, after 3 ~0.38. */
static reptile_meta_options short_run(int iterations, int threads)
{
    reptile_meta_options o;
    ck_assert_int_eq(
        reptile_meta_options_preset(&o, REPTILE_META_OPTIONS_VERSION, "paper-miniimagenet-5way"),
        0);
    o.meta_iters = iterations;
    o.eval_iters = 3;
    o.threads = threads;
    return o;
}

START_TEST(colour_set_loads_as_84x84_rgb)
{
    int h = 0, w = 0, c = 0;
    ck_assert_int_eq(reptile_dataset_image_shape(train_set, &h, &w, &c), 0);
    ck_assert_int_eq(h, SIDE);
    ck_assert_int_eq(w, SIDE);
    ck_assert_int_eq(c, 3);
    /* A red disc class (c00) and a green one (c01): the shape's colour
     * survives decoding, JPEG (odd images) and PNG (even) alike. */
    float *img = malloc((size_t)SIDE * SIDE * 3 * sizeof *img);
    for (int i = 0; i < 2; ++i) {
        ck_assert_int_eq(reptile_dataset_get_image(train_set, 0, i, img), 0);
        size_t centre = ((size_t)SIDE / 2 * SIDE + SIDE / 2) * 3;
        ck_assert_msg(img[centre] > 0.6f && img[centre + 1] < 0.4f && img[centre + 2] < 0.4f,
                      "image %d of the red class: centre %.2f %.2f %.2f", i, img[centre],
                      img[centre + 1], img[centre + 2]);
    }
    free(img);
}
END_TEST

/* Accuracy over 60 five-way five-shot test tasks of classes never trained
 * on (the same tasks each time: tasks are drawn by index). */
static double score(reptile_meta *meta)
{
    double mean = 0.0, ci95 = 0.0;
    ck_assert_msg(reptile_meta_evaluate(meta, test_set, 60, 5, 5, &mean, &ci95) == 0, "%s",
                  reptile_error_last());
    return mean;
}

START_TEST(short_run_learns_above_chance)
{
    reptile_model *model = NULL;
    ck_assert_int_eq(reptile_model_new_miniimagenet(&model, 5, 1), 0);
    reptile_meta_options o = short_run(30, 2);
    reptile_meta *meta = NULL;
    ck_assert_int_eq(reptile_meta_new(&meta, model, &o), 0);
    double before = score(meta);
    ck_assert_msg(reptile_meta_train(meta, train_set, NULL, 30) == 0, "%s", reptile_error_last());
    double after = score(meta);
    printf("mini-imagenet preset on the colour set: 5-way 5-shot accuracy %.3f untrained, "
           "%.3f after 30 meta-iterations (chance 0.2)\n",
           before, after);
    /* Measured: 0.380 untrained, 0.490 after 30 iterations. */
    ck_assert_msg(after >= 0.4, "accuracy %.3f after 30 meta-iterations: not clearly above "
                  "chance (0.2)", after);
    ck_assert_msg(after >= before + 0.05, "meta-training did not help: %.3f before, %.3f after",
                  before, after);
    reptile_meta_free(meta);
    reptile_model_free(model);
}
END_TEST

static float *trained_weights(int threads, size_t *n)
{
    reptile_model *model = NULL;
    ck_assert_int_eq(reptile_model_new_miniimagenet(&model, 5, 3), 0);
    reptile_meta_options o = short_run(100, threads);
    reptile_meta *meta = NULL;
    ck_assert_int_eq(reptile_meta_new(&meta, model, &o), 0);
    ck_assert_int_eq(reptile_meta_train(meta, train_set, NULL, 2), 0);
    *n = reptile_model_num_params(model);
    float *w = malloc(*n * sizeof *w);
    memcpy(w, reptile_model_params(model), *n * sizeof *w);
    reptile_meta_free(meta);
    reptile_model_free(model);
    return w;
}

START_TEST(weights_do_not_depend_on_the_thread_count)
{
    size_t n1 = 0, n2 = 0;
    float *one = trained_weights(1, &n1), *two = trained_weights(2, &n2);
    ck_assert_uint_eq(n1, n2);
    ck_assert_msg(memcmp(one, two, n1 * sizeof *one) == 0,
                  "1 and 2 threads gave different weights");
    free(one);
    free(two);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("meta-miniimagenet");
    TCase *tc = tcase_create("colour set");
    tcase_add_unchecked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, colour_set_loads_as_84x84_rgb);
    tcase_add_test(tc, short_run_learns_above_chance);
    tcase_add_test(tc, weights_do_not_depend_on_the_thread_count);
    suite_add_tcase(s, tc);
    return s;
}

RP_TEST_MAIN(suite)
