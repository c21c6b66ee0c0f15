#!/usr/bin/env bash
# bench_harness.sh - the Go-style benchmark harness (libcprof-bench).
#
# Output: the same benchmarks written in Go and in C, run with the same
# flags, must print the same lines (names, padding, iteration counts, units,
# label lines), and every value must be formatted by go test's rule (checked
# on Go's own output too). The ramp: CPROF_BENCH_DEBUG=1 prints every call's
# n and measured time, and each next n must be Go's predictN of the previous
# one. No check depends on how fast this machine is: times are compared with
# bounds orders of magnitude apart.
. "$(dirname "$0")/lib.sh"

BB=$CPROF_BUILD/tests/bench/bench_basic
[ -x "$BB" ] || { fail bench_build "$BB is missing (make test builds it)"; exit 1; }

# ---- 1. the text format, line by line against go test ----
mkdir -p "$T/gomod"
cat >"$T/gomod/go.mod" <<'EOF'
module example.com/tiny

go 1.19
EOF
cat >"$T/gomod/tiny_test.go" <<'EOF'
package tiny

import "testing"

var sink int

func BenchmarkAdd(b *testing.B) {
	for i := 0; i < b.N; i++ {
		sink += i
	}
}

func sub(b *testing.B) {
	b.SetBytes(64)
	for i := 0; i < b.N; i++ {
		sink += i
	}
	b.ReportMetric(3.5, "widgets/op")
}

func BenchmarkSub(b *testing.B) {
	b.Run("a b", sub)
	b.Run("long-name-here", sub)
}

func BenchmarkDup(b *testing.B) {
	b.Run("x", sub)
	b.Run("x", sub)
	b.Run("x#01", sub)
}
EOF
flags=(-benchtime 1000x -count 2 -cpu 1,2 -benchmem)
(cd "$T/gomod" && GOCACHE=$T/gocache GOFLAGS=-mod=mod GOPATH=$T/gopath go test -bench 'Add|Sub|Dup' "${flags[@]}" >"$T/go.txt" 2>"$T/go.err")
"$BB" -bench 'Add|Sub|Dup' "${flags[@]}" >"$T/c.txt" 2>"$T/c.err"
rc=$?

# shape FILE: one line per output line: its kind and the fields that do not
# depend on timing (the name with its padding, N, units), with values
# replaced by "V" once checked against prettyPrint's rule (or "BAD").
shape() {
	awk -F'\t' '
	function pretty(x,    y, w, p) {
		y = x < 0 ? -x : x
		if (y == 0 || y >= 999.95) { w = 10; p = 0 }
		else if (y >= 99.995) { w = 12; p = 1 }
		else if (y >= 9.9995) { w = 13; p = 2 }
		else if (y >= 0.99995) { w = 14; p = 3 }
		else if (y >= 0.099995) { w = 15; p = 4 }
		else if (y >= 0.0099995) { w = 16; p = 5 }
		else if (y >= 0.00099995) { w = 17; p = 6 }
		else { w = 18; p = 7 }
		return sprintf("%*.*f", w, p, x)
	}
	/^pkg: / { print "pkg"; next }
	/^ok  \t/ { print "ok"; next }
	/^Benchmark/ {
		out = "R[" $1 "][" $2 "]"
		for (i = 3; i <= NF; i++) {
			n = split($i, a, " "); unit = a[n]
			num = substr($i, 1, length($i) - length(unit) - 1)
			if (unit == "MB/s") ok = (sprintf("%7.2f", num + 0) == num)
			else if (unit == "B/op" || unit == "allocs/op") ok = (sprintf("%8d", num + 0) == num)
			else ok = (pretty(num + 0) == num)
			out = out "[" (ok ? "V" : "BAD:" $i) " " unit "]"
		}
		print out; next
	}
	{ print }' "$1"
}
if [ "$rc" -ne 0 ]; then
	fail bench_format_vs_go "bench_basic exited $rc: $(head -c 300 "$T/c.err")"
elif [ ! -s "$T/go.txt" ]; then
	fail bench_format_vs_go "go test printed nothing: $(head -c 300 "$T/go.err")"
