/* Model checkpoints: architecture as JSON in __metadata__, parameters and
 * BatchNorm moving statistics as safetensors tensors. Loading rebuilds the
 * model with the public builder. */
#include "model/checkpoint_internal.h"
#include "model/model_internal.h"
#include "reptile/model_checkpoint.h"
#include "reptile/version.h"
#include "core/decimal.h"
#include "core/error_internal.h"

#include <jansson.h>

#include <float.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NAME_MAX_LEN 96

/* ---- architecture JSON ------------------------------------------------------ */

static const char *padding_name(const rp_layer *l)
{
    return l->padding == REPTILE_PADDING_SAME ? "same" : "valid";
}

static json_t *layer_json(const rp_layer *l)
{
    switch (l->kind) {
    case RP_LAYER_CONV2D:
        return json_pack("{s:s, s:i, s:[i, i], s:[i, i], s:s}", "type", "conv2d", "filters",
                         l->out_c, "kernel", l->conv.k_h, l->conv.k_w, "strides",
                         l->conv.stride_h, l->conv.stride_w, "padding", padding_name(l));
    case RP_LAYER_MAXPOOL:
        return json_pack("{s:s, s:[i, i], s:[i, i], s:s}", "type", "maxpool2d", "pool",
                         l->maxpool.pool_h, l->maxpool.pool_w, "strides", l->maxpool.stride_h,
                         l->maxpool.stride_w, "padding", padding_name(l));
    case RP_LAYER_BATCHNORM:
        /* float -> double is exact and jansson prints 17 digits: round trip. */
        return json_pack("{s:s, s:f, s:f}", "type", "batchnorm", "epsilon", (double)l->eps,
                         "momentum", (double)l->momentum);
    case RP_LAYER_RELU:
        return json_pack("{s:s}", "type", "relu");
    case RP_LAYER_FLATTEN:
        return json_pack("{s:s}", "type", "flatten");
    case RP_LAYER_DENSE:
        return json_pack("{s:s, s:i}", "type", "dense", "units", l->out_c);
    }
    return NULL;
}

static char *architecture_json(const reptile_model *m)
{
    json_t *root = json_object(), *layers = json_array();
    int bad = !root || !layers ||
              json_object_set_new(root, "input", json_pack("[i, i, i]", m->in_h, m->in_w, m->in_c)) != 0;
    for (int i = 0; i < m->n_layers && !bad; ++i)
        bad = json_array_append_new(layers, layer_json(&m->layers[i])) != 0;
    if (!bad) {
        bad = json_object_set_new(root, "layers", layers) != 0;
        layers = NULL; /* stolen, even on failure */
    }
    char *s = bad ? NULL : json_dumps(root, JSON_COMPACT);
    json_decref(layers);
    json_decref(root);
    return s;
}

static int get_dim(json_t *v, int *out)
{
    if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > INT_MAX)
        return -1;
    *out = (int)json_integer_value(v);
    return 0;
}

static int get_pair(json_t *arr, int *a, int *b)
{
    if (!json_is_array(arr) || json_array_size(arr) != 2)
        return -1;
    return get_dim(json_array_get(arr, 0), a) || get_dim(json_array_get(arr, 1), b) ? -1 : 0;
}

static int get_float(json_t *v, float *out)
{
    if (!json_is_number(v))
        return -1;
    double d = json_number_value(v);
    if (!(d >= -FLT_MAX && d <= FLT_MAX))
        return -1;
    *out = (float)d;
    return 0;
}

/* "same" / "valid" -> REPTILE_PADDING_*; -1 for anything else. */
static int parse_padding(const char *name)
{
    return strcmp(name, "same") == 0 ? REPTILE_PADDING_SAME
           : strcmp(name, "valid") == 0 ? REPTILE_PADDING_VALID
                                        : -1;
}

/* Appends layer i described by `l` to m through the public builder; the
 * file's format_version bounds the layer types it may hold. */
