#!/usr/bin/env bash
# profiles_fork_exec.sh - the wall-clock, threads, block and mutex profiles
# live through fork, exec and fatal signals by the CPU profile's rules
# (cpu_fork_exec.sh, cpu_fatal.sh):
#
# fork: tests/progs/fork_exec_wait forks; the parent waits in parent_wait
# while the child waits in child_wait. FILE is the parent's profile and
# FILE.<childpid> the child's; each is valid and holds its own function and
# not the other's (wall, block with system calls), or exists and is valid
# (mutex, threads).
#
# exec: fork_exec_wait waits in pre_exec_wait (a helper thread in
# helper_wait), then execv's cpu_split (same pid). FILE holds the exec'd
# image (func_sixty, and not pre_exec_wait); FILE.preexec.<pid> the old image
# (pre_exec_wait; for the threads profile, the thread in execv and the
# helper). A lone thread calling exec (sh -c 'exec prog') leaves no threads
# FILE.preexec.<pid>, as a CPU profile without samples leaves none.
#
# SIGTERM to a program that leaves it at its default action
# (tests/progs/fatal_spin): every profile is written, then the signal ends
# the program (exit 143); the wall and threads profiles hold spin_forever.
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

# has_not NAME FILE PRESENT ABSENT: FILE names PRESENT and not ABSENT.
has_not() {
	local name=$1 f=$2 yes=$3 no=$4
	if has_func "$f" "$yes" && ! has_func "$f" "$no"; then
		pass "$name" "$(basename "$f"): $yes present, $no absent"
	else
		fail "$name" "$(basename "$f"): want $yes present and $no absent; $(go tool pprof -top "$f" 2>&1 | tail -n 6 | tr -s ' \n' ' ')"
	fi
}

flags() { # DIR: the profiles under test, written into DIR
	echo "-wallprofile=$1/wall.prof -threadsprofile=$1/threads.prof -blockprofile=$1/block.prof -mutexprofile=$1/mutex.prof -blocksyscalls"
}

# ---- fork ----
d=$T/fork
mkdir -p "$d"
# shellcheck disable=SC2046
child=$("$CPROF" run $(flags "$d") -- "$PROGS/fork_exec_wait" fork 2>"$d/err")
st=$?
if [ "$st" -ne 0 ] || ! is_num "$child"; then
	fail fork_run "cprof run exited $st, printed '$child': $(tail -n 3 "$d/err" | tr '\n' ' ')"
else
	for k in wall threads block mutex; do
		check_valid "fork_${k}_parent" "$d/$k.prof"
		check_valid "fork_${k}_child" "$d/$k.prof.$child"
	done
	has_not fork_wall_parent_own "$d/wall.prof" parent_wait child_wait
	has_not fork_wall_child_own "$d/wall.prof.$child" child_wait parent_wait
	has_not fork_block_parent_own "$d/block.prof" parent_wait child_wait
	has_not fork_block_child_own "$d/block.prof.$child" child_wait parent_wait
	n=$(grep -c '^cprof: wall profile of pid' "$d/err")
	in_range fork_wall_summary "$n" 2 2 "2 wall profiles reported by cprof run"
	n=$(grep -c '^cprof: threads profile of pid [0-9]* written to .*: [0-9]* threads*$' "$d/err")
	in_range fork_threads_summary "$n" 2 2 "2 threads profiles reported by cprof run, as a count of threads"
	no_temp_files "$d" fork_no_temp
fi

# ---- exec ----
d=$T/exec
mkdir -p "$d"
# shellcheck disable=SC2046
out=$("$CPROF" run $(flags "$d") -- "$PROGS/fork_exec_wait" exec "$PROGS/cpu_split" 300 2>"$d/err")
st=$?
pid=$(echo "$out" | awk '$1 == "pid" { print $2 }')
if [ "$st" -ne 0 ] || ! is_num "$pid"; then
	fail exec_run "cprof run exited $st, printed '$out': $(tail -n 3 "$d/err" | tr '\n' ' ')"
