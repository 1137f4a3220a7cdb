/*
test_model.c — the GPT engine against PyTorch and against itself.

  1. test/ref/state.bin (dev/gpt_ref.py) and the Llama family's state files in test/ref/llama/
     (dev/llama_ref.py: Qwen3-, Qwen2- and Llama-like, MHA and GQA): logits, loss,
     every gradient, 10 AdamW steps
  2. finite differences of each layer's backward (LayerNorm, RMSNorm, RoPE with and
     without QK-norm, attention, grouped-query attention, GELU, SwiGLU, matmul) and of
     the whole model, GPT-2 and Llama
  3. the SIMD matmul core against the plain reference on odd shapes
  4. KV-cache decoding logits equal a full forward pass, ragged batch (GPT-2, GQA)
  5. checkpoint write -> read is byte-exact
  6. bad checkpoints are rejected with a message, never a crash
Run from the repository root. Prints one line per check and "N passed, N failed".
*/
#include "../model.h"

static int n_pass = 0, n_fail = 0;
static void check(int ok, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    printf("%s ", ok ? "PASS" : "FAIL");
    vprintf(fmt, ap);
    printf("\n");
    va_end(ap);
    if (ok) n_pass++; else n_fail++;
}

// the larger of a and b, and NaN if b is NaN (fmax would drop a NaN error; it also makes
// gcc 12's aarch64 vectoriser crash on these loops)
static double worse(double a, double b) { return b > a || b != b ? b : a; }

// SampleConfig.stop: the sequence so far ends with the two tokens of ctx
static int stop_at_pair(const int *ids, int n, const void *ctx) {
    const int *pair = ctx;
    return n >= 2 && ids[n - 2] == pair[0] && ids[n - 1] == pair[1];
}

// max_i |a_i - b_i| / (|b_i| + atol): relative error, with atol guarding near-zero entries
static double max_rel_err(const float *a, const float *b, size_t n, double atol) {
    double worst = 0.0;
    for (size_t i = 0; i < n; i++) {
        double e = fabs((double)a[i] - b[i]) / (fabs((double)b[i]) + atol);
        if (!(e <= worst)) worst = e; // also catches NaN
    }
    return worst;
}

static void fill_random(float *x, size_t n, uint64_t *rng, float scale) {
    for (size_t i = 0; i < n; i++) x[i] = scale * (2.0f * rng_f32(rng) - 1.0f);
}

static const char *PARAM_NAMES[NUM_PARAMETER_TENSORS] = {
    "wte", "wpe", "ln1w", "ln1b", "qkvw", "qkvb", "attprojw", "attprojb",
    "ln2w", "ln2b", "fcw", "fcb", "fcprojw", "fcprojb", "lnfw", "lnfb", "qnormw", "knormw", "lmhead"};

// ----------------------------------------------------------------------------
// 1. PyTorch reference

// one batch and what PyTorch computed from it (the layout of dev/gpt_ref.py's state.bin
// after its header; dev/llama_ref.py's files put the initial weights first)
typedef struct {
    int B, T, nsteps;
    int *x, *y;
    float *c, *logits, loss, *grads, *losses, *final;
} Reference;

static int read_reference(FILE *f, Reference *r, int B, int T, int nsteps, size_t Vp, size_t P) {
    size_t BT = (size_t)B * T;
    *r = (Reference){B, T, nsteps, malloc(BT * sizeof(int)), malloc(BT * sizeof(int)), malloc(BT * sizeof(float)),
                     malloc(BT * Vp * sizeof(float)), 0.0f, malloc(P * sizeof(float)), malloc(nsteps * sizeof(float)),
                     malloc(P * sizeof(float))};
    return fread(r->x, sizeof(int), BT, f) == BT && fread(r->y, sizeof(int), BT, f) == BT &&
           fread(r->c, sizeof(float), BT, f) == BT && fread(r->logits, sizeof(float), BT * Vp, f) == BT * Vp &&
           fread(&r->loss, sizeof(float), 1, f) == 1 && fread(r->grads, sizeof(float), P, f) == P &&
           fread(r->losses, sizeof(float), nsteps, f) == (size_t)nsteps && fread(r->final, sizeof(float), P, f) == P;
}

static void free_reference(Reference *r) {
    free(r->x); free(r->y); free(r->c); free(r->logits); free(r->grads); free(r->losses); free(r->final);
}

