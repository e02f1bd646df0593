/**
 * @file meta_options.h
 * @brief Options of the Reptile meta-learner: the versioned struct, its
 *        presets, validation, and access by name.
 */
#ifndef REPTILE_META_OPTIONS_H
#define REPTILE_META_OPTIONS_H

#include "reptile/common.h"
#include "reptile/model.h" /* the enums the options take: optimizer kinds, reductions, BatchNorm modes */

REPTILE_BEGIN_DECLS

/** What happens to the inner optimizer's state between tasks. */
enum reptile_optimizer_state {
    REPTILE_STATE_RESET = 0, /**< Fresh state for every task. */
    REPTILE_STATE_CARRY = 1, /**< Carried across tasks, one state per task of a meta-batch
                                  (task t continues task t's state of the last iteration),
                                  so that the tasks run in parallel. */
    REPTILE_STATE_CHAIN = 2  /**< One state carried through every task in turn, as the
                                  reference implementation's single AdamOptimizer: a
                                  meta-batch's tasks run one after another (one thread per
                                  step; slower with several threads). */
};

/** The meta-update (reptile_meta_options::algorithm). */
enum reptile_algorithm {
    /** Move the weights toward the mean adapted weights (Nichol et al.). */
    REPTILE_ALGORITHM_REPTILE = 0,
    /** First-order MAML: move them along the mean of each task's last
     *  inner step, as the reference implementation's --foml does. */
    REPTILE_ALGORITHM_FOMAML = 1
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
#define REPTILE_META_OPTIONS_VERSION 2

/**
 * Meta-learning options. Initialise with reptile_meta_options_init() or
 * reptile_meta_options_preset(), then change fields (or set them by name
 * with reptile_meta_options_set()). Fields are only ever appended: a caller
 * compiled against an older header passes its own version, and the library
 * reads and writes only that version's fields, using the defaults for the
 * rest (docs/abi.md).
 *
 * Each option's bounds, default, unit and help text are listed at run time
 * by reptile_meta_option_info(); docs/options.md has the same table.
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

    /* ---- version 2 (libreptile 0.2) ---- */
    int algorithm;          /**< enum reptile_algorithm (default REPTILE_ALGORITHM_REPTILE). */
    /** FOMAML only. 0 (default): the update is the last inner mini-batch's
     *  step. N > 0 (the reference's --foml-tail N): the first N support
     *  images of each class are held out of the inner loop, which runs
     *  inner_iters - 1 steps or epochs on the rest, and form the final
     *  batch whose step is the update. Needs N < train_shots. */
    int foml_tail;
} reptile_meta_options;

/**
 * @brief Fill @p opts with the defaults: the reference implementation's
 *        semantics with the paper's 5-way Omniglot settings (the
 *        "paper-omniglot-5way" preset), the place to start on new data.
 * @param opts    Options to fill.
 * @param version REPTILE_META_OPTIONS_VERSION, or the older version the
 *                caller was compiled against: only that version's fields
 *                are written.
 * @return 0, REPTILE_EINVAL (NULL), REPTILE_EVERSION (unknown version).
 */
REPTILE_API int reptile_meta_options_init(reptile_meta_options *opts, unsigned int version);

/**
 * @brief Fill @p opts with a named preset (docs/options.md lists every
 *        preset's values).
 *
 * - "paper-omniglot-5way" (the defaults) / "paper-omniglot-20way": Nichol
 *   et al.'s Omniglot settings with the reference implementation's
 *   semantics: Adam with beta1 0 and its state carried across tasks, mean
 *   loss, BatchNorm on batch statistics, sampling without replacement,
 *   meta-batch 5, meta step 1 -> 0 over 100,000 / 200,000 iterations,
 *   inner and fine-tuning lengths counted in SGD steps, 50 fine-tuning
 *   steps, non-transductive evaluation.
 * - "paper-miniimagenet-5way": Nichol et al.'s Mini-ImageNet settings for
 *   reptile_model_new_miniimagenet(), with the same semantics: 15 train
 *   shots, 8 inner steps of 10 images, meta-batch 5, Adam lr 0.001 with
 *   beta1 0, meta step 1 -> 0 over 100,000 iterations, 50 fine-tuning
 *   steps of 15 images (the reference's 5-shot command; its 1-shot
 *   command fine-tunes on batches of 5: set eval_batch 5 for 1-shot, as
 *   reptile-eval does).
 * - "keras-tutorial": the Keras tutorial as coded: 5-way, 20 train shots,
 *   inner batch 25 x 4 epochs, SGD lr 0.003, meta step 0.25 -> 0 over 2,000
 *   iterations, meta-batch 1, sampling with replacement, sum loss with
 *   Keras clipping, BatchNorm frozen, 5-shot evaluation with 5 fine-tuning
 *   epochs.
 * - "reference-tutorial": the keras-tutorial budget with the reference
 *   semantics: sampling without replacement, BatchNorm on batch
 *   statistics, no Keras clipping, non-transductive evaluation. The loss
 *   stays the tutorial's sum over the batch (with its learning rate 0.003;
 *   a mean would need a 25x larger one).
 * @return 0, REPTILE_EINVAL (NULL), REPTILE_ENOTFOUND (unknown name; the
 *         message lists the known ones), REPTILE_EVERSION.
 */
