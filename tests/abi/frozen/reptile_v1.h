/* A frozen copy of version 1 of the option structs (libreptile 0.2.0) and
 * the declarations that take them, as an application compiled against
 * that header sees them. Never edit: the test that includes it proves that
 * such a caller keeps working with the current library (docs/abi.md). */
#ifndef RP_FROZEN_V1_H
#define RP_FROZEN_V1_H

#include <stddef.h>
#include <stdint.h>

typedef struct reptile_meta reptile_meta;
typedef struct reptile_model reptile_model;
typedef struct reptile_dataset reptile_dataset;

typedef struct v1_progress {
    int iteration, total;
    float meta_step;
    int evaluated;
    float train_accuracy, test_accuracy;
    double elapsed_s;
} v1_progress;

typedef struct v1_meta_options {
    unsigned int version;
    int ways, train_shots, inner_batch, inner_iters, meta_batch, meta_iters;
    float meta_step, meta_step_final;
    int optimizer;
    float lr, momentum, beta1, beta2, adam_eps;
    int optimizer_state, reduction, keras_clip, bn_mode, with_replacement;
    int eval_shots, eval_batch, eval_iters, iters_are_steps, eval_mode, keras_argmax;
    int eval_interval;
    uint64_t seed;
    int threads;
    int (*progress)(const v1_progress *progress, void *user);
    void *progress_user;
    int (*allreduce)(float *data, size_t count, void *user);
    void *allreduce_user;
    int rank, world_size;
} v1_meta_options;

typedef struct v1_image_options {
    unsigned int version;
    int height, width, filter, invert, rotations, channels, threads;
} v1_image_options;

int reptile_meta_options_init(v1_meta_options *opts, unsigned int version);
int reptile_meta_options_preset(v1_meta_options *opts, unsigned int version, const char *name);
int reptile_meta_options_validate(const v1_meta_options *opts);
int reptile_meta_new(reptile_meta **out, reptile_model *model, const v1_meta_options *opts);
int reptile_meta_step(reptile_meta *meta, const reptile_dataset *train);
int reptile_meta_save(const reptile_meta *meta, const char *path);
int reptile_meta_load_options(v1_meta_options *opts, unsigned int version, const char *path);
void reptile_meta_free(reptile_meta *meta);

int reptile_image_options_init(v1_image_options *opts, unsigned int version);
int reptile_dataset_open_folder(reptile_dataset **out, const char *root,
                                const v1_image_options *opts);
int reptile_dataset_from_memory(reptile_dataset **out, const float *images_nhwc,
                                const int32_t *labels, int n, int h, int w, int c);
int reptile_dataset_num_classes(const reptile_dataset *ds);
void reptile_dataset_free(reptile_dataset *ds);

#endif
