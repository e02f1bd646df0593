/* Finding images on disk: Omniglot's layout, folders of class folders, and
 * the paper's pooled 1,200 / 423 character split. */
#include "data/dataset_internal.h"

#include "core/atomic_file.h"
#include "core/error_internal.h"
#include "core/rng.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#define RP_PAPER_TRAIN_CLASSES 1200
#define RP_PAPER_STREAM 0x4f4d4e49474c4f54ull /* "OMNIGLOT": key of the split shuffle */

typedef struct name_list {
    char **v;
    int n, cap;
} name_list;

static void names_free(name_list *l)
{
    for (int i = 0; i < l->n; ++i)
        free(l->v[i]);
    free(l->v);
    memset(l, 0, sizeof *l);
}

static int names_push(name_list *l, const char *s)
{
    if (l->n == l->cap) {
        int cap = l->cap ? 2 * l->cap : 32;
        char **v = realloc(l->v, (size_t)cap * sizeof *v);
        if (!v)
            return -1;
        l->v = v;
        l->cap = cap;
    }
    char *c = strdup(s);
    if (!c)
        return -1;
    l->v[l->n++] = c;
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static char *join(const char *dir, const char *name)
{
    size_t a = strlen(dir), b = strlen(name);
    char *p = malloc(a + b + 2);
    if (!p)
        return NULL;
    memcpy(p, dir, a);
    p[a] = '/';
    memcpy(p + a + 1, name, b + 1);
    return p;
}

/* The names a class folder's images may have: *.png, *.jpg, *.jpeg in any
 * case. The name only selects files; their first bytes tell the format. */
static int has_image_ext(const char *name)
{
    static const char *const exts[] = {".png", ".jpg", ".jpeg"};
    size_t n = strlen(name);
    for (size_t i = 0; i < sizeof exts / sizeof exts[0]; ++i) {
        size_t e = strlen(exts[i]);
        if (n > e && strcasecmp(name + n - e, exts[i]) == 0)
            return 1;
    }
    return 0;
}

enum { LIST_DIRS, LIST_IMAGES };

/* Sorted names of the sub-folders (LIST_DIRS) or the image files (names
 * has_image_ext() accepts) that are not folders (LIST_IMAGES) of dir;
 * hidden entries are skipped. */
static int list_dir(const char *dir, int what, name_list *out)
{
    memset(out, 0, sizeof *out);
    DIR *d = opendir(dir);
    if (!d) {
        int e = errno;
        if (e == ENOENT)
            return rp_error(REPTILE_ENOTFOUND, "%s: no such folder", dir);
        return rp_error(e == ENOTDIR ? REPTILE_ENOTFOUND : REPTILE_EIO, "%s: cannot open folder (%s)", dir,
                        strerror(e));
    }
    struct dirent *e;
    int rc = 0;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        if (what == LIST_IMAGES && !has_image_ext(e->d_name))
            continue;
        int is_dir;
        if (e->d_type == DT_DIR) {
            is_dir = 1;
        } else if (e->d_type == DT_REG) {
            is_dir = 0;
        } else if (e->d_type == DT_LNK || e->d_type == DT_UNKNOWN) {
            char *p = join(dir, e->d_name);
            struct stat st;
            if (!p) {
                rc = -1;
                break;
            }
            /* A dangling link counts as a file: opening it reports the problem. */
            is_dir = stat(p, &st) == 0 && S_ISDIR(st.st_mode);
            free(p);
        } else {
            continue; /* fifos, sockets, devices */
        }
        if (is_dir != (what == LIST_DIRS))
            continue;
        if (names_push(out, e->d_name)) {
            rc = -1;
            break;
        }
    }
    closedir(d);
    if (rc) {
        names_free(out);
        return rp_error(REPTILE_ENOMEM, "%s: out of memory listing the folder", dir);
    }
    if (out->n > 1)
        qsort(out->v, (size_t)out->n, sizeof(char *), cmp_str);
    return 0;
}

typedef struct spec_list {
    rp_class_spec *v;
    int n, cap;
} spec_list;

static void specs_free(spec_list *l)
{
    for (int i = 0; i < l->n; ++i)
        rp_class_spec_free(&l->v[i]);
    free(l->v);
    memset(l, 0, sizeof *l);
}

static rp_class_spec *specs_add(spec_list *l)
{
    if (l->n == l->cap) {
        int cap = l->cap ? 2 * l->cap : 64;
        rp_class_spec *v = realloc(l->v, (size_t)cap * sizeof *v);
        if (!v)
            return NULL;
        l->v = v;
        l->cap = cap;
    }
    rp_class_spec *s = &l->v[l->n++];
    memset(s, 0, sizeof *s);
    s->id = -1;
    return s;
}

