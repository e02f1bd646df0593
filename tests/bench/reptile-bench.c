/* reptile-bench: speed of the library's own training step,
 * reptile_model_train_step, on the tutorial's Omniglot network
 * (reptile_model_new_omniglot with 5 classes, plain SGD, the keras-tutorial
 * preset's loss), against cblas_sgemm's practical peak on one thread.
 * A step is the whole call an application makes: the shard split (12 + 13
 * images at batch 25 with frozen BatchNorm; one shard with batch
 * statistics), forward, loss, backward, the gradient sum, the SGD update of
 * all 113,221 parameters and, with batch statistics, the moving averages.
 * Without a pool the shards run one after the other on the calling thread;
 * the train_step_b25_split_12_13_pthreads lines give the model the
 * two-thread pool the meta-learner lends it with --threads 2.
 * Then adaptation, through the public API only (reptile/adapt.h): adapt +
 * predict of 5-way 5-shot tasks with the paper-omniglot-5way preset's
 * evaluation settings (50 Adam steps of 5 images, batch statistics, each
 * query predicted with the support set) and the keras-tutorial preset's
 * (5 epochs of 25 images, frozen BatchNorm), one thread: median and 99th
 * percentile against the FLOP floor at the sgemm peak
 * (adapt_vs_floor_paper / _tutorial, target <= 1.5), and the memory an
 * adapted task holds (adapt_memory_kb).
 * Prints key=value lines; the last is train_step_vs_sgemm=R (target >= 0.7).
 * Usage: reptile-bench [--quick] [--steps-only | --adapt-only]
 *   --steps-only: just the step times at batch 10, 20, 25 and 100 in both
 *   BatchNorm modes (the table of docs/performance.md, one GEMM path per
 *   run: REPTILE_GEMM=blas|native).
 *   --adapt-only: just the adaptation lines. */
#include "bench_util.h"
#include "core/pool.h"
#include "model/model_internal.h" /* layer shapes (FLOPs, conv paths) and the pool */
#include "nn/gemm.h"
#include "reptile/reptile.h"
#include "rp_config.h"

#include <cblas.h>
#include <malloc.h> /* mallinfo2 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h> /* fork, sysconf */

static int g_quick;


static double gemm_gflops(int n, int native) { return bench_gemm_gflops(n, native, g_quick ? 3 : 8); }

/* The machine's practical single-thread peak (bench_util.c). */
static double sgemm_gflops(int n) { return bench_sgemm_peak(n, g_quick ? 3 : 8); }

/* The one call that chooses the loss: the keras-tutorial preset's (summed
 * cross-entropy with Keras' probability clipping). */
static int use_tutorial_loss(reptile_model *model, reptile_optimizer *opt)
{
    (void)model, (void)opt;
    return reptile_model_set_loss(model, REPTILE_REDUCTION_SUM, 1);
}

typedef struct {
    reptile_model *m;
    reptile_optimizer *opt;
    float *x;
    int32_t *labels;
    int batch;
} job;

static void die(const char *what)
{
    fprintf(stderr, "reptile-bench: %s: %s\n", what, reptile_error_last());
    exit(1);
}

static void job_init(job *j, int batch, uint64_t seed)
{
    memset(j, 0, sizeof *j);
    j->batch = batch;
    /* Keras initialisation (Glorot-uniform kernels) from the seed. */
    if (reptile_model_new_omniglot(&j->m, 5, seed) != 0)
        die("reptile_model_new_omniglot");
    if (reptile_optimizer_new_sgd(&j->opt, 1e-5f, 0.0f) != 0 || use_tutorial_loss(j->m, j->opt) != 0)
        die("optimizer");
    j->x = malloc(sizeof(float) * batch * 784);
    j->labels = malloc(sizeof(int32_t) * batch);
    if (!j->x || !j->labels)
        exit(1);
    bench_fill(j->x, (size_t)batch * 784, (uint32_t)seed, 0.5f);
    for (int i = 0; i < batch; ++i) {
        for (int p = 0; p < 784; ++p)
            j->x[(size_t)i * 784 + p] += 0.5f; /* pixels in [0, 1) */
        j->labels[i] = i % 5;
    }
}

