/*
train_rlme.c — Reinforcement Learning from Meta-Evaluation, in one C file.

Subcommands (./train_rlme <cmd> --help for each):
  score   log pi(ids[t] | ids[<t]) of a token sequence under a checkpoint
  sample  batched KV-cache generation from a checkpoint
  bench   time forward+backward+AdamW and batched decoding on random data

The network itself (forward, backward, AdamW, decoding, checkpoints) is in model.h.
*/
#include <signal.h>
#include <time.h>
#include "model.h"

// ----------------------------------------------------------------------------
// command-line helpers: every bad flag or value is one clear line and exit 2

static const char *g_cmd = "train_rlme";

static void die(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "%s: error: ", g_cmd);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(2);
}

static double now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

// The value after flag argv[*i], or die if there is none.
static const char *flag_value(int argc, char **argv, int *i) {
    if (*i + 1 >= argc) die("flag %s needs a value", argv[*i]);
    return argv[++*i];
}

static long parse_long(const char *flag, const char *s, long lo, long hi) {
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end) die("%s expects an integer, got '%s'", flag, s);
    if (v < lo || v > hi) die("%s must be in [%ld, %ld], got %ld", flag, lo, hi, v);
    return v;
}

static float parse_float(const char *flag, const char *s, double lo, double hi) {
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !isfinite(v)) die("%s expects a number, got '%s'", flag, s);
    if (v < lo || v > hi) die("%s must be in [%g, %g], got %g", flag, lo, hi, v);
    return (float)v;
}

// "5,17,3" -> ids (malloc'd); each id must be in [0, V).
static int *parse_ids(const char *flag, const char *s, int V, int *n_out) {
    int cap = 16, n = 0;
    int *ids = malloc(cap * sizeof(int));
    const char *p = s;
    while (1) {
        char *end;
        errno = 0;
        long v = strtol(p, &end, 10);
        if (errno || end == p) die("%s expects comma-separated token ids, got '%s'", flag, s);
        if (v < 0 || v >= V) die("%s: token id %ld out of range [0, %d)", flag, v, V);
        if (n == cap) ids = realloc(ids, (cap *= 2) * sizeof(int));
        ids[n++] = (int)v;
        if (*end == '\0') break;
        if (*end != ',') die("%s expects comma-separated token ids, got '%s'", flag, s);
        p = end + 1;
    }
    *n_out = n;
    return ids;
}

static void set_threads(int threads) {
#ifdef _OPENMP
    if (threads > 0) omp_set_num_threads(threads);
#else
    (void)threads;
#endif
}

static void load_model_or_die(GPT *model, const char *path) {
    char err[512];
    if (!path) die("--model CKPT is required");
    if (gpt_read_checkpoint(model, path, NULL, err, sizeof(err))) die("%s", err);
}

// ----------------------------------------------------------------------------
// score: log-probs of a given token sequence

static const char *SCORE_HELP =
    "usage: train_rlme score --model CKPT --ids 5,17,3,...\n"
    "Prints log pi(ids[t] | ids[<t]) for t = 1..n-1 (natural log), space-separated.\n"
    "  --model CKPT   llm.c-format fp32 checkpoint (version 3)\n"
    "  --ids LIST     comma-separated token ids, 2 <= n <= max_seq_len\n"
    "  --threads N    OpenMP threads (default: all)\n";

static int cmd_score(int argc, char **argv) {
    const char *model_path = NULL, *ids_arg = NULL;
    int threads = 0;
    for (int i = 2; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) { fputs(SCORE_HELP, stdout); return 0; }
        else if (!strcmp(argv[i], "--model")) model_path = flag_value(argc, argv, &i);
        else if (!strcmp(argv[i], "--ids")) ids_arg = flag_value(argc, argv, &i);
        else if (!strcmp(argv[i], "--threads")) threads = (int)parse_long("--threads", flag_value(argc, argv, &i), 1, 1024);
        else die("unknown flag '%s' (see: train_rlme score --help)", argv[i]);
    }
    if (!ids_arg) die("--ids is required (see: train_rlme score --help)");
    set_threads(threads);
    GPT model;
    load_model_or_die(&model, model_path);
    int n;
    int *ids = parse_ids("--ids", ids_arg, model.config.vocab_size, &n);
    if (n < 2) die("--ids needs at least 2 tokens to score one");
    if (n > model.config.max_seq_len) die("--ids has %d tokens, longer than the context (%d)", n, model.config.max_seq_len);
    gpt_forward(&model, ids, ids + 1, 1, n - 1);
    for (int t = 0; t < n - 1; t++) printf(t ? " %.6f" : "%.6f", model.logp[t]);
    printf("\n");
    free(ids);
    gpt_free(&model);
    return 0;
}

