/* Episode sampler: distinctness, labels, batch layout, determinism,
 * uniformity (chi-square), with-replacement duplicate rates, errors. */
#include "testutil.h"

#include "core/clock.h"
#include "core/rng.h"
#include "data/dataset_internal.h"
#include "data/sampler.h"
#include "reptile/dataset.h"
#include "reptile/error.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* n_classes classes of per_class 1x1x1 images; pixel value = global index. */
static reptile_dataset *make_ds(int n_classes, int per_class)
{
    int n = n_classes * per_class;
    float *img = malloc(sizeof(float) * (size_t)n);
    int32_t *lab = malloc(sizeof(int32_t) * (size_t)n);
    for (int i = 0; i < n; ++i) {
        img[i] = (float)i;
        lab[i] = i / per_class;
    }
    reptile_dataset *ds = NULL;
    ck_assert_int_eq(reptile_dataset_from_memory(&ds, img, lab, n, 1, 1, 1), 0);
    free(img);
    free(lab);
    return ds;
}

static int class_of_image(const reptile_dataset *ds, int32_t g)
{
    for (int k = 0; k < ds->n_classes; ++k)
        if (g >= ds->classes[k].first && g < ds->classes[k].first + ds->classes[k].count)
            return k;
    return -1;
}

START_TEST(config_validation)
{
    rp_episode ep;
    rp_episode_config bad[] = {
        {0, 1, 0, 1, 1, 0}, {5, 0, 0, 1, 1, 0}, {5, 1, -1, 1, 1, 0}, {5, 1, 0, 0, 1, 0}, {5, 1, 0, 1, 0, 0},
        {100000, 100000, 0, 1, 100, 0},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; ++i) {
        ck_assert_int_eq(rp_episode_init(&ep, &bad[i]), REPTILE_EINVAL);
        ck_assert_ptr_null(ep.order);
        rp_episode_free(&ep);
    }
    ck_assert_int_eq(rp_episode_init(NULL, &bad[0]), REPTILE_EINVAL);
    rp_episode_config ok = {5, 20, 0, 25, 4, 1};
    ck_assert_int_eq(rp_episode_init(&ep, &ok), 0);
    ck_assert_int_eq(ep.n_support, 100);
    ck_assert_int_eq(ep.n_query, 0);
    ck_assert_int_eq(ep.n_batches, 16); /* the tutorial's 16 SGD steps */
    rp_episode_free(&ep);
    rp_episode_free(&ep); /* idempotent */
}
END_TEST

START_TEST(without_replacement_is_distinct)
{
    reptile_dataset *ds = make_ds(10, 6);
    rp_episode_config cfg = {5, 3, 2, 4, 3, 0};
    rp_episode ep;
    ck_assert_int_eq(rp_episode_init(&ep, &cfg), 0);
    for (int t = 0; t < 500; ++t) {
        rp_rng rng;
        rp_rng_init(&rng, 42, (uint64_t)t, 0);
        ck_assert_int_eq(rp_episode_sample(&ep, ds, &rng), 0);
        for (int a = 0; a < 5; ++a) {
            ck_assert(ep.class_of_label[a] >= 0 && ep.class_of_label[a] < 10);
            for (int b = a + 1; b < 5; ++b)
                ck_assert_int_ne(ep.class_of_label[a], ep.class_of_label[b]);
        }
        int32_t all[25];
        for (int i = 0; i < ep.n_support; ++i) {
            ck_assert(ep.support_label[i] == i / 3);
            ck_assert_int_eq(class_of_image(ds, ep.support_image[i]), ep.class_of_label[ep.support_label[i]]);
            all[i] = ep.support_image[i];
        }
        for (int i = 0; i < ep.n_query; ++i) {
            ck_assert(ep.query_label[i] == i / 2);
            ck_assert_int_eq(class_of_image(ds, ep.query_image[i]), ep.class_of_label[ep.query_label[i]]);
            all[ep.n_support + i] = ep.query_image[i];
        }
        for (int i = 0; i < 25; ++i)
            for (int j = i + 1; j < 25; ++j)
                ck_assert_int_ne(all[i], all[j]);
        /* gather returns the pixels of those images (value = global index). */
        float px[15];
        rp_dataset_gather(ds, ep.support_image, ep.n_support, px);
        for (int i = 0; i < 15; ++i)
            ck_assert(px[i] == (float)ep.support_image[i]);
    }
    /* Exactly as many images as support + query: all of them are used. */
    rp_episode_free(&ep);
    rp_episode_config full = {10, 4, 2, 7, 1, 0};
    ck_assert_int_eq(rp_episode_init(&ep, &full), 0);
    rp_rng rng;
    rp_rng_init(&rng, 1, 2, 3);
    ck_assert_int_eq(rp_episode_sample(&ep, ds, &rng), 0);
    int seen[60] = {0};
    for (int i = 0; i < ep.n_support; ++i)
        seen[ep.support_image[i]]++;
    for (int i = 0; i < ep.n_query; ++i)
        seen[ep.query_image[i]]++;
    for (int i = 0; i < 60; ++i)
        ck_assert_int_eq(seen[i], 1);
    rp_episode_free(&ep);
    reptile_dataset_free(ds);
}
END_TEST

