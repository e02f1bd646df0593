/* Checkpoints: model round trips, bit-identical meta-training resume (several
 * k, 1 and 2 threads, SGD and Adam with carried state), rejection of bad
 * files with a message saying what is wrong, and atomic writes (injected
 * failures and a writer killed mid-way leave the previous file intact). */
#include "testutil.h"
#include "synthetic.h"
#include "core/atomic_file.h"
#include "core/rng.h"
#include "core/safetensors.h"
#include "meta/meta_internal.h"
#include "model/checkpoint_internal.h"
#include "model/model_internal.h"
#include "model/optimizer_internal.h"
#include "reptile/reptile.h"

#include <dirent.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* ---- helpers ------------------------------------------------------------------- */

enum { SIDE = RP_SYN_SIDE };

static char tmpdir[256];

static void make_tmpdir(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/rp-ckpt-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static const char *tmp_path(const char *name)
{
    static char buf[4][512];
    static int next;
    char *p = buf[next++ % 4];
    snprintf(p, 512, "%s/%s", tmpdir, name);
    return p;
}

static void remove_tmpdir(void)
{
    DIR *d = opendir(tmpdir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (e->d_name[0] != '.')
            unlink(tmp_path(e->d_name));
    closedir(d);
    rmdir(tmpdir);
}

/* Names in tmpdir containing ".tmp." (leftover temporary files). */
static int count_temp_files(void)
{
    DIR *d = opendir(tmpdir);
    ck_assert_ptr_nonnull(d);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        n += strstr(e->d_name, ".tmp.") != NULL;
    closedir(d);
    return n;
}

static unsigned char *slurp(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *buf = malloc((size_t)n + 1);
    ck_assert_ptr_nonnull(buf);
    ck_assert_uint_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *size = (size_t)n;
    return buf;
}

static void spit(const char *path, const void *data, size_t size)
{
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(data, 1, size, f), size);
    fclose(f);
}

static void random_fill(float *x, size_t n, uint64_t seed)
{
    rp_rng rng;
    rp_rng_init(&rng, seed, 3, 4);
    for (size_t i = 0; i < n; ++i)
        x[i] = rp_rng_float(&rng);
}

static reptile_dataset *synthetic_set(uint64_t seed)
{
    reptile_dataset *ds = rp_test_synthetic_set(seed, 1.0f);
    ck_assert_msg(ds != NULL, "synthetic data set: %s", reptile_error_last());
    return ds;
}

/* Every layer kind and option: same/valid padding, non-square strides and
 * pools, overlapping pooling windows, non-default eps and momentum. */
static reptile_model *small_net(uint64_t seed, int classes)
{
    reptile_model *m = NULL;
    ck_assert_int_eq(reptile_model_new(&m, SIDE, SIDE, 1), 0);
    ck_assert_int_eq(reptile_model_add_conv2d(m, 6, 3, 3, 2, 2, REPTILE_PADDING_SAME), 0);
    ck_assert_int_eq(reptile_model_add_batchnorm(m, 1e-3f, 0.99f), 0);
    ck_assert_int_eq(reptile_model_add_maxpool2d(m, 3, 3, 1, 1, REPTILE_PADDING_SAME), 0);
    ck_assert_int_eq(reptile_model_add_relu(m), 0);
    ck_assert_int_eq(reptile_model_add_conv2d(m, 5, 2, 3, 1, 2, REPTILE_PADDING_VALID), 0);
    ck_assert_int_eq(reptile_model_add_batchnorm(m, 0.25f, 0.5f), 0);
    ck_assert_int_eq(reptile_model_add_relu(m), 0);
    ck_assert_int_eq(reptile_model_add_maxpool2d(m, 2, 1, 1, 1, REPTILE_PADDING_VALID), 0);
    ck_assert_int_eq(reptile_model_add_flatten(m), 0);
    ck_assert_int_eq(reptile_model_add_dense(m, classes), 0);
    ck_assert_int_eq(reptile_model_init(m, seed), 0);
    return m;
}

/* A few supervised steps on batch statistics: parameters and moving
 * statistics move away from their initial values. */
static void train_a_little(reptile_model *m, int steps)
{
    int h, w, c;
    reptile_model_input_shape(m, &h, &w, &c);
    const int batch = 6;
    size_t n = (size_t)batch * h * w * c;
    float *x = malloc(n * sizeof *x);
    int32_t y[6];
    reptile_optimizer *opt = NULL;
    ck_assert_int_eq(reptile_optimizer_new_sgd(&opt, 0.05f, 0.5f), 0);
    for (int s = 0; s < steps; ++s) {
        random_fill(x, n, 100 + (uint64_t)s);
        for (int i = 0; i < batch; ++i)
            y[i] = (i + s) % reptile_model_num_outputs(m);
        ck_assert_int_eq(reptile_model_train_step(m, opt, x, y, batch, REPTILE_BN_BATCH, NULL), 0);
    }
    reptile_optimizer_free(opt);
    free(x);
}

static void assert_same_model(const reptile_model *a, const reptile_model *b)
{
    ck_assert(rp_model_same_architecture(a, b));
    ck_assert_uint_eq(reptile_model_num_params(a), reptile_model_num_params(b));
    ck_assert_uint_eq(reptile_model_num_state(a), reptile_model_num_state(b));
    ck_assert_mem_eq(a->params, b->params, a->n_params * sizeof(float));
    ck_assert_mem_eq(a->state, b->state, a->n_state * sizeof(float));
}

static void assert_same_predictions(reptile_model *a, reptile_model *b)
{
    int h, w, c;
    reptile_model_input_shape(a, &h, &w, &c);
    const int batch = 4, k = reptile_model_num_outputs(a);
    size_t n = (size_t)batch * h * w * c;
    float *x = malloc(n * sizeof *x), *pa = malloc((size_t)batch * k * sizeof *pa),
          *pb = malloc((size_t)batch * k * sizeof *pb);
    random_fill(x, n, 77);
    for (int mode = REPTILE_BN_BATCH; mode <= REPTILE_BN_MOVING; ++mode) {
        ck_assert_int_eq(reptile_model_predict(a, x, batch, mode, pa), 0);
        ck_assert_int_eq(reptile_model_predict(b, x, batch, mode, pb), 0);
        ck_assert_mem_eq(pa, pb, (size_t)batch * k * sizeof *pa);
    }
    free(x);
    free(pa);
    free(pb);
}

/* ---- model round trip ------------------------------------------------------------- */

START_TEST(model_round_trip_is_exact)
{
    make_tmpdir();
    reptile_model *m = small_net(3, 5);
    train_a_little(m, 4);
    const char *path = tmp_path("model.safetensors");
    ck_assert_int_eq(reptile_model_save(m, path), 0);
    /* Max-pooling layers need format_version 2; their options are all there. */
    rp_st_file *f = NULL;
    ck_assert_int_eq(rp_st_read_file(&f, path), 0);
    ck_assert_str_eq(rp_st_meta(f, "format_version"), "2");
    ck_assert_ptr_nonnull(strstr(rp_st_meta(f, "architecture"),
                                 "{\"type\":\"maxpool2d\",\"pool\":[3,3],\"strides\":[1,1],"
                                 "\"padding\":\"same\"}"));
    ck_assert_ptr_nonnull(strstr(rp_st_meta(f, "architecture"),
                                 "{\"type\":\"maxpool2d\",\"pool\":[2,1],\"strides\":[1,1],"
                                 "\"padding\":\"valid\"}"));
    rp_st_free(f);
    reptile_model *back = NULL;
    ck_assert_int_eq(reptile_model_load(&back, path), 0);
    assert_same_model(m, back);
    assert_same_predictions(m, back);
    /* Saving the loaded model gives the same bytes. */
    const char *again = tmp_path("again.safetensors");
    ck_assert_int_eq(reptile_model_save(back, again), 0);
    size_t s1, s2;
    unsigned char *b1 = slurp(path, &s1), *b2 = slurp(again, &s2);
    ck_assert_uint_eq(s1, s2);
    ck_assert_mem_eq(b1, b2, s1);
    /* Header length is a multiple of 8; no temp files left. */
    ck_assert_uint_eq(b1[0] % 8, 0);
    ck_assert_int_eq(count_temp_files(), 0);
    free(b1);
    free(b2);
    reptile_model_free(m);
    reptile_model_free(back);
    remove_tmpdir();
}
END_TEST

START_TEST(model_file_has_the_documented_layout)
{
    make_tmpdir();
    reptile_model *m = NULL;
    ck_assert_int_eq(reptile_model_new_omniglot(&m, 5, 9), 0);
    const char *path = tmp_path("omniglot.safetensors");
    ck_assert_int_eq(reptile_model_save(m, path), 0);
    rp_st_file *f = NULL;
    ck_assert_int_eq(rp_st_read_file(&f, path), 0);
    ck_assert_str_eq(rp_st_meta(f, "format"), "libreptile");
    ck_assert_str_eq(rp_st_meta(f, "format_version"), "1");
    ck_assert_str_eq(rp_st_meta(f, "kind"), "model");
    ck_assert_str_eq(rp_st_meta(f, "library_version"), reptile_version_string());
    ck_assert_ptr_nonnull(strstr(rp_st_meta(f, "architecture"), "\"type\":\"conv2d\""));
    ck_assert_ptr_nonnull(strstr(rp_st_meta(f, "data_checksum"), "crc32:"));
    ck_assert_int_eq(rp_st_verify_checksums(f), 0);
    ck_assert_uint_eq(rp_st_count(f), 4 * 6 + 2);
    ck_assert_uint_eq(rp_st_data_size(f), (113221 + 512) * sizeof(float));
    static float kernel[3 * 3 * 1 * 64], bias[64], gamma[64], var[64], dense[256 * 5];
    ck_assert_int_eq(rp_st_get(f, "layers.0.conv2d.kernel", RP_ST_F32, 4,
                               (const int64_t[]){3, 3, 1, 64}, kernel), 0);
    ck_assert_mem_eq(kernel, m->params, sizeof kernel);
    ck_assert_int_eq(rp_st_get(f, "layers.0.conv2d.bias", RP_ST_F32, 1, (const int64_t[]){64}, bias), 0);
    ck_assert_int_eq(rp_st_get(f, "layers.1.batchnorm.gamma", RP_ST_F32, 1, (const int64_t[]){64}, gamma), 0);
    ck_assert_float_eq(gamma[0], 1.0f);
    ck_assert_int_eq(rp_st_get(f, "layers.10.batchnorm.moving_variance", RP_ST_F32, 1,
                               (const int64_t[]){64}, var), 0);
    ck_assert_float_eq(var[63], 1.0f);
    ck_assert_int_eq(rp_st_get(f, "layers.13.dense.kernel", RP_ST_F32, 2,
                               (const int64_t[]){256, 5}, dense), 0);
    ck_assert_int_eq(rp_st_get(f, "layers.13.dense.kernel", RP_ST_F32, 2,
                               (const int64_t[]){5, 256}, dense), REPTILE_EFORMAT);
    ck_assert_ptr_nonnull(strstr(reptile_error_last(), "expected [5, 256]"));
    rp_st_free(f);
    reptile_model *back = NULL;
    ck_assert_int_eq(reptile_model_load(&back, path), 0);
    assert_same_model(m, back);
    reptile_model_free(m);
    reptile_model_free(back);
    remove_tmpdir();
}
END_TEST

/* ---- meta-training resume ----------------------------------------------------------- */

typedef struct run_cfg {
    int optimizer, state, meta_batch, bn_mode;
    float momentum;
} run_cfg;

static reptile_meta_options run_options(const run_cfg *c, int threads)
{
    reptile_meta_options o;
    ck_assert_int_eq(reptile_meta_options_preset(&o, REPTILE_META_OPTIONS_VERSION, "keras-tutorial"), 0);
    o.train_shots = 5;
    o.inner_batch = 10;
    o.inner_iters = 2;
    o.eval_shots = 3;
    o.eval_batch = 15;
    o.eval_iters = 2;
    o.meta_iters = 6;      /* the schedule anneals over the run */
    o.meta_step = 0.5f;
    o.lr = 0.01f;
    o.eval_interval = 2;
    o.seed = 0xfeedbeefcafe1234ull; /* above INT64_MAX: stored as a string */
    o.optimizer = c->optimizer;
    o.optimizer_state = c->state;
    o.meta_batch = c->meta_batch;
    o.bn_mode = c->bn_mode;
    o.momentum = c->momentum;
    o.beta1 = 0.5f;
    o.threads = threads;
    return o;
}

enum { N_ITERS = 6 };

/* Parameters and state after N_ITERS straight iterations. */
static void straight_run(const run_cfg *c, reptile_dataset *ds, float *params, float *state)
{
    reptile_model *m = small_net(21, 5);
    reptile_meta_options o = run_options(c, 1);
    reptile_meta *meta = NULL;
    ck_assert_int_eq(reptile_meta_new(&meta, m, &o), 0);
    ck_assert_int_eq(reptile_meta_train(meta, ds, ds, N_ITERS), 0);
    memcpy(params, m->params, m->n_params * sizeof *params);
    memcpy(state, m->state, m->n_state * sizeof *state);
    reptile_meta_free(meta);
    reptile_model_free(m);
}

/* k iterations with threads_a, save, free everything; a fresh model and
 * meta-learner with threads_b resume and run N - k. */
static void resumed_run(const run_cfg *c, reptile_dataset *ds, int k, int threads_a, int threads_b,
                        const float *want_params, const float *want_state)
{
    const char *path = tmp_path("state.safetensors");
    reptile_model *m = small_net(21, 5);
    reptile_meta_options o = run_options(c, threads_a);
    reptile_meta *meta = NULL;
    ck_assert_int_eq(reptile_meta_new(&meta, m, &o), 0);
    ck_assert_int_eq(reptile_meta_train(meta, ds, ds, k), 0);
    ck_assert_int_eq(reptile_meta_save(meta, path), 0);
    reptile_meta_free(meta);
    reptile_model_free(m);

    /* A differently initialised model: everything must come from the file. */
    m = small_net(999, 5);
    reptile_meta_options loaded;
    ck_assert_int_eq(reptile_meta_load_options(&loaded, REPTILE_META_OPTIONS_VERSION, path), 0);
    ck_assert_int_eq(loaded.threads, threads_a);
    ck_assert(loaded.seed == o.seed);
    ck_assert_float_eq(loaded.lr, o.lr);
    loaded.threads = threads_b;
    ck_assert_int_eq(reptile_meta_new(&meta, m, &loaded), 0);
    ck_assert_int_eq(reptile_meta_resume(meta, path), 0);
    ck_assert_int_eq(reptile_meta_iteration(meta), k);
    ck_assert_int_eq(reptile_meta_train(meta, ds, ds, N_ITERS - k), 0);
    ck_assert_int_eq(reptile_meta_iteration(meta), N_ITERS);
    ck_assert_msg(memcmp(m->params, want_params, m->n_params * sizeof(float)) == 0,
                  "params differ after resume at k=%d (threads %d -> %d)", k, threads_a, threads_b);
    ck_assert_msg(memcmp(m->state, want_state, m->n_state * sizeof(float)) == 0,
                  "state differs after resume at k=%d (threads %d -> %d)", k, threads_a, threads_b);
    reptile_meta_free(meta);
    reptile_model_free(m);
}

static void check_resume(const run_cfg *c)
{
    make_tmpdir();
    reptile_dataset *ds = synthetic_set(3);
    reptile_model *probe = small_net(1, 5);
    float *params = malloc(probe->n_params * sizeof *params);
    float *state = malloc(probe->n_state * sizeof *state);
    reptile_model_free(probe);
    straight_run(c, ds, params, state);
    static const int ks[] = {1, 3, 5};
    for (int i = 0; i < 3; ++i)
        for (int threads = 1; threads <= 2; ++threads)
            resumed_run(c, ds, ks[i], threads, threads, params, state);
    /* The thread count may change across the interruption. */
    resumed_run(c, ds, 3, 1, 2, params, state);
    resumed_run(c, ds, 2, 2, 1, params, state);
    free(params);
    free(state);
    reptile_dataset_free(ds);
    remove_tmpdir();
}

START_TEST(resume_is_bit_identical_sgd)
{
    run_cfg c = {REPTILE_OPTIMIZER_SGD, REPTILE_STATE_RESET, 1, REPTILE_BN_FROZEN, 0.0f};
    check_resume(&c);
}
END_TEST

START_TEST(resume_is_bit_identical_sgd_momentum_carried)
{
    run_cfg c = {REPTILE_OPTIMIZER_SGD, REPTILE_STATE_CARRY, 2, REPTILE_BN_BATCH, 0.9f};
    check_resume(&c);
}
END_TEST

START_TEST(resume_is_bit_identical_adam_carried)
{
    run_cfg c = {REPTILE_OPTIMIZER_ADAM, REPTILE_STATE_CARRY, 3, REPTILE_BN_BATCH, 0.0f};
    check_resume(&c);
}
END_TEST

/* The optimizer state matters: dropping it changes the result (so the
 * tests above would notice if it were not restored). */
START_TEST(carried_optimizer_state_is_what_makes_resume_exact)
{
    make_tmpdir();
    run_cfg c = {REPTILE_OPTIMIZER_ADAM, REPTILE_STATE_CARRY, 3, REPTILE_BN_BATCH, 0.0f};
    reptile_dataset *ds = synthetic_set(3);
    reptile_model *m = small_net(21, 5);
    float *params = malloc(m->n_params * sizeof *params);
    float *state = malloc(m->n_state * sizeof *state);
    straight_run(&c, ds, params, state);
    reptile_meta_options o = run_options(&c, 1);
    reptile_meta *meta = NULL;
    ck_assert_int_eq(reptile_meta_new(&meta, m, &o), 0);
    ck_assert_int_eq(reptile_meta_train(meta, ds, ds, 3), 0);
    ck_assert_int_eq(reptile_meta_save(meta, tmp_path("s")), 0);
    for (int t = 0; t < 3; ++t)
        reptile_optimizer_reset(meta->slots[t].opt);
    ck_assert_int_eq(reptile_meta_train(meta, ds, ds, 3), 0);
    ck_assert_int_ne(memcmp(m->params, params, m->n_params * sizeof(float)), 0);
    /* Resuming in place restores it. */
    meta->iteration = 0;
    ck_assert_int_eq(reptile_meta_resume(meta, tmp_path("s")), 0);
    ck_assert_int_eq(meta->slots[0].opt->steps, 3 * 6); /* 3 iterations x 2 epochs x 3 batches */
    ck_assert_int_eq(reptile_meta_train(meta, ds, ds, 3), 0);
    ck_assert_mem_eq(m->params, params, m->n_params * sizeof(float));
    free(params);
    free(state);
    reptile_meta_free(meta);
    reptile_model_free(m);
    reptile_dataset_free(ds);
    remove_tmpdir();
}
END_TEST

/* Periodic saves from the progress callback, as a program does. */
typedef struct saver {
    reptile_meta *meta;
    int every;
    int saves;
} saver;

static int save_periodically(const reptile_progress *p, void *user)
{
    saver *s = user;
    if (p->iteration % s->every == 0) {
        ck_assert_int_eq(reptile_meta_save(s->meta, tmp_path("periodic")), 0);
        s->saves++;
    }
    return p->iteration == 4; /* "interrupted" after 4 */
}

START_TEST(saving_from_the_progress_callback)
{
    make_tmpdir();
    run_cfg c = {REPTILE_OPTIMIZER_ADAM, REPTILE_STATE_CARRY, 1, REPTILE_BN_FROZEN, 0.0f};
    reptile_dataset *ds = synthetic_set(3);
    reptile_model *m = small_net(21, 5);
    float *params = malloc(m->n_params * sizeof *params);
    float *state = malloc(m->n_state * sizeof *state);
    straight_run(&c, ds, params, state);
    saver s = {NULL, 2, 0};
    reptile_meta_options o = run_options(&c, 2);
    o.progress = save_periodically;
    o.progress_user = &s;
    ck_assert_int_eq(reptile_meta_new(&s.meta, m, &o), 0);
    ck_assert_int_eq(reptile_meta_train(s.meta, ds, ds, N_ITERS), 0);
    ck_assert_int_eq(reptile_meta_iteration(s.meta), 4);
    ck_assert_int_eq(s.saves, 2);
    reptile_meta_free(s.meta);
    reptile_model_free(m);
    m = small_net(1, 5);
    o.progress = NULL;
    reptile_meta *meta = NULL;
    ck_assert_int_eq(reptile_meta_new(&meta, m, &o), 0);
    ck_assert_int_eq(reptile_meta_resume(meta, tmp_path("periodic")), 0);
    ck_assert_int_eq(reptile_meta_train(meta, ds, ds, N_ITERS - 4), 0);
    ck_assert_mem_eq(m->params, params, m->n_params * sizeof(float));
    /* The training state is also a model checkpoint. */
    reptile_model *as_model = NULL;
    ck_assert_int_eq(reptile_model_load(&as_model, tmp_path("periodic")), 0);
    ck_assert_int_eq(reptile_model_num_outputs(as_model), 5);
    reptile_model_free(as_model);
    free(params);
    free(state);
    reptile_meta_free(meta);
    reptile_model_free(m);
    reptile_dataset_free(ds);
    remove_tmpdir();
}
END_TEST

/* Evaluation settings never shape training: a run resumed with others
 * (transductive, more shots, another interval) continues bit for bit, with
 * the carried Adam state restored, and evaluates with the new settings. */
START_TEST(resume_may_change_the_evaluation_settings)
{
    make_tmpdir();
    run_cfg c = {REPTILE_OPTIMIZER_ADAM, REPTILE_STATE_CARRY, 2, REPTILE_BN_BATCH, 0.0f};
    reptile_dataset *ds = synthetic_set(3);
    reptile_model *probe = small_net(21, 5);
    float *params = malloc(probe->n_params * sizeof *params);
    float *state = malloc(probe->n_state * sizeof *state);
    straight_run(&c, ds, params, state);

    reptile_model *m = small_net(21, 5);
    reptile_meta_options o = run_options(&c, 1);
    reptile_meta *meta = NULL;
    ck_assert_int_eq(reptile_meta_new(&meta, m, &o), 0);
    ck_assert_int_eq(reptile_meta_train(meta, ds, ds, 3), 0);
    ck_assert_int_eq(reptile_meta_save(meta, tmp_path("state")), 0);
    reptile_meta_free(meta);
    reptile_model_free(m);

    m = small_net(5, 5);
    o.eval_mode = REPTILE_EVAL_TRANSDUCTIVE;
    o.eval_shots = 4;
    o.eval_batch = 7;
    o.eval_iters = 3;
    o.eval_interval = 1;
    o.keras_argmax = 1;
    ck_assert_int_eq(reptile_meta_new(&meta, m, &o), 0);
    ck_assert_int_eq(reptile_meta_resume(meta, tmp_path("state")), 0);
    ck_assert_int_eq(reptile_meta_iteration(meta), 3);
    ck_assert_int_eq(reptile_meta_train(meta, ds, ds, N_ITERS - 3), 0);
    ck_assert_mem_eq(m->params, params, m->n_params * sizeof(float));
    ck_assert_mem_eq(m->state, state, m->n_state * sizeof(float));
    ck_assert_int_eq(reptile_meta_get_options(meta)->eval_shots, 4);
    reptile_meta_free(meta);
    reptile_model_free(m);
    reptile_model_free(probe);
    free(params);
    free(state);
    reptile_dataset_free(ds);
    remove_tmpdir();
}
END_TEST

START_TEST(resume_rejects_another_architecture_or_options_and_changes_nothing)
{
    make_tmpdir();
    run_cfg c = {REPTILE_OPTIMIZER_SGD, REPTILE_STATE_RESET, 1, REPTILE_BN_FROZEN, 0.0f};
    reptile_dataset *ds = synthetic_set(3);
    reptile_model *m = small_net(21, 5);
    reptile_meta_options o = run_options(&c, 1);
    reptile_meta *meta = NULL;
    ck_assert_int_eq(reptile_meta_new(&meta, m, &o), 0);
    ck_assert_int_eq(reptile_meta_train(meta, ds, NULL, 2), 0);
    const char *state_path = tmp_path("state"), *model_path = tmp_path("model");
    ck_assert_int_eq(reptile_meta_save(meta, state_path), 0);
    ck_assert_int_eq(reptile_model_save(m, model_path), 0);
    reptile_meta_free(meta);

    /* Another architecture: 6 classes. */
    reptile_model *other = small_net(21, 6);
    ck_assert_int_eq(reptile_meta_new(&meta, other, &o), 0);
    float *before = malloc(other->n_params * sizeof *before);
    memcpy(before, other->params, other->n_params * sizeof *before);
    ck_assert_int_eq(reptile_meta_resume(meta, state_path), REPTILE_ESHAPE);
    ck_assert_ptr_nonnull(strstr(reptile_error_last(), "layer 9"));
    ck_assert_mem_eq(before, other->params, other->n_params * sizeof *before);
    ck_assert_int_eq(reptile_meta_iteration(meta), 0);
    reptile_meta_free(meta);
    reptile_model_free(other);
    free(before);

    /* Another learning rate; another seed. */
    reptile_model *fresh = small_net(5, 5);
    reptile_meta_options o2 = o;
    o2.lr = 0.02f;
    ck_assert_int_eq(reptile_meta_new(&meta, fresh, &o2), 0);
    ck_assert_int_eq(reptile_meta_resume(meta, state_path), REPTILE_ESTATE);
    ck_assert_ptr_nonnull(strstr(reptile_error_last(), "option lr differs"));
    ck_assert_int_eq(reptile_meta_iteration(meta), 0);
    reptile_meta_free(meta);
    o2 = o;
    o2.seed = 1;
    ck_assert_int_eq(reptile_meta_new(&meta, fresh, &o2), 0);
    ck_assert_int_eq(reptile_meta_resume(meta, state_path), REPTILE_ESTATE);
    ck_assert_ptr_nonnull(strstr(reptile_error_last(), "option seed differs"));
    /* A model file is not a training state. */
    ck_assert_int_eq(reptile_meta_resume(meta, model_path), REPTILE_EFORMAT);
    ck_assert_ptr_nonnull(strstr(reptile_error_last(), "a model checkpoint, not a meta-state"));
    ck_assert_int_eq(reptile_meta_load_options(&o2, REPTILE_META_OPTIONS_VERSION, model_path), REPTILE_EFORMAT);
    reptile_meta_free(meta);
    ck_assert_int_eq(reptile_meta_resume(NULL, state_path), REPTILE_EINVAL);
    ck_assert_int_eq(reptile_meta_save(NULL, state_path), REPTILE_EINVAL);
    ck_assert_int_eq(reptile_model_save(NULL, state_path), REPTILE_EINVAL);
    ck_assert_int_eq(reptile_model_load(NULL, state_path), REPTILE_EINVAL);
    reptile_model_free(fresh);
    reptile_model_free(m);
    reptile_dataset_free(ds);
    remove_tmpdir();
}
END_TEST

/* ---- bad files ------------------------------------------------------------------- */

/* Loads path as a model; expects failure `code` with `needle` in the message. */
static void expect_load_error(const char *path, int code, const char *needle)
{
    reptile_model *m = (reptile_model *)&m; /* must be reset to NULL */
    int rc = reptile_model_load(&m, path);
    ck_assert_msg(rc == code, "loading %s: got %d (%s), expected %d", path, rc,
                  reptile_error_last(), code);
    ck_assert_ptr_null(m);
    ck_assert_msg(strstr(reptile_error_last(), needle) != NULL, "message \"%s\" lacks \"%s\"",
                  reptile_error_last(), needle);
}

/* A safetensors file with this header JSON and data. */
static void write_raw(const char *path, const char *header, const void *data, size_t size)
{
    size_t h = strlen(header);
    unsigned char *buf = malloc(8 + h + size + 1);
    for (int i = 0; i < 8; ++i)
        buf[i] = (unsigned char)((uint64_t)h >> (8 * i));
    memcpy(buf + 8, header, h);
    if (size)
        memcpy(buf + 8 + h, data, size);
    spit(path, buf, 8 + h + size);
    free(buf);
}

START_TEST(truncated_and_foreign_files_are_rejected)
{
    make_tmpdir();
    reptile_model *m = small_net(3, 5);
    const char *good = tmp_path("good"), *bad = tmp_path("bad");
    ck_assert_int_eq(reptile_model_save(m, good), 0);
    size_t size;
    unsigned char *bytes = slurp(good, &size);

    expect_load_error(tmp_path("missing"), REPTILE_ENOTFOUND, "missing");
    /* Every truncation fails cleanly. */
    for (size_t len = 0; len < size; len += len < 64 ? 1 : 97) {
        spit(bad, bytes, len);
        reptile_model *out = NULL;
        ck_assert_int_eq(reptile_model_load(&out, bad), REPTILE_EFORMAT);
        ck_assert_ptr_null(out);
    }
    spit(bad, bytes, 5);
    expect_load_error(bad, REPTILE_EFORMAT, "too short");
    spit(bad, bytes, 100);
    expect_load_error(bad, REPTILE_EFORMAT, "exceeds the file");
    spit(bad, bytes, size - 1);
    expect_load_error(bad, REPTILE_EFORMAT, "out of range");

    /* A PNG. */
    static const unsigned char png[] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0, 0, 13,
                                        'I', 'H', 'D', 'R', 0, 0, 0, 1, 0, 0, 0, 1, 8, 0, 0, 0, 0};
    spit(bad, png, sizeof png);
    expect_load_error(bad, REPTILE_EFORMAT, "not a safetensors file");
    /* Random bytes. */
    unsigned char noise[4096];
    rp_rng rng;
    rp_rng_init(&rng, 5, 5, 5);
    for (size_t i = 0; i < sizeof noise; ++i)
        noise[i] = (unsigned char)rp_rng_u64(&rng);
    spit(bad, noise, sizeof noise);
    expect_load_error(bad, REPTILE_EFORMAT, "not a safetensors file");
    /* Random bytes behind a plausible header length. */
    noise[0] = 100, noise[1] = noise[2] = noise[3] = noise[4] = noise[5] = noise[6] = noise[7] = 0;
    spit(bad, noise, sizeof noise);
    expect_load_error(bad, REPTILE_EFORMAT, "");
    /* A valid safetensors file from another program. */
    float w[2] = {1.0f, 2.0f};
    write_raw(bad, "{\"weight\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", w, 8);
    expect_load_error(bad, REPTILE_EFORMAT, "written by another program");
    write_raw(bad, "{\"__metadata__\":{\"format\":\"pt\"},\"weight\":{\"dtype\":\"F32\",\"shape\":[2],"
                   "\"data_offsets\":[0,8]}}", w, 8);
    expect_load_error(bad, REPTILE_EFORMAT, "\"pt\"");
    free(bytes);
    reptile_model_free(m);
    remove_tmpdir();
}
END_TEST

