/* Row groups that skip a convolution's zero border (conv2d_border.h). */
#include "nn/conv2d_border.h"

#include <stdint.h>
#include <string.h>

enum { MAX_CLASSES = 64 };

/* What the tables in a workspace were built for: the shape and the
 * workspace's address (the groups point into it). Steps repeat shapes, so
 * the tables are built once per shape, not per call. */
typedef struct built_for {
    uint64_t magic;
    const float *ws;
    int shape[13];
} built_for;
#define BUILT_MAGIC 0x72706e62726472ULL /* "rpnbrdr" */

static void key_of(const rp_conv2d_shape *s, const float *ws, built_for *k)
{
    memset(k, 0, sizeof *k);
    k->magic = BUILT_MAGIC;
    k->ws = ws;
    const int f[13] = {s->batch,    s->in_h,     s->in_w,     s->in_c,    s->out_c,
                       s->k_h,      s->k_w,      s->stride_h, s->stride_w, s->pad_top,
                       s->pad_left, s->out_h,    s->out_w};
    memcpy(k->shape, f, sizeof f);
}

/* The kernel rows [lo, hi) that fall inside an input of `in` rows for
 * output row o (the same for columns). */
static void inside(int o, int stride, int pad, int k, int in, int *lo, int *hi)
{
    const int first = o * stride - pad; /* input row of kernel row 0 */
    int l = first < 0 ? -first : 0, h = in - first < k ? in - first : k;
    if (l > k)
        l = k;
    if (h < l)
        h = l;
    *lo = l;
    *hi = h;
}

/* Distinct ranges along one axis. Ranges change monotonically with o, so
 * equal ones are consecutive. When cls/range are given, fills them;
 * *inside_taps (may be NULL) gets the kernel rows inside, summed over o. */
static int ranges(int out, int stride, int pad, int k, int in, int *cls, int *range,
                  long *inside_taps)
{
    int n = 0, plo = -1, phi = -1;
    if (inside_taps)
        *inside_taps = 0;
    for (int o = 0; o < out; ++o) {
        int lo, hi;
        inside(o, stride, pad, k, in, &lo, &hi);
        if (inside_taps)
            *inside_taps += hi - lo;
        if (lo != plo || hi != phi) {
            if (range) {
                range[2 * n] = lo;
                range[2 * n + 1] = hi;
            }
            ++n;
            plo = lo;
            phi = hi;
        }
        if (cls)
            cls[o] = n - 1;
    }
    return n;
}

/* Tile t of the weight gradient's rows covers taps [*t0, *t1]. */
static void tile_taps(const rp_conv2d_shape *s, int t, int *t0, int *t1)
{
    const int rows = rp_sgemm_tile_rows(), k = s->k_h * s->k_w * s->in_c;
    const int end = (t + 1) * rows < k ? (t + 1) * rows : k;
    *t0 = t * rows / s->in_c;
    *t1 = (end - 1) / s->in_c;
}

static size_t table(size_t bytes)
{
    return ((bytes + 63) & ~(size_t)63) / sizeof(float);
}

/* Sizes (ws NULL) or pointers of every table. */
static size_t layout(const rp_conv2d_shape *s, float *ws, rp_conv2d_border *b)
{
    long in_rows, in_cols;
    b->n_rows = ranges(s->out_h, s->stride_h, s->pad_top, s->k_h, s->in_h, NULL, NULL, &in_rows);
    b->n_cols = ranges(s->out_w, s->stride_w, s->pad_left, s->k_w, s->in_w, NULL, NULL, &in_cols);
    b->n_cls = b->n_rows * b->n_cols;
    /* Worth its tables (up to ~2 * taps ints a pixel) only where the border
     * holds at least 1/32 of the products: every Omniglot layer (4.7-31%),
     * not the first Mini-ImageNet one (1.6%). */
    const long all = (long)s->out_h * s->k_h * s->out_w * s->k_w;
    b->any = b->n_cls <= MAX_CLASSES && 32 * (all - in_rows * in_cols) >= all;
    if (!b->any)
        return 0;
    const size_t m = (size_t)s->batch * s->out_h * s->out_w;
    const int k = s->k_h * s->k_w * s->in_c, rows = rp_sgemm_tile_rows();
    b->n_tiles = (k + rows - 1) / rows;
    /* Tiles on the same taps share a pixel list. A tile spans at most two
     * taps when it is narrower than a tap, so lists never outnumber twice
     * the taps (sized so, without walking the tiles). */
    const int taps2 = 2 * s->k_h * s->k_w, lists = b->n_tiles < taps2 ? b->n_tiles : taps2;
    const size_t sizes[11] = {
        table(sizeof(built_for)),
        table((size_t)s->out_h * sizeof(int)),
        table((size_t)s->out_w * sizeof(int)),
        table((size_t)2 * (b->n_rows + b->n_cols) * sizeof(int)),
        table(m * sizeof(ptrdiff_t)),
        table(m * sizeof(ptrdiff_t)),
        table((size_t)b->n_cls * sizeof(rp_gemm_group)),
        table((size_t)b->n_tiles * sizeof(rp_gemm_group)),
        table((size_t)b->n_cls * k * sizeof(int)),
        table((size_t)lists * m * sizeof(int)),
        table(m),
    };
    void *at[11];
    size_t total = 0;
    for (int i = 0; i < 11; ++i) {
        at[i] = ws ? (void *)(ws + total) : NULL;
        total += sizes[i];
    }
    b->built = at[0];
    b->row_cls = at[1];
    b->col_cls = at[2];
    b->range = at[3];
    b->order_x = at[4];
    b->order_y = at[5];
    b->fwd = at[6];
    b->dw = at[7];
    b->fwd_k = at[8];
    b->dw_k = at[9];
    b->pixel_cls = at[10];
    return total;
}

