/* Golden test: the tutorial's Omniglot network as an application builds and
 * trains it, through the public API only (reptile_model_new_omniglot,
 * reptile_model_set_params / set_state / get_params / get_state,
 * reptile_model_predict, reptile_model_train_step with plain SGD), against
 * PyTorch float64 results written by tests/golden/make_nn_fixtures.py
 * (fixture tests/fixtures/nn/omniglot_net.bin). In each BatchNorm mode
 * (batch statistics; moving statistics, also under its name
 * REPTILE_BN_FROZEN) it checks the probabilities and logits of
 * reptile_model_predict, the loss of one training step, the gradient of
 * every parameter and the updated moving statistics.
 *
 * The same for a small pooled network built with the public builder (conv
 * -> BatchNorm -> max-pool "same" on an odd input -> ReLU -> conv ->
 * max-pool "valid" 3x2 with stride 2x1 on an odd input -> flatten -> dense;
 * tests/golden/make_pooled_fixture.py, fixture tests/fixtures/nn/
 * pooled_net.bin), plus one ordinary SGD step (lr 2^-4, batch statistics):
 * the parameters after it and the updated network's probabilities.
 *
 * Gradients are not exposed, so they are read off the parameters: one SGD
 * step with lr = 2^6 and no momentum gives w1 = fl(w0 - lr * g), where
 * lr * g is exact, and the test compares d = (w0 - w1) / lr (in double,
 * exact) with PyTorch's gradient. The only rounding, that of w1, moves d by
 * at most 2^-24 * (|w0| / lr + |g|) per element; ||w0|| / ||g|| is at most
 * 5.3 for every tensor of the fixtures, so recovering the gradient costs
 * < 1e-7 relative, 1000x below the tolerance. This checks the updated
 * parameters: ||w1 - (w0 - lr * g_torch)|| <= REL * lr * ||g_torch||.
 *
 * Tolerance: norm-wise relative 1e-4, ||got - want|| <= 1e-4 * ||want||.
 * float32 through four conv+BN layers accumulates ~1e-7..1e-5 relative error
 * (BatchNorm rescales by up to 1/sqrt(var+eps) ~ 10; measured: at most 1e-6
 * on either GEMM path), so 1e-4 keeps a margin of 10x or more while a wrong
 * padding side, layout, formula or hyperparameter is off by 1e-3 to O(1)
 * (BatchNorm eps 1.1e-3 instead of 1e-3 already moves the probabilities
 * by 5e-4). The one exception is the conv bias under batch statistics, whose
 * gradient is zero analytically (BatchNorm subtracts the batch mean): there
 * only float cancellation noise remains, bounded against the layer's dbeta
 * norm.
 *
 * The gradient of the input (which the fixture used to hold) is not checked:
 * no public function exposes it and a training step never computes it; the
 * conv kernel's input gradient is checked by the nn-conv2d suite. */
#include "testutil.h"
#include "reptile/reptile.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REL 1e-4
#define SGD_LR 64.0f /* a power of two: lr * g is exact in float */
#define LAYERS 4
#define CH 64
#define WAYS 5

typedef struct {
    char name[64];
    char type[8];
    size_t count;
    void *data;
} tensor;

static tensor g_t[128];
static int g_nt;
static const char *g_file; /* the fixture g_t holds */

static void *xalloc(size_t bytes)
{
    void *p = calloc(bytes ? bytes : 1, 1);
    ck_assert_ptr_nonnull(p);
    return p;
}

static void free_fixture(void)
{
    for (int i = 0; i < g_nt; ++i)
        free(g_t[i].data);
    g_nt = 0;
    g_file = NULL;
}

