#ifndef RP_META_INTERNAL_H
#define RP_META_INTERNAL_H

#include "reptile/meta.h"
#include "core/error_internal.h"
#include "core/pool.h"
#include "core/rng.h"
#include "data/sampler.h"
#include "model/finetune.h"
#include "model/optimizer_internal.h"

/* Stream domains: core/rng.h (enum rp_stream_domain). */

/* One worker context: a model copy, its optimizer, episode and buffers. */
typedef struct rp_slot {
    reptile_model *model;
    reptile_optimizer *opt;       /* inner loop of this task slot (state carried per slot) */
    reptile_optimizer *eval_opt;  /* fine-tuning: starts from slot 0's state or fresh */
    rp_episode train_ep;
    rp_episode eval_ep;           /* an evaluation task's draw (its order is rp_finetune's) */
    rp_task_buffers task;         /* a task's images (training or evaluation), scratch, probabilities */
    float *before_last;           /* FOMAML: weights before the last inner step */
    float *tail_x;                /* FOMAML with foml_tail: the final batch */
    int32_t *tail_y, *tail_idx;
    /* results of the last evaluation */
    float accuracy;
    /* error raised in a worker thread, re-raised on the caller's (code 0: none) */
    rp_error_saved err;
} rp_slot;

struct reptile_meta {
    reptile_meta_options opts;
    reptile_model *model;   /* borrowed: the meta-weights */
    rp_pool *pool;
    int n_slots;
    rp_slot *slots;
    float *accum;           /* sum of adapted weights */
    int iteration;
    size_t image_floats;
    int in_h, in_w, in_c;    /* the model's input shape */
    size_t n_params, n_state;
};

/* Runs fn(meta, slot i, ctx) for i in [0, n) (n <= n_slots): in parallel
 * over slots when n > 1, else on slot 0 with shard parallelism. Returns the
 * first failure in slot order, re-raised on the calling thread. */
typedef void (*rp_slot_fn)(reptile_meta *meta, int slot, void *ctx);
int rp_meta_run_slots(reptile_meta *meta, int n, rp_slot_fn fn, void *ctx);

/* Record a failure inside a worker. */
void rp_slot_fail(rp_slot *slot, int rc);

/* Episode shape for a task: step-counted loops (iters_are_steps) draw
 * enough reshuffled epochs for iters full batches. One rule for training
 * and evaluation episodes. */
rp_episode_config rp_meta_episode_config(const reptile_meta_options *o, int ways, int shots,
                                         int queries, int batch, int iters);
/* An evaluation task's episode: ways x shots support, one query per class. */
rp_episode_config rp_meta_eval_episode_config(const reptile_meta_options *o, int ways, int shots);

/* REPTILE_ESHAPE (naming `what`) unless ds's images have the model's input
 * shape: every entry point taking a data set checks before gathering. */
int rp_meta_check_images(const reptile_meta *meta, const reptile_dataset *ds, const char *what);

/* The learner's starting optimizer state, taken from `state` (its buffers
 * move; nothing happens unless the options carry the state). */
struct reptile_learner;
int rp_learner_adopt_state(struct reptile_learner *l, rp_optimizer_state *state);

/* Evaluation's fine-tuning settings (eval_iters, eval_batch, ...). */
rp_finetune_config rp_meta_finetune_config(const reptile_meta_options *o);

/* Evaluation task on slot `s` from the current meta-weights: fine-tune,
 * classify the queries (per image, or keras_argmax: the tutorial's argmax
 * over the query axis), leave the meta-weights untouched. Optional outputs. */
int rp_meta_eval_task(reptile_meta *meta, int s, const reptile_dataset *ds, rp_rng *rng, int ways,
                      int shots, int keras_argmax, float *accuracy, int32_t *labels,
                      int32_t *predictions, float *images);

/* Copies the meta-weights (and state) into a slot's model. */
void rp_meta_load_slot(reptile_meta *meta, rp_slot *slot);

/* A training task's inner loop on slot's drawn episode, continuing its
 * stream rng; leaves in the slot's model the weights the meta-update
 * averages (inner_loop.c). */
int rp_meta_inner_loop(reptile_meta *meta, rp_slot *slot, const reptile_dataset *ds, rp_rng *rng);

#endif
