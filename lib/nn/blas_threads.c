#include "nn/blas_threads.h"
#include "rp_config.h"

#include <pthread.h>

#if RP_HAVE_OPENBLAS_THREADS
/* Not declared by every cblas.h. */
void openblas_set_num_threads(int num_threads);
int openblas_get_num_threads(void);
#endif

static pthread_mutex_t pin_lock = PTHREAD_MUTEX_INITIALIZER;
static int pin_depth;      /* calls inside the pin, over all threads */
static int caller_threads; /* OpenBLAS's count when the first one entered */

void rp_blas_pin_enter(void)
{
#if RP_HAVE_OPENBLAS_THREADS
    pthread_mutex_lock(&pin_lock);
    if (pin_depth++ == 0) {
        caller_threads = openblas_get_num_threads();
        if (caller_threads != 1)
            openblas_set_num_threads(1);
    }
    pthread_mutex_unlock(&pin_lock);
#endif
}

void rp_blas_pin_leave(void)
{
#if RP_HAVE_OPENBLAS_THREADS
    pthread_mutex_lock(&pin_lock);
    if (--pin_depth == 0 && caller_threads != 1)
        openblas_set_num_threads(caller_threads);
    pthread_mutex_unlock(&pin_lock);
#endif
}

int rp_blas_threads(void)
{
#if RP_HAVE_OPENBLAS_THREADS
    return openblas_get_num_threads();
#else
    return 1;
#endif
}
