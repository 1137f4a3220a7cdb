// Correctness test for the GEMM core of model.h against a double-precision reference,
// thorough on edge shapes; make test covers the core too (test_model.c). Useful on
// other targets, e.g. aarch64 NEON under qemu:  aarch64-linux-gnu-gcc -O2 -static ... && qemu-aarch64 ./a.out
//   cc -O2 -march=native -fopenmp dev/test_matmul_core.c -lm && ./a.out
//   cc -O1 -g -march=native -fsanitize=address,undefined dev/test_matmul_core.c -lm && ./a.out
// Error measure: |ours - ref| / (sum_k |a_k b_k| + |bias| + |initial value|), i.e. relative
// to the magnitude of the terms summed (the natural bound for fp32 accumulation), <= 1e-5.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include "../model.h" // the GEMM core lives in model.h

static unsigned long long rng_state = 88172645463325252ULL;
static float frand(void) {  // uniform in [-1, 1)
    rng_state ^= rng_state << 13; rng_state ^= rng_state >> 7; rng_state ^= rng_state << 17;
    return (float)((rng_state >> 40) * (1.0 / 16777216.0)) * 2.0f - 1.0f;
}
static float *rand_buf(long n) {
    float *p = (float *)malloc(sizeof(float) * (size_t)(n > 0 ? n : 1));
    for (long i = 0; i < n; i++) p[i] = frand();
    return p;
}
static float *copy_buf(const float *src, long n) {
    float *p = (float *)malloc(sizeof(float) * (size_t)(n > 0 ? n : 1));
    memcpy(p, src, sizeof(float) * (size_t)n);
    return p;
}

static int failures = 0;
static double worst_err = 0.0;
static void check(const char *what, int M, int K, int N, const float *got, const double *ref,
                  const double *scale, long n) {
    double worst = 0.0;
    for (long i = 0; i < n; i++) {
        double e = fabs((double)got[i] - ref[i]) / (scale[i] + 1e-30);
        if (!(e <= worst)) worst = e;  // catches NaN too
    }
    int ok = worst <= 1e-5;
    if (!ok) failures++;
    if (worst > worst_err) worst_err = worst;
    if (!ok)
        printf("%-8s M=%5d K=%5d N=%5d  rel err %.2e  %s\n", what, M, K, N, worst, ok ? "ok" : "FAIL");
}

