/*
GSM8K jsonl reader and answer scorer. Header-only C11, libc only.

GSM8K (Cobbe et al. 2021) stores one JSON object per line:

    {"question": "Natalia sold ...", "answer": "... <<48/2=24>>24 ...\n#### 72"}

The answer is a chain of thought with calculator annotations <<expr=result>>,
ending with "#### N". Unknown fields are skipped (the synthetic splits of
data/synth.c add a "program" field, which is kept when present).

API (every function is static inline: include this header anywhere):

    int  gsm8k_load(const char *path, GSMExample **out, int *n, char *err, size_t errlen);
         -> 0 and a malloc'd array of *n >= 1 examples, or -1 and one line in err,
            "path:LINE: what is wrong (column C)". Never exits, never aborts.
    void gsm8k_free(GSMExample *ex, int n);
    int  gsm8k_parse_line(const char *line, size_t len, GSMExample *ex,
                          char *err, size_t errlen, size_t *col);
         -> 0, or -1 with the message (no file prefix) and 1-based column.

    int  gsm8k_gold(const char *answer, char *num, size_t cap);        // after "####"
    int  gsm8k_extract(const char *completion, char *num, size_t cap); // model's final number:
         // after "####", in "\\boxed{}", after "answer is", else the last one
    int  gsm8k_normalize(const char *s, char *num, size_t cap);        // s must be one number
    int  gsm8k_same_answer(const char *a, const char *b);              // a, b: numbers
    int  gsm8k_is_correct(const char *completion, const char *answer); // RLVR reward
         The first three return 1 and a canonical number in num (cap >= GSM8K_NUM_MAX
         is always enough for GSM8K), or 0 when there is no number.

Canonical numbers: no commas, no '$', no leading '+', no leading zeros, no trailing
zeros after the decimal point (and no point when nothing is left), "-0" -> "0".
So "$1,080.00" -> "1080", "72.50" -> "72.5", ".5" -> "0.5", "-3" -> "-3".
*/
#ifndef GSM8K_H
#define GSM8K_H

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GSM8K_NUM_MAX 64  // canonical numbers longer than this are rejected
#define GSM8K_MAX_DEPTH 256 // nesting limit of skipped JSON values

typedef struct {
    char *question; // UTF-8, malloc'd
    char *answer;   // UTF-8, malloc'd
    char *program;  // UTF-8, malloc'd, or NULL when the line has no "program" field
    int line;       // 1-based line of the file it came from (gsm8k_load), for messages
} GSMExample;

// ----------------------------------------------------------------------------
// JSON: a cursor over one line. Each parse function returns 0 on success, or -1
// after setting j->err (a message) and j->at (where it went wrong).

typedef struct {
    const char *p, *end; // cursor and end of the line
    const char *at;      // error position
    char err[96];        // error message
} GSMJson;

static inline int gsm8k__fail(GSMJson *j, const char *at, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(j->err, sizeof(j->err), fmt, ap);
    va_end(ap);
    j->at = at;
    return -1;
}

static inline void gsm8k__ws(GSMJson *j) {
    while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\r' || *j->p == '\n')) j->p++;
}

// length of the well-formed UTF-8 sequence at s (at most n bytes), 0 if ill-formed:
//   1 byte  00..7F
//   2 bytes C2..DF 80..BF
//   3 bytes E0 A0..BF 80..BF | E1..EC,EE..EF 80..BF 80..BF | ED 80..9F 80..BF (no surrogates)
//   4 bytes F0 90..BF .. | F1..F3 80..BF .. | F4 80..8F ..  (at most U+10FFFF)
static inline int gsm8k__utf8_len(const unsigned char *s, size_t n) {
    unsigned c = s[0];
    if (c < 0x80) return 1;
    int len; unsigned lo = 0x80, hi = 0xBF; // allowed range of the second byte
    if (c >= 0xC2 && c <= 0xDF) len = 2;
    else if (c >= 0xE0 && c <= 0xEF) { len = 3; if (c == 0xE0) lo = 0xA0; if (c == 0xED) hi = 0x9F; }
    else if (c >= 0xF0 && c <= 0xF4) { len = 4; if (c == 0xF0) lo = 0x90; if (c == 0xF4) hi = 0x8F; }
    else return 0;
    if ((size_t)len > n || s[1] < lo || s[1] > hi) return 0;
    for (int i = 2; i < len; i++) if (s[i] < 0x80 || s[i] > 0xBF) return 0;
    return len;
}

