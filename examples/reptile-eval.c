/* reptile-eval: score Reptile with the paper's protocol, on Omniglot or on
 * a folder laid out like Mini-ImageNet.
 *
 * Meta-trains the paper's network from scratch with a paper preset
 * (Omniglot's, or Mini-ImageNet's for paper-miniimagenet-5way),
 * loads a saved model (--model) or continues a saved run (--resume), then
 * evaluates --tasks test tasks (10,000 by default) of --ways classes and
 * --shots support images, one query per class, transductive or not, and
 * prints the mean accuracy with its 95% confidence interval. Long runs save
 * their state (--checkpoint) and continue from it. See docs/examples.md. */
#include <reptile/reptile.h>

#include "cli.h"
#include "options_cli.h"
#include "output.h"
#include "progress.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_DATA "data/omniglot"
#define DEFAULT_FOLDERS_DATA "data/miniimagenet"
#define MINIIMAGENET_PRESET "paper-miniimagenet-5way"
#define DEFAULT_WAYS 5  /* whatever the preset */
#define DEFAULT_SHOTS 1 /* whatever the preset or the saved run */
#define DEFAULT_CHECKPOINT_EVERY 1000 /* iterations: about 30 s of paper-5way */

static const char fetch_hint[] =
    "run reptile-fetch-omniglot (in the source tree: scripts/fetch-omniglot) to download it, "
    "or pass --data DIR";
static const char folders_hint[] =
    "--split folders reads DIR/train and DIR/test, each a folder of class folders of PNG or "
    "JPEG images (Mini-ImageNet's layout; docs/data.md says how to lay out a copy); pass "
    "--data DIR";

/* ---- command line --------------------------------------------------------- */

typedef struct eval_cli {
    ex_cli lib; /* the library options given */
    const char *data, *split, *filter, *preset, *manifest, *model, *save, *checkpoint, *resume;
    int tasks, checkpoint_every, no_rotations, quiet;
} eval_cli;

static const char about[] =
    "Usage: reptile-eval [OPTION]...\n"
    "Meta-train on Omniglot (or a Mini-ImageNet-like folder with --preset\n"
    "paper-miniimagenet-5way), then score the model with the Reptile paper's protocol:\n"
    "mean accuracy over many test tasks (one query per class) and its 95% CI.\n";

static const char footer[] =
    "\n"
    "Prints 'result: split=S ways=N shots=K transductive=0|1 tasks=M accuracy=A\n"
    "ci95=C resize=F' and 'time: ...' on stdout. Exit status: 0 success, 1 runtime failure,\n"
    "2 bad command line.\n";

/* The settings of a new model: `preset`, then the program's own defaults
 * (5-way, 1-shot tasks, no evaluation while training, every online CPU). */
static int program_defaults(const eval_cli *c, reptile_meta_options *opts, const char *preset,
                            int ways)
{
    int status = ex_cli_preset(&c->lib, opts, preset);
    opts->ways = ways;
    opts->eval_shots = DEFAULT_SHOTS;
    opts->eval_interval = 0;
    opts->eval_mode = REPTILE_EVAL_NON_TRANSDUCTIVE;
    opts->threads = ex_cli_online_threads();
    return status;
}

