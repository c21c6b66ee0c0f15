#!/usr/bin/env bash
# trace_record.sh - execution traces of tests/progs/trace_known_linked,
# whose structure is known: per thread, the decoded events (times and thread
# ids aside) match it exactly, under cprof run -trace and under the
# program's own cprof_trace_start/stop; the task begun on the main thread
# ends on the consumer; the 100 ms sleep region lasts at least 100 ms; the
# process counters are there. Every cut of the file decodes to a prefix of
# the whole. The JSON export parses and has the expected tracks. Many
# events over several buffers are all accounted for.
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

PROG=$PROGS/trace_known_linked

# per_thread TEXT NAME: NAME's events without time and tid, thread-name and counters left out.
per_thread() {
	awk -v want="$2" '
		$1 == "#" { next }
		$3 == "thread-name" { sub(/^name=/, "", $4); name[$2] = $4; next }
		$3 == "counter" || $3 == "block" { next } # blocking episodes: trace_blocking.sh
		{ tid = $2; $1 = ""; $2 = ""; sub(/^  /, ""); ev[tid] = ev[tid] $0 "\n" }
		END { for (t in ev) if (name[t] == want) printf "%s", ev[t] }' "$1"
}

tid_of() { # TEXT NAME: the tid whose last name is NAME
	awk -v want="$2" '$3 == "thread-name" { sub(/^name=/, "", $4); name[$2] = $4 }
		END { for (t in name) if (name[t] == want) print t }' "$1"
}

