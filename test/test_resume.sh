#!/usr/bin/env bash
# test_resume.sh — nothing lost: a pretraining or RL run that is interrupted (Ctrl-C,
# SIGTERM, a double Ctrl-C, kill -9) and resumed with --resume ends with the same
# checkpoint bytes and the same CSV rows (wall-clock columns aside) as a run that was
# never stopped; a resume with other flags is refused; non-finite steps are skipped,
# and a run of them stops with the weights on disk intact; the thread count changes
# nothing. Tiny models, a few seconds in all. Run from the repository root.
set -u
BIN=${TRAIN_RLME:-./train_rlme}
DATA=data/synth
source "$(dirname "$0")/check.sh"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

PRE=("$BIN" pretrain --data $DATA --layers 1 --heads 2 --channels 16 --seq 192 --batch 4 --steps 300
     --eval-every 40 --eval-n 5 --threads 1)
# the CSV without its wall-clock columns (pretrain: tok_per_s; rl: sec_rollout..sec_update)
strip_pre() { cut -d, -f1-5,7- "$1"; }
strip_rl() { cut -d, -f1-10,14- "$1"; }
same_run() { # same_run <dirA> <dirB> <name> <strip>: checkpoints and CSVs equal
    cmp -s "$1/$3.bin" "$2/$3.bin" && [ -s "$1/$3.csv" ] && cmp -s <($4 "$1/$3.csv") <($4 "$2/$3.csv") && echo 1 || echo 0
}
rows() { [ -f "$1" ] && wc -l < "$1" || echo 0; }
# interrupt <signal...> <csv> <min rows> <command...>: start the command, wait until its
# CSV has the rows, send the signals, print its exit status
interrupt() {
    local sigs=$1 csv=$2 min=$3; shift 3
    "$@" 2> "$tmp/err" & local pid=$!
    while [ "$(rows "$csv")" -lt "$min" ] && kill -0 $pid 2>/dev/null; do sleep 0.02; done
    for s in $sigs; do kill -"$s" $pid 2>/dev/null; done
    wait $pid 2> /dev/null
}

# ---- pretraining ----
"${PRE[@]}" --out "$tmp/full/base.bin" 2> /dev/null
check "$([ -s "$tmp/full/base.bin" ] && [ -s "$tmp/full/base.state" ] && echo 1 || echo 0)" "pretrain writes checkpoint, CSV and state"

interrupt INT "$tmp/int/base.csv" 60 "${PRE[@]}" --out "$tmp/int/base.bin"; rc=$?
check "$([ $rc = 130 ] && grep -q "continue with --resume" "$tmp/err" && echo 1 || echo 0)" "Ctrl-C: exit 130 after saving (rc $rc)"
cp -r "$tmp/int" "$tmp/int2"
"${PRE[@]}" --out "$tmp/int/base.bin" --resume 2> /dev/null
check "$(same_run "$tmp/full" "$tmp/int" base strip_pre)" "pretrain interrupted by Ctrl-C, resumed: same checkpoint and CSV"
"${PRE[@]}" --out "$tmp/int2/base.bin" --resume --threads 2 2> /dev/null
check "$(same_run "$tmp/full" "$tmp/int2" base strip_pre)" "... resumed with 2 threads: the same too"

interrupt TERM "$tmp/term/base.csv" 100 "${PRE[@]}" --out "$tmp/term/base.bin"; rc=$?
"${PRE[@]}" --out "$tmp/term/base.bin" --resume 2> /dev/null
check "$([ $rc = 130 ] && echo "$(same_run "$tmp/full" "$tmp/term" base strip_pre)" || echo 0)" "SIGTERM, resumed: same checkpoint and CSV"

