/*
Tests of the data layer: data/gsm8k.h (jsonl reader, answer extraction) and
data/synth.c (the problem generator). Run from the repository root:

    cc -O2 -std=c11 -Wall -Wextra -o test/bin/test_data test/test_data.c && ./test/bin/test_data

Prints one PASS/FAIL line per check group and exits non-zero on any failure. The real
GSM8K checks read the fixture in test/gsm8k/ and, when $GSM8K_DIR (else data/gsm8k/,
filled by data/gsm8k.sh) holds the full files, all 7,473 + 1,319 lines; without them
the full-file check is skipped, saying so. Temporary files go to /tmp/rlme_test_data.PID/.
*/
#define _POSIX_C_SOURCE 200809L // mkdir, rmdir, getpid
#include <math.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "../data/gsm8k.h"
#define SYNTH_NO_MAIN
#include "../data/synth.c"

// ----------------------------------------------------------------------------
// Reporting: CHECK records a failure (printing the first few of a group); a group
// ends with one PASS or FAIL line.

static int group_fails = 0, total_fails = 0, groups_passed = 0, groups_failed = 0;

#define CHECK(cond, ...) do {                                                      \
        if (!(cond)) {                                                             \
            if (group_fails++ < 5) { printf("  fail (line %d): ", __LINE__);       \
                                      printf(__VA_ARGS__); printf("\n"); }         \
        }                                                                          \
    } while (0)

static void group_end(const char *name, const char *detail) {
    printf("%s %s%s%s\n", group_fails ? "FAIL" : "PASS", name, detail[0] ? ": " : "", detail);
    total_fails += group_fails;
    if (group_fails) groups_failed++; else groups_passed++;
    group_fails = 0;
}

static char tmpdir[256];

static const char *tmp_path(const char *name) {
    static char path[4][512];
    static int k = 0;
    k = (k + 1) % 4;
    snprintf(path[k], sizeof(path[k]), "%s/%s", tmpdir, name);
    return path[k];
}

static void write_file(const char *path, const char *data, size_t len) {
    FILE *f = fopen(path, "wb");
    if (!f) { printf("FAIL cannot write %s\n", path); exit(1); }
    fwrite(data, 1, len, f);
    fclose(f);
}

static char *read_all(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    *len = fread(buf, 1, (size_t)n, f);
    buf[*len] = '\0';
    fclose(f);
    return buf;
}

static double now(void) { return (double)clock() / CLOCKS_PER_SEC; }

// ----------------------------------------------------------------------------
// Real GSM8K: every line loads and every gold answer has a number

// the train and test files of `dir` hold want[0] and want[1] lines
static void test_real_gsm8k(const char *dir, const int want[2], const char *name) {
    const char *split[2] = {"train", "test"};
    char path[2][512];
    for (int s = 0; s < 2; s++) {
        snprintf(path[s], sizeof(path[s]), "%s/%s.jsonl", dir, split[s]);
        FILE *f = fopen(path[s], "rb");
        if (!f) { printf("skipped: %s (no %s: run data/gsm8k.sh or set GSM8K_DIR)\n", name, path[s]); return; }
        fclose(f);
    }
    char detail[256] = "";
    for (int s = 0; s < 2; s++) {
        GSMExample *ex; int n; char err[2048];
        double t0 = now();
        int rc = gsm8k_load(path[s], &ex, &n, err, sizeof(err));
        double dt = now() - t0;
        CHECK(rc == 0, "%s", err);
        if (rc) continue;
        CHECK(n == want[s], "%s: %d lines, want %d", path[s], n, want[s]);
        int golds = 0, unicode = 0;
        for (int i = 0; i < n; i++) {
            char num[GSM8K_NUM_MAX];
            if (gsm8k_gold(ex[i].answer, num, sizeof(num))) golds++;
            else CHECK(0, "%s:%d: no gold number in answer", path[s], i + 1);
            CHECK(gsm8k_is_correct(ex[i].answer, ex[i].answer), "%s:%d: answer does not score itself", path[s], i + 1);
            for (const char *c = ex[i].question; *c; c++) unicode += (unsigned char)*c >= 0x80;
        }
        CHECK(golds == want[s], "%s: %d gold numbers, want %d", path[s], golds, want[s]);
        CHECK(unicode > 0, "%s: no \\u escape decoded to UTF-8 in any question", path[s]);
        snprintf(detail + strlen(detail), sizeof(detail) - strlen(detail),
                 "%s%s %d lines, %d gold numbers, %d non-ASCII bytes (%.2fs)", s ? "; " : "", split[s], n, golds,
                 unicode, dt);
        gsm8k_free(ex, n);
    }
    group_end(name, detail);
}

// ----------------------------------------------------------------------------
// JSON: every escape, unknown nested fields, and malformed input

