/* Learning-curve smoothing exactly as the Keras Reptile tutorial plots it.
 *
 *     s = np.r_[x[w-1:0:-1], x, x[-1:-w:-1]]      (reflect w-1 points at each end)
 *     y = np.convolve(np.hamming(w) / np.hamming(w).sum(), s, mode="valid")
 *
 * The result has n + w - 1 points (longer than the input by w - 1).
 * A series shorter than the window (n < w) is smoothed with the window
 * shrunk to n, so the reflection only uses points that exist; n = 0 gives
 * no output. */
#ifndef EX_SMOOTH_H
#define EX_SMOOTH_H

#include <stddef.h>

/* Window actually used for a series of n points and a requested window. */
size_t ex_smooth_window(size_t n, size_t window);

/* Number of output points: n + ex_smooth_window(n, window) - 1, or 0 for n = 0. */
size_t ex_smooth_length(size_t n, size_t window);

/* np.hamming(m) into w[0..m). */
void ex_hamming(size_t m, double *w);

/* Smooth x[0..n) with a Hamming window of `window` points (>= 1) into
 * out[0 .. ex_smooth_length(n, window)). Returns the number of points
 * written, or (size_t)-1 when memory runs out. */
size_t ex_smooth_hamming(const double *x, size_t n, size_t window, double *out);

#endif
