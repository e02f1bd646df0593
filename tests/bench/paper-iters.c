/* paper-iters: meta-iterations per second of the paper presets
 * (paper-omniglot-5way and -20way on the tutorial's network; with
 * --miniimagenet, paper-miniimagenet-5way on the Mini-ImageNet network and
 * 84x84x3 images, issue 15), against the
 * FLOP floor (issue 14's measure). One iteration is meta_batch tasks x
 * inner_iters steps x inner_batch images x the step's FLOPs per image
 * (about 3.9 GFLOP for 5-way); the floor is that many FLOPs at the
 * single-thread sgemm peak times the thread count. The two threads' sgemm
 * peak measured at once (what the cores sustain together) is printed too,
 * with the ratio against it. Data: random images in memory (the time
 * does not depend on the pixels). Prints key=value lines.
 * Usage: paper-iters [--quick] [--threads N] [--miniimagenet] */
#include "bench_util.h"
#include "reptile/reptile.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { CLASSES = 40, PER_CLASS = 20 };

static void die(const char *what)
{
    fprintf(stderr, "paper-iters: %s: %s\n", what, reptile_error_last());
    exit(1);
}

static reptile_dataset *random_images(int side, int channels)
{
    const int n = CLASSES * PER_CLASS;
    const size_t floats = (size_t)n * side * side * channels;
    float *x = malloc(floats * sizeof *x);
    int32_t *y = malloc((size_t)n * sizeof *y);
    if (!x || !y)
        die("out of memory");
    bench_fill(x, floats, 7, 0.5f);
    for (size_t i = 0; i < floats; ++i)
        x[i] += 0.5f; /* [0, 1) */
    for (int i = 0; i < n; ++i)
        y[i] = i / PER_CLASS;
    reptile_dataset *ds = NULL;
    if (reptile_dataset_from_memory(&ds, x, y, n, side, side, channels) != 0)
        die("reptile_dataset_from_memory");
    free(x);
    free(y);
    return ds;
}

/* Seconds per meta-iteration: the best of `rounds` timings of `iters`
 * iterations, after two to warm up. */
static double seconds_per_iteration(reptile_meta *meta, const reptile_dataset *ds, int iters,
                                    int rounds)
{
    for (int i = 0; i < 2; ++i)
        if (reptile_meta_step(meta, ds) != 0)
            die("reptile_meta_step");
    double best = 1e30;
    for (int r = 0; r < rounds; ++r) {
        double t = bench_now();
        for (int i = 0; i < iters; ++i)
            if (reptile_meta_step(meta, ds) != 0)
                die("reptile_meta_step");
        t = (bench_now() - t) / iters;
        best = t < best ? t : best;
    }
    return best;
}

static void run_preset(const char *preset, const char *key, const reptile_dataset *ds, int threads,
                       int quick, double peak, double peak_together)
{
    reptile_meta_options o;
    if (reptile_meta_options_preset(&o, REPTILE_META_OPTIONS_VERSION, preset) != 0)
        die(preset);
    o.threads = threads;
    o.eval_interval = 0;
    reptile_model *m = NULL;
    reptile_meta *meta = NULL;
    int mini = strcmp(preset, "paper-miniimagenet-5way") == 0;
    if ((mini ? reptile_model_new_miniimagenet(&m, o.ways, 1)
              : reptile_model_new_omniglot(&m, o.ways, 1)) != 0)
        die("building the network");
    if (reptile_meta_new(&meta, m, &o) != 0)
        die("reptile_meta_new");
    /* Paper presets count steps (iters_are_steps): inner_iters full batches. */
    const double gflop = (double)o.meta_batch * o.inner_iters * o.inner_batch *
                         bench_step_flops_per_image(m) * 1e-9;
    const int base = mini ? 4 : o.ways == 20 ? 10 : 40;
    const double s = seconds_per_iteration(meta, ds, quick ? base / 4 : base, quick ? 1 : 3);
    const double floor_it = peak * threads / gflop, together_it = peak_together / gflop;
    printf("meta_gflop_per_it_%s=%.3f\n", key, gflop);
    printf("meta_it_per_s_%s=%.2f\n", key, 1.0 / s);
    printf("meta_floor_it_per_s_%s=%.2f\n", key, floor_it);
    printf("meta_vs_floor_%s=%.3f\n", key, 1.0 / s / floor_it);
    printf("meta_vs_floor_together_%s=%.3f\n", key, 1.0 / s / together_it);
    reptile_meta_free(meta);
    reptile_model_free(m);
}

int main(int argc, char **argv)
{
    int quick = 0, threads = 2, miniimagenet = 0;
    for (int i = 1; i < argc; ++i) {
        if (strcmp(argv[i], "--quick") == 0)
            quick = 1;
        else if (strcmp(argv[i], "--miniimagenet") == 0)
            miniimagenet = 1;
        else if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc)
            threads = atoi(argv[++i]);
        else {
            fprintf(stderr, "usage: paper-iters [--quick] [--threads N] [--miniimagenet]\n");
            return 2;
        }
    }
    if (threads < 1 || threads > 64) {
        fprintf(stderr, "paper-iters: --threads must be in 1..64\n");
        return 2;
    }
    bench_set_blas_threads(1);
    bench_print_gemm();
    const int rounds = quick ? 3 : 8;
    const double peak = bench_sgemm_peak(1024, rounds);
    const double together = bench_sgemm_peak_concurrent(1024, rounds, threads);
    printf("threads=%d\nsgemm_1024_gflops=%.2f\nsgemm_1024_gflops_together=%.2f\n", threads, peak,
           together);
    if (miniimagenet) {
        reptile_dataset *ds = random_images(84, 3);
        run_preset("paper-miniimagenet-5way", "miniimagenet", ds, threads, quick, peak, together);
        reptile_dataset_free(ds);
        return 0;
    }
    reptile_dataset *ds = random_images(28, 1);
    run_preset("paper-omniglot-5way", "5way", ds, threads, quick, peak, together);
    run_preset("paper-omniglot-20way", "20way", ds, threads, quick, peak, together);
    reptile_dataset_free(ds);
    return 0;
}
