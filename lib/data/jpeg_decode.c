/* JPEG decoding with libjpeg-turbo, from memory.
 *
 * libjpeg's default error handler calls exit(), and its default message
 * handler counts warnings and goes on: a truncated file then decodes with
 * its missing part filled grey. Both are replaced: errors and warnings
 * alike longjmp() back to decode_core() with a message. Two warnings that
 * leave every pixel as the file's encoder meant are ignored: an unknown
 * JFIF revision (metadata) and stray bytes between two segments, which
 * libjpeg skips to the next marker (some encoders write them; photograph
 * collections such as ImageNet have such files, and TensorFlow and PIL
 * open them). As in
 * png_decode.c, the error branch of decode_core() reads nothing but ctx
 * and cinfo, both set before setjmp() and never changed afterwards, and
 * everything it needs lives in the jpeg_ctx outside its frame (no
 * volatile needed); the decompressor is destroyed on both paths and every
 * buffer belongs to the decoder, so nothing leaks. */
#include "data/jpeg_decode.h"

#include "core/error_internal.h"

#include <limits.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* jpeglib.h needs size_t and FILE declared first. */
#include <jpeglib.h>
#include <jerror.h>

typedef struct jpeg_ctx {
    struct jpeg_error_mgr err;       /* first: libjpeg hands back a pointer to it */
    struct jpeg_progress_mgr progress;
    struct jpeg_decompress_struct cinfo;
    jmp_buf jmp;
    size_t size;                     /* bytes of input, for messages */
    char msg[256];
    int code;                        /* REPTILE_E* to report when msg is set */
} jpeg_ctx;

static void set_libjpeg_message(jpeg_ctx *ctx, j_common_ptr cinfo)
{
    char text[JMSG_LENGTH_MAX];
    cinfo->err->format_message(cinfo, text);
    if (cinfo->err->msg_code == JWRN_JPEG_EOF) {
        ctx->code = REPTILE_EFORMAT;
        snprintf(ctx->msg, sizeof ctx->msg, "truncated JPEG (file ends after %zu bytes)", ctx->size);
    } else if (cinfo->err->msg_code == JERR_OUT_OF_MEMORY) {
        ctx->code = REPTILE_ENOMEM;
        snprintf(ctx->msg, sizeof ctx->msg, "out of memory decoding the JPEG (%s)", text);
    } else {
        ctx->code = REPTILE_EFORMAT;
        snprintf(ctx->msg, sizeof ctx->msg, "corrupt or unsupported JPEG (%s)", text);
    }
}

static void on_jpeg_error(j_common_ptr cinfo)
{
    jpeg_ctx *ctx = (jpeg_ctx *)cinfo->err;
    if (ctx->code == 0)
        set_libjpeg_message(ctx, cinfo);
    longjmp(ctx->jmp, 1);
}

/* Levels >= 0 are trace messages (never shown); -1 is a warning: damaged
 * data libjpeg would paper over, but for the two harmless ones. */
static void on_jpeg_message(j_common_ptr cinfo, int level)
{
    const int code = cinfo->err->msg_code;
    if (level >= 0 || code == JWRN_JFIF_MAJOR || code == JWRN_EXTRANEOUS_DATA)
        return;
    on_jpeg_error(cinfo);
}

static void on_jpeg_progress(j_common_ptr cinfo)
{
    j_decompress_ptr d = (j_decompress_ptr)cinfo;
    jpeg_ctx *ctx = (jpeg_ctx *)cinfo->err;
    if (d->input_scan_number > RP_JPEG_MAX_SCANS) {
        ctx->code = REPTILE_EFORMAT;
        snprintf(ctx->msg, sizeof ctx->msg, "corrupt or unsupported JPEG (more than %d scans)",
                 RP_JPEG_MAX_SCANS);
        longjmp(ctx->jmp, 1);
    }
}

const unsigned char rp_jpeg_magic[3] = {0xFF, 0xD8, 0xFF};

void rp_jpeg_decoder_init(rp_jpeg_decoder *dec) { memset(dec, 0, sizeof *dec); }

void rp_jpeg_decoder_free(rp_jpeg_decoder *dec)
{
    if (!dec)
        return;
    free(dec->row);
    free(dec->pixels);
    memset(dec, 0, sizeof *dec);
}

static const char *color_space_name(J_COLOR_SPACE cs)
{
    switch (cs) {
    case JCS_GRAYSCALE: return "grayscale";
    case JCS_RGB: return "RGB";
    case JCS_YCbCr: return "YCbCr";
    case JCS_CMYK: return "CMYK";
    case JCS_YCCK: return "YCCK";
    default: return "unknown";
    }
}

/* One scanline of sc samples per pixel (1 gray, 3 RGB, 4 CMYK) to oc floats. */
static void convert_row(const unsigned char *r, int w, int sc, int adobe, int oc, float *o)
{
    for (int x = 0; x < w; ++x) {
        const unsigned char *p = r + (size_t)x * sc;
        float v[3];
        if (sc == 1) {
            v[0] = v[1] = v[2] = (float)p[0] / 255.0f;
        } else if (sc == 3) {
            for (int k = 0; k < 3; ++k)
                v[k] = (float)p[k] / 255.0f;
        } else { /* tf.io.decode_jpeg's CMYK -> RGB */
            int k = p[3];
            for (int j = 0; j < 3; ++j)
                v[j] = (float)(adobe ? k * p[j] / 255 : (255 - k) * (255 - p[j]) / 255) / 255.0f;
        }
        if (oc == 3) {
            o[3 * x] = v[0];
            o[3 * x + 1] = v[1];
            o[3 * x + 2] = v[2];
        } else {
            o[x] = sc == 1 ? v[0] : RP_GRAY_R * v[0] + RP_GRAY_G * v[1] + RP_GRAY_B * v[2];
        }
    }
}

