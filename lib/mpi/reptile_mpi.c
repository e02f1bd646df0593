/* libreptile-mpi: the allreduce hook, rank and world size of
 * reptile_meta_options from an MPI communicator, plus a weight broadcast
 * and a failure guard (MPI_ERRORS_RETURN, optional per-collective
 * timeout). See include/reptile/mpi.h. */
#include "reptile/mpi.h"
#include "reptile/error.h"
#include "core/clock.h"

#include <limits.h>
#include <math.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct reptile_mpi {
    MPI_Comm comm;     /* private duplicate, MPI_ERRORS_RETURN */
    int rank, size;
    double timeout_s;  /* 0 = blocking collectives, no limit */
    int broken;        /* a collective failed or timed out */
};

static _Thread_local char g_msg[512];

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static int fail(int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(g_msg, sizeof g_msg, fmt, ap);
    va_end(ap);
    return code;
}

const char *reptile_mpi_error_last(void) { return g_msg; }

static const char *mpi_message(int rc, char *buf, size_t size)
{
    char s[MPI_MAX_ERROR_STRING];
    int len = 0;
    if (MPI_Error_string(rc, s, &len) != MPI_SUCCESS)
        snprintf(s, sizeof s, "MPI error %d", rc);
    snprintf(buf, size, "%s", s);
    return buf;
}

int reptile_mpi_new(reptile_mpi **out, MPI_Comm comm)
{
    if (!out)
        return fail(REPTILE_EINVAL, "reptile_mpi_new: NULL out");
    *out = NULL;
    int inited = 0, finalized = 0;
    MPI_Initialized(&inited);
    MPI_Finalized(&finalized);
    if (!inited || finalized)
        return fail(REPTILE_EINVAL, "reptile_mpi_new: MPI is not initialised (call MPI_Init first)");
    if (comm == MPI_COMM_NULL)
        return fail(REPTILE_EINVAL, "reptile_mpi_new: MPI_COMM_NULL");
    reptile_mpi *m = calloc(1, sizeof *m);
    if (!m)
        return fail(REPTILE_ENOMEM, "reptile_mpi_new: out of memory");
    char buf[MPI_MAX_ERROR_STRING];
    int rc = MPI_Comm_dup(comm, &m->comm);
    if (rc != MPI_SUCCESS) {
        free(m);
        return fail(REPTILE_EIO, "reptile_mpi_new: MPI_Comm_dup failed: %s",
                    mpi_message(rc, buf, sizeof buf));
    }
    if ((rc = MPI_Comm_set_errhandler(m->comm, MPI_ERRORS_RETURN)) != MPI_SUCCESS ||
        (rc = MPI_Comm_rank(m->comm, &m->rank)) != MPI_SUCCESS ||
        (rc = MPI_Comm_size(m->comm, &m->size)) != MPI_SUCCESS) {
        MPI_Comm_free(&m->comm);
        free(m);
        return fail(REPTILE_EIO, "reptile_mpi_new: %s", mpi_message(rc, buf, sizeof buf));
    }
    *out = m;
    return 0;
}

int reptile_mpi_set_timeout(reptile_mpi *mpi, double seconds)
{
    if (!mpi)
        return fail(REPTILE_EINVAL, "reptile_mpi_set_timeout: NULL adapter");
    if (!(seconds >= 0.0) || !isfinite(seconds))
        return fail(REPTILE_EINVAL, "reptile_mpi_set_timeout: seconds must be finite and >= 0, got %g",
                    seconds);
    mpi->timeout_s = seconds;
    return 0;
}

int reptile_mpi_rank(const reptile_mpi *mpi) { return mpi ? mpi->rank : -1; }

int reptile_mpi_world_size(const reptile_mpi *mpi) { return mpi ? mpi->size : -1; }

int reptile_mpi_options(reptile_mpi *mpi, reptile_meta_options *opts)
{
    if (!mpi || !opts)
        return fail(REPTILE_EINVAL, "reptile_mpi_options: NULL argument");
    if (opts->version < 1)
        return fail(REPTILE_EVERSION,
                    "reptile_mpi_options: options version %u has no data-parallel fields",
                    opts->version);
    opts->rank = mpi->rank;
    opts->world_size = mpi->size;
    opts->allreduce = reptile_mpi_allreduce;
    opts->allreduce_user = mpi;
    return 0;
}

/* Waits for @p req until the adapter's deadline. MPI progresses only
 * inside MPI calls, so the loop keeps calling MPI_Test; after a short spin
 * it yields the CPU between tests (ranks may share cores). */
