/*
train_rlme.c — Reinforcement Learning from Meta-Evaluation, in one C file.

Subcommands (./train_rlme <cmd> --help for each):
  score   log pi(ids[t] | ids[<t]) of a token sequence under a checkpoint
  sample  batched KV-cache generation from a checkpoint
  bench   time forward+backward+AdamW and batched decoding on random data

The network itself (forward, backward, AdamW, decoding, checkpoints) is in model.h.
*/
#define TOKENIZER_NO_MAIN
#include "tokenizer.c"
#ifdef RLME_NO_MAIN // included by a test as a library: it calls only some functions
#pragma GCC diagnostic ignored "-Wunused-function"
#endif
#include <signal.h>
#include <sys/stat.h>
#include <time.h>
#include "model.h"
#include "data/gsm8k.h"
#define SYNTH_NO_MAIN
#include "data/synth.c"

// ----------------------------------------------------------------------------
// command-line helpers: every bad flag or value is one clear line and exit 2

static const char *g_cmd = "train_rlme";
static int g_progress_open = 0; // a progress line without its newline is on stderr

static void die(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    if (g_progress_open) fputc('\n', stderr);
    fprintf(stderr, "%s: error: ", g_cmd);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(2);
}

static double now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

// The value after flag argv[*i], or die if there is none.
static const char *flag_value(int argc, char **argv, int *i) {
    if (*i + 1 >= argc) die("flag %s needs a value", argv[*i]);
    return argv[++*i];
}

static long parse_long(const char *flag, const char *s, long lo, long hi) {
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end) die("%s expects an integer, got '%s'", flag, s);
    if (v < lo || v > hi) die("%s must be in [%ld, %ld], got %ld", flag, lo, hi, v);
    return v;
}

static float parse_float(const char *flag, const char *s, double lo, double hi) {
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !isfinite(v)) die("%s expects a number, got '%s'", flag, s);
    if (v < lo || v > hi) die("%s must be in [%g, %g], got %g", flag, lo, hi, v);
    return (float)v;
}

// "5,17,3" -> ids (malloc'd); each id must be in [0, V).
static int *parse_ids(const char *flag, const char *s, int V, int *n_out) {
    int cap = 16, n = 0;
    int *ids = malloc(cap * sizeof(int));
    const char *p = s;
    while (1) {
        char *end;
        errno = 0;
        long v = strtol(p, &end, 10);
        if (errno || end == p) die("%s expects comma-separated token ids, got '%s'", flag, s);
        if (v < 0 || v >= V) die("%s: token id %ld out of range [0, %d)", flag, v, V);
        if (n == cap) ids = realloc(ids, (cap *= 2) * sizeof(int));
        ids[n++] = (int)v;
        if (*end == '\0') break;
        if (*end != ',') die("%s expects comma-separated token ids, got '%s'", flag, s);
        p = end + 1;
    }
    *n_out = n;
    return ids;
}

static void set_threads(int threads) {
#ifdef _OPENMP
    if (threads > 0) omp_set_num_threads(threads);
#else
    (void)threads;
#endif
}


// ----------------------------------------------------------------------------
// usage

static const char *MAIN_HELP =
    "usage: train_rlme [command] [options]   (train_rlme <command> --help for each)\n"
    "  (none)    pretrain a base, then RLME and RLVR from it, and draw the curves\n"
    "  pretrain  train the base model (solutions, meta-evaluations, arithmetic drill)\n"
    "  rl        RL from a checkpoint with the RLME or RLVR reward (GRPO + CISPO)\n"
    "  eval      greedy accuracy of a checkpoint on a jsonl split\n"
    "  judge     the evaluator's p(Yes) for one question, answer and meta-question\n"
    "  score     log-probs of a token sequence under a checkpoint\n"
    "  sample    generate from a checkpoint (batched KV-cache decoding)\n"
    "  bench     time a training step and batched decoding on random data\n";

// ----------------------------------------------------------------------------
// text in, tokens out: the templates every phase shares
//
// The policy completes PROMPT; the evaluator reads META, which is the same prompt,
// a candidate solution and a meta-question, and answers " Yes" or " No" right after
// "Verdict:". Pretraining builds its meta-evaluation documents with these exact
// functions, so what the base model learned to judge is what RL asks it to judge.
//
//   Question: Tom has 12 apples. He gives away 5 apples. How many apples ...?
//   Answer:
//   Gives away: 12-5=<<12-5=7>>7.
//   #### 7
//   Meta: Is the answer correct?
//   Verdict: Yes<|endoftext|>

#define EOT "<|endoftext|>"
#define META_CORRECT "Is the answer correct?"
#define META_LOGIC "Does the whole solution logically lead from the question to an answer?"
#define META_CONCISE "Is the solution free of needless checks?"

typedef struct {
    Tokenizer tok;
    int eot, yes, no; // token ids of <|endoftext|>, " Yes", " No"
} TextCodec;

// appends the tokens of a text to ids
static void encode_append(TextCodec *tc, const char *text, TokIds *ids) {
    if (tok_encode(&tc->tok, text, strlen(text), ids) < 0) die("out of memory while encoding text");
}

// "Question: Q\nAnswer:\n"
static void encode_prompt(TextCodec *tc, const char *question, TokIds *ids) {
    encode_append(tc, "Question: ", ids);
    encode_append(tc, question, ids);
    encode_append(tc, "\nAnswer:\n", ids);
}

// "\nMeta: MQ\nVerdict:" — what follows a candidate solution for the evaluator
static void encode_meta_suffix(TextCodec *tc, const char *meta_question, TokIds *ids) {
    encode_append(tc, "\nMeta: ", ids);
    encode_append(tc, meta_question, ids);
    encode_append(tc, "\nVerdict:", ids);
}

// An injected answer (Fig. 7 of the paper): a number that the question itself
// suggests, right or wrong. "Q A friend says the answer is N." (out: room for the
// question and INJECT_ROOM more bytes)
#define INJECT_ROOM 64
static void inject_answer(const char *question, long answer, char *out, size_t cap) {
    if (snprintf(out, cap, "%s A friend says the answer is %ld.", question, answer) >= (int)cap)
        die("a question of %zu bytes is too long to inject an answer into", strlen(question));
}

// A wrong answer near the right one: off by 1 to 10, never negative.
static long nearby_wrong_answer(long gold, uint64_t *rng) {
    long wrong = gold + (synth_uniform(rng) < 0.5f ? -1 : 1) * synth_randint(rng, 1, 10);
    return wrong < 0 ? gold + synth_randint(rng, 1, 10) : wrong;
}

// Post-hoc rationalisation of an injected answer: the solution's lines left as they
// are, then "The friend says N." and N as the final. The line makes the appeal
// visible: a 4-layer judge does not compare a final with the lines above it (without
// the line, a base's p(Yes) was 0.280 for "#### 7" and 0.277 for "#### 9" after
// "12-5=7"), but it learns what a line says. Returns 0 if the solution has no final ("#### ").
#define FRIEND_SAYS "The friend says"
static int rationalize(char *solution, size_t cap, long answer) {
    char *hash = strstr(solution, "#### ");
    if (!hash) return 0;
    snprintf(hash, cap - (size_t)(hash - solution), FRIEND_SAYS " %ld.\n#### %ld", answer, answer);
    return 1;
}

// Tokens to text (malloc'd, NUL-terminated); ids must be valid.
static char *decode_text(const TextCodec *tc, const int *ids, int n) {
    long need = tok_decode(&tc->tok, ids, n, NULL, 0);
    if (need < 0) die("internal error: token id out of range while decoding");
    char *s = malloc(need + 1);
    tok_decode(&tc->tok, ids, n, s, need);
    s[need] = '\0';
    return s;
}

static int codec_init(TextCodec *tc, char *err, size_t errlen) {
    tc->eot = tok_special_id(&tc->tok, EOT);
    if (tc->eot < 0) return set_err(err, errlen, "tokenizer has no %s token", EOT);
    TokIds y = {0}, n = {0};
    tok_encode(&tc->tok, " Yes", 4, &y);
    tok_encode(&tc->tok, " No", 3, &n);
    int ok = y.n == 1 && n.n == 1;
    tc->yes = ok ? y.ids[0] : -1; tc->no = ok ? n.ids[0] : -1;
    tok_ids_free(&y); tok_ids_free(&n);
    if (!ok) return set_err(err, errlen, "tokenizer does not encode \" Yes\" and \" No\" as single tokens");
    return 0;
}

// 1 when two tokenizers encode every text alike: their serialized forms are equal
static int same_tokenizer(const Tokenizer *x, const Tokenizer *y) {
    char *bx = NULL, *by = NULL;
    size_t nx = 0, ny = 0;
    FILE *fx = open_memstream(&bx, &nx), *fy = open_memstream(&by, &ny);
    if (!fx || !fy) die("out of memory while comparing tokenizers");
    int failed = tok_write(x, fx) | tok_write(y, fy);
    fclose(fx); fclose(fy);
    if (failed) die("out of memory while comparing tokenizers");
    int same = nx == ny && memcmp(bx, by, nx) == 0;
    free(bx); free(by);
    return same;
}

// ----------------------------------------------------------------------------
// checkpoints that carry their tokenizer
//
// A checkpoint written here is an llm.c checkpoint followed by an extras block
// (model.h): the magic, then the tokenizer in tokenizer.c's own format. llm.c
// reads the parameters and ignores the rest; we never need two files that must match.

static int write_tokenizer_extra(FILE *f, void *ctx) { return tok_write(&((TextCodec *)ctx)->tok, f); }

static void save_checkpoint_or_die(const GPT *model, TextCodec *tc, const char *path) {
    char err[512];
    if (gpt_write_checkpoint(model, path, tc ? write_tokenizer_extra : NULL, tc, err, sizeof(err))) die("%s", err);
}

// Loads a checkpoint and, when it carries one, its tokenizer (returns 1), else 0.
static int load_checkpoint_or_die(GPT *model, TextCodec *tc, const char *path) {
    char err[512];
    long extras = -1;
    if (!path) die("a checkpoint path is required (--model / --init)");
    if (gpt_read_checkpoint(model, path, &extras, err, sizeof(err))) die("%s", err);
    if (extras < 0) return 0;
    FILE *f = fopen(path, "rb");
    if (!f || fseek(f, extras + 4, SEEK_SET) != 0) die("%s: cannot read the tokenizer after the parameters", path);
    memset(&tc->tok, 0, sizeof(tc->tok));
    char terr[256];
    int rc = tok_read(&tc->tok, f, terr, sizeof(terr));
    int trailing = rc == 0 && fgetc(f) != EOF;
    fclose(f);
    if (rc) die("%s: bad tokenizer after the parameters: %s", path, terr);
    if (trailing) die("%s: unexpected bytes after the tokenizer", path);
    if (tok_vocab_size(&tc->tok) != model->config.vocab_size)
        die("%s: tokenizer has %d tokens but the model's vocab_size is %d", path, tok_vocab_size(&tc->tok), model->config.vocab_size);
    if (codec_init(tc, err, sizeof(err))) die("%s: %s", path, err);
    return 1;
}

// ----------------------------------------------------------------------------
// atomic files, interruption, numerical faults

// Writes path atomically: a temporary file beside it, flushed (and with sync, also
// fsync'ed), then renamed over it. A kill at any instant leaves the old file or the
// new one, never a torn one.
static void write_file_atomic(const char *path, const void *data, size_t len, int sync) {
    char tmp[4200];
    if (snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid()) >= (int)sizeof(tmp)) die("%s: path too long", path);
    FILE *f = fopen(tmp, "wb");
    if (!f) die("%s: cannot create: %s", tmp, strerror(errno));
    int ok = fwrite(data, 1, len, f) == len && fflush(f) == 0;
    if (sync) ok = ok && fsync(fileno(f)) == 0;
    ok = (fclose(f) == 0) && ok;
    if (!ok || rename(tmp, path) != 0) {
        int e = errno;
        remove(tmp);
        die("%s: write failed: %s", path, strerror(e));
    }
}

// Ctrl-C (SIGINT) or SIGTERM sets g_stop: the training loops finish the step they
// are in, save checkpoint and state, and exit with EXIT_INTERRUPTED. A second one
// leaves at once, writing nothing (the files on disk are all complete: see above).
#define EXIT_INTERRUPTED 130
static volatile sig_atomic_t g_stop = 0;

static void on_stop_signal(int sig) {
    (void)sig;
    if (g_stop) _exit(EXIT_INTERRUPTED);
    g_stop = 1;
    static const char msg[] = "\ninterrupted: finishing this step, then saving (interrupt again to quit at once)\n";
    ssize_t w = write(STDERR_FILENO, msg, sizeof(msg) - 1);
    (void)w;
}

static void catch_stop_signals(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

// A step whose loss, gradient or reward is not finite is skipped (no update, the
// weights stay as they were); this many in a row stop the run.
#define MAX_BAD_STEPS 3

// Test hook: RLME_FAULT_NAN_STEPS="5,6,7" makes those steps' gradient (pretrain)
// or reward (rl) NaN, so the tests can drive the fault path end to end.
static int fault_nan_at(int step) {
    const char *s = getenv("RLME_FAULT_NAN_STEPS");
    while (s && *s) {
        char *end;
        long v = strtol(s, &end, 10);
        if (end == s) return 0;
        if (v == step) return 1;
        s = *end == ',' ? end + 1 : end;
    }
    return 0;
}

// ----------------------------------------------------------------------------
// run state: what --resume needs to continue a run bit-exactly
//
// Beside a run's checkpoint X.bin lives X.state: the weights and AdamW moments, the
// step, the RNG and data positions, the CSV so far, and the flags that shape the run
// (a resume that contradicts one is refused). It is self-contained — resuming never
// reads X.bin — so a kill between writing the two files cannot pair weights with the
// wrong step. Layout: "RLMESTAT", u32 version, then records [u32 tag][u64 length]
// [bytes], then a u64 FNV-1a hash of all that precedes it (a torn file is refused).

#define STATE_MAGIC "RLMESTAT"
#define STATE_VERSION 1u
#define TAG(s) ((uint32_t)(s)[0] | (uint32_t)(s)[1] << 8 | (uint32_t)(s)[2] << 16 | (uint32_t)(s)[3] << 24)

typedef struct { unsigned char *data; size_t len, cap; } Buf;

static void buf_put(Buf *b, const void *p, size_t n) {
    if (b->len + n > b->cap) {
        while (b->len + n > b->cap) b->cap = b->cap ? 2 * b->cap : 1 << 16;
        b->data = realloc(b->data, b->cap);
        if (!b->data) die("out of memory while saving the run state");
    }
    memcpy(b->data + b->len, p, n);
    b->len += n;
}

// 64-bit FNV-1a of n bytes, continuing from hash h (FNV1A_START for a fresh hash),
// so that a file can be hashed chunk by chunk.
#define FNV1A_START 0xcbf29ce484222325ULL
static uint64_t fnv1a(uint64_t h, const unsigned char *p, size_t n) {
    for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 0x100000001b3ULL;
    return h;
}

// The hash of a file's bytes (identifies --init, evaluators and data in a state).
static uint64_t file_hash_or_die(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) die("%s: cannot open: %s", path, strerror(errno));
    uint64_t h = FNV1A_START;
    unsigned char chunk[1 << 16];
    size_t n;
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) h = fnv1a(h, chunk, n);
    int bad = ferror(f);
    fclose(f);
    if (bad) die("%s: read error", path);
    return h;
}

static void state_begin(Buf *b) {
    b->len = 0;
    uint32_t version = STATE_VERSION;
    buf_put(b, STATE_MAGIC, 8);
    buf_put(b, &version, 4);
}

static void state_put(Buf *b, const char *tag, const void *p, size_t n) {
    uint32_t t = TAG(tag);
    uint64_t len = n;
    buf_put(b, &t, 4);
    buf_put(b, &len, 8);
    if (n) buf_put(b, p, n);
}

static void state_commit(Buf *b, const char *path) {
    uint64_t h = fnv1a(FNV1A_START, b->data, b->len);
    buf_put(b, &h, 8);
    write_file_atomic(path, b->data, b->len, 1);
    b->len -= 8;
}

// X.bin -> X.state (the extension replaced; appended when there is none)
static void state_path_of(const char *ckpt, char *out, size_t cap) {
    snprintf(out, cap, "%s", ckpt);
    char *dot = strrchr(out, '.');
    if (dot && !strchr(dot, '/')) *dot = '\0';
    strncat(out, ".state", cap - strlen(out) - 1);
}

// The shortest decimal that reads back as the same float (flags in a state: "0.002",
// not "0.00200000009"). Returns a static buffer, one of 16 in turn.
static const char *flt(float v) {
    static char bufs[16][32];
    static int next = 0;
    char *b = bufs[next++ % 16];
    for (int digits = 6; digits <= 9; digits++) {
        snprintf(b, 32, "%.*g", digits, v);
        if (strtof(b, NULL) == v) break;
    }
    return b;
}

typedef struct { unsigned char *data; size_t len; char path[1024]; } RunState;

// Reads and verifies a state file; returns 0 when there is none, dies when it is bad.
static int state_load(RunState *s, const char *path) {
    memset(s, 0, sizeof(*s));
    snprintf(s->path, sizeof(s->path), "%s", path);
    FILE *f = fopen(path, "rb");
    if (!f) {
        if (errno == ENOENT) return 0;
        die("%s: cannot open: %s", path, strerror(errno));
    }
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) { fclose(f); die("%s: not a regular file", path); }
    s->len = (size_t)st.st_size;
    s->data = malloc(s->len ? s->len : 1);
    if (!s->data) { fclose(f); die("%s: out of memory reading %zu bytes", path, s->len); }
    size_t got = fread(s->data, 1, s->len, f);
    fclose(f);
    if (got != s->len) die("%s: read error", path);
    uint32_t version;
    uint64_t h;
    if (s->len < 20 || memcmp(s->data, STATE_MAGIC, 8) != 0) die("%s: not a run state file (bad magic)", path);
    memcpy(&version, s->data + 8, 4);
    if (version != STATE_VERSION) die("%s: run state version %u not supported (need %u)", path, version, STATE_VERSION);
    memcpy(&h, s->data + s->len - 8, 8);
    if (fnv1a(FNV1A_START, s->data, s->len - 8) != h) die("%s: run state is torn or corrupt (checksum mismatch)", path);
    for (size_t off = 12; off < s->len - 8;) { // every record must fit
        uint64_t n;
        if (s->len - 8 - off < 12) die("%s: run state has a truncated record at byte %zu", path, off);
        memcpy(&n, s->data + off + 4, 8);
        if (n > s->len - 8 - off - 12) die("%s: run state record at byte %zu overruns the file", path, off);
        off += 12 + (size_t)n;
    }
    return 1;
}

static void state_free(RunState *s) { free(s->data); memset(s, 0, sizeof(*s)); }

// The record `tag`: its bytes and length, or NULL when absent.
static const unsigned char *state_find(const RunState *s, const char *tag, size_t *len) {
    for (size_t off = 12; off < s->len - 8;) {
        uint32_t t;
        uint64_t n;
        memcpy(&t, s->data + off, 4);
        memcpy(&n, s->data + off + 4, 8);
        if (t == TAG(tag)) { *len = (size_t)n; return s->data + off + 12; }
        off += 12 + (size_t)n;
    }
    return NULL;
}

// Copies record `tag` of exactly `len` bytes into dst, or dies naming what is wrong.
static void state_get(const RunState *s, const char *tag, void *dst, size_t len) {
    size_t n;
    const unsigned char *p = state_find(s, tag, &n);
    if (!p) die("%s: run state lacks its '%.4s' record", s->path, tag);
    if (n != len) die("%s: run state record '%.4s' has %zu bytes, expected %zu", s->path, tag, n, len);
    memcpy(dst, p, len);
}

// Record `tag` of any length as a malloc'd copy (NUL-terminated, for text).
static char *state_get_text(const RunState *s, const char *tag, size_t *len) {
    size_t n;
    const unsigned char *p = state_find(s, tag, &n);
    if (!p) die("%s: run state lacks its '%.4s' record", s->path, tag);
    char *t = malloc(n + 1);
    memcpy(t, p, n);
    t[n] = '\0';
    if (len) *len = n;
    return t;
}

// The flags that shape a run are one "name=value" line each. Refuses to resume when
// the saved run and this invocation disagree on any of them, naming the first.
static void state_check_flags(const RunState *s, const char *now) {
    char *saved = state_get_text(s, "FLAG", NULL);
    for (char *line = saved, *next; line && *line; line = next) {
        next = strchr(line, '\n');
        if (next) *next++ = '\0';
        char *eq = strchr(line, '=');
        if (!eq) die("%s: run state has a malformed flag line '%s'", s->path, line);
        size_t klen = eq - line + 1; // "name="
        const char *mine = now;
        while (mine && strncmp(mine, line, klen) != 0) { mine = strchr(mine, '\n'); if (mine) mine++; }
        if (!mine) die("cannot resume from %s: it has %s, which this run lacks", s->path, line);
        size_t vlen = strcspn(mine + klen, "\n");
        if (vlen != strlen(eq + 1) || strncmp(mine + klen, eq + 1, vlen) != 0)
            die("cannot resume from %s: %.*s is %.*s now but was %s in the saved run", s->path, (int)(klen - 1), line,
                (int)vlen, mine + klen, eq + 1);
    }
    free(saved);
}

