/* reptile-omniglot's command line: its own options, the library's (through
 * options_cli.h) and the settings of the run they describe. */
#ifndef EX_OMNIGLOT_CLI_H
#define EX_OMNIGLOT_CLI_H

#include "options_cli.h"

#define OMNIGLOT_DEFAULT_PRESET "keras-tutorial"
#define OMNIGLOT_SMOOTH_WINDOW 100   /* --plot's Hamming window */
#define OMNIGLOT_CHECKPOINT_EVERY 100 /* iterations between snapshots */

typedef struct omniglot_cli {
    ex_cli lib; /* the library options given */
    const char *preset, *data; /* preset: NULL when not given */
    int final_eval, stop_after, quiet;
    const char *csv, *plot, *samples, *predictions, *checkpoint, *resume;
} omniglot_cli;

/* Parse the command line (EX_CONTINUE, or the exit status after --help,
 * --version or a message), then check what needs no settings: one file per
 * output, cairo for the pictures. */
int omniglot_parse(omniglot_cli *c, int argc, char **argv);

/* The run's settings: the preset with the command line's options, or those
 * saved in --resume's file (then only --threads and a --meta-iters equal to
 * the saved schedule may be given). *iterations: meta-iterations to run
 * (--meta-iters 0: none). Then the checks that need them, and that every
 * output can be written. EX_CONTINUE or the exit status. */
int omniglot_settle(const omniglot_cli *c, reptile_meta_options *opts, int *iterations);

/* The preset named in messages. */
const char *omniglot_preset(const omniglot_cli *c);

#endif
