/* REPTILE_GEMM is read once per process, so each case runs in a fresh
 * child: an unknown value is an error naming the accepted values (0.1
 * silently took the automatic path), and every model call reports it. */
#include "testutil.h"
#include "nn/gemm.h"
#include "reptile/reptile.h"

#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* In a child with REPTILE_GEMM=value: predict on a tiny model; exits 0 when
 * the code is want_rc and the message holds want_text (NULL: no check). */
static int child_predict(const char *value, int want_rc, const char *want_text)
{
    setenv("REPTILE_GEMM", value, 1);
    reptile_model *m = NULL;
    if (reptile_model_new(&m, 4, 4, 1) || reptile_model_add_flatten(m) ||
        reptile_model_add_dense(m, 3) || reptile_model_init(m, 1))
        return 10;
    float x[16] = {0}, probs[3];
    int rc = reptile_model_predict(m, x, 1, REPTILE_BN_MOVING, probs);
    reptile_model_free(m);
    if (rc != want_rc) {
        fprintf(stderr, "REPTILE_GEMM=%s: rc %d, want %d (%s)\n", value, rc, want_rc,
                reptile_error_last());
        return 11;
    }
    if (want_text && !strstr(reptile_error_last(), want_text)) {
        fprintf(stderr, "REPTILE_GEMM=%s: message '%s' lacks '%s'\n", value, reptile_error_last(),
                want_text);
        return 12;
    }
    return 0;
}

static void expect_in_child(const char *value, int want_rc, const char *want_text)
{
    fflush(NULL);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0)
        _exit(child_predict(value, want_rc, want_text));
    int status = 0;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "REPTILE_GEMM=%s: child status %d",
                  value, status);
}

START_TEST(unknown_values_are_errors_naming_the_accepted_ones)
{
    expect_in_child("fast", REPTILE_EINVAL, "REPTILE_GEMM='fast' is not one of auto, blas, native");
    expect_in_child("BLAS", REPTILE_EINVAL, "auto, blas, native");
    expect_in_child("native ", REPTILE_EINVAL, "auto, blas, native");
}
END_TEST

START_TEST(known_values_work)
{
    expect_in_child("", 0, NULL);
    expect_in_child("auto", 0, NULL);
    expect_in_child("blas", 0, NULL);
    if (rp_gemm_native_available())
        expect_in_child("native", 0, NULL);
    else
        expect_in_child("native", REPTILE_EUNSUPPORTED, "needs AVX-512F");
}
END_TEST

static Suite *gemm_env_suite(void)
{
    Suite *s = suite_create("gemm-env");
    TCase *tc = tcase_create("env");
    tcase_add_test(tc, unknown_values_are_errors_naming_the_accepted_ones);
    tcase_add_test(tc, known_values_work);
    suite_add_tcase(s, tc);
    return s;
}

RP_TEST_MAIN(gemm_env_suite)
