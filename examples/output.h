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

/* Create the temporary sibling of `path` (PATH.tmp.XXXXXX) and open it.
 * Code that writes by name (cairo) writes to o->name instead. An existing
 * file the user may not write (access(W_OK)) is refused. On failure print
 * "OPT: cannot create 'PATH': reason" and return -1 (o is then closed). */
int ex_output_open(ex_output *o, const char *opt, const char *path);

/* As ex_output_open(), with the fixed temporary name PATH.tmp: whatever is
 * there (left by a run killed outright) is replaced, so such leftovers
 * cannot pile up. For files rewritten often (the learning curve). */
int ex_output_open_fixed(ex_output *o, const char *opt, const char *path);

/* The PATH.tmp that ex_output_open_fixed() uses (beside the file a symlink
 * points to; malloc'd), or NULL for a file written in place or without
 * memory. For the one-file-two-options check. */
char *ex_output_fixed_name(const char *path);

/* 1 when `path` exists and is not a regular file or folder (/dev/null, a
 * FIFO): ex_output_open() writes it in place. */
int ex_output_in_place(const char *path);

/* Flush, fsync, close and rename over the target (then fsync its folder).
 * On failure remove the temporary file, print "OPT: cannot write 'PATH':
 * reason" and return -1. The output is closed either way. */
int ex_output_commit(ex_output *o);

/* Close and remove the temporary file, leaving the target as it was. Does
 * nothing on a closed or zeroed output. */
void ex_output_abort(ex_output *o);

/* Report a failed write to o->f with `err` (errno saved at the failure; 0
 * reads as EIO) as the reason, and abort. Returns -1. */
int ex_output_fail(ex_output *o, int err);

/* Before any work: check that `path` can be written as ex_output_open()
 * will (a temporary sibling is created and removed again; a folder is
 * refused). Prints a message naming `opt` and returns -1 on failure. */
int ex_output_check(const char *opt, const char *path);

/* ex_output_check() for a file the library writes (reptile_meta_save(),
 * reptile_model_save(), the paper split's manifest): the library replaces
 * regular files only, so anything else that exists there (/dev/null, a
 * FIFO, a folder, a symlink leading nowhere) is refused now, with a message
 * naming `opt`, rather than when the library writes it. */
int ex_output_check_library(const char *opt, const char *path);

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
