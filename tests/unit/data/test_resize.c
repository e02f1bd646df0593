/* Resize against hand-computed tf.image.resize values. */
#include "testutil.h"

#include "data/resize.h"
#include "reptile/dataset.h"
#include "reptile/error.h"

#include <stdio.h>

#include <math.h>

#define EPS 1e-6f

static void assert_close(const float *got, const float *want, int n)
{
    for (int i = 0; i < n; ++i)
        ck_assert_msg(fabsf(got[i] - want[i]) <= EPS, "[%d]: got %.7g want %.7g", i, (double)got[i],
                      (double)want[i]);
}

START_TEST(identity_when_sizes_equal)
{
    float in[12], out[12];
    for (int i = 0; i < 12; ++i)
        in[i] = (float)i * 0.1f;
    for (int f = 0; f < 3; ++f) {
        ck_assert_int_eq(rp_resize(in, 2, 2, 3, out, 2, 2, f), 0);
        for (int i = 0; i < 12; ++i)
            ck_assert(out[i] == in[i]);
    }
}
END_TEST

START_TEST(bilinear_downscale_by_two_is_block_mean)
{
    /* tf.image.resize(x, [2, 2]) on a 4x4 image: half-pixel centres land in
     * the middle of each 2x2 block. */
    float in[16], out[4];
    for (int i = 0; i < 16; ++i)
        in[i] = (float)(i * i % 7) / 7.0f;
    ck_assert_int_eq(rp_resize(in, 4, 4, 1, out, 2, 2, RP_FILTER_BILINEAR), 0);
    for (int by = 0; by < 2; ++by)
        for (int bx = 0; bx < 2; ++bx) {
            float m = (in[(2 * by) * 4 + 2 * bx] + in[(2 * by) * 4 + 2 * bx + 1] +
                       in[(2 * by + 1) * 4 + 2 * bx] + in[(2 * by + 1) * 4 + 2 * bx + 1]) / 4.0f;
            ck_assert_msg(fabsf(out[by * 2 + bx] - m) <= EPS, "block %d,%d", by, bx);
        }
    /* The same with area. */
    ck_assert_int_eq(rp_resize(in, 4, 4, 1, out, 2, 2, RP_FILTER_AREA), 0);
    float m00 = (in[0] + in[1] + in[4] + in[5]) / 4.0f;
    ck_assert(fabsf(out[0] - m00) <= EPS);
}
END_TEST

START_TEST(bilinear_upscale_matches_tensorflow)
{
    /* tf.image.resize([[0, 1], [2, 3]], [4, 4]) (TF 2.x, bilinear). */
    const float in[4] = {0, 1, 2, 3};
    const float want[16] = {0.0f, 0.25f, 0.75f, 1.0f, 0.5f, 0.75f, 1.25f, 1.5f,
                            1.5f, 1.75f, 2.25f, 2.5f, 2.0f, 2.25f, 2.75f, 3.0f};
    float out[16];
    ck_assert_int_eq(rp_resize(in, 2, 2, 1, out, 4, 4, RP_FILTER_BILINEAR), 0);
    assert_close(out, want, 16);
}
END_TEST

START_TEST(bilinear_hand_computed_3_to_2)
{
    /* 3 -> 2: scale 1.5, src = (i + 0.5) * 1.5 - 0.5 = 0.25, 1.75.
     * Row [a b c]: out0 = a + (b - a) * 0.25, out1 = b + (c - b) * 0.75. */
    const float in[9] = {0.0f, 0.4f, 1.0f, 0.2f, 0.6f, 0.8f, 1.0f, 0.0f, 0.5f};
    float h[3][2];
    for (int r = 0; r < 3; ++r) {
        h[r][0] = in[r * 3] + (in[r * 3 + 1] - in[r * 3]) * 0.25f;
        h[r][1] = in[r * 3 + 1] + (in[r * 3 + 2] - in[r * 3 + 1]) * 0.75f;
    }
    float want[4];
    for (int x = 0; x < 2; ++x) {
        want[x] = h[0][x] + (h[1][x] - h[0][x]) * 0.25f;
        want[2 + x] = h[1][x] + (h[2][x] - h[1][x]) * 0.75f;
    }
    float out[4];
    ck_assert_int_eq(rp_resize(in, 3, 3, 1, out, 2, 2, RP_FILTER_BILINEAR), 0);
    assert_close(out, want, 4);
}
END_TEST

