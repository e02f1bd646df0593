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
        ck_assert_msg(all[i]->offset >= end, "%s overlaps the field before it", all[i]->info.name);
        ck_assert_msg(all[i]->offset - end < all[i]->size,
                      "%zu unlisted bytes before %s: a field missing from the option table?",
                      all[i]->offset - end, all[i]->info.name);
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
        double outside[2] = {s->info.min_open ? s->info.min : s->info.min - 1, s->info.max_open ? s->info.max : s->info.max + 1};
        if (s->type == RP_OPT_FLOAT && !s->info.min_open)
            outside[0] = nextafter(s->info.min, -INFINITY) - 1e-6;
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
            if (strcmp(s->info.name, "rank") == 0)
                continue; /* bounded by world_size first */
            ck_assert_msg(reptile_meta_options_validate(&bad) == REPTILE_EINVAL,
                          "%s = %g accepted", s->info.name, outside[k]);
            ck_assert_msg(strstr(reptile_error_last(), s->info.name) == reptile_error_last(),
                          "message '%s' does not start with %s", reptile_error_last(), s->info.name);
        }
        if (s->type == RP_OPT_FLOAT) {
            reptile_meta_options bad = o;
            float nan = NAN;
            memcpy((char *)&bad + s->offset, &nan, sizeof nan);
            ck_assert_msg(reptile_meta_options_validate(&bad) == REPTILE_EINVAL, "%s = NaN accepted",
                          s->info.name);
        }
    }
}
END_TEST

/* The public description is the table: same names, bounds and flags, in
 * the same order. */
START_TEST(public_info_is_the_table)
{
    ck_assert_int_eq(reptile_meta_option_count(), (int)rp_meta_option_count);
    for (int i = 0; i < reptile_meta_option_count(); ++i)
        ck_assert_ptr_eq(reptile_meta_option_info(i), &rp_meta_option_specs[i].info);
    ck_assert_ptr_null(reptile_meta_option_info(-1));
    ck_assert_ptr_null(reptile_meta_option_info(reptile_meta_option_count()));
    const reptile_option_info *lr = NULL, *seed = NULL, *threads = NULL;
    for (int i = 0; i < reptile_meta_option_count(); ++i) {
        const reptile_option_info *in = reptile_meta_option_info(i);
        ck_assert_ptr_nonnull(in->help);
        ck_assert_uint_le(in->since, REPTILE_META_OPTIONS_VERSION);
        ck_assert_uint_eq(in->since, strcmp(in->name, "algorithm") == 0 ||
                                             strcmp(in->name, "foml_tail") == 0
                                         ? 2
                                         : 1);
        if (strcmp(in->name, "lr") == 0)
            lr = in;
        if (strcmp(in->name, "seed") == 0)
            seed = in;
        if (strcmp(in->name, "threads") == 0)
            threads = in;
    }
    ck_assert_int_eq(lr->type, REPTILE_OPTION_FLOAT);
    ck_assert(lr->min == 0 && lr->max == 1000 && lr->min_open && lr->max_open);
    ck_assert_uint_eq(lr->flags, REPTILE_OPTION_MATCH_RESUME | REPTILE_OPTION_MATCH_WORKERS);
    ck_assert_int_eq(seed->type, REPTILE_OPTION_UINT64);
    ck_assert_uint_eq(threads->flags, 0);
}
END_TEST

/* Every option's value goes out as text and back in to the same bits, for
 * every preset; the text of an enum is its name. */
START_TEST(set_and_get_round_trip_every_preset)
{
    const char *name;
    for (int p = 0; (name = reptile_meta_preset_name(p)) != NULL; ++p) {
        reptile_meta_options o, back;
        ck_assert_int_eq(reptile_meta_options_preset(&o, REPTILE_META_OPTIONS_VERSION, name), 0);
        ck_assert_int_eq(reptile_meta_options_validate(&o), 0);
        ck_assert_int_eq(reptile_meta_options_init(&back, REPTILE_META_OPTIONS_VERSION), 0);
        for (int i = 0; i < reptile_meta_option_count(); ++i) {
            const char *opt = reptile_meta_option_info(i)->name;
            char text[64];
            ck_assert_int_eq(reptile_meta_options_get(&o, opt, text, sizeof text), 0);
            ck_assert_msg(reptile_meta_options_set(&back, opt, text) == 0, "%s: %s = %s: %s", name,
                          opt, text, reptile_error_last());
        }
        ck_assert_msg(memcmp(&o, &back, sizeof o) == 0, "preset %s does not round-trip", name);
    }
    ck_assert_ptr_null(reptile_meta_preset_name(-1));
}
END_TEST

