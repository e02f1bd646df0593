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
#define FIXED_SUFFIX ".tmp"

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

int ex_output_in_place(const char *path)
{
    struct stat st;
    return path[0] != '\0' && stat(path, &st) == 0 && write_in_place(&st);
}

/* The temporary sibling of o->target: a fresh random name, or with `fixed`
 * the name FILE.tmp, replacing whatever an earlier run killed outright left
 * there. Returns the descriptor, or -1 with errno set. */
static int create_temp(ex_output *o, int fixed)
{
    size_t len = strlen(o->target);
    o->name = malloc(len + sizeof TMP_SUFFIX);
    if (!o->name) {
        errno = ENOMEM;
        return -1;
    }
    memcpy(o->name, o->target, len);
    if (!fixed) {
        memcpy(o->name + len, TMP_SUFFIX, sizeof TMP_SUFFIX);
        return mkstemp(o->name);
    }
    memcpy(o->name + len, FIXED_SUFFIX, sizeof FIXED_SUFFIX);
    /* Unlink, then O_EXCL: a stale link there is removed, never followed. */
    if (unlink(o->name) != 0 && errno != ENOENT)
        return -1;
    return open(o->name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
}

/* An existing file the user cannot write was refused by 0.1's fopen(); a
 * rename would replace it silently, so it is refused here. */
static int check_writable(const char *opt, const char *path)
{
    if (access(path, W_OK) == 0)
        return 0;
    ex_error("%s: cannot write '%s': %s (make it writable or remove it)", opt, path,
             strerror(errno));
    return -1;
}

static int open_output(ex_output *o, const char *opt, const char *path, int fixed)
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
        errno = 0;
        o->f = o->name ? fopen(path, "w") : NULL;
        if (!o->f) {
            ex_error("%s: cannot write '%s': %s", opt, path, strerror(o->name ? errno : ENOMEM));
            ex_output_abort(o);
            return -1;
        }
        return 0;
    }
    if (exists && check_writable(opt, path) != 0)
        return -1;
    /* Replace the file a symlink points to, not the link. */
    errno = 0;
    o->target = exists ? realpath(path, NULL) : strdup(path);
    if (!o->target) {
        /* realpath sets errno; strdup fails only for want of memory. */
        int e = exists && errno ? errno : ENOMEM;
        ex_error("%s: cannot create '%s': %s", opt, path, strerror(e));
        return -1;
    }
    int fd = create_temp(o, fixed);
    if (fd < 0) {
        /* FILE.tmp is named: a folder of that name is the user's to move. */
        ex_error("%s: cannot create '%s': %s", opt, fixed && o->name ? o->name : path,
                 strerror(errno));
        free(o->name);
        o->name = NULL; /* nothing to remove */
        ex_output_abort(o);
        return -1;
    }
    o->f = fdopen(fd, "w+");
    if (!o->f) {
        int e = errno;
        close(fd);
        ex_output_abort(o);
        ex_error("%s: cannot create '%s': %s", opt, path, strerror(e));
        return -1;
    }
    return 0;
}

int ex_output_open(ex_output *o, const char *opt, const char *path)
{
    return open_output(o, opt, path, 0);
}

int ex_output_open_fixed(ex_output *o, const char *opt, const char *path)
{
    return open_output(o, opt, path, 1);
}

char *ex_output_fixed_name(const char *path)
{
    if (path[0] == '\0' || ex_output_in_place(path))
        return NULL;
    char *target = realpath(path, NULL);
    if (!target && !(target = strdup(path)))
        return NULL;
    size_t len = strlen(target);
    char *name = malloc(len + sizeof FIXED_SUFFIX);
    if (name) {
        memcpy(name, target, len);
        memcpy(name + len, FIXED_SUFFIX, sizeof FIXED_SUFFIX);
    }
    free(target);
    return name;
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
    errno = 0; /* ferror() without a failing call here sets none */
    if (fflush(o->f) != 0 || ferror(o->f))
        e = errno ? errno : EIO;
    if (fclose(o->f) != 0 && !e)
        e = errno ? errno : EIO;
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

int ex_output_fail(ex_output *o, int err)
{
    ex_error("%s: cannot write '%s': %s", o->opt, o->path, strerror(err ? err : EIO));
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

static const char *kind_of(mode_t mode)
{
    return S_ISDIR(mode)    ? "a directory"
           : S_ISCHR(mode)  ? "a character device"
           : S_ISBLK(mode)  ? "a block device"
           : S_ISFIFO(mode) ? "a FIFO"
           : S_ISSOCK(mode) ? "a socket"
                            : "not a regular file";
}

int ex_output_check_library(const char *opt, const char *path)
{
    struct stat st;
    if (path[0] != '\0' && lstat(path, &st) == 0) {
        /* The library refuses these when it writes, hours later. */
        if (S_ISLNK(st.st_mode) && stat(path, &st) != 0) {
            ex_error("%s: '%s' is a symbolic link that leads nowhere (%s); it must name a "
                     "regular file or a new one",
                     opt, path, strerror(errno));
            return -1;
        }
        if (!S_ISREG(st.st_mode)) {
            ex_error("%s: '%s' is %s; it must be a regular file (it is replaced by a rename)",
                     opt, path, kind_of(st.st_mode));
            return -1;
        }
    }
    return ex_output_check(opt, path);
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
