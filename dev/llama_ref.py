#!/usr/bin/python3
"""
Independent plain-PyTorch reference of the rlme.c Llama family (Qwen3, Qwen2.5, Llama /
SmolLM2 layouts of Hugging Face transformers), written from the architecture description
in the spec, not from the C code (and without transformers/safetensors, which are not
installed: the safetensors files are written and re-read by hand here).

Writes, under --outdir (default test/ref/llama), all little-endian:

  <variant>.bin          state file: weights, one batch (x, y, c), its logits, loss and
                         gradients, the losses of 10 AdamW steps and the params after them
  hf_<variant>/          a Hugging Face model directory holding the same weights as the
                         state file's params0: config.json, model.safetensors (F32),
                         score.txt, sample.txt
  hf_qwen3_bf16/         the qwen3 weights rounded to BF16 (round-to-nearest-even), with
                         score.txt / sample.txt computed from the rounded weights
  hf_qwen3_sharded/      the qwen3 F32 weights split over model-00001-of-00002.safetensors
                         and model-00002-of-00002.safetensors + model.safetensors.index.json
  hf_gpt2/               the weights of test/ref/model.bin (the llm.c GPT-2 checkpoint of
                         dev/gpt_ref.py) as a Hugging Face GPT-2 directory (Conv1D weights
                         transposed, the causal-mask buffers h.{i}.attn.bias included);
                         its score/sample references are test/ref/score.txt, sample.txt

Variants (V=101, Vp=128, maxT=24, L=2, C=32, NH=4 for all):
  qwen3      KV=2 hd=16 (!= C/NH) F=48 qk_norm, no biases, tied head, eps 1e-6, theta 1e6
  qwen2      KV=2 hd=8  F=64 q/k/v biases, tied head, eps 1e-6, theta 1e6
  llama_mha  KV=4 hd=8  F=80 untied lm_head, eps 1e-5, theta 1e4
  llama_gqa  KV=1 hd=8  F=64 untied lm_head, eps 1e-5, theta 1e5

The architecture (HF layouts):
  RMSNorm y = x * rsqrt(mean(x^2) + eps) * w; RoPE rotate-half with
  inv_freq[i] = 1/theta^(2i/hd) (float32), angle = pos*inv_freq, cos/sin of cat(angle, angle);
  grouped-query causal attention (query head h uses kv head h // (NH/KV)), scale 1/sqrt(hd);
  Qwen2: q/k/v biases; Qwen3: per-head RMSNorm of q and k (weights of size hd) after the
  projection, before RoPE; SwiGLU MLP down(silu(gate x) * up x);
  block h = x + o(attn(ln1(x))); out = h + down(swiglu(ln2(h))); final RMSNorm; lm_head
  (untied) or the embedding (tied). No position table, no norm biases.

Parameter slots (the C side's layout; order in memory = order in the state files; a
size-0 slot is absent):
   0 wte (Vp,C)  1 wpe 0  2 ln1w (L,C)  3 ln1b 0  4 qkvw (L,QKV,C) rows q;k;v
   5 qkvb (L,QKV) if qkv_bias  6 attprojw (L,C,NH*hd)  7 attprojb 0  8 ln2w (L,C)  9 ln2b 0
  10 fcw (L,2F,C) rows gate;up  11 fcb 0  12 fcprojw (L,C,F)  13 fcprojb 0  14 lnfw (C)
  15 lnfb 0  16 qnormw (L,hd) if qk_norm  17 knormw (L,hd) if qk_norm  18 lmhead (Vp,C) if untied
  QKV = (NH+2*KV)*hd; padding rows V..Vp-1 of wte / lmhead are exactly 0 and stay 0.

State file <variant>.bin (int32 / float32 little-endian, no padding between fields):
  header 256 x int32: [0]=20261202 [1]=1 [2]=B [3]=T [4]=nsteps [5]=V [6]=Vp [7]=maxT
     [8]=L [9]=NH [10]=KV [11]=C [12]=hd [13]=F [14]=qkv_bias [15]=qk_norm [16]=tied
     [17]=bits of float32 norm_eps [18]=bits of float32 rope_theta, rest 0
  params0  nparams float32 (slot order)       x  B*T int32    y  B*T int32    c  B*T float32
  logits   B*T*Vp float32 (padding columns exactly 0)         loss 1 float32
  grads    nparams float32 (slot order, padding rows 0)
  losses   nsteps float32 (loss before each AdamW step; losses[0] == loss)
  params   nparams float32 after nsteps steps
Objective L = -sum_{b,t} c[b,t] * log softmax(logits[b,t,:V])[y[b,t]] (c of both signs, zeros).
AdamW: lr 1e-3, betas (0.9, 0.95), eps 1e-8, weight decay 0.1 on slots wte, wpe, qkvw,
attprojw, fcw, fcprojw, lmhead only; global grad-norm clip 1.0 (coef = 1/(norm+1e-6) when
< 1); bias correction 1-b^t. B=3, T=11, nsteps=10; the scale of c puts the grad norm at
~1.3 at step 0, so the first steps are clipped and the last ones are not.

score.txt: line 1 comma-separated ids (15), line 2 the log-prob of each next id given its
prefix ("%.6f", 14 values). sample.txt: line 1 prompt ids (5), line 2 max_new (12), line 3
the greedy continuation ids. Both are computed in float64 from the stored weights (for
hf_qwen3_bf16: the BF16 values upcast) and checked against float32 (same greedy ids, log-probs
within ~2e-6). The score ids are the prompt, 6 tokens of its greedy continuation (high
log-probs) and 4 random ids (low log-probs).

config.json: the real keys of each model type (Qwen3-0.6B, Qwen2.5-0.5B, Llama/SmolLM2
configs) with the tiny model's values; vocab_size = V = 101 (not padded),
max_position_embeddings = 24, bos_token_id 0, eos_token_id 100. As in the real Qwen2.5
configs, hf_qwen2/config.json has no head_dim and no attention_bias key (head_dim = C/NH, the
q/k/v biases are implied by model_type qwen2). rope_theta is written as 1000000 (qwen3),
1000000.0 (qwen2), 10000.0 (llama_mha), 100000 (llama_gqa): real configs use both forms.
model.safetensors: the HF names (model.embed_tokens.weight (V, C) unpadded, separate
q_proj/k_proj/v_proj and gate_proj/up_proj, lm_head.weight only when untied), tensors in
sorted-name order, contiguous, header padded with spaces to a multiple of 8.

The weights: random init (embedding and lm_head N(0,0.2) with zero padding rows, matrices
and biases N(0,0.02), norm weights incl. q_norm/k_norm 1+N(0,0.1)), then 120 seeded Adam
steps (lr 5e-3, 8 sequences of 24) fitting a fixed random bigram permutation, so that greedy
decoding gives a varied continuation. Everything is computed in float32 and cross-checked
against float64 (~3e-7 relative). The script also checks: GQA attention against explicit
loops, RoPE against an explicit pairwise rotation, gradients with torch.autograd.gradcheck
on tiny float64 configs and by finite differences on the real ones, torch AdamW against a
hand-written AdamW, BF16 rounding on known values, every safetensors file re-read by a
separate parser (names, shapes, offsets) and run through an HF-layout forward written
separately, which must reproduce the slot-layout logits; and for hf_gpt2, that an HF GPT-2
forward (Conv1D) of the written file reproduces test/ref/score.txt and sample.txt.

Tolerances for the C tests (fp32 vs this fp32 reference; fp32 vs fp64 here is <~1e-6):
logits/loss/grads ~1e-5 relative, losses ~1e-5, final params ~1e-5 absolute EXCEPT, in
qwen2.bin, the key bias (qkvb[:, NH*hd : (NH+KV)*hd]): its entries on the lowest RoPE
frequencies (head dims 2, 3, 6, 7 at theta 1e6, hd 8) barely rotate over 11 positions, so
softmax's shift invariance makes their true gradient tiny (~1e-7 at dims 3, 7, ~1e-5 at
dims 2, 6, vs ~1e-3 for the rest); rounding
noise dominates it and Adam turns that into small random updates (fp32 vs fp64 here: ~7e-6).
Compare the final k-bias loosely (~1e-4). Everything else was checked to be reproducible
under a second fp32 rounding pattern (the batch rows permuted) to <3e-6.
Score log-probs: 1e-4; greedy ids exactly (the top-2 logit margin is >3 at every step).
Note: the fp32 bytes depend on the BLAS torch uses (here Debian's reference BLAS); rerunning
on the same machine gives identical bytes.

Usage: /usr/bin/python3 dev/llama_ref.py [--outdir test/ref/llama] [--gpt2-ref test/ref]
       (deterministic; ~25 s; exits 1 if any check fails)
"""
import argparse
import json
import math
import os
import struct
import sys

