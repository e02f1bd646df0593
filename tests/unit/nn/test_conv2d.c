/* conv2d: shape resolution, forward against a naive double reference, and
 * every gradient against central finite differences of that reference.
 *
 * Tolerances: the float kernels sum K = k_h*k_w*in_c (<= 200 here) products
 * in float32 (GEMM or direct), so their error is a few ulps of the sum of
 * |terms|, ~1e-6 relative to the largest output. The references are double
 * and the objective is linear in each parameter, so the central differences
 * are exact to ~1e-10. An absolute allowance of 1e-4 x max|reference| plus
 * 1e-4 relative leaves a wide margin for rounding while any indexing,
 * padding or stride mistake produces O(1) errors. */
#include "nn_testutil.h"
#include "nn/conv2d.h"
#include "nn/conv2d_border.h"
#include "nn/conv2d_implicit.h"
#include "nn/gemm.h"
#include "nn/im2col.h"
#include "core/error_internal.h"

#define RTOL 1e-4
#define ATOL 1e-4

static void conv_ref(const rp_conv2d_shape *s, const double *x, const double *w, const double *b, double *y)
{
    const int C = s->in_c, N = s->out_c;
    for (int n = 0; n < s->batch; ++n)
        for (int oy = 0; oy < s->out_h; ++oy)
            for (int ox = 0; ox < s->out_w; ++ox)
                for (int co = 0; co < N; ++co) {
                    double acc = b ? b[co] : 0.0;
                    for (int ky = 0; ky < s->k_h; ++ky)
                        for (int kx = 0; kx < s->k_w; ++kx) {
                            int iy = oy * s->stride_h - s->pad_top + ky;
                            int ix = ox * s->stride_w - s->pad_left + kx;
                            if (iy < 0 || iy >= s->in_h || ix < 0 || ix >= s->in_w)
                                continue;
                            for (int ci = 0; ci < C; ++ci)
                                acc += x[((size_t)(n * s->in_h + iy) * s->in_w + ix) * C + ci] *
                                       w[((size_t)(ky * s->k_w + kx) * C + ci) * N + co];
                        }
                    y[((size_t)(n * s->out_h + oy) * s->out_w + ox) * N + co] = acc;
                }
}

typedef struct {
    const rp_conv2d_shape *s;
    double *x, *w, *b, *y, *r;
    size_t ny;
} conv_ctx;

static double conv_obj(void *p)
{
    conv_ctx *c = p;
    conv_ref(c->s, c->x, c->w, c->b, c->y);
    double L = 0.0;
    for (size_t i = 0; i < c->ny; ++i)
        L += c->r[i] * c->y[i];
    return L;
}

