/*
Tests of data/json.h (the JSON parser) and data/safetensors.h (the safetensors reader and
writer). Run from the repository root:

    make test/bin/default/test_safetensors && ./test/bin/default/test_safetensors

Prints one PASS/FAIL line per check group and exits non-zero on any failure. Temporary
files go to /tmp/rlme_test_safetensors.PID/, removed at the end.
*/
#ifndef _GNU_SOURCE
#define _GNU_SOURCE // fseeko, ftello
#endif
#include <dirent.h>
#include <float.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../data/safetensors.h"

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

#define E err, sizeof(err) // the message buffer, as every call here takes it
#define N(a) (int)(sizeof(a) / sizeof((a)[0]))

static char tmpdir[256];

// tmpdir/name (four buffers in turn: copy a path that must outlive four more calls)
static const char *tmp_path(const char *name) {
    static char path[4][512];
    static int k = 0;
    k = (k + 1) % 4;
    snprintf(path[k], sizeof(path[k]), "%s/%s", tmpdir, name);
    return path[k];
}

static void write_file(const char *path, const void *data, size_t len) {
    FILE *f = fopen(path, "wb");
    if (!f) { printf("FAIL cannot write %s\n", path); exit(1); }
    if (len) fwrite(data, 1, len, f);
    fclose(f);
}

// a safetensors file by hand: u64 n (the header's length unless n_override), the header, dlen data bytes
static void write_st(const char *path, const char *header, const void *data, size_t dlen, uint64_t n_override) {
    size_t hlen = strlen(header);
    uint64_t n = n_override ? n_override : hlen;
    unsigned char *buf = calloc(8 + hlen + dlen + 1, 1);
    for (int i = 0; i < 8; i++) buf[i] = (unsigned char)(n >> (8 * i));
    memcpy(buf + 8, header, hlen);
    if (data) memcpy(buf + 8 + hlen, data, dlen);
    write_file(path, buf, 8 + hlen + dlen);
    free(buf);
}

// a file's u64 header length and its size
static void header_and_size(const char *path, unsigned long long *n, unsigned long long *size) {
    unsigned char b[8] = {0};
    FILE *f = fopen(path, "rb");
    *n = *size = 0;
    if (!f) return;
    if (fread(b, 1, 8, f) == 8) for (int i = 7; i >= 0; i--) *n = *n << 8 | b[i];
    fseeko(f, 0, SEEK_END);
    *size = (unsigned long long)ftello(f);
    fclose(f);
}

static double now(void) { return (double)clock() / CLOCKS_PER_SEC; }
static uint32_t bits(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }
static float from_bits(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }

// a failed call (rc -1) whose message contains want
static int fails(int rc, const char *err, const char *want) { return rc == -1 && strstr(err, want); }

// a one-line message that starts with "PATH:" and says `want`
static int says(const char *err, const char *path, const char *want) {
    size_t n = strlen(path);
    return !strncmp(err, path, n) && err[n] == ':' && strstr(err, want) && !strchr(err, '\n');
}

// opening `path` must fail with a message that names `names` and says `want`, leaving nothing open
static void expect_refused(const char *path, const char *names, const char *want, const char *what) {
    StSet s;
    char err[1024] = "";
    int rc = st_open(&s, path, E);
    CHECK(rc == -1, "%s: opened, want an error saying '%s'", what, want);
    CHECK(says(err, names, want), "%s: '%s' does not name %s and say '%s'", what, err, names, want);
    CHECK(!s.n_files && !s.files && !s.tensors && !s.path, "%s: the set is not empty", what);
    if (rc == 0) st_close(&s);
}

// ----------------------------------------------------------------------------
// JSON: values, numbers, escapes, lookups, getters, limits

static void test_json_valid(void) {
    const char *text =
        " {\"a\": [1, -2.5e3, 0, -0, 1E+2, true, false, null, {}, []],\n"
        "  \"s\": \"q\\\"b\\\\s\\/ \\b\\f\\n\\r\\t \\u00e9\\u20AC\\ud83d\\ude00 \xc3\xa9\xf0\x9f\x98\x80\",\n"
        "  \"o\": {\"z\": {\"y\": 7}, \"b\": \"x\"},\n"
        "  \"hidden_size\": 576, \"act\": \"silu\", \"eps\": 1e-05, \"tie\": true} ";
    Json v;
    char err[256] = "";
    int rc = json_parse(text, strlen(text), 1 << 20, &v, E);
    CHECK(rc == 0, "parse: %s", err);
    if (rc) { group_end("JSON valid input", ""); return; }
    CHECK(v.type == JSON_OBJECT && json_len(&v) == 7, "root: type %d, %zu members", v.type, json_len(&v));
    static const char *order[] = {"a", "s", "o", "hidden_size", "act", "eps", "tie"};
    for (int i = 0; i < 7 && i < (int)v.len; i++)
        CHECK(!strcmp(v.members[i].key, order[i]), "member %d is '%s', want '%s'", i, v.members[i].key, order[i]);
    const Json *a = json_get(&v, "a");
    CHECK(a && a->type == JSON_ARRAY && json_len(a) == 10, "a: not an array of 10");
    if (a && json_len(a) == 10) {
        CHECK(json_at(a, 0)->is_int && json_at(a, 0)->integer == 1, "a[0]");
        CHECK(!json_at(a, 1)->is_int && json_at(a, 1)->number == -2500.0, "a[1] = %g", json_at(a, 1)->number);
        CHECK(json_at(a, 3)->is_int && json_at(a, 3)->integer == 0 && signbit(json_at(a, 3)->number), "-0");
        CHECK(!json_at(a, 4)->is_int && json_at(a, 4)->number == 100.0, "1E+2 is a number, not an integer");
        CHECK(json_at(a, 5)->type == JSON_BOOL && json_at(a, 5)->boolean && !json_at(a, 6)->boolean, "true, false");
        CHECK(json_at(a, 7)->type == JSON_NULL && json_at(a, 8)->type == JSON_OBJECT
              && json_at(a, 9)->type == JSON_ARRAY, "null {} []");
        CHECK(json_at(a, 10) == NULL && json_at(&v, 0) == NULL, "json_at out of range or on an object");
    }
    const Json *s = json_get(&v, "s");
    const char *want = "q\"b\\s/ \b\f\n\r\t \xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80 \xc3\xa9\xf0\x9f\x98\x80";
    CHECK(s && s->type == JSON_STRING && !strcmp(s->string, want) && s->len == strlen(want),
          "escapes decoded wrong: '%s'", s ? s->string : "");
    const Json *y = json_get(json_get(json_get(&v, "o"), "z"), "y");
    CHECK(y && y->integer == 7, "o.z.y");
    CHECK(!json_get(&v, "missing") && !json_get(a, "x") && !json_get(NULL, "x"), "json_get of nothing");
    // typed getters
    int64_t h = 0; double eps = 0, d; int tie = 0; const char *act = NULL;
    CHECK(json_get_int(&v, "hidden_size", &h, E) == 0 && h == 576, "hidden_size: %s", err);
    CHECK(json_get_str(&v, "act", &act, E) == 0 && !strcmp(act, "silu"), "act: %s", err);
    CHECK(json_get_num(&v, "eps", &eps, E) == 0 && eps == 1e-5, "eps: %s", err);
    CHECK(json_get_num(&v, "hidden_size", &d, E) == 0 && d == 576.0, "an integer is a number too: %s", err);
    CHECK(json_get_bool(&v, "tie", &tie, E) == 0 && tie == 1, "tie: %s", err);
    static const struct { const char *key, *want; int kind; } wrong[] = { // kind: 0 int, 1 str, 2 bool
        {"act", "\"act\" must be an integer, not a string", 0},
        {"eps", "\"eps\" must be an integer, not the number 1e-05", 0},
        {"hidden_size", "\"hidden_size\" must be a string, not the integer 576", 1},
        {"a", "\"a\" must be a boolean, not an array", 2},
        {"vocab_size", "missing \"vocab_size\"", 0},
    };
    for (int i = 0; i < N(wrong); i++) {
        const char *key = wrong[i].key;
        int rc2 = wrong[i].kind == 0 ? json_get_int(&v, key, &h, E)
                : wrong[i].kind == 1 ? json_get_str(&v, key, &act, E) : json_get_bool(&v, key, &tie, E);
        CHECK(rc2 == -1 && !strcmp(err, wrong[i].want), "'%s', want '%s'", err, wrong[i].want);
    }
    CHECK(json_get_int(a, "x", &h, E) == -1 && !strcmp(err, "missing \"x\""), "getter on an array: '%s'", err);
    json_free(&v);
    CHECK(v.type == JSON_NULL && v.members == NULL, "json_free leaves a null value");
    // scalars at the top, surrounded by whitespace; a text without a NUL after it
    CHECK(json_parse(" 42\n", 4, 4, &v, E) == 0 && v.integer == 42, "top-level number: %s", err);
    CHECK(json_parse("\"x\"", 3, 3, &v, E) == 0 && !strcmp(v.string, "x"), "top-level string: %s", err);
    json_free(&v);
    char unterminated[3] = {'"', 'a', '"'};
    CHECK(json_parse(unterminated, 3, 3, &v, E) == 0 && !strcmp(v.string, "a"), "no NUL: %s", err);
    json_free(&v);
    group_end("JSON valid input", "every type, escapes, surrogate pairs, order of keys, lookups, typed getters");
}

