#include "nn/gemm.h"
#include "core/error_internal.h"
#include "core/simd.h"
#include "rp_config.h"

#include <cblas.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The AVX-512 kernel is built on every x86-64 GCC/clang build, portable
 * ones included (target attributes), and chosen at run time by the CPU
 * features core/simd.h reads. */
#define RP_GEMM_AVX512_BUILT RP_SIMD_BUILT

#if RP_GEMM_AVX512_BUILT
#include <immintrin.h>

/* Compiled for AVX-512 whatever -march says; called only when the CPU has it. */
#define RP_AVX512 RP_TARGET_AVX512
/* The tile's small loops unrolled before GCC 12 decides where acc lives:
 * left rolled, it kept acc on the stack between setup and the k loop and
 * cleared it with a 1.5 KB memset every tile (1.8% of a paper step). */
#define RP_UNROLL _Pragma("GCC unroll 8")

enum { MR = 6, NR = 64, KC = 128 };

/* acc[r][j] = sum_k a(r, k) * bp[k][j] for a 6-row tile of nv 16-float
 * vectors (the last one's lanes limited by `last`), then
 * C = alpha * acc + beta * C for rows < `rows` (C not read when beta == 0;
 * lanes and rows beyond the tile never touched). a(r, k) is
 * a[r * rs + k * cs], so transposed A needs no packing. Every element gets
 * the same operations in the same order whatever the tile's width, so a
 * narrow tile (N = 32 layers, the last columns of any GEMM) costs its own
 * width and gives the bits a full one would. */
RP_AVX512 static inline __attribute__((always_inline)) void
kernel_6xv(int nv, __mmask16 last, int rows, int kc, const float *a, ptrdiff_t rs, ptrdiff_t cs,
           const float *const *arow, const ptrdiff_t *koff, const int *kl, int kbase,
           const float *bp, float *c, ptrdiff_t ldc, float *const *crow, float alpha, float beta,
           const float *bias64)
{
    __m512 acc[MR][4];
    RP_UNROLL
    for (int j = 0; j < nv; ++j) {
        __m512 init = bias64 ? _mm512_load_ps(bias64 + 16 * j) : _mm512_setzero_ps();
        RP_UNROLL
        for (int r = 0; r < MR; ++r)
            acc[r][j] = init;
    }
    for (int i = 0; i < kc; ++i) {
        /* kl: only the listed k (the others' products are exact zeros). */
        const int k = kl ? kl[i] - kbase : i;
        const float *b = bp + (size_t)k * NR;
        __m512 bv[4];
        RP_UNROLL
        for (int j = 0; j < nv; ++j)
            bv[j] = _mm512_loadu_ps(b + 16 * j);
        const float *ak = a + k * cs;
        RP_UNROLL
        for (int r = 0; r < MR; ++r) {
            /* arow: a(r, k) = arow[r][koff[k]] (the implicit convolution). */
            __m512 ar = _mm512_set1_ps(arow ? arow[r][koff[k]] : ak[r * rs]);
            RP_UNROLL
            for (int j = 0; j < nv; ++j)
                acc[r][j] = _mm512_fmadd_ps(ar, bv[j], acc[r][j]);
        }
    }
    const __m512 va = _mm512_set1_ps(alpha), vb = _mm512_set1_ps(beta);
    RP_UNROLL
    for (int r = 0; r < MR; ++r) {
        if (r >= rows)
            break;
        float *cr = crow ? crow[r] : c + r * ldc;
        RP_UNROLL
        for (int j = 0; j < nv; ++j) {
            const __mmask16 m = j == nv - 1 ? last : (__mmask16)0xFFFF;
            __m512 v = _mm512_mul_ps(va, acc[r][j]);
            if (beta != 0.0f)
                v = _mm512_fmadd_ps(vb, _mm512_maskz_loadu_ps(m, cr + 16 * j), v);
            _mm512_mask_storeu_ps(cr + 16 * j, m, v);
        }
    }
}

/* The tile kernel specialised for its number of vectors (1..4 = ceil(nr / 16)). */
#define RP_KERNEL_CASE(NV, AROW, KOFF, KL, CROW)                                              \
    case NV: kernel_6xv(NV, last, rows, kc, a, rs, cs, AROW, KOFF, KL, kbase, bp, c, ldc, CROW, \
                        alpha, beta, bias64); break
