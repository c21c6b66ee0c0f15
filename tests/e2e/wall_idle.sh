#!/usr/bin/env bash
# wall_idle.sh - a wall-clock profile of 32 mostly idle threads (tests/progs/
# wall_idle: nanosleep, poll, sem_timedwait, select and epoll_wait, calls
# that return EINTR when any signal handler runs, SA_RESTART or not) and a
# computing main thread: the program must see no EINTR at all; every thread
# is in the profile for the whole run (the wall total is threads x
# duration); each kind of wait shows as its own state, a fifth of the
# blocked time each; go
# tool pprof reads it. Then the same at 1000 Hz.
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

run() { # name hz
	local n=$1 hz=$2 out
	out=$(LD_PRELOAD=$CPROF_BUILD/lib/libcprof.so CPROF_WALLPROFILE=$T/$n.prof CPROF_WALL_HZ=$hz \
		"$PROGS/wall_idle" 2 2>"$T/err")
	info "$n: $out"
	in_range "${n}_eintr" "$(sed -n 's/.*eintr=\([0-9]*\).*/\1/p' <<<"$out")" 0 0 \
		"waits of the 32 idle threads cut short by EINTR"
	check_valid "$n" "$T/$n.prof" || return
	local dur total
	dur=$(go tool pprof -raw "$T/$n.prof" 2>/dev/null | awk '/^Duration:/ { print $2 }')
	total=$(raw_totals "$T/$n.prof" | cut -d' ' -f2)
	# Duration is printed as h:mm:ss.ss or similar: take it from the proto instead.
	dur=$(go tool pprof -top "$T/$n.prof" 2>/dev/null | awk '/^Duration:/ { v = $2; sub(/,$/, "", v); print v }')
	local secs
	secs=$(awk -v d="$dur" 'BEGIN { if (d ~ /ms$/) { sub(/ms$/, "", d); print d / 1000 } else if (d ~ /s$/) { sub(/s$/, "", d); print d } else print 0 }')
	in_range "${n}_total" "$(awk -v t="$total" -v s="$secs" 'BEGIN { printf "%.3f\n", (s > 0 ? t / (33 * s * 1e9) : 0) }')" 0.90 1.02 \
		"wall total / (33 threads x ${secs}s profile duration)"
	# Each kind of wait is a fifth of the blocked time (a loaded machine
	# moves time from blocked to running, waiting for a CPU, for all alike).
	local tags st pct
	tags=$(go tool pprof -tags "$T/$n.prof" 2>/dev/null | awk '/^ *state:/ { p = 1; next } /^ *[a-z]+:/ { p = 0 }
		p && NF >= 3 { v = $(NF - 1); gsub(/[():%]/, "", v); print $NF, v }')
	for st in clock_nanosleep poll futex pselect6 epoll_wait; do
		pct=$(awk -v s="$st" '$1 ~ /^(clock_nanosleep|poll|futex|pselect6|epoll_wait)$/ { t += $2 } $1 == s { v = $2 }
			END { if (t > 0) printf "%.1f\n", 100 * v / t }' <<<"$tags")
		in_range "${n}_state_$st" "$pct" 14 26 "state=$st share of the five waits' time: 20% (one fifth of the idle threads each)"
	done
	info "${n} states: $(tr '\n' ' ' <<<"$tags")"
}

run wall_idle 100
run wall_idle_1000hz 1000
