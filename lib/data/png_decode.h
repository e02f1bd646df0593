/* PNG decoding (libpng) to float pixels in [0, 1].
 *
 * A decoder keeps its buffers between calls (rows, pixels), so
 * decoding many images of one size allocates nothing after the first. */
#ifndef RP_DATA_PNG_DECODE_H
#define RP_DATA_PNG_DECODE_H

#include "data/image_common.h"

#include <stddef.h>
#include <stdint.h>

/* The 8 bytes every PNG starts with. */
extern const unsigned char rp_png_signature[8];

typedef struct rp_png_decoder {
    unsigned char *rows;   /* decoded rows, as libpng delivers them */
    size_t rows_cap;
    float *pixels;         /* result, height * width * channels */
    size_t pixels_cap;
    unsigned char **row_ptrs;
    size_t row_ptrs_cap;
    size_t max_pixels;     /* 0: RP_IMAGE_MAX_PIXELS */
} rp_png_decoder;

void rp_png_decoder_init(rp_png_decoder *dec);
void rp_png_decoder_free(rp_png_decoder *dec);

/* Decode a PNG held in memory. channels is 1 (gray: RGB sources become
 * 0.2989 R + 0.5870 G + 0.1140 B, alpha is dropped) or 3 (RGB: gray sources
 * are replicated, alpha is dropped). Values: sample / (2^bitdepth - 1).
 * name is used in error messages. Errors: EINVAL, EFORMAT (not a PNG,
 * truncated, corrupt, too large), ENOMEM. */
int rp_png_decode_memory(rp_png_decoder *dec, const void *data, size_t size,
                         const char *name, int channels, rp_image *out);


#endif
