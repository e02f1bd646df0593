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
#include "output.h"
#include "plot.h"
#include "progress.h"

#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_DATA "data/omniglot"
#define DEFAULT_PRESET "keras-tutorial"
#define SMOOTH_WINDOW 100
#define CHECKPOINT_EVERY 100

/* ---- command line --------------------------------------------------------- */

typedef struct cli {
    const char *preset, *data;
    int meta_iters, eval_interval, ways, shots, train_shots, inner_iters, inner_batch;
    int has_meta_iters, has_eval_interval, has_ways, has_shots, has_train_shots;
    int has_inner_iters, has_inner_batch, has_lr, has_meta_step, has_seed, has_preset;
    float lr, meta_step;
    uint64_t seed;
    int threads, final_eval, stop_after;
    const char *csv, *plot, *samples, *predictions, *checkpoint, *resume;
    int keras_argmax, quiet;
} cli;

enum {
    OPT_PRESET = 256, OPT_DATA, OPT_META_ITERS, OPT_EVAL_INTERVAL, OPT_WAYS, OPT_SHOTS,
    OPT_TRAIN_SHOTS, OPT_INNER_ITERS, OPT_INNER_BATCH, OPT_LR, OPT_META_STEP, OPT_SEED,
    OPT_THREADS, OPT_FINAL_EVAL, OPT_CSV, OPT_PLOT, OPT_SAMPLES, OPT_PREDICTIONS,
    OPT_CHECKPOINT, OPT_RESUME, OPT_STOP_AFTER, OPT_KERAS_ARGMAX, OPT_QUIET, OPT_HELP, OPT_VERSION
};

static const struct option long_options[] = {
    {"preset", required_argument, NULL, OPT_PRESET},
    {"data", required_argument, NULL, OPT_DATA},
    {"meta-iters", required_argument, NULL, OPT_META_ITERS},
    {"eval-interval", required_argument, NULL, OPT_EVAL_INTERVAL},
    {"ways", required_argument, NULL, OPT_WAYS},
    {"shots", required_argument, NULL, OPT_SHOTS},
    {"train-shots", required_argument, NULL, OPT_TRAIN_SHOTS},
    {"inner-iters", required_argument, NULL, OPT_INNER_ITERS},
    {"inner-batch", required_argument, NULL, OPT_INNER_BATCH},
    {"lr", required_argument, NULL, OPT_LR},
    {"meta-step", required_argument, NULL, OPT_META_STEP},
    {"seed", required_argument, NULL, OPT_SEED},
    {"threads", required_argument, NULL, OPT_THREADS},
    {"final-eval", required_argument, NULL, OPT_FINAL_EVAL},
    {"csv", required_argument, NULL, OPT_CSV},
    {"plot", required_argument, NULL, OPT_PLOT},
    {"samples", required_argument, NULL, OPT_SAMPLES},
    {"predictions", required_argument, NULL, OPT_PREDICTIONS},
    {"checkpoint", required_argument, NULL, OPT_CHECKPOINT},
    {"resume", required_argument, NULL, OPT_RESUME},
    {"stop-after", required_argument, NULL, OPT_STOP_AFTER},
    {"keras-argmax", no_argument, NULL, OPT_KERAS_ARGMAX},
    {"quiet", no_argument, NULL, OPT_QUIET},
    {"help", no_argument, NULL, OPT_HELP},
    {"version", no_argument, NULL, OPT_VERSION},
    {NULL, 0, NULL, 0},
};

