/* The example programs' command line, generated from the library's option
 * table (reptile_meta_option_info()).
 *
 * Every library option is a long option spelt --name-with-dashes; its value
 * is read and bound-checked by reptile_meta_options_set(), so the bounds and
 * messages are the library's ("reptile-omniglot: --lr: lr must be in (0,
 * 1000), got "2e3""), and its --help line (help text, bounds or values,
 * unit, default) comes from the same table. A BOOL option takes an optional
 * value (--keras-argmax = --keras-argmax=1). --shots is another name of
 * --eval-shots. rank and world_size are not offered: the data-parallel
 * layer (reptile_mpi_options()) sets them.
 *
 * Each program adds its own options in a small table of ex_opt (files,
 * counts, flags), parsed by the same loop, and keeps the values given to
 * library options until it has its base settings (a preset, or a saved
 * run): ex_cli_apply() then sets them. What was given is recorded
 * (ex_cli_given()), so that a program can refuse what a saved run fixes.
 * A program may offer only some library options (ex_program::lib_options)
 * and take arguments after the options (ex_program::operands). */
#ifndef EX_OPTIONS_CLI_H
#define EX_OPTIONS_CLI_H

#include <reptile/reptile.h>

#include <stddef.h>
#include <stdio.h>

/* ex_cli_parse() and the other checks: carry on (any other value is the
 * exit status, see cli.h). */
enum { EX_CONTINUE = -1 };

/* reptile_meta_evaluate() scores 1 .. 100,000,000 tasks (lib/meta/evaluate.c;
 * an argument, not an option of the table): --final-eval, --tasks. */
#define EX_MAX_TASKS 100000000

typedef enum ex_kind {
    EX_SECTION, /* not an option: `help` heads a section of --help */
    EX_FLAG,    /* no value: *(int *)dest = 1 */
    EX_STRING,  /* *(const char **)dest = the value */
    EX_PRESET,  /* EX_STRING naming a preset; --help lists the library's */
    EX_INT,     /* *(int *)dest = a decimal integer in [min, max] */
    EX_DOUBLE,  /* *(double *)dest = a finite number in [min, max] */
    EX_ALIAS,   /* another name of library option `lib`; with `value`, a flag
                   giving it that value (--transductive) */
    EX_NOTE,    /* not an option: `help` is added to library option `lib`'s
                   --help line; with `value` (an integer), `lib` also takes
                   that value, which the program reads (ex_cli_given_int())
                   and ex_cli_apply() leaves alone (--meta-iters 0) */
} ex_kind;

/* One of a program's own options. */
typedef struct ex_opt {
    ex_kind kind;
    const char *name;  /* without "--" */
    const char *arg;   /* the value's name in --help ("FILE"); NULL for flags */
    void *dest;
    double min, max;   /* EX_INT, EX_DOUBLE */
    const char *lib;   /* EX_ALIAS, EX_NOTE: the library option ("eval_mode") */
    const char *value; /* EX_ALIAS, EX_NOTE: see above */
    const char *help;  /* its --help text, defaults included */
} ex_opt;

typedef struct ex_program {
    const char *name;     /* "reptile-omniglot": --help, --version, "Try ..." */
    const char *about;    /* --help's first lines: "Usage: ...", what it does */
    const char *footer;   /* --help's last lines */
    const char *defaults_are; /* what the library options' defaults are */
    const reptile_meta_options *defaults; /* shown in --help */
    const ex_opt *opts;
    size_t n_opts;
    /* The library options offered, NULL-terminated (the shared aliases of
     * others are left out too); NULL: all of them. */
    const char *const *lib_options;
    /* The arguments taken after the options, as --help's usage line names
     * them ("QUERY..."); NULL: none (an argument is then an error). */
    const char *operands;
} ex_program;

/* Library options this layer can hold (the table has 33). */
#define EX_CLI_MAX_OPTIONS 96

