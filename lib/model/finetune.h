/* Fine-tuning a model on a task's support set and classifying its queries:
 * the one path behind both the meta-learner's evaluation and the public
 * adaptation API (reptile/adapt.h), so the two cannot disagree. Nothing
 * here allocates: the caller lends the scratch buffers. */
#ifndef RP_MODEL_FINETUNE_H
#define RP_MODEL_FINETUNE_H

#include "core/rng.h"
#include "reptile/model.h"
#include "reptile/optimizer.h"

#include <stdint.h>

typedef struct rp_finetune_config {
    int iters;    /* epochs over the support set, or SGD steps (steps != 0); 0 = none */
    int steps;    /* 1: iters counts steps of full batches cut across reshuffles (the
                     reference implementation); 0: epochs, each a fresh shuffle cut into
                     batches with a partial last one (tf.data shuffle().batch()) */
    int batch;    /* batch size (>= 1) */
    int bn_mode;  /* enum reptile_bn_mode */
} rp_finetune_config;

/* One task's buffers: support and query images with labels, a batch, the
 * batch order, prediction scratch and the query probabilities. */
typedef struct rp_task_buffers {
    int ns, nq, batch;      /* capacities in images */
    float *support, *queries, *xb, *x, *row, *probs;
    int32_t *support_y, *query_y, *yb, *order;
} rp_task_buffers;

/* Grows b (never shrinks) for ns support and nq query images, batches of
 * `batch`, on model m. 0 or REPTILE_ENOMEM (b unchanged). */
int rp_task_buffers_reserve(rp_task_buffers *b, const reptile_model *m, int ns, int nq, int batch);
void rp_task_buffers_free(rp_task_buffers *b);

/* Fine-tunes m (holding the starting weights) on b's ns support images:
 * opt starts from a copy of `saved`'s state, or fresh when saved is NULL;
 * the batch order comes from the stream (adapt_seed, 0, ADAPT). */
int rp_finetune_task(reptile_model *m, reptile_optimizer *opt, const reptile_optimizer *saved,
                     const rp_finetune_config *c, rp_task_buffers *b, int ns, uint64_t adapt_seed);

/* Trains m with opt on the n support images x (NHWC, labels y), in the
 * order drawn from rng: each epoch (or each time the images run out in
 * step mode) a fresh shuffle of 0..n-1, the same draws the episode sampler
 * makes for training tasks. Scratch: xb (batch images), yb (batch labels),
 * order (n ints). before_last (may be NULL) receives the parameters then
 * the state as they were before the final step (FOMAML's update). */
int rp_finetune(reptile_model *m, reptile_optimizer *opt, const rp_finetune_config *c,
                const float *x, const int32_t *y, int n, rp_rng *rng, float *xb, int32_t *yb,
                int32_t *order, float *before_last);

/* The same fine-tuning run taken a few steps at a time, possibly by
 * different threads (the meta-learner's task schedule): rp_finetune_begin
 * keeps the arguments (which must stay valid) and a cursor; each
 * rp_finetune_steps call continues exactly where the last one stopped, so
 * any split gives rp_finetune's bits. */
typedef struct rp_finetune_run {
    rp_finetune_config c;
    const float *x;
    const int32_t *y;
    int n;
    rp_rng *rng;
    float *xb;
    int32_t *yb, *order;
    float *before_last;
    int done, total; /* steps taken, steps in the run */
    int used;        /* images of the current shuffle already batched */
} rp_finetune_run;

/* SGD steps a run takes: iters (step mode) or iters x ceil(n / batch). */
int rp_finetune_step_count(const rp_finetune_config *c, int n);
void rp_finetune_begin(rp_finetune_run *r, const rp_finetune_config *c, const float *x,
                       const int32_t *y, int n, rp_rng *rng, float *xb, int32_t *yb,
                       int32_t *order, float *before_last);
/* Up to max_steps more steps (fewer when the run ends); 0 or the step's error. */
int rp_finetune_steps(reptile_model *m, reptile_optimizer *opt, rp_finetune_run *r,
                      int max_steps);

/* The parameters then the state of m, into dst (num_params + num_state floats). */
void rp_model_read_weights(const reptile_model *m, float *dst);

/* Probabilities (rows of num_outputs) of nq query images. With batch
 * statistics and transductive == 0, each query is predicted in one batch
 * with the ns support images, so BatchNorm sees the support set + 1 image
 * (the reference's non-transductive evaluation); otherwise all queries go
 * in one batch (per-image results with moving statistics). Scratch: x of
 * ns + 1 images and row of (ns + 1) * num_outputs floats. */
int rp_predict_queries(reptile_model *m, int bn_mode, int transductive, const float *support,
                       int ns, const float *queries, int nq, float *probs, float *x, float *row);

#endif
