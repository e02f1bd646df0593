/* Implicit-GEMM convolution (conv2d_implicit.h). The three products and
 * the im2col path's equivalents:
 *   forward  y  = gather(xpad) w + bias      im2col, rp_sgemm_bias
 *   weights  dw = gather(xpad)^T dy          rp_sgemm(1, 0, ...) on the patch matrix
 *   input    dx = for each input pixel, the sum over the kernel taps that
 *                 reach it, in col2im's order (taps descending), of its dy
 *                 pixel times w(tap)^T      rp_sgemm(0, 1, ...) then col2im
 * Each K block is summed as rp_sgemm sums it, so the bits agree. */
#include "nn/conv2d_implicit.h"
#include "nn/conv2d_border.h"
#include "nn/gemm.h"
#include "nn/im2col.h"

#include <stdint.h>
#include <string.h>

/* Input gradients by tap classes need each axis's reaching taps as a bit
 * mask, and few distinct masks; other shapes take col2im. */
enum { MAX_TAPS = 32, MAX_MASKS = 32 };

typedef struct layout {
    int hp, wp;               /* bordered input: (out - 1) * stride + k rows and columns */
    int by_taps;              /* dx by tap classes (else a patch matrix and col2im) */
    int n_rmask, n_cmask;     /* by_taps: distinct reaching-tap masks of rows, columns */
    int hq, wq, ty, tx;       /* dy in a (hq x wq) frame at (ty, tx) */
    size_t m, k, mi, kq;      /* output pixels, patch length, input pixels, taps x out_c */
    size_t tap_k;             /* by_taps: the classes' k lists, in all */
    ptrdiff_t *pix_off;       /* m: an output pixel's window corner in xpad */
    ptrdiff_t *k_off;         /* k: a patch element's offset from that corner */
    ptrdiff_t *in_off;        /* mi, class order: an input pixel's base in dypad */
    ptrdiff_t *dx_off;        /* mi, class order: its row of dx */
    ptrdiff_t *tap_off;       /* kq: (tap, channel of dy) offsets, taps in col2im's order */
    ptrdiff_t *tap_w;         /* taps: where each sum term's weights start in w */
    int *k_list;              /* tap_k: each class's (tap, channel) k */
    int *axis_cls;            /* in_h + in_w: each input row's, then column's mask class */
    rp_gemm_group *cls;       /* n_rmask * n_cmask */
    float *xpad, *dypad;
    float *dcol;              /* !by_taps: dx's patch matrix, over xpad (dead after dw) */
    float *border;            /* the zero border's row groups (conv2d_border.h) */
    size_t floats;            /* workspace size */
} layout;

/* The kernel rows (or columns) whose products land on input row i: t with
 * i + pad - t a multiple of the stride, the quotient an output row. */
static uint32_t reaching_taps(int i, int k, int stride, int pad, int out)
{
    uint32_t mask = 0;
    for (int t = 0; t < k; ++t) {
        const int d = i + pad - t;
        if (d >= 0 && d % stride == 0 && d / stride < out)
            mask |= 1u << t;
    }
    return mask;
}

/* The distinct masks of an axis of `in` rows, in order of first
 * appearance (at most MAX_MASKS; returns MAX_MASKS + 1 past that); cls
 * (may be NULL) gets each row's class, tap_sum the masks' taps in all. */
static int tap_classes(int in, int k, int stride, int pad, int out, uint32_t *masks, int *cls,
                       int *tap_sum)
{
    int n = 0;
    *tap_sum = 0;
    for (int i = 0; i < in; ++i) {
        const uint32_t mask = reaching_taps(i, k, stride, pad, out);
        int c = 0;
        while (c < n && masks[c] != mask)
            ++c;
        if (c == n) {
            if (n == MAX_MASKS)
                return MAX_MASKS + 1;
            masks[n++] = mask;
            *tap_sum += __builtin_popcount(mask);
        }
        if (cls)
            cls[i] = c;
    }
    return n;
}

/* Floats holding n offsets, rounded up to whole 64-byte lines. */
static size_t table_floats(size_t n)
{
    size_t f = n * (sizeof(ptrdiff_t) / sizeof(float));
    return (f + 15) & ~(size_t)15;
}

static size_t round16(size_t n)
{
    return (n + 15) & ~(size_t)15;
}

