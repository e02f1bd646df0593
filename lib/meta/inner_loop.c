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

int rp_meta_inner_loop(reptile_meta *meta, rp_slot *slot, const reptile_dataset *ds, rp_rng *rng)
{
    const reptile_meta_options *o = &meta->opts;
    const rp_episode *ep = &slot->train_ep;
    rp_task_buffers *b = &slot->task;
    const int fomaml = o->algorithm == REPTILE_ALGORITHM_FOMAML;
    rp_finetune_config c = {o->inner_iters, o->iters_are_steps, o->inner_batch, o->bn_mode};
    int n = ep->n_support, rc;
    if (fomaml && o->foml_tail > 0) {
        split_tail(meta, ep, ds, slot, &n);
        c.iters -= 1;
        rc = rp_finetune(slot->model, slot->opt, &c, b->support, b->support_y, n, rng, b->xb,
                         b->yb, b->order, NULL);
        if (rc == 0) {
            rp_model_read_weights(slot->model, slot->before_last);
            rc = reptile_model_train_step(slot->model, slot->opt, slot->tail_x, slot->tail_y,
                                          o->ways * o->foml_tail, o->bn_mode, NULL);
        }
    } else {
        rp_dataset_gather(ds, ep->support_image, n, b->support);
        memcpy(b->support_y, ep->support_label, (size_t)n * sizeof *b->support_y);
        rc = rp_finetune(slot->model, slot->opt, &c, b->support, b->support_y, n, rng, b->xb,
                         b->yb, b->order, fomaml ? slot->before_last : NULL);
    }
    if (rc == 0 && fomaml)
        fomaml_weights(meta, slot);
    return rc;
}
