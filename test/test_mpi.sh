#!/usr/bin/env bash
# test_mpi.sh — data-parallel ranks (`make test MPI=1`): under `mpirun -np 1` the MPI
# build is bit-identical to the plain one; `mpirun -np 2` (one thread each) gives the
# same log rows and, since the gradients are summed in another order, weights equal to
# rounding: at most MAX_DIFF apart, half of the most one AdamW step at lr 1e-3 moves a
# weight (Adam's division by sqrt(v) magnifies rounding where v is tiny); reruns are
# bit-identical; a run interrupted on one rank saves once and resumes exactly (with 2
# ranks, and with 1); ranks started with different flags are refused. Tiny models, about
# a minute. Run from the repository root.
set -u
BIN=${TRAIN_RLME:-test/bin/default/train_rlme}
MPI_BIN=${TRAIN_RLME_MPI:-test/bin/default-mpi/train_rlme}
DATA=data/synth
MAX_DIFF=5e-4
source "$(dirname "$0")/check.sh"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
# root may run mpirun here (CI runs as root); shared memory between the local ranks only
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_btl=self,vader
export OMPI_MCA_btl_vader_single_copy_mechanism=none OMPI_MCA_rmaps_base_oversubscribe=1
mpi() { local n=$1; shift; mpirun -np "$n" --bind-to none "$MPI_BIN" "$@"; }

# the CSVs without their wall-clock columns (pretrain: tok_per_s; rl: sec_rollout..sec_update)
strip_pre() { cut -d, -f1-5,7- "$1"; }
strip_rl() { cut -d, -f1-10,14- "$1"; }
same_log() { [ -s "$1" ] && cmp -s <($3 "$1") <($3 "$2") && echo 1 || echo 0; }
# the largest difference between two checkpoints read as float32 words (header and
# tokenizer bytes are equal, so only the weights count)
max_diff() { paste <(od -An -v -tf4 -w4 "$1") <(od -An -v -tf4 -w4 "$2") |
    awk '{ d = $1 - $2; if (d < 0) d = -d; if (d > m) m = d } END { printf "%.3g\n", m }'; }
close_to() { awk -v d="$(max_diff "$1" "$2")" -v t=$MAX_DIFF 'BEGIN { print (d <= t) ? 1 : 0 }'; }

PRE=(pretrain --data $DATA --layers 1 --heads 2 --channels 16 --seq 192 --batch 4 --steps 60 --eval-every 30
     --eval-n 5 --threads 1)
"$BIN" "${PRE[@]}" --out "$tmp/p1/base.bin" 2> /dev/null
mpi 1 "${PRE[@]}" --out "$tmp/pm1/base.bin" 2> /dev/null
mpi 2 "${PRE[@]}" --out "$tmp/pm2/base.bin" 2> "$tmp/err"
mpi 2 "${PRE[@]}" --out "$tmp/pm2b/base.bin" 2> /dev/null
check "$(cmp -s "$tmp/p1/base.bin" "$tmp/pm1/base.bin" && echo 1 || echo 0)" \
    "pretrain: mpirun -np 1 is bit-identical to the plain binary"
check "$(same_log "$tmp/p1/base.csv" "$tmp/pm2/base.csv" strip_pre)" "pretrain: 2 ranks log the same rows"
check "$(close_to "$tmp/p1/base.bin" "$tmp/pm2/base.bin")" \
    "pretrain: 2 ranks' weights within $MAX_DIFF of one process's after 60 steps ($(max_diff "$tmp/p1/base.bin" "$tmp/pm2/base.bin"))"
check "$(cmp -s "$tmp/pm2/base.bin" "$tmp/pm2b/base.bin" && echo 1 || echo 0)" "pretrain: 2 ranks rerun bit-identically"
check "$(grep -c "2 ranks: .* s in the gradients' all-reduce" "$tmp/err")" "pretrain: 2 ranks report their all-reduce time"

