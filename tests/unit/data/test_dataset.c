/* Data sets: Omniglot layout on a synthetic tree, folder of class folders,
 * memory sets, options, and every error path naming the file. */
#include "testutil.h"
#include "png_write.h"

#include "core/error_internal.h"
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

/* 1-bit strokes that differ per character id and drawer. */
typedef struct stroke {
    int id, drawer;
} stroke;

static unsigned stroke_pixel(int x, int y, int k, int bd, const void *user)
{
    (void)k;
    (void)bd;
    const stroke *s = user;
    int cx = 20 + (s->id * 13) % 60, cy = 25 + (s->drawer * 7) % 50;
    int ink = (abs(x - cx) < 6 && y > 10 && y < 90) || (abs(y - cy) < 4 && x > 15 && x < 95) ||
              abs(x - y - s->id) < 3;
    return ink ? 0u : 1u; /* 1 = white paper, 0 = ink, as Omniglot */
}

static void make_dir(const char *a, const char *b, const char *c, const char *d)
{
    char p[4200];
    snprintf(p, sizeof p, "%s%s%s%s%s%s%s", a, b ? "/" : "", b ? b : "", c ? "/" : "", c ? c : "",
             d ? "/" : "", d ? d : "");
    mkdir(p, 0755);
}

/* root/<split>/<alphabet>/<character>/IIII_DD.png for DD = 1..n */
static void make_character(const char *root, const char *split, const char *alphabet, const char *character,
                           int id, int n)
{
    make_dir(root, split, NULL, NULL);
    make_dir(root, split, alphabet, NULL);
    make_dir(root, split, alphabet, character);
    for (int d = 1; d <= n; ++d) {
        char p[4200];
        snprintf(p, sizeof p, "%s/%s/%s/%s/%04d_%02d.png", root, split, alphabet, character, id, d);
        stroke s = {id, d};
        ck_assert_int_eq(tw_write_png_fn(p, 105, 105, PNG_COLOR_TYPE_GRAY, 1, 0, stroke_pixel, &s), 0);
    }
}

/* Beta/character02 (id 2), Beta/character01 (id 1), Alpha/character01 (id 5). */
static void make_tree(const char *root)
{
    make_character(root, "images_background", "Beta", "character02", 2, 20);
    make_character(root, "images_background", "Beta", "character01", 1, 20);
    make_character(root, "images_background", "Alpha", "character01", 5, 20);
    make_character(root, "images_evaluation", "Gamma", "character01", 9, 20);
}

/* The tutorial pipeline done by hand: decode, resize, quantise to 8 bits. */
static void reference_image(const char *path, int channels, int h, int w, int filter, int invert, float *out)
{
    rp_image_decoder dec;
    rp_image_decoder_init(&dec);
    rp_image img;
    ck_assert_msg(rp_image_decode_file(&dec, path, channels, &img) == 0, "%s", reptile_error_last());
    float *tmp = malloc(sizeof(float) * (size_t)h * w * channels);
    ck_assert_int_eq(rp_resize(img.data, img.height, img.width, channels, tmp, h, w, filter), 0);
    for (int i = 0; i < h * w * channels; ++i) {
        float v = invert ? 1.0f - tmp[i] : tmp[i];
        out[i] = (float)lrintf(v * 255.0f) / 255.0f;
    }
    free(tmp);
    rp_image_decoder_free(&dec);
}

static void assert_images_equal(const float *a, const float *b, int n)
{
    for (int i = 0; i < n; ++i)
        ck_assert_msg(fabsf(a[i] - b[i]) <= 1e-6f, "[%d]: %g vs %g", i, (double)a[i], (double)b[i]);
}

