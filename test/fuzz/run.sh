#!/usr/bin/env bash
# run.sh — runs each libFuzzer target for SECONDS (called by `make fuzz`).
#   bash test/fuzz/run.sh SECONDS TARGET...
# Each target runs on its own scratch corpus, build/fuzz/corpus/TARGET, seeded from
# test/fuzz/seeds/TARGET (copied, never written to) and kept between runs. A crash,
# leak, UB report, timeout or over-limit allocation leaves its input in
# build/fuzz/artifacts/TARGET/ and makes the script fail after all targets ran.
# Reproduce one with: build/fuzz/fuzz_TARGET build/fuzz/artifacts/TARGET/crash-...
set -u
seconds=$1; shift
root=build/fuzz
fail=0
summary=()
for t in "$@"; do
    corpus=$root/corpus/$t artifacts=$root/artifacts/$t log=$root/$t.log
    mkdir -p "$corpus" "$artifacts"
    cp test/fuzz/seeds/"$t"/* "$corpus"/
    # the largest input: twice the largest seed (a checkpoint is 32 KB, a tokenizer 7 KB, a tokenizer.json 19 KB)
    case $t in checkpoint) max_len=65536 ;; tokenizer_file) max_len=16384 ;; tokenizer_json) max_len=40000 ;; *) max_len=4096 ;; esac
    echo "== fuzz_$t: ${seconds}s"
    "$root/fuzz_$t" -max_total_time="$seconds" -max_len=$max_len -timeout=10 \
        -rss_limit_mb=2048 -malloc_limit_mb=256 -detect_leaks=1 -print_final_stats=1 \
        -artifact_prefix="$artifacts/" "$corpus" >"$log" 2>&1
    rc=$?
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
    rss=$(sed -n 's/^stat::peak_rss_mb: *//p' "$log")
    units=$(ls "$corpus" | wc -l)
    if [ $rc -eq 0 ]; then
        line=$(printf '%-16s %10s execs %7s exec/s  corpus %5s  peak rss %s MB' "$t" "${execs:-?}" "${rate:-?}" "$units" "${rss:-?}")
    else
        fail=1
        line=$(printf '%-16s FAILED (exit %d): see %s and %s/' "$t" $rc "$log" "$artifacts")
        grep -E '^(==[0-9]+==ERROR|SUMMARY|.*runtime error|check failed|artifact_prefix|Test unit written)' "$log" | head -20
    fi
    echo "$line"
    summary+=("$line")
done
echo "== fuzz summary (${seconds}s per target)"
printf '%s\n' "${summary[@]}"
exit $fail
