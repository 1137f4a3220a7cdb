#!/usr/bin/python3
"""
Times PyTorch fp32 on random data, the baseline the C trainer is measured against: by default
one training step of the rlme.c GPT-2; with --shape NAME a real Llama-family shape (training
step, scoring forward and KV-cache decoding), like `train_rlme bench --shape NAME`.

GPT-2 (default): same architecture as dev/gpt_ref.py and model.h: learned wte+wpe, pre-LN
blocks (causal MHA, GELU-tanh MLP 4C), final LN, tied head over the vocab padded to a
multiple of 128, softmax/loss over the real vocab only. A step = forward + weighted loss
(c = 1/N) + backward + clip_grad_norm_(1.0) + AdamW (weight decay on the 2-D matrices only,
foreach implementation; torch 1.13 has no fused CPU AdamW) + zero_grad.

Attention: torch 1.13 has no public F.scaled_dot_product_attention (added in 2.0); it has
the private F._scaled_dot_product_attention, which on CPU is the same math composite as
the manual masked softmax. --attn auto (default) times both for a few steps and keeps
the faster; the choice is printed.

--shape qwen3-0.6b | qwen2.5-0.5b | smollm2-135m: the dims of BENCH_SHAPES in data/tools.h
(random weights; --layers/--heads/--channels/--vocab/--small/--attn are ignored):
  qwen3-0.6b    L=28 C=1024 NH=16 KV=8 hd=128 F=3072 V=151936 QK-norm         eps 1e-6 theta 1e6
  qwen2.5-0.5b  L=24 C=896  NH=14 KV=2 hd=64  F=4864 V=151936 q/k/v bias      eps 1e-6 theta 1e6
  smollm2-135m  L=30 C=576  NH=9  KV=3 hd=64  F=1536 V=49152                  eps 1e-5 theta 1e5
all with a tied head over V padded to a multiple of 128 (softmax over the real V). The model
is dev/llama_ref.py's functional forward (RMSNorm, RoPE rotate-half, fused q;k;v and
gate;up matrices as on the C side, attention = its gqa_attention: K/V repeat_interleave'd
to NH heads, then the explicit masked softmax), fed one leaf tensor per layer and slot
(a stacked (L, ...) tensor indexed per layer would make autograd add L full-size gradients).
Three timings, as `train_rlme bench`:
  train   forward + weighted NLL (c = 1/(B*T)) + backward + clip 1.0 + AdamW (lr 1e-4,
          betas 0.9/0.95, wd 0.1 on the matrices wte/qkvw/attprojw/fcw/fcprojw only), after
          --warmup steps (default 1 with --shape, as the C side), median of --steps
  score   forward + log-softmax over V + gather of the targets under torch.no_grad(), median
          of --steps passes (the C side: the mean of --steps passes)
  decode  B sequences with ragged prompts of 1 + (i % 8) random tokens (as the C side),
          T/2 new tokens each, temperature 1 (multinomial over softmax(logits[:V]), plus
          the sampled token's log-prob as the C side records), a batched per-layer KV
          cache; the ragged prompts are left-padded to the longest and the padding keys
          masked out (the prefill and every step compute all B rows over the same cache
          length); one timed run of prefill + sampling + T/2 - 1 decode steps
Prints train_tok_per_s=, score_tok_per_s=, decode_tok_per_s=, peak_rss_mib= (ru_maxrss), and
with --compare EXE also runs `EXE bench --shape NAME --batch B --seq T --threads N --steps S`
and prints c_*_tok_per_s= and ratio_train=, ratio_score=, ratio_decode= (C / PyTorch).
T >= 16 so that the prompts (<= 8) + T/2 new tokens fit the cache of T.

  /usr/bin/python3 dev/bench_torch.py                 # the bench config (5.07M params)
  /usr/bin/python3 dev/bench_torch.py --small         # the small default model
  /usr/bin/python3 dev/bench_torch.py --compare ./train_rlme   # also run the C bench
  /usr/bin/python3 dev/bench_torch.py --shape smollm2-135m --batch 1 --seq 256 --steps 3 --compare ./train_rlme

Prints `train_tok_per_s=<float>` (B*T / median step seconds), `ms_per_step=`, `threads=`.
"""
import argparse
import math
import os
import re
import statistics
import subprocess
import sys
import time