/* Loads the fixture at path (RP_FIXTURE(...)) unless it is the one held. */
static void load_fixture(const char *path)
{
    if (g_file && strcmp(g_file, path) == 0)
        return;
    free_fixture();
    g_file = path;
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    char line[160];
    while (fgets(line, sizeof line, f) && strcmp(line, "end\n") != 0) {
        ck_assert_int_lt(g_nt, 128);
        tensor *t = &g_t[g_nt++];
        ck_assert_int_eq(sscanf(line, "%63s %7s %zu", t->name, t->type, &t->count), 3);
    }
    for (int i = 0; i < g_nt; ++i) {
        tensor *t = &g_t[i];
        size_t es = strcmp(t->type, "i8") == 0 ? 1 : 4;
        t->data = xalloc(t->count * es);
        ck_assert_uint_eq(fread(t->data, es, t->count, f), t->count);
    }
    ck_assert_int_eq(fgetc(f), EOF); /* nothing trailing: header and payload agree */
    fclose(f);
}

static const tensor *get(const char *name, size_t count)
{
    for (int i = 0; i < g_nt; ++i)
        if (strcmp(g_t[i].name, name) == 0) {
            ck_assert_msg(count == 0 || g_t[i].count == count, "%s: %zu values, want %zu", name,
                          g_t[i].count, count);
            return &g_t[i];
        }
    ck_abort_msg("fixture has no tensor %s", name);
    return NULL;
}

/* The fixture tensor PREFIX + SUFFIX (count values). */
static const float *get2(const char *prefix, const char *suffix, size_t count)
{
    char name[96];
    snprintf(name, sizeof name, "%s%s", prefix, suffix);
    return get(name, count)->data;
}

/* ||got - want|| and ||want|| over n elements (got read with a stride). */
static double norm_diff(size_t n, const double *got, size_t stride, const float *want,
                        double *wnorm)
{
    double d = 0, w = 0;
    for (size_t i = 0; i < n; ++i) {
        double e = got[i * stride] - want[i];
        d += e * e;
        w += (double)want[i] * want[i];
    }
    *wnorm = sqrt(w);
    return sqrt(d);
}

static void expect_close(const char *what, size_t n, const double *got, const float *want)
{
    double wn, dn = norm_diff(n, got, 1, want, &wn);
    ck_assert_msg(dn <= REL * wn, "%s: ||diff|| %.3g vs ||want|| %.3g", what, dn, wn);
}

static void expect_named(const char *prefix, const char *suffix, size_t n, const double *got)
{
    char name[96];
    snprintf(name, sizeof name, "%s%s", prefix, suffix);
    expect_close(name, n, got, get2(prefix, suffix, n));
}

static uint32_t sign_hash(size_t i)
{
    return (uint32_t)((uint32_t)i * 2654435761u);
}

/* Offsets into the parameter buffer, in the documented order (model.h):
 * per block conv kernel (HWIO), conv bias, BatchNorm gamma, beta; then the
 * dense kernel [in][out] and bias. */
typedef struct {
    size_t kernel[LAYERS], nk[LAYERS], bias[LAYERS], gamma[LAYERS], beta[LAYERS];
    size_t dkernel, dbias, total;
} layout;

static layout param_layout(void)
{
    layout o;
    size_t p = 0;
    for (int l = 0; l < LAYERS; ++l) {
        o.nk[l] = (size_t)9 * (l == 0 ? 1 : CH) * CH;
        o.kernel[l] = p;
        p += o.nk[l];
        o.bias[l] = p;
        p += CH;
        o.gamma[l] = p;
        p += CH;
        o.beta[l] = p;
        p += CH;
    }
    o.dkernel = p;
    p += (size_t)2 * 2 * CH * WAYS;
    o.dbias = p;
    p += WAYS;
    o.total = p;
    return o;
}

/* The loss the fixture computes: summed softmax cross-entropy, no Keras
 * clipping. The only call that chooses a loss in this file. */
static void use_fixture_loss(reptile_model *model, reptile_optimizer *opt)
{
    (void)model, (void)opt;
    ck_assert_int_eq(reptile_model_set_loss(model, REPTILE_REDUCTION_SUM, 0), 0);
}

