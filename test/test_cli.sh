#!/usr/bin/env bash
# test_cli.sh — the train_rlme command line: `score` and `sample` against the
# independent PyTorch reference (dev/gpt_ref.py wrote test/ref/), bad input that must end
# in one clear stderr line and a non-zero exit, never a crash, and data/synth_gen run side by side.
# Run from the repository root; TRAIN_RLME names the binary (default ./train_rlme).
set -u
BIN=${TRAIN_RLME:-./train_rlme}
REF=test/ref
source "$(dirname "$0")/check.sh"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

# score: log-probs within 1e-4 of PyTorch's; sample: greedy ids equal PyTorch's. For the
# llm.c checkpoint, and for Hugging Face directories (dev/llama_ref.py): GPT-2's hub
# layout with the same weights, and the Llama family in F32, BF16 and sharded files.
reference_checks() { # reference_checks <model> <dir with score.txt and sample.txt>
    local model=$1 ref=$2 ids want got prompt n
    ids=$(sed -n 1p $ref/score.txt); want=$(sed -n 2p $ref/score.txt)
    got=$("$BIN" score --model $model --ids "$ids" --threads 2)
    ok=$(awk -v a="$got" -v b="$want" 'BEGIN { n = split(a, x, " "); m = split(b, y, " "); if (n != m) { print 0; exit }
         for (i = 1; i <= n; i++) { d = x[i] - y[i]; if (d < 0) d = -d; if (d > 1e-4) { print 0; exit } } print 1 }')
    check "$ok" "score $model: log-probs equal PyTorch's within 1e-4"
    prompt=$(sed -n 1p $ref/sample.txt); n=$(sed -n 2p $ref/sample.txt); want=$(sed -n 3p $ref/sample.txt)
    got=$("$BIN" sample --model $model --prompt-ids "$prompt" --max-new "$n" --temperature 0 --print-ids)
    check "$([ "$got" = "$want" ] && echo 1 || echo 0)" "sample $model: greedy ids equal PyTorch's ($got)"
}
reference_checks $REF/model.bin $REF
reference_checks $REF/llama/hf_gpt2 $REF
for v in qwen3 qwen2 llama_mha llama_gqa qwen3_bf16 qwen3_sharded; do reference_checks $REF/llama/hf_$v $REF/llama/hf_$v; done

# convert: the llm.c checkpoint as a Hugging Face directory, and back through it
"$BIN" convert --model $REF/model.bin --out "$tmp/hf" > /dev/null && reference_checks "$tmp/hf" $REF
"$BIN" convert --model "$tmp/hf" --out "$tmp/hf2" --dtype bf16 > /dev/null
check "$([ -s "$tmp/hf2/model.safetensors" ] && cmp -s "$tmp/hf/config.json" "$tmp/hf2/config.json" && echo 1 || echo 0)" \
      "convert of a model directory keeps its config.json"

prompt=$(sed -n 1p $REF/sample.txt)
got1=$("$BIN" sample --model $REF/model.bin --prompt-ids "$prompt" --max-new 8 --temperature 1 --top-p 0.9 --seed 3 --print-ids)
got2=$("$BIN" sample --model $REF/model.bin --prompt-ids "$prompt" --max-new 8 --temperature 1 --top-p 0.9 --seed 3 --print-ids)
check "$([ -n "$got1" ] && [ "$got1" = "$got2" ] && echo 1 || echo 0)" "seeded sampling repeats itself"

# every --help works
for c in score sample bench convert; do
    "$BIN" $c --help > "$tmp/help" 2>&1; rc=$?
    check "$([ $rc = 0 ] && grep -q usage "$tmp/help" && echo 1 || echo 0)" "$c --help"
done

# bad input: non-zero exit, exactly one line on stderr containing the expected words
expect_error() { # expect_error <description> <expected substring> <command...>
    local what=$1 expect=$2; shift 2
    "$@" > /dev/null 2> "$tmp/err"; local rc=$?
    local lines; lines=$(wc -l < "$tmp/err")
    if [ $rc -ne 0 ] && [ $rc -lt 128 ] && [ "$lines" = 1 ] && grep -q -- "$expect" "$tmp/err"; then
        check 1 "$what: $(cat "$tmp/err")"
    else
        check 0 "$what (exit $rc, stderr: $(head -c 300 "$tmp/err"))"
    fi
}
M=$REF/model.bin
head -c 500 $M > "$tmp/trunc.bin"
: > "$tmp/empty.bin"
expect_error "unknown command" "unknown command" "$BIN" frobnicate
expect_error "unknown flag" "unknown flag '--bogus'" "$BIN" score --model $M --ids 1,2 --bogus
expect_error "missing value" "needs a value" "$BIN" score --model $M --ids
expect_error "non-numeric value" "expects an integer" "$BIN" sample --model $M --prompt-ids 1 --max-new ten --print-ids
expect_error "out-of-range value" "must be in" "$BIN" sample --model $M --prompt-ids 1 --top-p 1.5 --print-ids
expect_error "token id out of range" "out of range" "$BIN" score --model $M --ids 1,2,999
expect_error "malformed id list" "comma-separated" "$BIN" score --model $M --ids 1,,2
expect_error "prompt longer than the context" "exceeds the context" "$BIN" sample --model $M --prompt-ids 1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20 --max-new 10 --print-ids
expect_error "sequence longer than the context" "longer than the context" "$BIN" score --model $M --ids 1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25
expect_error "missing model" "cannot open" "$BIN" score --model "$tmp/none.bin" --ids 1,2
expect_error "truncated model" "truncated" "$BIN" score --model "$tmp/trunc.bin" --ids 1,2
expect_error "empty model" "truncated" "$BIN" sample --model "$tmp/empty.bin" --prompt-ids 1 --print-ids
expect_error "heads not dividing channels" "does not divide" "$BIN" bench --heads 3 --channels 32

# runs that start together in a fresh clone all generate data/synth: each writes its own
# temporary files, and the splits come out whole and equal to make's
pids=(); for i in 1 2 3; do data/synth_gen --out "$tmp/synth" > /dev/null 2>&1 & pids+=($!); done
ok=1; for p in "${pids[@]}"; do wait "$p" || ok=0; done
for f in train rl test; do cmp -s "$tmp/synth/$f.jsonl" data/synth/$f.jsonl || ok=0; done
check $ok "three synth_gen at once into one directory: all succeed, the splits equal make's"

summary