START_TEST(omniglot_layout_order_and_metadata)
{
    make_tree(tmpdir);
    reptile_dataset *ds = NULL;
    int rc = reptile_dataset_open_omniglot(&ds, tmpdir, "background", NULL);
    ck_assert_msg(rc == 0, "%s", reptile_error_last());
    ck_assert_int_eq(reptile_dataset_num_classes(ds), 3);
    ck_assert_int_eq(reptile_dataset_num_images(ds), 60);
    int h, w, c;
    ck_assert_int_eq(reptile_dataset_image_shape(ds, &h, &w, &c), 0);
    ck_assert(h == 28 && w == 28 && c == 1);
    const char *want_alpha[3] = {"Alpha", "Beta", "Beta"};
    const char *want_char[3] = {"character01", "character01", "character02"};
    const int want_id[3] = {5, 1, 2};
    for (int k = 0; k < 3; ++k) {
        const char *alpha, *chr;
        int id, rot;
        ck_assert_int_eq(reptile_dataset_class_info(ds, k, &alpha, &chr, &id, &rot), 0);
        ck_assert_str_eq(alpha, want_alpha[k]);
        ck_assert_str_eq(chr, want_char[k]);
        ck_assert_int_eq(id, want_id[k]);
        ck_assert_int_eq(rot, 0);
        ck_assert_int_eq(reptile_dataset_class_size(ds, k), 20);
    }
    ck_assert_int_eq(reptile_dataset_class_info(ds, 3, NULL, NULL, NULL, NULL), REPTILE_EINVAL);
    ck_assert_int_eq(reptile_dataset_class_size(ds, -1), REPTILE_EINVAL);

    /* Pixels follow the tutorial pipeline (1-bit -> float -> bilinear 28x28). */
    float got[784], want[784];
    char path[4200];
    snprintf(path, sizeof path, "%s/images_background/Beta/character02/0002_07.png", tmpdir);
    reference_image(path, 1, 28, 28, RP_FILTER_BILINEAR, 0, want);
    ck_assert_int_eq(reptile_dataset_get_image(ds, 2, 6, got), 0);
    assert_images_equal(got, want, 784);
    int n_white = 0, n_mid = 0;
    for (int i = 0; i < 784; ++i) {
        n_white += got[i] == 1.0f;
        n_mid += got[i] > 0.0f && got[i] < 1.0f;
    }
    ck_assert_int_gt(n_white, 400); /* white background */
    ck_assert_int_gt(n_mid, 0);     /* bilinear grey edges */
    ck_assert_int_eq(reptile_dataset_get_image(ds, 2, 20, got), REPTILE_EINVAL);
    ck_assert_int_eq(reptile_dataset_get_image(ds, 3, 0, got), REPTILE_EINVAL);

    /* Internal indexing used by the sampler. */
    ck_assert_int_eq(rp_dataset_image_index(ds, 1, 3), 23);
    ck_assert_int_eq(rp_dataset_image_index(ds, 1, 20), -1);
    int32_t idx[2] = {46, 23};
    float two[2 * 784];
    rp_dataset_gather(ds, idx, 2, two);
    assert_images_equal(two, got, 784);

    /* "train" is the TFDS name of the same split. */
    reptile_dataset *alias = NULL;
    ck_assert_int_eq(reptile_dataset_open_omniglot(&alias, tmpdir, "train", NULL), 0);
    ck_assert_int_eq(reptile_dataset_num_images(alias), 60);
    reptile_dataset_free(alias);
    ck_assert_int_eq(reptile_dataset_open_omniglot(&alias, tmpdir, "test", NULL), 0);
    ck_assert_int_eq(reptile_dataset_num_classes(alias), 1);
    reptile_dataset_free(alias);
    reptile_dataset_free(ds);
}
END_TEST

