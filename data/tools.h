/*
data/tools.h — the commands of train_rlme.c about the network alone, not RLME: score
(log-probs of a token sequence), sample (batched KV-cache generation) and bench (the
speed of a training step and of decoding, against the FMA peak measured here). Included
by train_rlme.c with its other commands (it uses their flag tables and file helpers).
*/

// ---- score and sample ----

// The prompt of score/sample as ids: an id list, or text through the checkpoint's
// tokenizer (has_tok says whether it carries one).
static int *prompt_ids_or_die(const char *ids_flag, const char *ids_arg, const char *text, const char *question,
                              const char *model_path, int has_tok, TextCodec *tc, int V, int *n) {
    if (!!ids_arg + !!text + !!question != 1) die("give exactly one of %s, --prompt/--text or --question", ids_flag);
    if (ids_arg) return parse_ids(ids_flag, ids_arg, V, n);
    if (!has_tok) die("%s: checkpoint carries no tokenizer: give token ids with %s", model_path, ids_flag);
    TokIds ids = {0};
    if (text) encode_append(tc, text, &ids);
    else encode_prompt(tc, question, &ids);
    *n = (int)ids.n;
    return ids.ids;
}

typedef struct { const char *model, *ids, *text; int threads; } ScoreArgs;
#define SC(f) offsetof(ScoreArgs, f)
static const Flag SCORE_FLAGS[] = {
    {"--model", "CKPT", NULL, F_STR, SC(model), 0, 0, 0, "llm.c fp32 checkpoint, or a Hugging Face model directory"},
    {"--ids", "LIST", NULL, F_STR, SC(ids), 0, 0, 0, "comma-separated token ids, 2 <= n <= max_seq_len"},
    {"--text", "TEXT", NULL, F_STR, SC(text), 0, 0, 0, "text, encoded with the checkpoint's tokenizer"},
    {"--threads", "N", NULL, F_INT, SC(threads), 1, 1024, 0, "OpenMP threads (default: all)"},
    {0}};

static int cmd_score(int argc, char **argv) {
    ScoreArgs s = {0};
    parse_flags(SCORE_FLAGS, &s, argc, argv, 2, "usage: train_rlme score --model CKPT (--ids 5,17,3,... | --text "
                "TEXT)\nPrints log pi(ids[t] | ids[<t]) for t = 1..n-1 (natural log), space-separated.\n", "flag");
    if (!s.ids && !s.text) die("--ids or --text is required (see: train_rlme score --help)");
    set_threads(s.threads);
    GPT model;
    TextCodec tc;
    int has_tok = load_checkpoint_or_die(&model, &tc, s.model), n;
    int *ids = prompt_ids_or_die("--ids", s.ids, s.text, NULL, s.model, has_tok, &tc, model.config.vocab_size, &n);
    if (n < 2) die("need at least 2 tokens to score one (got %d)", n);
    if (n > model.config.max_seq_len)
        die("the sequence has %d tokens, longer than the context (%d)", n, model.config.max_seq_len);
    gpt_forward(&model, ids, ids + 1, 1, n - 1);
    for (int t = 0; t < n - 1; t++) printf(t ? " %.6f" : "%.6f", model.logp[t]);
    printf("\n");
    free(ids);
    if (has_tok) tok_free(&tc.tok);
    gpt_free(&model);
    return 0;
}

