#!/usr/bin/env bash
# cpu_vdso.sh - samples whose leaf is in the vDSO (the kernel's code mapped
# into every process, with no file on disk) are named and mapped: the
# profile has a [vdso] mapping with a build id, and the clock function is
# named, with read_clock and main above it.
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

"$CPROF" run -q -cpuprofile="$T/vdso.prof" -- "$PROGS/vdso_loop" 30 >/dev/null 2>"$T/err"
if check_valid vdso "$T/vdso.prof"; then
	go tool pprof -raw "$T/vdso.prof" >"$T/raw" 2>/dev/null
	if grep -E '^ *[0-9]+: 0x[0-9a-f]+/0x[0-9a-f]+/0x[0-9a-f]+ \[vdso\] [0-9a-f]{40} \[FN\]' "$T/raw" >/dev/null; then
		pass vdso_mapping "[vdso] mapping with build id and named functions"
	else
		fail vdso_mapping "no [vdso] mapping with a build id and [FN]: $(grep -i vdso "$T/raw" | head -2 | tr '\n' ' ')"
	fi
	leaf=$(go tool pprof -top "$T/vdso.prof" 2>/dev/null | awk '/flat%/ { getline; print $6 }')
	case "$leaf" in
	*clock_gettime*) pass vdso_leaf_named "hottest function: $leaf" ;;
	*) fail vdso_leaf_named "hottest function is '$leaf', want the vDSO's clock_gettime" ;;
	esac
	pct=$(cum_pct read_clock "$T/vdso.prof")
	in_range vdso_stack_complete "$pct" 95 100 "read_clock cum% (stacks walk out of the vDSO)"
	in_range vdso_main "$(cum_pct main "$T/vdso.prof")" 99.5 100 "main cum%"
fi
