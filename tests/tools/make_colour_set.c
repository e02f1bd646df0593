/* make-colour-set DIR [TRAIN_CLASSES TEST_CLASSES PER_CLASS SEED]: writes the
 * synthetic colour photograph set of tests/colour_set.h in Mini-ImageNet's
 * layout (DIR/train, DIR/val, DIR/test), for the benchmarks that compare
 * libreptile and PyTorch on the same files. Defaults: 32 8 20 1. */
#include "colour_set.h"

#include <stdio.h>
#include <stdlib.h>

static int arg(int argc, char **argv, int i, int fallback)
{
    if (i >= argc)
        return fallback;
    char *end = NULL;
    long v = strtol(argv[i], &end, 10);
    if (*argv[i] == '\0' || *end != '\0' || v < 1 || v > 100000) {
        fprintf(stderr, "make-colour-set: '%s' is not a count in 1..100000\n", argv[i]);
        exit(2);
    }
    return (int)v;
}

int main(int argc, char **argv)
{
    if (argc < 2 || argc > 6 || argv[1][0] == '-') {
        fprintf(stderr, "usage: make-colour-set DIR [TRAIN_CLASSES TEST_CLASSES PER_CLASS SEED]\n");
        return 2;
    }
    int train = arg(argc, argv, 2, 32), test = arg(argc, argv, 3, 8);
    int per_class = arg(argc, argv, 4, 20), seed = arg(argc, argv, 5, 1);
    return rp_test_colour_set_write_splits(argv[1], train, test, per_class, (uint64_t)seed) == 0
               ? 0
               : 1;
}
