/*
Deterministic generator of GSM8K-style word problems: the embedded default data.

    cc -O2 -o data/synth_gen data/synth.c
    ./data/synth_gen [--seed S] [--out DIR] [--train N] [--rl N] [--test N] [--max-events K]

writes DIR/train.jsonl (50000), DIR/rl.jsonl (4000), DIR/test.jsonl (1000) by default,
disjoint by question text, byte-identical on every machine for the same flags. Each line
is GSM8K's format plus one field that GSM8K readers ignore:

    {"question": "Tom has 12 apples. He gives away 5 apples. He buys 3 bags of 4 apples.
      How many apples does Tom have now?",
     "answer": "Gives away: 12-5=<<12-5=7>>7.\nBags: 3*4=<<3*4=12>>12.\nBuys: 7+12=<<7+12=19>>19.\n#### 19",
     "program": "nm=0 it=0 x=12 e=give:5,buy:3:4 ph=0,0"}

A problem is "NAME has X ITEMS." + 1..K events + "How many ITEMS does NAME have now?",
X in [3,20]. Events, the lines of their correct solution, and their "habit" (the
systematic wrong method that pretraining solution documents use with probability P,
so that the base model writes worse than it judges, as large pretrained models do):

    event                                 params          correct          habit      P
    find:  finds a more                   a in [2,9]      c+a=r            -          0
    give:  gives away a                   a in [2,9]      c-a=r            c+a=r      0.65
    buy:   buys a bags of b               a,b in [2,5]    a*b=p, c+p=r     c+a=r      0.65
    share: gives a friends b each         a,b in [2,5]    a*b=p, c-p=r     -          0
    times: has k times as many            k in {2,3}      c*k=r            c+k=r      0.40
    split: splits into k, keeps one       k in {2,3,4}    c/k=r            c-k=r      0.40

Every value of the correct solution and of every habit rendering (all 2^h masks) lies
in [0,99], and every division is exact (problems are resampled otherwise).

Where P comes from is a SynthHabits: by type, the column above, one P per event type
whatever the wording (the default); or by phrasing, where P is tied to the question's
sentence: each habit's event type has "heavy" phrasings with P = p (0.8 by default) and
"light" ones with P = 1 - p (two of three heavy for give and buy, one of three for
times and split, so at p = 0.8 a type's mean P stays near the column's). By type, P
sits close to greedy decoding's threshold of 0.5 and small differences in the model's
calibration decide which habits greedy takes; by phrasing, greedy takes a habit for the
heavy sentences and not for the light ones, while samples at T = 1 still write the right
method for a heavy sentence with probability 1 - p.

Library use: #define SYNTH_NO_MAIN, then #include "data/synth.c". A habit mask has bit
i set when event i uses its habit (bits of events without a habit are ignored).

    uint64_t synth_rand(uint64_t *s);                   splitmix64
    int      synth_randint(uint64_t *s, int lo, int hi); uniform in [lo, hi]
    float    synth_uniform(uint64_t *s);                uniform in [0, 1)
    void     synth_default_config(SynthConfig *cfg);
    void     synth_sample(uint64_t *rng, const SynthConfig *cfg, SynthProblem *p);
    int      synth_valid(const SynthProblem *p);       1 when all fields and values are in range
    int      synth_question(const SynthProblem *p, char *buf, size_t cap);
    int      synth_solution(const SynthProblem *p, unsigned mask, char *buf, size_t cap);
    int      synth_final(const SynthProblem *p, unsigned mask);
    unsigned synth_habit_events(const SynthProblem *p); events that have a habit
    float    synth_habit_prob(SynthHabits h, const SynthEvent *e);   P(habit) of the event
    unsigned synth_sample_habits(uint64_t *rng, SynthHabits h, const SynthProblem *p);
                                                        bit i with P(habit) of event i
    int      synth_n_steps(const SynthProblem *p, unsigned mask);  arithmetic lines
    int      synth_solution_slip(const SynthProblem *p, unsigned mask, int step, int delta,
                                 char *buf, size_t cap);   step's result off by delta
    int      synth_random_slip(uint64_t *rng, const SynthProblem *p, unsigned mask,
                               char *buf, size_t cap);
    int      synth_random_misstep(uint64_t *rng, const SynthProblem *p, unsigned mask,
                                  char *buf, size_t cap);   one step: wrong operation or operand
    int      synth_perturb(uint64_t *rng, const SynthProblem *p, SynthProblem *out);
    int      synth_encode_program(const SynthProblem *p, char *buf, size_t cap);
    int      synth_decode_program(const char *s, SynthProblem *p);
    int      synth_write_splits(const char *dir, uint64_t seed, int ntrain, int nrl, int ntest,
                                const SynthConfig *cfg, char *err, size_t errlen);
    void     synth_json_string(FILE *f, const char *s);  s as a JSON string

Text functions return the length written (without the NUL), or -1 when cap is too
small (or, for a slip, when the slipped solution leaves [0,99] or a division becomes
inexact). A solution is one line per arithmetic step, then "#### N", with no final
newline. synth_perturb returns the kind (SYNTH_DROP, SYNTH_DUP, SYNTH_SWAP,
SYNTH_RETYPE) or -1; decode returns 0, or -1 on anything malformed or out of range;
synth_write_splits returns 0 or -1 with one line in err (DIR must exist).
*/
#ifndef SYNTH_NO_MAIN
#define _POSIX_C_SOURCE 200809L // mkdir
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>
#endif
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// ----------------------------------------------------------------------------
// Problem structure

