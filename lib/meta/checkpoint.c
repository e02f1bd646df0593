/* Meta-learner training states: the model checkpoint plus the options, the
 * iteration counter and each task slot's inner-optimizer state. */
#include "meta/meta_internal.h"
#include "meta/option_table.h"
#include "model/checkpoint_internal.h"
#include "model/model_internal.h"
#include "model/optimizer_internal.h"
#include "reptile/checkpoint.h"
#include "core/error_internal.h"
#include "core/finite.h"

#include <jansson.h>

#include <float.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- options ------------------------------------------------------------------ */

/* The saved options are the table's (lib/meta/option_table.c): every
 * option, by its C name; version and the callbacks are not options. */

static char *options_json(const reptile_meta_options *o)
{
    json_t *root = json_object();
    int bad = !root;
    for (size_t i = 0; i < rp_meta_option_count && !bad; ++i) {
        const char *p = (const char *)o + rp_meta_option_specs[i].offset;
        json_t *v = NULL;
        if (rp_meta_option_specs[i].type == RP_OPT_INT) {
            int x;
            memcpy(&x, p, sizeof x);
            v = json_integer(x);
        } else if (rp_meta_option_specs[i].type == RP_OPT_FLOAT) {
            float x;
            memcpy(&x, p, sizeof x);
            v = json_real((double)x); /* exact: 17 significant digits */
        } else {
            uint64_t x;
            char s[32];
            memcpy(&x, p, sizeof x);
            snprintf(s, sizeof s, "%" PRIu64, x); /* a string: JSON integers are int64 */
            v = json_string(s);
        }
        bad = json_object_set_new(root, rp_meta_option_specs[i].name, v) != 0;
    }
    char *s = bad ? NULL : json_dumps(root, JSON_COMPACT);
    json_decref(root);
    return s;
}

static int parse_u64(const char *s, uint64_t *out)
{
    if (!s || !*s || strlen(s) > 20)
        return -1;
    uint64_t v = 0;
    for (; *s; ++s) {
        if (*s < '0' || *s > '9')
            return -1;
        unsigned d = (unsigned)(*s - '0');
        if (v > (UINT64_MAX - d) / 10)
            return -1;
        v = v * 10 + d;
    }
    *out = v;
    return 0;
}

/* Fills the saved fields of *o from the file's "options". */
static int parse_options(const rp_st_file *f, reptile_meta_options *o)
{
    const char *what = rp_st_what(f);
    const char *text = rp_st_meta(f, "options");
    if (!text)
        return rp_error(REPTILE_EFORMAT, "%s: no options in __metadata__", what);
    json_error_t err;
    json_t *root = json_loads(text, JSON_REJECT_DUPLICATES, &err);
    int rc = 0;
    if (!json_is_object(root))
        rc = rp_error(REPTILE_EFORMAT, "%s: options are not a JSON object", what);
    for (size_t i = 0; rc == 0 && i < rp_meta_option_count; ++i) {
        json_t *v = json_object_get(root, rp_meta_option_specs[i].name);
        char *p = (char *)o + rp_meta_option_specs[i].offset;
        int ok = 0;
        if (rp_meta_option_specs[i].type == RP_OPT_INT && json_is_integer(v) && json_integer_value(v) >= INT_MIN &&
            json_integer_value(v) <= INT_MAX) {
            int x = (int)json_integer_value(v);
            memcpy(p, &x, sizeof x);
            ok = 1;
        } else if (rp_meta_option_specs[i].type == RP_OPT_FLOAT && json_is_number(v)) {
            double d = json_number_value(v);
            if (d >= -FLT_MAX && d <= FLT_MAX) {
                float x = (float)d;
                memcpy(p, &x, sizeof x);
                ok = 1;
            }
        } else if (rp_meta_option_specs[i].type == RP_OPT_U64 && json_is_string(v)) {
            uint64_t x;
            if (parse_u64(json_string_value(v), &x) == 0) {
                memcpy(p, &x, sizeof x);
                ok = 1;
            }
        }
        if (!ok)
            rc = rp_error(REPTILE_EFORMAT, "%s: option %s is missing or malformed", what,
                          rp_meta_option_specs[i].name);
    }
    if (rc == 0 && json_object_size(root) != rp_meta_option_count) {
        const char *k;
        json_t *v;
        json_object_foreach(root, k, v)
        {
            int known = 0;
            for (size_t i = 0; i < rp_meta_option_count; ++i)
                known |= strcmp(k, rp_meta_option_specs[i].name) == 0;
            if (!known && rc == 0)
                rc = rp_error(REPTILE_EFORMAT, "%s: unknown option \"%s\"", what, k);
        }
    }
    json_decref(root);
    return rc;
}