REPTILE_API int reptile_meta_options_preset(reptile_meta_options *opts, unsigned int version,
                                            const char *name);

/** @brief Name of preset @p index (0, 1, ...), or NULL past the last one. */
REPTILE_API const char *reptile_meta_preset_name(int index);

/**
 * @brief Check options without creating anything.
 * @return 0 or REPTILE_EINVAL / REPTILE_EVERSION with a message naming the
 *         field, its bounds and the value.
 */
REPTILE_API int reptile_meta_options_validate(const reptile_meta_options *opts);

/* ---- options by name ------------------------------------------------------ */

/** The kind of value an option holds (reptile_option_info::type). */
enum reptile_option_type {
    REPTILE_OPTION_INT = 0,    /**< int within [min, max]. */
    REPTILE_OPTION_FLOAT = 1,  /**< float within the bounds (finite). */
    REPTILE_OPTION_UINT64 = 2, /**< uint64_t, any value. */
    REPTILE_OPTION_BOOL = 3,   /**< int, 0 or 1. */
    REPTILE_OPTION_ENUM = 4    /**< int, 0..max, each value named in reptile_option_info::values. */
};

/** reptile_option_info::flags: a resumed run must have the saved value (the
 *  option shapes training; threads and the evaluation settings do not). */
#define REPTILE_OPTION_MATCH_RESUME 1u
/** reptile_option_info::flags: every data-parallel worker must have the same value. */
#define REPTILE_OPTION_MATCH_WORKERS 2u

/**
 * Description of one field of reptile_meta_options, owned by the library
 * (static; fields are only ever appended). Command-line front ends,
 * bindings and configuration readers build on it instead of repeating the
 * option list.
 */
typedef struct reptile_option_info {
    const char *name;      /**< The field's name, e.g. "inner_iters". */
    int type;              /**< enum reptile_option_type. */
    double min, max;       /**< Bounds (INT, FLOAT, BOOL, ENUM). */
    int min_open, max_open;/**< Non-zero: that bound is excluded. */
    unsigned int flags;    /**< REPTILE_OPTION_MATCH_RESUME | REPTILE_OPTION_MATCH_WORKERS. */
    const char *values;    /**< ENUM: the values' names in order, comma-separated
                                ("sgd,adam"); NULL otherwise. */
    const char *unit;      /**< What the number counts ("images", "iterations"), or NULL. */
    const char *help;      /**< One line saying what it does. */
    unsigned int since;    /**< First reptile_meta_options version with the field. */
} reptile_option_info;

/** @brief Number of options (fields described by reptile_meta_option_info()). */
REPTILE_API int reptile_meta_option_count(void);

/** @brief Option @p index (0 .. count-1), or NULL (out of range). */
REPTILE_API const reptile_option_info *reptile_meta_option_info(int index);

/**
 * @brief Set the option @p name (field name; '-' may stand for '_') from
 *        text, as a command line or a configuration file gives it.
 *
 * Integers and seeds are decimal; floats are read with strtod() and must be
 * finite, within bounds and not vanish when rounded to float; booleans are
 * 0 or 1; enums take a value name ("adam") or its number. Nothing is
 * changed on failure.
 * @return 0; REPTILE_ENOTFOUND (no such option: the message suggests the
 *         known names); REPTILE_EINVAL (bad value: the message names the
 *         option, its bounds or values, and the text); REPTILE_EVERSION (the
 *         option is newer than opts->version).
 */
REPTILE_API int reptile_meta_options_set(reptile_meta_options *opts, const char *name,
                                         const char *value);

/**
 * @brief Write option @p name's value as text (enums by name, floats with
 *        enough digits to read back the same float) into @p buf.
 * @return 0; REPTILE_ENOTFOUND; REPTILE_EINVAL (NULL argument or @p size
 *         too small); REPTILE_EVERSION.
 */
REPTILE_API int reptile_meta_options_get(const reptile_meta_options *opts, const char *name,
                                         char *buf, size_t size);

REPTILE_END_DECLS

#endif /* REPTILE_META_OPTIONS_H */
