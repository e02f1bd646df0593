/* libFuzzer target for the PNG decoder (lib/data/png_decode.c).
 * Build: meson setup build-fuzz -Dfuzz=true (CC=clang); run:
 *   build-fuzz/tests/fuzz/fuzz-png -max_len=65536 corpus/ */
#include "data/png_decode.h"

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static rp_png_decoder dec; /* reused, as the loaders do */
    dec.max_pixels = (size_t)1 << 22; /* keep single inputs small */
    for (int channels = 1; channels <= 3; channels += 2) {
        rp_image img;
        if (rp_png_decode_memory(&dec, data, size, "fuzz", channels, &img) == 0) {
            /* Touch every pixel so sanitizers see any bad write. */
            volatile float sum = 0.0f;
            for (size_t i = 0; i < (size_t)img.width * img.height * img.channels; ++i)
                sum += img.data[i];
            (void)sum;
        }
    }
    return 0;
}
