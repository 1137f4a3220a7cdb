/*
train_rlme.c — Reinforcement Learning from Meta-Evaluation (RLME), in one C file.

RLME (Rentschler & Roberts, "Reinforcement Learning from Meta-Evaluation: Aligning
Language Models Without Ground-Truth Labels", arXiv:2601.21268, 2026) trains a language
model by RL where the reward is an evaluator model's belief that the answer to a
natural-language meta-question is "Yes": "Question: ... Answer: ... Meta: Is the answer
correct? Verdict:" -> p(" Yes"). No label is read. RLVR, the baseline, rewards a right
final number instead. The variant implemented here:

  evaluator    a frozen copy of the initial policy (or the live policy, or any checkpoint,
               or a weighted ensemble of them), reading the same template it was
               pretrained to judge with
  reward       r_i = sum_j v_j sum_k w_k log p_jk,  p = P(Yes) / (P(Yes) + P(No)) at the
               verdict position, for evaluators j and meta-questions k
  advantage    A_i = (r_i - mean of its group) / std of its group (GRPO; Dr. GRPO without
               the division: --scale-rewards none)
  update       CISPO (MiniMax-M1): the one weighted log-likelihood of model.h with
               c_t = sg(min(rho_t, 1 + eps_high)) A_i / N_tok  +  beta (pi_ref/pi - 1) / N_tok,
               rho_t = pi(y_t) / pi_behaviour(y_t), the second term the gradient of a k3 KL
               to the initial policy (beta 0.5 for RLME: at this scale RLME hacks its
               evaluator without it); several AdamW updates per rollout batch, in place

Commands (train_rlme <command> --help for each):
  (none)    the small-scale Fig. 2: pretrain a base, then RLME and RLVR from it, the figure
  pretrain  the base model, which must learn to solve and to judge
  rl        RL from a checkpoint with the RLME or RLVR reward
  eval      greedy accuracy of a checkpoint on a jsonl split
  judge     an evaluator's p(Yes) for one question, answer and meta-question
  score     log-probs of a token sequence;  sample: generation from a checkpoint
  bench     a training step and batched decoding, timed
  convert   a checkpoint or model directory into a Hugging Face model directory

Reading order: model.h's one objective (gpt_backward takes a weight per token) -> the
templates below -> rl_step() -> pretrain_step() -> the two loops. The plumbing (flags,
files and logs, the run state for --resume, the figure; score, sample, bench, convert; the
MPI ranks) is in headers under data/, with the data. The network is in model.h, the
tokenizer in tokenizer.c.
*/
#define TOKENIZER_NO_MAIN
#include "tokenizer.c"
#ifdef RLME_NO_MAIN // included by a test as a library: it calls only some functions
#pragma GCC diagnostic ignored "-Wunused-function"
#endif
#include <signal.h>
#include <stddef.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include "model.h"
#include "data/gsm8k.h"
#define SYNTH_NO_MAIN
#include "data/synth.c"
#include "data/hf.h" // Hugging Face model directories
#include "data/dist.h" // data-parallel ranks (MPI with `make MPI=1`)

// every error: one line on stderr naming what is wrong, and exit status 2
static const char *g_cmd = "train_rlme";
static int g_progress_open = 0; // a progress line without its newline is on stderr

// (under mpirun a rank other than 0 waits a second first and names itself: an error
// every rank meets, a bad flag say, is then rank 0's one line, as its exit ends the job)
static void die(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    FILE *err = dist_err();
    if (g_rank > 0) { sleep(1); fprintf(err, "rank %d: ", g_rank); }
    if (g_progress_open) fputc('\n', err);
    fprintf(err, "%s: error: ", g_cmd);
    vfprintf(err, fmt, ap);
    fputc('\n', err);
    fflush(err);
    va_end(ap);
    dist_exit(2);
}

// ----------------------------------------------------------------------------
// templates: text in, tokens out
//
// The policy completes PROMPT; the evaluator reads the same prompt, a candidate
// solution and a meta-question, and answers " Yes" or " No" right after "Verdict:".
// Pretraining builds its meta-evaluation documents with these same functions, so what
// the base model learned to judge is what RL asks it to judge.
//
//   Question: Tom has 12 apples. He gives away 5 apples. How many apples ...?
//   Answer:
//   Gives away: 12-5=<<12-5=7>>7.
//   #### 7
//   Meta: Is the answer correct?
//   Verdict: Yes<|endoftext|>
//
// A tokenizer with chat markers (Qwen's <|im_start|> and <|im_end|>: a pretrained
// chat model) gets its chat template instead, with the GSM8K instruction of the RL
// recipes people run on such models (verl's); a turn ends with <|im_end|>, and the
// meta-question is the user's next turn, answered "Yes" or "No":
//
//   <|im_start|>user
//   Tom has 12 apples. ... Let's think step by step and output the final answer after "####".<|im_end|>
//   <|im_start|>assistant
//   Gives away: 12-5=7.
//   #### 7<|im_end|>
//   <|im_start|>user
//   Is the answer correct? Answer Yes or No.<|im_end|>
//   <|im_start|>assistant
//   Yes<|im_end|>

#define EOT "<|endoftext|>"
#define CHAT_START "<|im_start|>"
#define CHAT_END "<|im_end|>"
// the chat template as tokenizer_config.json writes it (Jinja, as a JSON string's text)
#define CHATML_JINJA "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\\\n' + message['content']" \
                     " + '<|im_end|>' + '\\\\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\\\n' }}" \
                     "{% endif %}"
#define CHAT_INSTRUCTION " Let's think step by step and output the final answer after \"####\"."
#define META_CORRECT "Is the answer correct?"
#define META_LOGIC "Does the whole solution logically lead from the question to an answer?"
#define META_CONCISE "Is the solution free of needless checks?"

// Which template codec_init gives a tokenizer (--template of the commands that encode
// text): "auto", the chat template for a chat model (codec_init says which); "plain", the
// synthetic world's (what a base model is best asked with); "chat".
static const char *g_template = "auto";
#define TEMPLATE_HELP "the prompt: plain (Question: ... Answer:, the answer ending at the eos token,\n" \
                      "for a model directory's model also at a new \"Question:\"), chat (the chat\n" \
                      "template), or auto: chat for a chat model (tokenizer_config.json's eos_token\n" \
                      "<|im_end|>; without it, a tokenizer with <|im_start|> and <|im_end|>)"

static void set_template_or_die(const char *t) {
    if (strcmp(t, "auto") && strcmp(t, "plain") && strcmp(t, "chat"))
        die("--template must be auto, plain or chat, not '%s'", t);
    g_template = t;
}

// A few-shot prefix of the plain template (--shots FILE; NULL: none): the worked problems
// of a GSM8K-format file, each "Question: Q\nAnswer:\nA\n\n", before every prompt, as
// lm-evaluation-harness asks a base model GSM8K. A fixed text: its answers are the only
// solutions RLME reads, and no label of the RL data.
static char *g_shots = NULL;
#define SHOTS_HELP "a few-shot prefix for the plain template: each problem of this GSM8K-format\n" \
                   "jsonl, \"Question: Q\\nAnswer:\\nA\\n\\n\", before every prompt (base models; none by default)"

static void set_shots_or_die(const char *path) {
    if (!path) return;
    GSMExample *ex;
    int n;
    char err[2048];
    if (gsm8k_load(path, &ex, &n, err, sizeof(err))) die("%s", err);
    if (n == 0) die("--shots %s: no problems in the file", path);
    size_t len = 0;
    FILE *f = open_memstream(&g_shots, &len);
    if (!f) die("out of memory");
    for (int i = 0; i < n; i++) fprintf(f, "Question: %s\nAnswer:\n%s\n\n", ex[i].question, ex[i].answer);
    if (fclose(f)) die("out of memory");
    gsm8k_free(ex, n);
}

typedef struct {
    Tokenizer tok;
    int chat;         // the chat template (g_template, and the tokenizer has CHAT_START and CHAT_END)
    int eot, yes, no; // the token that ends a completion (<|endoftext|> or the model's own
                      // eos_token; <|im_end|> in the chat template), and the verdicts' (their
                      // first tokens)
    const char *stop; // a text that also ends a completion (NULL: none): PLAIN_STOP
} TextCodec;

// The plain template's completions from a model directory's model also end where it
// begins a new problem, as lm-evaluation-harness's GSM8K task stops them: a pretrained
// base model, which has not learnt to end its answer with <|endoftext|>, writes on into
// "Question: ...". (The synthetic world's checkpoints end theirs with <|endoftext|>.)
#define PLAIN_STOP "Question:"

static void encode_append(TextCodec *tc, const char *text, TokIds *ids) {
    if (tok_encode(&tc->tok, text, strlen(text), ids) < 0) die("out of memory while encoding text");
}

// "Question: Q\nAnswer:\n" (after the shots, if any), or the chat template's user turn
// and the assistant's start
static void encode_prompt(TextCodec *tc, const char *question, TokIds *ids) {
    if (!tc->chat && g_shots) encode_append(tc, g_shots, ids);
    encode_append(tc, tc->chat ? CHAT_START "user\n" : "Question: ", ids);
    encode_append(tc, question, ids);
    encode_append(tc, tc->chat ? CHAT_INSTRUCTION CHAT_END "\n" CHAT_START "assistant\n" : "\nAnswer:\n", ids);
}

// "\nMeta: MQ\nVerdict:" — what follows a candidate solution for the evaluator. With a
// reference (RLME-GT, and the pretraining documents that teach it), the true final number
// comes first: "\nReference answer: N\nMeta: MQ\nVerdict:". In the chat template: the
// assistant's turn ends and the user asks "[The reference answer is N. ]MQ Answer Yes or No."
static void encode_meta_suffix(TextCodec *tc, const char *meta_question, const char *reference, TokIds *ids) {
    if (tc->chat) {
        encode_append(tc, CHAT_END "\n" CHAT_START "user\n", ids);
        if (reference) { encode_append(tc, "The reference answer is ", ids); encode_append(tc, reference, ids); encode_append(tc, ". ", ids); }
        encode_append(tc, meta_question, ids);
        encode_append(tc, " Answer Yes or No." CHAT_END "\n" CHAT_START "assistant\n", ids);
        return;
    }
    if (reference) { encode_append(tc, "\nReference answer: ", ids); encode_append(tc, reference, ids); }
    encode_append(tc, "\nMeta: ", ids);
    encode_append(tc, meta_question, ids);
    encode_append(tc, "\nVerdict:", ids);
}

// The verdict, read from the evaluator's next-token probabilities after "Verdict:":
//   p = P(Yes) / (P(Yes) + P(No)),  or the raw P(Yes)
static float verdict_prob(const float *probs, const TextCodec *tc, int raw) {
    float py = probs[tc->yes], pn = probs[tc->no];
    return raw ? py : py / (py + pn + 1e-30f);
}

// tokens to text (malloc'd, NUL-terminated). Ids past the tokenizer's (the rows a
// model's vocabulary is padded with) have no text: they decode to nothing, as in
// transformers.
static char *decode_text(const TextCodec *tc, const int *ids, int n) {
    int V = tok_vocab_size(&tc->tok), *known = malloc(((size_t)n + 1) * sizeof(int)), m = 0;
    for (int i = 0; i < n; i++)
        if (ids[i] >= 0 && ids[i] < V) known[m++] = ids[i];
    long need = tok_decode(&tc->tok, known, m, NULL, 0);
    char *s = malloc(need + 1);
    tok_decode(&tc->tok, known, m, s, need);
    s[need] = '\0';
    free(known);
    return s;
}