/* The layout of ws (NULL: sizes only). */
static void plan(const rp_conv2d_shape *s, float *ws, layout *L)
{
    L->hp = (s->out_h - 1) * s->stride_h + s->k_h;
    L->wp = (s->out_w - 1) * s->stride_w + s->k_w;
    L->m = (size_t)s->batch * s->out_h * s->out_w;
    L->k = (size_t)s->k_h * s->k_w * s->in_c;
    L->mi = (size_t)s->batch * s->in_h * s->in_w;
    L->kq = (size_t)s->k_h * s->k_w * s->out_c;
    /* An input pixel (iy, ix) meets dy pixel (qy - ky / stride, ...) through
     * tap (ky, kx), qy = (iy + pad_top) / stride: dy sits in a frame with
     * room above it for the largest ky / stride and below it for qy. */
    L->ty = (s->k_h - 1) / s->stride_h;
    L->tx = (s->k_w - 1) / s->stride_w;
    const int qh = (s->in_h - 1 + s->pad_top) / s->stride_h + 1;
    const int qw = (s->in_w - 1 + s->pad_left) / s->stride_w + 1;
    L->hq = (qh > s->out_h ? qh : s->out_h) + L->ty;
    L->wq = (qw > s->out_w ? qw : s->out_w) + L->tx;
    uint32_t masks[MAX_MASKS];
    int row_taps = 0, col_taps = 0;
    L->by_taps = !s->no_input_grad && s->out_c <= rp_sgemm_block_k() && s->k_h <= MAX_TAPS &&
                 s->k_w <= MAX_TAPS;
    if (L->by_taps) {
        L->n_rmask = tap_classes(s->in_h, s->k_h, s->stride_h, s->pad_top, s->out_h, masks,
                                 NULL, &row_taps);
        L->n_cmask = tap_classes(s->in_w, s->k_w, s->stride_w, s->pad_left, s->out_w, masks,
                                 NULL, &col_taps);
        L->by_taps = L->n_rmask <= MAX_MASKS && L->n_cmask <= MAX_MASKS;
    }
    const int t = L->by_taps;
    L->tap_k = t ? (size_t)row_taps * col_taps * s->out_c : 0;
    const size_t xpad = (size_t)s->batch * L->hp * L->wp * s->in_c, dcol = L->m * L->k;
    const size_t n_cls = t ? (size_t)L->n_rmask * L->n_cmask : 0;
    /* The border's tables first: their key then sits at ws[0] whatever the
     * batch, so building for one batch invalidates another's. */
    const size_t sizes[12] = {rp_conv2d_border_floats(s),
                              table_floats(L->m),
                              table_floats(L->k),
                              t ? table_floats(L->mi) : 0,
                              t ? table_floats(L->mi) : 0,
                              t ? table_floats(L->kq) : 0,
                              t ? table_floats((size_t)s->k_h * s->k_w) : 0,
                              t ? round16(L->tap_k) : 0,
                              t ? round16((size_t)s->in_h + s->in_w) : 0,
                              t ? round16(n_cls * sizeof(rp_gemm_group) / sizeof(float)) : 0,
                              round16(t || s->no_input_grad || xpad > dcol ? xpad : dcol),
                              t ? round16((size_t)s->batch * L->hq * L->wq * s->out_c) : 0};
    size_t at[12], total = 0;
    for (int i = 0; i < 12; ++i) {
        at[i] = total;
        total += sizes[i];
    }
    L->floats = total;
    if (!ws)
        return;
    L->border = ws + at[0];
    L->pix_off = (ptrdiff_t *)(void *)(ws + at[1]);
    L->k_off = (ptrdiff_t *)(void *)(ws + at[2]);
    L->in_off = (ptrdiff_t *)(void *)(ws + at[3]);
    L->dx_off = (ptrdiff_t *)(void *)(ws + at[4]);
    L->tap_off = (ptrdiff_t *)(void *)(ws + at[5]);
    L->tap_w = (ptrdiff_t *)(void *)(ws + at[6]);
    L->k_list = (int *)(void *)(ws + at[7]);
    L->axis_cls = (int *)(void *)(ws + at[8]);
    L->cls = (rp_gemm_group *)(void *)(ws + at[9]);
    L->xpad = ws + at[10];
    L->dypad = ws + at[11];
    L->dcol = L->xpad;
}

