#ifndef RP_META_INTERNAL_H
#define RP_META_INTERNAL_H

#include "reptile/meta.h"
#include "core/error_internal.h"
#include "core/chain_plan.h"
#include "core/pool.h"
#include "core/rng.h"
#include "data/sampler.h"
#include "model/finetune.h"
#include "model/optimizer_internal.h"

#include <stdatomic.h>

/* Stream domains: core/rng.h (enum rp_stream_domain). */

/* One worker context: a model copy, its optimizer, episode and buffers. */
typedef struct rp_slot {
    reptile_model *model;
    reptile_optimizer *opt;       /* inner loop of this task slot (state carried per slot) */
    reptile_optimizer *eval_opt;  /* fine-tuning: starts from slot 0's state or fresh */
                                  /* (training: rp_slot_optimizer() picks the one to step) */
    rp_episode train_ep;
    rp_episode eval_ep;           /* an evaluation task's draw (its order is rp_finetune's) */
    rp_task_buffers task;         /* a task's images (training or evaluation), scratch, probabilities */
    float *before_last;           /* FOMAML: weights before the last inner step */
    float *tail_x;                /* FOMAML with foml_tail: the final batch */
    int32_t *tail_y, *tail_idx;
    /* a training task in progress, continued by whichever thread runs its
     * next steps (task_schedule.c) */
    rp_rng rng;
    rp_finetune_run run;
    int tail_pending;             /* FOMAML's tail step is still to run */
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
    rp_chain_segment *plan; /* rp_meta_run_tasks's: RP_CHAIN_PLAN_MAX(n_slots, threads) */
    atomic_int *steps_done; /* per slot: steps of its training task finished */
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

/* The inner optimizer a training task steps: its slot's, or with one state
 * chained through every task (REPTILE_STATE_CHAIN) slot 0's, which the
 * tasks then use one after another. */
static inline reptile_optimizer *rp_slot_optimizer(const reptile_meta *meta, rp_slot *slot)
{
    return meta->opts.optimizer_state == REPTILE_STATE_CHAIN ? meta->slots[0].opt : slot->opt;
}

/* Whether training carries an optimizer state, which evaluation and
 * learners then start from (slot 0's, for carry and chain alike). */
static inline int rp_meta_state_carried(const reptile_meta_options *o)
{
    return o->optimizer_state != REPTILE_STATE_RESET;
}

/* Record a failure inside a worker. */
void rp_slot_fail(rp_slot *slot, int rc);
/* The first failure recorded in slots 0..n-1, re-raised on the calling
 * thread (0: none). */
int rp_meta_slot_failure(reptile_meta *meta, int n);

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

/* A training task's inner loop (inner_loop.c), run a few steps at a time:
 * rp_meta_task_begin gathers slot's drawn episode and starts the loop on
 * the stream slot->rng; rp_meta_task_steps runs the next `count` of its
 * rp_meta_task_step_count steps and, after the last, leaves in the slot's
 * model the weights the meta-update averages. */
int rp_meta_task_step_count(const reptile_meta_options *o);
void rp_meta_task_begin(reptile_meta *meta, rp_slot *slot, const reptile_dataset *ds);
int rp_meta_task_steps(reptile_meta *meta, rp_slot *slot, int count);

/* Runs `tasks` training tasks of `steps` steps on slots 0..tasks-1, cut
 * at step boundaries over the threads (core/chain_plan.h):
 * fn(meta, task, first, count, ctx) runs steps [first, first + count) of
 * a task, after its earlier steps, on any thread. Errors as
 * rp_meta_run_slots. */
typedef void (*rp_task_segment_fn)(reptile_meta *meta, int task, int first, int count,
                                   void *ctx);
int rp_meta_run_tasks(reptile_meta *meta, int tasks, int steps, rp_task_segment_fn fn, void *ctx);

#endif
