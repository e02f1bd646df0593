/* Golden test: the tutorial's Omniglot network chained from the lib/nn
 * kernels (omninet.c) against PyTorch float64 results written by
 * tests/golden/make_nn_fixtures.py (fixture tests/fixtures/nn/omniglot_net.bin),
 * in both BatchNorm modes: logits, loss, moving-statistics update, and the
 * gradient of every parameter and of the input.
 *
 * Tolerance: norm-wise relative 1e-4, ||got - want|| <= 1e-4 * ||want||.
 * float32 through four conv+BN layers accumulates ~1e-6..1e-5 relative error
 * (BatchNorm rescales by up to 1/sqrt(var+eps) ~ 10), so 1e-4 has a margin of
 * 10x while a wrong padding side, layout or formula is off by O(1). The one
 * exception is the conv bias under batch statistics, whose gradient is zero
 * analytically (BatchNorm subtracts the batch mean): there only float
 * cancellation noise remains, bounded against the layer's dbeta norm. */
#include "nn_testutil.h"
#include "omninet.h"
#include "nn/batchnorm.h"

#include <stdio.h>

#define REL 1e-4

typedef struct {
    char name[64];
    char type[8];
    size_t count;
    void *data;
} tensor;

static tensor g_t[128];
static int g_nt;

static void load_fixture(void)
{
    if (g_nt)
        return;
    FILE *f = fopen(RP_FIXTURE("nn/omniglot_net.bin"), "rb");
    ck_assert_msg(f != NULL, "cannot open %s", RP_FIXTURE("nn/omniglot_net.bin"));
    char line[160];
    while (fgets(line, sizeof line, f) && strcmp(line, "end\n") != 0) {
        ck_assert_int_lt(g_nt, 128);
        tensor *t = &g_t[g_nt++];
        ck_assert_int_eq(sscanf(line, "%63s %7s %zu", t->name, t->type, &t->count), 3);
    }
    for (int i = 0; i < g_nt; ++i) {
        tensor *t = &g_t[i];
        size_t es = strcmp(t->type, "i8") == 0 ? 1 : 4;
        t->data = nt_alloc(t->count * es);
        ck_assert_uint_eq(fread(t->data, es, t->count, f), t->count);
    }
    ck_assert_int_eq(fgetc(f), EOF); /* nothing trailing: header and payload agree */
    fclose(f);
}

static const tensor *get(const char *name, size_t count)
{
    for (int i = 0; i < g_nt; ++i)
        if (strcmp(g_t[i].name, name) == 0) {
            ck_assert_msg(count == 0 || g_t[i].count == count, "%s: %zu values, want %zu", name, g_t[i].count, count);
            return &g_t[i];
        }
    ck_abort_msg("fixture has no tensor %s", name);
    return NULL;
}

static const float *getf(const char *fmt, int l, size_t count)
{
    char name[64];
    snprintf(name, sizeof name, fmt, l);
    return get(name, count)->data;
}

static double norm_diff(size_t n, const float *got, const float *want, size_t stride, double *wnorm)
{
    double d = 0, w = 0;
    for (size_t i = 0; i < n; ++i) {
        double e = (double)got[i * stride] - want[i];
        d += e * e;
        w += (double)want[i] * want[i];
    }
    *wnorm = sqrt(w);
    return sqrt(d);
}

static void expect_close(const char *what, size_t n, const float *got, const float *want)
{
    double wn, dn = norm_diff(n, got, want, 1, &wn);
    ck_assert_msg(dn <= REL * wn, "%s: ||diff|| %.3g vs ||want|| %.3g", what, dn, wn);
}

/* Compares against the fixture tensor PREFIX + SUFFIX. */
static void expect_named(const char *prefix, const char *suffix, size_t n, const float *got)
{
    char name[96];
    snprintf(name, sizeof name, "%s%s", prefix, suffix);
    expect_close(name, n, got, get(name, n)->data);
}

static const float *get2(const char *prefix, const char *suffix, size_t n)
{
    char name[96];
    snprintf(name, sizeof name, "%s%s", prefix, suffix);
    return get(name, n)->data;
}

static uint32_t sign_hash(size_t i)
{
    return (uint32_t)((uint32_t)i * 2654435761u);
}

static void setup_net(omninet *n)
{
    load_fixture();
    const int B = (int)get("labels", 0)->count;
    ck_assert_int_eq(omninet_init(n, B, 5), 0);
    ck_assert_uint_eq(n->nparams, 113221);
    for (int l = 0; l < ON_LAYERS; ++l) {
        size_t nk = (size_t)9 * n->conv[l].in_c * ON_CH;
        if (l == 0) {
            memcpy(n->k[0], getf("conv%d/kernel", 0, nk), nk * 4);
        } else {
            char name[64];
            snprintf(name, sizeof name, "conv%d/kernel_q", l);
            const int8_t *q = get(name, nk)->data;
            for (size_t i = 0; i < nk; ++i)
                n->k[l][i] = (float)q[i] * (1.0f / 2048.0f); /* exact */
        }
        memcpy(n->b[l], getf("conv%d/bias", l, ON_CH), ON_CH * 4);
        memcpy(n->gamma[l], getf("conv%d/gamma", l, ON_CH), ON_CH * 4);
        memcpy(n->beta[l], getf("conv%d/beta", l, ON_CH), ON_CH * 4);
        memcpy(n->moving_mean[l], getf("conv%d/moving_mean", l, ON_CH), ON_CH * 4);
        memcpy(n->moving_var[l], getf("conv%d/moving_var", l, ON_CH), ON_CH * 4);
    }
    memcpy(n->dk, get("dense/kernel", 256 * 5)->data, 256 * 5 * 4);
    memcpy(n->db, get("dense/bias", 5)->data, 5 * 4);
}

