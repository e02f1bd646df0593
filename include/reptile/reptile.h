/**
 * @file reptile.h
 * @brief libreptile: few-shot meta-learning with Reptile, in C.
 *
 * Include this umbrella header; it pulls in every public module header.
 * Link with `pkg-config --cflags --libs reptile`.
 */
#ifndef REPTILE_REPTILE_H
#define REPTILE_REPTILE_H

#include "reptile/common.h"
#include "reptile/version.h"
#include "reptile/error.h"
#include "reptile/dataset.h"
#include "reptile/optimizer.h"
#include "reptile/model.h"
#include "reptile/meta_options.h"
#include "reptile/meta.h"
#include "reptile/checkpoint.h"
#include "reptile/adapt.h"

#endif /* REPTILE_REPTILE_H */
