/* Meta-learner training states: the model checkpoint plus the options, the
 * iteration counter and each task slot's inner-optimizer state. */
#include "meta/meta_internal.h"
#include "meta/option_table.h"
#include "model/checkpoint_internal.h"
#include "model/optimizer_internal.h"
#include "reptile/meta_checkpoint.h"
#include "reptile/adapt.h"
#include "core/decimal.h"
#include "core/error_internal.h"
#include "core/finite.h"
#include "core/versioned.h"

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
        bad = json_object_set_new(root, rp_meta_option_specs[i].info.name, v) != 0;
    }
    char *s = bad ? NULL : json_dumps(root, JSON_COMPACT);
    json_decref(root);
    return s;
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
        json_t *v = json_object_get(root, rp_meta_option_specs[i].info.name);
        char *p = (char *)o + rp_meta_option_specs[i].offset;
        /* An option newer than the first format keeps its default when a
         * file from before it lacks it. */
        int ok = !v && rp_meta_option_specs[i].info.since > 1;
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
            if (rp_parse_decimal(json_string_value(v), UINT64_MAX, &x) == 0) {
                memcpy(p, &x, sizeof x);
                ok = 1;
            }
        }
        if (!ok)
            rc = rp_error(REPTILE_EFORMAT, "%s: option %s is missing or malformed", what,
                          rp_meta_option_specs[i].info.name);
    }
    if (rc == 0 && json_object_size(root) != rp_meta_option_count) {
        const char *k;
        json_t *v;
        json_object_foreach(root, k, v)
        {
            int known = 0;
            for (size_t i = 0; i < rp_meta_option_count; ++i)
                known |= strcmp(k, rp_meta_option_specs[i].info.name) == 0;
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
        if (!(fl->info.flags & RP_OPT_RESUME) ||
            memcmp((const char *)saved + fl->offset, (const char *)have + fl->offset, fl->size) == 0)
            continue;
        char a[48], b[48];
        rp_option_format(fl, saved, a, sizeof a);
        rp_option_format(fl, have, b, sizeof b);
        return rp_error(REPTILE_ESTATE,
                        "%s: option %s differs: %s in the checkpoint, %s in the meta-learner "
                        "(create it with the saved options: reptile_meta_load_options)",
                        what, fl->info.name, a, b);
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
        const rp_optimizer_state o = rp_optimizer_state_of(meta->slots[t].opt);
        bad = json_array_append_new(slots, json_pack("{s:I, s:I}", "moments", (json_int_t)o.n,
                                                     "steps", (json_int_t)o.steps)) != 0;
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
        const rp_optimizer_state o = rp_optimizer_state_of(meta->slots[t].opt);
        int64_t shape[1] = {(int64_t)o.n};
        char name[64];
        if (o.m) {
            slot_tensor_name(name, sizeof name, t, "m");
            rc = rp_st_add(w, name, RP_ST_F32, o.m, 1, shape);
        }
        if (rc == 0 && o.v) {
            slot_tensor_name(name, sizeof name, t, "v");
            rc = rp_st_add(w, name, RP_ST_F32, o.v, 1, shape);
        }
    }
    if (rc == 0)
        rc = rp_st_write_file(w, path);
    free(opts);
    free(training);
    rp_st_writer_free(w);
    return rc;
}

/* Reads optimizer tensor `which` of slot t into a new buffer, checked by
 * the optimizer's rules. */
static int get_moments(rp_st_file *f, int t, const char *which, size_t n, float **dst)
{
    char name[64], what[600];
    slot_tensor_name(name, sizeof name, t, which);
    if (!(*dst = malloc(n * sizeof **dst)))
        return rp_error(REPTILE_ENOMEM, "%s: out of memory", rp_st_what(f));
    int64_t shape[1] = {(int64_t)n};
    int rc = rp_st_get(f, name, RP_ST_F32, 1, shape, *dst);
    if (rc)
        return rc;
    snprintf(what, sizeof what, "%s: tensor \"%s\"", rp_st_what(f), name);
    return rp_optimizer_check_moments(*dst, n, which[0] == 'v', what);
}

/* Reads "training" and the optimizer tensors of meta_batch slots into
 * staged buffers, for models of np parameters and optimizers like `kind`. */
