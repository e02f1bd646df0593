/* The learning-curve CSV of reptile-omniglot and reptile-omniglot-mpi:
 *
 *   iteration,meta_step,train_acc,test_acc,elapsed_s
 *
 * one row per evaluated iteration. The rows are kept in memory; the file is
 * replaced atomically with all of them by ex_curve_snapshot() (the programs
 * call it every 100 iterations, before saving the checkpoint) and by
 * ex_curve_finish() at the end, through the fixed temporary name FILE.tmp.
 * So FILE always holds whole rows, never fewer than the checkpoint saved
 * after it covers (a resumed run finds every row before its starting
 * iteration), and a run killed outright leaves at most FILE.tmp behind,
 * which the next snapshot of any run replaces. A target that is not a
 * regular file (/dev/null, a FIFO) gets each row as it comes instead.
 * Failures are reported with the system's reason when they happen. */
#ifndef EX_CURVE_H
#define EX_CURVE_H

#include "output.h"

typedef struct ex_curve {
    const char *opt, *path;
    char *text;            /* the header and the rows so far */
    size_t len, cap;
    ex_output stream;      /* open when path is written in place */
    int active;
    double elapsed_offset; /* elapsed_s of the last row kept from a resumed run */
} ex_curve;

/* Before any work: ex_output_check(), and FILE.tmp must not be a folder.
 * Prints a message naming `opt` and returns -1 on failure. */
int ex_curve_check(const char *opt, const char *path);

/* Start the CSV at `path` (option `opt`, for messages). For a resumed run
 * (start_iter > 0) the rows of the existing file before start_iter are
 * kept, each also passed to keep() unless it is NULL (nonzero from keep():
 * out of memory); a file that is not such a CSV is refused. Returns 0, or
 * -1 with a message. */
int ex_curve_open(ex_curve *c, const char *opt, const char *path, int start_iter,
                  int (*keep)(void *user, double train_acc, double test_acc), void *user);

/* Add a row (elapsed_s is counted from the start of this run). On failure
 * (out of memory, a stream that cannot be written): message, curve
 * dropped, -1; the caller stops the run. */
int ex_curve_add(ex_curve *c, int iteration, double meta_step, double train_acc,
                 double test_acc, double elapsed_s);

/* Replace the file with the rows so far, atomically; the run goes on. On
 * failure: message (the file is left as it was), curve dropped, -1. */
int ex_curve_snapshot(ex_curve *c);

/* Put the complete curve in place (0), or report why not (-1); the curve
 * is closed either way. */
int ex_curve_finish(ex_curve *c);

/* Drop the curve; the file stays as the last snapshot left it. */
void ex_curve_abort(ex_curve *c);

/* 1 while the curve is being written. */
int ex_curve_active(const ex_curve *c);

#endif
