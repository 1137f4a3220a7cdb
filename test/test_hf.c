/*
test_hf.c — Hugging Face model directories (data/hf.h) in and out.

  1. each directory dev/llama_ref.py wrote holds exactly the weights of its state file
     (F32, BF16 rounded, sharded), and its GPT-2 directory those of test/ref/model.bin
  2. a model written back (F32) reads back bit-exact; BF16 reads back rounded to BF16
  3. bad config.json files and tensor tables are refused with one message naming the file
Run from the repository root. Prints one line per check and "N passed, N failed".
*/
#include "../data/hf.h"

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

// the initial weights of a dev/llama_ref.py state file (after its 256-int header)
static float *state_params0(const char *path, size_t n) {
    FILE *f = fopen(path, "rb");
    float *p = malloc(n * sizeof(float));
    int ok = f && fseek(f, 1024, SEEK_SET) == 0 && fread(p, sizeof(float), n, f) == n;
    if (f) fclose(f);
    if (!ok) { free(p); return NULL; }
    return p;
}

static int same_floats(const float *a, const float *b, size_t n) { return !memcmp(a, b, n * sizeof(float)); }

// ----------------------------------------------------------------------------
// 1. the reference directories

static void test_read(void) {
    char err[512];
    const char *variants[][2] = {{"hf_qwen3", "qwen3"}, {"hf_qwen2", "qwen2"}, {"hf_llama_mha", "llama_mha"},
                                 {"hf_llama_gqa", "llama_gqa"}, {"hf_qwen3_sharded", "qwen3"}};
    for (int i = 0; i < 5; i++) {
        char dir[256], state[256];
        snprintf(dir, sizeof(dir), "test/ref/llama/%s", variants[i][0]);
        snprintf(state, sizeof(state), "test/ref/llama/%s.bin", variants[i][1]);
        GPT m;
        if (hf_load(&m, dir, err, sizeof(err))) { check(0, "load %s: %s", dir, err); continue; }
        float *p0 = state_params0(state, m.num_parameters);
        check(p0 && same_floats(m.params_memory, p0, m.num_parameters), "%s holds the weights of %s bit for bit (%zu)",
              dir, state, m.num_parameters);
        free(p0);
        gpt_free(&m);
    }
    // BF16: the F32 weights rounded to nearest even
    GPT bf, f32;
    if (hf_load(&bf, "test/ref/llama/hf_qwen3_bf16", err, sizeof(err)) || hf_load(&f32, "test/ref/llama/hf_qwen3", err, sizeof(err))) {
        check(0, "load the qwen3 directories: %s", err);
    } else {
        int ok = 1;
        for (size_t i = 0; i < f32.num_parameters; i++) ok &= bf.params_memory[i] == st_bf16_to_f32(st_f32_to_bf16(f32.params_memory[i]));
        check(ok, "hf_qwen3_bf16 holds the F32 weights rounded to BF16");
        gpt_free(&bf); gpt_free(&f32);
    }
    // GPT-2's hub layout (Conv1D weights transposed, mask buffers) gives llm.c's tensors
    GPT hub, llmc;
    if (hf_load(&hub, "test/ref/llama/hf_gpt2", err, sizeof(err)) ||
        gpt_read_checkpoint(&llmc, "test/ref/model.bin", NULL, err, sizeof(err))) {
        check(0, "load the GPT-2 directory and checkpoint: %s", err);
    } else {
        check(hub.num_parameters == llmc.num_parameters && same_floats(hub.params_memory, llmc.params_memory, llmc.num_parameters) &&
              !memcmp(&hub.config, &llmc.config, sizeof(GPTConfig)),
              "hf_gpt2 (GPT2LMHeadModel) loads into the same GPT-2 as test/ref/model.bin");
        gpt_free(&hub); gpt_free(&llmc);
    }
}

// ----------------------------------------------------------------------------
// 2. writing