# the Debian torch calls OpenBLAS (pthread build) for matmuls, and OpenBLAS keeps its own
# thread pool that torch.set_num_threads does not resize: pin it to --threads before the
# import (same for OpenMP), so --threads 1 really is one thread.
def _early_threads():
    for i, arg in enumerate(sys.argv):
        if arg == "--threads" and i + 1 < len(sys.argv):
            return sys.argv[i + 1]
        if arg.startswith("--threads="):
            return arg.split("=", 1)[1]
    return "2"
for _v in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS"):
    os.environ[_v] = _early_threads()
# On a shared (oversubscribed) 2-core machine, OpenMP's default spin-waiting made the
# 2-thread step 4-7x slower than 1 thread; passive waiting fixes that. Override by
# setting OMP_WAIT_POLICY yourself.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import torch
import torch.nn as nn
import torch.nn.functional as F


class Block(nn.Module):
    def __init__(self, C, nh, attn):
        super().__init__()
        self.nh, self.attn = nh, attn
        self.ln1 = nn.LayerNorm(C, eps=1e-5)
        self.qkv = nn.Linear(C, 3 * C)       # [q | k | v]
        self.attproj = nn.Linear(C, C)
        self.ln2 = nn.LayerNorm(C, eps=1e-5)
        self.fc = nn.Linear(C, 4 * C)
        self.fcproj = nn.Linear(4 * C, C)

    def attention(self, h):
        B, T, C = h.shape
        hs = C // self.nh
        q, k, v = self.qkv(h).split(C, dim=-1)
        q = q.view(B, T, self.nh, hs).transpose(1, 2)
        k = k.view(B, T, self.nh, hs).transpose(1, 2)
        v = v.view(B, T, self.nh, hs).transpose(1, 2)
        if self.attn == "sdpa":
            y = F._scaled_dot_product_attention(q, k, v, is_causal=True)[0]
        else:
            att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(hs))
            mask = torch.ones(T, T, dtype=torch.bool, device=h.device).triu(1)
            att = att.masked_fill(mask, float("-inf")).softmax(-1)
            y = att @ v
        return self.attproj(y.transpose(1, 2).reshape(B, T, C))

    def forward(self, x):
        x = x + self.attention(self.ln1(x))
        x = x + self.fcproj(F.gelu(self.fc(self.ln2(x)), approximate="tanh"))
        return x


class GPT(nn.Module):
    def __init__(self, V, maxT, L, nh, C, attn):
        super().__init__()
        self.V, self.Vp = V, (V + 127) // 128 * 128
        self.wte = nn.Embedding(self.Vp, C)
        self.wpe = nn.Embedding(maxT, C)
        self.blocks = nn.ModuleList([Block(C, nh, attn) for _ in range(L)])
        self.lnf = nn.LayerNorm(C, eps=1e-5)
        for n, p in self.named_parameters():
            if p.dim() == 2:
                nn.init.normal_(p, std=0.02)
        with torch.no_grad():
            self.wte.weight[V:] = 0

    def forward(self, idx, targets, c):
        T = idx.shape[1]
        x = self.wte(idx) + self.wpe.weight[:T]
        for b in self.blocks:
            x = b(x)
        logits = self.lnf(x) @ self.wte.weight.t()        # tied head, (B,T,Vp)
        logp = logits[..., :self.V].log_softmax(-1)        # softmax over the real vocab
        return -(c * logp.gather(-1, targets.unsqueeze(-1)).squeeze(-1)).sum()


def make_step(model, opt, x, y, c):
    def step():
        loss = model(x, y, c)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        opt.zero_grad(set_to_none=True)
        return loss
    return step


def time_steps(step, warmup, steps):
    for _ in range(warmup):
        step()
    ts = []
    for _ in range(steps):
        t0 = time.perf_counter()
        step()
        ts.append(time.perf_counter() - t0)
    return ts