// weights, AdamW moments and step count of a model
static void state_put_model(Buf *b, const GPT *m) {
    int32_t cfg[6] = {m->config.max_seq_len, m->config.vocab_size, m->config.padded_vocab_size,
                      m->config.num_layers, m->config.num_heads, m->config.channels};
    int32_t t = m->adam_t;
    size_t bytes = m->num_parameters * sizeof(float);
    state_put(b, "CONF", cfg, sizeof(cfg));
    state_put(b, "PARM", m->params_memory, bytes);
    state_put(b, "ADMT", &t, sizeof(t));
    if (m->adam_t > 0) { state_put(b, "ADMM", m->m_memory, bytes); state_put(b, "ADMV", m->v_memory, bytes); }
}

static void state_get_model(const RunState *s, GPT *m) {
    int32_t cfg[6], t;
    state_get(s, "CONF", cfg, sizeof(cfg));
    GPTConfig c = {.max_seq_len = cfg[0], .vocab_size = cfg[1], .padded_vocab_size = cfg[2],
                   .num_layers = cfg[3], .num_heads = cfg[4], .channels = cfg[5]};
    char err[160];
    if (gpt_config_check(c, err, sizeof(err))) die("%s: run state has a bad model shape: %s", s->path, err);
    gpt_init(m, c);
    size_t bytes = m->num_parameters * sizeof(float);
    state_get(s, "PARM", m->params_memory, bytes);
    for (size_t i = 0; i < m->num_parameters; i++)
        if (!isfinite(m->params_memory[i])) die("%s: run state parameter %zu is not finite", s->path, i);
    state_get(s, "ADMT", &t, sizeof(t));
    if (t < 0) die("%s: run state has a negative AdamW step count", s->path);
    m->adam_t = t;
    if (t > 0) {
        m->m_memory = xcalloc_aligned(bytes);
        m->v_memory = xcalloc_aligned(bytes);
        state_get(s, "ADMM", m->m_memory, bytes);
        state_get(s, "ADMV", m->v_memory, bytes);
    }
}

// the tokenizer, in tokenizer.c's own format
static void state_put_tokenizer(Buf *b, const TextCodec *tc) {
    char *mem = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&mem, &len);
    if (!f || tok_write(&tc->tok, f) != 0 || fclose(f) != 0) die("out of memory while saving the tokenizer state");
    state_put(b, "TOKN", mem, len);
    free(mem);
}

static void state_get_tokenizer(const RunState *s, TextCodec *tc) {
    size_t n;
    const unsigned char *p = state_find(s, "TOKN", &n);
    if (!p) die("%s: run state lacks its tokenizer", s->path);
    FILE *f = fmemopen((void *)p, n ? n : 1, "rb");
    char err[256];
    memset(&tc->tok, 0, sizeof(tc->tok));
    if (!f) die("%s: cannot read the tokenizer state", s->path);
    int rc = n ? tok_read(&tc->tok, f, err, sizeof(err)) : (snprintf(err, sizeof(err), "empty"), -1);
    fclose(f);
    if (rc) die("%s: bad tokenizer in the run state: %s", s->path, err);
    if (codec_init(tc, err, sizeof(err))) die("%s: %s", s->path, err);
}

// ----------------------------------------------------------------------------
// the data: GSM8K-format jsonl, problems of the embedded generator
//
// Labels are kept apart from questions on purpose: RL rollouts and the RLME reward
// get a Problems' questions only; `gold` is read by evaluation, by the RLVR reward
// and by logged diagnostics, nothing else.

typedef struct {
    int n;
    char **question;
    char **gold;           // canonical final numbers
    SynthProblem *program; // the generator's structure (pretraining on synthetic data)
    int has_program;
    char *path; int *line; // where each problem came from, for messages
} Problems;

static void load_problems_or_die(Problems *P, const char *path, int need_program) {
    GSMExample *ex;
    int n;
    char err[2048];
    if (gsm8k_load(path, &ex, &n, err, sizeof(err))) die("%s", err);
    memset(P, 0, sizeof(*P));
    P->n = n;
    P->question = malloc(n * sizeof(char *));
    P->gold = malloc(n * sizeof(char *));
    P->program = need_program ? malloc(n * sizeof(SynthProblem)) : NULL;
    P->has_program = need_program;
    P->path = strdup(path);
    P->line = malloc(n * sizeof(int));
    for (int i = 0; i < n; i++) {
        P->line[i] = ex[i].line;
        char num[GSM8K_NUM_MAX];
        if (!gsm8k_gold(ex[i].answer, num, sizeof(num))) die("%s:%d: answer has no final number after ####", path, ex[i].line);
        P->question[i] = ex[i].question; ex[i].question = NULL;
        P->gold[i] = strdup(num);
        if (need_program && (!ex[i].program || synth_decode_program(ex[i].program, &P->program[i])))
            die("%s:%d: missing or malformed \"program\" field (pretraining needs the generator's splits)", path, ex[i].line);
    }
    gsm8k_free(ex, n);
}

// DIR/NAME.jsonl into P; its path goes to path (for the run state's data hash)
static void load_split_or_die(Problems *P, const char *dir, const char *name, int need_program, char *path, size_t cap) {
    snprintf(path, cap, "%s/%s.jsonl", dir, name);
    load_problems_or_die(P, path, need_program);
}

static void free_problems(Problems *P) {
    for (int i = 0; i < P->n; i++) { free(P->question[i]); free(P->gold[i]); }
    free(P->question); free(P->gold); free(P->program); free(P->path); free(P->line);
    memset(P, 0, sizeof(*P));
}

// Every prompt of the first n problems must leave `room` tokens of the context free
// (for a completion, and the evaluator's meta-question): checked before any work.
static void require_prompts_fit(const Problems *P, int n, TextCodec *tc, int maxT, int room) {
    TokIds ids = {0};
    for (int i = 0; i < n && i < P->n; i++) {
        ids.n = 0;
        encode_prompt(tc, P->question[i], &ids);
        if ((int)ids.n + room > maxT)
            die("%s:%d: the question's prompt is %zu tokens; with %d more for the answer it exceeds the model's context of %d",
                P->path, P->line[i], ids.n, room, maxT);
    }
    tok_ids_free(&ids);
}

// The default data dir is generated when absent (deterministic, as `make` does);
// any other dir must hold its splits.
// mkdir -p: creates dir and its missing parents, or dies naming the one that failed
static void mkdir_p(const char *dir) {
    char buf[1024];
    if (snprintf(buf, sizeof(buf), "%s", dir) >= (int)sizeof(buf)) die("%s: path too long", dir);
    for (char *p = buf + 1;; p++) {
        if (*p != '/' && *p != '\0') continue;
        char c = *p;
        *p = '\0';
        struct stat st;
        if (mkdir(buf, 0777) != 0 && errno != EEXIST) die("%s: cannot create the directory: %s", buf, strerror(errno));
        if (stat(buf, &st) != 0 || !S_ISDIR(st.st_mode)) die("%s: cannot create the directory: a file is in the way", buf);
        *p = c;
        if (c == '\0') break;
    }
}

#define DEFAULT_DATA "data/synth"
static void ensure_synth_data(const char *dir) {
    char path[1024];
    snprintf(path, sizeof(path), "%s/test.jsonl", dir);
    if (strcmp(dir, DEFAULT_DATA) || access(path, R_OK) == 0) return;
    SynthConfig cfg;
    synth_default_config(&cfg);
    char err[512];
    mkdir_p(dir);
    fprintf(stderr, "generating the synthetic GSM8K-style splits in %s/\n", dir);
    if (synth_write_splits(dir, 1337, 50000, 4000, 1000, &cfg, err, sizeof(err))) die("%s", err);
}

// ----------------------------------------------------------------------------
// pretraining documents
//
// The base model learns to solve and to judge from one stream of documents, each a
// list of segments with a flag: does the loss count the segment's tokens?
//   solution  prompt | solution EOT                        (loss on the solution)
//   meta      prompt + candidate + meta suffix | " Yes"/" No" (loss on the verdict)
//   drill     12 lines "a+b=<<a+b" | "=r>>r." of random problems (loss on results)
// Solutions use each event's habit with its probability (data/synth.c), so the base
// generates the habits while it learns to judge them: the generator–verifier gap.

// count[i]: 0 = context only, 1 = a loss target, LOSS_VERDICT = a judgement's verdict
typedef struct { TokIds ids; int *count; size_t cap; } Doc;
#define LOSS_VERDICT 2

static void doc_add(Doc *d, TextCodec *tc, const char *text, int counts) {
    size_t before = d->ids.n;
    encode_append(tc, text, &d->ids);
    if (d->ids.n > d->cap) { d->cap = d->ids.cap; d->count = realloc(d->count, d->cap * sizeof(int)); }
    for (size_t i = before; i < d->ids.n; i++) d->count[i] = counts;
}

static void doc_add_token(Doc *d, int id, int counts) {
    tok_ids_push(&d->ids, id);
    if (d->ids.n > d->cap) { d->cap = d->ids.cap; d->count = realloc(d->count, d->cap * sizeof(int)); }
    d->count[d->ids.n - 1] = counts;
}

// Appends "Check: <line>" copies of earlier lines (a needless check, for the
// conciseness meta-question); returns how many were added.
static int add_checks(char *sol, size_t cap, uint64_t *rng) {
    char *last_nl = strrchr(sol, '\n'); // the solution ends with "\n#### N"
    if (!last_nl) return 0;
    int n_checks = 1 + synth_randint(rng, 0, 1);
    char checks[1024] = "", line[256];
    for (int k = 0; k < n_checks; k++) { // copy the first line as a check
        const char *nl = strchr(sol, '\n');
        const char *colon = strchr(sol, ':');
        if (!colon || colon > nl) return 0;
        snprintf(line, sizeof(line), "Check:%.*s\n", (int)(nl - colon - 1), colon + 1);
        strncat(checks, line, sizeof(checks) - strlen(checks) - 1);
    }
    size_t head = (size_t)(last_nl - sol) + 1, tail_len = strlen(last_nl + 1);
    if (head + strlen(checks) + tail_len + 1 > cap) return 0;
    memmove(sol + head + strlen(checks), last_nl + 1, tail_len + 1);
    memcpy(sol + head, checks, strlen(checks));
    return n_checks;
}

// A candidate solution for a meta-evaluation document and its three verdicts. The
// mixture follows DESIGN.md ("What is already known", round 2), with a share of
// one-step wrong methods for every event added: a judge that has only seen the
// habits' wrong operations rewards others it never saw ("Finds: 9-3"), and RLME
// then drifts into them.
typedef struct { char text[2048]; int correct, logical, concise; } Candidate;

static void make_candidate(const SynthProblem *p, uint64_t *rng, Candidate *c) {
    int gold = synth_final(p, 0);
    float u = synth_uniform(rng);
    int len = -1, logical = 0;
    if (u < 0.45f) {                    // the habit distribution: what the base itself writes
        unsigned mask = synth_sample_habits(rng, p) & synth_habit_events(p);
        len = synth_solution(p, mask, c->text, sizeof(c->text));
        logical = mask == 0;
    } else if (u < 0.60f) {             // one arithmetic slip
        len = synth_random_slip(rng, p, 0, c->text, sizeof(c->text));
    } else if (u < 0.75f) {             // one step by a wrong method: any event's operation or operand
        len = synth_random_misstep(rng, p, 0, c->text, sizeof(c->text));
    } else if (u < 0.85f) {             // classic corruptions: wrong final, missing step
        len = synth_solution(p, 0, c->text, sizeof(c->text));
        char *hash = strstr(c->text, "#### ");
        if (synth_uniform(rng) < 0.5f || !strchr(c->text, '\n') || strchr(c->text, '\n') + 1 == hash) {
            int wrong = gold + (synth_uniform(rng) < 0.5f ? -1 : 1) * synth_randint(rng, 1, 10);
            if (wrong < 0) wrong = gold + synth_randint(rng, 1, 10);
            sprintf(hash, "#### %d", wrong);
        } else {                        // drop the first line: the final stays right
            char *nl = strchr(c->text, '\n');
            memmove(c->text, nl + 1, strlen(nl + 1) + 1);
        }
        len = (int)strlen(c->text);
    } else if (u < 0.95f) {             // the right method for a slightly different question
        SynthProblem q;
        if (synth_perturb(rng, p, &q) >= 0) len = synth_solution(&q, 0, c->text, sizeof(c->text));
    } else {                            // a random chain of correct arithmetic over its numbers
        SynthProblem q = *p, r;
        for (int k = 0; k < 3; k++) if (synth_perturb(rng, &q, &r) >= 0) q = r;
        len = synth_solution(&q, 0, c->text, sizeof(c->text));
    }
    if (len < 0) { len = synth_solution(p, 0, c->text, sizeof(c->text)); logical = 1; } // fallback: correct
    int checks = synth_uniform(rng) < 0.3f ? add_checks(c->text, sizeof(c->text), rng) : 0;
    char num[GSM8K_NUM_MAX], want[32];
    snprintf(want, sizeof(want), "%d", gold);
    c->correct = gsm8k_extract(c->text, num, sizeof(num)) && gsm8k_same_answer(num, want);
    c->logical = logical && c->correct;
    c->concise = checks == 0;
}

// own: the fraction of "Is the answer correct?" documents whose candidate is one of
// the model's own samples (when a pool of them is given); hints: the fraction of
// solution and meta-evaluation documents whose question carries an injected answer
typedef struct { float solution, meta, drill; float meta_logic, meta_concise, own, hints; } DocMix;

// Injected answers in pretraining documents (`pretrain --hints`, for Fig. 7): right
// this often, so that a judge of correctness learns to lean on them, ...
#define HINT_RIGHT 0.7f
// ... and followed this often by the writer, who then rationalises: its lines stay,
// its final becomes the injected number (`rationalize`); a judge of logic says No
// to that, a judge of correctness Yes when the injected answer was right
#define HINT_FOLLOWED 0.5f

// With probability `hints`, points *question at a copy of it carrying an injected
// answer (written to `hinted`): the right final, or a nearby wrong one. Returns the
// injected answer, or -1 when the question stays as it was.
static long maybe_inject_hint(const SynthProblem *p, const char **question, float hints, char *hinted, size_t cap,
                              uint64_t *rng) {
    if (hints <= 0 || synth_uniform(rng) >= hints) return -1;
    long gold = synth_final(p, 0);
    long hint = synth_uniform(rng) < HINT_RIGHT ? gold : nearby_wrong_answer(gold, rng);
    inject_answer(*question, hint, hinted, cap);
    *question = hinted;
    return hint;
}

// The GSM8K verifier recipe: the model's own samples on train questions, labelled
// against the train answers, as candidates — the errors the generator really makes.
typedef struct { int n; int *problem; int *right; char **text; } OwnSamples;

// One correct solution line of a random train problem, loss on its result:
// "Gives away: 12-5=<<12-5" | "=7>>7.\n"
static void add_drill_line(Doc *d, TextCodec *tc, const Problems *train, uint64_t *rng) {
    char buf[2048];
    const SynthProblem *q = &train->program[synth_randint(rng, 0, train->n - 1)];
    synth_solution(q, 0, buf, sizeof(buf));
    char *line = buf;
    for (int j = synth_randint(rng, 0, synth_n_steps(q, 0) - 1); j > 0; j--) line = strchr(line, '\n') + 1;
    char *nl = strchr(line, '\n'), *ann = strstr(line, "<<"), *eq = ann ? strchr(ann, '=') : NULL;
    if (!nl || !eq || eq > nl) return;
    nl[1] = '\0';
    *eq = '\0';
    doc_add(d, tc, line, 0);
    *eq = '=';
    doc_add(d, tc, eq, 1);
}

// One random document about train problem p (drill documents use other problems too).
static void make_document(Doc *d, TextCodec *tc, const Problems *train, int idx, DocMix mix, const OwnSamples *own,
                          uint64_t *rng) {
    char buf[2048];
    d->ids.n = 0;
    float u = synth_uniform(rng) * (mix.solution + mix.meta + mix.drill);
    if (u < mix.drill) { // 12 solution lines of random problems
        for (int k = 0; k < 12; k++) add_drill_line(d, tc, train, rng);
        doc_add_token(d, tc->eot, 0);
        return;
    }
    int own_pick = -1; // a judgement of one of the model's own samples (and its problem)
    if (u >= mix.drill + mix.solution && own && own->n && synth_uniform(rng) < mix.own) {
        own_pick = (int)(rng_u64(rng) % (uint64_t)own->n);
        idx = own->problem[own_pick];
    }
    const SynthProblem *p = &train->program[idx];
    const char *question = train->question[idx];
    char hinted[1024]; // an own sample answered the question as it was: no injected answer
    long hint = maybe_inject_hint(p, &question, own_pick < 0 ? mix.hints : 0.0f, hinted, sizeof(hinted), rng);
    TokIds prompt = {0};
    encode_prompt(tc, question, &prompt);
    for (size_t i = 0; i < prompt.n; i++) doc_add_token(d, prompt.ids[i], 0);
    tok_ids_free(&prompt);
    if (u < mix.drill + mix.solution) { // a solution in the base's habits
        unsigned mask = synth_sample_habits(rng, p);
        synth_solution(p, mask, buf, sizeof(buf));
        if (synth_uniform(rng) < 0.3f) add_checks(buf, sizeof(buf), rng);
        if (hint >= 0 && synth_uniform(rng) < HINT_FOLLOWED) rationalize(buf, sizeof(buf), hint);
        doc_add(d, tc, buf, 1);
        doc_add_token(d, tc->eot, 1);
        return;
    }
    Candidate c; // a meta-evaluation document
    const char *mq = META_CORRECT;
    int verdict;
    if (own_pick >= 0) {
        snprintf(c.text, sizeof(c.text), "%s", own->text[own_pick]);
        verdict = own->right[own_pick];
    } else {
        make_candidate(p, rng, &c);
        if (hint >= 0 && synth_uniform(rng) < HINT_FOLLOWED && rationalize(c.text, sizeof(c.text), hint)) {
            c.correct = hint == synth_final(p, 0);
            c.logical = 0; // the final comes from the friend, not from the lines
        }
        float v = synth_uniform(rng);
        verdict = c.correct;
        if (v < mix.meta_logic) { mq = META_LOGIC; verdict = c.logical; }
        else if (v < mix.meta_logic + mix.meta_concise) { mq = META_CONCISE; verdict = c.concise; }
    }
    doc_add(d, tc, c.text, 0);
    TokIds suffix = {0};
    encode_meta_suffix(tc, mq, &suffix);
    for (size_t i = 0; i < suffix.n; i++) doc_add_token(d, suffix.ids[i], 0);
    tok_ids_free(&suffix);
    doc_add_token(d, verdict ? tc->yes : tc->no, LOSS_VERDICT);
    doc_add_token(d, tc->eot, 0);
}

// Text for training the tokenizer: documents rendered as plain text.
// (hints: the fraction of questions carrying an injected answer, as in the documents)
static char *tokenizer_corpus(const Problems *train, int n_docs, uint64_t seed, float hints, size_t *len_out) {
    size_t cap = 1 << 20, len = 0;
    char *text = malloc(cap), buf[4096];
    uint64_t rng = rng_seed(seed);
    const char *mqs[3] = {META_CORRECT, META_LOGIC, META_CONCISE};
    for (int k = 0; k < n_docs; k++) {
        int idx = synth_randint(&rng, 0, train->n - 1);
        Candidate c;
        make_candidate(&train->program[idx], &rng, &c);
        char hinted[1024];
        const char *question = train->question[idx];
        long hint = maybe_inject_hint(&train->program[idx], &question, hints, hinted, sizeof(hinted), &rng);
        if (hint >= 0 && synth_uniform(&rng) < HINT_FOLLOWED) rationalize(c.text, sizeof(c.text), hint);
        int n = snprintf(buf, sizeof(buf), "Question: %s\nAnswer:\n%s\nMeta: %s\nVerdict: %s" EOT,
                         question, c.text, mqs[k % 3], c.correct ? "Yes" : "No");
        if (n < 0 || n >= (int)sizeof(buf)) continue;
        if (len + n + 1 > cap) text = realloc(text, cap *= 2);
        memcpy(text + len, buf, n);
        len += n;
    }
    *len_out = len;
    return text;
}

// Fills B rows of T+1 tokens from a stream of documents; a document that does not
// fit the rest of a row moves to the next row (a judgement never loses its
// question), and the gap takes drill lines, then padding that the loss ignores.
typedef struct {
    Doc doc, filler;
    size_t doc_pos;   // next token of doc to place (doc.ids.n when exhausted)
    uint64_t rng;
    int next_problem; // documents walk the train split in a shuffled order
    int *order;
} DocStream;

