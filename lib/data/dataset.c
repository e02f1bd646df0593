/* Data set storage, queries, the memory constructor and image (PNG, JPEG)
 * loading of a list of classes (rp_dataset_load_specs, used by loader.c). */
#include "data/dataset_internal.h"

#include "core/error_internal.h"
#include "core/versioned.h"
#include "data/image_decode.h"
#include "data/resize.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The resizer's filter numbers are the public ones: options pass through. */
_Static_assert((int)RP_FILTER_BILINEAR == (int)REPTILE_FILTER_BILINEAR &&
                   (int)RP_FILTER_AREA == (int)REPTILE_FILTER_AREA &&
                   (int)RP_FILTER_NEAREST == (int)REPTILE_FILTER_NEAREST,
               "resize.h and dataset.h filters disagree");

#define RP_MAX_THREADS 64

/* ---- options ------------------------------------------------------------ */

/* Version 1's fields end with threads, version 2's with center_crop; a
 * later version appends fields and its end here (core/versioned.h). */
static const size_t image_options_size[] = {0, RP_FIELDS_END(reptile_image_options, threads),
                                            RP_FIELDS_END(reptile_image_options, center_crop)};
_Static_assert(sizeof image_options_size / sizeof image_options_size[0] ==
                   REPTILE_IMAGE_OPTIONS_VERSION + 1,
               "give every reptile_image_options version its size");
static const rp_struct_versions image_options_versions = {"image options", image_options_size,
                                                          REPTILE_IMAGE_OPTIONS_VERSION};

int reptile_image_options_init(reptile_image_options *opts, unsigned int version)
{
    if (!opts)
        return rp_error(REPTILE_EINVAL, "reptile_image_options_init: opts is NULL");
    int rc = rp_version_check(&image_options_versions, version, "reptile_image_options_init");
    if (rc)
        return rc;
    const reptile_image_options d = REPTILE_IMAGE_OPTIONS_INIT;
    rp_version_write(&image_options_versions, opts, version, &d);
    return 0;
}

int rp_image_options_resolve(reptile_image_options *dst, const reptile_image_options *opts)
{
    reptile_image_options d = REPTILE_IMAGE_OPTIONS_INIT;
    if (!opts) {
        *dst = d;
        return 0;
    }
    /* An older caller's struct: its fields, the defaults for the rest. */
    *dst = d;
    int rc = rp_version_read(&image_options_versions, dst, opts, "image options");
    if (rc)
        return rc;
    if (dst->height < 1 || dst->height > 16384 || dst->width < 1 || dst->width > 16384)
        return rp_error(REPTILE_EINVAL, "image options: height and width must be in 1..16384, got %dx%d",
                        dst->height, dst->width);
    if (dst->filter != REPTILE_FILTER_BILINEAR && dst->filter != REPTILE_FILTER_AREA &&
        dst->filter != REPTILE_FILTER_NEAREST)
        return rp_error(REPTILE_EINVAL, "image options: unknown filter %d", dst->filter);
    if (dst->channels != 1 && dst->channels != 3)
        return rp_error(REPTILE_EINVAL, "image options: channels must be 1 or 3, got %d", dst->channels);
    if (dst->rotations && dst->height != dst->width)
        return rp_error(REPTILE_EINVAL, "image options: rotations need square images, got %dx%d",
                        dst->height, dst->width);
    if (dst->threads < 0)
        return rp_error(REPTILE_EINVAL, "image options: threads must be >= 0, got %d", dst->threads);
    dst->rotations = dst->rotations != 0;
    dst->invert = dst->invert != 0;
    dst->center_crop = dst->center_crop != 0;
    return 0;
}

/* ---- lifetime and queries ------------------------------------------------ */

void reptile_dataset_free(reptile_dataset *ds)
{
    if (!ds)
        return;
    for (int i = 0; i < ds->n_strings; ++i)
        free(ds->strings[i]);
    free(ds->strings);
    free(ds->classes);
    free(ds->stored);
    free(ds->quarter_turns);
    free(ds->pix8);
    free(ds->pixf);
    free(ds);
}

int reptile_dataset_num_classes(const reptile_dataset *ds) { return ds ? ds->n_classes : 0; }

int reptile_dataset_num_images(const reptile_dataset *ds) { return ds ? (int)ds->n_images : 0; }

