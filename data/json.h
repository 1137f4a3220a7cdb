/*
data/json.h — a small strict JSON parser (RFC 8259) into a tree, the lookups and typed
getters that read it, and a writer for the JSON text of a header. Header-only C11, libc
only, no other file of the project needed (it stands alone, like data/gsm8k.h).

    Json doc;
    if (json_parse(text, len, max_len, &doc, err, errlen)) ...  // "line 3, byte 57: expected ':'"
    int64_t h; const char *act;
    if (json_get_int(&doc, "hidden_size", &h, err, errlen)
        || json_get_str(&doc, "hidden_act", &act, err, errlen)) ...  // "missing \"hidden_act\""
    json_free(&doc);

Strict: exactly one value with optional whitespace around it; no comments, trailing
commas, NaN/Infinity, leading zeros or '+'; strings of valid UTF-8 without raw control
characters; no duplicate keys in an object. Limits: the text at most max_len bytes (the
caller's), nesting at most JSON_MAX_DEPTH deep, numbers finite as doubles, and \u0000
refused (strings here are C strings). Messages name no file: the caller, which knows
it, writes "PATH: " in front. Every function returns 0 on success or -1 with a message.

Cost: linear in the text (each object sorts its keys once, n log n, for the duplicate
check and for lookups by binary search); about 64 bytes per value.
*/
#ifndef JSON_H
#define JSON_H

#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define JSON_MAX_DEPTH 64 // arrays and objects nested deeper than this are refused

typedef enum { JSON_NULL, JSON_BOOL, JSON_NUMBER, JSON_STRING, JSON_ARRAY, JSON_OBJECT } JsonType;

typedef struct JsonMember JsonMember;
typedef struct Json {
    JsonType type;
    int boolean;          // JSON_BOOL: 0 or 1
    int is_int;           // JSON_NUMBER: written as an integer (no '.', no exponent) that fits int64
    int64_t integer;      // JSON_NUMBER with is_int: its exact value
    double number;        // JSON_NUMBER: its value (rounded to the nearest double)
    char *string;         // JSON_STRING: decoded UTF-8, NUL-terminated
    size_t len;           // string: bytes; array: elements; object: members
    struct Json *items;   // JSON_ARRAY: the elements
    JsonMember *members;  // JSON_OBJECT: key/value pairs in document order
    JsonMember **by_key;  // JSON_OBJECT: the same, sorted by key (strcmp order)
} Json;
struct JsonMember { char *key; Json value; size_t offset; /* of the key in the text */ };

// ----------------------------------------------------------------------------
// parsing: a cursor over the text; each function returns 0, or -1 after setting the
// message and where it went wrong

typedef struct {
    const char *start, *p, *end; // text and cursor
    const char *at;              // error position
    char msg[128];               // error message
} JsonParser;

static inline int json__fail(JsonParser *j, const char *at, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(j->msg, sizeof(j->msg), fmt, ap);
    va_end(ap);
    j->at = at;
    return -1;
}

static inline void json__ws(JsonParser *j) {
    while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\r' || *j->p == '\n')) j->p++;
}

// "unexpected end of input" or "unexpected character 'x'" at the cursor
static inline int json__unexpected(JsonParser *j, const char *wanted) {
    if (j->p >= j->end) return json__fail(j, j->p, "unexpected end of input (expected %s)", wanted);
    unsigned char c = (unsigned char)*j->p;
    if (c > 0x20 && c < 0x7F) return json__fail(j, j->p, "unexpected character '%c' (expected %s)", c, wanted);
    return json__fail(j, j->p, "unexpected byte 0x%02x (expected %s)", c, wanted);
}

