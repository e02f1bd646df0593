/* Meta-learning options: versions, named presets, validation, access by
 * name. The options themselves are declared in option_table.c. */
#include "meta/option_table.h"
#include "core/error_internal.h"
#include "core/versioned.h"

#include <stdio.h>
#include <string.h>

/* Presets are lists of overrides read by the option parser, on top of the
 * defaults or of another preset: what docs/options.md tabulates, and
 * nothing a preset sets escapes the table's checks. */
typedef struct preset {
    const char *name;
    const char *base; /* NULL: the defaults */
    const char *overrides;
} preset;

static const preset presets[] = {
    /* Nichol et al. 2018, Omniglot, as in supervised-reptile's run commands. */
    {"paper-omniglot-5way", NULL, ""},
    {"paper-omniglot-20way", NULL,
     "ways=20 inner_batch=20 inner_iters=10 meta_iters=200000 lr=0.0005 eval_batch=10"},
    /* Nichol et al. 2018, Mini-ImageNet 5-way, as in supervised-reptile's
     * run_miniimagenet.py commands (5-shot: eval batch 15; their 1-shot
     * command differs only in --eval-batch 5). For reptile_model_new_miniimagenet(). */
    {"paper-miniimagenet-5way", NULL, "train_shots=15 inner_iters=8 eval_batch=15"},
    /* The Keras tutorial as coded (0.1's defaults, bit for bit). */
    {"keras-tutorial", NULL,
     "train_shots=20 inner_batch=25 inner_iters=4 meta_batch=1 meta_iters=2000 meta_step=0.25 "
     "optimizer=sgd lr=0.003 beta1=0.9 optimizer_state=reset reduction=sum keras_clip=1 "
     "bn_mode=frozen with_replacement=1 eval_batch=25 eval_iters=5 iters_are_steps=0 "
     "eval_interval=1"},
    /* The reference implementation's semantics on the tutorial's budget. */
    {"reference-tutorial", "keras-tutorial", "with_replacement=0 bn_mode=batch keras_clip=0"},
};
enum { N_PRESETS = sizeof presets / sizeof presets[0] };

static int check_version(const void *opts, unsigned int version, const char *what)
{
    if (!opts)
        return rp_error(REPTILE_EINVAL, "%s: options pointer is NULL", what);
    return rp_version_check(&rp_meta_options_versions, version, what);
}

/* The caller's options (any known version) as a current struct: the
 * fields its version has, defaults for the rest. */
static int upgrade(reptile_meta_options *full, const reptile_meta_options *opts, const char *what)
{
    if (!opts)
        return rp_error(REPTILE_EINVAL, "%s: options pointer is NULL", what);
    rp_meta_options_set_defaults(full);
    return rp_version_read(&rp_meta_options_versions, full, opts, what);
}

int rp_meta_options_resolve(reptile_meta_options *full, const reptile_meta_options *opts)
{
    int rc = upgrade(full, opts, "meta options");
    if (rc == 0)
        rc = reptile_meta_options_validate(full);
    return rc;
}

void rp_meta_options_export(reptile_meta_options *opts, unsigned int version,
                            const reptile_meta_options *full)
{
    rp_version_write(&rp_meta_options_versions, opts, version, full);
}

int reptile_meta_options_init(reptile_meta_options *opts, unsigned int version)
{
    int rc = check_version(opts, version, "reptile_meta_options_init");
    if (rc)
        return rc;
    reptile_meta_options full;
    rp_meta_options_set_defaults(&full);
    rp_meta_options_export(opts, version, &full);
    return 0;
}

static const preset *find_preset(const char *name)
{
    for (int i = 0; i < N_PRESETS; ++i)
        if (strcmp(presets[i].name, name) == 0)
            return &presets[i];
    return NULL;
}

/* Applies a preset's base, then its "name=value ..." overrides. */
static int apply_preset(reptile_meta_options *o, const preset *p)
{
    int rc = p->base ? apply_preset(o, find_preset(p->base)) : 0;
    for (const char *s = p->overrides; rc == 0 && *s;) {
        char item[96], *eq;
        size_t n = strcspn(s, " ");
        snprintf(item, sizeof item, "%.*s", (int)n, s);
        s += n + (s[n] == ' ');
        if (!(eq = strchr(item, '=')))
            return rp_error(REPTILE_EINVAL, "preset %s: \"%s\" is not name=value", p->name, item);
        *eq = '\0';
        const rp_option_spec *spec = rp_option_find(item);
        rc = spec ? rp_option_parse(spec, o, eq + 1)
                  : rp_error(REPTILE_ENOTFOUND, "preset %s: no option %s", p->name, item);
    }
    return rc;
}