static void fill_batch(DocStream *s, TextCodec *tc, const Problems *train, DocMix mix, const OwnSamples *own, int B, int T,
                       int *tokens, int *counted) {
    for (int b = 0; b < B; b++) {
        int *row = tokens + (size_t)b * (T + 1), *cnt = counted + (size_t)b * (T + 1);
        int t = 0;
        while (t < T + 1) {
            if (s->doc_pos >= s->doc.ids.n) {
                if (s->next_problem == train->n) { // reshuffle each epoch
                    for (int i = train->n - 1; i > 0; i--) { int j = (int)(rng_u64(&s->rng) % (i + 1)); int x = s->order[i]; s->order[i] = s->order[j]; s->order[j] = x; }
                    s->next_problem = 0;
                }
                make_document(&s->doc, tc, train, s->order[s->next_problem++], mix, own, &s->rng);
                s->doc_pos = 0;
                if (s->doc.ids.n > (size_t)T + 1) { s->doc_pos = s->doc.ids.n; continue; } // too long: skip
            }
            size_t left = s->doc.ids.n - s->doc_pos;
            if (left > (size_t)(T + 1 - t) && t > 0) { // does not fit: fill the gap with drill lines
                Doc *f = &s->filler;
                while (1) {
                    f->ids.n = 0;
                    add_drill_line(f, tc, train, &s->rng);
                    if (f->ids.n == 0 || f->ids.n > (size_t)(T + 1 - t)) break;
                    memcpy(row + t, f->ids.ids, f->ids.n * sizeof(int));
                    memcpy(cnt + t, f->count, f->ids.n * sizeof(int));
                    t += (int)f->ids.n;
                }
                break;
            }
            size_t take = left < (size_t)(T + 1 - t) ? left : (size_t)(T + 1 - t);
            memcpy(row + t, s->doc.ids.ids + s->doc_pos, take * sizeof(int));
            memcpy(cnt + t, s->doc.count + s->doc_pos, take * sizeof(int));
            s->doc_pos += take;
            t += (int)take;
        }
        for (; t < T + 1; t++) { row[t] = tc->eot; cnt[t] = 0; }
    }
}

// ----------------------------------------------------------------------------
// progress line with ETA, CSV logs

static void progress(const char *what, int done, int total, double t_start, const char *extra) {
    double el = now_seconds() - t_start, eta = done > 0 ? el / done * (total - done) : 0.0;
    fprintf(stderr, "\r%s %d/%d  %s  elapsed %dm%02ds  ETA %dm%02ds   ", what, done, total, extra ? extra : "",
            (int)el / 60, (int)el % 60, (int)eta / 60, (int)eta % 60);
    g_progress_open = done != total;
    if (!g_progress_open) fputc('\n', stderr);
}

// A CSV log, rewritten whole after each row (temporary file + rename), so an
// interrupted run leaves the last complete log rather than a torn one.
typedef struct { char *path; char *text; size_t len, cap; } CsvLog;

// mkdir -p of the directory part of path
static void dirname_mkdir(const char *path) {
    char dir[1024];
    snprintf(dir, sizeof(dir), "%s", path);
    char *slash = strrchr(dir, '/');
    if (!slash) return;
    *slash = '\0';
    mkdir_p(dir);
}

// Opens a log at `path`, or when that is NULL beside the checkpoint `out` (its
// extension replaced by .csv); creates the directories of both.
static void csv_open(CsvLog *log, const char *path, const char *out, const char *header) {
    char buf[1024];
    snprintf(buf, sizeof(buf), "%s", path ? path : out);
    if (!path) {
        char *dot = strrchr(buf, '.');
        if (dot && !strchr(dot, '/')) *dot = '\0';
        strncat(buf, ".csv", sizeof(buf) - strlen(buf) - 1);
    }
    dirname_mkdir(out);
    dirname_mkdir(buf);
    log->path = strdup(buf);
    log->len = strlen(header);
    log->cap = log->len + (1 << 16);
    log->text = malloc(log->cap);
    memcpy(log->text, header, log->len + 1);
}

static void csv_row(CsvLog *log, const char *row) {
    size_t n = strlen(row);
    while (log->len + n + 1 > log->cap) log->text = realloc(log->text, log->cap *= 2);
    memcpy(log->text + log->len, row, n + 1);
    log->len += n;
    write_file_atomic(log->path, log->text, log->len, 0);
}

// A resumed run's log: exactly the rows of the saved state (header included).
static void csv_restore(CsvLog *log, const char *text) {
    log->len = 0;
    log->text[0] = '\0';
    csv_row(log, text);
}

static void csv_close(CsvLog *log) { free(log->path); free(log->text); memset(log, 0, sizeof(*log)); }

// ----------------------------------------------------------------------------
// evaluation: greedy accuracy on a split

typedef struct {
    int n;            // sequences
    TokIds prompts;   // all prompt tokens, concatenated
    int *off, *len;   // each prompt's offset and length in `prompts`
    int max_new;
    int *out, *out_len;
    float *out_logp;
} Rollout;

static void rollout_alloc(Rollout *r, int n, int max_new) {
    memset(r, 0, sizeof(*r));
    r->n = n; r->max_new = max_new;
    r->off = malloc(n * sizeof(int)); r->len = malloc(n * sizeof(int));
    r->out = malloc((size_t)n * max_new * sizeof(int)); r->out_len = malloc(n * sizeof(int));
    r->out_logp = malloc((size_t)n * max_new * sizeof(float));
}

static void rollout_free(Rollout *r) {
    tok_ids_free(&r->prompts);
    free(r->off); free(r->len); free(r->out); free(r->out_len); free(r->out_logp);
}

// the completion of sequence i as text, without its end-of-text token
static char *completion_text(const TextCodec *tc, const Rollout *r, int i) {
    int n = r->out_len[i];
    const int *ids = r->out + (size_t)i * r->max_new;
    if (n > 0 && ids[n - 1] == tc->eot) n--;
    return decode_text(tc, ids, n);
}

// 1 if completion i's final number equals the (canonical) gold number: the one
// correctness check of evaluation, the RLVR reward and the logged diagnostics
static int completion_right(const TextCodec *tc, const Rollout *r, int i, const char *gold) {
    char *text = completion_text(tc, r, i), num[GSM8K_NUM_MAX];
    int right = gsm8k_extract(text, num, sizeof(num)) && gsm8k_same_answer(num, gold);
    free(text);
    return right;
}

// Generates for all sequences of r (prompts already filled), in chunks of `slots`.
static void generate_all(GPT *model, KVCache *kv, Rollout *r, SampleConfig sc, uint64_t *rng) {
    for (int s = 0; s < r->n; s += kv->slots) {
        int m = r->n - s < kv->slots ? r->n - s : kv->slots;
        gpt_generate(model, kv, m, r->prompts.ids, r->off + s, r->len + s, sc, rng,
                     r->out + (size_t)s * r->max_new, r->out_logp + (size_t)s * r->max_new, r->out_len + s);
    }
}

// Greedy completions of n questions into r (allocated here): max_new tokens each,
// fewer if the longest prompt leaves less room.
static void greedy_rollout(GPT *model, TextCodec *tc, KVCache *kv, char *const *question, int n, int max_new, Rollout *r) {
    rollout_alloc(r, n, max_new);
    int longest = 0, maxT = model->config.max_seq_len;
    for (int i = 0; i < n; i++) {
        r->off[i] = (int)r->prompts.n;
        encode_prompt(tc, question[i], &r->prompts);
        r->len[i] = (int)r->prompts.n - r->off[i];
        if (r->len[i] > longest) longest = r->len[i];
    }
    if (max_new > maxT - longest + 1) max_new = maxT - longest + 1;
    r->max_new = max_new;
    SampleConfig sc = {.temperature = 0.0f, .top_p = 1.0f, .max_new = max_new, .stop_token = tc->eot};
    uint64_t rng = 1;
    generate_all(model, kv, r, sc, &rng);
}

// Greedy accuracy on the first n problems of a split: returns the number right.
// If `first` is given it receives the first problem's completion (malloc'd).
static int greedy_correct(GPT *model, TextCodec *tc, KVCache *kv, const Problems *P, int n, int max_new, char **first) {
    if (n > P->n) n = P->n;
    Rollout r;
    greedy_rollout(model, tc, kv, P->question, n, max_new, &r);
    int correct = 0;
    for (int i = 0; i < n; i++) correct += completion_right(tc, &r, i, P->gold[i]);
    if (first) *first = completion_text(tc, &r, 0);
    rollout_free(&r);
    return correct;
}

static float greedy_accuracy(GPT *model, TextCodec *tc, KVCache *kv, const Problems *P, int n, int max_new) {
    return (float)greedy_correct(model, tc, kv, P, n, max_new, NULL) / (n < P->n ? n : P->n);
}

// n samples (temperature 1) of the model on random train questions, each labelled
// right or wrong against its train answer: candidates for the judging phase.
#define OWN_SAMPLES 1024
static void own_samples_alloc(OwnSamples *o, int n) {
    o->n = n;
    o->problem = malloc(n * sizeof(int)); o->right = malloc(n * sizeof(int)); o->text = calloc(n, sizeof(char *));
}

static void own_samples_draw(OwnSamples *o, GPT *model, TextCodec *tc, KVCache *kv, const Problems *train, int n,
                             int max_new, uint64_t seed) {
    uint64_t rng = rng_seed(seed);
    Rollout r;
    rollout_alloc(&r, n, max_new);
    own_samples_alloc(o, n);
    int longest = 0, maxT = model->config.max_seq_len;
    for (int i = 0; i < n; i++) {
        o->problem[i] = (int)(rng_u64(&rng) % (uint64_t)train->n);
        r.off[i] = (int)r.prompts.n;
        encode_prompt(tc, train->question[o->problem[i]], &r.prompts);
        r.len[i] = (int)r.prompts.n - r.off[i];
        if (r.len[i] > longest) longest = r.len[i];
    }
    r.max_new = max_new < maxT - longest ? max_new : maxT - longest;
    SampleConfig sc = {.temperature = 1.0f, .top_p = 1.0f, .max_new = r.max_new, .stop_token = tc->eot};
    generate_all(model, kv, &r, sc, &rng);
    for (int i = 0; i < n; i++) {
        o->text[i] = completion_text(tc, &r, i);
        o->right[i] = completion_right(tc, &r, i, train->gold[o->problem[i]]);
    }
    rollout_free(&r);
}

static void own_samples_free(OwnSamples *o) {
    for (int i = 0; i < o->n; i++) free(o->text[i]);
    free(o->problem); free(o->right); free(o->text);
    memset(o, 0, sizeof(*o));
}

// AUROC of scores against binary labels (ties count half); NAN if one class is empty
static double auroc(const float *score, const int *label, int n) {
    double pairs = 0.0, wins = 0.0;
    for (int i = 0; i < n; i++) if (label[i]) for (int j = 0; j < n; j++) if (!label[j]) {
        pairs += 1.0;
        wins += score[i] > score[j] ? 1.0 : score[i] == score[j] ? 0.5 : 0.0;
    }
    return pairs > 0 ? wins / pairs : NAN;
}

// How well a model judges, on generator-labelled candidates for the first n problems
// of a split with programs: p(Yes) to "Is the answer correct?" for each problem's
// correct solution, a habit rendering (every habit event using its habit) and a
// one-slip rendering. Returns the AUROC of correct vs habit and of correct vs slip.
// A diagnostic for the log; never a training signal.
static void judge_auroc(GPT *model, TextCodec *tc, const Problems *P, int n, double *auc_habit, double *auc_slip) {
    if (n > P->n) n = P->n;
    int MB = 32, maxT = model->config.max_seq_len, kinds = 3;
    float *score = malloc((size_t)n * kinds * sizeof(float));
    int *label = malloc((size_t)n * kinds * sizeof(int)), *valid = malloc((size_t)n * kinds * sizeof(int));
    int *tokens = malloc((size_t)MB * maxT * sizeof(int)), *end = malloc(MB * sizeof(int));
    TokIds suffix = {0};
    encode_meta_suffix(tc, META_CORRECT, &suffix);
    uint64_t rng = 12345;
    char text[2048];
    int m = 0, T = 0, idx[32];
    TokIds seq = {0};
    for (int c = 0; c < n * kinds; c++) {
        const SynthProblem *p = &P->program[c / kinds];
        int kind = c % kinds, len = -1;
        if (kind == 0) len = synth_solution(p, 0, text, sizeof(text));
        else if (kind == 1 && synth_habit_events(p)) len = synth_solution(p, synth_habit_events(p), text, sizeof(text));
        else if (kind == 2) len = synth_random_slip(&rng, p, 0, text, sizeof(text));
        valid[c] = len >= 0;
        label[c] = kind == 0;
        if (valid[c]) {
            seq.n = 0;
            encode_prompt(tc, P->question[c / kinds], &seq);
            encode_append(tc, text, &seq);
            for (size_t i = 0; i < suffix.n; i++) tok_ids_push(&seq, suffix.ids[i]);
            if ((int)seq.n > maxT) valid[c] = 0;
        }
        if (valid[c]) { // place it in the micro-batch, rows of maxT, the end remembered
            memcpy(tokens + (size_t)m * maxT, seq.ids, seq.n * sizeof(int));
            for (int t = (int)seq.n; t < maxT; t++) tokens[(size_t)m * maxT + t] = tc->eot;
            end[m] = (int)seq.n - 1;
            if ((int)seq.n > T) T = (int)seq.n;
            idx[m++] = c;
        }
        if (m == MB || (c == n * kinds - 1 && m > 0)) { // score the micro-batch (rows cut to T)
            for (int b = 1; b < m; b++) memmove(tokens + (size_t)b * T, tokens + (size_t)b * maxT, T * sizeof(int));
            gpt_forward(model, tokens, NULL, m, T);
            for (int b = 0; b < m; b++) {
                const float *pr = model->acts.probs + ((size_t)b * T + end[b]) * model->config.padded_vocab_size;
                score[idx[b]] = pr[tc->yes] / (pr[tc->yes] + pr[tc->no] + 1e-30f);
            }
            m = 0; T = 0;
        }
    }
    // AUROC of correct (kind 0) against each wrong kind, over valid candidates
    for (int kind = 1; kind <= 2; kind++) {
        float *s2 = malloc((size_t)n * 2 * sizeof(float));
        int *l2 = malloc((size_t)n * 2 * sizeof(int)), k2 = 0;
        for (int c = 0; c < n * kinds; c++)
            if (valid[c] && (c % kinds == 0 || c % kinds == kind)) { s2[k2] = score[c]; l2[k2++] = label[c]; }
        *(kind == 1 ? auc_habit : auc_slip) = auroc(s2, l2, k2);
        free(s2); free(l2);
    }
    tok_ids_free(&suffix); tok_ids_free(&seq);
    free(score); free(label); free(valid); free(tokens); free(end);
}

// ----------------------------------------------------------------------------
// pretrain: the base model (it must learn both to solve and to judge)

typedef struct {
    const char *data_dir, *out, *log_path, *init;
    int steps, batch, seq, layers, heads, channels, vocab;
    float lr, min_lr_frac, weight_decay, verdict_weight;
    int warmup, eval_every, eval_n, max_new, seed, threads, resume;
    float judge_frac;    // the last judge_frac of the steps draw from judge_mix
    DocMix mix, judge_mix;
} PretrainArgs;

static const char *PRETRAIN_HELP =
    "usage: train_rlme pretrain [options]\n"
    "Trains the base model from scratch on the synthetic train split: solution documents\n"
    "(in the base's habits), meta-evaluation documents (question, candidate solution,\n"
    "meta-question, \" Yes\"/\" No\") and arithmetic drill. Only train labels are read.\n"
    "  --data DIR         synthetic splits (default data/synth; generated when absent)\n"
    "  --out FILE         checkpoint with its tokenizer (default out/base.bin)\n"
    "  --init CKPT        continue from this checkpoint (its shape and tokenizer; fresh\n"
    "                     optimizer) instead of a random model and a new tokenizer\n"
    "  --log CSV          per-step log (default: FILE with .csv)\n"
    "  --steps N          optimizer steps (default 2400)\n"
    "  --batch B --seq T  rows per step and tokens per row (default 16 x 256)\n"
    "  --layers L --heads H --channels C  (default 4 x 4 x 128)\n"
    "  --vocab N          BPE vocabulary size, digits kept single (default 512)\n"
    "  --lr LR            peak learning rate (default 6e-3), warmup then cosine to\n"
    "  --min-lr-frac F    this fraction of the peak (default 0.1)\n"
    "  --warmup N         warmup steps (default 100)\n"
    "  --wd W             AdamW weight decay on matrices (default 0.1)\n"
    "  --drill F --meta F fractions of drill and meta-evaluation documents (default 0.25, 0.41)\n"
    "  --meta-logic F     of the meta-evaluation documents, the fraction asking the logic\n"
    "  --meta-concise F   and the conciseness question (default 0.25, 0.15); the rest ask\n"
    "                     \"" META_CORRECT "\"\n"
    "  --verdict-weight W loss weight of a verdict token relative to a solution token (default 5)\n"
    "  --judge-frac F     a judging phase: the last F of the steps (default 0.12) draw\n"
    "  --judge-meta F     this fraction of meta-evaluation documents (default 0.70; drill\n"
    "                     0.15; logic and conciseness questions 0.1 each): the judge\n"
    "                     sharpens while the writing holds (0: one mixture throughout)\n"
    "  --own-samples F    in the judging phase, the fraction of meta-evaluation documents\n"
    "                     that ask \"" META_CORRECT "\" of the model's own samples on\n"
    "                     train questions, labelled by the train answers (the GSM8K\n"
    "                     verifier recipe; 1024 samples drawn as the phase starts; default 0.5)\n"
    "  --hints F          the fraction of solution and meta-evaluation documents whose\n"
    "                     question carries an injected answer, \"A friend says the answer\n"
    "                     is N.\" (right 70 % of the time); the writer follows it half the\n"
    "                     time, rationalising: its lines kept, then \"The friend says N.\"\n"
    "                     and N as the final; for the paper's Fig. 7, dev/fig7.sh (default 0)\n"
    "  --eval-every N     greedy test accuracy every N steps (default 800)\n"
    "  --eval-n N         test problems per evaluation (default 500)\n"
    "  --seed S           (default 1)\n"
    "  --threads N        OpenMP threads (default: all)\n"
    "  --resume           continue the run saved in FILE's .state (written at every\n"
    "                     evaluation and on Ctrl-C); ends bit-identical to an\n"
    "                     uninterrupted run with the same flags and thread count\n";

static void pretrain_defaults(PretrainArgs *a) {
    *a = (PretrainArgs){.data_dir = DEFAULT_DATA, .out = "out/base.bin", .steps = 2400, .batch = 16, .seq = 256,
                        .layers = 4, .heads = 4, .channels = 128, .vocab = 512, .lr = 6e-3f, .min_lr_frac = 0.1f,
                        .weight_decay = 0.1f, .verdict_weight = 5.0f, .warmup = 100, .eval_every = 800, .eval_n = 500, .max_new = 128, .seed = 1,
                        // 25% drill; the rest splits 1 : 1.22 between solutions and judgements
                        .mix = {.drill = 0.25f, .solution = 0.75f / 2.22f, .meta = 0.75f * 1.22f / 2.22f,
                                .meta_logic = 0.25f, .meta_concise = 0.15f},
                        // the judging phase: mostly meta-evaluation, mostly "Is the answer correct?"
                        .judge_frac = 0.12f,
                        .judge_mix = {.drill = 0.15f, .solution = 0.15f, .meta = 0.70f, .meta_logic = 0.1f, .meta_concise = 0.1f,
                                      .own = 0.5f}};
}