static int wait_bounded(reptile_mpi *mpi, MPI_Request *req, const char *what, size_t count)
{
    const double start = rp_now_s(), deadline = start + mpi->timeout_s;
    char buf[MPI_MAX_ERROR_STRING];
    for (unsigned long polls = 0;; ++polls) {
        int done = 0;
        int rc = MPI_Test(req, &done, MPI_STATUS_IGNORE);
        if (rc != MPI_SUCCESS) {
            mpi->broken = 1;
            return fail(REPTILE_EIO, "%s of %zu floats failed on rank %d of %d: %s", what, count,
                        mpi->rank, mpi->size, mpi_message(rc, buf, sizeof buf));
        }
        if (done)
            return 0;
        if (polls > 1000)
            sched_yield();
        if ((polls & 63) == 0 && rp_now_s() > deadline) {
            /* A started collective cannot be cancelled: the communicator is
             * finished and the job must be aborted. */
            mpi->broken = 1;
            return fail(REPTILE_EIO,
                        "%s of %zu floats did not complete within the %g s timeout on rank %d of "
                        "%d: another rank has died, hung or is far slower; abort the job "
                        "(MPI_Abort)",
                        what, count, mpi->timeout_s, mpi->rank, mpi->size);
        }
    }
}

enum { OP_ALLREDUCE, OP_BCAST };

/* One collective over count floats, in chunks of at most INT_MAX. */
static int collective(reptile_mpi *mpi, int op, float *data, size_t count, int root)
{
    const char *what = op == OP_ALLREDUCE ? "allreduce" : "broadcast";
    if (mpi->broken)
        return fail(REPTILE_ESTATE,
                    "%s on rank %d: an earlier collective failed or timed out; the communicator "
                    "is unusable",
                    what, mpi->rank);
    char buf[MPI_MAX_ERROR_STRING];
    for (size_t done = 0; done < count;) {
        size_t left = count - done;
        int n = left > (size_t)INT_MAX ? INT_MAX : (int)left;
        float *p = data + done;
        int rc;
        if (mpi->timeout_s > 0.0) {
            MPI_Request req;
            rc = op == OP_ALLREDUCE
                     ? MPI_Iallreduce(MPI_IN_PLACE, p, n, MPI_FLOAT, MPI_SUM, mpi->comm, &req)
                     : MPI_Ibcast(p, n, MPI_FLOAT, root, mpi->comm, &req);
            if (rc == MPI_SUCCESS) {
                int w = wait_bounded(mpi, &req, what, count);
                if (w)
                    return w;
            }
        } else {
            rc = op == OP_ALLREDUCE
                     ? MPI_Allreduce(MPI_IN_PLACE, p, n, MPI_FLOAT, MPI_SUM, mpi->comm)
                     : MPI_Bcast(p, n, MPI_FLOAT, root, mpi->comm);
        }
        if (rc != MPI_SUCCESS) {
            mpi->broken = 1;
            return fail(REPTILE_EIO, "%s of %zu floats failed on rank %d of %d: %s", what, count,
                        mpi->rank, mpi->size, mpi_message(rc, buf, sizeof buf));
        }
        done += (size_t)n;
    }
    return 0;
}

int reptile_mpi_allreduce(float *data, size_t count, void *user)
{
    reptile_mpi *mpi = user;
    if (!mpi || (!data && count))
        return fail(REPTILE_EINVAL, "reptile_mpi_allreduce: NULL argument");
    return collective(mpi, OP_ALLREDUCE, data, count, 0);
}

/* Collective check that a 64-bit value is equal on every rank. */
static int all_equal(reptile_mpi *mpi, uint64_t value, int *equal)
{
    uint64_t mn = 0, mx = 0;
    char buf[MPI_MAX_ERROR_STRING];
    int rc = MPI_Allreduce(&value, &mn, 1, MPI_UINT64_T, MPI_MIN, mpi->comm);
    if (rc == MPI_SUCCESS)
        rc = MPI_Allreduce(&value, &mx, 1, MPI_UINT64_T, MPI_MAX, mpi->comm);
    if (rc != MPI_SUCCESS) {
        mpi->broken = 1;
        return fail(REPTILE_EIO, "comparing settings across ranks failed on rank %d: %s", mpi->rank,
                    mpi_message(rc, buf, sizeof buf));
    }
    *equal = mn == mx;
    return 0;
}

