/* reptile_model and reptile_optimizer: builder, parameters, Keras
 * initialisation, gradients of the whole network against finite
 * differences, shard invariance, BatchNorm state, divergence guard. */
#include "testutil.h"
#include "core/rng.h"
#include "model/model_internal.h"
#include "reptile/reptile.h"

#include <math.h>
#include <string.h>

static void random_images(float *x, size_t n, uint64_t seed)
{
    rp_rng rng;
    rp_rng_init(&rng, seed, 1, 2);
    for (size_t i = 0; i < n; ++i)
        x[i] = rp_rng_float(&rng);
}

/* A small net with every layer kind: fast enough for finite differences. */
/* The model's gradient under a given reduction, without Keras clipping. */
static const float *last_grad; /* the gradient of the last gradient() call */

static int gradient(reptile_model *m, const float *x, const int32_t *y, int batch, int bn_mode,
                    int reduction, float *loss)
{
    int rc = reptile_model_set_loss(m, reduction, 0);
    return rc ? rc : rp_model_gradient(m, x, y, batch, bn_mode, loss, &last_grad);
}

static reptile_model *small_net(int bn_eps_case)
{
    reptile_model *m = NULL;
    ck_assert_int_eq(reptile_model_new(&m, 9, 7, 1), 0);
    ck_assert_int_eq(reptile_model_add_conv2d(m, 4, 3, 3, 2, 2, REPTILE_PADDING_SAME), 0);
    ck_assert_int_eq(reptile_model_add_batchnorm(m, bn_eps_case ? 1e-3f : 0.5f, 0.9f), 0);
    ck_assert_int_eq(reptile_model_add_relu(m), 0);
    ck_assert_int_eq(reptile_model_add_conv2d(m, 3, 2, 2, 1, 1, REPTILE_PADDING_VALID), 0);
    ck_assert_int_eq(reptile_model_add_flatten(m), 0);
    ck_assert_int_eq(reptile_model_add_dense(m, 4), 0);
    ck_assert_int_eq(reptile_model_init(m, 7), 0);
    return m;
}

/* small_net's input with max-pooling: same padding with an odd extra
 * row/column (9x7 -> 5x4), then a valid pool with a stride other than its
 * size on an odd input (4x3 -> 2x1). */
static reptile_model *pooled_net(void)
{
    reptile_model *m = NULL;
    ck_assert_int_eq(reptile_model_new(&m, 9, 7, 1), 0);
    ck_assert_int_eq(reptile_model_add_conv2d(m, 4, 3, 3, 1, 1, REPTILE_PADDING_SAME), 0);
    ck_assert_int_eq(reptile_model_add_batchnorm(m, 1e-3f, 0.9f), 0);
    ck_assert_int_eq(reptile_model_add_maxpool2d(m, 2, 2, 2, 2, REPTILE_PADDING_SAME), 0);
    ck_assert_int_eq(reptile_model_add_relu(m), 0);
    ck_assert_int_eq(reptile_model_add_conv2d(m, 3, 2, 2, 1, 1, REPTILE_PADDING_VALID), 0);
    ck_assert_int_eq(reptile_model_add_maxpool2d(m, 3, 2, 1, 2, REPTILE_PADDING_VALID), 0);
    ck_assert_int_eq(reptile_model_add_flatten(m), 0);
    ck_assert_int_eq(reptile_model_add_dense(m, 4), 0);
    ck_assert_int_eq(reptile_model_init(m, 7), 0);
    const rp_layer *l = m->layers;
    ck_assert_int_eq(l[2].out_h * 10 + l[2].out_w, 54);
    ck_assert_int_eq(l[5].out_h * 10 + l[5].out_w, 21);
    return m;
}

/* Parameter, state and output counts and the input shape of a model. */
static void expect_sizes(const reptile_model *m, size_t params, size_t state, int outputs,
                         int height, int width, int channels)
{
    ck_assert_uint_eq(reptile_model_num_params(m), params);
    ck_assert_uint_eq(reptile_model_num_state(m), state);
    ck_assert_int_eq(reptile_model_num_outputs(m), outputs);
    int h, w, c;
    reptile_model_input_shape(m, &h, &w, &c);
    ck_assert_int_eq(h, height);
    ck_assert_int_eq(w, width);
    ck_assert_int_eq(c, channels);
}

START_TEST(omniglot_net_has_the_tutorial_parameter_count)
{
    reptile_model *m = NULL;
    ck_assert_int_eq(reptile_model_new_omniglot(&m, 5, 1), 0);
    expect_sizes(m, 113221, 4 * 2 * 64, 5, 28, 28, 1);
    reptile_model_free(m);
}
END_TEST

/* A four-block network from make (5 classes) is initialised as Keras does:
 * the same seed gives the same weights, another seed others; the first
 * 3x3 kernel (in_c inputs, ch filters) is Glorot-uniform with limit
 * sqrt(6 / (9 in_c + 9 ch)) and its biases 0; the first BatchNorm has gamma
 * 1, beta 0, moving mean 0, variance 1. */
