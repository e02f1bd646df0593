/* A training task's inner loop, and the weights it hands to the
 * meta-update: the adapted weights (Reptile) or the meta-weights moved by
 * the task's last inner step (first-order MAML). The batches come from the
 * fine-tuning path evaluation and adaptation use (model/finetune.c),
 * continuing the task's stream as the episode sampler would. */
#include "meta/meta_internal.h"
#include "model/model_internal.h"

#include <string.h>

/* The reference's _split_train_test: round r of the tail takes image r of
 * each class; the rest stay in order. Fills b->support (train part first,
 * count *n_train) and the tail batch into tail_x / tail_y. */
static void split_tail(const reptile_meta *meta, const rp_episode *ep, const reptile_dataset *ds,
                       rp_slot *slot, int *n_train)
{
    const int ways = ep->cfg.ways, shots = ep->cfg.support_shots, tail = meta->opts.foml_tail;
    rp_task_buffers *b = &slot->task;
    int n = 0, k = 0;
    for (int r = 0; r < tail; ++r)
        for (int l = 0; l < ways; ++l) {
            slot->tail_idx[k] = ep->support_image[l * shots + r];
            slot->tail_y[k++] = l;
        }
    for (int l = 0; l < ways; ++l)
        for (int r = tail; r < shots; ++r) {
            b->order[n] = ep->support_image[l * shots + r]; /* free until the inner loop */
            b->support_y[n++] = l;
        }
    rp_dataset_gather(ds, b->order, n, b->support);
    rp_dataset_gather(ds, slot->tail_idx, k, slot->tail_x);
    *n_train = n;
}

/* FOMAML: the slot's weights become meta-weights + (final - before last). */
static void fomaml_weights(const reptile_meta *meta, rp_slot *slot)
{
    float *w = slot->before_last;
    const float *meta_params = reptile_model_params(meta->model);
    const float *meta_state = rp_model_state_data(meta->model);
    const float *params = reptile_model_params(slot->model);
    const float *state = rp_model_state_data(slot->model);
    const size_t np = meta->n_params, ns = meta->n_state;
    for (size_t i = 0; i < np; ++i)
        w[i] = meta_params[i] + (params[i] - w[i]);
    for (size_t i = 0; i < ns; ++i)
        w[np + i] = meta_state[i] + (state[i] - w[np + i]);
    rp_model_write_weights(slot->model, w);
}

/* The training task's fine-tuning settings and its support count (FOMAML
 * with a tail holds the tail's images out of the inner loop and runs one
 * epoch or step fewer before the tail step). */
static rp_finetune_config task_config(const reptile_meta_options *o, int *n_inner, int *tail_steps)
{
    rp_finetune_config c = {o->inner_iters, o->iters_are_steps, o->inner_batch, o->bn_mode};
    const int tail = o->algorithm == REPTILE_ALGORITHM_FOMAML && o->foml_tail > 0;
    *n_inner = o->ways * (o->train_shots - (tail ? o->foml_tail : 0));
    *tail_steps = tail;
    c.iters -= tail;
    return c;
}

int rp_meta_task_step_count(const reptile_meta_options *o)
{
    int n, tail;
    rp_finetune_config c = task_config(o, &n, &tail);
    return rp_finetune_step_count(&c, n) + tail;
}

void rp_meta_task_begin(reptile_meta *meta, rp_slot *slot, const reptile_dataset *ds)
{
    const reptile_meta_options *o = &meta->opts;
    const rp_episode *ep = &slot->train_ep;
    rp_task_buffers *b = &slot->task;
    const int fomaml = o->algorithm == REPTILE_ALGORITHM_FOMAML;
    int n, tail;
    rp_finetune_config c = task_config(o, &n, &tail);
    if (tail) {
        split_tail(meta, ep, ds, slot, &n);
    } else {
        n = ep->n_support;
        rp_dataset_gather(ds, ep->support_image, n, b->support);
        memcpy(b->support_y, ep->support_label, (size_t)n * sizeof *b->support_y);
    }
    /* Without a tail, FOMAML's snapshot is taken before the last inner step. */
    rp_finetune_begin(&slot->run, &c, b->support, b->support_y, n, &slot->rng, b->xb, b->yb,
                      b->order, fomaml && !tail ? slot->before_last : NULL);
    slot->tail_pending = tail;
}

int rp_meta_task_steps(reptile_meta *meta, rp_slot *slot, int count)
{
    const reptile_meta_options *o = &meta->opts;
    rp_finetune_run *r = &slot->run;
    int rc = 0;
    const int inner = r->total - r->done < count ? r->total - r->done : count;
    if (inner > 0)
        rc = rp_finetune_steps(slot->model, rp_slot_optimizer(meta, slot), r, inner);
    if (rc == 0 && count > inner && slot->tail_pending) {
        rp_model_read_weights(slot->model, slot->before_last);
        rc = reptile_model_train_step(slot->model, rp_slot_optimizer(meta, slot), slot->tail_x,
                                      slot->tail_y,
                                      o->ways * o->foml_tail, o->bn_mode, NULL);
        slot->tail_pending = 0;
    }
    if (rc == 0 && r->done == r->total && !slot->tail_pending &&
        o->algorithm == REPTILE_ALGORITHM_FOMAML)
        fomaml_weights(meta, slot);
    return rc;
}