import numpy as np
import torch

# ----------------------------------------------------------------------------
# configuration

B, T, NSTEPS = 3, 11, 10
LR, BETA1, BETA2, EPS, WD, CLIP = 1e-3, 0.9, 0.95, 1e-8, 0.1, 1.0
SEED = 20261202
MAGIC, VERSION = 20261202, 1
N_PROMPT, MAX_NEW, N_SCORE = 5, 12, 15
SHAPE_STEPS, SHAPE_BATCH, SHAPE_LR = 120, 8, 5e-3

# theta_json: rope_theta as config.json writes it (real configs use both 1000000 and 1000000.0);
# c_scale: scale of the loss weights c, so the grad norm is ~1.3 at step 0; batch_seed: picks
# a batch whose 10 AdamW steps are reproducible across fp32 rounding patterns and whose
# losses stay away from 0 (both checked below)
COMMON = dict(V=101, Vp=128, maxT=24, L=2, C=32, NH=4)
VARIANTS = {
    "qwen3": dict(COMMON, family="qwen3", KV=2, hd=16, F=48, qkv_bias=0, qk_norm=1, tied=1,
                  eps=1e-6, theta=1e6, theta_json=1000000, c_scale=0.0064, batch_seed=3),
    "qwen2": dict(COMMON, family="qwen2", KV=2, hd=8, F=64, qkv_bias=1, qk_norm=0, tied=1,
                  eps=1e-6, theta=1e6, theta_json=1000000.0, c_scale=0.0096, batch_seed=1),
    "llama_mha": dict(COMMON, family="llama", KV=4, hd=8, F=80, qkv_bias=0, qk_norm=0, tied=0,
                      eps=1e-5, theta=1e4, theta_json=10000.0, c_scale=0.0065, batch_seed=2),
    "llama_gqa": dict(COMMON, family="llama", KV=1, hd=8, F=64, qkv_bias=0, qk_norm=0, tied=0,
                      eps=1e-5, theta=1e5, theta_json=100000, c_scale=0.0097, batch_seed=7),
}

SLOTS = ["wte", "wpe", "ln1w", "ln1b", "qkvw", "qkvb", "attprojw", "attprojb", "ln2w", "ln2b",
         "fcw", "fcb", "fcprojw", "fcprojb", "lnfw", "lnfb", "qnormw", "knormw", "lmhead"]
DECAYED = {"wte", "wpe", "qkvw", "attprojw", "fcw", "fcprojw", "lmhead"}


def slot_shapes(cfg):
    """The 19 slots in order, (name, shape); shape None = size 0 (absent)."""
    V, Vp, L, C, NH, KV, hd, F = (cfg[k] for k in ("V", "Vp", "L", "C", "NH", "KV", "hd", "F"))
    QKV = (NH + 2 * KV) * hd
    s = {
        "wte": (Vp, C), "ln1w": (L, C), "qkvw": (L, QKV, C),
        "qkvb": (L, QKV) if cfg["qkv_bias"] else None,
        "attprojw": (L, C, NH * hd), "ln2w": (L, C), "fcw": (L, 2 * F, C), "fcprojw": (L, C, F),
        "lnfw": (C,),
        "qnormw": (L, hd) if cfg["qk_norm"] else None,
        "knormw": (L, hd) if cfg["qk_norm"] else None,
        "lmhead": None if cfg["tied"] else (Vp, C),
    }
    return [(n, s.get(n)) for n in SLOTS]


def present(cfg):
    return [n for n, sh in slot_shapes(cfg) if sh is not None]


# ----------------------------------------------------------------------------
# the model, functional: p is a dict slot name -> tensor (slot shapes)

def rmsnorm(x, w, eps):
    return x * torch.rsqrt((x * x).mean(-1, keepdim=True) + eps) * w


def rope_tables(Tt, hd, theta, dtype):
    """cos, sin of shape (T, hd): inv_freq and angles in `dtype` (float32 as HF)."""
    inv_freq = 1.0 / (theta ** (torch.arange(0, hd, 2, dtype=torch.int64).to(dtype) / hd))
    ang = torch.arange(Tt, dtype=dtype).unsqueeze(1) * inv_freq.unsqueeze(0)  # (T, hd/2)
    emb = torch.cat([ang, ang], dim=-1)
    return emb.cos(), emb.sin()


def rotate_half(x):
    h = x.shape[-1] // 2
    return torch.cat([-x[..., h:], x[..., :h]], dim=-1)


def apply_rope(x, cos, sin):
    # x (B, H, T, hd); cos/sin (T, hd)
    return x * cos + rotate_half(x) * sin


def gqa_attention(q, k, v):
    """q (B,NH,T,hd), k/v (B,KV,T,hd) -> (B,NH,T,hd); causal; kv head of query head h = h // (NH/KV)."""
    nh, kv, hd, Tt = q.shape[1], k.shape[1], q.shape[-1], q.shape[2]
    rep = nh // kv
    k = k.repeat_interleave(rep, dim=1)
    v = v.repeat_interleave(rep, dim=1)
    att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(hd))
    mask = torch.ones(Tt, Tt, dtype=torch.bool).tril()
    att = torch.softmax(att.masked_fill(~mask, float("-inf")), dim=-1)
    return att @ v


def silu(z):
    return z * torch.sigmoid(z)


def forward(p, idx, cfg):
    """idx (B,T) int64 -> logits (B,T,Vp) over the padded vocab."""
    Bb, Tt = idx.shape
    L, NH, KV, hd, F, eps = (cfg[k] for k in ("L", "NH", "KV", "hd", "F", "eps"))
    dtype = p["wte"].dtype
    cos, sin = rope_tables(Tt, hd, cfg["theta"], dtype)
    x = p["wte"][idx]
    for l in range(L):
        h = rmsnorm(x, p["ln1w"][l], eps)
        qkv = h @ p["qkvw"][l].t()
        if cfg["qkv_bias"]:
            qkv = qkv + p["qkvb"][l]
        q, k, v = qkv.split([NH * hd, KV * hd, KV * hd], dim=-1)
        q = q.view(Bb, Tt, NH, hd)
        k = k.view(Bb, Tt, KV, hd)
        v = v.view(Bb, Tt, KV, hd)
        if cfg["qk_norm"]:
            q = rmsnorm(q, p["qnormw"][l], eps)
            k = rmsnorm(k, p["knormw"][l], eps)
        q = apply_rope(q.transpose(1, 2), cos, sin)
        k = apply_rope(k.transpose(1, 2), cos, sin)
        y = gqa_attention(q, k, v.transpose(1, 2))
        y = y.transpose(1, 2).reshape(Bb, Tt, NH * hd)
        x = x + y @ p["attprojw"][l].t()
        h = rmsnorm(x, p["ln2w"][l], eps)
        g, u = (h @ p["fcw"][l].t()).split([F, F], dim=-1)
        x = x + (silu(g) * u) @ p["fcprojw"][l].t()
    x = rmsnorm(x, p["lnfw"], eps)
    head = p["wte"] if cfg["tied"] else p["lmhead"]
    return x @ head.t()


def weighted_loss(logits, y, c, V):
    logp = torch.log_softmax(logits[..., :V], dim=-1)
    return -(c * logp.gather(-1, y.unsqueeze(-1)).squeeze(-1)).sum()


# ----------------------------------------------------------------------------
# init and shaping

def init_params(cfg, gen):
    def n(shape, std):
        return torch.randn(shape, generator=gen, dtype=torch.float32) * std
    p = {}
    for name, shape in slot_shapes(cfg):
        if shape is None:
            continue
        if name in ("wte", "lmhead"):
            t = n(shape, 0.2)
            t[cfg["V"]:] = 0.0
        elif name in ("ln1w", "ln2w", "lnfw", "qnormw", "knormw"):
            t = 1.0 + n(shape, 0.1)
        else:
            t = n(shape, 0.02)
        p[name] = t
    return p