START_TEST(malformed_headers_are_rejected_without_allocating)
{
    make_tmpdir();
    const char *bad = tmp_path("bad");
    float data[4] = {0};
    /* Header length over the limit, and over the file. */
    unsigned char big[16] = {0};
    uint64_t len = (uint64_t)200 * 1024 * 1024;
    for (int i = 0; i < 8; ++i)
        big[i] = (unsigned char)(len >> (8 * i));
    big[8] = '{';
    spit(bad, big, sizeof big);
    expect_load_error(bad, REPTILE_EFORMAT, "byte limit");
    big[3] = 0; /* 1 MiB: under the limit, over the file */
    big[2] = 0x10;
    spit(bad, big, sizeof big);
    expect_load_error(bad, REPTILE_EFORMAT, "exceeds the file");
    /* Shape and offsets disagree. */
    write_raw(bad, "{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", data, 8);
    expect_load_error(bad, REPTILE_EFORMAT, "needs 12 bytes but data_offsets span 8");
    /* Overlap, out of range, hole. */
    write_raw(bad, "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                   "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", data, 12);
    expect_load_error(bad, REPTILE_EFORMAT, "overlap");
    write_raw(bad, "{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}", data, 8);
    expect_load_error(bad, REPTILE_EFORMAT, "out of range");
    write_raw(bad, "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                   "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,12]}}", data, 12);
    expect_load_error(bad, REPTILE_EFORMAT, "hole");
    write_raw(bad, "{\"a\":{\"dtype\":\"F32\",\"shape\":[1000000000000,1000000000000],"
                   "\"data_offsets\":[0,8]}}", data, 8);
    expect_load_error(bad, REPTILE_EFORMAT, "larger than the data section");
    write_raw(bad, "{\"a\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,8]}}", data, 8);
    expect_load_error(bad, REPTILE_EFORMAT, "non-negative");
    write_raw(bad, "{\"a\":{\"dtype\":\"Q7\",\"shape\":[2],\"data_offsets\":[0,8]}}", data, 8);
    expect_load_error(bad, REPTILE_EFORMAT, "unknown dtype");
    write_raw(bad, "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8],\"x\":1}}", data, 8);
    expect_load_error(bad, REPTILE_EFORMAT, "exactly dtype");
    write_raw(bad, "{\"a\":1,\"a\":2}", data, 0);
    expect_load_error(bad, REPTILE_EFORMAT, "not valid JSON");
    write_raw(bad, "{\"__metadata__\":{\"format\":3}}", data, 0);
    expect_load_error(bad, REPTILE_EFORMAT, "not a string");
    write_raw(bad, "[1, 2]", data, 0);
    expect_load_error(bad, REPTILE_EFORMAT, "does not start with '{'");
    remove_tmpdir();
}
END_TEST