static void test_write(void) {
    char err[512], dir[128], dir2[128];
    snprintf(dir, sizeof(dir), "/tmp/rlme_test_hf_%d", (int)getpid());
    snprintf(dir2, sizeof(dir2), "/tmp/rlme_test_hf2_%d", (int)getpid());
    const char *sources[] = {"test/ref/llama/hf_qwen2", "test/ref/llama/hf_llama_mha", "test/ref/llama/hf_gpt2"};
    for (int i = 0; i < 3; i++) {
        GPT m, back;
        if (hf_load(&m, sources[i], err, sizeof(err))) { check(0, "load %s: %s", sources[i], err); continue; }
        int rc = hf_save(&m, dir, ST_F32, sources[i], err, sizeof(err));
        check(rc == 0, "write %s back as F32%s%s", sources[i], rc ? ": " : "", rc ? err : "");
        rc = rc ? rc : hf_load(&back, dir, err, sizeof(err));
        check(rc == 0 && same_floats(back.params_memory, m.params_memory, m.num_parameters),
              "%s: written and read back bit-exact", sources[i]);
        if (!rc) gpt_free(&back);
        // without a source directory: the config.json written here describes it too
        rc = hf_save(&m, dir2, ST_BF16, NULL, err, sizeof(err));
        rc = rc ? rc : hf_load(&back, dir2, err, sizeof(err));
        int ok = rc == 0 && !memcmp(&back.config, &m.config, sizeof(GPTConfig));
        for (size_t j = 0; ok && j < m.num_parameters; j++)
            ok = back.params_memory[j] == st_bf16_to_f32(st_f32_to_bf16(m.params_memory[j]));
        check(ok, "%s: written as BF16 with its own config.json, read back as the rounded weights%s%s", sources[i],
              rc ? ": " : "", rc ? err : "");
        if (!rc) gpt_free(&back);
        gpt_free(&m);
    }
    char path[256];
    const char *files[] = {"model.safetensors", "config.json"};
    for (int i = 0; i < 2; i++) {
        remove(hf_path(path, sizeof(path), dir, files[i]));
        remove(hf_path(path, sizeof(path), dir2, files[i]));
    }
    rmdir(dir); rmdir(dir2);
}

// ----------------------------------------------------------------------------
// 3. bad directories

// hf_qwen3 rewritten into a scratch directory: its config.json replaced by `config`
// (when given); its tensors without `drop`, with `extra` (a [1] tensor) added, and
// `shrink` one row shorter (when given)
static void make_dir(const char *dir, const char *config, const char *drop, const char *extra, const char *shrink) {
    char path[256], err[256];
    mkdir(dir, 0755);
    GPT m;
    hf_load(&m, "test/ref/llama/hf_qwen3", err, sizeof(err));
    HfTensor table[64];
    int n = hf_tensors(m.config, table), k = 0;
    StWriteTensor w[66];
    for (int i = 0; i < n; i++) {
        if (drop && !strcmp(table[i].name, drop)) continue;
        if (shrink && !strcmp(table[i].name, shrink)) table[i].shape[0]--;
        const float *src = hf_slot(&m, table[i].slot) + table[i].offset;
        w[k++] = (StWriteTensor){table[i].name, table[i].ndim, table[i].shape, src};
    }
    static const int64_t one[1] = {1};
    if (extra) w[k++] = (StWriteTensor){extra, 1, one, m.params_memory};
    st_write(hf_path(path, sizeof(path), dir, "model.safetensors"), w, k, ST_F32, NULL, err, sizeof(err));
    FILE *f = fopen(hf_path(path, sizeof(path), dir, "config.json"), "w");
    if (config) fputs(config, f);
    else {
        char *src, cfgpath[256];
        size_t len;
        hf_read_small(hf_path(cfgpath, sizeof(cfgpath), "test/ref/llama/hf_qwen3", "config.json"), 1 << 20, &src, &len, err, sizeof(err));
        fwrite(src, 1, len, f);
        free(src);
    }
    fclose(f);
    gpt_free(&m);
}