def bench(a, attn):
    torch.manual_seed(0)
    model = GPT(a.vocab, a.seq, a.layers, a.heads, a.channels, attn)
    decay = [p for p in model.parameters() if p.dim() == 2]
    nodecay = [p for p in model.parameters() if p.dim() != 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1},
                             {"params": nodecay, "weight_decay": 0.0}],
                            lr=1e-4, betas=(0.9, 0.95), eps=1e-8, foreach=True)
    x = torch.randint(0, a.vocab, (a.batch, a.seq))
    y = torch.randint(0, a.vocab, (a.batch, a.seq))
    c = torch.full((a.batch, a.seq), 1.0 / (a.batch * a.seq))
    nparams = sum(p.numel() for p in model.parameters())
    return model, make_step(model, opt, x, y, c), nparams


def run_c(a):
    exe = a.compare
    if not (os.path.isfile(exe) and os.access(exe, os.X_OK)):
        print(f"compare: {exe} not found or not executable (build it first); skipping")
        return None
    cmd = [exe, "bench", "--layers", str(a.layers), "--heads", str(a.heads),
           "--channels", str(a.channels), "--vocab", str(a.vocab), "--seq", str(a.seq),
           "--batch", str(a.batch), "--threads", str(a.threads)]
    print("compare: running " + " ".join(cmd), flush=True)
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=1800)
    except Exception as e:  # noqa: BLE001
        print(f"compare: failed to run: {e}")
        return None
    out = r.stdout + r.stderr
    m = re.findall(r"train_tok_per_s=([0-9.eE+-]+)", out)
    if r.returncode != 0 or not m:
        print(f"compare: C bench exited {r.returncode} without a train_tok_per_s= line "
              f"(the bench subcommand may not exist yet). Output tail:\n{out[-1500:]}")
        return None
    return float(m[-1])


# ----------------------------------------------------------------------------
# --shape: the Llama-family shapes of BENCH_SHAPES (data/tools.h), on dev/llama_ref.py's model

SHAPES = {
    "qwen3-0.6b": dict(V=151936, L=28, NH=16, KV=8, hd=128, C=1024, F=3072, qkv_bias=0, qk_norm=1,
                       tied=1, eps=1e-6, theta=1e6),
    "qwen2.5-0.5b": dict(V=151936, L=24, NH=14, KV=2, hd=64, C=896, F=4864, qkv_bias=1, qk_norm=0,
                         tied=1, eps=1e-6, theta=1e6),
    "smollm2-135m": dict(V=49152, L=30, NH=9, KV=3, hd=64, C=576, F=1536, qkv_bias=0, qk_norm=0,
                         tied=1, eps=1e-5, theta=1e5),
}
LAYERED = ("ln1w", "ln1b", "qkvw", "qkvb", "attprojw", "attprojb", "ln2w", "ln2b", "fcw", "fcb",
           "fcprojw", "fcprojb", "qnormw", "knormw")   # the (L, ...) slots, held per layer


def shape_params(lr, cfg):
    """Random weights in llama_ref's slot layout; layered slots as lists of L leaf tensors."""
    p = {}
    for name, shape in lr.slot_shapes(cfg):
        if shape is None:
            continue
        one = shape[1:] if name in LAYERED else shape
        if name in ("ln1w", "ln2w", "lnfw", "qnormw", "knormw"):
            make = lambda: torch.ones(one)
        elif name.endswith("b"):
            make = lambda: torch.zeros(one)
        else:
            make = lambda: torch.randn(one) * 0.02
        p[name] = [make().requires_grad_() for _ in range(cfg["L"])] if name in LAYERED else make().requires_grad_()
    with torch.no_grad():
        p["wte"][cfg["V"]:] = 0
    return p


