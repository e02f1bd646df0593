/* Strict decimal parsing (see decimal.h). Not strtoull: that skips white
 * space, takes a sign (and negates "-1" into UINT64_MAX) and depends on
 * errno for overflow. */
#include "core/decimal.h"

#include <stddef.h>

int rp_parse_decimal(const char *s, uint64_t max, uint64_t *out)
{
    if (!s || !*s)
        return -1;
    uint64_t v = 0;
    for (; *s; ++s) {
        if (*s < '0' || *s > '9')
            return -1;
        unsigned d = (unsigned)(*s - '0');
        if (d > max || v > (max - d) / 10) /* v * 10 + d > max */
            return -1;
        v = v * 10 + d;
    }
    *out = v;
    return 0;
}
