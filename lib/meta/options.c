/* Meta-learning options: defaults, named presets, validation. */
#include "meta/option_table.h"
#include "core/error_internal.h"

#include <string.h>

/* The reference implementation's semantics on the tutorial's budget. */
static void set_reference_tutorial(reptile_meta_options *o)
{
    o->with_replacement = 0;
    o->bn_mode = REPTILE_BN_BATCH;
    o->keras_clip = 0;
    o->eval_mode = REPTILE_EVAL_NON_TRANSDUCTIVE;
}

/* Nichol et al. 2018, Omniglot, as in supervised-reptile's run commands. */
static void set_paper(reptile_meta_options *o, int ways)
{
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
    rp_meta_options_set_defaults(opts);
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

int reptile_meta_options_validate(const reptile_meta_options *o)
{
    int rc = check_version(o, o ? o->version : 0, "meta options");
    for (size_t i = 0; rc == 0 && i < rp_meta_option_count; ++i)
        rc = rp_option_check(&rp_meta_option_specs[i], o);
    if (rc)
        return rc;
    /* Rules between options; single ranges are in the table. */
    if (o->rank >= o->world_size)
        return rp_error(REPTILE_EINVAL, "rank must be in 0..world_size-1 (%d), got %d",
                        o->world_size - 1, o->rank);
    if (o->world_size > 1 && !o->allreduce)
        return rp_error(REPTILE_EINVAL, "world_size is %d but no allreduce function is set",
                        o->world_size);
    return 0;
}