static void job_free(job *j)
{
    reptile_optimizer_free(j->opt);
    reptile_model_free(j->m);
    free(j->x);
    free(j->labels);
}

static void step(job *j, int bn_mode)
{
    if (reptile_model_train_step(j->m, j->opt, j->x, j->labels, j->batch, bn_mode, NULL) != 0)
        die("reptile_model_train_step");
}

/* Median-free, robust timing: best mean over several trials of `steps` steps. */
static double time_steps(job *j, int bn_mode, int steps, int trials)
{
    for (int i = 0; i < 3; ++i) /* warm caches, workspaces and OpenBLAS buffers */
        step(j, bn_mode);
    double best = 1e30;
    for (int t = 0; t < trials; ++t) {
        double t0 = bench_now();
        for (int i = 0; i < steps; ++i)
            step(j, bn_mode);
        double dt = (bench_now() - t0) / steps;
        best = dt < best ? dt : best;
    }
    return best;
}

static void report_step(const char *key, job *j, int bn_mode, double peak)
{
    int steps = g_quick ? 10 : 50, trials = g_quick ? 2 : 5;
    double t = time_steps(j, bn_mode, steps, trials);
    double gf = bench_step_flops_per_image(j->m) * j->batch / t * 1e-9;
    printf("%s_ms_per_step=%.3f\n%s_images_per_s=%.0f\n%s_gflops=%.2f\n", key, t * 1e3, key, j->batch / t, key,
           gf);
    if (peak > 0)
        printf("%s_vs_sgemm=%.3f\n", key, gf / peak);
}

/* One training step (one thread) at the batch sizes the presets use: 5
 * (the paper's evaluation), 10 and 20 (its training, batch statistics), 25
 * (tutorial, frozen) and 100. */
static int step_table(void)
{
    static const int batches[] = {5, 10, 20, 25, 100};
    for (size_t b = 0; b < sizeof batches / sizeof batches[0]; ++b) {
        job j;
        job_init(&j, batches[b], 5);
        for (int bn_batch = 0; bn_batch < 2; ++bn_batch) {
            int steps = (g_quick ? 400 : 2000) / batches[b];
            double t = time_steps(&j, bn_batch ? REPTILE_BN_BATCH : REPTILE_BN_FROZEN, steps, g_quick ? 3 : 7);
            printf("step_ms_b%d_bn_%s=%.3f\n", batches[b], bn_batch ? "batch" : "frozen", t * 1e3);
        }
        job_free(&j);
    }
    return 0;
}

/* ---- adaptation: adapt + predict through the public API ------------------------ */

/* One adaptation setting: a preset's evaluation (fine-tuning length, batch,
 * optimizer, loss, BatchNorm mode) and the prediction mode. */
typedef struct {
    const char *key;    /* suffix of the key=value lines */
    const char *preset; /* reptile_meta_options_preset() name */
    int mode;           /* enum reptile_predict_mode */
} adapt_cfg;

static const adapt_cfg adapt_cfgs[] = {
    {"paper", "paper-omniglot-5way", REPTILE_PREDICT_WITH_SUPPORT},
    {"tutorial", "keras-tutorial", REPTILE_PREDICT_WITH_SUPPORT},
};
enum { N_ADAPT_CFGS = sizeof adapt_cfgs / sizeof adapt_cfgs[0] };

/* Everything one setting's tasks need: the learner, the task shape, the
 * buffers of one task and its FLOPs. */
typedef struct {
    const adapt_cfg *cfg;
    reptile_meta_options opts;
    reptile_learner *learner;
    reptile_task_options task;
    int ns, nq, outputs;
    float *support, *queries, *probs;
    int32_t *support_y, *query_y;
    double train_flop, predict_flop; /* per task */
} adapt_bench;

enum { ADAPT_CLASSES = 25, ADAPT_PER_CLASS = 20, ADAPT_HOLD = 50 };

static double *xmalloc_d(size_t n)
{
    double *p = malloc(n * sizeof *p);
    if (!p)
        exit(1);
    return p;
}

