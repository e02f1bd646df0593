/* JPEG decoding: flat colours and gradients (RGB, gray, progressive,
 * subsampled, CMYK and YCCK) against their generating values within JPEG
 * tolerance, the magic-byte dispatch, and every bad input: not a JPEG,
 * truncated anywhere, random bytes behind a JPEG magic, corrupt headers,
 * huge dimensions (refused before any allocation), unsupported colour
 * spaces. Images are made in the test with libjpeg's compressor. */
#include "testutil.h"
#include "jpeg_write.h"
#include "png_write.h"

#include "data/image_decode.h"
#include "data/jpeg_decode.h"
#include "reptile/error.h"

#include <math.h>

static char *tmpdir;

static void setup(void) { tmpdir = tw_mkdtemp(); }

static void teardown(void)
{
    tw_rmtree(tmpdir);
    free(tmpdir);
}

/* Expected RGB (0..1) of a generator at (x, y); gray generators replicate. */
static void expected_rgb(tj_get_fn get, const void *user, int comps, int x, int y, float rgb[3])
{
    for (int k = 0; k < 3; ++k)
        rgb[k] = (float)get(x, y, comps == 1 ? 0 : k, user) / 255.0f;
}

typedef struct err_stats {
    float max, mean;
} err_stats;

/* Compare a decoded image with its generator in the requested channels. */
static err_stats compare(const rp_image *img, tj_get_fn get, const void *user, int comps)
{
    err_stats s = {0.0f, 0.0f};
    double sum = 0.0;
    const int oc = img->channels;
    for (int y = 0; y < img->height; ++y)
        for (int x = 0; x < img->width; ++x) {
            float rgb[3], want[3];
            expected_rgb(get, user, comps, x, y, rgb);
            if (oc == 3) {
                memcpy(want, rgb, sizeof want);
            } else {
                want[0] = comps == 1 ? rgb[0] : 0.2989f * rgb[0] + 0.5870f * rgb[1] + 0.1140f * rgb[2];
            }
            for (int k = 0; k < oc; ++k) {
                float d = fabsf(img->data[((size_t)y * img->width + x) * oc + k] - want[k]);
                s.max = d > s.max ? d : s.max;
                sum += d;
            }
        }
    s.mean = (float)(sum / ((double)img->width * img->height * oc));
    return s;
}

static void decode_bytes(const unsigned char *buf, size_t n, int channels, rp_jpeg_decoder *dec,
                         rp_image *img)
{
    int rc = rp_jpeg_decode_memory(dec, buf, n, "mem.jpg", channels, img);
    ck_assert_msg(rc == 0, "%s", reptile_error_last());
}

START_TEST(flat_colour_rgb_and_gray)
{
    const int colour[4] = {200, 100, 50, 0};
    const int w = 24, h = 16;
    for (int sub = 0; sub <= 1; ++sub) {
        tj_options o = {.components = 3, .quality = 90, .subsample = sub};
        unsigned char *buf;
        size_t n;
        tj_encode(&buf, &n, w, h, &o, tj_flat, colour);
        rp_jpeg_decoder dec;
        rp_jpeg_decoder_init(&dec);
        rp_image img;
        decode_bytes(buf, n, 3, &dec, &img);
        ck_assert(img.width == w && img.height == h && img.channels == 3);
        err_stats s = compare(&img, tj_flat, colour, 3);
        /* A flat block has only a DC term: off by colour-conversion rounding only. */
        ck_assert_msg(s.max <= 2.5f / 255.0f, "4:%s flat RGB max error %g", sub ? "2:0" : "4:4",
                      (double)s.max * 255);
        decode_bytes(buf, n, 1, &dec, &img);
        ck_assert_int_eq(img.channels, 1);
        s = compare(&img, tj_flat, colour, 3);
        ck_assert_msg(s.max <= 2.5f / 255.0f, "flat gray max error %g", (double)s.max * 255);
        /* 0.2989 * 200 + 0.5870 * 100 + 0.1140 * 50 = 124.18 */
        ck_assert(fabsf(img.data[0] * 255.0f - 124.18f) <= 2.5f);
        rp_jpeg_decoder_free(&dec);
        free(buf);
    }
}
END_TEST

