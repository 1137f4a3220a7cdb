#!/usr/bin/python3
"""
Independent plain-PyTorch reference of the rlme.c GPT: the GPT-2 architecture of
model.h, written from its description, not from its code.

Writes the reference files that the C tests read (all little-endian):

  test/ref/model.bin   llm.c-compatible fp32 checkpoint of a small random model
                       (V=101, Vp=128, maxT=24, L=2, NH=4, C=32)
  test/ref/state.bin   one batch (x, y, c), its logits, loss and gradients, the losses
                       of 10 AdamW steps on that batch and the parameters after them
  test/ref/score.txt   ids and their log-probs (the `score` CLI)
  test/ref/sample.txt  prompt ids, max_new, greedy continuation (the `sample` CLI)

state.bin layout (all int32 / float32 little-endian, no padding between fields):
  header   256 x int32: [0]=20240327 [1]=1 (version) [2]=B [3]=T [4]=nsteps, rest 0
  x        B*T    int32   input token ids in [0,V)
  y        B*T    int32   targets in [0,V)
  c        B*T    float32 per-position loss weights (positive, negative and zero)
  logits   B*T*Vp float32 (padding columns V..Vp-1 are exactly 0)
  loss     1      float32 L = -sum_{b,t} c[b,t] * log softmax(logits[b,t,:V])[y[b,t]]
  grads    nparams float32, the 16 tensors in checkpoint order (padding rows of dwte = 0)
  losses   nsteps float32, loss before each AdamW step (losses[0] == loss)
  params   nparams float32, all 16 tensors in checkpoint order after nsteps steps
AdamW: lr=1e-3, beta1=0.9, beta2=0.95, eps=1e-8, weight_decay=0.1 on the 2-D matrices
only (wte, wpe, qkvw, attprojw, fcw, fcprojw), global grad-norm clip 1.0 with
torch.nn.utils.clip_grad_norm_'s formula: coef = clip/(norm+1e-6), applied when coef<1.

The model: random init (wte N(0,0.2) with zero padding rows, wpe N(0,0.1), other matrices
and all biases N(0,0.02), LayerNorm weights 1+N(0,0.1)), then 200 seeded Adam steps fitting
a fixed random bigram permutation, so that greedy decoding gives a varied continuation
(a random tied-embedding model just repeats one token). Padding rows of wte stay exactly 0.

Tolerances for the C tests (fp32 vs this fp32 reference; fp32 vs fp64 here is ~1e-6):
logits/loss/grads ~1e-5 relative, losses ~1e-5, final params ~1e-5 absolute EXCEPT the
key bias qkvb[:, C:2C]: its true gradient is exactly 0 (softmax shift invariance), the
computed one is rounding noise, and Adam amplifies that into O(lr) updates, so compare
it loosely (~1e-3) or skip it.

Usage: /usr/bin/python3 dev/gpt_ref.py [--outdir test/ref]    (deterministic; ~6 s)
"""
import argparse
import math
import os
import struct
import sys

import numpy as np
import torch

# ----------------------------------------------------------------------------
# configuration of the reference model and batch

V, Vp, MAXT, L, NH, C = 101, 128, 24, 2, 4, 32
B, T, NSTEPS = 3, 11, 10
LR, BETA1, BETA2, EPS, WD, CLIP = 1e-3, 0.9, 0.95, 1e-8, 0.1, 1.0
SEED = 1337
C_SCALE = 0.0065   # scale of c: grad norm ~1.3 at step 0, < 1 after a few steps

# the 16 parameter tensors in checkpoint order, with their shapes
def param_shapes(V=V, Vp=Vp, maxT=MAXT, L=L, C=C):
    return [
        ("wte", (Vp, C)), ("wpe", (maxT, C)),
        ("ln1w", (L, C)), ("ln1b", (L, C)),
        ("qkvw", (L, 3 * C, C)), ("qkvb", (L, 3 * C)),
        ("attprojw", (L, C, C)), ("attprojb", (L, C)),
        ("ln2w", (L, C)), ("ln2b", (L, C)),
        ("fcw", (L, 4 * C, C)), ("fcb", (L, 4 * C)),
        ("fcprojw", (L, C, 4 * C)), ("fcprojb", (L, C)),
        ("lnfw", (C,)), ("lnfb", (C,)),
    ]

