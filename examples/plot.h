/* PNG pictures of the example programs, drawn with cairo: the learning
 * curve, a grid of sample characters and the prediction strip, as the Keras
 * tutorial shows them with matplotlib. Each writes the PNG file `path` (the
 * caller's temporary file, see output.h); a failure's message in err is the
 * reason alone (the caller names the file). Built without cairo, every
 * function fails with a message saying so and ex_plot_available() returns 0. */
#ifndef EX_PLOT_H
#define EX_PLOT_H

#include <stddef.h>

/* 1 when the pictures can be drawn (the program was built with cairo). */
int ex_plot_available(void);

/* The tutorial's learning curve: both series smoothed with a Hamming window
 * of `window` points (see smooth.h: n + window - 1 points each), plotted
 * against their index, legend "test" / "train", grid, axis labels
 * "meta-iteration" / "accuracy". Returns 0, or -1 with a message in err. */
int ex_plot_curve(const char *path, const double *train, const double *test, size_t n,
                  size_t window, const char *title, char *err, size_t err_size);

/* A grid of `count` images (h x w x c floats in [0, 1], HWC, one after the
 * other) in rows of `cols`, each drawn `scale` times enlarged, with an
 * optional title above each (titles may be NULL; a NULL entry draws none).
 * Returns 0, or -1 with a message in err. */
int ex_plot_images(const char *path, const float *images, int count, int cols, int h, int w,
                   int c, int scale, const char *const *titles, char *err, size_t err_size);

#endif
