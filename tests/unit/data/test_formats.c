/* Folder data sets of photographs: PNG and JPEG mixed in one class folder
 * (told apart by their bytes, names in any case), reptile_image_load() on
 * JPEGs, loading threads giving the single-threaded bytes, bad JPEGs
 * inside a data set reported with their path, and the centre crop
 * (image options version 2) against hand-computed regions. */
#include "testutil.h"
#include "jpeg_write.h"
#include "png_write.h"

#include "data/dataset_internal.h"
#include "data/image_decode.h"
#include "data/resize.h"
#include "reptile/dataset.h"
#include "reptile/error.h"

#include <math.h>

static char *tmpdir;

static void setup(void) { tmpdir = tw_mkdtemp(); }

static void teardown(void)
{
    tw_rmtree(tmpdir);
    free(tmpdir);
}

static const char *in_tmp(const char *rel)
{
    static char p[4200];
    snprintf(p, sizeof p, "%s/%s", tmpdir, rel);
    return p;
}

/* A photo-like pattern that differs per image: user = int[3] {w, h, seed}. */
static int photo(int x, int y, int k, const void *user)
{
    const int *u = user;
    int v = (x * (3 + k) * 255) / u[0] + (y * (5 + u[2]) * 255) / (2 * u[1]) + 37 * k + 11 * u[2];
    v += ((x / 7 + y / 5 + u[2]) % 3) * 20; /* some texture */
    return v % 256;
}

static unsigned photo_png(int x, int y, int k, int bd, const void *user)
{
    (void)bd;
    return (unsigned)photo(x, y, k, user);
}

static void write_jpeg(const char *rel, int w, int h, int seed, int comps, int progressive)
{
    int u[3] = {w, h, seed};
    tj_options o = {.components = comps, .quality = 90, .progressive = progressive, .subsample = 1};
    ck_assert_int_eq(tj_write_jpeg(in_tmp(rel), w, h, &o, photo, u), 0);
}

static void write_png(const char *rel, int w, int h, int seed, int color_type)
{
    int u[3] = {w, h, seed};
    ck_assert_int_eq(tw_write_png_fn(in_tmp(rel), w, h, color_type, 8, 0, photo_png, u), 0);
}

/* The pipeline by hand: decode (either format), resize, quantise to 8 bits. */
static void reference_image(const char *path, const reptile_image_options *o, float *out)
{
    rp_image_decoder dec;
    rp_image_decoder_init(&dec);
    rp_image img;
    ck_assert_msg(rp_image_decode_file(&dec, path, o->channels, &img) == 0, "%s", reptile_error_last());
    const int n = o->height * o->width * o->channels;
    float *tmp = malloc(sizeof(float) * (size_t)n);
    ck_assert_int_eq(rp_resize(img.data, img.height, img.width, o->channels, tmp, o->height, o->width, o->filter), 0);
    for (int i = 0; i < n; ++i)
        out[i] = (float)lrintf(tmp[i] * 255.0f) / 255.0f;
    free(tmp);
    rp_image_decoder_free(&dec);
}

/* cats/ and dogs/ with PNG and JPEG, odd names, and files to skip. */
static void make_mixed_tree(void)
{
    tw_mkdir(in_tmp("cats"));
    tw_mkdir(in_tmp("dogs"));
    write_png("cats/a.png", 40, 30, 1, PNG_COLOR_TYPE_RGB);
    write_jpeg("cats/b.JPG", 50, 37, 2, 3, 0);
    write_jpeg("cats/c.jpeg", 33, 33, 3, 1, 0);      /* grayscale JPEG */
    write_jpeg("cats/d.Jpeg", 64, 48, 4, 3, 1);      /* progressive */
    write_jpeg("cats/e-really-a-jpeg.png", 20, 24, 5, 3, 0);
    write_png("dogs/1-really-a-png.jpg", 28, 28, 6, PNG_COLOR_TYPE_GRAY);
    write_jpeg("dogs/2.jpg", 500, 375, 7, 3, 0);     /* Mini-ImageNet's source size */
    tw_write_bytes(in_tmp("cats/notes.txt"), "x", 1);
    tw_write_bytes(in_tmp("cats/picture.gif"), "GIF89a", 6);
    tw_write_bytes(in_tmp("cats/.hidden.jpg"), "x", 1);
    tw_write_bytes(in_tmp("cats/jpg"), "x", 1);       /* no extension */
}