check_known() { # prefix TEXT
	local p=$1 txt=$2 main want got
	main=$(tid_of "$txt" trace_known_lin)
	want="task-begin id=1 parent=0 name=transfer
region-begin task=1 name=outer
region-begin task=1 name=inner
log task=0 category=phase message=nested
region-end
region-end
region-begin task=0 name=sleep
region-end"
	got=$(per_thread "$txt" trace_known_lin)
	if [ "$got" = "$want" ]; then pass "${p}_main" "nested regions, log, sleep region in order"
	else fail "${p}_main" "got: $(tr '\n' '|' <<<"$got")"; fi

	want="thread-start parent=$main"
	for i in 0 1 2 3 4; do
		want+="
region-begin task=1 name=produce
log task=0 category=queue message=put $i
region-end"
	done
	want+="
thread-exit"
	got=$(per_thread "$txt" producer)
	if [ -n "$main" ] && [ "$got" = "$want" ]; then pass "${p}_producer" "5 produce regions with their logs, created by main"
	else fail "${p}_producer" "got: $(tr '\n' '|' <<<"$got")"; fi

	want="thread-start parent=$main"
	for i in 0 1 2 3 4; do want+="
log task=1 category=queue message=got $i"; done
	want+="
task-end id=1 name=transfer
thread-exit"
	got=$(per_thread "$txt" consumer)
	if [ -n "$main" ] && [ "$got" = "$want" ]; then pass "${p}_consumer" "5 items in order, then the main thread's task ends here"
	else fail "${p}_consumer" "got: $(tr '\n' '|' <<<"$got")"; fi

	local dur
	dur=$(awk -v m="$main" '$2 == m && $3 == "region-begin" && $5 == "name=sleep" { b = $1 }
		$2 == m && $3 == "region-end" && b != "" { d = $1 - b; b = "" } END { printf "%.3f", d }' "$txt")
	in_range "${p}_sleep_ms" "$dur" 100 1000000 "the region around a 100 ms nanosleep lasts at least 100 ms"

	local rss cpu
	rss=$(awk '$3 == "counter" && $4 == "name=process.rss_bytes" { sub(/value=/, "", $5); if ($5 > 0) n++ } END { print n + 0 }' "$txt")
	cpu=$(awk '$3 == "counter" && $4 == "name=process.cpu_ns" { n++ } END { print n + 0 }' "$txt")
	in_range "${p}_counters" "$((rss < cpu ? rss : cpu))" 1 100000 "RSS and CPU time sampled at least once"
	if grep -q "^# pid .* 0 dropped$" "$txt"; then pass "${p}_nodrops" "$(tail -n 1 "$txt")"
	else fail "${p}_nodrops" "$(tail -n 1 "$txt")"; fi
}

# Under cprof run.
if "$CPROF" run -trace="$T/run.trace" -- "$PROG" 2>"$T/run.err" && grep -q "execution trace of pid" "$T/run.err" &&
	"$CPROF" trace -format=text "$T/run.trace" >"$T/run.txt" 2>"$T/run.terr"; then
	pass run_decodes "$(grep -c . "$T/run.txt") lines; $(head -c 200 "$T/run.err")"
	check_known run "$T/run.txt"
else
	fail run_decodes "$(cat "$T/run.err" "$T/run.terr" 2>/dev/null | head -c 400)"
fi

# The program's own start and stop; annotations after stop record nothing.
if "$PROG" api "$T/api.trace" 2>"$T/api.err" && "$CPROF" trace -format=text "$T/api.trace" >"$T/api.txt"; then
	check_known api "$T/api.txt"
	if grep -q after-stop "$T/api.txt"; then fail api_after_stop "a region after cprof_trace_stop was recorded"
	else pass api_after_stop "nothing recorded after cprof_trace_stop"; fi
else
	fail api_decodes "$(head -c 400 "$T/api.err")"
fi

# Every cut decodes to a prefix of the whole, with a warning.
if [ -s "$T/run.trace" ]; then
	size=$(stat -c %s "$T/run.trace")
	# Times aside: a cut file has fewer clock records to convert TSC ticks with;
	# task-end names aside: the begin that names the task may be past the cut.
	events_of() { grep -v '^#' "$1" | cut -d' ' -f2- | sed -e 's/^\([0-9]* task-end id=[0-9]*\) name=.*/\1/' -e 's/ wake_ms=[0-9.]*//'; }
	events_of "$T/run.txt" >"$T/full.ev"
	bad=0 cuts=0 warned=0
	# From the end of the header record (8 bytes of magic, 5 of record head, its length).
	hlen=$(od -An -tu4 -j9 -N4 "$T/run.trace" | tr -d ' ')
	for ((n = 13 + hlen; n < size; n += 7)); do
		head -c "$n" "$T/run.trace" >"$T/cut.trace"
		cuts=$((cuts + 1))
		if ! "$CPROF" trace -format=text "$T/cut.trace" >"$T/cut.txt" 2>"$T/cut.err"; then
			bad=$((bad + 1)); echo "cut at $n: $(cat "$T/cut.err")" >>"$T/cut.log"; continue
		fi
		grep -q "cut short" "$T/cut.err" && warned=$((warned + 1))
		events_of "$T/cut.txt" >"$T/cut.ev"
		if ! cmp -s "$T/cut.ev" <(head -n "$(wc -l <"$T/cut.ev")" "$T/full.ev"); then
			bad=$((bad + 1)); echo "cut at $n: not a prefix" >>"$T/cut.log"
		fi
	done
	if [ "$bad" = 0 ] && [ "$warned" -gt 0 ]; then pass cut_prefix "$cuts cuts of $size bytes: each decodes to a prefix of the whole ($warned said cut short)"
	else fail cut_prefix "$bad of $cuts cuts bad: $(head -c 300 "$T/cut.log" 2>/dev/null)"; fi
fi

# The JSON export: parses, a named track per thread, balanced regions, the task across threads.
if "$CPROF" trace -format=json "$T/run.trace" >"$T/run.json" 2>"$T/json.err"; then
	if out=$(python3 - "$T/run.json" <<'PY' 2>&1
import json, sys, collections
d = json.load(open(sys.argv[1]))
ev = d["traceEvents"]
names = {e["tid"]: e["args"]["name"] for e in ev if e["ph"] == "M" and e["name"] == "thread_name"}
by = {n: t for t, n in names.items()}
assert {"producer", "consumer", "trace_known_lin", "cprof-trace"} <= set(by), names
depth = collections.Counter()
for e in ev:
    if e["ph"] == "B": depth[e["tid"]] += 1
    if e["ph"] == "E": depth[e["tid"]] -= 1
assert all(v == 0 for v in depth.values()), depth
b = [e for e in ev if e["ph"] == "b"]
e_ = [e for e in ev if e["ph"] == "e"]
assert len(b) == 1 and len(e_) == 1 and b[0]["id"] == e_[0]["id"] and b[0]["name"] == "transfer", (b, e_)
assert b[0]["tid"] == by["trace_known_lin"] and e_[0]["tid"] == by["consumer"]
regions = collections.Counter(e["name"] for e in ev if e["ph"] == "B")
assert regions == {"produce": 5, "outer": 1, "inner": 1, "sleep": 1}, regions
assert any(e["ph"] == "C" and e["name"] == "process.rss_bytes" for e in ev)
logs = [e["args"]["message"] for e in ev if e["ph"] == "i" and e.get("cat") == "log"]
assert len(logs) == 11, logs
print("%d events, tracks %s" % (len(ev), sorted(by)))
PY
	); then pass json_tracks "$out"; else fail json_tracks "$(tail -n 3 <<<"$out")"; fi
else
	fail json_tracks "$(head -c 300 "$T/json.err")"
fi

# Many events over many buffers: every region of 4 threads x 200,000 accounted for.
n=200000
if "$CPROF" run -q -trace="$T/many.trace" -- "$PROG" many $n 2>"$T/many.err" &&
	"$CPROF" trace -format=text "$T/many.trace" >"$T/many.txt" 2>"$T/many.terr"; then
	read -r got dropped < <(awk '$3 == "region-begin" || $3 == "region-end" { c++ } $1 == "#" { d = $(NF-1) } END { print c + 0, d + 0 }' "$T/many.txt")
	size=$(stat -c %s "$T/many.trace")
	info "trace_many: $got region events, $dropped dropped, $size bytes, $(awk -v s="$size" -v n="$got" 'BEGIN { printf "%.2f", s / n }') bytes/event"
	if [ "$got" -le $((8 * n)) ] && [ $((got + dropped)) -ge $((8 * n)) ]; then
		pass many_accounted "$got recorded + $dropped dropped >= $((8 * n)) begun and ended"
	else
		fail many_accounted "$got recorded, $dropped dropped, want $((8 * n)) in all"
	fi
else
	fail many_accounted "$(head -c 300 "$T/many.err" "$T/many.terr")"
fi

# exec: the new image's trace is FILE (the known structure again), the old one's FILE.preexec.<pid>.
if "$CPROF" run -q -trace="$T/exec.trace" -- "$PROGS/exec_work" 1 "$PROG" 2>"$T/exec.err" &&
	"$CPROF" trace -format=text "$T/exec.trace" >"$T/exec.txt" 2>>"$T/exec.err"; then
	pre=$(ls "$T"/exec.trace.preexec.* 2>/dev/null | head -n 1)
	if [ -n "$pre" ] && "$CPROF" trace -format=text "$pre" >"$T/pre.txt" 2>>"$T/exec.err" &&
		[ "$(per_thread "$T/exec.txt" producer | grep -c produce)" = 5 ] && ! grep -q produce "$T/pre.txt"; then
		pass exec_split "the exec'd program's events in the trace, the image before in $(basename "$pre")"
	else
		fail exec_split "preexec '${pre}': $(head -c 300 "$T/exec.err")"
	fi
else
	fail exec_split "$(head -c 300 "$T/exec.err")"
fi

# fork: the child does not trace (its parent's file is not touched by it); the parent's trace is whole.
if "$CPROF" run -q -trace="$T/fork.trace" -- "$PROGS/fork_work" 50 >"$T/fork.out" 2>"$T/fork.err" &&
	"$CPROF" trace -format=text "$T/fork.trace" >"$T/fork.txt" 2>>"$T/fork.err" &&
	grep -q "^# pid .* 0 dropped$" "$T/fork.txt"; then
	pass fork_parent "$(tail -n 1 "$T/fork.txt")"
else
	fail fork_parent "$(head -c 300 "$T/fork.err")"
fi

# A file cut inside its header says so.
head -c 20 "$T/run.trace" >"$T/hdr.trace"
if ! "$CPROF" trace -format=text "$T/hdr.trace" >/dev/null 2>"$T/hdr.err" && grep -q "header record is missing or cut" "$T/hdr.err"; then
	pass cut_header "$(cat "$T/hdr.err")"
else
	fail cut_header "$(cat "$T/hdr.err")"
fi

# Bad input.
printf 'not a trace at all' >"$T/bad.trace"
if ! "$CPROF" trace -format=text "$T/bad.trace" >/dev/null 2>"$T/bad.err" && grep -q "^cprof: trace: .*not a cprof execution trace" "$T/bad.err"; then
	pass bad_input "$(cat "$T/bad.err")"
else
	fail bad_input "$(cat "$T/bad.err")"
fi
# (with no -format, cprof trace serves the viewer: tests/e2e/trace_viewer.sh)
if ! "$CPROF" trace -format=xml "$T/run.trace" >/dev/null 2>"$T/nofmt.err" && grep -q "^cprof: trace: -format=xml" "$T/nofmt.err"; then
	pass bad_format "$(cat "$T/nofmt.err")"
else
	fail bad_format "$(cat "$T/nofmt.err")"
fi