static int parse_options(eval_cli *c, int argc, char **argv)
{
    reptile_meta_options defaults;
    program_defaults(c, &defaults, "paper-omniglot-5way", DEFAULT_WAYS);
    const ex_opt opts[] = {
        {EX_SECTION, .help = "Evaluation:"},
        {EX_STRING, "data", "DIR", &c->data,
         .help = "data folder (default: " DEFAULT_DATA ", with --split folders "
                 DEFAULT_FOLDERS_DATA ")"},
        {EX_STRING, "split", "paper|tfds|folders", &c->split,
         .help = "paper: Omniglot's 1,623 characters pooled, shuffled with the seed, 1,200 train "
                 "(x4 rotations) / 423 test (default for Omniglot's network); tfds: background "
                 "= train, evaluation = test; folders: DIR/train and DIR/test, folders of class "
                 "folders of PNG or JPEG images resized to the network's input (Mini-ImageNet's "
                 "layout; the default for " MINIIMAGENET_PRESET " and for any network whose "
                 "input is not 28x28x1)"},
        {EX_STRING, "filter", "bilinear|area|nearest", &c->filter,
         .help = "how images are resized to the network's input (reptile_filter): nearest "
                 "is the reference implementation's PIL resize of Omniglot's 1-bit PNGs "
                 "(default for --split paper); bilinear is tf.image.resize's default (default "
                 "for tfds and folders); area averages. Not saved with the run: give it again "
                 "with --resume or --model"},
        {EX_ALIAS, "transductive", NULL, .lib = "eval_mode", .value = "transductive",
         .help = "predict all queries of a task in one batch (--eval-mode=transductive; "
                 "default: each query with the support set, non-transductive)"},
        {EX_INT, "tasks", "M", &c->tasks, 0, EX_MAX_TASKS,
         .help = "test tasks to score (default: 10000; 0: train and save only)"},
        {EX_PRESET, "preset", "NAME", &c->preset,
         .help = "training settings (default: paper-omniglot-5way, or paper-omniglot-20way "
                 "when --ways is 20); " MINIIMAGENET_PRESET " trains the Mini-ImageNet "
                 "network on --split folders and, for --shots 1, fine-tunes on batches of 5 "
                 "(the reference's 1-shot command) unless --eval-batch is given"},
        {EX_NOTE, .lib = "ways", .help = "training and test; with --model: the network's outputs"},
        {EX_NOTE, .lib = "meta_iters", .value = "0",
         .help = "score the network as it is, the default with --model"},
        {EX_FLAG, "no-rotations", NULL, &c->no_rotations,
         .help = "paper split: do not add rotated training classes"},
        {EX_STRING, "manifest", "FILE", &c->manifest,
         .help = "paper split: write the character split there (once the images have loaded; "
                 "atomically, as --save; a regular file or a new one)"},
        {EX_STRING, "model", "FILE", &c->model,
         .help = "score a saved model instead of training one: a training state (--save, "
                 "reptile-omniglot --checkpoint; its settings and seed are used) or a "
                 "reptile_model_save() file"},
        {EX_STRING, "save", "FILE", &c->save,
         .help = "save the training state after meta-training (before scoring), for --model "
                 "(a regular file or a new one)"},
        {EX_STRING, "checkpoint", "FILE", &c->checkpoint,
         .help = "save the training state there every --checkpoint-every iterations, at the "
                 "end and when interrupted (atomically), for --resume or --model"},
        {EX_INT, "checkpoint-every", "N", &c->checkpoint_every, 1, ex_cli_max("meta_iters"),
         .help = "iterations between --checkpoint saves (default: " EX_XSTR(
             DEFAULT_CHECKPOINT_EVERY) ")"},
        {EX_STRING, "resume", "FILE", &c->resume,
         .help = "continue the run saved in FILE (--checkpoint, --save) to the end of its "
                 "schedule, bit for bit, then score it; options that shape training cannot be "
                 "given, evaluation settings can"},
        {EX_FLAG, "quiet", NULL, &c->quiet, .help = "no progress on stderr"},
    };
    const ex_program prog = {
        "reptile-eval", about, footer,
        "paper-omniglot-5way's, with 5 ways, 1 eval shot and no eval interval; --threads the "
        "online CPUs",
        &defaults, opts, sizeof opts / sizeof opts[0], NULL, NULL};
    return ex_cli_parse(&c->lib, &prog, argc, argv);
}

/* --filter's value as an enum reptile_filter, -1 when unknown. */
static int filter_value(const char *name)
{
    static const char *const names[] = {"bilinear", "area", "nearest"};
    static const int values[] = {REPTILE_FILTER_BILINEAR, REPTILE_FILTER_AREA,
                                 REPTILE_FILTER_NEAREST};
    for (int i = 0; i < 3; ++i)
        if (strcmp(name, names[i]) == 0)
            return values[i];
    return -1;
}

