#!/usr/bin/env bash
# trace_export.sh - cprof trace's exports of traces whose structure is known.
#
# tests/progs/trace_known_linked (threads, a task across two threads, nested
# regions, logs, counters): the Chrome JSON parses and has a named track
# per thread, balanced regions by name, the task begun on main and ended on
# the consumer, 11 logs, the counters; the Perfetto protobuf decodes with
# protoc against proto/perfetto_trace.proto and shows the same tracks,
# slices, instants and counter tracks.
#
# tests/progs/trace_waits_linked, recorded (a wait of at least 100 ms on a
# mutex released by "holder" inside region "contend", a blocking read of
# at least 50 ms, joins), and version 2 and 3 files with blocking episodes
# and a CPU sample (the decoder's fuzz corpus; version 3's sample weighs
# 3): the -pprof profiles (sync, syscall, sched) are read silently by go
# tool pprof and their totals equal the decoded episodes' sums exactly;
# the mutex wait is charged to lock_slowly (cprof pprof -top) and
# -region=contend keeps only it; the JSON and the Perfetto trace have one
# blocked span per episode, their lengths adding up, one flow per known
# release (the JSON's mutex span names the holder); the JSON's CPU
# samples carry their weights, as many as the text's and of the same sum,
# and the Perfetto trace has one PerfSample per sampling period (the sum
# of the weights).
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

CHECK=$CPROF_TOP/tests/e2e/trace_export_check.py
SCHEMA=$CPROF_TOP/proto/perfetto_trace.proto

if ! command -v protoc >/dev/null; then
	fail protoc "protoc is missing (scripts/deps.sh test installs protobuf-compiler)"
fi

# pyget JSON EXPR: EXPR evaluated on the summary d.
pyget() {
	python3 -c 'import json, sys; d = json.loads(sys.argv[1]); v = eval(sys.argv[2]); print(" ".join(map(str, v)) if isinstance(v, tuple) else v)' "$1" "$2"
}

"$CPROF" run -q -trace="$T/k.trace" -- "$PROGS/trace_known_linked" 2>"$T/k.err" ||
	fail known_run "$(head -c 300 "$T/k.err")"

# --- JSON, known structure.
if "$CPROF" trace -format=json "$T/k.trace" >"$T/k.json" 2>"$T/kj.err" &&
	js=$(python3 "$CHECK" json "$T/k.json" 2>&1); then
	got=$(pyget "$js" 'd["threads"], d["unbalanced"], sorted(d["regions"].items()), d["logs"], d["process"] != []')
	want="['consumer', 'cprof-trace', 'producer', 'trace_known_lin'] 0 [('inner', 1), ('outer', 1), ('produce', 5), ('sleep', 1)] 11 True"
	[ "$got" = "$(tr -d '\n' <<<"$want")" ] && pass json_tracks "$got" || fail json_tracks "got $got"
	got=$(pyget "$js" '[[b[0], b[2] == d["tid_of"]["trace_known_lin"]] for b in d["task_begins"]], [[e[0], e[2] == d["tid_of"]["consumer"]] for e in d["task_ends"]], d["task_begins"][0][1] == d["task_ends"][0][1]')
	[ "$got" = "[['transfer', True]] [['transfer', True]] True" ] && pass json_task "begun on main, ended on the consumer, one id, named at both ends" ||
		fail json_task "got $got"
	got=$(pyget "$js" 'min(d["counters"].get("process.rss_bytes", 0), d["counters"].get("process.cpu_ns", 0)) >= 1')
	[ "$got" = True ] && pass json_counters "$(pyget "$js" 'd["counters"]')" || fail json_counters "$(pyget "$js" 'd["counters"]')"
else
	fail json_tracks "$(head -c 300 "$T/kj.err") $js"
fi

