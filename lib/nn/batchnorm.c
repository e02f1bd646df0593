/* BatchNorm over [rows, channels]. Statistics accumulate in double per channel
 * tile: a channel of up to ~20k rows summed in float would lose ~1e-3 relative
 * accuracy in the worst case and the variance suffers most; these passes are
 * memory bound, so double costs no measurable time. All inner loops run over
 * contiguous channels and vectorise, in a version per vector width
 * (core/simd.h). */
#include "nn/batchnorm.h"
#include "core/simd.h"

#include <math.h>
#include <stddef.h>

enum { TILE = 64 }; /* channels per tile: fixed-size locals, no VLA */

static int tile_width(int channels, int c0)
{
    return channels - c0 < TILE ? channels - c0 : TILE;
}

/* y = x * scale + shift, and max(y, 0) when a ReLU follows (as
 * rp_relu_forward computes it: the same bits, one pass fewer). */
RP_SIMD_LOOP void scale_shift_rows(int rows, size_t C, int c0, int cw, const float *restrict x,
                                   const float *scale, const float *shift, int relu,
                                   float *restrict y)
{
    for (int r = 0; r < rows; ++r) {
        const float *xr = x + (size_t)r * C + c0;
        float *yr = y + (size_t)r * C + c0;
        if (relu) {
            for (int c = 0; c < cw; ++c) {
                const float v = xr[c] * scale[c] + shift[c];
                yr[c] = v > 0.0f ? v : 0.0f;
            }
        } else {
            for (int c = 0; c < cw; ++c)
                yr[c] = xr[c] * scale[c] + shift[c];
        }
    }
}

RP_SIMD_LOOP void forward_train_loop(int rows, int channels, float eps, const float *restrict x,
                                     const float *restrict gamma, const float *restrict beta,
                                     float *restrict y, float *restrict batch_mean,
                                     float *restrict batch_invstd, int relu)
{
    const size_t C = (size_t)channels;
    for (int c0 = 0; c0 < channels; c0 += TILE) {
        const int cw = tile_width(channels, c0);
        double sum[TILE] = {0};
        for (int r = 0; r < rows; ++r) {
            const float *xr = x + (size_t)r * C + c0;
            for (int c = 0; c < cw; ++c)
                sum[c] += xr[c];
        }
        double mean[TILE];
        for (int c = 0; c < cw; ++c)
            mean[c] = sum[c] / rows;
        /* Two passes (mean, then squared deviations): no cancellation. */
        double sq[TILE] = {0};
        for (int r = 0; r < rows; ++r) {
            const float *xr = x + (size_t)r * C + c0;
            for (int c = 0; c < cw; ++c) {
                double d = xr[c] - mean[c];
                sq[c] += d * d;
            }
        }
        float scale[TILE], shift[TILE];
        for (int c = 0; c < cw; ++c) {
            double invstd = 1.0 / sqrt(sq[c] / rows + eps);
            batch_mean[c0 + c] = (float)mean[c];
            batch_invstd[c0 + c] = (float)invstd;
            scale[c] = (float)(gamma[c0 + c] * invstd);
            shift[c] = (float)(beta[c0 + c] - mean[c] * gamma[c0 + c] * invstd);
        }
        if (relu) /* constant flags: a loop specialised for each */
            scale_shift_rows(rows, C, c0, cw, x, scale, shift, 1, y);
        else
            scale_shift_rows(rows, C, c0, cw, x, scale, shift, 0, y);
    }
}

void rp_batchnorm_update_moving(int channels, float momentum, const float *batch_mean, const float *batch_invstd, float eps,
                                float *moving_mean, float *moving_var)
{
    for (int c = 0; c < channels; ++c) {
        double inv = batch_invstd[c];
        double var = 1.0 / (inv * inv) - eps;
        if (var < 0.0)
            var = 0.0; /* rounding when the true variance is ~0 */
        moving_mean[c] = moving_mean[c] * momentum + batch_mean[c] * (1.0f - momentum);
        moving_var[c] = (float)(moving_var[c] * (double)momentum + var * (1.0 - momentum));
    }
}