/* A data set of random 28x28 images in [0, 1): 25 classes of 20. */
static reptile_dataset *synthetic_dataset(void)
{
    const int n = ADAPT_CLASSES * ADAPT_PER_CLASS;
    float *x = malloc(sizeof(float) * (size_t)n * 784);
    int32_t *y = malloc(sizeof(int32_t) * (size_t)n);
    if (!x || !y)
        exit(1);
    bench_fill(x, (size_t)n * 784, 77, 0.5f);
    for (int i = 0; i < n; ++i) {
        for (int p = 0; p < 784; ++p)
            x[(size_t)i * 784 + p] += 0.5f;
        y[i] = i / ADAPT_PER_CLASS;
    }
    reptile_dataset *ds = NULL;
    if (reptile_dataset_from_memory(&ds, x, y, n, 28, 28, 1) != 0)
        die("reptile_dataset_from_memory");
    free(x);
    free(y);
    return ds;
}

/* The learner of a preset's evaluation settings on the tutorial network
 * (fresh Glorot weights: the time does not depend on what was learned). */
static void adapt_init(adapt_bench *b, const adapt_cfg *cfg)
{
    memset(b, 0, sizeof *b);
    b->cfg = cfg;
    if (reptile_meta_options_preset(&b->opts, REPTILE_META_OPTIONS_VERSION, cfg->preset) != 0)
        die(cfg->preset);
    reptile_model *m = NULL;
    if (reptile_model_new_omniglot(&m, b->opts.ways, 11) != 0)
        die("reptile_model_new_omniglot");
    if (reptile_learner_new(&b->learner, m, &b->opts) != 0)
        die("reptile_learner_new");
    if (reptile_task_options_init(&b->task, REPTILE_TASK_OPTIONS_VERSION) != 0)
        die("reptile_task_options_init");
    b->task.ways = b->opts.ways;
    b->task.shots = b->opts.eval_shots;
    b->task.queries = 1;
    b->task.with_replacement = b->opts.with_replacement;
    b->task.seed = b->opts.seed;
    b->ns = b->task.ways * b->task.shots;
    if (b->opts.eval_batch > b->ns) {
        fprintf(stderr, "reptile-bench: %s: eval_batch %d exceeds the support set (%d images)\n", cfg->preset,
                b->opts.eval_batch, b->ns);
        exit(1);
    }
    b->nq = b->task.ways * b->task.queries;
    b->outputs = reptile_model_num_outputs(m);
    b->support = malloc(sizeof(float) * (size_t)b->ns * 784);
    b->queries = malloc(sizeof(float) * (size_t)b->nq * 784);
    b->probs = malloc(sizeof(float) * (size_t)b->nq * (size_t)b->outputs);
    b->support_y = malloc(sizeof(int32_t) * (size_t)b->ns);
    b->query_y = malloc(sizeof(int32_t) * (size_t)b->nq);
    if (!b->support || !b->queries || !b->probs || !b->support_y || !b->query_y)
        exit(1);

    /* FLOP floor of one task: the fine-tuning steps' images times a training
     * step's FLOPs per image, plus the forward passes of prediction (with
     * batch statistics and WITH_SUPPORT, each query goes through the network
     * with the whole support set: nq * (ns + 1) images). */
    double fwd = bench_forward_flops_per_image(m);
    double images = b->opts.iters_are_steps
                        ? (double)b->opts.eval_iters * b->opts.eval_batch
                        : (double)b->opts.eval_iters * b->ns;
    b->train_flop = images * bench_step_flops_per_image(m);
    b->predict_flop = fwd * (b->opts.bn_mode == REPTILE_BN_BATCH && cfg->mode == REPTILE_PREDICT_WITH_SUPPORT
                                 ? (double)b->nq * (b->ns + 1)
                                 : (double)b->nq);
    reptile_model_free(m);
}

static void adapt_free(adapt_bench *b)
{
    reptile_learner_free(b->learner);
    free(b->support);
    free(b->queries);
    free(b->probs);
    free(b->support_y);
    free(b->query_y);
}