START_TEST(gradient_rgb_baseline_and_progressive)
{
    const int wh[2] = {61, 47}; /* not multiples of the 8x8 blocks */
    unsigned char *base, *prog;
    size_t nb, np;
    tj_options o = {.components = 3, .quality = 95};
    tj_encode(&base, &nb, wh[0], wh[1], &o, tj_gradient, wh);
    o.progressive = 1;
    tj_encode(&prog, &np, wh[0], wh[1], &o, tj_gradient, wh);
    size_t sof = tj_find_sof(prog, np);
    ck_assert_uint_gt(sof, 0);
    ck_assert_uint_eq(prog[sof + 1], 0xC2); /* really progressive */
    ck_assert_uint_eq(base[tj_find_sof(base, nb) + 1], 0xC0);

    rp_jpeg_decoder dec;
    rp_jpeg_decoder_init(&dec);
    for (int oc = 1; oc <= 3; oc += 2) {
        rp_image img;
        decode_bytes(base, nb, oc, &dec, &img);
        ck_assert(img.width == wh[0] && img.height == wh[1]);
        err_stats s = compare(&img, tj_gradient, wh, 3);
        ck_assert_msg(s.max <= 8.0f / 255.0f && s.mean <= 1.5f / 255.0f, "baseline %d: max %g mean %g",
                      oc, (double)s.max * 255, (double)s.mean * 255);
        size_t count = (size_t)img.width * img.height * oc;
        float *first = malloc(count * sizeof *first);
        memcpy(first, img.data, count * sizeof *first);
        /* The same quantised coefficients, sent in several scans: the same pixels. */
        decode_bytes(prog, np, oc, &dec, &img);
        ck_assert(img.width == wh[0] && img.height == wh[1] && img.channels == oc);
        ck_assert_msg(memcmp(first, img.data, count * sizeof *first) == 0,
                      "progressive decode differs from baseline");
        free(first);
    }
    /* 4:2:0 chroma (what cameras write): still close, colour a little softer. */
    free(base);
    o.progressive = 0;
    o.subsample = 1;
    tj_encode(&base, &nb, wh[0], wh[1], &o, tj_gradient, wh);
    rp_image img;
    decode_bytes(base, nb, 3, &dec, &img);
    err_stats s = compare(&img, tj_gradient, wh, 3);
    ck_assert_msg(s.max <= 12.0f / 255.0f && s.mean <= 2.5f / 255.0f, "4:2:0: max %g mean %g",
                  (double)s.max * 255, (double)s.mean * 255);
    rp_jpeg_decoder_free(&dec);
    free(base);
    free(prog);
}
END_TEST

START_TEST(grayscale_jpeg)
{
    const int wh[2] = {33, 20};
    tj_options o = {.components = 1, .quality = 95};
    for (int progressive = 0; progressive <= 1; ++progressive) {
        o.progressive = progressive;
        unsigned char *buf;
        size_t n;
        tj_encode(&buf, &n, wh[0], wh[1], &o, tj_gradient, wh);
        rp_jpeg_decoder dec;
        rp_jpeg_decoder_init(&dec);
        rp_image img;
        decode_bytes(buf, n, 1, &dec, &img);
        err_stats s = compare(&img, tj_gradient, wh, 1);
        ck_assert_msg(s.max <= 6.0f / 255.0f && s.mean <= 1.5f / 255.0f, "gray: max %g mean %g",
                      (double)s.max * 255, (double)s.mean * 255);
        float *gray = malloc((size_t)wh[0] * wh[1] * sizeof *gray);
        memcpy(gray, img.data, (size_t)wh[0] * wh[1] * sizeof *gray);
        /* 3 channels: the gray value three times, exactly. */
        decode_bytes(buf, n, 3, &dec, &img);
        ck_assert_int_eq(img.channels, 3);
        for (int i = 0; i < wh[0] * wh[1]; ++i)
            for (int k = 0; k < 3; ++k)
                ck_assert(img.data[3 * i + k] == gray[i]);
        free(gray);
        rp_jpeg_decoder_free(&dec);
        free(buf);
    }
}
END_TEST

