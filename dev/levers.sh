#!/usr/bin/env bash
# levers.sh — RL-side levers on the bases of several seeds (dev/seeds.sh's run
# directories), each beside the default run's RLME and RLVR of the same base:
#
#   dev/levers.sh RUN_DIR...          e.g. dev/levers.sh out-seeds/seed-*
#
# In each RUN_DIR (which holds base.bin, rlme.csv and rlvr.csv of one seed S):
#   rlme-min2        RLME with two meta-questions ("correct?", "logically leads?"), the
#                    worst case of the two log p: an ensemble that costs one more forward
#   rlme-min2-kl03   the same with a looser leash, KL 0.3 instead of 0.5
#   rlvr-kl          RLVR under RLME's trainer settings (KL 0.5): the controlled comparison
# about 2.5 minutes each on the README's 2-core machine. Finished runs are kept. Then
# dev/levers.py prints each variant's mean ± std over the seeds and its gap to RLVR.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x ./train_rlme ] || make
correct="Is the answer correct?"
logic="Does the whole solution logically lead from the question to an answer?"
for d in "$@"; do
    s=$(basename "$d" | tr -dc 0-9); s=${s:-1}
    rl() { # rl NAME REWARD [FLAGS...]: continues from its state when there is one
        local name=$1 reward=$2 resume=(); shift 2
        [ -f "$d/$name.state" ] && resume=(--resume)
        ./train_rlme rl --init "$d/base.bin" --reward "$reward" --seed "$s" --out "$d/$name.bin" "${resume[@]}" "$@"
    }
    rl rlme-min2 rlme --meta "$correct" --meta "$logic" --aggregate min
    rl rlme-min2-kl03 rlme --meta "$correct" --meta "$logic" --aggregate min --kl 0.3
    rl rlvr-kl rlvr --kl 0.5
done
python3 dev/levers.py "$@"