/* Runs libjpeg; returns 0 or a REPTILE_E* code with ctx->msg set. */
static int decode_core(rp_jpeg_decoder *dec, jpeg_ctx *ctx, const unsigned char *data, int oc,
                       rp_image *out)
{
    j_decompress_ptr cinfo = &ctx->cinfo;
    memset(cinfo, 0, sizeof *cinfo); /* destroying a half-created one is then safe */
    cinfo->err = jpeg_std_error(&ctx->err);
    ctx->err.error_exit = on_jpeg_error;
    ctx->err.emit_message = on_jpeg_message;
    ctx->progress.progress_monitor = on_jpeg_progress;
    if (setjmp(ctx->jmp)) {
        jpeg_destroy_decompress(cinfo);
        return ctx->code ? ctx->code : REPTILE_EFORMAT;
    }
    jpeg_create_decompress(cinfo);
    cinfo->progress = &ctx->progress;
    jpeg_mem_src(cinfo, data, (unsigned long)ctx->size);
    jpeg_read_header(cinfo, TRUE);

    /* The limits, before libjpeg sizes its buffers or we ours. */
    ctx->code = rp_image_check_size(cinfo->image_width, cinfo->image_height, dec->max_pixels, ctx->msg,
                                    sizeof ctx->msg);
    if (ctx->code)
        longjmp(ctx->jmp, 1);
    switch (cinfo->jpeg_color_space) {
    case JCS_GRAYSCALE: cinfo->out_color_space = JCS_GRAYSCALE; break;
    case JCS_RGB:
    case JCS_YCbCr: cinfo->out_color_space = JCS_RGB; break;
    case JCS_CMYK:
    case JCS_YCCK: cinfo->out_color_space = JCS_CMYK; break;
    default:
        ctx->code = REPTILE_EFORMAT;
        snprintf(ctx->msg, sizeof ctx->msg, "unsupported JPEG colour space (%s, %d components)",
                 color_space_name(cinfo->jpeg_color_space), cinfo->num_components);
        longjmp(ctx->jmp, 1);
    }
    cinfo->dct_method = JDCT_ISLOW;
    jpeg_start_decompress(cinfo);

    const int w = (int)cinfo->output_width, h = (int)cinfo->output_height;
    const int sc = cinfo->output_components;
    const int adobe = cinfo->saw_Adobe_marker != 0;
    if (sc != 1 && sc != 3 && sc != 4) { /* cannot happen with the spaces above */
        ctx->code = REPTILE_EFORMAT;
        snprintf(ctx->msg, sizeof ctx->msg, "unsupported JPEG output (%d components)", sc);
        longjmp(ctx->jmp, 1);
    }
    if (rp_buffer_grow((void **)&dec->row, &dec->row_cap, (size_t)w * (size_t)sc) ||
        rp_buffer_grow((void **)&dec->pixels, &dec->pixels_cap, sizeof(float) * (size_t)w * (size_t)h * (size_t)oc)) {
        ctx->code = REPTILE_ENOMEM;
        snprintf(ctx->msg, sizeof ctx->msg, "out of memory for a %dx%d image", w, h);
        longjmp(ctx->jmp, 1);
    }
    JSAMPROW row = dec->row;
    while (cinfo->output_scanline < cinfo->output_height) {
        int y = (int)cinfo->output_scanline;
        if (jpeg_read_scanlines(cinfo, &row, 1) != 1) { /* only a suspending source does this */
            ctx->code = REPTILE_EFORMAT;
            snprintf(ctx->msg, sizeof ctx->msg, "truncated JPEG (file ends after %zu bytes)", ctx->size);
            longjmp(ctx->jmp, 1);
        }
        convert_row(dec->row, w, sc, adobe, oc, dec->pixels + (size_t)y * (size_t)w * (size_t)oc);
    }
    jpeg_finish_decompress(cinfo); /* reads up to EOI: a missing end is truncation */
    jpeg_destroy_decompress(cinfo);

    out->width = w;
    out->height = h;
    out->channels = oc;
    out->data = dec->pixels;
    return 0;
}

int rp_jpeg_decode_memory(rp_jpeg_decoder *dec, const void *data, size_t size, const char *name,
                          int channels, rp_image *out)
{
    if (!name)
        name = "<memory>";
    int rc = rp_image_check_input(dec, data, size, name, channels, out, rp_jpeg_magic, sizeof rp_jpeg_magic,
                                  "JPEG");
    if (rc)
        return rc;
#if SIZE_MAX > ULONG_MAX
    if (size > ULONG_MAX)
        return rp_error(REPTILE_EFORMAT, "%s: file too large (%zu bytes)", name, size);
#endif
    jpeg_ctx ctx;
    ctx.size = size;
    ctx.msg[0] = '\0';
    ctx.code = 0;
    rc = decode_core(dec, &ctx, (const unsigned char *)data, channels, out);
    if (rc)
        return rp_error(rc, "%s: %s", name, ctx.msg[0] ? ctx.msg : "corrupt JPEG");
    return 0;
}