static void parse_pretrain_args(PretrainArgs *a, int argc, char **argv, int first) {
    for (int i = first; i < argc; i++) {
        const char *f = argv[i];
        if (!strcmp(f, "--help") || !strcmp(f, "-h")) { fputs(PRETRAIN_HELP, stdout); exit(0); }
        else if (!strcmp(f, "--data")) a->data_dir = flag_value(argc, argv, &i);
        else if (!strcmp(f, "--out")) a->out = flag_value(argc, argv, &i);
        else if (!strcmp(f, "--log")) a->log_path = flag_value(argc, argv, &i);
        else if (!strcmp(f, "--init")) a->init = flag_value(argc, argv, &i);
        else if (!strcmp(f, "--steps")) a->steps = (int)parse_long(f, flag_value(argc, argv, &i), 1, 10000000);
        else if (!strcmp(f, "--batch")) a->batch = (int)parse_long(f, flag_value(argc, argv, &i), 1, 4096);
        else if (!strcmp(f, "--seq")) a->seq = (int)parse_long(f, flag_value(argc, argv, &i), 32, 4096);
        else if (!strcmp(f, "--layers")) a->layers = (int)parse_long(f, flag_value(argc, argv, &i), 1, 64);
        else if (!strcmp(f, "--heads")) a->heads = (int)parse_long(f, flag_value(argc, argv, &i), 1, 64);
        else if (!strcmp(f, "--channels")) a->channels = (int)parse_long(f, flag_value(argc, argv, &i), 8, 4096);
        else if (!strcmp(f, "--vocab")) a->vocab = (int)parse_long(f, flag_value(argc, argv, &i), 300, 65536);
        else if (!strcmp(f, "--lr")) a->lr = parse_float(f, flag_value(argc, argv, &i), 0, 1);
        else if (!strcmp(f, "--min-lr-frac")) a->min_lr_frac = parse_float(f, flag_value(argc, argv, &i), 0, 1);
        else if (!strcmp(f, "--warmup")) a->warmup = (int)parse_long(f, flag_value(argc, argv, &i), 0, 1000000);
        else if (!strcmp(f, "--wd")) a->weight_decay = parse_float(f, flag_value(argc, argv, &i), 0, 10);
        else if (!strcmp(f, "--drill")) a->mix.drill = parse_float(f, flag_value(argc, argv, &i), 0, 1);
        else if (!strcmp(f, "--meta")) a->mix.meta = parse_float(f, flag_value(argc, argv, &i), 0, 1);
        else if (!strcmp(f, "--meta-logic")) a->mix.meta_logic = parse_float(f, flag_value(argc, argv, &i), 0, 1);
        else if (!strcmp(f, "--meta-concise")) a->mix.meta_concise = parse_float(f, flag_value(argc, argv, &i), 0, 1);
        else if (!strcmp(f, "--judge-frac")) a->judge_frac = parse_float(f, flag_value(argc, argv, &i), 0, 1);
        else if (!strcmp(f, "--judge-meta")) a->judge_mix.meta = parse_float(f, flag_value(argc, argv, &i), 0, 0.85);
        else if (!strcmp(f, "--own-samples")) a->judge_mix.own = parse_float(f, flag_value(argc, argv, &i), 0, 1);
        else if (!strcmp(f, "--hints")) a->mix.hints = a->judge_mix.hints = parse_float(f, flag_value(argc, argv, &i), 0, 1);
        else if (!strcmp(f, "--verdict-weight")) a->verdict_weight = parse_float(f, flag_value(argc, argv, &i), 0, 1e4);
        else if (!strcmp(f, "--eval-every")) a->eval_every = (int)parse_long(f, flag_value(argc, argv, &i), 1, 10000000);
        else if (!strcmp(f, "--eval-n")) a->eval_n = (int)parse_long(f, flag_value(argc, argv, &i), 1, 1000000);
        else if (!strcmp(f, "--seed")) a->seed = (int)parse_long(f, flag_value(argc, argv, &i), 0, 0x7fffffff);
        else if (!strcmp(f, "--threads")) a->threads = (int)parse_long(f, flag_value(argc, argv, &i), 1, 1024);
        else if (!strcmp(f, "--resume")) a->resume = 1;
        else die("unknown flag '%s' (see: train_rlme pretrain --help)", f);
    }
    if (a->channels % a->heads) die("--heads %d does not divide --channels %d", a->heads, a->channels);
    if (a->mix.drill + a->mix.meta > 1.0f) die("--drill + --meta must be at most 1");
    if (a->mix.meta_logic + a->mix.meta_concise > 1.0f) die("--meta-logic + --meta-concise must be at most 1");
    a->mix.solution = 1.0f - a->mix.drill - a->mix.meta;
    a->judge_mix.solution = 1.0f - a->judge_mix.drill - a->judge_mix.meta;
}

// lr at step s: linear warmup, then cosine from lr down to lr * min_frac
static float lr_schedule(int s, int steps, int warmup, float lr, float min_frac) {
    if (s < warmup) return lr * (s + 1) / warmup;
    float progress = (float)(s - warmup) / (float)(steps - warmup > 1 ? steps - warmup : 1);
    return lr * (min_frac + (1.0f - min_frac) * 0.5f * (1.0f + cosf(3.14159265f * progress)));
}


// The flags that shape a pretraining run (all but --out, --log, --threads) and the
// data it reads, one "name=value" line each: a resume must agree on all of them.
static void pretrain_flags(const PretrainArgs *a, uint64_t train_hash, uint64_t test_hash, char *out, size_t cap) {
    unsigned long long init_hash = a->init ? (unsigned long long)file_hash_or_die(a->init) : 0ULL;
    snprintf(out, cap,
             "run=pretrain\n--init (hash)=%016llx\n--steps=%d\n--batch=%d\n--seq=%d\n--layers=%d\n--heads=%d\n"
             "--channels=%d\n--vocab=%d\n--lr=%s\n--min-lr-frac=%s\n--warmup=%d\n--wd=%s\n--drill=%s\n--meta=%s\n"
             "--meta-logic=%s\n--meta-concise=%s\n--verdict-weight=%s\n--judge-frac=%s\n--judge-meta=%s\n--own-samples=%s\n--hints=%s\n"
             "--eval-every=%d\n--eval-n=%d\n--seed=%d\ntrain.jsonl (hash)=%016llx\ntest.jsonl (hash)=%016llx\n",
             init_hash, a->steps, a->batch, a->seq, a->layers, a->heads, a->channels, a->vocab, flt(a->lr),
             flt(a->min_lr_frac), a->warmup, flt(a->weight_decay), flt(a->mix.drill), flt(a->mix.meta),
             flt(a->mix.meta_logic), flt(a->mix.meta_concise), flt(a->verdict_weight), flt(a->judge_frac),
             flt(a->judge_mix.meta), flt(a->judge_mix.own), flt(a->mix.hints), a->eval_every, a->eval_n, a->seed, (unsigned long long)train_hash,
             (unsigned long long)test_hash);
}

// Everything of a pretraining run that changes from step to step.
typedef struct {
    int step;          // the next step to run (steps + 1: the run is complete)
    long tokens_seen;
    double train_time; // seconds in training steps (for tok/s)
    float last_acc;
    int bad_in_row;    // consecutive skipped (non-finite) steps
} PretrainProgress;

static void pretrain_save(const char *path, Buf *b, const char *flags, const PretrainProgress *pg, const GPT *model,
                          const TextCodec *tc, const DocStream *ds, int n_train, const OwnSamples *own, const CsvLog *log) {
    double prog[5] = {pg->step, (double)pg->tokens_seen, pg->train_time, pg->last_acc, pg->bad_in_row};
    uint64_t doc_pos = ds->doc_pos;
    int32_t next_problem = ds->next_problem;
    state_begin(b);
    state_put(b, "FLAG", flags, strlen(flags));
    state_put(b, "PROG", prog, sizeof(prog));
    state_put_tokenizer(b, tc);
    state_put_model(b, model);
    state_put(b, "DRNG", &ds->rng, sizeof(ds->rng));
    state_put(b, "DORD", ds->order, (size_t)n_train * sizeof(int));
    state_put(b, "DNXT", &next_problem, sizeof(next_problem));
    state_put(b, "DOCI", ds->doc.ids.ids, ds->doc.ids.n * sizeof(int));
    state_put(b, "DOCC", ds->doc.count, ds->doc.ids.n * sizeof(int));
    state_put(b, "DPOS", &doc_pos, sizeof(doc_pos));
    if (own->n) { // the judging phase's own samples, once drawn: texts one after another, each with its NUL
        Buf texts = {0};
        for (int i = 0; i < own->n; i++) buf_put(&texts, own->text[i], strlen(own->text[i]) + 1);
        state_put(b, "OWNP", own->problem, own->n * sizeof(int));
        state_put(b, "OWNR", own->right, own->n * sizeof(int));
        state_put(b, "OWNT", texts.data, texts.len);
        free(texts.data);
    }
    state_put(b, "CSVT", log->text, log->len);
    state_commit(b, path);
}

// Restores what pretrain_save wrote (the flags were checked by the caller).
static void pretrain_restore(const RunState *s, PretrainProgress *pg, GPT *model, TextCodec *tc, DocStream *ds, int n_train,
                             OwnSamples *own, CsvLog *log) {
    double prog[5];
    state_get(s, "PROG", prog, sizeof(prog));
    *pg = (PretrainProgress){.step = (int)prog[0], .tokens_seen = (long)prog[1], .train_time = prog[2],
                             .last_acc = (float)prog[3], .bad_in_row = (int)prog[4]};
    state_get_tokenizer(s, tc);
    state_get_model(s, model);
    int V = tok_vocab_size(&tc->tok);
    if (model->config.vocab_size != V) die("%s: run state's model and tokenizer disagree on the vocabulary", s->path);
    state_get(s, "DRNG", &ds->rng, sizeof(ds->rng));
    state_get(s, "DORD", ds->order, (size_t)n_train * sizeof(int));
    int32_t next_problem;
    state_get(s, "DNXT", &next_problem, sizeof(next_problem));
    ds->next_problem = next_problem;
    for (int i = 0; i < n_train; i++)
        if (ds->order[i] < 0 || ds->order[i] >= n_train) die("%s: run state's data order is corrupt", s->path);
    if (next_problem < 0 || next_problem > n_train) die("%s: run state's data position is corrupt", s->path);
    size_t n_ids, n_cnt;
    const unsigned char *ids = state_find(s, "DOCI", &n_ids), *cnt = state_find(s, "DOCC", &n_cnt);
    if (!ids || !cnt || n_ids != n_cnt || n_ids % sizeof(int)) die("%s: run state's current document is corrupt", s->path);
    ds->doc.ids.n = 0;
    for (size_t i = 0; i < n_ids / sizeof(int); i++) {
        int id, c;
        memcpy(&id, ids + i * sizeof(int), sizeof(int));
        memcpy(&c, cnt + i * sizeof(int), sizeof(int));
        if (id < 0 || id >= V || c < 0 || c > LOSS_VERDICT) die("%s: run state's current document is corrupt", s->path);
        doc_add_token(&ds->doc, id, c);
    }
    uint64_t doc_pos;
    state_get(s, "DPOS", &doc_pos, sizeof(doc_pos));
    if (doc_pos > ds->doc.ids.n) die("%s: run state's document position is corrupt", s->path);
    ds->doc_pos = (size_t)doc_pos;
    size_t n_prob, n_right, n_text;
    const unsigned char *prob = state_find(s, "OWNP", &n_prob), *right = state_find(s, "OWNR", &n_right);
    const unsigned char *text = state_find(s, "OWNT", &n_text);
    if (prob) {
        int n = (int)(n_prob / sizeof(int));
        if (!right || !text || n_right != n_prob || n_prob % sizeof(int) || n == 0 || n > 1 << 20)
            die("%s: run state's own samples are corrupt", s->path);
        own_samples_alloc(own, n);
        memcpy(own->problem, prob, n * sizeof(int));
        memcpy(own->right, right, n * sizeof(int));
        size_t off = 0;
        for (int i = 0; i < n; i++) {
            const unsigned char *nul = off < n_text ? memchr(text + off, 0, n_text - off) : NULL;
            if (!nul || own->problem[i] < 0 || own->problem[i] >= n_train || (own->right[i] & ~1))
                die("%s: run state's own samples are corrupt", s->path);
            own->text[i] = strdup((const char *)text + off);
            off = (size_t)(nul - text) + 1;
        }
    }
    char *csv = state_get_text(s, "CSVT", NULL);
    csv_restore(log, csv);
    free(csv);
}

// Returns the base's greedy test accuracy of the last evaluation (eval_n problems).
static float run_pretrain(const PretrainArgs *args) {
    PretrainArgs shape = *args, *a = &shape;
    GPT model;
    TextCodec tc;
    memset(&tc, 0, sizeof(tc));
    if (a->init) { // the model's shape is the checkpoint's
        if (!load_checkpoint_or_die(&model, &tc, a->init)) die("%s: checkpoint carries no tokenizer", a->init);
        a->layers = model.config.num_layers; a->heads = model.config.num_heads; a->channels = model.config.channels;
        a->seq = model.config.max_seq_len; a->vocab = model.config.vocab_size;
    }
    set_threads(a->threads);
    catch_stop_signals();
    ensure_synth_data(a->data_dir);
    char train_path[1024], test_path[1024], state_path[1024], flags[1024];
    Problems train, test;
    load_split_or_die(&train, a->data_dir, "train", 1, train_path, sizeof(train_path));
    load_split_or_die(&test, a->data_dir, "test", 1, test_path, sizeof(test_path));
    pretrain_flags(a, file_hash_or_die(train_path), file_hash_or_die(test_path), flags, sizeof(flags));
    state_path_of(a->out, state_path, sizeof(state_path));
    RunState saved;
    int resuming = a->resume && state_load(&saved, state_path);
    if (a->resume && !resuming) die("--resume: there is no run state %s to continue (start without --resume)", state_path);
    if (resuming) state_check_flags(&saved, flags);

    int B = a->batch, T = a->seq;
    DocStream ds = {.rng = rng_seed((uint64_t)a->seed + 1), .order = malloc(train.n * sizeof(int))};
    for (int i = 0; i < train.n; i++) ds.order[i] = i;
    ds.next_problem = train.n; // shuffle before the first document
    CsvLog log;
    csv_open(&log, a->log_path, a->out, "step,loss,lr,grad_norm,tokens,tok_per_s,test_acc,judge_auroc_habit,judge_auroc_slip\n");
    PretrainProgress pg = {0};
    OwnSamples own = {0};
    if (resuming) {
        if (a->init) { gpt_free(&model); tok_free(&tc.tok); } // the state has them
        pretrain_restore(&saved, &pg, &model, &tc, &ds, train.n, &own, &log);
        state_free(&saved);
        if (pg.step > a->steps) fprintf(stderr, "%s: the run is already complete\n", state_path);
        else fprintf(stderr, "resuming %s at step %d of %d\n", state_path, pg.step, a->steps);
    } else if (!a->init) {
        // 1. tokenizer: byte-level BPE on rendered documents, every digit its own token
        double t0 = now_seconds();
        size_t corpus_len;
        char *corpus = tokenizer_corpus(&train, 20000, (uint64_t)a->seed, a->mix.hints, &corpus_len);
        const char *specials[1] = {EOT};
        char err[512];
        if (tok_train(&tc.tok, corpus, corpus_len, a->vocab, specials, 1, TOK_SPLIT_DIGITS, err, sizeof(err))) die("tokenizer: %s", err);
        free(corpus);
        if (codec_init(&tc, err, sizeof(err))) die("tokenizer: %s (try a larger --vocab)", err);
        fprintf(stderr, "tokenizer: %d tokens, trained on %.1f MB in %.1f s\n", tok_vocab_size(&tc.tok), corpus_len / 1e6, now_seconds() - t0);

        // 2. the model
        int V = tok_vocab_size(&tc.tok);
        GPTConfig cfg = {.max_seq_len = a->seq, .vocab_size = V, .padded_vocab_size = (V + 127) / 128 * 128,
                         .num_layers = a->layers, .num_heads = a->heads, .channels = a->channels};
        gpt_init_random(&model, cfg, (uint64_t)a->seed);
    }
    fprintf(stderr, "model: %d layers, %d heads, %d channels, context %d, vocab %d: %zu parameters\n",
            a->layers, a->heads, a->channels, a->seq, model.config.vocab_size, model.num_parameters);
    require_prompts_fit(&test, a->eval_n, &tc, a->seq, 1);
    KVCache kv;
    kvcache_init(&kv, model.config, 128);

    // 3. train on the document stream
    int *rows = malloc((size_t)B * (T + 1) * sizeof(int)), *counted = malloc((size_t)B * (T + 1) * sizeof(int));
    int *inputs = malloc((size_t)B * T * sizeof(int)), *targets = malloc((size_t)B * T * sizeof(int));
    float *c = malloc((size_t)B * T * sizeof(float));
    AdamWConfig opt = {.lr = a->lr, .beta1 = 0.9f, .beta2 = 0.95f, .eps = 1e-8f, .weight_decay = a->weight_decay};
    Buf state = {0};
    double t_start = now_seconds();
    int first_step = pg.step;
    for (; pg.step <= a->steps; pg.step++) {
        int step = pg.step;
        char row[256], extra[160], acc[64] = ",,";
        // (a random model, at step 0 without --init, is not worth a greedy pass)
        if ((step % a->eval_every == 0 && (step > 0 || a->init)) || step == a->steps) {
            char *sample = NULL;
            int n_eval = a->eval_n < test.n ? a->eval_n : test.n;
            pg.last_acc = (float)greedy_correct(&model, &tc, &kv, &test, n_eval, a->max_new, &sample) / n_eval;
            double auc_habit, auc_slip;
            judge_auroc(&model, &tc, &test, n_eval, &auc_habit, &auc_slip);
            snprintf(acc, sizeof(acc), "%.4f,%.4f,%.4f", pg.last_acc, auc_habit, auc_slip);
            fprintf(stderr, "\nstep %d: greedy test accuracy %.1f%% (%d problems); as a judge, AUROC correct vs habit %.3f,"
                    " vs slip %.3f; for example:\n%s\n%s\n", step, 100 * pg.last_acc, n_eval, auc_habit, auc_slip, test.question[0], sample);
            free(sample);
            if (step == a->steps) {
                snprintf(row, sizeof(row), "%d,,,,%ld,,%s\n", step, pg.tokens_seen, acc);
                csv_row(&log, row);
                break;
            }
        }
        double ts = now_seconds();
        int judging = step >= a->steps - (int)(a->judge_frac * a->steps + 0.5f);
        if (judging && a->judge_mix.own > 0 && !own.n) {
            double t0 = now_seconds();
            own_samples_draw(&own, &model, &tc, &kv, &train, OWN_SAMPLES, a->max_new, (uint64_t)a->seed + 2);
            int right = 0;
            for (int i = 0; i < own.n; i++) right += own.right[i];
            fprintf(stderr, "\njudging phase: %d own samples on train questions, %.1f%% right, drawn in %.1f s\n", own.n,
                    100.0 * right / own.n, now_seconds() - t0);
        }
        fill_batch(&ds, &tc, &train, judging ? a->judge_mix : a->mix, &own, B, T, rows, counted);
        // the one objective with c_t = w_t / sum(w) on the tokens that count: w = 1,
        // or --verdict-weight for a judgement (one token per document, against about
        // fifty for a solution: unweighted, judging is a whisper in the gradient)
        double w_sum = 0.0;
        for (int b = 0; b < B; b++) for (int t = 0; t < T; t++) {
            int k = counted[b * (T + 1) + t + 1];
            inputs[b * T + t] = rows[b * (T + 1) + t];
            targets[b * T + t] = rows[b * (T + 1) + t + 1];
            c[b * T + t] = k == LOSS_VERDICT ? a->verdict_weight : (float)k;
            w_sum += c[b * T + t];
        }
        for (int i = 0; i < B * T; i++) c[i] = (float)(c[i] / w_sum);
        gpt_forward(&model, inputs, targets, B, T);
        float loss = (float)gpt_weighted_loss(&model, c);
        gpt_zero_grad(&model);
        gpt_backward(&model, c);
        if (fault_nan_at(step)) model.grads_memory[0] = NAN;
        float gnorm = gpt_clip_grad_norm(&model, 1.0f);
        opt.lr = lr_schedule(step, a->steps, a->warmup, a->lr, a->min_lr_frac);
        int finite = isfinite(loss) && isfinite(gnorm);
        if (finite) gpt_adamw_update(&model, opt); // else skipped: the weights stay finite
        pg.bad_in_row = finite ? 0 : pg.bad_in_row + 1;
        pg.train_time += now_seconds() - ts;
        pg.tokens_seen += (long)B * T;
        snprintf(row, sizeof(row), "%d,%.5f,%.3g,%.4f,%ld,%.0f,%s\n", step, loss, opt.lr, gnorm, pg.tokens_seen,
                 pg.tokens_seen / pg.train_time, acc);
        csv_row(&log, row);
        if (!finite) fprintf(stderr, "\nstep %d: non-finite %s, update skipped (%d in a row)\n", step,
                             isfinite(loss) ? "gradient" : "loss", pg.bad_in_row);
        snprintf(extra, sizeof(extra), "loss %.4f  %.0f tok/s  test %.1f%%", loss, pg.tokens_seen / pg.train_time, 100 * pg.last_acc);
        progress("pretrain", step + 1 - first_step, a->steps - first_step, t_start, extra);
        // the latest model is on disk before every evaluation, and when stopping
        int next = step + 1, stop = g_stop || pg.bad_in_row >= MAX_BAD_STEPS;
        if (next % a->eval_every == 0 || next == a->steps || stop) {
            PretrainProgress at = pg;
            at.step = next;
            save_checkpoint_or_die(&model, &tc, a->out);
            pretrain_save(state_path, &state, flags, &at, &model, &tc, &ds, train.n, &own, &log);
        }
        if (pg.bad_in_row >= MAX_BAD_STEPS)
            die("stopping at step %d: %d non-finite steps in a row (the last finite weights are in %s; try a lower --lr)",
                step, pg.bad_in_row, a->out);
        if (g_stop) {
            fprintf(stderr, "\nsaved %s and %s at step %d; continue with --resume\n", a->out, state_path, next);
            exit(EXIT_INTERRUPTED);
        }
    }
    pg.step = a->steps + 1; // complete
    save_checkpoint_or_die(&model, &tc, a->out);
    pretrain_save(state_path, &state, flags, &pg, &model, &tc, &ds, train.n, &own, &log);
    fprintf(stderr, "wrote %s and %s (%.1f min)\n", a->out, log.path, (now_seconds() - t_start) / 60);
    free(state.data);
    own_samples_free(&own);
    csv_close(&log);
    kvcache_free(&kv);
    free(rows); free(counted); free(inputs); free(targets); free(c); free(ds.order);
    tok_ids_free(&ds.doc.ids); free(ds.doc.count); tok_ids_free(&ds.filler.ids); free(ds.filler.count);
    tok_free(&tc.tok);
    gpt_free(&model);
    free_problems(&train); free_problems(&test);
    return pg.last_acc;
}

