/* Test helpers: write PNG files of any colour type and bit depth with
 * libpng, from a generated sample pattern, and make temporary trees. */
#ifndef RP_TEST_PNG_WRITE_H
#define RP_TEST_PNG_WRITE_H

#include <check.h>
#include <png.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Sample value of channel k at (x, y) for depth bd: a fixed pattern. */
static inline unsigned tw_sample(int x, int y, int k, int bd)
{
    unsigned maxv = (1u << bd) - 1u;
    return (unsigned)(x * 7 + y * 13 + k * 29 + (x * y) % 5) % (maxv + 1u);
}

static inline int tw_channels(int color_type)
{
    switch (color_type) {
    case PNG_COLOR_TYPE_GRAY: return 1;
    case PNG_COLOR_TYPE_GRAY_ALPHA: return 2;
    case PNG_COLOR_TYPE_RGB: return 3;
    case PNG_COLOR_TYPE_RGB_ALPHA: return 4;
    default: return 1; /* palette: one index */
    }
}

/* Write an image whose samples come from get(x, y, k, bd, user); palette
 * images use a fixed 16-entry palette and indices from get(..., k=0). */
typedef unsigned (*tw_get_fn)(int x, int y, int k, int bd, const void *user);

static inline unsigned tw_pattern(int x, int y, int k, int bd, const void *user)
{
    (void)user;
    return tw_sample(x, y, k, bd);
}

static inline png_color tw_palette_entry(int i)
{
    png_color c;
    c.red = (png_byte)(i * 16);
    c.green = (png_byte)(255 - i * 10);
    c.blue = (png_byte)((i * 37) & 255);
    return c;
}

static inline int tw_write_png_fn(const char *path, int w, int h, int color_type, int bd, int interlace,
                                  tw_get_fn get, const void *user)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return -1;
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png_create_info_struct(png);
    int sc = tw_channels(color_type);
    size_t rowbytes = ((size_t)w * sc * bd + 7) / 8;
    unsigned char *row = calloc(rowbytes, 1);
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_write_struct(&png, &info);
        fclose(f);
        free(row);
        return -1;
    }
    png_init_io(png, f);
    png_set_IHDR(png, info, (png_uint_32)w, (png_uint_32)h, bd, color_type,
                 interlace ? PNG_INTERLACE_ADAM7 : PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
                 PNG_FILTER_TYPE_DEFAULT);
    if (color_type == PNG_COLOR_TYPE_PALETTE) {
        png_color pal[16];
        int npal = bd < 4 ? 1 << bd : 16;
        for (int i = 0; i < npal; ++i)
            pal[i] = tw_palette_entry(i);
        png_set_PLTE(png, info, pal, npal);
    }
    png_write_info(png, info);
    int passes = interlace ? png_set_interlace_handling(png) : 1;
    for (int p = 0; p < passes; ++p)
        for (int y = 0; y < h; ++y) {
            memset(row, 0, rowbytes);
            for (int x = 0; x < w; ++x)
                for (int k = 0; k < sc; ++k) {
                    unsigned v = get(x, y, k, bd, user);
                    size_t bit = ((size_t)x * sc + k) * bd;
                    if (bd == 16) {
                        row[bit / 8] = (unsigned char)(v >> 8);
                        row[bit / 8 + 1] = (unsigned char)v;
                    } else if (bd == 8) {
                        row[bit / 8] = (unsigned char)v;
                    } else {
                        row[bit / 8] |= (unsigned char)(v << (8 - bd - (bit % 8)));
                    }
                }
            png_write_row(png, row);
        }
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    free(row);
    return fclose(f) == 0 ? 0 : -1;
}

static inline int tw_write_png(const char *path, int w, int h, int color_type, int bd, int interlace)
{
    return tw_write_png_fn(path, w, h, color_type, bd, interlace, tw_pattern, NULL);
}

/* Expected decoded value (channels 1: gray; 3: RGB) of the pattern image. */
static inline void tw_expected(int color_type, int bd, int x, int y, int oc, float *out)
{
    float maxv = (float)((1u << bd) - 1u);
    float v[4];
    if (color_type == PNG_COLOR_TYPE_PALETTE) {
        png_color c = tw_palette_entry((int)tw_sample(x, y, 0, bd));
        v[0] = (float)c.red / 255.0f;
        v[1] = (float)c.green / 255.0f;
        v[2] = (float)c.blue / 255.0f;
    } else {
        for (int k = 0; k < tw_channels(color_type); ++k)
            v[k] = (float)tw_sample(x, y, k, bd) / maxv;
    }
    int rgb = color_type == PNG_COLOR_TYPE_RGB || color_type == PNG_COLOR_TYPE_RGB_ALPHA ||
              color_type == PNG_COLOR_TYPE_PALETTE;
    if (!rgb)
        v[1] = v[2] = v[0];
    if (oc == 3) {
        out[0] = v[0];
        out[1] = v[1];
        out[2] = v[2];
    } else {
        out[0] = rgb ? 0.2989f * v[0] + 0.5870f * v[1] + 0.1140f * v[2] : v[0];
    }
}

static inline void tw_write_bytes(const char *path, const void *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(data, 1, n, f), n);
    ck_assert_int_eq(fclose(f), 0);
}

static inline unsigned char *tw_read_bytes(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *p = malloc((size_t)len + 1);
    ck_assert_ptr_nonnull(p);
    ck_assert_uint_eq(fread(p, 1, (size_t)len, f), (size_t)len);
    fclose(f);
    *n = (size_t)len;
    return p;
}

/* mkdtemp under $TMPDIR (or /tmp); *dir receives a malloc'd path. */
static inline char *tw_mkdtemp(void)
{
    const char *base = getenv("TMPDIR");
    if (!base || !*base)
        base = "/tmp";
    char *d = malloc(strlen(base) + 32);
    ck_assert_ptr_nonnull(d);
    sprintf(d, "%s/rp-data-XXXXXX", base);
    ck_assert_ptr_nonnull(mkdtemp(d));
    return d;
}

static inline void tw_mkdir(const char *path) { ck_assert_int_eq(mkdir(path, 0755), 0); }

/* rm -rf dir (test trees only). */
static inline void tw_rmtree(const char *dir)
{
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
}

#endif
