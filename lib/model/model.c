/* Sequential model builder, parameter and state buffers. */
#include "model/model_internal.h"
#include "core/error_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define RP_MAX_DIM 4096

int reptile_model_new(reptile_model **out, int height, int width, int channels)
{
    if (!out)
        return rp_error(REPTILE_EINVAL, "reptile_model_new: out is NULL");
    *out = NULL;
    if (height < 1 || width < 1 || channels < 1 || height > RP_MAX_DIM || width > RP_MAX_DIM ||
        channels > RP_MAX_DIM)
        return rp_error(REPTILE_EINVAL,
                        "reptile_model_new: input shape %dx%dx%d out of range (each 1..%d)", height,
                        width, channels, RP_MAX_DIM);
    reptile_model *m = calloc(1, sizeof *m);
    if (!m)
        return rp_error(REPTILE_ENOMEM, "reptile_model_new: out of memory");
    m->in_h = height;
    m->in_w = width;
    m->in_c = channels;
    m->reduction = REPTILE_REDUCTION_MEAN; /* the documented default loss */
    m->keras_clip = 0;
    *out = m;
    return 0;
}

/* Shape the next layer sees: the last layer's output, or the model input. */
static void current_shape(const reptile_model *m, int *h, int *w, int *c)
{
    if (m->n_layers == 0) {
        *h = m->in_h;
        *w = m->in_w;
        *c = m->in_c;
    } else {
        const rp_layer *l = &m->layers[m->n_layers - 1];
        *h = l->out_h;
        *w = l->out_w;
        *c = l->out_c;
    }
}

static int is_flat(const reptile_model *m)
{
    return m->n_layers > 0 && (m->layers[m->n_layers - 1].kind == RP_LAYER_FLATTEN ||
                               m->layers[m->n_layers - 1].kind == RP_LAYER_DENSE);
}

/* Common checks; returns a zeroed layer slot with the input shape filled. */
static int begin_layer(reptile_model *m, const char *what, rp_layer **out)
{
    if (!m)
        return rp_error(REPTILE_EINVAL, "%s: model is NULL", what);
    if (m->finalised)
        return rp_error(REPTILE_ESTATE,
                        "%s: the model is finalised (parameters were initialised or accessed); "
                        "add every layer first", what);
    if (m->n_layers >= RP_MAX_LAYERS)
        return rp_error(REPTILE_EINVAL, "%s: too many layers (max %d)", what, RP_MAX_LAYERS);
    rp_layer *l = &m->layers[m->n_layers];
    memset(l, 0, sizeof *l);
    current_shape(m, &l->in_h, &l->in_w, &l->in_c);
    *out = l;
    return 0;
}

static void commit_layer(reptile_model *m, rp_layer *l, size_t params, size_t state)
{
    l->param_offset = m->n_params;
    l->param_count = params;
    l->state_offset = m->n_state;
    m->n_params += params;
    m->n_state += state;
    size_t act = (size_t)l->out_h * l->out_w * l->out_c;
    if (act > m->max_act)
        m->max_act = act;
    m->n_layers++;
}

/* begin_layer for a layer that slides a window over an image. */
static int begin_image_layer(reptile_model *m, const char *what, const char *layers, rp_layer **out)
{
    int rc = begin_layer(m, what, out);
    if (rc == 0 && is_flat(m))
        rc = rp_error(REPTILE_ESHAPE, "%s: input is flat (after flatten/dense); %s need an image",
                      what, layers);
    return rc;
}

static int check_padding(const char *what, int padding)
{
    if (padding != REPTILE_PADDING_SAME && padding != REPTILE_PADDING_VALID)
        return rp_error(REPTILE_EINVAL, "%s: unknown padding %d (REPTILE_PADDING_SAME %d or "
                        "REPTILE_PADDING_VALID %d)", what, padding, REPTILE_PADDING_SAME,
                        REPTILE_PADDING_VALID);
    return 0;
}

