#!/usr/bin/env bash
# cpu_fatal.sh - programs ended by a signal while profiling.
#
# tests/progs/fatal_spin spins until killed, leaving SIGINT, SIGTERM and
# SIGHUP at their default action; it writes its pid to a file once it has
# done some work. Under "cprof run -cpuprofile=FILE":
#   - SIGTERM (sent to cprof run, which forwards it) and SIGINT (sent to the
#     program): the runtime writes a valid profile holding spin_forever, then
#     dies of the signal; cprof run exits 128+signal;
#   - SIGKILL: no profile and no temporary file (the write is atomic), exit
#     137, and cprof run says that no profile was written.
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

# wait_pidfile FILE: wait up to 30 s for the program to be ready.
wait_pidfile() {
	for _ in $(seq 300); do
		[ -s "$1" ] && return 0
		sleep 0.1
	done
	return 1
}

# fatal NAME SIGNAL TARGET(cprof|prog) WANT_STATUS
fatal() {
	local name=$1 sig=$2 target=$3 want=$4 d=$T/$1 runpid pid st
	mkdir -p "$d"
	# A background job starts with SIGINT ignored; the program must see the default.
	env --default-signal=INT "$CPROF" run -cpuprofile="$d/cpu.prof" -- "$PROGS/fatal_spin" "$d/pid" 300 \
		>/dev/null 2>"$d/err" &
	runpid=$!
	if ! wait_pidfile "$d/pid"; then
		fail "$name" "the program never got ready"
		kill -KILL "$runpid" 2>/dev/null
		wait "$runpid" 2>/dev/null
		return
	fi
	pid=$(cat "$d/pid")
	if [ "$target" = cprof ]; then kill "-$sig" "$runpid"; else kill "-$sig" "$pid"; fi
	for _ in $(seq 300); do
		kill -0 "$runpid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$runpid" 2>/dev/null; then
		fail "$name" "still running 30 s after SIG$sig; killed"
		kill -KILL "$pid" "$runpid" 2>/dev/null
		wait "$runpid" 2>/dev/null
		return
	fi
	wait "$runpid"
	st=$?
	in_range "${name}_status" "$st" "$want" "$want" "cprof run's exit status $want = 128+SIG$sig (sent to $target)"
	if [ "$sig" = KILL ]; then
		local left
		left=$(files_in "$d")
		if [ -z "$left" ]; then
			pass "${name}_nothing_written" "no profile and no temporary file"
		else
			fail "${name}_nothing_written" "files left: $left"
		fi
		if grep -q 'no CPU profile was written' "$d/err"; then
			pass "${name}_said" "$(grep 'no CPU profile' "$d/err")"
		else
			fail "${name}_said" "cprof run's stderr: '$(tr '\n' ' ' <"$d/err")' (want 'no CPU profile was written')"
		fi
		return
	fi
	check_valid "$name" "$d/cpu.prof" || return
	in_range "${name}_spin" "$(cum_pct spin_forever "$d/cpu.prof")" 95 100 "spin_forever holds the samples, % cum"
	no_temp_files "$d" "${name}_no_temp"
}

fatal sigterm TERM cprof 143
fatal sigint INT prog 130
fatal sigkill KILL prog 137