typedef struct {
    const char *model, *prompt_ids, *prompt, *question, *prompt_template, *shots;
    int max_new, num, threads, print_ids, stop, seed;
    float temperature, top_p;
} SampleArgs;
#define SA(f) offsetof(SampleArgs, f)
static const Flag SAMPLE_FLAGS[] = {
    {"--model", "CKPT", NULL, F_STR, SA(model), 0, 0, 0, "llm.c fp32 checkpoint, or a Hugging Face model directory"},
    {"--prompt-ids", "LIST", NULL, F_STR, SA(prompt_ids), 0, 0, 0, "comma-separated prompt token ids"},
    {"--prompt", "TEXT", NULL, F_STR, SA(prompt), 0, 0, 0, "prompt text, encoded with the checkpoint's tokenizer"},
    {"--question", "TEXT", NULL, F_STR, SA(question), 0, 0, 0, "a problem in the RL prompt template"},
    {"--template", "auto|plain|chat", "auto", F_STR, SA(prompt_template), 0, 0, 0, TEMPLATE_HELP},
    {"--shots", "FILE", NULL, F_STR, SA(shots), 0, 0, 0, "with --question: " SHOTS_HELP},
    {"--max-new", "N", "32", F_INT, SA(max_new), 1, 1 << 16, 0, "tokens to generate (prompt + N <= max_seq_len)"},
    {"--temperature", "T", "1", F_FLOAT, SA(temperature), 0, 100, 0, "0 = greedy"},
    {"--top-p", "P", "1", F_FLOAT, SA(top_p), 1e-6, 1, 0, "nucleus sampling mass in (0, 1]"},
    {"--seed", "S", "1", F_INT, SA(seed), 0, 0x7fffffff, 0, "RNG seed"},
    {"--num", "N", "1", F_INT, SA(num), 1, 4096, 0, "samples, drawn together in one batch"},
    {"--stop", "ID", NULL, F_INT, SA(stop), 0, 1 << 24, 0, "stop a sample at this token (default: the end of a completion,\n<|endoftext|>, or <|im_end|> in the chat template)"},
    {"--print-ids", NULL, NULL, F_SWITCH, SA(print_ids), 0, 0, 0, "print token ids, not text"},
    {"--threads", "N", NULL, F_INT, SA(threads), 1, 1024, 0, "OpenMP threads (default: all)"},
    {0}};

static int cmd_sample(int argc, char **argv) {
    SampleArgs s = {.stop = -1};
    parse_flags(SAMPLE_FLAGS, &s, argc, argv, 2, "usage: train_rlme sample --model CKPT (--prompt-ids 5,17,3 | "
                "--prompt TEXT | --question TEXT)\nGenerates continuations: text when the checkpoint carries a "
                "tokenizer, ids with --print-ids.\n", "flag");
    set_template_or_die(s.prompt_template);
    set_shots_or_die(s.shots);
    set_threads(s.threads);
    GPT model;
    TextCodec tc;
    int has_tok = load_checkpoint_or_die(&model, &tc, s.model), n;
    if (!has_tok && !s.print_ids) die("%s: checkpoint carries no tokenizer: use --print-ids", s.model);
    if (s.stop < 0 && has_tok) s.stop = tc.eot;
    int *prompt = prompt_ids_or_die("--prompt-ids", s.prompt_ids, s.prompt, s.question, s.model, has_tok, &tc,
                                    model.config.vocab_size, &n);
    if (n < 1) die("the prompt is empty");
    if (n + s.max_new - 1 > model.config.max_seq_len)
        die("prompt (%d tokens) + --max-new %d exceeds the context of %d", n, s.max_new, model.config.max_seq_len);
    Rollout r; // every sample shares the one prompt
    rollout_alloc(&r, s.num, s.max_new);
    for (int i = 0; i < n; i++) tok_ids_push(&r.prompts, prompt[i]);
    for (int i = 0; i < s.num; i++) { r.off[i] = 0; r.len[i] = n; }
    KVCache kv;
    kvcache_init(&kv, model.config, s.num, n + s.max_new);
    SampleConfig sc = {.temperature = s.temperature, .top_p = s.top_p, .max_new = s.max_new, .stop_token = s.stop};
    if (s.question && tc.stop) { sc.stop = text_stop; sc.stop_ctx = &tc; } // a question's answer ends as in rl
    uint64_t rng = rng_seed((uint64_t)s.seed);
    generate_all(&model, &kv, &r, sc, &rng);
    for (int i = 0; i < s.num; i++) {
        for (int j = 0; s.print_ids && j < r.out_len[i]; j++)
            printf(j ? ",%d" : "%d", r.out[(size_t)i * s.max_new + j]);
        char *text = s.print_ids ? strdup("") : completion_text(&tc, &r, i);
        printf("%s%s\n", text, s.num > 1 && !s.print_ids ? "\n---" : "");
        free(text);
    }
    kvcache_free(&kv); rollout_free(&r); free(prompt);
    if (has_tok) tok_free(&tc.tok);
    gpt_free(&model);
    return 0;
}