size_t rp_conv2d_border_floats(const rp_conv2d_shape *s)
{
    rp_conv2d_border b;
    return layout(s, NULL, &b);
}

/* Kernel tap t of class c falls inside the input. */
static int tap_inside(const rp_conv2d_shape *s, const rp_conv2d_border *b, int c, int t)
{
    const int *r = b->range + 2 * (c / b->n_cols);
    const int *q = b->range + 2 * (b->n_rows + c % b->n_cols);
    const int ky = t / s->k_w, kx = t % s->k_w;
    return ky >= r[0] && ky < r[1] && kx >= q[0] && kx < q[1];
}

/* The classes (bit c) in which one of taps [t0, t1] falls inside. */
static unsigned long long classes_inside(const rp_conv2d_shape *s, const rp_conv2d_border *b,
                                         int t0, int t1)
{
    unsigned long long set = 0;
    for (int c = 0; c < b->n_cls; ++c)
        for (int t = t0; t <= t1; ++t)
            if (tap_inside(s, b, c, t)) {
                set |= 1ull << c;
                break;
            }
    return set;
}

/* The classes, the pixels in class order and the forward's groups. */
static void build_forward(const rp_conv2d_shape *s, const ptrdiff_t *pix_off, rp_conv2d_border *b)
{
    ranges(s->out_h, s->stride_h, s->pad_top, s->k_h, s->in_h, b->row_cls, b->range, NULL);
    ranges(s->out_w, s->stride_w, s->pad_left, s->k_w, s->in_w, b->col_cls,
           b->range + 2 * b->n_rows, NULL);
    /* Pixels in class order (a counting sort, pixel order within a class). */
    const int k = s->k_h * s->k_w * s->in_c;
    int start[MAX_CLASSES + 1] = {0};
    for (int oy = 0; oy < s->out_h; ++oy)
        for (int ox = 0; ox < s->out_w; ++ox)
            start[b->row_cls[oy] * b->n_cols + b->col_cls[ox] + 1] += s->batch;
    for (int c = 0; c < b->n_cls; ++c)
        start[c + 1] += start[c];
    int fill[MAX_CLASSES];
    for (int c = 0; c < b->n_cls; ++c)
        fill[c] = start[c];
    size_t p = 0;
    for (int n = 0; n < s->batch; ++n)
        for (int oy = 0; oy < s->out_h; ++oy)
            for (int ox = 0; ox < s->out_w; ++ox, ++p) {
                const int at = fill[b->row_cls[oy] * b->n_cols + b->col_cls[ox]]++;
                b->pixel_cls[p] = (unsigned char)(b->row_cls[oy] * b->n_cols + b->col_cls[ox]);
                b->order_x[at] = pix_off[p];
                b->order_y[at] = (ptrdiff_t)p * s->out_c;
            }
    /* Each class sums the patch elements of its inside taps. */
    for (int c = 0; c < b->n_cls; ++c) {
        int *list = b->fwd_k + (size_t)c * k, n = 0;
        for (int t = 0; t < s->k_h * s->k_w; ++t)
            if (tap_inside(s, b, c, t))
                for (int e = t * s->in_c; e < (t + 1) * s->in_c; ++e)
                    list[n++] = e;
        b->fwd[c] = (rp_gemm_group){start[c], start[c + 1], list, n, ~0ull};
    }
}

/* The weight gradient's groups, from the forward's classes. */
static void build_backward(const rp_conv2d_shape *s, rp_conv2d_border *b)
{
    const size_t m = (size_t)s->batch * s->out_h * s->out_w;
    const int k = s->k_h * s->k_w * s->in_c;
    /* dw: a tile of patch elements sums the pixels where one of its taps is
     * inside; tiles on the same taps share a list. */
    int *list = b->dw_k, n = 0, p0 = -1, p1 = -1;
    const int rows = rp_sgemm_tile_rows();
    for (int t = 0; t < b->n_tiles; ++t) {
        int t0, t1;
        tile_taps(s, t, &t0, &t1);
        if (t0 != p0 || t1 != p1) {
            if (p0 >= 0)
                list += m;
            const unsigned long long set = classes_inside(s, b, t0, t1);
            n = 0;
            for (size_t p = 0; p < m; ++p) { /* branch-free: most pixels are kept */
                list[n] = (int)p;
                n += (int)((set >> b->pixel_cls[p]) & 1);
            }
            p0 = t0;
            p1 = t1;
        }
        const int end = (t + 1) * rows < k ? (t + 1) * rows : k;
        b->dw[t] = (rp_gemm_group){t * rows, end, list, n, ~0ull};
    }
}

void rp_conv2d_border_tables(const rp_conv2d_shape *s, const ptrdiff_t *pix_off, float *ws,
                             rp_conv2d_border *b)
{
    if (!layout(s, ws, b))
        return;
    built_for want;
    key_of(s, ws, &want);
    if (memcmp(b->built, &want, sizeof want) == 0)
        return;
    build_forward(s, pix_off, b);
    build_backward(s, b);
    memcpy(b->built, &want, sizeof want);
}

void rp_conv2d_border_forget(const rp_conv2d_shape *s, float *ws)
{
    rp_conv2d_border b;
    if (layout(s, ws, &b))
        memset(b.built, 0, sizeof(built_for));
}