/* Fill s with the image files of folder dir (error EDATA when there are none). */
static int scan_class(rp_class_spec *s, const char *dir)
{
    name_list files;
    int rc = list_dir(dir, LIST_IMAGES, &files);
    if (rc)
        return rc;
    if (files.n == 0) {
        names_free(&files);
        return rp_error(REPTILE_EDATA, "%s: class folder holds no PNG or JPEG images", dir);
    }
    s->files = calloc((size_t)files.n, sizeof(char *));
    if (!s->files) {
        names_free(&files);
        return rp_error(REPTILE_ENOMEM, "%s: out of memory", dir);
    }
    for (int i = 0; i < files.n; ++i) {
        s->files[i] = join(dir, files.v[i]);
        if (!s->files[i]) {
            names_free(&files);
            return rp_error(REPTILE_ENOMEM, "%s: out of memory", dir);
        }
        s->n_files = i + 1;
    }
    /* Omniglot: IIII_DD.png -> character id IIII. */
    const char *f = files.v[0];
    if (isdigit((unsigned char)f[0])) {
        long id = strtol(f, NULL, 10);
        if (id >= 0 && id < 1000000000L)
            s->id = (int)id;
    }
    names_free(&files);
    return 0;
}

static const char *split_folder(const char *split)
{
    if (!strcmp(split, "background") || !strcmp(split, "train") || !strcmp(split, "images_background"))
        return "images_background";
    if (!strcmp(split, "evaluation") || !strcmp(split, "test") || !strcmp(split, "images_evaluation"))
        return "images_evaluation";
    return NULL;
}

/* Append the characters of root/<folder> to l (alphabet, then character order). */
static int scan_omniglot(spec_list *l, const char *root, const char *folder)
{
    char *sdir = join(root, folder);
    if (!sdir)
        return rp_error(REPTILE_ENOMEM, "out of memory");
    name_list alphabets = {0};
    int rc = list_dir(sdir, LIST_DIRS, &alphabets);
    if (rc == 0 && alphabets.n == 0)
        rc = rp_error(REPTILE_EDATA, "%s: no alphabet folders", sdir);
    for (int a = 0; rc == 0 && a < alphabets.n; ++a) {
        char *adir = join(sdir, alphabets.v[a]);
        name_list chars = {0};
        if (!adir) {
            rc = rp_error(REPTILE_ENOMEM, "out of memory");
            break;
        }
        rc = list_dir(adir, LIST_DIRS, &chars);
        if (rc == 0 && chars.n == 0)
            rc = rp_error(REPTILE_EDATA, "%s: alphabet folder holds no character folders", adir);
        for (int c = 0; rc == 0 && c < chars.n; ++c) {
            char *cdir = join(adir, chars.v[c]);
            rp_class_spec *s = cdir ? specs_add(l) : NULL;
            if (!s) {
                free(cdir);
                rc = rp_error(REPTILE_ENOMEM, "out of memory");
                break;
            }
            s->alphabet = strdup(alphabets.v[a]);
            s->character = strdup(chars.v[c]);
            if (!s->alphabet || !s->character)
                rc = rp_error(REPTILE_ENOMEM, "out of memory");
            else
                rc = scan_class(s, cdir);
            free(cdir);
        }
        names_free(&chars);
        free(adir);
    }
    names_free(&alphabets);
    free(sdir);
    return rc;
}

int reptile_dataset_open_omniglot(reptile_dataset **out, const char *root, const char *split,
                                  const reptile_image_options *opts)
{
    if (out)
        *out = NULL;
    if (!out || !root || !split)
        return rp_error(REPTILE_EINVAL, "reptile_dataset_open_omniglot: NULL argument");
    const char *folder = split_folder(split);
    if (!folder)
        return rp_error(REPTILE_EINVAL,
                        "reptile_dataset_open_omniglot: unknown split '%s' (expected background, evaluation, train or test)",
                        split);
    reptile_image_options o;
    int rc = rp_image_options_resolve(&o, opts);
    if (rc)
        return rc;
    spec_list l = {0};
    rc = scan_omniglot(&l, root, folder);
    if (rc == 0)
        rc = rp_dataset_load_specs(out, l.v, NULL, l.n, &o, o.rotations);
    specs_free(&l);
    return rc;
}

