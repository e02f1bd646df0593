/* Shared by the MPI test programs: a synthetic few-shot data set in memory
 * and a small network (the idea of tests/unit/meta/test_meta.c, on the
 * public API only), and the small options the tests train with. */
#ifndef RP_MPI_TEST_COMMON_H
#define RP_MPI_TEST_COMMON_H

#include <reptile/reptile.h>
#include "synthetic.h"

#include <stdio.h>
#include <stdlib.h>

enum { T_SIDE = RP_SYN_SIDE };

static inline reptile_dataset *t_synthetic_set(uint64_t seed)
{
    reptile_dataset *ds = rp_test_synthetic_set(seed, 1.0f);
    if (!ds)
        fprintf(stderr, "synthetic data set: %s\n", reptile_error_last());
    return ds;
}

/* conv(8) BN ReLU conv(8) BN ReLU flatten dense(5): 861 parameters and 32
 * BatchNorm state values. */
static inline reptile_model *t_small_net(uint64_t seed)
{
    reptile_model *m = NULL;
    if (reptile_model_new(&m, T_SIDE, T_SIDE, 1) != 0 ||
        reptile_model_add_conv2d(m, 8, 3, 3, 2, 2, REPTILE_PADDING_SAME) != 0 ||
        reptile_model_add_batchnorm(m, 1e-3f, 0.99f) != 0 || reptile_model_add_relu(m) != 0 ||
        reptile_model_add_conv2d(m, 8, 3, 3, 2, 2, REPTILE_PADDING_SAME) != 0 ||
        reptile_model_add_batchnorm(m, 1e-3f, 0.99f) != 0 || reptile_model_add_relu(m) != 0 ||
        reptile_model_add_flatten(m) != 0 || reptile_model_add_dense(m, 5) != 0 ||
        reptile_model_init(m, seed) != 0) {
        fprintf(stderr, "small network: %s\n", reptile_error_last());
        reptile_model_free(m);
        return NULL;
    }
    return m;
}

/* Paper-like semantics on a small budget: Adam (beta1 0) with its state
 * carried across tasks (per task slot), BatchNorm on batch statistics. */
static inline int t_options(reptile_meta_options *o, int meta_batch)
{
    if (reptile_meta_options_preset(o, REPTILE_META_OPTIONS_VERSION, "paper-omniglot-5way") != 0)
        return -1;
    o->train_shots = 5;
    o->inner_batch = 10;
    o->inner_iters = 3;
    o->eval_shots = 3;
    o->eval_batch = 15;
    o->eval_iters = 2;
    o->meta_iters = 100;
    o->lr = 0.005f;
    o->meta_batch = meta_batch;
    o->eval_interval = 0;
    o->threads = 1;
    o->seed = 1234;
    return 0;
}

/* The same with plain SGD (no momentum, state reset per task). */
static inline int t_options_sgd(reptile_meta_options *o, int meta_batch)
{
    if (t_options(o, meta_batch) != 0)
        return -1;
    o->optimizer = REPTILE_OPTIMIZER_SGD;
    o->momentum = 0.0f;
    o->optimizer_state = REPTILE_STATE_RESET;
    o->lr = 0.02f;
    return 0;
}

#endif
