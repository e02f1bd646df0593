#include "nn/gemm.h"
#include "core/error_internal.h"
#include "rp_config.h"

#include <cblas.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The AVX-512 kernel is built on every x86-64 GCC/clang build, portable
 * ones included (target attributes), and chosen at run time. */
#if defined(__x86_64__) && defined(__GNUC__)
#define RP_GEMM_AVX512_BUILT 1
#else
#define RP_GEMM_AVX512_BUILT 0
#endif

#if RP_GEMM_AVX512_BUILT
#include <immintrin.h>

/* Compiled for AVX-512 whatever -march says; called only when the CPU has it. */
#define RP_AVX512 __attribute__((target("avx512f")))

enum { MR = 6, NR = 64, KC = 128 };

/* acc[r][j] = sum_k a(r, k) * bp[k][j] for a 6 x 64 tile, then
 * C = alpha * acc + beta * C (C not read when beta == 0). a(r, k) is
 * a[r * rs + k * cs], so transposed A needs no packing. */
RP_AVX512 static void kernel_6x64(int kc, const float *a, ptrdiff_t rs, ptrdiff_t cs, const float *bp,
                        float *c, ptrdiff_t ldc, float alpha, float beta, const float *bias64)
{
    __m512 acc[MR][4];
    for (int j = 0; j < 4; ++j) {
        __m512 init = bias64 ? _mm512_load_ps(bias64 + 16 * j) : _mm512_setzero_ps();
        for (int r = 0; r < MR; ++r)
            acc[r][j] = init;
    }
    for (int k = 0; k < kc; ++k) {
        const float *b = bp + (size_t)k * NR;
        __m512 b0 = _mm512_load_ps(b), b1 = _mm512_load_ps(b + 16);
        __m512 b2 = _mm512_load_ps(b + 32), b3 = _mm512_load_ps(b + 48);
        const float *ak = a + k * cs;
        for (int r = 0; r < MR; ++r) {
            __m512 ar = _mm512_set1_ps(ak[r * rs]);
            acc[r][0] = _mm512_fmadd_ps(ar, b0, acc[r][0]);
            acc[r][1] = _mm512_fmadd_ps(ar, b1, acc[r][1]);
            acc[r][2] = _mm512_fmadd_ps(ar, b2, acc[r][2]);
            acc[r][3] = _mm512_fmadd_ps(ar, b3, acc[r][3]);
        }
    }
    const __m512 va = _mm512_set1_ps(alpha), vb = _mm512_set1_ps(beta);
    for (int r = 0; r < MR; ++r) {
        float *cr = c + r * ldc;
        for (int j = 0; j < 4; ++j) {
            __m512 v = _mm512_mul_ps(va, acc[r][j]);
            if (beta != 0.0f)
                v = _mm512_fmadd_ps(vb, _mm512_loadu_ps(cr + 16 * j), v);
            _mm512_storeu_ps(cr + 16 * j, v);
        }
    }
}

/* Packs op(B)[k0 .. k0+kc) x [j0 .. j0+nr) into bp[k][NR], zero-padded. */
RP_AVX512 static void pack_b(int trans_b, const float *B, int ldb, int k0, int kc, int j0, int nr, float *bp)
{
    for (int k = 0; k < kc; ++k) {
        float *dst = bp + (size_t)k * NR;
        if (!trans_b) {
            memcpy(dst, B + (size_t)(k0 + k) * ldb + j0, (size_t)nr * sizeof *dst);
        } else {
            for (int j = 0; j < nr; ++j)
                dst[j] = B[(size_t)(j0 + j) * ldb + k0 + k];
        }
        for (int j = nr; j < NR; ++j)
            dst[j] = 0.0f;
    }
}

/* bias (N floats, or NULL) is added once, in the first K block: callers
 * pass alpha = 1 and beta = 0 with it. */