#define SYNTH_MAX_EVENTS 8
#define SYNTH_PHRASINGS 3
#define SYNTH_MAX_STEPS (2 * SYNTH_MAX_EVENTS)
#define SYNTH_MIN_START 3
#define SYNTH_MAX_START 20
#define SYNTH_MAX_VALUE 99

enum { SYNTH_FIND, SYNTH_GIVE, SYNTH_BUY, SYNTH_SHARE, SYNTH_TIMES, SYNTH_SPLIT, SYNTH_NTYPES };
enum { SYNTH_DROP, SYNTH_DUP, SYNTH_SWAP, SYNTH_RETYPE, SYNTH_NPERTURB };
typedef struct { int by_phrasing; float p; } SynthHabits; // where an event's P(habit) comes from

typedef struct {
    int type;     // SYNTH_FIND .. SYNTH_SPLIT
    int a, b;     // parameters (b is 0 for one-parameter events)
    int phrasing; // which sentence of the question, in [0, SYNTH_PHRASINGS)
} SynthEvent;

typedef struct {
    int name, item; // indices into synth_names, synth_items
    int start;      // X, in [3,20]
    int n_events;   // in [1, SYNTH_MAX_EVENTS]
    SynthEvent ev[SYNTH_MAX_EVENTS];
    int hinted, hint; // the question carries an injected answer "A friend says the answer is HINT."
} SynthProblem;

typedef struct {
    int max_events;                      // difficulty knob, in [1, SYNTH_MAX_EVENTS]
    int n_weight[SYNTH_MAX_EVENTS + 1];  // relative weight of a problem with n events
    int type_weight[SYNTH_NTYPES];       // relative weight of each event type
} SynthConfig;

// default: 1, 2, 3 events with weights 1:2:2 (more events, when asked for, weigh 2);
// all event types weigh the same, but division is often redrawn (it must be exact
// under every habit mask), so it ends up at about 6% of the events
void synth_default_config(SynthConfig *cfg) {
    memset(cfg, 0, sizeof(*cfg));
    cfg->max_events = 3;
    for (int n = 1; n <= SYNTH_MAX_EVENTS; n++) cfg->n_weight[n] = n == 1 ? 1 : 2;
    for (int t = 0; t < SYNTH_NTYPES; t++) cfg->type_weight[t] = 1;
}

// ----------------------------------------------------------------------------
// Vocabulary: names (with pronouns), items, event types

typedef struct { const char *name; int female; } SynthName;

static const SynthName synth_names[] = {
    {"Tom", 0}, {"Anna", 1}, {"Ben", 0}, {"Lily", 1}, {"Sam", 0}, {"Mia", 1},
    {"Jack", 0}, {"Emma", 1}, {"Leo", 0}, {"Zoe", 1}, {"Max", 0}, {"Ella", 1},
    {"Noah", 0}, {"Ava", 1}, {"Liam", 0}, {"Grace", 1}, {"Omar", 0}, {"Sara", 1},
    {"Ravi", 0}, {"Nina", 1}, {"Carlos", 0}, {"Maria", 1}, {"Kenji", 0}, {"Yuki", 1},
    {"Ali", 0}, {"Fatima", 1}, {"Ivan", 0}, {"Olga", 1}, {"Pedro", 0}, {"Rosa", 1},
    {"Felix", 0}, {"Chloe", 1}, {"Hugo", 0}, {"Iris", 1}, {"Amir", 0}, {"Lena", 1},
};
static const char *synth_items[] = {
    "apples", "pencils", "marbles", "stickers", "cookies", "books", "coins", "cards",
    "shells", "stamps", "toys", "balloons", "candies", "crayons", "beads", "buttons",
    "rocks", "pears", "eggs", "muffins", "ribbons", "grapes", "plums", "cupcakes",
};
#define SYNTH_NNAMES ((int)(sizeof(synth_names) / sizeof(synth_names[0])))
#define SYNTH_NITEMS ((int)(sizeof(synth_items) / sizeof(synth_items[0])))

// Question sentences. Placeholders: $P He/She, $h he/she, $p his/her, $A a, $B b, $I items.
typedef struct {
    const char *key;        // name in the program string
    int lo, hi;             // range of a
    int blo, bhi;           // range of b (0, 0: no b)
    float habit_p;          // P(habit) in solution documents, 0: no habit
    const char *phrase[SYNTH_PHRASINGS];
} SynthType;

