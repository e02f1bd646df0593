#include "nn/colsum.h"
#include "core/simd.h"

/* Columns per tile: 64 doubles = 8 AVX-512 registers, fixed so no VLA. */
enum { TILE = 64 };

RP_SIMD_LOOP void colsum_loop(size_t rows, int cols, const float *a, float *out)
{
    for (int c0 = 0; c0 < cols; c0 += TILE) {
        int cw = cols - c0 < TILE ? cols - c0 : TILE;
        double acc[TILE] = {0};
        for (size_t r = 0; r < rows; ++r) {
            const float *row = a + r * (size_t)cols + c0;
            for (int c = 0; c < cw; ++c)
                acc[c] += row[c];
        }
        for (int c = 0; c < cw; ++c)
            out[c0 + c] = (float)acc[c];
    }
}

RP_SIMD_VARIANTS(colsum, (size_t rows, int cols, const float *a, float *out),
                 (rows, cols, a, out))

void rp_colsum(size_t rows, int cols, const float *a, float *out)
{
    RP_SIMD_CALL(colsum, (rows, cols, a, out));
}