/* The command line, with what needs neither the model nor the data. */
static int parse_command_line(eval_cli *c, int argc, char **argv)
{
    memset(c, 0, sizeof *c);
    /* --data and --split: their defaults depend on the network (settle()). */
    c->tasks = 10000;
    c->checkpoint_every = DEFAULT_CHECKPOINT_EVERY;
    int status = parse_options(c, argc, argv);
    if (status != EX_CONTINUE)
        return status;
    if (c->split && strcmp(c->split, "paper") != 0 && strcmp(c->split, "tfds") != 0 &&
        strcmp(c->split, "folders") != 0) {
        ex_error("--split: '%s' is not 'paper', 'tfds' or 'folders'", c->split);
        return ex_cli_usage_error(&c->lib);
    }
    if (c->filter && filter_value(c->filter) < 0) {
        ex_error("--filter: '%s' is not 'bilinear', 'area' or 'nearest'", c->filter);
        return ex_cli_usage_error(&c->lib);
    }
    if (c->model && c->resume) {
        ex_error("--model scores a saved model as it is, --resume continues its training: "
                 "give one of them");
        return ex_cli_usage_error(&c->lib);
    }
    /* One file for two outputs would keep only one of them; --save and
     * --checkpoint may replace the --model or --resume file they start from. */
    const char *file_opt[] = {"--manifest", "--save", "--checkpoint", "--model", "--resume"};
    const char *file_path[] = {c->manifest, c->save, c->checkpoint, c->model, c->resume};
    static const int in_place[][2] = {{1, 3}, {1, 4}, {2, 3}, {2, 4}};
    if (ex_outputs_distinct(file_opt, file_path, 5, in_place, 4) != 0)
        return ex_cli_usage_error(&c->lib);
    return EX_CONTINUE;
}

/* ---- the session ---------------------------------------------------------------- */

typedef struct session {
    eval_cli c;
    reptile_meta_options opts;
    const char *preset; /* the settings' origin, "saved" for a training state */
    int ways, shots;    /* of the scored tasks */
    int iterations;     /* meta-training */
    int resume;         /* restore the saved training state (--model, --resume) */
    int checkpoint_failed;
    int progress_base;  /* iterations done before this run */
    const char *data, *split; /* --data and --split, or their defaults for the network */
    const char *filter;       /* --filter, or its default for the split */
    int in_h, in_w, in_c;     /* the network's input */
    reptile_dataset *train, *test;
    reptile_model *model;
    reptile_meta *meta;
    ex_progress progress;
    double t_start, load_s, train_s, eval_s;
} session;

static int lib_fail(const char *what)
{
    ex_error("%s: %s", what, reptile_error_last());
    return EX_FAILURE;
}

/* --model or --resume, loaded first: a bad file fails before the data is
 * read. */
static int load_model(session *s, const char *opt, const char *path)
{
    const eval_cli *c = &s->c;
    if (reptile_model_load(&s->model, path) != 0)
        return lib_fail(opt);
    int outputs = reptile_model_num_outputs(s->model), ways;
    if (ex_cli_given_int(&c->lib, "ways", &ways) && ways != outputs) {
        ex_error("--ways %d does not match the %d outputs of the network in '%s'", ways, outputs,
                 path);
        return EX_USAGE;
    }
    s->ways = outputs;
    if (c->resume)
        return EX_CONTINUE; /* the iterations left are known once it is restored */
    if (ex_cli_given_int(&c->lib, "meta_iters", &s->iterations) && s->iterations > 0) {
        ex_error("--model scores a saved model as it is: --meta-iters cannot be given "
                 "(train with reptile-eval --save or reptile-omniglot --checkpoint, continue "
                 "a run with --resume)");
        return ex_cli_usage_error(&c->lib);
    }
    s->iterations = 0;
    return EX_CONTINUE;
}

/* A training state (reptile_meta_save(): reptile-eval --save,
 * reptile-omniglot --checkpoint) brings its settings and seed, and the
 * inner optimizer's state, which fine-tuning starts from when the state is
 * carried across tasks (the paper presets): restoring it scores the model
 * exactly as the run that saved it would have, if the evaluation settings
 * are those it was saved with. */
