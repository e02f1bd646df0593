/* Small helpers shared by the example programs: option parsing with clear
 * messages, the data folder check, clocks and memory use. Nothing here
 * calls libreptile (output files: output.h). */
#ifndef EX_CLI_H
#define EX_CLI_H

#include <stdint.h>

/* Exit codes of the example programs. */
enum { EX_OK = 0, EX_FAILURE = 1, EX_USAGE = 2 };

/* Ranges of the numeric options the programs share. They are the library's
 * limits (reptile_meta_options_validate(), reptile_meta_evaluate()), so that
 * a value the parser takes is one the library takes: a bad value is
 * reported once, naming the option, with one range. */
#define EX_MAX_THREADS 256
#define EX_MAX_WAYS 4096
#define EX_MAX_SHOTS 10000            /* eval_shots, train_shots */
#define EX_MAX_INNER_ITERS (1 << 20)  /* inner_iters, eval_iters */
#define EX_MAX_INNER_BATCH 100000
#define EX_MAX_META_BATCH 1024
#define EX_MAX_ITERS 100000000        /* meta_iters, eval_interval, tasks */
#define EX_MAX_LR 1e3                 /* excluded */
#define EX_MAX_META_STEP 1.0

/* Set once by the program: prefixes every message ("reptile-omniglot"). */
extern const char *ex_progname;

/* Nonzero: ex_error() prints nothing (MPI ranks other than 0 while they
 * parse the command line every rank shares). */
extern int ex_error_mute;

/* Print "PROG: message\n" to stderr. */
void ex_error(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;

/* Parse a whole decimal integer in [min, max] given to option `opt`.
 * On failure print "PROG: --opt: 'arg' is not ..." and return -1. */
int ex_parse_int(const char *opt, const char *arg, long min, long max, int *out);

/* Parse a whole decimal unsigned 64-bit integer (leading zeros are
 * decimal too: "010" is 10). */
int ex_parse_u64(const char *opt, const char *arg, uint64_t *out);

/* Bounds of ex_parse_double() / ex_parse_float(): min or max excluded. */
enum { EX_MIN_OPEN = 1, EX_MAX_OPEN = 2 };

/* Parse a finite number in [min, max] (`open`: EX_MIN_OPEN / EX_MAX_OPEN
 * exclude a bound). A nonzero value that underflows to 0 or to a denormal
 * is refused, as is one that does so once rounded to float by
 * ex_parse_float(): its message names the option and echoes the text. */
int ex_parse_double(const char *opt, const char *arg, double min, double max, int open,
                    double *out);
int ex_parse_float(const char *opt, const char *arg, double min, double max, int open,
                   float *out);

/* Check the Omniglot folder `data` and its images_background/ and
 * images_evaluation/ folders, saying exactly what is wrong: missing (with
 * `hint`, how to get the data), a file where a folder should be, or not
 * accessible (the system's reason). Returns 0 or -1. */
int ex_check_omniglot_dir(const char *data, const char *hint);

/* Monotonic clock in seconds. */
double ex_now(void);

/* Peak resident set size of this process in MiB (getrusage ru_maxrss). */
double ex_peak_rss_mb(void);

/* Number of online CPUs, in 1 .. EX_MAX_THREADS. */
int ex_online_cpus(void);

/* Format a duration as "1h02m03s", "2m03s" or "3s" into buf. */
void ex_format_duration(double seconds, char *buf, unsigned long size);

#endif
