# cprof.mk - profiling targets for a project's own Makefile.
#
#   include $(shell pkg-config --variable=mkfile cprof-bench)
#
# Name what to profile with one of:
#   CPROF_BENCH = ./parse_bench   a benchmark binary built with libcprof-bench:
#                                 profiles come from its own flags (-cpuprofile)
#   CPROF_PROG  = ./server        any other program: run under `cprof run`
# and optionally:
#   CPROF_ARGS   its arguments (default for a benchmark binary: -bench=.)
#   CPROF_OUT    where profiles go (default cprof-out)
#   CPROF_REPORT what `cprof pprof` prints afterwards (default -top)
#   CPROF        the cprof command (default cprof)
#   CPROF_MEMRATE  heap sampling: one sample per N bytes (default 524288;
#                1 records every allocation)
#   CPROF_HTTP   where profile-serve listens (default localhost:8080)
#   CPROF_SERVE  the profile it serves (default $(CPROF_OUT)/cpu.pprof)
#   CPROF_SERVE_FLAGS  more flags for it (e.g. -no_browser)
#
# Targets:
#   profile-cpu   CPU profile -> $(CPROF_OUT)/cpu.pprof, then a report
#   profile-mem   allocation profile -> $(CPROF_OUT)/mem.pprof, then a report
#                 of the bytes allocated (alloc_space)
#   profile-block block and mutex profiles -> $(CPROF_OUT)/block.pprof and
#                 mutex.pprof (where threads waited, and what made them), reports
#   trace         execution trace -> $(CPROF_OUT)/trace.out, then its events
#                 as Chrome trace JSON in $(CPROF_OUT)/trace.json (Perfetto UI
#                 and chrome://tracing open it)
#   profile-serve the web UI of cprof pprof -http on $(CPROF_SERVE)
#
# The program is a prerequisite of each target, so make builds it first.

CPROF ?= cprof
CPROF_OUT ?= cprof-out
CPROF_REPORT ?= -top
CPROF_MEMRATE ?= 524288
CPROF_HTTP ?= localhost:8080
CPROF_SERVE ?= $(CPROF_OUT)/cpu.pprof
CPROF_SERVE_FLAGS ?=

ifneq ($(strip $(CPROF_BENCH)),)
CPROF_TARGET_ := $(CPROF_BENCH)
CPROF_ARGS ?= -bench=.
cprof_cpu_cmd_ = $(CPROF_BENCH) $(CPROF_ARGS) -cpuprofile=$(CPROF_OUT)/cpu.pprof
cprof_mem_cmd_ = $(CPROF_BENCH) $(CPROF_ARGS) -memprofile=$(CPROF_OUT)/mem.pprof -memprofilerate=$(CPROF_MEMRATE)
cprof_block_cmd_ = $(CPROF_BENCH) $(CPROF_ARGS) -blockprofile=$(CPROF_OUT)/block.pprof -mutexprofile=$(CPROF_OUT)/mutex.pprof
cprof_trace_cmd_ = $(CPROF_BENCH) $(CPROF_ARGS) -trace=$(CPROF_OUT)/trace.out
else
CPROF_TARGET_ := $(CPROF_PROG)
cprof_cpu_cmd_ = $(CPROF) run -cpuprofile=$(CPROF_OUT)/cpu.pprof -- $(CPROF_PROG) $(CPROF_ARGS)
cprof_mem_cmd_ = $(CPROF) run -memprofile=$(CPROF_OUT)/mem.pprof -memprofilerate=$(CPROF_MEMRATE) -- $(CPROF_PROG) $(CPROF_ARGS)
cprof_block_cmd_ = $(CPROF) run -blockprofile=$(CPROF_OUT)/block.pprof -mutexprofile=$(CPROF_OUT)/mutex.pprof -- $(CPROF_PROG) $(CPROF_ARGS)
cprof_trace_cmd_ = $(CPROF) run -trace=$(CPROF_OUT)/trace.out -- $(CPROF_PROG) $(CPROF_ARGS)
endif

.PHONY: profile-cpu profile-mem profile-block trace profile-serve cprof-check-

cprof-check-:
	@test -n "$(strip $(CPROF_TARGET_))" || \
		{ echo "cprof.mk: set CPROF_BENCH (a libcprof-bench binary) or CPROF_PROG (a program)" >&2; exit 2; }
	@mkdir -p $(CPROF_OUT)

profile-cpu: cprof-check- $(CPROF_TARGET_)
	$(cprof_cpu_cmd_)
	$(CPROF) pprof $(CPROF_REPORT) $(CPROF_TARGET_) $(CPROF_OUT)/cpu.pprof

profile-mem: cprof-check- $(CPROF_TARGET_)
	$(cprof_mem_cmd_)
	$(CPROF) pprof -sample_index=alloc_space $(CPROF_REPORT) $(CPROF_TARGET_) $(CPROF_OUT)/mem.pprof

profile-block: cprof-check- $(CPROF_TARGET_)
	$(cprof_block_cmd_)
	$(CPROF) pprof $(CPROF_REPORT) $(CPROF_TARGET_) $(CPROF_OUT)/block.pprof
	$(CPROF) pprof $(CPROF_REPORT) $(CPROF_TARGET_) $(CPROF_OUT)/mutex.pprof

trace: cprof-check- $(CPROF_TARGET_)
	$(cprof_trace_cmd_)
	$(CPROF) trace -format=json $(CPROF_OUT)/trace.out > $(CPROF_OUT)/trace.json
	@echo "cprof.mk: trace in $(CPROF_OUT)/trace.out; Chrome trace events in $(CPROF_OUT)/trace.json"

profile-serve: cprof-check-
	@test -f $(CPROF_SERVE) || { echo "cprof.mk: no $(CPROF_SERVE) yet: run make profile-cpu first" >&2; exit 2; }
	$(CPROF) pprof -http=$(CPROF_HTTP) $(CPROF_SERVE_FLAGS) $(CPROF_TARGET_) $(CPROF_SERVE)