/* Replaces the first occurrence of `from` by `to` (same length) in a file. */
static void patch_file(const char *in, const char *out, const char *from, const char *to)
{
    size_t size;
    unsigned char *b = slurp(in, &size);
    b[size] = 0;
    ck_assert_uint_eq(strlen(from), strlen(to));
    unsigned char *at = NULL;
    for (size_t i = 0; i + strlen(from) <= size && !at; ++i)
        if (memcmp(b + i, from, strlen(from)) == 0)
            at = b + i;
    ck_assert_msg(at != NULL, "\"%s\" not in %s", from, in);
    memcpy(at, to, strlen(to));
    spit(out, b, size);
    free(b);
}

START_TEST(versions_and_corruption_are_detected)
{
    make_tmpdir();
    reptile_model *m = small_net(3, 5);
    const char *good = tmp_path("good"), *bad = tmp_path("bad");
    ck_assert_int_eq(reptile_model_save(m, good), 0);
    patch_file(good, bad, "\"format_version\":\"2\"", "\"format_version\":\"3\"");
    expect_load_error(bad, REPTILE_EVERSION, "format_version 3 is newer");
    patch_file(good, bad, "\"format_version\":\"2\"", "\"format_version\":\"x\"");
    expect_load_error(bad, REPTILE_EFORMAT, "format_version");
    patch_file(good, bad, "\"format\":\"libreptile\"", "\"format\":\"libreptilf\"");
    expect_load_error(bad, REPTILE_EFORMAT, "another program");
    /* A changed metadata value (an architecture detail). */
    patch_file(good, bad, "units\\\":5", "units\\\":6");
    expect_load_error(bad, REPTILE_EFORMAT, "metadata checksum mismatch");
    /* Bit flips in the data section: first, middle and last byte. */
    size_t size;
    unsigned char *b = slurp(good, &size);
    uint64_t hlen = 0;
    for (int i = 7; i >= 0; --i)
        hlen = (hlen << 8) | b[i];
    size_t positions[3] = {8 + (size_t)hlen, (8 + (size_t)hlen + size) / 2, size - 1};
    for (int p = 0; p < 3; ++p) {
        b[positions[p]] ^= 0x10;
        spit(bad, b, size);
        expect_load_error(bad, REPTILE_EFORMAT, "data checksum mismatch");
        b[positions[p]] ^= 0x10;
    }
    free(b);
    reptile_model_free(m);
    remove_tmpdir();
}
END_TEST

