# rlme.c — `make` builds everything, `make test` runs the tests, `make bench` the benchmarks.
#   NO_OMP=1     build without OpenMP
#   SANITIZE=1   build with -fsanitize=address,undefined (use with `make test`)
#   QUICK=0      `make test` without the end-to-end `train_rlme --quick` run
#   CC=clang     any C11 compiler works; -march=native and OpenMP are used when accepted
#   `make fuzz`  libFuzzer targets (needs clang and libclang-rt-*-dev), FUZZ_SECONDS each

CC ?= cc
CFLAGS ?= -O3
# -fno-trapping-math and -fno-math-errno let loops with clamps and sqrtf vectorize
# (nothing here reads FP exception flags or errno from libm)
CFLAGS += -std=c11 -D_GNU_SOURCE -Wall -Wextra -fno-trapping-math -fno-math-errno
LDLIBS = -lm

# -march=native where the compiler accepts it
ifeq ($(shell $(CC) -march=native -x c -c -o /dev/null /dev/null 2>/dev/null && echo ok),ok)
  CFLAGS += -march=native
endif

# OpenMP, auto-detected (clang needs libomp-dev); otherwise only the SIMD pragmas
ifeq ($(NO_OMP),1)
  CFLAGS += -fopenmp-simd
else ifeq ($(shell echo 'int main(void){return 0;}' | $(CC) -fopenmp -x c -o /dev/null - 2>/dev/null && echo ok),ok)
  CFLAGS += -fopenmp
  LDLIBS += -fopenmp
else
  CFLAGS += -fopenmp-simd
endif

ifeq ($(SANITIZE),1)
  CFLAGS += -fsanitize=address,undefined -fno-omit-frame-pointer -g -O1
  LDLIBS += -fsanitize=address,undefined
  # each configuration builds into its own folder so flags never mix
  BIN = test/bin/sanitize
else ifeq ($(NO_OMP),1)
  BIN = test/bin/noomp
else
  BIN = test/bin/default
endif

TESTS = test_model test_tokenizer test_data test_rl
SOURCES = train_rlme.c model.h tokenizer.c data/gsm8k.h data/synth.c

# real GSM8K for the reader's tests (read in place, never copied into the project)
GSM8K_DIR ?= ../shared/data/gsm8k

.PHONY: all test bench fuzz clean
all: train_rlme tokenizer data/synth_gen data/synth/test.jsonl

train_rlme: $(SOURCES)
	$(CC) $(CFLAGS) -o $@ train_rlme.c $(LDLIBS)

tokenizer: tokenizer.c
	$(CC) $(CFLAGS) -o $@ tokenizer.c $(LDLIBS)

$(BIN)/train_rlme: $(SOURCES)
	@mkdir -p $(BIN)
	$(CC) $(CFLAGS) -o $@ train_rlme.c $(LDLIBS)

$(BIN)/tokenizer: tokenizer.c
	@mkdir -p $(BIN)
	$(CC) $(CFLAGS) -o $@ tokenizer.c $(LDLIBS)

data/synth_gen: data/synth.c
	$(CC) $(CFLAGS) -o $@ data/synth.c $(LDLIBS)

# the embedded default data: deterministic, identical on every machine
data/synth/test.jsonl: data/synth_gen
	./data/synth_gen --out data/synth

$(BIN)/test_data: test/test_data.c data/gsm8k.h data/synth.c
	@mkdir -p $(BIN)
	$(CC) $(CFLAGS) -o $@ test/test_data.c $(LDLIBS)

$(BIN)/test_rl: test/test_rl.c $(SOURCES)
	@mkdir -p $(BIN)
	$(CC) $(CFLAGS) -o $@ test/test_rl.c $(LDLIBS)

$(BIN)/test_tokenizer: test/test_tokenizer.c tokenizer.c
	@mkdir -p $(BIN)
	$(CC) $(CFLAGS) -o $@ test/test_tokenizer.c $(LDLIBS)

