#ifndef RP_CORE_FINITE_H
#define RP_CORE_FINITE_H

#include <stddef.h>

/* 1 when no element is NaN or Inf. Tests exponent bits as integers so the
 * loop vectorises (a float sum would serialise on its rounding order). */
int rp_all_finite(const float *x, size_t n);

#endif