# --- Perfetto, known structure.
if "$CPROF" trace -format=perfetto -o "$T/k.pftrace" "$T/k.trace" 2>"$T/kp.err" &&
	protoc --decode=perfetto.protos.Trace -I"$(dirname "$SCHEMA")" "$SCHEMA" <"$T/k.pftrace" >"$T/k.pftxt" 2>"$T/kd.err" &&
	ps=$(python3 "$CHECK" perfetto "$T/k.pftxt" 2>&1); then
	pass perfetto_decodes "protoc --decode: $(grep -c '^packet {' "$T/k.pftxt") packets from $(stat -c %s "$T/k.pftrace") bytes"
	got=$(pyget "$ps" 'd["sequences"], d["first_flags"], d["other_flags"], d["threads"], sorted(d["regions"].items()), d["unmatched_end"], d["open_at_end"]')
	want="5 [1] [2] ['consumer', 'cprof-trace', 'producer', 'trace_known_lin'] [('inner', 1), ('outer', 1), ('produce', 5), ('sleep', 1)] 0 0"
	[ "$got" = "$want" ] && pass perfetto_tracks "$got" || fail perfetto_tracks "got $got"
	got=$(pyget "$ps" 'd["task_tracks"], d["task_begins"], d["task_ends"], d["log_categories"], sorted(d["counter_tracks"])')
	want="['transfer'] {'transfer': 1} {'transfer': 1} {'phase': 1, 'queue': 10} ['process.cpu_ns', 'process.rss_bytes']"
	[ "$got" = "$want" ] && pass perfetto_slices "$got" || fail perfetto_slices "got $got"
	got=$(pyget "$ps" 'd["counters"]')
	want=$(pyget "$js" 'd["counters"]' 2>/dev/null)
	[ "$got" = "$want" ] && pass perfetto_counters "as many counter values as the JSON: $got" || fail perfetto_counters "$got vs JSON $want"
else
	fail perfetto_decodes "$(head -c 300 "$T/kp.err" "$T/kd.err") $ps"
fi

# episodes TEXT: one line per decoded blocking episode:
# tid reason dur_ns peer latency_ns(-1: unknown) leaf;caller;... drawn_ns
# where drawn_ns is the span the exports draw: from the wait's begin, but not
# before the thread's previous event (the wait is timed on another clock).
episodes() {
	awk '$1 == "#" { next }
	{
		t = sprintf("%.0f", $1 * 1e6) + 0
		floor = ($2 in prev) ? prev[$2] : 0
		if ($3 == "block") {
			r = ""; d = 0; p = 0; w = ""; at = "-"
			for (i = 4; i <= NF; i++) {
				split($i, kv, "=")
				if (kv[1] == "reason") r = kv[2]; else if (kv[1] == "dur_ns") d = kv[2]
				else if (kv[1] == "peer") p = kv[2]; else if (kv[1] == "wake_ms") w = kv[2]; else if (kv[1] == "at") at = kv[2]
			}
			lat = w == "" ? -1 : sprintf("%.0f", ($1 - w) * 1e6)
			if (lat + 0 < -1) lat = 0
			drawn = t - d < floor ? (t > floor ? t - floor : 0) : d
			print $2, r, d, p, lat, at, drawn
		}
		if (!($2 in prev) || t > prev[$2]) prev[$2] = t
	}' "$1"
}

# weights TEXT PATTERN: the sum of the weights of the CPU samples in TEXT (cprof trace -format=text) whose line has PATTERN.
weights() {
	awk -v pat="$2" '$3 == "cpu-sample" && index($0, pat) {
		for (i = 4; i <= NF; i++)
			if ($i ~ /^weight=/) s += substr($i, 8)
	} END { print s + 0 }' "$1"
}