START_TEST(omniglot_options_rotations_invert_filters)
{
    make_tree(tmpdir);
    reptile_image_options o;
    ck_assert_int_eq(reptile_image_options_init(&o, REPTILE_IMAGE_OPTIONS_VERSION), 0);
    reptile_image_options d = REPTILE_IMAGE_OPTIONS_INIT;
    ck_assert_int_eq(memcmp(&o, &d, sizeof o), 0);
    ck_assert(o.height == 28 && o.width == 28 && o.filter == REPTILE_FILTER_BILINEAR && !o.invert &&
              !o.rotations && o.channels == 1);
    ck_assert_int_eq(reptile_image_options_init(&o, 99), REPTILE_EVERSION);
    ck_assert_int_eq(reptile_image_options_init(NULL, 1), REPTILE_EINVAL);

    reptile_image_options_init(&o, REPTILE_IMAGE_OPTIONS_VERSION);
    o.rotations = 1;
    reptile_dataset *rot = NULL, *plain = NULL;
    ck_assert_int_eq(reptile_dataset_open_omniglot(&rot, tmpdir, "background", &o), 0);
    ck_assert_int_eq(reptile_dataset_open_omniglot(&plain, tmpdir, "background", NULL), 0);
    ck_assert_int_eq(reptile_dataset_num_classes(rot), 12);
    ck_assert_int_eq(reptile_dataset_num_images(rot), 240);
    float base[784], r[784];
    for (int k = 0; k < 12; ++k) {
        const char *chr;
        int id, deg;
        ck_assert_int_eq(reptile_dataset_class_info(rot, k, NULL, &chr, &id, &deg), 0);
        ck_assert_int_eq(deg, 90 * (k % 4));
        const char *pchr;
        int pid;
        reptile_dataset_class_info(plain, k / 4, NULL, &pchr, &pid, NULL);
        ck_assert_str_eq(chr, pchr);
        ck_assert_int_eq(id, pid);
    }
    /* Class 4k+q is class k turned q quarter turns counter-clockwise (np.rot90). */
    ck_assert_int_eq(reptile_dataset_get_image(plain, 1, 4, base), 0);
    for (int q = 0; q < 4; ++q) {
        ck_assert_int_eq(reptile_dataset_get_image(rot, 4 + q, 4, r), 0);
        for (int y = 0; y < 28; ++y)
            for (int x = 0; x < 28; ++x) {
                int sy = y, sx = x;
                for (int t = 0; t < q; ++t) { /* rot90 once: out[y][x] = in[x][n-1-y] */
                    int ny = sx, nx = 27 - sy;
                    sy = ny;
                    sx = nx;
                }
                ck_assert_msg(r[y * 28 + x] == base[sy * 28 + sx], "q=%d (%d,%d)", q, y, x);
            }
    }
    reptile_dataset_free(rot);

    /* Inversion: ink = 1. */
    reptile_image_options_init(&o, REPTILE_IMAGE_OPTIONS_VERSION);
    o.invert = 1;
    reptile_dataset *inv = NULL;
    ck_assert_int_eq(reptile_dataset_open_omniglot(&inv, tmpdir, "background", &o), 0);
    ck_assert_int_eq(reptile_dataset_get_image(inv, 1, 4, r), 0);
    for (int i = 0; i < 784; ++i)
        ck_assert(fabsf(r[i] - (1.0f - base[i])) <= 1e-6f);
    reptile_dataset_free(inv);

    /* Other filters and sizes follow the reference pipeline. */
    char path[4200];
    snprintf(path, sizeof path, "%s/images_background/Beta/character01/0001_05.png", tmpdir);
    for (int f = 0; f < 3; ++f) {
        reptile_image_options_init(&o, REPTILE_IMAGE_OPTIONS_VERSION);
        o.filter = f;
        o.height = 20;
        o.width = 35;
        reptile_dataset *ds = NULL;
        ck_assert_int_eq(reptile_dataset_open_omniglot(&ds, tmpdir, "background", &o), 0);
        float got[20 * 35], want[20 * 35];
        ck_assert_int_eq(reptile_dataset_get_image(ds, 1, 4, got), 0);
        reference_image(path, 1, 20, 35, f, 0, want);
        assert_images_equal(got, want, 20 * 35);
        reptile_dataset_free(ds);
    }
    reptile_dataset_free(plain);

    /* Invalid options. */
    reptile_dataset *ds = (reptile_dataset *)&o; /* must be reset to NULL on failure */
    reptile_image_options_init(&o, REPTILE_IMAGE_OPTIONS_VERSION);
    o.version = 7;
    ck_assert_int_eq(reptile_dataset_open_omniglot(&ds, tmpdir, "background", &o), REPTILE_EVERSION);
    ck_assert_ptr_null(ds);
    reptile_image_options_init(&o, REPTILE_IMAGE_OPTIONS_VERSION);
    o.channels = 2;
    ck_assert_int_eq(reptile_dataset_open_omniglot(&ds, tmpdir, "background", &o), REPTILE_EINVAL);
    ck_assert_ptr_nonnull(strstr(reptile_error_last(), "channels"));
    reptile_image_options_init(&o, REPTILE_IMAGE_OPTIONS_VERSION);
    o.rotations = 1;
    o.width = 27;
    ck_assert_int_eq(reptile_dataset_open_omniglot(&ds, tmpdir, "background", &o), REPTILE_EINVAL);
    reptile_image_options_init(&o, REPTILE_IMAGE_OPTIONS_VERSION);
    o.height = 0;
    ck_assert_int_eq(reptile_dataset_open_omniglot(&ds, tmpdir, "background", &o), REPTILE_EINVAL);
    reptile_image_options_init(&o, REPTILE_IMAGE_OPTIONS_VERSION);
    o.filter = 3;
    ck_assert_int_eq(reptile_dataset_open_omniglot(&ds, tmpdir, "background", &o), REPTILE_EINVAL);
}
END_TEST

