# cprof - one GNU Makefile for the runtime, the CLI, examples, tests and benchmarks.
#
#   make                 build everything into build/
#   make test            unit + end-to-end tests, ends with "N passed, N failed"
#   make demo            profile a bundled example and show the result
#   make bench           overhead and accuracy against the baseline and gperftools
#   make bench-heap      only the heap profiler's part of make bench
#   make bench-continuous  only the continuous collector's part of make bench
#   make bench-wall      only the wall-clock profiler's part of make bench
#   make bench-trace     only the execution tracer's part of make bench
#   make bench-webui     only the web UI's part of make bench (flame graph in the browser)
#   make bench-trace-viewer  the trace viewer in the browser on a 10-million-event trace
#   make install PREFIX=/usr/local [DESTDIR=...]
#   make SAN=address,undefined test   sanitizer build (separate build dir)
#
# Missing build dependencies are installed by scripts/deps.sh.

PREFIX ?= /usr/local
CC ?= cc
SAN ?=
VERSION := 0.1.0

ifeq ($(SAN),)
B := build
SANFLAGS :=
else
B := build-san
SANFLAGS := -fsanitize=$(SAN) -fno-omit-frame-pointer -fno-sanitize-recover=all
endif

WARN := -Wall -Wextra -Werror -Wshadow -Wno-unused-parameter
CFLAGS ?= -O2 -g
ALL_CFLAGS := -std=gnu11 $(WARN) $(CFLAGS) -D_GNU_SOURCE -DCPROF_VERSION='"$(VERSION)"' \
	-Iinclude -Isrc -MMD -MP

DEPS_STAMP := $(B)/.deps-build
LIBS_DW := -ldw -lelf -lz

