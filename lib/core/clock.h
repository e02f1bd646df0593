/* The library's one clock, for elapsed times and deadlines (training
 * progress, MPI collective timeouts). */
#ifndef RP_CORE_CLOCK_H
#define RP_CORE_CLOCK_H

/* Seconds on CLOCK_MONOTONIC from an arbitrary origin: only differences
 * mean anything; never goes back when the wall clock is set. */
double rp_now_s(void);

#endif
