#!/usr/bin/env bash
# test_valgrind.sh — every phase of the default run (`./train_rlme --quick` does
# pretrain -> rl rlme -> rl rlvr -> figure) and the other subcommands, at a size
# valgrind finishes in about a minute, under memcheck: no invalid access, no use of
# uninitialised memory, and no definite or indirect leak. Skipped when valgrind is
# not installed. Run from the repository root; TRAIN_RLME names the binary.
set -u
BIN=${TRAIN_RLME:-./train_rlme}
if ! command -v valgrind > /dev/null; then echo "skipped: valgrind is not installed"; exit 0; fi
source "$(dirname "$0")/check.sh"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
# valgrind decodes only some instruction sets (3.19: no AVX-512); `make test` hands this
# script a binary built for one it decodes, and a binary it cannot run is skipped, not failed
(valgrind -q "$BIN" bench --layers 1 --heads 1 --channels 8 --seq 8 --vocab 300 --batch 1 --steps 1 \
    > /dev/null 2> "$tmp/probe") 2> /dev/null
if grep -q 'unhandled instruction\|Illegal opcode\|unrecognised instruction' "$tmp/probe"; then
    echo "skipped: $(valgrind --version) cannot decode the instructions of $BIN (build it with make SIMD=avx2 or none)"
    exit 0
fi
VG=(valgrind -q --error-exitcode=9 --leak-check=full --errors-for-leak-kinds=definite,indirect
    --show-leak-kinds=definite,indirect)
vg() { # vg <description> <args...>: run train_rlme under memcheck
    local what=$1; shift
    "${VG[@]}" "$BIN" "$@" > "$tmp/out" 2> "$tmp/err"; local rc=$?
    if [ $rc = 0 ]; then echo "PASS $what"; pass=$((pass+1))
    else echo "FAIL $what (exit $rc):"; grep -v '^pretrain \|^rl[mv][er] ' "$tmp/err" | tail -30; fail=$((fail+1)); fi
}
D=data/synth
vg "pretrain (2 threads)" pretrain --data $D --layers 1 --heads 2 --channels 16 --seq 192 --batch 2 --steps 6 \
   --eval-every 3 --eval-n 1 --own-samples 0 --threads 2 --out "$tmp/base.bin"
RL=(rl --init "$tmp/base.bin" --data $D --prompts 2 --group 2 --max-new 12 --steps 2 --eval-every 2 --eval-n 1 --threads 2)
vg "rl rlme: frozen-self + live-self ensemble, two meta-questions" "${RL[@]}" --reward rlme --evaluator frozen-self \
   --evaluator live-self:0.5 --meta "Is the answer correct?" --meta "Is the solution free of needless checks?=0.5" --out "$tmp/rlme.bin"
vg "rl rlme resumed to more steps" "${RL[@]}" --reward rlme --evaluator frozen-self --evaluator live-self:0.5 \
   --meta "Is the answer correct?" --meta "Is the solution free of needless checks?=0.5" --out "$tmp/rlme.bin" --steps 3 --resume
vg "rl rlvr" "${RL[@]}" --reward rlvr --out "$tmp/rlvr.bin"
vg "eval" eval --model "$tmp/rlvr.bin" --data $D/test.jsonl --limit 3 --max-new 16
vg "judge" judge --model "$tmp/base.bin" --question "Ann has 3 apples. She finds 2 more apples. How many apples does Ann have now?" \
   --answer "Finds: 3+2=<<3+2=5>>5.
#### 5"
vg "sample" sample --model "$tmp/base.bin" --question "Ann has 3 apples. How many apples does Ann have now?" --num 3 --max-new 8
vg "score" score --model "$tmp/base.bin" --text "Question: Ann has 3 apples."
vg "bench" bench --layers 1 --heads 2 --channels 16 --seq 32 --vocab 300 --batch 2 --steps 1
vg "sample from a sharded Hugging Face directory (Qwen3-like)" sample --model test/ref/llama/hf_qwen3_sharded \
    --prompt-ids 1,2,3 --max-new 8 --num 2 --print-ids
vg "convert to a Hugging Face directory (BF16)" convert --model "$tmp/base.bin" --out "$tmp/hf" --dtype bf16
vg "pretrain a Qwen3-shaped model with a tokenizer.json (Qwen2's pattern, NFC) into a model directory" pretrain \
    --data $D --arch qwen3 --tokenizer test/hf_tok/qwen2.json --layers 1 --heads 2 --channels 16 --seq 320 --batch 2 \
    --steps 2 --eval-every 2 --eval-n 1 --own-samples 0 --threads 2 --out "$tmp/qwen/"
vg "rl rlme from that directory on the GSM8K fixture, into a directory" rl --init "$tmp/qwen" --data test/gsm8k \
    --reward rlme --prompts 1 --group 2 --max-new 8 --steps 1 --eval-n 1 --eval-k 1 --threads 2 --out "$tmp/qwen_rlme/"
summary test_valgrind