START_TEST(loading_threads_are_deterministic)
{
    make_tree(tmpdir);
    reptile_image_options o = REPTILE_IMAGE_OPTIONS_INIT;
    reptile_dataset *one = NULL, *many = NULL, *all = NULL;
    ck_assert_int_eq(reptile_dataset_open_omniglot(&one, tmpdir, "background", &o), 0);
    o.threads = 7;
    ck_assert_int_eq(reptile_dataset_open_omniglot(&many, tmpdir, "background", &o), 0);
    o.threads = 0;
    ck_assert_int_eq(reptile_dataset_open_omniglot(&all, tmpdir, "background", &o), 0);
    ck_assert_int_eq(memcmp(one->pix8, many->pix8, (size_t)60 * 784), 0);
    ck_assert_int_eq(memcmp(one->pix8, all->pix8, (size_t)60 * 784), 0);
    reptile_dataset_free(one);
    reptile_dataset_free(many);
    reptile_dataset_free(all);

    /* With several threads the error reported is the first bad file's. */
    char p[4200];
    snprintf(p, sizeof p, "%s/images_background/Beta/character01/0001_03.png", tmpdir);
    tw_write_bytes(p, "nope", 4);
    snprintf(p, sizeof p, "%s/images_background/Beta/character02/0002_19.png", tmpdir);
    tw_write_bytes(p, "nope", 4);
    o.threads = 5;
    reptile_dataset *ds = NULL;
    ck_assert_int_eq(reptile_dataset_open_omniglot(&ds, tmpdir, "background", &o), REPTILE_EFORMAT);
    ck_assert_ptr_nonnull(strstr(reptile_error_last(), "character01/0001_03.png: not a PNG"));
    ck_assert_ptr_null(ds);
}
END_TEST

START_TEST(omniglot_errors_name_the_file)
{
    reptile_dataset *ds = NULL;
    char p[4200];
    /* Missing root / split folder. */
    snprintf(p, sizeof p, "%s/nowhere", tmpdir);
    ck_assert_int_eq(reptile_dataset_open_omniglot(&ds, p, "background", NULL), REPTILE_ENOTFOUND);
    ck_assert_ptr_nonnull(strstr(reptile_error_last(), "nowhere/images_background"));
    ck_assert_ptr_null(ds);
    ck_assert_int_eq(reptile_dataset_open_omniglot(&ds, tmpdir, "validation", NULL), REPTILE_EINVAL);
    ck_assert_ptr_nonnull(strstr(reptile_error_last(), "validation"));
    ck_assert_int_eq(reptile_dataset_open_omniglot(NULL, tmpdir, "train", NULL), REPTILE_EINVAL);
    ck_assert_int_eq(reptile_dataset_open_omniglot(&ds, NULL, "train", NULL), REPTILE_EINVAL);

    make_character(tmpdir, "images_background", "Alpha", "character01", 1, 3);
    /* Empty character folder. */
    make_dir(tmpdir, "images_background", "Alpha", "character02");
    ck_assert_int_eq(reptile_dataset_open_omniglot(&ds, tmpdir, "background", NULL), REPTILE_EDATA);
    ck_assert_ptr_nonnull(strstr(reptile_error_last(), "Alpha/character02"));
    /* Non-PNG names are skipped, a non-PNG file named .png is an error. */
    snprintf(p, sizeof p, "%s/images_background/Alpha/character02/README.txt", tmpdir);
    tw_write_bytes(p, "hello", 5);
    ck_assert_int_eq(reptile_dataset_open_omniglot(&ds, tmpdir, "background", NULL), REPTILE_EDATA);
    snprintf(p, sizeof p, "%s/images_background/Alpha/character02/0002_01.png", tmpdir);
    tw_write_bytes(p, "GIF89a not really", 17);
    ck_assert_int_eq(reptile_dataset_open_omniglot(&ds, tmpdir, "background", NULL), REPTILE_EFORMAT);
    ck_assert_ptr_nonnull(strstr(reptile_error_last(), p));
    ck_assert_ptr_nonnull(strstr(reptile_error_last(), "not a PNG"));
    ck_assert_int_eq(reptile_error_last_code(), REPTILE_EFORMAT);
    /* Truncated PNG. */
    char good[4200];
    snprintf(good, sizeof good, "%s/images_background/Alpha/character01/0001_01.png", tmpdir);
    size_t n;
    unsigned char *bytes = tw_read_bytes(good, &n);
    tw_write_bytes(p, bytes, n - 20);
    free(bytes);
    ck_assert_int_eq(reptile_dataset_open_omniglot(&ds, tmpdir, "background", NULL), REPTILE_EFORMAT);
    ck_assert_ptr_nonnull(strstr(reptile_error_last(), p));
    ck_assert_ptr_nonnull(strstr(reptile_error_last(), "truncated"));
    /* Unreadable file: a dangling symbolic link (root can read mode-000 files). */
    remove(p);
    ck_assert_int_eq(symlink("/nonexistent/rp-target.png", p), 0);
    ck_assert_int_eq(reptile_dataset_open_omniglot(&ds, tmpdir, "background", NULL), REPTILE_ENOTFOUND);
    ck_assert_ptr_nonnull(strstr(reptile_error_last(), p));
    remove(p);
    if (geteuid() != 0) {
        ck_assert_int_eq(tw_write_png(p, 8, 8, PNG_COLOR_TYPE_GRAY, 8, 0), 0);
        ck_assert_int_eq(chmod(p, 0), 0);
        ck_assert_int_eq(reptile_dataset_open_omniglot(&ds, tmpdir, "background", NULL), REPTILE_EIO);
        ck_assert_ptr_nonnull(strstr(reptile_error_last(), p));
        remove(p);
    }
    /* Fixed: loads. */
    ck_assert_int_eq(tw_write_png(p, 105, 105, PNG_COLOR_TYPE_GRAY, 1, 0), 0);
    ck_assert_int_eq(reptile_dataset_open_omniglot(&ds, tmpdir, "background", NULL), 0);
    ck_assert_int_eq(reptile_dataset_num_images(ds), 4);
    reptile_dataset_free(ds);
    /* The paper split needs the full 1,623 characters. */
    reptile_dataset *tr = NULL, *te = NULL;
    make_character(tmpdir, "images_evaluation", "Gamma", "character01", 9, 2);
    ck_assert_int_eq(reptile_dataset_open_omniglot_paper(&tr, &te, tmpdir, 1, NULL, NULL), REPTILE_EDATA);
    ck_assert_ptr_nonnull(strstr(reptile_error_last(), "1200"));
    ck_assert_ptr_null(tr);
    ck_assert_ptr_null(te);
}
END_TEST

