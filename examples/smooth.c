/* Hamming-window smoothing of the learning curve: see smooth.h. */
#include "smooth.h"

#include <math.h>
#include <stdlib.h>

size_t ex_smooth_window(size_t n, size_t window)
{
    if (window < 1)
        window = 1;
    return n < window ? n : window;
}

size_t ex_smooth_length(size_t n, size_t window)
{
    return n == 0 ? 0 : n + ex_smooth_window(n, window) - 1;
}

void ex_hamming(size_t m, double *w)
{
    const double pi = 3.14159265358979323846;
    if (m == 1) {
        w[0] = 1.0;
        return;
    }
    for (size_t i = 0; i < m; i++)
        w[i] = 0.54 - 0.46 * cos(2.0 * pi * (double)i / (double)(m - 1));
}

size_t ex_smooth_hamming(const double *x, size_t n, size_t window, double *out)
{
    if (n == 0)
        return 0;
    size_t m = ex_smooth_window(n, window);
    size_t len = n + 2 * (m - 1); /* reflected series */
    double *s = malloc(len * sizeof *s);
    double *w = malloc(m * sizeof *w);
    if (!s || !w) {
        free(s);
        free(w);
        return (size_t)-1;
    }
    /* x[m-1:0:-1]: x[m-1], x[m-2], ..., x[1] */
    size_t k = 0;
    for (size_t i = m - 1; i >= 1; i--)
        s[k++] = x[i];
    for (size_t i = 0; i < n; i++)
        s[k++] = x[i];
    /* x[-1:-m:-1]: x[n-1], x[n-2], ..., x[n-m+1] */
    for (size_t i = 0; i + 1 < m; i++)
        s[k++] = x[n - 1 - i];

    ex_hamming(m, w);
    double sum = 0.0;
    for (size_t i = 0; i < m; i++)
        sum += w[i];
    for (size_t i = 0; i < m; i++)
        w[i] /= sum;

    /* np.convolve(w, s, "valid")[j] = sum_i w[i] * s[j + m - 1 - i] */
    size_t out_len = len - m + 1;
    for (size_t j = 0; j < out_len; j++) {
        double acc = 0.0;
        for (size_t i = 0; i < m; i++)
            acc += w[i] * s[j + m - 1 - i];
        out[j] = acc;
    }
    free(s);
    free(w);
    return out_len;
}