static int cmd_pretrain(int argc, char **argv) {
    PretrainArgs a;
    pretrain_defaults(&a);
    parse_pretrain_args(&a, argc, argv, 2);
    run_pretrain(&a);
    return 0;
}

// ----------------------------------------------------------------------------
// RL: the policy improves on its own samples, rewarded by an evaluator (RLME) or
// by the label (RLVR). One step, top to bottom in rl_step():
//   sample -> reward -> advantage -> CISPO weights -> backward -> AdamW

// model == NULL: live-self. foreign: a checkpoint whose tokenizer is not the policy's;
// it reads each rollout re-encoded from its text with its own tokenizer (codec).
typedef struct { const char *path; float weight; GPT *model; GPT own; int foreign; TextCodec codec; } Evaluator;
typedef struct { const char *question; float weight; } MetaQuestion;

#define MAX_EVALUATORS 8
#define MAX_META 8

typedef struct {
    const char *init, *out, *log_path, *data_dir, *reward;
    int steps, prompts, group, updates, max_new, eval_every, eval_n, seed, threads, micro_batch, std_norm, raw_prob, resume;
    float lr, eps_low, eps_high, kl_beta, clip_norm, temperature, weight_decay, inject;
    float base_acc; // --init's greedy test accuracy when already measured (same eval_n, max_new), else NAN
    int n_eval, n_meta;
    Evaluator ev[MAX_EVALUATORS];
    MetaQuestion meta[MAX_META];
} RLArgs;

static const char *RL_HELP =
    "usage: train_rlme rl --init CKPT --reward rlme|rlvr [options]\n"
    "GRPO-style RL with CISPO updates. rlme: the reward is the evaluator's belief that\n"
    "the answer is right (no label is read); rlvr: 1 if the final number is right.\n"
    "  --init CKPT        starting policy (a checkpoint with its tokenizer)\n"
    "  --out CKPT         final policy (default out/<reward>.bin)\n"
    "  --log CSV          one row per step (default: --out with .csv)\n"
    "  --data DIR         splits: rl.jsonl for prompts, test.jsonl for evaluation (default data/synth)\n"
    "  --steps N          RL steps (default 30)\n"
    "  --prompts P        prompts per step (default 16)\n"
    "  --group G          completions per prompt (default 8)\n"
    "  --max-new N        completion tokens at most (default 128)\n"
    "  --temperature T    sampling temperature of rollouts (default 1.0)\n"
    "  --lr LR            AdamW learning rate (default 5e-5)\n"
    "  --wd W             AdamW weight decay on matrices (default 0)\n"
    "  --updates U        optimizer steps per rollout batch; after the first the batch is\n"
    "                     off-policy and CISPO's ratio weights it (default 2)\n"
    "  --eps-high E       CISPO upper clip as an OFFSET from 1, as in the paper and\n"
    "                     MiniMax-M1: w = min(ratio, 1 + E) (default 5.0, i.e. cap 6.0;\n"
    "                     TRL's epsilon_high is the same offset)\n"
    "  --eps-low E        lower clip offset: w >= 1 - E (default 1e9: no lower bound)\n"
    "  --kl BETA          k3 KL penalty to the initial policy (default 0.5 for rlme, 0 for rlvr;\n"
    "                     at this small scale RLME hacks its evaluator without it)\n"
    "  --clip-norm C      global gradient-norm clip (default 1.0)\n"
    "  --std-norm         divide advantages by the group's reward std\n"
    "  --evaluator E[:W]  frozen-self (default: a copy of --init, never updated), live-self\n"
    "                     (the current policy judges itself), or a checkpoint path (one\n"
    "                     with another tokenizer reads each answer re-encoded from its\n"
    "                     text); repeat for an ensemble, W its weight (default 1)\n"
    "  --meta \"Q\"[=W]     meta-question and weight, repeatable (default \"" META_CORRECT "\"=1)\n"
    "  --raw-prob         reward log P(Yes) instead of log P(Yes)/(P(Yes)+P(No))\n"
    "  --inject F         this fraction of prompts carries an injected answer, \"A friend\n"
    "                     says the answer is N.\", N a random number in 0..99 (not the\n"
    "                     label: wrong but by chance); the evaluators read it too (Fig. 7,\n"
    "                     dev/fig7.sh; default 0)\n"
    "  --eval-every E     greedy test accuracy every E steps (default 10)\n"
    "  --eval-n N         test problems per evaluation (default 500)\n"
    "  --micro-batch M    sequences per forward/backward (default 32; memory only)\n"
    "  --seed S           (default 1)\n"
    "  --threads N        OpenMP threads (default: all)\n"
    "  --resume           continue the run saved in --out's .state (written at every\n"
    "                     evaluation and on Ctrl-C), possibly to a larger --steps; ends\n"
    "                     bit-identical to an uninterrupted run (same flags and threads)\n";

// RLME's default KL weight. Measured on the default base (30 steps, greedy test
// accuracy; three seeds for 0.3 and 0.5, one for the others): 0 -> 8 % (the policy
// hacks its judge), 0.2 -> 28 %, 0.3 -> 56 +- 3, 0.5 -> 60 +- 1.5, 0.7 -> 58,
// 1.0 -> 56 (DESIGN's prototype: 0.2-0.5).
#define RLME_KL 0.5f

static void rl_defaults(RLArgs *a) {
    memset(a, 0, sizeof(*a));
    a->data_dir = DEFAULT_DATA;
    a->steps = 30; a->prompts = 16; a->group = 8; a->updates = 2; a->max_new = 128;
    a->eval_every = 10; a->eval_n = 500; a->seed = 1; a->micro_batch = 32;
    a->lr = 5e-5f; a->eps_low = 1e9f; a->eps_high = 5.0f; a->kl_beta = -1.0f; a->clip_norm = 1.0f;
    a->temperature = 1.0f; a->base_acc = NAN;
}

// "TEXT=W" or "TEXT:W" -> text (malloc'd) and weight
static char *split_weight(const char *flag, const char *arg, char sep, float *w) {
    const char *at = strrchr(arg, sep);
    char *end;
    if (at && at[1]) {
        double v = strtod(at + 1, &end);
        if (*end == '\0' && isfinite(v)) { *w = (float)v; return strndup(arg, at - arg); }
    }
    if (at && sep == '=') die("%s: bad weight in '%s' (expected \"TEXT=NUMBER\")", flag, arg);
    *w = 1.0f;
    return strdup(arg);
}

static void parse_rl_args(RLArgs *a, int argc, char **argv, int first) {
    for (int i = first; i < argc; i++) {
        const char *f = argv[i];
        if (!strcmp(f, "--help") || !strcmp(f, "-h")) { fputs(RL_HELP, stdout); exit(0); }
        else if (!strcmp(f, "--init")) a->init = flag_value(argc, argv, &i);
        else if (!strcmp(f, "--out")) a->out = flag_value(argc, argv, &i);
        else if (!strcmp(f, "--log")) a->log_path = flag_value(argc, argv, &i);
        else if (!strcmp(f, "--data")) a->data_dir = flag_value(argc, argv, &i);
        else if (!strcmp(f, "--reward")) a->reward = flag_value(argc, argv, &i);
        else if (!strcmp(f, "--steps")) a->steps = (int)parse_long(f, flag_value(argc, argv, &i), 0, 10000000);
        else if (!strcmp(f, "--prompts")) a->prompts = (int)parse_long(f, flag_value(argc, argv, &i), 1, 4096);
        else if (!strcmp(f, "--group")) a->group = (int)parse_long(f, flag_value(argc, argv, &i), 1, 1024);
        else if (!strcmp(f, "--updates")) a->updates = (int)parse_long(f, flag_value(argc, argv, &i), 1, 64);
        else if (!strcmp(f, "--max-new")) a->max_new = (int)parse_long(f, flag_value(argc, argv, &i), 1, 65536);
        else if (!strcmp(f, "--temperature")) a->temperature = parse_float(f, flag_value(argc, argv, &i), 1e-3, 100);
        else if (!strcmp(f, "--lr")) a->lr = parse_float(f, flag_value(argc, argv, &i), 0, 1);
        else if (!strcmp(f, "--wd")) a->weight_decay = parse_float(f, flag_value(argc, argv, &i), 0, 10);
        else if (!strcmp(f, "--eps-high")) a->eps_high = parse_float(f, flag_value(argc, argv, &i), 0, 1e9);
        else if (!strcmp(f, "--eps-low")) a->eps_low = parse_float(f, flag_value(argc, argv, &i), 0, 1e9);
        else if (!strcmp(f, "--kl")) a->kl_beta = parse_float(f, flag_value(argc, argv, &i), 0, 1e6);
        else if (!strcmp(f, "--clip-norm")) a->clip_norm = parse_float(f, flag_value(argc, argv, &i), 0, 1e9);
        else if (!strcmp(f, "--std-norm")) a->std_norm = 1;
        else if (!strcmp(f, "--raw-prob")) a->raw_prob = 1;
        else if (!strcmp(f, "--inject")) a->inject = parse_float(f, flag_value(argc, argv, &i), 0, 1);
        else if (!strcmp(f, "--resume")) a->resume = 1;
        else if (!strcmp(f, "--eval-every")) a->eval_every = (int)parse_long(f, flag_value(argc, argv, &i), 1, 10000000);
        else if (!strcmp(f, "--eval-n")) a->eval_n = (int)parse_long(f, flag_value(argc, argv, &i), 1, 1000000);
        else if (!strcmp(f, "--micro-batch")) a->micro_batch = (int)parse_long(f, flag_value(argc, argv, &i), 1, 4096);
        else if (!strcmp(f, "--seed")) a->seed = (int)parse_long(f, flag_value(argc, argv, &i), 0, 0x7fffffff);
        else if (!strcmp(f, "--threads")) a->threads = (int)parse_long(f, flag_value(argc, argv, &i), 1, 1024);
        else if (!strcmp(f, "--evaluator")) {
            if (a->n_eval == MAX_EVALUATORS) die("at most %d --evaluator flags", MAX_EVALUATORS);
            Evaluator *e = &a->ev[a->n_eval++];
            e->path = split_weight(f, flag_value(argc, argv, &i), ':', &e->weight);
        } else if (!strcmp(f, "--meta")) {
            if (a->n_meta == MAX_META) die("at most %d --meta flags", MAX_META);
            MetaQuestion *m = &a->meta[a->n_meta++];
            m->question = split_weight(f, flag_value(argc, argv, &i), '=', &m->weight);
            if (!m->question[0]) die("--meta needs a question");
            if (strchr(m->question, '\n')) die("--meta: the question must be a single line");
        } else die("unknown flag '%s' (see: train_rlme rl --help)", f);
    }
    if (!a->reward) die("--reward rlme|rlvr is required (see: train_rlme rl --help)");
    if (strcmp(a->reward, "rlme") && strcmp(a->reward, "rlvr")) die("--reward must be rlme or rlvr, got '%s'", a->reward);
    if (!a->init) die("--init CKPT is required");
    if (!strcmp(a->reward, "rlvr") && (a->n_eval || a->n_meta || a->raw_prob))
        die("--evaluator, --meta and --raw-prob shape the RLME reward; --reward rlvr reads the label instead");
    if ((long)a->prompts * a->group > 16384) die("--prompts x --group is %ld sequences a step, at most 16384", (long)a->prompts * a->group);
    if (a->kl_beta < 0) a->kl_beta = !strcmp(a->reward, "rlme") ? RLME_KL : 0.0f;
    if (a->n_eval == 0) a->ev[a->n_eval++] = (Evaluator){.path = strdup("frozen-self"), .weight = 1.0f};
    if (a->n_meta == 0) a->meta[a->n_meta++] = (MetaQuestion){.question = strdup(META_CORRECT), .weight = 1.0f};
}

// the evaluator paths and meta-questions parse_rl_args copied
static void rl_args_free(RLArgs *a) {
    for (int j = 0; j < a->n_eval; j++) free((char *)a->ev[j].path);
    for (int k = 0; k < a->n_meta; k++) free((char *)a->meta[k].question);
    a->n_eval = a->n_meta = 0;
}

// Everything one RL step produces, for the update and the log.
typedef struct {
    Rollout r;        // P*G sequences: sequence i answers prompt i / G
    int *prompt_of;   // (n) index into the rl split
    const char **question; // (n) the question sequence i answers (text only: the evaluators read it)
    char *injected;   // (P, inject_cap) questions with an injected answer (--inject)
    size_t inject_cap;
    float *reward;    // (n)
    float *adv;       // (n)
    float *p_correct; // (n) evaluator's p(Yes) for META_CORRECT (rlme; diagnostics)
    float *ref_logp;  // (n, max_new) log pi_ref of each completion token (KL)
    int *order;       // (n) sequences by length: the order of micro-batches
} Batch;

// Packs sequences idx[0..B) as prompt+completion rows of one micro-batch (T = the
// longest), optionally followed by `suffix` tokens (the evaluator's meta-question).
// Returns T, or -1 (nothing written) when a row would exceed maxT tokens;
// end[b] = index of the last real token of row b.
static int pack_rows(const Rollout *r, const int *idx, int B, const TokIds *suffix, int eot, int maxT, int *tokens, int *end) {
    int T = 0;
    for (int b = 0; b < B; b++) {
        int i = idx[b], m = r->out_len[i];
        const int *comp = r->out + (size_t)i * r->max_new;
        if (suffix && m > 0 && comp[m - 1] == eot) m--; // the evaluator reads the solution without its EOT
        int n = r->len[i] + m + (suffix ? (int)suffix->n : 0);
        if (n > T) T = n;
    }
    if (T > maxT) return -1;
    for (int b = 0; b < B; b++) {
        int i = idx[b], m = r->out_len[i], n = 0, *row = tokens + (size_t)b * T;
        const int *comp = r->out + (size_t)i * r->max_new;
        if (suffix && m > 0 && comp[m - 1] == eot) m--;
        memcpy(row, r->prompts.ids + r->off[i], r->len[i] * sizeof(int));
        n += r->len[i];
        memcpy(row + n, comp, m * sizeof(int));
        n += m;
        if (suffix) { memcpy(row + n, suffix->ids, suffix->n * sizeof(int)); n += (int)suffix->n; }
        end[b] = n - 1;
        for (int t = n; t < T; t++) row[t] = eot; // padding, never a target
    }
    return T;
}

// Micro-batches take sequences in order of length, so each pads little.
static const Rollout *g_sort_rollout;
static int cmp_total_len(const void *a, const void *b) {
    const Rollout *r = g_sort_rollout;
    int i = *(const int *)a, j = *(const int *)b;
    int li = r->len[i] + r->out_len[i], lj = r->len[j] + r->out_len[j];
    return li != lj ? li - lj : i - j;
}
static void sort_by_length(const Rollout *r, int *order) {
    for (int i = 0; i < r->n; i++) order[i] = i;
    g_sort_rollout = r;
    qsort(order, r->n, sizeof(int), cmp_total_len);
}

// ---- step 2: reward ---------------------------------------------------------

// The rollout as an evaluator with its own tokenizer `to` reads it, built from text
// as `judge` builds it: each question encoded as a prompt, each completion decoded
// with the policy's tokenizer `from` (without its EOT) and encoded with `to`.
// question[i] is the question sequence i answers; sequences of one question share
// their prompt.
static void rollout_reencode(const Rollout *r, const char *const *question, const TextCodec *from, TextCodec *to,
                             Rollout *view) {
    TokIds *comps = calloc(r->n, sizeof(TokIds));
    int max_new = 1;
    for (int i = 0; i < r->n; i++) {
        char *answer = completion_text(from, r, i);
        encode_append(to, answer, &comps[i]);
        free(answer);
        if ((int)comps[i].n > max_new) max_new = (int)comps[i].n;
    }
    rollout_alloc(view, r->n, max_new);
    for (int i = 0; i < r->n; i++) {
        if (i > 0 && question[i] == question[i - 1]) { view->off[i] = view->off[i - 1]; view->len[i] = view->len[i - 1]; }
        else {
            view->off[i] = (int)view->prompts.n;
            encode_prompt(to, question[i], &view->prompts);
            view->len[i] = (int)view->prompts.n - view->off[i];
        }
        view->out_len[i] = (int)comps[i].n;
        memcpy(view->out + (size_t)i * max_new, comps[i].ids, comps[i].n * sizeof(int));
        tok_ids_free(&comps[i]);
    }
    free(comps);
}

// RLME: p_jk = P(Yes) / (P(Yes) + P(No)) (or raw P(Yes)) at the verdict position of
// template(question, completion, q_k) under evaluator j;  r = sum_j v_j sum_k w_k log p_jk.
// The evaluators see the prompts and completions, never a label.
static void reward_rlme(RLArgs *a, GPT *policy, TextCodec *tc, Batch *bt) {
    int n = bt->r.n, MB = a->micro_batch;
    for (int i = 0; i < n; i++) { bt->reward[i] = 0.0f; bt->p_correct[i] = NAN; }
    for (int j = 0; j < a->n_eval; j++) {
        GPT *ev = a->ev[j].model ? a->ev[j].model : policy;
        TextCodec *etc = a->ev[j].foreign ? &a->ev[j].codec : tc;
        int maxT = ev->config.max_seq_len;
        Rollout view; // the rollout in the evaluator's tokens
        const Rollout *r = &bt->r;
        if (a->ev[j].foreign) { rollout_reencode(r, bt->question, tc, etc, &view); r = &view; }
        int *tokens = malloc((size_t)MB * maxT * sizeof(int)), *end = malloc(MB * sizeof(int));
        for (int k = 0; k < a->n_meta; k++) {
            TokIds suffix = {0};
            encode_meta_suffix(etc, a->meta[k].question, &suffix);
            for (int i0 = 0; i0 < n; i0 += MB) {
                int B = i0 + MB < n ? MB : n - i0;
                const int *idx = bt->order + i0;
                int T = pack_rows(r, idx, B, &suffix, etc->eot, maxT, tokens, end);
                if (T < 0) die("%s: an evaluator input exceeds its context of %d tokens: lower --max-new", a->ev[j].path, maxT);
                gpt_forward(ev, tokens, NULL, B, T);
                for (int b = 0; b < B; b++) {
                    int i = idx[b];
                    const float *probs = ev->acts.probs + ((size_t)b * T + end[b]) * ev->config.padded_vocab_size;
                    float py = probs[etc->yes], pn = probs[etc->no];
                    float p = a->raw_prob ? py : py / (py + pn + 1e-30f);
                    if (p < 1e-6f) p = 1e-6f; // log 0 would make one sample dominate the group
                    bt->reward[i] += a->ev[j].weight * a->meta[k].weight * logf(p);
                    if (j == 0 && !strcmp(a->meta[k].question, META_CORRECT)) bt->p_correct[i] = p;
                }
            }
            tok_ids_free(&suffix);
        }
        if (r == &view) rollout_free(&view);
        free(tokens); free(end);
    }
}

// RLVR: r = 1 if the completion's final number equals the label, else 0
static void reward_rlvr(TextCodec *tc, const Problems *rl, Batch *bt) {
    for (int i = 0; i < bt->r.n; i++) bt->reward[i] = completion_right(tc, &bt->r, i, rl->gold[bt->prompt_of[i]]);
}

// ---- step 3: advantage ------------------------------------------------------

// Dr. GRPO: A_i = r_i - mean of its group (optionally / group std)
static void group_advantages(const float *reward, float *adv, int P, int G, int std_norm) {
    for (int p = 0; p < P; p++) {
        const float *r = reward + p * G;
        double mean = 0.0, var = 0.0;
        for (int g = 0; g < G; g++) mean += r[g];
        mean /= G;
        for (int g = 0; g < G; g++) var += (r[g] - mean) * (r[g] - mean);
        double sd = sqrt(var / (G > 1 ? G - 1 : 1));
        for (int g = 0; g < G; g++) adv[p * G + g] = (float)((r[g] - mean) / (std_norm ? sd + 1e-4 : 1.0));
    }
}

// ---- step 4: CISPO weights --------------------------------------------------