static const char *const mixed_files[2][5] = {
    {"cats/a.png", "cats/b.JPG", "cats/c.jpeg", "cats/d.Jpeg", "cats/e-really-a-jpeg.png"},
    {"dogs/1-really-a-png.jpg", "dogs/2.jpg", NULL, NULL, NULL},
};

START_TEST(mixed_png_and_jpeg_class_folder)
{
    make_mixed_tree();
    for (int channels = 1; channels <= 3; channels += 2) {
        reptile_image_options o = REPTILE_IMAGE_OPTIONS_INIT;
        o.channels = channels;
        o.height = 21;
        o.width = 26;
        reptile_dataset *ds = NULL;
        ck_assert_msg(reptile_dataset_open_folder(&ds, tmpdir, &o) == 0, "%s", reptile_error_last());
        ck_assert_int_eq(reptile_dataset_num_classes(ds), 2);
        ck_assert_int_eq(reptile_dataset_class_size(ds, 0), 5);
        ck_assert_int_eq(reptile_dataset_class_size(ds, 1), 2);
        const int n = o.height * o.width * o.channels;
        float *got = malloc(sizeof(float) * (size_t)n), *want = malloc(sizeof(float) * (size_t)n);
        float *loaded = malloc(sizeof(float) * (size_t)n);
        for (int cls = 0; cls < 2; ++cls)
            for (int i = 0; i < reptile_dataset_class_size(ds, cls); ++i) {
                const char *path = in_tmp(mixed_files[cls][i]);
                ck_assert_int_eq(reptile_dataset_get_image(ds, cls, i, got), 0);
                reference_image(path, &o, want);
                for (int j = 0; j < n; ++j) /* u / 255 vs u * (1 / 255): rounding only */
                    ck_assert_msg(fabsf(got[j] - want[j]) <= 1e-6f, "%s [%d]: %g vs %g", mixed_files[cls][i], j,
                                  (double)got[j], (double)want[j]);
                /* reptile_image_load: the data sets' own path, bit for bit. */
                ck_assert_msg(reptile_image_load(path, &o, loaded) == 0, "%s", reptile_error_last());
                ck_assert(memcmp(got, loaded, sizeof(float) * (size_t)n) == 0);
            }
        free(got);
        free(want);
        free(loaded);
        reptile_dataset_free(ds);
    }
}
END_TEST

START_TEST(threads_give_the_single_threaded_bytes)
{
    /* 3 classes x 13 images, formats and sizes interleaved. */
    for (int c = 0; c < 3; ++c) {
        char rel[64];
        snprintf(rel, sizeof rel, "class%d", c);
        tw_mkdir(in_tmp(rel));
        for (int i = 0; i < 13; ++i) {
            int seed = c * 13 + i, w = 30 + 7 * (seed % 5), h = 25 + 3 * (seed % 7);
            if (seed % 3 == 0) {
                snprintf(rel, sizeof rel, "class%d/%02d.png", c, i);
                write_png(rel, w, h, seed, seed % 2 ? PNG_COLOR_TYPE_RGB : PNG_COLOR_TYPE_GRAY);
            } else {
                snprintf(rel, sizeof rel, "class%d/%02d.jpg", c, i);
                write_jpeg(rel, w, h, seed, seed % 4 == 1 ? 1 : 3, seed % 5 == 0);
            }
        }
    }
    reptile_image_options o = REPTILE_IMAGE_OPTIONS_INIT;
    o.channels = 3;
    o.height = o.width = 20;
    const int counts[] = {1, 2, 5, 0};
    reptile_dataset *sets[4] = {NULL};
    for (int k = 0; k < 4; ++k) {
        o.threads = counts[k];
        ck_assert_msg(reptile_dataset_open_folder(&sets[k], tmpdir, &o) == 0, "%s", reptile_error_last());
        ck_assert_int_eq(reptile_dataset_num_images(sets[k]), 39);
    }
    for (int k = 1; k < 4; ++k)
        ck_assert_msg(memcmp(sets[0]->pix8, sets[k]->pix8, (size_t)39 * 20 * 20 * 3) == 0, "threads=%d differs",
                      counts[k]);
    for (int k = 0; k < 4; ++k)
        reptile_dataset_free(sets[k]);

    /* Two bad JPEGs: whatever the thread count, the first one is reported. */
    size_t n;
    unsigned char *bytes = tw_read_bytes(in_tmp("class1/04.jpg"), &n);
    tw_write_bytes(in_tmp("class1/04.jpg"), bytes, n / 2);
    free(bytes);
    tw_write_bytes(in_tmp("class2/10.jpg"), "\xff\xd8\xff\xe0 junk junk junk junk", 24);
    for (int k = 0; k < 4; ++k) {
        o.threads = counts[k];
        reptile_dataset *ds = (reptile_dataset *)&o;
        ck_assert_int_eq(reptile_dataset_open_folder(&ds, tmpdir, &o), REPTILE_EFORMAT);
        ck_assert_ptr_null(ds);
        ck_assert_msg(strstr(reptile_error_last(), "class1/04.jpg: truncated JPEG"), "threads=%d: %s", counts[k],
                      reptile_error_last());
    }
}
END_TEST