int reptile_mpi_broadcast_model(reptile_mpi *mpi, reptile_model *model, int root)
{
    if (!mpi || !model)
        return fail(REPTILE_EINVAL, "reptile_mpi_broadcast_model: NULL argument");
    if (root < 0 || root >= mpi->size)
        return fail(REPTILE_EINVAL, "reptile_mpi_broadcast_model: root %d is not a rank (0..%d)",
                    root, mpi->size - 1);
    if (mpi->broken)
        return collective(mpi, OP_BCAST, NULL, 0, root);
    const size_t np = reptile_model_num_params(model), ns = reptile_model_num_state(model);
    int equal = 0;
    int rc = all_equal(mpi, ((uint64_t)np << 24) ^ (uint64_t)ns, &equal);
    if (rc)
        return rc;
    if (!equal)
        return fail(REPTILE_ESHAPE,
                    "reptile_mpi_broadcast_model: the ranks' models differ in size (rank %d has "
                    "%zu parameters and %zu state values)",
                    mpi->rank, np, ns);
    float *buf = malloc((np + ns + 1) * sizeof *buf);
    if (!buf)
        return fail(REPTILE_ENOMEM, "reptile_mpi_broadcast_model: out of memory");
    /* Every rank must join the broadcast even if its own copy-out fails. */
    int local = 0;
    if (mpi->rank == root &&
        (reptile_model_get_params(model, buf, np) != 0 ||
         reptile_model_get_state(model, buf + np, ns) != 0))
        local = fail(REPTILE_EINVAL, "reptile_mpi_broadcast_model: reading the weights: %s",
                     reptile_error_last());
    rc = collective(mpi, OP_BCAST, buf, np + ns, root);
    if (rc == 0 && local == 0 && mpi->rank != root &&
        (reptile_model_set_params(model, buf, np) != 0 ||
         reptile_model_set_state(model, buf + np, ns) != 0))
        rc = fail(REPTILE_EINVAL, "reptile_mpi_broadcast_model: setting the weights: %s",
                  reptile_error_last());
    free(buf);
    return rc ? rc : local;
}

/* FNV-1a over the bytes of a value. */
static uint64_t mix(uint64_t h, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; ++i) {
        h ^= b[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

/* FNV-1a digest of the options every worker must share: those the
 * library's option table flags REPTILE_OPTION_MATCH_WORKERS, by name and
 * value as text (exact for floats), and the options version. */
static int options_digest(const reptile_meta_options *opts, uint64_t *out)
{
    uint64_t h = mix(0xcbf29ce484222325ull, &opts->version, sizeof opts->version);
    for (int i = 0; i < reptile_meta_option_count(); ++i) {
        const reptile_option_info *in = reptile_meta_option_info(i);
        if (!(in->flags & REPTILE_OPTION_MATCH_WORKERS))
            continue;
        char value[64];
        if (reptile_meta_options_get(opts, in->name, value, sizeof value) != 0)
            return -1;
        h = mix(h, in->name, strlen(in->name) + 1);
        h = mix(h, value, strlen(value) + 1);
    }
    *out = h;
    return 0;
}

int reptile_mpi_check_consistent(reptile_mpi *mpi, const reptile_meta_options *opts,
                                 const reptile_model *model)
{
    if (!mpi || !opts || !model)
        return fail(REPTILE_EINVAL, "reptile_mpi_check_consistent: NULL argument");
    if (mpi->broken)
        return collective(mpi, OP_ALLREDUCE, NULL, 0, 0);
    /* Unreadable options still take part in the collective (a rank that
     * left early would leave the others waiting), with a digest no other
     * rank has. */
    uint64_t h = 0;
    const int unreadable = options_digest(opts, &h) != 0;
    if (unreadable)
        h = ~(uint64_t)mpi->rank;
    const size_t np = reptile_model_num_params(model), ns = reptile_model_num_state(model);
    h = mix(h, &np, sizeof np);
    h = mix(h, &ns, sizeof ns);
    int equal = 0;
    int rc = all_equal(mpi, h, &equal);
    if (rc)
        return rc;
    if (unreadable)
        return fail(REPTILE_EINVAL, "reptile_mpi_check_consistent: %s", reptile_error_last());
    if (!equal)
        return fail(REPTILE_ESTATE,
                    "the ranks were started with different meta-learning settings or model sizes "
                    "(rank %d: meta_batch %d, seed %llu, %zu parameters): start every rank with "
                    "the same command line",
                    mpi->rank, opts->meta_batch, (unsigned long long)opts->seed, np);
    return 0;
}

void reptile_mpi_free(reptile_mpi *mpi)
{
    if (!mpi)
        return;
    int finalized = 0;
    MPI_Finalized(&finalized);
    if (!mpi->broken && !finalized)
        MPI_Comm_free(&mpi->comm);
    free(mpi);
}