// ---- convert: any model this program reads, as a Hugging Face model directory ----

typedef struct { const char *model, *out, *dtype; } ConvertArgs;
#define CV(f) offsetof(ConvertArgs, f)
static const Flag CONVERT_FLAGS[] = {
    {"--model", "CKPT|DIR", NULL, F_STR, CV(model), 0, 0, 0, "llm.c fp32 checkpoint, or a Hugging Face model directory"},
    {"--out", "DIR", NULL, F_STR, CV(out), 0, 0, 0, "the directory to write (created if needed)"},
    {"--dtype", "f32|bf16", "f32", F_STR, CV(dtype), 0, 0, 0, "the tensors' type in model.safetensors"},
    {0}};

static int cmd_convert(int argc, char **argv) {
    ConvertArgs c = {0};
    parse_flags(CONVERT_FLAGS, &c, argc, argv, 2, "usage: train_rlme convert --model CKPT|DIR --out DIR [--dtype bf16]\n"
                "Writes config.json and model.safetensors, which transformers, vLLM and llama.cpp's converter read.\n"
                "From a model directory its config.json and tokenizer files are copied; an llm.c checkpoint's own\n"
                "tokenizer is written as tokenizer.json.\n", "flag");
    if (!c.model || !c.out) die("--model and --out are required (see: train_rlme convert --help)");
    if (strcmp(c.dtype, "f32") && strcmp(c.dtype, "bf16")) die("--dtype must be f32 or bf16, not '%s'", c.dtype);
    GPT model;
    TextCodec tc;
    int has_tok = load_checkpoint_or_die(&model, &tc, c.model);
    SaveAs as = {.hf = 1, .dtype = strcmp(c.dtype, "bf16") ? ST_F32 : ST_BF16, .src = hf_is_dir(c.model) ? c.model : NULL};
    save_model_or_die(&model, has_tok ? &tc : NULL, c.out, as);
    printf("wrote %s/model.safetensors (%zu parameters, %s), %s/config.json%s\n", c.out, model.num_parameters,
           c.dtype, c.out, has_tok ? " and the tokenizer" : "");
    if (has_tok) tok_free(&tc.tok);
    gpt_free(&model);
    return 0;
}

// ---- bench: tokens per second of a training step and of batched decoding ----

typedef struct { int layers, heads, channels, vocab, seq, batch, steps, threads; const char *shape; } BenchArgs;
#define BE(f) offsetof(BenchArgs, f)
static const Flag BENCH_FLAGS[] = {
    {"--shape", "NAME", NULL, F_STR, BE(shape), 0, 0, 0,
     "a real model's shape with random weights: qwen3-0.6b, qwen2.5-0.5b or smollm2-135m\n"
     "(then --layers/--heads/--channels/--vocab are the model's; try --batch 1 --seq 256)"},
    {"--layers", "L", "6", F_INT, BE(layers), 1, 64, 0, "transformer blocks"},
    {"--heads", "H", "8", F_INT, BE(heads), 1, 256, 0, "attention heads"},
    {"--channels", "C", "256", F_INT, BE(channels), 1, 8192, 0, "width"},
    {"--vocab", "V", "1024", F_INT, BE(vocab), 2, 1 << 20, 0, "vocabulary"},
    {"--seq", "T", "256", F_INT, BE(seq), 2, 8192, 0, "context"},
    {"--batch", "B", "16", F_INT, BE(batch), 1, 4096, 0, "rows per step"},
    {"--steps", "N", "5", F_INT, BE(steps), 1, 100000, 0, "timed training steps after one warm-up"},
    {"--threads", "N", NULL, F_INT, BE(threads), 1, 1024, 0, "OpenMP threads (default: all)"},
    {0}};