// ----------------------------------------------------------------------------
// sample: generation with the KV cache

static const char *SAMPLE_HELP =
    "usage: train_rlme sample --model CKPT --prompt-ids 5,17,3 [options] --print-ids\n"
    "Generates a continuation of the prompt and prints the new ids, comma-separated.\n"
    "  --model CKPT        llm.c-format fp32 checkpoint (version 3)\n"
    "  --prompt-ids LIST   comma-separated prompt token ids\n"
    "  --max-new N         tokens to generate (default 32; prompt + N <= max_seq_len)\n"
    "  --temperature T     0 = greedy (default 1.0)\n"
    "  --top-p P           nucleus sampling mass in (0, 1] (default 1.0)\n"
    "  --seed S            RNG seed (default 1)\n"
    "  --num N             number of samples drawn together in one batch (default 1)\n"
    "  --stop ID           stop a sample when it draws this token (default: none)\n"
    "  --print-ids         print token ids (the only output format without a tokenizer)\n"
    "  --threads N         OpenMP threads (default: all)\n";

static int cmd_sample(int argc, char **argv) {
    const char *model_path = NULL, *prompt_arg = NULL;
    int max_new = 32, num = 1, threads = 0, print_ids = 0, stop = -1;
    float temperature = 1.0f, top_p = 1.0f;
    long seed = 1;
    for (int i = 2; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) { fputs(SAMPLE_HELP, stdout); return 0; }
        else if (!strcmp(argv[i], "--model")) model_path = flag_value(argc, argv, &i);
        else if (!strcmp(argv[i], "--prompt-ids")) prompt_arg = flag_value(argc, argv, &i);
        else if (!strcmp(argv[i], "--max-new")) max_new = (int)parse_long("--max-new", flag_value(argc, argv, &i), 1, 1 << 16);
        else if (!strcmp(argv[i], "--temperature")) temperature = parse_float("--temperature", flag_value(argc, argv, &i), 0, 100);
        else if (!strcmp(argv[i], "--top-p")) top_p = parse_float("--top-p", flag_value(argc, argv, &i), 1e-6, 1);
        else if (!strcmp(argv[i], "--seed")) seed = parse_long("--seed", flag_value(argc, argv, &i), 0, 0x7fffffffL);
        else if (!strcmp(argv[i], "--num")) num = (int)parse_long("--num", flag_value(argc, argv, &i), 1, 4096);
        else if (!strcmp(argv[i], "--stop")) stop = (int)parse_long("--stop", flag_value(argc, argv, &i), 0, 1 << 24);
        else if (!strcmp(argv[i], "--threads")) threads = (int)parse_long("--threads", flag_value(argc, argv, &i), 1, 1024);
        else if (!strcmp(argv[i], "--print-ids")) print_ids = 1;
        else die("unknown flag '%s' (see: train_rlme sample --help)", argv[i]);
    }
    if (!prompt_arg) die("--prompt-ids is required (see: train_rlme sample --help)");
    if (!print_ids) die("--print-ids is required: this checkpoint format carries no tokenizer to print text with");
    set_threads(threads);
    GPT model;
    load_model_or_die(&model, model_path);
    int n;
    int *prompt = parse_ids("--prompt-ids", prompt_arg, model.config.vocab_size, &n);
    if (n + max_new - 1 > model.config.max_seq_len)
        die("prompt (%d tokens) + --max-new %d exceeds the context of %d", n, max_new, model.config.max_seq_len);
    int *off = calloc(num, sizeof(int)), *len = malloc(num * sizeof(int)), *out_len = malloc(num * sizeof(int));
    int *out = malloc((size_t)num * max_new * sizeof(int));
    float *out_logp = malloc((size_t)num * max_new * sizeof(float));
    for (int i = 0; i < num; i++) len[i] = n; // every sample shares the one prompt
    KVCache kv;
    kvcache_init(&kv, model.config, num);
    SampleConfig sc = {.temperature = temperature, .top_p = top_p, .max_new = max_new, .stop_token = stop};
    uint64_t rng = rng_seed((uint64_t)seed);
    gpt_generate(&model, &kv, num, prompt, off, len, sc, &rng, out, out_logp, out_len);
    for (int i = 0; i < num; i++) {
        for (int j = 0; j < out_len[i]; j++) printf(j ? ",%d" : "%d", out[(size_t)i * max_new + j]);
        printf("\n");
    }
    kvcache_free(&kv);
    free(off); free(len); free(out_len); free(out); free(out_logp); free(prompt);
    gpt_free(&model);
    return 0;
}

