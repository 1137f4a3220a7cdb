#!/usr/bin/env bash
# kl_sweep.sh — RLME and RLVR from one base over a grid of KL weights β, several RL seeds.
#
#   dev/kl_sweep.sh [SEEDS] [OUT_DIR] [BETAS]      (defaults: 3, out-kl, "0 0.2 0.3 0.5 1")
#
# Every run is `train_rlme rl --init out/base.bin --reward R --kl β --seed S`
# (the default run's RL settings otherwise), two at a time with one thread each (the
# same bits as two threads); each takes about 5 minutes side by side on the 2-core
# machine of the README. Finished runs are kept, so the script can be stopped and started
# again, or rerun with more seeds. Then dev/kl_sweep.py draws OUT_DIR/kl_sweep.svg: the
# last step's greedy test accuracy of each reward against β, mean ± std over the seeds.
set -euo pipefail
cd "$(dirname "$0")/.."
seeds=${1:-3}; out=${2:-out-kl}; betas=${3:-"0 0.2 0.3 0.5 1"}
[ -x ./train_rlme ] || make
[ -f out/base.bin ] || ./train_rlme # the default run makes out/base.bin first
mkdir -p "$out"
jobs=()
for s in $(seq 1 "$seeds"); do
    for b in $betas; do
        for r in rlme rlvr; do
            run="$out/$r-kl$b-seed$s"
            # a finished run said so in its log; an interrupted one resumes from its state
            grep -qs "^wrote $run.bin" "$run.log" && continue
            resume=(); [ -f "$run.state" ] && resume=(--resume)
            jobs+=("./train_rlme rl --init out/base.bin --reward $r --kl $b --seed $s --threads 1 --out $run.bin ${resume[*]} > $run.log 2>&1")
        done
    done
done
echo "${#jobs[@]} runs to do in $out"
if [ ${#jobs[@]} -gt 0 ]; then
    printf '%s\0' "${jobs[@]}" | OMP_WAIT_POLICY=passive xargs -0 -P 2 -I{} bash -c '{} || { echo "failed: {}" >&2; exit 255; }'
fi
python3 dev/kl_sweep.py "$out/kl_sweep.svg" "$out"
