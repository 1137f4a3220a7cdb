// Benchmark of the GEMM core of model.h against OpenBLAS sgemm at the model's shapes (make bench).
//   cc -O3 -march=native -fopenmp dev/bench_matmul.c -lopenblas -lm -o bench_matmul
//   env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE ./bench_matmul [threads...]   (default: 1 2)
// For each shape and product: median GFLOP/s over several timed reps after a warmup,
// ours vs OpenBLAS, their ratio, and ours as % of the FMA peak of the threads used, measured
// by model.h's mm_peak_gflops (the kernel's own FMAs on this CPU, as `train_rlme bench` does).
#define _POSIX_C_SOURCE 200112L
#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "../model.h" // the GEMM core lives in model.h


extern char *openblas_get_corename(void);
extern void openblas_set_num_threads(int);
extern char *openblas_get_config(void);

// With 1 thread we time the calling thread's CPU time, not wall time: the machine is shared,
// and a descheduled slice would otherwise count against whichever library it hit.
// With more threads, wall time (the libraries are alternated, see bench()).
static clockid_t bench_clock = CLOCK_MONOTONIC;
static double now(void) {
    struct timespec ts;
    clock_gettime(bench_clock, &ts);
    return ts.tv_sec + 1e-9 * ts.tv_nsec;
}
static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

typedef struct { int M, K, N; const char *name; } Shape;
enum { FWD, DINP, DW };
static const char *prod_name[] = {"fwd", "dinp", "dW"};

static float *inp, *w, *out, *dout, *dinp, *dw;

static void run(int lib, int prod, const Shape *s) {
    int M = s->M, K = s->K, N = s->N;
    if (lib == 0) {
        if (prod == FWD) matmul_forward(out, inp, w, NULL, M, K, N);
        else if (prod == DINP) matmul_backward(dinp, NULL, NULL, dout, inp, w, M, K, N);
        else matmul_backward(NULL, dw, NULL, dout, inp, w, M, K, N);
    } else {
        if (prod == FWD)  // out = inp . W^T
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, M, N, K, 1.0f, inp, K, w, K, 0.0f, out, N);
        else if (prod == DINP)  // dinp += dout . W
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, M, K, N, 1.0f, dout, N, w, K, 1.0f, dinp, K);
        else  // dW += dout^T . inp
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, N, K, M, 1.0f, dout, N, inp, K, 1.0f, dw, K);
    }
}

// Median GFLOP/s of ours and OpenBLAS over REPS timed batches (each >= ~20 ms).
// 1 thread: the libraries alternate batch by batch, so a load spike from elsewhere on this
// shared machine hits both alike. More threads: each library is timed in its own block,
// after a pause, because both keep their idle worker threads spinning for a while after a
// call (OpenBLAS for ~0.1 s) and those would steal the cores from the other library.
static int bench_threads = 1;
static void pause_s(double s) {
    struct timespec ts = {(time_t)s, (long)((s - (time_t)s) * 1e9)};
    nanosleep(&ts, NULL);
}
static void bench(int prod, const Shape *s, double *g_ours, double *g_blas) {
    double flops = 2.0 * s->M * s->K * s->N;
    int per[2];
    enum { REPS = 9 };
    double g[2][REPS];
    for (int lib = 0; lib < 2; lib++) {  // warmup + calibration
        if (bench_threads > 1) pause_s(0.2);
        double t0 = now();
        int calls = 0;
        do { run(lib, prod, s); calls++; } while (now() - t0 < 0.04);
        per[lib] = (int)(calls * 0.02 / (now() - t0)) + 1;
        if (bench_threads > 1)
            for (int r = 0; r < REPS; r++) {
                double t = now();
                for (int i = 0; i < per[lib]; i++) run(lib, prod, s);
                g[lib][r] = flops * per[lib] / (now() - t) * 1e-9;
            }
    }
    if (bench_threads == 1)
        for (int r = 0; r < REPS; r++)
            for (int lib = 0; lib < 2; lib++) {
                double t = now();
                for (int i = 0; i < per[lib]; i++) run(lib, prod, s);
                g[lib][r] = flops * per[lib] / (now() - t) * 1e-9;
            }
    qsort(g[0], REPS, sizeof(double), cmp_double);
    qsort(g[1], REPS, sizeof(double), cmp_double);
    *g_ours = g[0][REPS / 2];
    *g_blas = g[1][REPS / 2];
}