def shape_params(p, cfg, gen, steps=SHAPE_STEPS, batch=SHAPE_BATCH, lr=SHAPE_LR):
    """SHAPE_STEPS Adam steps fitting a fixed random bigram permutation (next = perm[cur]), mean
    cross-entropy over the real vocab only, so padding rows get zero gradient and stay 0."""
    V, maxT = cfg["V"], cfg["maxT"]
    perm = torch.randperm(V, generator=gen)
    q = {k: v.clone().requires_grad_(True) for k, v in p.items()}
    opt = torch.optim.Adam(list(q.values()), lr=lr)
    for _ in range(steps):
        seq = [torch.randint(0, V, (batch,), generator=gen)]
        for _ in range(maxT):
            seq.append(perm[seq[-1]])
        seq = torch.stack(seq, 1)
        logits = forward(q, seq[:, :-1], cfg)
        loss = torch.nn.functional.cross_entropy(logits[..., :V].reshape(-1, V), seq[:, 1:].reshape(-1))
        opt.zero_grad()
        loss.backward()
        opt.step()
    out = {k: v.detach().clone() for k, v in q.items()}
    for n in ("wte", "lmhead"):
        if n in out:
            assert torch.all(out[n][V:] == 0)
    return out, loss.item()


def make_batch(cfg, seed):
    gen = torch.Generator().manual_seed(seed)
    V = cfg["V"]
    x = torch.randint(0, V, (B, T), generator=gen)
    y = torch.randint(0, V, (B, T), generator=gen)
    c = torch.randn(B, T, generator=gen)
    c[torch.rand(B, T, generator=gen) < 0.2] = 0.0
    c[0, 0], c[1, 5], c[2, 10] = 0.0, -0.5, 0.0     # guaranteed zero and negative
    c = (c * cfg["c_scale"]).float()
    assert (c > 0).any() and (c < 0).any() and (c == 0).any()
    return x, y, c


# ----------------------------------------------------------------------------
# training: torch.optim.AdamW + clip_grad_norm_, and a hand-written AdamW

def train_torch(p0, x, y, c, cfg, dtype, nsteps=NSTEPS):
    names = present(cfg)
    p = {k: v.detach().to(dtype).clone().requires_grad_(True) for k, v in p0.items()}
    opt = torch.optim.AdamW(
        [{"params": [p[n] for n in names if n in DECAYED], "weight_decay": WD},
         {"params": [p[n] for n in names if n not in DECAYED], "weight_decay": 0.0}],
        lr=LR, betas=(BETA1, BETA2), eps=EPS, foreach=False)
    losses, norms = [], []
    for _ in range(nsteps):
        loss = weighted_loss(forward(p, x, cfg), y, c.to(dtype), cfg["V"])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        norm = torch.nn.utils.clip_grad_norm_([p[n] for n in names], CLIP)
        losses.append(loss.item())
        norms.append(norm.item())
        opt.step()
    return losses, norms, {k: v.detach() for k, v in p.items()}


def train_manual(p0, x, y, c, cfg, dtype, nsteps=NSTEPS):
    names = present(cfg)
    p = {k: v.detach().to(dtype).clone() for k, v in p0.items()}
    m = {k: torch.zeros_like(v) for k, v in p.items()}
    v2 = {k: torch.zeros_like(v) for k, v in p.items()}
    losses = []
    for step in range(1, nsteps + 1):
        pp = {k: t.clone().requires_grad_(True) for k, t in p.items()}
        loss = weighted_loss(forward(pp, x, cfg), y, c.to(dtype), cfg["V"])
        g = dict(zip(names, torch.autograd.grad(loss, [pp[n] for n in names])))
        norm = math.sqrt(sum(float((gi.double() ** 2).sum()) for gi in g.values()))
        coef = CLIP / (norm + 1e-6)
        losses.append(loss.item())
        with torch.no_grad():
            for n in names:
                gi = g[n] * coef if coef < 1.0 else g[n]
                m[n] = BETA1 * m[n] + (1 - BETA1) * gi
                v2[n] = BETA2 * v2[n] + (1 - BETA2) * gi * gi
                mhat = m[n] / (1 - BETA1 ** step)
                vhat = v2[n] / (1 - BETA2 ** step)
                wd = WD if n in DECAYED else 0.0
                p[n] = p[n] - LR * (mhat / (torch.sqrt(vhat) + EPS) + wd * p[n])
    return losses, p


# ----------------------------------------------------------------------------
# checks bookkeeping

def rel_err(a, b):
    a, b = a.double(), b.double()
    return float((a - b).abs().max() / b.abs().max().clamp_min(1e-30))


def check(name, err, tol):
    ok = err <= tol
    print(f"  {'OK  ' if ok else 'FAIL'} {name}: {err:.3e} (tol {tol:.0e})")
    if not ok:
        check.failed = True


check.failed = False


def require(cond, what):
    print(f"  {'OK  ' if cond else 'FAIL'} {what}")
    if not cond:
        check.failed = True


def f32_bits(x):
    return int(np.array([x], dtype="<f4").view("<i4")[0])


def flat_f32(tensors):
    return np.concatenate([t.detach().to(torch.float32).numpy().ravel() for t in tensors]).astype("<f4")


# ----------------------------------------------------------------------------
# safetensors (written by hand) and BF16

def bf16_bits(a):
    """float32 array -> uint16 BF16 bits, round to nearest even (finite inputs)."""
    u = np.ascontiguousarray(a, dtype="<f4").view("<u4").astype(np.uint64)
    r = (u + 0x7FFF + ((u >> 16) & 1)) >> 16
    return r.astype("<u2")


def bf16_to_f32(bits):
    return (bits.astype("<u4") << 16).view("<f4")


