// libFuzzer target: the GSM8K jsonl reader and answer scorer of data/gsm8k.h.
//
// The input is a whole jsonl file. Checked, besides "no crash, no leak, no UB":
//  - every line goes through gsm8k_parse_line; a failure reports a 1-based column
//    inside the line (or just past its end) and a non-empty message;
//  - gsm8k_load on the same bytes (written to a temporary file) agrees with the
//    line-by-line parse: it succeeds exactly when every non-blank line parses and
//    there is at least one, with the same examples, and otherwise its error names
//    the first bad line ("path:LINE: ...");
//  - the scorer on the parsed fields and on the raw input: every number it returns
//    is canonical (gsm8k_normalize gives it back unchanged) and fits GSM8K_NUM_MAX.
#include "../../data/gsm8k.h"
#include "fuzz.h"
#include <stdint.h>
#include <unistd.h>

static char path[64];

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc; (void)argv;
    fuzz_scratch_path(path, sizeof(path), "gsm8k");
    return 0;
}

// a number the scorer returned must be its own canonical form
static void check_canonical(int found, const char *num) {
    if (!found) return;
    char again[GSM8K_NUM_MAX];
    CHECK(strlen(num) < GSM8K_NUM_MAX);
    CHECK(gsm8k_normalize(num, again, sizeof(again)) == 1);
    CHECK(strcmp(num, again) == 0);
    CHECK(gsm8k_same_answer(num, again));
}

static void score(const char *s) {
    char num[GSM8K_NUM_MAX];
    check_canonical(gsm8k_gold(s, num, sizeof(num)), num);
    check_canonical(gsm8k_extract(s, num, sizeof(num)), num);
    check_canonical(gsm8k_normalize(s, num, sizeof(num)), num);
    char tiny[4]; // too small for most numbers: must fail cleanly, never overflow
    gsm8k_extract(s, tiny, sizeof(tiny));
    gsm8k_is_correct(s, s);
}

static int same(const char *a, const char *b) { return (!a && !b) || (a && b && !strcmp(a, b)); }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *buf = (const char *)data;

    // line by line, as gsm8k_load splits the file
    GSMExample *ex = calloc(size + 1, sizeof(*ex));
    CHECK(ex);
    int count = 0;
    size_t bad_line = 0, lineno = 0;
    for (size_t pos = 0; pos < size;) {
        const char *line = buf + pos;
        const char *nl = memchr(line, '\n', size - pos);
        size_t len = nl ? (size_t)(nl - line) : size - pos;
        pos += len + 1;
        lineno++;
        size_t k = 0;
        while (k < len && (line[k] == ' ' || line[k] == '\t' || line[k] == '\r')) k++;
        char err[128] = "";
        size_t col = 0;
        if (gsm8k_parse_line(line, len, &ex[count], err, sizeof(err), &col)) {
            CHECK(col >= 1 && col <= len + 1);
            CHECK(err[0] != '\0');
            CHECK(!ex[count].question && !ex[count].answer && !ex[count].program);
            if (k < len && !bad_line) bad_line = lineno; // blank lines are skipped by gsm8k_load
            continue;
        }
        CHECK(k < len); // a blank line is never an object
        score(ex[count].question);
        score(ex[count].answer);
        if (ex[count].program) score(ex[count].program);
        if (!bad_line) count++;
        else gsm8k_free_example(&ex[count]);
    }

    // the whole file through gsm8k_load
    FILE *f = fopen(path, "wb");
    CHECK(f && fwrite(data, 1, size, f) == size && fclose(f) == 0);
    GSMExample *loaded = NULL;
    int n = -1;
    char err[512] = "";
    int rc = gsm8k_load(path, &loaded, &n, err, sizeof(err));
    unlink(path);
    if (!bad_line && count > 0) {
        if (rc) fprintf(stderr, "gsm8k_load failed where every line parses: %s\n", err);
        CHECK(rc == 0 && n == count);
        for (int i = 0; i < n; i++)
            CHECK(same(loaded[i].question, ex[i].question) && same(loaded[i].answer, ex[i].answer)
                  && same(loaded[i].program, ex[i].program));
    } else {
        CHECK(rc == -1 && loaded == NULL && n == 0);
        char want[128];
        snprintf(want, sizeof(want), "%s:%zu: ", path, bad_line ? bad_line : (size_t)1);
        CHECK(strncmp(err, want, strlen(want)) == 0);
    }
    gsm8k_free(loaded, rc ? 0 : n);
    gsm8k_free(ex, count);

    // the scorer on the raw bytes (up to the first NUL)
    char *s = malloc(size + 1);
    CHECK(s);
    memcpy(s, data, size);
    s[size] = '\0';
    score(s);
    free(s);
    return 0;
}