static int add_layer(reptile_model *m, json_t *l, int i, long version, const char *what)
{
    json_error_t err;
    const char *type = NULL;
    if (!json_is_object(l) || json_unpack_ex(l, &err, 0, "{s:s}", "type", &type) != 0)
        return rp_error(REPTILE_EFORMAT, "%s: architecture layer %d has no \"type\"", what, i);
    int rc;
    if (strcmp(type, "conv2d") == 0) {
        json_t *filters, *kernel, *strides;
        const char *padding;
        int f, kh, kw, sh, sw;
        if (json_unpack_ex(l, &err, JSON_STRICT, "{s:s, s:o, s:o, s:o, s:s}", "type", &type,
                           "filters", &filters, "kernel", &kernel, "strides", &strides, "padding",
                           &padding) != 0 ||
            get_dim(filters, &f) || get_pair(kernel, &kh, &kw) || get_pair(strides, &sh, &sw) ||
            parse_padding(padding) < 0)
            return rp_error(REPTILE_EFORMAT, "%s: architecture layer %d: conv2d needs filters, "
                            "kernel [h, w], strides [h, w] and padding \"same\" or \"valid\"",
                            what, i);
        rc = reptile_model_add_conv2d(m, f, kh, kw, sh, sw, parse_padding(padding));
    } else if (strcmp(type, "maxpool2d") == 0) {
        json_t *pool, *strides;
        const char *padding;
        int ph, pw, sh, sw;
        if (version < RP_CKPT_VERSION_MAXPOOL)
            return rp_error(REPTILE_EFORMAT, "%s: architecture layer %d: maxpool2d layers need "
                            "format_version %d or later, the file says %ld", what, i,
                            RP_CKPT_VERSION_MAXPOOL, version);
        if (json_unpack_ex(l, &err, JSON_STRICT, "{s:s, s:o, s:o, s:s}", "type", &type, "pool",
                           &pool, "strides", &strides, "padding", &padding) != 0 ||
            get_pair(pool, &ph, &pw) || get_pair(strides, &sh, &sw) || parse_padding(padding) < 0)
            return rp_error(REPTILE_EFORMAT, "%s: architecture layer %d: maxpool2d needs pool "
                            "[h, w], strides [h, w] and padding \"same\" or \"valid\"", what, i);
        rc = reptile_model_add_maxpool2d(m, ph, pw, sh, sw, parse_padding(padding));
    } else if (strcmp(type, "batchnorm") == 0) {
        json_t *eps, *momentum;
        float e, mo;
        if (json_unpack_ex(l, &err, JSON_STRICT, "{s:s, s:o, s:o}", "type", &type, "epsilon",
                           &eps, "momentum", &momentum) != 0 ||
            get_float(eps, &e) || get_float(momentum, &mo))
            return rp_error(REPTILE_EFORMAT, "%s: architecture layer %d: batchnorm needs numbers "
                            "epsilon and momentum", what, i);
        rc = reptile_model_add_batchnorm(m, e, mo);
    } else if (strcmp(type, "relu") == 0 || strcmp(type, "flatten") == 0) {
        if (json_object_size(l) != 1)
            return rp_error(REPTILE_EFORMAT, "%s: architecture layer %d: %s takes no options",
                            what, i, type);
        if (type[0] == 'r') {
            rc = reptile_model_add_relu(m);
        } else {
            /* The builder multiplies in int: keep the flat size in range. */
            int h, w, c;
            if (m->n_layers == 0) {
                h = m->in_h, w = m->in_w, c = m->in_c;
            } else {
                const rp_layer *prev = &m->layers[m->n_layers - 1];
                h = prev->out_h, w = prev->out_w, c = prev->out_c;
            }
            if ((long long)h * w * c > INT_MAX / 2)
                return rp_error(REPTILE_EFORMAT, "%s: architecture layer %d: flatten of %dx%dx%d "
                                "is too large", what, i, h, w, c);
            rc = reptile_model_add_flatten(m);
        }
    } else if (strcmp(type, "dense") == 0) {
        json_t *units;
        int u;
        if (json_unpack_ex(l, &err, JSON_STRICT, "{s:s, s:o}", "type", &type, "units", &units) != 0 ||
            get_dim(units, &u))
            return rp_error(REPTILE_EFORMAT, "%s: architecture layer %d: dense needs units", what,
                            i);
        rc = reptile_model_add_dense(m, u);
    } else {
        return rp_error(REPTILE_EFORMAT, "%s: architecture layer %d has unknown type \"%s\"", what,
                        i, type);
    }
    return rc ? rp_error_wrap(REPTILE_EFORMAT, "%s", what) : 0;
}

/* Builds an unfinalised model (no parameter buffers yet) from the JSON of
 * a file of this format_version. */
