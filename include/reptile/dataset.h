/**
 * @file dataset.h
 * @brief Image data sets for few-shot learning: Omniglot, folders of class
 *        folders, and caller-supplied arrays.
 *
 * A data set is a list of classes, each a list of equally sized images
 * (height x width x channels floats in [0, 1] when read back). Classes are
 * numbered 0 .. num_classes-1 in a deterministic order, images within a
 * class 0 .. class_size-1. Sets read from files (PNG or JPEG, told apart
 * by their first bytes, not their names) are decoded, converted to
 * grayscale (or RGB), resized and stored as 8-bit values once, at open time;
 * reading an image back gives value / 255.
 *
 * A data set is immutable after it is opened: any number of threads may read
 * one concurrently.
 */
#ifndef REPTILE_DATASET_H
#define REPTILE_DATASET_H

#include "reptile/common.h"

REPTILE_BEGIN_DECLS

/** Opaque data set handle. */
typedef struct reptile_dataset reptile_dataset;

/** Resampling filters for reptile_image_options::filter (tf.image.resize semantics, no antialiasing). */
enum reptile_filter {
    /** Bilinear with half-pixel centres, as tf.image.resize(method="bilinear", antialias=False). */
    REPTILE_FILTER_BILINEAR = 0,
    /** Box average with fractional coverage at the box edges, as method="area". */
    REPTILE_FILTER_AREA = 1,
    /** Nearest neighbour with half-pixel centres, as method="nearest". */
    REPTILE_FILTER_NEAREST = 2
};

/** Version of struct reptile_image_options this header describes. */
#define REPTILE_IMAGE_OPTIONS_VERSION 2

/**
 * @brief How image files (PNG, JPEG) are turned into stored images.
 *
 * Versioned the libgit2 way: initialise with REPTILE_IMAGE_OPTIONS_INIT or
 * reptile_image_options_init(); fields are only ever appended. The defaults
 * are the Keras Reptile tutorial's preprocessing: 28 x 28, 1 channel,
 * bilinear, white background = 1.0, no rotated copies, one loading thread,
 * no crop. Version 1 ends with threads; version 2 adds center_crop.
 */
typedef struct reptile_image_options {
    unsigned int version; /**< REPTILE_IMAGE_OPTIONS_VERSION. */
    int height;           /**< Output height in pixels, 1 .. 16384 (default 28). */
    int width;            /**< Output width in pixels, 1 .. 16384 (default 28). */
    int filter;           /**< An enum reptile_filter value (default REPTILE_FILTER_BILINEAR). */
    int invert;           /**< Non-zero: store 1 - v (ink = 1.0, paper = 0.0). Default 0. */
    /** Non-zero: add copies of every class rotated by 90, 180 and 270 degrees
     *  (counter-clockwise) as new classes, right after the original (class
     *  4k is the original, 4k+1..4k+3 its rotations). Needs height == width.
     *  Rotated copies share the stored pixels (rotated on access). Default 0. */
    int rotations;
    /** 1: grayscale (RGB sources become 0.2989 R + 0.5870 G + 0.1140 B before
     *  resizing, alpha is dropped); 3: RGB (gray sources are replicated, alpha
     *  is dropped). Default 1. */
    int channels;
    /** Threads decoding image files at open time: 1 (default) = the calling
     *  thread only, 0 = one per online CPU, n > 1 = n threads. The result
     *  is identical whatever the count. */
    int threads;
    /** Since version 2. Non-zero: before resizing, crop each image to its
     *  largest centred region with the output's aspect ratio (width /
     *  height), so photographs keep their proportions. For a W x H image
     *  and a width x height output: when W * height >= H * width the crop
     *  keeps all H rows and floor(H * width / height) columns, else all W
     *  columns and floor(W * height / width) rows (never fewer than 1). It
     *  starts at column floor((W - crop width) / 2) and row
     *  floor((H - crop height) / 2): when an odd number of columns or rows
     *  is cut, the extra one is cut at the right or bottom. A 500 x 375
     *  photograph cropped for 84 x 84 keeps columns 62..436. Default 0: the
     *  whole image is resized, its aspect ratio not kept. */
    int center_crop;
} reptile_image_options;