def write_safetensors(path, tensors, dtype="F32"):
    """tensors: dict name -> float32 numpy array. Sorted-name order, contiguous."""
    names = sorted(tensors)
    header = {"__metadata__": {"format": "pt"}}
    blobs, off = [], 0
    for n in names:
        a = np.ascontiguousarray(tensors[n], dtype="<f4")
        b = a.tobytes() if dtype == "F32" else bf16_bits(a).tobytes()
        header[n] = {"dtype": dtype, "shape": list(a.shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((-len(h)) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)
    return off


def parse_safetensors(path):
    """Separate reader; validates the layout. Returns dict name -> float32 numpy array, dtypes."""
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack_from("<Q", data, 0)
    assert n % 8 == 0 and 8 + n <= len(data), "bad header length"
    hdr = json.loads(data[8:8 + n].decode("utf-8"))
    assert hdr.pop("__metadata__") == {"format": "pt"}
    body = data[8 + n:]
    items = sorted(hdr.items(), key=lambda kv: kv[1]["data_offsets"][0])
    assert [k for k, _ in items] == sorted(hdr), "tensors not stored in sorted-name order"
    out, dts, pos = {}, {}, 0
    for name, info in items:
        b, e = info["data_offsets"]
        size = {"F32": 4, "BF16": 2, "F16": 2}[info["dtype"]]
        assert b == pos and e - b == size * int(np.prod(info["shape"], dtype=np.int64)), f"bad offsets {name}"
        raw = body[b:e]
        if info["dtype"] == "F32":
            a = np.frombuffer(raw, dtype="<f4")
        elif info["dtype"] == "BF16":
            a = (np.frombuffer(raw, dtype="<u2").astype("<u4") << 16).view("<f4")
        else:
            a = np.frombuffer(raw, dtype="<f2").astype("<f4")
        out[name] = a.reshape(info["shape"]).copy()
        dts[name] = info["dtype"]
        pos = e
    assert pos == len(body), "trailing bytes"
    return out, dts


# ----------------------------------------------------------------------------
# HF layout: names, conversion both ways, config.json, and an HF-layout forward

def slots_to_hf(p, cfg):
    V, L, NH, KV, hd, F = (cfg[k] for k in ("V", "L", "NH", "KV", "hd", "F"))
    a = {k: v.detach().to(torch.float32).numpy() for k, v in p.items()}
    sd = {"model.embed_tokens.weight": a["wte"][:V], "model.norm.weight": a["lnfw"]}
    if not cfg["tied"]:
        sd["lm_head.weight"] = a["lmhead"][:V]
    nq, nk = NH * hd, KV * hd
    for l in range(L):
        pre = f"model.layers.{l}."
        sd[pre + "input_layernorm.weight"] = a["ln1w"][l]
        sd[pre + "post_attention_layernorm.weight"] = a["ln2w"][l]
        w = a["qkvw"][l]
        sd[pre + "self_attn.q_proj.weight"] = w[:nq]
        sd[pre + "self_attn.k_proj.weight"] = w[nq:nq + nk]
        sd[pre + "self_attn.v_proj.weight"] = w[nq + nk:]
        if cfg["qkv_bias"]:
            b = a["qkvb"][l]
            sd[pre + "self_attn.q_proj.bias"] = b[:nq]
            sd[pre + "self_attn.k_proj.bias"] = b[nq:nq + nk]
            sd[pre + "self_attn.v_proj.bias"] = b[nq + nk:]
        if cfg["qk_norm"]:
            sd[pre + "self_attn.q_norm.weight"] = a["qnormw"][l]
            sd[pre + "self_attn.k_norm.weight"] = a["knormw"][l]
        sd[pre + "self_attn.o_proj.weight"] = a["attprojw"][l]
        sd[pre + "mlp.gate_proj.weight"] = a["fcw"][l][:F]
        sd[pre + "mlp.up_proj.weight"] = a["fcw"][l][F:]
        sd[pre + "mlp.down_proj.weight"] = a["fcprojw"][l]
    return {k: np.ascontiguousarray(v) for k, v in sd.items()}


def hf_to_slots(sd, cfg):
    """Inverse of slots_to_hf (pads the vocab); used to check the round trip bitwise."""
    V, Vp, L = cfg["V"], cfg["Vp"], cfg["L"]
    def pad(w):
        out = np.zeros((Vp, w.shape[1]), dtype="<f4"); out[:V] = w; return out
    lay = lambda l, s: sd[f"model.layers.{l}.{s}"]
    p = {"wte": pad(sd["model.embed_tokens.weight"]),
         "ln1w": np.stack([lay(l, "input_layernorm.weight") for l in range(L)]),
         "qkvw": np.stack([np.concatenate([lay(l, f"self_attn.{x}_proj.weight") for x in "qkv"]) for l in range(L)]),
         "attprojw": np.stack([lay(l, "self_attn.o_proj.weight") for l in range(L)]),
         "ln2w": np.stack([lay(l, "post_attention_layernorm.weight") for l in range(L)]),
         "fcw": np.stack([np.concatenate([lay(l, "mlp.gate_proj.weight"), lay(l, "mlp.up_proj.weight")]) for l in range(L)]),
         "fcprojw": np.stack([lay(l, "mlp.down_proj.weight") for l in range(L)]),
         "lnfw": sd["model.norm.weight"]}
    if cfg["qkv_bias"]:
        p["qkvb"] = np.stack([np.concatenate([lay(l, f"self_attn.{x}_proj.bias") for x in "qkv"]) for l in range(L)])
    if cfg["qk_norm"]:
        p["qnormw"] = np.stack([lay(l, "self_attn.q_norm.weight") for l in range(L)])
        p["knormw"] = np.stack([lay(l, "self_attn.k_norm.weight") for l in range(L)])
    if not cfg["tied"]:
        p["lmhead"] = pad(sd["lm_head.weight"])
    return {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in p.items()}


def hf_config(cfg, torch_dtype="float32"):
    """config.json with the real keys of the model type (values of the tiny model)."""
    fam = cfg["family"]
    V, L, C, NH, KV, hd, F, maxT = (cfg[k] for k in ("V", "L", "C", "NH", "KV", "hd", "F", "maxT"))
    if fam == "qwen3":   # as Qwen/Qwen3-0.6B
        return {
            "architectures": ["Qwen3ForCausalLM"], "attention_bias": False, "attention_dropout": 0.0,
            "bos_token_id": 0, "eos_token_id": V - 1, "head_dim": hd, "hidden_act": "silu",
            "hidden_size": C, "initializer_range": 0.02, "intermediate_size": F,
            "max_position_embeddings": maxT, "max_window_layers": L, "model_type": "qwen3",
            "num_attention_heads": NH, "num_hidden_layers": L, "num_key_value_heads": KV,
            "rms_norm_eps": cfg["eps"], "rope_scaling": None, "rope_theta": cfg["theta_json"],
            "sliding_window": None, "tie_word_embeddings": bool(cfg["tied"]),
            "torch_dtype": torch_dtype, "transformers_version": "4.51.0", "use_cache": True,
            "use_sliding_window": False, "vocab_size": V}
    if fam == "qwen2":   # as Qwen/Qwen2.5-0.5B: no head_dim / attention_bias keys (biases implied)
        return {
            "architectures": ["Qwen2ForCausalLM"], "attention_dropout": 0.0,
            "bos_token_id": 0, "eos_token_id": V - 1, "hidden_act": "silu",
            "hidden_size": C, "initializer_range": 0.02, "intermediate_size": F,
            "max_position_embeddings": maxT, "max_window_layers": L, "model_type": "qwen2",
            "num_attention_heads": NH, "num_hidden_layers": L, "num_key_value_heads": KV,
            "rms_norm_eps": cfg["eps"], "rope_scaling": None, "rope_theta": cfg["theta_json"],
            "sliding_window": maxT, "tie_word_embeddings": bool(cfg["tied"]),
            "torch_dtype": torch_dtype, "transformers_version": "4.43.1", "use_cache": True,
            "use_sliding_window": False, "vocab_size": V}
    assert fam == "llama"  # as HuggingFaceTB/SmolLM2 / meta-llama (untied here)
    return {
        "architectures": ["LlamaForCausalLM"], "attention_bias": False, "attention_dropout": 0.0,
        "bos_token_id": 0, "eos_token_id": V - 1, "head_dim": hd, "hidden_act": "silu",
        "hidden_size": C, "initializer_range": 0.02, "intermediate_size": F,
        "max_position_embeddings": maxT, "mlp_bias": False, "model_type": "llama",
        "num_attention_heads": NH, "num_hidden_layers": L, "num_key_value_heads": KV,
        "pretraining_tp": 1, "rms_norm_eps": cfg["eps"], "rope_scaling": None,
        "rope_theta": cfg["theta_json"], "tie_word_embeddings": bool(cfg["tied"]),
        "torch_dtype": torch_dtype, "transformers_version": "4.45.0", "use_cache": True,
        "vocab_size": V}


def hf_forward(sd, hc, ids):
    """Forward straight from an HF state dict + config.json, float64, written differently
    from forward(): explicit pairwise RoPE rotation, repeat_kv by expand, per-head qk-norm
    loop. ids (T,) -> logits (T, V)."""
    g = lambda n: torch.from_numpy(np.asarray(sd[n], dtype=np.float64))
    C, NH, KV, L = hc["hidden_size"], hc["num_attention_heads"], hc["num_key_value_heads"], hc["num_hidden_layers"]
    hd = hc.get("head_dim", C // NH)
    eps, theta = hc["rms_norm_eps"], hc["rope_theta"]
    bias = hc["model_type"] == "qwen2" or hc.get("attention_bias", False)
    qkn = hc["model_type"] == "qwen3"
    Tt = len(ids)
    def norm(x, w):
        return w * (x / torch.sqrt((x ** 2).mean(-1, keepdim=True) + eps))
    def lin(x, pre, b=False):
        y = x @ g(pre + ".weight").T
        return y + g(pre + ".bias") if b else y
    half = hd // 2
    freqs = torch.tensor([1.0 / theta ** (2 * i / hd) for i in range(half)], dtype=torch.float64)
    def rope(x):  # x (H, T, hd): rotate each pair (i, i+hd/2) by pos*freq[i]
        out = x.clone()
        for t in range(Tt):
            a = t * freqs
            c, s = torch.cos(a), torch.sin(a)
            x1, x2 = x[:, t, :half], x[:, t, half:]
            out[:, t, :half] = x1 * c - x2 * s
            out[:, t, half:] = x2 * c + x1 * s
        return out
    x = g("model.embed_tokens.weight")[torch.as_tensor(ids)]
    for l in range(L):
        pre = f"model.layers.{l}."
        h = norm(x, g(pre + "input_layernorm.weight"))
        q = lin(h, pre + "self_attn.q_proj", bias).view(Tt, NH, hd).permute(1, 0, 2)
        k = lin(h, pre + "self_attn.k_proj", bias).view(Tt, KV, hd).permute(1, 0, 2)
        v = lin(h, pre + "self_attn.v_proj", bias).view(Tt, KV, hd).permute(1, 0, 2)
        if qkn:
            q = torch.stack([norm(q[i], g(pre + "self_attn.q_norm.weight")) for i in range(NH)])
            k = torch.stack([norm(k[i], g(pre + "self_attn.k_norm.weight")) for i in range(KV)])
        q, k = rope(q), rope(k)
        rep = NH // KV
        k = k[:, None].expand(KV, rep, Tt, hd).reshape(NH, Tt, hd)
        v = v[:, None].expand(KV, rep, Tt, hd).reshape(NH, Tt, hd)
        s = q @ k.transpose(1, 2) / math.sqrt(hd)
        s = s + torch.triu(torch.full((Tt, Tt), float("-inf"), dtype=torch.float64), 1)
        a = torch.softmax(s, -1) @ v
        x = x + lin(a.permute(1, 0, 2).reshape(Tt, NH * hd), pre + "self_attn.o_proj")
        h = norm(x, g(pre + "post_attention_layernorm.weight"))
        gg, uu = lin(h, pre + "mlp.gate_proj"), lin(h, pre + "mlp.up_proj")
        x = x + lin(torch.nn.functional.silu(gg) * uu, pre + "mlp.down_proj")
    x = norm(x, g("model.norm.weight"))
    head = g("model.embed_tokens.weight") if hc["tie_word_embeddings"] else g("lm_head.weight")
    return x @ head.T


# ----------------------------------------------------------------------------
# score.txt / sample.txt

def make_score_sample(fwd64, fwd32, V, gen, outdir, tag):
    """fwd64/fwd32: ids (T,) int64 -> logits (T, >=V). Writes score.txt, sample.txt."""
    def greedy(prompt):
        seq, min_margin = prompt.clone(), float("inf")
        for _ in range(MAX_NEW):
            lg = fwd64(seq)[-1, :V]
            top2 = lg.topk(2).values
            min_margin = min(min_margin, (top2[0] - top2[1]).item())
            seq = torch.cat([seq, lg.argmax().view(1)])
        return seq, min_margin
    # the first seeded prompt whose continuation does not cycle early (the model follows a
    # random permutation, whose cycles can be short)
    with torch.no_grad():
        for _ in range(20):
            prompt = torch.randint(0, V, (N_PROMPT,), generator=gen)
            seq, min_margin = greedy(prompt)
            if len(set(seq[N_PROMPT:].tolist())) >= MAX_NEW - 2:
                break
        s32 = prompt.clone()
        for _ in range(MAX_NEW):
            s32 = torch.cat([s32, fwd32(s32)[-1, :V].argmax().view(1)])
    require(torch.equal(seq, s32), f"{tag}: fp32 and fp64 greedy continuations agree")
    require(min_margin > 1e-3, f"{tag}: greedy min top-2 logit margin {min_margin:.4f} > 1e-3")
    cont = seq[N_PROMPT:]
    ndistinct = len(set(cont.tolist()))
    require(ndistinct >= MAX_NEW - 2, f"{tag}: greedy continuation varied ({ndistinct} distinct of {MAX_NEW})")
    with open(os.path.join(outdir, "sample.txt"), "w") as f:
        f.write(",".join(str(int(i)) for i in prompt) + "\n")
        f.write(f"{MAX_NEW}\n")
        f.write(",".join(str(int(i)) for i in cont) + "\n")
    ids = torch.cat([seq[:N_SCORE - 4], torch.randint(0, V, (4,), generator=gen)])
    with torch.no_grad():
        lp64 = torch.log_softmax(fwd64(ids)[:, :V].double(), -1)
        lp32 = torch.log_softmax(fwd32(ids)[:, :V], -1)
    score = [lp64[t - 1, ids[t]].item() for t in range(1, len(ids))]
    score32 = [lp32[t - 1, ids[t]].item() for t in range(1, len(ids))]
    check(f"{tag}: score fp32 vs fp64 (max abs)", max(abs(a - b) for a, b in zip(score, score32)), 1e-5)
    with open(os.path.join(outdir, "score.txt"), "w") as f:
        f.write(",".join(str(int(i)) for i in ids) + "\n")
        f.write(" ".join(f"{s:.6f}" for s in score) + "\n")
    print(f"  {tag}: prompt {prompt.tolist()} -> {cont.tolist()}")
    return ids, score


# ----------------------------------------------------------------------------
# self-tests of the building blocks

def selftests():
    print("self-tests:")
    g = torch.Generator().manual_seed(5)
    # GQA attention vs explicit loops
    worst = 0.0
    for nh, kv in [(4, 4), (4, 2), (4, 1), (6, 3)]:
        Bb, Tt, hd = 2, 7, 5
        q = torch.randn(Bb, nh, Tt, hd, generator=g, dtype=torch.float64)
        k = torch.randn(Bb, kv, Tt, hd, generator=g, dtype=torch.float64)
        v = torch.randn(Bb, kv, Tt, hd, generator=g, dtype=torch.float64)
        got = gqa_attention(q, k, v)
        ref = torch.zeros_like(got)
        for b in range(Bb):
            for h in range(nh):
                j = h // (nh // kv)
                for t in range(Tt):
                    sc = [sum(q[b, h, t, d].item() * k[b, j, s, d].item() for d in range(hd)) / math.sqrt(hd)
                          for s in range(t + 1)]
                    mx = max(sc)
                    w = [math.exp(s_ - mx) for s_ in sc]
                    z = sum(w)
                    for d in range(hd):
                        ref[b, h, t, d] = sum(w[s] / z * v[b, j, s, d].item() for s in range(t + 1))
        worst = max(worst, float((got - ref).abs().max()))
    check("GQA attention vs explicit loops (max abs, fp64)", worst, 1e-12)
    # RoPE rotate-half vs explicit pairwise rotation (fp64)
    hd, Tt, theta = 16, 9, 1e6
    x = torch.randn(3, Tt, hd, generator=g, dtype=torch.float64)
    cos, sin = rope_tables(Tt, hd, theta, torch.float64)
    got = apply_rope(x, cos, sin)
    ref = torch.zeros_like(x)
    for t in range(Tt):
        for i in range(hd // 2):
            a = t / theta ** (2 * i / hd)
            x1, x2 = x[:, t, i], x[:, t, i + hd // 2]
            ref[:, t, i] = x1 * math.cos(a) - x2 * math.sin(a)
            ref[:, t, i + hd // 2] = x2 * math.cos(a) + x1 * math.sin(a)
    check("RoPE rotate-half vs pairwise rotation (max abs, fp64)", float((got - ref).abs().max()), 1e-12)
    # RoPE keeps relative position: <R_t q, R_s k> depends on t-s only
    q1, k1 = x[0, 0], x[1, 0]
    d1 = float((apply_rope(q1.expand(Tt, hd), cos, sin)[5] * apply_rope(k1.expand(Tt, hd), cos, sin)[2]).sum())
    d2 = float((apply_rope(q1.expand(Tt, hd), cos, sin)[8] * apply_rope(k1.expand(Tt, hd), cos, sin)[5]).sum())
    check("RoPE scores depend on t-s only", abs(d1 - d2), 1e-12)
    # BF16 round-to-nearest-even on known values
    vals = np.array([1.0, -2.0, 3.14159265, 1 + 2 ** -8, 1 + 3 * 2 ** -8, 1 + 2 ** -8 + 2 ** -23,
                     -(1 + 2 ** -8 + 2 ** -23), 1e-6, 0.0, 65504.0, 0.1], dtype="<f4")
    want = np.array([0x3F80, 0xC000, 0x4049, 0x3F80, 0x3F82, 0x3F81, 0xBF81, 0x3586, 0x0000,
                     0x4780, 0x3DCD], dtype="<u2")
    got = bf16_bits(vals)
    require(np.array_equal(got, want), "BF16 RNE of known values " +
            " ".join(f"{int(v):04X}" for v in got))
    r = torch.randn(10000, generator=g) * 3
    tb = torch.from_numpy(bf16_to_f32(bf16_bits(r.numpy())))
    require(torch.equal(tb, r.to(torch.bfloat16).float()), "BF16 rounding == torch .to(bfloat16) on 10000 values")
    # gradcheck of the full model on tiny float64 configs, every flag combination: the
    # full Jacobian (every parameter entry by central differences) on the smallest one,
    # fast mode (random directional derivatives) on all
    tiny = dict(V=5, Vp=8, maxT=8, L=2, C=8, NH=4, F=4)
    combos = [dict(KV=1, hd=4, qkv_bias=1, qk_norm=1, tied=0, eps=1e-5, theta=1e5, C=4, F=3, fast=False),
              dict(KV=2, hd=4, qkv_bias=0, qk_norm=1, tied=1, eps=1e-6, theta=1e6, fast=True),
              dict(KV=2, hd=2, qkv_bias=1, qk_norm=0, tied=1, eps=1e-6, theta=1e6, fast=True),
              dict(KV=4, hd=2, qkv_bias=0, qk_norm=0, tied=0, eps=1e-5, theta=1e4, fast=True),
              dict(KV=1, hd=4, qkv_bias=1, qk_norm=1, tied=0, eps=1e-5, theta=1e5, fast=True)]
    for combo in combos:
        cfg = dict(tiny, **combo)
        p = init_params(cfg, g)
        names = present(cfg)
        ps = [p[n].double().requires_grad_(True) for n in names]
        xi = torch.randint(0, cfg["V"], (2, 5), generator=g)
        yi = torch.randint(0, cfg["V"], (2, 5), generator=g)
        ci = torch.randn(2, 5, generator=g, dtype=torch.float64)
        def f(*ts):
            return weighted_loss(forward(dict(zip(names, ts)), xi, cfg), yi, ci, cfg["V"])
        ok = torch.autograd.gradcheck(f, ps, eps=1e-6, atol=1e-8, rtol=1e-6, fast_mode=cfg["fast"])
        require(ok, f"gradcheck ({'fast mode' if cfg['fast'] else 'full Jacobian'}) fp64 tiny model C={cfg['C']} "
                    f"KV={cfg['KV']} hd={cfg['hd']} bias={cfg['qkv_bias']} qknorm={cfg['qk_norm']} "
                    f"tied={cfg['tied']} ({sum(t.numel() for t in ps)} params)")


# ----------------------------------------------------------------------------
# one Llama-family variant

def run_variant(name, cfg, out, seed):
    print(f"\n==== {name} ====")
    gen = torch.Generator().manual_seed(seed)
    V, Vp = cfg["V"], cfg["Vp"]
    names = present(cfg)
    p32, ce = shape_params(init_params(cfg, gen), cfg, gen)
    print(f"shaping: {SHAPE_STEPS} Adam steps on a bigram permutation, final CE {ce:.3f}")
    nparams = sum(p32[n].numel() for n in names)
    p64 = {k: v.double() for k, v in p32.items()}

    x, y, c = make_batch(cfg, seed + 7 + cfg["batch_seed"])
    nq = cfg["NH"] * cfg["hd"]
    KB = slice(nq, nq + cfg["KV"] * cfg["hd"])  # the k-bias columns of qkvb

    def fwd_bwd(p, dtype):
        pp = {k: v.to(dtype).clone().requires_grad_(True) for k, v in p.items()}
        logits = forward(pp, x, cfg)
        loss = weighted_loss(logits, y, c.to(dtype), V)
        loss.backward()
        return logits.detach(), loss.detach(), [pp[n].grad for n in names]
    logits32, loss32, g32 = fwd_bwd(p32, torch.float32)
    logits64, loss64, g64 = fwd_bwd(p64, torch.float64)
    gnorm = math.sqrt(sum(float((gg.double() ** 2).sum()) for gg in g32))
    lp = torch.log_softmax(logits32[..., :V], -1)
    print(f"nparams {nparams}; loss fp32 {loss32.item():.8f} fp64 {loss64.item():.8f}; grad norm {gnorm:.4f}; "
          f"logp range [{lp.min().item():.2f}, {lp.max().item():.2f}]")
    print("checks fp32 vs fp64:")
    check("logits rel", rel_err(logits32, logits64), 1e-5)
    check("loss rel", abs(loss32.item() - loss64.item()) / abs(loss64.item()), 1e-5)
    for n, a, b in zip(names, g32, g64):
        check(f"grad {n} rel", rel_err(a, b), 2e-5)
    require(bool(torch.all(logits32[..., V:] == 0)), "padding logits == 0")
    for n in ("wte", "lmhead"):
        if n in names:
            require(bool(torch.all(g32[names.index(n)][V:] == 0)), f"d{n} padding rows == 0")
    # finite differences on a few float64 parameter entries of every slot
    fd_gen = torch.Generator().manual_seed(seed + 3)
    worst = 0.0
    for n in names:
        gi = g64[names.index(n)]
        for _ in range(3):
            i = int(torch.randint(0, p64[n].numel(), (1,), generator=fd_gen))
            if n in ("wte", "lmhead"):
                i = i % (V * cfg["C"])
            h = 1e-6
            pa = {k: v.clone() for k, v in p64.items()}; pa[n].view(-1)[i] += h
            pb = {k: v.clone() for k, v in p64.items()}; pb[n].view(-1)[i] -= h
            fd = (weighted_loss(forward(pa, x, cfg), y, c.double(), V) -
                  weighted_loss(forward(pb, x, cfg), y, c.double(), V)).item() / (2 * h)
            worst = max(worst, abs(fd - gi.view(-1)[i].item()) / max(abs(gi.view(-1)[i].item()), 1e-3))
    check("fp64 grads vs finite differences, 3 entries per slot (rel)", worst, 1e-6)
    if cfg["qkv_bias"]:
        kb = g64[names.index("qkvb")][:, KB]
        print(f"  (info) k-bias grad max abs {float(kb.abs().max()):.3e}, per head dim "
              f"{[f'{v:.0e}' for v in kb.abs().view(cfg['L'], cfg['KV'], cfg['hd']).amax((0, 1)).tolist()]}")

    # 10 AdamW steps
    l32, n32, q32 = train_torch(p32, x, y, c, cfg, torch.float32)
    l64, n64, q64 = train_torch(p64, x, y, c, cfg, torch.float64)
    lm64, qm64 = train_manual(p64, x, y, c, cfg, torch.float64)
    print("step  loss(fp32)      loss(fp64)      gradnorm  clipped")
    for i in range(NSTEPS):
        print(f"{i:4d}  {l32[i]:.8f}  {l64[i]:.8f}  {n32[i]:8.4f}  {n32[i] > CLIP}")
    nclip = sum(v > CLIP for v in n32)
    require(0 < nclip < NSTEPS and n32[0] > CLIP, f"clipping in {nclip}/{NSTEPS} steps (first ones, not all)")
    require(l32[0] == loss32.item(), "losses[0] == loss")
    check("losses fp32 vs fp64 (max abs)", max(abs(a - b) for a, b in zip(l32, l64)), 1e-5)
    # the loss of a signed c can cross 0; keep it away, so that relative comparisons work
    require(min(abs(v) for v in l64) > 0.05, f"losses stay away from 0 (min |loss| {min(abs(v) for v in l64):.3f} > 0.05)")
    check("losses fp32 vs fp64, |diff|/(|loss|+1e-3)", max(abs(a - b) / (abs(b) + 1e-3) for a, b in zip(l32, l64)), 2e-6)
    # NOTE (qkv_bias variants): the k-bias entries on the lowest RoPE frequencies
    # (head dims i, i+hd/2 with pos*inv_freq[i] << 1; theta=1e6, hd=8: i=3, 2) have a
    # near-zero true gradient (softmax is invariant to adding q.bk to a whole row of scores,
    # and a slowly rotating bk almost does that), so their computed gradient is dominated by
    # rounding and Adam turns that into small random updates: compare the final k-bias
    # loosely (~1e-4); everything else is reproducible to ~1e-6.
    def pdiff(qa, qb, n):
        d = (qa[n].double() - qb[n].double()).abs()
        if n == "qkvb":
            d[:, KB] = 0
        return float(d.max())
    worst_n, worst = max(((n, pdiff(q32, q64, n)) for n in names), key=lambda t: t[1])
    check(f"final params fp32 vs fp64{', k-bias excluded' if cfg['qkv_bias'] else ''} "
          f"(max abs, worst {worst_n})", worst, 3e-6)
    # a second fp32 rounding pattern: the same batch with its rows permuted
    perm = [2, 0, 1]
    lp32, _, qp32 = train_torch(p32, x[perm], y[perm], c[perm], cfg, torch.float32)
    check("losses fp32 with permuted batch rows vs fp64 (max abs)", max(abs(a - b) for a, b in zip(lp32, l64)), 1e-5)
    check("final params fp32 with permuted batch rows vs fp64 (max abs)",
          max(pdiff(qp32, q64, n) for n in names), 3e-6)
    if cfg["qkv_bias"]:
        kbd = max(float((q[n][:, KB].double() - q64[n][:, KB]).abs().max()) for q in (q32, qp32) for n in ["qkvb"])
        print(f"  (info) final k-bias fp32 vs fp64 max abs diff {kbd:.3e} (rounding-driven, see note)")
        check("final k-bias fp32 vs fp64 (loose)", kbd, 1e-4)
    check("torch AdamW vs manual AdamW fp64 losses", max(abs(a - b) for a, b in zip(l64, lm64)), 1e-12)
    check("torch AdamW vs manual AdamW fp64 params",
          max(float((q64[n] - qm64[n]).abs().max()) for n in names), 1e-12)
    for n in ("wte", "lmhead"):
        if n in names:
            require(bool(torch.all(q32[n][V:] == 0)), f"{n} padding rows stay 0 after training")

    # state file
    header = np.zeros(256, dtype="<i4")
    header[:19] = [MAGIC, VERSION, B, T, NSTEPS, V, Vp, cfg["maxT"], cfg["L"], cfg["NH"], cfg["KV"],
                   cfg["C"], cfg["hd"], cfg["F"], cfg["qkv_bias"], cfg["qk_norm"], cfg["tied"],
                   f32_bits(cfg["eps"]), f32_bits(cfg["theta"])]
    spath = os.path.join(out, f"{name}.bin")
    with open(spath, "wb") as f:
        f.write(header.tobytes())
        f.write(flat_f32([p32[n] for n in names]).tobytes())
        f.write(x.numpy().astype("<i4").tobytes())
        f.write(y.numpy().astype("<i4").tobytes())
        f.write(c.numpy().astype("<f4").tobytes())
        f.write(logits32.numpy().astype("<f4").tobytes())
        f.write(np.array([loss32.item()], dtype="<f4").tobytes())
        f.write(flat_f32(g32).tobytes())
        f.write(np.array(l32, dtype="<f4").tobytes())
        f.write(flat_f32([q32[n] for n in names]).tobytes())
    expect = 1024 + 4 * (3 * B * T + B * T * Vp + 1 + 3 * nparams + NSTEPS)
    require(os.path.getsize(spath) == expect, f"{name}.bin: {expect} bytes")
    # re-read the state file's params0 by the header alone
    with open(spath, "rb") as f:
        data = f.read()
    h = struct.unpack_from("<256i", data, 0)
    rc = dict(V=h[5], Vp=h[6], maxT=h[7], L=h[8], NH=h[9], KV=h[10], C=h[11], hd=h[12], F=h[13],
              qkv_bias=h[14], qk_norm=h[15], tied=h[16])
    n_rd = sum(int(np.prod(s)) for _, s in slot_shapes(rc) if s is not None)
    require(n_rd == nparams and h[0] == MAGIC and h[2:5] == (B, T, NSTEPS), "state header re-read")
    params0_rd = np.frombuffer(data, dtype="<f4", count=nparams, offset=1024)
    require(np.array_equal(params0_rd, flat_f32([p32[n] for n in names])), "state params0 re-read bitwise")

    # HF directory (F32)
    hdir = os.path.join(out, f"hf_{name}")
    os.makedirs(hdir, exist_ok=True)
    sd = slots_to_hf(p32, cfg)
    hc = hf_config(cfg)
    with open(os.path.join(hdir, "config.json"), "w") as f:
        json.dump(hc, f, indent=2)
        f.write("\n")
    write_safetensors(os.path.join(hdir, "model.safetensors"), sd)
    sd_rd, dts = parse_safetensors(os.path.join(hdir, "model.safetensors"))
    require(set(sd_rd) == set(sd) and all(d == "F32" for d in dts.values()), f"hf_{name}: {len(sd)} tensor names")
    back = hf_to_slots(sd_rd, cfg)
    require(set(back) == set(names) and all(torch.equal(back[n], p32[n]) for n in names),
            f"hf_{name}: safetensors -> slots == params0 bitwise")
    with open(os.path.join(hdir, "config.json")) as f:
        hc_rd = json.load(f)
    ids = torch.randint(0, V, (13,), generator=gen)
    ref = forward(p64, ids.unsqueeze(0), cfg)[0, :, :V]
    check(f"hf_{name}: HF-layout forward from the file vs slot forward (fp64 max abs)",
          float((hf_forward(sd_rd, hc_rd, ids.tolist()) - ref).abs().max()), 1e-10)
    sgen = torch.Generator().manual_seed(seed + 1)
    make_score_sample(lambda s: forward(p64, s.unsqueeze(0), cfg)[0],
                      lambda s: forward(p32, s.unsqueeze(0), cfg)[0], V, sgen, hdir, f"hf_{name}")
    return dict(p32=p32, sd=sd, header=header, nparams=nparams, gnorm=gnorm, nclip=nclip, seed=seed)


def write_qwen3_extras(res, cfg, out):
    p32, sd = res["p32"], res["sd"]
    V = cfg["V"]
    # BF16
    print("\n==== hf_qwen3_bf16 ====")
    bdir = os.path.join(out, "hf_qwen3_bf16")
    os.makedirs(bdir, exist_ok=True)
    with open(os.path.join(bdir, "config.json"), "w") as f:
        json.dump(hf_config(cfg, "bfloat16"), f, indent=2)
        f.write("\n")
    write_safetensors(os.path.join(bdir, "model.safetensors"), sd, "BF16")
    sdb, dts = parse_safetensors(os.path.join(bdir, "model.safetensors"))
    require(set(sdb) == set(sd) and all(d == "BF16" for d in dts.values()), "hf_qwen3_bf16: names, BF16")
    require(all(np.array_equal(sdb[n], torch.from_numpy(sd[n]).to(torch.bfloat16).float().numpy()) for n in sd),
            "hf_qwen3_bf16: stored values == torch bf16 rounding of the fp32 weights")
    pb = hf_to_slots(sdb, cfg)
    dmax = max(float((pb[n] - p32[n]).abs().max()) for n in pb)
    print(f"  (info) bf16 rounding max abs change of the weights {dmax:.3e}")
    pb64 = {k: v.double() for k, v in pb.items()}
    sgen = torch.Generator().manual_seed(res["seed"] + 1)  # same prompt as hf_qwen3
    make_score_sample(lambda s: forward(pb64, s.unsqueeze(0), cfg)[0],
                      lambda s: forward(pb, s.unsqueeze(0), cfg)[0], V, sgen, bdir, "hf_qwen3_bf16")
    # sharded
    print("\n==== hf_qwen3_sharded ====")
    sdir = os.path.join(out, "hf_qwen3_sharded")
    os.makedirs(sdir, exist_ok=True)
    with open(os.path.join(sdir, "config.json"), "w") as f:
        json.dump(hf_config(cfg), f, indent=2)
        f.write("\n")
    f1, f2 = "model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"
    first = lambda n: n == "model.embed_tokens.weight" or n.startswith("model.layers.0.")
    s1 = {n: a for n, a in sd.items() if first(n)}
    s2 = {n: a for n, a in sd.items() if not first(n)}
    tot = write_safetensors(os.path.join(sdir, f1), s1) + write_safetensors(os.path.join(sdir, f2), s2)
    index = {"metadata": {"total_size": tot},
             "weight_map": {n: (f1 if first(n) else f2) for n in sorted(sd)}}
    with open(os.path.join(sdir, "model.safetensors.index.json"), "w") as f:
        json.dump(index, f, indent=2)
        f.write("\n")
    with open(os.path.join(sdir, "model.safetensors.index.json")) as f:
        idx = json.load(f)
    merged = {}
    for fn in sorted(set(idx["weight_map"].values())):
        part, _ = parse_safetensors(os.path.join(sdir, fn))
        require(all(idx["weight_map"][n] == fn for n in part), f"hf_qwen3_sharded: {fn} holds its weight_map names")
        merged.update(part)
    require(set(merged) == set(sd) and all(np.array_equal(merged[n], sd[n]) for n in sd),
            "hf_qwen3_sharded: merged shards == hf_qwen3 bitwise")
    require(idx["metadata"]["total_size"] == sum(a.nbytes for a in merged.values()), f"total_size {tot}")
    for fn in ("score.txt", "sample.txt"):
        with open(os.path.join(out, "hf_qwen3", fn)) as fi, open(os.path.join(sdir, fn), "w") as fo:
            fo.write(fi.read())


# ----------------------------------------------------------------------------
# GPT-2: test/ref/model.bin as a Hugging Face directory

def gpt2_forward_hf(sd, hc, ids):
    """HF GPT-2 forward from the HF state dict (Conv1D: y = x @ W + b), float64."""
    g = lambda n: torch.from_numpy(np.asarray(sd[n], dtype=np.float64))
    C, NH, L, eps = hc["n_embd"], hc["n_head"], hc["n_layer"], hc["layer_norm_epsilon"]
    Tt, hs = len(ids), C // NH
    ln = lambda x, p: torch.nn.functional.layer_norm(x, (C,), g(p + ".weight"), g(p + ".bias"), eps)
    conv = lambda x, p: x @ g(p + ".weight") + g(p + ".bias")
    gelu = lambda z: 0.5 * z * (1 + torch.tanh(math.sqrt(2 / math.pi) * (z + 0.044715 * z ** 3)))
    x = g("wte.weight")[torch.as_tensor(ids)] + g("wpe.weight")[:Tt]
    for l in range(L):
        pre = f"h.{l}."
        q, k, v = conv(ln(x, pre + "ln_1"), pre + "attn.c_attn").split(C, -1)
        q, k, v = (t.view(Tt, NH, hs).transpose(0, 1) for t in (q, k, v))
        mask = g(pre + "attn.bias")[0, 0, :Tt, :Tt] > 0
        s = (q @ k.transpose(1, 2) / math.sqrt(hs)).masked_fill(~mask, float("-inf"))
        a = (torch.softmax(s, -1) @ v).transpose(0, 1).reshape(Tt, C)
        x = x + conv(a, pre + "attn.c_proj")
        x = x + conv(gelu(conv(ln(x, pre + "ln_2"), pre + "mlp.c_fc")), pre + "mlp.c_proj")
    return ln(x, "ln_f") @ g("wte.weight").T


def write_gpt2(ref_dir, out):
    print("\n==== hf_gpt2 ====")
    with open(os.path.join(ref_dir, "model.bin"), "rb") as f:
        data = f.read()
    h = struct.unpack_from("<256i", data, 0)
    assert h[0] == 20240326 and h[1] == 3, "test/ref/model.bin: bad magic/version"
    maxT, V, L, NH, C, Vp = h[2:8]
    shapes = [("wte", (Vp, C)), ("wpe", (maxT, C)), ("ln1w", (L, C)), ("ln1b", (L, C)),
              ("qkvw", (L, 3 * C, C)), ("qkvb", (L, 3 * C)), ("attprojw", (L, C, C)), ("attprojb", (L, C)),
              ("ln2w", (L, C)), ("ln2b", (L, C)), ("fcw", (L, 4 * C, C)), ("fcb", (L, 4 * C)),
              ("fcprojw", (L, C, 4 * C)), ("fcprojb", (L, C)), ("lnfw", (C,)), ("lnfb", (C,))]
    flat = np.frombuffer(data, dtype="<f4", offset=1024)
    p, off = {}, 0
    for n, s in shapes:
        k = int(np.prod(s))
        p[n] = flat[off:off + k].reshape(s)
        off += k
    assert off == flat.size
    sd = {"wte.weight": p["wte"][:V], "wpe.weight": p["wpe"],
          "ln_f.weight": p["lnfw"], "ln_f.bias": p["lnfb"]}
    mask = np.tril(np.ones((maxT, maxT), dtype="<f4")).reshape(1, 1, maxT, maxT)
    for l in range(L):
        pre = f"h.{l}."
        sd[pre + "ln_1.weight"], sd[pre + "ln_1.bias"] = p["ln1w"][l], p["ln1b"][l]
        sd[pre + "attn.bias"] = mask
        sd[pre + "attn.c_attn.weight"], sd[pre + "attn.c_attn.bias"] = p["qkvw"][l].T, p["qkvb"][l]
        sd[pre + "attn.c_proj.weight"], sd[pre + "attn.c_proj.bias"] = p["attprojw"][l].T, p["attprojb"][l]
        sd[pre + "ln_2.weight"], sd[pre + "ln_2.bias"] = p["ln2w"][l], p["ln2b"][l]
        sd[pre + "mlp.c_fc.weight"], sd[pre + "mlp.c_fc.bias"] = p["fcw"][l].T, p["fcb"][l]
        sd[pre + "mlp.c_proj.weight"], sd[pre + "mlp.c_proj.bias"] = p["fcprojw"][l].T, p["fcprojb"][l]
    sd = {k: np.ascontiguousarray(v) for k, v in sd.items()}
    hc = {"activation_function": "gelu_new", "architectures": ["GPT2LMHeadModel"], "attn_pdrop": 0.1,
          "bos_token_id": V - 1, "embd_pdrop": 0.1, "eos_token_id": V - 1, "initializer_range": 0.02,
          "layer_norm_epsilon": 1e-05, "model_type": "gpt2", "n_ctx": maxT, "n_embd": C, "n_head": NH,
          "n_inner": None, "n_layer": L, "n_positions": maxT, "resid_pdrop": 0.1,
          "summary_activation": None, "summary_first_dropout": 0.1, "summary_proj_to_labels": True,
          "summary_type": "cls_index", "summary_use_proj": True,
          "task_specific_params": {"text-generation": {"do_sample": True, "max_length": 50}},
          "tie_word_embeddings": True, "torch_dtype": "float32", "vocab_size": V}
    gdir = os.path.join(out, "hf_gpt2")
    os.makedirs(gdir, exist_ok=True)
    with open(os.path.join(gdir, "config.json"), "w") as f:
        json.dump(hc, f, indent=2)
        f.write("\n")
    write_safetensors(os.path.join(gdir, "model.safetensors"), sd)
    sd_rd, _ = parse_safetensors(os.path.join(gdir, "model.safetensors"))
    require(set(sd_rd) == set(sd) and all(np.array_equal(sd_rd[n], sd[n]) for n in sd),
            f"hf_gpt2: {len(sd)} tensors re-read bitwise (V={V} maxT={maxT} L={L} NH={NH} C={C})")
    with open(os.path.join(gdir, "config.json")) as f:
        hc_rd = json.load(f)
    # the HF-layout forward must reproduce test/ref/score.txt and sample.txt
    with open(os.path.join(ref_dir, "score.txt")) as f:
        ids = [int(t) for t in f.readline().split(",")]
        want = [float(t) for t in f.readline().split()]
    lp = torch.log_softmax(gpt2_forward_hf(sd_rd, hc_rd, ids), -1)
    got = [lp[t - 1, ids[t]].item() for t in range(1, len(ids))]
    check("hf_gpt2: HF forward reproduces test/ref/score.txt (max abs)", max(abs(a - b) for a, b in zip(got, want)), 2e-6)
    with open(os.path.join(ref_dir, "sample.txt")) as f:
        prompt = [int(t) for t in f.readline().split(",")]
        n = int(f.readline())
        cont = [int(t) for t in f.readline().split(",")]
    seq = list(prompt)
    for _ in range(n):
        seq.append(int(gpt2_forward_hf(sd_rd, hc_rd, seq)[-1].argmax()))
    require(seq[len(prompt):] == cont, "hf_gpt2: HF forward reproduces test/ref/sample.txt")


# ----------------------------------------------------------------------------

def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser()
    ap.add_argument("--outdir", default=os.path.join(here, "..", "test", "ref", "llama"))
    ap.add_argument("--gpt2-ref", default=os.path.join(here, "..", "test", "ref"),
                    help="directory with the llm.c GPT-2 model.bin, score.txt, sample.txt")
    args = ap.parse_args()
    out = os.path.normpath(args.outdir)
    os.makedirs(out, exist_ok=True)
    torch.set_num_threads(1)  # deterministic reductions

    selftests()
    summary = []
    for k, (name, cfg) in enumerate(VARIANTS.items()):
        res = run_variant(name, cfg, out, SEED + 1000 * k)
        summary.append((name, res))
        if name == "qwen3":
            write_qwen3_extras(res, cfg, out)
    write_gpt2(os.path.normpath(args.gpt2_ref), out)

    print("\nsummary:")
    for name, res in summary:
        h = res["header"]
        print(f"  {name}.bin: nparams {res['nparams']}, grad norm at step 0 {res['gnorm']:.4f}, "
              f"clipped {res['nclip']}/{NSTEPS}, header[0:19] {h[:19].tolist()}")
    total = 0
    for root, _, files in os.walk(out):
        for fn in files:
            total += os.path.getsize(os.path.join(root, fn))
    print(f"  {out}: {total} bytes in all")
    if check.failed:
        print("SOME CHECKS FAILED")
        sys.exit(1)
    print("all checks passed")


if __name__ == "__main__":
    main()