static int model_from_architecture(reptile_model **out, const char *arch, long version,
                                   const char *what)
{
    *out = NULL;
    json_error_t err;
    json_t *root = json_loads(arch, JSON_REJECT_DUPLICATES, &err);
    if (!root)
        return rp_error(REPTILE_EFORMAT, "%s: the architecture is not valid JSON (%s)", what,
                        err.text);
    json_t *input = NULL, *layers = NULL;
    int h = 0, w = 0, c = 0, rc = 0;
    if (json_unpack_ex(root, &err, JSON_STRICT, "{s:o, s:o}", "input", &input, "layers",
                       &layers) != 0 ||
        !json_is_array(input) || json_array_size(input) != 3 ||
        get_dim(json_array_get(input, 0), &h) || get_dim(json_array_get(input, 1), &w) ||
        get_dim(json_array_get(input, 2), &c) || !json_is_array(layers))
        rc = rp_error(REPTILE_EFORMAT, "%s: the architecture needs \"input\": [h, w, c] and "
                      "\"layers\": [...]", what);
    else if (json_array_size(layers) == 0 || json_array_size(layers) > RP_MAX_LAYERS)
        rc = rp_error(REPTILE_EFORMAT, "%s: the architecture has %zu layers (1..%d allowed)",
                      what, json_array_size(layers), RP_MAX_LAYERS);
    reptile_model *m = NULL;
    if (rc == 0 && reptile_model_new(&m, h, w, c) != 0)
        rc = rp_error_wrap(REPTILE_EFORMAT, "%s", what);
    for (size_t i = 0; rc == 0 && i < json_array_size(layers); ++i)
        rc = add_layer(m, json_array_get(layers, i), (int)i, version, what);
    if (rc == 0 && m->layers[m->n_layers - 1].kind != RP_LAYER_DENSE)
        rc = rp_error(REPTILE_EFORMAT, "%s: the architecture's last layer must be dense", what);
    json_decref(root);
    if (rc) {
        reptile_model_free(m);
        return rc;
    }
    *out = m;
    return 0;
}

/* ---- tensors ------------------------------------------------------------------- */

typedef struct tensor_ref {
    char name[NAME_MAX_LEN];
    int state;         /* 0: params buffer, 1: state buffer */
    size_t offset;
    int rank;
    int64_t shape[4];
} tensor_ref;

/* The tensors of layer l (at most 4); returns their count. */
static int layer_tensors(const rp_layer *l, int i, tensor_ref *t)
{
    int n = 0;
    switch (l->kind) {
    case RP_LAYER_CONV2D: {
        size_t k = (size_t)l->conv.k_h * l->conv.k_w * l->in_c * l->out_c;
        t[n] = (tensor_ref){"", 0, l->param_offset, 4, {l->conv.k_h, l->conv.k_w, l->in_c, l->out_c}};
        snprintf(t[n++].name, NAME_MAX_LEN, "layers.%d.conv2d.kernel", i);
        t[n] = (tensor_ref){"", 0, l->param_offset + k, 1, {l->out_c, 0, 0, 0}};
        snprintf(t[n++].name, NAME_MAX_LEN, "layers.%d.conv2d.bias", i);
        break;
    }
    case RP_LAYER_BATCHNORM: {
        static const char *const names[4] = {"gamma", "beta", "moving_mean", "moving_variance"};
        for (int j = 0; j < 4; ++j) {
            size_t base = j < 2 ? l->param_offset : l->state_offset;
            t[n] = (tensor_ref){"", j >= 2, base + (size_t)(j % 2) * (size_t)l->out_c, 1,
                                {l->out_c, 0, 0, 0}};
            snprintf(t[n++].name, NAME_MAX_LEN, "layers.%d.batchnorm.%s", i, names[j]);
        }
        break;
    }
    case RP_LAYER_DENSE:
        t[n] = (tensor_ref){"", 0, l->param_offset, 2, {l->in_c, l->out_c, 0, 0}};
        snprintf(t[n++].name, NAME_MAX_LEN, "layers.%d.dense.kernel", i);
        t[n] = (tensor_ref){"", 0, l->param_offset + (size_t)l->in_c * l->out_c, 1,
                            {l->out_c, 0, 0, 0}};
        snprintf(t[n++].name, NAME_MAX_LEN, "layers.%d.dense.bias", i);
        break;
    case RP_LAYER_MAXPOOL:
    case RP_LAYER_RELU:
    case RP_LAYER_FLATTEN:
        break;
    }
    return n;
}

/* The lowest format_version that describes m's file. */
static int format_version_of(const reptile_model *m)
{
    for (int i = 0; i < m->n_layers; ++i)
        if (m->layers[i].kind == RP_LAYER_MAXPOOL)
            return RP_CKPT_VERSION_MAXPOOL;
    return 1;
}