else
	shape "$T/go.txt" >"$T/go.shape"
	shape "$T/c.txt" >"$T/c.shape"
	if grep -q BAD "$T/go.shape"; then
		fail bench_format_vs_go "the checker's number rule rejects go test's own output: $(grep -m1 BAD "$T/go.shape")"
	elif cmp -s "$T/go.shape" "$T/c.shape"; then
		pass bench_format_vs_go "$(wc -l <"$T/c.txt") lines: names, padding, N, units and number formats as go test prints them"
	else
		fail bench_format_vs_go "differs from go test: $(diff "$T/go.shape" "$T/c.shape" | head -6 | tr '\n' '|')"
	fi
fi
# the bytes of the label and end lines
if [ "$(grep -E '^(goos|goarch|cpu):' "$T/go.txt")" = "$(grep -E '^(goos|goarch|cpu):' "$T/c.txt")" ] &&
	grep -qP '^ok  \tbench_basic\t[0-9]+\.[0-9]{3}s$' "$T/c.txt" && [ "$(tail -n 2 "$T/c.txt" | head -n 1)" = PASS ]; then
	pass bench_labels "goos/goarch/cpu lines equal go test's; PASS and 'ok  <tab>pkg<tab>N.NNNs' end the output"
else
	fail bench_labels "$(grep -E '^(goos|goarch|cpu|ok|PASS)' "$T/c.txt" | tr '\n' '|')"
fi

# cprof benchstat reads both outputs alike: the same rows and units.
"$CPROF" benchstat "$T/go.txt" >"$T/bs.go" 2>"$T/bs.go.err"
grc=$?
"$CPROF" benchstat "$T/c.txt" >"$T/bs.c" 2>"$T/bs.c.err"
crc=$?
rows() { awk '/^[A-Za-z].*±/ { print $1 } /│/ && !/old|new|txt/ { for (i = 1; i <= NF; i++) if ($i != "│") printf "%s ", $i; print "" }' "$1"; }
if [ "$grc" = 0 ] && [ "$crc" = 0 ] && [ ! -s "$T/bs.c.err" ] && [ -n "$(rows "$T/bs.c")" ] && [ "$(rows "$T/bs.go")" = "$(rows "$T/bs.c")" ]; then
	pass bench_benchstat_reads "cprof benchstat reads our output as go test's: rows and units $(rows "$T/bs.c" | tr '\n' ' ' | tr -s ' ' | head -c 160)"
else
	fail bench_benchstat_reads "exit $grc/$crc, stderr '$(head -c 200 "$T/bs.c.err")', rows go '$(rows "$T/bs.go" | tr '\n' ' ')' c '$(rows "$T/bs.c" | tr '\n' ' ')'"
fi

# ---- 2. the ramp: Go's predictN on the measured times ----
# check_ramp FILE GOAL_NS NAME: every "run" line's n follows from the one before.
check_ramp() {
	awk -v goal="$2" -v want="$3" '
	function predict(prev_n, prev_ns, last,    n) {
		if (prev_ns <= 0) prev_ns = 1
		n = int(goal * prev_n / prev_ns); n += int(n / 5)
		if (n > 100 * last) n = 100 * last
		if (n < last + 1) n = last + 1
		if (n > 1e9) n = 1e9
		return n
	}
	$2 == want && $3 == "run" {
		split($4, a, "="); split($5, b, "=")
		k++; N[k] = a[2] + 0; NS[k] = b[2] + 0
	}
	END {
		if (k < 2) { print "FAIL only " k " runs"; exit }
		if (N[1] != 1) { print "FAIL first n is " N[1]; exit }
		seq = N[1]
		for (i = 2; i <= k; i++) {
			seq = seq " " N[i]
			if (NS[i - 1] >= goal) { print "FAIL went on after a run of " NS[i - 1] " ns"; exit }
			if (N[i] != predict(N[i - 1], NS[i - 1], N[i - 1])) { print "FAIL n=" N[i] " after n=" N[i-1] " in " NS[i-1] " ns, want " predict(N[i - 1], NS[i - 1], N[i - 1]); exit }
		}
		if (NS[k] < goal) { print "FAIL stopped after a run of " NS[k] " ns"; exit }
		print "OK " seq
	}' "$1"
}
CPROF_BENCH_DEBUG=1 "$BB" -bench 'Spin100us|Log' -benchtime 100ms >"$T/ramp.out" 2>"$T/ramp.err"
r=$(check_ramp "$T/ramp.err" 100000000 BenchmarkSpin100us)
case $r in
"OK 1 "*)
	# an op costs at least 100 us, so predictN never asks for more than 1.2 x 100 ms / 100 us
	mx=$(echo "$r" | awk '{ m = 0; for (i = 2; i <= NF; i++) if ($i + 0 > m) m = $i + 0; print m }')
	in_range bench_ramp_100us "$mx" 2 1200 "largest n <= 1200 for a >= 100 us op at -benchtime=100ms; every n is Go's predictN of the run before: $r"
	;;
