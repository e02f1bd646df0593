/* Softmax + sparse categorical cross-entropy, fused. Class counts are small
 * (5 or 20 ways) so rows are handled one at a time; exp/log run in double so
 * the loss of a confident row keeps its digits. */
#include "nn/loss.h"

#include <math.h>
#include <stddef.h>

/* Keras' backend epsilon; 1 - 1e-7 is evaluated in float32 as Keras does. */
#define KERAS_EPS 1e-7f

void rp_softmax_rows(int batch, int classes, const float *logits, float *probs)
{
    for (int b = 0; b < batch; ++b) {
        const float *z = logits + (size_t)b * classes;
        float *p = probs + (size_t)b * classes;
        float m = z[0];
        for (int j = 1; j < classes; ++j)
            m = z[j] > m ? z[j] : m;
        double s = 0.0;
        for (int j = 0; j < classes; ++j)
            s += exp((double)z[j] - m);
        for (int j = 0; j < classes; ++j)
            p[j] = (float)(exp((double)z[j] - m) / s);
    }
}

float rp_softmax_xent(int batch, int classes, const float *logits, const int32_t *labels, enum rp_reduction reduction,
                      int keras_clip, float *probs, float *dlogits)
{
    const double scale = reduction == RP_REDUCE_MEAN && batch > 0 ? 1.0 / batch : 1.0;
    const float lo = KERAS_EPS, hi = 1.0f - KERAS_EPS;
    double total = 0.0;
    for (int b = 0; b < batch; ++b) {
        const float *z = logits + (size_t)b * classes;
        const int y = labels[b];
        float m = z[0];
        for (int j = 1; j < classes; ++j)
            m = z[j] > m ? z[j] : m;
        double s = 0.0;
        for (int j = 0; j < classes; ++j)
            s += exp((double)z[j] - m);
        const double logs = log(s);
        /* log p_y = z_y - max - log sum exp(z - max): never log(0). */
        const double logp = (double)z[y] - m - logs;
        int flows = 1; /* does the gradient reach this row's logits? */
        double loss = -logp;
        if (keras_clip) {
            float py = (float)exp(logp);
            if (py < lo || py > hi) {
                /* clip_by_value passes no gradient outside [lo, hi] */
                flows = 0;
                loss = -log(py < lo ? (double)lo : (double)hi);
            }
        }
        total += loss;
        if (probs || dlogits) {
            for (int j = 0; j < classes; ++j) {
                double p = exp((double)z[j] - m - logs);
                if (probs)
                    probs[(size_t)b * classes + j] = (float)p;
                if (dlogits)
                    dlogits[(size_t)b * classes + j] = flows ? (float)((p - (j == y)) * scale) : 0.0f;
            }
        }
    }
    return (float)(total * scale);
}

void rp_argmax_rows(int batch, int classes, const float *x, int32_t *out)
{
    for (int b = 0; b < batch; ++b) {
        const float *r = x + (size_t)b * classes;
        int best = 0;
        for (int j = 1; j < classes; ++j)
            if (r[j] > r[best])
                best = j;
        out[b] = best;
    }
}