/* A checksummed libreptile file of this format_version with this
 * architecture and these tensors. */
static void write_custom_version(const char *path, const char *version, const char *arch, int n,
                                 const char *const *names, const int64_t (*shapes)[2],
                                 const int *ranks, const float *data)
{
    rp_st_writer *w = NULL;
    ck_assert_int_eq(rp_st_writer_new(&w), 0);
    ck_assert_int_eq(rp_st_add_meta(w, "format", "libreptile"), 0);
    ck_assert_int_eq(rp_st_add_meta(w, "format_version", version), 0);
    ck_assert_int_eq(rp_st_add_meta(w, "kind", "model"), 0);
    ck_assert_int_eq(rp_st_add_meta(w, "architecture", arch), 0);
    size_t off = 0;
    for (int i = 0; i < n; ++i) {
        ck_assert_int_eq(rp_st_add(w, names[i], RP_ST_F32, data + off, ranks[i], shapes[i]), 0);
        size_t count = 1;
        for (int d = 0; d < ranks[i]; ++d)
            count *= (size_t)shapes[i][d];
        off += count;
    }
    ck_assert_int_eq(rp_st_write_file(w, path), 0);
    rp_st_writer_free(w);
}

/* The same at format_version 1, the version of every file without
 * max-pooling. */
