#!/usr/bin/env python3
"""errors.py — what kind of mistakes a checkpoint makes on the synthetic test split.

usage: dev/errors.py CKPT [N_QUESTIONS (60)] [SAMPLES (8)] [TEMPERATURE (1.0)] [--judge EVALUATOR]

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
and counts "Check:" lines per sample. With --judge, every sample is also judged by
EVALUATOR ("Is the answer correct?", `./train_rlme judge`): per kind the mean p(Yes) and
the AUROC of the correct samples against that kind (across questions). Labels are read
here, for diagnosis only. A dev tool: Python's standard library and the built ./train_rlme.
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


def judge(evaluator, question, answer):
    """the evaluator's p(Yes) for "Is the answer correct?" """
    out = subprocess.run([os.path.join(ROOT, "train_rlme"), "judge", "--model", evaluator, "--question", question,
                          "--answer", answer, "--threads", "1"], capture_output=True, text=True, check=True).stdout
    return float(re.search(r"p\(Yes\) = ([0-9.e+-]+)", out).group(1))


def auroc(pos, neg):
    """P(a random positive scores above a random negative), ties counting half"""
    return sum((a > b) + 0.5 * (a == b) for a in pos for b in neg) / (len(pos) * len(neg))


def main():
    if len(sys.argv) > 1 and sys.argv[1] in ("-h", "--help"):
        print(__doc__.strip())
        return
    if len(sys.argv) < 2:
        sys.exit("usage: dev/errors.py CKPT [N_QUESTIONS] [SAMPLES] [TEMPERATURE] (--help for more)")
    args, evaluator = sys.argv[1:], None
    if "--judge" in args:
        i = args.index("--judge")
        if i + 1 >= len(args):
            sys.exit("--judge needs a checkpoint")
        evaluator = args[i + 1]
        del args[i:i + 2]
    model = args[0]
    n = int(args[1]) if len(args) > 1 else 60
    k = int(args[2]) if len(args) > 2 else 8
    temperature = args[3] if len(args) > 3 else "1.0"
    with open(os.path.join(ROOT, "data/synth/test.jsonl")) as f:
        problems = [json.loads(line) for line in f][:n]
    kinds, checks, total = collections.Counter(), 0, 0
    p_yes = collections.defaultdict(list)  # kind (label dropped) -> the evaluator's p(Yes) of each sample
    within = [0.0, 0]  # pairs (correct, wrong) of one question: correct ranked above, how many
    for qi, p in enumerate(problems):
        out = subprocess.run([os.path.join(ROOT, "train_rlme"), "sample", "--model", model, "--question", p["question"],
                              "--temperature", temperature, "--num", str(k), "--seed", str(qi + 1), "--max-new", "128",
                              "--threads", "1"], capture_output=True, text=True, check=True).stdout
        gold = [l.strip() for l in p["answer"].split("\n")]
        judged = []  # (is correct, p(Yes)) of this question's samples
        for sample in out.split("---\n")[:k]:
            got = [l.strip() for l in sample.strip().split("\n") if l.strip()]
            total += 1
            checks += sum(l.startswith("Check") for l in got)
            kind = "correct" if got and got[-1] == gold[-1] else classify(gold, got)
            kinds[kind] += 1
            if evaluator:
                judged.append((kind == "correct", judge(evaluator, p["question"], "\n".join(got))))
                p_yes[kind.split(":")[0]].append(judged[-1][1])
        right = [v for ok, v in judged if ok]
        wrong_here = [v for ok, v in judged if not ok]
        if right and wrong_here:
            within[0] += auroc(right, wrong_here) * len(right) * len(wrong_here)
            within[1] += len(right) * len(wrong_here)
    print(f"{model}: {total} samples, {checks / total:.2f} check lines per sample")
    for kind, c in kinds.most_common():
        print(f"  {kind:22s} {c:5d}  {100 * c / total:5.1f}%")
    if evaluator and p_yes["correct"]:
        print(f"judged by {evaluator}: mean p(Yes), AUROC of the correct samples against each kind")
        wrong = [v for kind, vs in p_yes.items() if kind != "correct" for v in vs]
        for kind, vs in sorted(p_yes.items(), key=lambda kv: -len(kv[1])):
            against = "" if kind == "correct" else f"  AUROC {auroc(p_yes['correct'], vs):.3f}"
            print(f"  {kind:22s} {len(vs):5d}  p {sum(vs) / len(vs):.3f}{against}")
        if wrong:
            print(f"  all wrong ones         {len(wrong):5d}  AUROC {auroc(p_yes['correct'], wrong):.3f}")
        if within[1]:
            print(f"  within a question      {within[1]:5d} pairs  AUROC {within[0] / within[1]:.3f}")


if __name__ == "__main__":
    main()