RP_AVX512 static void sgemm_avx512(int trans_a, int trans_b, int M, int N, int K, float alpha,
                         const float *A, int lda, const float *B, int ldb, float beta, float *C,
                         int ldc, const float *bias)
{
    _Alignas(64) float bp[KC * NR];
    _Alignas(64) float bias64[NR];
    _Alignas(64) float tile[MR * NR];
    _Alignas(64) float apad[MR * KC];
    const ptrdiff_t rs = trans_a ? 1 : lda, cs = trans_a ? lda : 1;
    for (int j0 = 0; j0 < N; j0 += NR) {
        const int nr = N - j0 < NR ? N - j0 : NR;
        if (bias) {
            memset(bias64, 0, sizeof bias64);
            memcpy(bias64, bias + j0, (size_t)nr * sizeof *bias64);
        }
        for (int k0 = 0; k0 < K; k0 += KC) {
            const int kc = K - k0 < KC ? K - k0 : KC;
            const float b_eff = k0 == 0 ? beta : 1.0f;
            const float *tile_bias = bias && k0 == 0 ? bias64 : NULL;
            pack_b(trans_b, B, ldb, k0, kc, j0, nr, bp);
            for (int i0 = 0; i0 < M; i0 += MR) {
                const int mr = M - i0 < MR ? M - i0 : MR;
                const float *a = A + i0 * rs + k0 * cs;
                float *c = C + (size_t)i0 * ldc + j0;
                if (mr == MR && nr == NR) {
                    kernel_6x64(kc, a, rs, cs, bp, c, ldc, alpha, b_eff, tile_bias);
                    continue;
                }
                /* Edge tile: zero-padded copy of A's rows, C through a full tile. */
                memset(apad, 0, sizeof apad);
                for (int r = 0; r < mr; ++r)
                    for (int k = 0; k < kc; ++k)
                        apad[r * KC + k] = a[r * rs + k * cs];
                for (int r = 0; r < mr; ++r)
                    memcpy(tile + r * NR, c + (size_t)r * ldc, (size_t)nr * sizeof *tile);
                kernel_6x64(kc, apad, KC, 1, bp, tile, NR, alpha, b_eff, tile_bias);
                for (int r = 0; r < mr; ++r)
                    memcpy(c + (size_t)r * ldc, tile + r * NR, (size_t)nr * sizeof *tile);
            }
        }
    }
}
#endif /* RP_GEMM_AVX512_BUILT */

static int cpu_has_avx512(void)
{
#if RP_GEMM_AVX512_BUILT
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f"); /* checks the OS saves zmm state too */
#else
    return 0;
#endif
}

static int use_native;
static int env_rc;         /* REPTILE_GEMM's verdict, reported by rp_gemm_check() */
static char env_msg[192];
static pthread_once_t choose_once = PTHREAD_ONCE_INIT;

/* REPTILE_GEMM=auto (or unset) picks the AVX-512 kernel on every CPU that
 * has it. Measured (docs/performance.md): 4x faster than the kernel
 * OpenBLAS 0.3.21 picks on a Sapphire Rapids Xeon, ~10% faster than its
 * best AVX-512 kernel at the presets' batch sizes (10, 20, the tutorial's
 * 12 + 13 shards; OpenBLAS's Cooperlake kernel ties at 25 and wins at 100),
 * and 10-28% faster on the whole tutorial on an AMD EPYC where OpenBLAS
 * runs that Cooperlake kernel. The choice depends on CPU features only,
 * never on a timing, so a seed gives the same bits on every run of one
 * machine. */
static void choose(void)
{
    const int avx512 = cpu_has_avx512();
    const char *forced = getenv("REPTILE_GEMM");
    use_native = avx512;
    if (!forced || !*forced || strcmp(forced, "auto") == 0)
        return;
    if (strcmp(forced, "blas") == 0) {
        use_native = 0;
    } else if (strcmp(forced, "native") == 0) {
        if (!avx512) {
            env_rc = REPTILE_EUNSUPPORTED;
            snprintf(env_msg, sizeof env_msg,
                     "REPTILE_GEMM=native needs AVX-512F, which this %s lacks (use auto or blas)",
                     RP_GEMM_AVX512_BUILT ? "CPU" : "build (not x86-64 GCC or clang)");
        }
    } else {
        env_rc = REPTILE_EINVAL;
        snprintf(env_msg, sizeof env_msg,
                 "REPTILE_GEMM='%.64s' is not one of auto, blas, native", forced);
    }
}

int rp_gemm_check(void)
{
    pthread_once(&choose_once, choose);
    return env_rc ? rp_error(env_rc, "%s", env_msg) : 0;
}

int rp_gemm_native_available(void) { return cpu_has_avx512(); }

const char *rp_sgemm_path(void)
{
    pthread_once(&choose_once, choose);
    return use_native ? "avx512" : "openblas";
}

void rp_sgemm(int trans_a, int trans_b, int M, int N, int K, float alpha, const float *A, int lda,
              const float *B, int ldb, float beta, float *C, int ldc)
{
    if (M <= 0 || N <= 0)
        return;
    pthread_once(&choose_once, choose);
#if RP_GEMM_AVX512_BUILT
    if (use_native && K > 0) {
        sgemm_avx512(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, NULL);
        return;
    }
#endif
    cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans, trans_b ? CblasTrans : CblasNoTrans,
                M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

void rp_sgemm_bias(int M, int N, int K, const float *A, int lda, const float *B, int ldb,
                   const float *bias, float *C, int ldc)
{
    if (M <= 0 || N <= 0)
        return;
    pthread_once(&choose_once, choose);
#if RP_GEMM_AVX512_BUILT
    if (use_native && K > 0) {
        sgemm_avx512(0, 0, M, N, K, 1.0f, A, lda, B, ldb, 0.0f, C, ldc, bias);
        return;
    }
#endif
    float beta = 0.0f;
    if (bias) {
        for (int m = 0; m < M; ++m)
            memcpy(C + (size_t)m * ldc, bias, (size_t)N * sizeof *C);
        beta = 1.0f;
    }
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, M, N, K, 1.0f, A, lda, B, ldb, beta, C,
                ldc);
}
