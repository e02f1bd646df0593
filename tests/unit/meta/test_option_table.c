/* The option table (lib/meta/option_table.c) is the one source of truth
 * for reptile_meta_options: every field of the public struct is either an
 * option in the table or one of the listed non-options, defaults and
 * bounds behave as the table says, and every value the table rejects is
 * rejected by validation with a message naming the option. */
#include "testutil.h"
#include "meta/option_table.h"
#include "reptile/reptile.h"

#include <math.h>

static int by_offset(const void *a, const void *b)
{
    const rp_option_spec *x = *(const rp_option_spec *const *)a;
    const rp_option_spec *y = *(const rp_option_spec *const *)b;
    return x->offset < y->offset ? -1 : x->offset > y->offset;
}

/* Sorted by offset, the listed fields must tile the struct: no overlap,
 * and no gap as large as a field (a gap that size is an unlisted field,
 * smaller ones are alignment padding). Fails when a field is added to the
 * struct alone. */
START_TEST(every_field_of_the_struct_is_in_the_table)
{
    const size_t n = rp_meta_option_count + rp_meta_non_option_count;
    const rp_option_spec **all = malloc(n * sizeof *all);
    for (size_t i = 0; i < rp_meta_option_count; ++i)
        all[i] = &rp_meta_option_specs[i];
    for (size_t i = 0; i < rp_meta_non_option_count; ++i)
        all[rp_meta_option_count + i] = &rp_meta_non_options[i];
    qsort(all, n, sizeof *all, by_offset);
    size_t end = 0;
    for (size_t i = 0; i < n; ++i) {
        ck_assert_msg(all[i]->offset >= end, "%s overlaps the field before it", all[i]->name);
        ck_assert_msg(all[i]->offset - end < all[i]->size,
                      "%zu unlisted bytes before %s: a field missing from the option table?",
                      all[i]->offset - end, all[i]->name);
        end = all[i]->offset + all[i]->size;
    }
    ck_assert_msg(sizeof(reptile_meta_options) - end < 8,
                  "%zu unlisted bytes at the end of reptile_meta_options: a field missing from "
                  "the option table?",
                  sizeof(reptile_meta_options) - end);
    free(all);
}
END_TEST

START_TEST(defaults_are_valid_and_bounds_are_enforced)
{
    reptile_meta_options o;
    ck_assert_int_eq(reptile_meta_options_init(&o, REPTILE_META_OPTIONS_VERSION), 0);
    ck_assert_int_eq(reptile_meta_options_validate(&o), 0);
    for (size_t i = 0; i < rp_meta_option_count; ++i) {
        const rp_option_spec *s = &rp_meta_option_specs[i];
        if (s->type == RP_OPT_U64)
            continue;
        /* Just outside each bound (or on an open one): rejected, naming it. */
        double outside[2] = {s->lo_open ? s->lo : s->lo - 1, s->hi_open ? s->hi : s->hi + 1};
        if (s->type == RP_OPT_FLOAT && !s->lo_open)
            outside[0] = nextafter(s->lo, -INFINITY) - 1e-6;
        for (int k = 0; k < 2; ++k) {
            if (isinf(outside[k]))
                continue;
            reptile_meta_options bad = o;
            char *p = (char *)&bad + s->offset;
            if (s->type == RP_OPT_INT) {
                if (outside[k] < -2147483648.0 || outside[k] > 2147483647.0)
                    continue;
                int v = (int)outside[k];
                memcpy(p, &v, sizeof v);
            } else {
                float v = (float)outside[k];
                memcpy(p, &v, sizeof v);
            }
            if (strcmp(s->name, "rank") == 0)
                continue; /* bounded by world_size first */
            ck_assert_msg(reptile_meta_options_validate(&bad) == REPTILE_EINVAL,
                          "%s = %g accepted", s->name, outside[k]);
            ck_assert_msg(strstr(reptile_error_last(), s->name) == reptile_error_last(),
                          "message '%s' does not start with %s", reptile_error_last(), s->name);
        }
        if (s->type == RP_OPT_FLOAT) {
            reptile_meta_options bad = o;
            float nan = NAN;
            memcpy((char *)&bad + s->offset, &nan, sizeof nan);
            ck_assert_msg(reptile_meta_options_validate(&bad) == REPTILE_EINVAL, "%s = NaN accepted",
                          s->name);
        }
    }
}
END_TEST

START_TEST(messages_show_the_bounds)
{
    reptile_meta_options o;
    ck_assert_int_eq(reptile_meta_options_init(&o, REPTILE_META_OPTIONS_VERSION), 0);
    o.lr = 1e6f;
    ck_assert_int_eq(reptile_meta_options_validate(&o), REPTILE_EINVAL);
    ck_assert_str_eq(reptile_error_last(), "lr must be in (0, 1000), got 1000000");
    o.lr = 0.003f;
    o.keras_clip = 2;
    ck_assert_int_eq(reptile_meta_options_validate(&o), REPTILE_EINVAL);
    ck_assert_str_eq(reptile_error_last(), "keras_clip must be 0 or 1, got 2");
    o.keras_clip = 1;
    o.threads = 1000;
    ck_assert_int_eq(reptile_meta_options_validate(&o), REPTILE_EINVAL);
    ck_assert_str_eq(reptile_error_last(), "threads must be in 1..256, got 1000");
    o.threads = 1;
    o.adam_eps = 0.0f;
    ck_assert_int_eq(reptile_meta_options_validate(&o), REPTILE_EINVAL);
    ck_assert_str_eq(reptile_error_last(), "adam_eps must be > 0 and finite, got 0");
}
END_TEST

static Suite *table_suite(void)
{
    Suite *s = suite_create("option-table");
    TCase *tc = tcase_create("table");
    tcase_add_test(tc, every_field_of_the_struct_is_in_the_table);
    tcase_add_test(tc, defaults_are_valid_and_bounds_are_enforced);
    tcase_add_test(tc, messages_show_the_bounds);
    suite_add_tcase(s, tc);
    return s;
}

RP_TEST_MAIN(table_suite)