static void test_json_numbers(void) {
    static const struct { const char *text; int is_int; long long integer; double number; } cases[] = {
        {"9223372036854775807", 1, INT64_MAX, 9223372036854775807.0},
        {"-9223372036854775808", 1, INT64_MIN, -9223372036854775808.0},
        {"9223372036854775808", 0, 0, 9223372036854775808.0},
        {"-9223372036854775809", 0, 0, -9223372036854775809.0},
        {"123456789012345678901234567890", 0, 0, 123456789012345678901234567890.0},
        {"9007199254740993", 1, 9007199254740993LL, 9007199254740992.0}, // 2^53 + 1: exact as an integer only
        {"1.5", 0, 0, 1.5},
        {"-0.0", 0, 0, -0.0},
        {"1e308", 0, 0, 1e308},
        {"1e-400", 0, 0, 0.0}, // underflows to zero: allowed
        {"2.5E-3", 0, 0, 2.5e-3},
        {"0", 1, 0, 0.0},
    };
    Json v;
    char err[256] = "";
    for (int i = 0; i < N(cases); i++) {
        const char *t = cases[i].text;
        CHECK(json_parse(t, strlen(t), 64, &v, E) == 0 && v.type == JSON_NUMBER, "%s: %s", t, err);
        CHECK(v.is_int == cases[i].is_int && (!v.is_int || v.integer == cases[i].integer),
              "%s: is_int %d integer %lld", t, v.is_int, (long long)v.integer);
        CHECK(v.number == cases[i].number, "%s: number %.17g", t, v.number);
        json_free(&v);
    }
    // a 100,000-digit number: out of range as a double; as 0.777... it parses
    size_t len = 100000;
    char *big = malloc(len);
    memset(big, '7', len);
    CHECK(fails(json_parse(big, len, len, &v, E), err, "number out of range"), "100000 digits: '%s'", err);
    big[0] = '0', big[1] = '.';
    CHECK(json_parse(big, len, len, &v, E) == 0 && !v.is_int && fabs(v.number - 0.7777777777777778) < 1e-15,
          "0.777...: %s", err);
    free(big);
    group_end("JSON numbers", "int64 limits exact, beyond them doubles, 2^53+1, exponents, underflow, 100000 digits");
}

