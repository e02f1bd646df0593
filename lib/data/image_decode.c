/* Format detection by magic bytes and dispatch to the PNG or JPEG decoder. */
#include "data/image_decode.h"

#include "core/error_internal.h"

#include <stdlib.h>
#include <string.h>

void rp_image_decoder_init(rp_image_decoder *dec)
{
    memset(dec, 0, sizeof *dec);
    rp_png_decoder_init(&dec->png);
    rp_jpeg_decoder_init(&dec->jpeg);
}

void rp_image_decoder_free(rp_image_decoder *dec)
{
    if (!dec)
        return;
    rp_png_decoder_free(&dec->png);
    rp_jpeg_decoder_free(&dec->jpeg);
    free(dec->file);
    memset(dec, 0, sizeof *dec);
}

static int starts_with(const void *data, size_t size, const unsigned char *magic, size_t n)
{
    return size > 0 && memcmp(data, magic, size < n ? size : n) == 0;
}

int rp_image_format(const void *data, size_t size)
{
    if (!data)
        return RP_IMAGE_UNKNOWN;
    if (starts_with(data, size, rp_png_signature, sizeof rp_png_signature))
        return RP_IMAGE_PNG;
    if (starts_with(data, size, rp_jpeg_magic, sizeof rp_jpeg_magic))
        return RP_IMAGE_JPEG;
    return RP_IMAGE_UNKNOWN;
}

int rp_image_decode_memory(rp_image_decoder *dec, const void *data, size_t size, const char *name,
                           int channels, rp_image *out)
{
    if (!name)
        name = "<memory>";
    if (!dec)
        return rp_error(REPTILE_EINVAL, "%s: decoder must not be NULL", name);
    if (channels != 1 && channels != 3)
        return rp_error(REPTILE_EINVAL, "%s: channels must be 1 or 3, got %d", name, channels);
    switch (rp_image_format(data, size)) {
    case RP_IMAGE_PNG:
        dec->png.max_pixels = dec->max_pixels;
        return rp_png_decode_memory(&dec->png, data, size, name, channels, out);
    case RP_IMAGE_JPEG:
        dec->jpeg.max_pixels = dec->max_pixels;
        return rp_jpeg_decode_memory(&dec->jpeg, data, size, name, channels, out);
    default:
        if (!out || (!data && size))
            return rp_error(REPTILE_EINVAL, "%s: data and output must not be NULL", name);
        return rp_error(REPTILE_EFORMAT, "%s: not a PNG or JPEG file%s", name, size ? "" : " (empty)");
    }
}

int rp_image_decode_file(rp_image_decoder *dec, const char *path, int channels, rp_image *out)
{
    if (!dec || !path || !out)
        return rp_error(REPTILE_EINVAL, "rp_image_decode_file: NULL argument");
    size_t n = 0;
    int rc = rp_read_file(path, &dec->file, &dec->file_cap, &n);
    if (rc)
        return rc;
    return rp_image_decode_memory(dec, dec->file, n, path, channels, out);
}
