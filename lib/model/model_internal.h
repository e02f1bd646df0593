/* Internal layout of reptile_model: the layer list, the parameter and state
 * buffers, and per-shard workspaces.
 *
 * A batch is split into a fixed number of shards (RP_SHARDS when BatchNorm
 * uses moving statistics, 1 when it needs whole-batch statistics). Each
 * shard runs forward and backward on its own images into its own gradient
 * buffer; the gradients are then summed in shard order. The split depends
 * only on the batch size and the BatchNorm mode, never on the thread count,
 * so results are bitwise identical with 1 or 2 threads. */
#ifndef RP_MODEL_INTERNAL_H
#define RP_MODEL_INTERNAL_H

#include "reptile/model.h"
#include "core/pool.h"
#include "nn/conv2d.h"
#include "nn/maxpool.h"

#include <stddef.h>
#include <stdint.h>

#define RP_SHARDS 2
#define RP_MAX_LAYERS 64

enum rp_layer_kind {
    RP_LAYER_CONV2D,
    RP_LAYER_BATCHNORM,
    RP_LAYER_RELU,
    RP_LAYER_FLATTEN,
    RP_LAYER_DENSE,
    RP_LAYER_MAXPOOL
};

typedef struct rp_layer {
    enum rp_layer_kind kind;
    int in_h, in_w, in_c;    /* per-image input shape; flat tensors have h = w = 1 */
    int out_h, out_w, out_c;
    rp_conv2d_shape conv;    /* conv2d: resolved shape, batch set per call */
    rp_maxpool_shape maxpool; /* maxpool: resolved shape, batch set per call */
    int padding;
    float eps, momentum;     /* batchnorm */
    size_t param_offset;     /* kernel (or gamma) */
    size_t param_count;      /* kernel + bias (or gamma + beta) */
    size_t state_offset;     /* batchnorm: moving mean, then moving variance */
    int in_place;            /* output aliases the input buffer (relu, flatten) */
} rp_layer;

typedef struct rp_shard {
    int capacity;            /* images this shard's buffers hold */
    float *arena;            /* one allocation for everything below */
    size_t arena_floats;     /* its size (it may exceed what capacity needs) */
    float *act[RP_MAX_LAYERS];      /* output of layer l (aliases for in-place layers) */
    float *conv_ws[RP_MAX_LAYERS];  /* conv2d workspaces, kept from forward to backward */
    float *bn_mean[RP_MAX_LAYERS];  /* batch statistics saved for backward */
    float *bn_invstd[RP_MAX_LAYERS];
    int32_t *pool_argmax[RP_MAX_LAYERS]; /* maxpool winners, kept from forward to backward */
    float *grad_a, *grad_b;  /* ping-pong activation gradients */
    float *dlogits;
    float *param_grad;       /* this shard's parameter gradient */
    double loss;             /* this shard's summed loss */
    /* per-call inputs */
    const float *x;
    const int32_t *labels;
    int n;
} rp_shard;

struct reptile_model {
    int in_h, in_w, in_c;
    int n_layers;
    rp_layer layers[RP_MAX_LAYERS];
    size_t n_params, n_state;
    size_t max_act;          /* largest per-image activation, floats */
    int finalised;
    float *params;
    float *state;
    float *grad;             /* reduced gradient */
    rp_shard shards[RP_SHARDS];
    rp_pool *pool;           /* borrowed; NULL = run shards in the caller */
    int reduction;           /* the loss: enum reptile_reduction */
    int keras_clip;          /* the loss: Keras' probability clipping */
};

/* The state buffer (moving statistics), read-only, for the meta-learner's
 * average; the parameters are reptile_model_params(). */
const float *rp_model_state_data(const reptile_model *m);
/* Overwrites parameters then state from one vector of n_params + n_state
 * floats the caller has checked (finite, variances >= 0): the meta step. */
void rp_model_write_weights(reptile_model *m, const float *params_then_state);

/* Allocates parameter/state buffers (once). */
int rp_model_finalise(reptile_model *m);
/* Sizes workspaces for batches up to `batch` in a BatchNorm mode;
 * allocates only when a shard must grow. */
int rp_model_reserve(reptile_model *m, int batch, int bn_mode);
/* Hands the model's workspaces to this thread's spare (kept: the largest
 * one), so that a model used now and then (an adapted task) holds only its
 * weights between calls, and the next model this thread sizes reuses the
 * memory without allocating or zeroing it. The next call sizes them anew. */
void rp_model_release_workspace(reptile_model *m);
/* Images of shard s when a batch is split into `shards`. */
int rp_model_shard_size(int batch, int shards, int s);
/* Shards used for a batch in a BatchNorm mode. */
int rp_model_shard_count(int batch, int bn_mode);

/* Forward of shard `sh` through all layers; logits land in the last act. */
void rp_model_forward_shard(reptile_model *m, rp_shard *sh, int bn_mode);
/* Backward of shard `sh` from sh->dlogits; fills sh->param_grad. */
void rp_model_backward_shard(reptile_model *m, rp_shard *sh, int bn_mode);
/* Output (logits) of a shard after forward. */
const float *rp_model_logits(const reptile_model *m, const rp_shard *sh);

/* Internal training entry: computes the reduced gradient and the loss; no
 * parameter update. *grad receives the gradient: m->grad, or shard 0's
 * buffer when one shard ran (no copy); valid until the model's next call. */
int rp_model_gradient(reptile_model *m, const float *x, const int32_t *labels, int batch,
                      int bn_mode, float *loss, const float **grad);

/* Borrow a pool for shard parallelism (NULL: run in the caller). */
void rp_model_set_pool(reptile_model *m, rp_pool *pool);

/* Same architecture (layer kinds and shapes)? */
int rp_model_same_architecture(const reptile_model *a, const reptile_model *b);

/* New model with the same architecture, parameters and state (no pool). */
int rp_model_clone(reptile_model **out, const reptile_model *src);
/* A copy of src's layers, loss and shapes with no buffers (not finalised);
 * NULL when out of memory. */
reptile_model *rp_model_alloc_like(const reptile_model *src);

#endif
