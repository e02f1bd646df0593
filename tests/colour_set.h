/* A synthetic colour photograph set for the Mini-ImageNet tests and
 * benchmarks (issue 15): Mini-ImageNet cannot be downloaded on the build
 * machines, so the tests write their own folder of class folders.
 *
 * Class c is a shape (disc, square, triangle, ring, cross: c % 5) in a
 * colour (one of 8: c / 5 % 8) over a textured background (noise, stripes
 * or checks in a random muted colour). Every image has its own size
 * (40..120 pixels a side, rarely square), position, scale, rotation and
 * colour jitter, so the images must be resized and the network must
 * learn shapes and colours, not pixels. Images alternate between PNG
 * (even indices) and JPEG (odd, quality 90). The same seed writes the
 * same files. */
#ifndef RP_TESTS_COLOUR_SET_H
#define RP_TESTS_COLOUR_SET_H

#include <stdint.h>

enum { RP_COLOUR_SHAPES = 5, RP_COLOUR_HUES = 8 };

/* Writes classes first .. first + count - 1 into root/NAME/IIII.{png,jpg}
 * (root is created; NAME is "cNN-shape-colour"), per_class images each.
 * Returns 0, or -1 with a message on stderr. */
int rp_test_colour_set_write(const char *root, int first, int count, int per_class,
                             uint64_t seed);

/* Mini-ImageNet's layout: root/train holds classes 0 .. train_classes-1,
 * root/test the next test_classes (and root/val stays empty: libreptile's
 * tools read train and test). Returns 0 or -1. */
int rp_test_colour_set_write_splits(const char *root, int train_classes, int test_classes,
                                    int per_class, uint64_t seed);

/* w x h interleaved RGB bytes as an 8-bit RGB PNG, or a JPEG of quality 90.
 * 0, or -1 with a message on stderr. */
int rp_test_write_png(const char *path, const unsigned char *rgb, int w, int h);
int rp_test_write_jpeg(const char *path, const unsigned char *rgb, int w, int h);

#endif
