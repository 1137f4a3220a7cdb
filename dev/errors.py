#!/usr/bin/env python3
"""errors.py — what kind of mistakes a checkpoint makes on the synthetic test split.

usage: dev/errors.py CKPT [N_QUESTIONS (60)] [SAMPLES (8)] [TEMPERATURE (1.0)]

Samples each of the first N test questions SAMPLES times with `./train_rlme sample` and
sorts every wrong answer by the first line where it leaves the right solution ("Check:"
lines skipped):
  habit:LABEL    the line's operands are right, its operation is not (LABEL names the
                 event; "Buys" also counts a buying event done in one line, c + bags)
  slip           the right expression with a wrong result
  operand:LABEL  the right event with another number
  structure      another event than the right one (missing, extra, reordered)
  malformed      a line that is not "LABEL: x OP y=<<...>>r."
  final          every line right, the final number not (with checks: "final(checks)")
and counts "Check:" lines per sample. Labels are read here, for diagnosis only. A dev
tool: Python's standard library and the built ./train_rlme.
"""
import collections
import json
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LINE = re.compile(r"^([A-Za-z ]+): (\d+)([-+*/])(\d+)=(?:<<[^>]*>>)?(\d+)\.?$")


def classify(gold_lines, got_lines):
    """the error kind of one wrong answer (gold_lines end with '#### N')"""
    steps = [l for l in got_lines if not l.startswith("Check")]
    for i, g in enumerate(gold_lines[:-1]):
        o = steps[i] if i < len(steps) else ""
        if o == g:
            continue
        mg, mo = LINE.match(g), LINE.match(o)
        if not mo:
            return "malformed"
        lg, ag, og, bg, _ = mg.groups()
        lo, ao, oo, bo, _ = mo.groups()
        if lg == lo and (ag, og, bg) == (ao, oo, bo):
            return "slip"
        if lg == lo and (ag, bg) == (ao, bo):
            return "habit:" + lg
        if lg == "Bags" and lo == "Buys" and oo == "+" and bo == ag:
            return "habit:Buys"
        return "operand:" + lg if lg == lo else "structure"
    return "final(checks)" if len(steps) < len(got_lines) else "final"


def main():
    if len(sys.argv) > 1 and sys.argv[1] in ("-h", "--help"):
        print(__doc__.strip())
        return
    if len(sys.argv) < 2:
        sys.exit("usage: dev/errors.py CKPT [N_QUESTIONS] [SAMPLES] [TEMPERATURE] (--help for more)")
    model = sys.argv[1]
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 60
    k = int(sys.argv[3]) if len(sys.argv) > 3 else 8
    temperature = sys.argv[4] if len(sys.argv) > 4 else "1.0"
    with open(os.path.join(ROOT, "data/synth/test.jsonl")) as f:
        problems = [json.loads(line) for line in f][:n]
    kinds, checks, total = collections.Counter(), 0, 0
    for qi, p in enumerate(problems):
        out = subprocess.run([os.path.join(ROOT, "train_rlme"), "sample", "--model", model, "--question", p["question"],
                              "--temperature", temperature, "--num", str(k), "--seed", str(qi + 1), "--max-new", "128",
                              "--threads", "1"], capture_output=True, text=True, check=True).stdout
        gold = [l.strip() for l in p["answer"].split("\n")]
        for sample in out.split("---\n")[:k]:
            got = [l.strip() for l in sample.strip().split("\n") if l.strip()]
            total += 1
            checks += sum(l.startswith("Check") for l in got)
            kinds["correct" if got and got[-1] == gold[-1] else classify(gold, got)] += 1
    print(f"{model}: {total} samples, {checks / total:.2f} check lines per sample")
    for kind, c in kinds.most_common():
        print(f"  {kind:22s} {c:5d}  {100 * c / total:5.1f}%")


if __name__ == "__main__":
    main()
