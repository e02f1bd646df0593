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

/* The AVX-512 path only: C = A B [+ bias], B as rp_sgemm's op(B) (K x N),
 * where A's element (i, k) is A[row_off[i] + k_off[k]]: a convolution
 * reads its input in place instead of through an im2col copy. K is summed
 * in blocks of kc_block (<= rp_sgemm_block_k()) exactly as rp_sgemm sums
 * its blocks, so the result is bitwise that of rp_sgemm on the gathered
 * matrix. Returns 0, or -1 (nothing done) when the AVX-512 path is not in
 * use or the sizes are bad. */
int rp_sgemm_indexed(int M, int N, int K, int kc_block, const float *A, const ptrdiff_t *row_off,
                     const ptrdiff_t *k_off, int trans_b, const float *B, int ldb,
                     const float *bias, float *C, int ldc);

/* Rows [begin, end) of a grouped GEMM that need the same products: they
 * sum only the k in k[0 .. n_k) (ascending; k == NULL: every k) and
 * compute only the 64-column blocks whose bit is set in col_blocks
 * (blocks past the 64th always). A convolution groups its output pixels by
 * which kernel taps fall inside the input: the others multiply the zero
 * border. */
typedef struct rp_gemm_group {
    int begin, end;
    const int *k;
    int n_k;
    unsigned long long col_blocks;
} rp_gemm_group;

/* The AVX-512 path only: for the rows of each group, C row i (at
 * C + c_off[i], or C + i * ldc when c_off is NULL) = sum over the group's k of A[a_off[i] + k_off[k]] *
 * op(B)[k][j] (+ bias), K summed in blocks of kc_block as rp_sgemm_indexed
 * does, columns outside the group's blocks left untouched. b_block (may be
 * NULL) places each K block of op(B) on its own: block b is then op(B) of
 * the matrix at B + b_block[b] (leading dimension ldb), its rows counted
 * from 0 (a convolution's per-tap weights, transposed as they are read). When every
 * skipped product is an exact zero (a finite weight times the zero
 * border), the rows are bitwise rp_sgemm_indexed's. Returns 0, or -1
 * (nothing done) when the AVX-512 path is not in use or sizes are bad. */
int rp_sgemm_grouped(int N, int K, int kc_block, const float *A, const ptrdiff_t *a_off,
                     const ptrdiff_t *k_off, int trans_b, const float *B, int ldb,
                     const ptrdiff_t *b_block, const float *bias, float *C, int ldc,
                     const ptrdiff_t *c_off, const rp_gemm_group *groups, int n_groups);

/* Rows of the AVX-512 path's tile (groups of whole tiles waste no rows). */
int rp_sgemm_tile_rows(void);

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