$(BIN)/test_model: test/test_model.c model.h train_rlme.c
	@mkdir -p $(BIN)
	$(CC) $(CFLAGS) -o $@ test/test_model.c $(LDLIBS)

test: $(addprefix $(BIN)/,$(TESTS)) $(BIN)/train_rlme $(BIN)/tokenizer data/synth/test.jsonl
	@set -e; for t in $(TESTS); do echo "== $$t"; TRAIN_RLME=$(BIN)/train_rlme GSM8K_DIR=$(GSM8K_DIR) ./$(BIN)/$$t; done
	@TRAIN_RLME=$(BIN)/train_rlme bash test/test_cli.sh
	@echo "== test_bad_inputs"; TRAIN_RLME=$(BIN)/train_rlme TOKENIZER_BIN=$(BIN)/tokenizer bash test/test_bad_inputs.sh
	@echo "== test_resume"; TRAIN_RLME=$(BIN)/train_rlme bash test/test_resume.sh
	@if [ "$(SANITIZE)" != 1 ]; then echo "== test_valgrind"; TRAIN_RLME=$(BIN)/train_rlme bash test/test_valgrind.sh; fi
	@if [ "$(QUICK)" != 0 ]; then echo "== test_quick"; TRAIN_RLME=$(BIN)/train_rlme bash test/test_quick.sh; fi

# the C trainer on the bench config and on the default model's size, side by side with
# PyTorch (same model, same threads) where Debian's python3-torch is installed, and the
# GEMM core against OpenBLAS where libopenblas-dev is (both dev-only, never required)
THREADS ?= 2
SMALL = --layers 4 --heads 4 --channels 128 --vocab 512 --seq 256 --batch 16
bench: train_rlme
	./train_rlme bench --threads $(THREADS)
	./train_rlme bench --threads $(THREADS) $(SMALL)
	@if /usr/bin/python3 -c 'import torch' 2>/dev/null; then \
	    /usr/bin/python3 dev/bench_torch.py --threads $(THREADS) --compare ./train_rlme; \
	    /usr/bin/python3 dev/bench_torch.py --threads $(THREADS) $(SMALL) --compare ./train_rlme; \
	else echo "(python3-torch not installed: no PyTorch comparison)"; fi
	@if [ -f /usr/include/x86_64-linux-gnu/cblas.h ] || [ -f /usr/include/cblas.h ]; then \
	    mkdir -p build && $(CC) -O3 -march=native -fopenmp -o build/bench_matmul dev/bench_matmul.c -lopenblas -lm && \
	    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE ./build/bench_matmul 1 $(THREADS); \
	else echo "(libopenblas-dev not installed: no OpenBLAS comparison)"; fi

# libFuzzer targets (test/fuzz/fuzz_*.c) under ASan + UBSan, each run for FUZZ_SECONDS
# on a scratch copy of its seeds (test/fuzz/run.sh); fails on any crash, leak, UB,
# timeout or over-limit allocation. Not part of `make test`.
FUZZ_CC ?= clang
FUZZ_SECONDS ?= 60
FUZZ_TARGETS = gsm8k checkpoint tokenizer_file encode train
FUZZ_CFLAGS = -std=c11 -D_GNU_SOURCE -g -O1 -fno-omit-frame-pointer -fopenmp-simd -Wall -Wextra \
              -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
FUZZ_BINS = $(addprefix build/fuzz/fuzz_,$(FUZZ_TARGETS))

build/fuzz/fuzz_%: test/fuzz/fuzz_%.c test/fuzz/fuzz.h tokenizer.c model.h data/gsm8k.h
	@mkdir -p build/fuzz
	$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ $< -lm

fuzz: $(FUZZ_BINS)
	@bash test/fuzz/run.sh $(FUZZ_SECONDS) $(FUZZ_TARGETS)

clean:
	rm -rf train_rlme tokenizer data/synth_gen test/bin build/fuzz
