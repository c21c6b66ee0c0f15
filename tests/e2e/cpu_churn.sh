#!/usr/bin/env bash
# cpu_churn.sh - thousands of short threads under -hz=1000.
#
# tests/progs/thread_churn starts 5000 threads, four at a time, each doing
# about 1.2 ms of work in churn_work. Every thread gets a timer when it
# starts and loses it when it ends. It must not crash or hang (a 120 s
# limit), must finish all threads, and the profile must be valid with
# samples in churn_work.
#
# The sampled total must match the CPU time: each timer starts at a random
# phase, and the periods of a thread's last moments (never delivered: the
# kernel checks CPU timers at ticks) are counted when it ends. What is left
# out is thread creation and exit before and after the timer exists, about
# 4% of this program's time (its system time); the bound is 88-105%.
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

UNIT_S=$(unit_seconds)
per=$(units_for 0.0012)
[ "$per" -lt 3 ] && per=3
out=$(timeout -k 5 120 "$PROGS/rusage_exec" "$T/ru" "$CPROF" run -cpuprofile="$T/churn.prof" -hz=1000 -- \
	"$PROGS/thread_churn" 5000 "$per" 2>"$T/err")
st=$?
if [ "$st" -eq 124 ] || [ "$st" -eq 137 ]; then
	fail churn_run "hung: killed after 120 s"
elif [ "$st" -ne 0 ]; then
	fail churn_run "exited $st: $(tail -n 3 "$T/err" | tr '\n' ' ')"
else
	pass churn_run "exit 0, $out"
fi
in_range churn_threads "$(echo "$out" | sed -n 's/threads=//p')" 5000 5000 "5000 threads created and joined"
if check_valid churn "$T/churn.prof"; then
	tot=$(raw_totals "$T/churn.prof")
	n=${tot% *}
	in_range churn_samples "$n" 1 1e12 "samples present (weighted count)"
	if has_func "$T/churn.prof" churn_work; then
		pass churn_work_sampled "churn_work in the samples, $(cum_pct churn_work "$T/churn.prof")% cum"
	else
		fail churn_work_sampled "no sample in churn_work"
	fi
	cpu=$(cpu_seconds "$T/ru")
	ratio=$(awk -v ns="${tot#* }" -v cpu="$cpu" 'BEGIN { printf "%.3f", ns / 1e9 / cpu }')
	in_range churn_cpu_total "$ratio" 0.88 1.05 "sampled CPU / user+sys of 5000 short threads"
	info "sampled $(awk -v ns="${tot#* }" 'BEGIN { printf "%.2f", ns / 1e9 }')s of ${cpu}s user+sys; $(grep '^cprof: cpu profile' "$T/err")"
fi
no_temp_files "$T" churn_no_temp