# a double Ctrl-C leaves at once; kill -9 gives no warning at all: what is on disk is
# then the last complete state (saved at each evaluation), never a torn file
interrupt "INT INT" "$tmp/dbl/base.csv" 90 "${PRE[@]}" --out "$tmp/dbl/base.bin"; rc=$?
"${PRE[@]}" --out "$tmp/dbl/base.bin" --resume 2> /dev/null
check "$([ $rc = 130 ] && echo "$(same_run "$tmp/full" "$tmp/dbl" base strip_pre)" || echo 0)" "double Ctrl-C exits 130 at once; resumed: same"
interrupt KILL "$tmp/k9/base.csv" 130 "${PRE[@]}" --out "$tmp/k9/base.bin"
"${PRE[@]}" --out "$tmp/k9/base.bin" --resume 2> /dev/null
check "$(same_run "$tmp/full" "$tmp/k9" base strip_pre)" "kill -9, resumed: same checkpoint and CSV"
check "$(ls "$tmp"/int/*.tmp.* "$tmp"/term/*.tmp.* >/dev/null 2>&1 && echo 0 || echo 1)" "no temporary files left behind by Ctrl-C or SIGTERM"

"${PRE[@]}" --out "$tmp/int/base.bin" --resume --lr 0.001 2> "$tmp/err"; rc=$?
check "$([ $rc != 0 ] && grep -q "cannot resume.*--lr is 0.001 now but was 0.006" "$tmp/err" && echo 1 || echo 0)" "resume with another --lr refused: $(cat "$tmp/err")"
"${PRE[@]}" --out "$tmp/none/base.bin" --resume 2> "$tmp/err"; rc=$?
check "$([ $rc != 0 ] && grep -q "no run state" "$tmp/err" && echo 1 || echo 0)" "resume without a state refused: $(cat "$tmp/err")"
"${PRE[@]}" --out "$tmp/full/base.bin" --resume 2> "$tmp/err"; rc=$?
check "$([ $rc = 0 ] && grep -q "already complete" "$tmp/err" && echo "$(same_run "$tmp/full" "$tmp/int" base strip_pre)" || echo 0)" "resuming a finished run changes nothing"
"${PRE[@]}" --out "$tmp/t2/base.bin" --threads 2 2> /dev/null
check "$(same_run "$tmp/full" "$tmp/t2" base strip_pre)" "1 and 2 threads give the same weights"

# the judging phase's own samples (drawn at its start) are part of the state
OWN=("${PRE[@]}" --steps 100 --judge-frac 0.3 --own-samples 0.5)
"${OWN[@]}" --out "$tmp/ofull/base.bin" 2> /dev/null
interrupt INT "$tmp/oint/base.csv" 85 "${OWN[@]}" --out "$tmp/oint/base.bin"; rc=$?
"${OWN[@]}" --out "$tmp/oint/base.bin" --resume 2> /dev/null
check "$([ $rc = 130 ] && echo "$(same_run "$tmp/ofull" "$tmp/oint" base strip_pre)" || echo 0)" "interrupted after the own samples were drawn, resumed: same"

# numerical faults: one bad step is skipped; three in a row stop the run, and the
# checkpoint on disk holds the last finite weights (it loads: loading refuses NaN)
RLME_FAULT_NAN_STEPS=7 "${PRE[@]}" --steps 40 --out "$tmp/nan1/base.bin" 2> "$tmp/err"; rc=$?
check "$([ $rc = 0 ] && grep -q "step 7: non-finite gradient, update skipped (1 in a row)" "$tmp/err" && echo 1 || echo 0)" "a non-finite gradient skips one update and the run goes on"
RLME_FAULT_NAN_STEPS=20,21,22 "${PRE[@]}" --steps 40 --out "$tmp/nan3/base.bin" 2> "$tmp/err"; rc=$?
check "$([ $rc != 0 ] && grep -q "stopping at step 22: 3 non-finite steps in a row" "$tmp/err" && echo 1 || echo 0)" "three in a row stop the run: $(tail -1 "$tmp/err")"
"$BIN" eval --model "$tmp/nan3/base.bin" --data $DATA/test.jsonl --limit 2 > /dev/null 2>&1
check "$([ $? = 0 ] && echo 1 || echo 0)" "... and the checkpoint it left is finite and loads"

