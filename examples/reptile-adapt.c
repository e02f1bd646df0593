/* reptile-adapt: classify images with a meta-trained model adapted to your
 * classes from a few examples of each.
 *
 * Loads a learner (reptile_learner_load()), reads a support set (a folder
 * with one sub-folder of PNG or JPEG images per class), adapts to it
 * (reptile_learner_adapt()) and prints, for each query image, the predicted
 * class and the probability of each class (reptile_adapted_predict()): a
 * table, CSV or JSON. See docs/applications.md. */
#include <reptile/reptile.h>

#include "adapt_data.h"
#include "adapt_report.h"
#include "cli.h"
#include "options_cli.h"
#include "output.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- command line --------------------------------------------------------- */

typedef struct adapt_cli {
    ex_cli lib; /* the adaptation settings given, and the queries */
    const char *model, *support, *output;
    int transductive, csv, json, quiet, new_output_layer;
} adapt_cli;

/* What adaptation reads (reptile/adapt.h), and the seed of its batch order. */
static const char *const adapt_options[] = {
    "eval_iters", "eval_batch", "iters_are_steps", "optimizer", "lr",
    "momentum",   "beta1",      "beta2",           "adam_eps",  "optimizer_state",
    "reduction",  "keras_clip", "bn_mode",         "seed",      NULL};

static const char about[] =
    "Usage: reptile-adapt --model FILE --support DIR [OPTION]... QUERY...\n"
    "Adapt a meta-trained model to the classes of DIR (one sub-folder of PNG or JPEG\n"
    "images per class; the folder names are the class names, in byte order) and\n"
    "classify each QUERY (a PNG or JPEG file, or a folder of them): the predicted\n"
    "class and the probability of each class.\n"
    "\n"
    "Images are read as the data sets read theirs (reptile_image_load()): converted to\n"
    "the model's channels (gray or RGB) and resized to its input size (bilinear, as\n"
    "training data is), so any size is accepted.\n";

static const char footer[] =
    "\n"
    "Probabilities come from the model's softmax over all its outputs: with fewer\n"
    "classes than outputs they sum to a little less than 1. Exit status: 0 success,\n"
    "1 runtime failure (unreadable or unsuitable model, folder or image), 2 bad\n"
    "command line.\n";

static int parse_options(adapt_cli *c, int argc, char **argv)
{
    const ex_opt opts[] = {
        {EX_SECTION, .help = "Adaptation:"},
        {EX_STRING, "model", "FILE", &c->model,
         .help = "the meta-trained model: a training state (reptile_meta_save(), "
                 "reptile-omniglot --checkpoint, reptile-eval --save: weights and adaptation "
                 "settings) or a reptile_model_save() file (weights; the paper's settings)"},
        {EX_STRING, "support", "DIR", &c->support,
         .help = "the classes to learn: DIR/CLASS/*.{png,jpg,jpeg}, at least 2 classes and at most the "
                 "model's outputs"},
        {EX_FLAG, "transductive", NULL, &c->transductive,
         .help = "predict all queries in one batch (REPTILE_PREDICT_TRANSDUCTIVE; default: "
                 "each query in a batch with the support set, REPTILE_PREDICT_WITH_SUPPORT)"},
        {EX_NOTE, .lib = "seed", .help = "here: the seed of the fine-tuning's batch order "
                                         "(default: 1, whatever the model file holds)"},
        {EX_FLAG, "new-output-layer", NULL, &c->new_output_layer,
         .help = "when DIR has more classes than the model's outputs: give the model a new, "
                 "untrained output layer of that many classes (reptile_model_with_outputs(); "
                 "it costs accuracy, see docs/applications.md)"},
        {EX_FLAG, "quiet", NULL, &c->quiet, .help = "no notes on stderr"},
        {EX_SECTION, .help = "Output (default: an aligned table on stdout):"},
        {EX_FLAG, "csv", NULL, &c->csv, .help = "CSV: file,class,CLASS1,CLASS2,..."},
        {EX_FLAG, "json", NULL, &c->json,
         .help = "JSON: {model, support, mode, seed, classes, queries: [{file, class, "
                 "probabilities: {CLASS: p}}]}"},
        {EX_STRING, "output", "FILE", &c->output,
         .help = "write there instead of stdout (atomically: a regular file or a new one)"},
    };
    const ex_program prog = {
        "reptile-adapt", about, footer,
        "those the --model file holds; a file without them: reptile_meta_options_init()'s", NULL,
        opts, sizeof opts / sizeof opts[0], adapt_options, "QUERY..."};
    return ex_cli_parse(&c->lib, &prog, argc, argv);
}

