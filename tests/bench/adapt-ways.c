/* What adapting to more classes than the model was meta-trained on costs
 * (docs/applications.md): a 5-way model given a new 20-output layer
 * (reptile_model_with_outputs) against a 20-way model, both meta-trained
 * with the paper presets' settings for the same number of iterations, on
 * 20-way 1-shot and 5-shot test tasks; the 5-way model on 5-way tasks for
 * reference. Public API only.
 *
 *   adapt-ways DATA_DIR [ITERATIONS=1000] [TASKS=500] [THREADS=2]
 *
 * Prints a Markdown table: accuracy (95% CI) per model and task shape. */
#include <reptile/reptile.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FAIL(what)                                                                                  \
    do {                                                                                            \
        fprintf(stderr, "adapt-ways: %s: %s\n", what, reptile_error_last());                        \
        exit(1);                                                                                    \
    } while (0)

static reptile_model *meta_train(const char *preset, const reptile_dataset *train, int iters,
                                 int threads, reptile_meta_options *o)
{
    if (reptile_meta_options_preset(o, REPTILE_META_OPTIONS_VERSION, preset) != 0)
        FAIL(preset);
    o->meta_iters = iters;
    o->threads = threads;
    reptile_model *m = NULL;
    reptile_meta *meta = NULL;
    if (reptile_model_new_omniglot(&m, o->ways, 1) != 0 || reptile_meta_new(&meta, m, o) != 0 ||
        reptile_meta_train(meta, train, NULL, iters) != 0)
        FAIL("meta-training");
    reptile_meta_free(meta);
    return m;
}

/* Mean accuracy and 95% CI over `tasks` test tasks of ways x shots. */
static void score(const reptile_learner *l, const reptile_dataset *test, int ways, int shots,
                  int tasks, double *mean, double *ci)
{
    const int img = 28 * 28, outputs = reptile_model_num_outputs(reptile_learner_model(l));
    float *support = malloc(sizeof(float) * ways * shots * img);
    float *queries = malloc(sizeof(float) * ways * img);
    float *probs = malloc(sizeof(float) * ways * outputs);
    int32_t *labels = malloc(sizeof(int32_t) * ways * shots), qlabels[64];
    reptile_task_options to = REPTILE_TASK_OPTIONS_INIT;
    to.ways = ways;
    to.shots = shots;
    double sum = 0, sq = 0;
    for (int t = 0; t < tasks; ++t) {
        uint64_t seed;
        reptile_adapted *a = NULL;
        if (reptile_dataset_sample_task(test, &to, (uint64_t)t, support, labels, queries, qlabels,
                                        NULL, &seed) != 0 ||
            reptile_learner_adapt(l, &a, support, labels, ways * shots, ways, seed) != 0 ||
            reptile_adapted_predict(a, queries, ways, REPTILE_PREDICT_WITH_SUPPORT, probs) != 0)
            FAIL("a test task");
        int correct = 0;
        for (int q = 0; q < ways; ++q) {
            int best = 0;
            for (int k = 1; k < ways; ++k) /* the task's classes only */
                best = probs[q * outputs + k] > probs[q * outputs + best] ? k : best;
            correct += best == qlabels[q];
        }
        const double acc = (double)correct / ways;
        sum += acc;
        sq += acc * acc;
        reptile_adapted_free(a);
    }
    *mean = sum / tasks;
    *ci = 1.96 * sqrt(fmax(0.0, sq / tasks - *mean * *mean) * tasks / (tasks - 1)) / sqrt(tasks);
    free(support);
    free(queries);
    free(probs);
    free(labels);
}

static reptile_learner *learner(const reptile_model *m, const reptile_meta_options *o)
{
    reptile_learner *l = NULL;
    reptile_meta_options a = *o;
    a.threads = 1;
    if (reptile_learner_new(&l, m, &a) != 0)
        FAIL("learner");
    return l;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: adapt-ways DATA_DIR [ITERATIONS] [TASKS] [THREADS]\n");
        return 2;
    }
    const int iters = argc > 2 ? atoi(argv[2]) : 1000, tasks = argc > 3 ? atoi(argv[3]) : 500;
    const int threads = argc > 4 ? atoi(argv[4]) : 2;
    reptile_dataset *train = NULL, *test = NULL;
    if (reptile_dataset_open_omniglot(&train, argv[1], "images_background", NULL) != 0 ||
        reptile_dataset_open_omniglot(&test, argv[1], "images_evaluation", NULL) != 0)
        FAIL("opening Omniglot");
    reptile_meta_options o5, o20;
    reptile_model *m5 = meta_train("paper-omniglot-5way", train, iters, threads, &o5);
    reptile_model *m20 = meta_train("paper-omniglot-20way", train, iters, threads, &o20);
    reptile_model *m5to20 = NULL;
    if (reptile_model_with_outputs(&m5to20, m5, 20, 1) != 0)
        FAIL("resizing");
    /* 20-way tasks adapt with the 20-way preset's settings (batch 10). */
    reptile_learner *l5 = learner(m5, &o5), *l20 = learner(m20, &o20);
    reptile_learner *l5to20 = learner(m5to20, &o20);
    printf("%d meta-iterations each, %d test tasks per cell (tfds evaluation split)\n\n", iters,
           tasks);
    printf("| model | 5-way 1-shot | 5-way 5-shot | 20-way 1-shot | 20-way 5-shot |\n"
           "|---|---|---|---|---|\n");
    const struct {
        const char *name;
        reptile_learner *five, *twenty;
    } rows[] = {{"5-way meta-trained (20-way: new output layer)", l5, l5to20},
                {"20-way meta-trained", l20, l20}};
    for (int r = 0; r < 2; ++r) {
        printf("| %s |", rows[r].name);
        const int ways[4] = {5, 5, 20, 20}, shots[4] = {1, 5, 1, 5};
        for (int c = 0; c < 4; ++c) {
            double mean, ci;
            score(ways[c] == 5 ? rows[r].five : rows[r].twenty, test, ways[c], shots[c], tasks,
                  &mean, &ci);
            printf(" %.1f%% +- %.1f%% |", 100 * mean, 100 * ci);
            fflush(stdout);
        }
        printf("\n");
    }
    reptile_learner_free(l5);
    reptile_learner_free(l20);
    reptile_learner_free(l5to20);
    reptile_model_free(m5);
    reptile_model_free(m20);
    reptile_model_free(m5to20);
    reptile_dataset_free(train);
    reptile_dataset_free(test);
    return 0;
}
