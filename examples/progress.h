/* Progress reporting of reptile-omniglot on stderr: a one-line bar redrawn
 * in place when stderr is a terminal, a plain line every 10% otherwise,
 * nothing when quiet. The accuracies shown are means of the last 100
 * evaluated iterations. */
#ifndef EX_PROGRESS_H
#define EX_PROGRESS_H

typedef struct ex_progress {
    int mode;           /* 0 quiet, 1 bar (terminal), 2 plain lines */
    int total;          /* iterations of the run */
    double t0;          /* start time (ex_now) */
    double last_draw;   /* time of the last bar redraw */
    int next_line;      /* plain mode: next iteration that prints */
    int bar_shown;      /* a bar is on screen (to be cleared before other output) */
    double ring_train[100], ring_test[100];
    int ring_n, ring_pos;
} ex_progress;

void ex_progress_start(ex_progress *p, int quiet, int total);

/* Report iteration `done` (1-based within the run); accuracies count only
 * when evaluated is non-zero. */
void ex_progress_update(ex_progress *p, int done, int evaluated, double train_acc,
                        double test_acc);

/* Remove the bar from the terminal (before printing something else). */
void ex_progress_clear(ex_progress *p);

/* End of the run: final bar state and a newline. */
void ex_progress_finish(ex_progress *p, int done);

#endif