void rp_conv2d_implicit_forget(const rp_conv2d_shape *s, float *ws)
{
    rp_conv2d_border_forget(s, ws);
}

int rp_conv2d_uses_implicit(const rp_conv2d_shape *s)
{
    (void)s; /* every shape: wide or huge kernels take col2im for dx */
    return strcmp(rp_sgemm_path(), "avx512") == 0;
}

size_t rp_conv2d_implicit_workspace_floats(const rp_conv2d_shape *s)
{
    layout L;
    plan(s, NULL, &L);
    return L.floats;
}

/* dst (batch x hd x wd x c) = src (batch x h x w x c) placed at (top, left),
 * zero around it. */
static void border_copy(const float *src, int batch, int h, int w, int c, float *dst, int hd,
                        int wd, int top, int left)
{
    const size_t row = (size_t)wd * c;
    for (int b = 0; b < batch; ++b)
        for (int r = 0; r < hd; ++r) {
            float *d = dst + ((size_t)b * hd + r) * row;
            const int sr = r - top;
            if (sr < 0 || sr >= h) {
                memset(d, 0, row * sizeof *d);
                continue;
            }
            const int fit = w < wd - left ? w : wd - left; /* valid padding: wd may be < w */
            memset(d, 0, (size_t)left * c * sizeof *d);
            memcpy(d + (size_t)left * c, src + ((size_t)b * h + sr) * w * c,
                   (size_t)fit * c * sizeof *d);
            memset(d + (size_t)(left + fit) * c, 0, (size_t)(wd - left - fit) * c * sizeof *d);
        }
}

void rp_conv2d_implicit_forward(const rp_conv2d_shape *s, const float *x, const float *w,
                                const float *bias, float *y, float *ws)
{
    layout L;
    plan(s, ws, &L);
    const int C = s->in_c;
    border_copy(x, s->batch, s->in_h, s->in_w, C, L.xpad, L.hp, L.wp, s->pad_top, s->pad_left);
    size_t m = 0;
    for (int b = 0; b < s->batch; ++b)
        for (int oy = 0; oy < s->out_h; ++oy)
            for (int ox = 0; ox < s->out_w; ++ox)
                L.pix_off[m++] =
                    (((ptrdiff_t)b * L.hp + (ptrdiff_t)oy * s->stride_h) * L.wp +
                     (ptrdiff_t)ox * s->stride_w) * C;
    size_t k = 0;
    for (int ky = 0; ky < s->k_h; ++ky)
        for (int kx = 0; kx < s->k_w; ++kx)
            for (int c = 0; c < C; ++c)
                L.k_off[k++] = ((ptrdiff_t)ky * L.wp + kx) * C + c;
    rp_conv2d_border B;
    rp_conv2d_border_tables(s, L.pix_off, L.border, &B);
    if (B.any)
        rp_sgemm_grouped(s->out_c, (int)L.k, rp_sgemm_block_k(), L.xpad, B.order_x, L.k_off, 0, w,
                         s->out_c, NULL, bias, y, 0, B.order_y, B.fwd, B.n_cls);
    else
        rp_sgemm_indexed((int)L.m, s->out_c, (int)L.k, rp_sgemm_block_k(), L.xpad, L.pix_off,
                         L.k_off, 0, w, s->out_c, bias, y, s->out_c);
}

/* dx by tap classes: input pixels are grouped by the kernel taps that
 * reach them (a row mask times a column mask), each group summing its
 * taps from the last to the first, one K block of out_c per tap, so that
 * every input pixel sums its contributions in the order col2im adds them
 * (output pixels ascending). No product meets the zero border. */
