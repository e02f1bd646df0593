/* The memory-bound loops' versions (core/simd.h: AVX-512, AVX2, baseline)
 * give bitwise the baseline's results: every version this CPU can run is
 * forced in turn (rp_simd_use) on odd sizes, two channel tiles, negative
 * zeros, NaN and Inf, and its outputs compared byte for byte. meson also
 * runs the model, meta and BatchNorm suites under each REPTILE_SIMD. */
#include "nn_testutil.h"
#include "core/finite.h"
#include "core/simd.h"
#include "model/optimizer_internal.h"
#include "nn/activation.h"
#include "nn/batchnorm.h"
#include "nn/colsum.h"
#include "nn/im2col.h"
#include "reptile/optimizer.h"

enum { ROWS = 45, CH = 70, N = ROWS * CH };

typedef struct {
    float relu_y[N], relu_dx[N], colsum[CH];
    float bn_y[N], bn_mean[CH], bn_inv[CH], bn_dx[N], bn_dg[CH], bn_db[CH];
    float bn_iy[N], bn_idx[N], bn_idg[CH], bn_idb[CH];
    float bnr_y[N], bnr_dx[N], bnr_dg[CH], bnr_db[CH]; /* with a fused ReLU */
    float bnr_iy[N], bnr_idx[N], bnr_idg[CH], bnr_idb[CH];
    float col_dx[2 * 9 * 9 * 5];
    float adam_w[N];
    int finite[4];
} outputs;

static float x[N], dy[N], gamma_[CH], beta_[CH], mm[CH], mv[CH], g[N], w0[N];
static float dcol[2 * 5 * 5 * 3 * 3 * 5];
static const rp_conv2d_shape col_shape = {.batch = 2, .in_h = 9, .in_w = 9, .in_c = 5, .out_c = 4,
                                          .k_h = 3, .k_w = 3, .stride_h = 2, .stride_w = 2,
                                          .pad_same = 1};

static void inputs(void)
{
    rp_rng rng;
    rp_rng_init(&rng, 77, 0, 0);
    nt_fill(&rng, N, -2, 2, x, NULL);
    nt_fill(&rng, N, -1, 1, dy, NULL);
    nt_fill(&rng, N, -1e-2f, 1e-2f, g, NULL);
    nt_fill(&rng, N, -1, 1, w0, NULL);
    nt_fill(&rng, CH, 0.5f, 1.5f, gamma_, NULL);
    nt_fill(&rng, CH, -0.5f, 0.5f, beta_, NULL);
    nt_fill(&rng, CH, -0.1f, 0.1f, mm, NULL);
    nt_fill(&rng, CH, 0.5f, 2.0f, mv, NULL);
    nt_fill(&rng, sizeof dcol / sizeof dcol[0], -1, 1, dcol, NULL);
    x[3] = -0.0f;
    x[4] = 0.0f;
    dy[5] = -0.0f;
}

