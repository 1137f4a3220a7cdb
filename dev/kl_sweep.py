#!/usr/bin/env python3
"""kl_sweep.py — the last step's test accuracy of RLME and RLVR against the KL weight β.

usage: dev/kl_sweep.py OUT.svg RUN_DIR

RUN_DIR holds the runs of dev/kl_sweep.sh, named R-klB-seedS.csv (R rlme or rlvr). For
each reward and β the figure draws the mean greedy test accuracy at the last step with
± one standard deviation across the seeds, and the base (step 0) as a dashed line; the
table prints the same numbers and RLVR − RLME per β. Standard library only.
"""
import csv
import glob
import os
import re
import statistics
import sys

from svgfig import legend_line, mean_std, page, percent_grid, save


def evaluations(path):
    """[(step, test_acc)] from the rows of a run's CSV that carry an evaluation."""
    with open(path, newline="") as f:
        return [(int(r["step"]), float(r["test_acc"])) for r in csv.DictReader(f) if r["test_acc"]]


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: dev/kl_sweep.py OUT.svg RUN_DIR")
    out, run_dir = sys.argv[1], sys.argv[2]
    last = {}  # (reward, beta) -> [accuracy at the last step, one per seed]
    base = []
    for path in sorted(glob.glob(os.path.join(run_dir, "*-kl*-seed*.csv"))):
        m = re.fullmatch(r"(rlme|rlvr)-kl([0-9.]+)-seed(\d+)\.csv", os.path.basename(path))
        ev = evaluations(path) if m else []
        if len(ev) < 2:
            continue  # not a sweep run, or one that has not evaluated past step 0 yet
        last.setdefault((m[1], float(m[2])), []).append(100 * ev[-1][1])
        base.append(100 * ev[0][1])
    if not last:
        sys.exit(f"kl_sweep.py: no finished runs in {run_dir}")
    betas = sorted({b for _, b in last})
    stats = {k: mean_std(v) for k, v in last.items()}
    base_acc = statistics.mean(base)

    print(f"greedy test accuracy at the last step, mean ± std over seeds (base {base_acc:.1f} %):")
    print(f"{'KL β':>6} {'RLME':>14} {'RLVR':>14} {'RLVR - RLME':>12}")
    for b in betas:
        cells = []
        for r in ("rlme", "rlvr"):
            m, sd = stats.get((r, b), (float("nan"), 0.0))
            cells.append(f"{m:5.1f} ± {sd:3.1f} ({len(last.get((r, b), []))})")
        gap = stats.get(("rlvr", b), (float("nan"),))[0] - stats.get(("rlme", b), (float("nan"),))[0]
        print(f"{b:6.2f} {cells[0]:>14} {cells[1]:>14} {gap:12.1f}")

    W, H, x0, y0, w, h = 560, 360, 70, 40, 460, 270
    top = max(betas) or 1.0
    X = lambda b: x0 + w * b / top
    Y = lambda a: y0 + h * (1 - a / 100)
    svg = page(W, H, "test accuracy after RL against the KL weight β (mean ± std over seeds)")
    svg.append(f"<rect x='{x0}' y='{y0}' width='{w}' height='{h}' fill='none' stroke='#999'/>")
    svg += percent_grid(x0, w, Y)
    for b in betas:
        svg.append(f"<text x='{X(b)}' y='{y0 + h + 16}' font-size='11' text-anchor='middle'>{b:g}</text>")
    svg.append(f"<text x='{x0 + w / 2}' y='{H - 8}' font-size='12' text-anchor='middle'>KL weight β (k3 to the base policy)</text>")
    svg.append(f"<line x1='{x0}' y1='{Y(base_acc)}' x2='{x0 + w}' y2='{Y(base_acc)}' stroke='#555' stroke-dasharray='5,4'/>"
               f"<text x='{x0 + w - 4}' y='{Y(base_acc) - 4}' font-size='10' fill='#555' text-anchor='end'>base {base_acc:.1f}%</text>")
    colors = {"rlme": ("#d62728", "RLME (no labels)"), "rlvr": ("#1f77b4", "RLVR (labels)")}
    for i, (r, (color, name)) in enumerate(colors.items()):
        pts = [(b, *stats[(r, b)]) for b in betas if (r, b) in stats]
        for b, m, sd in pts:
            svg.append(f"<line x1='{X(b):.1f}' y1='{Y(m - sd):.1f}' x2='{X(b):.1f}' y2='{Y(m + sd):.1f}' stroke='{color}' stroke-width='2'/>"
                       f"<circle cx='{X(b):.1f}' cy='{Y(m):.1f}' r='3.5' fill='{color}'/>")
        svg.append(f"<polyline points='{' '.join(f'{X(b):.1f},{Y(m):.1f}' for b, m, _ in pts)}' fill='none' stroke='{color}' stroke-width='2.5'/>")
        # the legend sits low on the right, below both curves
        svg.append(legend_line(x0 + w - 160, y0 + h - 44 + 18 * i, color, name))
    save(out, svg)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