/* What the command line gave the library options. */
typedef struct ex_cli {
    const ex_program *prog;                /* during ex_cli_parse() only */
    const char *name;                      /* the program's */
    int count;                             /* reptile_meta_option_count() */
    const char *text[EX_CLI_MAX_OPTIONS];  /* the value given, or NULL */
    const char *given_as[EX_CLI_MAX_OPTIONS]; /* the long option used, no "--" */
    int extra[EX_CLI_MAX_OPTIONS];         /* text is an EX_NOTE's value */
    char dashed[EX_CLI_MAX_OPTIONS][48];   /* "inner-iters" */
    char **operands;                       /* the arguments (ex_program::operands) */
    int n_operands;
} ex_cli;

/* Parse argv against the library's options and prog's own (prog, with its
 * table and defaults, need only last as long as the call). Prints --help
 * (stdout) or --version and returns EX_OK; reports a bad option or value
 * naming it and returns EX_USAGE; else EX_CONTINUE. Nothing is printed
 * while ex_error_mute is set (MPI ranks other than 0). */
int ex_cli_parse(ex_cli *cli, const ex_program *prog, int argc, char **argv);

/* Print --help: the program's options, then every library option with its
 * help, bounds or values, unit and default (options_help.c). */
void ex_cli_help(const ex_cli *cli, FILE *f);

/* Library option `name`'s long option as given ("shots"), or NULL when the
 * command line did not give it. */
const char *ex_cli_given(const ex_cli *cli, const char *name);

/* 1 with *value when integer option `name` was given (an EX_NOTE's value
 * included), else 0 with *value untouched. */
int ex_cli_given_int(const ex_cli *cli, const char *name, int *value);

/* The first given library option (as given) whose flags include `flags`,
 * other than `except` (may be NULL), or NULL. */
const char *ex_cli_given_with(const ex_cli *cli, unsigned int flags, const char *except);

/* Set every given library option in opts, in table order (a value given
 * twice: the last one). A --meta-step below the final meta step lowers that
 * too, unless --meta-step-final is given. Then validate: an invalid
 * combination is reported ("invalid settings: ...") and returns EX_USAGE;
 * else EX_CONTINUE. */
int ex_cli_apply(const ex_cli *cli, reptile_meta_options *opts);

/* opts = preset `name`: EX_CONTINUE, or EX_USAGE after "--preset: ...". */
int ex_cli_preset(const ex_cli *cli, reptile_meta_options *opts, const char *name);

/* The first option with `flags` whose value differs between a and b, or
 * NULL when they agree on all. */
const char *ex_cli_differs(const reptile_meta_options *a, const reptile_meta_options *b,
                           unsigned int flags);

/* Print "Try 'PROG --help' ..." (unless muted); returns EX_USAGE. */
int ex_cli_usage_error(const ex_cli *cli);

/* The online CPUs, within the library's bounds of `threads`. */
int ex_cli_online_threads(void);

/* The settings of the run saved in `path` (`opt`: "--resume"), with
 * --threads the online CPUs: EX_CONTINUE. A usage error when the command
 * line gave a preset (`preset`, may be NULL) or an option that shapes
 * training, other than a --meta-iters restating the saved schedule; a
 * failure when the file has no settings. The caller then applies the rest
 * (ex_cli_apply()). */
int ex_cli_resumed(const ex_cli *cli, const char *opt, const char *path, const char *preset,
                   reptile_meta_options *opts);

/* The upper bound of library option `name` (ex: --stop-after's, meta_iters). */
double ex_cli_max(const char *name);

/* Shared by options_cli.c and options_help.c. */
int ex_cli_offered(const ex_program *prog, const char *name); /* 0: rank, world_size, and
                                                                  those prog leaves out */
const ex_opt *ex_cli_note(const ex_program *prog, const char *lib); /* its EX_NOTE */
const ex_opt *ex_cli_shared_alias(size_t i);              /* --shots, then NULL */

#endif
