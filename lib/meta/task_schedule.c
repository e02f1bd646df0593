/* A meta-batch's training tasks cut at step boundaries over the threads,
 * so that five tasks on two threads take 13 step-times, not 15
 * (core/chain_plan.h). Every step computes the same bits on any thread
 * (one slot per task, OpenBLAS pinned to one thread), so where a task's
 * steps run never changes the result. */
#include "meta/meta_internal.h"
#include "model/model_internal.h"

typedef struct tasks_job {
    reptile_meta *meta;
    int segments;
    atomic_int next;
    rp_task_segment_fn fn;
    void *ctx;
} tasks_job;

/* Waits until a task has finished `steps` steps, as the pool waits. */
static void wait_for_steps(atomic_int *done, int steps)
{
    int spins = 0;
    while (atomic_load_explicit(done, memory_order_acquire) != steps)
        rp_pool_backoff(&spins);
}

/* One thread's share: the next segment in plan order, after its task's
 * earlier steps, until none is left. Taking segments in plan order never
 * deadlocks: a segment's predecessor was taken earlier, by a thread that
 * is running it or waiting on an even earlier one. */
static void run_segments(void *ctx, int item)
{
    (void)item;
    tasks_job *job = ctx;
    reptile_meta *meta = job->meta;
    for (;;) {
        int j = atomic_fetch_add_explicit(&job->next, 1, memory_order_acq_rel);
        if (j >= job->segments)
            return;
        const rp_chain_segment *s = &meta->plan[j];
        atomic_int *done = &meta->steps_done[s->chain];
        wait_for_steps(done, s->first);
        job->fn(meta, s->chain, s->first, s->count, job->ctx);
        atomic_store_explicit(done, s->first + s->count, memory_order_release);
    }
}

int rp_meta_run_tasks(reptile_meta *meta, int tasks, int steps, rp_task_segment_fn fn, void *ctx)
{
    for (int t = 0; t < tasks; ++t) {
        meta->slots[t].err.code = 0;
        atomic_store_explicit(&meta->steps_done[t], 0, memory_order_relaxed);
    }
    const int threads = meta->opts.threads;
    if (tasks == 1 || threads == 1 || meta->opts.optimizer_state == REPTILE_STATE_CHAIN) {
        /* One task splits its batches over the pool instead (slot 0); tasks
         * chained through one optimizer state run in order. */
        for (int t = 0; t < tasks; ++t)
            fn(meta, t, 0, steps, ctx);
    } else {
        tasks_job job = {meta, rp_chain_plan(tasks, steps, threads, meta->plan), 0, fn, ctx};
        rp_model_set_pool(meta->slots[0].model, NULL);
        rp_pool_run(meta->pool, threads, run_segments, &job);
        rp_model_set_pool(meta->slots[0].model, meta->pool);
    }
    return rp_meta_slot_failure(meta, tasks);
}