static int saved_options(session *s, const reptile_meta_options *saved)
{
    const eval_cli *c = &s->c;
    const char *clash = c->preset ? "preset" : ex_cli_given(&c->lib, "seed");
    if (clash) {
        ex_error("--%s cannot be combined with --model %s: a training state brings its own "
                 "settings and seed",
                 clash, c->model);
        return ex_cli_usage_error(&c->lib);
    }
    s->preset = "saved";
    s->opts = *saved;
    s->opts.eval_mode = REPTILE_EVAL_NON_TRANSDUCTIVE;
    s->opts.threads = ex_cli_online_threads();
    int status = ex_cli_apply(&c->lib, &s->opts);
    /* --shots shapes the scored tasks, not the saved run. */
    s->opts.eval_shots = saved->eval_shots;
    s->resume = !ex_cli_differs(saved, &s->opts, REPTILE_OPTION_MATCH_RESUME);
    if (status == EX_CONTINUE && !s->resume &&
        s->opts.optimizer_state != REPTILE_STATE_RESET && !c->quiet)
        fprintf(stderr, "%s: note: '%s' was saved with other evaluation settings; "
                        "fine-tuning starts from a fresh optimizer state\n",
                ex_progname, c->model);
    return status;
}

/* A paper preset (or --preset) with the command line's options. */
static int new_options(session *s)
{
    const eval_cli *c = &s->c;
    if (!s->model && !ex_cli_given_int(&c->lib, "ways", &s->ways)) {
        /* --preset's ways (paper-omniglot-20way: 20), else 5. */
        reptile_meta_options preset;
        s->ways = c->preset && reptile_meta_options_preset(&preset, REPTILE_META_OPTIONS_VERSION,
                                                           c->preset) == 0
                      ? preset.ways
                      : DEFAULT_WAYS;
    }
    s->preset = c->preset                ? c->preset
                : s->ways == 20          ? "paper-omniglot-20way"
                                         : "paper-omniglot-5way";
    int status = program_defaults(c, &s->opts, s->preset, s->ways);
    if (status == EX_CONTINUE)
        status = ex_cli_apply(&c->lib, &s->opts);
    if (!s->model && !ex_cli_given_int(&c->lib, "meta_iters", &s->iterations))
        s->iterations = s->opts.meta_iters;
    return status;
}

/* --resume: the saved run's settings, with the command line's evaluation
 * settings and --threads. */
static int resumed_options(session *s)
{
    const eval_cli *c = &s->c;
    int status = ex_cli_resumed(&c->lib, "--resume", c->resume, c->preset, &s->opts);
    if (status == EX_CONTINUE)
        status = ex_cli_apply(&c->lib, &s->opts);
    s->preset = "resumed";
    s->resume = 1;
    return status;
}

/* The network's input (the loaded model's, or the preset's network), and
 * what follows from it: the split and data folder unless given, and
 * Mini-ImageNet's 1-shot fine-tuning batch. */
static int settle_data(session *s)
{
    const eval_cli *c = &s->c;
    int miniimagenet_preset = strcmp(s->preset, MINIIMAGENET_PRESET) == 0;
    if (s->model) {
        reptile_model_input_shape(s->model, &s->in_h, &s->in_w, &s->in_c);
    } else {
        s->in_h = s->in_w = miniimagenet_preset ? 84 : 28;
        s->in_c = miniimagenet_preset ? 3 : 1;
    }
    int omniglot_net = s->in_h == 28 && s->in_w == 28 && s->in_c == 1;
    s->split = c->split ? c->split : omniglot_net ? "paper" : "folders";
    s->data = c->data ? c->data : omniglot_net ? DEFAULT_DATA : DEFAULT_FOLDERS_DATA;
    if (strcmp(s->split, "folders") != 0 && !omniglot_net) {
        ex_error("--split %s reads Omniglot's 28x28 grey characters, but the network takes "
                 "%dx%dx%d images: use --split folders",
                 s->split, s->in_h, s->in_w, s->in_c);
        return ex_cli_usage_error(&c->lib);
    }
    if ((c->manifest || c->no_rotations) && strcmp(s->split, "paper") != 0) {
        ex_error("--%s only applies to --split paper", c->manifest ? "manifest" : "no-rotations");
        return ex_cli_usage_error(&c->lib);
    }
    /* run_miniimagenet.py's 1-shot command fine-tunes on batches of 5, its
     * 5-shot command (the preset) on batches of 15. */
    int mini = miniimagenet_preset || (s->model && s->in_h == 84 && s->in_w == 84 && s->in_c == 3);
    if (mini && s->shots == 1 && !ex_cli_given(&c->lib, "eval_batch"))
        s->opts.eval_batch = 5;
    return EX_CONTINUE;
}

