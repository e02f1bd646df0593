/* Helpers for the example programs: see cli.h. */
#include "cli.h"

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
volatile sig_atomic_t ex_stop;

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

static void range_error(const char *opt, const char *arg, double min, double max)
{
    ex_error("%s: '%s' is out of range (expected %g .. %g)", opt, arg, min, max);
}

int ex_parse_double(const char *opt, const char *arg, double min, double max, double *out)
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
        range_error(opt, arg, min, max);
        return -1;
    }
    if ((erange || v != 0.0) && !isnormal(v)) { /* "1e-400" reads as 0 */
        ex_error("%s: '%s' is too small: it becomes %s in double precision (the smallest "
                 "accepted magnitude is %g)",
                 opt, arg, v == 0.0 ? "0" : "a denormal number", DBL_MIN);
        return -1;
    }
    if (v < min || v > max) {
        range_error(opt, arg, min, max);
        return -1;
    }
    *out = v;
    return 0;
}

/* A folder the data must be in: report what is there instead. */
static int check_folder(const char *what, const char *path, const char *hint)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        if (errno == ENOENT)
            ex_error("%s data folder '%s' not found: %s", what, path, hint);
        else
            ex_error("cannot access the %s data folder '%s': %s", what, path, strerror(errno));
        return -1;
    }
    if (!S_ISDIR(st.st_mode)) {
        ex_error("%s data folder '%s' %s: %s", what, path,
                 S_ISREG(st.st_mode) ? "is a file, not a folder" : "is not a folder", hint);
        return -1;
    }
    return 0;
}

int ex_check_data_dirs(const char *what, const char *data, const char *const *subdirs, int n,
                       const char *hint)
{
    if (check_folder(what, data, hint) != 0)
        return -1;
    for (int i = 0; i < n; i++) {
        char dir[4096];
        snprintf(dir, sizeof dir, "%s/%s", data, subdirs[i]);
        struct stat st;
        if (stat(dir, &st) != 0 && errno == ENOENT) {
            ex_error("'%s' has no %s/ folder: %s", data, subdirs[i], hint);
            return -1;
        }
        if (check_folder(what, dir, hint) != 0)
            return -1;
    }
    return 0;
}

int ex_check_omniglot_dir(const char *data, const char *hint)
{
    static const char *const split[2] = {"images_background", "images_evaluation"};
    return ex_check_data_dirs("Omniglot", data, split, 2, hint);
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
    return n > 1000000 ? 1000000 : (int)n;
}

static void on_signal(int sig)
{
    (void)sig;
    ex_stop = 1;
}

void ex_catch_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

void ex_release_signals(void)
{
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
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
