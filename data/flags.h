/*
data/flags.h — the command line of train_rlme.c: one table per command (name, value,
default, kind, field, range, whether a resume must agree on it, help) drives parsing,
--help and the run state's record of the flags that shape a run. Every bad flag or value
is one clear line and exit 2. Included by train_rlme.c after its templates.
*/

#define FLAG_LIST_MAX 8 // the values of a repeatable flag (--evaluator, --meta)
typedef struct { const char *v[FLAG_LIST_MAX]; int n; } FlagList;
// ----------------------------------------------------------------------------
// flags: one table per command drives parsing, --help and the run state's record of
// the flags that shape a run. Every bad flag or value is one clear line and exit 2.

typedef enum { F_INT, F_FLOAT, F_STR, F_SWITCH, F_LIST } FlagKind;
enum { NOT_IN_STATE, IN_STATE, HASH_IN_STATE }; // a resume must agree on the value (or the file's hash)

typedef struct {
    const char *name, *arg, *def; // "--lr", "LR" (NULL: a switch), the default ("6e-3"; NULL: none)
    FlagKind kind;
    size_t off;                   // the field in the command's struct
    double lo, hi;                // the range of a number
    int state;
    const char *help;             // "\n" starts a new line; the default is appended unless it says "(default"
} Flag;
#define FIELD(args, f, T) ((T *)((char *)(args) + (f)->off))

static long parse_long(const char *flag, const char *s, long lo, long hi) {
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end) die("%s expects an integer, got '%s'", flag, s);
    if (v < lo || v > hi) die("%s must be in [%ld, %ld], got %ld", flag, lo, hi, v);
    return v;
}

static float parse_float(const char *flag, const char *s, double lo, double hi) {
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !isfinite(v)) die("%s expects a number, got '%s'", flag, s);
    if (v < lo || v > hi) die("%s must be in [%g, %g], got %g", flag, lo, hi, v);
    return (float)v;
}

// The shortest decimal that reads back as the same float ("0.002", not "0.00200000009").
// Returns a static buffer, one of 16 in turn.
static const char *shortest_float(float v) {
    static char bufs[16][32];
    static int next = 0;
    char *b = bufs[next++ % 16];
    for (int digits = 6; digits <= 9; digits++) {
        snprintf(b, 32, "%.*g", digits, v);
        if (strtof(b, NULL) == v) break;
    }
    return b;
}

// one flag's value from text, checked against its range
static void set_flag(const Flag *f, void *args, const char *v) {
    if (f->kind == F_INT) *FIELD(args, f, int) = (int)parse_long(f->name, v, (long)f->lo, (long)f->hi);
    else if (f->kind == F_FLOAT) *FIELD(args, f, float) = parse_float(f->name, v, f->lo, f->hi);
    else if (f->kind == F_STR) *FIELD(args, f, const char *) = v;
    else if (f->kind == F_SWITCH) *FIELD(args, f, int) = 1;
    else { // F_LIST: a repeatable flag
        FlagList *l = FIELD(args, f, FlagList);
        if (l->n == FLAG_LIST_MAX) die("at most %d %s flags", FLAG_LIST_MAX, f->name);
        l->v[l->n++] = v;
    }
}

static void print_help(const char *usage, const Flag *table) {
    fputs(usage, stdout);
    for (const Flag *f = table; f->name; f++) {
        char left[64];
        snprintf(left, sizeof(left), "%s%s%s", f->name, f->arg ? " " : "", f->arg ? f->arg : "");
        printf(strlen(left) > 18 ? "  %s\n%21s" : "  %-18s ", left, "");
        for (const char *h = f->help; *h; h++) h[0] == '\n' ? printf("\n%21s", "") : putchar(*h);
        printf(f->def && !strstr(f->help, "(default") ? " (default %s)\n" : "\n", f->def);
    }
}

static void flags_defaults(const Flag *table, void *args) {
    for (const Flag *f = table; f->name; f++) if (f->def) set_flag(f, args, f->def);
}

// The table's defaults into args, then argv[first..]; --help prints the usage and the
// table, and exits.
static void parse_flags(const Flag *table, void *args, int argc, char **argv, int first, const char *usage,
                        const char *unknown) {
    flags_defaults(table, args);
    for (int i = first; i < argc; i++) {
        const Flag *f = table;
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) { print_help(usage, table); exit(0); }
        while (f->name && strcmp(f->name, argv[i])) f++;
        if (!f->name) die("unknown %s '%s' (see: %s --help)", unknown, argv[i], g_cmd);
        if (f->kind != F_SWITCH && i + 1 >= argc) die("flag %s needs a value", argv[i]);
        set_flag(f, args, f->kind == F_SWITCH ? NULL : argv[++i]);
    }
}

// "5,17,3" -> ids (malloc'd); each id must be in [0, V).
static int *parse_ids(const char *flag, const char *s, int V, int *n_out) {
    int cap = 16, n = 0;
    int *ids = malloc(cap * sizeof(int));
    for (const char *p = s;;) {
        char *end;
        errno = 0;
        long v = strtol(p, &end, 10);
        if (errno || end == p) die("%s expects comma-separated token ids, got '%s'", flag, s);
        if (v < 0 || v >= V) die("%s: token id %ld out of range [0, %d)", flag, v, V);
        if (n == cap) ids = realloc(ids, (cap *= 2) * sizeof(int));
        ids[n++] = (int)v;
        if (*end == '\0') break;
        if (*end != ',') die("%s expects comma-separated token ids, got '%s'", flag, s);
        p = end + 1;
    }
    *n_out = n;
    return ids;
}

// --threads N (0: all cores, shared out among the ranks mpirun started on this machine)
static void set_threads(int threads) {
#ifdef _OPENMP
    if (threads > 0) omp_set_num_threads(threads);
    else if (g_local_ranks > 1) {
        int share = omp_get_num_procs() / g_local_ranks;
        omp_set_num_threads(share > 0 ? share : 1);
    }
#else
    (void)threads;
#endif
}

