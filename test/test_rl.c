/*
test_rl.c — the RL formulas of train_rlme.c with hand-computed numbers, the CISPO
gradient against finite differences, batched evaluator scoring against one sequence
at a time, RLME's label-free property, and the prompt templates. Run from the repository root.
*/
#define RLME_NO_MAIN
#include "../train_rlme.c"

static int n_pass = 0, n_fail = 0;
static void check(int ok, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    printf("%s ", ok ? "PASS" : "FAIL");
    vprintf(fmt, ap);
    printf("\n");
    va_end(ap);
    if (ok) n_pass++; else n_fail++;
}
static int close_to(double a, double b, double tol) { return fabs(a - b) <= tol; }
// the larger of a and b, and NaN if b is NaN (fmax would drop a NaN error)
static double worse(double a, double b) { return b > a || b != b ? b : a; }

// ----------------------------------------------------------------------------
// GRPO advantages and CISPO weights, by hand

static void test_advantages(void) {
    float r[8] = {1, 0, 0, 1, 0.5f, 0.5f, 0.5f, 0.5f}, a[8];
    group_advantages(r, a, 2, 4, 0);
    // group 1: mean 0.5 -> +-0.5; group 2: all equal -> 0
    check(close_to(a[0], 0.5, 1e-7) && close_to(a[1], -0.5, 1e-7) && close_to(a[3], 0.5, 1e-7) && a[4] == 0 && a[7] == 0,
          "Dr. GRPO advantages r - group mean: %.2f %.2f %.2f %.2f | %.2f", a[0], a[1], a[2], a[3], a[4]);
    group_advantages(r, a, 2, 4, 1);
    // sample std of {1,0,0,1} = sqrt(1/3) = 0.577350; 0.5 / (0.577350 + 1e-4) = 0.865875
    check(close_to(a[0], 0.865875, 1e-5) && close_to(a[1], -0.865875, 1e-5) && a[5] == 0,
          "advantages / group std: %.6f (hand: 0.865875)", a[0]);
}

static void test_cispo_weights(void) {
    float c, kl;
    // ratio e^0.5 = 1.648721 above 1 + 0.2: clipped to 1.2; c = 1.2 * 2 / 4 = 0.6
    int clipped = cispo_weight(-1.0f, -1.5f, -1.0f, 2.0f, 1e9f, 0.2f, 0.0f, 4.0f, &c, &kl);
    check(clipped && close_to(c, 0.6, 1e-6) && close_to(kl, 0.0, 1e-7), "CISPO clips the ratio at 1 + eps_high: c = %.6f (hand: 0.6)", c);
    // eps_high 5 (the default offset): not clipped; c = 1.648721 * 2 / 4 = 0.824361
    clipped = cispo_weight(-1.0f, -1.5f, -1.0f, 2.0f, 1e9f, 5.0f, 0.0f, 4.0f, &c, &kl);
    check(!clipped && close_to(c, 0.824361, 1e-5), "ratio below 1 + 5 passes: c = %.6f (hand: 0.824361)", c);
    // lower bound: ratio e^-0.693147 = 0.5 with eps_low 0.2 -> 0.8; A = -1, N = 2: c = -0.4
    clipped = cispo_weight(-2.0f, -1.306853f, -2.0f, -1.0f, 0.2f, 5.0f, 0.0f, 2.0f, &c, &kl);
    check(clipped && close_to(c, -0.4, 1e-5), "ratio below 1 - eps_low is raised to it: c = %.6f (hand: -0.4)", c);
    // no lower bound by default: w = 0.5, c = -0.25
    clipped = cispo_weight(-2.0f, -1.306853f, -2.0f, -1.0f, 1e9f, 5.0f, 0.0f, 2.0f, &c, &kl);
    check(!clipped && close_to(c, -0.25, 1e-5), "default eps_low leaves small ratios alone: c = %.6f (hand: -0.25)", c);
    // k3 KL: d = log pi_ref - log pi = -1.2 + 1.0 = -0.2; k3 = e^-0.2 + 0.2 - 1 = 0.018731;
    // its c term beta (e^d - 1) / N = 0.5 * (-0.181269) / 4 = -0.022659, plus w A / N = 1 * 0 / 4
    cispo_weight(-1.0f, -1.0f, -1.2f, 0.0f, 1e9f, 5.0f, 0.5f, 4.0f, &c, &kl);
    check(close_to(kl, 0.018731, 1e-6) && close_to(c, -0.022659, 1e-6), "k3 KL %.6f (hand: 0.018731) and its weight %.6f (hand: -0.022659)", kl, c);
    float auc_s[4] = {0.9f, 0.2f, 0.6f, 0.6f};
    int auc_l[4] = {1, 0, 1, 0};
    // pairs (pos, neg): (0.9,0.2) win, (0.9,0.6) win, (0.6,0.2) win, (0.6,0.6) tie -> 3.5/4
    check(close_to(auroc(auc_s, auc_l, 4), 0.875, 1e-12), "AUROC with a tie: %.4f (hand: 0.875)", auroc(auc_s, auc_l, 4));
    // sampled accuracy: per-problem means m = (1, 1/2, 0, 1/2): mean 1/2, var 1/6, se sqrt(1/6 / 4)
    double m[4] = {1.0, 0.5, 0.0, 0.5}, mean, se;
    mean_and_se(m, 4, &mean, &se);
    check(close_to(mean, 0.5, 1e-12) && close_to(se, 0.204124, 1e-6), "mean %.4f (hand: 0.5) and standard error %.6f "
          "(hand: 0.204124) of the sampled accuracy", mean, se);
    // RL's lr with --lr 1 --lr-decay-steps 4 --min-lr-frac 0.1: step s gets
    // 0.1 + 0.45 (1 + cos(pi (s-1)/4)) = 1, 0.868198, 0.55, 0.231802, then 0.1 from step 5 on
    RLArgs la = {.lr = 1.0f, .lr_decay_steps = 4, .min_lr_frac = 0.1f};
    float want[6] = {1.0f, 0.868198f, 0.55f, 0.231802f, 0.1f, 0.1f}, worst_lr = 0.0f;
    for (int s = 1; s <= 6; s++) worst_lr = fmaxf(worst_lr, fabsf(rl_lr(&la, s) - want[s - 1]));
    la.lr_decay_steps = 0;
    check(worst_lr < 1e-6 && rl_lr(&la, 3) == 1.0f, "RL's cosine lr decay over 4 steps, then held (max err %.1e), "
          "and a constant lr without it", worst_lr);
}

