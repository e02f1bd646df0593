/* Output files of the example programs, written atomically: into a
 * temporary sibling of the target (same folder, so the rename cannot cross
 * file systems), flushed and fsync'ed, then renamed over the target. A
 * failure, a full disk included, never leaves a truncated file in place of a
 * good or an absent one; the temporary file is removed and the message gives
 * the system's reason. Uses nothing but the C library and POSIX. */
#ifndef EX_OUTPUT_H
#define EX_OUTPUT_H

#include <stddef.h>
#include <stdio.h>

typedef struct ex_output {
    const char *opt;  /* option naming the file, for messages ("--csv") */
    const char *path; /* the file as given on the command line */
    char *target;     /* path with symlinks resolved: what the rename replaces;
                         NULL when the file is written in place (below) */
    char *name;       /* the file being written: the temporary sibling, or
                         path itself for an existing file that is not a
                         regular one (/dev/null, a FIFO: nothing to replace) */
    FILE *f;          /* open for reading and writing on name */
} ex_output;

/* Create the temporary sibling of `path` and open it. Code that writes by
 * name (cairo, the library) writes to o->name instead. On failure print
 * "OPT: cannot create 'PATH': reason" and return -1 (o is then closed). */
int ex_output_open(ex_output *o, const char *opt, const char *path);

/* Flush, fsync, close and rename over the target (then fsync its folder).
 * On failure remove the temporary file, print "OPT: cannot write 'PATH':
 * reason" and return -1. The output is closed either way. */
int ex_output_commit(ex_output *o);

/* Close and remove the temporary file, leaving the target as it was. Does
 * nothing on a closed or zeroed output. */
void ex_output_abort(ex_output *o);

/* Report a failed write to o->f, with errno as the reason, and abort.
 * Returns -1. */
int ex_output_fail(ex_output *o);

/* Before any work: check that `path` can be written as ex_output_open()
 * will (a temporary sibling is created and removed again; a folder is
 * refused). Prints a message naming `opt` and returns -1 on failure. */
int ex_output_check(const char *opt, const char *path);

/* Before any work: refuse one file named by two options. opts[i] names
 * paths[i] (NULL entries are skipped); inputs may be listed too. Two paths
 * are the same file when they are the same string, the same existing file
 * (device and inode, so hard links and symlinks count), or, for files that
 * do not exist yet, the same resolved folder and name. `allowed` pairs of
 * indices (a, b) may share a file (--resume and --checkpoint), n_allowed of
 * them. Prints "OPT1 and OPT2 name the same file ..." and returns -1. */
int ex_outputs_distinct(const char *const opts[], const char *const paths[], int n,
                        const int (*allowed)[2], int n_allowed);

#endif