/* Runs forward + backward of one shape and checks everything. */
static void check_shape(rp_rng *rng, rp_conv2d_shape s, size_t max_checks)
{
    ck_assert_int_eq(rp_conv2d_resolve(&s), 0);
    const size_t nx = (size_t)s.batch * s.in_h * s.in_w * s.in_c;
    const size_t nw = (size_t)s.k_h * s.k_w * s.in_c * s.out_c;
    const size_t ny = (size_t)s.batch * s.out_h * s.out_w * s.out_c;
    const size_t nn = (size_t)s.out_c;
    float *x = nt_alloc(nx * 4), *w = nt_alloc(nw * 4), *b = nt_alloc(nn * 4), *y = nt_alloc(ny * 4);
    float *dy = nt_alloc(ny * 4), *dx = nt_alloc(nx * 4), *dw = nt_alloc(nw * 4), *db = nt_alloc(nn * 4);
    double *xd = nt_alloc(nx * 8), *wd = nt_alloc(nw * 8), *bd = nt_alloc(nn * 8), *yd = nt_alloc(ny * 8);
    double *rd = nt_alloc(ny * 8);
    size_t nws = rp_conv2d_workspace_floats(&s);
    float *ws = nt_alloc(nws * 4);
    nt_fill(rng, nx, -1, 1, x, xd);
    nt_fill(rng, nw, -1, 1, w, wd);
    nt_fill(rng, nn, -1, 1, b, bd);
    nt_fill(rng, ny, -1, 1, dy, rd);
    /* Poison outputs: kernels must overwrite, never accumulate. */
    for (size_t i = 0; i < nx; ++i)
        dx[i] = 1e6f;
    for (size_t i = 0; i < nw; ++i)
        dw[i] = 1e6f;

    char what[160];
    snprintf(what, sizeof what, "b%d %dx%dx%d->%d k%dx%d s%dx%d %s %s", s.batch, s.in_h, s.in_w, s.in_c, s.out_c,
             s.k_h, s.k_w, s.stride_h, s.stride_w, s.pad_same ? "same" : "valid",
             rp_conv2d_uses_direct(&s) ? "direct" : "im2col");

    rp_conv2d_forward(&s, x, w, b, y, ws);
    conv_ref(&s, xd, wd, bd, yd);
    nt_check_close(what, ny, y, yd, RTOL, ATOL);
    /* Without bias. */
    rp_conv2d_forward(&s, x, w, NULL, y, ws);
    conv_ref(&s, xd, wd, NULL, yd);
    nt_check_close(what, ny, y, yd, RTOL, ATOL);

    rp_conv2d_backward(&s, x, w, dy, dx, dw, db, ws);
    conv_ctx c = {&s, xd, wd, bd, yd, rd, ny};
    char g[200];
    snprintf(g, sizeof g, "%s dx", what);
    nt_check_grad(g, rng, conv_obj, &c, xd, nx, dx, 1e-3, RTOL, ATOL, max_checks);
    snprintf(g, sizeof g, "%s dw", what);
    nt_check_grad(g, rng, conv_obj, &c, wd, nw, dw, 1e-3, RTOL, ATOL, max_checks);
    snprintf(g, sizeof g, "%s db", what);
    nt_check_grad(g, rng, conv_obj, &c, bd, nn, db, 1e-3, RTOL, ATOL, max_checks);

    /* Backward consumes the workspace (the patch matrix becomes its
     * gradient): after a fresh forward, a backward without dx/db and a
     * repeated one must give the same dw. */
    float *dw2 = nt_alloc(nw * 4);
    rp_conv2d_forward(&s, x, w, b, y, ws);
    rp_conv2d_backward(&s, x, w, dy, NULL, dw2, NULL, ws);
    ck_assert_msg(memcmp(dw, dw2, nw * 4) == 0, "%s: dw differs without dx", what);
    rp_conv2d_forward(&s, x, w, b, y, ws);
    rp_conv2d_backward(&s, x, w, dy, dx, dw2, db, ws);
    ck_assert_msg(memcmp(dw, dw2, nw * 4) == 0, "%s: dw differs on repeated backward", what);

    free(dw2);
    free(x); free(w); free(b); free(y); free(dy); free(dx); free(dw); free(db);
    free(xd); free(wd); free(bd); free(yd); free(rd); free(ws);
}

