/**
 * @file dataset.h
 */
#ifndef REPTILE_DATASET_H
#define REPTILE_DATASET_H

#include "reptile/common.h"

REPTILE_BEGIN_DECLS

REPTILE_END_DECLS

#endif /* REPTILE_DATASET_H */
