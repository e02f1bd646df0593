#include "core/versioned.h"
#include "core/error_internal.h"

#include <string.h>

size_t rp_version_size(const rp_struct_versions *v, unsigned int version)
{
    return version >= 1 && version <= v->current ? v->sizes[version] : 0;
}

int rp_version_check(const rp_struct_versions *v, unsigned int version, const char *what)
{
    if (rp_version_size(v, version))
        return 0;
    return rp_error(REPTILE_EVERSION, "%s: %s version %u is unknown (this library knows 1..%u)",
                    what, v->name, version, v->current);
}

int rp_version_read(const rp_struct_versions *v, void *full, const void *caller, const char *what)
{
    unsigned int version;
    memcpy(&version, caller, sizeof version);
    int rc = rp_version_check(v, version, what);
    if (rc)
        return rc;
    memcpy(full, caller, rp_version_size(v, version));
    memcpy(full, &v->current, sizeof v->current);
    return 0;
}

void rp_version_write(const rp_struct_versions *v, void *caller, unsigned int version,
                      const void *full)
{
    memcpy(caller, full, rp_version_size(v, version));
    memcpy(caller, &version, sizeof version);
}