static void usage(FILE *f)
{
    /* Defaults shown are the keras-tutorial preset's, read from the library. */
    reptile_meta_options d;
    int have = reptile_meta_options_preset(&d, REPTILE_META_OPTIONS_VERSION, DEFAULT_PRESET) == 0;
    enum { ITERS, INTERVAL, WAYS, SHOTS, TSHOTS, IITERS, IBATCH, LR, STEP, SEED, NDEF };
    char def[NDEF][32];
    for (int i = 0; i < NDEF; i++)
        snprintf(def[i], sizeof def[i], "the preset's");
    if (have) {
        snprintf(def[ITERS], sizeof def[ITERS], "%d", d.meta_iters);
        snprintf(def[INTERVAL], sizeof def[INTERVAL], "%d", d.eval_interval);
        snprintf(def[WAYS], sizeof def[WAYS], "%d", d.ways);
        snprintf(def[SHOTS], sizeof def[SHOTS], "%d", d.eval_shots);
        snprintf(def[TSHOTS], sizeof def[TSHOTS], "%d", d.train_shots);
        snprintf(def[IITERS], sizeof def[IITERS], "%d", d.inner_iters);
        snprintf(def[IBATCH], sizeof def[IBATCH], "%d", d.inner_batch);
        snprintf(def[LR], sizeof def[LR], "%g", (double)d.lr);
        snprintf(def[STEP], sizeof def[STEP], "%g", (double)d.meta_step);
        snprintf(def[SEED], sizeof def[SEED], "%llu", (unsigned long long)d.seed);
    } else {
        reptile_error_clear();
    }
    fprintf(f,
        "Usage: %s [OPTION]...\n"
        "Meta-train the Keras Reptile tutorial's Omniglot classifier with libreptile.\n"
        "\n"
        "Experiment (defaults are the preset's; shown for keras-tutorial):\n"
        "  --preset NAME        keras-tutorial (default), reference-tutorial,\n"
        "                       paper-omniglot-5way, paper-omniglot-20way\n"
        "  --data DIR           Omniglot folder holding images_background/ (train) and\n"
        "                       images_evaluation/ (test) (default: %s)\n"
        "  --meta-iters N       meta-iterations, also the meta-step annealing length\n"
        "                       (default: %s); 0 = load the data, report times, exit\n"
        "  --eval-interval N    evaluate one train and one test task every N\n"
        "                       iterations, 0 = never (default: %s)\n"
        "  --ways N             classes per task (default: %s)\n"
        "  --shots N            support images per class in evaluation tasks (default: %s)\n"
        "  --train-shots N      images per class in training tasks (default: %s)\n"
        "  --inner-iters N      inner-loop length: epochs over a training task, or\n"
        "                       steps with the paper presets (default: %s)\n"
        "  --inner-batch N      inner-loop batch size (default: %s)\n"
        "  --lr F               inner learning rate (default: %s)\n"
        "  --meta-step F        initial meta step, annealed linearly (default: %s)\n"
        "  --seed N             seed of every random stream, decimal (default: %s)\n"
        "  --threads N          worker threads; results do not depend on it\n"
        "                       (default: online CPUs, here %d)\n"
        "  --keras-argmax       score evaluation tasks as the tutorial's code does\n"
        "                       (argmax over the query axis) instead of per image\n"
        "\n"
        "Outputs:\n"
        "  --final-eval N       after training, evaluate N test tasks (per-image argmax)\n"
        "                       and print 'final: ...' (default: off)\n"
        "  --csv FILE           learning curve: iteration,meta_step,train_acc,test_acc,\n"
        "                       elapsed_s, one row per evaluated iteration; FILE is\n"
        "                       replaced atomically (through FILE.tmp) with the rows so\n"
        "                       far every 100 iterations (before the checkpoint) and at\n"
        "                       the end\n"
        "  --plot FILE.png      learning curve smoothed as the tutorial (Hamming, %d)\n"
        "  --samples FILE.png   5x5 grid of training characters\n"
        "  --predictions FILE.png  the query images of a test task after training,\n"
        "                       titled 'Label : L, Prediction : P'\n"
        "  --checkpoint FILE    save the training state there every 100 iterations and\n"
        "                       at the end (atomically; a safetensors file that\n"
        "                       --resume continues and reptile_model_load() reads);\n"
        "                       FILE must be a regular file or a new one\n"
        "  --resume FILE        continue the run saved in FILE to the end of its\n"
        "                       schedule, with its settings (the experiment options\n"
        "                       above cannot be given, except --threads and a\n"
        "                       --meta-iters equal to the saved schedule); an existing\n"
        "                       --csv file keeps its rows up to the saved iteration\n"
        "  --stop-after K       end the run after iteration K of --meta-iters (as an\n"
        "                       interruption would: schedule unchanged, checkpoint\n"
        "                       saved, no final evaluation), to be continued with\n"
        "                       --resume\n"
        "  --quiet              no progress and no 'batch' lines (the 'final:' and\n"
        "                       'time:' lines are always printed)\n"
        "  --help, --version\n"
        "\n"
        "Every output file is written to a temporary file beside it, then renamed over\n"
        "it: a failure (a full disk) leaves the earlier file, or none, never a truncated\n"
        "one, and is reported when it happens. An existing file you may not write is\n"
        "refused. One file cannot serve two outputs.\n"
        "\n"
        "Exit status: 0 success, 1 runtime failure, 2 bad command line.\n",
        ex_progname, DEFAULT_DATA, def[ITERS], def[INTERVAL], def[WAYS], def[SHOTS],
        def[TSHOTS], def[IITERS], def[IBATCH], def[LR], def[STEP], def[SEED], ex_online_cpus(),
        SMOOTH_WINDOW);
}

