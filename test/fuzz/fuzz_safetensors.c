// libFuzzer target: data/safetensors.h's reader and writer, and data/json.h's parser.
//
// The input is tried three ways, in a per-process scratch directory:
//  - json_parse on the raw bytes: a failure reports "line L, byte B: ..." with B inside
//    the input (or at its end);
//  - as a safetensors file (input.safetensors): st_open, then st_read_f32 of every tensor;
//  - when it is a JSON object, as an index (model.safetensors.index.json) beside a fixed
//    valid shard, shard.safetensors, and the input file itself (input.safetensors).
// Checked, besides "no crash, no leak, no UB, bounded memory": a rejected file leaves a
// message naming a file of the scratch directory; an opened set keeps every rule (table
// sorted by name and found by st_find, byte ranges inside their file and covering each
// data section exactly, sizes matching shapes); a read either gives finite values or
// says "non-finite". A file whose tensors all read is written again with st_write (F32,
// with its metadata) and read back: the same names, shapes and bit-exact values.
#include "../../data/safetensors.h"
#include "fuzz.h"

static char dir[64], input[128], index_path[128], shard[128], rewritten[128];

static void cleanup(void) {
    unlink(input); unlink(index_path); unlink(shard); unlink(rewritten);
    rmdir(dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc; (void)argv;
    fuzz_scratch_path(dir, sizeof(dir), "safetensors");
    CHECK(mkdir(dir, 0777) == 0 || errno == EEXIST);
    snprintf(input, sizeof(input), "%s/input.safetensors", dir);
    snprintf(index_path, sizeof(index_path), "%s/model.safetensors.index.json", dir);
    snprintf(shard, sizeof(shard), "%s/shard.safetensors", dir);
    snprintf(rewritten, sizeof(rewritten), "%s/rewritten.safetensors", dir);
    // the shard an index may name: "a" [2] and "b" [] (the seeds' index names both)
    static const float a[2] = {1.0f, -2.0f}, b[1] = {0.5f};
    static const int64_t sa[1] = {2};
    StWriteTensor t[2] = {{"a", 1, sa, a}, {"b", 0, NULL, b}};
    char err[512];
    CHECK(st_write(shard, t, 2, ST_BF16, NULL, err, sizeof(err)) == 0);
    atexit(cleanup);
    return 0;
}

static void write_input(const char *path, const uint8_t *data, size_t size) {
    FILE *f = fopen(path, "wb");
    CHECK(f && fwrite(data, 1, size, f) == size && fclose(f) == 0);
}

// every rule st_open promises, on an opened set
static void check_set(const StSet *s) {
    CHECK(s->n_files >= 1 && s->path);
    uint64_t *covered = calloc((size_t)s->n_files, sizeof(uint64_t));
    CHECK(covered);
    for (size_t i = 0; i < s->n_tensors; i++) {
        const StTensor *t = &s->tensors[i];
        CHECK(i == 0 || strcmp(s->tensors[i - 1].name, t->name) < 0);
        CHECK(st_find(s, t->name) == t);
        CHECK(t->file >= 0 && t->file < s->n_files && t->ndim >= 0 && t->ndim <= ST_MAX_DIMS);
        const StFile *f = &s->files[t->file];
        size_t numel = 1;
        for (int d = 0; d < t->ndim; d++) numel *= (size_t)t->shape[d];
        CHECK(numel == t->numel && t->end - t->begin == numel * st_dtype_size(t->dtype));
        CHECK(t->begin <= t->end && t->end <= f->size - f->data_start);
        covered[t->file] += t->end - t->begin;
    }
    for (int i = 0; i < s->n_files; i++) CHECK(covered[i] == s->files[i].size - s->files[i].data_start);
    free(covered);
}

// a rejected open leaves one message naming a file of the scratch directory
static void check_refused(const StSet *s, const char *err) {
    CHECK(s->n_files == 0 && s->files == NULL && s->tensors == NULL && s->path == NULL);
    CHECK(!strncmp(err, dir, strlen(dir)) && strchr(err, ':'));
}

// reads every tensor; when all read, writes them again and checks the copy reads back the same
static void read_all(const StSet *s) {
    size_t n = s->n_tensors;
    float **vals = calloc(n + 1, sizeof(float *));
    CHECK(vals);
    int all = 1;
    char err[512];
    for (size_t i = 0; i < n; i++) {
        const StTensor *t = &s->tensors[i];
        vals[i] = malloc(t->numel * sizeof(float) + 1);
        CHECK(vals[i]);
        err[0] = '\0';
        if (st_read_f32(s, t, vals[i], t->numel, err, sizeof(err))) {
            CHECK(strstr(err, "non-finite") && !strncmp(err, s->files[t->file].path, strlen(s->files[t->file].path)));
            all = 0;
            continue;
        }
        for (size_t j = 0; j < t->numel; j++) CHECK(isfinite(vals[i][j]));
        CHECK(t->numel == 0 || st_read_f32(s, t, vals[i], t->numel + 1, err, sizeof(err)) == -1); // a wrong count
        if (!*t->name) all = 0; // (the writer refuses an empty name)
    }
    if (all && s->n_files == 1) {
        StWriteTensor *w = calloc(n + 1, sizeof(StWriteTensor));
        const Json *meta = json_get(&s->files[0].header, "__metadata__");
        const char **kv = calloc(2 * json_len(meta) + 1, sizeof(char *));
        CHECK(w && kv);
        for (size_t i = 0; i < n; i++) {
            const StTensor *t = &s->tensors[i];
            w[i] = (StWriteTensor){t->name, t->ndim, t->shape, vals[i]};
        }
        for (size_t i = 0; i < json_len(meta); i++)
            kv[2 * i] = meta->members[i].key, kv[2 * i + 1] = meta->members[i].value.string;
        CHECK(st_write(rewritten, w, (int)n, ST_F32, kv, err, sizeof(err)) == 0);
        StSet c;
        CHECK(st_open(&c, rewritten, err, sizeof(err)) == 0 && c.n_tensors == n);
        for (size_t i = 0; i < n; i++) {
            const StTensor *t = &c.tensors[i], *o = &s->tensors[i];
            CHECK(!strcmp(t->name, o->name) && t->ndim == o->ndim && !memcmp(t->shape, o->shape, sizeof(t->shape)));
            float *back = malloc(t->numel * sizeof(float) + 1);
            CHECK(back && st_read_f32(&c, t, back, t->numel, err, sizeof(err)) == 0);
            CHECK(t->numel == 0 || !memcmp(back, vals[i], t->numel * sizeof(float)));
            free(back);
        }
        for (size_t i = 0; i < json_len(meta); i++) CHECK(!strcmp(st_meta(&c, kv[2 * i]), kv[2 * i + 1]));
        st_close(&c);
        unlink(rewritten);
        free(w); free(kv);
    }
    for (size_t i = 0; i < n; i++) free(vals[i]);
    free(vals);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    // the JSON parser on the raw bytes
    Json doc;
    char err[512] = "";
    int is_object = 0;
    if (json_parse((const char *)data, size, 1 << 20, &doc, err, sizeof(err))) {
        size_t line, byte;
        CHECK(sscanf(err, "line %zu, byte %zu:", &line, &byte) == 2 && line >= 1 && byte <= size);
    } else {
        is_object = doc.type == JSON_OBJECT;
        json_free(&doc);
    }
    // as a safetensors file, then as an index beside it and the fixed shard
    write_input(input, data, size);
    for (int as_index = 0; as_index <= is_object; as_index++) {
        if (as_index) write_input(index_path, data, size);
        StSet s;
        err[0] = '\0';
        if (st_open(&s, as_index ? index_path : input, err, sizeof(err))) check_refused(&s, err);
        else {
            check_set(&s);
            read_all(&s);
            st_close(&s);
        }
    }
    unlink(input);
    unlink(index_path);
    return 0;
}
