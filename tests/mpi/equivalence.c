/* Equivalence of data-parallel and single-process meta-training, under
 * mpirun -np P (P >= 2). For each case below:
 *
 *  1. every rank builds the small network from a rank-dependent seed (so the
 *     broadcast is what makes them equal), broadcasts rank 0's weights and
 *     meta-trains K iterations with meta-batch M per rank;
 *  2. rank 0 gathers every rank's weights (parameters + BatchNorm state)
 *     and checks that they are bitwise identical: every rank applies the
 *     same update to the same allreduced sum;
 *  3. rank 0 then meta-trains alone (world_size 1) with meta-batch P * M
 *     from the same initial weights and compares.
 *
 * Both runs draw exactly the same tasks (streams keyed by the global task
 * index rank * M + t) and adapt them identically; only the order of the
 * float sum over tasks can differ:
 *
 *  - case "adam-m1": the paper's semantics (Adam, beta1 0, optimizer state
 *    carried per task slot), M = 1 on 2 ranks. The sum is t0 + t1 in both
 *    runs (a two-operand float sum is exact-commutative), so the weights
 *    must be BITWISE equal after K iterations. With P > 2 ranks MPI's
 *    reduction order is its own: 1e-5 relative is then required.
 *  - case "sgd-m2": plain SGD, M = 2. The single process adds
 *    ((t0 + t1) + t2) + t3, the workers (t0 + t1) + (t2 + t3): a last-bit
 *    difference per iteration. Tolerance: |a - b| <= 1e-5 * max(1, |b|).
 *    (Not with Adam at M = 2: Adam with beta1 0 steps by about
 *    lr * g / |g| and so turns a last-bit difference in a near-zero
 *    gradient into a full step of lr; perturbing all initial weights by one
 *    ulp moves a single process's weights by 5e-3 after 6 iterations.)
 *
 * As a control, a single process with meta-batch M (other tasks) must NOT
 * agree within 1e-5: the comparison is sensitive.
 *
 * Exit status: 0 pass, 1 fail (every rank returns rank 0's verdict). */
#include <reptile/mpi.h>

#include "common.h"

#include <math.h>
#include <string.h>

enum { K = 6, INIT_SEED = 21 };

typedef int (*options_fn)(reptile_meta_options *o, int meta_batch);

typedef struct test_case {
    const char *name;
    options_fn options;
    int m;           /* meta-batch per rank */
    int bitwise;     /* with 2 ranks: require bitwise equality */
} test_case;

static int train(reptile_model *m, reptile_meta_options *o, reptile_dataset *ds)
{
    reptile_meta *meta = NULL;
    int rc = reptile_meta_new(&meta, m, o);
    if (rc == 0)
        rc = reptile_meta_train(meta, ds, NULL, K);
    if (rc)
        fprintf(stderr, "meta-training (world_size %d, rank %d): %s\n", o->world_size, o->rank,
                reptile_error_last());
    reptile_meta_free(meta);
    return rc;
}

static int weights(const reptile_model *m, float *out, size_t np, size_t ns)
{
    return reptile_model_get_params(m, out, np) || reptile_model_get_state(m, out + np, ns);
}

/* Largest difference relative to max(1, |ref|). */
static double max_rel_diff(const float *a, const float *ref, size_t n)
{
    double worst = 0.0;
    for (size_t i = 0; i < n; ++i) {
        double d = fabs((double)a[i] - (double)ref[i]) / fmax(1.0, fabs((double)ref[i]));
        if (d > worst)
            worst = d;
    }
    return worst;
}

/* Rank 0: one process, world_size 1, meta-batch mb, from seed INIT_SEED. */
static int single_process(const test_case *tc, int mb, reptile_dataset *ds, float *init, float *out,
                          size_t np, size_t ns)
{
    reptile_model *s = t_small_net(INIT_SEED);
    reptile_meta_options so;
    int rc = !s || tc->options(&so, mb);
    so.threads = 2; /* results do not depend on the thread count */
    if (rc == 0 && init)
        rc = weights(s, init, np, ns);
    if (rc == 0)
        rc = train(s, &so, ds);
    if (rc == 0)
        rc = weights(s, out, np, ns);
    reptile_model_free(s);
    return rc;
}

