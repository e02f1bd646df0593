#ifndef RP_MODEL_OPTIMIZER_INTERNAL_H
#define RP_MODEL_OPTIMIZER_INTERNAL_H

#include "reptile/optimizer.h"

#include <stddef.h>
#include <stdint.h>

/* Learning rates are in (0, RP_MAX_LR): the optimizer and the meta options
 * (lib/meta/option_table.c) share this bound. */
#define RP_MAX_LR 1000.0

struct reptile_optimizer {
    int kind;              /* REPTILE_OPTIMIZER_SGD / _ADAM (meta.h) */
    float lr, momentum;
    float beta1, beta2, eps;
    int64_t steps;         /* Adam bias correction */
    size_t n;              /* size of the moment buffers (0 = not bound yet) */
    float *m, *v;          /* SGD velocity in m; Adam first/second moments */
};

/* Applies the update for gradient g to params; binds/sizes the state on
 * first use. REPTILE_EDIVERGED (params untouched) if g holds NaN/Inf. */
int rp_optimizer_apply(reptile_optimizer *opt, float *params, const float *g, size_t n);

/* ---- state as a checkpoint holds it (optimizer_state.c) ---- */

/* Adam's step count goes into its bias correction as a double: beyond 2^53
 * counts are no longer exact (and near INT64_MAX the next step overflows). */
#define RP_MAX_OPT_STEPS ((int64_t)1 << 53)

typedef struct rp_optimizer_state {
    size_t n;       /* floats per moment buffer: 0 (not bound to a model yet) or the model's */
    int64_t steps;  /* Adam's step count */
    float *m, *v;   /* NULL where the optimizer keeps none */
} rp_optimizer_state;

/* Which buffers this optimizer keeps: m (SGD velocity when momentum > 0,
 * Adam's first moment), v (Adam's second moment). */
int rp_optimizer_uses_m(const reptile_optimizer *o);
int rp_optimizer_uses_v(const reptile_optimizer *o);

/* A view of o's state (its buffers, borrowed). */
rp_optimizer_state rp_optimizer_state_of(const reptile_optimizer *o);

/* Checks on a state read from a file, before anything trusts it (a NaN,
 * Inf or negative second moment would only show up later, blamed on a
 * gradient, or silently freeze the step). REPTILE_EFORMAT naming `what`. */
int rp_optimizer_check_steps(int64_t steps, const char *what);
int rp_optimizer_check_moments(const float *x, size_t n, int is_v, const char *what);

/* Replaces o's state with s, taking its buffers (cannot fail). */
void rp_optimizer_state_adopt(reptile_optimizer *o, rp_optimizer_state *s);
void rp_optimizer_state_free(rp_optimizer_state *s);

/* Copies src's state (moments, step count) into dst, same kind. */
int rp_optimizer_copy_state(reptile_optimizer *dst, const reptile_optimizer *src);


#endif
