/* Splitting equal chains of sequential steps over threads.
 *
 * A meta-iteration is `chains` tasks of `steps` SGD steps each; a task's
 * steps must run in order, but a task may move to another thread between
 * two steps. Five tasks on two threads as whole tasks take three waves,
 * one thread idle in the last; split at step boundaries they take
 * ceil(25 / 2) = 13 step-times instead of 15.
 *
 * The plan is McNaughton's wrap-around rule: thread p's timeline holds
 * units [pL, (p+1)L) of the tasks laid end to end, L = max(steps,
 * ceil(chains * steps / threads)). A task cut by a thread boundary runs its
 * FIRST steps at the start of the later thread's timeline and its LAST
 * steps at the end of the earlier one's; since L >= steps, the two parts
 * never overlap in time. Segments come out ordered by planned start time
 * (then thread), which is also an order in which every segment's
 * predecessor comes first, so threads that take segments in that order
 * and wait for predecessors cannot deadlock, whatever their speeds. */
#ifndef RP_CORE_CHAIN_PLAN_H
#define RP_CORE_CHAIN_PLAN_H

typedef struct rp_chain_segment {
    int chain; /* which chain (task) */
    int first; /* its first step in this segment */
    int count; /* steps in this segment (>= 1) */
    int thread;       /* where the plan puts it */
    long long start;  /* when, in steps from the iteration's start */
} rp_chain_segment;

/* Most segments a plan can have. */
#define RP_CHAIN_PLAN_MAX(chains, threads) ((chains) + (threads) - 1)

/* Fills out[] (RP_CHAIN_PLAN_MAX entries) and returns the segment count.
 * chains, steps, threads >= 1. */
int rp_chain_plan(int chains, int steps, int threads, rp_chain_segment *out);

/* The plan's makespan in steps (L above): the step-times the busiest
 * thread runs when every step costs the same. */
long long rp_chain_plan_length(int chains, int steps, int threads);

#endif
