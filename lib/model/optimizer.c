/* SGD (with momentum) and Adam over one contiguous parameter buffer. */
#include "model/optimizer_internal.h"
#include "reptile/optimizer.h"
#include "core/error_internal.h"
#include "core/finite.h"
#include "core/simd.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int valid_lr(float lr) { return lr > 0.0f && lr < RP_MAX_LR; }

static int new_optimizer(reptile_optimizer **out, int kind, float lr)
{
    if (!out)
        return rp_error(REPTILE_EINVAL, "optimizer: out is NULL");
    *out = NULL;
    if (!valid_lr(lr))
        return rp_error(REPTILE_EINVAL, "optimizer: learning rate must be in (0, %g), got %g",
                        RP_MAX_LR, (double)lr);
    reptile_optimizer *o = calloc(1, sizeof *o);
    if (!o)
        return rp_error(REPTILE_ENOMEM, "optimizer: out of memory");
    o->kind = kind;
    o->lr = lr;
    *out = o;
    return 0;
}

int reptile_optimizer_new_sgd(reptile_optimizer **out, float lr, float momentum)
{
    if (!(momentum >= 0.0f && momentum < 1.0f)) {
        if (out)
            *out = NULL;
        return rp_error(REPTILE_EINVAL, "reptile_optimizer_new_sgd: momentum must be in [0, 1), got %g",
                        (double)momentum);
    }
    int rc = new_optimizer(out, REPTILE_OPTIMIZER_SGD, lr);
    if (rc == 0)
        (*out)->momentum = momentum;
    return rc;
}

int reptile_optimizer_new_adam(reptile_optimizer **out, float lr, float beta1, float beta2,
                               float eps)
{
    if (!(beta1 >= 0.0f && beta1 < 1.0f) || !(beta2 >= 0.0f && beta2 < 1.0f) ||
        !(eps > 0.0f) || !isfinite(eps)) {
        if (out)
            *out = NULL;
        return rp_error(REPTILE_EINVAL,
                        "reptile_optimizer_new_adam: need beta1, beta2 in [0, 1) and eps > 0, got "
                        "beta1 %g beta2 %g eps %g", (double)beta1, (double)beta2, (double)eps);
    }
    int rc = new_optimizer(out, REPTILE_OPTIMIZER_ADAM, lr);
    if (rc == 0) {
        (*out)->beta1 = beta1;
        (*out)->beta2 = beta2;
        (*out)->eps = eps;
    }
    return rc;
}

int reptile_optimizer_set_lr(reptile_optimizer *opt, float lr)
{
    if (!opt || !valid_lr(lr))
        return rp_error(REPTILE_EINVAL,
                        "reptile_optimizer_set_lr: need an optimizer and lr in (0, %g), got %g",
                        RP_MAX_LR, (double)lr);
    opt->lr = lr;
    return 0;
}

float reptile_optimizer_lr(const reptile_optimizer *opt) { return opt ? opt->lr : 0.0f; }

void reptile_optimizer_reset(reptile_optimizer *opt)
{
    if (!opt)
        return;
    opt->steps = 0;
    if (opt->m)
        memset(opt->m, 0, opt->n * sizeof *opt->m);
    if (opt->v)
        memset(opt->v, 0, opt->n * sizeof *opt->v);
}

void reptile_optimizer_free(reptile_optimizer *opt)
{
    if (!opt)
        return;
    free(opt->m);
    free(opt->v);
    free(opt);
}

static int bind(reptile_optimizer *opt, size_t n)
{
    if (opt->n == n)
        return 0;
    int need_m = rp_optimizer_uses_m(opt);
    int need_v = rp_optimizer_uses_v(opt);
    float *m = need_m ? calloc(n, sizeof *m) : NULL;
    float *v = need_v ? calloc(n, sizeof *v) : NULL;
    if ((need_m && !m) || (need_v && !v)) {
        free(m);
        free(v);
        return rp_error(REPTILE_ENOMEM, "optimizer: out of memory for %zu moments", n);
    }
    free(opt->m);
    free(opt->v);
    opt->m = m;
    opt->v = v;
    opt->n = n;
    opt->steps = 0;
    return 0;
}

int rp_optimizer_copy_state(reptile_optimizer *dst, const reptile_optimizer *src)
{
    if (dst->kind != src->kind)
        return rp_error(REPTILE_EINVAL, "optimizer state copy between different kinds");
    if (src->n == 0) {
        reptile_optimizer_reset(dst);
        return 0;
    }
    int rc = bind(dst, src->n);
    if (rc)
        return rc;
    if (src->m && dst->m)
        memcpy(dst->m, src->m, src->n * sizeof *src->m);
    if (src->v && dst->v)
        memcpy(dst->v, src->v, src->n * sizeof *src->v);
    dst->steps = src->steps;
    return 0;
}

/* Adam's update of n parameters (its hottest loop), per vector width. */
RP_SIMD_LOOP void adam_loop(size_t n, float *restrict w, const float *restrict g,
                            float *restrict m, float *restrict v, float b1, float b2, float eps,
                            float step)
{
    for (size_t i = 0; i < n; ++i) {
        m[i] = b1 * m[i] + (1.0f - b1) * g[i];
        v[i] = b2 * v[i] + (1.0f - b2) * g[i] * g[i];
        w[i] -= step * m[i] / (sqrtf(v[i]) + eps);
    }
}
RP_SIMD_VARIANTS(adam,
                 (size_t n, float *restrict w, const float *restrict g, float *restrict m,
                  float *restrict v, float b1, float b2, float eps, float step),
                 (n, w, g, m, v, b1, b2, eps, step))

int rp_optimizer_apply(reptile_optimizer *opt, float *restrict w, const float *restrict g, size_t n)
{
    int rc = bind(opt, n);
    if (rc)
        return rc;
    if (!rp_all_finite(g, n))
        return rp_error(REPTILE_EDIVERGED, "gradient holds NaN or Inf; parameters left unchanged");
    const float lr = opt->lr;
    if (opt->kind == REPTILE_OPTIMIZER_SGD) {
        if (opt->momentum > 0.0f) {
            float *restrict v = opt->m;
            const float mu = opt->momentum;
            for (size_t i = 0; i < n; ++i) {
                v[i] = mu * v[i] - lr * g[i];
                w[i] += v[i];
            }
        } else {
            for (size_t i = 0; i < n; ++i)
                w[i] -= lr * g[i];
        }
        return 0;
    }
    /* Adam as TensorFlow's AdamOptimizer (the reference implementation):
     * bias correction folded into the step size, eps added to sqrt(v). */
    opt->steps++;
    const double t = (double)opt->steps;
    const float b1 = opt->beta1, b2 = opt->beta2, eps = opt->eps;
    const float step = (float)(lr * sqrt(1.0 - pow(b2, t)) / (1.0 - pow(b1, t)));
    RP_SIMD_CALL(adam, (n, w, g, opt->m, opt->v, b1, b2, eps, step));
    return 0;
}
