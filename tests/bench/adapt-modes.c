/* adapt-modes: accuracy of the prediction modes of reptile/adapt.h on
 * held-out Omniglot tasks, through the public API only.
 *
 * Loads a learner from a training state (reptile-omniglot --checkpoint),
 * draws 5-way tasks from the evaluation split with
 * reptile_dataset_sample_task() (the learner's ways, eval_shots,
 * with_replacement and seed; 1 and 5 queries per class), adapts to each
 * support set once and classifies the queries three ways:
 *   - REPTILE_PREDICT_WITH_SUPPORT: each query in one batch with the
 *     support set (what the meta-learner's evaluation does);
 *   - REPTILE_PREDICT_TRANSDUCTIVE: all queries of the task in one batch;
 *   - alone: each query in a batch of its own (TRANSDUCTIVE, count 1).
 * It also runs reptile_meta_evaluate() on the same tasks (a meta-learner
 * restored from the same file) and checks that its accuracy and every
 * per-task prediction of reptile_meta_evaluate_task() equal WITH_SUPPORT
 * with one query per class. Prints a markdown table.
 *
 * Usage: adapt-modes MODEL.safetensors [OMNIGLOT_ROOT [TASKS]]
 *   (defaults: data/omniglot, 200 tasks). A manual benchmark, not a test:
 *   it needs a meta-trained model and the Omniglot data. Exit 0, 1 on a
 *   failure or a disagreement with reptile_meta_evaluate, 2 on bad usage. */
#include "reptile/reptile.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { MODE_WITH_SUPPORT, MODE_TRANSDUCTIVE, MODE_ALONE, N_MODES };

static const char *const mode_names[N_MODES] = {
    "`REPTILE_PREDICT_WITH_SUPPORT` (each query with the support set)",
    "`REPTILE_PREDICT_TRANSDUCTIVE` (all queries of the task in one batch)",
    "each query alone (`TRANSDUCTIVE`, count 1)",
};

static int fail(const char *what)
{
    fprintf(stderr, "adapt-modes: %s: %s\n", what, reptile_error_last());
    return 1;
}

/* Mean and 95% half-width (1.96 standard errors) of n per-task accuracies. */
static void mean_ci(const double *acc, int n, double *mean, double *ci)
{
    double s = 0, ss = 0;
    for (int i = 0; i < n; ++i)
        s += acc[i];
    *mean = s / n;
    for (int i = 0; i < n; ++i)
        ss += (acc[i] - *mean) * (acc[i] - *mean);
    *ci = n > 1 ? 1.96 * sqrt(ss / (n - 1) / n) : 0;
}

static int argmax(const float *p, int n)
{
    int best = 0;
    for (int i = 1; i < n; ++i)
        if (p[i] > p[best])
            best = i;
    return best;
}

/* Per-task accuracies of every mode for tasks of `queries` per class; with
 * pred_out (one query per class), WITH_SUPPORT's predictions of task t go
 * to pred_out[t * ways ...]. */
