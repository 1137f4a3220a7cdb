#!/usr/bin/env bash
# test_bad_inputs.sh — every case in test/bad_inputs/*.case feeds train_rlme or the
# tokenizer one bad input (a corrupt checkpoint or tokenizer file, broken jsonl, a bad
# flag, ...) and must get ONE clear line on stderr and a non-zero exit, never a crash,
# a hang, a second line (an ASan report, a shell error, progress) or a result on stdout.
#
# Run from the repository root:
#   bash test/test_bad_inputs.sh               all cases
#   bash test/test_bad_inputs.sh 'ckpt_*' ...  only the cases whose names match
# TRAIN_RLME names the train_rlme binary (default ./train_rlme), TOKENIZER_BIN the
# tokenizer binary (default ./tokenizer). test/bad_inputs/README.md describes the case
# format; in short, a case is test/bad_inputs/NAME.case with lines
#   run: {BIN} eval --model {TINY} --data {DIR}/NAME.jsonl   the command (bash syntax)
#   expect: expected '{'          a substring the stderr line must contain (repeatable)
#   file: {DIR}/NAME.jsonl        the stderr line must name this file ...
#   line: 2                       ... as FILE:2 (jsonl)
#   make: head -c 700 {MODEL} > {TMP}/in.bin   setup run first (repeatable, bash)
#   stdin: {DIR}/NAME.txt         fed to stdin (default /dev/null)
#   known-bug: what goes wrong    reported as XFAIL while the program has the bug
# Placeholders: {BIN} {TOK} the binaries, {DIR} test/bad_inputs, {TMP} a fresh scratch
# directory per case, {MODEL} test/ref/model.bin (bare llm.c checkpoint, no tokenizer),
# {TINY} test/bad_inputs/fixtures/tiny.bin (checkpoint with its tokenizer), {RTOK}
# fixtures/tiny.rtok (a tokenizer file), {DATA} fixtures/data (valid train/rl/test splits).
#
# Checks per case: exit status non-zero, below 128 and not 124 (timeout 20 s); stderr
# exactly one newline-terminated line containing every `expect:` (and `file:`[:line]);
# stdout empty. A known-bug case that fails is an XFAIL and does not fail the run; one
# that passes every check is reported as XPASS (its known-bug line can go once the bug
# is fixed; some bugs show only in a SANITIZE=1 build, so an XPASS does not fail the run).
set -u
BIN=${TRAIN_RLME:-./train_rlme}
TOK=${TOKENIZER_BIN:-./tokenizer}
DIR=test/bad_inputs
MODEL=test/ref/model.bin
TINY=$DIR/fixtures/tiny.bin
RTOK=$DIR/fixtures/tiny.rtok
DATA=$DIR/fixtures/data
TIMEOUT=20

for b in "$BIN" "$TOK"; do
    [ -x "$b" ] || { echo "test_bad_inputs: $b is not an executable (build it first)"; exit 2; }
done

# helpers for make: lines -----------------------------------------------------------
# put_i32 FILE OFFSET VALUE: overwrite 4 bytes at OFFSET with VALUE, little-endian
# (negative values and 0x... bit patterns such as a float's 0x7fc00000 both work)
put_i32() {
    local v=$(( $3 & 0xffffffff ))
    printf "$(printf '\\%03o\\%03o\\%03o\\%03o' $((v & 255)) $((v >> 8 & 255)) $((v >> 16 & 255)) $((v >> 24 & 255)))" |
        dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}
# get_i32 FILE OFFSET: the little-endian int32 at OFFSET
get_i32() { od -A n -t d4 -j "$2" -N 4 "$1" | tr -d ' '; }
# params_end FILE: the byte offset where an llm.c checkpoint's parameters end (where
# an extras block starts), from its header: 1024 + 4 * (Vp*C + maxT*C + L*(12C^2+13C) + 2C)
params_end() {
    local T V L C Vp
    T=$(get_i32 "$1" 8); L=$(get_i32 "$1" 16); C=$(get_i32 "$1" 24); Vp=$(get_i32 "$1" 28)
    echo $(( 1024 + 4 * (Vp * C + T * C + L * (12 * C * C + 13 * C) + 2 * C) ))
}
# attach_tokenizer CKPT RTOK OUT: OUT = CKPT's header and parameters, then an extras
# block (its magic, 20261126) holding the tokenizer file RTOK
attach_tokenizer() {
    local end; end=$(params_end "$1")
    head -c "$end" "$1" > "$3" && printf 'XXXX' >> "$3" && put_i32 "$3" "$end" 20261126 && cat "$2" >> "$3"
}
export -f put_i32 get_i32 params_end attach_tokenizer