/* CMYK and YCCK are converted as tf.io.decode_jpeg: with the Adobe marker
 * (samples stored inverted) R = K C / 255; without, R = (255-K)(255-C)/255. */
START_TEST(cmyk_and_ycck_convert_like_tensorflow)
{
    const int cmyk[4] = {200, 100, 50, 128};
    tj_options variants[3] = {{.components = 4, .quality = 100},
                              {.components = 4, .quality = 100, .ycck = 1},
                              {.components = 4, .quality = 100, .no_adobe = 1}};
    const float want_adobe[3] = {128 * 200 / 255, 128 * 100 / 255, 128 * 50 / 255}; /* 100, 50, 25 */
    const float want_plain[3] = {127 * 55 / 255, 127 * 155 / 255, 127 * 205 / 255}; /* 27, 77, 102 */
    for (int v = 0; v < 3; ++v) {
        unsigned char *buf;
        size_t n;
        tj_encode(&buf, &n, 16, 16, &variants[v], tj_flat, cmyk);
        rp_jpeg_decoder dec;
        rp_jpeg_decoder_init(&dec);
        rp_image img;
        decode_bytes(buf, n, 3, &dec, &img);
        const float *want = v == 2 ? want_plain : want_adobe;
        for (int i = 0; i < 16 * 16; ++i)
            for (int k = 0; k < 3; ++k)
                ck_assert_msg(fabsf(img.data[3 * i + k] * 255.0f - want[k]) <= 2.0f, "variant %d: %g vs %g", v,
                              (double)img.data[3 * i + k] * 255, (double)want[k]);
        decode_bytes(buf, n, 1, &dec, &img);
        float g = 0.2989f * want[0] + 0.5870f * want[1] + 0.1140f * want[2];
        ck_assert_msg(fabsf(img.data[0] * 255.0f - g) <= 2.0f, "variant %d gray %g vs %g", v,
                      (double)img.data[0] * 255, (double)g);
        rp_jpeg_decoder_free(&dec);
        free(buf);
    }
}
END_TEST

/* The format comes from the bytes: a PNG named .jpg and a JPEG named .png
 * both decode; anything else is "not a PNG or JPEG file". */
START_TEST(dispatch_by_magic_bytes)
{
    char png_as_jpg[4200], jpg_as_png[4200], text[4200];
    snprintf(png_as_jpg, sizeof png_as_jpg, "%s/really-a-png.jpg", tmpdir);
    snprintf(jpg_as_png, sizeof jpg_as_png, "%s/really-a-jpeg.png", tmpdir);
    snprintf(text, sizeof text, "%s/notes.jpeg", tmpdir);
    ck_assert_int_eq(tw_write_png(png_as_jpg, 13, 7, PNG_COLOR_TYPE_RGB, 8, 0), 0);
    const int colour[4] = {10, 20, 30, 0};
    ck_assert_int_eq(tj_write_jpeg(jpg_as_png, 40, 30, NULL, tj_flat, colour), 0);
    tw_write_bytes(text, "GIF89a\1\0\1\0", 10);

    rp_image_decoder dec;
    rp_image_decoder_init(&dec);
    rp_image img;
    ck_assert_int_eq(rp_image_decode_file(&dec, png_as_jpg, 3, &img), 0);
    ck_assert(img.width == 13 && img.height == 7);
    float e[3];
    tw_expected(PNG_COLOR_TYPE_RGB, 8, 5, 3, 3, e);
    ck_assert(fabsf(img.data[(3 * 13 + 5) * 3 + 1] - e[1]) <= 1e-6f); /* exact: a PNG */
    ck_assert_int_eq(rp_image_decode_file(&dec, jpg_as_png, 1, &img), 0);
    ck_assert(img.width == 40 && img.height == 30 && img.channels == 1);
    ck_assert_int_eq(rp_image_decode_file(&dec, text, 1, &img), REPTILE_EFORMAT);
    ck_assert_ptr_nonnull(strstr(reptile_error_last(), text));
    ck_assert_ptr_nonnull(strstr(reptile_error_last(), "not a PNG or JPEG file"));
    ck_assert_int_eq(rp_image_decode_memory(&dec, "", 0, "empty", 1, &img), REPTILE_EFORMAT);
    ck_assert_ptr_nonnull(strstr(reptile_error_last(), "empty: not a PNG or JPEG file"));
    ck_assert_int_eq(rp_image_decode_memory(&dec, "x", 1, "bad-channels", 2, &img), REPTILE_EINVAL);
    ck_assert_int_eq(rp_image_format("\x89PNG\r\n\x1a\n", 8), RP_IMAGE_PNG);
    ck_assert_int_eq(rp_image_format("\xff\xd8", 2), RP_IMAGE_JPEG); /* truncated JPEG */
    ck_assert_int_eq(rp_image_format("\xff\xd9\xff", 3), RP_IMAGE_UNKNOWN);
    /* Missing file: ENOTFOUND naming it, as for PNGs. */
    snprintf(text, sizeof text, "%s/missing.jpg", tmpdir);
    ck_assert_int_eq(rp_image_decode_file(&dec, text, 1, &img), REPTILE_ENOTFOUND);
    ck_assert_ptr_nonnull(strstr(reptile_error_last(), text));
    /* The JPEG decoder alone says "not a JPEG file". */
    ck_assert_int_eq(rp_jpeg_decode_memory(&dec.jpeg, "\x89PNG", 4, "direct", 1, &img), REPTILE_EFORMAT);
    ck_assert_ptr_nonnull(strstr(reptile_error_last(), "direct: not a JPEG file"));
    rp_image_decoder_free(&dec);
}
END_TEST

