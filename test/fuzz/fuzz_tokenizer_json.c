// libFuzzer target: tokenizer.c's reader of Hugging Face's tokenizer.json (tok_parse_hf),
// and encoding through the pipelines it builds (Qwen2's pattern with NFC, Llama 3's
// with ignore_merges: test/hf_tok/qwen2.json and llama3.json, loaded once; run from the
// repository root, as `make fuzz` does). Checked, besides "no crash, no leak, no UB":
//  - a rejected input leaves a message and an all-zero Tokenizer;
//  - an accepted one is written back (tok_export_hf) and read again with the same
//    flags and tokens, and encodes the input's own bytes back byte-exact unless it
//    normalizes (NFC changes text on purpose);
//  - under the fixed tokenizers the input encodes to ids in range; without NFC it
//    decodes back byte-exact; with NFC, encoding what it decodes to gives the same ids
//    (NFC is idempotent), and text that nfc_quick passes comes back byte-exact.
#define TOKENIZER_NO_MAIN
#include "../../tokenizer.c"
#include "fuzz.h"

static Tokenizer fixed[2];

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc; (void)argv;
    const char *paths[2] = {"test/hf_tok/qwen2.json", "test/hf_tok/llama3.json"};
    char err[512];
    for (int k = 0; k < 2; k++)
        if (tok_load(&fixed[k], paths[k], err, sizeof err)) { fprintf(stderr, "%s\n", err); abort(); }
    return 0;
}

static int all_zero(const void *p, size_t n) {
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++) if (b[i]) return 0;
    return 1;
}

// the ids of s[0..n) under t, checked in range; the caller frees them
static TokIds encode(Tokenizer *t, const void *s, size_t n) {
    TokIds ids = {0};
    CHECK(tok_encode(t, s, n, &ids) == (long)ids.n);
    for (size_t i = 0; i < ids.n; i++) CHECK(ids.ids[i] >= 0 && ids.ids[i] < t->vocab_size);
    return ids;
}

static char *decode(const Tokenizer *t, const TokIds *ids, long *n) {
    *n = tok_decode(t, ids->ids, ids->n, NULL, 0);
    char *s = malloc((size_t)*n + 1);
    CHECK(s && tok_decode(t, ids->ids, ids->n, s, (size_t)*n) == *n);
    return s;
}

static void check_encoding(Tokenizer *t, const uint8_t *data, size_t size) {
    TokIds ids = encode(t, data, size);
    long n;
    char *back = decode(t, &ids, &n);
    if (!(t->flags & TOK_NFC) || nfc_quick(data, size)) CHECK((size_t)n == size && !memcmp(back, data, size));
    if (t->flags & TOK_NFC) {
        TokIds again = encode(t, back, (size_t)n);
        CHECK(again.n == ids.n && (ids.n == 0 || !memcmp(again.ids, ids.ids, ids.n * sizeof(int))));
        tok_ids_free(&again);
    }
    free(back);
    tok_ids_free(&ids);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    Tokenizer t, back = {0};
    memset(&t, 0xAB, sizeof t); // tok_parse_hf must not depend on the struct's prior contents
    char err[512] = "", path[256];
    if (tok_parse_hf(&t, (const char *)data, size, err, sizeof err)) {
        CHECK(err[0] != '\0' && all_zero(&t, sizeof t));
    } else {
        fuzz_scratch_path(path, sizeof path, "tokenizer_json");
        CHECK(tok_export_hf(&t, path, err, sizeof err) == 0);
        CHECK(tok_load(&back, path, err, sizeof err) == 0);
        remove(path);
        CHECK(back.flags == t.flags && back.vocab_size == t.vocab_size && back.n_merges == t.n_merges &&
              !memcmp(back.tok_bytes, t.tok_bytes, t.tok_off[t.vocab_size]) &&
              !memcmp(back.tok_special, t.tok_special, (size_t)t.vocab_size));
        check_encoding(&t, data, size);
        tok_free(&t); tok_free(&back);
    }
    for (int k = 0; k < 2; k++) check_encoding(&fixed[k], data, size);
    return 0;
}
