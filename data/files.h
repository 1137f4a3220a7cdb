/*
data/files.h — what train_rlme.c writes and how: atomic files, directories, checkpoints
that carry their tokenizer, CSV logs, the progress line, Ctrl-C and numerical faults.
Included by train_rlme.c after its templates (it uses die and TextCodec).
*/
// ----------------------------------------------------------------------------
// files: atomic writes, directories, checkpoints that carry their tokenizer

// An atomic write: path's bytes go to a temporary file beside it (atomic_open), which is
// flushed (and with sync, also fsync'ed), closed and renamed over path (atomic_close;
// ok = 0 when a write failed). A kill at any instant leaves the old file or the new one,
// never a torn one.
static FILE *atomic_open(const char *path, char *tmp, size_t cap) {
    if (snprintf(tmp, cap, "%s.tmp.%d", path, (int)getpid()) >= (int)cap) die("%s: path too long", path);
    FILE *f = fopen(tmp, "wb");
    if (!f) die("%s: cannot create: %s", tmp, strerror(errno));
    return f;
}

static void atomic_close(FILE *f, int ok, int sync, const char *tmp, const char *path) {
    ok = ok && fflush(f) == 0;
    if (sync) ok = ok && fsync(fileno(f)) == 0;
    ok = (fclose(f) == 0) && ok;
    if (!ok || rename(tmp, path) != 0) {
        int e = errno;
        remove(tmp);
        die("%s: write failed: %s", path, strerror(e));
    }
}

// Writes path atomically. Under mpirun only rank 0 writes (data/dist.h).
static void write_file_atomic(const char *path, const void *data, size_t len, int sync) {
    if (!dist_writes()) return;
    char tmp[4200];
    FILE *f = atomic_open(path, tmp, sizeof(tmp));
    atomic_close(f, fwrite(data, 1, len, f) == len, sync, tmp, path);
}

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
        if (stat(buf, &st) != 0 || !S_ISDIR(st.st_mode))
            die("%s: cannot create the directory: a file is in the way", buf);
        *p = c;
        if (c == '\0') break;
    }
}

// mkdir -p of the directory part of path
static void dirname_mkdir(const char *path) {
    char dir[1024];
    snprintf(dir, sizeof(dir), "%s", path);
    char *slash = strrchr(dir, '/');
    if (!slash) return;
    *slash = '\0';
    mkdir_p(dir);
}

// X.bin -> X.ext (the extension replaced; appended when there is none)
static void path_with_ext(const char *path, const char *ext, char *out, size_t cap) {
    snprintf(out, cap, "%s", path);
    char *dot = strrchr(out, '.');
    if (dot && !strchr(dot, '/')) *dot = '\0';
    strncat(out, ext, cap - strlen(out) - 1);
}

// The default data dir is generated when absent (deterministic, as `make` does); any
// other dir must hold its splits.
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

// A checkpoint written here is an llm.c checkpoint followed by an extras block
// (model.h): the magic, then the tokenizer in tokenizer.c's own format. llm.c reads the
// parameters and ignores the rest; we never need two files that must match.
static int write_tokenizer_extra(FILE *f, void *ctx) { return tok_write(&((TextCodec *)ctx)->tok, f); }

static void save_checkpoint_or_die(const GPT *model, TextCodec *tc, const char *path) {
    char err[512];
    if (gpt_write_checkpoint(model, path, tc ? write_tokenizer_extra : NULL, tc, err, sizeof(err))) die("%s", err);
}

// Where a trained model goes (--out): an llm.c checkpoint FILE with its tokenizer, or a
// Hugging Face model directory when --out ends in '/' or is a directory, or when the
// model came from one (--init DIR). The directory holds config.json and
// model.safetensors (F32 or BF16: --out-dtype) and the tokenizer files of the
// directory the model came from, or else our tokenizer as tokenizer.json.
typedef struct { int hf; StDtype dtype; const char *src; } SaveAs;

