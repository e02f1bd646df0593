/* The learning-curve CSV of reptile-omniglot and reptile-omniglot-mpi:
 *
 *   iteration,meta_step,train_acc,test_acc,elapsed_s
 *
 * one row per evaluated iteration. Rows go to a temporary sibling of the
 * file (FILE.tmp.XXXXXX), flushed after each so that a run can be watched;
 * the file itself is replaced atomically by ex_curve_snapshot() (the
 * programs call it every 100 iterations, before saving the checkpoint) and
 * by ex_curve_finish() at the end. So FILE always holds whole rows, never
 * fewer than the checkpoint saved after it covers: a resumed run finds every
 * row before its starting iteration. Failures are reported with the
 * system's reason when they happen, and drop the temporary file. */
#ifndef EX_CURVE_H
#define EX_CURVE_H

#include "output.h"

typedef struct ex_curve {
    ex_output live;        /* the rows so far */
    double elapsed_offset; /* elapsed_s of the last row kept from a resumed run */
} ex_curve;

/* Start the CSV at `path` (option `opt`, for messages). For a resumed run
 * (start_iter > 0) the rows of the existing file before start_iter are
 * kept, each also passed to keep() unless it is NULL (nonzero from keep():
 * out of memory); a file that is not such a CSV is refused. Returns 0, or
 * -1 with a message. */
int ex_curve_open(ex_curve *c, const char *opt, const char *path, int start_iter,
                  int (*keep)(void *user, double train_acc, double test_acc), void *user);

/* Append a row (elapsed_s is counted from the start of this run) and flush
 * it. On failure: message, curve dropped, -1; the caller stops the run. */
int ex_curve_add(ex_curve *c, int iteration, double meta_step, double train_acc,
                 double test_acc, double elapsed_s);

/* Replace the file with the rows so far, atomically; the run goes on. On
 * failure: message, curve dropped, -1. */
int ex_curve_snapshot(ex_curve *c);

/* Put the complete curve in place (0), or report why not (-1). */
int ex_curve_finish(ex_curve *c);

/* Drop the temporary file; the file stays as the last snapshot left it. */
void ex_curve_abort(ex_curve *c);

/* 1 while the curve is being written. */
int ex_curve_active(const ex_curve *c);

#endif