START_TEST(resolve_same_matches_tensorflow)
{
    /* The Omniglot chain 28 -> 14 -> 7 -> 4 -> 2 with 3x3 stride 2. */
    const int in[] = {28, 14, 7, 4}, out[] = {14, 7, 4, 2}, top[] = {0, 0, 1, 0};
    for (int i = 0; i < 4; ++i) {
        rp_conv2d_shape s = {.batch = 1, .in_h = in[i], .in_w = in[i], .in_c = 1, .out_c = 64, .k_h = 3, .k_w = 3,
                             .stride_h = 2, .stride_w = 2, .pad_same = 1};
        ck_assert_int_eq(rp_conv2d_resolve(&s), 0);
        ck_assert_int_eq(s.out_h, out[i]);
        ck_assert_int_eq(s.out_w, out[i]);
        ck_assert_int_eq(s.pad_top, top[i]);
        ck_assert_int_eq(s.pad_left, top[i]);
    }
    /* Kernel smaller than stride: no padding at all. */
    rp_conv2d_shape t = {.batch = 1, .in_h = 5, .in_w = 6, .in_c = 1, .out_c = 1, .k_h = 1, .k_w = 2,
                         .stride_h = 3, .stride_w = 3, .pad_same = 1};
    ck_assert_int_eq(rp_conv2d_resolve(&t), 0);
    ck_assert_int_eq(t.out_h, 2);
    ck_assert_int_eq(t.out_w, 2);
    ck_assert_int_eq(t.pad_top, 0);
    ck_assert_int_eq(t.pad_left, 0);
}
END_TEST

START_TEST(resolve_valid_and_errors)
{
    rp_conv2d_shape s = {.batch = 2, .in_h = 7, .in_w = 8, .in_c = 3, .out_c = 4, .k_h = 3, .k_w = 2,
                         .stride_h = 2, .stride_w = 3, .pad_same = 0};
    ck_assert_int_eq(rp_conv2d_resolve(&s), 0);
    ck_assert_int_eq(s.out_h, 3);
    ck_assert_int_eq(s.out_w, 3);
    ck_assert_int_eq(s.pad_top, 0);
    rp_conv2d_shape big = s;
    big.k_h = 8;
    ck_assert_int_eq(rp_conv2d_resolve(&big), REPTILE_ESHAPE);
    rp_conv2d_shape z = s;
    z.in_c = 0;
    ck_assert_int_eq(rp_conv2d_resolve(&z), REPTILE_EINVAL);
    z = s;
    z.stride_w = 0;
    ck_assert_int_eq(rp_conv2d_resolve(&z), REPTILE_EINVAL);
    z = s;
    z.pad_same = 2;
    ck_assert_int_eq(rp_conv2d_resolve(&z), REPTILE_EINVAL);
    ck_assert_int_eq(rp_conv2d_resolve(NULL), REPTILE_EINVAL);
}
END_TEST

/* A valid-padding kernel must fit: grow the input past it (same random
 * draws as the shapes were always made with). */
static void grow_input_for_valid(rp_rng *rng, rp_conv2d_shape *s)
{
    if (s->pad_same)
        return;
    if (s->k_h > s->in_h)
        s->in_h = s->k_h + nt_int(rng, 0, 3);
    if (s->k_w > s->in_w)
        s->in_w = s->k_w + nt_int(rng, 0, 3);
}

START_TEST(random_shapes_match_reference_and_fd)
{
    rp_rng rng;
    rp_rng_init(&rng, 1234, 0, 0);
    static const int chans[] = {1, 2, 3, 4, 5, 7, 8};
    for (int it = 0; it < 80; ++it) {
        rp_conv2d_shape s = {0};
        s.batch = it % 5 == 0 ? 1 : nt_int(&rng, 1, 3);
        s.in_h = nt_int(&rng, 1, 9);
        s.in_w = nt_int(&rng, 1, 9);
        s.in_c = chans[nt_int(&rng, 0, 6)];
        s.out_c = nt_int(&rng, 1, 6);
        s.k_h = nt_int(&rng, 1, 5);
        s.k_w = nt_int(&rng, 1, 5);
        s.stride_h = nt_int(&rng, 1, 3);
        s.stride_w = nt_int(&rng, 1, 3);
        s.pad_same = it % 2;
        grow_input_for_valid(&rng, &s);
        check_shape(&rng, s, 48);
    }
}
END_TEST

