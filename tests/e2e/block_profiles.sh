#!/usr/bin/env bash
# block_profiles.sh - the block and mutex profiles against waits of known
# length (tests/progs/block_sync.c, block_syscalls.c): each wait shows under
# the function that waited (block) or the critical section that made it
# wait (mutex), with its delay; a lock four threads fight over shows the
# delay the program measured around its own lock calls; an uncontended
# lock shows nowhere; the wrappers leave error codes, errno and
# cancellation as the C library does; the same under jemalloc and tcmalloc.
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

# delay_ms FILE FUNC [pprof flags...]: FUNC's cumulative delay in ms (0 when absent).
delay_ms() {
	local f=$1 fn=$2
	shift 2
	go tool pprof -top -cum -nodefraction=0 -nodecount=100000 -sample_index=delay -unit=ms "$@" "$f" 2>/dev/null |
		awk -v fn="$fn" '
		$5 ~ /%$/ {
			name = $6
			for (i = 7; i <= NF; i++) name = name " " $i
			if (name == fn) { v = $4; sub(/ms$/, "", v); print v; found = 1; exit }
		}
		END { if (!found) print 0 }'
}

# ratio A B: A/B with 3 decimals (0 when B is 0).
ratio() {
	awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f\n", (b > 0 ? a / b : 0) }'
}

# sample_types FILE: the profile's sample types, as go tool pprof -raw prints them.
sample_types() {
	go tool pprof -raw "$1" 2>/dev/null | awk '/^Samples:/ { getline; print; exit }'
}

# check_sync NAME BLOCK MUTEX OUT: every known wait of block_sync in the two profiles.
check_sync() {
	local n=$1 b=$2 m=$3 out=$4
	check_valid "${n}_block" "$b" || return
	check_valid "${n}_mutex" "$m" || return
	local want="contentions/count delay/nanoseconds"
	for f in "$b" "$m"; do
		local st
		st=$(sample_types "$f" | xargs)
		if [ "$st" = "$want" ]; then
			pass "${n}_types_$(basename "$f" .prof)" "sample types $st"
		else
			fail "${n}_types_$(basename "$f" .prof)" "sample types '$st', want '$want'"
		fi
	done
	in_range "${n}_cond" "$(delay_ms "$b" cond_waiter -tagfocus=reason=pthread_cond_wait)" 250 600 \
		"ms under cond_waiter, reason pthread_cond_wait (truth ~300)"
	local measured
	measured=$(awk -F= '/^fight_measured_ns=/ { printf "%.3f\n", $2 / 1e6 }' "$out")
	info "fight: the program measured ${measured} ms in its own lock calls"
	in_range "${n}_fight_block" "$(ratio "$(delay_ms "$b" fight_critical -tagfocus=reason=pthread_mutex_lock)" "$measured")" \
		0.9 1.1 "block delay under fight_critical / measured (truth 1)"
	in_range "${n}_fight_mutex" "$(ratio "$(delay_ms "$m" fight_critical)" "$measured")" 0.9 1.1 \
		"mutex delay under fight_critical / measured (truth 1)"
	in_range "${n}_labels_block" "$(delay_ms "$b" cond_waiter -tagfocus=phase=cond)" 250 600 \
		"ms under cond_waiter with its thread's label phase=cond (truth ~300)"
	in_range "${n}_labels_mutex" "$(ratio "$(delay_ms "$m" fight_critical -tagfocus=phase=fight)" "$measured")" 0.9 1.1 \
		"mutex delay under fight_critical with label phase=fight / measured (truth 1)"
	in_range "${n}_labels_none" "$(delay_ms "$b" fight_critical -tagfocus=phase=cond)" 0 0 \
		"ms under fight_critical with label phase=cond (truth 0)"
	if has_func "$b" uncontended_loop || has_func "$m" uncontended_loop; then
		fail "${n}_uncontended" "uncontended_loop appears in a profile"
	else
		pass "${n}_uncontended" "100,000 uncontended lock/unlock pairs appear in neither profile"
	fi
	local waited
	waited=$(delay_ms "$b" wait_short)
	in_range "${n}_attr_block" "$waited" 150 500 "ms wait_short waited (truth ~200)"
	in_range "${n}_attr_holder" "$(ratio "$(delay_ms "$m" hold_long)" "$waited")" 0.9 1.01 \
		"mutex delay charged to hold_long / wait_short's wait (truth 1: the holder made it wait)"
	in_range "${n}_attr_waiter" "$(delay_ms "$m" wait_short)" 0 20 "ms charged to wait_short's own critical section"
	in_range "${n}_rwlock_block" "$(delay_ms "$b" rw_reader -tagfocus=reason=pthread_rwlock_rdlock)" 100 450 \
		"ms under rw_reader, reason pthread_rwlock_rdlock (truth ~150)"
	in_range "${n}_rwlock_mutex" "$(delay_ms "$m" rw_writer)" 100 450 "ms charged to rw_writer (truth ~150)"
	in_range "${n}_sem" "$(delay_ms "$b" sem_waiter -tagfocus=reason=sem_wait)" 100 450 \
		"ms under sem_waiter, reason sem_wait (truth ~150)"
	in_range "${n}_join" "$(delay_ms "$b" join_waiter -tagfocus=reason=pthread_join)" 100 450 \
		"ms under join_waiter, reason pthread_join (truth ~150)"
	in_range "${n}_barrier" "$(delay_ms "$b" barrier_early -tagfocus=reason=pthread_barrier_wait)" 100 450 \
		"ms under barrier_early, reason pthread_barrier_wait (truth ~150)"
}