static void test_json_valid(void) {
    const char *text =
        "{\"question\": \"a\\\"b\\\\c\\/d\\be\\ff\\ng\\rh\\ti \\u00e9\\u20AC\\ud83d\\ude00 \xc3\xa9\xf0\x9f\x98\x80\","
        " \"answer\": \"x\\n#### 1,080\"}\r\n"
        "\n   \n"
        "  {\"id\": [1, -2.5e3, 0, 1E+2, {\"x\": [true, false, null, {}], \"y\": \"\\u0041\"}, []],"
        " \"question\": \"q\", \"meta\": {\"question\": 5}, \"answer\": \"#### -3\", \"program\": \"p\"}  \n";
    const char *path = tmp_path("valid.jsonl");
    write_file(path, text, strlen(text));
    GSMExample *ex; int n; char err[2048];
    int rc = gsm8k_load(path, &ex, &n, err, sizeof(err));
    CHECK(rc == 0, "%s", err);
    if (rc == 0) {
        CHECK(n == 2, "n = %d, want 2 (blank lines skipped)", n);
        const char *want = "a\"b\\c/d\be\ff\ng\rh\ti \xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80 \xc3\xa9\xf0\x9f\x98\x80";
        CHECK(!strcmp(ex[0].question, want), "escapes decoded wrong: '%s'", ex[0].question);
        CHECK(!strcmp(ex[0].answer, "x\n#### 1,080"), "answer '%s'", ex[0].answer);
        CHECK(ex[0].program == NULL, "program should be NULL");
        CHECK(n == 2 && !strcmp(ex[1].question, "q") && !strcmp(ex[1].answer, "#### -3")
              && ex[1].program && !strcmp(ex[1].program, "p"), "line 2 fields wrong");
        char num[GSM8K_NUM_MAX];
        CHECK(gsm8k_gold(ex[0].answer, num, sizeof(num)) && !strcmp(num, "1080"), "gold 1,080 -> %s", num);
        gsm8k_free(ex, n);
    }
    // a 5 MB line (a question of escapes and multi-byte characters) loads, in linear time
    size_t reps = 5u << 20 >> 4, len = 0;
    char *big = malloc(reps * 16 + 128);
    len += (size_t)sprintf(big, "{\"question\": \"");
    for (size_t i = 0; i < reps; i++) { memcpy(big + len, "ab\\n\\u00e9\xc3\xa9xyzw", 16); len += 16; }
    len += (size_t)sprintf(big + len, "\", \"answer\": \"#### 7\"}\n");
    path = tmp_path("big.jsonl");
    write_file(path, big, len);
    double t0 = now();
    rc = gsm8k_load(path, &ex, &n, err, sizeof(err));
    double dt = now() - t0;
    CHECK(rc == 0, "5 MB line: %s", err);
    if (rc == 0) {
        CHECK(strlen(ex[0].question) == reps * 11, "5 MB line decoded to %zu bytes, want %zu",
              strlen(ex[0].question), reps * 11);
        gsm8k_free(ex, n);
    }
    // the same line unterminated: an error, no crash
    big[len - 24] = '\0'; // cut inside the question string
    write_file(path, big, len - 24);
    rc = gsm8k_load(path, &ex, &n, err, sizeof(err));
    CHECK(rc == -1 && strstr(err, "unterminated string"), "5 MB unterminated: rc %d '%s'", rc, err);
    free(big);
    char detail[128];
    snprintf(detail, sizeof(detail), "all escapes, surrogate pairs, nested unknown fields, 5 MB line in %.2fs", dt);
    group_end("JSON valid input", detail);
}