static void expect_refused(const char *dir, const char *what, const char *expect, const char *file) {
    GPT m;
    char err[512] = "";
    int rc = hf_load(&m, dir, err, sizeof(err));
    check(rc != 0 && strstr(err, expect) && strstr(err, file), "refuses %s: \"%s\"", what, err);
    if (!rc) gpt_free(&m);
}

static void test_bad(void) {
    char dir[128], path[256];
    snprintf(dir, sizeof(dir), "/tmp/rlme_test_hfbad_%d", (int)getpid());
    const char *qwen3 = "{\"architectures\": [\"Qwen3ForCausalLM\"], \"model_type\": \"qwen3\", \"hidden_size\": 32, "
                        "\"intermediate_size\": 48, \"num_hidden_layers\": 2, \"num_attention_heads\": 4, "
                        "\"num_key_value_heads\": 2, \"head_dim\": 16, \"rms_norm_eps\": 1e-06, \"rope_theta\": 1000000, "
                        "\"vocab_size\": 101, \"max_position_embeddings\": 24, \"tie_word_embeddings\": true%s}";
    struct { const char *what, *extra, *expect; } configs[] = {
        {"a key given twice", ", \"model_type\": \"mamba\"", "duplicate"},
        {"rope scaling", ", \"rope_scaling\": {\"type\": \"llama3\"}", "rope_scaling"},
        {"sliding-window attention", ", \"use_sliding_window\": true", "sliding"},
        {"an MLP bias", ", \"mlp_bias\": true", "mlp_bias"},
        {"a GELU MLP in a Llama", ", \"hidden_act\": \"gelu\"", "silu"},
    };
    char cfg[2048];
    hf_path(path, sizeof(path), dir, "config.json");
    for (int i = 0; i < 5; i++) {
        snprintf(cfg, sizeof(cfg), qwen3, configs[i].extra);
        make_dir(dir, cfg, NULL, NULL, NULL);
        expect_refused(dir, configs[i].what, configs[i].expect, path);
    }
    const char *texts[][3] = {
        {"{\"model_type\": \"mamba\"}", "an unsupported model type", "not supported"},
        {"{\"model_type\": \"qwen3\", \"hidden_size\": 32", "truncated JSON", "line 1"},
        {"[1, 2]", "a config that is not an object", "not a JSON object"},
        {"{\"model_type\": \"llama\", \"hidden_size\": \"32\"}", "a size given as a string", "must be an integer"},
        {"{\"model_type\": \"qwen3\", \"hidden_size\": 32, \"intermediate_size\": 48, \"num_hidden_layers\": 2, "
         "\"num_attention_heads\": 4, \"num_key_value_heads\": 3, \"rms_norm_eps\": 1e-6, \"vocab_size\": 101, "
         "\"max_position_embeddings\": 24}", "KV heads not dividing the heads", "does not divide"},
        {"{\"model_type\": \"gpt2\", \"n_embd\": 32, \"n_head\": 4, \"n_layer\": 2, \"n_positions\": 24, "
         "\"vocab_size\": 101, \"layer_norm_epsilon\": 1e-6}", "a GPT-2 LayerNorm eps other than 1e-5", "layer_norm_epsilon"},
    };
    for (int i = 0; i < 6; i++) {
        make_dir(dir, texts[i][0], NULL, NULL, NULL);
        expect_refused(dir, texts[i][1], texts[i][2], path);
    }
    // the tensors must be what the config says
    hf_path(path, sizeof(path), dir, "model.safetensors");
    make_dir(dir, NULL, "model.layers.1.self_attn.k_norm.weight", NULL, NULL);
    expect_refused(dir, "a missing tensor", "no tensor \"model.layers.1.self_attn.k_norm.weight\"", path);
    make_dir(dir, NULL, NULL, "model.layers.2.mlp.gate_proj.weight", NULL);
    expect_refused(dir, "an unexpected tensor", "unexpected tensor", path);
    make_dir(dir, NULL, NULL, NULL, "model.layers.0.mlp.up_proj.weight");
    expect_refused(dir, "a tensor of the wrong shape", "has shape", path);
    hf_path(path, sizeof(path), dir, "model.safetensors");
    remove(path);
    expect_refused(dir, "a directory without weights", "cannot open", path);
    hf_path(path, sizeof(path), dir, "config.json");
    remove(path);
    expect_refused(dir, "a directory without config.json", "cannot open", path);
    rmdir(dir);
}

