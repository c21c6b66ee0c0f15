#!/usr/bin/env bash
# http_robust.sh - the endpoint under hostile clients
# (tests/e2e/http_hostile.py: random bytes, malformed, truncated and
# oversized requests, slow and idle clients beyond the connection limit),
# then: it still answers every endpoint, its connection threads are gone,
# the program's memory did not balloon, and the program finishes its work
# unharmed (work result, signal handlers and fds checked by itself).
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/e2e/http.inc
. "$(dirname "$0")/http.inc"

serve robust 300
if [ -z "$PORT" ]; then
	fail http_robust_serving "no 'serving' line: $(head -c 300 "$ERR")"
	exit 1
fi
rss() { awk '/^VmRSS/ { print $2 }' "/proc/$PID/status"; }
curl -s -o /dev/null --max-time 10 "$BASE/"
rss0=$(rss)
python3 "$(dirname "$0")/http_hostile.py" "$PORT" 7 >"$T/hostile.out" 2>&1
rc=$?
if [ "$rc" -eq 0 ]; then
	pass http_hostile_rounds "$(tail -1 "$T/hostile.out"): a good request answered after every round"
else
	fail http_hostile_rounds "exit $rc: $(tail -3 "$T/hostile.out" | tr '\n' ' ')"
fi
kill -0 "$PID" 2>/dev/null && pass http_robust_alive "program still running" || fail http_robust_alive "program died"

in_range http_robust_index "$(status "$BASE/")" 200 200 "index still 200"
in_range http_robust_cmdline "$(status "$BASE/cmdline")" 200 200 "cmdline still 200"
got=$(curl -s --max-time 20 -d '0x1+0x2' "$BASE/symbol" | head -1)
[ "$got" = "num_symbols: 1" ] && pass http_robust_symbol "$got" || fail http_robust_symbol "$got"
curl -s --max-time 20 -o "$T/cpu.pb.gz" "$BASE/profile?seconds=1"
check_valid http_robust_cpu "$T/cpu.pb.gz"

# Connection threads end with their connections.
n=99
for _ in $(seq 1 100); do
	n=$(grep -l '^MHD-connection' /proc/"$PID"/task/*/comm 2>/dev/null | wc -l)
	[ "$n" -eq 0 ] && break
	sleep 0.2
done
in_range http_robust_threads_gone "$n" 0 0 "no connection thread left once clients are gone"
rss1=$(rss)
in_range http_robust_rss_growth_kb "$((rss1 - rss0))" -100000 65536 "RSS growth under 64 MiB (${rss0} -> ${rss1} kB)"

finish >"$T/finish.out"
rc=$?
line=$(cat "$T/finish.out")
if [ "$rc" -eq 0 ] && grep -q "check=ok " <<<"$line"; then
	pass http_robust_program_unharmed "$line"
else
	fail http_robust_program_unharmed "exit $rc: $line"
fi
