/* What an atomic write replaces. 0.1 renamed its temporary file over
 * whatever the path named: `--checkpoint /dev/null` run as root replaced
 * the device with a regular file, and a checkpoint path that was a
 * symbolic link lost its link. The test uses a FIFO of its own in place of
 * /dev/null, so a regression cannot damage the machine. */
#include "testutil.h"
#include "tmpdir.h"
#include "core/atomic_file.h"

#include "reptile/reptile.h"

#include <sys/stat.h>
#include <unistd.h>


static reptile_model *tiny_model(void)
{
    reptile_model *m = NULL;
    ck_assert_int_eq(reptile_model_new(&m, 4, 4, 1), 0);
    ck_assert_int_eq(reptile_model_add_flatten(m), 0);
    ck_assert_int_eq(reptile_model_add_dense(m, 3), 0);
    ck_assert_int_eq(reptile_model_init(m, 1), 0);
    return m;
}

static int entries_in_tmp(void)
{
    char cmd[4300];
    snprintf(cmd, sizeof cmd, "test $(ls -A '%s' | wc -l) -eq 1", tmp_dir());
    return system(cmd) == 0 ? 1 : 0;
}

START_TEST(special_files_are_refused_not_replaced)
{
    const char *fifo = in_tmp("fifo");
    ck_assert_int_eq(mkfifo(fifo, 0600), 0);
    reptile_model *m = tiny_model();
    ck_assert_int_eq(reptile_model_save(m, fifo), REPTILE_EIO);
    ck_assert_ptr_nonnull(strstr(reptile_error_last(), "not a regular file"));
    ck_assert_ptr_nonnull(strstr(reptile_error_last(), fifo));
    struct stat st;
    ck_assert_int_eq(lstat(fifo, &st), 0);
    ck_assert_msg(S_ISFIFO(st.st_mode), "the FIFO was replaced");
    ck_assert_msg(entries_in_tmp(), "a temporary file was left behind");

    /* Through a link to it, and a folder. */
    const char *link = in_tmp("link");
    ck_assert_int_eq(symlink(fifo, link), 0);
    ck_assert_int_eq(reptile_model_save(m, link), REPTILE_EIO);
    ck_assert_int_eq(lstat(fifo, &st), 0);
    ck_assert(S_ISFIFO(st.st_mode));
    ck_assert_int_eq(rp_atomic_write(tmp_dir(), "x", 1), REPTILE_EIO);
    ck_assert_ptr_nonnull(strstr(reptile_error_last(), "not a regular file"));
    reptile_model_free(m);
}
END_TEST

START_TEST(a_link_keeps_pointing_at_the_new_file)
{
    const char *real = in_tmp("real.safetensors"), *link = in_tmp("link.safetensors");
    tw_write_bytes(real, "old", 3);
    ck_assert_int_eq(symlink("real.safetensors", link), 0);
    reptile_model *m = tiny_model();
    ck_assert_msg(reptile_model_save(m, link) == 0, "%s", reptile_error_last());
    struct stat st;
    ck_assert_int_eq(lstat(link, &st), 0);
    ck_assert_msg(S_ISLNK(st.st_mode), "the link was replaced by a regular file");
    reptile_model *back = NULL;
    ck_assert_int_eq(reptile_model_load(&back, real), 0);
    ck_assert_mem_eq(reptile_model_params(back), reptile_model_params(m),
                     reptile_model_num_params(m) * sizeof(float));
    reptile_model_free(back);

    /* A link to nowhere is an error, not a new file in its place. */
    const char *dangling = in_tmp("dangling");
    ck_assert_int_eq(symlink("missing/file", dangling), 0);
    ck_assert_int_eq(reptile_model_save(m, dangling), REPTILE_EIO);
    ck_assert_int_eq(lstat(dangling, &st), 0);
    ck_assert(S_ISLNK(st.st_mode));
    reptile_model_free(m);
}
END_TEST

static Suite *atomic_suite(void)
{
    Suite *s = suite_create("atomic-targets");
    TCase *tc = tcase_create("targets");
    tcase_add_checked_fixture(tc, tmp_setup, tmp_teardown);
    tcase_add_test(tc, special_files_are_refused_not_replaced);
    tcase_add_test(tc, a_link_keeps_pointing_at_the_new_file);
    suite_add_tcase(s, tc);
    return s;
}

RP_TEST_MAIN(atomic_suite)
