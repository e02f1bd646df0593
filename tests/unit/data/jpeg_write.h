/* Test helpers: write JPEG files with libjpeg's compressor from a generated
 * sample pattern (gray, RGB or CMYK; baseline or progressive; chroma
 * subsampled or not), and patch a JPEG's frame header. */
#ifndef RP_TEST_JPEG_WRITE_H
#define RP_TEST_JPEG_WRITE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>

/* Sample k (0..components-1) of pixel (x, y), 0..255. */
typedef int (*tj_get_fn)(int x, int y, int k, const void *user);

typedef struct tj_options {
    int components;        /* 1 gray, 3 RGB, 4 CMYK, 2 no colour space (default 3) */
    int quality;           /* 1..100 (default 95) */
    int progressive;       /* non-zero: a progressive scan script */
    int subsample;         /* non-zero: libjpeg's default 4:2:0 chroma; 0: 4:4:4 */
    int ycck;              /* CMYK input stored as YCCK */
    int no_adobe;          /* CMYK without the Adobe marker (plain, non-inverted CMYK) */
} tj_options;

/* The encoded bytes (malloc'd, free() them) in *out, their count in *size. */
static inline void tj_encode(unsigned char **out, size_t *size, int w, int h, const tj_options *opt,
                             tj_get_fn get, const void *user)
{
    struct jpeg_compress_struct c;
    struct jpeg_error_mgr err;
    c.err = jpeg_std_error(&err);
    jpeg_create_compress(&c);
    unsigned char *buf = NULL;
    unsigned long n = 0;
    jpeg_mem_dest(&c, &buf, &n);
    int comps = opt && opt->components ? opt->components : 3;
    c.image_width = (JDIMENSION)w;
    c.image_height = (JDIMENSION)h;
    c.input_components = comps;
    c.in_color_space = comps == 1 ? JCS_GRAYSCALE : comps == 2 ? JCS_UNKNOWN : comps == 3 ? JCS_RGB : JCS_CMYK;
    jpeg_set_defaults(&c);
    if (comps == 4 && opt && opt->ycck)
        jpeg_set_colorspace(&c, JCS_YCCK);
    if (comps == 4 && opt && opt->no_adobe)
        c.write_Adobe_marker = FALSE;
    jpeg_set_quality(&c, opt && opt->quality ? opt->quality : 95, TRUE);
    if (!(opt && opt->subsample))
        for (int i = 0; i < c.num_components; ++i)
            c.comp_info[i].h_samp_factor = c.comp_info[i].v_samp_factor = 1;
    if (opt && opt->progressive)
        jpeg_simple_progression(&c);
    jpeg_start_compress(&c, TRUE);
    unsigned char *row = malloc((size_t)w * comps);
    while (c.next_scanline < c.image_height) {
        int y = (int)c.next_scanline;
        for (int x = 0; x < w; ++x)
            for (int k = 0; k < comps; ++k)
                row[(size_t)x * comps + k] = (unsigned char)get(x, y, k, user);
        JSAMPROW r = row;
        jpeg_write_scanlines(&c, &r, 1);
    }
    jpeg_finish_compress(&c);
    jpeg_destroy_compress(&c);
    free(row);
    *out = buf;
    *size = n;
}

static inline int tj_write_jpeg(const char *path, int w, int h, const tj_options *opt, tj_get_fn get,
                                const void *user)
{
    unsigned char *buf;
    size_t n;
    tj_encode(&buf, &n, w, h, opt, get, user);
    FILE *f = fopen(path, "wb");
    int ok = f && fwrite(buf, 1, n, f) == n;
    if (f)
        ok &= fclose(f) == 0;
    free(buf);
    return ok ? 0 : -1;
}

/* Offset of the frame header (SOF0/1/2) marker in a JPEG, or 0. The height
 * is at +5, the width at +7 (big-endian), the precision at +4. */
static inline size_t tj_find_sof(const unsigned char *p, size_t n)
{
    for (size_t i = 2; i + 9 < n;) {
        if (p[i] != 0xFF)
            return 0;
        unsigned m = p[i + 1];
        if (m == 0xC0 || m == 0xC1 || m == 0xC2)
            return i;
        i += 2 + (((size_t)p[i + 2] << 8) | p[i + 3]);
    }
    return 0;
}

/* Offset of the nth (0, 1, ...) marker FF m in a JPEG, or 0. Entropy-coded
 * data stuffs every FF data byte as FF 00, so a scan of the bytes finds
 * only real markers. */
static inline size_t tj_find_marker(const unsigned char *p, size_t n, unsigned m, int nth)
{
    for (size_t i = 0; i + 1 < n; ++i)
        if (p[i] == 0xFF && p[i + 1] == m && nth-- == 0)
            return i;
    return 0;
}

/* Generators: a flat colour (user: int[4]) and smooth gradients. */
static inline int tj_flat(int x, int y, int k, const void *user)
{
    (void)x;
    (void)y;
    return ((const int *)user)[k];
}

/* Smooth in both directions, different per channel; user: int[2] = {w, h}. */
static inline int tj_gradient(int x, int y, int k, const void *user)
{
    const int *wh = user;
    int gx = x * 255 / (wh[0] - 1), gy = y * 255 / (wh[1] - 1);
    switch (k) {
    case 0: return gx;
    case 1: return gy;
    case 2: return (gx + gy) / 2;
    default: return 40;
    }
}

#endif