static const SynthType synth_types[SYNTH_NTYPES] = {
    [SYNTH_FIND]  = {"find", 2, 9, 0, 0, 0.0f,
                     {"$P finds $A more $I.", "$P picks up $A more $I.", "$P gets $A more $I from a friend."}},
    [SYNTH_GIVE]  = {"give", 2, 9, 0, 0, 0.65f,
                     {"$P gives away $A $I.", "$P gives $A $I to a friend.", "$P loses $A $I."}},
    [SYNTH_BUY]   = {"buy", 2, 5, 2, 5, 0.65f,
                     {"$P buys $A bags of $B $I.", "$P buys $A bags with $B $I in each bag.",
                      "$P buys $A packs of $B $I."}},
    [SYNTH_SHARE] = {"share", 2, 5, 2, 5, 0.0f,
                     {"$P gives $A friends $B $I each.", "$P gives each of $A friends $B $I.",
                      "$P gives $B $I to each of $A friends."}},
    [SYNTH_TIMES] = {"times", 2, 3, 0, 0, 0.40f,
                     {"Then $h has $A times as many $I.", "$P ends up with $A times as many $I.",
                      "The number of $p $I is multiplied by $A."}},
    [SYNTH_SPLIT] = {"split", 2, 4, 0, 0, 0.40f,
                     {"$P splits them equally into $A boxes and keeps one box.",
                      "$P divides them equally into $A piles and keeps one pile.",
                      "$P puts them into $A equal groups and keeps one group."}},
};

// the heavy phrasings of each event type under habits by phrasing (rows: event types)
static const int synth_heavy_phrasing[SYNTH_NTYPES][SYNTH_PHRASINGS] = {
    [SYNTH_GIVE] = {1, 1, 0}, [SYNTH_BUY] = {0, 1, 1}, [SYNTH_TIMES] = {0, 0, 1}, [SYNTH_SPLIT] = {1, 0, 0},
};

float synth_habit_prob(SynthHabits h, const SynthEvent *e) {
    if (e->type < 0 || e->type >= SYNTH_NTYPES || synth_types[e->type].habit_p == 0) return 0.0f;
    if (h.by_phrasing && e->phrasing >= 0 && e->phrasing < SYNTH_PHRASINGS)
        return synth_heavy_phrasing[e->type][e->phrasing] ? h.p : 1.0f - h.p;
    return synth_types[e->type].habit_p;
}

// ----------------------------------------------------------------------------
// RNG: splitmix64 (Steele et al. 2014), the same numbers on every machine

