/* reptile-adapt's support set and queries: see adapt_data.h. */
#include "adapt_data.h"

#include "cli.h"
#include "options_cli.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

static size_t image_floats(const reptile_image_options *img)
{
    return (size_t)img->height * (size_t)img->width * (size_t)img->channels;
}

static int out_of_memory(void)
{
    ex_error("out of memory");
    return EX_FAILURE;
}

/* ---- the support set ------------------------------------------------------------ */

static int class_count_fits(const char *opt, const char *dir, int ways, int max_ways,
                            const char *first)
{
    if (ways < 2) {
        ex_error("%s '%s' has one class folder ('%s'): a task needs at least 2 classes, one "
                 "sub-folder of images each",
                 opt, dir, first);
        return 0;
    }
    if (ways > max_ways) {
        ex_error("%s '%s' has %d class folders, but the model supports at most %d classes (its "
                 "outputs); give at most %d, or --new-output-layer, or meta-train a model with more "
                 "outputs",
                 opt, dir, ways, max_ways, max_ways);
        return 0;
    }
    return 1;
}

int ad_support_load(ad_support *s, const char *opt, const char *dir,
                    const reptile_image_options *img, int max_ways)
{
    memset(s, 0, sizeof *s);
    if (reptile_dataset_open_folder(&s->ds, dir, img) != 0) {
        ex_error("%s: %s", opt, reptile_error_last());
        return EX_FAILURE;
    }
    s->ways = reptile_dataset_num_classes(s->ds);
    s->n = reptile_dataset_num_images(s->ds);
    s->names = malloc((size_t)s->ways * sizeof *s->names);
    if (!s->names)
        return out_of_memory();
    for (int l = 0; l < s->ways; l++)
        reptile_dataset_class_info(s->ds, l, NULL, &s->names[l], NULL, NULL);
    if (!class_count_fits(opt, dir, s->ways, max_ways, s->names[0]))
        return EX_FAILURE;
    const size_t hwc = image_floats(img);
    s->images = malloc((size_t)s->n * hwc * sizeof *s->images);
    s->labels = malloc((size_t)s->n * sizeof *s->labels);
    if (!s->images || !s->labels)
        return out_of_memory();
    int k = 0;
    for (int l = 0; l < s->ways; l++)
        for (int i = 0; i < reptile_dataset_class_size(s->ds, l); i++, k++) {
            reptile_dataset_get_image(s->ds, l, i, s->images + (size_t)k * hwc);
            s->labels[k] = l;
        }
    return EX_CONTINUE;
}

void ad_support_free(ad_support *s)
{
    reptile_dataset_free(s->ds);
    free(s->names);
    free(s->images);
    free(s->labels);
    memset(s, 0, sizeof *s);
}

/* ---- the queries ---------------------------------------------------------------- */

/* As the library picks a class folder's images: not hidden, named *.png,
 * *.jpg or *.jpeg in any case (the library tells the format by the bytes). */
static int image_name(const struct dirent *e)
{
    static const char *const exts[] = {".png", ".jpg", ".jpeg"};
    size_t n = strlen(e->d_name);
    if (e->d_name[0] == '.')
        return 0;
    for (size_t i = 0; i < sizeof exts / sizeof exts[0]; ++i) {
        size_t k = strlen(exts[i]);
        if (n > k && strcasecmp(e->d_name + n - k, exts[i]) == 0)
            return 1;
    }
    return 0;
}

static int byte_order(const struct dirent **a, const struct dirent **b)
{
    return strcmp((*a)->d_name, (*b)->d_name);
}

/* Append `path` (taken over) to q->files. */
static int add_file(ad_queries *q, char *path, int *cap)
{
    if (!path)
        return -1;
    if (q->count == *cap) {
        int grown = *cap ? 2 * *cap : 16;
        char **v = realloc(q->files, (size_t)grown * sizeof *v);
        if (!v) {
            free(path);
            return -1;
        }
        q->files = v;
        *cap = grown;
    }
    q->files[q->count++] = path;
    return 0;
}

static char *join(const char *dir, const char *name)
{
    size_t a = strlen(dir), b = strlen(name);
    char *p = malloc(a + b + 2);
    if (p)
        snprintf(p, a + b + 2, "%s%s%s", dir, a && dir[a - 1] == '/' ? "" : "/", name);
    return p;
}

/* The image files of folder `dir` (sub-folders named *.png are not files). */
static int add_folder(ad_queries *q, const char *dir, int *cap)
{
    struct dirent **names = NULL;
    int n = scandir(dir, &names, image_name, byte_order), added = 0, status = EX_CONTINUE;
    if (n < 0) {
        ex_error("query folder '%s': %s", dir, strerror(errno));
        return EX_FAILURE;
    }
    for (int i = 0; i < n; i++) {
        char *path = status == EX_CONTINUE ? join(dir, names[i]->d_name) : NULL;
        struct stat st;
        if (path && stat(path, &st) == 0 && S_ISDIR(st.st_mode))
            free(path);
        else if (status == EX_CONTINUE && add_file(q, path, cap) != 0)
            status = out_of_memory();
        else if (status == EX_CONTINUE)
            added++;
        free(names[i]);
    }
    free(names);
    if (status == EX_CONTINUE && added == 0) {
        ex_error("query folder '%s' holds no PNG or JPEG images (*.png, *.jpg, *.jpeg)", dir);
        status = EX_FAILURE;
    }
    return status;
}

static int list_queries(ad_queries *q, char *const *args, int n)
{
    int cap = 0;
    for (int i = 0; i < n; i++) {
        struct stat st;
        int status = EX_CONTINUE;
        if (stat(args[i], &st) == 0 && S_ISDIR(st.st_mode))
            status = add_folder(q, args[i], &cap);
        else if (add_file(q, strdup(args[i]), &cap) != 0) /* reading it says what is wrong */
            status = out_of_memory();
        if (status != EX_CONTINUE)
            return status;
    }
    return EX_CONTINUE;
}

int ad_queries_load(ad_queries *q, char *const *args, int n, const reptile_image_options *img)
{
    memset(q, 0, sizeof *q);
    int status = list_queries(q, args, n);
    if (status != EX_CONTINUE)
        return status;
    const size_t hwc = image_floats(img);
    q->images = malloc((size_t)q->count * hwc * sizeof *q->images);
    if (!q->images)
        return out_of_memory();
    for (int i = 0; i < q->count; i++)
        if (reptile_image_load(q->files[i], img, q->images + (size_t)i * hwc) != 0) {
            ex_error("query: %s", reptile_error_last());
            return EX_FAILURE;
        }
    return EX_CONTINUE;
}

void ad_queries_free(ad_queries *q)
{
    for (int i = 0; i < q->count; i++)
        free(q->files[i]);
    free(q->files);
    free(q->images);
    memset(q, 0, sizeof *q);
}