@torch.no_grad()
def generate(lr, p, cfg, prompts, new):
    """Batched KV-cache sampling (temperature 1): prompts left-padded to the longest, padding
    keys masked; returns the (B, new) sampled ids and their log-probs."""
    L, NH, KV, hd, F, eps, V = (cfg[k] for k in ("L", "NH", "KV", "hd", "F", "eps", "V"))
    B, P = len(prompts), max(len(q) for q in prompts)
    S, rep = P + new, NH // KV
    pad = torch.tensor([P - len(q) for q in prompts])
    idx = torch.zeros(B, P, dtype=torch.long)
    for b, q in enumerate(prompts):
        idx[b, P - len(q):] = torch.tensor(q)
    Kc = [torch.zeros(B, KV, S, hd) for _ in range(L)]
    Vc = [torch.zeros(B, KV, S, hd) for _ in range(L)]
    cos, sin = lr.rope_tables(S, hd, cfg["theta"], torch.float32)
    kvalid = torch.arange(S)[None] >= pad[:, None]                           # (B, S)

    def step(idx, t0):   # idx (B, n) at cache positions t0..t0+n-1 -> last position's logits
        n = idx.shape[1]
        qpos = t0 + torch.arange(n)
        pos = (qpos[None] - pad[:, None]).clamp(min=0)                        # RoPE positions (B, n)
        c, s = cos[pos].unsqueeze(1), sin[pos].unsqueeze(1)                  # (B, 1, n, hd)
        keys = torch.arange(t0 + n)
        allow = (keys[None] <= qpos[:, None]) & (kvalid[:, None, :t0 + n] | (keys[None] == qpos[:, None]))
        allow = allow[:, None, None]                                         # (B, 1, 1, n, t0+n)
        x = p["wte"][idx]
        for l in range(L):
            h = lr.rmsnorm(x, p["ln1w"][l], eps)
            qkv = h @ p["qkvw"][l].t()
            if cfg["qkv_bias"]:
                qkv = qkv + p["qkvb"][l]
            q, k, v = qkv.split([NH * hd, KV * hd, KV * hd], dim=-1)
            q, k, v = q.view(B, n, NH, hd), k.view(B, n, KV, hd), v.view(B, n, KV, hd)
            if cfg["qk_norm"]:
                q, k = lr.rmsnorm(q, p["qnormw"][l], eps), lr.rmsnorm(k, p["knormw"][l], eps)
            Kc[l][:, :, t0:t0 + n] = lr.apply_rope(k.transpose(1, 2), c, s)
            Vc[l][:, :, t0:t0 + n] = v.transpose(1, 2)
            q = lr.apply_rope(q.transpose(1, 2), c, s).reshape(B, KV, rep, n, hd)   # head h -> kv h // rep
            att = (q @ Kc[l][:, :, None, :t0 + n].transpose(-2, -1)) * (1.0 / math.sqrt(hd))
            att = att.masked_fill(~allow, float("-inf")).softmax(-1)
            y = (att @ Vc[l][:, :, None, :t0 + n]).reshape(B, NH, n, hd).transpose(1, 2).reshape(B, n, NH * hd)
            x = x + y @ p["attprojw"][l].t()
            g, u = (lr.rmsnorm(x, p["ln2w"][l], eps) @ p["fcw"][l].t()).split([F, F], dim=-1)
            x = x + (lr.silu(g) * u) @ p["fcprojw"][l].t()
        return lr.rmsnorm(x[:, -1], p["lnfw"], eps) @ p["wte"].t()          # tied head, (B, Vp)

    logits, out, logp = step(idx, 0), [], []
    for i in range(new):
        lp = logits[:, :V].log_softmax(-1)
        y = torch.multinomial(lp.exp(), 1)                                   # temperature 1
        out.append(y)
        logp.append(lp.gather(-1, y))
        if i + 1 < new:
            logits = step(y, P + i)
    return torch.cat(out, 1), torch.cat(logp, 1)


def run_c_shape(a):
    exe = a.compare
    if not (os.path.isfile(exe) and os.access(exe, os.X_OK)):
        print(f"compare: {exe} not found or not executable (build it first); skipping")
        return None
    cmd = [exe, "bench", "--shape", a.shape, "--batch", str(a.batch), "--seq", str(a.seq),
           "--threads", str(a.threads), "--steps", str(a.steps)]
    print("compare: running " + " ".join(cmd), flush=True)
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=3600)
    except Exception as e:  # noqa: BLE001
        print(f"compare: failed to run: {e}")
        return None
    out = r.stdout + r.stderr
    got = {}
    for key in ("train_tok_per_s", "score_tok_per_s", "decode_tok_per_s", "peak_rss_mib"):
        m = re.findall(key + r"=([0-9.eE+-]+)", out)
        if m:
            got[key] = float(m[-1])
    if r.returncode != 0 or len(got) < 4:
        print(f"compare: C bench exited {r.returncode}, found {sorted(got)} of the 4 metric lines. "
              f"Output tail:\n{out[-1500:]}")
        return None
    for line in out.splitlines():
        if line.startswith(("kernel=", "model:", "ms_per_step=", "train_gflops=")):
            print("  C: " + line)
    return got


