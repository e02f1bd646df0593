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
 * Prints key=value lines; the last is train_step_vs_sgemm=R (target >= 0.7).
 * Usage: reptile-bench [--quick] [--steps-only]
 *   --steps-only: just the step times at batch 10, 20, 25 and 100 in both
 *   BatchNorm modes (the table of docs/performance.md, one GEMM path per
 *   run: REPTILE_GEMM=blas|native). */
#include "core/pool.h"
#include "model/model_internal.h" /* layer shapes (FLOPs, conv paths) and the pool */
#include "nn/gemm.h"
#include "reptile/reptile.h"
#include "rp_config.h"

#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#if RP_HAVE_OPENBLAS_THREADS
void openblas_set_num_threads(int num_threads); /* not declared by every cblas.h */
#endif

static void set_blas_threads(int n)
{
#if RP_HAVE_OPENBLAS_THREADS
    openblas_set_num_threads(n);
#else
    (void)n;
#endif
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int g_quick;

/* Deterministic pseudo-random fill (no libc rand). */
static void fill(float *p, size_t n, uint32_t seed, float scale)
{
    uint32_t s = seed * 2654435761u + 1;
    for (size_t i = 0; i < n; ++i) {
        s ^= s << 13; s ^= s >> 17; s ^= s << 5;
        p[i] = scale * ((float)(s >> 8) * (1.0f / 8388608.0f) - 1.0f);
    }
}

/* 1024^3 GEMM throughput through cblas_sgemm (native = 0) or through the
 * library's rp_sgemm (native = 1: the AVX-512 kernel where it is chosen). */
static double gemm_gflops(int n, int native)
{
    float *a = malloc(sizeof(float) * n * n), *b = malloc(sizeof(float) * n * n), *c = malloc(sizeof(float) * n * n);
    if (!a || !b || !c)
        exit(1);
    fill(a, (size_t)n * n, 1, 1);
    fill(b, (size_t)n * n, 2, 1);
    double best = 1e30;
    for (int r = 0; r < (g_quick ? 3 : 8); ++r) {
        double t = now();
        if (native)
            rp_sgemm(0, 0, n, n, n, 1.0f, a, n, b, n, 0.0f, c, n);
        else
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0f, a, n, b, n, 0.0f, c, n);
        t = now() - t;
        best = t < best ? t : best;
    }
    free(a); free(b); free(c);
    return 2.0 * n * n * n / best * 1e-9;
}

/* The machine's practical single-thread peak: the faster of OpenBLAS and
 * the library's own kernel (OpenBLAS may run a kernel for an older CPU). */
static double sgemm_gflops(int n)
{
    double blas = gemm_gflops(n, 0), own = gemm_gflops(n, 1);
    return blas > own ? blas : own;
}

/* The one call that chooses the loss: the keras-tutorial preset's (summed
 * cross-entropy with Keras' probability clipping). */
static int use_tutorial_loss(reptile_model *model, reptile_optimizer *opt)
{
    (void)model, (void)opt;
    return reptile_model_set_loss(model, REPTILE_REDUCTION_SUM, 1);
}

/* Forward multiply-adds per image (convs + dense) and those of layer 0,
 * read off the model's layers. */
static double macs_per_image(const reptile_model *m, double *first)
{
    double macs = 0;
    *first = 0;
    for (int l = 0; l < m->n_layers; ++l) {
        const rp_layer *ly = &m->layers[l];
        double k = 0;
        if (ly->kind == RP_LAYER_CONV2D)
            k = (double)ly->out_h * ly->out_w * ly->conv.k_h * ly->conv.k_w * ly->in_c * ly->out_c;
        else if (ly->kind == RP_LAYER_DENSE)
            k = (double)ly->in_c * ly->out_c;
        if (l == 0)
            *first = k;
        macs += k;
    }
    return macs;
}

/* Real FLOPs of one training step per image: forward (2*MACs), dW for
 * every layer, dx for every layer but the first (never computed). */
static double step_flops_per_image(const reptile_model *m)
{
    double first, macs = macs_per_image(m, &first);
    return 2.0 * (3 * macs - first);
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
    fill(j->x, (size_t)batch * 784, (uint32_t)seed, 0.5f);
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
        double t0 = now();
        for (int i = 0; i < steps; ++i)
            step(j, bn_mode);
        double dt = (now() - t0) / steps;
        best = dt < best ? dt : best;
    }
    return best;
}

static void report_step(const char *key, job *j, int bn_mode, double peak)
{
    int steps = g_quick ? 10 : 50, trials = g_quick ? 2 : 5;
    double t = time_steps(j, bn_mode, steps, trials);
    double gf = step_flops_per_image(j->m) * j->batch / t * 1e-9;
    printf("%s_ms_per_step=%.3f\n%s_images_per_s=%.0f\n%s_gflops=%.2f\n", key, t * 1e3, key, j->batch / t, key,
           gf);
    if (peak > 0)
        printf("%s_vs_sgemm=%.3f\n", key, gf / peak);
}

/* One training step (one thread) at the batch sizes the presets use:
 * 10 and 20 (paper, batch statistics), 25 (tutorial, frozen) and 100. */
static int step_table(void)
{
    static const int batches[] = {10, 20, 25, 100};
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

int main(int argc, char **argv)
{
    int steps_only = 0;
    for (int i = 1; i < argc; ++i) {
        if (strcmp(argv[i], "--quick") == 0) {
            g_quick = 1;
        } else if (strcmp(argv[i], "--steps-only") == 0) {
            steps_only = 1;
        } else {
            fprintf(stderr, "reptile-bench: unknown option '%s' (--quick, --steps-only)\n", argv[i]);
            return 2;
        }
    }
    if (steps_only) {
        set_blas_threads(1);
        printf("gemm_path=%s\n", rp_sgemm_path());
        return step_table();
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
    set_blas_threads(1);
    printf("blas_threads=1\n");
    printf("gemm_path=%s\n", rp_sgemm_path());
    double blas_peak = gemm_gflops(1024, 0), own_peak = gemm_gflops(1024, 1);
    double peak = blas_peak > own_peak ? blas_peak : own_peak;
    printf("cblas_sgemm_1024_gflops=%.2f\nrp_sgemm_1024_gflops=%.2f\n", blas_peak, own_peak);
    printf("sgemm_1024_gflops=%.2f\n", peak);

    job j25;
    job_init(&j25, 25, 1);
    printf("params=%zu\n", reptile_model_num_params(j25.m));
    printf("step_mflop_per_image=%.2f\n", step_flops_per_image(j25.m) * 1e-6);
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
    printf("train_step_b25_split_12_13_pthreads_gflops=%.2f\n", step_flops_per_image(j25.m) * 25 / ts * 1e-9);

    /* Final ratio: the tutorial's step (frozen BN) vs one-thread sgemm,
     * measured in alternating rounds (best of each) so that load from other
     * processes hits both sides alike. */
    double t = 1e30;
    for (int r = 0; r < 3; ++r) {
        double p = sgemm_gflops(1024), tr = time_steps(&j25, REPTILE_BN_FROZEN, g_quick ? 10 : 30, g_quick ? 1 : 3);
        peak = p > peak ? p : peak;
        t = tr < t ? tr : t;
    }
    double gf = step_flops_per_image(j25.m) * 25 / t * 1e-9;
    printf("sgemm_1024_gflops_best=%.2f\ntrain_step_b25_bn_infer_gflops_best=%.2f\n", peak, gf);
    printf("train_step_vs_sgemm=%.3f\n", gf / peak);
    job_free(&j25);
    job_free(&j100);
    return 0;
}
