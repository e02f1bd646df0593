/* reptile-adapt's output: see adapt_report.h. */
#include "adapt_report.h"

#include <errno.h>
#include <jansson.h>
#include <stdint.h>
#include <string.h>

static float prob(const ad_report *r, int i, int l)
{
    return r->probs[(size_t)i * (size_t)r->outputs + (size_t)l];
}

int ad_report_predicted(const ad_report *r, int i)
{
    int best = 0;
    for (int l = 1; l < r->ways; l++)
        if (prob(r, i, l) > prob(r, i, best))
            best = l;
    return best;
}

static int finish(FILE *f)
{
    if (!ferror(f))
        return 0;
    if (errno == 0)
        errno = EIO;
    return -1;
}

/* ---- table ------------------------------------------------------------------------ */

static int max_len(const char *const *v, int n, int at_least)
{
    int w = at_least;
    for (int i = 0; i < n; i++)
        if ((int)strlen(v[i]) > w)
            w = (int)strlen(v[i]);
    return w;
}

/* file, class, then one right-aligned column per class ("0.912"). */
static int write_table(const ad_report *r, FILE *f)
{
    const int wf = max_len((const char *const *)r->files, r->count, 4);
    const int wc = max_len(r->classes, r->ways, 5);
    fprintf(f, "%-*s  %-*s", wf, "file", wc, "class");
    for (int l = 0; l < r->ways; l++)
        fprintf(f, "  %*s", max_len(&r->classes[l], 1, 5), r->classes[l]);
    fputc('\n', f);
    for (int i = 0; i < r->count; i++) {
        fprintf(f, "%-*s  %-*s", wf, r->files[i], wc, r->classes[ad_report_predicted(r, i)]);
        for (int l = 0; l < r->ways; l++)
            fprintf(f, "  %*.3f", max_len(&r->classes[l], 1, 5), (double)prob(r, i, l));
        fputc('\n', f);
    }
    return finish(f);
}

/* ---- CSV -------------------------------------------------------------------------- */

/* A field, quoted when it holds a comma, a quote or a line break. */
static void csv_field(FILE *f, const char *s)
{
    if (!s[strcspn(s, ",\"\r\n")]) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

/* file,class,CLASS1,CLASS2,...: one row per query. */
static int write_csv(const ad_report *r, FILE *f)
{
    fputs("file,class", f);
    for (int l = 0; l < r->ways; l++) {
        fputc(',', f);
        csv_field(f, r->classes[l]);
    }
    fputc('\n', f);
    for (int i = 0; i < r->count; i++) {
        csv_field(f, r->files[i]);
        fputc(',', f);
        csv_field(f, r->classes[ad_report_predicted(r, i)]);
        for (int l = 0; l < r->ways; l++)
            fprintf(f, ",%.6g", (double)prob(r, i, l));
        fputc('\n', f);
    }
    return finish(f);
}

/* ---- JSON ------------------------------------------------------------------------- */

/* Takes `value` over; -1 when it is NULL (a string that is not UTF-8, or
 * no memory) or cannot be added. */
static int add(json_t *obj, const char *key, json_t *value)
{
    return value ? json_object_set_new(obj, key, value) : -1;
}

static json_t *query_json(const ad_report *r, int i)
{
    json_t *q = json_object(), *p = json_object();
    int bad = !q || !p;
    for (int l = 0; !bad && l < r->ways; l++)
        bad = add(p, r->classes[l], json_real((double)prob(r, i, l))) != 0;
    bad = bad || add(q, "file", json_string(r->files[i])) != 0 ||
          add(q, "class", json_string(r->classes[ad_report_predicted(r, i)])) != 0;
    if (bad || add(q, "probabilities", json_incref(p)) != 0) {
        json_decref(q);
        q = NULL;
    }
    json_decref(p);
    return q;
}

/* JSON integers are int64: a larger seed is written as text. */
static json_t *seed_json(uint64_t seed)
{
    if (seed <= INT64_MAX)
        return json_integer((json_int_t)seed);
    char text[24];
    snprintf(text, sizeof text, "%llu", (unsigned long long)seed);
    return json_string(text);
}

static json_t *report_json(const ad_report *r)
{
    json_t *root = json_object(), *classes = json_array(), *queries = json_array();
    int bad = !root || !classes || !queries;
    for (int l = 0; !bad && l < r->ways; l++)
        bad = json_array_append_new(classes, json_string(r->classes[l])) != 0;
    for (int i = 0; !bad && i < r->count; i++)
        bad = json_array_append_new(queries, query_json(r, i)) != 0;
    bad = bad || add(root, "model", json_string(r->model)) != 0 ||
          add(root, "support", json_string(r->support)) != 0 ||
          add(root, "mode", json_string(r->mode)) != 0 ||
          add(root, "seed", seed_json(r->seed)) != 0 ||
          add(root, "classes", json_incref(classes)) != 0 ||
          add(root, "queries", json_incref(queries)) != 0;
    json_decref(classes);
    json_decref(queries);
    if (bad) {
        json_decref(root);
        return NULL;
    }
    return root;
}

static int write_json(const ad_report *r, FILE *f)
{
    json_t *root = report_json(r);
    if (!root) {
        errno = EILSEQ; /* or ENOMEM: a file or class name that is not UTF-8 is likelier */
        return -1;
    }
    int rc = json_dumpf(root, f, JSON_INDENT(2) | JSON_REAL_PRECISION(6));
    json_decref(root);
    if (rc != 0) {
        if (errno == 0)
            errno = EIO;
        return -1;
    }
    fputc('\n', f);
    return finish(f);
}

int ad_report_write(const ad_report *r, int format, FILE *f)
{
    errno = 0;
    switch (format) {
    case AD_CSV: return write_csv(r, f);
    case AD_JSON: return write_json(r, f);
    default: return write_table(r, f);
    }
}
