/**
 * @file model_checkpoint.h
 * @brief Saving and loading models (safetensors files of kind "model").
 *
 * The file format, atomic writes and load-time validation are described in
 * reptile/checkpoint.h and docs/checkpoints.md.
 */
#ifndef REPTILE_MODEL_CHECKPOINT_H
#define REPTILE_MODEL_CHECKPOINT_H

#include "reptile/common.h"
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
REPTILE_END_DECLS

#endif /* REPTILE_MODEL_CHECKPOINT_H */