static void write_custom(const char *path, const char *arch, int n, const char *const *names,
                         const int64_t (*shapes)[2], const int *ranks, const float *data)
{
    write_custom_version(path, "1", arch, n, names, shapes, ranks, data);
}

START_TEST(wrong_architectures_and_tensors_are_rejected)
{
    make_tmpdir();
    const char *path = tmp_path("custom");
    static float data[64];
    for (int i = 0; i < 64; ++i)
        data[i] = 0.01f * (float)i;
    const char *arch = "{\"input\":[2,2,1],\"layers\":[{\"type\":\"flatten\"},"
                       "{\"type\":\"dense\",\"units\":3}]}";
    const char *names[3] = {"layers.1.dense.kernel", "layers.1.dense.bias", "extra"};
    int ranks[3] = {2, 1, 1};
    const int64_t ok[3][2] = {{4, 3}, {3, 0}, {2, 0}};
    write_custom(path, arch, 2, names, ok, ranks, data);
    reptile_model *m = NULL;
    ck_assert_int_eq(reptile_model_load(&m, path), 0);
    ck_assert_float_eq(m->params[13], 0.13f);
    reptile_model_free(m);

    const int64_t transposed[2][2] = {{3, 4}, {3, 0}};
    write_custom(path, arch, 2, names, transposed, ranks, data);
    expect_load_error(path, REPTILE_EFORMAT, "has shape [3, 4], expected [4, 3]");
    const char *misnamed[2] = {"layers.1.dense.kernel", "layers.1.dense.biaz"};
    write_custom(path, arch, 2, misnamed, ok, ranks, data);
    expect_load_error(path, REPTILE_EFORMAT, "\"layers.1.dense.bias\" is missing");
    write_custom(path, arch, 1, names, ok, ranks, data);
    expect_load_error(path, REPTILE_EFORMAT, "needs 15 parameters");
    write_custom(path, arch, 3, names, ok, ranks, data);
    expect_load_error(path, REPTILE_EFORMAT, "unexpected tensor \"extra\"");
    /* Architectures: unknown layer, bad options, no dense head, too large. */
    write_custom(path, "{\"input\":[2,2,1],\"layers\":[{\"type\":\"lstm\"}]}", 0, names, ok, ranks, data);
    expect_load_error(path, REPTILE_EFORMAT, "unknown type \"lstm\"");
    write_custom(path, "{\"input\":[2,2,1],\"layers\":[{\"type\":\"conv2d\",\"filters\":2}]}", 0,
                 names, ok, ranks, data);
    expect_load_error(path, REPTILE_EFORMAT, "conv2d needs");
    write_custom(path, "{\"input\":[2,2,1],\"layers\":[{\"type\":\"batchnorm\",\"epsilon\":-1,"
                       "\"momentum\":0.5},{\"type\":\"flatten\"},{\"type\":\"dense\",\"units\":3}]}",
                 0, names, ok, ranks, data);
    expect_load_error(path, REPTILE_EFORMAT, "eps");
    write_custom(path, "{\"input\":[2,2,1],\"layers\":[{\"type\":\"flatten\"}]}", 0, names, ok,
                 ranks, data);
    expect_load_error(path, REPTILE_EFORMAT, "last layer must be dense");
    write_custom(path, "{\"input\":[4096,4096,1],\"layers\":[{\"type\":\"flatten\"},"
                       "{\"type\":\"dense\",\"units\":1048576}]}", 0, names, ok, ranks, data);
    expect_load_error(path, REPTILE_EFORMAT, "the file holds 0 bytes");
    write_custom(path, "not json", 0, names, ok, ranks, data);
    expect_load_error(path, REPTILE_EFORMAT, "not valid JSON");
    /* maxpool2d: from format_version 2 on, with all of its fields, sizes
     * the builder accepts, and an image to pool. */
    const char *pooled = "{\"input\":[3,2,1],\"layers\":[{\"type\":\"maxpool2d\",\"pool\":[2,2],"
                         "\"strides\":[1,1],\"padding\":\"valid\"},{\"type\":\"flatten\"},"
                         "{\"type\":\"dense\",\"units\":3}]}";
    const char *pooled_names[2] = {"layers.2.dense.kernel", "layers.2.dense.bias"};
    const int64_t pooled_ok[2][2] = {{2, 3}, {3, 0}};
    write_custom_version(path, "2", pooled, 2, pooled_names, pooled_ok, ranks, data);
    ck_assert_msg(reptile_model_load(&m, path) == 0, "%s", reptile_error_last());
    ck_assert_int_eq(m->layers[0].kind, RP_LAYER_MAXPOOL);
    ck_assert_int_eq(m->layers[0].out_h * 10 + m->layers[0].out_w, 21);
    ck_assert_float_eq(m->params[8], 0.08f);
    reptile_model_free(m);
    write_custom_version(path, "1", pooled, 2, pooled_names, pooled_ok, ranks, data);
    expect_load_error(path, REPTILE_EFORMAT, "maxpool2d layers need format_version 2 or later, "
                                             "the file says 1");
    static const char *const bad_pools[][2] = {
        {"{\"type\":\"maxpool2d\",\"pool\":[2,2],\"padding\":\"valid\"}",
         "maxpool2d needs pool [h, w], strides [h, w]"},
        {"{\"type\":\"maxpool2d\",\"pool\":[2,2],\"strides\":[1,1],\"padding\":\"full\"}",
         "maxpool2d needs"},
        {"{\"type\":\"maxpool2d\",\"pool\":[2,0],\"strides\":[1,1],\"padding\":\"same\"}",
         "pool 2x0, stride 1x1 out of range"},
        {"{\"type\":\"maxpool2d\",\"pool\":[3,3],\"strides\":[1,1],\"padding\":\"valid\"}",
         "3x3 pool does not fit a 3x2 input"},
        {"{\"type\":\"flatten\"},{\"type\":\"maxpool2d\",\"pool\":[1,1],\"strides\":[1,1],"
         "\"padding\":\"same\"}",
         "input is flat"},
    };
    for (size_t i = 0; i < sizeof bad_pools / sizeof bad_pools[0]; ++i) {
        char bad_arch[512];
        snprintf(bad_arch, sizeof bad_arch, "{\"input\":[3,2,1],\"layers\":[%s]}", bad_pools[i][0]);
        write_custom_version(path, "2", bad_arch, 0, names, ok, ranks, data);
        expect_load_error(path, REPTILE_EFORMAT, bad_pools[i][1]);
    }
    /* Non-finite parameters. */
    data[5] = NAN;
    write_custom(path, arch, 2, names, ok, ranks, data);
    expect_load_error(path, REPTILE_EFORMAT, "not finite");
    remove_tmpdir();
}
END_TEST