// tokenizer_config.json: what the templates need, read from each form the file takes,
// and each malformed one refused with a message naming the file
static void test_text_config(void) {
    char dir[128], path[256], err[512];
    snprintf(dir, sizeof(dir), "/tmp/rlme_test_hftc_%d", (int)getpid());
    mkdir(dir, 0755);
    hf_path(path, sizeof(path), dir, "tokenizer_config.json");
    TextConfig c;
    check(hf_read_text_config(dir, &c, err, sizeof(err)) == 0 && !c.eos[0] && c.chat_template == CHAT_NONE,
          "tokenizer_config.json: none in the directory, nothing read");
    struct { const char *text, *eos; int chat; } good[] = {
        {"{\"eos_token\": \"<|im_end|>\", \"chat_template\": \"{% for m in messages %}<|im_start|>{{ m.content }}<|im_end|>"
         "{% endfor %}\"}", "<|im_end|>", CHAT_CHATML},
        {"{\"eos_token\": {\"content\": \"</s>\", \"lstrip\": false}, \"chat_template\": \"[INST] {{ m }} [/INST]\"}", "</s>",
         CHAT_OTHER},
        {"{\"eos_token\": null, \"bos_token\": null, \"chat_template\": [{\"name\": \"tool_use\", \"template\": \"x\"}, "
         "{\"name\": \"default\", \"template\": \"<|im_start|><|im_end|>\"}]}", "", CHAT_CHATML},
        {"{\"tokenizer_class\": \"PreTrainedTokenizerFast\", \"eos_token\": \"<|endoftext|>\"}", "<|endoftext|>", CHAT_NONE},
    };
    int ok = 1;
    for (int i = 0; i < 4; i++) {
        FILE *f = fopen(path, "w");
        fputs(good[i].text, f);
        fclose(f);
        ok &= hf_read_text_config(dir, &c, err, sizeof(err)) == 1 && !strcmp(c.eos, good[i].eos) && c.chat_template == good[i].chat;
    }
    check(ok, "tokenizer_config.json: eos_token as a string or {content}, chat_template as one template or a named list");
    const char *bad[][2] = {
        {"{\"eos_token\": ", "line 1"},
        {"[\"<|im_end|>\"]", "not a JSON object"},
        {"{\"eos_token\": 2}", "eos_token must be a string"},
        {"{\"eos_token\": {\"lstrip\": false}}", "eos_token must be a string"},
        {"{\"eos_token\": \"\"}", "eos_token must be 1 to 63 bytes"},
        {"{\"eos_token\": \"<|a-very-long-end-of-text-token-name-that-no-tokenizer-uses-at-all|>\"}", "1 to 63 bytes"},
        {"{\"chat_template\": 7}", "chat_template must be a string or a list"},
        {"{\"chat_template\": [{\"name\": \"tool_use\", \"template\": \"x\"}]}", "no template named \"default\""},
        {"{\"chat_template\": [{\"name\": \"default\"}]}", "chat_template[0] must be"},
        {"{\"eos_token\": \"a\", \"eos_token\": \"b\"}", "duplicate"},
    };
    for (int i = 0; i < 10; i++) {
        FILE *f = fopen(path, "w");
        fputs(bad[i][0], f);
        fclose(f);
        err[0] = 0;
        int rc = hf_read_text_config(dir, &c, err, sizeof(err));
        check(rc < 0 && strstr(err, bad[i][1]) && strstr(err, path), "tokenizer_config.json refused: \"%s\"", err);
    }
    remove(path);
    rmdir(dir);
}

int main(void) {
    test_read();
    test_write();
    test_bad();
    test_text_config();
    printf("%d passed, %d failed\n", n_pass, n_fail);
    return n_fail != 0;
}
