/* A program outside the project, built against the installed library with
 * pkg-config: proves headers, reptile.pc and the shared library work. */
#include <reptile/reptile.h>

#include <stdio.h>
#include <string.h>

int main(void)
{
    if (reptile_version_number() != REPTILE_VERSION_NUMBER) {
        fprintf(stderr, "header %s but library %s\n", REPTILE_VERSION_STRING,
                reptile_version_string());
        return 1;
    }
    if (strcmp(reptile_strerror(REPTILE_EINVAL), "invalid argument") != 0)
        return 1;
    reptile_dataset *ds = NULL;
    int rc = reptile_dataset_open_omniglot(&ds, "/nonexistent/omniglot", "background", NULL);
    if (rc == 0 || ds != NULL || reptile_error_last()[0] == '\0') {
        fprintf(stderr, "opening a missing folder should fail with a message\n");
        return 1;
    }
    reptile_dataset_free(NULL);
    printf("consumer ok: libreptile %s (%s)\n", reptile_version_string(), reptile_error_last());
    return 0;
}