// Resolves *out: a directory's trailing '/' is dropped (into buf), so that the run's
// OUT.state and OUT.csv sit beside it.
static SaveAs save_as_or_die(const char **out, char *buf, size_t cap, const char *init, const char *dtype) {
    if (strcmp(dtype, "f32") && strcmp(dtype, "bf16")) die("--out-dtype must be f32 or bf16, not '%s'", dtype);
    SaveAs as = {.dtype = strcmp(dtype, "bf16") ? ST_F32 : ST_BF16, .src = init && hf_is_dir(init) ? init : NULL};
    size_t n = strlen(*out);
    as.hf = as.src || (n && (*out)[n - 1] == '/') || hf_is_dir(*out);
    if (n >= cap) die("--out %s: path too long", *out);
    memmove(buf, *out, n + 1);
    while (n > 1 && buf[n - 1] == '/') buf[--n] = '\0';
    if (!as.hf && !strcmp(dtype, "bf16")) die("--out-dtype bf16 is for a model directory (end --out with '/')");
    *out = buf;
    return as;
}

static void save_model_or_die(const GPT *model, TextCodec *tc, const char *out, SaveAs as) {
    char err[512], path[4096];
    if (!dist_writes()) return; // (rank 0 writes)
    if (!as.hf) { save_checkpoint_or_die(model, tc, out); return; }
    if (hf_save(model, out, as.dtype, as.src, err, sizeof(err))) die("%s", err);
    if (as.src || !tc) return; // the tokenizer files were copied (or there is none)
    if (tok_export_hf(&tc->tok, hf_path(path, sizeof(path), out, "tokenizer.json"), err, sizeof(err))) die("%s", err);
    // a model trained in the chat template ends its text with <|im_end|> and says so
    char cfg[1024];
    snprintf(cfg, sizeof(cfg), "{\n  \"tokenizer_class\": \"PreTrainedTokenizerFast\",\n  \"eos_token\": \"%s\",\n"
             "%s  \"model_max_length\": %d\n}\n", tc->chat ? CHAT_END : EOT, tc->chat ? "  \"chat_template\": \"" CHATML_JINJA "\",\n" : "",
             model->config.max_seq_len);
    if (hf_write_atomic(hf_path(path, sizeof(path), out, "tokenizer_config.json"), cfg, strlen(cfg), err, sizeof(err)))
        die("%s", err);
}

// The tokenizer of a checkpoint or model directory, checked against the model: at
// most its vocabulary (a model's vocabulary may be padded beyond its tokenizer's, as
// Qwen's 151,936 rows are for 151,669 tokens), with the ids the templates need.
// cfg: the directory's tokenizer_config.json (NULL: none).
static void codec_check_or_die(TextCodec *tc, const TextConfig *cfg, const GPT *model, const char *path) {
    char err[512];
    if (tok_vocab_size(&tc->tok) > model->config.vocab_size)
        die("%s: tokenizer has %d tokens but the model's vocab_size is %d", path, tok_vocab_size(&tc->tok),
            model->config.vocab_size);
    if (codec_init(tc, cfg, err, sizeof(err))) die("%s: %s", path, err);
}

// A model directory's tokenizer_config.json into *cfg: 1, or 0 when it has none.
static int text_config_or_die(const char *dir, TextConfig *cfg) {
    char err[4200];
    int rc = hf_read_text_config(dir, cfg, err, sizeof(err));
    if (rc < 0) die("%s", err);
    return rc;
}

// Loads a checkpoint and, when it carries one, its tokenizer (returns 1), else 0. A
// directory is a Hugging Face model directory (data/hf.h), its tokenizer.json when it
// has one.
static int load_checkpoint_or_die(GPT *model, TextCodec *tc, const char *path) {
    char err[512], tpath[4096];
    long extras = -1;
    if (!path) die("a checkpoint path is required (--model / --init)");
    if (hf_is_dir(path)) {
        if (hf_load(model, path, err, sizeof(err))) die("%s", err);
        if (access(hf_path(tpath, sizeof(tpath), path, "tokenizer.json"), F_OK) != 0) return 0;
        if (tok_load_hf(&tc->tok, tpath, err, sizeof(err))) die("%s", err);
        TextConfig cfg;
        codec_check_or_die(tc, text_config_or_die(path, &cfg) ? &cfg : NULL, model, tpath);
        return 1;
    }
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
    codec_check_or_die(tc, NULL, model, path);
    return 1;
}

