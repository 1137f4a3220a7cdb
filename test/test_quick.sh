#!/usr/bin/env bash
# test_quick.sh — `train_rlme --quick` end to end at toy size: pretrain, RLME, RLVR,
# the figure; then eval, judge and sample on what it wrote. Checks that nothing
# crashed, every output is there, and that RL raised the RLME reward (never a timing).
set -u
BIN=${TRAIN_RLME:-./train_rlme}
source "$(dirname "$0")/check.sh"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
out=$tmp/out

"$BIN" --quick --out "$out" > "$tmp/stdout" 2> "$tmp/stderr"; rc=$?
check "$([ $rc = 0 ] && echo 1 || echo 0)" "--quick exits 0 (rc $rc)"
[ $rc = 0 ] || tail -5 "$tmp/stderr"
for f in base.bin base.csv rlme.bin rlvr.bin rlme.csv rlvr.csv curves.svg; do
    check "$([ -s "$out/$f" ] && echo 1 || echo 0)" "wrote $f"
done
check "$(grep -q '^rlme ' "$tmp/stdout" && grep -q '^rlvr ' "$tmp/stdout" && echo 1 || echo 0)" "printed the final table"
check "$(head -c 200 "$out/curves.svg" | grep -q '<svg' && tail -1 "$out/curves.svg" | grep -q '</svg>' && echo 1 || echo 0)" "curves.svg is a complete SVG"
check "$(ls "$out" | grep -c tmp | grep -q '^0$' && echo 1 || echo 0)" "no temporary files left behind"

# RL raised the RLME reward: mean of the last 3 steps above the first 3
up=$(awk -F, 'NR > 2 && $2 != "" { r[++n] = $2 } END { if (n < 6) { print 0; exit }
     print ((r[n] + r[n-1] + r[n-2]) > (r[1] + r[2] + r[3])) ? 1 : 0 }' "$out/rlme.csv")
check "$up" "RLME reward rises over the quick run ($(awk -F, 'NR > 2 { printf "%s ", $2 }' "$out/rlme.csv"))"
check "$(awk -F, 'NR == 2 && $15 != "" { ok = 1 } END { print ok + 0 }' "$out/rlme.csv")" "step 0 of the log carries the base's test accuracy"

# the other commands on what --quick wrote
"$BIN" eval --model "$out/rlvr.bin" --data data/synth/test.jsonl --limit 20 > "$tmp/eval" 2>&1
check "$(grep -Eq '^accuracy: [0-9]+/20 = [0-9.]+%$' "$tmp/eval" && echo 1 || echo 0)" "eval: $(cat "$tmp/eval")"
"$BIN" eval --model "$out/rlvr.bin" --data data/synth/test.jsonl --limit 20 --out "$tmp/completions.jsonl" > "$tmp/eval2" 2>&1
right=$(grep -c '"right": true' "$tmp/completions.jsonl")
check "$(cmp -s "$tmp/eval" "$tmp/eval2" && [ "$(wc -l < "$tmp/completions.jsonl")" = 20 ] && grep -q "^accuracy: $right/20 " "$tmp/eval" \
    && echo 1 || echo 0)" "eval --out writes 20 completions, $right of them right as the accuracy says"
"$BIN" rl --init "$out/base.bin" --reward rlme --meta "Does the whole solution logically lead from the question to an answer?" \
    --steps 2 --prompts 2 --group 2 --eval-n 5 --out "$tmp/logic.bin" > /dev/null 2>&1; rc=$?
check "$([ $rc = 0 ] && [ "$(wc -l < "$tmp/logic.csv")" = 4 ] && echo 1 || echo 0)" "rl with the logic meta-question runs"
"$BIN" judge --model "$out/base.bin" --question "Tom has 5 apples. He finds 2 more apples. How many apples does Tom have now?" \
    --answer "Finds: 5+2=<<5+2=7>>7.
#### 7" > "$tmp/judge" 2>&1
check "$(grep -q '^p(Yes) = 0\.[0-9]*' "$tmp/judge" && echo 1 || echo 0)" "judge: $(cat "$tmp/judge")"
"$BIN" sample --model "$out/base.bin" --question "Ann has 3 pears. She finds 4 more pears. How many pears does Ann have now?" --temperature 0 --max-new 40 > "$tmp/sample" 2>&1
check "$([ -s "$tmp/sample" ] && echo 1 || echo 0)" "sample --question prints text: $(head -c 80 "$tmp/sample" | tr '\n' '|')"
got=$("$BIN" score --model "$out/base.bin" --text "Question: Tom has 5 apples." | wc -w)
check "$([ "$got" -ge 5 ] && echo 1 || echo 0)" "score --text prints one log-prob per token after the first ($got)"

summary
