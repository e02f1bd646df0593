/* A small fork-join thread pool.
 *
 * rp_pool_run(pool, n, fn, ctx) calls fn(ctx, i) for every i in [0, n) and
 * returns when all calls are done; the calling thread takes part. Which
 * thread runs which item is unspecified, so callers make every item write
 * its own output: results then never depend on the thread count. Workers
 * spin briefly before sleeping, because the training loop forks every few
 * milliseconds and a condition-variable wake-up costs tens of microseconds. */
#ifndef RP_CORE_POOL_H
#define RP_CORE_POOL_H

typedef struct rp_pool rp_pool;
typedef void (*rp_pool_fn)(void *ctx, int item);

/* threads >= 1 (1 = no worker threads, everything runs in the caller). */
int  rp_pool_new(rp_pool **out, int threads);
void rp_pool_run(rp_pool *pool, int items, rp_pool_fn fn, void *ctx);
void rp_pool_free(rp_pool *pool);

/* The pool's way of waiting for another thread, one call per poll: a
 * pause instruction for the first ~50-100 us of polls, then sched_yield
 * (on an oversubscribed machine spinning would keep the awaited thread
 * off the CPU). *spins counts the polls; start it at 0. */
void rp_pool_backoff(int *spins);

#endif