START_TEST(omniglot_layers_match_reference_and_fd)
{
    /* out_c = 64 takes the specialised (constant-width) direct loops and the
     * wide GEMM path; the four Omniglot layers at batch 2. */
    rp_rng rng;
    rp_rng_init(&rng, 99, 0, 0);
    const int in[] = {28, 14, 7, 4}, inc[] = {1, 64, 64, 64};
    for (int i = 0; i < 4; ++i) {
        rp_conv2d_shape s = {.batch = 2, .in_h = in[i], .in_w = in[i], .in_c = inc[i], .out_c = 64, .k_h = 3,
                             .k_w = 3, .stride_h = 2, .stride_w = 2, .pad_same = 1};
        check_shape(&rng, s, 40);
    }
    /* Direct path with 64 outputs and several inputs, odd sizes, valid. */
    rp_conv2d_shape t = {.batch = 1, .in_h = 9, .in_w = 6, .in_c = 3, .out_c = 64, .k_h = 4, .k_w = 2,
                         .stride_h = 1, .stride_w = 2, .pad_same = 0};
    check_shape(&rng, t, 40);
}
END_TEST

/* The implicit GEMM (the AVX-512 path) gives exactly the numbers of
 * im2col + rp_sgemm + col2im, computed here from those pieces: strides 1
 * to 3 (stride 1's transposed-convolution input gradient, the strided
 * layers' col2im one), same and valid padding, odd sizes, thin and wide
 * channel counts, the Omniglot and Mini-ImageNet layers. Compared with ==
 * (an exact zero may change sign). */
static void check_implicit_bits(rp_rng *rng, rp_conv2d_shape s)
{
    ck_assert_int_eq(rp_conv2d_resolve(&s), 0);
    ck_assert(rp_conv2d_uses_implicit(&s));
    const int M = s.batch * s.out_h * s.out_w, K = s.k_h * s.k_w * s.in_c, N = s.out_c;
    const size_t nx = (size_t)s.batch * s.in_h * s.in_w * s.in_c, ny = (size_t)M * N;
    float *x = malloc(nx * sizeof *x), *w = malloc((size_t)K * N * sizeof *w);
    float *b = malloc((size_t)N * sizeof *b), *dy = malloc(ny * sizeof *dy);
    float *y1 = malloc(ny * sizeof *y1), *y2 = malloc(ny * sizeof *y2);
    float *dw1 = malloc((size_t)K * N * sizeof *dw1), *dw2 = malloc((size_t)K * N * sizeof *dw2);
    float *dx1 = malloc(nx * sizeof *dx1), *dx2 = malloc(nx * sizeof *dx2);
    float *ws = malloc(rp_conv2d_workspace_floats(&s) * sizeof *ws);
    float *col = malloc((size_t)M * K * sizeof *col);
    for (size_t i = 0; i < nx; ++i)
        x[i] = (float)nt_uniform(rng, -1, 1);
    for (int i = 0; i < K * N; ++i)
        w[i] = (float)nt_uniform(rng, -1, 1);
    for (int i = 0; i < N; ++i)
        b[i] = (float)nt_uniform(rng, -1, 1);
    for (size_t i = 0; i < ny; ++i)
        dy[i] = (float)nt_uniform(rng, -1, 1);
    rp_conv2d_forward(&s, x, w, b, y1, ws);
    rp_conv2d_backward(&s, x, w, dy, dx1, dw1, NULL, ws);
    rp_im2col(&s, x, col);
    rp_sgemm_bias(M, N, K, col, K, w, N, b, y2, N);
    rp_sgemm(1, 0, K, N, M, 1.0f, col, K, dy, N, 0.0f, dw2, N);
    rp_sgemm(0, 1, M, K, N, 1.0f, dy, N, w, N, 0.0f, col, K);
    rp_col2im(&s, col, dx2);
    for (size_t i = 0; i < ny; ++i)
        ck_assert_msg(y1[i] == y2[i], "y[%zu] %.9g != %.9g", i, (double)y1[i], (double)y2[i]);
    for (int i = 0; i < K * N; ++i)
        ck_assert_msg(dw1[i] == dw2[i], "dw[%d] %.9g != %.9g", i, (double)dw1[i], (double)dw2[i]);
    for (size_t i = 0; i < nx; ++i)
        ck_assert_msg(dx1[i] == dx2[i], "dx[%zu] %.9g != %.9g", i, (double)dx1[i], (double)dx2[i]);
    free(x), free(w), free(b), free(dy), free(y1), free(y2), free(dw1), free(dw2);
    free(dx1), free(dx2), free(ws), free(col);
}