START_TEST(errors_name_the_file)
{
    tw_mkdir(in_tmp("a"));
    tw_mkdir(in_tmp("b"));
    write_jpeg("a/1.jpg", 16, 16, 1, 3, 0);
    tw_write_bytes(in_tmp("b/readme.txt"), "x", 1);
    reptile_dataset *ds = NULL;
    ck_assert_int_eq(reptile_dataset_open_folder(&ds, tmpdir, NULL), REPTILE_EDATA);
    ck_assert_ptr_nonnull(strstr(reptile_error_last(), "/b: class folder holds no PNG or JPEG images"));
    /* A text file named .jpeg. */
    tw_write_bytes(in_tmp("b/fake.jpeg"), "just text", 9);
    ck_assert_int_eq(reptile_dataset_open_folder(&ds, tmpdir, NULL), REPTILE_EFORMAT);
    ck_assert_ptr_nonnull(strstr(reptile_error_last(), "b/fake.jpeg: not a PNG or JPEG file"));
    /* A JPEG header claiming 65500 x 65500. */
    size_t n;
    unsigned char *bytes = tw_read_bytes(in_tmp("a/1.jpg"), &n);
    size_t sof = tj_find_sof(bytes, n);
    bytes[sof + 5] = bytes[sof + 7] = 0xFF;
    bytes[sof + 6] = bytes[sof + 8] = 0xDC;
    tw_write_bytes(in_tmp("b/fake.jpeg"), bytes, n);
    free(bytes);
    ck_assert_int_eq(reptile_dataset_open_folder(&ds, tmpdir, NULL), REPTILE_EFORMAT);
    ck_assert_msg(strstr(reptile_error_last(), "b/fake.jpeg: image too large (65500x65500"), "%s",
                  reptile_error_last());
    float img[784];
    ck_assert_int_eq(reptile_image_load(in_tmp("b/fake.jpeg"), NULL, img), REPTILE_EFORMAT);
    ck_assert_ptr_nonnull(strstr(reptile_error_last(), "b/fake.jpeg: image too large"));
    ck_assert_ptr_null(ds);
}
END_TEST

/* Gray or RGB samples that name their position: 20 x + y + 3 k. */
static unsigned grid(int x, int y, int k, int bd, const void *user)
{
    (void)bd;
    (void)user;
    return (unsigned)(x * 20 + y + 3 * k);
}

/* Each case: a W x H source, an out_h x out_w output, and the source rows
 * and columns the output samples, worked out by hand from the rule in
 * dataset.h (crop, then the copy or nearest filter). */
typedef struct crop_case {
    int w, h, out_h, out_w, filter;
    int rows[8], cols[8];
    const char *why;
} crop_case;

