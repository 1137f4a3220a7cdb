/*
data/hf.h — Hugging Face model directories in and out: config.json plus model.safetensors
(or shards behind model.safetensors.index.json) <-> a GPT of model.h, in fp32.

Read: LlamaForCausalLM (Llama, SmolLM2, TinyLlama), Qwen2ForCausalLM (Qwen2, Qwen2.5),
Qwen3ForCausalLM and GPT2LMHeadModel, from F32, F16 or BF16 tensors. Written: the same,
as F32 or BF16, with the source directory's config.json and tokenizer files copied when
there is one, so the result loads wherever the original did (transformers, vLLM,
llama.cpp's converter).

One table, hf_tensors(), says which Hugging Face tensor fills which rows of which of
model.h's parameter slots, for reading and for writing alike:
  Llama family: q_proj, k_proj, v_proj stack into qkvw's rows (q, then k, then v), and
  gate_proj, up_proj into fcw's (gate, then up); embed_tokens and lm_head fill the first
  V rows of their padded (Vp, C) slots.
  GPT-2: its Conv1D weights are stored (in, out), the transpose of model.h's (out, in).
Every tensor the config implies must be there with its exact shape, and every tensor in
the files must be one of them (or a known buffer that carries no weights).
*/
#ifndef HF_H
#define HF_H

#include <dirent.h>
#include "safetensors.h"

#define HF_MAX_CONFIG (1u << 20) // config.json is small; refuse anything bigger than 1 MB

#pragma GCC diagnostic push // a header library: a program uses only some of these
#pragma GCC diagnostic ignored "-Wunused-function"

// ----------------------------------------------------------------------------
// config.json -> GPTConfig

// "DIR/NAME" into buf
static const char *hf_path(char *buf, size_t cap, const char *dir, const char *name) {
    snprintf(buf, cap, "%s/%s", dir, name);
    return buf;
}