static void test_json_errors(void) {
    static const struct { const char *text; const char *want; } cases[] = {
        {"{\"question\": \"abc", ":1: unterminated string"},
        {"{\"question\": \"a\\xb\", \"answer\": \"1\"}", "invalid escape '\\x'"},
        {"{\"question\": \"a\\udc00\", \"answer\": \"1\"}", "lone surrogate \\uDC00"},
        {"{\"question\": \"a\\ud83d b\", \"answer\": \"1\"}", "lone surrogate \\uD83D"},
        {"{\"question\": \"a\\ud83d\\u0041\", \"answer\": \"1\"}", "lone surrogate \\uD83D"},
        {"{\"question\": \"a\\ud83d\", \"answer\": \"1\"}", "lone surrogate"},
        {"{\"question\": \"a\\u12G4\", \"answer\": \"1\"}", "invalid \\u escape"},
        {"{\"question\": \"a\\u12\"}", "invalid \\u escape"},
        {"{\"question\": \"a\\u0000\", \"answer\": \"1\"}", "\\u0000 is not supported"},
        {"{\"question\": \"a\xff\", \"answer\": \"1\"}", "invalid UTF-8"},
        {"{\"question\": \"a\xc0\xaf\", \"answer\": \"1\"}", "invalid UTF-8"},           // overlong
        {"{\"question\": \"a\xe2\x82\", \"answer\": \"1\"}", "invalid UTF-8"},           // truncated
        {"{\"question\": \"a\xed\xa0\x80\", \"answer\": \"1\"}", "invalid UTF-8"},       // surrogate
        {"{\"question\": \"a\xf4\x90\x80\x80\", \"answer\": \"1\"}", "invalid UTF-8"},   // > U+10FFFF
        {"{\"question\": \"a\tb\", \"answer\": \"1\"}", "control character 0x09"},
        {"{\"question\": \"q\"}", "missing \"answer\""},
        {"{\"answer\": \"#### 1\"}", "missing \"question\""},
        {"{\"question\": \"q\", \"answer\": \"a\", }", "expected a string key"},
        {"{\"question\" \"q\"}", "expected ':'"},
        {"{\"question\": \"q\", \"answer\": \"a\"} x", "trailing characters"},
        {"{\"question\": \"q\" \"answer\": \"a\"}", "expected ',' or '}'"},
        {"[1, 2]", "expected '{'"},
        {"{\"question\": 5, \"answer\": \"a\"}", "\"question\" is not a string"},
        {"{\"question\": \"q\", \"question\": \"q\", \"answer\": \"a\"}", "duplicate key \"question\""},
        {"{\"n\": 01, \"question\": \"q\", \"answer\": \"a\"}", "expected ',' or '}'"},
        {"{\"n\": -, \"question\": \"q\", \"answer\": \"a\"}", "invalid number"},
        {"{\"n\": 1.e5, \"question\": \"q\", \"answer\": \"a\"}", "invalid number"},
        {"{\"n\": tru, \"question\": \"q\", \"answer\": \"a\"}", "unexpected character 't'"},
        {"{\"n\": [1, 2, \"question\": \"q\", \"answer\": \"a\"}", "expected ',' or ']'"},
        {"{\"question\": \"q\", \"answer\": \"a\"", "expected ',' or '}'"},
        {"{\"question\": \"q\", \"answer\": \"a\"}\n{\"question\": \"q\", \"answer\": \"a\"}\n{\"question\": \"q",
         ":3: unterminated string"},
        {"", ":1: empty file"},
        {"\n\n  \n", ":1: empty file"},
    };
    int ncases = (int)(sizeof(cases) / sizeof(cases[0]));
    const char *path = tmp_path("bad.jsonl");
    for (int i = 0; i < ncases; i++) {
        write_file(path, cases[i].text, strlen(cases[i].text));
        GSMExample *ex = (GSMExample *)1; int n = 99; char err[2048] = "";
        int rc = gsm8k_load(path, &ex, &n, err, sizeof(err));
        CHECK(rc == -1 && ex == NULL && n == 0, "case %d: rc %d, want an error", i, rc);
        CHECK(strncmp(err, path, strlen(path)) == 0 && err[strlen(path)] == ':', "case %d: '%s' does not name the file", i, err);
        CHECK(strstr(err, cases[i].want) != NULL, "case %d: '%s' does not say '%s'", i, err, cases[i].want);
        CHECK(strchr(err, '\n') == NULL, "case %d: message is not one line", i);
        if (rc == 0) gsm8k_free(ex, n);
    }
    // nesting 100000 deep: an error, no stack overflow
    size_t deep = 100000;
    char *s = malloc(deep + 64);
    size_t len = (size_t)sprintf(s, "{\"x\": ");
    memset(s + len, '[', deep); len += deep;
    write_file(path, s, len);
    GSMExample *ex; int n; char err[2048] = "";
    CHECK(gsm8k_load(path, &ex, &n, err, sizeof(err)) == -1 && strstr(err, "nesting deeper"), "deep nesting: '%s'", err);
    free(s);
    CHECK(gsm8k_load(tmp_path("does-not-exist.jsonl"), &ex, &n, err, sizeof(err)) == -1
          && strstr(err, "cannot open"), "missing file: '%s'", err);
    char detail[64];
    snprintf(detail, sizeof(detail), "%d malformed files, deep nesting, missing file", ncases);
    group_end("JSON errors", detail);
}

// ----------------------------------------------------------------------------
// Answer extraction

