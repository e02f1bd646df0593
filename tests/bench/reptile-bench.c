/* reptile-bench: speed of the lib/nn kernels on the tutorial's Omniglot
 * network, chained directly (tests/unit/nn/omninet.c, the chain the golden
 * test validates), against cblas_sgemm's practical peak on one thread.
 * Prints key=value lines; the last is train_step_vs_sgemm=R (target >= 0.7).
 * Usage: reptile-bench [--quick] [--steps-only]
 *   --steps-only: just the step times at batch 10, 20, 25 and 100 in both
 *   BatchNorm modes (the table of docs/performance.md, one GEMM path per
 *   run: REPTILE_GEMM=blas|native). */
#include "omninet.h"
#include "rp_config.h"

#include <cblas.h>
#include "nn/gemm.h"
#include <pthread.h>
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

/* Real FLOPs of one training step per image: forward (2*MACs), dW for
 * every layer, dx for every layer but the first (never computed). */
static double step_flops_per_image(const omninet *n)
{
    const rp_conv2d_shape *s0 = &n->conv[0];
    double macs = omninet_macs_per_image(n);
    double first = (double)s0->out_h * s0->out_w * 9 * s0->in_c * s0->out_c;
    return 2.0 * (3 * macs - first);
}

typedef struct {
    omninet net;
    float *x;
    int32_t *labels;
} job;

static int job_init(job *j, int batch, uint32_t seed)
{
    if (omninet_init(&j->net, batch, 5) != 0)
        return -1;
    /* Glorot-like scales keep activations in a normal range. */
    for (int l = 0; l < ON_LAYERS; ++l)
        fill(j->net.k[l], (size_t)9 * j->net.conv[l].in_c * ON_CH, 10 + l, l == 0 ? 0.3f : 0.07f);
    fill(j->net.dk, 256 * 5, 20, 0.15f);
    j->x = malloc(sizeof(float) * batch * 784);
    j->labels = malloc(sizeof(int32_t) * batch);
    if (!j->x || !j->labels)
        return -1;
    fill(j->x, (size_t)batch * 784, seed, 0.5f);
    for (int i = 0; i < batch; ++i) {
        j->x[i] += 0.5f;
        j->labels[i] = i % 5;
    }
    return 0;
}

static void job_free(job *j)
{
    omninet_free(&j->net);
    free(j->x);
    free(j->labels);
}

/* Median-free, robust timing: best mean over several trials of `steps` steps. */
static double time_steps(job *j, int bn_train, int steps, int trials)
{
    for (int i = 0; i < 3; ++i) { /* warm caches and OpenBLAS buffers */
        omninet_step(&j->net, j->x, j->labels, bn_train, NULL);
        omninet_sgd(&j->net, 1e-5f);
    }
    double best = 1e30;
    for (int t = 0; t < trials; ++t) {
        double t0 = now();
        for (int i = 0; i < steps; ++i) {
            omninet_step(&j->net, j->x, j->labels, bn_train, NULL);
            omninet_sgd(&j->net, 1e-5f);
        }
        double dt = (now() - t0) / steps;
        best = dt < best ? dt : best;
    }
    return best;
}

static void report_step(const char *key, job *j, int bn_train, double peak)
{
    int steps = g_quick ? 10 : 50, trials = g_quick ? 2 : 5;
    double t = time_steps(j, bn_train, steps, trials);
    double gf = step_flops_per_image(&j->net) * j->net.batch / t * 1e-9;
    printf("%s_ms_per_step=%.3f\n%s_images_per_s=%.0f\n%s_gflops=%.2f\n", key, t * 1e3, key, j->net.batch / t, key,
           gf);
    if (peak > 0)
        printf("%s_vs_sgemm=%.3f\n", key, gf / peak);
}

/* ---- one batch split across two pthreads --------------------------------- */
typedef struct {
    job *j;
    int bn_train;
} shard_arg;

static void *shard_run(void *p)
{
    shard_arg *a = p;
    omninet_step(&a->j->net, a->j->x, a->j->labels, a->bn_train, NULL);
    return NULL;
}

/* Each thread computes its shard's gradients; they are summed into shard 0's
 * buffer (the sum loss makes the full-batch gradient the plain sum), then
 * SGD runs once. Threads are created per step (~20 us, noted in the docs). */
static double time_split(job *sh, int bn_train, int steps, int trials)
{
    double best = 1e30;
    for (int t = -1; t < trials; ++t) {
        double t0 = now();
        for (int i = 0; i < steps; ++i) {
            pthread_t th;
            shard_arg a0 = {&sh[0], bn_train}, a1 = {&sh[1], bn_train};
            if (pthread_create(&th, NULL, shard_run, &a1) != 0)
                exit(1);
            shard_run(&a0);
            pthread_join(th, NULL);
            float *restrict g0 = sh[0].net.grads;
            const float *restrict g1 = sh[1].net.grads;
            for (size_t k = 0; k < sh[0].net.nparams; ++k)
                g0[k] += g1[k];
            omninet_sgd(&sh[0].net, 1e-5f);
            memcpy(sh[1].net.params, sh[0].net.params, sh[0].net.nparams * sizeof(float));
        }
        double dt = (now() - t0) / steps;
        if (t >= 0) /* t = -1 is the warm-up */
            best = dt < best ? dt : best;
    }
    return best;
}