static int hf_is_dir(const char *path) {
    struct stat st;
    return path && stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

// A whole small file into a malloc'd buffer (NUL-terminated), or -1 with "PATH: why".
static int hf_read_small(const char *path, size_t max, char **out, size_t *len, char *err, size_t errlen) {
    FILE *f = fopen(path, "rb");
    if (!f) return set_err(err, errlen, "%s: cannot open: %s", path, strerror(errno));
    char *buf = malloc(max + 1);
    size_t n = buf ? fread(buf, 1, max + 1, f) : 0;
    int bad = ferror(f);
    fclose(f);
    if (!buf || bad) { free(buf); return set_err(err, errlen, "%s: read error", path); }
    if (n > max) { free(buf); return set_err(err, errlen, "%s: larger than %zu bytes", path, max); }
    buf[n] = 0;
    *out = buf; *len = n;
    return 0;
}

// an optional integer / number / boolean member: absent or null leaves *v as it is
static int hf_opt_int(const Json *c, const char *key, int64_t *v, char *err, size_t errlen) {
    const Json *x = json_get(c, key);
    return !x || x->type == JSON_NULL ? 0 : json_get_int(c, key, v, err, errlen);
}
static int hf_opt_num(const Json *c, const char *key, double *v, char *err, size_t errlen) {
    const Json *x = json_get(c, key);
    return !x || x->type == JSON_NULL ? 0 : json_get_num(c, key, v, err, errlen);
}
static int hf_opt_bool(const Json *c, const char *key, int *v, char *err, size_t errlen) {
    const Json *x = json_get(c, key);
    return !x || x->type == JSON_NULL ? 0 : json_get_bool(c, key, v, err, errlen);
}

// the ints of a config that must fit model.h's int fields
static int hf_get_dim(const Json *c, const char *key, int *v, char *err, size_t errlen) {
    int64_t x;
    if (json_get_int(c, key, &x, err, errlen)) return -1;
    if (x < 1 || x > (1 << 30)) return set_err(err, errlen, "\"%s\" is %lld, not a size", key, (long long)x);
    *v = (int)x;
    return 0;
}

// The Llama family: Llama / SmolLM2 (model_type "llama"), Qwen2 / 2.5 ("qwen2": q/k/v
// biases), Qwen3 ("qwen3": QK-norm). What model.h does not implement is refused.
static int hf_llama_config(const Json *c, const char *type, GPTConfig *cfg, char *err, size_t errlen) {
    int qwen2 = !strcmp(type, "qwen2"), qwen3 = !strcmp(type, "qwen3");
    *cfg = (GPTConfig){.arch = ARCH_LLAMA, .qkv_bias = qwen2, .qk_norm = qwen3};
    if (hf_get_dim(c, "hidden_size", &cfg->channels, err, errlen) ||
        hf_get_dim(c, "intermediate_size", &cfg->ffn_dim, err, errlen) ||
        hf_get_dim(c, "num_hidden_layers", &cfg->num_layers, err, errlen) ||
        hf_get_dim(c, "num_attention_heads", &cfg->num_heads, err, errlen) ||
        hf_get_dim(c, "vocab_size", &cfg->vocab_size, err, errlen) ||
        hf_get_dim(c, "max_position_embeddings", &cfg->max_seq_len, err, errlen))
        return -1;
    int64_t kv = cfg->num_heads, hd = cfg->channels / cfg->num_heads;
    double eps = 1e-6, theta = 10000.0;
    int tied = 0, attention_bias = 0, mlp_bias = 0, sliding = 0;
    if (hf_opt_int(c, "num_key_value_heads", &kv, err, errlen) || hf_opt_int(c, "head_dim", &hd, err, errlen) ||
        json_get_num(c, "rms_norm_eps", &eps, err, errlen) || hf_opt_num(c, "rope_theta", &theta, err, errlen) ||
        hf_opt_bool(c, "tie_word_embeddings", &tied, err, errlen) ||
        hf_opt_bool(c, "attention_bias", &attention_bias, err, errlen) ||
        hf_opt_bool(c, "mlp_bias", &mlp_bias, err, errlen) || hf_opt_bool(c, "use_sliding_window", &sliding, err, errlen))
        return -1;
    const Json *act = json_get(c, "hidden_act"), *scaling = json_get(c, "rope_scaling");
    if (act && (act->type != JSON_STRING || strcmp(act->string, "silu")))
        return set_err(err, errlen, "\"hidden_act\" must be \"silu\" (the SwiGLU MLP)");
    if (scaling && scaling->type != JSON_NULL) return set_err(err, errlen, "\"rope_scaling\" is not supported (only plain RoPE)");
    if (attention_bias && !qwen2) return set_err(err, errlen, "\"attention_bias\": true (an o_proj bias) is not supported");
    if (mlp_bias) return set_err(err, errlen, "\"mlp_bias\": true is not supported");
    if (sliding) return set_err(err, errlen, "\"use_sliding_window\": true (sliding-window attention) is not supported");
    if (kv < 1 || kv > cfg->num_heads || hd < 1 || hd > (1 << 20))
        return set_err(err, errlen, "\"num_key_value_heads\" %lld or \"head_dim\" %lld out of range", (long long)kv, (long long)hd);
    cfg->num_kv_heads = (int)kv; cfg->head_dim = (int)hd;
    cfg->norm_eps = (float)eps; cfg->rope_theta = (float)theta; cfg->untied = !tied;
    return 0;
}

// GPT-2 (model_type "gpt2"): model.h's LayerNorm eps is 1e-5 and its GELU the tanh form.
static int hf_gpt2_config(const Json *c, GPTConfig *cfg, char *err, size_t errlen) {
    *cfg = (GPTConfig){0};
    if (hf_get_dim(c, "n_embd", &cfg->channels, err, errlen) || hf_get_dim(c, "n_head", &cfg->num_heads, err, errlen) ||
        hf_get_dim(c, "n_layer", &cfg->num_layers, err, errlen) ||
        hf_get_dim(c, "n_positions", &cfg->max_seq_len, err, errlen) ||
        hf_get_dim(c, "vocab_size", &cfg->vocab_size, err, errlen))
        return -1;
    double eps = 1e-5;
    int tied = 1, upcast = 0, by_layer = 0;
    int64_t inner = 4 * (int64_t)cfg->channels;
    if (hf_opt_num(c, "layer_norm_epsilon", &eps, err, errlen) || hf_opt_bool(c, "tie_word_embeddings", &tied, err, errlen) ||
        hf_opt_int(c, "n_inner", &inner, err, errlen) ||
        hf_opt_bool(c, "reorder_and_upcast_attn", &upcast, err, errlen) ||
        hf_opt_bool(c, "scale_attn_by_inverse_layer_idx", &by_layer, err, errlen))
        return -1;
    const Json *act = json_get(c, "activation_function");
    if (act && (act->type != JSON_STRING || (strcmp(act->string, "gelu_new") && strcmp(act->string, "gelu_pytorch_tanh"))))
        return set_err(err, errlen, "\"activation_function\" must be \"gelu_new\" (GELU's tanh form)");
    if (fabs(eps - 1e-5) > 1e-12) return set_err(err, errlen, "\"layer_norm_epsilon\" must be 1e-05, not %g", eps);
    if (!tied) return set_err(err, errlen, "an untied GPT-2 head is not supported");
    if (inner != 4 * (int64_t)cfg->channels) return set_err(err, errlen, "\"n_inner\" must be 4 n_embd");
    if (upcast || by_layer) return set_err(err, errlen, "GPT-2's attention variants (upcast, inverse layer scaling) are not supported");
    return 0;
}

// Reads DIR/config.json into cfg (with Vp, the vocabulary padded to a multiple of 128).
static int hf_read_config(const char *dir, GPTConfig *cfg, char *err, size_t errlen) {
    char path[4096], *text = NULL, msg[256];
    size_t len = 0;
    hf_path(path, sizeof(path), dir, "config.json");
    if (hf_read_small(path, HF_MAX_CONFIG, &text, &len, err, errlen)) return -1;
    Json c;
    int rc = json_parse(text, len, HF_MAX_CONFIG, &c, msg, sizeof(msg));
    free(text);
    if (rc) return set_err(err, errlen, "%s: %s", path, msg);
    if (c.type != JSON_OBJECT) { json_free(&c); return set_err(err, errlen, "%s: not a JSON object", path); }
    const char *type = NULL;
    const Json *archs = json_get(&c, "architectures");
    if (json_get_str(&c, "model_type", &type, msg, sizeof(msg))) rc = -1;
    else if (!strcmp(type, "llama") || !strcmp(type, "qwen2") || !strcmp(type, "qwen3")) rc = hf_llama_config(&c, type, cfg, msg, sizeof(msg));
    else if (!strcmp(type, "gpt2")) rc = hf_gpt2_config(&c, cfg, msg, sizeof(msg));
    else rc = -1, snprintf(msg, sizeof(msg), "model_type \"%s\" is not supported (llama, qwen2, qwen3, gpt2)", type);
    const Json *a0 = json_at(archs, 0);
    if (!rc && a0 && (a0->type != JSON_STRING || (!strstr(a0->string, "ForCausalLM") && strcmp(a0->string, "GPT2LMHeadModel"))))
        rc = -1, snprintf(msg, sizeof(msg), "architecture %s is not a causal language model", a0->type == JSON_STRING ? a0->string : "?");
    json_free(&c);
    if (rc) return set_err(err, errlen, "%s: %s", path, msg);
    cfg->padded_vocab_size = (cfg->vocab_size + 127) / 128 * 128;
    if (gpt_config_check(*cfg, msg, sizeof(msg))) return set_err(err, errlen, "%s: %s", path, msg);
    return 0;
}

// ----------------------------------------------------------------------------
// tokenizer_config.json -> TextConfig (train_rlme.c's templates)

#define HF_MAX_TOKENIZER_CONFIG (16u << 20) // Llama 3's, with 256 added tokens, is 50 kB

// What tokenizer_config.json says about the model's text: the token that ends it ("":
// not given), and the kind of its chat template.
enum { CHAT_NONE, CHAT_CHATML, CHAT_OTHER }; // none; <|im_start|> turns ending in <|im_end|>; another
typedef struct { char eos[64]; int chat_template; } TextConfig;

// a special token's text: "TEXT", or {"content": "TEXT", ...}; null or absent leave out
// as it is
static int hf_token_text(const Json *c, const char *key, char *out, size_t cap, char *msg, size_t msgcap) {
    const Json *v = json_get(c, key);
    if (!v || v->type == JSON_NULL) return 0;
    if (v->type == JSON_OBJECT) v = json_get(v, "content");
    if (!v || v->type != JSON_STRING) return set_err(msg, msgcap, "%s must be a string or {\"content\": string}", key);
    if (!v->len || v->len >= cap) return set_err(msg, msgcap, "%s must be 1 to %zu bytes", key, cap - 1);
    memcpy(out, v->string, v->len + 1);
    return 0;
}

// chat_template: one Jinja template, or a list of {"name", "template"} (the one named
// "default" is the chat template). It is ChatML's when its text has both markers.
static int hf_chat_template(const Json *c, int *kind, char *msg, size_t msgcap) {
    const Json *v = json_get(c, "chat_template"), *pick = NULL;
    *kind = CHAT_NONE;
    if (!v || v->type == JSON_NULL) return 0;
    if (v->type == JSON_STRING) pick = v;
    for (size_t i = 0; v->type == JSON_ARRAY && i < v->len; i++) {
        const Json *e = json_at(v, i), *name = json_get(e, "name"), *t = json_get(e, "template");
        if (e->type != JSON_OBJECT || !name || name->type != JSON_STRING || !t || t->type != JSON_STRING)
            return set_err(msg, msgcap, "chat_template[%zu] must be {\"name\": string, \"template\": string}", i);
        if (!strcmp(name->string, "default")) pick = t;
    }
    if (v->type == JSON_ARRAY && !pick) return set_err(msg, msgcap, "chat_template has no template named \"default\"");
    if (!pick) return set_err(msg, msgcap, "chat_template must be a string or a list of named templates");
    *kind = strstr(pick->string, "<|im_start|>") && strstr(pick->string, "<|im_end|>") ? CHAT_CHATML : CHAT_OTHER;
    return 0;
}

// Reads DIR/tokenizer_config.json: its eos_token and the kind of its chat_template.
// Returns 1, 0 when the directory has no such file (cfg left empty), or -1 with "PATH: why".
static int hf_read_text_config(const char *dir, TextConfig *cfg, char *err, size_t errlen) {
    char path[4096], *text = NULL, msg[256];
    size_t len = 0;
    *cfg = (TextConfig){.chat_template = CHAT_NONE};
    if (access(hf_path(path, sizeof(path), dir, "tokenizer_config.json"), F_OK) != 0) return 0;
    if (hf_read_small(path, HF_MAX_TOKENIZER_CONFIG, &text, &len, err, errlen)) return -1;
    Json c;
    int rc = json_parse(text, len, HF_MAX_TOKENIZER_CONFIG, &c, msg, sizeof(msg));
    free(text);
    if (rc) return set_err(err, errlen, "%s: %s", path, msg);
    if (c.type != JSON_OBJECT) rc = set_err(msg, sizeof(msg), "not a JSON object");
    else rc = hf_token_text(&c, "eos_token", cfg->eos, sizeof(cfg->eos), msg, sizeof(msg))
              || hf_chat_template(&c, &cfg->chat_template, msg, sizeof(msg)) ? -1 : 0;
    json_free(&c);
    if (rc) return set_err(err, errlen, "%s: %s", path, msg);
    return 1;
}

// ----------------------------------------------------------------------------
// the tensor table

typedef struct {
    char name[96];     // the Hugging Face name
    int slot;          // model.h's parameter slot
    size_t offset;     // first float of the slot it fills
    int ndim;
    int64_t shape[2];  // the Hugging Face shape
    int transposed;    // stored (in, out): GPT-2's Conv1D
} HfTensor;

static void hf_add(HfTensor *t, int *n, int slot, size_t offset, int64_t rows, int64_t cols, int transposed,
                   const char *fmt, int layer) {
    HfTensor *e = &t[(*n)++];
    snprintf(e->name, sizeof(e->name), fmt, layer);
    e->slot = slot; e->offset = offset; e->transposed = transposed;
    e->ndim = cols ? 2 : 1;
    e->shape[0] = transposed ? cols : rows; e->shape[1] = transposed ? rows : cols;
}

// Every tensor of this config, in file order; t must hold 16 L + 4 entries.
static int hf_tensors(GPTConfig cfg, HfTensor *t) {
    Dims d = dims_of(cfg);
    size_t C = d.C, QKV = d.QKV, hd = d.hd, F = d.F;
    int n = 0;
    if (!d.llama) {
        hf_add(t, &n, 0, 0, d.V, C, 0, "wte.weight", 0);
        hf_add(t, &n, 1, 0, cfg.max_seq_len, C, 0, "wpe.weight", 0);
        for (int l = 0; l < d.L; l++) {
            hf_add(t, &n, 2, l * C, C, 0, 0, "h.%d.ln_1.weight", l);
            hf_add(t, &n, 3, l * C, C, 0, 0, "h.%d.ln_1.bias", l);
            hf_add(t, &n, 4, l * QKV * C, QKV, C, 1, "h.%d.attn.c_attn.weight", l);
            hf_add(t, &n, 5, l * QKV, QKV, 0, 0, "h.%d.attn.c_attn.bias", l);
            hf_add(t, &n, 6, l * C * C, C, C, 1, "h.%d.attn.c_proj.weight", l);
            hf_add(t, &n, 7, l * C, C, 0, 0, "h.%d.attn.c_proj.bias", l);
            hf_add(t, &n, 8, l * C, C, 0, 0, "h.%d.ln_2.weight", l);
            hf_add(t, &n, 9, l * C, C, 0, 0, "h.%d.ln_2.bias", l);
            hf_add(t, &n, 10, l * F * C, F, C, 1, "h.%d.mlp.c_fc.weight", l);
            hf_add(t, &n, 11, l * F, F, 0, 0, "h.%d.mlp.c_fc.bias", l);
            hf_add(t, &n, 12, l * C * F, C, F, 1, "h.%d.mlp.c_proj.weight", l);
            hf_add(t, &n, 13, l * C, C, 0, 0, "h.%d.mlp.c_proj.bias", l);
        }
        hf_add(t, &n, 14, 0, C, 0, 0, "ln_f.weight", 0);
        hf_add(t, &n, 15, 0, C, 0, 0, "ln_f.bias", 0);
        return n;
    }
    size_t q = (size_t)d.NH * hd, kv = (size_t)d.KV * hd;
    hf_add(t, &n, 0, 0, d.V, C, 0, "model.embed_tokens.weight", 0);
    for (int l = 0; l < d.L; l++) {
        hf_add(t, &n, 2, l * C, C, 0, 0, "model.layers.%d.input_layernorm.weight", l);
        hf_add(t, &n, 4, l * QKV * C, q, C, 0, "model.layers.%d.self_attn.q_proj.weight", l);
        hf_add(t, &n, 4, l * QKV * C + q * C, kv, C, 0, "model.layers.%d.self_attn.k_proj.weight", l);
        hf_add(t, &n, 4, l * QKV * C + (q + kv) * C, kv, C, 0, "model.layers.%d.self_attn.v_proj.weight", l);
        if (cfg.qkv_bias) {
            hf_add(t, &n, 5, l * QKV, q, 0, 0, "model.layers.%d.self_attn.q_proj.bias", l);
            hf_add(t, &n, 5, l * QKV + q, kv, 0, 0, "model.layers.%d.self_attn.k_proj.bias", l);
            hf_add(t, &n, 5, l * QKV + q + kv, kv, 0, 0, "model.layers.%d.self_attn.v_proj.bias", l);
        }
        if (cfg.qk_norm) {
            hf_add(t, &n, 16, l * hd, hd, 0, 0, "model.layers.%d.self_attn.q_norm.weight", l);
            hf_add(t, &n, 17, l * hd, hd, 0, 0, "model.layers.%d.self_attn.k_norm.weight", l);
        }
        hf_add(t, &n, 6, l * C * q, C, q, 0, "model.layers.%d.self_attn.o_proj.weight", l);
        hf_add(t, &n, 8, l * C, C, 0, 0, "model.layers.%d.post_attention_layernorm.weight", l);
        hf_add(t, &n, 10, l * 2 * F * C, F, C, 0, "model.layers.%d.mlp.gate_proj.weight", l);
        hf_add(t, &n, 10, l * 2 * F * C + F * C, F, C, 0, "model.layers.%d.mlp.up_proj.weight", l);
        hf_add(t, &n, 12, l * C * F, C, F, 0, "model.layers.%d.mlp.down_proj.weight", l);
    }
    hf_add(t, &n, 14, 0, C, 0, 0, "model.norm.weight", 0);
    if (cfg.untied) hf_add(t, &n, 18, 0, d.V, C, 0, "lm_head.weight", 0);
    return n;
}

// where slot s starts in the flat parameter block
static float *hf_slot(const GPT *model, int s) {
    float *p = model->params_memory;
    for (int i = 0; i < s; i++) p += model->param_sizes[i];
    return p;
}

static int hf_ends_with(const char *s, const char *suffix) {
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && !strcmp(s + n - m, suffix);
}

// Tensors that may be in a file without being weights: GPT-2's attention-mask buffers,
// old Llama files' RoPE frequencies, and a tied model's copy of its head.
static int hf_ignorable(const char *name, GPTConfig cfg) {
    if (cfg.arch == ARCH_GPT2)
        return hf_ends_with(name, ".attn.bias") || hf_ends_with(name, ".attn.masked_bias") || !strcmp(name, "lm_head.weight");
    return hf_ends_with(name, ".rotary_emb.inv_freq") || (!cfg.untied && !strcmp(name, "lm_head.weight"));
}

// GPT-2 files name their tensors "wte.weight" (the hub's gpt2) or "transformer.wte.weight"
// (saved from GPT2LMHeadModel): the name without that prefix
static const char *hf_base_name(const char *name, GPTConfig cfg) {
    return cfg.arch == ARCH_GPT2 && !strncmp(name, "transformer.", 12) ? name + 12 : name;
}

// ----------------------------------------------------------------------------
// reading a model directory

// DIR/model.safetensors.index.json when there is one, else DIR/model.safetensors
static const char *hf_weights_path(char *buf, size_t cap, const char *dir) {
    hf_path(buf, cap, dir, "model.safetensors.index.json");
    if (access(buf, F_OK) != 0) hf_path(buf, cap, dir, "model.safetensors");
    return buf;
}

// Loads a model directory into a freshly initialised model (0), or -1 with one message
// naming the file. The vocabulary's padding rows stay 0.
static int hf_load(GPT *model, const char *dir, char *err, size_t errlen) {
    GPTConfig cfg;
    if (hf_read_config(dir, &cfg, err, errlen)) return -1;
    char path[4096];
    StSet set;
    if (st_open(&set, hf_weights_path(path, sizeof(path), dir), err, errlen)) return -1;
    HfTensor *table = malloc((16 * (size_t)cfg.num_layers + 4) * sizeof(HfTensor));
    unsigned char *used = calloc(set.n_tensors + 1, 1);
    int n = hf_tensors(cfg, table), rc = 0;
    gpt_init(model, cfg);
    float *tmp = NULL;
    for (int i = 0; i < n && !rc; i++) {
        const HfTensor *e = &table[i];
        char prefixed[128];
        snprintf(prefixed, sizeof(prefixed), "transformer.%s", e->name);
        const StTensor *t = st_find(&set, e->name);
        if (!t && cfg.arch == ARCH_GPT2) t = st_find(&set, prefixed);
        if (!t) { rc = set_err(err, errlen, "%s: no tensor \"%s\" (the config needs it)", path, e->name); break; }
        used[t - set.tensors] = 1;
        if (st_check_shape(&set, t, e->ndim, e->shape, err, errlen)) { rc = -1; break; }
        float *dst = hf_slot(model, e->slot) + e->offset;
        if (!e->transposed) { rc = st_read_f32(&set, t, dst, t->numel, err, errlen); continue; }
        tmp = realloc(tmp, t->numel * sizeof(float)); // (in, out) -> (out, in)
        if ((rc = st_read_f32(&set, t, tmp, t->numel, err, errlen))) break;
        size_t in = e->shape[0], out = e->shape[1];
        for (size_t r = 0; r < in; r++) for (size_t c = 0; c < out; c++) dst[c * in + r] = tmp[r * out + c];
    }
    for (size_t i = 0; i < set.n_tensors && !rc; i++) {
        const char *name = set.tensors[i].name;
        if (!used[i] && !hf_ignorable(hf_base_name(name, cfg), cfg))
            rc = set_err(err, errlen, "%s: unexpected tensor \"%s\" (not part of the model its config.json describes)", path, name);
    }
    free(tmp); free(used); free(table);
    st_close(&set);
    if (rc) gpt_free(model);
    return rc;
}

// ----------------------------------------------------------------------------
// writing a model directory

// config.json for a model made here (a directory read in keeps its own), into buf
static void hf_config_json(GPTConfig c, const char *dtype, char *buf, size_t cap) {
    if (c.arch == ARCH_GPT2) {
        snprintf(buf, cap, "{\n  \"architectures\": [\"GPT2LMHeadModel\"],\n  \"model_type\": \"gpt2\",\n"
                        "  \"activation_function\": \"gelu_new\",\n  \"layer_norm_epsilon\": 1e-05,\n"
                        "  \"n_embd\": %d,\n  \"n_head\": %d,\n  \"n_layer\": %d,\n  \"n_positions\": %d,\n  \"n_ctx\": %d,\n"
                        "  \"vocab_size\": %d,\n  \"tie_word_embeddings\": true,\n  \"torch_dtype\": \"%s\"\n}\n",
                        c.channels, c.num_heads, c.num_layers, c.max_seq_len, c.max_seq_len, c.vocab_size, dtype);
    } else {
        const char *arch = c.qk_norm ? "Qwen3ForCausalLM" : c.qkv_bias ? "Qwen2ForCausalLM" : "LlamaForCausalLM";
        const char *type = c.qk_norm ? "qwen3" : c.qkv_bias ? "qwen2" : "llama";
        snprintf(buf, cap, "{\n  \"architectures\": [\"%s\"],\n  \"model_type\": \"%s\",\n  \"hidden_act\": \"silu\",\n"
                        "  \"hidden_size\": %d,\n  \"intermediate_size\": %d,\n  \"num_hidden_layers\": %d,\n"
                        "  \"num_attention_heads\": %d,\n  \"num_key_value_heads\": %d,\n  \"head_dim\": %d,\n"
                        "  \"rms_norm_eps\": %.9g,\n  \"rope_theta\": %.9g,\n  \"rope_scaling\": null,\n"
                        "  \"max_position_embeddings\": %d,\n  \"vocab_size\": %d,\n  \"attention_bias\": %s,\n"
                        "  \"tie_word_embeddings\": %s,\n  \"torch_dtype\": \"%s\"\n}\n",
                        arch, type, c.channels, c.ffn_dim, c.num_layers, c.num_heads, c.num_kv_heads, c.head_dim,
                        c.norm_eps, c.rope_theta, c.max_seq_len, c.vocab_size, c.qkv_bias ? "true" : "false",
                        c.untied ? "false" : "true", dtype);
    }
}

// the files of a model directory that are not weights, copied as they are
static const char *const HF_SIDE_FILES[] = {"config.json", "generation_config.json", "tokenizer.json",
                                            "tokenizer_config.json", "special_tokens_map.json", "vocab.json",
                                            "merges.txt", "added_tokens.json", NULL};

// len bytes to path atomically: PATH.tmp.PID, flushed, fsync'ed, renamed over path
static int hf_write_atomic(const char *path, const char *data, size_t len, char *err, size_t errlen) {
    char tmp[4200];
    snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid());
    FILE *f = fopen(tmp, "wb");
    int ok = f && fwrite(data, 1, len, f) == len;
    ok = f && fflush(f) == 0 && fsync(fileno(f)) == 0 && ok;
    ok = f && fclose(f) == 0 && ok;
    if (!ok || rename(tmp, path) != 0) { remove(tmp); return set_err(err, errlen, "%s: write failed: %s", path, strerror(errno)); }
    return 0;
}