// ----------------------------------------------------------------------------
// The weighted backward under CISPO is the gradient of the CISPO objective
//   J = (1/N) sum_t [ -sg(w_t) A log pi(y_t) + beta * k3(log pi_ref(y_t) - log pi(y_t)) ]

static double cispo_objective(GPT *m, const int *in, const int *tg, int B, int T, const int *is_comp, const float *w,
                              const float *A_t, const float *lref, float beta, float N) {
    gpt_forward(m, in, tg, B, T);
    double J = 0.0;
    for (int i = 0; i < B * T; i++) if (is_comp[i]) {
        double lp = m->logp[i], d = lref[i] - lp;
        J += (-w[i] * A_t[i] * lp + beta * (exp(d) - d - 1.0)) / N;
    }
    return J;
}

static void test_cispo_gradient(void) {
    GPTConfig cfg = {.max_seq_len = 12, .vocab_size = 13, .padded_vocab_size = 128, .num_layers = 1, .num_heads = 2, .channels = 8};
    GPT m, ref;
    gpt_init_random(&m, cfg, 21);
    gpt_init_random(&ref, cfg, 22);
    uint64_t rng = rng_seed(5);
    for (size_t i = 0; i < m.num_parameters; i++) if (m.params_memory[i] != 0.0f) m.params_memory[i] += 0.3f * (rng_f32(&rng) - 0.5f);
    int B = 2, T = 10, in[20], tg[20], is_comp[20];
    float w[20], A_t[20], lref[20], lbeh[20], c[20], beta = 0.4f, N = 0;
    for (int i = 0; i < 20; i++) { in[i] = (int)(rng_u64(&rng) % 13); tg[i] = (int)(rng_u64(&rng) % 13); is_comp[i] = (i % 10) >= 4; N += is_comp[i]; }
    gpt_forward(&ref, in, tg, B, T);
    for (int i = 0; i < 20; i++) lref[i] = ref.logp[i];
    gpt_forward(&m, in, tg, B, T);
    for (int i = 0; i < 20; i++) {
        lbeh[i] = m.logp[i] + 0.6f * (rng_f32(&rng) - 0.5f); // an older policy
        A_t[i] = i < 10 ? 0.7f : -0.4f;
    }
    int any_clipped = 0;
    for (int i = 0; i < 20; i++) {
        float kl;
        c[i] = 0.0f;
        if (!is_comp[i]) continue;
        any_clipped |= cispo_weight(m.logp[i], lbeh[i], lref[i], A_t[i], 1e9f, 0.1f, beta, N, &c[i], &kl);
        w[i] = fminf(expf(m.logp[i] - lbeh[i]), 1.1f); // the stop-gradient weight, frozen for the check
    }
    gpt_zero_grad(&m);
    gpt_backward(&m, c);
    double worst = 0.0;
    size_t off = 0;
    for (int t = 0; t < NUM_PARAMETER_TENSORS; t++) {
        for (int k = 0; k < 3 && m.param_sizes[t]; k++) {
            size_t i = off + rng_u64(&rng) % m.param_sizes[t];
            if (t == 0 && i >= (size_t)cfg.vocab_size * cfg.channels) continue;
            float keep = m.params_memory[i], h = 3e-3f;
            m.params_memory[i] = keep + h; double jp = cispo_objective(&m, in, tg, B, T, is_comp, w, A_t, lref, beta, N);
            m.params_memory[i] = keep - h; double jm = cispo_objective(&m, in, tg, B, T, is_comp, w, A_t, lref, beta, N);
            m.params_memory[i] = keep;
            double fd = (jp - jm) / (2 * h);
            worst = worse(worst, fabs(fd - m.grads_memory[i]) / (fabs(fd) + 1e-2));
        }
        off += m.param_sizes[t];
    }
    check(any_clipped, "the gradient check includes clipped ratios");
    check(worst < 2e-2, "CISPO weighted backward equals finite differences of the CISPO objective (max rel err %.1e)", worst);
    gpt_free(&m); gpt_free(&ref);
}

// ----------------------------------------------------------------------------
// a tiny world: a tokenizer trained on a few documents and a random model

static void tiny_codec_of_size(TextCodec *tc, int vocab_size) {
    memset(tc, 0, sizeof(*tc));
    const char *docs = "Question: Tom has 5 apples.\nAnswer:\nFinds: 5+2=<<5+2=7>>7.\n#### 7\nMeta: Is the answer correct?\nVerdict: Yes" EOT
                       "Question: Ann has 3 pears.\nAnswer:\nGives away: 3-1=<<3-1=2>>2.\n#### 4\nMeta: Is the answer correct?\nVerdict: No" EOT;
    char text[8192] = "";
    for (int k = 0; k < 20; k++) strcat(text, docs); // frequent enough for BPE to merge every word
    const char *specials[1] = {EOT};
    char err[256];
    if (tok_train(&tc->tok, text, strlen(text), vocab_size, specials, 1, TOK_SPLIT_DIGITS, err, sizeof(err))
        || codec_init(tc, NULL, err, sizeof(err))) {
        printf("tiny tokenizer: %s\n", err);
        exit(1);
    }
}