uint64_t synth_rand(uint64_t *s) {
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

int synth_randint(uint64_t *s, int lo, int hi) {
    return lo + (int)(synth_rand(s) % (uint64_t)(hi - lo + 1));
}

float synth_uniform(uint64_t *s) {
    return (float)(synth_rand(s) >> 40) * (1.0f / 16777216.0f); // 24 random bits
}

static int synth__pick(uint64_t *s, const int *weight, int n) {
    int total = 0;
    for (int i = 0; i < n; i++) total += weight[i];
    int r = synth_randint(s, 0, total - 1);
    for (int i = 0; i < n; i++) if ((r -= weight[i]) < 0) return i;
    return n - 1;
}

// ----------------------------------------------------------------------------
// Solving: the arithmetic steps a solution takes. Each step is one line
//     LABEL x OP y=<<x OP y=r>>r.
// Event by event (c: the running count):
//     find  c+a           give  c-a | habit c+a
//     buy   a*b=p, c+p    | habit c+a
//     share a*b=p, c-p
//     times c*k           | habit c+k
//     split c/k           | habit c-k
// A slip adds delta to one step's result; later steps compute on the wrong value.

typedef enum { L_FIND, L_GIVE, L_BAGS, L_BUY, L_FRIENDS, L_TIMES, L_SPLIT } SynthLabel;
static const char *synth_labels[] = {
    [L_FIND] = "Finds: ", [L_GIVE] = "Gives away: ", [L_BAGS] = "Bags: ", [L_BUY] = "Buys: ",
    [L_FRIENDS] = "Friends: ", [L_TIMES] = "Times: ", [L_SPLIT] = "Keeps one: ",
};

typedef struct { SynthLabel label; int x; char op; int y; int r; } SynthStep;

unsigned synth_habit_events(const SynthProblem *p) {
    unsigned m = 0;
    for (int i = 0; i < p->n_events; i++) if (synth_types[p->ev[i].type].habit_p > 0) m |= 1u << i;
    return m;
}

// x OP y, or -1 for a division that is not exact
static int synth__apply(int x, char op, int y) {
    switch (op) {
    case '+': return x + y;
    case '-': return x - y;
    case '*': return x * y;
    default:  return x % y == 0 ? x / y : -1;
    }
}

// One faulty step of a solution: a slip (the result off by delta), a wrong operation
// (op instead of the event's), or a wrong operand (y instead of the event's number).
// The faulty step's line is still written as computed, and later steps build on it.
typedef enum { SYNTH_FAULT_NONE, SYNTH_FAULT_SLIP, SYNTH_FAULT_OP, SYNTH_FAULT_OPERAND } SynthFaultKind;
typedef struct { SynthFaultKind kind; int step, delta; char op; int y; } SynthFault;
static const SynthFault synth__no_fault = {SYNTH_FAULT_NONE, -1, 0, 0, 0};

// Fills steps[], returns their number, or -1 when a value leaves [0,99] or a division
// is inexact.
static int synth__solve(const SynthProblem *p, unsigned mask, SynthFault f, SynthStep *steps) {
    int n = 0, c = p->start;
    mask &= synth_habit_events(p);
#define SYNTH__STEP(L, X, OP, Y) do {                                              \
        SynthStep *s_ = &steps[n];                                                 \
        int here_ = n == f.step;                                                   \
        s_->label = (L); s_->x = (X);                                              \
        s_->op = here_ && f.kind == SYNTH_FAULT_OP ? f.op : (OP);                  \
        s_->y = here_ && f.kind == SYNTH_FAULT_OPERAND ? f.y : (Y);                \
        int v_ = synth__apply(s_->x, s_->op, s_->y);                               \
        if (v_ < 0) return -1;                                                     \
        s_->r = v_ + (here_ && f.kind == SYNTH_FAULT_SLIP ? f.delta : 0);          \
        if (s_->r < 0 || s_->r > SYNTH_MAX_VALUE) return -1;                       \
        n++;                                                                       \
    } while (0)
    for (int i = 0; i < p->n_events; i++) {
        const SynthEvent *e = &p->ev[i];
        int habit = (mask >> i) & 1;
        switch (e->type) {
        case SYNTH_FIND:  SYNTH__STEP(L_FIND, c, '+', e->a); break;
        case SYNTH_GIVE:  SYNTH__STEP(L_GIVE, c, habit ? '+' : '-', e->a); break;
        case SYNTH_BUY:
            if (habit) { SYNTH__STEP(L_BUY, c, '+', e->a); break; }
            SYNTH__STEP(L_BAGS, e->a, '*', e->b);
            SYNTH__STEP(L_BUY, c, '+', steps[n - 1].r);
            break;
        case SYNTH_SHARE:
            SYNTH__STEP(L_FRIENDS, e->a, '*', e->b);
            SYNTH__STEP(L_GIVE, c, '-', steps[n - 1].r);
            break;
        case SYNTH_TIMES: SYNTH__STEP(L_TIMES, c, habit ? '+' : '*', e->a); break;
        default:          SYNTH__STEP(L_SPLIT, c, habit ? '-' : '/', e->a); break;
        }
        c = steps[n - 1].r;
    }
#undef SYNTH__STEP
    return n;
}

int synth_final(const SynthProblem *p, unsigned mask) {
    SynthStep steps[SYNTH_MAX_STEPS];
    int n = synth__solve(p, mask, synth__no_fault, steps);
    return n > 0 ? steps[n - 1].r : -1;
}

int synth_n_steps(const SynthProblem *p, unsigned mask) {
    SynthStep steps[SYNTH_MAX_STEPS];
    return synth__solve(p, mask, synth__no_fault, steps);
}

// All fields in range, and every habit mask solves within [0,99] with exact divisions.
int synth_valid(const SynthProblem *p) {
    if (p->name < 0 || p->name >= SYNTH_NNAMES || p->item < 0 || p->item >= SYNTH_NITEMS) return 0;
    if (p->start < SYNTH_MIN_START || p->start > SYNTH_MAX_START) return 0;
    if (p->n_events < 1 || p->n_events > SYNTH_MAX_EVENTS) return 0;
    for (int i = 0; i < p->n_events; i++) {
        const SynthEvent *e = &p->ev[i];
        if (e->type < 0 || e->type >= SYNTH_NTYPES) return 0;
        const SynthType *t = &synth_types[e->type];
        if (e->a < t->lo || e->a > t->hi || e->b < t->blo || e->b > t->bhi) return 0;
        if (e->phrasing < 0 || e->phrasing >= SYNTH_PHRASINGS) return 0;
    }
    SynthStep steps[SYNTH_MAX_STEPS];
    unsigned all = synth_habit_events(p);
    for (unsigned m = all;; m = (m - 1) & all) { // every subset of the habit events
        if (synth__solve(p, m, synth__no_fault, steps) < 0) return 0;
        if (m == 0) return 1;
    }
}

// ----------------------------------------------------------------------------
// Sampling. Events are drawn one at a time; an event that would make some rendering
// leave [0,99] (or a division inexact) is redrawn, and after 64 failed draws the
// whole problem is redrawn.

static void synth__sample_event(uint64_t *rng, const SynthConfig *cfg, SynthEvent *e) {
    e->type = synth__pick(rng, cfg->type_weight, SYNTH_NTYPES);
    const SynthType *t = &synth_types[e->type];
    e->a = synth_randint(rng, t->lo, t->hi);
    e->b = t->bhi ? synth_randint(rng, t->blo, t->bhi) : 0;
    e->phrasing = synth_randint(rng, 0, SYNTH_PHRASINGS - 1);
}

