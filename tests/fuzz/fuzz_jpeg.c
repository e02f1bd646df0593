/* libFuzzer target for the JPEG decoder (lib/data/jpeg_decode.c) behind the
 * format dispatch the loaders use (lib/data/image_decode.c).
 * Build: CC=clang meson setup build-fuzz -Dfuzz=true; run:
 *   build-fuzz/tests/fuzz/fuzz-jpeg -max_len=65536 CORPUS_DIR
 * seeded with tests/fuzz/corpus-jpeg (tiny gray, 4:2:0, progressive, CMYK,
 * YCCK, arithmetic-coded and restart-marker JPEGs). Inputs that do not
 * start with FF D8 FF are turned into ones that do, so no run is spent on
 * the magic-byte check. */
#include "data/image_decode.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static rp_image_decoder dec; /* reused, as the loaders do */
    dec.max_pixels = (size_t)1 << 22; /* keep single inputs small */
    const uint8_t *in = data;
    uint8_t *copy = NULL;
    if (size >= 3 && (data[0] != 0xFF || data[1] != 0xD8 || data[2] != 0xFF)) {
        copy = malloc(size);
        if (!copy)
            return 0;
        memcpy(copy, data, size);
        copy[0] = 0xFF;
        copy[1] = 0xD8;
        copy[2] = 0xFF;
        in = copy;
    }
    for (int channels = 1; channels <= 3; channels += 2) {
        rp_image img;
        if (rp_image_decode_memory(&dec, in, size, "fuzz", channels, &img) == 0) {
            /* Touch every pixel so sanitizers see any bad write. */
            volatile float sum = 0.0f;
            for (size_t i = 0; i < (size_t)img.width * img.height * img.channels; ++i)
                sum += img.data[i];
            (void)sum;
        }
    }
    free(copy);
    return 0;
}
