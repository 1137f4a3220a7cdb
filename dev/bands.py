#!/usr/bin/env python3
"""bands.py — mean ± std of several seeds' RLME and RLVR runs, as a table and an SVG.

usage: dev/bands.py OUT.svg RUN_DIR...

Each RUN_DIR holds the rlme.csv and rlvr.csv of one `./train_rlme --seed S` run
(dev/seeds.sh makes them). The figure draws, against the RL step, the mean greedy test
accuracy of each reward with a band of ± one standard deviation across the seeds, and
the base's mean as a dashed line. Standard library only (a dev tool, like the rest of
dev/; the project itself needs none of it).
"""
import csv
import sys

from svgfig import legend_line, mean_std, page, percent_grid, save


def test_curve(path):
    """{step: test_acc} from the rows of a run's CSV that carry an evaluation."""
    with open(path, newline="") as f:
        return {int(r["step"]): float(r["test_acc"]) for r in csv.DictReader(f) if r["test_acc"]}


def main():
    if len(sys.argv) < 3:
        sys.exit("usage: dev/bands.py OUT.svg RUN_DIR...")
    out, dirs = sys.argv[1], sys.argv[2:]
    runs = {k: [test_curve(f"{d}/{k}.csv") for d in dirs] for k in ("rlme", "rlvr")}
    bands = {}
    for k, curves in runs.items():
        steps = sorted(set.intersection(*(set(c) for c in curves)))
        bands[k] = [(s, *mean_std([100 * c[s] for c in curves])) for s in steps]
    base = mean_std([100 * c[0] for c in runs["rlme"] if 0 in c])  # one base per seed (rlvr's step 0 is the same)

    print(f"{len(dirs)} seeds; greedy test accuracy, mean ± std:")
    print(f"  base  {base[0]:5.1f} ± {base[1]:.1f}")
    for k in ("rlme", "rlvr"):
        s, m, sd = bands[k][-1]
        print(f"  {k}  {m:5.1f} ± {sd:.1f}   (step {s})")
    gap, gap_sd = mean_std([100 * (b[max(b)] - a[max(a)]) for a, b in zip(runs["rlme"], runs["rlvr"])])
    print(f"  RLVR - RLME at the last step: {gap:.1f} ± {gap_sd:.1f} points")

    W, H, x0, y0, w, h = 560, 360, 70, 40, 460, 270
    last = max(s for b in bands.values() for s, _, _ in b) or 1
    X = lambda s: x0 + w * s / last
    Y = lambda a: y0 + h * (1 - a / 100)
    svg = page(W, H, f"greedy test accuracy, mean ± std of {len(dirs)} seeds")
    svg.append(f"<rect x='{x0}' y='{y0}' width='{w}' height='{h}' fill='none' stroke='#999'/>")
    svg += percent_grid(x0, w, Y)
    for s in sorted({s for b in bands.values() for s, _, _ in b}):
        svg.append(f"<text x='{X(s)}' y='{y0 + h + 16}' font-size='11' text-anchor='middle'>{s}</text>")
    svg.append(f"<text x='{x0 + w / 2}' y='{H - 8}' font-size='12' text-anchor='middle'>RL step</text>")
    svg.append(f"<line x1='{x0}' y1='{Y(base[0])}' x2='{x0 + w}' y2='{Y(base[0])}' stroke='#555' stroke-dasharray='5,4'/>"
               f"<text x='{x0 + 4}' y='{Y(base[0]) - 4}' font-size='10' fill='#555'>base {base[0]:.1f}%</text>")
    colors = {"rlme": ("#d62728", "RLME (no labels)"), "rlvr": ("#1f77b4", "RLVR (labels)")}
    for i, (k, b) in enumerate(bands.items()):
        color, name = colors[k]
        upper = " ".join(f"{X(s):.1f},{Y(m + sd):.1f}" for s, m, sd in b)
        lower = " ".join(f"{X(s):.1f},{Y(m - sd):.1f}" for s, m, sd in reversed(b))
        svg.append(f"<polygon points='{upper} {lower}' fill='{color}' fill-opacity='0.18' stroke='none'/>")
        svg.append(f"<polyline points='{' '.join(f'{X(s):.1f},{Y(m):.1f}' for s, m, _ in b)}' fill='none' stroke='{color}' stroke-width='2.5'/>")
        svg.append(legend_line(x0 + 12, y0 + 16 + 18 * i, color, name))
    save(out, svg)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