/* The model (--model, --resume), the settings, the checks before the data. */
static int settle(session *s)
{
    const eval_cli *c = &s->c;
    int status = c->model ? load_model(s, "--model", c->model)
                 : c->resume ? load_model(s, "--resume", c->resume)
                             : EX_CONTINUE;
    if (status != EX_CONTINUE)
        return status;
    reptile_meta_options saved;
    if (c->resume)
        status = resumed_options(s);
    else if (c->model &&
             reptile_meta_load_options(&saved, REPTILE_META_OPTIONS_VERSION, c->model) == 0)
        status = saved_options(s, &saved);
    else {
        reptile_error_clear();
        status = new_options(s);
    }
    s->shots = DEFAULT_SHOTS;
    ex_cli_given_int(&c->lib, "eval_shots", &s->shots);
    if (status == EX_CONTINUE)
        status = settle_data(s);
    if (status != EX_CONTINUE)
        return status;
    /* The library writes both, and only over a regular file. */
    if ((c->manifest && ex_output_check_library("--manifest", c->manifest) != 0) ||
        (c->save && ex_output_check_library("--save", c->save) != 0) ||
        (c->checkpoint && ex_output_check_library("--checkpoint", c->checkpoint) != 0))
        return EX_FAILURE;
    static const char *const folders[2] = {"train", "test"};
    int bad = strcmp(s->split, "folders") == 0
                  ? ex_check_data_dirs("image", s->data, folders, 2, folders_hint)
                  : ex_check_omniglot_dir(s->data, fetch_hint);
    return bad ? EX_FAILURE : EX_CONTINUE;
}

static int loaded(session *s, double t_start)
{
    s->load_s = ex_now() - t_start;
    if (!s->c.quiet)
        fprintf(stderr, "%s: %s split, %s resize: %d train classes, %d test classes (%.1f s)\n",
                ex_progname, s->split, s->filter, reptile_dataset_num_classes(s->train),
                reptile_dataset_num_classes(s->test), s->load_s);
    return EX_CONTINUE;
}

/* DIR/train and DIR/test, resized to the network's input. */
static int load_folders(session *s, reptile_image_options *img, double t_start)
{
    img->height = s->in_h;
    img->width = s->in_w;
    img->channels = s->in_c;
    static const char *const folders[2] = {"train", "test"};
    reptile_dataset **sets[2] = {&s->train, &s->test};
    for (int i = 0; i < 2; ++i) {
        char dir[4096];
        snprintf(dir, sizeof dir, "%s/%s", s->data, folders[i]);
        if (reptile_dataset_open_folder(sets[i], dir, img) != 0) {
            ex_error("loading '%s': %s", dir, reptile_error_last());
            return EX_FAILURE;
        }
    }
    return loaded(s, t_start);
}

