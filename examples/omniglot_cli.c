/* reptile-omniglot's command line: see omniglot_cli.h. */
#include "omniglot_cli.h"

#include "cli.h"
#include "curve.h"
#include "output.h"
#include "plot.h"

#include <stdlib.h>
#include <string.h>

#define DEFAULT_DATA "data/omniglot"

static const char about[] =
    "Usage: reptile-omniglot [OPTION]...\n"
    "Meta-train the Keras Reptile tutorial's Omniglot classifier with libreptile.\n";

static const char footer[] =
    "\n"
    "Every output file is written to a temporary file beside it, then renamed over\n"
    "it: a failure (a full disk) leaves the earlier file, or none, never a truncated\n"
    "one, and is reported when it happens. An existing file you may not write is\n"
    "refused. One file cannot serve two outputs.\n"
    "\n"
    "Exit status: 0 success, 1 runtime failure, 2 bad command line.\n";

const char *omniglot_preset(const omniglot_cli *c)
{
    return c->preset ? c->preset : OMNIGLOT_DEFAULT_PRESET;
}

/* The settings with no option given: the preset, every online CPU. */
static int program_defaults(const omniglot_cli *c, reptile_meta_options *opts)
{
    int status = ex_cli_preset(&c->lib, opts, omniglot_preset(c));
    opts->threads = ex_cli_online_threads();
    return status;
}

static int parse_options(omniglot_cli *c, int argc, char **argv)
{
    reptile_meta_options defaults;
    program_defaults(c, &defaults);
    const ex_opt opts[] = {
        {EX_SECTION, .help = "Run:"},
        {EX_PRESET, "preset", "NAME", &c->preset,
         .help = "settings to start from (default: " OMNIGLOT_DEFAULT_PRESET ")"},
        {EX_STRING, "data", "DIR", &c->data,
         .help = "Omniglot folder holding images_background/ (train) and images_evaluation/ "
                 "(test) (default: " DEFAULT_DATA ")"},
        {EX_NOTE, .lib = "meta_iters", .value = "0", .help = "load the data, report times, exit"},
        {EX_STRING, "resume", "FILE", &c->resume,
         .help = "continue the run saved in FILE to the end of its schedule, with its settings "
                 "(no option that shapes training can be given: --threads, --eval-interval, the "
                 "evaluation settings and a --meta-iters equal to the saved schedule may); an existing --csv file keeps its "
                 "rows up to the saved iteration"},
        {EX_INT, "stop-after", "K", &c->stop_after, 1, ex_cli_max("meta_iters"),
         .help = "end the run after iteration K of --meta-iters (as an interruption would: "
                 "schedule unchanged, checkpoint saved, no final evaluation), to be continued "
                 "with --resume"},
        {EX_FLAG, "quiet", NULL, &c->quiet,
         .help = "no progress and no 'batch' lines (the 'final:' and 'time:' lines are always "
                 "printed)"},
        {EX_SECTION, .help = "Outputs:"},
        {EX_INT, "final-eval", "N", &c->final_eval, 1, EX_MAX_TASKS,
         .help = "after training, evaluate N test tasks (per-image argmax) and print "
                 "'final: ...' (default: off)"},
        {EX_STRING, "csv", "FILE", &c->csv,
         .help = "learning curve: iteration,meta_step,train_acc,test_acc,elapsed_s, one row "
                 "per evaluated iteration; FILE is replaced atomically (through FILE.tmp) with "
                 "the rows so far every " EX_XSTR(OMNIGLOT_CHECKPOINT_EVERY) " iterations (before "
                 "the checkpoint) and at the end"},
        {EX_STRING, "plot", "FILE.png", &c->plot,
         .help = "learning curve smoothed as the tutorial (Hamming, " EX_XSTR(
             OMNIGLOT_SMOOTH_WINDOW) ")"},
        {EX_STRING, "samples", "FILE.png", &c->samples,
         .help = "5x5 grid of training characters"},
        {EX_STRING, "predictions", "FILE.png", &c->predictions,
         .help = "the query images of a test task after training, titled 'Label : L, "
                 "Prediction : P'"},
        {EX_STRING, "checkpoint", "FILE", &c->checkpoint,
         .help = "save the training state there every " EX_XSTR(OMNIGLOT_CHECKPOINT_EVERY)
                 " iterations and at the end (atomically; a safetensors file that --resume "
                 "continues and reptile_model_load() reads); FILE must be a regular file or "
                 "a new one"},
    };
    const ex_program prog = {
        "reptile-omniglot", about, footer,
        "the " OMNIGLOT_DEFAULT_PRESET " preset's, --threads the online CPUs", &defaults, opts,
        sizeof opts / sizeof opts[0], NULL, NULL};
    return ex_cli_parse(&c->lib, &prog, argc, argv);
}