static void check_keras_init(int (*make)(reptile_model **, int, uint64_t), int in_c, int ch)
{
    reptile_model *a = NULL, *b = NULL, *c = NULL;
    ck_assert_int_eq(make(&a, 5, 42), 0);
    ck_assert_int_eq(make(&b, 5, 42), 0);
    ck_assert_int_eq(make(&c, 5, 43), 0);
    const float *p = reptile_model_params(a);
    size_t n = reptile_model_num_params(a);
    ck_assert_mem_eq(p, reptile_model_params(b), n * sizeof(float));
    ck_assert_int_ne(memcmp(p, reptile_model_params(c), n * sizeof(float)), 0);
    const int k = 9 * in_c * ch;
    float limit = sqrtf(6.0f / (9.0f * in_c + 9.0f * ch)), maxabs = 0.0f;
    for (int i = 0; i < k; ++i)
        maxabs = fmaxf(maxabs, fabsf(p[i]));
    ck_assert_float_le(maxabs, limit);
    ck_assert_float_gt(maxabs, 0.9f * limit);
    for (int i = 0; i < ch; ++i) {
        ck_assert_float_eq(p[k + i], 0.0f);          /* conv bias */
        ck_assert_float_eq(p[k + ch + i], 1.0f);     /* gamma */
        ck_assert_float_eq(p[k + 2 * ch + i], 0.0f); /* beta */
    }
    float *state = malloc(reptile_model_num_state(a) * sizeof *state);
    ck_assert_int_eq(reptile_model_get_state(a, state, reptile_model_num_state(a)), 0);
    ck_assert_float_eq(state[0], 0.0f);
    ck_assert_float_eq(state[ch], 1.0f);
    free(state);
    reptile_model_free(a);
    reptile_model_free(b);
    reptile_model_free(c);
}

/* The reference implementation's MiniImageNetModel: 4 x [conv 32 3x3
 * same, BatchNorm, max-pool 2x2/2 same, ReLU], 84 -> 42 -> 21 -> 11 -> 6,
 * flatten 1152, dense; 34,661 parameters for 5 classes; initialised as
 * reptile_model_new_omniglot() is. */
START_TEST(miniimagenet_net_has_the_reference_parameter_count)
{
    reptile_model *m = NULL, *other = NULL;
    ck_assert_int_eq(reptile_model_new_miniimagenet(&m, 5, 4), 0);
    expect_sizes(m, 34661, 4 * 2 * 32, 5, 84, 84, 3);
    ck_assert_int_eq(m->n_layers, 18);
    static const enum rp_layer_kind block[4] = {RP_LAYER_CONV2D, RP_LAYER_BATCHNORM,
                                                RP_LAYER_MAXPOOL, RP_LAYER_RELU};
    const int side[4] = {42, 21, 11, 6};
    for (int b = 0; b < 4; ++b) {
        for (int i = 0; i < 4; ++i)
            ck_assert_int_eq(m->layers[4 * b + i].kind, block[i]);
        const rp_layer *conv = &m->layers[4 * b], *pool = &m->layers[4 * b + 2];
        ck_assert_int_eq(conv->out_c, 32);
        ck_assert_int_eq(conv->conv.k_h * 10 + conv->conv.stride_h, 31);
        ck_assert_int_eq(conv->out_h, b == 0 ? 84 : side[b - 1]);
        ck_assert_int_eq(pool->out_h, side[b]);
        ck_assert_int_eq(pool->out_w, side[b]);
        ck_assert_int_eq(pool->padding, REPTILE_PADDING_SAME);
        ck_assert_int_eq(pool->maxpool.pool_h * 10 + pool->maxpool.stride_w, 22);
    }
    ck_assert_int_eq(m->layers[16].out_c, 1152);
    ck_assert_int_eq(m->layers[17].in_c, 1152);
    /* Keras initialisation, as the Omniglot network (first kernel 3x3x3x32). */
    check_keras_init(reptile_model_new_miniimagenet, 3, 32);
    /* 20 classes: only the dense layer grows (1152 x 15 + 15 more). */
    ck_assert_int_eq(reptile_model_new_miniimagenet(&other, 20, 5), 0);
    ck_assert_uint_eq(reptile_model_num_params(other), 34661 + 1153 * 15);
    reptile_model *bad = m;
    ck_assert_int_eq(reptile_model_new_miniimagenet(&bad, 1, 4), REPTILE_EINVAL);
    ck_assert_ptr_null(bad);
    ck_assert_ptr_nonnull(strstr(reptile_error_last(), "reptile_model_new_miniimagenet"));
    ck_assert_int_eq(reptile_model_new_miniimagenet(NULL, 5, 4), REPTILE_EINVAL);
    reptile_model_free(m);
    reptile_model_free(other);
}
END_TEST

START_TEST(keras_initialisation)
{
    check_keras_init(reptile_model_new_omniglot, 1, 64);
}
END_TEST

