#include "meta/option_table.h"
#include "core/decimal.h"
#include "core/error_internal.h"
#include "core/versioned.h"
#include "model/optimizer_internal.h"
#include "reptile/model.h"

#include <ctype.h>
#include <errno.h>
#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define INF HUGE_VAL
#define RS (RP_OPT_RESUME | RP_OPT_RANKS)
/* Evaluation settings never shape training, so a resumed run may change
 * them (a saved state scored transductively keeps its optimizer state). */
#define EV RP_OPT_RANKS

/* X(field, since, kind, default, lo, hi, lo_open, hi_open, flags, values, unit, help)
 *
 * since: the first reptile_meta_options version with the field.
 *
 * kind: INT, FLOAT, UINT64, BOOL (0 or 1) or ENUM (values names 0, 1, ...).
 * Defaults are the paper-omniglot-5way preset: the reference
 * implementation's semantics with the paper's 5-way Omniglot settings.
 * Bounds are the library's; the optimizer shares RP_MAX_LR. */
#define RP_META_OPTIONS(X)                                                                          \
    X(ways, 1, INT, 5, 2, 4096, 0, 0, RS, NULL, "classes", "classes per task (N)")                     \
    X(train_shots, 1, INT, 10, 1, 10000, 0, 0, RS, NULL, "images per class",                           \
      "support images per class in a training task")                                               \
    X(inner_batch, 1, INT, 10, 1, 100000, 0, 0, RS, NULL, "images", "inner-loop batch size")           \
    X(inner_iters, 1, INT, 5, 1, 1 << 20, 0, 0, RS, NULL, "epochs or steps",                           \
      "inner-loop length: epochs over a training task, or SGD steps with iters_are_steps")          \
    X(meta_batch, 1, INT, 5, 1, 1024, 0, 0, RS, NULL, "tasks", "training tasks per meta-iteration")    \
    X(meta_iters, 1, INT, 100000, 1, 100000000, 0, 0, RS, NULL, "iterations",                          \
      "length of the meta-step schedule")                                                           \
    X(meta_step, 1, FLOAT, 1.0f, 0, 1, 0, 0, RS, NULL, NULL, "meta step at iteration 0")               \
    X(meta_step_final, 1, FLOAT, 0.0f, 0, 1, 0, 0, RS, NULL, NULL,                                     \
      "meta step reached at meta_iters (annealed linearly)")                                        \
    X(optimizer, 1, ENUM, REPTILE_OPTIMIZER_ADAM, 0, 1, 0, 0, RS, "sgd,adam", NULL,                    \
      "inner-loop optimizer")                                                                       \
    X(lr, 1, FLOAT, 1e-3f, 0, RP_MAX_LR, 1, 1, RS, NULL, NULL, "inner learning rate")                  \
    X(momentum, 1, FLOAT, 0.0f, 0, 1, 0, 1, RS, NULL, NULL, "SGD momentum (0 = plain SGD)")            \
    X(beta1, 1, FLOAT, 0.0f, 0, 1, 0, 1, RS, NULL, NULL, "Adam first-moment decay (0 in the paper)")   \
    X(beta2, 1, FLOAT, 0.999f, 0, 1, 0, 1, RS, NULL, NULL, "Adam second-moment decay")                 \
    X(adam_eps, 1, FLOAT, 1e-8f, 0, INF, 1, 1, RS, NULL, NULL, "Adam epsilon")                         \
    X(optimizer_state, 1, ENUM, REPTILE_STATE_CARRY, 0, 2, 0, 0, RS, "reset,carry,chain", NULL,        \
      "inner optimizer state between tasks: fresh, carried per task slot, or chained through "     \
      "every task in turn (the reference; tasks run one after another)")                            \
    X(reduction, 1, ENUM, REPTILE_REDUCTION_MEAN, 0, 1, 0, 0, RS, "sum,mean", NULL,                    \
      "loss over a batch: sum (the tutorial's code) or mean")                                       \
    X(keras_clip, 1, BOOL, 0, 0, 1, 0, 0, RS, NULL, NULL,                                              \
      "clip probabilities to [1e-7, 1 - 1e-7] in the loss, as Keras does")                          \
    X(bn_mode, 1, ENUM, REPTILE_BN_BATCH, 0, 2, 0, 0, RS, "batch,moving,frozen", NULL,                 \
      "BatchNorm statistics in inner steps and evaluation (frozen = moving, never updated)")       \
    X(with_replacement, 1, BOOL, 0, 0, 1, 0, 0, RS, NULL, NULL,                                        \
      "sample classes and images with replacement (the tutorial's random.choices)")                 \
    X(eval_shots, 1, INT, 5, 1, 10000, 0, 0, EV, NULL, "images per class",                             \
      "support images per class in an evaluation task")                                             \
    X(eval_batch, 1, INT, 5, 1, 100000, 0, 0, EV, NULL, "images", "fine-tuning batch size")            \
    X(eval_iters, 1, INT, 50, 0, 1 << 20, 0, 0, EV, NULL, "epochs or steps",                           \
      "fine-tuning length: epochs over the support set, or SGD steps with iters_are_steps")         \
    X(iters_are_steps, 1, BOOL, 1, 0, 1, 0, 0, RS, NULL, NULL,                                         \
      "inner_iters and eval_iters count SGD steps of full batches (the reference), not epochs")     \
    X(eval_mode, 1, ENUM, REPTILE_EVAL_NON_TRANSDUCTIVE, 0, 1, 0, 0, EV,                               \
      "non-transductive,transductive", NULL,                                                        \
      "classify each query with the support set, or all queries in one batch")                      \
    X(keras_argmax, 1, BOOL, 0, 0, 1, 0, 0, EV, NULL, NULL,                                            \
      "score training-time evaluations as the tutorial's code does (argmax over the query axis)")   \
    X(eval_interval, 1, INT, 0, 0, 100000000, 0, 0, 0, NULL, "iterations",                             \
      "reptile_meta_train(): evaluate one train and one test task every N iterations (0 = never)") \
    X(seed, 1, UINT64, 1, 0, 0, 0, 0, RS, NULL, NULL, "seed of every random stream")                   \
    X(threads, 1, INT, 1, 1, 256, 0, 0, 0, NULL, NULL, "worker threads (results do not depend on it)") \
    X(rank, 1, INT, 0, 0, 65535, 0, 0, RP_OPT_RESUME, NULL, NULL, "this worker's index")               \
    X(world_size, 1, INT, 1, 1, 65536, 0, 0, RS, NULL, NULL, "number of data-parallel workers")  \
    X(algorithm, 2, ENUM, REPTILE_ALGORITHM_REPTILE, 0, 1, 0, 0, RS, "reptile,fomaml", NULL,        \
      "meta-update: toward the adapted weights (Reptile) or the last inner step (first-order MAML)") \
    X(foml_tail, 2, INT, 0, 0, 10000, 0, 0, RS, NULL, "images per class",                          \
      "FOMAML: 0 = the last inner batch gives the update; N = a final batch of N images per class "  \
      "held out of the inner loop (--foml-tail)")