DECAYED = {"wte", "wpe", "qkvw", "attprojw", "fcw", "fcprojw"}  # the 2-D matrices

# ----------------------------------------------------------------------------
# the model, functional: params is a dict name -> tensor (checkpoint shapes)

def layernorm(x, w, b, eps=1e-5):
    # biased variance, as nn.LayerNorm
    mean = x.mean(-1, keepdim=True)
    var = ((x - mean) ** 2).mean(-1, keepdim=True)
    return (x - mean) / torch.sqrt(var + eps) * w + b

def gelu_tanh(x):
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x ** 3)))

def linear(x, w, b):
    # w in nn.Linear layout (OC, IC)
    return x @ w.t() + b

def attention(qkv, nh):
    # qkv: (B,T,3C) laid out [q | k | v]; heads split as view(B,T,NH,hs)
    Bb, Tt, C3 = qkv.shape
    Cc = C3 // 3
    hs = Cc // nh
    q, k, v = qkv.split(Cc, dim=-1)
    q = q.view(Bb, Tt, nh, hs).transpose(1, 2)  # (B,NH,T,hs)
    k = k.view(Bb, Tt, nh, hs).transpose(1, 2)
    v = v.view(Bb, Tt, nh, hs).transpose(1, 2)
    att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(hs))  # (B,NH,T,T)
    mask = torch.ones(Tt, Tt, dtype=torch.bool).tril()
    att = att.masked_fill(~mask, float("-inf"))
    att = torch.softmax(att, dim=-1)
    y = att @ v  # (B,NH,T,hs)
    return y.transpose(1, 2).contiguous().view(Bb, Tt, Cc)

def forward(p, idx, nh=NH):
    """idx (B,T) int64 -> logits (B,T,Vp)."""
    Bb, Tt = idx.shape
    nl = p["ln1w"].shape[0]
    x = p["wte"][idx] + p["wpe"][:Tt].unsqueeze(0)
    for l in range(nl):
        h = layernorm(x, p["ln1w"][l], p["ln1b"][l])
        h = attention(linear(h, p["qkvw"][l], p["qkvb"][l]), nh)
        x = x + linear(h, p["attprojw"][l], p["attprojb"][l])
        h = layernorm(x, p["ln2w"][l], p["ln2b"][l])
        h = gelu_tanh(linear(h, p["fcw"][l], p["fcb"][l]))
        x = x + linear(h, p["fcprojw"][l], p["fcprojb"][l])
    x = layernorm(x, p["lnfw"], p["lnfb"])
    return x @ p["wte"].t()  # tied head, over the padded vocab

def weighted_loss(logits, y, c, V=V):
    """L = -sum c * log softmax(logits[..., :V])[y]  (softmax over real vocab only)."""
    logp = torch.log_softmax(logits[..., :V], dim=-1)
    return -(c * logp.gather(-1, y.unsqueeze(-1)).squeeze(-1)).sum()

# ----------------------------------------------------------------------------
# checkpoint I/O

def write_checkpoint(path, p, V=V, maxT=MAXT, nh=NH):
    Vp_, C_ = p["wte"].shape
    L_ = p["ln1w"].shape[0]
    header = np.zeros(256, dtype="<i4")
    header[:8] = [20240326, 3, maxT, V, L_, nh, C_, Vp_]
    with open(path, "wb") as f:
        f.write(header.tobytes())
        for name, _ in param_shapes(V, Vp_, maxT, L_, C_):
            f.write(p[name].detach().to(torch.float32).numpy().astype("<f4").tobytes())

