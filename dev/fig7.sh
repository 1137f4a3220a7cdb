#!/usr/bin/env bash
# fig7.sh — the paper's Fig. 7 at small scale: an answer injected into the question
# ("A friend says the answer is N."), and whether RLME's meta-question decides if the
# policy rationalises it (writes its own lines, then the injected number as final).
#
#   dev/fig7.sh [OUT_DIR] [THREADS]
#
# 1. dev/fig7_data.py writes OUT_DIR/data: the default splits with injected answers
#    (30 % of the train questions, right 70 % of the time; half of the RL prompts, a
#    random number) and a test split whose every question carries a wrong one;
# 2. a base pretrained on them (`pretrain --data OUT_DIR/data`): its writer follows an
#    injected answer half the time, its judge of "Is the answer correct?" learns that a
#    final equal to the injected answer is usually right, while "Does the whole solution
#    logically lead ...?" says No to a final the lines do not produce (about 15 minutes);
# 3. three RL runs from it (plain `rl`): RLME asking "correct?", RLME asking "logically
#    leads?", and RLVR (about 2.5 minutes each);
# 4. greedy accuracy on 500 test problems, plain and with a wrong injected answer, how
#    often the final is the injected number and how often the solution appeals to it
#    ("The friend says ..."): `eval --out` writes the completions, dev/fig7.py counts
#    them into OUT_DIR/fig7.csv and draws OUT_DIR/fig7.svg.
# Finished runs are kept and stopped ones continue, so the script can be run again.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-out-fig7}; threads=${2:-2}
[ -x ./train_rlme ] || make
mkdir -p "$out"
[ -f "$out/data/test_injected.jsonl" ] || python3 dev/fig7_data.py data/synth "$out/data"
correct="Is the answer correct?"
logic="Does the whole solution logically lead from the question to an answer?"

# each run continues from its state when there is one (a finished run just returns)
resume() { [ -f "$out/$1.state" ] && echo --resume || true; }
./train_rlme pretrain --data "$out/data" --out "$out/base.bin" --threads "$threads" $(resume base)
rl() { # rl NAME REWARD [FLAGS...]
    local name=$1 reward=$2; shift 2
    ./train_rlme rl --init "$out/base.bin" --data "$out/data" --reward "$reward" --out "$out/$name.bin" \
        --threads "$threads" $(resume "$name") "$@"
}
rl rlme-correct rlme --meta "$correct"
rl rlme-logic rlme --meta "$logic"
rl rlvr rlvr

for p in base rlme-correct rlme-logic rlvr; do
    ./train_rlme eval --model "$out/$p.bin" --data "$out/data/test.jsonl" --limit 500 --threads "$threads" \
        --out "$out/$p-plain.jsonl"
    ./train_rlme eval --model "$out/$p.bin" --data "$out/data/test_injected.jsonl" --limit 500 --threads "$threads" \
        --out "$out/$p-injected.jsonl"
done
python3 dev/fig7.py "$out" "$out/fig7.csv" "$out/fig7.svg"
