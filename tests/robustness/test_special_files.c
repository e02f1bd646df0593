/* Special files where a reader expects a regular one: a FIFO, or a link to
 * one, named like a PNG image or given as a checkpoint path. Opening a FIFO
 * for reading waits for a writer, so each load runs in a child process with
 * a deadline: a regression fails here within seconds instead of hanging. */
#include "testutil.h"
#include "synthetic.h"
#include "tmpdir.h"

#include "reptile/reptile.h"

#include <poll.h>
#include <signal.h>
#include <sys/wait.h>

enum { DEADLINE_MS = 10000 };


/* ---- running a load with a deadline ------------------------------------------------ */

typedef struct outcome {
    int rc;
    char msg[1024];
} outcome;

typedef int (*load_fn)(const void *arg);

/* Runs load(arg) in a child, which reports its return code and message
 * through a pipe; fails the test if the child has not answered within
 * DEADLINE_MS (it is then killed) or dies without answering. */
static outcome run_bounded(load_fn load, const void *arg, const char *what)
{
    int fds[2];
    ck_assert_int_eq(pipe(fds), 0);
    pid_t child = fork();
    ck_assert_int_ge(child, 0);
    if (child == 0) {
        close(fds[0]);
        outcome r = {0};
        r.rc = load(arg);
        snprintf(r.msg, sizeof r.msg, "%s", reptile_error_last());
        _exit(write(fds[1], &r, sizeof r) == (ssize_t)sizeof r ? 0 : 1);
    }
    close(fds[1]);
    struct pollfd p = {.fd = fds[0], .events = POLLIN};
    int ready = poll(&p, 1, DEADLINE_MS);
    outcome out = {0};
    /* sizeof out < PIPE_BUF: the child's write arrives whole. */
    ssize_t got = ready > 0 ? read(fds[0], &out, sizeof out) : -1;
    if (ready <= 0)
        kill(child, SIGKILL);
    int status = 0;
    waitpid(child, &status, 0);
    close(fds[0]);
    ck_assert_msg(ready > 0, "%s: still blocked after %d ms (killed)", what, DEADLINE_MS);
    ck_assert_msg(got == (ssize_t)sizeof out, "%s: the child died without answering (status %d)",
                  what, status);
    return out;
}

static void expect_error(const outcome *o, int code, const char *path, const char *what)
{
    ck_assert_msg(o->rc == code, "%s: got %d (%s), expected %d", what, o->rc, o->msg, code);
    ck_assert_msg(strstr(o->msg, path) != NULL, "%s: message \"%s\" does not name %s", what,
                  o->msg, path);
    ck_assert_msg(strstr(o->msg, "not a regular file") != NULL,
                  "%s: message \"%s\" does not say \"not a regular file\"", what, o->msg);
}

/* ---- data sets ----------------------------------------------------------------------- */

static void write_image(const char *path)
{
    ck_assert_int_eq(tw_write_png(path, 12, 12, PNG_COLOR_TYPE_GRAY, 8, 0), 0);
}

/* tmp_dir()/fifo, and two trees whose images include a "*.png" (or, with
 * jpg, a "*.JPG") link to it: folder/{a,b}/ (the link is folder/b/3.png)
 * and the Omniglot layout omniglot/images_background/Alpha/character0{1,2}/
 * (the link is character02/0002_03.png). Returns the link in the tree the
 * test opens. */
static const char *make_trees_with_fifo_link(int omniglot, int jpg)
{
    ck_assert_int_eq(mkfifo(in_tmp("fifo"), 0600), 0);
    tw_mkdir(in_tmp("folder"));
    tw_mkdir(in_tmp("folder/a"));
    tw_mkdir(in_tmp("folder/b"));
    tw_mkdir(in_tmp("omniglot"));
    tw_mkdir(in_tmp("omniglot/images_background"));
    tw_mkdir(in_tmp("omniglot/images_background/Alpha"));
    tw_mkdir(in_tmp("omniglot/images_background/Alpha/character01"));
    tw_mkdir(in_tmp("omniglot/images_background/Alpha/character02"));
    static const char *const images[] = {
        "folder/a/1.png", "folder/a/2.png", "folder/a/3.png", "folder/b/1.png", "folder/b/2.png",
        "omniglot/images_background/Alpha/character01/0001_01.png",
        "omniglot/images_background/Alpha/character01/0001_02.png",
        "omniglot/images_background/Alpha/character01/0001_03.png",
        "omniglot/images_background/Alpha/character02/0002_01.png",
        "omniglot/images_background/Alpha/character02/0002_02.png",
    };
    for (size_t i = 0; i < sizeof images / sizeof images[0]; ++i)
        write_image(in_tmp(images[i]));
    const char *fifo = in_tmp("fifo");
    const char *folder_link = jpg ? "folder/b/3.JPG" : "folder/b/3.png";
    const char *omniglot_link = jpg ? "omniglot/images_background/Alpha/character02/0002_03.JPG"
                                    : "omniglot/images_background/Alpha/character02/0002_03.png";
    ck_assert_int_eq(symlink(fifo, in_tmp(folder_link)), 0);
    ck_assert_int_eq(symlink(fifo, in_tmp(omniglot_link)), 0);
    return in_tmp(omniglot ? omniglot_link : folder_link);
}