static int stage_training(rp_st_file *f, size_t np, int meta_batch, const reptile_optimizer *kind,
                          int *iteration, rp_optimizer_state *staged)
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
    else if (json_array_size(slots) != (size_t)meta_batch)
        rc = rp_error(REPTILE_EFORMAT, "%s: %zu optimizer slots for meta_batch %d", what,
                      json_array_size(slots), meta_batch);
    const reptile_optimizer *opt = kind; /* every slot's is the same kind */
    for (int t = 0; rc == 0 && t < meta_batch; ++t) {
        json_int_t n = -1, steps = -1;
        char slot[600];
        snprintf(slot, sizeof slot, "%s: training state slots[%d]", what, t);
        if (json_unpack_ex(json_array_get(slots, (size_t)t), &err, JSON_STRICT, "{s:I, s:I}",
                           "moments", &n, "steps", &steps) != 0 ||
            (n != 0 && (size_t)n != np)) {
            rc = rp_error(REPTILE_EFORMAT, "%s: malformed optimizer state of slot %d", what, t);
            break;
        }
        if ((rc = rp_optimizer_check_steps((int64_t)steps, slot)) != 0)
            break;
        staged[t].n = (size_t)n;
        staged[t].steps = steps;
        if (n && rp_optimizer_uses_m(opt))
            rc = get_moments(f, t, "m", np, &staged[t].m);
        if (rc == 0 && n && rp_optimizer_uses_v(opt))
            rc = get_moments(f, t, "v", np, &staged[t].v);
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
    rp_optimizer_state *staged = calloc((size_t)meta->opts.meta_batch, sizeof *staged);
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
        rc = stage_training(f, meta->n_params, meta->opts.meta_batch, meta->slots[0].opt,
                            &iteration, staged);
    if (rc == 0)
        rc = rp_st_check_all_used(f);
    /* Everything is read and checked: commit (cannot fail from here). */
    if (rc == 0) {
        rc = reptile_model_copy(meta->model, saved_model);
        for (int t = 0; rc == 0 && t < meta->opts.meta_batch; ++t)
            rp_optimizer_state_adopt(meta->slots[t].opt, &staged[t]);
        if (rc == 0)
            meta->iteration = iteration;
    }
    for (int t = 0; t < meta->opts.meta_batch; ++t)
        rp_optimizer_state_free(&staged[t]);
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

int reptile_meta_load_options(reptile_meta_options *opts, unsigned int version, const char *path)
{
    if (!opts || !path)
        return rp_error(REPTILE_EINVAL, "reptile_meta_load_options: NULL options or path");
    if (rp_version_check(&rp_meta_options_versions, version, "reptile_meta_load_options") != 0)
        return REPTILE_EVERSION;
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
    if (rc == 0 && reptile_meta_options_validate(&check) != 0)
        rc = rp_error_wrap(REPTILE_EFORMAT, "%s: saved options are invalid", path);
    rp_st_free(f);
    if (rc == 0) {
        o.progress = NULL;
        o.progress_user = NULL;
        o.allreduce = NULL;
        o.allreduce_user = NULL;
        rp_meta_options_export(opts, version, &o);
    }
    return rc;
}

/* ---- learners (reptile/adapt.h) ------------------------------------------------ */

/* Reads options and, with a carried optimizer state, slot 0's state (what
 * evaluation starts from) from a training state. */
static int read_learner_parts(rp_st_file *f, const reptile_model *model, reptile_meta_options *o,
                              rp_optimizer_state *slot0)
{
    int rc = parse_options(f, o);
    if (rc || !rp_meta_state_carried(o))
        return rc;
    reptile_optimizer *kind = NULL;
    rc = o->optimizer == REPTILE_OPTIMIZER_ADAM
             ? reptile_optimizer_new_adam(&kind, o->lr, o->beta1, o->beta2, o->adam_eps)
             : reptile_optimizer_new_sgd(&kind, o->lr, o->momentum);
    rp_optimizer_state *staged = rc ? NULL : calloc((size_t)o->meta_batch, sizeof *staged);
    if (rc == 0 && !staged)
        rc = rp_error(REPTILE_ENOMEM, "%s: out of memory", rp_st_what(f));
    int iteration;
    if (rc == 0)
        rc = stage_training(f, reptile_model_num_params(model), o->meta_batch, kind, &iteration,
                            staged);
    if (rc == 0) {
        *slot0 = staged[0];
        staged[0].m = staged[0].v = NULL;
    }
    for (int t = 0; staged && t < o->meta_batch; ++t)
        rp_optimizer_state_free(&staged[t]);
    free(staged);
    reptile_optimizer_free(kind);
    return rc;
}

int reptile_learner_load(reptile_learner **out, const char *path)
{
    if (!out || !path) {
        if (out)
            *out = NULL;
        return rp_error(REPTILE_EINVAL, "reptile_learner_load: NULL out or path");
    }
    *out = NULL;
    rp_st_file *f = NULL;
    reptile_model *model = NULL;
    reptile_meta_options o;
    rp_optimizer_state slot0 = {0, 0, NULL, NULL};
    reptile_meta_options_init(&o, REPTILE_META_OPTIONS_VERSION);
    int rc = rp_st_read_file(&f, path);
    if (rc == 0)
        rc = rp_ckpt_check(f, NULL);
    if (rc == 0)
        rc = rp_ckpt_read_model(&model, f);
    const char *kind = rc ? NULL : rp_st_meta(f, "kind");
    if (rc == 0 && kind && strcmp(kind, RP_CKPT_KIND_META) == 0)
        rc = read_learner_parts(f, model, &o, &slot0);
    if (rc == 0) {
        o.world_size = 1; /* adaptation is one process's */
        o.rank = 0;
        o.threads = 1;
        rc = reptile_learner_new(out, model, &o);
    }
    if (rc == 0 && (rc = rp_learner_adopt_state(*out, &slot0)) != 0) {
        reptile_learner_free(*out);
        *out = NULL;
    }
    rp_optimizer_state_free(&slot0);
    reptile_model_free(model);
    rp_st_free(f);
    return rc;
}