/** Static initialiser with the defaults (see reptile_image_options). */
#define REPTILE_IMAGE_OPTIONS_INIT \
    { REPTILE_IMAGE_OPTIONS_VERSION, 28, 28, REPTILE_FILTER_BILINEAR, 0, 0, 1, 1, 0 }

/**
 * @brief Fill @p opts with the defaults for struct version @p version.
 * @param opts    Options to initialise (caller-owned).
 * @param version REPTILE_IMAGE_OPTIONS_VERSION.
 * @return 0, REPTILE_EINVAL if @p opts is NULL, REPTILE_EVERSION if the
 *         version is unknown to this library.
 */
REPTILE_API int reptile_image_options_init(reptile_image_options *opts, unsigned int version);

/**
 * @brief Open one split of Omniglot in its original layout.
 *
 * @p root holds images_background/ and/or images_evaluation/, each
 * ALPHABET/characterNN/IIII_DD.png (as unpacked by scripts/fetch-omniglot).
 * Classes are the characters, ordered by alphabet then character folder name
 * (byte order); images within a class by file name. Only files ending in
 * ".png", ".jpg" or ".jpeg" (any case) are read; hidden entries are skipped.
 *
 * @param out   Receives the new data set (NULL on failure); free it with reptile_dataset_free().
 * @param root  Folder holding the split folders.
 * @param split "background" or "train" (images_background, 964 characters),
 *              "evaluation" or "test" (images_evaluation, 659 characters).
 * @param opts  Preprocessing, or NULL for the defaults.
 * @return 0; REPTILE_EINVAL (NULL argument, unknown split, bad options),
 *         REPTILE_EVERSION (options version), REPTILE_ENOTFOUND (missing
 *         folder or file), REPTILE_EIO (unreadable file), REPTILE_EFORMAT
 *         (a file is not a valid PNG or JPEG: not one, truncated, corrupt,
 *         larger than 16384 per side or 64 Mpixel), REPTILE_EDATA (a split
 *         or character folder holds no images), REPTILE_ENOMEM. The message
 *         names the file.
 */
REPTILE_API int reptile_dataset_open_omniglot(reptile_dataset **out, const char *root,
                                              const char *split,
                                              const reptile_image_options *opts);

/**
 * @brief Open Omniglot split as in the Reptile paper: all 1,623 characters
 *        of both splits pooled, shuffled with @p seed, the first 1,200 for
 *        meta-training and the remaining 423 for testing.
 *
 * The pool is background characters then evaluation characters, each in the
 * order of reptile_dataset_open_omniglot(); it is shuffled with the library's
 * seeded generator, so a seed always gives the same split. Classes of both
 * sets keep the shuffled order. opts->rotations applies to the training set
 * only (the paper augments meta-training classes; test classes are never
 * rotated).
 *
 * @param train_out Receives the training set (1,200 classes, 4,800 with rotations).
 * @param test_out  Receives the test set (the remaining classes).
 * @param root      Folder holding images_background/ and images_evaluation/.
 * @param seed      Seed of the shuffle.
 * @param opts      Preprocessing, or NULL for the defaults.
 * @param manifest_path If not NULL, the split is written there as text: one
 *        line per character, "train|test TAB split TAB alphabet TAB character
 *        TAB id", after a "#" header line (written to a temporary file, then
 *        renamed).
 * @return 0 or the errors of reptile_dataset_open_omniglot(); REPTILE_EDATA
 *         if fewer than 1,201 characters are found; REPTILE_EIO if the
 *         manifest cannot be written. On failure both outputs are NULL.
 */
REPTILE_API int reptile_dataset_open_omniglot_paper(reptile_dataset **train_out,
                                                    reptile_dataset **test_out, const char *root,
                                                    uint64_t seed,
                                                    const reptile_image_options *opts,
                                                    const char *manifest_path);