static int hf_copy_file(const char *from, const char *to, char *err, size_t errlen) {
    char *data;
    size_t len;
    if (hf_read_small(from, ST_MAX_HEADER, &data, &len, err, errlen)) return -1;
    int rc = hf_write_atomic(to, data, len, err, errlen);
    free(data);
    return rc;
}

// Writes the model as a Hugging Face directory DIR (created if needed): model.safetensors
// in F32 or BF16, and config.json with the tokenizer files copied from src_dir when it is
// a model directory, else a config.json written here. Each file is written atomically.
static int hf_save(const GPT *model, const char *dir, StDtype dtype, const char *src_dir, char *err, size_t errlen) {
    if (mkdir(dir, 0755) != 0 && errno != EEXIST) return set_err(err, errlen, "%s: cannot create: %s", dir, strerror(errno));
    if (!hf_is_dir(dir)) return set_err(err, errlen, "%s: exists and is not a directory", dir);
    GPTConfig cfg = model->config;
    HfTensor *table = malloc((16 * (size_t)cfg.num_layers + 4) * sizeof(HfTensor));
    int n = hf_tensors(cfg, table);
    StWriteTensor *w = calloc(n, sizeof(StWriteTensor));
    float **copies = calloc(n, sizeof(float *));
    for (int i = 0; i < n; i++) {
        const HfTensor *e = &table[i];
        const float *src = hf_slot(model, e->slot) + e->offset;
        if (e->transposed) { // (out, in) -> (in, out)
            size_t in = e->shape[0], out = e->shape[1];
            copies[i] = malloc(in * out * sizeof(float));
            for (size_t r = 0; r < in; r++) for (size_t c = 0; c < out; c++) copies[i][r * out + c] = src[c * in + r];
            src = copies[i];
        }
        w[i] = (StWriteTensor){e->name, e->ndim, e->shape, src};
    }
    char path[4096], from[4096];
    const char *meta[] = {"format", "pt", NULL};
    int rc = st_write(hf_path(path, sizeof(path), dir, "model.safetensors"), w, n, dtype, meta, err, errlen);
    for (int i = 0; i < n; i++) free(copies[i]);
    free(copies); free(w); free(table);
    int has_src = src_dir && hf_is_dir(src_dir) && strcmp(src_dir, dir);
    for (int i = 0; !rc && has_src && HF_SIDE_FILES[i]; i++)
        if (access(hf_path(from, sizeof(from), src_dir, HF_SIDE_FILES[i]), F_OK) == 0)
            rc = hf_copy_file(from, hf_path(path, sizeof(path), dir, HF_SIDE_FILES[i]), err, errlen);
    if (!rc && !has_src) {
        char json[2048];
        hf_config_json(cfg, dtype == ST_BF16 ? "bfloat16" : "float32", json, sizeof(json));
        rc = hf_write_atomic(hf_path(path, sizeof(path), dir, "config.json"), json, strlen(json), err, errlen);
    }
    return rc;
}

#pragma GCC diagnostic pop
#endif // HF_H