START_TEST(builder_rejects_bad_layers)
{
    reptile_model *m = NULL;
    ck_assert_int_eq(reptile_model_new(&m, 0, 5, 1), REPTILE_EINVAL);
    ck_assert_ptr_null(m);
    ck_assert_int_eq(reptile_model_new(NULL, 5, 5, 1), REPTILE_EINVAL);
    ck_assert_int_eq(reptile_model_new(&m, 5, 5, 1), 0);
    ck_assert_int_eq(reptile_model_add_dense(m, 3), REPTILE_ESHAPE);
    ck_assert_ptr_nonnull(strstr(reptile_error_last(), "flatten"));
    ck_assert_int_eq(reptile_model_add_conv2d(m, 0, 3, 3, 1, 1, REPTILE_PADDING_SAME), REPTILE_EINVAL);
    ck_assert_int_eq(reptile_model_add_conv2d(m, 4, 3, 3, 1, 1, 7), REPTILE_EINVAL);
    ck_assert_int_ne(reptile_model_add_conv2d(m, 4, 9, 9, 1, 1, REPTILE_PADDING_VALID), 0);
    ck_assert_int_eq(reptile_model_add_batchnorm(m, 0.0f, 0.9f), REPTILE_EINVAL);
    ck_assert_int_eq(reptile_model_add_batchnorm(m, 1e-3f, 1.0f), REPTILE_EINVAL);
    ck_assert_int_eq(reptile_model_init(m, 1), REPTILE_EINVAL); /* no layers */
    ck_assert_int_eq(reptile_model_add_flatten(m), 0);
    ck_assert_int_eq(reptile_model_add_conv2d(m, 4, 3, 3, 1, 1, REPTILE_PADDING_SAME), REPTILE_ESHAPE);
    ck_assert_int_eq(reptile_model_add_dense(m, 3), 0);
    ck_assert_int_eq(reptile_model_init(m, 1), 0);
    ck_assert_int_eq(reptile_model_add_relu(m), REPTILE_ESTATE);
    reptile_model_free(m);
    reptile_model_free(NULL);
    reptile_optimizer_free(NULL);
}
END_TEST

START_TEST(builder_rejects_bad_maxpool)
{
    reptile_model *m = NULL;
    ck_assert_int_eq(reptile_model_add_maxpool2d(NULL, 2, 2, 2, 2, REPTILE_PADDING_SAME),
                     REPTILE_EINVAL);
    ck_assert_int_eq(reptile_model_new(&m, 5, 4, 2), 0);
    ck_assert_int_eq(reptile_model_add_maxpool2d(m, 0, 2, 1, 1, REPTILE_PADDING_SAME),
                     REPTILE_EINVAL);
    ck_assert_str_eq(reptile_error_last(), "reptile_model_add_maxpool2d: pool 0x2, stride 1x1 out "
                                           "of range (pool and stride 1..64)");
    ck_assert_int_eq(reptile_model_add_maxpool2d(m, 2, 65, 1, 1, REPTILE_PADDING_SAME),
                     REPTILE_EINVAL);
    ck_assert_int_eq(reptile_model_add_maxpool2d(m, 2, 2, 1, -3, REPTILE_PADDING_SAME),
                     REPTILE_EINVAL);
    ck_assert_ptr_nonnull(strstr(reptile_error_last(), "stride 1x-3"));
    ck_assert_int_eq(reptile_model_add_maxpool2d(m, 2, 2, 64, 65, REPTILE_PADDING_VALID),
                     REPTILE_EINVAL);
    ck_assert_int_eq(reptile_model_add_maxpool2d(m, 2, 2, 2, 2, 7), REPTILE_EINVAL);
    ck_assert_ptr_nonnull(strstr(reptile_error_last(), "unknown padding 7"));
    /* A valid window larger than the input; "same" pads instead. */
    ck_assert_int_eq(reptile_model_add_maxpool2d(m, 2, 5, 1, 1, REPTILE_PADDING_VALID),
                     REPTILE_ESHAPE);
    ck_assert_ptr_nonnull(strstr(reptile_error_last(), "2x5 pool does not fit a 5x4 input"));
    ck_assert_int_eq(m->n_layers, 0); /* nothing was appended by the failures */
    ck_assert_int_eq(reptile_model_add_maxpool2d(m, 2, 5, 1, 1, REPTILE_PADDING_SAME), 0);
    ck_assert_int_eq(m->layers[0].out_h * 10 + m->layers[0].out_w, 54);
    ck_assert_int_eq(m->layers[0].out_c, 2);
    ck_assert_uint_eq(reptile_model_num_params(m), 0);
    ck_assert_int_eq(reptile_model_add_flatten(m), 0);
    ck_assert_int_eq(reptile_model_add_maxpool2d(m, 1, 1, 1, 1, REPTILE_PADDING_SAME),
                     REPTILE_ESHAPE);
    ck_assert_ptr_nonnull(strstr(reptile_error_last(), "input is flat"));
    ck_assert_int_eq(reptile_model_add_dense(m, 3), 0);
    ck_assert_int_eq(reptile_model_add_maxpool2d(m, 1, 1, 1, 1, REPTILE_PADDING_SAME),
                     REPTILE_ESHAPE);
    ck_assert_int_eq(reptile_model_init(m, 1), 0);
    ck_assert_int_eq(reptile_model_add_maxpool2d(m, 1, 1, 1, 1, REPTILE_PADDING_SAME),
                     REPTILE_ESTATE);
    ck_assert_ptr_nonnull(strstr(reptile_error_last(), "finalised"));
    reptile_model_free(m);
}
END_TEST