static void test_json_errors(void) {
    static const struct { const char *text, *want; } cases[] = {
        {"", "line 1, byte 0: unexpected end of input (expected a value)"},
        {"   \n ", "line 2, byte 5: unexpected end of input"},
        {"{", "byte 1: unexpected end of input (expected a string key)"},
        {"[1,]", "byte 3: unexpected character ']' (expected a value)"},
        {"{\"a\":1,}", "byte 7: unexpected character '}' (expected a string key)"},
        {"{\"a\" 1}", "byte 5: unexpected character '1' (expected ':' after the key)"},
        {"{1:2}", "byte 1: unexpected character '1' (expected a string key)"},
        {"[1 2]", "byte 3: unexpected character '2' (expected ',' or ']')"},
        {"{\"a\":1 \"b\":2}", "byte 7: unexpected character '\"' (expected ',' or '}')"},
        {"[1,2", "byte 4: unexpected end of input (expected ',' or ']')"},
        {"01", "byte 0: invalid number (leading zero)"},
        {"-01", "byte 0: invalid number (leading zero)"},
        {"-", "invalid number (a digit must follow '-')"},
        {"-x", "invalid number (a digit must follow '-')"},
        {"1.", "invalid number (a digit must follow '.')"},
        {"1.e5", "invalid number (a digit must follow '.')"},
        {"1e", "invalid number (a digit must follow the exponent)"},
        {"1e+", "invalid number (a digit must follow the exponent)"},
        {"+1", "unexpected character '+'"},
        {".5", "unexpected character '.'"},
        {"[1e400]", "byte 1: number out of range"},
        {"-1e400", "number out of range"},
        {"NaN", "unexpected character 'N'"},
        {"Infinity", "unexpected character 'I'"},
        {"tru", "unexpected character 't'"},
        {"nulll", "byte 4: unexpected character 'l' (expected the end of the text after the value)"},
        {"1 2", "byte 2: unexpected character '2' (expected the end of the text"},
        {"{\"a\":1}\n\n  x", "line 3, byte 11: unexpected character 'x'"},
        {"\xef\xbb\xbf{}", "byte 0: unexpected byte 0xef"},
        {"// c\n{}", "unexpected character '/'"},
        {"'a'", "unexpected character '''"},
        {"\"abc", "byte 0: unterminated string"},
        {"\"abc\\\"", "unterminated string"},
        {"\"a\\x\"", "byte 2: invalid escape '\\x'"},
        {"\"a\\", "unterminated string"},
        {"\"\\u12\"", "invalid \\u escape"},
        {"\"\\u12G4\"", "invalid \\u escape"},
        {"\"\\udc00\"", "lone low surrogate \\uDC00"},
        {"\"\\ud83d\"", "lone high surrogate \\uD83D"},
        {"\"\\ud83d x\"", "lone high surrogate \\uD83D"},
        {"\"\\ud83d\\u0041\"", "lone high surrogate \\uD83D"},
        {"\"\\ud83d\\ud83d\"", "lone high surrogate \\uD83D"},
        {"\"\\u0000\"", "\\u0000 is not supported"},
        {"\"a\xff\"", "byte 2: invalid UTF-8"},
        {"\"\xc0\xaf\"", "invalid UTF-8"},         // overlong '/'
        {"\"\xe0\x80\xaf\"", "invalid UTF-8"},     // overlong, 3 bytes
        {"\"\xe2\x82\"", "invalid UTF-8"},         // truncated
        {"\"\xed\xa0\x80\"", "invalid UTF-8"},     // a surrogate, encoded
        {"\"\xf4\x90\x80\x80\"", "invalid UTF-8"}, // above U+10FFFF
        {"\"\x80\"", "invalid UTF-8"},             // a lone continuation byte
        {"\"a\tb\"", "byte 2: control character 0x09 in a string"},
        {"\"a\nb\"", "control character 0x0a"},
        {"{\"a\":1,\"a\":2}", "line 1, byte 7: duplicate key \"a\""},
        {"{\"b\":1,\n\"a\":{\"x\":[1,{\"k\":1,\"j\":2,\"k\":3}]},\"c\":0}", "line 2, byte 33: duplicate key \"k\""},
        {"{\"\\u0061\":1,\"a\":2}", "duplicate key \"a\""}, // the same key, spelled differently
    };
    Json v;
    char err[256] = "";
    for (int i = 0; i < N(cases); i++) {
        v = (Json){.type = JSON_ARRAY};
        int rc = json_parse(cases[i].text, strlen(cases[i].text), 1 << 10, &v, E);
        CHECK(rc == -1 && v.type == JSON_NULL && v.items == NULL, "case %d (%s): rc %d", i, cases[i].text, rc);
        CHECK(strstr(err, cases[i].want) && !strncmp(err, "line ", 5), "case %d (%s): '%s' does not say '%s'", i,
              cases[i].text, err, cases[i].want);
    }
    // a NUL inside the text is just a bad byte; the caller's size limit
    CHECK(fails(json_parse("[1,\0]", 5, 5, &v, E), err, "byte 3: unexpected byte 0x00"), "NUL: '%s'", err);
    CHECK(fails(json_parse("\"a\0\"", 4, 4, &v, E), err, "control character 0x00"), "NUL in a string: '%s'", err);
    CHECK(fails(json_parse("[1, 2]", 6, 5, &v, E), err, "6 bytes is over the limit of 5"), "limit: '%s'", err);
    // depth: 64 levels parse, 65 do not; 100000 fail quickly, without a stack overflow
    size_t deep = 100000;
    char *s = malloc(2 * deep + 1);
    for (size_t k = 0; k < deep; k++) s[k] = '[', s[2 * deep - 1 - k] = ']';
    for (size_t depth = 63; depth <= 65; depth++) {
        int rc = json_parse(s + deep - depth, 2 * depth, 1 << 20, &v, E); // `depth` brackets each way
        if (depth <= JSON_MAX_DEPTH) CHECK(rc == 0, "depth %zu: %s", depth, err);
        else CHECK(fails(rc, err, "byte 64: nesting deeper than 64"), "depth %zu: '%s'", depth, err);
        json_free(&v);
    }
    CHECK(fails(json_parse(s, 2 * deep, 2 * deep, &v, E), err, "nesting deeper than 64"), "100000 deep: '%s'", err);
    memset(s, '{', deep);
    CHECK(fails(json_parse(s, deep, deep, &v, E), err, "expected a string key"), "{{{: '%s'", err);
    free(s);
    char detail[128];
    snprintf(detail, sizeof(detail), "%d malformed texts, each with its line and byte; NUL; size limit; depth 64, 65, "
             "100000", N(cases));
    group_end("JSON errors", detail);
}

// linear time: a 200,000-member object and a 1,000,000-element array; lookups of every key
static void test_json_large(void) {
    size_t n = 200000, cap = n * 24 + 64, len = 0;
    char *s = malloc(cap), key[32], err[256] = "";
    s[len++] = '{';
    for (size_t i = 0; i < n; i++)
        len += (size_t)snprintf(s + len, cap - len, "%s\"key%zu\":%zu", i ? "," : "", i * 7919 % n, i);
    s[len++] = '}';
    Json v;
    double t0 = now();
    int rc = json_parse(s, len, len, &v, E);
    double dt_obj = now() - t0;
    CHECK(rc == 0 && v.len == n, "200000 keys: %s", err);
    size_t found = 0;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        snprintf(key, sizeof(key), "key%zu", i * 7919 % n);
        const Json *x = json_get(&v, key);
        found += x && x->integer == (int64_t)i;
    }
    CHECK(found == n, "%zu of %zu keys found with their values", found, n);
    json_free(&v);
    // the same object with one key repeated at the end: a duplicate, found in n log n
    len += (size_t)snprintf(s + len - 1, cap - len, ",\"key%zu\":0}", n / 2) - 1;
    CHECK(fails(json_parse(s, len, len, &v, E), err, "duplicate key"), "duplicate among 200000: '%s'", err);
    free(s);
    size_t m = 1000000;
    s = malloc(2 * m + 2);
    s[0] = '[';
    for (size_t i = 0; i < m; i++) s[1 + 2 * i] = '0' + (char)(i % 10), s[2 + 2 * i] = ',';
    s[2 * m] = ']';
    t0 = now();
    rc = json_parse(s, 2 * m + 1, 2 * m + 1, &v, E);
    double dt_arr = now() - t0;
    CHECK(rc == 0 && v.len == m && json_at(&v, m - 1)->integer == 9, "1000000 elements: %s", err);
    json_free(&v);
    free(s);
    CHECK(dt_obj < 5 && dt_arr < 5, "too slow: %.2fs and %.2fs", dt_obj, dt_arr);
    char detail[128];
    snprintf(detail, sizeof(detail), "200000 keys in %.2fs (all looked up), 1000000 elements in %.2fs", dt_obj, dt_arr);
    group_end("JSON large input", detail);
}

// json_out_string's escapes parse back to the string
static void test_json_writer(void) {
    static const char *strings[] = {"", "plain", "q\"b\\s/", "\n\t\r\b\f\x01\x1f",
                                    "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", "a\177b"};
    for (int i = 0; i < N(strings); i++) {
        JsonOut o = {0};
        json_out_string(&o, strings[i]);
        Json v;
        char err[256] = "";
        int rc = json_parse(o.data, o.len, o.len, &v, E);
        CHECK(!o.failed && rc == 0 && v.type == JSON_STRING && !strcmp(v.string, strings[i]), "string %d: '%s' -> %s",
              i, o.data, err);
        if (i == 3) CHECK(!strcmp(o.data, "\"\\n\\t\\u000d\\u0008\\u000c\\u0001\\u001f\""), "escapes: '%s'", o.data);
        json_free(&v);
        free(o.data);
    }
    CHECK(json_utf8_valid("a\xc3\xa9", 3) && !json_utf8_valid("a\xc3", 2) && !json_utf8_valid("\xff", 1), "utf8_valid");
    group_end("JSON writer", "escaped strings parse back");
}