int reptile_dataset_class_size(const reptile_dataset *ds, int cls)
{
    if (!ds)
        return rp_error(REPTILE_EINVAL, "reptile_dataset_class_size: dataset is NULL");
    if (cls < 0 || cls >= ds->n_classes)
        return rp_error(REPTILE_EINVAL, "reptile_dataset_class_size: class %d out of range 0..%d", cls,
                        ds->n_classes - 1);
    return (int)ds->classes[cls].count;
}

int reptile_dataset_image_shape(const reptile_dataset *ds, int *height, int *width, int *channels)
{
    if (!ds)
        return rp_error(REPTILE_EINVAL, "reptile_dataset_image_shape: dataset is NULL");
    if (height)
        *height = ds->h;
    if (width)
        *width = ds->w;
    if (channels)
        *channels = ds->c;
    return 0;
}

int reptile_dataset_class_info(const reptile_dataset *ds, int cls, const char **alphabet,
                               const char **character, int *character_id, int *rotation_degrees)
{
    if (!ds)
        return rp_error(REPTILE_EINVAL, "reptile_dataset_class_info: dataset is NULL");
    if (cls < 0 || cls >= ds->n_classes)
        return rp_error(REPTILE_EINVAL, "reptile_dataset_class_info: class %d out of range 0..%d", cls,
                        ds->n_classes - 1);
    const rp_class *k = &ds->classes[cls];
    if (alphabet)
        *alphabet = k->alphabet;
    if (character)
        *character = k->character;
    if (character_id)
        *character_id = k->id;
    if (rotation_degrees)
        *rotation_degrees = k->rotation;
    return 0;
}

int rp_dataset_image_index(const reptile_dataset *ds, int cls, int i)
{
    if (cls < 0 || cls >= ds->n_classes || i < 0 || i >= ds->classes[cls].count)
        return -1;
    return (int)(ds->classes[cls].first + i);
}

/* Source pixel offset (in pixels) of output (y, x) after k counter-clockwise
 * quarter turns of an n x n image (np.rot90(img, k)). */
static size_t rot_src(int k, int n, int y, int x)
{
    switch (k) {
    case 1: return (size_t)x * n + (size_t)(n - 1 - y);
    case 2: return (size_t)(n - 1 - y) * n + (size_t)(n - 1 - x);
    case 3: return (size_t)(n - 1 - x) * n + (size_t)y;
    default: return (size_t)y * n + (size_t)x;
    }
}

void rp_dataset_gather(const reptile_dataset *ds, const int32_t *image_index, int n, float *out)
{
    const size_t hwc = (size_t)ds->h * ds->w * ds->c;
    const float inv255 = 1.0f / 255.0f;
    for (int k = 0; k < n; ++k) {
        int32_t g = image_index[k];
        size_t s = (size_t)ds->stored[g] * hwc;
        int turns = ds->quarter_turns[g];
        float *o = out + (size_t)k * hwc;
        if (turns == 0) {
            if (ds->pix8) {
                const uint8_t *p = ds->pix8 + s;
                for (size_t i = 0; i < hwc; ++i)
                    o[i] = (float)p[i] * inv255;
            } else {
                memcpy(o, ds->pixf + s, hwc * sizeof(float));
            }
            continue;
        }
        const int side = ds->h, c = ds->c;
        for (int y = 0; y < side; ++y)
            for (int x = 0; x < side; ++x) {
                size_t src = s + rot_src(turns, side, y, x) * c;
                float *dst = o + ((size_t)y * side + x) * c;
                for (int ch = 0; ch < c; ++ch)
                    dst[ch] = ds->pix8 ? (float)ds->pix8[src + ch] * inv255 : ds->pixf[src + ch];
            }
    }
}

int reptile_dataset_get_image(const reptile_dataset *ds, int cls, int i, float *out)
{
    if (!ds || !out)
        return rp_error(REPTILE_EINVAL, "reptile_dataset_get_image: NULL argument");
    int g = rp_dataset_image_index(ds, cls, i);
    if (g < 0) {
        if (cls < 0 || cls >= ds->n_classes)
            return rp_error(REPTILE_EINVAL, "reptile_dataset_get_image: class %d out of range 0..%d", cls,
                            ds->n_classes - 1);
        return rp_error(REPTILE_EINVAL, "reptile_dataset_get_image: image %d out of range 0..%d of class %d",
                        i, (int)ds->classes[cls].count - 1, cls);
    }
    int32_t gi = (int32_t)g;
    rp_dataset_gather(ds, &gi, 1, out);
    return 0;
}

/* ---- construction helpers ------------------------------------------------- */