/* The fixture's parameters and moving statistics, in the model's layout. */
static void fixture_params(const layout *o, float *params, float *state)
{
    char name[64];
    for (int l = 0; l < LAYERS; ++l) {
        if (l == 0) {
            memcpy(params + o->kernel[0], get("conv0/kernel", o->nk[0])->data, o->nk[0] * 4);
        } else {
            snprintf(name, sizeof name, "conv%d/kernel_q", l);
            const int8_t *q = get(name, o->nk[l])->data;
            for (size_t i = 0; i < o->nk[l]; ++i)
                params[o->kernel[l] + i] = (float)q[i] * (1.0f / 2048.0f); /* exact */
        }
        snprintf(name, sizeof name, "conv%d/", l);
        memcpy(params + o->bias[l], get2(name, "bias", CH), CH * 4);
        memcpy(params + o->gamma[l], get2(name, "gamma", CH), CH * 4);
        memcpy(params + o->beta[l], get2(name, "beta", CH), CH * 4);
        memcpy(state + (size_t)l * 2 * CH, get2(name, "moving_mean", CH), CH * 4);
        memcpy(state + (size_t)l * 2 * CH + CH, get2(name, "moving_var", CH), CH * 4);
    }
    memcpy(params + o->dkernel, get("dense/kernel", (size_t)256 * WAYS)->data, (size_t)256 * WAYS * 4);
    memcpy(params + o->dbias, get("dense/bias", WAYS)->data, WAYS * 4);
}

/* reptile_model_predict on the fixture's batch against the fixture tensors
 * MODE "probs", and MODE "logits" up to the per-image constant softmax
 * removes (centred log-probabilities vs centred logits; with logits set). */
static void expect_prediction(reptile_model *m, const float *x, int B, int bn_mode,
                              const char *mode, int logits)
{
    float probs[64 * WAYS];
    ck_assert_int_le(B, 64);
    ck_assert_int_eq(reptile_model_num_outputs(m), WAYS);
    ck_assert_msg(reptile_model_predict(m, x, B, bn_mode, probs) == 0, "%s", reptile_error_last());
    double got[64 * WAYS];
    for (int i = 0; i < B * WAYS; ++i)
        got[i] = probs[i];
    expect_named(mode, "probs", (size_t)B * WAYS, got);
    if (!logits)
        return;
    const float *want_logits = get2(mode, "logits", (size_t)B * WAYS);
    float centred[64 * WAYS];
    for (int i = 0; i < B; ++i) {
        double mg = 0, mw = 0;
        for (int k = 0; k < WAYS; ++k) {
            ck_assert_float_gt(probs[i * WAYS + k], 0.0f);
            mg += log(probs[i * WAYS + k]) / WAYS;
            mw += (double)want_logits[i * WAYS + k] / WAYS;
        }
        for (int k = 0; k < WAYS; ++k) {
            got[i * WAYS + k] = log(probs[i * WAYS + k]) - mg;
            centred[i * WAYS + k] = (float)(want_logits[i * WAYS + k] - mw);
        }
    }
    char what[64];
    snprintf(what, sizeof what, "%scentred logits", mode);
    expect_close(what, (size_t)B * WAYS, got, centred);
}