static inline int gsm8k__hex4(const char *s, const char *end, unsigned *out) {
    if (end - s < 4) return -1;
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        char c = s[i];
        int d = (c >= '0' && c <= '9') ? c - '0' : (c >= 'a' && c <= 'f') ? c - 'a' + 10
              : (c >= 'A' && c <= 'F') ? c - 'A' + 10 : -1;
        if (d < 0) return -1;
        v = v * 16 + (unsigned)d;
    }
    *out = v;
    return 0;
}

static inline char *gsm8k__put_utf8(char *o, unsigned cp) {
    if (cp < 0x80) { *o++ = (char)cp; }
    else if (cp < 0x800) { *o++ = (char)(0xC0 | cp >> 6); *o++ = (char)(0x80 | (cp & 0x3F)); }
    else if (cp < 0x10000) { *o++ = (char)(0xE0 | cp >> 12); *o++ = (char)(0x80 | ((cp >> 6) & 0x3F));
                             *o++ = (char)(0x80 | (cp & 0x3F)); }
    else { *o++ = (char)(0xF0 | cp >> 18); *o++ = (char)(0x80 | ((cp >> 12) & 0x3F));
           *o++ = (char)(0x80 | ((cp >> 6) & 0x3F)); *o++ = (char)(0x80 | (cp & 0x3F)); }
    return o;
}

// A string at j->p (which is '"'). With out != NULL, the decoded UTF-8 is malloc'd
// into *out. Two passes: find the closing quote, then decode into a buffer of the raw
// length (an escape never decodes to more bytes than it takes), so a line is read in
// linear time however long. \u0000 is rejected (it cannot live in a C string).
static inline int gsm8k__string(GSMJson *j, char **out) {
    const char *start = ++j->p, *q = start;
    while (q < j->end && *q != '"') q += (*q == '\\' && q + 1 < j->end) ? 2 : 1;
    if (q >= j->end) return gsm8k__fail(j, start - 1, "unterminated string");
    char *buf = NULL, *o = NULL;
    if (out) {
        buf = o = (char *)malloc((size_t)(q - start) + 1);
        if (!buf) return gsm8k__fail(j, start, "out of memory");
    }
    const char *s = start;
    while (s < q) {
        unsigned char c = (unsigned char)*s;
        if (c < 0x20) { free(buf); return gsm8k__fail(j, s, "control character 0x%02x in string", c); }
        if (c != '\\') {
            int len = gsm8k__utf8_len((const unsigned char *)s, (size_t)(q - s));
            if (!len) { free(buf); return gsm8k__fail(j, s, "invalid UTF-8 in string"); }
            if (o) { memcpy(o, s, (size_t)len); o += len; }
            s += len;
            continue;
        }
        char e = s[1];
        const char *simple = strchr("\"\\/bfnrt", e);
        if (e && simple) {
            static const char decoded[] = "\"\\/\b\f\n\r\t";
            if (o) *o++ = decoded[simple - "\"\\/bfnrt"];
            s += 2;
            continue;
        }
        if (e != 'u') {
            free(buf);
            if (e > 0x20 && e < 0x7F) return gsm8k__fail(j, s, "invalid escape '\\%c'", e);
            return gsm8k__fail(j, s, "invalid escape (byte 0x%02x)", (unsigned char)e);
        }
        unsigned cp;
        if (gsm8k__hex4(s + 2, q, &cp)) { free(buf); return gsm8k__fail(j, s, "invalid \\u escape"); }
        if (cp >= 0xDC00 && cp <= 0xDFFF) { free(buf); return gsm8k__fail(j, s, "lone surrogate \\u%04X", cp); }
        if (cp >= 0xD800 && cp <= 0xDBFF) { // high surrogate: a low one must follow
            unsigned lo;
            if (q - (s + 6) < 6 || s[6] != '\\' || s[7] != 'u' || gsm8k__hex4(s + 8, q, &lo)
                || lo < 0xDC00 || lo > 0xDFFF) {
                free(buf);
                return gsm8k__fail(j, s, "lone surrogate \\u%04X", cp);
            }
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            s += 6;
        }
        if (cp == 0) { free(buf); return gsm8k__fail(j, s, "\\u0000 is not supported"); }
        if (o) o = gsm8k__put_utf8(o, cp);
        s += 6;
    }
    if (out) { *o = '\0'; *out = buf; }
    j->p = q + 1;
    return 0;
}

