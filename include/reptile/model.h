/**
 * @file model.h
 * @brief Sequential models (conv2d, batchnorm, maxpool2d, relu, flatten,
 *        dense) with one contiguous parameter buffer, and their supervised
 *        training step.
 *
 * A model is built layer by layer from an input shape, or in one call for
 * the Keras tutorial's Omniglot network or the Reptile paper's
 * Mini-ImageNet network. Tensors are float32 NHWC, batch first. Trainable
 * parameters live in one contiguous buffer (so snapshots, restores and
 * Reptile's interpolation are plain array operations); the non-trainable
 * BatchNorm moving statistics live in a second buffer, the "state",
 * handled explicitly.
 *
 * Parameter order in the buffer: layers in order; conv2d kernel (HWIO, as
 * Keras: [kh][kw][in][out]) then bias [out]; batchnorm gamma then beta;
 * dense kernel [in][out] then bias [out]; maxpool2d, relu and flatten have
 * none. State order: for each batchnorm layer, moving mean then moving
 * variance.
 *
 * Threading: a model is used by one thread at a time.
 */
#ifndef REPTILE_MODEL_H
#define REPTILE_MODEL_H

#include "reptile/common.h"
#include "reptile/optimizer.h"

REPTILE_BEGIN_DECLS

/** Opaque sequential model. */
typedef struct reptile_model reptile_model;

/** Spatial padding of a convolution or a max-pooling layer. */
enum reptile_padding {
    /** TensorFlow "same": output = ceil(input / stride); the odd padding
     *  row/column goes to the bottom/right. */
    REPTILE_PADDING_SAME = 0,
    /** No padding: output = (input - kernel) / stride + 1 (kernel: the
     *  pooling window for max-pooling). */
    REPTILE_PADDING_VALID = 1
};

/** How the per-image losses of a batch are combined (reptile_model_set_loss()). */
enum reptile_reduction {
    /** Sum over the batch: what the Keras tutorial's code does (the
     *  gradient of a per-sample loss vector is that of its sum). */
    REPTILE_REDUCTION_SUM = 0,
    /** Mean over the batch (the usual choice; the default). */
    REPTILE_REDUCTION_MEAN = 1
};

/** Which statistics BatchNorm layers use in a forward pass. */
enum reptile_bn_mode {
    /** Batch statistics (biased variance); a training step also updates
     *  the moving averages with the layer's momentum. */
    REPTILE_BN_BATCH = 0,
    /** Moving statistics; nothing is updated (inference). */
    REPTILE_BN_MOVING = 1,
    /** The Keras tutorial's accident: the model is called without
     *  training=True, so BatchNorm normalises with its moving statistics
     *  (never updated: mean 0, variance 1) in training steps too and acts as
     *  a learned per-channel scale and shift. Computes exactly what
     *  REPTILE_BN_MOVING does; its own value so that a switch can name both
     *  (it was 1, equal to REPTILE_BN_MOVING, before 0.2). */
    REPTILE_BN_FROZEN = 2
};

/**
 * @brief Start an empty sequential model for inputs of the given shape.
 * @param out      Receives the new model; set to NULL on failure. Free with
 *                 reptile_model_free().
 * @param height,width,channels Input image shape (NHWC), each in 1..4096.
 * @return 0, REPTILE_EINVAL on a bad shape, REPTILE_ENOMEM.
 */
REPTILE_API int reptile_model_new(reptile_model **out, int height, int width, int channels);

/**
 * @brief Build the Keras tutorial's Omniglot network, ready to train.
 *
 * Input 28x28x1 -> 4 x [Conv2D(64, 3x3, stride 2, same) -> BatchNorm(eps
 * 1e-3, momentum 0.99) -> ReLU] -> Flatten -> Dense(classes); 113,221
 * parameters for 5 classes. Parameters are initialised as Keras does
 * (Glorot-uniform kernels, zero biases, gamma 1, beta 0, moving mean 0,
 * moving variance 1) from @p seed.
 * @param out     Receives the model; NULL on failure.
 * @param classes Number of output classes (>= 2).
 * @param seed    Seed of the initialisation.
 * @return 0, REPTILE_EINVAL, REPTILE_ENOMEM.
 */
