/* Helpers for the example programs: see cli.h. */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
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

void ex_error(const char *fmt, ...)
{
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
    if (end == arg || *end != '\0' || errno == ERANGE) {
        ex_error("%s: '%s' is not an integer", opt, arg);
        return -1;
    }
    if (v < min || v > max) {
        ex_error("%s: %ld is out of range (expected %ld .. %ld)", opt, v, min, max);
        return -1;
    }
    *out = (int)v;
    return 0;
}

int ex_parse_u64(const char *opt, const char *arg, uint64_t *out)
{
    char *end = NULL;
    errno = 0;
    if (arg[0] == '-' || arg[0] == '+' || arg[0] == '\0') {
        ex_error("%s: '%s' is not a non-negative integer", opt, arg);
        return -1;
    }
    unsigned long long v = strtoull(arg, &end, 0);
    if (end == arg || *end != '\0' || errno == ERANGE) {
        ex_error("%s: '%s' is not a non-negative integer below 2^64", opt, arg);
        return -1;
    }
    *out = (uint64_t)v;
    return 0;
}

int ex_parse_float(const char *opt, const char *arg, double min, int min_open, double max,
                   float *out)
{
    char *end = NULL;
    errno = 0;
    double v = strtod(arg, &end);
    if (end == arg || *end != '\0' || errno == ERANGE || !isfinite(v)) {
        ex_error("%s: '%s' is not a finite number", opt, arg);
        return -1;
    }
    if (v < min || (min_open && v == min) || v > max) {
        ex_error("%s: %g is out of range (expected %s%g .. %g)", opt, v,
                 min_open ? "> " : "", min, max);
        return -1;
    }
    *out = (float)v;
    return 0;
}

int ex_check_writable(const char *opt, const char *path)
{
    struct stat st;
    if (path[0] == '\0') {
        ex_error("%s: empty file name", opt);
        return -1;
    }
    if (stat(path, &st) == 0) {
        if (S_ISDIR(st.st_mode)) {
            ex_error("%s: '%s' is a directory, expected a file name", opt, path);
            return -1;
        }
        int fd = open(path, O_WRONLY | O_APPEND);
        if (fd < 0) {
            ex_error("%s: cannot write '%s': %s", opt, path, strerror(errno));
            return -1;
        }
        close(fd);
        return 0;
    }
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0644);
    if (fd < 0) {
        ex_error("%s: cannot create '%s': %s", opt, path, strerror(errno));
        return -1;
    }
    close(fd);
    remove(path);
    return 0;
}

int ex_is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
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
    if (n > 256)
        return 256;
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