static int compare_options(const reptile_meta_options *saved, const reptile_meta_options *have,
                           const char *what)
{
    for (size_t i = 0; i < rp_meta_option_count; ++i) {
        const rp_option_spec *fl = &rp_meta_option_specs[i];
        if (!(fl->flags & RP_OPT_RESUME) ||
            memcmp((const char *)saved + fl->offset, (const char *)have + fl->offset, fl->size) == 0)
            continue;
        char a[48], b[48];
        rp_option_format(fl, saved, a, sizeof a);
        rp_option_format(fl, have, b, sizeof b);
        return rp_error(REPTILE_ESTATE,
                        "%s: option %s differs: %s in the checkpoint, %s in the meta-learner "
                        "(create it with the saved options: reptile_meta_load_options)",
                        what, fl->name, a, b);
    }
    return 0;
}

/* ---- optimizer state -------------------------------------------------------------- */

static void slot_tensor_name(char *buf, size_t cap, int slot, const char *which)
{
    snprintf(buf, cap, "meta.slots.%d.optimizer.%s", slot, which);
}

static char *training_json(const reptile_meta *meta)
{
    json_t *slots = json_array();
    int bad = !slots;
    for (int t = 0; t < meta->opts.meta_batch && !bad; ++t) {
        const reptile_optimizer *o = meta->slots[t].opt;
        bad = json_array_append_new(slots, json_pack("{s:I, s:I}", "moments", (json_int_t)o->n,
                                                     "steps", (json_int_t)o->steps)) != 0;
    }
    json_t *root = bad ? NULL : json_pack("{s:i, s:o}", "iteration", meta->iteration, "slots", slots);
    if (!root) {
        if (bad)
            json_decref(slots);
        return NULL;
    }
    char *s = json_dumps(root, JSON_COMPACT);
    json_decref(root);
    return s;
}

