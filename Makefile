# rlme.c — `make` builds everything, `make test` runs the tests, `make bench` the benchmarks.
#   NO_OMP=1     build without OpenMP
#   SANITIZE=1   build with -fsanitize=address,undefined (use with `make test`)
#   QUICK=0      `make test` without the end-to-end `train_rlme --quick` run
#   CC=clang     any C11 compiler works; -march=native and OpenMP are used when accepted
#   SIMD=avx512|avx2|neon|none   the GEMM micro-kernel by name (default: the best the
#                CPU has); none is the plain-C kernel. One the CPU or the compiler cannot
#                do is refused. Bits differ between kernels and vector widths: see README,
#                "What it reproduces"
#   `make fuzz`  libFuzzer targets (needs clang and libclang-rt-*-dev), FUZZ_SECONDS each
#   MPI=1        train_rlme built with mpicc (MPICC), for data-parallel ranks under
#                mpirun (needs libopenmpi-dev); `make test MPI=1` adds test/test_mpi.sh

CC ?= cc
CFLAGS ?= -O3
# -fno-trapping-math and -fno-math-errno let loops with clamps and sqrtf vectorize
# (nothing here reads FP exception flags or errno from libm)
CFLAGS += -std=c11 -D_GNU_SOURCE -Wall -Wextra -fno-trapping-math -fno-math-errno
LDLIBS = -lm

# -march=native where the compiler accepts it, then the micro-kernel (model.h picks it
# from the target's predefined macros; SIMD=avx2 on an AVX-512 CPU turns AVX-512 off)
ARCH := $(shell $(CC) -march=native -x c -c -o /dev/null /dev/null 2>/dev/null && echo -march=native)
macros = $(shell $(CC) $(1) -dM -E -x c /dev/null 2>/dev/null)
kernel_in = $(if $(filter __AVX512F__,$(1)),avx512,$(if $(and $(filter __AVX2__,$(1)),$(filter __FMA__,$(1))),avx2,$(if \
            $(and $(filter __ARM_NEON,$(1)),$(filter __aarch64__,$(1))),neon,none)))
kernel_of = $(call kernel_in,$(call macros,$(1)))
NATIVE_KERNEL := $(call kernel_of,$(ARCH))
ifeq ($(SIMD),)
  KERNEL := $(NATIVE_KERNEL)
else ifeq ($(SIMD),none)
  ARCH += -DMM_SIMD_NONE
  KERNEL := none
else ifeq ($(SIMD),avx2)
  ifeq ($(NATIVE_KERNEL),avx512)
    ARCH += -mno-avx512f
  endif
  KERNEL := $(call kernel_of,$(ARCH))
else ifneq ($(filter $(SIMD),avx512 neon),)
  KERNEL := $(NATIVE_KERNEL)
else
  $(error SIMD=$(SIMD): not a kernel; choose avx512, avx2, neon or none)
endif
ifneq ($(SIMD),)
  ifneq ($(SIMD),$(KERNEL))
    ifeq ($(SIMD),neon)
      $(error SIMD=neon: $(CC) does not target aarch64 (it gives the $(NATIVE_KERNEL) kernel); \
        NEON needs an aarch64 compiler, e.g. make CC=aarch64-linux-gnu-gcc SIMD=neon)
    else
      $(error SIMD=$(SIMD): this CPU or $(CC) cannot do it ($(strip $(CC) $(ARCH)) gives the $(NATIVE_KERNEL) \
        kernel); choose SIMD=$(NATIVE_KERNEL) or SIMD=none)
    endif
  endif
endif
# (ARCH_EXTRA: more target flags, e.g. -mno-avx512f for the binary valgrind runs)
ARCH += $(ARCH_EXTRA)
CFLAGS += $(ARCH)

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
ifneq ($(SIMD),)
  BIN := $(BIN)-$(SIMD)
endif