START_TEST(bilinear_channels_are_independent)
{
    float in[4 * 4 * 3], out[2 * 2 * 3], plane[16], pout[4];
    for (int i = 0; i < 48; ++i)
        in[i] = (float)((i * 5) % 11) / 11.0f;
    ck_assert_int_eq(rp_resize(in, 4, 4, 3, out, 2, 2, RP_FILTER_BILINEAR), 0);
    for (int c = 0; c < 3; ++c) {
        for (int i = 0; i < 16; ++i)
            plane[i] = in[i * 3 + c];
        ck_assert_int_eq(rp_resize(plane, 4, 4, 1, pout, 2, 2, RP_FILTER_BILINEAR), 0);
        for (int i = 0; i < 4; ++i)
            ck_assert(fabsf(out[i * 3 + c] - pout[i]) <= EPS);
    }
}
END_TEST

START_TEST(nearest_matches_tensorflow)
{
    /* tf nearest, half-pixel: src = min(floor((i + 0.5) * scale), n - 1);
     * 4 -> 2 picks 1 and 3; 2 -> 4 picks 0 0 1 1; 3 -> 2 picks 0 2. */
    float in[16], out[16];
    for (int i = 0; i < 16; ++i)
        in[i] = (float)i;
    ck_assert_int_eq(rp_resize(in, 4, 4, 1, out, 2, 2, RP_FILTER_NEAREST), 0);
    const float want[4] = {5, 7, 13, 15};
    assert_close(out, want, 4);
    const float small[4] = {0, 1, 2, 3};
    ck_assert_int_eq(rp_resize(small, 2, 2, 1, out, 4, 4, RP_FILTER_NEAREST), 0);
    const float up[16] = {0, 0, 1, 1, 0, 0, 1, 1, 2, 2, 3, 3, 2, 2, 3, 3};
    assert_close(out, up, 16);
    const float row[3] = {10, 20, 30};
    ck_assert_int_eq(rp_resize(row, 1, 3, 1, out, 1, 2, RP_FILTER_NEAREST), 0);
    ck_assert(out[0] == 10 && out[1] == 30);
}
END_TEST

START_TEST(area_fractional_coverage)
{
    /* 3 -> 2: boxes [0, 1.5) and [1.5, 3): (a + b/2) / 1.5 and (b/2 + c) / 1.5. */
    const float row[3] = {0.3f, 0.9f, 0.6f};
    float out[2];
    ck_assert_int_eq(rp_resize(row, 1, 3, 1, out, 1, 2, RP_FILTER_AREA), 0);
    const float want[2] = {(0.3f + 0.45f) / 1.5f, (0.45f + 0.6f) / 1.5f};
    assert_close(out, want, 2);
}
END_TEST

START_TEST(constant_images_stay_constant_105_to_28)
{
    static float in[105 * 105];
    float out[28 * 28];
    for (int i = 0; i < 105 * 105; ++i)
        in[i] = 0.75f;
    for (int f = 0; f < 3; ++f) {
        ck_assert_int_eq(rp_resize(in, 105, 105, 1, out, 28, 28, f), 0);
        for (int i = 0; i < 28 * 28; ++i)
            ck_assert_msg(fabsf(out[i] - 0.75f) <= 1e-6f, "filter %d [%d] = %g", f, i, (double)out[i]);
    }
    /* 105 -> 28 bilinear, scale 3.75: output 0 samples src 1.375 (rows/cols 1, 2, lerp .375). */
    for (int y = 0; y < 105; ++y)
        for (int x = 0; x < 105; ++x)
            in[y * 105 + x] = (float)x;
    ck_assert_int_eq(rp_resize(in, 105, 105, 1, out, 28, 28, RP_FILTER_BILINEAR), 0);
    ck_assert(fabsf(out[0] - 1.375f) <= EPS);
    ck_assert(fabsf(out[27] - (27.5f * 3.75f - 0.5f)) <= 1e-4f);
}
END_TEST

