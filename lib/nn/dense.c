/* Dense layer on cblas_sgemm: y = x w + b, dw = x^T dy, dx = dy w^T. */
#include "nn/dense.h"
#include "nn/colsum.h"

#include <cblas.h>
#include <string.h>

void rp_dense_forward(int batch, int in, int out, const float *x, const float *w, const float *bias, float *y)
{
    float beta = 0.0f;
    if (bias) {
        for (int b = 0; b < batch; ++b)
            memcpy(y + (size_t)b * out, bias, (size_t)out * sizeof *y);
        beta = 1.0f;
    }
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, batch, out, in, 1.0f, x, in, w, out, beta, y, out);
}

void rp_dense_backward(int batch, int in, int out, const float *x, const float *w, const float *dy, float *dx, float *dw, float *db)
{
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, in, out, batch, 1.0f, x, in, dy, out, 0.0f, dw, out);
    if (db)
        rp_colsum((size_t)batch, out, dy, db);
    if (dx)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, batch, in, out, 1.0f, dy, out, w, out, 0.0f, dx, in);
}
