/* The program every consumer project of tests/consumers/ builds: it checks
 * that header and library agree, that errors carry a message, and runs the
 * Omniglot network once (convolutions and GEMM, so a static link must pull
 * in OpenBLAS). Compiles as C11 and as C++. */
#include <reptile/reptile.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

int main(void)
{
    if (reptile_version_number() != REPTILE_VERSION_NUMBER) {
        fprintf(stderr, "header %s but library %s\n", REPTILE_VERSION_STRING,
                reptile_version_string());
        return 1;
    }
    reptile_dataset *ds = NULL;
    if (reptile_dataset_open_omniglot(&ds, "/nonexistent/omniglot", "background", NULL) == 0 ||
        reptile_error_last()[0] == '\0') {
        fprintf(stderr, "opening a missing folder should fail with a message\n");
        return 1;
    }
    reptile_model *net = NULL;
    int h = 0, w = 0, c = 0;
    if (reptile_model_new_omniglot(&net, 5, 1) != 0) {
        fprintf(stderr, "model: %s\n", reptile_error_last());
        return 1;
    }
    reptile_model_input_shape(net, &h, &w, &c);
    const int batch = 2;
    float *x = (float *)calloc((size_t)batch * (size_t)(h * w * c), sizeof *x);
    float probs[2 * 5];
    int rc = x ? reptile_model_predict(net, x, batch, REPTILE_BN_BATCH, probs) : REPTILE_ENOMEM;
    free(x);
    reptile_model_free(net);
    if (rc != 0) {
        fprintf(stderr, "predict: %s\n", reptile_error_last());
        return 1;
    }
    double sum = 0.0;
    for (int k = 0; k < 5; k++)
        sum += probs[k];
    if (fabs(sum - 1.0) > 1e-4) {
        fprintf(stderr, "probabilities sum to %f\n", sum);
        return 1;
    }
    printf("consumer ok: libreptile %s, %dx%dx%d input, probabilities sum to 1\n",
           reptile_version_string(), h, w, c);
    return 0;
}