static uint64_t adapt_sample(adapt_bench *b, const reptile_dataset *ds, uint64_t index)
{
    uint64_t seed = 0;
    if (reptile_dataset_sample_task(ds, &b->task, index, b->support, b->support_y, b->queries,
                                    b->query_y, NULL, &seed) != 0)
        die("reptile_dataset_sample_task");
    return seed;
}

/* Task `index`: adapt, then predict its queries; the two times in seconds.
 * Returns the adapted model when keep is set (else frees it). */
static reptile_adapted *adapt_task(adapt_bench *b, const reptile_dataset *ds, uint64_t index,
                                   double *t_adapt, double *t_predict, int keep)
{
    uint64_t seed = adapt_sample(b, ds, index);
    reptile_adapted *a = NULL;
    double t0 = bench_now();
    if (reptile_learner_adapt(b->learner, &a, b->support, b->support_y, b->ns, b->task.ways, seed) != 0)
        die("reptile_learner_adapt");
    double t1 = bench_now();
    if (reptile_adapted_predict(a, b->queries, b->nq, b->cfg->mode, b->probs) != 0)
        die("reptile_adapted_predict");
    double t2 = bench_now();
    if (t_adapt)
        *t_adapt = t1 - t0;
    if (t_predict)
        *t_predict = t2 - t1;
    if (keep)
        return a;
    reptile_adapted_free(a);
    return NULL;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Nearest-rank percentile of n values (sorts v). */
static double percentile(double *v, int n, double p)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    int k = (int)ceil(p * n) - 1;
    return v[k < 0 ? 0 : k >= n ? n - 1 : k];
}

/* The fine-tuning steps alone, through the public model API: a clone of the
 * learner's model and a fresh optimizer of its settings, then the same
 * number of reptile_model_train_step() calls and batch sizes on the support
 * set (the first step sizes the clone's workspaces, as in an adaptation).
 * Seconds of the clone and of the steps. */
static void bare_steps(adapt_bench *b, double *t_clone, double *t_steps)
{
    const reptile_meta_options *o = &b->opts;
    reptile_model *m = NULL;
    reptile_optimizer *opt = NULL;
    double t0 = bench_now();
    if (reptile_model_clone(&m, reptile_learner_model(b->learner)) != 0)
        die("reptile_model_clone");
    double t1 = bench_now();
    int rc = o->optimizer == REPTILE_OPTIMIZER_ADAM
                 ? reptile_optimizer_new_adam(&opt, o->lr, o->beta1, o->beta2, o->adam_eps)
                 : reptile_optimizer_new_sgd(&opt, o->lr, o->momentum);
    if (rc != 0 || reptile_model_set_loss(m, o->reduction, o->keras_clip) != 0)
        die("optimizer");
    double t2 = bench_now();
    if (o->iters_are_steps) {
        /* Batches of eval_batch consecutive support images, cycling
         * through the support set (the time does not depend on the order). */
        const int chunks = b->ns / o->eval_batch > 0 ? b->ns / o->eval_batch : 1;
        for (int s = 0; s < o->eval_iters; ++s) {
            const size_t off = (size_t)(s % chunks) * (size_t)o->eval_batch;
            if (reptile_model_train_step(m, opt, b->support + off * 784, b->support_y + off, o->eval_batch,
                                         o->bn_mode, NULL) != 0)
                die("reptile_model_train_step");
        }
    } else {
        for (int e = 0; e < o->eval_iters; ++e)
            for (int s = 0; s < b->ns; s += o->eval_batch) {
                int k = b->ns - s < o->eval_batch ? b->ns - s : o->eval_batch;
                if (reptile_model_train_step(m, opt, b->support + (size_t)s * 784, b->support_y + s, k, o->bn_mode,
                                             NULL) != 0)
                    die("reptile_model_train_step");
            }
    }
    double t3 = bench_now();
    *t_clone = t1 - t0;
    *t_steps = t3 - t2;
    reptile_optimizer_free(opt);
    reptile_model_free(m);
}

