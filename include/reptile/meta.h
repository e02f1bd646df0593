/**
 * @file meta.h
 * @brief The Reptile meta-learner (Nichol, Achiam, Schulman 2018).
 *
 * One meta-iteration samples meta_batch training tasks, adapts a copy of the
 * weights to each with inner_iters epochs of the inner optimizer, and moves
 * the weights toward the mean adapted weights by the meta step, annealed
 * linearly from meta_step to meta_step_final over meta_iters iterations:
 *
 *     w <- w + eps_i * (mean_t(w_t) - w),  eps_i = meta_step + (i / meta_iters) * (meta_step_final - meta_step)
 *
 * Evaluation fine-tunes on a task's support set, classifies its queries and
 * restores the weights. All randomness comes from streams keyed by (seed,
 * iteration, task); results are bitwise identical for a seed whatever the
 * thread count.
 */
#ifndef REPTILE_META_H
#define REPTILE_META_H

#include "reptile/common.h"
#include "reptile/dataset.h"
#include "reptile/model.h"

REPTILE_BEGIN_DECLS

/** Opaque meta-learner. */
typedef struct reptile_meta reptile_meta;

/** What happens to the inner optimizer's state between tasks. */
enum reptile_optimizer_state {
    REPTILE_STATE_RESET = 0, /**< Fresh state for every task. */
    REPTILE_STATE_CARRY = 1  /**< Carried across tasks (the reference implementation). */
};

/** How query images are classified in evaluation (BatchNorm on batch statistics). */
enum reptile_eval_mode {
    /** Each query predicted in one batch with the whole support set: the
     *  BatchNorm statistics come from support + 1 image. */
    REPTILE_EVAL_NON_TRANSDUCTIVE = 0,
    /** All queries predicted in one batch. */
    REPTILE_EVAL_TRANSDUCTIVE = 1
};

/** Progress report handed to reptile_meta_options::progress. */
typedef struct reptile_progress {
    int iteration;        /**< Meta-iterations completed so far, this one included (the tutorial's meta_iter + 1). */
    int total;            /**< Value iteration reaches at the end of this reptile_meta_train() call. */
    float meta_step;      /**< Meta step used at this iteration. */
    int evaluated;        /**< 1 when train/test accuracies were measured this iteration. */
    float train_accuracy; /**< Accuracy on one train-split task (if evaluated). */
    float test_accuracy;  /**< Accuracy on one test-split task (if evaluated and a test set was given). */
    double elapsed_s;     /**< Seconds since the start of this run. */
} reptile_progress;

/**
 * Progress callback: called after every meta-iteration of
 * reptile_meta_train(). Return 0 to continue, non-zero to stop early (the
 * run then returns 0 with the iterations done so far).
 */
typedef int (*reptile_progress_fn)(const reptile_progress *progress, void *user);

/**
 * Sums @p count floats over all workers, in place, and leaves the same sum
 * on every worker (MPI_Allreduce with MPI_SUM does exactly this). Return 0,
 * or non-zero on failure (the meta-iteration then fails with REPTILE_EIO).
 */
typedef int (*reptile_allreduce_fn)(float *data, size_t count, void *user);

/** Version of reptile_meta_options this header describes. */
#define REPTILE_META_OPTIONS_VERSION 1

/**
 * Meta-learning options. Initialise with reptile_meta_options_init() or a
 * preset; fields are only ever appended, so code compiled against an older
 * header keeps working (set version to the version you compiled against).
 */