/* A file cut anywhere (in the markers, in the entropy-coded data, between
 * progressive scans, before the end marker) fails as "truncated", never
 * decodes to filler grey. */
START_TEST(rejects_truncated_anywhere)
{
    const int wh[2] = {160, 120};
    for (int progressive = 0; progressive <= 1; ++progressive) {
        tj_options o = {.components = 3, .quality = 90, .progressive = progressive, .subsample = 1};
        unsigned char *buf;
        size_t n;
        tj_encode(&buf, &n, wh[0], wh[1], &o, tj_gradient, wh);
        size_t sof = tj_find_sof(buf, n);
        size_t sos = tj_find_marker(buf, n, 0xDA, 0); /* the first scan's header */
        size_t sos2 = tj_find_marker(buf, n, 0xDA, 1); /* progressive: the second scan's */
        ck_assert(sof > 0 && sos > sof && (progressive ? sos2 > sos : sos2 == 0));
        ck_assert_uint_gt(n - sos, 1000); /* most of the file is entropy-coded data */
        const size_t cuts[] = {1, 2, 3, 4, 20, sof + 5, sof + 12, sos + 5, sos + 40, progressive ? sos2 : sos + 400,
                               (sos + n) / 2, n - 100, n - 2, n - 1};
        rp_image_decoder dec;
        rp_image_decoder_init(&dec);
        for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; ++i) {
            char path[4200];
            snprintf(path, sizeof path, "%s/cut-%d-%zu.jpg", tmpdir, progressive, cuts[i]);
            tw_write_bytes(path, buf, cuts[i]);
            rp_image img;
            int rc = rp_image_decode_file(&dec, path, 3, &img);
            ck_assert_msg(rc == REPTILE_EFORMAT, "%s cut at %zu of %zu: rc %d",
                          progressive ? "progressive" : "baseline", cuts[i], n, rc);
            ck_assert_ptr_nonnull(strstr(reptile_error_last(), path));
            ck_assert_msg(strstr(reptile_error_last(), "truncated JPEG") != NULL, "cut at %zu: %s", cuts[i],
                          reptile_error_last());
        }
        /* The whole file still decodes with the same decoder. */
        rp_image img;
        ck_assert_int_eq(rp_image_decode_memory(&dec, buf, n, "whole", 3, &img), 0);
        rp_image_decoder_free(&dec);
        free(buf);
    }
}
END_TEST

static uint32_t xorshift(uint32_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 17;
    *s ^= *s << 5;
    return *s;
}