// ----------------------------------------------------------------------------
// safetensors: F32 round trip, BF16 rounding, F16 decoding

static void test_f32_round_trip(void) {
    size_t big = 300 * 500; // > ST_CHUNK bytes: several chunks each way
    float *w = malloc(big * sizeof(float)), bias[5] = {-0.0f, FLT_MIN / 8, -FLT_MAX, 1e-40f, 3.0f}, sc = 0.5f;
    for (size_t i = 0; i < big; i++) w[i] = (float)sin((double)i * 0.37) * (float)(1 + i % 1000);
    const int64_t sw[2] = {300, 500}, sb[1] = {5}, se[2] = {0, 3};
    const char *bname = "h.0.bias \"quoted\" \xc3\xa9";
    StWriteTensor t[4] = {{"wte", 2, sw, w}, {bname, 1, sb, bias}, {"scalar", 0, NULL, &sc}, {"empty", 2, se, NULL}};
    const char *meta[] = {"format", "pt", "note", "a \"quote\", a \\ and \xc3\xa9\n", NULL};
    const char *path = tmp_path("f32.safetensors");
    char err[512] = "", tmp[600];
    write_file(path, "old contents", 12); // replaced whole
    int rc = st_write(path, t, 4, ST_F32, meta, E);
    CHECK(rc == 0, "write: %s", err);
    snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid());
    CHECK(access(tmp, F_OK) != 0, "%s left behind", tmp);
    unsigned long long n, size;
    header_and_size(path, &n, &size);
    CHECK(n % 8 == 0 && size == 8 + n + (big + 5 + 1) * 4, "header %llu bytes, file %llu", n, size);
    StSet s;
    rc = st_open(&s, path, E);
    CHECK(rc == 0, "open: %s", err);
    if (rc == 0) {
        CHECK(s.n_files == 1 && s.n_tensors == 4, "%d files, %zu tensors", s.n_files, s.n_tensors);
        for (size_t i = 1; i < s.n_tensors; i++)
            CHECK(strcmp(s.tensors[i - 1].name, s.tensors[i].name) < 0, "table not sorted by name");
        // the writer keeps the order given, contiguous
        const Json *h = &s.files[0].header;
        const char *order[] = {"__metadata__", "wte", bname, "scalar", "empty"};
        for (int i = 0; i < 5 && i < (int)h->len; i++)
            CHECK(!strcmp(h->members[i].key, order[i]), "header member %d is '%s'", i, h->members[i].key);
        CHECK(st_find(&s, "wte")->begin == 0 && st_find(&s, "scalar")->begin == (big + 5) * 4, "not in order");
        for (int i = 0; i < 4; i++) {
            const StTensor *x = st_find(&s, t[i].name);
            CHECK(x && x->dtype == ST_F32 && x->ndim == t[i].ndim, "%s: not found, or dtype/ndim wrong", t[i].name);
            if (!x) continue;
            for (int d = 0; d < x->ndim; d++) CHECK(x->shape[d] == t[i].shape[d], "%s: shape[%d]", t[i].name, d);
            size_t numel = i == 0 ? big : i == 1 ? 5 : i == 2 ? 1 : 0;
            CHECK(x->numel == numel, "%s: %zu values", t[i].name, x->numel);
            float *back = malloc(numel * sizeof(float) + 1);
            rc = st_read_f32(&s, x, back, numel, E);
            CHECK(rc == 0, "read %s: %s", t[i].name, err);
            CHECK(rc || numel == 0 || !memcmp(back, t[i].data, numel * sizeof(float)), "%s: not bit-exact", t[i].name);
            free(back);
        }
        CHECK(st_find(&s, "nope") == NULL && st_find(&s, "") == NULL, "st_find of a missing name");
        CHECK(st_meta(&s, "format") && !strcmp(st_meta(&s, "format"), "pt"), "metadata format");
        CHECK(st_meta(&s, "note") && !strcmp(st_meta(&s, "note"), meta[3]), "metadata note");
        CHECK(st_meta(&s, "nope") == NULL, "missing metadata");
        // element count and shape mismatches name the tensor and both sizes
        float x5[5];
        CHECK(st_read_f32(&s, st_find(&s, bname), x5, 4, E) == -1
              && says(err, path, "tensor \"h.0.bias \"quoted\" \xc3\xa9\" has shape [5] (5 values), expected 4 values"),
              "count mismatch: '%s'", err);
        CHECK(st_check_shape(&s, st_find(&s, "wte"), 2, (const int64_t[]){500, 300}, E) == -1
              && says(err, path, "tensor \"wte\" has shape [300, 500], expected [500, 300]"), "transposed: '%s'", err);
        CHECK(st_check_shape(&s, st_find(&s, "wte"), 2, sw, E) == 0, "same shape refused: %s", err);
        CHECK(st_load(&s, "h.1.bias", 1, sb, x5, E) == -1 && says(err, path, "no tensor \"h.1.bias\""), "'%s'", err);
        CHECK(st_load(&s, bname, 1, sb, x5, E) == 0 && !memcmp(x5, bias, sizeof(bias)), "st_load: %s", err);
        st_close(&s);
        CHECK(s.n_files == 0 && s.tensors == NULL, "st_close leaves an empty set");
    }
    // an empty file: no tensors, no metadata
    path = tmp_path("empty.safetensors");
    CHECK(st_write(path, NULL, 0, ST_F32, NULL, E) == 0, "write empty: %s", err);
    header_and_size(path, &n, &size);
    CHECK(n == 8 && size == 16, "empty file: header %llu, size %llu", n, size);
    CHECK(st_open(&s, path, E) == 0 && s.n_tensors == 0, "open empty: %s", err);
    st_close(&s);
    free(w);
    group_end("safetensors F32 round trip", "bit-exact (150000 values in several chunks, -0, subnormals, FLT_MAX), "
              "scalar, empty, metadata, order");
}