// The ids the templates need: the end of a completion, and the verdicts " Yes" and
// " No" ("Yes" and "No" in the chat template, where they start the assistant's turn). A
// vocabulary without them as single tokens (a small one) has their first tokens stand
// for them, in the judgement documents and when the verdict is read; those must differ.
// cfg (NULL: none) is a model directory's tokenizer_config.json: its eos_token ends a
// plain completion, and under --template auto a model gets the chat template when it is
// a chat model (its eos_token is <|im_end|>; without the file: when the tokenizer has the
// markers) and its chat template, if it names one, is ChatML; a plain completion of a
// model with cfg also ends at PLAIN_STOP.
static int codec_init(TextCodec *tc, const TextConfig *cfg, char *err, size_t errlen) {
    int markers = tok_special_id(&tc->tok, CHAT_START) >= 0 && tok_special_id(&tc->tok, CHAT_END) >= 0;
    int chatml = markers && (!cfg || cfg->chat_template != CHAT_OTHER);
    if (!markers && !strcmp(g_template, "chat"))
        return set_err(err, errlen, "--template chat: the tokenizer has no %s and %s tokens", CHAT_START, CHAT_END);
    if (!chatml && !strcmp(g_template, "chat"))
        return set_err(err, errlen, "--template chat: the model's chat_template is not ChatML (%s turns): use --template plain",
                       CHAT_START);
    int chat_model = !cfg || (cfg->eos[0] ? !strcmp(cfg->eos, CHAT_END) : cfg->chat_template == CHAT_CHATML);
    tc->chat = chatml && (!strcmp(g_template, "chat") || (!strcmp(g_template, "auto") && chat_model));
    if (tc->chat && g_shots)
        return set_err(err, errlen, "--shots is for the plain template, and this is a chat model: add --template plain");
    tc->stop = cfg && !tc->chat ? PLAIN_STOP : NULL;
    int own_eos = !tc->chat && cfg && cfg->eos[0];
    const char *end = tc->chat ? CHAT_END : own_eos ? cfg->eos : EOT;
    tc->eot = tok_special_id(&tc->tok, end);
    if (tc->eot < 0 && own_eos)
        return set_err(err, errlen, "tokenizer_config.json's eos_token \"%s\" is not a token of tokenizer.json", end);
    if (tc->eot < 0) return set_err(err, errlen, "tokenizer has no %s token", end);
    TokIds y = {0}, n = {0};
    const char *yes = tc->chat ? "Yes" : " Yes", *no = tc->chat ? "No" : " No";
    tok_encode(&tc->tok, yes, strlen(yes), &y);
    tok_encode(&tc->tok, no, strlen(no), &n);
    tc->yes = y.ids[0]; tc->no = n.ids[0];
    tok_ids_free(&y); tok_ids_free(&n);
    if (tc->yes == tc->no) return set_err(err, errlen, "tokenizer gives \" Yes\" and \" No\" the same first token");
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

// the plumbing: the flag parser (tables in, values out), and atomic files, checkpoints that
// carry their tokenizer, CSV logs, the progress line, Ctrl-C and numerical faults
#include "data/flags.h"
#include "data/files.h"

// ----------------------------------------------------------------------------
// data: GSM8K-format jsonl
//
// Labels are kept apart from questions on purpose: RL rollouts and the RLME reward
// get a Problems' questions only; `gold` is read by evaluation, by the RLVR reward and
// by logged diagnostics, nothing else.

typedef struct {
    int n;
    char **question;
    char **gold;           // canonical final numbers
    SynthProblem *program; // the generator's structure (pretraining on synthetic data)
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
    P->path = strdup(path);
    P->line = malloc(n * sizeof(int));
    for (int i = 0; i < n; i++) {
        P->line[i] = ex[i].line;
        char num[GSM8K_NUM_MAX];
        if (!gsm8k_gold(ex[i].answer, num, sizeof(num)))
            die("%s:%d: answer has no final number after ####", path, ex[i].line);
        P->question[i] = ex[i].question; ex[i].question = NULL;
        P->gold[i] = strdup(num);
        if (need_program && (!ex[i].program || synth_decode_program(ex[i].program, &P->program[i])))
            die("%s:%d: missing or malformed \"program\" field (pretraining needs the generator's splits)", path,
                ex[i].line);
    }
    gsm8k_free(ex, n);
}

// DIR/NAME.jsonl into P
static void load_split_or_die(Problems *P, const char *dir, const char *name, int need_program) {
    char path[1100];
    snprintf(path, sizeof(path), "%s/%s.jsonl", dir, name);
    load_problems_or_die(P, path, need_program);
}

// The split of RL's prompts: DIR/rl.jsonl (the synthetic world's own), else
// DIR/train.jsonl (GSM8K's layout, as data/gsm8k.sh writes it). Only RLVR and the logs
// read its answers.
static const char *rl_split(const char *dir) {
    char rl[1100], train[1100];
    snprintf(rl, sizeof(rl), "%s/rl.jsonl", dir);
    snprintf(train, sizeof(train), "%s/train.jsonl", dir);
    return access(rl, F_OK) != 0 && access(train, F_OK) == 0 ? "train" : "rl";
}

static void free_problems(Problems *P) {
    for (int i = 0; i < P->n; i++) { free(P->question[i]); free(P->gold[i]); }
    free(P->question); free(P->gold); free(P->program); free(P->path); free(P->line);
    memset(P, 0, sizeof(*P));
}

// The last n problems of `from` move into `to` (a held-out split): from->n shrinks by n.
static void split_tail(Problems *from, int n, Problems *to) {
    memset(to, 0, sizeof(*to));
    to->n = n;
    to->question = malloc(n * sizeof(char *)); to->gold = malloc(n * sizeof(char *));
    to->line = malloc(n * sizeof(int)); to->path = strdup(from->path);
    from->n -= n;
    memcpy(to->question, from->question + from->n, n * sizeof(char *));
    memcpy(to->gold, from->gold + from->n, n * sizeof(char *));
    memcpy(to->line, from->line + from->n, n * sizeof(int));
}

// Every prompt of the first n problems must leave `room` tokens of the context free
// (for a completion, and the evaluator's meta-question): checked before any work.
// Returns the longest prompt's length (what a KV cache must hold besides completions).
static int require_prompts_fit(const Problems *P, int n, TextCodec *tc, int maxT, int room) {
    TokIds ids = {0};
    int longest = 0;
    for (int i = 0; i < n && i < P->n; i++) {
        ids.n = 0;
        encode_prompt(tc, P->question[i], &ids);
        if ((int)ids.n + room > maxT)
            die("%s:%d: the question's prompt is %zu tokens; with %d more for the answer it exceeds the model's "
                "context of %d", P->path, P->line[i], ids.n, room, maxT);
        if ((int)ids.n > longest) longest = (int)ids.n;
    }
    tok_ids_free(&ids);
    return longest;
}

// A KV cache for completions of at most max_new tokens after prompts of at most `longest`:
// that many positions (not the model's whole context), `want` sequences at once (fewer
// for a large model: kvcache_slots)
static void kvcache_for(KVCache *kv, GPTConfig cfg, int want, int longest, int max_new) {
    int maxT = longest + max_new < cfg.max_seq_len ? longest + max_new : cfg.max_seq_len;
    kvcache_init(kv, cfg, kvcache_slots(cfg, want, maxT), maxT);
}

// Fisher-Yates: a new order of order[0..n), drawn from rng
static void shuffle(int *order, int n, uint64_t *rng) {
    for (int i = n - 1; i > 0; i--) {
        int j = (int)(rng_u64(rng) % (i + 1)), x = order[i];
        order[i] = order[j]; order[j] = x;
    }
}

// ----------------------------------------------------------------------------
// rollouts: prompts, their completions, and each completion token's log-prob

typedef struct {
    int n;            // sequences
    TokIds prompts;   // all prompt tokens, concatenated
    int *off, *len;   // each sequence's prompt: offset and length in `prompts` (shared by a group)
    int max_new;
    int *out, *out_len; // (n, max_new) completion tokens, and how many
    float *out_logp;    // (n, max_new) log pi_behaviour of each, at sampling
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

// Sequences [i, i + count) answer `question`: its prompt is encoded once and shared.
// Returns the prompt's length in tokens.
static int rollout_set_prompt(Rollout *r, int i, int count, TextCodec *tc, const char *question) {
    int off = (int)r->prompts.n;
    encode_prompt(tc, question, &r->prompts);
    for (int k = i; k < i + count; k++) { r->off[k] = off; r->len[k] = (int)r->prompts.n - off; }
    return r->len[i];
}

// 1 when the text of ids[first, n) holds the codec's stop text
static int holds_stop(const TextCodec *tc, const int *ids, int first, int n) {
    char *text = decode_text(tc, ids + first, n - first);
    int found = strstr(text, tc->stop) != NULL;
    free(text);
    return found;
}

// SampleConfig.stop: the last token completed the codec's stop text (which spans at most
// as many tokens as it has bytes, each token decoding to one byte or more)
static int text_stop(const int *ids, int n, const void *codec) {
    const TextCodec *tc = codec;
    int span = (int)strlen(tc->stop), first = n > span ? n - span : 0;
    return holds_stop(tc, ids, first, n);
}

// the sampling settings of a completion: it ends at the codec's end token, or at its
// stop text when it has one
static SampleConfig completion_config(const TextCodec *tc, float temperature, int max_new) {
    return (SampleConfig){.temperature = temperature, .top_p = 1.0f, .max_new = max_new, .stop_token = tc->eot,
                          .stop = tc->stop ? text_stop : NULL, .stop_ctx = tc};
}

// How many of a completion's n tokens are its answer: all but the end token, or, when it
// ended at the stop text, all before the first token of the stop text's
static int completion_content(const TextCodec *tc, const int *ids, int n) {
    if (n > 0 && ids[n - 1] == tc->eot) return n - 1;
    if (!tc->stop || !n || !text_stop(ids, n, tc)) return n;
    int k = n - 1;
    while (k > 0 && !holds_stop(tc, ids, k, n)) k--;
    return k;
}

// the completion of sequence i as text: its answer, without the token(s) that ended it
static char *completion_text(const TextCodec *tc, const Rollout *r, int i) {
    const int *ids = r->out + (size_t)i * r->max_new;
    return decode_text(tc, ids, completion_content(tc, ids, r->out_len[i]));
}

// 1 if completion i's final number equals the (canonical) gold number: the one
// correctness check of evaluation, the RLVR reward and the logged diagnostics
static int completion_right(const TextCodec *tc, const Rollout *r, int i, const char *gold) {
    char *text = completion_text(tc, r, i), num[GSM8K_NUM_MAX];
    int right = gsm8k_extract(text, num, sizeof(num)) && gsm8k_same_answer(num, gold);
    free(text);
    return right;
}

// Completes sequences [lo, hi) of r (prompts filled), KV-cache slots at a time; rng is
// one state, or (sc.rng_per_sequence) one per sequence of r.
static void generate_range(GPT *model, KVCache *kv, Rollout *r, int lo, int hi, SampleConfig sc, uint64_t *rng) {
    for (int s = lo; s < hi; s += kv->slots) {
        int m = hi - s < kv->slots ? hi - s : kv->slots;
        gpt_generate(model, kv, m, r->prompts.ids, r->off + s, r->len + s, sc, sc.rng_per_sequence ? rng + s : rng,
                     r->out + (size_t)s * r->max_new, r->out_logp + (size_t)s * r->max_new, r->out_len + s);
    }
}
static void generate_all(GPT *model, KVCache *kv, Rollout *r, SampleConfig sc, uint64_t *rng) {
    generate_range(model, kv, r, 0, r->n, sc, rng);
}

// Packs sequences idx[0..B) as prompt+completion rows of one micro-batch (T = the
// longest), optionally followed by suffix[b]'s tokens (the evaluator's meta-question;
// the evaluator, whose codec is tc, reads a solution without the tokens that ended it).
// Rows are padded with tc's end token (0 without tc). Returns T, or -1 (nothing written)
// when a row would exceed maxT tokens; end[b] = index of the last real token of row b.
static int pack_rows(const Rollout *r, const int *idx, int B, const TokIds *const *suffix, const TextCodec *tc,
                     int maxT, int *tokens, int *end) {
    int T = 0, eot = tc ? tc->eot : 0;
    for (int pass = 0; pass < 2; pass++)
        for (int b = 0; b < B; b++) {
            int i = idx[b], m = r->out_len[i], ns = suffix ? (int)suffix[b]->n : 0;
            const int *comp = r->out + (size_t)i * r->max_new;
            if (suffix) m = completion_content(tc, comp, m);
            int n = r->len[i] + m + ns;
            if (pass == 0) { if (n > T) T = n; continue; }
            if (T > maxT) return -1;
            int *row = tokens + (size_t)b * T;
            memcpy(row, r->prompts.ids + r->off[i], r->len[i] * sizeof(int));
            memcpy(row + r->len[i], comp, m * sizeof(int));
            if (suffix) memcpy(row + r->len[i] + m, suffix[b]->ids, ns * sizeof(int));
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
// order[0 .. hi - lo) = sequences [lo, hi) by length
static void sort_by_length(const Rollout *r, int lo, int hi, int *order) {
    for (int i = lo; i < hi; i++) order[i - lo] = i;
    g_sort_rollout = r;
    qsort(order, hi - lo, sizeof(int), cmp_total_len);
}

// Buffers of a micro-batch of whole sequences of r, up to MB rows of at most `cap`
// tokens: r's longest prompt and max_new, within the model's context of maxT (+ the
// token that is only a target).
typedef struct { int cap, *rows, *end, *inputs, *targets; float *c; } MicroBatch;

static MicroBatch micro_alloc(int MB, const Rollout *r, int maxT) {
    int cap = 0;
    for (int i = 0; i < r->n; i++) if (r->len[i] > cap) cap = r->len[i];
    cap = cap + r->max_new < maxT + 1 ? cap + r->max_new : maxT + 1;
    return (MicroBatch){cap, malloc((size_t)MB * cap * sizeof(int)), malloc(MB * sizeof(int)),
                        malloc((size_t)MB * cap * sizeof(int)), malloc((size_t)MB * cap * sizeof(int)),
                        malloc((size_t)MB * cap * sizeof(float))};
}
static void micro_free(MicroBatch *m) { free(m->rows); free(m->end); free(m->inputs); free(m->targets); free(m->c); }

// The forward pass over sequences idx[0..B): each row a whole sequence, each position
// predicting the next token. Returns the rows' length; completion token j of row b is
// predicted at b * length + r->len[idx[b]] + j - 1.
static int forward_sequences(GPT *model, const Rollout *r, const int *idx, int B, MicroBatch *m) {
    int T = pack_rows(r, idx, B, NULL, NULL, m->cap, m->rows, m->end), Tm = T - 1;
    if (T < 0) die("internal error: a rollout exceeds the context");
    for (int b = 0; b < B; b++) for (int t = 0; t < Tm; t++) {
        m->inputs[(size_t)b * Tm + t] = m->rows[(size_t)b * T + t];
        m->targets[(size_t)b * Tm + t] = m->rows[(size_t)b * T + t + 1];
    }
    gpt_forward(model, m->inputs, m->targets, B, Tm);
    return Tm;
}

// log pi(completion token j of sequence i) under `model`, for every completion token of
// the n sequences order[0..n), micro-batches of MB
static void completion_logp(GPT *model, const Rollout *r, const int *order, int n, int MB, float *out) {
    MicroBatch m = micro_alloc(MB, r, model->config.max_seq_len);
    for (int i0 = 0; i0 < n; i0 += MB) {
        int B = i0 + MB < n ? MB : n - i0, Tm = forward_sequences(model, r, order + i0, B, &m);
        for (int b = 0; b < B; b++) for (int j = 0; j < r->out_len[order[i0 + b]]; j++)
            out[(size_t)order[i0 + b] * r->max_new + j] = model->logp[(size_t)b * Tm + r->len[order[i0 + b]] + j - 1];
    }
    micro_free(&m);
}

// ----------------------------------------------------------------------------
// the RL step
//
// rl_step() below is the whole method, one call per phase:
//   1. sample P prompts x G completions, keeping each token's behaviour log-prob
//   2. reward: RLME asks the evaluators (no label), RLVR checks the label
//   3. group advantages
//   4. the reference log-probs of the initial policy, for the KL term
//   5. U CISPO updates: c_t per token into gpt_backward, gradient clip, AdamW

// An evaluator: frozen-self (model = the initial policy), live-self (model = NULL: the
// policy judges itself) or a checkpoint. `foreign`: its tokenizer is not the policy's;
// it reads each rollout re-encoded from its text with its own tokenizer (codec).
typedef struct { const char *path; float weight; GPT *model; GPT own; int foreign; TextCodec codec; } Evaluator;
typedef struct { const char *question; float weight; } MetaQuestion;

// test accuracy, greedy and sampled, each with its standard error (rl_evaluate() below)
typedef struct { float greedy, greedy_se, sampled, sampled_se; } TestAccuracy;

// the flags of `rl` (the table RL_FLAGS below says what each one does)
typedef struct {
    const char *init, *out, *out_dtype, *log_path, *data_dir, *reward, *scale_rewards, *aggregate, *prompt_template;
    const char *shots;
    int steps, prompts, group, updates, max_new, eval_every, eval_n, eval_k, seed, threads, micro_batch, raw_prob;
    int val_n, patience, resume, lr_decay_steps;
    float lr, min_lr_frac, eps_low, eps_high, kl_beta, clip_norm, temperature, weight_decay, gt_frac;
    TestAccuracy base; // --init's test accuracy when already measured (same eval_n, eval_k, max_new, seed)
    FlagList evaluator_flags, meta_flags;  // as given; parsed into ev and meta
    int n_eval, n_meta;
    Evaluator ev[FLAG_LIST_MAX];
    MetaQuestion meta[FLAG_LIST_MAX];
    SaveAs save;          // how --out is written
    char out_buf[1024];   // --out as resolved
} RLArgs;

// what a step reads and changes besides the batch
typedef struct {
    GPT *policy, *ref;  // ref: the initial policy, frozen (the KL anchor and the frozen-self evaluator)
    TextCodec *tc;
    KVCache *kv;
    AdamWConfig opt;
    int rlme;
    int n_suffix;       // the longest meta-question suffix: context the evaluator needs after a completion
    const Problems *rl; // the questions; their labels reach verify_labels and the log only
    uint64_t rng;       // sampling, and the order of the prompts
    int *order, next;   // the rl split in a shuffled order, reshuffled after each pass
} Learner;

typedef struct { double kl, entropy, clip_frac; float grad_norm; } UpdateStats;

// Everything one RL step produces, for the update and the log. Under mpirun each rank
// samples, rewards and differentiates its own sequences [lo, hi), whole groups (all n
// in one process); completions, rewards and statistics are then shared by all ranks.
typedef struct {
    Rollout r;             // P*G sequences: sequence i answers prompt i / G
    int lo, hi;            // this rank's sequences
    int *prompt_of;        // (n) index into the rl split
    const char **question; // (n) the question sequence i answers (text only: the evaluators read it)
    uint64_t *rng;         // (n) each sequence's sampling stream, from the step's seed and i
    float *reward, *adv;   // (n)
    float *p_correct;      // (n) evaluator's p(Yes) for META_CORRECT (rlme; diagnostics)
    float *ref_logp;       // (n, max_new) log pi_ref of each completion token (KL)
    int *order;            // (hi - lo) this rank's sequences by length: the order of micro-batches
    UpdateStats first, last; // of the first update (entropy, KL at the rollout policy) and the last
    double sec_rollout, sec_reward, sec_update;
} Batch;

// ---- 1. sample -------------------------------------------------------------

// P prompts from the rl split (questions only), G completions each at the rollout
// temperature; the completions leave room for the evaluator's meta-question. Each
// completion draws from its own stream, so a rank that samples some of them draws what
// one process would.
static void sample_rollouts(const RLArgs *a, Learner *L, Batch *batch) {
    Rollout *r = &batch->r;
    int P = a->prompts, G = a->group, longest = 0, maxT = L->policy->config.max_seq_len;
    r->prompts.n = 0;
    for (int p = 0; p < P; p++) {
        if (L->next == L->rl->n) { shuffle(L->order, L->rl->n, &L->rng); L->next = 0; }
        int q = L->order[L->next++];
        int len = rollout_set_prompt(r, p * G, G, L->tc, L->rl->question[q]);
        if (len > longest) longest = len;
        for (int i = p * G; i < p * G + G; i++) { batch->prompt_of[i] = q; batch->question[i] = L->rl->question[q]; }
    }
    r->max_new = a->max_new;
    if (r->max_new > maxT - longest - L->n_suffix) r->max_new = maxT - longest - L->n_suffix;
    if (r->max_new < 1)
        die("a prompt of %d tokens leaves no room for a completion in the context of %d", longest, maxT);
    SampleConfig sc = completion_config(L->tc, a->temperature, r->max_new);
    sc.rng_per_sequence = 1;
    uint64_t step_seed = rng_u64(&L->rng);
    for (int i = 0; i < r->n; i++) batch->rng[i] = rng_seed(step_seed + (uint64_t)i);
    generate_range(L->policy, L->kv, r, batch->lo, batch->hi, sc, batch->rng);
    dist_gather(r->out, P, (size_t)G * r->max_new * sizeof(int));
    dist_gather(r->out_logp, P, (size_t)G * r->max_new * sizeof(float));
    dist_gather(r->out_len, P, G * sizeof(int));
    sort_by_length(r, batch->lo, batch->hi, batch->order);
}

// ---- 2. reward --------------------------------------------------------------

// The rollout as an evaluator with its own tokenizer `to` reads it, built from text
// as `judge` builds it: each question encoded as a prompt, each completion decoded
// with the policy's tokenizer `from` (without its EOT) and encoded with `to`.
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
        int same = i > 0 && question[i] == question[i - 1]; // sequences of one question share their prompt
        if (same) { view->off[i] = view->off[i - 1]; view->len[i] = view->len[i - 1]; }
        else rollout_set_prompt(view, i, 1, to, question[i]);
        view->out_len[i] = (int)comps[i].n;
        memcpy(view->out + (size_t)i * max_new, comps[i].ids, comps[i].n * sizeof(int));
        tok_ids_free(&comps[i]);
    }
    free(comps);
}

// p[i] = evaluator ev's verdict p(Yes) on the n sequences i = order[0..n) of r, read
// after "Verdict:" of template(question, completion, mq), with reference[i]'s true answer
// in it where the array and its entry are not NULL (RLME-GT); micro-batches of MB
static void ask_evaluator(GPT *ev, TextCodec *ecodec, const Rollout *r, const int *order, int n, const char *mq,
                          const char *const *reference, int MB, int raw, const char *name, float *p) {
    int maxT = ev->config.max_seq_len;
    int *tokens = malloc((size_t)MB * maxT * sizeof(int)), *end = malloc(MB * sizeof(int));
    size_t *row = malloc(MB * sizeof(size_t));
    TokIds plain = {0}, *with_ref = calloc(MB, sizeof(TokIds));
    const TokIds **suffix = malloc(MB * sizeof(TokIds *));
    encode_meta_suffix(ecodec, mq, NULL, &plain);
    for (int i0 = 0; i0 < n; i0 += MB) {
        int B = i0 + MB < n ? MB : n - i0;
        for (int b = 0; b < B; b++) {
            const char *ref = reference ? reference[order[i0 + b]] : NULL;
            with_ref[b].n = 0;
            if (ref) encode_meta_suffix(ecodec, mq, ref, &with_ref[b]);
            suffix[b] = ref ? &with_ref[b] : &plain;
        }
        int T = pack_rows(r, order + i0, B, suffix, ecodec, maxT, tokens, end);
        if (T < 0) die("%s: an evaluator input exceeds its context of %d tokens: lower --max-new", name, maxT);
        gpt_forward(ev, tokens, NULL, B, T);
        for (int b = 0; b < B; b++) row[b] = (size_t)b * T + end[b];
        gpt_head_at(ev, row, B);
        for (int b = 0; b < B; b++)
            p[order[i0 + b]] = verdict_prob(ev->acts.probs + (size_t)b * ev->config.padded_vocab_size, ecodec, raw);
    }
    for (int b = 0; b < MB; b++) tok_ids_free(&with_ref[b]);
    tok_ids_free(&plain);
    free(with_ref); free(suffix); free(tokens); free(end); free(row);
}

// RLME: r_i = sum_j v_j sum_k w_k log p_jk, with p_jk evaluator j's verdict on
// meta-question k (--aggregate mean), or the worst case r_i = min_jk log p_jk (min).
// The evaluators see the prompts and completions, never a label — except RLME-GT
// (--gt-frac F > 0), which shows them the true answer for a fraction F of the samples,
// drawn per sample (the paper's RLME-10GT and RLME-1GT: the two RLME runs that read labels).
static void meta_evaluate(const RLArgs *a, Learner *L, Batch *batch) {
    int n = batch->r.n, lo = batch->lo, hi = batch->hi, worst = !strcmp(a->aggregate, "min");
    float *p = malloc(n * sizeof(float));
    const char **reference = a->gt_frac > 0 ? calloc(n, sizeof(char *)) : NULL;
    for (int i = 0; reference && i < n; i++)
        if (synth_uniform(&L->rng) < a->gt_frac) reference[i] = L->rl->gold[batch->prompt_of[i]];
    for (int i = 0; i < n; i++) { batch->reward[i] = worst ? INFINITY : 0.0f; batch->p_correct[i] = NAN; }
    for (int j = 0; j < a->n_eval; j++) {
        const Evaluator *e = &a->ev[j];
        TextCodec *ecodec = e->foreign ? (TextCodec *)&e->codec : L->tc;
        Rollout view; // the rollout in the evaluator's tokens
        if (e->foreign) rollout_reencode(&batch->r, batch->question, L->tc, ecodec, &view);
        for (int k = 0; k < a->n_meta; k++) {
            ask_evaluator(e->model ? e->model : L->policy, ecodec, e->foreign ? &view : &batch->r, batch->order,
                          hi - lo, a->meta[k].question, reference, a->micro_batch, a->raw_prob, e->path, p);
            int diag = j == 0 && !strcmp(a->meta[k].question, META_CORRECT);
            for (int i = lo; i < hi; i++) {
                float pi = p[i] < 1e-6f ? 1e-6f : p[i]; // log 0 would make one sample dominate the group
                if (worst) batch->reward[i] = fminf(batch->reward[i], logf(pi));
                else batch->reward[i] += e->weight * a->meta[k].weight * logf(pi);
                if (diag) batch->p_correct[i] = pi;
            }
        }
        if (e->foreign) rollout_free(&view);
    }
    int G = a->group;
    dist_gather(batch->reward, a->prompts, G * sizeof(float));
    dist_gather(batch->p_correct, a->prompts, G * sizeof(float));
    free(p); free(reference);
}

// RLVR: r_i = 1 if the completion's final number equals the label, else 0
static void verify_labels(TextCodec *tc, const Problems *rl, Batch *batch) {
    for (int i = 0; i < batch->r.n; i++)
        batch->reward[i] = completion_right(tc, &batch->r, i, rl->gold[batch->prompt_of[i]]);
}

// ---- 3. advantage -----------------------------------------------------------

// A_i = (r_i - mean of its group) / (std of its group + 1e-4)   (GRPO, TRL's scale_rewards="group")
// A_i =  r_i - mean of its group                                 (Dr. GRPO: std_norm = 0)
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

// ---- the learning rate (pretraining's and RL's) -----------------------------

// lr at step s (0-based) of a run of `steps`: linear warmup, then cosine from lr down to lr * min_frac
static float lr_schedule(int s, int steps, int warmup, float lr, float min_frac) {
    if (s < warmup) return lr * (s + 1) / warmup;
    float progress = (float)(s - warmup) / (float)(steps - warmup > 1 ? steps - warmup : 1);
    return lr * (min_frac + (1.0f - min_frac) * 0.5f * (1.0f + cosf(3.14159265f * progress)));
}

// RL's lr at step (1-based): constant, or with --lr-decay-steps N cosine from lr down to
// lr * min_frac over the first N steps, then held there (so a resume to more steps agrees)
static float rl_lr(const RLArgs *a, int step) {
    if (a->lr_decay_steps <= 0) return a->lr;
    int s = step - 1 < a->lr_decay_steps ? step - 1 : a->lr_decay_steps;
    return lr_schedule(s, a->lr_decay_steps, 0, a->lr, a->min_lr_frac);
}

// ---- 5. CISPO ---------------------------------------------------------------

// The per-token weight c_t fed to the one objective L = -sum c_t log pi(y_t):
//   rho = exp(logp - logp_behaviour),  w = clip(rho, 1 - eps_low, 1 + eps_high)   (no gradient)
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

// One optimizer step over the whole rollout batch: micro-batches accumulate the
// gradient of the CISPO objective (through cispo_weight's c_t), then clip + AdamW.
// Under mpirun each rank's micro-batches are its own sequences, and the gradients and
// statistics are summed across ranks before the clip. The policy's entropy is measured
// when asked (the first pass: the rollout policy). A non-finite gradient is not
// applied; returns whether the step was.
static int cispo_update(const RLArgs *a, GPT *policy, const Batch *batch, AdamWConfig opt, int want_entropy,
                        UpdateStats *st) {
    const Rollout *r = &batch->r;
    int MB = a->micro_batch;
    long n_tok = 0, n_clipped = 0;
    for (int i = 0; i < r->n; i++) n_tok += r->out_len[i];
    MicroBatch m = micro_alloc(MB, r, policy->config.max_seq_len);
    double kl = 0.0, entropy = 0.0;
    gpt_zero_grad(policy);
    for (int i0 = 0, n = batch->hi - batch->lo; i0 < n; i0 += MB) {
        int B = i0 + MB < n ? MB : n - i0, Tm = forward_sequences(policy, r, batch->order + i0, B, &m);
        memset(m.c, 0, (size_t)B * Tm * sizeof(float));
        for (int b = 0; b < B; b++) {
            int i = batch->order[i0 + b];
            for (int j = 0; j < r->out_len[i]; j++) {
                size_t pos = (size_t)b * Tm + r->len[i] + j - 1, k = (size_t)i * r->max_new + j;
                float k3;
                n_clipped += cispo_weight(policy->logp[pos], r->out_logp[k], batch->ref_logp[k], batch->adv[i],
                                          a->eps_low, a->eps_high, a->kl_beta, (float)n_tok, &m.c[pos], &k3);
                kl += k3;
                if (want_entropy) entropy += policy->entropy[pos];
            }
        }
        gpt_backward(policy, m.c);
    }
    double sums[3] = {kl, entropy, (double)n_clipped};
    dist_sum_doubles(sums, 3);
    kl = sums[0], entropy = sums[1], n_clipped = (long)sums[2];
    dist_sum_floats(policy->grads_memory, policy->num_parameters);
    st->grad_norm = gpt_clip_grad_norm(policy, a->clip_norm);
    int applied = isfinite(st->grad_norm);
    if (applied) gpt_adamw_update(policy, opt);
    st->kl = n_tok ? kl / n_tok : 0.0;
    st->entropy = n_tok ? entropy / n_tok : 0.0;
    st->clip_frac = n_tok ? (double)n_clipped / n_tok : 0.0;
    micro_free(&m);
    return applied;
}

// ---- the step ---------------------------------------------------------------

// One RL step. Returns what was not finite ("reward" or "gradient"), or NULL; the
// policy is then left as it was before the failed update.
static const char *rl_step(const RLArgs *a, Learner *L, Batch *batch, int step) {
    double t0 = now_seconds();
    // 1. P x G rollouts of the current policy, log pi_behaviour(y_t) kept
    sample_rollouts(a, L, batch);
    double t1 = now_seconds();
    // 2. RLME: r_i = sum_j v_j sum_k w_k log p_jk;  RLVR: r_i = 1[final number = label]
    if (L->rlme) meta_evaluate(a, L, batch);
    else verify_labels(L->tc, L->rl, batch);
    double t2 = now_seconds();
    batch->sec_rollout = t1 - t0; batch->sec_reward = t2 - t1; batch->sec_update = 0.0;
    memset(&batch->first, 0, sizeof(batch->first)); memset(&batch->last, 0, sizeof(batch->last));
    if (!all_finite(batch->reward, batch->r.n, step)) return "reward";
    // 3. A_i = (r_i - mean_group r) / std_group r
    group_advantages(batch->reward, batch->adv, a->prompts, a->group, strcmp(a->scale_rewards, "none") != 0);
    // 4. log pi_ref(y_t) under the initial policy
    completion_logp(L->ref, &batch->r, batch->order, batch->hi - batch->lo, a->micro_batch, batch->ref_logp);
    // 5. CISPO: c_t = sg(clip rho_t) A_i / N_tok + beta (pi_ref/pi - 1) / N_tok; backward, clip, AdamW
    const char *fault = NULL;
    AdamWConfig opt = L->opt;
    opt.lr = rl_lr(a, step);
    for (int u = 0; u < a->updates && !fault; u++) {
        if (!cispo_update(a, L->policy, batch, opt, u == 0, &batch->last)) fault = "gradient";
        if (u == 0) batch->first = batch->last;
    }
    batch->sec_update = now_seconds() - t2;
    return fault;
}

// ----------------------------------------------------------------------------
// evaluation and diagnostics (labels are read here, for the log; never for training)

// Completions of n questions into r (allocated here), k per question (sequence i
// answers question i / k) at `temperature` (0: greedy): max_new tokens each, fewer if
// the longest prompt leaves less room.
static void test_rollout(GPT *model, TextCodec *tc, KVCache *kv, char *const *question, int n, int k,
                         float temperature, uint64_t seed, int max_new, Rollout *r) {
    rollout_alloc(r, n * k, max_new);
    int longest = 0, maxT = kv->maxT;
    for (int i = 0; i < n; i++) {
        int len = rollout_set_prompt(r, i * k, k, tc, question[i]);
        if (len > longest) longest = len;
    }
    if (max_new > maxT - longest + 1) max_new = maxT - longest + 1;
    r->max_new = max_new;
    SampleConfig sc = completion_config(tc, temperature, max_new);
    uint64_t rng = rng_seed(seed);
    generate_all(model, kv, r, sc, &rng);
}

static void greedy_rollout(GPT *model, TextCodec *tc, KVCache *kv, char *const *question, int n, int max_new,
                           Rollout *r) {
    test_rollout(model, tc, kv, question, n, 1, 0.0f, 1, max_new, r);
}

// Greedy accuracy on the first n problems of a split. If `first` is given it receives
// the first problem's completion (malloc'd).
static float greedy_accuracy(GPT *model, TextCodec *tc, KVCache *kv, const Problems *P, int n, int max_new,
                             char **first) {
    if (n > P->n) n = P->n;
    Rollout r;
    greedy_rollout(model, tc, kv, P->question, n, max_new, &r);
    int correct = 0;
    for (int i = 0; i < n; i++) correct += completion_right(tc, &r, i, P->gold[i]);
    if (first) *first = completion_text(tc, &r, 0);
    rollout_free(&r);
    return (float)correct / n;
}

// The mean of m[0..n) and its standard error: se = std(m) / sqrt(n), std with n - 1
static void mean_and_se(const double *m, int n, double *mean, double *se) {
    double sum = 0.0, var = 0.0;
    for (int i = 0; i < n; i++) sum += m[i];
    *mean = sum / n;
    for (int i = 0; i < n; i++) var += (m[i] - *mean) * (m[i] - *mean);
    *se = n > 1 ? sqrt(var / (n - 1) / n) : 0.0;
}

// Sampled accuracy on the first n problems, k samples of each at `temperature`, and its
// standard error over the problems (greedy's is sqrt(acc (1 - acc) / n)):
//   acc = mean_i m_i,  m_i = right_i / k,  se = std_i(m_i) / sqrt(n)
static void sampled_accuracy(GPT *model, TextCodec *tc, KVCache *kv, const Problems *P, int n, int k,
                             float temperature, uint64_t seed, int max_new, float *acc, float *se) {
    if (n > P->n) n = P->n;
    Rollout r;
    test_rollout(model, tc, kv, P->question, n, k, temperature, seed, max_new, &r);
    double *m = malloc(n * sizeof(double)), mean, err;
    for (int i = 0; i < n; i++) {
        int right = 0;
        for (int j = 0; j < k; j++) right += completion_right(tc, &r, i * k + j, P->gold[i]);
        m[i] = (double)right / k;
    }
    mean_and_se(m, n, &mean, &err);
    *acc = (float)mean; *se = (float)err;
    free(m);
    rollout_free(&r);
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

typedef struct { double acc, auroc, auroc_within, reward_gap; } Diagnostics;

// Correctness of each sample against the label; the evaluator's p(correct) AUROC over
// all samples and within groups (mean over groups with both classes), and the within-
// group reward gap (mean reward of right minus wrong samples). A collapsing gap while
// the reward rises is the policy hacking its evaluator.
static void diagnose(TextCodec *tc, const Problems *rl, const Batch *batch, int P, int G, Diagnostics *d) {
    int n = batch->r.n, *right = malloc(n * sizeof(int));
    int n_right = 0;
    for (int i = 0; i < n; i++) {
        right[i] = completion_right(tc, &batch->r, i, rl->gold[batch->prompt_of[i]]);
        n_right += right[i];
    }
    d->acc = (double)n_right / n;
    d->auroc = auroc(batch->p_correct, right, n);
    double sum_auc = 0.0, sum_gap = 0.0;
    int n_groups = 0;
    for (int p = 0; p < P; p++) {
        double auc = auroc(batch->p_correct + p * G, right + p * G, G);
        if (isnan(auc)) continue;
        double rr = 0.0, rw = 0.0;
        int nr = 0, nw = 0;
        for (int i = p * G; i < p * G + G; i++) {
            if (right[i]) { rr += batch->reward[i]; nr++; } else { rw += batch->reward[i]; nw++; }
        }
        sum_auc += auc; sum_gap += rr / nr - rw / nw; n_groups++;
    }
    d->auroc_within = n_groups ? sum_auc / n_groups : NAN;
    d->reward_gap = n_groups ? sum_gap / n_groups : NAN;
    free(right);
}

// ----------------------------------------------------------------------------
// pretraining: the base model must learn both to solve and to judge

#include "data/docs.h" // the document mixture: solutions in the habits, meta-evaluations, drill

// the flags of `pretrain` (the table PRETRAIN_FLAGS below says what each one does)
typedef struct {
    const char *data_dir, *out, *out_dtype, *log_path, *init, *arch, *tokenizer, *prompt_template, *habits;
    int steps, batch, seq, layers, heads, channels, vocab;
    float lr, min_lr_frac, weight_decay, verdict_weight, habit_p;
    int warmup, eval_every, eval_n, max_new, seed, threads, resume;
    float judge_frac; // the last judge_frac of the steps draw from judge_mix
    DocMix mix, judge_mix;
    SaveAs save;          // how --out is written
    char out_buf[1024];   // --out as resolved
} PretrainArgs;

typedef struct { int *rows, *counted, *inputs, *targets; float *c; } PretrainBatch;
typedef struct { float loss, lr, grad_norm; int applied; } PretrainStats;

// One pretraining step on B rows of T tokens from the document stream: the one
// objective with c_t = w_t / sum(w) on the tokens that count, w = 1 on solution and
// drill tokens and --verdict-weight on a judgement's verdict (one token per document,
// against about fifty for a solution: unweighted, judging is a whisper in the gradient).
static PretrainStats pretrain_step(const PretrainArgs *a, GPT *model, TextCodec *tc, const Problems *train,
                                   DocStream *ds, DocMix mix, const OwnSamples *own, PretrainBatch *pb, int step) {
    int B = a->batch, T = a->seq;
    fill_batch(ds, tc, train, mix, own, B, T, pb->rows, pb->counted);
    double w_sum = 0.0;
    for (int b = 0; b < B; b++) for (int t = 0; t < T; t++) {
        int k = pb->counted[b * (T + 1) + t + 1];
        pb->inputs[b * T + t] = pb->rows[b * (T + 1) + t];
        pb->targets[b * T + t] = pb->rows[b * (T + 1) + t + 1];
        pb->c[b * T + t] = k == LOSS_VERDICT ? a->verdict_weight : (float)k;
        w_sum += pb->c[b * T + t];
    }
    for (int i = 0; i < B * T; i++) pb->c[i] = (float)(pb->c[i] / w_sum);
    // under mpirun each rank runs rows [lo, hi) of the batch, and the loss and the
    // gradient are summed across ranks (one process: all rows)
    int lo, hi;
    dist_slice(B, g_rank, &lo, &hi);
    const float *c = pb->c + (size_t)lo * T;
    PretrainStats st;
    gpt_forward(model, pb->inputs + (size_t)lo * T, pb->targets + (size_t)lo * T, hi - lo, T);
    double loss = gpt_weighted_loss(model, c);
    gpt_zero_grad(model);
    gpt_backward(model, c);
    dist_sum_doubles(&loss, 1);
    dist_sum_floats(model->grads_memory, model->num_parameters);
    st.loss = (float)loss;
    st.grad_norm = gpt_clip_grad_norm(model, 1.0f);
    st.lr = lr_schedule(step, a->steps, a->warmup, a->lr, a->min_lr_frac);
    AdamWConfig opt = {.lr = st.lr, .beta1 = 0.9f, .beta2 = 0.95f, .eps = 1e-8f, .weight_decay = a->weight_decay};
    float check[2] = {st.loss, st.grad_norm};
    st.applied = all_finite(check, 2, step);
    if (st.applied) gpt_adamw_update(model, opt); // else skipped: the weights stay finite
    return st;
}

// ----------------------------------------------------------------------------
// the two loops. Each step is followed by its log row, an evaluation when due, and the
// checkpoint with its run state (for --resume) when due or when stopping.

// what the loops use from the run state (data/state.h, included after the commands)
typedef struct RunState RunState;
static char *pretrain_flags(const PretrainArgs *a);
static char *rl_flags(const RLArgs *a);
static RunState *state_resume(const char *path, int resume, const char *flags);
static void state_close(RunState *s);

// ---- ranks (mpirun): every rank runs the same run, on the same weights ------------

static uint64_t problems_hash(const Problems *P, uint64_t h) {
    for (int i = 0; i < P->n; i++) {
        h = dist_hash(h, P->question[i], strlen(P->question[i]) + 1);
        h = dist_hash(h, P->gold[i], strlen(P->gold[i]) + 1);
    }
    return h;
}
static uint64_t weights_hash(const GPT *m) {
    return dist_hash(DIST_HASH_START, m->params_memory, m->num_parameters * sizeof(float));
}

static uint64_t tokenizer_hash(const Tokenizer *t) {
    uint64_t h = dist_hash(DIST_HASH_START, t->tok_bytes, t->tok_off[t->vocab_size]);
    h = dist_hash(h, t->m_left, t->n_merges * sizeof(int));
    return dist_hash(h, t->m_right, t->n_merges * sizeof(int));
}

// At the start: the flags that shape the run, the problems, the model and its tokenizer
// (--init, --tokenizer, --resume).
static void ranks_agree_at_start(const char *flags, const Problems *x, const Problems *y, const GPT *model,
                                 const Tokenizer *tok) {
    if (g_ranks == 1) return;
    const char *hint = "start every rank with the same flags and the same files";
    dist_agree("the flags", hint, dist_hash(DIST_HASH_START, flags, strlen(flags)));
    dist_agree("the problems (--data)", hint, problems_hash(y, problems_hash(x, DIST_HASH_START)));
    dist_agree("the model's weights at the start (--init, --resume)", hint, weights_hash(model));
    dist_agree("the tokenizer", hint, tokenizer_hash(tok));
}

// At the end of a run: the time in all-reduce; and every rank waits for rank 0's files
// (the default run's RL reads the base that pretraining wrote).
static void ranks_report(void) {
    if (g_ranks == 1) return;
    fprintf(stderr, "%d ranks: %.3f s in the gradients' all-reduce (rank 0)\n", g_ranks, g_allreduce_seconds);
    g_allreduce_seconds = 0.0;
    dist_barrier();
}

// At every evaluation: the weights are still the same on every rank.
static void ranks_agree_on_weights(const GPT *model, int step) {
    if (g_ranks == 1) return;
    char what[64];
    snprintf(what, sizeof(what), "the weights after step %d", step);
    dist_agree(what, "the ranks have drifted apart (do all hosts run the same build?)", weights_hash(model));
}

// ---- pretraining -------------------------------------------------------------

// Everything of a pretraining run that changes from step to step.
typedef struct {
    int step;          // the next step to run (steps + 1: the run is complete)
    long tokens_seen;
    double train_time; // seconds in training steps (for tok/s)
    float last_acc;
    int bad_in_row;    // consecutive skipped (non-finite) steps
} PretrainProgress;

typedef struct {
    PretrainArgs a;    // the model's shape is --init's when given
    GPT model;
    TextCodec tc;
    KVCache kv;
    Problems train, test;
    DocStream ds;
    OwnSamples own;
    PretrainBatch pb;
    CsvLog *log;
    PretrainProgress prog;
    char state_path[1024], *flags;
} PretrainRun;

static void pretrain_save(const PretrainRun *run, PretrainProgress at);
static void pretrain_restore(const RunState *s, PretrainRun *run);

// The model of the flags' shape: GPT-2's block, or the Llama family's as Qwen3 and
// Llama configure it: half as many key/value heads as query heads (grouped-query
// attention; all of them for an odd count), head size C/H, a SwiGLU of width 3C,
// RMSNorm eps 1e-6, RoPE theta 1e6, a tied head; qwen3 adds QK-norm.
static GPTConfig pretrain_config(const PretrainArgs *a, int V) {
    GPTConfig c = {.max_seq_len = a->seq, .vocab_size = V, .padded_vocab_size = (V + 127) / 128 * 128,
                   .num_layers = a->layers, .num_heads = a->heads, .channels = a->channels};
    if (strcmp(a->arch, "gpt2")) {
        c.arch = ARCH_LLAMA;
        c.num_kv_heads = a->heads % 2 ? a->heads : a->heads / 2;
        c.head_dim = a->channels / a->heads;
        c.ffn_dim = 3 * a->channels;
        c.qk_norm = !strcmp(a->arch, "qwen3");
        c.norm_eps = 1e-6f;
        c.rope_theta = 1e6f;
    }
    return c;
}

// The tokenizer (--tokenizer's, or a new byte-level BPE trained on rendered documents,
// every digit its own token) and a random model of the flags' shape.
static void pretrain_init_model(PretrainRun *run) {
    const PretrainArgs *a = &run->a;
    char err[512];
    if (a->tokenizer) {
        if (tok_load(&run->tc.tok, a->tokenizer, err, sizeof(err))) die("%s", err);
        if (codec_init(&run->tc, NULL, err, sizeof(err))) die("%s: %s", a->tokenizer, err);
    } else {
        double t0 = now_seconds();
        size_t corpus_len;
        char *corpus = tokenizer_corpus(&run->train, 20000, a->mix.habits, (uint64_t)a->seed, &corpus_len);
        const char *specials[1] = {EOT};
        if (tok_train(&run->tc.tok, corpus, corpus_len, a->vocab, specials, 1, TOK_SPLIT_DIGITS, err, sizeof(err)))
            die("tokenizer: %s", err);
        free(corpus);
        if (codec_init(&run->tc, NULL, err, sizeof(err))) die("tokenizer: %s (try a larger --vocab)", err);
        fprintf(stderr, "tokenizer: %d tokens, trained on %.1f MB in %.1f s\n", tok_vocab_size(&run->tc.tok),
                corpus_len / 1e6, now_seconds() - t0);
    }
    gpt_init_random(&run->model, pretrain_config(a, tok_vocab_size(&run->tc.tok)), (uint64_t)a->seed);
}

static void pretrain_open(PretrainRun *run, const PretrainArgs *args) {
    memset(run, 0, sizeof(*run));
    PretrainArgs *a = &run->a;
    *a = *args;
    if (a->init) { // the model's shape is the checkpoint's
        load_model_or_die(&run->model, &run->tc, a->init, "checkpoint carries no tokenizer");
        a->layers = run->model.config.num_layers; a->heads = run->model.config.num_heads;
        a->channels = run->model.config.channels; a->seq = run->model.config.max_seq_len;
        a->vocab = run->model.config.vocab_size;
    }
    set_threads(a->threads);
    catch_stop_signals();
    ensure_synth_data(a->data_dir);
    load_split_or_die(&run->train, a->data_dir, "train", 1);
    load_split_or_die(&run->test, a->data_dir, "test", 1);
    run->flags = pretrain_flags(a);
    path_with_ext(a->out, ".state", run->state_path, sizeof(run->state_path));
    RunState *saved = state_resume(run->state_path, a->resume, run->flags);
    int n = run->train.n, B = a->batch, T = a->seq;
    run->ds = (DocStream){.rng = rng_seed((uint64_t)a->seed + 1), .order = malloc(n * sizeof(int)), .next_problem = n};
    for (int i = 0; i < n; i++) run->ds.order[i] = i; // (shuffled before the first document)
    run->log = csv_open(a->log_path, a->out,
                        "step,loss,lr,grad_norm,tokens,tok_per_s,test_acc,judge_auroc_habit,judge_auroc_slip\n");
    if (saved) {
        if (a->init) { gpt_free(&run->model); tok_free(&run->tc.tok); } // the state has them
        pretrain_restore(saved, run);
        state_close(saved);
        if (run->prog.step > a->steps) fprintf(stderr, "%s: the run is already complete\n", run->state_path);
        else fprintf(stderr, "resuming %s at step %d of %d\n", run->state_path, run->prog.step, a->steps);
    } else if (!a->init) {
        pretrain_init_model(run);
    }
    fprintf(stderr, "model: %d layers, %d heads, %d channels, context %d, vocab %d: %zu parameters\n", a->layers,
            a->heads, a->channels, a->seq, run->model.config.vocab_size, run->model.num_parameters);
    require_prompts_fit(&run->test, a->eval_n, &run->tc, a->seq, 1);
    if (a->batch < g_ranks) die("--batch %d: fewer rows than the %d ranks", a->batch, g_ranks);
    ranks_agree_at_start(run->flags, &run->train, &run->test, &run->model, &run->tc.tok);
    kvcache_init(&run->kv, run->model.config, 128, run->model.config.max_seq_len);
    PretrainBatch *pb = &run->pb;
    pb->rows = malloc((size_t)B * (T + 1) * sizeof(int)); pb->counted = malloc((size_t)B * (T + 1) * sizeof(int));
    pb->inputs = malloc((size_t)B * T * sizeof(int)); pb->targets = malloc((size_t)B * T * sizeof(int));
    pb->c = malloc((size_t)B * T * sizeof(float));
}

// greedy test accuracy and the judge's AUROC, printed with one example; acc gets the CSV columns
static void pretrain_evaluate(PretrainRun *run, int step, char *acc, size_t cap) {
    char *sample = NULL;
    ranks_agree_on_weights(&run->model, step);
    int n_eval = run->a.eval_n < run->test.n ? run->a.eval_n : run->test.n;
    run->prog.last_acc = greedy_accuracy(&run->model, &run->tc, &run->kv, &run->test, n_eval, run->a.max_new, &sample);
    double auc_habit, auc_slip;
    judge_auroc(&run->model, &run->tc, &run->test, n_eval, &auc_habit, &auc_slip);
    snprintf(acc, cap, "%.4f,%.4f,%.4f", run->prog.last_acc, auc_habit, auc_slip);
    fprintf(stderr, "\nstep %d: greedy test accuracy %.1f%% (%d problems); as a judge, AUROC correct vs habit %.3f,"
            " vs slip %.3f; for example:\n%s\n%s\n", step, 100 * run->prog.last_acc, n_eval, auc_habit, auc_slip,
            run->test.question[0], sample);
    free(sample);
}

static void pretrain_close(PretrainRun *run) {
    own_samples_free(&run->own);
    free(run->flags);
    csv_close(run->log);
    kvcache_free(&run->kv);
    free(run->pb.rows); free(run->pb.counted); free(run->pb.inputs); free(run->pb.targets); free(run->pb.c);
    free(run->ds.order);
    tok_ids_free(&run->ds.doc.ids); free(run->ds.doc.count);
    tok_ids_free(&run->ds.filler.ids); free(run->ds.filler.count);
    tok_free(&run->tc.tok);
    gpt_free(&run->model);
    free_problems(&run->train); free_problems(&run->test);
}

// Returns the base's greedy test accuracy of the last evaluation (eval_n problems).
static float run_pretrain(const PretrainArgs *args) {
    PretrainRun run;
    pretrain_open(&run, args);
    const PretrainArgs *a = &run.a;
    PretrainProgress *prog = &run.prog;
    double t_start = now_seconds();
    int first_step = prog->step, judge_from = a->steps - (int)(a->judge_frac * a->steps + 0.5f);
    for (; prog->step <= a->steps; prog->step++) {
        int step = prog->step;
        char row[256], extra[160], acc[64] = ",,";
        // (a random model, at step 0 without --init, is not worth a greedy pass)
        if ((step % a->eval_every == 0 && (step > 0 || a->init)) || step == a->steps) {
            pretrain_evaluate(&run, step, acc, sizeof(acc));
            if (step == a->steps) {
                snprintf(row, sizeof(row), "%d,,,,%ld,,%s\n", step, prog->tokens_seen, acc);
                csv_row(run.log, row);
                break;
            }
        }
        double ts = now_seconds();
        int judging = step >= judge_from;
        if (judging && a->judge_mix.own > 0 && !run.own.n) { // the judging phase starts: its own samples
            own_samples_draw(&run.own, &run.model, &run.tc, &run.kv, &run.train, OWN_SAMPLES, a->max_new,
                             (uint64_t)a->seed + 2);
            int right = 0;
            for (int i = 0; i < run.own.n; i++) right += run.own.right[i];
            fprintf(stderr, "\njudging phase: %d own samples on train questions, %.1f%% right, drawn in %.1f s\n",
                    run.own.n, 100.0 * right / run.own.n, now_seconds() - ts);
        }
        PretrainStats st = pretrain_step(a, &run.model, &run.tc, &run.train, &run.ds, judging ? a->judge_mix : a->mix,
                                         &run.own, &run.pb, step);
        prog->bad_in_row = st.applied ? 0 : prog->bad_in_row + 1;
        prog->train_time += now_seconds() - ts;
        prog->tokens_seen += (long)a->batch * a->seq;
        snprintf(row, sizeof(row), "%d,%.5f,%.3g,%.4f,%ld,%.0f,%s\n", step, st.loss, st.lr, st.grad_norm,
                 prog->tokens_seen, prog->tokens_seen / prog->train_time, acc);
        csv_row(run.log, row);
        if (!st.applied) fprintf(stderr, "\nstep %d: non-finite %s, update skipped (%d in a row)\n", step,
                                 isfinite(st.loss) ? "gradient" : "loss", prog->bad_in_row);
        snprintf(extra, sizeof(extra), "loss %.4f  %.0f tok/s  test %.1f%%", st.loss,
                 prog->tokens_seen / prog->train_time, 100 * prog->last_acc);
        progress("pretrain", step + 1, a->steps, first_step + 1, t_start, extra);
        // the latest model is on disk before every evaluation, and when stopping
        int next = step + 1;
        stop_sync();
        if (next % a->eval_every == 0 || next == a->steps || stop_requested(prog->bad_in_row)) {
            PretrainProgress at = *prog;
            at.step = next;
            pretrain_save(&run, at);
        }
        stop_if_asked(prog->bad_in_row, step, next, a->out, run.state_path);
    }
    prog->step = a->steps + 1; // complete
    pretrain_save(&run, *prog);
    fprintf(stderr, "wrote %s and %s (%.1f min)\n", a->out, csv_path(run.log), (now_seconds() - t_start) / 60);
    ranks_report();
    float acc = prog->last_acc;
    pretrain_close(&run);
    return acc;
}

// ---- RL -------------------------------------------------------------------------

// what the default run draws and tabulates
typedef struct {
    int steps, n_test;               // steps run (fewer when early stopping ended the run)
    TestAccuracy *test; int *test_step; // test accuracy at evaluated steps (step 0 = the start)
    float *reward, *length;          // (steps + 1) per-step reward mean and completion length
    int best;                        // with --val-n: the evaluation whose policy --out keeps, else -1
    double seconds;
} RLResult;

// early stopping (--val-n): the validation accuracy that picked --out's policy
typedef struct { float acc; int step, since; } BestSoFar;

typedef struct {
    RLArgs *a;
    GPT policy, ref;
    TextCodec tc;
    KVCache kv;
    Learner L;
    Batch batch;
    Problems rl, test, val; // val: the last --val-n problems of rl.jsonl, held out (early stopping)
    BestSoFar best;
    CsvLog *log;
    RLResult *res;
    int step, bad_in_row; // the next step to run; consecutive skipped (non-finite) steps
    double seconds;       // time spent in earlier sessions
    char state_path[1024], *flags;
} RLRun;

static void rl_save(const RLRun *run, int next, double seconds);
static void rl_restore(const RunState *s, RLRun *run);

// the policy, its frozen copy, and the evaluators (a checkpoint evaluator is loaded here)
static void rl_load_models(RLRun *run) {
    RLArgs *a = run->a;
    load_model_or_die(&run->policy, &run->tc, a->init,
                      "checkpoint carries no tokenizer (train it with `train_rlme pretrain`)");
    TextCodec unused;
    load_checkpoint_or_die(&run->ref, &unused, a->init);
    tok_free(&unused.tok);
    for (int j = 0; j < a->n_eval && run->L.rlme; j++) {
        Evaluator *e = &a->ev[j];
        if (!strcmp(e->path, "frozen-self")) e->model = &run->ref;
        else if (!strcmp(e->path, "live-self")) e->model = NULL;
        else {
            load_model_or_die(&e->own, &e->codec, e->path, "evaluator checkpoint carries no tokenizer");
            e->foreign = !same_tokenizer(&e->codec.tok, &run->tc.tok);
            e->model = &e->own;
        }
    }
}

// The context the evaluator needs after a completion: the longest meta-question suffix,
// with the longest reference answer of the rl split when RLME-GT may show one.
static int evaluator_room(const RLArgs *a, TextCodec *tc, const Problems *rl) {
    int room = 0, longest = 0;
    for (int i = 0; a->gt_frac > 0 && i < rl->n; i++) if (strlen(rl->gold[i]) > strlen(rl->gold[longest])) longest = i;
    for (int k = 0; k < a->n_meta; k++) {
        TokIds suffix = {0};
        encode_meta_suffix(tc, a->meta[k].question, a->gt_frac > 0 ? rl->gold[longest] : NULL, &suffix);
        if ((int)suffix.n > room) room = (int)suffix.n;
        tok_ids_free(&suffix);
    }
    return room;
}

// Test accuracy after `step` (at step 0 the base's, when --init's is not known yet), for
// the log (acc: its four CSV columns) and the figure; with --val-n also the validation
// accuracy (val: its column), and a better one makes this policy the one --out keeps.
static void rl_evaluate(RLRun *run, int step, char *acc, size_t cap, char *val, size_t vcap) {
    const RLArgs *a = run->a;
    RLResult *res = run->res;
    TestAccuracy t = step == 0 ? a->base : (TestAccuracy){NAN, NAN, NAN, NAN};
    ranks_agree_on_weights(&run->policy, step);
    int n_test = a->eval_n < run->test.n ? a->eval_n : run->test.n;
    uint64_t seed = (uint64_t)a->seed << 32 | (uint32_t)step; // the sampled accuracy's draws, for every resume alike
    if (isnan(t.greedy)) t.greedy = greedy_accuracy(&run->policy, &run->tc, &run->kv, &run->test, n_test, a->max_new,
                                                    NULL);
    t.greedy_se = sqrtf(t.greedy * (1.0f - t.greedy) / n_test);
    if (a->eval_k && isnan(t.sampled))
        sampled_accuracy(&run->policy, &run->tc, &run->kv, &run->test, n_test, a->eval_k, a->temperature, seed,
                         a->max_new, &t.sampled, &t.sampled_se);
    res->test[res->n_test] = t; res->test_step[res->n_test++] = step;
    int n = snprintf(acc, cap, "%.4f,%.4f,", t.greedy, t.greedy_se);
    if (a->eval_k) snprintf(acc + n, cap - n, "%.4f,%.4f", t.sampled, t.sampled_se);
    else snprintf(acc + n, cap - n, ",");
    val[0] = '\0';
    if (!a->val_n) return;
    float v = greedy_accuracy(&run->policy, &run->tc, &run->kv, &run->val, a->val_n, a->max_new, NULL);
    snprintf(val, vcap, "%.4f", v);
    run->best.since++;
    if (v > run->best.acc) {
        run->best = (BestSoFar){.acc = v, .step = step};
        save_model_or_die(&run->policy, &run->tc, a->out, a->save);
    }
    res->best = -1;
    for (int i = 0; i < res->n_test; i++) if (res->test_step[i] == run->best.step) res->best = i;
}

static void rl_open(RLRun *run, RLArgs *a, RLResult *res) {
    memset(run, 0, sizeof(*run));
    run->a = a; run->res = res; run->step = 1;
    set_threads(a->threads);
    catch_stop_signals();
    run->L.rlme = !strcmp(a->reward, "rlme");
    rl_load_models(run);
    // the rl split's questions drive rollouts; its labels only reach verify_labels and diagnose
    ensure_synth_data(a->data_dir);
    int maxT = run->policy.config.max_seq_len, P = a->prompts, G = a->group, n = P * G;
    load_split_or_die(&run->rl, a->data_dir, rl_split(a->data_dir), 0);
    load_split_or_die(&run->test, a->data_dir, "test", 0);
    if (a->val_n >= run->rl.n) die("--val-n %d leaves no prompts of the %d in %s", a->val_n, run->rl.n, run->rl.path);
    split_tail(&run->rl, a->val_n, &run->val);
    if (run->L.rlme) run->L.n_suffix = evaluator_room(a, &run->tc, &run->rl);
    int longest = require_prompts_fit(&run->rl, run->rl.n, &run->tc, maxT, run->L.n_suffix + 1);
    int longest_test = require_prompts_fit(&run->test, a->eval_n, &run->tc, maxT, 1);
    int longest_val = require_prompts_fit(&run->val, run->val.n, &run->tc, maxT, 1);
    if (longest_test > longest) longest = longest_test;
    if (longest_val > longest) longest = longest_val;
    run->flags = rl_flags(a);
    path_with_ext(a->out, ".state", run->state_path, sizeof(run->state_path));
    RunState *saved = state_resume(run->state_path, a->resume, run->flags);
    if (P < g_ranks) die("--prompts %d: fewer prompts than the %d ranks", P, g_ranks);
    ranks_agree_at_start(run->flags, &run->rl, &run->test, &run->policy, &run->tc.tok);
    for (int j = 0; j < a->n_eval && g_ranks > 1; j++)
        if (a->ev[j].model == &a->ev[j].own)
            dist_agree(a->ev[j].path, "start every rank with the same files", weights_hash(&a->ev[j].own));
    kvcache_for(&run->kv, run->policy.config, n > 128 ? n : 128, longest, a->max_new);
    Learner *L = &run->L;
    L->policy = &run->policy; L->ref = &run->ref; L->tc = &run->tc; L->kv = &run->kv; L->rl = &run->rl;
    L->opt = (AdamWConfig){.lr = a->lr, .beta1 = 0.9f, .beta2 = 0.99f, .eps = 1e-8f, .weight_decay = a->weight_decay};
    L->rng = rng_seed((uint64_t)a->seed); L->order = malloc(run->rl.n * sizeof(int)); L->next = run->rl.n;
    for (int i = 0; i < run->rl.n; i++) L->order[i] = i;
    Batch *batch = &run->batch;
    rollout_alloc(&batch->r, n, a->max_new);
    dist_slice(P, g_rank, &batch->lo, &batch->hi);
    batch->lo *= G, batch->hi *= G;
    batch->prompt_of = malloc(n * sizeof(int)); batch->question = malloc(n * sizeof(char *));
    batch->rng = malloc(n * sizeof(uint64_t));
    batch->reward = malloc(n * sizeof(float)); batch->adv = malloc(n * sizeof(float));
    batch->p_correct = malloc(n * sizeof(float));
    batch->ref_logp = malloc((size_t)n * a->max_new * sizeof(float)); batch->order = malloc(n * sizeof(int));
    run->log = csv_open(a->log_path, a->out, "step,reward_mean,reward_std,frac_reward_zero_std,completion_len_mean,"
                        "completion_clipped_ratio,entropy,cispo_clip_frac,kl,grad_norm,sec_rollout,sec_reward,"
                        "sec_update,sample_acc,test_acc,test_acc_se,test_acc_sampled,test_acc_sampled_se,auroc,"
                        "auroc_within,reward_gap,val_acc\n");
    int max_tests = a->steps + 1; // every step could be an evaluated one
    *res = (RLResult){.steps = a->steps, .test = malloc(max_tests * sizeof(TestAccuracy)),
                      .test_step = malloc(max_tests * sizeof(int)), .reward = calloc(a->steps + 1, sizeof(float)),
                      .length = calloc(a->steps + 1, sizeof(float)), .best = -1};
    run->best = (BestSoFar){.acc = -1.0f};
    if (saved) {
        rl_restore(saved, run);
        state_close(saved);
        ranks_agree_on_weights(&run->policy, run->step - 1);
        if (run->step > a->steps) fprintf(stderr, "%s: the run is already complete\n", run->state_path);
        else fprintf(stderr, "resuming %s at step %d of %d\n", run->state_path, run->step, a->steps);
    } else {
        char acc[64], val[16], row[160];
        rl_evaluate(run, 0, acc, sizeof(acc), val, sizeof(val));
        snprintf(row, sizeof(row), "0,,,,,,,,,,,,,,%s,,,,%s\n", acc, val);
        csv_row(run->log, row);
        TestAccuracy b = res->test[0];
        fprintf(stderr, "%s: step 0 test accuracy greedy %.1f%% +- %.1f, sampled %.1f%% +- %.1f\n", a->reward,
                100 * b.greedy, 100 * b.greedy_se, 100 * b.sampled, 100 * b.sampled_se);
    }
}

// The step's CSV row (TRL's metric names; acc: the evaluation's, if any) and the progress
// line. Labels are read here, for the diagnostics only.
static void rl_log(RLRun *run, const char *fault, int step, const char *acc, const char *val, double t_start,
                   int first_step) {
    const RLArgs *a = run->a;
    const Batch *batch = &run->batch;
    const Rollout *r = &batch->r;
    RLResult *res = run->res;
    int n = r->n, P = a->prompts, G = a->group, zero_std = 0, clipped = 0;
    double rmean = 0.0, rvar = 0.0, len_mean = 0.0;
    for (int i = 0; i < n; i++) rmean += batch->reward[i];
    rmean /= n;
    for (int i = 0; i < n; i++) {
        rvar += (batch->reward[i] - rmean) * (batch->reward[i] - rmean);
        len_mean += r->out_len[i];
        clipped += r->out_len[i] == r->max_new && r->out[(size_t)i * r->max_new + r->max_new - 1] != run->tc.eot;
    }
    for (int p = 0; p < P; p++) {
        int same = 1;
        for (int g = 1; g < G; g++) same &= batch->reward[p * G + g] == batch->reward[p * G];
        zero_std += same;
    }
    Diagnostics d = {0};
    diagnose(&run->tc, &run->rl, batch, P, G, &d);
    char row[1024], diag[96] = ",,", extra[200];
    if (run->L.rlme) snprintf(diag, sizeof(diag), "%.4f,%.4f,%.4f", d.auroc, d.auroc_within, d.reward_gap);
    snprintf(row, sizeof(row), "%d,%.5f,%.5f,%.4f,%.2f,%.4f,%.4f,%.5f,%.6f,%.4f,%.2f,%.2f,%.2f,%.4f,%s,%s,%s\n",
             step, rmean, sqrt(rvar / n), (double)zero_std / P, len_mean / n, (double)clipped / n,
             batch->first.entropy, batch->last.clip_frac, batch->first.kl, batch->last.grad_norm, batch->sec_rollout,
             batch->sec_reward, batch->sec_update, d.acc, acc[0] ? acc : ",,,", diag, val);
    csv_row(run->log, row);
    res->reward[step] = (float)rmean;
    res->length[step] = (float)(len_mean / n);
    if (fault)
        fprintf(stderr, "\nstep %d: non-finite %s, update skipped (%d in a row)\n", step, fault, run->bad_in_row);
    snprintf(extra, sizeof(extra), "reward %.3f  sample acc %.0f%%  len %.0f  test %.1f%%", rmean, 100 * d.acc,
             len_mean / n, 100 * res->test[res->n_test - 1].greedy);
    progress(a->reward, step, a->steps, first_step, t_start, extra);
}

static void rl_close(RLRun *run) {
    RLArgs *a = run->a;
    Batch *batch = &run->batch;
    free(run->flags);
    csv_close(run->log);
    kvcache_free(&run->kv);
    rollout_free(&batch->r);
    free(batch->prompt_of); free(batch->question); free(batch->rng); free(batch->reward); free(batch->adv); free(batch->p_correct);
    free(batch->ref_logp); free(batch->order); free(run->L.order);
    for (int j = 0; j < a->n_eval; j++)
        if (a->ev[j].model == &a->ev[j].own) { gpt_free(&a->ev[j].own); tok_free(&a->ev[j].codec.tok); }
    free_problems(&run->rl); free_problems(&run->test); free_problems(&run->val);
    tok_free(&run->tc.tok);
    gpt_free(&run->policy); gpt_free(&run->ref);
}

static void run_rl(RLArgs *a, RLResult *res) {
    RLRun run;
    rl_open(&run, a, res);
    double t_start = now_seconds(); // this session's start (earlier sessions' time is in run.seconds)
    int first_step = run.step;
    for (; run.step <= a->steps; run.step++) {
        int step = run.step;
        const char *fault = rl_step(a, &run.L, &run.batch, step);
        run.bad_in_row = fault ? run.bad_in_row + 1 : 0;
        char acc[64] = "", val[16] = "";
        if (step % a->eval_every == 0 || step == a->steps) rl_evaluate(&run, step, acc, sizeof(acc), val, sizeof(val));
        rl_log(&run, fault, step, acc, val, t_start, first_step);
        // early stopping: this many evaluations without a better validation accuracy end the run
        int patience_out = acc[0] && a->patience && run.best.since >= a->patience;
        if (patience_out) res->steps = step;
        // policy and state are on disk after every evaluation, at the end, and when stopping
        stop_sync();
        if (acc[0] || stop_requested(run.bad_in_row))
            rl_save(&run, patience_out ? a->steps + 1 : step + 1, run.seconds + now_seconds() - t_start);
        stop_if_asked(run.bad_in_row, step, step + 1, a->out, run.state_path);
        if (patience_out) break;
    }
    // resumed when complete: --out is the last policy (with --val-n it already holds the best)
    if (first_step > a->steps && !a->val_n) save_model_or_die(&run.policy, &run.tc, a->out, a->save);
    res->seconds = run.seconds + (now_seconds() - t_start);
    if (a->val_n) {
        TestAccuracy b = res->test[res->best];
        fprintf(stderr, "early stopping: %s is the policy of step %d (of %d run), validation accuracy %.1f%%, "
                "test greedy %.1f%%, sampled %.1f%%\n", a->out, run.best.step, res->steps, 100 * run.best.acc,
                100 * b.greedy, 100 * b.sampled);
    }
    fprintf(stderr, "wrote %s and %s (%.1f min)\n", a->out, csv_path(run.log), res->seconds / 60);
    ranks_report();
    rl_close(&run);
}

static void rl_result_free(RLResult *res) {
    free(res->test); free(res->test_step); free(res->reward); free(res->length);
}

// ============================================================================
// plumbing: flags, files, logs, interruption, the run state, the figure
// ============================================================================


// ----------------------------------------------------------------------------
// the command line: each command's flags, once, in a table (name, value, default, kind,
// field, range, whether a resume must agree on it, help)

// ---- pretrain ----

#define PT(f) offsetof(PretrainArgs, f)
static const Flag PRETRAIN_FLAGS[] = {
    {"--data", "DIR", DEFAULT_DATA, F_STR, PT(data_dir), 0, 0, NOT_IN_STATE,
     "synthetic splits (data/synth is made when absent)"},
    {"--out", "FILE", "out/base.bin", F_STR, PT(out), 0, 0, NOT_IN_STATE,
     "checkpoint, with its tokenizer; DIR/ (or --init DIR):\na Hugging Face model directory, tokenizer.json included"},
    {"--out-dtype", "f32|bf16", "f32", F_STR, PT(out_dtype), 0, 0, NOT_IN_STATE, "the tensors' type in a model directory"},
    {"--init", "CKPT", NULL, F_STR, PT(init), 0, 0, HASH_IN_STATE,
     "continue from this checkpoint (its shape and tokenizer, a fresh\noptimizer), not from a random model"},
    {"--log", "CSV", NULL, F_STR, PT(log_path), 0, 0, NOT_IN_STATE, "per-step log (default: FILE with .csv)"},
    {"--steps", "N", "2400", F_INT, PT(steps), 1, 1e7, IN_STATE, "optimizer steps"},
    {"--batch", "B", "16", F_INT, PT(batch), 1, 4096, IN_STATE, "rows per step"},
    {"--seq", "T", "256", F_INT, PT(seq), 32, 4096, IN_STATE, "tokens per row: the model's context"},
    {"--layers", "L", "4", F_INT, PT(layers), 1, 64, IN_STATE, "transformer blocks"},
    {"--heads", "H", "4", F_INT, PT(heads), 1, 64, IN_STATE, "attention heads"},
    {"--channels", "C", "128", F_INT, PT(channels), 8, 4096, IN_STATE, "width"},
    {"--vocab", "N", "512", F_INT, PT(vocab), 300, 65536, IN_STATE, "BPE vocabulary, every digit its own token"},
    {"--arch", "gpt2|qwen3|llama", "gpt2", F_STR, PT(arch), 0, 0, IN_STATE,
     "the block: GPT-2's, or the Llama family's (RMSNorm, rotary positions,\n"
     "H/2 key/value heads, a SwiGLU of width 3C; qwen3: with QK-norm)"},
    {"--template", "auto|plain|chat", "auto", F_STR, PT(prompt_template), 0, 0, IN_STATE, TEMPLATE_HELP},
    {"--tokenizer", "FILE", NULL, F_STR, PT(tokenizer), 0, 0, HASH_IN_STATE,
     "use this tokenizer (ours, or a Hugging Face tokenizer.json) instead of\ntraining one; --vocab is then its size"},
    {"--lr", "LR", "6e-3", F_FLOAT, PT(lr), 0, 1, IN_STATE, "peak learning rate (linear warmup, then cosine decay)"},
    {"--min-lr-frac", "F", "0.1", F_FLOAT, PT(min_lr_frac), 0, 1, IN_STATE, "where the decay ends, over the peak"},
    {"--warmup", "N", "100", F_INT, PT(warmup), 0, 1e6, IN_STATE, "warmup steps"},
    {"--wd", "W", "0.1", F_FLOAT, PT(weight_decay), 0, 10, IN_STATE, "AdamW weight decay on matrices"},
    {"--habits", "type|phrasing", "type", F_STR, PT(habits), 0, 0, IN_STATE,
     "where a solution's P(habit) comes from: its event's type (0.65 or 0.40),\n"
     "or the question's wording (--habit-p for some sentences, 1 - it for others)"},
    {"--habit-p", "P", "0.8", F_FLOAT, PT(habit_p), 0.5, 1, IN_STATE,
     "with --habits phrasing: P(habit) of an event type's heavy phrasings"},
    {"--drill", "F", "0.25", F_FLOAT, PT(mix.drill), 0, 1, IN_STATE, "the share of arithmetic drill documents"},
    {"--meta", "F", "0.41216215", F_FLOAT, PT(mix.meta), 0, 1, IN_STATE,
     "the share of meta-evaluation documents (default 0.412: 1.22 per solution)"},
    {"--meta-logic", "F", "0.25", F_FLOAT, PT(mix.meta_logic), 0, 1, IN_STATE,
     "of those, the share asking\n\"" META_LOGIC "\""},
    {"--meta-concise", "F", "0.15", F_FLOAT, PT(mix.meta_concise), 0, 1, IN_STATE,
     "... and \"" META_CONCISE "\"; the rest ask\n\"" META_CORRECT "\""},
    {"--meta-ref", "F", "0", F_FLOAT, PT(mix.ref), 0, 1, IN_STATE,
     "the share of \"" META_CORRECT "\" documents that show the reference\nanswer (a judge for rl --gt-frac)"},
    {"--verdict-weight", "W", "5", F_FLOAT, PT(verdict_weight), 0, 1e4, IN_STATE,
     "loss weight of a verdict token relative to a solution token"},
    {"--judge-frac", "F", "0.12", F_FLOAT, PT(judge_frac), 0, 1, IN_STATE,
     "a judging phase: the last F of the steps draw mostly meta-evaluation\ndocuments, so that the judge sharpens "
     "while the writing holds"},
    {"--judge-meta", "F", "0.7", F_FLOAT, PT(judge_mix.meta), 0, 0.85, IN_STATE,
     "the judging phase's share of meta-evaluation documents"},
    {"--own-samples", "F", "0.5", F_FLOAT, PT(judge_mix.own), 0, 1, IN_STATE,
     "of those asking \"" META_CORRECT "\", the share judging the model's\nown samples on train questions (the GSM8K "
     "verifier recipe)"},
    {"--eval-every", "N", "800", F_INT, PT(eval_every), 1, 1e7, IN_STATE, "greedy test accuracy every N steps"},
    {"--eval-n", "N", "500", F_INT, PT(eval_n), 1, 1e6, IN_STATE, "test problems per evaluation"},
    {"--seed", "S", "1", F_INT, PT(seed), 0, 0x7fffffff, IN_STATE, "seed of the tokenizer, weights and documents"},
    {"--threads", "N", NULL, F_INT, PT(threads), 1, 1024, NOT_IN_STATE, "OpenMP threads (default: all, shared among the ranks on one machine)"},
    {"--resume", NULL, NULL, F_SWITCH, PT(resume), 0, 0, NOT_IN_STATE,
     "continue the run saved in FILE's .state (written at every evaluation\nand on Ctrl-C), bit-identical to an "
     "uninterrupted run"},
    {0}};

static void parse_pretrain_args(PretrainArgs *a, int argc, char **argv, int first) {
    // the judging phase's mixture besides --judge-meta and --own-samples
    *a = (PretrainArgs){.max_new = 128, .judge_mix = {.drill = 0.15f, .meta_logic = 0.1f, .meta_concise = 0.1f}};
    parse_flags(PRETRAIN_FLAGS, a, argc, argv, first, "usage: train_rlme pretrain [options]\n"
                "Trains the base model on the synthetic train split: solutions in the base's habits, judgements of\n"
                "candidate solutions (meta-evaluation documents) and arithmetic drill. Reads only train labels.\n",
                "flag");
    if (a->channels % a->heads) die("--heads %d does not divide --channels %d", a->heads, a->channels);
    if (strcmp(a->arch, "gpt2") && strcmp(a->arch, "qwen3") && strcmp(a->arch, "llama"))
        die("--arch must be gpt2, qwen3 or llama, not '%s'", a->arch);
    if (a->init && a->tokenizer) die("--tokenizer is for a new model: --init %s has its own", a->init);
    set_template_or_die(a->prompt_template);
    if (a->mix.drill + a->mix.meta > 1.0f) die("--drill + --meta must be at most 1");
    if (a->mix.meta_logic + a->mix.meta_concise > 1.0f) die("--meta-logic + --meta-concise must be at most 1");
    a->mix.solution = 1.0f - a->mix.drill - a->mix.meta;
    a->judge_mix.solution = 1.0f - a->judge_mix.drill - a->judge_mix.meta;
    a->judge_mix.ref = a->mix.ref;
    if (strcmp(a->habits, "type") && strcmp(a->habits, "phrasing")) die("--habits must be type or phrasing, not '%s'", a->habits);
    a->mix.habits = a->judge_mix.habits = (SynthHabits){strcmp(a->habits, "type") != 0, a->habit_p};
    a->save = save_as_or_die(&a->out, a->out_buf, sizeof(a->out_buf), a->init, a->out_dtype);
}

static int cmd_pretrain(int argc, char **argv) {
    PretrainArgs a;
    parse_pretrain_args(&a, argc, argv, 2);
    run_pretrain(&a);
    return 0;
}

// ---- rl ----

// RLME's default KL weight. Without a KL term the policy hacks its frozen evaluator
// within 20 steps here; 0.5 was the best of 0, 0.2, 0.3, 0.5, 0.7 and 1 (dev/kl_sweep.sh).
#define RLME_KL 0.5f

#define RL(f) offsetof(RLArgs, f)
static const Flag RL_FLAGS[] = {
    {"--reward", "rlme|rlvr", NULL, F_STR, RL(reward), 0, 0, IN_STATE,
     "rlme: the evaluators' belief that the answer is right (reads no label);\nrlvr: 1 if the final number is right"},
    {"--init", "CKPT", NULL, F_STR, RL(init), 0, 0, HASH_IN_STATE, "the policy to start from"},
    {"--template", "auto|plain|chat", "auto", F_STR, RL(prompt_template), 0, 0, IN_STATE, TEMPLATE_HELP},
    {"--shots", "FILE", NULL, F_STR, RL(shots), 0, 0, HASH_IN_STATE, SHOTS_HELP},
    {"--out", "CKPT", NULL, F_STR, RL(out), 0, 0, NOT_IN_STATE,
     "the final policy (default out/<reward>.bin); DIR/ (or --init DIR):\na Hugging Face model directory"},
    {"--out-dtype", "f32|bf16", "f32", F_STR, RL(out_dtype), 0, 0, NOT_IN_STATE, "the tensors' type in a model directory"},
    {"--log", "CSV", NULL, F_STR, RL(log_path), 0, 0, NOT_IN_STATE, "one row per step (default: --out with .csv)"},
    {"--data", "DIR", DEFAULT_DATA, F_STR, RL(data_dir), 0, 0, NOT_IN_STATE,
     "rl.jsonl (else train.jsonl, as in GSM8K): the prompts; test.jsonl: evaluation"},
    {"--steps", "N", "30", F_INT, RL(steps), 0, 1e7, NOT_IN_STATE, "RL steps"},
    {"--prompts", "P", "16", F_INT, RL(prompts), 1, 4096, IN_STATE, "prompts per step"},
    {"--group", "G", "8", F_INT, RL(group), 1, 1024, IN_STATE, "completions per prompt"},
    {"--max-new", "N", "128", F_INT, RL(max_new), 1, 65536, IN_STATE, "completion tokens at most"},
    {"--temperature", "T", "1", F_FLOAT, RL(temperature), 1e-3, 100, IN_STATE, "sampling temperature"},
    {"--lr", "LR", "5e-5", F_FLOAT, RL(lr), 0, 1, IN_STATE, "AdamW learning rate"},
    {"--lr-decay-steps", "N", "0", F_INT, RL(lr_decay_steps), 0, 1e7, IN_STATE,
     "cosine decay of the lr over the first N steps, then held at\nlr * --min-lr-frac (0: a constant lr)"},
    {"--min-lr-frac", "F", "0.1", F_FLOAT, RL(min_lr_frac), 0, 1, IN_STATE, "where --lr-decay-steps ends, over --lr"},
    {"--wd", "W", "0", F_FLOAT, RL(weight_decay), 0, 10, IN_STATE, "AdamW weight decay on matrices"},
    {"--updates", "U", "2", F_INT, RL(updates), 1, 64, IN_STATE,
     "optimizer steps per rollout batch (after the first, CISPO's ratio\nweights the now off-policy batch)"},
    {"--eps-high", "E", "5", F_FLOAT, RL(eps_high), 0, 1e9, IN_STATE,
     "CISPO's upper clip as an OFFSET from 1, as in the paper, MiniMax-M1\nand TRL's epsilon_high: w = min(ratio, 1 + "
     "E)"},
    {"--eps-low", "E", "1e9", F_FLOAT, RL(eps_low), 0, 1e9, IN_STATE, "the lower clip offset: w >= 1 - E"},
    {"--kl", "BETA", NULL, F_FLOAT, RL(kl_beta), 0, 1e6, IN_STATE,
     "k3 KL penalty to the initial policy (default 0.5 for rlme, 0 for rlvr:\nat this small scale RLME hacks its "
     "evaluator without it)"},
    {"--clip-norm", "C", "1", F_FLOAT, RL(clip_norm), 0, 1e9, IN_STATE, "global gradient-norm clip"},
    {"--scale-rewards", "group|none", "group", F_STR, RL(scale_rewards), 0, 0, IN_STATE,
     "advantages divided by the group's reward std (TRL's scale_rewards)\nor not (Dr. GRPO)"},
    {"--evaluator", "E[:W]", NULL, F_LIST, RL(evaluator_flags), 0, 0, NOT_IN_STATE,
     "frozen-self (the default: a copy of --init), live-self (the policy\njudges itself) or a checkpoint, one with "
     "another tokenizer too;\nrepeat for an ensemble, W its weight (default 1)"},
    {"--meta", "\"Q\"[=W]", NULL, F_LIST, RL(meta_flags), 0, 0, NOT_IN_STATE,
     "a meta-question and its weight, repeatable (default \"" META_CORRECT "\"=1)"},
    {"--aggregate", "mean|min", "mean", F_STR, RL(aggregate), 0, 0, IN_STATE,
     "mean: r = sum_j v_j sum_k w_k log p_jk over evaluators j and\nmeta-questions k; min: the worst case, r = min_jk "
     "log p_jk (no weights)"},
    {"--raw-prob", NULL, NULL, F_SWITCH, RL(raw_prob), 0, 0, IN_STATE,
     "reward log P(Yes) instead of log P(Yes)/(P(Yes)+P(No))"},
    {"--gt-frac", "F", "0", F_FLOAT, RL(gt_frac), 0, 1, IN_STATE,
     "RLME-GT, READS LABELS: for this share of the samples the evaluator's\ntemplate shows the true answer "
     "(0.1: RLME-10GT, 0.01: RLME-1GT); the\nbase must have been pretrained with --meta-ref"},
    {"--eval-every", "E", "10", F_INT, RL(eval_every), 1, 1e7, IN_STATE, "test accuracy every E steps"},
    {"--eval-n", "N", "500", F_INT, RL(eval_n), 1, 1e6, IN_STATE, "test problems per evaluation"},
    {"--eval-k", "K", "4", F_INT, RL(eval_k), 0, 64, IN_STATE,
     "samples per test problem at --temperature for the sampled accuracy\n(0: greedy accuracy only)"},
    {"--val-n", "N", "0", F_INT, RL(val_n), 0, 1e6, IN_STATE,
     "early stopping, READS LABELS: the last N problems of rl.jsonl are a\nvalidation split (no longer prompts); "
     "at each evaluation its greedy\naccuracy picks the policy --out keeps (0: off)"},
    {"--patience", "K", "0", F_INT, RL(patience), 0, 1e6, IN_STATE,
     "with --val-n: stop after K evaluations without a better validation\naccuracy (0: run every step)"},
    {"--micro-batch", "M", "32", F_INT, RL(micro_batch), 1, 4096, IN_STATE, "sequences per forward (memory only)"},
    {"--seed", "S", "1", F_INT, RL(seed), 0, 0x7fffffff, IN_STATE, "seed of the prompt order and the sampling"},
    {"--threads", "N", NULL, F_INT, RL(threads), 1, 1024, NOT_IN_STATE, "OpenMP threads (default: all, shared among the ranks on one machine)"},
    {"--resume", NULL, NULL, F_SWITCH, RL(resume), 0, 0, NOT_IN_STATE,
     "continue the run saved in --out's .state, to this --steps; ends\nbit-identical to an uninterrupted run"},
    {0}};

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

// the table's defaults (the default run's RLME with --reward rlme, its RLVR with rlvr)
static void rl_defaults(RLArgs *a) {
    *a = (RLArgs){.kl_beta = -1.0f, .base = {NAN, NAN, NAN, NAN}};
    flags_defaults(RL_FLAGS, a);
}

static void parse_rl_args(RLArgs *a, int argc, char **argv, int first) {
    rl_defaults(a);
    parse_flags(RL_FLAGS, a, argc, argv, first, "usage: train_rlme rl --init CKPT --reward rlme|rlvr [options]\n"
                "GRPO-style RL with CISPO updates from a checkpoint; the defaults are the default run's.\n", "flag");
    set_template_or_die(a->prompt_template);
    set_shots_or_die(a->shots);
    for (int j = 0; j < a->evaluator_flags.n; j++, a->n_eval++)
        a->ev[j].path = split_weight("--evaluator", a->evaluator_flags.v[j], ':', &a->ev[j].weight);
    for (int k = 0; k < a->meta_flags.n; k++, a->n_meta++) {
        a->meta[k].question = split_weight("--meta", a->meta_flags.v[k], '=', &a->meta[k].weight);
        if (!a->meta[k].question[0]) die("--meta needs a question");
        if (strchr(a->meta[k].question, '\n')) die("--meta: the question must be a single line");
    }
    if (!a->reward) die("--reward rlme|rlvr is required (see: train_rlme rl --help)");
    if (strcmp(a->reward, "rlme") && strcmp(a->reward, "rlvr"))
        die("--reward must be rlme or rlvr, got '%s'", a->reward);
    if (!a->init) die("--init CKPT is required");
    if (strcmp(a->scale_rewards, "group") && strcmp(a->scale_rewards, "none"))
        die("--scale-rewards must be group or none, got '%s'", a->scale_rewards);
    if (strcmp(a->aggregate, "mean") && strcmp(a->aggregate, "min"))
        die("--aggregate must be mean or min, got '%s'", a->aggregate);
    int weighted = 0;
    for (int j = 0; j < a->n_eval; j++) weighted |= a->ev[j].weight != 1.0f;
    for (int k = 0; k < a->n_meta; k++) weighted |= a->meta[k].weight != 1.0f;
    if (!strcmp(a->aggregate, "min") && weighted) die("--aggregate min takes no weights (it is min_jk log p_jk)");
    if (!strcmp(a->reward, "rlvr") && (a->n_eval || a->n_meta || a->raw_prob || a->gt_frac > 0 ||
                                       strcmp(a->aggregate, "mean")))
        die("--evaluator, --meta, --aggregate, --raw-prob and --gt-frac shape the RLME reward; --reward rlvr reads the "
            "label instead");
    if (a->patience && !a->val_n) die("--patience needs a validation split (--val-n N)");
    if ((long)a->prompts * a->group > 16384)
        die("--prompts x --group is %ld sequences a step, at most 16384", (long)a->prompts * a->group);
    if (a->kl_beta < 0) a->kl_beta = !strcmp(a->reward, "rlme") ? RLME_KL : 0.0f;
    if (a->n_eval == 0) a->ev[a->n_eval++] = (Evaluator){.path = strdup("frozen-self"), .weight = 1.0f};
    if (a->n_meta == 0) a->meta[a->n_meta++] = (MetaQuestion){.question = strdup(META_CORRECT), .weight = 1.0f};
    if (!a->out) {
        snprintf(a->out_buf, sizeof(a->out_buf), hf_is_dir(a->init) ? "out/%s/" : "out/%s.bin", a->reward);
        a->out = a->out_buf;
    }
    a->save = save_as_or_die(&a->out, a->out_buf, sizeof(a->out_buf), a->init, a->out_dtype);
}

// the evaluator paths and meta-questions parse_rl_args copied
static void rl_args_free(RLArgs *a) {
    for (int j = 0; j < a->n_eval; j++) free((char *)a->ev[j].path);
    for (int k = 0; k < a->n_meta; k++) free((char *)a->meta[k].question);
}

static int cmd_rl(int argc, char **argv) {
    RLArgs a;
    parse_rl_args(&a, argc, argv, 2);
    RLResult res;
    run_rl(&a, &res);
    rl_args_free(&a);
    rl_result_free(&res);
    return 0;
}

// ---- the default run: pretrain (once), then RLME and RLVR from the same base ----

typedef struct { int quick, threads, seed; const char *out, *base; } DefaultArgs;
#define DF(f) offsetof(DefaultArgs, f)
static const Flag DEFAULT_FLAGS[] = {
    {"--quick", NULL, NULL, F_SWITCH, DF(quick), 0, 0, 0, "the same at toy size, in about a minute (CI's smoke test)"},
    {"--out", "DIR", NULL, F_STR, DF(out), 0, 0, 0, "output directory (default out, or out-quick with --quick)"},
    {"--seed", "S", "1", F_INT, DF(seed), 0, 0x7fffffff, 0, "seed of pretraining and of both RL runs"},
    {"--base", "CKPT", NULL, F_STR, DF(base), 0, 0, 0, "no pretraining: RL from this base (dev/seeds.sh shares one)"},
    {"--threads", "N", NULL, F_INT, DF(threads), 1, 1024, 0, "OpenMP threads (default: all, shared among the ranks on one machine)"},
    {0}};

static const char *MAIN_HELP =
    "usage: train_rlme [command] [options]   (train_rlme <command> --help for each)\n"
    "  (none)    pretrain a base, then RLME and RLVR from it, and draw the curves\n"
    "  pretrain  train the base model (solutions, meta-evaluations, arithmetic drill)\n"
    "  rl        RL from a checkpoint with the RLME or RLVR reward (GRPO + CISPO)\n"
    "  eval      greedy accuracy of a checkpoint on a jsonl split\n"
    "  judge     the evaluator's p(Yes) for one question, answer and meta-question\n"
    "  score     log-probs of a token sequence under a checkpoint\n"
    "  sample    generate from a checkpoint (batched KV-cache decoding)\n"
    "  bench     time a training step and batched decoding on random data\n"
    "  convert   write a checkpoint or model directory as a Hugging Face model directory\n\n"
    "With no command: the paper's Fig. 2 at small scale. Pretrains a base, runs RLME (frozen-self\n"
    "evaluator, no labels) and RLVR (labels) from it, and writes DIR/{base,rlme,rlvr}.{bin,csv} and\n"
    "DIR/curves.svg. Run again after Ctrl-C, it continues where it stopped (delete DIR to start over).\n";

static int pretrain_complete(const char *base, int steps, int *have_state);
static void write_curves_svg(const char *path, const RLResult *rlme, const RLResult *rlvr);

// one of the default run's RL runs from `base`, written to DIR/<reward>.{bin,csv}
static void default_rl(const DefaultArgs *d, const char *dir, const char *base, int k, TestAccuracy base_acc,
                       int resume, RLResult *res) {
    const char *reward = k == 0 ? "rlme" : "rlvr";
    char *argv[] = {"rl", "--reward", (char *)reward, "--init", (char *)base};
    char out[1024], log_path[1024], state[1024];
    RLArgs a;
    parse_rl_args(&a, 5, argv, 1);
    a.threads = d->threads; a.seed = d->seed; a.base = base_acc;
    if (d->quick) { // toy size: a large lr and no KL, so that a dozen steps visibly move the reward
        a.steps = 16; a.prompts = 8; a.group = 4; a.eval_every = 8; a.eval_n = 100; a.max_new = 96;
        a.lr = 3e-3f; a.kl_beta = 0.0f;
    }
    snprintf(out, sizeof(out), "%s/%s.bin", dir, reward);
    snprintf(log_path, sizeof(log_path), "%s/%s.csv", dir, reward);
    a.out = out; a.log_path = log_path;
    path_with_ext(out, ".state", state, sizeof(state));
    a.resume = resume && access(state, R_OK) == 0;
    run_rl(&a, res);
    rl_args_free(&a);
}

static int cmd_default(int argc, char **argv) {
    DefaultArgs d = {0};
    parse_flags(DEFAULT_FLAGS, &d, argc, argv, 1, MAIN_HELP, "flag or command");
    const char *dir = d.out ? d.out : d.quick ? "out-quick" : "out";
    double t0 = now_seconds();
    char base[1024], svg[1024];
    snprintf(base, sizeof(base), d.base ? "%s" : "%s/base.bin", d.base ? d.base : dir);
    char *pargv[] = {"pretrain", "--out", base};
    PretrainArgs p;
    parse_pretrain_args(&p, 3, pargv, 1);
    p.threads = d.threads; p.seed = d.seed;
    if (d.quick) {
        p.layers = 2; p.heads = 2; p.channels = 64; p.steps = 250; p.batch = 8; p.seq = 192; p.eval_every = 250;
        p.eval_n = 100; p.warmup = 20;
    }
    // pretraining runs unless a finished base is there: a base.bin without a state (made
    // elsewhere), or one whose state says the run is complete
    int have_state = 0, done = d.base ? access(base, R_OK) == 0 : pretrain_complete(base, p.steps, &have_state);
    if (d.base && !done) die("--base %s: cannot read it", d.base);
    float pretrain_acc = NAN; // the base's last evaluation, when it ran here
    if (!done) { p.resume = have_state; pretrain_acc = run_pretrain(&p); }
    else fprintf(stderr, "using the finished base model %s (delete it to pretrain again)\n", base);
    double t_pretrain = done ? 0.0 : now_seconds() - t0;
    // the base's step-0 accuracy is measured once: by pretraining, or by the first RL run;
    // after a new pretraining the RL runs start afresh
    RLResult res[2];
    TestAccuracy measured = {d.quick ? NAN : pretrain_acc, NAN, NAN, NAN};
    default_rl(&d, dir, base, 0, measured, done, &res[0]);
    default_rl(&d, dir, base, 1, res[0].test[0], done, &res[1]);
    snprintf(svg, sizeof(svg), "%s/curves.svg", dir);
    write_curves_svg(svg, &res[0], &res[1]);
    printf("\n%-6s %16s %16s %10s %8s\n", "run", "greedy test acc", "sampled (k=4)", "last step", "minutes");
    for (int k = -1; k < 2; k++) {
        const RLResult *r = &res[k < 0 ? 0 : k];
        TestAccuracy t = r->test[k < 0 ? 0 : r->n_test - 1];
        char last[16] = "-";
        if (k >= 0) snprintf(last, sizeof(last), "%d", r->steps);
        printf("%-6s %8.1f%% +- %4.1f %8.1f%% +- %4.1f %10s %8.1f\n", k < 0 ? "base" : k ? "rlvr" : "rlme",
               100 * t.greedy, 100 * t.greedy_se, 100 * t.sampled, 100 * t.sampled_se, last,
               (k < 0 ? t_pretrain : r->seconds) / 60);
    }
    printf("wrote %s; total %.1f min\n", svg, (now_seconds() - t0) / 60);
    for (int k = 0; k < 2; k++) rl_result_free(&res[k]);
    return 0;
}

// ---- eval and judge: a checkpoint's accuracy on a split, and one meta-evaluation ----

typedef struct { const char *model, *data, *out, *prompt_template, *shots; int limit, max_new, threads; } EvalArgs;
#define EV(f) offsetof(EvalArgs, f)
static const Flag EVAL_FLAGS[] = {
    {"--model", "CKPT", NULL, F_STR, EV(model), 0, 0, 0, "checkpoint with its tokenizer"},
    {"--data", "FILE", NULL, F_STR, EV(data), 0, 0, 0, "jsonl with \"question\" and \"answer\" (#### N) fields"},
    {"--limit", "N", NULL, F_INT, EV(limit), 1, 1e8, 0, "the first N problems only (default: all)"},
    {"--template", "auto|plain|chat", "auto", F_STR, EV(prompt_template), 0, 0, 0, TEMPLATE_HELP},
    {"--shots", "FILE", NULL, F_STR, EV(shots), 0, 0, 0, SHOTS_HELP},
    {"--max-new", "N", "128", F_INT, EV(max_new), 1, 65536, 0, "completion tokens at most"},
    {"--out", "FILE", NULL, F_STR, EV(out), 0, 0, 0,
     "also write each completion as a jsonl line: question, completion, its\nfinal number, the label, right"},
    {"--threads", "N", NULL, F_INT, EV(threads), 1, 1024, 0, "OpenMP threads (default: all, shared among the ranks on one machine)"},
    {0}};

// the completions of an evaluation, one jsonl line each, written atomically
static void write_completions(const char *path, const TextCodec *tc, const Rollout *r, const Problems *P) {
    char *mem = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&mem, &len);
    if (!f) die("out of memory");
    for (int i = 0; i < r->n; i++) {
        char *text = completion_text(tc, r, i), num[GSM8K_NUM_MAX] = "";
        gsm8k_extract(text, num, sizeof(num));
        fputs("{\"question\": ", f); synth_json_string(f, P->question[i]);
        fputs(", \"completion\": ", f); synth_json_string(f, text);
        fputs(", \"final\": ", f); synth_json_string(f, num);
        fputs(", \"label\": ", f); synth_json_string(f, P->gold[i]);
        fprintf(f, ", \"right\": %s}\n", completion_right(tc, r, i, P->gold[i]) ? "true" : "false");
        free(text);
    }
    fclose(f);
    dirname_mkdir(path);
    write_file_atomic(path, mem, len, 0);
    free(mem);
}

static int cmd_eval(int argc, char **argv) {
    EvalArgs e = {0};
    parse_flags(EVAL_FLAGS, &e, argc, argv, 2, "usage: train_rlme eval --model CKPT --data FILE.jsonl [options]\n"
                "Greedy accuracy on a GSM8K-format split; prints accuracy: K/N = X%.\n", "flag");
    if (!e.data) die("--data FILE.jsonl is required");
    set_template_or_die(e.prompt_template);
    set_shots_or_die(e.shots);
    set_threads(e.threads);
    GPT model;
    TextCodec tc;
    load_model_or_die(&model, &tc, e.model, "checkpoint carries no tokenizer");
    Problems P;
    load_problems_or_die(&P, e.data, 0);
    int n = e.limit && e.limit < P.n ? e.limit : P.n, right = 0;
    int longest = require_prompts_fit(&P, n, &tc, model.config.max_seq_len, 1);
    KVCache kv;
    kvcache_for(&kv, model.config, n < 128 ? n : 128, longest, e.max_new);
    Rollout r;
    greedy_rollout(&model, &tc, &kv, P.question, n, e.max_new, &r);
    for (int i = 0; i < n; i++) right += completion_right(&tc, &r, i, P.gold[i]);
    if (e.out) write_completions(e.out, &tc, &r, &P);
    printf("accuracy: %d/%d = %.1f%%\n", right, n, 100.0 * right / n);
    rollout_free(&r); kvcache_free(&kv); free_problems(&P); tok_free(&tc.tok); gpt_free(&model);
    return 0;
}

typedef struct { const char *model, *question, *answer, *meta, *reference, *prompt_template; int threads; } JudgeArgs;
#define JU(f) offsetof(JudgeArgs, f)
static const Flag JUDGE_FLAGS[] = {
    {"--model", "CKPT", NULL, F_STR, JU(model), 0, 0, 0, "the evaluator: a checkpoint with its tokenizer"},
    {"--question", "TEXT", NULL, F_STR, JU(question), 0, 0, 0, "the problem"},
    {"--answer", "TEXT", NULL, F_STR, JU(answer), 0, 0, 0, "the candidate solution"},
    {"--meta", "Q", META_CORRECT, F_STR, JU(meta), 0, 0, 0, "the meta-question"},
    {"--reference", "N", NULL, F_STR, JU(reference), 0, 0, 0, "a true final number to show the evaluator (RLME-GT)"},
    {"--template", "auto|plain|chat", "auto", F_STR, JU(prompt_template), 0, 0, 0, TEMPLATE_HELP},
    {"--threads", "N", NULL, F_INT, JU(threads), 1, 1024, 0, "OpenMP threads (default: all, shared among the ranks on one machine)"},
    {0}};

static int cmd_judge(int argc, char **argv) {
    JudgeArgs j = {0};
    parse_flags(JUDGE_FLAGS, &j, argc, argv, 2, "usage: train_rlme judge --model CKPT --question TEXT --answer TEXT "
                "[--meta Q]\nPrints the evaluator's p(Yes) = P(Yes) / (P(Yes) + P(No)) for the meta-question, and the "
                "raw P(Yes)\nand P(No), with the template RL uses.\n", "flag");
    set_template_or_die(j.prompt_template);
    set_threads(j.threads);
    if (!j.question || !j.answer) die("--question and --answer are required");
    GPT model;
    TextCodec tc;
    load_model_or_die(&model, &tc, j.model, "checkpoint carries no tokenizer");
    TokIds ids = {0};
    encode_prompt(&tc, j.question, &ids);
    encode_append(&tc, j.answer, &ids);
    encode_meta_suffix(&tc, j.meta, j.reference, &ids);
    if ((int)ids.n > model.config.max_seq_len)
        die("question + answer + meta-question is %zu tokens, longer than the context of %d", ids.n,
            model.config.max_seq_len);
    gpt_forward(&model, ids.ids, NULL, 1, (int)ids.n);
    size_t last = ids.n - 1;
    gpt_head_at(&model, &last, 1);
    const float *p = model.acts.probs;
    printf("p(Yes) = %.6f   (P(Yes) = %.6f, P(No) = %.6f)\n", verdict_prob(p, &tc, 0), p[tc.yes], p[tc.no]);
    tok_ids_free(&ids); tok_free(&tc.tok); gpt_free(&model);
    return 0;
}

// ---- score, sample and bench: the network alone (data/tools.h) ----

#include "data/tools.h"

// ----------------------------------------------------------------------------
// the run state: what --resume needs to continue a run bit-exactly
//
// Beside a run's checkpoint X.bin lives X.state: the weights and AdamW moments, the
// step, the RNG and data positions, the CSV so far, and the flags that shape the run (a
// resume that contradicts one is refused). It is self-contained — resuming never reads
// X.bin — so a kill between writing the two files cannot pair weights with the wrong
// step. data/state.h holds the file format, the record of the flags, and what each loop saves.

#include "data/state.h"

#include "data/figure.h" // the default run's curves.svg

// ----------------------------------------------------------------------------
// main

#ifndef RLME_NO_MAIN
int main(int argc, char **argv) {
    dist_init(&argc, &argv);
    if (argc < 2 || argv[1][0] == '-') return cmd_default(argc, argv);
    static const struct { const char *name; int (*run)(int, char **); } commands[] = {
        {"pretrain", cmd_pretrain}, {"rl", cmd_rl}, {"eval", cmd_eval}, {"judge", cmd_judge},
        {"score", cmd_score}, {"sample", cmd_sample}, {"bench", cmd_bench},
        {"convert", cmd_convert}};
    static char cmd_name[64];
    snprintf(cmd_name, sizeof(cmd_name), "train_rlme %s", argv[1]);
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        if (!strcmp(argv[1], commands[i].name)) { g_cmd = cmd_name; return commands[i].run(argc, argv); }
    die("unknown command '%s' (see: train_rlme --help)", argv[1]);
    return 2;
}
#endif