static void run_all(outputs *o)
{
    memset(o, 0, sizeof *o);
    rp_relu_forward(N - 1, x, o->relu_y);
    rp_relu_backward(N - 3, x, dy, o->relu_dx);
    rp_colsum(ROWS, CH, x, o->colsum);
    rp_batchnorm_forward_train(ROWS, CH, 1e-3f, x, gamma_, beta_, o->bn_y, o->bn_mean, o->bn_inv, 0);
    rp_batchnorm_backward_train(ROWS, CH, x, dy, NULL, gamma_, o->bn_mean, o->bn_inv, o->bn_dx, o->bn_dg,
                                o->bn_db);
    rp_batchnorm_forward_infer(ROWS, CH, 1e-3f, x, gamma_, beta_, mm, mv, o->bn_iy, 0);
    rp_batchnorm_backward_infer(ROWS, CH, 1e-3f, x, dy, NULL, gamma_, mm, mv, o->bn_idx, o->bn_idg,
                                o->bn_idb);
    rp_batchnorm_forward_train(ROWS, CH, 1e-3f, x, gamma_, beta_, o->bnr_y, o->bn_mean, o->bn_inv,
                               1);
    rp_batchnorm_backward_train(ROWS, CH, x, dy, o->bnr_y, gamma_, o->bn_mean, o->bn_inv,
                                o->bnr_dx, o->bnr_dg, o->bnr_db);
    rp_batchnorm_forward_infer(ROWS, CH, 1e-3f, x, gamma_, beta_, mm, mv, o->bnr_iy, 1);
    rp_batchnorm_backward_infer(ROWS, CH, 1e-3f, x, dy, o->bnr_iy, gamma_, mm, mv, o->bnr_idx,
                                o->bnr_idg, o->bnr_idb);
    rp_conv2d_shape s = col_shape;
    ck_assert_int_eq(rp_conv2d_resolve(&s), 0);
    rp_col2im(&s, dcol, o->col_dx);
    /* Three Adam steps (beta1 > 0 so both moments matter). */
    reptile_optimizer *opt = NULL;
    ck_assert_int_eq(reptile_optimizer_new_adam(&opt, 1e-3f, 0.9f, 0.999f, 1e-8f), 0);
    memcpy(o->adam_w, w0, sizeof w0);
    for (int t = 0; t < 3; ++t)
        ck_assert_int_eq(rp_optimizer_apply(opt, o->adam_w, g, N - 7), 0);
    reptile_optimizer_free(opt);
    float bad[37];
    memcpy(bad, x, sizeof bad);
    o->finite[0] = rp_all_finite(bad, 37);
    bad[36] = INFINITY;
    o->finite[1] = rp_all_finite(bad, 37);
    bad[36] = 0.0f;
    bad[17] = NAN;
    o->finite[2] = rp_all_finite(bad, 37);
    o->finite[3] = rp_all_finite(bad, 17);
}

START_TEST(every_version_gives_the_baselines_bits)
{
    inputs();
    const int initial = rp_simd_level();
    static outputs base, other;
    ck_assert_int_eq(rp_simd_use(RP_SIMD_BASELINE), 0);
    ck_assert_int_eq(rp_simd_level(), RP_SIMD_BASELINE);
    run_all(&base);
    ck_assert_int_eq(base.finite[0], 1);
    ck_assert_int_eq(base.finite[1], 0);
    ck_assert_int_eq(base.finite[2], 0);
    ck_assert_int_eq(base.finite[3], 1);
    int ran = 0;
    for (int l = RP_SIMD_AVX2; l <= RP_SIMD_AVX512; ++l) {
        if (!rp_simd_available(l)) {
            ck_assert_int_eq(rp_simd_use(l), -1);
            printf("simd: %s not on this CPU, not compared\n", rp_simd_name(l));
            continue;
        }
        ck_assert_int_eq(rp_simd_use(l), 0);
        ck_assert_int_eq(rp_simd_level(), l);
        run_all(&other);
        ck_assert_msg(memcmp(&base, &other, sizeof base) == 0, "%s differs from baseline",
                      rp_simd_name(l));
        ++ran;
    }
    printf("simd: %d version(s) compared with baseline\n", ran);
    ck_assert_int_eq(rp_simd_use(initial), 0);
}
END_TEST

START_TEST(levels_are_named_and_bounded)
{
    ck_assert_str_eq(rp_simd_name(RP_SIMD_BASELINE), "baseline");
    ck_assert_str_eq(rp_simd_name(RP_SIMD_AVX2), "avx2");
    ck_assert_str_eq(rp_simd_name(RP_SIMD_AVX512), "avx512");
    ck_assert_str_eq(rp_simd_name(7), "?");
    ck_assert_int_eq(rp_simd_use(-1), -1);
    ck_assert_int_eq(rp_simd_use(3), -1);
    ck_assert(rp_simd_available(RP_SIMD_BASELINE));
    /* AVX-512F implies AVX2 on every CPU that has it. */
    if (rp_simd_available(RP_SIMD_AVX512))
        ck_assert(rp_simd_available(RP_SIMD_AVX2));
}
END_TEST

static Suite *simd_suite(void)
{
    Suite *s = suite_create("simd");
    TCase *tc = tcase_create("simd");
    tcase_add_test(tc, every_version_gives_the_baselines_bits);
    tcase_add_test(tc, levels_are_named_and_bounded);
    suite_add_tcase(s, tc);
    return s;
}

RP_TEST_MAIN(simd_suite)