RP_SIMD_LOOP void forward_infer_loop(int rows, int channels, float eps, const float *restrict x,
                                     const float *restrict gamma, const float *restrict beta,
                                     const float *restrict moving_mean,
                                     const float *restrict moving_var, float *restrict y,
                                     int relu)
{
    const size_t C = (size_t)channels;
    for (int c0 = 0; c0 < channels; c0 += TILE) {
        const int cw = tile_width(channels, c0);
        float scale[TILE], shift[TILE];
        for (int c = 0; c < cw; ++c) {
            double invstd = 1.0 / sqrt((double)moving_var[c0 + c] + eps);
            scale[c] = (float)(gamma[c0 + c] * invstd);
            shift[c] = (float)(beta[c0 + c] - moving_mean[c0 + c] * gamma[c0 + c] * invstd);
        }
        if (relu) /* constant flags: a loop specialised for each */
            scale_shift_rows(rows, C, c0, cw, x, scale, shift, 1, y);
        else
            scale_shift_rows(rows, C, c0, cw, x, scale, shift, 0, y);
    }
}

/* The gradient reaching BatchNorm in one row of a channel tile: dy, or
 * with a ReLU after it dy where the ReLU's output y is positive and +0
 * elsewhere (rp_relu_backward's bits), gathered into d. A loop of its own:
 * GCC 12 if-converts the select in a float loop, not inside the double
 * sums. */
RP_SIMD_LOOP const float *masked_row(const float *restrict dy, const float *restrict relu_y,
                                     int relu, size_t row, int cw, float *restrict d)
{
    if (!relu)
        return dy + row;
    const float *dr = dy + row, *yr = relu_y + row;
    for (int c = 0; c < cw; ++c) {
        const float g = dr[c];
        d[c] = yr[c] > 0.0f ? g : 0.0f;
    }
    return d;
}

/* Shared by both modes: with xhat = (x - mean) * invstd,
 * dbeta = sum dy, dgamma = sum dy * xhat. */
RP_SIMD_LOOP void sums_dy_xhat(int rows, size_t C, int c0, int cw, const float *restrict x,
                               const float *restrict dy, const float *restrict relu_y, int relu,
                               const float *mean, const float *invstd, double *restrict sdy,
                               double *restrict sdyx)
{
    for (int c = 0; c < cw; ++c)
        sdy[c] = sdyx[c] = 0.0;
    float d[TILE];
    for (int r = 0; r < rows; ++r) {
        const size_t row = (size_t)r * C + c0;
        const float *xr = x + row, *dr = masked_row(dy, relu_y, relu, row, cw, d);
        for (int c = 0; c < cw; ++c) {
            sdy[c] += dr[c];
            sdyx[c] += (double)dr[c] * ((xr[c] - mean[c]) * invstd[c]);
        }
    }
}

RP_SIMD_LOOP void backward_train_body(int rows, int channels, const float *restrict x,
                                      const float *restrict dy, const float *restrict relu_y,
                                      int relu, const float *restrict gamma,
                                      const float *restrict batch_mean,
                                      const float *restrict batch_invstd, float *restrict dx,
                                      float *restrict dgamma, float *restrict dbeta)
{
    const size_t C = (size_t)channels;
    for (int c0 = 0; c0 < channels; c0 += TILE) {
        const int cw = tile_width(channels, c0);
        float mean[TILE], inv[TILE];
        for (int c = 0; c < cw; ++c) {
            mean[c] = batch_mean[c0 + c];
            inv[c] = batch_invstd[c0 + c];
        }
        double sdy[TILE], sdyx[TILE];
        sums_dy_xhat(rows, C, c0, cw, x, dy, relu_y, relu, mean, inv, sdy, sdyx);
        for (int c = 0; c < cw; ++c) {
            dbeta[c0 + c] = (float)sdy[c];
            dgamma[c0 + c] = (float)sdyx[c];
        }
        if (!dx)
            continue;
        /* dx = gamma*invstd * (dy - mean(dy) - xhat * mean(dy*xhat)) */
        float k[TILE], a[TILE], b[TILE];
        for (int c = 0; c < cw; ++c) {
            k[c] = gamma[c0 + c] * inv[c];
            a[c] = (float)(sdy[c] / rows);
            b[c] = (float)(sdyx[c] / rows);
        }
        float d[TILE];
        for (int r = 0; r < rows; ++r) {
            const size_t row = (size_t)r * C + c0;
            const float *xr = x + row, *dr = masked_row(dy, relu_y, relu, row, cw, d);
            float *dxr = dx + row;
            for (int c = 0; c < cw; ++c) {
                float xh = (xr[c] - mean[c]) * inv[c];
                dxr[c] = k[c] * (dr[c] - a[c] - xh * b[c]);
            }
        }
    }
}

