# fuzz/fuzz.mk - libFuzzer builds of the fuzz targets (needs clang).
# Separate from the top-level Makefile, which only builds the replayers.
#
#   make -f fuzz/fuzz.mk fuzz-profile [FUZZ_TIME=60]
#
# New inputs go to build-fuzz/corpus-<name>; copy interesting small ones
# into fuzz/corpus/<name> so `make test` replays them.
CLANG ?= clang
FB := build-fuzz
FUZZ_TIME ?= 60
FUZZ_CFLAGS := -std=gnu11 -g -O1 -D_GNU_SOURCE -Iinclude -Isrc \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
FUZZ_LIB_SRC := $(wildcard src/common/*.c src/proto/*.c)

.PHONY: fuzz-%
.PRECIOUS: $(FB)/fuzz_%
fuzz-%: $(FB)/fuzz_%
	@mkdir -p $(FB)/corpus-$*
	$< -max_total_time=$(FUZZ_TIME) -rss_limit_mb=2048 $(FB)/corpus-$* fuzz/corpus/$*

$(FB)/fuzz_%: fuzz/fuzz_%.c $(FUZZ_LIB_SRC)
	@mkdir -p $(dir $@)
	$(CLANG) $(FUZZ_CFLAGS) -o $@ $^ -lz -lm

# The benchmark-format target also needs benchstat's sources.
$(FB)/fuzz_benchfmt: fuzz/fuzz_benchfmt.c $(FUZZ_LIB_SRC) $(wildcard src/cli/benchstat/*.c) src/cli/cli.c
	@mkdir -p $(dir $@)
	$(CLANG) $(FUZZ_CFLAGS) -o $@ $^ -lz -lm

# The endpoint's request layer (http_req.c) with the target's fake backend.
$(FB)/fuzz_http: fuzz/fuzz_http.c src/runtime/http_req.c $(wildcard src/common/*.c)
	@mkdir -p $(dir $@)
	$(CLANG) $(FUZZ_CFLAGS) -o $@ $^

# The execution trace decoder.
$(FB)/fuzz_trace: fuzz/fuzz_trace.c src/cli/trace_read.c
	@mkdir -p $(dir $@)
	$(CLANG) $(FUZZ_CFLAGS) -o $@ $^

# The legacy readers (binary CPU and text) with their shared model and regexps.
LEGACY_SRC := src/cli/source/legacy.c src/cli/source/legacy_text.c src/cli/source/rx.c
$(FB)/fuzz_legacy: fuzz/fuzz_legacy.c $(FUZZ_LIB_SRC) $(LEGACY_SRC)
	@mkdir -p $(dir $@)
	$(CLANG) $(FUZZ_CFLAGS) -o $@ $^ -lz -lm
$(FB)/fuzz_legacy_text: fuzz/fuzz_legacy_text.c $(FUZZ_LIB_SRC) $(LEGACY_SRC)
	@mkdir -p $(dir $@)
	$(CLANG) $(FUZZ_CFLAGS) -o $@ $^ -lz -lm
