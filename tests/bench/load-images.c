/* load-images: how fast reptile_dataset_open_folder() loads photographs,
 * JPEG against PNG, on 1 and 2 threads, and the process's peak memory.
 *
 * Writes, in a temporary folder, N photo-like colour images per source size
 * (default 500x375, the typical size of Mini-ImageNet's ImageNet sources,
 * and 84x84, Mini-ImageNet's stored size) in 10 class folders, once as JPEG
 * (quality 90, 4:2:0, as cameras and ImageNet write them) and once as PNG
 * (8-bit RGB, zlib's default level), then opens each set at 84x84x3
 * (bilinear, as Mini-ImageNet is used) and times it: the best of --reps
 * loads after one warm-up (files in the page cache: decoding is timed, not
 * the disk). Prints key=value lines: images per second (wall clock) and
 * CPU milliseconds per image (user + system over all threads: what a load
 * costs when other work shares the cores), and peak_rss_mb last (ru_maxrss:
 * the largest set held at once plus the loaders' buffers; sets are freed
 * between loads).
 *
 * Usage: load-images [--n N] [--sizes WxH,...] [--formats jpeg,png]
 *                    [--threads 1,2] [--reps R] [--crop] [--keep]
 * --keep leaves the generated folders and prints where (to time them
 * again, or with other tools). */
#include "bench_util.h"
#include "colour_set.h"
#include "reptile/reptile.h"

#include <errno.h>
#include <ftw.h>
#include <math.h>
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jpeglib.h>

#define CLASSES 10
#define MAX_LIST 8

static void die(const char *what, const char *detail)
{
    fprintf(stderr, "load-images: %s: %s\n", what, detail);
    exit(1);
}

/* ---- photo-like pixels ---------------------------------------------------- */

static uint32_t xorshift(uint32_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 17;
    *s ^= *s << 5;
    return *s;
}

/* A smooth colour field (a few low-frequency waves per channel), edges (a
 * bright disc and a dark band), texture and noise: what makes photographs
 * cost what they cost to compress and decode. */
static void photo_rows(unsigned char *rgb, int w, int h, uint32_t seed)
{
    uint32_t s = seed * 2654435761u + 12345u;
    float fx[3], fy[3], px[3], py[3];
    for (int k = 0; k < 3; ++k) {
        fx[k] = 0.5f + (float)(xorshift(&s) % 1000) / 250.0f;
        fy[k] = 0.5f + (float)(xorshift(&s) % 1000) / 250.0f;
        px[k] = (float)(xorshift(&s) % 628) / 100.0f;
        py[k] = (float)(xorshift(&s) % 628) / 100.0f;
    }
    const float cx = (float)(xorshift(&s) % (unsigned)w), cy = (float)(xorshift(&s) % (unsigned)h);
    const float r2 = (float)(h * h) / 16.0f;
    const int band = (int)(xorshift(&s) % (unsigned)h);
    for (int y = 0; y < h; ++y)
        for (int x = 0; x < w; ++x) {
            float u = (float)x / (float)w * 6.2832f, v = (float)y / (float)h * 6.2832f;
            int disc = ((float)x - cx) * ((float)x - cx) + ((float)y - cy) * ((float)y - cy) < r2;
            for (int k = 0; k < 3; ++k) {
                float val = 128.0f + 55.0f * sinf(fx[k] * u + px[k]) * cosf(fy[k] * v + py[k]);
                val += disc ? 50.0f : 0.0f;
                val -= abs(y - band) < h / 20 ? 70.0f : 0.0f;
                val += (float)((x * 7 + y * 3 + k) % 11) * 1.5f;          /* texture */
                val += (float)((int)(xorshift(&s) & 15u) - 8);            /* noise */
                rgb[((size_t)y * w + x) * 3 + k] = (unsigned char)(val < 0 ? 0 : val > 255 ? 255 : val);
            }
        }
}

/* The file's size after writing it (tests/colour_set.h's writers). */
static size_t write_image(const char *path, const char *fmt, const unsigned char *rgb, int w,
                          int h)
{
    int rc = strcmp(fmt, "jpg") == 0 ? rp_test_write_jpeg(path, rgb, w, h)
                                     : rp_test_write_png(path, rgb, w, h);
    struct stat st;
    if (rc != 0 || stat(path, &st) != 0)
        die(path, "cannot write");
    return (size_t)st.st_size;
}

