/* Helpers shared by the lib/nn suites: seeded random tensors, tolerance
 * checks and central finite differences of a double-precision objective. */
#ifndef RP_NN_TESTUTIL_H
#define RP_NN_TESTUTIL_H

#include "testutil.h"
#include "core/rng.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Uniform in [lo, hi). */
static inline double nt_uniform(rp_rng *rng, double lo, double hi)
{
    return lo + (hi - lo) * rp_rng_double(rng);
}

static inline int nt_int(rp_rng *rng, int lo, int hi) /* inclusive */
{
    return lo + (int)rp_rng_below(rng, (uint32_t)(hi - lo + 1));
}

/* Fills a float tensor and its exact double copy (the float values, so both
 * references start from identical inputs). */
static inline void nt_fill(rp_rng *rng, size_t n, float lo, float hi, float *f, double *d)
{
    for (size_t i = 0; i < n; ++i) {
        f[i] = (float)nt_uniform(rng, lo, hi);
        if (d)
            d[i] = f[i];
    }
}

static inline void *nt_alloc(size_t bytes)
{
    void *p = calloc(bytes ? bytes : 1, 1);
    ck_assert_ptr_nonnull(p);
    return p;
}

static inline double nt_maxabs(size_t n, const double *d)
{
    double m = 0.0;
    for (size_t i = 0; i < n; ++i)
        m = fabs(d[i]) > m ? fabs(d[i]) : m;
    return m;
}

/* Elementwise |got - want| <= rtol*|want| + atol_rel*max|want| (+ tiny floor
 * for all-zero tensors). Reports the first failing index. */
static inline void nt_check_close(const char *what, size_t n, const float *got, const double *want, double rtol,
                                  double atol_rel)
{
    const double scale = nt_maxabs(n, want);
    const double atol = atol_rel * scale + 1e-12;
    for (size_t i = 0; i < n; ++i) {
        double err = fabs((double)got[i] - want[i]);
        ck_assert_msg(err <= rtol * fabs(want[i]) + atol, "%s[%zu]: got %.9g want %.9g (err %.3g, scale %.3g)", what,
                      i, (double)got[i], want[i], err, scale);
    }
}

/* Objective for finite differences: evaluates a double scalar. */
typedef double (*nt_objective)(void *ctx);

/* Central difference of obj with respect to p[i]: exact for the linear
 * layers (conv, dense) up to rounding, O(h^2) for the others. */
static inline double nt_fd(nt_objective obj, void *ctx, double *p, size_t i, double h)
{
    const double keep = p[i];
    p[i] = keep + h;
    double fp = obj(ctx);
    p[i] = keep - h;
    double fm = obj(ctx);
    p[i] = keep;
    return (fp - fm) / (2.0 * h);
}

/* Checks an analytic float gradient g[0..n) against finite differences on
 * up to max_checks entries (all when n is small, else a random subset). */
static inline void nt_check_grad(const char *what, rp_rng *rng, nt_objective obj, void *ctx, double *p, size_t n,
                                 const float *g, double h, double rtol, double atol_rel, size_t max_checks)
{
    double *fd = nt_alloc(n * sizeof *fd);
    float *gs = nt_alloc(n * sizeof *gs);
    size_t m = 0;
    if (n <= max_checks) {
        for (size_t i = 0; i < n; ++i, ++m) {
            fd[m] = nt_fd(obj, ctx, p, i, h);
            gs[m] = g[i];
        }
    } else {
        for (; m < max_checks; ++m) {
            size_t i = rp_rng_below(rng, (uint32_t)n);
            fd[m] = nt_fd(obj, ctx, p, i, h);
            gs[m] = g[i];
        }
    }
    nt_check_close(what, m, gs, fd, rtol, atol_rel);
    free(fd);
    free(gs);
}

#endif
