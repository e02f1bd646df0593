/* Adaptation in the public API (reptile/adapt.h): a learner holds the
 * meta-trained weights, the settings and the carried optimizer state; each
 * adaptation clones the weights and runs the fine-tuning path that the
 * meta-learner's evaluation runs (model/finetune.c). */
#include "meta/meta_internal.h"
#include "meta/option_table.h"
#include "model/finetune.h"
#include "model/model_internal.h"
#include "model/optimizer_internal.h"
#include "reptile/adapt.h"

#include <stdlib.h>
#include <string.h>

struct reptile_learner {
    reptile_meta_options opts;
    reptile_model *model;      /* finalised: read by many threads, never written */
    reptile_optimizer *saved;  /* the carried state adaptation starts from, or NULL */
};

struct reptile_adapted {
    reptile_model *model;
    int ways, ns;
    int bn_mode;
    rp_task_buffers task;      /* the support set (kept for prediction) and scratch */
};

static int new_optimizer(const reptile_meta_options *o, reptile_optimizer **out)
{
    return o->optimizer == REPTILE_OPTIMIZER_ADAM
               ? reptile_optimizer_new_adam(out, o->lr, o->beta1, o->beta2, o->adam_eps)
               : reptile_optimizer_new_sgd(out, o->lr, o->momentum);
}

/* The learner with everything but the saved state. */
static int learner_new(reptile_learner **out, const reptile_model *model,
                       const reptile_meta_options *opts, const char *what)
{
    if (!out)
        return rp_error(REPTILE_EINVAL, "%s: out is NULL", what);
    *out = NULL;
    if (!model)
        return rp_error(REPTILE_EINVAL, "%s: model is NULL", what);
    reptile_learner *l = calloc(1, sizeof *l);
    if (!l)
        return rp_error(REPTILE_ENOMEM, "%s: out of memory", what);
    int rc = rp_meta_options_resolve(&l->opts, opts);
    if (rc == 0)
        rc = reptile_model_clone(&l->model, model);
    if (rc == 0)
        rc = reptile_model_set_loss(l->model, l->opts.reduction, l->opts.keras_clip);
    if (rc) {
        reptile_learner_free(l);
        return rc;
    }
    l->opts.progress = NULL;
    l->opts.allreduce = NULL;
    l->opts.progress_user = l->opts.allreduce_user = NULL;
    *out = l;
    return 0;
}

int reptile_learner_new(reptile_learner **out, const reptile_model *model,
                        const reptile_meta_options *opts)
{
    return learner_new(out, model, opts, "reptile_learner_new");
}

/* Adopts a copy of `state` as the state adaptation starts from. */
static int set_saved(reptile_learner *l, const reptile_optimizer *state)
{
    int rc = new_optimizer(&l->opts, &l->saved);
    return rc ? rc : rp_optimizer_copy_state(l->saved, state);
}

int reptile_learner_from_meta(reptile_learner **out, const reptile_meta *meta)
{
    if (!meta) {
        if (out)
            *out = NULL;
        return rp_error(REPTILE_EINVAL, "reptile_learner_from_meta: meta-learner is NULL");
    }
    int rc = learner_new(out, meta->model, &meta->opts, "reptile_learner_from_meta");
    if (rc == 0 && rp_meta_state_carried(&meta->opts) &&
        (rc = set_saved(*out, meta->slots[0].opt)) != 0) {
        reptile_learner_free(*out);
        *out = NULL;
    }
    return rc;
}

int rp_learner_adopt_state(reptile_learner *l, rp_optimizer_state *state)
{
    if (!rp_meta_state_carried(&l->opts) || state->n == 0)
        return 0; /* nothing saved: adaptation starts fresh */
    int rc = new_optimizer(&l->opts, &l->saved);
    if (rc == 0)
        rp_optimizer_state_adopt(l->saved, state);
    return rc;
}

int reptile_learner_with_options(reptile_learner **out, const reptile_learner *learner,
                                 const reptile_meta_options *opts)
{
    if (!learner) {
        if (out)
            *out = NULL;
        return rp_error(REPTILE_EINVAL, "reptile_learner_with_options: learner is NULL");
    }
    int rc = learner_new(out, learner->model, opts, "reptile_learner_with_options");
    if (rc || !learner->saved || !rp_meta_state_carried(&(*out)->opts))
        return rc;
    /* The state keeps its meaning only for the same kind of moments. */
    reptile_optimizer *probe = NULL;
    rc = new_optimizer(&(*out)->opts, &probe);
    const int same = rc == 0 && probe->kind == learner->saved->kind &&
                     rp_optimizer_uses_m(probe) == rp_optimizer_uses_m(learner->saved) &&
                     rp_optimizer_uses_v(probe) == rp_optimizer_uses_v(learner->saved);
    reptile_optimizer_free(probe);
    if (rc == 0 && same)
        rc = set_saved(*out, learner->saved);
    if (rc) {
        reptile_learner_free(*out);
        *out = NULL;
    }
    return rc;
}

