/* Interoperability helper: builds the tutorial's Omniglot network (or, with
 * the argument miniimagenet, the Reptile paper's Mini-ImageNet network with
 * its max-pooling), trains it a few steps (so parameters and BatchNorm
 * moving statistics are no longer their initial values), saves it to
 * DIR/model.safetensors and writes a
 * fixed input batch with the class probabilities libreptile computes for it
 * (inference mode: moving statistics) to DIR/io.txt:
 *
 *     batch height width channels classes
 *     batch*height*width*channels input values (NHWC)
 *     batch*classes probabilities
 *
 * one value per line, printed with 9 significant digits (exact for float32).
 * tests/interop/read_checkpoint.py reads both and checks its NumPy forward.
 * Public API only. */
#include "reptile/reptile.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* xorshift64*: a fixed, self-contained input stream. */
static float next_uniform(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return (float)((*s * 2685821657736338717ull) >> 40) / 16777216.0f;
}

static int fail(const char *what)
{
    fprintf(stderr, "dump-logits: %s: %s\n", what, reptile_error_last());
    return 1;
}

int main(int argc, char **argv)
{
    const int mini = argc == 3 && strcmp(argv[2], "miniimagenet") == 0;
    if (argc != 2 && !mini) {
        fprintf(stderr, "usage: dump-logits DIR [miniimagenet]\n");
        return 2;
    }
    enum { BATCH = 8, CLASSES = 5, STEPS = 6, MAX_IMAGE = 84 * 84 * 3 };
    const int side = mini ? 84 : 28, channels = mini ? 3 : 1;
    const int image = side * side * channels;
    reptile_model *m = NULL;
    reptile_optimizer *opt = NULL;
    if ((mini ? reptile_model_new_miniimagenet(&m, CLASSES, 42)
              : reptile_model_new_omniglot(&m, CLASSES, 42)) != 0)
        return fail("building the network");
    /* A smaller step for the wider network: its logits stay in the range
     * where probabilities and their logarithms are still informative. */
    if (reptile_optimizer_new_sgd(&opt, mini ? 0.002f : 0.05f, 0.9f) != 0)
        return fail("creating the optimizer");
    static float x[BATCH * MAX_IMAGE], probs[BATCH * CLASSES];
    int32_t y[BATCH];
    uint64_t s = 0x9E3779B97F4A7C15ull;
    for (int step = 0; step < STEPS; ++step) {
        for (int i = 0; i < BATCH * image; ++i)
            x[i] = next_uniform(&s);
        for (int i = 0; i < BATCH; ++i)
            y[i] = (i + step) % CLASSES;
        /* Batch statistics: the moving averages are updated too. */
        if (reptile_model_train_step(m, opt, x, y, BATCH, REPTILE_BN_BATCH, NULL) != 0)
            return fail("training");
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/model.safetensors", argv[1]);
    if (reptile_model_save(m, path) != 0)
        return fail("saving");
    for (int i = 0; i < BATCH * image; ++i)
        x[i] = next_uniform(&s);
    if (reptile_model_predict(m, x, BATCH, REPTILE_BN_MOVING, probs) != 0)
        return fail("predicting");
    snprintf(path, sizeof path, "%s/io.txt", argv[1]);
    FILE *f = fopen(path, "w");
    if (!f) {
        perror(path);
        return 1;
    }
    fprintf(f, "%d %d %d %d %d\n", BATCH, side, side, channels, CLASSES);
    for (int i = 0; i < BATCH * image; ++i)
        fprintf(f, "%.9g\n", (double)x[i]);
    for (int i = 0; i < BATCH * CLASSES; ++i)
        fprintf(f, "%.9g\n", (double)probs[i]);
    if (fclose(f) != 0) {
        perror(path);
        return 1;
    }
    reptile_optimizer_free(opt);
    reptile_model_free(m);
    return 0;
}
