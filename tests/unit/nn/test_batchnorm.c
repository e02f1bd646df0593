/* BatchNorm: forwards against double references, gradients of both modes
 * against central finite differences, moving-average update.
 *
 * Tolerances: statistics accumulate in double, the normalisation is a few
 * float32 operations per element (~1e-7 relative), and the train-mode dx
 * subtracts two channel means (cancellation bounded by |dy| scale). The
 * finite differences (h = 1e-4 in double) of this smooth objective are
 * accurate to ~1e-8. 2e-4 relative plus 2e-4 x max|reference| is well above
 * rounding and far below the O(1) error of any formula mistake (for example
 * an unbiased variance would be off by rows/(rows-1)). */
#include "nn_testutil.h"
#include "nn/activation.h"
#include "nn/batchnorm.h"

#define RTOL 2e-4
#define ATOL 2e-4
#define EPS 1e-3f

static void bn_ref(int rows, int C, double eps, int train, const double *x, const double *g, const double *b,
                   const double *mm, const double *mv, double *y)
{
    for (int c = 0; c < C; ++c) {
        double mean = 0, var = 0;
        if (train) {
            for (int r = 0; r < rows; ++r)
                mean += x[(size_t)r * C + c];
            mean /= rows;
            for (int r = 0; r < rows; ++r)
                var += (x[(size_t)r * C + c] - mean) * (x[(size_t)r * C + c] - mean);
            var /= rows;
        } else {
            mean = mm[c];
            var = mv[c];
        }
        for (int r = 0; r < rows; ++r)
            y[(size_t)r * C + c] = g[c] * (x[(size_t)r * C + c] - mean) / sqrt(var + eps) + b[c];
    }
}

typedef struct {
    int rows, C, train;
    double *x, *g, *b, *mm, *mv, *y, *r;
} bn_ctx;

static double bn_obj(void *p)
{
    bn_ctx *c = p;
    bn_ref(c->rows, c->C, EPS, c->train, c->x, c->g, c->b, c->mm, c->mv, c->y);
    double L = 0;
    for (size_t i = 0; i < (size_t)c->rows * c->C; ++i)
        L += c->r[i] * c->y[i];
    return L;
}

static void check_bn(rp_rng *rng, int rows, int C, int train)
{
    const size_t n = (size_t)rows * C;
    float *x = nt_alloc(n * 4), *y = nt_alloc(n * 4), *dy = nt_alloc(n * 4), *dx = nt_alloc(n * 4);
    float *g = nt_alloc(C * 4), *b = nt_alloc(C * 4), *mm = nt_alloc(C * 4), *mv = nt_alloc(C * 4);
    float *mean = nt_alloc(C * 4), *inv = nt_alloc(C * 4), *dg = nt_alloc(C * 4), *db = nt_alloc(C * 4);
    double *xd = nt_alloc(n * 8), *yd = nt_alloc(n * 8), *rd = nt_alloc(n * 8);
    double *gd = nt_alloc(C * 8), *bd = nt_alloc(C * 8), *mmd = nt_alloc(C * 8), *mvd = nt_alloc(C * 8);
    /* Channels with an offset and scale far from N(0,1), as after a conv. */
    for (size_t i = 0; i < n; ++i) {
        int c = (int)(i % C);
        x[i] = (float)(nt_uniform(rng, -1, 1) * (1 + c % 5) + (c % 3) - 1);
        xd[i] = x[i];
    }
    nt_fill(rng, C, 0.5f, 1.5f, g, gd);
    nt_fill(rng, C, -0.5f, 0.5f, b, bd);
    nt_fill(rng, C, -0.5f, 0.5f, mm, mmd);
    nt_fill(rng, C, 0.5f, 2.0f, mv, mvd);
    nt_fill(rng, n, -1, 1, dy, rd);
    for (int c = 0; c < C; ++c)
        dg[c] = db[c] = 1e6f;

    char what[96];
    snprintf(what, sizeof what, "bn %s rows %d C %d", train ? "train" : "infer", rows, C);
    bn_ref(rows, C, EPS, train, xd, gd, bd, mmd, mvd, yd);
    if (train)
        rp_batchnorm_forward_train(rows, C, EPS, x, g, b, y, mean, inv, 0);
    else
        rp_batchnorm_forward_infer(rows, C, EPS, x, g, b, mm, mv, y, 0);
    nt_check_close(what, n, y, yd, RTOL, ATOL);

    if (train)
        rp_batchnorm_backward_train(rows, C, x, dy, NULL, g, mean, inv, dx, dg, db);
    else
        rp_batchnorm_backward_infer(rows, C, EPS, x, dy, NULL, g, mm, mv, dx, dg, db);
    bn_ctx ctx = {rows, C, train, xd, gd, bd, mmd, mvd, yd, rd};
    char w2[128];
    snprintf(w2, sizeof w2, "%s dx", what);
    nt_check_grad(w2, rng, bn_obj, &ctx, xd, n, dx, 1e-4, RTOL, ATOL, 64);
    snprintf(w2, sizeof w2, "%s dgamma", what);
    nt_check_grad(w2, rng, bn_obj, &ctx, gd, C, dg, 1e-4, RTOL, ATOL, 64);
    snprintf(w2, sizeof w2, "%s dbeta", what);
    nt_check_grad(w2, rng, bn_obj, &ctx, bd, C, db, 1e-4, RTOL, ATOL, 64);

    /* dx = NULL gives the same parameter gradients. */
    float *dg2 = nt_alloc(C * 4), *db2 = nt_alloc(C * 4);
    if (train)
        rp_batchnorm_backward_train(rows, C, x, dy, NULL, g, mean, inv, NULL, dg2, db2);
    else
        rp_batchnorm_backward_infer(rows, C, EPS, x, dy, NULL, g, mm, mv, NULL, dg2, db2);
    ck_assert(memcmp(dg, dg2, C * 4) == 0 && memcmp(db, db2, C * 4) == 0);
    free(dg2); free(db2);
    free(x); free(y); free(dy); free(dx); free(g); free(b); free(mm); free(mv);
    free(mean); free(inv); free(dg); free(db); free(xd); free(yd); free(rd);
    free(gd); free(bd); free(mmd); free(mvd);
}