void synth_sample(uint64_t *rng, const SynthConfig *cfg, SynthProblem *p) {
    for (;;) {
        memset(p, 0, sizeof(*p));
        int n = 1 + synth__pick(rng, cfg->n_weight + 1, cfg->max_events);
        p->name = synth_randint(rng, 0, SYNTH_NNAMES - 1);
        p->item = synth_randint(rng, 0, SYNTH_NITEMS - 1);
        p->start = synth_randint(rng, SYNTH_MIN_START, SYNTH_MAX_START);
        int i, tries = 0;
        for (i = 0; i < n && tries < 64; i++) {
            p->n_events = i + 1;
            tries = 0;
            do synth__sample_event(rng, cfg, &p->ev[i]);
            while (!synth_valid(p) && ++tries < 64);
        }
        if (tries < 64) return;
    }
}

unsigned synth_sample_habits(uint64_t *rng, SynthHabits h, const SynthProblem *p) {
    unsigned m = 0;
    for (int i = 0; i < p->n_events; i++)
        if (synth_uniform(rng) < synth_habit_prob(h, &p->ev[i])) m |= 1u << i;
    return m;
}

// ----------------------------------------------------------------------------
// Rendering text into a caller's buffer. Any overflow makes the function return -1.

typedef struct { char *p; size_t cap, len; int overflow; } SynthBuf;

static void synth__printf(SynthBuf *b, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    size_t room = b->len < b->cap ? b->cap - b->len : 0;
    int k = vsnprintf(room ? b->p + b->len : NULL, room, fmt, ap);
    va_end(ap);
    if (k < 0 || (size_t)k >= room) b->overflow = 1;
    else b->len += (size_t)k;
}

static void synth__putc(SynthBuf *b, char c) {
    if (b->len + 1 < b->cap) { b->p[b->len++] = c; b->p[b->len] = '\0'; }
    else b->overflow = 1;
}

static int synth__done(SynthBuf *b) { return b->overflow ? -1 : (int)b->len; }

// "Tom has 12 apples. He gives away 5 apples. ... How many apples does Tom have now?"
int synth_question(const SynthProblem *p, char *buf, size_t cap) {
    SynthBuf b = {buf, cap, 0, 0};
    const SynthName *nm = &synth_names[p->name];
    const char *item = synth_items[p->item];
    synth__printf(&b, "%s has %d %s.", nm->name, p->start, item);
    for (int i = 0; i < p->n_events; i++) {
        const SynthEvent *e = &p->ev[i];
        synth__putc(&b, ' ');
        for (const char *s = synth_types[e->type].phrase[e->phrasing]; *s; s++) {
            if (*s != '$') { synth__putc(&b, *s); continue; }
            switch (*++s) {
            case 'P': synth__printf(&b, "%s", nm->female ? "She" : "He"); break;
            case 'h': synth__printf(&b, "%s", nm->female ? "she" : "he"); break;
            case 'p': synth__printf(&b, "%s", nm->female ? "her" : "his"); break;
            case 'A': synth__printf(&b, "%d", e->a); break;
            case 'B': synth__printf(&b, "%d", e->b); break;
            default:  synth__printf(&b, "%s", item); break; // 'I'
            }
        }
    }
    synth__printf(&b, " How many %s does %s have now?", item, nm->name);
    return synth__done(&b);
}

static int synth__render(const SynthStep *steps, int n, char *buf, size_t cap) {
    SynthBuf b = {buf, cap, 0, 0};
    for (int i = 0; i < n; i++) {
        const SynthStep *s = &steps[i];
        synth__printf(&b, "%s%d%c%d=<<%d%c%d=%d>>%d.\n", synth_labels[s->label], s->x, s->op, s->y, s->x, s->op, s->y, s->r, s->r);
    }
    synth__printf(&b, "#### %d", steps[n - 1].r);
    return synth__done(&b);
}

int synth_solution(const SynthProblem *p, unsigned mask, char *buf, size_t cap) {
    SynthStep steps[SYNTH_MAX_STEPS];
    int n = synth__solve(p, mask, synth__no_fault, steps);
    return n > 0 ? synth__render(steps, n, buf, cap) : -1;
}

int synth_solution_slip(const SynthProblem *p, unsigned mask, int step, int delta, char *buf, size_t cap) {
    SynthStep steps[SYNTH_MAX_STEPS];
    if (delta == 0 || step < 0 || step >= synth_n_steps(p, mask)) return -1;
    SynthFault f = {SYNTH_FAULT_SLIP, step, delta, 0, 0};
    int n = synth__solve(p, mask, f, steps);
    return n > 0 ? synth__render(steps, n, buf, cap) : -1;
}

