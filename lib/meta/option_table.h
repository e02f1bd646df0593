/* The one table of meta-learning options (reptile_meta_options).
 *
 * Each option is declared once, in RP_META_OPTIONS (option_table.c), with
 * its type, default, bounds, unit, what must match and its help text.
 * Defaults, presets (override lists read by the same parser as a command
 * line), validation and its messages, reading and writing options by name,
 * checkpoint serialisation and comparison, and the public description
 * (reptile_meta_option_info(): the data-parallel digest and the example
 * programs' command lines and --help are built on it) all come from it.
 * Adding an option is one line there plus the code that uses it; a unit
 * test fails if a field of the public struct is missing from the table. */
#ifndef RP_META_OPTION_TABLE_H
#define RP_META_OPTION_TABLE_H

#include "reptile/meta_options.h"

#include <stddef.h>

/* How the value is stored in the struct. */
typedef enum rp_opt_type { RP_OPT_INT, RP_OPT_FLOAT, RP_OPT_U64 } rp_opt_type;

enum {
    RP_OPT_RESUME = REPTILE_OPTION_MATCH_RESUME, /* a resumed run must have the saved value */
    RP_OPT_RANKS = REPTILE_OPTION_MATCH_WORKERS, /* every data-parallel worker must have it */
};

typedef struct rp_option_spec {
    reptile_option_info info; /* the public description: name, bounds, flags, help */
    size_t offset;
    size_t size;
    rp_opt_type type;
} rp_option_spec;

extern const rp_option_spec rp_meta_option_specs[];
extern const size_t rp_meta_option_count;

/* Fields of reptile_meta_options that are not options (kept out of
 * checkpoints and digests): version and the callbacks with their user
 * pointers. Listed so that the coverage test can account for every byte. */
extern const rp_option_spec rp_meta_non_options[];
extern const size_t rp_meta_non_option_count;

/* The versions of reptile_meta_options and their sizes (core/versioned.h). */
extern const struct rp_struct_versions rp_meta_options_versions;

/* *full = the caller's options of any known version (the fields it has,
 * defaults for the rest) as a current struct, validated. */
int rp_meta_options_resolve(reptile_meta_options *full, const reptile_meta_options *opts);

/* Writes the fields struct version `version` has, from a current struct. */
void rp_meta_options_export(reptile_meta_options *opts, unsigned int version,
                            const reptile_meta_options *full);

/* Every option at its default; version and callbacks cleared. */
void rp_meta_options_set_defaults(reptile_meta_options *o);

/* The option named `name` ('-' may stand for '_'), or NULL. */
const rp_option_spec *rp_option_find(const char *name);

/* 0, or REPTILE_EINVAL naming the option, its bounds and the value. */
int rp_option_check(const rp_option_spec *s, const reptile_meta_options *o);

/* Reads `text` into the option (decimal integers, strtod floats, enum
 * names or numbers) after checking it; nothing written on failure. */
int rp_option_parse(const rp_option_spec *s, reptile_meta_options *o, const char *text);

/* The value as text ("%d", "%.9g", enum names, decimal uint64). */
void rp_option_format(const rp_option_spec *s, const reptile_meta_options *o, char *buf,
                      size_t cap);

#endif