# Through cprof run, every event recorded.
if cprof_run "$T/err" -blockprofile="$T/block.prof" -mutexprofile="$T/mutex.prof" \
	"$PROGS/block_sync" 3000 >"$T/out"; then
	pass sync_run "exit 0"
else
	fail sync_run "exit $?: $(tail -n 3 "$T/err" | tr '\n' ' ')"
fi
if grep -q "block profile of pid .* events recorded" "$T/err" && grep -q "mutex profile of pid" "$T/err"; then
	pass sync_summary "cprof run reports both profiles"
else
	fail sync_summary "no summary lines: $(head -c 300 "$T/err")"
fi
check_sync sync "$T/block.prof" "$T/mutex.prof" "$T/out"

# 1 in 4 contentions recorded, weighted by 4: the total stays right. The
# bound is wide because a few charges are long (a holder preempted on a busy
# machine) and whether each is drawn moves the estimate; the exact totals
# are checked above with every contention recorded.
LD_PRELOAD="$CPROF_BUILD/lib/libcprof.so" CPROF_MUTEXPROFILE="$T/frac.prof" CPROF_MUTEX_FRACTION=4 \
	CPROF_BLOCKPROFILE="$T/rate.prof" CPROF_BLOCK_RATE=1000000 "$PROGS/block_sync" 6000 >"$T/out4" 2>"$T/err"
measured=$(awk -F= '/^fight_measured_ns=/ { printf "%.3f\n", $2 / 1e6 }' "$T/out4")
if check_valid frac "$T/frac.prof"; then
	in_range frac_fight "$(ratio "$(delay_ms "$T/frac.prof" fight_critical)" "$measured")" 0.5 1.5 \
		"mutex delay under fight_critical / measured with 1 in 4 recorded (truth 1)"
fi
# Waits of 1 ms and more recorded as they are, shorter ones sampled by length.
if check_valid rate "$T/rate.prof"; then
	in_range rate_cond "$(delay_ms "$T/rate.prof" cond_waiter)" 250 600 "ms under cond_waiter at rate 1 ms (truth ~300)"
	in_range rate_fight "$(ratio "$(delay_ms "$T/rate.prof" fight_critical)" "$measured")" 0.6 1.4 \
		"block delay under fight_critical / measured at rate 1 ms (truth 1)"
fi

# Blocking system calls, each with its reason.
if cprof_run "$T/err" -blockprofile="$T/sys.prof" -blocksyscalls "$PROGS/block_syscalls" >/dev/null &&
	check_valid syscalls "$T/sys.prof"; then
	in_range sys_read "$(delay_ms "$T/sys.prof" pipe_reader -tagfocus=reason=read)" 180 500 \
		"ms under pipe_reader, reason read (truth ~200)"
	in_range sys_poll "$(delay_ms "$T/sys.prof" poll_waiter -tagfocus=reason=poll)" 140 450 \
		"ms under poll_waiter, reason poll (truth 150)"
	in_range sys_select "$(delay_ms "$T/sys.prof" select_waiter -tagfocus=reason=select)" 90 400 \
		"ms under select_waiter, reason select (truth 100)"
	in_range sys_nanosleep "$(delay_ms "$T/sys.prof" nanosleeper -tagfocus=reason=nanosleep)" 90 400 \
		"ms under nanosleeper, reason nanosleep (truth 100)"
	in_range sys_usleep "$(delay_ms "$T/sys.prof" usleeper -tagfocus=reason=usleep)" 90 400 \
		"ms under usleeper, reason usleep (truth 100)"
	in_range sys_accept "$(delay_ms "$T/sys.prof" accept_waiter -tagfocus=reason=accept)" 130 450 \
		"ms under accept_waiter, reason accept (truth ~150)"