START_TEST(implicit_gemm_is_bitwise_im2col)
{
    if (strcmp(rp_sgemm_path(), "avx512") != 0)
        return; /* the implicit GEMM runs on the AVX-512 path only (nn-conv2d-native) */
    rp_rng rng;
    rp_rng_init(&rng, 4321, 0, 0);
    static const int chans[] = {1, 3, 5, 32, 64, 70, 128};
    for (int it = 0; it < 60; ++it) {
        rp_conv2d_shape s = {0};
        s.batch = nt_int(&rng, 1, 3);
        s.in_h = nt_int(&rng, 1, 13);
        s.in_w = nt_int(&rng, 1, 13);
        s.in_c = chans[nt_int(&rng, 0, 6)];
        s.out_c = chans[nt_int(&rng, 0, 6)];
        s.k_h = nt_int(&rng, 1, 5);
        s.k_w = nt_int(&rng, 1, 5);
        s.stride_h = it < 20 ? 1 : nt_int(&rng, 1, 3);
        s.stride_w = it < 20 ? 1 : nt_int(&rng, 1, 3);
        s.pad_same = it % 2;
        grow_input_for_valid(&rng, &s);
        check_implicit_bits(&rng, s);
    }
    const int omniglot_in[] = {28, 14, 7, 4}, omniglot_c[] = {1, 64, 64, 64};
    for (int i = 0; i < 4; ++i) {
        rp_conv2d_shape o = {.batch = 10, .in_h = omniglot_in[i], .in_w = omniglot_in[i],
                             .in_c = omniglot_c[i], .out_c = 64, .k_h = 3, .k_w = 3,
                             .stride_h = 2, .stride_w = 2, .pad_same = 1};
        check_implicit_bits(&rng, o);
    }
    rp_conv2d_shape mini = {.batch = 2, .in_h = 42, .in_w = 42, .in_c = 32, .out_c = 32,
                            .k_h = 3, .k_w = 3, .stride_h = 1, .stride_w = 1, .pad_same = 1};
    check_implicit_bits(&rng, mini);
    rp_conv2d_shape first = mini;
    first.in_h = first.in_w = 84;
    first.in_c = 3;
    check_implicit_bits(&rng, first);
    /* The input gradient by col2im: out_c past one K block, a kernel wider
     * than the tap masks; and a stride past the kernel (input pixels no
     * tap reaches get zeros). */
    rp_conv2d_shape wide = {.batch = 2, .in_h = 6, .in_w = 5, .in_c = 3, .out_c = 130,
                            .k_h = 3, .k_w = 3, .stride_h = 1, .stride_w = 1, .pad_same = 1};
    check_implicit_bits(&rng, wide);
    wide.stride_h = wide.stride_w = 2;
    check_implicit_bits(&rng, wide);
    rp_conv2d_shape long_k = {.batch = 1, .in_h = 3, .in_w = 40, .in_c = 2, .out_c = 4,
                              .k_h = 1, .k_w = 33, .stride_h = 1, .stride_w = 2, .pad_same = 1};
    check_implicit_bits(&rng, long_k);
    rp_conv2d_shape sparse = {.batch = 2, .in_h = 11, .in_w = 9, .in_c = 4, .out_c = 6,
                              .k_h = 2, .k_w = 3, .stride_h = 3, .stride_w = 4, .pad_same = 0};
    check_implicit_bits(&rng, sparse);
}
END_TEST