static int load_data(session *s)
{
    const eval_cli *c = &s->c;
    reptile_image_options img;
    reptile_image_options_init(&img, REPTILE_IMAGE_OPTIONS_VERSION);
    img.threads = s->opts.threads;
    /* The paper split reads Omniglot as the reference does: PIL's resize of
     * a 1-bit PNG is nearest-neighbour (identical pixels, tested). */
    s->filter = c->filter ? c->filter : strcmp(s->split, "paper") == 0 ? "nearest" : "bilinear";
    img.filter = filter_value(s->filter);
    double t = ex_now();
    int rc;
    if (strcmp(s->split, "folders") == 0)
        return load_folders(s, &img, t);
    if (strcmp(s->split, "paper") == 0) {
        /* The library writes the manifest itself, atomically, and only once
         * the split has loaded. */
        img.rotations = !c->no_rotations;
        rc = reptile_dataset_open_omniglot_paper(&s->train, &s->test, s->data, s->opts.seed, &img,
                                                 c->manifest);
        /* "cannot write the manifest": lib/data/loader.c's prefix. */
        if (rc != 0 && c->manifest && strstr(reptile_error_last(), "cannot write the manifest"))
            return lib_fail("--manifest");
    } else {
        rc = reptile_dataset_open_omniglot(&s->train, s->data, "background", &img);
        if (rc == 0)
            rc = reptile_dataset_open_omniglot(&s->test, s->data, "evaluation", &img);
    }
    if (rc != 0) {
        ex_error("loading Omniglot from '%s': %s", s->data, reptile_error_last());
        if (rc == REPTILE_ENOTFOUND || rc == REPTILE_EDATA)
            ex_error("%s", fetch_hint);
        return EX_FAILURE;
    }
    return loaded(s, t);
}

static int on_progress(const reptile_progress *p, void *user)
{
    session *s = user;
    ex_progress_update(&s->progress, p->iteration - s->progress_base, 0, 0.0, 0.0);
    const char *path = s->c.checkpoint;
    if (path && p->iteration % s->c.checkpoint_every == 0 && p->iteration < p->total &&
        reptile_meta_save(s->meta, path) != 0) {
        ex_progress_clear(&s->progress);
        ex_error("--checkpoint: saving at iteration %d failed: %s", p->iteration,
                 reptile_error_last());
        s->checkpoint_failed = 1;
        return 1;
    }
    return ex_stop ? 1 : 0;
}

static int create_learner(session *s)
{
    int rc = 0;
    if (!s->model)
        rc = strcmp(s->preset, MINIIMAGENET_PRESET) == 0
                 ? reptile_model_new_miniimagenet(&s->model, s->ways, s->opts.seed)
                 : reptile_model_new_omniglot(&s->model, s->ways, s->opts.seed);
    if (rc != 0)
        return lib_fail("building the network");
    s->opts.progress = on_progress;
    s->opts.progress_user = s;
    if (reptile_meta_new(&s->meta, s->model, &s->opts) != 0)
        return lib_fail("creating the meta-learner");
    const char *saved = s->c.resume ? s->c.resume : s->c.model;
    if (s->resume && reptile_meta_resume(s->meta, saved) != 0)
        return lib_fail(s->c.resume ? "--resume" : "--model");
    s->progress_base = reptile_meta_iteration(s->meta);
    if (s->c.resume) {
        s->iterations = s->opts.meta_iters - s->progress_base;
        if (s->iterations < 0)
            s->iterations = 0;
        if (!s->c.quiet)
            fprintf(stderr, "%s: resuming '%s' at iteration %d of %d\n", ex_progname,
                    s->c.resume, s->progress_base, s->opts.meta_iters);
    }
    return EX_CONTINUE;
}

static int save_state(session *s, const char *opt, const char *path)
{
    if (reptile_meta_save(s->meta, path) != 0)
        return lib_fail(opt);
    if (!s->c.quiet)
        fprintf(stderr, "%s: saved the training state at iteration %d to '%s'\n", ex_progname,
                reptile_meta_iteration(s->meta), path);
    return EX_CONTINUE;
}

/* The time line, printed whenever training ran (also when it was interrupted, so that
 * the segments of a resumed run add up) or a score was made. */
static void print_time(const session *s, int scored)
{
    printf("time: load_s=%.3f train_s=%.3f", s->load_s, s->train_s);
    if (scored)
        printf(" eval_s=%.3f", s->eval_s);
    printf(" total_s=%.3f peak_rss_mb=%.1f\n", ex_now() - s->t_start, ex_peak_rss_mb());
    fflush(stdout);
}