/* ---- atomic writes ------------------------------------------------------------------ */

static size_t fail_at;

static int fail_hook(size_t written, size_t total, void *user)
{
    (void)total;
    (void)user;
    return written >= fail_at;
}

START_TEST(failed_writes_leave_the_previous_file_intact)
{
    make_tmpdir();
    reptile_model *a = NULL, *b = NULL;
    ck_assert_int_eq(reptile_model_new_omniglot(&a, 5, 1), 0);
    ck_assert_int_eq(reptile_model_new_omniglot(&b, 5, 2), 0);
    const char *path = tmp_path("model");
    ck_assert_int_eq(reptile_model_save(a, path), 0);
    size_t size;
    unsigned char *before = slurp(path, &size);
    ck_assert_uint_gt(size, 4 * RP_ATOMIC_CHUNK);
    const size_t points[] = {0, 1, RP_ATOMIC_CHUNK, size / 2, size};
    for (int i = 0; i < 5; ++i) {
        fail_at = points[i];
        rp_atomic_write_hook = fail_hook;
        ck_assert_int_eq(reptile_model_save(b, path), REPTILE_EIO);
        rp_atomic_write_hook = NULL;
        ck_assert_ptr_nonnull(strstr(reptile_error_last(), path));
        size_t now_size;
        unsigned char *now = slurp(path, &now_size);
        ck_assert_uint_eq(now_size, size);
        ck_assert_mem_eq(now, before, size);
        free(now);
        ck_assert_int_eq(count_temp_files(), 0);
    }
    /* A folder that does not exist: EIO, nothing created. */
    ck_assert_int_eq(reptile_model_save(b, "/nonexistent-folder/x.safetensors"), REPTILE_EIO);
    ck_assert_ptr_nonnull(strstr(reptile_error_last(), "temporary"));
    /* Without the hook the save succeeds and replaces the file. */
    ck_assert_int_eq(reptile_model_save(b, path), 0);
    reptile_model *back = NULL;
    ck_assert_int_eq(reptile_model_load(&back, path), 0);
    assert_same_model(b, back);
    reptile_model_free(back);
    free(before);
    reptile_model_free(a);
    reptile_model_free(b);
    remove_tmpdir();
}
END_TEST