int reptile_model_add_conv2d(reptile_model *m, int filters, int kernel_h, int kernel_w,
                             int stride_h, int stride_w, int padding)
{
    rp_layer *l = NULL;
    int rc = begin_image_layer(m, "reptile_model_add_conv2d", "convolutions", &l);
    if (rc)
        return rc;
    if (filters < 1 || filters > RP_MAX_DIM || kernel_h < 1 || kernel_w < 1 || kernel_h > 64 ||
        kernel_w > 64 || stride_h < 1 || stride_w < 1 || stride_h > 64 || stride_w > 64)
        return rp_error(REPTILE_EINVAL,
                        "reptile_model_add_conv2d: filters %d, kernel %dx%d, stride %dx%d out of "
                        "range (filters 1..%d, kernel and stride 1..64)",
                        filters, kernel_h, kernel_w, stride_h, stride_w, RP_MAX_DIM);
    if ((rc = check_padding("reptile_model_add_conv2d", padding)) != 0)
        return rc;
    rp_conv2d_shape *s = &l->conv;
    s->batch = 1;
    s->in_h = l->in_h;
    s->in_w = l->in_w;
    s->in_c = l->in_c;
    s->out_c = filters;
    s->k_h = kernel_h;
    s->k_w = kernel_w;
    s->stride_h = stride_h;
    s->stride_w = stride_w;
    s->pad_same = padding == REPTILE_PADDING_SAME;
    s->no_input_grad = l == m->layers; /* nothing before it takes a gradient */
    if ((rc = rp_conv2d_resolve(s)) != 0)
        return rp_error_wrap(rc, "reptile_model_add_conv2d");
    l->kind = RP_LAYER_CONV2D;
    l->padding = padding;
    l->out_h = s->out_h;
    l->out_w = s->out_w;
    l->out_c = filters;
    commit_layer(m, l, (size_t)kernel_h * kernel_w * l->in_c * filters + (size_t)filters, 0);
    return 0;
}

int reptile_model_add_maxpool2d(reptile_model *m, int pool_h, int pool_w, int stride_h,
                                int stride_w, int padding)
{
    rp_layer *l = NULL;
    int rc = begin_image_layer(m, "reptile_model_add_maxpool2d", "max-pooling layers", &l);
    if (rc)
        return rc;
    if (pool_h < 1 || pool_w < 1 || pool_h > 64 || pool_w > 64 || stride_h < 1 || stride_w < 1 ||
        stride_h > 64 || stride_w > 64)
        return rp_error(REPTILE_EINVAL,
                        "reptile_model_add_maxpool2d: pool %dx%d, stride %dx%d out of range "
                        "(pool and stride 1..64)", pool_h, pool_w, stride_h, stride_w);
    if ((rc = check_padding("reptile_model_add_maxpool2d", padding)) != 0)
        return rc;
    rp_maxpool_shape *s = &l->maxpool;
    *s = (rp_maxpool_shape){.batch = 1, .in_h = l->in_h, .in_w = l->in_w, .channels = l->in_c,
                            .pool_h = pool_h, .pool_w = pool_w, .stride_h = stride_h,
                            .stride_w = stride_w, .pad_same = padding == REPTILE_PADDING_SAME};
    if ((rc = rp_maxpool_resolve(s)) != 0)
        return rp_error_wrap(rc, "reptile_model_add_maxpool2d");
    l->kind = RP_LAYER_MAXPOOL;
    l->padding = padding;
    l->out_h = s->out_h;
    l->out_w = s->out_w;
    l->out_c = l->in_c;
    commit_layer(m, l, 0, 0);
    return 0;
}

int reptile_model_add_batchnorm(reptile_model *m, float eps, float momentum)
{
    rp_layer *l = NULL;
    int rc = begin_layer(m, "reptile_model_add_batchnorm", &l);
    if (rc)
        return rc;
    if (!(eps > 0.0f) || !isfinite(eps) || !(momentum >= 0.0f && momentum < 1.0f))
        return rp_error(REPTILE_EINVAL,
                        "reptile_model_add_batchnorm: eps must be > 0 and momentum in [0, 1), "
                        "got eps %g momentum %g", (double)eps, (double)momentum);
    l->kind = RP_LAYER_BATCHNORM;
    l->eps = eps;
    l->momentum = momentum;
    l->out_h = l->in_h;
    l->out_w = l->in_w;
    l->out_c = l->in_c;
    commit_layer(m, l, 2 * (size_t)l->in_c, 2 * (size_t)l->in_c);
    return 0;
}

int reptile_model_add_relu(reptile_model *m)
{
    rp_layer *l = NULL;
    int rc = begin_layer(m, "reptile_model_add_relu", &l);
    if (rc)
        return rc;
    l->kind = RP_LAYER_RELU;
    l->out_h = l->in_h;
    l->out_w = l->in_w;
    l->out_c = l->in_c;
    l->in_place = 1;
    commit_layer(m, l, 0, 0);
    return 0;
}

int reptile_model_add_flatten(reptile_model *m)
{
    rp_layer *l = NULL;
    int rc = begin_layer(m, "reptile_model_add_flatten", &l);
    if (rc)
        return rc;
    l->kind = RP_LAYER_FLATTEN;
    l->out_h = 1;
    l->out_w = 1;
    l->out_c = l->in_h * l->in_w * l->in_c;
    l->in_place = 1;
    commit_layer(m, l, 0, 0);
    return 0;
}

