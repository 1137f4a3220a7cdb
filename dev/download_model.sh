#!/bin/sh
# Downloads a small Hugging Face model that rlme.c runs into models/NAME/:
#
#     sh dev/download_model.sh qwen3-0.6b-base     # Qwen/Qwen3-0.6B-Base
#     sh dev/download_model.sh qwen3-0.6b          # Qwen/Qwen3-0.6B
#     sh dev/download_model.sh qwen2.5-0.5b-instruct   # Qwen/Qwen2.5-0.5B-Instruct
#     sh dev/download_model.sh smollm2-135m        # HuggingFaceTB/SmolLM2-135M
#     sh dev/download_model.sh smollm2-360m        # HuggingFaceTB/SmolLM2-360M
#     sh dev/download_model.sh gpt2                # openai-community/gpt2
#     MODELS_OUT=/big/disk sh dev/download_model.sh ...   # somewhere else than models/
#     HF_TOKEN=hf_... sh dev/download_model.sh ...        # for gated repositories
#
# It fetches config.json, the weights (model.safetensors, or the index and every shard
# it names) and the tokenizer files from huggingface.co's resolve/main URLs, each to a
# temporary name renamed when complete, then runs `train_rlme score` on the directory as
# a check that it loads. Untested here: the machine this project is developed on
# reaches no model hub, so the URLs and file lists follow the hub's documented layout
# and these repositories' file lists as published; report a repository that has moved.
set -eu

name=${1:-}
case "$name" in
    qwen3-0.6b-base) repo=Qwen/Qwen3-0.6B-Base ;;
    qwen3-0.6b) repo=Qwen/Qwen3-0.6B ;;
    qwen2.5-0.5b-instruct) repo=Qwen/Qwen2.5-0.5B-Instruct ;;
    qwen2.5-0.5b) repo=Qwen/Qwen2.5-0.5B ;;
    smollm2-135m) repo=HuggingFaceTB/SmolLM2-135M ;;
    smollm2-360m) repo=HuggingFaceTB/SmolLM2-360M ;;
    gpt2) repo=openai-community/gpt2 ;;
    *) echo "usage: sh dev/download_model.sh qwen3-0.6b-base|qwen3-0.6b|qwen2.5-0.5b-instruct|qwen2.5-0.5b|smollm2-135m|smollm2-360m|gpt2" >&2
       exit 2 ;;
esac
out=${MODELS_OUT:-models}/$name
mkdir -p "$out"

get() { # get URL FILE: one download, with the token when one is set
    if command -v curl > /dev/null 2>&1; then
        if [ -n "${HF_TOKEN:-}" ]; then curl -fsSL --retry 3 -H "Authorization: Bearer $HF_TOKEN" -o "$2" "$1"
        else curl -fsSL --retry 3 -o "$2" "$1"; fi
    elif command -v wget > /dev/null 2>&1; then
        if [ -n "${HF_TOKEN:-}" ]; then wget -q --header="Authorization: Bearer $HF_TOKEN" -O "$2" "$1"
        else wget -q -O "$2" "$1"; fi
    else
        echo "download_model.sh: need curl or wget" >&2; exit 1
    fi
}

fetch() { # fetch FILE [optional]: $repo's FILE into $out, unless it is already there
    [ -s "$out/$1" ] && return 0
    url=https://huggingface.co/$repo/resolve/main/$1
    if get "$url" "$out/$1.tmp.$$"; then
        mv "$out/$1.tmp.$$" "$out/$1"; echo "got $out/$1"
    else
        rm -f "$out/$1.tmp.$$"
        [ -n "${2:-}" ] && return 0
        echo "download_model.sh: could not fetch $url" >&2; exit 1
    fi
}

fetch config.json
for f in generation_config.json tokenizer.json tokenizer_config.json special_tokens_map.json vocab.json merges.txt; do
    fetch "$f" optional
done
# a sharded model has an index naming its shards; a small one a single file
fetch model.safetensors.index.json optional
if [ -s "$out/model.safetensors.index.json" ]; then
    for shard in $(grep -o '"[^"]*\.safetensors"' "$out/model.safetensors.index.json" | tr -d '"' | sort -u); do
        fetch "$shard"
    done
else
    fetch model.safetensors
fi

bin=${TRAIN_RLME:-./train_rlme}
if [ -x "$bin" ]; then
    "$bin" score --model "$out" --ids 1,2,3 > /dev/null && echo "$out loads in rlme.c"
fi