// number = -? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?   (validated, skipped)
static inline int gsm8k__number(GSMJson *j) {
    const char *s = j->p, *p = s, *e = j->end;
#define GSM8K__DIGIT(x) ((x) < e && *(x) >= '0' && *(x) <= '9')
    if (p < e && *p == '-') p++;
    if (p < e && *p == '0') p++;
    else if (GSM8K__DIGIT(p)) while (GSM8K__DIGIT(p)) p++;
    else return gsm8k__fail(j, s, "invalid number");
    if (p < e && *p == '.') {
        p++;
        if (!GSM8K__DIGIT(p)) return gsm8k__fail(j, s, "invalid number");
        while (GSM8K__DIGIT(p)) p++;
    }
    if (p < e && (*p == 'e' || *p == 'E')) {
        p++;
        if (p < e && (*p == '+' || *p == '-')) p++;
        if (!GSM8K__DIGIT(p)) return gsm8k__fail(j, s, "invalid number");
        while (GSM8K__DIGIT(p)) p++;
    }
#undef GSM8K__DIGIT
    j->p = p;
    return 0;
}

static inline int gsm8k__value(GSMJson *j, int depth);

// '{' or '[' at j->p: skip a whole object or array, validating it.
static inline int gsm8k__container(GSMJson *j, int depth) {
    char close = *j->p == '{' ? '}' : ']';
    if (depth >= GSM8K_MAX_DEPTH) return gsm8k__fail(j, j->p, "nesting deeper than %d", GSM8K_MAX_DEPTH);
    j->p++;
    gsm8k__ws(j);
    if (j->p < j->end && *j->p == close) { j->p++; return 0; }
    for (;;) {
        if (close == '}') {
            gsm8k__ws(j);
            if (j->p >= j->end || *j->p != '"') return gsm8k__fail(j, j->p, "expected a string key");
            if (gsm8k__string(j, NULL)) return -1;
            gsm8k__ws(j);
            if (j->p >= j->end || *j->p != ':') return gsm8k__fail(j, j->p, "expected ':'");
            j->p++;
        }
        if (gsm8k__value(j, depth + 1)) return -1;
        gsm8k__ws(j);
        if (j->p < j->end && *j->p == ',') { j->p++; continue; }
        if (j->p < j->end && *j->p == close) { j->p++; return 0; }
        return gsm8k__fail(j, j->p, "expected ',' or '%c'", close);
    }
}

// any value at j->p (after whitespace): validated and skipped
static inline int gsm8k__value(GSMJson *j, int depth) {
    gsm8k__ws(j);
    if (j->p >= j->end) return gsm8k__fail(j, j->p, "unexpected end of line");
    char c = *j->p;
    if (c == '"') return gsm8k__string(j, NULL);
    if (c == '{' || c == '[') return gsm8k__container(j, depth);
    if (c == '-' || (c >= '0' && c <= '9')) return gsm8k__number(j);
    static const char *lits[] = {"true", "false", "null"};
    for (int i = 0; i < 3; i++) {
        size_t n = strlen(lits[i]);
        if ((size_t)(j->end - j->p) >= n && !memcmp(j->p, lits[i], n)) { j->p += n; return 0; }
    }
    return gsm8k__fail(j, j->p, "unexpected character '%c'", c);
}

static inline void gsm8k_free_example(GSMExample *ex) {
    free(ex->question); free(ex->answer); free(ex->program);
    ex->question = ex->answer = ex->program = NULL;
}

