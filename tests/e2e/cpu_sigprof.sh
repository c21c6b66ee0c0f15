#!/usr/bin/env bash
# cpu_sigprof.sh - a program that uses SIGPROF and alarm() itself.
#
# tests/progs/sigprof_linked installs its own SIGPROF handler, arms
# setitimer(ITIMER_PROF) every 10 ms of CPU and alarm(1), and works
# (work_a, work_b: 50% each). While cprof samples the same process with
# SIGPROF from per-thread timers:
#   - the program's handler gets about one call per 10 ms of process CPU
#     (0.85..1.30 of user+system / 10 ms: none of its signals is lost to us,
#     and none of ours reaches it, which would double the count; on a busy
#     machine the kernel's ITIMER_PROF and getrusage disagree by up to ~15 %
#     upward), and a query of the disposition
#     returns the program's handler;
#   - alarm() still fires;
#   - our profile is valid and splits work_a/work_b 50/50 within 4 binomial
#     sigma.
# Three ways: handler installed with sigaction() and with signal() after
# profiling started (cprof run starts it when the library loads), and
# handler installed before profiling started through the C API.
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

UNIT_S=$(unit_seconds)
units=$(units_for 2.5)
info "sigprof_linked work: $units units (about 2.5s of CPU)"

# check_prog NAME OUTPUT PROFILE DELIVERIES
check_prog() {
	local name=$1 out=$2 prof=$3 n=$4 calls exp ratio
	calls=$(echo "$out" | sed -n 's/.*handler_calls=\([0-9]*\).*/\1/p')
	exp=$(echo "$out" | sed -n 's/.*expected=\([0-9]*\).*/\1/p')
	ratio=$(awk -v c="$calls" -v e="$exp" 'BEGIN { if (e > 0) printf "%.3f", c / e }')
	in_range "${name}_handler_calls" "$ratio" 0.85 1.30 \
		"program's SIGPROF handler calls / (CPU time / 10 ms) 0.85..1.30: $calls calls, $exp expected"
	case "$out" in
	*alarm=1*) pass "${name}_alarm" "alarm(1) fired once: $out" ;;
	*) fail "${name}_alarm" "'$out' (want alarm=1)" ;;
	esac
	case "$out" in
	*query_ok=1*) pass "${name}_disposition" "sigaction(SIGPROF, NULL, &old) returns the program's handler" ;;
	*) fail "${name}_disposition" "'$out' (want query_ok=1)" ;;
	esac
	check_valid "$name" "$prof" || return
	local a b bound
	a=$(cum_pct work_a "$prof")
	b=$(cum_pct work_b "$prof")
	bound=$(awk -v n="$n" 'BEGIN { b = n > 0 ? 400 * sqrt(0.25 / n) : 50; if (b < 3) b = 3; printf "%.1f", b }')
	in_range "${name}_split" "$(awk -v a="$a" -v b="$b" 'BEGIN { if (a + b > 0) printf "%.2f", 100 * a / (a + b) }')" \
		"$(awk -v b="$bound" 'BEGIN { print 50 - b }')" "$(awk -v b="$bound" 'BEGIN { print 50 + b }')" \
		"50±$bound % work_a of work_a+work_b (4 sigma at $n samples); work_a $a%, work_b $b%"
}

for mode in sigaction signal; do
	out=$("$CPROF" run -cpuprofile="$T/$mode.prof" -- "$PROGS/sigprof_linked" "$mode" "" "$units" 2>"$T/$mode.err")
	st=$?
	info "$mode: $out"
	if [ "$st" -ne 0 ]; then
		fail "sigprof_$mode" "cprof run exited $st: $(tail -n 3 "$T/$mode.err" | tr '\n' ' ')"
		continue
	fi
	check_prog "sigprof_$mode" "$out" "$T/$mode.prof" "$(run_deliveries "$T/$mode.err" "$T/$mode.prof")"
done

out=$("$PROGS/sigprof_linked" before "$T/before.prof" "$units" 2>"$T/before.err")
st=$?
info "before: $out"
if [ "$st" -ne 0 ]; then
	fail sigprof_before "exited $st: $(tail -n 3 "$T/before.err" | tr '\n' ' ')"
else
	case "$out" in
	*"start_rc=0 stop_rc=0"*) pass sigprof_before_api "cprof_cpu_profile_start_path and stop returned 0" ;;
	*) fail sigprof_before_api "'$out' (want start_rc=0 stop_rc=0)" ;;
	esac
	n=$(raw_totals "$T/before.prof" | cut -d' ' -f1)
	check_prog sigprof_before "$out" "$T/before.prof" "$n"
fi
