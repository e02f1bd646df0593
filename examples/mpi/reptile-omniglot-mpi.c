/* reptile-omniglot-mpi: reptile-omniglot's meta-training spread over MPI
 * ranks (data-parallel Reptile through libreptile-mpi).
 *
 *   mpirun -np 2 reptile-omniglot-mpi --preset paper-omniglot-5way --meta-iters 1000
 *
 * Every rank loads Omniglot, runs --meta-batch tasks per meta-iteration
 * (the effective meta-batch is meta-batch x world size) and joins the
 * allreduce of the adapted weights; all start from rank 0's initial
 * weights. Rank 0 alone logs, evaluates, writes the CSV and the checkpoint
 * and prints the 'final:' and 'time:' lines. A rank that fails ends the
 * job (MPI_Abort) with a message; --timeout bounds the wait for a rank
 * that hangs. See docs/distributed.md. */
#include <reptile/mpi.h>
#include <reptile/reptile.h>

#include "../cli.h"
#include "../curve.h"
#include "../output.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PROG "reptile-omniglot-mpi"
#define DEFAULT_DATA "data/omniglot"
#define DEFAULT_PRESET "keras-tutorial"
#define SNAPSHOT_EVERY 100

static int g_rank, g_size;

/* ---- command line --------------------------------------------------------- */

/* -1: not given (the preset's value). */
typedef struct cli {
    const char *preset, *data, *csv, *checkpoint;
    int meta_iters, meta_batch, eval_interval, ways, shots, train_shots, inner_iters,
        inner_batch, threads, final_eval;
    float lr, meta_step;
    double timeout;
    uint64_t seed;
    int has_seed, quiet;
} cli;

enum {
    OPT_PRESET = 256, OPT_DATA, OPT_META_ITERS, OPT_META_BATCH, OPT_EVAL_INTERVAL, OPT_WAYS,
    OPT_SHOTS, OPT_TRAIN_SHOTS, OPT_INNER_ITERS, OPT_INNER_BATCH, OPT_LR, OPT_META_STEP,
    OPT_SEED, OPT_THREADS, OPT_FINAL_EVAL, OPT_CSV, OPT_CHECKPOINT, OPT_TIMEOUT, OPT_QUIET,
    OPT_HELP, OPT_VERSION
};

static const struct option long_options[] = {
    {"preset", required_argument, NULL, OPT_PRESET},
    {"data", required_argument, NULL, OPT_DATA},
    {"meta-iters", required_argument, NULL, OPT_META_ITERS},
    {"meta-batch", required_argument, NULL, OPT_META_BATCH},
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
    {"checkpoint", required_argument, NULL, OPT_CHECKPOINT},
    {"timeout", required_argument, NULL, OPT_TIMEOUT},
    {"quiet", no_argument, NULL, OPT_QUIET},
    {"help", no_argument, NULL, OPT_HELP},
    {"version", no_argument, NULL, OPT_VERSION},
    {NULL, 0, NULL, 0},
};