START_TEST(batches_cover_each_epoch_once)
{
    reptile_dataset *ds = make_ds(8, 10);
    const int sizes[] = {1, 4, 7, 25, 30, 100};
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; ++s) {
        rp_episode_config cfg = {5, 6, 1, sizes[s], 3, 0}; /* 30 support images */
        rp_episode ep;
        ck_assert_int_eq(rp_episode_init(&ep, &cfg), 0);
        rp_rng rng;
        rp_rng_init(&rng, 7, s, 0);
        ck_assert_int_eq(rp_episode_sample(&ep, ds, &rng), 0);
        int per_epoch = (30 + sizes[s] - 1) / sizes[s];
        ck_assert_int_eq(ep.n_batches, 3 * per_epoch);
        ck_assert_int_eq(ep.batch_start[0], 0);
        ck_assert_int_eq(ep.batch_start[ep.n_batches], 90);
        for (int r = 0; r < 3; ++r) {
            int count[30] = {0};
            for (int b = r * per_epoch; b < (r + 1) * per_epoch; ++b) {
                int len = rp_episode_batch_len(&ep, b);
                int last = b == (r + 1) * per_epoch - 1;
                ck_assert_int_eq(len, last ? 30 - (per_epoch - 1) * sizes[s] : sizes[s]);
                for (int j = ep.batch_start[b]; j < ep.batch_start[b + 1]; ++j) {
                    ck_assert(ep.order[j] >= 0 && ep.order[j] < 30);
                    count[ep.order[j]]++;
                    ck_assert_int_eq(j / 30, r); /* batches never cross epochs */
                }
            }
            for (int i = 0; i < 30; ++i)
                ck_assert_int_eq(count[i], 1);
        }
        /* Epochs are shuffled independently. */
        ck_assert(memcmp(ep.order, ep.order + 30, 30 * sizeof(int32_t)) != 0 ||
                  memcmp(ep.order + 30, ep.order + 60, 30 * sizeof(int32_t)) != 0);
        rp_episode_free(&ep);
    }
    reptile_dataset_free(ds);
}
END_TEST

START_TEST(same_key_same_episode)
{
    reptile_dataset *ds = make_ds(20, 20);
    for (int repl = 0; repl <= 1; ++repl) {
        rp_episode_config cfg = {5, 5, 1, 10, 2, repl};
        rp_episode a, b;
        ck_assert_int_eq(rp_episode_init(&a, &cfg), 0);
        ck_assert_int_eq(rp_episode_init(&b, &cfg), 0);
        rp_rng r1, r2;
        rp_rng_init(&r1, 99, 5, 1);
        rp_rng_init(&r2, 99, 5, 1);
        ck_assert_int_eq(rp_episode_sample(&a, ds, &r1), 0);
        ck_assert_int_eq(rp_episode_sample(&b, ds, &r2), 0);
        ck_assert_int_eq(memcmp(a.support_image, b.support_image, 25 * sizeof(int32_t)), 0);
        ck_assert_int_eq(memcmp(a.query_image, b.query_image, 5 * sizeof(int32_t)), 0);
        ck_assert_int_eq(memcmp(a.class_of_label, b.class_of_label, 5 * sizeof(int32_t)), 0);
        ck_assert_int_eq(memcmp(a.order, b.order, 50 * sizeof(int32_t)), 0);
        rp_rng_init(&r2, 99, 6, 1);
        ck_assert_int_eq(rp_episode_sample(&b, ds, &r2), 0);
        ck_assert(memcmp(a.support_image, b.support_image, 25 * sizeof(int32_t)) != 0);
        rp_episode_free(&a);
        rp_episode_free(&b);
    }
    reptile_dataset_free(ds);
}
END_TEST