// The shapes of small Hugging Face models people RL-train (from their config.json files)
static const struct { const char *name; GPTConfig cfg; } BENCH_SHAPES[] = {
    {"qwen3-0.6b", {.vocab_size = 151936, .num_layers = 28, .num_heads = 16, .channels = 1024, .arch = ARCH_LLAMA,
                    .num_kv_heads = 8, .head_dim = 128, .ffn_dim = 3072, .qk_norm = 1, .norm_eps = 1e-6f, .rope_theta = 1e6f}},
    {"qwen2.5-0.5b", {.vocab_size = 151936, .num_layers = 24, .num_heads = 14, .channels = 896, .arch = ARCH_LLAMA,
                      .num_kv_heads = 2, .head_dim = 64, .ffn_dim = 4864, .qkv_bias = 1, .norm_eps = 1e-6f, .rope_theta = 1e6f}},
    {"smollm2-135m", {.vocab_size = 49152, .num_layers = 30, .num_heads = 9, .channels = 576, .arch = ARCH_LLAMA,
                      .num_kv_heads = 3, .head_dim = 64, .ffn_dim = 1536, .norm_eps = 1e-5f, .rope_theta = 1e5f}},
};

// FLOPs of one forward pass over B x T tokens (multiply-add = 2): the linear layers
// (the fused qkv, the attention output, the MLP's matmuls, the LM head) and causal
// attention's two products (scores and weighted values) over the T(T+1)/2 visible pairs.
static double forward_flops(GPTConfig c, int B, int T) {
    Dims d = dims_of(c);
    double BT = (double)B * T, C = d.C;
    double per_layer = C * d.QKV + (double)d.AC * C + C * d.F1 + (double)d.F * C;
    double linear = 2.0 * BT * (per_layer * d.L + C * d.Vp);
    double attention = 2.0 * 2.0 * B * (T * (T + 1) / 2.0) * d.AC * d.L;
    return linear + attention;
}

// The process's peak resident memory so far, in MiB: Linux's VmHWM, which starts anew
// at exec (ru_maxrss keeps the peak of the program that exec'd this one, a Python
// benchmark say), else ru_maxrss (KiB on Linux).
static double peak_rss_mib(void) {
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    double kib = -1;
    while (f && kib < 0 && fgets(line, sizeof(line), f))
        if (!strncmp(line, "VmHWM:", 6)) kib = atof(line + 6);
    if (f) fclose(f);
    if (kib >= 0) return kib / 1024.0;
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss / 1024.0;
}

