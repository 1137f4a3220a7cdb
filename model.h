/*
model.h — a GPT-2 in plain C, fp32, forward and backward by hand.

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

Shapes: B batch, T time, C channels, NH heads, hs = C/NH, L layers,
V vocab, Vp vocab padded to a multiple of 128. Row-major everywhere; linear
weights are (OC, IC) as in PyTorch's nn.Linear.
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

static inline int num_threads(void) {
#ifdef _OPENMP
    return omp_get_max_threads();
#else
    return 1;
#endif
}

// ----------------------------------------------------------------------------
// SIMD matmul core
//
// PLACEHOLDER: plain OpenMP loops until the packed micro-kernel lands.

// out[M][N] = inp[M][K] . weight[N][K]^T + bias[N]
static void matmul_forward_ref(float *out, const float *inp, const float *weight, const float *bias,
                               int M, int K, int N) {
    for (int m = 0; m < M; m++) {
        for (int n = 0; n < N; n++) {
            double acc = bias ? bias[n] : 0.0;
            for (int k = 0; k < K; k++) acc += (double)inp[(size_t)m * K + k] * weight[(size_t)n * K + k];
            out[(size_t)m * N + n] = (float)acc;
        }
    }
}

// dinp[M][K] += dout[M][N] . weight[N][K];  dweight[N][K] += dout^T . inp;  dbias[N] += sum_m dout
static void matmul_backward_ref(float *dinp, float *dweight, float *dbias, const float *dout,
                                const float *inp, const float *weight, int M, int K, int N) {
    if (dinp) for (int m = 0; m < M; m++) for (int k = 0; k < K; k++) {
        double acc = 0.0;
        for (int n = 0; n < N; n++) acc += (double)dout[(size_t)m * N + n] * weight[(size_t)n * K + k];
        dinp[(size_t)m * K + k] += (float)acc;
    }
    if (dweight) for (int n = 0; n < N; n++) for (int k = 0; k < K; k++) {
        double acc = 0.0;
        for (int m = 0; m < M; m++) acc += (double)dout[(size_t)m * N + n] * inp[(size_t)m * K + k];
        dweight[(size_t)n * K + k] += (float)acc;
    }
    if (dbias) for (int n = 0; n < N; n++) {
        double acc = 0.0;
        for (int m = 0; m < M; m++) acc += dout[(size_t)m * N + n];
        dbias[n] += (float)acc;
    }
}

static void matmul_forward(float *out, const float *inp, const float *weight, const float *bias,
                           int M, int K, int N) {
    #pragma omp parallel for
    for (int m = 0; m < M; m++) {
        const float *x = inp + (size_t)m * K;
        for (int n = 0; n < N; n++) {
            const float *w = weight + (size_t)n * K;
            float acc = 0.0f;
            #pragma omp simd reduction(+:acc)
            for (int k = 0; k < K; k++) acc += x[k] * w[k];
            out[(size_t)m * N + n] = acc + (bias ? bias[n] : 0.0f);
        }
    }
}

static void matmul_backward(float *dinp, float *dweight, float *dbias, const float *dout,
                            const float *inp, const float *weight, int M, int K, int N) {
    if (dinp) {
        #pragma omp parallel for
        for (int m = 0; m < M; m++) {
            float *dx = dinp + (size_t)m * K;
            for (int n = 0; n < N; n++) {
                float g = dout[(size_t)m * N + n];
                const float *w = weight + (size_t)n * K;
                #pragma omp simd
                for (int k = 0; k < K; k++) dx[k] += g * w[k];
            }
        }
    }
    if (dweight || dbias) {
        #pragma omp parallel for
        for (int n = 0; n < N; n++) {
            float *dw = dweight ? dweight + (size_t)n * K : NULL;
            float db = 0.0f;
            for (int m = 0; m < M; m++) {
                float g = dout[(size_t)m * N + n];
                db += g;
                if (dw) {
                    const float *x = inp + (size_t)m * K;
                    #pragma omp simd
                    for (int k = 0; k < K; k++) dw[k] += g * x[k];
                }
            }
            if (dbias) dbias[n] += db;
        }
    }
}

// ----------------------------------------------------------------------------
// layers: forward/backward pairs on raw float arrays

// out[b,t,:] = wte[inp[b,t],:] + wpe[t,:]
static void encoder_forward(float *out, const int *inp, const float *wte, const float *wpe,
                            int B, int T, int C) {
    for (int b = 0; b < B; b++) for (int t = 0; t < T; t++) {
        float *o = out + ((size_t)b * T + t) * C;
        const float *we = wte + (size_t)inp[b * T + t] * C, *pe = wpe + (size_t)t * C;
        for (int i = 0; i < C; i++) o[i] = we[i] + pe[i];
    }
}

static void encoder_backward(float *dwte, float *dwpe, const float *dout, const int *inp,
                             int B, int T, int C) {
    for (int b = 0; b < B; b++) for (int t = 0; t < T; t++) {
        const float *d = dout + ((size_t)b * T + t) * C;
        float *dwe = dwte + (size_t)inp[b * T + t] * C, *dpe = dwpe + (size_t)t * C;
        for (int i = 0; i < C; i++) { dwe[i] += d[i]; dpe[i] += d[i]; }
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

// Causal self-attention. inp (B,T,3C) holds [q | k | v] per position; out (B,T,C).
// att (B,NH,T,T) keeps the softmax probabilities for the backward pass:
//   att[t,u] = softmax_u( q_t . k_u / sqrt(hs) ) for u <= t,   out_t = sum_u att[t,u] v_u
static void attention_forward(float *out, float *att, const float *inp, int B, int T, int C, int NH) {
    int C3 = 3 * C, hs = C / NH;
    float scale = 1.0f / sqrtf((float)hs);
    #pragma omp parallel for collapse(2)
    for (int b = 0; b < B; b++) for (int h = 0; h < NH; h++) {
        for (int t = 0; t < T; t++) {
            const float *q = inp + ((size_t)b * T + t) * C3 + h * hs;
            float *a = att + (((size_t)b * NH + h) * T + t) * T;
            float maxval = -INFINITY;
            for (int u = 0; u <= t; u++) {
                const float *k = inp + ((size_t)b * T + u) * C3 + C + h * hs;
                float dot = 0.0f;
                #pragma omp simd reduction(+:dot)
                for (int i = 0; i < hs; i++) dot += q[i] * k[i];
                a[u] = dot * scale;
                if (a[u] > maxval) maxval = a[u];
            }
            float sum = 0.0f;
            for (int u = 0; u <= t; u++) { a[u] = expf(a[u] - maxval); sum += a[u]; }
            float inv = 1.0f / sum;
            for (int u = 0; u <= t; u++) a[u] *= inv;
            for (int u = t + 1; u < T; u++) a[u] = 0.0f;
            float *o = out + ((size_t)b * T + t) * C + h * hs;
            for (int i = 0; i < hs; i++) o[i] = 0.0f;
            for (int u = 0; u <= t; u++) {
                const float *v = inp + ((size_t)b * T + u) * C3 + 2 * C + h * hs;
                float w = a[u];
                #pragma omp simd
                for (int i = 0; i < hs; i++) o[i] += w * v[i];
            }
        }
    }
}

// Backward of the above. With datt[t,u] = dout_t . v_u:
//   dv_u += sum_t att[t,u] dout_t
//   dS[t,u] = att[t,u] * (datt[t,u] - sum_u' att[t,u'] datt[t,u'])     (softmax backward)
//   dq_t += scale * sum_u dS[t,u] k_u,   dk_u += scale * sum_t dS[t,u] q_t
// Each (b, h) touches only its own slice of dinp, so the (b, h) loop runs in parallel.
static void attention_backward(float *dinp, const float *dout, const float *inp, const float *att,
                               int B, int T, int C, int NH) {
    int C3 = 3 * C, hs = C / NH;
    float scale = 1.0f / sqrtf((float)hs);
    #pragma omp parallel
    {
        float *datt = malloc((size_t)T * sizeof(float));
        #pragma omp for collapse(2)
        for (int b = 0; b < B; b++) for (int h = 0; h < NH; h++) {
            for (int t = 0; t < T; t++) {
                const float *a = att + (((size_t)b * NH + h) * T + t) * T;
                const float *dO = dout + ((size_t)b * T + t) * C + h * hs;
                const float *q = inp + ((size_t)b * T + t) * C3 + h * hs;
                float *dq = dinp + ((size_t)b * T + t) * C3 + h * hs;
                float dot_sum = 0.0f;
                for (int u = 0; u <= t; u++) {
                    const float *v = inp + ((size_t)b * T + u) * C3 + 2 * C + h * hs;
                    float *dv = dinp + ((size_t)b * T + u) * C3 + 2 * C + h * hs;
                    float d = 0.0f, w = a[u];
                    #pragma omp simd reduction(+:d)
                    for (int i = 0; i < hs; i++) { d += dO[i] * v[i]; dv[i] += w * dO[i]; }
                    datt[u] = d;
                    dot_sum += w * d;
                }
                for (int u = 0; u <= t; u++) {
                    float ds = a[u] * (datt[u] - dot_sum) * scale;
                    const float *k = inp + ((size_t)b * T + u) * C3 + C + h * hs;
                    float *dk = dinp + ((size_t)b * T + u) * C3 + C + h * hs;
                    #pragma omp simd
                    for (int i = 0; i < hs; i++) { dq[i] += ds * k[i]; dk[i] += ds * q[i]; }
                }
            }
        }
        free(datt);
    }
}

// GELU, tanh approximation: y = 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
#define GELU_SCALE 0.7978845608028654f
static void gelu_forward(float *out, const float *inp, size_t N) {
    #pragma omp parallel for
    for (size_t i = 0; i < N; i++) {
        float x = inp[i];
        out[i] = 0.5f * x * (1.0f + tanhf(GELU_SCALE * (x + 0.044715f * x * x * x)));
    }
}

// dy/dx = 0.5 (1 + tanh(u)) + 0.5 x (1 - tanh(u)^2) sqrt(2/pi) (1 + 3*0.044715 x^2)
static void gelu_backward(float *dinp, const float *inp, const float *dout, size_t N) {
    #pragma omp parallel for
    for (size_t i = 0; i < N; i++) {
        float x = inp[i];
        float th = tanhf(GELU_SCALE * (x + 0.044715f * x * x * x));
        float sech2 = 1.0f - th * th;
        float grad = 0.5f * (1.0f + th) + 0.5f * x * sech2 * GELU_SCALE * (1.0f + 3.0f * 0.044715f * x * x);
        dinp[i] += grad * dout[i];
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
// logp[i] = log probs[i][targets[i]] when targets are given.
static void softmax_logp_forward(float *probs, float *logp, const float *logits, const int *targets,
                                 int N, int V, int Vp) {
    #pragma omp parallel for
    for (int i = 0; i < N; i++) {
        const float *l = logits + (size_t)i * Vp;
        float *p = probs + (size_t)i * Vp;
        float maxval = -INFINITY;
        for (int v = 0; v < V; v++) if (l[v] > maxval) maxval = l[v];
        float sum = 0.0f;
        for (int v = 0; v < V; v++) { p[v] = expf(l[v] - maxval); sum += p[v]; }
        float inv = 1.0f / sum;
        for (int v = 0; v < V; v++) p[v] *= inv;
        for (int v = V; v < Vp; v++) p[v] = 0.0f;
        if (targets) logp[i] = l[targets[i]] - maxval - logf(sum);
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

typedef struct {
    int max_seq_len;       // maxT
    int vocab_size;        // V
    int padded_vocab_size; // Vp, a multiple of 128, >= V
    int num_layers;        // L
    int num_heads;         // NH
    int channels;          // C
} GPTConfig;

#define NUM_PARAMETER_TENSORS 16
typedef struct {
    float *wte;      // (Vp, C)
    float *wpe;      // (maxT, C)
    float *ln1w;     // (L, C)
    float *ln1b;     // (L, C)
    float *qkvw;     // (L, 3C, C)
    float *qkvb;     // (L, 3C)
    float *attprojw; // (L, C, C)
    float *attprojb; // (L, C)
    float *ln2w;     // (L, C)
    float *ln2b;     // (L, C)
    float *fcw;      // (L, 4C, C)
    float *fcb;      // (L, 4C)
    float *fcprojw;  // (L, C, 4C)
    float *fcprojb;  // (L, C)
    float *lnfw;     // (C)
    float *lnfb;     // (C)
} ParameterTensors;

// AdamW decays the 2-D matrices only (not biases, not LayerNorm): this flags them.
static const int param_is_matrix[NUM_PARAMETER_TENSORS] = {1, 1, 0, 0, 1, 0, 1, 0, 0, 0, 1, 0, 1, 0, 0, 0};

static void param_sizes(size_t sizes[NUM_PARAMETER_TENSORS], GPTConfig cfg) {
    size_t Vp = cfg.padded_vocab_size, C = cfg.channels, maxT = cfg.max_seq_len, L = cfg.num_layers;
    size_t s[NUM_PARAMETER_TENSORS] = {Vp * C, maxT * C, L * C, L * C, L * 3 * C * C, L * 3 * C,
                                       L * C * C, L * C, L * C, L * C, L * 4 * C * C, L * 4 * C,
                                       L * C * 4 * C, L * C, C, C};
    memcpy(sizes, s, sizeof(s));
}

// Point the 16 tensors into one contiguous block, in checkpoint order.
static void point_parameters(ParameterTensors *p, float *memory, const size_t sizes[NUM_PARAMETER_TENSORS]) {
    float **ptrs[NUM_PARAMETER_TENSORS] = {&p->wte, &p->wpe, &p->ln1w, &p->ln1b, &p->qkvw, &p->qkvb,
                                           &p->attprojw, &p->attprojb, &p->ln2w, &p->ln2b, &p->fcw,
                                           &p->fcb, &p->fcprojw, &p->fcprojb, &p->lnfw, &p->lnfb};
    for (int i = 0; i < NUM_PARAMETER_TENSORS; i++) { *ptrs[i] = memory; memory += sizes[i]; }
}

#define NUM_ACTIVATION_TENSORS 21
typedef struct {
    float *encoded;   // (B, T, C)
    float *ln1;       // (L, B, T, C)
    float *ln1_mean;  // (L, B, T)
    float *ln1_rstd;  // (L, B, T)
    float *qkv;       // (L, B, T, 3C)
    float *atty;      // (L, B, T, C)
    float *att;       // (L, B, NH, T, T)
    float *attproj;   // (L, B, T, C)
    float *residual2; // (L, B, T, C)
    float *ln2;       // (L, B, T, C)
    float *ln2_mean;  // (L, B, T)
    float *ln2_rstd;  // (L, B, T)
    float *fch;       // (L, B, T, 4C)
    float *fch_gelu;  // (L, B, T, 4C)
    float *fcproj;    // (L, B, T, C)
    float *residual3; // (L, B, T, C)
    float *lnf;       // (B, T, C)
    float *lnf_mean;  // (B, T)
    float *lnf_rstd;  // (B, T)
    float *logits;    // (B, T, Vp)
    float *probs;     // (B, T, Vp)
} ActivationTensors;

static void activation_sizes(size_t s[NUM_ACTIVATION_TENSORS], GPTConfig cfg, int B, int T) {
    size_t C = cfg.channels, L = cfg.num_layers, NH = cfg.num_heads, Vp = cfg.padded_vocab_size;
    size_t BT = (size_t)B * T;
    size_t sizes[NUM_ACTIVATION_TENSORS] = {
        BT * C, L * BT * C, L * BT, L * BT, L * BT * 3 * C, L * BT * C, L * B * NH * T * T,
        L * BT * C, L * BT * C, L * BT * C, L * BT, L * BT, L * BT * 4 * C, L * BT * 4 * C,
        L * BT * C, L * BT * C, BT * C, BT, BT, BT * Vp, BT * Vp};
    memcpy(s, sizes, sizeof(sizes));
}

// Lays the activation tensors of a (B, T) batch out in `mem`; returns the float count.
static size_t point_activations(ActivationTensors *a, float *mem, GPTConfig cfg, int B, int T) {
    size_t s[NUM_ACTIVATION_TENSORS], total = 0;
    activation_sizes(s, cfg, B, T);
    float **ptrs[NUM_ACTIVATION_TENSORS] = {
        &a->encoded, &a->ln1, &a->ln1_mean, &a->ln1_rstd, &a->qkv, &a->atty, &a->att, &a->attproj,
        &a->residual2, &a->ln2, &a->ln2_mean, &a->ln2_rstd, &a->fch, &a->fch_gelu, &a->fcproj,
        &a->residual3, &a->lnf, &a->lnf_mean, &a->lnf_rstd, &a->logits, &a->probs};
    for (int i = 0; i < NUM_ACTIVATION_TENSORS; i++) { if (mem) *ptrs[i] = mem + total; total += s[i]; }
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
    size_t tokens_capacity;     // B*T entries allocated in inputs/targets/logp
    int B, T;                   // shape of the last forward pass
    int *inputs, *targets;      // (B, T) copies of the last forward's tokens
    float *logp;                // (B, T) log pi(target) of the last forward
} GPT;

// Returns 0, or -1 with a message when the config cannot describe a real model.
static int gpt_config_check(GPTConfig c, char *err, size_t errlen) {
    if (c.max_seq_len < 1 || c.max_seq_len > (1 << 16)) return set_err(err, errlen, "max_seq_len %d out of range [1, 65536]", c.max_seq_len);
    if (c.vocab_size < 1 || c.vocab_size > (1 << 24)) return set_err(err, errlen, "vocab_size %d out of range [1, 16777216]", c.vocab_size);
    if (c.padded_vocab_size < c.vocab_size || c.padded_vocab_size > (1 << 24) + 128) return set_err(err, errlen, "padded_vocab_size %d smaller than vocab_size %d or too large", c.padded_vocab_size, c.vocab_size);
    if (c.num_layers < 1 || c.num_layers > 1024) return set_err(err, errlen, "num_layers %d out of range [1, 1024]", c.num_layers);
    if (c.channels < 1 || c.channels > (1 << 15)) return set_err(err, errlen, "channels %d out of range [1, 32768]", c.channels);
    if (c.num_heads < 1 || c.channels % c.num_heads != 0) return set_err(err, errlen, "num_heads %d does not divide channels %d", c.num_heads, c.channels);
    return 0;
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
}

// GPT-2 style random init: N(0, 0.02), residual projections scaled by 1/sqrt(2L),
// LayerNorm weights 1, biases 0. Padding rows of wte stay 0.
static void gpt_init_random(GPT *model, GPTConfig cfg, uint64_t seed) {
    gpt_init(model, cfg);
    uint64_t rng = rng_seed(seed);
    ParameterTensors *p = &model->params;
    size_t C = cfg.channels, L = cfg.num_layers;
    float proj_std = 0.02f / sqrtf(2.0f * L);
    struct { float *t; size_t n; float std; } mats[] = {
        {p->wte, (size_t)cfg.vocab_size * C, 0.02f}, {p->wpe, model->param_sizes[1], 0.02f},
        {p->qkvw, model->param_sizes[4], 0.02f}, {p->attprojw, model->param_sizes[6], proj_std},
        {p->fcw, model->param_sizes[10], 0.02f}, {p->fcprojw, model->param_sizes[12], proj_std}};
    for (size_t m = 0; m < sizeof(mats) / sizeof(mats[0]); m++) {
        for (size_t i = 0; i < mats[m].n; i++) { // Box-Muller
            float u1 = rng_f32(&rng) + 1e-7f, u2 = rng_f32(&rng);
            mats[m].t[i] = mats[m].std * sqrtf(-2.0f * logf(u1)) * cosf(6.2831853f * u2);
        }
    }
    for (size_t i = 0; i < L * C; i++) { p->ln1w[i] = 1.0f; p->ln2w[i] = 1.0f; }
    for (size_t i = 0; i < C; i++) p->lnfw[i] = 1.0f;
}

static void gpt_free(GPT *model) {
    free(model->params_memory); free(model->grads_memory);
    free(model->m_memory); free(model->v_memory);
    free(model->acts_memory); free(model->grads_acts_memory);
    free(model->inputs); free(model->targets); free(model->logp);
    memset(model, 0, sizeof(*model));
}

static void gpt_ensure_activations(GPT *model, int B, int T) {
    size_t need = point_activations(&model->acts, NULL, model->config, B, T), BT = (size_t)B * T;
    if (need > model->acts_capacity) {
        free(model->acts_memory); free(model->grads_acts_memory);
        model->acts_memory = xcalloc_aligned(need * sizeof(float));
        model->grads_acts_memory = NULL; // allocated on the first backward
        model->acts_capacity = need; model->grads_acts_capacity = 0;
    }
    if (BT > model->tokens_capacity) {
        free(model->inputs); free(model->targets); free(model->logp);
        model->inputs = xcalloc_aligned(BT * sizeof(int));
        model->targets = xcalloc_aligned(BT * sizeof(int));
        model->logp = xcalloc_aligned(BT * sizeof(float));
        model->tokens_capacity = BT;
    }
    model->num_activations = point_activations(&model->acts, model->acts_memory, model->config, B, T);
}

// Forward pass over tokens inputs[B*T] (T <= maxT). Fills acts.logits (B,T,Vp) and
// acts.probs; when targets are given also model->logp[b*T+t] = log pi(targets | inputs<=t).
static void gpt_forward(GPT *model, const int *inputs, const int *targets, int B, int T) {
    GPTConfig cfg = model->config;
    int L = cfg.num_layers, NH = cfg.num_heads, C = cfg.channels, V = cfg.vocab_size, Vp = cfg.padded_vocab_size;
    gpt_ensure_activations(model, B, T);
    model->B = B; model->T = T;
    size_t BT = (size_t)B * T;
    memcpy(model->inputs, inputs, BT * sizeof(int));
    if (targets) memcpy(model->targets, targets, BT * sizeof(int));
    ParameterTensors p = model->params;
    ActivationTensors a = model->acts;

    encoder_forward(a.encoded, inputs, p.wte, p.wpe, B, T, C);
    for (int l = 0; l < L; l++) {
        float *residual = l == 0 ? a.encoded : a.residual3 + (l - 1) * BT * C;
        // this layer's weights
        float *ln1w = p.ln1w + l * C, *ln1b = p.ln1b + l * C;
        float *qkvw = p.qkvw + (size_t)l * 3 * C * C, *qkvb = p.qkvb + l * 3 * C;
        float *attprojw = p.attprojw + (size_t)l * C * C, *attprojb = p.attprojb + l * C;
        float *ln2w = p.ln2w + l * C, *ln2b = p.ln2b + l * C;
        float *fcw = p.fcw + (size_t)l * 4 * C * C, *fcb = p.fcb + l * 4 * C;
        float *fcprojw = p.fcprojw + (size_t)l * C * 4 * C, *fcprojb = p.fcprojb + l * C;
        // this layer's activations
        float *ln1 = a.ln1 + l * BT * C, *ln1_mean = a.ln1_mean + l * BT, *ln1_rstd = a.ln1_rstd + l * BT;
        float *qkv = a.qkv + l * BT * 3 * C, *atty = a.atty + l * BT * C;
        float *att = a.att + (size_t)l * B * NH * T * T;
        float *attproj = a.attproj + l * BT * C, *residual2 = a.residual2 + l * BT * C;
        float *ln2 = a.ln2 + l * BT * C, *ln2_mean = a.ln2_mean + l * BT, *ln2_rstd = a.ln2_rstd + l * BT;
        float *fch = a.fch + l * BT * 4 * C, *fch_gelu = a.fch_gelu + l * BT * 4 * C;
        float *fcproj = a.fcproj + l * BT * C, *residual3 = a.residual3 + l * BT * C;

        layernorm_forward(ln1, ln1_mean, ln1_rstd, residual, ln1w, ln1b, (int)BT, C);
        matmul_forward(qkv, ln1, qkvw, qkvb, (int)BT, C, 3 * C);
        attention_forward(atty, att, qkv, B, T, C, NH);
        matmul_forward(attproj, atty, attprojw, attprojb, (int)BT, C, C);
        residual_forward(residual2, residual, attproj, BT * C);
        layernorm_forward(ln2, ln2_mean, ln2_rstd, residual2, ln2w, ln2b, (int)BT, C);
        matmul_forward(fch, ln2, fcw, fcb, (int)BT, C, 4 * C);
        gelu_forward(fch_gelu, fch, BT * 4 * C);
        matmul_forward(fcproj, fch_gelu, fcprojw, fcprojb, (int)BT, 4 * C, C);
        residual_forward(residual3, residual2, fcproj, BT * C);
    }
    float *residual = a.residual3 + (L - 1) * BT * C;
    layernorm_forward(a.lnf, a.lnf_mean, a.lnf_rstd, residual, p.lnfw, p.lnfb, (int)BT, C);
    matmul_forward(a.logits, a.lnf, p.wte, NULL, (int)BT, C, Vp);
    softmax_logp_forward(a.probs, model->logp, a.logits, targets ? model->targets : NULL, (int)BT, V, Vp);
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
    GPTConfig cfg = model->config;
    int B = model->B, T = model->T;
    int L = cfg.num_layers, NH = cfg.num_heads, C = cfg.channels, V = cfg.vocab_size, Vp = cfg.padded_vocab_size;
    size_t BT = (size_t)B * T;
    if (!model->grads_memory) {
        model->grads_memory = xcalloc_aligned(model->num_parameters * sizeof(float));
        point_parameters(&model->grads, model->grads_memory, model->param_sizes);
    }
    if (!model->grads_acts_memory) {
        model->grads_acts_memory = xcalloc_aligned(model->acts_capacity * sizeof(float));
        model->grads_acts_capacity = model->acts_capacity;
    }
    point_activations(&model->grads_acts, model->grads_acts_memory, cfg, B, T);
    // activation gradients are recomputed from scratch every backward
    memset(model->grads_acts_memory, 0, model->num_activations * sizeof(float));
    ParameterTensors p = model->params, g = model->grads;
    ActivationTensors a = model->acts, ga = model->grads_acts;

    weighted_nll_backward(ga.logits, a.probs, model->targets, c, (int)BT, V, Vp);
    matmul_backward(ga.lnf, g.wte, NULL, ga.logits, a.lnf, p.wte, (int)BT, C, Vp);
    float *residual = a.residual3 + (L - 1) * BT * C;
    float *dresidual = ga.residual3 + (L - 1) * BT * C;
    layernorm_backward(dresidual, g.lnfw, g.lnfb, ga.lnf, residual, p.lnfw, a.lnf_mean, a.lnf_rstd, (int)BT, C);

    for (int l = L - 1; l >= 0; l--) {
        residual = l == 0 ? a.encoded : a.residual3 + (l - 1) * BT * C;
        dresidual = l == 0 ? ga.encoded : ga.residual3 + (l - 1) * BT * C;
        // weights and their gradients
        float *ln1w = p.ln1w + l * C, *qkvw = p.qkvw + (size_t)l * 3 * C * C;
        float *attprojw = p.attprojw + (size_t)l * C * C, *ln2w = p.ln2w + l * C;
        float *fcw = p.fcw + (size_t)l * 4 * C * C, *fcprojw = p.fcprojw + (size_t)l * C * 4 * C;
        float *dln1w = g.ln1w + l * C, *dln1b = g.ln1b + l * C;
        float *dqkvw = g.qkvw + (size_t)l * 3 * C * C, *dqkvb = g.qkvb + l * 3 * C;
        float *dattprojw = g.attprojw + (size_t)l * C * C, *dattprojb = g.attprojb + l * C;
        float *dln2w = g.ln2w + l * C, *dln2b = g.ln2b + l * C;
        float *dfcw = g.fcw + (size_t)l * 4 * C * C, *dfcb = g.fcb + l * 4 * C;
        float *dfcprojw = g.fcprojw + (size_t)l * C * 4 * C, *dfcprojb = g.fcprojb + l * C;
        // activations and their gradients
        float *ln1 = a.ln1 + l * BT * C, *ln1_mean = a.ln1_mean + l * BT, *ln1_rstd = a.ln1_rstd + l * BT;
        float *qkv = a.qkv + l * BT * 3 * C, *atty = a.atty + l * BT * C;
        float *att = a.att + (size_t)l * B * NH * T * T, *residual2 = a.residual2 + l * BT * C;
        float *ln2 = a.ln2 + l * BT * C, *ln2_mean = a.ln2_mean + l * BT, *ln2_rstd = a.ln2_rstd + l * BT;
        float *fch = a.fch + l * BT * 4 * C, *fch_gelu = a.fch_gelu + l * BT * 4 * C;
        float *dln1 = ga.ln1 + l * BT * C, *dqkv = ga.qkv + l * BT * 3 * C, *datty = ga.atty + l * BT * C;
        float *dattproj = ga.attproj + l * BT * C, *dresidual2 = ga.residual2 + l * BT * C;
        float *dln2 = ga.ln2 + l * BT * C, *dfch = ga.fch + l * BT * 4 * C;
        float *dfch_gelu = ga.fch_gelu + l * BT * 4 * C, *dfcproj = ga.fcproj + l * BT * C;
        float *dresidual3 = ga.residual3 + l * BT * C;

        residual_backward(dresidual2, dfcproj, dresidual3, BT * C);
        matmul_backward(dfch_gelu, dfcprojw, dfcprojb, dfcproj, fch_gelu, fcprojw, (int)BT, 4 * C, C);
        gelu_backward(dfch, fch, dfch_gelu, BT * 4 * C);
        matmul_backward(dln2, dfcw, dfcb, dfch, ln2, fcw, (int)BT, C, 4 * C);
        layernorm_backward(dresidual2, dln2w, dln2b, dln2, residual2, ln2w, ln2_mean, ln2_rstd, (int)BT, C);
        residual_backward(dresidual, dattproj, dresidual2, BT * C);
        matmul_backward(datty, dattprojw, dattprojb, dattproj, atty, attprojw, (int)BT, C, C);
        attention_backward(dqkv, datty, qkv, att, B, T, C, NH);
        matmul_backward(dln1, dqkvw, dqkvb, dqkv, ln1, qkvw, (int)BT, C, 3 * C);
        layernorm_backward(dresidual, dln1w, dln1b, dln1, residual, ln1w, ln1_mean, ln1_rstd, (int)BT, C);
    }
    encoder_backward(g.wte, g.wpe, ga.encoded, model->inputs, B, T, C);
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
// a temporary file, flushed and synced, then renamed over the target.
typedef int (*write_extras_fn)(FILE *f, void *ctx);
static int gpt_write_checkpoint(const GPT *model, const char *path, write_extras_fn write_extras, void *ctx,
                                char *err, size_t errlen) {
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
    float *k, *v;        // (L, slots, maxT, C)
    // scratch for one step of up to `slots` sequences
    float *x, *ln, *qkv, *atty, *proj, *fch, *logits; // (slots, C|3C|4C|Vp)
    float *att;          // (slots, NH, maxT)
} KVCache;

static void kvcache_init(KVCache *kv, GPTConfig cfg, int slots) {
    size_t C = cfg.channels, S = slots, L = cfg.num_layers, T = cfg.max_seq_len;
    kv->slots = slots; kv->maxT = cfg.max_seq_len;
    kv->k = xcalloc_aligned(L * S * T * C * sizeof(float));
    kv->v = xcalloc_aligned(L * S * T * C * sizeof(float));
    kv->x = xcalloc_aligned(S * C * sizeof(float));
    kv->ln = xcalloc_aligned(S * C * sizeof(float));
    kv->qkv = xcalloc_aligned(S * 3 * C * sizeof(float));
    kv->atty = xcalloc_aligned(S * C * sizeof(float));
    kv->proj = xcalloc_aligned(S * C * sizeof(float));
    kv->fch = xcalloc_aligned(S * 4 * C * sizeof(float));
    kv->logits = xcalloc_aligned(S * (size_t)cfg.padded_vocab_size * sizeof(float));
    kv->att = xcalloc_aligned(S * (size_t)cfg.num_heads * T * sizeof(float));
}

static void kvcache_free(KVCache *kv) {
    free(kv->k); free(kv->v); free(kv->x); free(kv->ln); free(kv->qkv); free(kv->atty);
    free(kv->proj); free(kv->fch); free(kv->logits); free(kv->att);
    memset(kv, 0, sizeof(*kv));
}

// One step for n live sequences: sequence i sits in cache slot slot[i], feeds token
// tok[i] at position pos[i] (its cache already holds positions 0..pos[i]-1).
// Writes logits (n, Vp) into kv->logits. The arithmetic is the training forward's,
// restricted to the new position, so its logits equal a full forward pass.
static void gpt_decode_step(const GPT *model, KVCache *kv, int n, const int *slot, const int *tok, const int *pos) {
    GPTConfig cfg = model->config;
    int L = cfg.num_layers, NH = cfg.num_heads, C = cfg.channels, hs = C / NH, Vp = cfg.padded_vocab_size;
    size_t T = kv->maxT, S = kv->slots;
    const ParameterTensors *p = &model->params;
    float scale = 1.0f / sqrtf((float)hs);
    for (int i = 0; i < n; i++) {
        const float *we = p->wte + (size_t)tok[i] * C, *pe = p->wpe + (size_t)pos[i] * C;
        for (int c = 0; c < C; c++) kv->x[(size_t)i * C + c] = we[c] + pe[c];
    }
    for (int l = 0; l < L; l++) {
        layernorm_forward(kv->ln, NULL, NULL, kv->x, p->ln1w + l * C, p->ln1b + l * C, n, C);
        matmul_forward(kv->qkv, kv->ln, p->qkvw + (size_t)l * 3 * C * C, p->qkvb + l * 3 * C, n, C, 3 * C);
        float *Kl = kv->k + (size_t)l * S * T * C, *Vl = kv->v + (size_t)l * S * T * C;
        for (int i = 0; i < n; i++) { // append this position's key and value to the cache
            memcpy(Kl + ((size_t)slot[i] * T + pos[i]) * C, kv->qkv + (size_t)i * 3 * C + C, C * sizeof(float));
            memcpy(Vl + ((size_t)slot[i] * T + pos[i]) * C, kv->qkv + (size_t)i * 3 * C + 2 * C, C * sizeof(float));
        }
        #pragma omp parallel for collapse(2)
        for (int i = 0; i < n; i++) for (int h = 0; h < NH; h++) {
            const float *q = kv->qkv + (size_t)i * 3 * C + h * hs;
            float *a = kv->att + ((size_t)i * NH + h) * T;
            const float *Ks = Kl + (size_t)slot[i] * T * C + h * hs, *Vs = Vl + (size_t)slot[i] * T * C + h * hs;
            float maxval = -INFINITY;
            for (int u = 0; u <= pos[i]; u++) {
                float dot = 0.0f;
                #pragma omp simd reduction(+:dot)
                for (int j = 0; j < hs; j++) dot += q[j] * Ks[(size_t)u * C + j];
                a[u] = dot * scale;
                if (a[u] > maxval) maxval = a[u];
            }
            float sum = 0.0f;
            for (int u = 0; u <= pos[i]; u++) { a[u] = expf(a[u] - maxval); sum += a[u]; }
            float inv = 1.0f / sum;
            float *o = kv->atty + (size_t)i * C + h * hs;
            for (int j = 0; j < hs; j++) o[j] = 0.0f;
            for (int u = 0; u <= pos[i]; u++) {
                float w = a[u] * inv;
                #pragma omp simd
                for (int j = 0; j < hs; j++) o[j] += w * Vs[(size_t)u * C + j];
            }
        }
        matmul_forward(kv->proj, kv->atty, p->attprojw + (size_t)l * C * C, p->attprojb + l * C, n, C, C);
        for (size_t i = 0; i < (size_t)n * C; i++) kv->x[i] += kv->proj[i];
        layernorm_forward(kv->ln, NULL, NULL, kv->x, p->ln2w + l * C, p->ln2b + l * C, n, C);
        matmul_forward(kv->fch, kv->ln, p->fcw + (size_t)l * 4 * C * C, p->fcb + l * 4 * C, n, C, 4 * C);
        gelu_forward(kv->fch, kv->fch, (size_t)n * 4 * C);
        matmul_forward(kv->proj, kv->fch, p->fcprojw + (size_t)l * C * 4 * C, p->fcprojb + l * C, n, 4 * C, C);
        for (size_t i = 0; i < (size_t)n * C; i++) kv->x[i] += kv->proj[i];
    }
    layernorm_forward(kv->ln, NULL, NULL, kv->x, p->lnfw, p->lnfb, n, C);
    matmul_forward(kv->logits, kv->ln, p->wte, NULL, n, C, Vp);
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
} SampleConfig;

// Generates continuations for n prompts of different lengths together. Prompt i is
// prompt_ids[prompt_off[i] .. prompt_off[i]+prompt_len[i]); its completion goes to
// out[i*max_new ..] with out_len[i] tokens (including the stop token, if drawn) and
// out_logp[i*max_new + j] = log pi(token j) under the model's own, untempered
// distribution (what RL's importance ratio needs). A sequence still feeding its
// prompt takes no samples: prefill and generation share the same batched step.
// Requires kv->slots >= n and prompt_len[i] + max_new <= maxT (callers check).
static void gpt_generate(const GPT *model, KVCache *kv, int n, const int *prompt_ids, const int *prompt_off,
                         const int *prompt_len, SampleConfig sc, uint64_t *rng, int *out, float *out_logp, int *out_len) {
    int V = model->config.vocab_size, Vp = model->config.padded_vocab_size;
    int *slot = malloc((size_t)n * sizeof(int)), *tok = malloc((size_t)n * sizeof(int)), *pos = malloc((size_t)n * sizeof(int));
    int *live_seq = malloc((size_t)n * sizeof(int)), *next = malloc((size_t)n * sizeof(int));
    ProbIndex *scratch = malloc((size_t)V * sizeof(ProbIndex));
    for (int i = 0; i < n; i++) { out_len[i] = 0; next[i] = prompt_ids[prompt_off[i]]; }
    // every sequence starts at position 0, so all live sequences sit at position t
    for (int t = 0; sc.max_new > 0; t++) {
        int m = 0; // gather the live sequences
        for (int i = 0; i < n; i++) {
            int len = out_len[i];
            if (len >= sc.max_new || (len > 0 && out[(size_t)i * sc.max_new + len - 1] == sc.stop_token)) continue;
            live_seq[m] = i; slot[m] = i; tok[m] = next[i]; pos[m] = t; m++;
        }
        if (m == 0) break;
        gpt_decode_step(model, kv, m, slot, tok, pos);
        for (int j = 0; j < m; j++) { // sampling in sequence order keeps the RNG stream reproducible
            int i = live_seq[j];
            const float *logits = kv->logits + (size_t)j * Vp;
            if (t + 1 < prompt_len[i]) { next[i] = prompt_ids[prompt_off[i] + t + 1]; continue; }
            int y = sample_token(logits, V, sc.temperature, sc.top_p, rng, scratch);
            out[(size_t)i * sc.max_new + out_len[i]] = y;
            out_logp[(size_t)i * sc.max_new + out_len[i]] = logprob_of(logits, V, y);
            out_len[i]++;
            next[i] = y;
        }
    }
    free(slot); free(tok); free(pos); free(live_seq); free(next); free(scratch);
}

#pragma GCC diagnostic pop
#endif // MODEL_H
