/* train: meta-train a network on your own folder of classes and save it for
 * adapt.c / adapt.cpp (docs/applications.md walks through both).
 *
 * Build: cc -std=c11 train.c $(pkg-config --cflags --libs reptile) -o train
 * Run:   ./train DATA_DIR MODEL_FILE [ITERATIONS]
 *
 * DATA_DIR holds one sub-folder of PNG images per class (DATA_DIR/CLASS/IMAGE.png),
 * many classes of at least 10 images each: every meta-iteration draws 5
 * tasks of 5 classes and 10 images per class. Images of any size are
 * converted to IMAGE_HEIGHT x IMAGE_WIDTH x IMAGE_CHANNELS. */
#include <reptile/reptile.h>

#include <stdio.h>
#include <stdlib.h>

#define IMAGE_HEIGHT 28
#define IMAGE_WIDTH 28
#define IMAGE_CHANNELS 1 /* 1: gray, 3: RGB */

/* The Keras tutorial's network for any input shape: 4 x [3x3 convolution,
 * 64 filters, stride 2 -> BatchNorm -> ReLU], then one output per class. */
static int build_network(reptile_model **out, int classes, uint64_t seed)
{
    reptile_model *m = NULL;
    int rc = reptile_model_new(&m, IMAGE_HEIGHT, IMAGE_WIDTH, IMAGE_CHANNELS);
    for (int i = 0; rc == 0 && i < 4; i++) {
        rc = reptile_model_add_conv2d(m, 64, 3, 3, 2, 2, REPTILE_PADDING_SAME);
        if (rc == 0)
            rc = reptile_model_add_batchnorm(m, 1e-3f, 0.99f);
        if (rc == 0)
            rc = reptile_model_add_relu(m);
    }
    if (rc == 0)
        rc = reptile_model_add_flatten(m);
    if (rc == 0)
        rc = reptile_model_add_dense(m, classes);
    if (rc == 0)
        rc = reptile_model_init(m, seed);
    if (rc != 0) {
        reptile_model_free(m);
        m = NULL;
    }
    *out = m;
    return rc;
}

/* A line every tenth of the run. */
static int on_progress(const reptile_progress *p, void *user)
{
    (void)user;
    if (p->iteration % (p->total >= 10 ? p->total / 10 : 1) == 0)
        fprintf(stderr, "train: iteration %d of %d (%.0f s)\n", p->iteration, p->total,
                p->elapsed_s);
    return 0; /* non-zero would stop the run */
}

static int fail(const char *what)
{
    fprintf(stderr, "train: %s: %s\n", what, reptile_error_last());
    return 1;
}

int main(int argc, char **argv)
{
    if (argc < 3 || argc > 4) {
        fprintf(stderr, "Usage: train DATA_DIR MODEL_FILE [ITERATIONS]\n");
        return 2;
    }
    int iterations = argc == 4 ? atoi(argv[3]) : 10000;
    if (iterations < 1) {
        fprintf(stderr, "train: ITERATIONS must be a positive integer\n");
        return 2;
    }
    reptile_dataset *data = NULL;
    reptile_model *model = NULL;
    reptile_meta *meta = NULL;
    int status = 1;

    /* 1. The classes, converted as the network expects them. */
    reptile_image_options img;
    reptile_image_options_init(&img, REPTILE_IMAGE_OPTIONS_VERSION);
    img.height = IMAGE_HEIGHT;
    img.width = IMAGE_WIDTH;
    img.channels = IMAGE_CHANNELS;
    img.threads = 0; /* decode on every CPU: the result is the same */
    if (reptile_dataset_open_folder(&data, argv[1], &img) != 0) {
        status = fail(argv[1]);
        goto out;
    }
    /* 2. The settings: the paper's 5-way ones (reptile_meta_options_init()),
     *    the annealing schedule shortened to this run. They are saved with
     *    the weights and become the adaptation settings of the file. */
    reptile_meta_options opts;
    reptile_meta_options_init(&opts, REPTILE_META_OPTIONS_VERSION);
    opts.meta_iters = iterations;
    opts.threads = 4; /* results do not depend on it */
    opts.progress = on_progress;
    /* 3. The network, then meta-training. */
    if (build_network(&model, opts.ways, opts.seed) != 0) {
        status = fail("building the network");
        goto out;
    }
    if (reptile_meta_new(&meta, model, &opts) != 0) {
        status = fail("creating the meta-learner");
        goto out;
    }
    if (reptile_meta_train(meta, data, NULL, iterations) != 0) {
        status = fail("meta-training");
        goto out;
    }
    /* 4. Weights, settings and the carried optimizer state, in one file. */
    if (reptile_meta_save(meta, argv[2]) != 0) {
        status = fail(argv[2]);
        goto out;
    }
    printf("saved %s: %d classes, %d images, %d meta-iterations\n", argv[2],
           reptile_dataset_num_classes(data), reptile_dataset_num_images(data), iterations);
    status = 0;
out:
    reptile_meta_free(meta);
    reptile_model_free(model);
    reptile_dataset_free(data);
    return status;
}
