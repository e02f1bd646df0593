/* PNG decoding with libpng, from memory (image_decode.c reads files).
 *
 * libpng reports errors by longjmp()ing out of its calls. The setjmp() lives
 * in decode_core(), whose locals are all assigned before setjmp() and never
 * changed afterwards; everything the error path needs (the message, the
 * buffers) lives in objects outside that frame, so no volatile is needed and
 * nothing allocated by the decode can leak: png/info structs are destroyed on
 * both paths and every buffer belongs to the decoder. */
#include "data/png_decode.h"

#include "core/error_internal.h"

#include <png.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct png_ctx {
    const unsigned char *data;
    size_t size, pos;
    char msg[256];
    int code;           /* REPTILE_E* to report when msg is set */
} png_ctx;

static void on_png_error(png_structp png, png_const_charp msg)
{
    png_ctx *ctx = (png_ctx *)png_get_error_ptr(png);
    if (ctx->code == 0) {
        ctx->code = REPTILE_EFORMAT;
        snprintf(ctx->msg, sizeof ctx->msg, "corrupt PNG (%s)", msg ? msg : "unknown libpng error");
    }
    png_longjmp(png, 1);
}

static void on_png_warning(png_structp png, png_const_charp msg)
{
    (void)png;
    (void)msg; /* the library never prints; benign problems are ignored */
}

static void on_png_read(png_structp png, png_bytep dst, size_t n)
{
    png_ctx *ctx = (png_ctx *)png_get_io_ptr(png);
    if (n > ctx->size - ctx->pos) {
        ctx->code = REPTILE_EFORMAT;
        snprintf(ctx->msg, sizeof ctx->msg, "truncated PNG (file ends after %zu bytes)", ctx->size);
        png_error(png, "truncated");
    }
    memcpy(dst, ctx->data + ctx->pos, n);
    ctx->pos += n;
}

const unsigned char rp_png_signature[8] = {137, 80, 78, 71, 13, 10, 26, 10};

void rp_png_decoder_init(rp_png_decoder *dec) { memset(dec, 0, sizeof *dec); }

void rp_png_decoder_free(rp_png_decoder *dec)
{
    if (!dec)
        return;
    free(dec->rows);
    free(dec->pixels);
    free(dec->row_ptrs);
    memset(dec, 0, sizeof *dec);
}

/* Convert decoded rows (sc source channels of depth bd: 1, 8 or 16) to floats. */
static void convert_rows(unsigned char *const *rows, int w, int h, int sc, int bd, int oc, float *out)
{
    for (int y = 0; y < h; ++y) {
        const unsigned char *r = rows[y];
        float *o = out + (size_t)y * (size_t)w * (size_t)oc;
        if (bd == 1) { /* 1-bit gray, packed MSB first */
            if (oc == 1) { /* Omniglot's format: whole bytes first */
                int x = 0;
                for (; x + 8 <= w; x += 8) {
                    unsigned b = r[x >> 3];
                    for (int j = 0; j < 8; ++j)
                        o[x + j] = (float)((b >> (7 - j)) & 1u);
                }
                for (; x < w; ++x)
                    o[x] = (float)((r[x >> 3] >> (7 - (x & 7))) & 1);
            } else {
                for (int x = 0; x < w; ++x) {
                    float v = (float)((r[x >> 3] >> (7 - (x & 7))) & 1);
                    o[3 * x] = o[3 * x + 1] = o[3 * x + 2] = v;
                }
            }
            continue;
        }
        for (int x = 0; x < w; ++x) {
            float v[4];
            if (bd == 8) {
                for (int k = 0; k < sc; ++k)
                    v[k] = (float)r[x * sc + k] / 255.0f;
            } else {
                for (int k = 0; k < sc; ++k) {
                    const unsigned char *p = r + 2 * (x * sc + k);
                    v[k] = (float)((p[0] << 8) | p[1]) / 65535.0f;
                }
            }
            if (sc <= 2) { /* gray (+ alpha, dropped) */
                if (oc == 1)
                    o[x] = v[0];
                else
                    o[3 * x] = o[3 * x + 1] = o[3 * x + 2] = v[0];
            } else { /* RGB (+ alpha, dropped) */
                if (oc == 1) {
                    o[x] = RP_GRAY_R * v[0] + RP_GRAY_G * v[1] + RP_GRAY_B * v[2];
                } else {
                    o[3 * x] = v[0];
                    o[3 * x + 1] = v[1];
                    o[3 * x + 2] = v[2];
                }
            }
        }
    }
}

