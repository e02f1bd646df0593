/* OpenBLAS's own threads, held at one while libreptile computes.
 *
 * OpenBLAS rounds differently with one thread and with several (it picks
 * other kernels and splits), and its thread count is a process-wide
 * setting that the host program, OPENBLAS_NUM_THREADS or another library
 * may have changed. Results must not depend on any of that, and libreptile
 * parallelises over shards and tasks itself, so every public call that
 * reaches a GEMM runs inside rp_blas_pin_enter() / rp_blas_pin_leave().
 * The first enter saves the caller's thread count and sets one; the last
 * leave restores it, so nothing stays changed between calls. Concurrent
 * calls on different handles nest through a counter.
 *
 * With a BLAS other than OpenBLAS (no openblas_set_num_threads) both are
 * no-ops: such a BLAS must be deterministic by itself. OpenBLAS's OpenMP
 * build keeps a thread count per calling thread, which this process-wide
 * pin does not cover (docs/architecture.md). */
#ifndef RP_NN_BLAS_THREADS_H
#define RP_NN_BLAS_THREADS_H

void rp_blas_pin_enter(void);
void rp_blas_pin_leave(void);

/* OpenBLAS's current thread count (1 without OpenBLAS), for tests. */
int rp_blas_threads(void);

#endif
