/* The public task sampler: the evaluation tasks of the meta-learner, drawn
 * by (seed, index) with the episode sampler the meta-learner uses. */
#include "data/dataset_internal.h"
#include "data/sampler.h"
#include "core/error_internal.h"
#include "core/versioned.h"

#include <string.h>

static const size_t task_options_size[] = {0, RP_FIELDS_END(reptile_task_options, seed)};
_Static_assert(sizeof task_options_size / sizeof task_options_size[0] ==
                   REPTILE_TASK_OPTIONS_VERSION + 1,
               "give every reptile_task_options version its size");
static const rp_struct_versions task_options_versions = {"task options", task_options_size,
                                                         REPTILE_TASK_OPTIONS_VERSION};

int reptile_task_options_init(reptile_task_options *opts, unsigned int version)
{
    if (!opts)
        return rp_error(REPTILE_EINVAL, "reptile_task_options_init: opts is NULL");
    int rc = rp_version_check(&task_options_versions, version, "reptile_task_options_init");
    if (rc == 0) {
        const reptile_task_options d = REPTILE_TASK_OPTIONS_INIT;
        rp_version_write(&task_options_versions, opts, version, &d);
    }
    return rc;
}

static int check_shape(const reptile_task_options *o)
{
    if (o->ways < 1 || o->ways > 4096 || o->shots < 1 || o->shots > 10000 || o->queries < 0 ||
        o->queries > 10000)
        return rp_error(REPTILE_EINVAL,
                        "reptile_dataset_sample_task: need ways in 1..4096, shots in 1..10000 and "
                        "queries in 0..10000, got %d, %d, %d",
                        o->ways, o->shots, o->queries);
    if (o->with_replacement != 0 && o->with_replacement != 1)
        return rp_error(REPTILE_EINVAL,
                        "reptile_dataset_sample_task: with_replacement must be 0 or 1, got %d",
                        o->with_replacement);
    return 0;
}

int reptile_dataset_sample_task(const reptile_dataset *ds, const reptile_task_options *opts,
                                uint64_t index, float *support, int32_t *support_labels,
                                float *queries, int32_t *query_labels, int32_t *classes,
                                uint64_t *adapt_seed)
{
    if (!ds || !opts || !support)
        return rp_error(REPTILE_EINVAL, "reptile_dataset_sample_task: NULL data set, options or "
                                        "support buffer");
    reptile_task_options o = REPTILE_TASK_OPTIONS_INIT;
    int rc = rp_version_read(&task_options_versions, &o, opts, "reptile_dataset_sample_task");
    if (rc == 0)
        rc = check_shape(&o);
    if (rc == 0 && o.queries > 0 && !queries)
        rc = rp_error(REPTILE_EINVAL, "reptile_dataset_sample_task: %d queries per class but the "
                                      "queries buffer is NULL", o.queries);
    if (rc)
        return rc;
    rp_episode_config c = {o.ways, o.shots, o.queries, 1, 1, o.with_replacement};
    rp_episode ep;
    if ((rc = rp_episode_init(&ep, &c)) != 0)
        return rc;
    rp_rng rng;
    rp_rng_init(&rng, o.seed, index, (uint64_t)RP_DOMAIN_EVAL << 32);
    rc = rp_episode_draw(&ep, ds, &rng);
    if (rc == 0) {
        const uint64_t seed = rp_rng_u64(&rng);
        rp_dataset_gather(ds, ep.support_image, ep.n_support, support);
        if (o.queries > 0)
            rp_dataset_gather(ds, ep.query_image, ep.n_query, queries);
        if (support_labels)
            memcpy(support_labels, ep.support_label, (size_t)ep.n_support * sizeof(int32_t));
        if (query_labels && o.queries > 0)
            memcpy(query_labels, ep.query_label, (size_t)ep.n_query * sizeof(int32_t));
        if (classes)
            memcpy(classes, ep.class_of_label, (size_t)o.ways * sizeof(int32_t));
        if (adapt_seed)
            *adapt_seed = seed;
    }
    rp_episode_free(&ep);
    return rc ? rp_error_wrap(rc, "task %llu", (unsigned long long)index) : 0;
}
