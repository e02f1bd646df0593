/**
 * @file meta_checkpoint.h
 * @brief Saving and resuming meta-training states (kind "meta-state").
 *
 * The file format, atomic writes and load-time validation are described in
 * reptile/checkpoint.h and docs/checkpoints.md.
 */
#ifndef REPTILE_META_CHECKPOINT_H
#define REPTILE_META_CHECKPOINT_H

#include "reptile/common.h"
#include "reptile/meta.h"

REPTILE_BEGIN_DECLS

/**
 * @brief Save the complete training state of a meta-learner (kind
 *        "meta-state"): the model's architecture, parameters and moving
 *        statistics, the options (every numeric field; not the callbacks
 *        and their user pointers), the iteration counter and the inner optimizers' state
 *        (SGD velocity or Adam moments and step count, per task slot).
 *
 * Random streams are keyed by (seed, iteration, task) and hold no position
 * of their own: the seed and the iteration counter are the whole random
 * state. Call between iterations, for example from the progress callback
 * (which runs after each iteration). The file is also a valid model
 * checkpoint for reptile_model_load().
 * @param meta Meta-learner.
 * @param path File to create or replace, atomically.
 * @return 0, REPTILE_EINVAL, REPTILE_ENOMEM, REPTILE_EIO (@p path untouched).
 */
REPTILE_API int reptile_meta_save(const reptile_meta *meta, const char *path);

/**
 * @brief Restore a training state saved by reptile_meta_save() into a
 *        meta-learner, which then continues bit for bit as the saved run
 *        would have.
 *
 * @p meta must train a model of the same architecture, with the same
 * options as the saved run except `threads` (results do not depend on it)
 * and the callbacks (`progress`, `allreduce` and their user pointers);
 * reptile_meta_load_options() reads the saved options to create such a
 * meta-learner. In a data-parallel run every worker saves and resumes its
 * own file (its task slots' optimizer state is its own; `rank` and
 * `world_size` must match). On success the model's
 * parameters and statistics, the iteration counter and the optimizers'
 * state are replaced; on failure nothing is changed.
 * @param meta Meta-learner to restore into.
 * @param path File to read.
 * @return 0; REPTILE_EINVAL (NULL); REPTILE_ENOTFOUND / REPTILE_EIO;
 *         REPTILE_EFORMAT (malformed, corrupt, or a model file rather than
 *         a training state); REPTILE_EVERSION; REPTILE_ESHAPE (another
 *         architecture: the message names the first differing layer);
 *         REPTILE_ESTATE (an option differs: the message names it, with
 *         both values); REPTILE_ENOMEM.
 */
REPTILE_API int reptile_meta_resume(reptile_meta *meta, const char *path);

/**
 * @brief Read the options stored in a training state.
 *
 * Fills every field saved by reptile_meta_save(); `progress`,
 * `progress_user`, `allreduce` and `allreduce_user` are set to NULL (set
 * `allreduce` again before reptile_meta_new() when `world_size` > 1) and
 * `threads` keeps the saved value (change it freely). Nothing is written
 * on failure.
 * @param opts    Receives the options.
 * @param version REPTILE_META_OPTIONS_VERSION, or the older version the
 *                caller was compiled against: only that version's fields
 *                are written.
 * @param path    Training state file.
 * @return 0, REPTILE_EVERSION, or as reptile_meta_resume() for an
 *         unreadable file.
 */
REPTILE_API int reptile_meta_load_options(reptile_meta_options *opts, unsigned int version,
                                          const char *path);

REPTILE_END_DECLS

#endif /* REPTILE_META_CHECKPOINT_H */