/* Random bytes behind FF D8 FF, and damaged headers of a valid file. */
START_TEST(rejects_corrupt)
{
    rp_image_decoder dec;
    rp_image_decoder_init(&dec);
    rp_image img;
    char path[4200];
    for (uint32_t seed = 1; seed <= 20; ++seed) {
        unsigned char junk[3000];
        uint32_t s = seed * 2654435761u;
        for (size_t i = 0; i < sizeof junk; ++i)
            junk[i] = (unsigned char)xorshift(&s);
        junk[0] = 0xFF;
        junk[1] = 0xD8;
        junk[2] = 0xFF;
        snprintf(path, sizeof path, "%s/random-%u.jpg", tmpdir, seed);
        tw_write_bytes(path, junk, sizeof junk);
        int rc = rp_image_decode_file(&dec, path, 3, &img);
        ck_assert_msg(rc == REPTILE_EFORMAT, "seed %u: rc %d", seed, rc);
        ck_assert_ptr_nonnull(strstr(reptile_error_last(), path));
        ck_assert_msg(strstr(reptile_error_last(), "JPEG") != NULL, "%s", reptile_error_last());
    }

    const int colour[4] = {1, 2, 3, 0};
    unsigned char *buf;
    size_t n;
    tj_encode(&buf, &n, 32, 32, NULL, tj_flat, colour);
    size_t sof = tj_find_sof(buf, n);
    ck_assert_uint_gt(sof, 0);
    unsigned char *bad = malloc(n);
    /* 12-bit samples (libjpeg-turbo here decodes 8-bit only), zero height,
     * zero width, no components. (A marker that is no marker is skipped
     * as stray bytes: accepts_stray_bytes_between_segments.) */
    const struct {
        size_t at[2];
        const char *what;
    } damage[] = {
        {{sof + 4, sof + 4}, "precision"}, {{sof + 5, sof + 6}, "height"}, {{sof + 7, sof + 8}, "width"},
        {{sof + 9, sof + 9}, "components"},
    };
    for (size_t d = 0; d < sizeof damage / sizeof damage[0]; ++d) {
        memcpy(bad, buf, n);
        bad[damage[d].at[0]] = 0;
        bad[damage[d].at[1]] = 0;
        if (d == 0)
            bad[sof + 4] = 12;
        snprintf(path, sizeof path, "%s/bad-%s.jpg", tmpdir, damage[d].what);
        tw_write_bytes(path, bad, n);
        int rc = rp_image_decode_file(&dec, path, 1, &img);
        ck_assert_msg(rc == REPTILE_EFORMAT, "%s: rc %d", damage[d].what, rc);
        ck_assert_ptr_nonnull(strstr(reptile_error_last(), path));
        ck_assert_msg(strstr(reptile_error_last(), "corrupt or unsupported JPEG"), "%s: %s", damage[d].what,
                      reptile_error_last());
    }
    free(bad);
    free(buf);
    rp_image_decoder_free(&dec);
}
END_TEST

/* Stray bytes between two segments (here before the frame header) are
 * skipped as libjpeg, TensorFlow and PIL skip them: the same pixels. */
START_TEST(accepts_stray_bytes_between_segments)
{
    rp_image_decoder dec;
    rp_image_decoder_init(&dec);
    const int wh[2] = {40, 24};
    unsigned char *buf;
    size_t n;
    tj_encode(&buf, &n, wh[0], wh[1], NULL, tj_gradient, wh);
    const size_t sof = tj_find_sof(buf, n); /* the 0xFF of the SOF marker */
    ck_assert_uint_gt(sof, 0);
    static const unsigned char stray[3] = {0x12, 0x34, 0x56};
    unsigned char *odd = malloc(n + sizeof stray);
    memcpy(odd, buf, sof);
    memcpy(odd + sof, stray, sizeof stray);
    memcpy(odd + sof + sizeof stray, buf + sof, n - sof);
    rp_image img;
    ck_assert_int_eq(rp_image_decode_memory(&dec, buf, n, "clean", 3, &img), 0);
    const size_t floats = (size_t)wh[0] * wh[1] * 3;
    float *clean = malloc(floats * sizeof *clean);
    memcpy(clean, img.data, floats * sizeof *clean);
    ck_assert_msg(rp_image_decode_memory(&dec, odd, n + sizeof stray, "stray", 3, &img) == 0, "%s",
                  reptile_error_last());
    ck_assert_int_eq(memcmp(clean, img.data, floats * sizeof *clean), 0);
    /* The APP0 marker after SOI damaged into no marker: skipped to the next one. */
    memcpy(odd, buf, n);
    odd[3] = 0x01;
    ck_assert_msg(rp_image_decode_memory(&dec, odd, n, "no marker", 3, &img) == 0, "%s",
                  reptile_error_last());
    ck_assert_int_eq(memcmp(clean, img.data, floats * sizeof *clean), 0);
    free(clean);
    free(odd);
    free(buf);
    rp_image_decoder_free(&dec);
}
END_TEST

