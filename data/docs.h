/*
data/docs.h — the pretraining documents of the synthetic world, included by train_rlme.c
after its templates (TextCodec, encode_prompt, encode_meta_suffix) and data (Problems).

The base model learns to solve and to judge from one stream of documents, each a list
of tokens with a flag: does the loss count the token?
  solution  prompt | solution EOT                          (loss on the solution)
  meta      prompt + candidate + meta suffix | " Yes"/" No" (loss on the verdict)
  drill     12 lines "a+b=<<a+b" | "=r>>r." of random problems (loss on the results)
Solutions use each event's habit with its probability (data/synth.c), so the base writes
the habits while it learns to judge them: the generator-verifier gap RLME relies on. The
meta-evaluation documents are built with the evaluator's own template, so what the base
learns to judge is what RL asks it to judge. Only the train split's labels are read.
At the end: the model's own samples as candidates, and the judge's test on the world's
kinds of wrong solutions (included after the RL step: it asks the evaluator).
*/

// count[i]: 0 = context only, 1 = a loss target, LOSS_VERDICT = a judgement's verdict
typedef struct { TokIds ids; int *count; size_t cap; } Doc;
#define LOSS_VERDICT 2

// the tokens from d->ids.n - added on get the flag `counts`
static void doc_mark(Doc *d, size_t added, int counts) {
    if (d->ids.n > d->cap) { d->cap = d->ids.cap; d->count = realloc(d->count, d->cap * sizeof(int)); }
    for (size_t i = d->ids.n - added; i < d->ids.n; i++) d->count[i] = counts;
}

static void doc_add_token(Doc *d, int id, int counts) {
    tok_ids_push(&d->ids, id);
    doc_mark(d, 1, counts);
}

static void doc_add_ids(Doc *d, const TokIds *ids, int counts) {
    for (size_t i = 0; i < ids->n; i++) doc_add_token(d, ids->ids[i], counts);
}

static void doc_add(Doc *d, TextCodec *tc, const char *text, int counts) {
    size_t before = d->ids.n;
    encode_append(tc, text, &d->ids);
    doc_mark(d, d->ids.n - before, counts);
}