# a case file: KEY: VALUE lines, # comments ------------------------------------------
q() { printf '%q' "$1"; }
expand() { # expand TEXT QUOTE(0|1): substitute the placeholders, shell-quoted when QUOTE=1
    local s=$1 f=echo
    [ "$2" = 1 ] && f=q
    s=${s//\{BIN\}/$($f "$BIN")}; s=${s//\{TOK\}/$($f "$TOK")}; s=${s//\{DIR\}/$($f "$DIR")}
    s=${s//\{TMP\}/$($f "$tmp")}; s=${s//\{MODEL\}/$($f "$MODEL")}; s=${s//\{TINY\}/$($f "$TINY")}
    s=${s//\{RTOK\}/$($f "$RTOK")}; s=${s//\{DATA\}/$($f "$DATA")}
    printf '%s' "$s"
}

pass=0; fail=0; xfail=0; xpass=0
scratch=$(mktemp -d); trap 'rm -rf "$scratch"' EXIT
shopt -s nullglob
cases=("$DIR"/*.case)
[ ${#cases[@]} -gt 0 ] || { echo "test_bad_inputs: no cases in $DIR"; exit 2; }

for case in "${cases[@]}"; do
    name=$(basename "$case" .case)
    if [ $# -gt 0 ]; then
        keep=0; for pat in "$@"; do [[ $name == $pat ]] && keep=1; done
        [ $keep = 1 ] || continue
    fi
    run=; file=; line=; stdin=; bug=; expects=(); makes=(); bad=
    while IFS= read -r l || [ -n "$l" ]; do
        [[ $l =~ ^[[:space:]]*(#|$) ]] && continue
        key=${l%%:*}; val=${l#*:}; val=${val# }
        case $key in
            run) [ -z "$run" ] || bad="two run: lines"; run=$val ;;
            expect) expects+=("$val") ;;
            file) file=$val ;;
            line) line=$val ;;
            make) makes+=("$val") ;;
            stdin) stdin=$val ;;
            known-bug) bug=$val ;;
            *) bad="unknown key '$key'" ;;
        esac
    done < "$case"
    [ -n "$run" ] || bad=${bad:-"no run: line"}
    [ ${#expects[@]} -gt 0 ] || bad=${bad:-"no expect: line"}
    if [ -n "$bad" ]; then echo "FAIL $name: malformed case ($bad)"; fail=$((fail+1)); continue; fi

    tmp=$scratch/$name; mkdir -p "$tmp"
    setup_ok=1
    for m in "${makes[@]}"; do
        if ! bash -c "set -e -o pipefail; $(expand "$m" 1)" > "$tmp/.make.log" 2>&1; then
            echo "FAIL $name: setup failed: $(expand "$m" 0): $(head -c 300 "$tmp/.make.log")"
            setup_ok=0; break
        fi
    done
    [ $setup_ok = 1 ] || { fail=$((fail+1)); continue; }

    in=/dev/null; [ -n "$stdin" ] && in=$(expand "$stdin" 0)
    timeout $TIMEOUT bash -c "exec $(expand "$run" 1)" < "$in" > "$tmp/.out" 2> "$tmp/.err"
    rc=$?
    err=$(cat "$tmp/.err")
    why=()
    if [ $rc = 0 ]; then why+=("exit status 0")
    elif [ $rc = 124 ]; then why+=("timed out after ${TIMEOUT}s")
    elif [ $rc -ge 128 ]; then why+=("killed by signal $((rc - 128))")
    fi
    nl=$(wc -l < "$tmp/.err")
    if [ "$nl" != 1 ] || [ -n "$(tail -c 1 "$tmp/.err")" ]; then why+=("$nl stderr lines, want 1"); fi
    for e in "${expects[@]}"; do
        e=$(expand "$e" 0)
        [[ $err == *"$e"* ]] || why+=("stderr lacks '$e'")
    done
    if [ -n "$file" ]; then
        f=$(expand "$file" 0)
        if [ -n "$line" ]; then
            [[ $err == *"$f:$line" || $err == *"$f:$line"[!0-9]* ]] || why+=("stderr does not name $f:$line")
        else
            [[ $err == *"$f"* ]] || why+=("stderr does not name $f")
        fi
    fi
    [ -s "$tmp/.out" ] && why+=("stdout not empty: $(head -c 100 "$tmp/.out" | tr '\n' ' ')")

    if [ ${#why[@]} = 0 ]; then
        if [ -n "$bug" ]; then
            echo "XPASS $name: passes: if its bug is fixed, remove its known-bug line ($err)"; xpass=$((xpass+1))
        else
            echo "PASS $name: $err"; pass=$((pass+1))
        fi
    else
        detail="$(printf '%s; ' "${why[@]}")exit $rc; stderr: $(head -c 400 "$tmp/.err" | tr '\n' '|')"
        if [ -n "$bug" ]; then
            echo "XFAIL $name (known bug: $bug): $detail"; xfail=$((xfail+1))
        else
            echo "FAIL $name: $detail"; echo "     run: $(expand "$run" 0)"; fail=$((fail+1))
        fi
    fi
    rm -rf "$tmp"
done
echo "bad inputs: $pass passed, $fail failed, $xfail known bugs (XFAIL), $xpass known-bug cases that passed (XPASS)"
[ $fail = 0 ]
