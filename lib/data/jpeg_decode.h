/* JPEG decoding (libjpeg-turbo) to float pixels in [0, 1], with the PNG
 * decoder's contract (png_decode.h): channels 1 or 3, buffers reused
 * between calls, the size limits of image_common.h checked from the header
 * before anything is allocated for the pixels. */
#ifndef RP_DATA_JPEG_DECODE_H
#define RP_DATA_JPEG_DECODE_H

#include "data/image_common.h"

#include <stddef.h>

/* Scans a progressive JPEG may have; more is refused (libjpeg-turbo's
 * TurboJPEG API uses the same bound against inputs crafted to take
 * seconds per kilobyte). */
#define RP_JPEG_MAX_SCANS 500

/* SOI and the first byte of the next marker: how every JPEG starts. */
extern const unsigned char rp_jpeg_magic[3];

typedef struct rp_jpeg_decoder {
    unsigned char *row;    /* one decoded scanline, as libjpeg delivers it */
    size_t row_cap;
    float *pixels;         /* result, height * width * channels */
    size_t pixels_cap;
    size_t max_pixels;     /* 0: RP_IMAGE_MAX_PIXELS */
} rp_jpeg_decoder;

void rp_jpeg_decoder_init(rp_jpeg_decoder *dec);
void rp_jpeg_decoder_free(rp_jpeg_decoder *dec);

/* Decode a JPEG (baseline, extended or progressive; Huffman or arithmetic)
 * held in memory. channels 1: gray sources as they are, colour sources
 * decoded to RGB then 0.2989 R + 0.5870 G + 0.1140 B; channels 3: RGB, gray
 * replicated. CMYK and YCCK sources are converted to RGB as TensorFlow's
 * decode_jpeg does (Adobe-inverted: R = C K / 255, else
 * R = (255 - C)(255 - K) / 255, integer division). Values: sample / 255.
 * Every libjpeg warning about the data is an error: a truncated or
 * corrupt file never decodes to filler grey. name is used in messages.
 * Errors: EINVAL; EFORMAT "not a JPEG file", "truncated JPEG", "corrupt
 * JPEG (libjpeg's message)", "image too large", "unsupported JPEG colour
 * space"; ENOMEM. */
int rp_jpeg_decode_memory(rp_jpeg_decoder *dec, const void *data, size_t size, const char *name,
                          int channels, rp_image *out);

#endif
