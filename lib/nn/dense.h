/* Fully connected layer: x [batch, in], w [in, out] (Keras layout), bias [out]. */
#ifndef RP_NN_DENSE_H
#define RP_NN_DENSE_H

/* y [batch, out] = x w + bias; bias may be NULL. */
void rp_dense_forward(int batch, int in, int out, const float *x, const float *w, const float *bias, float *y);

/* dw [in, out] and db [out] are overwritten; dx [batch, in] may be NULL (else overwritten); db may be NULL. */
void rp_dense_backward(int batch, int in, int out, const float *x, const float *w, const float *dy, float *dx /* may be NULL */, float *dw, float *db);

#endif
