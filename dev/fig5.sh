#!/usr/bin/env bash
# fig5.sh — the paper's Fig. 5 mitigations at small scale, each one measured run from one
# base, beside plain RLME and RLVR from the same base:
#
#   dev/fig5.sh [OUT_DIR] [SEED] [THREADS]
#
# 1. a base pretrained as the default one, except that half of its "Is the answer
#    correct?" documents show the reference answer (`pretrain --meta-ref 0.5`), so that
#    its judge can read one (about 10 minutes);
# 2. RL runs from it (plain `rl`, about 2.5 minutes each):
#      rlme            the label-free default
#      rlme-10gt       RLME-10GT: for 10 % of the samples the evaluator sees the label
#      rlme-1gt        RLME-1GT: for 1 %
#      rlme-early      early stopping on 200 held-out labelled rl problems, evaluated
#                      every 5 steps, patience 2 (--val-n 200 --patience 2)
#      rlme-mean2      two meta-questions ("correct?", "logically leads?"), mean of log p
#      rlme-min2       the same two, worst case: min of log p
#      rlvr            RLVR at its own best settings (no KL)
#      rlvr-kl         RLVR under RLME's trainer settings (KL 0.5): the controlled comparison
# 3. dev/fig5.py draws OUT_DIR/fig5.svg (greedy and sampled test accuracy against the RL
#    step) and prints the table: accuracy at the last step (early stopping: at the kept step).
# Finished runs are kept and stopped ones continue, so the script can be run again.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-out-fig5}; seed=${2:-1}; threads=${3:-2}
[ -x ./train_rlme ] || make
mkdir -p "$out"
correct="Is the answer correct?"
logic="Does the whole solution logically lead from the question to an answer?"

# each run continues from its state when there is one (a finished run just returns)
resume() { [ -f "$out/$1.state" ] && echo --resume || true; }
./train_rlme pretrain --meta-ref 0.5 --seed "$seed" --out "$out/base.bin" --threads "$threads" $(resume base)
rl() { # rl NAME REWARD [FLAGS...]
    local name=$1 reward=$2; shift 2
    ./train_rlme rl --init "$out/base.bin" --reward "$reward" --seed "$seed" --out "$out/$name.bin" \
        --threads "$threads" $(resume "$name") "$@"
}
rl rlme rlme
rl rlme-10gt rlme --gt-frac 0.1
rl rlme-1gt rlme --gt-frac 0.01
rl rlme-early rlme --val-n 200 --patience 2 --eval-every 5
rl rlme-mean2 rlme --meta "$correct" --meta "$logic"
rl rlme-min2 rlme --meta "$correct" --meta "$logic" --aggregate min
rl rlvr rlvr
rl rlvr-kl rlvr --kl 0.5
python3 dev/fig5.py "$out" "$out/fig5.svg"