static unsigned rgb_pattern(int x, int y, int k, int bd, const void *user)
{
    int v = *(const int *)user;
    unsigned maxv = (1u << bd) - 1u;
    return (unsigned)((x * (3 + k) + y * (5 + v) + v * 11) % (int)(maxv + 1));
}

START_TEST(folder_dataset_rgb_and_gray)
{
    char p[4200];
    make_dir(tmpdir, "dogs", NULL, NULL);
    make_dir(tmpdir, "cats", NULL, NULL);
    make_dir(tmpdir, ".hidden", NULL, NULL);
    int v0 = 0, v1 = 1, v2 = 2, v3 = 3;
    snprintf(p, sizeof p, "%s/cats/b.png", tmpdir);
    ck_assert_int_eq(tw_write_png_fn(p, 40, 30, PNG_COLOR_TYPE_RGB, 8, 0, rgb_pattern, &v0), 0);
    snprintf(p, sizeof p, "%s/cats/a.PNG", tmpdir);
    ck_assert_int_eq(tw_write_png_fn(p, 50, 50, PNG_COLOR_TYPE_RGB_ALPHA, 8, 0, rgb_pattern, &v1), 0);
    snprintf(p, sizeof p, "%s/cats/notes.txt", tmpdir);
    tw_write_bytes(p, "x", 1);
    snprintf(p, sizeof p, "%s/cats/.thumb.png", tmpdir);
    tw_write_bytes(p, "x", 1);
    snprintf(p, sizeof p, "%s/dogs/d1.png", tmpdir);
    ck_assert_int_eq(tw_write_png_fn(p, 20, 20, PNG_COLOR_TYPE_GRAY, 16, 0, rgb_pattern, &v2), 0);
    snprintf(p, sizeof p, "%s/dogs/d2.png", tmpdir);
    ck_assert_int_eq(tw_write_png_fn(p, 12, 9, PNG_COLOR_TYPE_RGB, 16, 1, rgb_pattern, &v3), 0);
    snprintf(p, sizeof p, "%s/stray.png", tmpdir); /* files at the top level are not classes */
    tw_write_bytes(p, "x", 1);

    const char *files[4] = {"cats/a.PNG", "cats/b.png", "dogs/d1.png", "dogs/d2.png"};
    for (int channels = 1; channels <= 3; channels += 2) {
        reptile_image_options o = REPTILE_IMAGE_OPTIONS_INIT;
        o.channels = channels;
        o.height = 16;
        o.width = 24;
        reptile_dataset *ds = NULL;
        int rc = reptile_dataset_open_folder(&ds, tmpdir, &o);
        ck_assert_msg(rc == 0, "%s", reptile_error_last());
        ck_assert_int_eq(reptile_dataset_num_classes(ds), 2);
        ck_assert_int_eq(reptile_dataset_num_images(ds), 4);
        int h, w, c;
        reptile_dataset_image_shape(ds, &h, &w, &c);
        ck_assert(h == 16 && w == 24 && c == channels);
        const char *alpha, *chr;
        int id;
        reptile_dataset_class_info(ds, 0, &alpha, &chr, &id, NULL);
        ck_assert_ptr_null(alpha);
        ck_assert_str_eq(chr, "cats");
        ck_assert_int_eq(id, -1);
        reptile_dataset_class_info(ds, 1, NULL, &chr, NULL, NULL);
        ck_assert_str_eq(chr, "dogs");
        float got[16 * 24 * 3], want[16 * 24 * 3];
        for (int i = 0; i < 4; ++i) {
            snprintf(p, sizeof p, "%s/%s", tmpdir, files[i]);
            reference_image(p, channels, 16, 24, RP_FILTER_BILINEAR, 0, want);
            ck_assert_int_eq(reptile_dataset_get_image(ds, i / 2, i % 2, got), 0);
            assert_images_equal(got, want, 16 * 24 * channels);
        }
        reptile_dataset_free(ds);
    }
    /* Errors: empty class folder, missing root, root without class folders. */
    reptile_dataset *ds = NULL;
    make_dir(tmpdir, "empty", NULL, NULL);
    ck_assert_int_eq(reptile_dataset_open_folder(&ds, tmpdir, NULL), REPTILE_EDATA);
    ck_assert_ptr_nonnull(strstr(reptile_error_last(), "/empty"));
    snprintf(p, sizeof p, "%s/missing", tmpdir);
    ck_assert_int_eq(reptile_dataset_open_folder(&ds, p, NULL), REPTILE_ENOTFOUND);
    ck_assert_ptr_nonnull(strstr(reptile_error_last(), p));
    snprintf(p, sizeof p, "%s/dogs", tmpdir);
    ck_assert_int_eq(reptile_dataset_open_folder(&ds, p, NULL), REPTILE_EDATA);
    snprintf(p, sizeof p, "%s/dogs/d1.png", tmpdir);
    ck_assert_int_eq(reptile_dataset_open_folder(&ds, p, NULL), REPTILE_ENOTFOUND);
    ck_assert_ptr_null(ds);
}
END_TEST