static int usage_error(void)
{
    fprintf(stderr, "Try '%s --help' for more information.\n", ex_progname);
    return EX_USAGE;
}

/* Returns -1 to continue, or an exit status. */
static int parse_cli(int argc, char **argv, cli *c)
{
    memset(c, 0, sizeof *c);
    c->preset = DEFAULT_PRESET;
    c->data = DEFAULT_DATA;
    c->threads = ex_online_cpus();
    int opt, bad = 0;
    opterr = 0;
    /* Leading ':' makes a missing value return ':' rather than '?'. */
    while ((opt = getopt_long(argc, argv, ":", long_options, NULL)) != -1) {
        const char *name = NULL;
        for (const struct option *o = long_options; o->name; o++)
            if (o->val == opt)
                name = o->name;
        char optname[40];
        snprintf(optname, sizeof optname, "--%s", name ? name : "?");
        switch (opt) {
        case OPT_PRESET:
            c->preset = optarg;
            c->has_preset = 1;
            break;
        case OPT_DATA: c->data = optarg; break;
        case OPT_META_ITERS:
            bad |= ex_parse_int(optname, optarg, 0, EX_MAX_ITERS, &c->meta_iters);
            c->has_meta_iters = 1;
            break;
        case OPT_EVAL_INTERVAL:
            bad |= ex_parse_int(optname, optarg, 0, EX_MAX_ITERS, &c->eval_interval);
            c->has_eval_interval = 1;
            break;
        case OPT_WAYS:
            bad |= ex_parse_int(optname, optarg, 2, EX_MAX_WAYS, &c->ways);
            c->has_ways = 1;
            break;
        case OPT_SHOTS:
            bad |= ex_parse_int(optname, optarg, 1, EX_MAX_SHOTS, &c->shots);
            c->has_shots = 1;
            break;
        case OPT_TRAIN_SHOTS:
            bad |= ex_parse_int(optname, optarg, 1, EX_MAX_SHOTS, &c->train_shots);
            c->has_train_shots = 1;
            break;
        case OPT_INNER_ITERS:
            bad |= ex_parse_int(optname, optarg, 1, EX_MAX_INNER_ITERS, &c->inner_iters);
            c->has_inner_iters = 1;
            break;
        case OPT_INNER_BATCH:
            bad |= ex_parse_int(optname, optarg, 1, EX_MAX_INNER_BATCH, &c->inner_batch);
            c->has_inner_batch = 1;
            break;
        case OPT_LR:
            bad |= ex_parse_float(optname, optarg, 0.0, EX_MAX_LR, EX_MIN_OPEN | EX_MAX_OPEN,
                                  &c->lr);
            c->has_lr = 1;
            break;
        case OPT_META_STEP:
            bad |= ex_parse_float(optname, optarg, 0.0, EX_MAX_META_STEP, EX_MIN_OPEN,
                                  &c->meta_step);
            c->has_meta_step = 1;
            break;
        case OPT_SEED:
            bad |= ex_parse_u64(optname, optarg, &c->seed);
            c->has_seed = 1;
            break;
        case OPT_THREADS:
            bad |= ex_parse_int(optname, optarg, 1, EX_MAX_THREADS, &c->threads);
            break;
        case OPT_FINAL_EVAL:
            bad |= ex_parse_int(optname, optarg, 1, EX_MAX_ITERS, &c->final_eval);
            break;
        case OPT_CSV: c->csv = optarg; break;
        case OPT_PLOT: c->plot = optarg; break;
        case OPT_SAMPLES: c->samples = optarg; break;
        case OPT_PREDICTIONS: c->predictions = optarg; break;
        case OPT_CHECKPOINT: c->checkpoint = optarg; break;
        case OPT_RESUME: c->resume = optarg; break;
        case OPT_STOP_AFTER:
            bad |= ex_parse_int(optname, optarg, 1, EX_MAX_ITERS, &c->stop_after);
            break;
        case OPT_KERAS_ARGMAX: c->keras_argmax = 1; break;
        case OPT_QUIET: c->quiet = 1; break;
        case OPT_HELP: usage(stdout); return EX_OK;
        case OPT_VERSION:
            printf("reptile-omniglot (libreptile %s, built against %s)\n",
                   reptile_version_string(), REPTILE_VERSION_STRING);
            return EX_OK;
        case ':':
            ex_error("option '%s' needs a value", argv[optind - 1]);
            return usage_error();
        default:
            if (optopt)
                ex_error("unknown option '-%c'", optopt);
            else
                ex_error("unknown option '%s'", argv[optind - 1]);
            return usage_error();
        }
        if (bad)
            return usage_error();
    }
    if (optind < argc) {
        ex_error("unexpected argument '%s' (all settings are --options)", argv[optind]);
        return usage_error();
    }
    return -1;
}