/**
 * @brief Open a folder of class folders: root/CLASS/IMAGE.png or .jpg.
 *
 * Every sub-folder of @p root is a class (byte order of names); its files
 * named *.png, *.jpg or *.jpeg in any case are its images, resized to
 * opts->height x opts->width with opts->channels channels. The format is
 * told by each file's first bytes, so a class may mix formats and a name
 * may lie: PNG of any size, gray, gray+alpha, RGB, RGBA or palette, any bit
 * depth; JPEG baseline or progressive, gray, YCbCr/RGB, or CMYK/YCCK
 * (converted to RGB as tf.io.decode_jpeg does). Hidden entries and other
 * names are skipped.
 * reptile_dataset_class_info() reports the folder name as the character,
 * a NULL alphabet and id -1.
 *
 * @param out  Receives the new data set (NULL on failure).
 * @param root The folder of class folders.
 * @param opts Preprocessing, or NULL for the defaults.
 * @return 0; REPTILE_EINVAL, REPTILE_EVERSION, REPTILE_ENOTFOUND (missing
 *         folder), REPTILE_EIO, REPTILE_EFORMAT (as for
 *         reptile_dataset_open_omniglot()), REPTILE_EDATA (no class folder,
 *         or a class folder without image files), REPTILE_ENOMEM.
 */
REPTILE_API int reptile_dataset_open_folder(reptile_dataset **out, const char *root,
                                            const reptile_image_options *opts);

/**
 * @brief Make a data set from images in memory.
 *
 * The arrays are copied; the caller keeps ownership of them. Classes are the
 * distinct label values in increasing order (reptile_dataset_class_info()
 * reports the label as the id); images keep their relative order within a
 * class. Pixels are stored as given (float), not quantised.
 *
 * @param out         Receives the new data set (NULL on failure).
 * @param images_nhwc n * h * w * c finite floats, NHWC.
 * @param labels      n class labels (any int32 values).
 * @param n, h, w, c  Image count and shape, all >= 1.
 * @return 0; REPTILE_EINVAL (NULL pointer, non-positive or too large sizes,
 *         a non-finite pixel), REPTILE_ENOMEM.
 */
REPTILE_API int reptile_dataset_from_memory(reptile_dataset **out, const float *images_nhwc,
                                            const int32_t *labels, int n, int h, int w, int c);

/** @brief Free a data set and everything it owns. NULL is a no-op. */
REPTILE_API void reptile_dataset_free(reptile_dataset *ds);

/** @brief Number of classes (0 if @p ds is NULL). */
REPTILE_API int reptile_dataset_num_classes(const reptile_dataset *ds);

/** @brief Number of images over all classes (0 if @p ds is NULL). */
REPTILE_API int reptile_dataset_num_images(const reptile_dataset *ds);

/**
 * @brief Number of images in class @p cls.
 * @return The count (>= 1), or REPTILE_EINVAL if @p ds is NULL or @p cls is out of range.
 */
REPTILE_API int reptile_dataset_class_size(const reptile_dataset *ds, int cls);

/**
 * @brief Shape of every image. Any output pointer may be NULL.
 * @return 0, or REPTILE_EINVAL if @p ds is NULL.
 */
REPTILE_API int reptile_dataset_image_shape(const reptile_dataset *ds, int *height, int *width,
                                            int *channels);

/**
 * @brief Describe class @p cls. Any output pointer may be NULL.
 *
 * @param ds        The data set.
 * @param cls       Class index, 0..num_classes-1.
 * @param alphabet  Omniglot alphabet folder name; NULL for other sets.
 * @param character Omniglot character folder ("character01") or class folder
 *                  name; NULL for memory sets. Strings belong to @p ds.
 * @param character_id Omniglot character id (the IIII file-name prefix,
 *                  1..1623), the label for memory sets, -1 for folder sets.
 * @param rotation_degrees 0, or 90/180/270 for rotated copies.
 * @return 0, or REPTILE_EINVAL if @p ds is NULL or @p cls is out of range.
 */
REPTILE_API int reptile_dataset_class_info(const reptile_dataset *ds, int cls,
                                           const char **alphabet, const char **character,
                                           int *character_id, int *rotation_degrees);

/**
 * @brief Copy image @p i of class @p cls to @p out as height*width*channels
 *        floats (HWC) in [0, 1].
 * @return 0, or REPTILE_EINVAL (NULL argument, class or image out of range).
 */