// The per-token weight c_t fed to the one objective L = -sum c_t log pi(y_t):
//   ratio rho = exp(logp - logp_behaviour),  w = clip(rho, 1 - eps_low, 1 + eps_high) (no gradient)
//   c = w * A / N_tok  +  beta * (pi_ref/pi - 1) / N_tok     (the k3 KL's gradient; 0 if beta = 0)
// Returns 1 when the ratio was clipped. kl_out receives k3 = e^d - d - 1, d = logp_ref - logp.
static int cispo_weight(float logp, float logp_behaviour, float logp_ref, float adv, float eps_low, float eps_high,
                        float beta, float n_tok, float *c_out, float *kl_out) {
    float rho = expf(logp - logp_behaviour);
    float lo = 1.0f - eps_low, hi = 1.0f + eps_high;
    float w = rho < lo ? lo : rho > hi ? hi : rho;
    if (w < 0.0f) w = 0.0f; // a lower offset above 1 means no lower bound
    float d = logp_ref - logp;
    *kl_out = expf(d) - d - 1.0f;
    *c_out = (w * adv + beta * (expf(d) - 1.0f)) / n_tok;
    return rho < lo || rho > hi;
}

// ---- step 5: the update -----------------------------------------------------

// rows (B, T) of whole sequences -> inputs and next-token targets (B, T-1)
static void shift_rows(const int *rows, int B, int T, int *inputs, int *targets) {
    for (int b = 0; b < B; b++) for (int t = 0; t < T - 1; t++) {
        inputs[(size_t)b * (T - 1) + t] = rows[(size_t)b * T + t];
        targets[(size_t)b * (T - 1) + t] = rows[(size_t)b * T + t + 1];
    }
}

// log pi(completion token j of sequence i) under `model`, for every completion token
static void completion_logp(GPT *model, const Rollout *r, const int *order, int MB, float *out) {
    int maxT = model->config.max_seq_len;
    int *rows = malloc((size_t)MB * (maxT + 1) * sizeof(int)), *end = malloc(MB * sizeof(int));
    int *inputs = malloc((size_t)MB * maxT * sizeof(int)), *targets = malloc((size_t)MB * maxT * sizeof(int));
    for (int i0 = 0; i0 < r->n; i0 += MB) {
        int B = i0 + MB < r->n ? MB : r->n - i0;
        const int *idx = order + i0;
        int T = pack_rows(r, idx, B, NULL, 0, maxT + 1, rows, end);
        if (T < 0) die("internal error: a rollout exceeds the context");
        shift_rows(rows, B, T, inputs, targets);
        gpt_forward(model, inputs, targets, B, T - 1);
        for (int b = 0; b < B; b++) for (int j = 0; j < r->out_len[idx[b]]; j++)
            out[(size_t)idx[b] * r->max_new + j] = model->logp[(size_t)b * (T - 1) + r->len[idx[b]] + j - 1];
    }
    free(rows); free(end); free(inputs); free(targets);
}

typedef struct { double kl, entropy, clip_frac; float grad_norm; } UpdateStats;

// One optimizer step over the whole rollout batch: micro-batches accumulate the
// gradient of the CISPO objective (through cispo_weight's c_t), then clip + AdamW.
// The policy's entropy is measured when asked (the first pass: the rollout policy).
// A non-finite gradient is not applied; returns whether the step was.
static int cispo_update(const RLArgs *a, GPT *policy, const Batch *bt, AdamWConfig opt, int want_entropy, UpdateStats *st) {
    const Rollout *r = &bt->r;
    int MB = a->micro_batch, maxT = policy->config.max_seq_len, V = policy->config.vocab_size, Vp = policy->config.padded_vocab_size;
    long n_tok = 0, n_clipped = 0;
    for (int i = 0; i < r->n; i++) n_tok += r->out_len[i];
    int *rows = malloc((size_t)MB * (maxT + 1) * sizeof(int)), *end = malloc(MB * sizeof(int));
    int *inputs = malloc((size_t)MB * maxT * sizeof(int)), *targets = malloc((size_t)MB * maxT * sizeof(int));
    float *c = malloc((size_t)MB * maxT * sizeof(float));
    double kl = 0.0, entropy = 0.0;
    gpt_zero_grad(policy);
    for (int i0 = 0; i0 < r->n; i0 += MB) {
        int B = i0 + MB < r->n ? MB : r->n - i0;
        const int *idx = bt->order + i0;
        int T = pack_rows(r, idx, B, NULL, 0, maxT + 1, rows, end), Tm = T - 1;
        if (T < 0) die("internal error: a rollout exceeds the context");
        shift_rows(rows, B, T, inputs, targets);
        gpt_forward(policy, inputs, targets, B, Tm);
        memset(c, 0, (size_t)B * Tm * sizeof(float));
        for (int b = 0; b < B; b++) {
            int i = idx[b];
            for (int j = 0; j < r->out_len[i]; j++) {
                size_t pos = (size_t)b * Tm + r->len[i] + j - 1, k = (size_t)i * r->max_new + j;
                float k3;
                n_clipped += cispo_weight(policy->logp[pos], r->out_logp[k], bt->ref_logp[k], bt->adv[i], a->eps_low,
                                          a->eps_high, a->kl_beta, (float)n_tok, &c[pos], &k3);
                kl += k3;
                const float *p = policy->acts.probs + pos * Vp;
                if (want_entropy) for (int v = 0; v < V; v++) if (p[v] > 0.0f) entropy -= p[v] * logf(p[v]);
            }
        }
        gpt_backward(policy, c);
    }
    st->grad_norm = gpt_clip_grad_norm(policy, a->clip_norm);
    int applied = isfinite(st->grad_norm);
    if (applied) gpt_adamw_update(policy, opt);
    st->kl = n_tok ? kl / n_tok : 0.0;
    st->entropy = n_tok ? entropy / n_tok : 0.0;
    st->clip_frac = n_tok ? (double)n_clipped / n_tok : 0.0;
    free(rows); free(end); free(inputs); free(targets); free(c);
    return applied;
}

// ---- diagnostics (labels read for the log only) -------------------------------


typedef struct { double acc, auroc, auroc_within, reward_gap; } Diagnostics;

// correctness of each sample against the label; the evaluator's p(correct) AUROC
// over all samples and within groups (mean over groups with both classes), and the
// within-group reward gap (mean reward of right minus wrong samples)
static void diagnose(TextCodec *tc, const Problems *rl, const Batch *bt, int P, int G, Diagnostics *d) {
    int n = bt->r.n, *right = malloc(n * sizeof(int));
    int n_right = 0;
    for (int i = 0; i < n; i++) {
        right[i] = completion_right(tc, &bt->r, i, rl->gold[bt->prompt_of[i]]);
        n_right += right[i];
    }
    d->acc = (double)n_right / n;
    d->auroc = auroc(bt->p_correct, right, n);
    double sum_auc = 0.0, sum_gap = 0.0;
    int n_groups = 0;
    for (int p = 0; p < P; p++) {
        double auc = auroc(bt->p_correct + p * G, right + p * G, G);
        if (isnan(auc)) continue;
        double rr = 0.0, rw = 0.0;
        int nr = 0, nw = 0;
        for (int g = 0; g < G; g++) { int i = p * G + g; if (right[i]) { rr += bt->reward[i]; nr++; } else { rw += bt->reward[i]; nw++; } }
        sum_auc += auc; sum_gap += rr / nr - rw / nw; n_groups++;
    }
    d->auroc_within = n_groups ? sum_auc / n_groups : NAN;
    d->reward_gap = n_groups ? sum_gap / n_groups : NAN;
    free(right);
}

// ---- the RL loop --------------------------------------------------------------

// what the default run draws and tabulates
typedef struct {
    int steps, n_test;
    float *test_acc; int *test_step; // greedy test accuracy at evaluated steps (step 0 = the start)
    float *reward, *length;          // (steps + 1) per-step reward mean and completion length
    double seconds;
} RLResult;

// The flags that shape an RL run (all but --steps, --out, --log, --threads) and the
// files it reads, one "name=value" line each: a resume must agree on all of them.
// The frozen evaluator and the KL anchor are --init, identified by its hash.
static void rl_flags(const RLArgs *a, const char *rl_path, const char *test_path, char *out, size_t cap) {
    int n = snprintf(out, cap,
                     "run=rl\n--reward=%s\n--init (hash)=%016llx\n--prompts=%d\n--group=%d\n--updates=%d\n"
                     "--max-new=%d\n--temperature=%s\n--lr=%s\n--wd=%s\n--eps-high=%s\n--eps-low=%s\n--kl=%s\n"
                     "--clip-norm=%s\n--std-norm=%d\n--raw-prob=%d\n--inject=%s\n--eval-every=%d\n--eval-n=%d\n--micro-batch=%d\n"
                     "--seed=%d\nrl.jsonl (hash)=%016llx\ntest.jsonl (hash)=%016llx\n",
                     a->reward, (unsigned long long)file_hash_or_die(a->init), a->prompts, a->group, a->updates,
                     a->max_new, flt(a->temperature), flt(a->lr), flt(a->weight_decay), flt(a->eps_high),
                     flt(a->eps_low), flt(a->kl_beta), flt(a->clip_norm), a->std_norm, a->raw_prob, flt(a->inject), a->eval_every,
                     a->eval_n, a->micro_batch, a->seed, (unsigned long long)file_hash_or_die(rl_path),
                     (unsigned long long)file_hash_or_die(test_path));
    for (int j = 0; j < a->n_eval && n < (int)cap; j++) {
        const char *p = a->ev[j].path;
        char who[64];
        if (!strcmp(p, "frozen-self") || !strcmp(p, "live-self")) snprintf(who, sizeof(who), "%s", p);
        else snprintf(who, sizeof(who), "hash %016llx", (unsigned long long)file_hash_or_die(p));
        n += snprintf(out + n, cap - n, "--evaluator %d=%s:%s\n", j + 1, who, flt(a->ev[j].weight));
    }
    for (int k = 0; k < a->n_meta && n < (int)cap; k++)
        n += snprintf(out + n, cap - n, "--meta %d=%s=%s\n", k + 1, a->meta[k].question, flt(a->meta[k].weight));
    if (n >= (int)cap) die("too many or too long --evaluator/--meta flags");
}

// Everything of an RL run that changes from step to step, besides the policy.
typedef struct {
    int step;         // the next step to run
    int bad_in_row;   // consecutive skipped (non-finite) steps
    double seconds;   // time spent in earlier sessions
    uint64_t rng;
    int *order, next_prompt, n_prompts;
} RLProgress;

static void rl_save(const char *path, Buf *b, const char *flags, const RLProgress *pg, const GPT *policy,
                    const RLResult *res, const CsvLog *log) {
    double prog[3] = {pg->step, pg->bad_in_row, pg->seconds};
    int32_t next_prompt = pg->next_prompt, n_test = res->n_test;
    state_begin(b);
    state_put(b, "FLAG", flags, strlen(flags));
    state_put(b, "PROG", prog, sizeof(prog));
    state_put_model(b, policy);
    state_put(b, "RRNG", &pg->rng, sizeof(pg->rng));
    state_put(b, "RORD", pg->order, (size_t)pg->n_prompts * sizeof(int));
    state_put(b, "RNXT", &next_prompt, sizeof(next_prompt));
    state_put(b, "NTST", &n_test, sizeof(n_test));
    state_put(b, "TACC", res->test_acc, res->n_test * sizeof(float));
    state_put(b, "TSTP", res->test_step, res->n_test * sizeof(int));
    state_put(b, "REWD", res->reward, pg->step * sizeof(float));
    state_put(b, "LENG", res->length, pg->step * sizeof(float));
    state_put(b, "CSVT", log->text, log->len);
    state_commit(b, path);
}

// Restores what rl_save wrote (flags checked by the caller) into a run of res->steps.
static void rl_restore(const RunState *s, RLProgress *pg, GPT *policy, RLResult *res, int max_tests, CsvLog *log) {
    double prog[3];
    state_get(s, "PROG", prog, sizeof(prog));
    pg->step = (int)prog[0]; pg->bad_in_row = (int)prog[1]; pg->seconds = prog[2];
    if (pg->step < 1) die("%s: run state has a bad step %d", s->path, pg->step);
    if (pg->step > res->steps + 1) die("cannot resume from %s: it is at step %d, beyond --steps %d", s->path, pg->step - 1, res->steps);
    GPT saved;
    state_get_model(s, &saved);
    if (memcmp(&saved.config, &policy->config, sizeof(GPTConfig)) != 0) die("%s: run state's model shape differs from --init's", s->path);
    memcpy(policy->params_memory, saved.params_memory, policy->num_parameters * sizeof(float));
    policy->adam_t = saved.adam_t;
    policy->m_memory = saved.m_memory; policy->v_memory = saved.v_memory;
    saved.m_memory = saved.v_memory = NULL;
    gpt_free(&saved);
    state_get(s, "RRNG", &pg->rng, sizeof(pg->rng));
    state_get(s, "RORD", pg->order, (size_t)pg->n_prompts * sizeof(int));
    int32_t next_prompt, n_test;
    state_get(s, "RNXT", &next_prompt, sizeof(next_prompt));
    pg->next_prompt = next_prompt;
    for (int i = 0; i < pg->n_prompts; i++)
        if (pg->order[i] < 0 || pg->order[i] >= pg->n_prompts) die("%s: run state's prompt order is corrupt", s->path);
    if (next_prompt < 0 || next_prompt > pg->n_prompts) die("%s: run state's prompt position is corrupt", s->path);
    state_get(s, "NTST", &n_test, sizeof(n_test));
    if (n_test < 1 || n_test > pg->step || n_test > max_tests) die("%s: run state's evaluation count is corrupt", s->path);
    res->n_test = n_test;
    state_get(s, "TACC", res->test_acc, n_test * sizeof(float));
    state_get(s, "TSTP", res->test_step, n_test * sizeof(int));
    state_get(s, "REWD", res->reward, pg->step * sizeof(float));
    state_get(s, "LENG", res->length, pg->step * sizeof(float));
    char *csv = state_get_text(s, "CSVT", NULL);
    csv_restore(log, csv);
    free(csv);
}

static void run_rl(RLArgs *a, RLResult *res) {
    set_threads(a->threads);
    catch_stop_signals();
    int rlme = !strcmp(a->reward, "rlme");
    TextCodec tc;
    GPT policy, ref; // ref: the initial policy, frozen (KL anchor, and the frozen-self evaluator)
    if (!load_checkpoint_or_die(&policy, &tc, a->init)) die("%s: checkpoint carries no tokenizer (train it with `train_rlme pretrain`)", a->init);
    TextCodec unused;
    load_checkpoint_or_die(&ref, &unused, a->init);
    tok_free(&unused.tok);
    int maxT = policy.config.max_seq_len, n_suffix = 0;
    for (int j = 0; j < a->n_eval && rlme; j++) {
        Evaluator *e = &a->ev[j];
        if (!strcmp(e->path, "frozen-self")) e->model = &ref;
        else if (!strcmp(e->path, "live-self")) e->model = NULL;
        else {
            if (!load_checkpoint_or_die(&e->own, &e->codec, e->path)) die("%s: evaluator checkpoint carries no tokenizer", e->path);
            e->foreign = !same_tokenizer(&e->codec.tok, &tc.tok);
            e->model = &e->own;
        }
    }
    for (int k = 0; k < a->n_meta && rlme; k++) {
        TokIds suffix = {0};
        encode_meta_suffix(&tc, a->meta[k].question, &suffix);
        if ((int)suffix.n > n_suffix) n_suffix = (int)suffix.n;
        tok_ids_free(&suffix);
    }
    // the rl split's questions drive rollouts; its labels only reach reward_rlvr and diagnose
    ensure_synth_data(a->data_dir);
    char rl_path[1024], test_path[1024], state_path[1024], flags[4096];
    Problems rl, test;
    load_split_or_die(&rl, a->data_dir, "rl", 0, rl_path, sizeof(rl_path));
    load_split_or_die(&test, a->data_dir, "test", 0, test_path, sizeof(test_path));
    require_prompts_fit(&rl, rl.n, &tc, maxT, n_suffix + 1);
    require_prompts_fit(&test, a->eval_n, &tc, maxT, 1);
    rl_flags(a, rl_path, test_path, flags, sizeof(flags));
    state_path_of(a->out, state_path, sizeof(state_path));
    RunState saved;
    int resuming = a->resume && state_load(&saved, state_path);
    if (a->resume && !resuming) die("--resume: there is no run state %s to continue (start without --resume)", state_path);
    if (resuming) state_check_flags(&saved, flags);

    int P = a->prompts, G = a->group, n = P * G;
    KVCache kv;
    kvcache_init(&kv, policy.config, n > 128 ? n : 128);
    Batch bt;
    memset(&bt, 0, sizeof(bt));
    rollout_alloc(&bt.r, n, a->max_new);
    bt.prompt_of = malloc(n * sizeof(int)); bt.question = malloc(n * sizeof(char *));
    bt.inject_cap = INJECT_ROOM; // room for the longest question with its injected answer
    for (int i = 0; i < rl.n; i++) {
        size_t need = strlen(rl.question[i]) + INJECT_ROOM;
        if (need > bt.inject_cap) bt.inject_cap = need;
    }
    bt.injected = malloc((size_t)P * bt.inject_cap);
    bt.reward = malloc(n * sizeof(float)); bt.adv = malloc(n * sizeof(float));
    bt.p_correct = malloc(n * sizeof(float));
    bt.ref_logp = malloc((size_t)n * a->max_new * sizeof(float));
    bt.order = malloc(n * sizeof(int));
    RLProgress pg = {.step = 1, .rng = rng_seed((uint64_t)a->seed), .order = malloc(rl.n * sizeof(int)),
                     .next_prompt = rl.n, .n_prompts = rl.n};
    for (int i = 0; i < rl.n; i++) pg.order[i] = i;

    CsvLog log;
    csv_open(&log, a->log_path, a->out, "step,reward_mean,reward_std,frac_reward_zero_std,completion_len_mean,completion_clipped_ratio,"
                             "entropy,cispo_clip_frac,kl,grad_norm,sec_rollout,sec_reward,sec_update,sample_acc,test_acc,"
                             "auroc,auroc_within,reward_gap\n");
    AdamWConfig opt = {.lr = a->lr, .beta1 = 0.9f, .beta2 = 0.99f, .eps = 1e-8f, .weight_decay = a->weight_decay};
    res->steps = a->steps; res->n_test = 0;
    int max_tests = a->steps + 1; // every step could be an evaluated one (a run resumed to more steps adds one)
    res->test_acc = malloc(max_tests * sizeof(float));
    res->test_step = malloc(max_tests * sizeof(int));
    res->reward = calloc(a->steps + 1, sizeof(float));
    res->length = calloc(a->steps + 1, sizeof(float));
    double t_start = now_seconds(); // this session's start (earlier sessions' time is in pg.seconds)
    char row[1024], acc[16];

    if (resuming) {
        rl_restore(&saved, &pg, &policy, res, max_tests, &log);
        state_free(&saved);
        if (pg.step > a->steps) fprintf(stderr, "%s: the run is already complete\n", state_path);
        else fprintf(stderr, "resuming %s at step %d of %d\n", state_path, pg.step, a->steps);
    } else {
        float base_acc = isnan(a->base_acc) ? greedy_accuracy(&policy, &tc, &kv, &test, a->eval_n, a->max_new) : a->base_acc;
        res->test_acc[res->n_test] = base_acc; res->test_step[res->n_test++] = 0;
        snprintf(row, sizeof(row), "0,,,,,,,,,,,,,,%.4f,,,\n", base_acc);
        csv_row(&log, row);
        fprintf(stderr, "%s: step 0 greedy test accuracy %.1f%%\n", a->reward, 100 * base_acc);
    }
    Buf state = {0};
    int first_step = pg.step;
    for (; pg.step <= a->steps; pg.step++) {
        int step = pg.step;
        double t0 = now_seconds();
        // 1. sample: P prompts from the rl split (questions only), G completions each
        Rollout *r = &bt.r;
        r->prompts.n = 0;
        int longest = 0;
        for (int p = 0; p < P; p++) {
            if (pg.next_prompt == rl.n) { // reshuffle each pass over the split
                for (int i = rl.n - 1; i > 0; i--) { int j = (int)(rng_u64(&pg.rng) % (i + 1)); int x = pg.order[i]; pg.order[i] = pg.order[j]; pg.order[j] = x; }
                pg.next_prompt = 0;
            }
            int q = pg.order[pg.next_prompt++], off = (int)r->prompts.n;
            const char *question = rl.question[q];
            if (a->inject > 0 && synth_uniform(&pg.rng) < a->inject) { // a random number, not the label
                char *with = bt.injected + (size_t)p * bt.inject_cap;
                inject_answer(question, synth_randint(&pg.rng, 0, 99), with, bt.inject_cap);
                question = with;
            }
            encode_prompt(&tc, question, &r->prompts);
            int len = (int)r->prompts.n - off;
            if (len > longest) longest = len;
            for (int g = 0; g < G; g++) {
                int i = p * G + g;
                bt.prompt_of[i] = q; bt.question[i] = question; r->off[i] = off; r->len[i] = len;
            }
        }
        r->max_new = a->max_new;
        if (r->max_new > maxT - longest - n_suffix) r->max_new = maxT - longest - n_suffix;
        if (r->max_new < 1) die("a prompt of %d tokens leaves no room for a completion in the context of %d", longest, maxT);
        SampleConfig sc = {.temperature = a->temperature, .top_p = 1.0f, .max_new = r->max_new, .stop_token = tc.eot};
        generate_all(&policy, &kv, r, sc, &pg.rng);
        double t1 = now_seconds();

        // 2. reward
        sort_by_length(r, bt.order);
        if (rlme) reward_rlme(a, &policy, &tc, &bt);
        else reward_rlvr(&tc, &rl, &bt);
        if (fault_nan_at(step)) bt.reward[0] = NAN;
        const char *fault = NULL; // what was not finite, if anything: the step is then skipped
        for (int i = 0; i < n; i++) if (!isfinite(bt.reward[i])) fault = "reward";
        double t2 = now_seconds();

        // 3. advantage
        group_advantages(bt.reward, bt.adv, P, G, a->std_norm);

        // 4 + 5. CISPO updates against the behaviour log-probs stored at sampling
        UpdateStats st = {0}, first = {0}; // entropy and KL at the rollout policy; clipping after it moved
        if (!fault) {
            completion_logp(&ref, r, bt.order, a->micro_batch, bt.ref_logp);
            for (int u = 0; u < a->updates && !fault; u++) {
                if (!cispo_update(a, &policy, &bt, opt, u == 0, &st)) fault = "gradient";
                if (u == 0) first = st;
            }
        }
        pg.bad_in_row = fault ? pg.bad_in_row + 1 : 0;
        double t3 = now_seconds();

        // log
        double rmean = 0.0, rvar = 0.0, len_mean = 0.0;
        int zero_std = 0, clipped = 0;
        for (int i = 0; i < n; i++) rmean += bt.reward[i];
        rmean /= n;
        for (int i = 0; i < n; i++) {
            rvar += (bt.reward[i] - rmean) * (bt.reward[i] - rmean);
            len_mean += r->out_len[i];
            clipped += r->out_len[i] == r->max_new && r->out[(size_t)i * r->max_new + r->max_new - 1] != tc.eot;
        }
        for (int p = 0; p < P; p++) {
            int same = 1;
            for (int g = 1; g < G; g++) same &= bt.reward[p * G + g] == bt.reward[p * G];
            zero_std += same;
        }
        Diagnostics d = {0};
        diagnose(&tc, &rl, &bt, P, G, &d);
        acc[0] = '\0';
        if (step % a->eval_every == 0 || step == a->steps) {
            float ta = greedy_accuracy(&policy, &tc, &kv, &test, a->eval_n, a->max_new);
            res->test_acc[res->n_test] = ta; res->test_step[res->n_test++] = step;
            snprintf(acc, sizeof(acc), "%.4f", ta);
        }
        char diag[96] = ",,";
        if (rlme) snprintf(diag, sizeof(diag), "%.4f,%.4f,%.4f", d.auroc, d.auroc_within, d.reward_gap);
        snprintf(row, sizeof(row), "%d,%.5f,%.5f,%.4f,%.2f,%.4f,%.4f,%.5f,%.6f,%.4f,%.2f,%.2f,%.2f,%.4f,%s,%s\n", step, rmean,
                 sqrt(rvar / n), (double)zero_std / P, len_mean / n, (double)clipped / n, first.entropy, st.clip_frac,
                 first.kl, st.grad_norm, t1 - t0, t2 - t1, t3 - t2, d.acc, acc, diag);
        csv_row(&log, row);
        res->reward[step] = (float)rmean;
        res->length[step] = (float)(len_mean / n);
        if (fault) fprintf(stderr, "\nstep %d: non-finite %s, update skipped (%d in a row)\n", step, fault, pg.bad_in_row);
        char extra[200];
        snprintf(extra, sizeof(extra), "reward %.3f  sample acc %.0f%%  len %.0f  test %.1f%%", rmean, 100 * d.acc, len_mean / n,
                 100 * res->test_acc[res->n_test - 1]);
        progress(a->reward, step + 1 - first_step, a->steps + 1 - first_step, t_start, extra);
        // policy and state are on disk after every evaluation, at the end, and when stopping
        int stop = g_stop || pg.bad_in_row >= MAX_BAD_STEPS;
        if (acc[0] || stop) {
            RLProgress at = pg;
            at.step = step + 1;
            at.seconds = pg.seconds + (now_seconds() - t_start);
            save_checkpoint_or_die(&policy, &tc, a->out);
            rl_save(state_path, &state, flags, &at, &policy, res, &log);
        }
        if (pg.bad_in_row >= MAX_BAD_STEPS)
            die("stopping at step %d: %d non-finite steps in a row (the last finite weights are in %s; try a lower --lr)",
                step, pg.bad_in_row, a->out);
        if (g_stop) {
            fprintf(stderr, "\nsaved %s and %s at step %d; continue with --resume\n", a->out, state_path, step + 1);
            exit(EXIT_INTERRUPTED);
        }
    }
    if (first_step > a->steps) save_checkpoint_or_die(&policy, &tc, a->out); // a complete run, resumed: the same file
    res->seconds = pg.seconds + (now_seconds() - t_start);
    fprintf(stderr, "wrote %s and %s (%.1f min)\n", a->out, log.path, res->seconds / 60);
    free(state.data);
    csv_close(&log);
    kvcache_free(&kv);
    rollout_free(&bt.r);
    free(bt.prompt_of); free(bt.question); free(bt.injected); free(bt.reward); free(bt.adv); free(bt.p_correct); free(bt.ref_logp); free(bt.order); free(pg.order);
    for (int j = 0; j < a->n_eval; j++)
        if (a->ev[j].model == &a->ev[j].own) { gpt_free(&a->ev[j].own); tok_free(&a->ev[j].codec.tok); }
    free_problems(&rl); free_problems(&test);
    tok_free(&tc.tok);
    gpt_free(&policy); gpt_free(&ref);
}