// ----------------------------------------------------------------------------
// bench: tokens per second of a training step and of batched decoding

static const char *BENCH_HELP =
    "usage: train_rlme bench [--layers 6 --heads 8 --channels 256 --vocab 1024 --seq 256 --batch 16]\n"
    "Times forward + backward + AdamW on random data, then batched KV-cache decoding,\n"
    "and prints train_tok_per_s=... and decode_tok_per_s=... lines.\n"
    "  --steps N      timed training steps after one warm-up (default 5)\n"
    "  --threads N    OpenMP threads (default: all)\n"
    "  --peak G       FMA peak of one core in GFLOP/s, for the %%-of-peak line (default 78.4:\n"
    "                 2.45 GHz x 2 FMA units x 8 floats x 2, an AVX2 Zen 3 core)\n";

// FLOPs of one forward pass over B x T tokens (multiply-add = 2): the linear
// layers 2*BT*12C^2 per layer plus the LM head, and causal attention's two
// products (scores and weighted values) over the T(T+1)/2 visible pairs.
static double forward_flops(GPTConfig c, int B, int T) {
    double BT = (double)B * T, C = c.channels;
    double linear = 2.0 * BT * (12.0 * C * C * c.num_layers + C * c.padded_vocab_size);
    double attention = 2.0 * 2.0 * B * (T * (T + 1) / 2.0) * C * c.num_layers;
    return linear + attention;
}