/* fixture: "train/" (batch statistics) or "infer/" (moving statistics). */
static void check_mode(int bn_mode, const char *mode)
{
    load_fixture(RP_FIXTURE("nn/omniglot_net.bin"));
    const layout o = param_layout();
    const int B = (int)get("labels", 0)->count;
    const float *x = get("x", (size_t)B * 784)->data;
    const int32_t *labels = get("labels", B)->data;
    const int batch_stats = bn_mode == REPTILE_BN_BATCH;

    reptile_model *m = NULL;
    reptile_optimizer *opt = NULL;
    ck_assert_int_eq(reptile_model_new_omniglot(&m, WAYS, 1), 0);
    ck_assert_uint_eq(reptile_model_num_params(m), o.total);
    ck_assert_uint_eq(o.total, 113221);
    ck_assert_uint_eq(reptile_model_num_state(m), (size_t)LAYERS * 2 * CH);
    ck_assert_int_eq(reptile_optimizer_new_sgd(&opt, SGD_LR, 0.0f), 0);
    use_fixture_loss(m, opt);

    float *w0 = xalloc(o.total * 4), *w1 = xalloc(o.total * 4);
    float state0[LAYERS * 2 * CH], state1[LAYERS * 2 * CH];
    fixture_params(&o, w0, state0);
    ck_assert_msg(reptile_model_set_params(m, w0, o.total) == 0, "%s", reptile_error_last());
    ck_assert_msg(reptile_model_set_state(m, state0, LAYERS * 2 * CH) == 0, "%s", reptile_error_last());

    expect_prediction(m, x, B, bn_mode, mode, 1);
    ck_assert_int_eq(reptile_model_get_state(m, state1, LAYERS * 2 * CH), 0);
    ck_assert_mem_eq(state1, state0, sizeof state0); /* predict never moves the averages */

    /* One SGD step: the loss before it, the gradients from its update. */
    float loss = NAN;
    ck_assert_msg(reptile_model_train_step(m, opt, x, labels, B, bn_mode, &loss) == 0, "%s",
                  reptile_error_last());
    const float *want_loss = get2(mode, "loss", 1);
    ck_assert_msg(fabs(loss - want_loss[0]) <= REL * fabs(want_loss[0]), "%sloss %.9g want %.9g", mode,
                  (double)loss, (double)want_loss[0]);
    ck_assert_int_eq(reptile_model_get_params(m, w1, o.total), 0);
    double *g = xalloc(o.total * sizeof *g);
    for (size_t i = 0; i < o.total; ++i)
        g[i] = ((double)w0[i] - (double)w1[i]) / SGD_LR;

    expect_named(mode, "dense/dkernel", (size_t)256 * WAYS, g + o.dkernel);
    expect_named(mode, "dense/dbias", WAYS, g + o.dbias);
    ck_assert_int_eq(reptile_model_get_state(m, state1, LAYERS * 2 * CH), 0);
    for (int l = 0; l < LAYERS; ++l) {
        char p[64];
        snprintf(p, sizeof p, "%sconv%d/", mode, l);
        expect_named(p, "dgamma", CH, g + o.gamma[l]);
        expect_named(p, "dbeta", CH, g + o.beta[l]);
        const float *mean1 = state1 + (size_t)l * 2 * CH, *var1 = mean1 + CH;
        if (batch_stats) {
            /* Analytically zero: bound the noise by the layer's dbeta scale. */
            double bn = 0, gn = 0;
            for (int c = 0; c < CH; ++c) {
                bn += g[o.beta[l] + c] * g[o.beta[l] + c];
                gn += g[o.bias[l] + c] * g[o.bias[l] + c];
            }
            ck_assert_msg(sqrt(gn) <= REL * sqrt(bn), "%s dbias %.3g not ~0", p, sqrt(gn));
            double got_stat[CH];
            for (int c = 0; c < CH; ++c)
                got_stat[c] = mean1[c];
            expect_named(p, "new_moving_mean", CH, got_stat);
            for (int c = 0; c < CH; ++c)
                got_stat[c] = var1[c];
            expect_named(p, "new_moving_var", CH, got_stat);
        } else {
            expect_named(p, "dbias", CH, g + o.bias[l]);
            /* Moving statistics are read, never written. */
            ck_assert_mem_eq(mean1, state0 + (size_t)l * 2 * CH, 2 * CH * sizeof(float));
        }
        const size_t nk = o.nk[l];
        const double *gk = g + o.kernel[l];
        if (l == 0) {
            expect_named(p, "dkernel", nk, gk);
            continue;
        }
        /* Every 13th element, then the full gradient through its norm and a
         * +-1 projection (checks the elements the subsample skips). */
        const size_t nsub = (nk + 12) / 13;
        double wn, dn = norm_diff(nsub, gk, 13, get2(p, "dkernel_sub", nsub), &wn);
        ck_assert_msg(dn <= REL * wn, "%sdkernel_sub: ||diff|| %.3g vs %.3g", p, dn, wn);
        double proj = 0, nrm = 0;
        for (size_t i = 0; i < nk; ++i) {
            proj += (sign_hash(i) >> 16 & 1) ? gk[i] : -gk[i];
            nrm += gk[i] * gk[i];
        }
        const float *wproj = get2(p, "dkernel_proj", 1);
        const float *wnorm = get2(p, "dkernel_norm", 1);
        ck_assert_msg(fabs(sqrt(nrm) - wnorm[0]) <= REL * wnorm[0], "%s norm %.9g want %.9g", p,
                      sqrt(nrm), (double)wnorm[0]);
        /* A sum of +-g has error ~ REL * ||g|| * sqrt(n) at worst. */
        ck_assert_msg(fabs(proj - wproj[0]) <= REL * wnorm[0] * sqrt((double)nk),
                      "%s proj %.9g want %.9g", p, proj, (double)wproj[0]);
    }
    free(g);
    free(w0);
    free(w1);
    reptile_optimizer_free(opt);
    reptile_model_free(m);
}

