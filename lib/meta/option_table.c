#include "meta/option_table.h"
#include "core/error_internal.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#define INF HUGE_VAL
#define BOOL01 "0 or 1"
#define RS (RP_OPT_RESUME | RP_OPT_RANKS)

/* X(field, type, default, lo, hi, lo_open, hi_open, flags, values, help)
 * Defaults are the keras-tutorial preset (the tutorial as coded). */
#define RP_META_OPTIONS(X)                                                                          \
    X(ways, INT, 5, 2, 4096, 0, 0, RS, NULL, "classes per task (N)")                                \
    X(train_shots, INT, 20, 1, 10000, 0, 0, RS, NULL, "support images per class in a training task") \
    X(inner_batch, INT, 25, 1, 100000, 0, 0, RS, NULL, "inner-loop batch size")                     \
    X(inner_iters, INT, 4, 1, 1 << 20, 0, 0, RS, NULL,                                              \
      "inner-loop length: epochs, or steps with iters_are_steps")                                   \
    X(meta_batch, INT, 1, 1, 1024, 0, 0, RS, NULL, "training tasks per meta-iteration")              \
    X(meta_iters, INT, 2000, 1, 100000000, 0, 0, RS, NULL, "length of the meta-step schedule")      \
    X(meta_step, FLOAT, 0.25f, 0, 1, 0, 0, RS, NULL, "meta step at iteration 0")                    \
    X(meta_step_final, FLOAT, 0.0f, 0, 1, 0, 0, RS, NULL, "meta step reached at meta_iters")         \
    X(optimizer, INT, REPTILE_OPTIMIZER_SGD, 0, 1, 0, 0, RS,                                        \
      "REPTILE_OPTIMIZER_SGD (0) or REPTILE_OPTIMIZER_ADAM (1)", "inner-loop optimizer")            \
    X(lr, FLOAT, 0.003f, 0, 1000, 1, 1, RS, NULL, "inner learning rate")                           \
    X(momentum, FLOAT, 0.0f, 0, 1, 0, 1, RS, NULL, "SGD momentum")                                  \
    X(beta1, FLOAT, 0.9f, 0, 1, 0, 1, RS, NULL, "Adam first-moment decay")                          \
    X(beta2, FLOAT, 0.999f, 0, 1, 0, 1, RS, NULL, "Adam second-moment decay")                       \
    X(adam_eps, FLOAT, 1e-8f, 0, INF, 1, 1, RS, NULL, "Adam epsilon")                               \
    X(optimizer_state, INT, REPTILE_STATE_RESET, 0, 1, 0, 0, RS,                                    \
      "REPTILE_STATE_RESET (0) or REPTILE_STATE_CARRY (1)", "inner optimizer state between tasks") \
    X(reduction, INT, REPTILE_REDUCTION_SUM, 0, 1, 0, 0, RS,                                        \
      "REPTILE_REDUCTION_SUM (0) or REPTILE_REDUCTION_MEAN (1)", "loss reduction over a batch")    \
    X(keras_clip, INT, 1, 0, 1, 0, 0, RS, BOOL01, "Keras' probability clipping in the loss")       \
    X(bn_mode, INT, REPTILE_BN_FROZEN, 0, 1, 0, 0, RS,                                              \
      "REPTILE_BN_BATCH (0) or REPTILE_BN_MOVING/_FROZEN (1)", "BatchNorm statistics")              \
    X(with_replacement, INT, 1, 0, 1, 0, 0, RS, BOOL01, "sample with replacement")                  \
    X(eval_shots, INT, 5, 1, 10000, 0, 0, RS, NULL, "support images per class in evaluation")       \
    X(eval_batch, INT, 25, 1, 100000, 0, 0, RS, NULL, "fine-tuning batch size")                     \
    X(eval_iters, INT, 5, 0, 1 << 20, 0, 0, RS, NULL, "fine-tuning length: epochs, or steps")        \
    X(iters_are_steps, INT, 0, 0, 1, 0, 0, RS, BOOL01, "inner_iters/eval_iters count steps")        \
    X(eval_mode, INT, REPTILE_EVAL_NON_TRANSDUCTIVE, 0, 1, 0, 0, RS,                                \
      "REPTILE_EVAL_NON_TRANSDUCTIVE (0) or REPTILE_EVAL_TRANSDUCTIVE (1)", "query classification") \
    X(keras_argmax, INT, 0, 0, 1, 0, 0, RS, BOOL01, "score as the tutorial's code does")             \
    X(eval_interval, INT, 1, 0, 2147483647, 0, 0, RP_OPT_RESUME, NULL,                              \
      "evaluate every N iterations (0 = never; workers other than rank 0 may not evaluate)")        \
    X(seed, U64, 1, 0, 0, 0, 0, RS, NULL, "seed of every random stream")                           \
    X(threads, INT, 1, 1, 256, 0, 0, 0, NULL, "worker threads (results do not depend on it)")      \
    X(rank, INT, 0, 0, 65535, 0, 0, RP_OPT_RESUME, NULL, "this worker's index")                     \
    X(world_size, INT, 1, 1, 65536, 0, 0, RS, NULL, "number of data-parallel workers")