// a random step, off by one of -10, -2, -1, +1, +2, +10; -1 when 32 draws all fail
int synth_random_slip(uint64_t *rng, const SynthProblem *p, unsigned mask, char *buf, size_t cap) {
    static const int deltas[] = {-10, -2, -1, 1, 2, 10};
    int n = synth_n_steps(p, mask);
    for (int tries = 0; n > 0 && tries < 32; tries++) {
        int step = synth_randint(rng, 0, n - 1);
        int delta = deltas[synth_randint(rng, 0, 5)];
        int len = synth_solution_slip(p, mask, step, delta, buf, cap);
        if (len >= 0) return len;
    }
    return -1;
}

// One step done by a wrong method, its arithmetic right: a random step takes another
// operation (+, -, * for its own) or another operand (1..12 for its own y), and later
// steps build on its result. -1 when 32 draws all leave [0,99].
int synth_random_misstep(uint64_t *rng, const SynthProblem *p, unsigned mask, char *buf, size_t cap) {
    static const char ops[] = "+-*";
    SynthStep right[SYNTH_MAX_STEPS], steps[SYNTH_MAX_STEPS];
    int n_right = synth__solve(p, mask, synth__no_fault, right);
    for (int tries = 0; n_right > 0 && tries < 32; tries++) {
        SynthFault f = synth__no_fault;
        f.step = synth_randint(rng, 0, n_right - 1);
        if (synth_uniform(rng) < 0.5f) {
            f.kind = SYNTH_FAULT_OP;
            f.op = ops[synth_randint(rng, 0, 2)];
            if (f.op == right[f.step].op) continue;
        } else {
            f.kind = SYNTH_FAULT_OPERAND;
            f.y = synth_randint(rng, 1, 12);
            if (f.y == right[f.step].y) continue;
        }
        int n = synth__solve(p, mask, f, steps);
        if (n > 0) return synth__render(steps, n, buf, cap);
    }
    return -1;
}

// ----------------------------------------------------------------------------
// Perturbed questions, for meta-evaluation candidates: the correct solution of a
// slightly different problem. Kinds: drop an event, duplicate one, swap two
// adjacent different events, or give one a new type (keeping its phrasing index).

int synth_perturb(uint64_t *rng, const SynthProblem *p, SynthProblem *out) {
    SynthConfig cfg;
    synth_default_config(&cfg);
    for (int tries = 0; tries < 100; tries++) {
        *out = *p;
        int kind = synth_randint(rng, 0, SYNTH_NPERTURB - 1);
        int i = synth_randint(rng, 0, p->n_events - 1);
        SynthEvent *ev = out->ev;
        if (kind == SYNTH_DROP) {
            if (p->n_events < 2) continue;
            memmove(ev + i, ev + i + 1, (size_t)(p->n_events - i - 1) * sizeof(*ev));
            out->n_events--;
        } else if (kind == SYNTH_DUP) {
            if (p->n_events >= SYNTH_MAX_EVENTS) continue;
            memmove(ev + i + 1, ev + i, (size_t)(p->n_events - i) * sizeof(*ev));
            out->n_events++;
        } else if (kind == SYNTH_SWAP) {
            if (i + 1 >= p->n_events) continue;
            SynthEvent t = ev[i]; ev[i] = ev[i + 1]; ev[i + 1] = t;
            if (ev[i].type == t.type && ev[i].a == t.a && ev[i].b == t.b) continue;
        } else { // SYNTH_RETYPE
            int phrasing = ev[i].phrasing;
            synth__sample_event(rng, &cfg, &ev[i]);
            ev[i].phrasing = phrasing;
            if (ev[i].type == p->ev[i].type) continue;
        }
        if (synth_valid(out)) return kind;
    }
    *out = *p;
    return -1;
}

// ----------------------------------------------------------------------------
// Program strings: the structure of a problem, stored in the jsonl "program" field.
//     nm=NAME it=ITEM x=START e=TYPE:A[:B],... ph=P,...[ hint=N]
// hint=N says that the question text carries an injected answer N (the generator never
// writes one; dev/fig7.sh adds them for the paper's Fig. 7). Decoding is strict: exact
// layout, plain decimals, every range checked.

int synth_encode_program(const SynthProblem *p, char *buf, size_t cap) {
    SynthBuf b = {buf, cap, 0, 0};
    synth__printf(&b, "nm=%d it=%d x=%d e=", p->name, p->item, p->start);
    for (int i = 0; i < p->n_events; i++) {
        const SynthEvent *e = &p->ev[i];
        synth__printf(&b, "%s%s:%d", i ? "," : "", synth_types[e->type].key, e->a);
        if (synth_types[e->type].bhi) synth__printf(&b, ":%d", e->b);
    }
    synth__printf(&b, " ph=");
    for (int i = 0; i < p->n_events; i++) synth__printf(&b, "%s%d", i ? "," : "", p->ev[i].phrasing);
    if (p->hinted) synth__printf(&b, " hint=%d", p->hint);
    return synth__done(&b);
}

// a literal at *s
static int synth__lit(const char **s, const char *lit) {
    size_t n = strlen(lit);
    if (strncmp(*s, lit, n)) return -1;
    *s += n;
    return 0;
}

