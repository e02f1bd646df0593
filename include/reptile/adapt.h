/**
 * @file adapt.h
 * @brief Adaptation: a meta-trained model learns a new task from a few
 *        labelled images held in memory, then classifies new images.
 *
 * A reptile_learner holds meta-trained weights and the settings that adapt
 * them (a reptile_meta_options: eval_iters, eval_batch, iters_are_steps,
 * optimizer and its learning rate and betas, optimizer_state, reduction,
 * keras_clip, bn_mode), and, for meta-learners that carry their optimizer
 * state across tasks (the paper presets), the state adaptation starts
 * from. It never changes once made: one learner may be shared read-only by
 * any number of threads, each adapting its own tasks.
 *
 * reptile_learner_adapt() fine-tunes a copy of the weights on a support set
 * and returns a reptile_adapted, which classifies queries. The
 * meta-learner's own evaluation (reptile_meta_evaluate_task()) runs this
 * very path, so for the same task and seed the two give bitwise the same
 * probabilities.
 *
 *     reptile_learner *l;
 *     reptile_learner_load(&l, "omniglot.safetensors");
 *     reptile_adapted *a;
 *     reptile_learner_adapt(l, &a, support, labels, 25, 5, 1);
 *     reptile_adapted_predict(a, query, 1, REPTILE_PREDICT_WITH_SUPPORT, probs);
 *
 * docs/applications.md walks through it, in C and C++.
 */
#ifndef REPTILE_ADAPT_H
#define REPTILE_ADAPT_H

#include "reptile/common.h"
#include "reptile/meta.h"
#include "reptile/model.h"

REPTILE_BEGIN_DECLS

/** Opaque meta-trained learner (immutable, shareable across threads). */
typedef struct reptile_learner reptile_learner;

/** Opaque model adapted to one task (one thread at a time). */
typedef struct reptile_adapted reptile_adapted;

/** How reptile_adapted_predict() forms its batches. */
enum reptile_predict_mode {
    /** Each query in one batch with the whole support set, so BatchNorm on
     *  batch statistics sees the support set + 1 image, as in meta-training
     *  (the reference implementation's non-transductive evaluation). Right
     *  for queries that arrive one at a time. */
    REPTILE_PREDICT_WITH_SUPPORT = 0,
    /** All queries of the call in one batch (the paper's transductive
     *  setting); a query's result then depends on the others. */
    REPTILE_PREDICT_TRANSDUCTIVE = 1
};

/**
 * @brief A learner from a model and adaptation settings (copied).
 * @param out   Receives the learner; NULL on failure.
 * @param model Meta-trained model (cloned: the learner does not keep it).
 * @param opts  Adaptation settings: the fields listed in the file comment
 *              are used; validated as by reptile_meta_options_validate().
 *              With no saved state, optimizer_state CARRY starts fresh.
 * @return 0, REPTILE_EINVAL, REPTILE_EVERSION, REPTILE_ENOMEM.
 */
REPTILE_API int reptile_learner_new(reptile_learner **out, const reptile_model *model,
                                    const reptile_meta_options *opts);

/**
 * @brief A learner from a meta-learner's current weights, options and (with
 *        REPTILE_STATE_CARRY) the carried optimizer state its evaluation
 *        starts from.
 * @return 0, REPTILE_EINVAL, REPTILE_ENOMEM.
 */
REPTILE_API int reptile_learner_from_meta(reptile_learner **out, const reptile_meta *meta);

/**
 * @brief Load a learner from a file.
 *
 * A training state (reptile_meta_save(), reptile-omniglot --checkpoint)
 * carries everything: weights, settings and the carried optimizer state.
 * A model file (reptile_model_save(), also the 0.1 format) has weights only:
 * the settings are then the defaults of reptile_meta_options_init() (the
 * paper's: 50 Adam steps of 5 images, lr 0.001, beta1 0, mean loss, batch
 * statistics); use reptile_learner_new() to choose others.
 * @return 0, or as reptile_model_load() / reptile_meta_load_options().
 */
REPTILE_API int reptile_learner_load(reptile_learner **out, const char *path);

/**
 * @brief A learner on @p learner's weights with other adaptation settings.
 *
 * The saved optimizer state comes along when @p opts still carry the
 * state (optimizer_state REPTILE_STATE_CARRY) with the same optimizer
 * (kind, and for SGD whether momentum is used): only the hyperparameters
 * then change (for example lr, eval_iters, eval_batch). Otherwise the new
 * learner starts adaptation fresh.
 * @return 0, REPTILE_EINVAL, REPTILE_EVERSION, REPTILE_ENOMEM.
 */
REPTILE_API int reptile_learner_with_options(reptile_learner **out, const reptile_learner *learner,
                                             const reptile_meta_options *opts);

/** @brief The learner's adaptation settings. */
REPTILE_API const reptile_meta_options *reptile_learner_options(const reptile_learner *learner);

/** @brief The learner's meta-trained model (read-only). */
REPTILE_API const reptile_model *reptile_learner_model(const reptile_learner *learner);

/** @brief 1 if adaptation starts from a saved optimizer state, else 0. */
REPTILE_API int reptile_learner_has_saved_state(const reptile_learner *learner);

/** @brief Free the learner. NULL is a no-op. */
REPTILE_API void reptile_learner_free(reptile_learner *learner);

/**
 * @brief Adapt a copy of the learner's weights to a task: fine-tune on the
 *        support set as the settings say.
 *
 * Safe to call from many threads at once on one learner.
 * @param learner The learner (not modified).
 * @param out     Receives the adapted model; NULL on failure.
 * @param support n images, NHWC floats of the model's input shape.
 * @param labels  n labels in 0 .. ways-1; every label should have images.
 * @param n       Number of support images (>= 1).
 * @param ways    Classes of the task, 2 .. the model's outputs.
 * @param seed    Seed of the fine-tuning's batch order (the same seed gives
 *                the same result; reptile_dataset_sample_task() returns the
 *                one the meta-learner's evaluation uses).
 * @return 0, REPTILE_EINVAL (NULL, bad n, ways or label), REPTILE_ENOMEM,
 *         REPTILE_EDIVERGED.
 */
REPTILE_API int reptile_learner_adapt(const reptile_learner *learner, reptile_adapted **out,
                                      const float *support, const int32_t *labels, int n,
                                      int ways, uint64_t seed);

/**
 * @brief Class probabilities of @p count query images.
 * @param adapted The adapted model.
 * @param queries count images, NHWC.
 * @param count   >= 1.
 * @param mode    enum reptile_predict_mode. With moving or frozen BatchNorm
 *                statistics both modes give the same per-image results.
 * @param probs   Receives count rows of reptile_model_num_outputs() floats
 *                (columns past the task's ways belong to no class).
 * @return 0, REPTILE_EINVAL, REPTILE_ENOMEM, REPTILE_EDIVERGED.
 */
REPTILE_API int reptile_adapted_predict(reptile_adapted *adapted, const float *queries, int count,
                                        int mode, float *probs);

/** @brief Classes of the task the model was adapted to. */
REPTILE_API int reptile_adapted_ways(const reptile_adapted *adapted);

/** @brief Free the adapted model. NULL is a no-op. */
REPTILE_API void reptile_adapted_free(reptile_adapted *adapted);

REPTILE_END_DECLS

#endif /* REPTILE_ADAPT_H */