START_TEST(train_mode_matches_reference_and_fd)
{
    rp_rng rng;
    rp_rng_init(&rng, 7, 0, 0);
    static const int chans[] = {1, 3, 17, 64, 70, 130};
    for (int it = 0; it < 24; ++it)
        check_bn(&rng, it == 0 ? 2 : nt_int(&rng, 2, 60), chans[it % 6], 1);
}
END_TEST

START_TEST(infer_mode_matches_reference_and_fd)
{
    rp_rng rng;
    rp_rng_init(&rng, 8, 0, 0);
    static const int chans[] = {1, 3, 17, 64, 70, 130};
    for (int it = 0; it < 24; ++it)
        check_bn(&rng, it == 0 ? 1 : nt_int(&rng, 1, 60), chans[it % 6], 0);
}
END_TEST

START_TEST(statistics_are_biased_and_saved)
{
    /* One channel 1,2,3,4: mean 2.5, biased variance 1.25. */
    const float x[4] = {1, 2, 3, 4}, g = 1, b = 0;
    float y[4], mean, inv;
    rp_batchnorm_forward_train(4, 1, EPS, x, &g, &b, y, &mean, &inv, 0);
    ck_assert_float_eq_tol(mean, 2.5f, 1e-6f);
    ck_assert_float_eq_tol(inv, (float)(1.0 / sqrt(1.25 + 1e-3)), 1e-6f);
    /* Keras update: moving = moving*0.99 + batch*0.01, variance biased. */
    float mm = 0.0f, mv = 1.0f;
    rp_batchnorm_update_moving(1, 0.99f, &mean, &inv, EPS, &mm, &mv);
    ck_assert_float_eq_tol(mm, 0.025f, 1e-6f);
    ck_assert_float_eq_tol(mv, 0.99f + 0.0125f, 1e-5f);
}
END_TEST

START_TEST(large_offset_keeps_variance)
{
    /* A channel at 1000 + small spread: a one-pass float E[x^2]-E[x]^2
     * would lose the variance entirely. */
    enum { R = 4096 };
    static float x[R], y[R];
    double s = 0, s2 = 0;
    for (int r = 0; r < R; ++r) {
        x[r] = 1000.0f + (float)((r % 7) - 3) * 0.01f;
        s += x[r];
    }
    for (int r = 0; r < R; ++r)
        s2 += (x[r] - s / R) * (x[r] - s / R);
    const float g = 1, b = 0;
    float mean, inv;
    rp_batchnorm_forward_train(R, 1, EPS, x, &g, &b, y, &mean, &inv, 0);
    double want = 1.0 / sqrt(s2 / R + EPS);
    ck_assert_msg(fabs(inv - want) < 1e-4 * want, "invstd %g want %g", (double)inv, want);
}
END_TEST

/* BatchNorm with its ReLU fused gives the bits of the two layers one after
 * the other (rp_relu_forward, then rp_relu_backward in place), in both modes,
 * with and without dx; zeros and negative zeros among the pre-activations. */