START_TEST(omniglot_net_batch_statistics)
{
    check_mode(REPTILE_BN_BATCH, "train/");
}
END_TEST

START_TEST(omniglot_net_moving_statistics)
{
    check_mode(REPTILE_BN_MOVING, "infer/");
}
END_TEST

/* The tutorial's mode: the same computation as REPTILE_BN_MOVING. */
START_TEST(omniglot_net_frozen_statistics)
{
    check_mode(REPTILE_BN_FROZEN, "infer/");
}
END_TEST

/* ---- the pooled network (tests/golden/make_pooled_fixture.py) ------------- */

#define POOLED_FIXTURE RP_FIXTURE("nn/pooled_net.bin")
#define POOLED_STATE 8

/* The parameter buffer of the pooled network, in the documented order. */
static const struct {
    const char *name;
    size_t count;
} pooled_params[] = {
    {"conv0/kernel", 3 * 3 * 2 * 4}, {"conv0/bias", 4}, {"bn0/gamma", 4}, {"bn0/beta", 4},
    {"conv1/kernel", 3 * 3 * 4 * 5}, {"conv1/bias", 5}, {"dense/kernel", 2 * 3 * 5 * WAYS},
    {"dense/bias", WAYS},
};
enum { POOLED_TENSORS = sizeof pooled_params / sizeof pooled_params[0], POOLED_PARAMS = 424 };

/* conv -> BatchNorm -> max-pool (same, 9x7 -> 5x4) -> ReLU -> conv ->
 * max-pool (valid 3x2, stride 2x1, 5x4 -> 2x3) -> flatten -> dense, with the
 * fixture's parameters and moving statistics, summed loss; public API only. */