typedef struct {
    double p50, p99;           /* adapt + predict */
    double fit_p50, predict_p50; /* the two calls */
    double steps_p50, clone_p50; /* bare_steps() */
} adapt_times;

/* One round: `tasks` tasks (adapt + predict) and, after every fourth,
 * one bare_steps() run on its support set (interleaved, so that both see
 * the same load). */
static adapt_times adapt_round(adapt_bench *b, const reptile_dataset *ds, int tasks)
{
    const int reps = (tasks + 3) / 4;
    double *tot = xmalloc_d((size_t)tasks), *ad = xmalloc_d((size_t)tasks), *pr = xmalloc_d((size_t)tasks);
    double *cl = xmalloc_d((size_t)reps), *st = xmalloc_d((size_t)reps);
    for (int i = 0; i < 3; ++i) /* warm the allocator, caches and OpenBLAS buffers */
        adapt_task(b, ds, 1000000u + (uint64_t)i, NULL, NULL, 0);
    for (int i = 0; i < tasks; ++i) {
        adapt_task(b, ds, (uint64_t)i, &ad[i], &pr[i], 0);
        tot[i] = ad[i] + pr[i];
        if (i % 4 == 0)
            bare_steps(b, &cl[i / 4], &st[i / 4]);
    }
    adapt_times r;
    r.p50 = percentile(tot, tasks, 0.50);
    r.p99 = percentile(tot, tasks, 0.99);
    r.fit_p50 = percentile(ad, tasks, 0.50);
    r.predict_p50 = percentile(pr, tasks, 0.50);
    r.clone_p50 = percentile(cl, reps, 0.50);
    r.steps_p50 = percentile(st, reps, 0.50);
    free(tot);
    free(ad);
    free(pr);
    free(cl);
    free(st);
    return r;
}

/* Resident set size in KiB (/proc/self/statm), or -1. */
static long rss_kb(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    long size = 0, res = -1;
    if (!f)
        return -1;
    if (fscanf(f, "%ld %ld", &size, &res) != 2)
        res = -1;
    fclose(f);
    return res < 0 ? -1 : res * (sysconf(_SC_PAGESIZE) / 1024);
}

/* Heap bytes in use (glibc's mallinfo2: small chunks + mmapped ones), or -1. */
static double heap_bytes(void)
{
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 33))
    struct mallinfo2 mi = mallinfo2();
    return (double)mi.uordblks + (double)mi.hblkhd;
#else
    return -1;
#endif
}

/* Memory per concurrent adapted task: hold ADAPT_HOLD adapted models (each
 * adapted and used for one prediction, as a server holds them), and divide
 * the growth of the resident set (adapt_memory_kb: what the machine pays,
 * allocator slack included) and of the bytes allocated (glibc's mallinfo2:
 * what the library asks for) by their number. In a child process, so that
 * each setting starts from the same heap and no freed memory of another
 * measurement is reused. */
static void adapt_memory(adapt_bench *b, const reptile_dataset *ds)
{
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0) {
        perror("reptile-bench: fork");
        exit(1);
    }
    if (pid > 0) {
        int status = 0;
        if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            fprintf(stderr, "reptile-bench: the memory measurement failed\n");
            exit(1);
        }
        return;
    }
    reptile_adapted *held[ADAPT_HOLD];
    long rss0 = rss_kb();
    double heap0 = heap_bytes();
    for (int i = 0; i < ADAPT_HOLD; ++i)
        held[i] = adapt_task(b, ds, 2000000u + (uint64_t)i, NULL, NULL, 1);
    long rss1 = rss_kb();
    double heap1 = heap_bytes();
    for (int i = 0; i < ADAPT_HOLD; ++i)
        reptile_adapted_free(held[i]);
    const char *k = b->cfg->key;
    if (rss0 >= 0 && rss1 >= 0)
        printf("adapt_memory_kb_%s=%.0f\n", k, (double)(rss1 - rss0) / ADAPT_HOLD);
    if (heap0 >= 0)
        printf("adapt_memory_alloc_kb_%s=%.0f\n", k, (heap1 - heap0) / ADAPT_HOLD / 1024.0);
    if (strcmp(k, "paper") == 0 && rss0 >= 0 && rss1 >= 0)
        printf("adapt_memory_kb=%.0f\n", (double)(rss1 - rss0) / ADAPT_HOLD);
    fflush(stdout);
    _exit(0);
}