*) fail bench_ramp_100us "$r" ;;
esac
r=$(check_ramp "$T/ramp.err" 100000000 BenchmarkLog)
case $r in
"OK 1 "*) pass bench_ramp_fast "a ~1 ns op: every n is predictN of the run before (x100 at most): $r" ;;
*) fail bench_ramp_fast "$r" ;;
esac
# the printed N is the last run's
last_n=$(awk '$2 == "BenchmarkSpin100us" && $3 == "run" { split($4, a, "="); n = a[2] } END { print n }' "$T/ramp.err")
printed=$(awk '$1 ~ /^BenchmarkSpin100us(-[0-9]+)?$/ { print $2 }' "$T/ramp.out")
if [ -n "$printed" ] && [ "$printed" = "$last_n" ]; then
	pass bench_reported_n "the result line's N ($printed) is the last run's n"
else
	fail bench_reported_n "printed N '$printed', last run n '$last_n'"
fi
# -benchtime=Nx: run1 with n=1, then exactly N; 1x reuses run1
CPROF_BENCH_DEBUG=1 "$BB" -bench 'Spin100us' -benchtime 37x >"$T/x.out" 2>"$T/x.err"
CPROF_BENCH_DEBUG=1 "$BB" -bench 'Spin100us' -benchtime 1x >"$T/x1.out" 2>"$T/x1.err"
s37=$(awk '$3 == "run" { split($4, a, "="); s = s a[2] " " } END { print s }' "$T/x.err")
s1=$(awk '$3 == "run" { split($4, a, "="); s = s a[2] " " } END { print s }' "$T/x1.err")
if [ "$s37" = "1 37 " ] && [ "$s1" = "1 " ] && grep -qP '^BenchmarkSpin100us(-\d+)? +\t +37\t' "$T/x.out"; then
	pass bench_benchtime_x "-benchtime=37x runs n=1 then n=37; 1x runs once"
else
	fail bench_benchtime_x "37x: '$s37', 1x: '$s1'"
fi