/* Two models whose only difference is a pool's window, stride or padding
 * (same output shapes, same parameter count) are different architectures. */
START_TEST(maxpool_options_are_part_of_the_architecture)
{
    /* 4x4 -> 2x2 each: 2x2/2 valid, 3x3/1 valid, 1x1/2 same, 1x1/2 valid,
     * 3x1/1 valid with stride 1x2. */
    const int opts[5][5] = {{2, 2, 2, 2, REPTILE_PADDING_VALID}, {3, 3, 1, 1, REPTILE_PADDING_VALID},
                            {1, 1, 2, 2, REPTILE_PADDING_SAME}, {1, 1, 2, 2, REPTILE_PADDING_VALID},
                            {3, 1, 1, 2, REPTILE_PADDING_VALID}};
    reptile_model *m[5];
    for (int i = 0; i < 5; ++i) {
        m[i] = NULL;
        ck_assert_int_eq(reptile_model_new(&m[i], 4, 4, 1), 0);
        ck_assert_int_eq(reptile_model_add_maxpool2d(m[i], opts[i][0], opts[i][1], opts[i][2],
                                                     opts[i][3], opts[i][4]), 0);
        ck_assert_int_eq(m[i]->layers[0].out_h * 10 + m[i]->layers[0].out_w, 22);
        ck_assert_int_eq(reptile_model_add_flatten(m[i]), 0);
        ck_assert_int_eq(reptile_model_add_dense(m[i], 2), 0);
        ck_assert_int_eq(reptile_model_init(m[i], 1), 0);
    }
    for (int i = 0; i < 5; ++i)
        for (int j = 0; j < 5; ++j) {
            ck_assert_int_eq(rp_model_same_architecture(m[i], m[j]), i == j);
            ck_assert_int_eq(reptile_model_copy(m[i], m[j]), i == j ? 0 : REPTILE_ESHAPE);
        }
    /* A clone keeps the pool: same architecture, same predictions. */
    reptile_model *copy = NULL;
    ck_assert_int_eq(reptile_model_clone(&copy, m[4]), 0);
    ck_assert(rp_model_same_architecture(copy, m[4]));
    float x[3 * 16], pa[3 * 2], pb[3 * 2];
    random_images(x, 3 * 16, 12);
    ck_assert_int_eq(reptile_model_predict(m[4], x, 3, REPTILE_BN_MOVING, pa), 0);
    ck_assert_int_eq(reptile_model_predict(copy, x, 3, REPTILE_BN_MOVING, pb), 0);
    ck_assert_mem_eq(pa, pb, sizeof pa);
    reptile_model_free(copy);
    for (int i = 0; i < 5; ++i)
        reptile_model_free(m[i]);
}
END_TEST

START_TEST(parameters_round_trip_and_validate)
{
    reptile_model *m = small_net(0), *other = NULL;
    size_t n = reptile_model_num_params(m);
    float *buf = malloc(n * sizeof *buf);
    ck_assert_int_eq(reptile_model_get_params(m, buf, n), 0);
    buf[3] = 0.125f;
    ck_assert_int_eq(reptile_model_set_params(m, buf, n), 0);
    ck_assert_float_eq(reptile_model_params(m)[3], 0.125f);
    ck_assert_int_eq(reptile_model_set_params(m, buf, n - 1), REPTILE_ESHAPE);
    buf[5] = NAN;
    ck_assert_int_eq(reptile_model_set_params(m, buf, n), REPTILE_EINVAL);
    ck_assert_ptr_nonnull(strstr(reptile_error_last(), "parameter 5"));
    ck_assert_float_eq(reptile_model_params(m)[3], 0.125f);
    float st[8] = {0, 0, 0, 0, 1, 1, -1, 1};
    ck_assert_int_eq(reptile_model_set_state(m, st, 8), REPTILE_EINVAL); /* negative variance */
    ck_assert_int_eq(reptile_model_new_omniglot(&other, 5, 1), 0);
    ck_assert_int_eq(reptile_model_copy(other, m), REPTILE_ESHAPE);
    reptile_model *twin = small_net(0);
    ck_assert_int_eq(reptile_model_copy(twin, m), 0);
    ck_assert_mem_eq(reptile_model_params(twin), reptile_model_params(m), n * sizeof(float));
    free(buf);
    reptile_model_free(m);
    reptile_model_free(other);
    reptile_model_free(twin);
}
END_TEST