REPTILE_API int reptile_model_new_omniglot(reptile_model **out, int classes, uint64_t seed);

/**
 * @brief Build the Reptile paper's Mini-ImageNet network, ready to train.
 *
 * The network of the paper's reference implementation
 * (openai/supervised-reptile, models.py, MiniImageNetModel): input
 * 84x84x3 -> 4 x [Conv2D(32, 3x3, stride 1, same) -> BatchNorm(eps 1e-3,
 * momentum 0.99) -> MaxPool(2x2, stride 2, same) -> ReLU] -> Flatten ->
 * Dense(classes). The spatial size goes 84 -> 42 -> 21 -> 11 -> 6, so the
 * flatten has 6x6x32 = 1152 features; 34,661 parameters for 5 classes. It
 * pools before the ReLU, as the reference does (ReLU and max commute: the
 * other order gives equal outputs). Parameters are initialised as
 * reptile_model_new_omniglot() does (Glorot-uniform kernels, zero biases,
 * gamma 1, beta 0, moving mean 0, moving variance 1) from @p seed.
 * @param out     Receives the model; NULL on failure.
 * @param classes Number of output classes (2..4096).
 * @param seed    Seed of the initialisation.
 * @return 0, REPTILE_EINVAL, REPTILE_ENOMEM.
 */
REPTILE_API int reptile_model_new_miniimagenet(reptile_model **out, int classes, uint64_t seed);

/**
 * @brief Append a 2-D convolution with bias.
 * @param model   A model still being built (no parameters accessed yet).
 * @param filters Output channels (>= 1).
 * @param kernel_h,kernel_w Kernel size (>= 1).
 * @param stride_h,stride_w Strides (>= 1).
 * @param padding REPTILE_PADDING_SAME or REPTILE_PADDING_VALID.
 * @return 0; REPTILE_EINVAL for bad values; REPTILE_ESHAPE if the input is
 *         not an image (after flatten/dense) or too small for a valid
 *         kernel; REPTILE_ESTATE once the model is finalised.
 */
REPTILE_API int reptile_model_add_conv2d(reptile_model *model, int filters, int kernel_h,
                                         int kernel_w, int stride_h, int stride_w, int padding);

/**
 * @brief Append per-channel batch normalisation (gamma, beta, moving stats).
 * @param model    A model still being built.
 * @param eps      Variance epsilon (> 0; Keras default 1e-3).
 * @param momentum Moving-average momentum in [0, 1) (Keras default 0.99).
 * @return 0, REPTILE_EINVAL, REPTILE_ESTATE.
 */
REPTILE_API int reptile_model_add_batchnorm(reptile_model *model, float eps, float momentum);

/**
 * @brief Append 2-D max-pooling: each output channel is the maximum of its
 *        input channel over a pool_h x pool_w window. No parameters.
 *
 * Padding as TensorFlow's max_pool: with REPTILE_PADDING_SAME the output is
 * ceil(input / stride), the total padding max((output - 1) * stride + pool
 * - input, 0) with the odd row/column at the bottom/right, and padded cells
 * never win (they act as -infinity); with REPTILE_PADDING_VALID the output
 * is (input - pool) / stride + 1. Windows may overlap (stride < pool) or
 * skip cells (stride > pool). Ties: the first maximum in row-major window
 * order (top row first, left to right) takes the whole gradient, as
 * TensorFlow's CPU kernel and PyTorch do.
 * @param model   A model still being built (no parameters accessed yet).
 * @param pool_h,pool_w Window size (1..64).
 * @param stride_h,stride_w Strides (1..64).
 * @param padding REPTILE_PADDING_SAME or REPTILE_PADDING_VALID.
 * @return 0; REPTILE_EINVAL for bad values (the message names them);
 *         REPTILE_ESHAPE if the input is not an image (after
 *         flatten/dense) or smaller than a valid window; REPTILE_ESTATE
 *         once the model is finalised.
 */
REPTILE_API int reptile_model_add_maxpool2d(reptile_model *model, int pool_h, int pool_w,
                                            int stride_h, int stride_w, int padding);

