/* The learning-curve CSV: see curve.h. */
#include "curve.h"

#include "cli.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static const char header[] = "iteration,meta_step,train_acc,test_acc,elapsed_s\n";

/* Copy the rows of the earlier run(s) before start_iter from `path` to the
 * new curve (later ones are run again). A missing file starts afresh. */
static int keep_rows(ex_curve *c, const char *path, int start_iter,
                     int (*keep)(void *user, double train_acc, double test_acc), void *user)
{
    FILE *in = fopen(path, "r");
    if (!in)
        return 0;
    const char *opt = c->live.opt;
    char line[512];
    int lineno = 0, rc = 0;
    while (rc == 0 && fgets(line, sizeof line, in)) {
        if (++lineno == 1) {
            if (strcmp(line, header) != 0) {
                ex_error("%s: '%s' is not a learning curve of this program (its first line "
                         "differs); refusing to overwrite it when resuming",
                         opt, path);
                rc = -1;
            }
            continue;
        }
        int it;
        double step, tr, te, el;
        if (sscanf(line, "%d,%lf,%lf,%lf,%lf", &it, &step, &tr, &te, &el) != 5) {
            ex_error("%s: %s:%d: cannot parse '%.*s'", opt, path, lineno,
                     (int)strcspn(line, "\n"), line);
            rc = -1;
        } else if (it < start_iter) {
            if (keep && keep(user, tr, te) != 0) {
                ex_error("%s: out of memory", opt);
                rc = -1;
            } else if (fputs(line, c->live.f) < 0) {
                rc = ex_output_fail(&c->live);
            }
            c->elapsed_offset = el;
        }
    }
    if (rc == 0 && ferror(in)) {
        ex_error("%s: cannot read '%s': %s", opt, path, strerror(errno));
        rc = -1;
    }
    fclose(in);
    return rc;
}

int ex_curve_open(ex_curve *c, const char *opt, const char *path, int start_iter,
                  int (*keep)(void *user, double train_acc, double test_acc), void *user)
{
    memset(c, 0, sizeof *c);
    if (ex_output_open(&c->live, opt, path) != 0)
        return -1;
    if (fputs(header, c->live.f) < 0)
        return ex_output_fail(&c->live);
    if (start_iter > 0 && keep_rows(c, path, start_iter, keep, user) != 0) {
        ex_output_abort(&c->live);
        return -1;
    }
    /* Write now: a file system that is full or read-only fails before
     * training, not at the first row. */
    if (fflush(c->live.f) != 0)
        return ex_output_fail(&c->live);
    return 0;
}

int ex_curve_add(ex_curve *c, int iteration, double meta_step, double train_acc,
                 double test_acc, double elapsed_s)
{
    if (!c->live.f)
        return -1;
    if (fprintf(c->live.f, "%d,%.9g,%f,%f,%.3f\n", iteration, meta_step, train_acc, test_acc,
                c->elapsed_offset + elapsed_s) < 0 ||
        fflush(c->live.f) != 0) /* readable while training runs */
        return ex_output_fail(&c->live);
    return 0;
}

int ex_curve_snapshot(ex_curve *c)
{
    if (!c->live.f)
        return -1;
    if (fflush(c->live.f) != 0)
        return ex_output_fail(&c->live);
    if (!c->live.target)
        return 0; /* written in place (/dev/null, a FIFO): nothing to replace */
    ex_output snap;
    if (ex_output_open(&snap, c->live.opt, c->live.path) != 0) {
        ex_output_abort(&c->live);
        return -1;
    }
    /* pread leaves the live stream's position alone. */
    char buf[1 << 14];
    off_t off = 0;
    ssize_t n;
    while ((n = pread(fileno(c->live.f), buf, sizeof buf, off)) > 0) {
        if (fwrite(buf, 1, (size_t)n, snap.f) != (size_t)n)
            break;
        off += n;
    }
    if (n != 0) {
        ex_output_fail(&snap);
        ex_output_abort(&c->live);
        return -1;
    }
    if (ex_output_commit(&snap) != 0) {
        ex_output_abort(&c->live);
        return -1;
    }
    return 0;
}

int ex_curve_finish(ex_curve *c)
{
    return ex_output_commit(&c->live);
}

void ex_curve_abort(ex_curve *c)
{
    ex_output_abort(&c->live);
}

int ex_curve_active(const ex_curve *c)
{
    return c->live.f != NULL;
}
