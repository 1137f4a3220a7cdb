#!/usr/bin/env python3
"""levers.py — the table of dev/levers.sh: for each variant, the test accuracy at the last
RL step (greedy and sampled), mean ± std over the run directories, and its gap to the
default RLVR of the same bases.

usage: dev/levers.py RUN_DIR...
"""
import csv
import os
import sys

from svgfig import mean_std

VARIANTS = [("rlme", "RLME (default: correct?, KL 0.5)"), ("rlme-min2", "RLME, min of 2 questions"),
            ("rlme-min2-kl03", "RLME, min of 2 questions, KL 0.3"), ("rlvr", "RLVR (default: no KL)"),
            ("rlvr-kl", "RLVR, KL 0.5 (RLME's settings)")]


def last_eval(path):
    """(greedy, sampled) of the last row of a run's CSV that carries a test evaluation."""
    with open(path, newline="") as f:
        rows = [r for r in csv.DictReader(f) if r["test_acc"]]
    r = rows[-1]
    return 100 * float(r["test_acc"]), 100 * float(r["test_acc_sampled"]) if r.get("test_acc_sampled") else None


def main():
    dirs = sys.argv[1:]
    if not dirs:
        sys.exit("usage: dev/levers.py RUN_DIR...")
    rlvr = [last_eval(f"{d}/rlvr.csv") for d in dirs]
    print(f"{len(dirs)} bases; test accuracy at the last RL step, mean ± std (RLVR − variant: mean, largest)")
    for key, name in VARIANTS:
        if not all(os.path.exists(f"{d}/{key}.csv") for d in dirs):
            continue
        runs = [last_eval(f"{d}/{key}.csv") for d in dirs]
        g, gs = mean_std([r[0] for r in runs])
        gaps = [v[0] - r[0] for v, r in zip(rlvr, runs)]
        line = f"  {name:36} greedy {g:5.1f} ± {gs:4.1f}"
        if all(r[1] is not None for r in runs):
            s, ss = mean_std([r[1] for r in runs])
            line += f"   sampled {s:5.1f} ± {ss:4.1f}"
        print(line + f"   gap {mean_std(gaps)[0]:5.1f} (largest {max(gaps):5.1f})   "
              + " / ".join(f"{r[0]:.1f}" for r in runs))


if __name__ == "__main__":
    main()