static reptile_dataset *dataset_alloc(int n_classes, int32_t n_images, int n_strings)
{
    reptile_dataset *ds = calloc(1, sizeof *ds);
    if (!ds)
        return NULL;
    ds->classes = calloc((size_t)n_classes, sizeof *ds->classes);
    ds->stored = malloc((size_t)n_images * sizeof *ds->stored);
    ds->quarter_turns = calloc((size_t)n_images, 1);
    ds->strings = n_strings ? calloc((size_t)n_strings, sizeof(char *)) : NULL;
    if (!ds->classes || !ds->stored || !ds->quarter_turns || (n_strings && !ds->strings)) {
        reptile_dataset_free(ds);
        return NULL;
    }
    ds->n_classes = n_classes;
    ds->n_images = n_images;
    return ds;
}

static const char *keep_string(reptile_dataset *ds, const char *s)
{
    if (!s)
        return NULL;
    char *c = strdup(s);
    if (!c)
        return NULL;
    ds->strings[ds->n_strings++] = c;
    return c;
}

/* ---- memory data sets ------------------------------------------------------ */

typedef struct label_pos {
    int32_t label;
    int32_t pos;
} label_pos;

static int cmp_label_pos(const void *a, const void *b)
{
    const label_pos *x = a, *y = b;
    if (x->label != y->label)
        return x->label < y->label ? -1 : 1;
    return (x->pos > y->pos) - (x->pos < y->pos);
}

int reptile_dataset_from_memory(reptile_dataset **out, const float *images_nhwc, const int32_t *labels,
                                int n, int h, int w, int c)
{
    if (out)
        *out = NULL;
    if (!out || !images_nhwc || !labels)
        return rp_error(REPTILE_EINVAL, "reptile_dataset_from_memory: NULL argument");
    if (n < 1 || h < 1 || w < 1 || c < 1)
        return rp_error(REPTILE_EINVAL, "reptile_dataset_from_memory: n, h, w, c must be >= 1, got %d, %d, %d, %d",
                        n, h, w, c);
    uint64_t hwc = (uint64_t)h * (uint64_t)w * (uint64_t)c;
    if (hwc > ((uint64_t)1 << 31) || (uint64_t)n * hwc > ((uint64_t)1 << 40) / sizeof(float))
        return rp_error(REPTILE_EINVAL, "reptile_dataset_from_memory: %d images of %dx%dx%d is too large", n, h, w, c);
    size_t total = (size_t)n * (size_t)hwc;
    for (size_t i = 0; i < total; ++i)
        if (!isfinite(images_nhwc[i]))
            return rp_error(REPTILE_EINVAL, "reptile_dataset_from_memory: images_nhwc[%zu] is not finite (image %zu)",
                            i, i / (size_t)hwc);
    label_pos *lp = malloc((size_t)n * sizeof *lp);
    if (!lp)
        return rp_error(REPTILE_ENOMEM, "reptile_dataset_from_memory: out of memory");
    for (int i = 0; i < n; ++i) {
        lp[i].label = labels[i];
        lp[i].pos = i;
    }
    qsort(lp, (size_t)n, sizeof *lp, cmp_label_pos);
    int n_classes = 1;
    for (int i = 1; i < n; ++i)
        n_classes += lp[i].label != lp[i - 1].label;
    reptile_dataset *ds = dataset_alloc(n_classes, n, 0);
    float *pix = ds ? malloc(total * sizeof(float)) : NULL;
    if (!pix) {
        free(lp);
        reptile_dataset_free(ds);
        return rp_error(REPTILE_ENOMEM, "reptile_dataset_from_memory: out of memory for %d images", n);
    }
    ds->pixf = pix;
    ds->h = h;
    ds->w = w;
    ds->c = c;
    ds->n_stored = n;
    int cls = -1;
    for (int i = 0; i < n; ++i) {
        if (i == 0 || lp[i].label != lp[i - 1].label) {
            ++cls;
            ds->classes[cls].id = lp[i].label;
            ds->classes[cls].first = i;
            ds->classes[cls].count = 0;
        }
        ds->classes[cls].count++;
        ds->stored[i] = i;
        memcpy(pix + (size_t)i * hwc, images_nhwc + (size_t)lp[i].pos * hwc, (size_t)hwc * sizeof(float));
    }
    free(lp);
    *out = ds;
    return 0;
}

/* ---- image loading ------------------------------------------------------ */

