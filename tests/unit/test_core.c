/* Version and error API: the only public surface of the core module. */
#include "testutil.h"
#include "core/error_internal.h"
#include "reptile/reptile.h"

#include <pthread.h>
#include <string.h>

START_TEST(version_matches_header)
{
    ck_assert_uint_eq(reptile_version_number(), REPTILE_VERSION_NUMBER);
    ck_assert_str_eq(reptile_version_string(), REPTILE_VERSION_STRING);
    ck_assert_uint_eq(REPTILE_VERSION_NUMBER,
                      REPTILE_VERSION_MAJOR * 10000u + REPTILE_VERSION_MINOR * 100u +
                          REPTILE_VERSION_PATCH);
}
END_TEST

START_TEST(error_codes_are_stable)
{
    /* These values are ABI: renumbering any of them must fail this test. */
    ck_assert_int_eq(REPTILE_OK, 0);
    ck_assert_int_eq(REPTILE_EINVAL, -1);
    ck_assert_int_eq(REPTILE_ENOMEM, -2);
    ck_assert_int_eq(REPTILE_EIO, -3);
    ck_assert_int_eq(REPTILE_EFORMAT, -4);
    ck_assert_int_eq(REPTILE_ENOTFOUND, -5);
    ck_assert_int_eq(REPTILE_ESHAPE, -6);
    ck_assert_int_eq(REPTILE_EDIVERGED, -7);
    ck_assert_int_eq(REPTILE_EUNSUPPORTED, -8);
    ck_assert_int_eq(REPTILE_ESTATE, -9);
    ck_assert_int_eq(REPTILE_EVERSION, -10);
    ck_assert_int_eq(REPTILE_ETHREAD, -11);
    ck_assert_int_eq(REPTILE_EDATA, -12);
}
END_TEST

START_TEST(strerror_names_every_code)
{
    for (int code = 0; code >= REPTILE_EDATA; --code)
        ck_assert_str_ne(reptile_strerror(code), "unknown error");
    ck_assert_str_eq(reptile_strerror(-9999), "unknown error");
    ck_assert_str_eq(reptile_strerror(42), "unknown error");
}
END_TEST

START_TEST(error_last_records_context)
{
    reptile_error_clear();
    ck_assert_str_eq(reptile_error_last(), "");
    ck_assert_int_eq(reptile_error_last_code(), 0);
    int rc = rp_error(REPTILE_EINVAL, "ways must be >= 2, got %d", 1);
    ck_assert_int_eq(rc, REPTILE_EINVAL);
    ck_assert_str_eq(reptile_error_last(), "ways must be >= 2, got 1");
    ck_assert_int_eq(reptile_error_last_code(), REPTILE_EINVAL);
    rc = rp_error_wrap(REPTILE_EIO, "reading %s", "a.png");
    ck_assert_int_eq(rc, REPTILE_EIO);
    ck_assert_str_eq(reptile_error_last(), "reading a.png: ways must be >= 2, got 1");
    reptile_error_clear();
    ck_assert_str_eq(reptile_error_last(), "");
}
END_TEST

START_TEST(error_message_is_truncated_not_overflowed)
{
    char big[4000];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    rp_error(REPTILE_EIO, "%s", big);
    ck_assert_uint_lt(strlen(reptile_error_last()), sizeof big - 1);
    ck_assert_uint_gt(strlen(reptile_error_last()), 100);
}
END_TEST

static void *set_error_in_thread(void *arg)
{
    (void)arg;
    rp_error(REPTILE_ENOMEM, "other thread");
    return NULL;
}

START_TEST(error_state_is_thread_local)
{
    rp_error(REPTILE_EINVAL, "main thread");
    pthread_t t;
    ck_assert_int_eq(pthread_create(&t, NULL, set_error_in_thread, NULL), 0);
    pthread_join(t, NULL);
    ck_assert_str_eq(reptile_error_last(), "main thread");
    ck_assert_int_eq(reptile_error_last_code(), REPTILE_EINVAL);
}
END_TEST

static Suite *core_suite(void)
{
    Suite *s = suite_create("core");
    TCase *tc = tcase_create("version_and_errors");
    tcase_add_test(tc, version_matches_header);
    tcase_add_test(tc, error_codes_are_stable);
    tcase_add_test(tc, strerror_names_every_code);
    tcase_add_test(tc, error_last_records_context);
    tcase_add_test(tc, error_message_is_truncated_not_overflowed);
    tcase_add_test(tc, error_state_is_thread_local);
    suite_add_tcase(s, tc);
    return s;
}

RP_TEST_MAIN(core_suite)