static void check_mode(int train)
{
    omninet n;
    setup_net(&n);
    const int B = n.batch;
    const char *mode = train ? "train/" : "infer/";
    float *dx = nt_alloc((size_t)B * 784 * 4);
    const float *x = get("x", (size_t)B * 784)->data;
    const int32_t *labels = get("labels", B)->data;
    float loss = omninet_step(&n, x, labels, train, dx);

    const float *want_loss = get2(mode, "loss", 1);
    ck_assert_msg(fabs(loss - want_loss[0]) <= REL * fabs(want_loss[0]), "%sloss %.9g want %.9g", mode,
                  (double)loss, (double)want_loss[0]);
    expect_named(mode, "logits", (size_t)B * 5, n.logits);
    expect_named(mode, "dx", (size_t)B * 784, dx);
    expect_named(mode, "dense/dkernel", 256 * 5, n.gdk);
    expect_named(mode, "dense/dbias", 5, n.gdb);
    for (int l = 0; l < ON_LAYERS; ++l) {
        char p[64];
        snprintf(p, sizeof p, "%sconv%d/", mode, l);
        expect_named(p, "dgamma", ON_CH, n.ggamma[l]);
        expect_named(p, "dbeta", ON_CH, n.gbeta[l]);
        if (train) {
            /* Analytically zero: bound the noise by the layer's dbeta scale. */
            double bn = 0, gn = 0;
            for (int c = 0; c < ON_CH; ++c) {
                bn += (double)n.gbeta[l][c] * n.gbeta[l][c];
                gn += (double)n.gb[l][c] * n.gb[l][c];
            }
            ck_assert_msg(sqrt(gn) <= REL * sqrt(bn), "%s dbias %.3g not ~0", p, sqrt(gn));
            expect_named(p, "new_moving_mean", ON_CH, n.moving_mean[l]);
            expect_named(p, "new_moving_var", ON_CH, n.moving_var[l]);
        } else {
            expect_named(p, "dbias", ON_CH, n.gb[l]);
        }
        size_t nk = (size_t)9 * n.conv[l].in_c * ON_CH;
        if (l == 0) {
            expect_named(p, "dkernel", nk, n.gk[0]);
            continue;
        }
        /* Every 13th element, then the full gradient through its norm and a
         * +-1 projection (checks the elements the subsample skips). */
        const size_t nsub = (nk + 12) / 13;
        double wn, dn = norm_diff(nsub, n.gk[l], get2(p, "dkernel_sub", nsub), 13, &wn);
        ck_assert_msg(dn <= REL * wn, "%sdkernel_sub: ||diff|| %.3g vs %.3g", p, dn, wn);
        double proj = 0, nrm = 0;
        for (size_t i = 0; i < nk; ++i) {
            double g = n.gk[l][i];
            proj += (sign_hash(i) >> 16 & 1) ? g : -g;
            nrm += g * g;
        }
        const float *wproj = get2(p, "dkernel_proj", 1);
        const float *wnorm = get2(p, "dkernel_norm", 1);
        ck_assert_msg(fabs(sqrt(nrm) - wnorm[0]) <= REL * wnorm[0], "%s norm %.9g want %.9g", p, sqrt(nrm),
                      (double)wnorm[0]);
        /* A sum of +-g has error ~ REL * ||g|| * sqrt(n) at worst. */
        ck_assert_msg(fabs(proj - wproj[0]) <= REL * wnorm[0] * sqrt((double)nk), "%s proj %.9g want %.9g", p,
                      proj, (double)wproj[0]);
    }
    free(dx);
    omninet_free(&n);
}

START_TEST(omniglot_net_batch_statistics)
{
    check_mode(1);
}
END_TEST

START_TEST(omniglot_net_moving_statistics)
{
    check_mode(0);
}
END_TEST

START_TEST(sgd_updates_every_parameter)
{
    omninet n;
    setup_net(&n);
    float *before = nt_alloc(n.nparams * 4);
    memcpy(before, n.params, n.nparams * 4);
    omninet_step(&n, get("x", 0)->data, get("labels", 0)->data, 0, NULL);
    omninet_sgd(&n, 0.5f);
    for (size_t i = 0; i < n.nparams; ++i)
        ck_assert_float_eq(n.params[i], before[i] - 0.5f * n.grads[i]);
    free(before);
    omninet_free(&n);
}
END_TEST

static void free_fixture(void)
{
    for (int i = 0; i < g_nt; ++i)
        free(g_t[i].data);
    g_nt = 0;
}

static Suite *golden_suite(void)
{
    Suite *s = suite_create("nn-golden");
    TCase *tc = tcase_create("golden");
    tcase_add_unchecked_fixture(tc, NULL, free_fixture);
    tcase_add_test(tc, omniglot_net_batch_statistics);
    tcase_add_test(tc, omniglot_net_moving_statistics);
    tcase_add_test(tc, sgd_updates_every_parameter);
    suite_add_tcase(s, tc);
    return s;
}

RP_TEST_MAIN(golden_suite)
