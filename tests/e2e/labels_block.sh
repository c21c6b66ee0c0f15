#!/usr/bin/env bash
# labels_block.sh - labels on block samples, with known truth: in
# tests/progs/labels_block_linked a thread created under tenant=acme (so
# inheriting it) waits about 200 ms in pthread_cond_wait under block_waiter,
# and main waits about 100 ms in pthread_join under block_join with
# phase=join. Each function's delay carries its labels, all of it; neither
# carries the other's. The mutex profile charges a ~150 ms wait to
# mutex_holder, under the phase=hold label of the thread that unlocked.
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

# delay_ms FILE FUNC [flags]: FUNC's cum delay in ms.
delay_ms() {
	local f=$1 fn=$2
	shift 2
	go tool pprof -top -cum -unit=ms -sample_index=delay -nodefraction=0 -nodecount=100000 "$@" "$f" 2>/dev/null |
		awk -v fn="$fn" '$5 ~ /%$/ && $6 == fn { v = $4; sub(/ms$/, "", v); print v + 0; found = 1; exit }
			END { if (!found) print 0 }'
}

CPROF_BLOCKPROFILE="$T/b.prof" CPROF_MUTEXPROFILE="$T/m.prof" "$PROGS/labels_block_linked" 2>"$T/err"
in_range labels_block_exit "$?" 0 0 "exit status 0"
if check_valid labels_block "$T/b.prof"; then
	for pair in block_waiter:tenant=acme:150:400 block_join:phase=join:60:300; do
		IFS=: read -r fn tag lo hi <<<"$pair"
		all=$(delay_ms "$T/b.prof" "$fn")
		sub=$(delay_ms "$T/b.prof" "$fn" -tagfocus="$tag")
		if [ "$all" = "$sub" ] && awk -v a="$all" -v l="$lo" -v h="$hi" 'BEGIN { exit !(a >= l && a <= h) }'; then
			pass "labels_block_$fn" "$fn: ${sub}ms of delay under $tag = all of it (${lo}..${hi} ms by construction)"
		else
			fail "labels_block_$fn" "$fn: ${sub}ms under $tag, ${all}ms in all (want equal, ${lo}..${hi} ms)"
		fi
	done
	in_range labels_block_waiter_not_join "$(delay_ms "$T/b.prof" block_waiter -tagfocus=phase=join)" 0 0 "block_waiter delay under phase=join"
	in_range labels_block_join_not_acme "$(delay_ms "$T/b.prof" block_join -tagfocus=tenant=acme)" 0 0 "block_join delay under tenant=acme"
fi

if check_valid labels_mutex "$T/m.prof"; then
	all=$(delay_ms "$T/m.prof" mutex_holder)
	sub=$(delay_ms "$T/m.prof" mutex_holder -tagfocus=phase=hold)
	if [ "$all" = "$sub" ] && awk -v a="$all" 'BEGIN { exit !(a >= 100 && a <= 400) }'; then
		pass labels_mutex_holder "mutex_holder: ${sub}ms of the waiter's delay under phase=hold = all of it (about 150 ms by construction)"
	else
		fail labels_mutex_holder "mutex_holder: ${sub}ms under phase=hold, ${all}ms in all (want equal, 100..400 ms)"
	fi
	in_range labels_mutex_not_join "$(delay_ms "$T/m.prof" mutex_holder -tagfocus=phase=join)" 0 0 "mutex_holder delay under phase=join"
fi
