// matmul_core.h -- one SIMD GEMM core for the three products of a linear layer.
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
// Micro-kernels, chosen at compile time:
//   AVX-512F        6 x 32  (12 zmm accumulators; same body as AVX2, wider vectors)
//   AVX2 + FMA      6 x 16  (12 ymm accumulators, 2 B loads + 6 broadcasts per k)
//   NEON (aarch64)  8 x 8   (16 q accumulators, vfmaq_laneq_f32)
//   plain C         4 x 16  (auto-vectorisable loops)
#ifndef MATMUL_CORE_H
#define MATMUL_CORE_H

#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#define MM_PRAGMA(x) _Pragma(#x)
#else
#define MM_PRAGMA(x)
#endif

#if defined(__AVX512F__)
#include <immintrin.h>
#define MM_MR 6
#define MM_NR 32
#elif defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>
#define MM_MR 6
#define MM_NR 16
#elif defined(__ARM_NEON) && defined(__aarch64__)
#include <arm_neon.h>
#define MM_MR 8
#define MM_NR 8
#else
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

#if (defined(__AVX512F__)) || (defined(__AVX2__) && defined(__FMA__))
// AVX2 and AVX-512 share one body: 6 rows x 2 vectors, only the vector width differs.
#if defined(__AVX512F__)
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

#elif defined(__ARM_NEON) && defined(__aarch64__)
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
// packing. Element (i, k) of A is A[i*rsA + k*csA]; element (k, j) of B is B[k*rsB + j*csB].

#if defined(__AVX2__) && MM_MR == 6 && MM_NR % 8 == 0
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
void matmul_forward(float *out, const float *inp, const float *weight, const float *bias, int M, int K, int N) {
    // A = inp (rs K, cs 1); B(k,n) = weight[n][k] (rs 1, cs K)
    gemm(M, N, K, inp, K, 1, weight, 1, K, out, N, 0, bias);
}

// dinp[M][K] += dout[M][N] . weight[N][K]
// dweight[N][K] += dout^T[N][M] . inp[M][K]
// dbias[N] += sum_m dout[m][N]
// any of dinp / dweight / dbias may be NULL to skip it
void matmul_backward(float *dinp, float *dweight, float *dbias, const float *dout, const float *inp,
                     const float *weight, int M, int K, int N) {
    if (dinp) gemm(M, K, N, dout, N, 1, weight, K, 1, dinp, K, 1, NULL);
    // A(n,m) = dout[m][n] (rs 1, cs N): the reduction runs over the long M dimension,
    // blocked by KC like any other K
    if (dweight) gemm(N, K, M, dout, 1, N, inp, K, 1, dweight, K, 1, NULL);
    if (dbias) {
        // columns split across threads in chunks of 64; rows summed in order
        int nchunks = (N + 63) / 64;
        (void)nchunks;
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
void matmul_forward_ref(float *out, const float *inp, const float *weight, const float *bias, int M, int K, int N) {
    for (int m = 0; m < M; m++)
        for (int n = 0; n < N; n++) {
            double s = bias ? bias[n] : 0.0;
            for (int k = 0; k < K; k++) s += (double)inp[(long)m * K + k] * weight[(long)n * K + k];
            out[(long)m * N + n] = (float)s;
        }
}

void matmul_backward_ref(float *dinp, float *dweight, float *dbias, const float *dout, const float *inp,
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

#endif // MATMUL_CORE_H