static void usage(FILE *f)
{
    fprintf(f,
        "Usage: mpirun -np N %s [OPTION]...\n"
        "Meta-train the Omniglot classifier with data-parallel Reptile over MPI ranks.\n"
        "Every rank runs the same command line; rank 0 alone prints and writes files.\n"
        "\n"
        "  --preset NAME        keras-tutorial (default), reference-tutorial,\n"
        "                       paper-omniglot-5way, paper-omniglot-20way\n"
        "  --data DIR           Omniglot folder, on every host (default: %s)\n"
        "  --meta-iters N       meta-iterations, also the annealing length (default: preset's)\n"
        "  --meta-batch N       tasks per meta-iteration PER RANK (default: preset's); the\n"
        "                       effective meta-batch is N x world size\n"
        "  --eval-interval N    rank 0 evaluates one train and one test task every N\n"
        "                       iterations, 0 = never (default: preset's)\n"
        "  --ways N, --shots N, --train-shots N, --inner-iters N, --inner-batch N,\n"
        "  --lr F, --meta-step F, --seed N   as reptile-omniglot (default: preset's)\n"
        "  --threads N          worker threads per rank (default: 1)\n"
        "  --final-eval N       rank 0 evaluates N test tasks after training\n"
        "  --csv FILE           learning curve (rank 0): iteration,meta_step,train_acc,\n"
        "                       test_acc,elapsed_s; FILE is replaced atomically\n"
        "                       (through FILE.tmp) with the rows so far every 100\n"
        "                       iterations and at the end\n"
        "  --checkpoint FILE    rank 0 saves the trained model (reptile_model_save,\n"
        "                       atomically; a regular file or a new one)\n"
        "  --timeout S          a rank waiting more than S seconds in one allreduce\n"
        "                       (another rank died or hung) aborts the job; 0 = wait\n"
        "                       forever (default: 120)\n"
        "  --quiet              no 'batch' lines (the 'final:', 'time:' and\n"
        "                       'world_size=' lines are always printed)\n"
        "  --help, --version\n"
        "\n"
        "Prints on rank 0: time: load_s=.. train_s=.. total_s=.. peak_rss_mb=..\n"
        "  and world_size=N meta_batch_per_rank=M meta_iters_per_s=X tasks_per_s=Y\n"
        "Exit status: 0 success, 1 runtime failure (the job is aborted), 2 bad command line.\n",
        PROG, DEFAULT_DATA);
}

/* Returns -1 to continue, or an exit status. Only rank 0 prints. */
static int parse_cli(int argc, char **argv, cli *c)
{
    memset(c, 0, sizeof *c);
    c->preset = DEFAULT_PRESET;
    c->data = DEFAULT_DATA;
    c->meta_iters = c->meta_batch = c->eval_interval = c->ways = c->shots = -1;
    c->train_shots = c->inner_iters = c->inner_batch = -1;
    c->lr = c->meta_step = -1.0f;
    c->threads = 1;
    c->timeout = 120.0;
    opterr = 0;
    int opt, idx = -1;
    while ((opt = getopt_long(argc, argv, ":", long_options, &idx)) != -1) {
        char name[48];
        snprintf(name, sizeof name, "--%s", idx >= 0 ? long_options[idx].name : "?");
        const char *o = opt >= OPT_PRESET ? name : argv[optind - 1];
        idx = -1;
        int bad = 0;
        switch (opt) {
        case OPT_PRESET: c->preset = optarg; break;
        case OPT_DATA: c->data = optarg; break;
        case OPT_META_ITERS: bad = ex_parse_int(o, optarg, 0, EX_MAX_ITERS, &c->meta_iters); break;
        case OPT_META_BATCH:
            bad = ex_parse_int(o, optarg, 1, EX_MAX_META_BATCH, &c->meta_batch);
            break;
        case OPT_EVAL_INTERVAL:
            bad = ex_parse_int(o, optarg, 0, EX_MAX_ITERS, &c->eval_interval);
            break;
        case OPT_WAYS: bad = ex_parse_int(o, optarg, 2, EX_MAX_WAYS, &c->ways); break;
        case OPT_SHOTS: bad = ex_parse_int(o, optarg, 1, EX_MAX_SHOTS, &c->shots); break;
        case OPT_TRAIN_SHOTS:
            bad = ex_parse_int(o, optarg, 1, EX_MAX_SHOTS, &c->train_shots);
            break;
        case OPT_INNER_ITERS:
            bad = ex_parse_int(o, optarg, 1, EX_MAX_INNER_ITERS, &c->inner_iters);
            break;
        case OPT_INNER_BATCH:
            bad = ex_parse_int(o, optarg, 1, EX_MAX_INNER_BATCH, &c->inner_batch);
            break;
        case OPT_LR:
            bad = ex_parse_float(o, optarg, 0.0, EX_MAX_LR, EX_MIN_OPEN | EX_MAX_OPEN, &c->lr);
            break;
        case OPT_META_STEP:
            bad = ex_parse_float(o, optarg, 0.0, EX_MAX_META_STEP, EX_MIN_OPEN, &c->meta_step);
            break;
        case OPT_SEED:
            bad = ex_parse_u64(o, optarg, &c->seed);
            c->has_seed = 1;
            break;
        case OPT_THREADS: bad = ex_parse_int(o, optarg, 1, EX_MAX_THREADS, &c->threads); break;
        case OPT_FINAL_EVAL: bad = ex_parse_int(o, optarg, 1, EX_MAX_ITERS, &c->final_eval); break;
        case OPT_CSV: c->csv = optarg; break;
        case OPT_CHECKPOINT: c->checkpoint = optarg; break;
        case OPT_TIMEOUT: bad = ex_parse_double(o, optarg, 0.0, 1e9, 0, &c->timeout); break;
        case OPT_QUIET: c->quiet = 1; break;
        case OPT_HELP:
            if (g_rank == 0)
                usage(stdout);
            return EX_OK;
        case OPT_VERSION:
            if (g_rank == 0)
                printf("%s (libreptile %s)\n", PROG, reptile_version_string());
            return EX_OK;
        case ':':
            ex_error("option '%s' needs a value", o);
            bad = 1;
            break;
        default:
            ex_error("unknown option '%s'", o);
            bad = 1;
            break;
        }
        if (bad) {
            if (g_rank == 0)
                fprintf(stderr, "Try '%s --help' for more information.\n", PROG);
            return EX_USAGE;
        }
    }
    if (optind < argc) {
        ex_error("unexpected argument '%s' (all settings are --options)", argv[optind]);
        return EX_USAGE;
    }
    /* One file for both outputs would keep only one of them; each CSV
     * snapshot replaces CSV.tmp, which must not be the checkpoint. */
    const char *file_opt[] = {"--csv", "--checkpoint", "--csv's temporary file"};
    char *csv_tmp = c->csv ? ex_output_fixed_name(c->csv) : NULL;
    const char *file_path[] = {c->csv, c->checkpoint, csv_tmp};
    int clash = ex_outputs_distinct(file_opt, file_path, 3, NULL, 0);
    free(csv_tmp);
    if (clash != 0) {
        if (g_rank == 0)
            fprintf(stderr, "Try '%s --help' for more information.\n", PROG);
        return EX_USAGE;
    }
    return -1;
}