#define RP_KERNEL_CASES(NAME, AROW, KOFF, KL, CROW, LISTED)                                        \
    RP_AVX512 static void NAME(int nr, int rows, int kc, const float *a, ptrdiff_t rs,         \
                               ptrdiff_t cs, const float *const *arow, const ptrdiff_t *koff,  \
                               const int *kl, int kbase, const float *bp, float *c,            \
                               ptrdiff_t ldc, float *const *crow, float alpha, float beta,     \
                               const float *bias64)                                            \
    {                                                                                          \
        (void)arow, (void)koff, (void)kl, (void)crow;                                          \
        if ((LISTED) && !kl)                                                                   \
            __builtin_unreachable(); /* a listed tile always has its list */                   \
        const int nv = (nr + 15) / 16;                                                         \
        const __mmask16 last = (__mmask16)(0xFFFFu >> (16 * nv - nr));                        \
        switch (nv) {                                                                          \
            RP_KERNEL_CASE(4, AROW, KOFF, KL, CROW);                                           \
            RP_KERNEL_CASE(3, AROW, KOFF, KL, CROW);                                           \
            RP_KERNEL_CASE(2, AROW, KOFF, KL, CROW);                                           \
        default:                                                                               \
            kernel_6xv(1, last, rows, kc, a, rs, cs, AROW, KOFF, KL, kbase, bp, c, ldc, CROW,  \
                       alpha, beta, bias64);                                                   \
            break;                                                                             \
        }                                                                                      \
    }
/* Strided A (the GEMM); and A through row pointers and k offsets, with a
 * list of the k to sum and a pointer per C row (the implicit GEMMs). */
RP_KERNEL_CASES(kernel_tile, NULL, NULL, NULL, NULL, 0)
RP_KERNEL_CASES(kernel_tile_listed, arow, koff, kl, crow, 1)
#undef RP_KERNEL_CASE
#undef RP_KERNEL_CASES

/* dst[c * ldd + i] = src[i * ld + c] for a 16 x 16 tile, in registers:
 * pairs of rows interleaved, then pairs of pairs, then 128-bit lanes
 * gathered across the four groups of four rows. */
RP_AVX512 static void transpose16(const float *src, ptrdiff_t ld, float *dst, ptrdiff_t ldd)
{
    __m512 r[16], t[16], u[16];
    RP_UNROLL
    for (int i = 0; i < 16; ++i)
        r[i] = _mm512_loadu_ps(src + i * ld);
    RP_UNROLL
    for (int i = 0; i < 16; i += 2) {
        t[i] = _mm512_unpacklo_ps(r[i], r[i + 1]);
        t[i + 1] = _mm512_unpackhi_ps(r[i], r[i + 1]);
    }
    /* u[g + e]: rows 4g/4 .. +3 of element e of each 4-element lane group. */
    RP_UNROLL
    for (int g = 0; g < 16; g += 4) {
        const __m512d t0 = _mm512_castps_pd(t[g]), t1 = _mm512_castps_pd(t[g + 1]);
        const __m512d t2 = _mm512_castps_pd(t[g + 2]), t3 = _mm512_castps_pd(t[g + 3]);
        u[g + 0] = _mm512_castpd_ps(_mm512_unpacklo_pd(t0, t2));
        u[g + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(t0, t2));
        u[g + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(t1, t3));
        u[g + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(t1, t3));
    }
    /* Column 4 * lane + e takes lane `lane` of u[e], u[4 + e], u[8 + e], u[12 + e]. */
    RP_UNROLL
    for (int e = 0; e < 4; ++e) {
        const __m512 v0 = _mm512_shuffle_f32x4(u[e], u[4 + e], 0x88);
        const __m512 v1 = _mm512_shuffle_f32x4(u[e], u[4 + e], 0xDD);
        const __m512 v2 = _mm512_shuffle_f32x4(u[8 + e], u[12 + e], 0x88);
        const __m512 v3 = _mm512_shuffle_f32x4(u[8 + e], u[12 + e], 0xDD);
        _mm512_storeu_ps(dst + (e + 0) * ldd, _mm512_shuffle_f32x4(v0, v2, 0x88));
        _mm512_storeu_ps(dst + (e + 8) * ldd, _mm512_shuffle_f32x4(v0, v2, 0xDD));
        _mm512_storeu_ps(dst + (e + 4) * ldd, _mm512_shuffle_f32x4(v1, v3, 0x88));
        _mm512_storeu_ps(dst + (e + 12) * ldd, _mm512_shuffle_f32x4(v1, v3, 0xDD));
    }
}

/* dst[j * ldd + i] = src[i * lds + j] for a rows x cols block: 16 x 16
 * register tiles, the ragged edges element by element. */
RP_AVX512 static void transpose_avx512(int rows, int cols, const float *src, ptrdiff_t lds,
                                       float *dst, ptrdiff_t ldd)
{
    const int r16 = rows & ~15, c16 = cols & ~15;
    for (int j = 0; j < c16; j += 16)
        for (int i = 0; i < r16; i += 16)
            transpose16(src + i * lds + j, lds, dst + j * ldd + i, ldd);
    for (int j = 0; j < cols; ++j)
        for (int i = j < c16 ? r16 : 0; i < rows; ++i)
            dst[j * ldd + i] = src[i * lds + j];
}