// logits, loss, every gradient tensor and 10 AdamW steps of `model` against PyTorch
static void compare_with_pytorch(GPT *model, const Reference *r, const char *name) {
    int B = r->B, T = r->T, nsteps = r->nsteps;
    size_t BT = (size_t)B * T, Vp = model->config.padded_vocab_size;
    gpt_forward(model, r->x, r->y, B, T);
    double lscale = 0.0; // errors relative to the largest logit, as for the gradients below
    for (size_t i = 0; i < BT * Vp; i++) lscale = worse(lscale, fabs(r->logits[i]));
    double lerr = max_rel_err(model->acts.logits, r->logits, BT * Vp, lscale);
    check(lerr <= 1e-5, "%s: logits match PyTorch (max err %.2e of the largest logit %.2f)", name, lerr, lscale);
    double my_loss = gpt_weighted_loss(model, r->c);
    check(fabs(my_loss - r->loss) <= 1e-5 * fabs(r->loss) + 1e-6, "%s: weighted loss %.7f matches PyTorch %.7f", name, my_loss, r->loss);
    gpt_zero_grad(model);
    gpt_backward(model, r->c);
    // each gradient tensor within 1e-5 of PyTorch, relative to the tensor's own scale
    size_t off = 0;
    for (int t = 0; t < NUM_PARAMETER_TENSORS; t++) {
        size_t n = model->param_sizes[t];
        if (!n) continue;
        double scale = 0.0;
        for (size_t i = 0; i < n; i++) scale = worse(scale, fabs(r->grads[off + i]));
        double e = max_rel_err(model->grads_memory + off, r->grads + off, n, scale);
        check(e <= 1e-5, "%s: gradient d%-8s matches PyTorch (max err %.2e of its largest entry)", name, PARAM_NAMES[t], e);
        off += n;
    }
    // 10 AdamW steps on the same batch: the losses before each step
    AdamWConfig opt = {.lr = 1e-3f, .beta1 = 0.9f, .beta2 = 0.95f, .eps = 1e-8f, .weight_decay = 0.1f};
    double worst = 0.0;
    for (int s = 0; s < nsteps; s++) {
        gpt_forward(model, r->x, r->y, B, T);
        double l = gpt_weighted_loss(model, r->c);
        worst = worse(worst, fabs(l - r->losses[s]) / (fabs(r->losses[s]) + 1e-3));
        gpt_zero_grad(model);
        gpt_backward(model, r->c);
        gpt_clip_grad_norm(model, 1.0f);
        gpt_adamw_update(model, opt);
    }
    check(worst <= 1e-5, "%s: %d AdamW-step losses match PyTorch (max rel err %.2e)", name, nsteps, worst);
    // final weights; GPT-2's key bias is skipped: its true gradient is exactly 0 (softmax
    // is shift-invariant), so what Adam does with its rounding noise is noise. (With
    // RoPE a key bias is rotated differently at each position and is not invariant.)
    off = 0;
    double wworst = 0.0;
    Dims d = dims_of(model->config);
    for (int t = 0; t < NUM_PARAMETER_TENSORS; t++) {
        size_t n = model->param_sizes[t];
        for (size_t i = 0; i < n; i++) {
            if (t == 5 && !d.llama) { int j = (int)(i % d.QKV); if (j >= d.C && j < 2 * d.C) continue; }
            wworst = worse(wworst, fabs(model->params_memory[off + i] - r->final[off + i]));
        }
        off += n;
    }
    check(wworst <= 2e-5, "%s: parameters after %d AdamW steps match PyTorch (max abs err %.2e)", name, nsteps, wworst);
}

static void test_pytorch_reference(void) {
    GPT model;
    char err[512];
    if (gpt_read_checkpoint(&model, "test/ref/model.bin", NULL, err, sizeof(err))) { check(0, "load test/ref/model.bin: %s", err); return; }
    FILE *f = fopen("test/ref/state.bin", "rb");
    if (!f) { check(0, "open test/ref/state.bin"); gpt_free(&model); return; }
    int32_t h[256];
    Reference r = {0};
    int ok = fread(h, sizeof(h), 1, f) == 1 && h[0] == 20240327 && h[1] == 1 &&
             read_reference(f, &r, h[2], h[3], h[4], model.config.padded_vocab_size, model.num_parameters);
    fclose(f);
    check(ok, "read test/ref/state.bin (B=%d T=%d, %zu parameters)", h[2], h[3], model.num_parameters);
    if (ok) compare_with_pytorch(&model, &r, "gpt2");
    free_reference(&r);
    gpt_free(&model);
}

// The Llama family: dev/llama_ref.py's state files hold the config, the initial
// weights in slot order, then the same fields as state.bin.
static void test_llama_reference(const char *variant) {
    char path[256], err[256];
    snprintf(path, sizeof(path), "test/ref/llama/%s.bin", variant);
    FILE *f = fopen(path, "rb");
    if (!f) { check(0, "open %s", path); return; }
    int32_t h[256];
    if (fread(h, sizeof(h), 1, f) != 1 || h[0] != 20261202 || h[1] != 1) { check(0, "%s: header", path); fclose(f); return; }
    GPTConfig cfg = {.vocab_size = h[5], .padded_vocab_size = h[6], .max_seq_len = h[7], .num_layers = h[8],
                     .num_heads = h[9], .num_kv_heads = h[10], .channels = h[11], .head_dim = h[12], .ffn_dim = h[13],
                     .qkv_bias = h[14], .qk_norm = h[15], .untied = !h[16], .arch = ARCH_LLAMA};
    memcpy(&cfg.norm_eps, &h[17], 4);
    memcpy(&cfg.rope_theta, &h[18], 4);
    if (gpt_config_check(cfg, err, sizeof(err))) { check(0, "%s: config: %s", path, err); fclose(f); return; }
    GPT model;
    gpt_init(&model, cfg);
    Reference r = {0};
    int ok = fread(model.params_memory, sizeof(float), model.num_parameters, f) == model.num_parameters &&
             read_reference(f, &r, h[2], h[3], h[4], cfg.padded_vocab_size, model.num_parameters);
    fclose(f);
    check(ok, "read %s (L=%d C=%d NH=%d KV=%d hd=%d F=%d, %zu parameters)", path, cfg.num_layers, cfg.channels,
          cfg.num_heads, cfg.num_kv_heads, cfg.head_dim, cfg.ffn_dim, model.num_parameters);
    if (ok) compare_with_pytorch(&model, &r, variant);
    free_reference(&r);
    gpt_free(&model);
}

// ----------------------------------------------------------------------------
// 2. finite differences
//
// For a layer y = f(x), take the scalar S = sum(r * y) with a fixed random r; then
// dS/dx from the backward pass (fed dout = r) must equal (S(x+h) - S(x-h)) / 2h.
// Evaluated in float with h = 1e-3; tolerance 1e-2 relative to the gradient's scale.

typedef void (*layer_fn)(void *ctx, const float *x, float *y);

static double weighted_sum(const float *r, const float *y, size_t n) {
    double s = 0.0;
    for (size_t i = 0; i < n; i++) s += (double)r[i] * y[i];
    return s;
}