RP_SIMD_LOOP void backward_train_loop(int rows, int channels, const float *restrict x,
                                      const float *restrict dy, const float *restrict relu_y,
                                      const float *restrict gamma,
                                      const float *restrict batch_mean,
                                      const float *restrict batch_invstd, float *restrict dx,
                                      float *restrict dgamma, float *restrict dbeta)
{
    if (relu_y)
        backward_train_body(rows, channels, x, dy, relu_y, 1, gamma, batch_mean, batch_invstd, dx,
                            dgamma, dbeta);
    else
        backward_train_body(rows, channels, x, dy, NULL, 0, gamma, batch_mean, batch_invstd, dx,
                            dgamma, dbeta);
}

/* Moving statistics are constants, so dx is a per-channel scaling of dy
 * that needs no sum: one pass gives the sums and dx. */
RP_SIMD_LOOP void backward_infer_body(int rows, int channels, float eps, const float *restrict x,
                                      const float *restrict dy, const float *restrict relu_y,
                                      int relu, const float *restrict gamma,
                                      const float *restrict moving_mean,
                                      const float *restrict moving_var, float *restrict dx,
                                      float *restrict dgamma, float *restrict dbeta)
{
    const size_t C = (size_t)channels;
    for (int c0 = 0; c0 < channels; c0 += TILE) {
        const int cw = tile_width(channels, c0);
        float mean[TILE], inv[TILE], k[TILE];
        for (int c = 0; c < cw; ++c) {
            mean[c] = moving_mean[c0 + c];
            inv[c] = (float)(1.0 / sqrt((double)moving_var[c0 + c] + eps));
            k[c] = gamma[c0 + c] * inv[c];
        }
        double sdy[TILE], sdyx[TILE];
        if (!dx) {
            sums_dy_xhat(rows, C, c0, cw, x, dy, relu_y, relu, mean, inv, sdy, sdyx);
        } else {
            for (int c = 0; c < cw; ++c)
                sdy[c] = sdyx[c] = 0.0;
            float d[TILE];
            for (int r = 0; r < rows; ++r) {
                const size_t row = (size_t)r * C + c0;
                const float *xr = x + row, *dr = masked_row(dy, relu_y, relu, row, cw, d);
                float *dxr = dx + row;
                for (int c = 0; c < cw; ++c) {
                    sdy[c] += dr[c];
                    sdyx[c] += (double)dr[c] * ((xr[c] - mean[c]) * inv[c]);
                    dxr[c] = k[c] * dr[c];
                }
            }
        }
        for (int c = 0; c < cw; ++c) {
            dbeta[c0 + c] = (float)sdy[c];
            dgamma[c0 + c] = (float)sdyx[c];
        }
    }
}

