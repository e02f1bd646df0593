/* Atomic output files of the example programs: see output.h. */
#include "output.h"

#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define TMP_SUFFIX ".tmp.XXXXXX"

/* Mode of a new file, as fopen() would create it: 0666 less the umask.
 * umask() can only be read by setting it, so read it once; the first call
 * comes from ex_output_check(), before any thread exists. */
static mode_t new_file_mode(void)
{
    static int known;
    static mode_t mask;
    if (!known) {
        mask = umask(022);
        umask(mask);
        known = 1;
    }
    return 0666 & ~mask;
}

/* An existing file that is not a regular one (/dev/null, a FIFO, a
 * terminal) has no content to protect, and a rename would replace the
 * device or FIFO itself: it is written in place. */
static int write_in_place(const struct stat *st)
{
    return !S_ISREG(st->st_mode) && !S_ISDIR(st->st_mode);
}

int ex_output_open(ex_output *o, const char *opt, const char *path)
{
    memset(o, 0, sizeof *o);
    o->opt = opt;
    o->path = path;
    if (path[0] == '\0') {
        ex_error("%s: empty file name", opt);
        return -1;
    }
    struct stat st;
    int exists = stat(path, &st) == 0;
    if (exists && S_ISDIR(st.st_mode)) {
        ex_error("%s: '%s' is a directory, expected a file name", opt, path);
        return -1;
    }
    if (exists && write_in_place(&st)) {
        o->name = strdup(path);
        o->f = o->name ? fopen(path, "w") : NULL;
        if (!o->f) {
            ex_error("%s: cannot write '%s': %s", opt, path, strerror(o->name ? errno : ENOMEM));
            ex_output_abort(o);
            return -1;
        }
        return 0;
    }
    /* Replace the file a symlink points to, not the link. */
    o->target = exists ? realpath(path, NULL) : strdup(path);
    size_t len = o->target ? strlen(o->target) : 0;
    o->name = o->target ? malloc(len + sizeof TMP_SUFFIX) : NULL;
    if (!o->name) {
        ex_error("%s: cannot create '%s': %s", opt, path, strerror(errno ? errno : ENOMEM));
        ex_output_abort(o);
        return -1;
    }
    memcpy(o->name, o->target, len);
    memcpy(o->name + len, TMP_SUFFIX, sizeof TMP_SUFFIX);
    int fd = mkstemp(o->name);
    if (fd < 0) {
        ex_error("%s: cannot create '%s': %s", opt, path, strerror(errno));
        free(o->name);
        o->name = NULL; /* nothing to remove */
        ex_output_abort(o);
        return -1;
    }
    o->f = fdopen(fd, "w+"); /* read back by ex_curve_snapshot() */
    if (!o->f) {
        int e = errno;
        close(fd);
        ex_output_abort(o);
        ex_error("%s: cannot create '%s': %s", opt, path, strerror(e));
        return -1;
    }
    return 0;
}

/* fsync the folder holding `path`, so that the rename survives a power
 * loss. Best effort: the file is already in place. */
static void sync_folder(const char *path)
{
    char *copy = strdup(path);
    if (!copy)
        return;
    int fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        (void)fsync(fd);
        close(fd);
    }
    free(copy);
}

/* Data written by name (cairo, the library's manifest) may sit in another
 * inode than o->f's, so the temporary file is synced by name. */
static int sync_by_name(const char *name)
{
    int fd = open(name, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int rc = fsync(fd);
    int e = errno;
    close(fd);
    errno = e;
    return rc;
}

int ex_output_commit(ex_output *o)
{
    if (!o->f)
        return -1;
    int e = 0;
    if (fflush(o->f) != 0 || ferror(o->f))
        e = errno ? errno : EIO;
    if (fclose(o->f) != 0 && !e)
        e = errno;
    o->f = NULL;
    if (!e && o->target) {
        struct stat old;
        (void)chmod(o->name, stat(o->target, &old) == 0 ? old.st_mode & 07777 : new_file_mode());
        if (sync_by_name(o->name) != 0 || rename(o->name, o->target) != 0)
            e = errno;
        else
            sync_folder(o->target);
    }
    if (e) {
        ex_error("%s: cannot write '%s': %s", o->opt, o->path, strerror(e));
        ex_output_abort(o);
        return -1;
    }
    free(o->name);
    free(o->target);
    o->name = o->target = NULL;
    return 0;
}

void ex_output_abort(ex_output *o)
{
    if (o->f)
        fclose(o->f);
    if (o->target && o->name)
        unlink(o->name);
    free(o->name);
    free(o->target);
    o->f = NULL;
    o->name = o->target = NULL;
}

int ex_output_fail(ex_output *o)
{
    int e = errno ? errno : EIO;
    ex_error("%s: cannot write '%s': %s", o->opt, o->path, strerror(e));
    ex_output_abort(o);
    return -1;
}

int ex_output_check(const char *opt, const char *path)
{
    struct stat st;
    (void)new_file_mode(); /* read the umask now, while single-threaded */
    if (path[0] != '\0' && stat(path, &st) == 0 && write_in_place(&st))
        return 0; /* opening a FIFO would wait for a reader */
    ex_output o;
    if (ex_output_open(&o, opt, path) != 0)
        return -1;
    ex_output_abort(&o);
    return 0;
}

/* ---- one file, two options ------------------------------------------------ */

/* Where `path` would be created: its folder with symlinks and dot-dots
 * resolved, then its name. NULL when the folder does not exist. */
static char *resolved(const char *path)
{
    char *d = strdup(path), *b = strdup(path), *out = NULL;
    char *dir = d && b ? realpath(dirname(d), NULL) : NULL;
    if (dir) {
        const char *base = basename(b);
        out = malloc(strlen(dir) + strlen(base) + 2);
        if (out)
            sprintf(out, "%s/%s", dir, base);
    }
    free(dir);
    free(d);
    free(b);
    return out;
}

static int same_file(const char *a, const char *b)
{
    struct stat sa, sb;
    int has_a = stat(a, &sa) == 0, has_b = stat(b, &sb) == 0;
    if (has_a && has_b)
        /* Two outputs to /dev/null lose nothing. */
        return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino && !S_ISCHR(sa.st_mode);
    if (strcmp(a, b) == 0)
        return 1;
    if (has_a || has_b)
        return 0;
    char *ra = resolved(a), *rb = resolved(b);
    int same = ra && rb && strcmp(ra, rb) == 0;
    free(ra);
    free(rb);
    return same;
}

static int is_allowed(int i, int j, const int (*allowed)[2], int n_allowed)
{
    for (int k = 0; k < n_allowed; k++)
        if ((allowed[k][0] == i && allowed[k][1] == j) ||
            (allowed[k][0] == j && allowed[k][1] == i))
            return 1;
    return 0;
}

int ex_outputs_distinct(const char *const opts[], const char *const paths[], int n,
                        const int (*allowed)[2], int n_allowed)
{
    for (int i = 0; i < n; i++) {
        for (int j = i + 1; paths[i] && j < n; j++) {
            if (!paths[j] || is_allowed(i, j, allowed, n_allowed) || !same_file(paths[i], paths[j]))
                continue;
            if (strcmp(paths[i], paths[j]) == 0)
                ex_error("%s and %s name the same file '%s': give each its own file", opts[i],
                         opts[j], paths[i]);
            else
                ex_error("%s and %s name the same file ('%s' and '%s'): give each its own file",
                         opts[i], opts[j], paths[i], paths[j]);
            return -1;
        }
    }
    return 0;
}
