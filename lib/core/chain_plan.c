#include "core/chain_plan.h"

#include <stddef.h>

/* 64-bit counts: a task may take up to 2^20 epochs of many batches. */
long long rp_chain_plan_length(int chains, int steps, int threads)
{
    long long units = (long long)chains * steps;
    long long per_thread = (units + threads - 1) / threads;
    return per_thread > steps ? per_thread : steps;
}

static int earlier(const rp_chain_segment *a, const rp_chain_segment *b)
{
    return a->start < b->start || (a->start == b->start && a->thread < b->thread);
}

int rp_chain_plan(int chains, int steps, int threads, rp_chain_segment *out)
{
    const long long units = (long long)chains * steps;
    const long long L = rp_chain_plan_length(chains, steps, threads);
    int n = 0;
    for (int p = 0; p < threads; ++p) {
        for (long long u = p * L; u < (p + 1) * L && u < units;) {
            const int chain = (int)(u / steps);
            const long long chain_end = (long long)(chain + 1) * steps;
            const long long end = chain_end < (p + 1) * L ? chain_end : (p + 1) * L;
            const int count = (int)(end - u);
            /* Cut at this thread's start: the chain's first steps; cut at
             * its end: the chain's last steps (L >= steps: never both). */
            const int first = u > (long long)chain * steps ? 0 : steps - count;
            rp_chain_segment s = {chain, first, count, p, u - p * L};
            /* Insertion keeps out[] sorted by (start, thread). */
            int i = n++;
            while (i > 0 && earlier(&s, &out[i - 1])) {
                out[i] = out[i - 1];
                --i;
            }
            out[i] = s;
            u = end;
        }
    }
    return n;
}
