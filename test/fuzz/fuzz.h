// What the libFuzzer targets share: CHECK, which aborts (a finding) with the failed
// condition, and a per-process scratch path for the loaders that take a file name.
#ifndef RLME_FUZZ_H
#define RLME_FUZZ_H
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define CHECK(cond) do { if (!(cond)) { fprintf(stderr, "check failed: %s (line %d)\n", #cond, __LINE__); abort(); } } while (0)

// "/dev/shm/rlme_fuzz_NAME.PID" (or under /tmp), into path
static inline void fuzz_scratch_path(char *path, size_t cap, const char *name) {
    const char *dir = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
    snprintf(path, cap, "%s/rlme_fuzz_%s.%d", dir, name, (int)getpid());
}
#endif
