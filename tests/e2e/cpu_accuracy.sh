#!/usr/bin/env bash
# cpu_accuracy.sh - the CPU profiler's split of a known workload.
#
# tests/progs/cpu_split (-O2, no frame pointers) spends 60/30/10% of its
# work in func_sixty/func_thirty/func_ten. Under "cprof run -cpuprofile"
# each function's cum share must be within 3 points of the truth and main
# must be at 100% cumulative within 0.5 point (every stack unwound to main
# through code without frame pointers), at the default 100 Hz and at
# -hz=1000 (above this kernel's 250 Hz tick: samples weighted by overruns).
#
# Sample size: a share p estimated from N independent samples has a
# binomial standard error sqrt(p(1-p)/N); for 3 points to be 4 sigma at
# p=0.6, N >= 4267. (Samples from CPU-time timers are more regular than
# independent draws, so this is the pessimistic model.) Two copies run side
# by side on the two cores and their profiles are read merged; at 1000 Hz
# the kernel delivers about 250 signals per CPU-second, which is what
# counts here, not the overrun-weighted sample values.
#
# Each run also goes through rusage_exec, so its sampled CPU total is
# checked against the kernel's user+system time (within 5%).
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

UNIT_S=$(unit_seconds)
info "one work unit: ${UNIT_S}s of CPU"

# accuracy HZ DELIVERED_PER_CPU_SECOND
accuracy() {
	local hz=$1 rate=$2 want=4600 secs units i pids=() st
	secs=$(awk -v n="$want" -v r="$rate" 'BEGIN { printf "%.1f", n / r / 2 }')
	units=$(units_for "$secs")
	units=$(( (units + 99) / 100 * 100 )) # cpu_split splits units in hundredths
	info "hz=$hz: two runs of cpu_split $units (about ${secs}s of CPU each)"
	for i in 1 2; do
		"$PROGS/rusage_exec" "$T/ru.$hz.$i" "$CPROF" run -cpuprofile="$T/split.$hz.$i.prof" -hz="$hz" -- \
			"$PROGS/cpu_split" "$units" >/dev/null 2>"$T/err.$hz.$i" &
		pids+=($!)
	done
	for i in 1 2; do
		wait "${pids[$((i - 1))]}"
		st=$?
		if [ "$st" -ne 0 ]; then
			fail "split_${hz}hz_run$i" "cprof run exited $st: $(tail -n 3 "$T/err.$hz.$i" | tr '\n' ' ')"
			return
		fi
		check_valid "split_${hz}hz_run$i" "$T/split.$hz.$i.prof" || return
		local tot ns cpu
		tot=$(raw_totals "$T/split.$hz.$i.prof")
		ns=${tot#* }
		cpu=$(cpu_seconds "$T/ru.$hz.$i")
		in_range "split_${hz}hz_run${i}_cpu_total" "$(awk -v ns="$ns" -v c="$cpu" 'BEGIN { printf "%.3f", ns / 1e9 / c }')" \
			0.95 1.05 "sampled/(user+sys) 0.95..1.05; sampled $(awk -v ns="$ns" 'BEGIN { printf "%.2f", ns / 1e9 }')s of ${cpu}s"
	done
	local n=0
	for i in 1 2; do
		n=$((n + $(run_deliveries "$T/err.$hz.$i" "$T/split.$hz.$i.prof")))
	done
	binomial_note 0.6 "$n" 3
	local files=("$T/split.$hz.1.prof" "$T/split.$hz.2.prof")
	in_range "split_${hz}hz_sixty" "$(cum_pct func_sixty "${files[@]}")" 57 63 "60±3 % cum, func_sixty"
	in_range "split_${hz}hz_thirty" "$(cum_pct func_thirty "${files[@]}")" 27 33 "30±3 % cum, func_thirty"
	in_range "split_${hz}hz_ten" "$(cum_pct func_ten "${files[@]}")" 7 13 "10±3 % cum, func_ten"
	in_range "split_${hz}hz_main" "$(cum_pct main "${files[@]}")" 99.5 100 "100 % cum within 0.5, main"
}

accuracy 100 100
accuracy 1000 250