/* The adaptation benchmark: per setting, `rounds` rounds of `tasks` tasks
 * on one thread, alternating with the sgemm peak so that load from other
 * processes hits both; the round with the lowest median is reported
 * (all its lines from that round), against the FLOP floor at the best
 * peak. */
static void adapt_bench_run(void)
{
    const int tasks = g_quick ? 40 : 200, rounds = g_quick ? 1 : 3;
    reptile_dataset *ds = synthetic_dataset();
    adapt_bench b[N_ADAPT_CFGS];
    adapt_times best[N_ADAPT_CFGS];
    for (int c = 0; c < N_ADAPT_CFGS; ++c) {
        adapt_init(&b[c], &adapt_cfgs[c]);
        best[c].p50 = 1e30;
    }
    printf("adapt_memory_held=%d\n", ADAPT_HOLD);
    for (int c = 0; c < N_ADAPT_CFGS; ++c)
        adapt_memory(&b[c], ds);

    double peak = 0;
    for (int r = 0; r < rounds; ++r) {
        double p = sgemm_gflops(1024);
        peak = p > peak ? p : peak;
        for (int c = 0; c < N_ADAPT_CFGS; ++c) {
            adapt_times t = adapt_round(&b[c], ds, tasks);
            if (t.p50 < best[c].p50)
                best[c] = t;
        }
    }
    printf("adapt_tasks=%d\nadapt_rounds=%d\nadapt_sgemm_gflops=%.2f\n", tasks, rounds, peak);
    for (int c = 0; c < N_ADAPT_CFGS; ++c) {
        const adapt_bench *a = &b[c];
        const adapt_times *t = &best[c];
        const char *k = a->cfg->key;
        double floor_s = (a->train_flop + a->predict_flop) / (peak * 1e9);
        printf("adapt_train_mflop_%s=%.1f\nadapt_predict_mflop_%s=%.1f\n", k, a->train_flop * 1e-6, k,
               a->predict_flop * 1e-6);
        printf("adapt_p50_ms_%s=%.2f\nadapt_p99_ms_%s=%.2f\nadapt_floor_ms_%s=%.2f\n", k, t->p50 * 1e3, k,
               t->p99 * 1e3, k, floor_s * 1e3);
        /* Where the time goes: the two calls, and inside the adaptation the
         * bare training steps (their GFLOP/s) and the clone. */
        printf("adapt_fit_p50_ms_%s=%.2f\nadapt_predict_p50_ms_%s=%.2f\n", k, t->fit_p50 * 1e3, k,
               t->predict_p50 * 1e3);
        printf("adapt_steps_p50_ms_%s=%.2f\nadapt_steps_gflops_%s=%.2f\nadapt_predict_gflops_%s=%.2f\n", k,
               t->steps_p50 * 1e3, k, a->train_flop / t->steps_p50 * 1e-9, k,
               a->predict_flop / t->predict_p50 * 1e-9);
        printf("adapt_clone_p50_ms_%s=%.3f\n", k, t->clone_p50 * 1e3);
        printf("adapt_vs_floor_%s=%.3f\n", k, t->p50 / floor_s);
    }
    for (int c = 0; c < N_ADAPT_CFGS; ++c)
        adapt_free(&b[c]);
    reptile_dataset_free(ds);
}

