/* Version and error API: the only public surface of the core module; and
 * the internal plumbing every module shares (re-raising errors, the decimal
 * parser, the clock). */
#include "testutil.h"
#include "core/chain_plan.h"
#include "core/clock.h"
#include "core/decimal.h"
#include "core/error_internal.h"
#include "reptile/reptile.h"

#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

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

START_TEST(error_wrap_keeps_the_buffer_bounded)
{
    char big[RP_ERROR_MAX + 100];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    rp_error(REPTILE_EIO, "%s", big);
    ck_assert_int_eq(rp_error_wrap(REPTILE_EFORMAT, "%s", "ctx"), REPTILE_EFORMAT);
    ck_assert_int_eq(reptile_error_last_code(), REPTILE_EFORMAT);
    ck_assert_uint_eq(strlen(reptile_error_last()), RP_ERROR_MAX - 1);
    ck_assert_int_eq(strncmp(reptile_error_last(), "ctx: xxx", 8), 0);
}
END_TEST

static void *fail_and_save(void *arg)
{
    rp_error(REPTILE_EIO, "a.png: truncated");
    rp_error_save(arg, reptile_error_last_code());
    return NULL;
}

START_TEST(error_is_carried_across_threads)
{
    rp_error_saved saved = {0};
    rp_error(REPTILE_EINVAL, "main thread");
    pthread_t t;
    ck_assert_int_eq(pthread_create(&t, NULL, fail_and_save, &saved), 0);
    pthread_join(t, NULL);
    ck_assert_int_eq(saved.code, REPTILE_EIO);
    ck_assert_str_eq(reptile_error_last(), "main thread");
    ck_assert_int_eq(rp_error_raise(&saved), REPTILE_EIO);
    ck_assert_str_eq(reptile_error_last(), "a.png: truncated");
    ck_assert_int_eq(reptile_error_last_code(), REPTILE_EIO);
    /* A message with '%' in it is raised verbatim. */
    rp_error(REPTILE_EDATA, "100%% of %s", "x");
    rp_error_save(&saved, REPTILE_EDATA);
    rp_error_raise(&saved);
    ck_assert_str_eq(reptile_error_last(), "100% of x");
}
END_TEST

/* rp_parse_decimal on s with bound max: its result and, on success, the value. */
static int parse(const char *s, uint64_t max, uint64_t *v)
{
    *v = 12345; /* must stay untouched on failure */
    return rp_parse_decimal(s, max, v);
}

START_TEST(decimal_accepts_digits_in_range)
{
    uint64_t v;
    ck_assert_int_eq(parse("0", UINT64_MAX, &v), 0);
    ck_assert_uint_eq(v, 0);
    ck_assert_int_eq(parse("1", INT32_MAX, &v), 0);
    ck_assert_uint_eq(v, 1);
    ck_assert_int_eq(parse("007", INT32_MAX, &v), 0); /* leading zeros */
    ck_assert_uint_eq(v, 7);
    ck_assert_int_eq(parse("0000000000000000000000000042", UINT64_MAX, &v), 0);
    ck_assert_uint_eq(v, 42);
    ck_assert_int_eq(parse("2147483647", INT32_MAX, &v), 0);
    ck_assert_uint_eq(v, INT32_MAX);
    ck_assert_int_eq(parse("18446744073709551615", UINT64_MAX, &v), 0);
    ck_assert(v == UINT64_MAX);
    ck_assert_int_eq(parse("9", 9, &v), 0);
    ck_assert_uint_eq(v, 9);
    ck_assert_int_eq(parse("0", 0, &v), 0);
    ck_assert_uint_eq(v, 0);
}
END_TEST

START_TEST(decimal_rejects_everything_else)
{
    static const char *const bad[] = {
        "", "+1", "-1", "-0", " 1", "1 ", "\t1", "1\n", "1x", "x1", "0x10", "1.0", "1e3",
        "1,000", "1_000", "\xd9\xa1", /* Arabic-Indic one: not ASCII */
    };
    uint64_t v;
    ck_assert_int_eq(parse(NULL, UINT64_MAX, &v), -1);
    ck_assert_uint_eq(v, 12345);
    for (size_t i = 0; i < sizeof bad / sizeof *bad; ++i) {
        ck_assert_msg(parse(bad[i], UINT64_MAX, &v) == -1, "accepted \"%s\"", bad[i]);
        ck_assert_uint_eq(v, 12345);
    }
}
END_TEST

START_TEST(decimal_rejects_overflow)
{
    uint64_t v;
    ck_assert_int_eq(parse("18446744073709551616", UINT64_MAX, &v), -1); /* UINT64_MAX + 1 */
    ck_assert_int_eq(parse("99999999999999999999", UINT64_MAX, &v), -1);
    ck_assert_int_eq(parse("184467440737095516150", UINT64_MAX, &v), -1);
    ck_assert_int_eq(parse("2147483648", INT32_MAX, &v), -1); /* INT_MAX + 1 */
    ck_assert_int_eq(parse("10", 9, &v), -1);
    ck_assert_int_eq(parse("1", 0, &v), -1);
    ck_assert_uint_eq(v, 12345);
}
END_TEST