static void tiny_codec(TextCodec *tc) { tiny_codec_of_size(tc, 400); }

// p(Yes) of evaluator m for rollout i, scored alone from the template built by hand:
// prompt + completion (without its EOT) + the meta suffix (with `reference`, if any)
static double single_p_yes(GPT *m, TextCodec *tc, const Rollout *r, int i, const char *question,
                           const char *reference) {
    TokIds ids = {0};
    encode_prompt(tc, question, &ids);
    int n = r->out_len[i];
    if (r->out[i * r->max_new + n - 1] == tc->eot) n--;
    for (int j = 0; j < n; j++) tok_ids_push(&ids, r->out[i * r->max_new + j]);
    encode_meta_suffix(tc, META_CORRECT, reference, &ids);
    gpt_forward(m, ids.ids, NULL, 1, (int)ids.n);
    size_t last = ids.n - 1;
    gpt_head_at(m, &last, 1);
    const float *p = m->acts.probs;
    tok_ids_free(&ids);
    return p[tc->yes] / (p[tc->yes] + p[tc->no]);
}

static void test_batched_judging(void) {
    TextCodec tc;
    tiny_codec(&tc);
    int V = tok_vocab_size(&tc.tok);
    GPTConfig cfg = {.max_seq_len = 96, .vocab_size = V, .padded_vocab_size = (V + 127) / 128 * 128, .num_layers = 2, .num_heads = 2, .channels = 16};
    GPT m;
    gpt_init_random(&m, cfg, 8);
    for (size_t i = 0; i < m.num_parameters; i++) m.params_memory[i] *= 5.0f; // sharper, so p(Yes) varies
    // five rollouts of different prompt and completion lengths, some ending in EOT
    const char *qs[5] = {"Tom has 5 apples.", "Ann has 3 pears and 4 more.", "Bo", "Tom has 5 apples.", "Ann has 3 pears."};
    Batch bt;
    memset(&bt, 0, sizeof(bt));
    rollout_alloc(&bt.r, 5, 20);
    uint64_t rng = rng_seed(3);
    for (int i = 0; i < 5; i++) {
        bt.r.off[i] = (int)bt.r.prompts.n;
        encode_prompt(&tc, qs[i], &bt.r.prompts);
        bt.r.len[i] = (int)bt.r.prompts.n - bt.r.off[i];
        bt.r.out_len[i] = 3 + 4 * i;
        for (int j = 0; j < bt.r.out_len[i]; j++) bt.r.out[i * 20 + j] = (int)(rng_u64(&rng) % (V - 1));
        if (i % 2 == 0) bt.r.out[i * 20 + bt.r.out_len[i] - 1] = tc.eot;
    }
    bt.question = qs;
    bt.reward = malloc(5 * sizeof(float)); bt.p_correct = malloc(5 * sizeof(float)); bt.order = malloc(5 * sizeof(int));
    bt.lo = 0, bt.hi = 5; // one process: all of them
    sort_by_length(&bt.r, 0, 5, bt.order);
    RLArgs a;
    rl_defaults(&a);
    a.reward = "rlme";
    a.ev[a.n_eval++] = (Evaluator){.path = "frozen-self", .weight = 1.0f, .model = &m};
    a.meta[a.n_meta++] = (MetaQuestion){.question = META_CORRECT, .weight = 1.0f};
    a.micro_batch = 5;
    Learner L = {.policy = &m, .tc = &tc};
    meta_evaluate(&a, &L, &bt);
    float batched[5];
    memcpy(batched, bt.p_correct, sizeof(batched));
    // one sequence at a time, built by hand from the template
    double worst = 0.0, worst_r = 0.0;
    for (int i = 0; i < 5; i++) {
        double pyes = single_p_yes(&m, &tc, &bt.r, i, qs[i], NULL);
        worst = worse(worst, fabs(pyes - batched[i]));
        worst_r = worse(worst_r, fabs(log(pyes) - bt.reward[i]));
    }
    check(worst < 1e-5 && worst_r < 1e-4, "evaluator p(Yes) from batched scoring equals single-sequence scoring (max err %.1e)", worst);
    a.micro_batch = 2; // micro-batching changes nothing either
    meta_evaluate(&a, &L, &bt);
    double wmb = 0.0;
    for (int i = 0; i < 5; i++) wmb = worse(wmb, fabs(bt.p_correct[i] - batched[i]));
    check(wmb < 1e-5, "micro-batches of 2 give the same p(Yes) (max err %.1e)", wmb);

    // RLME-GT: with --gt-frac 1 every evaluator input shows the label, "\nReference answer: N"
    // before the meta-question, exactly as the single-sequence template builds it
    char *gold[5] = {"5", "7", "12", "5", "-3"}, *qtext[5];
    int prompt_of[5] = {0, 1, 2, 3, 4};
    for (int i = 0; i < 5; i++) qtext[i] = (char *)qs[i];
    Problems P = {.n = 5, .question = qtext, .gold = gold};
    L.rl = &P; L.rng = rng_seed(5);
    bt.prompt_of = prompt_of;
    a.gt_frac = 1.0f;
    meta_evaluate(&a, &L, &bt);
    double wgt = 0.0, moved = 0.0;
    for (int i = 0; i < 5; i++) {
        wgt = worse(wgt, fabs(single_p_yes(&m, &tc, &bt.r, i, qs[i], gold[i]) - bt.p_correct[i]));
        moved = worse(moved, fabs(bt.p_correct[i] - batched[i]));
    }
    check(wgt < 1e-5 && moved > 1e-4, "RLME-GT shows the evaluator the reference answer (max err %.1e; p moved by %.3f)",
          wgt, moved);
    a.gt_frac = 0.0f;

    // ensembles: mean = sum_j v_j sum_k w_k log p_jk; min = min_jk log p_jk
    GPT m3;
    gpt_init_random(&m3, cfg, 11);
    for (size_t i = 0; i < m3.num_parameters; i++) m3.params_memory[i] *= 5.0f;
    float r1[5], r3[5], r4[5];
    a.ev[0].model = &m3;
    meta_evaluate(&a, &L, &bt);
    memcpy(r3, bt.reward, sizeof(r3));
    a.ev[0].model = &m;
    a.meta[a.n_meta++] = (MetaQuestion){.question = META_LOGIC, .weight = 1.0f};
    meta_evaluate(&a, &L, &bt);
    memcpy(r1, bt.reward, sizeof(r1)); // log p(correct) + log p(logic) under m
    a.n_meta = 1;
    a.ev[a.n_eval++] = (Evaluator){.path = "m3", .weight = 0.5f, .model = &m3};
    meta_evaluate(&a, &L, &bt);
    memcpy(r4, bt.reward, sizeof(r4));
    double wmean = 0.0, wmin = 0.0;
    for (int i = 0; i < 5; i++) wmean = worse(wmean, fabs(r4[i] - (log(batched[i]) + 0.5 * r3[i])));
    a.ev[1].weight = 1.0f;
    a.aggregate = "min";
    meta_evaluate(&a, &L, &bt);
    for (int i = 0; i < 5; i++) wmin = worse(wmin, fabs(bt.reward[i] - fmin(log(batched[i]), r3[i])));
    int differ = 0;
    for (int i = 0; i < 5; i++) differ += fabs(log(batched[i]) - r3[i]) > 1e-3;
    check(wmean < 1e-4 && wmin < 1e-4 && differ >= 2 && r1[0] < log(batched[0]),
          "ensembles: the weighted mean (max err %.1e) and the worst case min_jk log p_jk (max err %.1e)", wmean, wmin);
    a.aggregate = "mean"; a.n_eval = 1;
    gpt_free(&m3);

    // an evaluator with another tokenizer reads the rollouts as text, as `judge` does:
    // the completion decoded, the question, answer and meta-question encoded with its own
    TextCodec same, other;
    tiny_codec(&same);
    tiny_codec_of_size(&other, 325); // two merges short of the 327 tokens the tiny corpus gives
    check(same_tokenizer(&same.tok, &tc.tok) && !same_tokenizer(&other.tok, &tc.tok), "same_tokenizer tells tokenizers apart");
    int V2 = tok_vocab_size(&other.tok);
    GPTConfig cfg2 = {.max_seq_len = 128, .vocab_size = V2, .padded_vocab_size = (V2 + 127) / 128 * 128, .num_layers = 1,
                      .num_heads = 2, .channels = 16};
    GPT m2;
    gpt_init_random(&m2, cfg2, 9);
    for (size_t i = 0; i < m2.num_parameters; i++) m2.params_memory[i] *= 5.0f;
    a.ev[0] = (Evaluator){.path = "other", .weight = 1.0f, .model = &m2, .foreign = 1, .codec = other};
    TextCodec *oc = &a.ev[0].codec; // the evaluator owns it now (encoding moves its scratch buffers)
    a.micro_batch = 3;
    meta_evaluate(&a, &L, &bt);
    double wf = 0.0;
    for (int i = 0; i < 5; i++) {
        int n = bt.r.out_len[i];
        if (bt.r.out[i * 20 + n - 1] == tc.eot) n--;
        char *answer = decode_text(&tc, bt.r.out + i * 20, n);
        TokIds ids = {0};
        encode_prompt(oc, qs[i], &ids);
        encode_append(oc, answer, &ids);
        encode_meta_suffix(oc, META_CORRECT, NULL, &ids);
        gpt_forward(&m2, ids.ids, NULL, 1, (int)ids.n);
        size_t last = ids.n - 1;
        gpt_head_at(&m2, &last, 1);
        const float *p = m2.acts.probs;
        wf = worse(wf, fabs(p[oc->yes] / (p[oc->yes] + p[oc->no]) - bt.p_correct[i]));
        tok_ids_free(&ids); free(answer);
    }
    check(wf < 1e-5, "an evaluator with its own tokenizer scores the re-encoded text (max err %.1e)", wf);
    tok_free(&same.tok); tok_free(&oc->tok); gpt_free(&m2);
    rollout_free(&bt.r); free(bt.reward); free(bt.p_correct); free(bt.order);
    tok_free(&tc.tok); gpt_free(&m);
}

