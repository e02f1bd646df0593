/**
 * @file meta.h
 */
#ifndef REPTILE_META_H
#define REPTILE_META_H

#include "reptile/common.h"

REPTILE_BEGIN_DECLS

REPTILE_END_DECLS

#endif /* REPTILE_META_H */