static int usage(const adapt_cli *c, const char *message)
{
    ex_error("%s", message);
    return ex_cli_usage_error(&c->lib);
}

static int parse_command_line(adapt_cli *c, int argc, char **argv)
{
    memset(c, 0, sizeof *c);
    int status = parse_options(c, argc, argv);
    if (status != EX_CONTINUE)
        return status;
    if (!c->model)
        return usage(c, "--model FILE is missing: the meta-trained model to adapt");
    if (!c->support)
        return usage(c, "--support DIR is missing: the folder of class folders to learn");
    if (c->lib.n_operands == 0)
        return usage(c, "no QUERY given: name the PNG or JPEG files (or folders of them) to classify");
    if (c->csv && c->json)
        return usage(c, "--csv and --json cannot both be given");
    const char *file_opt[] = {"--output", "--model"};
    const char *file_path[] = {c->output, c->model};
    if (ex_outputs_distinct(file_opt, file_path, 2, NULL, 0) != 0)
        return ex_cli_usage_error(&c->lib);
    if (c->output && ex_output_check("--output", c->output) != 0)
        return EX_FAILURE;
    return EX_CONTINUE;
}

/* ---- the session ------------------------------------------------------------------ */

typedef struct session {
    adapt_cli c;
    reptile_learner *learner;
    reptile_image_options img; /* the model's input shape */
    uint64_t seed;
    ad_support support;
    ad_queries queries;
    reptile_adapted *adapted;
    float *probs; /* queries x outputs */
    int outputs;
} session;

static int lib_fail(const char *what)
{
    ex_error("%s: %s", what, reptile_error_last());
    return EX_FAILURE;
}

/* 1 when the settings differ from the learner's in what adaptation reads. */
static int settings_differ(const reptile_meta_options *a, const reptile_meta_options *b)
{
    for (const char *const *name = adapt_options; *name; name++) {
        char va[64], vb[64];
        if (strcmp(*name, "seed") != 0 &&
            (reptile_meta_options_get(a, *name, va, sizeof va) != 0 ||
             reptile_meta_options_get(b, *name, vb, sizeof vb) != 0 || strcmp(va, vb) != 0))
            return 1;
    }
    return 0;
}

/* The file's settings with the command line's: a new learner on the same
 * weights when they differ (keeping a saved optimizer state if it fits). */
static int apply_settings(session *s)
{
    const adapt_cli *c = &s->c;
    reptile_meta_options opts = *reptile_learner_options(s->learner);
    int status = ex_cli_apply(&c->lib, &opts);
    if (status != EX_CONTINUE)
        return status;
    s->seed = ex_cli_given(&c->lib, "seed") ? opts.seed : 1;
    if (!settings_differ(&opts, reptile_learner_options(s->learner)))
        return EX_CONTINUE;
    reptile_learner *l = NULL;
    if (reptile_learner_with_options(&l, s->learner, &opts) != 0)
        return lib_fail("the adaptation settings");
    if (reptile_learner_has_saved_state(s->learner) && !reptile_learner_has_saved_state(l) &&
        !c->quiet)
        fprintf(stderr, "%s: note: '%s' holds the optimizer state adaptation starts from; "
                        "with another optimizer adaptation starts from a fresh state\n",
                ex_progname, c->model);
    reptile_learner_free(s->learner);
    s->learner = l;
    return EX_CONTINUE;
}

static int load_learner(session *s)
{
    if (reptile_learner_load(&s->learner, s->c.model) != 0)
        return lib_fail("--model");
    const reptile_model *m = reptile_learner_model(s->learner);
    reptile_image_options_init(&s->img, REPTILE_IMAGE_OPTIONS_VERSION);
    reptile_model_input_shape(m, &s->img.height, &s->img.width, &s->img.channels);
    s->outputs = reptile_model_num_outputs(m);
    if (s->img.channels != 1 && s->img.channels != 3) {
        ex_error("--model: the model takes %d-channel images; images are read as gray (1) "
                 "or RGB (3)",
                 s->img.channels);
        return EX_FAILURE;
    }
    return apply_settings(s);
}