# ---- 3. the loop form: own ramp, one call, setup not timed ----
CPROF_BENCH_DEBUG=1 "$BB" -bench 'Loop' -benchtime 100ms >"$T/loop.out" 2>"$T/loop.err"
lr=$(awk '
	function predict(goal, prev_n, prev_ns,    n) {
		if (prev_ns <= 0) prev_ns = 1
		n = int(goal * prev_n / prev_ns); n += int(n / 5)
		if (n > 100 * prev_n) n = 100 * prev_n
		if (n < prev_n + 1) n = prev_n + 1
		if (n > 1e9) n = 1e9
		return n
	}
	$3 == "loop" { split($4, a, "="); split($5, b, "="); split($6, c, "=")
		if (c[2] != predict(1e8, a[2], b[2])) bad = bad " " a[2] "->" c[2]
		k++ }
	$3 == "run" { runs++; split($4, a, "="); total = a[2] }
	END { printf "%d %d %s %s\n", runs, k, total, bad == "" ? "ok" : "bad:" bad }' "$T/loop.err")
set -- $lr
iters=$(awk '$1 ~ /^BenchmarkLoop/ { for (i = 3; i <= NF; i++) if ($i == "iters") print $(i - 1) }' "$T/loop.out")
if [ "$1" = 1 ] && [ "$2" -ge 2 ] && [ "$4" = ok ] && [ "${iters%.*}" = "$3" ]; then
	pass bench_loop_ramp "one call, $2 scaling steps by predictN, b->n after the loop = $3 = the printed N"
else
	fail bench_loop_ramp "calls=$1 steps=$2 total=$3 check=$4 iters metric=$iters"
fi
"$BB" -bench 'Loop' -benchtime 50x >"$T/loop50.out" 2>&1
ns=$(awk '$1 ~ /^BenchmarkLoop/ { print $3 }' "$T/loop50.out")
n50=$(awk '$1 ~ /^BenchmarkLoop/ { print $2 }' "$T/loop50.out")
if [ "$n50" = 50 ]; then
	# 20 ms of setup before the loop over 50 iterations would be 400000 ns/op
	in_range bench_loop_setup_untimed "$ns" 500 100000 "~1000 ns/op: the 20 ms setup before the loop is not timed (it would add 400000)"
else
	fail bench_loop_setup_untimed "-benchtime=50x gave N=$n50: $(head -c 200 "$T/loop50.out")"
fi

# ---- 4. a stopped timer excludes what runs under it ----
"$BB" -bench 'Stopped' -benchtime 100x >"$T/stop.out" 2>&1
ns=$(awk '$1 ~ /^BenchmarkStopped/ { print $3 }' "$T/stop.out")
in_range bench_stopped_timer "$ns" 9000 500000 "~10000 ns/op: 10 us of timed work; the 2 ms sleep per iteration under a stopped timer is not counted"

# ---- 5. selection: sub-benchmark levels, partial patterns, -list ----
"$BB" -bench 'Sub/long' -benchtime 5x -cpu 1 >"$T/sel.out" 2>&1
"$BB" -bench 'Add/x' -benchtime 5x -cpu 1 >"$T/sel2.out" 2>&1
names=$(awk '/^Benchmark/ { printf "%s ", $1 }' "$T/sel.out")
names2=$(awk '/^Benchmark/ { printf "%s ", $1 }' "$T/sel2.out")
if [ "$names" = "BenchmarkSub/long-name-here " ] && [ -z "$names2" ]; then
	pass bench_select "-bench=Sub/long runs only Sub/long-name-here; -bench=Add/x runs nothing (Add has no sub-benchmark x)"
else
	fail bench_select "Sub/long: '$names'; Add/x: '$names2'"
fi
list=$("$BB" -list 'Sub|Loop' | tr '\n' ' ')
if [ "$list" = "BenchmarkSub BenchmarkLoop " ]; then
	pass bench_list "-list prints the matching benchmarks in registration order: $list"
else
	fail bench_list "got '$list'"
fi

# ---- 6. -cpu: the CPUs the benchmark may use, the -N suffix ----
ncpu=$(nproc)
"$BB" -bench 'Procs' -benchtime 3x -cpu "1,$ncpu" >"$T/cpu.out" 2>&1
got=$(awk '/^BenchmarkProcs/ { printf "%s:%s:%s ", $1, $5, $7 }' "$T/cpu.out")
if [ "$ncpu" -gt 1 ]; then want="BenchmarkProcs:1.000:1.000 BenchmarkProcs-$ncpu:$ncpu.000:$ncpu.000 "; else want="BenchmarkProcs:1.000:1.000 BenchmarkProcs:1.000:1.000 "; fi
if [ "$got" = "$want" ]; then
	pass bench_cpu_flag "-cpu=1,$ncpu: name suffix only when N != 1; the benchmark runs on N CPUs with b->procs = N"
else
	fail bench_cpu_flag "got '$got', want '$want'"
fi

# ---- 7. logs, failures, skips, exit status ----
"$BB" -bench 'Fail' -benchtime 10x >"$T/fail.out" 2>&1
frc=$?
"$BB" -bench 'Skip|Log' -benchtime 10x -v >"$T/skip.out" 2>&1
src=$?
if [ "$frc" = 1 ] && grep -qP '^BenchmarkFail(-\d+)? +\t--- FAIL: BenchmarkFail(-\d+)?$' "$T/fail.out" &&
	grep -qP '^    bench_basic\.c:\d+: failed at n=10$' "$T/fail.out" &&
	[ "$(tail -n 2 "$T/fail.out" | head -n 1)" = FAIL ] && grep -qP '^FAIL\tbench_basic\t' "$T/fail.out"; then
	pass bench_fail "fatalf: '--- FAIL: name' and the message as go test prints them, FAIL at the end, exit 1"
else
	fail bench_fail "exit $frc: $(tr '\n' '|' <"$T/fail.out" | head -c 300)"
fi
if [ "$src" = 0 ] && grep -qx -- '--- SKIP: BenchmarkSkip' "$T/skip.out" && grep -qP '^    bench_basic\.c:\d+: not today$' "$T/skip.out" &&
	grep -qP '^--- BENCH: BenchmarkLog(-\d+)?$' "$T/skip.out" && grep -qx BenchmarkLog "$T/skip.out"; then
	pass bench_skip_log "-v: names on their own line, '--- SKIP', '--- BENCH' with the log; exit 0"
else
	fail bench_skip_log "exit $src: $(tr '\n' '|' <"$T/skip.out" | head -c 400)"
fi

# ---- 8. -json ----
"$BB" -json -bench 'Add|Fail|Sub/a' -benchtime 10x -cpu 1 >"$T/j.out" 2>/dev/null
if python3 - "$T/j.out" <<'EOF'; then
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
types = [r["type"] for r in recs]
assert types[0] == "config" and types[-1] == "end", types
assert recs[-1]["pass"] is False
res = {r["name"]: r for r in recs if r["type"] == "result"}
assert res["BenchmarkAdd"]["n"] == 10 and res["BenchmarkAdd"]["procs"] == 1, res
s = res["BenchmarkSub/a_b"]
assert s["metrics"]["widgets/op"] == 3.5 and "mb_per_s" in s and s["ns_per_op"] > 0, s
assert any(r["type"] == "fail" and r["name"] == "BenchmarkFail" for r in recs), recs
EOF
	pass bench_json "-json: config, result (n, ns_per_op, mb_per_s, metrics), fail and end records parse as JSON"
else
	fail bench_json "$(head -c 300 "$T/j.out")"
fi

# ---- 9. bad flags ----
bad_ok=1 msgs=
for args in "-benchtime=abc" "-benchtime=0x" "-count=0" "-cpu=a,b" "-nosuchflag" "-bench=(" "stray"; do
	"$BB" $args >"$T/bad.out" 2>"$T/bad.err"
	brc=$?
	if [ "$brc" != 2 ] || ! grep -q '^cprof: ' "$T/bad.err" || [ -s "$T/bad.out" ]; then
		bad_ok=0
		msgs="$msgs [$args: exit $brc, $(head -c 100 "$T/bad.err")]"
	fi
done
if [ "$bad_ok" = 1 ]; then
	pass bench_bad_flags "7 bad command lines: 'cprof: ...' on stderr, exit 2, nothing run ($("$BB" -benchtime=abc 2>&1 | head -n 1))"
else
	fail bench_bad_flags "$msgs"
fi

# ---- 10. -timeout ----
"$BB" -bench 'Spin100us' -benchtime 20s -timeout 300ms >"$T/to.out" 2>"$T/to.err"
trc=$?
if [ "$trc" = 2 ] && grep -q 'timed out after 300ms (running BenchmarkSpin100us)' "$T/to.err"; then
	pass bench_timeout "-timeout=300ms stops a 20 s benchmark: $(head -n 1 "$T/to.err")"
else
	fail bench_timeout "exit $trc: $(head -c 200 "$T/to.err")"
fi

# ---- 11. -cpuprofile ----
"$BB" -bench 'Spin100us' -benchtime 300ms -cpuprofile "$T/cpu.pprof" >"$T/prof.out" 2>"$T/prof.err"
if check_valid bench_cpuprofile "$T/cpu.pprof"; then
	pct=$(cum_pct BenchmarkSpin100us "$T/cpu.pprof")
	in_range bench_cpuprofile_func "$pct" 80 100 "BenchmarkSpin100us's cum% in go tool pprof -top (it is nearly all the run)"
fi

# ---- 11b. -trace: an execution trace of the run, which cprof trace decodes ----
"$BB" -bench 'Spin100us' -benchtime 20x -trace "$T/bench.trace" >"$T/trace.out" 2>"$T/trace.err"
trc=$?
ttxt=$("$CPROF" trace -format=text "$T/bench.trace" 2>&1)
if [ $trc -eq 0 ] && grep -q 'counter name=process.cpu_ns' <<<"$ttxt" && grep -q '^# pid .* 0 dropped' <<<"$ttxt" &&
	grep -q '^BenchmarkSpin100us' "$T/trace.out"; then
	pass bench_trace "-trace wrote a trace that cprof trace decodes: $(tail -n 1 <<<"$ttxt")"
else
	fail bench_trace "exit $trc: $(head -c 200 "$T/trace.err") / $(tail -n 2 <<<"$ttxt" | tr '\n' ' ')"
fi
if "$BB" -trace= >/dev/null 2>"$T/trace_bad.err"; then
	fail bench_trace_empty "-trace= was accepted"
else
	pass bench_trace_empty "-trace= refused: $(head -n 1 "$T/trace_bad.err")"
fi

# ---- 12. allocations: exact B/op and allocs/op ----
BA=$CPROF_BUILD/tests/bench/bench_alloc
"$BA" -benchmem -benchtime 1000x -cpu 1 >"$T/mem.out" 2>"$T/mem.err"
"$BA" -benchmem -bench 'Alloc3' -benchtime 100ms -cpu 1 >"$T/mem2.out" 2>&1
"$BA" -bench 'Alloc[01]' -benchtime 100x -cpu 1 >"$T/mem3.out" 2>&1
memcols() { awk -v n="$2" '$1 == n { print $(NF - 3), $(NF - 2), $(NF - 1), $NF }' "$1"; }
got="$(memcols "$T/mem.out" BenchmarkAlloc0)|$(memcols "$T/mem.out" BenchmarkAlloc1)|$(memcols "$T/mem.out" BenchmarkAlloc3)|$(memcols "$T/mem2.out" BenchmarkAlloc3)"
want="0 B/op 0 allocs/op|100 B/op 1 allocs/op|330 B/op 3 allocs/op|330 B/op 3 allocs/op"
if [ "$got" = "$want" ] && grep -qP '^BenchmarkAlloc3 +\t +1000\t +[0-9.]+ ns/op\t +330 B/op\t +3 allocs/op$' "$T/mem.out"; then
	pass bench_allocs_exact "-benchmem: 0, 1 (malloc 100) and 3 (calloc 80, realloc to 200, malloc 50) allocations per op: $got (also after the default ramp)"
else
	fail bench_allocs_exact "got '$got', want '$want': $(head -c 200 "$T/mem.err")"
fi
st=$(memcols "$T/mem.out" BenchmarkAllocStopped)
if [ "$st" = "0 B/op 0 allocs/op" ] && ! grep -q 'B/op' "$T/mem3.out"; then
	pass bench_allocs_timer "allocations under a stopped timer are not counted (4 KiB per op: $st); without -benchmem or cprof_b_report_allocs no B/op column"
else
	fail bench_allocs_timer "stopped: '$st'; $(grep -m1 B/op "$T/mem3.out")"
fi

# ---- 13. -memprofile: the allocs profile, every allocation at -memprofilerate=1 ----
"$BA" -bench 'AllocBig' -benchtime 200x -memprofile "$T/mem.pprof" -memprofilerate 1 >"$T/mp.out" 2>"$T/mp.err"
if check_valid bench_memprofile "$T/mem.pprof"; then
	# alloc_space of the samples allocated in BenchmarkAllocBig itself: the
	# n=1 call and the n=200 call, 65544 bytes per iteration
	v=$(go tool pprof -raw "$T/mem.pprof" 2>/dev/null | awk '
		/^Samples:/ { s = 1; next }
		/^Locations/ { s = 0; l = 1; next }
		/^Mappings/ { l = 0 }
		s && $4 ~ /:$/ { n++; val[n] = $2; leaf[n] = $5 }
		l && $1 ~ /^[0-9]+:$/ { id = substr($1, 1, length($1) - 1); if ($4 == "BenchmarkAllocBig") mine[id] = 1 }
		END { for (i = 1; i <= n; i++) if (leaf[i] in mine) t += val[i]; print t + 0 }')
	if [ "$v" = $((201 * 65544)) ]; then
		pass bench_memprofile_exact "alloc_space allocated in BenchmarkAllocBig = $v bytes = 201 iterations x 65544, exactly"
	else
		fail bench_memprofile_exact "alloc_space in BenchmarkAllocBig = $v, want $((201 * 65544))"
	fi
fi

# ---- 14. no counting, no numbers: libcprof loaded after libc ----
lib=$CPROF_BUILD/lib
if cc -O2 -I"$CPROF_TOP/include" -o "$T/late" "$CPROF_TOP/tests/bench/bench_alloc.c" -L"$lib" -Wl,--as-needed -lcprof-bench \
	-Wl,-rpath,"$lib" 2>"$T/late.cc"; then
	"$T/late" -benchmem -bench Alloc1 -benchtime 10x >"$T/late.out" 2>"$T/late.err"
	lrc=$?
	"$T/late" -bench AllocStopped -benchtime 10x >"$T/late2.out" 2>&1
	lrc2=$?
	if [ "$lrc" = 2 ] && grep -q 'cprof: -benchmem: allocations are not counted' "$T/late.err" && ! grep -q B/op "$T/late.out" &&
		[ "$lrc2" = 1 ] && grep -q -- '--- FAIL: BenchmarkAllocStopped' "$T/late2.out"; then
		pass bench_allocs_uncounted "libcprof after libc: -benchmem is an error (exit 2), cprof_b_report_allocs fails the benchmark; no zeros printed"
	else
		fail bench_allocs_uncounted "exit $lrc/$lrc2: $(head -c 200 "$T/late.err") $(head -c 300 "$T/late2.out")"
	fi
else
	fail bench_allocs_uncounted "cc: $(head -c 300 "$T/late.cc")"
fi

# ---- 15. -blockprofile and -mutexprofile ----
BC=$CPROF_BUILD/tests/bench/bench_contend
"$BC" -benchtime 30x -blockprofile "$T/block.pprof" -mutexprofile "$T/mutex.pprof" >"$T/bc.out" 2>"$T/bc.err"
brc=$?
if [ "$brc" != 0 ]; then
	fail bench_block_mutex "exit $brc: $(head -c 300 "$T/bc.err")"
else
	if check_valid bench_blockprofile "$T/block.pprof" && check_valid bench_mutexprofile "$T/mutex.pprof"; then
		if has_func "$T/block.pprof" BenchmarkContend && has_func "$T/block.pprof" waiter &&
			{ has_func "$T/mutex.pprof" BenchmarkContend || has_func "$T/mutex.pprof" waiter; }; then
			pass bench_block_mutex "-blockprofile: the benchmark's pthread_join and the waiter's lock; -mutexprofile: the contended critical sections"
		else
			fail bench_block_mutex "block: $(go tool pprof -top "$T/block.pprof" 2>/dev/null | sed -n '7,9p' | tr '\n' ' ') mutex: $(go tool pprof -top "$T/mutex.pprof" 2>/dev/null | sed -n '7,9p' | tr '\n' ' ')"
		fi
	fi
fi
# cprof.mk's profile-block around the same binary
mkdir -p "$T/mk"
make -C "$T/mk" -f "$CPROF_TOP/scripts/cprof.mk" profile-block CPROF="$CPROF" CPROF_BENCH="$BC" CPROF_ARGS="-benchtime=20x" \
	>"$T/mk.out" 2>"$T/mk.err"
mrc=$?
if [ "$mrc" = 0 ] && [ -s "$T/mk/cprof-out/block.pprof" ] && [ -s "$T/mk/cprof-out/mutex.pprof" ] && grep -q 'Type: delay' "$T/mk.out"; then
	pass bench_mk_profile_block "cprof.mk profile-block: cprof-out/block.pprof and mutex.pprof, and a report of each"
else
	fail bench_mk_profile_block "exit $mrc: $(tail -n 3 "$T/mk.err" | tr '\n' ' ')"
fi

# ---- 16. a benchmark whose name Go would not accept ----
cat >"$T/badname.c" <<'C'
#include <cprof/bench.h>
static void Benchmarkparse(struct cprof_b *b) { for (long i = 0; i < b->n; i++) cprof_b_keep(i); }
CPROF_BENCH(Benchmarkparse);
C
if cc -O2 -I"$CPROF_TOP/include" -o "$T/badname" "$T/badname.c" -L"$CPROF_BUILD/lib" -lcprof-bench -Wl,-rpath,"$CPROF_BUILD/lib" 2>"$T/badname.cc"; then
	"$T/badname" >"$T/badname.out" 2>"$T/badname.err"
	brc=$?
	if [ "$brc" = 2 ] && grep -q '^cprof: benchmark Benchmarkparse: ' "$T/badname.err" && [ ! -s "$T/badname.out" ]; then
		pass bench_bad_name "Benchmarkparse (lowercase after Benchmark) is refused (go test would silently not run it; go vet calls it malformed): $(head -n 1 "$T/badname.err" | cut -c1-90)"
	else
		fail bench_bad_name "exit $brc: $(head -c 200 "$T/badname.err")"
	fi
else
	fail bench_bad_name "cc: $(head -c 300 "$T/badname.cc")"
fi
