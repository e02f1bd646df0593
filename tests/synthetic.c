#include "synthetic.h"

#include <stdlib.h>

/* SplitMix64: the public API only, so the MPI tests can share this file. */
static float uniform(uint64_t *state)
{
    uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    return (float)(z >> 40) * (1.0f / 16777216.0f);
}

reptile_dataset *rp_test_synthetic_set(uint64_t seed, float scale)
{
    enum { PIXELS = RP_SYN_SIDE * RP_SYN_SIDE, IMAGES = RP_SYN_CLASSES * RP_SYN_PER_CLASS };
    float *images = malloc((size_t)IMAGES * PIXELS * sizeof *images);
    int32_t *labels = malloc((size_t)IMAGES * sizeof *labels);
    reptile_dataset *ds = NULL;
    if (images && labels) {
        uint64_t state = seed;
        for (int c = 0; c < RP_SYN_CLASSES; ++c) {
            float proto[PIXELS];
            for (int p = 0; p < PIXELS; ++p)
                proto[p] = uniform(&state) < 0.5f ? 0.0f : 1.0f;
            for (int i = 0; i < RP_SYN_PER_CLASS; ++i) {
                int idx = c * RP_SYN_PER_CLASS + i;
                labels[idx] = c;
                for (int p = 0; p < PIXELS; ++p) {
                    float v = proto[p];
                    if (uniform(&state) < 0.08f)
                        v = 1.0f - v;
                    images[(size_t)idx * PIXELS + p] = v * scale;
                }
            }
        }
        if (reptile_dataset_from_memory(&ds, images, labels, IMAGES, RP_SYN_SIDE, RP_SYN_SIDE, 1))
            ds = NULL;
    }
    free(images);
    free(labels);
    return ds;
}

reptile_model *rp_test_small_net(int outputs, uint64_t seed)
{
    reptile_model *m = NULL;
    if (reptile_model_new(&m, RP_SYN_SIDE, RP_SYN_SIDE, 1) != 0 ||
        reptile_model_add_conv2d(m, 8, 3, 3, 2, 2, REPTILE_PADDING_SAME) != 0 ||
        reptile_model_add_batchnorm(m, 1e-3f, 0.99f) != 0 || reptile_model_add_relu(m) != 0 ||
        reptile_model_add_flatten(m) != 0 || reptile_model_add_dense(m, outputs) != 0 ||
        reptile_model_init(m, seed) != 0) {
        reptile_model_free(m);
        return NULL;
    }
    return m;
}
