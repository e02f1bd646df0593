/* What the image decoders (png_decode.c, jpeg_decode.c) share: the decoded
 * image, the size limits every decoder checks from a file's header before
 * it allocates anything for the pixels, the gray weights, reusable buffers
 * and reading a whole file. */
#ifndef RP_DATA_IMAGE_COMMON_H
#define RP_DATA_IMAGE_COMMON_H

#include <stddef.h>

/* Largest accepted width or height. */
#define RP_IMAGE_MAX_DIM 16384
/* Default limit on width * height (a decoder's max_pixels 0 means this). */
#define RP_IMAGE_MAX_PIXELS (64u * 1024u * 1024u)
/* Files larger than this are rejected before reading (a 16384^2 RGBA
 * 16-bit PNG stored uncompressed is 2 GiB; nothing sensible is that big). */
#define RP_IMAGE_MAX_FILE_SIZE ((size_t)1 << 30)

/* RGB -> gray, as tf.image.rgb_to_grayscale. */
#define RP_GRAY_R 0.2989f
#define RP_GRAY_G 0.5870f
#define RP_GRAY_B 0.1140f

/* A decoded image; data points into the decoder (valid until its next use). */
typedef struct rp_image {
    int width, height, channels;
    const float *data;     /* row-major, interleaved channels */
} rp_image;

/* Make *buf hold at least need bytes (doubling, contents kept).
 * 0, or -1 when out of memory (*buf unchanged). */
int rp_buffer_grow(void **buf, size_t *cap, size_t need);

/* The header's width x height against the limits (max_pixels 0: the
 * default). 0 when accepted; otherwise REPTILE_EFORMAT with "image too
 * large (WxH; limits ...)" (or "has no pixels") written to msg. */
int rp_image_check_size(unsigned long width, unsigned long height, size_t max_pixels, char *msg,
                        size_t msg_size);

/* What every decoder's *_decode_memory checks first: dec, data (unless
 * size is 0) and out not NULL, channels 1 or 3 (EINVAL), and that data
 * starts with the format's magic bytes: EFORMAT "NAME: not a FORMAT file",
 * or "NAME: truncated FORMAT (file ends after N bytes)" when all of data is
 * a beginning of them. 0 when the decoder may go on. */
int rp_image_check_input(const void *dec, const void *data, size_t size, const char *name, int channels,
                         const void *out, const unsigned char *magic, size_t magic_size, const char *format);

/* Read the whole regular file path into *buf (grown as needed; one spare
 * byte); *size receives its length. Errors (named after path): ENOTFOUND,
 * EIO (unreadable, not a regular file), EFORMAT (larger than
 * RP_IMAGE_MAX_FILE_SIZE), ENOMEM. */
int rp_read_file(const char *path, unsigned char **buf, size_t *cap, size_t *size);

#endif