const reptile_meta_options *reptile_learner_options(const reptile_learner *l)
{
    return l ? &l->opts : NULL;
}

const reptile_model *reptile_learner_model(const reptile_learner *l) { return l ? l->model : NULL; }

int reptile_learner_has_saved_state(const reptile_learner *l) { return l && l->saved; }

void reptile_learner_free(reptile_learner *l)
{
    if (!l)
        return;
    reptile_model_free(l->model);
    reptile_optimizer_free(l->saved);
    free(l);
}

/* ---- adapting ------------------------------------------------------------------ */

static int check_support(const reptile_learner *l, const float *support, const int32_t *labels,
                         int n, int ways)
{
    const int outputs = reptile_model_num_outputs(l->model);
    if (!support || !labels)
        return rp_error(REPTILE_EINVAL, "reptile_learner_adapt: NULL support images or labels");
    if (ways < 2 || ways > outputs)
        return rp_error(REPTILE_EINVAL,
                        "reptile_learner_adapt: ways must be in 2..%d (the model's outputs), got %d",
                        outputs, ways);
    if (n < 1 || n > (1 << 20))
        return rp_error(REPTILE_EINVAL, "reptile_learner_adapt: n must be in 1..%d, got %d",
                        1 << 20, n);
    for (int i = 0; i < n; ++i)
        if (labels[i] < 0 || labels[i] >= ways)
            return rp_error(REPTILE_EINVAL,
                            "reptile_learner_adapt: label %d of support image %d is outside 0..%d",
                            labels[i], i, ways - 1);
    return 0;
}

int reptile_learner_adapt(const reptile_learner *l, reptile_adapted **out, const float *support,
                          const int32_t *labels, int n, int ways, uint64_t seed)
{
    if (!out)
        return rp_error(REPTILE_EINVAL, "reptile_learner_adapt: out is NULL");
    *out = NULL;
    if (!l)
        return rp_error(REPTILE_EINVAL, "reptile_learner_adapt: learner is NULL");
    int rc = check_support(l, support, labels, n, ways);
    if (rc)
        return rc;
    const reptile_meta_options *o = &l->opts;
    reptile_adapted *a = calloc(1, sizeof *a);
    reptile_optimizer *opt = NULL;
    if (!a)
        return rp_error(REPTILE_ENOMEM, "reptile_learner_adapt: out of memory");
    a->ways = ways;
    a->ns = n;
    a->bn_mode = o->bn_mode;
    rc = rp_model_clone(&a->model, l->model);
    if (rc == 0)
        rc = new_optimizer(o, &opt);
    if (rc == 0)
        rc = rp_task_buffers_reserve(&a->task, a->model, n, 1, o->eval_batch);
    if (rc == 0) {
        int h, w, c;
        reptile_model_input_shape(a->model, &h, &w, &c);
        memcpy(a->task.support, support, (size_t)n * h * w * c * sizeof *support);
        memcpy(a->task.support_y, labels, (size_t)n * sizeof *labels);
        const rp_finetune_config cfg = rp_meta_finetune_config(o);
        rc = rp_finetune_task(a->model, opt, l->saved, &cfg, &a->task, n, seed);
    }
    reptile_optimizer_free(opt);
    /* Between calls an adapted task holds its weights, not ~10 MB of
     * workspace; this thread's next task or prediction reuses it. */
    if (a->model)
        rp_model_release_workspace(a->model);
    if (rc) {
        reptile_adapted_free(a);
        return rc;
    }
    *out = a;
    return 0;
}

int reptile_adapted_predict(reptile_adapted *a, const float *queries, int count, int mode,
                            float *probs)
{
    if (!a || !queries || !probs)
        return rp_error(REPTILE_EINVAL, "reptile_adapted_predict: NULL argument");
    if (count < 1 || count > (1 << 20))
        return rp_error(REPTILE_EINVAL, "reptile_adapted_predict: count must be in 1..%d, got %d",
                        1 << 20, count);
    if (mode != REPTILE_PREDICT_WITH_SUPPORT && mode != REPTILE_PREDICT_TRANSDUCTIVE)
        return rp_error(REPTILE_EINVAL,
                        "reptile_adapted_predict: mode must be REPTILE_PREDICT_WITH_SUPPORT (0) or "
                        "REPTILE_PREDICT_TRANSDUCTIVE (1), got %d",
                        mode);
    int rc = rp_predict_queries(a->model, a->bn_mode, mode == REPTILE_PREDICT_TRANSDUCTIVE,
                                a->task.support, a->ns, queries, count, probs, a->task.x,
                                a->task.row);
    rp_model_release_workspace(a->model);
    return rc;
}

int reptile_adapted_ways(const reptile_adapted *a) { return a ? a->ways : 0; }

void reptile_adapted_free(reptile_adapted *a)
{
    if (!a)
        return;
    reptile_model_free(a->model);
    rp_task_buffers_free(&a->task);
    free(a);
}
