#!/usr/bin/env bash
# seeds.sh — the default run (Fig. 2) over several seeds, drawn as mean ± std bands.
#
#   dev/seeds.sh [N_SEEDS] [OUT_DIR] [--shared-base]
#
# Seed s runs `./train_rlme --seed s --out OUT_DIR/seed-s`: its own pretraining, then
# RLME and RLVR from that base (about 19 minutes each on the 2-core machine of the
# README). With --shared-base every seed starts from out/base.bin (made by a plain
# `./train_rlme` first), so only the RL varies and each seed takes about 7 minutes.
# Runs already finished are kept (the default run resumes), so the script can be
# stopped and started again. Then dev/bands.py writes OUT_DIR/bands.svg and the table.
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-3}; out=${2:-out-seeds}; shared=${3:-}
[ -x ./train_rlme ] || make
base=()
if [ "$shared" = --shared-base ]; then
    [ -f out/base.bin ] || ./train_rlme # the default run makes out/base.bin first
    base=(--base out/base.bin)
fi
dirs=()
for s in $(seq 1 "$n"); do
    echo "== seed $s of $n"
    ./train_rlme --seed "$s" --out "$out/seed-$s" "${base[@]}"
    dirs+=("$out/seed-$s")
done
python3 dev/bands.py "$out/bands.svg" "${dirs[@]}"