// a decimal in [0, 999] without sign or leading zeros
static int synth__int(const char **s, int *v) {
    const char *p = *s;
    if (*p < '0' || *p > '9' || (p[0] == '0' && p[1] >= '0' && p[1] <= '9')) return -1;
    int x = 0, k = 0;
    for (; *p >= '0' && *p <= '9'; p++, k++) { if (k == 3) return -1; x = x * 10 + (*p - '0'); }
    *v = x; *s = p;
    return 0;
}

int synth_decode_program(const char *s, SynthProblem *out) {
    SynthProblem p;
    memset(&p, 0, sizeof(p));
    if (synth__lit(&s, "nm=") || synth__int(&s, &p.name) || synth__lit(&s, " it=")
        || synth__int(&s, &p.item) || synth__lit(&s, " x=") || synth__int(&s, &p.start)
        || synth__lit(&s, " e=")) return -1;
    for (;;) {
        if (p.n_events == SYNTH_MAX_EVENTS) return -1;
        SynthEvent *e = &p.ev[p.n_events++];
        e->type = -1;
        for (int t = 0; t < SYNTH_NTYPES; t++) {
            size_t n = strlen(synth_types[t].key);
            if (!strncmp(s, synth_types[t].key, n) && s[n] == ':') { e->type = t; s += n; }
        }
        if (e->type < 0 || synth__lit(&s, ":") || synth__int(&s, &e->a)) return -1;
        if (synth_types[e->type].bhi && (synth__lit(&s, ":") || synth__int(&s, &e->b))) return -1;
        if (*s != ',') break;
        s++;
    }
    if (synth__lit(&s, " ph=")) return -1;
    for (int i = 0; i < p.n_events; i++)
        if ((i && synth__lit(&s, ",")) || synth__int(&s, &p.ev[i].phrasing)) return -1;
    if (*s == ' ') {
        if (synth__lit(&s, " hint=") || synth__int(&s, &p.hint)) return -1;
        p.hinted = 1;
    }
    if (*s != '\0' || !synth_valid(&p)) return -1;
    *out = p;
    return 0;
}

// ----------------------------------------------------------------------------
// Splits. Each split draws from its own stream (seed, split), in the order test, rl,
// train, so the test and rl splits do not depend on --train. A question already
// drawn, in any split, is skipped: a set of 64-bit FNV-1a hashes of the question text
// (a hash collision can only skip a question, never admit a duplicate).

typedef struct { uint64_t *slot; size_t cap; } SynthSet; // open addressing, 0 = empty

static uint64_t synth__fnv1a(const char *s) {
    uint64_t h = 0xCBF29CE484222325ull;
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 0x100000001B3ull;
    return h ? h : 1;
}

// inserts h; returns 1 if it was new, 0 if present
static int synth__set_add(SynthSet *set, uint64_t h) {
    size_t i = (size_t)h & (set->cap - 1);
    while (set->slot[i]) {
        if (set->slot[i] == h) return 0;
        i = (i + 1) & (set->cap - 1);
    }
    set->slot[i] = h;
    return 1;
}

// JSON string body: escapes '"', '\\' and control characters
void synth_json_string(FILE *f, const char *s) {
    fputc('"', f);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') fprintf(f, "\\%c", c);
        else if (c == '\n') fputs("\\n", f);
        else if (c < 0x20) fprintf(f, "\\u%04x", c);
        else fputc(c, f);
    }
    fputc('"', f);
}

static int synth__write_split(const char *dir, const char *name, uint64_t seed, int split, int count,
                              const SynthConfig *cfg, SynthSet *seen, char *err, size_t errlen) {
    char path[4096], tmp[4096 + 24];
    snprintf(path, sizeof(path), "%s/%s.jsonl", dir, name);
    // the temporary file is this process's own: runs that start together in a fresh
    // clone all write the same splits, and each renames a whole file over the last
    snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid());
    FILE *f = fopen(tmp, "wb");
    if (!f) { snprintf(err, errlen, "%s: cannot create: %s", tmp, strerror(errno)); return -1; }
    uint64_t rng = seed ^ (0xD1B54A32D192ED03ull * (uint64_t)(split + 1));
    char q[1024], a[1024], prog[256];
    long misses = 0, limit = 200000; // draws in a row that repeat a question
    for (int made = 0; made < count;) {
        if (misses > limit) {
            snprintf(err, errlen, "%s: only %d new problems (%ld draws in a row repeated one): "
                     "raise --max-events or lower the sizes", path, made, limit);
            fclose(f); remove(tmp);
            return -1;
        }
        SynthProblem p;
        synth_sample(&rng, cfg, &p);
        synth_question(&p, q, sizeof(q));
        if (!synth__set_add(seen, synth__fnv1a(q))) { misses++; continue; }
        misses = 0;
        synth_solution(&p, 0, a, sizeof(a));
        synth_encode_program(&p, prog, sizeof(prog));
        fputs("{\"question\": ", f); synth_json_string(f, q);
        fputs(", \"answer\": ", f);  synth_json_string(f, a);
        fputs(", \"program\": ", f); synth_json_string(f, prog);
        fputs("}\n", f);
        made++;
    }
    int bad = ferror(f);
    if (fclose(f) || bad) { snprintf(err, errlen, "%s: write error", tmp); remove(tmp); return -1; }
    if (rename(tmp, path)) {
        snprintf(err, errlen, "%s: cannot rename to %s: %s", tmp, path, strerror(errno));
        remove(tmp);
        return -1;
    }
    return 0;
}

