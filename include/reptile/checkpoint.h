/**
 * @file checkpoint.h
 * @brief Saving and loading models and meta-training states: the file
 *        format (this page), reptile/model_checkpoint.h and
 *        reptile/meta_checkpoint.h.
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

/* The model's and the meta-learner's checkpoint functions live in their
 * modules' headers; this header includes both. */
#include "reptile/model_checkpoint.h"
#include "reptile/meta_checkpoint.h"

#endif /* REPTILE_CHECKPOINT_H */