START_TEST(set_parses_names_numbers_and_refuses_bad_text)
{
    reptile_meta_options o;
    char text[64];
    ck_assert_int_eq(reptile_meta_options_init(&o, REPTILE_META_OPTIONS_VERSION), 0);
    ck_assert_int_eq(reptile_meta_options_set(&o, "optimizer", "sgd"), 0);
    ck_assert_int_eq(o.optimizer, REPTILE_OPTIMIZER_SGD);
    ck_assert_int_eq(reptile_meta_options_set(&o, "optimizer", "1"), 0);
    ck_assert_int_eq(o.optimizer, REPTILE_OPTIMIZER_ADAM);
    ck_assert_int_eq(reptile_meta_options_get(&o, "optimizer", text, sizeof text), 0);
    ck_assert_str_eq(text, "adam");
    ck_assert_int_eq(reptile_meta_options_set(&o, "bn-mode", "frozen"), 0);
    ck_assert_int_eq(o.bn_mode, REPTILE_BN_FROZEN);
    ck_assert_int_eq(reptile_meta_options_set(&o, "inner-iters", "007"), 0);
    ck_assert_int_eq(o.inner_iters, 7);
    ck_assert_int_eq(reptile_meta_options_set(&o, "seed", "18446744073709551615"), 0);
    ck_assert_uint_eq(o.seed, UINT64_MAX);
    ck_assert_int_eq(reptile_meta_options_set(&o, "lr", "2.5e-4"), 0);
    ck_assert_float_eq(o.lr, 2.5e-4f);

    const reptile_meta_options before = o;
    static const struct {
        const char *name, *value;
        int rc;
        const char *message;
    } bad[] = {
        {"optimizer", "sdg", REPTILE_EINVAL, "optimizer must be sgd (0) or adam (1), got \"sdg\""},
        {"bn_mode", "3", REPTILE_EINVAL,
         "bn_mode must be batch (0), moving (1) or frozen (2), got \"3\""},
        {"lr", "2e3", REPTILE_EINVAL, "lr must be in (0, 1000), got \"2e3\""},
        {"lr", "1e-50", REPTILE_EINVAL, "lr must be in (0, 1000), got \"1e-50\""},
        {"lr", "nan", REPTILE_EINVAL, "lr must be in (0, 1000), got \"nan\""},
        {"meta_step", "1e-400", REPTILE_EINVAL,
         "meta_step must be in [0, 1], got \"1e-400\" (too small for a float: it would become 0 "
         "or lose precision)"},
        {"meta_step", "1e-40", REPTILE_EINVAL, NULL}, /* a denormal float */
        {"lr", "0.1x", REPTILE_EINVAL, "lr must be in (0, 1000), got \"0.1x\""},
        {"ways", " 5", REPTILE_EINVAL, "ways must be in 2..4096, got \" 5\""},
        {"ways", "99999999999999999999", REPTILE_EINVAL, NULL},
        {"keras_clip", "2", REPTILE_EINVAL, "keras_clip must be 0 or 1, got \"2\""},
        {"seed", "-1", REPTILE_EINVAL, NULL},
        {"seed", "0x10", REPTILE_EINVAL, NULL},
        {"seed", "18446744073709551616", REPTILE_EINVAL, NULL},
        {"learning_rate", "1", REPTILE_ENOTFOUND, NULL},
        {"", "1", REPTILE_ENOTFOUND, NULL},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; ++i) {
        ck_assert_msg(reptile_meta_options_set(&o, bad[i].name, bad[i].value) == bad[i].rc,
                      "%s = %s", bad[i].name, bad[i].value);
        if (bad[i].message)
            ck_assert_str_eq(reptile_error_last(), bad[i].message);
        ck_assert_msg(strstr(reptile_error_last(), bad[i].name) != NULL, "%s", reptile_error_last());
        ck_assert_int_eq(memcmp(&o, &before, sizeof o), 0); /* nothing changed */
    }
    ck_assert_int_eq(reptile_meta_options_set(NULL, "lr", "1"), REPTILE_EINVAL);
    ck_assert_int_eq(reptile_meta_options_set(&o, NULL, "1"), REPTILE_EINVAL);
    ck_assert_int_eq(reptile_meta_options_set(&o, "lr", NULL), REPTILE_EINVAL);
    ck_assert_int_eq(reptile_meta_options_get(&o, "lr", text, 2), REPTILE_EINVAL);
    o.version = 99;
    ck_assert_int_eq(reptile_meta_options_set(&o, "lr", "1"), REPTILE_EVERSION);
    ck_assert_int_eq(reptile_meta_options_get(&o, "lr", text, sizeof text), REPTILE_EVERSION);
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
    tcase_add_test(tc, public_info_is_the_table);
    tcase_add_test(tc, set_and_get_round_trip_every_preset);
    tcase_add_test(tc, set_parses_names_numbers_and_refuses_bad_text);
    suite_add_tcase(s, tc);
    return s;
}

RP_TEST_MAIN(table_suite)
