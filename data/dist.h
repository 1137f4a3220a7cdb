/*
data/dist.h — data-parallel ranks over MPI (`make MPI=1`, `mpirun -np N ./train_rlme ...`).

Every rank holds the whole model and the same optimizer state. A step's batch is cut
into N contiguous slices (whole groups of G completions in RL, rows in pretraining);
each rank runs forward and backward on its slice, the gradients are summed across
ranks in one flat buffer (MPI_Allreduce), and every rank applies the same AdamW step,
so the weights stay identical. Sampling, rewards and log-probs of a slice are the same
numbers a single process computes for those rows (model.h's kernels compute each row
alone, and each completion draws from its own RNG stream): N changes the speed, and
the order in which the gradient's terms are summed.

Rank 0 alone writes files (write_file_atomic and save_model_or_die ask dist_writes())
and prints; the other ranks' stdout and stderr go to /dev/null, but for die()'s line
(dist_err()). Included by train_rlme.c before die(). Without RLME_MPI every function
below is the single-process case: rank 0 of 1, and no MPI header is needed.
*/
#include <time.h>
#ifdef RLME_MPI
#include <mpi.h>
#endif

static int g_rank = 0, g_ranks = 1, g_local_ranks = 1; // (local: on this machine)
static FILE *g_err_stream = NULL; // the real stderr of a rank whose stderr is /dev/null
static double g_allreduce_seconds = 0.0;

static FILE *dist_err(void) { return g_err_stream ? g_err_stream : stderr; }

// 1 on the rank that writes files and prints (rank 0)
static int dist_writes(void) { return g_rank == 0; }

// the slice [*lo, *hi) of n items (groups, rows) that rank r works on
static void dist_slice(int n, int r, int *lo, int *hi) {
    *lo = (int)((long)n * r / g_ranks);
    *hi = (int)((long)n * (r + 1) / g_ranks);
}

// FNV-1a over bytes, chained from h (what the ranks compare)
static uint64_t dist_hash(uint64_t h, const void *data, size_t n) {
    const unsigned char *p = (const unsigned char *)data;
    for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 0x100000001B3ULL;
    return h;
}
#define DIST_HASH_START 0xCBF29CE484222325ULL

#ifdef RLME_MPI
static void dist_finalize(void) {
    int done;
    MPI_Finalized(&done);
    if (!done) MPI_Finalize();
}

// MPI_Init, rank and size; the ranks other than 0 get /dev/null for stdout and stderr.
// Every exit finalizes (atexit); die() ends the whole job (dist_exit).
static void dist_init(int *argc, char ***argv) {
    MPI_Init(argc, argv);
    atexit(dist_finalize);
    MPI_Comm_rank(MPI_COMM_WORLD, &g_rank);
    MPI_Comm_size(MPI_COMM_WORLD, &g_ranks);
    MPI_Comm local;
    MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &local);
    MPI_Comm_size(local, &g_local_ranks);
    MPI_Comm_free(&local);
    if (g_rank > 0) {
        int fd = dup(STDERR_FILENO);
        g_err_stream = fd >= 0 ? fdopen(fd, "w") : NULL;
        if (!freopen("/dev/null", "w", stderr) || !freopen("/dev/null", "w", stdout)) exit(2);
    }
}

// Ends the process after an error (die): with other ranks, the whole job, since they may
// be waiting in a collective for this one.
static void dist_exit(int code) {
    if (g_ranks > 1) MPI_Abort(MPI_COMM_WORLD, code);
    exit(code);
}

// x[0..n) = the sum over ranks of x[0..n)   (the same on every rank; the gradients).
// The seconds spent in it add up in g_allreduce_seconds.
static void dist_sum_floats(float *x, size_t n) {
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (size_t i = 0; g_ranks > 1 && i < n; i += 1 << 30) {
        int m = n - i < (1u << 30) ? (int)(n - i) : 1 << 30;
        MPI_Allreduce(MPI_IN_PLACE, x + i, m, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    g_allreduce_seconds += (t1.tv_sec - t0.tv_sec) + 1e-9 * (t1.tv_nsec - t0.tv_nsec);
}
static void dist_sum_doubles(double *x, int n) {
    if (g_ranks > 1) MPI_Allreduce(MPI_IN_PLACE, x, n, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
}
// 1 on every rank when flag is set on any
static int dist_any(int flag) {
    if (g_ranks > 1) MPI_Allreduce(MPI_IN_PLACE, &flag, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    return flag;
}
static void dist_barrier(void) {
    if (g_ranks > 1) MPI_Barrier(MPI_COMM_WORLD);
}

// Each rank filled items [lo, hi) of buf (dist_slice(n, its rank) of n items of `size` bytes);
// afterwards every rank holds all n.
static void dist_gather(void *buf, int n, size_t size) {
    if (g_ranks == 1) return;
    int *count = malloc(g_ranks * sizeof(int)), *displ = malloc(g_ranks * sizeof(int));
    for (int r = 0; r < g_ranks; r++) {
        int lo, hi;
        dist_slice(n, r, &lo, &hi);
        if (hi * size > INT_MAX) {
            fprintf(dist_err(), "train_rlme: error: %d items of %zu bytes are too many for one MPI message\n", n, size);
            dist_exit(2);
        }
        count[r] = (int)((hi - lo) * size);
        displ[r] = (int)(lo * size);
    }
    MPI_Allgatherv(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, buf, count, displ, MPI_BYTE, MPI_COMM_WORLD);
    free(count); free(displ);
}

// Every rank passes its hash of `what`; where any rank's differs from rank 0's, all
// stop, rank 0 with one line naming what, the first rank that differs, and the hint.
static void dist_agree(const char *what, const char *hint, uint64_t h) {
    if (g_ranks == 1) return;
    uint64_t *all = malloc(g_ranks * sizeof(uint64_t));
    MPI_Allgather(&h, 1, MPI_UINT64_T, all, 1, MPI_UINT64_T, MPI_COMM_WORLD);
    int differs = 0;
    for (int r = 1; r < g_ranks && !differs; r++) if (all[r] != all[0]) differs = r;
    free(all);
    if (!differs) return;
    if (g_rank == 0)
        fprintf(stderr, "train_rlme: error: rank %d of %d disagrees with rank 0 on %s: %s\n", differs, g_ranks, what,
                hint);
    exit(2);
}
#else
static void dist_init(int *argc, char ***argv) { (void)argc; (void)argv; }
static void dist_exit(int code) { exit(code); }
static void dist_sum_floats(float *x, size_t n) { (void)x; (void)n; }
static void dist_sum_doubles(double *x, int n) { (void)x; (void)n; }
static int dist_any(int flag) { return flag; }
static void dist_barrier(void) {}
static void dist_gather(void *buf, int n, size_t size) { (void)buf; (void)n; (void)size; }
static void dist_agree(const char *what, const char *hint, uint64_t h) { (void)what; (void)hint; (void)h; }
#endif
