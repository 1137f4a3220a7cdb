/*
data/safetensors.h — Hugging Face's safetensors format: a reader of one file or of a
sharded set behind its index, that converts tensors to fp32, and a writer.

A file:  [u64 little-endian N][N bytes of JSON header][data]
    {"__metadata__": {"format": "pt"},              (optional; string values only)
     "wte": {"dtype": "BF16", "shape": [50257, 768], "data_offsets": [0, 77194752]}, ...}
offsets count from the first byte after the header. A sharded set is several files and
model.safetensors.index.json:
    {"metadata": {...}, "weight_map": {"wte": "model-00001-of-00002.safetensors", ...}}

    StSet s;
    if (st_open(&s, "model.safetensors.index.json", err, errlen)) ...  // or a .safetensors file
    const StTensor *t = st_find(&s, "wte");                             // NULL when absent
    if (st_read_f32(&s, t, dst, (size_t)V * C, err, errlen)) ...        // or st_load: find+shape+read
    st_close(&s);

Nothing in a file is trusted: st_open checks every rule of the format before st_open
returns (one message, "PATH: what is wrong"), and st_read_f32 refuses non-finite values.
The data section must be covered exactly, tensor after tensor with no holes and no bytes
after the last one, as the reference implementation (the safetensors crate) requires;
so tensors never overlap. Dtypes read: F32, F16, BF16; written: F32, BF16. The header
trees stay in memory (small); tensor data is read on demand in ST_CHUNK-byte pieces, so
a 2.4 GB file needs no RAM beyond the caller's fp32 arrays.
*/
#ifndef SAFETENSORS_H
#define SAFETENSORS_H

#include <sys/stat.h>
#include "../model.h" // set_err
#include "json.h"

#define ST_MAX_HEADER 100000000u   // header (and index) size limit, in bytes: the reference's
#define ST_MAX_DIMS 8
#define ST_CHUNK (1 << 16)         // bytes read or written at a time

typedef enum { ST_F32, ST_F16, ST_BF16 } StDtype;

// (offsets and sizes are unsigned long long, at least 64 bits, printed with %llu)
typedef struct {
    const char *name;              // points into its file's header
    StDtype dtype;
    int ndim;
    int64_t shape[ST_MAX_DIMS];
    size_t numel;                  // product of shape (1 for a scalar)
    int file;                      // index into StSet.files
    unsigned long long begin, end; // data_offsets: bytes [begin, end) after the header
} StTensor;

typedef struct {
    char *path;
    FILE *f;                            // open from st_open to st_close
    unsigned long long size, data_start; // the file's size; 8 + header length
    Json header;                        // the parsed header
} StFile;

typedef struct {
    char *path;                    // as given to st_open
    int n_files;
    StFile *files;                 // one, or the shards in name order
    size_t n_tensors;
    StTensor *tensors;             // all of them, sorted by name
} StSet;

// ----------------------------------------------------------------------------
// dtypes: bytes per element, names, the conversions to and from fp32

static inline size_t st_dtype_size(StDtype d) { return d == ST_F32 ? 4 : 2; }
static inline const char *st_dtype_name(StDtype d) {
    return d == ST_F32 ? "F32" : d == ST_F16 ? "F16" : "BF16";
}

static inline float st__bits_f32(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }
static inline uint32_t st__f32_bits(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }

// BF16 is the upper half of an fp32: widening is exact
static inline float st_bf16_to_f32(uint16_t h) { return st__bits_f32((uint32_t)h << 16); }

// fp32 -> BF16 rounding to nearest, ties to even; a NaN stays a (quiet) NaN
static inline uint16_t st_f32_to_bf16(float f) {
    uint32_t u = st__f32_bits(f);
    if ((u & 0x7FFFFFFFu) > 0x7F800000u) return (uint16_t)((u >> 16) | 0x0040);
    return (uint16_t)((u + 0x7FFFu + ((u >> 16) & 1)) >> 16);
}

