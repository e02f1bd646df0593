/* reptile-omniglot: the Keras "Few-Shot learning with Reptile" tutorial,
 * end to end, on libreptile.
 *
 * Loads Omniglot (background split = train, evaluation split = test),
 * meta-trains the tutorial's network with a preset (keras-tutorial by
 * default) and command-line overrides, prints the tutorial's
 * "batch N: train=F test=F" lines, and optionally writes the learning curve
 * as CSV and PNG, the sample and prediction pictures, and a final
 * evaluation over many test tasks. See docs/examples.md. */
#include <reptile/reptile.h>

#include "cli.h"
#include "curve.h"
#include "omniglot_cli.h"
#include "pictures.h"
#include "progress.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- recording the run ------------------------------------------------------ */

typedef struct run {
    ex_progress progress;
    ex_curve csv;            /* the learning curve, when --csv */
    reptile_meta *meta;
    const char *checkpoint;  /* saved every OMNIGLOT_CHECKPOINT_EVERY iterations */
    int stop_after;          /* end after this iteration (0 = never) */
    int stopped;             /* ended by stop_after */
    int checkpoint_failed;
    int csv_failed;          /* reported when it happened; the run stopped */
    int quiet;
    int start_iter;          /* meta-iterations done before this run */
    size_t n, cap;           /* evaluated iterations recorded */
    double *train, *test;
    int oom;
} run;

static int record(run *r, double train_acc, double test_acc)
{
    if (r->n == r->cap) {
        size_t cap = r->cap ? 2 * r->cap : 1024;
        double *a = realloc(r->train, cap * sizeof *a);
        if (!a)
            return -1;
        r->train = a;
        double *b = realloc(r->test, cap * sizeof *b);
        if (!b)
            return -1;
        r->test = b;
        r->cap = cap;
    }
    r->train[r->n] = train_acc;
    r->test[r->n] = test_acc;
    r->n++;
    return 0;
}

/* An evaluated iteration: recorded, logged to the CSV, printed as the
 * tutorial does. Returns -1 when the CSV fails. */
static int on_evaluated(run *r, const reptile_progress *p)
{
    /* The tutorial's meta_iter: 0-based index of the iteration just done
     * (p->iteration counts all iterations done, 1-based). */
    int meta_iter = p->iteration - 1;
    if (!r->oom && record(r, p->train_accuracy, p->test_accuracy) != 0)
        r->oom = 1;
    if (ex_curve_active(&r->csv) &&
        ex_curve_add(&r->csv, meta_iter, (double)p->meta_step, (double)p->train_accuracy,
                     (double)p->test_accuracy, p->elapsed_s) != 0) {
        r->csv_failed = 1;
        return -1; /* at once: not hours later */
    }
    if (!r->quiet && meta_iter % 100 == 0) {
        ex_progress_clear(&r->progress);
        printf("batch %d: train=%f test=%f\n", meta_iter, (double)p->train_accuracy,
               (double)p->test_accuracy);
        fflush(stdout);
    }
    return 0;
}

static int on_progress(const reptile_progress *p, void *user)
{
    run *r = user;
    if (p->evaluated && on_evaluated(r, p) != 0)
        return 1;
    ex_progress_update(&r->progress, p->iteration - r->start_iter, p->evaluated,
                       p->train_accuracy, p->test_accuracy);
    int periodic = p->iteration % OMNIGLOT_CHECKPOINT_EVERY == 0 && p->iteration < p->total;
    /* The CSV first: it then covers every row before the checkpoint's
     * iteration, which a resumed run keeps. */
    if (periodic && ex_curve_active(&r->csv)) {
        ex_progress_clear(&r->progress);
        if (ex_curve_snapshot(&r->csv) != 0) {
            r->csv_failed = 1;
            return 1;
        }
    }
    if (r->checkpoint && periodic && reptile_meta_save(r->meta, r->checkpoint) != 0) {
        ex_progress_clear(&r->progress);
        ex_error("--checkpoint: saving at iteration %d failed: %s", p->iteration,
                 reptile_error_last());
        r->checkpoint_failed = 1;
        return 1;
    }
    if (r->stop_after > 0 && p->iteration >= r->stop_after && p->iteration < p->total) {
        r->stopped = 1;
        return 1;
    }
    return ex_stop ? 1 : 0;
}

/* Rows kept from a resumed run's CSV also feed the plot. */
static int keep_row(void *user, double train_acc, double test_acc)
{
    return record(user, train_acc, test_acc);
}

/* ---- the session ---------------------------------------------------------------- */

typedef struct session {
    omniglot_cli c;
    reptile_meta_options opts;
    int iterations; /* meta-iterations this run */
    reptile_dataset *train, *test;
    reptile_model *model;
    reptile_meta *meta;
    run r;
    int train_rc;   /* reptile_meta_train()'s */
    double t_start, load_s, train_s;
} session;

