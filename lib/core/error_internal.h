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

/* Size of the message buffer, with its NUL: longer messages are truncated. */
#define RP_ERROR_MAX 1024

int rp_error(int code, const char *fmt, ...) RP_PRINTF(2, 3);

/* An error is re-raised in one of two ways, nothing else.
 *
 * On the same thread: prefix the current message with more context
 * ("loading x.png: " + old) under `code`, which may differ from the old one
 * (a bad tensor -> REPTILE_EFORMAT). */
int rp_error_wrap(int code, const char *fmt, ...) RP_PRINTF(2, 3);

/* From a worker thread to the one that reports it (each thread has its own
 * reptile_error_last()): the worker saves, the caller raises. code 0:
 * nothing saved. */
typedef struct rp_error_saved {
    int code;
    char message[RP_ERROR_MAX];
} rp_error_saved;

/* Saves `code` with this thread's current message. */
void rp_error_save(rp_error_saved *saved, int code);

/* Raises the saved error on the calling thread; returns its code. */
int rp_error_raise(const rp_error_saved *saved);

#endif
