// libFuzzer target: tokenizer.c's model file reader, tok_read, on the input as an
// in-memory FILE (fmemopen, so it is seekable like a real file and tok_read's
// "sizes must fit in what is left of the file" check applies).
// Checked, besides "no crash, no leak, no UB, bounded memory":
//  - a rejected file leaves a message and an all-zero Tokenizer;
//  - an accepted one writes back (tok_write) exactly the bytes tok_read consumed;
//  - it encodes the input's own bytes and decodes them back byte-exact (any vocabulary
//    tok_read accepts has every byte and only merges that concatenate their tokens).
#define TOKENIZER_NO_MAIN
#include "../../tokenizer.c"
#include "fuzz.h"

static int all_zero(const void *p, size_t n) {
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++) if (b[i]) return 0;
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size == 0) return 0; // fmemopen needs a buffer
    FILE *f = fmemopen((void *)data, size, "rb");
    CHECK(f);
    Tokenizer t;
    memset(&t, 0xAB, sizeof(t)); // tok_read must not depend on the struct's prior contents
    char err[256] = "";
    int rc = tok_read(&t, f, err, sizeof(err));
    long consumed = ftell(f);
    fclose(f);
    if (rc) {
        CHECK(rc == -1 && err[0] != '\0');
        CHECK(all_zero(&t, sizeof(t)));
        return 0;
    }
    CHECK(consumed > 0 && (size_t)consumed <= size);

    // tok_write gives back exactly what was read
    char *out = NULL;
    size_t outlen = 0;
    FILE *w = open_memstream(&out, &outlen);
    CHECK(w);
    CHECK(tok_write(&t, w) == 0);
    CHECK(fclose(w) == 0);
    CHECK(outlen == (size_t)consumed && memcmp(out, data, outlen) == 0);
    free(out);

    // byte-exact round trip of the input through this vocabulary
    TokIds ids = {0};
    long n = tok_encode(&t, (const char *)data, size, &ids);
    CHECK(n >= 0 && (size_t)n == ids.n && ids.n <= size);
    long need = tok_decode(&t, ids.ids, ids.n, NULL, 0);
    CHECK(need == (long)size);
    char *back = malloc(size);
    CHECK(back && tok_decode(&t, ids.ids, ids.n, back, size) == (long)size);
    CHECK(memcmp(back, data, size) == 0);
    free(back);
    tok_ids_free(&ids);
    tok_free(&t);
    return 0;
}
