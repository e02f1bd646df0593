/* Monotonic seconds (see clock.h). Also compiled into libreptile-mpi,
 * which cannot reach the core library's hidden symbols. */
#include "core/clock.h"

#include <time.h>

double rp_now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}
