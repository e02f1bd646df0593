/* Softmax + sparse categorical cross-entropy (fused) and row argmax. */
#ifndef RP_NN_LOSS_H
#define RP_NN_LOSS_H

#include <stdint.h>

enum rp_reduction { RP_REDUCE_SUM = 0, RP_REDUCE_MEAN = 1 };

/* Softmax + sparse categorical cross-entropy, fused. logits [batch, classes], labels in [0, classes).
   probs (may be NULL) receives the softmax. dlogits (may be NULL) receives d(loss)/d(logits) for the chosen reduction.
   keras_clip: 1 = Keras semantics (probabilities clipped to [1e-7, 1-1e-7] before the log; where the true-class probability is clipped the gradient of that row is zero), 0 = exact log-softmax.
   Returns the reduced loss (sum or mean over the batch), computed stably (log-sum-exp). */
float rp_softmax_xent(int batch, int classes, const float *logits, const int32_t *labels, enum rp_reduction reduction,
                      int keras_clip, float *probs, float *dlogits);

/* out[b] = index of the largest x[b, :] (first one on ties). */
void rp_argmax_rows(int batch, int classes, const float *x, int32_t *out);

/* Numerically stable row softmax; probs may equal logits. */
void rp_softmax_rows(int batch, int classes, const float *logits, float *probs);

#endif
