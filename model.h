/*
model.h — GPT-2 and the Llama family (Llama, SmolLM2, Qwen2/2.5, Qwen3) in plain C,
fp32, forward and backward by hand.

Everything the trainer needs from the network lives here, top to bottom:
  1. small utilities (errors, RNG, aligned allocation)
  2. the SIMD matmul core (one GEMM for all three products of a linear layer)
  3. the layers, each as a forward/backward pair on raw float arrays
  4. the model: parameters, activations, forward, the one weighted-log-likelihood
     backward, AdamW, gradient clipping
  5. checkpoint read/write (llm.c-compatible)
  6. batched incremental decoding with a KV cache, sampling

The one objective. Every training signal in this project is
    L = - sum_t c_t * log pi(y_t | y_<t)   =>   dL/dlogits_t = c_t * (softmax_t - onehot(y_t))
Pretraining uses c_t = 1/N, RL (CISPO) uses c_t = w_t * A_i / N_tok. So backward
takes a weight array c[B*T] and nothing else changes between pretraining and RL.

Shapes: B batch, T time, C channels, NH heads, hd head size (C/NH for GPT-2),
KV key/value heads (NH for GPT-2), L layers, V vocab, Vp vocab padded to a multiple
of 128. Row-major everywhere; linear weights are (OC, IC) as in PyTorch's nn.Linear.
The two families differ only inside a block (see block_forward) and in the
position embedding (a learned table for GPT-2, rotations of q and k for Llama).
*/
#ifndef MODEL_H
#define MODEL_H

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#ifdef _OPENMP
#include <omp.h>
#endif

// A header library: a program uses only some of these functions, so unused ones
// are expected here (but not in the program that includes this header).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"

// ----------------------------------------------------------------------------
// utilities

// Library functions report errors into a caller-provided buffer and return
// non-zero; only main() decides to print and exit.
static int set_err(char *err, size_t errlen, const char *fmt, ...) {
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return -1;
}

// 64-byte aligned, zeroed; aborts on out-of-memory (sizes here are computed from
// validated configs, so failure means the machine is too small, not bad input).
static void *xcalloc_aligned(size_t n_bytes) {
    void *p = NULL;
    size_t rounded = (n_bytes + 63) & ~(size_t)63;
    if (rounded == 0) rounded = 64;
    if (posix_memalign(&p, 64, rounded) != 0) {
        fprintf(stderr, "error: out of memory allocating %zu bytes\n", n_bytes);
        exit(1);
    }
    memset(p, 0, rounded);
    return p;
}

// xorshift64* — small, fast, reproducible on every machine.
static inline uint64_t rng_u64(uint64_t *state) {
    uint64_t x = *state;
    x ^= x >> 12; x ^= x << 25; x ^= x >> 27;
    *state = x;
    return x * 0x2545F4914F6CDD1DULL;
}
static inline float rng_f32(uint64_t *state) { // uniform in [0, 1)
    return (float)(rng_u64(state) >> 40) / 16777216.0f;
}
static inline uint64_t rng_seed(uint64_t seed) { // never a zero state
    uint64_t z = seed + 0x9E3779B97F4A7C15ULL;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    z ^= z >> 31;
    return z ? z : 1;
}

// exp(x) = 2^n e^r with n = round(x / ln2), r = x - n ln2 in [-ln2/2, ln2/2]: e^r by a
// degree-7 polynomial (Cephes' expf coefficients), 2^n by writing the float's exponent
// bits. Max relative error 8e-8 (libm: 5e-8), and loops over it vectorize, which libm's
// expf does not (gcc needs -fno-trapping-math for the clamps).
static inline float fast_expf(float x) {
    x = x < -87.0f ? -87.0f : x; // exp(-87) is near the smallest normal float
    x = x > 88.0f ? 88.0f : x;
    float t = x * 1.44269504088896341f + 12582912.0f; // + 1.5 * 2^23 rounds to an integer
    float n = t - 12582912.0f;
    float r = x - n * 0.693359375f + n * 2.12194440e-4f; // ln2 in two parts keeps r exact
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * r * r + r + 1.0f;
    int32_t ti, si;
    memcpy(&ti, &t, 4);               // the low bits of t hold n
    si = (ti - 0x4B400000 + 127) << 23; // 2^n as float bits
    float scale;
    memcpy(&scale, &si, 4);
    return p * scale;
}

// tanh(u) = 1 - 2 / (e^(2u) + 1), vectorizable through fast_expf
static inline float fast_tanhf(float u) { return 1.0f - 2.0f / (fast_expf(2.0f * u) + 1.0f); }

static double now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

static inline int num_threads(void) {
#ifdef _OPENMP
    return omp_get_max_threads();
#else
    return 1;
#endif
}

// ----------------------------------------------------------------------------
// SIMD matmul core (benchmarked against OpenBLAS by dev/bench_matmul.c)
//
//
// Self-contained (C11, libc + optional OpenMP). Row-major fp32 everywhere,
// weights in PyTorch nn.Linear layout W[N][K] = (OC, C).
//
//   forward          out[M][N]  = inp[M][K] . W^T + bias[N]
//   backward input   dinp[M][K] += dout[M][N] . W[N][K]
//   backward weight  dW[N][K]   += dout^T[N][M] . inp[M][K],  dbias[N] += sum_m dout[m][N]
//
// All three are the same general product C (+)= A.B with A, B given by a
// (row stride, column stride) pair, so a transpose is just a swapped pair of
// strides. The strides are only ever looked at by the packing routines, which always
// read along the contiguous direction (weights are never walked with a stride of K in
// an inner loop; W^T is packed with 8x8 in-register transposes).
//
// Design (GotoBLAS / BLIS), per thread:
//   for jc in N step NC                        (B panel KC x NC lives in L2/L3)
//     for pc in K step KC
//       pack B[pc:pc+KC, jc:jc+NC] into NR-wide column micro-panels
//       for ic in M step MC
//         pack A[ic:ic+MC, pc:pc+KC] into MR-tall row micro-panels (per thread, stays in L2)
//         for jr in NC step NR                 (B micro-panel KC x NR stays in L1)
//           for ir in MC step MR
//             micro-kernel: C[MR][NR] (+)= Apanel[MR][KC] . Bpanel[KC][NR]  in registers
// The long reduction of dW (K = B*T = 4096) is just 16 KC steps, each adding onto C.
//
// Threads (OpenMP): C is cut into one slab per thread along M or N and each thread runs
// the loop nest above on its slab, with its own packing buffers -- see gemm().
//
// Edges (any M, N, K >= 1): packing zero-pads the last micro-panels to MR / NR,
// the micro-kernel always computes a full MR x NR tile, and edge tiles are
// written through a small stack buffer. K needs no padding (the kernel loops kc times).
//
// Micro-kernels, chosen at compile time from what the target has (`make SIMD=...` picks
// one by name; -DMM_SIMD_NONE forces the plain one). avx512 and avx2 accumulate each
// output with one FMA per k in the same order, and give the same bits (measured); the
// plain kernel multiplies, then adds, and rounds otherwise. (A build's bits also depend on
// the vector width the compiler picks for the loops outside the GEMM.)
//   avx512  AVX-512F        6 x 32  (12 zmm accumulators; same body as AVX2, wider vectors)
//   avx2    AVX2 + FMA      6 x 16  (12 ymm accumulators, 2 B loads + 6 broadcasts per k)
//   neon    NEON (aarch64)  8 x 8   (16 q accumulators, vfmaq_laneq_f32)
//   none    plain C         4 x 16  (auto-vectorisable loops: multiply, then add)
#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#define MM_PRAGMA(x) _Pragma(#x)
#else
#define MM_PRAGMA(x)
#endif

#if defined(MM_SIMD_NONE)
#define MM_PLAIN 1
#elif defined(__AVX512F__)
#define MM_AVX512 1
#elif defined(__AVX2__) && defined(__FMA__)
#define MM_AVX2 1
#elif defined(__ARM_NEON) && defined(__aarch64__)
#define MM_NEON 1
#else
#define MM_PLAIN 1
#endif

#if defined(MM_AVX512)
#include <immintrin.h>
#define MM_KERNEL_NAME "avx512"
#define MM_MR 6
#define MM_NR 32
#elif defined(MM_AVX2)
#include <immintrin.h>
#define MM_KERNEL_NAME "avx2"
#define MM_MR 6
#define MM_NR 16
#elif defined(MM_NEON)
#include <arm_neon.h>
#define MM_KERNEL_NAME "neon"
#define MM_MR 8
#define MM_NR 8
#else
#define MM_KERNEL_NAME "none"
#define MM_MR 4
#define MM_NR 16
#endif

// Cache blocking. Zen 3: L1d 32 KiB, L2 512 KiB/core, L3 32 MiB shared.
//   KC: B micro-panel KC*NR*4 = 16 KiB (AVX2) sits in half of L1 next to the
//       streaming A micro-panel (MR*KC*4 = 6 KiB).
//   MC: packed A block MC*KC*4 = 144 KiB, well inside L2 (leaves room for C tiles and
//       the B panel stream). M is cut into equal blocks of at most MC rows.
//   NC: packed B panel KC*NC*4 <= 4 MiB (L3); at the model's widths (N <= 1024) the whole
//       of N is one panel, 1 MiB at most. KC 384/512, MC 72..288 and NC 256/512 measured
//       no better on this machine.
#ifndef MM_KC
#define MM_KC 256
#endif
#ifndef MM_MC
#define MM_MC 144
#endif
#ifndef MM_NC
#define MM_NC 4096
#endif
// below this many flops (2*M*N*K) we do not start threads
#ifndef MM_PAR_MIN_FLOPS
#define MM_PAR_MIN_FLOPS (1L << 18)
#endif

// ----------------------------------------------------------------------------
// micro-kernels: c[MR][NR] = (load_c ? c : 0) + (bias ? bias[NR] : 0) + a.b
// a: packed MR x kc (a[k*MR + i]), b: packed kc x NR (b[k*NR + j]), c row stride ldc.

#if defined(MM_AVX512) || defined(MM_AVX2)
// AVX2 and AVX-512 share one body: 6 rows x 2 vectors, only the vector width differs.
#if defined(MM_AVX512)
typedef __m512 mm_vec;
#define MM_VW 16
#define MM_VZERO() _mm512_setzero_ps()
#define MM_VLOAD(p) _mm512_load_ps(p)
#define MM_VLOADU(p) _mm512_loadu_ps(p)
#define MM_VSTOREU(p, v) _mm512_storeu_ps(p, v)
#define MM_VBCAST(p) _mm512_set1_ps(*(p))
#define MM_VFMA(a, b, c) _mm512_fmadd_ps(a, b, c)
#define MM_VADD(a, b) _mm512_add_ps(a, b)
#else
typedef __m256 mm_vec;
#define MM_VW 8
#define MM_VZERO() _mm256_setzero_ps()
#define MM_VLOAD(p) _mm256_load_ps(p)
#define MM_VLOADU(p) _mm256_loadu_ps(p)
#define MM_VSTOREU(p, v) _mm256_storeu_ps(p, v)
#define MM_VBCAST(p) _mm256_broadcast_ss(p)
#define MM_VFMA(a, b, c) _mm256_fmadd_ps(a, b, c)
#define MM_VADD(a, b) _mm256_add_ps(a, b)
#endif

// GCC likes to fold the two B loads into the FMAs as memory operands, which turns 8 loads
// per k into 18: Zen 3's 3 load ports are then exactly saturated at FMA peak, and any L1
// miss costs FMA cycles. An empty asm pins each B vector in a register, loaded once
// (measured: a few % better inside the blocked product, where A streams from L2).
#if defined(__GNUC__)
#define MM_KEEP_IN_REG(v) __asm__("" : "+x"(v))
#else
#define MM_KEEP_IN_REG(v) (void)0
#endif

static inline void mm_kernel(int kc, const float *restrict a, const float *restrict b,
                             float *restrict c, long ldc, int load_c, const float *restrict bias) {
    mm_vec c00 = MM_VZERO(), c01 = MM_VZERO(), c10 = MM_VZERO(), c11 = MM_VZERO();
    mm_vec c20 = MM_VZERO(), c21 = MM_VZERO(), c30 = MM_VZERO(), c31 = MM_VZERO();
    mm_vec c40 = MM_VZERO(), c41 = MM_VZERO(), c50 = MM_VZERO(), c51 = MM_VZERO();
    // start pulling the C tile towards L1 now; it is needed only after the kc loop, and when
    // accumulating it would otherwise be a string of cache misses at the end of every call
    for (int i = 0; i < MM_MR; i++) {
        _mm_prefetch((const char *)(c + i * ldc), _MM_HINT_T0);
        _mm_prefetch((const char *)(c + i * ldc + MM_NR - 1), _MM_HINT_T0);
    }
    // one rank-1 update per k: c[i][:] += a[i] * b[:], 12 independent FMA chains
#define MM_STEP(o)                                                        \
    do {                                                                  \
        mm_vec b0 = MM_VLOAD(b + (o) * MM_NR), b1 = MM_VLOAD(b + (o) * MM_NR + MM_VW); \
        MM_KEEP_IN_REG(b0); MM_KEEP_IN_REG(b1);                           \
        mm_vec ai;                                                        \
        ai = MM_VBCAST(a + (o) * MM_MR + 0); c00 = MM_VFMA(ai, b0, c00); c01 = MM_VFMA(ai, b1, c01); \
        ai = MM_VBCAST(a + (o) * MM_MR + 1); c10 = MM_VFMA(ai, b0, c10); c11 = MM_VFMA(ai, b1, c11); \
        ai = MM_VBCAST(a + (o) * MM_MR + 2); c20 = MM_VFMA(ai, b0, c20); c21 = MM_VFMA(ai, b1, c21); \
        ai = MM_VBCAST(a + (o) * MM_MR + 3); c30 = MM_VFMA(ai, b0, c30); c31 = MM_VFMA(ai, b1, c31); \
        ai = MM_VBCAST(a + (o) * MM_MR + 4); c40 = MM_VFMA(ai, b0, c40); c41 = MM_VFMA(ai, b1, c41); \
        ai = MM_VBCAST(a + (o) * MM_MR + 5); c50 = MM_VFMA(ai, b0, c50); c51 = MM_VFMA(ai, b1, c51); \
    } while (0)
    int k = 0;
    for (; k + 4 <= kc; k += 4) {
        MM_STEP(0); MM_STEP(1); MM_STEP(2); MM_STEP(3);
        a += 4 * MM_MR; b += 4 * MM_NR;
    }
    for (; k < kc; k++) {
        MM_STEP(0);
        a += MM_MR; b += MM_NR;
    }
#undef MM_STEP
    if (bias) {
        mm_vec bb0 = MM_VLOADU(bias), bb1 = MM_VLOADU(bias + MM_VW);
        c00 = MM_VADD(c00, bb0); c01 = MM_VADD(c01, bb1); c10 = MM_VADD(c10, bb0); c11 = MM_VADD(c11, bb1);
        c20 = MM_VADD(c20, bb0); c21 = MM_VADD(c21, bb1); c30 = MM_VADD(c30, bb0); c31 = MM_VADD(c31, bb1);
        c40 = MM_VADD(c40, bb0); c41 = MM_VADD(c41, bb1); c50 = MM_VADD(c50, bb0); c51 = MM_VADD(c51, bb1);
    }
#define MM_OUT(i, x0, x1)                                                 \
    do {                                                                  \
        float *ci = c + (i) * ldc;                                        \
        if (load_c) { x0 = MM_VADD(x0, MM_VLOADU(ci)); x1 = MM_VADD(x1, MM_VLOADU(ci + MM_VW)); } \
        MM_VSTOREU(ci, x0); MM_VSTOREU(ci + MM_VW, x1);                   \
    } while (0)
    MM_OUT(0, c00, c01); MM_OUT(1, c10, c11); MM_OUT(2, c20, c21);
    MM_OUT(3, c30, c31); MM_OUT(4, c40, c41); MM_OUT(5, c50, c51);
#undef MM_OUT
}

