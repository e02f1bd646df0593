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
#include "../options_cli.h"
#include "../output.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PROG "reptile-omniglot-mpi"
#define DEFAULT_DATA "data/omniglot"
#define DEFAULT_PRESET "keras-tutorial"
#define SNAPSHOT_EVERY 100

static int g_rank, g_size;

/* ---- command line --------------------------------------------------------- */

typedef struct mpi_cli {
    ex_cli lib; /* the library options given */
    const char *preset, *data, *csv, *checkpoint;
    int final_eval, quiet;
    double timeout;
} mpi_cli;

static const char about[] =
    "Usage: mpirun -np N " PROG " [OPTION]...\n"
    "Meta-train the Omniglot classifier with data-parallel Reptile over MPI ranks.\n"
    "Every rank runs the same command line; rank 0 alone prints and writes files.\n";

static const char footer[] =
    "\n"
    "Prints on rank 0: time: load_s=.. train_s=.. total_s=.. peak_rss_mb=..\n"
    "  and world_size=N meta_batch_per_rank=M meta_iters_per_s=X tasks_per_s=Y\n"
    "Exit status: 0 success, 1 runtime failure (the job is aborted), 2 bad command line.\n";

static const char *preset_of(const mpi_cli *c)
{
    return c->preset ? c->preset : DEFAULT_PRESET;
}

static int parse_options(mpi_cli *c, int argc, char **argv)
{
    reptile_meta_options defaults;
    ex_cli_preset(&c->lib, &defaults, DEFAULT_PRESET);
    const ex_opt opts[] = {
        {EX_SECTION, .help = "Run:"},
        {EX_PRESET, "preset", "NAME", &c->preset,
         .help = "settings to start from (default: " DEFAULT_PRESET ")"},
        {EX_STRING, "data", "DIR", &c->data,
         .help = "Omniglot folder, on every host (default: " DEFAULT_DATA ")"},
        {EX_NOTE, .lib = "meta_iters", .value = "0", .help = "load, start together, report"},
        {EX_NOTE, .lib = "meta_batch",
         .help = "PER RANK: the effective meta-batch is N x world size"},
        {EX_NOTE, .lib = "eval_interval", .help = "rank 0 evaluates"},
        {EX_NOTE, .lib = "threads", .help = "per rank"},
        {EX_DOUBLE, "timeout", "S", &c->timeout, 0.0, 1e9,
         .help = "a rank waiting more than S seconds in one allreduce (another rank died or "
                 "hung) aborts the job; 0 = wait forever (default: 120)"},
        {EX_FLAG, "quiet", NULL, &c->quiet,
         .help = "no 'batch' lines (the 'final:', 'time:' and 'world_size=' lines are always "
                 "printed)"},
        {EX_SECTION, .help = "Outputs (rank 0):"},
        {EX_INT, "final-eval", "N", &c->final_eval, 1, EX_MAX_TASKS,
         .help = "evaluate N test tasks after training"},
        {EX_STRING, "csv", "FILE", &c->csv,
         .help = "learning curve: iteration,meta_step,train_acc,test_acc,elapsed_s; FILE is "
                 "replaced atomically (through FILE.tmp) with the rows so far every "
                 "100 iterations and at the end"},
        {EX_STRING, "checkpoint", "FILE", &c->checkpoint,
         .help = "save the trained model (reptile_model_save, atomically; a regular file or a "
                 "new one)"},
    };
    const ex_program prog = {PROG, about, footer, "the " DEFAULT_PRESET " preset's", &defaults,
                             opts, sizeof opts / sizeof opts[0], NULL, NULL};
    return ex_cli_parse(&c->lib, &prog, argc, argv);
}

/* The command line and the settings it gives; every rank parses it, rank 0
 * alone reports. EX_CONTINUE, or the status every rank exits with. */
