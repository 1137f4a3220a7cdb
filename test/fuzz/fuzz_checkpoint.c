// libFuzzer target: loading a checkpoint, as train_rlme.c's load_checkpoint_or_die
// does it, minus the exit(): model.h's gpt_read_checkpoint on the input (written to a
// temporary file, since it takes a path), then, when the file has an extras block,
// tokenizer.c's tok_read on what follows its magic, the "no trailing bytes" and
// "tokenizer size = model vocab_size" checks, and codec_init's lookups (the
// <|endoftext|> id, " Yes" and " No" as single tokens).
// Checked, besides "no crash, no leak, no UB, bounded memory": a loaded model has
// the header's configuration and finite parameters; an extras offset is where the
// parameters end; a rejected file leaves a message.
#define TOKENIZER_NO_MAIN
#include "../../tokenizer.c"
#include "../../model.h"
#include "fuzz.h"

static char path[64];

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc; (void)argv;
    fuzz_scratch_path(path, sizeof(path), "checkpoint");
    return 0;
}

// the tokenizer after the parameters; 1 when everything load_checkpoint_or_die checks holds
static int read_extras(const GPT *model, long extras) {
    FILE *f = fopen(path, "rb");
    CHECK(f);
    CHECK(fseek(f, extras + 4, SEEK_SET) == 0);
    Tokenizer tok = {0};
    char terr[256] = "";
    int rc = tok_read(&tok, f, terr, sizeof(terr));
    int trailing = rc == 0 && fgetc(f) != EOF;
    fclose(f);
    if (rc) { CHECK(terr[0] != '\0'); return 0; }
    int ok = !trailing && tok_vocab_size(&tok) == model->config.vocab_size
             && tok_special_id(&tok, "<|endoftext|>") >= 0;
    if (ok) {
        TokIds y = {0}, n = {0};
        CHECK(tok_encode(&tok, " Yes", 4, &y) >= 1 && tok_encode(&tok, " No", 3, &n) >= 1);
        ok = y.n == 1 && n.n == 1;
        tok_ids_free(&y); tok_ids_free(&n);
    }
    tok_free(&tok);
    return ok;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    FILE *f = fopen(path, "wb");
    CHECK(f && fwrite(data, 1, size, f) == size && fclose(f) == 0);
    GPT model;
    long extras = -2;
    char err[512] = "";
    if (gpt_read_checkpoint(&model, path, &extras, err, sizeof(err))) {
        CHECK(err[0] != '\0');
        CHECK(extras == -2); // untouched on failure
        unlink(path);
        return 0;
    }
    int32_t h[8]; // size >= 1024 here
    memcpy(h, data, sizeof(h));
    GPTConfig c = model.config;
    CHECK(c.max_seq_len == h[2] && c.vocab_size == h[3] && c.num_layers == h[4] && c.num_heads == h[5]
          && c.channels == h[6] && c.padded_vocab_size == h[7]);
    size_t need = 1024 + model.num_parameters * sizeof(float);
    CHECK(need <= size);
    for (size_t i = 0; i < model.num_parameters; i++) CHECK(isfinite(model.params_memory[i]));
    if (extras < 0) CHECK(extras == -1 && need == size);
    else {
        CHECK((size_t)extras == need && need + 4 <= size);
        (void)read_extras(&model, extras);
    }
    unlink(path);
    gpt_free(&model);
    return 0;
}
