/**
 * @file error.h
 * @brief Error codes and the per-thread error message.
 *
 * Every fallible function returns an int: 0 (REPTILE_OK) on success or one of
 * the negative codes below. Codes are part of the ABI: a value is never
 * renumbered or reused. After a failure, reptile_error_last() on the same
 * thread describes what went wrong (which file, which argument, expected
 * versus got).
 */
#ifndef REPTILE_ERROR_H
#define REPTILE_ERROR_H

#include "reptile/common.h"

REPTILE_BEGIN_DECLS

/** Status codes returned by libreptile functions. */
enum reptile_status {
    REPTILE_OK = 0,            /**< Success. */
    REPTILE_EINVAL = -1,       /**< An argument is invalid (NULL, out of range, inconsistent). */
    REPTILE_ENOMEM = -2,       /**< A memory allocation failed. */
    REPTILE_EIO = -3,          /**< A file could not be opened, read or written. */
    REPTILE_EFORMAT = -4,      /**< A file's contents are malformed (not PNG, truncated, ...). */
    REPTILE_ENOTFOUND = -5,    /**< A file, folder, class or preset does not exist. */
    REPTILE_ESHAPE = -6,       /**< Tensor or image shapes do not match what is expected. */
    REPTILE_EDIVERGED = -7,    /**< Training produced NaN or Inf; the last good weights are kept. */
    REPTILE_EUNSUPPORTED = -8, /**< A valid request this build or backend cannot serve. */
    REPTILE_ESTATE = -9,       /**< The handle is in a state where the call is not allowed. */
    REPTILE_EVERSION = -10,    /**< A versioned struct or file is from an unknown version. */
    REPTILE_ETHREAD = -11,     /**< Creating or running worker threads failed. */
    REPTILE_EDATA = -12        /**< A data set is unsuitable (too few classes or images). */
};

/**
 * @brief Short, static description of a status code.
 * @param code A REPTILE_* status code (0 or negative).
 * @return A static string such as "invalid argument"; "unknown error" for a
 *         code this version does not know. Never NULL, never to be freed.
 */
REPTILE_API const char *reptile_strerror(int code);

/**
 * @brief Message describing the last failure on the calling thread.
 * @return A thread-local string with context (for example the file name and
 *         the problem), or "" when no error has been recorded. Valid until
 *         the next libreptile call on this thread; do not free it.
 */
REPTILE_API const char *reptile_error_last(void);

/**
 * @brief Code of the last failure on the calling thread (0 when none).
 */
REPTILE_API int reptile_error_last_code(void);

/** @brief Forget the calling thread's last error. */
REPTILE_API void reptile_error_clear(void);

REPTILE_END_DECLS

#endif /* REPTILE_ERROR_H */