#elif defined(MM_NEON)
// 8 x 8: per k, two 4-wide loads of A and two of B, 16 lane-FMAs.
static inline void mm_kernel(int kc, const float *restrict a, const float *restrict b,
                             float *restrict c, long ldc, int load_c, const float *restrict bias) {
    float32x4_t acc[8][2];
    for (int i = 0; i < 8; i++) { acc[i][0] = vdupq_n_f32(0.0f); acc[i][1] = vdupq_n_f32(0.0f); }
    for (int k = 0; k < kc; k++) {
        float32x4_t a0 = vld1q_f32(a), a1 = vld1q_f32(a + 4);
        float32x4_t b0 = vld1q_f32(b), b1 = vld1q_f32(b + 4);
        acc[0][0] = vfmaq_laneq_f32(acc[0][0], b0, a0, 0); acc[0][1] = vfmaq_laneq_f32(acc[0][1], b1, a0, 0);
        acc[1][0] = vfmaq_laneq_f32(acc[1][0], b0, a0, 1); acc[1][1] = vfmaq_laneq_f32(acc[1][1], b1, a0, 1);
        acc[2][0] = vfmaq_laneq_f32(acc[2][0], b0, a0, 2); acc[2][1] = vfmaq_laneq_f32(acc[2][1], b1, a0, 2);
        acc[3][0] = vfmaq_laneq_f32(acc[3][0], b0, a0, 3); acc[3][1] = vfmaq_laneq_f32(acc[3][1], b1, a0, 3);
        acc[4][0] = vfmaq_laneq_f32(acc[4][0], b0, a1, 0); acc[4][1] = vfmaq_laneq_f32(acc[4][1], b1, a1, 0);
        acc[5][0] = vfmaq_laneq_f32(acc[5][0], b0, a1, 1); acc[5][1] = vfmaq_laneq_f32(acc[5][1], b1, a1, 1);
        acc[6][0] = vfmaq_laneq_f32(acc[6][0], b0, a1, 2); acc[6][1] = vfmaq_laneq_f32(acc[6][1], b1, a1, 2);
        acc[7][0] = vfmaq_laneq_f32(acc[7][0], b0, a1, 3); acc[7][1] = vfmaq_laneq_f32(acc[7][1], b1, a1, 3);
        a += 8; b += 8;
    }
    for (int i = 0; i < 8; i++) {
        float32x4_t x0 = acc[i][0], x1 = acc[i][1];
        if (bias) { x0 = vaddq_f32(x0, vld1q_f32(bias)); x1 = vaddq_f32(x1, vld1q_f32(bias + 4)); }
        float *ci = c + i * ldc;
        if (load_c) { x0 = vaddq_f32(x0, vld1q_f32(ci)); x1 = vaddq_f32(x1, vld1q_f32(ci + 4)); }
        vst1q_f32(ci, x0); vst1q_f32(ci + 4, x1);
    }
}

#else
// portable fallback: fixed-size loops the compiler can unroll and vectorise
static inline void mm_kernel(int kc, const float *restrict a, const float *restrict b,
                             float *restrict c, long ldc, int load_c, const float *restrict bias) {
    float acc[MM_MR][MM_NR];
    for (int i = 0; i < MM_MR; i++)
        for (int j = 0; j < MM_NR; j++) acc[i][j] = bias ? bias[j] : 0.0f;
    for (int k = 0; k < kc; k++) {
        for (int i = 0; i < MM_MR; i++)
            for (int j = 0; j < MM_NR; j++) acc[i][j] += a[i] * b[j];
        a += MM_MR; b += MM_NR;
    }
    for (int i = 0; i < MM_MR; i++)
        for (int j = 0; j < MM_NR; j++) c[i * ldc + j] = (load_c ? c[i * ldc + j] : 0.0f) + acc[i][j];
}
#endif

// ----------------------------------------------------------------------------
// the kernel's arithmetic peak, measured: what "% of peak" is a percentage of.
// Each thread runs MM_MR x 2 independent multiply-add chains on the kernel's own vector
// type (its accumulators, without the loads), so the number is this CPU's FMA
// throughput for this kernel at the clock it runs now -- never a constant of one CPU.

#if defined(MM_AVX512) || defined(MM_AVX2) || defined(MM_NEON)
#if defined(MM_NEON)
typedef float32x4_t mm_peak_vec;
#define MM_PEAK_VW 4
#define MM_PEAK_FMA(a, b, c) vfmaq_f32(c, a, b)
#define MM_PEAK_SET(x) vdupq_n_f32(x)
#else
typedef mm_vec mm_peak_vec;
#define MM_PEAK_VW MM_VW
#define MM_PEAK_FMA(a, b, c) MM_VFMA(a, b, c)
#define MM_PEAK_SET(x) MM_VBCAST(&(float){x})
#endif
#define MM_PEAK_CHAINS (2 * MM_MR)
// n rounds of MM_PEAK_CHAINS vector FMAs; returns a sum so that nothing is optimised away
static float mm_peak_loop(long n) {
    mm_peak_vec c[MM_PEAK_CHAINS], a = MM_PEAK_SET(0.999999f), b = MM_PEAK_SET(1e-7f);
    for (int j = 0; j < MM_PEAK_CHAINS; j++) c[j] = MM_PEAK_SET((float)j);
    for (long i = 0; i < n; i++)
        for (int j = 0; j < MM_PEAK_CHAINS; j++) c[j] = MM_PEAK_FMA(a, c[j], b);
    float out[MM_PEAK_VW], sum = 0.0f;
    for (int j = 0; j < MM_PEAK_CHAINS; j++) {
        memcpy(out, &c[j], sizeof out);
        sum += out[0];
    }
    return sum;
}
static const double mm_peak_flops_per_round = 2.0 * MM_PEAK_CHAINS * MM_PEAK_VW;
#else
// the plain kernel has no FMA of its own (it multiplies, then adds): its ceiling is the
// kernel itself on panels of MM_KC k-steps, as the GEMM calls it, that sit in L1
static float mm_peak_loop(long n) {
    static _Thread_local float a[MM_MR * MM_KC], b[MM_KC * MM_NR];
    float c[MM_MR * MM_NR] = {0};
    for (int j = 0; j < MM_MR * MM_KC; j++) a[j] = 1e-4f;
    for (int j = 0; j < MM_KC * MM_NR; j++) b[j] = 1e-4f;
    for (long i = 0; i < n; i++) mm_kernel(MM_KC, a, b, c, MM_NR, 1, NULL);
    return c[0];
}
static const double mm_peak_flops_per_round = 2.0 * MM_MR * MM_NR * MM_KC;
#endif

// GFLOP/s of the kernel's multiply-adds on all `threads` OpenMP threads together:
// rounds calibrated to ~50 ms on one thread, then the best of 5 parallel runs
static double mm_peak_gflops(int threads) {
    volatile float sink = 0.0f;
    long n = 1 << 14;
    for (;;) {
        double t0 = now_seconds();
        sink += mm_peak_loop(n);
        if (now_seconds() - t0 > 0.05 || n > (1L << 40)) break;
        n *= 2;
    }
    double best = 0.0;
    for (int rep = 0; rep < 5; rep++) {
        float sum = 0.0f;
        double t0 = now_seconds();
        MM_PRAGMA(omp parallel for num_threads(threads) schedule(static, 1) reduction(+ : sum))
        for (int t = 0; t < threads; t++) sum += mm_peak_loop(n);
        sink += sum;
        double g = mm_peak_flops_per_round * n * threads / (now_seconds() - t0) * 1e-9;
        if (g > best) best = g;
    }
    (void)sink;
    return best;
}

// ----------------------------------------------------------------------------
// packing. Element (i, k) of A is A[i*rsA + k*csA]; element (k, j) of B is B[k*rsB + j*csB].

#if (defined(MM_AVX512) || defined(MM_AVX2)) && MM_MR == 6 && MM_NR % 8 == 0
#define MM_PACK_AVX2 1
// in-register 8x8 transpose: r[i][j] -> r[j][i]
static inline void mm_transpose8(__m256 r[8]) {
    __m256 t0 = _mm256_unpacklo_ps(r[0], r[1]), t1 = _mm256_unpackhi_ps(r[0], r[1]);
    __m256 t2 = _mm256_unpacklo_ps(r[2], r[3]), t3 = _mm256_unpackhi_ps(r[2], r[3]);
    __m256 t4 = _mm256_unpacklo_ps(r[4], r[5]), t5 = _mm256_unpackhi_ps(r[4], r[5]);
    __m256 t6 = _mm256_unpacklo_ps(r[6], r[7]), t7 = _mm256_unpackhi_ps(r[6], r[7]);
    __m256 u0 = _mm256_shuffle_ps(t0, t2, 0x44), u1 = _mm256_shuffle_ps(t0, t2, 0xEE);
    __m256 u2 = _mm256_shuffle_ps(t1, t3, 0x44), u3 = _mm256_shuffle_ps(t1, t3, 0xEE);
    __m256 u4 = _mm256_shuffle_ps(t4, t6, 0x44), u5 = _mm256_shuffle_ps(t4, t6, 0xEE);
    __m256 u6 = _mm256_shuffle_ps(t5, t7, 0x44), u7 = _mm256_shuffle_ps(t5, t7, 0xEE);
    r[0] = _mm256_permute2f128_ps(u0, u4, 0x20); r[1] = _mm256_permute2f128_ps(u1, u5, 0x20);
    r[2] = _mm256_permute2f128_ps(u2, u6, 0x20); r[3] = _mm256_permute2f128_ps(u3, u7, 0x20);
    r[4] = _mm256_permute2f128_ps(u0, u4, 0x31); r[5] = _mm256_permute2f128_ps(u1, u5, 0x31);
    r[6] = _mm256_permute2f128_ps(u2, u6, 0x31); r[7] = _mm256_permute2f128_ps(u3, u7, 0x31);
}
#endif

// pack rows [0, mc) x cols [0, kc) of A into MR-tall micro-panels: dst[p][k][i], zero-padded rows
static void mm_pack_A(float *restrict dst, const float *restrict A, long rsA, long csA, int mc, int kc) {
    int mfull = mc / MM_MR * MM_MR;  // rows in full panels
    if (rsA == 1) {
        // columns contiguous (dW: A = dout^T, A(i,k) = dout[k][i]): walk each dout row once,
        // dealing MR floats to every panel
        for (int k = 0; k < kc; k++) {
            const float *a = A + k * csA;
            for (int ip = 0; ip < mfull; ip += MM_MR)
                for (int i = 0; i < MM_MR; i++) dst[ip * kc + k * MM_MR + i] = a[ip + i];
        }
    } else {
        for (int ip = 0; ip < mfull; ip += MM_MR) {
            const float *a = A + ip * rsA;
            float *d = dst + ip * kc;
            int k = 0;
            if (csA == 1) {
                // rows contiguous in k (forward inp, backward dout): interleave MR rows
#ifdef MM_PACK_AVX2
                // 8 k at a time: 6 rows (+2 zero rows) x 8 k, transposed; each 8-float store
                // writes one k's 6 values + 2 junk floats that the next store overwrites (the
                // last one spills 2 floats into the next panel / buffer slack, written later)
                for (; k + 8 <= kc; k += 8) {
                    __m256 r[8];
                    for (int i = 0; i < 6; i++) r[i] = _mm256_loadu_ps(a + i * rsA + k);
                    r[6] = r[7] = _mm256_setzero_ps();
                    mm_transpose8(r);
                    for (int t = 0; t < 8; t++) _mm256_storeu_ps(d + (k + t) * MM_MR, r[t]);
                }
#endif
            }
            for (; k < kc; k++)
                for (int i = 0; i < MM_MR; i++) d[k * MM_MR + i] = a[i * rsA + k * csA];
        }
    }
    if (mfull < mc) {  // last, partial panel: zero-padded to MR rows
        const float *a = A + mfull * rsA;
        float *d = dst + mfull * kc;
        int mr = mc - mfull;
        for (int k = 0; k < kc; k++)
            for (int i = 0; i < MM_MR; i++) d[k * MM_MR + i] = i < mr ? a[i * rsA + k * csA] : 0.0f;
    }
}

// pack one NR-wide micro-panel: rows [0, kc) x cols [0, nr) of B -> dst[k][j], zero-padded cols
static void mm_pack_B_panel(float *restrict dst, const float *restrict B, long rsB, long csB, int kc, int nr) {
    if (nr == MM_NR && rsB == 1) {
        // B = W^T (forward): read each weight row contiguously, scatter into column j
#ifdef MM_PACK_AVX2
        // 8 weight rows x 8 k at a time, transposed into 8 k-rows of 8 j-values
        int k = 0;
        for (; k + 8 <= kc; k += 8)
            for (int j0 = 0; j0 < MM_NR; j0 += 8) {
                __m256 r[8];
                for (int j = 0; j < 8; j++) r[j] = _mm256_loadu_ps(B + (j0 + j) * csB + k);
                mm_transpose8(r);
                for (int t = 0; t < 8; t++) _mm256_store_ps(dst + (k + t) * MM_NR + j0, r[t]);
            }
        for (; k < kc; k++)
            for (int j = 0; j < MM_NR; j++) dst[k * MM_NR + j] = B[j * csB + k];
#else
        for (int j = 0; j < MM_NR; j++) {
            const float *bj = B + j * csB;
            for (int k = 0; k < kc; k++) dst[k * MM_NR + j] = bj[k];
        }
#endif
    } else {
        for (int k = 0; k < kc; k++)
            for (int j = 0; j < MM_NR; j++) dst[k * MM_NR + j] = j < nr ? B[k * rsB + j * csB] : 0.0f;
    }
}

// pack B[0:kc, 0:nc] into NR-wide micro-panels: panel p (columns p*NR .. p*NR+NR-1,
// zero-padded) goes to dst + p*kc*NR
static void mm_pack_B(float *restrict dst, const float *restrict B, long rsB, long csB, int kc, int nc) {
    int pfull = nc / MM_NR, p = 0;  // full panels, then at most one partial panel
    if (csB == 1) {
        // rows of B contiguous in j (dinp: B = W, dW: B = inp). Walk each row of B once,
        // sequentially, dealing NR floats to each panel: reading one panel at a time instead
        // would touch one cache line per row at a stride of a whole row (4 KiB for K=1024:
        // every line in the same L1 set, and useless to the prefetcher).
        for (int k = 0; k < kc; k++) {
            const float *b = B + k * rsB;
            for (int q = 0; q < pfull; q++)
                memcpy(dst + ((size_t)q * kc + k) * MM_NR, b + q * MM_NR, MM_NR * sizeof(float));
        }
        p = pfull;
    }
    for (; p * MM_NR < nc; p++) {
        int j0 = p * MM_NR, nr = nc - j0 < MM_NR ? nc - j0 : MM_NR;
        mm_pack_B_panel(dst + (size_t)p * kc * MM_NR, B + j0 * csB, rsB, csB, kc, nr);
    }
}