/* Runs libpng; returns 0 or a REPTILE_E* code with ctx->msg set. */
static int decode_core(rp_png_decoder *dec, png_ctx *ctx, int oc, rp_image *out)
{
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, ctx, on_png_error, on_png_warning);
    if (!png) {
        snprintf(ctx->msg, sizeof ctx->msg, "out of memory creating the PNG reader");
        return REPTILE_ENOMEM;
    }
    png_infop info = png_create_info_struct(png);
    if (!info) {
        png_destroy_read_struct(&png, NULL, NULL);
        snprintf(ctx->msg, sizeof ctx->msg, "out of memory creating the PNG reader");
        return REPTILE_ENOMEM;
    }
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_read_struct(&png, &info, NULL);
        return ctx->code ? ctx->code : REPTILE_EFORMAT;
    }
    png_set_read_fn(png, ctx, on_png_read);
    png_read_info(png, info);

    png_uint_32 w = png_get_image_width(png, info);
    png_uint_32 h = png_get_image_height(png, info);
    int bd = png_get_bit_depth(png, info);
    int ct = png_get_color_type(png, info);
    ctx->code = rp_image_check_size(w, h, dec->max_pixels, ctx->msg, sizeof ctx->msg);
    if (ctx->code)
        png_error(png, "too large");
    if (ct == PNG_COLOR_TYPE_PALETTE)
        png_set_palette_to_rgb(png);
    else if (ct == PNG_COLOR_TYPE_GRAY && bd > 1 && bd < 8)
        png_set_expand_gray_1_2_4_to_8(png);
    png_set_interlace_handling(png);
    png_read_update_info(png, info);

    int sc = png_get_channels(png, info);
    bd = png_get_bit_depth(png, info);
    size_t rowbytes = png_get_rowbytes(png, info);
    if (sc < 1 || sc > 4 || !(bd == 1 || bd == 8 || bd == 16) || (bd == 1 && sc != 1)) {
        ctx->code = REPTILE_EFORMAT;
        snprintf(ctx->msg, sizeof ctx->msg, "unsupported PNG format (%d channels, bit depth %d)", sc, bd);
        png_error(png, "unsupported");
    }
    size_t npix = (size_t)w * (size_t)h * (size_t)oc;
    if (rp_buffer_grow((void **)&dec->rows, &dec->rows_cap, rowbytes * h) ||
        rp_buffer_grow((void **)&dec->row_ptrs, &dec->row_ptrs_cap, sizeof(unsigned char *) * h) ||
        rp_buffer_grow((void **)&dec->pixels, &dec->pixels_cap, sizeof(float) * npix)) {
        ctx->code = REPTILE_ENOMEM;
        snprintf(ctx->msg, sizeof ctx->msg, "out of memory for a %lux%lu image",
                 (unsigned long)w, (unsigned long)h);
        png_error(png, "out of memory");
    }
    /* Interlaced passes write only their pixels' bits: clear the padding
     * bits of sub-byte rows so no byte is partly undefined. */
    if (png_get_interlace_type(png, info) != PNG_INTERLACE_NONE)
        memset(dec->rows, 0, rowbytes * h);
    for (png_uint_32 y = 0; y < h; ++y)
        dec->row_ptrs[y] = dec->rows + (size_t)y * rowbytes;
    png_read_image(png, dec->row_ptrs);
    png_destroy_read_struct(&png, &info, NULL);

    convert_rows(dec->row_ptrs, (int)w, (int)h, sc, bd, oc, dec->pixels);
    out->width = (int)w;
    out->height = (int)h;
    out->channels = oc;
    out->data = dec->pixels;
    return 0;
}

int rp_png_decode_memory(rp_png_decoder *dec, const void *data, size_t size,
                         const char *name, int channels, rp_image *out)
{
    if (!name)
        name = "<memory>";
    int rc = rp_image_check_input(dec, data, size, name, channels, out, rp_png_signature,
                                  sizeof rp_png_signature, "PNG");
    if (rc)
        return rc;
    png_ctx ctx;
    ctx.data = (const unsigned char *)data;
    ctx.size = size;
    ctx.pos = 0;
    ctx.msg[0] = '\0';
    ctx.code = 0;
    rc = decode_core(dec, &ctx, channels, out);
    if (rc)
        return rp_error(rc, "%s: %s", name, ctx.msg[0] ? ctx.msg : "corrupt PNG");
    return 0;
}
