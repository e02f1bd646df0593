/* PNG decoding: every colour type and bit depth, memory input and files
 * (through the format dispatch the loaders use), and the error paths (not
 * a PNG, truncated, too large, missing, not a file). */
#include "testutil.h"
#include "png_write.h"

#include "data/image_decode.h"
#include "reptile/error.h"

#include <math.h>

typedef struct format_case {
    int color_type, bd, interlace;
    const char *name;
} format_case;

static const format_case formats[] = {
    {PNG_COLOR_TYPE_GRAY, 1, 0, "gray1"},
    {PNG_COLOR_TYPE_GRAY, 2, 0, "gray2"},
    {PNG_COLOR_TYPE_GRAY, 4, 0, "gray4"},
    {PNG_COLOR_TYPE_GRAY, 8, 0, "gray8"},
    {PNG_COLOR_TYPE_GRAY, 16, 0, "gray16"},
    {PNG_COLOR_TYPE_GRAY, 1, 1, "gray1-interlaced"},
    {PNG_COLOR_TYPE_GRAY, 8, 1, "gray8-interlaced"},
    {PNG_COLOR_TYPE_GRAY_ALPHA, 8, 0, "gray-alpha8"},
    {PNG_COLOR_TYPE_GRAY_ALPHA, 16, 0, "gray-alpha16"},
    {PNG_COLOR_TYPE_RGB, 8, 0, "rgb8"},
    {PNG_COLOR_TYPE_RGB, 16, 0, "rgb16"},
    {PNG_COLOR_TYPE_RGB, 8, 1, "rgb8-interlaced"},
    {PNG_COLOR_TYPE_RGB_ALPHA, 8, 0, "rgba8"},
    {PNG_COLOR_TYPE_RGB_ALPHA, 16, 0, "rgba16"},
    {PNG_COLOR_TYPE_PALETTE, 1, 0, "palette1"},
    {PNG_COLOR_TYPE_PALETTE, 4, 0, "palette4"},
};
#define N_FORMATS ((int)(sizeof formats / sizeof formats[0]))

static char *tmpdir;

static void setup(void) { tmpdir = tw_mkdtemp(); }

static void teardown(void)
{
    tw_rmtree(tmpdir);
    free(tmpdir);
}

static void check_pattern(const format_case *fc, const rp_image *img, int w, int h, int oc)
{
    ck_assert_int_eq(img->width, w);
    ck_assert_int_eq(img->height, h);
    ck_assert_int_eq(img->channels, oc);
    for (int y = 0; y < h; ++y)
        for (int x = 0; x < w; ++x) {
            float e[3];
            tw_expected(fc->color_type, fc->bd, x, y, oc, e);
            for (int k = 0; k < oc; ++k) {
                float got = img->data[((size_t)y * w + x) * oc + k];
                ck_assert_msg(fabsf(got - e[k]) <= 1e-6f, "%s (%d,%d,%d): got %g expected %g", fc->name, x,
                              y, k, (double)got, (double)e[k]);
            }
        }
}

START_TEST(decode_every_format)
{
    const format_case *fc = &formats[_i];
    char path[4200];
    snprintf(path, sizeof path, "%s/%s.png", tmpdir, fc->name);
    const int w = 13, h = 7; /* odd sizes exercise partial bytes */
    ck_assert_int_eq(tw_write_png(path, w, h, fc->color_type, fc->bd, fc->interlace), 0);
    rp_image_decoder dec;
    rp_image_decoder_init(&dec);
    for (int oc = 1; oc <= 3; oc += 2) {
        rp_image img;
        int rc = rp_image_decode_file(&dec, path, oc, &img);
        ck_assert_msg(rc == 0, "%s: %s", fc->name, reptile_error_last());
        check_pattern(fc, &img, w, h, oc);
    }
    /* The same bytes from memory. */
    size_t n;
    unsigned char *bytes = tw_read_bytes(path, &n);
    rp_image img;
    ck_assert_int_eq(rp_png_decode_memory(&dec.png, bytes, n, "mem", 1, &img), 0);
    check_pattern(fc, &img, w, h, 1);
    free(bytes);
    rp_image_decoder_free(&dec);
}
END_TEST

START_TEST(omniglot_like_1bit_values_are_0_and_1)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/one.png", tmpdir);
    ck_assert_int_eq(tw_write_png(path, 105, 105, PNG_COLOR_TYPE_GRAY, 1, 0), 0);
    rp_image_decoder dec;
    rp_image_decoder_init(&dec);
    rp_image img;
    ck_assert_int_eq(rp_image_decode_file(&dec, path, 1, &img), 0);
    ck_assert_int_eq(img.width, 105);
    for (int i = 0; i < 105 * 105; ++i)
        ck_assert(img.data[i] == 0.0f || img.data[i] == 1.0f);
    /* Decoder reuse across sizes. */
    snprintf(path, sizeof path, "%s/big.png", tmpdir);
    ck_assert_int_eq(tw_write_png(path, 300, 200, PNG_COLOR_TYPE_RGB, 8, 0), 0);
    ck_assert_int_eq(rp_image_decode_file(&dec, path, 3, &img), 0);
    ck_assert_int_eq(img.width, 300);
    ck_assert_int_eq(img.height, 200);
    rp_image_decoder_free(&dec);
}
END_TEST

