#!/usr/bin/env bash
# habits.sh — the default run over several seeds with habits tied to the question's wording
# (`pretrain --habits phrasing`) instead of to the event's type, beside dev/seeds.sh's runs.
#
#   [SIMD=avx512|avx2|neon|none] dev/habits.sh [N_SEEDS] [OUT_DIR] [PRETRAIN_FLAGS...]
#
# e.g. dev/habits.sh 3 out-habits-07 --habit-p 0.7. Seed s pretrains
# OUT_DIR/seed-s/base.bin with the default recipe but --habits phrasing (and
# PRETRAIN_FLAGS), then runs the default RLME and RLVR from it (`./train_rlme --seed s
# --base ...`): about 14 minutes each on the README's 2-core Zen 4. Finished runs are kept. Then dev/bands.py
# writes OUT_DIR/bands.svg and the table.
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-3}; out=${2:-out-habits}; shift $(( $# < 2 ? $# : 2 ))
if [ -n "${SIMD:-}" ]; then make SIMD="$SIMD" train_rlme; else [ -x ./train_rlme ] || make; fi
./train_rlme bench --steps 1 --layers 1 --channels 32 --heads 2 --seq 32 --batch 2 | head -1
dirs=()
for s in $(seq 1 "$n"); do
    d="$out/seed-$s"
    echo "== seed $s of $n"
    mkdir -p "$d"
    resume=(); [ -f "$d/base.state" ] && resume=(--resume) # a finished pretraining says so and stops
    ./train_rlme pretrain --habits phrasing "$@" --seed "$s" --out "$d/base.bin" "${resume[@]}"
    ./train_rlme --seed "$s" --out "$d" --base "$d/base.bin"
    dirs+=("$d")
done
python3 dev/bands.py "$out/bands.svg" "${dirs[@]}"