/* Chi-square statistic of counts against a uniform expectation. */
static double chi2(const long *count, int k, double expected)
{
    double x = 0.0;
    for (int i = 0; i < k; ++i)
        x += ((double)count[i] - expected) * ((double)count[i] - expected) / expected;
    return x;
}

START_TEST(class_picks_are_uniform)
{
    /* 12 classes; 11 degrees of freedom: P(chi2 > 31.26) = 0.001. */
    reptile_dataset *ds = make_ds(12, 4);
    const int draws = 20000;
    for (int repl = 0; repl <= 1; ++repl) {
        rp_episode_config cfg = {3, 2, 1, 6, 1, repl};
        rp_episode ep;
        ck_assert_int_eq(rp_episode_init(&ep, &cfg), 0);
        long cls[12] = {0}, first[12] = {0}, img[4] = {0};
        for (int t = 0; t < draws; ++t) {
            rp_rng rng;
            rp_rng_init(&rng, 2024, (uint64_t)t, (uint64_t)repl);
            ck_assert_int_eq(rp_episode_sample(&ep, ds, &rng), 0);
            for (int l = 0; l < 3; ++l)
                cls[ep.class_of_label[l]]++;
            first[ep.class_of_label[0]]++; /* label order is random too */
            img[ep.support_image[0] % 4]++;
        }
        double x = chi2(cls, 12, 3.0 * draws / 12);
        ck_assert_msg(x < 31.26, "classes (replacement %d): chi2 = %g", repl, x);
        x = chi2(first, 12, (double)draws / 12);
        ck_assert_msg(x < 31.26, "label 0 (replacement %d): chi2 = %g", repl, x);
        x = chi2(img, 4, (double)draws / 4); /* 3 dof: P(chi2 > 16.27) = 0.001 */
        ck_assert_msg(x < 16.27, "images (replacement %d): chi2 = %g", repl, x);
        rp_episode_free(&ep);
    }
    reptile_dataset_free(ds);
}
END_TEST

START_TEST(with_replacement_duplicates_at_expected_rate)
{
    /* 5 classes drawn from 10 with replacement: P(some class twice) =
     * 1 - 10*9*8*7*6/10^5 = 0.6976. One query and 5 support images from a
     * class of 6: P(query equals a support image) = 1 - (5/6)^5 = 0.5981,
     * P(support images not all distinct) = 1 - 6!/6^5 = 0.9074. */
    reptile_dataset *ds = make_ds(10, 6);
    rp_episode_config cfg = {5, 5, 1, 25, 1, 1};
    rp_episode ep;
    ck_assert_int_eq(rp_episode_init(&ep, &cfg), 0);
    const int draws = 20000;
    long dup_cls = 0, dup_query = 0, dup_support = 0, n_q = 0;
    for (int t = 0; t < draws; ++t) {
        rp_rng rng;
        rp_rng_init(&rng, 5, (uint64_t)t, 0);
        ck_assert_int_eq(rp_episode_sample(&ep, ds, &rng), 0);
        int d = 0;
        for (int a = 0; a < 5; ++a)
            for (int b = a + 1; b < 5; ++b)
                d |= ep.class_of_label[a] == ep.class_of_label[b];
        dup_cls += d;
        for (int l = 0; l < 5; ++l) {
            int q = 0, s = 0;
            for (int i = 0; i < 5; ++i) {
                q |= ep.query_image[l] == ep.support_image[l * 5 + i];
                for (int j = i + 1; j < 5; ++j)
                    s |= ep.support_image[l * 5 + i] == ep.support_image[l * 5 + j];
            }
            dup_query += q;
            dup_support += s;
            ++n_q;
        }
    }
    double p_cls = (double)dup_cls / draws, p_q = (double)dup_query / n_q, p_s = (double)dup_support / n_q;
    ck_assert_msg(fabs(p_cls - 0.6976) < 0.015, "class duplicates %g", p_cls);
    ck_assert_msg(fabs(p_q - 0.5981) < 0.01, "query duplicates %g", p_q);
    ck_assert_msg(fabs(p_s - 0.9074) < 0.01, "support duplicates %g", p_s);
    rp_episode_free(&ep);
    reptile_dataset_free(ds);
}
END_TEST

