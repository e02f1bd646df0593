#include "model/finetune.h"
#include "model/model_internal.h"
#include "model/optimizer_internal.h"
#include "core/error_internal.h"

#include <stdlib.h>
#include <string.h>

static size_t image_floats(const reptile_model *m)
{
    int h, w, c;
    reptile_model_input_shape(m, &h, &w, &c);
    return (size_t)h * w * c;
}

static void shuffle(rp_rng *rng, int32_t *order, int n)
{
    for (int i = 0; i < n; ++i)
        order[i] = i;
    rp_rng_shuffle_i32(rng, order, n);
}

/* Copies the images at positions pos[0..k) into one batch. */
static void gather(const float *x, const int32_t *y, size_t img, const int32_t *pos, int k,
                   float *xb, int32_t *yb)
{
    for (int i = 0; i < k; ++i) {
        memcpy(xb + (size_t)i * img, x + (size_t)pos[i] * img, img * sizeof *xb);
        yb[i] = y[pos[i]];
    }
}

void rp_model_read_weights(const reptile_model *m, float *dst)
{
    memcpy(dst, m->params, m->n_params * sizeof *dst);
    memcpy(dst + m->n_params, m->state, m->n_state * sizeof *dst);
}

int rp_finetune_step_count(const rp_finetune_config *c, int n)
{
    if (c->steps)
        return c->iters;
    return c->iters * ((n + c->batch - 1) / c->batch);
}

void rp_finetune_begin(rp_finetune_run *r, const rp_finetune_config *c, const float *x,
                       const int32_t *y, int n, rp_rng *rng, float *xb, int32_t *yb,
                       int32_t *order, float *before_last)
{
    *r = (rp_finetune_run){*c, x, y, n, rng, xb, yb, order, before_last, 0,
                           rp_finetune_step_count(c, n), n};
}

/* The next batch in the run's order: step mode cuts full batches across
 * reshuffles; epoch mode reshuffles per epoch and ends it with a partial
 * batch. Returns the batch size. */
static int next_batch(const reptile_model *m, rp_finetune_run *r)
{
    const size_t img = image_floats(m);
    if (r->c.steps) {
        for (int i = 0; i < r->c.batch; ++i) {
            if (r->used == r->n) {
                shuffle(r->rng, r->order, r->n);
                r->used = 0;
            }
            gather(r->x, r->y, img, &r->order[r->used++], 1, r->xb + (size_t)i * img, r->yb + i);
        }
        return r->c.batch;
    }
    if (r->used == r->n) {
        shuffle(r->rng, r->order, r->n);
        r->used = 0;
    }
    const int k = r->n - r->used < r->c.batch ? r->n - r->used : r->c.batch;
    gather(r->x, r->y, img, r->order + r->used, k, r->xb, r->yb);
    r->used += k;
    return k;
}

int rp_finetune_steps(reptile_model *m, reptile_optimizer *opt, rp_finetune_run *r,
                      int max_steps)
{
    int rc = 0;
    for (int i = 0; i < max_steps && r->done < r->total && rc == 0; ++i) {
        const int k = next_batch(m, r);
        if (r->done == r->total - 1 && r->before_last)
            rp_model_read_weights(m, r->before_last);
        rc = reptile_model_train_step(m, opt, r->xb, r->yb, k, r->c.bn_mode, NULL);
        r->done++;
    }
    return rc;
}

int rp_finetune(reptile_model *m, reptile_optimizer *opt, const rp_finetune_config *c,
                const float *x, const int32_t *y, int n, rp_rng *rng, float *xb, int32_t *yb,
                int32_t *order, float *before_last)
{
    rp_finetune_run r;
    rp_finetune_begin(&r, c, x, y, n, rng, xb, yb, order, before_last);
    return rp_finetune_steps(m, opt, &r, r.total);
}

int rp_predict_queries(reptile_model *m, int bn_mode, int transductive, const float *support,
                       int ns, const float *queries, int nq, float *probs, float *x, float *row)
{
    if (bn_mode != REPTILE_BN_BATCH || transductive)
        return reptile_model_predict(m, queries, nq, bn_mode, probs);
    const size_t img = image_floats(m);
    const int outputs = reptile_model_num_outputs(m);
    memcpy(x, support, (size_t)ns * img * sizeof *x);
    for (int q = 0; q < nq; ++q) {
        memcpy(x + (size_t)ns * img, queries + (size_t)q * img, img * sizeof *x);
        int rc = reptile_model_predict(m, x, ns + 1, bn_mode, row);
        if (rc)
            return rc;
        memcpy(probs + (size_t)q * outputs, row + (size_t)ns * outputs,
               (size_t)outputs * sizeof *row);
    }
    return 0;
}

int rp_task_buffers_reserve(rp_task_buffers *b, const reptile_model *m, int ns, int nq, int batch)
{
    if (ns <= b->ns && nq <= b->nq && batch <= b->batch)
        return 0;
    ns = ns > b->ns ? ns : b->ns;
    nq = nq > b->nq ? nq : b->nq;
    batch = batch > b->batch ? batch : b->batch;
    const size_t img = image_floats(m), out = (size_t)reptile_model_num_outputs(m);
    rp_task_buffers n = {ns, nq, batch, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL};
    n.support = malloc((size_t)ns * img * sizeof(float));
    n.queries = malloc((size_t)nq * img * sizeof(float));
    n.xb = malloc((size_t)batch * img * sizeof(float));
    n.x = malloc((size_t)(ns + 1) * img * sizeof(float));
    n.row = malloc((size_t)(ns + 1) * out * sizeof(float));
    n.probs = malloc((size_t)nq * out * sizeof(float));
    n.support_y = malloc((size_t)ns * sizeof(int32_t));
    n.query_y = malloc((size_t)nq * sizeof(int32_t));
    n.yb = malloc((size_t)batch * sizeof(int32_t));
    n.order = malloc((size_t)ns * sizeof(int32_t));
    if (!n.support || !n.queries || !n.xb || !n.x || !n.row || !n.probs || !n.support_y ||
        !n.query_y || !n.yb || !n.order) {
        rp_task_buffers_free(&n);
        return rp_error(REPTILE_ENOMEM, "out of memory for a task of %d + %d images", ns, nq);
    }
    rp_task_buffers_free(b);
    *b = n;
    return 0;
}

void rp_task_buffers_free(rp_task_buffers *b)
{
    free(b->support);
    free(b->queries);
    free(b->xb);
    free(b->x);
    free(b->row);
    free(b->probs);
    free(b->support_y);
    free(b->query_y);
    free(b->yb);
    free(b->order);
    memset(b, 0, sizeof *b);
}

int rp_finetune_task(reptile_model *m, reptile_optimizer *opt, const reptile_optimizer *saved,
                     const rp_finetune_config *c, rp_task_buffers *b, int ns, uint64_t adapt_seed)
{
    if (saved) {
        int rc = rp_optimizer_copy_state(opt, saved);
        if (rc)
            return rc;
    } else {
        reptile_optimizer_reset(opt);
    }
    rp_rng rng;
    rp_rng_init(&rng, adapt_seed, 0, (uint64_t)RP_DOMAIN_ADAPT << 32);
    return rp_finetune(m, opt, c, b->support, b->support_y, ns, &rng, b->xb, b->yb, b->order,
                       NULL);
}
