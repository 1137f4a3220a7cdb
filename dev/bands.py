#!/usr/bin/env python3
"""bands.py — mean ± std of several seeds' RLME and RLVR runs, as a table and an SVG.

usage: dev/bands.py OUT.svg RUN_DIR...

Each RUN_DIR holds the rlme.csv and rlvr.csv of one `./train_rlme --seed S` run
(dev/seeds.sh makes them; runs of different kernels may be mixed). The figure draws,
against the RL step, the mean test accuracy of each reward with a band of ± one standard
deviation across the runs: greedy (solid) and sampled (dashed, where the logs carry it),
and the base's mean as a dashed grey line. Standard library only (a dev tool, like the
rest of dev/; the project itself needs none of it).
"""
import csv
import sys

from svgfig import legend_line, mean_std, page, percent_grid, save


def test_curves(path):
    """({step: greedy}, {step: sampled}) from the rows of a run's CSV that carry an evaluation."""
    greedy, sampled = {}, {}
    with open(path, newline="") as f:
        for r in csv.DictReader(f):
            if r["test_acc"]:
                greedy[int(r["step"])] = float(r["test_acc"])
                if r.get("test_acc_sampled"):
                    sampled[int(r["step"])] = float(r["test_acc_sampled"])
    return greedy, sampled


def band(curves):
    """[(step, mean, std)] over the steps every curve has, in %."""
    if not curves or not all(curves):
        return []
    steps = sorted(set.intersection(*(set(c) for c in curves)))
    return [(s, *mean_std([100 * c[s] for c in curves])) for s in steps]


def main():
    if len(sys.argv) < 3:
        sys.exit("usage: dev/bands.py OUT.svg RUN_DIR...")
    out, dirs = sys.argv[1], sys.argv[2:]
    runs = {k: [test_curves(f"{d}/{k}.csv") for d in dirs] for k in ("rlme", "rlvr")}
    bands = {(k, m): band([c[m] for c in curves]) for k, curves in runs.items() for m in (0, 1)}

    print(f"{len(dirs)} runs; test accuracy, mean ± std (greedy | sampled):")
    for m, what in ((0, "greedy"), (1, "sampled")):
        curves = {k: [c[m] for c in runs[k]] for k in runs}
        if not all(curves["rlme"]) or not all(curves["rlvr"]):
            continue
        base = mean_std([100 * c[0] for c in curves["rlme"] if 0 in c])  # one base per run
        print(f"  {what:8} base {base[0]:5.1f} ± {base[1]:4.1f}", end="")
        for k in ("rlme", "rlvr"):
            s, mean, sd = bands[(k, m)][-1]
            print(f"   {k} {mean:5.1f} ± {sd:4.1f}", end="")
        gaps = [100 * (b[max(b)] - a[max(a)]) for a, b in zip(curves["rlme"], curves["rlvr"])]
        g, gsd = mean_std(gaps)
        print(f"   RLVR - RLME at the last step {g:5.1f} ± {gsd:4.1f} (largest {max(gaps):.1f})")

    W, H, x0, y0, w, h = 560, 360, 70, 40, 460, 270
    last = max(s for b in bands.values() for s, _, _ in b) or 1
    X = lambda s: x0 + w * s / last
    Y = lambda a: y0 + h * (1 - a / 100)
    svg = page(W, H, f"test accuracy, mean ± std of {len(dirs)} runs (greedy; sampled dashed)")
    svg.append(f"<rect x='{x0}' y='{y0}' width='{w}' height='{h}' fill='none' stroke='#999'/>")
    svg += percent_grid(x0, w, Y)
    for s in sorted({s for b in bands.values() for s, _, _ in b}):
        svg.append(f"<text x='{X(s)}' y='{y0 + h + 16}' font-size='11' text-anchor='middle'>{s}</text>")
    svg.append(f"<text x='{x0 + w / 2}' y='{H - 8}' font-size='12' text-anchor='middle'>RL step</text>")
    base = mean_std([100 * c[0][0] for c in runs["rlme"] if 0 in c[0]])
    svg.append(f"<line x1='{x0}' y1='{Y(base[0])}' x2='{x0 + w}' y2='{Y(base[0])}' stroke='#555' stroke-dasharray='5,4'/>"
               f"<text x='{x0 + 4}' y='{Y(base[0]) - 4}' font-size='10' fill='#555'>base {base[0]:.1f}%</text>")
    colors = {"rlme": ("#d62728", "RLME (no labels)"), "rlvr": ("#1f77b4", "RLVR (labels)")}
    for i, k in enumerate(("rlme", "rlvr")):
        color, name = colors[k]
        for m in (0, 1):
            b = bands[(k, m)]
            if not b:
                continue
            upper = " ".join(f"{X(s):.1f},{Y(mean + sd):.1f}" for s, mean, sd in b)
            lower = " ".join(f"{X(s):.1f},{Y(mean - sd):.1f}" for s, mean, sd in reversed(b))
            svg.append(f"<polygon points='{upper} {lower}' fill='{color}' fill-opacity='{0.18 if m == 0 else 0.08}' "
                       "stroke='none'/>")
            dash = " stroke-dasharray='6,3'" if m else ""
            svg.append(f"<polyline points='{' '.join(f'{X(s):.1f},{Y(mean):.1f}' for s, mean, _ in b)}' fill='none' "
                       f"stroke='{color}' stroke-width='2.5'{dash}/>")
        svg.append(legend_line(x0 + 12, y0 + 16 + 18 * i, color, name))
    save(out, svg)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
