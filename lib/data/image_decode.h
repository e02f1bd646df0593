/* Decoding an image file whatever its format: the format is told by the
 * file's first bytes (PNG signature, JPEG SOI marker), never by its name.
 * One decoder holds a PNG and a JPEG decoder and the file buffer, all
 * reused between calls. */
#ifndef RP_DATA_IMAGE_DECODE_H
#define RP_DATA_IMAGE_DECODE_H

#include "data/image_common.h"
#include "data/jpeg_decode.h"
#include "data/png_decode.h"

#include <stddef.h>

enum { RP_IMAGE_UNKNOWN = 0, RP_IMAGE_PNG = 1, RP_IMAGE_JPEG = 2 };

typedef struct rp_image_decoder {
    rp_png_decoder png;
    rp_jpeg_decoder jpeg;
    unsigned char *file;   /* bytes of the last file read */
    size_t file_cap;
    size_t max_pixels;     /* 0: RP_IMAGE_MAX_PIXELS; given to both decoders */
} rp_image_decoder;

void rp_image_decoder_init(rp_image_decoder *dec);
void rp_image_decoder_free(rp_image_decoder *dec);

/* RP_IMAGE_PNG or RP_IMAGE_JPEG when data starts with that format's magic
 * bytes (or, shorter than them, with their beginning: a truncated file of
 * that format), else RP_IMAGE_UNKNOWN. */
int rp_image_format(const void *data, size_t size);

/* Decode PNG or JPEG bytes as rp_png_decode_memory / rp_jpeg_decode_memory
 * do (channels 1 or 3, floats in [0, 1]). Anything else: REPTILE_EFORMAT
 * "NAME: not a PNG or JPEG file". */
int rp_image_decode_memory(rp_image_decoder *dec, const void *data, size_t size, const char *name,
                           int channels, rp_image *out);

/* Read path whole and decode it. Errors as above plus those of
 * rp_read_file (ENOTFOUND, EIO, ...), all naming path. */
int rp_image_decode_file(rp_image_decoder *dec, const char *path, int channels, rp_image *out);

#endif
