#!/usr/bin/env bash
# cpu_allocators.sh - programs that use another allocator (tcmalloc from
# gperftools, jemalloc) preloaded with the runtime: profiling works, samples
# land inside the allocator and unwind out of it, accuracy holds, and the
# runtime's own allocations (when writing the profile) go through it too.
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

libdir=$(dirname "$(ldconfig -p 2>/dev/null | awk '/libc.so.6 .*x86-64/ { print $NF; exit }')")
UNIT_S=$(unit_seconds)
units=$(units_for 2)
tested=0
for alloc in libtcmalloc.so.4 libjemalloc.so.2; do
	lib=$libdir/$alloc
	if [ ! -e "$lib" ]; then
		info "$alloc not installed (scripts/deps.sh test installs it); skipped"
		continue
	fi
	tested=$((tested + 1))
	name=${alloc%%.so*}
	# The runtime straight from the environment (not through cprof run, whose
	# own binary may be a sanitizer build that must not get LD_PRELOAD).
	LD_PRELOAD="$CPROF_BUILD/lib/libcprof.so:$lib" CPROF_CPUPROFILE="$T/$name-churn.prof" CPROF_CPU_HZ=1000 \
		"$PROGS/alloc_churn" 2 >"$T/out" 2>"$T/err"
	st=$?
	if [ $st -eq 0 ] && grep -q blocks= "$T/out"; then
		pass "${name}_churn_run" "exit 0 under $alloc"
	else
		fail "${name}_churn_run" "exit $st: $(tail -n 3 "$T/err" | tr '\n' ' ')"
	fi
	if check_valid "${name}_churn" "$T/$name-churn.prof"; then
		in_range "${name}_churn_stacks" "$(cum_pct churn_thread "$T/$name-churn.prof")" 95 100 \
			"churn_thread cum% (stacks unwind out of the allocator)"
	fi
	LD_PRELOAD="$CPROF_BUILD/lib/libcprof.so:$lib" CPROF_CPUPROFILE="$T/$name-split.prof" CPROF_CPU_HZ=1000 \
		"$PROGS/cpu_split" "$units" >/dev/null 2>"$T/err"
	if check_valid "${name}_split" "$T/$name-split.prof"; then
		in_range "${name}_split_sixty" "$(cum_pct func_sixty "$T/$name-split.prof")" 55 65 "func_sixty cum% (truth 60)"
		in_range "${name}_split_main" "$(cum_pct main "$T/$name-split.prof")" 99.5 100 "main cum%"
	fi
done
[ $tested -gt 0 ] || fail allocators_none "neither tcmalloc nor jemalloc is installed"