// ----------------------------------------------------------------------------
// a small synthetic world: splits written to dir, their train problems, and a
// tokenizer trained on documents about them. Returns 0, or 1 after a failed check.

static int synth_world(const char *dir, Problems *train, TextCodec *tc) {
    SynthConfig sc;
    synth_default_config(&sc);
    char path[512], err[512];
    if (synth_write_splits(dir, 7, 300, 40, 10, &sc, err, sizeof(err))) { check(0, "synth: %s", err); return 1; }
    snprintf(path, sizeof(path), "%s/train.jsonl", dir);
    load_problems_or_die(train, path, 1);
    memset(tc, 0, sizeof(*tc));
    size_t len;
    char *corpus = tokenizer_corpus(train, 2000, (SynthHabits){0}, 1, &len);
    const char *specials[1] = {EOT};
    int bad = tok_train(&tc->tok, corpus, len, 512, specials, 1, TOK_SPLIT_DIGITS, err, sizeof(err)) ||
              codec_init(tc, NULL, err, sizeof(err));
    if (bad) check(0, "tokenizer: %s", err);
    free(corpus);
    return bad;
}

// ----------------------------------------------------------------------------
// injected answers (Fig. 7): a problem whose program says hint=N; the rationalised
// solution; the documents

static void test_injected_answers(void) {
    char sol[256] = "Finds: 5+2=<<5+2=7>>7.\n#### 7";
    check(rationalize(sol, sizeof(sol), 12) && !strcmp(sol, "Finds: 5+2=<<5+2=7>>7.\nThe friend says 12.\n#### 12"),
          "rationalize keeps the lines, then appeals to the friend: %s", sol + 23);
    char no_final[] = "Finds: 5+2=<<5+2=7>>7.";
    check(!rationalize(no_final, sizeof(no_final), 12) && !strcmp(no_final, "Finds: 5+2=<<5+2=7>>7."),
          "rationalize leaves a solution without a final alone");
    SynthProblem p, q;
    char prog[256];
    int ok = !synth_decode_program("nm=0 it=0 x=12 e=give:5 ph=0 hint=9", &p) && p.hinted && p.hint == 9 &&
             synth_encode_program(&p, prog, sizeof(prog)) > 0 && !strcmp(prog, "nm=0 it=0 x=12 e=give:5 ph=0 hint=9") &&
             !synth_decode_program("nm=0 it=0 x=12 e=give:5 ph=0", &q) && !q.hinted &&
             synth_decode_program("nm=0 it=0 x=12 e=give:5 ph=0 hint=", &q) && synth_decode_program("nm=0 it=0 x=12 "
             "e=give:5 ph=0 hint=9 x", &q);
    check(ok, "a program's hint=N is read and written back; a malformed one is refused");

    // every question carries an injected answer: a solution follows a wrong one half the
    // time (HINT_FOLLOWED), and the tokenizer's corpus appeals to it
    char dir[] = "/tmp/rlme_hints_XXXXXX", cmd[512];
    if (!mkdtemp(dir)) { check(0, "mkdtemp"); return; }
    Problems train;
    TextCodec tc;
    if (synth_world(dir, &train, &tc)) return;
    uint64_t rng = rng_seed(9);
    for (int i = 0; i < train.n; i++) {
        SynthProblem *pi = &train.program[i];
        pi->hinted = 1;
        pi->hint = synth_uniform(&rng) < 0.5f ? synth_final(pi, 0) : synth_final(pi, 0) + 3;
        char *with = malloc(strlen(train.question[i]) + 64);
        sprintf(with, "%s A friend says the answer is %d.", train.question[i], pi->hint);
        free(train.question[i]);
        train.question[i] = with;
    }
    size_t len;
    char *corpus = tokenizer_corpus(&train, 100, (SynthHabits){0}, 1, &len);
    check(strstr(corpus, "A friend says the answer is") && strstr(corpus, FRIEND_SAYS),
          "the tokenizer's corpus holds injected answers and appeals to them");
    free(corpus);
    DocMix mix = {.solution = 0.5f, .meta = 0.5f};
    Doc d = {0};
    int docs = 0, hinted = 0, solutions = 0, follow_wrong = 0, wrong_hints = 0;
    for (int k = 0; k < 600; k++) {
        make_document(&d, &tc, &train, k % train.n, mix, NULL, &rng);
        char *text = decode_text(&tc, d.ids.ids, (int)d.ids.n), *h = strstr(text, "the answer is ");
        docs++;
        hinted += h != NULL;
        if (h && !strstr(text, "Meta:")) { // a solution: does its final follow the hint?
            long hint = atol(h + 14), gold = synth_final(&train.program[k % train.n], 0);
            char *fin = strstr(text, "#### ");
            solutions++;
            wrong_hints += hint != gold;
            follow_wrong += hint != gold && fin && atol(fin + 5) == hint;
        }
        free(text);
    }
    check(hinted == docs, "hinted problems: all %d documents carry the injected answer (%d)", docs, hinted);
    double fw = (double)follow_wrong / (wrong_hints ? wrong_hints : 1);
    check(solutions > 200 && fw > 0.4 && fw < 0.6, "solutions follow a wrong injected answer half the time (%.2f of %d)",
          fw, wrong_hints);
    // --meta-ref: a META_CORRECT judgement shows its problem's true answer just before the
    // meta-question, and its verdict still judges the candidate
    DocMix ref_mix = {.meta = 1.0f, .ref = 1.0f};
    int judged = 0, shown = 0, verdicts_ok = 0;
    for (int k = 0; k < 200; k++) {
        make_document(&d, &tc, &train, k % train.n, ref_mix, NULL, &rng);
        char *text = decode_text(&tc, d.ids.ids, (int)d.ids.n), want[64], *fin = strstr(text, "#### ");
        snprintf(want, sizeof(want), "\nReference answer: %d\nMeta: " META_CORRECT "\nVerdict:",
                 synth_final(&train.program[k % train.n], 0));
        if (strstr(text, "Meta: " META_CORRECT)) {
            judged++;
            shown += strstr(text, want) != NULL;
            int right = fin && atol(fin + 5) == synth_final(&train.program[k % train.n], 0);
            verdicts_ok += strstr(text, right ? "Verdict: Yes" : "Verdict: No") != NULL;
        }
        free(text);
    }
    check(judged > 50 && shown == judged && verdicts_ok == judged, "pretrain --meta-ref 1: all %d judgements of "
          "correctness show the reference answer (%d), with the candidate's verdict (%d)", judged, shown, verdicts_ok);
    free(d.ids.ids); free(d.count);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    if (system(cmd)) printf("note: could not remove %s\n", dir);
    free_problems(&train);
    tok_free(&tc.tok);
}

