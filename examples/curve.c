/* The learning-curve CSV: see curve.h. */
#include "curve.h"

#include "cli.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const char header[] = "iteration,meta_step,train_acc,test_acc,elapsed_s\n";

static int append(ex_curve *c, const char *s, size_t n)
{
    if (c->len + n + 1 > c->cap) {
        size_t cap = c->cap ? 2 * c->cap : 1 << 16;
        while (cap < c->len + n + 1)
            cap *= 2;
        char *text = realloc(c->text, cap);
        if (!text)
            return -1;
        c->text = text;
        c->cap = cap;
    }
    memcpy(c->text + c->len, s, n);
    c->len += n;
    c->text[c->len] = '\0';
    return 0;
}

/* One line of an earlier curve: kept (0), skipped (0) or refused (-1). */
static int keep_line(ex_curve *c, const char *path, int lineno, const char *line, int start_iter,
                     int (*keep)(void *user, double train_acc, double test_acc), void *user)
{
    int it;
    double step, tr, te, el;
    size_t n = strcspn(line, "\n");
    if (sscanf(line, "%d,%lf,%lf,%lf,%lf", &it, &step, &tr, &te, &el) != 5) {
        ex_error("%s: %s:%d: cannot parse '%.*s'", c->opt, path, lineno, (int)n, line);
        return -1;
    }
    if (it >= start_iter)
        return 0; /* run again */
    if ((keep && keep(user, tr, te) != 0) || append(c, line, n) != 0 || append(c, "\n", 1) != 0) {
        ex_error("%s: out of memory", c->opt);
        return -1;
    }
    c->elapsed_offset = el;
    return 0;
}

/* Keep the rows of the earlier run(s) before start_iter from `path` (later
 * ones are run again). A missing file starts afresh. */
static int keep_rows(ex_curve *c, const char *path, int start_iter,
                     int (*keep)(void *user, double train_acc, double test_acc), void *user)
{
    FILE *in = fopen(path, "r");
    if (!in)
        return 0;
    char line[512];
    int lineno = 0, rc = 0, read_errno = 0;
    while (rc == 0) {
        errno = 0;
        if (!fgets(line, sizeof line, in)) {
            read_errno = errno; /* before anything else can change it */
            break;
        }
        if (++lineno > 1) {
            rc = keep_line(c, path, lineno, line, start_iter, keep, user);
        } else if (strcmp(line, header) != 0) {
            ex_error("%s: '%s' is not a learning curve of this program (its first line "
                     "differs); refusing to overwrite it when resuming",
                     c->opt, path);
            rc = -1;
        }
    }
    if (rc == 0 && ferror(in)) {
        ex_error("%s: cannot read '%s': %s", c->opt, path,
                 strerror(read_errno ? read_errno : EIO));
        rc = -1;
    }
    fclose(in);
    return rc;
}

int ex_curve_check(const char *opt, const char *path)
{
    if (ex_output_check(opt, path) != 0)
        return -1;
    /* A folder named FILE.tmp would fail the first snapshot, hours later. */
    char *tmp = ex_output_fixed_name(path);
    struct stat st;
    int bad = tmp && stat(tmp, &st) == 0 && S_ISDIR(st.st_mode);
    if (bad)
        ex_error("%s: '%s', the temporary file of '%s', is a directory", opt, tmp, path);
    free(tmp);
    return bad ? -1 : 0;
}

int ex_curve_open(ex_curve *c, const char *opt, const char *path, int start_iter,
                  int (*keep)(void *user, double train_acc, double test_acc), void *user)
{
    memset(c, 0, sizeof *c);
    c->opt = opt;
    c->path = path;
    if (append(c, header, sizeof header - 1) != 0) {
        ex_error("%s: out of memory", opt);
        return -1;
    }
    c->active = 1;
    int rc = 0;
    if (ex_output_in_place(path)) { /* a device or FIFO: nothing to keep or replace */
        if (ex_output_open(&c->stream, opt, path) != 0)
            rc = -1;
        errno = 0;
        if (rc == 0 && (fputs(header, c->stream.f) < 0 || fflush(c->stream.f) != 0))
            rc = ex_output_fail(&c->stream, errno);
    } else if (start_iter > 0) {
        rc = keep_rows(c, path, start_iter, keep, user);
    }
    if (rc != 0)
        ex_curve_abort(c);
    return rc;
}

int ex_curve_add(ex_curve *c, int iteration, double meta_step, double train_acc,
                 double test_acc, double elapsed_s)
{
    if (!c->active)
        return -1;
    char row[256];
    int n = snprintf(row, sizeof row, "%d,%.9g,%f,%f,%.3f\n", iteration, meta_step, train_acc,
                     test_acc, c->elapsed_offset + elapsed_s);
    if (n < 0 || (size_t)n >= sizeof row || append(c, row, (size_t)n) != 0) {
        ex_error("%s: out of memory", c->opt);
        ex_curve_abort(c);
        return -1;
    }
    if (c->stream.f) { /* readable as it comes (a FIFO) */
        errno = 0;
        if (fputs(row, c->stream.f) < 0 || fflush(c->stream.f) != 0) {
            ex_output_fail(&c->stream, errno);
            ex_curve_abort(c);
            return -1;
        }
    }
    return 0;
}

/* All rows to FILE.tmp, then renamed over FILE. */
static int write_file(ex_curve *c)
{
    ex_output o;
    if (ex_output_open_fixed(&o, c->opt, c->path) != 0)
        return -1;
    errno = 0;
    if (fwrite(c->text, 1, c->len, o.f) != c->len)
        return ex_output_fail(&o, errno);
    return ex_output_commit(&o);
}

int ex_curve_snapshot(ex_curve *c)
{
    if (!c->active)
        return -1;
    if (c->stream.f)
        return 0; /* written in place as the rows came */
    if (write_file(c) != 0) {
        ex_curve_abort(c);
        return -1;
    }
    return 0;
}

int ex_curve_finish(ex_curve *c)
{
    if (!c->active)
        return -1;
    int rc = c->stream.f ? ex_output_commit(&c->stream) : write_file(c);
    ex_curve_abort(c);
    return rc;
}

void ex_curve_abort(ex_curve *c)
{
    ex_output_abort(&c->stream);
    free(c->text);
    c->text = NULL;
    c->len = c->cap = 0;
    c->active = 0;
}

int ex_curve_active(const ex_curve *c)
{
    return c->active;
}