/* Loss of a batch through the public predict path, in double. */
static double batch_loss(reptile_model *m, const float *x, const int32_t *y, int batch, int bn)
{
    int k = reptile_model_num_outputs(m);
    float *p = malloc((size_t)batch * k * sizeof *p);
    ck_assert_int_eq(reptile_model_predict(m, x, batch, bn, p), 0);
    double loss = 0.0;
    for (int i = 0; i < batch; ++i)
        loss -= log((double)p[(size_t)i * k + y[i]]);
    free(p);
    return loss;
}

/* The network's gradient (sum reduction) against central differences of
 * the loss computed through predict(), for every parameter of the small
 * net. The forward is float32: with h = 1e-3 its rounding noise (~1e-7 of a
 * loss of order 5) gives ~5e-4 absolute error in the difference quotient,
 * hence the 0.05 absolute floor in the relative error; a larger h would
 * step across ReLU kinks and misjudge correct gradients. */
static void check_gradient_of(reptile_model *m, int bn_mode, int batch)
{
    size_t n = reptile_model_num_params(m);
    size_t img = 9 * 7 * 1;
    float *x = malloc((size_t)batch * img * sizeof *x);
    int32_t y[16];
    random_images(x, (size_t)batch * img, 3);
    for (int i = 0; i < batch; ++i)
        y[i] = i % 4;
    float loss;
    ck_assert_int_eq(gradient(m, x, y, batch, bn_mode, REPTILE_REDUCTION_SUM, &loss), 0);
    ck_assert_double_eq_tol(loss, batch_loss(m, x, y, batch, bn_mode), 1e-4 * fabs(loss) + 1e-5);
    float *g = malloc(n * sizeof *g);
    memcpy(g, last_grad, n * sizeof *g);
    float *w = m->params;
    double worst = 0.0, worst_fd = 0.0;
    size_t worst_i = 0, kinks = 0;
    const double f0 = batch_loss(m, x, y, batch, bn_mode);
    for (size_t i = 0; i < n; ++i) {
        const float h = 1e-3f;
        float keep = w[i];
        w[i] = keep + h;
        double up = batch_loss(m, x, y, batch, bn_mode);
        w[i] = keep - h;
        double down = batch_loss(m, x, y, batch, bn_mode);
        w[i] = keep;
        /* A ReLU kink inside [w - h, w + h] makes the one-sided slopes
         * disagree; the central difference is meaningless there. */
        double fwd = (up - f0) / h, bwd = (f0 - down) / h;
        if (fabs(fwd - bwd) > 0.01 * (fabs(fwd) + fabs(bwd)) + 5e-3) {
            ++kinks;
            continue;
        }
        double fd = (up - down) / (2.0 * h);
        double err = fabs(fd - g[i]) / (fabs(fd) + 5e-2);
        if (err > worst) {
            worst = err;
            worst_i = i;
            worst_fd = fd;
        }
    }
    ck_assert_msg(kinks * 20 < n, "%zu of %zu parameters sit on a ReLU kink", kinks, n);
    ck_assert_msg(worst < 2e-2, "worst relative gradient error %g (bn_mode %d) at parameter %zu of %zu: fd %g analytic %g",
                  worst, bn_mode, worst_i, n, worst_fd, (double)g[worst_i]);
    free(g);
    free(x);
    reptile_model_free(m);
}

static void check_network_gradient(int bn_mode, int batch)
{
    check_gradient_of(small_net(1), bn_mode, batch);
}

START_TEST(network_gradient_matches_finite_differences_frozen_bn)
{
    check_network_gradient(REPTILE_BN_FROZEN, 5);
}
END_TEST

START_TEST(network_gradient_matches_finite_differences_batch_bn)
{
    check_network_gradient(REPTILE_BN_BATCH, 6);
}
END_TEST

/* Through both max-pooling layers, in both BatchNorm modes. A change of
 * winner within +-h is a kink like ReLU's; batch 4 has none on batch
 * statistics (batch 6 puts one near-tie in reach of 22 parameters). */
START_TEST(pooled_network_gradient_matches_finite_differences)
{
    check_gradient_of(pooled_net(), REPTILE_BN_FROZEN, 5);
    check_gradient_of(pooled_net(), REPTILE_BN_BATCH, 4);
}
END_TEST

START_TEST(network_gradient_batch_of_one)
{
    check_network_gradient(REPTILE_BN_FROZEN, 1);
}
END_TEST

/* Frozen BatchNorm makes images independent: the sharded gradient of a
 * batch equals the sum of single-image gradients (up to float reordering). */