RP_SIMD_LOOP void backward_infer_loop(int rows, int channels, float eps, const float *restrict x,
                                      const float *restrict dy, const float *restrict relu_y,
                                      const float *restrict gamma,
                                      const float *restrict moving_mean,
                                      const float *restrict moving_var, float *restrict dx,
                                      float *restrict dgamma, float *restrict dbeta)
{
    if (relu_y)
        backward_infer_body(rows, channels, eps, x, dy, relu_y, 1, gamma, moving_mean,
                            moving_var, dx, dgamma, dbeta);
    else
        backward_infer_body(rows, channels, eps, x, dy, NULL, 0, gamma, moving_mean, moving_var,
                            dx, dgamma, dbeta);
}

RP_SIMD_VARIANTS(forward_train,
                 (int rows, int channels, float eps, const float *restrict x,
                  const float *restrict gamma, const float *restrict beta, float *restrict y,
                  float *restrict batch_mean, float *restrict batch_invstd, int relu),
                 (rows, channels, eps, x, gamma, beta, y, batch_mean, batch_invstd, relu))
RP_SIMD_VARIANTS(forward_infer,
                 (int rows, int channels, float eps, const float *restrict x,
                  const float *restrict gamma, const float *restrict beta,
                  const float *restrict moving_mean, const float *restrict moving_var,
                  float *restrict y, int relu),
                 (rows, channels, eps, x, gamma, beta, moving_mean, moving_var, y, relu))
RP_SIMD_VARIANTS(backward_train,
                 (int rows, int channels, const float *restrict x, const float *restrict dy,
                  const float *restrict relu_y, const float *restrict gamma,
                  const float *restrict batch_mean, const float *restrict batch_invstd,
                  float *restrict dx, float *restrict dgamma, float *restrict dbeta),
                 (rows, channels, x, dy, relu_y, gamma, batch_mean, batch_invstd, dx, dgamma,
                  dbeta))
RP_SIMD_VARIANTS(backward_infer,
                 (int rows, int channels, float eps, const float *restrict x,
                  const float *restrict dy, const float *restrict relu_y,
                  const float *restrict gamma, const float *restrict moving_mean,
                  const float *restrict moving_var, float *restrict dx, float *restrict dgamma,
                  float *restrict dbeta),
                 (rows, channels, eps, x, dy, relu_y, gamma, moving_mean, moving_var, dx, dgamma,
                  dbeta))

void rp_batchnorm_forward_train(int rows, int channels, float eps, const float *restrict x,
                                const float *restrict gamma, const float *restrict beta,
                                float *restrict y, float *restrict batch_mean,
                                float *restrict batch_invstd, int relu)
{
    RP_SIMD_CALL(forward_train,
                 (rows, channels, eps, x, gamma, beta, y, batch_mean, batch_invstd, relu != 0));
}

void rp_batchnorm_forward_infer(int rows, int channels, float eps, const float *restrict x,
                                const float *restrict gamma, const float *restrict beta,
                                const float *restrict moving_mean,
                                const float *restrict moving_var, float *restrict y, int relu)
{
    RP_SIMD_CALL(forward_infer,
                 (rows, channels, eps, x, gamma, beta, moving_mean, moving_var, y, relu != 0));
}

void rp_batchnorm_backward_train(int rows, int channels, const float *restrict x,
                                 const float *restrict dy, const float *restrict relu_y,
                                 const float *restrict gamma, const float *restrict batch_mean,
                                 const float *restrict batch_invstd, float *restrict dx,
                                 float *restrict dgamma, float *restrict dbeta)
{
    RP_SIMD_CALL(backward_train, (rows, channels, x, dy, relu_y, gamma, batch_mean, batch_invstd,
                                  dx, dgamma, dbeta));
}

void rp_batchnorm_backward_infer(int rows, int channels, float eps, const float *restrict x,
                                 const float *restrict dy, const float *restrict relu_y,
                                 const float *restrict gamma, const float *restrict moving_mean,
                                 const float *restrict moving_var, float *restrict dx,
                                 float *restrict dgamma, float *restrict dbeta)
{
    RP_SIMD_CALL(backward_infer, (rows, channels, eps, x, dy, relu_y, gamma, moving_mean,
                                  moving_var, dx, dgamma, dbeta));
}
