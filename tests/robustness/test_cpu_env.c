/* REPTILE_GEMM and REPTILE_SIMD are read once per process, so each case
 * runs in a fresh child: an unknown value is an error naming the accepted
 * values (0.1 silently took the automatic path), a path the CPU cannot run
 * is an error too, and every model call reports it. */
#include "testutil.h"
#include "core/simd.h"
#include "nn/gemm.h"
#include "reptile/reptile.h"

#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* In a child with var=value: predict on a tiny model; exits 0 when the
 * code is want_rc and the message holds want_text (NULL: no check). */
static int child_predict(const char *var, const char *value, int want_rc, const char *want_text)
{
    setenv(var, value, 1);
    reptile_model *m = NULL;
    if (reptile_model_new(&m, 4, 4, 1) || reptile_model_add_flatten(m) ||
        reptile_model_add_dense(m, 3) || reptile_model_init(m, 1))
        return 10;
    float x[16] = {0}, probs[3];
    int rc = reptile_model_predict(m, x, 1, REPTILE_BN_MOVING, probs);
    reptile_model_free(m);
    if (rc != want_rc) {
        fprintf(stderr, "%s=%s: rc %d, want %d (%s)\n", var, value, rc, want_rc,
                reptile_error_last());
        return 11;
    }
    /* A forced version is the one the loops run. */
    for (int l = RP_SIMD_BASELINE; rc == 0 && l <= RP_SIMD_AVX512; ++l)
        if (strcmp(var, "REPTILE_SIMD") == 0 && strcmp(value, rp_simd_name(l)) == 0 &&
            rp_simd_level() != l) {
            fprintf(stderr, "REPTILE_SIMD=%s: the loops run %s\n", value,
                    rp_simd_name(rp_simd_level()));
            return 13;
        }
    if (want_text && !strstr(reptile_error_last(), want_text)) {
        fprintf(stderr, "%s=%s: message '%s' lacks '%s'\n", var, value, reptile_error_last(),
                want_text);
        return 12;
    }
    return 0;
}

static void expect_in_child(const char *var, const char *value, int want_rc, const char *want_text)
{
    fflush(NULL);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0)
        _exit(child_predict(var, value, want_rc, want_text));
    int status = 0;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "%s=%s: child status %d", var,
                  value, status);
}

#define GEMM "REPTILE_GEMM"
#define SIMD "REPTILE_SIMD"

START_TEST(unknown_values_are_errors_naming_the_accepted_ones)
{
    expect_in_child(GEMM, "fast", REPTILE_EINVAL, "REPTILE_GEMM='fast' is not one of auto, blas, native");
    expect_in_child(GEMM, "BLAS", REPTILE_EINVAL, "auto, blas, native");
    expect_in_child(GEMM, "native ", REPTILE_EINVAL, "auto, blas, native");
    expect_in_child(SIMD, "sse2", REPTILE_EINVAL,
                    "REPTILE_SIMD='sse2' is not one of auto, avx512, avx2, baseline");
    expect_in_child(SIMD, "AVX2", REPTILE_EINVAL, "auto, avx512, avx2, baseline");
    expect_in_child(SIMD, "avx512 ", REPTILE_EINVAL, "auto, avx512, avx2, baseline");
}
END_TEST

START_TEST(known_values_work)
{
    expect_in_child(GEMM, "", 0, NULL);
    expect_in_child(GEMM, "auto", 0, NULL);
    expect_in_child(GEMM, "blas", 0, NULL);
    if (rp_gemm_native_available())
        expect_in_child(GEMM, "native", 0, NULL);
    else
        expect_in_child(GEMM, "native", REPTILE_EUNSUPPORTED, "needs AVX-512F");
    expect_in_child(SIMD, "", 0, NULL);
    expect_in_child(SIMD, "auto", 0, NULL);
    expect_in_child(SIMD, "baseline", 0, NULL);
    for (int l = RP_SIMD_AVX2; l <= RP_SIMD_AVX512; ++l) {
        if (rp_simd_available(l))
            expect_in_child(SIMD, rp_simd_name(l), 0, NULL);
        else
            expect_in_child(SIMD, rp_simd_name(l), REPTILE_EUNSUPPORTED, "cannot run it");
    }
}
END_TEST

static Suite *cpu_env_suite(void)
{
    Suite *s = suite_create("cpu-env");
    TCase *tc = tcase_create("env");
    tcase_add_test(tc, unknown_values_are_errors_naming_the_accepted_ones);
    tcase_add_test(tc, known_values_work);
    suite_add_tcase(s, tc);
    return s;
}

RP_TEST_MAIN(cpu_env_suite)