// length of the well-formed UTF-8 sequence at s (at most n bytes), 0 if ill-formed:
//   1 byte  00..7F
//   2 bytes C2..DF 80..BF
//   3 bytes E0 A0..BF 80..BF | E1..EC,EE..EF 80..BF 80..BF | ED 80..9F 80..BF (no surrogates)
//   4 bytes F0 90..BF .. | F1..F3 80..BF .. | F4 80..8F ..  (at most U+10FFFF)
static inline int json_utf8_len(const unsigned char *s, size_t n) {
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

// 1 when s[0..n) is all well-formed UTF-8
static inline int json_utf8_valid(const char *s, size_t n) {
    for (size_t i = 0, k; i < n; i += k)
        if (!(k = (size_t)json_utf8_len((const unsigned char *)s + i, n - i))) return 0;
    return 1;
}

// four hex digits at s (the caller made sure four bytes are there), or -1
static inline long json__hex4(const char *s) {
    long v = 0;
    for (int i = 0; i < 4; i++) {
        char c = s[i];
        int d = (c >= '0' && c <= '9') ? c - '0' : (c >= 'a' && c <= 'f') ? c - 'a' + 10
              : (c >= 'A' && c <= 'F') ? c - 'A' + 10 : -1;
        if (d < 0) return -1;
        v = v * 16 + d;
    }
    return v;
}

static inline char *json__put_utf8(char *o, unsigned long cp) {
    if (cp < 0x80) { *o++ = (char)cp; }
    else if (cp < 0x800) { *o++ = (char)(0xC0 | cp >> 6); *o++ = (char)(0x80 | (cp & 0x3F)); }
    else if (cp < 0x10000) { *o++ = (char)(0xE0 | cp >> 12); *o++ = (char)(0x80 | ((cp >> 6) & 0x3F));
                             *o++ = (char)(0x80 | (cp & 0x3F)); }
    else { *o++ = (char)(0xF0 | cp >> 18); *o++ = (char)(0x80 | ((cp >> 12) & 0x3F));
           *o++ = (char)(0x80 | ((cp >> 6) & 0x3F)); *o++ = (char)(0x80 | (cp & 0x3F)); }
    return o;
}

// A string at j->p (which is '"'), decoded into a malloc'd *out. Two passes: find the
// closing quote, then decode into a buffer of the raw length (an escape never decodes
// to more bytes than it takes), so it is linear however long the string.
static inline int json__string(JsonParser *j, char **out, size_t *out_len) {
    const char *start = ++j->p, *q = start;
    while (q < j->end && *q != '"') q += (*q == '\\' && q + 1 < j->end) ? 2 : 1;
    if (q >= j->end) return json__fail(j, start - 1, "unterminated string");
    char *buf = (char *)malloc((size_t)(q - start) + 1), *o = buf;
    if (!buf) return json__fail(j, start, "out of memory");
    for (const char *s = start; s < q;) {
        unsigned char c = (unsigned char)*s;
        if (c < 0x20) { free(buf); return json__fail(j, s, "control character 0x%02x in a string", c); }
        if (c != '\\') {
            int len = json_utf8_len((const unsigned char *)s, (size_t)(q - s));
            if (!len) { free(buf); return json__fail(j, s, "invalid UTF-8 in a string"); }
            memcpy(o, s, (size_t)len);
            o += len; s += len;
            continue;
        }
        static const char simple[] = "\"\\/bfnrt", decoded[] = "\"\\/\b\f\n\r\t";
        const char *e = s[1] ? strchr(simple, s[1]) : NULL;
        if (e) { *o++ = decoded[e - simple]; s += 2; continue; }
        long cp = s[1] == 'u' && q - s >= 6 ? json__hex4(s + 2) : -1;
        if (s[1] != 'u') {
            free(buf);
            if (s[1] > 0x20 && s[1] < 0x7F) return json__fail(j, s, "invalid escape '\\%c'", s[1]);
            return json__fail(j, s, "invalid escape (byte 0x%02x)", (unsigned char)s[1]);
        }
        if (cp < 0) { free(buf); return json__fail(j, s, "invalid \\u escape (four hex digits must follow)"); }
        if (cp >= 0xDC00 && cp <= 0xDFFF) { free(buf); return json__fail(j, s, "lone low surrogate \\u%04lX", cp); }
        if (cp >= 0xD800 && cp <= 0xDBFF) { // a high surrogate: a low one must follow
            long lo = q - s >= 12 && s[6] == '\\' && s[7] == 'u' ? json__hex4(s + 8) : -1;
            if (lo < 0xDC00 || lo > 0xDFFF) { free(buf); return json__fail(j, s, "lone high surrogate \\u%04lX", cp); }
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            s += 6;
        }
        if (cp == 0) { free(buf); return json__fail(j, s, "\\u0000 is not supported"); }
        o = json__put_utf8(o, (unsigned long)cp);
        s += 6;
    }
    *o = '\0';
    *out = buf;
    if (out_len) *out_len = (size_t)(o - buf);
    j->p = q + 1;
    return 0;
}

// number = -? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?
// is_int when there is no fraction and no exponent and the value fits int64.
static inline int json__number(JsonParser *j, Json *v) {
    const char *s = j->p, *p = s, *e = j->end;
#define JSON__DIGIT(x) ((x) < e && *(x) >= '0' && *(x) <= '9')
    int neg = p < e && *p == '-', is_int = 1;
    p += neg;
    if (!JSON__DIGIT(p)) return json__fail(j, s, "invalid number (a digit must follow '-')");
    if (*p == '0' && JSON__DIGIT(p + 1)) return json__fail(j, s, "invalid number (leading zero)");
    while (JSON__DIGIT(p)) p++;
    if (p < e && *p == '.') {
        p++, is_int = 0;
        if (!JSON__DIGIT(p)) return json__fail(j, s, "invalid number (a digit must follow '.')");
        while (JSON__DIGIT(p)) p++;
    }
    if (p < e && (*p == 'e' || *p == 'E')) {
        p++, is_int = 0;
        if (p < e && (*p == '+' || *p == '-')) p++;
        if (!JSON__DIGIT(p)) return json__fail(j, s, "invalid number (a digit must follow the exponent)");
        while (JSON__DIGIT(p)) p++;
    }
#undef JSON__DIGIT
    // strtod wants a NUL-terminated copy (the text need not end here)
    char small[64], *copy = (size_t)(p - s) < sizeof(small) ? small : (char *)malloc((size_t)(p - s) + 1);
    if (!copy) return json__fail(j, s, "out of memory");
    memcpy(copy, s, (size_t)(p - s));
    copy[p - s] = '\0';
    v->type = JSON_NUMBER;
    v->number = strtod(copy, NULL);
    if (copy != small) free(copy);
    if (!isfinite(v->number)) return json__fail(j, s, "number out of range");
    uint64_t mag = 0, limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    for (const char *d = s + neg; is_int && d < p; d++) {
        unsigned digit = (unsigned)(*d - '0');
        if (mag > (limit - digit) / 10) is_int = 0; // does not fit int64: a double only
        else mag = mag * 10 + digit;
    }
    v->is_int = is_int;
    if (is_int) v->integer = neg ? (mag ? -(int64_t)(mag - 1) - 1 : 0) : (int64_t)mag;
    j->p = p;
    return 0;
}

static inline int json__value(JsonParser *j, Json *v, int depth);

// qsort's order of object members: by key
static inline int json__cmp_members(const void *a, const void *b) {
    return strcmp((*(JsonMember *const *)a)->key, (*(JsonMember *const *)b)->key);
}

// '[' or '{' at j->p. Every element is counted in v->len as soon as it exists, so a
// failure anywhere leaves a tree that json_free frees whole.
static inline int json__container(JsonParser *j, Json *v, int depth) {
    int object = *j->p == '{';
    char close = object ? '}' : ']';
    if (depth >= JSON_MAX_DEPTH) return json__fail(j, j->p, "nesting deeper than %d", JSON_MAX_DEPTH);
    v->type = object ? JSON_OBJECT : JSON_ARRAY;
    j->p++;
    json__ws(j);
    if (j->p < j->end && *j->p == close) { j->p++; return 0; }
    for (size_t cap = 0;;) {
        if (v->len == cap) { // grow by doubling: linear in all
            cap = cap ? 2 * cap : 4;
            void *p = object ? realloc(v->members, cap * sizeof(JsonMember)) : realloc(v->items, cap * sizeof(Json));
            if (!p) return json__fail(j, j->p, "out of memory");
            if (object) v->members = (JsonMember *)p; else v->items = (Json *)p;
        }
        Json *item = object ? &v->members[v->len].value : &v->items[v->len];
        memset(item, 0, sizeof(*item));
        if (object) {
            json__ws(j);
            JsonMember *m = &v->members[v->len];
            m->offset = (size_t)(j->p - j->start);
            if (j->p >= j->end || *j->p != '"') return json__unexpected(j, "a string key");
            if (json__string(j, &m->key, NULL)) return -1;
            v->len++;
            json__ws(j);
            if (j->p >= j->end || *j->p != ':') return json__unexpected(j, "':' after the key");
            j->p++;
        } else v->len++;
        if (json__value(j, item, depth + 1)) return -1;
        json__ws(j);
        if (j->p < j->end && *j->p == ',') { j->p++; continue; }
        if (j->p < j->end && *j->p == close) { j->p++; break; }
        return json__unexpected(j, object ? "',' or '}'" : "',' or ']'");
    }
    if (!object) return 0;
    // the keys sorted: duplicates end up side by side, lookups become binary searches
    v->by_key = (JsonMember **)malloc(v->len * sizeof(JsonMember *));
    if (!v->by_key) return json__fail(j, j->p, "out of memory");
    for (size_t i = 0; i < v->len; i++) v->by_key[i] = &v->members[i];
    qsort(v->by_key, v->len, sizeof(JsonMember *), json__cmp_members);
    for (size_t i = 1; i < v->len; i++)
        if (!strcmp(v->by_key[i - 1]->key, v->by_key[i]->key)) {
            JsonMember *later = v->by_key[i - 1] > v->by_key[i] ? v->by_key[i - 1] : v->by_key[i];
            return json__fail(j, j->start + later->offset, "duplicate key \"%s\"", later->key);
        }
    return 0;
}

// any value at j->p (after whitespace), into v (zeroed by the caller)
static inline int json__value(JsonParser *j, Json *v, int depth) {
    json__ws(j);
    if (j->p >= j->end) return json__unexpected(j, "a value");
    char c = *j->p;
    if (c == '"') { v->type = JSON_STRING; return json__string(j, &v->string, &v->len); }
    if (c == '{' || c == '[') return json__container(j, v, depth);
    if (c == '-' || (c >= '0' && c <= '9')) return json__number(j, v);
    static const char *lits[] = {"null", "false", "true"};
    for (int i = 0; i < 3; i++) {
        size_t n = strlen(lits[i]);
        if ((size_t)(j->end - j->p) >= n && !memcmp(j->p, lits[i], n)) {
            v->type = i ? JSON_BOOL : JSON_NULL;
            v->boolean = i == 2;
            j->p += n;
            return 0;
        }
    }
    return json__unexpected(j, "a value");
}

// Frees what a value owns (its strings, elements, members); v becomes null.
static inline void json_free(Json *v) {
    if (!v) return;
    free(v->string);
    for (size_t i = 0; v->type == JSON_ARRAY && i < v->len; i++) json_free(&v->items[i]);
    for (size_t i = 0; v->type == JSON_OBJECT && i < v->len; i++) {
        free(v->members[i].key);
        json_free(&v->members[i].value);
    }
    free(v->items); free(v->members); free(v->by_key);
    memset(v, 0, sizeof(*v));
}

// Parses text[0..len) (no NUL needed) into *out. On failure: -1, *out a null value, and
// "line L, byte B: what is wrong" in err (B counts from 0, L from 1).
static inline int json_parse(const char *text, size_t len, size_t max_len, Json *out, char *err, size_t errlen) {
    memset(out, 0, sizeof(*out));
    if (len > max_len) {
        if (err && errlen) snprintf(err, errlen, "JSON text of %zu bytes is over the limit of %zu", len, max_len);
        return -1;
    }
    JsonParser j = {text, text, text + len, text, {0}};
    int rc = json__value(&j, out, 0);
    if (rc == 0) {
        json__ws(&j);
        if (j.p < j.end) rc = json__unexpected(&j, "the end of the text after the value");
    }
    if (rc == 0) return 0;
    json_free(out);
    size_t line = 1, offset = (size_t)(j.at - text);
    for (size_t i = 0; i < offset; i++) line += text[i] == '\n';
    if (err && errlen) snprintf(err, errlen, "line %zu, byte %zu: %s", line, offset, j.msg);
    return -1;
}

// ----------------------------------------------------------------------------
// reading the tree

// An object's member by key (binary search), or NULL (also when obj is not an object).
static inline const Json *json_get(const Json *obj, const char *key) {
    if (!obj || obj->type != JSON_OBJECT) return NULL;
    size_t lo = 0, hi = obj->len;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(obj->by_key[mid]->key, key);
        if (c == 0) return &obj->by_key[mid]->value;
        if (c < 0) lo = mid + 1; else hi = mid;
    }
    return NULL;
}

