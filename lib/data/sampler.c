/* Episode sampling. Without replacement, classes and images are drawn with
 * Floyd's algorithm (k distinct values of [0, n) in k draws, no O(n)
 * scratch), then put in uniformly random order by a shuffle: every ordered
 * k-subset is equally likely. */
#include "data/sampler.h"

#include "core/error_internal.h"

#include <stdlib.h>
#include <string.h>

int rp_episode_init(rp_episode *ep, const rp_episode_config *cfg)
{
    if (!ep || !cfg)
        return rp_error(REPTILE_EINVAL, "rp_episode_init: NULL argument");
    memset(ep, 0, sizeof *ep);
    if (cfg->ways < 1 || cfg->support_shots < 1 || cfg->query_shots < 0 || cfg->batch_size < 1 ||
        cfg->repetitions < 1)
        return rp_error(REPTILE_EINVAL,
                        "episode: need ways >= 1, support_shots >= 1, query_shots >= 0, batch_size >= 1, "
                        "repetitions >= 1; got %d, %d, %d, %d, %d",
                        cfg->ways, cfg->support_shots, cfg->query_shots, cfg->batch_size, cfg->repetitions);
    int64_t ns = (int64_t)cfg->ways * cfg->support_shots;
    int64_t nq = (int64_t)cfg->ways * cfg->query_shots;
    int64_t per_epoch = (ns + cfg->batch_size - 1) / cfg->batch_size;
    int64_t norder = ns * cfg->repetitions;
    if (ns > INT32_MAX / 4 || nq > INT32_MAX / 4 || norder > INT32_MAX / 4 ||
        per_epoch * cfg->repetitions > INT32_MAX / 4)
        return rp_error(REPTILE_EINVAL, "episode: %d-way %d+%d-shot x %d repetitions is too large", cfg->ways,
                        cfg->support_shots, cfg->query_shots, cfg->repetitions);
    ep->cfg = *cfg;
    ep->n_support = (int)ns;
    ep->n_query = (int)nq;
    ep->n_batches = (int)(per_epoch * cfg->repetitions);
    ep->support_image = malloc((size_t)ns * sizeof(int32_t));
    ep->support_label = malloc((size_t)ns * sizeof(int32_t));
    ep->query_image = malloc((size_t)(nq ? nq : 1) * sizeof(int32_t));
    ep->query_label = malloc((size_t)(nq ? nq : 1) * sizeof(int32_t));
    ep->class_of_label = malloc((size_t)cfg->ways * sizeof(int32_t));
    ep->batch_start = malloc((size_t)(ep->n_batches + 1) * sizeof(int32_t));
    ep->order = malloc((size_t)norder * sizeof(int32_t));
    ep->pick = malloc((size_t)(cfg->support_shots + cfg->query_shots) * sizeof(int32_t));
    if (!ep->support_image || !ep->support_label || !ep->query_image || !ep->query_label ||
        !ep->class_of_label || !ep->batch_start || !ep->order || !ep->pick) {
        rp_episode_free(ep);
        return rp_error(REPTILE_ENOMEM, "episode: out of memory");
    }
    /* Labels and batch boundaries do not depend on the draw. */
    for (int l = 0; l < cfg->ways; ++l) {
        for (int i = 0; i < cfg->support_shots; ++i)
            ep->support_label[l * cfg->support_shots + i] = l;
        for (int i = 0; i < cfg->query_shots; ++i)
            ep->query_label[l * cfg->query_shots + i] = l;
    }
    int b = 0;
    for (int r = 0; r < cfg->repetitions; ++r)
        for (int s = 0; s < ep->n_support; s += cfg->batch_size)
            ep->batch_start[b++] = r * ep->n_support + s;
    ep->batch_start[b] = (int32_t)norder;
    return 0;
}

void rp_episode_free(rp_episode *ep)
{
    if (!ep)
        return;
    free(ep->support_image);
    free(ep->support_label);
    free(ep->query_image);
    free(ep->query_label);
    free(ep->class_of_label);
    free(ep->batch_start);
    free(ep->order);
    free(ep->pick);
    memset(ep, 0, sizeof *ep);
}

/* k distinct values of [0, n), uniformly random order (k <= n). */
static void draw_distinct(rp_rng *rng, int n, int k, int32_t *dst)
{
    int m = 0;
    for (int j = n - k; j < n; ++j) {
        int32_t t = (int32_t)rp_rng_below(rng, (uint32_t)j + 1);
        int seen = 0;
        for (int i = 0; i < m; ++i)
            if (dst[i] == t) {
                seen = 1;
                break;
            }
        dst[m++] = seen ? j : t;
    }
    rp_rng_shuffle_i32(rng, dst, k);
}

int rp_episode_draw(rp_episode *ep, const reptile_dataset *ds, rp_rng *rng)
{
    if (!ep || !ds || !rng || !ep->order)
        return rp_error(REPTILE_EINVAL, "rp_episode_draw: NULL or uninitialised argument");
    const rp_episode_config *cfg = &ep->cfg;
    const int ways = cfg->ways, ks = cfg->support_shots, kq = cfg->query_shots;
    const int nc = ds->n_classes;
    if (nc < 1)
        return rp_error(REPTILE_EDATA, "episode: the data set has no classes");
    if (cfg->with_replacement) {
        for (int l = 0; l < ways; ++l)
            ep->class_of_label[l] = (int32_t)rp_rng_below(rng, (uint32_t)nc);
    } else {
        if (nc < ways)
            return rp_error(REPTILE_EDATA, "episode: %d-way tasks need %d distinct classes, the data set has %d",
                            ways, ways, nc);
        draw_distinct(rng, nc, ways, ep->class_of_label);
    }
    for (int l = 0; l < ways; ++l) {
        const rp_class *c = &ds->classes[ep->class_of_label[l]];
        int32_t *sup = ep->support_image + (size_t)l * ks;
        int32_t *qry = ep->query_image + (size_t)l * kq;
        if (c->count < 1)
            return rp_error(REPTILE_EDATA, "episode: class %d has no images", (int)ep->class_of_label[l]);
        if (cfg->with_replacement) {
            for (int i = 0; i < ks; ++i)
                sup[i] = c->first + (int32_t)rp_rng_below(rng, (uint32_t)c->count);
            for (int i = 0; i < kq; ++i)
                qry[i] = c->first + (int32_t)rp_rng_below(rng, (uint32_t)c->count);
        } else {
            if (c->count < ks + kq)
                return rp_error(REPTILE_EDATA,
                                "episode: class %d has %d images, a %d-shot task with %d queries needs %d",
                                (int)ep->class_of_label[l], (int)c->count, ks, kq, ks + kq);
            draw_distinct(rng, c->count, ks + kq, ep->pick);
            for (int i = 0; i < ks; ++i)
                sup[i] = c->first + ep->pick[i];
            for (int i = 0; i < kq; ++i)
                qry[i] = c->first + ep->pick[ks + i];
        }
    }
    return 0;
}

int rp_episode_sample(rp_episode *ep, const reptile_dataset *ds, rp_rng *rng)
{
    int rc = rp_episode_draw(ep, ds, rng);
    if (rc)
        return rc;
    const int ns = ep->n_support;
    for (int r = 0; r < ep->cfg.repetitions; ++r) {
        int32_t *o = ep->order + (size_t)r * ns;
        for (int i = 0; i < ns; ++i)
            o[i] = i;
        rp_rng_shuffle_i32(rng, o, ns);
    }
    return 0;
}