/* ---- progress on rank 0 ------------------------------------------------------ */

typedef struct run {
    ex_curve csv; /* the learning curve, when --csv */
    int quiet;
} run;

static ex_curve *g_csv; /* dropped by die() */
static void die(int code);

static int on_progress(const reptile_progress *p, void *user)
{
    run *r = user;
    int meta_iter = p->iteration - 1;
    /* A CSV that cannot be written ends the job at once (the message says
     * why), not after the whole run. */
    if (p->evaluated && ex_curve_active(&r->csv) &&
        ex_curve_add(&r->csv, meta_iter, (double)p->meta_step, (double)p->train_accuracy,
                     (double)p->test_accuracy, p->elapsed_s) != 0)
        die(EX_FAILURE);
    if (ex_curve_active(&r->csv) && p->iteration % SNAPSHOT_EVERY == 0 &&
        p->iteration < p->total && ex_curve_snapshot(&r->csv) != 0)
        die(EX_FAILURE);
    if (p->evaluated) {
        if (!r->quiet && meta_iter % 100 == 0) {
            printf("batch %d: train=%f test=%f\n", meta_iter, (double)p->train_accuracy,
                   (double)p->test_accuracy);
            fflush(stdout);
        }
    }
    return 0;
}

/* ---- main ------------------------------------------------------------------------- */

/* Every rank reaches here with its own verdict; returns the worst status
 * (so that either all ranks go on or all stop together). */
static int agree(int status)
{
    int worst = status;
    if (MPI_Allreduce(&status, &worst, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD) != MPI_SUCCESS)
        return EX_FAILURE;
    return worst;
}

static void die(int code)
{
    if (g_csv)
        ex_curve_abort(g_csv); /* no temporary file left behind */
    fflush(stdout);
    fflush(stderr);
    MPI_Abort(MPI_COMM_WORLD, code);
    exit(code); /* not reached */
}