/* root/classNN/IIIII.ext for n images; returns the bytes written. */
static size_t make_set(const char *root, const char *fmt, int w, int h, int n)
{
    if (mkdir(root, 0755) != 0)
        die(root, strerror(errno));
    unsigned char *rgb = malloc((size_t)w * h * 3);
    if (!rgb)
        die("generating images", "out of memory");
    char path[4400];
    size_t bytes = 0;
    for (int c = 0; c < CLASSES; ++c) {
        snprintf(path, sizeof path, "%s/class%02d", root, c);
        if (mkdir(path, 0755) != 0)
            die(path, strerror(errno));
    }
    for (int i = 0; i < n; ++i) {
        photo_rows(rgb, w, h, (uint32_t)i + 1);
        snprintf(path, sizeof path, "%s/class%02d/%05d.%s", root, i % CLASSES, i, fmt);
        bytes += write_image(path, fmt, rgb, w, h);
    }
    free(rgb);
    return bytes;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

/* ---- command line ------------------------------------------------------------ */

/* "a,b,c" -> up to MAX_LIST strings (in place). */
static int split(char *s, char **out)
{
    int n = 0;
    for (char *tok = strtok(s, ","); tok && n < MAX_LIST; tok = strtok(NULL, ","))
        out[n++] = tok;
    return n;
}

static double cpu_seconds(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + 1e-6 * (double)ru.ru_utime.tv_usec + (double)ru.ru_stime.tv_sec +
           1e-6 * (double)ru.ru_stime.tv_usec;
}

static double peak_rss_mb(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_maxrss / 1024.0; /* kB on Linux */
}

int main(int argc, char **argv)
{
    int n = 200, reps = 3, keep = 0, crop = 0;
    char sizes_arg[256] = "500x375,84x84", formats_arg[64] = "jpeg,png", threads_arg[64] = "1,2";
    for (int i = 1; i < argc; ++i) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--n") && v) {
            n = atoi(v);
            ++i;
        } else if (!strcmp(a, "--reps") && v) {
            reps = atoi(v);
            ++i;
        } else if (!strcmp(a, "--sizes") && v) {
            snprintf(sizes_arg, sizeof sizes_arg, "%s", v);
            ++i;
        } else if (!strcmp(a, "--formats") && v) {
            snprintf(formats_arg, sizeof formats_arg, "%s", v);
            ++i;
        } else if (!strcmp(a, "--threads") && v) {
            snprintf(threads_arg, sizeof threads_arg, "%s", v);
            ++i;
        } else if (!strcmp(a, "--keep")) {
            keep = 1;
        } else if (!strcmp(a, "--crop")) {
            crop = 1;
        } else {
            fprintf(stderr,
                    "usage: load-images [--n N] [--sizes WxH,...] [--formats jpeg,png] [--threads 1,2] "
                    "[--reps R] [--crop] [--keep]\n");
            return 2;
        }
    }
    if (n < CLASSES || reps < 1)
        die("arguments", "--n must be >= 10 and --reps >= 1");
    char *sizes[MAX_LIST], *formats[MAX_LIST], *threads[MAX_LIST];
    int n_sizes = split(sizes_arg, sizes), n_formats = split(formats_arg, formats),
        n_threads = split(threads_arg, threads);

    const char *base = getenv("TMPDIR");
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/rp-load-images-XXXXXX", base && *base ? base : "/tmp");
    if (!mkdtemp(dir))
        die(dir, strerror(errno));

    reptile_image_options o;
    reptile_image_options_init(&o, REPTILE_IMAGE_OPTIONS_VERSION);
    o.height = o.width = 84;
    o.channels = 3;
    o.center_crop = crop;
    printf("images=%d classes=%d output=84x84x3 filter=bilinear center_crop=%d\n", n, CLASSES, crop);
    printf("store_mb=%.1f\n", (double)n * 84 * 84 * 3 / 1e6);
    for (int s = 0; s < n_sizes; ++s) {
        int w, h;
        if (sscanf(sizes[s], "%dx%d", &w, &h) != 2 || w < 1 || h < 1)
            die("--sizes", sizes[s]);
        for (int f = 0; f < n_formats; ++f) {
            const int jpeg = !strcmp(formats[f], "jpeg");
            if (!jpeg && strcmp(formats[f], "png"))
                die("--formats", formats[f]);
            char root[4200];
            snprintf(root, sizeof root, "%s/%s-%dx%d", dir, formats[f], w, h);
            double t = bench_now();
            size_t bytes = make_set(root, jpeg ? "jpg" : "png", w, h, n);
            printf("source=%dx%d format=%s file_kb_per_image=%.1f generate_s=%.1f\n", w, h, formats[f],
                   (double)bytes / n / 1024.0, bench_now() - t);
            fflush(stdout);
            for (int k = 0; k < n_threads; ++k) {
                o.threads = atoi(threads[k]);
                double best = 1e30, best_cpu = 1e30;
                for (int r = 0; r <= reps; ++r) { /* r = 0 warms up */
                    reptile_dataset *ds = NULL;
                    double cpu = cpu_seconds();
                    t = bench_now();
                    if (reptile_dataset_open_folder(&ds, root, &o) != 0)
                        die("reptile_dataset_open_folder", reptile_error_last());
                    t = bench_now() - t;
                    cpu = cpu_seconds() - cpu;
                    if (reptile_dataset_num_images(ds) != n)
                        die("reptile_dataset_open_folder", "wrong image count");
                    reptile_dataset_free(ds);
                    if (r > 0 && t < best)
                        best = t;
                    if (r > 0 && cpu < best_cpu)
                        best_cpu = cpu;
                }
                printf("load source=%dx%d format=%s threads=%d seconds=%.3f images_per_s=%.0f cpu_ms_per_image=%.3f\n",
                       w, h, formats[f], o.threads, best, n / best, 1e3 * best_cpu / n);
                fflush(stdout);
            }
        }
    }
    if (keep)
        printf("kept=%s\n", dir);
    else
        nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    printf("peak_rss_mb=%.1f\n", peak_rss_mb());
    return 0;
}
