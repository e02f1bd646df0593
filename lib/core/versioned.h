/* Versioned public structs (docs/abi.md): each starts with
 * `unsigned int version`, and versions only append fields. A caller
 * compiled against version v owns the first size(v) bytes, where size(v)
 * ends at v's last field (not sizeof: a later field may sit in v's tail
 * padding). The library works on a current struct and copies only those
 * bytes in and out. */
#ifndef RP_CORE_VERSIONED_H
#define RP_CORE_VERSIONED_H

#include <stddef.h>

/* Bytes of fields up to and including `field` of struct type T. */
#define RP_FIELDS_END(T, field) (offsetof(T, field) + sizeof(((T *)0)->field))

/* sizes[v] for v in 1..current (sizes[0] unused). */
typedef struct rp_struct_versions {
    const char *name;     /* the struct's name, for messages */
    const size_t *sizes;
    unsigned int current;
} rp_struct_versions;

/* Bytes version `version` has, or 0 when the library does not know it. */
size_t rp_version_size(const rp_struct_versions *v, unsigned int version);

/* 0, or REPTILE_EVERSION "what: name version N is unknown (this library
 * knows 1..current)". */
int rp_version_check(const rp_struct_versions *v, unsigned int version, const char *what);

/* full (a current struct holding the defaults) <- the caller's fields;
 * full's version becomes the current one. 0 or REPTILE_EVERSION. */
int rp_version_read(const rp_struct_versions *v, void *full, const void *caller, const char *what);

/* The caller's struct of version `version` <- full's fields of that
 * version; its version field is set to `version`. */
void rp_version_write(const rp_struct_versions *v, void *caller, unsigned int version,
                      const void *full);

#endif