#define C_TYPE_INT int
#define C_TYPE_FLOAT float
#define C_TYPE_UINT64 uint64_t
#define C_TYPE_BOOL int
#define C_TYPE_ENUM int
#define STORE_INT RP_OPT_INT
#define STORE_FLOAT RP_OPT_FLOAT
#define STORE_UINT64 RP_OPT_U64
#define STORE_BOOL RP_OPT_INT
#define STORE_ENUM RP_OPT_INT

/* A compile-time check that each declared kind is stored as the field's type. */
#define CHECK_TYPE(f, since, kind, ...)                                                                    \
    _Static_assert(sizeof(((reptile_meta_options *)0)->f) == sizeof(C_TYPE_##kind), #f " type");
RP_META_OPTIONS(CHECK_TYPE)

#define SPEC(f, since, kind, def, lo, hi, lo_open, hi_open, flags, values, unit, help)              \
    {{#f, REPTILE_OPTION_##kind, lo, hi, lo_open, hi_open, flags, values, unit, help, since},      \
     offsetof(reptile_meta_options, f), sizeof(C_TYPE_##kind), STORE_##kind},
const rp_option_spec rp_meta_option_specs[] = {RP_META_OPTIONS(SPEC)};
const size_t rp_meta_option_count = sizeof rp_meta_option_specs / sizeof rp_meta_option_specs[0];

#define NON_OPTION(f)                                                                               \
    {{#f, REPTILE_OPTION_INT, 0, 0, 0, 0, 0, NULL, NULL, NULL, 1},                                 \
     offsetof(reptile_meta_options, f), sizeof(((reptile_meta_options *)0)->f), RP_OPT_INT}
const rp_option_spec rp_meta_non_options[] = {
    NON_OPTION(version),   NON_OPTION(progress),       NON_OPTION(progress_user),
    NON_OPTION(allreduce), NON_OPTION(allreduce_user),
};
const size_t rp_meta_non_option_count = sizeof rp_meta_non_options / sizeof rp_meta_non_options[0];

/* Each version's fields end: version 1 with world_size, version 2 with
 * foml_tail; a later version appends fields and its end here. */
static const size_t version_size[] = {0, RP_FIELDS_END(reptile_meta_options, world_size),
                                      RP_FIELDS_END(reptile_meta_options, foml_tail)};
_Static_assert(sizeof version_size / sizeof version_size[0] == REPTILE_META_OPTIONS_VERSION + 1,
               "give every reptile_meta_options version its size");
const rp_struct_versions rp_meta_options_versions = {"options", version_size,
                                                     REPTILE_META_OPTIONS_VERSION};

#define SET_DEFAULT(f, since, kind, def, ...) o->f = (def);
void rp_meta_options_set_defaults(reptile_meta_options *o)
{
    memset(o, 0, sizeof *o);
    RP_META_OPTIONS(SET_DEFAULT)
}

const rp_option_spec *rp_option_find(const char *name)
{
    if (!name)
        return NULL;
    for (size_t i = 0; i < rp_meta_option_count; ++i) {
        const char *a = rp_meta_option_specs[i].info.name, *b = name;
        while (*a && (*a == *b || (*a == '_' && *b == '-')))
            ++a, ++b;
        if (!*a && !*b)
            return &rp_meta_option_specs[i];
    }
    return NULL;
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

/* Name number k of an enum ("sgd,adam", 1 -> "adam") into buf. */
static int enum_name(const char *values, int k, char *buf, size_t cap)
{
    const char *p = values;
    for (int i = 0; i < k && p; ++i) {
        p = strchr(p, ',');
        if (p)
            ++p;
    }
    if (!p || k < 0)
        return -1;
    size_t n = strcspn(p, ",");
    snprintf(buf, cap, "%.*s", (int)n, p);
    return 0;
}

/* "sgd (0) or adam (1)" */
static void enum_list(const rp_option_spec *s, char *buf, size_t cap)
{
    size_t used = 0;
    const int n = (int)s->info.max + 1;
    buf[0] = '\0';
    for (int k = 0; k < n && used < cap; ++k) {
        char name[40];
        enum_name(s->info.values, k, name, sizeof name);
        int w = snprintf(buf + used, cap - used, "%s%s (%d)",
                         k == 0 ? "" : k == n - 1 ? " or " : ", ", name, k);
        used += w > 0 ? (size_t)w : 0;
    }
}

void rp_option_format(const rp_option_spec *s, const reptile_meta_options *o, char *buf, size_t cap)
{
    if (!buf || cap == 0)
        return;
    const char *p = (const char *)o + s->offset;
    if (s->type == RP_OPT_U64) {
        uint64_t x;
        memcpy(&x, p, sizeof x);
        snprintf(buf, cap, "%" PRIu64, x);
    } else if (s->type == RP_OPT_FLOAT) {
        /* The shortest text that reads back as the same float (9 digits always do). */
        const float x = (float)value_of(s, o);
        static const char *const shortest_first[] = {"%.6g", "%.7g", "%.8g", "%.9g"};
        for (int i = 0; i < 4; ++i) {
            snprintf(buf, cap, shortest_first[i], (double)x);
            if (strtof(buf, NULL) == x)
                break;
        }
    } else if (s->info.type != REPTILE_OPTION_ENUM ||
               enum_name(s->info.values, (int)value_of(s, o), buf, cap) != 0 ||
               value_of(s, o) > s->info.max) {
        snprintf(buf, cap, "%d", (int)value_of(s, o));
    }
}

static int out_of_bounds(const rp_option_spec *s, const char *got)
{
    const reptile_option_info *in = &s->info;
    if (in->type == REPTILE_OPTION_ENUM) {
        char list[256];
        enum_list(s, list, sizeof list);
        return rp_error(REPTILE_EINVAL, "%s must be %s, got %s", in->name, list, got);
    }
    if (in->type == REPTILE_OPTION_BOOL)
        return rp_error(REPTILE_EINVAL, "%s must be 0 or 1, got %s", in->name, got);
    if (in->type == REPTILE_OPTION_INT)
        return rp_error(REPTILE_EINVAL, "%s must be in %.0f..%.0f, got %s", in->name, in->min,
                        in->max, got);
    if (isinf(in->max))
        return rp_error(REPTILE_EINVAL, "%s must be %s %g and finite, got %s", in->name,
                        in->min_open ? ">" : ">=", in->min, got);
    return rp_error(REPTILE_EINVAL, "%s must be in %c%g, %g%c, got %s", in->name,
                    in->min_open ? '(' : '[', in->min, in->max, in->max_open ? ')' : ']', got);
}

static int within(const reptile_option_info *in, double v)
{
    return isfinite(v) && (in->min_open ? v > in->min : v >= in->min) &&
           (in->max_open ? v < in->max : v <= in->max);
}

int rp_option_check(const rp_option_spec *s, const reptile_meta_options *o)
{
    if (s->type == RP_OPT_U64 || within(&s->info, value_of(s, o)))
        return 0; /* every uint64 is a valid seed */
    char got[48];
    snprintf(got, sizeof got, s->type == RP_OPT_INT ? "%.0f" : "%.9g", value_of(s, o));
    return out_of_bounds(s, got);
}

int rp_option_parse(const rp_option_spec *s, reptile_meta_options *o, const char *text)
{
    const reptile_option_info *in = &s->info;
    char *p = (char *)o + s->offset;
    char quoted[80];
    snprintf(quoted, sizeof quoted, "\"%.60s%s\"", text, strlen(text) > 60 ? "..." : "");
    if (s->type == RP_OPT_U64) {
        uint64_t v;
        if (rp_parse_decimal(text, UINT64_MAX, &v) != 0)
            return rp_error(REPTILE_EINVAL, "%s must be a decimal integer in 0..%" PRIu64 ", got %s",
                            in->name, UINT64_MAX, quoted);
        memcpy(p, &v, sizeof v);
        return 0;
    }
    if (in->type == REPTILE_OPTION_ENUM) {
        for (int k = 0; k <= (int)in->max; ++k) {
            char name[40];
            if (enum_name(in->values, k, name, sizeof name) == 0 && strcmp(name, text) == 0) {
                memcpy(p, &k, sizeof k);
                return 0;
            }
        }
    }
    if (!*text || isspace((unsigned char)text[0]))
        return out_of_bounds(s, quoted);
    char *end;
    errno = 0;
    if (s->type == RP_OPT_INT) {
        long v = strtol(text, &end, 10);
        if (*end || errno || v < in->min || v > in->max)
            return out_of_bounds(s, quoted);
        int x = (int)v;
        memcpy(p, &x, sizeof x);
        return 0;
    }
    double v = strtod(text, &end);
    const int range = errno == ERANGE; /* overflow, or underflow: 1e-400 reads as 0 */
    float x = (float)v;
    if (*end || !within(in, v) || !within(in, x) || (range && fabs(v) > 1.0))
        return out_of_bounds(s, quoted);
    if (range || (v != 0.0 && !(fabsf(x) >= FLT_MIN))) {
        /* In bounds on paper, but as a float it would be 0 or a denormal. */
        char why[160];
        snprintf(why, sizeof why, "%s (too small for a float: it would become 0 or lose precision)",
                 quoted);
        return out_of_bounds(s, why);
    }
    memcpy(p, &x, sizeof x);
    return 0;
}