// a checkpoint that must carry its tokenizer (else: "PATH: why")
static void load_model_or_die(GPT *model, TextCodec *tc, const char *path, const char *why) {
    if (load_checkpoint_or_die(model, tc, path)) return;
    if (hf_is_dir(path)) die("%s: has no tokenizer.json, and this needs text (score and sample take token ids)", path);
    die("%s: %s", path, why);
}

// ----------------------------------------------------------------------------
// progress line with ETA, CSV logs

// "what step/last", overwritten in place; first is this session's first step, so that the
// ETA after a resume counts only the steps this process ran
static void progress(const char *what, int step, int last, int first, double t_start, const char *extra) {
    int done = step - first + 1, left = last - step; // steps since t_start, steps to go
    double el = now_seconds() - t_start, eta = done > 0 ? el / done * left : 0.0;
    fprintf(stderr, "\r%s %d/%d  %s  elapsed %dm%02ds  ETA %dm%02ds   ", what, step, last, extra ? extra : "",
            (int)el / 60, (int)el % 60, (int)eta / 60, (int)eta % 60);
    g_progress_open = step != last;
    if (!g_progress_open) fputc('\n', stderr);
}

// A CSV log, rewritten whole after each row (temporary file + rename), so an
// interrupted run leaves the last complete log rather than a torn one.
typedef struct { char *path; char *text; size_t len, cap; } CsvLog;

// Opens a log at `path`, or when that is NULL beside the checkpoint `out` (its
// extension replaced by .csv); creates the directories of both.
static CsvLog *csv_open(const char *path, const char *out, const char *header) {
    char buf[1024];
    if (path) snprintf(buf, sizeof(buf), "%s", path);
    else path_with_ext(out, ".csv", buf, sizeof(buf));
    dirname_mkdir(out);
    dirname_mkdir(buf);
    CsvLog *log = malloc(sizeof(*log));
    log->path = strdup(buf);
    log->len = strlen(header);
    log->cap = log->len + (1 << 16);
    log->text = malloc(log->cap);
    memcpy(log->text, header, log->len + 1);
    return log;
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

static const char *csv_text(const CsvLog *log, size_t *len) { *len = log->len; return log->text; }
static const char *csv_path(const CsvLog *log) { return log->path; }
static void csv_close(CsvLog *log) { free(log->path); free(log->text); free(log); }

// ----------------------------------------------------------------------------
// interruption and numerical faults

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

// 1 when x[0..n) are all finite. The tests' fault hook: RLME_FAULT_NAN_STEPS="5,6,7"
// makes the check fail at those steps, so the tests can drive the fault path end to end.
static int all_finite(const float *x, int n, int step) {
    for (const char *s = getenv("RLME_FAULT_NAN_STEPS"); s && *s;) {
        char *end;
        long v = strtol(s, &end, 10);
        if (end == s) break;
        if (v == step) return 0;
        s = *end == ',' ? end + 1 : end;
    }
    for (int i = 0; i < n; i++) if (!isfinite(x[i])) return 0;
    return 1;
}

// Once per step, before the loop asks stop_requested: a signal is read here only, so
// the step's save and the stop agree; under mpirun any rank's makes every rank stop
// after the same step.
static int g_stopping = 0;
static void stop_sync(void) { g_stopping = dist_any(g_stop != 0); }

static int stop_requested(int bad_in_row) { return g_stopping || bad_in_row >= MAX_BAD_STEPS; }

// After the step's files are saved: stop the run when asked to (Ctrl-C) or when the
// steps keep failing.
static void stop_if_asked(int bad_in_row, int step, int next, const char *out, const char *state_path) {
    if (bad_in_row >= MAX_BAD_STEPS)
        die("stopping at step %d: %d non-finite steps in a row (the last finite weights are in %s; try a lower --lr)",
            step, bad_in_row, out);
    if (g_stopping) {
        fprintf(stderr, "\nsaved %s and %s at step %d; continue with --resume\n", out, state_path, next);
        exit(EXIT_INTERRUPTED);
    }
}

