#!/usr/bin/python3
"""
Writes a Hugging Face model directory of a real model's shape with random weights, for
timing rlme.c at that shape where the real weights cannot be downloaded:

    python3 dev/random_model.py --shape qwen3-0.6b --tokenizer tokenizer.json --out models/random-qwen3/
    ./train_rlme rl --init models/random-qwen3 --data data/gsm8k --reward rlme --steps 1 ...

The directory holds config.json (the model's published config), model.safetensors (BF16,
matrices ~ N(0, 0.02), norms 1), the given tokenizer.json, and a tokenizer_config.json
whose eos_token is --eos (<|endoftext|>: a base model, so rl uses the plain template).
A random model never writes its eos token: every completion runs to --max-new, so an RL
step timed on it is the longest one of that shape. Needs numpy only.
"""
import argparse, json, os, shutil, struct
import numpy as np

# name: (layers, hidden, heads, kv heads, head dim, ffn, vocab, qkv bias, qk norm, eps, theta)
SHAPES = {
    "qwen3-0.6b": (28, 1024, 16, 8, 128, 3072, 151936, False, True, 1e-6, 1e6),
    "qwen2.5-0.5b": (24, 896, 14, 2, 64, 4864, 151936, True, False, 1e-6, 1e6),
    "smollm2-135m": (30, 576, 9, 3, 64, 1536, 49152, False, False, 1e-5, 1e5),
}


def bf16_bytes(x):
    """float32 array -> its BF16 bytes, rounded to nearest even"""
    u = np.ascontiguousarray(x, dtype=np.float32).view(np.uint32)
    u = (u + 0x7FFF + ((u >> 16) & 1)) >> 16
    return u.astype(np.uint16).tobytes()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--shape", required=True, choices=sorted(SHAPES))
    ap.add_argument("--tokenizer", required=True, help="the tokenizer.json to copy in")
    ap.add_argument("--out", required=True, help="the directory to write")
    ap.add_argument("--eos", default="<|endoftext|>", help="tokenizer_config.json's eos_token")
    ap.add_argument("--max-pos", type=int, default=32768, help="max_position_embeddings")
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    L, C, NH, KV, hd, F, V, qkv_bias, qk_norm, eps, theta = SHAPES[a.shape]
    rng = np.random.default_rng(a.seed)
    names, shapes = [], []

    def add(name, *shape):
        names.append(name); shapes.append(shape)

    add("model.embed_tokens.weight", V, C)
    for i in range(L):
        p = f"model.layers.{i}."
        add(p + "input_layernorm.weight", C)
        add(p + "post_attention_layernorm.weight", C)
        add(p + "self_attn.q_proj.weight", NH * hd, C)
        add(p + "self_attn.k_proj.weight", KV * hd, C)
        add(p + "self_attn.v_proj.weight", KV * hd, C)
        if qkv_bias:
            add(p + "self_attn.q_proj.bias", NH * hd)
            add(p + "self_attn.k_proj.bias", KV * hd)
            add(p + "self_attn.v_proj.bias", KV * hd)
        add(p + "self_attn.o_proj.weight", C, NH * hd)
        if qk_norm:
            add(p + "self_attn.q_norm.weight", hd)
            add(p + "self_attn.k_norm.weight", hd)
        add(p + "mlp.gate_proj.weight", F, C)
        add(p + "mlp.up_proj.weight", F, C)
        add(p + "mlp.down_proj.weight", C, F)
    add("model.norm.weight", C)

    header, offset = {"__metadata__": {"format": "pt"}}, 0
    for name, shape in zip(names, shapes):
        size = 2 * int(np.prod(shape))
        header[name] = {"dtype": "BF16", "shape": list(shape), "data_offsets": [offset, offset + size]}
        offset += size
    head = json.dumps(header, separators=(",", ":")).encode()
    head += b" " * (-len(head) % 8)
    os.makedirs(a.out, exist_ok=True)
    tmp = os.path.join(a.out, "model.safetensors.tmp")
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(head)) + head)
        for name, shape in zip(names, shapes):
            norm = name.endswith("norm.weight")
            x = np.ones(shape, np.float32) if norm else rng.standard_normal(shape, np.float32) * 0.02
            if name.endswith(".bias"): x = np.zeros(shape, np.float32)
            f.write(bf16_bytes(x))
    os.replace(tmp, os.path.join(a.out, "model.safetensors"))
    model_type = "qwen3" if qk_norm else "qwen2" if qkv_bias else "llama"
    config = {"architectures": [{"qwen3": "Qwen3ForCausalLM", "qwen2": "Qwen2ForCausalLM",
                                 "llama": "LlamaForCausalLM"}[model_type]],
              "model_type": model_type, "hidden_size": C, "intermediate_size": F, "num_hidden_layers": L,
              "num_attention_heads": NH, "num_key_value_heads": KV, "head_dim": hd, "vocab_size": V,
              "max_position_embeddings": a.max_pos, "rms_norm_eps": eps, "rope_theta": theta,
              "tie_word_embeddings": True, "hidden_act": "silu", "torch_dtype": "bfloat16"}
    if qkv_bias: config["attention_bias"] = True
    with open(os.path.join(a.out, "config.json"), "w") as f: json.dump(config, f, indent=2)
    with open(os.path.join(a.out, "tokenizer_config.json"), "w") as f:
        json.dump({"eos_token": a.eos, "model_max_length": a.max_pos}, f, indent=2)
    shutil.copyfile(a.tokenizer, os.path.join(a.out, "tokenizer.json"))
    print(f"wrote {a.out}: {a.shape}, {sum(int(np.prod(s)) for s in shapes):,} parameters (BF16)")


if __name__ == "__main__":
    main()