int reptile_model_add_dense(reptile_model *m, int units)
{
    rp_layer *l = NULL;
    int rc = begin_layer(m, "reptile_model_add_dense", &l);
    if (rc)
        return rc;
    if (units < 1 || units > (1 << 20))
        return rp_error(REPTILE_EINVAL, "reptile_model_add_dense: units must be in 1..%d, got %d",
                        1 << 20, units);
    if (l->in_h != 1 || l->in_w != 1)
        return rp_error(REPTILE_ESHAPE,
                        "reptile_model_add_dense: input is %dx%dx%d; add a flatten layer first",
                        l->in_h, l->in_w, l->in_c);
    l->kind = RP_LAYER_DENSE;
    l->out_h = 1;
    l->out_w = 1;
    l->out_c = units;
    commit_layer(m, l, (size_t)l->in_c * units + (size_t)units, 0);
    return 0;
}

int rp_model_finalise(reptile_model *m)
{
    if (m->finalised)
        return 0;
    if (m->n_layers == 0)
        return rp_error(REPTILE_EINVAL, "the model has no layers");
    if (m->layers[m->n_layers - 1].kind != RP_LAYER_DENSE)
        return rp_error(REPTILE_ESHAPE, "the last layer must be dense (it gives the class logits)");
    m->params = calloc(m->n_params, sizeof *m->params);
    m->grad = calloc(m->n_params, sizeof *m->grad);
    m->state = calloc(m->n_state ? m->n_state : 1, sizeof *m->state);
    if (!m->params || !m->grad || !m->state) {
        free(m->params);
        free(m->grad);
        free(m->state);
        m->params = m->grad = m->state = NULL;
        return rp_error(REPTILE_ENOMEM, "out of memory allocating %zu parameters", m->n_params);
    }
    m->finalised = 1;
    /* Moving variances start at 1 (Keras), so the state is valid before init. */
    for (int i = 0; i < m->n_layers; ++i) {
        const rp_layer *l = &m->layers[i];
        if (l->kind == RP_LAYER_BATCHNORM)
            for (int c = 0; c < l->out_c; ++c)
                m->state[l->state_offset + (size_t)l->out_c + (size_t)c] = 1.0f;
    }
    return 0;
}

size_t reptile_model_num_params(const reptile_model *m) { return m ? m->n_params : 0; }

size_t reptile_model_num_state(const reptile_model *m) { return m ? m->n_state : 0; }

int reptile_model_num_outputs(const reptile_model *m)
{
    if (!m || m->n_layers == 0)
        return 0;
    return m->layers[m->n_layers - 1].out_c;
}

void reptile_model_input_shape(const reptile_model *m, int *height, int *width, int *channels)
{
    if (height)
        *height = m ? m->in_h : 0;
    if (width)
        *width = m ? m->in_w : 0;
    if (channels)
        *channels = m ? m->in_c : 0;
}

const float *reptile_model_params(const reptile_model *m) { return m ? m->params : NULL; }

static int check_buffer(const reptile_model *m, const void *buf, size_t n, size_t want,
                        const char *what)
{
    if (!m || !buf)
        return rp_error(REPTILE_EINVAL, "%s: NULL argument", what);
    if (n != want)
        return rp_error(REPTILE_ESHAPE, "%s: expected %zu floats, got %zu", what, want, n);
    return 0;
}

int reptile_model_get_params(const reptile_model *m, float *dst, size_t n)
{
    int rc = check_buffer(m, dst, n, m ? m->n_params : 0, "reptile_model_get_params");
    if (rc)
        return rc;
    if (!m->finalised && (rc = rp_model_finalise((reptile_model *)m)) != 0)
        return rc;
    memcpy(dst, m->params, n * sizeof *dst);
    return 0;
}

int reptile_model_set_params(reptile_model *m, const float *src, size_t n)
{
    int rc = check_buffer(m, src, n, m ? m->n_params : 0, "reptile_model_set_params");
    if (rc)
        return rc;
    for (size_t i = 0; i < n; ++i)
        if (!isfinite(src[i]))
            return rp_error(REPTILE_EINVAL, "reptile_model_set_params: parameter %zu is not finite",
                            i);
    if ((rc = rp_model_finalise(m)) != 0)
        return rc;
    memcpy(m->params, src, n * sizeof *src);
    return 0;
}

int reptile_model_get_state(const reptile_model *m, float *dst, size_t n)
{
    int rc = check_buffer(m, dst, n, m ? m->n_state : 0, "reptile_model_get_state");
    if (rc)
        return rc;
    if ((rc = rp_model_finalise((reptile_model *)m)) != 0)
        return rc;
    memcpy(dst, m->state, n * sizeof *dst);
    return 0;
}