int main(int argc, char **argv)
{
    const double t_start = ex_now();
    int provided = 0;
    if (MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS) {
        fprintf(stderr, "%s: MPI_Init_thread failed\n", PROG);
        return EX_FAILURE;
    }
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    MPI_Comm_rank(MPI_COMM_WORLD, &g_rank);
    MPI_Comm_size(MPI_COMM_WORLD, &g_size);
    char progname[64];
    snprintf(progname, sizeof progname, g_size > 1 ? "%s: rank %d" : "%s", PROG, g_rank);
    ex_progname = progname;

    /* Every rank parses the same command line: rank 0 alone reports. */
    ex_error_mute = g_rank != 0;
    cli c;
    int status = parse_cli(argc, argv, &c);
    reptile_meta_options opts;
    if (status < 0) {
        status = EX_OK - 1;
        if (reptile_meta_options_preset(&opts, REPTILE_META_OPTIONS_VERSION, c.preset) != 0) {
            ex_error("--preset: %s", reptile_error_last());
            status = EX_USAGE;
        }
    }
    if (status < 0) {
        if (c.meta_iters > 0)
            opts.meta_iters = c.meta_iters;
        if (c.meta_batch > 0)
            opts.meta_batch = c.meta_batch;
        if (c.eval_interval >= 0)
            opts.eval_interval = c.eval_interval;
        if (c.ways > 0)
            opts.ways = c.ways;
        if (c.shots > 0)
            opts.eval_shots = c.shots;
        if (c.train_shots > 0)
            opts.train_shots = c.train_shots;
        if (c.inner_iters > 0)
            opts.inner_iters = c.inner_iters;
        if (c.inner_batch > 0)
            opts.inner_batch = c.inner_batch;
        if (c.lr > 0)
            opts.lr = c.lr;
        if (c.meta_step > 0) {
            opts.meta_step = c.meta_step;
            if (opts.meta_step_final > opts.meta_step)
                opts.meta_step_final = opts.meta_step;
        }
        if (c.has_seed)
            opts.seed = c.seed;
        opts.threads = c.threads;
        if (reptile_meta_options_validate(&opts) != 0) {
            ex_error("invalid settings: %s", reptile_error_last());
            status = EX_USAGE;
        }
    }
    ex_error_mute = 0;
    /* Usage errors and --help are the same on every rank: leave together. */
    if (status >= 0) {
        MPI_Finalize();
        return status;
    }
    const int iterations = c.meta_iters >= 0 ? c.meta_iters : opts.meta_iters;

    reptile_mpi *mpi = NULL;
    if (reptile_mpi_new(&mpi, MPI_COMM_WORLD) != 0 || reptile_mpi_set_timeout(mpi, c.timeout) != 0 ||
        reptile_mpi_options(mpi, &opts) != 0) {
        ex_error("setting up MPI: %s", reptile_mpi_error_last());
        die(EX_FAILURE);
    }
    /* Rank 0 alone evaluates and reports. */
    run r;
    memset(&r, 0, sizeof r);
    r.quiet = c.quiet;
    g_csv = &r.csv;
    if (g_rank == 0) {
        opts.progress = on_progress;
        opts.progress_user = &r;
    } else {
        opts.eval_interval = 0;
    }

    /* Data: every rank loads its own copy. */
    reptile_dataset *train = NULL, *test = NULL;
    reptile_model *model = NULL;
    reptile_meta *meta = NULL;
    status = EX_OK;
    double t = ex_now();
    /* Outputs (rank 0) must be writable before the data is loaded. */
    if (g_rank == 0 &&
        ((c.csv && ex_curve_check("--csv", c.csv) != 0) ||
         (c.checkpoint && ex_output_check_library("--checkpoint", c.checkpoint) != 0))) {
        status = EX_FAILURE;
    } else if (ex_check_omniglot_dir(c.data, "run scripts/fetch-omniglot, or pass --data DIR "
                                             "(on every host)") != 0) {
        status = EX_FAILURE;
    } else {
        reptile_image_options img;
        reptile_image_options_init(&img, REPTILE_IMAGE_OPTIONS_VERSION);
        img.threads = opts.threads;
        if (reptile_dataset_open_omniglot(&train, c.data, "background", &img) != 0 ||
            reptile_dataset_open_omniglot(&test, c.data, "evaluation", &img) != 0) {
            ex_error("loading Omniglot from '%s': %s", c.data, reptile_error_last());
            status = EX_FAILURE;
        }
    }
    if (status == EX_OK && g_rank == 0 && c.csv &&
        ex_curve_open(&r.csv, "--csv", c.csv, 0, NULL, NULL) != 0)
        status = EX_FAILURE;
    const double load_s = ex_now() - t;
    if (status == EX_OK && reptile_model_new_omniglot(&model, opts.ways, opts.seed) != 0) {
        ex_error("building the network: %s", reptile_error_last());
        status = EX_FAILURE;
    }
    /* A rank that cannot start stops everyone before any collective. */
    if (agree(status) != EX_OK) {
        if (g_rank == 0 && status == EX_OK)
            ex_error("another rank failed to start (see its message)");
        die(EX_FAILURE);
    }
    if (reptile_mpi_broadcast_model(mpi, model, 0) != 0 ||
        reptile_mpi_check_consistent(mpi, &opts, model) != 0) {
        ex_error("%s", reptile_mpi_error_last());
        die(EX_FAILURE);
    }
    if (reptile_meta_new(&meta, model, &opts) != 0) {
        ex_error("creating the meta-learner: %s", reptile_error_last());
        die(EX_FAILURE);
    }
    if (g_rank == 0 && !c.quiet)
        fprintf(stderr,
                "%s: %d rank%s x meta-batch %d (effective %d), preset %s, %d-way, %d iterations, "
                "%d thread%s per rank, loaded in %.1f s\n",
                PROG, g_size, g_size == 1 ? "" : "s", opts.meta_batch, opts.meta_batch * g_size,
                c.preset, opts.ways, iterations, opts.threads, opts.threads == 1 ? "" : "s", load_s);

    /* Start together: loading times differ between ranks. */
    MPI_Barrier(MPI_COMM_WORLD);
    t = ex_now();
    int rc = reptile_meta_train(meta, train, test, iterations);
    const double train_s = ex_now() - t;
    if (rc != 0) {
        ex_error("meta-training stopped at iteration %d of %d: %s%s%s",
                 reptile_meta_iteration(meta), iterations, reptile_error_last(),
                 reptile_mpi_error_last()[0] ? ": " : "", reptile_mpi_error_last());
        die(EX_FAILURE);
    }

    int failed = 0;
    if (g_rank == 0) {
        if (ex_curve_active(&r.csv) && ex_curve_finish(&r.csv) != 0)
            failed = 1;
        if (c.checkpoint && reptile_model_save(model, c.checkpoint) != 0) {
            ex_error("--checkpoint: %s", reptile_error_last());
            failed = 1;
        }
        if (c.final_eval > 0) {
            double mean = 0.0, ci95 = 0.0;
            if (reptile_meta_evaluate(meta, test, c.final_eval, 0, 0, &mean, &ci95) != 0) {
                ex_error("final evaluation: %s", reptile_error_last());
                failed = 1;
            } else {
                printf("final: episodes=%d ways=%d shots=%d accuracy=%f ci95=%f\n", c.final_eval,
                       opts.ways, opts.eval_shots, mean, ci95);
            }
        }
        printf("time: load_s=%.3f train_s=%.3f total_s=%.3f peak_rss_mb=%.1f\n", load_s, train_s,
               ex_now() - t_start, ex_peak_rss_mb());
        double ips = train_s > 0 ? (double)iterations / train_s : 0.0;
        printf("world_size=%d meta_batch_per_rank=%d threads_per_rank=%d meta_iters_per_s=%.3f "
               "tasks_per_s=%.2f\n",
               g_size, opts.meta_batch, opts.threads, ips, ips * opts.meta_batch * g_size);
        fflush(stdout);
    }
    reptile_meta_free(meta);
    reptile_model_free(model);
    reptile_dataset_free(train);
    reptile_dataset_free(test);
    reptile_mpi_free(mpi);
    MPI_Finalize();
    return failed ? EX_FAILURE : EX_OK;
}
