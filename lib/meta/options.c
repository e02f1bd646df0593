/* Meta-learning options: defaults, named presets, validation. */
#include "reptile/meta.h"
#include "core/error_internal.h"

#include <math.h>
#include <string.h>

static void set_keras_tutorial(reptile_meta_options *o)
{
    o->ways = 5;
    o->train_shots = 20;
    o->inner_batch = 25;
    o->inner_iters = 4;
    o->meta_batch = 1;
    o->meta_iters = 2000;
    o->meta_step = 0.25f;
    o->meta_step_final = 0.0f;
    o->optimizer = REPTILE_OPTIMIZER_SGD;
    o->lr = 0.003f;
    o->momentum = 0.0f;
    o->beta1 = 0.9f;
    o->beta2 = 0.999f;
    o->adam_eps = 1e-8f;
    o->optimizer_state = REPTILE_STATE_RESET;
    o->reduction = REPTILE_REDUCTION_SUM;
    o->keras_clip = 1;
    o->bn_mode = REPTILE_BN_FROZEN;
    o->with_replacement = 1;
    o->eval_shots = 5;
    o->eval_batch = 25;
    o->eval_iters = 5;
    o->iters_are_steps = 0;
    o->eval_mode = REPTILE_EVAL_NON_TRANSDUCTIVE;
    o->keras_argmax = 0;
    o->eval_interval = 1;
    o->seed = 1;
    o->threads = 1;
    o->progress = NULL;
    o->progress_user = NULL;
    o->allreduce = NULL;
    o->allreduce_user = NULL;
    o->rank = 0;
    o->world_size = 1;
}

/* The reference implementation's semantics on the tutorial's budget. */
static void set_reference_tutorial(reptile_meta_options *o)
{
    set_keras_tutorial(o);
    o->with_replacement = 0;
    o->bn_mode = REPTILE_BN_BATCH;
    o->keras_clip = 0;
    o->eval_mode = REPTILE_EVAL_NON_TRANSDUCTIVE;
}

/* Nichol et al. 2018, Omniglot, as in supervised-reptile's run commands. */
static void set_paper(reptile_meta_options *o, int ways)
{
    set_keras_tutorial(o);
    o->ways = ways;
    o->train_shots = 10;
    o->inner_batch = ways == 5 ? 10 : 20;
    o->inner_iters = ways == 5 ? 5 : 10;
    o->meta_batch = 5;
    o->meta_iters = ways == 5 ? 100000 : 200000;
    o->meta_step = 1.0f;
    o->meta_step_final = 0.0f;
    o->optimizer = REPTILE_OPTIMIZER_ADAM;
    o->lr = ways == 5 ? 1e-3f : 5e-4f;
    o->beta1 = 0.0f;
    o->beta2 = 0.999f;
    o->adam_eps = 1e-8f;
    o->optimizer_state = REPTILE_STATE_CARRY;
    o->reduction = REPTILE_REDUCTION_MEAN;
    o->keras_clip = 0;
    o->bn_mode = REPTILE_BN_BATCH;
    o->with_replacement = 0;
    o->eval_shots = 5;
    o->eval_batch = ways == 5 ? 5 : 10;
    o->eval_iters = 50;
    o->iters_are_steps = 1;
    o->eval_mode = REPTILE_EVAL_NON_TRANSDUCTIVE;
    o->eval_interval = 0;
}

static const char *const preset_names =
    "keras-tutorial, reference-tutorial, paper-omniglot-5way, paper-omniglot-20way";

static int check_version(const reptile_meta_options *opts, unsigned int version, const char *what)
{
    if (!opts)
        return rp_error(REPTILE_EINVAL, "%s: options pointer is NULL", what);
    if (version < 1 || version > REPTILE_META_OPTIONS_VERSION)
        return rp_error(REPTILE_EVERSION,
                        "%s: options version %u is unknown (this library knows 1..%d)", what,
                        version, REPTILE_META_OPTIONS_VERSION);
    return 0;
}

int reptile_meta_options_init(reptile_meta_options *opts, unsigned int version)
{
    int rc = check_version(opts, version, "reptile_meta_options_init");
    if (rc)
        return rc;
    /* Version 1 is the whole struct today; later versions append fields and
     * this writes only the prefix an older caller knows. */
    memset(opts, 0, sizeof *opts);
    set_keras_tutorial(opts);
    opts->version = version;
    return 0;
}

int reptile_meta_options_preset(reptile_meta_options *opts, unsigned int version, const char *name)
{
    int rc = reptile_meta_options_init(opts, version);
    if (rc)
        return rc;
    if (!name)
        return rp_error(REPTILE_EINVAL, "reptile_meta_options_preset: name is NULL");
    if (strcmp(name, "keras-tutorial") == 0)
        return 0;
    if (strcmp(name, "reference-tutorial") == 0)
        set_reference_tutorial(opts);
    else if (strcmp(name, "paper-omniglot-5way") == 0)
        set_paper(opts, 5);
    else if (strcmp(name, "paper-omniglot-20way") == 0)
        set_paper(opts, 20);
    else
        return rp_error(REPTILE_ENOTFOUND, "unknown preset \"%s\" (known: %s)", name, preset_names);
    return 0;
}

