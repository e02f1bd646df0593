/* Atomic file replacement through a temporary file, fsync and rename. */
#include "core/atomic_file.h"
#include "core/error_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

rp_atomic_write_hook_fn rp_atomic_write_hook = NULL;
void *rp_atomic_write_hook_user = NULL;

static int hook_says_fail(size_t written, size_t total)
{
    return rp_atomic_write_hook && rp_atomic_write_hook(written, total, rp_atomic_write_hook_user);
}

/* Folder part of path ("." when there is none), malloc'd. */
static char *dir_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        return strdup(".");
    size_t len = slash == path ? 1 : (size_t)(slash - path);
    char *d = malloc(len + 1);
    if (d) {
        memcpy(d, path, len);
        d[len] = '\0';
    }
    return d;
}

static int sync_dir(const char *path)
{
    char *dir = dir_of(path);
    if (!dir)
        return rp_error(REPTILE_ENOMEM, "writing %s: out of memory", path);
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int rc = 0;
    if (fd < 0 || (fsync(fd) != 0 && errno != EINVAL && errno != EROFS))
        rc = rp_error(REPTILE_EIO, "writing %s: cannot sync folder %s: %s", path, dir,
                      strerror(errno));
    if (fd >= 0)
        close(fd);
    free(dir);
    return rc;
}

/* The file the rename will replace, malloc'd: path itself, or for a
 * symbolic link the file it names (replacing the link would cut it off
 * from its target). Anything but a regular file is refused: renaming over
 * /dev/null or a FIFO would replace the special file itself. */
static int resolve_target(const char *path, char **out)
{
    *out = NULL;
    struct stat st;
    if (lstat(path, &st) != 0) {
        if (errno != ENOENT)
            return rp_error(REPTILE_EIO, "writing %s: %s", path, strerror(errno));
        *out = strdup(path);
    } else if (S_ISLNK(st.st_mode)) {
        if (stat(path, &st) != 0)
            return rp_error(REPTILE_EIO, "writing %s: the symbolic link leads nowhere: %s", path,
                            strerror(errno));
        if (!S_ISREG(st.st_mode))
            return rp_error(REPTILE_EIO, "writing %s: not a regular file", path);
        *out = realpath(path, NULL);
        if (!*out)
            return rp_error(REPTILE_EIO, "writing %s: cannot resolve the link: %s", path,
                            strerror(errno));
    } else if (!S_ISREG(st.st_mode)) {
        return rp_error(REPTILE_EIO, "writing %s: not a regular file", path);
    } else {
        *out = strdup(path);
    }
    return *out ? 0 : rp_error(REPTILE_ENOMEM, "writing %s: out of memory", path);
}

/* Writes to target (resolved), names path (as the caller gave it) in messages. */
static int write_replace(const char *path, const char *target, const void *data, size_t size)
{
    size_t len = strlen(target);
    char *tmp = malloc(len + sizeof ".tmp.XXXXXX");
    if (!tmp)
        return rp_error(REPTILE_ENOMEM, "writing %s: out of memory", path);
    memcpy(tmp, target, len);
    memcpy(tmp + len, ".tmp.XXXXXX", sizeof ".tmp.XXXXXX");
    int fd = mkstemp(tmp);
    if (fd < 0) {
        int rc = rp_error(REPTILE_EIO, "writing %s: cannot create a temporary file %s: %s", path,
                          tmp, strerror(errno));
        free(tmp);
        return rc;
    }
    /* mkstemp creates 0600: keep the mode of the file being replaced, or
     * use 0644 for a new one (umask() is process-wide, so not queried). */
    struct stat old;
    (void)fchmod(fd, stat(target, &old) == 0 ? (old.st_mode & 0777) : 0644);

    int rc = 0;
    const unsigned char *p = data;
    size_t done = 0;
    while (rc == 0 && done < size) {
        if (hook_says_fail(done, size)) {
            rc = rp_error(REPTILE_EIO, "writing %s: write failed after %zu of %zu bytes (injected)",
                          path, done, size);
            break;
        }
        size_t chunk = size - done < RP_ATOMIC_CHUNK ? size - done : RP_ATOMIC_CHUNK;
        ssize_t n = write(fd, p + done, chunk);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            rc = rp_error(REPTILE_EIO, "writing %s: write failed after %zu of %zu bytes: %s", path,
                          done, size, n < 0 ? strerror(errno) : "no progress");
        else
            done += (size_t)n;
    }
    if (rc == 0 && hook_says_fail(done, size))
        rc = rp_error(REPTILE_EIO, "writing %s: failed before sync and rename (injected)", path);
    if (rc == 0 && fsync(fd) != 0)
        rc = rp_error(REPTILE_EIO, "writing %s: fsync failed: %s", path, strerror(errno));
    if (close(fd) != 0 && rc == 0)
        rc = rp_error(REPTILE_EIO, "writing %s: close failed: %s", path, strerror(errno));
    if (rc == 0 && rename(tmp, target) != 0)
        rc = rp_error(REPTILE_EIO, "writing %s: cannot rename %s over it: %s", path, tmp,
                      strerror(errno));
    if (rc) {
        unlink(tmp);
        free(tmp);
        return rc;
    }
    free(tmp);
    return sync_dir(target);
}

int rp_atomic_write(const char *path, const void *data, size_t size)
{
    if (!path || !*path || (!data && size))
        return rp_error(REPTILE_EINVAL, "atomic write: NULL or empty path or data");
    char *target = NULL;
    int rc = resolve_target(path, &target);
    if (rc == 0)
        rc = write_replace(path, target, data, size);
    free(target);
    return rc;
}