BASE=$tmp/p1/base.bin
for reward in rlme rlvr; do
    RL=(rl --init "$BASE" --data $DATA --reward $reward --prompts 4 --group 3 --max-new 40 --steps 8 --eval-every 4
        --eval-n 5 --lr 1e-3 --threads 1)
    "$BIN" "${RL[@]}" --out "$tmp/r1/$reward.bin" 2> /dev/null
    mpi 1 "${RL[@]}" --out "$tmp/rm1/$reward.bin" 2> /dev/null
    mpi 2 "${RL[@]}" --out "$tmp/rm2/$reward.bin" 2> /dev/null
    check "$(cmp -s "$tmp/r1/$reward.bin" "$tmp/rm1/$reward.bin" && echo 1 || echo 0)" \
        "$reward: mpirun -np 1 is bit-identical to the plain binary"
    check "$(same_log "$tmp/r1/$reward.csv" "$tmp/rm2/$reward.csv" strip_rl)" "$reward: 2 ranks log the same rows"
    check "$(close_to "$tmp/r1/$reward.bin" "$tmp/rm2/$reward.bin")" \
        "$reward: 2 ranks' weights within $MAX_DIFF of one process's after 8 steps ($(max_diff "$tmp/r1/$reward.bin" "$tmp/rm2/$reward.bin"))"
done

# Ctrl-C on one rank alone: every rank stops after the same step, rank 0 saves, and the
# run resumes exactly where it stopped (with 2 ranks, and with 1)
RL=(rl --init "$BASE" --data $DATA --reward rlme --prompts 4 --group 3 --max-new 40 --steps 60 --eval-every 8
    --eval-n 5 --lr 1e-3 --threads 1)
mpi 2 "${RL[@]}" --out "$tmp/full/rlme.bin" 2> /dev/null
rows() { [ -f "$1" ] && wc -l < "$1" || echo 0; }
mkdir -p "$tmp/int"
mpi 2 "${RL[@]}" --out "$tmp/int/rlme.bin" 2> "$tmp/err" & mp=$!
while [ "$(rows "$tmp/int/rlme.csv")" -lt 20 ] && kill -0 $mp 2> /dev/null; do sleep 0.02; done
kill -INT "$(pgrep -f "^$MPI_BIN rl .*$tmp/int/rlme.bin" | sort -n | tail -1)" 2> /dev/null # one rank, not mpirun
wait $mp 2> /dev/null
saved=$(sed -n 's/.*rlme.state at step \([0-9]*\);.*/\1/p' "$tmp/err")
check "$([ -n "$saved" ] && [ "$saved" -lt 61 ] && [ -s "$tmp/int/rlme.state" ] && echo 1 || echo 0)" \
    "Ctrl-C on one rank: the run saves its state (at step ${saved:-none}) and stops"
cp -r "$tmp/int" "$tmp/int1"
mpi 2 "${RL[@]}" --out "$tmp/int/rlme.bin" --resume 2> /dev/null
check "$(cmp -s "$tmp/full/rlme.bin" "$tmp/int/rlme.bin" && same_log "$tmp/full/rlme.csv" "$tmp/int/rlme.csv" strip_rl)" \
    "Ctrl-C, then --resume with 2 ranks: the same weights and log rows as the run never stopped"
"$BIN" "${RL[@]}" --out "$tmp/int1/rlme.bin" --resume 2> /dev/null
check "$(close_to "$tmp/full/rlme.bin" "$tmp/int1/rlme.bin")" \
    "Ctrl-C with 2 ranks, then --resume in one process: weights within $MAX_DIFF ($(max_diff "$tmp/full/rlme.bin" "$tmp/int1/rlme.bin"))"

# ranks that do not run the same run are refused before the first step, in one line
RL=(rl --init "$BASE" --data $DATA --reward rlme --prompts 4 --group 3 --max-new 40 --steps 2 --eval-n 5 --threads 1)
mpirun --bind-to none -np 1 "$MPI_BIN" "${RL[@]}" --lr 1e-3 --out "$tmp/x/rlme.bin" : \
       -np 1 "$MPI_BIN" "${RL[@]}" --lr 2e-3 --out "$tmp/x/rlme.bin" > /dev/null 2> "$tmp/err"; rc=$?
check "$([ $rc -ne 0 ] && grep -q "error: rank 1 of 2 disagrees with rank 0 on the flags" "$tmp/err" && [ "$(grep -c error "$tmp/err")" = 1 ] && echo 1 || echo 0)" \
    "ranks with different flags: refused with one line (exit $rc)"
mpi 2 rl --init "$BASE" --data $DATA --reward rlme --prompts 1 --steps 1 --out "$tmp/x/rlme.bin" > /dev/null 2> "$tmp/err"; rc=$?
check "$([ $rc -ne 0 ] && grep -q "error: --prompts 1: fewer prompts than the 2 ranks" "$tmp/err" && echo 1 || echo 0)" \
    "fewer prompts than ranks: refused (exit $rc)"
summary test_mpi