typedef struct reptile_meta_options {
    unsigned int version;   /**< REPTILE_META_OPTIONS_VERSION. */

    int ways;               /**< Classes per task (N). */
    int train_shots;        /**< Support images per class in a training task. */
    int inner_batch;        /**< Inner-loop batch size. */
    int inner_iters;        /**< Inner-loop length: epochs over a training task's support set, or SGD steps when iters_are_steps is set. */
    int meta_batch;         /**< Training tasks per meta-iteration. */
    int meta_iters;         /**< Length of the annealing schedule (iterations). */
    float meta_step;        /**< Meta step at iteration 0. */
    float meta_step_final;  /**< Meta step reached at iteration meta_iters. */

    int optimizer;          /**< enum reptile_optimizer_kind. */
    float lr;               /**< Inner learning rate. */
    float momentum;         /**< SGD momentum. */
    float beta1;            /**< Adam first-moment decay (0 in the paper). */
    float beta2;            /**< Adam second-moment decay. */
    float adam_eps;         /**< Adam epsilon. */
    int optimizer_state;    /**< enum reptile_optimizer_state. */
    int reduction;          /**< enum reptile_reduction. */
    int keras_clip;         /**< Keras' probability clipping in the loss. */
    int bn_mode;            /**< enum reptile_bn_mode for inner steps and evaluation. */
    int with_replacement;   /**< Sample classes and images with replacement (the tutorial's random.choices). */

    int eval_shots;         /**< Support images per class in an evaluation task. */
    int eval_batch;         /**< Fine-tuning batch size. */
    int eval_iters;         /**< Fine-tuning length: epochs over the support set, or steps when iters_are_steps is set. */
    int iters_are_steps;    /**< 0: inner_iters/eval_iters count epochs, each a fresh shuffle cut into batches, the last one partial (the tutorial's shuffle().batch().repeat()); 1: they count SGD steps of full batches cycling through reshuffled images (the reference implementation). */
    int eval_mode;          /**< enum reptile_eval_mode (only matters with REPTILE_BN_BATCH). */
    int keras_argmax;       /**< Score as the tutorial does: argmax over the query axis (axis 0). */
    int eval_interval;      /**< reptile_meta_train(): evaluate every this many iterations (0 = never). */

    uint64_t seed;          /**< Seed of every random stream. */
    int threads;            /**< Worker threads (>= 1). Results do not depend on it, nor on OpenBLAS's
                                 own thread count: while a model computes, OpenBLAS runs on one thread
                                 (the library's threads split the work); the caller's setting is
                                 restored when no libreptile computation is running (see
                                 docs/architecture.md, also for OpenBLAS's OpenMP build). */

    reptile_progress_fn progress; /**< Optional progress callback. */
    void *progress_user;          /**< Passed to progress. */

    /** Data-parallel meta-training over several processes (for example
     *  MPI ranks): each of world_size workers runs meta_batch tasks per
     *  iteration, task streams keyed by the global task index
     *  rank * meta_batch + t, so all workers together draw exactly the tasks
     *  one process with meta_batch * world_size would. The summed adapted
     *  weights are combined through allreduce. NULL with world_size 1 =
     *  single process (the default). */
    reptile_allreduce_fn allreduce;
    void *allreduce_user;   /**< Passed to allreduce. */
    int rank;               /**< This worker's index, 0..world_size-1 (default 0). */
    int world_size;         /**< Number of workers (default 1). */
} reptile_meta_options;

/**
 * @brief Fill @p opts with the defaults (the keras-tutorial preset).
 * @param opts    Options to fill.
 * @param version REPTILE_META_OPTIONS_VERSION (or an older version: only
 *                that version's fields are written).
 * @return 0, REPTILE_EINVAL (NULL), REPTILE_EVERSION (unknown version).
 */
REPTILE_API int reptile_meta_options_init(reptile_meta_options *opts, unsigned int version);

/**
 * @brief Fill @p opts with a named preset.
 *
 * - "keras-tutorial": the tutorial as coded: 5-way, 20 train shots, inner
 *   batch 25 x 4 epochs (16 SGD steps), lr 0.003, meta step 0.25 annealed to
 *   0 over 2,000 iterations, meta-batch 1, sampling with replacement, sum
 *   loss with Keras clipping, BatchNorm frozen, 5-shot evaluation with 5
 *   fine-tuning steps of 25.
 * - "reference-tutorial": the same budget with the reference
 *   implementation's semantics: sampling without replacement, BatchNorm on
 *   batch statistics, no Keras clipping, non-transductive evaluation. The
 *   loss stays the tutorial's sum over the batch (with its learning rate
 *   0.003; a mean would need a 25x larger one).
 * - "paper-omniglot-5way" / "paper-omniglot-20way": the paper's settings
 *   (Adam beta1 0, state carried, meta-batch 5, meta step 1 -> 0, batch
 *   statistics, 100,000 / 200,000 iterations, 50 fine-tuning steps).
 * @return 0, REPTILE_EINVAL (NULL), REPTILE_ENOTFOUND (unknown name; the
 *         message lists the known ones), REPTILE_EVERSION.
 */
REPTILE_API int reptile_meta_options_preset(reptile_meta_options *opts, unsigned int version,
                                            const char *name);