static void test_bf16(void) {
    // fp32 bits -> the BF16 bits of round to nearest, ties to even
    static const struct { uint32_t in; uint16_t out; const char *what; } cases[] = {
        {0x3F800000, 0x3F80, "1.0, exact"},
        {0x3EAAAAAB, 0x3EAB, "1/3 rounds up"},
        {0x477FE000, 0x4780, "65504 rounds up to 65536"},
        {0x00000001, 0x0000, "the smallest subnormal rounds to +0"},
        {0x80000001, 0x8000, "... and its negative to -0"},
        {0x00018000, 0x0002, "a subnormal tie, odd: up"},
        {0x3F808000, 0x3F80, "a tie, even: stays"},
        {0x3F818000, 0x3F82, "a tie, odd: up to even"},
        {0x3F808001, 0x3F81, "just above a tie: up"},
        {0x3F807FFF, 0x3F80, "just below a tie: down"},
        {0xC0200000, 0xC020, "-2.5, exact"},
        {0x7F7FFFFF, 0x7F80, "FLT_MAX overflows to inf"},
        {0x7F7F7FFF, 0x7F7F, "the largest finite BF16 stays"},
        {0x7F800000, 0x7F80, "inf stays inf"},
        {0xFF800000, 0xFF80, "-inf stays -inf"},
        {0x7FC00000, 0x7FC0, "a quiet NaN"},
        {0x7F800001, 0x7FC0, "a signalling NaN whose payload is all low bits stays a NaN (not inf)"},
        {0xFFFFFFFF, 0xFFFF, "an all-ones NaN: no carry into the sign"},
    };
    for (int i = 0; i < N(cases); i++) {
        uint16_t got = st_f32_to_bf16(from_bits(cases[i].in));
        CHECK(got == cases[i].out, "%08X -> %04X, want %04X (%s)", cases[i].in, got, cases[i].out, cases[i].what);
    }
    // through a file: the finite cases come back as their rounded values
    float in[16], want[16], back[16];
    int n = 0;
    for (int i = 0; i < N(cases); i++) {
        float rounded = st_bf16_to_f32(cases[i].out);
        if (isfinite(rounded)) in[n] = from_bits(cases[i].in), want[n++] = rounded;
    }
    CHECK(want[0] == 1.0f && want[1] == 0.333984375f && want[2] == 65536.0f, "%g %g %g", want[0], want[1], want[2]);
    const int64_t shape[1] = {n};
    StWriteTensor t = {"x", 1, shape, in};
    const char *path = tmp_path("bf16.safetensors");
    char err[512] = "";
    CHECK(st_write(path, &t, 1, ST_BF16, NULL, E) == 0, "write: %s", err);
    unsigned long long hn, size;
    header_and_size(path, &hn, &size);
    CHECK(size == 8 + hn + 2 * (unsigned long long)n, "file of %llu bytes", size);
    StSet s;
    int rc = st_open(&s, path, E);
    CHECK(rc == 0, "open: %s", err);
    if (rc == 0) {
        const StTensor *x = st_find(&s, "x");
        CHECK(x && x->dtype == ST_BF16 && x->numel == (size_t)n, "dtype or count wrong");
        CHECK(x && st_read_f32(&s, x, back, (size_t)n, E) == 0, "read: %s", err);
        for (int i = 0; x && i < n; i++) CHECK(bits(back[i]) == bits(want[i]), "%d: %08X", i, bits(back[i]));
        st_close(&s);
    }
    // a large BF16 tensor over several chunks: every value rounded the same, within 2^-8 relative
    size_t nbig = 100003, bad = 0;
    float *w = malloc(nbig * sizeof(float)), *r = malloc(nbig * sizeof(float));
    for (size_t i = 0; i < nbig; i++) w[i] = (float)cos((double)i) * 3.0f;
    const int64_t sbig[1] = {(int64_t)nbig};
    StWriteTensor tb = {"big", 1, sbig, w};
    CHECK(st_write(path, &tb, 1, ST_BF16, NULL, E) == 0, "write big: %s", err);
    rc = st_open(&s, path, E);
    CHECK(rc == 0 && st_read_f32(&s, st_find(&s, "big"), r, nbig, E) == 0, "read big: %s", err);
    for (size_t i = 0; rc == 0 && i < nbig; i++)
        bad += bits(r[i]) != bits(st_bf16_to_f32(st_f32_to_bf16(w[i]))) || fabsf(r[i] - w[i]) > fabsf(w[i]) / 256;
    CHECK(bad == 0, "%zu of %zu big values wrong", bad, nbig);
    if (rc == 0) st_close(&s);
    free(w); free(r);
    group_end("safetensors BF16", "round to nearest even (ties, subnormals, overflow, NaN kept), file round trip, "
              "100003 values");
}

static void test_f16(void) {
    // st_f16_to_f32 on every class
    static const struct { uint16_t h; float f; } cases[] = {
        {0x3C00, 1.0f}, {0xC000, -2.0f}, {0x7BFF, 65504.0f}, {0x0001, 0x1p-24f}, {0x8001, -0x1p-24f},
        {0x03FF, 1023 * 0x1p-24f}, {0x0400, 0x1p-14f}, {0x0000, 0.0f}, {0x3555, 0.333251953125f}, {0xFBFF, -65504.0f},
    };
    for (int i = 0; i < N(cases); i++)
        CHECK(st_f16_to_f32(cases[i].h) == cases[i].f, "%04X -> %g, want %g", cases[i].h, st_f16_to_f32(cases[i].h),
              cases[i].f);
    CHECK(signbit(st_f16_to_f32(0x8000)) && st_f16_to_f32(0x8000) == 0, "-0");
    CHECK(isinf(st_f16_to_f32(0x7C00)) && st_f16_to_f32(0xFC00) < 0 && isinf(st_f16_to_f32(0xFC00)), "+-inf");
    CHECK(isnan(st_f16_to_f32(0x7E00)) && isnan(st_f16_to_f32(0x7C01)), "nan");
    // exhaustive: every finite half widens to the value its fields say
    int wrong = 0;
    for (unsigned h = 0; h < 0x10000; h++) {
        unsigned e = (h >> 10) & 31, m = h & 1023;
        if (e == 31) continue;
        double v = e ? ldexp(1024 + m, (int)e - 25) : ldexp(m, -24);
        wrong += st_f16_to_f32((uint16_t)h) != (float)((h & 0x8000) ? -v : v);
    }
    CHECK(wrong == 0, "%d finite halves widen wrong", wrong);
    // a hand-built F16 file
    unsigned char data[2 * N(cases)];
    for (int i = 0; i < N(cases); i++) data[2 * i] = cases[i].h & 0xFF, data[2 * i + 1] = cases[i].h >> 8;
    const char *path = tmp_path("f16.safetensors");
    write_st(path, "{\"h\":{\"dtype\":\"F16\",\"shape\":[2,5],\"data_offsets\":[0,20]}}", data, 20, 0);
    StSet s;
    char err[512] = "";
    float back[10];
    int rc = st_open(&s, path, E);
    CHECK(rc == 0, "open: %s", err);
    if (rc == 0) {
        CHECK(st_read_f32(&s, st_find(&s, "h"), back, 10, E) == 0, "read: %s", err);
        for (int i = 0; i < N(cases); i++) CHECK(back[i] == cases[i].f, "%d: %g, want %g", i, back[i], cases[i].f);
        st_close(&s);
    }
    group_end("safetensors F16", "1, -2, 65504, subnormals, -0, inf, nan; all 63488 finite halves; a hand-built file");
}

// non-finite values in a file are refused, naming the tensor and where
static void test_non_finite(void) {
    static const struct { const char *dtype; unsigned char bytes[8]; size_t n; const char *want; } cases[] = {
        {"F16", {0x00, 0x3C, 0x00, 0x7C}, 4, "tensor \"t\" holds a non-finite value (inf) at element 1"},
        {"F16", {0x00, 0xFE, 0x00, 0x3C}, 4, "tensor \"t\" holds a non-finite value (nan) at element 0"},
        {"BF16", {0x80, 0x3F, 0x80, 0xFF}, 4, "tensor \"t\" holds a non-finite value (inf) at element 1"},
        {"BF16", {0xC1, 0x7F, 0x80, 0x3F}, 4, "(nan) at element 0"},
        {"F32", {0, 0, 0x80, 0x3F, 0, 0, 0xC0, 0x7F}, 8, "tensor \"t\" holds a non-finite value (nan) at element 1"},
        {"F32", {0, 0, 0x80, 0xFF, 0, 0, 0x80, 0x3F}, 8, "(inf) at element 0"},
    };
    const char *path = tmp_path("nonfinite.safetensors");
    for (int i = 0; i < N(cases); i++) {
        char header[128], err[512] = "";
        size_t n = cases[i].n / (strcmp(cases[i].dtype, "F32") ? 2 : 4);
        snprintf(header, sizeof(header), "{\"t\":{\"dtype\":\"%s\",\"shape\":[%zu],\"data_offsets\":[0,%zu]}}",
                 cases[i].dtype, n, cases[i].n);
        write_st(path, header, cases[i].bytes, cases[i].n, 0);
        StSet s;
        float out[2];
        int rc = st_open(&s, path, E);
        CHECK(rc == 0, "case %d: open: %s", i, err);
        if (rc) continue;
        CHECK(st_read_f32(&s, &s.tensors[0], out, n, E) == -1 && says(err, path, cases[i].want),
              "case %d: '%s' does not say '%s'", i, err, cases[i].want);
        st_close(&s);
    }
    group_end("safetensors non-finite values", "inf and nan in F16, BF16 and F32 refused at read");
}