// ----------------------------------------------------------------------------
// RLME never reads a label: garbage answers in rl.jsonl give bit-identical weights

static unsigned char *slurp(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long sz = ftell(f);
    rewind(f);
    unsigned char *b = malloc(sz > 0 ? sz : 1);
    *n = fread(b, 1, sz, f);
    fclose(f);
    return b;
}

// A two-step RL run; `variant` 1: RLME-GT (--gt-frac 1), 2: a worst-case ensemble of
// frozen-self and live-self, 3: early stopping (--val-n 3 --patience 1, every step evaluated).
// Returns the steps run.
static int run_tiny_rl(const char *data, const char *init, const char *out, const char *reward, int variant) {
    RLArgs a;
    rl_defaults(&a);
    a.reward = reward; a.init = init; a.out = out; a.data_dir = data;
    a.steps = 2; a.prompts = 3; a.group = 3; a.max_new = 24; a.eval_every = 2; a.eval_n = 4; a.lr = 1e-3f;
    a.kl_beta = 0.3f;
    a.ev[a.n_eval++] = (Evaluator){.path = strdup("frozen-self"), .weight = 1.0f};
    if (variant == 2) { a.ev[a.n_eval++] = (Evaluator){.path = strdup("live-self"), .weight = 1.0f}; a.aggregate = "min"; }
    a.meta[a.n_meta++] = (MetaQuestion){.question = strdup(META_CORRECT), .weight = 1.0f};
    if (variant == 1) a.gt_frac = 1.0f;
    if (variant == 3) { a.val_n = 3; a.patience = 1; a.eval_every = 1; a.steps = 4; }
    RLResult res;
    run_rl(&a, &res);
    int steps = res.steps;
    rl_result_free(&res);
    rl_args_free(&a);
    return steps;
}