static void check_shards_sum(reptile_model *m)
{
    size_t n = reptile_model_num_params(m);
    int h, w, c;
    reptile_model_input_shape(m, &h, &w, &c);
    const size_t img = (size_t)h * w * c;
    enum { B = 25 };
    float *x = malloc(B * img * sizeof *x);
    int32_t y[B];
    random_images(x, B * img, 11);
    for (int i = 0; i < B; ++i)
        y[i] = (i * 3) % reptile_model_num_outputs(m);
    ck_assert_int_eq(gradient(m, x, y, B, REPTILE_BN_FROZEN, REPTILE_REDUCTION_SUM, NULL), 0);
    float *batched = malloc(n * sizeof *batched);
    double *sum = calloc(n, sizeof *sum);
    memcpy(batched, last_grad, n * sizeof *batched);
    for (int i = 0; i < B; ++i) {
        ck_assert_int_eq(gradient(m, x + i * img, y + i, 1, REPTILE_BN_FROZEN, REPTILE_REDUCTION_SUM, NULL), 0);
        for (size_t j = 0; j < n; ++j)
            sum[j] += last_grad[j];
    }
    double num = 0.0, den = 0.0;
    for (size_t j = 0; j < n; ++j) {
        num += (batched[j] - sum[j]) * (batched[j] - sum[j]);
        den += sum[j] * sum[j];
    }
    ck_assert_msg(sqrt(num / den) < 1e-5, "relative difference %g", sqrt(num / den));
    free(x);
    free(batched);
    free(sum);
    reptile_model_free(m);
}

START_TEST(sharded_gradient_equals_sum_of_single_images)
{
    reptile_model *m = NULL;
    ck_assert_int_eq(reptile_model_new_omniglot(&m, 5, 9), 0);
    check_shards_sum(m);
}
END_TEST

/* The same through max-pooling: each shard keeps its own winners. */
START_TEST(sharded_pooled_gradient_equals_sum_of_single_images)
{
    check_shards_sum(pooled_net());
}
END_TEST

START_TEST(sgd_step_moves_by_lr_times_gradient_and_mean_divides)
{
    reptile_model *m = small_net(1);
    size_t n = reptile_model_num_params(m);
    float x[4 * 126];
    int32_t y[4] = {0, 1, 2, 3};
    random_images(x, 4 * 126, 5);
    float *before = malloc(n * sizeof *before), *g = malloc(n * sizeof *g);
    memcpy(before, reptile_model_params(m), n * sizeof *before);
    ck_assert_int_eq(gradient(m, x, y, 4, REPTILE_BN_FROZEN, REPTILE_REDUCTION_SUM, NULL), 0);
    memcpy(g, last_grad, n * sizeof *g);
    reptile_optimizer *opt = NULL;
    ck_assert_int_eq(reptile_optimizer_new_sgd(&opt, 0.5f, 0.0f), 0);
    ck_assert_int_eq(reptile_model_set_loss(m, REPTILE_REDUCTION_MEAN, 0), 0);
    float loss_mean, loss_sum;
    ck_assert_int_eq(reptile_model_train_step(m, opt, x, y, 4, REPTILE_BN_FROZEN, &loss_mean), 0);
    for (size_t i = 0; i < n; ++i)
        ck_assert_float_eq_tol(reptile_model_params(m)[i], before[i] - 0.5f * g[i] / 4.0f, 1e-6f);
    ck_assert_int_eq(reptile_model_set_params(m, before, n), 0);
    ck_assert_int_eq(reptile_model_set_loss(m, REPTILE_REDUCTION_SUM, 0), 0);
    ck_assert_int_eq(reptile_model_train_step(m, opt, x, y, 4, REPTILE_BN_FROZEN, &loss_sum), 0);
    ck_assert_float_eq_tol(loss_sum, 4.0f * loss_mean, 1e-5f * loss_sum);
    for (size_t i = 0; i < n; ++i)
        ck_assert_float_eq_tol(reptile_model_params(m)[i], before[i] - 0.5f * g[i], 1e-6f);
    ck_assert_int_eq(reptile_model_set_loss(m, 9, 0), REPTILE_EINVAL);
    ck_assert_int_eq(reptile_model_set_loss(m, REPTILE_REDUCTION_SUM, 2), REPTILE_EINVAL);
    ck_assert_int_eq(reptile_model_set_loss(NULL, REPTILE_REDUCTION_SUM, 0), REPTILE_EINVAL);
    reptile_optimizer *bad = opt;
    ck_assert_int_eq(reptile_optimizer_new_sgd(&bad, -1.0f, 0.0f), REPTILE_EINVAL);
    ck_assert_ptr_null(bad);
    reptile_optimizer_free(opt);
    free(before);
    free(g);
    reptile_model_free(m);
}
END_TEST

/* A new model's loss is the documented default: the mean over the batch,
 * without clipping (the loss through predict(), divided by the batch). */
START_TEST(new_model_loss_is_the_mean)
{
    reptile_model *m = small_net(1);
    float x[4 * 126];
    int32_t y[4] = {3, 1, 2, 0};
    random_images(x, 4 * 126, 9);
    const double sum = batch_loss(m, x, y, 4, REPTILE_BN_FROZEN);
    reptile_optimizer *opt = NULL;
    ck_assert_int_eq(reptile_optimizer_new_sgd(&opt, 0.01f, 0.0f), 0);
    float loss;
    ck_assert_int_eq(reptile_model_train_step(m, opt, x, y, 4, REPTILE_BN_FROZEN, &loss), 0);
    ck_assert_double_eq_tol(loss, sum / 4.0, 1e-5 * sum);
    reptile_optimizer_free(opt);
    reptile_model_free(m);
}
END_TEST

