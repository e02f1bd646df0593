/* adapt: a meta-trained model learns the classes of a folder from a few
 * images each, then classifies other images (docs/applications.md).
 *
 * Build: cc -std=c11 adapt.c $(pkg-config --cflags --libs reptile) -o adapt
 * Run:   ./adapt MODEL_FILE SUPPORT_DIR QUERY.png...
 *
 * MODEL_FILE: what train.c (reptile_meta_save()) wrote. SUPPORT_DIR: one
 * sub-folder of PNG images per class, the folder names are the class names.
 * Prints a line per query: the file, the predicted class, its probability. */
#include <reptile/reptile.h>

#include <stdio.h>
#include <stdlib.h>

/* The support set as arrays: every image of class l (the l-th folder in
 * byte order) labelled l. */
static int read_support(const reptile_dataset *ds, size_t image_floats, float **images,
                        int32_t **labels)
{
    int n = reptile_dataset_num_images(ds), k = 0;
    *images = malloc((size_t)n * image_floats * sizeof **images);
    *labels = malloc((size_t)n * sizeof **labels);
    if (!*images || !*labels)
        return -1;
    for (int l = 0; l < reptile_dataset_num_classes(ds); l++)
        for (int i = 0; i < reptile_dataset_class_size(ds, l); i++, k++) {
            reptile_dataset_get_image(ds, l, i, *images + (size_t)k * image_floats);
            (*labels)[k] = l;
        }
    return n;
}

static int fail(const char *what)
{
    fprintf(stderr, "adapt: %s: %s\n", what, reptile_error_last());
    return 1;
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "Usage: adapt MODEL_FILE SUPPORT_DIR QUERY.png...\n");
        return 2;
    }
    reptile_learner *learner = NULL;
    reptile_dataset *support = NULL;
    reptile_adapted *adapted = NULL;
    float *images = NULL, *query = NULL, *probs = NULL;
    int32_t *labels = NULL;
    int status = 1;

    /* 1. The meta-trained weights with their adaptation settings. */
    if (reptile_learner_load(&learner, argv[1]) != 0) {
        status = fail(argv[1]);
        goto out;
    }
    const reptile_model *model = reptile_learner_model(learner);
    const int outputs = reptile_model_num_outputs(model);

    /* 2. Images are read as the model's training data was: its input shape. */
    reptile_image_options img;
    reptile_image_options_init(&img, REPTILE_IMAGE_OPTIONS_VERSION);
    reptile_model_input_shape(model, &img.height, &img.width, &img.channels);
    const size_t image_floats = (size_t)img.height * img.width * img.channels;

    /* 3. The support set: K images of each of N classes (2 <= N <= outputs). */
    if (reptile_dataset_open_folder(&support, argv[2], &img) != 0) {
        status = fail(argv[2]);
        goto out;
    }
    const int ways = reptile_dataset_num_classes(support);
    const int n = read_support(support, image_floats, &images, &labels);
    query = malloc(image_floats * sizeof *query);
    probs = malloc((size_t)outputs * sizeof *probs);
    if (n < 0 || !query || !probs) {
        fprintf(stderr, "adapt: out of memory\n");
        goto out;
    }

    /* 4. Fine-tune a copy of the weights on it (seed 1: the batch order). */
    if (reptile_learner_adapt(learner, &adapted, images, labels, n, ways, 1) != 0) {
        status = fail("adapting");
        goto out;
    }

    /* 5. Classify each query as it comes, beside the support set. */
    for (int q = 3; q < argc; q++) {
        if (reptile_image_load(argv[q], &img, query) != 0 ||
            reptile_adapted_predict(adapted, query, 1, REPTILE_PREDICT_WITH_SUPPORT, probs) != 0) {
            status = fail(argv[q]);
            goto out;
        }
        int best = 0; /* among the task's classes: outputs past `ways` are none */
        for (int l = 1; l < ways; l++)
            if (probs[l] > probs[best])
                best = l;
        const char *name;
        reptile_dataset_class_info(support, best, NULL, &name, NULL, NULL);
        printf("%s %s %.4f\n", argv[q], name, (double)probs[best]);
    }
    status = 0;
out:
    free(probs);
    free(query);
    free(labels);
    free(images);
    reptile_adapted_free(adapted);
    reptile_dataset_free(support);
    reptile_learner_free(learner);
    return status;
}
