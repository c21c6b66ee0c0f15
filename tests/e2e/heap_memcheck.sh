#!/usr/bin/env bash
# heap_memcheck.sh - a program linked with -lcprof, with the heap profiler
# never turned on, runs clean under valgrind's memcheck: free reads nothing
# outside the block (it looks for a sampled block's mark before the pointer
# only once the heap profiler has sampled in the process). The allocation
# family at many sizes and alignments, alone, with exact counting on, and
# with a CPU profile written in the middle of the run (its writer's blocks
# come from the runtime's private arena and are freed by address); and the
# runtime preloaded into a program that does not link it (sort).
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

if ! command -v valgrind >/dev/null 2>&1; then
	fail heap_memcheck "valgrind is not installed (scripts/deps.sh test)"
	exit 0
fi

for mode in plain counting cpu; do
	rc=0
	timeout 300 valgrind -q --error-exitcode=99 --leak-check=no \
		"$PROGS/memcheck_linked" "$mode" "$T" >"$T/$mode.out" 2>"$T/$mode.err" || rc=$?
	n=$(grep -c '^==[0-9]*== [A-Z]' "$T/$mode.err")
	if [ "$rc" = 0 ] && [ "$n" = 0 ] && grep -q '^sum [0-9]' "$T/$mode.out"; then
		pass "heap_memcheck_$mode" "no memcheck errors (exit 0)"
	else
		fail "heap_memcheck_$mode" "exit $rc, $n reports: $(grep -m2 -A2 '^==[0-9]*== [A-Z]' "$T/$mode.err" | tr '\n' ' ')"
	fi
done

# The runtime preloaded (as cprof run does) into a program that does not link it: sort's allocations.
seq 1 20000 | awk '{ printf "%x line %d\n", ($1 * 7919) % 65521, $1 }' >"$T/words"
rc=0
LD_PRELOAD=$CPROF_BUILD/lib/libcprof.so timeout 300 valgrind -q --error-exitcode=99 --leak-check=no \
	sort "$T/words" >"$T/sorted" 2>"$T/sort.err" || rc=$?
n=$(grep -c '^==[0-9]*== [A-Z]' "$T/sort.err")
if [ "$rc" = 0 ] && [ "$n" = 0 ] && [ "$(wc -l <"$T/sorted")" = 20000 ]; then
	pass heap_memcheck_preload "sort with libcprof.so preloaded: no memcheck errors (exit 0)"
else
	fail heap_memcheck_preload "exit $rc, $n reports: $(grep -m2 -A2 '^==[0-9]*== [A-Z]' "$T/sort.err" | tr '\n' ' ')"
fi

# Counting still sees every free on the path that reads nothing before the block.
read -r _ mallocs _ frees <<<"$(grep '^mallocs' "$T/counting.out")"
if is_num "${frees:-}" && [ "$frees" -ge 1300 ] && [ "$frees" -le "$mallocs" ] && [ $((mallocs - frees)) -le 2 ]; then
	pass heap_memcheck_counts "mallocs $mallocs, frees $frees (want >= 1300 frees, at most 2 blocks kept by libc)"
else
	fail heap_memcheck_counts "mallocs ${mallocs:-?}, frees ${frees:-?} (want >= 1300 frees, at most 2 blocks kept by libc)"
fi
check_valid heap_memcheck_cpu "$T/mid.prof"