static int cmd_bench(int argc, char **argv) {
    int L = 6, NH = 8, C = 256, V = 1024, T = 256, B = 16, steps = 5, threads = 0;
    float peak = 78.4f;
    for (int i = 2; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) { fputs(BENCH_HELP, stdout); return 0; }
        else if (!strcmp(argv[i], "--layers")) L = (int)parse_long("--layers", flag_value(argc, argv, &i), 1, 64);
        else if (!strcmp(argv[i], "--heads")) NH = (int)parse_long("--heads", flag_value(argc, argv, &i), 1, 256);
        else if (!strcmp(argv[i], "--channels")) C = (int)parse_long("--channels", flag_value(argc, argv, &i), 1, 8192);
        else if (!strcmp(argv[i], "--vocab")) V = (int)parse_long("--vocab", flag_value(argc, argv, &i), 2, 1 << 20);
        else if (!strcmp(argv[i], "--seq")) T = (int)parse_long("--seq", flag_value(argc, argv, &i), 2, 8192);
        else if (!strcmp(argv[i], "--batch")) B = (int)parse_long("--batch", flag_value(argc, argv, &i), 1, 4096);
        else if (!strcmp(argv[i], "--steps")) steps = (int)parse_long("--steps", flag_value(argc, argv, &i), 1, 100000);
        else if (!strcmp(argv[i], "--threads")) threads = (int)parse_long("--threads", flag_value(argc, argv, &i), 1, 1024);
        else if (!strcmp(argv[i], "--peak")) peak = parse_float("--peak", flag_value(argc, argv, &i), 0.1, 1e6);
        else die("unknown flag '%s' (see: train_rlme bench --help)", argv[i]);
    }
    if (C % NH) die("--heads %d does not divide --channels %d", NH, C);
    set_threads(threads);
    GPTConfig cfg = {.max_seq_len = T, .vocab_size = V, .padded_vocab_size = (V + 127) / 128 * 128,
                     .num_layers = L, .num_heads = NH, .channels = C};
    GPT model;
    gpt_init_random(&model, cfg, 1337);
    uint64_t rng = rng_seed(42);
    size_t BT = (size_t)B * T;
    int *tokens = malloc((BT + 1) * sizeof(int));
    float *c = malloc(BT * sizeof(float));
    for (size_t i = 0; i <= BT; i++) tokens[i] = (int)(rng_u64(&rng) % V);
    for (size_t i = 0; i < BT; i++) c[i] = 1.0f / BT;
    AdamWConfig opt = {.lr = 1e-4f, .beta1 = 0.9f, .beta2 = 0.95f, .eps = 1e-8f, .weight_decay = 0.1f};
    printf("model: L=%d NH=%d C=%d V=%d (Vp=%d) T=%d, %zu parameters; batch B=%d; threads=%d\n",
           L, NH, C, V, cfg.padded_vocab_size, T, model.num_parameters, B, num_threads());

    double t_fwd = 0, t_bwd = 0, t_opt = 0;
    for (int s = -1; s < steps; s++) { // step -1 warms up (allocations, caches)
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
    double step = (t_fwd + t_bwd + t_opt) / steps;
    double flops = 3.0 * forward_flops(cfg, B, T); // backward = 2x forward
    printf("ms_per_step=%.1f (forward %.1f, backward %.1f, adamw %.1f)\n", 1e3 * step,
           1e3 * t_fwd / steps, 1e3 * t_bwd / steps, 1e3 * t_opt / steps);
    printf("train_gflops=%.1f (%.0f%% of the %.0f GFLOP/s FMA peak of %d cores)\n", flops / step * 1e-9,
           100.0 * flops / step * 1e-9 / (peak * num_threads()), peak * num_threads(), num_threads());
    printf("train_tok_per_s=%.1f\n", BT / step);

    // decoding: B sequences with ragged prompts of 1..8 tokens, T/2 new tokens each
    int max_new = T / 2;
    int *off = malloc(B * sizeof(int)), *len = malloc(B * sizeof(int)), *out_len = malloc(B * sizeof(int));
    int *out = malloc((size_t)B * max_new * sizeof(int));
    float *out_logp = malloc((size_t)B * max_new * sizeof(float));
    for (int i = 0; i < B; i++) { off[i] = i * 8; len[i] = 1 + i % 8; }
    KVCache kv;
    kvcache_init(&kv, cfg, B);
    SampleConfig sc = {.temperature = 1.0f, .top_p = 1.0f, .max_new = max_new, .stop_token = -1};
    double t0 = now_seconds();
    gpt_generate(&model, &kv, B, tokens, off, len, sc, &rng, out, out_logp, out_len);
    double dt = now_seconds() - t0;
    long generated = 0;
    for (int i = 0; i < B; i++) generated += out_len[i];
    printf("decode: %d sequences x %d new tokens in %.2f s\n", B, max_new, dt);
    printf("decode_tok_per_s=%.1f\n", generated / dt);
    kvcache_free(&kv);
    free(off); free(len); free(out_len); free(out); free(out_logp); free(tokens); free(c);
    gpt_free(&model);
    return 0;
}

// ----------------------------------------------------------------------------
// main

static const char *MAIN_HELP =
    "usage: train_rlme <command> [options]   (train_rlme <command> --help for each)\n"
    "  score    log-probs of a token sequence under a checkpoint\n"
    "  sample   generate from a checkpoint (batched KV-cache decoding)\n"
    "  bench    time a training step and batched decoding on random data\n";

#ifndef RLME_NO_MAIN
int main(int argc, char **argv) {
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) { fputs(MAIN_HELP, stdout); return argc < 2; }
    static char cmd_name[64];
    snprintf(cmd_name, sizeof(cmd_name), "train_rlme %s", argv[1]);
    g_cmd = cmd_name;
    if (!strcmp(argv[1], "score")) return cmd_score(argc, argv);
    if (!strcmp(argv[1], "sample")) return cmd_sample(argc, argv);
    if (!strcmp(argv[1], "bench")) return cmd_bench(argc, argv);
    g_cmd = "train_rlme";
    die("unknown command '%s' (see: train_rlme --help)", argv[1]);
    return 2;
}
#endif
