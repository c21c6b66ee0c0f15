#!/usr/bin/env bash
# threads_dump.sh - the threads profile, its dump, and threadcreate, on
# tests/progs/threads_linked, whose threads are in known states: each
# thread's name, its state (the blocking call) and its function must show,
# blocked threads without a signal, a running one by its signal, a thread
# that blocks SIGPROF reported as such; threadcreate holds the five
# creation stacks under spawn_all. Then the same under tcmalloc and
# jemalloc, and go tool pprof reads every profile.
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

# block NAME DUMP THREAD: the dump's block for THREAD (from its header to the next blank line).
block() {
	awk -v t="\"$2\"" '$1 == "thread" && $3 == t { p = 1 } p && /^$/ { exit } p' "$1"
}

# expect NAME DUMP THREAD STATE_RE FUNC: THREAD's header state matches STATE_RE and FUNC is in its stack.
expect() {
	local b hdr
	b=$(block "$2" "$3")
	hdr=$(head -n 1 <<<"$b")
	if grep -Eq "\[($4)\]" <<<"$hdr" && grep -q "^$5()" <<<"$b"; then
		pass "$1" "$hdr ... $5()"
	else
		fail "$1" "thread $3: header '${hdr:-missing}', want state $4 and $5() in: $(tr '\n' ' ' <<<"$b" | head -c 400)"
	fi
}

run_one() { # prefix [LD_PRELOAD]
	local p=$1 pre=${2:-} out
	out=$(LD_PRELOAD=$pre timeout 60 "$PROGS/threads_linked" "$T/$p" 2>"$T/err")
	local st=$?
	if [ $st -eq 0 ] && ! grep -q '^bad' <<<"$out"; then
		pass "${p}_run" "exit 0, every profile written"
	else
		fail "${p}_run" "exit $st: $(tr '\n' ' ' <<<"$out") $(tail -n 3 "$T/err" | tr '\n' ' ')"
		return
	fi
	local d=$T/$p.txt
	expect "${p}_waiter" "$d" waiter 'futex|pthread_cond_wait' waiter_fn
	expect "${p}_sleeper" "$d" sleeper 'clock_nanosleep|nanosleep' sleeper_fn
	expect "${p}_reader" "$d" reader 'read' reader_fn
	expect "${p}_spinner" "$d" spinner running spin
	expect "${p}_masked" "$d" masked running '\[cprof: thread blocks SIGPROF, stack unknown\]'
	expect "${p}_self" "$d" threads_linked running main
	if block "$d" sleeper | head -n 1 | grep -q '{job=nightly}'; then
		pass "${p}_labels" "sleeper's dump header carries its label job=nightly"
	else
		fail "${p}_labels" "sleeper's header: $(block "$d" sleeper | head -n 1)"
	fi
	check_valid "${p}_proto" "$T/$p.pb.gz"
	local n
	n=$(go tool pprof -tags "$T/$p.pb.gz" 2>/dev/null | awk '/^ *thread:/ { p = 1; next } /^ *[a-z]+:/ { p = 0 } p && NF == 3 { c++ } END { print c + 0 }')
	in_range "${p}_proto_threads" "$n" 6 6 "6 thread names in go tool pprof -tags (main and five)"
	local w
	w=$(go tool pprof -top -tagfocus=thread=waiter "$T/$p.pb.gz" 2>/dev/null | grep -c 'waiter_fn')
	in_range "${p}_proto_tagfocus" "$w" 1 1 "-tagfocus=thread=waiter keeps waiter_fn"
	if head -n 1 "$T/$p.d1.txt" | grep -q '^threads profile: total 6$'; then
		pass "${p}_debug1" "$(head -n 1 "$T/$p.d1.txt")"
	else
		fail "${p}_debug1" "first line: $(head -n 1 "$T/$p.d1.txt")"
	fi
	check_valid "${p}_threadcreate" "$T/$p.tc.pb.gz"
	in_range "${p}_threadcreate_spawn" "$(cum_pct spawn_all "$T/$p.tc.pb.gz")" 100 100 "spawn_all cum% of live threads' creation stacks"
	n=$(go tool pprof -raw "$T/$p.tc.pb.gz" 2>/dev/null | awk '/^Samples:/ { s = 1; next } /^Locations/ { s = 0 } s && $1 ~ /^[0-9]+:$/ { c += $1 } END { print c + 0 }')
	in_range "${p}_threadcreate_total" "$n" 5 5 "5 live threads created"
}