static int run(const reptile_learner *l, const reptile_dataset *ds, int tasks, int queries,
               double *acc[N_MODES], int32_t *pred_out)
{
    const reptile_meta_options *o = reptile_learner_options(l);
    const int outputs = reptile_model_num_outputs(reptile_learner_model(l));
    reptile_task_options to;
    if (reptile_task_options_init(&to, REPTILE_TASK_OPTIONS_VERSION) != 0)
        return fail("reptile_task_options_init");
    to.ways = o->ways;
    to.shots = o->eval_shots;
    to.queries = queries;
    to.with_replacement = o->with_replacement;
    to.seed = o->seed;
    int h, w, c;
    reptile_dataset_image_shape(ds, &h, &w, &c);
    const size_t img = (size_t)h * w * c;
    const int ns = to.ways * to.shots, nq = to.ways * queries;
    float *support = malloc(sizeof(float) * ns * img), *query = malloc(sizeof(float) * nq * img);
    float *probs = malloc(sizeof(float) * nq * outputs);
    int32_t *sy = malloc(sizeof(int32_t) * ns), *qy = malloc(sizeof(int32_t) * nq);
    int rc = 0;
    if (!support || !query || !probs || !sy || !qy) {
        fprintf(stderr, "adapt-modes: out of memory\n");
        rc = 1;
    }
    for (int t = 0; t < tasks && rc == 0; ++t) {
        uint64_t seed;
        reptile_adapted *a = NULL;
        if (reptile_dataset_sample_task(ds, &to, (uint64_t)t, support, sy, query, qy, NULL, &seed) != 0) {
            rc = fail("reptile_dataset_sample_task");
            break;
        }
        if (reptile_learner_adapt(l, &a, support, sy, ns, to.ways, seed) != 0) {
            rc = fail("reptile_learner_adapt");
            break;
        }
        for (int m = 0; m < N_MODES && rc == 0; ++m) {
            if (m == MODE_ALONE) {
                for (int q = 0; q < nq && rc == 0; ++q)
                    if (reptile_adapted_predict(a, query + (size_t)q * img, 1, REPTILE_PREDICT_TRANSDUCTIVE,
                                                probs + (size_t)q * outputs) != 0)
                        rc = fail("reptile_adapted_predict");
            } else if (reptile_adapted_predict(a, query, nq,
                                               m == MODE_WITH_SUPPORT ? REPTILE_PREDICT_WITH_SUPPORT
                                                                      : REPTILE_PREDICT_TRANSDUCTIVE,
                                               probs) != 0) {
                rc = fail("reptile_adapted_predict");
            }
            int correct = 0;
            for (int q = 0; q < nq && rc == 0; ++q) {
                int p = argmax(probs + (size_t)q * outputs, to.ways);
                correct += p == qy[q];
                if (m == MODE_WITH_SUPPORT && pred_out)
                    pred_out[(size_t)t * nq + q] = p;
            }
            acc[m][t] = (double)correct / nq;
        }
        reptile_adapted_free(a);
    }
    free(support);
    free(query);
    free(probs);
    free(sy);
    free(qy);
    return rc;
}

/* The meta-learner's own evaluation of the same file: reptile_meta_evaluate()
 * over tasks 0..tasks-1 and, per task, reptile_meta_evaluate_task()'s
 * predictions compared with `pred` (WITH_SUPPORT, one query per class).
 * Sets *mismatch to the number of differing predictions. */