/**
 * @brief Check options without creating anything.
 * @return 0 or REPTILE_EINVAL / REPTILE_EVERSION with a message naming the field.
 */
REPTILE_API int reptile_meta_options_validate(const reptile_meta_options *opts);

/**
 * @brief Create a meta-learner that trains @p model in place.
 * @param out   Receives the meta-learner; NULL on failure.
 * @param model Borrowed: must outlive the meta-learner and not be used
 *              elsewhere meanwhile. Its parameters are the meta-weights.
 * @param opts  Copied; validated as by reptile_meta_options_validate().
 * @return 0, REPTILE_EINVAL (also for an unknown REPTILE_GEMM value in the
 *         environment), REPTILE_EUNSUPPORTED (REPTILE_GEMM=native on a CPU
 *         without AVX-512F), REPTILE_EVERSION, REPTILE_ENOMEM, REPTILE_ETHREAD.
 */
REPTILE_API int reptile_meta_new(reptile_meta **out, reptile_model *model,
                                 const reptile_meta_options *opts);

/**
 * @brief Run one meta-iteration on tasks from @p train.
 * @return 0; REPTILE_ESHAPE (the data set's images are not the model's
 *         input shape: nothing is read or changed); REPTILE_EDATA (too few
 *         classes/images for the task shape); REPTILE_EDIVERGED (NaN/Inf:
 *         the model keeps the last good weights).
 */
REPTILE_API int reptile_meta_step(reptile_meta *meta, const reptile_dataset *train);

/**
 * @brief Meta-train for @p iterations iterations (continuing the schedule
 *        from the current iteration), evaluating one task of @p train and
 *        one of @p test (may be NULL) every eval_interval iterations, and
 *        reporting through the progress callback.
 * @return As reptile_meta_step(); REPTILE_ESHAPE names the train or the
 *         test set, checked before the first iteration.
 */
REPTILE_API int reptile_meta_train(reptile_meta *meta, const reptile_dataset *train,
                                   const reptile_dataset *test, int iterations);

/** @brief Meta-iterations completed so far. */
REPTILE_API int reptile_meta_iteration(const reptile_meta *meta);

/**
 * @brief Accuracy on one evaluation task: fine-tune on its support set,
 *        classify its queries (one per class), restore the weights.
 * @param meta        The meta-learner (its weights are restored afterwards).
 * @param ds          Data set the task is drawn from.
 * @param task_index  Selects the task: the same index gives the same task.
 * @param accuracy    Receives correct / ways (per-image argmax, or the
 *                    tutorial's axis-0 argmax when keras_argmax is set).
 * @param labels      Optional (may be NULL): receives the ways query labels.
 * @param predictions Optional: receives the ways per-image predictions.
 * @param images      Optional: receives the ways query images (NHWC floats).
 * @return 0, REPTILE_EDATA, REPTILE_EINVAL, REPTILE_ESHAPE (image shape).
 */
REPTILE_API int reptile_meta_evaluate_task(reptile_meta *meta, const reptile_dataset *ds,
                                           uint64_t task_index, float *accuracy,
                                           int32_t *labels, int32_t *predictions, float *images);

/**
 * @brief Mean accuracy over @p tasks evaluation tasks (indices 0..tasks-1,
 *        scored with per-image argmax) and its 95% confidence interval
 *        (1.96 standard errors).
 * @param meta  The meta-learner.
 * @param ds    Data set the tasks are drawn from.
 * @param tasks Number of tasks (>= 1).
 * @param ways  Classes per task (0 = the options' ways).
 * @param shots Support images per class (0 = the options' eval_shots).
 * @param mean  Receives the mean accuracy.
 * @param ci95  Receives the 95% confidence half-width (may be NULL).
 * @return 0, REPTILE_EINVAL, REPTILE_EDATA, REPTILE_ESHAPE (image shape).
 */
REPTILE_API int reptile_meta_evaluate(reptile_meta *meta, const reptile_dataset *ds, int tasks,
                                      int ways, int shots, double *mean, double *ci95);

/** @brief The options in force (a copy the meta-learner owns). */
REPTILE_API const reptile_meta_options *reptile_meta_get_options(const reptile_meta *meta);

/** @brief Free the meta-learner (not the model). NULL is a no-op. */
REPTILE_API void reptile_meta_free(reptile_meta *meta);

REPTILE_END_DECLS

#endif /* REPTILE_META_H */
