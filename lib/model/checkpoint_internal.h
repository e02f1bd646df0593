/* Checkpoint plumbing shared by model and meta-learner files: the common
 * __metadata__ (format, versions, kind, architecture), the model tensors,
 * and their validation. See docs/checkpoints.md for the format. */
#ifndef RP_MODEL_CHECKPOINT_INTERNAL_H
#define RP_MODEL_CHECKPOINT_INTERNAL_H

#include "reptile/model.h"
#include "core/safetensors.h"

#define RP_CKPT_FORMAT "libreptile"
/* Bumped on any change an older reader would misread or reject; readers
 * reject versions newer than theirs (REPTILE_EVERSION). A writer writes the
 * lowest version that describes its file, so that older readers keep
 * reading every file that uses nothing newer. Version 2 added maxpool2d
 * layers. */
#define RP_CKPT_FORMAT_VERSION 2
#define RP_CKPT_VERSION_MAXPOOL 2

#define RP_CKPT_KIND_MODEL "model"
#define RP_CKPT_KIND_META "meta-state"

/* New writer holding the common metadata and the model's parameters and
 * state (borrowed: write before the model changes). */
int rp_ckpt_writer_new(rp_st_writer **out, const reptile_model *m, const char *kind);

/* Checks format, format_version, checksums and kind (NULL: either kind). */
int rp_ckpt_check(const rp_st_file *f, const char *kind);

/* Builds the model the file's architecture describes and fills its
 * parameters and state from the file's tensors (marked used). */
int rp_ckpt_read_model(reptile_model **out, rp_st_file *f);

/* REPTILE_ESHAPE naming the first layer where the two models differ. */
int rp_ckpt_same_architecture(const reptile_model *have, const reptile_model *file_model,
                              const char *what);

/* reptile_model_load on an in-memory image (the fuzz target's entry). */
int rp_model_load_memory(reptile_model **out, const void *data, size_t size, const char *what);

#endif