static int signal_fd = -1;

/* In the child: tell the parent we are mid-write, then hang until killed. */
static int hang_hook(size_t written, size_t total, void *user)
{
    (void)total;
    (void)user;
    if (written >= 2 * RP_ATOMIC_CHUNK) {
        char c = 'x';
        if (write(signal_fd, &c, 1) != 1)
            _exit(3);
        for (;;)
            pause();
    }
    return 0;
}

START_TEST(a_writer_killed_mid_write_leaves_the_previous_file_intact)
{
    make_tmpdir();
    reptile_model *a = NULL, *b = NULL;
    ck_assert_int_eq(reptile_model_new_omniglot(&a, 5, 1), 0);
    ck_assert_int_eq(reptile_model_new_omniglot(&b, 5, 2), 0);
    const char *path = tmp_path("model");
    ck_assert_int_eq(reptile_model_save(a, path), 0);
    size_t size;
    unsigned char *before = slurp(path, &size);
    int fds[2];
    ck_assert_int_eq(pipe(fds), 0);
    pid_t child = fork();
    ck_assert_int_ge(child, 0);
    if (child == 0) {
        close(fds[0]);
        signal_fd = fds[1];
        rp_atomic_write_hook = hang_hook;
        reptile_model_save(b, path);
        _exit(2); /* not reached: killed inside the write */
    }
    close(fds[1]);
    char c;
    ck_assert_int_eq(read(fds[0], &c, 1), 1);
    ck_assert_int_eq(count_temp_files(), 1); /* the half-written temporary */
    ck_assert_int_eq(kill(child, SIGKILL), 0);
    int status = 0;
    ck_assert_int_eq(waitpid(child, &status, 0), child);
    ck_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    close(fds[0]);
    size_t now_size;
    unsigned char *now = slurp(path, &now_size);
    ck_assert_uint_eq(now_size, size);
    ck_assert_mem_eq(now, before, size);
    reptile_model *back = NULL;
    ck_assert_int_eq(reptile_model_load(&back, path), 0);
    assert_same_model(a, back);
    reptile_model_free(back);
    free(now);
    free(before);
    reptile_model_free(a);
    reptile_model_free(b);
    remove_tmpdir(); /* also removes the stale temporary */
}
END_TEST