int main(int argc, char **argv)
{
    int steps_only = 0, adapt_only = 0;
    for (int i = 1; i < argc; ++i) {
        if (strcmp(argv[i], "--quick") == 0) {
            g_quick = 1;
        } else if (strcmp(argv[i], "--steps-only") == 0) {
            steps_only = 1;
        } else if (strcmp(argv[i], "--adapt-only") == 0) {
            adapt_only = 1;
        } else {
            fprintf(stderr, "reptile-bench: unknown option '%s' (--quick, --steps-only, --adapt-only)\n",
                    argv[i]);
            return 2;
        }
    }
    if (steps_only && adapt_only) {
        fprintf(stderr, "reptile-bench: --steps-only and --adapt-only exclude each other\n");
        return 2;
    }
    if (steps_only) {
        bench_set_blas_threads(1);
        bench_print_gemm();
        return step_table();
    }
    if (adapt_only) {
        bench_set_blas_threads(1);
        bench_print_gemm();
        adapt_bench_run();
        return 0;
    }
#if defined(__AVX512F__)
    puts("simd=avx512");
#elif defined(__AVX2__)
    puts("simd=avx2");
#elif defined(__SSE2__)
    puts("simd=sse2");
#else
    puts("simd=scalar");
#endif
    bench_set_blas_threads(1);
    printf("blas_threads=1\n");
    bench_print_gemm();
    double blas_peak = gemm_gflops(1024, 0), own_peak = gemm_gflops(1024, 1);
    double peak = blas_peak > own_peak ? blas_peak : own_peak;
    printf("cblas_sgemm_1024_gflops=%.2f\nrp_sgemm_1024_gflops=%.2f\n", blas_peak, own_peak);
    printf("sgemm_1024_gflops=%.2f\n", peak);

    job j25;
    job_init(&j25, 25, 1);
    printf("params=%zu\n", reptile_model_num_params(j25.m));
    printf("step_mflop_per_image=%.2f\n", bench_step_flops_per_image(j25.m) * 1e-6);
    for (int l = 0, conv = 0; l < j25.m->n_layers; ++l)
        if (j25.m->layers[l].kind == RP_LAYER_CONV2D)
            printf("conv%d_path=%s\n", ++conv,
                   rp_conv2d_uses_direct(&j25.m->layers[l].conv) ? "direct" : "im2col_gemm");
    report_step("train_step_b25_bn_infer", &j25, REPTILE_BN_FROZEN, peak);
    report_step("train_step_b25_bn_batch", &j25, REPTILE_BN_BATCH, peak);

    job j100;
    job_init(&j100, 100, 2);
    report_step("train_step_b100_bn_infer", &j100, REPTILE_BN_FROZEN, peak);

    /* The library's own parallelism: its two shards on a pool of two
     * threads (OpenBLAS stays at one thread inside every library call, so
     * OpenBLAS threads would change nothing here). */
    rp_pool *pool = NULL;
    if (rp_pool_new(&pool, 2) != 0)
        die("rp_pool_new");
    rp_model_set_pool(j25.m, pool);
    double ts = time_steps(&j25, REPTILE_BN_FROZEN, g_quick ? 10 : 50, g_quick ? 2 : 5);
    rp_model_set_pool(j25.m, NULL);
    rp_pool_free(pool);
    printf("train_step_b25_split_12_13_pthreads_ms_per_step=%.3f\n", ts * 1e3);
    printf("train_step_b25_split_12_13_pthreads_images_per_s=%.0f\n", 25 / ts);
    printf("train_step_b25_split_12_13_pthreads_gflops=%.2f\n", bench_step_flops_per_image(j25.m) * 25 / ts * 1e-9);

    adapt_bench_run();

    /* Final ratio: the tutorial's step (frozen BN) vs one-thread sgemm,
     * measured in alternating rounds (best of each) so that load from other
     * processes hits both sides alike. */
    double t = 1e30;
    for (int r = 0; r < 3; ++r) {
        double p = sgemm_gflops(1024), tr = time_steps(&j25, REPTILE_BN_FROZEN, g_quick ? 10 : 30, g_quick ? 1 : 3);
        peak = p > peak ? p : peak;
        t = tr < t ? tr : t;
    }
    double gf = bench_step_flops_per_image(j25.m) * 25 / t * 1e-9;
    printf("sgemm_1024_gflops_best=%.2f\ntrain_step_b25_bn_infer_gflops_best=%.2f\n", peak, gf);
    printf("train_step_vs_sgemm=%.3f\n", gf / peak);
    job_free(&j25);
    job_free(&j100);
    return 0;
}
