/* Which products of a padded convolution multiply its zero border, as row
 * groups for rp_sgemm_grouped (nn/gemm.h), so the implicit GEMM skips them.
 *
 * An output pixel's kernel taps that fall outside the input read zeros: in
 * the Omniglot network's stride-2 "same" layers that is 9% (14 -> 7) to 31%
 * (7 -> 4, 4 -> 2) of every product. Output pixels are grouped into classes
 * by the range of kernel rows and columns inside the input (top and bottom
 * rows, left and right columns and corners form their own classes):
 *   forward       rows in class order, each class summing its inside taps;
 *   weight grad.  rows are patch elements (one or two taps per tile of
 *                 rp_sgemm_tile_rows()), summing only the pixels where one
 *                 of its taps is inside, in pixel order.
 * Every skipped product is an exact zero, so the results are bitwise the
 * unskipped GEMM's. (The input gradient skips the border by itself:
 * conv2d_implicit.c sums over the taps that reach each input pixel.)
 * Layers whose border holds under 1/32 of the products, or whose pixels
 * fall into more than 64 classes, are left to the plain implicit GEMM
 * (any == 0). */
#ifndef RP_NN_CONV2D_BORDER_H
#define RP_NN_CONV2D_BORDER_H

#include "nn/conv2d.h"
#include "nn/gemm.h"

#include <stddef.h>

typedef struct rp_conv2d_border {
    int any;                  /* some tap of some pixel falls in the border */
    void *built;              /* the shape the tables were built for */
    int n_cls, n_tiles;       /* groups: classes (forward, dx), tiles (dw) */
    int *row_cls, *col_cls;   /* out_h, out_w: a row's, a column's range index */
    int *range;               /* n_rows + n_cols ranges [lo, hi): rows first */
    int n_rows, n_cols;
    ptrdiff_t *order_x;       /* m, class order: the pixel's window corner in xpad */
    ptrdiff_t *order_y;       /* m, class order: its output row (pixel * out_c) */
    rp_gemm_group *fwd, *dw;
    int *fwd_k;               /* n_cls lists of patch elements */
    int *dw_k;                /* the weight gradient's pixel lists */
    unsigned char *pixel_cls; /* m: each pixel's class, in pixel order */
} rp_conv2d_border;

/* Workspace floats the tables need (0 when no tap falls in the border). */
size_t rp_conv2d_border_floats(const rp_conv2d_shape *s);

/* Points b at the tables in ws (rp_conv2d_border_floats(s) floats, 64-byte
 * aligned), building them unless ws already holds them for this shape;
 * pix_off is the implicit GEMM's window corner of each output pixel in
 * natural order. Nothing else may write that part of ws. */
void rp_conv2d_border_tables(const rp_conv2d_shape *s, const ptrdiff_t *pix_off, float *ws,
                             rp_conv2d_border *b);

/* Marks ws as holding no tables (a workspace given to a layer may hold
 * another's, with a key that would still match). */
void rp_conv2d_border_forget(const rp_conv2d_shape *s, float *ws);

#endif