// compares analytic grad g (size n) with central differences of S wrt x[i]
static double fd_error(layer_fn f, void *ctx, float *x, size_t nx, const float *r, size_t ny, const float *g) {
    float *y = malloc(ny * sizeof(float));
    double worst = 0.0, scale = 1e-6;
    for (size_t i = 0; i < nx; i++) scale = worse(scale, fabs(g[i]));
    for (size_t i = 0; i < nx; i++) {
        float keep = x[i], h = 1e-3f;
        x[i] = keep + h; f(ctx, x, y); double sp = weighted_sum(r, y, ny);
        x[i] = keep - h; f(ctx, x, y); double sm = weighted_sum(r, y, ny);
        x[i] = keep;
        double fd = (sp - sm) / (2.0 * h);
        worst = worse(worst, fabs(fd - g[i]) / scale);
    }
    free(y);
    return worst;
}

typedef struct { int N, C; float *w, *b; } LNCtx;
static void ln_f(void *ctx, const float *x, float *y) { LNCtx *c = ctx; layernorm_forward(y, NULL, NULL, x, c->w, c->b, c->N, c->C); }
static void ln_fw(void *ctx, const float *w, float *y);
static float *g_ln_x;
static void ln_fw(void *ctx, const float *w, float *y) { LNCtx *c = ctx; layernorm_forward(y, NULL, NULL, g_ln_x, w, c->b, c->N, c->C); }

typedef struct { int B, T, C, NH; float *att; } AttCtx;
static void att_f(void *ctx, const float *x, float *y) { AttCtx *c = ctx; attention_forward(y, c->att, x, c->B, c->T, c->NH, c->NH, c->C / c->NH); }

static void gelu_f(void *ctx, const float *x, float *y) { gelu_forward(y, x, *(size_t *)ctx); }

typedef struct { int M, K, N; float *w; } MMCtx;
static void mm_f(void *ctx, const float *x, float *y) { MMCtx *c = ctx; matmul_forward(y, x, c->w, NULL, c->M, c->K, c->N); }
static float *g_mm_x;
static void mm_fw(void *ctx, const float *w, float *y) { MMCtx *c = ctx; matmul_forward(y, g_mm_x, w, NULL, c->M, c->K, c->N); }

typedef struct { int N, C; float *w; } RMSCtx;
static float *g_rms_x;
static void rms_f(void *ctx, const float *x, float *y) { RMSCtx *c = ctx; rmsnorm_forward(y, NULL, x, c->w, c->N, c->C, 1e-5f); }
static void rms_fw(void *ctx, const float *w, float *y) { RMSCtx *c = ctx; rmsnorm_forward(y, NULL, g_rms_x, w, c->N, c->C, 1e-5f); }

typedef struct { int B, T, NH, KV, hd; float *qnw, *knw, *cs, *sn, *rstd; } RopeCtx;
static float *g_rope_x;
static void rope_f(void *ctx, const float *x, float *y) {
    RopeCtx *c = ctx;
    qk_rope_forward(y, c->rstd, x, c->qnw, c->knw, c->cs, c->sn, c->B, c->T, c->NH, c->KV, c->hd, 1e-5f);
}
static void rope_fq(void *ctx, const float *w, float *y) {
    RopeCtx *c = ctx;
    qk_rope_forward(y, c->rstd, g_rope_x, w, c->knw, c->cs, c->sn, c->B, c->T, c->NH, c->KV, c->hd, 1e-5f);
}
static void rope_fk(void *ctx, const float *w, float *y) {
    RopeCtx *c = ctx;
    qk_rope_forward(y, c->rstd, g_rope_x, c->qnw, w, c->cs, c->sn, c->B, c->T, c->NH, c->KV, c->hd, 1e-5f);
}

typedef struct { int B, T, NH, KV, hd; float *att; } GQACtx;
static void gqa_f(void *ctx, const float *x, float *y) { GQACtx *c = ctx; attention_forward(y, c->att, x, c->B, c->T, c->NH, c->KV, c->hd); }

static void swiglu_f(void *ctx, const float *x, float *y) { swiglu_forward(y, x, *(int *)ctx, 8); }

// the whole model: dL/dparam for a sample of parameters of every tensor,
// L = -sum c log p with mixed-sign c (what CISPO feeds backward)
static void whole_model_fd(GPTConfig cfg, const char *name, uint64_t *rngp) {
    uint64_t rng = *rngp;
    GPT model;
    gpt_init_random(&model, cfg, 3);
    for (size_t i = 0; i < model.num_parameters; i++) // larger weights: a less trivial function
        if (model.params_memory[i] != 0.0f) model.params_memory[i] += 0.2f * (2.0f * rng_f32(&rng) - 1.0f);
    int B = 2, T = 6, x[12], y[12];
    float c[12];
    for (int i = 0; i < 12; i++) { x[i] = (int)(rng_u64(&rng) % 11); y[i] = (int)(rng_u64(&rng) % 11); c[i] = 2.0f * rng_f32(&rng) - 1.0f; }
    c[3] = 0.0f;
    gpt_forward(&model, x, y, B, T);
    gpt_zero_grad(&model);
    gpt_backward(&model, c);
    size_t off = 0;
    double worst = 0.0;
    for (int t = 0; t < NUM_PARAMETER_TENSORS; t++) {
        for (int k = 0; k < 4 && model.param_sizes[t]; k++) {
            size_t i = off + rng_u64(&rng) % model.param_sizes[t];
            if ((t == 0 || t == 18) && i - off >= (size_t)cfg.vocab_size * cfg.channels) continue; // padding rows
            double h = 3e-3;
            float keep = model.params_memory[i];
            model.params_memory[i] = keep + (float)h; gpt_forward(&model, x, y, B, T); double lp = gpt_weighted_loss(&model, c);
            model.params_memory[i] = keep - (float)h; gpt_forward(&model, x, y, B, T); double lm = gpt_weighted_loss(&model, c);
            model.params_memory[i] = keep;
            double fd = (lp - lm) / (2 * h), g = model.grads_memory[i];
            worst = worse(worst, fabs(fd - g) / (fabs(fd) + 1e-2));
            if (getenv("FD_DEBUG")) printf("  %s[%zu] fd %.6f grad %.6f\n", PARAM_NAMES[t], i - off, fd, g);
        }
        off += model.param_sizes[t];
    }
    check(worst < 2e-2, "%s: whole-model weighted-loss gradient vs finite differences (max rel err %.2e)", name, worst);
    gpt_free(&model);
    *rngp = rng;
}