static const crop_case crop_cases[] = {
    /* wider: full height 6, width floor(6*6/6) = 6, x0 = floor(4/2) = 2 */
    {10, 6, 6, 6, REPTILE_FILTER_NEAREST, {0, 1, 2, 3, 4, 5}, {2, 3, 4, 5, 6, 7}, "10x6 -> 6x6"},
    /* 5 columns cut: 2 on the left, the odd one on the right */
    {11, 6, 6, 6, REPTILE_FILTER_NEAREST, {0, 1, 2, 3, 4, 5}, {2, 3, 4, 5, 6, 7}, "11x6 -> 6x6"},
    /* taller: full width 5, height floor(5*7/5) = 7, y0 = floor(5/2) = 2 */
    {5, 12, 7, 5, REPTILE_FILTER_BILINEAR, {2, 3, 4, 5, 6, 7, 8}, {0, 1, 2, 3, 4}, "5x12 -> 5x7"},
    /* 4:3 output from 10x7: width floor(7*4/3) = 9, x0 = floor(1/2) = 0, then
     * nearest 7 -> 3 rows floor((i + .5) * 7/3) = 1, 3, 5 and 9 -> 4 columns
     * floor((j + .5) * 9/4) = 1, 3, 5, 7 */
    {10, 7, 3, 4, REPTILE_FILTER_NEAREST, {1, 3, 5}, {1, 3, 5, 7}, "10x7 -> 4x3"},
    /* 7x3 for 2 wide x 3 high: width floor(3*2/3) = 2, x0 = floor(5/2) = 2 */
    {7, 3, 3, 2, REPTILE_FILTER_AREA, {0, 1, 2}, {2, 3}, "7x3 -> 2x3"},
    /* same aspect: nothing cut */
    {6, 6, 6, 6, REPTILE_FILTER_BILINEAR, {0, 1, 2, 3, 4, 5}, {0, 1, 2, 3, 4, 5}, "6x6 -> 6x6"},
};
#define N_CROP_CASES ((int)(sizeof crop_cases / sizeof crop_cases[0]))

START_TEST(center_crop_hand_computed)
{
    const crop_case *cc = &crop_cases[_i];
    for (int channels = 1; channels <= 3; channels += 2) {
        tw_mkdir(in_tmp("c"));
        ck_assert_int_eq(tw_write_png_fn(in_tmp("c/img.png"), cc->w, cc->h,
                                         channels == 1 ? PNG_COLOR_TYPE_GRAY : PNG_COLOR_TYPE_RGB, 8, 0, grid, NULL),
                         0);
        reptile_image_options o = REPTILE_IMAGE_OPTIONS_INIT;
        o.height = cc->out_h;
        o.width = cc->out_w;
        o.channels = channels;
        o.filter = cc->filter;
        o.center_crop = 1;
        float got[64 * 3], loaded[64 * 3];
        reptile_dataset *ds = NULL;
        ck_assert_msg(reptile_dataset_open_folder(&ds, tmpdir, &o) == 0, "%s", reptile_error_last());
        ck_assert_int_eq(reptile_dataset_get_image(ds, 0, 0, got), 0);
        reptile_dataset_free(ds);
        ck_assert_int_eq(reptile_image_load(in_tmp("c/img.png"), &o, loaded), 0);
        ck_assert(memcmp(got, loaded, sizeof(float) * (size_t)(cc->out_h * cc->out_w * channels)) == 0);
        for (int y = 0; y < cc->out_h; ++y)
            for (int x = 0; x < cc->out_w; ++x)
                for (int k = 0; k < channels; ++k) {
                    float want = (float)grid(cc->cols[x], cc->rows[y], k, 8, NULL) / 255.0f;
                    float g = got[(y * cc->out_w + x) * channels + k];
                    ck_assert_msg(fabsf(g - want) <= 1e-6f, "%s, %d channels, (%d,%d,%d): %g, want source (%d,%d)",
                                  cc->why, channels, y, x, k, (double)g * 255, cc->rows[y], cc->cols[x]);
                }
        ck_assert_int_eq(remove(in_tmp("c/img.png")), 0);
        ck_assert_int_eq(rmdir(in_tmp("c")), 0);
    }
}
END_TEST

/* A 500 x 375 JPEG cropped for 84 x 84: columns 62..436, as the docs say;
 * then bilinear, as the reference does on the hand-cut region. */
