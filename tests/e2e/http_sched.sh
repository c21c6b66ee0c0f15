#!/usr/bin/env bash
# http_sched.sh - the scheduling class the endpoint's requests run in. By
# default a request runs at the program's own class (SCHED_OTHER) while the
# endpoint's CPU budget holds (a lone request after a quiet spell always
# does), and under SCHED_IDLE once it is spent; CPROF_HTTP_SCHED=idle puts
# every request under SCHED_IDLE. Seen from /proc/PID/task/TID/stat (field
# 41, the policy: 0 SCHED_OTHER, 5 SCHED_IDLE) of the connection's thread
# while it serves a 2 s CPU profile. A bad value is reported and the default
# used. (What each policy costs and how fast it answers: make bench-http.)
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/e2e/http.inc
. "$(dirname "$0")/http.inc"

# policy_during NAME: the policy of the thread serving a 2 s capture.
policy_during() {
	curl -s -o /dev/null --max-time 30 "$BASE/profile?seconds=2" &
	local c=$! pol="" t
	sleep 1
	for t in /proc/"$PID"/task/*; do
		[ "$(cat "$t/comm" 2>/dev/null)" = MHD-connection ] || continue
		pol=$(awk '{ sub(/^.*\) /, ""); print $(41 - 2) }' "$t/stat")
	done
	wait $c
	echo "${pol:-none}"
}

for mode in default idle bogus; do
	case $mode in
	default) serve "sched_$mode" 60 ;;
	*) serve "sched_$mode" 60 CPROF_HTTP_SCHED=$mode ;;
	esac
	if [ -z "$PORT" ]; then
		fail "http_sched_${mode}_serving" "$(head -c 300 "$ERR")"
		continue
	fi
	pol=$(policy_during)
	want=0
	[ "$mode" = idle ] && want=5
	in_range "http_sched_$mode" "$pol" "$want" "$want" "policy of the connection's thread during a request ($want: $([ $want = 5 ] && echo SCHED_IDLE || echo SCHED_OTHER))"
	if [ "$mode" = bogus ]; then
		if grep -q 'CPROF_HTTP_SCHED=bogus: want idle or budget' "$ERR"; then
			pass http_sched_bogus_said "$(grep -m1 CPROF_HTTP_SCHED "$ERR")"
		else
			fail http_sched_bogus_said "stderr: $(head -c 300 "$ERR")"
		fi
	fi
	finish >"$T/finish.out"
	out=$(cat "$T/finish.out")
	case "$out" in *check=ok*) pass "http_sched_${mode}_program" "$out" ;; *) fail "http_sched_${mode}_program" "$out" ;; esac
done
