#ifndef RP_MODEL_OPTIMIZER_INTERNAL_H
#define RP_MODEL_OPTIMIZER_INTERNAL_H

#include "reptile/optimizer.h"

#include <stddef.h>
#include <stdint.h>

struct reptile_optimizer {
    int kind;              /* REPTILE_OPTIMIZER_SGD / _ADAM (meta.h) */
    float lr, momentum;
    float beta1, beta2, eps;
    int reduction;
    int keras_clip;
    int64_t steps;         /* Adam bias correction */
    size_t n;              /* size of the moment buffers (0 = not bound yet) */
    float *m, *v;          /* SGD velocity in m; Adam first/second moments */
};

/* Applies the update for gradient g to params; binds/sizes the state on
 * first use. REPTILE_EDIVERGED (params untouched) if g holds NaN/Inf. */
int rp_optimizer_apply(reptile_optimizer *opt, float *params, const float *g, size_t n);

/* Copies src's state (moments, step count) into dst, same kind. */
int rp_optimizer_copy_state(reptile_optimizer *dst, const reptile_optimizer *src);


#endif
