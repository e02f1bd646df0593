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
#include "reptile/meta_options.h"
#include "reptile/model.h"

REPTILE_BEGIN_DECLS

/** Opaque meta-learner. */
typedef struct reptile_meta reptile_meta;

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
