/* The smallest complete libreptile program: open Omniglot, build the Keras
 * tutorial's network, meta-train it a little, evaluate it, free everything.
 * Build: cc minimal.c $(pkg-config --cflags --libs reptile)
 * Run:   ./a.out [OMNIGLOT_DIR]   (default data/omniglot) */
#include <reptile/reptile.h>

#include <stdio.h>

static int fail(const char *what)
{
    fprintf(stderr, "minimal: %s: %s\n", what, reptile_error_last());
    return 1;
}

int main(int argc, char **argv)
{
    const char *root = argc > 1 ? argv[1] : "data/omniglot";
    reptile_dataset *train = NULL, *test = NULL;
    reptile_model *model = NULL;
    reptile_meta *meta = NULL;
    reptile_meta_options opts;
    double mean = 0.0, ci95 = 0.0;
    int status = 1;

    if (reptile_dataset_open_omniglot(&train, root, "background", NULL) != 0 ||
        reptile_dataset_open_omniglot(&test, root, "evaluation", NULL) != 0) {
        status = fail("opening Omniglot (run reptile-fetch-omniglot)");
        goto out;
    }
    /* The Keras tutorial's settings, shortened to 20 meta-iterations. */
    reptile_meta_options_preset(&opts, REPTILE_META_OPTIONS_VERSION, "keras-tutorial");
    opts.meta_iters = 20;
    opts.eval_interval = 0; /* no per-iteration evaluation */
    if (reptile_model_new_omniglot(&model, opts.ways, opts.seed) != 0) {
        status = fail("building the network");
        goto out;
    }
    if (reptile_meta_new(&meta, model, &opts) != 0) {
        status = fail("creating the meta-learner");
        goto out;
    }
    if (reptile_meta_train(meta, train, NULL, opts.meta_iters) != 0) {
        status = fail("meta-training");
        goto out;
    }
    /* Mean accuracy over 100 test tasks (5-way 5-shot) and its 95% CI. */
    if (reptile_meta_evaluate(meta, test, 100, 0, 0, &mean, &ci95) != 0) {
        status = fail("evaluating");
        goto out;
    }
    printf("accuracy %.1f%% +- %.1f%%\n", 100.0 * mean, 100.0 * ci95);
    status = 0;
out:
    reptile_meta_free(meta);
    reptile_model_free(model);
    reptile_dataset_free(train);
    reptile_dataset_free(test);
    return status;
}