/* 65500 x 65500 in the frame header of an 8x8 file: refused from the
 * header, before the decoder allocates a byte for pixels. */
START_TEST(rejects_huge_dimensions_before_allocating)
{
    const int colour[4] = {9, 9, 9, 0};
    unsigned char *buf;
    size_t n;
    tj_encode(&buf, &n, 8, 8, NULL, tj_flat, colour);
    size_t sof = tj_find_sof(buf, n);
    const unsigned dims[][2] = {{65500, 65500}, {16385, 1}, {1, 16385}, {16384, 4097}};
    for (size_t i = 0; i < sizeof dims / sizeof dims[0]; ++i) {
        buf[sof + 5] = (unsigned char)(dims[i][1] >> 8);
        buf[sof + 6] = (unsigned char)dims[i][1];
        buf[sof + 7] = (unsigned char)(dims[i][0] >> 8);
        buf[sof + 8] = (unsigned char)dims[i][0];
        char path[4200];
        snprintf(path, sizeof path, "%s/huge-%zu.jpg", tmpdir, i);
        tw_write_bytes(path, buf, n);
        rp_image_decoder dec;
        rp_image_decoder_init(&dec);
        rp_image img;
        ck_assert_int_eq(rp_image_decode_file(&dec, path, 3, &img), REPTILE_EFORMAT);
        ck_assert_ptr_nonnull(strstr(reptile_error_last(), path));
        ck_assert_msg(strstr(reptile_error_last(), "too large"), "%s", reptile_error_last());
        ck_assert_uint_eq(dec.jpeg.pixels_cap, 0);
        ck_assert_uint_eq(dec.jpeg.row_cap, 0);
        rp_image_decoder_free(&dec);
    }
    free(buf);
    /* The pixel-count limit, as the PNG decoder's. */
    tj_encode(&buf, &n, 100, 100, NULL, tj_flat, colour);
    rp_jpeg_decoder dec;
    rp_jpeg_decoder_init(&dec);
    rp_image img;
    dec.max_pixels = 9999;
    ck_assert_int_eq(rp_jpeg_decode_memory(&dec, buf, n, "limit", 1, &img), REPTILE_EFORMAT);
    ck_assert_ptr_nonnull(strstr(reptile_error_last(), "limit: image too large"));
    dec.max_pixels = 10000;
    ck_assert_int_eq(rp_jpeg_decode_memory(&dec, buf, n, "limit", 1, &img), 0);
    rp_jpeg_decoder_free(&dec);
    free(buf);
}
END_TEST

/* Two components: neither gray, colour nor CMYK. */
START_TEST(rejects_unknown_colour_space)
{
    const int wh[2] = {16, 16};
    tj_options o = {.components = 2};
    unsigned char *buf;
    size_t n;
    tj_encode(&buf, &n, 16, 16, &o, tj_gradient, wh);
    rp_jpeg_decoder dec;
    rp_jpeg_decoder_init(&dec);
    rp_image img;
    ck_assert_int_eq(rp_jpeg_decode_memory(&dec, buf, n, "two.jpg", 3, &img), REPTILE_EFORMAT);
    ck_assert_msg(strstr(reptile_error_last(), "two.jpg: unsupported JPEG colour space (unknown, 2 components)"),
                  "%s", reptile_error_last());
    rp_jpeg_decoder_free(&dec);
    free(buf);
}
END_TEST

