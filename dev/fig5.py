#!/usr/bin/env python3
"""fig5.py — the table and figure of dev/fig5.sh: each run's greedy and sampled test
accuracy against the RL step, and the accuracy it ends with (an early-stopped run: at the
step its validation accuracy kept).

usage: dev/fig5.py RUN_DIR OUT.svg
"""
import csv
import sys

from svgfig import legend_line, page, percent_grid, save

RUNS = [("rlme", "RLME (no labels)", "#d62728"), ("rlme-10gt", "RLME-10GT", "#ff7f0e"),
        ("rlme-1gt", "RLME-1GT", "#bcbd22"), ("rlme-early", "RLME, early-stopped", "#8c564b"),
        ("rlme-mean2", "RLME, 2 questions, mean", "#9467bd"), ("rlme-min2", "RLME, 2 questions, min", "#e377c2"),
        ("rlvr", "RLVR (no KL)", "#1f77b4"), ("rlvr-kl", "RLVR, KL 0.5", "#17becf")]


def evaluations(path):
    """[(step, greedy, greedy_se, sampled, sampled_se, val)] of the rows that carry a test evaluation."""
    with open(path, newline="") as f:
        return [(int(r["step"]), float(r["test_acc"]), float(r["test_acc_se"]), float(r["test_acc_sampled"]),
                 float(r["test_acc_sampled_se"]), float(r["val_acc"]) if r["val_acc"] else None)
                for r in csv.DictReader(f) if r["test_acc"]]


def kept(ev):
    """The evaluation a run ends with: the last, or with a validation split the first best one."""
    with_val = [e for e in ev if e[5] is not None]
    return max(with_val, key=lambda e: (e[5], -e[0])) if with_val else ev[-1]


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: dev/fig5.py RUN_DIR OUT.svg")
    d, out = sys.argv[1:]
    runs = [(k, name, color, evaluations(f"{d}/{k}.csv")) for k, name, color in RUNS]
    base = runs[0][3][0]
    print(f"base: greedy {100 * base[1]:.1f} ± {100 * base[2]:.1f}, sampled {100 * base[3]:.1f} ± {100 * base[4]:.1f}")
    print(f"{'run':26} {'step':>4} {'greedy':>13} {'sampled':>13}")
    for k, name, _, ev in runs:
        e = kept(ev)
        print(f"{name:26} {e[0]:4d} {100 * e[1]:6.1f} ± {100 * e[2]:4.1f} {100 * e[3]:6.1f} ± {100 * e[4]:4.1f}")

    W, H, x0, y0, w, h = 1180, 380, 60, 40, 400, 290
    last = max(e[0] for *_, ev in runs for e in ev) or 1
    svg = page(W, H, "Fig. 5 mitigations from one base: test accuracy (%), greedy (left) and sampled k = 4 (right)")
    for p, col in enumerate((1, 3)):
        px = x0 + p * (w + 70)
        X = lambda s: px + w * s / last
        Y = lambda a: y0 + h * (1 - a / 100)
        svg.append(f"<rect x='{px}' y='{y0}' width='{w}' height='{h}' fill='none' stroke='#999'/>")
        svg += percent_grid(px, w, Y)
        for s in range(0, last + 1, 10):
            svg.append(f"<text x='{X(s)}' y='{y0 + h + 16}' font-size='11' text-anchor='middle'>{s}</text>")
        for k, name, color, ev in runs:
            pts = " ".join(f"{X(e[0]):.1f},{Y(100 * e[col]):.1f}" for e in ev)
            dash = " stroke-dasharray='5,3'" if k.startswith("rlvr") else ""
            svg.append(f"<polyline fill='none' stroke='{color}' stroke-width='2'{dash} points='{pts}'/>")
    for i, (k, name, color, _) in enumerate(runs):
        svg.append(legend_line(x0 + 2 * w + 100, y0 + 14 + 22 * i, color, name))
    save(out, svg)


if __name__ == "__main__":
    main()
