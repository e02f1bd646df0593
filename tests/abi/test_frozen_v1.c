/* A caller compiled against the version-1 option structs (a frozen copy,
 * tests/abi/frozen/reptile_v1.h, not the current headers) runs against the
 * current shared library: every call that takes or fills a versioned
 * struct reads and writes only version 1's bytes (guard bytes right after
 * the struct stay intact) and gives that caller working defaults, presets,
 * training, checkpoints and image loading. */
#include "frozen/reptile_v1.h"
#include "reptile/error.h"
#include "reptile/model.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define GUARD 0xA5
#define CHECK(cond)                                                                                 \
    do {                                                                                            \
        if (!(cond)) {                                                                              \
            fprintf(stderr, "%s:%d: %s failed (%s)\n", __FILE__, __LINE__, #cond,                   \
                    reptile_error_last());                                                          \
            exit(1);                                                                                \
        }                                                                                           \
    } while (0)

typedef struct meta_box {
    v1_meta_options o;
    unsigned char guard[64];
} meta_box;

typedef struct image_box {
    v1_image_options o;
    unsigned char guard[64];
} image_box;

static void guard_intact(const unsigned char *g, size_t n)
{
    for (size_t i = 0; i < n; ++i)
        CHECK(g[i] == GUARD);
}
#define GUARD_INTACT(box) guard_intact((box).guard, sizeof (box).guard)

static void write_file(const char *path, const unsigned char *bytes, size_t n)
{
    FILE *f = fopen(path, "wb");
    CHECK(f && fwrite(bytes, 1, n, f) == n && fclose(f) == 0);
}

/* A 2 x 2 8-bit grayscale PNG. */
static const unsigned char tiny_png[] = {
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48,
    0x44, 0x52, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x02, 0x08, 0x00, 0x00, 0x00,
    0x00, 0x57, 0xdd, 0x52, 0xf8, 0x00, 0x00, 0x00, 0x0c, 0x49, 0x44, 0x41, 0x54, 0x78,
    0x9c, 0x63, 0x60, 0xf8, 0x0f, 0x84, 0x00, 0x06, 0x00, 0x01, 0xff, 0x93, 0xd1, 0xe4,
    0x89, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82};

static void meta_options_calls(const char *dir)
{
    meta_box a, b;
    memset(&a, GUARD, sizeof a);
    CHECK(reptile_meta_options_init(&a.o, 1) == 0);
    GUARD_INTACT(a);
    CHECK(a.o.version == 1 && a.o.ways == 5 && a.o.meta_batch == 5 && a.o.world_size == 1);
    CHECK(a.o.progress == NULL && a.o.allreduce == NULL);
    CHECK(reptile_meta_options_preset(&a.o, 1, "keras-tutorial") == 0);
    GUARD_INTACT(a);
    CHECK(a.o.inner_batch == 25 && a.o.meta_batch == 1 && a.o.lr == 0.003f);
    CHECK(reptile_meta_options_init(&a.o, 0) == REPTILE_EVERSION);
    CHECK(reptile_meta_options_init(&a.o, 1000) == REPTILE_EVERSION);
    GUARD_INTACT(a);

    /* Train one iteration on a tiny in-memory set with a tiny network. */
    enum { CLASSES = 6, PER = 4, SIDE = 8 };
    float *img = malloc(sizeof(float) * CLASSES * PER * SIDE * SIDE);
    int32_t labels[CLASSES * PER];
    for (int i = 0; i < CLASSES * PER; ++i) {
        labels[i] = i / PER;
        for (int p = 0; p < SIDE * SIDE; ++p)
            img[i * SIDE * SIDE + p] = (float)((p * 7 + i * 13) % 17) / 17.0f;
    }
    reptile_dataset *ds = NULL;
    CHECK(reptile_dataset_from_memory(&ds, img, labels, CLASSES * PER, SIDE, SIDE, 1) == 0);
    reptile_model *m = NULL;
    CHECK(reptile_model_new(&m, SIDE, SIDE, 1) == 0);
    CHECK(reptile_model_add_conv2d(m, 4, 3, 3, 2, 2, REPTILE_PADDING_SAME) == 0);
    CHECK(reptile_model_add_relu(m) == 0 && reptile_model_add_flatten(m) == 0);
    CHECK(reptile_model_add_dense(m, 5) == 0 && reptile_model_init(m, 3) == 0);
    a.o.train_shots = 2;
    a.o.inner_batch = 5;
    a.o.eval_shots = 1;
    a.o.eval_batch = 5;
    CHECK(reptile_meta_options_validate(&a.o) == 0);
    reptile_meta *meta = NULL;
    CHECK(reptile_meta_new(&meta, m, &a.o) == 0);
    CHECK(reptile_meta_step(meta, ds) == 0);
    char path[512];
    snprintf(path, sizeof path, "%s/state.safetensors", dir);
    CHECK(reptile_meta_save(meta, path) == 0);

    /* Reading the options back writes version 1's bytes only. */
    memset(&b, GUARD, sizeof b);
    CHECK(reptile_meta_load_options(&b.o, 1, path) == 0);
    GUARD_INTACT(b);
    CHECK(b.o.version == 1 && b.o.inner_batch == 5 && b.o.lr == 0.003f && b.o.seed == a.o.seed);
    CHECK(memcmp(&b.o, &a.o, offsetof(v1_meta_options, progress)) == 0);
    unlink(path);
    reptile_meta_free(meta);
    reptile_model_free(m);
    reptile_dataset_free(ds);
    free(img);
}

static void image_options_calls(const char *dir)
{
    image_box box;
    memset(&box, GUARD, sizeof box);
    CHECK(reptile_image_options_init(&box.o, 1) == 0);
    GUARD_INTACT(box);
    CHECK(box.o.version == 1 && box.o.height == 28 && box.o.channels == 1 && box.o.threads == 1);
    CHECK(reptile_image_options_init(&box.o, 2000) == REPTILE_EVERSION);
    GUARD_INTACT(box);
    box.o.height = box.o.width = 4;
    char path[512];
    for (int c = 0; c < 2; ++c) {
        snprintf(path, sizeof path, "%s/class%d", dir, c);
        CHECK(mkdir(path, 0700) == 0);
        snprintf(path, sizeof path, "%s/class%d/a.png", dir, c);
        write_file(path, tiny_png, sizeof tiny_png);
    }
    reptile_dataset *ds = NULL;
    CHECK(reptile_dataset_open_folder(&ds, dir, &box.o) == 0);
    CHECK(reptile_dataset_num_classes(ds) == 2);
    reptile_dataset_free(ds);
    for (int c = 0; c < 2; ++c) {
        snprintf(path, sizeof path, "%s/class%d/a.png", dir, c);
        unlink(path);
        snprintf(path, sizeof path, "%s/class%d", dir, c);
        rmdir(path);
    }
}

int main(void)
{
    char dir[] = "/tmp/reptile-frozen-v1-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    meta_options_calls(dir);
    image_options_calls(dir);
    rmdir(dir);
    printf("a version-1 caller works with this library\n");
    return 0;
}
