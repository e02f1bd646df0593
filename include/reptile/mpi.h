/**
 * @file mpi.h
 * @brief Data-parallel meta-training over MPI (the separate library
 *        libreptile-mpi: `pkg-config --cflags --libs reptile-mpi`).
 *
 * The core library knows nothing of MPI: reptile_meta_options carries an
 * allreduce callback, the worker's rank and the world size. This adapter
 * supplies them from an MPI communicator:
 *
 * @code
 * MPI_Init(&argc, &argv);
 * reptile_mpi *mpi = NULL;
 * reptile_mpi_new(&mpi, MPI_COMM_WORLD);
 * reptile_mpi_set_timeout(mpi, 120.0);         // optional failure guard
 * reptile_mpi_options(mpi, &opts);            // rank, world_size, allreduce
 * reptile_mpi_broadcast_model(mpi, model, 0); // everyone starts from rank 0's weights
 * reptile_meta_new(&meta, model, &opts);
 * reptile_meta_train(meta, train, test, iterations);
 * ...
 * reptile_meta_free(meta);
 * reptile_mpi_free(mpi);                      // before MPI_Finalize
 * MPI_Finalize();
 * @endcode
 *
 * Each rank runs opts.meta_batch tasks per meta-iteration (task streams
 * keyed by the global task index rank * meta_batch + t), so world_size
 * ranks with meta-batch m draw the tasks of one process with meta-batch
 * world_size * m and reach the same weights up to float summation order.
 *
 * The adapter works on a duplicate of the communicator with the error
 * handler MPI_ERRORS_RETURN, so MPI failures come back as status codes
 * (REPTILE_EIO) with a message from reptile_mpi_error_last(), never as an
 * abort inside the library. With a timeout set, a collective that does not
 * complete in time (a rank died, hung or was stopped) fails with
 * REPTILE_EIO instead of waiting forever; the communicator is then
 * unusable and the program should end the job with MPI_Abort().
 *
 * Threading: MPI must be initialised with at least MPI_THREAD_FUNNELED and
 * the adapter used from the thread that initialised it (libreptile calls
 * the allreduce from the thread that calls reptile_meta_step()).
 */
#ifndef REPTILE_MPI_H
#define REPTILE_MPI_H

#include <mpi.h>

#include "reptile/common.h"
#include "reptile/meta.h"
#include "reptile/model.h"

REPTILE_BEGIN_DECLS

/** Opaque MPI adapter: a private duplicate of a communicator plus settings. */
typedef struct reptile_mpi reptile_mpi;

/**
 * @brief Create an adapter on a duplicate of @p comm (collective over
 *        @p comm: every rank calls it).
 *
 * The duplicate gets the error handler MPI_ERRORS_RETURN; @p comm itself is
 * not changed. No timeout is set (collectives wait as long as MPI does).
 * @param out  Receives the adapter; NULL on failure. Free with
 *             reptile_mpi_free() before MPI_Finalize().
 * @param comm Communicator of the workers (usually MPI_COMM_WORLD).
 * @return 0, REPTILE_EINVAL (NULL, or MPI not initialised),
 *         REPTILE_ENOMEM, REPTILE_EIO (an MPI call failed).
 */
REPTILE_API int reptile_mpi_new(reptile_mpi **out, MPI_Comm comm);

/**
 * @brief Bound the time one collective of the adapter may take.
 *
 * With @p seconds > 0 every allreduce and broadcast is started
 * non-blocking (MPI_Iallreduce, MPI_Ibcast) and polled until it completes
 * or the deadline passes; then it fails with REPTILE_EIO and a message
 * naming the timeout, and every later collective of this adapter fails
 * with REPTILE_ESTATE. 0 (the default) waits without limit in the blocking
 * MPI_Allreduce / MPI_Bcast.
 *
 * Choose a bound well above the longest gap between two meta-iterations of
 * the slowest rank (rank 0 also evaluates between iterations).
 * @return 0, REPTILE_EINVAL (NULL, negative or non-finite).
 */
REPTILE_API int reptile_mpi_set_timeout(reptile_mpi *mpi, double seconds);

/** @brief This process's rank in the adapter's communicator (-1 for NULL). */
REPTILE_API int reptile_mpi_rank(const reptile_mpi *mpi);

/** @brief Number of ranks in the adapter's communicator (-1 for NULL). */
REPTILE_API int reptile_mpi_world_size(const reptile_mpi *mpi);

/**
 * @brief Make @p opts data-parallel over the adapter's ranks: sets
 *        `rank`, `world_size`, `allreduce` (reptile_mpi_allreduce) and
 *        `allreduce_user` (@p mpi, which must outlive the meta-learner).
 *
 * `meta_batch` stays the per-rank meta-batch: the effective meta-batch is
 * meta_batch * world_size.
 * @return 0, REPTILE_EINVAL (NULL), REPTILE_EVERSION (@p opts older than
 *         version 1 of the data-parallel fields).
 */
REPTILE_API int reptile_mpi_options(reptile_mpi *mpi, reptile_meta_options *opts);

/**
 * @brief The reptile_allreduce_fn: sums @p count floats over all ranks in
 *        place (MPI_Allreduce with MPI_IN_PLACE, MPI_FLOAT, MPI_SUM, in
 *        chunks of at most INT_MAX elements).
 * @param data  @p count floats, replaced by their sum over the ranks.
 * @param count Number of floats (the same on every rank).
 * @param user  The reptile_mpi adapter.
 * @return 0, REPTILE_EINVAL, REPTILE_EIO (MPI error or timeout),
 *         REPTILE_ESTATE (an earlier collective of the adapter failed).
 */
REPTILE_API int reptile_mpi_allreduce(float *data, size_t count, void *user);

/**
 * @brief Copy @p root's parameters and BatchNorm state into @p model on
 *        every rank (collective), so that all ranks start from the same
 *        weights.
 * @param mpi   The adapter.
 * @param model A model with the same architecture on every rank.
 * @param root  Rank whose weights are sent.
 * @return 0; REPTILE_EINVAL (NULL, bad root); REPTILE_ESHAPE (the ranks'
 *         models differ in size: checked before any weight is sent);
 *         REPTILE_ENOMEM; REPTILE_EIO / REPTILE_ESTATE as for
 *         reptile_mpi_allreduce().
 */
REPTILE_API int reptile_mpi_broadcast_model(reptile_mpi *mpi, reptile_model *model, int root);

/**
 * @brief Check (collectively) that every rank trains with the same
 *        settings and model size.
 *
 * Compares a hash of every numeric field of @p opts that must agree across
 * ranks (all but `threads`, `eval_interval`, `rank` and the callbacks) and
 * of the model's parameter and state counts. A rank started with other
 * options would otherwise silently average a different computation.
 * @return 0; REPTILE_EINVAL (NULL); REPTILE_ESTATE (the ranks disagree);
 *         REPTILE_EIO (MPI failure).
 */
REPTILE_API int reptile_mpi_check_consistent(reptile_mpi *mpi, const reptile_meta_options *opts,
                                             const reptile_model *model);

/**
 * @brief Message describing the last failure of a reptile_mpi_ function on
 *        the calling thread ("" when none). Thread-local; do not free.
 */
REPTILE_API const char *reptile_mpi_error_last(void);

/**
 * @brief Free the adapter and its duplicate communicator (call before
 *        MPI_Finalize). After a failed collective the duplicate is not
 *        freed (that would wait for the missing ranks). NULL is a no-op.
 */
REPTILE_API void reptile_mpi_free(reptile_mpi *mpi);

REPTILE_END_DECLS

#endif /* REPTILE_MPI_H */