/* Whether kernel tap t of output pixel p (natural order) reads the input. */
static int naive_inside(const rp_conv2d_shape *s, int p, int t)
{
    const int ox = p % s->out_w, oy = p / s->out_w % s->out_h;
    const int iy = oy * s->stride_h - s->pad_top + t / s->k_w;
    const int ix = ox * s->stride_w - s->pad_left + t % s->k_w;
    return iy >= 0 && iy < s->in_h && ix >= 0 && ix < s->in_w;
}

/* The border's groups skip exactly the products that read padding: every
 * class's k list is its pixels' inside taps, every weight-gradient tile
 * sums exactly the pixels one of its taps reads. */
static void check_border_groups(rp_conv2d_shape s, int expect_any)
{
    ck_assert_int_eq(rp_conv2d_resolve(&s), 0);
    const int m = s.batch * s.out_h * s.out_w, k = s.k_h * s.k_w * s.in_c;
    const size_t floats = rp_conv2d_border_floats(&s);
    rp_conv2d_border b;
    if (!expect_any) {
        ck_assert_uint_eq(floats, 0);
        rp_conv2d_border_tables(&s, NULL, NULL, &b);
        ck_assert_int_eq(b.any, 0);
        return;
    }
    /* The same workspace first holds the tables of one more image, so the
     * ones checked below must have been rebuilt for this batch. */
    rp_conv2d_shape bigger = s;
    bigger.batch++;
    const size_t big_floats = rp_conv2d_border_floats(&bigger);
    ck_assert_uint_gt(big_floats, floats);
    float *ws = aligned_alloc(64, (big_floats + 16) * sizeof *ws);
    ptrdiff_t *pix = malloc((size_t)(m + m / s.batch) * sizeof *pix);
    for (int p = 0; p < m + m / s.batch; ++p)
        pix[p] = 1000 + p;
    rp_conv2d_border_forget(&bigger, ws);
    rp_conv2d_border_tables(&bigger, pix, ws, &b);
    ck_assert_int_eq(b.any, 1);
    rp_conv2d_border_tables(&s, pix, ws, &b);
    ck_assert_int_eq(b.any, expect_any);
    /* Built once per shape: a second call keeps the tables (a marked entry
     * survives it) until rp_conv2d_border_forget(). */
    const int n_k = b.fwd[0].n_k;
    b.fwd[0].n_k = -1;
    rp_conv2d_border_tables(&s, pix, ws, &b);
    ck_assert_int_eq(b.fwd[0].n_k, -1);
    rp_conv2d_border_forget(&s, ws);
    rp_conv2d_border_tables(&s, pix, ws, &b);
    ck_assert_int_eq(b.fwd[0].n_k, n_k);
    long products = 0, naive = 0;
    char *seen = calloc((size_t)m, 1);
    for (int c = 0; c < b.n_cls; ++c)
        for (int i = b.fwd[c].begin; i < b.fwd[c].end; ++i) {
            const int p = (int)(b.order_y[i] / s.out_c);
            ck_assert(!seen[p]);
            seen[p] = 1;
            ck_assert_int_eq(b.order_x[i], 1000 + p);
            int n = 0;
            for (int e = 0; e < k; ++e)
                if (naive_inside(&s, p, e / s.in_c))
                    ck_assert_int_eq(b.fwd[c].k[n++], e);
            ck_assert_int_eq(b.fwd[c].n_k, n);
            products += n;
        }
    for (int p = 0; p < m; ++p) {
        ck_assert(seen[p]);
        for (int t = 0; t < s.k_h * s.k_w; ++t)
            naive += naive_inside(&s, p, t) * s.in_c;
    }
    ck_assert_int_eq(products, naive);
    ck_assert_int_lt(products, (long)m * k); /* something is skipped */
    const int rows = rp_sgemm_tile_rows();
    for (int t = 0; t < b.n_tiles; ++t) {
        ck_assert_int_eq(b.dw[t].begin, t * rows);
        int n = 0;
        for (int p = 0; p < m; ++p) {
            int any = 0;
            for (int e = b.dw[t].begin; e < b.dw[t].end; ++e)
                any |= naive_inside(&s, p, e / s.in_c);
            if (any)
                ck_assert_int_eq(b.dw[t].k[n++], p);
        }
        ck_assert_int_eq(b.dw[t].n_k, n);
    }
    free(seen), free(ws), free(pix);
}

