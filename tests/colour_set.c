/* The synthetic colour photograph set of colour_set.h: drawn pixel by
 * pixel, written with libpng's simplified API and libjpeg. */
#include "colour_set.h"

#include <errno.h>
#include <math.h>
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
/* jpeglib.h needs size_t and FILE first. */
#include <jpeglib.h>
#include <string.h>
#include <sys/stat.h>

static const char *const shape_names[RP_COLOUR_SHAPES] = {"disc", "square", "triangle", "ring",
                                                          "cross"};
static const char *const hue_names[RP_COLOUR_HUES] = {"red",     "green", "blue",   "yellow",
                                                      "magenta", "cyan",  "orange", "white"};
static const float hues[RP_COLOUR_HUES][3] = {
    {0.85f, 0.10f, 0.10f}, {0.10f, 0.75f, 0.15f}, {0.15f, 0.20f, 0.90f}, {0.90f, 0.85f, 0.10f},
    {0.80f, 0.15f, 0.80f}, {0.10f, 0.80f, 0.85f}, {0.95f, 0.55f, 0.05f}, {0.95f, 0.95f, 0.95f}};

typedef struct rng {
    uint64_t s;
} rng;

static uint64_t next(rng *r) /* splitmix64 */
{
    uint64_t z = (r->s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static float uniform(rng *r, float lo, float hi)
{
    return lo + (hi - lo) * (float)((next(r) >> 40) * (1.0 / 16777216.0));
}

/* Is (u, v), in the shape's own frame scaled to its radius, inside it? */
static int inside(int shape, float u, float v)
{
    float r = sqrtf(u * u + v * v);
    switch (shape) {
    case 0: return r < 1.0f;
    case 1: return fabsf(u) < 0.8f && fabsf(v) < 0.8f;
    case 2: return v < 0.5f && v > 1.732f * fabsf(u) - 1.0f; /* apex up */
    case 3: return r < 1.0f && r > 0.6f;
    default: return (fabsf(u) < 0.3f && fabsf(v) < 1.0f) || (fabsf(v) < 0.3f && fabsf(u) < 1.0f);
    }
}

static float clamp01(float x)
{
    return x < 0.0f ? 0.0f : x > 1.0f ? 1.0f : x;
}

/* One image of class c into rgb (w * h * 3 bytes). */
static void draw(int c, rng *r, int w, int h, unsigned char *rgb)
{
    const int shape = c % RP_COLOUR_SHAPES;
    const float *hue = hues[c / RP_COLOUR_SHAPES % RP_COLOUR_HUES];
    float fg[3], bg[3];
    for (int k = 0; k < 3; ++k) {
        fg[k] = clamp01(hue[k] + uniform(r, -0.08f, 0.08f));
        bg[k] = uniform(r, 0.2f, 0.6f);
    }
    const int texture = (int)(next(r) % 3);
    const float period = uniform(r, 3.0f, 9.0f), tilt = uniform(r, 0.0f, 3.14159f);
    const float side = (float)(w < h ? w : h);
    const float radius = side * uniform(r, 0.25f, 0.4f);
    const float cx = w * 0.5f + side * uniform(r, -0.12f, 0.12f);
    const float cy = h * 0.5f + side * uniform(r, -0.12f, 0.12f);
    const float angle = shape == 0 || shape == 3 ? 0.0f : uniform(r, -0.5f, 0.5f);
    const float ca = cosf(angle), sa = sinf(angle);
    for (int y = 0; y < h; ++y)
        for (int x = 0; x < w; ++x) {
            float dx = (x + 0.5f - cx) / radius, dy = (y + 0.5f - cy) / radius;
            float u = ca * dx + sa * dy, v = -sa * dx + ca * dy;
            float shade;
            if (texture == 0)
                shade = uniform(r, -0.15f, 0.15f);
            else if (texture == 1)
                shade = 0.15f * sinf((x * cosf(tilt) + y * sinf(tilt)) * 6.2832f / period);
            else
                shade = (((int)(x / period) + (int)(y / period)) & 1) ? 0.12f : -0.12f;
            const float *base = inside(shape, u, v) ? fg : bg;
            for (int k = 0; k < 3; ++k)
                rgb[((size_t)y * w + x) * 3 + k] =
                    (unsigned char)lrintf(255.0f * clamp01(base[k] + 0.5f * shade));
        }
}

int rp_test_write_png(const char *path, const unsigned char *rgb, int w, int h)
{
    png_image img;
    memset(&img, 0, sizeof img);
    img.version = PNG_IMAGE_VERSION;
    img.width = (png_uint_32)w;
    img.height = (png_uint_32)h;
    img.format = PNG_FORMAT_RGB;
    if (!png_image_write_to_file(&img, path, 0, rgb, 0, NULL)) {
        fprintf(stderr, "colour set: writing %s: %s\n", path, img.message);
        return -1;
    }
    return 0;
}

int rp_test_write_jpeg(const char *path, const unsigned char *rgb, int w, int h)
{
    FILE *f = fopen(path, "wb");
    if (!f) {
        fprintf(stderr, "colour set: %s: %s\n", path, strerror(errno));
        return -1;
    }
    struct jpeg_compress_struct cinfo;
    struct jpeg_error_mgr jerr;
    cinfo.err = jpeg_std_error(&jerr); /* exits on error: acceptable in a test helper */
    jpeg_create_compress(&cinfo);
    jpeg_stdio_dest(&cinfo, f);
    cinfo.image_width = (JDIMENSION)w;
    cinfo.image_height = (JDIMENSION)h;
    cinfo.input_components = 3;
    cinfo.in_color_space = JCS_RGB;
    jpeg_set_defaults(&cinfo);
    jpeg_set_quality(&cinfo, 90, TRUE);
    jpeg_start_compress(&cinfo, TRUE);
    while (cinfo.next_scanline < cinfo.image_height) {
        JSAMPROW row = (JSAMPROW)(rgb + (size_t)cinfo.next_scanline * w * 3);
        jpeg_write_scanlines(&cinfo, &row, 1);
    }
    jpeg_finish_compress(&cinfo);
    jpeg_destroy_compress(&cinfo);
    if (fclose(f) != 0) {
        fprintf(stderr, "colour set: closing %s: %s\n", path, strerror(errno));
        return -1;
    }
    return 0;
}

static int make_dir(const char *path)
{
    if (mkdir(path, 0755) != 0 && errno != EEXIST) {
        fprintf(stderr, "colour set: mkdir %s: %s\n", path, strerror(errno));
        return -1;
    }
    return 0;
}

int rp_test_colour_set_write(const char *root, int first, int count, int per_class, uint64_t seed)
{
    enum { MAX_SIDE = 120 };
    unsigned char *rgb = malloc((size_t)MAX_SIDE * MAX_SIDE * 3);
    if (!rgb || make_dir(root) != 0) {
        free(rgb);
        return -1;
    }
    char path[4096];
    int rc = 0;
    for (int c = first; c < first + count && rc == 0; ++c) {
        snprintf(path, sizeof path, "%s/c%02d-%s-%s", root, c, shape_names[c % RP_COLOUR_SHAPES],
                 hue_names[c / RP_COLOUR_SHAPES % RP_COLOUR_HUES]);
        rc = make_dir(path);
        size_t dir_len = strlen(path);
        for (int i = 0; i < per_class && rc == 0; ++i) {
            rng r = {seed * 0x100000001B3ull + (uint64_t)c * 1000003u + (uint64_t)i};
            int w = 40 + (int)(next(&r) % 81), h = 40 + (int)(next(&r) % 81);
            draw(c, &r, w, h, rgb);
            snprintf(path + dir_len, sizeof path - dir_len, "/%04d.%s", i, i % 2 ? "jpg" : "png");
            rc = i % 2 ? rp_test_write_jpeg(path, rgb, w, h) : rp_test_write_png(path, rgb, w, h);
        }
    }
    free(rgb);
    return rc;
}

int rp_test_colour_set_write_splits(const char *root, int train_classes, int test_classes,
                                    int per_class, uint64_t seed)
{
    char path[4096];
    if (make_dir(root) != 0)
        return -1;
    snprintf(path, sizeof path, "%s/train", root);
    if (rp_test_colour_set_write(path, 0, train_classes, per_class, seed) != 0)
        return -1;
    snprintf(path, sizeof path, "%s/val", root);
    if (make_dir(path) != 0)
        return -1;
    snprintf(path, sizeof path, "%s/test", root);
    return rp_test_colour_set_write(path, train_classes, test_classes, per_class, seed);
}