// ----------------------------------------------------------------------------
// safetensors: every rule of the format, each on a hand-crafted bad file

static void test_bad_files(void) {
    const char *path = tmp_path("bad.safetensors");
    char msg[256], missing[512];
    snprintf(missing, sizeof(missing), "%s", tmp_path("does-not-exist.safetensors"));
    // the first 8 bytes and the header length
    write_file(path, "\x10\0\0\0\0", 5);
    expect_refused(path, path, "5 bytes is too short for a safetensors file", "5-byte file");
    write_file(path, "", 0);
    expect_refused(path, path, "0 bytes is too short", "empty file");
    write_st(path, "", NULL, 16, 0);
    expect_refused(path, path, "header length is 0", "header length 0");
    write_st(path, "{}", NULL, 0, 200u << 20);
    expect_refused(path, path, "header length 209715200 is over the limit of 100000000 bytes", "header of 200 MB");
    write_st(path, "{}      ", NULL, 4, 13);
    expect_refused(path, path, "header length 13 runs past the end of the file (20 bytes)", "header past the end");
    write_st(path, "{}", NULL, 0, UINT64_MAX);
    expect_refused(path, path, "header length 18446744073709551615 is over the limit", "header length 2^64-1");
    expect_refused(missing, missing, "cannot open: No such file", "missing file");
    expect_refused(tmpdir, tmpdir, "not a regular file", "a directory");
    // the header, entry by entry: {header, data bytes, what the message must say}
#define T(dtype, shape, offs) "{\"dtype\":" dtype ",\"shape\":" shape ",\"data_offsets\":" offs "}"
#define F32 "\"F32\""
#define BAD_JSON "header is not valid JSON (bytes count from its start): line 1, "
    static const struct { const char *header; size_t data; const char *want; } cases[] = {
        {"{\"a\":", 0, BAD_JSON "byte 5: unexpected end of input"},
        {"{\"a\":1,\"a\":2}", 0, BAD_JSON "byte 7: duplicate key \"a\""},
        {"{\"a\":" T(F32, "[1]", "[0,4]") ",\"a\":" T(F32, "[1]", "[4,8]") "}", 8, "duplicate key \"a\""},
        {"{\"\xff\":{}}", 0, BAD_JSON "byte 2: invalid UTF-8"},
        {"[1]", 0, "header is an array, not a JSON object"},
        {"\"text\"", 0, "header is a string, not a JSON object"},
        {"{\"a\":5}", 0, "tensor \"a\": the entry is the integer 5, not an object"},
        {"{\"a\":[0,4]}", 0, "tensor \"a\": the entry is an array, not an object"},
        {"{\"a\":{\"shape\":[1],\"data_offsets\":[0,4]}}", 4, "tensor \"a\": missing \"dtype\""},
        {"{\"a\":{\"dtype\":\"F32\",\"data_offsets\":[0,4]}}", 4, "tensor \"a\": missing \"shape\""},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[1]}}", 4, "tensor \"a\": missing \"data_offsets\""},
        {"{\"a\":" T("5", "[1]", "[0,4]") "}", 4, "tensor \"a\": \"dtype\" must be a string, not the integer 5"},
        {"{\"a\":" T(F32, "\"1\"", "[0,4]") "}", 4, "tensor \"a\": \"shape\" must be an array, not a string"},
        {"{\"a\":" T(F32, "[1]", "{}") "}", 4, "tensor \"a\": \"data_offsets\" must be an array, not an object"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4],\"x\":1}}", 4, "tensor \"a\": unknown key \"x\""},
        {"{\"a\":" T("\"I64\"", "[1]", "[0,8]") "}", 8, "tensor \"a\": dtype \"I64\" is not supported (only F32, F16 and"},
        {"{\"a\":" T("\"F64\"", "[1]", "[0,8]") "}", 8, "dtype \"F64\" is not supported"},
        {"{\"a\":" T("\"f32\"", "[1]", "[0,4]") "}", 4, "dtype \"f32\" is not supported"},
        {"{\"a\":" T(F32, "[2,-1]", "[0,4]") "}", 4, "tensor \"a\": shape[1] is negative (-1)"},
        {"{\"a\":" T(F32, "[1.5]", "[0,4]") "}", 4, "tensor \"a\": shape[0] must be an integer, not the number 1.5"},
        {"{\"a\":" T(F32, "[\"1\"]", "[0,4]") "}", 4, "tensor \"a\": shape[0] must be an integer, not a string"},
        {"{\"a\":" T(F32, "[1e2]", "[0,400]") "}", 400, "shape[0] must be an integer, not the number 100"},
        {"{\"a\":" T(F32, "[1,1,1,1,1,1,1,1,1]", "[0,4]") "}", 4, "tensor \"a\": shape has 9 dimensions (at most 8)"},
        {"{\"a\":" T(F32, "[4294967296,4294967296]", "[0,4]") "}", 4,
         "tensor \"a\": shape [4294967296, 4294967296] has too many elements (overflow)"},
        {"{\"a\":" T("\"BF16\"", "[9223372036854775807]", "[0,4]") "}", 4, "has too many elements (overflow)"},
        {"{\"a\":" T(F32, "[1]", "[0]") "}", 4, "tensor \"a\": data_offsets must be [begin, end], not 1 numbers"},
        {"{\"a\":" T(F32, "[1]", "[0,4,8]") "}", 4, "data_offsets must be [begin, end], not 3 numbers"},
        {"{\"a\":" T(F32, "[1]", "[-4,0]") "}", 4, "tensor \"a\": data_offsets[0] must be a non-negative integer, not "
         "the integer -4"},
        {"{\"a\":" T(F32, "[1]", "[0,4.0]") "}", 4, "data_offsets[1] must be a non-negative integer, not the number 4"},
        {"{\"a\":" T(F32, "[1]", "[0,18446744073709551616]") "}", 4, "data_offsets[1] must be a non-negative integer, "
         "not the number 1.8446744073709552e+19"},
        {"{\"a\":" T(F32, "[0]", "[8,4]") "}", 8, "tensor \"a\": data_offsets [8, 4] end before they begin"},
        {"{\"a\":" T(F32, "[2,3]", "[0,12]") "}", 24, "tensor \"a\": data_offsets [0, 12] hold 12 bytes, but shape "
         "[2, 3] of F32 needs 24"},
        {"{\"a\":" T("\"BF16\"", "[2]", "[0,8]") "}", 8, "hold 8 bytes, but shape [2] of BF16 needs 4"},
        {"{\"a\":" T(F32, "[2]", "[0,8]") "}", 4, "tensor \"a\": data_offsets [0, 8] run past the end of the file (4 "
         "bytes of data)"},
        {"{\"a\":" T(F32, "[2]", "[0,8]") ",\"b\":" T(F32, "[2]", "[4,12]") "}", 12, "tensors \"a\" and \"b\" overlap "
         "(data_offsets [0, 8] and [4, 12])"},
        {"{\"b\":" T(F32, "[3]", "[0,12]") ",\"a\":" T(F32, "[1]", "[4,8]") "}", 12, "tensors \"b\" and \"a\" overlap"},
        {"{\"a\":" T(F32, "[1]", "[0,4]") ",\"b\":" T(F32, "[1]", "[8,12]") "}", 12, "bytes [4, 8) of the data belong "
         "to no tensor (a hole before \"b\")"},
        {"{\"a\":" T(F32, "[1]", "[4,8]") "}", 8, "bytes [0, 4) of the data belong to no tensor (a hole before \"a\")"},
        {"{\"a\":" T(F32, "[1]", "[0,4]") "}", 8, "4 bytes after the last tensor's data (the data section has 8, the "
         "tensors cover 4)"},
        {"{}", 1, "1 bytes after the last tensor's data"},
        {"{\"__metadata__\":5}", 0, "__metadata__ must be an object of strings"},
        {"{\"__metadata__\":{\"format\":\"pt\",\"total\":1}}", 0, "__metadata__ must be an object of strings"},
        {"{\"__metadata__\":[\"pt\"]}", 0, "__metadata__ must be an object of strings"},
    };
    unsigned char zeros[512] = {0};
    for (int i = 0; i < N(cases); i++) {
        write_st(path, cases[i].header, zeros, cases[i].data, 0);
        snprintf(msg, sizeof(msg), "case %d (%s)", i, cases[i].header);
        expect_refused(path, path, cases[i].want, msg);
    }
    // and what the rules allow: 8 dimensions, zero-size tensors at any boundary, a scalar,
    // padding spaces, metadata of strings
    const char *good = "{\"__metadata__\":{\"format\":\"pt\"},\"z\":" T(F32, "[0]", "[4,4]") ","
                       "\"e\":{\"shape\":[1,1,1,1,1,1,1,1],\"data_offsets\":[0,4],\"dtype\":\"F32\"},"
                       "\"s\":" T("\"BF16\"", "[]", "[4,6]") ",\"z0\":" T("\"F16\"", "[3,0]", "[0,0]") "}   ";