// One line: an object with string fields "question" and "answer" (required) and
// "program" (optional); any other field is skipped. Duplicate known keys are errors.
static inline int gsm8k_parse_line(const char *line, size_t len, GSMExample *ex,
                                   char *err, size_t errlen, size_t *col) {
    GSMJson j = {line, line + len, line, {0}};
    memset(ex, 0, sizeof(*ex));
    static const char *names[3] = {"question", "answer", "program"};
    char **fields[3] = {&ex->question, &ex->answer, &ex->program};
    int rc = -1;
    gsm8k__ws(&j);
    if (j.p >= j.end || *j.p != '{') { gsm8k__fail(&j, j.p, "expected '{'"); goto done; }
    j.p++;
    gsm8k__ws(&j);
    if (j.p < j.end && *j.p == '}') j.p++;
    else for (;;) {
        gsm8k__ws(&j);
        if (j.p >= j.end || *j.p != '"') { gsm8k__fail(&j, j.p, "expected a string key"); goto done; }
        const char *key_at = j.p;
        char *key = NULL;
        if (gsm8k__string(&j, &key)) goto done;
        int f = -1;
        for (int i = 0; i < 3; i++) if (!strcmp(key, names[i])) f = i;
        free(key);
        gsm8k__ws(&j);
        if (j.p >= j.end || *j.p != ':') { gsm8k__fail(&j, j.p, "expected ':'"); goto done; }
        j.p++;
        gsm8k__ws(&j);
        if (f < 0) { if (gsm8k__value(&j, 1)) goto done; }
        else {
            if (*fields[f]) { gsm8k__fail(&j, key_at, "duplicate key \"%s\"", names[f]); goto done; }
            if (j.p >= j.end || *j.p != '"') { gsm8k__fail(&j, j.p, "\"%s\" is not a string", names[f]); goto done; }
            if (gsm8k__string(&j, fields[f])) goto done;
        }
        gsm8k__ws(&j);
        if (j.p < j.end && *j.p == ',') { j.p++; continue; }
        if (j.p < j.end && *j.p == '}') { j.p++; break; }
        gsm8k__fail(&j, j.p, "expected ',' or '}'");
        goto done;
    }
    gsm8k__ws(&j);
    if (j.p < j.end) { gsm8k__fail(&j, j.p, "trailing characters after the object"); goto done; }
    if (!ex->question) { gsm8k__fail(&j, line, "missing \"question\""); goto done; }
    if (!ex->answer) { gsm8k__fail(&j, line, "missing \"answer\""); goto done; }
    rc = 0;
done:
    if (rc) {
        gsm8k_free_example(ex);
        if (err && errlen) snprintf(err, errlen, "%s", j.err);
        if (col) *col = (size_t)(j.at - line) + 1;
    }
    return rc;
}

static inline void gsm8k_free(GSMExample *ex, int n) {
    if (!ex) return;
    for (int i = 0; i < n; i++) gsm8k_free_example(&ex[i]);
    free(ex);
}

// ----------------------------------------------------------------------------
// Loading a file: read it whole (doubling buffer, so linear in its size), split it
// at '\n', parse every non-blank line. Blank lines are skipped; a file without any
// object is an error.

static inline int gsm8k_load(const char *path, GSMExample **out, int *n, char *err, size_t errlen) {
    *out = NULL; *n = 0;
    FILE *f = fopen(path, "rb");
    if (!f) { snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno)); return -1; }
    size_t cap = 1 << 16, len = 0;
    char *buf = (char *)malloc(cap);
    GSMExample *ex = NULL;
    int count = 0, excap = 0;
    for (;;) {
        if (!buf) { snprintf(err, errlen, "%s: out of memory", path); fclose(f); return -1; }
        len += fread(buf + len, 1, cap - len, f);
        if (len < cap) break;
        char *bigger = (cap > ((size_t)-1) / 2) ? NULL : (char *)realloc(buf, cap * 2);
        if (!bigger) free(buf);
        buf = bigger; cap *= 2;
    }
    int read_error = ferror(f);
    fclose(f);
    if (read_error) { snprintf(err, errlen, "%s: read error", path); free(buf); return -1; }
    size_t lineno = 0;
    for (size_t pos = 0; pos < len;) {
        const char *line = buf + pos;
        const char *nl = (const char *)memchr(line, '\n', len - pos);
        size_t linelen = nl ? (size_t)(nl - line) : len - pos;
        pos += linelen + 1;
        lineno++;
        size_t k = 0;
        while (k < linelen && (line[k] == ' ' || line[k] == '\t' || line[k] == '\r')) k++;
        if (k == linelen) continue; // blank line
        if (count == excap) {
            excap = excap ? 2 * excap : 1024;
            GSMExample *bigger = (GSMExample *)realloc(ex, (size_t)excap * sizeof(*ex));
            if (!bigger) { snprintf(err, errlen, "%s: out of memory", path); goto fail; }
            ex = bigger;
        }
        char msg[128]; size_t col = 0;
        if (gsm8k_parse_line(line, linelen, &ex[count], msg, sizeof(msg), &col)) {
            snprintf(err, errlen, "%s:%zu: %s (column %zu)", path, lineno, msg, col);
            goto fail;
        }
        ex[count++].line = (int)lineno;
    }
    if (count == 0) { snprintf(err, errlen, "%s:1: empty file (no JSON objects)", path); goto fail; }
    free(buf);
    *out = ex; *n = count;
    return 0;