/* op(B)[k0 .. k0+kc) x [j0 .. j0+nr) as the kernel reads it, rows of NR
 * floats: B itself when it is already laid out so (64-column row-major
 * blocks: every layer's weights and output gradients here), else packed
 * into bp, zero-padded; transposed B (the input gradient's weights) in
 * 16 x 16 register tiles, the ragged edges element by element. */
RP_AVX512 static const float *pack_b(int trans_b, const float *B, int ldb, int k0, int kc,
                                     int j0, int nr, float *bp)
{
    if (!trans_b && ldb == NR && nr == NR)
        return B + (size_t)k0 * ldb + j0;
    if (!trans_b) {
        for (int k = 0; k < kc; ++k)
            memcpy(bp + (size_t)k * NR, B + (size_t)(k0 + k) * ldb + j0, (size_t)nr * sizeof *bp);
    } else {
        transpose_avx512(nr, kc, B + (size_t)j0 * ldb + k0, ldb, bp, NR);
    }
    for (int k = 0; k < kc; ++k)
        for (int j = nr; j < NR; ++j)
            bp[(size_t)k * NR + j] = 0.0f;
    return bp;
}

/* bias (N floats, or NULL) is added once, in the first K block: callers
 * pass alpha = 1 and beta = 0 with it. */