int reptile_dataset_open_folder(reptile_dataset **out, const char *root, const reptile_image_options *opts)
{
    if (out)
        *out = NULL;
    if (!out || !root)
        return rp_error(REPTILE_EINVAL, "reptile_dataset_open_folder: NULL argument");
    reptile_image_options o;
    int rc = rp_image_options_resolve(&o, opts);
    if (rc)
        return rc;
    name_list classes = {0};
    rc = list_dir(root, LIST_DIRS, &classes);
    if (rc)
        return rc;
    if (classes.n == 0) {
        names_free(&classes);
        return rp_error(REPTILE_EDATA, "%s: no class folders", root);
    }
    spec_list l = {0};
    for (int c = 0; rc == 0 && c < classes.n; ++c) {
        char *cdir = join(root, classes.v[c]);
        rp_class_spec *s = cdir ? specs_add(&l) : NULL;
        if (!s) {
            free(cdir);
            rc = rp_error(REPTILE_ENOMEM, "out of memory");
            break;
        }
        s->character = strdup(classes.v[c]);
        rc = s->character ? scan_class(s, cdir) : rp_error(REPTILE_ENOMEM, "out of memory");
        s->id = -1;
        free(cdir);
    }
    names_free(&classes);
    if (rc == 0)
        rc = rp_dataset_load_specs(out, l.v, NULL, l.n, &o, o.rotations);
    specs_free(&l);
    return rc;
}

/* The split as text, written atomically (one reader of the data never sees
 * half a manifest, a failed load never leaves one behind). */
static int write_manifest(const char *path, uint64_t seed, const spec_list *l, const int32_t *perm,
                          int n_train, int n_background)
{
    char *text = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&text, &size);
    if (!f)
        return rp_error(REPTILE_ENOMEM, "%s: out of memory for the manifest", path);
    fprintf(f, "# libreptile omniglot paper split: seed=%llu train=%d test=%d\n", (unsigned long long)seed,
            n_train, l->n - n_train);
    for (int k = 0; k < l->n; ++k) {
        const rp_class_spec *s = &l->v[perm[k]];
        fprintf(f, "%s\t%s\t%s\t%s\t%04d\n", k < n_train ? "train" : "test",
                perm[k] < n_background ? "images_background" : "images_evaluation", s->alphabet,
                s->character, s->id);
    }
    int bad = ferror(f);
    bad |= fclose(f) != 0;
    int rc = bad ? rp_error(REPTILE_ENOMEM, "%s: out of memory for the manifest", path)
                 : rp_atomic_write(path, text, size);
    free(text);
    return rc ? rp_error_wrap(rc, "cannot write the manifest") : 0;
}

int reptile_dataset_open_omniglot_paper(reptile_dataset **train_out, reptile_dataset **test_out,
                                        const char *root, uint64_t seed, const reptile_image_options *opts,
                                        const char *manifest_path)
{
    if (train_out)
        *train_out = NULL;
    if (test_out)
        *test_out = NULL;
    if (!train_out || !test_out || !root)
        return rp_error(REPTILE_EINVAL, "reptile_dataset_open_omniglot_paper: NULL argument");
    reptile_image_options o;
    int rc = rp_image_options_resolve(&o, opts);
    if (rc)
        return rc;
    spec_list l = {0};
    rc = scan_omniglot(&l, root, "images_background");
    int n_background = l.n;
    if (rc == 0)
        rc = scan_omniglot(&l, root, "images_evaluation");
    if (rc == 0 && l.n <= RP_PAPER_TRAIN_CLASSES)
        rc = rp_error(REPTILE_EDATA, "%s: the paper split needs more than %d characters, found %d", root,
                      RP_PAPER_TRAIN_CLASSES, l.n);
    int32_t *perm = rc == 0 ? malloc((size_t)l.n * sizeof *perm) : NULL;
    if (rc == 0 && !perm)
        rc = rp_error(REPTILE_ENOMEM, "out of memory");
    if (rc == 0) {
        for (int i = 0; i < l.n; ++i)
            perm[i] = i;
        rp_rng rng;
        rp_rng_init(&rng, seed, RP_PAPER_STREAM, 0);
        rp_rng_shuffle_i32(&rng, perm, l.n);
    }
    reptile_dataset *train = NULL, *test = NULL;
    if (rc == 0)
        rc = rp_dataset_load_specs(&train, l.v, perm, RP_PAPER_TRAIN_CLASSES, &o, o.rotations);
    if (rc == 0)
        rc = rp_dataset_load_specs(&test, l.v, perm + RP_PAPER_TRAIN_CLASSES, l.n - RP_PAPER_TRAIN_CLASSES,
                                   &o, 0);
    /* Only a split that loaded is recorded. */
    if (rc == 0 && manifest_path)
        rc = write_manifest(manifest_path, seed, &l, perm, RP_PAPER_TRAIN_CLASSES, n_background);
    free(perm);
    specs_free(&l);
    if (rc) {
        reptile_dataset_free(train);
        reptile_dataset_free(test);
        return rc;
    }
    *train_out = train;
    *test_out = test;
    return 0;
}
