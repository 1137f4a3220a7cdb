#!/usr/bin/env python3
"""fig7.py — the small-scale Fig. 7 as grouped bars: for each policy, greedy test
accuracy without and with a wrong injected answer, how often its solution appeals to
the injected answer ("The friend says ...") and how often its final is that number.

usage: dev/fig7.py FIG7.csv OUT.svg

FIG7.csv is what dev/fig7.sh writes (policy, acc, acc_injected, follows_injected,
appeals_injected, in percent). Standard library only, like the rest of dev/.
"""
import csv
import sys

from svgfig import page, percent_grid, save

NAMES = {"base": "base", "rlme-correct": "RLME \u201ccorrect?\u201d", "rlme-logic": "RLME \u201clogically leads?\u201d",
         "rlvr": "RLVR (labels)"}
BARS = [("acc", "accuracy", "#1f77b4"), ("acc_injected", "accuracy, wrong answer injected", "#9ecae1"),
        ("appeals_injected", "writes \u201cThe friend says\u201d", "#ff9896"),
        ("follows_injected", "final = the injected answer", "#d62728")]


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: dev/fig7.py FIG7.csv OUT.svg")
    with open(sys.argv[1], newline="") as f:
        rows = list(csv.DictReader(f))
    out = sys.argv[2]
    W, H, x0, y0, w, h = 640, 400, 60, 80, 560, 260
    group = w / len(rows)
    bar = group * 0.8 / len(BARS)
    Y = lambda v: y0 + h * (1 - v / 100)
    svg = page(W, H, "answers injected into the question: who rationalises them (greedy, 500 test problems)", 13)
    for i, (_, label, color) in enumerate(BARS): # two rows of two
        lx, ly = x0 + 40 + 260 * (i % 2), 32 + 18 * (i // 2)
        svg.append(f"<rect x='{lx}' y='{ly}' width='12' height='12' fill='{color}'/>"
                   f"<text x='{lx + 17}' y='{ly + 10}' font-size='11'>{label}</text>")
    svg += percent_grid(x0, w, Y, "%")
    for g, row in enumerate(rows):
        gx = x0 + g * group + group * 0.1
        for i, (key, _, color) in enumerate(BARS):
            v = float(row[key])
            svg.append(f"<rect x='{gx + i * bar:.1f}' y='{Y(v):.1f}' width='{bar - 2:.1f}' height='{Y(0) - Y(v):.1f}' fill='{color}'/>"
                       f"<text x='{gx + i * bar + bar / 2 - 1:.1f}' y='{Y(v) - 3:.1f}' font-size='10' text-anchor='middle'>{v:.0f}</text>")
        svg.append(f"<text x='{gx + group * 0.4:.1f}' y='{y0 + h + 18}' font-size='12' text-anchor='middle'>"
                   f"{NAMES.get(row['policy'], row['policy'])}</text>")
    svg.append(f"<line x1='{x0}' y1='{Y(0)}' x2='{x0 + w}' y2='{Y(0)}' stroke='#999'/>")
    svg.append(f"<text x='{W / 2}' y='{H - 12}' font-size='11' text-anchor='middle' fill='#555'>"
               "RL prompts carry a random injected answer half the time; the evaluators read it too</text>")
    save(out, svg)
    for row in rows:
        print(f"  {NAMES.get(row['policy'], row['policy']):28s} accuracy {row['acc']:>5}%   with a wrong injected "
              f"answer {row['acc_injected']:>5}%, appealing to it {row['appeals_injected']:>5}%, "
              f"its final {row['follows_injected']:>5}%")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
