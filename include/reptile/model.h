/**
 * @file model.h
 */
#ifndef REPTILE_MODEL_H
#define REPTILE_MODEL_H

#include "reptile/common.h"

REPTILE_BEGIN_DECLS

REPTILE_END_DECLS

#endif /* REPTILE_MODEL_H */
