/* Softmax cross-entropy: loss against a double log-softmax reference and
 * gradients against central finite differences, both reductions, with and
 * without the Keras clip; softmax rows and argmax.
 *
 * Tolerances: the kernel runs exp/log in double and rounds once to float, so
 * the loss is within ~1e-7 relative; gradients are p - onehot rounded to
 * float (~1e-7). Finite differences with h = 1e-5 on a smooth function are
 * accurate to ~1e-9. 1e-5 relative + 1e-5 x max|ref| is ample. */
#include "nn_testutil.h"
#include "nn/loss.h"

#define RTOL 1e-5
#define ATOL 1e-5

typedef struct {
    int batch, classes, clip, mean;
    double *z;
    const int32_t *labels;
} xent_ctx;

static double xent_ref(void *p)
{
    xent_ctx *c = p;
    double total = 0;
    for (int b = 0; b < c->batch; ++b) {
        const double *z = c->z + (size_t)b * c->classes;
        double m = z[0], s = 0;
        for (int j = 1; j < c->classes; ++j)
            m = z[j] > m ? z[j] : m;
        for (int j = 0; j < c->classes; ++j)
            s += exp(z[j] - m);
        double py = exp(z[c->labels[b]] - m) / s;
        if (c->clip) {
            const double lo = 1e-7f, hi = 1.0f - 1e-7f;
            py = py < lo ? lo : py > hi ? hi : py;
        }
        total -= c->clip ? log(py) : z[c->labels[b]] - m - log(s);
    }
    return c->mean ? total / c->batch : total;
}

static void check_xent(rp_rng *rng, int B, int K, int clip, int mean, int extreme)
{
    float *z = nt_alloc(B * K * 4), *p = nt_alloc(B * K * 4), *dz = nt_alloc(B * K * 4);
    double *zd = nt_alloc(B * K * 8);
    int32_t *lab = nt_alloc(B * 4);
    nt_fill(rng, B * K, -3, 3, z, zd);
    for (int b = 0; b < B; ++b) {
        lab[b] = (int32_t)rp_rng_below(rng, (uint32_t)K);
        if (extreme && b % 2 == 0) {
            /* Saturated rows: the true class far above (p_y > 1 - 1e-7) or
             * far below (p_y < 1e-7) the others; clipped under Keras rules. */
            z[b * K + lab[b]] = b % 4 == 0 ? 40.0f : -40.0f;
            zd[b * K + lab[b]] = z[b * K + lab[b]];
        }
    }
    xent_ctx c = {B, K, clip, mean, zd, lab};
    float loss = rp_softmax_xent(B, K, z, lab, mean ? RP_REDUCE_MEAN : RP_REDUCE_SUM, clip, p, dz);
    double want = xent_ref(&c);
    ck_assert_msg(fabs(loss - want) <= 1e-6 * fabs(want) + 1e-6, "loss %.9g want %.9g (B %d K %d clip %d mean %d)",
                  (double)loss, want, B, K, clip, mean);
    for (int b = 0; b < B; ++b) {
        double s = 0;
        for (int j = 0; j < K; ++j)
            s += p[b * K + j];
        ck_assert(fabs(s - 1) < 1e-5);
    }
    nt_check_grad("dlogits", rng, xent_ref, &c, zd, (size_t)B * K, dz, 1e-5, RTOL, ATOL, 400);
    /* NULL outputs are allowed and do not change the loss. */
    ck_assert(rp_softmax_xent(B, K, z, lab, mean ? RP_REDUCE_MEAN : RP_REDUCE_SUM, clip, NULL, NULL) == loss);
    free(z); free(p); free(dz); free(zd); free(lab);
}

START_TEST(xent_matches_reference_and_fd)
{
    rp_rng rng;
    rp_rng_init(&rng, 21, 0, 0);
    for (int it = 0; it < 40; ++it) {
        int B = it < 8 ? 1 : nt_int(&rng, 1, 30), K = nt_int(&rng, 2, 20);
        check_xent(&rng, B, K, it % 2, (it / 2) % 2, (it / 4) % 2);
    }
}
END_TEST

START_TEST(clipped_rows_pass_no_gradient)
{
    const float z[6] = {50, 0, 0, -50, 0, 0};
    const int32_t lab[2] = {0, 0};
    float dz[6];
    float loss = rp_softmax_xent(2, 3, z, lab, RP_REDUCE_SUM, 1, NULL, dz);
    for (int i = 0; i < 6; ++i)
        ck_assert_float_eq(dz[i], 0.0f);
    /* -log(1 - 1e-7 in float) - log(1e-7) */
    double want = -log((double)(1.0f - 1e-7f)) - log((double)1e-7f);
    ck_assert(fabs(loss - want) < 1e-5 * want);
    /* Exact mode: finite, large loss and a full gradient on row 1. */
    loss = rp_softmax_xent(2, 3, z, lab, RP_REDUCE_SUM, 0, NULL, dz);
    ck_assert(isfinite(loss) && loss > 49.0f);
    ck_assert_float_eq_tol(dz[3], -1.0f, 1e-6f);
}
END_TEST

START_TEST(softmax_and_argmax)
{
    const float z[8] = {1000, 999, 998, -1000, 1, 3, 3, 2}; /* huge logits stay finite */
    float p[8];
    int32_t am[2];
    rp_softmax_rows(2, 4, z, p);
    double e = 1 + exp(-1.0) + exp(-2.0);
    ck_assert_float_eq_tol(p[0], (float)(1 / e), 1e-6f);
    ck_assert_float_eq_tol(p[3], 0.0f, 1e-30f);
    rp_argmax_rows(2, 4, z, am);
    ck_assert_int_eq(am[0], 0);
    ck_assert_int_eq(am[1], 1); /* first of the tied maxima */
    memcpy(p, z, sizeof p);
    rp_softmax_rows(2, 4, p, p); /* in place */
    ck_assert_float_eq_tol(p[0], (float)(1 / e), 1e-6f);
}
END_TEST

static Suite *loss_suite(void)
{
    Suite *s = suite_create("nn-loss");
    TCase *tc = tcase_create("loss");
    tcase_add_test(tc, xent_matches_reference_and_fd);
    tcase_add_test(tc, clipped_rows_pass_no_gradient);
    tcase_add_test(tc, softmax_and_argmax);
    suite_add_tcase(s, tc);
    return s;
}

RP_TEST_MAIN(loss_suite)
