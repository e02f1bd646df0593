/* maxpool: shape resolution as TensorFlow pads, forward against a naive
 * double reference, the input gradient against central finite differences
 * of that reference, and the tie rule (the first maximum in row-major
 * window order takes the gradient) on inputs full of ties.
 *
 * Tolerances: forward is exact (a maximum of float values is one of them).
 * The finite differences use inputs that are distinct multiples of 1/64,
 * so no window changes its winner within h = 1e-3 and the reference is
 * linear there: the quotients are exact to ~1e-12. The kernel's dx adds at
 * most pool_h * pool_w float terms per input (overlapping windows), a few
 * ulps; 1e-5 relative + 1e-6 x max|ref| leaves a wide margin, while a wrong
 * winner, padding side or stride moves a whole dy (O(1)). */
#include "nn_testutil.h"
#include "nn/maxpool.h"
#include "core/error_internal.h"

#define RTOL 1e-5
#define ATOL 1e-6

/* Reference: scans each window in row-major order over its real cells
 * (padding is skipped, i.e. -inf); the first strictly greater value wins.
 * win[o] receives the winner's flat input index (n, iy, ix, c). */
static void pool_ref(const rp_maxpool_shape *s, const double *x, double *y, size_t *win)
{
    const int C = s->channels;
    for (int n = 0; n < s->batch; ++n)
        for (int oy = 0; oy < s->out_h; ++oy)
            for (int ox = 0; ox < s->out_w; ++ox)
                for (int c = 0; c < C; ++c) {
                    double best = -INFINITY;
                    size_t at = (size_t)-1;
                    for (int ky = 0; ky < s->pool_h; ++ky)
                        for (int kx = 0; kx < s->pool_w; ++kx) {
                            int iy = oy * s->stride_h - s->pad_top + ky;
                            int ix = ox * s->stride_w - s->pad_left + kx;
                            if (iy < 0 || iy >= s->in_h || ix < 0 || ix >= s->in_w)
                                continue;
                            size_t i = ((size_t)(n * s->in_h + iy) * s->in_w + ix) * C + c;
                            if (at == (size_t)-1 || x[i] > best) {
                                best = x[i];
                                at = i;
                            }
                        }
                    ck_assert_msg(at != (size_t)-1, "a window with no real cell");
                    size_t o = ((size_t)(n * s->out_h + oy) * s->out_w + ox) * C + c;
                    y[o] = best;
                    if (win)
                        win[o] = at;
                }
}

typedef struct {
    const rp_maxpool_shape *s;
    double *x, *y, *r;
    size_t ny;
} pool_ctx;

static double pool_obj(void *p)
{
    pool_ctx *c = p;
    pool_ref(c->s, c->x, c->y, NULL);
    double L = 0.0;
    for (size_t i = 0; i < c->ny; ++i)
        L += c->r[i] * c->y[i];
    return L;
}

static void describe(char *buf, size_t n, const rp_maxpool_shape *s)
{
    snprintf(buf, n, "b%d %dx%dx%d pool %dx%d stride %dx%d %s", s->batch, s->in_h, s->in_w,
             s->channels, s->pool_h, s->pool_w, s->stride_h, s->stride_w,
             s->pad_same ? "same" : "valid");
}

/* Forward and backward of one shape on input x (float and its double
 * copy); checks y exactly, argmax against the reference's winners, and dx
 * against the reference scatter (the tie rule) and, when fd, against
 * finite differences. */
