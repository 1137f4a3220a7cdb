// libFuzzer target: tokenizer.c's trainer, tok_train, on arbitrary text.
// The first input byte picks the vocabulary size (256 + 3 specials + 0..63 merges)
// and TOK_SPLIT_DIGITS; the rest is the corpus. Checked, besides "no crash, no leak,
// no UB, bounded memory":
//  - training succeeds (any bytes are a valid corpus) with at most the asked size;
//  - the model survives tok_write -> tok_read -> tok_write byte-identical;
//  - the corpus encodes and decodes back byte-exact with both copies, to the same ids.
#define TOKENIZER_NO_MAIN
#include "../../tokenizer.c"
#include "fuzz.h"

static const char *specials[] = {"<|endoftext|>", "<|pad|>", "\n\n"};

static char *write_mem(const Tokenizer *t, size_t *len) {
    char *buf = NULL;
    FILE *w = open_memstream(&buf, len);
    CHECK(w && tok_write(t, w) == 0 && fclose(w) == 0);
    return buf;
}

static void encode_round_trip(Tokenizer *t, const char *s, size_t n, TokIds *ids) {
    CHECK(tok_encode(t, s, n, ids) >= 0);
    char *back = malloc(n + 1);
    CHECK(back && tok_decode(t, ids->ids, ids->n, back, n) == (long)n && memcmp(back, s, n) == 0);
    free(back);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size == 0) return 0;
    int vocab = 256 + 3 + (data[0] & 63), flags = data[0] >> 7 ? TOK_SPLIT_DIGITS : 0;
    const char *text = (const char *)data + 1;
    size_t n = size - 1;
    Tokenizer t = {0}, r;
    char err[256] = "";
    if (tok_train(&t, text, n, vocab, specials, 3, flags, err, sizeof(err))) {
        fprintf(stderr, "tok_train failed: %s\n", err);
        abort();
    }
    CHECK(tok_vocab_size(&t) >= 256 + 3 && tok_vocab_size(&t) <= vocab);

    size_t len1, len2;
    char *file1 = write_mem(&t, &len1);
    FILE *f = fmemopen(file1, len1, "rb");
    CHECK(f);
    if (tok_read(&r, f, err, sizeof(err))) { fprintf(stderr, "tok_read of tok_write's output: %s\n", err); abort(); }
    CHECK(fgetc(f) == EOF);
    fclose(f);
    char *file2 = write_mem(&r, &len2);
    CHECK(len1 == len2 && memcmp(file1, file2, len1) == 0);
    free(file1); free(file2);

    TokIds a = {0}, b = {0};
    encode_round_trip(&t, text, n, &a);
    encode_round_trip(&r, text, n, &b);
    CHECK(a.n == b.n && (a.n == 0 || !memcmp(a.ids, b.ids, a.n * sizeof(int))));
    tok_ids_free(&a); tok_ids_free(&b);
    tok_free(&t); tok_free(&r);
    return 0;
}
