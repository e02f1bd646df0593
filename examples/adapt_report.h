/* reptile-adapt's output: per query, the file, the predicted class and the
 * probability of each class, as an aligned table, CSV (RFC 4180 quoting)
 * or JSON (jansson). Writes to a FILE the caller opened and closes. */
#ifndef EX_ADAPT_REPORT_H
#define EX_ADAPT_REPORT_H

#include <stdint.h>
#include <stdio.h>

enum ad_format { AD_TABLE, AD_CSV, AD_JSON };

typedef struct ad_report {
    const char *model, *support; /* as given (JSON records them) */
    const char *mode;            /* "with-support" or "transductive" */
    uint64_t seed;
    const char *const *classes;  /* ways class names */
    int ways;
    char *const *files;          /* count query files */
    int count;
    const float *probs;          /* count rows of `outputs` floats; the first ways are the classes' */
    int outputs;
} ad_report;

/* The class of row i: the most probable of the task's classes. */
int ad_report_predicted(const ad_report *r, int i);

/* 0, or -1 with errno set (a write failed, or JSON could not be built:
 * EILSEQ for a name that is not UTF-8, ENOMEM). */
int ad_report_write(const ad_report *r, int format, FILE *f);

#endif
