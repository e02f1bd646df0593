/* reptile-eval: score Reptile on Omniglot with the paper's protocol.
 *
 * Meta-trains the tutorial's network from scratch with a paper preset, or
 * loads a saved model (--model), then evaluates --tasks test tasks (10,000
 * by default) of --ways classes and --shots support images, one query per
 * class, transductive or not, and prints the mean accuracy with its 95%
 * confidence interval. See docs/examples.md. */
#include <reptile/reptile.h>

#include "cli.h"
#include "output.h"
#include "progress.h"

#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_DATA "data/omniglot"

static const char fetch_hint[] =
    "run scripts/fetch-omniglot to download it, or pass --data DIR";

enum {
    OPT_DATA = 256, OPT_SPLIT, OPT_WAYS, OPT_SHOTS, OPT_TRANSDUCTIVE, OPT_TASKS, OPT_META_ITERS,
    OPT_PRESET, OPT_EVAL_ITERS, OPT_SEED, OPT_THREADS, OPT_NO_ROTATIONS, OPT_MANIFEST,
    OPT_MODEL, OPT_SAVE, OPT_QUIET, OPT_HELP, OPT_VERSION
};

static const struct option long_options[] = {
    {"data", required_argument, NULL, OPT_DATA},
    {"split", required_argument, NULL, OPT_SPLIT},
    {"ways", required_argument, NULL, OPT_WAYS},
    {"shots", required_argument, NULL, OPT_SHOTS},
    {"transductive", no_argument, NULL, OPT_TRANSDUCTIVE},
    {"tasks", required_argument, NULL, OPT_TASKS},
    {"meta-iters", required_argument, NULL, OPT_META_ITERS},
    {"preset", required_argument, NULL, OPT_PRESET},
    {"eval-iters", required_argument, NULL, OPT_EVAL_ITERS},
    {"seed", required_argument, NULL, OPT_SEED},
    {"threads", required_argument, NULL, OPT_THREADS},
    {"no-rotations", no_argument, NULL, OPT_NO_ROTATIONS},
    {"manifest", required_argument, NULL, OPT_MANIFEST},
    {"model", required_argument, NULL, OPT_MODEL},
    {"save", required_argument, NULL, OPT_SAVE},
    {"quiet", no_argument, NULL, OPT_QUIET},
    {"help", no_argument, NULL, OPT_HELP},
    {"version", no_argument, NULL, OPT_VERSION},
    {NULL, 0, NULL, 0},
};

static void usage(FILE *f)
{
    fprintf(f,
        "Usage: %s [OPTION]...\n"
        "Meta-train on Omniglot, then score the model with the Reptile paper's protocol:\n"
        "mean accuracy over many test tasks (one query per class) and its 95%% CI.\n"
        "\n"
        "  --data DIR          Omniglot folder (default: %s)\n"
        "  --split paper|tfds  paper: all 1,623 characters pooled, shuffled with the\n"
        "                      seed, 1,200 train (x4 rotations) / 423 test (default);\n"
        "                      tfds: background = train, evaluation = test\n"
        "  --ways N            classes per task, training and test (default: 5, or\n"
        "                      the outputs of the --model network)\n"
        "  --shots N           support images per class in test tasks (default: 1)\n"
        "  --transductive      predict all queries of a task in one batch (default:\n"
        "                      each query with the support set, non-transductive)\n"
        "  --tasks M           test tasks to score (default: 10000)\n"
        "  --preset NAME       training settings (default: paper-omniglot-5way, or\n"
        "                      paper-omniglot-20way when --ways is 20)\n"
        "  --meta-iters N      meta-training iterations (default: the preset's, 100000\n"
        "                      or 200000, or 0 with --model; 0 scores the network as\n"
        "                      it is)\n"
        "  --eval-iters N      fine-tuning length: steps with the paper presets, epochs\n"
        "                      with the tutorial ones (default: the preset's, 50)\n"
        "  --seed N            seed of the split, training and tasks, decimal (default:\n"
        "                      the preset's)\n"
        "  --threads N         worker threads (default: online CPUs, here %d)\n"
        "  --no-rotations      paper split: do not add rotated training classes\n"
        "  --manifest FILE     paper split: write the character split there (once the\n"
        "                      images have loaded; atomically, as --save; a regular\n"
        "                      file or a new one)\n"
        "  --model FILE        score a saved model instead of training one: a training\n"
        "                      state (--save, reptile-omniglot --checkpoint; its settings\n"
        "                      and seed are used) or a reptile_model_save() file\n"
        "  --save FILE         save the training state after meta-training (before\n"
        "                      scoring), for --model (a regular file or a new one)\n"
        "  --quiet             no progress on stderr\n"
        "  --help, --version\n"
        "\n"
        "Prints 'result: split=S ways=N shots=K transductive=0|1 tasks=M accuracy=A\n"
        "ci95=C' and 'time: ...' on stdout. Exit status: 0 success, 1 runtime failure,\n"
        "2 bad command line.\n",
        ex_progname, DEFAULT_DATA, ex_online_cpus());
}