/* One file for two outputs would silently keep only one of them; the
 * checkpoint may replace the state it resumes from. A picture needs cairo. */
static int check_outputs(const omniglot_cli *c)
{
    const char *file_opt[] = {"--csv",        "--plot",   "--samples",
                              "--predictions", "--checkpoint", "--resume",
                              "--csv's temporary file"};
    /* Each CSV snapshot replaces CSV.tmp: it must not be another file. */
    char *csv_tmp = c->csv ? ex_output_fixed_name(c->csv) : NULL;
    const char *file_path[] = {c->csv,        c->plot,   c->samples, c->predictions,
                               c->checkpoint, c->resume, csv_tmp};
    static const int resume_in_place[][2] = {{4, 5}};
    int shared = ex_outputs_distinct(file_opt, file_path, 7, resume_in_place, 1);
    free(csv_tmp);
    if (shared != 0)
        return ex_cli_usage_error(&c->lib);
    const char *picture_opt = c->plot ? "--plot" : c->samples ? "--samples"
                                                 : c->predictions ? "--predictions" : NULL;
    if (picture_opt && !ex_plot_available()) {
        ex_error("%s: this reptile-omniglot was built without cairo and cannot draw PNG "
                 "pictures (install libcairo2-dev and rebuild)",
                 picture_opt);
        return EX_USAGE;
    }
    return EX_CONTINUE;
}

int omniglot_parse(omniglot_cli *c, int argc, char **argv)
{
    memset(c, 0, sizeof *c);
    c->data = DEFAULT_DATA;
    int status = parse_options(c, argc, argv);
    return status == EX_CONTINUE ? check_outputs(c) : status;
}

/* Requests the settings cannot serve. */
static int check_requests(const omniglot_cli *c, const reptile_meta_options *opts)
{
    if (c->stop_after > 0 && !c->checkpoint) {
        ex_error("--stop-after needs --checkpoint FILE to save the state to continue from");
        return ex_cli_usage_error(&c->lib);
    }
    if (c->plot && opts->eval_interval == 0) {
        ex_error("--plot: nothing to plot with --eval-interval 0");
        return ex_cli_usage_error(&c->lib);
    }
    return EX_CONTINUE;
}

/* Outputs must be writable before hours of training; the library writes
 * the checkpoint, and only over a regular file. */
static int check_writable(const omniglot_cli *c)
{
    if ((c->csv && ex_curve_check("--csv", c->csv) != 0) ||
        (c->checkpoint && ex_output_check_library("--checkpoint", c->checkpoint) != 0))
        return EX_FAILURE;
    const char *opt[] = {"--plot", "--samples", "--predictions"};
    const char *path[] = {c->plot, c->samples, c->predictions};
    for (int i = 0; i < 3; i++)
        if (path[i] && ex_output_check(opt[i], path[i]) != 0)
            return EX_FAILURE;
    return EX_CONTINUE;
}

int omniglot_settle(const omniglot_cli *c, reptile_meta_options *opts, int *iterations)
{
    int status = c->resume ? ex_cli_resumed(&c->lib, "--resume", c->resume, c->preset, opts)
                           : program_defaults(c, opts);
    if (status == EX_CONTINUE)
        status = ex_cli_apply(&c->lib, opts);
    if (status != EX_CONTINUE)
        return status;
    *iterations = opts->meta_iters;
    ex_cli_given_int(&c->lib, "meta_iters", iterations);
    status = check_requests(c, opts);
    return status == EX_CONTINUE ? check_writable(c) : status;
}
