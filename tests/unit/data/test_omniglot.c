/* The real Omniglot tree (scripts/fetch-omniglot): counts, metadata, the
 * tutorial pipeline, the paper split and its manifest, load time. Skipped
 * when the data are absent (set RP_OMNIGLOT_DIR to use another copy). */
#include "testutil.h"

#include "core/clock.h"
#include "data/dataset_internal.h"
#include "data/image_decode.h"
#include "data/resize.h"
#include "data/sampler.h"
#include "reptile/dataset.h"
#include "reptile/error.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *root(void)
{
    const char *r = getenv("RP_OMNIGLOT_DIR");
    return r && *r ? r : RP_FIXTURE_DIR "/../../data/omniglot";
}

static int have_data(void)
{
    char p[4200];
    struct stat st;
    snprintf(p, sizeof p, "%s/images_evaluation", root());
    if (stat(p, &st) != 0) {
        printf("data-omniglot: %s not found, skipping (run scripts/fetch-omniglot)\n", p);
        return 0;
    }
    return 1;
}

START_TEST(both_splits)
{
    if (!have_data())
        return;
    reptile_dataset *bg = NULL, *ev = NULL;
    double t0 = rp_now_s();
    int rc = reptile_dataset_open_omniglot(&bg, root(), "background", NULL);
    ck_assert_msg(rc == 0, "%s", reptile_error_last());
    rc = reptile_dataset_open_omniglot(&ev, root(), "evaluation", NULL);
    ck_assert_msg(rc == 0, "%s", reptile_error_last());
    double t1 = rp_now_s();
    printf("data-omniglot: loaded both splits (32,460 PNGs -> 28x28 uint8, 1 thread) in %.3f s, %.1f MB of pixels\n",
           t1 - t0, (double)(bg->n_stored + ev->n_stored) * 784 / 1e6);
    ck_assert_int_eq(reptile_dataset_num_classes(bg), 964);
    ck_assert_int_eq(reptile_dataset_num_images(bg), 19280);
    ck_assert_int_eq(reptile_dataset_num_classes(ev), 659);
    ck_assert_int_eq(reptile_dataset_num_images(ev), 13180);
    const char *alpha, *chr;
    int id;
    ck_assert_int_eq(reptile_dataset_class_info(bg, 0, &alpha, &chr, &id, NULL), 0);
    ck_assert_str_eq(alpha, "Alphabet_of_the_Magi");
    ck_assert_str_eq(chr, "character01");
    ck_assert_int_eq(id, 709);
    ck_assert_int_eq(reptile_dataset_class_info(ev, 0, &alpha, &chr, &id, NULL), 0);
    ck_assert_str_eq(alpha, "Angelic");
    ck_assert_int_eq(id, 965);
    for (int k = 0; k < 964; ++k)
        ck_assert_int_eq(reptile_dataset_class_size(bg, k), 20);

    /* The tutorial pipeline on one real file. */
    char p[4200];
    snprintf(p, sizeof p, "%s/images_background/Alphabet_of_the_Magi/character01/0709_03.png", root());
    rp_image_decoder dec;
    rp_image_decoder_init(&dec);
    rp_image img;
    ck_assert_int_eq(rp_image_decode_file(&dec, p, 1, &img), 0);
    ck_assert(img.width == 105 && img.height == 105);
    float want[784], got[784];
    ck_assert_int_eq(rp_resize(img.data, 105, 105, 1, want, 28, 28, RP_FILTER_BILINEAR), 0);
    rp_image_decoder_free(&dec);
    ck_assert_int_eq(reptile_dataset_get_image(bg, 0, 2, got), 0);
    float ink = 0.0f;
    for (int i = 0; i < 784; ++i) {
        ck_assert(fabsf(got[i] - want[i]) <= 0.5f / 255.0f + 1e-6f);
        ink += 1.0f - got[i];
    }
    ck_assert(ink > 10.0f && ink < 400.0f);

    /* Sampling cost on the real set. */
    rp_episode_config cfg = {5, 20, 0, 25, 4, 1};
    rp_episode ep;
    ck_assert_int_eq(rp_episode_init(&ep, &cfg), 0);
    float *batch = malloc(sizeof(float) * 100 * 784);
    t0 = rp_now_s();
    for (int t = 0; t < 5000; ++t) {
        rp_rng rng;
        rp_rng_init(&rng, 3, (uint64_t)t, 0);
        ck_assert_int_eq(rp_episode_sample(&ep, bg, &rng), 0);
        rp_dataset_gather(bg, ep.support_image, ep.n_support, batch);
    }
    printf("data-omniglot: tutorial training task sample + gather: %.2f us\n", (rp_now_s() - t0) / 5000 * 1e6);
    free(batch);
    rp_episode_free(&ep);
    reptile_dataset_free(bg);
    reptile_dataset_free(ev);
}
END_TEST

START_TEST(paper_split)
{
    if (!have_data())
        return;
    char manifest[64];
    snprintf(manifest, sizeof manifest, "/tmp/rp-manifest-%ld.tsv", (long)getpid());
    reptile_image_options o = REPTILE_IMAGE_OPTIONS_INIT;
    o.rotations = 1;
    reptile_dataset *tr = NULL, *te = NULL;
    int rc = reptile_dataset_open_omniglot_paper(&tr, &te, root(), 0, &o, manifest);
    ck_assert_msg(rc == 0, "%s", reptile_error_last());
    ck_assert_int_eq(reptile_dataset_num_classes(tr), 4800);
    ck_assert_int_eq(reptile_dataset_num_images(tr), 96000);
    ck_assert_int_eq(tr->n_stored, 24000); /* rotations share pixels */
    ck_assert_int_eq(reptile_dataset_num_classes(te), 423);
    ck_assert_int_eq(reptile_dataset_num_images(te), 8460);
    FILE *f = fopen(manifest, "r");
    ck_assert_ptr_nonnull(f);
    char line[512];
    ck_assert_ptr_nonnull(fgets(line, sizeof line, f));
    ck_assert_int_eq(line[0], '#');
    int n_train = 0, n_test = 0, seen[1624] = {0};
    while (fgets(line, sizeof line, f)) {
        char set[16], split[32], alpha[128], chr[64];
        int id;
        ck_assert_int_eq(sscanf(line, "%15s %31s %127s %63s %d", set, split, alpha, chr, &id), 5);
        ck_assert(id >= 1 && id <= 1623);
        seen[id]++;
        const char *a, *c;
        int cid, rot;
        if (!strcmp(set, "train")) {
            reptile_dataset_class_info(tr, 4 * n_train, &a, &c, &cid, &rot);
            ++n_train;
        } else {
            reptile_dataset_class_info(te, n_test, &a, &c, &cid, &rot);
            ++n_test;
        }
        ck_assert_str_eq(a, alpha);
        ck_assert_str_eq(c, chr);
        ck_assert_int_eq(cid, id);
        ck_assert_int_eq(rot, 0);
    }
    fclose(f);
    remove(manifest);
    ck_assert_int_eq(n_train, 1200);
    ck_assert_int_eq(n_test, 423);
    for (int i = 1; i <= 1623; ++i)
        ck_assert_int_eq(seen[i], 1);
    reptile_dataset_free(tr);
    reptile_dataset_free(te);
}
END_TEST

static Suite *omniglot_suite(void)
{
    Suite *s = suite_create("data-omniglot");
    TCase *tc = tcase_create("omniglot");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, both_splits);
    tcase_add_test(tc, paper_split);
    suite_add_tcase(s, tc);
    return s;
}

RP_TEST_MAIN(omniglot_suite)