// ----------------------------------------------------------------------------
// per-thread, grow-only, 64-byte aligned packing buffers (no malloc in steady state)

static float *mm_buffer(float **buf, size_t *cap, size_t nfloats) {
    if (nfloats > *cap) {
        free(*buf);
        size_t bytes = (nfloats * sizeof(float) + 63) & ~(size_t)63;
        *buf = (float *)aligned_alloc(64, bytes);
        if (!*buf) abort();
        *cap = nfloats;
    }
    return *buf;
}

static float *mm_buffer_A(size_t nfloats) {
    static _Thread_local float *buf = NULL;
    static _Thread_local size_t cap = 0;
    return mm_buffer(&buf, &cap, nfloats);
}

static float *mm_buffer_B(size_t nfloats) {
    static _Thread_local float *buf = NULL;
    static _Thread_local size_t cap = 0;
    return mm_buffer(&buf, &cap, nfloats);
}

// ----------------------------------------------------------------------------
// one thread's blocked product:
//   C[M][N] = (accumulate ? C : 0) + (bias ? bias[N] broadcast over rows : 0) + A[M][K] . B[K][N]
// A(i,k) = A[i*rsA + k*csA], B(k,j) = B[k*rsB + j*csB], C(i,j) = C[i*ldc + j].
static void gemm_serial(int M, int N, int K, const float *A, long rsA, long csA, const float *B, long rsB,
                        long csB, float *C, long ldc, int accumulate, const float *bias) {
    // MC blocks: at most MM_MC rows each, M split evenly (e.g. M=256: 132 + 124, not 144 + 112)
    int nblk = (M + MM_MC - 1) / MM_MC;
    int mc_blk = (M + nblk - 1) / nblk;
    mc_blk = (mc_blk + MM_MR - 1) / MM_MR * MM_MR;
    int kc_max = K < MM_KC ? K : MM_KC;
    int nc_max = N < MM_NC ? N : MM_NC;
    int nc_pad = (nc_max + MM_NR - 1) / MM_NR * MM_NR;
    float *bbuf = mm_buffer_B((size_t)kc_max * nc_pad);
    // + slack: the AVX2 A packing may write 2 floats past the last panel
    float *abuf = mm_buffer_A((size_t)kc_max * mc_blk + MM_MR * MM_NR);

    for (int jc = 0; jc < N; jc += MM_NC) {
        int nc = N - jc < MM_NC ? N - jc : MM_NC;
        for (int pc = 0; pc < K; pc += MM_KC) {
            int kc = K - pc < MM_KC ? K - pc : MM_KC;
            int load_c = accumulate || pc > 0;  // later K blocks add onto the earlier ones
            const float *bias_c = (pc == 0 && !accumulate && bias) ? bias + jc : NULL;
            // B[pc:pc+kc, jc:jc+nc] -> NR-wide micro-panels, reused by every row block below
            mm_pack_B(bbuf, B + pc * rsB + jc * csB, rsB, csB, kc, nc);
            for (int ic = 0; ic < M; ic += mc_blk) {
                int mc = M - ic < mc_blk ? M - ic : mc_blk;
                // A[ic:ic+mc, pc:pc+kc] -> MR-tall micro-panels (stays in L2 for the jr loop)
                mm_pack_A(abuf, A + ic * rsA + pc * csA, rsA, csA, mc, kc);
                for (int jr = 0; jr < nc; jr += MM_NR) {
                    int nr = nc - jr < MM_NR ? nc - jr : MM_NR;
                    const float *bp = bbuf + (size_t)(jr / MM_NR) * kc * MM_NR;  // L1-resident
                    const float *bias_r = bias_c ? bias_c + jr : NULL;
                    for (int ir = 0; ir < mc; ir += MM_MR) {
                        int mr = mc - ir < MM_MR ? mc - ir : MM_MR;
                        const float *ap = abuf + (size_t)(ir / MM_MR) * kc * MM_MR;
                        float *cp = C + (long)(ic + ir) * ldc + jc + jr;
                        if (mr == MM_MR && nr == MM_NR) {
                            mm_kernel(kc, ap, bp, cp, ldc, load_c, bias_r);
                        } else {
                            // edge tile: full tile into a stack buffer, copy the valid part
                            float tmp[MM_MR * MM_NR];
                            mm_kernel(kc, ap, bp, tmp, MM_NR, 0, NULL);
                            for (int i = 0; i < mr; i++)
                                for (int j = 0; j < nr; j++) {
                                    float v = tmp[i * MM_NR + j];
                                    if (bias_r) v += bias_r[j];
                                    if (load_c) v += cp[i * ldc + j];
                                    cp[i * ldc + j] = v;
                                }
                        }
                    }
                }
            }
        }
    }
}

// the general product, same contract as gemm_serial, on all OpenMP threads.
// Threading: C is cut into one slab per thread, along whichever of M (in MR-row units) or
// N (in NR-column units) has more micro-tiles, and each thread runs gemm_serial on its slab
// with its own packing buffers. Each thread therefore packs the whole of the operand that
// is not split (the B panel when splitting M): a few % of extra packing on the smallest
// shapes, but no barrier anywhere inside the product -- one fork/join per call. (A shared
// B panel needs two barriers per KC step, 32 per dW product at M=4096, and on a loaded
// 2-core machine one descheduled thread then stalls the other at every one of them.)
static void gemm(int M, int N, int K, const float *A, long rsA, long csA, const float *B, long rsB,
                 long csB, float *C, long ldc, int accumulate, const float *bias) {
    if (M <= 0 || N <= 0) return;
    if (K <= 0) {  // empty reduction: only the bias / zero initialisation
        for (int i = 0; i < M; i++)
            for (int j = 0; j < N; j++)
                C[i * ldc + j] = (accumulate ? C[i * ldc + j] : 0.0f) + (bias ? bias[j] : 0.0f);
        return;
    }
    int nthreads = 1;
#ifdef _OPENMP
    if (2.0 * M * N * K >= (double)MM_PAR_MIN_FLOPS && !omp_in_parallel()) nthreads = omp_get_max_threads();
#endif
    int units_m = (M + MM_MR - 1) / MM_MR, units_n = (N + MM_NR - 1) / MM_NR;
    int split_m = units_m >= units_n;
    int units = split_m ? units_m : units_n;
    int parts = nthreads < units ? nthreads : units;
    if (parts <= 1) {
        gemm_serial(M, N, K, A, rsA, csA, B, rsB, csB, C, ldc, accumulate, bias);
        return;
    }
    MM_PRAGMA(omp parallel for num_threads(parts) schedule(static, 1))
    for (int t = 0; t < parts; t++) {
        int u0 = (int)((long)units * t / parts), u1 = (int)((long)units * (t + 1) / parts);
        if (split_m) {
            int i0 = u0 * MM_MR, i1 = u1 * MM_MR < M ? u1 * MM_MR : M;
            gemm_serial(i1 - i0, N, K, A + i0 * rsA, rsA, csA, B, rsB, csB, C + (long)i0 * ldc, ldc,
                        accumulate, bias);
        } else {
            int j0 = u0 * MM_NR, j1 = u1 * MM_NR < N ? u1 * MM_NR : N;
            gemm_serial(M, j1 - j0, K, A, rsA, csA, B + j0 * csB, rsB, csB, C + j0, ldc, accumulate,
                        bias ? bias + j0 : NULL);
        }
    }
}

// ----------------------------------------------------------------------------
// public API

// out[M][N] = inp[M][K] . weight[N][K]^T + bias[N]
static void matmul_forward(float *out, const float *inp, const float *weight, const float *bias, int M, int K, int N) {
    // A = inp (rs K, cs 1); B(k,n) = weight[n][k] (rs 1, cs K)
    gemm(M, N, K, inp, K, 1, weight, 1, K, out, N, 0, bias);
}

// dinp[M][K] += dout[M][N] . weight[N][K]
// dweight[N][K] += dout^T[N][M] . inp[M][K]
// dbias[N] += sum_m dout[m][N]
// any of dinp / dweight / dbias may be NULL to skip it
static void matmul_backward(float *dinp, float *dweight, float *dbias, const float *dout, const float *inp,
                     const float *weight, int M, int K, int N) {
    if (dinp) gemm(M, K, N, dout, N, 1, weight, K, 1, dinp, K, 1, NULL);
    // A(n,m) = dout[m][n] (rs 1, cs N): the reduction runs over the long M dimension,
    // blocked by KC like any other K
    if (dweight) gemm(N, K, M, dout, 1, N, inp, K, 1, dweight, K, 1, NULL);
    if (dbias) {
        // columns split across threads in chunks of 64; rows summed in order
        int nchunks = (N + 63) / 64;
        MM_PRAGMA(omp parallel for schedule(static) if ((long)M * N >= (1L << 16) && !omp_in_parallel()))
        for (int c = 0; c < nchunks; c++) {
            int n0 = c * 64, n1 = n0 + 64 < N ? n0 + 64 : N;
            for (int m = 0; m < M; m++) {
                const float *d = dout + (long)m * N;
                for (int n = n0; n < n1; n++) dbias[n] += d[n];
            }
        }
    }
}

// plain triple-loop references (double accumulation), same signatures
static void matmul_forward_ref(float *out, const float *inp, const float *weight, const float *bias, int M, int K, int N) {
    for (int m = 0; m < M; m++)
        for (int n = 0; n < N; n++) {
            double s = bias ? bias[n] : 0.0;
            for (int k = 0; k < K; k++) s += (double)inp[(long)m * K + k] * weight[(long)n * K + k];
            out[(long)m * N + n] = (float)s;
        }
}

static void matmul_backward_ref(float *dinp, float *dweight, float *dbias, const float *dout, const float *inp,
                         const float *weight, int M, int K, int N) {
    if (dinp)
        for (int m = 0; m < M; m++)
            for (int k = 0; k < K; k++) {
                double s = 0.0;
                for (int n = 0; n < N; n++) s += (double)dout[(long)m * N + n] * weight[(long)n * K + k];
                dinp[(long)m * K + k] += (float)s;
            }
    if (dweight)
        for (int n = 0; n < N; n++)
            for (int k = 0; k < K; k++) {
                double s = 0.0;
                for (int m = 0; m < M; m++) s += (double)dout[(long)m * N + n] * inp[(long)m * K + k];
                dweight[(long)n * K + k] += (float)s;
            }
    if (dbias)
        for (int n = 0; n < N; n++) {
            double s = 0.0;
            for (int m = 0; m < M; m++) s += dout[(long)m * N + n];
            dbias[n] += (float)s;
        }
}

// ----------------------------------------------------------------------------
// layers: forward/backward pairs on raw float arrays

// out[b,t,:] = wte[inp[b,t],:] + wpe[t,:]   (the Llama family has no wpe: NULL)
static void encoder_forward(float *out, const int *inp, const float *wte, const float *wpe,
                            int B, int T, int C) {
    for (int b = 0; b < B; b++) for (int t = 0; t < T; t++) {
        float *o = out + ((size_t)b * T + t) * C;
        const float *we = wte + (size_t)inp[b * T + t] * C;
        if (!wpe) { memcpy(o, we, (size_t)C * sizeof(float)); continue; }
        const float *pe = wpe + (size_t)t * C;
        for (int i = 0; i < C; i++) o[i] = we[i] + pe[i];
    }
}

static void encoder_backward(float *dwte, float *dwpe, const float *dout, const int *inp,
                             int B, int T, int C) {
    for (int b = 0; b < B; b++) for (int t = 0; t < T; t++) {
        const float *d = dout + ((size_t)b * T + t) * C;
        float *dwe = dwte + (size_t)inp[b * T + t] * C;
        for (int i = 0; i < C; i++) dwe[i] += d[i];
        if (dwpe) for (int i = 0; i < C; i++) dwpe[(size_t)t * C + i] += d[i];
    }
}

// y = (x - mean) * rstd * w + b,  rstd = 1/sqrt(var + 1e-5), per row of C; N = B*T rows.
// mean and rstd are kept for the backward pass.
static void layernorm_forward(float *out, float *mean, float *rstd, const float *inp,
                              const float *weight, const float *bias, int N, int C) {
    #pragma omp parallel for
    for (int i = 0; i < N; i++) {
        const float *x = inp + (size_t)i * C;
        float m = 0.0f;
        #pragma omp simd reduction(+:m)
        for (int c = 0; c < C; c++) m += x[c];
        m /= C;
        float v = 0.0f;
        #pragma omp simd reduction(+:v)
        for (int c = 0; c < C; c++) v += (x[c] - m) * (x[c] - m);
        v /= C;
        float s = 1.0f / sqrtf(v + 1e-5f);
        float *o = out + (size_t)i * C;
        for (int c = 0; c < C; c++) o[c] = (x[c] - m) * s * weight[c] + bias[c];
        if (mean) { mean[i] = m; rstd[i] = s; }
    }
}

// With xhat = (x - mean)*rstd and g = dy*w:
//   dx = rstd * (g - mean(g) - xhat * mean(g*xhat)),  dw += dy*xhat,  db += dy
static void layernorm_backward(float *dinp, float *dweight, float *dbias, const float *dout,
                               const float *inp, const float *weight, const float *mean,
                               const float *rstd, int N, int C) {
    // dinp rows are independent: parallel; dweight/dbias are sums over rows: serial
    // accumulation in row order keeps the result independent of the thread count.
    #pragma omp parallel for
    for (int i = 0; i < N; i++) {
        const float *dy = dout + (size_t)i * C, *x = inp + (size_t)i * C;
        float m = mean[i], s = rstd[i];
        float g_mean = 0.0f, gx_mean = 0.0f;
        #pragma omp simd reduction(+:g_mean, gx_mean)
        for (int c = 0; c < C; c++) {
            float g = dy[c] * weight[c];
            g_mean += g;
            gx_mean += g * (x[c] - m) * s;
        }
        g_mean /= C; gx_mean /= C;
        float *dx = dinp + (size_t)i * C;
        for (int c = 0; c < C; c++) {
            float xhat = (x[c] - m) * s;
            dx[c] += s * (dy[c] * weight[c] - g_mean - xhat * gx_mean);
        }
    }
    for (int i = 0; i < N; i++) {
        const float *dy = dout + (size_t)i * C, *x = inp + (size_t)i * C;
        float m = mean[i], s = rstd[i];
        #pragma omp simd
        for (int c = 0; c < C; c++) {
            dweight[c] += dy[c] * (x[c] - m) * s;
            dbias[c] += dy[c];
        }
    }
}

#define MAX_HEAD_DIM 1024 // (head vectors are normalised in a buffer on the stack)

// RMSNorm of one vector of n: y = x * rstd * w,  rstd = 1/sqrt(mean(x^2) + eps); returns rstd
static inline float rmsnorm_row(float *y, const float *x, const float *w, int n, float eps) {
    float ss = 0.0f;
    #pragma omp simd reduction(+:ss)
    for (int c = 0; c < n; c++) ss += x[c] * x[c];
    float s = 1.0f / sqrtf(ss / n + eps);
    for (int c = 0; c < n; c++) y[c] = x[c] * s * w[c];
    return s;
}