def main_shape(a):
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import llama_ref as lr   # no side effects: constants and functions, main() under __main__
    import resource
    if a.seq < 16:
        sys.exit("--shape needs --seq >= 16 (prompts of up to 8 tokens + T/2 new tokens in a cache of T)")
    cfg = dict(SHAPES[a.shape])
    cfg["Vp"] = (cfg["V"] + 127) // 128 * 128
    B, T, V = a.batch, a.seq, cfg["V"]
    warmup = 1 if a.warmup is None else a.warmup
    torch.manual_seed(0)
    p = shape_params(lr, cfg)
    params = [t for v in p.values() for t in (v if isinstance(v, list) else [v])]
    decay = [t for n, v in p.items() if n in lr.DECAYED for t in (v if isinstance(v, list) else [v])]
    nodecay = [t for n, v in p.items() if n not in lr.DECAYED for t in (v if isinstance(v, list) else [v])]
    nparams = sum(t.numel() for t in params)
    print(f"torch {torch.__version__}, threads={torch.get_num_threads()}")
    print(f"model: {a.shape} L={cfg['L']} NH={cfg['NH']} KV={cfg['KV']} hd={cfg['hd']} C={cfg['C']} "
          f"F={cfg['F']} V={V} (Vp={cfg['Vp']}) T={T}, {nparams} parameters; batch B={B}; threads={a.threads}")
    print("attention=manual (llama_ref.gqa_attention: repeat_interleave K/V, masked softmax); "
          "decode: grouped q @ cached K, masked softmax")
    torch.ones(64, 64) @ torch.ones(64, 64)   # loads the BLAS: name the one torch's matmuls run on
    with open("/proc/self/maps") as f:
        libs = sorted({ln.split()[-1] for ln in f if re.search(r"blas|blis|mkl_", ln.split()[-1])})
    print("blas=" + (",".join(libs) or "?")
          + (" (WARNING: Debian's reference BLAS, ~1 GFLOP/s: install libopenblas0-pthread for a real baseline)"
             if any("/blas/libblas" in s for s in libs) else ""))
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1},
                             {"params": nodecay, "weight_decay": 0.0}],
                            lr=1e-4, betas=(0.9, 0.95), eps=1e-8, foreach=True)
    tokens = torch.randint(0, V, (B * T + 1,))
    x, y = tokens[:-1].view(B, T), tokens[1:].view(B, T)
    c = torch.full((B, T), 1.0 / (B * T))

    def train_step():
        loss = lr.weighted_loss(lr.forward(p, x, cfg), y, c, V)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        opt.zero_grad(set_to_none=True)

    @torch.no_grad()
    def score():
        logp = lr.forward(p, x, cfg)[..., :V].log_softmax(-1)
        return logp.gather(-1, y.unsqueeze(-1))

    ts = time_steps(train_step, warmup, a.steps)
    med = statistics.median(ts)
    print("step ms: " + " ".join(f"{t * 1e3:.1f}" for t in ts))
    print(f"ms_per_step={med * 1e3:.2f}")
    tok = {"train": B * T / med}
    print(f"train_tok_per_s={tok['train']:.1f}")
    ss = time_steps(score, 0, a.steps)
    print("score ms: " + " ".join(f"{t * 1e3:.1f}" for t in ss))
    tok["score"] = B * T / statistics.median(ss)
    print(f"score_tok_per_s={tok['score']:.1f}")
    prompts = [tokens[i * 8:i * 8 + 1 + i % 8].tolist() for i in range(B)]
    t0 = time.perf_counter()
    out, _ = generate(lr, p, cfg, prompts, T // 2)
    dt = time.perf_counter() - t0
    tok["decode"] = out.numel() / dt
    print(f"decode: {B} sequences x {T // 2} new tokens in {dt:.2f} s")
    print(f"decode_tok_per_s={tok['decode']:.1f}")
    print(f"peak_rss_mib={resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f}")
    print(f"threads={torch.get_num_threads()}")
    print(f"omp_wait_policy={os.environ['OMP_WAIT_POLICY']}")
    la = os.getloadavg()
    print(f"loadavg={la[0]:.2f},{la[1]:.2f},{la[2]:.2f} (cores={os.cpu_count()}; a load above "
          f"the thread count means the timing is contended)")
    if a.compare:
        # free the torch model (the closures hold it too) before the C one loads
        del p, params, decay, nodecay, opt, train_step, score
        got = run_c_shape(a)
        if got is not None:
            for k in ("train", "score", "decode"):
                print(f"c_{k}_tok_per_s={got[k + '_tok_per_s']:.1f}")
            print(f"c_peak_rss_mib={got['peak_rss_mib']:.0f}")
            for k in ("train", "score", "decode"):
                print(f"ratio_{k}={got[k + '_tok_per_s'] / tok[k]:.3f}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--layers", type=int, default=6)
    ap.add_argument("--heads", type=int, default=8)
    ap.add_argument("--channels", type=int, default=256)
    ap.add_argument("--vocab", type=int, default=1024)
    ap.add_argument("--seq", type=int, default=256)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--steps", type=int, default=8, help="timed steps (>= 5)")
    ap.add_argument("--warmup", type=int, default=None, help="untimed steps first (default 2; 1 with --shape)")
    ap.add_argument("--attn", choices=["auto", "manual", "sdpa"], default="auto")
    ap.add_argument("--small", action="store_true",
                    help="the small default model: --layers 4 --heads 4 --channels 128 --vocab 512 --seq 160 --batch 16")
    ap.add_argument("--compare", metavar="EXE", help="also run `EXE bench ...` and print the ratio C/PyTorch")
    ap.add_argument("--shape", choices=sorted(SHAPES),
                    help="a real model's shape with random weights: training step, scoring and decoding")
    a = ap.parse_args()
    if a.shape:
        torch.set_num_threads(a.threads)
        return main_shape(a)
    if a.warmup is None:
        a.warmup = 2
    if a.small:
        a.layers, a.heads, a.channels, a.vocab, a.seq, a.batch = 4, 4, 128, 512, 160, 16
    a.steps = max(a.steps, 5)
    torch.set_num_threads(a.threads)

    print(f"torch {torch.__version__}, threads={torch.get_num_threads()}, config: L={a.layers} "
          f"NH={a.heads} C={a.channels} V={a.vocab} T={a.seq} B={a.batch}")
    attn = a.attn
    if attn == "auto":
        # time both for a few steps and keep the faster (on CPU in 1.13 they are close)
        cand = {}
        for kind in ("manual", "sdpa"):
            _, step, _ = bench(a, kind)
            cand[kind] = statistics.median(time_steps(step, 1, 3))
        attn = min(cand, key=cand.get)
        print("attention auto-select: " + ", ".join(f"{k} {v * 1e3:.1f} ms" for k, v in cand.items())
              + f" -> {attn}")
    model, step, nparams = bench(a, attn)
    print(f"params={nparams} ({nparams / 1e6:.2f}M), attention={attn}")
    ts = time_steps(step, a.warmup, a.steps)
    med = statistics.median(ts)
    tok = a.batch * a.seq / med
    print("step ms: " + " ".join(f"{t * 1e3:.1f}" for t in ts))
    print(f"train_tok_per_s={tok:.1f}")
    print(f"ms_per_step={med * 1e3:.2f}")
    print(f"threads={torch.get_num_threads()}")
    print(f"omp_wait_policy={os.environ['OMP_WAIT_POLICY']}")
    la = os.getloadavg()
    print(f"loadavg={la[0]:.2f},{la[1]:.2f},{la[2]:.2f} (cores={os.cpu_count()}; a load above "
          f"the thread count means the timing is contended)")
    if a.compare:
        ctok = run_c(a)
        if ctok is not None:
            print(f"c_train_tok_per_s={ctok:.1f}")
            print(f"ratio_c_over_torch={ctok / tok:.3f}")


if __name__ == "__main__":
    main()
