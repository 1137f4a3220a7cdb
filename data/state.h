/*
data/state.h — the run-state file of train_rlme.c, what --resume reads: its format, the
record of the flags that shape a run (from the commands' flag tables), and what each of
the two loops saves and restores. Included by train_rlme.c after its loops and command
line (it uses die, write_file_atomic, the CSV log, TextCodec, the flag tables and the
runs' structs).

Layout: "RLMESTAT", u32 version, then records [u32 tag][u64 length][bytes], then a u64
FNV-1a hash of all that precedes it: a torn or corrupt file is refused before any record
is read, and every record is read at exactly the size the reader expects.
*/

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

// 64-bit FNV-1a of n bytes, continuing from hash h (FNV1A_START for a fresh hash)
#define FNV1A_START 0xcbf29ce484222325ULL
static uint64_t fnv1a(uint64_t h, const unsigned char *p, size_t n) {
    for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 0x100000001b3ULL;
    return h;
}

static uint64_t file_hash_or_die(const char *path);

static int cmp_names(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

// the hash of a model directory: its files' names and bytes, in name order
static uint64_t dir_hash_or_die(const char *path) {
    DIR *d = opendir(path);
    if (!d) die("%s: cannot open: %s", path, strerror(errno));
    char **names = NULL, file[4096];
    size_t n = 0;
    for (struct dirent *e; (e = readdir(d));) {
        if (e->d_name[0] == '.') continue;
        names = realloc(names, (n + 1) * sizeof(*names));
        names[n++] = strdup(e->d_name);
    }
    closedir(d);
    qsort(names, n, sizeof(*names), cmp_names);
    uint64_t h = FNV1A_START;
    for (size_t i = 0; i < n; i++) {
        snprintf(file, sizeof(file), "%s/%s", path, names[i]);
        uint64_t fh = hf_is_dir(file) ? 0 : file_hash_or_die(file);
        h = fnv1a(fnv1a(h, (const unsigned char *)names[i], strlen(names[i]) + 1), (const unsigned char *)&fh, 8);
        free(names[i]);
    }
    free(names);
    return h;
}

// the hash of a file's bytes, or of a model directory's files (identifies --init,
// evaluators and data in a state)
static uint64_t file_hash_or_die(const char *path) {
    if (hf_is_dir(path)) return dir_hash_or_die(path);
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

// A state being written: its bytes go straight to a temporary file, hashed on the way
// (a real model's weights and AdamW moments are gigabytes, too many to hold a copy of),
// and state_commit renames the file over the old state. Under mpirun only rank 0 writes
// (f is NULL elsewhere).
typedef struct { FILE *f; uint64_t hash; int ok; char path[1024], tmp[1100]; } StateWriter;

static void state_write(StateWriter *w, const void *p, size_t n) {
    if (!w->f || !n) return;
    w->hash = fnv1a(w->hash, p, n);
    w->ok = w->ok && fwrite(p, 1, n, w->f) == n;
}

static void state_put(StateWriter *w, const char *tag, const void *p, size_t n) {
    uint32_t t = TAG(tag);
    uint64_t len = n;
    state_write(w, &t, 4);
    state_write(w, &len, 8);
    state_write(w, p, n);
}

// a new state at path: the magic, the version and the flags record
static void state_begin(StateWriter *w, const char *path, const char *flags) {
    uint32_t version = STATE_VERSION;
    *w = (StateWriter){.hash = FNV1A_START, .ok = 1};
    snprintf(w->path, sizeof(w->path), "%s", path);
    if (dist_writes()) w->f = atomic_open(path, w->tmp, sizeof(w->tmp));
    state_write(w, STATE_MAGIC, 8);
    state_write(w, &version, 4);
    state_put(w, "FLAG", flags, strlen(flags));
}

// the hash, then the file fsync'ed and renamed over the old state
static void state_commit(StateWriter *w) {
    if (!w->f) return;
    uint64_t h = w->hash;
    state_write(w, &h, 8);
    atomic_close(w->f, w->ok, 1, w->tmp, w->path);
}

struct RunState { unsigned char *data; size_t len; char path[1024]; };

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
    if (s->len < 20) { fclose(f); die("%s: not a run state file (bad magic)", path); }
    // mapped, not read: the kernel pages it in and may drop the pages again (a real
    // model's state is several GB beside the model being restored from it)
    s->data = mmap(NULL, s->len, PROT_READ, MAP_PRIVATE, fileno(f), 0);
    fclose(f);
    if (s->data == MAP_FAILED) { s->data = NULL; die("%s: cannot map %zu bytes: %s", path, s->len, strerror(errno)); }
    uint32_t version;
    uint64_t h;
    if (memcmp(s->data, STATE_MAGIC, 8) != 0) die("%s: not a run state file (bad magic)", path);
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

static void state_close(RunState *s) {
    if (s && s->data) munmap(s->data, s->len);
    free(s);
}

// The record `tag`: its bytes and length, or NULL when absent.
static const unsigned char *state_find(const RunState *s, const char *tag, size_t *len) {
    *len = 0;
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

// Refuses to resume when the saved run and this invocation disagree on any of the
// flags that shape the run, naming the first.
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

// With --resume: the verified state of the run at path, whose flags agree with
// `flags`; NULL without --resume.
static RunState *state_resume(const char *path, int resume, const char *flags) {
    if (!resume) return NULL;
    RunState *s = malloc(sizeof(*s));
    if (!state_load(s, path)) die("--resume: there is no run state %s to continue (start without --resume)", path);
    state_check_flags(s, flags);
    return s;
}

// weights, AdamW moments and step count of a model
static void state_put_model(StateWriter *b, const GPT *m) {
    int32_t cfg[6] = {m->config.max_seq_len, m->config.vocab_size, m->config.padded_vocab_size,
                      m->config.num_layers, m->config.num_heads, m->config.channels};
    int32_t t = m->adam_t;
    size_t bytes = m->num_parameters * sizeof(float);
    state_put(b, "CONF", cfg, sizeof(cfg));
    if (m->config.arch == ARCH_LLAMA) { // the Llama family's fields, floats by their bits
        const GPTConfig *c = &m->config;
        int32_t llama[9] = {c->arch, c->num_kv_heads, c->head_dim, c->ffn_dim, c->qkv_bias, c->qk_norm, c->untied};
        memcpy(&llama[7], &c->norm_eps, 4);
        memcpy(&llama[8], &c->rope_theta, 4);
        state_put(b, "LLAM", llama, sizeof(llama));
    }
    state_put(b, "PARM", m->params_memory, bytes);
    state_put(b, "ADMT", &t, sizeof(t));
    if (m->adam_t > 0) { state_put(b, "ADMM", m->m_memory, bytes); state_put(b, "ADMV", m->v_memory, bytes); }
}

static void state_get_model(const RunState *s, GPT *m) {
    int32_t cfg[6], t;
    state_get(s, "CONF", cfg, sizeof(cfg));
    GPTConfig c = {.max_seq_len = cfg[0], .vocab_size = cfg[1], .padded_vocab_size = cfg[2],
                   .num_layers = cfg[3], .num_heads = cfg[4], .channels = cfg[5]};
    size_t n_llama;
    if (state_find(s, "LLAM", &n_llama)) {
        int32_t llama[9];
        state_get(s, "LLAM", llama, sizeof(llama));
        c.arch = llama[0]; c.num_kv_heads = llama[1]; c.head_dim = llama[2]; c.ffn_dim = llama[3];
        c.qkv_bias = llama[4]; c.qk_norm = llama[5]; c.untied = llama[6];
        memcpy(&c.norm_eps, &llama[7], 4);
        memcpy(&c.rope_theta, &llama[8], 4);
    }
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

// a permutation of [0, n) (a data order), or die
static void state_get_order(const RunState *s, const char *tag, int *order, int n) {
    state_get(s, tag, order, (size_t)n * sizeof(int));
    for (int i = 0; i < n; i++)
        if (order[i] < 0 || order[i] >= n) die("%s: run state's data order is corrupt", s->path);
}


// ----------------------------------------------------------------------------
// what the runs save

// The run state's record of the flags that shape a run, one "name=value" line each: the
// table's flags marked for it, an RL run's evaluators and meta-questions, and the hashes
// of the splits it reads (DIR/SPLIT.jsonl and DIR/test.jsonl). A resume must agree on
// all of them. Returns a malloc'd string.
static char *run_flags(const char *run, const Flag *table, const void *args, const RLArgs *rl, const char *dir,
                       const char *split) {
    char *text = NULL, path[1100];
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (!f) die("out of memory");
    fprintf(f, "run=%s\n", run);
    for (const Flag *fl = table; fl->name; fl++) {
        if (fl->state == NOT_IN_STATE) continue;
        if (fl->kind == F_INT || fl->kind == F_SWITCH) fprintf(f, "%s=%d\n", fl->name, *FIELD(args, fl, const int));
        else if (fl->kind == F_FLOAT) fprintf(f, "%s=%s\n", fl->name, shortest_float(*FIELD(args, fl, const float)));
        else if (fl->state == IN_STATE) fprintf(f, "%s=%s\n", fl->name, *FIELD(args, fl, const char *const));
        else {
            const char *file = *FIELD(args, fl, const char *const);
            fprintf(f, "%s (hash)=%016llx\n", fl->name, file ? (unsigned long long)file_hash_or_die(file) : 0ULL);
        }
    }
    for (int j = 0; rl && j < rl->n_eval; j++) {
        const char *p = rl->ev[j].path;
        if (!strcmp(p, "frozen-self") || !strcmp(p, "live-self")) fprintf(f, "--evaluator %d=%s", j + 1, p);
        else fprintf(f, "--evaluator %d=hash %016llx", j + 1, (unsigned long long)file_hash_or_die(p));
        fprintf(f, ":%s\n", shortest_float(rl->ev[j].weight));
    }
    for (int k = 0; rl && k < rl->n_meta; k++)
        fprintf(f, "--meta %d=%s=%s\n", k + 1, rl->meta[k].question, shortest_float(rl->meta[k].weight));
    for (const char *s = split; s; s = strcmp(s, "test") ? "test" : NULL) {
        snprintf(path, sizeof(path), "%s/%s.jsonl", dir, s);
        fprintf(f, "%s.jsonl (hash)=%016llx\n", s, (unsigned long long)file_hash_or_die(path));
    }
    fclose(f);
    return text;
}

// the flags that shape a pretraining run (a resume must agree on them)
static char *pretrain_flags(const PretrainArgs *a) {
    return run_flags("pretrain", PRETRAIN_FLAGS, a, NULL, a->data_dir, "train");
}

// the flags that shape an RL run; a resume must agree on them (it may run to more --steps)
static char *rl_flags(const RLArgs *a) { return run_flags("rl", RL_FLAGS, a, a, a->data_dir, rl_split(a->data_dir)); }


// the tokenizer, in tokenizer.c's own format
static void state_put_tokenizer(StateWriter *b, const TextCodec *tc) {
    char *mem = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&mem, &len);
    if (!f || tok_write(&tc->tok, f) != 0 || fclose(f) != 0) die("out of memory while saving the tokenizer state");
    state_put(b, "TOKN", mem, len);
    free(mem);
}

// the run's tokenizer; cfg (NULL: none) is its model directory's tokenizer_config.json
static void state_get_tokenizer(const RunState *s, const TextConfig *cfg, TextCodec *tc) {
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
    if (codec_init(tc, cfg, err, sizeof(err))) die("%s: %s", s->path, err);
}

// ---- pretraining's state ----

static void pretrain_save(const PretrainRun *run, PretrainProgress at) {
    const DocStream *ds = &run->ds;
    const OwnSamples *own = &run->own;
    save_model_or_die(&run->model, (TextCodec *)&run->tc, run->a.out, run->a.save);
    double prog[5] = {at.step, (double)at.tokens_seen, at.train_time, at.last_acc, at.bad_in_row};
    uint64_t doc_pos = ds->doc_pos;
    int32_t next_problem = ds->next_problem;
    size_t csv_len;
    const char *csv = csv_text(run->log, &csv_len);
    StateWriter b;
    state_begin(&b, run->state_path, run->flags);
    state_put(&b, "PROG", prog, sizeof(prog));
    state_put_tokenizer(&b, &run->tc);
    state_put_model(&b, &run->model);
    state_put(&b, "DRNG", &ds->rng, sizeof(ds->rng));
    state_put(&b, "DORD", ds->order, (size_t)run->train.n * sizeof(int));
    state_put(&b, "DNXT", &next_problem, sizeof(next_problem));
    state_put(&b, "DOCI", ds->doc.ids.ids, ds->doc.ids.n * sizeof(int));
    state_put(&b, "DOCC", ds->doc.count, ds->doc.ids.n * sizeof(int));
    state_put(&b, "DPOS", &doc_pos, sizeof(doc_pos));
    if (own->n) { // the judging phase's own samples, once drawn: texts one after another, each with its NUL
        Buf texts = {0};
        for (int i = 0; i < own->n; i++) buf_put(&texts, own->text[i], strlen(own->text[i]) + 1);
        state_put(&b, "OWNP", own->problem, own->n * sizeof(int));
        state_put(&b, "OWNR", own->right, own->n * sizeof(int));
        state_put(&b, "OWNT", texts.data, texts.len);
        free(texts.data);
    }
    state_put(&b, "CSVT", csv, csv_len);
    state_commit(&b);
}

// the document being placed when the state was saved, and where
static void restore_document(const RunState *s, DocStream *ds, int V) {
    size_t n_ids, n_cnt;
    const unsigned char *ids = state_find(s, "DOCI", &n_ids), *cnt = state_find(s, "DOCC", &n_cnt);
    if (!ids || !cnt || n_ids != n_cnt || n_ids % sizeof(int))
        die("%s: run state's current document is corrupt", s->path);
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
}

static void restore_own_samples(const RunState *s, OwnSamples *own, int n_train) {
    size_t n_prob, n_right, n_text;
    const unsigned char *prob = state_find(s, "OWNP", &n_prob), *right = state_find(s, "OWNR", &n_right);
    const unsigned char *text = state_find(s, "OWNT", &n_text);
    if (!prob) return;
    int n = (int)(n_prob / sizeof(int));
    if (!right || !text || n_right != n_prob || n_prob % sizeof(int) || n == 0 || n > 1 << 20)
        die("%s: run state's own samples are corrupt", s->path);
    own_samples_alloc(own, n);
    memcpy(own->problem, prob, n * sizeof(int));
    memcpy(own->right, right, n * sizeof(int));
    for (size_t i = 0, off = 0; i < (size_t)n; i++) {
        const unsigned char *nul = off < n_text ? memchr(text + off, 0, n_text - off) : NULL;
        if (!nul || own->problem[i] < 0 || own->problem[i] >= n_train || (own->right[i] & ~1))
            die("%s: run state's own samples are corrupt", s->path);
        own->text[i] = strdup((const char *)text + off);
        off = (size_t)(nul - text) + 1;
    }
}

// Restores what pretrain_save wrote (the flags were checked by state_resume).
static void pretrain_restore(const RunState *s, PretrainRun *run) {
    double prog[5];
    state_get(s, "PROG", prog, sizeof(prog));
    run->prog = (PretrainProgress){.step = (int)prog[0], .tokens_seen = (long)prog[1], .train_time = prog[2],
                                 .last_acc = (float)prog[3], .bad_in_row = (int)prog[4]};
    TextConfig cfg; // a model directory's, read again (state_resume checked that it is unchanged)
    int has_cfg = hf_is_dir(run->a.init) && text_config_or_die(run->a.init, &cfg);
    state_get_tokenizer(s, has_cfg ? &cfg : NULL, &run->tc);
    state_get_model(s, &run->model);
    int V = tok_vocab_size(&run->tc.tok), n_train = run->train.n;
    if (run->model.config.vocab_size < V)
        die("%s: run state's model and tokenizer disagree on the vocabulary", s->path);
    DocStream *ds = &run->ds;
    state_get(s, "DRNG", &ds->rng, sizeof(ds->rng));
    state_get_order(s, "DORD", ds->order, n_train);
    int32_t next_problem;
    state_get(s, "DNXT", &next_problem, sizeof(next_problem));
    if (next_problem < 0 || next_problem > n_train) die("%s: run state's data position is corrupt", s->path);
    ds->next_problem = next_problem;
    restore_document(s, ds, V);
    restore_own_samples(s, &run->own, n_train);
    char *csv = state_get_text(s, "CSVT", NULL);
    csv_restore(run->log, csv);
    free(csv);
}

// The default run's question: is the base at `base` finished? (a base without a state
// was made elsewhere: finished). have_state: whether there is a state to resume.
static int pretrain_complete(const char *base, int steps, int *have_state) {
    char path[1024];
    path_with_ext(base, ".state", path, sizeof(path));
    RunState s;
    *have_state = state_load(&s, path);
    if (!*have_state) return access(base, R_OK) == 0;
    double prog[5];
    state_get(&s, "PROG", prog, sizeof(prog));
    free(s.data);
    return prog[0] > steps;
}

// ---- RL's state ----

static void rl_save(const RLRun *run, int next, double seconds) {
    const RLResult *res = run->res;
    if (!run->a->val_n) save_model_or_die(&run->policy, (TextCodec *)&run->tc, run->a->out, run->a->save); // else: the best
    double prog[3] = {next, run->bad_in_row, seconds};
    int32_t next_prompt = run->L.next, n_test = res->n_test;
    size_t csv_len;
    const char *csv = csv_text(run->log, &csv_len);
    StateWriter b;
    state_begin(&b, run->state_path, run->flags);
    state_put(&b, "PROG", prog, sizeof(prog));
    state_put_model(&b, &run->policy);
    state_put(&b, "RRNG", &run->L.rng, sizeof(run->L.rng));
    state_put(&b, "RORD", run->L.order, (size_t)run->rl.n * sizeof(int));
    state_put(&b, "RNXT", &next_prompt, sizeof(next_prompt));
    state_put(&b, "NTST", &n_test, sizeof(n_test));
    int32_t best[3] = {run->best.step, run->best.since, res->steps < run->a->steps ? res->steps : 0}; // 0: not stopped
    state_put(&b, "TACC", res->test, res->n_test * sizeof(TestAccuracy));
    state_put(&b, "BEST", &run->best.acc, sizeof(run->best.acc));
    state_put(&b, "BSTP", best, sizeof(best));
    state_put(&b, "TSTP", res->test_step, res->n_test * sizeof(int));
    state_put(&b, "REWD", res->reward, next * sizeof(float));
    state_put(&b, "LENG", res->length, next * sizeof(float));
    state_put(&b, "CSVT", csv, csv_len);
    state_commit(&b);
}

// Restores what rl_save wrote (flags checked by state_resume) into a run of --steps.
static void rl_restore(const RunState *s, RLRun *run) {
    RLResult *res = run->res;
    double prog[3];
    state_get(s, "PROG", prog, sizeof(prog));
    run->step = (int)prog[0]; run->bad_in_row = (int)prog[1]; run->seconds = prog[2];
    if (run->step < 1) die("%s: run state has a bad step %d", s->path, run->step);
    if (run->step > res->steps + 1)
        die("cannot resume from %s: it is at step %d, beyond --steps %d", s->path, run->step - 1, res->steps);
    GPT saved;
    state_get_model(s, &saved);
    GPT *policy = &run->policy;
    if (memcmp(&saved.config, &policy->config, sizeof(GPTConfig)) != 0)
        die("%s: run state's model shape differs from --init's", s->path);
    memcpy(policy->params_memory, saved.params_memory, policy->num_parameters * sizeof(float));
    policy->adam_t = saved.adam_t;
    policy->m_memory = saved.m_memory; policy->v_memory = saved.v_memory;
    saved.m_memory = saved.v_memory = NULL;
    gpt_free(&saved);
    state_get(s, "RRNG", &run->L.rng, sizeof(run->L.rng));
    state_get_order(s, "RORD", run->L.order, run->rl.n);
    int32_t next_prompt, n_test;
    state_get(s, "RNXT", &next_prompt, sizeof(next_prompt));
    if (next_prompt < 0 || next_prompt > run->rl.n) die("%s: run state's prompt position is corrupt", s->path);
    run->L.next = next_prompt;
    state_get(s, "NTST", &n_test, sizeof(n_test));
    if (n_test < 1 || n_test > run->step || n_test > res->steps + 1)
        die("%s: run state's evaluation count is corrupt", s->path);
    res->n_test = n_test;
    state_get(s, "TACC", res->test, n_test * sizeof(TestAccuracy));
    int32_t best[3];
    state_get(s, "BEST", &run->best.acc, sizeof(run->best.acc));
    state_get(s, "BSTP", best, sizeof(best));
    if (best[0] < 0 || best[0] >= run->step || best[1] < 0 || best[2] < 0 || best[2] > res->steps)
        die("%s: run state's early-stopping record is corrupt", s->path);
    run->best.step = best[0]; run->best.since = best[1];
    if (best[2]) { res->steps = best[2]; run->step = run->a->steps + 1; } // stopped early: complete
    state_get(s, "TSTP", res->test_step, n_test * sizeof(int));
    res->best = -1;
    for (int i = 0; run->a->val_n && i < n_test; i++) if (res->test_step[i] == run->best.step) res->best = i;
    if (run->a->val_n && res->best < 0) die("%s: run state's early-stopping record is corrupt", s->path);
    state_get(s, "REWD", res->reward, run->step * sizeof(float));
    state_get(s, "LENG", res->length, run->step * sizeof(float));
    char *csv = state_get_text(s, "CSVT", NULL);
    csv_restore(run->log, csv);
    free(csv);
}