static reptile_model *pooled_fixture_net(void)
{
    load_fixture(POOLED_FIXTURE);
    reptile_model *m = NULL;
    ck_assert_int_eq(reptile_model_new(&m, 9, 7, 2), 0);
    ck_assert_int_eq(reptile_model_add_conv2d(m, 4, 3, 3, 1, 1, REPTILE_PADDING_SAME), 0);
    ck_assert_int_eq(reptile_model_add_batchnorm(m, 1e-3f, 0.99f), 0);
    ck_assert_int_eq(reptile_model_add_maxpool2d(m, 2, 2, 2, 2, REPTILE_PADDING_SAME), 0);
    ck_assert_int_eq(reptile_model_add_relu(m), 0);
    ck_assert_int_eq(reptile_model_add_conv2d(m, 5, 3, 3, 1, 1, REPTILE_PADDING_SAME), 0);
    ck_assert_int_eq(reptile_model_add_maxpool2d(m, 3, 2, 2, 1, REPTILE_PADDING_VALID), 0);
    ck_assert_int_eq(reptile_model_add_flatten(m), 0);
    ck_assert_int_eq(reptile_model_add_dense(m, WAYS), 0);
    ck_assert_uint_eq(reptile_model_num_params(m), POOLED_PARAMS);
    ck_assert_uint_eq(reptile_model_num_state(m), POOLED_STATE);
    ck_assert_int_eq(reptile_model_set_loss(m, REPTILE_REDUCTION_SUM, 0), 0);
    float params[POOLED_PARAMS], state[POOLED_STATE];
    size_t at = 0;
    for (int t = 0; t < POOLED_TENSORS; ++t) {
        memcpy(params + at, get(pooled_params[t].name, pooled_params[t].count)->data,
               pooled_params[t].count * sizeof(float));
        at += pooled_params[t].count;
    }
    ck_assert_uint_eq(at, POOLED_PARAMS);
    memcpy(state, get("bn0/moving_mean", 4)->data, 4 * sizeof(float));
    memcpy(state + 4, get("bn0/moving_var", 4)->data, 4 * sizeof(float));
    ck_assert_msg(reptile_model_set_params(m, params, POOLED_PARAMS) == 0, "%s", reptile_error_last());
    ck_assert_msg(reptile_model_set_state(m, state, POOLED_STATE) == 0, "%s", reptile_error_last());
    return m;
}

/* Predictions, loss, every parameter's gradient (read off one SGD step of
 * lr 2^6, as check_mode does) and the moving statistics, in one BatchNorm
 * mode ("train/": batch statistics, "infer/": moving). */
static void check_pooled_mode(int bn_mode, const char *mode)
{
    reptile_model *m = pooled_fixture_net();
    const int B = (int)get("labels", 0)->count;
    const float *x = get("x", (size_t)B * 9 * 7 * 2)->data;
    const int32_t *labels = get("labels", B)->data;
    expect_prediction(m, x, B, bn_mode, mode, 1);

    float w0[POOLED_PARAMS], w1[POOLED_PARAMS], s0[POOLED_STATE], s1[POOLED_STATE];
    ck_assert_int_eq(reptile_model_get_params(m, w0, POOLED_PARAMS), 0);
    ck_assert_int_eq(reptile_model_get_state(m, s0, POOLED_STATE), 0);
    reptile_optimizer *opt = NULL;
    ck_assert_int_eq(reptile_optimizer_new_sgd(&opt, SGD_LR, 0.0f), 0);
    float loss = NAN;
    ck_assert_msg(reptile_model_train_step(m, opt, x, labels, B, bn_mode, &loss) == 0, "%s",
                  reptile_error_last());
    const float *want_loss = get2(mode, "loss", 1);
    ck_assert_msg(fabs(loss - want_loss[0]) <= REL * fabs(want_loss[0]), "%sloss %.9g want %.9g",
                  mode, (double)loss, (double)want_loss[0]);
    ck_assert_int_eq(reptile_model_get_params(m, w1, POOLED_PARAMS), 0);
    ck_assert_int_eq(reptile_model_get_state(m, s1, POOLED_STATE), 0);
    double g[POOLED_PARAMS];
    for (int i = 0; i < POOLED_PARAMS; ++i)
        g[i] = ((double)w0[i] - (double)w1[i]) / SGD_LR;
    size_t at = 0;
    for (int t = 0; t < POOLED_TENSORS; ++t) {
        const char *name = pooled_params[t].name;
        const size_t n = pooled_params[t].count;
        char d[64];
        snprintf(d, sizeof d, "d%s", name);
        if (bn_mode == REPTILE_BN_BATCH && strcmp(name, "conv0/bias") == 0) {
            /* Analytically zero before BatchNorm on batch statistics: bound
             * the float noise by the layer's dbeta (4 floats after it). */
            double gn = 0, bn = 0;
            for (size_t c = 0; c < n; ++c) {
                gn += g[at + c] * g[at + c];
                bn += g[at + 8 + c] * g[at + 8 + c];
            }
            ck_assert_msg(sqrt(gn) <= REL * sqrt(bn), "%sdconv0/bias %.3g not ~0", mode, sqrt(gn));
            float want_zero[4];
            memcpy(want_zero, get2(mode, d, n), sizeof want_zero);
            for (size_t c = 0; c < n; ++c)
                ck_assert_msg(fabsf(want_zero[c]) < 1e-12f, "PyTorch's dconv0/bias is not ~0");
        } else {
            expect_named(mode, d, n, g + at);
        }
        at += n;
    }
    if (bn_mode == REPTILE_BN_BATCH) {
        double got[POOLED_STATE];
        for (int i = 0; i < POOLED_STATE; ++i)
            got[i] = s1[i];
        expect_named(mode, "new_moving_mean", 4, got);
        expect_named(mode, "new_moving_var", 4, got + 4);
    } else {
        ck_assert_mem_eq(s1, s0, sizeof s0); /* read, never written */
    }
    reptile_optimizer_free(opt);
    reptile_model_free(m);
}