int reptile_model_set_state(reptile_model *m, const float *src, size_t n)
{
    int rc = check_buffer(m, src, n, m ? m->n_state : 0, "reptile_model_set_state");
    if (rc)
        return rc;
    for (int i = 0; i < m->n_layers; ++i) {
        const rp_layer *l = &m->layers[i];
        if (l->kind != RP_LAYER_BATCHNORM)
            continue;
        for (int c = 0; c < 2 * l->out_c; ++c) {
            float v = src[l->state_offset + (size_t)c];
            if (!isfinite(v) || (c >= l->out_c && v < 0.0f))
                return rp_error(REPTILE_EINVAL,
                                "reptile_model_set_state: layer %d %s[%d] = %g is invalid", i,
                                c < l->out_c ? "moving_mean" : "moving_variance",
                                c % l->out_c, (double)v);
        }
    }
    if ((rc = rp_model_finalise(m)) != 0)
        return rc;
    memcpy(m->state, src, n * sizeof *src);
    return 0;
}

int rp_model_same_architecture(const reptile_model *a, const reptile_model *b)
{
    if (a->in_h != b->in_h || a->in_w != b->in_w || a->in_c != b->in_c ||
        a->n_layers != b->n_layers || a->n_params != b->n_params || a->n_state != b->n_state)
        return 0;
    for (int i = 0; i < a->n_layers; ++i) {
        const rp_layer *x = &a->layers[i], *y = &b->layers[i];
        if (x->kind != y->kind || x->out_h != y->out_h || x->out_w != y->out_w ||
            x->out_c != y->out_c || x->conv.k_h != y->conv.k_h || x->conv.k_w != y->conv.k_w ||
            x->conv.stride_h != y->conv.stride_h || x->conv.stride_w != y->conv.stride_w ||
            x->maxpool.pool_h != y->maxpool.pool_h || x->maxpool.pool_w != y->maxpool.pool_w ||
            x->maxpool.stride_h != y->maxpool.stride_h ||
            x->maxpool.stride_w != y->maxpool.stride_w || x->padding != y->padding ||
            x->eps != y->eps || x->momentum != y->momentum)
            return 0;
    }
    return 1;
}

int reptile_model_copy(reptile_model *dst, const reptile_model *src)
{
    if (!dst || !src)
        return rp_error(REPTILE_EINVAL, "reptile_model_copy: NULL model");
    if (!rp_model_same_architecture(dst, src))
        return rp_error(REPTILE_ESHAPE, "reptile_model_copy: the two models differ in architecture");
    int rc;
    if ((rc = rp_model_finalise(dst)) != 0 || (rc = rp_model_finalise((reptile_model *)src)) != 0)
        return rc;
    if (dst != src) {
        memcpy(dst->params, src->params, src->n_params * sizeof *src->params);
        memcpy(dst->state, src->state, src->n_state * sizeof *src->state);
    }
    return 0;
}

int reptile_model_clone(reptile_model **out, const reptile_model *src)
{
    if (!out)
        return rp_error(REPTILE_EINVAL, "reptile_model_clone: out is NULL");
    *out = NULL;
    if (!src || src->n_layers == 0)
        return rp_error(REPTILE_EINVAL, "reptile_model_clone: %s",
                        src ? "the model has no layers" : "model is NULL");
    int rc = rp_model_finalise((reptile_model *)src);
    return rc ? rc : rp_model_clone(out, src);
}

reptile_model *rp_model_alloc_like(const reptile_model *src)
{
    reptile_model *m = malloc(sizeof *m);
    if (!m)
        return NULL;
    memcpy(m, src, sizeof *m);
    m->finalised = 0;
    m->params = m->state = m->grad = NULL;
    memset(m->shards, 0, sizeof m->shards);
    m->pool = NULL;
    return m;
}

int rp_model_clone(reptile_model **out, const reptile_model *src)
{
    *out = NULL;
    reptile_model *m = rp_model_alloc_like(src);
    if (!m)
        return rp_error(REPTILE_ENOMEM, "out of memory cloning a model");
    int rc = rp_model_finalise(m);
    if (rc == 0)
        rc = reptile_model_copy(m, src);
    if (rc) {
        reptile_model_free(m);
        return rc;
    }
    *out = m;
    return 0;
}

void rp_model_set_pool(reptile_model *m, rp_pool *pool) { m->pool = pool; }

const float *rp_model_state_data(const reptile_model *m) { return m->state; }

void rp_model_write_weights(reptile_model *m, const float *params_then_state)
{
    memcpy(m->params, params_then_state, m->n_params * sizeof *m->params);
    memcpy(m->state, params_then_state + m->n_params, m->n_state * sizeof *m->state);
}

void reptile_model_free(reptile_model *m)
{
    if (!m)
        return;
    for (int s = 0; s < RP_SHARDS; ++s)
        free(m->shards[s].arena);
    free(m->params);
    free(m->state);
    free(m->grad);
    free(m);
}