/* The file's format_version, 0 when missing or malformed. */
static long file_version(const rp_st_file *f)
{
    uint64_t version = 0;
    if (rp_parse_decimal(rp_st_meta(f, "format_version"), INT_MAX, &version) != 0)
        return 0;
    return (long)version;
}

int rp_ckpt_writer_new(rp_st_writer **out, const reptile_model *m, const char *kind)
{
    *out = NULL;
    int rc = rp_model_finalise((reptile_model *)m);
    if (rc)
        return rc;
    char *arch = architecture_json(m);
    if (!arch)
        return rp_error(REPTILE_ENOMEM, "checkpoint: cannot describe the architecture");
    char version[16];
    snprintf(version, sizeof version, "%d", format_version_of(m));
    rp_st_writer *w = NULL;
    rc = rp_st_writer_new(&w);
    if (rc == 0)
        rc = rp_st_add_meta(w, "format", RP_CKPT_FORMAT);
    if (rc == 0)
        rc = rp_st_add_meta(w, "format_version", version);
    if (rc == 0)
        rc = rp_st_add_meta(w, "library_version", reptile_version_string());
    if (rc == 0)
        rc = rp_st_add_meta(w, "kind", kind);
    if (rc == 0)
        rc = rp_st_add_meta(w, "architecture", arch);
    free(arch);
    for (int i = 0; rc == 0 && i < m->n_layers; ++i) {
        tensor_ref t[4];
        int n = layer_tensors(&m->layers[i], i, t);
        for (int j = 0; rc == 0 && j < n; ++j)
            rc = rp_st_add(w, t[j].name, RP_ST_F32,
                           (t[j].state ? m->state : m->params) + t[j].offset, t[j].rank,
                           t[j].shape);
    }
    if (rc) {
        rp_st_writer_free(w);
        return rc;
    }
    *out = w;
    return 0;
}

int rp_ckpt_check(const rp_st_file *f, const char *kind)
{
    const char *what = rp_st_what(f);
    const char *format = rp_st_meta(f, "format");
    if (!format || strcmp(format, RP_CKPT_FORMAT) != 0)
        return rp_error(REPTILE_EFORMAT,
                        "%s: a safetensors file without libreptile metadata (__metadata__ "
                        "\"format\" is %s%s%s): written by another program?", what,
                        format ? "\"" : "missing", format ? format : "", format ? "\"" : "");
    long version = file_version(f);
    if (version < 1)
        return rp_error(REPTILE_EFORMAT, "%s: missing or malformed format_version", what);
    if (version > RP_CKPT_FORMAT_VERSION)
        return rp_error(REPTILE_EVERSION,
                        "%s: checkpoint format_version %ld is newer than this library reads (%d); "
                        "written by libreptile %s", what, version, RP_CKPT_FORMAT_VERSION,
                        rp_st_meta(f, "library_version") ? rp_st_meta(f, "library_version") : "?");
    int rc = rp_st_verify_checksums(f);
    if (rc)
        return rc;
    const char *k = rp_st_meta(f, "kind");
    if (!k || (strcmp(k, RP_CKPT_KIND_MODEL) != 0 && strcmp(k, RP_CKPT_KIND_META) != 0))
        return rp_error(REPTILE_EFORMAT, "%s: unknown checkpoint kind \"%s\"", what, k ? k : "");
    if (kind && strcmp(k, kind) != 0)
        return rp_error(REPTILE_EFORMAT, "%s: a %s checkpoint, not a %s one", what, k, kind);
    if (!rp_st_meta(f, "architecture"))
        return rp_error(REPTILE_EFORMAT, "%s: no architecture in __metadata__", what);
    return 0;
}

