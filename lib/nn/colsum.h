/* Column sums of a row-major [rows, cols] matrix: the bias gradient of dense
 * and conv layers and the BatchNorm beta gradient. */
#ifndef RP_NN_COLSUM_H
#define RP_NN_COLSUM_H

#include <stddef.h>

/* out[c] = sum_r a[r*cols + c], overwritten. Accumulates in double in tiles of
 * columns so that thousands of rows keep float32 accuracy. */
void rp_colsum(size_t rows, int cols, const float *a, float *out);

#endif
