/* reptile_mpi_check_consistent() under mpirun -np 2: the digest covers the
 * options the library's table flags REPTILE_OPTION_MATCH_WORKERS, and only
 * those. Every rank runs the same sequence of checks (each is a
 * collective); rank 1 changes one option at a time:
 *
 *  - an option every worker must share (lr, seed, optimizer, bn_mode) ->
 *    REPTILE_ESTATE on every rank;
 *  - one a worker may have of its own (threads, eval_interval) -> 0.
 *
 * Prints PASS on rank 0 when every check gave what it should. */
#include <reptile/mpi.h>

#include "common.h"

#include <string.h>

typedef struct change {
    const char *option, *value;
    int must_match;
} change;

static const change changes[] = {
    {NULL, NULL, 1},            /* nothing changed: consistent */
    {"lr", "0.0125", 1},
    {"seed", "2", 1},
    {"optimizer", "adam", 1},
    {"bn_mode", "batch", 1},
    {"threads", "2", 0},
    {"eval_interval", "0", 0},
};

int main(int argc, char **argv)
{
    int provided = 0, rank = 0, failures = 0;
    MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided);
    reptile_mpi *mpi = NULL;
    if (reptile_mpi_new(&mpi, MPI_COMM_WORLD) != 0) {
        fprintf(stderr, "reptile_mpi_new: %s\n", reptile_mpi_error_last());
        MPI_Abort(MPI_COMM_WORLD, 1);
    }
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    reptile_model *m = t_small_net(1);
    if (!m)
        MPI_Abort(MPI_COMM_WORLD, 1);
    for (size_t i = 0; i < sizeof changes / sizeof changes[0]; ++i) {
        const change *c = &changes[i];
        reptile_meta_options o;
        if (reptile_meta_options_preset(&o, REPTILE_META_OPTIONS_VERSION, "keras-tutorial") != 0 ||
            reptile_mpi_options(mpi, &o) != 0 ||
            (c->option && rank == 1 && reptile_meta_options_set(&o, c->option, c->value) != 0)) {
            fprintf(stderr, "rank %d: setup: %s\n", rank, reptile_error_last());
            MPI_Abort(MPI_COMM_WORLD, 1);
        }
        const int rc = reptile_mpi_check_consistent(mpi, &o, m);
        const int want = c->option && c->must_match ? REPTILE_ESTATE : 0;
        if (rc != want) {
            fprintf(stderr, "rank %d: %s = %s on rank 1: check gave %d, expected %d (%s)\n", rank,
                    c->option ? c->option : "(nothing)", c->value ? c->value : "", rc, want,
                    reptile_mpi_error_last());
            failures++;
        }
    }
    int total = 0;
    MPI_Allreduce(&failures, &total, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
    if (rank == 0)
        printf(total == 0 ? "PASS\n" : "FAIL\n");
    reptile_model_free(m);
    reptile_mpi_free(mpi);
    MPI_Finalize();
    return total == 0 ? 0 : 1;
}
