#!/usr/bin/env bash
# heap_own_writers.sh - the runtime's own writing stays out of the program's
# heap: a heap profile at rate 1 (every allocation recorded) of a program
# that, while it runs, writes its block, mutex, threads and threadcreate
# profiles (proto and text), a thread dump, a wall-clock profile (its
# sampler walks blocked threads with libdwfl) and an execution trace with
# stacks, shows the program's own allocations and nothing of that writing:
# the profiles, their symbols, libdw's tables, the sampler's tables and the
# trace writer's buffers come from the runtime's private arena. What is
# left is the program's (main_alloc, stdio) and the runtime's threads being
# started (pthread_create, the trace's one look at /proc/cpuinfo), which
# are not writing, and libcrypto's exit handler (libcurl's dependency).
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

mkdir -p "$T/out"
if ! CPROF_MEMPROFILE=$T/heap.pb.gz CPROF_MEM_RATE=1 "$PROGS/own_heap_linked" "$T/out" >"$T/run.out" 2>"$T/run.err"; then
	fail heap_own_writers_run "own_heap_linked failed: $(head -c 300 "$T/run.err" | tr '\n' ' ')"
	exit 0
fi
check_valid heap_own_writers "$T/heap.pb.gz"
for f in wall.pb.gz block.0 mutex.0 threads.0; do
	check_valid "heap_own_writers_$f" "$T/out/$f"
done

# bytes [pprof options...]: alloc_space in bytes of the samples the options keep.
bytes() {
	go tool pprof -top -unit=B -sample_index=alloc_space "$@" "$T/heap.pb.gz" 2>/dev/null |
		sed -n 's/^Showing nodes accounting for \([0-9]*\)B*,.*/\1/p'
}
prog=$(bytes -focus='^main_alloc$')
in_range heap_own_writers_program "$prog" 100000 100000 "the program's 1000 blocks of 100 bytes: 100000 bytes"
other=$(bytes -ignore='^(main_alloc|pthread_create|setup_once|_IO_puts|OPENSSL_cleanup)$')
if [ "$other" = 0 ]; then
	pass heap_own_writers_none "no allocation of the runtime's writers in the heap profile"
else
	fail heap_own_writers_none "$other bytes from elsewhere: $(go tool pprof -top -sample_index=alloc_space \
		-ignore='^(main_alloc|pthread_create|setup_once|_IO_puts|OPENSSL_cleanup)$' "$T/heap.pb.gz" 2>/dev/null |
		awk '$5 ~ /%$/ { print $6 }' | head -8 | tr '\n' ' ')"
fi
