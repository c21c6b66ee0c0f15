#!/usr/bin/env bash
# trace_flight.sh - the flight recorder: tests/progs/trace_flight_linked
# runs 1.5 s of "old" activity, then 1.3 s of "recent" activity, and its
# 1 s window is written, through cprof_trace_flight_write and through the
# signal under cprof run -trace-flight. Each file decodes on its own (it
# says it is a snapshot; thread names and stacks are defined in it) and
# holds the recent window only: recent regions from its start on, the
# worker's waits all in wait_recent, nothing of the old phase, at most 1 s.
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

PROG=$PROGS/trace_flight_linked

check_window() { # name file
	local name=$1 f=$2
	if ! "$CPROF" trace -format=text "$f" >"$T/$name.txt" 2>"$T/$name.dec"; then
		fail "${name}_decodes" "$(head -c 300 "$T/$name.dec")"
		return
	fi
	python3 - "$name" "$T/$name.txt" <<'PY'
import sys
name, path = sys.argv[1], sys.argv[2]
lines = open(path).read().splitlines()
summary = [l for l in lines if l.startswith("#")]
ev = [l.split() for l in lines if not l.startswith("#")]
dur_ms = float(summary[0].split(", ")[2].split()[0]) if summary else -1
def ok(n, c, w):
    print(("PASS %s_%s: %s" if c else "FAIL %s_%s: %s") % (name, n, w))
ok("snapshot", summary and "flight recorder snapshot" in summary[0] and " 0 dropped" in summary[0], summary[0] if summary else "no summary")
regions = [e for e in ev if e[2] == "region-begin"]
names = sorted({e[4] for e in regions})
ok("recent_only", names == ["name=recent"] and len(regions) >= 50,
   "%d region begins named %s (want only recent, many)" % (len(regions), names))
blocks = [e for e in ev if e[2] == "block"]
at = sorted({[x for x in e if x.startswith("at=")][0].split(";")[0] for e in blocks})
ok("stacks", len(blocks) >= 50 and at == ["at=wait_recent"],
   "%d condition waits, leaf functions %s (want many, all wait_recent)" % (len(blocks), at))
tn = sorted({e[3] for e in ev if e[2] == "thread-name"})
ok("thread_names", "name=worker" in tn, "thread names %s (want worker among them)" % tn)
times = [float(e[0]) for e in ev]
first = min(float(e[0]) for e in regions) if regions else -1
ok("window", 0 < dur_ms <= 1000.0 and min(times) >= 0 and max(times) <= dur_ms + 0.001 and 0 <= first < 300,
   "%.3f ms long, events from %.3f to %.3f ms, first region at %.3f ms (want at most the 1000 ms window, all inside, "
   "starting near its beginning)" % (dur_ms, min(times), max(times), first))
PY
}

if "$PROG" api "$T/api.trace" >"$T/api.out" 2>"$T/api.err"; then
	check_window api "$T/api.trace"
else
	fail api_run "$(head -c 300 "$T/api.err")"
fi

if cprof_run "$T/sig.err" -trace-flight="$T/sig.trace" -trace-flight-window=1s "$PROG" signal "$T/sig.trace" >"$T/sig.out" &&
	grep -q "execution trace of pid .* written to $T/sig.trace" "$T/sig.err"; then
	check_window signal "$T/sig.trace"
else
	fail signal_run "$(head -c 300 "$T/sig.err")"
fi

# A cut snapshot decodes up to the cut.
if [ -s "$T/api.trace" ]; then
	size=$(stat -c %s "$T/api.trace")
	head -c $((size * 2 / 3)) "$T/api.trace" >"$T/cut.trace"
	if "$CPROF" trace -format=text "$T/cut.trace" >"$T/cut.txt" 2>"$T/cut.err" && grep -q "cut short" "$T/cut.err" &&
		[ "$(grep -c region-begin "$T/cut.txt")" -gt 0 ]; then
		pass flight_cut "$(tail -n 1 "$T/cut.txt")"
	else
		fail flight_cut "$(head -c 300 "$T/cut.err")"
	fi
fi

# Bad windows are refused by cprof run.
if ! "$CPROF" run -trace-flight-window=1s -cpuprofile="$T/x.prof" true 2>"$T/w.err" && grep -q "need -trace-flight" "$T/w.err"; then
	pass flight_flags "$(cat "$T/w.err")"
else
	fail flight_flags "$(cat "$T/w.err")"
fi
