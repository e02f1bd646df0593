/* reptile-omniglot's pictures (--plot, --samples, --predictions): what the
 * tutorial shows, drawn by plot.c into the output's temporary file and put
 * in place atomically (output.h). Each returns 0, or -1 after a message
 * naming the option. */
#ifndef EX_PICTURES_H
#define EX_PICTURES_H

#include <reptile/reptile.h>

#include <stddef.h>

/* --plot: the learning curve smoothed with a Hamming window of `window`. */
int ex_draw_curve(const char *path, const double *train, const double *test, size_t n,
                  size_t window, const char *title);

/* --samples: the tutorial's 5x5 figure: five random training characters
 * (rows), five random drawings of each, "Class : N" over the middle column. */
int ex_draw_samples(const char *path, const reptile_dataset *train, uint64_t seed);

/* --predictions: the tutorial's last figure: test task `task` after
 * training, its query images titled with label and (per-image) prediction. */
int ex_draw_predictions(const char *path, reptile_meta *meta, const reptile_dataset *test,
                        int ways, uint64_t task);

#endif