static int cmd_bench(int argc, char **argv) {
    BenchArgs b = {0};
    parse_flags(BENCH_FLAGS, &b, argc, argv, 2, "usage: train_rlme bench [options]\n"
                "Times forward + backward + AdamW on random data, then batched KV-cache decoding. The first line\n"
                "names the GEMM micro-kernel (`make SIMD=avx512|avx2|neon|none`) and its FMA peak on these threads,\n"
                "measured here; the step's GFLOP/s is a % of that peak.\n", "flag");
    if (!b.shape && b.channels % b.heads) die("--heads %d does not divide --channels %d", b.heads, b.channels);
    set_threads(b.threads);
    int B = b.batch, T = b.seq;
    GPTConfig cfg = {.vocab_size = b.vocab, .num_layers = b.layers, .num_heads = b.heads, .channels = b.channels};
    if (b.shape) {
        size_t i = 0, n = sizeof(BENCH_SHAPES) / sizeof(BENCH_SHAPES[0]);
        while (i < n && strcmp(b.shape, BENCH_SHAPES[i].name)) i++;
        if (i == n) die("--shape %s: not a known shape (qwen3-0.6b, qwen2.5-0.5b, smollm2-135m)", b.shape);
        cfg = BENCH_SHAPES[i].cfg;
    }
    cfg.max_seq_len = T;
    cfg.padded_vocab_size = (cfg.vocab_size + 127) / 128 * 128;
    char err[160];
    if (gpt_config_check(cfg, err, sizeof(err))) die("bench: %s", err);
    int V = cfg.vocab_size;
    GPT model;
    gpt_init_random(&model, cfg, 1337);
    uint64_t rng = rng_seed(42);
    size_t BT = (size_t)B * T;
    int *tokens = malloc((BT + 1) * sizeof(int));
    float *c = malloc(BT * sizeof(float));
    for (size_t i = 0; i <= BT; i++) tokens[i] = (int)(rng_u64(&rng) % V);
    for (size_t i = 0; i < BT; i++) c[i] = 1.0f / BT;
    AdamWConfig opt = {.lr = 1e-4f, .beta1 = 0.9f, .beta2 = 0.95f, .eps = 1e-8f, .weight_decay = 0.1f};
    double peak = mm_peak_gflops(num_threads());
    printf("kernel=%s fma_peak_gflops=%.1f (measured, %d threads)\n", MM_KERNEL_NAME, peak, num_threads());
    printf("model: %s L=%d NH=%d KV=%d hd=%d C=%d F=%d V=%d (Vp=%d) T=%d, %zu parameters; batch B=%d; threads=%d\n",
           b.shape ? b.shape : cfg.arch == ARCH_LLAMA ? "llama" : "gpt2", cfg.num_layers, cfg.num_heads,
           dims_of(cfg).KV, dims_of(cfg).hd, cfg.channels, dims_of(cfg).F, V, cfg.padded_vocab_size, T,
           model.num_parameters, B, num_threads());
    double t_fwd = 0, t_bwd = 0, t_opt = 0;
    for (int s = -1; s < b.steps; s++) { // step -1 warms up (allocations, caches)
        double t0 = now_seconds();
        gpt_forward(&model, tokens, tokens + 1, B, T);
        double t1 = now_seconds();
        gpt_zero_grad(&model);
        gpt_backward(&model, c);
        double t2 = now_seconds();
        gpt_clip_grad_norm(&model, 1.0f);
        gpt_adamw_update(&model, opt);
        double t3 = now_seconds();
        if (s >= 0) { t_fwd += t1 - t0; t_bwd += t2 - t1; t_opt += t3 - t2; }
    }
    double step = (t_fwd + t_bwd + t_opt) / b.steps, flops = 3.0 * forward_flops(cfg, B, T); // backward = 2x forward
    printf("ms_per_step=%.1f (forward %.1f, backward %.1f, adamw %.1f)\n", 1e3 * step, 1e3 * t_fwd / b.steps,
           1e3 * t_bwd / b.steps, 1e3 * t_opt / b.steps);
    printf("train_gflops=%.1f (%.0f%% of the measured %.0f GFLOP/s FMA peak of %d threads)\n", flops / step * 1e-9,
           100.0 * flops / step * 1e-9 / peak, peak, num_threads());
    printf("train_tok_per_s=%.1f\n", BT / step);
    // scoring: what the evaluator runs on each rollout, a forward pass and the head at
    // one row per sequence (its verdict)
    size_t *last = malloc(B * sizeof(size_t));
    for (int i = 0; i < B; i++) last[i] = (size_t)i * T + T - 1;
    double ts = now_seconds();
    for (int s = 0; s < b.steps; s++) { gpt_forward(&model, tokens, NULL, B, T); gpt_head_at(&model, last, B); }
    double score = (now_seconds() - ts) / b.steps;
    double score_flops = forward_flops(cfg, B, T) - 2.0 * (BT - B) * cfg.channels * cfg.padded_vocab_size;
    printf("score_tok_per_s=%.1f (%.0f%% of peak)\n", BT / score, 100.0 * score_flops / score * 1e-9 / peak);
    free(last);
    // decoding: B sequences with ragged prompts of 1..8 tokens, T/2 new tokens each
    Rollout r;
    rollout_alloc(&r, B, T / 2);
    for (int i = 0; i < B; i++) { r.off[i] = i * 8; r.len[i] = 1 + i % 8; }
    for (int i = 0; i < B * 8; i++) tok_ids_push(&r.prompts, tokens[i]);
    KVCache kv;
    kvcache_init(&kv, cfg, B, T);
    SampleConfig sc = {.temperature = 1.0f, .top_p = 1.0f, .max_new = T / 2, .stop_token = -1};
    double t0 = now_seconds();
    generate_all(&model, &kv, &r, sc, &rng);
    double dt = now_seconds() - t0;
    long generated = 0;
    for (int i = 0; i < B; i++) generated += r.out_len[i];
    printf("decode: %d sequences x %d new tokens in %.2f s\ndecode_tok_per_s=%.1f\n", B, T / 2, dt, generated / dt);
    printf("peak_rss_mib=%.0f\n", peak_rss_mib());
    kvcache_free(&kv); rollout_free(&r); free(tokens); free(c); gpt_free(&model);
    return 0;
}
