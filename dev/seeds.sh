#!/usr/bin/env bash
# seeds.sh — the default run (Fig. 2) over several pretraining seeds, drawn as mean ± std
# bands of greedy and sampled test accuracy.
#
#   [SIMD=avx512|avx2|neon|none] dev/seeds.sh [N_SEEDS] [OUT_DIR] [--shared-base]
#
# Seed s runs `./train_rlme --seed s --out OUT_DIR/seed-s`: its own pretraining, then
# RLME and RLVR from that base (about 14 minutes each on the 2-core Zen 4 of the README).
# SIMD=... first rebuilds ./train_rlme with that GEMM kernel (`make SIMD=...`), so a
# distribution can be drawn per kernel, or over runs of several kernels together
# (dev/bands.py OUT.svg DIR... takes any run directories). With --shared-base every seed
# starts from out/base.bin (made by a plain `./train_rlme` first), so only the RL varies.
# Runs already finished are kept (the default run resumes), so the script can be stopped
# and started again. Then dev/bands.py writes OUT_DIR/bands.svg and the table.
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-3}; out=${2:-out-seeds}; shared=${3:-}
if [ -n "${SIMD:-}" ]; then make SIMD="$SIMD" train_rlme; else [ -x ./train_rlme ] || make; fi
./train_rlme bench --steps 1 --layers 1 --channels 32 --heads 2 --seq 32 --batch 2 | head -1
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
