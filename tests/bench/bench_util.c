#include "bench_util.h"
#include "model/model_internal.h" /* layer shapes */
#include "nn/gemm.h"
#include "rp_config.h"

#include <cblas.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#if RP_HAVE_OPENBLAS_THREADS
void openblas_set_num_threads(int num_threads); /* not declared by every cblas.h */
#endif
#ifdef RP_BENCH_HAVE_CORENAME
char *openblas_get_corename(void); /* OpenBLAS only */
#endif

double bench_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void bench_fill(float *p, size_t n, uint32_t seed, float scale)
{
    uint32_t s = seed * 2654435761u + 1;
    for (size_t i = 0; i < n; ++i) {
        s ^= s << 13;
        s ^= s >> 17;
        s ^= s << 5;
        p[i] = scale * ((float)(s >> 8) * (1.0f / 8388608.0f) - 1.0f);
    }
}

typedef struct gemm_run {
    int n, native, rounds;
    double best_s; /* fastest call */
} gemm_run;

static void *run_gemm(void *arg)
{
    gemm_run *r = arg;
    const size_t nn = (size_t)r->n * r->n;
    float *a = malloc(nn * sizeof *a), *b = malloc(nn * sizeof *b), *c = malloc(nn * sizeof *c);
    if (!a || !b || !c) {
        fprintf(stderr, "bench: out of memory\n");
        exit(1);
    }
    bench_fill(a, nn, 1, 1);
    bench_fill(b, nn, 2, 1);
    r->best_s = 1e30;
    for (int k = 0; k < r->rounds; ++k) {
        double t = bench_now();
        if (r->native)
            rp_sgemm(0, 0, r->n, r->n, r->n, 1.0f, a, r->n, b, r->n, 0.0f, c, r->n);
        else
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, r->n, r->n, r->n, 1.0f, a, r->n,
                        b, r->n, 0.0f, c, r->n);
        t = bench_now() - t;
        r->best_s = t < r->best_s ? t : r->best_s;
    }
    free(a);
    free(b);
    free(c);
    return NULL;
}

static double gflops(int n, double s) { return 2.0 * n * n * n / s * 1e-9; }

double bench_gemm_gflops(int n, int native, int rounds)
{
    gemm_run r = {n, native, rounds, 0};
    run_gemm(&r);
    return gflops(n, r.best_s);
}

double bench_sgemm_peak(int n, int rounds)
{
    double blas = bench_gemm_gflops(n, 0, rounds), own = bench_gemm_gflops(n, 1, rounds);
    return blas > own ? blas : own;
}

double bench_sgemm_peak_concurrent(int n, int rounds, int threads)
{
    const int native = bench_gemm_gflops(n, 1, 2) >= bench_gemm_gflops(n, 0, 2);
    gemm_run r[64];
    pthread_t tid[64];
    threads = threads < 1 ? 1 : threads > 64 ? 64 : threads;
    for (int t = 0; t < threads; ++t) {
        r[t] = (gemm_run){n, native, rounds, 0};
        if (pthread_create(&tid[t], NULL, run_gemm, &r[t]) != 0) {
            fprintf(stderr, "bench: pthread_create failed\n");
            exit(1);
        }
    }
    double total = 0;
    for (int t = 0; t < threads; ++t) {
        pthread_join(tid[t], NULL);
        total += gflops(n, r[t].best_s);
    }
    return total;
}

/* Forward multiply-adds per image (convs + dense) and those of layer 0. */
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

double bench_forward_flops_per_image(const reptile_model *m)
{
    double first;
    return 2.0 * macs_per_image(m, &first);
}

double bench_step_flops_per_image(const reptile_model *m)
{
    double first, macs = macs_per_image(m, &first);
    return 2.0 * (3 * macs - first);
}

void bench_set_blas_threads(int n)
{
#if RP_HAVE_OPENBLAS_THREADS
    openblas_set_num_threads(n);
#else
    (void)n;
#endif
}

void bench_print_gemm(void)
{
    printf("gemm_path=%s\n", rp_sgemm_path());
#ifdef RP_BENCH_HAVE_CORENAME
    printf("openblas_core=%s\n", openblas_get_corename());
#endif
}