// With xhat = x*rstd and g = dy*w:  dx += rstd * (g - xhat * mean(g*xhat))
// (LayerNorm's backward without the mean terms). The weight's share, dw += dy*xhat,
// is left to the caller, which sums it over rows in a fixed order.
static inline void rmsnorm_row_backward(float *dx, const float *dy, const float *x, const float *w, float s, int n) {
    float gx_mean = 0.0f;
    #pragma omp simd reduction(+:gx_mean)
    for (int c = 0; c < n; c++) gx_mean += dy[c] * w[c] * x[c] * s;
    gx_mean /= n;
    for (int c = 0; c < n; c++) dx[c] += s * (dy[c] * w[c] - x[c] * s * gx_mean);
}

// RMSNorm over N rows of C (the Llama family's LayerNorm); rstd kept for the backward
static void rmsnorm_forward(float *out, float *rstd, const float *inp, const float *weight, int N, int C, float eps) {
    #pragma omp parallel for
    for (int i = 0; i < N; i++) {
        float s = rmsnorm_row(out + (size_t)i * C, inp + (size_t)i * C, weight, C, eps);
        if (rstd) rstd[i] = s;
    }
}

static void rmsnorm_backward(float *dinp, float *dweight, const float *dout, const float *inp,
                             const float *weight, const float *rstd, int N, int C) {
    #pragma omp parallel for
    for (int i = 0; i < N; i++)
        rmsnorm_row_backward(dinp + (size_t)i * C, dout + (size_t)i * C, inp + (size_t)i * C, weight, rstd[i], C);
    for (int i = 0; i < N; i++) { // dw += dy * xhat, rows in order (independent of the thread count)
        const float *dy = dout + (size_t)i * C, *x = inp + (size_t)i * C;
        #pragma omp simd
        for (int c = 0; c < C; c++) dweight[c] += dy[c] * x[c] * rstd[i];
    }
}

// Rotary position embedding (Hugging Face's rotate-half form) of one head vector x of
// hd = 2h at position t, with cs = cos, sn = sin of the angles t * inv_freq[0..h):
//   y[i] = x[i] cs[i] - x[i+h] sn[i],   y[i+h] = x[i+h] cs[i] + x[i] sn[i]
static inline void rope_row(float *y, const float *x, const float *cs, const float *sn, int h) {
    for (int i = 0; i < h; i++) {
        float a = x[i], b = x[i + h];
        y[i] = a * cs[i] - b * sn[i];
        y[i + h] = b * cs[i] + a * sn[i];
    }
}

// The backward of a rotation is the rotation back (the transpose):
//   dx[i] += dy[i] cs[i] + dy[i+h] sn[i],   dx[i+h] += dy[i+h] cs[i] - dy[i] sn[i]
static inline void rope_row_backward(float *dx, const float *dy, const float *cs, const float *sn, int h) {
    for (int i = 0; i < h; i++) {
        float a = dy[i], b = dy[i + h];
        dx[i] += a * cs[i] + b * sn[i];
        dx[i + h] += b * cs[i] - a * sn[i];
    }
}

// The Llama family's attention input for one position t, x = [q | k | v] (NH query
// heads, then KV key heads, then KV value heads, hd each) -> y: every q and k head
// normalised (Qwen3's QK-norm, when qnw is given: RMSNorm over hd with weights qnw for
// q heads, knw for k heads; their rstd (NH+KV) kept when rstd is given) and then
// rotated by t's angles cs, sn. v is left to the caller. y may be x.
static inline void qk_rope_row(float *y, float *rstd, const float *x, const float *qnw, const float *knw,
                               const float *cs, const float *sn, int NH, int KV, int hd, float eps) {
    float tmp[MAX_HEAD_DIM];
    for (int j = 0; j < NH + KV; j++) {
        const float *xj = x + (size_t)j * hd;
        if (qnw) {
            float s = rmsnorm_row(tmp, xj, j < NH ? qnw : knw, hd, eps);
            if (rstd) rstd[j] = s;
            xj = tmp;
        }
        rope_row(y + (size_t)j * hd, xj, cs, sn, hd / 2);
    }
}

// qkv (B, T, QKV) -> qkr (B, T, QKV) by qk_rope_row at each position, v copied;
// rstd (B, T, NH+KV) when qk_norm
static void qk_rope_forward(float *qkr, float *rstd, const float *qkv, const float *qnw, const float *knw,
                            const float *rope_cos, const float *rope_sin, int B, int T, int NH, int KV, int hd, float eps) {
    int QKV = (NH + 2 * KV) * hd, h = hd / 2;
    #pragma omp parallel for
    for (int i = 0; i < B * T; i++) {
        int t = i % T;
        const float *x = qkv + (size_t)i * QKV;
        float *y = qkr + (size_t)i * QKV;
        qk_rope_row(y, rstd ? rstd + (size_t)i * (NH + KV) : NULL, x, qnw, knw, rope_cos + (size_t)t * h,
                    rope_sin + (size_t)t * h, NH, KV, hd, eps);
        memcpy(y + (size_t)(NH + KV) * hd, x + (size_t)(NH + KV) * hd, (size_t)KV * hd * sizeof(float));
    }
}

// Backward of the above: dqkr -> rotation back -> (QK-norm's backward) -> dqkv;
// the norm weights' gradients are summed over positions in order.
static void qk_rope_backward(float *dqkv, float *dqnw, float *dknw, const float *dqkr, const float *qkv,
                             const float *qnw, const float *knw, const float *rstd, const float *rope_cos,
                             const float *rope_sin, int B, int T, int NH, int KV, int hd) {
    int QKV = (NH + 2 * KV) * hd, h = hd / 2;
    #pragma omp parallel for
    for (int i = 0; i < B * T; i++) {
        int t = i % T;
        const float *dy = dqkr + (size_t)i * QKV, *x = qkv + (size_t)i * QKV;
        const float *cs = rope_cos + (size_t)t * h, *sn = rope_sin + (size_t)t * h;
        float *dx = dqkv + (size_t)i * QKV, tmp[MAX_HEAD_DIM];
        for (int j = 0; j < NH + KV; j++) {
            float *dxj = dx + (size_t)j * hd;
            if (!qnw) { rope_row_backward(dxj, dy + (size_t)j * hd, cs, sn, h); continue; }
            memset(tmp, 0, (size_t)hd * sizeof(float));
            rope_row_backward(tmp, dy + (size_t)j * hd, cs, sn, h);
            rmsnorm_row_backward(dxj, tmp, x + (size_t)j * hd, j < NH ? qnw : knw, rstd[(size_t)i * (NH + KV) + j], hd);
        }
        for (int c = (NH + KV) * hd; c < QKV; c++) dx[c] += dy[c];
    }
    if (!qnw) return;
    for (int i = 0; i < B * T; i++) { // dw += dnormed * xhat, in order
        int t = i % T;
        const float *cs = rope_cos + (size_t)t * h, *sn = rope_sin + (size_t)t * h;
        for (int j = 0; j < NH + KV; j++) {
            const float *x = qkv + (size_t)i * QKV + (size_t)j * hd;
            float tmp[MAX_HEAD_DIM], s = rstd[(size_t)i * (NH + KV) + j], *dw = j < NH ? dqnw : dknw;
            memset(tmp, 0, (size_t)hd * sizeof(float));
            rope_row_backward(tmp, dqkr + (size_t)i * QKV + (size_t)j * hd, cs, sn, h);
            for (int c = 0; c < hd; c++) dw[c] += tmp[c] * x[c] * s;
        }
    }
}

// Causal self-attention with grouped-query heads. inp (B,T,QKV) holds [q | k | v] per
// position: NH query heads, then KV key heads, then KV value heads, hd floats each
// (QKV = (NH + 2 KV) hd); query head h reads key/value head h / (NH/KV). GPT-2 is the
// case KV = NH, hd = C/NH. out (B,T,NH hd). att (B,NH,T,T) keeps the probabilities:
//   att[t,u] = softmax_u( q_t . k_u / sqrt(hd) ) for u <= t (0 above the diagonal)
//   out_t = sum_u att[t,u] v_u
// Per (b, h) these are two matrix products, S = Q K^T and O = P V, so they run on the
// GEMM core (single-threaded inside the parallel (b, h) loop). Causality: rows are
// taken in blocks of ATT_BLOCK, and a block of rows [t0, t1) only needs columns
// [0, t1), which skips most of the masked upper triangle.
#define ATT_BLOCK 64

static void attention_forward(float *out, float *att, const float *inp, int B, int T, int NH, int KV, int hd) {
    int QKV = (NH + 2 * KV) * hd, AC = NH * hd, group = NH / KV;
    float scale = 1.0f / sqrtf((float)hd);
    #pragma omp parallel for collapse(2) schedule(dynamic)
    for (int b = 0; b < B; b++) for (int h = 0; h < NH; h++) {
        const float *q = inp + (size_t)b * T * QKV + h * hd;
        const float *k = inp + (size_t)b * T * QKV + (NH + h / group) * hd, *v = k + KV * hd;
        float *P = att + ((size_t)b * NH + h) * T * T, *o = out + (size_t)b * T * AC + h * hd;
        for (int t0 = 0; t0 < T; t0 += ATT_BLOCK) {
            int t1 = t0 + ATT_BLOCK < T ? t0 + ATT_BLOCK : T;
            // S[t0:t1, 0:t1] = Q[t0:t1] K[0:t1]^T   (B(k,u) = k_u[k]: row stride 1, column stride QKV)
            gemm(t1 - t0, t1, hd, q + (size_t)t0 * QKV, QKV, 1, k, 1, QKV, P + (size_t)t0 * T, T, 0, NULL);
            for (int t = t0; t < t1; t++) {
                float *a = P + (size_t)t * T, maxval = -INFINITY, sum = 0.0f;
                for (int u = 0; u <= t; u++) { a[u] *= scale; maxval = a[u] > maxval ? a[u] : maxval; }
                for (int u = 0; u <= t; u++) a[u] = fast_expf(a[u] - maxval);
                for (int u = 0; u <= t; u++) sum += a[u];
                float inv = 1.0f / sum;
                for (int u = 0; u <= t; u++) a[u] *= inv;
                for (int u = t + 1; u < T; u++) a[u] = 0.0f;
            }
            // O[t0:t1] = P[t0:t1, 0:t1] V[0:t1]
            gemm(t1 - t0, hd, t1, P + (size_t)t0 * T, T, 1, v, QKV, 1, o + (size_t)t0 * AC, AC, 0, NULL);
        }
    }
}

// Backward of the above, per (b, h) and block of rows [t0, t1), with dO = dout:
//   dP = dO V^T                                   (only u < t1 is needed)
//   dV += P^T dO
//   dS[t,u] = scale * P[t,u] (dP[t,u] - sum_u' P[t,u'] dP[t,u'])   (softmax backward)
//   dQ += dS K,   dK += dS^T Q
// The query heads of one key/value group add into the same dK, dV: each parallel
// task takes one (b, group) and its heads in order, so no two tasks write one slice.
static void attention_backward(float *dinp, const float *dout, const float *inp, const float *att,
                               int B, int T, int NH, int KV, int hd) {
    int QKV = (NH + 2 * KV) * hd, AC = NH * hd, group = NH / KV;
    float scale = 1.0f / sqrtf((float)hd);
    #pragma omp parallel
    {
        float *dS = malloc((size_t)ATT_BLOCK * T * sizeof(float)); // this thread's dP / dS block
        #pragma omp for collapse(2) schedule(dynamic)
        for (int b = 0; b < B; b++) for (int g = 0; g < KV; g++) for (int h = g * group; h < (g + 1) * group; h++) {
            const float *q = inp + (size_t)b * T * QKV + h * hd;
            const float *k = inp + (size_t)b * T * QKV + (NH + g) * hd, *v = k + KV * hd;
            float *dq = dinp + (size_t)b * T * QKV + h * hd;
            float *dk = dinp + (size_t)b * T * QKV + (NH + g) * hd, *dv = dk + KV * hd;
            const float *P = att + ((size_t)b * NH + h) * T * T, *dO = dout + (size_t)b * T * AC + h * hd;
            for (int t0 = 0; t0 < T; t0 += ATT_BLOCK) {
                int t1 = t0 + ATT_BLOCK < T ? t0 + ATT_BLOCK : T, n = t1 - t0;
                const float *Pb = P + (size_t)t0 * T;
                // dP[0:n, 0:t1] = dO[t0:t1] V[0:t1]^T
                gemm(n, t1, hd, dO + (size_t)t0 * AC, AC, 1, v, 1, QKV, dS, T, 0, NULL);
                // dV[0:t1] += P[t0:t1, 0:t1]^T dO[t0:t1]
                gemm(t1, hd, n, Pb, 1, T, dO + (size_t)t0 * AC, AC, 1, dv, QKV, 1, NULL);
                for (int i = 0; i < n; i++) {
                    const float *p = Pb + (size_t)i * T;
                    float *d = dS + (size_t)i * T, dot = 0.0f;
                    int t = t0 + i;
                    for (int u = 0; u <= t; u++) dot += p[u] * d[u];
                    for (int u = 0; u <= t; u++) d[u] = scale * p[u] * (d[u] - dot);
                    for (int u = t + 1; u < t1; u++) d[u] = 0.0f;
                }
                // dQ[t0:t1] += dS K[0:t1];  dK[0:t1] += dS^T Q[t0:t1]
                gemm(n, hd, t1, dS, T, 1, k, QKV, 1, dq + (size_t)t0 * QKV, QKV, 1, NULL);
                gemm(t1, hd, n, dS, 1, T, q + (size_t)t0 * QKV, QKV, 1, dk, QKV, 1, NULL);
            }
        }
        free(dS);
    }
}

// GELU, tanh approximation: y = 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
#define GELU_SCALE 0.7978845608028654f
static void gelu_forward(float *out, const float *inp, size_t N) {
    #pragma omp parallel for simd
    for (size_t i = 0; i < N; i++) {
        float x = inp[i];
        out[i] = 0.5f * x * (1.0f + fast_tanhf(GELU_SCALE * (x + 0.044715f * x * x * x)));
    }
}

// dy/dx = 0.5 (1 + tanh(u)) + 0.5 x (1 - tanh(u)^2) sqrt(2/pi) (1 + 3*0.044715 x^2)
static void gelu_backward(float *dinp, const float *inp, const float *dout, size_t N) {
    #pragma omp parallel for simd
    for (size_t i = 0; i < N; i++) {
        float x = inp[i];
        float th = fast_tanhf(GELU_SCALE * (x + 0.044715f * x * x * x));
        float sech2 = 1.0f - th * th;
        float grad = 0.5f * (1.0f + th) + 0.5f * x * sech2 * GELU_SCALE * (1.0f + 3.0f * 0.044715f * x * x);
        dinp[i] += grad * dout[i];
    }
}

// SwiGLU: inp (N, 2F) holds [gate | up] per row; out (N, F):
//   out = silu(gate) * up,  silu(z) = z * sigmoid(z)
static void swiglu_forward(float *out, const float *inp, int N, int F) {
    #pragma omp parallel for
    for (int i = 0; i < N; i++) {
        const float *gate = inp + (size_t)i * 2 * F, *up = gate + F;
        float *o = out + (size_t)i * F;
        #pragma omp simd
        for (int j = 0; j < F; j++) o[j] = gate[j] / (1.0f + fast_expf(-gate[j])) * up[j];
    }
}