int rp_ckpt_read_model(reptile_model **out, rp_st_file *f)
{
    *out = NULL;
    const char *what = rp_st_what(f);
    reptile_model *m = NULL;
    int rc = model_from_architecture(&m, rp_st_meta(f, "architecture"), file_version(f), what);
    if (rc)
        return rc;
    /* Nothing sized by the architecture is allocated before it is bounded
     * by the bytes actually present. */
    size_t floats = rp_st_data_size(f) / sizeof(float);
    if (m->n_params > floats || m->n_state > floats - m->n_params) {
        rc = rp_error(REPTILE_EFORMAT, "%s: the architecture needs %zu parameters and %zu state "
                      "values but the file holds %zu bytes of data", what, m->n_params,
                      m->n_state, rp_st_data_size(f));
        reptile_model_free(m);
        return rc;
    }
    float *params = malloc(m->n_params * sizeof *params);
    float *state = malloc((m->n_state ? m->n_state : 1) * sizeof *state);
    if (!params || !state)
        rc = rp_error(REPTILE_ENOMEM, "%s: out of memory for %zu parameters", what, m->n_params);
    for (int i = 0; rc == 0 && i < m->n_layers; ++i) {
        tensor_ref t[4];
        int n = layer_tensors(&m->layers[i], i, t);
        for (int j = 0; rc == 0 && j < n; ++j)
            rc = rp_st_get(f, t[j].name, RP_ST_F32, t[j].rank, t[j].shape,
                           (t[j].state ? state : params) + t[j].offset);
    }
    if (rc == 0 && reptile_model_set_params(m, params, m->n_params) != 0)
        rc = rp_error_wrap(REPTILE_EFORMAT, "%s", what);
    if (rc == 0 && reptile_model_set_state(m, state, m->n_state) != 0)
        rc = rp_error_wrap(REPTILE_EFORMAT, "%s", what);
    free(params);
    free(state);
    if (rc) {
        reptile_model_free(m);
        return rc;
    }
    *out = m;
    return 0;
}

int rp_ckpt_same_architecture(const reptile_model *have, const reptile_model *file_model,
                              const char *what)
{
    if (rp_model_same_architecture(have, file_model))
        return 0;
    if (have->in_h != file_model->in_h || have->in_w != file_model->in_w ||
        have->in_c != file_model->in_c)
        return rp_error(REPTILE_ESHAPE, "%s: architecture differs: input %dx%dx%d in the file, "
                        "%dx%dx%d in the model", what, file_model->in_h, file_model->in_w,
                        file_model->in_c, have->in_h, have->in_w, have->in_c);
    int n = have->n_layers < file_model->n_layers ? have->n_layers : file_model->n_layers;
    for (int i = 0; i < n; ++i) {
        json_t *a = layer_json(&file_model->layers[i]), *b = layer_json(&have->layers[i]);
        char *sa = a ? json_dumps(a, JSON_COMPACT) : NULL;
        char *sb = b ? json_dumps(b, JSON_COMPACT) : NULL;
        int rc = 0;
        if (sa && sb && strcmp(sa, sb) != 0)
            rc = rp_error(REPTILE_ESHAPE, "%s: architecture differs at layer %d: %s in the file, "
                          "%s in the model", what, i, sa, sb);
        free(sa);
        free(sb);
        json_decref(a);
        json_decref(b);
        if (rc)
            return rc;
    }
    return rp_error(REPTILE_ESHAPE, "%s: architecture differs: %d layers in the file, %d in the "
                    "model", what, file_model->n_layers, have->n_layers);
}

/* ---- public API ------------------------------------------------------------------ */

int reptile_model_save(const reptile_model *m, const char *path)
{
    if (!m || !path)
        return rp_error(REPTILE_EINVAL, "reptile_model_save: NULL model or path");
    rp_st_writer *w = NULL;
    int rc = rp_ckpt_writer_new(&w, m, RP_CKPT_KIND_MODEL);
    if (rc == 0)
        rc = rp_st_write_file(w, path);
    rp_st_writer_free(w);
    return rc;
}

static int load_parsed(reptile_model **out, rp_st_file *f)
{
    int rc = rp_ckpt_check(f, NULL);
    reptile_model *m = NULL;
    if (rc == 0)
        rc = rp_ckpt_read_model(&m, f);
    /* A model file holds nothing else; a training state also holds the
     * optimizer, which a model load ignores. */
    if (rc == 0 && strcmp(rp_st_meta(f, "kind"), RP_CKPT_KIND_MODEL) == 0)
        rc = rp_st_check_all_used(f);
    if (rc) {
        reptile_model_free(m);
        return rc;
    }
    *out = m;
    return 0;
}

int rp_model_load_memory(reptile_model **out, const void *data, size_t size, const char *what)
{
    *out = NULL;
    rp_st_file *f = NULL;
    int rc = rp_st_parse(&f, data, size, what);
    if (rc == 0)
        rc = load_parsed(out, f);
    rp_st_free(f);
    return rc;
}

int reptile_model_load(reptile_model **out, const char *path)
{
    if (!out)
        return rp_error(REPTILE_EINVAL, "reptile_model_load: out is NULL");
    *out = NULL;
    if (!path)
        return rp_error(REPTILE_EINVAL, "reptile_model_load: path is NULL");
    rp_st_file *f = NULL;
    int rc = rp_st_read_file(&f, path);
    if (rc == 0)
        rc = load_parsed(out, f);
    rp_st_free(f);
    return rc;
}