START_TEST(clock_is_monotonic_seconds)
{
    double t0 = rp_now_s();
    struct timespec pause = {0, 20 * 1000 * 1000};
    nanosleep(&pause, NULL);
    double t1 = rp_now_s();
    ck_assert(t1 - t0 >= 0.019);
    ck_assert(t1 - t0 < 10.0);
    for (int i = 0; i < 1000; ++i) {
        double t = rp_now_s();
        ck_assert(t >= t1);
        t1 = t;
    }
}
END_TEST

/* Checks one plan: every step of every chain exactly once, each chain's
 * segments in step order with the earlier ones planned to end before the
 * later ones start, no thread running two segments at once, and a greedy
 * run of the segment list (the next free thread takes the next segment,
 * waiting for its chain's earlier steps) finishing at the plan's length. */
static void check_plan(int chains, int steps, int threads)
{
    rp_chain_segment seg[RP_CHAIN_PLAN_MAX(64, 8)];
    const int n = rp_chain_plan(chains, steps, threads, seg);
    const int L = (int)rp_chain_plan_length(chains, steps, threads);
    const long units = (long)chains * steps;
    ck_assert_int_eq(L, (int)(steps > (units + threads - 1) / threads ? steps
                                                                        : (units + threads - 1) / threads));
    ck_assert_int_le(n, RP_CHAIN_PLAN_MAX(chains, threads));
    long long planned_end[64] = {0}, busy_until[8] = {0};
    int next_step[64] = {0}, cut = 0;
    double free_at[8] = {0}, chain_end[64] = {0}, makespan = 0;
    for (int i = 0; i < n; ++i) {
        const rp_chain_segment *s = &seg[i];
        ck_assert(s->chain >= 0 && s->chain < chains && s->count >= 1);
        ck_assert_int_eq(s->first, next_step[s->chain]);
        ck_assert(s->start >= planned_end[s->chain]);
        ck_assert(s->start >= busy_until[s->thread]);
        ck_assert_int_le(s->start + s->count, L);
        if (i > 0) /* ordered by (start, thread) */
            ck_assert(seg[i - 1].start < s->start ||
                      (seg[i - 1].start == s->start && seg[i - 1].thread < s->thread));
        cut += s->count < steps;
        next_step[s->chain] += s->count;
        planned_end[s->chain] = busy_until[s->thread] = s->start + s->count;
        int t = 0;
        for (int k = 1; k < threads; ++k)
            if (free_at[k] < free_at[t])
                t = k;
        double start = free_at[t] > chain_end[s->chain] ? free_at[t] : chain_end[s->chain];
        free_at[t] = chain_end[s->chain] = start + s->count;
        makespan = free_at[t] > makespan ? free_at[t] : makespan;
    }
    for (int c = 0; c < chains; ++c)
        ck_assert_int_eq(next_step[c], steps);
    ck_assert_double_eq(makespan, L);
    /* Whole tasks are kept whole when they divide evenly. */
    if (chains % threads == 0 || chains <= threads)
        ck_assert_int_eq(cut, 0);
}

START_TEST(chain_plan_covers_every_step_in_order_in_the_shortest_time)
{
    for (int chains = 1; chains <= 12; ++chains)
        for (int steps = 1; steps <= 9; ++steps)
            for (int threads = 1; threads <= 5; ++threads)
                check_plan(chains, steps, threads);
    check_plan(64, 50, 8);
    /* The paper's 5 tasks of 5 steps on 2 threads: 13 step-times, not 15. */
    ck_assert_int_eq(rp_chain_plan_length(5, 5, 2), 13);
    rp_chain_segment seg[RP_CHAIN_PLAN_MAX(5, 2)];
    ck_assert_int_eq(rp_chain_plan(5, 5, 2, seg), 6);
    /* Counts past 2^31 steps: 1,024 tasks of 2^20 epochs of 5 batches. */
    const int huge = 5 << 20;
    ck_assert(rp_chain_plan_length(1024, huge, 2) == 512LL * huge);
    rp_chain_segment big[RP_CHAIN_PLAN_MAX(1024, 3)];
    const int n = rp_chain_plan(1024, huge, 3, big);
    long long total = 0;
    for (int i = 0; i < n; ++i)
        total += big[i].count;
    ck_assert(total == 1024LL * huge);
    ck_assert_int_eq(n, 1024 + 2);
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
    tcase_add_test(tc, error_wrap_keeps_the_buffer_bounded);
    tcase_add_test(tc, error_is_carried_across_threads);
    suite_add_tcase(s, tc);
    tc = tcase_create("plumbing");
    tcase_add_test(tc, decimal_accepts_digits_in_range);
    tcase_add_test(tc, decimal_rejects_everything_else);
    tcase_add_test(tc, decimal_rejects_overflow);
    tcase_add_test(tc, clock_is_monotonic_seconds);
    tcase_add_test(tc, chain_plan_covers_every_step_in_order_in_the_shortest_time);
    suite_add_tcase(s, tc);
    return s;
}

RP_TEST_MAIN(core_suite)