/* --new-output-layer with more classes than outputs: the same learner on a
 * model whose last layer has one output per class. */
static int widen(session *s)
{
    reptile_model *wider = NULL;
    reptile_learner *l = NULL;
    int rc = reptile_model_with_outputs(&wider, reptile_learner_model(s->learner),
                                        s->support.ways, s->seed);
    if (rc == 0)
        rc = reptile_learner_new(&l, wider, reptile_learner_options(s->learner));
    reptile_model_free(wider);
    if (rc)
        return lib_fail("--new-output-layer");
    if (!s->c.quiet)
        fprintf(stderr, "%s: note: a new output layer of %d classes replaces the model's %d\n",
                ex_progname, s->support.ways, s->outputs);
    reptile_learner_free(s->learner);
    s->learner = l;
    s->outputs = s->support.ways;
    return EX_CONTINUE;
}

static int load_images(session *s)
{
    const int max_ways = s->c.new_output_layer ? 4096 : s->outputs;
    int status = ad_support_load(&s->support, "--support", s->c.support, &s->img, max_ways);
    if (status == EX_CONTINUE && s->support.ways > s->outputs)
        status = widen(s);
    if (status == EX_CONTINUE)
        status = ad_queries_load(&s->queries, s->c.lib.operands, s->c.lib.n_operands, &s->img);
    return status;
}

static int adapt_and_predict(session *s)
{
    const ad_support *sup = &s->support;
    if (reptile_learner_adapt(s->learner, &s->adapted, sup->images, sup->labels, sup->n,
                              sup->ways, s->seed) != 0)
        return lib_fail("adapting");
    s->probs = malloc((size_t)s->queries.count * (size_t)s->outputs * sizeof *s->probs);
    if (!s->probs) {
        ex_error("out of memory");
        return EX_FAILURE;
    }
    int mode = s->c.transductive ? REPTILE_PREDICT_TRANSDUCTIVE : REPTILE_PREDICT_WITH_SUPPORT;
    if (reptile_adapted_predict(s->adapted, s->queries.images, s->queries.count, mode,
                                s->probs) != 0)
        return lib_fail("predicting");
    return EX_CONTINUE;
}

static int report(session *s)
{
    const adapt_cli *c = &s->c;
    const ad_report r = {
        .model = c->model,
        .support = c->support,
        .mode = c->transductive ? "transductive" : "with-support",
        .seed = s->seed,
        .classes = s->support.names,
        .ways = s->support.ways,
        .files = s->queries.files,
        .count = s->queries.count,
        .probs = s->probs,
        .outputs = s->outputs,
    };
    int format = c->csv ? AD_CSV : c->json ? AD_JSON : AD_TABLE;
    if (c->output) {
        ex_output o;
        if (ex_output_open(&o, "--output", c->output) != 0)
            return EX_FAILURE;
        if (ad_report_write(&r, format, o.f) != 0) {
            ex_output_fail(&o, errno);
            return EX_FAILURE;
        }
        return ex_output_commit(&o) == 0 ? EX_OK : EX_FAILURE;
    }
    if (ad_report_write(&r, format, stdout) != 0 || fflush(stdout) != 0) {
        ex_error("writing to stdout: %s", strerror(errno ? errno : EIO));
        return EX_FAILURE;
    }
    return EX_OK;
}

int main(int argc, char **argv)
{
    static int (*const phases[])(session *) = {load_learner, load_images, adapt_and_predict,
                                               report};
    static session s; /* zeroed */
    ex_progname = "reptile-adapt";
    int status = parse_command_line(&s.c, argc, argv);
    for (size_t i = 0; status == EX_CONTINUE && i < sizeof phases / sizeof phases[0]; i++)
        status = phases[i](&s);
    free(s.probs);
    reptile_adapted_free(s.adapted);
    ad_queries_free(&s.queries);
    ad_support_free(&s.support);
    reptile_learner_free(s.learner);
    return status;
}
