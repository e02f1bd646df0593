/* Small helpers shared by the example programs: messages, the parsing of
 * the programs' own numeric options, the data folder check, clocks and
 * memory use. Nothing here calls libreptile (the library's options on the
 * command line: options_cli.h; output files: output.h). */
#ifndef EX_CLI_H
#define EX_CLI_H

#include <signal.h>

/* A macro's value as a string literal in help texts: EX_XSTR(N) -> "N". */
#define EX_STR(x) #x
#define EX_XSTR(x) EX_STR(x)

/* Exit codes of the example programs. */
enum { EX_OK = 0, EX_FAILURE = 1, EX_USAGE = 2 };

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

/* Parse a finite number in [min, max]. A nonzero value that underflows to
 * 0 or to a denormal is refused: its message names the option and echoes
 * the text. */
int ex_parse_double(const char *opt, const char *arg, double min, double max, double *out);

/* Check the Omniglot folder `data` and its images_background/ and
 * images_evaluation/ folders, saying exactly what is wrong: missing (with
 * `hint`, how to get the data), a file where a folder should be, or not
 * accessible (the system's reason). Returns 0 or -1. */
int ex_check_omniglot_dir(const char *data, const char *hint);
/* The data folder and its sub-folders exist and are folders (else an error
 * naming `what` data and the hint). 0 or -1. */
int ex_check_data_dirs(const char *what, const char *data, const char *const *subdirs, int n,
                       const char *hint);

/* Monotonic clock in seconds. */
double ex_now(void);

/* Peak resident set size of this process in MiB (getrusage ru_maxrss). */
double ex_peak_rss_mb(void);

/* Number of online CPUs (at least 1; ex_cli_online_threads() keeps it
 * within the library's bounds). */
int ex_online_cpus(void);

/* Set by SIGINT or SIGTERM once ex_catch_signals() has run: the programs
 * then end the run through the code that writes what there is and removes
 * temporary files. ex_release_signals() restores the default action. */
extern volatile sig_atomic_t ex_stop;
void ex_catch_signals(void);
void ex_release_signals(void);

/* Format a duration as "1h02m03s", "2m03s" or "3s" into buf. */
void ex_format_duration(double seconds, char *buf, unsigned long size);

#endif