RP_AVX512 static void sgemm_avx512(int trans_a, int trans_b, int M, int N, int K, float alpha,
                         const float *A, int lda, const float *B, int ldb, float beta, float *C,
                         int ldc, const float *bias)
{
    _Alignas(64) float bp[KC * NR];
    _Alignas(64) float bias64[NR];
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
            const float *bk = pack_b(trans_b, B, ldb, k0, kc, j0, nr, bp);
            for (int i0 = 0; i0 < M; i0 += MR) {
                const int mr = M - i0 < MR ? M - i0 : MR;
                const float *a = A + i0 * rs + k0 * cs;
                float *c = C + (size_t)i0 * ldc + j0;
                if (mr == MR) {
                    kernel_tile(nr, MR, kc, a, rs, cs, NULL, NULL, NULL, 0, bk, c, ldc, NULL, alpha,
                                b_eff, tile_bias);
                    continue;
                }
                /* Last rows: a zero-padded copy of A's rows (the kernel reads
                 * six rows of kc; only those are written). */
                for (int r = 0; r < mr; ++r)
                    for (int k = 0; k < kc; ++k)
                        apad[r * KC + k] = a[r * rs + k * cs];
                for (int r = mr; r < MR; ++r)
                    memset(apad + r * KC, 0, (size_t)kc * sizeof *apad);
                kernel_tile(nr, mr, kc, apad, KC, 1, NULL, NULL, NULL, 0, bk, c, ldc, NULL, alpha,
                            b_eff, tile_bias);
            }
        }
    }
}
/* The first of list[0 .. n) (ascending) that is >= v. */
static int lower_bound(const int *list, int n, int v)
{
    int lo = 0, hi = n;
    while (lo < hi) {
        const int mid = lo + (hi - lo) / 2;
        if (list[mid] < v)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* 0 .. KC-1: the k list of a group that sums every k of a block. */
static int iota_k[KC];
static pthread_once_t iota_once = PTHREAD_ONCE_INIT;
static void fill_iota(void)
{
    for (int i = 0; i < KC; ++i)
        iota_k[i] = i;
}

/* sgemm_avx512's blocks, bit for bit, with a(i, k) = A[a_off[i] + k_off[k]],
 * K cut into blocks of kc_block (<= KC), for rows in groups (see
 * rp_gemm_group): a group skips the column blocks and k it does not need,
 * and row i is written at C + c_off[i]. A skipped k's products are exact
 * zeros, so the sums of the others come out as they would with them. */
RP_AVX512 static void sgemm_grouped_avx512(int N, int K, int kc_block, const float *A,
                                           const ptrdiff_t *a_off, const ptrdiff_t *k_off,
                                           int trans_b, const float *B, int ldb,
                                           const ptrdiff_t *b_block, const float *bias, float *C,
                                           int ldc,
                                           const ptrdiff_t *c_off, const rp_gemm_group *groups,
                                           int n_groups)
{
    _Alignas(64) float bp[KC * NR];
    _Alignas(64) float bias64[NR];
    /* Where each of the first CURSORS groups' k list reaches block k0
     * (blocks run in order, so the next block starts where this one ends);
     * later groups search. */
    enum { CURSORS = 256 };
    int cursor[CURSORS];
    pthread_once(&iota_once, fill_iota);
    for (int j0 = 0; j0 < N; j0 += NR) {
        const int nr = N - j0 < NR ? N - j0 : NR, jb = j0 / NR;
        if (bias) {
            memset(bias64, 0, sizeof bias64);
            memcpy(bias64, bias + j0, (size_t)nr * sizeof *bias64);
        }
        memset(cursor, 0, sizeof cursor);
        for (int k0 = 0; k0 < K; k0 += kc_block) {
            const int kc = K - k0 < kc_block ? K - k0 : kc_block;
            const float b_eff = k0 == 0 ? 0.0f : 1.0f;
            const float *tile_bias = bias && k0 == 0 ? bias64 : NULL;
            const float *bk = b_block ? pack_b(trans_b, B + b_block[k0 / kc_block], ldb, 0, kc, j0,
                                               nr, bp)
                                      : pack_b(trans_b, B, ldb, k0, kc, j0, nr, bp);
            for (int g = 0; g < n_groups; ++g) {
                const rp_gemm_group *gr = &groups[g];
                if (jb < 64 && !((gr->col_blocks >> jb) & 1))
                    continue;
                const int *kl = iota_k;
                int nk = kc, kbase = 0;
                if (gr->k) {
                    const int lo = g < CURSORS ? cursor[g] : lower_bound(gr->k, gr->n_k, k0);
                    const int left = gr->n_k - lo; /* at most kc of them fall in this block */
                    kl = gr->k + lo;
                    nk = lower_bound(kl, left < kc ? left : kc, k0 + kc);
                    kbase = k0;
                    if (g < CURSORS)
                        cursor[g] = lo + nk;
                }
                /* Adding an empty block's zero sums would change nothing
                 * (they start at +0, so no row is ever -0). The first
                 * block still runs: it writes the rows. */
                if (nk == 0 && k0 > 0)
                    continue;
                for (int i0 = gr->begin; i0 < gr->end; i0 += MR) {
                    const int mr = gr->end - i0 < MR ? gr->end - i0 : MR;
                    const float *arow[MR];
                    float *crow[MR];
                    for (int r = 0; r < MR; ++r) { /* rows past the group repeat its first */
                        const int i = i0 + (r < mr ? r : 0);
                        arow[r] = A + a_off[i];
                        crow[r] = C + (c_off ? c_off[i] : (ptrdiff_t)i * ldc) + j0;
                    }
                    kernel_tile_listed(nr, mr, nk, NULL, 0, 0, arow, k_off + k0, kl, kbase, bk,
                                       NULL, 0, crow, 1.0f, b_eff, tile_bias);
                }
            }
        }
    }
}
#endif /* RP_GEMM_AVX512_BUILT */

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
    const int avx512 = rp_simd_available(RP_SIMD_AVX512);
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

int rp_gemm_native_available(void) { return rp_simd_available(RP_SIMD_AVX512); }

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

int rp_sgemm_indexed(int M, int N, int K, int kc_block, const float *A, const ptrdiff_t *row_off,
                     const ptrdiff_t *k_off, int trans_b, const float *B, int ldb,
                     const float *bias, float *C, int ldc)
{
    /* One group of every row, summing every k. */
    const rp_gemm_group all = {0, M, NULL, 0, ~0ull};
    return M > 0 ? rp_sgemm_grouped(N, K, kc_block, A, row_off, k_off, trans_b, B, ldb, NULL, bias,
                                    C, ldc, NULL, &all, 1)
                 : -1;
}

int rp_sgemm_grouped(int N, int K, int kc_block, const float *A, const ptrdiff_t *a_off,
                     const ptrdiff_t *k_off, int trans_b, const float *B, int ldb,
                     const ptrdiff_t *b_block, const float *bias, float *C, int ldc,
                     const ptrdiff_t *c_off, const rp_gemm_group *groups, int n_groups)
{
    pthread_once(&choose_once, choose);
#if RP_GEMM_AVX512_BUILT
    if (use_native && N > 0 && K > 0 && kc_block >= 1 && kc_block <= KC && n_groups >= 0) {
        sgemm_grouped_avx512(N, K, kc_block, A, a_off, k_off, trans_b, B, ldb, b_block, bias, C,
                             ldc, c_off, groups, n_groups);
        return 0;
    }
#endif
    (void)N, (void)K, (void)kc_block, (void)A, (void)a_off, (void)k_off, (void)trans_b;
    (void)B, (void)ldb, (void)b_block, (void)bias, (void)C, (void)ldc, (void)c_off;
    (void)groups, (void)n_groups;
    return -1;
}

int rp_sgemm_tile_rows(void)
{
#if RP_GEMM_AVX512_BUILT
    return MR;
#else
    return 1;
#endif
}

int rp_sgemm_block_k(void)
{
    return RP_GEMM_AVX512_BUILT ? 128 : 0;
}
