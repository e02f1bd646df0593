/* Checks examples/smooth.c against the tutorial's numpy smoothing
 * (expected values from gen-smooth-expected.py). Plain test: exit 0 = pass. */
#include "smooth.h"
#include "smooth_expected.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

int main(void)
{
    int failed = 0, passed = 0;
    for (size_t c = 0; c < sizeof smooth_cases / sizeof smooth_cases[0]; c++) {
        const struct smooth_case *t = &smooth_cases[c];
        size_t len = ex_smooth_length(t->n, t->window);
        if (len != t->out_n) {
            printf("FAIL %s: length %zu, numpy %zu\n", t->name, len, t->out_n);
            failed++;
            continue;
        }
        double *y = malloc(len * sizeof *y);
        if (!y)
            return 1;
        size_t got = ex_smooth_hamming(t->in, t->n, t->window, y);
        double worst = 0.0;
        size_t at = 0;
        for (size_t i = 0; i < len; i++) {
            double d = fabs(y[i] - t->out[i]);
            if (d > worst) {
                worst = d;
                at = i;
            }
        }
        if (got != len || worst > 1e-12) {
            printf("FAIL %s: wrote %zu of %zu, max |diff| %g at %zu (%.17g vs numpy %.17g)\n",
                   t->name, got, len, worst, at, y[at], t->out[at]);
            failed++;
        } else {
            printf("ok   %s: %zu points, max |diff| %.3g\n", t->name, len, worst);
            passed++;
        }
        free(y);
    }
    /* Empty series: nothing to smooth. */
    if (ex_smooth_length(0, 100) != 0 || ex_smooth_hamming(NULL, 0, 100, NULL) != 0) {
        printf("FAIL empty series\n");
        failed++;
    } else {
        passed++;
    }
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
