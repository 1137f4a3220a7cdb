#!/usr/bin/env bash
# scaling.sh — data-parallel ranks against threads on one machine: N = 1, 2 ranks ×
# 1, 2 threads each, for pretraining steps and RL steps of the default model, and a
# projection to more machines from the measured compute and the all-reduce's size.
#
#   dev/scaling.sh BASE.bin [OUT_DIR]
#
# BASE.bin: a base of the default model (out/base.bin of `./train_rlme`), the RL's --init.
# Needs `make MPI=1` (the script builds test/bin/default-mpi/train_rlme). Each
# configuration runs 60 pretraining steps (B=16 rows of 256 tokens; tokens/s over steps
# 20 to 59, past the first steps' warm-up) and 3 RLME steps (16 prompts x 8 samples); the
# table gives tokens/s, seconds per RL phase (rollout, reward, update: rank 0's) and the
# seconds in the gradients' all-reduce, all steps together. Run it on an idle machine;
# about 5 minutes on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."
base=${1:?usage: dev/scaling.sh BASE.bin [OUT_DIR]}; out=${2:-out-scaling}
make -s MPI=1 test/bin/default-mpi/train_rlme
BIN=test/bin/default-mpi/train_rlme
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
mkdir -p "$out"
"$BIN" bench --steps 1 --layers 1 --channels 32 --heads 2 --seq 32 --batch 2 | head -1
echo "| ranks × threads | pretrain tok/s | RL step s | rollout s | reward s | update s | all-reduce s (pretrain, RL) |"
echo "|---|---|---|---|---|---|---|"
for n in 1 2; do for t in 1 2; do
    d=$out/n$n-t$t
    rm -rf "$d"
    mpirun -np $n --bind-to none "$BIN" pretrain --steps 60 --eval-every 1000 --eval-n 1 --threads $t \
        --out "$d/pre.bin" 2> "$d.pre.err" || { cat "$d.pre.err"; exit 1; }
    mpirun -np $n --bind-to none "$BIN" rl --init "$base" --reward rlme --steps 3 --eval-every 1000 --eval-n 1 \
        --eval-k 0 --threads $t --out "$d/rlme.bin" 2> "$d.rl.err" || { cat "$d.rl.err"; exit 1; }
    # the CSV's tok_per_s is over all steps so far: tokens / seconds between steps 20 and 59
    tok=$(awk -F, '$1 == 20 { t0 = $5; s0 = $5 / $6 } $1 == 59 { printf "%.0f", ($5 - t0) / ($5 / $6 - s0) }' "$d/pre.csv")
    rl=$(awk -F, 'NR > 2 { r += $11; w += $12; u += $13; k++ } END { printf "%.2f | %.2f | %.2f | %.2f", (r + w + u) / k, r / k, w / k, u / k }' "$d/rlme.csv")
    ar() { sed -n 's/.* \([0-9.]*\) s in the gradients.*/\1/p' "$1" | head -1; }
    allreduce="-"; [ $n = 1 ] || allreduce="$(ar "$d.pre.err"), $(ar "$d.rl.err")"
    echo "| $n × $t | $tok | $rl | $allreduce |"
done; done
params=$(sed -n 's/.*: \([0-9]*\) parameters.*/\1/p' "$out/n1-t1.pre.err" | head -1)
echo "(one all-reduce per update: $params parameters x 4 bytes = $(awk -v p="$params" 'BEGIN { printf "%.2f MB", 4 * p / 1e6 }'))"
