/* Internal view of a data set, shared by the loaders, the sampler and the
 * meta-learner (which forms batches with rp_dataset_gather()). */
#ifndef RP_DATA_DATASET_INTERNAL_H
#define RP_DATA_DATASET_INTERNAL_H

#include "reptile/dataset.h"

#include <stdint.h>

typedef struct rp_class {
    const char *alphabet;   /* Omniglot alphabet, NULL for other sets */
    const char *character;  /* Omniglot character folder / class folder name; NULL for memory sets */
    int id;                 /* Omniglot character id, memory-set label, -1 otherwise */
    int rotation;           /* degrees counter-clockwise: 0, 90, 180, 270 */
    int32_t first;          /* global index of the class's first image */
    int32_t count;          /* images in the class */
} rp_class;

struct reptile_dataset {
    int h, w, c;
    int n_classes;
    int32_t n_images;        /* global images (rotated copies count) */
    rp_class *classes;       /* [n_classes] */
    int32_t *stored;         /* [n_images] stored image behind each global image */
    uint8_t *quarter_turns;  /* [n_images] rotation applied on access, 0..3 */
    int32_t n_stored;
    uint8_t *pix8;           /* [n_stored * h*w*c], value = lrintf(v * 255), or NULL */
    float *pixf;             /* [n_stored * h*w*c] for memory sets, or NULL */
    char **strings;          /* owned names the classes point into */
    int n_strings;
};

/* Convert images to float NHWC [n, h, w, c] in [0, 1] (after preprocessing).
 * image_index holds global indices (0 .. num_images-1, unchecked). No allocation. */
void rp_dataset_gather(const reptile_dataset *ds, const int32_t *image_index, int n, float *out);

/* Global index of image i of class cls, or -1 when out of range. */
int rp_dataset_image_index(const reptile_dataset *ds, int cls, int i);

/* ---- loader internals (dataset.c / loader.c) ---- */

/* One class to load from PNG files. */
typedef struct rp_class_spec {
    char *alphabet;   /* may be NULL */
    char *character;
    int id;
    int n_files;
    char **files;     /* full paths, sorted */
} rp_class_spec;

void rp_class_spec_free(rp_class_spec *s);

/* Decode and preprocess the files of specs[order[0..n)] into a new data set.
 * rotations: add 90/180/270-degree copies of every class. */
int rp_dataset_load_specs(reptile_dataset **out, const rp_class_spec *specs, const int32_t *order,
                          int n, const reptile_image_options *opts, int rotations);

/* Validate opts (NULL = defaults) into *dst. */
int rp_image_options_resolve(reptile_image_options *dst, const reptile_image_options *opts);

#endif