run_one threads
libdir=$(dirname "$(ldconfig -p 2>/dev/null | awk '/libc.so.6 .*x86-64/ { print $NF; exit }')")
for alloc in libtcmalloc.so.4 libjemalloc.so.2; do
	[ -e "$libdir/$alloc" ] || { info "$alloc not installed; skipped"; continue; }
	run_one "threads_${alloc%%.so*}" "$libdir/$alloc"
done

# ---- libc's frames by name ----
# tests/progs/libc_waits_linked: threads blocked in read, poll, nanosleep and
# pthread_cond_wait. Each thread's stack shows the C library's function by
# name, over the thread's own. With CPROF_DEBUGINFO=none (as on a machine
# without libc6-dbg: Debian's libc.so.6 has no .symtab, only .dynsym), the
# exported functions keep their names, and libc's internal ones (the futex
# wait under pthread_cond_wait, start_thread, __clone3) are named by where
# they start from .eh_frame_hdr (libc.so.6+0x...), so no frame of the dump
# is left without a name.
libc_names() { # prefix [ENV...]
	local p=$1
	shift
	if ! env "$@" timeout 60 "$PROGS/libc_waits_linked" "$T/$p.txt" 2>"$T/$p.err"; then
		fail "${p}_run" "$(tail -n 3 "$T/$p.err" | tr '\n' ' ')"
		return
	fi
	expect "${p}_read" "$T/$p.txt" reader read 'read'
	expect "${p}_read_caller" "$T/$p.txt" reader read reader_fn
	expect "${p}_poll" "$T/$p.txt" poller poll '\(__\)\{0,1\}poll'
	expect "${p}_poll_caller" "$T/$p.txt" poller poll poller_fn
	expect "${p}_nanosleep" "$T/$p.txt" sleeper clock_nanosleep 'clock_nanosleep'
	expect "${p}_nanosleep_caller" "$T/$p.txt" sleeper clock_nanosleep sleeper_fn
	expect "${p}_cond_wait" "$T/$p.txt" waiter 'futex|pthread_cond_wait' pthread_cond_wait
	expect "${p}_cond_wait_caller" "$T/$p.txt" waiter 'futex|pthread_cond_wait' waiter_fn
	if [ $# -eq 0 ]; then
		# Whole stacks, down to the thread's start in libc, walked without rbp.
		local th
		for th in reader:read poller:poll sleeper:clock_nanosleep; do
			expect "${p}_${th%%:*}_whole" "$T/$p.txt" "${th%%:*}" "${th#*:}" start_thread
		done
	fi
	local unnamed
	unnamed=$(grep -c '^?()\|^0x' "$T/$p.txt")
	in_range "${p}_all_named" "$unnamed" 0 0 "frames without a name in the dump; $(grep -c '()' "$T/$p.txt") frames in all"
}
libc_names libc_names
libc_names libc_names_nodebug CPROF_DEBUGINFO=none
if grep -q '^libc\.so\.6+0x[0-9a-f]*()' "$T/libc_names_nodebug.txt"; then
	pass libc_names_nodebug_cfi "internal functions named by their start: $(grep -m1 '^libc\.so\.6+0x' "$T/libc_names_nodebug.txt")"
else
	fail libc_names_nodebug_cfi "no libc.so.6+0x... frame: $(head -c 400 "$T/libc_names_nodebug.txt" | tr '\n' ' ')"
fi