static const char fetch_hint[] =
    "run reptile-fetch-omniglot (in the source tree: scripts/fetch-omniglot) to download it, "
    "or pass --data DIR";

static int lib_fail(const char *what)
{
    ex_error("%s: %s", what, reptile_error_last());
    return EX_FAILURE;
}

static void print_time(const session *s)
{
    printf("time: load_s=%.3f train_s=%.3f total_s=%.3f peak_rss_mb=%.1f\n", s->load_s,
           s->train_s, ex_now() - s->t_start, ex_peak_rss_mb());
    fflush(stdout);
}

static int load_data(session *s)
{
    const omniglot_cli *c = &s->c;
    if (ex_check_omniglot_dir(c->data, fetch_hint) != 0)
        return EX_FAILURE;
    reptile_image_options img;
    reptile_image_options_init(&img, REPTILE_IMAGE_OPTIONS_VERSION);
    img.threads = s->opts.threads;
    double t = ex_now();
    if (reptile_dataset_open_omniglot(&s->train, c->data, "background", &img) != 0 ||
        reptile_dataset_open_omniglot(&s->test, c->data, "evaluation", &img) != 0) {
        int code = reptile_error_last_code();
        ex_error("loading Omniglot from '%s': %s", c->data, reptile_error_last());
        if (code == REPTILE_ENOTFOUND || code == REPTILE_EDATA)
            ex_error("%s", fetch_hint);
        return EX_FAILURE;
    }
    s->load_s = ex_now() - t;
    if (!c->quiet)
        fprintf(stderr, "%s: loaded %d train and %d test characters (%d + %d images) in %.1f s\n",
                ex_progname, reptile_dataset_num_classes(s->train),
                reptile_dataset_num_classes(s->test), reptile_dataset_num_images(s->train),
                reptile_dataset_num_images(s->test), s->load_s);
    return EX_CONTINUE;
}

/* The network (new, or --resume's) and the meta-learner at its iteration. */
static int create_learner(session *s)
{
    const omniglot_cli *c = &s->c;
    if (c->resume ? reptile_model_load(&s->model, c->resume) != 0
                  : reptile_model_new_omniglot(&s->model, s->opts.ways, s->opts.seed) != 0)
        return lib_fail(c->resume ? "--resume: loading the model" : "building the network");
    s->opts.progress = on_progress;
    s->opts.progress_user = &s->r;
    if (reptile_meta_new(&s->meta, s->model, &s->opts) != 0)
        return lib_fail("creating the meta-learner");
    if (c->resume) {
        if (reptile_meta_resume(s->meta, c->resume) != 0)
            return lib_fail("--resume");
        s->iterations = s->opts.meta_iters - reptile_meta_iteration(s->meta);
        if (s->iterations < 0)
            s->iterations = 0;
        if (!c->quiet)
            fprintf(stderr, "%s: resuming '%s' at iteration %d of %d\n", ex_progname, c->resume,
                    reptile_meta_iteration(s->meta), s->opts.meta_iters);
    }
    s->r.meta = s->meta;
    s->r.checkpoint = c->checkpoint;
    s->r.stop_after = c->stop_after;
    s->r.quiet = c->quiet;
    s->r.start_iter = reptile_meta_iteration(s->meta);
    return EX_CONTINUE;
}

static int train(session *s)
{
    const omniglot_cli *c = &s->c;
    run *r = &s->r;
    /* From here on a signal ends the run through the code that removes
     * temporary files (ex_draw_samples() has one open while cairo draws). */
    ex_catch_signals();
    if (c->samples && ex_draw_samples(c->samples, s->train, s->opts.seed) != 0)
        return EX_FAILURE;
    if (c->csv && ex_curve_open(&r->csv, "--csv", c->csv, r->start_iter, keep_row, r) != 0)
        return EX_FAILURE;
    if (!c->quiet)
        fprintf(stderr, "%s: %s %s, %d-way, %d iterations, %d thread%s\n", ex_progname,
                c->resume ? "resumed" : "preset", c->resume ? c->resume : omniglot_preset(c),
                s->opts.ways, s->iterations, s->opts.threads, s->opts.threads == 1 ? "" : "s");
    ex_progress_start(&r->progress, c->quiet, s->iterations);
    double t = ex_now();
    s->train_rc = ex_stop ? 0 : reptile_meta_train(s->meta, s->train, s->test, s->iterations);
    s->train_s = ex_now() - t;
    ex_progress_finish(&r->progress, reptile_meta_iteration(s->meta) - r->start_iter);
    ex_release_signals();
    return EX_CONTINUE;
}