else
	for k in wall threads block; do
		check_valid "exec_${k}_image" "$d/$k.prof"
		check_valid "exec_${k}_preexec" "$d/$k.prof.preexec.$pid"
	done
	has_not exec_wall_image_own "$d/wall.prof" func_sixty pre_exec_wait
	has_not exec_wall_preexec_own "$d/wall.prof.preexec.$pid" pre_exec_wait func_sixty
	has_not exec_block_preexec_own "$d/block.prof.preexec.$pid" pre_exec_wait func_sixty
	has_not exec_threads_preexec_own "$d/threads.prof.preexec.$pid" execv func_sixty
	has_not exec_threads_preexec_helper "$d/threads.prof.preexec.$pid" helper_wait func_sixty
	if ! has_func "$d/threads.prof" execv; then
		pass exec_threads_image_own "threads.prof (the new image's, at its exit) has no execv"
	else
		fail exec_threads_image_own "threads.prof shows execv: the old image's threads"
	fi
	n=$(set -- "$d"/wall.prof*; echo $#)
	in_range exec_wall_files "$n" 2 2 "wall.prof and wall.prof.preexec.$pid; have $(files_in "$d")"
	no_temp_files "$d" exec_no_temp
fi

# ---- sh -c 'exec prog': a single-threaded image execs ----
d=$T/shexec
mkdir -p "$d"
"$CPROF" run -threadsprofile="$d/threads.prof" -- sh -c "exec '$PROGS/cpu_split' 100" >/dev/null 2>"$d/err"
st=$?
if [ "$st" -ne 0 ]; then
	fail shexec_run "cprof run exited $st: $(tail -n 3 "$d/err" | tr '\n' ' ')"
else
	check_valid shexec_threads "$d/threads.prof"
	in_range shexec_no_preexec "$(find "$d" -name 'threads.prof.preexec.*' | wc -l)" 0 0 "no threads.prof.preexec.* from the lone shell thread; have $(files_in "$d")"
fi

# ---- SIGTERM at its default action ----
d=$T/term
mkdir -p "$d"
# shellcheck disable=SC2046
"$CPROF" run -q $(flags "$d") -- "$PROGS/fatal_spin" "$d/pid" 100 >/dev/null 2>"$d/err" &
runpid=$!
for _ in $(seq 1 300); do [ -s "$d/pid" ] && break; sleep 0.1; done
if [ -s "$d/pid" ]; then
	kill -TERM "$(cat "$d/pid")"
	for _ in $(seq 300); do
		kill -0 "$runpid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$runpid" 2>/dev/null
	wait "$runpid"
	st=$?
	in_range sigterm_status "$st" 143 143 "cprof run's exit status 143 = 128+SIGTERM"
	for k in wall threads block mutex; do
		check_valid "sigterm_$k" "$d/$k.prof"
	done
	in_range sigterm_wall_spin "$(cum_pct spin_forever "$d/wall.prof")" 60 100 "spin_forever holds the main thread's wall time after its start, % cum (a dozen samples: one or two can fall in the start on a loaded machine)"
	if has_func "$d/threads.prof" spin_forever; then
		pass sigterm_threads_spin "the threads profile shows the main thread in spin_forever"
	elif go tool pprof -traces "$d/threads.prof" 2>/dev/null | grep -q 'no answer to the stack request'; then
		# A running thread answers a signal when it gets a CPU: on a loaded machine not always in time.
		pass sigterm_threads_spin "the main thread is in the profile (it did not answer in time: a loaded machine)"
	else
		fail sigterm_threads_spin "no spin_forever: $(go tool pprof -traces "$d/threads.prof" 2>&1 | head -c 400 | tr '\n' ' ')"
	fi
	no_temp_files "$d" sigterm_no_temp
else
	kill -KILL "$runpid" 2>/dev/null
	wait "$runpid" 2>/dev/null
	fail sigterm_run "fatal_spin did not start: $(head -c 300 "$d/err")"
fi
