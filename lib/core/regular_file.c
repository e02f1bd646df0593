#include "core/regular_file.h"
#include "core/error_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

int rp_open_regular(const char *path, int *fd, struct stat *st)
{
    *fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (*fd < 0)
        return rp_error(errno == ENOENT ? REPTILE_ENOTFOUND : REPTILE_EIO, "%s: cannot open: %s",
                        path, strerror(errno));
    int rc = 0, flags;
    if (fstat(*fd, st) != 0)
        rc = rp_error(REPTILE_EIO, "%s: cannot stat: %s", path, strerror(errno));
    else if (!S_ISREG(st->st_mode))
        rc = rp_error(REPTILE_EIO, "%s: not a regular file", path);
    else if ((flags = fcntl(*fd, F_GETFL)) < 0 || fcntl(*fd, F_SETFL, flags & ~O_NONBLOCK) != 0)
        rc = rp_error(REPTILE_EIO, "%s: cannot open: %s", path, strerror(errno)); /* to blocking */
    if (rc) {
        close(*fd);
        *fd = -1;
    }
    return rc;
}