static void test_finite_differences(void) {
    uint64_t rng = rng_seed(7);
    { // layernorm: input and weight
        int N = 3, C = 8;
        float x[24], w[8], b[8], r[24], mean[3], rstd[3], y[24], dx[24] = {0}, dw[8] = {0}, db[8] = {0};
        fill_random(x, 24, &rng, 1.0f); fill_random(w, 8, &rng, 1.0f); fill_random(b, 8, &rng, 1.0f); fill_random(r, 24, &rng, 1.0f);
        layernorm_forward(y, mean, rstd, x, w, b, N, C);
        layernorm_backward(dx, dw, db, r, x, w, mean, rstd, N, C);
        LNCtx ctx = {N, C, w, b};
        check(fd_error(ln_f, &ctx, x, 24, r, 24, dx) < 1e-2, "layernorm dx vs finite differences");
        g_ln_x = x;
        check(fd_error(ln_fw, &ctx, w, 8, r, 24, dw) < 1e-2, "layernorm dw vs finite differences");
    }
    { // attention
        int B = 2, T = 5, C = 8, NH = 2;
        size_t nx = (size_t)B * T * 3 * C, ny = (size_t)B * T * C;
        float *x = malloc(nx * 4), *r = malloc(ny * 4), *y = malloc(ny * 4), *dx = calloc(nx, 4), *att = malloc((size_t)B * NH * T * T * 4);
        fill_random(x, nx, &rng, 1.0f); fill_random(r, ny, &rng, 1.0f);
        attention_forward(y, att, x, B, T, NH, NH, C / NH);
        attention_backward(dx, r, x, att, B, T, NH, NH, C / NH);
        AttCtx ctx = {B, T, C, NH, att};
        check(fd_error(att_f, &ctx, x, nx, r, ny, dx) < 1e-2, "attention dq, dk, dv vs finite differences");
        free(x); free(r); free(y); free(dx); free(att);
    }
    { // gelu
        size_t n = 16;
        float x[16], r[16], y[16], dx[16] = {0};
        fill_random(x, n, &rng, 3.0f); fill_random(r, n, &rng, 1.0f);
        gelu_forward(y, x, n);
        gelu_backward(dx, x, r, n);
        check(fd_error(gelu_f, &n, x, n, r, n, dx) < 1e-2, "gelu vs finite differences");
    }
    { // matmul: input and weight
        int M = 3, K = 5, N = 4;
        float x[15], w[20], r[12], y[12], dx[15] = {0}, dw[20] = {0}, db[4] = {0};
        fill_random(x, 15, &rng, 1.0f); fill_random(w, 20, &rng, 1.0f); fill_random(r, 12, &rng, 1.0f);
        matmul_forward(y, x, w, NULL, M, K, N);
        matmul_backward(dx, dw, db, r, x, w, M, K, N);
        MMCtx ctx = {M, K, N, w};
        check(fd_error(mm_f, &ctx, x, 15, r, 12, dx) < 1e-2, "matmul dinp vs finite differences");
        g_mm_x = x;
        check(fd_error(mm_fw, &ctx, w, 20, r, 12, dw) < 1e-2, "matmul dweight vs finite differences");
        double sr[4] = {0};
        for (int m = 0; m < M; m++) for (int n = 0; n < N; n++) sr[n] += r[m * N + n];
        float srf[4] = {(float)sr[0], (float)sr[1], (float)sr[2], (float)sr[3]};
        check(max_rel_err(db, srf, 4, 1e-3) < 1e-5, "matmul dbias = column sums of dout");
    }
    { // rmsnorm: input and weight
        int N = 3, C = 8;
        float x[24], w[8], r[24], rstd[3], y[24], dx[24] = {0}, dw[8] = {0};
        fill_random(x, 24, &rng, 1.0f); fill_random(w, 8, &rng, 1.0f); fill_random(r, 24, &rng, 1.0f);
        rmsnorm_forward(y, rstd, x, w, N, C, 1e-5f);
        rmsnorm_backward(dx, dw, r, x, w, rstd, N, C);
        RMSCtx ctx = {N, C, w};
        check(fd_error(rms_f, &ctx, x, 24, r, 24, dx) < 1e-2, "rmsnorm dx vs finite differences");
        g_rms_x = x;
        check(fd_error(rms_fw, &ctx, w, 8, r, 24, dw) < 1e-2, "rmsnorm dw vs finite differences");
    }
    for (int qk_norm = 0; qk_norm <= 1; qk_norm++) { // RoPE on q and k, without and with QK-norm
        int B = 2, T = 5, NH = 4, KV = 2, hd = 6, QKV = (NH + 2 * KV) * hd;
        size_t n = (size_t)B * T * QKV;
        float *x = malloc(n * 4), *r = malloc(n * 4), *y = malloc(n * 4), *dx = calloc(n, 4), rstd[2 * 5 * 6];
        float cs[5 * 3], sn[5 * 3], qnw[6], knw[6], dqnw[6] = {0}, dknw[6] = {0};
        rope_tables(cs, sn, T, hd, 100.0f);
        fill_random(x, n, &rng, 1.0f); fill_random(r, n, &rng, 1.0f);
        fill_random(qnw, 6, &rng, 1.0f); fill_random(knw, 6, &rng, 1.0f);
        RopeCtx ctx = {B, T, NH, KV, hd, qk_norm ? qnw : NULL, qk_norm ? knw : NULL, cs, sn, rstd};
        qk_rope_forward(y, rstd, x, ctx.qnw, ctx.knw, cs, sn, B, T, NH, KV, hd, 1e-5f);
        qk_rope_backward(dx, dqnw, dknw, r, x, ctx.qnw, ctx.knw, rstd, cs, sn, B, T, NH, KV, hd);
        check(fd_error(rope_f, &ctx, x, n, r, n, dx) < 1e-2, "RoPE%s dq, dk (dv passed through) vs finite differences",
              qk_norm ? " after QK-norm" : "");
        if (qk_norm) {
            g_rope_x = x;
            check(fd_error(rope_fq, &ctx, qnw, 6, r, n, dqnw) < 1e-2, "QK-norm d q_norm vs finite differences");
            check(fd_error(rope_fk, &ctx, knw, 6, r, n, dknw) < 1e-2, "QK-norm d k_norm vs finite differences");
        }
        free(x); free(r); free(y); free(dx);
    }
    { // grouped-query attention: two query heads per key/value head
        int B = 2, T = 5, NH = 4, KV = 2, hd = 3;
        size_t nx = (size_t)B * T * (NH + 2 * KV) * hd, ny = (size_t)B * T * NH * hd;
        float *x = malloc(nx * 4), *r = malloc(ny * 4), *y = malloc(ny * 4), *dx = calloc(nx, 4), *att = malloc((size_t)B * NH * T * T * 4);
        fill_random(x, nx, &rng, 1.0f); fill_random(r, ny, &rng, 1.0f);
        attention_forward(y, att, x, B, T, NH, KV, hd);
        attention_backward(dx, r, x, att, B, T, NH, KV, hd);
        GQACtx ctx = {B, T, NH, KV, hd, att};
        check(fd_error(gqa_f, &ctx, x, nx, r, ny, dx) < 1e-2, "grouped-query attention dq, dk, dv vs finite differences");
        free(x); free(r); free(y); free(dx); free(att);
    }
    { // swiglu
        int N = 2, F = 8;
        float x[32], r[16], y[16], dx[32] = {0};
        fill_random(x, 32, &rng, 3.0f); fill_random(r, 16, &rng, 1.0f);
        swiglu_forward(y, x, N, F);
        swiglu_backward(dx, x, r, N, F);
        check(fd_error(swiglu_f, &N, x, 32, r, 16, dx) < 1e-2, "swiglu d gate, d up vs finite differences");
    }
    GPTConfig gpt2 = {.max_seq_len = 8, .vocab_size = 11, .padded_vocab_size = 128, .num_layers = 2, .num_heads = 2, .channels = 8};
    whole_model_fd(gpt2, "gpt2", &rng);
    GPTConfig llama = {.max_seq_len = 8, .vocab_size = 11, .padded_vocab_size = 128, .num_layers = 2, .num_heads = 4,
                       .channels = 8, .arch = ARCH_LLAMA, .num_kv_heads = 2, .head_dim = 4, .ffn_dim = 12, .qkv_bias = 1,
                       .qk_norm = 1, .untied = 1, .norm_eps = 1e-5f, .rope_theta = 1e4f};
    whole_model_fd(llama, "llama (GQA, qkv bias, QK-norm, untied head)", &rng);
}