static void test_label_free(void) {
    char dir[] = "/tmp/rlme_test_XXXXXX";
    if (!mkdtemp(dir)) { check(0, "mkdtemp"); return; }
    char a_dir[256], b_dir[256], cmd[2048];
    snprintf(a_dir, sizeof(a_dir), "%s/a", dir);
    snprintf(b_dir, sizeof(b_dir), "%s/b", dir);
    snprintf(cmd, sizeof(cmd), "mkdir -p %s %s", a_dir, b_dir);
    if (system(cmd)) { check(0, "mkdir"); return; }
    // a: the splits, and a tokenizer of them for a tiny random policy
    Problems train;
    TextCodec tc;
    if (synth_world(a_dir, &train, &tc)) return;
    // b: the same questions, every rl answer replaced by a wrong number
    snprintf(cmd, sizeof(cmd), "cp %s/train.jsonl %s/test.jsonl %s/ && sed 's/#### [0-9]*/#### 123457/' %s/rl.jsonl > %s/rl.jsonl",
             a_dir, a_dir, b_dir, a_dir, b_dir);
    if (system(cmd)) { check(0, "copy splits"); return; }
    int V = tok_vocab_size(&tc.tok);
    GPTConfig cfg = {.max_seq_len = 160, .vocab_size = V, .padded_vocab_size = (V + 127) / 128 * 128, .num_layers = 1, .num_heads = 2, .channels = 16};
    GPT m;
    gpt_init_random(&m, cfg, 4);
    char init[512], out_a[512], out_b[512];
    snprintf(init, sizeof(init), "%s/init.bin", dir);
    save_checkpoint_or_die(&m, &tc, init);
    snprintf(out_a, sizeof(out_a), "%s/a.bin", dir);
    snprintf(out_b, sizeof(out_b), "%s/b.bin", dir);
    static const char *variants[3] = {"RLME", "RLME-GT", "RLME with a worst-case ensemble"};
    for (int v = 0; v < 3; v++) {
        run_tiny_rl(a_dir, init, out_a, "rlme", v);
        run_tiny_rl(b_dir, init, out_b, "rlme", v);
        size_t na, nb, ni;
        unsigned char *wa = slurp(out_a, &na), *wb = slurp(out_b, &nb), *wi = slurp(init, &ni);
        int same = wa && wb && na == nb && !memcmp(wa, wb, na);
        if (v == 1) check(!same, "RLME-GT reads the labels: garbage rl labels change its weights");
        else check(same, "%s with garbage rl labels gives bit-identical weights (%zu bytes)", variants[v], na);
        check(wa && wi && na == ni && memcmp(wa, wi, na), "...and RL did change the weights");
        // the printed log differs only in diagnostics columns, which read labels on purpose
        free(wa); free(wb); free(wi);
    }
    // early stopping: a tiny random policy is never right, so no evaluation beats step 0's
    // validation accuracy; after one more (--patience 1) the run stops, --out the initial policy
    int steps = run_tiny_rl(a_dir, init, out_a, "rlvr", 3);
    size_t na, ni;
    unsigned char *wa = slurp(out_a, &na), *wi = slurp(init, &ni);
    check(steps == 1 && wa && wi && na == ni && !memcmp(wa, wi, na),
          "early stopping ends the run after --patience evaluations without a better validation accuracy (%d steps run) "
          "and --out keeps the best policy (step 0's)", steps);
    free(wa); free(wi);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    if (system(cmd)) printf("note: could not remove %s\n", dir);
    free_problems(&train);
    tok_free(&tc.tok);
    gpt_free(&m);
}

// ----------------------------------------------------------------------------
// the templates: the synthetic world's, and the chat template of a tokenizer with chat
// markers (test/hf_tok/qwen2.json: <|im_start|>, <|im_end|>), each decoded back exactly

