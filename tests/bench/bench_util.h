/* What the benchmark programs share: the clock, a deterministic fill, the
 * machine's sgemm peak (one thread, and two threads at once), the FLOPs of
 * a training step read off a model's layers, and the GEMM path lines. */
#ifndef RP_BENCH_UTIL_H
#define RP_BENCH_UTIL_H

#include "reptile/model.h"

#include <stddef.h>
#include <stdint.h>

double bench_now(void);

/* Deterministic values in [-scale, scale) (no libc rand). */
void bench_fill(float *p, size_t n, uint32_t seed, float scale);

/* n^3 GEMM throughput, GFLOP/s, best of `rounds`: cblas_sgemm (native = 0)
 * or the library's rp_sgemm (native = 1: its AVX-512 kernel where chosen). */
double bench_gemm_gflops(int n, int native, int rounds);

/* The machine's practical single-thread peak: the faster of the two. */
double bench_sgemm_peak(int n, int rounds);

/* The aggregate of `threads` threads each running the faster GEMM on its
 * own matrices at once: what the cores sustain together (shared caches,
 * power limits and a host's other tenants all show here). */
double bench_sgemm_peak_concurrent(int n, int rounds, int threads);

/* FLOPs of a forward pass per image (2 x the multiply-adds). */
double bench_forward_flops_per_image(const reptile_model *m);

/* Real FLOPs of one training step per image: forward (2 x MACs), dW for
 * every layer, dx for every layer but the first (never computed). */
double bench_step_flops_per_image(const reptile_model *m);

/* OpenBLAS's own thread count (1 in every benchmark: the library pins it
 * to 1 inside its calls anyway). */
void bench_set_blas_threads(int n);

/* gemm_path=... and, where OpenBLAS names it, openblas_core=... */
void bench_print_gemm(void);

#endif