int reptile_meta_save(const reptile_meta *meta, const char *path)
{
    if (!meta || !path)
        return rp_error(REPTILE_EINVAL, "reptile_meta_save: NULL meta-learner or path");
    rp_st_writer *w = NULL;
    int rc = rp_ckpt_writer_new(&w, meta->model, RP_CKPT_KIND_META);
    char *opts = rc ? NULL : options_json(&meta->opts);
    char *training = rc ? NULL : training_json(meta);
    if (rc == 0 && (!opts || !training))
        rc = rp_error(REPTILE_ENOMEM, "reptile_meta_save: out of memory");
    if (rc == 0)
        rc = rp_st_add_meta(w, "options", opts);
    if (rc == 0)
        rc = rp_st_add_meta(w, "training", training);
    for (int t = 0; rc == 0 && t < meta->opts.meta_batch; ++t) {
        const reptile_optimizer *o = meta->slots[t].opt;
        int64_t shape[1] = {(int64_t)o->n};
        char name[64];
        if (o->n && o->m) {
            slot_tensor_name(name, sizeof name, t, "m");
            rc = rp_st_add(w, name, RP_ST_F32, o->m, 1, shape);
        }
        if (rc == 0 && o->n && o->v) {
            slot_tensor_name(name, sizeof name, t, "v");
            rc = rp_st_add(w, name, RP_ST_F32, o->v, 1, shape);
        }
    }
    if (rc == 0)
        rc = rp_st_write_file(w, path);
    free(opts);
    free(training);
    rp_st_writer_free(w);
    return rc;
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

/* Reads optimizer tensor `which` of slot t into dst and checks its values
 * before anything trusts them: a NaN, Inf or negative second moment would
 * only show up later, blamed on a gradient, or silently freeze the step. */
static int get_moments(rp_st_file *f, int t, const char *which, size_t n, float *dst)
{
    char name[64];
    slot_tensor_name(name, sizeof name, t, which);
    int64_t shape[1] = {(int64_t)n};
    int rc = rp_st_get(f, name, RP_ST_F32, 1, shape, dst);
    if (rc)
        return rc;
    const int nonneg = strcmp(which, "v") == 0;
    size_t i = first_invalid(dst, n, nonneg);
    if (i == n)
        return 0;
    return rp_error(REPTILE_EFORMAT, "%s: tensor \"%s\" element %zu is %g (must be finite%s)",
                    rp_st_what(f), name, i, (double)dst[i], nonneg ? " and >= 0" : "");
}

/* Adam's step count goes into its bias correction as a double: beyond 2^53
 * counts are no longer exact (and near INT64_MAX the next step overflows). */
#define RP_MAX_OPT_STEPS ((json_int_t)1 << 53)

typedef struct staged_slot {
    size_t n;
    int64_t steps;
    float *m, *v;
} staged_slot;

/* Reads "training" and the optimizer tensors into staged buffers. */
static int stage_training(rp_st_file *f, const reptile_meta *meta, int *iteration,
                          staged_slot *staged)
{
    const char *what = rp_st_what(f);
    const char *text = rp_st_meta(f, "training");
    if (!text)
        return rp_error(REPTILE_EFORMAT, "%s: no training state in __metadata__", what);
    json_error_t err;
    json_t *root = json_loads(text, JSON_REJECT_DUPLICATES, &err);
    json_int_t it = -1;
    json_t *slots = NULL;
    int rc = 0;
    if (!root || json_unpack_ex(root, &err, JSON_STRICT, "{s:I, s:o}", "iteration", &it, "slots",
                                &slots) != 0 || !json_is_array(slots) || it < 0 || it > INT_MAX)
        rc = rp_error(REPTILE_EFORMAT, "%s: malformed training state (needs iteration and "
                      "slots)", what);
    else if (json_array_size(slots) != (size_t)meta->opts.meta_batch)
        rc = rp_error(REPTILE_EFORMAT, "%s: %zu optimizer slots for meta_batch %d", what,
                      json_array_size(slots), meta->opts.meta_batch);
    const size_t np = meta->model->n_params;
    const int is_adam = meta->opts.optimizer == REPTILE_OPTIMIZER_ADAM;
    const int need_m = is_adam || meta->opts.momentum > 0.0f;
    for (int t = 0; rc == 0 && t < meta->opts.meta_batch; ++t) {
        json_int_t n = -1, steps = -1;
        if (json_unpack_ex(json_array_get(slots, (size_t)t), &err, JSON_STRICT, "{s:I, s:I}",
                           "moments", &n, "steps", &steps) != 0 ||
            (n != 0 && (size_t)n != np)) {
            rc = rp_error(REPTILE_EFORMAT, "%s: malformed optimizer state of slot %d", what, t);
            break;
        }
        if (steps < 0 || steps > RP_MAX_OPT_STEPS) {
            rc = rp_error(REPTILE_EFORMAT, "%s: training state slots[%d].steps is %" PRId64
                          ", outside 0..2^53", what, t, (int64_t)steps);
            break;
        }
        staged[t].n = (size_t)n;
        staged[t].steps = steps;
        if (n && need_m) {
            if (!(staged[t].m = malloc(np * sizeof(float))))
                rc = rp_error(REPTILE_ENOMEM, "%s: out of memory", what);
            else
                rc = get_moments(f, t, "m", np, staged[t].m);
        }
        if (rc == 0 && n && is_adam) {
            if (!(staged[t].v = malloc(np * sizeof(float))))
                rc = rp_error(REPTILE_ENOMEM, "%s: out of memory", what);
            else
                rc = get_moments(f, t, "v", np, staged[t].v);
        }
    }
    json_decref(root);
    *iteration = (int)it;
    return rc;
}

int reptile_meta_resume(reptile_meta *meta, const char *path)
{
    if (!meta || !path)
        return rp_error(REPTILE_EINVAL, "reptile_meta_resume: NULL meta-learner or path");
    rp_st_file *f = NULL;
    reptile_model *saved_model = NULL;
    staged_slot *staged = calloc((size_t)meta->opts.meta_batch, sizeof *staged);
    if (!staged)
        return rp_error(REPTILE_ENOMEM, "reptile_meta_resume: out of memory");
    int iteration = 0;
    int rc = rp_st_read_file(&f, path);
    if (rc == 0)
        rc = rp_ckpt_check(f, RP_CKPT_KIND_META);
    if (rc == 0)
        rc = rp_ckpt_read_model(&saved_model, f);
    if (rc == 0)
        rc = rp_ckpt_same_architecture(meta->model, saved_model, path);
    if (rc == 0) {
        reptile_meta_options saved = meta->opts;
        rc = parse_options(f, &saved);
        if (rc == 0)
            rc = compare_options(&saved, &meta->opts, path);
    }
    if (rc == 0)
        rc = stage_training(f, meta, &iteration, staged);
    if (rc == 0)
        rc = rp_st_check_all_used(f);
    /* Everything is read and checked: commit (cannot fail from here). */
    if (rc == 0) {
        rc = reptile_model_copy(meta->model, saved_model);
        for (int t = 0; rc == 0 && t < meta->opts.meta_batch; ++t) {
            reptile_optimizer *o = meta->slots[t].opt;
            free(o->m);
            free(o->v);
            o->m = staged[t].m;
            o->v = staged[t].v;
            o->n = staged[t].n;
            o->steps = staged[t].steps;
            staged[t].m = staged[t].v = NULL;
        }
        if (rc == 0)
            meta->iteration = iteration;
    }
    for (int t = 0; t < meta->opts.meta_batch; ++t) {
        free(staged[t].m);
        free(staged[t].v);
    }
    free(staged);
    reptile_model_free(saved_model);
    rp_st_free(f);
    return rc;
}

static int placeholder_allreduce(float *data, size_t count, void *user)
{
    (void)data;
    (void)count;
    (void)user;
    return -1;
}

int reptile_meta_load_options(reptile_meta_options *opts, const char *path)
{
    if (!opts || !path)
        return rp_error(REPTILE_EINVAL, "reptile_meta_load_options: NULL options or path");
    reptile_meta_options o;
    int rc = reptile_meta_options_init(&o, REPTILE_META_OPTIONS_VERSION);
    rp_st_file *f = NULL;
    if (rc == 0)
        rc = rp_st_read_file(&f, path);
    if (rc == 0)
        rc = rp_ckpt_check(f, RP_CKPT_KIND_META);
    if (rc == 0)
        rc = parse_options(f, &o);
    /* The allreduce function is the caller's to set again: validate as if set. */
    reptile_meta_options check = o;
    if (check.world_size > 1)
        check.allreduce = placeholder_allreduce;
    if (rc == 0 && reptile_meta_options_validate(&check) != 0) {
        char msg[768];
        snprintf(msg, sizeof msg, "%s", reptile_error_last());
        rc = rp_error(REPTILE_EFORMAT, "%s: saved options are invalid: %s", path, msg);
    }
    rp_st_free(f);
    if (rc == 0) {
        o.progress = NULL;
        o.progress_user = NULL;
        o.allreduce = NULL;
        o.allreduce_user = NULL;
        *opts = o;
    }
    return rc;
}