// IEEE half (1 sign, 5 exponent, 10 mantissa bits) -> fp32, exactly
static inline float st_f16_to_f32(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000) << 16, e = (h >> 10) & 0x1F, m = h & 0x3FF;
    if (e == 0) { float x = (float)m * 0x1p-24f; return sign ? -x : x; } // zero, subnormal: m * 2^-24
    if (e == 31) return st__bits_f32(sign | 0x7F800000u | m << 13);      // inf, nan
    return st__bits_f32(sign | (e + 112) << 23 | m << 13);               // rebias 15 -> 127
}

// one element of little-endian raw data of dtype d at p, as fp32
static inline float st__decode(const unsigned char *p, StDtype d) {
    if (d == ST_F32)
        return st__bits_f32((uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24);
    uint16_t h = (uint16_t)(p[0] | p[1] << 8);
    return d == ST_F16 ? st_f16_to_f32(h) : st_bf16_to_f32(h);
}

// "[2, 3]" into buf
static inline const char *st_shape_str(int ndim, const int64_t *shape, char *buf, size_t cap) {
    size_t n = (size_t)snprintf(buf, cap, "[");
    for (int i = 0; i < ndim && n < cap; i++)
        n += (size_t)snprintf(buf + n, cap - n, "%s%lld", i ? ", " : "", (long long)shape[i]);
    if (n < cap) snprintf(buf + n, cap - n, "]");
    return buf;
}

// ----------------------------------------------------------------------------
// opening: one file's header, checked entry by entry

// The product of shape into *numel; -1 if it overflows (cap: 2^62 bytes of data).
static inline int st__numel(int ndim, const int64_t *shape, size_t esize, size_t *numel) {
    uint64_t n = 1, limit = ((uint64_t)1 << 62) / esize;
    for (int i = 0; i < ndim; i++) {
        if (shape[i] < 0 || (shape[i] > 0 && n > limit / (uint64_t)shape[i])) return -1;
        n *= (uint64_t)shape[i];
    }
    if (n > SIZE_MAX) return -1;
    *numel = (size_t)n;
    return 0;
}

// set_err with "PATH: tensor "NAME": " in front
static inline int st__bad(char *err, size_t errlen, const char *path, const char *name, const char *fmt, ...) {
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    return set_err(err, errlen, "%s: tensor \"%s\": %s", path, name, msg);
}

// A tensor's entry {"dtype": s, "shape": [ints], "data_offsets": [begin, end]} into t.
static inline int st__entry(const StFile *sf, const JsonMember *m, StTensor *t, char *err, size_t errlen) {
    const char *path = sf->path, *name = m->key, *dtype;
    const Json *e = &m->value, *shape, *offs;
    char msg[256], s[128];
    if (e->type != JSON_OBJECT)
        return st__bad(err, errlen, path, name, "the entry is %s, not an object", json_kind(e, s, 128));
    for (size_t i = 0; i < e->len; i++) {
        const char *k = e->members[i].key;
        if (strcmp(k, "dtype") && strcmp(k, "shape") && strcmp(k, "data_offsets"))
            return st__bad(err, errlen, path, name, "unknown key \"%s\"", k);
    }
    if (json_get_str(e, "dtype", &dtype, msg, sizeof(msg))
        || json_get_typed(e, "shape", JSON_ARRAY, 0, &shape, msg, sizeof(msg))
        || json_get_typed(e, "data_offsets", JSON_ARRAY, 0, &offs, msg, sizeof(msg)))
        return st__bad(err, errlen, path, name, "%s", msg);
    memset(t, 0, sizeof(*t));
    t->name = name;
    if (!strcmp(dtype, "F32")) t->dtype = ST_F32;
    else if (!strcmp(dtype, "F16")) t->dtype = ST_F16;
    else if (!strcmp(dtype, "BF16")) t->dtype = ST_BF16;
    else return st__bad(err, errlen, path, name, "dtype \"%s\" is not supported (only F32, F16 and BF16 are)", dtype);
    if (shape->len > ST_MAX_DIMS)
        return st__bad(err, errlen, path, name, "shape has %zu dimensions (at most %d)", shape->len, ST_MAX_DIMS);
    t->ndim = (int)shape->len;
    for (int i = 0; i < t->ndim; i++) {
        const Json *d = &shape->items[i];
        if (d->type != JSON_NUMBER || !d->is_int)
            return st__bad(err, errlen, path, name, "shape[%d] must be an integer, not %s", i, json_kind(d, s, 128));
        if (d->integer < 0)
            return st__bad(err, errlen, path, name, "shape[%d] is negative (%lld)", i, (long long)d->integer);
        t->shape[i] = d->integer;
    }
    size_t esize = st_dtype_size(t->dtype);
    if (st__numel(t->ndim, t->shape, esize, &t->numel))
        return st__bad(err, errlen, path, name, "shape %s has too many elements (overflow)",
                       st_shape_str(t->ndim, t->shape, s, 128));
    if (offs->len != 2)
        return st__bad(err, errlen, path, name, "data_offsets must be [begin, end], not %zu numbers", offs->len);
    for (int i = 0; i < 2; i++) {
        const Json *d = &offs->items[i];
        if (d->type != JSON_NUMBER || !d->is_int || d->integer < 0)
            return st__bad(err, errlen, path, name, "data_offsets[%d] must be a non-negative integer, not %s", i,
                           json_kind(d, s, 128));
    }
    unsigned long long b = (unsigned long long)offs->items[0].integer, end = (unsigned long long)offs->items[1].integer,
                       need = (unsigned long long)t->numel * esize, data = sf->size - sf->data_start;
    t->begin = b, t->end = end;
    if (end < b) return st__bad(err, errlen, path, name, "data_offsets [%llu, %llu] end before they begin", b, end);
    if (end - b != need)
        return st__bad(err, errlen, path, name, "data_offsets [%llu, %llu] hold %llu bytes, but shape %s of %s needs"
                       " %llu", b, end, end - b, st_shape_str(t->ndim, t->shape, s, 128), dtype, need);
    if (end > data)
        return st__bad(err, errlen, path, name, "data_offsets [%llu, %llu] run past the end of the file (%llu bytes of"
                       " data)", b, end, data);
    return 0;
}

// qsort orders: tensors by data_offsets, and by name
static inline int st__cmp_offsets(const void *a, const void *b) {
    const StTensor *x = (const StTensor *)a, *y = (const StTensor *)b;
    return x->begin != y->begin ? (x->begin > y->begin) - (x->begin < y->begin) : (x->end > y->end) - (x->end < y->end);
}
static inline int st__cmp_names(const void *a, const void *b) {
    return strcmp(((const StTensor *)a)->name, ((const StTensor *)b)->name);
}

// Opens path, checks its header and appends the file and its tensors to the set.
static inline int st__add_file(StSet *set, const char *path, char *err, size_t errlen) {
    StFile *files = (StFile *)realloc(set->files, (size_t)(set->n_files + 1) * sizeof(StFile));
    if (!files) return set_err(err, errlen, "%s: out of memory", path);
    set->files = files;
    StFile *sf = &files[set->n_files];
    memset(sf, 0, sizeof(*sf));
    if (!(sf->path = strdup(path))) return set_err(err, errlen, "%s: out of memory", path);
    set->n_files++; // from here st_close frees it, whatever happens below
    struct stat st;
    unsigned char len8[8];
    if (!(sf->f = fopen(path, "rb"))) return set_err(err, errlen, "%s: cannot open: %s", path, strerror(errno));
    if (fstat(fileno(sf->f), &st) || !S_ISREG(st.st_mode)) return set_err(err, errlen, "%s: not a regular file", path);
    unsigned long long n = 0, size = sf->size = (unsigned long long)st.st_size;
    if (size < 8)
        return set_err(err, errlen, "%s: %llu bytes is too short for a safetensors file (its header length alone is 8)",
                       path, size);
    if (fread(len8, 1, 8, sf->f) != 8) return set_err(err, errlen, "%s: read error", path);
    for (int i = 7; i >= 0; i--) n = n << 8 | len8[i];
    if (n == 0) return set_err(err, errlen, "%s: header length is 0", path);
    if (n > ST_MAX_HEADER)
        return set_err(err, errlen, "%s: header length %llu is over the limit of %u bytes", path, n, ST_MAX_HEADER);
    if (n > size - 8)
        return set_err(err, errlen, "%s: header length %llu runs past the end of the file (%llu bytes)", path, n, size);
    sf->data_start = 8 + n;
    char *text = (char *)malloc((size_t)n), msg[256];
    if (!text) return set_err(err, errlen, "%s: out of memory for a header of %llu bytes", path, n);
    int rc = fread(text, 1, (size_t)n, sf->f) != n ? 1 : json_parse(text, (size_t)n, n, &sf->header, msg, sizeof(msg));
    free(text);
    if (rc > 0) return set_err(err, errlen, "%s: read error", path);
    if (rc < 0) return set_err(err, errlen, "%s: header is not valid JSON (bytes count from its start): %s", path, msg);
    const Json *h = &sf->header;
    if (h->type != JSON_OBJECT)
        return set_err(err, errlen, "%s: header is %s, not a JSON object", path, json_kind(h, msg, sizeof(msg)));
    // the entries: the metadata, and tensors appended to the table
    StTensor *tensors = (StTensor *)realloc(set->tensors, (set->n_tensors + h->len) * sizeof(StTensor) + 1);
    if (!tensors) return set_err(err, errlen, "%s: out of memory", path);
    set->tensors = tensors;
    size_t first = set->n_tensors;
    for (size_t i = 0; i < h->len; i++) {
        const JsonMember *m = &h->members[i];
        if (!strcmp(m->key, "__metadata__")) {
            int ok = m->value.type == JSON_OBJECT;
            for (size_t k = 0; ok && k < m->value.len; k++) ok = m->value.members[k].value.type == JSON_STRING;
            if (!ok) return set_err(err, errlen, "%s: __metadata__ must be an object of strings", path);
            continue;
        }
        StTensor *t = &tensors[set->n_tensors];
        if (st__entry(sf, m, t, err, errlen)) return -1;
        t->file = set->n_files - 1;
        set->n_tensors++;
    }
    // coverage: sorted by offset, each tensor starts where the one before it ended
    qsort(tensors + first, set->n_tensors - first, sizeof(StTensor), st__cmp_offsets);
    unsigned long long at = 0, data = size - sf->data_start;
    for (size_t i = first; i < set->n_tensors; i++) {
        const StTensor *t = &tensors[i], *prev = &tensors[i ? i - 1 : 0];
        if (t->begin < at)
            return set_err(err, errlen, "%s: tensors \"%s\" and \"%s\" overlap (data_offsets [%llu, %llu] and [%llu,"
                           " %llu])", path, prev->name, t->name, prev->begin, prev->end, t->begin, t->end);
        if (t->begin > at)
            return set_err(err, errlen, "%s: bytes [%llu, %llu) of the data belong to no tensor (a hole before \"%s\")",
                           path, at, t->begin, t->name);
        at = t->end;
    }
    if (at != data)
        return set_err(err, errlen, "%s: %llu bytes after the last tensor's data (the data section has %llu, the"
                       " tensors cover %llu)", path, data - at, data, at);
    return 0;
}

// ----------------------------------------------------------------------------
// opening: a sharded set through its index

static inline int st__cmp_str(const void *a, const void *b) {
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

// The whole of a (small) file into a malloc'd buffer of *len bytes, at most max.
static inline int st__read_small(const char *path, size_t max, char **buf, size_t *len, char *err, size_t errlen) {
    FILE *f = fopen(path, "rb");
    struct stat st;
    if (!f) return set_err(err, errlen, "%s: cannot open: %s", path, strerror(errno));
    const char *why = fstat(fileno(f), &st) || !S_ISREG(st.st_mode) ? "not a regular file"
                    : (unsigned long long)st.st_size > max ? "too large (over 100 MB)" : NULL;
    *len = why ? 0 : (size_t)st.st_size;
    *buf = why ? NULL : (char *)malloc(*len + 1);
    if (!why && (!*buf || fread(*buf, 1, *len, f) != *len)) why = "read error";
    fclose(f);
    if (!why) return 0;
    free(*buf);
    *buf = NULL;
    return set_err(err, errlen, "%s: %s", path, why);
}

// The index's weight_map names each tensor's shard: a plain file name beside the index.
// Every shard is opened; each tensor must be in the shard the index names, and each
// tensor of a shard must be one the index maps to it. Other keys of the index are ignored.
static inline int st__open_index(StSet *set, const char *path, char *err, size_t errlen) {
    char *text = NULL, msg[256], *spath = NULL;
    size_t len = 0;
    if (st__read_small(path, ST_MAX_HEADER, &text, &len, err, errlen)) return -1;
    Json idx;
    int rc = json_parse(text, len, ST_MAX_HEADER, &idx, msg, sizeof(msg));
    free(text);
    if (rc) return set_err(err, errlen, "%s: not valid JSON: %s", path, msg);
    const Json *map, *meta = json_get(&idx, "metadata");
    const char **shards = NULL;
    rc = -1;
#define ST__FAIL(...) do { set_err(err, errlen, __VA_ARGS__); goto done; } while (0)
    if (idx.type != JSON_OBJECT) ST__FAIL("%s: the index is %s, not a JSON object", path, json_kind(&idx, msg, 256));
    if (json_get_typed(&idx, "weight_map", JSON_OBJECT, 0, &map, msg, sizeof(msg))) ST__FAIL("%s: %s", path, msg);
    if (meta && meta->type != JSON_OBJECT) ST__FAIL("%s: \"metadata\" must be an object", path);
    if (map->len == 0) ST__FAIL("%s: weight_map lists no tensors", path);
    // the shards: the distinct values of weight_map, each a plain file name
    if (!(shards = (const char **)malloc(map->len * sizeof(char *)))) ST__FAIL("%s: out of memory", path);
    for (size_t i = 0; i < map->len; i++) {
        const JsonMember *m = &map->members[i];
        const char *s = m->value.string;
        if (m->value.type != JSON_STRING)
            ST__FAIL("%s: weight_map[\"%s\"] must be a file name, not %s", path, m->key,
                     json_kind(&m->value, msg, 256));
        if (!*s || strchr(s, '/') || !strcmp(s, ".") || !strcmp(s, ".."))
            ST__FAIL("%s: weight_map[\"%s\"] = \"%s\" is not a plain file name in the index's directory", path,
                     m->key, s);
        if (strlen(s) > 255)
            ST__FAIL("%s: weight_map[\"%s\"] names a file of %zu bytes (a file name has at most 255)", path, m->key,
                     strlen(s));
        shards[i] = s;
    }
    qsort(shards, map->len, sizeof(char *), st__cmp_str);
    const char *slash = strrchr(path, '/');
    size_t dirlen = slash ? (size_t)(slash - path) + 1 : 0;
    for (size_t i = 0; i < map->len; i++) {
        if (i && !strcmp(shards[i], shards[i - 1])) continue;
        free(spath);
        if (!(spath = (char *)malloc(dirlen + strlen(shards[i]) + 1))) ST__FAIL("%s: out of memory", path);
        memcpy(spath, path, dirlen);
        strcpy(spath + dirlen, shards[i]);
        size_t first = set->n_tensors;
        if (st__add_file(set, spath, err, errlen)) goto done;
        for (size_t k = first; k < set->n_tensors; k++) {
            const Json *where = json_get(map, set->tensors[k].name);
            if (!where || strcmp(where->string, shards[i]))
                ST__FAIL("%s: unexpected tensor \"%s\" (the index %s %s%s)", spath, set->tensors[k].name, path,
                         where ? "maps it to " : "does not list it", where ? where->string : "");
        }
    }
    // each shard's tensors are in the index under that shard: any left over are missing
    qsort(set->tensors, set->n_tensors, sizeof(StTensor), st__cmp_names);
    for (size_t i = 0; set->n_tensors != map->len && i < map->len; i++) {
        StTensor key = {.name = map->members[i].key};
        if (!bsearch(&key, set->tensors, set->n_tensors, sizeof(StTensor), st__cmp_names))
            ST__FAIL("%s: tensor \"%s\" is missing from its shard %s", path, key.name, map->members[i].value.string);
    }
#undef ST__FAIL
    rc = 0;
done:
    free(spath);
    free(shards);
    json_free(&idx);
    return rc;
}

// ----------------------------------------------------------------------------
// the public reader

static inline void st_close(StSet *set) {
    for (int i = 0; i < set->n_files; i++) {
        if (set->files[i].f) fclose(set->files[i].f);
        free(set->files[i].path);
        json_free(&set->files[i].header);
    }
    free(set->files);
    free(set->tensors);
    free(set->path);
    memset(set, 0, sizeof(*set));
}

// Opens a .safetensors file, or a sharded set through its index (a path ending in
// ".json"), and checks all of it. On failure: -1, the message, and nothing to close.
static inline int st_open(StSet *set, const char *path, char *err, size_t errlen) {
    memset(set, 0, sizeof(*set));
    if (!(set->path = strdup(path))) return set_err(err, errlen, "%s: out of memory", path);
    size_t n = strlen(path);
    int index = n >= 5 && !strcmp(path + n - 5, ".json");
    if (index ? st__open_index(set, path, err, errlen) : st__add_file(set, path, err, errlen)) {
        st_close(set);
        return -1;
    }
    qsort(set->tensors, set->n_tensors, sizeof(StTensor), st__cmp_names);
    return 0;
}

// a tensor by name (binary search), or NULL
static inline const StTensor *st_find(const StSet *set, const char *name) {
    StTensor key = {.name = name};
    if (!set->n_tensors) return NULL;
    return (const StTensor *)bsearch(&key, set->tensors, set->n_tensors, sizeof(StTensor), st__cmp_names);
}

// __metadata__[key] of the set's first file that has it, or NULL
static inline const char *st_meta(const StSet *set, const char *key) {
    for (int i = 0; i < set->n_files; i++) {
        const Json *v = json_get(json_get(&set->files[i].header, "__metadata__"), key);
        if (v) return v->string;
    }
    return NULL;
}

// 0 when t has exactly this shape, else -1 and "PATH: tensor "x" has shape [a, b], expected [c, d]"
static inline int st_check_shape(const StSet *set, const StTensor *t, int ndim, const int64_t *shape, char *err,
                                 size_t errlen) {
    int same = t->ndim == ndim;
    for (int i = 0; same && i < ndim; i++) same = t->shape[i] == shape[i];
    char a[128], b[128];
    if (same) return 0;
    return set_err(err, errlen, "%s: tensor \"%s\" has shape %s, expected %s", set->files[t->file].path, t->name,
                   st_shape_str(t->ndim, t->shape, a, sizeof(a)), st_shape_str(ndim, shape, b, sizeof(b)));
}

// Reads tensor t into dst[0..n_expected) as fp32 (F16 and BF16 widened exactly), in
// ST_CHUNK-byte pieces. n_expected must be its element count; a non-finite value is an
// error. On failure dst may be partly written.
static inline int st_read_f32(const StSet *set, const StTensor *t, float *dst, size_t n_expected, char *err,
                              size_t errlen) {
    const StFile *sf = &set->files[t->file];
    char s[128];
    if (n_expected != t->numel)
        return set_err(err, errlen, "%s: tensor \"%s\" has shape %s (%zu values), expected %zu values", sf->path,
                       t->name, st_shape_str(t->ndim, t->shape, s, sizeof(s)), t->numel, n_expected);
    size_t esize = st_dtype_size(t->dtype), per_chunk = ST_CHUNK / esize;
    if (fseeko(sf->f, (off_t)(sf->data_start + t->begin), SEEK_SET))
        return st__bad(err, errlen, sf->path, t->name, "cannot seek: %s", strerror(errno));
    unsigned char buf[ST_CHUNK];
    for (size_t i = 0; i < t->numel;) {
        size_t k = t->numel - i < per_chunk ? t->numel - i : per_chunk;
        if (fread(buf, esize, k, sf->f) != k)
            return st__bad(err, errlen, sf->path, t->name, "read error (did the file change?)");
        for (size_t j = 0; j < k; j++, i++) {
            float x = st__decode(buf + j * esize, t->dtype);
            if (!isfinite(x))
                return set_err(err, errlen, "%s: tensor \"%s\" holds a non-finite value (%s) at element %zu", sf->path,
                               t->name, isnan(x) ? "nan" : "inf", i);
            dst[i] = x;
        }
    }
    return 0;
}

// st_find + st_check_shape + st_read_f32: the tensor `name` of this shape into dst
static inline int st_load(const StSet *set, const char *name, int ndim, const int64_t *shape, float *dst, char *err,
                          size_t errlen) {
    const StTensor *t = st_find(set, name);
    if (!t) return set_err(err, errlen, "%s: no tensor \"%s\"", set->path, name);
    if (st_check_shape(set, t, ndim, shape, err, errlen)) return -1;
    return st_read_f32(set, t, dst, t->numel, err, errlen);
}

// ----------------------------------------------------------------------------
// writing

typedef struct {
    const char *name;     // UTF-8, unique, not "__metadata__"
    int ndim;             // 0 to ST_MAX_DIMS
    const int64_t *shape;
    const float *data;    // product(shape) values
} StWriteTensor;

// The first name that occurs twice in names[0..n), or NULL (sorting a copy: n log n).
static inline const char *st__duplicate(const char **names, size_t n) {
    const char **copy = (const char **)malloc(n * sizeof(char *) + 1), *dup = NULL;
    if (!copy) return NULL;
    memcpy(copy, names, n * sizeof(char *));
    qsort(copy, n, sizeof(char *), st__cmp_str);
    for (size_t i = 1; i < n && !dup; i++) if (!strcmp(copy[i - 1], copy[i])) dup = copy[i];
    free(copy);
    return dup;
}

// Writes n tensors as a safetensors file, in the order given and contiguous, as F32 or
// BF16 (rounded to nearest even). meta: NULL or {key, value, key, value, ..., NULL},
// the __metadata__. The header is padded with spaces to a multiple of 8 bytes, so the
// data starts aligned. Atomic: PATH.tmp.PID, flushed, fsync'ed, renamed over path.
static inline int st_write(const char *path, const StWriteTensor *t, int n, StDtype dtype, const char *const *meta,
                           char *err, size_t errlen) {
    if (dtype != ST_F32 && dtype != ST_BF16)
        return set_err(err, errlen, "%s: can only write F32 or BF16, not %s", path, st_dtype_name(dtype));
    if (n < 0) return set_err(err, errlen, "%s: %d tensors", path, n);
    size_t esize = st_dtype_size(dtype), n_meta = 0, numel = 0;
    char s[128];
    for (; meta && meta[2 * n_meta]; n_meta++) {
        const char *k = meta[2 * n_meta], *v = meta[2 * n_meta + 1];
        if (!v || !json_utf8_valid(k, strlen(k)) || !json_utf8_valid(v, strlen(v)))
            return set_err(err, errlen, "%s: metadata \"%s\": no value, or not UTF-8", path, k);
    }
    for (int i = 0; i < n; i++) {
        const char *name = t[i].name;
        if (!name || !*name || !strcmp(name, "__metadata__") || !json_utf8_valid(name, strlen(name)))
            return set_err(err, errlen, "%s: tensor %d: a name must be non-empty UTF-8 and not __metadata__", path, i);
        if (t[i].ndim < 0 || t[i].ndim > ST_MAX_DIMS || (t[i].ndim && !t[i].shape))
            return st__bad(err, errlen, path, name, "%d dimensions (0 to %d, with a shape)", t[i].ndim, ST_MAX_DIMS);
        if (st__numel(t[i].ndim, t[i].shape, esize, &numel) || (numel && !t[i].data))
            return st__bad(err, errlen, path, name, "shape %s is negative or too large, or there is no data",
                           st_shape_str(t[i].ndim, t[i].shape, s, sizeof(s)));
    }
    const char **names = (const char **)malloc((n_meta + (size_t)n) * sizeof(char *) + 1), *dup;
    if (!names) return set_err(err, errlen, "%s: out of memory", path);
    for (size_t i = 0; i < n_meta; i++) names[i] = meta[2 * i];
    for (int i = 0; i < n; i++) names[n_meta + (size_t)i] = t[i].name;
    if (!(dup = st__duplicate(names, n_meta))) dup = st__duplicate(names + n_meta, (size_t)n);
    free(names);
    if (dup) return set_err(err, errlen, "%s: \"%s\" is there twice", path, dup);
    // the header: {"__metadata__":{...},"name":{"dtype":..,"shape":[..],"data_offsets":[b,e]},...}
    JsonOut h = {0};
    unsigned long long offset = 0;
    json_out_bytes(&h, "{", 1);
    for (size_t i = 0; i < n_meta; i++) {
        json_out_bytes(&h, i ? "," : "\"__metadata__\":{", i ? 1 : 16);
        json_out_string(&h, meta[2 * i]);
        json_out_bytes(&h, ":", 1);
        json_out_string(&h, meta[2 * i + 1]);
        if (i + 1 == n_meta) json_out_bytes(&h, "}", 1);
    }
    for (int i = 0; i < n; i++) {
        st__numel(t[i].ndim, t[i].shape, esize, &numel);
        if (n_meta || i) json_out_bytes(&h, ",", 1);
        json_out_string(&h, t[i].name);
        json_out_printf(&h, ":{\"dtype\":\"%s\",\"shape\":[", st_dtype_name(dtype));
        for (int d = 0; d < t[i].ndim; d++) json_out_printf(&h, d ? ",%lld" : "%lld", (long long)t[i].shape[d]);
        json_out_printf(&h, "],\"data_offsets\":[%llu,%llu]}", offset, offset + numel * esize);
        offset += numel * esize;
    }
    json_out_bytes(&h, "}", 1);
    while (!h.failed && h.len % 8) json_out_bytes(&h, " ", 1);
    if (h.failed || h.len > ST_MAX_HEADER) {
        free(h.data);
        return set_err(err, errlen, "%s: the header is too large (or out of memory)", path);
    }
    // the file: header length, header, then each tensor converted chunk by chunk
    char *tmp = (char *)malloc(strlen(path) + 32);
    FILE *f = tmp ? (sprintf(tmp, "%s.tmp.%d", path, (int)getpid()), fopen(tmp, "wb")) : NULL;
    if (!f) {
        int e = errno;
        free(h.data);
        set_err(err, errlen, "%s: cannot create the temporary file %s: %s", path, tmp ? tmp : "",
                tmp ? strerror(e) : "out of memory");
        free(tmp);
        return -1;
    }
    unsigned char buf[ST_CHUNK];
    for (int i = 0; i < 8; i++) buf[i] = (unsigned char)((uint64_t)h.len >> (8 * i));
    int ok = fwrite(buf, 1, 8, f) == 8 && fwrite(h.data, 1, h.len, f) == h.len;
    free(h.data);
    for (int i = 0; ok && i < n; i++) {
        st__numel(t[i].ndim, t[i].shape, esize, &numel);
        for (size_t j = 0; ok && j < numel;) {
            size_t k = 0;
            for (; k < ST_CHUNK / esize && j < numel; k++, j++) {
                uint32_t u = dtype == ST_F32 ? st__f32_bits(t[i].data[j]) : st_f32_to_bf16(t[i].data[j]);
                for (size_t b = 0; b < esize; b++) buf[k * esize + b] = (unsigned char)(u >> (8 * b));
            }
            ok = fwrite(buf, esize, k, f) == k;
        }
    }
    ok = ok && fflush(f) == 0 && fsync(fileno(f)) == 0;
    ok = fclose(f) == 0 && ok;
    if (!ok || rename(tmp, path) != 0) {
        int e = errno;
        remove(tmp);
        free(tmp);
        return set_err(err, errlen, "%s: write failed: %s", path, strerror(e));
    }
    free(tmp);
    return 0;
}

#endif // SAFETENSORS_H