// ----------------------------------------------------------------------------
// 3. the SIMD core against the plain reference

static void test_matmul_core(void) {
    int shapes[][3] = {{1, 1, 1}, {7, 13, 29}, {257, 511, 33}, {1, 768, 256}, {130, 3, 1000}, {64, 128, 384},
                       {33, 17, 9}, {5, 300, 7}, {100, 64, 513}};
    uint64_t rng = rng_seed(11);
    for (size_t s = 0; s < sizeof(shapes) / sizeof(shapes[0]); s++) {
        int M = shapes[s][0], K = shapes[s][1], N = shapes[s][2];
        float *x = malloc((size_t)M * K * 4), *w = malloc((size_t)N * K * 4), *b = malloc(N * 4), *d = malloc((size_t)M * N * 4);
        float *y1 = malloc((size_t)M * N * 4), *y2 = malloc((size_t)M * N * 4);
        float *dx1 = malloc((size_t)M * K * 4), *dx2 = malloc((size_t)M * K * 4);
        float *dw1 = malloc((size_t)N * K * 4), *dw2 = malloc((size_t)N * K * 4), *db1 = malloc(N * 4), *db2 = malloc(N * 4);
        fill_random(x, (size_t)M * K, &rng, 1.0f); fill_random(w, (size_t)N * K, &rng, 1.0f);
        fill_random(b, N, &rng, 1.0f); fill_random(d, (size_t)M * N, &rng, 1.0f);
        // accumulation: start the gradients from the same nonzero values
        fill_random(dx1, (size_t)M * K, &rng, 1.0f); memcpy(dx2, dx1, (size_t)M * K * 4);
        fill_random(dw1, (size_t)N * K, &rng, 1.0f); memcpy(dw2, dw1, (size_t)N * K * 4);
        fill_random(db1, N, &rng, 1.0f); memcpy(db2, db1, N * 4);
        matmul_forward(y1, x, w, b, M, K, N);
        matmul_forward_ref(y2, x, w, b, M, K, N);
        double ef = max_rel_err(y1, y2, (size_t)M * N, 1.0);
        matmul_backward(dx1, dw1, db1, d, x, w, M, K, N);
        matmul_backward_ref(dx2, dw2, db2, d, x, w, M, K, N);
        double ex = max_rel_err(dx1, dx2, (size_t)M * K, 1.0), ew = max_rel_err(dw1, dw2, (size_t)N * K, 1.0);
        double eb = max_rel_err(db1, db2, N, 1.0);
        // error relative to sqrt(reduction length): fp32 rounding grows with it
        double tol = 2e-6 * sqrt((double)(K > M ? (K > N ? K : N) : (M > N ? M : N)));
        check(ef <= tol && ex <= tol && ew <= tol && eb <= tol,
              "matmul %dx%dx%d: forward %.1e, dinp %.1e, dweight %.1e, dbias %.1e (tol %.1e)", M, K, N, ef, ex, ew, eb, tol);
        matmul_forward(y1, x, w, NULL, M, K, N); // no bias
        matmul_forward_ref(y2, x, w, NULL, M, K, N);
        check(max_rel_err(y1, y2, (size_t)M * N, 1.0) <= tol, "matmul %dx%dx%d forward without bias", M, K, N);
        free(x); free(w); free(b); free(d); free(y1); free(y2); free(dx1); free(dx2); free(dw1); free(dw2); free(db1); free(db2);
    }
}

