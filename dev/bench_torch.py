#!/usr/bin/python3
"""
Times one PyTorch training step of the rlme.c GPT on random data, the baseline the C
trainer is measured against.

Same architecture as dev/gpt_ref.py and model.h: learned wte+wpe, pre-LN blocks (causal
MHA, GELU-tanh MLP 4C), final LN, tied head over the vocab padded to a multiple of 128,
softmax/loss over the real vocab only. A step = forward + weighted loss (c = 1/N) +
backward + clip_grad_norm_(1.0) + AdamW (weight decay on the 2-D matrices only,
foreach implementation; torch 1.13 has no fused CPU AdamW) + zero_grad.

Attention: torch 1.13 has no public F.scaled_dot_product_attention (added in 2.0); it has
the private F._scaled_dot_product_attention, which on CPU is the same math composite as
the manual masked softmax. --attn auto (default) times both for a few steps and keeps
the faster; the choice is printed.

  /usr/bin/python3 dev/bench_torch.py                 # the bench config (5.07M params)
  /usr/bin/python3 dev/bench_torch.py --small         # the small default model
  /usr/bin/python3 dev/bench_torch.py --compare ./train_rlme   # also run the C bench

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
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--attn", choices=["auto", "manual", "sdpa"], default="auto")
    ap.add_argument("--small", action="store_true",
                    help="the small default model: --layers 4 --heads 4 --channels 128 --vocab 512 --seq 160 --batch 16")
    ap.add_argument("--compare", metavar="EXE", help="also run `EXE bench ...` and print the ratio C/PyTorch")
    a = ap.parse_args()
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