static int decodes_to(TextCodec *tc, const TokIds *ids, const char *want) {
    char *got = decode_text(tc, ids->ids, (int)ids->n);
    int ok = !strcmp(got, want);
    if (!ok) printf("  got \"%s\"\n  want \"%s\"\n", got, want);
    free(got);
    return ok;
}

// --shots FILE: its worked problems, in the file's order, before the plain template's
// prompt; a chat model refuses them
static void test_shots(void) {
    char path[] = "/tmp/rlme_shots_XXXXXX", err[512];
    int fd = mkstemp(path);
    const char *lines = "{\"question\": \"Ann has 2 pears.\", \"answer\": \"2+1=<<2+1=3>>3\\n#### 3\"}\n"
                        "{\"question\": \"Bo has 7.\", \"answer\": \"#### 7\"}\n";
    int wrote = fd >= 0 && write(fd, lines, strlen(lines)) == (ssize_t)strlen(lines);
    if (fd >= 0) close(fd);
    TextCodec tc = {0};
    TokIds p = {0};
    set_shots_or_die(path);
    int plain = wrote && !tok_load(&tc.tok, "test/hf_tok/split.json", err, sizeof(err)) && !codec_init(&tc, NULL, err, sizeof(err));
    if (plain) encode_prompt(&tc, "Tom has 5 apples.", &p);
    check(plain && decodes_to(&tc, &p, "Question: Ann has 2 pears.\nAnswer:\n2+1=<<2+1=3>>3\n#### 3\n\n"
                                       "Question: Bo has 7.\nAnswer:\n#### 7\n\nQuestion: Tom has 5 apples.\nAnswer:\n"),
          "--shots: the file's worked problems, in order, before the plain prompt");
    tok_free(&tc.tok);
    tc = (TextCodec){0};
    int refused = !tok_load(&tc.tok, "test/hf_tok/qwen2.json", err, sizeof(err)) &&
                  codec_init(&tc, NULL, err, sizeof(err)) != 0 && strstr(err, "--shots") != NULL;
    check(refused, "--shots refused for a chat model (the chat template)");
    tok_free(&tc.tok); tok_ids_free(&p);
    free(g_shots); g_shots = NULL;
    remove(path);
}

static void test_templates(void) {
    TextCodec tc = {0};
    char err[512];
    if (tok_load(&tc.tok, "test/hf_tok/qwen2.json", err, sizeof(err)) || codec_init(&tc, NULL, err, sizeof(err))) {
        check(0, "chat template: %s", err);
        return;
    }
    TokIds p = {0}, m = {0}, y = {0};
    encode_prompt(&tc, "Tom has 5 apples.", &p);
    encode_meta_suffix(&tc, META_CORRECT, "5", &m);
    encode_append(&tc, "Yes", &y);
    check(tc.chat && tc.eot == tok_special_id(&tc.tok, "<|im_end|>") && tc.yes == y.ids[0] &&
          decodes_to(&tc, &p, "<|im_start|>user\nTom has 5 apples. Let's think step by step and output the final answer "
                              "after \"####\".<|im_end|>\n<|im_start|>assistant\n") &&
          decodes_to(&tc, &m, "<|im_end|>\n<|im_start|>user\nThe reference answer is 5. Is the answer correct? Answer Yes "
                              "or No.<|im_end|>\n<|im_start|>assistant\n"),
          "chat template: the user's turn, the assistant's, the meta-question as the next user turn, <|im_end|> ends a completion");
    tok_free(&tc.tok);
    tc = (TextCodec){0};
    p.n = m.n = 0;
    if (tok_load(&tc.tok, "test/hf_tok/split.json", err, sizeof(err)) || codec_init(&tc, NULL, err, sizeof(err))) {
        check(0, "synthetic template: %s", err);
        return;
    }
    encode_prompt(&tc, "Tom has 5 apples.", &p);
    encode_meta_suffix(&tc, META_CORRECT, NULL, &m);
    check(!tc.chat && tc.eot == tok_special_id(&tc.tok, "<|endoftext|>") &&
          decodes_to(&tc, &p, "Question: Tom has 5 apples.\nAnswer:\n") &&
          decodes_to(&tc, &m, "\nMeta: Is the answer correct?\nVerdict:"),
          "synthetic template (no chat markers): Question/Answer, Meta/Verdict, <|endoftext|>");
    int padded[3] = {tc.eot, tok_vocab_size(&tc.tok) + 5, tc.eot}; // an id of a padded vocabulary row
    char *text = decode_text(&tc, padded, 3);
    check(!strcmp(text, "<|endoftext|><|endoftext|>"), "an id past the tokenizer (a padded vocabulary's) decodes to nothing");
    free(text);
    g_template = "chat"; // asked of a tokenizer without the markers: refused
    int refused = codec_init(&tc, NULL, err, sizeof(err)) != 0 && strstr(err, "--template chat") != NULL;
    tok_free(&tc.tok);
    tc = (TextCodec){0};
    g_template = "plain"; // a tokenizer with them, asked for the plain template
    int plain = !tok_load(&tc.tok, "test/hf_tok/qwen2.json", err, sizeof(err)) && !codec_init(&tc, NULL, err, sizeof(err)) &&
                !tc.chat && tc.eot == tok_special_id(&tc.tok, "<|endoftext|>");
    p.n = 0;
    if (plain) encode_prompt(&tc, "Tom has 5 apples.", &p);
    check(refused && plain && decodes_to(&tc, &p, "Question: Tom has 5 apples.\nAnswer:\n"),
          "--template chat refused without chat markers; --template plain overrides them");
    g_template = "auto";
    tok_ids_free(&p); tok_ids_free(&m); tok_ids_free(&y);
    tok_free(&tc.tok);
    test_shots();
}