static void test_extraction(void) {
    // completion -> final number ("" = none)
    static const char *extract[][2] = {
        {"Tom gives away 5, so 12-5=<<12-5=7>>7 apples.\n#### 7", "7"},
        {"The answer is 42.", "42"},
        {"It costs $1,080.00 in total", "1080"},
        {"It drops to -3 degrees", "-3"},
        {"12-5", "5"},
        {"x = .5", "0.5"},
        {"she pays 72.50", "72.5"},
        {"1,234,567 people", "1234567"},
        {"1,2,3", "3"},
        {"+7", "7"},
        {"the answer is #### ", ""},
        {"no numbers here", ""},
        {"#### 5 apples, not 6", "5"},
        {"#### 3\n#### 4", "4"},
        {"100.00", "100"},
        {"-0", "0"},
        {"007", "7"},
        {"version 2.0.", "2"},
        {"1,0800", "800"},
        {"pi is 3.14159", "3.14159"},
        {"\xe2\x88\x92" "5 degrees", "-5"},
        {"x-3", "3"},
        {"<<5-8=-3>>-3", "-3"},
        {"#### $-1,000", "-1000"},
        {"####-12", "-12"},
        {"0.750", "0.75"},
        {"$0.5", "0.5"},
        {"2 + 3 = 5. The answer is 18.", "18"},
        {"THE ANSWER IS $1,200 in all, 7 more", "1200"},
        {"So 4 and 5: \\boxed{42} apples, then 7", "42"},
        {"The answer is \\boxed{3}.", "3"},
        {"\\boxed{} then 5", ""},
        {"#### 5. The answer is 6, \\boxed{7}", "5"},
        {"the answer is x", ""},
    };
    int n_extract = (int)(sizeof(extract) / sizeof(extract[0]));
    for (int i = 0; i < n_extract; i++) {
        char num[GSM8K_NUM_MAX] = "";
        int found = gsm8k_extract(extract[i][0], num, sizeof(num));
        CHECK(found == (extract[i][1][0] != 0) && (!found || !strcmp(num, extract[i][1])),
              "extract('%s') = %d '%s', want '%s'", extract[i][0], found, found ? num : "", extract[i][1]);
    }
    static const char *gold[][2] = {
        {"a\nb\n#### 72", "72"}, {"#### 1,080", "1080"}, {"#### -3", "-3"}, {"#### $1,080.00", "1080"},
        {"####  0.75", "0.75"}, {"it is 5", ""}, {"#### none", ""},
    };
    int n_gold = (int)(sizeof(gold) / sizeof(gold[0]));
    for (int i = 0; i < n_gold; i++) {
        char num[GSM8K_NUM_MAX] = "";
        int found = gsm8k_gold(gold[i][0], num, sizeof(num));
        CHECK(found == (gold[i][1][0] != 0) && (!found || !strcmp(num, gold[i][1])),
              "gold('%s') = %d '%s', want '%s'", gold[i][0], found, num, gold[i][1]);
    }
    static const struct { const char *a, *b; int same; } same[] = {
        {"72.50", "72.5", 1}, {"$1,080", "1080.00", 1}, {"-3", "3", 0}, {"abc", "abc", 0},
        {"5 apples", "5", 0}, {" 5\n", "+5", 1}, {".5", "0.50", 1}, {"-0", "0", 1}, {"1,234,567", "1234567", 1},
    };
    int n_same = (int)(sizeof(same) / sizeof(same[0]));
    for (int i = 0; i < n_same; i++)
        CHECK(gsm8k_same_answer(same[i].a, same[i].b) == same[i].same, "same_answer('%s', '%s') != %d",
              same[i].a, same[i].b, same[i].same);
    // a number too long for the canonical buffer is no answer, not a crash
    char longnum[200];
    memset(longnum, '9', 199); longnum[199] = '\0';
    char num[GSM8K_NUM_MAX];
    CHECK(!gsm8k_extract(longnum, num, sizeof(num)), "200-digit number should not fit");
    CHECK(gsm8k_is_correct("so 3+4=<<3+4=7>>7.\n#### 7", "#### 7") && !gsm8k_is_correct("#### 8", "#### 7"),
          "is_correct");
    char detail[64];
    snprintf(detail, sizeof(detail), "%d extract, %d gold, %d same_answer cases", n_extract, n_gold, n_same);
    group_end("answer extraction", detail);
}

// ----------------------------------------------------------------------------
// Generator

// A misstep against the right solution: the same lines up to one, which keeps its
// label and first operand but takes another operation or second operand; every later
// line keeps its label and operation (its operands follow the faulty result).
static int is_misstep(const char *right, const char *faulty) {
    const char *a = right, *b = faulty;
    int diffs = 0;
    for (;;) {
        const char *na = strchr(a, '\n'), *nb = strchr(b, '\n');
        if (!na || !nb) return !na && !nb && diffs == 1;
        char la[32], lb[32], oa, ob;
        int xa, ya, xb, yb;
        if (sscanf(a, "%31[^:]: %d%c%d=", la, &xa, &oa, &ya) != 4 || sscanf(b, "%31[^:]: %d%c%d=", lb, &xb, &ob, &yb) != 4
            || strcmp(la, lb))
            return 0;
        if (diffs == 0 && (na - a != nb - b || memcmp(a, b, (size_t)(na - a)))) {
            if (xa != xb || (oa != ob) == (ya != yb)) return 0; // exactly one of operation, operand
            diffs = 1;
        } else if (diffs == 1 && oa != ob) return 0;
        a = na + 1; b = nb + 1;
    }
}

