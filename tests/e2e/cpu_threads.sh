#!/usr/bin/env bash
# cpu_threads.sh - two identical threads, and CPU totals.
#
# tests/progs/two_threads runs the same work in thread_a and thread_b.
# Every run must split 50±3 between them: five runs, each checked and
# printed. For 3 points to be 4 binomial sigma at p=0.5 a run needs 4444
# independent samples; at -hz=1000 the kernel delivers about 250 signals
# per thread per CPU-second (its tick), so each run does about 18 s of CPU
# (9 s on two cores). The samples, weighted by timer overruns, must also
# add up to the process's user+system time from wait4 (rusage_exec) within
# 5%; one more run checks that total at the default 100 Hz.
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

UNIT_S=$(unit_seconds)
info "one work unit: ${UNIT_S}s of CPU"

# run_two NAME HZ UNITS: profile two_threads; sets $prof, $ru and $err.
run_two() {
	local name=$1 hz=$2 units=$3 st
	prof=$T/$name.prof ru=$T/$name.ru err=$T/$name.err
	"$PROGS/rusage_exec" "$ru" "$CPROF" run -cpuprofile="$prof" -hz="$hz" -- "$PROGS/two_threads" "$units" \
		>/dev/null 2>"$err"
	st=$?
	if [ "$st" -ne 0 ]; then
		fail "$name" "cprof run exited $st: $(tail -n 3 "$err" | tr '\n' ' ')"
		return 1
	fi
	check_valid "$name" "$prof"
}

# cpu_total NAME: sampled CPU over user+system of the last run_two.
cpu_total() {
	local ns cpu
	ns=$(raw_totals "$prof" | cut -d' ' -f2)
	cpu=$(cpu_seconds "$ru")
	in_range "$1" "$(awk -v ns="$ns" -v c="$cpu" 'BEGIN { if (c > 0) printf "%.3f", ns / 1e9 / c }')" 0.95 1.05 \
		"sampled/(user+sys) 0.95..1.05; sampled $(awk -v ns="$ns" 'BEGIN { printf "%.2f", ns / 1e9 }')s of ${cpu}s, 2 threads"
}

units=$(units_for 9.2)
info "5 runs of two_threads $units at -hz=1000 (about 9.2s of CPU per thread)"
for run in 1 2 3 4 5; do
	run_two "two_threads_1000hz_run$run" 1000 "$units" || continue
	a=$(cum_pct thread_a "$prof")
	b=$(cum_pct thread_b "$prof")
	n=$(run_deliveries "$err" "$prof")
	[ "$run" -eq 1 ] && binomial_note 0.5 "$n" 3
	in_range "two_threads_split_run$run" "$(awk -v a="$a" -v b="$b" 'BEGIN { if (a + b > 0) printf "%.2f", 100 * a / (a + b) }')" \
		47 53 "50±3 % thread_a of thread_a+thread_b; thread_a $a%, thread_b $b%, $n signals"
	cpu_total "two_threads_1000hz_run${run}_cpu_total"
done

units=$(units_for 3)
info "two_threads $units at 100 Hz (about 3s of CPU per thread)"
if run_two two_threads_100hz 100 "$units"; then
	cpu_total two_threads_100hz_cpu_total
fi