START_TEST(border_groups_skip_exactly_the_padding)
{
    /* The Omniglot layers (7 -> 4 pads both sides), odd channel counts,
     * a kernel wider than its input. */
    const int in[] = {28, 14, 7, 4};
    for (int i = 0; i < 4; ++i)
        check_border_groups((rp_conv2d_shape){.batch = 3, .in_h = in[i], .in_w = in[i],
                                              .in_c = i ? 64 : 1, .out_c = 64, .k_h = 3,
                                              .k_w = 3, .stride_h = 2, .stride_w = 2,
                                              .pad_same = 1},
                            1);
    check_border_groups((rp_conv2d_shape){.batch = 2, .in_h = 9, .in_w = 6, .in_c = 5,
                                          .out_c = 7, .k_h = 5, .k_w = 3, .stride_h = 1,
                                          .stride_w = 2, .pad_same = 1},
                        1);
    check_border_groups((rp_conv2d_shape){.batch = 1, .in_h = 3, .in_w = 2, .in_c = 70,
                                          .out_c = 3, .k_h = 5, .k_w = 4, .stride_h = 1,
                                          .stride_w = 1, .pad_same = 1},
                        1);
    /* Mini-ImageNet's 21 x 21 layer: 6% of its products read the border. */
    check_border_groups((rp_conv2d_shape){.batch = 2, .in_h = 21, .in_w = 21, .in_c = 32,
                                          .out_c = 32, .k_h = 3, .k_w = 3, .stride_h = 1,
                                          .stride_w = 1, .pad_same = 1},
                        1);
    /* Its first, 84 x 84 layer (1.6%: not worth the tables), no padding, or
     * more classes than the groups take: nothing to skip. */
    check_border_groups((rp_conv2d_shape){.batch = 2, .in_h = 84, .in_w = 84, .in_c = 3,
                                          .out_c = 32, .k_h = 3, .k_w = 3, .stride_h = 1,
                                          .stride_w = 1, .pad_same = 1},
                        0);
    check_border_groups((rp_conv2d_shape){.batch = 2, .in_h = 7, .in_w = 7, .in_c = 64,
                                          .out_c = 64, .k_h = 3, .k_w = 3, .stride_h = 2,
                                          .stride_w = 2, .pad_same = 0},
                        0);
    rp_conv2d_shape many = {.batch = 1, .in_h = 13, .in_w = 13, .in_c = 3, .out_c = 5,
                            .k_h = 13, .k_w = 13, .stride_h = 1, .stride_w = 1, .pad_same = 1};
    check_border_groups(many, 0);
    if (strcmp(rp_sgemm_path(), "avx512") == 0) {
        rp_rng rng;
        rp_rng_init(&rng, 99, 0, 0);
        check_implicit_bits(&rng, many);
    }
}
END_TEST

START_TEST(workspace_covers_both_passes)
{
    rp_conv2d_shape s = {.batch = 3, .in_h = 14, .in_w = 14, .in_c = 64, .out_c = 64, .k_h = 3, .k_w = 3,
                         .stride_h = 2, .stride_w = 2, .pad_same = 1};
    ck_assert_int_eq(rp_conv2d_resolve(&s), 0);
    if (strcmp(rp_sgemm_path(), "avx512") == 0) /* the bordered input and the dy frame */
        ck_assert_uint_ge(rp_conv2d_workspace_floats(&s), (size_t)3 * 15 * 15 * 64 + 3 * 8 * 8 * 64);
    else /* the patch matrix, which then holds its gradient */
        ck_assert_uint_ge(rp_conv2d_workspace_floats(&s), (size_t)3 * 7 * 7 * 9 * 64);
}
END_TEST

