#include "core/pool.h"
#include "core/error_internal.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>

#if defined(__x86_64__) || defined(__i386__)
#  include <immintrin.h>
#  define RP_CPU_RELAX() _mm_pause()
#else
#  define RP_CPU_RELAX() ((void)0)
#endif

/* Spin iterations before a worker sleeps (~50-100 us of pause instructions). */
#define RP_POOL_SPIN 20000

struct rp_pool {
    int threads;
    pthread_t *workers;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    atomic_uint generation;   /* bumped for every job */
    atomic_int next_item;
    atomic_int done_items;
    atomic_int acked;         /* workers finished with the current job */
    atomic_int stop;
    int items;
    rp_pool_fn fn;
    void *ctx;
};

static void run_items(rp_pool *pool)
{
    for (;;) {
        int i = atomic_fetch_add_explicit(&pool->next_item, 1, memory_order_acq_rel);
        if (i >= pool->items)
            break;
        pool->fn(pool->ctx, i);
        atomic_fetch_add_explicit(&pool->done_items, 1, memory_order_acq_rel);
    }
}

static void *worker_main(void *arg)
{
    rp_pool *pool = arg;
    unsigned seen = 0; /* generation starts at 0: never miss a job posted before we ran */
    for (;;) {
        unsigned gen;
        int spins = 0;
        while ((gen = atomic_load_explicit(&pool->generation, memory_order_acquire)) == seen &&
               !atomic_load(&pool->stop) && spins < RP_POOL_SPIN) {
            RP_CPU_RELAX();
            ++spins;
        }
        if (gen == seen && !atomic_load(&pool->stop)) {
            pthread_mutex_lock(&pool->lock);
            while ((gen = atomic_load(&pool->generation)) == seen && !atomic_load(&pool->stop))
                pthread_cond_wait(&pool->wake, &pool->lock);
            pthread_mutex_unlock(&pool->lock);
        }
        if (atomic_load(&pool->stop))
            return NULL;
        seen = gen;
        run_items(pool);
        /* Every worker acknowledges every job, so the caller never starts
         * the next one while a late worker could still read this one. */
        atomic_fetch_add_explicit(&pool->acked, 1, memory_order_acq_rel);
    }
}

int rp_pool_new(rp_pool **out, int threads)
{
    *out = NULL;
    if (threads < 1 || threads > 256)
        return rp_error(REPTILE_EINVAL, "threads must be in 1..256, got %d", threads);
    rp_pool *pool = calloc(1, sizeof *pool);
    if (!pool)
        return rp_error(REPTILE_ENOMEM, "out of memory creating a thread pool");
    pool->threads = threads;
    pthread_mutex_init(&pool->lock, NULL);
    pthread_cond_init(&pool->wake, NULL);
    if (threads > 1) {
        pool->workers = calloc((size_t)threads - 1, sizeof *pool->workers);
        if (!pool->workers) {
            rp_pool_free(pool);
            return rp_error(REPTILE_ENOMEM, "out of memory creating a thread pool");
        }
        for (int t = 0; t < threads - 1; ++t) {
            if (pthread_create(&pool->workers[t], NULL, worker_main, pool) != 0) {
                pool->threads = t + 1; /* join only those started */
                rp_pool_free(pool);
                return rp_error(REPTILE_ETHREAD, "could not start worker thread %d of %d", t + 1,
                                threads - 1);
            }
        }
    }
    *out = pool;
    return 0;
}

void rp_pool_run(rp_pool *pool, int items, rp_pool_fn fn, void *ctx)
{
    if (items <= 0)
        return;
    if (!pool || pool->threads == 1 || items == 1) {
        for (int i = 0; i < items; ++i)
            fn(ctx, i);
        return;
    }
    pool->items = items;
    pool->fn = fn;
    pool->ctx = ctx;
    atomic_store(&pool->done_items, 0);
    atomic_store(&pool->acked, 0);
    atomic_store(&pool->next_item, 0);
    pthread_mutex_lock(&pool->lock);
    atomic_fetch_add_explicit(&pool->generation, 1, memory_order_release);
    pthread_cond_broadcast(&pool->wake);
    pthread_mutex_unlock(&pool->lock);
    run_items(pool);
    int spins = 0;
    while (atomic_load_explicit(&pool->done_items, memory_order_acquire) < items ||
           atomic_load_explicit(&pool->acked, memory_order_acquire) < pool->threads - 1)
        rp_pool_backoff(&spins);
}

void rp_pool_backoff(int *spins)
{
    if (*spins < RP_POOL_SPIN) {
        ++*spins;
        RP_CPU_RELAX();
    } else {
        sched_yield();
    }
}

void rp_pool_free(rp_pool *pool)
{
    if (!pool)
        return;
    if (pool->workers) {
        pthread_mutex_lock(&pool->lock);
        atomic_store(&pool->stop, 1);
        pthread_cond_broadcast(&pool->wake);
        pthread_mutex_unlock(&pool->lock);
        for (int t = 0; t < pool->threads - 1; ++t)
            pthread_join(pool->workers[t], NULL);
        free(pool->workers);
    }
    pthread_mutex_destroy(&pool->lock);
    pthread_cond_destroy(&pool->wake);
    free(pool);
}
