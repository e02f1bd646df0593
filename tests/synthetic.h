/* A synthetic few-shot data set shared by the meta, checkpoint and MPI
 * tests: RP_SYN_CLASSES classes of RP_SYN_PER_CLASS images, each class a
 * random binary 8x8 prototype and each image that prototype with ~8% of its
 * pixels flipped, all multiplied by `scale` (huge scales make training
 * overflow on purpose). The same seed gives the same set. */
#ifndef RP_TESTS_SYNTHETIC_H
#define RP_TESTS_SYNTHETIC_H

#include "reptile/reptile.h"

enum { RP_SYN_SIDE = 8, RP_SYN_CLASSES = 40, RP_SYN_PER_CLASS = 12 };

/* NULL on failure (the message is in reptile_error_last()). Thread-safe. */
reptile_dataset *rp_test_synthetic_set(uint64_t seed, float scale);

/* A small network for the synthetic images: conv(8) BN ReLU flatten
 * dense(outputs), initialised from seed. NULL on failure. */
reptile_model *rp_test_small_net(int outputs, uint64_t seed);

#endif