// d gate = dout * up * sigmoid(z) (1 + z (1 - sigmoid(z))),   d up = dout * silu(z)
static void swiglu_backward(float *dinp, const float *inp, const float *dout, int N, int F) {
    #pragma omp parallel for
    for (int i = 0; i < N; i++) {
        const float *gate = inp + (size_t)i * 2 * F, *up = gate + F, *d = dout + (size_t)i * F;
        float *dgate = dinp + (size_t)i * 2 * F, *dup = dgate + F;
        #pragma omp simd
        for (int j = 0; j < F; j++) {
            float z = gate[j], sig = 1.0f / (1.0f + fast_expf(-z));
            dgate[j] += d[j] * up[j] * sig * (1.0f + z * (1.0f - sig));
            dup[j] += d[j] * z * sig;
        }
    }
}

// out = a + b
static void residual_forward(float *out, const float *a, const float *b, size_t N) {
    #pragma omp parallel for
    for (size_t i = 0; i < N; i++) out[i] = a[i] + b[i];
}

// both inputs receive the gradient unchanged
static void residual_backward(float *da, float *db, const float *dout, size_t N) {
    #pragma omp parallel for
    for (size_t i = 0; i < N; i++) { da[i] += dout[i]; db[i] += dout[i]; }
}

// probs = softmax(logits[:V]) per row (padding columns get probability 0);
// logp[i] = log probs[i][targets[i]] when targets are given, and when entropy is,
//   entropy[i] = -sum_v p_v log p_v = (max + log Z) - sum_v p_v l_v   (Z = sum_v e^(l_v - max)).
static void softmax_logp_forward(float *probs, float *logp, float *entropy, const float *logits, const int *targets,
                                 int N, int V, int Vp) {
    #pragma omp parallel for
    for (int i = 0; i < N; i++) {
        const float *l = logits + (size_t)i * Vp;
        float *p = probs + (size_t)i * Vp;
        float maxval = -INFINITY;
        for (int v = 0; v < V; v++) if (l[v] > maxval) maxval = l[v];
        float sum = 0.0f;
        for (int v = 0; v < V; v++) p[v] = fast_expf(l[v] - maxval);
        for (int v = 0; v < V; v++) sum += p[v];
        float inv = 1.0f / sum;
        for (int v = 0; v < V; v++) p[v] *= inv;
        for (int v = V; v < Vp; v++) p[v] = 0.0f;
        if (targets) logp[i] = l[targets[i]] - maxval - logf(sum);
        if (entropy) {
            float pl = 0.0f;
            #pragma omp simd reduction(+ : pl)
            for (int v = 0; v < V; v++) pl += p[v] * l[v];
            entropy[i] = maxval + logf(sum) - pl;
        }
    }
}

// The one objective: L = -sum_i c_i log p_i[y_i]  =>  dlogits_i = c_i (p_i - onehot(y_i)).
// Rows with c_i == 0 contribute nothing and their gradient row is zero.
static void weighted_nll_backward(float *dlogits, const float *probs, const int *targets,
                                  const float *c, int N, int V, int Vp) {
    #pragma omp parallel for
    for (int i = 0; i < N; i++) {
        float *d = dlogits + (size_t)i * Vp;
        const float *p = probs + (size_t)i * Vp;
        float ci = c[i];
        if (ci == 0.0f) { memset(d, 0, (size_t)Vp * sizeof(float)); continue; }
        for (int v = 0; v < V; v++) d[v] = ci * p[v];
        for (int v = V; v < Vp; v++) d[v] = 0.0f;
        d[targets[i]] -= ci;
    }
}

// ----------------------------------------------------------------------------
// the model

// Two families share one engine: GPT-2 (LayerNorm, learned positions, GELU MLP) and
// the Llama family (RMSNorm, rotary positions, grouped-query attention, SwiGLU MLP:
// Llama, SmolLM2, Qwen2/2.5 with q/k/v biases, Qwen3 with QK-norm).
enum { ARCH_GPT2 = 0, ARCH_LLAMA = 1 };

typedef struct {
    int max_seq_len;       // maxT
    int vocab_size;        // V
    int padded_vocab_size; // Vp, a multiple of 128, >= V
    int num_layers;        // L
    int num_heads;         // NH
    int channels;          // C
    // the Llama family only (all zero for GPT-2)
    int arch;              // ARCH_GPT2 or ARCH_LLAMA
    int num_kv_heads;      // KV: key/value heads, each shared by NH/KV query heads
    int head_dim;          // hd (need not be C/NH)
    int ffn_dim;           // F: the SwiGLU's inner width
    int qkv_bias;          // q/k/v projections have biases (Qwen2/2.5)
    int qk_norm;           // RMSNorm over each head's q and k before RoPE (Qwen3)
    int untied;            // a separate output head instead of the embedding matrix
    float norm_eps;        // RMSNorm's eps
    float rope_theta;      // RoPE's base
} GPTConfig;

// The widths the layers see, derived once from the config:
//   hd head size, KV key/value heads, QKV = (NH + 2 KV) hd the fused projection's rows,
//   AC = NH hd attention output width, F the MLP's inner width, F1 its first matmul's
//   rows (F for GPT-2; 2F for SwiGLU: gate rows, then up rows)
typedef struct { int L, C, NH, KV, hd, QKV, AC, F, F1, V, Vp, llama; } Dims;

static Dims dims_of(GPTConfig c) {
    Dims d = {.L = c.num_layers, .C = c.channels, .NH = c.num_heads, .V = c.vocab_size,
              .Vp = c.padded_vocab_size, .llama = c.arch == ARCH_LLAMA};
    d.KV = d.llama ? c.num_kv_heads : c.num_heads;
    d.hd = d.llama ? c.head_dim : c.channels / c.num_heads;
    d.QKV = (d.NH + 2 * d.KV) * d.hd;
    d.AC = d.NH * d.hd;
    d.F = d.llama ? c.ffn_dim : 4 * c.channels;
    d.F1 = d.llama ? 2 * d.F : d.F;
    return d;
}

// Slots 0-15 are llm.c's GPT-2 tensors in its checkpoint order; 16-18 exist only in
// the Llama family. A slot the config does not use has size 0 (GPT-2 has no
// qnormw, knormw, lmhead; the Llama family no wpe and no LayerNorm or MLP biases).
#define NUM_PARAMETER_TENSORS 19
typedef struct {
    float *wte;      // (Vp, C)
    float *wpe;      // (maxT, C)                GPT-2
    float *ln1w;     // (L, C)
    float *ln1b;     // (L, C)                   GPT-2
    float *qkvw;     // (L, QKV, C)              rows: q (NH hd), k (KV hd), v (KV hd)
    float *qkvb;     // (L, QKV)                 GPT-2, or Llama with qkv_bias
    float *attprojw; // (L, C, AC)
    float *attprojb; // (L, C)                   GPT-2
    float *ln2w;     // (L, C)
    float *ln2b;     // (L, C)                   GPT-2
    float *fcw;      // (L, F1, C)
    float *fcb;      // (L, F)                   GPT-2
    float *fcprojw;  // (L, C, F)
    float *fcprojb;  // (L, C)                   GPT-2
    float *lnfw;     // (C)
    float *lnfb;     // (C)                      GPT-2
    float *qnormw;   // (L, hd)                  qk_norm
    float *knormw;   // (L, hd)                  qk_norm
    float *lmhead;   // (Vp, C)                  untied
} ParameterTensors;

// AdamW decays the 2-D matrices only (not biases, not norms): this flags them.
static const int param_is_matrix[NUM_PARAMETER_TENSORS] = {1, 1, 0, 0, 1, 0, 1, 0, 0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 1};

static void param_sizes(size_t sizes[NUM_PARAMETER_TENSORS], GPTConfig cfg) {
    Dims d = dims_of(cfg);
    size_t Vp = d.Vp, C = d.C, L = d.L, QKV = d.QKV, F = d.F, g = !d.llama; // g: GPT-2 only
    size_t qb = g || cfg.qkv_bias, qn = d.llama && cfg.qk_norm, lm = d.llama && cfg.untied;
    size_t s[NUM_PARAMETER_TENSORS] = {Vp * C, g * cfg.max_seq_len * C, L * C, g * L * C, L * QKV * C, qb * L * QKV,
                                       L * C * d.AC, g * L * C, L * C, g * L * C, L * d.F1 * C, g * L * F,
                                       L * C * F, g * L * C, C, g * C, qn * L * d.hd, qn * L * d.hd, lm * Vp * C};
    memcpy(sizes, s, sizeof(s));
}

// Point the tensors into one contiguous block, in slot order.
static void point_parameters(ParameterTensors *p, float *memory, const size_t sizes[NUM_PARAMETER_TENSORS]) {
    float **ptrs[NUM_PARAMETER_TENSORS] = {&p->wte, &p->wpe, &p->ln1w, &p->ln1b, &p->qkvw, &p->qkvb,
                                           &p->attprojw, &p->attprojb, &p->ln2w, &p->ln2b, &p->fcw,
                                           &p->fcb, &p->fcprojw, &p->fcprojb, &p->lnfw, &p->lnfb,
                                           &p->qnormw, &p->knormw, &p->lmhead};
    for (int i = 0; i < NUM_PARAMETER_TENSORS; i++) { *ptrs[i] = sizes[i] ? memory : NULL; memory += sizes[i]; }
}

#define NUM_ACTIVATION_TENSORS 23
#define HEAD_CHUNK_FLOATS ((size_t)1 << 25) // at most 128 MB in each of acts.logits and acts.probs
typedef struct {
    float *encoded;   // (B, T, C)
    float *ln1;       // (L, B, T, C)
    float *ln1_mean;  // (L, B, T)                 GPT-2
    float *ln1_rstd;  // (L, B, T)
    float *qkv;       // (L, B, T, QKV)
    float *atty;      // (L, B, T, AC)
    float *att;       // (L, B, NH, T, T)
    float *attproj;   // (L, B, T, C)
    float *residual2; // (L, B, T, C)
    float *ln2;       // (L, B, T, C)
    float *ln2_mean;  // (L, B, T)                 GPT-2
    float *ln2_rstd;  // (L, B, T)
    float *fch;       // (L, B, T, F1)
    float *fch_gelu;  // (L, B, T, F)              GELU(fch), or SwiGLU(fch)
    float *fcproj;    // (L, B, T, C)
    float *residual3; // (L, B, T, C)
    float *lnf;       // (B, T, C)
    float *lnf_mean;  // (B, T)                    GPT-2
    float *lnf_rstd;  // (B, T)
    float *logits;    // (R, Vp)                   a block of R = head_rows rows of the head
    float *probs;     // (R, Vp)                   (see "the head" below)
    float *qkr;       // (L, B, T, QKV)            Llama: q, k normed and rotated; v
    float *qk_rstd;   // (L, B, T, NH + KV)        Llama with qk_norm: each head's rstd
} ActivationTensors;

static void activation_sizes(size_t s[NUM_ACTIVATION_TENSORS], GPTConfig cfg, int B, int T, size_t R) {
    Dims d = dims_of(cfg);
    size_t C = d.C, L = d.L, BT = (size_t)B * T, g = !d.llama, qn = d.llama && cfg.qk_norm;
    size_t sizes[NUM_ACTIVATION_TENSORS] = {
        BT * C, L * BT * C, g * L * BT, L * BT, L * BT * d.QKV, L * BT * d.AC, L * B * d.NH * T * T,
        L * BT * C, L * BT * C, L * BT * C, g * L * BT, L * BT, L * BT * d.F1, L * BT * d.F,
        L * BT * C, L * BT * C, BT * C, g * BT, BT, R * d.Vp, R * d.Vp,
        d.llama * L * BT * d.QKV, qn * L * BT * (d.NH + d.KV)};
    memcpy(s, sizes, sizeof(sizes));
}

// Lays the activation tensors of a (B, T) batch, with R rows of the head, out in `mem`;
// returns the float count.
static size_t point_activations(ActivationTensors *a, float *mem, GPTConfig cfg, int B, int T, size_t R) {
    size_t s[NUM_ACTIVATION_TENSORS], total = 0;
    activation_sizes(s, cfg, B, T, R);
    float **ptrs[NUM_ACTIVATION_TENSORS] = {
        &a->encoded, &a->ln1, &a->ln1_mean, &a->ln1_rstd, &a->qkv, &a->atty, &a->att, &a->attproj,
        &a->residual2, &a->ln2, &a->ln2_mean, &a->ln2_rstd, &a->fch, &a->fch_gelu, &a->fcproj,
        &a->residual3, &a->lnf, &a->lnf_mean, &a->lnf_rstd, &a->logits, &a->probs, &a->qkr, &a->qk_rstd};
    for (int i = 0; i < NUM_ACTIVATION_TENSORS; i++) { if (mem) *ptrs[i] = s[i] ? mem + total : NULL; total += s[i]; }
    return total;
}

typedef struct {
    GPTConfig config;
    ParameterTensors params;
    size_t param_sizes[NUM_PARAMETER_TENSORS];
    float *params_memory;
    size_t num_parameters;
    ParameterTensors grads;
    float *grads_memory;
    float *m_memory, *v_memory; // AdamW moments, allocated on the first update
    int adam_t;                 // AdamW step count (for bias correction)
    // activations of the last forward's (B, T) batch, laid out in buffers that only
    // grow, so batches of varying shape (RL micro-batches) reuse the memory
    ActivationTensors acts, grads_acts;
    float *acts_memory, *grads_acts_memory;
    size_t acts_capacity, grads_acts_capacity; // floats allocated
    size_t num_activations;     // floats used by the current (B, T)
    size_t tokens_capacity;     // B*T entries allocated in inputs/targets/logp/entropy
    int B, T;                   // shape of the last forward pass
    int *inputs, *targets;      // (B, T) copies of the last forward's tokens
    float *logp, *entropy;      // (B, T) log pi(target) and the entropy of pi, of the last forward
    int head_rows;              // R: rows of the head held at once (all B*T when they fit)
    int head_max_rows;          // 0: HEAD_CHUNK_FLOATS / Vp (a test may set fewer)
    size_t head_r0;             // acts.logits/probs hold rows head_r0 .. +head_n of the last
    int head_n;                 //   forward (head_n = 0: no block of consecutive rows)
    float *rope_cos, *rope_sin; // (maxT, hd/2) RoPE's rotation at each position (Llama)
} GPT;

// Returns 0, or -1 with a message when the config cannot describe a real model.
static int gpt_config_check(GPTConfig c, char *err, size_t errlen) {
    if (c.max_seq_len < 1 || c.max_seq_len > (1 << 16)) return set_err(err, errlen, "max_seq_len %d out of range [1, 65536]", c.max_seq_len);
    if (c.vocab_size < 1 || c.vocab_size > (1 << 24)) return set_err(err, errlen, "vocab_size %d out of range [1, 16777216]", c.vocab_size);
    if (c.padded_vocab_size < c.vocab_size || c.padded_vocab_size > (1 << 24) + 128) return set_err(err, errlen, "padded_vocab_size %d smaller than vocab_size %d or too large", c.padded_vocab_size, c.vocab_size);
    if (c.num_layers < 1 || c.num_layers > 1024) return set_err(err, errlen, "num_layers %d out of range [1, 1024]", c.num_layers);
    if (c.channels < 1 || c.channels > (1 << 15)) return set_err(err, errlen, "channels %d out of range [1, 32768]", c.channels);
    if (c.arch == ARCH_GPT2) {
        if (c.num_heads < 1 || c.channels % c.num_heads != 0) return set_err(err, errlen, "num_heads %d does not divide channels %d", c.num_heads, c.channels);
        return 0;
    }
    if (c.arch != ARCH_LLAMA) return set_err(err, errlen, "unknown architecture %d", c.arch);
    if (c.num_heads < 1 || c.num_heads > 1024) return set_err(err, errlen, "num_heads %d out of range [1, 1024]", c.num_heads);
    if (c.num_kv_heads < 1 || c.num_heads % c.num_kv_heads != 0)
        return set_err(err, errlen, "num_key_value_heads %d does not divide num_heads %d", c.num_kv_heads, c.num_heads);
    if (c.head_dim < 2 || c.head_dim > MAX_HEAD_DIM || c.head_dim % 2)
        return set_err(err, errlen, "head_dim %d is not even in [2, %d]", c.head_dim, MAX_HEAD_DIM);
    if (c.ffn_dim < 1 || c.ffn_dim > (1 << 18)) return set_err(err, errlen, "intermediate_size %d out of range [1, 262144]", c.ffn_dim);
    if (!(c.norm_eps > 0.0f && c.norm_eps < 1.0f)) return set_err(err, errlen, "rms_norm_eps %g out of range (0, 1)", c.norm_eps);
    if (!(c.rope_theta > 1.0f && c.rope_theta < 1e12f)) return set_err(err, errlen, "rope_theta %g out of range (1, 1e12)", c.rope_theta);
    return 0;
}