def read_checkpoint(path):
    """Separate reader: parses the header and slices the tensors by the header's config."""
    with open(path, "rb") as f:
        data = f.read()
    h = struct.unpack("<256i", data[:1024])
    assert h[0] == 20240326 and h[1] == 3, "bad magic/version"
    maxT, V_, L_, nh, C_, Vp_ = h[2], h[3], h[4], h[5], h[6], h[7]
    flat = np.frombuffer(data, dtype="<f4", offset=1024)
    p, off = {}, 0
    for name, shape in param_shapes(V_, Vp_, maxT, L_, C_):
        n = int(np.prod(shape))
        p[name] = torch.from_numpy(flat[off:off + n].copy()).view(shape)
        off += n
    assert off == flat.size, "trailing bytes in checkpoint"
    cfg = dict(maxT=maxT, V=V_, L=L_, NH=nh, C=C_, Vp=Vp_)
    return cfg, p

def flat_f32(tensors):
    return np.concatenate([t.detach().to(torch.float32).numpy().ravel() for t in tensors]).astype("<f4")

# ----------------------------------------------------------------------------
# init

def init_params(gen):
    def n(shape, std):
        return torch.randn(shape, generator=gen, dtype=torch.float32) * std
    p = {}
    for name, shape in param_shapes():
        if name == "wte":
            t = n(shape, 0.2)      # larger, so log-probs are far from log(1/V)
            t[V:] = 0.0            # padding rows are zero
        elif name == "wpe":
            t = n(shape, 0.1)
        elif name in ("ln1w", "ln2w", "lnfw"):
            t = 1.0 + n(shape, 0.1)
        else:                      # other matrices and all biases (nonzero on purpose)
            t = n(shape, 0.02)
        p[name] = t
    return p

def shape_params(p, gen, steps=200):
    """Briefly fit the random model to a fixed random bigram permutation (next = perm[cur]),
    so that greedy decoding gives a varied continuation instead of repeating one token
    (which a random tied-embedding model does). Plain Adam on a mean cross-entropy over the
    real vocab only, so the padding rows of wte get zero gradient and stay exactly 0."""
    perm = torch.randperm(V, generator=gen)
    q = {k: v.clone().requires_grad_(True) for k, v in p.items()}
    opt = torch.optim.Adam(q.values(), lr=3e-3)
    for _ in range(steps):
        seq = [torch.randint(0, V, (16,), generator=gen)]
        for _ in range(MAXT):
            seq.append(perm[seq[-1]])
        seq = torch.stack(seq, 1)  # (16, MAXT+1)
        logits = forward(q, seq[:, :-1])
        loss = torch.nn.functional.cross_entropy(logits[..., :V].reshape(-1, V), seq[:, 1:].reshape(-1))
        opt.zero_grad()
        loss.backward()
        opt.step()
    print(f"shaping: {steps} Adam steps on a bigram permutation, final CE {loss.item():.3f}")
    out = {k: v.detach().clone() for k, v in q.items()}
    assert torch.all(out["wte"][V:] == 0)
    return out

# ----------------------------------------------------------------------------
# training: torch.optim.AdamW + clip_grad_norm_, and a hand-written AdamW to confirm
# that the semantics are the ones the C implements

def train_torch(p0, x, y, c, dtype, nsteps=NSTEPS):
    p = {k: v.detach().to(dtype).clone().requires_grad_(True) for k, v in p0.items()}
    names = [n for n, _ in param_shapes()]
    opt = torch.optim.AdamW(
        [{"params": [p[n] for n in names if n in DECAYED], "weight_decay": WD},
         {"params": [p[n] for n in names if n not in DECAYED], "weight_decay": 0.0}],
        lr=LR, betas=(BETA1, BETA2), eps=EPS, foreach=False)
    losses, norms = [], []
    for _ in range(nsteps):
        loss = weighted_loss(forward(p, x), y, c.to(dtype))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        # clip_grad_norm_ (torch 1.13): coef = max_norm/(total_norm+1e-6), clamped to 1
        norm = torch.nn.utils.clip_grad_norm_([p[n] for n in names], CLIP)
        losses.append(loss.item())
        norms.append(norm.item())
        opt.step()
    return losses, norms, p