START_TEST(rejects_non_png)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/text.png", tmpdir);
    const char text[] = "this is not an image, just text pretending to be one";
    tw_write_bytes(path, text, sizeof text);
    rp_image_decoder dec;
    rp_image_decoder_init(&dec);
    rp_image img;
    ck_assert_int_eq(rp_image_decode_file(&dec, path, 1, &img), REPTILE_EFORMAT);
    ck_assert_ptr_nonnull(strstr(reptile_error_last(), path));
    ck_assert_ptr_nonnull(strstr(reptile_error_last(), "not a PNG"));
    ck_assert_int_eq(rp_png_decode_memory(&dec.png, "", 0, "empty", 1, &img), REPTILE_EFORMAT);
    ck_assert_ptr_nonnull(strstr(reptile_error_last(), "empty: not a PNG"));
    rp_image_decoder_free(&dec);
}
END_TEST

START_TEST(rejects_truncated)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/full.png", tmpdir);
    ck_assert_int_eq(tw_write_png(path, 64, 64, PNG_COLOR_TYPE_RGB, 8, 0), 0);
    size_t n;
    unsigned char *bytes = tw_read_bytes(path, &n);
    rp_image_decoder dec;
    rp_image_decoder_init(&dec);
    rp_image img;
    /* Every cut inside the header and image data must fail cleanly. */
    size_t cuts[] = {4, 8, 20, 33, 40, n / 2, n - 13};
    for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; ++i) {
        snprintf(path, sizeof path, "%s/cut%zu.png", tmpdir, i);
        tw_write_bytes(path, bytes, cuts[i]);
        int rc = rp_image_decode_file(&dec, path, 1, &img);
        ck_assert_msg(rc == REPTILE_EFORMAT, "cut at %zu: rc %d", cuts[i], rc);
        ck_assert_ptr_nonnull(strstr(reptile_error_last(), path));
        ck_assert_msg(strstr(reptile_error_last(), "truncated") != NULL, "cut at %zu: %s", cuts[i],
                      reptile_error_last());
    }
    /* A flipped byte in the image data: CRC or zlib error, never a crash. */
    bytes[n / 2] ^= 0x55;
    ck_assert_int_eq(rp_png_decode_memory(&dec.png, bytes, n, "flipped", 1, &img), REPTILE_EFORMAT);
    ck_assert_ptr_nonnull(strstr(reptile_error_last(), "flipped: "));
    free(bytes);
    rp_image_decoder_free(&dec);
}
END_TEST

START_TEST(rejects_too_large)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/wide.png", tmpdir);
    ck_assert_int_eq(tw_write_png(path, 20000, 1, PNG_COLOR_TYPE_GRAY, 1, 0), 0);
    rp_image_decoder dec;
    rp_image_decoder_init(&dec);
    rp_image img;
    ck_assert_int_eq(rp_image_decode_file(&dec, path, 1, &img), REPTILE_EFORMAT);
    ck_assert_ptr_nonnull(strstr(reptile_error_last(), path));
    ck_assert_msg(strstr(reptile_error_last(), "too large") || strstr(reptile_error_last(), "limit"), "%s",
                  reptile_error_last());
    /* The pixel-count limit. */
    snprintf(path, sizeof path, "%s/square.png", tmpdir);
    ck_assert_int_eq(tw_write_png(path, 100, 100, PNG_COLOR_TYPE_GRAY, 8, 0), 0);
    dec.max_pixels = 9999;
    ck_assert_int_eq(rp_image_decode_file(&dec, path, 1, &img), REPTILE_EFORMAT);
    ck_assert_ptr_nonnull(strstr(reptile_error_last(), "too large"));
    dec.max_pixels = 10000;
    ck_assert_int_eq(rp_image_decode_file(&dec, path, 1, &img), 0);
    rp_image_decoder_free(&dec);
}
END_TEST

START_TEST(file_errors_name_the_file)
{
    char path[4200];
    rp_image_decoder dec;
    rp_image_decoder_init(&dec);
    rp_image img;
    snprintf(path, sizeof path, "%s/missing.png", tmpdir);
    ck_assert_int_eq(rp_image_decode_file(&dec, path, 1, &img), REPTILE_ENOTFOUND);
    ck_assert_ptr_nonnull(strstr(reptile_error_last(), path));
    ck_assert_int_eq(reptile_error_last_code(), REPTILE_ENOTFOUND);
    ck_assert_int_eq(rp_image_decode_file(&dec, tmpdir, 1, &img), REPTILE_EIO);
    ck_assert_ptr_nonnull(strstr(reptile_error_last(), "not a regular file"));
    if (geteuid() != 0) { /* root reads anything */
        snprintf(path, sizeof path, "%s/locked.png", tmpdir);
        ck_assert_int_eq(tw_write_png(path, 4, 4, PNG_COLOR_TYPE_GRAY, 8, 0), 0);
        ck_assert_int_eq(chmod(path, 0), 0);
        ck_assert_int_eq(rp_image_decode_file(&dec, path, 1, &img), REPTILE_EIO);
        ck_assert_ptr_nonnull(strstr(reptile_error_last(), path));
    }
    ck_assert_int_eq(rp_png_decode_memory(&dec.png, "x", 1, "bad-channels", 2, &img), REPTILE_EINVAL);
    rp_image_decoder_free(&dec);
}
END_TEST

static Suite *png_suite(void)
{
    Suite *s = suite_create("data-png");
    TCase *tc = tcase_create("decode");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_loop_test(tc, decode_every_format, 0, N_FORMATS);
    tcase_add_test(tc, omniglot_like_1bit_values_are_0_and_1);
    tcase_add_test(tc, rejects_non_png);
    tcase_add_test(tc, rejects_truncated);
    tcase_add_test(tc, rejects_too_large);
    tcase_add_test(tc, file_errors_name_the_file);
    suite_add_tcase(s, tc);
    return s;
}

RP_TEST_MAIN(png_suite)