void rp_class_spec_free(rp_class_spec *s)
{
    if (!s)
        return;
    for (int i = 0; i < s->n_files; ++i)
        free(s->files[i]);
    free(s->files);
    free(s->alphabet);
    free(s->character);
    memset(s, 0, sizeof *s);
}

typedef struct load_job {
    const char *const *paths; /* [n_files] */
    uint8_t *pix8;
    const reptile_image_options *opts;
    int32_t begin, end;       /* file range of this worker */
    int32_t failed_at;        /* first failing file, or -1 */
    rp_error_saved err;       /* its error, raised again by the caller */
} load_job;

static void quantise(const float *v, size_t n, int invert, uint8_t *dst)
{
    for (size_t i = 0; i < n; ++i) {
        float x = invert ? 1.0f - v[i] : v[i];
        x = x < 0.0f ? 0.0f : (x > 1.0f ? 1.0f : x);
        dst[i] = (uint8_t)lrintf(x * 255.0f);
    }
}

static void *load_worker(void *arg)
{
    load_job *job = arg;
    const reptile_image_options *o = job->opts;
    const size_t hwc = (size_t)o->height * o->width * o->channels;
    rp_image_decoder dec;
    rp_resize_plan plan;
    rp_image_decoder_init(&dec);
    rp_resize_plan_init(&plan);
    float *tmp = malloc(hwc * sizeof(float));
    job->failed_at = -1;
    if (!tmp) {
        job->failed_at = job->begin;
        rp_error_save(&job->err, rp_error(REPTILE_ENOMEM, "out of memory loading images"));
        return NULL;
    }
    for (int32_t f = job->begin; f < job->end; ++f) {
        rp_image img;
        int y0 = 0, x0 = 0, ch = 0, cw = 0;
        int rc = rp_image_decode_file(&dec, job->paths[f], o->channels, &img);
        if (rc == 0) {
            ch = img.height;
            cw = img.width;
            if (o->center_crop)
                rp_center_crop(img.height, img.width, o->height, o->width, &y0, &x0, &ch, &cw);
            rc = rp_resize_plan_prepare(&plan, ch, cw, o->height, o->width, o->channels, o->filter);
        }
        if (rc) {
            job->failed_at = f;
            rp_error_save(&job->err, rc);
            break;
        }
        const size_t stride = (size_t)img.width * (size_t)o->channels;
        rp_resize_run_strided(&plan, img.data + (size_t)y0 * stride + (size_t)x0 * (size_t)o->channels, stride,
                              tmp);
        quantise(tmp, hwc, o->invert, job->pix8 + (size_t)f * hwc);
    }
    free(tmp);
    rp_resize_plan_free(&plan);
    rp_image_decoder_free(&dec);
    return NULL;
}

/* Decode every path into pix8[f * hwc]; deterministic whatever the thread
 * count (each file has its own slot; the first failing file wins). */
static int load_files(const char *const *paths, int32_t n_files, uint8_t *pix8,
                      const reptile_image_options *o)
{
    int threads = o->threads;
    if (threads == 0) {
        long cpus = sysconf(_SC_NPROCESSORS_ONLN);
        threads = cpus > 0 ? (int)cpus : 1;
    }
    if (threads > RP_MAX_THREADS)
        threads = RP_MAX_THREADS;
    if (threads > n_files)
        threads = n_files;
    if (threads < 1)
        threads = 1;
    load_job *jobs = calloc((size_t)threads, sizeof *jobs);
    pthread_t *tids = calloc((size_t)threads, sizeof *tids);
    int *started = calloc((size_t)threads, sizeof *started);
    if (!jobs || !tids || !started) {
        free(jobs);
        free(tids);
        free(started);
        return rp_error(REPTILE_ENOMEM, "out of memory starting the image loader");
    }
    int spawn_failed = 0;
    for (int t = 0; t < threads; ++t) {
        jobs[t].paths = paths;
        jobs[t].pix8 = pix8;
        jobs[t].opts = o;
        jobs[t].begin = (int32_t)((int64_t)n_files * t / threads);
        jobs[t].end = (int32_t)((int64_t)n_files * (t + 1) / threads);
        jobs[t].failed_at = -1;
        if (t > 0 && !spawn_failed) {
            if (pthread_create(&tids[t], NULL, load_worker, &jobs[t]) == 0)
                started[t] = 1;
            else
                spawn_failed = 1;
        }
    }
    if (!spawn_failed)
        load_worker(&jobs[0]);
    for (int t = 1; t < threads; ++t)
        if (started[t])
            pthread_join(tids[t], NULL);
    int rc = 0;
    if (spawn_failed) {
        rc = rp_error(REPTILE_ETHREAD, "cannot start %d image loading threads", threads);
    } else {
        for (int t = 0; t < threads; ++t)
            if (jobs[t].failed_at >= 0) {
                rc = rp_error_raise(&jobs[t].err);
                break;
            }
    }
    free(jobs);
    free(tids);
    free(started);
    return rc;
}