#define C_TYPE_INT int
#define C_TYPE_FLOAT float
#define C_TYPE_U64 uint64_t

/* A compile-time check that each declared type is the field's type. */
#define CHECK_TYPE(f, t, ...)                                                                       \
    _Static_assert(sizeof(((reptile_meta_options *)0)->f) == sizeof(C_TYPE_##t), #f " type");
RP_META_OPTIONS(CHECK_TYPE)

#define SPEC(f, t, def, lo, hi, lo_open, hi_open, flags, values, help)                              \
    {#f, offsetof(reptile_meta_options, f), sizeof(C_TYPE_##t), RP_OPT_##t, lo, hi, lo_open,       \
     hi_open, flags, values, help},
const rp_option_spec rp_meta_option_specs[] = {RP_META_OPTIONS(SPEC)};
const size_t rp_meta_option_count = sizeof rp_meta_option_specs / sizeof rp_meta_option_specs[0];

#define NON_OPTION(f)                                                                               \
    {#f, offsetof(reptile_meta_options, f), sizeof(((reptile_meta_options *)0)->f), RP_OPT_INT, 0, \
     0, 0, 0, 0, NULL, NULL}
const rp_option_spec rp_meta_non_options[] = {
    NON_OPTION(version),   NON_OPTION(progress),       NON_OPTION(progress_user),
    NON_OPTION(allreduce), NON_OPTION(allreduce_user),
};
const size_t rp_meta_non_option_count = sizeof rp_meta_non_options / sizeof rp_meta_non_options[0];

#define SET_DEFAULT(f, t, def, ...) o->f = (def);
void rp_meta_options_set_defaults(reptile_meta_options *o)
{
    RP_META_OPTIONS(SET_DEFAULT)
    o->progress = NULL;
    o->progress_user = NULL;
    o->allreduce = NULL;
    o->allreduce_user = NULL;
}

static double value_of(const rp_option_spec *s, const reptile_meta_options *o)
{
    const char *p = (const char *)o + s->offset;
    if (s->type == RP_OPT_INT) {
        int x;
        memcpy(&x, p, sizeof x);
        return x;
    }
    float x;
    memcpy(&x, p, sizeof x);
    return x;
}

void rp_option_format(const rp_option_spec *s, const reptile_meta_options *o, char *buf, size_t cap)
{
    const char *p = (const char *)o + s->offset;
    if (s->type == RP_OPT_U64) {
        uint64_t x;
        memcpy(&x, p, sizeof x);
        snprintf(buf, cap, "%" PRIu64, x);
    } else if (s->type == RP_OPT_INT) {
        snprintf(buf, cap, "%d", (int)value_of(s, o));
    } else {
        snprintf(buf, cap, "%.9g", value_of(s, o));
    }
}

int rp_option_check(const rp_option_spec *s, const reptile_meta_options *o)
{
    if (s->type == RP_OPT_U64)
        return 0; /* every uint64 is a valid seed */
    const double v = value_of(s, o);
    const int in = isfinite(v) && (s->lo_open ? v > s->lo : v >= s->lo) &&
                   (s->hi_open ? v < s->hi : v <= s->hi);
    if (in)
        return 0;
    char got[48];
    rp_option_format(s, o, got, sizeof got);
    if (s->values)
        return rp_error(REPTILE_EINVAL, "%s must be %s, got %s", s->name, s->values, got);
    if (s->type == RP_OPT_INT)
        return rp_error(REPTILE_EINVAL, "%s must be in %.0f..%.0f, got %s", s->name, s->lo, s->hi,
                        got);
    if (isinf(s->hi))
        return rp_error(REPTILE_EINVAL, "%s must be %s %g and finite, got %s", s->name,
                        s->lo_open ? ">" : ">=", s->lo, got);
    return rp_error(REPTILE_EINVAL, "%s must be in %c%g, %g%c, got %s", s->name,
                    s->lo_open ? '(' : '[', s->lo, s->hi, s->hi_open ? ')' : ']', got);
}