// RoPE's rotation angles, as Hugging Face computes them (in float32):
//   inv_freq[i] = theta^(-2i/hd),  angle(t, i) = t * inv_freq[i],  i < hd/2
static void rope_tables(float *cos_t, float *sin_t, int maxT, int hd, float theta) {
    int half = hd / 2;
    for (int i = 0; i < half; i++) {
        float inv_freq = (float)(1.0 / pow((double)theta, (double)(2 * i) / hd));
        for (int t = 0; t < maxT; t++) {
            float angle = (float)t * inv_freq;
            cos_t[(size_t)t * half + i] = (float)cos((double)angle);
            sin_t[(size_t)t * half + i] = (float)sin((double)angle);
        }
    }
}

static void gpt_init(GPT *model, GPTConfig cfg) {
    memset(model, 0, sizeof(*model));
    model->config = cfg;
    param_sizes(model->param_sizes, cfg);
    size_t n = 0;
    for (int i = 0; i < NUM_PARAMETER_TENSORS; i++) n += model->param_sizes[i];
    model->num_parameters = n;
    model->params_memory = xcalloc_aligned(n * sizeof(float));
    point_parameters(&model->params, model->params_memory, model->param_sizes);
    if (cfg.arch == ARCH_LLAMA) {
        size_t n_rope = (size_t)cfg.max_seq_len * (cfg.head_dim / 2);
        model->rope_cos = xcalloc_aligned(n_rope * sizeof(float));
        model->rope_sin = xcalloc_aligned(n_rope * sizeof(float));
        rope_tables(model->rope_cos, model->rope_sin, cfg.max_seq_len, cfg.head_dim, cfg.rope_theta);
    }
}

// GPT-2 style random init: N(0, 0.02), residual projections scaled by 1/sqrt(2L),
// norm weights 1, biases 0. Padding rows of wte (and lmhead) stay 0.
static void gpt_init_random(GPT *model, GPTConfig cfg, uint64_t seed) {
    gpt_init(model, cfg);
    uint64_t rng = rng_seed(seed);
    ParameterTensors *p = &model->params;
    size_t C = cfg.channels, L = cfg.num_layers;
    float proj_std = 0.02f / sqrtf(2.0f * L);
    struct { float *t; size_t n; float std; } mats[] = {
        {p->wte, (size_t)cfg.vocab_size * C, 0.02f}, {p->wpe, model->param_sizes[1], 0.02f},
        {p->qkvw, model->param_sizes[4], 0.02f}, {p->attprojw, model->param_sizes[6], proj_std},
        {p->fcw, model->param_sizes[10], 0.02f}, {p->fcprojw, model->param_sizes[12], proj_std},
        {p->lmhead, p->lmhead ? (size_t)cfg.vocab_size * C : 0, 0.02f}};
    for (size_t m = 0; m < sizeof(mats) / sizeof(mats[0]); m++) {
        for (size_t i = 0; i < mats[m].n; i++) { // Box-Muller
            float u1 = rng_f32(&rng) + 1e-7f, u2 = rng_f32(&rng);
            mats[m].t[i] = mats[m].std * sqrtf(-2.0f * logf(u1)) * cosf(6.2831853f * u2);
        }
    }
    for (size_t i = 0; i < L * C; i++) { p->ln1w[i] = 1.0f; p->ln2w[i] = 1.0f; }
    for (size_t i = 0; i < C; i++) p->lnfw[i] = 1.0f;
    for (size_t i = 0; i < model->param_sizes[16]; i++) { p->qnormw[i] = 1.0f; p->knormw[i] = 1.0f; }
}

static void gpt_free(GPT *model) {
    free(model->params_memory); free(model->grads_memory);
    free(model->m_memory); free(model->v_memory);
    free(model->acts_memory); free(model->grads_acts_memory);
    free(model->inputs); free(model->targets); free(model->logp); free(model->entropy);
    free(model->rope_cos); free(model->rope_sin);
    memset(model, 0, sizeof(*model));
}

// The head's rows for a (B, T) batch: all B*T when they fit in HEAD_CHUNK_FLOATS, else
// blocks of that size, and never fewer than B (gpt_head_at's one row per sequence)
static int head_rows_for(const GPT *model, int B, int T) {
    size_t BT = (size_t)B * T, cap = HEAD_CHUNK_FLOATS / model->config.padded_vocab_size;
    if (model->head_max_rows > 0) cap = model->head_max_rows;
    size_t R = BT < cap ? BT : cap < 1 ? 1 : cap;
    return (int)(R < (size_t)B ? (size_t)B : R);
}

static void gpt_ensure_activations(GPT *model, int B, int T) {
    model->head_rows = head_rows_for(model, B, T);
    size_t R = model->head_rows, BT = (size_t)B * T;
    size_t need = point_activations(&model->acts, NULL, model->config, B, T, R);
    if (need > model->acts_capacity) {
        free(model->acts_memory); free(model->grads_acts_memory);
        model->acts_memory = xcalloc_aligned(need * sizeof(float));
        model->grads_acts_memory = NULL; // allocated on the first backward
        model->acts_capacity = need; model->grads_acts_capacity = 0;
    }
    if (BT > model->tokens_capacity) {
        free(model->inputs); free(model->targets); free(model->logp); free(model->entropy);
        model->inputs = xcalloc_aligned(BT * sizeof(int));
        model->targets = xcalloc_aligned(BT * sizeof(int));
        model->logp = xcalloc_aligned(BT * sizeof(float));
        model->entropy = xcalloc_aligned(BT * sizeof(float));
        model->tokens_capacity = BT;
    }
    model->num_activations = point_activations(&model->acts, model->acts_memory, model->config, B, T, R);
}

// One layer's slices of the parameters (or of their gradients) and of the activations
// (or of their gradients); NULL where the config has no such tensor.
typedef struct {
    float *ln1w, *ln1b, *qkvw, *qkvb, *attprojw, *attprojb, *ln2w, *ln2b;
    float *fcw, *fcb, *fcprojw, *fcprojb, *qnormw, *knormw;
} LayerParams;

typedef struct {
    float *ln1, *ln1_mean, *ln1_rstd, *qkv, *qkr, *qk_rstd, *atty, *att, *attproj, *residual2;
    float *ln2, *ln2_mean, *ln2_rstd, *fch, *fch_gelu, *fcproj, *residual3;
} LayerActs;

#define SLICE(p, n) ((p) ? (p) + (n) : NULL)

static LayerParams layer_params(const ParameterTensors *p, Dims d, int l) {
    size_t L = l, C = d.C;
    return (LayerParams){SLICE(p->ln1w, L * C), SLICE(p->ln1b, L * C), SLICE(p->qkvw, L * d.QKV * C),
                         SLICE(p->qkvb, L * d.QKV), SLICE(p->attprojw, L * C * d.AC), SLICE(p->attprojb, L * C),
                         SLICE(p->ln2w, L * C), SLICE(p->ln2b, L * C), SLICE(p->fcw, L * d.F1 * C),
                         SLICE(p->fcb, L * d.F), SLICE(p->fcprojw, L * C * d.F), SLICE(p->fcprojb, L * C),
                         SLICE(p->qnormw, L * d.hd), SLICE(p->knormw, L * d.hd)};
}

static LayerActs layer_acts(const ActivationTensors *a, Dims d, int l, int B, int T) {
    size_t BT = (size_t)B * T, n = l * BT, C = d.C;
    return (LayerActs){SLICE(a->ln1, n * C), SLICE(a->ln1_mean, n), SLICE(a->ln1_rstd, n), SLICE(a->qkv, n * d.QKV),
                       SLICE(a->qkr, n * d.QKV), SLICE(a->qk_rstd, n * (d.NH + d.KV)), SLICE(a->atty, n * d.AC),
                       SLICE(a->att, (size_t)l * B * d.NH * T * T), SLICE(a->attproj, n * C),
                       SLICE(a->residual2, n * C), SLICE(a->ln2, n * C), SLICE(a->ln2_mean, n),
                       SLICE(a->ln2_rstd, n), SLICE(a->fch, n * d.F1), SLICE(a->fch_gelu, n * d.F),
                       SLICE(a->fcproj, n * C), SLICE(a->residual3, n * C)};
}

// The block's norm: LayerNorm (GPT-2, with mean and bias) or RMSNorm (Llama family)
static void norm_forward(Dims d, float eps, float *out, float *mean, float *rstd, const float *inp,
                         const float *w, const float *b, int N) {
    if (d.llama) rmsnorm_forward(out, rstd, inp, w, N, d.C, eps);
    else layernorm_forward(out, mean, rstd, inp, w, b, N, d.C);
}

static void norm_backward(Dims d, float *dinp, float *dw, float *db, const float *dout, const float *inp,
                          const float *w, const float *mean, const float *rstd, int N) {
    if (d.llama) rmsnorm_backward(dinp, dw, dout, inp, w, rstd, N, d.C);
    else layernorm_backward(dinp, dw, db, dout, inp, w, mean, rstd, N, d.C);
}

// One transformer block, x (B,T,C) -> s.residual3:
//   h = x + attproj(attention(positions(qkv(norm1(x)))))
//   out = h + fcproj(act(fc(norm2(h))))
// GPT-2: LayerNorm, positions already in x, GELU. Llama family: RMSNorm, RoPE on q and k
// (after QK-norm for Qwen3), grouped-query attention, SwiGLU.
static void block_forward(const GPT *model, LayerParams w, LayerActs s, const float *x, int B, int T) {
    Dims d = dims_of(model->config);
    float eps = model->config.norm_eps;
    int BT = B * T, C = d.C;
    norm_forward(d, eps, s.ln1, s.ln1_mean, s.ln1_rstd, x, w.ln1w, w.ln1b, BT);
    matmul_forward(s.qkv, s.ln1, w.qkvw, w.qkvb, BT, C, d.QKV);
    if (d.llama) qk_rope_forward(s.qkr, s.qk_rstd, s.qkv, w.qnormw, w.knormw, model->rope_cos, model->rope_sin,
                                 B, T, d.NH, d.KV, d.hd, eps);
    attention_forward(s.atty, s.att, d.llama ? s.qkr : s.qkv, B, T, d.NH, d.KV, d.hd);
    matmul_forward(s.attproj, s.atty, w.attprojw, w.attprojb, BT, d.AC, C);
    residual_forward(s.residual2, x, s.attproj, (size_t)BT * C);
    norm_forward(d, eps, s.ln2, s.ln2_mean, s.ln2_rstd, s.residual2, w.ln2w, w.ln2b, BT);
    matmul_forward(s.fch, s.ln2, w.fcw, w.fcb, BT, C, d.F1);
    if (d.llama) swiglu_forward(s.fch_gelu, s.fch, BT, d.F);
    else gelu_forward(s.fch_gelu, s.fch, (size_t)BT * d.F);
    matmul_forward(s.fcproj, s.fch_gelu, w.fcprojw, w.fcprojb, BT, d.F, C);
    residual_forward(s.residual3, s.residual2, s.fcproj, (size_t)BT * C);
}

// Backward of block_forward: w, s as there; g, ds their gradients; dx += d x.
static void block_backward(const GPT *model, LayerParams w, LayerParams g, LayerActs s, LayerActs ds,
                           const float *x, float *dx, int B, int T) {
    Dims d = dims_of(model->config);
    int BT = B * T, C = d.C;
    residual_backward(ds.residual2, ds.fcproj, ds.residual3, (size_t)BT * C);
    matmul_backward(ds.fch_gelu, g.fcprojw, g.fcprojb, ds.fcproj, s.fch_gelu, w.fcprojw, BT, d.F, C);
    if (d.llama) swiglu_backward(ds.fch, s.fch, ds.fch_gelu, BT, d.F);
    else gelu_backward(ds.fch, s.fch, ds.fch_gelu, (size_t)BT * d.F);
    matmul_backward(ds.ln2, g.fcw, g.fcb, ds.fch, s.ln2, w.fcw, BT, C, d.F1);
    norm_backward(d, ds.residual2, g.ln2w, g.ln2b, ds.ln2, s.residual2, w.ln2w, s.ln2_mean, s.ln2_rstd, BT);
    residual_backward(dx, ds.attproj, ds.residual2, (size_t)BT * C);
    matmul_backward(ds.atty, g.attprojw, g.attprojb, ds.attproj, s.atty, w.attprojw, BT, d.AC, C);
    if (d.llama) {
        attention_backward(ds.qkr, ds.atty, s.qkr, s.att, B, T, d.NH, d.KV, d.hd);
        qk_rope_backward(ds.qkv, g.qnormw, g.knormw, ds.qkr, s.qkv, w.qnormw, w.knormw, s.qk_rstd,
                         model->rope_cos, model->rope_sin, B, T, d.NH, d.KV, d.hd);
    } else {
        attention_backward(ds.qkv, ds.atty, s.qkv, s.att, B, T, d.NH, d.KV, d.hd);
    }
    matmul_backward(ds.ln1, g.qkvw, g.qkvb, ds.qkv, s.ln1, w.qkvw, BT, C, d.QKV);
    norm_backward(d, dx, g.ln1w, g.ln1b, ds.ln1, x, w.ln1w, s.ln1_mean, s.ln1_rstd, BT);
}

// ---- the head: logits = lnf . head^T and their softmax, a block of rows at a time ----
// A vocabulary of 151,936 (Qwen) makes the (B*T, Vp) logits of one 256-token sequence
// 156 MB and those of an RL micro-batch gigabytes, so they never exist at once: the
// forward keeps per row only logp and the entropy, and acts.logits/probs hold one
// block of head_rows rows. The backward walks the blocks from the last one (still
// there) down, computing each other block's logits again. A small vocabulary is one block.

// logits (n, Vp) = x (n, C) . head (Vp, C)^T into acts.logits, softmax into acts.probs;
// with targets also logp[i] and entropy[i] of the n rows
static void head_forward(GPT *model, const float *x, const int *targets, float *logp, float *entropy, int n) {
    Dims d = dims_of(model->config);
    const float *head = model->params.lmhead ? model->params.lmhead : model->params.wte;
    matmul_forward(model->acts.logits, x, head, NULL, n, d.C, d.Vp);
    softmax_logp_forward(model->acts.probs, logp, entropy, model->acts.logits, targets, n, d.V, d.Vp);
}

