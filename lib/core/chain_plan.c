#include "core/chain_plan.h"

#include <stddef.h>

int rp_chain_plan_length(int chains, int steps, int threads)
{
    long units = (long)chains * steps;
    long per_thread = (units + threads - 1) / threads;
    return per_thread > steps ? (int)per_thread : steps;
}

static int earlier(const rp_chain_segment *a, const rp_chain_segment *b)
{
    return a->start < b->start || (a->start == b->start && a->thread < b->thread);
}

int rp_chain_plan(int chains, int steps, int threads, rp_chain_segment *out)
{
    const long units = (long)chains * steps;
    const long L = rp_chain_plan_length(chains, steps, threads);
    int n = 0;
    for (int p = 0; p < threads; ++p) {
        for (long u = p * L; u < (p + 1) * L && u < units;) {
            const int chain = (int)(u / steps);
            const long chain_end = (long)(chain + 1) * steps;
            const long end = chain_end < (p + 1) * L ? chain_end : (p + 1) * L;
            const int count = (int)(end - u);
            /* Cut at this thread's start: the chain's first steps; cut at
             * its end: the chain's last steps (L >= steps: never both). */
            const int first = u > (long)chain * steps ? 0 : steps - count;
            rp_chain_segment s = {chain, first, count, p, (int)(u - p * L)};
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
