/* Row-major single-precision GEMM for the convolution layers:
 *     C = alpha * op(A) * op(B) + beta * C,   op(A) M x K, op(B) K x N.
 *
 * Two paths: a packed AVX-512 micro-kernel tuned for these shapes, chosen
 * at run time on every CPU with AVX-512F (portable builds included), and
 * cblas_sgemm everywhere else. REPTILE_GEMM=auto|blas|native in the
 * environment forces a path; any other value is an error that
 * rp_gemm_check() reports. The two paths round differently, so a seed
 * gives the same bits only on the same path. */
#ifndef RP_NN_GEMM_H
#define RP_NN_GEMM_H

#include <stddef.h>

void rp_sgemm(int trans_a, int trans_b, int M, int N, int K, float alpha, const float *A, int lda,
              const float *B, int ldb, float beta, float *C, int ldc);

/* C = A * B + bias (bias broadcast over rows, may be NULL), A M x K, B K x N,
 * no transposes: the convolution forward. The AVX-512 path starts its
 * accumulators at the bias instead of making an extra pass over C. */
void rp_sgemm_bias(int M, int N, int K, const float *A, int lda, const float *B, int ldb,
                   const float *bias, float *C, int ldc);

/* The AVX-512 path only: C = A B (beta = 0) or A B + C (beta = 1) [+ bias],
 * B as rp_sgemm's op(B) (K x N), where A's element (i, k) is
 * A[row_off[i] + k_off[k]]: a convolution reads its input in place instead
 * of through an im2col copy. K is summed in blocks of kc_block (<=
 * rp_sgemm_block_k()) exactly as rp_sgemm sums its blocks, so the result
 * is bitwise that of rp_sgemm on the gathered matrix. Returns 0, or -1
 * (nothing done) when the AVX-512 path is not in use or the sizes are bad. */
int rp_sgemm_indexed(int M, int N, int K, int kc_block, const float *A, const ptrdiff_t *row_off,
                     const ptrdiff_t *k_off, int trans_b, const float *B, int ldb, float beta,
                     const float *bias, float *C, int ldc);

/* The AVX-512 path's K block (0 where it is not built). */
int rp_sgemm_block_k(void);

/* Which path rp_sgemm takes: "openblas" or "avx512". An invalid
 * REPTILE_GEMM falls back to the automatic choice here. */
const char *rp_sgemm_path(void);

/* 0, or the error (with its message set) for an invalid REPTILE_GEMM: an
 * unknown value, or "native" on a CPU without AVX-512F. Every model checks
 * it before its first computation. */
int rp_gemm_check(void);

/* 1 when this build and CPU can run the AVX-512 path (tests skip it if not). */
int rp_gemm_native_available(void);

#endif