static void input_gradient(const rp_conv2d_shape *s, const layout *L, const float *w,
                           const float *dy, float *dx)
{
    const int C = s->in_c, N = s->out_c, taps = s->k_h * s->k_w;
    border_copy(dy, s->batch, s->out_h, s->out_w, N, L->dypad, L->hq, L->wq, L->ty, L->tx);
    uint32_t rmask[MAX_MASKS], cmask[MAX_MASKS];
    int *row_cls = L->axis_cls, *col_cls = L->axis_cls + s->in_h, unused;
    tap_classes(s->in_h, s->k_h, s->stride_h, s->pad_top, s->out_h, rmask, row_cls, &unused);
    tap_classes(s->in_w, s->k_w, s->stride_w, s->pad_left, s->out_w, cmask, col_cls, &unused);
    const int n_cls = L->n_rmask * L->n_cmask;
    for (int t = 0; t < taps; ++t) {
        /* Sum term t is kernel tap (ky, kx) = taps - 1 - t, whose dy pixel
         * sits ky / stride rows and kx / stride columns before the base. */
        const int tap = taps - 1 - t, ky = tap / s->k_w, kx = tap % s->k_w;
        const ptrdiff_t corner =
            -((ptrdiff_t)(ky / s->stride_h) * L->wq + kx / s->stride_w) * N;
        for (int n = 0; n < N; ++n)
            L->tap_off[(size_t)t * N + n] = corner + n;
        L->tap_w[t] = (ptrdiff_t)tap * C * N; /* w(tap) is C x N: read transposed */
    }
    /* Input pixels in class order: a counting sort, pixel order within. */
    int start[MAX_MASKS * MAX_MASKS + 1];
    memset(start, 0, (size_t)(n_cls + 1) * sizeof *start);
    for (int iy = 0; iy < s->in_h; ++iy)
        for (int ix = 0; ix < s->in_w; ++ix)
            start[row_cls[iy] * L->n_cmask + col_cls[ix] + 1] += s->batch;
    for (int c = 0; c < n_cls; ++c)
        start[c + 1] += start[c];
    int *list = L->k_list;
    for (int c = 0; c < n_cls; ++c) {
        const uint32_t rm = rmask[c / L->n_cmask], cm = cmask[c % L->n_cmask];
        int n_k = 0;
        for (int t = 0; t < taps; ++t) {
            const int tap = taps - 1 - t, ky = tap / s->k_w, kx = tap % s->k_w;
            if ((rm >> ky & 1) && (cm >> kx & 1))
                for (int n = 0; n < N; ++n)
                    list[n_k++] = t * N + n;
        }
        L->cls[c] = (rp_gemm_group){start[c], start[c + 1], list, n_k, ~0ull};
        list += n_k;
    }
    size_t p = 0;
    for (int b = 0; b < s->batch; ++b)
        for (int iy = 0; iy < s->in_h; ++iy) {
            const ptrdiff_t qy = (iy + s->pad_top) / s->stride_h + L->ty;
            for (int ix = 0; ix < s->in_w; ++ix, ++p) {
                const ptrdiff_t qx = (ix + s->pad_left) / s->stride_w + L->tx;
                const int at = start[row_cls[iy] * L->n_cmask + col_cls[ix]]++;
                L->in_off[at] = (((ptrdiff_t)b * L->hq + qy) * L->wq + qx) * N;
                L->dx_off[at] = (ptrdiff_t)p * C;
            }
        }
    rp_sgemm_grouped(C, (int)L->kq, N, L->dypad, L->in_off, L->tap_off, 1, w, N, L->tap_w, NULL,
                     dx, C, L->dx_off, L->cls, n_cls);
}

void rp_conv2d_implicit_backward(const rp_conv2d_shape *s, const float *w, const float *dy,
                                 float *dx, float *dw, float *ws)
{
    layout L;
    plan(s, ws, &L);
    rp_conv2d_border B;
    rp_conv2d_border_tables(s, L.pix_off, L.border, &B);
    /* dw = patches^T dy: rows are patch elements, the sum runs over pixels. */
    if (B.any)
        rp_sgemm_grouped(s->out_c, (int)L.m, rp_sgemm_block_k(), L.xpad, L.k_off, L.pix_off, 0,
                         dy, s->out_c, NULL, NULL, dw, s->out_c, NULL, B.dw, B.n_tiles);
    else
        rp_sgemm_indexed((int)L.k, s->out_c, (int)L.m, rp_sgemm_block_k(), L.xpad, L.k_off,
                         L.pix_off, 0, dy, s->out_c, NULL, dw, s->out_c);
    if (!dx)
        return;
    if (L.by_taps) {
        input_gradient(s, &L, w, dy, dx);
        return;
    }
    /* Wide layers (out_c past one K block): the patch matrix's gradient. */
    rp_sgemm(0, 1, (int)L.m, (int)L.k, s->out_c, 1.0f, dy, s->out_c, w, s->out_c, 0.0f, L.dcol,
             (int)L.k);
    rp_col2im(s, L.dcol, dx);
}
