/**
 * @file checkpoint.h
 * @brief Saving and loading models and meta-training states.
 *
 * Files are safetensors (https://github.com/huggingface/safetensors): an
 * 8-byte little-endian header length, a UTF-8 JSON header naming each
 * tensor with its dtype, shape and byte range, then the raw little-endian
 * C-order data. NumPy, PyTorch and other safetensors readers load them
 * directly. The header's `__metadata__` holds the architecture (JSON),
 * the format and library versions, the kind of file and CRC-32 checksums.
 * docs/checkpoints.md describes the format field by field.
 *
 * Writes are atomic: the file is written to a temporary file in the same
 * folder, flushed to disk (fsync), then renamed over @p path, so an
 * interrupted or failed save never replaces a good checkpoint (a crash may
 * leave a stale `PATH.tmp.XXXXXX` behind). Loads validate everything
 * (truncation, foreign files, checksums, versions, shapes) before
 * allocating from or trusting the file, and fail with REPTILE_EFORMAT (or
 * REPTILE_EVERSION, REPTILE_ESHAPE, REPTILE_ESTATE) and a message saying
 * what is wrong.
 *
 * Threading: as for the handles involved (one thread per handle).
 */
#ifndef REPTILE_CHECKPOINT_H
#define REPTILE_CHECKPOINT_H

#include "reptile/common.h"
#include "reptile/meta.h"
#include "reptile/model.h"

REPTILE_BEGIN_DECLS

/**
 * @brief Save a model: architecture, parameters and BatchNorm moving
 *        statistics (kind "model").
 *
 * Tensors are named `layers.<i>.<kind>.<name>` after the layer index i
 * (ReLU and flatten layers count): `conv2d.kernel` [kh, kw, in, out] and
 * `conv2d.bias` [out]; `batchnorm.gamma`, `.beta`, `.moving_mean`,
 * `.moving_variance` [channels]; `dense.kernel` [in, out] and `dense.bias`
 * [out]; all float32.
 * @param model A model with all its layers (finalised if it was not).
 * @param path  File to create or replace, atomically.
 * @return 0, REPTILE_EINVAL (NULL or a model without layers),
 *         REPTILE_ENOMEM, REPTILE_EIO (with the reason; @p path untouched).
 */
REPTILE_API int reptile_model_save(const reptile_model *model, const char *path);

/**
 * @brief Load a model saved by reptile_model_save() (or the model inside a
 *        training state saved by reptile_meta_save()).
 *
 * The model is rebuilt layer by layer from the stored architecture, then
 * its parameters and moving statistics are set; predictions are bitwise
 * those of the saved model.
 * @param out  Receives the new model (free with reptile_model_free()); NULL
 *             on failure.
 * @param path File to read.
 * @return 0; REPTILE_EINVAL (NULL); REPTILE_ENOTFOUND / REPTILE_EIO (cannot
 *         open or read); REPTILE_EFORMAT (truncated, foreign, corrupt or
 *         inconsistent file: the message says which); REPTILE_EVERSION (a
 *         newer format_version than this library reads); REPTILE_ENOMEM.
 */
REPTILE_API int reptile_model_load(reptile_model **out, const char *path);

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
 * `threads` keeps the saved value (change it freely).
 * @param opts Receives the options (version REPTILE_META_OPTIONS_VERSION).
 * @param path Training state file.
 * @return 0, or as reptile_meta_resume() for an unreadable file.
 */
REPTILE_API int reptile_meta_load_options(reptile_meta_options *opts, const char *path);

REPTILE_END_DECLS

#endif /* REPTILE_CHECKPOINT_H */