START_TEST(center_crop_photo_and_versions)
{
    tw_mkdir(in_tmp("c"));
    write_jpeg("c/photo.jpg", 500, 375, 9, 3, 0);
    reptile_image_options o = REPTILE_IMAGE_OPTIONS_INIT;
    o.height = o.width = 84;
    o.channels = 3;
    o.center_crop = 1;
    int y0, x0, ch, cw;
    rp_center_crop(375, 500, 84, 84, &y0, &x0, &ch, &cw);
    ck_assert(y0 == 0 && x0 == 62 && ch == 375 && cw == 375);

    rp_image_decoder dec;
    rp_image_decoder_init(&dec);
    rp_image img;
    ck_assert_int_eq(rp_image_decode_file(&dec, in_tmp("c/photo.jpg"), 3, &img), 0);
    float *region = malloc(sizeof(float) * 375 * 375 * 3), want[84 * 84 * 3], got[84 * 84 * 3];
    for (int y = 0; y < 375; ++y)
        memcpy(region + (size_t)y * 375 * 3, img.data + ((size_t)y * 500 + 62) * 3, sizeof(float) * 375 * 3);
    for (int filter = 0; filter < 3; ++filter) { /* every filter reads the region in place */
        ck_assert_int_eq(rp_resize(region, 375, 375, 3, want, 84, 84, filter), 0);
        o.filter = filter;
        ck_assert_int_eq(reptile_image_load(in_tmp("c/photo.jpg"), &o, got), 0);
        for (int i = 0; i < 84 * 84 * 3; ++i)
            ck_assert_msg(fabsf(got[i] - (float)lrintf(want[i] * 255.0f) / 255.0f) <= 1e-6f, "filter %d [%d]",
                          filter, i);
    }
    free(region);
    rp_image_decoder_free(&dec);
    o.filter = REPTILE_FILTER_BILINEAR;
    ck_assert_int_eq(reptile_image_load(in_tmp("c/photo.jpg"), &o, got), 0);

    /* Without the crop the whole frame is squeezed: a different image. */
    float whole[84 * 84 * 3];
    o.center_crop = 0;
    ck_assert_int_eq(reptile_image_load(in_tmp("c/photo.jpg"), &o, whole), 0);
    ck_assert(memcmp(whole, got, sizeof got) != 0);

    /* Version 2's defaults: no crop. Version 1 callers own only the bytes up
     * to threads: init writes no more, and whatever lies after is ignored. */
    reptile_image_options v;
    memset(&v, 0x55, sizeof v);
    ck_assert_int_eq(reptile_image_options_init(&v, 2), 0);
    ck_assert_int_eq(v.center_crop, 0);
    ck_assert_uint_eq(v.version, 2);
    memset(&v, 0x55, sizeof v);
    ck_assert_int_eq(reptile_image_options_init(&v, 1), 0);
    ck_assert_uint_eq(v.version, 1);
    ck_assert_int_eq(v.center_crop, 0x55555555);
    v.height = v.width = 84;
    v.channels = 3;
    v.center_crop = 1; /* beyond a version-1 struct: not read */
    ck_assert_int_eq(reptile_image_load(in_tmp("c/photo.jpg"), &v, got), 0);
    ck_assert(memcmp(whole, got, sizeof got) == 0);
    v.version = 2;
    ck_assert_int_eq(reptile_image_load(in_tmp("c/photo.jpg"), &v, got), 0);
    ck_assert(memcmp(whole, got, sizeof got) != 0);
}
END_TEST

static Suite *formats_suite(void)
{
    Suite *s = suite_create("data-formats");
    TCase *tc = tcase_create("formats");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, mixed_png_and_jpeg_class_folder);
    tcase_add_test(tc, threads_give_the_single_threaded_bytes);
    tcase_add_test(tc, errors_name_the_file);
    tcase_add_loop_test(tc, center_crop_hand_computed, 0, N_CROP_CASES);
    tcase_add_test(tc, center_crop_photo_and_versions);
    suite_add_tcase(s, tc);
    return s;
}

RP_TEST_MAIN(formats_suite)