// Forward pass over tokens inputs[B*T] (T <= maxT). With targets: model->logp[b*T+t] =
// log pi(targets | inputs<=t) and model->entropy[b*T+t] for every row, and the head's
// last block of rows in acts.logits/probs (all rows when they fit, see the head above).
// Without targets the head is left to gpt_head_at, for the rows that are read.
static void gpt_forward(GPT *model, const int *inputs, const int *targets, int B, int T) {
    Dims d = dims_of(model->config);
    gpt_ensure_activations(model, B, T);
    model->B = B; model->T = T;
    size_t BT = (size_t)B * T;
    memcpy(model->inputs, inputs, BT * sizeof(int));
    if (targets) memcpy(model->targets, targets, BT * sizeof(int));
    ParameterTensors p = model->params;
    ActivationTensors a = model->acts;

    encoder_forward(a.encoded, inputs, p.wte, p.wpe, B, T, d.C);
    for (int l = 0; l < d.L; l++) {
        const float *x = l == 0 ? a.encoded : a.residual3 + (l - 1) * BT * d.C;
        block_forward(model, layer_params(&p, d, l), layer_acts(&a, d, l, B, T), x, B, T);
    }
    norm_forward(d, model->config.norm_eps, a.lnf, a.lnf_mean, a.lnf_rstd, a.residual3 + (d.L - 1) * BT * d.C,
                 p.lnfw, p.lnfb, (int)BT);
    model->head_n = 0;
    if (!targets) return;
    for (size_t r0 = 0; r0 < BT; r0 += model->head_rows) {
        int n = BT - r0 < (size_t)model->head_rows ? (int)(BT - r0) : model->head_rows;
        head_forward(model, a.lnf + r0 * d.C, model->targets + r0, model->logp + r0, model->entropy + r0, n);
        model->head_r0 = r0; model->head_n = n;
    }
}

// After a forward pass without targets: the logits and probabilities at n chosen rows
// (row = b*T + t; n <= B, e.g. one per sequence) into rows 0..n-1 of acts.logits and
// acts.probs. The evaluator reads its verdict so, and the sampler a prompt's next token.
static void gpt_head_at(GPT *model, const size_t *rows, int n) {
    int C = model->config.channels;
    float *x = malloc((size_t)n * C * sizeof(float));
    for (int j = 0; j < n; j++) memcpy(x + (size_t)j * C, model->acts.lnf + rows[j] * C, C * sizeof(float));
    head_forward(model, x, NULL, NULL, NULL, n);
    model->head_n = 0;
    free(x);
}

// L = -sum_t c_t log pi(y_t) for the last forward pass (which must have had targets).
static double gpt_weighted_loss(const GPT *model, const float *c) {
    double loss = 0.0;
    for (size_t i = 0; i < (size_t)model->B * model->T; i++) loss -= (double)c[i] * model->logp[i];
    return loss;
}

static void gpt_zero_grad(GPT *model) {
    if (model->grads_memory) memset(model->grads_memory, 0, model->num_parameters * sizeof(float));
}

// Backward of L = -sum_t c_t log pi(y_t | y_<t) for the last forward pass; gradients
// accumulate (+=) into model->grads, so call gpt_zero_grad between updates.
static void gpt_backward(GPT *model, const float *c) {
    Dims d = dims_of(model->config);
    int B = model->B, T = model->T;
    size_t BT = (size_t)B * T;
    if (!model->grads_memory) {
        model->grads_memory = xcalloc_aligned(model->num_parameters * sizeof(float));
        point_parameters(&model->grads, model->grads_memory, model->param_sizes);
    }
    if (!model->grads_acts_memory) {
        model->grads_acts_memory = xcalloc_aligned(model->acts_capacity * sizeof(float));
        model->grads_acts_capacity = model->acts_capacity;
    }
    point_activations(&model->grads_acts, model->grads_acts_memory, model->config, B, T, model->head_rows);
    // activation gradients are recomputed from scratch every backward
    memset(model->grads_acts_memory, 0, model->num_activations * sizeof(float));
    ParameterTensors p = model->params, g = model->grads;
    ActivationTensors a = model->acts, ga = model->grads_acts;
    const float *head = p.lmhead ? p.lmhead : p.wte;
    float *dhead = p.lmhead ? g.lmhead : g.wte;

    size_t R = model->head_rows;
    for (long r0 = (long)((BT - 1) / R * R); r0 >= 0; r0 -= (long)R) { // the head's blocks, last first
        int n = BT - r0 < R ? (int)(BT - r0) : (int)R;
        if (model->head_n != n || model->head_r0 != (size_t)r0) {
            head_forward(model, a.lnf + r0 * d.C, NULL, NULL, NULL, n);
            model->head_r0 = r0; model->head_n = n;
        }
        weighted_nll_backward(ga.logits, a.probs, model->targets + r0, c + r0, n, d.V, d.Vp);
        matmul_backward(ga.lnf + r0 * d.C, dhead, NULL, ga.logits, a.lnf + r0 * d.C, head, n, d.C, d.Vp);
    }
    size_t last = (d.L - 1) * BT * d.C;
    norm_backward(d, ga.residual3 + last, g.lnfw, g.lnfb, ga.lnf, a.residual3 + last, p.lnfw, a.lnf_mean,
                  a.lnf_rstd, (int)BT);
    for (int l = d.L - 1; l >= 0; l--) {
        const float *x = l == 0 ? a.encoded : a.residual3 + (l - 1) * BT * d.C;
        float *dx = l == 0 ? ga.encoded : ga.residual3 + (l - 1) * BT * d.C;
        block_backward(model, layer_params(&p, d, l), layer_params(&g, d, l), layer_acts(&a, d, l, B, T),
                       layer_acts(&ga, d, l, B, T), x, dx, B, T);
    }
    encoder_backward(g.wte, g.wpe, ga.encoded, model->inputs, B, T, d.C);
}

// ----------------------------------------------------------------------------
// optimisation: global grad-norm clipping and AdamW

// ||g||_2 over all parameters; if it exceeds max_norm (> 0), scale g by max_norm/||g||.
// Returns the norm before clipping.
static float gpt_clip_grad_norm(GPT *model, float max_norm) {
    double sq = 0.0;
    const float *g = model->grads_memory;
    for (size_t i = 0; i < model->num_parameters; i++) sq += (double)g[i] * g[i];
    float norm = (float)sqrt(sq);
    if (max_norm > 0.0f && norm > max_norm) {
        float s = max_norm / (norm + 1e-6f);
        for (size_t i = 0; i < model->num_parameters; i++) model->grads_memory[i] *= s;
    }
    return norm;
}

typedef struct { float lr, beta1, beta2, eps, weight_decay; } AdamWConfig;

// AdamW (Loshchilov & Hutter), decoupled decay on matrices only:
//   m = b1 m + (1-b1) g;   v = b2 v + (1-b2) g^2
//   p -= lr * ( (m / (1-b1^t)) / (sqrt(v / (1-b2^t)) + eps) + wd * p )
static void gpt_adamw_update(GPT *model, AdamWConfig opt) {
    if (!model->m_memory) {
        model->m_memory = xcalloc_aligned(model->num_parameters * sizeof(float));
        model->v_memory = xcalloc_aligned(model->num_parameters * sizeof(float));
    }
    model->adam_t++;
    float bc1 = 1.0f - powf(opt.beta1, (float)model->adam_t);
    float bc2 = 1.0f - powf(opt.beta2, (float)model->adam_t);
    size_t offset = 0;
    for (int t = 0; t < NUM_PARAMETER_TENSORS; t++) {
        float wd = param_is_matrix[t] ? opt.weight_decay : 0.0f;
        size_t n = model->param_sizes[t];
        float *p = model->params_memory + offset, *g = model->grads_memory + offset;
        float *m = model->m_memory + offset, *v = model->v_memory + offset;
        #pragma omp parallel for simd
        for (size_t i = 0; i < n; i++) {
            m[i] = opt.beta1 * m[i] + (1.0f - opt.beta1) * g[i];
            v[i] = opt.beta2 * v[i] + (1.0f - opt.beta2) * g[i] * g[i];
            float mhat = m[i] / bc1, vhat = v[i] / bc2;
            p[i] -= opt.lr * (mhat / (sqrtf(vhat) + opt.eps) + wd * p[i]);
        }
        offset += n;
    }
}

// ----------------------------------------------------------------------------
// checkpoints: llm.c-compatible
//
// header: 256 x int32 little-endian: [0] 20240326, [1] 3 (fp32, padded vocab), [2] maxT,
// [3] V, [4] L, [5] NH, [6] C, [7] Vp; then the 16 tensors above, in order.
// What rlme.c adds (its tokenizer) may follow the parameters as an "extras" block
// that starts with RLME_EXTRAS_MAGIC; llm.c never reads past the parameters.

#define CHECKPOINT_MAGIC 20240326
#define CHECKPOINT_VERSION 3
#define RLME_EXTRAS_MAGIC 20261126

// Reads a checkpoint into a freshly initialised model. On success returns 0 and,
// if extras_offset is given, sets it to the file offset of an extras block (or -1
// when there is none). Every header field is validated against the file size.
static int gpt_read_checkpoint(GPT *model, const char *path, long *extras_offset, char *err, size_t errlen) {
    FILE *f = fopen(path, "rb");
    if (!f) return set_err(err, errlen, "%s: cannot open: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) { fclose(f); return set_err(err, errlen, "%s: not a regular file", path); }
    int32_t h[256];
    if (fseek(f, 0, SEEK_END) != 0) { fclose(f); return set_err(err, errlen, "%s: not a seekable file", path); }
    long file_size = ftell(f);
    rewind(f);
    if (file_size < (long)sizeof(h) || fread(h, sizeof(int32_t), 256, f) != 256) {
        fclose(f);
        return set_err(err, errlen, "%s: truncated checkpoint header (%ld bytes, need 1024)", path, file_size < 0 ? 0 : file_size);
    }
    if (h[0] != CHECKPOINT_MAGIC) { fclose(f); return set_err(err, errlen, "%s: not an llm.c checkpoint (magic %d, expected %d)", path, h[0], CHECKPOINT_MAGIC); }
    if (h[1] != CHECKPOINT_VERSION) { fclose(f); return set_err(err, errlen, "%s: checkpoint version %d not supported (need 3: fp32 with padded vocab)", path, h[1]); }
    GPTConfig cfg = {.max_seq_len = h[2], .vocab_size = h[3], .num_layers = h[4], .num_heads = h[5],
                     .channels = h[6], .padded_vocab_size = h[7]};
    char cerr[160];
    if (gpt_config_check(cfg, cerr, sizeof(cerr))) { fclose(f); return set_err(err, errlen, "%s: bad header: %s", path, cerr); }
    size_t sizes[NUM_PARAMETER_TENSORS], n = 0;
    param_sizes(sizes, cfg);
    for (int i = 0; i < NUM_PARAMETER_TENSORS; i++) n += sizes[i];
    // sizes are bounded by gpt_config_check, so n * 4 cannot overflow 64 bits
    long need = (long)sizeof(h) + (long)(n * sizeof(float));
    if (file_size < need) {
        fclose(f);
        return set_err(err, errlen, "%s: file has %ld bytes but its header (L=%d C=%d Vp=%d maxT=%d) needs %ld", path,
                       file_size, cfg.num_layers, cfg.channels, cfg.padded_vocab_size, cfg.max_seq_len, need);
    }
    long extras = -1;
    if (file_size > need) {
        int32_t magic = 0;
        if (fseek(f, need, SEEK_SET) != 0 || fread(&magic, sizeof(magic), 1, f) != 1 || magic != RLME_EXTRAS_MAGIC) {
            fclose(f);
            return set_err(err, errlen, "%s: %ld unexpected bytes after the parameters (header and file size disagree)", path, file_size - need);
        }
        extras = need;
        fseek(f, (long)sizeof(h), SEEK_SET);
    }
    gpt_init(model, cfg);
    if (fread(model->params_memory, sizeof(float), n, f) != n) {
        fclose(f); gpt_free(model);
        return set_err(err, errlen, "%s: read error in the parameters", path);
    }
    fclose(f);
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(model->params_memory[i])) {
            gpt_free(model);
            return set_err(err, errlen, "%s: parameter %zu is not finite", path, i);
        }
    }
    if (extras_offset) *extras_offset = extras;
    return 0;
}

// Writes header + parameters (+ extras written by the callback) to path atomically:
// a temporary file, flushed and synced, then renamed over the target. Refuses
// non-finite parameters, as the reader does.
typedef int (*write_extras_fn)(FILE *f, void *ctx);
static int gpt_write_checkpoint(const GPT *model, const char *path, write_extras_fn write_extras, void *ctx,
                                char *err, size_t errlen) {
    if (model->config.arch != ARCH_GPT2) return set_err(err, errlen, "%s: not written: llm.c's format holds GPT-2 only", path);
    for (size_t i = 0; i < model->num_parameters; i++) // a file on disk is never poisoned
        if (!isfinite(model->params_memory[i])) return set_err(err, errlen, "%s: not written: parameter %zu is not finite", path, i);
    char tmp[4096];
    if (snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid()) >= (int)sizeof(tmp))
        return set_err(err, errlen, "%s: path too long", path);
    FILE *f = fopen(tmp, "wb");
    if (!f) return set_err(err, errlen, "%s: cannot create: %s", tmp, strerror(errno));
    int32_t h[256] = {0};
    GPTConfig c = model->config;
    h[0] = CHECKPOINT_MAGIC; h[1] = CHECKPOINT_VERSION; h[2] = c.max_seq_len; h[3] = c.vocab_size;
    h[4] = c.num_layers; h[5] = c.num_heads; h[6] = c.channels; h[7] = c.padded_vocab_size;
    int ok = fwrite(h, sizeof(h), 1, f) == 1 &&
             fwrite(model->params_memory, sizeof(float), model->num_parameters, f) == model->num_parameters;
    if (ok && write_extras) {
        int32_t magic = RLME_EXTRAS_MAGIC;
        ok = fwrite(&magic, sizeof(magic), 1, f) == 1 && write_extras(f, ctx) == 0;
    }
    ok = ok && fflush(f) == 0 && fsync(fileno(f)) == 0;
    ok = (fclose(f) == 0) && ok;
    if (!ok || rename(tmp, path) != 0) {
        int e = errno;
        remove(tmp);
        return set_err(err, errlen, "%s: write failed: %s", path, strerror(e));
    }
    return 0;
}

// ----------------------------------------------------------------------------
// batched incremental decoding with a KV cache
//
// S sequence slots each keep their keys and values for every layer and position.
// One decode step advances a set of live sequences by one token together, so each
// linear layer is a matmul with M = number of live sequences.

typedef struct {
    int slots, maxT;
    float *k;            // (L, slots, KV hd, maxT): keys transposed, so scores over positions are contiguous
    float *v;            // (L, slots, maxT, KV hd)
    // scratch for one step of up to `slots` sequences
    float *x, *ln, *qkv, *atty, *proj, *fch, *act, *logits; // (slots, C|C|QKV|AC|C|F1|F|Vp)
    float *att;          // (slots, NH, maxT)
} KVCache;

