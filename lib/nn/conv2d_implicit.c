/* Implicit-GEMM convolution (conv2d_implicit.h). The three products and
 * the im2col path's equivalents:
 *   forward  y  = gather(xpad) w + bias      im2col, rp_sgemm_bias
 *   weights  dw = gather(xpad)^T dy          rp_sgemm(1, 0, ...) on the patch matrix
 *   input    stride 1: dx = sum over taps (ky, kx), in col2im's order (ky,
 *                 kx descending), of dy shifted by the tap times w(ky, kx)^T
 *            strided: col2im(dy w^T), as the im2col path
 *                                            rp_sgemm(0, 1, ...) then col2im
 * Each K block is summed as rp_sgemm sums it, so the bits agree. */
#include "nn/conv2d_implicit.h"
#include "nn/conv2d_border.h"
#include "nn/gemm.h"
#include "nn/im2col.h"

#include <string.h>

typedef struct layout {
    int hp, wp;               /* bordered input: (out - 1) * stride + k rows and columns */
    int transposed;           /* dx as a transposed convolution (stride 1) or by col2im */
    int hq, wq;               /* bordered dy: in + k - 1 rows and columns */
    int top_q, left_q;        /* where dy starts in it */
    size_t m, k, mi, kq;      /* output pixels, patch length, input pixels, taps x out_c */
    ptrdiff_t *pix_off;       /* m: an output pixel's window corner in xpad */
    ptrdiff_t *k_off;         /* k: a patch element's offset from that corner */
    ptrdiff_t *in_off;        /* mi: an input pixel's corner in dypad */
    ptrdiff_t *tap_off;       /* kq: (tap, channel of dy) offsets, taps in col2im's order */
    float *xpad, *dypad, *wr; /* wr: w reordered as [tap][out_c][in_c] */
    float *dcol;              /* strided: dx's patch matrix, over xpad (dead after dw) */
    float *border;            /* the zero border's row groups (conv2d_border.h) */
    size_t floats;            /* workspace size */
} layout;

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
    L->transposed = s->stride_h == 1 && s->stride_w == 1;
    L->hq = s->in_h + s->k_h - 1;
    L->wq = s->in_w + s->k_w - 1;
    L->top_q = s->k_h - 1 - s->pad_top;
    L->left_q = s->k_w - 1 - s->pad_left;
    L->m = (size_t)s->batch * s->out_h * s->out_w;
    L->k = (size_t)s->k_h * s->k_w * s->in_c;
    L->mi = (size_t)s->batch * s->in_h * s->in_w;
    L->kq = (size_t)s->k_h * s->k_w * s->out_c;
    const size_t xpad = (size_t)s->batch * L->hp * L->wp * s->in_c, dcol = L->m * L->k;
    const int t = L->transposed;
    /* The border's tables first: their key then sits at ws[0] whatever the
     * batch, so building for one batch invalidates another's. */
    const size_t sizes[8] = {rp_conv2d_border_floats(s),
                             table_floats(L->m),
                             table_floats(L->k),
                             t ? table_floats(L->mi) : 0,
                             t ? table_floats(L->kq) : 0,
                             round16(t || xpad > dcol ? xpad : dcol),
                             t ? round16((size_t)s->batch * L->hq * L->wq * s->out_c) : 0,
                             t ? round16(L->kq * s->in_c) : 0};
    size_t at[8], total = 0;
    for (int i = 0; i < 8; ++i) {
        at[i] = total;
        total += sizes[i];
    }
    L->floats = total;
    if (!ws)
        return;
    L->pix_off = (ptrdiff_t *)(void *)(ws + at[1]);
    L->k_off = (ptrdiff_t *)(void *)(ws + at[2]);
    L->in_off = (ptrdiff_t *)(void *)(ws + at[3]);
    L->tap_off = (ptrdiff_t *)(void *)(ws + at[4]);
    L->xpad = ws + at[5];
    L->dypad = ws + at[6];
    L->wr = ws + at[7];
    L->dcol = L->xpad;
    L->border = ws + at[0];
}