/* reptile_image_load() is the data sets' own path: for every file of a
 * folder set, bitwise the floats reptile_dataset_get_image() gives, gray and
 * RGB, at the file's size and resized, inverted or not. */
START_TEST(image_load_matches_folder_dataset)
{
    char p[4200];
    make_dir(tmpdir, "gray", NULL, NULL);
    make_dir(tmpdir, "rgb", NULL, NULL);
    int v0 = 0, v1 = 1, v2 = 2, v3 = 3;
    stroke s = {7, 3};
    snprintf(p, sizeof p, "%s/gray/a.png", tmpdir);
    ck_assert_int_eq(tw_write_png_fn(p, 28, 28, PNG_COLOR_TYPE_GRAY, 8, 0, rgb_pattern, &v0), 0);
    snprintf(p, sizeof p, "%s/gray/b.png", tmpdir);
    ck_assert_int_eq(tw_write_png_fn(p, 105, 105, PNG_COLOR_TYPE_GRAY, 1, 0, stroke_pixel, &s), 0);
    snprintf(p, sizeof p, "%s/rgb/c.png", tmpdir);
    ck_assert_int_eq(tw_write_png_fn(p, 28, 28, PNG_COLOR_TYPE_RGB, 8, 0, rgb_pattern, &v1), 0);
    snprintf(p, sizeof p, "%s/rgb/d.png", tmpdir);
    ck_assert_int_eq(tw_write_png_fn(p, 37, 19, PNG_COLOR_TYPE_RGB_ALPHA, 16, 1, rgb_pattern, &v2), 0);
    snprintf(p, sizeof p, "%s/rgb/e.png", tmpdir);
    ck_assert_int_eq(tw_write_png_fn(p, 9, 13, PNG_COLOR_TYPE_PALETTE, 4, 0, rgb_pattern, &v3), 0);
    const char *files[2][3] = {{"gray/a.png", "gray/b.png", NULL}, {"rgb/c.png", "rgb/d.png", "rgb/e.png"}};

    /* {channels, height, width, filter, invert}: the files' own 28 x 28, then resizes. */
    const int cases[][5] = {{1, 28, 28, REPTILE_FILTER_BILINEAR, 0}, {3, 28, 28, REPTILE_FILTER_BILINEAR, 0},
                            {1, 20, 33, REPTILE_FILTER_AREA, 1},     {3, 16, 24, REPTILE_FILTER_BILINEAR, 0},
                            {3, 50, 40, REPTILE_FILTER_NEAREST, 1}};
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; ++k) {
        reptile_image_options o = REPTILE_IMAGE_OPTIONS_INIT;
        o.channels = cases[k][0];
        o.height = cases[k][1];
        o.width = cases[k][2];
        o.filter = cases[k][3];
        o.invert = cases[k][4];
        reptile_dataset *ds = NULL;
        ck_assert_msg(reptile_dataset_open_folder(&ds, tmpdir, &o) == 0, "%s", reptile_error_last());
        const size_t n = (size_t)o.height * o.width * o.channels;
        float *from_set = malloc(n * sizeof *from_set), *loaded = malloc(n * sizeof *loaded);
        ck_assert(from_set && loaded);
        for (int cls = 0; cls < 2; ++cls)
            for (int i = 0; i < reptile_dataset_class_size(ds, cls); ++i) {
                ck_assert_ptr_nonnull(files[cls][i]);
                snprintf(p, sizeof p, "%s/%s", tmpdir, files[cls][i]);
                ck_assert_int_eq(reptile_dataset_get_image(ds, cls, i, from_set), 0);
                memset(loaded, 0xff, n * sizeof *loaded);
                ck_assert_msg(reptile_image_load(p, &o, loaded) == 0, "%s", reptile_error_last());
                ck_assert_msg(memcmp(from_set, loaded, n * sizeof *loaded) == 0, "case %zu: %s differs",
                              k, files[cls][i]);
            }
        free(from_set);
        free(loaded);
        reptile_dataset_free(ds);
    }
    /* NULL options: the defaults (28 x 28 gray), as the data sets' NULL. */
    float def[784], got[784];
    reptile_dataset *ds = NULL;
    ck_assert_int_eq(reptile_dataset_open_folder(&ds, tmpdir, NULL), 0);
    ck_assert_int_eq(reptile_dataset_get_image(ds, 1, 1, def), 0);
    reptile_dataset_free(ds);
    snprintf(p, sizeof p, "%s/rgb/d.png", tmpdir);
    ck_assert_int_eq(reptile_image_load(p, NULL, got), 0);
    ck_assert(memcmp(def, got, sizeof got) == 0);

    /* Errors name the file: missing, not a PNG; bad arguments and options. */
    snprintf(p, sizeof p, "%s/gray/missing.png", tmpdir);
    ck_assert_int_eq(reptile_image_load(p, NULL, got), REPTILE_ENOTFOUND);
    ck_assert_ptr_nonnull(strstr(reptile_error_last(), p));
    snprintf(p, sizeof p, "%s/notes.png", tmpdir);
    tw_write_bytes(p, "this is text, not an image", 26);
    ck_assert_int_eq(reptile_image_load(p, NULL, got), REPTILE_EFORMAT);
    ck_assert_ptr_nonnull(strstr(reptile_error_last(), p));
    ck_assert_int_eq(reptile_image_load(NULL, NULL, got), REPTILE_EINVAL);
    ck_assert_int_eq(reptile_image_load(p, NULL, NULL), REPTILE_EINVAL);
    snprintf(p, sizeof p, "%s/gray/a.png", tmpdir);
    reptile_image_options bad = REPTILE_IMAGE_OPTIONS_INIT;
    bad.height = 0;
    ck_assert_int_eq(reptile_image_load(p, &bad, got), REPTILE_EINVAL);
    bad = (reptile_image_options)REPTILE_IMAGE_OPTIONS_INIT;
    bad.version = 99;
    ck_assert_int_eq(reptile_image_load(p, &bad, got), REPTILE_EVERSION);
}
END_TEST

