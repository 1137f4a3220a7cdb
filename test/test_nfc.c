// Tests for data/nfc.h. Run from the repo root:
//   cc -O2 -std=c11 -Wall -Wextra -o test_nfc test/test_nfc.c && ./test_nfc
// Checks nfc_normalize against node's NFC on the cases of test/nfc_cases.txt (written by
// dev/nfc_reference.js), and on every other code point alone (each its own NFC, as the
// file lists all that NFD changes); that nfc_quick never says "NFC" of a text that
// normalizing changes; that bytes which are not UTF-8 pass through; and normalizes a
// megabyte of marks of alternating classes and one of jamo (times printed, never asserted).
// Prints one PASS/FAIL line per check and exits non-zero if anything failed.
#include "../data/nfc.h"
#include <stdarg.h>
#include <stdio.h>
#include <time.h>

static int failures = 0, passes = 0;

static void check(int ok, const char *name, const char *fmt, ...) {
    printf("%s %s", ok ? "PASS" : "FAIL", name);
    if (fmt) {
        va_list ap;
        va_start(ap, fmt);
        printf(": ");
        vprintf(fmt, ap);
        va_end(ap);
    }
    printf("\n");
    fflush(stdout);
    failures += !ok;
    passes += ok;
}

static double now(void) {
    struct timespec ts;
    timespec_get(&ts, TIME_UTC);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

// ----------------------------------------------------------------------------
// helpers

typedef struct { unsigned char *s; size_t n, cap; } Buf;

static void put(Buf *b, const void *s, size_t n) {
    if (b->n + n > b->cap) {
        b->cap = 2 * (b->n + n) + 64;
        b->s = realloc(b->s, b->cap);
    }
    memcpy(b->s + b->n, s, n);
    b->n += n;
}

static void put_cp(Buf *b, uint32_t c) {
    unsigned char u[4];
    put(b, u, nfc_utf8_encode(c, u));
}

// NFC of s[0..n) into *out; 1 if it equals want[0..wn)
static int normalizes_to(const unsigned char *s, size_t n, const unsigned char *want, size_t wn, Buf *out) {
    long m = nfc_normalize(s, n, &out->s, &out->cap);
    out->n = m > 0 ? (size_t)m : 0;
    return m == (long)wn && memcmp(out->s, want, wn) == 0;
}

// Decodes one side of a case line (printable ASCII, \u{HEX} for the rest) from p up to
// the byte stop into b; returns the position after it, or NULL if malformed.
static const char *unescape(const char *p, char stop, Buf *b, size_t *ncp, uint32_t *first) {
    b->n = 0;
    *ncp = 0;
    while (*p && *p != stop) {
        uint32_t c = (unsigned char)*p++;
        if (c == '\\') {
            char *end;
            if (strncmp(p, "u{", 2)) return NULL;
            c = (uint32_t)strtoul(p + 2, &end, 16);
            if (*end != '}' || c > 0x10ffff) return NULL;
            p = end + 1;
        }
        if (!*ncp) *first = c;
        ++*ncp;
        put_cp(b, c);
    }
    return *p == stop ? p : NULL;
}

// printable form of bytes, for failure messages
static const char *show(const unsigned char *s, size_t n) {
    static char out[200];
    size_t o = 0;
    for (size_t i = 0; i < n && o + 5 < sizeof out; i++)
        o += (size_t)snprintf(out + o, sizeof out - o, "%02x ", s[i]);
    out[o] = 0;
    return out;
}

// ----------------------------------------------------------------------------
// the checks

// the whole of a file, NUL-terminated, or NULL
static char *slurp(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    Buf b = {0};
    char chunk[1 << 16];
    size_t got;
    while ((got = fread(chunk, 1, sizeof chunk, f)) > 0) put(&b, chunk, got);
    fclose(f);
    put(&b, "", 1);
    return (char *)b.s;
}

// Every case of the file; marks in listed[] the code points it has alone.
static void test_cases(unsigned char *listed) {
    char *text = slurp("test/nfc_cases.txt");
    if (!text) { check(0, "cases_read", "test/nfc_cases.txt: cannot read"); return; }
    size_t lines = 0, wrong = 0, malformed = 0, unstable = 0, quick_wrong = 0, quick = 0;
    Buf in = {0}, want = {0}, out = {0}, again = {0};
    char *next;
    for (char *line = text; *line; line = next) {
        char *end = strchr(line, '\n');
        next = end ? end + 1 : line + strlen(line);
        if (end) *end = 0;
        size_t ncp, nw;
        uint32_t first = 0, wfirst;
        const char *p = unescape(line, '\t', &in, &ncp, &first);
        if (!p || !unescape(p + 1, 0, &want, &nw, &wfirst)) { malformed++; continue; }
        lines++;
        if (ncp == 1) listed[first] = 1;
        if (!normalizes_to(in.s, in.n, want.s, want.n, &out) && wrong++ < 5)
            printf("  line %zu: %s\n", lines, line);
        // NFC is idempotent, and nfc_quick is never wrong
        unstable += !normalizes_to(want.s, want.n, want.s, want.n, &again);
        if (nfc_quick(in.s, in.n)) {
            quick++;
            quick_wrong += in.n != want.n || memcmp(in.s, want.s, in.n);
        }
    }
    free(text);
    check(lines > 20000 && !malformed, "cases_read", "%zu cases, %zu malformed lines", lines, malformed);
    check(!wrong, "cases_nfc", "%zu of %zu cases differ from node", wrong, lines);
    check(!unstable, "cases_idempotent", "%zu of the expected outputs change when normalized", unstable);
    check(!quick_wrong, "cases_quick", "%zu cases quick, %zu of them changed by NFC", quick, quick_wrong);
    free(in.s); free(want.s); free(out.s); free(again.s);
}

// every code point the file does not list alone is its own NFC; quick agrees everywhere
static void test_every_code_point(const unsigned char *listed) {
    size_t changed = 0, quick_wrong = 0, quick = 0;
    Buf in = {0}, out = {0};
    for (uint32_t c = 0; c < 0x110000; c++) {
        if (c >= 0xd800 && c <= 0xdfff) continue;
        in.n = 0;
        put_cp(&in, c);
        int same = normalizes_to(in.s, in.n, in.s, in.n, &out);
        if (!listed[c] && !same && changed++ < 5) printf("  U+%04X -> %s\n", c, show(out.s, out.n));
        if (nfc_quick(in.s, in.n)) { quick++; quick_wrong += !same; }
    }
    check(!changed, "every_code_point", "%zu code points not in the file changed by NFC", changed);
    check(!quick_wrong && quick > 1000000, "every_code_point_quick", "%zu quick, %zu of them changed", quick,
          quick_wrong);
    free(in.s); free(out.s);
}

// bytes that are not well-formed UTF-8 come out as they went in, and compose with nothing
static void test_invalid_utf8(void) {
    static const struct { const char *in, *out; } cases[] = {
        {"\xc0\x80", NULL}, {"\xc1\xbf", NULL}, {"\xe0\x80\x80", NULL}, {"\xe0\x9f\xbf", NULL},  // overlong
        {"\xf0\x80\x80\x80", NULL}, {"\xf0\x8f\xbf\xbf", NULL},
        {"\xed\xa0\x80", NULL}, {"\xed\xbf\xbf", NULL}, {"\xed\xa0\x80\xed\xb0\x80", NULL},  // surrogates
        {"\xf4\x90\x80\x80", NULL}, {"\xf5\x80\x80\x80", NULL}, {"\xf8\x88\x80\x80\x80", NULL}, // > U+10FFFF
        {"\xfe", NULL}, {"\xff", NULL}, {"\x80", NULL}, {"\xbf\x80", NULL},  // no lead byte
        {"\xe2\x82", NULL}, {"\xf0\x9f\x98", NULL}, {"\xcc", NULL}, {"e\xcc", NULL},  // cut short
        {"\xe2\x28\xa1", NULL}, {"\xc3(", NULL},
        // a bad byte is a starter: nothing composes across it, marks do not sort past it
        {"e\xff\xcc\x81", NULL}, {"e\x80\xcc\x81", NULL}, {"\xe1\x84\x80\xff\xe1\x85\xa1", NULL},
        {"a\xcc\x81\xff\xcc\x96", "\xc3\xa1\xff\xcc\x96"}, {"a\xcc\x96\xcc\x81", "\xc3\xa1\xcc\x96"},
        {"\xff\xcc\x81\xcc\x96", "\xff\xcc\x96\xcc\x81"}, {"\xc3\xa9\xed\xa0\x80", NULL},
        {"e\xcc\x81\xe2\x82", "\xc3\xa9\xe2\x82"},
    };
    size_t bad = 0, n = sizeof cases / sizeof cases[0];
    Buf out = {0};
    for (size_t i = 0; i < n; i++) {
        const char *want = cases[i].out ? cases[i].out : cases[i].in;
        const unsigned char *in = (const unsigned char *)cases[i].in;
        if (!normalizes_to(in, strlen(cases[i].in), (const unsigned char *)want, strlen(want), &out)) {
            bad++;
            printf("  case %zu: got %s\n", i, show(out.s, out.n));
        }
    }
    check(!bad, "invalid_utf8", "%zu of %zu byte strings wrong", bad, n);

    // random bytes: no crash, and quick never wrong
    uint64_t x = 88172645463325252ull;
    size_t quick_wrong = 0;
    unsigned char s[64];
    for (int t = 0; t < 20000; t++) {
        size_t len = t % 64;
        for (size_t i = 0; i < len; i++) {
            x ^= x << 13; x ^= x >> 7; x ^= x << 17;
            static const unsigned char bytes[] = {0x61, 0xcc, 0x81, 0x96, 0xe1, 0x84, 0x85, 0xa1, 0xff, 0xc3};
            s[i] = x % 3 ? bytes[x % 10] : (unsigned char)(x >> 8);
        }
        long m = nfc_normalize(s, len, &out.s, &out.cap);
        if (m < 0 || (nfc_quick(s, len) && (m != (long)len || memcmp(out.s, s, len)))) quick_wrong++;
    }
    check(!quick_wrong, "random_bytes", "20000 strings, %zu wrong", quick_wrong);
    free(out.s);
}

// A megabyte of marks of alternating classes after one letter: a reorder quadratic in
// the run would take hours. 'a' + (U+0316 U+0301) x k sorts to a, U+0316 x k, U+0301 x k,
// and the first U+0301 joins the a (U+0316's class 220 is lower than its 230): U+00E1.
static void test_pathological(void) {
    size_t k = 1 << 18; // 2 x 2 bytes each: 1 MiB
    Buf in = {0}, want = {0}, out = {0};
    put(&in, "a", 1);
    for (size_t i = 0; i < k; i++) { put_cp(&in, 0x316); put_cp(&in, 0x301); }
    put_cp(&want, 0xe1);
    for (size_t i = 0; i < k; i++) put_cp(&want, 0x316);
    for (size_t i = 1; i < k; i++) put_cp(&want, 0x301);
    double t0 = now();
    int ok = normalizes_to(in.s, in.n, want.s, want.n, &out);
    double secs = now() - t0;
    check(ok, "pathological_marks", "%.2f MB of alternating marks in %.3f s", in.n / 1e6, secs);

    // and a megabyte of Hangul jamo, L V T, that composes to syllables
    in.n = want.n = 0;
    for (size_t i = 0; i < k / 2; i++) {
        uint32_t l = (uint32_t)(i % 19), v = (uint32_t)(i / 19 % 21), t = (uint32_t)(i % 28);
        put_cp(&in, 0x1100 + l); put_cp(&in, 0x1161 + v);
        if (t) put_cp(&in, 0x11a7 + t);
        put_cp(&want, 0xac00 + (l * 21 + v) * 28 + t);
    }
    t0 = now();
    ok = normalizes_to(in.s, in.n, want.s, want.n, &out);
    check(ok, "pathological_jamo", "%.2f MB of jamo in %.3f s", in.n / 1e6, now() - t0);
    free(in.s); free(want.s); free(out.s);
}

int main(void) {
    unsigned char *listed = calloc(0x110000, 1);
    test_cases(listed);
    test_every_code_point(listed);
    free(listed);
    test_invalid_utf8();
    test_pathological();
    {   // the empty text, and a NULL buffer that stays NULL
        unsigned char *out = NULL;
        size_t cap = 0;
        long m = nfc_normalize((const unsigned char *)"", 0, &out, &cap);
        check(m == 0 && nfc_quick((const unsigned char *)"", 0), "empty", NULL);
        free(out);
    }
    printf("%d passed, %d failed\n", passes, failures);
    return failures != 0;
}