COMMON_SRC := $(wildcard src/common/*.c)
PROTO_SRC := $(wildcard src/proto/*.c)
RUNTIME_SRC := $(wildcard src/runtime/*.c)
CLI_SRC := $(wildcard src/cli/*.c src/cli/report/*.c src/cli/source/*.c src/cli/benchstat/*.c)
# Libraries the cprof binary links (unit tests and fuzz replayers link the same).
CLI_LIBS := -lcurl -ledit $(LIBS_DW) -lm -lmicrohttpd

# The runtime is built position-independent, with its internal symbols hidden.
PIC_FLAGS := -fPIC -fvisibility=hidden
COMMON_PIC := $(COMMON_SRC:%.c=$(B)/pic/%.o)
PROTO_PIC := $(PROTO_SRC:%.c=$(B)/pic/%.o)
RUNTIME_PIC := $(RUNTIME_SRC:%.c=$(B)/pic/%.o)
COMMON_OBJ := $(COMMON_SRC:%.c=$(B)/obj/%.o)
PROTO_OBJ := $(PROTO_SRC:%.c=$(B)/obj/%.o)
CLI_OBJ := $(CLI_SRC:%.c=$(B)/obj/%.o)
# The web UI's files (web/), compiled into the CLI as C arrays.
WEB_SRC := $(sort $(filter-out web/trace,$(wildcard web/*)))
WEB_OBJ := $(B)/obj/gen/webui_assets.o
CLI_OBJ += $(WEB_OBJ)
# The trace viewer's files (web/trace/), likewise (trace_assets).
TRACE_WEB_SRC := $(sort $(wildcard web/trace/*))
TRACE_WEB_OBJ := $(B)/obj/gen/trace_assets.o
CLI_OBJ += $(TRACE_WEB_OBJ)

LIBSO := $(B)/lib/libcprof.so
LIBA := $(B)/lib/libcprof.a
CLI := $(B)/bin/cprof

UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(B)/tests/unit/%)
PROG_SRC := $(wildcard tests/progs/*.c)
PROG_BIN := $(PROG_SRC:tests/progs/%.c=$(B)/tests/progs/%)
EXAMPLE_SRC := $(wildcard examples/*.c)
EXAMPLE_BIN := $(EXAMPLE_SRC:examples/%.c=$(B)/examples/%)
FUZZ_SRC := $(wildcard fuzz/fuzz_*.c)
FUZZ_REPLAY := $(FUZZ_SRC:fuzz/fuzz_%.c=$(B)/fuzz/replay_%)
BENCH_SRC := $(wildcard bench/bench_*.c)
BENCH_BIN := $(BENCH_SRC:bench/%.c=$(B)/bench/%)
# The benchmark harness (include/cprof/bench.h): libcprof-bench, built like
# the runtime (position-independent, never sanitized: it lives in user programs).
BENCHLIB_SRC := $(wildcard src/bench/*.c)
BENCHLIB_OBJ := $(BENCHLIB_SRC:%.c=$(B)/rt/%.o)
LIBBENCH_SO := $(B)/lib/libcprof-bench.so
LIBBENCH_A := $(B)/lib/libcprof-bench.a
BENCHPROG_SRC := $(wildcard tests/bench/*.c)
BENCHPROG_BIN := $(BENCHPROG_SRC:tests/bench/%.c=$(B)/tests/bench/%)

.PHONY: bench-http
.PHONY: bench-continuous
.PHONY: bench-trace bench-trace-viewer
.PHONY: bench-stacktab
.PHONY: bench-webui
.PHONY: all test demo bench bench-heap bench-wall install uninstall clean deps check-deps
all: $(LIBSO) $(LIBA) $(CLI) $(EXAMPLE_BIN) $(B)/lib/pkgconfig/cprof.pc
all: $(LIBBENCH_SO) $(LIBBENCH_A) $(B)/lib/pkgconfig/cprof-bench.pc

$(DEPS_STAMP):
	@scripts/deps.sh build
	@mkdir -p $(dir $@) && touch $@

$(B)/pic/%.o: %.c | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(PIC_FLAGS) $(SANFLAGS) -c $< -o $@

$(B)/obj/%.o: %.c | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(SANFLAGS) -c $< -o $@

# The runtime is never built with sanitizers: it is preloaded into programs
# that are not, and ASan must come first in the initial library list.
RUNTIME_FLAGS := $(ALL_CFLAGS) $(PIC_FLAGS) -fno-omit-frame-pointer
$(B)/rt/%.o: %.c | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(RUNTIME_FLAGS) -c $< -o $@
# Wrappers of cancellation points: a cancelled wait unwinds through them and runs their cleanups.
$(B)/rt/src/runtime/wait_sync.o $(B)/rt/src/runtime/wait_syscall.o: RUNTIME_FLAGS += -fexceptions
RT_OBJ := $(COMMON_SRC:%.c=$(B)/rt/%.o) $(PROTO_SRC:%.c=$(B)/rt/%.o) $(RUNTIME_SRC:%.c=$(B)/rt/%.o)

$(LIBSO): $(RT_OBJ)
	@mkdir -p $(dir $@)
	$(CC) -shared -Wl,-soname,libcprof.so -Wl,-z,nodelete -Wl,-z,now -o $@ $^ $(LIBS_DW) -ldl -lpthread -lrt -lm

$(LIBA): $(RT_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

# libcprof-bench needs libcprof (profiles, allocation counts); $ORIGIN finds
# it beside itself, installed or in the build tree.
$(LIBBENCH_SO): $(BENCHLIB_OBJ) $(LIBSO)
	@mkdir -p $(dir $@)
	$(CC) -shared -Wl,-soname,libcprof-bench.so -Wl,-z,now -Wl,-rpath,'$$ORIGIN' -o $@ $(BENCHLIB_OBJ) \
		-L$(B)/lib -Wl,--push-state,--no-as-needed -lcprof -Wl,--pop-state -lpthread -lm

$(LIBBENCH_A): $(BENCHLIB_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(B)/lib/pkgconfig/cprof-bench.pc: scripts/cprof-bench.pc.in Makefile
	@mkdir -p $(dir $@)
	sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@VERSION@|$(VERSION)|g' $< > $@

# Benchmark programs of the harness's tests: linked as a user would.
$(B)/tests/bench/%: tests/bench/%.c include/cprof/bench.h $(LIBBENCH_SO)
	@mkdir -p $(dir $@)
	$(CC) -O2 -g -std=gnu11 $(WARN) -D_GNU_SOURCE -Iinclude -o $@ $< -L$(B)/lib -lcprof-bench \
		-Wl,--push-state,--no-as-needed -lcprof -Wl,--pop-state -Wl,-rpath,$(abspath $(B)/lib) -lpthread -lm

$(B)/gen/webui_assets.c: $(WEB_SRC) scripts/embed.sh
	@mkdir -p $(dir $@)
	scripts/embed.sh $(WEB_SRC) > $@.tmp && mv $@.tmp $@
$(WEB_OBJ): $(B)/gen/webui_assets.c | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(SANFLAGS) -c $< -o $@

$(B)/gen/trace_assets.c: $(TRACE_WEB_SRC) scripts/embed.sh
	@mkdir -p $(dir $@)
	scripts/embed.sh -n trace_assets $(TRACE_WEB_SRC) > $@.tmp && mv $@.tmp $@
$(TRACE_WEB_OBJ): $(B)/gen/trace_assets.c | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(SANFLAGS) -c $< -o $@

$(CLI): $(CLI_OBJ) $(COMMON_OBJ) $(PROTO_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(SANFLAGS) -o $@ $^ $(CLI_LIBS)

$(B)/lib/pkgconfig/cprof.pc: scripts/cprof.pc.in Makefile
	@mkdir -p $(dir $@)
	sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@VERSION@|$(VERSION)|g' $< > $@

# Examples a user copies: built -O2 without frame pointers, as real code is.
$(B)/examples/%: examples/%.c $(LIBSO)
	@mkdir -p $(dir $@)
	$(CC) -O2 -g -fomit-frame-pointer $(WARN) -Iinclude -o $@ $< \
		$(if $(findstring _linked,$@),-L$(B)/lib -Wl$(comma)--push-state$(comma)--no-as-needed -lcprof -Wl$(comma)--pop-state -Wl$(comma)-rpath$(comma)$(abspath $(B)/lib)) \
		-lpthread -lm

# Workload programs for the end-to-end tests: -O2, no frame pointers.
$(B)/tests/progs/%: tests/progs/%.c tests/progs/work_unit.h $(LIBSO)
	@mkdir -p $(dir $@)
	$(CC) -O2 -g -fomit-frame-pointer -std=gnu11 $(WARN) -D_GNU_SOURCE -Iinclude -o $@ $< \
		$(if $(findstring _linked,$@),-L$(B)/lib -Wl$(comma)--push-state$(comma)--no-as-needed -lcprof -Wl$(comma)--pop-state -Wl$(comma)-rpath$(comma)$(abspath $(B)/lib)) \
		-lpthread -ldl -lm
comma := ,
# Shared object the dlopen tests load and unload.
$(B)/tests/progs/libdlwork.so: tests/progs/dlwork.c.lib
	@mkdir -p $(dir $@)
	$(CC) -O2 -g -fPIC -shared -x c -o $@ $<

$(B)/tests/unit/%: tests/unit/%.c $(COMMON_OBJ) $(PROTO_OBJ) $(filter-out $(B)/obj/src/cli/main.o,$(CLI_OBJ))
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(SANFLAGS) -Itests/unit -o $@ $(filter %.c %.o,$^) $(CLI_LIBS)

# Unit tests of the runtime link its objects directly (no sanitizers: see RUNTIME_FLAGS).
$(B)/tests/unit/test_rt_%: tests/unit/test_rt_%.c $(RT_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(RUNTIME_FLAGS) -Itests/unit -o $@ $(filter %.c %.o,$^) $(LIBS_DW) -ldl -lpthread -lrt -lm

# Unit tests of the benchmark harness link its pure parts (flags, output).
$(B)/tests/unit/test_bench_%: tests/unit/test_bench_%.c $(B)/rt/src/bench/flags.o $(B)/rt/src/bench/output.o
	@mkdir -p $(dir $@)
	$(CC) $(RUNTIME_FLAGS) -Itests/unit -o $@ $(filter %.c %.o,$^) -lm

$(B)/fuzz/replay_%: fuzz/fuzz_%.c fuzz/replay.c $(COMMON_OBJ) $(PROTO_OBJ) $(filter-out $(B)/obj/src/cli/main.o,$(CLI_OBJ))
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(SANFLAGS) -o $@ $(filter %.c %.o,$^) $(CLI_LIBS)

# The endpoint's request layer is fuzzed on its own, with a fake backend.
$(B)/fuzz/replay_http: fuzz/fuzz_http.c fuzz/replay.c $(B)/obj/src/runtime/http_req.o $(COMMON_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(SANFLAGS) -o $@ $(filter %.c %.o,$^)

$(B)/bench/%: bench/%.c
	@mkdir -p $(dir $@)
	$(CC) -O2 -g -fomit-frame-pointer -std=gnu11 $(WARN) -D_GNU_SOURCE -o $@ $< -lpthread -lm

# The stack table's insert alone: linked with the runtime's object file, not the library.
$(B)/bench/bench_stacktab: bench/bench_stacktab.c $(B)/rt/src/runtime/stacktab.o
	@mkdir -p $(dir $@)
	$(CC) -O2 -g -std=gnu11 $(WARN) -D_GNU_SOURCE -Iinclude -Isrc -o $@ $^

test: all $(UNIT_BIN) $(PROG_BIN) $(BENCHPROG_BIN) $(B)/tests/progs/libdlwork.so $(FUZZ_REPLAY)
	@scripts/deps.sh test
	@tests/run.sh $(abspath $(B)) $(T)

demo: all
	@scripts/demo.sh $(abspath $(B))

bench: all $(BENCH_BIN) $(PROG_BIN) $(BENCHPROG_BIN)
	@scripts/deps.sh bench
	@bench/run.sh $(abspath $(B))

bench-heap: all $(BENCH_BIN)
	@scripts/deps.sh bench
	@bench/heap_run.sh $(abspath $(B))

bench-http: all $(BENCH_BIN) $(B)/tests/progs/http_busy
	@scripts/deps.sh bench
	@bench/http_bench.sh $(abspath $(B))

bench-continuous: all $(B)/tests/progs/svc_work
	@scripts/deps.sh bench
	@bench/continuous_bench.sh $(abspath $(B))

bench-wall: all $(BENCH_BIN) $(PROG_BIN)
	@bench/wall_run.sh $(abspath $(B))

bench-trace: all $(BENCH_BIN) $(PROG_BIN)
	@bench/trace_run.sh $(abspath $(B))

bench-stacktab: $(B)/bench/bench_stacktab
	@bench/stacktab_run.sh $(abspath $(B)) $(BASE)

bench-webui: all $(B)/bench/bench_bigprof
	@scripts/deps.sh bench
	@bench/webui_bench.sh $(abspath $(B))

bench-trace-viewer: all $(B)/tests/progs/trace_big_linked
	@scripts/deps.sh test
	@bench/trace_viewer_bench.sh $(abspath $(B))

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib/pkgconfig $(DESTDIR)$(PREFIX)/include
	install -m 755 $(CLI) $(DESTDIR)$(PREFIX)/bin/cprof
	install -m 755 $(LIBSO) $(DESTDIR)$(PREFIX)/lib/libcprof.so
	install -m 644 $(LIBA) $(DESTDIR)$(PREFIX)/lib/libcprof.a
	install -m 644 include/cprof.h $(DESTDIR)$(PREFIX)/include/cprof.h
	install -m 644 $(B)/lib/pkgconfig/cprof.pc $(DESTDIR)$(PREFIX)/lib/pkgconfig/cprof.pc
	install -d $(DESTDIR)$(PREFIX)/include/cprof $(DESTDIR)$(PREFIX)/share/cprof
	install -m 755 $(LIBBENCH_SO) $(DESTDIR)$(PREFIX)/lib/libcprof-bench.so
	install -m 644 $(LIBBENCH_A) $(DESTDIR)$(PREFIX)/lib/libcprof-bench.a
	install -m 644 include/cprof/bench.h $(DESTDIR)$(PREFIX)/include/cprof/bench.h
	install -m 644 $(B)/lib/pkgconfig/cprof-bench.pc $(DESTDIR)$(PREFIX)/lib/pkgconfig/cprof-bench.pc
	install -m 644 scripts/cprof.mk $(DESTDIR)$(PREFIX)/share/cprof/cprof.mk

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/cprof $(DESTDIR)$(PREFIX)/lib/libcprof.so \
		$(DESTDIR)$(PREFIX)/lib/libcprof.a $(DESTDIR)$(PREFIX)/include/cprof.h \
		$(DESTDIR)$(PREFIX)/lib/pkgconfig/cprof.pc
	rm -f $(DESTDIR)$(PREFIX)/lib/libcprof-bench.so $(DESTDIR)$(PREFIX)/lib/libcprof-bench.a \
		$(DESTDIR)$(PREFIX)/include/cprof/bench.h $(DESTDIR)$(PREFIX)/lib/pkgconfig/cprof-bench.pc \
		$(DESTDIR)$(PREFIX)/share/cprof/cprof.mk
	-rmdir $(DESTDIR)$(PREFIX)/include/cprof $(DESTDIR)$(PREFIX)/share/cprof 2>/dev/null

clean:
	rm -rf build build-san

-include $(shell find $(B) -name '*.d' 2>/dev/null)