# check_exports NAME TRACE: every export of TRACE against its decoded episodes (NAME.eps):
# -pprof totals equal their sums exactly and go tool pprof reads them silently;
# the JSON and the Perfetto trace have one blocked span per episode (their
# lengths adding up to the episodes' drawn spans) and one flow per known release.
check_exports() {
	local name=$1 trace=$2 kind got want eps=$T/$1.eps
	for kind in sync syscall sched; do
		if ! "$CPROF" trace -pprof=$kind "$trace" >"$T/$name.$kind.prof" 2>"$T/$name.$kind.err"; then
			fail "${name}_pprof_$kind" "$(head -c 300 "$T/$name.$kind.err")"
			continue
		fi
		check_valid "${name}_pprof_$kind" "$T/$name.$kind.prof"
		got=$(raw_totals "$T/$name.$kind.prof")
		want=$(awk -v k="$kind" '
			k == "sync" && $2 != "syscall" { c++; s += $3 }
			k == "syscall" && $2 == "syscall" { c++; s += $3 }
			k == "sched" && $5 >= 0 { c++; s += $5 }
			END { printf "%d %d\n", c, s }' "$eps")
		if [ "$got" = "$want" ] && [ "${want%% *}" -gt 0 ]; then
			pass "${name}_pprof_${kind}_totals" "$got (episodes, ns) = the decoded episodes' sums"
		else
			fail "${name}_pprof_${kind}_totals" "profile $got, decoded episodes $want"
		fi
	done
	local n_eps flows ns js ps
	n_eps=$(wc -l <"$eps")
	flows=$(awk '$4 > 0 && $5 >= 0 { n++ } END { print n + 0 }' "$eps")
	ns=$(awk '{ s += $7 } END { printf "%d", s }' "$eps")
	if "$CPROF" trace -format=json "$trace" >"$T/$name.json" 2>"$T/$name.j.err" && js=$(python3 "$CHECK" json "$T/$name.json" 2>&1); then
		got=$(pyget "$js" 'sum(d["blocked"].values()), round(d["blocked_us"] * 1000), d["flows"]')
		want="$n_eps $ns [$flows, $flows, $flows]"
		if [ "$got" = "$want" ] && [ "$n_eps" -gt 0 ]; then
			pass "${name}_json_blocked" "$got: blocked spans, their ns, flows out/in/paired"
		else
			fail "${name}_json_blocked" "got $got, want $want"
		fi
		got=$(pyget "$js" 'd["cpu_samples"], d["cpu_weight"]')
		want="$(grep -c ' cpu-sample ' "$T/$name.txt") $(weights "$T/$name.txt" '')"
		[ "$got" = "$want" ] && pass "${name}_json_cpu" "$got: CPU samples and the sum of their weights, as in the text" ||
			fail "${name}_json_cpu" "JSON $got, text $want (samples, weights)"
	else
		fail "${name}_json_blocked" "$(head -c 300 "$T/$name.j.err") $js"
	fi
	if "$CPROF" trace -format=perfetto "$trace" >"$T/$name.pftrace" 2>"$T/$name.p.err" &&
		protoc --decode=perfetto.protos.Trace -I"$(dirname "$SCHEMA")" "$SCHEMA" <"$T/$name.pftrace" >"$T/$name.pftxt" 2>>"$T/$name.p.err" &&
		ps=$(python3 "$CHECK" perfetto "$T/$name.pftxt" 2>&1); then
		got=$(pyget "$ps" 'sum(d["blocked"].values()), d["blocked_ns"], d["flows"], d["unmatched_end"]')
		want="$n_eps $ns [$flows, $flows, $flows] 0"
		if [ "$got" = "$want" ] && [ "$n_eps" -gt 0 ]; then
			pass "${name}_perfetto_blocked" "$got: blocked slices, their ns, flows out/in/paired, unmatched ends"
		else
			fail "${name}_perfetto_blocked" "got $got, want $want"
		fi
		local periods
		# Perfetto counts samples: one PerfSample per sampling period of each sample with a stack.
		periods=$(weights "$T/$name.txt" ' at=')
		got=$(pyget "$ps" 'd["perf_samples"]')
		[ "$got" = "$periods" ] && pass "${name}_perfetto_cpu" "$got PerfSample packets, one per sampling period of the CPU samples" ||
			fail "${name}_perfetto_cpu" "$got PerfSample packets for CPU samples of $periods sampling periods"
	else
		fail "${name}_perfetto_blocked" "$(head -c 300 "$T/$name.p.err") $ps"
	fi
}

# --- Version 2 and 3 files built byte by byte (the decoder's fuzz corpus): a
# mutex wait released by another thread, a syscall wait, a CPU sample (weight
# 1 in version 2, 3 in version 3), a task ended before its begin in the file.
for v in 2 3; do
	SYN=$CPROF_TOP/fuzz/corpus/trace/v$v-synthetic.trace
	syn=syn$v
	if "$CPROF" trace -format=text "$SYN" >"$T/$syn.txt" 2>"$T/$syn.err"; then
		episodes "$T/$syn.txt" >"$T/$syn.eps"
		check_exports $syn "$SYN"
		# Its task's end (thread 8) comes before its begin (thread 7) in the file: both ends named.
		js=$(python3 "$CHECK" json "$T/$syn.json" 2>&1)
		ps=$(python3 "$CHECK" perfetto "$T/$syn.pftxt" 2>&1)
		got="$(pyget "$js" 'd["task_begins"], d["task_ends"]') / $(pyget "$ps" 'd["task_tracks"], d["task_begins"], d["task_ends"]')"
		want="[['request', '77', 7]] [['request', '77', 8]] / ['request'] {'request': 1} {'request': 1}"
		[ "$got" = "$want" ] && pass ${syn}_task_end_first "$got" || fail ${syn}_task_end_first "got $got, want $want"
		got=$(weights "$T/$syn.txt" '')
		[ "$got" = $((v == 2 ? 1 : 3)) ] && pass ${syn}_weight "its one CPU sample weighs $got" ||
			fail ${syn}_weight "its one CPU sample weighs $got, want $((v == 2 ? 1 : 3))"
	else
		fail ${syn}_decodes "$(head -c 300 "$T/$syn.err")"
	fi
done

# --- Known waits, recorded.
W=$PROGS/trace_waits_linked
if ! "$CPROF" run -q -blocksyscalls -trace="$T/w.trace" -- "$W" 2>"$T/w.err" ||
	! "$CPROF" trace -format=text "$T/w.trace" >"$T/w.txt" 2>>"$T/w.err"; then
	fail waits_run "$(head -c 300 "$T/w.err")"
	exit 0
fi
tid_of() { awk -v n="$1" '$3 == "thread-name" && $4 == "name=" n { print $2 }' "$T/w.txt" | tail -n 1; }
holder=$(tid_of holder)
waiter=$(tid_of waiter)
episodes "$T/w.txt" >"$T/w.eps"
mutex_line=$(awk -v w="$waiter" '$1 == w && $2 == "mutex" && $6 ~ /lock_slowly/' "$T/w.eps")
read -r _ _ mdur mpeer _ _ <<<"$mutex_line"
if [ -n "$mutex_line" ] && [ "$mpeer" = "$holder" ]; then
	in_range mutex_episode "$((mdur / 1000000))" 100 2000 "waiter's mutex wait in lock_slowly (ms), released by holder $holder"
else
	fail mutex_episode "no mutex episode of waiter $waiter in lock_slowly released by holder $holder: $(head -c 400 "$T/w.eps")"
fi
sread=$(awk -v w="$waiter" '$1 == w && $2 == "syscall" && $6 ~ /read_slowly/ { print int($3 / 1000000) }' "$T/w.eps" | head -n 1)
in_range syscall_episode "${sread:-0}" 50 2000 "waiter's blocking read in read_slowly (ms)"
check_exports w "$T/w.trace"

# The sync profile's shape: go tool trace's sample and period types; the wait under lock_slowly.
if go tool pprof -raw "$T/w.sync.prof" 2>/dev/null | grep -q "^PeriodType: trace count" &&
	go tool pprof -raw "$T/w.sync.prof" 2>/dev/null | grep -A1 '^Samples:' | grep -q "contentions/count delay/nanoseconds"; then
	pass pprof_shape "PeriodType trace count; samples contentions/count delay/nanoseconds"
else
	fail pprof_shape "$(go tool pprof -raw "$T/w.sync.prof" 2>&1 | head -n 6 | tr '\n' '|')"
fi
if "$CPROF" pprof -top -sample_index=delay -unit=ms "$T/w.sync.prof" >"$T/sync.top" 2>"$T/synctop.err" &&
	ms=$(awk '$NF == "lock_slowly" { sub(/ms$/, "", $4); print int($4) }' "$T/sync.top") && [ -n "$ms" ]; then
	in_range pprof_sync_lock_slowly "$ms" 100 2000 "cprof pprof -top: lock_slowly's cumulative delay in ms"
else
	fail pprof_sync_lock_slowly "$(head -c 600 "$T/sync.top" "$T/synctop.err")"
fi
# -region: only the episode inside "contend".
if "$CPROF" trace -pprof=sync -region=contend "$T/w.trace" >"$T/region.prof" 2>"$T/region.err"; then
	got=$(raw_totals "$T/region.prof")
	[ "$got" = "1 ${mdur:-0}" ] && pass pprof_region "$got: the one wait inside region contend" || fail pprof_region "got $got, want 1 $mdur"
else
	fail pprof_region "$(head -c 300 "$T/region.err")"
fi
if "$CPROF" trace -format=json "$T/w.trace" >"$T/w2.json" && js=$(python3 "$CHECK" json "$T/w2.json" 2>&1); then
	got=$(pyget "$js" '[r[1] for r in d["released_by"] if r[0] == '"${waiter:-0}"' and r[2] == "pthread_mutex_lock"]')
	[ "$got" = "[${holder:-none}]" ] && pass json_released_by "the waiter's mutex span says holder $holder released it" || fail json_released_by "got $got"
fi

# Bad flags.
if ! "$CPROF" trace -pprof=net "$SYN" >/dev/null 2>"$T/bad.err" && grep -q "^cprof: trace: -pprof=net: want sync" "$T/bad.err" &&
	! "$CPROF" trace -format=json -pprof=sync "$SYN" >/dev/null 2>>"$T/bad.err" &&
	! "$CPROF" trace -format=xml "$SYN" >/dev/null 2>>"$T/bad.err" &&
	! "$CPROF" trace -format=json -region=x "$SYN" >/dev/null 2>>"$T/bad.err"; then
	pass bad_flags "$(tr '\n' '|' <"$T/bad.err" | head -c 300)"
else
	fail bad_flags "$(cat "$T/bad.err")"
fi