/* One decoder, many sizes and both formats: buffers are reused and grow. */
START_TEST(decoder_reuse)
{
    rp_image_decoder dec;
    rp_image_decoder_init(&dec);
    const int sizes[][2] = {{300, 200}, {8, 8}, {17, 301}, {300, 200}};
    for (size_t i = 0; i < 4; ++i) {
        const int wh[2] = {sizes[i][0], sizes[i][1]};
        unsigned char *buf;
        size_t n;
        tj_encode(&buf, &n, wh[0], wh[1], NULL, tj_gradient, wh);
        rp_image img;
        ck_assert_int_eq(rp_image_decode_memory(&dec, buf, n, "reuse", 3, &img), 0);
        ck_assert(img.width == wh[0] && img.height == wh[1]);
        err_stats s = compare(&img, tj_gradient, wh, 3);
        ck_assert_msg(s.mean <= 1.5f / 255.0f, "%dx%d mean %g", wh[0], wh[1], (double)s.mean * 255);
        free(buf);
    }
    size_t cap = dec.jpeg.pixels_cap;
    const int wh[2] = {300, 200};
    unsigned char *buf;
    size_t n;
    tj_encode(&buf, &n, wh[0], wh[1], NULL, tj_gradient, wh);
    rp_image img;
    ck_assert_int_eq(rp_image_decode_memory(&dec, buf, n, "again", 3, &img), 0);
    ck_assert_uint_eq(dec.jpeg.pixels_cap, cap); /* no regrowth for a size seen before */
    free(buf);
    rp_image_decoder_free(&dec);
}
END_TEST

/* Under valgrind, libjpeg-turbo's SIMD code makes output pixels of
 * progressive 4:2:0 files look as if they depended on never-written bytes
 * of its buffers. They do not: with the heap filled with other garbage
 * before each fresh decoder, every file decodes to the same pixels. (CI
 * runs valgrind with JSIMD_FORCENONE=1; docs/data.md.) */
START_TEST(decode_does_not_depend_on_heap_garbage)
{
    for (int k = 0; k < 24; ++k) {
        const int wh[2] = {17 + 13 * (k % 5), 9 + 7 * (k % 4)};
        tj_options o = {.components = 3, .quality = 90, .progressive = k % 2, .subsample = 1};
        unsigned char *buf;
        size_t n;
        tj_encode(&buf, &n, wh[0], wh[1], &o, tj_gradient, wh);
        float *first = NULL;
        const size_t count = (size_t)wh[0] * wh[1] * 3;
        for (int garbage = 0; garbage < 3; ++garbage) {
            for (int b = 0; b < 16; ++b) { /* freed blocks libjpeg's next mallocs reuse */
                size_t sz = 512 + (size_t)b * 4096;
                unsigned char *g = malloc(sz);
                ck_assert_ptr_nonnull(g);
                memset(g, garbage * 0x55 + b, sz);
                free(g);
            }
            rp_jpeg_decoder dec;
            rp_jpeg_decoder_init(&dec);
            rp_image img;
            decode_bytes(buf, n, 3, &dec, &img);
            if (!first) {
                first = malloc(count * sizeof *first);
                memcpy(first, img.data, count * sizeof *first);
            } else {
                ck_assert_msg(memcmp(first, img.data, count * sizeof *first) == 0, "image %d differs", k);
            }
            rp_jpeg_decoder_free(&dec);
        }
        free(first);
        free(buf);
    }
}
END_TEST

static Suite *jpeg_suite(void)
{
    Suite *s = suite_create("data-jpeg");
    TCase *tc = tcase_create("decode");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, flat_colour_rgb_and_gray);
    tcase_add_test(tc, gradient_rgb_baseline_and_progressive);
    tcase_add_test(tc, grayscale_jpeg);
    tcase_add_test(tc, cmyk_and_ycck_convert_like_tensorflow);
    tcase_add_test(tc, dispatch_by_magic_bytes);
    tcase_add_test(tc, rejects_truncated_anywhere);
    tcase_add_test(tc, rejects_corrupt);
    tcase_add_test(tc, rejects_huge_dimensions_before_allocating);
    tcase_add_test(tc, rejects_unknown_colour_space);
    tcase_add_test(tc, decoder_reuse);
    tcase_add_test(tc, accepts_stray_bytes_between_segments);
    tcase_add_test(tc, decode_does_not_depend_on_heap_garbage);
    suite_add_tcase(s, tc);
    return s;
}

RP_TEST_MAIN(jpeg_suite)
