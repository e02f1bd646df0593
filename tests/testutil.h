/* Shared helpers for the Check suites. */
#ifndef RP_TESTUTIL_H
#define RP_TESTUTIL_H

#include "core/simd.h"
#include "nn/gemm.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* meson runs some suites once per GEMM path and per loop version;
 * REPTILE_GEMM=native on a CPU without AVX-512F, or a REPTILE_SIMD version
 * the CPU cannot run, is then a skip (exit 77), not a failure. */
static inline int rp_test_skip_unavailable_path(void)
{
    const char *path = getenv("REPTILE_GEMM");
    if (path && strcmp(path, "native") == 0 && !rp_gemm_native_available()) {
        printf("SKIP: REPTILE_GEMM=native, but this CPU has no AVX-512F\n");
        return 1;
    }
    const char *simd = getenv("REPTILE_SIMD");
    for (int l = RP_SIMD_AVX2; simd && l <= RP_SIMD_AVX512; ++l)
        if (strcmp(simd, rp_simd_name(l)) == 0 && !rp_simd_available(l)) {
            printf("SKIP: REPTILE_SIMD=%s, but this CPU cannot run it\n", simd);
            return 1;
        }
    return 0;
}

/* Each test program defines one suite and uses this main; the exit status
 * is non-zero when any test failed. */
#define RP_TEST_MAIN(make_suite)                                   \
    int main(void)                                                 \
    {                                                              \
        if (rp_test_skip_unavailable_path())                       \
            return 77;                                             \
        SRunner *runner = srunner_create(make_suite());            \
        srunner_run_all(runner, CK_NORMAL);                        \
        int failed = srunner_ntests_failed(runner);                \
        srunner_free(runner);                                      \
        return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;          \
    }

/* Path of a committed fixture file (tests/fixtures/NAME). */
#define RP_FIXTURE(name) RP_FIXTURE_DIR "/" name

#endif