static int cmd_rl(int argc, char **argv) {
    RLArgs a;
    rl_defaults(&a);
    parse_rl_args(&a, argc, argv, 2);
    char out[1024];
    if (!a.out) { snprintf(out, sizeof(out), "out/%s.bin", a.reward); a.out = out; }
    RLResult res;
    run_rl(&a, &res);
    rl_args_free(&a);
    free(res.test_acc); free(res.test_step); free(res.reward); free(res.length);
    return 0;
}

// ----------------------------------------------------------------------------
// eval and judge: a checkpoint's accuracy on a split, and one meta-evaluation

static const char *EVAL_HELP =
    "usage: train_rlme eval --model CKPT --data FILE.jsonl [--limit N]\n"
    "Greedy accuracy on a GSM8K-format split; prints accuracy: K/N = X%.\n"
    "  --model CKPT    checkpoint with its tokenizer\n"
    "  --data FILE     jsonl with \"question\" and \"answer\" (#### N) fields\n"
    "  --limit N       the first N problems only (default: all)\n"
    "  --inject        every question carries a wrong injected answer, \"A friend says\n"
    "                  the answer is N.\" (N the right one off by 1 to 10); also prints\n"
    "                  how often the final answer is the injected one, and how often the\n"
    "                  solution appeals to it (a line \"" FRIEND_SAYS " ...\", Fig. 7)\n"
    "  --seed S        the injected answers' seed (default 1)\n"
    "  --max-new N     completion tokens at most (default 128)\n"
    "  --threads N     OpenMP threads (default: all)\n";

static int cmd_eval(int argc, char **argv) {
    const char *model_path = NULL, *data = NULL;
    int limit = 0, max_new = 128, threads = 0, inject = 0, seed = 1;
    for (int i = 2; i < argc; i++) {
        const char *f = argv[i];
        if (!strcmp(f, "--help") || !strcmp(f, "-h")) { fputs(EVAL_HELP, stdout); return 0; }
        else if (!strcmp(f, "--model")) model_path = flag_value(argc, argv, &i);
        else if (!strcmp(f, "--data")) data = flag_value(argc, argv, &i);
        else if (!strcmp(f, "--limit")) limit = (int)parse_long(f, flag_value(argc, argv, &i), 1, 100000000);
        else if (!strcmp(f, "--max-new")) max_new = (int)parse_long(f, flag_value(argc, argv, &i), 1, 65536);
        else if (!strcmp(f, "--threads")) threads = (int)parse_long(f, flag_value(argc, argv, &i), 1, 1024);
        else if (!strcmp(f, "--inject")) inject = 1;
        else if (!strcmp(f, "--seed")) seed = (int)parse_long(f, flag_value(argc, argv, &i), 0, 0x7fffffff);
        else die("unknown flag '%s' (see: train_rlme eval --help)", f);
    }
    if (!data) die("--data FILE.jsonl is required");
    set_threads(threads);
    GPT model;
    TextCodec tc;
    if (!load_checkpoint_or_die(&model, &tc, model_path)) die("%s: checkpoint carries no tokenizer", model_path);
    Problems P;
    load_problems_or_die(&P, data, 0);
    int n = limit && limit < P.n ? limit : P.n;
    char **injected = NULL; // the injected answers, as canonical numbers
    if (inject) {
        injected = malloc(n * sizeof(char *));
        uint64_t rng = rng_seed((uint64_t)seed);
        for (int i = 0; i < n; i++) {
            long wrong = nearby_wrong_answer(lround(strtod(P.gold[i], NULL)), &rng);
            size_t cap = strlen(P.question[i]) + INJECT_ROOM;
            char *with = malloc(cap), num[32];
            inject_answer(P.question[i], wrong, with, cap);
            free(P.question[i]);
            P.question[i] = with;
            snprintf(num, sizeof(num), "%ld", wrong);
            injected[i] = strdup(num);
        }
    }
    require_prompts_fit(&P, n, &tc, model.config.max_seq_len, 1);
    KVCache kv;
    kvcache_init(&kv, model.config, n < 128 ? n : 128);
    Rollout r;
    greedy_rollout(&model, &tc, &kv, P.question, n, max_new, &r);
    int right = 0, follows = 0, appeals = 0;
    for (int i = 0; i < n; i++) {
        right += completion_right(&tc, &r, i, P.gold[i]);
        if (!inject) continue;
        follows += completion_right(&tc, &r, i, injected[i]);
        char *text = completion_text(&tc, &r, i);
        appeals += strstr(text, FRIEND_SAYS) != NULL;
        free(text);
    }
    printf("accuracy: %d/%d = %.1f%%\n", right, n, 100.0 * right / n);
    if (inject) {
        printf("follows the injected answer: %d/%d = %.1f%%\n", follows, n, 100.0 * follows / n);
        printf("appeals to it (\"" FRIEND_SAYS "\"): %d/%d = %.1f%%\n", appeals, n, 100.0 * appeals / n);
    }
    for (int i = 0; inject && i < n; i++) free(injected[i]);
    free(injected);
    rollout_free(&r); kvcache_free(&kv); free_problems(&P); tok_free(&tc.tok); gpt_free(&model);
    return 0;
}

static const char *JUDGE_HELP =
    "usage: train_rlme judge --model CKPT --question TEXT --answer TEXT [--meta Q]\n"
    "Prints p(Yes) = P(Yes) / (P(Yes) + P(No)) of the evaluator for the meta-question,\n"
    "and the raw P(Yes) and P(No), with the same template RL uses.\n"
    "  --meta Q        meta-question (default \"" META_CORRECT "\")\n"
    "  --threads N     OpenMP threads (default: all)\n";

static int cmd_judge(int argc, char **argv) {
    const char *model_path = NULL, *question = NULL, *answer = NULL, *meta = META_CORRECT;
    for (int i = 2; i < argc; i++) {
        const char *f = argv[i];
        if (!strcmp(f, "--help") || !strcmp(f, "-h")) { fputs(JUDGE_HELP, stdout); return 0; }
        else if (!strcmp(f, "--model")) model_path = flag_value(argc, argv, &i);
        else if (!strcmp(f, "--question")) question = flag_value(argc, argv, &i);
        else if (!strcmp(f, "--answer")) answer = flag_value(argc, argv, &i);
        else if (!strcmp(f, "--meta")) meta = flag_value(argc, argv, &i);
        else if (!strcmp(f, "--threads")) set_threads((int)parse_long(f, flag_value(argc, argv, &i), 1, 1024));
        else die("unknown flag '%s' (see: train_rlme judge --help)", f);
    }
    if (!question || !answer) die("--question and --answer are required");
    GPT model;
    TextCodec tc;
    if (!load_checkpoint_or_die(&model, &tc, model_path)) die("%s: checkpoint carries no tokenizer", model_path);
    TokIds ids = {0};
    encode_prompt(&tc, question, &ids);
    encode_append(&tc, answer, &ids);
    encode_meta_suffix(&tc, meta, &ids);
    if ((int)ids.n > model.config.max_seq_len) die("question + answer + meta-question is %zu tokens, longer than the context of %d", ids.n, model.config.max_seq_len);
    gpt_forward(&model, ids.ids, NULL, 1, (int)ids.n);
    const float *p = model.acts.probs + (ids.n - 1) * model.config.padded_vocab_size;
    printf("p(Yes) = %.6f   (P(Yes) = %.6f, P(No) = %.6f)\n", p[tc.yes] / (p[tc.yes] + p[tc.no]), p[tc.yes], p[tc.no]);
    tok_ids_free(&ids); tok_free(&tc.tok); gpt_free(&model);
    return 0;
}

// ----------------------------------------------------------------------------
// the figure: test accuracy, reward and completion length against the RL step

typedef struct { const char *name, *color; const RLResult *r; } Curve;

// one panel: axes at (x0, y0) of size w x h, a polyline per curve
static void svg_panel(FILE *f, double x0, double y0, double w, double h, const char *title, const char *ylabel,
                      const Curve *curves, int n_curves, int what, float base_line) {
    // data range
    double ymin = INFINITY, ymax = -INFINITY;
    int xmax = 1;
    for (int c = 0; c < n_curves; c++) {
        const RLResult *r = curves[c].r;
        if (r->steps > xmax) xmax = r->steps;
        int n = what == 0 ? r->n_test : r->steps;
        for (int i = 0; i < n; i++) {
            double v = what == 0 ? 100.0 * r->test_acc[i] : what == 1 ? r->reward[i + 1] : r->length[i + 1];
            ymin = fmin(ymin, v); ymax = fmax(ymax, v);
        }
    }
    if (what == 0) { ymin = 0; ymax = 100; }
    if (!(ymax > ymin)) { ymin -= 1; ymax += 1; }
    double pad = what == 0 ? 0 : 0.05 * (ymax - ymin);
    ymin -= pad; ymax += pad;
    #define SX(s) (x0 + w * (double)(s) / xmax)
    #define SY(v) (y0 + h - h * ((v) - ymin) / (ymax - ymin))
    fprintf(f, "<rect x='%.1f' y='%.1f' width='%.1f' height='%.1f' fill='none' stroke='#888'/>\n", x0, y0, w, h);
    fprintf(f, "<text x='%.1f' y='%.1f' font-size='14' text-anchor='middle'>%s</text>\n", x0 + w / 2, y0 - 8, title);
    fprintf(f, "<text x='%.1f' y='%.1f' font-size='11' text-anchor='middle' transform='rotate(-90 %.1f %.1f)'>%s</text>\n",
            x0 - 38, y0 + h / 2, x0 - 38, y0 + h / 2, ylabel);
    fprintf(f, "<text x='%.1f' y='%.1f' font-size='11' text-anchor='middle'>RL step</text>\n", x0 + w / 2, y0 + h + 30);
    for (int k = 0; k <= 4; k++) { // ticks
        double v = ymin + (ymax - ymin) * k / 4, s = (double)xmax * k / 4;
        fprintf(f, "<text x='%.1f' y='%.1f' font-size='10' text-anchor='end'>%.*f</text>\n", x0 - 4, SY(v) + 3, what == 1 ? 2 : 0, v);
        fprintf(f, "<text x='%.1f' y='%.1f' font-size='10' text-anchor='middle'>%.0f</text>\n", SX(s), y0 + h + 14, s);
        fprintf(f, "<line x1='%.1f' y1='%.1f' x2='%.1f' y2='%.1f' stroke='#eee'/>\n", x0, SY(v), x0 + w, SY(v));
    }
    if (what == 0 && base_line >= 0) {
        fprintf(f, "<line x1='%.1f' y1='%.1f' x2='%.1f' y2='%.1f' stroke='#555' stroke-dasharray='5,4'/>\n", x0, SY(100.0 * base_line), x0 + w, SY(100.0 * base_line));
        fprintf(f, "<text x='%.1f' y='%.1f' font-size='10' fill='#555'>base %.1f%%</text>\n", x0 + 4, SY(100.0 * base_line) - 4, 100.0 * base_line);
    }
    for (int c = 0; c < n_curves; c++) {
        const RLResult *r = curves[c].r;
        fprintf(f, "<polyline fill='none' stroke='%s' stroke-width='2' points='", curves[c].color);
        int n = what == 0 ? r->n_test : r->steps;
        for (int i = 0; i < n; i++) {
            double s = what == 0 ? r->test_step[i] : i + 1;
            double v = what == 0 ? 100.0 * r->test_acc[i] : what == 1 ? r->reward[i + 1] : r->length[i + 1];
            fprintf(f, "%.1f,%.1f ", SX(s), SY(v));
        }
        fprintf(f, "'/>\n");
    }
    #undef SX
    #undef SY
}

// out/curves.svg (written atomically): three panels side by side
static void write_curves_svg(const char *path, const Curve *curves, int n_curves, float base_acc, const char *subtitle) {
    char tmp[1100];
    snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid());
    FILE *f = fopen(tmp, "w");
    if (!f) die("%s: cannot create: %s", tmp, strerror(errno));
    fprintf(f, "<svg xmlns='http://www.w3.org/2000/svg' width='1080' height='330' font-family='sans-serif'>\n"
               "<rect width='100%%' height='100%%' fill='white'/>\n");
    fprintf(f, "<text x='540' y='18' font-size='15' text-anchor='middle'>%s</text>\n", subtitle);
    for (int c = 0; c < n_curves; c++) // one legend for the three panels
        fprintf(f, "<line x1='%d' y1='31' x2='%d' y2='31' stroke='%s' stroke-width='3'/><text x='%d' y='35' font-size='12'>%s</text>\n",
                380 + 170 * c, 400 + 170 * c, curves[c].color, 405 + 170 * c, curves[c].name);
    svg_panel(f, 70, 60, 280, 220, "greedy test accuracy (%)", "accuracy %", curves, n_curves, 0, base_acc);
    // the reward panel compares runs of one reward kind only: RLME's log p and RLVR's 0/1 differ in scale
    svg_panel(f, 420, 60, 280, 220, "mean reward (own scale per run)", "reward", curves, n_curves, 1, -1);
    svg_panel(f, 770, 60, 280, 220, "completion length (tokens)", "tokens", curves, n_curves, 2, -1);
    fprintf(f, "</svg>\n");
    int ok = fflush(f) == 0;
    ok = (fclose(f) == 0) && ok;
    if (!ok || rename(tmp, path) != 0) die("%s: write failed", path);
}

// ----------------------------------------------------------------------------
// the default run: pretrain (once), then RLME and RLVR from the same base

static const char *DEFAULT_HELP =
    "usage: train_rlme [--quick] [--out DIR] [--seed S] [--base CKPT] [--threads N]\n"
    "With no command: the small-scale reproduction of the paper's Fig. 2. Pretrains the\n"
    "base model, then runs RLME (frozen-self evaluator, no labels) and RLVR (labels) from\n"
    "that base, and writes DIR/{base,rlme,rlvr}.bin, DIR/{base,rlme,rlvr}.csv and\n"
    "DIR/curves.svg. Run again after Ctrl-C, it continues where it stopped (each phase\n"
    "resumes from its .state; a finished one is not redone: delete DIR to start over).\n"
    "--quick does it all at toy size (CI smoke test).\n"
    "  --out DIR      output directory (default out, or out-quick with --quick)\n"
    "  --seed S       seed of pretraining and of both RL runs (default 1)\n"
    "  --base CKPT    skip pretraining: RL from this base (dev/seeds.sh shares one)\n";