static void per_layer(job *j, int bn_train, const char *mode)
{
    omninet *n = &j->net;
    const int steps = g_quick ? 10 : 40;
    memset(n->t_fwd, 0, sizeof n->t_fwd);
    memset(n->t_bwd, 0, sizeof n->t_bwd);
    n->timing = 1;
    for (int i = 0; i < steps; ++i)
        omninet_step(n, j->x, j->labels, bn_train, NULL);
    n->timing = 0;
    static const char *names[ON_STAGES] = {"conv1", "conv2", "conv3", "conv4", "dense", "loss"};
    for (int s = 0; s < ON_STAGES; ++s) {
        if (s == 5) {
            printf("layer_%s_%s_fwd_us=%.1f\n", mode, names[s], n->t_fwd[s] / steps * 1e6);
            continue;
        }
        printf("layer_%s_%s_fwd_us=%.1f layer_%s_%s_bwd_us=%.1f\n", mode, names[s], n->t_fwd[s] / steps * 1e6, mode,
               names[s], n->t_bwd[s] / steps * 1e6);
    }
}

/* One training step (one thread) at the batch sizes the presets use:
 * 10 and 20 (paper, batch statistics), 25 (tutorial, frozen) and 100. */
static int step_table(void)
{
    static const int batches[] = {10, 20, 25, 100};
    for (size_t b = 0; b < sizeof batches / sizeof batches[0]; ++b) {
        job j;
        if (job_init(&j, batches[b], 5) != 0)
            return 1;
        for (int bn_train = 0; bn_train < 2; ++bn_train) {
            int steps = (g_quick ? 400 : 2000) / batches[b];
            double t = time_steps(&j, bn_train, steps, g_quick ? 3 : 7);
            printf("step_ms_b%d_bn_%s=%.3f\n", batches[b], bn_train ? "batch" : "frozen", t * 1e3);
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
    if (job_init(&j25, 25, 1) != 0)
        return 1;
    printf("params=%zu\n", j25.net.nparams);
    printf("step_mflop_per_image=%.2f\n", step_flops_per_image(&j25.net) * 1e-6);
    for (int l = 0; l < ON_LAYERS; ++l)
        printf("conv%d_path=%s\n", l + 1, rp_conv2d_uses_direct(&j25.net.conv[l]) ? "direct" : "im2col_gemm");
    report_step("train_step_b25_bn_infer", &j25, 0, peak);
    report_step("train_step_b25_bn_batch", &j25, 1, peak);
    per_layer(&j25, 0, "infer");
    per_layer(&j25, 1, "batch");

    job j100;
    if (job_init(&j100, 100, 2) != 0)
        return 1;
    report_step("train_step_b100_bn_infer", &j100, 0, peak);

    set_blas_threads(2);
    printf("blas_threads=2\n");
    printf("sgemm_1024_gflops_2threads=%.2f\n", gemm_gflops(1024, 0));
    report_step("train_step_b25_bn_infer_2blas", &j25, 0, 0);
    report_step("train_step_b100_bn_infer_2blas", &j100, 0, 0);
    set_blas_threads(1);

    job sh[2];
    if (job_init(&sh[0], 12, 3) != 0 || job_init(&sh[1], 13, 4) != 0)
        return 1;
    memcpy(sh[1].net.params, sh[0].net.params, sh[0].net.nparams * sizeof(float));
    double ts = time_split(sh, 0, g_quick ? 10 : 50, g_quick ? 2 : 5);
    printf("train_step_b25_split_12_13_pthreads_ms_per_step=%.3f\n", ts * 1e3);
    printf("train_step_b25_split_12_13_pthreads_images_per_s=%.0f\n", 25 / ts);
    printf("train_step_b25_split_12_13_pthreads_gflops=%.2f\n", step_flops_per_image(&j25.net) * 25 / ts * 1e-9);

    /* Final ratio: the tutorial's step (frozen BN) vs one-thread sgemm,
     * measured in alternating rounds (best of each) so that load from other
     * processes hits both sides alike. */
    double t = 1e30;
    for (int r = 0; r < 3; ++r) {
        double p = sgemm_gflops(1024), tr = time_steps(&j25, 0, g_quick ? 10 : 30, g_quick ? 1 : 3);
        peak = p > peak ? p : peak;
        t = tr < t ? tr : t;
    }
    double gf = step_flops_per_image(&j25.net) * 25 / t * 1e-9;
    printf("sgemm_1024_gflops_best=%.2f\ntrain_step_b25_bn_infer_gflops_best=%.2f\n", peak, gf);
    printf("train_step_vs_sgemm=%.3f\n", gf / peak);
    job_free(&j25);
    job_free(&j100);
    job_free(&sh[0]);
    job_free(&sh[1]);
    return 0;
}
