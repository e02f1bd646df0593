/* Per-shard workspaces: one arena per shard, carved into activation,
 * convolution, BatchNorm-statistics and gradient buffers. Sized for the
 * largest batch seen, so steady-state steps never allocate. */
#include "model/model_internal.h"
#include "core/error_internal.h"

#include <stdlib.h>
#include <string.h>

/* Round float counts up to 64 bytes so every buffer starts cache-aligned. */
static size_t align16(size_t n) { return (n + 15) & ~(size_t)15; }

int rp_model_shard_count(int batch, int bn_mode)
{
    /* Batch statistics need the whole batch in one shard. */
    if (bn_mode == REPTILE_BN_BATCH || batch < RP_SHARDS)
        return 1;
    return RP_SHARDS;
}

/* Lays out (carve = 1) or measures (carve = 0) a shard of `cap` images. */
static size_t layout(reptile_model *m, rp_shard *sh, int cap, int carve)
{
    size_t off = 0;
    float *base = sh->arena;
#define TAKE(ptr, count)                                   \
    do {                                                   \
        size_t n_ = align16(count);                        \
        if (carve)                                         \
            (ptr) = base + off;                            \
        off += n_;                                         \
    } while (0)
    size_t in_size = (size_t)m->in_h * m->in_w * m->in_c;
    size_t max_act = m->max_act > in_size ? m->max_act : in_size;
    for (int l = 0; l < m->n_layers; ++l) {
        rp_layer *ly = &m->layers[l];
        size_t out = (size_t)ly->out_h * ly->out_w * ly->out_c * (size_t)cap;
        if (ly->in_place && l > 0) {
            if (carve)
                sh->act[l] = sh->act[l - 1];
        } else {
            TAKE(sh->act[l], out);
        }
        if (ly->kind == RP_LAYER_CONV2D) {
            rp_conv2d_shape s = ly->conv;
            s.batch = cap;
            TAKE(sh->conv_ws[l], rp_conv2d_workspace_floats(&s));
        }
        if (ly->kind == RP_LAYER_BATCHNORM) {
            TAKE(sh->bn_mean[l], (size_t)ly->out_c);
            TAKE(sh->bn_invstd[l], (size_t)ly->out_c);
        }
    }
    TAKE(sh->grad_a, max_act * (size_t)cap);
    TAKE(sh->grad_b, max_act * (size_t)cap);
    TAKE(sh->dlogits, (size_t)reptile_model_num_outputs(m) * (size_t)cap);
    TAKE(sh->param_grad, m->n_params);
#undef TAKE
    return off;
}

int rp_model_shard_size(int batch, int shards, int s)
{
    return s == shards - 1 ? batch - (shards - 1) * (batch / shards) : batch / shards;
}

static int grow_shard(reptile_model *m, rp_shard *sh, int cap)
{
    size_t floats = layout(m, sh, cap, 0);
    float *arena = aligned_alloc(64, floats * sizeof(float));
    if (!arena)
        return rp_error(REPTILE_ENOMEM, "out of memory sizing workspaces for %d images (%zu MB)", cap,
                        floats * sizeof(float) >> 20);
    /* Zeroed so that padding lanes hold defined values for tools like valgrind. */
    memset(arena, 0, floats * sizeof(float));
    free(sh->arena);
    sh->arena = arena;
    sh->capacity = cap;
    layout(m, sh, cap, 1);
    return 0;
}

int rp_model_reserve(reptile_model *m, int batch, int bn_mode)
{
    /* Each shard holds exactly what this mode's split gives it: shard 0
     * takes a whole batch only when BatchNorm needs batch statistics. */
    int shards = rp_model_shard_count(batch, bn_mode);
    for (int s = 0; s < shards; ++s) {
        int cap = rp_model_shard_size(batch, shards, s);
        if (cap > m->shards[s].capacity) {
            int rc = grow_shard(m, &m->shards[s], cap);
            if (rc)
                return rc;
        }
    }
    return 0;
}