/* ---- recording the run ------------------------------------------------------ */

typedef struct run {
    ex_progress progress;
    ex_curve csv;            /* the learning curve, when --csv */
    reptile_meta *meta;
    const char *checkpoint;  /* saved every CHECKPOINT_EVERY iterations */
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

static volatile sig_atomic_t g_stop;

static void on_signal(int sig)
{
    (void)sig;
    g_stop = 1;
}

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

static int on_progress(const reptile_progress *p, void *user)
{
    run *r = user;
    /* The tutorial's meta_iter: 0-based index of the iteration just done
     * (p->iteration counts all iterations done, 1-based). */
    int meta_iter = p->iteration - 1;
    if (p->evaluated) {
        if (!r->oom && record(r, p->train_accuracy, p->test_accuracy) != 0)
            r->oom = 1;
        if (ex_curve_active(&r->csv) &&
            ex_curve_add(&r->csv, meta_iter, (double)p->meta_step, (double)p->train_accuracy,
                         (double)p->test_accuracy, p->elapsed_s) != 0) {
            r->csv_failed = 1;
            return 1; /* at once: not hours later */
        }
        if (!r->quiet && meta_iter % 100 == 0) {
            ex_progress_clear(&r->progress);
            printf("batch %d: train=%f test=%f\n", meta_iter, (double)p->train_accuracy,
                   (double)p->test_accuracy);
            fflush(stdout);
        }
    }
    ex_progress_update(&r->progress, p->iteration - r->start_iter, p->evaluated,
                       p->train_accuracy, p->test_accuracy);
    int periodic = p->iteration % CHECKPOINT_EVERY == 0 && p->iteration < p->total;
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
    return g_stop ? 1 : 0;
}

/* Rows kept from a resumed run's CSV also feed the plot. */
static int keep_row(void *user, double train_acc, double test_acc)
{
    return record(user, train_acc, test_acc);
}

/* ---- pictures ----------------------------------------------------------------- */

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* A picture drawn into o->name (draw_rc, err: the drawing's result) is put
 * in place, or dropped with the reason. */
static int put_picture(ex_output *o, int draw_rc, const char *err)
{
    if (draw_rc != 0) {
        ex_error("%s: cannot write '%s': %s", o->opt, o->path, err);
        ex_output_abort(o);
        return -1;
    }
    return ex_output_commit(o);
}

/* The tutorial's 5x5 figure: five random training characters (rows), five
 * random drawings of each, "Class : N" over the middle column. */
static int draw_samples(const char *path, const reptile_dataset *train, uint64_t seed)
{
    int h, w, c;
    reptile_dataset_image_shape(train, &h, &w, &c);
    size_t per = (size_t)h * (size_t)w * (size_t)c;
    float *images = malloc(25 * per * sizeof *images);
    char titles_buf[5][48];
    const char *titles[25] = {NULL};
    if (!images) {
        ex_error("--samples: out of memory");
        return -1;
    }
    uint64_t state = seed ^ 0x73616d706c6573ull; /* "samples" */
    int n_classes = reptile_dataset_num_classes(train);
    for (int row = 0; row < 5; row++) {
        int cls = (int)(splitmix64(&state) % (uint64_t)n_classes);
        int size = reptile_dataset_class_size(train, cls);
        for (int col = 0; col < 5; col++) {
            int i = (int)(splitmix64(&state) % (uint64_t)(size > 0 ? size : 1));
            if (reptile_dataset_get_image(train, cls, i, images + (size_t)(row * 5 + col) * per)) {
                ex_error("--samples: %s", reptile_error_last());
                free(images);
                return -1;
            }
        }
        snprintf(titles_buf[row], sizeof titles_buf[row], "Class : %d", cls);
        titles[row * 5 + 2] = titles_buf[row];
    }
    char err[256];
    ex_output o;
    int rc = ex_output_open(&o, "--samples", path);
    if (rc == 0)
        rc = put_picture(&o, ex_plot_images(o.name, images, 25, 5, h, w, c, 4, titles, err,
                                            sizeof err),
                         err);
    free(images);
    return rc;
}

/* The tutorial's last figure: a test task after training, its query images
 * titled with label and (per-image) prediction. */
static int draw_predictions(const char *path, reptile_meta *meta, const reptile_dataset *test,
                            int ways, uint64_t task)
{
    int h, w, c;
    reptile_dataset_image_shape(test, &h, &w, &c);
    size_t per = (size_t)h * (size_t)w * (size_t)c;
    float *images = malloc((size_t)ways * per * sizeof *images);
    int32_t *labels = malloc((size_t)ways * sizeof *labels);
    int32_t *preds = malloc((size_t)ways * sizeof *preds);
    int rc = -1;
    if (!images || !labels || !preds) {
        ex_error("--predictions: out of memory");
        goto out;
    }
    float acc;
    if (reptile_meta_evaluate_task(meta, test, task, &acc, labels, preds, images) != 0) {
        ex_error("--predictions: evaluating a test task failed: %s", reptile_error_last());
        goto out;
    }
    int shown = ways < 5 ? ways : 5;
    char titles_buf[5][64];
    const char *titles[5];
    for (int i = 0; i < shown; i++) {
        snprintf(titles_buf[i], sizeof titles_buf[i], "Label : %d, Prediction : %d",
                 (int)labels[i], (int)preds[i]);
        titles[i] = titles_buf[i];
    }
    char err[256];
    ex_output o;
    rc = ex_output_open(&o, "--predictions", path);
    if (rc == 0)
        rc = put_picture(&o, ex_plot_images(o.name, images, shown, shown, h, w, c, 5, titles, err,
                                            sizeof err),
                         err);
out:
    free(images);
    free(labels);
    free(preds);
    return rc;
}

/* ---- main ----------------------------------------------------------------------- */

static int lib_fail(const char *what)
{
    ex_error("%s: %s", what, reptile_error_last());
    return EX_FAILURE;
}

static void print_time(double load_s, double train_s, double t_start)
{
    printf("time: load_s=%.3f train_s=%.3f total_s=%.3f peak_rss_mb=%.1f\n", load_s, train_s,
           ex_now() - t_start, ex_peak_rss_mb());
    fflush(stdout);
}

static const char fetch_hint[] =
    "run scripts/fetch-omniglot to download it, or pass --data DIR";

int main(int argc, char **argv)
{
    double t_start = ex_now();
    ex_progname = "reptile-omniglot";
    cli c;
    int status = parse_cli(argc, argv, &c);
    if (status >= 0)
        return status;

    /* One file for two outputs would silently keep only one of them. The
     * checkpoint may replace the state it resumes from. */
    const char *file_opt[] = {"--csv",        "--plot",   "--samples",
                              "--predictions", "--checkpoint", "--resume",
                              "--csv's temporary file"};
    /* Each CSV snapshot replaces CSV.tmp: it must not be another file. */
    char *csv_tmp = c.csv ? ex_output_fixed_name(c.csv) : NULL;
    const char *file_path[] = {c.csv,        c.plot,   c.samples, c.predictions,
                               c.checkpoint, c.resume, csv_tmp};
    static const int resume_in_place[][2] = {{4, 5}};
    int shared = ex_outputs_distinct(file_opt, file_path, 7, resume_in_place, 1);
    free(csv_tmp);
    if (shared != 0)
        return usage_error();

    /* Options that cannot be served, before any work. */
    const char *picture_opt = c.plot ? "--plot" : c.samples ? "--samples"
                                                : c.predictions ? "--predictions" : NULL;
    if (picture_opt && !ex_plot_available()) {
        ex_error("%s: this reptile-omniglot was built without cairo and cannot draw PNG "
                 "pictures (install libcairo2-dev and rebuild)",
                 picture_opt);
        return EX_USAGE;
    }

    /* Options: preset, then the command line's overrides; or those of the
     * run to resume. */
    reptile_meta_options opts;
    if (c.resume) {
        const char *clash = c.has_preset          ? "--preset"
                            : c.has_eval_interval ? "--eval-interval"
                            : c.has_ways          ? "--ways"
                            : c.has_shots         ? "--shots"
                            : c.has_train_shots   ? "--train-shots"
                            : c.has_inner_iters   ? "--inner-iters"
                            : c.has_inner_batch   ? "--inner-batch"
                            : c.has_lr            ? "--lr"
                            : c.has_meta_step     ? "--meta-step"
                            : c.has_seed          ? "--seed"
                            : c.keras_argmax      ? "--keras-argmax"
                                                  : NULL;
        if (clash) {
            ex_error("%s cannot be combined with --resume: a resumed run keeps the settings "
                     "saved in '%s'",
                     clash, c.resume);
            return usage_error();
        }
        if (reptile_meta_load_options(&opts, c.resume) != 0) {
            ex_error("--resume: %s", reptile_error_last());
            return EX_FAILURE;
        }
        opts.threads = c.threads;
        /* --meta-iters may restate the saved schedule (the same command line
         * then starts and continues a run), never change it. */
        if (c.has_meta_iters && c.meta_iters != opts.meta_iters) {
            ex_error("--meta-iters %d differs from the %d iterations of the run saved in '%s'",
                     c.meta_iters, opts.meta_iters, c.resume);
            return usage_error();
        }
    } else if (reptile_meta_options_preset(&opts, REPTILE_META_OPTIONS_VERSION, c.preset) != 0) {
        ex_error("--preset: %s", reptile_error_last());
        return usage_error();
    }
    if (c.has_meta_iters && c.meta_iters > 0)
        opts.meta_iters = c.meta_iters;
    if (c.has_eval_interval)
        opts.eval_interval = c.eval_interval;
    if (c.has_ways)
        opts.ways = c.ways;
    if (c.has_shots)
        opts.eval_shots = c.shots;
    if (c.has_train_shots)
        opts.train_shots = c.train_shots;
    if (c.has_inner_iters)
        opts.inner_iters = c.inner_iters;
    if (c.has_inner_batch)
        opts.inner_batch = c.inner_batch;
    if (c.has_lr)
        opts.lr = c.lr;
    if (c.has_meta_step)
        opts.meta_step = c.meta_step;
    if (c.has_meta_step && opts.meta_step_final > opts.meta_step)
        opts.meta_step_final = opts.meta_step;
    if (c.has_seed)
        opts.seed = c.seed;
    if (c.keras_argmax)
        opts.keras_argmax = 1;
    if (!c.resume)
        opts.threads = c.threads;
    if (reptile_meta_options_validate(&opts) != 0) {
        ex_error("invalid settings: %s", reptile_error_last());
        return usage_error();
    }
    int iterations = c.has_meta_iters ? c.meta_iters : opts.meta_iters;
    if (c.stop_after > 0 && !c.checkpoint) {
        ex_error("--stop-after needs --checkpoint FILE to save the state to continue from");
        return usage_error();
    }
    if (c.plot && opts.eval_interval == 0) {
        ex_error("--plot: nothing to plot with --eval-interval 0");
        return usage_error();
    }

    /* Outputs must be writable before hours of training; the library
     * writes the checkpoint, and only over a regular file. */
    if ((c.csv && ex_curve_check("--csv", c.csv) != 0) ||
        (c.checkpoint && ex_output_check_library("--checkpoint", c.checkpoint) != 0))
        return EX_FAILURE;
    for (int i = 1; i < 4; i++)
        if (file_path[i] && ex_output_check(file_opt[i], file_path[i]) != 0)
            return EX_FAILURE;

    /* Data. */
    if (ex_check_omniglot_dir(c.data, fetch_hint) != 0)
        return EX_FAILURE;
    reptile_image_options img;
    reptile_image_options_init(&img, REPTILE_IMAGE_OPTIONS_VERSION);
    img.threads = c.threads;
    reptile_dataset *train = NULL, *test = NULL;
    reptile_model *model = NULL;
    reptile_meta *meta = NULL;
    run r;
    memset(&r, 0, sizeof r);
    status = EX_FAILURE;
    double load_s = 0.0, train_s = 0.0;

    double t = ex_now();
    if (reptile_dataset_open_omniglot(&train, c.data, "background", &img) != 0 ||
        reptile_dataset_open_omniglot(&test, c.data, "evaluation", &img) != 0) {
        int code = reptile_error_last_code();
        ex_error("loading Omniglot from '%s': %s", c.data, reptile_error_last());
        if (code == REPTILE_ENOTFOUND || code == REPTILE_EDATA)
            ex_error("%s", fetch_hint);
        goto out;
    }
    load_s = ex_now() - t;
    if (!c.quiet)
        fprintf(stderr, "%s: loaded %d train and %d test characters (%d + %d images) in %.1f s\n",
                ex_progname, reptile_dataset_num_classes(train), reptile_dataset_num_classes(test),
                reptile_dataset_num_images(train), reptile_dataset_num_images(test), load_s);

    if (iterations == 0) {
        print_time(load_s, 0.0, t_start);
        status = EX_OK;
        goto out;
    }

    if (c.resume ? reptile_model_load(&model, c.resume) != 0
                 : reptile_model_new_omniglot(&model, opts.ways, opts.seed) != 0) {
        lib_fail(c.resume ? "--resume: loading the model" : "building the network");
        goto out;
    }
    opts.progress = on_progress;
    opts.progress_user = &r;
    if (reptile_meta_new(&meta, model, &opts) != 0) {
        lib_fail("creating the meta-learner");
        goto out;
    }
    if (c.resume) {
        if (reptile_meta_resume(meta, c.resume) != 0) {
            lib_fail("--resume");
            goto out;
        }
        iterations = opts.meta_iters - reptile_meta_iteration(meta);
        if (iterations < 0)
            iterations = 0;
        if (!c.quiet)
            fprintf(stderr, "%s: resuming '%s' at iteration %d of %d\n", ex_progname, c.resume,
                    reptile_meta_iteration(meta), opts.meta_iters);
    }
    r.meta = meta;
    r.checkpoint = c.checkpoint;
    r.stop_after = c.stop_after;
    r.quiet = c.quiet;
    r.start_iter = reptile_meta_iteration(meta);

    /* From here on a signal ends the run through the code that removes
     * temporary files (draw_samples() has one open while cairo draws). */
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    if (c.samples && draw_samples(c.samples, train, opts.seed) != 0)
        goto out;
    if (c.csv && ex_curve_open(&r.csv, "--csv", c.csv, r.start_iter, keep_row, &r) != 0)
        goto out;

    if (!c.quiet)
        fprintf(stderr, "%s: %s %s, %d-way, %d iterations, %d thread%s\n", ex_progname,
                c.resume ? "resumed" : "preset", c.resume ? c.resume : c.preset, opts.ways,
                iterations, opts.threads, opts.threads == 1 ? "" : "s");
    ex_progress_start(&r.progress, c.quiet, iterations);
    t = ex_now();
    int rc = g_stop ? 0 : reptile_meta_train(meta, train, test, iterations);
    train_s = ex_now() - t;
    int done = reptile_meta_iteration(meta) - r.start_iter;
    ex_progress_finish(&r.progress, done);
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);

    int failed = 0;
    if (r.checkpoint_failed || r.csv_failed) {
        /* The reason was reported by the callback, when it happened. */
        ex_error("stopped after %d of %d iterations: %s could not be written", done, iterations,
                 r.csv_failed ? "--csv" : "--checkpoint");
        failed = 1;
    } else if (rc != 0) {
        ex_error("meta-training stopped after %d of %d iterations: %s", done, iterations,
                 reptile_error_last());
        failed = 1;
    } else if (r.stopped) {
        if (!c.quiet)
            fprintf(stderr, "%s: stopped after iteration %d of %d (--stop-after)\n", ex_progname,
                    reptile_meta_iteration(meta), opts.meta_iters);
    } else if (g_stop && done < iterations) {
        ex_error("interrupted after %d of %d iterations; writing what there is", done,
                 iterations);
        failed = 1;
    }
    if (ex_curve_active(&r.csv) && ex_curve_finish(&r.csv) != 0) {
        r.csv_failed = 1;
        failed = 1;
    }
    if (r.oom) {
        ex_error("out of memory recording the learning curve");
        failed = 1;
    }
    if (c.plot && !r.oom) {
        char err[256], title[128];
        snprintf(title, sizeof title, "Reptile on Omniglot, %d-way %d-shot (%s)", opts.ways,
                 opts.eval_shots, c.resume ? "resumed run" : c.preset);
        ex_output o;
        if (ex_output_open(&o, "--plot", c.plot) != 0 ||
            put_picture(&o, ex_plot_curve(o.name, r.train, r.test, r.n, SMOOTH_WINDOW, title, err,
                                          sizeof err),
                        err) != 0)
            failed = 1;
    }
    /* Not after a CSV failure: the CSV on disk would lack rows before the
     * checkpoint's iteration, and a resumed run would never write them. */
    if (c.checkpoint && rc == 0 && !r.checkpoint_failed && !r.csv_failed) {
        if (reptile_meta_save(meta, c.checkpoint) != 0) {
            lib_fail("--checkpoint");
            failed = 1;
        } else if (!c.quiet) {
            fprintf(stderr, "%s: saved the training state at iteration %d to '%s'\n",
                    ex_progname, reptile_meta_iteration(meta), c.checkpoint);
        }
    }
    if (c.predictions &&
        draw_predictions(c.predictions, meta, test, opts.ways,
                         (uint64_t)reptile_meta_iteration(meta)) != 0)
        failed = 1;

    if (c.final_eval > 0 && rc == 0 && !g_stop && !r.stopped && !r.checkpoint_failed &&
        !r.csv_failed) {
        double mean = 0.0, ci95 = 0.0;
        if (!c.quiet)
            fprintf(stderr, "%s: evaluating %d test tasks\n", ex_progname, c.final_eval);
        if (reptile_meta_evaluate(meta, test, c.final_eval, 0, 0, &mean, &ci95) != 0) {
            lib_fail("final evaluation");
            failed = 1;
        } else {
            printf("final: episodes=%d ways=%d shots=%d accuracy=%f ci95=%f\n", c.final_eval,
                   opts.ways, opts.eval_shots, mean, ci95);
        }
    }
    print_time(load_s, train_s, t_start);
    status = failed ? EX_FAILURE : EX_OK;

out:
    ex_curve_abort(&r.csv);
    free(r.train);
    free(r.test);
    reptile_meta_free(meta);
    reptile_model_free(model);
    reptile_dataset_free(train);
    reptile_dataset_free(test);
    return status;
}
