/* The memory-bound loops' version (simd.h): chosen once from the CPU and
 * REPTILE_SIMD; tests may switch it between runs. */
#include "core/simd.h"
#include "core/error_internal.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const names[] = {"baseline", "avx2", "avx512"};

static atomic_int level;
static int env_rc; /* REPTILE_SIMD's verdict, reported by rp_simd_check() */
static char env_msg[160];
static pthread_once_t choose_once = PTHREAD_ONCE_INIT;

int rp_simd_available(int want)
{
    if (want == RP_SIMD_BASELINE)
        return 1;
#if RP_SIMD_BUILT
    __builtin_cpu_init();
    if (want == RP_SIMD_AVX2)
        return __builtin_cpu_supports("avx2");
    if (want == RP_SIMD_AVX512)
        return __builtin_cpu_supports("avx512f"); /* checks the OS saves zmm state too */
#endif
    return 0;
}

const char *rp_simd_name(int l)
{
    return l >= RP_SIMD_BASELINE && l <= RP_SIMD_AVX512 ? names[l] : "?";
}

static void choose(void)
{
    int best = RP_SIMD_BASELINE;
    for (int l = RP_SIMD_AVX2; l <= RP_SIMD_AVX512; ++l)
        if (rp_simd_available(l))
            best = l;
    atomic_store_explicit(&level, best, memory_order_relaxed);
    const char *forced = getenv("REPTILE_SIMD");
    if (!forced || !*forced || strcmp(forced, "auto") == 0)
        return;
    for (int l = RP_SIMD_BASELINE; l <= RP_SIMD_AVX512; ++l) {
        if (strcmp(forced, names[l]) != 0)
            continue;
        if (!rp_simd_available(l)) {
            /* The levels run in order, so best names the widest of them. */
            env_rc = REPTILE_EUNSUPPORTED;
            snprintf(env_msg, sizeof env_msg,
                     "REPTILE_SIMD=%s: this %s cannot run it (use auto, or %s or narrower)",
                     names[l], RP_SIMD_BUILT ? "CPU" : "build (not x86-64 GCC or clang)",
                     names[best]);
            return;
        }
        atomic_store_explicit(&level, l, memory_order_relaxed);
        return;
    }
    env_rc = REPTILE_EINVAL;
    snprintf(env_msg, sizeof env_msg,
             "REPTILE_SIMD='%.48s' is not one of auto, avx512, avx2, baseline", forced);
}

int rp_simd_level(void)
{
    pthread_once(&choose_once, choose);
    return atomic_load_explicit(&level, memory_order_relaxed);
}

int rp_simd_check(void)
{
    pthread_once(&choose_once, choose);
    return env_rc ? rp_error(env_rc, "%s", env_msg) : 0;
}

int rp_simd_use(int want)
{
    pthread_once(&choose_once, choose);
    if (want < RP_SIMD_BASELINE || want > RP_SIMD_AVX512 || !rp_simd_available(want))
        return -1;
    atomic_store_explicit(&level, want, memory_order_relaxed);
    return 0;
}
