// libFuzzer target: data/hf.h's config.json reader. The input is a model directory's
// config.json; hf_read_config must accept it as a config model.h can run (one that
// gpt_config_check passes, with its tensor table inside the parameter slots) or refuse
// it with one message naming the file. Never a crash, a leak or UB.
#include "../../data/hf.h"
#include "fuzz.h"

static char dir[64], config[128];

static void cleanup(void) { unlink(config); rmdir(dir); }

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc; (void)argv;
    fuzz_scratch_path(dir, sizeof(dir), "hf_config");
    CHECK(mkdir(dir, 0777) == 0 || errno == EEXIST);
    snprintf(config, sizeof(config), "%s/config.json", dir);
    atexit(cleanup);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    FILE *f = fopen(config, "wb");
    CHECK(f && fwrite(data, 1, size, f) == size && fclose(f) == 0);
    GPTConfig cfg;
    char err[512] = "";
    if (hf_read_config(dir, &cfg, err, sizeof(err)) != 0) {
        CHECK(!strncmp(err, config, strlen(config)) && strchr(err, '\n') == NULL);
        return 0;
    }
    char msg[160];
    CHECK(gpt_config_check(cfg, msg, sizeof(msg)) == 0);
    // every tensor the table names fits inside its slot (sizes only: no weights allocated)
    if ((double)cfg.num_layers * cfg.channels > 1e7) return 0; // the table is 16 L entries
    size_t sizes[NUM_PARAMETER_TENSORS];
    param_sizes(sizes, cfg);
    HfTensor *t = malloc((16 * (size_t)cfg.num_layers + 4) * sizeof(HfTensor));
    int n = hf_tensors(cfg, t);
    for (int i = 0; i < n; i++) {
        size_t numel = (size_t)t[i].shape[0] * (t[i].ndim == 2 ? (size_t)t[i].shape[1] : 1);
        CHECK(t[i].slot >= 0 && t[i].slot < NUM_PARAMETER_TENSORS && t[i].offset + numel <= sizes[t[i].slot]);
    }
    free(t);
    return 0;
}