#undef T
#undef F32
#undef BAD_JSON
    write_st(path, good, zeros, 6, 0);
    StSet s;
    char err[512] = "";
    CHECK(st_open(&s, path, E) == 0 && s.n_tensors == 4 && st_find(&s, "e")->ndim == 8 && st_find(&s, "s")->numel == 1,
          "valid edge cases: %s", err);
    st_close(&s);
    char detail[128];
    snprintf(detail, sizeof(detail), "%d bad headers and 8 bad files refused, each saying what is wrong", N(cases));
    group_end("safetensors validation", detail);
}

// writer errors: what st_write refuses, leaving no file behind
static void test_write_errors(void) {
    const char *path = tmp_path("refused.safetensors");
    float x[2] = {1, 2};
    const int64_t s2[1] = {2}, sneg[1] = {-2}, s9[9] = {1, 1, 1, 1, 1, 1, 1, 1, 2};
    static const char *dup[] = {"k", "a", "k", "b", NULL}, *bad[] = {"k", "\xff", NULL}, *odd[] = {"k", NULL};
    const struct { StWriteTensor t[2]; int n; StDtype dtype; const char *const *meta; const char *want; } cases[] = {
        {{{"a", 1, s2, x}}, 1, ST_F16, NULL, "can only write F32 or BF16, not F16"},
        {{{"a", 1, s2, x}, {"a", 1, s2, x}}, 2, ST_F32, NULL, "\"a\" is there twice"},
        {{{"a", 1, s2, x}}, 1, ST_F32, dup, "\"k\" is there twice"},
        {{{"a", 1, s2, x}}, 1, ST_F32, bad, "metadata \"k\": no value, or not UTF-8"},
        {{{"a", 1, s2, x}}, 1, ST_F32, odd, "metadata \"k\": no value"},
        {{{"__metadata__", 1, s2, x}}, 1, ST_F32, NULL, "tensor 0: a name must be non-empty UTF-8 and not __metadata__"},
        {{{"a", 1, s2, x}, {"", 1, s2, x}}, 2, ST_BF16, NULL, "tensor 1: a name must be"},
        {{{"\xc3", 1, s2, x}}, 1, ST_F32, NULL, "tensor 0: a name must be"},
        {{{NULL, 1, s2, x}}, 1, ST_F32, NULL, "tensor 0: a name must be"},
        {{{"a", 9, s9, x}}, 1, ST_F32, NULL, "tensor \"a\": 9 dimensions (0 to 8, with a shape)"},
        {{{"a", 1, NULL, x}}, 1, ST_F32, NULL, "tensor \"a\": 1 dimensions"},
        {{{"a", 1, sneg, x}}, 1, ST_F32, NULL, "tensor \"a\": shape [-2] is negative or too large, or there is no data"},
        {{{"a", 1, s2, NULL}}, 1, ST_F32, NULL, "tensor \"a\": shape [2] is negative or too large, or there is no data"},
    };
    char err[512] = "";
    for (int i = 0; i < N(cases); i++) {
        int rc = st_write(path, cases[i].t, cases[i].n, cases[i].dtype, cases[i].meta, E);
        CHECK(rc == -1 && says(err, path, cases[i].want), "case %d: rc %d, '%s'", i, rc, err);
        CHECK(access(path, F_OK) != 0, "case %d: a file was written", i);
    }
    StWriteTensor t = {"a", 1, s2, x};
    const char *nodir = "/nonexistent-rlme-dir/x.safetensors";
    CHECK(st_write(nodir, &t, 1, ST_F32, NULL, E) == -1 && says(err, nodir, "cannot create the temporary file"),
          "no directory: '%s'", err);
    group_end("safetensors writer errors", "bad dtype, names, shapes, metadata, duplicates, an unwritable path");
}

// ----------------------------------------------------------------------------
// sharded sets: an index and its shards

#define S1 "model-00001-of-00002.safetensors"
#define S2 "model-00002-of-00002.safetensors"

static void write_index(const char *path, const char *weight_map) {
    char buf[1024];
    snprintf(buf, sizeof(buf), "{\"metadata\": {\"total_size\": 36}, \"weight_map\": %s}\n", weight_map);
    write_file(path, buf, strlen(buf));
}

