/* Buffers, size limits and file reading shared by the image decoders. */
#include "data/image_common.h"

#include "core/error_internal.h"
#include "core/regular_file.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int rp_buffer_grow(void **buf, size_t *cap, size_t need)
{
    if (need <= *cap)
        return 0;
    size_t n = *cap ? *cap : 4096;
    while (n < need)
        n = n > SIZE_MAX / 2 ? need : n * 2;
    void *p = realloc(*buf, n);
    if (!p)
        return -1;
    *buf = p;
    *cap = n;
    return 0;
}

int rp_image_check_size(unsigned long width, unsigned long height, size_t max_pixels, char *msg,
                        size_t msg_size)
{
    if (max_pixels == 0)
        max_pixels = RP_IMAGE_MAX_PIXELS;
    if (width == 0 || height == 0) {
        snprintf(msg, msg_size, "image has no pixels (%lux%lu)", width, height);
        return REPTILE_EFORMAT;
    }
    if (width > RP_IMAGE_MAX_DIM || height > RP_IMAGE_MAX_DIM ||
        (unsigned long long)width * height > (unsigned long long)max_pixels) {
        snprintf(msg, msg_size, "image too large (%lux%lu; limits %d per side, %zu pixels)", width, height,
                 RP_IMAGE_MAX_DIM, max_pixels);
        return REPTILE_EFORMAT;
    }
    return 0;
}

int rp_image_check_input(const void *dec, const void *data, size_t size, const char *name, int channels,
                         const void *out, const unsigned char *magic, size_t magic_size, const char *format)
{
    if (!dec || !out || (!data && size))
        return rp_error(REPTILE_EINVAL, "%s: decoder, data and output must not be NULL", name);
    if (channels != 1 && channels != 3)
        return rp_error(REPTILE_EINVAL, "%s: channels must be 1 or 3, got %d", name, channels);
    if (size < magic_size) {
        if (size > 0 && memcmp(data, magic, size) == 0)
            return rp_error(REPTILE_EFORMAT, "%s: truncated %s (file ends after %zu bytes)", name, format, size);
        return rp_error(REPTILE_EFORMAT, "%s: not a %s file", name, format);
    }
    if (memcmp(data, magic, magic_size) != 0)
        return rp_error(REPTILE_EFORMAT, "%s: not a %s file", name, format);
    return 0;
}

int rp_read_file(const char *path, unsigned char **buf, size_t *cap, size_t *size)
{
    int fd;
    struct stat st;
    int rc = rp_open_regular(path, &fd, &st);
    if (rc)
        return rc;
    if ((unsigned long long)st.st_size > RP_IMAGE_MAX_FILE_SIZE) {
        close(fd);
        return rp_error(REPTILE_EFORMAT, "%s: file too large (%lld bytes)", path, (long long)st.st_size);
    }
    size_t n = (size_t)st.st_size;
    if (rp_buffer_grow((void **)buf, cap, n + 1)) {
        close(fd);
        return rp_error(REPTILE_ENOMEM, "%s: out of memory reading %zu bytes", path, n);
    }
    size_t got = 0;
    while (got < n) {
        ssize_t r = read(fd, *buf + got, n - got);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            int e = errno;
            close(fd);
            return rp_error(REPTILE_EIO, "%s: read error (%s)", path, strerror(e));
        }
        if (r == 0)
            break; /* file shrank: decode what is there, it reports truncation */
        got += (size_t)r;
    }
    close(fd);
    *size = got;
    return 0;
}
