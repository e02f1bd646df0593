/* Internal error reporting: record a code and a formatted message for
 * reptile_error_last() and return the code, so call sites read
 *     return rp_error(REPTILE_EINVAL, "ways must be >= 2, got %d", ways);
 */
#ifndef RP_CORE_ERROR_INTERNAL_H
#define RP_CORE_ERROR_INTERNAL_H

#include "reptile/error.h"

#if defined(__GNUC__)
#  define RP_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#  define RP_PRINTF(f, a)
#endif

int rp_error(int code, const char *fmt, ...) RP_PRINTF(2, 3);

/* Prefix the current message with more context ("loading x.png: " + old). */
int rp_error_wrap(int code, const char *fmt, ...) RP_PRINTF(2, 3);

#endif
