/* The one parser for decimal numbers written as text in checkpoint
 * metadata (format_version, the uint64 options such as the seed). */
#ifndef RP_CORE_DECIMAL_H
#define RP_CORE_DECIMAL_H

#include <stdint.h>

/* Strict unsigned decimal: one or more ASCII digits and nothing else (no
 * sign, space, "0x" or trailing characters; leading zeros are allowed) with
 * a value in [0, max]. 0 with *out set; -1 for NULL, malformed or out of
 * range, *out untouched. */
int rp_parse_decimal(const char *s, uint64_t max, uint64_t *out);

#endif