/* A first layer (no_input_grad) keeps no input-gradient workspace on the
 * AVX-512 path, and its weight gradient is bitwise the same. */
START_TEST(first_layer_needs_no_input_gradient_space)
{
    rp_conv2d_shape s = {.batch = 4, .in_h = 28, .in_w = 28, .in_c = 1, .out_c = 64, .k_h = 3,
                         .k_w = 3, .stride_h = 2, .stride_w = 2, .pad_same = 1};
    ck_assert_int_eq(rp_conv2d_resolve(&s), 0);
    rp_conv2d_shape first = s;
    first.no_input_grad = 1;
    const size_t with = rp_conv2d_workspace_floats(&s), without = rp_conv2d_workspace_floats(&first);
    if (strcmp(rp_sgemm_path(), "avx512") == 0)
        ck_assert_uint_lt(without, with);
    else
        ck_assert_uint_eq(without, with);
    const size_t nx = (size_t)4 * 28 * 28, ny = (size_t)4 * 14 * 14 * 64, nw = 9 * 64;
    float *x = malloc(nx * sizeof *x), *w = malloc(nw * sizeof *w), *b = calloc(64, sizeof *b);
    float *y = malloc(ny * sizeof *y), *dy = malloc(ny * sizeof *dy);
    float *dw1 = malloc(nw * sizeof *dw1), *dw2 = malloc(nw * sizeof *dw2);
    float *ws1 = malloc(with * sizeof *ws1), *ws2 = malloc(without * sizeof *ws2);
    rp_rng rng;
    rp_rng_init(&rng, 7, 0, 0);
    for (size_t i = 0; i < nx; ++i)
        x[i] = (float)nt_uniform(&rng, -1, 1);
    for (size_t i = 0; i < nw; ++i)
        w[i] = (float)nt_uniform(&rng, -1, 1);
    for (size_t i = 0; i < ny; ++i)
        dy[i] = (float)nt_uniform(&rng, -1, 1);
    rp_conv2d_workspace_forget(&s, ws1);
    rp_conv2d_workspace_forget(&first, ws2);
    rp_conv2d_forward(&s, x, w, b, y, ws1);
    rp_conv2d_backward(&s, x, w, dy, NULL, dw1, NULL, ws1);
    rp_conv2d_forward(&first, x, w, b, y, ws2);
    rp_conv2d_backward(&first, x, w, dy, NULL, dw2, NULL, ws2);
    for (size_t i = 0; i < nw; ++i)
        ck_assert_msg(dw1[i] == dw2[i], "dw[%zu] %.9g != %.9g", i, (double)dw1[i], (double)dw2[i]);
    free(x), free(w), free(b), free(y), free(dy), free(dw1), free(dw2), free(ws1), free(ws2);
}
END_TEST

static Suite *conv2d_suite(void)
{
    Suite *s = suite_create("nn-conv2d");
    TCase *tc = tcase_create("conv2d");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, resolve_same_matches_tensorflow);
    tcase_add_test(tc, resolve_valid_and_errors);
    tcase_add_test(tc, random_shapes_match_reference_and_fd);
    tcase_add_test(tc, omniglot_layers_match_reference_and_fd);
    tcase_add_test(tc, workspace_covers_both_passes);
    tcase_add_test(tc, implicit_gemm_is_bitwise_im2col);
    tcase_add_test(tc, first_layer_needs_no_input_gradient_space);
    tcase_add_test(tc, border_groups_skip_exactly_the_padding);
    suite_add_tcase(s, tc);
    return s;
}

RP_TEST_MAIN(conv2d_suite)