// ----------------------------------------------------------------------------
// 4. decoding with the KV cache equals a full forward pass

static void test_kv_decoding(GPTConfig cfg, const char *name) {
    GPT model;
    gpt_init_random(&model, cfg, 5);
    uint64_t rng = rng_seed(9);
    for (size_t i = 0; i < model.num_parameters; i++) if (model.params_memory[i] != 0.0f) model.params_memory[i] *= 10.0f;
    // (QK-norm weights of 10 would give attention scores in the hundreds: a softmax so
    // sharp that rounding differences dominate; keep them at 1)
    for (size_t i = 0; i < model.param_sizes[16]; i++) model.params.qnormw[i] = model.params.knormw[i] = 1.0f;
    // ragged batch: three sequences of lengths 20, 9 and 14, advanced together;
    // sequence i is fed from step 0 and drops out after len[i] tokens
    int n = 3, len[3] = {20, 9, 14}, toks[3][20];
    for (int i = 0; i < n; i++) for (int t = 0; t < 20; t++) toks[i][t] = (int)(rng_u64(&rng) % cfg.vocab_size);
    KVCache kv;
    kvcache_init(&kv, cfg, n, cfg.max_seq_len);
    float *dec = calloc((size_t)n * 20 * 128, sizeof(float));
    for (int t = 0; t < 20; t++) {
        int slot[3], tok[3], pos[3], m = 0, which[3];
        for (int i = 0; i < n; i++) if (t < len[i]) { which[m] = i; slot[m] = i; tok[m] = toks[i][t]; pos[m] = t; m++; }
        gpt_decode_step(&model, &kv, m, slot, tok, pos);
        for (int j = 0; j < m; j++) memcpy(dec + ((size_t)which[j] * 20 + t) * 128, kv.logits + (size_t)j * 128, 128 * sizeof(float));
    }
    // the two paths sum in different orders (GEMM blocks vs. the decode loop), so
    // compare relative to the largest logit, as for PyTorch
    double worst = 0.0, scale = 0.0;
    for (int i = 0; i < n; i++) {
        gpt_forward(&model, toks[i], toks[i], 1, len[i]);
        for (size_t j = 0; j < (size_t)len[i] * 128; j++) scale = worse(scale, fabs(model.acts.logits[j]));
    }
    for (int i = 0; i < n; i++) {
        gpt_forward(&model, toks[i], toks[i], 1, len[i]);
        worst = worse(worst, max_rel_err(dec + (size_t)i * 20 * 128, model.acts.logits, (size_t)len[i] * 128, scale));
    }
    check(worst <= 1e-5, "%s: KV-cache decoding logits equal full forward, ragged batch (max err %.2e of the largest logit %.1f)", name, worst, scale);

    // gpt_generate: greedy continuations of ragged prompts equal one-at-a-time greedy
    // decoding by full forward passes, and the returned log-probs match
    int prompt[3 * 6], off[3] = {0, 6, 12}, plen[3] = {6, 2, 4}, out[3 * 8], out_len[3];
    float out_logp[3 * 8];
    for (int i = 0; i < 18; i++) prompt[i] = (int)(rng_u64(&rng) % cfg.vocab_size);
    SampleConfig sc = {.temperature = 0.0f, .top_p = 1.0f, .max_new = 8, .stop_token = -1};
    gpt_generate(&model, &kv, 3, prompt, off, plen, sc, &rng, out, out_logp, out_len);
    int same = 1;
    double lp_err = 0.0;
    for (int i = 0; i < 3; i++) {
        int seq[20], L = plen[i];
        memcpy(seq, prompt + off[i], L * sizeof(int));
        for (int j = 0; j < 8; j++) {
            gpt_forward(&model, seq, seq, 1, L);
            const float *lg = model.acts.logits + (size_t)(L - 1) * 128;
            int best = 0;
            for (int v = 1; v < cfg.vocab_size; v++) if (lg[v] > lg[best]) best = v;
            same &= out_len[i] == 8 && out[i * 8 + j] == best;
            lp_err = worse(lp_err, fabs(out_logp[i * 8 + j] - logprob_of(lg, cfg.vocab_size, best)));
            seq[L++] = best;
        }
    }
    check(same, "%s: batched greedy generation equals sequential greedy decoding", name);
    check(lp_err < 1e-4, "%s: generation returns the sampled tokens' log-probs (max err %.1e)", name, lp_err);

    // a stop callback ends a sequence at the token that completes a two-token pattern
    // (a stop string across tokens): the greedy sequence 0's tokens 2 and 3
    int pair[2] = {out[1], out[2]}, want = 8, greedy0[8], stop_len[3], stop_out[24];
    float stop_lp[24];
    memcpy(greedy0, out, sizeof(greedy0));
    for (int k = 8; k >= 2; k--) if (greedy0[k - 2] == pair[0] && greedy0[k - 1] == pair[1]) want = k;
    SampleConfig sp = sc;
    sp.stop = stop_at_pair; sp.stop_ctx = pair;
    gpt_generate(&model, &kv, 3, prompt, off, plen, sp, &rng, stop_out, stop_lp, stop_len);
    check(stop_len[0] == want && want <= 3 && !memcmp(stop_out, greedy0, want * sizeof(int)),
          "%s: a stop callback ends a sequence at the token completing its pattern (%d tokens)", name, stop_len[0]);

    // a stop token ends a sequence early; sampling with the same seed repeats itself
    sc.temperature = 1.0f; sc.stop_token = out[0];
    uint64_t r1 = rng_seed(1), r2 = rng_seed(1);
    int out2[24], len2[3];
    float lp2[24];
    gpt_generate(&model, &kv, 3, prompt, off, plen, sc, &r1, out, out_logp, out_len);
    gpt_generate(&model, &kv, 3, prompt, off, plen, sc, &r2, out2, lp2, len2);
    int stops_ok = 1, repeat = 1;
    for (int i = 0; i < 3; i++) {
        for (int j = 0; j < out_len[i] - 1; j++) stops_ok &= out[i * 8 + j] != sc.stop_token;
        repeat &= len2[i] == out_len[i] && !memcmp(out + i * 8, out2 + i * 8, out_len[i] * sizeof(int));
    }
    check(stops_ok, "%s: a sequence stops at its stop token", name);
    check(repeat, "%s: sampling with the same seed gives the same tokens", name);
    // one RNG stream per sequence: a sequence sampled alone draws what it draws among
    // the others (what lets ranks sample their own share of an RL batch)
    SampleConfig sq = sc;
    sq.rng_per_sequence = 1; sq.stop_token = -1;
    uint64_t streams[3] = {rng_seed(11), rng_seed(12), rng_seed(13)}, alone = rng_seed(13);
    gpt_generate(&model, &kv, 3, prompt, off, plen, sq, streams, out, out_logp, out_len);
    gpt_generate(&model, &kv, 1, prompt, off + 2, plen + 2, sq, &alone, out2, lp2, len2);
    check(len2[0] == out_len[2] && !memcmp(out2, out + 2 * 8, len2[0] * sizeof(int))
          && !memcmp(lp2, out_logp + 2 * 8, len2[0] * sizeof(float)) && streams[2] == alone,
          "%s: with a stream per sequence, sequence 2 sampled alone draws the same %d tokens as among three", name,
          len2[0]);
    // top-p: with a tiny mass only the most likely token survives
    float logits[5] = {0.1f, 2.0f, -1.0f, 1.9f, 0.0f};
    ProbIndex scratch[5];
    uint64_t r3 = rng_seed(3);
    int all_top = 1;
    for (int k = 0; k < 50; k++) all_top &= sample_token(logits, 5, 1.0f, 1e-3f, &r3, scratch) == 1;
    check(all_top, "top-p sampling with tiny p picks the argmax");
    kvcache_free(&kv);
    free(dec);
    gpt_free(&model);
}