fi
# Without -blocksyscalls the same program's system calls are not in the profile.
cprof_run "$T/err" -blockprofile="$T/nosys.prof" "$PROGS/block_syscalls" >/dev/null
if [ -s "$T/nosys.prof" ] && ! has_func "$T/nosys.prof" pipe_reader; then
	pass sys_optin "system calls stay out of the block profile unless asked for"
else
	fail sys_optin "pipe_reader in a profile without -blocksyscalls, or no profile"
fi

# The wrappers change nothing the program can see.
if cprof_run "$T/err" -blockprofile="$T/sem.prof" -mutexprofile="$T/semm.prof" -blocksyscalls \
	"$PROGS/block_semantics" >"$T/sem.out"; then
	pass semantics "$(grep -c '^ok ' "$T/sem.out") checks of error codes, errno and cancellation hold"
else
	fail semantics "$(grep '^BAD' "$T/sem.out" | head -3 | tr '\n' ';') $(tail -n 2 "$T/err" | tr '\n' ' ')"
fi

# The allocators take pthread locks themselves: no deadlock, same answers.
libdir=$(dirname "$(ldconfig -p 2>/dev/null | awk '/libc.so.6 .*x86-64/ { print $NF; exit }')")
for alloc in libjemalloc.so.2 libtcmalloc.so.4; do
	lib=$libdir/$alloc
	name=${alloc%%.so*}
	if [ ! -e "$lib" ]; then
		info "$alloc not installed (scripts/deps.sh test installs it); skipped"
		continue
	fi
	# (timeout runs the program under env, so that the runtime loads in the program only)
	timeout 60 env LD_PRELOAD="$CPROF_BUILD/lib/libcprof.so:$lib" CPROF_BLOCKPROFILE="$T/$name-b.prof" \
		CPROF_MUTEXPROFILE="$T/$name-m.prof" CPROF_BLOCK_SYSCALLS=1 \
		"$PROGS/block_sync" 3000 >"$T/$name.out" 2>"$T/err"
	st=$?
	if [ $st -eq 0 ]; then
		pass "${name}_run" "exit 0 under $alloc (no deadlock)"
		check_sync "$name" "$T/$name-b.prof" "$T/$name-m.prof" "$T/$name.out"
	else
		fail "${name}_run" "exit $st under $alloc$([ $st -eq 124 ] && echo ' (timed out: deadlock?)'): $(tail -n 3 "$T/err" | tr '\n' ' ')"
	fi
done

# SIGTERM at its default action: the profiles are written, then the signal ends the program.
rm -f "$T/pid"
"$CPROF" run -q -blockprofile="$T/term-b.prof" -mutexprofile="$T/term-m.prof" \
	"$PROGS/fatal_spin" "$T/pid" 10 >/dev/null 2>"$T/err" &
runpid=$!
for _ in $(seq 1 300); do [ -s "$T/pid" ] && break; sleep 0.1; done
if [ -s "$T/pid" ]; then
	kill -TERM "$(cat "$T/pid")"
	wait "$runpid"
	st=$?
	if [ $st -eq 143 ] && [ -s "$T/term-b.prof" ] && [ -s "$T/term-m.prof" ]; then
		pass sigterm_written "both profiles written, exit 143"
		check_valid sigterm_block "$T/term-b.prof"
		check_valid sigterm_mutex "$T/term-m.prof"
	else
		fail sigterm_written "exit $st; files: $(files_in "$T" | tr ' ' '\n' | grep term | tr '\n' ' ')"
	fi
else
	kill -KILL "$runpid" 2>/dev/null
	fail sigterm_written "fatal_spin did not start: $(head -c 300 "$T/err")"
fi
