/**
 * @file optimizer.h
 * @brief Inner-loop optimizers: SGD (with momentum) and Adam.
 *
 * An optimizer carries its own state (momentum or Adam moments), sized for
 * the model it first steps. Whether that state survives from one task to the
 * next is the caller's choice: reptile_optimizer_reset() clears it (the
 * meta-learner does this per task, or not, as its options say).
 */
#ifndef REPTILE_OPTIMIZER_H
#define REPTILE_OPTIMIZER_H

#include "reptile/common.h"

REPTILE_BEGIN_DECLS

/** Opaque optimizer. */
typedef struct reptile_optimizer reptile_optimizer;

/** Optimizer kinds (reptile_meta_options::optimizer names one). */
enum reptile_optimizer_kind {
    REPTILE_OPTIMIZER_SGD = 0, /**< SGD with optional momentum. */
    REPTILE_OPTIMIZER_ADAM = 1 /**< Adam. */
};

/**
 * @brief New SGD optimizer: v = momentum * v - lr * g; w += v.
 * @param out      Receives the optimizer; NULL on failure.
 * @param lr       Learning rate, in (0, 1000).
 * @param momentum In [0, 1); 0 is plain SGD.
 * @return 0, REPTILE_EINVAL, REPTILE_ENOMEM.
 */
REPTILE_API int reptile_optimizer_new_sgd(reptile_optimizer **out, float lr, float momentum);

/**
 * @brief New Adam optimizer (Kingma and Ba, bias-corrected).
 * @param out   Receives the optimizer; NULL on failure.
 * @param lr    Learning rate, in (0, 1000).
 * @param beta1 In [0, 1); 0 is the Reptile paper's setting.
 * @param beta2 In [0, 1).
 * @param eps   > 0 (1e-8 usual).
 * @return 0, REPTILE_EINVAL, REPTILE_ENOMEM.
 */
REPTILE_API int reptile_optimizer_new_adam(reptile_optimizer **out, float lr, float beta1,
                                           float beta2, float eps);

/** @brief Change the learning rate (in (0, 1000)). @return 0 or REPTILE_EINVAL. */
REPTILE_API int reptile_optimizer_set_lr(reptile_optimizer *opt, float lr);

/** @brief Current learning rate. */
REPTILE_API float reptile_optimizer_lr(const reptile_optimizer *opt);

/** @brief Clear the optimizer state (moments, step count). */
REPTILE_API void reptile_optimizer_reset(reptile_optimizer *opt);

/** @brief Free the optimizer. NULL is a no-op. */
REPTILE_API void reptile_optimizer_free(reptile_optimizer *opt);

REPTILE_END_DECLS

#endif /* REPTILE_OPTIMIZER_H */