START_TEST(pooled_net_batch_statistics)
{
    check_pooled_mode(REPTILE_BN_BATCH, "train/");
}
END_TEST

START_TEST(pooled_net_moving_statistics)
{
    check_pooled_mode(REPTILE_BN_MOVING, "infer/");
}
END_TEST

/* One ordinary training step (SGD, lr 2^-4, batch statistics): the
 * parameters after it, and the updated network's probabilities on moving
 * statistics (the averages the step moved), as an application uses it. */
START_TEST(pooled_net_one_training_step)
{
    reptile_model *m = pooled_fixture_net();
    const int B = (int)get("labels", 0)->count;
    const float *x = get("x", (size_t)B * 9 * 7 * 2)->data;
    reptile_optimizer *opt = NULL;
    ck_assert_int_eq(reptile_optimizer_new_sgd(&opt, 0.0625f, 0.0f), 0);
    ck_assert_msg(reptile_model_train_step(m, opt, x, get("labels", B)->data, B, REPTILE_BN_BATCH,
                                           NULL) == 0, "%s", reptile_error_last());
    float w[POOLED_PARAMS];
    ck_assert_int_eq(reptile_model_get_params(m, w, POOLED_PARAMS), 0);
    double got[POOLED_PARAMS];
    for (int i = 0; i < POOLED_PARAMS; ++i)
        got[i] = w[i];
    size_t at = 0;
    for (int t = 0; t < POOLED_TENSORS; ++t) {
        expect_named("step/", pooled_params[t].name, pooled_params[t].count, got + at);
        at += pooled_params[t].count;
    }
    expect_prediction(m, x, B, REPTILE_BN_MOVING, "step/", 0);
    reptile_optimizer_free(opt);
    reptile_model_free(m);
}
END_TEST

static Suite *golden_suite(void)
{
    Suite *s = suite_create("model-golden");
    TCase *tc = tcase_create("golden");
    tcase_add_unchecked_fixture(tc, NULL, free_fixture);
    tcase_add_test(tc, omniglot_net_batch_statistics);
    tcase_add_test(tc, omniglot_net_moving_statistics);
    tcase_add_test(tc, omniglot_net_frozen_statistics);
    tcase_add_test(tc, pooled_net_batch_statistics);
    tcase_add_test(tc, pooled_net_moving_statistics);
    tcase_add_test(tc, pooled_net_one_training_step);
    suite_add_tcase(s, tc);
    return s;
}

RP_TEST_MAIN(golden_suite)
