#!/bin/sh
# Downloads the real GSM8K (Cobbe et al. 2021, MIT licence) into data/gsm8k/ and
# checks its sha256:
#
#     sh data/gsm8k.sh                  # from GitHub (openai/grade-school-math)
#     GSM8K_SRC=/some/dir sh data/gsm8k.sh   # copy train/test.jsonl from a local directory
#     GSM8K_OUT=/other/dir sh data/gsm8k.sh  # write somewhere else than data/gsm8k
#
# Files are written to a temporary name and renamed only when their checksum
# matches; files already present with the right checksum are kept.
set -eu

URL=https://raw.githubusercontent.com/openai/grade-school-math/master/grade_school_math/data
OUT=${GSM8K_OUT:-data/gsm8k}
SRC=${GSM8K_SRC:-}

sha256_of() {
    if command -v sha256sum >/dev/null 2>&1; then sha256sum "$1" | cut -d' ' -f1
    elif command -v shasum >/dev/null 2>&1; then shasum -a 256 "$1" | cut -d' ' -f1
    else echo "gsm8k.sh: need sha256sum or shasum" >&2; exit 1
    fi
}

fetch() { # fetch URL FILE
    if command -v curl >/dev/null 2>&1; then curl -fsSL --retry 3 -o "$2" "$1"
    elif command -v wget >/dev/null 2>&1; then wget -q -O "$2" "$1"
    else echo "gsm8k.sh: need curl or wget" >&2; exit 1
    fi
}

mkdir -p "$OUT"
for pair in train:17f347dc51477c50d4efb83959dbb7c56297aba886e5544ee2aaed3024813465 \
            test:3730d312f6e3440559ace48831e51066acaca737f6eabec99bccb9e4b3c39d14; do
    split=${pair%%:*}
    want=${pair#*:}
    dst="$OUT/$split.jsonl"
    if [ -f "$dst" ] && [ "$(sha256_of "$dst")" = "$want" ]; then
        echo "gsm8k.sh: $dst already present (sha256 ok)"
        continue
    fi
    tmp="$dst.tmp.$$"
    trap 'rm -f "$tmp"' EXIT INT TERM
    if [ -n "$SRC" ]; then
        cat "$SRC/$split.jsonl" > "$tmp" || { echo "gsm8k.sh: cannot copy $SRC/$split.jsonl" >&2; exit 1; }
    else
        fetch "$URL/$split.jsonl" "$tmp" || { echo "gsm8k.sh: download of $URL/$split.jsonl failed" >&2; exit 1; }
    fi
    got=$(sha256_of "$tmp")
    if [ "$got" != "$want" ]; then
        echo "gsm8k.sh: $split.jsonl: sha256 mismatch (got $got, want $want)" >&2
        exit 1
    fi
    mv "$tmp" "$dst"
    trap - EXIT INT TERM
    echo "gsm8k.sh: $dst ($(wc -l < "$dst" | tr -d ' ') lines, sha256 ok)"
done
