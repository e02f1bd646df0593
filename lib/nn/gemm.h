/* Row-major single-precision GEMM for the convolution layers:
 *     C = alpha * op(A) * op(B) + beta * C,   op(A) M x K, op(B) K x N.
 *
 * Calls cblas_sgemm, except where this build has AVX-512 and OpenBLAS runs
 * a kernel for an older CPU (it falls back to SSE3 "Prescott" kernels on
 * processors it does not recognise, about 3x slower here): then a packed
 * AVX-512 micro-kernel tuned for these shapes runs instead. REPTILE_GEMM=blas
 * or REPTILE_GEMM=native in the environment forces either path. */
#ifndef RP_NN_GEMM_H
#define RP_NN_GEMM_H

void rp_sgemm(int trans_a, int trans_b, int M, int N, int K, float alpha, const float *A, int lda,
              const float *B, int ldb, float beta, float *C, int ldc);

/* C = A * B + bias (bias broadcast over rows, may be NULL), A M x K, B K x N,
 * no transposes: the convolution forward. The AVX-512 path starts its
 * accumulators at the bias instead of making an extra pass over C. */
void rp_sgemm_bias(int M, int N, int K, const float *A, int lda, const float *B, int ldb,
                   const float *bias, float *C, int ldc);

/* Which path rp_sgemm takes: "openblas" or "avx512". */
const char *rp_sgemm_path(void);

#endif