int main(int argc, char **argv) {
    static const Shape shapes[] = {
        {4096, 256, 768, "train qkv"},     {4096, 256, 256, "train attproj"},
        {4096, 256, 1024, "train fc/lmhead"}, {4096, 1024, 256, "train fcproj"},
        {4096, 128, 384, "small qkv"},     {4096, 128, 128, "small attproj"},
        {4096, 128, 512, "small fc/lmhead"}, {4096, 512, 128, "small fcproj"},
        {2560, 128, 384, "small B16T160"}, {64, 128, 384, "decode 64"},
        {128, 128, 128, "decode 128"},     {128, 128, 512, "decode 128"},
    };
    int nshapes = (int)(sizeof(shapes) / sizeof(shapes[0]));
    // args: thread counts (default 1 2); "-t" = training shapes only
    int threads[8] = {1, 2}, nthr = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-t") == 0) nshapes = 4;
        else if (nthr < 8) threads[nthr++] = atoi(argv[i]);
    }
    if (nthr == 0) nthr = 2;
    const char *ct = getenv("OPENBLAS_CORETYPE"), *l2 = getenv("OPENBLAS_L2_SIZE");
    printf("OpenBLAS core: %s  (%s)  OPENBLAS_CORETYPE=%s OPENBLAS_L2_SIZE=%s\n", openblas_get_corename(),
           openblas_get_config(), ct ? ct : "(unset)", l2 ? l2 : "(unset)");
    printf("ours: kernel=%s MR=%d NR=%d MC=%d KC=%d NC=%d\n", MM_KERNEL_NAME, MM_MR, MM_NR, MM_MC, MM_KC, MM_NC);

    long maxMK = 0, maxMN = 0, maxNK = 0;
    for (int s = 0; s < nshapes; s++) {
        long mk = (long)shapes[s].M * shapes[s].K, mn = (long)shapes[s].M * shapes[s].N, nk = (long)shapes[s].N * shapes[s].K;
        if (mk > maxMK) maxMK = mk;
        if (mn > maxMN) maxMN = mn;
        if (nk > maxNK) maxNK = nk;
    }
    inp = malloc(maxMK * sizeof(float)); dinp = malloc(maxMK * sizeof(float));
    out = malloc(maxMN * sizeof(float)); dout = malloc(maxMN * sizeof(float));
    w = malloc(maxNK * sizeof(float)); dw = malloc(maxNK * sizeof(float));
    srand(1);
    for (long i = 0; i < maxMK; i++) { inp[i] = rand() / (float)RAND_MAX - 0.5f; dinp[i] = 0; }
    for (long i = 0; i < maxMN; i++) { dout[i] = rand() / (float)RAND_MAX - 0.5f; out[i] = 0; }
    for (long i = 0; i < maxNK; i++) { w[i] = rand() / (float)RAND_MAX - 0.5f; dw[i] = 0; }

    for (int t = 0; t < nthr; t++) {
        int nt = threads[t];
        openblas_set_num_threads(nt);
#ifdef _OPENMP
        omp_set_num_threads(nt);
#endif
        bench_threads = nt;
        bench_clock = nt == 1 ? CLOCK_THREAD_CPUTIME_ID : CLOCK_MONOTONIC;
        double peak = mm_peak_gflops(nt);
        printf("\nthreads: %d (FMA peak %.1f GFLOP/s, measured), timed by %s\n", nt, peak,
               nt == 1 ? "thread CPU time" : "wall clock");
        printf("%-16s %5s %5s %5s %-5s %9s %9s %7s %7s\n", "shape", "M", "K", "N", "prod", "ours", "openblas",
               "ratio", "%peak");
        double logsum = 0, minratio = 1e9;
        int count = 0;
        for (int s = 0; s < nshapes; s++)
            for (int p = 0; p < 3; p++) {
                double go, gb;
                bench(p, &shapes[s], &go, &gb);
                printf("%-16s %5d %5d %5d %-5s %9.1f %9.1f %7.3f %6.1f%%\n", shapes[s].name, shapes[s].M,
                       shapes[s].K, shapes[s].N, prod_name[p], go, gb, go / gb,
                       100.0 * go / peak);
                fflush(stdout);
                if (s < 4) { logsum += log(go / gb); count++; if (go / gb < minratio) minratio = go / gb; }
            }
        printf("training shapes (M=4096, C=256): geomean ratio %.3f, min ratio %.3f\n", exp(logsum / count), minratio);
    }
    free(inp); free(dinp); free(out); free(dout); free(w); free(dw);
    return 0;
}
