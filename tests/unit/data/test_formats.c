/* Folder data sets of photographs: PNG and JPEG mixed in one class folder
 * (told apart by their bytes, names in any case), reptile_image_load() on
 * JPEGs, loading threads giving the single-threaded bytes, and bad JPEGs
 * inside a data set reported with their path. */
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

static Suite *formats_suite(void)
{
    Suite *s = suite_create("data-formats");
    TCase *tc = tcase_create("formats");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, mixed_png_and_jpeg_class_folder);
    tcase_add_test(tc, threads_give_the_single_threaded_bytes);
    tcase_add_test(tc, errors_name_the_file);
    suite_add_tcase(s, tc);
    return s;
}

RP_TEST_MAIN(formats_suite)