static void check_pool(rp_rng *rng, rp_maxpool_shape s, const float *x, double *xd, int fd)
{
    const size_t nx = (size_t)s.batch * s.in_h * s.in_w * s.channels;
    const size_t ny = rp_maxpool_outputs(&s);
    float *y = nt_alloc(ny * 4), *dy = nt_alloc(ny * 4), *dx = nt_alloc(nx * 4);
    int32_t *am = nt_alloc(ny * 4);
    double *yd = nt_alloc(ny * 8), *rd = nt_alloc(ny * 8), *dxd = nt_alloc(nx * 8);
    size_t *win = nt_alloc(ny * sizeof *win);
    nt_fill(rng, ny, -1, 1, dy, rd);
    for (size_t i = 0; i < nx; ++i)
        dx[i] = 1e6f; /* poison: backward must overwrite, never accumulate */
    char what[160];
    describe(what, sizeof what, &s);

    rp_maxpool_forward(&s, x, y, am);
    pool_ref(&s, xd, yd, win);
    for (size_t o = 0; o < ny; ++o) {
        ck_assert_msg((double)y[o] == yd[o], "%s y[%zu]: got %.9g want %.9g", what, o, (double)y[o],
                      yd[o]);
        /* argmax is the winner's pixel within its image. */
        size_t pixels = (size_t)s.in_h * s.in_w;
        size_t want_pix = win[o] / (size_t)s.channels % pixels;
        ck_assert_msg((size_t)am[o] == want_pix, "%s argmax[%zu]: got %d want %zu (first maximum)",
                      what, o, am[o], want_pix);
    }

    rp_maxpool_backward(&s, am, dy, dx);
    for (size_t o = 0; o < ny; ++o)
        dxd[win[o]] += rd[o];
    nt_check_close(what, nx, dx, dxd, RTOL, ATOL);
    if (fd) {
        pool_ctx c = {&s, xd, yd, rd, ny};
        char g[200];
        snprintf(g, sizeof g, "%s dx (finite differences)", what);
        nt_check_grad(g, rng, pool_obj, &c, xd, nx, dx, 1e-3, RTOL, ATOL, 64);
    }
    free(y);
    free(dy);
    free(dx);
    free(am);
    free(yd);
    free(rd);
    free(dxd);
    free(win);
}

/* A random shape: odd sizes, strides below, at and above the pool size. */
static rp_maxpool_shape random_shape(rp_rng *rng, int it)
{
    rp_maxpool_shape s = {0};
    s.batch = it % 5 == 0 ? 1 : nt_int(rng, 1, 3);
    s.in_h = nt_int(rng, 1, 11);
    s.in_w = nt_int(rng, 1, 11);
    s.channels = nt_int(rng, 1, 9);
    s.pool_h = nt_int(rng, 1, 4);
    s.pool_w = nt_int(rng, 1, 4);
    s.stride_h = nt_int(rng, 1, 4);
    s.stride_w = nt_int(rng, 1, 4);
    s.pad_same = it % 2;
    if (!s.pad_same) {
        if (s.pool_h > s.in_h)
            s.in_h = s.pool_h + nt_int(rng, 0, 3);
        if (s.pool_w > s.in_w)
            s.in_w = s.pool_w + nt_int(rng, 0, 3);
    }
    ck_assert_int_eq(rp_maxpool_resolve(&s), 0);
    return s;
}