/* Why training ended, when it did not run its course: 1 for a failure. */
static int report_stop(const session *s)
{
    const run *r = &s->r;
    int done = reptile_meta_iteration(s->meta) - r->start_iter;
    if (r->checkpoint_failed || r->csv_failed) {
        /* The reason was reported by the callback, when it happened. */
        ex_error("stopped after %d of %d iterations: %s could not be written", done,
                 s->iterations, r->csv_failed ? "--csv" : "--checkpoint");
        return 1;
    }
    if (s->train_rc != 0) {
        ex_error("meta-training stopped after %d of %d iterations: %s", done, s->iterations,
                 reptile_error_last());
        return 1;
    }
    if (r->stopped) {
        if (!s->c.quiet)
            fprintf(stderr, "%s: stopped after iteration %d of %d (--stop-after)\n", ex_progname,
                    reptile_meta_iteration(s->meta), s->opts.meta_iters);
        return 0;
    }
    if (ex_stop && done < s->iterations) {
        ex_error("interrupted after %d of %d iterations; writing what there is", done,
                 s->iterations);
        return 1;
    }
    return 0;
}

/* The learning curve: the CSV's last rows, the plot. 1 for a failure. */
static int write_curve(session *s)
{
    const omniglot_cli *c = &s->c;
    run *r = &s->r;
    int failed = 0;
    if (ex_curve_active(&r->csv) && ex_curve_finish(&r->csv) != 0) {
        r->csv_failed = 1;
        failed = 1;
    }
    if (r->oom) {
        ex_error("out of memory recording the learning curve");
        failed = 1;
    }
    if (c->plot && !r->oom) {
        char title[128];
        snprintf(title, sizeof title, "Reptile on Omniglot, %d-way %d-shot (%s)", s->opts.ways,
                 s->opts.eval_shots, c->resume ? "resumed run" : omniglot_preset(c));
        failed |= ex_draw_curve(c->plot, r->train, r->test, r->n, OMNIGLOT_SMOOTH_WINDOW,
                                title) != 0;
    }
    return failed;
}

/* The final checkpoint, the predictions picture, --final-eval. 1 for a failure. */
static int write_results(const session *s)
{
    const omniglot_cli *c = &s->c;
    const run *r = &s->r;
    int failed = 0, iteration = reptile_meta_iteration(s->meta);
    /* Not after a CSV failure: the CSV on disk would lack rows before the
     * checkpoint's iteration, and a resumed run would never write them. */
    if (c->checkpoint && s->train_rc == 0 && !r->checkpoint_failed && !r->csv_failed) {
        if (reptile_meta_save(s->meta, c->checkpoint) != 0)
            failed = lib_fail("--checkpoint") != 0;
        else if (!c->quiet)
            fprintf(stderr, "%s: saved the training state at iteration %d to '%s'\n",
                    ex_progname, iteration, c->checkpoint);
    }
    if (c->predictions && ex_draw_predictions(c->predictions, s->meta, s->test, s->opts.ways,
                                              (uint64_t)iteration) != 0)
        failed = 1;
    if (c->final_eval > 0 && s->train_rc == 0 && !ex_stop && !r->stopped &&
        !r->checkpoint_failed && !r->csv_failed) {
        double mean = 0.0, ci95 = 0.0;
        if (!c->quiet)
            fprintf(stderr, "%s: evaluating %d test tasks\n", ex_progname, c->final_eval);
        if (reptile_meta_evaluate(s->meta, s->test, c->final_eval, 0, 0, &mean, &ci95) != 0)
            failed = lib_fail("final evaluation") != 0;
        else
            printf("final: episodes=%d ways=%d shots=%d accuracy=%f ci95=%f\n", c->final_eval,
                   s->opts.ways, s->opts.eval_shots, mean, ci95);
    }
    return failed;
}

/* Train, then write every output; --meta-iters 0 only reports the load. */
static int run_session(session *s)
{
    int status = EX_CONTINUE;
    if (s->iterations > 0) {
        status = create_learner(s);
        if (status == EX_CONTINUE)
            status = train(s);
        if (status != EX_CONTINUE)
            return status;
        int failed = report_stop(s);
        failed |= write_curve(s);
        failed |= write_results(s);
        status = failed ? EX_FAILURE : EX_OK;
    }
    print_time(s);
    return status == EX_CONTINUE ? EX_OK : status;
}

static void free_session(session *s)
{
    ex_curve_abort(&s->r.csv);
    free(s->r.train);
    free(s->r.test);
    reptile_meta_free(s->meta);
    reptile_model_free(s->model);
    reptile_dataset_free(s->train);
    reptile_dataset_free(s->test);
}

int main(int argc, char **argv)
{
    static session s; /* zeroed */
    s.t_start = ex_now();
    ex_progname = "reptile-omniglot";
    int status = omniglot_parse(&s.c, argc, argv);
    if (status == EX_CONTINUE)
        status = omniglot_settle(&s.c, &s.opts, &s.iterations);
    if (status == EX_CONTINUE)
        status = load_data(&s);
    if (status == EX_CONTINUE)
        status = run_session(&s);
    free_session(&s);
    return status;
}