static int meta_evaluate(const char *path, const reptile_dataset *ds, int tasks, const int32_t *pred,
                         double *mean, double *ci, int *mismatch)
{
    reptile_meta_options o;
    reptile_model *m = NULL;
    reptile_meta *meta = NULL;
    if (reptile_meta_load_options(&o, REPTILE_META_OPTIONS_VERSION, path) != 0)
        return fail("reptile_meta_load_options");
    if (reptile_model_load(&m, path) != 0)
        return fail("reptile_model_load");
    int rc = 0;
    if (reptile_meta_new(&meta, m, &o) != 0 || reptile_meta_resume(meta, path) != 0)
        rc = fail("reptile_meta_new / reptile_meta_resume");
    if (rc == 0 && reptile_meta_evaluate(meta, ds, tasks, 0, 0, mean, ci) != 0)
        rc = fail("reptile_meta_evaluate");
    *mismatch = 0;
    int32_t *p = malloc(sizeof(int32_t) * o.ways);
    if (!p)
        rc = 1;
    for (int t = 0; t < tasks && rc == 0; ++t) {
        float acc;
        if (reptile_meta_evaluate_task(meta, ds, (uint64_t)t, &acc, NULL, p, NULL) != 0) {
            rc = fail("reptile_meta_evaluate_task");
            break;
        }
        for (int q = 0; q < o.ways; ++q)
            *mismatch += p[q] != pred[(size_t)t * o.ways + q];
    }
    free(p);
    reptile_meta_free(meta);
    reptile_model_free(m);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc < 2 || argc > 4 || strcmp(argv[1], "--help") == 0) {
        fprintf(argc < 2 || argc > 4 ? stderr : stdout,
                "Usage: adapt-modes MODEL.safetensors [OMNIGLOT_ROOT [TASKS]]\n"
                "Accuracy of the adaptation API's prediction modes on Omniglot's evaluation split\n"
                "(defaults: data/omniglot, 200 tasks), with reptile_meta_evaluate for comparison.\n");
        return argc < 2 || argc > 4 ? 2 : 0;
    }
    const char *path = argv[1], *root = argc > 2 ? argv[2] : "data/omniglot";
    int tasks = argc > 3 ? atoi(argv[3]) : 200;
    if (tasks < 2 || tasks > 100000) {
        fprintf(stderr, "adapt-modes: TASKS must be in 2..100000, got '%s'\n", argv[3]);
        return 2;
    }
    reptile_learner *l = NULL;
    reptile_dataset *ds = NULL;
    if (reptile_learner_load(&l, path) != 0)
        return fail(path);
    if (reptile_dataset_open_omniglot(&ds, root, "evaluation", NULL) != 0) {
        reptile_learner_free(l);
        return fail(root);
    }
    const reptile_meta_options *o = reptile_learner_options(l);
    const int qs[2] = {1, 5};
    double *acc[2][N_MODES], mean[2][N_MODES], ci[2][N_MODES];
    int32_t *pred = malloc(sizeof(int32_t) * (size_t)tasks * o->ways);
    int rc = pred ? 0 : 1;
    for (int k = 0; k < 2; ++k)
        for (int m = 0; m < N_MODES; ++m)
            if (!(acc[k][m] = malloc(sizeof(double) * tasks)))
                rc = 1;
    for (int k = 0; k < 2 && rc == 0; ++k) {
        rc = run(l, ds, tasks, qs[k], acc[k], k == 0 ? pred : NULL);
        for (int m = 0; m < N_MODES && rc == 0; ++m)
            mean_ci(acc[k][m], tasks, &mean[k][m], &ci[k][m]);
    }
    double meta_mean = 0, meta_ci = 0;
    int mismatch = 0;
    if (rc == 0)
        rc = meta_evaluate(path, ds, tasks, pred, &meta_mean, &meta_ci, &mismatch);
    if (rc == 0) {
        printf("%d held-out tasks (Omniglot images_evaluation), %d-way %d-shot, %s, fine-tuning %d %s of "
               "batch %d, BatchNorm %s; mean accuracy +- 95%% CI\n\n",
               tasks, o->ways, o->eval_shots, path, o->eval_iters, o->iters_are_steps ? "steps" : "epochs",
               o->eval_batch,
               o->bn_mode == REPTILE_BN_BATCH ? "batch statistics"
               : o->bn_mode == REPTILE_BN_MOVING ? "moving" : "frozen");
        printf("| prediction | 1 query per class | 5 queries per class |\n| --- | --- | --- |\n");
        for (int m = 0; m < N_MODES; ++m)
            printf("| %s | %.3f +- %.3f | %.3f +- %.3f |\n", mode_names[m], mean[0][m], ci[0][m], mean[1][m],
                   ci[1][m]);
        printf("| `reptile_meta_evaluate` | %.3f +- %.3f | - |\n", meta_mean, meta_ci);
        /* The library keeps per-task accuracies as floats (k / 5 rounded):
         * the means may differ in the 8th digit, never by a prediction. */
        int same = fabs(meta_mean - mean[0][MODE_WITH_SUPPORT]) < 1e-6 && mismatch == 0;
        printf("\nreptile_meta_evaluate %s WITH_SUPPORT (1 query per class): %.6f vs %.6f, %d of %d per-task "
               "predictions differ\n",
               same ? "equals" : "DIFFERS FROM", meta_mean, mean[0][MODE_WITH_SUPPORT], mismatch,
               tasks * o->ways);
        rc = same ? 0 : 1;
    }
    for (int k = 0; k < 2; ++k)
        for (int m = 0; m < N_MODES; ++m)
            free(acc[k][m]);
    free(pred);
    reptile_dataset_free(ds);
    reptile_learner_free(l);
    return rc;
}