START_TEST(memory_dataset)
{
    const int n = 5, h = 2, w = 3, c = 2, hwc = h * w * c;
    float img[5 * 12];
    for (int i = 0; i < n * hwc; ++i)
        img[i] = (float)i * 0.5f - 3.0f; /* any finite values, kept as floats */
    int32_t labels[5] = {5, 2, 5, 9, 2};
    reptile_dataset *ds = NULL;
    ck_assert_int_eq(reptile_dataset_from_memory(&ds, img, labels, n, h, w, c), 0);
    img[0] = 1000.0f; /* the data set holds a copy */
    labels[0] = 0;
    ck_assert_int_eq(reptile_dataset_num_classes(ds), 3);
    ck_assert_int_eq(reptile_dataset_num_images(ds), 5);
    const int want_label[3] = {2, 5, 9}, want_size[3] = {2, 2, 1};
    const int members[3][2] = {{1, 4}, {0, 2}, {3, -1}};
    for (int k = 0; k < 3; ++k) {
        int id;
        const char *chr = "x", *alpha = "x";
        ck_assert_int_eq(reptile_dataset_class_info(ds, k, &alpha, &chr, &id, NULL), 0);
        ck_assert_int_eq(id, want_label[k]);
        ck_assert_ptr_null(chr);
        ck_assert_ptr_null(alpha);
        ck_assert_int_eq(reptile_dataset_class_size(ds, k), want_size[k]);
        for (int i = 0; i < want_size[k]; ++i) {
            float got[12];
            ck_assert_int_eq(reptile_dataset_get_image(ds, k, i, got), 0);
            for (int j = 0; j < hwc; ++j)
                ck_assert(got[j] == (float)(members[k][i] * hwc + j) * 0.5f - 3.0f);
        }
    }
    int hh, ww, cc;
    reptile_dataset_image_shape(ds, &hh, &ww, &cc);
    ck_assert(hh == h && ww == w && cc == c);
    reptile_dataset_free(ds);

    ds = NULL;
    ck_assert_int_eq(reptile_dataset_from_memory(&ds, img, labels, 0, h, w, c), REPTILE_EINVAL);
    ck_assert_int_eq(reptile_dataset_from_memory(&ds, NULL, labels, n, h, w, c), REPTILE_EINVAL);
    ck_assert_int_eq(reptile_dataset_from_memory(&ds, img, labels, n, h, -1, c), REPTILE_EINVAL);
    img[17] = NAN;
    ck_assert_int_eq(reptile_dataset_from_memory(&ds, img, labels, n, h, w, c), REPTILE_EINVAL);
    ck_assert_ptr_nonnull(strstr(reptile_error_last(), "images_nhwc[17]"));
    ck_assert_ptr_null(ds);
}
END_TEST