static void test_sharded(void) {
    char s1[512], s2[512], index[512], err[512] = "", cwd[1024]; // (copies: tmp_path's buffers are reused)
    snprintf(s1, sizeof(s1), "%s", tmp_path(S1));
    snprintf(s2, sizeof(s2), "%s", tmp_path(S2));
    snprintf(index, sizeof(index), "%s", tmp_path("model.safetensors.index.json"));
    float a[4] = {1, 2, 3, 4}, b[2] = {-1, -2}, c[3] = {0.5f, 0.25f, 0.125f}, back[4];
    const int64_t sa[2] = {2, 2}, sb[1] = {2}, sc[1] = {3};
    StWriteTensor t1[2] = {{"a", 2, sa, a}, {"b", 1, sb, b}}, t2[1] = {{"c", 1, sc, c}};
    const char *meta[] = {"format", "pt", NULL};
    CHECK(st_write(s1, t1, 2, ST_F32, meta, E) == 0 && st_write(s2, t2, 1, ST_BF16, NULL, E) == 0, "shards: %s", err);
    const char *map = "{\"c\": \"" S2 "\", \"a\": \"" S1 "\", \"b\": \"" S1 "\"}";
    write_index(index, map);
    StSet s;
    int rc = st_open(&s, index, E);
    CHECK(rc == 0, "open: %s", err);
    if (rc == 0) {
        CHECK(s.n_files == 2 && s.n_tensors == 3 && !strcmp(s.path, index), "%d files, %zu tensors", s.n_files,
              s.n_tensors);
        CHECK(s.n_files == 2 && !strcmp(s.files[0].path, s1) && !strcmp(s.files[1].path, s2), "shard paths");
        const StTensor *x = st_find(&s, "c");
        CHECK(x && x->file == 1 && x->dtype == ST_BF16 && st_find(&s, "a")->file == 0, "which file");
        CHECK(st_load(&s, "a", 2, sa, back, E) == 0 && !memcmp(back, a, sizeof(a)), "a: %s", err);
        CHECK(st_load(&s, "b", 1, sb, back, E) == 0 && !memcmp(back, b, sizeof(b)), "b: %s", err);
        CHECK(st_load(&s, "c", 1, sc, back, E) == 0 && !memcmp(back, c, sizeof(c)), "c: %s", err);
        CHECK(st_load(&s, "d", 1, sc, back, E) == -1 && says(err, index, "no tensor \"d\""), "d: '%s'", err);
        CHECK(st_meta(&s, "format") && !strcmp(st_meta(&s, "format"), "pt"), "metadata of the first shard");
        st_close(&s);
    }
    // a relative path: the shards are found beside it
    if (getcwd(cwd, sizeof(cwd)) && chdir(tmpdir) == 0) {
        rc = st_open(&s, "model.safetensors.index.json", E);
        CHECK(rc == 0 && s.n_tensors == 3 && !strcmp(s.files[0].path, S1), "relative: %s", err);
        if (rc == 0) st_close(&s);
        CHECK(chdir(cwd) == 0, "chdir back");
    }
    // what the index and the shards must agree on (L256: a name one byte over a file name's limit)
#define L16 "abcdefghijklmnop"
#define L256 L16 L16 L16 L16 L16 L16 L16 L16 L16 L16 L16 L16 L16 L16 L16 L16
    static const struct { const char *map; int names; const char *want; } cases[] = { // names: 0 index, 1 shard 1
        {"{\"a\": \"" S1 "\", \"b\": \"" S1 "\", \"c\": \"" S2 "\", \"d\": \"" S2 "\"}", 0,
         "tensor \"d\" is missing from its shard " S2},
        {"{\"a\": \"" S1 "\", \"b\": \"" S1 "\", \"c\": \"" S1 "\"}", 0, "tensor \"c\" is missing from its shard " S1},
        {"{\"a\": \"" S1 "\", \"c\": \"" S2 "\"}", 1, "unexpected tensor \"b\" (the index "},
        {"{\"a\": \"" S1 "\", \"b\": \"" S2 "\", \"c\": \"" S2 "\"}", 1, "unexpected tensor \"b\" (the index "},
        {"{\"a\": \"../" S1 "\"}", 0, "weight_map[\"a\"] = \"../" S1 "\" is not a plain file name"},
        {"{\"a\": \"sub/x.safetensors\"}", 0, "is not a plain file name in the index's directory"},
        {"{\"a\": \"/etc/passwd\"}", 0, "is not a plain file name"},
        {"{\"a\": \"..\"}", 0, "is not a plain file name"},
        {"{\"a\": \".\"}", 0, "is not a plain file name"},
        {"{\"a\": \"\"}", 0, "is not a plain file name"},
        {"{\"a\": \"" L256 "\"}", 0, "weight_map[\"a\"] names a file of 256 bytes (a file name has at most 255)"},
        {"{\"a\": 3}", 0, "weight_map[\"a\"] must be a file name, not the integer 3"},
        {"{}", 0, "weight_map lists no tensors"},
        {"[]", 0, "\"weight_map\" must be an object, not an array"},
        {"{\"a\": \"nope.safetensors\"}", 2, "cannot open: No such file"},
    };
    char what[64], names[600];
    for (int i = 0; i < N(cases); i++) {
        write_index(index, cases[i].map);
        snprintf(what, sizeof(what), "index case %d", i);
        snprintf(names, sizeof(names), "%s", cases[i].names == 0 ? index : cases[i].names == 1 ? s1
                                             : tmp_path("nope.safetensors"));
        expect_refused(index, names, cases[i].want, what);
    }
#undef L16
#undef L256
    // the index itself
    write_file(index, "{\"weight_map\": {\"a\": ", 21);
    expect_refused(index, index, "not valid JSON: line 1, byte 21: unexpected end of input", "index not JSON");
    write_file(index, "[1]", 3);
    expect_refused(index, index, "the index is an array, not a JSON object", "index an array");
    write_file(index, "{\"metadata\": {}}", 16);
    expect_refused(index, index, "missing \"weight_map\"", "no weight_map");
    write_file(index, "{\"metadata\": 1, \"weight_map\": {\"a\": \"x\"}}", 41);
    expect_refused(index, index, "\"metadata\" must be an object", "metadata not an object");
    snprintf(names, sizeof(names), "%s", tmp_path("none.index.json"));
    expect_refused(names, names, "cannot open", "no index");
    // a bad shard is named in the message
    write_index(index, map);
    write_file(s2, "\x04\0\0\0\0\0\0\0{}", 10);
    expect_refused(index, s2, "header length 4 runs past the end of the file", "truncated shard");
    group_end("safetensors sharded sets", "an index of two shards (F32 + BF16), relative paths, every disagreement");
}

// ----------------------------------------------------------------------------

static void remove_tmpdir(void) {
    DIR *d = opendir(tmpdir);
    struct dirent *e;
    while (d && (e = readdir(d))) if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) remove(tmp_path(e->d_name));
    if (d) closedir(d);
    rmdir(tmpdir);
}

int main(void) {
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/rlme_test_safetensors.%ld", (long)getpid());
    if (mkdir(tmpdir, 0777)) { printf("FAIL cannot create %s\n", tmpdir); return 1; }
    test_json_valid();
    test_json_numbers();
    test_json_errors();
    test_json_large();
    test_json_writer();
    test_f32_round_trip();
    test_bf16();
    test_f16();
    test_non_finite();
    test_bad_files();
    test_write_errors();
    test_sharded();
    remove_tmpdir();
    printf("%d passed, %d failed\n", groups_passed, groups_failed);
    return total_fails ? 1 : 0;
}