REPTILE_API int reptile_dataset_get_image(const reptile_dataset *ds, int cls, int i, float *out);

/**
 * @brief Load one PNG or JPEG image exactly as the data set openers store theirs
 *        (decode, convert channels, resize, invert, 8-bit storage), for
 *        example a query image to classify.
 * @param path PNG or JPEG file (told by its first bytes, whatever its name).
 * @param opts How to convert it (NULL = the defaults; center_crop
 *             applies); rotations and threads are ignored.
 * @param out  Receives height*width*channels floats (HWC) in [0, 1].
 * @return 0, REPTILE_EINVAL, REPTILE_EVERSION, REPTILE_ENOTFOUND,
 *         REPTILE_EIO, REPTILE_EFORMAT (not a valid PNG or JPEG), REPTILE_ENOMEM.
 */
REPTILE_API int reptile_image_load(const char *path, const reptile_image_options *opts, float *out);

/* ---- few-shot tasks -------------------------------------------------------- */

/** Version of struct reptile_task_options this header describes. */
#define REPTILE_TASK_OPTIONS_VERSION 1

/** The shape of an N-way K-shot task (versioned like reptile_image_options). */
typedef struct reptile_task_options {
    unsigned int version;  /**< REPTILE_TASK_OPTIONS_VERSION. */
    int ways;              /**< Classes per task, 1 .. 4096 (default 5). */
    int shots;             /**< Support images per class, 1 .. 10000 (default 5). */
    int queries;           /**< Query images per class, 0 .. 10000 (default 1). */
    /** 0 (default): distinct classes, distinct images, support and queries
     *  disjoint; 1: classes and images drawn with replacement (the Keras
     *  tutorial's random.choices). */
    int with_replacement;
    uint64_t seed;         /**< Seed of the task streams (default 1). */
} reptile_task_options;

/** Static initialiser with the defaults (see reptile_task_options). */
#define REPTILE_TASK_OPTIONS_INIT { REPTILE_TASK_OPTIONS_VERSION, 5, 5, 1, 0, 1 }

/** @brief Fill @p opts with the defaults. @return 0, REPTILE_EINVAL, REPTILE_EVERSION. */
REPTILE_API int reptile_task_options_init(reptile_task_options *opts, unsigned int version);

/**
 * @brief Draw task @p index of a data set: @p opts->ways classes, and of
 *        each @p opts->shots support and @p opts->queries query images.
 *
 * The same (seed, index) always gives the same task, and the same task the
 * meta-learner's evaluation draws: reptile_meta_evaluate_task(meta, ds,
 * index, ...) uses this task with its options' seed, ways, eval_shots,
 * with_replacement and one query per class, and fine-tunes it with the
 * seed returned in @p adapt_seed (pass it to reptile_learner_adapt() for
 * bitwise the same probabilities).
 *
 * Images are NHWC floats, class-major: support image l*shots + i and query
 * image l*queries + i have label l (0 .. ways-1).
 * @param ds             The data set.
 * @param opts           Task shape and seed.
 * @param index          Which task.
 * @param support        Receives ways*shots images.
 * @param support_labels Receives ways*shots labels (may be NULL).
 * @param queries        Receives ways*queries images (may be NULL when queries is 0).
 * @param query_labels   Receives ways*queries labels (may be NULL).
 * @param classes        Receives the data set class of each label, ways ints (may be NULL).
 * @param adapt_seed     Receives the seed of this task's fine-tuning order (may be NULL).
 * @return 0, REPTILE_EINVAL (NULL, bad shape), REPTILE_EVERSION, REPTILE_EDATA
 *         (too few classes or images for the shape), REPTILE_ENOMEM.
 */
REPTILE_API int reptile_dataset_sample_task(const reptile_dataset *ds,
                                            const reptile_task_options *opts, uint64_t index,
                                            float *support, int32_t *support_labels,
                                            float *queries, int32_t *query_labels,
                                            int32_t *classes, uint64_t *adapt_seed);

REPTILE_END_DECLS

#endif /* REPTILE_DATASET_H */