static Suite *checkpoint_suite(void)
{
    Suite *s = suite_create("checkpoint");
    TCase *tc = tcase_create("checkpoint");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, model_round_trip_is_exact);
    tcase_add_test(tc, model_file_has_the_documented_layout);
    tcase_add_test(tc, resume_is_bit_identical_sgd);
    tcase_add_test(tc, resume_is_bit_identical_sgd_momentum_carried);
    tcase_add_test(tc, resume_is_bit_identical_adam_carried);
    tcase_add_test(tc, carried_optimizer_state_is_what_makes_resume_exact);
    tcase_add_test(tc, saving_from_the_progress_callback);
    tcase_add_test(tc, resume_may_change_the_evaluation_settings);
    tcase_add_test(tc, resume_rejects_another_architecture_or_options_and_changes_nothing);
    tcase_add_test(tc, truncated_and_foreign_files_are_rejected);
    tcase_add_test(tc, malformed_headers_are_rejected_without_allocating);
    tcase_add_test(tc, versions_and_corruption_are_detected);
    tcase_add_test(tc, wrong_architectures_and_tensors_are_rejected);
    tcase_add_test(tc, failed_writes_leave_the_previous_file_intact);
    tcase_add_test(tc, a_writer_killed_mid_write_leaves_the_previous_file_intact);
    suite_add_tcase(s, tc);
    return s;
}

RP_TEST_MAIN(checkpoint_suite)