// An array's element i, or NULL (out of range, or not an array).
static inline const Json *json_at(const Json *arr, size_t i) {
    return arr && arr->type == JSON_ARRAY && i < arr->len ? &arr->items[i] : NULL;
}

// elements of an array, members of an object, 0 for anything else
static inline size_t json_len(const Json *v) {
    return v && (v->type == JSON_ARRAY || v->type == JSON_OBJECT) ? v->len : 0;
}

// "a string", "the integer 5", "the number 1.5", ... for messages (cap: 64 is enough)
static inline const char *json_kind(const Json *v, char *buf, size_t cap) {
    static const char *names[] = {"null", "a boolean", "a number", "a string", "an array", "an object"};
    if (v->type == JSON_NUMBER && v->is_int) snprintf(buf, cap, "the integer %lld", (long long)v->integer);
    else if (v->type == JSON_NUMBER) { // as %g, or with the fewest more digits that read back the same
        for (int digits = 6; digits <= 17; digits++) {
            snprintf(buf, cap, "the number %.*g", digits, v->number);
            if (strtod(buf + 11, NULL) == v->number) break;
        }
    } else snprintf(buf, cap, "%s", names[v->type]);
    return buf;
}

// obj[key] when it exists and has the type (JSON_NUMBER with want_int: an integer),
// else -1 and "missing \"key\"" or "\"key\" must be a string, not a number".
static inline int json_get_typed(const Json *obj, const char *key, JsonType type, int want_int, const Json **out,
                                 char *err, size_t errlen) {
    static const char *want[] = {"null", "a boolean", "a number", "a string", "an array", "an object"};
    const Json *v = json_get(obj, key);
    char kind[64];
    if (!v) {
        if (err && errlen) snprintf(err, errlen, "missing \"%s\"", key);
        return -1;
    }
    if (v->type != type || (want_int && !v->is_int)) {
        if (err && errlen)
            snprintf(err, errlen, "\"%s\" must be %s, not %s", key, want_int ? "an integer" : want[type],
                     json_kind(v, kind, sizeof(kind)));
        return -1;
    }
    *out = v;
    return 0;
}