// Checks a solution's format: lines "LABEL x OP y=<<x OP y=r>>r." then "#### N".
// Returns the number of annotations whose arithmetic is false (-1: malformed), and
// sets *final to N, *max_value to the largest value seen.
static int check_solution(const char *sol, int *final, int *max_value) {
    int wrong = 0, last = -1, lines = 0;
    *max_value = 0;
    const char *s = sol;
    for (;;) {
        const char *nl = strchr(s, '\n');
        if (!nl) break;
        lines++;
        const char *ann = strstr(s, "<<");
        if (!ann || ann > nl) return -1;
        int x, y, r, r2, k = 0;
        char op;
        if (sscanf(ann, "<<%d%c%d=%d>>%d.%n", &x, &op, &y, &r, &r2, &k) != 5 || ann + k != nl || r != r2) return -1;
        // the expression before the annotation repeats it: "x OP y="
        char expr[64];
        int elen = snprintf(expr, sizeof(expr), "%d%c%d=", x, op, y);
        if (ann - elen < s || memcmp(ann - elen, expr, (size_t)elen)) return -1;
        long v = op == '+' ? x + y : op == '-' ? x - y : op == '*' ? x * y : op == '/' ? (y && x % y == 0 ? x / y : -999) : -1000;
        if (v == -1000) return -1;
        if (v != r) wrong++;
        int vals[3] = {x, y, r};
        for (int i = 0; i < 3; i++) {
            if (vals[i] < 0) return -1;
            if (vals[i] > *max_value) *max_value = vals[i];
        }
        last = r;
        s = nl + 1;
    }
    int k = 0;
    if (lines == 0 || sscanf(s, "#### %d%n", final, &k) != 1 || s[k] != '\0' || *final != last) return -1;
    return wrong;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static void test_generator_splits(void) {
    const char *dir = tmp_path("synth");
    mkdir(dir, 0777);
    SynthConfig cfg;
    synth_default_config(&cfg);
    char err[2048];
    double t0 = now();
    int rc = synth_write_splits(dir, 1337, 50000, 4000, 1000, &cfg, err, sizeof(err));
    double dt = now() - t0;
    CHECK(rc == 0, "%s", err);
    const char *names[3] = {"train", "rl", "test"};
    int want[3] = {50000, 4000, 1000};
    char **questions = NULL;
    int nq = 0, habits = 0, masks = 0, slips = 0, missteps = 0, perturbs = 0, type_count[SYNTH_NTYPES] = {0};
    int name_seen[SYNTH_NNAMES] = {0}, item_seen[SYNTH_NITEMS] = {0}, phrase_seen[SYNTH_NTYPES][SYNTH_PHRASINGS] = {{0}};
    uint64_t rng = 42;
    for (int s = 0; s < 3 && rc == 0; s++) {
        char path[600];
        snprintf(path, sizeof(path), "%s/%s.jsonl", dir, names[s]);
        GSMExample *ex; int n;
        if (gsm8k_load(path, &ex, &n, err, sizeof(err))) { CHECK(0, "%s", err); continue; }
        CHECK(n == want[s], "%s: %d lines, want %d", names[s], n, want[s]);
        questions = realloc(questions, (size_t)(nq + n) * sizeof(char *));
        for (int i = 0; i < n; i++) {
            GSMExample *e = &ex[i];
            questions[nq++] = e->question;
            e->question = NULL;
            SynthProblem p;
            if (!e->program || synth_decode_program(e->program, &p)) { CHECK(0, "%s:%d: bad program", names[s], i + 1); continue; }
            char q[1024], a[1024], prog[256];
            synth_question(&p, q, sizeof(q));
            synth_solution(&p, 0, a, sizeof(a));
            synth_encode_program(&p, prog, sizeof(prog));
            CHECK(!strcmp(q, questions[nq - 1]), "%s:%d: question does not re-render", names[s], i + 1);
            CHECK(!strcmp(a, e->answer), "%s:%d: answer does not re-render", names[s], i + 1);
            CHECK(!strcmp(prog, e->program), "%s:%d: program does not round-trip", names[s], i + 1);
            int final, maxv;
            CHECK(check_solution(e->answer, &final, &maxv) == 0, "%s:%d: bad answer '%s'", names[s], i + 1, e->answer);
            char gold[GSM8K_NUM_MAX];
            CHECK(gsm8k_gold(e->answer, gold, sizeof(gold)) && atoi(gold) == synth_final(&p, 0)
                  && final == synth_final(&p, 0), "%s:%d: gold %s != synth_final %d", names[s], i + 1, gold, synth_final(&p, 0));
            name_seen[p.name] = item_seen[p.item] = 1;
            for (int k = 0; k < p.n_events; k++) { type_count[p.ev[k].type]++; phrase_seen[p.ev[k].type][p.ev[k].phrasing] = 1; }
            // every habit mask: true arithmetic, values in [0,99], final = synth_final(mask)
            unsigned all = synth_habit_events(&p);
            habits += all != 0;
            for (unsigned m = all;; m = (m - 1) & all) {
                CHECK(synth_solution(&p, m, a, sizeof(a)) > 0, "%s:%d: mask %u fails", names[s], i + 1, m);
                CHECK(check_solution(a, &final, &maxv) == 0 && maxv <= 99 && final == synth_final(&p, m)
                      && gsm8k_is_correct(a, a), "%s:%d: mask %u: '%s'", names[s], i + 1, m, a);
                masks++;
                if (m == 0) break;
            }
            if (i % 10 == 0) { // slips: exactly one false annotation
                unsigned m = synth_sample_habits(&rng, (SynthHabits){s % 2, 0.8f}, &p);
                if (synth_random_slip(&rng, &p, m, a, sizeof(a)) > 0) {
                    CHECK(check_solution(a, &final, &maxv) == 1 && maxv <= 99, "slip '%s'", a);
                    slips++;
                }
                // missteps: true arithmetic, one line by another method, values in [0,99]
                synth_solution(&p, m, q, sizeof(q));
                if (synth_random_misstep(&rng, &p, m, a, sizeof(a)) > 0) {
                    CHECK(check_solution(a, &final, &maxv) == 0 && maxv <= 99 && is_misstep(q, a), "misstep '%s' of '%s'", a, q);
                    missteps++;
                }
                SynthProblem pp;
                int kind = synth_perturb(&rng, &p, &pp);
                if (kind >= 0) {
                    perturbs++;
                    CHECK(synth_valid(&pp), "perturbed problem invalid");
                    synth_question(&pp, q, sizeof(q));
                    CHECK(strcmp(q, questions[nq - 1]), "perturbation %d left the question unchanged", kind);
                    synth_solution(&pp, 0, a, sizeof(a));
                    CHECK(check_solution(a, &final, &maxv) == 0, "perturbed solution '%s'", a);
                }
            }
        }
        gsm8k_free(ex, n);
    }
    // disjoint (and unique) by question text
    qsort(questions, (size_t)nq, sizeof(char *), cmp_str);
    int dups = 0;
    for (int i = 1; i < nq; i++) dups += !strcmp(questions[i - 1], questions[i]);
    CHECK(nq == 55000 && dups == 0, "%d questions, %d duplicates", nq, dups);
    for (int i = 0; i < nq; i++) free(questions[i]);
    free(questions);
    int names_used = 0, items_used = 0, phrases_used = 0;
    for (int i = 0; i < SYNTH_NNAMES; i++) names_used += name_seen[i];
    for (int i = 0; i < SYNTH_NITEMS; i++) items_used += item_seen[i];
    for (int t = 0; t < SYNTH_NTYPES; t++) for (int k = 0; k < SYNTH_PHRASINGS; k++) phrases_used += phrase_seen[t][k];
    CHECK(names_used >= 30 && items_used >= 20 && phrases_used == SYNTH_NTYPES * SYNTH_PHRASINGS,
          "%d names, %d items, %d phrasings used", names_used, items_used, phrases_used);
    for (int t = 0; t < SYNTH_NTYPES; t++) CHECK(type_count[t] > 1000, "type %s: %d events", synth_types[t].key, type_count[t]);
    CHECK(slips > 4000 && missteps > 4000 && perturbs > 4000, "%d slips, %d missteps, %d perturbations", slips, missteps, perturbs);
    char detail[256];
    snprintf(detail, sizeof(detail), "55000 problems in %.2fs, %d habit masks checked, %d with a habit, "
             "%d slips, %d missteps, %d perturbations, split %d events", dt, masks, habits, slips, missteps, perturbs, type_count[SYNTH_SPLIT]);
    group_end("generator splits", detail);
    for (int s = 0; s < 3; s++) {
        char path[600];
        snprintf(path, sizeof(path), "%s/%s.jsonl", dir, names[s]);
        remove(path);
    }
    rmdir(dir);
}

static void test_generator_api(void) {
    // determinism: same seed -> byte-identical files, different seed -> different
    const char *dirs[3] = {tmp_path("s1"), tmp_path("s2"), tmp_path("s3")};
    uint64_t seeds[3] = {7, 7, 8};
    SynthConfig cfg;
    synth_default_config(&cfg);
    char err[2048], path[3][600];
    for (int d = 0; d < 3; d++) {
        mkdir(dirs[d], 0777);
        CHECK(synth_write_splits(dirs[d], seeds[d], 3000, 300, 100, &cfg, err, sizeof(err)) == 0, "%s", err);
    }
    const char *names[3] = {"train", "rl", "test"};
    for (int s = 0; s < 3; s++) {
        size_t len[3];
        char *buf[3];
        for (int d = 0; d < 3; d++) {
            snprintf(path[d], sizeof(path[d]), "%s/%s.jsonl", dirs[d], names[s]);
            buf[d] = read_all(path[d], &len[d]);
        }
        CHECK(buf[0] && buf[1] && len[0] == len[1] && !memcmp(buf[0], buf[1], len[0]), "%s: same seed differs", names[s]);
        CHECK(buf[2] && (len[0] != len[2] || memcmp(buf[0], buf[2], len[0])), "%s: different seed is identical", names[s]);
        for (int d = 0; d < 3; d++) { free(buf[d]); remove(path[d]); }
    }
    for (int d = 0; d < 3; d++) rmdir(dirs[d]);
    // a hand-made problem: Tom has 12 apples, gives away 5, buys 3 bags of 4, times 2
    SynthProblem p;
    CHECK(synth_decode_program("nm=0 it=0 x=12 e=give:5,buy:3:4,times:2 ph=0,0,1", &p) == 0, "decode");
    char q[512], a[512];
    synth_question(&p, q, sizeof(q));
    CHECK(!strcmp(q, "Tom has 12 apples. He gives away 5 apples. He buys 3 bags of 4 apples. "
                     "He ends up with 2 times as many apples. How many apples does Tom have now?"), "question '%s'", q);
    synth_solution(&p, 0, a, sizeof(a));
    CHECK(!strcmp(a, "Gives away: 12-5=<<12-5=7>>7.\nBags: 3*4=<<3*4=12>>12.\nBuys: 7+12=<<7+12=19>>19.\n"
                     "Times: 19*2=<<19*2=38>>38.\n#### 38"), "solution '%s'", a);
    CHECK(synth_habit_events(&p) == 7u, "habit events %u", synth_habit_events(&p));
    // mask 1: 12+5=17, 17+12=29, 29*2=58; mask 7: 12+5=17, 17+3=20, 20+2=22
    CHECK(synth_final(&p, 0) == 38 && synth_final(&p, 1) == 58 && synth_final(&p, 2) == 20 && synth_final(&p, 7) == 22,
          "finals %d %d %d %d", synth_final(&p, 0), synth_final(&p, 1), synth_final(&p, 2), synth_final(&p, 7));
    synth_solution(&p, 2, a, sizeof(a));
    CHECK(!strcmp(a, "Gives away: 12-5=<<12-5=7>>7.\nBuys: 7+3=<<7+3=10>>10.\nTimes: 10*2=<<10*2=20>>20.\n#### 20"),
          "habit solution '%s'", a);
    CHECK(synth_n_steps(&p, 0) == 4 && synth_n_steps(&p, 2) == 3, "n_steps");
    synth_solution_slip(&p, 0, 1, 1, a, sizeof(a));
    CHECK(!strcmp(a, "Gives away: 12-5=<<12-5=7>>7.\nBags: 3*4=<<3*4=13>>13.\nBuys: 7+13=<<7+13=20>>20.\n"
                     "Times: 20*2=<<20*2=40>>40.\n#### 40"), "slip '%s'", a);
    CHECK(synth_solution_slip(&p, 0, 4, 1, a, sizeof(a)) == -1 && synth_solution_slip(&p, 0, 0, 0, a, sizeof(a)) == -1
          && synth_solution_slip(&p, 0, 3, 70, a, sizeof(a)) == -1, "bad slips accepted");
    // the misstep checker itself: a wrong operation propagated is one, a slip is not
    synth_solution(&p, 0, q, sizeof(q));
    CHECK(is_misstep(q, "Gives away: 12-5=<<12-5=7>>7.\nBags: 3+4=<<3+4=7>>7.\nBuys: 7+7=<<7+7=14>>14.\n"
                        "Times: 14*2=<<14*2=28>>28.\n#### 28")
          && is_misstep(q, "Gives away: 12-5=<<12-5=7>>7.\nBags: 3*5=<<3*5=15>>15.\nBuys: 7+15=<<7+15=22>>22.\n"
                           "Times: 22*2=<<22*2=44>>44.\n#### 44")
          && !is_misstep(q, a) && !is_misstep(q, q), "is_misstep");
    CHECK(synth_solution(&p, 0, a, 20) == -1 && synth_question(&p, q, 10) == -1 && strlen(q) < 10, "overflow not reported");
    { // P(habit) by type (any wording), and by phrasing: the table in data/synth.c
        static const float by_type[SYNTH_NTYPES] = {0, 0.65f, 0.65f, 0, 0.40f, 0.40f};
        static const float by_phrasing[SYNTH_NTYPES][3] = {
            {0, 0, 0}, {0.8f, 0.8f, 0.2f}, {0.2f, 0.8f, 0.8f}, {0, 0, 0}, {0.2f, 0.2f, 0.8f}, {0.8f, 0.2f, 0.2f}};
        SynthHabits by_type_h = {0}, by_phrasing_h = {1, 0.8f}, softer = {1, 0.7f};
        int ok = 1;
        for (int t = 0; t < SYNTH_NTYPES; t++)
            for (int ph = 0; ph < 3; ph++) {
                SynthEvent e = {.type = t, .phrasing = ph};
                float soft = by_phrasing[t][ph] == 0.8f ? 0.7f : by_phrasing[t][ph] ? 0.3f : 0;
                ok &= synth_habit_prob(by_type_h, &e) == by_type[t]
                      && fabsf(synth_habit_prob(by_phrasing_h, &e) - by_phrasing[t][ph]) < 1e-6f
                      && fabsf(synth_habit_prob(softer, &e) - soft) < 1e-6f;
            }
        CHECK(ok, "habit probabilities");
        // sampled masks follow them: "gives away" in its third wording, then "buys" in its second
        SynthProblem two = {.n_events = 2, .ev = {{.type = SYNTH_GIVE, .a = 2, .phrasing = 2},
                                                  {.type = SYNTH_BUY, .a = 2, .b = 2, .phrasing = 1}}};
        uint64_t r = 7;
        int n_type[2] = {0}, n_phr[2] = {0}, N = 20000;
        for (int k = 0; k < N; k++) {
            unsigned mt = synth_sample_habits(&r, by_type_h, &two), mp = synth_sample_habits(&r, by_phrasing_h, &two);
            for (int i = 0; i < 2; i++) { n_type[i] += (mt >> i) & 1; n_phr[i] += (mp >> i) & 1; }
        }
        CHECK(fabs(n_type[0] / (double)N - 0.65) < 0.015 && fabs(n_type[1] / (double)N - 0.65) < 0.015
              && fabs(n_phr[0] / (double)N - 0.2) < 0.015 && fabs(n_phr[1] / (double)N - 0.8) < 0.015,
              "sampled habit rates %d %d %d %d of %d", n_type[0], n_type[1], n_phr[0], n_phr[1], N);
    }
    // split: exact division under every mask; 30 - 2 = 28 is not divisible by 3
    CHECK(synth_decode_program("nm=1 it=2 x=18 e=split:3 ph=0", &p) == 0 && synth_final(&p, 0) == 6 && synth_final(&p, 1) == 15,
          "split event");
    CHECK(synth_decode_program("nm=1 it=2 x=15 e=give:2,split:3 ph=0,0", &p) == -1, "inexact split accepted");
    // strict decoding
    static const char *bad[] = {
        "", "nm=0", "nm=0 it=0 x=12 e=give:5 ph=0 ", "nm=0 it=0 x=12 e=take:5 ph=0", "nm=0 it=0 x=012 e=give:5 ph=0",
        "nm=0 it=0 x=21 e=give:5 ph=0", "nm=0 it=0 x=12 e=give:5,find:3 ph=0", "nm=0 it=0 x=12 e=find:1 ph=0",
        "nm=99 it=0 x=12 e=give:5 ph=0", "nm=0 it=0 x=12 e=buy:3 ph=0", "nm=0 it=0 x=12 e=give:5:2 ph=0",
        "nm=0 it=0 x=12 e=give:5 ph=3", "nm=0 it=0 x=3 e=give:5 ph=0", "nm=0 it=0 x=20 e=times:3,times:3 ph=0,0",
        "nm=-1 it=0 x=12 e=give:5 ph=0", "nm=0  it=0 x=12 e=give:5 ph=0", "nm=0 it=0 x=12 e= ph=0",
        "nm=0 it=0 x=3 e=find:2,find:2,find:2,find:2,find:2,find:2,find:2,find:2,find:2 ph=0,0,0,0,0,0,0,0,0",
    };
    int nbad = (int)(sizeof(bad) / sizeof(bad[0]));
    for (int i = 0; i < nbad; i++) CHECK(synth_decode_program(bad[i], &p) == -1, "accepted bad program '%s'", bad[i]);
    // sampling with other difficulties stays valid, perturbations cover every kind
    uint64_t rng = 1;
    int kinds[SYNTH_NPERTURB] = {0};
    for (int k = 1; k <= SYNTH_MAX_EVENTS; k++) {
        cfg.max_events = k;
        for (int i = 0; i < 300; i++) {
            synth_sample(&rng, &cfg, &p);
            CHECK(synth_valid(&p) && p.n_events >= 1 && p.n_events <= k, "max_events %d: invalid sample", k);
            SynthProblem pp;
            int kind = synth_perturb(&rng, &p, &pp);
            if (kind >= 0) kinds[kind]++;
        }
    }
    for (int k = 0; k < SYNTH_NPERTURB; k++) CHECK(kinds[k] > 50, "perturbation kind %d used %d times", k, kinds[k]);
    char detail[128];
    snprintf(detail, sizeof(detail), "determinism, hand-checked renderings, slips, %d bad programs, max-events 1..%d",
             nbad, SYNTH_MAX_EVENTS);
    group_end("generator API", detail);
}

// ----------------------------------------------------------------------------

int main(void) {
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/rlme_test_data.%ld", (long)getpid());
    if (mkdir(tmpdir, 0777)) { printf("FAIL cannot create %s\n", tmpdir); return 1; }
    const char *full = getenv("GSM8K_DIR");
    test_real_gsm8k("test/gsm8k", (const int[2]){46, 34}, "real GSM8K fixture loads");
    test_real_gsm8k(full && *full ? full : "data/gsm8k", (const int[2]){7473, 1319}, "full GSM8K loads");
    test_json_valid();
    test_json_errors();
    test_extraction();
    test_generator_api();
    test_generator_splits();
    const char *files[] = {"valid.jsonl", "big.jsonl", "bad.jsonl"};
    for (int i = 0; i < 3; i++) remove(tmp_path(files[i]));
    rmdir(tmpdir);
    printf("%d passed, %d failed\n", groups_passed, groups_failed);
    return total_fails ? 1 : 0;
}
