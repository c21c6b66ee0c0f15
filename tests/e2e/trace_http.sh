#!/usr/bin/env bash
# trace_http.sh - /debug/pprof/trace?seconds=N: an execution trace of the
# running program that cprof trace decodes (its threads, the counters of
# that second), listed on the index page; a second request while one runs
# is refused as Go refuses it, and a request past the limit too. With the
# flight recorder on, trace?flight=1 gives its window; without, a 404.
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/e2e/http.inc
. "$(dirname "$0")/http.inc"

serve trace 60
if [ -z "$PORT" ]; then
	fail trace_http_serve "no port: $(head -c 300 "$ERR")"
	exit 0
fi
code=$(curl -s --max-time 30 -o "$T/t.trace" -w '%{http_code}' "$BASE/trace?seconds=1")
if [ "$code" = 200 ] && "$CPROF" trace -format=text "$T/t.trace" >"$T/t.txt" 2>"$T/t.err" &&
	grep -q "counter name=process.rss_bytes" "$T/t.txt" && grep -q "^# pid $PID, .* 0 dropped$" "$T/t.txt"; then
	pass trace_http_decodes "HTTP $code, $(stat -c %s "$T/t.trace") bytes: $(tail -n 1 "$T/t.txt")"
else
	fail trace_http_decodes "HTTP $code: $(head -c 300 "$T/t.err") $(tail -n 1 "$T/t.txt" 2>/dev/null)"
fi
if curl -s --max-time 10 "$BASE/" | grep -q "href='trace'>trace</a>"; then
	pass trace_http_index "the index lists trace"
else
	fail trace_http_index "trace is not on the index page"
fi
# A second trace while one runs: refused.
curl -s --max-time 30 -o /dev/null "$BASE/trace?seconds=2" &
first=$!
sleep 0.5
code=$(curl -s --max-time 30 -o "$T/busy.txt" -w '%{http_code}' "$BASE/trace?seconds=1")
wait $first
if [ "$code" = 500 ] && grep -q "tracing already enabled" "$T/busy.txt"; then
	pass trace_http_busy "HTTP $code: $(cat "$T/busy.txt")"
else
	fail trace_http_busy "HTTP $code: $(head -c 200 "$T/busy.txt")"
fi
code=$(curl -s --max-time 10 -o "$T/long.txt" -w '%{http_code}' "$BASE/trace?seconds=100000")
if [ "$code" = 400 ]; then pass trace_http_limit "HTTP $code: $(cat "$T/long.txt")"
else fail trace_http_limit "HTTP $code: $(head -c 200 "$T/long.txt")"; fi
# The flight recorder's window: none runs here.
code=$(curl -s --max-time 10 -o "$T/nofl.txt" -w '%{http_code}' "$BASE/trace?flight=1")
if [ "$code" = 404 ] && grep -q "flight recorder is not running" "$T/nofl.txt"; then pass trace_http_noflight "HTTP $code: $(cat "$T/nofl.txt")"
else fail trace_http_noflight "HTTP $code: $(head -c 200 "$T/nofl.txt")"; fi
finish >/dev/null

# With the flight recorder on (CPROF_TRACE_FLIGHT), trace?flight=1 answers at once with its window.
serve flight 60 CPROF_TRACE_FLIGHT="$T/fl.trace" CPROF_TRACE_FLIGHT_WINDOW=2s
if [ -n "$PORT" ]; then
	sleep 1
	code=$(curl -s --max-time 30 -o "$T/f.trace" -w '%{http_code}' "$BASE/trace?flight=1")
	if [ "$code" = 200 ] && "$CPROF" trace -format=text "$T/f.trace" >"$T/f.txt" 2>"$T/f.err" &&
		grep -q "counter name=process.rss_bytes" "$T/f.txt" && grep -q "^# pid $PID, .*flight recorder snapshot$" "$T/f.txt"; then
		pass trace_http_flight "HTTP $code, $(stat -c %s "$T/f.trace") bytes: $(tail -n 1 "$T/f.txt")"
	else
		fail trace_http_flight "HTTP $code: $(head -c 300 "$T/f.err") $(tail -n 1 "$T/f.txt" 2>/dev/null)"
	fi
	finish >/dev/null
else
	fail trace_http_flight "no port: $(head -c 300 "$ERR")"
fi