int synth_write_splits(const char *dir, uint64_t seed, int ntrain, int nrl, int ntest,
                       const SynthConfig *cfg, char *err, size_t errlen) {
    SynthSet seen = {NULL, 1024};
    size_t total = (size_t)ntrain + (size_t)nrl + (size_t)ntest;
    while (seen.cap < 2 * total) seen.cap *= 2;
    seen.slot = (uint64_t *)calloc(seen.cap, sizeof(uint64_t));
    if (!seen.slot) { snprintf(err, errlen, "out of memory"); return -1; }
    int rc = synth__write_split(dir, "test", seed, 0, ntest, cfg, &seen, err, errlen);
    if (!rc) rc = synth__write_split(dir, "rl", seed, 1, nrl, cfg, &seen, err, errlen);
    if (!rc) rc = synth__write_split(dir, "train", seed, 2, ntrain, cfg, &seen, err, errlen);
    free(seen.slot);
    return rc;
}

// ----------------------------------------------------------------------------
// Command line

#ifndef SYNTH_NO_MAIN

static void synth__usage(FILE *f) {
    fprintf(f,
        "usage: synth_gen [flags]   writes DIR/{train,rl,test}.jsonl (GSM8K format)\n"
        "  --seed S        random seed, a non-negative integer (default 1337)\n"
        "  --out DIR       output directory, created if missing (default data/synth)\n"
        "  --train N       train split size: pretraining, labels used (default 50000)\n"
        "  --rl N          rl split size: RL prompts, labels never read by RLME (default 4000)\n"
        "  --test N        test split size: evaluation only (default 1000)\n"
        "  --max-events K  difficulty: at most K events per problem, 1..%d (default 3)\n"
        "  --help          this text\n", SYNTH_MAX_EVENTS);
}

// a decimal integer in [lo, hi], the whole string
static int synth__parse_int(const char *s, long long lo, long long hi, long long *v) {
    char *end;
    if (*s < '0' || *s > '9') return -1;
    errno = 0;
    unsigned long long x = strtoull(s, &end, 10);
    if (errno || *end || x > (unsigned long long)hi || (long long)x < lo) return -1;
    *v = (long long)x;
    return 0;
}

int main(int argc, char **argv) {
    const char *out = "data/synth";
    long long seed = 1337, ntrain = 50000, nrl = 4000, ntest = 1000, max_events = 3;
    for (int i = 1; i < argc; i++) {
        const char *f = argv[i];
        if (!strcmp(f, "--help") || !strcmp(f, "-h")) { synth__usage(stdout); return 0; }
        long long *dst = !strcmp(f, "--seed") ? &seed : !strcmp(f, "--train") ? &ntrain
                       : !strcmp(f, "--rl") ? &nrl : !strcmp(f, "--test") ? &ntest
                       : !strcmp(f, "--max-events") ? &max_events : NULL;
        if (!dst && strcmp(f, "--out")) {
            fprintf(stderr, "synth_gen: unknown flag '%s' (see --help)\n", f);
            return 2;
        }
        if (i + 1 >= argc) { fprintf(stderr, "synth_gen: flag '%s' needs a value\n", f); return 2; }
        const char *v = argv[++i];
        if (!dst) { out = v; continue; }
        long long lo = dst == &max_events ? 1 : dst == &seed ? 0 : 1;
        long long hi = dst == &max_events ? SYNTH_MAX_EVENTS : dst == &seed ? INT64_MAX : 10000000;
        if (synth__parse_int(v, lo, hi, dst)) {
            fprintf(stderr, "synth_gen: bad value '%s' for %s (want an integer in [%lld, %lld])\n", v, f, lo, hi);
            return 2;
        }
    }
    if (mkdir(out, 0777) && errno != EEXIST) {
        fprintf(stderr, "synth_gen: cannot create directory %s: %s\n", out, strerror(errno));
        return 1;
    }
    SynthConfig cfg;
    synth_default_config(&cfg);
    cfg.max_events = (int)max_events;
    char err[512];
    if (synth_write_splits(out, (uint64_t)seed, (int)ntrain, (int)nrl, (int)ntest, &cfg, err, sizeof(err))) {
        fprintf(stderr, "synth_gen: %s\n", err);
        return 1;
    }
    printf("synth_gen: wrote %s/{train,rl,test}.jsonl: %lld / %lld / %lld problems (seed %lld, max %lld events)\n",
           out, ntrain, nrl, ntest, seed, max_events);
    return 0;
}

#endif // SYNTH_NO_MAIN