static int settle(mpi_cli *c, reptile_meta_options *opts, int *iterations, int argc,
                  char **argv)
{
    memset(c, 0, sizeof *c);
    c->data = DEFAULT_DATA;
    c->timeout = 120.0;
    int status = parse_options(c, argc, argv);
    if (status != EX_CONTINUE)
        return status;
    /* One file for both outputs would keep only one of them; each CSV
     * snapshot replaces CSV.tmp, which must not be the checkpoint. */
    const char *file_opt[] = {"--csv", "--checkpoint", "--csv's temporary file"};
    char *csv_tmp = c->csv ? ex_output_fixed_name(c->csv) : NULL;
    const char *file_path[] = {c->csv, c->checkpoint, csv_tmp};
    int clash = ex_outputs_distinct(file_opt, file_path, 3, NULL, 0);
    free(csv_tmp);
    if (clash != 0)
        return ex_cli_usage_error(&c->lib);
    status = ex_cli_preset(&c->lib, opts, preset_of(c));
    if (status == EX_CONTINUE)
        status = ex_cli_apply(&c->lib, opts);
    *iterations = opts->meta_iters;
    ex_cli_given_int(&c->lib, "meta_iters", iterations);
    return status;
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

/* ---- the job -------------------------------------------------------------------- */

typedef struct job {
    mpi_cli c;
    reptile_meta_options opts;
    int iterations;
    reptile_mpi *mpi;
    run r; /* rank 0 */
    reptile_dataset *train, *test;
    reptile_model *model;
    reptile_meta *meta;
    double t_start, load_s, train_s;
} job;

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

/* MPI, this rank's number and the world's size, the messages' prefix. */
static int init_mpi(int *argc, char ***argv)
{
    int provided = 0;
    if (MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS) {
        fprintf(stderr, "%s: MPI_Init_thread failed\n", PROG);
        return EX_FAILURE;
    }
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    MPI_Comm_rank(MPI_COMM_WORLD, &g_rank);
    MPI_Comm_size(MPI_COMM_WORLD, &g_size);
    static char progname[64];
    snprintf(progname, sizeof progname, g_size > 1 ? "%s: rank %d" : "%s", PROG, g_rank);
    ex_progname = progname;
    return EX_CONTINUE;
}

/* The adapter fills in rank, world size and allreduce; rank 0 alone
 * evaluates and reports. */
static void join(job *j)
{
    if (reptile_mpi_new(&j->mpi, MPI_COMM_WORLD) != 0 ||
        reptile_mpi_set_timeout(j->mpi, j->c.timeout) != 0 ||
        reptile_mpi_options(j->mpi, &j->opts) != 0) {
        ex_error("setting up MPI: %s", reptile_mpi_error_last());
        die(EX_FAILURE);
    }
    j->r.quiet = j->c.quiet;
    g_csv = &j->r.csv;
    if (g_rank == 0) {
        j->opts.progress = on_progress;
        j->opts.progress_user = &j->r;
    } else {
        j->opts.eval_interval = 0;
    }
}

/* Outputs (rank 0) checked before the data, which every rank loads; the
 * network built. This rank's verdict. */
static int load(job *j)
{
    const mpi_cli *c = &j->c;
    int status = EX_OK;
    double t = ex_now();
    if (g_rank == 0 &&
        ((c->csv && ex_curve_check("--csv", c->csv) != 0) ||
         (c->checkpoint && ex_output_check_library("--checkpoint", c->checkpoint) != 0))) {
        status = EX_FAILURE;
    } else if (ex_check_omniglot_dir(c->data, "run reptile-fetch-omniglot (in the source tree: "
                                              "scripts/fetch-omniglot), or pass --data DIR "
                                              "(on every host)") != 0) {
        status = EX_FAILURE;
    } else {
        reptile_image_options img;
        reptile_image_options_init(&img, REPTILE_IMAGE_OPTIONS_VERSION);
        img.threads = j->opts.threads;
        if (reptile_dataset_open_omniglot(&j->train, c->data, "background", &img) != 0 ||
            reptile_dataset_open_omniglot(&j->test, c->data, "evaluation", &img) != 0) {
            ex_error("loading Omniglot from '%s': %s", c->data, reptile_error_last());
            status = EX_FAILURE;
        }
    }
    if (status == EX_OK && g_rank == 0 && c->csv &&
        ex_curve_open(&j->r.csv, "--csv", c->csv, 0, NULL, NULL) != 0)
        status = EX_FAILURE;
    j->load_s = ex_now() - t;
    if (status == EX_OK && reptile_model_new_omniglot(&j->model, j->opts.ways, j->opts.seed) != 0) {
        ex_error("building the network: %s", reptile_error_last());
        status = EX_FAILURE;
    }
    return status;
}

/* A rank that cannot start stops everyone before any collective; then all
 * start from rank 0's weights, with settings checked to agree. */
static void start(job *j, int status)
{
    if (agree(status) != EX_OK) {
        if (g_rank == 0 && status == EX_OK)
            ex_error("another rank failed to start (see its message)");
        die(EX_FAILURE);
    }
    if (reptile_mpi_broadcast_model(j->mpi, j->model, 0) != 0 ||
        reptile_mpi_check_consistent(j->mpi, &j->opts, j->model) != 0) {
        ex_error("%s", reptile_mpi_error_last());
        die(EX_FAILURE);
    }
    if (reptile_meta_new(&j->meta, j->model, &j->opts) != 0) {
        ex_error("creating the meta-learner: %s", reptile_error_last());
        die(EX_FAILURE);
    }
    if (g_rank == 0 && !j->c.quiet)
        fprintf(stderr,
                "%s: %d rank%s x meta-batch %d (effective %d), preset %s, %d-way, %d iterations, "
                "%d thread%s per rank, loaded in %.1f s\n",
                PROG, g_size, g_size == 1 ? "" : "s", j->opts.meta_batch,
                j->opts.meta_batch * g_size, preset_of(&j->c), j->opts.ways, j->iterations,
                j->opts.threads, j->opts.threads == 1 ? "" : "s", j->load_s);
}

static void train(job *j)
{
    /* Start together: loading times differ between ranks. */
    MPI_Barrier(MPI_COMM_WORLD);
    double t = ex_now();
    int rc = reptile_meta_train(j->meta, j->train, j->test, j->iterations);
    j->train_s = ex_now() - t;
    if (rc != 0) {
        ex_error("meta-training stopped at iteration %d of %d: %s%s%s",
                 reptile_meta_iteration(j->meta), j->iterations, reptile_error_last(),
                 reptile_mpi_error_last()[0] ? ": " : "", reptile_mpi_error_last());
        die(EX_FAILURE);
    }
}

/* Rank 0: the CSV, the model, the final evaluation, the time and
 * throughput lines. 1 for a failure. */
static int report(job *j)
{
    const mpi_cli *c = &j->c;
    const reptile_meta_options *o = &j->opts;
    int failed = 0;
    if (ex_curve_active(&j->r.csv) && ex_curve_finish(&j->r.csv) != 0)
        failed = 1;
    if (c->checkpoint && reptile_model_save(j->model, c->checkpoint) != 0) {
        ex_error("--checkpoint: %s", reptile_error_last());
        failed = 1;
    }
    if (c->final_eval > 0) {
        double mean = 0.0, ci95 = 0.0;
        if (reptile_meta_evaluate(j->meta, j->test, c->final_eval, 0, 0, &mean, &ci95) != 0) {
            ex_error("final evaluation: %s", reptile_error_last());
            failed = 1;
        } else {
            printf("final: episodes=%d ways=%d shots=%d accuracy=%f ci95=%f\n", c->final_eval,
                   o->ways, o->eval_shots, mean, ci95);
        }
    }
    printf("time: load_s=%.3f train_s=%.3f total_s=%.3f peak_rss_mb=%.1f\n", j->load_s,
           j->train_s, ex_now() - j->t_start, ex_peak_rss_mb());
    double ips = j->train_s > 0 ? (double)j->iterations / j->train_s : 0.0;
    printf("world_size=%d meta_batch_per_rank=%d threads_per_rank=%d meta_iters_per_s=%.3f "
           "tasks_per_s=%.2f\n",
           g_size, o->meta_batch, o->threads, ips, ips * o->meta_batch * g_size);
    fflush(stdout);
    return failed;
}

int main(int argc, char **argv)
{
    static job j; /* zeroed */
    j.t_start = ex_now();
    if (init_mpi(&argc, &argv) != EX_CONTINUE)
        return EX_FAILURE;
    /* Every rank parses the same command line: rank 0 alone reports. Usage
     * errors and --help are the same on every rank: leave together. */
    ex_error_mute = g_rank != 0;
    int status = settle(&j.c, &j.opts, &j.iterations, argc, argv);
    ex_error_mute = 0;
    if (status != EX_CONTINUE) {
        MPI_Finalize();
        return status;
    }
    join(&j);
    start(&j, load(&j));
    train(&j);
    int failed = g_rank == 0 && report(&j);
    reptile_meta_free(j.meta);
    reptile_model_free(j.model);
    reptile_dataset_free(j.train);
    reptile_dataset_free(j.test);
    reptile_mpi_free(j.mpi);
    MPI_Finalize();
    return failed ? EX_FAILURE : EX_OK;
}