/** @brief Append a ReLU. @return 0 or REPTILE_ESTATE / REPTILE_EINVAL. */
REPTILE_API int reptile_model_add_relu(reptile_model *model);

/** @brief Append a flatten (NHWC order, as Keras). @return 0, REPTILE_EINVAL, REPTILE_ESTATE. */
REPTILE_API int reptile_model_add_flatten(reptile_model *model);

/**
 * @brief Append a dense layer with bias. Its input must be flat (add a
 *        flatten first after convolutions).
 * @param model A model still being built.
 * @param units Output features (>= 1).
 * @return 0, REPTILE_EINVAL, REPTILE_ESHAPE, REPTILE_ESTATE.
 */
REPTILE_API int reptile_model_add_dense(reptile_model *model, int units);

/**
 * @brief (Re)initialise all parameters as Keras does: Glorot-uniform
 *        kernels, zero biases, gamma 1, beta 0, moving mean 0, variance 1.
 *
 * Finalises the model (no more layers can be added). The same seed gives
 * the same parameters.
 * @return 0, REPTILE_EINVAL (NULL model, no layers), REPTILE_ENOMEM.
 */
REPTILE_API int reptile_model_init(reptile_model *model, uint64_t seed);

/** @brief Number of trainable parameters (floats in the parameter buffer). */
REPTILE_API size_t reptile_model_num_params(const reptile_model *model);

/** @brief Number of non-trainable state floats (BatchNorm moving statistics). */
REPTILE_API size_t reptile_model_num_state(const reptile_model *model);

/** @brief Number of outputs per image (classes of the last dense layer). */
REPTILE_API int reptile_model_num_outputs(const reptile_model *model);

/**
 * @brief Input shape of the model.
 * @param model The model.
 * @param height,width,channels Receive the shape; each may be NULL.
 */
REPTILE_API void reptile_model_input_shape(const reptile_model *model, int *height, int *width,
                                           int *channels);

/**
 * @brief Read-only view of the contiguous parameter buffer.
 * @return num_params floats owned by the model, valid until it is freed;
 *         NULL if the model has no parameters yet.
 */
REPTILE_API const float *reptile_model_params(const reptile_model *model);

/**
 * @brief Copy the parameters out.
 * @param model The model.
 * @param dst Caller's array of exactly @p n floats.
 * @param n   Must equal reptile_model_num_params().
 * @return 0, REPTILE_EINVAL (NULL), REPTILE_ESHAPE (wrong n).
 */
REPTILE_API int reptile_model_get_params(const reptile_model *model, float *dst, size_t n);

/**
 * @brief Overwrite the parameters (finalises the model).
 * @param model The model.
 * @param src @p n floats, copied; must all be finite.
 * @param n   Must equal reptile_model_num_params().
 * @return 0, REPTILE_EINVAL (NULL or non-finite), REPTILE_ESHAPE (wrong n).
 */
REPTILE_API int reptile_model_set_params(reptile_model *model, const float *src, size_t n);

/** @brief Copy the state (moving statistics) out; @p n must equal num_state. */
REPTILE_API int reptile_model_get_state(const reptile_model *model, float *dst, size_t n);

/** @brief Overwrite the state (moving statistics); variances must be >= 0. */
REPTILE_API int reptile_model_set_state(reptile_model *model, const float *src, size_t n);

/**
 * @brief Copy parameters and state from @p src into @p dst.
 * @return 0, or REPTILE_ESHAPE when the two architectures differ.
 */
REPTILE_API int reptile_model_copy(reptile_model *dst, const reptile_model *src);

/**
 * @brief A new model with @p src's layers, parameters, state and loss.
 * @param out Receives the copy; NULL on failure.
 * @param src A model with at least one layer (finalised if it was not).
 * @return 0, REPTILE_EINVAL (NULL, no layers), REPTILE_ENOMEM.
 */
REPTILE_API int reptile_model_clone(reptile_model **out, const reptile_model *src);