static volatile sig_atomic_t g_stop;

static void on_signal(int sig)
{
    (void)sig;
    g_stop = 1;
}

static int on_progress(const reptile_progress *p, void *user)
{
    ex_progress_update(user, p->iteration, 0, 0.0, 0.0);
    return g_stop ? 1 : 0;
}

static int usage_error(void)
{
    fprintf(stderr, "Try '%s --help' for more information.\n", ex_progname);
    return EX_USAGE;
}

int main(int argc, char **argv)
{
    double t_start = ex_now();
    ex_progname = "reptile-eval";
    const char *data = DEFAULT_DATA, *split = "paper", *preset = NULL, *manifest = NULL;
    const char *model_path = NULL, *save_path = NULL;
    int ways = 5, shots = 1, transductive = 0, tasks = 10000, meta_iters = -1, eval_iters = -1;
    int threads = ex_online_cpus(), rotations = 1, quiet = 0, has_seed = 0, has_ways = 0;
    int bad = 0, opt;
    uint64_t seed = 0;

    opterr = 0;
    while ((opt = getopt_long(argc, argv, ":", long_options, NULL)) != -1) {
        char name[40] = "--?";
        for (const struct option *o = long_options; o->name; o++)
            if (o->val == opt)
                snprintf(name, sizeof name, "--%s", o->name);
        switch (opt) {
        case OPT_DATA: data = optarg; break;
        case OPT_SPLIT:
            if (strcmp(optarg, "paper") != 0 && strcmp(optarg, "tfds") != 0) {
                ex_error("--split: '%s' is neither 'paper' nor 'tfds'", optarg);
                bad = -1;
            }
            split = optarg;
            break;
        case OPT_WAYS:
            bad |= ex_parse_int(name, optarg, 2, EX_MAX_WAYS, &ways);
            has_ways = 1;
            break;
        case OPT_SHOTS: bad |= ex_parse_int(name, optarg, 1, EX_MAX_SHOTS, &shots); break;
        case OPT_TRANSDUCTIVE: transductive = 1; break;
        case OPT_TASKS: bad |= ex_parse_int(name, optarg, 1, EX_MAX_ITERS, &tasks); break;
        case OPT_META_ITERS: bad |= ex_parse_int(name, optarg, 0, EX_MAX_ITERS, &meta_iters); break;
        case OPT_PRESET: preset = optarg; break;
        case OPT_EVAL_ITERS:
            bad |= ex_parse_int(name, optarg, 1, EX_MAX_INNER_ITERS, &eval_iters);
            break;
        case OPT_SEED:
            bad |= ex_parse_u64(name, optarg, &seed);
            has_seed = 1;
            break;
        case OPT_THREADS: bad |= ex_parse_int(name, optarg, 1, EX_MAX_THREADS, &threads); break;
        case OPT_NO_ROTATIONS: rotations = 0; break;
        case OPT_MANIFEST: manifest = optarg; break;
        case OPT_MODEL: model_path = optarg; break;
        case OPT_SAVE: save_path = optarg; break;
        case OPT_QUIET: quiet = 1; break;
        case OPT_HELP: usage(stdout); return EX_OK;
        case OPT_VERSION:
            printf("reptile-eval (libreptile %s)\n", reptile_version_string());
            return EX_OK;
        case ':':
            ex_error("option '%s' needs a value", argv[optind - 1]);
            return usage_error();
        default:
            ex_error("unknown option '%s'", argv[optind - 1]);
            return usage_error();
        }
        if (bad)
            return usage_error();
    }
    if (optind < argc) {
        ex_error("unexpected argument '%s'", argv[optind]);
        return usage_error();
    }
    /* One file for two outputs would keep only one of them; --save may
     * replace the --model it scores. */
    const char *file_opt[] = {"--manifest", "--save", "--model"};
    const char *file_path[] = {manifest, save_path, model_path};
    static const int save_in_place[][2] = {{1, 2}};
    if (ex_outputs_distinct(file_opt, file_path, 3, save_in_place, 1) != 0)
        return usage_error();
    reptile_dataset *train = NULL, *test = NULL;
    reptile_model *model = NULL;
    reptile_meta *meta = NULL;
    int status = EX_FAILURE;
    if (model_path) {
        /* Load first: a bad file fails before the data is read. */
        if (reptile_model_load(&model, model_path) != 0) {
            ex_error("--model: %s", reptile_error_last());
            return EX_FAILURE;
        }
        int outputs = reptile_model_num_outputs(model);
        if (has_ways && ways != outputs) {
            ex_error("--ways %d does not match the %d outputs of the network in '%s'", ways,
                     outputs, model_path);
            status = EX_USAGE;
            goto out;
        }
        ways = outputs;
        if (meta_iters > 0) {
            ex_error("--model scores a saved model as it is: --meta-iters cannot be given "
                     "(train with reptile-eval --save or reptile-omniglot --checkpoint)");
            status = usage_error();
            goto out;
        }
        meta_iters = 0;
    }
    int paper = strcmp(split, "paper") == 0;
    if (manifest && !paper) {
        ex_error("--manifest only applies to --split paper");
        status = usage_error();
        goto out;
    }

    /* Settings: a paper preset, or those saved with a training state. A
     * training state (reptile_meta_save(): reptile-eval --save,
     * reptile-omniglot --checkpoint) also holds the inner optimizer's state,
     * which fine-tuning starts from when the state is carried across tasks
     * (the paper presets): restoring it scores the model exactly as the run
     * that saved it would have. */
    reptile_meta_options opts;
    int resume = 0;
    const int mode = transductive ? REPTILE_EVAL_TRANSDUCTIVE : REPTILE_EVAL_NON_TRANSDUCTIVE;
    if (model_path && reptile_meta_load_options(&opts, model_path) == 0) {
        if (preset || has_seed) {
            ex_error("%s cannot be combined with --model %s: a training state brings its own "
                     "settings and seed",
                     preset ? "--preset" : "--seed", model_path);
            status = usage_error();
            goto out;
        }
        preset = "saved";
        resume = opts.eval_mode == mode && (eval_iters < 0 || eval_iters == opts.eval_iters);
        if (!resume && opts.optimizer_state == REPTILE_STATE_CARRY && !quiet)
            fprintf(stderr, "%s: note: '%s' was saved with other evaluation settings; "
                            "fine-tuning starts from a fresh optimizer state\n",
                    ex_progname, model_path);
    } else {
        reptile_error_clear();
        if (!preset)
            preset = ways == 20 ? "paper-omniglot-20way" : "paper-omniglot-5way";
        if (reptile_meta_options_preset(&opts, REPTILE_META_OPTIONS_VERSION, preset) != 0) {
            ex_error("--preset: %s", reptile_error_last());
            status = usage_error();
            goto out;
        }
        opts.ways = ways;
        opts.eval_shots = shots;
        opts.eval_interval = 0;
        if (has_seed)
            opts.seed = seed;
        if (meta_iters > 0)
            opts.meta_iters = meta_iters;
        if (meta_iters < 0)
            meta_iters = opts.meta_iters;
    }
    opts.eval_mode = mode;
    if (eval_iters > 0)
        opts.eval_iters = eval_iters;
    opts.threads = threads;
    if (reptile_meta_options_validate(&opts) != 0) {
        ex_error("invalid settings: %s", reptile_error_last());
        status = usage_error();
        goto out;
    }
    /* The library writes both, and only over a regular file. */
    if ((manifest && ex_output_check_library("--manifest", manifest) != 0) ||
        (save_path && ex_output_check_library("--save", save_path) != 0))
        goto out;
    if (ex_check_omniglot_dir(data, fetch_hint) != 0)
        goto out;

    reptile_image_options img;
    reptile_image_options_init(&img, REPTILE_IMAGE_OPTIONS_VERSION);
    img.threads = threads;
    ex_progress progress;
    double t = ex_now(), load_s, train_s = 0.0, eval_s;
    int rc;
    if (paper) {
        /* The library writes the manifest itself, atomically, and only once
         * the split has loaded. */
        img.rotations = rotations;
        rc = reptile_dataset_open_omniglot_paper(&train, &test, data, opts.seed, &img, manifest);
        /* "cannot write the manifest": lib/data/loader.c's prefix. */
        if (rc != 0 && manifest && strstr(reptile_error_last(), "cannot write the manifest")) {
            ex_error("--manifest: %s", reptile_error_last());
            goto out;
        }
    } else {
        rc = reptile_dataset_open_omniglot(&train, data, "background", &img);
        if (rc == 0)
            rc = reptile_dataset_open_omniglot(&test, data, "evaluation", &img);
    }
    if (rc != 0) {
        ex_error("loading Omniglot from '%s': %s", data, reptile_error_last());
        if (rc == REPTILE_ENOTFOUND || rc == REPTILE_EDATA)
            ex_error("%s", fetch_hint);
        goto out;
    }
    load_s = ex_now() - t;
    if (!quiet)
        fprintf(stderr, "%s: %s split: %d train classes, %d test classes (%.1f s)\n",
                ex_progname, split, reptile_dataset_num_classes(train),
                reptile_dataset_num_classes(test), load_s);

    if (!model && reptile_model_new_omniglot(&model, ways, opts.seed) != 0) {
        ex_error("building the network: %s", reptile_error_last());
        goto out;
    }
    opts.progress = on_progress;
    opts.progress_user = &progress;
    if (reptile_meta_new(&meta, model, &opts) != 0) {
        ex_error("creating the meta-learner: %s", reptile_error_last());
        goto out;
    }
    if (resume && reptile_meta_resume(meta, model_path) != 0) {
        ex_error("--model: %s", reptile_error_last());
        goto out;
    }
    if (meta_iters > 0) {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_signal;
        sigemptyset(&sa.sa_mask);
        sigaction(SIGINT, &sa, NULL);
        sigaction(SIGTERM, &sa, NULL);
        if (!quiet)
            fprintf(stderr, "%s: meta-training %d iterations (%s, %d-way)\n", ex_progname,
                    meta_iters, preset, ways);
        ex_progress_start(&progress, quiet, meta_iters);
        t = ex_now();
        rc = reptile_meta_train(meta, train, NULL, meta_iters);
        train_s = ex_now() - t;
        ex_progress_finish(&progress, reptile_meta_iteration(meta));
        signal(SIGINT, SIG_DFL);
        signal(SIGTERM, SIG_DFL);
        if (rc != 0) {
            ex_error("meta-training failed after %d iterations: %s", reptile_meta_iteration(meta),
                     reptile_error_last());
            goto out;
        }
        if (g_stop) {
            ex_error("interrupted after %d of %d iterations", reptile_meta_iteration(meta),
                     meta_iters);
            goto out;
        }
    }

    if (save_path) {
        /* A training state: a model file for reptile_model_load() too. */
        if (reptile_meta_save(meta, save_path) != 0) {
            ex_error("--save: %s", reptile_error_last());
            goto out;
        }
        if (!quiet)
            fprintf(stderr, "%s: saved the training state to '%s'\n", ex_progname, save_path);
    }

    if (!quiet)
        fprintf(stderr, "%s: evaluating %d tasks, %d-way %d-shot, %s\n", ex_progname, tasks, ways,
                shots, transductive ? "transductive" : "non-transductive");
    double mean = 0.0, ci95 = 0.0;
    t = ex_now();
    if (reptile_meta_evaluate(meta, test, tasks, ways, shots, &mean, &ci95) != 0) {
        ex_error("evaluation: %s", reptile_error_last());
        goto out;
    }
    eval_s = ex_now() - t;
    char trained[96];
    if (resume || !model_path)
        snprintf(trained, sizeof trained, "%d meta-iterations", reptile_meta_iteration(meta));
    else
        snprintf(trained, sizeof trained, "a saved model");
    printf("%d-way %d-shot%s: %.2f%% +- %.2f%% (95%% CI over %d tasks, %s)\n", ways, shots,
           transductive ? " transductive" : "", 100.0 * mean, 100.0 * ci95, tasks, trained);
    printf("result: split=%s ways=%d shots=%d transductive=%d tasks=%d accuracy=%f ci95=%f\n",
           split, ways, shots, transductive, tasks, mean, ci95);
    printf("time: load_s=%.3f train_s=%.3f eval_s=%.3f total_s=%.3f peak_rss_mb=%.1f\n", load_s,
           train_s, eval_s, ex_now() - t_start, ex_peak_rss_mb());
    status = EX_OK;
out:
    reptile_meta_free(meta);
    reptile_model_free(model);
    reptile_dataset_free(train);
    reptile_dataset_free(test);
    return status;
}