/* Collective; returns 1 (pass) or 0 on rank 0, 1 elsewhere. */
static int run_case(reptile_mpi *mpi, const test_case *tc, reptile_dataset *ds)
{
    const int rank = reptile_mpi_rank(mpi), size = reptile_mpi_world_size(mpi);
    reptile_model *m = t_small_net(INIT_SEED + (uint64_t)rank);
    if (!m)
        MPI_Abort(MPI_COMM_WORLD, 1);
    const size_t np = reptile_model_num_params(m), ns = reptile_model_num_state(m), n = np + ns;
    float *mine = malloc(n * sizeof *mine);
    float *all = rank == 0 ? malloc((size_t)size * n * sizeof *all) : NULL;
    if (!mine || (rank == 0 && !all))
        MPI_Abort(MPI_COMM_WORLD, 1);
    reptile_meta_options o;
    if (tc->options(&o, tc->m) != 0 || reptile_mpi_options(mpi, &o) != 0 ||
        reptile_mpi_broadcast_model(mpi, m, 0) != 0 || reptile_mpi_check_consistent(mpi, &o, m) != 0) {
        fprintf(stderr, "rank %d: setup: %s %s\n", rank, reptile_error_last(),
                reptile_mpi_error_last());
        MPI_Abort(MPI_COMM_WORLD, 1);
    }
    if (train(m, &o, ds) != 0 || weights(m, mine, np, ns) != 0)
        MPI_Abort(MPI_COMM_WORLD, 1);
    MPI_Gather(mine, (int)n, MPI_FLOAT, all, (int)n, MPI_FLOAT, 0, MPI_COMM_WORLD);
    int ok = 1;
    if (rank == 0) {
        printf("[%s] %d ranks x meta-batch %d, %d iterations, %zu parameters + %zu state values\n",
               tc->name, size, tc->m, K, np, ns);
        for (int r = 1; r < size; ++r)
            if (memcmp(all, all + (size_t)r * n, n * sizeof *all) != 0) {
                size_t i = 0;
                while (all[i] == all[(size_t)r * n + i])
                    ++i;
                fprintf(stderr, "FAIL [%s]: rank %d's weights differ from rank 0's (index %zu: "
                                "%.9g vs %.9g)\n",
                        tc->name, r, i, (double)all[(size_t)r * n + i], (double)all[i]);
                ok = 0;
            }
        if (ok)
            printf("[%s] all %d ranks hold bitwise identical weights\n", tc->name, size);
        float *single = malloc(n * sizeof *single), *control = malloc(n * sizeof *control);
        float *init = malloc(n * sizeof *init);
        if (!single || !control || !init ||
            single_process(tc, size * tc->m, ds, init, single, np, ns) != 0 ||
            single_process(tc, tc->m, ds, NULL, control, np, ns) != 0) {
            fprintf(stderr, "FAIL [%s]: single-process reference run failed\n", tc->name);
            ok = 0;
        } else {
            const int bitwise = tc->bitwise && size == 2;
            const int equal = memcmp(all, single, n * sizeof *all) == 0;
            const double d = max_rel_diff(all, single, n), moved = max_rel_diff(init, single, n);
            const double dc = max_rel_diff(control, single, n);
            printf("[%s] vs one process x meta-batch %d: max relative difference %.3g, bitwise "
                   "%s (required: %s)\n",
                   tc->name, size * tc->m, d, equal ? "equal" : "different",
                   bitwise ? "bitwise" : "1e-5 relative");
            printf("[%s] training moved the weights by up to %.3g; control (one process, "
                   "meta-batch %d) differs by %.3g\n",
                   tc->name, moved, tc->m, dc);
            if (bitwise ? !equal : !(d <= 1e-5)) {
                fprintf(stderr, "FAIL [%s]: data-parallel weights differ from the single process "
                                "(%.3g)\n", tc->name, d);
                ok = 0;
            }
            if (!(moved > 1e-3) || !(dc > 1e-5)) {
                fprintf(stderr, "FAIL [%s]: the comparison is not sensitive (moved %.3g, control "
                                "%.3g)\n", tc->name, moved, dc);
                ok = 0;
            }
        }
        free(single);
        free(control);
        free(init);
    }
    free(mine);
    free(all);
    reptile_model_free(m);
    return ok;
}

int main(int argc, char **argv)
{
    int provided = 0;
    MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided);
    reptile_mpi *mpi = NULL;
    if (reptile_mpi_new(&mpi, MPI_COMM_WORLD) != 0) {
        fprintf(stderr, "reptile_mpi_new: %s\n", reptile_mpi_error_last());
        MPI_Abort(MPI_COMM_WORLD, 1);
    }
    const int rank = reptile_mpi_rank(mpi), size = reptile_mpi_world_size(mpi);
    reptile_mpi_set_timeout(mpi, 60.0);
    int ok = 1;
    if (size < 2) {
        fprintf(stderr, "equivalence: run under mpirun -np 2 (or more), got %d rank\n", size);
        ok = 0;
    }
    reptile_dataset *ds = t_synthetic_set(9);
    if (!ds)
        MPI_Abort(MPI_COMM_WORLD, 1);
    static const test_case cases[] = {
        {"adam-m1", t_options, 1, 1},
        {"sgd-m2", t_options_sgd, 2, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; ++i)
        ok &= run_case(mpi, &cases[i], ds);
    MPI_Bcast(&ok, 1, MPI_INT, 0, MPI_COMM_WORLD);
    reptile_dataset_free(ds);
    reptile_mpi_free(mpi);
    MPI_Finalize();
    if (rank == 0)
        printf("%s\n", ok ? "PASS" : "FAIL");
    return ok ? 0 : 1;
}