START_TEST(too_few_classes_or_images)
{
    reptile_dataset *ds = make_ds(4, 3);
    rp_episode ep;
    rp_rng rng;
    rp_rng_init(&rng, 1, 1, 1);
    rp_episode_config five = {5, 1, 0, 5, 1, 0};
    ck_assert_int_eq(rp_episode_init(&ep, &five), 0);
    ck_assert_int_eq(rp_episode_sample(&ep, ds, &rng), REPTILE_EDATA);
    ck_assert_ptr_nonnull(strstr(reptile_error_last(), "5 distinct classes"));
    rp_episode_free(&ep);
    five.with_replacement = 1; /* the tutorial's random.choices allows it */
    ck_assert_int_eq(rp_episode_init(&ep, &five), 0);
    ck_assert_int_eq(rp_episode_sample(&ep, ds, &rng), 0);
    rp_episode_free(&ep);
    rp_episode_config shots = {2, 3, 1, 5, 1, 0};
    ck_assert_int_eq(rp_episode_init(&ep, &shots), 0);
    ck_assert_int_eq(rp_episode_sample(&ep, ds, &rng), REPTILE_EDATA);
    ck_assert_ptr_nonnull(strstr(reptile_error_last(), "has 3 images"));
    shots.with_replacement = 1;
    rp_episode_free(&ep);
    ck_assert_int_eq(rp_episode_init(&ep, &shots), 0);
    ck_assert_int_eq(rp_episode_sample(&ep, ds, &rng), 0);
    ck_assert_int_eq(rp_episode_sample(NULL, ds, &rng), REPTILE_EINVAL);
    rp_episode_free(&ep);
    reptile_dataset_free(ds);
}
END_TEST

START_TEST(tutorial_task_cost)
{
    /* An 8-bit 28x28 set the size of images_background (964 x 20). */
    reptile_dataset *ds = make_ds(964, 20);
    uint8_t *pix = malloc((size_t)964 * 20 * 784);
    for (size_t i = 0; i < (size_t)964 * 20 * 784; ++i)
        pix[i] = (uint8_t)(i * 31);
    free(ds->pixf);
    ds->pixf = NULL;
    ds->pix8 = pix;
    ds->h = ds->w = 28;
    rp_episode_config cfg = {5, 20, 0, 25, 4, 1};
    rp_episode ep;
    ck_assert_int_eq(rp_episode_init(&ep, &cfg), 0);
    float *batch = malloc(sizeof(float) * 100 * 784);
    const int n = getenv("RP_BENCH") ? 20000 : 2000;
    double t0 = rp_now_s();
    for (int t = 0; t < n; ++t) {
        rp_rng rng;
        rp_rng_init(&rng, 1, (uint64_t)t, 0);
        rp_episode_sample(&ep, ds, &rng);
        rp_dataset_gather(ds, ep.support_image, ep.n_support, batch);
    }
    double us = (rp_now_s() - t0) / n * 1e6;
    printf("data-sampler: 5-way 20-shot task (4 x 4 batches of 25) sample + gather of 100 28x28 images: %.2f us\n",
           us);
    ck_assert(batch[0] >= 0.0f && batch[0] <= 1.0f);
    free(batch);
    rp_episode_free(&ep);
    reptile_dataset_free(ds);
}
END_TEST

static Suite *sampler_suite(void)
{
    Suite *s = suite_create("data-sampler");
    TCase *tc = tcase_create("sampler");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, config_validation);
    tcase_add_test(tc, without_replacement_is_distinct);
    tcase_add_test(tc, batches_cover_each_epoch_once);
    tcase_add_test(tc, same_key_same_episode);
    tcase_add_test(tc, class_picks_are_uniform);
    tcase_add_test(tc, with_replacement_duplicates_at_expected_rate);
    tcase_add_test(tc, too_few_classes_or_images);
    tcase_add_test(tc, tutorial_task_cost);
    suite_add_tcase(s, tc);
    return s;
}

RP_TEST_MAIN(sampler_suite)