START_TEST(resolve_same_matches_tensorflow)
{
    /* in, pool, stride -> out, padding before (the rest goes after). */
    static const int cases[][5] = {
        /* The Mini-ImageNet chain 84 -> 42 -> 21 -> 11 -> 6 (2x2 stride 2):
         * odd sizes pad one row/column at the bottom/right only. */
        {84, 2, 2, 42, 0}, {42, 2, 2, 21, 0}, {21, 2, 2, 11, 0}, {11, 2, 2, 6, 0},
        /* 3x3 stride 2: on 5, total padding 2, one before; on 6, total 1,
         * none before. */
        {5, 3, 2, 3, 1}, {6, 3, 2, 3, 0},
        /* Pool smaller than the stride: no padding, cells skipped. */
        {7, 1, 3, 3, 0}, {7, 2, 3, 3, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; ++i) {
        const int *c = cases[i];
        /* The case along the height, then along the width. */
        for (int axis = 0; axis < 2; ++axis) {
            rp_maxpool_shape s = {.batch = 1, .in_h = axis ? 4 : c[0], .in_w = axis ? c[0] : 4,
                                  .channels = 3, .pool_h = axis ? 1 : c[1], .pool_w = axis ? c[1] : 1,
                                  .stride_h = axis ? 1 : c[2], .stride_w = axis ? c[2] : 1,
                                  .pad_same = 1};
            ck_assert_int_eq(rp_maxpool_resolve(&s), 0);
            ck_assert_int_eq(axis ? s.out_w : s.out_h, c[3]);
            ck_assert_int_eq(axis ? s.pad_left : s.pad_top, c[4]);
            ck_assert_int_eq(axis ? s.out_h : s.out_w, 4);
            ck_assert_int_eq(axis ? s.pad_top : s.pad_left, 0);
        }
    }
}
END_TEST

START_TEST(resolve_valid_and_errors)
{
    rp_maxpool_shape s = {.batch = 2, .in_h = 7, .in_w = 8, .channels = 3, .pool_h = 3, .pool_w = 2,
                          .stride_h = 2, .stride_w = 3, .pad_same = 0};
    ck_assert_int_eq(rp_maxpool_resolve(&s), 0);
    ck_assert_int_eq(s.out_h, 3);
    ck_assert_int_eq(s.out_w, 3);
    ck_assert_int_eq(s.pad_top, 0);
    ck_assert_uint_eq(rp_maxpool_outputs(&s), (size_t)2 * 3 * 3 * 3);
    rp_maxpool_shape big = s;
    big.pool_h = 8;
    ck_assert_int_eq(rp_maxpool_resolve(&big), REPTILE_ESHAPE);
    ck_assert_ptr_nonnull(strstr(reptile_error_last(), "8x2 pool does not fit a 7x8 input"));
    rp_maxpool_shape z = s;
    z.channels = 0;
    ck_assert_int_eq(rp_maxpool_resolve(&z), REPTILE_EINVAL);
    z = s;
    z.stride_w = 0;
    ck_assert_int_eq(rp_maxpool_resolve(&z), REPTILE_EINVAL);
    z = s;
    z.pool_w = -1;
    ck_assert_int_eq(rp_maxpool_resolve(&z), REPTILE_EINVAL);
    z = s;
    z.pad_same = 2;
    ck_assert_int_eq(rp_maxpool_resolve(&z), REPTILE_EINVAL);
    ck_assert_int_eq(rp_maxpool_resolve(NULL), REPTILE_EINVAL);
}
END_TEST

/* Distinct inputs: a shuffled grid of multiples of 1/64. */
static void fill_distinct(rp_rng *rng, int it, size_t n, float *x)
{
    (void)it;
    for (size_t i = 0; i < n; ++i)
        x[i] = (float)((double)i - (double)n / 2) / 64.0f;
    for (size_t i = n; i > 1; --i) { /* Fisher-Yates */
        size_t j = rp_rng_below(rng, (uint32_t)i);
        float t = x[i - 1];
        x[i - 1] = x[j];
        x[j] = t;
    }
}

/* Inputs full of ties: drawn from {-1, 0, 1}, or (one shape in ten) all
 * equal. */
static void fill_ties(rp_rng *rng, int it, size_t n, float *x)
{
    for (size_t i = 0; i < n; ++i)
        x[i] = it % 10 == 9 ? -0.5f : (float)nt_int(rng, -1, 1);
}

/* check_pool on 120 random shapes with inputs from fill. */
static void random_shapes(uint64_t seed, void (*fill)(rp_rng *, int, size_t, float *), int fd)
{
    rp_rng rng;
    rp_rng_init(&rng, seed, 0, 0);
    for (int it = 0; it < 120; ++it) {
        rp_maxpool_shape s = random_shape(&rng, it);
        const size_t nx = (size_t)s.batch * s.in_h * s.in_w * s.channels;
        float *x = nt_alloc(nx * 4);
        double *xd = nt_alloc(nx * 8);
        fill(&rng, it, nx, x);
        for (size_t i = 0; i < nx; ++i)
            xd[i] = x[i];
        check_pool(&rng, s, x, xd, fd);
        free(x);
        free(xd);
    }
}

/* No ties, so finite differences are exact. */
START_TEST(random_shapes_match_reference_and_fd)
{
    random_shapes(4321, fill_distinct, 1);
}
END_TEST

/* Nearly every window holds tied maxima; the gradient must go to the first
 * in row-major order. */
START_TEST(ties_go_to_the_first_maximum)
{
    random_shapes(77, fill_ties, 0);
}
END_TEST

/* Hand-checked cases: who wins a tie, and padding that never wins. */
START_TEST(tie_rule_and_padding_by_hand)
{
    /* One 3x3 image, 2x2 pool, stride 1, valid: outputs 2x2.
     *   5 7 7
     *   7 7 2
     *   1 7 7
     * Window (0,0) = {5,7,7,7}: first 7 at (0,1). Window (0,1) = {7,7,7,2}:
     * (0,1). Window (1,0) = {7,7,1,7}: (1,0). Window (1,1) = {7,2,7,7}:
     * (1,1). So (0,1) gets dy00 + dy01, (1,0) dy10, (1,1) dy11. */
    rp_maxpool_shape s = {.batch = 1, .in_h = 3, .in_w = 3, .channels = 1, .pool_h = 2, .pool_w = 2,
                          .stride_h = 1, .stride_w = 1, .pad_same = 0};
    ck_assert_int_eq(rp_maxpool_resolve(&s), 0);
    const float x[9] = {5, 7, 7, 7, 7, 2, 1, 7, 7};
    const float dy[4] = {1, 10, 100, 1000};
    float y[4], dx[9];
    int32_t am[4];
    rp_maxpool_forward(&s, x, y, am);
    for (int i = 0; i < 4; ++i)
        ck_assert_float_eq(y[i], 7.0f);
    const int32_t want_am[4] = {1, 1, 3, 4};
    ck_assert_mem_eq(am, want_am, sizeof am);
    rp_maxpool_backward(&s, am, dy, dx);
    const float want_dx[9] = {0, 11, 0, 100, 1000, 0, 0, 0, 0};
    ck_assert_mem_eq(dx, want_dx, sizeof dx);

    /* "same" 2x2 stride 2 on an all-negative 3x3 image: the last row and
     * column of windows hang over the bottom/right padding, which must not
     * win (a zero padding would give 0 there). */
    rp_maxpool_shape p = {.batch = 1, .in_h = 3, .in_w = 3, .channels = 1, .pool_h = 2, .pool_w = 2,
                          .stride_h = 2, .stride_w = 2, .pad_same = 1};
    ck_assert_int_eq(rp_maxpool_resolve(&p), 0);
    const float neg[9] = {-9, -8, -7, -6, -5, -4, -3, -2, -1};
    rp_maxpool_forward(&p, neg, y, am);
    const float want_y[4] = {-5, -4, -2, -1};
    ck_assert_mem_eq(y, want_y, sizeof want_y);
    const int32_t want_pix[4] = {4, 5, 7, 8};
    ck_assert_mem_eq(am, want_pix, sizeof am);

    /* A NaN in a window reaches the output (the divergence guard sees it). */
    float nanx[9] = {1, 2, 3, 4, NAN, 6, 7, 8, 9};
    rp_maxpool_forward(&s, nanx, y, am);
    ck_assert(isnan(y[0]) && isnan(y[1]) && isnan(y[2]) && isnan(y[3]));
}
END_TEST

/* The Mini-ImageNet pools at batch 2, 32 channels (the vectorised path). */
START_TEST(miniimagenet_pools_match_reference)
{
    rp_rng rng;
    rp_rng_init(&rng, 5, 0, 0);
    const int in[] = {84, 21, 11};
    for (int i = 0; i < 3; ++i) {
        rp_maxpool_shape s = {.batch = 2, .in_h = in[i], .in_w = in[i], .channels = 32, .pool_h = 2,
                              .pool_w = 2, .stride_h = 2, .stride_w = 2, .pad_same = 1};
        ck_assert_int_eq(rp_maxpool_resolve(&s), 0);
        const size_t nx = (size_t)s.batch * s.in_h * s.in_w * s.channels;
        float *x = nt_alloc(nx * 4);
        double *xd = nt_alloc(nx * 8);
        nt_fill(&rng, nx, -1, 1, x, xd);
        check_pool(&rng, s, x, xd, 0);
        free(x);
        free(xd);
    }
}
END_TEST

static Suite *maxpool_suite(void)
{
    Suite *s = suite_create("nn-maxpool");
    TCase *tc = tcase_create("maxpool");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, resolve_same_matches_tensorflow);
    tcase_add_test(tc, resolve_valid_and_errors);
    tcase_add_test(tc, random_shapes_match_reference_and_fd);
    tcase_add_test(tc, ties_go_to_the_first_maximum);
    tcase_add_test(tc, tie_rule_and_padding_by_hand);
    tcase_add_test(tc, miniimagenet_pools_match_reference);
    suite_add_tcase(s, tc);
    return s;
}

RP_TEST_MAIN(maxpool_suite)