START_TEST(null_handles)
{
    reptile_dataset_free(NULL);
    ck_assert_int_eq(reptile_dataset_num_classes(NULL), 0);
    ck_assert_int_eq(reptile_dataset_num_images(NULL), 0);
    ck_assert_int_eq(reptile_dataset_class_size(NULL, 0), REPTILE_EINVAL);
    ck_assert_int_eq(reptile_dataset_image_shape(NULL, NULL, NULL, NULL), REPTILE_EINVAL);
    ck_assert_int_eq(reptile_dataset_class_info(NULL, 0, NULL, NULL, NULL, NULL), REPTILE_EINVAL);
    float x;
    ck_assert_int_eq(reptile_dataset_get_image(NULL, 0, 0, &x), REPTILE_EINVAL);
}
END_TEST

static Suite *dataset_suite(void)
{
    Suite *s = suite_create("data-dataset");
    TCase *tc = tcase_create("dataset");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, omniglot_layout_order_and_metadata);
    tcase_add_test(tc, omniglot_options_rotations_invert_filters);
    tcase_add_test(tc, loading_threads_are_deterministic);
    tcase_add_test(tc, omniglot_errors_name_the_file);
    tcase_add_test(tc, folder_dataset_rgb_and_gray);
    tcase_add_test(tc, image_load_matches_folder_dataset);
    tcase_add_test(tc, memory_dataset);
    tcase_add_test(tc, null_handles);
    suite_add_tcase(s, tc);
    return s;
}

RP_TEST_MAIN(dataset_suite)