// tokenizer_config.json's say: a base model (eos_token <|endoftext|>) gets the plain
// template under auto though its tokenizer has the chat markers, a chat model (eos_token
// <|im_end|>) the chat one; a chat template that is not ChatML is refused by --template
// chat; an eos_token the tokenizer lacks is refused.
static void test_text_config(void) {
    TextCodec tc = {0};
    char err[512];
    if (tok_load(&tc.tok, "test/hf_tok/qwen2.json", err, sizeof(err))) { check(0, "qwen2.json: %s", err); return; }
    TextConfig base = {"<|endoftext|>", CHAT_CHATML}, instruct = {"<|im_end|>", CHAT_CHATML}, other = {"", CHAT_OTHER},
               unknown = {"</s>", CHAT_NONE}, silent = {"", CHAT_CHATML};
    int ok_base = !codec_init(&tc, &base, err, sizeof(err)) && !tc.chat && tc.eot == tok_special_id(&tc.tok, "<|endoftext|>");
    int ok_instruct = !codec_init(&tc, &instruct, err, sizeof(err)) && tc.chat && tc.eot == tok_special_id(&tc.tok, "<|im_end|>");
    int ok_silent = !codec_init(&tc, &silent, err, sizeof(err)) && tc.chat;
    int ok_other = !codec_init(&tc, &other, err, sizeof(err)) && !tc.chat;
    g_template = "chat";
    int chat_base = !codec_init(&tc, &base, err, sizeof(err)) && tc.chat && tc.eot == tok_special_id(&tc.tok, "<|im_end|>");
    int refused_other = codec_init(&tc, &other, err, sizeof(err)) && strstr(err, "not ChatML");
    g_template = "auto";
    int refused_eos = codec_init(&tc, &unknown, err, sizeof(err)) && strstr(err, "eos_token \"</s>\"");
    check(ok_base && ok_instruct && ok_silent && ok_other && chat_base && refused_other && refused_eos,
          "tokenizer_config.json: eos_token <|endoftext|> plain, <|im_end|> chat; --template chat on a base model; "
          "another chat_template refused by --template chat; an unknown eos_token refused (%d%d%d%d%d%d%d)",
          ok_base, ok_instruct, ok_silent, ok_other, chat_base, refused_other, refused_eos);
    tok_free(&tc.tok);
}

// The plain template's stop text for a model directory's model: a completion that runs
// on into a new problem ends at the token that completes "Question:", and its answer is
// what came before the first token of it (here the "\n" before it is a token of its own,
// so the answer keeps it). A checkpoint's model (no tokenizer_config.json) has none.
static void test_plain_stop(void) {
    TextCodec tc = {0};
    TextConfig base = {"<|endoftext|>", CHAT_NONE};
    char err[512];
    if (tok_load(&tc.tok, "test/hf_tok/split.json", err, sizeof(err)) || codec_init(&tc, NULL, err, sizeof(err))) {
        check(0, "split.json: %s", err);
        return;
    }
    check(!tc.stop && completion_config(&tc, 1.0f, 8).stop == NULL,
          "plain template without tokenizer_config.json (a checkpoint trained here): no stop text");
    codec_init(&tc, &base, err, sizeof(err));
    const char *answer = "Gives away: 3-1=<<3-1=2>>2.\n#### 2\n", *more = "Question: Ann has 4 pears.";
    TokIds a = {0}, q = {0};
    encode_append(&tc, answer, &a);
    encode_append(&tc, more, &q);
    int n = (int)a.n, total = (int)(a.n + q.n), *ids = malloc(total * sizeof(int)), first_stop = -1;
    memcpy(ids, a.ids, a.n * sizeof(int));
    memcpy(ids + a.n, q.ids, q.n * sizeof(int));
    for (int k = 1; k <= total && first_stop < 0; k++) if (text_stop(ids, k, &tc)) first_stop = k;
    char *head = decode_text(&tc, ids, first_stop), *kept = NULL;
    int content = completion_content(&tc, ids, first_stop);
    kept = decode_text(&tc, ids, content);
    SampleConfig sc = completion_config(&tc, 1.0f, 8);
    check(first_stop > n && strstr(head, "Question:") && content == n &&
              !strcmp(kept, answer) && sc.stop == text_stop && !text_stop(ids, n, &tc),
          "plain template: generation stops at the token completing \"Question:\" (%d of %d tokens), the answer is the "
          "%d tokens before it", first_stop, total, content);
    int eot_end[2] = {ids[0], tc.eot};
    check(completion_content(&tc, eot_end, 2) == 1 && completion_content(&tc, ids, n) == n,
          "a completion's answer: without its end token; a completion cut by --max-new is all answer");
    free(head); free(kept); free(ids);
    tok_ids_free(&a); tok_ids_free(&q);
    tok_free(&tc.tok);
    tc = (TextCodec){0};
    TextConfig instruct = {"<|im_end|>", CHAT_CHATML};
    if (!tok_load(&tc.tok, "test/hf_tok/qwen2.json", err, sizeof(err)) && !codec_init(&tc, &instruct, err, sizeof(err)))
        check(tc.chat && completion_config(&tc, 1.0f, 8).stop == NULL, "the chat template ends at <|im_end|> alone");
    tok_free(&tc.tok);
}

int main(void) {
    test_advantages();
    test_cispo_weights();
    test_cispo_gradient();
    test_batched_judging();
    test_text_config();
    test_plain_stop();
    test_injected_answers();
    test_label_free();
    test_templates();
    printf("%d passed, %d failed\n", n_pass, n_fail);
    return n_fail != 0;
}