// typed getters: 0 and the value, or -1 and the message of json_get_typed
static inline int json_get_int(const Json *obj, const char *key, int64_t *out, char *err, size_t errlen) {
    const Json *v;
    if (json_get_typed(obj, key, JSON_NUMBER, 1, &v, err, errlen)) return -1;
    *out = v->integer;
    return 0;
}
static inline int json_get_num(const Json *obj, const char *key, double *out, char *err, size_t errlen) {
    const Json *v;
    if (json_get_typed(obj, key, JSON_NUMBER, 0, &v, err, errlen)) return -1;
    *out = v->number;
    return 0;
}
static inline int json_get_bool(const Json *obj, const char *key, int *out, char *err, size_t errlen) {
    const Json *v;
    if (json_get_typed(obj, key, JSON_BOOL, 0, &v, err, errlen)) return -1;
    *out = v->boolean;
    return 0;
}
static inline int json_get_str(const Json *obj, const char *key, const char **out, char *err, size_t errlen) {
    const Json *v;
    if (json_get_typed(obj, key, JSON_STRING, 0, &v, err, errlen)) return -1;
    *out = v->string;
    return 0;
}

// ----------------------------------------------------------------------------
// writing: JSON text into a growing buffer (a failed allocation sets failed and stops)

typedef struct { char *data; size_t len, cap; int failed; } JsonOut;