fail:
    free(buf);
    gsm8k_free(ex, count);
    return -1;
}

// ----------------------------------------------------------------------------
// Numbers in text. A number token is
//     [sign] [$] digits [,ddd]* [.digits]     or   [sign] [$] .digits
// where a '-' / '+' / U+2212 is a sign only when it does not follow a letter, digit or
// ')' (so "12-5" is 12 and 5, while "= -3" and ">>-3" are -3), and ",ddd" groups
// count only after a first group of 1-3 digits and when exactly three digits follow.

static inline int gsm8k__isdigit(char c) { return c >= '0' && c <= '9'; }
static inline int gsm8k__isalnum(char c) {
    return gsm8k__isdigit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

// Finds the first number token in s[from, len), sets [*b, *e) to its extent and
// writes its canonical form to num. Returns 1, 0 when there is no number, or -1 when
// there is one but its canonical form does not fit in cap.
static inline int gsm8k__find_number(const char *s, size_t len, size_t from,
                                     char *num, size_t cap, size_t *b, size_t *e) {
    for (size_t i = from; i < len; i++) {
        int starts = gsm8k__isdigit(s[i]) || (s[i] == '.' && i + 1 < len && gsm8k__isdigit(s[i + 1]));
        if (!starts) continue;
        // prefix: '$' and a sign, in either order
        size_t start = i;
        int neg = 0, have_dollar = 0, have_sign = 0;
        for (int k = 0; k < 2; k++) {
            if (!have_dollar && start > from && s[start - 1] == '$') { start--; have_dollar = 1; continue; }
            if (have_sign) break;
            size_t w = 0; // width of the sign character
            if (start > from && (s[start - 1] == '-' || s[start - 1] == '+')) w = 1;
            else if (start >= from + 3 && !memcmp(s + start - 3, "\xE2\x88\x92", 3)) w = 3;
            if (!w || (start - w > 0 && (gsm8k__isalnum(s[start - w - 1]) || s[start - w - 1] == ')'))) break;
            neg = s[start - 1] != '+';
            start -= w; have_sign = 1;
        }
        // body: integer part with optional thousands groups, then a fraction
        size_t j = i, group = 0;
        char digits[GSM8K_NUM_MAX]; size_t nd = 0, ndint; int fits = 1;
#define GSM8K__TAKE(c) do { if (nd < sizeof(digits)) digits[nd++] = (c); else fits = 0; } while (0)
        while (j < len && gsm8k__isdigit(s[j])) { GSM8K__TAKE(s[j]); j++; group++; }
        if (group >= 1 && group <= 3)
            while (j + 3 < len && s[j] == ',' && gsm8k__isdigit(s[j + 1]) && gsm8k__isdigit(s[j + 2])
                   && gsm8k__isdigit(s[j + 3]) && !(j + 4 < len && gsm8k__isdigit(s[j + 4]))) {
                for (int k = 1; k <= 3; k++) GSM8K__TAKE(s[j + k]);
                j += 4;
            }
        ndint = nd;
        if (j + 1 < len && s[j] == '.' && gsm8k__isdigit(s[j + 1]))
            for (j++; j < len && gsm8k__isdigit(s[j]); j++) GSM8K__TAKE(s[j]);
#undef GSM8K__TAKE
        *b = start; *e = j;
        if (!fits) return -1;
        // canonical: strip leading zeros of the integer part, trailing zeros of the fraction
        size_t lead = 0, fracend = nd;
        while (lead < ndint && digits[lead] == '0') lead++;
        while (fracend > ndint && digits[fracend - 1] == '0') fracend--;
        int zero = lead == ndint && fracend == ndint;
        size_t need = (size_t)(neg && !zero) + (lead == ndint ? 1 : ndint - lead)
                    + (fracend > ndint ? 1 + fracend - ndint : 0) + 1;
        if (need > cap) return -1;
        char *o = num;
        if (neg && !zero) *o++ = '-';
        if (lead == ndint) *o++ = '0';
        else { memcpy(o, digits + lead, ndint - lead); o += ndint - lead; }
        if (fracend > ndint) { *o++ = '.'; memcpy(o, digits + ndint, fracend - ndint); o += fracend - ndint; }
        *o = '\0';
        return 1;
    }
    return 0;
}

// position just after the last occurrence of marker in s (ASCII letters in any case
// when icase), or -1
static inline long gsm8k__after_marker(const char *s, size_t len, const char *marker, int icase) {
    size_t m = strlen(marker);
    long last = -1;
    for (size_t i = 0; i + m <= len; i++) {
        size_t k = 0;
        while (k < m && (s[i + k] == marker[k] || (icase && (s[i + k] | 32) == marker[k] && marker[k] >= 'a' && marker[k] <= 'z'))) k++;
        if (k == m) last = (long)(i + m);
    }
    return last;
}

// The gold answer: the first number after the (last) "####". 1 found, 0 not.
static inline int gsm8k_gold(const char *answer, char *num, size_t cap) {
    size_t len = strlen(answer), b, e;
    long m = gsm8k__after_marker(answer, len, "####", 0);
    return m >= 0 && gsm8k__find_number(answer, len, (size_t)m, num, cap, &b, &e) == 1;
}

// A completion's final number, by the first of these conventions the text follows
// (none found where its marker is: no answer):
//   "#### N"              GSM8K's: the first number after the last "####"
//   "\boxed{N}"           the MATH datasets': the first number inside the last \boxed{...}
//   "The answer is N."    the few-shot prompts': the first number after the last "answer is"
//                         (any case)
// else the last number in the text.
static inline int gsm8k_extract(const char *completion, char *num, size_t cap) {
    size_t len = strlen(completion), b, e;
    long m = gsm8k__after_marker(completion, len, "####", 0);
    if (m >= 0) return gsm8k__find_number(completion, len, (size_t)m, num, cap, &b, &e) == 1;
    if ((m = gsm8k__after_marker(completion, len, "\\boxed{", 0)) >= 0) {
        const char *close = strchr(completion + m, '}');
        size_t end = close ? (size_t)(close - completion) : len;
        return gsm8k__find_number(completion, end, (size_t)m, num, cap, &b, &e) == 1;
    }
    if ((m = gsm8k__after_marker(completion, len, "answer is", 1)) >= 0)
        return gsm8k__find_number(completion, len, (size_t)m, num, cap, &b, &e) == 1;
    int last = 0;
    for (size_t from = 0; from < len; from = e) {
        int r = gsm8k__find_number(completion, len, from, num, cap, &b, &e);
        if (r == 0) break;
        last = r;
    }
    return last == 1;
}

// s must hold exactly one number (surrounding whitespace allowed).
static inline int gsm8k_normalize(const char *s, char *num, size_t cap) {
    size_t len = strlen(s), b, e;
    if (gsm8k__find_number(s, len, 0, num, cap, &b, &e) != 1) return 0;
    for (size_t i = 0; i < b; i++) if (s[i] != ' ' && s[i] != '\t' && s[i] != '\n') return 0;
    for (size_t i = e; i < len; i++) if (s[i] != ' ' && s[i] != '\t' && s[i] != '\n') return 0;
    return 1;
}

// Two numbers (raw or canonical) are the same answer when their canonical forms are equal.
static inline int gsm8k_same_answer(const char *a, const char *b) {
    char x[GSM8K_NUM_MAX], y[GSM8K_NUM_MAX];
    return gsm8k_normalize(a, x, sizeof(x)) && gsm8k_normalize(b, y, sizeof(y)) && !strcmp(x, y);
}

// RLVR's reward: 1 when the completion's final number equals the gold answer's.
static inline int gsm8k_is_correct(const char *completion, const char *answer) {
    char x[GSM8K_NUM_MAX], y[GSM8K_NUM_MAX];
    return gsm8k_extract(completion, x, sizeof(x)) && gsm8k_gold(answer, y, sizeof(y)) && !strcmp(x, y);
}

#endif // GSM8K_H