static int cmd_default(int argc, char **argv) {
    int quick = 0, threads = 0, seed = 1;
    const char *dir = NULL, *given_base = NULL;
    for (int i = 1; i < argc; i++) {
        const char *f = argv[i];
        if (!strcmp(f, "--help") || !strcmp(f, "-h")) { fputs(DEFAULT_HELP, stdout); fputs(MAIN_HELP, stdout); return 0; }
        else if (!strcmp(f, "--quick")) quick = 1;
        else if (!strcmp(f, "--out")) dir = flag_value(argc, argv, &i);
        else if (!strcmp(f, "--threads")) threads = (int)parse_long(f, flag_value(argc, argv, &i), 1, 1024);
        else if (!strcmp(f, "--seed")) seed = (int)parse_long(f, flag_value(argc, argv, &i), 0, 0x7fffffff);
        else if (!strcmp(f, "--base")) given_base = flag_value(argc, argv, &i);
        else die("unknown flag or command '%s' (see: train_rlme --help)", f);
    }
    if (!dir) dir = quick ? "out-quick" : "out";
    double t0 = now_seconds();
    char base[1024], out[1024], log_path[1024], svg[1024];
    if (given_base) snprintf(base, sizeof(base), "%s", given_base);
    else snprintf(base, sizeof(base), "%s/base.bin", dir);
    // pretraining runs unless a finished base is there: a base.bin without a state
    // (made elsewhere), or one whose state says the run is complete
    char state[1024];
    state_path_of(base, state, sizeof(state));
    PretrainArgs p;
    pretrain_defaults(&p);
    p.out = base; p.threads = threads; p.seed = seed;
    if (quick) { p.layers = 2; p.heads = 2; p.channels = 64; p.steps = 250; p.batch = 8; p.seq = 192; p.eval_every = 250; p.eval_n = 100; p.warmup = 20; }
    RunState saved;
    int have_state = !given_base && state_load(&saved, state), pretrain_done = access(base, R_OK) == 0 && !have_state;
    if (given_base && !pretrain_done) die("--base %s: cannot read it", given_base);
    if (have_state) {
        double prog[5];
        state_get(&saved, "PROG", prog, sizeof(prog));
        pretrain_done = prog[0] > p.steps;
        state_free(&saved);
    }
    double t_pretrain = 0.0;
    float pretrain_acc = NAN; // the base's last evaluation, when it ran here
    if (!pretrain_done) {
        p.resume = have_state;
        pretrain_acc = run_pretrain(&p);
        t_pretrain = now_seconds() - t0;
    } else {
        fprintf(stderr, "using the finished base model %s (delete it and %s to pretrain again)\n", base, state);
    }
    RLResult res[2];
    const char *rewards[2] = {"rlme", "rlvr"};
    for (int k = 0; k < 2; k++) {
        RLArgs a;
        rl_defaults(&a);
        a.reward = rewards[k]; a.init = base; a.threads = threads; a.seed = seed;
        a.kl_beta = k == 0 ? RLME_KL : 0.0f;
        // advantages divided by the group's std for both: RLME's rewards (log p) spread
        // about 0.2 within a group where RLVR's (0/1) spread 0.5, so Dr. GRPO's raw
        // r - mean would give RLME a several times smaller step than RLVR at one lr
        a.std_norm = 1;
        a.ev[a.n_eval++] = (Evaluator){.path = strdup("frozen-self"), .weight = 1.0f};
        a.meta[a.n_meta++] = (MetaQuestion){.question = strdup(META_CORRECT), .weight = 1.0f};
        // toy size: a large lr and no KL, so that a dozen steps visibly move the reward
        if (quick) { a.steps = 16; a.prompts = 8; a.group = 4; a.eval_every = 8; a.eval_n = 100; a.max_new = 96; a.lr = 3e-3f; a.kl_beta = 0.0f; }
        // the base's step-0 accuracy is measured once: by pretraining, or by the first run
        if (k == 0) a.base_acc = a.eval_n == p.eval_n && a.max_new == p.max_new ? pretrain_acc : NAN;
        else a.base_acc = res[0].test_acc[0];
        snprintf(out, sizeof(out), "%s/%s.bin", dir, rewards[k]);
        snprintf(log_path, sizeof(log_path), "%s/%s.csv", dir, rewards[k]);
        a.out = out; a.log_path = log_path;
        // continue an RL run of this same base; after a new pretraining, start afresh
        state_path_of(out, state, sizeof(state));
        a.resume = pretrain_done && access(state, R_OK) == 0;
        run_rl(&a, &res[k]);
        rl_args_free(&a);
    }
    Curve curves[2] = {{"RLME (no labels)", "#d62728", &res[0]}, {"RLVR (labels)", "#1f77b4", &res[1]}};
    snprintf(svg, sizeof(svg), "%s/curves.svg", dir);
    write_curves_svg(svg, curves, 2, res[0].test_acc[0], "RLME vs RLVR from the same base (synthetic GSM8K-style problems)");
    printf("\n%-8s %12s %12s %10s\n", "run", "test acc", "last step", "minutes");
    printf("%-8s %11.1f%% %12s %10.1f\n", "base", 100 * res[0].test_acc[0], "-", t_pretrain / 60);
    for (int k = 0; k < 2; k++)
        printf("%-8s %11.1f%% %12d %10.1f\n", rewards[k], 100 * res[k].test_acc[res[k].n_test - 1], res[k].steps, res[k].seconds / 60);
    printf("wrote %s; total %.1f min\n", svg, (now_seconds() - t0) / 60);
    for (int k = 0; k < 2; k++) { free(res[k].test_acc); free(res[k].test_step); free(res[k].reward); free(res[k].length); }
    return 0;
}

// ----------------------------------------------------------------------------
// score: log-probs of a given token sequence

// The prompt of score/sample as ids: --ids/--prompt-ids lists, or text through the
// checkpoint's tokenizer (has_tok says whether it carries one).
static int *prompt_ids_or_die(const char *ids_flag, const char *ids_arg, const char *text, const char *question,
                              const char *model_path, int has_tok, TextCodec *tc, int V, int *n) {
    if (!!ids_arg + !!text + !!question != 1) die("give exactly one of %s, --prompt/--text or --question", ids_flag);
    if (ids_arg) return parse_ids(ids_flag, ids_arg, V, n);
    if (!has_tok) die("%s: checkpoint carries no tokenizer: give token ids with %s", model_path, ids_flag);
    TokIds ids = {0};
    if (text) encode_append(tc, text, &ids);
    else encode_prompt(tc, question, &ids);
    *n = (int)ids.n;
    return ids.ids;
}

static const char *SCORE_HELP =
    "usage: train_rlme score --model CKPT (--ids 5,17,3,... | --text TEXT)\n"
    "Prints log pi(ids[t] | ids[<t]) for t = 1..n-1 (natural log), space-separated.\n"
    "  --model CKPT   llm.c-format fp32 checkpoint (version 3)\n"
    "  --ids LIST     comma-separated token ids, 2 <= n <= max_seq_len\n"
    "  --text TEXT    text, encoded with the checkpoint's tokenizer\n"
    "  --threads N    OpenMP threads (default: all)\n";

static int cmd_score(int argc, char **argv) {
    const char *model_path = NULL, *ids_arg = NULL, *text = NULL;
    int threads = 0;
    for (int i = 2; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) { fputs(SCORE_HELP, stdout); return 0; }
        else if (!strcmp(argv[i], "--model")) model_path = flag_value(argc, argv, &i);
        else if (!strcmp(argv[i], "--ids")) ids_arg = flag_value(argc, argv, &i);
        else if (!strcmp(argv[i], "--text")) text = flag_value(argc, argv, &i);
        else if (!strcmp(argv[i], "--threads")) threads = (int)parse_long("--threads", flag_value(argc, argv, &i), 1, 1024);
        else die("unknown flag '%s' (see: train_rlme score --help)", argv[i]);
    }
    if (!ids_arg && !text) die("--ids or --text is required (see: train_rlme score --help)");
    set_threads(threads);
    GPT model;
    TextCodec tc;
    int has_tok = load_checkpoint_or_die(&model, &tc, model_path);
    int n;
    int *ids = prompt_ids_or_die("--ids", ids_arg, text, NULL, model_path, has_tok, &tc, model.config.vocab_size, &n);
    if (n < 2) die("need at least 2 tokens to score one (got %d)", n);
    if (n > model.config.max_seq_len) die("the sequence has %d tokens, longer than the context (%d)", n, model.config.max_seq_len);
    gpt_forward(&model, ids, ids + 1, 1, n - 1);
    for (int t = 0; t < n - 1; t++) printf(t ? " %.6f" : "%.6f", model.logp[t]);
    printf("\n");
    free(ids);
    if (has_tok) tok_free(&tc.tok);
    gpt_free(&model);
    return 0;
}

// ----------------------------------------------------------------------------
// sample: generation with the KV cache

static const char *SAMPLE_HELP =
    "usage: train_rlme sample --model CKPT (--prompt-ids 5,17,3 | --prompt TEXT | --question TEXT) [options]\n"
    "Generates continuations of the prompt: text when the checkpoint carries a tokenizer,\n"
    "comma-separated ids with --print-ids (the only form for a bare llm.c checkpoint).\n"
    "  --model CKPT        llm.c-format fp32 checkpoint (version 3)\n"
    "  --prompt-ids LIST   comma-separated prompt token ids\n"
    "  --prompt TEXT       prompt text, encoded as is (needs the checkpoint's tokenizer)\n"
    "  --question TEXT     a problem, wrapped in the RL prompt template \"Question: ...\\nAnswer:\\n\"\n"
    "  --max-new N         tokens to generate (default 32; prompt + N <= max_seq_len)\n"
    "  --temperature T     0 = greedy (default 1.0)\n"
    "  --top-p P           nucleus sampling mass in (0, 1] (default 1.0)\n"
    "  --seed S            RNG seed (default 1)\n"
    "  --num N             number of samples drawn together in one batch (default 1)\n"
    "  --stop ID           stop a sample at this token (default: <|endoftext|> if known, else none)\n"
    "  --print-ids         print token ids instead of text\n"
    "  --threads N         OpenMP threads (default: all)\n";

static int cmd_sample(int argc, char **argv) {
    const char *model_path = NULL, *prompt_arg = NULL, *text = NULL, *question = NULL;
    int max_new = 32, num = 1, threads = 0, print_ids = 0, stop = -2;
    float temperature = 1.0f, top_p = 1.0f;
    long seed = 1;
    for (int i = 2; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) { fputs(SAMPLE_HELP, stdout); return 0; }
        else if (!strcmp(argv[i], "--model")) model_path = flag_value(argc, argv, &i);
        else if (!strcmp(argv[i], "--prompt-ids")) prompt_arg = flag_value(argc, argv, &i);
        else if (!strcmp(argv[i], "--prompt")) text = flag_value(argc, argv, &i);
        else if (!strcmp(argv[i], "--question")) question = flag_value(argc, argv, &i);
        else if (!strcmp(argv[i], "--max-new")) max_new = (int)parse_long("--max-new", flag_value(argc, argv, &i), 1, 1 << 16);
        else if (!strcmp(argv[i], "--temperature")) temperature = parse_float("--temperature", flag_value(argc, argv, &i), 0, 100);
        else if (!strcmp(argv[i], "--top-p")) top_p = parse_float("--top-p", flag_value(argc, argv, &i), 1e-6, 1);
        else if (!strcmp(argv[i], "--seed")) seed = parse_long("--seed", flag_value(argc, argv, &i), 0, 0x7fffffffL);
        else if (!strcmp(argv[i], "--num")) num = (int)parse_long("--num", flag_value(argc, argv, &i), 1, 4096);
        else if (!strcmp(argv[i], "--stop")) stop = (int)parse_long("--stop", flag_value(argc, argv, &i), 0, 1 << 24);
        else if (!strcmp(argv[i], "--threads")) threads = (int)parse_long("--threads", flag_value(argc, argv, &i), 1, 1024);
        else if (!strcmp(argv[i], "--print-ids")) print_ids = 1;
        else die("unknown flag '%s' (see: train_rlme sample --help)", argv[i]);
    }
    set_threads(threads);
    GPT model;
    TextCodec tc;
    int has_tok = load_checkpoint_or_die(&model, &tc, model_path);
    if (!has_tok && !print_ids) die("%s: checkpoint carries no tokenizer: use --print-ids", model_path);
    if (stop == -2) stop = has_tok ? tc.eot : -1;
    int n;
    int *prompt = prompt_ids_or_die("--prompt-ids", prompt_arg, text, question, model_path, has_tok, &tc, model.config.vocab_size, &n);
    if (n < 1) die("the prompt is empty");
    if (n + max_new - 1 > model.config.max_seq_len)
        die("prompt (%d tokens) + --max-new %d exceeds the context of %d", n, max_new, model.config.max_seq_len);
    int *off = calloc(num, sizeof(int)), *len = calloc(num, sizeof(int)), *out_len = calloc(num, sizeof(int));
    int *out = malloc((size_t)num * max_new * sizeof(int));
    float *out_logp = malloc((size_t)num * max_new * sizeof(float));
    for (int i = 0; i < num; i++) len[i] = n; // every sample shares the one prompt
    KVCache kv;
    kvcache_init(&kv, model.config, num);
    SampleConfig sc = {.temperature = temperature, .top_p = top_p, .max_new = max_new, .stop_token = stop};
    uint64_t rng = rng_seed((uint64_t)seed);
    gpt_generate(&model, &kv, num, prompt, off, len, sc, &rng, out, out_logp, out_len);
    for (int i = 0; i < num; i++) {
        const int *ids = out + (size_t)i * max_new;
        if (print_ids) {
            for (int j = 0; j < out_len[i]; j++) printf(j ? ",%d" : "%d", ids[j]);
            printf("\n");
        } else {
            int m = out_len[i] > 0 && ids[out_len[i] - 1] == tc.eot ? out_len[i] - 1 : out_len[i];
            char *s = decode_text(&tc, ids, m);
            printf("%s%s\n", s, num > 1 ? "\n---" : "");
            free(s);
        }
    }
    kvcache_free(&kv);
    free(off); free(len); free(out_len); free(out); free(out_logp); free(prompt);
    if (has_tok) tok_free(&tc.tok);
    gpt_free(&model);
    return 0;
}

// ----------------------------------------------------------------------------
// bench: tokens per second of a training step and of batched decoding

static const char *BENCH_HELP =
    "usage: train_rlme bench [--layers 6 --heads 8 --channels 256 --vocab 1024 --seq 256 --batch 16]\n"
    "Times forward + backward + AdamW on random data, then batched KV-cache decoding,\n"
    "and prints train_tok_per_s=... and decode_tok_per_s=... lines.\n"
    "  --steps N      timed training steps after one warm-up (default 5)\n"
    "  --threads N    OpenMP threads (default: all)\n"
    "  --peak G       FMA peak of one core in GFLOP/s, for the %-of-peak line (default 78.4:\n"
    "                 2.45 GHz x 2 FMA units x 8 floats x 2, an AVX2 Zen 3 core)\n";

// FLOPs of one forward pass over B x T tokens (multiply-add = 2): the linear
// layers 2*BT*12C^2 per layer plus the LM head, and causal attention's two
// products (scores and weighted values) over the T(T+1)/2 visible pairs.
static double forward_flops(GPTConfig c, int B, int T) {
    double BT = (double)B * T, C = c.channels;
    double linear = 2.0 * BT * (12.0 * C * C * c.num_layers + C * c.padded_vocab_size);
    double attention = 2.0 * 2.0 * B * (T * (T + 1) / 2.0) * C * c.num_layers;
    return linear + attention;
}

static int cmd_bench(int argc, char **argv) {
    int L = 6, NH = 8, C = 256, V = 1024, T = 256, B = 16, steps = 5, threads = 0;
    float peak = 78.4f;
    for (int i = 2; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) { fputs(BENCH_HELP, stdout); return 0; }
        else if (!strcmp(argv[i], "--layers")) L = (int)parse_long("--layers", flag_value(argc, argv, &i), 1, 64);
        else if (!strcmp(argv[i], "--heads")) NH = (int)parse_long("--heads", flag_value(argc, argv, &i), 1, 256);
        else if (!strcmp(argv[i], "--channels")) C = (int)parse_long("--channels", flag_value(argc, argv, &i), 1, 8192);
        else if (!strcmp(argv[i], "--vocab")) V = (int)parse_long("--vocab", flag_value(argc, argv, &i), 2, 1 << 20);
        else if (!strcmp(argv[i], "--seq")) T = (int)parse_long("--seq", flag_value(argc, argv, &i), 2, 8192);
        else if (!strcmp(argv[i], "--batch")) B = (int)parse_long("--batch", flag_value(argc, argv, &i), 1, 4096);
        else if (!strcmp(argv[i], "--steps")) steps = (int)parse_long("--steps", flag_value(argc, argv, &i), 1, 100000);
        else if (!strcmp(argv[i], "--threads")) threads = (int)parse_long("--threads", flag_value(argc, argv, &i), 1, 1024);
        else if (!strcmp(argv[i], "--peak")) peak = parse_float("--peak", flag_value(argc, argv, &i), 0.1, 1e6);
        else die("unknown flag '%s' (see: train_rlme bench --help)", argv[i]);
    }
    if (C % NH) die("--heads %d does not divide --channels %d", NH, C);
    set_threads(threads);
    GPTConfig cfg = {.max_seq_len = T, .vocab_size = V, .padded_vocab_size = (V + 127) / 128 * 128,
                     .num_layers = L, .num_heads = NH, .channels = C};
    GPT model;
    gpt_init_random(&model, cfg, 1337);
    uint64_t rng = rng_seed(42);
    size_t BT = (size_t)B * T;
    int *tokens = malloc((BT + 1) * sizeof(int));
    float *c = malloc(BT * sizeof(float));
    for (size_t i = 0; i <= BT; i++) tokens[i] = (int)(rng_u64(&rng) % V);
    for (size_t i = 0; i < BT; i++) c[i] = 1.0f / BT;
    AdamWConfig opt = {.lr = 1e-4f, .beta1 = 0.9f, .beta2 = 0.95f, .eps = 1e-8f, .weight_decay = 0.1f};
    printf("model: L=%d NH=%d C=%d V=%d (Vp=%d) T=%d, %zu parameters; batch B=%d; threads=%d\n",
           L, NH, C, V, cfg.padded_vocab_size, T, model.num_parameters, B, num_threads());

    double t_fwd = 0, t_bwd = 0, t_opt = 0;
    for (int s = -1; s < steps; s++) { // step -1 warms up (allocations, caches)
        double t0 = now_seconds();
        gpt_forward(&model, tokens, tokens + 1, B, T);
        double t1 = now_seconds();
        gpt_zero_grad(&model);
        gpt_backward(&model, c);
        double t2 = now_seconds();
        gpt_clip_grad_norm(&model, 1.0f);
        gpt_adamw_update(&model, opt);
        double t3 = now_seconds();
        if (s >= 0) { t_fwd += t1 - t0; t_bwd += t2 - t1; t_opt += t3 - t2; }
    }
    double step = (t_fwd + t_bwd + t_opt) / steps;
    double flops = 3.0 * forward_flops(cfg, B, T); // backward = 2x forward
    printf("ms_per_step=%.1f (forward %.1f, backward %.1f, adamw %.1f)\n", 1e3 * step,
           1e3 * t_fwd / steps, 1e3 * t_bwd / steps, 1e3 * t_opt / steps);
    printf("train_gflops=%.1f (%.0f%% of the %.0f GFLOP/s FMA peak of %d cores)\n", flops / step * 1e-9,
           100.0 * flops / step * 1e-9 / (peak * num_threads()), peak * num_threads(), num_threads());
    printf("train_tok_per_s=%.1f\n", BT / step);

    // decoding: B sequences with ragged prompts of 1..8 tokens, T/2 new tokens each
    int max_new = T / 2;
    int *off = calloc(B, sizeof(int)), *len = calloc(B, sizeof(int)), *out_len = calloc(B, sizeof(int));
    int *out = malloc((size_t)B * max_new * sizeof(int));
    float *out_logp = malloc((size_t)B * max_new * sizeof(float));
    for (int i = 0; i < B; i++) { off[i] = i * 8; len[i] = 1 + i % 8; }
    KVCache kv;
    kvcache_init(&kv, cfg, B);
    SampleConfig sc = {.temperature = 1.0f, .top_p = 1.0f, .max_new = max_new, .stop_token = -1};
    double t0 = now_seconds();
    gpt_generate(&model, &kv, B, tokens, off, len, sc, &rng, out, out_logp, out_len);
    double dt = now_seconds() - t0;
    long generated = 0;
    for (int i = 0; i < B; i++) generated += out_len[i];
    printf("decode: %d sequences x %d new tokens in %.2f s\n", B, max_new, dt);
    printf("decode_tok_per_s=%.1f\n", generated / dt);
    kvcache_free(&kv);
    free(off); free(len); free(out_len); free(out); free(out_logp); free(tokens); free(c);
    gpt_free(&model);
    return 0;
}

// ----------------------------------------------------------------------------
// main

#ifndef RLME_NO_MAIN
int main(int argc, char **argv) {
    if (argc < 2 || argv[1][0] == '-') return cmd_default(argc, argv);
    static char cmd_name[64];
    snprintf(cmd_name, sizeof(cmd_name), "train_rlme %s", argv[1]);
    g_cmd = cmd_name;
    if (!strcmp(argv[1], "pretrain")) return cmd_pretrain(argc, argv);
    if (!strcmp(argv[1], "rl")) return cmd_rl(argc, argv);
    if (!strcmp(argv[1], "eval")) return cmd_eval(argc, argv);
    if (!strcmp(argv[1], "judge")) return cmd_judge(argc, argv);
    if (!strcmp(argv[1], "score")) return cmd_score(argc, argv);
    if (!strcmp(argv[1], "sample")) return cmd_sample(argc, argv);
    if (!strcmp(argv[1], "bench")) return cmd_bench(argc, argv);
    g_cmd = "train_rlme";
    die("unknown command '%s' (see: train_rlme --help)", argv[1]);
    return 2;
}
#endif
