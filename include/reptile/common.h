/**
 * @file common.h
 * @brief Export and linkage macros shared by every libreptile header.
 */
#ifndef REPTILE_COMMON_H
#define REPTILE_COMMON_H

#include <stddef.h>
#include <stdint.h>

/** Marks a symbol exported from the shared library (hidden is the default). */
#if defined(REPTILE_STATIC)
#  define REPTILE_API
#elif defined(_WIN32)
#  if defined(REPTILE_BUILDING)
#    define REPTILE_API __declspec(dllexport)
#  else
#    define REPTILE_API __declspec(dllimport)
#  endif
#elif defined(__GNUC__) && __GNUC__ >= 4
#  define REPTILE_API __attribute__((visibility("default")))
#else
#  define REPTILE_API
#endif

/** Opens (REPTILE_BEGIN_DECLS) and closes (REPTILE_END_DECLS) C linkage for C++. */
#ifdef __cplusplus
#  define REPTILE_BEGIN_DECLS extern "C" {
/** Closes what REPTILE_BEGIN_DECLS opened. */
#  define REPTILE_END_DECLS }
#else
#  define REPTILE_BEGIN_DECLS
/** Closes what REPTILE_BEGIN_DECLS opened. */
#  define REPTILE_END_DECLS
#endif

#endif /* REPTILE_COMMON_H */