typedef struct open_args {
    int omniglot, threads;
} open_args;

static int open_dataset(const void *arg)
{
    const open_args *a = arg;
    reptile_image_options o = REPTILE_IMAGE_OPTIONS_INIT;
    o.threads = a->threads;
    reptile_dataset *ds = (reptile_dataset *)&ds; /* must come back NULL */
    int rc = a->omniglot ? reptile_dataset_open_omniglot(&ds, in_tmp("omniglot"), "background", &o)
                         : reptile_dataset_open_folder(&ds, in_tmp("folder"), &o);
    if (rc && ds != NULL)
        return 1; /* not a REPTILE_E* code: expect_error reports it */
    reptile_dataset_free(ds);
    return rc;
}

/* Loop index i: bit 0 = Omniglot layout (else folder), bit 1 = 2 threads,
 * bit 2 = the link is named *.JPG (JPEG names take the same path). */
START_TEST(image_link_to_a_fifo_fails_with_eio)
{
    open_args a = {_i & 1, _i & 2 ? 2 : 1};
    char what[64];
    snprintf(what, sizeof what, "%s loader, %d thread%s, .%s", a.omniglot ? "Omniglot" : "folder",
             a.threads, a.threads > 1 ? "s" : "", _i & 4 ? "JPG" : "png");
    char link[4200];
    snprintf(link, sizeof link, "%s", make_trees_with_fifo_link(a.omniglot, _i & 4));
    outcome o = run_bounded(open_dataset, &a, what);
    expect_error(&o, REPTILE_EIO, link, what);
}
END_TEST

/* ---- checkpoints ---------------------------------------------------------------------- */

static int load_model(const void *arg)
{
    reptile_model *m = (reptile_model *)&m;
    int rc = reptile_model_load(&m, arg);
    if (rc && m != NULL)
        return 1; /* not a REPTILE_E* code: expect_error reports it */
    reptile_model_free(m);
    return rc;
}

static int load_options(const void *arg)
{
    reptile_meta_options o;
    return reptile_meta_load_options(&o, REPTILE_META_OPTIONS_VERSION, arg);
}

typedef struct resume_args {
    reptile_meta *meta;
    const char *path;
} resume_args;

static int resume(const void *arg)
{
    const resume_args *a = arg;
    return reptile_meta_resume(a->meta, a->path);
}

static reptile_meta *small_meta(reptile_model **model)
{
    ck_assert_int_eq(reptile_model_new(model, RP_SYN_SIDE, RP_SYN_SIDE, 1), 0);
    ck_assert_int_eq(reptile_model_add_flatten(*model), 0);
    ck_assert_int_eq(reptile_model_add_dense(*model, 5), 0);
    ck_assert_int_eq(reptile_model_init(*model, 1), 0);
    reptile_meta_options o;
    ck_assert_int_eq(reptile_meta_options_preset(&o, REPTILE_META_OPTIONS_VERSION, "keras-tutorial"), 0);
    reptile_meta *meta = NULL;
    ck_assert_int_eq(reptile_meta_new(&meta, *model, &o), 0);
    return meta;
}

/* A FIFO, and a link to one, given as a model, training state or options
 * file: every reader refuses it at once. Loop index i: bit 0 = the link
 * (else the FIFO itself), i / 2 = the reader. */
START_TEST(checkpoint_path_that_is_a_fifo_fails_at_once)
{
    const char *fifo = in_tmp("ckpt.fifo"), *link = in_tmp("ckpt.safetensors");
    ck_assert_int_eq(mkfifo(fifo, 0600), 0);
    ck_assert_int_eq(symlink(fifo, link), 0);
    const char *p = _i & 1 ? link : fifo;
    reptile_model *model = NULL;
    reptile_meta *meta = small_meta(&model);
    resume_args r = {meta, p};
    static const char *const names[3] = {"reptile_model_load", "reptile_meta_load_options",
                                         "reptile_meta_resume"};
    const load_fn readers[3] = {load_model, load_options, resume};
    const void *args[3] = {p, p, &r};
    char what[4400];
    snprintf(what, sizeof what, "%s(%s)", names[_i / 2], p);
    outcome o = run_bounded(readers[_i / 2], args[_i / 2], what);
    expect_error(&o, REPTILE_EIO, p, what);
    reptile_meta_free(meta);
    reptile_model_free(model);
}
END_TEST

static Suite *special_files_suite(void)
{
    Suite *s = suite_create("special-files");
    TCase *tc = tcase_create("special-files");
    tcase_add_checked_fixture(tc, tmp_setup, tmp_teardown);
    tcase_set_timeout(tc, 60); /* above DEADLINE_MS: a hang is reported as one */
    tcase_add_loop_test(tc, image_link_to_a_fifo_fails_with_eio, 0, 8);
    tcase_add_loop_test(tc, checkpoint_path_that_is_a_fifo_fails_at_once, 0, 6);
    suite_add_tcase(s, tc);
    return s;
}

RP_TEST_MAIN(special_files_suite)