// How many sequences a cache of maxT positions each decodes at once: `want`, or fewer
// where their keys and values would take more than KV_CACHE_BYTES (a real model's
// cache is ~100 MB per sequence of 500 positions; the synthetic world's, 1 MB).
#define KV_CACHE_BYTES ((size_t)2 << 30)
static int kvcache_slots(GPTConfig cfg, int want, int maxT) {
    Dims d = dims_of(cfg);
    size_t per = 2 * (size_t)d.L * maxT * d.KV * d.hd * sizeof(float), fit = KV_CACHE_BYTES / per;
    return fit < 1 ? 1 : fit < (size_t)want ? (int)fit : want;
}

// A cache of `slots` sequences of up to maxT <= max_seq_len positions each (a real
// model's context is far longer than what one generation needs).
static void kvcache_init(KVCache *kv, GPTConfig cfg, int slots, int maxT) {
    Dims d = dims_of(cfg);
    size_t C = d.C, S = slots, L = d.L, T = maxT, KVD = (size_t)d.KV * d.hd;
    kv->slots = slots; kv->maxT = maxT;
    kv->k = xcalloc_aligned(L * S * T * KVD * sizeof(float));
    kv->v = xcalloc_aligned(L * S * T * KVD * sizeof(float));
    kv->x = xcalloc_aligned(S * C * sizeof(float));
    kv->ln = xcalloc_aligned(S * C * sizeof(float));
    kv->qkv = xcalloc_aligned(S * d.QKV * sizeof(float));
    kv->atty = xcalloc_aligned(S * d.AC * sizeof(float));
    kv->proj = xcalloc_aligned(S * C * sizeof(float));
    kv->fch = xcalloc_aligned(S * d.F1 * sizeof(float));
    kv->act = xcalloc_aligned(S * d.F * sizeof(float));
    kv->logits = xcalloc_aligned(S * (size_t)d.Vp * sizeof(float));
    kv->att = xcalloc_aligned(S * (size_t)d.NH * T * sizeof(float));
}

static void kvcache_free(KVCache *kv) {
    free(kv->k); free(kv->v); free(kv->x); free(kv->ln); free(kv->qkv); free(kv->atty);
    free(kv->proj); free(kv->fch); free(kv->act); free(kv->logits); free(kv->att);
    memset(kv, 0, sizeof(*kv));
}

// One step for n live sequences: sequence i sits in cache slot slot[i], feeds token
// tok[i] at position pos[i] (its cache already holds positions 0..pos[i]-1).
// Writes logits (n, Vp) into kv->logits. The arithmetic is the training forward's,
// restricted to the new position, so its logits equal a full forward pass.
static void gpt_decode_step(const GPT *model, KVCache *kv, int n, const int *slot, const int *tok, const int *pos) {
    GPTConfig cfg = model->config;
    Dims d = dims_of(cfg);
    int C = d.C, hd = d.hd, NH = d.NH, group = d.NH / d.KV, KVD = d.KV * d.hd;
    size_t T = kv->maxT, S = kv->slots;
    const ParameterTensors *p = &model->params;
    float scale = 1.0f / sqrtf((float)hd);
    for (int i = 0; i < n; i++) {
        const float *we = p->wte + (size_t)tok[i] * C;
        for (int c = 0; c < C; c++) kv->x[(size_t)i * C + c] = we[c] + (p->wpe ? p->wpe[(size_t)pos[i] * C + c] : 0.0f);
    }
    for (int l = 0; l < d.L; l++) {
        LayerParams w = layer_params(p, d, l);
        norm_forward(d, cfg.norm_eps, kv->ln, NULL, NULL, kv->x, w.ln1w, w.ln1b, n);
        matmul_forward(kv->qkv, kv->ln, w.qkvw, w.qkvb, n, C, d.QKV);
        float *Kl = kv->k + (size_t)l * S * T * KVD, *Vl = kv->v + (size_t)l * S * T * KVD;
        for (int i = 0; i < n; i++) { // (QK-norm and RoPE,) then append this position's key and value
            float *qkv = kv->qkv + (size_t)i * d.QKV;
            if (d.llama) qk_rope_row(qkv, NULL, qkv, w.qnormw, w.knormw, model->rope_cos + (size_t)pos[i] * (hd / 2),
                                     model->rope_sin + (size_t)pos[i] * (hd / 2), NH, d.KV, hd, cfg.norm_eps);
            const float *k = qkv + (size_t)NH * hd;
            float *Kt = Kl + (size_t)slot[i] * KVD * T + pos[i];
            for (int c = 0; c < KVD; c++) Kt[(size_t)c * T] = k[c];
            memcpy(Vl + ((size_t)slot[i] * T + pos[i]) * KVD, k + KVD, KVD * sizeof(float));
        }
        // a[u] = softmax_u(q . k_u * scale), o = sum_u a[u] v_u; loops run over positions u
        // (scores) or channels j (values), so both vectorize without horizontal sums
        #pragma omp parallel for collapse(2)
        for (int i = 0; i < n; i++) for (int h = 0; h < NH; h++) {
            const float *q = kv->qkv + (size_t)i * d.QKV + h * hd;
            float *a = kv->att + ((size_t)i * NH + h) * T;
            int g = h / group;
            const float *Kt = Kl + ((size_t)slot[i] * KVD + g * hd) * T, *Vs = Vl + (size_t)slot[i] * T * KVD + g * hd;
            int len = pos[i] + 1;
            for (int u = 0; u < len; u++) a[u] = 0.0f;
            for (int j = 0; j < hd; j++) {
                float qj = q[j] * scale;
                const float *kr = Kt + (size_t)j * T;
                for (int u = 0; u < len; u++) a[u] += qj * kr[u];
            }
            float maxval = -INFINITY, sum = 0.0f;
            for (int u = 0; u < len; u++) maxval = a[u] > maxval ? a[u] : maxval;
            for (int u = 0; u < len; u++) a[u] = fast_expf(a[u] - maxval);
            for (int u = 0; u < len; u++) sum += a[u];
            float inv = 1.0f / sum;
            float *o = kv->atty + (size_t)i * d.AC + h * hd;
            for (int j = 0; j < hd; j++) o[j] = 0.0f;
            for (int u = 0; u < len; u++) {
                float wu = a[u] * inv;
                const float *vr = Vs + (size_t)u * KVD;
                for (int j = 0; j < hd; j++) o[j] += wu * vr[j];
            }
        }
        matmul_forward(kv->proj, kv->atty, w.attprojw, w.attprojb, n, d.AC, C);
        for (size_t i = 0; i < (size_t)n * C; i++) kv->x[i] += kv->proj[i];
        norm_forward(d, cfg.norm_eps, kv->ln, NULL, NULL, kv->x, w.ln2w, w.ln2b, n);
        matmul_forward(kv->fch, kv->ln, w.fcw, w.fcb, n, C, d.F1);
        if (d.llama) swiglu_forward(kv->act, kv->fch, n, d.F);
        else gelu_forward(kv->act, kv->fch, (size_t)n * d.F);
        matmul_forward(kv->proj, kv->act, w.fcprojw, w.fcprojb, n, d.F, C);
        for (size_t i = 0; i < (size_t)n * C; i++) kv->x[i] += kv->proj[i];
    }
    norm_forward(d, cfg.norm_eps, kv->ln, NULL, NULL, kv->x, p->lnfw, p->lnfb, n);
    matmul_forward(kv->logits, kv->ln, p->lmhead ? p->lmhead : p->wte, NULL, n, C, d.Vp);
}

// log-softmax over the first V logits: returns log p(token)
static float logprob_of(const float *logits, int V, int token) {
    float maxval = -INFINITY;
    for (int v = 0; v < V; v++) if (logits[v] > maxval) maxval = logits[v];
    double sum = 0.0;
    for (int v = 0; v < V; v++) sum += exp((double)(logits[v] - maxval));
    return logits[token] - maxval - (float)log(sum);
}

typedef struct { float p; int id; } ProbIndex;
static int cmp_prob_desc(const void *a, const void *b) {
    float pa = ((const ProbIndex *)a)->p, pb = ((const ProbIndex *)b)->p;
    if (pa != pb) return pa > pb ? -1 : 1;
    return ((const ProbIndex *)a)->id - ((const ProbIndex *)b)->id; // deterministic ties
}

// Draws a token from softmax(logits[:V] / temperature), restricted to the smallest
// set of most likely tokens whose mass reaches top_p (top_p >= 1: no restriction).
// temperature <= 0 is greedy (argmax, lowest id on ties). scratch holds V entries.
static int sample_token(const float *logits, int V, float temperature, float top_p, uint64_t *rng, ProbIndex *scratch) {
    if (temperature <= 0.0f) {
        int best = 0;
        for (int v = 1; v < V; v++) if (logits[v] > logits[best]) best = v;
        return best;
    }
    float maxval = -INFINITY;
    for (int v = 0; v < V; v++) if (logits[v] > maxval) maxval = logits[v];
    double sum = 0.0;
    for (int v = 0; v < V; v++) { scratch[v].p = expf((logits[v] - maxval) / temperature); scratch[v].id = v; sum += scratch[v].p; }
    int n = V;
    if (top_p < 1.0f) {
        qsort(scratch, V, sizeof(ProbIndex), cmp_prob_desc);
        double cum = 0.0;
        for (n = 0; n < V; n++) { cum += scratch[n].p; if (cum >= top_p * sum) { n++; break; } }
        if (n > V) n = V;
        sum = cum;
    }
    double r = rng_f32(rng) * sum, cum = 0.0;
    for (int i = 0; i < n; i++) { cum += scratch[i].p; if (r < cum) return scratch[i].id; }
    return scratch[n - 1].id;
}

typedef struct {
    float temperature, top_p;
    int max_new;            // tokens to generate per sequence at most
    int stop_token;         // generation of this token ends a sequence (-1: none)
    // and a sequence also ends when stop(its tokens so far, their count, stop_ctx) is
    // nonzero (NULL: never), for stop strings that span tokens
    int (*stop)(const int *ids, int n, const void *stop_ctx);
    const void *stop_ctx;
    // 0: one RNG stream, drawn in sequence order; 1: rng[i] is sequence i's own stream
    // (what a sequence draws is then the same whichever others are generated with it)
    int rng_per_sequence;
} SampleConfig;

// Prefill: runs the distinct prompts among n sequences through one full forward pass
// (sequences that share a prompt offset share the computation: RL's G samples of a
// question) and copies each prompt's keys and values into the cache slot of every
// sequence that uses it. Writes each sequence's next-token logits into kv->logits.
static void gpt_prefill(GPT *model, KVCache *kv, int n, const int *prompt_ids, const int *prompt_off, const int *prompt_len) {
    Dims d = dims_of(model->config);
    int Vp = d.Vp, KVD = d.KV * d.hd;
    size_t S = kv->slots, maxT = kv->maxT;
    int *row_of = malloc((size_t)n * sizeof(int)), *first = malloc((size_t)n * sizeof(int)), rows = 0, T = 1;
    for (int i = 0; i < n; i++) { // distinct prompts, in order of first use
        row_of[i] = -1;
        for (int j = 0; j < i; j++)
            if (prompt_off[j] == prompt_off[i] && prompt_len[j] == prompt_len[i]) { row_of[i] = row_of[j]; break; }
        if (row_of[i] < 0) { first[rows] = i; row_of[i] = rows++; }
        if (prompt_len[i] > T) T = prompt_len[i];
    }
    // rows padded with token 0 after their end: causal attention never looks ahead
    int *tokens = calloc((size_t)rows * T, sizeof(int));
    for (int r = 0; r < rows; r++)
        memcpy(tokens + (size_t)r * T, prompt_ids + prompt_off[first[r]], prompt_len[first[r]] * sizeof(int));
    gpt_forward(model, tokens, NULL, rows, T);
    size_t *last = calloc((size_t)rows, sizeof(size_t)); // each prompt's last position
    for (int r = 0; r < rows; r++) last[r] = (size_t)r * T + prompt_len[first[r]] - 1;
    gpt_head_at(model, last, rows);
    for (int i = 0; i < n; i++) {
        int r = row_of[i], len = prompt_len[i];
        for (int l = 0; l < d.L; l++) { // keys after RoPE for the Llama family
            const float *qkv = (d.llama ? model->acts.qkr : model->acts.qkv) + ((size_t)l * rows * T + (size_t)r * T) * d.QKV;
            float *Kt = kv->k + ((size_t)l * S + i) * KVD * maxT, *V = kv->v + ((size_t)l * S + i) * maxT * KVD;
            for (int t = 0; t < len; t++) {
                const float *k = qkv + (size_t)t * d.QKV + d.AC;
                for (int c = 0; c < KVD; c++) Kt[(size_t)c * maxT + t] = k[c];
                memcpy(V + (size_t)t * KVD, k + KVD, KVD * sizeof(float));
            }
        }
        memcpy(kv->logits + (size_t)i * Vp, model->acts.logits + (size_t)r * Vp, Vp * sizeof(float));
    }
    free(row_of); free(first); free(tokens); free(last);
}

// Generates continuations for n prompts of different lengths together. Prompt i is
// prompt_ids[prompt_off[i] .. prompt_off[i]+prompt_len[i]); its completion goes to
// out[i*max_new ..] with out_len[i] tokens (including the stop token or the tokens of a
// stop string, if drawn) and out_logp[i*max_new + j] = log pi(token j) under the model's
// own, untempered distribution (what RL's importance ratio needs). Prompts go through one
// prefill forward pass; then every live sequence advances one token per batched step,
// each at its own position. Uses the model's activation buffers (prefill).
// rng: one state, or n (sc.rng_per_sequence). Requires kv->slots >= n and
// prompt_len[i] + max_new - 1 <= kv->maxT (callers check).
static void gpt_generate(GPT *model, KVCache *kv, int n, const int *prompt_ids, const int *prompt_off,
                         const int *prompt_len, SampleConfig sc, uint64_t *rng, int *out, float *out_logp, int *out_len) {
    int V = model->config.vocab_size, Vp = model->config.padded_vocab_size;
    int *slot = malloc((size_t)n * sizeof(int)), *tok = malloc((size_t)n * sizeof(int)), *pos = malloc((size_t)n * sizeof(int));
    ProbIndex *scratch = malloc((size_t)V * sizeof(ProbIndex));
    for (int i = 0; i < n; i++) { out_len[i] = 0; slot[i] = i; }
    if (sc.max_new > 0) gpt_prefill(model, kv, n, prompt_ids, prompt_off, prompt_len);
    int m = n; // sequences with logits in kv->logits: at first all, in order
    while (m > 0) {
        // sample for each sequence that just got logits (in sequence order: a fixed RNG stream)
        int live = 0;
        for (int j = 0; j < m; j++) {
            int i = slot[j];
            const float *logits = kv->logits + (size_t)j * Vp;
            int y = sample_token(logits, V, sc.temperature, sc.top_p, rng + (sc.rng_per_sequence ? i : 0), scratch);
            out[(size_t)i * sc.max_new + out_len[i]] = y;
            out_logp[(size_t)i * sc.max_new + out_len[i]] = logprob_of(logits, V, y);
            out_len[i]++;
            const int *so_far = out + (size_t)i * sc.max_new;
            int ended = y == sc.stop_token || (sc.stop && sc.stop(so_far, out_len[i], sc.stop_ctx));
            if (out_len[i] < sc.max_new && !ended) { // still live: feed y next
                slot[live] = i; tok[live] = y; pos[live] = prompt_len[i] + out_len[i] - 1; live++;
            }
        }
        m = live;
        if (m > 0) gpt_decode_step(model, kv, m, slot, tok, pos);
    }
    free(slot); free(tok); free(pos); free(scratch);
}

#pragma GCC diagnostic pop
#endif // MODEL_H