int reptile_image_load(const char *path, const reptile_image_options *opts, float *out)
{
    if (!path || !out)
        return rp_error(REPTILE_EINVAL, "reptile_image_load: NULL path or output");
    reptile_image_options o;
    int rc = rp_image_options_resolve(&o, opts);
    if (rc)
        return rc;
    o.threads = 1;
    const size_t hwc = (size_t)o.height * o.width * o.channels;
    uint8_t *pix8 = malloc(hwc);
    if (!pix8)
        return rp_error(REPTILE_ENOMEM, "reptile_image_load: out of memory");
    /* The data sets' own path: decode, resize, store as 8 bits, read back. */
    rc = load_files(&path, 1, pix8, &o);
    if (rc == 0)
        for (size_t i = 0; i < hwc; ++i)
            out[i] = (float)pix8[i] * (1.0f / 255.0f);
    free(pix8);
    return rc;
}

int rp_dataset_load_specs(reptile_dataset **out, const rp_class_spec *specs, const int32_t *order, int n,
                          const reptile_image_options *o, int rotations)
{
    *out = NULL;
    int64_t n_files = 0;
    for (int k = 0; k < n; ++k) {
        const rp_class_spec *s = &specs[order ? order[k] : k];
        if (s->n_files < 1)
            return rp_error(REPTILE_EDATA, "class %s%s%s has no images", s->alphabet ? s->alphabet : "",
                            s->alphabet ? "/" : "", s->character ? s->character : "?");
        n_files += s->n_files;
    }
    const int copies = rotations ? 4 : 1;
    if (n < 1)
        return rp_error(REPTILE_EDATA, "no classes to load");
    if (n_files * copies > INT32_MAX / 2 || (int64_t)n * copies > INT32_MAX / 2)
        return rp_error(REPTILE_EINVAL, "too many images (%lld)", (long long)n_files);
    const size_t hwc = (size_t)o->height * o->width * o->channels;
    reptile_dataset *ds = dataset_alloc(n * copies, (int32_t)(n_files * copies), 2 * n);
    const char **paths = malloc((size_t)n_files * sizeof *paths);
    uint8_t *pix8 = malloc((size_t)n_files * hwc);
    if (!ds || !paths || !pix8) {
        reptile_dataset_free(ds);
        free(paths);
        free(pix8);
        return rp_error(REPTILE_ENOMEM, "out of memory for %lld images of %dx%dx%d", (long long)n_files,
                        o->height, o->width, o->channels);
    }
    ds->h = o->height;
    ds->w = o->width;
    ds->c = o->channels;
    ds->pix8 = pix8;
    ds->n_stored = (int32_t)n_files;
    int32_t file = 0, global = 0;
    for (int k = 0; k < n; ++k) {
        const rp_class_spec *s = &specs[order ? order[k] : k];
        const char *alpha = keep_string(ds, s->alphabet);
        const char *chr = keep_string(ds, s->character);
        if ((s->alphabet && !alpha) || (s->character && !chr)) {
            reptile_dataset_free(ds);
            free(paths);
            return rp_error(REPTILE_ENOMEM, "out of memory for class names");
        }
        for (int r = 0; r < copies; ++r) {
            rp_class *c = &ds->classes[k * copies + r];
            c->alphabet = alpha;
            c->character = chr;
            c->id = s->id;
            c->rotation = 90 * r;
            c->first = global;
            c->count = s->n_files;
            for (int i = 0; i < s->n_files; ++i) {
                ds->stored[global] = file + i;
                ds->quarter_turns[global] = (uint8_t)r;
                ++global;
            }
        }
        for (int i = 0; i < s->n_files; ++i)
            paths[file + i] = s->files[i];
        file += s->n_files;
    }
    int rc = load_files(paths, (int32_t)n_files, pix8, o);
    free(paths);
    if (rc) {
        reptile_dataset_free(ds);
        return rc;
    }
    *out = ds;
    return 0;
}