static void test_shape(int M, int K, int N, int use_bias) {
    float *inp = rand_buf((long)M * K), *w = rand_buf((long)N * K), *bias = use_bias ? rand_buf(N) : NULL;
    float *dout = rand_buf((long)M * N);
    // forward
    float *out = rand_buf((long)M * N);  // garbage: must be overwritten
    matmul_forward(out, inp, w, bias, M, K, N);
    double *ref = (double *)malloc(sizeof(double) * (size_t)M * N);
    double *scl = (double *)malloc(sizeof(double) * (size_t)M * N);
    for (int m = 0; m < M; m++)
        for (int n = 0; n < N; n++) {
            double s = bias ? bias[n] : 0.0, a = bias ? fabs(bias[n]) : 0.0;
            for (int k = 0; k < K; k++) {
                double t = (double)inp[(long)m * K + k] * w[(long)n * K + k];
                s += t; a += fabs(t);
            }
            ref[(long)m * N + n] = s; scl[(long)m * N + n] = a;
        }
    check(use_bias ? "fwd+b" : "fwd", M, K, N, out, ref, scl, (long)M * N);
    free(ref); free(scl);

    // backward, accumulating into random initial values
    float *dinp0 = rand_buf((long)M * K), *dw0 = rand_buf((long)N * K), *db0 = rand_buf(N);
    float *dinp = copy_buf(dinp0, (long)M * K), *dw = copy_buf(dw0, (long)N * K), *db = copy_buf(db0, N);
    matmul_backward(dinp, dw, use_bias ? db : NULL, dout, inp, w, M, K, N);
    ref = (double *)malloc(sizeof(double) * (size_t)M * K);
    scl = (double *)malloc(sizeof(double) * (size_t)M * K);
    for (int m = 0; m < M; m++)
        for (int k = 0; k < K; k++) {
            double s = dinp0[(long)m * K + k], a = fabs(s);
            for (int n = 0; n < N; n++) {
                double t = (double)dout[(long)m * N + n] * w[(long)n * K + k];
                s += t; a += fabs(t);
            }
            ref[(long)m * K + k] = s; scl[(long)m * K + k] = a;
        }
    check("dinp", M, K, N, dinp, ref, scl, (long)M * K);
    free(ref); free(scl);
    ref = (double *)malloc(sizeof(double) * (size_t)N * K);
    scl = (double *)malloc(sizeof(double) * (size_t)N * K);
    for (int n = 0; n < N; n++)
        for (int k = 0; k < K; k++) {
            double s = dw0[(long)n * K + k], a = fabs(s);
            for (int m = 0; m < M; m++) {
                double t = (double)dout[(long)m * N + n] * inp[(long)m * K + k];
                s += t; a += fabs(t);
            }
            ref[(long)n * K + k] = s; scl[(long)n * K + k] = a;
        }
    check("dweight", M, K, N, dw, ref, scl, (long)N * K);
    free(ref); free(scl);
    if (use_bias) {
        ref = (double *)malloc(sizeof(double) * (size_t)N);
        scl = (double *)malloc(sizeof(double) * (size_t)N);
        for (int n = 0; n < N; n++) {
            double s = db0[n], a = fabs(s);
            for (int m = 0; m < M; m++) { s += dout[(long)m * N + n]; a += fabs(dout[(long)m * N + n]); }
            ref[n] = s; scl[n] = a;
        }
        check("dbias", M, K, N, db, ref, scl, N);
        free(ref); free(scl);
    } else {
        // dbias == NULL must leave nothing touched; dinp/dweight NULL must be skipped
        float *dw2 = copy_buf(dw0, (long)N * K);
        matmul_backward(NULL, dw2, NULL, dout, inp, w, M, K, N);
        float *dinp2 = copy_buf(dinp0, (long)M * K);
        matmul_backward(dinp2, NULL, NULL, dout, inp, w, M, K, N);
        int same = memcmp(dw2, dw, sizeof(float) * (size_t)N * K) == 0 &&
                   memcmp(dinp2, dinp, sizeof(float) * (size_t)M * K) == 0;
        if (!same) { printf("NULL-skip mismatch M=%d K=%d N=%d\n", M, K, N); failures++; }
        free(dw2); free(dinp2);
    }

    // the _ref versions must agree too (they are what other tests use)
    float *out_r = rand_buf((long)M * N);
    matmul_forward_ref(out_r, inp, w, bias, M, K, N);
    double maxd = 0;
    for (long i = 0; i < (long)M * N; i++) {
        double d = fabs((double)out_r[i] - out[i]) / (1.0 + fabs(out_r[i]));
        if (d > maxd) maxd = d;
    }
    if (maxd > 1e-4 * sqrt((double)K)) { printf("ref mismatch %g\n", maxd); failures++; }
    float *dinp_r = copy_buf(dinp0, (long)M * K), *dw_r = copy_buf(dw0, (long)N * K), *db_r = copy_buf(db0, N);
    matmul_backward_ref(dinp_r, dw_r, db_r, dout, inp, w, M, K, N);
    free(dinp_r); free(dw_r); free(db_r); free(out_r);

    free(inp); free(w); free(bias); free(dout); free(out);
    free(dinp0); free(dw0); free(db0); free(dinp); free(dw); free(db);
}

int main(void) {
    static const int shapes[][3] = {  // M, K, N
        {1, 1, 1},      {7, 13, 29},    {257, 511, 33}, {1, 768, 256},  {130, 3, 1000},
        {6, 16, 16},    {12, 32, 32},   {5, 17, 15},    {64, 128, 384}, {97, 128, 128},
        {128, 128, 512}, {3, 300, 2},   {300, 257, 1},  {1, 1, 700},    {700, 1, 1},
        {31, 600, 47},  {2, 4097, 3},   {150, 260, 4100}, {523, 129, 65}, {4096, 64, 17},
        {333, 1030, 100}, {4096, 128, 384}, {1024, 256, 768},
    };
    int nshapes = (int)(sizeof(shapes) / sizeof(shapes[0]));
    for (int t = 0; t < 2; t++) {
#ifdef _OPENMP
        omp_set_num_threads(t == 0 ? 1 : 2);
        printf("threads: %d\n", t == 0 ? 1 : 2);
#else
        if (t == 1) break;
        printf("no OpenMP\n");
#endif
        for (int s = 0; s < nshapes; s++)
            for (int b = 0; b < 2; b++) test_shape(shapes[s][0], shapes[s][1], shapes[s][2], b);
        printf("  %d shapes x {no bias, bias} x {fwd, dinp, dweight, dbias}: worst rel err %.2e\n", nshapes, worst_err);
    }
    printf("%s (%d failures)\n", failures ? "FAILED" : "all ok", failures);
    return failures != 0;
}
