// libFuzzer target: tokenizer.c's encoder and decoder on arbitrary bytes.
// LLVMFuzzerInitialize trains four small tokenizers with tok_train on a fixed text
// (GPT-2's pattern and Llama 3's, each plain and with TOK_SPLIT_DIGITS; all with
// special tokens). For each, checked
// besides "no crash, no leak, no UB":
//  - tok_decode(tok_encode(x)) == x byte for byte, invalid UTF-8 included;
//  - the ids equal those of a naive BPE (the definition that bpe_chunk implements with
//    a heap, a linked list and a cache) over the same special-token cuts and chunks;
//  - encoding again (now through the chunk cache) gives the same ids, and appending
//    to a non-empty id list appends exactly those ids;
//  - every id is in range, special ids appear exactly where their text does;
//  - tok_decode into a too-small buffer writes a prefix and still returns the full size;
//  - the input read as a list of int32 ids decodes (-1 exactly when an id is out of range).
#define TOKENIZER_NO_MAIN
#include "../../tokenizer.c"
#include "fuzz.h"

static Tokenizer toks[4];

static const char corpus[] =
    "Natalia sold clips to 48 of her friends in April, and then she sold half as many clips in May. "
    "How many clips did Natalia sell altogether in April and May?\n"
    "Natalia sold 48/2 = <<48/2=24>>24 clips in May.\nNatalia sold 48+24 = <<48+24=72>>72 clips.\n#### 72"
    "<|endoftext|>Weng earns $12 an hour for babysitting. Yesterday, she just did 50 minutes of "
    "babysitting. How much did she earn?\nWeng earns 12/60 = $<<12/60=0.2>>0.2 per minute.\n#### 10"
    "<|endoftext|>Meta: Is the answer correct?\nVerdict: Yes<|endoftext|> No. It's I'll we've they're "
    "caf\xc3\xa9 na\xc3\xafve \xe2\x88\x92" "3 \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x98\x80   \t\n\n  end";
static const char *specials[] = {"<|endoftext|>", "<|pad|>"};

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc; (void)argv;
    char err[256];
    const int flags[4] = {0, TOK_SPLIT_DIGITS, TOK_LLAMA3, TOK_LLAMA3 | TOK_SPLIT_DIGITS};
    for (int k = 0; k < 4; k++)
        if (tok_train(&toks[k], corpus, sizeof(corpus) - 1, 400, specials, 2, flags[k], err, sizeof(err))) {
            fprintf(stderr, "tok_train: %s\n", err);
            abort();
        }
    return 0;
}

// Naive BPE of one chunk, appended to out: over and over, merge every occurrence
// (left to right) of the adjacent pair with the lowest rank. O(n * merges).
static void naive_bpe(const Tokenizer *t, const unsigned char *s, size_t n, TokIds *out) {
    int *sym = malloc(n * sizeof(int));
    CHECK(sym);
    size_t m = n;
    for (size_t i = 0; i < n; i++) sym[i] = t->byte_id[s[i]];
    for (;;) {
        int best = -1;
        for (size_t i = 0; i + 1 < m; i++) {
            int k = merge_of(t, sym[i], sym[i + 1]);
            if (k >= 0 && (best < 0 || t->m_rank[k] < t->m_rank[best])) best = k;
        }
        if (best < 0) break;
        size_t j = 0;
        for (size_t i = 0; i < m;) {
            if (i + 1 < m && sym[i] == t->m_left[best] && sym[i + 1] == t->m_right[best]) { sym[j++] = t->m_result[best]; i += 2; }
            else sym[j++] = sym[i++];
        }
        m = j;
    }
    for (size_t i = 0; i < m; i++) CHECK(tok_ids_push(out, sym[i]) == 0);
    free(sym);
}

