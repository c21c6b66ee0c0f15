#!/usr/bin/env bash
# trace_stackcache.sh - a wait's stack, cached by call site and stack
# address, is still told apart by its callers: tests/progs/trace_stackcache_linked
# waits 20 times for a mutex at one call site (wait_here), reached from
# caller_a and caller_b in turn with frames at the same addresses. The
# trace must hold 20 mutex waits with stacks alternating
# wait_here;caller_a and wait_here;caller_b; each wait slept (the holder
# unlocks once the waiter sleeps) and was released by the holder thread,
# which must be named with the time of its unlock (a sleeping mutex
# wait's releaser is known).
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

if ! "$PROGS/trace_stackcache_linked" "$T/s.trace" >"$T/out" 2>"$T/err"; then
	fail trace_stackcache_run "$(head -c 300 "$T/err")"
	exit 0
fi
holder=$(sed -n 's/^holder=//p' "$T/out")
"$CPROF" trace -format=text "$T/s.trace" >"$T/s.txt" 2>"$T/dec" || fail trace_stackcache_decode "$(head -c 300 "$T/dec")"
waits=$(awk '/ block reason=mutex / && / at=wait_here;/ { for (i = 1; i <= NF; i++) if ($i ~ /^at=/) { split($i, a, ";"); printf "%s ", a[2] } }' "$T/s.txt")
want=""
for ((i = 0; i < 20; i++)); do
	if ((i % 2 == 0)); then want="${want}caller_a "; else want="${want}caller_b "; fi
done
if [ "$waits" = "$want" ]; then
	pass trace_stackcache_callers "20 waits at one call site, callers alternating caller_a and caller_b"
else
	fail trace_stackcache_callers "callers: ${waits:-none} (want $want)"
fi
released=$(awk -v h="$holder" '/ block reason=mutex / && / at=wait_here;/ && $0 ~ (" peer=" h " wake_ms=") { n++ } END { print n + 0 }' "$T/s.txt")
if [ -n "$holder" ] && [ "$released" = 20 ]; then
	pass trace_stackcache_releaser "all 20 sleeping waits released by the holder ($holder), with the unlock's time"
else
	fail trace_stackcache_releaser "$released of 20 waits name the holder ${holder:-?} with a time: $(grep -m 3 'reason=mutex' "$T/s.txt")"
fi