int reptile_meta_options_preset(reptile_meta_options *opts, unsigned int version, const char *name)
{
    int rc = check_version(opts, version, "reptile_meta_options_preset");
    if (rc)
        return rc;
    if (!name)
        return rp_error(REPTILE_EINVAL, "reptile_meta_options_preset: name is NULL");
    const preset *p = find_preset(name);
    if (!p) {
        char known[256] = "";
        for (int i = 0; i < N_PRESETS; ++i)
            snprintf(known + strlen(known), sizeof known - strlen(known), "%s%s", i ? ", " : "",
                     presets[i].name);
        return rp_error(REPTILE_ENOTFOUND, "unknown preset \"%s\" (known: %s)", name, known);
    }
    reptile_meta_options full;
    rp_meta_options_set_defaults(&full);
    if ((rc = apply_preset(&full, p)) != 0)
        return rc;
    rp_meta_options_export(opts, version, &full);
    return 0;
}

const char *reptile_meta_preset_name(int index)
{
    return index >= 0 && index < N_PRESETS ? presets[index].name : NULL;
}

int reptile_meta_options_validate(const reptile_meta_options *opts)
{
    reptile_meta_options full;
    int rc = upgrade(&full, opts, "meta options");
    const reptile_meta_options *o = &full;
    for (size_t i = 0; rc == 0 && i < rp_meta_option_count; ++i)
        rc = rp_option_check(&rp_meta_option_specs[i], o);
    if (rc)
        return rc;
    /* Rules between options; single ranges are in the table. */
    if (o->rank >= o->world_size)
        return rp_error(REPTILE_EINVAL, "rank must be in 0..world_size-1 (%d), got %d",
                        o->world_size - 1, o->rank);
    if (o->foml_tail > 0 && o->algorithm != REPTILE_ALGORITHM_FOMAML)
        return rp_error(REPTILE_EINVAL, "foml_tail is %d but algorithm is reptile (the tail is "
                                        "FOMAML's)", o->foml_tail);
    if (o->foml_tail >= o->train_shots)
        return rp_error(REPTILE_EINVAL,
                        "foml_tail must be below train_shots (%d): the inner loop needs images, "
                        "got %d",
                        o->train_shots, o->foml_tail);
    if (o->world_size > 1 && !o->allreduce)
        return rp_error(REPTILE_EINVAL, "world_size is %d but no allreduce function is set",
                        o->world_size);
    return 0;
}

/* ---- by name ------------------------------------------------------------------ */

int reptile_meta_option_count(void) { return (int)rp_meta_option_count; }

const reptile_option_info *reptile_meta_option_info(int index)
{
    return index >= 0 && (size_t)index < rp_meta_option_count ? &rp_meta_option_specs[index].info
                                                               : NULL;
}

/* The option `name` within the caller's struct version, or an error. */
static int lookup(const reptile_meta_options *opts, const char *name, const char *what,
                  const rp_option_spec **out)
{
    int rc = check_version(opts, opts ? opts->version : 0, what);
    if (rc)
        return rc;
    if (!name)
        return rp_error(REPTILE_EINVAL, "%s: name is NULL", what);
    const rp_option_spec *s = rp_option_find(name);
    if (!s) {
        char known[1024] = "";
        for (size_t i = 0; i < rp_meta_option_count; ++i)
            snprintf(known + strlen(known), sizeof known - strlen(known), "%s%s", i ? ", " : "",
                     rp_meta_option_specs[i].info.name);
        return rp_error(REPTILE_ENOTFOUND, "%s: no option \"%s\" (known: %s)", what, name, known);
    }
    if (s->offset + s->size > rp_version_size(&rp_meta_options_versions, opts->version))
        return rp_error(REPTILE_EVERSION, "%s: option %s needs options version %u, these are %u",
                        what, s->info.name, s->info.since, opts->version);
    *out = s;
    return 0;
}

int reptile_meta_options_set(reptile_meta_options *opts, const char *name, const char *value)
{
    const rp_option_spec *s;
    int rc = lookup(opts, name, "reptile_meta_options_set", &s);
    if (rc)
        return rc;
    if (!value)
        return rp_error(REPTILE_EINVAL, "reptile_meta_options_set: value of %s is NULL",
                        s->info.name);
    reptile_meta_options full;
    upgrade(&full, opts, "reptile_meta_options_set");
    if ((rc = rp_option_parse(s, &full, value)) != 0)
        return rc;
    memcpy((char *)opts + s->offset, (const char *)&full + s->offset, s->size);
    return 0;
}

int reptile_meta_options_get(const reptile_meta_options *opts, const char *name, char *buf,
                             size_t size)
{
    const rp_option_spec *s;
    int rc = lookup(opts, name, "reptile_meta_options_get", &s);
    if (rc)
        return rc;
    if (!buf)
        return rp_error(REPTILE_EINVAL, "reptile_meta_options_get: buf is NULL");
    reptile_meta_options full;
    upgrade(&full, opts, "reptile_meta_options_get");
    char text[64];
    rp_option_format(s, &full, text, sizeof text);
    if (strlen(text) >= size)
        return rp_error(REPTILE_EINVAL, "reptile_meta_options_get: %s needs %zu bytes, buf has %zu",
                        s->info.name, strlen(text) + 1, size);
    memcpy(buf, text, strlen(text) + 1);
    return 0;
}