START_TEST(plan_reuse_and_errors)
{
    rp_resize_plan plan;
    rp_resize_plan_init(&plan);
    ck_assert_int_eq(rp_resize_plan_prepare(&plan, 0, 4, 2, 2, 1, 0), REPTILE_EINVAL);
    ck_assert_int_eq(rp_resize_plan_prepare(&plan, 4, 4, 2, 2, 1, 9), REPTILE_EINVAL);
    ck_assert_ptr_nonnull(strstr(reptile_error_last(), "filter"));
    ck_assert_int_eq(rp_resize_plan_prepare(&plan, 4, 4, 2, 2, 1, RP_FILTER_BILINEAR), 0);
    void *block = plan.block;
    ck_assert_int_eq(rp_resize_plan_prepare(&plan, 4, 4, 2, 2, 1, RP_FILTER_BILINEAR), 0);
    ck_assert_ptr_eq(plan.block, block); /* unchanged sizes: no rebuild */
    ck_assert_int_eq(rp_resize_plan_prepare(&plan, 8, 6, 3, 5, 3, RP_FILTER_AREA), 0);
    rp_resize_plan_free(&plan);
    rp_resize_plan_free(&plan);
}
END_TEST

/* The reference implementation reads Omniglot with PIL's
 * Image.open(path).resize((28, 28)): nearest-neighbour for 1-bit PNGs.
 * The fixture is PIL's output (tests/golden/make_pil_nearest_fixture.py);
 * a bilinear resize of the same strokes must differ (grey edges). */
START_TEST(nearest_matches_pil_on_a_1bit_png)
{
    FILE *f = fopen(RP_FIXTURE_DIR "/pil/strokes-28.txt", "r");
    ck_assert_ptr_nonnull(f);
    float want[28 * 28];
    int n = 0;
    for (int ch; (ch = fgetc(f)) != EOF;)
        if (ch == '0' || ch == '1')
            want[n++ < 28 * 28 ? n - 1 : 0] = (float)(ch - '0');
    fclose(f);
    ck_assert_int_eq(n, 28 * 28);
    reptile_image_options o = REPTILE_IMAGE_OPTIONS_INIT;
    o.filter = REPTILE_FILTER_NEAREST;
    float got[28 * 28];
    ck_assert_int_eq(reptile_image_load(RP_FIXTURE_DIR "/pil/strokes-105.png", &o, got), 0);
    for (int i = 0; i < 28 * 28; ++i)
        ck_assert_msg(got[i] == want[i], "pixel (%d, %d): got %g, PIL gives %g", i / 28, i % 28,
                      (double)got[i], (double)want[i]);
    o.filter = REPTILE_FILTER_BILINEAR;
    ck_assert_int_eq(reptile_image_load(RP_FIXTURE_DIR "/pil/strokes-105.png", &o, got), 0);
    int grey = 0;
    for (int i = 0; i < 28 * 28; ++i)
        grey += got[i] != 0.0f && got[i] != 1.0f;
    ck_assert_int_gt(grey, 0);
}
END_TEST

static Suite *resize_suite(void)
{
    Suite *s = suite_create("data-resize");
    TCase *tc = tcase_create("resize");
    tcase_add_test(tc, identity_when_sizes_equal);
    tcase_add_test(tc, bilinear_downscale_by_two_is_block_mean);
    tcase_add_test(tc, bilinear_upscale_matches_tensorflow);
    tcase_add_test(tc, bilinear_hand_computed_3_to_2);
    tcase_add_test(tc, bilinear_channels_are_independent);
    tcase_add_test(tc, nearest_matches_tensorflow);
    tcase_add_test(tc, nearest_matches_pil_on_a_1bit_png);
    tcase_add_test(tc, area_fractional_coverage);
    tcase_add_test(tc, constant_images_stay_constant_105_to_28);
    tcase_add_test(tc, plan_reuse_and_errors);
    suite_add_tcase(s, tc);
    return s;
}

RP_TEST_MAIN(resize_suite)
