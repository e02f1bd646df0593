/* reptile-adapt's inputs as the arrays the library adapts on and predicts:
 * the support set, a folder of class folders read by
 * reptile_dataset_open_folder(), and the queries, PNG files and folders of
 * them read by reptile_image_load(); every image is converted as the data
 * sets convert theirs (to the model's input shape). Failures are reported
 * ("PROG: ...") and returned as exit statuses (cli.h). */
#ifndef EX_ADAPT_DATA_H
#define EX_ADAPT_DATA_H

#include <reptile/reptile.h>

/* The support set: class l is the l-th class folder in byte order of names. */
typedef struct ad_support {
    reptile_dataset *ds;  /* owns the class names */
    const char **names;   /* ways class folder names */
    float *images;        /* n images, NHWC, class after class */
    int32_t *labels;      /* n labels, 0 .. ways-1 */
    int n, ways;
} ad_support;

/* The query images, in the order given (a folder's files in byte order). */
typedef struct ad_queries {
    char **files;  /* count paths, as given or DIR/NAME */
    float *images; /* count images, NHWC */
    int count;
} ad_queries;

/* Read the class folders of `dir` (option `opt`, for messages) as `img`
 * says; 2 .. max_ways classes are accepted. EX_CONTINUE or EX_FAILURE. */
int ad_support_load(ad_support *s, const char *opt, const char *dir,
                    const reptile_image_options *img, int max_ways);
void ad_support_free(ad_support *s);

/* Read `n` arguments, each a PNG file or a folder of them (its *.png files,
 * hidden ones skipped, as reptile_dataset_open_folder() picks a class's).
 * EX_CONTINUE or EX_FAILURE. */
int ad_queries_load(ad_queries *q, char *const *args, int n, const reptile_image_options *img);
void ad_queries_free(ad_queries *q);

#endif
