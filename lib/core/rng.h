/* Explicitly seeded random streams (no global state, no rand()).
 *
 * A stream is keyed by (seed, a, b): for example (seed, iteration, task).
 * The key is mixed with SplitMix64 into the state of a xoshiro256** generator,
 * so streams for different keys are independent and any stream can be
 * recreated from its key alone, whatever thread draws from it. */
#ifndef RP_CORE_RNG_H
#define RP_CORE_RNG_H

#include <stdint.h>

/* The library's stream domains: every random draw of a task or a
 * fine-tuning is keyed (seed, a, DOMAIN << 32 | b). */
enum rp_stream_domain {
    RP_DOMAIN_TRAIN = 1,      /* training task t of iteration i: (i, TRAIN << 32 | t) */
    RP_DOMAIN_EVAL_TRAIN = 2, /* per-iteration evaluation on the train split */
    RP_DOMAIN_EVAL_TEST = 3,  /* per-iteration evaluation on the test split */
    RP_DOMAIN_EVAL = 4,       /* evaluation task i, reptile_dataset_sample_task: (i, EVAL) */
    RP_DOMAIN_ADAPT = 5       /* a fine-tuning's batch order: (adapt seed, 0, ADAPT) */
};

typedef struct rp_rng {
    uint64_t s[4];
} rp_rng;

/* Stream for key (seed, a, b). */
void rp_rng_init(rp_rng *rng, uint64_t seed, uint64_t a, uint64_t b);

uint64_t rp_rng_u64(rp_rng *rng);

/* Uniform integer in [0, n), n >= 1, without modulo bias (Lemire). */
uint32_t rp_rng_below(rp_rng *rng, uint32_t n);

/* Uniform float in [0, 1) with 24 random bits. */
float rp_rng_float(rp_rng *rng);

/* Uniform double in [0, 1) with 53 random bits. */
double rp_rng_double(rp_rng *rng);

/* Fisher-Yates shuffle of n int32 values. */
void rp_rng_shuffle_i32(rp_rng *rng, int32_t *v, int n);

#endif
