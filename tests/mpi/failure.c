/* A rank that fails mid-training must not leave the others waiting forever.
 *
 *   failure exit TIMEOUT_S   rank 1 calls _exit(3) after 2 meta-iterations
 *   failure hang TIMEOUT_S   rank 1 stops (sleeps forever) after 2 iterations
 *
 * The other ranks keep meta-training (2,000 iterations, far longer than the
 * test allows). Expected: the job ends quickly with a non-zero status: for
 * "exit" because mpirun notices the dead process and kills the job, for
 * "hang" (a process mpirun cannot tell from a slow one) because the
 * surviving ranks' allreduce times out after TIMEOUT_S seconds, they report
 * it and call MPI_Abort. tests/mpi/run-failure.sh checks time, status and
 * messages. */
#include <reptile/mpi.h>

#include "common.h"

#include <string.h>
#include <unistd.h>

static const char *g_mode;

static int on_progress(const reptile_progress *p, void *user)
{
    int rank = *(const int *)user;
    if (rank == 1 && p->iteration == 2) {
        fprintf(stderr, "failure test: rank 1 %s after %d iterations\n",
                strcmp(g_mode, "exit") == 0 ? "exits with status 3" : "hangs", p->iteration);
        fflush(stderr);
        if (strcmp(g_mode, "exit") == 0)
            _exit(3);
        for (;;)
            sleep(1000);
    }
    return 0;
}

int main(int argc, char **argv)
{
    int provided = 0;
    MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided);
    if (argc != 3 || (strcmp(argv[1], "exit") != 0 && strcmp(argv[1], "hang") != 0)) {
        fprintf(stderr, "usage: failure exit|hang TIMEOUT_S\n");
        MPI_Abort(MPI_COMM_WORLD, 2);
    }
    g_mode = argv[1];
    reptile_mpi *mpi = NULL;
    if (reptile_mpi_new(&mpi, MPI_COMM_WORLD) != 0 ||
        reptile_mpi_set_timeout(mpi, atof(argv[2])) != 0) {
        fprintf(stderr, "failure test: %s\n", reptile_mpi_error_last());
        MPI_Abort(MPI_COMM_WORLD, 1);
    }
    int rank = reptile_mpi_rank(mpi);
    reptile_dataset *ds = t_synthetic_set(9);
    reptile_model *m = t_small_net(5);
    reptile_meta_options o;
    reptile_meta *meta = NULL;
    if (!ds || !m || t_options(&o, 2) != 0 || reptile_mpi_options(mpi, &o) != 0)
        MPI_Abort(MPI_COMM_WORLD, 1);
    o.meta_iters = 2000;
    o.progress = on_progress;
    o.progress_user = &rank;
    if (reptile_mpi_broadcast_model(mpi, m, 0) != 0 || reptile_meta_new(&meta, m, &o) != 0)
        MPI_Abort(MPI_COMM_WORLD, 1);
    int rc = reptile_meta_train(meta, ds, NULL, o.meta_iters);
    if (rc != 0) {
        /* What a real program should do: say what happened, end the job. */
        fprintf(stderr, "failure test: rank %d: meta-training failed at iteration %d: %s (%s)\n",
                rank, reptile_meta_iteration(meta), reptile_error_last(), reptile_mpi_error_last());
        fflush(stderr);
        MPI_Abort(MPI_COMM_WORLD, 1);
    }
    fprintf(stderr, "failure test: rank %d finished all iterations: the failure went unnoticed\n",
            rank);
    reptile_meta_free(meta);
    reptile_model_free(m);
    reptile_dataset_free(ds);
    reptile_mpi_free(mpi);
    MPI_Finalize();
    return 0;
}
