/* reptile-omniglot's pictures: see pictures.h. */
#include "pictures.h"

#include "cli.h"
#include "output.h"
#include "plot.h"

#include <stdio.h>
#include <stdlib.h>

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
int ex_draw_samples(const char *path, const reptile_dataset *train, uint64_t seed)
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
int ex_draw_predictions(const char *path, reptile_meta *meta, const reptile_dataset *test,
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

int ex_draw_curve(const char *path, const double *train, const double *test, size_t n,
                  size_t window, const char *title)
{
    char err[256];
    ex_output o;
    if (ex_output_open(&o, "--plot", path) != 0)
        return -1;
    return put_picture(&o, ex_plot_curve(o.name, train, test, n, window, title, err, sizeof err),
                       err);
}
