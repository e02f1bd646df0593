/* The one table of meta-learning options (reptile_meta_options).
 *
 * Each option is declared once, in RP_META_OPTIONS (option_table.c), with
 * its type, default, bounds, what must match and its help text. Defaults,
 * validation and its messages, checkpoint serialisation and comparison and
 * the digest that data-parallel workers compare are generated from it;
 * presets only override defaults. Adding an option is one line there plus
 * the code that uses it; a unit test fails if a field of the public struct
 * is missing from the table. */
#ifndef RP_META_OPTION_TABLE_H
#define RP_META_OPTION_TABLE_H

#include "reptile/meta.h"

#include <stddef.h>

typedef enum rp_opt_type { RP_OPT_INT, RP_OPT_FLOAT, RP_OPT_U64 } rp_opt_type;

enum {
    RP_OPT_RESUME = 1, /* a resumed run must have the saved value */
    RP_OPT_RANKS = 2,  /* every data-parallel worker must have the same value */
};

typedef struct rp_option_spec {
    const char *name;   /* the C field name, also the checkpoint key */
    size_t offset;
    size_t size;
    rp_opt_type type;
    double lo, hi;      /* bounds; ignored for RP_OPT_U64 */
    int lo_open, hi_open;
    unsigned flags;     /* RP_OPT_RESUME | RP_OPT_RANKS */
    const char *values; /* for enums and switches: the accepted values, for messages */
    const char *help;
} rp_option_spec;

extern const rp_option_spec rp_meta_option_specs[];
extern const size_t rp_meta_option_count;

/* Fields of reptile_meta_options that are not options (kept out of
 * checkpoints and digests): version and the callbacks with their user
 * pointers. Listed so that the coverage test can account for every byte. */
extern const rp_option_spec rp_meta_non_options[];
extern const size_t rp_meta_non_option_count;

/* Every option at its default (the keras-tutorial preset); version untouched. */
void rp_meta_options_set_defaults(reptile_meta_options *o);

/* 0, or REPTILE_EINVAL naming the option, its bounds and the value. */
int rp_option_check(const rp_option_spec *s, const reptile_meta_options *o);

/* The value as text ("%d", "%.9g", or decimal for uint64), for messages. */
void rp_option_format(const rp_option_spec *s, const reptile_meta_options *o, char *buf,
                      size_t cap);

#endif
