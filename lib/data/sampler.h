/* Episode (task) sampler for Reptile: draws N-way K-shot tasks from a data
 * set and lays out their SGD batches. Allocation happens once, in
 * rp_episode_init(); rp_episode_sample() only writes into the arrays. */
#ifndef RP_DATA_SAMPLER_H
#define RP_DATA_SAMPLER_H

#include "core/rng.h"
#include "data/dataset_internal.h"

#include <stdint.h>

typedef struct rp_episode_config {
    int ways;             /* N classes per task */
    int support_shots;    /* K support images per class */
    int query_shots;      /* Q query images per class (0 for training tasks) */
    int batch_size;       /* support batch size */
    int repetitions;      /* R epochs over the support set */
    int with_replacement; /* 1: keras-tutorial mode (random.choices for classes, images with
                             replacement, query may duplicate a support image); 0: distinct
                             classes, distinct images (support and query disjoint) */
} rp_episode_config;

typedef struct rp_episode {
    rp_episode_config cfg;
    int n_support, n_query;    /* ways*support_shots, ways*query_shots */
    int32_t *support_image;    /* [n_support] global image index into the dataset */
    int32_t *support_label;    /* [n_support] 0..ways-1 */
    int32_t *query_image;      /* [n_query] */
    int32_t *query_label;      /* [n_query] */
    int32_t *class_of_label;   /* [ways] dataset class chosen for each label */
    int n_batches;             /* total batches over all repetitions */
    int32_t *batch_start;      /* [n_batches+1] offsets into order */
    int32_t *order;            /* [repetitions*n_support] positions into support_* arrays: each
                                  epoch a fresh shuffle of 0..n_support-1, cut into batches of
                                  batch_size, last batch of each epoch partial (tf.data
                                  shuffle().batch().repeat(): batches never cross epochs) */
    /* private */
    int32_t *pick;             /* [support_shots + query_shots] scratch for distinct draws */
} rp_episode;

/* Validates cfg (EINVAL), allocates all arrays once (ENOMEM). */
int rp_episode_init(rp_episode *ep, const rp_episode_config *cfg);
void rp_episode_free(rp_episode *ep);

/* Draws a task's classes and images from ds with the stream rng, not the
 * batch order; no allocation. */
int rp_episode_draw(rp_episode *ep, const reptile_dataset *ds, rp_rng *rng);

/* rp_episode_draw, then the batch order from the same stream (training
 * tasks); no allocation.
 * Labels are given in order of choice: support images l*K .. l*K+K-1 (and
 * query images l*Q .. l*Q+Q-1) have label l and class class_of_label[l].
 * Errors (EDATA) if ds has fewer than `ways` classes (without replacement) or
 * a chosen class has fewer than support+query images (without replacement)
 * or no image at all; EINVAL for NULL arguments. */
int rp_episode_sample(rp_episode *ep, const reptile_dataset *ds, rp_rng *rng);

/* Positions (into support_*) of batch b: order[batch_start[b] .. batch_start[b+1]). */
static inline int rp_episode_batch_len(const rp_episode *ep, int b)
{
    return ep->batch_start[b + 1] - ep->batch_start[b];
}

#endif