static int meta_train(session *s)
{
    if (s->iterations == 0)
        return EX_CONTINUE;
    ex_catch_signals();
    if (!s->c.quiet)
        fprintf(stderr, "%s: meta-training %d iterations (%s, %d-way)\n", ex_progname,
                s->iterations, s->preset, s->ways);
    ex_progress_start(&s->progress, s->c.quiet, s->iterations);
    double t = ex_now();
    int rc = reptile_meta_train(s->meta, s->train, NULL, s->iterations);
    s->train_s = ex_now() - t;
    int done = reptile_meta_iteration(s->meta) - s->progress_base;
    ex_progress_finish(&s->progress, done);
    ex_release_signals();
    if (rc != 0) {
        ex_error("meta-training failed after %d iterations: %s", done, reptile_error_last());
        return EX_FAILURE;
    }
    if (s->checkpoint_failed) /* reported when it happened */
        return EX_FAILURE;
    if (ex_stop) {
        /* What was trained is kept, to be continued. */
        int saved = s->c.checkpoint && save_state(s, "--checkpoint", s->c.checkpoint) == EX_CONTINUE;
        ex_error("interrupted after %d of %d iterations%s%s", done, s->iterations,
                 saved ? ": continue with --resume " : "", saved ? s->c.checkpoint : "");
        print_time(s, 0);
        return EX_FAILURE;
    }
    return EX_CONTINUE;
}

/* The training states asked for (a model file for reptile_model_load() too). */
static int save_states(session *s)
{
    int status = EX_CONTINUE;
    if (s->c.checkpoint)
        status = save_state(s, "--checkpoint", s->c.checkpoint);
    if (status == EX_CONTINUE && s->c.save)
        status = save_state(s, "--save", s->c.save);
    return status;
}

static int score(session *s)
{
    const eval_cli *c = &s->c;
    int transductive = s->opts.eval_mode == REPTILE_EVAL_TRANSDUCTIVE;
    if (!c->quiet && c->tasks > 0)
        fprintf(stderr, "%s: evaluating %d tasks, %d-way %d-shot, %s, fine-tuning %d %s of "
                        "batch %d\n",
                ex_progname, c->tasks, s->ways, s->shots,
                transductive ? "transductive" : "non-transductive", s->opts.eval_iters,
                s->opts.iters_are_steps ? "steps" : "epochs", s->opts.eval_batch);
    double mean = 0.0, ci95 = 0.0, t = ex_now();
    if (c->tasks == 0) { /* train and save only */
        print_time(s, 0);
        return EX_OK;
    }
    if (reptile_meta_evaluate(s->meta, s->test, c->tasks, s->ways, s->shots, &mean, &ci95) != 0)
        return lib_fail("evaluation");
    s->eval_s = ex_now() - t;
    char trained[96];
    if (s->resume || !c->model)
        snprintf(trained, sizeof trained, "%d meta-iterations", reptile_meta_iteration(s->meta));
    else
        snprintf(trained, sizeof trained, "a saved model");
    printf("%d-way %d-shot%s: %.2f%% +- %.2f%% (95%% CI over %d tasks, %s)\n", s->ways, s->shots,
           transductive ? " transductive" : "", 100.0 * mean, 100.0 * ci95, c->tasks, trained);
    printf("result: split=%s ways=%d shots=%d transductive=%d tasks=%d accuracy=%f ci95=%f "
           "resize=%s\n",
           s->split, s->ways, s->shots, transductive, c->tasks, mean, ci95, s->filter);
    print_time(s, 1);
    return EX_OK;
}

int main(int argc, char **argv)
{
    static int (*const phases[])(session *) = {settle,     load_data,  create_learner,
                                               meta_train, save_states, score};
    static session s; /* zeroed */
    s.t_start = ex_now();
    ex_progname = "reptile-eval";
    int status = parse_command_line(&s.c, argc, argv);
    for (size_t i = 0; status == EX_CONTINUE && i < sizeof phases / sizeof phases[0]; i++)
        status = phases[i](&s);
    reptile_meta_free(s.meta);
    reptile_model_free(s.model);
    reptile_dataset_free(s.train);
    reptile_dataset_free(s.test);
    return status;
}
