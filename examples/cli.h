/* Small helpers shared by the example programs: option parsing with clear
 * messages, output-path checks, clocks and memory use. Nothing here knows
 * about libreptile. */
#ifndef EX_CLI_H
#define EX_CLI_H

#include <stdint.h>

/* Exit codes of the example programs. */
enum { EX_OK = 0, EX_FAILURE = 1, EX_USAGE = 2 };

/* Set once by the program: prefixes every message ("reptile-omniglot"). */
extern const char *ex_progname;

/* Print "PROG: message\n" to stderr. */
void ex_error(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;

/* Parse a whole decimal integer in [min, max] given to option `opt`.
 * On failure print "PROG: --opt: 'arg' is not ..." and return -1. */
int ex_parse_int(const char *opt, const char *arg, long min, long max, int *out);

/* Parse an unsigned 64-bit integer (decimal or 0x hex). */
int ex_parse_u64(const char *opt, const char *arg, uint64_t *out);

/* Parse a finite float in [min, max] (min_open: min itself excluded). */
int ex_parse_float(const char *opt, const char *arg, double min, int min_open, double max,
                   float *out);

/* Check that `path` can be written without clobbering anything: an existing
 * file is opened for appending (not truncated), a missing one is created and
 * removed again. Prints a message naming `opt` and returns -1 on failure. */
int ex_check_writable(const char *opt, const char *path);

/* 1 if `path` is an existing directory. */
int ex_is_dir(const char *path);

/* Monotonic clock in seconds. */
double ex_now(void);

/* Peak resident set size of this process in MiB (getrusage ru_maxrss). */
double ex_peak_rss_mb(void);

/* Number of online CPUs (>= 1). */
int ex_online_cpus(void);

/* Format a duration as "1h02m03s", "2m03s" or "3s" into buf. */
void ex_format_duration(double seconds, char *buf, unsigned long size);

#endif
