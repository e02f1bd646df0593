#include "core/finite.h"
#include "core/simd.h"

#include <stdint.h>
#include <string.h>

RP_SIMD_LOOP int all_finite_loop(const float *x, size_t n)
{
    uint32_t bad = 0;
    for (size_t i = 0; i < n; ++i) {
        uint32_t u;
        memcpy(&u, &x[i], sizeof u);
        bad |= (uint32_t)((u & 0x7f800000u) == 0x7f800000u);
    }
    return bad == 0;
}

RP_SIMD_VARIANTS_RET(int, all_finite, (const float *x, size_t n), (x, n))

int rp_all_finite(const float *x, size_t n)
{
    return RP_SIMD_CALL(all_finite, (x, n));
}
