/* The optimizer's state as a checkpoint holds it: which buffers an
 * optimizer keeps, the checks a state read from a file must pass, and
 * adopting it. The file layout is the caller's (lib/meta/checkpoint.c);
 * what a valid state is, is the optimizer's. */
#include "model/optimizer_internal.h"
#include "core/error_internal.h"
#include "core/finite.h"

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>

int rp_optimizer_uses_m(const reptile_optimizer *o)
{
    return o->kind == REPTILE_OPTIMIZER_ADAM || o->momentum > 0.0f;
}

int rp_optimizer_uses_v(const reptile_optimizer *o) { return o->kind == REPTILE_OPTIMIZER_ADAM; }

rp_optimizer_state rp_optimizer_state_of(const reptile_optimizer *o)
{
    rp_optimizer_state s = {o->n, o->steps, o->n ? o->m : NULL, o->n ? o->v : NULL};
    return s;
}

/* Index of the first element that is NaN or Inf, or (nonneg) below zero;
 * n when there is none. */
static size_t first_invalid(const float *x, size_t n, int nonneg)
{
    if (!nonneg && rp_all_finite(x, n))
        return n; /* the common case, on the vectorised check */
    for (size_t i = 0; i < n; ++i)
        if (!isfinite(x[i]) || (nonneg && x[i] < 0.0f))
            return i;
    return n;
}

int rp_optimizer_check_steps(int64_t steps, const char *what)
{
    if (steps >= 0 && steps <= RP_MAX_OPT_STEPS)
        return 0;
    return rp_error(REPTILE_EFORMAT, "%s.steps is %" PRId64 ", outside 0..2^53", what, steps);
}

int rp_optimizer_check_moments(const float *x, size_t n, int is_v, const char *what)
{
    size_t i = first_invalid(x, n, is_v);
    if (i == n)
        return 0;
    return rp_error(REPTILE_EFORMAT, "%s element %zu is %g (must be finite%s)", what, i,
                    (double)x[i], is_v ? " and >= 0" : "");
}

void rp_optimizer_state_adopt(reptile_optimizer *o, rp_optimizer_state *s)
{
    free(o->m);
    free(o->v);
    o->n = s->n;
    o->steps = s->steps;
    o->m = s->m;
    o->v = s->v;
    s->m = s->v = NULL;
}

void rp_optimizer_state_free(rp_optimizer_state *s)
{
    free(s->m);
    free(s->v);
    s->m = s->v = NULL;
}