/* A model with another output count keeps every other layer's weights and
 * draws the new last layer as reptile_model_init() would: a 5-output model
 * resized to 20 equals a 20-output model initialised with the same seed,
 * except where it was trained. Clones copy everything. */
START_TEST(with_outputs_and_clone)
{
    reptile_model *five = NULL, *twenty = NULL, *resized = NULL, *copy = NULL;
    ck_assert_int_eq(reptile_model_new_omniglot(&five, 5, 11), 0);
    ck_assert_int_eq(reptile_model_new_omniglot(&twenty, 20, 11), 0);
    ck_assert_int_eq(reptile_model_with_outputs(&resized, five, 20, 11), 0);
    ck_assert_int_eq(reptile_model_num_outputs(resized), 20);
    ck_assert_uint_eq(reptile_model_num_params(resized), reptile_model_num_params(twenty));
    ck_assert_mem_eq(reptile_model_params(resized), reptile_model_params(twenty),
                     reptile_model_num_params(twenty) * sizeof(float));
    float x[2 * 784], p[2 * 20];
    random_images(x, 2 * 784, 4);
    ck_assert_int_eq(reptile_model_predict(resized, x, 2, REPTILE_BN_BATCH, p), 0);
    ck_assert_int_eq(reptile_model_clone(&copy, resized), 0);
    ck_assert_mem_eq(reptile_model_params(copy), reptile_model_params(resized),
                     reptile_model_num_params(resized) * sizeof(float));
    reptile_model *bad = five;
    ck_assert_int_eq(reptile_model_with_outputs(&bad, five, 0, 1), REPTILE_EINVAL);
    ck_assert_ptr_null(bad);
    ck_assert_int_eq(reptile_model_clone(&bad, NULL), REPTILE_EINVAL);
    reptile_model *empty = NULL;
    ck_assert_int_eq(reptile_model_new(&empty, 4, 4, 1), 0);
    ck_assert_int_eq(reptile_model_clone(&bad, empty), REPTILE_EINVAL);
    reptile_model_free(empty);
    reptile_model_free(copy);
    reptile_model_free(resized);
    reptile_model_free(twenty);
    reptile_model_free(five);
}
END_TEST

START_TEST(adam_first_step_is_lr_times_sign)
{
    /* Bias-corrected Adam's first step is lr * g / (|g| + eps') ~ lr * sign(g). */
    reptile_model *m = small_net(1);
    size_t n = reptile_model_num_params(m);
    float x[2 * 126];
    int32_t y[2] = {1, 2};
    random_images(x, 2 * 126, 8);
    float *before = malloc(n * sizeof *before);
    memcpy(before, reptile_model_params(m), n * sizeof *before);
    ck_assert_int_eq(gradient(m, x, y, 2, REPTILE_BN_FROZEN, REPTILE_REDUCTION_MEAN, NULL), 0);
    float *g = malloc(n * sizeof *g);
    memcpy(g, last_grad, n * sizeof *g);
    reptile_optimizer *opt = NULL;
    ck_assert_int_eq(reptile_optimizer_new_adam(&opt, 1e-3f, 0.0f, 0.999f, 1e-8f), 0);
    ck_assert_int_eq(reptile_model_train_step(m, opt, x, y, 2, REPTILE_BN_FROZEN, NULL), 0);
    for (size_t i = 0; i < n; ++i) {
        if (fabsf(g[i]) < 1e-4f)
            continue;
        float step = before[i] - reptile_model_params(m)[i];
        ck_assert_float_eq_tol(step, g[i] > 0 ? 1e-3f : -1e-3f, 1e-5f);
    }
    reptile_optimizer *bad = opt;
    ck_assert_int_eq(reptile_optimizer_new_adam(&bad, 1e-3f, 1.0f, 0.999f, 1e-8f), REPTILE_EINVAL);
    ck_assert_ptr_null(bad);
    free(before);
    free(g);
    reptile_optimizer_free(opt);
    reptile_model_free(m);
}
END_TEST

START_TEST(batch_statistics_step_updates_moving_averages)
{
    reptile_model *m = small_net(1);
    float x[3 * 126];
    int32_t y[3] = {0, 1, 2};
    random_images(x, 3 * 126, 4);
    reptile_optimizer *opt = NULL;
    ck_assert_int_eq(reptile_optimizer_new_sgd(&opt, 1e-3f, 0.0f), 0);
    float st0[8], st1[8];
    ck_assert_int_eq(reptile_model_get_state(m, st0, 8), 0);
    ck_assert_int_eq(reptile_model_train_step(m, opt, x, y, 3, REPTILE_BN_FROZEN, NULL), 0);
    ck_assert_int_eq(reptile_model_get_state(m, st1, 8), 0);
    ck_assert_mem_eq(st0, st1, sizeof st0); /* frozen: untouched */
    ck_assert_int_eq(reptile_model_train_step(m, opt, x, y, 3, REPTILE_BN_BATCH, NULL), 0);
    ck_assert_int_eq(reptile_model_get_state(m, st1, 8), 0);
    /* The moving mean moved by (1 - momentum) * batch mean: non-zero now. */
    int moved = 0;
    for (int c = 0; c < 4; ++c)
        moved += st1[c] != 0.0f && st1[4 + c] != 1.0f;
    ck_assert_int_eq(moved, 4);
    reptile_optimizer_free(opt);
    reptile_model_free(m);
}
END_TEST