# ---- RL (RLME: evaluator, KL to the initial policy, two updates per batch) ----
RL=("$BIN" rl --init "$tmp/full/base.bin" --data $DATA --reward rlme --prompts 2 --group 3 --max-new 40
    --steps 60 --eval-every 8 --eval-n 5 --lr 1e-3 --threads 1)
"${RL[@]}" --out "$tmp/rfull/rlme.bin" 2> /dev/null
interrupt INT "$tmp/rint/rlme.csv" 20 "${RL[@]}" --out "$tmp/rint/rlme.bin"; rc=$?
"${RL[@]}" --out "$tmp/rint/rlme.bin" --resume 2> /dev/null
check "$([ $rc = 130 ] && echo "$(same_run "$tmp/rfull" "$tmp/rint" rlme strip_rl)" || echo 0)" "rl interrupted by Ctrl-C, resumed: same checkpoint and CSV"
interrupt KILL "$tmp/rk9/rlme.csv" 30 "${RL[@]}" --out "$tmp/rk9/rlme.bin"
"${RL[@]}" --out "$tmp/rk9/rlme.bin" --resume 2> /dev/null
check "$(same_run "$tmp/rfull" "$tmp/rk9" rlme strip_rl)" "rl killed with -9, resumed: same checkpoint and CSV"
"${RL[@]}" --steps 30 --out "$tmp/rext/rlme.bin" 2> /dev/null
"${RL[@]}" --steps 60 --out "$tmp/rext/rlme.bin" --resume 2> /dev/null
check "$(cmp -s "$tmp/rfull/rlme.bin" "$tmp/rext/rlme.bin" && echo 1 || echo 0)" "a finished rl run resumed to more --steps: the weights of one long run"
"${RL[@]}" --out "$tmp/rint/rlme.bin" --resume --evaluator live-self 2> "$tmp/err"; rc=$?
check "$([ $rc != 0 ] && grep -q "evaluator 1 is live-self:1 now but was frozen-self:1" "$tmp/err" && echo 1 || echo 0)" "rl resume with another evaluator refused: $(cat "$tmp/err")"
# the evaluator and KL anchor are --init: a resume from other weights is refused
"${RL[@]}" --out "$tmp/rint/rlme.bin" --resume --init "$tmp/nan1/base.bin" 2> "$tmp/err"; rc=$?
check "$([ $rc != 0 ] && grep -q "init (hash) is .* now but was" "$tmp/err" && echo 1 || echo 0)" "rl resume from another --init refused: $(cat "$tmp/err")"
RLME_FAULT_NAN_STEPS=5,6,7 "${RL[@]}" --out "$tmp/rnan/rlme.bin" 2> "$tmp/err"; rc=$?
check "$([ $rc != 0 ] && grep -q "step 5: non-finite reward" "$tmp/err" && grep -q "stopping at step 7" "$tmp/err" && echo 1 || echo 0)" "rl: non-finite rewards skipped, three in a row stop it"
"${RL[@]}" --out "$tmp/rt2/rlme.bin" --threads 2 2> /dev/null
check "$(same_run "$tmp/rfull" "$tmp/rt2" rlme strip_rl)" "rl: 1 and 2 threads give the same weights"

# early stopping: --out holds the best policy on the validation split, the state the
# current one and the best so far; an interrupted run resumes to the same choice
ES=("${RL[@]}" --val-n 4 --patience 3)
"${ES[@]}" --out "$tmp/efull/rlme.bin" 2> "$tmp/err"
check "$(grep -q "early stopping: .* is the policy of step" "$tmp/err" && echo 1 || echo 0)" "$(tr "\r" "\n" < "$tmp/err" | grep "early stopping")"
interrupt INT "$tmp/eint/rlme.csv" 12 "${ES[@]}" --out "$tmp/eint/rlme.bin"; rc=$?
"${ES[@]}" --out "$tmp/eint/rlme.bin" --resume 2> /dev/null
check "$([ $rc = 130 ] && echo "$(same_run "$tmp/efull" "$tmp/eint" rlme strip_rl)" || echo 0)" "early-stopped rl interrupted, resumed: same kept policy and CSV"