// ----------------------------------------------------------------------------
// 5 and 6. checkpoints

static int write_file(const char *path, const void *data, size_t n) {
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    size_t w = n ? fwrite(data, 1, n, f) : 0;
    fclose(f);
    return w == n ? 0 : -1;
}

static unsigned char *read_file(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long sz = ftell(f);
    rewind(f);
    unsigned char *buf = malloc(sz > 0 ? sz : 1);
    *n = fread(buf, 1, sz, f);
    fclose(f);
    return buf;
}

static void test_checkpoints(void) {
    char err[512];
    const char *ref = "test/ref/model.bin", *tmp = "/tmp/rlme_test_ckpt.bin", *bad = "/tmp/rlme_test_bad.bin";
    GPT model;
    if (gpt_read_checkpoint(&model, ref, NULL, err, sizeof(err))) { check(0, "load %s: %s", ref, err); return; }
    int w = gpt_write_checkpoint(&model, tmp, NULL, NULL, err, sizeof(err));
    size_t n1, n2;
    unsigned char *a = read_file(ref, &n1), *b = read_file(tmp, &n2);
    check(w == 0 && a && b && n1 == n2 && !memcmp(a, b, n1), "checkpoint read -> write is byte-exact (%zu bytes)", n1);
    GPT again;
    check(gpt_read_checkpoint(&again, tmp, NULL, err, sizeof(err)) == 0 &&
          !memcmp(again.params_memory, model.params_memory, model.num_parameters * 4), "checkpoint write -> read round-trips");
    gpt_free(&again);

    // bad files: each must be refused with a message that names the file
    struct { const char *what; size_t len; int field; int32_t value; const char *expect; } cases[] = {
        {"empty file", 0, -1, 0, "truncated"},
        {"wrong magic", n1, 0, 12345, "magic"},
        {"wrong version", n1, 1, 5, "version"},
        {"truncated parameters", n1 - 100, -1, 0, "needs"},
        {"header only", 1024, -1, 0, "needs"},
        {"heads not dividing channels", n1, 5, 3, "does not divide"},
        {"absurd layer count", n1, 4, 1 << 30, "num_layers"},
        {"negative channels", n1, 6, -32, "channels"},
        {"padded vocab smaller than vocab", n1, 7, 64, "padded_vocab_size"},
        {"sizes larger than the file", n1, 2, 4096, "needs"},
        {"sizes smaller than the file", n1, 2, 16, "unexpected bytes"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        unsigned char *buf = malloc(n1);
        memcpy(buf, a, n1);
        if (cases[i].field >= 0) memcpy(buf + 4 * cases[i].field, &cases[i].value, 4);
        write_file(bad, buf, cases[i].len);
        err[0] = 0;
        int rc = gpt_read_checkpoint(&again, bad, NULL, err, sizeof(err));
        check(rc != 0 && strstr(err, bad) && strstr(err, cases[i].expect), "rejects %s: \"%s\"", cases[i].what, err);
        if (rc == 0) gpt_free(&again);
        free(buf);
    }
    // a NaN parameter poisons everything downstream: refuse it
    unsigned char *buf = malloc(n1);
    memcpy(buf, a, n1);
    float nan = NAN;
    memcpy(buf + 1024 + 40, &nan, 4);
    write_file(bad, buf, n1);
    int rc = gpt_read_checkpoint(&again, bad, NULL, err, sizeof(err));
    check(rc != 0 && strstr(err, "not finite"), "rejects a non-finite parameter: \"%s\"", err);
    if (rc == 0) gpt_free(&again);
    check(gpt_read_checkpoint(&again, "/nonexistent/x.bin", NULL, err, sizeof(err)) != 0 && strstr(err, "cannot open"),
          "missing file: \"%s\"", err);
    remove(tmp); remove(bad);
    free(buf); free(a); free(b);
    gpt_free(&model);
}

// The head in blocks of rows (as for a large vocabulary) equals the head in one block:
// logp and entropy bit for bit (each row's logits are the same dot products), the
// gradients to rounding (dW sums the blocks in another order); the entropy is
// -sum p log p; gpt_head_at's rows equal the full forward's.
static void test_head_blocks(GPTConfig cfg, const char *name) {
    int B = 3, T = 20;
    size_t BT = (size_t)B * T, Vp = cfg.padded_vocab_size;
    GPT one, blk;
    gpt_init_random(&one, cfg, 7);
    gpt_init_random(&blk, cfg, 7);
    blk.head_max_rows = 7; // 60 rows: 8 blocks of 7 and one of 4
    uint64_t rng = rng_seed(11);
    int x[60], y[60];
    float c[60];
    for (size_t i = 0; i < BT; i++) { x[i] = (int)(rng_u64(&rng) % cfg.vocab_size); y[i] = (int)(rng_u64(&rng) % cfg.vocab_size); c[i] = rng_f32(&rng) - 0.3f; }
    gpt_forward(&one, x, y, B, T);
    gpt_forward(&blk, x, y, B, T);
    check(one.head_rows == 60 && blk.head_rows == 7, "%s: head in one block of 60 rows / blocks of %d", name, blk.head_rows);
    check(!memcmp(one.logp, blk.logp, BT * sizeof(float)) && !memcmp(one.entropy, blk.entropy, BT * sizeof(float)),
          "%s: logp and entropy of the head in blocks equal one block bit for bit", name);
    double herr = 0.0;
    for (size_t i = 0; i < BT; i++) {
        double h = 0.0;
        for (int v = 0; v < cfg.vocab_size; v++) { double q = one.acts.probs[i * Vp + v]; if (q > 0) h -= q * log(q); }
        herr = worse(herr, fabs(h - one.entropy[i]));
    }
    check(herr < 1e-5, "%s: entropy = -sum p log p (max err %.1e)", name, herr);
    gpt_zero_grad(&one); gpt_backward(&one, c);
    gpt_zero_grad(&blk); gpt_backward(&blk, c);
    double gscale = 0.0;
    for (size_t i = 0; i < one.num_parameters; i++) gscale = worse(gscale, fabs(one.grads_memory[i]));
    double gerr = max_rel_err(blk.grads_memory, one.grads_memory, one.num_parameters, gscale);
    check(gerr < 1e-6, "%s: gradients of the head in blocks equal one block (max err %.1e of the largest)", name, gerr);
    float *full = malloc(BT * Vp * sizeof(float));
    memcpy(full, one.acts.logits, BT * Vp * sizeof(float));
    size_t rows[3] = {5, 27, 59};
    gpt_forward(&blk, x, NULL, B, T);
    gpt_head_at(&blk, rows, 3);
    int same = 1;
    for (int j = 0; j < 3; j++) same &= !memcmp(blk.acts.logits + j * Vp, full + rows[j] * Vp, Vp * sizeof(float));
    check(same, "%s: gpt_head_at's rows equal the full forward's logits bit for bit", name);
    free(full); gpt_free(&one); gpt_free(&blk);
}

int main(void) {
    test_pytorch_reference();
    const char *variants[] = {"qwen3", "qwen2", "llama_mha", "llama_gqa"};
    for (int i = 0; i < 4; i++) test_llama_reference(variants[i]);
    test_finite_differences();
    test_matmul_core();
    GPTConfig gpt2 = {.max_seq_len = 20, .vocab_size = 37, .padded_vocab_size = 128, .num_layers = 3, .num_heads = 4, .channels = 16};
    test_kv_decoding(gpt2, "gpt2");
    GPTConfig qwen3 = {.max_seq_len = 20, .vocab_size = 37, .padded_vocab_size = 128, .num_layers = 3, .num_heads = 4,
                       .channels = 16, .arch = ARCH_LLAMA, .num_kv_heads = 2, .head_dim = 8, .ffn_dim = 24,
                       .qk_norm = 1, .norm_eps = 1e-6f, .rope_theta = 1e4f};
    test_kv_decoding(qwen3, "llama (GQA, QK-norm)");
    GPTConfig qwen2 = qwen3;
    qwen2.qk_norm = 0; qwen2.qkv_bias = 1; qwen2.untied = 1; qwen2.num_kv_heads = 1;
    test_kv_decoding(qwen2, "llama (one KV head, qkv bias, untied head)");
    test_head_blocks(gpt2, "gpt2");
    test_head_blocks(qwen2, "llama (untied head)");
    test_checkpoints();
    printf("%d passed, %d failed\n", n_pass, n_fail);
    return n_fail != 0;
}