/**
 * @brief A copy of @p src whose last (dense) layer has @p outputs units:
 *        every other layer keeps its weights, the last one is drawn anew
 *        as reptile_model_init() would (Glorot-uniform kernel from
 *        @p seed, zero bias).
 *
 * For tasks with more classes than the model was meta-trained on (a 5-way
 * model adapted to 20-way tasks): the new output layer starts untrained, so
 * adaptation must learn it from the support set alone; docs/applications.md
 * gives the accuracy this costs.
 * @return 0, REPTILE_EINVAL (NULL, outputs outside 1..2^20, no layers),
 *         REPTILE_ESHAPE (the last layer is not dense), REPTILE_ENOMEM.
 */
REPTILE_API int reptile_model_with_outputs(reptile_model **out, const reptile_model *src,
                                           int outputs, uint64_t seed);

/**
 * @brief Class probabilities (softmax) for a batch.
 * @param model The model.
 * @param x     batch x height x width x channels floats (NHWC).
 * @param batch Number of images (>= 1). Workspaces grow to the largest
 *              batch seen; calls at that size or smaller do not allocate.
 * @param bn_mode REPTILE_BN_BATCH (statistics of this batch, moving
 *              averages untouched) or REPTILE_BN_MOVING / _FROZEN. With
 *              REPTILE_BN_BATCH an image's prediction depends on the rest
 *              of its batch: a model meta-trained on batch statistics
 *              classifies a query well only beside the support set it was
 *              adapted on (reptile_adapted_predict() in reptile/adapt.h
 *              does this), not alone.
 * @param probs Receives batch x num_outputs probabilities.
 * @return 0, REPTILE_EINVAL (also for an unknown REPTILE_GEMM value),
 *         REPTILE_EUNSUPPORTED (REPTILE_GEMM=native without AVX-512F),
 *         REPTILE_ENOMEM, REPTILE_EDIVERGED (non-finite output).
 */
REPTILE_API int reptile_model_predict(reptile_model *model, const float *x, int batch,
                                      int bn_mode, float *probs);

/**
 * @brief Choose the training objective's loss: softmax cross-entropy with
 *        this reduction over the batch, and optionally Keras' probability
 *        clipping. reptile_model_copy() and reptile_model_load() do not
 *        change it; a new model has REPTILE_REDUCTION_MEAN, no clipping.
 * @param model      The model.
 * @param reduction  REPTILE_REDUCTION_SUM or REPTILE_REDUCTION_MEAN.
 * @param keras_clip 0 or 1. 1: clip probabilities to [1e-7, 1 - 1e-7]
 *                   before the log, as keras.losses does (where the true
 *                   class is clipped the gradient of that image is zero).
 * @return 0 or REPTILE_EINVAL (NULL model, unknown reduction, keras_clip
 *         not 0 or 1).
 */
REPTILE_API int reptile_model_set_loss(reptile_model *model, int reduction, int keras_clip);

/**
 * @brief One supervised step: forward, the loss chosen by
 *        reptile_model_set_loss(), backward, optimizer update.
 * @param model   The model.
 * @param batch   Number of images (>= 1).
 * @param opt     Optimizer; its state is bound to this model's size.
 * @param x       batch images, NHWC.
 * @param labels  batch class indices in [0, num_outputs).
 * @param bn_mode REPTILE_BN_BATCH updates the moving averages;
 *                REPTILE_BN_FROZEN / _MOVING trains on moving statistics.
 * @param loss    Receives the loss before the update (may be NULL).
 * @return 0; REPTILE_EINVAL (bad label, NULL, unknown REPTILE_GEMM);
 *         REPTILE_EUNSUPPORTED (REPTILE_GEMM=native without AVX-512F);
 *         REPTILE_EDIVERGED when the
 *         loss or an updated parameter is NaN/Inf: the parameters are then
 *         left as they were before the step.
 */
REPTILE_API int reptile_model_train_step(reptile_model *model, reptile_optimizer *opt,
                                         const float *x, const int32_t *labels, int batch,
                                         int bn_mode, float *loss);

/** @brief Free the model and everything it owns. NULL is a no-op. */
REPTILE_API void reptile_model_free(reptile_model *model);

REPTILE_END_DECLS

#endif /* REPTILE_MODEL_H */
