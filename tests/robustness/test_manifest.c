/* The paper split's manifest is written only for a split that loaded, and
 * atomically (issue 11: a failed load left a manifest behind, written
 * through a fixed ".tmp" name). A synthetic Omniglot tree of 1,201
 * one-image characters is the smallest the paper split accepts. */
#include "testutil.h"
#include "tmpdir.h"

#include "reptile/reptile.h"

enum { BACKGROUND = 1000, EVALUATION = 201, PER_ALPHABET = 100 };


/* root/<split>/Alphabet<a>/character<c>/<id>_01.png */
static void make_split(const char *root, const char *split, int characters)
{
    char path[4400];
    snprintf(path, sizeof path, "%s/%s", root, split);
    tw_mkdir(path);
    for (int k = 0; k < characters; ++k) {
        if (k % PER_ALPHABET == 0) {
            snprintf(path, sizeof path, "%s/%s/Alphabet%02d", root, split, k / PER_ALPHABET);
            tw_mkdir(path);
        }
        snprintf(path, sizeof path, "%s/%s/Alphabet%02d/character%03d", root, split,
                 k / PER_ALPHABET, k % PER_ALPHABET + 1);
        tw_mkdir(path);
        snprintf(path, sizeof path, "%s/%s/Alphabet%02d/character%03d/%04d_01.png", root, split,
                 k / PER_ALPHABET, k % PER_ALPHABET + 1, k + 1);
        ck_assert_int_eq(tw_write_png(path, 12, 12, PNG_COLOR_TYPE_GRAY, 8, 0), 0);
    }
}

static const char *make_tree(void)
{
    static char root[4200];
    snprintf(root, sizeof root, "%s/omniglot", tmp_dir());
    tw_mkdir(root);
    make_split(root, "images_background", BACKGROUND);
    make_split(root, "images_evaluation", EVALUATION);
    return root;
}

static int count_lines(const char *path)
{
    size_t n = 0;
    unsigned char *text = tw_read_bytes(path, &n);
    int lines = 0;
    for (size_t i = 0; i < n; ++i)
        lines += text[i] == '\n';
    free(text);
    return lines;
}

START_TEST(manifest_of_a_split_that_loaded)
{
    const char *root = make_tree();
    char manifest[4400];
    snprintf(manifest, sizeof manifest, "%s/split.tsv", tmp_dir());
    reptile_dataset *train = NULL, *test = NULL;
    ck_assert_msg(reptile_dataset_open_omniglot_paper(&train, &test, root, 3, NULL, manifest) == 0,
                  "%s", reptile_error_last());
    ck_assert_int_eq(count_lines(manifest), 1 + BACKGROUND + EVALUATION);
    reptile_dataset_free(train);
    reptile_dataset_free(test);
}
END_TEST

START_TEST(no_manifest_when_the_split_fails_to_load)
{
    const char *root = make_tree();
    char bad[4400], manifest[4400];
    /* The last character of the evaluation folder: loaded last. */
    snprintf(bad, sizeof bad, "%s/images_evaluation/Alphabet02/character001/1201_01.png", root);
    tw_write_bytes(bad, "not a png", 9);
    snprintf(manifest, sizeof manifest, "%s/split.tsv", tmp_dir());

    reptile_dataset *train = NULL, *test = NULL;
    ck_assert_int_eq(reptile_dataset_open_omniglot_paper(&train, &test, root, 3, NULL, manifest),
                     REPTILE_EFORMAT);
    ck_assert_ptr_null(train);
    ck_assert_ptr_null(test);
    ck_assert_msg(access(manifest, F_OK) != 0, "a failed load left %s behind", manifest);

    /* An earlier manifest at that path survives a failed load untouched. */
    tw_write_bytes(manifest, "earlier\n", 8);
    ck_assert_int_eq(reptile_dataset_open_omniglot_paper(&train, &test, root, 3, NULL, manifest),
                     REPTILE_EFORMAT);
    size_t n = 0;
    unsigned char *text = tw_read_bytes(manifest, &n);
    ck_assert_int_eq(n, 8);
    ck_assert_mem_eq(text, "earlier\n", 8);
    free(text);
}
END_TEST

START_TEST(unwritable_manifest_is_an_io_error_naming_it)
{
    const char *root = make_tree();
    char manifest[4400];
    snprintf(manifest, sizeof manifest, "%s/no/such/folder/split.tsv", tmp_dir());
    reptile_dataset *train = NULL, *test = NULL;
    ck_assert_int_eq(reptile_dataset_open_omniglot_paper(&train, &test, root, 3, NULL, manifest),
                     REPTILE_EIO);
    ck_assert_ptr_nonnull(strstr(reptile_error_last(), manifest));
    ck_assert_ptr_null(train);
}
END_TEST

static Suite *manifest_suite(void)
{
    Suite *s = suite_create("manifest");
    TCase *tc = tcase_create("paper-split");
    tcase_add_checked_fixture(tc, tmp_setup, tmp_teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, manifest_of_a_split_that_loaded);
    tcase_add_test(tc, no_manifest_when_the_split_fails_to_load);
    tcase_add_test(tc, unwritable_manifest_is_an_io_error_naming_it);
    suite_add_tcase(s, tc);
    return s;
}

RP_TEST_MAIN(manifest_suite)