// tok_encode's structure (special tokens cut out, pre-token chunks) with naive_bpe
static void naive_encode(const Tokenizer *t, const unsigned char *s, size_t n, TokIds *out) {
    size_t start = 0;
    for (size_t i = 0; i <= n; i++) {
        int id = i < n && t->n_special ? special_at(t, s, n, i) : -1;
        if (i < n && id < 0) continue;
        for (size_t a = start; a < i;) { // s[start, i) has no special token
            size_t b = pretok_next(s + start, i - start, a - start, t->flags) + start;
            for (size_t k = a; k < b; k += TOK_MAX_CHUNK) naive_bpe(t, s + k, b - k < TOK_MAX_CHUNK ? b - k : TOK_MAX_CHUNK, out);
            a = b;
        }
        if (id >= 0) { CHECK(tok_ids_push(out, id) == 0); i += tok_len(t, id) - 1; }
        start = i + 1;
    }
}

static void round_trip(Tokenizer *t, const uint8_t *data, size_t size) {
    TokIds ids = {0};
    long n = tok_encode(t, (const char *)data, size, &ids);
    CHECK(n >= 0 && (size_t)n == ids.n && ids.n <= size);
    size_t pos = 0; // walk the text along the ids
    for (size_t i = 0; i < ids.n; i++) {
        size_t l;
        const char *b = tok_token(t, ids.ids[i], &l);
        CHECK(b && l >= 1 && pos + l <= size && memcmp(b, data + pos, l) == 0);
        pos += l;
    }
    CHECK(pos == size);
    TokIds ref = {0};
    naive_encode(t, data, size, &ref);
    CHECK(ref.n == ids.n && (ids.n == 0 || !memcmp(ref.ids, ids.ids, ids.n * sizeof(int))));
    tok_ids_free(&ref);
    size_t nspecial = 0, expect = 0; // special strings in the text, cut left to right
    for (size_t i = 0; i < ids.n; i++) nspecial += t->tok_special[ids.ids[i]];
    for (size_t i = 0; i < size; i++)
        for (int k = 0; k < 2; k++) {
            size_t l = strlen(specials[k]);
            if (l <= size - i && !memcmp(data + i, specials[k], l)) { expect++; i += l - 1; break; }
        }
    CHECK(nspecial == expect);
    char *back = malloc(size + 1);
    CHECK(back);
    CHECK(tok_decode(t, ids.ids, ids.n, back, size) == (long)size);
    CHECK(memcmp(back, data, size) == 0);
    if (size > 0) { // a buffer one byte short: a prefix, and the full size returned
        memset(back, 0, size + 1);
        CHECK(tok_decode(t, ids.ids, ids.n, back, size - 1) == (long)size);
        CHECK(memcmp(back, data, size - 1) == 0 && back[size - 1] == 0);
    }
    free(back);

    // again, after a prefix: the same ids appended (the chunk cache is warm now)
    TokIds again = {0};
    CHECK(tok_encode(t, "<|pad|>", 7, &again) == 1);
    CHECK(tok_encode(t, (const char *)data, size, &again) == n);
    CHECK(again.n == ids.n + 1 && (ids.n == 0 || !memcmp(again.ids + 1, ids.ids, ids.n * sizeof(int))));
    tok_ids_free(&again);
    tok_ids_free(&ids);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    for (int k = 0; k < 4; k++) round_trip(&toks[k], data, size);

    // the bytes as ids: out-of-range ids are reported, never read
    size_t nids = size / sizeof(int);
    int *ids = malloc(nids ? nids * sizeof(int) : 1);
    CHECK(ids);
    if (nids) memcpy(ids, data, nids * sizeof(int));
    int bad = 0;
    for (size_t i = 0; i < nids; i++) bad |= ids[i] < 0 || ids[i] >= tok_vocab_size(&toks[0]);
    char buf[64];
    long need = tok_decode(&toks[0], ids, nids, buf, sizeof(buf));
    CHECK(bad ? need == -1 : need >= (long)nids);
    free(ids);
    return 0;
}
