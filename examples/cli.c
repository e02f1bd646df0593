/* Helpers for the example programs: see cli.h. */
#include "cli.h"

#include <ctype.h>
#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

const char *ex_progname = "reptile-example";
int ex_error_mute;

void ex_error(const char *fmt, ...)
{
    if (ex_error_mute)
        return;
    va_list ap;
    fprintf(stderr, "%s: ", ex_progname);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

int ex_parse_int(const char *opt, const char *arg, long min, long max, int *out)
{
    char *end = NULL;
    errno = 0;
    long v = strtol(arg, &end, 10);
    if (end == arg || *end != '\0') {
        ex_error("%s: '%s' is not an integer", opt, arg);
        return -1;
    }
    /* ERANGE: too many digits for a long, which is out of range too. */
    if (errno == ERANGE || v < min || v > max) {
        ex_error("%s: %s is out of range (expected %ld .. %ld)", opt, arg, min, max);
        return -1;
    }
    *out = (int)v;
    return 0;
}

int ex_parse_u64(const char *opt, const char *arg, uint64_t *out)
{
    char *end = NULL;
    errno = 0;
    /* strtoull skips blanks and negates "-1" (or " -1") to 2^64 - 1. */
    if (!isdigit((unsigned char)arg[0])) {
        ex_error("%s: '%s' is not a non-negative integer", opt, arg);
        return -1;
    }
    /* Base 10: with base 0, "010" would be 8 and "09" refused. */
    unsigned long long v = strtoull(arg, &end, 10);
    if (end == arg || *end != '\0' || errno == ERANGE) {
        ex_error("%s: '%s' is not a non-negative integer below 2^64", opt, arg);
        return -1;
    }
    *out = (uint64_t)v;
    return 0;
}

static void range_error(const char *opt, const char *arg, double min, double max, int open)
{
    ex_error("%s: '%s' is out of range (expected %s%g .. %s%g)", opt, arg,
             open & EX_MIN_OPEN ? "> " : "", min, open & EX_MAX_OPEN ? "< " : "", max);
}

/* `rounded`: the value as stored, 0 or denormal; `what`: "double" or
 * "single"; `smallest`: the least normal magnitude. */
static void tiny_error(const char *opt, const char *arg, double rounded, const char *what,
                       double smallest)
{
    ex_error("%s: '%s' is too small: it becomes %s in %s precision (the smallest accepted "
             "magnitude is %g)",
             opt, arg, rounded == 0.0 ? "0" : "a denormal number", what, smallest);
}

int ex_parse_double(const char *opt, const char *arg, double min, double max, int open,
                    double *out)
{
    char *end = NULL;
    errno = 0;
    double v = strtod(arg, &end);
    int erange = errno == ERANGE;
    if (end == arg || *end != '\0' || isnan(v) || (isinf(v) && !erange)) {
        ex_error("%s: '%s' is not a finite number", opt, arg);
        return -1;
    }
    if (erange && fabs(v) >= 1.0) { /* overflow: +-HUGE_VAL */
        range_error(opt, arg, min, max, open);
        return -1;
    }
    if ((erange || v != 0.0) && !isnormal(v)) { /* "1e-400" reads as 0 */
        tiny_error(opt, arg, v, "double", DBL_MIN);
        return -1;
    }
    if ((open & EX_MIN_OPEN ? v <= min : v < min) || (open & EX_MAX_OPEN ? v >= max : v > max)) {
        range_error(opt, arg, min, max, open);
        return -1;
    }
    *out = v;
    return 0;
}

int ex_parse_float(const char *opt, const char *arg, double min, double max, int open,
                   float *out)
{
    double v;
    if (ex_parse_double(opt, arg, min, max, open, &v) != 0)
        return -1;
    float f = (float)v;
    if (v != 0.0 && !isnormal(f)) { /* "1e-50" would reach the library as 0 */
        tiny_error(opt, arg, (double)f, "single", FLT_MIN);
        return -1;
    }
    *out = f;
    return 0;
}

/* A folder the data must be in: report what is there instead. */
static int check_folder(const char *path, const char *hint)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        if (errno == ENOENT)
            ex_error("Omniglot data folder '%s' not found: %s", path, hint);
        else
            ex_error("cannot access the Omniglot data folder '%s': %s", path, strerror(errno));
        return -1;
    }
    if (!S_ISDIR(st.st_mode)) {
        ex_error("Omniglot data folder '%s' %s: %s", path,
                 S_ISREG(st.st_mode) ? "is a file, not a folder" : "is not a folder", hint);
        return -1;
    }
    return 0;
}

int ex_check_omniglot_dir(const char *data, const char *hint)
{
    if (check_folder(data, hint) != 0)
        return -1;
    static const char *const split[2] = {"images_background", "images_evaluation"};
    for (int i = 0; i < 2; i++) {
        char dir[4096];
        snprintf(dir, sizeof dir, "%s/%s", data, split[i]);
        struct stat st;
        if (stat(dir, &st) != 0 && errno == ENOENT) {
            ex_error("'%s' has no %s/ folder: %s", data, split[i], hint);
            return -1;
        }
        if (check_folder(dir, hint) != 0)
            return -1;
    }
    return 0;
}

double ex_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

double ex_peak_rss_mb(void)
{
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0)
        return 0.0;
    return (double)ru.ru_maxrss / 1024.0; /* ru_maxrss is in KiB on Linux */
}

int ex_online_cpus(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    if (n < 1)
        return 1;
    if (n > EX_MAX_THREADS)
        return EX_MAX_THREADS;
    return (int)n;
}

void ex_format_duration(double seconds, char *buf, unsigned long size)
{
    if (!isfinite(seconds) || seconds < 0) {
        snprintf(buf, size, "?");
        return;
    }
    long s = lround(seconds);
    if (s >= 3600)
        snprintf(buf, size, "%ldh%02ldm%02lds", s / 3600, (s / 60) % 60, s % 60);
    else if (s >= 60)
        snprintf(buf, size, "%ldm%02lds", s / 60, s % 60);
    else
        snprintf(buf, size, "%lds", s);
}