# MPI=1: train_rlme through mpicc with -DRLME_MPI (data/dist.h); nothing else changes
MPICC ?= mpicc
MPI_CC = $(MPICC) -DRLME_MPI
ifeq ($(MPI),1)
  ifeq ($(shell command -v $(MPICC)),)
    $(error MPI=1: $(MPICC) not found (install Debian's libopenmpi-dev and openmpi-bin))
  endif
  TRAIN_CC = $(MPI_CC)
else
  TRAIN_CC = $(CC)
endif

# the flags each binary was built with: changing them (SIMD=, SANITIZE=, CC=; MPI= for
# the top-level train_rlme) rebuilds
FLAGS_LINE := $(CC) $(CFLAGS) $(LDLIBS)
define flags_stamp
$(shell mkdir -p $(dir $(1)) && (echo '$(2)' | cmp -s - $(1) || echo '$(2)' > $(1)))
endef
ifneq ($(filter all train_rlme tokenizer bench,$(or $(MAKECMDGOALS),all)),)
  $(call flags_stamp,build/cflags,$(TRAIN_CC) $(CFLAGS) $(LDLIBS))
endif
ifneq ($(filter test $(BIN)/% $(BIN)-mpi/%,$(MAKECMDGOALS)),)
  $(call flags_stamp,$(BIN)/cflags,$(FLAGS_LINE))
endif
.DEFAULT_GOAL := all
build/cflags $(BIN)/cflags: ;

# valgrind 3.19 cannot decode AVX-512: under it, the tests run a binary built without it
# (the AVX2 kernel in place of the AVX-512 one; any other kernel stays)
VG_AVX512 := $(filter __AVX512F__,$(call macros,$(ARCH)))
VG_SIMD = $(if $(filter avx512,$(KERNEL)),avx2,$(SIMD))
VG_BIN = $(if $(VG_AVX512),$(BIN)-valgrind,$(BIN))

TESTS = test_model test_tokenizer test_nfc test_data test_rl test_safetensors test_hf
SOURCES = train_rlme.c model.h tokenizer.c $(wildcard data/*.h) data/synth.c

# the tests read the GSM8K fixture in test/gsm8k/; GSM8K_DIR=DIR (or data/gsm8k/, filled
# by data/gsm8k.sh) adds the checks on all of the real files, read in place
GSM8K_DIR ?=

.PHONY: all test bench fuzz clean kernel FORCE
all: train_rlme tokenizer data/synth_gen data/synth/test.jsonl

train_rlme: $(SOURCES) build/cflags
	$(TRAIN_CC) $(CFLAGS) -o $@ train_rlme.c $(LDLIBS)

TOKENIZER_SOURCES = tokenizer.c data/json.h data/nfc.h
tokenizer: $(TOKENIZER_SOURCES) build/cflags
	$(CC) $(CFLAGS) -o $@ tokenizer.c $(LDLIBS)

$(BIN)/train_rlme: $(SOURCES) $(BIN)/cflags
	$(CC) $(CFLAGS) -o $@ train_rlme.c $(LDLIBS)

$(BIN)-mpi/train_rlme: $(SOURCES) $(BIN)/cflags
	@mkdir -p $(dir $@)
	$(MPI_CC) $(CFLAGS) -o $@ train_rlme.c $(LDLIBS)

$(BIN)/tokenizer: $(TOKENIZER_SOURCES) $(BIN)/cflags
	$(CC) $(CFLAGS) -o $@ tokenizer.c $(LDLIBS)

$(BIN)-valgrind/train_rlme: FORCE
	@$(MAKE) --no-print-directory SIMD=$(VG_SIMD) ARCH_EXTRA=-mno-avx512f BIN=$(BIN)-valgrind $@

# `make kernel` prints the micro-kernel a build with these flags uses
kernel:
	@echo $(KERNEL)

# (the generator's output does not depend on the flags: one build serves every kernel)
data/synth_gen: data/synth.c
	$(CC) $(CFLAGS) -o $@ data/synth.c $(LDLIBS)

# the embedded default data: deterministic, identical on every machine
data/synth/test.jsonl: data/synth_gen
	./data/synth_gen --out data/synth

$(BIN)/test_data: test/test_data.c data/gsm8k.h data/synth.c $(BIN)/cflags
	$(CC) $(CFLAGS) -o $@ test/test_data.c $(LDLIBS)

$(BIN)/test_safetensors: test/test_safetensors.c data/json.h data/safetensors.h model.h $(BIN)/cflags
	$(CC) $(CFLAGS) -o $@ test/test_safetensors.c $(LDLIBS)

$(BIN)/test_hf: test/test_hf.c data/hf.h data/json.h data/safetensors.h model.h $(BIN)/cflags
	$(CC) $(CFLAGS) -o $@ test/test_hf.c $(LDLIBS)

$(BIN)/test_rl: test/test_rl.c $(SOURCES) $(BIN)/cflags
	$(CC) $(CFLAGS) -o $@ test/test_rl.c $(LDLIBS)

$(BIN)/test_tokenizer: test/test_tokenizer.c $(TOKENIZER_SOURCES) $(BIN)/cflags
	$(CC) $(CFLAGS) -o $@ test/test_tokenizer.c $(LDLIBS)
$(BIN)/test_nfc: test/test_nfc.c data/nfc.h $(BIN)/cflags
	$(CC) $(CFLAGS) -o $@ test/test_nfc.c $(LDLIBS)

$(BIN)/test_model: test/test_model.c model.h train_rlme.c $(BIN)/cflags
	$(CC) $(CFLAGS) -o $@ test/test_model.c $(LDLIBS)

test: $(addprefix $(BIN)/,$(TESTS)) $(BIN)/train_rlme $(BIN)/tokenizer data/synth/test.jsonl
	@echo "== kernel=$(KERNEL) ($(CC) $(ARCH))"
	@set -e; for t in $(TESTS); do echo "== $$t"; TRAIN_RLME=$(BIN)/train_rlme GSM8K_DIR=$(GSM8K_DIR) ./$(BIN)/$$t; done
	@TRAIN_RLME=$(BIN)/train_rlme bash test/test_cli.sh
	@echo "== test_bad_inputs"; TRAIN_RLME=$(BIN)/train_rlme TOKENIZER_BIN=$(BIN)/tokenizer bash test/test_bad_inputs.sh
	@echo "== test_resume"; TRAIN_RLME=$(BIN)/train_rlme bash test/test_resume.sh
	@echo "== test_real_model"; TRAIN_RLME=$(BIN)/train_rlme bash test/test_real_model.sh
	@if [ "$(SANITIZE)" != 1 ]; then echo "== test_valgrind"; \
	    if ! command -v valgrind > /dev/null; then echo "skipped: valgrind is not installed"; \
	    else $(MAKE) --no-print-directory $(VG_BIN)/train_rlme && TRAIN_RLME=$(VG_BIN)/train_rlme bash test/test_valgrind.sh; fi; fi
	@if [ "$(QUICK)" != 0 ]; then echo "== test_quick"; TRAIN_RLME=$(BIN)/train_rlme bash test/test_quick.sh; fi
	@if [ "$(MPI)" = 1 ]; then echo "== test_mpi"; $(MAKE) --no-print-directory $(BIN)-mpi/train_rlme && \
	    TRAIN_RLME=$(BIN)/train_rlme TRAIN_RLME_MPI=$(BIN)-mpi/train_rlme bash test/test_mpi.sh; fi

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
	    mkdir -p build && $(CC) -O3 $(ARCH) -fopenmp -o build/bench_matmul dev/bench_matmul.c -lopenblas -lm && \
	    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE ./build/bench_matmul 1 $(THREADS); \
	else echo "(libopenblas-dev not installed: no OpenBLAS comparison)"; fi

# libFuzzer targets (test/fuzz/fuzz_*.c) under ASan + UBSan, each run for FUZZ_SECONDS
# on a scratch copy of its seeds (test/fuzz/run.sh); fails on any crash, leak, UB,
# timeout or over-limit allocation. Not part of `make test`.
FUZZ_CC ?= clang
FUZZ_SECONDS ?= 60
FUZZ_TARGETS = gsm8k checkpoint tokenizer_file tokenizer_json encode train safetensors hf_config
FUZZ_CFLAGS = -std=c11 -D_GNU_SOURCE -g -O1 -fno-omit-frame-pointer -fopenmp-simd -Wall -Wextra \
              -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
FUZZ_BINS = $(addprefix build/fuzz/fuzz_,$(FUZZ_TARGETS))

build/fuzz/fuzz_%: test/fuzz/fuzz_%.c test/fuzz/fuzz.h $(TOKENIZER_SOURCES) model.h data/gsm8k.h data/safetensors.h data/hf.h
	@mkdir -p build/fuzz
	$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ $< -lm

fuzz:
	@if ! echo 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n) { (void)d; (void)n; return 0; }' | \
	    $(FUZZ_CC) -fsanitize=fuzzer -x c -o /dev/null - > /dev/null 2>&1; then \
	    echo "skipped: $(FUZZ_CC) cannot link libFuzzer (install clang and Debian's libclang-rt-N-dev)"; \
	else $(MAKE) --no-print-directory $(FUZZ_BINS) && bash test/fuzz/run.sh $(FUZZ_SECONDS) $(FUZZ_TARGETS); fi

clean:
	rm -rf train_rlme tokenizer data/synth_gen test/bin build/fuzz
