/* rp_sgemm / rp_sgemm_bias against a double-precision reference for every
 * transpose combination, edge sizes (not multiples of the 6 x 64 tile or
 * the 128-deep K block), alpha/beta and bias. Runs whichever path this
 * machine selects; REPTILE_GEMM=blas|native forces one. */
#include "testutil.h"
#include "core/rng.h"
#include "nn/gemm.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static void fill(rp_rng *rng, float *x, size_t n)
{
    for (size_t i = 0; i < n; ++i)
        x[i] = 2.0f * rp_rng_float(rng) - 1.0f;
}

/* tight: leading dimensions equal to the widths (B with N = 64 is then read
 * in place, not packed), and B one float past an aligned address. */
static void check_ld(int ta, int tb, int M, int N, int K, float alpha, float beta, int use_bias,
                     int tight)
{
    rp_rng rng;
    rp_rng_init(&rng, 5, (uint64_t)(M * 1000 + N), (uint64_t)(K * 4 + ta * 2 + tb));
    const int pad = !tight;
    int lda = (ta ? M : K) + 3 * pad, ldb = (tb ? K : N) + 5 * pad, ldc = N + 2 * pad;
    size_t na = (size_t)(ta ? K : M) * lda, nb = (size_t)(tb ? N : K) * ldb;
    float *A = malloc(na * sizeof *A), *B_mem = malloc((nb + 1) * sizeof *B_mem);
    float *B = B_mem + tight;
    float *C = malloc((size_t)M * ldc * sizeof *C), *C0 = malloc((size_t)M * ldc * sizeof *C0);
    float bias[300];
    fill(&rng, A, na);
    fill(&rng, B, nb);
    fill(&rng, C0, (size_t)M * ldc);
    fill(&rng, bias, (size_t)N);
    for (size_t i = 0; i < (size_t)M * ldc; ++i)
        C[i] = C0[i];
    if (use_bias)
        rp_sgemm_bias(M, N, K, A, lda, B, ldb, bias, C, ldc);
    else
        rp_sgemm(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
    for (int i = 0; i < M; ++i)
        for (int j = 0; j < N; ++j) {
            double acc = 0.0, mag = 0.0;
            for (int k = 0; k < K; ++k) {
                double a = ta ? A[(size_t)k * lda + i] : A[(size_t)i * lda + k];
                double b = tb ? B[(size_t)j * ldb + k] : B[(size_t)k * ldb + j];
                acc += a * b;
                mag += fabs(a * b);
            }
            double want = use_bias ? acc + bias[j] : alpha * acc + beta * C0[(size_t)i * ldc + j];
            /* float accumulation over K terms: error <= K * eps * sum|a*b|. */
            double tol = 4.0 * K * 6e-8 * (mag + 1.0) + 1e-6;
            ck_assert_msg(fabs(C[(size_t)i * ldc + j] - want) <= tol,
                          "ta %d tb %d M %d N %d K %d: C[%d][%d] = %g, want %g", ta, tb, M, N, K,
                          i, j, (double)C[(size_t)i * ldc + j], want);
        }
    /* Padding columns beyond N are never written. */
    for (int i = 0; i < M; ++i)
        for (int j = N; j < ldc; ++j)
            ck_assert_float_eq(C[(size_t)i * ldc + j], C0[(size_t)i * ldc + j]);
    free(A);
    free(B_mem);
    free(C);
    free(C0);
}

static void check(int ta, int tb, int M, int N, int K, float alpha, float beta, int use_bias)
{
    check_ld(ta, tb, M, N, K, alpha, beta, use_bias, 0);
}

START_TEST(all_transposes_and_edge_sizes)
{
    static const int sizes[][3] = {{1, 1, 1}, {6, 64, 128}, {7, 65, 129}, {13, 64, 576},
                                   {50, 5, 9}, {100, 130, 300}, {5, 200, 3}, {61, 64, 256}};
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; ++s)
        for (int ta = 0; ta < 2; ++ta)
            for (int tb = 0; tb < 2; ++tb) {
                check(ta, tb, sizes[s][0], sizes[s][1], sizes[s][2], 1.0f, 0.0f, 0);
                check(ta, tb, sizes[s][0], sizes[s][1], sizes[s][2], 0.5f, -1.5f, 0);
            }
}
END_TEST

START_TEST(tight_layouts)
{
    /* The convolutions' products: 64-wide B read in place, K across blocks. */
    static const int sizes[][3] = {{40, 64, 576}, {576, 64, 40}, {7, 64, 129}, {490, 64, 9},
                                   {13, 64, 1}, {6, 65, 130}, {11, 32, 200}};
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; ++s)
        for (int ta = 0; ta < 2; ++ta)
            for (int tb = 0; tb < 2; ++tb)
                check_ld(ta, tb, sizes[s][0], sizes[s][1], sizes[s][2], 0.5f, -1.5f, 0, 1);
    check_ld(0, 0, 37, 64, 300, 1.0f, 0.0f, 1, 1);
}
END_TEST

START_TEST(bias_variant)
{
    check(0, 0, 37, 64, 9, 1.0f, 0.0f, 1);
    check(0, 0, 12, 70, 300, 1.0f, 0.0f, 1);
    check(0, 0, 1, 3, 1, 1.0f, 0.0f, 1);
}
END_TEST

START_TEST(path_is_reported)
{
    const char *p = rp_sgemm_path();
    ck_assert(strcmp(p, "openblas") == 0 || strcmp(p, "avx512") == 0);
}
END_TEST

static Suite *gemm_suite(void)
{
    Suite *s = suite_create("gemm");
    TCase *tc = tcase_create("gemm");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, all_transposes_and_edge_sizes);
    tcase_add_test(tc, tight_layouts);
    tcase_add_test(tc, bias_variant);
    tcase_add_test(tc, path_is_reported);
    suite_add_tcase(s, tc);
    return s;
}

RP_TEST_MAIN(gemm_suite)
