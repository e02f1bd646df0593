/* Per-shard workspaces: one arena per shard, carved into activation,
 * convolution, max-pooling (winners), BatchNorm-statistics and gradient
 * buffers. Sized for the largest batch seen, so steady-state steps never
 * allocate. */
#include "model/model_internal.h"
#include "core/error_internal.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

_Static_assert(sizeof(int32_t) == sizeof(float), "maxpool winners share the float arena");

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
            if (carve) /* the arena may be another model's: drop its cached tables */
                rp_conv2d_workspace_forget(&s, sh->conv_ws[l]);
        }
        if (ly->kind == RP_LAYER_MAXPOOL) {
            /* The winners, one int32 per output, in as many float slots. */
            float *slots = NULL;
            TAKE(slots, out);
            if (carve)
                sh->pool_argmax[l] = (int32_t *)slots;
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

/* ---- this thread's spare arenas -------------------------------------------- */

/* As many as a model has shards, so that releasing a model and sizing the
 * next one frees nothing (a freed arena would stay in the process's heap). */
typedef struct spare_arenas {
    float *arena[RP_SHARDS];
    size_t floats[RP_SHARDS];
} spare_arenas;

static pthread_key_t spare_key;
static int spare_key_ok;
static pthread_once_t spare_once = PTHREAD_ONCE_INIT;

static void spare_destroy(void *p)
{
    spare_arenas *sp = p;
    for (int i = 0; i < RP_SHARDS; ++i)
        free(sp->arena[i]);
    free(sp);
}

static void spare_key_create(void) { spare_key_ok = pthread_key_create(&spare_key, spare_destroy) == 0; }

/* This thread's spares, created on first use; NULL when that fails (then
 * arenas are simply allocated and freed). */
static spare_arenas *spares(void)
{
    pthread_once(&spare_once, spare_key_create);
    if (!spare_key_ok)
        return NULL;
    spare_arenas *sp = pthread_getspecific(spare_key);
    if (!sp && (sp = calloc(1, sizeof *sp)) != NULL && pthread_setspecific(spare_key, sp) != 0) {
        free(sp);
        sp = NULL;
    }
    return sp;
}

/* An arena of at least `floats`: the smallest spare large enough, else a
 * new one, zeroed so that padding lanes hold defined values for tools like
 * valgrind (a spare's lanes were defined by the model that used it). */
static float *take_arena(size_t floats, size_t *got)
{
    spare_arenas *sp = spares();
    int best = -1;
    for (int i = 0; sp && i < RP_SHARDS; ++i)
        if (sp->arena[i] && sp->floats[i] >= floats && (best < 0 || sp->floats[i] < sp->floats[best]))
            best = i;
    if (best >= 0) {
        float *a = sp->arena[best];
        *got = sp->floats[best];
        sp->arena[best] = NULL;
        sp->floats[best] = 0;
        return a;
    }
    float *a = aligned_alloc(64, floats * sizeof(float));
    if (a)
        memset(a, 0, floats * sizeof(float));
    *got = floats;
    return a;
}

/* Keeps `arena` in an empty place or instead of a smaller spare (freed);
 * frees it when every spare is at least as large. */
static void give_arena(float *arena, size_t floats)
{
    spare_arenas *sp = spares();
    int slot = -1;
    for (int i = 0; sp && i < RP_SHARDS; ++i)
        if (sp->floats[i] < floats && (slot < 0 || sp->floats[i] < sp->floats[slot]))
            slot = i;
    if (slot < 0) {
        free(arena);
        return;
    }
    free(sp->arena[slot]);
    sp->arena[slot] = arena;
    sp->floats[slot] = floats;
}

void rp_model_release_workspace(reptile_model *m)
{
    for (int s = 0; s < RP_SHARDS; ++s) {
        rp_shard *sh = &m->shards[s];
        if (sh->arena)
            give_arena(sh->arena, sh->arena_floats);
        sh->arena = NULL;
        sh->arena_floats = 0;
        sh->capacity = 0;
    }
}

static int grow_shard(reptile_model *m, rp_shard *sh, int cap)
{
    size_t floats = layout(m, sh, cap, 0);
    if (floats > sh->arena_floats) {
        size_t got = 0;
        float *arena = take_arena(floats, &got);
        if (!arena)
            return rp_error(REPTILE_ENOMEM, "out of memory sizing workspaces for %d images (%zu MB)",
                            cap, floats * sizeof(float) >> 20);
        free(sh->arena);
        sh->arena = arena;
        sh->arena_floats = got;
    }
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