# ---- --out DIR/: a Hugging Face model directory instead of a checkpoint file ----
# the weights of the run that wrote a checkpoint file, bit for bit (convert writes the
# file's weights the same way), the run state and CSV beside the directory, the
# tokenizer as tokenizer.json; an interrupted run resumes to the same directory
is_hf() { [ -s "$1/config.json" ] && [ -s "$1/model.safetensors" ] && [ -s "$1/tokenizer.json" ] && [ -s "$1/tokenizer_config.json" ]; }
same_weights() { "$BIN" convert --model "$1" --out "$tmp/conv" > /dev/null && cmp -s "$tmp/conv/model.safetensors" "$2/model.safetensors"; }
"${PRE[@]}" --out "$tmp/hfull/base/" 2> /dev/null
check "$(is_hf "$tmp/hfull/base" && [ -s "$tmp/hfull/base.state" ] && [ -s "$tmp/hfull/base.csv" ] && same_weights "$tmp/full/base.bin" "$tmp/hfull/base" && echo 1 || echo 0)" \
      "pretrain --out DIR/: a model directory with tokenizer.json, the state and CSV beside it, the checkpoint's weights bit for bit"
interrupt INT "$tmp/hint/base.csv" 60 "${PRE[@]}" --out "$tmp/hint/base/"; rc=$?
"${PRE[@]}" --out "$tmp/hint/base" --resume 2> /dev/null
check "$([ $rc = 130 ] && cmp -s "$tmp/hfull/base/model.safetensors" "$tmp/hint/base/model.safetensors" && cmp -s <(strip_pre "$tmp/hfull/base.csv") <(strip_pre "$tmp/hint/base.csv") && echo 1 || echo 0)" \
      "... interrupted by Ctrl-C and resumed (the existing directory, no '/'): the same directory and CSV"
"${RL[@]}" --steps 8 --out "$tmp/rhf/rlme.bin" 2> /dev/null
"${RL[@]}" --steps 8 --out "$tmp/rhf/rlme/" --out-dtype bf16 2> /dev/null
"$BIN" convert --model "$tmp/rhf/rlme.bin" --out "$tmp/rhf/conv" --dtype bf16 > /dev/null
check "$(is_hf "$tmp/rhf/rlme" && [ -s "$tmp/rhf/rlme.state" ] && cmp -s "$tmp/rhf/conv/model.safetensors" "$tmp/rhf/rlme/model.safetensors" && head -c 300 "$tmp/rhf/rlme/model.safetensors" | grep -q BF16 && echo 1 || echo 0)" \
      "rl --out DIR/ --out-dtype bf16: a BF16 model directory, the checkpoint's weights rounded as convert rounds them"
"${RL[@]}" --steps 8 --out "$tmp/rhf/x.bin" --out-dtype bf16 2> "$tmp/err"; rc=$?
check "$([ $rc != 0 ] && grep -q "bf16 is for a model directory" "$tmp/err" && echo 1 || echo 0)" "--out-dtype bf16 for a checkpoint file refused: $(cat "$tmp/err")"

# a torn state is refused with one line naming it
head -c 200 "$tmp/rfull/rlme.state" > "$tmp/torn.state"; cp "$tmp/rfull/rlme.bin" "$tmp/torn.bin"
"${RL[@]}" --out "$tmp/torn.bin" --resume 2> "$tmp/err"; rc=$?
check "$([ $rc != 0 ] && [ "$(wc -l < "$tmp/err")" = 1 ] && grep -q "torn.state.*corrupt" "$tmp/err" && echo 1 || echo 0)" "torn state refused: $(cat "$tmp/err")"

summary test_resume