static inline void json_out_bytes(JsonOut *o, const char *s, size_t n) {
    if (o->failed) return;
    if (o->len + n + 1 > o->cap) {
        size_t cap = o->cap ? o->cap : 256;
        while (o->len + n + 1 > cap) cap *= 2;
        char *p = (char *)realloc(o->data, cap);
        if (!p) { o->failed = 1; return; }
        o->data = p, o->cap = cap;
    }
    memcpy(o->data + o->len, s, n);
    o->data[o->len += n] = '\0';
}

static inline void json_out_printf(JsonOut *o, const char *fmt, ...) {
    char buf[128];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    if (n < 0 || n >= (int)sizeof(buf)) o->failed = 1; // (only short numbers and words go through here)
    else json_out_bytes(o, buf, (size_t)n);
}

// s (UTF-8, NUL-terminated) as a JSON string: quoted, with '"', '\\' and control characters escaped
static inline void json_out_string(JsonOut *o, const char *s) {
    json_out_bytes(o, "\"", 1);
    for (const char *run = s;; s++) {
        unsigned char c = (unsigned char)*s;
        if (c >= 0x20 && c != '"' && c != '\\') continue;
        json_out_bytes(o, run, (size_t)(s - run)); // the run of plain bytes before c
        run = s + 1;
        if (c == '\0') break;
        if (c == '"' || c == '\\') { char e[2] = {'\\', (char)c}; json_out_bytes(o, e, 2); }
        else if (c == '\n') json_out_bytes(o, "\\n", 2);
        else if (c == '\t') json_out_bytes(o, "\\t", 2);
        else json_out_printf(o, "\\u%04x", c);
    }
    json_out_bytes(o, "\"", 1);
}

#endif // JSON_H