def train_manual(p0, x, y, c, dtype, nsteps=NSTEPS):
    names = [n for n, _ in param_shapes()]
    p = {k: v.detach().to(dtype).clone() for k, v in p0.items()}
    m = {k: torch.zeros_like(v) for k, v in p.items()}
    v2 = {k: torch.zeros_like(v) for k, v in p.items()}
    losses = []
    for step in range(1, nsteps + 1):
        pp = {k: t.clone().requires_grad_(True) for k, t in p.items()}
        loss = weighted_loss(forward(pp, x), y, c.to(dtype))
        g = torch.autograd.grad(loss, [pp[n] for n in names])
        g = dict(zip(names, g))
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

def rel_err(a, b):
    a, b = a.double(), b.double()
    return float((a - b).abs().max() / b.abs().max().clamp_min(1e-30))

def check(name, err, tol):
    ok = err <= tol
    print(f"  {'OK  ' if ok else 'FAIL'} {name}: {err:.3e} (tol {tol:.0e})")
    if not ok:
        check.failed = True
check.failed = False

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--outdir", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "test", "ref"))
    args = ap.parse_args()
    out = os.path.normpath(args.outdir)
    os.makedirs(out, exist_ok=True)
    torch.set_num_threads(1)  # deterministic reductions
    gen = torch.Generator().manual_seed(SEED)
    names = [n for n, _ in param_shapes()]

    # ---- 1. model.bin ------------------------------------------------------
    p32 = shape_params(init_params(gen), gen)
    nparams = sum(t.numel() for t in p32.values())
    mpath = os.path.join(out, "model.bin")
    write_checkpoint(mpath, p32)
    cfg, prd = read_checkpoint(mpath)
    print(f"model.bin: {cfg}, {nparams} params")
    assert cfg == dict(maxT=MAXT, V=V, L=L, NH=NH, C=C, Vp=Vp)
    assert all(torch.equal(prd[n], p32[n]) for n in names), "checkpoint round-trip mismatch"
    print("  OK   checkpoint round-trip (bitwise)")
    p32 = prd  # from here on use exactly what the C code will load
    p64 = {k: v.double() for k, v in p32.items()}

    # ---- 2. the batch ------------------------------------------------------
    x = torch.randint(0, V, (B, T), generator=gen)
    y = torch.randint(0, V, (B, T), generator=gen)
    c = torch.randn(B, T, generator=gen)
    c[torch.rand(B, T, generator=gen) < 0.2] = 0.0      # some zeros
    c[0, 0], c[1, 5], c[2, 10] = 0.0, -0.5, 0.0          # guaranteed zero and negative
    c = (c * C_SCALE).float()
    assert (c > 0).any() and (c < 0).any() and (c == 0).any()

    # forward + backward in fp32 and fp64
    def fwd_bwd(p, dtype):
        pp = {k: v.to(dtype).clone().requires_grad_(True) for k, v in p.items()}
        logits = forward(pp, x)
        loss = weighted_loss(logits, y, c.to(dtype))
        logits.retain_grad()
        loss.backward()
        return logits.detach(), loss.detach(), [pp[n].grad for n in names], logits.grad
    logits32, loss32, g32, dlog32 = fwd_bwd(p32, torch.float32)
    logits64, loss64, g64, dlog64 = fwd_bwd(p64, torch.float64)
    print(f"loss fp32 {loss32.item():.8f}  fp64 {loss64.item():.8f}")
    print(f"logits std {logits32[..., :V].std().item():.3f}, "
          f"logp range [{torch.log_softmax(logits32[..., :V], -1).min().item():.2f}, "
          f"{torch.log_softmax(logits32[..., :V], -1).max().item():.2f}] (log(1/V)={math.log(1 / V):.2f})")
    gnorm = math.sqrt(sum(float((g.double() ** 2).sum()) for g in g32))
    print(f"grad norm {gnorm:.4f}")
    print("checks fp32 vs fp64:")
    check("logits rel", rel_err(logits32, logits64), 1e-5)
    check("loss rel", abs(loss32.item() - loss64.item()) / abs(loss64.item()), 1e-5)
    for n, a, b in zip(names, g32, g64):
        check(f"grad {n} rel", rel_err(a, b), 2e-5)
    # padding logits and padding grad rows are exactly zero
    assert torch.all(logits32[..., V:] == 0), "padding logits must be 0"
    assert torch.all(g32[0][V:] == 0), "dwte padding rows must be 0"
    print("  OK   padding logits == 0, dwte padding rows == 0")
    # the analytic dlogits: c * (softmax - onehot) on the first V, 0 on padding
    sm = torch.softmax(logits64[..., :V], -1)
    ana = torch.zeros_like(logits64)
    ana[..., :V] = c.double().unsqueeze(-1) * (sm - torch.nn.functional.one_hot(y, V).double())
    check("dlogits == c*(softmax-onehot)", float((ana - dlog64).abs().max()), 1e-12)
    # finite differences on a few float64 parameter entries
    fd_gen = torch.Generator().manual_seed(7)
    worst = 0.0
    for n in ["wte", "wpe", "qkvw", "qkvb", "ln1w", "fcprojw", "lnfb"]:
        gi = g64[names.index(n)]
        for _ in range(3):
            i = int(torch.randint(0, p64[n].numel(), (1,), generator=fd_gen))
            if n == "wte":
                i = i % (V * C)
            h = 1e-6
            pa = {k: v.clone() for k, v in p64.items()}; pa[n].view(-1)[i] += h
            pb = {k: v.clone() for k, v in p64.items()}; pb[n].view(-1)[i] -= h
            fd = (weighted_loss(forward(pa, x), y, c.double()) -
                  weighted_loss(forward(pb, x), y, c.double())).item() / (2 * h)
            worst = max(worst, abs(fd - gi.view(-1)[i].item()) / max(abs(gi.view(-1)[i].item()), 1e-3))
    check("fp64 grads vs finite differences (rel)", worst, 1e-6)

    # ---- 3. 10 AdamW steps -------------------------------------------------
    l32, n32, q32 = train_torch(p32, x, y, c, torch.float32)
    l64, n64, q64 = train_torch(p64, x, y, c, torch.float64)
    lm64, qm64 = train_manual(p64, x, y, c, torch.float64)
    print("step  loss(fp32)      loss(fp64)      gradnorm  clipped")
    for i in range(NSTEPS):
        print(f"{i:4d}  {l32[i]:.8f}  {l64[i]:.8f}  {n32[i]:8.4f}  {n32[i] > CLIP}")
    nclip = sum(nn > CLIP for nn in n32)
    assert 0 < nclip < NSTEPS, "clipping must trigger in some steps but not all"
    print(f"clipping triggered in {nclip}/{NSTEPS} steps")
    assert abs(l32[0] - loss32.item()) == 0.0
    print("checks:")
    check("losses fp32 vs fp64 (max abs)", max(abs(a - b) for a, b in zip(l32, l64)), 1e-5)
    # NOTE the key bias (qkvb[:, C:2C]) has an exactly zero true gradient (softmax is
    # invariant to adding q.bk to a whole row of scores), so its computed gradient is
    # rounding noise and Adam turns that noise into O(lr)-sized random updates: its final
    # value is not reproducible across precisions/implementations. Compare the C code's
    # k-bias with a loose tolerance (~1e-3) or skip it; everything else matches to ~1e-6.
    kb = lambda q: q["qkvb"][:, C:2 * C]
    check("fp64 k-bias grad is ~0 (max abs)", float(g64[names.index("qkvb")][:, C:2 * C].abs().max()), 1e-12)
    def pdiff(n):
        d = (q32[n].double() - q64[n]).abs()
        if n == "qkvb":
            d[:, C:2 * C] = 0
        return float(d.max())
    check("final params fp32 vs fp64, k-bias excluded (max abs)", max(pdiff(n) for n in names), 1e-5)
    print(f"  (info) final k-bias fp32 vs fp64 max abs diff: "
          f"{float((kb(q32).double() - kb(q64)).abs().max()):.3e} (noise-driven, see note)")
    check("torch AdamW vs manual AdamW fp64 losses (max abs)",
          max(abs(a - b) for a, b in zip(l64, lm64)), 1e-12)
    check("torch AdamW vs manual AdamW fp64 params (max abs)",
          max(float((q64[n] - qm64[n]).abs().max()) for n in names), 1e-12)
    assert torch.all(q32["wte"][V:] == 0), "padding rows of wte must stay 0"

    # ---- write state.bin ---------------------------------------------------
    spath = os.path.join(out, "state.bin")
    header = np.zeros(256, dtype="<i4")
    header[:5] = [20240327, 1, B, T, NSTEPS]
    with open(spath, "wb") as f:
        f.write(header.tobytes())
        f.write(x.numpy().astype("<i4").tobytes())
        f.write(y.numpy().astype("<i4").tobytes())
        f.write(c.numpy().astype("<f4").tobytes())
        f.write(logits32.numpy().astype("<f4").tobytes())
        f.write(np.array([loss32.item()], dtype="<f4").tobytes())
        f.write(flat_f32(g32).tobytes())
        f.write(np.array(l32, dtype="<f4").tobytes())
        f.write(flat_f32([q32[n] for n in names]).tobytes())
    expect = 1024 + 4 * (3 * B * T + B * T * Vp + 1 + 2 * nparams + NSTEPS)
    assert os.path.getsize(spath) == expect
    print(f"state.bin: {expect} bytes")

    # ---- 4. score.txt / sample.txt (computed in fp64 from the fp32 weights) --
    sgen = torch.Generator().manual_seed(SEED + 1)
    prompt = torch.randint(0, V, (5,), generator=sgen)
    max_new = 12
    assert len(prompt) + max_new <= MAXT
    seq, min_margin = prompt.clone(), float("inf")
    with torch.no_grad():
        for _ in range(max_new):
            lg = forward(p64, seq.unsqueeze(0))[0, -1, :V]
            top2 = lg.topk(2).values
            min_margin = min(min_margin, (top2[0] - top2[1]).item())
            seq = torch.cat([seq, lg.argmax().view(1)])
        # the same continuation in fp32
        s32 = prompt.clone()
        for _ in range(max_new):
            s32 = torch.cat([s32, forward(p32, s32.unsqueeze(0))[0, -1, :V].argmax().view(1)])
    assert torch.equal(seq, s32), "fp32 and fp64 greedy continuations differ"
    cont = seq[len(prompt):]
    print(f"greedy: min top-2 logit margin {min_margin:.4f} (must be >> 1e-4)")
    assert min_margin > 1e-3
    with open(os.path.join(out, "sample.txt"), "w") as f:
        f.write(",".join(str(int(i)) for i in prompt) + "\n")
        f.write(f"{max_new}\n")
        f.write(",".join(str(int(i)) for i in cont) + "\n")
    # ids: the prompt, 6 tokens of its greedy continuation (high log-probs) and 4 random
    # ids (low log-probs)
    ids = torch.cat([seq[:11], torch.randint(0, V, (4,), generator=sgen)])
    with torch.no_grad():
        lp64 = torch.log_softmax(forward(p64, ids.unsqueeze(0))[0, :, :V], -1)
        lp32 = torch.log_softmax(forward(p32, ids.unsqueeze(0))[0, :, :V], -1)
    score = [lp64[t - 1, ids[t]].item() for t in range(1, len(ids))]
    score32 = [lp32[t - 1, ids[t]].item() for t in range(1, len(ids))]
    check("score fp32 vs fp64 (max abs)", max(abs(a - b) for a, b in zip(score, score32)), 1e-5)
    with open(os.path.join(out, "score.txt"), "w") as f:
        f.write(",".join(str(int(i)) for i in ids) + "\n")
        f.write(" ".join(f"{s:.6f}" for s in score) + "\n")
    print("score.txt / sample.txt written")

    if check.failed:
        print("SOME CHECKS FAILED")
        sys.exit(1)
    print("all checks passed")

if __name__ == "__main__":
    main()
