/* Shared helpers for the Check suites. */
#ifndef RP_TESTUTIL_H
#define RP_TESTUTIL_H

#include <check.h>
#include <stdlib.h>

/* Each test program defines one suite and uses this main; the exit status
 * is non-zero when any test failed. */
#define RP_TEST_MAIN(make_suite)                                   \
    int main(void)                                                 \
    {                                                              \
        SRunner *runner = srunner_create(make_suite());            \
        srunner_run_all(runner, CK_NORMAL);                        \
        int failed = srunner_ntests_failed(runner);                \
        srunner_free(runner);                                      \
        return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;          \
    }

/* Path of a committed fixture file (tests/fixtures/NAME). */
#define RP_FIXTURE(name) RP_FIXTURE_DIR "/" name

#endif
