/* Dense layer and ReLU: forwards against double references, gradients
 * against central finite differences. Dense sums at most 40 products in
 * float32 (~1e-6 relative); the objective is linear in every parameter, so
 * the differences are exact to ~1e-10; 1e-4 relative + 1e-4 x max|ref|. */
#include "nn_testutil.h"
#include "nn/activation.h"
#include "nn/dense.h"

#define RTOL 1e-4
#define ATOL 1e-4

typedef struct {
    int batch, in, out;
    double *x, *w, *b, *y, *r;
} dense_ctx;

static void dense_ref(const dense_ctx *c)
{
    for (int n = 0; n < c->batch; ++n)
        for (int o = 0; o < c->out; ++o) {
            double acc = c->b[o];
            for (int i = 0; i < c->in; ++i)
                acc += c->x[n * c->in + i] * c->w[i * c->out + o];
            c->y[n * c->out + o] = acc;
        }
}

static double dense_obj(void *p)
{
    dense_ctx *c = p;
    dense_ref(c);
    double L = 0;
    for (int i = 0; i < c->batch * c->out; ++i)
        L += c->r[i] * c->y[i];
    return L;
}

START_TEST(dense_matches_reference_and_fd)
{
    rp_rng rng;
    rp_rng_init(&rng, 11, 0, 0);
    for (int it = 0; it < 30; ++it) {
        int B = it == 0 ? 1 : nt_int(&rng, 1, 6), I = nt_int(&rng, 1, 40), O = nt_int(&rng, 1, 7);
        float *x = nt_alloc(B * I * 4), *w = nt_alloc(I * O * 4), *b = nt_alloc(O * 4), *y = nt_alloc(B * O * 4);
        float *dy = nt_alloc(B * O * 4), *dx = nt_alloc(B * I * 4), *dw = nt_alloc(I * O * 4), *db = nt_alloc(O * 4);
        double *xd = nt_alloc(B * I * 8), *wd = nt_alloc(I * O * 8), *bd = nt_alloc(O * 8), *yd = nt_alloc(B * O * 8);
        double *rd = nt_alloc(B * O * 8);
        nt_fill(&rng, B * I, -1, 1, x, xd);
        nt_fill(&rng, I * O, -1, 1, w, wd);
        nt_fill(&rng, O, -1, 1, b, bd);
        nt_fill(&rng, B * O, -1, 1, dy, rd);
        for (int i = 0; i < I * O; ++i)
            dw[i] = 1e6f;
        dense_ctx c = {B, I, O, xd, wd, bd, yd, rd};
        rp_dense_forward(B, I, O, x, w, b, y);
        dense_ref(&c);
        nt_check_close("dense y", B * O, y, yd, RTOL, ATOL);
        rp_dense_backward(B, I, O, x, w, dy, dx, dw, db);
        nt_check_grad("dense dx", &rng, dense_obj, &c, xd, B * I, dx, 1e-3, RTOL, ATOL, 64);
        nt_check_grad("dense dw", &rng, dense_obj, &c, wd, I * O, dw, 1e-3, RTOL, ATOL, 64);
        nt_check_grad("dense db", &rng, dense_obj, &c, bd, O, db, 1e-3, RTOL, ATOL, 64);
        /* NULL bias = zero bias; NULL dx/db skip them. */
        rp_dense_forward(B, I, O, x, w, NULL, y);
        for (int o = 0; o < O; ++o)
            bd[o] = 0;
        dense_ref(&c);
        nt_check_close("dense y nobias", B * O, y, yd, RTOL, ATOL);
        float *dw2 = nt_alloc(I * O * 4);
        rp_dense_backward(B, I, O, x, w, dy, NULL, dw2, NULL);
        ck_assert(memcmp(dw, dw2, (size_t)I * O * 4) == 0);
        free(dw2);
        free(x); free(w); free(b); free(y); free(dy); free(dx); free(dw); free(db);
        free(xd); free(wd); free(bd); free(yd); free(rd);
    }
}
END_TEST

typedef struct {
    size_t n;
    double *x, *r;
} relu_ctx;

static double relu_obj(void *p)
{
    relu_ctx *c = p;
    double L = 0;
    for (size_t i = 0; i < c->n; ++i)
        L += c->r[i] * (c->x[i] > 0 ? c->x[i] : 0);
    return L;
}

START_TEST(relu_matches_reference_and_fd)
{
    rp_rng rng;
    rp_rng_init(&rng, 12, 0, 0);
    enum { N = 203 }; /* odd: exercises the vector tail */
    float x[N], y[N], dy[N], dx[N], z[N];
    double xd[N], rd[N], yd[N];
    for (int i = 0; i < N; ++i) {
        /* Keep |x| >= 0.01 so a difference step never crosses the kink. */
        double v = nt_uniform(&rng, 0.01, 1);
        x[i] = (float)(rp_rng_below(&rng, 2) ? v : -v);
        xd[i] = x[i];
        yd[i] = x[i] > 0 ? x[i] : 0;
    }
    nt_fill(&rng, N, -1, 1, dy, rd);
    rp_relu_forward(N, x, y);
    nt_check_close("relu y", N, y, yd, 0, 0);
    rp_relu_backward(N, y, dy, dx);
    relu_ctx c = {N, xd, rd};
    nt_check_grad("relu dx", &rng, relu_obj, &c, xd, N, dx, 1e-4, 1e-6, 1e-6, N);
    /* In place. */
    memcpy(z, x, sizeof z);
    rp_relu_forward(N, z, z);
    ck_assert(memcmp(z, y, sizeof z) == 0);
    memcpy(z, dy, sizeof z);
    rp_relu_backward(N, y, z, z);
    ck_assert(memcmp(z, dx, sizeof z) == 0);
}
END_TEST

static Suite *dense_suite(void)
{
    Suite *s = suite_create("nn-dense-relu");
    TCase *tc = tcase_create("dense-relu");
    tcase_add_test(tc, dense_matches_reference_and_fd);
    tcase_add_test(tc, relu_matches_reference_and_fd);
    suite_add_tcase(s, tc);
    return s;
}

RP_TEST_MAIN(dense_suite)