static void check_fused_relu(rp_rng *rng, int rows, int C, int train)
{
    const size_t n = (size_t)rows * C;
    float *x = nt_alloc(n * 4), *dy = nt_alloc(n * 4), *g = nt_alloc(C * 4), *b = nt_alloc(C * 4);
    float *mm = nt_alloc(C * 4), *mv = nt_alloc(C * 4), *mean = nt_alloc(C * 4);
    float *inv = nt_alloc(C * 4), *y1 = nt_alloc(n * 4), *y2 = nt_alloc(n * 4);
    float *d1 = nt_alloc(n * 4), *dx1 = nt_alloc(n * 4), *dx2 = nt_alloc(n * 4);
    float *dg1 = nt_alloc(C * 4), *db1 = nt_alloc(C * 4), *dg2 = nt_alloc(C * 4);
    float *db2 = nt_alloc(C * 4);
    nt_fill(rng, n, -2, 2, x, NULL);
    nt_fill(rng, n, -1, 1, dy, NULL);
    nt_fill(rng, C, 0.5f, 1.5f, g, NULL);
    nt_fill(rng, C, -0.5f, 0.5f, b, NULL);
    nt_fill(rng, C, -0.5f, 0.5f, mm, NULL);
    nt_fill(rng, C, 0.5f, 2.0f, mv, NULL);
    b[0] = 0.0f, mm[0] = 0.0f; /* channel 0: x = 0 and -0 map to +-0 */
    x[0] = 0.0f;
    if (rows > 1)
        x[C] = -0.0f;
    for (int with_dx = 0; with_dx < 2; ++with_dx) {
        float mean2[256], inv2[256];
        if (train) {
            rp_batchnorm_forward_train(rows, C, EPS, x, g, b, y1, mean, inv, 0);
            rp_batchnorm_forward_train(rows, C, EPS, x, g, b, y2, mean2, inv2, 1);
            ck_assert(memcmp(mean, mean2, C * 4) == 0 && memcmp(inv, inv2, C * 4) == 0);
        } else {
            rp_batchnorm_forward_infer(rows, C, EPS, x, g, b, mm, mv, y1, 0);
            rp_batchnorm_forward_infer(rows, C, EPS, x, g, b, mm, mv, y2, 1);
        }
        rp_relu_forward(n, y1, y1);
        ck_assert_msg(memcmp(y1, y2, n * 4) == 0, "fused forward differs (rows %d C %d)", rows, C);
        memcpy(d1, dy, n * 4);
        rp_relu_backward(n, y1, d1, d1);
        float *dxa = with_dx ? dx1 : NULL, *dxb = with_dx ? dx2 : NULL;
        if (train) {
            rp_batchnorm_backward_train(rows, C, x, d1, NULL, g, mean, inv, dxa, dg1, db1);
            rp_batchnorm_backward_train(rows, C, x, dy, y2, g, mean, inv, dxb, dg2, db2);
        } else {
            rp_batchnorm_backward_infer(rows, C, EPS, x, d1, NULL, g, mm, mv, dxa, dg1, db1);
            rp_batchnorm_backward_infer(rows, C, EPS, x, dy, y2, g, mm, mv, dxb, dg2, db2);
        }
        ck_assert(memcmp(dg1, dg2, C * 4) == 0 && memcmp(db1, db2, C * 4) == 0);
        if (with_dx)
            ck_assert_msg(memcmp(dx1, dx2, n * 4) == 0, "fused dx differs (rows %d C %d)", rows,
                          C);
    }
    free(x); free(dy); free(g); free(b); free(mm); free(mv); free(mean); free(inv);
    free(y1); free(y2); free(d1); free(dx1); free(dx2); free(dg1); free(db1); free(dg2); free(db2);
}

START_TEST(fused_relu_is_bitwise_the_two_layers)
{
    rp_rng rng;
    rp_rng_init(&rng, 9, 0, 0);
    static const int chans[] = {1, 3, 17, 64, 70, 130};
    for (int it = 0; it < 24; ++it)
        check_fused_relu(&rng, nt_int(&rng, 1, 60), chans[it % 6], it % 2);
}
END_TEST

static Suite *bn_suite(void)
{
    Suite *s = suite_create("nn-batchnorm");
    TCase *tc = tcase_create("batchnorm");
    tcase_add_test(tc, train_mode_matches_reference_and_fd);
    tcase_add_test(tc, infer_mode_matches_reference_and_fd);
    tcase_add_test(tc, statistics_are_biased_and_saved);
    tcase_add_test(tc, large_offset_keeps_variance);
    tcase_add_test(tc, fused_relu_is_bitwise_the_two_layers);
    suite_add_tcase(s, tc);
    return s;
}

RP_TEST_MAIN(bn_suite)