START_TEST(divergence_keeps_the_last_good_weights)
{
    reptile_model *m = small_net(1);
    size_t n = reptile_model_num_params(m);
    float x[2 * 126];
    int32_t y[2] = {0, 3};
    random_images(x, 2 * 126, 6);
    for (int i = 0; i < 126; ++i)
        x[i] *= 1e30f; /* pushes activations to overflow */
    reptile_optimizer *opt = NULL;
    ck_assert_int_eq(reptile_optimizer_new_sgd(&opt, 1e30f, 0.0f), REPTILE_EINVAL);
    ck_assert_str_eq(reptile_error_last(), "optimizer: learning rate must be in (0, 1000), got 1e+30");
    ck_assert_int_eq(reptile_optimizer_new_sgd(&opt, 999.0f, 0.0f), 0);
    float *before = malloc(n * sizeof *before);
    int rc = 0;
    for (int step = 0; step < 20 && rc == 0; ++step) {
        memcpy(before, reptile_model_params(m), n * sizeof *before);
        rc = reptile_model_train_step(m, opt, x, y, 2, REPTILE_BN_FROZEN, NULL);
    }
    ck_assert_int_eq(rc, REPTILE_EDIVERGED);
    ck_assert_mem_eq(before, reptile_model_params(m), n * sizeof *before);
    int32_t bad[2] = {0, 4};
    ck_assert_int_eq(reptile_model_train_step(m, opt, x, bad, 2, REPTILE_BN_FROZEN, NULL), REPTILE_EINVAL);
    free(before);
    reptile_optimizer_free(opt);
    reptile_model_free(m);
}
END_TEST

START_TEST(predict_gives_probabilities)
{
    reptile_model *m = NULL;
    ck_assert_int_eq(reptile_model_new_omniglot(&m, 5, 3), 0);
    float x[7 * 784], p[7 * 5];
    random_images(x, 7 * 784, 2);
    ck_assert_int_eq(reptile_model_predict(m, x, 7, REPTILE_BN_MOVING, p), 0);
    for (int i = 0; i < 7; ++i) {
        float s = 0.0f;
        for (int k = 0; k < 5; ++k)
            s += p[i * 5 + k];
        ck_assert_float_eq_tol(s, 1.0f, 1e-5f);
    }
    ck_assert_int_eq(reptile_model_predict(m, x, 0, REPTILE_BN_MOVING, p), REPTILE_EINVAL);
    ck_assert_int_eq(reptile_model_predict(m, x, 7, 5, p), REPTILE_EINVAL);
    reptile_model_free(m);
}
END_TEST

static Suite *model_suite(void)
{
    Suite *s = suite_create("model");
    TCase *tc = tcase_create("model");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, omniglot_net_has_the_tutorial_parameter_count);
    tcase_add_test(tc, miniimagenet_net_has_the_reference_parameter_count);
    tcase_add_test(tc, keras_initialisation);
    tcase_add_test(tc, builder_rejects_bad_layers);
    tcase_add_test(tc, builder_rejects_bad_maxpool);
    tcase_add_test(tc, maxpool_options_are_part_of_the_architecture);
    tcase_add_test(tc, parameters_round_trip_and_validate);
    tcase_add_test(tc, network_gradient_matches_finite_differences_frozen_bn);
    tcase_add_test(tc, network_gradient_matches_finite_differences_batch_bn);
    tcase_add_test(tc, pooled_network_gradient_matches_finite_differences);
    tcase_add_test(tc, network_gradient_batch_of_one);
    tcase_add_test(tc, sharded_gradient_equals_sum_of_single_images);
    tcase_add_test(tc, sharded_pooled_gradient_equals_sum_of_single_images);
    tcase_add_test(tc, sgd_step_moves_by_lr_times_gradient_and_mean_divides);
    tcase_add_test(tc, new_model_loss_is_the_mean);
    tcase_add_test(tc, with_outputs_and_clone);
    tcase_add_test(tc, adam_first_step_is_lr_times_sign);
    tcase_add_test(tc, batch_statistics_step_updates_moving_averages);
    tcase_add_test(tc, divergence_keeps_the_last_good_weights);
    tcase_add_test(tc, predict_gives_probabilities);
    suite_add_tcase(s, tc);
    return s;
}

RP_TEST_MAIN(model_suite)