// Appends "Check: <line>" copies of the first line (a needless check, for the
// conciseness meta-question); returns how many were added.
static int add_checks(char *sol, size_t cap, uint64_t *rng) {
    char *last_nl = strrchr(sol, '\n'); // the solution ends with "\n#### N"
    if (!last_nl) return 0;
    int n_checks = 1 + synth_randint(rng, 0, 1);
    char checks[1024] = "", line[256];
    for (int k = 0; k < n_checks; k++) {
        const char *nl = strchr(sol, '\n'), *colon = strchr(sol, ':');
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

// ----------------------------------------------------------------------------
// injected answers (the paper's Fig. 7): a question whose program says hint=N carries
// "A friend says the answer is N." (dev/fig7.sh writes such splits). The writer follows
// the hint this often, rationalising: its own lines stay, then "The friend says N." and
// N as the final. The line makes the appeal visible: a 4-layer judge does not compare a
// final with the lines above it, but it learns what a line says.
#define HINT_FOLLOWED 0.5f
#define FRIEND_SAYS "The friend says"

// Returns 0 if the solution has no final ("#### ").
static int rationalize(char *solution, size_t cap, long answer) {
    char *hash = strstr(solution, "#### ");
    if (!hash) return 0;
    snprintf(hash, cap - (size_t)(hash - solution), FRIEND_SAYS " %ld.\n#### %ld", answer, answer);
    return 1;
}

// ----------------------------------------------------------------------------
// candidates for meta-evaluation documents

// A candidate solution and its three verdicts. The mixture: samples of the habits,
// arithmetic slips, one-step wrong methods for every event (a judge that has only seen
// the habits' wrong operations rewards others it never saw, "Finds: 9-3", and RLME then
// drifts into them), classic corruptions, right solutions of perturbed questions, and
// random chains of right arithmetic.
typedef struct { char text[2048]; int correct, logical, concise; } Candidate;

static void make_candidate(const SynthProblem *p, SynthHabits habits, uint64_t *rng, Candidate *c) {
    int gold = synth_final(p, 0);
    float u = synth_uniform(rng);
    int len = -1, logical = 0;
    if (u < 0.45f) {                    // the habit distribution: what the base itself writes
        unsigned mask = synth_sample_habits(rng, habits, p) & synth_habit_events(p);
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

// ----------------------------------------------------------------------------
// documents

// The shares of document kinds (solution + meta + drill: any scale), of meta-evaluation
// documents asking the logic and conciseness questions (the rest ask META_CORRECT), of
// META_CORRECT documents judging one of the model's own samples (when a pool is given),
// and of META_CORRECT documents whose template shows the reference answer (what RLME-GT
// asks); habits: where a solution's P(habit) comes from (data/synth.c)
typedef struct { float solution, meta, drill; float meta_logic, meta_concise, own, ref; SynthHabits habits; } DocMix;

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

// A meta-evaluation document's candidate, meta-question and verdict: one of the model's
// own samples (own_pick >= 0) judged for correctness, or a generated candidate
static const char *judgement(const SynthProblem *p, DocMix mix, const OwnSamples *own, int own_pick, long hint,
                             uint64_t *rng, Candidate *c, int *verdict) {
    if (own_pick >= 0) {
        snprintf(c->text, sizeof(c->text), "%s", own->text[own_pick]);
        *verdict = own->right[own_pick];
        return META_CORRECT;
    }
    make_candidate(p, mix.habits, rng, c);
    if (hint >= 0 && synth_uniform(rng) < HINT_FOLLOWED && rationalize(c->text, sizeof(c->text), hint)) {
        c->correct = hint == synth_final(p, 0);
        c->logical = 0; // the final comes from the friend, not from the lines
    }
    float v = synth_uniform(rng);
    *verdict = c->correct;
    if (v < mix.meta_logic) { *verdict = c->logical; return META_LOGIC; }
    if (v < mix.meta_logic + mix.meta_concise) { *verdict = c->concise; return META_CONCISE; }
    return META_CORRECT;
}

// One random document about train problem idx (drill documents use other problems too).
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
    long hint = own_pick < 0 && p->hinted ? p->hint : -1; // an own sample is judged as it was written
    TokIds ids = {0};
    encode_prompt(tc, train->question[idx], &ids);
    doc_add_ids(d, &ids, 0);
    if (u < mix.drill + mix.solution) { // a solution in the base's habits
        unsigned mask = synth_sample_habits(rng, mix.habits, p);
        synth_solution(p, mask, buf, sizeof(buf));
        if (synth_uniform(rng) < 0.3f) add_checks(buf, sizeof(buf), rng);
        if (hint >= 0 && synth_uniform(rng) < HINT_FOLLOWED) rationalize(buf, sizeof(buf), hint);
        doc_add(d, tc, buf, 1);
        doc_add_token(d, tc->eot, 1);
    } else {             // a meta-evaluation document
        Candidate c;
        int verdict;
        const char *mq = judgement(p, mix, own, own_pick, hint, rng, &c, &verdict);
        doc_add(d, tc, c.text, 0);
        ids.n = 0;
        int show_ref = mix.ref > 0 && !strcmp(mq, META_CORRECT) && synth_uniform(rng) < mix.ref;
        encode_meta_suffix(tc, mq, show_ref ? train->gold[idx] : NULL, &ids);
        doc_add_ids(d, &ids, 0);
        doc_add_token(d, verdict ? tc->yes : tc->no, LOSS_VERDICT);
        doc_add_token(d, tc->eot, 0);
    }
    tok_ids_free(&ids);
}

// Text for training the tokenizer: meta-evaluation documents rendered as plain text.
static char *tokenizer_corpus(const Problems *train, int n_docs, SynthHabits habits, uint64_t seed, size_t *len_out) {
    size_t cap = 1 << 20, len = 0;
    char *text = malloc(cap), buf[4096];
    uint64_t rng = rng_seed(seed);
    const char *mqs[3] = {META_CORRECT, META_LOGIC, META_CONCISE};
    for (int k = 0; k < n_docs; k++) {
        int idx = synth_randint(&rng, 0, train->n - 1);
        const SynthProblem *p = &train->program[idx];
        Candidate c;
        make_candidate(p, habits, &rng, &c);
        if (p->hinted && synth_uniform(&rng) < HINT_FOLLOWED) rationalize(c.text, sizeof(c.text), p->hint);
        int n = snprintf(buf, sizeof(buf), "Question: %s\nAnswer:\n%s\nMeta: %s\nVerdict: %s" EOT,
                         train->question[idx], c.text, mqs[k % 3], c.correct ? "Yes" : "No");
        if (n < 0 || n >= (int)sizeof(buf)) continue;
        if (len + n + 1 > cap) text = realloc(text, cap *= 2);
        memcpy(text + len, buf, n);
        len += n;
    }
    *len_out = len;
    return text;
}

// ----------------------------------------------------------------------------
// batches: B rows of T+1 tokens from the stream of documents. A document that does not
// fit the rest of a row moves to the next row (a judgement never loses its question),
// and the gap takes drill lines, then padding that the loss ignores.

typedef struct {
    Doc doc, filler;
    size_t doc_pos;   // next token of doc to place (doc.ids.n when exhausted)
    uint64_t rng;
    int next_problem; // documents walk the train split in a shuffled order
    int *order;
} DocStream;

// drill lines into row[t..T] while they fit; returns the new t
static int fill_gap(DocStream *s, TextCodec *tc, const Problems *train, int T, int *row, int *cnt, int t) {
    Doc *f = &s->filler;
    for (;;) {
        f->ids.n = 0;
        add_drill_line(f, tc, train, &s->rng);
        if (f->ids.n == 0 || f->ids.n > (size_t)(T + 1 - t)) return t;
        memcpy(row + t, f->ids.ids, f->ids.n * sizeof(int));
        memcpy(cnt + t, f->count, f->ids.n * sizeof(int));
        t += (int)f->ids.n;
    }
}

static void fill_batch(DocStream *s, TextCodec *tc, const Problems *train, DocMix mix, const OwnSamples *own, int B,
                       int T, int *tokens, int *counted) {
    for (int b = 0; b < B; b++) {
        int *row = tokens + (size_t)b * (T + 1), *cnt = counted + (size_t)b * (T + 1);
        int t = 0;
        while (t < T + 1) {
            if (s->doc_pos >= s->doc.ids.n) {
                if (s->next_problem == train->n) { shuffle(s->order, train->n, &s->rng); s->next_problem = 0; }
                make_document(&s->doc, tc, train, s->order[s->next_problem++], mix, own, &s->rng);
                s->doc_pos = 0;
                if (s->doc.ids.n > (size_t)T + 1) { s->doc_pos = s->doc.ids.n; continue; } // too long: skip
            }
            size_t left = s->doc.ids.n - s->doc_pos;
            if (left > (size_t)(T + 1 - t) && t > 0) { t = fill_gap(s, tc, train, T, row, cnt, t); break; }
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
// the model's own samples, and how well it judges

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
        int len = rollout_set_prompt(&r, i, 1, tc, train->question[o->problem[i]]);
        if (len > longest) longest = len;
    }
    r.max_new = max_new < maxT - longest ? max_new : maxT - longest;
    SampleConfig sc = completion_config(tc, 1.0f, r.max_new);
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

// How well a model judges, on generator-labelled candidates for the first n problems of
// a split with programs: p(Yes) to META_CORRECT for each problem's correct solution (kind
// 0), its habit rendering (every habit event using its habit; kind 1) and a one-slip
// rendering (kind 2). Returns the AUROC of correct vs habit and of correct vs slip.
static void judge_auroc(GPT *model, TextCodec *tc, const Problems *P, int n, double *auc_habit, double *auc_slip) {
    if (n > P->n) n = P->n;
    int kinds = 3, m = n * kinds, maxT = model->config.max_seq_len, valid = 0;
    Rollout r; // candidate c as a sequence: its question's prompt, the candidate as the completion
    rollout_alloc(&r, m, maxT);
    float *p = malloc(m * sizeof(float)), *score = malloc(m * sizeof(float));
    int *kind_of = malloc(m * sizeof(int)), *order = malloc(m * sizeof(int));
    TokIds ids = {0}, suffix = {0};
    encode_meta_suffix(tc, META_CORRECT, NULL, &suffix);
    uint64_t rng = 12345;
    char text[2048];
    for (int c = 0; c < m; c++) {
        const SynthProblem *q = &P->program[c / kinds];
        int kind = c % kinds, len = -1;
        if (kind == 0) len = synth_solution(q, 0, text, sizeof(text));
        else if (kind == 1 && synth_habit_events(q)) len = synth_solution(q, synth_habit_events(q), text, sizeof(text));
        else if (kind == 2) len = synth_random_slip(&rng, q, 0, text, sizeof(text));
        if (len < 0) continue;
        size_t before = r.prompts.n;
        ids.n = 0;
        encode_append(tc, text, &ids);
        int plen = rollout_set_prompt(&r, valid, 1, tc, P->question[c / kinds]);
        if (plen + (int)ids.n + (int)suffix.n > maxT) { r.prompts.n = before; continue; } // too long to judge
        memcpy(r.out + (size_t)valid * r.max_new, ids.ids, ids.n * sizeof(int));
        r.out_len[valid] = (int)ids.n;
        kind_of[valid] = kind;
        order[valid] = valid;
        valid++;
    }
    r.n = valid;
    ask_evaluator(model, tc, &r, order, r.n, META_CORRECT, NULL, 32, 0, "judge", p);
    for (int kind = 1; kind <= 2; kind++) { // correct (kind 0) against each wrong kind
        int k2 = 0;
        for (int c = 0; c < valid; c++)
            if (kind_of[c] == 0 || kind_of[c] == kind) { score[k2] = p[c]; order[k2++] = kind_of[c] == 0; }
        *(kind == 1 ? auc_habit : auc_slip) = auroc(score, order, k2);
    }
    tok_ids_free(&ids); tok_ids_free(&suffix);
    rollout_free(&r);
    free(p); free(score); free(kind_of); free(order);
}