void rp_conv2d_implicit_forget(const rp_conv2d_shape *s, float *ws)
{
    rp_conv2d_border_forget(s, ws);
}

int rp_conv2d_uses_implicit(const rp_conv2d_shape *s)
{
    const int stride1 = s->stride_h == 1 && s->stride_w == 1;
    return (!stride1 || s->out_c <= rp_sgemm_block_k()) && strcmp(rp_sgemm_path(), "avx512") == 0;
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
                         s->out_c, bias, y, 0, B.order_y, B.fwd, B.n_cls);
    else
        rp_sgemm_indexed((int)L.m, s->out_c, (int)L.k, rp_sgemm_block_k(), L.xpad, L.pix_off,
                         L.k_off, 0, w, s->out_c, bias, y, s->out_c);
}

/* dx: taps (ky, kx) from the last to the first, so that every input pixel
 * sums its contributions in the order col2im adds them (output pixels
 * ascending). */
static void input_gradient(const rp_conv2d_shape *s, const layout *L, const float *w,
                           const float *dy, float *dx)
{
    const int C = s->in_c, N = s->out_c, taps = s->k_h * s->k_w;
    border_copy(dy, s->batch, s->out_h, s->out_w, N, L->dypad, L->hq, L->wq, L->top_q,
                L->left_q);
    size_t p = 0;
    for (int b = 0; b < s->batch; ++b)
        for (int iy = 0; iy < s->in_h; ++iy)
            for (int ix = 0; ix < s->in_w; ++ix)
                L->in_off[p++] = (((ptrdiff_t)b * L->hq + iy) * L->wq + ix) * N;
    for (int t = 0; t < taps; ++t) {
        /* Tap t of the sum is kernel tap (ky, kx) = taps - 1 - t, whose dy
         * pixel for input (iy, ix) sits at (iy + k_h-1-ky, ix + k_w-1-kx) in dypad. */
        const int tap = taps - 1 - t, ky = tap / s->k_w, kx = tap % s->k_w;
        const ptrdiff_t corner = ((ptrdiff_t)(s->k_h - 1 - ky) * L->wq + (s->k_w - 1 - kx)) * N;
        for (int n = 0; n < N; ++n) {
            L->tap_off[(size_t)t * N + n] = corner + n;
            for (int c = 0; c < C; ++c)
                L->wr[((size_t)t * N + n) * C + c] = w[((size_t)tap * C + c) * N + n];
        }
    }
    rp_sgemm_indexed((int)L->mi, C, (int)L->kq, N, L->dypad, L->in_off, L->tap_off, 0, L->wr, C,
                     NULL, dx, C);
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
                         dy, s->out_c, NULL, dw, s->out_c, NULL, B.dw, B.n_tiles);
    else
        rp_sgemm_indexed((int)L.k, s->out_c, (int)L.m, rp_sgemm_block_k(), L.xpad, L.k_off,
                         L.pix_off, 0, dy, s->out_c, NULL, dw, s->out_c);
    if (!dx)
        return;
    if (L.transposed) {
        input_gradient(s, &L, w, dy, dx);
        return;
    }
    /* The patch matrix's gradient dy w^T; col2im reads only inside taps. */
    if (B.any)
        rp_sgemm_grouped((int)L.k, s->out_c, rp_sgemm_block_k(), dy, B.order_y, B.chan_off, 1, w,
                         s->out_c, NULL, L.dcol, 0, B.order_col, B.dx, B.n_cls);
    else
        rp_sgemm(0, 1, (int)L.m, (int)L.k, s->out_c, 1.0f, dy, s->out_c, w, s->out_c, 0.0f,
                 L.dcol, (int)L.k);
    rp_col2im(s, L.dcol, dx);
}