#define REQUIRE(cond, ...)                              \
    do {                                                \
        if (!(cond))                                    \
            return rp_error(REPTILE_EINVAL, __VA_ARGS__); \
    } while (0)

int reptile_meta_options_validate(const reptile_meta_options *o)
{
    int rc = check_version(o, o ? o->version : 0, "meta options");
    if (rc)
        return rc;
    const int big = 1 << 20;
    REQUIRE(o->ways >= 2 && o->ways <= 4096, "ways must be in 2..4096, got %d", o->ways);
    REQUIRE(o->train_shots >= 1 && o->train_shots <= 10000, "train_shots must be in 1..10000, got %d",
            o->train_shots);
    REQUIRE(o->inner_batch >= 1 && o->inner_batch <= 100000, "inner_batch must be in 1..100000, got %d",
            o->inner_batch);
    REQUIRE(o->inner_iters >= 1 && o->inner_iters <= big, "inner_iters must be in 1..%d, got %d", big,
            o->inner_iters);
    REQUIRE(o->meta_batch >= 1 && o->meta_batch <= 1024, "meta_batch must be in 1..1024, got %d",
            o->meta_batch);
    REQUIRE(o->meta_iters >= 1 && o->meta_iters <= 100000000, "meta_iters must be >= 1, got %d",
            o->meta_iters);
    REQUIRE(isfinite(o->meta_step) && o->meta_step >= 0.0f && o->meta_step <= 1.0f,
            "meta_step must be in [0, 1], got %g", (double)o->meta_step);
    REQUIRE(isfinite(o->meta_step_final) && o->meta_step_final >= 0.0f && o->meta_step_final <= 1.0f,
            "meta_step_final must be in [0, 1], got %g", (double)o->meta_step_final);
    REQUIRE(o->optimizer == REPTILE_OPTIMIZER_SGD || o->optimizer == REPTILE_OPTIMIZER_ADAM,
            "optimizer must be REPTILE_OPTIMIZER_SGD or _ADAM, got %d", o->optimizer);
    REQUIRE(isfinite(o->lr) && o->lr > 0.0f && o->lr < 1e3f, "lr must be > 0 and finite, got %g",
            (double)o->lr);
    REQUIRE(o->momentum >= 0.0f && o->momentum < 1.0f, "momentum must be in [0, 1), got %g",
            (double)o->momentum);
    REQUIRE(o->beta1 >= 0.0f && o->beta1 < 1.0f, "beta1 must be in [0, 1), got %g", (double)o->beta1);
    REQUIRE(o->beta2 >= 0.0f && o->beta2 < 1.0f, "beta2 must be in [0, 1), got %g", (double)o->beta2);
    REQUIRE(isfinite(o->adam_eps) && o->adam_eps > 0.0f, "adam_eps must be > 0, got %g",
            (double)o->adam_eps);
    REQUIRE(o->optimizer_state == REPTILE_STATE_RESET || o->optimizer_state == REPTILE_STATE_CARRY,
            "optimizer_state must be REPTILE_STATE_RESET or _CARRY, got %d", o->optimizer_state);
    REQUIRE(o->reduction == REPTILE_REDUCTION_SUM || o->reduction == REPTILE_REDUCTION_MEAN,
            "reduction must be REPTILE_REDUCTION_SUM or _MEAN, got %d", o->reduction);
    REQUIRE(o->bn_mode == REPTILE_BN_BATCH || o->bn_mode == REPTILE_BN_MOVING,
            "bn_mode must be REPTILE_BN_BATCH or REPTILE_BN_FROZEN/_MOVING, got %d", o->bn_mode);
    REQUIRE(o->eval_shots >= 1 && o->eval_shots <= 10000, "eval_shots must be in 1..10000, got %d",
            o->eval_shots);
    REQUIRE(o->eval_batch >= 1 && o->eval_batch <= 100000, "eval_batch must be in 1..100000, got %d",
            o->eval_batch);
    REQUIRE(o->eval_iters >= 0 && o->eval_iters <= big, "eval_iters must be in 0..%d, got %d", big,
            o->eval_iters);
    REQUIRE(o->eval_mode == REPTILE_EVAL_NON_TRANSDUCTIVE || o->eval_mode == REPTILE_EVAL_TRANSDUCTIVE,
            "eval_mode must be REPTILE_EVAL_NON_TRANSDUCTIVE or _TRANSDUCTIVE, got %d", o->eval_mode);
    REQUIRE(o->eval_interval >= 0, "eval_interval must be >= 0, got %d", o->eval_interval);
    REQUIRE(o->threads >= 1 && o->threads <= 256, "threads must be in 1..256, got %d", o->threads);
    REQUIRE(o->world_size >= 1 && o->world_size <= 1 << 16, "world_size must be in 1..65536, got %d",
            o->world_size);
    REQUIRE(o->rank >= 0 && o->rank < o->world_size, "rank must be in 0..world_size-1 (%d), got %d",
            o->world_size - 1, o->rank);
    REQUIRE(o->world_size == 1 || o->allreduce != NULL,
            "world_size is %d but no allreduce function is set", o->world_size);
    return 0;
}
